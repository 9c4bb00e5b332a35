//! Checks of an export's Parquet files and `datapackage.json` against its CSV files, read
//! with the `parquet` crate's own reader: same rows in the same order, typed columns, codes
//! kept as text, every file described with the CSV's columns.
#![allow(clippy::unwrap_used, dead_code)]

use std::collections::BTreeMap;
use std::path::Path;

use parquet::file::reader::{FileReader, SerializedFileReader};
use parquet::record::Field;

/// The tables written in Parquet beside their CSV, the events' monthly files aside.
pub const PARQUET: [&str; 5] = [
    "venues.parquet",
    "vouchers.parquet",
    "referrals.parquet",
    "stats.parquet",
    "indicators.parquet",
];

/// The events' monthly files, `events/month=YYYY-MM/part-0.parquet`, among written names.
pub fn month_files(names: impl IntoIterator<Item = String>) -> Vec<String> {
    names
        .into_iter()
        .filter(|n| n.starts_with("events/month="))
        .collect()
}

/// A CSV file: header, rows.
fn csv_rows(path: &Path) -> (Vec<String>, Vec<Vec<String>>) {
    let mut reader = csv::Reader::from_path(path).unwrap();
    let header = reader
        .headers()
        .unwrap()
        .iter()
        .map(str::to_owned)
        .collect();
    let rows = reader
        .records()
        .map(|r| r.unwrap().iter().map(str::to_owned).collect())
        .collect();
    (header, rows)
}

/// A Parquet file: column names, rows of typed fields.
pub fn parquet_rows(path: &Path) -> (Vec<String>, Vec<Vec<Field>>) {
    let reader = SerializedFileReader::new(std::fs::File::open(path).unwrap()).unwrap();
    let names = reader
        .metadata()
        .file_metadata()
        .schema_descr()
        .columns()
        .iter()
        .map(|c| c.name().to_owned())
        .collect();
    let rows = reader
        .get_row_iter(None)
        .unwrap()
        .map(|row| {
            row.unwrap()
                .get_column_iter()
                .map(|(_, f)| f.clone())
                .collect()
        })
        .collect();
    (names, rows)
}

/// A typed value as the CSV writes it.
fn as_csv(field: &Field) -> String {
    match field {
        Field::Null => String::new(),
        Field::Bool(b) => if *b { "1" } else { "0" }.to_owned(),
        Field::Long(n) => n.to_string(),
        Field::Double(x) => x.to_string(),
        Field::Date(d) => maillage_core::date::format_date(*d),
        Field::Str(s) => maillage_venues::spreadsheet_safe(s).into_owned(),
        other => panic!("unexpected Parquet value {other:?}"),
    }
}

/// Each Parquet file holds its CSV's rows, in order, typed; `written` is the export's output
/// (name under the export directory → rows).
pub fn parquet_matches_csv(exp: &Path, written: &BTreeMap<String, u64>) {
    let months = month_files(written.keys().cloned());
    let tables = PARQUET
        .iter()
        .map(|p| (p.replace(".parquet", ".csv"), vec![p.to_string()]))
        .chain([("events.csv".to_owned(), months)]);
    for (csv, parquet_files) in tables {
        let (header, rows) = csv_rows(&exp.join(&csv));
        let mut typed = Vec::new();
        for file in &parquet_files {
            let (names, file_rows) = parquet_rows(&exp.join(file));
            assert_eq!(names, header, "{file}: the CSV's columns");
            assert_eq!(written[file], file_rows.len() as u64, "{file}");
            typed.extend(file_rows);
        }
        assert_eq!(typed.len(), rows.len(), "{csv}: rows");
        assert!(!rows.is_empty(), "{csv}: an empty table proves little");
        for (i, (csv_row, row)) in rows.iter().zip(&typed).enumerate() {
            let cells: Vec<String> = row.iter().map(as_csv).collect();
            assert_eq!(&cells, csv_row, "{csv} row {i}");
            for (name, field) in header.iter().zip(row) {
                let text = matches!(field, Field::Str(_) | Field::Null);
                let expected_text = matches!(
                    name.as_str(),
                    "departement" | "code_postal" | "code_insee" | "target_departement"
                ) || name.ends_with("_id")
                    || name == "serial";
                if expected_text {
                    assert!(text, "{csv}.{name} must stay text: {field:?}");
                }
                let date = matches!(field, Field::Date(_) | Field::Null);
                if matches!(
                    name.as_str(),
                    "as_of" | "valid_from" | "signed_on" | "opened_on"
                ) {
                    assert!(date, "{csv}.{name} is a DATE: {field:?}");
                }
            }
        }
    }
    // Whole numbers, booleans and dates are typed.
    let (names, rows) = parquet_rows(&exp.join("vouchers.parquet"));
    let column = |name: &str| names.iter().position(|n| n == name).unwrap();
    assert!(matches!(
        rows[0][column("face_value_cents")],
        Field::Long(_)
    ));
    assert!(matches!(rows[0][column("settled")], Field::Bool(_)));
    assert!(matches!(rows[0][column("valid_until")], Field::Date(_)));
}

/// The `path` of a resource: one path or several.
fn paths(resource: &serde_json::Value) -> Vec<String> {
    match &resource["path"] {
        serde_json::Value::String(p) => vec![p.clone()],
        serde_json::Value::Array(ps) => ps.iter().map(|p| p.as_str().unwrap().to_owned()).collect(),
        other => panic!("path {other}"),
    }
}

/// `datapackage.json` lists every other file written, CSV resources with their header's
/// columns, Parquet ones with theirs, and the joins between them.
pub fn datapackage_describes(exp: &Path, written: &BTreeMap<String, u64>) {
    let text = std::fs::read_to_string(exp.join("datapackage.json")).unwrap();
    let package: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert!(
        package["name"]
            .as_str()
            .unwrap()
            .starts_with("maillage-export-")
    );
    assert!(
        package["title"]
            .as_str()
            .unwrap()
            .starts_with("Export maillage")
    );
    assert_eq!(package["licenses"][0]["name"], "etalab-2.0");
    let resources = package["resources"].as_array().unwrap();
    let mut described: Vec<String> = resources.iter().flat_map(paths).collect();
    described.sort();
    let mut expected: Vec<String> = written
        .keys()
        .filter(|n| *n != "datapackage.json")
        .cloned()
        .collect();
    expected.sort();
    assert_eq!(described, expected);
    let mut names: Vec<&str> = resources
        .iter()
        .map(|r| r["name"].as_str().unwrap())
        .collect();
    names.sort_unstable();
    names.dedup();
    assert_eq!(names.len(), resources.len(), "resource names are unique");
    for resource in resources {
        let fields: Vec<&str> = resource["schema"]["fields"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| {
                assert!(!f["description"].as_str().unwrap().is_empty(), "{f}");
                assert!(f["type"].is_string(), "{f}");
                f["name"].as_str().unwrap()
            })
            .collect();
        for path in paths(resource) {
            let header = if path.ends_with(".csv") {
                assert_eq!(resource["format"], "csv");
                assert_eq!(resource["mediatype"], "text/csv");
                csv_rows(&exp.join(&path)).0
            } else {
                assert_eq!(resource["format"], "parquet");
                parquet_rows(&exp.join(&path)).0
            };
            assert_eq!(fields, header, "{path}");
        }
    }
    let resource = |name: &str| {
        resources
            .iter()
            .find(|r| r["name"] == name)
            .unwrap_or_else(|| panic!("no resource {name}"))
    };
    let vouchers = resource("vouchers");
    assert_eq!(
        vouchers["schema"]["primaryKey"],
        serde_json::json!(["serial"])
    );
    assert_eq!(
        vouchers["schema"]["foreignKeys"][0],
        serde_json::json!({
            "fields": ["redeemed_venue_id"],
            "reference": {"resource": "venues", "fields": ["venue_id"]},
        })
    );
    let types: BTreeMap<&str, &str> = resource("venues-parquet")["schema"]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (f["name"].as_str().unwrap(), f["type"].as_str().unwrap()))
        .collect();
    assert_eq!(types["departement"], "string");
    assert_eq!(types["code_postal"], "string");
    assert_eq!(types["updates"], "integer");
    assert_eq!(types["closed_on"], "date");
}
