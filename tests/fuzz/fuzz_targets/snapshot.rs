//! The body of a views snapshot (`views.bin`, past its checksum: a snapshot whose checksum
//! holds may still have been written by a buggy or hostile process).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = maillage_core::Ledger::from_snapshot(maillage_fuzz::charter(), data);
});
