//! An import mapping file given to `venues import --mapping` (TOML, any bytes), then used on a
//! small France services file when it is accepted.
#![no_main]

use libfuzzer_sys::fuzz_target;
use maillage_venues::{ImportOptions, Mapping};

const SAMPLE: &[u8] = "id_fs,insee_dep,lib_fs,adresse,insee_com,code_postal,lib_com,h_lundi,format_fs,labellisation_fs\n\
    1,21,France services X,1 rue Y,21231,21000,Dijon,09:00 - 12:00 / 14:00 - 17:00,Fixe,Espace labellisé 01/01/2020\n"
    .as_bytes();

fuzz_target!(|data: &[u8]| {
    if let Ok(mapping) = Mapping::from_bytes(data) {
        let _ = maillage_venues::parse_mapped(SAMPLE, &mapping, &ImportOptions::default());
    }
});
