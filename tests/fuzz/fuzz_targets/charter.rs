//! A charter file (`charter.pb`, or one handed to `init --charter`).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(charter) = maillage_core::Charter::from_bytes(data.to_vec()) {
        // A charter that decodes has members and answers about each.
        for (id, _) in charter.members() {
            assert!(charter.member(id).is_some());
        }
    }
});
