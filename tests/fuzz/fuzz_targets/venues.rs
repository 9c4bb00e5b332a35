//! A venue file given to `venues import` (CSV or JSON, any encoding, any columns).
#![no_main]

use libfuzzer_sys::fuzz_target;
use maillage_venues::{ImportOptions, InputFormat};

fuzz_target!(|data: &[u8]| {
    let _ = maillage_venues::parse(data, InputFormat::Auto, &ImportOptions::default());
});
