//! Files read through the shipped import mappings: the MedNum BFC export (real data,
//! `tests/data/venues/`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;

use maillage_venues::{ColumnUsage, ImportOptions, InputFormat, Mapping, parse, parse_mapped};

#[test]
fn the_mednum_bfc_layout_reads_the_same_by_name_by_format_and_detected() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/data/venues/mednum-bfc-2020-05-16.csv");
    let bytes = std::fs::read(path).unwrap();
    let options = ImportOptions::default();
    let mapping = Mapping::shipped("mednum-bfc").unwrap();
    let by_name = parse_mapped(&bytes, &mapping, &options).unwrap();
    let by_format = parse(&bytes, InputFormat::MednumBfcCsv, &options).unwrap();
    let detected = parse(&bytes, InputFormat::Auto, &options).unwrap();
    assert_eq!(by_name, by_format);
    assert_eq!(by_name, detected);
    assert_eq!(by_name.format, InputFormat::MednumBfcCsv);
    let s = by_name.summary();
    assert_eq!((s.accepted, s.rejected, s.warnings), (0, 606, 370), "{s}");
    let ignored = by_name
        .columns
        .iter()
        .filter(|c| matches!(c.usage, ColumnUsage::Ignored { .. }))
        .count();
    assert_eq!(ignored, 7);
}
