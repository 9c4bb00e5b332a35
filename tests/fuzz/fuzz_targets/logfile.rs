//! The portable log file (`maillage log export` / `log verify FILE`, `init --from-log`).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = maillage_app::logfile::read(data);
});
