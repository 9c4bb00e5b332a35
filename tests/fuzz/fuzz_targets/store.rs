//! A store's data file (`store/events.log`) as found at open, with no index beside it: the
//! index is rebuilt from it, damaged feeds are cut to their verified prefix.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(dir) = tempfile::tempdir() else {
        return;
    };
    if std::fs::write(dir.path().join("events.log"), data).is_err() {
        return;
    }
    let _ = maillage_store::SledStore::open_path(dir.path(), maillage_fuzz::charter());
});
