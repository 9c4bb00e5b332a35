//! The analysts' Parquet files, written beside the CSV files of the export from the very same
//! rows: each table's CSV is read back and its cells typed by [`crate::export_schema`] (whole
//! numbers INT64, decimals DOUBLE, `1`/`0` BOOLEAN, days DATE, everything else UTF-8 text:
//! codes such as `04`, `2A` or `01000` stay text). An empty cell is a null.
//!
//! Text cells are written as they were before the CSV's spreadsheet guard
//! ([`maillage_venues::from_spreadsheet_safe`]): a Parquet file is never opened by a
//! spreadsheet, so `-x` stays `-x` rather than `'-x`.
//!
//! `events` is split by month of `signed_on`, Hive-style (`events/month=2026-03/part-0.parquet`),
//! so that `read_parquet('events/*/*.parquet', hive_partitioning = true)` reads a `month`
//! column from the paths and skips months a query filters out.
//!
//! Written with the `parquet` crate's low-level writer (no Arrow), Snappy-compressed, one row
//! group per [`ROW_GROUP`] rows, no timestamp: the same rows give the same bytes (the footer
//! names the writer, `parquet-rs version …`, so a different version of the crate may write
//! other bytes).

use std::collections::BTreeMap;
use std::sync::Arc;

use parquet::basic::{Compression, LogicalType, Repetition, Type as Physical};
use parquet::data_type::{BoolType, ByteArray, ByteArrayType, DoubleType, Int32Type, Int64Type};
use parquet::file::properties::WriterProperties;
use parquet::file::writer::SerializedFileWriter;
use parquet::schema::types::Type;

use crate::error::{AppError, Result};
use crate::export_schema::{Field, Kind, Table};

/// The directory of the events' monthly files.
pub const EVENTS_DIR: &str = "events";

/// Rows per row group.
const ROW_GROUP: usize = 100_000;

/// One Parquet file of an export: its path under the export directory, its bytes, its rows.
#[derive(Debug, Clone)]
pub struct ParquetFile {
    pub name: String,
    pub content: Vec<u8>,
    pub rows: u64,
}

/// The Parquet files of `table`, from its CSV (as the export writes it, `,`-separated, one
/// header row): one file, or one per month for `events`; none for `lieux.csv`.
pub fn from_csv(table: Table, csv: &[u8]) -> Result<Vec<ParquetFile>> {
    let Some(name) = table.parquet_name() else {
        return Ok(Vec::new());
    };
    let fields = crate::export_schema::fields(table);
    let mut reader = csv::ReaderBuilder::new().from_reader(csv);
    let header: Vec<String> = reader.headers()?.iter().map(str::to_owned).collect();
    let names: Vec<&str> = fields.iter().map(|f| f.name).collect();
    if header != names {
        return Err(AppError::internal(format!(
            "{}: columns {header:?}, the schema says {names:?}",
            table.file_name()
        )));
    }
    let mut rows: Vec<csv::StringRecord> = Vec::new();
    for row in reader.records() {
        rows.push(row?);
    }
    if table != Table::Events {
        let content = write(&fields, &rows)?;
        return Ok(vec![ParquetFile {
            name,
            content,
            rows: rows.len() as u64,
        }]);
    }
    // By month of `signed_on` (`YYYY-MM-DD`), rows kept in clock order within a month.
    let mut months: BTreeMap<String, Vec<csv::StringRecord>> = BTreeMap::new();
    for row in rows {
        let month = row.get(0).and_then(|day| day.get(..7)).unwrap_or_default();
        months.entry(month.to_owned()).or_default().push(row);
    }
    months
        .into_iter()
        .map(|(month, rows)| {
            Ok(ParquetFile {
                name: format!("{EVENTS_DIR}/month={month}/part-0.parquet"),
                content: write(&fields, &rows)?,
                rows: rows.len() as u64,
            })
        })
        .collect()
}

fn parquet_error(error: parquet::errors::ParquetError) -> AppError {
    AppError::internal(format!("writing Parquet: {error}"))
}

/// The Parquet type of a column: every column optional (an empty cell is a null).
fn column_type(field: &Field) -> Result<Type> {
    let (physical, logical) = match field.kind {
        Kind::Text => (Physical::BYTE_ARRAY, Some(LogicalType::String)),
        Kind::Integer => (Physical::INT64, None),
        Kind::Number => (Physical::DOUBLE, None),
        Kind::Boolean => (Physical::BOOLEAN, None),
        Kind::Date => (Physical::INT32, Some(LogicalType::Date)),
    };
    Type::primitive_type_builder(field.name, physical)
        .with_repetition(Repetition::OPTIONAL)
        .with_logical_type(logical)
        .build()
        .map_err(parquet_error)
}

/// One file's bytes.
fn write(fields: &[Field], rows: &[csv::StringRecord]) -> Result<Vec<u8>> {
    let columns = fields
        .iter()
        .map(|f| column_type(f).map(Arc::new))
        .collect::<Result<Vec<_>>>()?;
    let schema = Type::group_type_builder("schema")
        .with_fields(columns)
        .build()
        .map_err(parquet_error)?;
    let properties = WriterProperties::builder()
        .set_compression(Compression::SNAPPY)
        .build();
    let mut writer = SerializedFileWriter::new(Vec::new(), Arc::new(schema), Arc::new(properties))
        .map_err(parquet_error)?;
    for group in rows.chunks(ROW_GROUP) {
        let mut row_group = writer.next_row_group().map_err(parquet_error)?;
        for (i, field) in fields.iter().enumerate() {
            let Some(mut column) = row_group.next_column().map_err(parquet_error)? else {
                return Err(AppError::internal(
                    "Parquet writer: fewer columns than fields",
                ));
            };
            let cells = group.iter().map(|row| row.get(i).unwrap_or_default());
            write_column(&mut column, field, cells)?;
            column.close().map_err(parquet_error)?;
        }
        row_group.close().map_err(parquet_error)?;
    }
    writer.into_inner().map_err(parquet_error)
}

/// The non-null values of a column and its definition levels (1: a value, 0: null).
fn typed<'a, T>(
    field: &Field,
    cells: impl Iterator<Item = &'a str>,
    parse: impl Fn(&str) -> Option<T>,
) -> Result<(Vec<T>, Vec<i16>)> {
    let mut values = Vec::new();
    let mut levels = Vec::new();
    for cell in cells {
        if cell.is_empty() {
            levels.push(0);
            continue;
        }
        let value = parse(cell).ok_or_else(|| {
            AppError::internal(format!(
                "column {}: {cell:?} is not a {}",
                field.name,
                field.kind.name()
            ))
        })?;
        values.push(value);
        levels.push(1);
    }
    Ok((values, levels))
}

fn write_column<'a>(
    column: &mut parquet::file::writer::SerializedColumnWriter<'_>,
    field: &Field,
    cells: impl Iterator<Item = &'a str>,
) -> Result<()> {
    match field.kind {
        Kind::Text => {
            let (values, levels) = typed(field, cells, |cell| {
                let raw = maillage_venues::from_spreadsheet_safe(cell);
                Some(ByteArray::from(raw.as_bytes().to_vec()))
            })?;
            column
                .typed::<ByteArrayType>()
                .write_batch(&values, Some(&levels), None)
        }
        Kind::Integer => {
            let (values, levels) = typed(field, cells, |cell| cell.parse::<i64>().ok())?;
            column
                .typed::<Int64Type>()
                .write_batch(&values, Some(&levels), None)
        }
        Kind::Number => {
            let (values, levels) = typed(field, cells, |cell| cell.parse::<f64>().ok())?;
            column
                .typed::<DoubleType>()
                .write_batch(&values, Some(&levels), None)
        }
        Kind::Boolean => {
            let (values, levels) = typed(field, cells, |cell| match cell {
                "1" => Some(true),
                "0" => Some(false),
                _ => None,
            })?;
            column
                .typed::<BoolType>()
                .write_batch(&values, Some(&levels), None)
        }
        Kind::Date => {
            let (values, levels) = typed(field, cells, maillage_core::date::parse_date)?;
            column
                .typed::<Int32Type>()
                .write_batch(&values, Some(&levels), None)
        }
    }
    .map(drop)
    .map_err(parquet_error)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    const STATS: &str = "as_of,section,hub,hub_key,funder,departement,metric,value\n";

    #[test]
    fn rows_give_the_same_bytes_and_a_cell_of_the_wrong_type_is_refused() {
        let csv = format!("{STATS}2026-03-31,venues,Hub,ab,,04,venues,3\n2026-03-31,x,,,,,rate,\n");
        let first = from_csv(Table::Stats, csv.as_bytes()).unwrap();
        let again = from_csv(Table::Stats, csv.as_bytes()).unwrap();
        assert_eq!(first.len(), 1);
        assert_eq!(first[0].name, "stats.parquet");
        assert_eq!(first[0].rows, 2);
        assert_eq!(first[0].content, again[0].content);
        assert!(first[0].content.starts_with(b"PAR1"));
        let bad = format!("{STATS}31/03/2026,x,,,,,m,1\n");
        assert!(from_csv(Table::Stats, bad.as_bytes()).is_err());
        let renamed = STATS.replace("value", "valeur");
        assert!(from_csv(Table::Stats, renamed.as_bytes()).is_err());
    }

    #[test]
    fn no_events_no_monthly_file_and_lieux_has_none() {
        let header = crate::export_events::EVENT_COLUMNS.join(",") + "\n";
        assert!(
            from_csv(Table::Events, header.as_bytes())
                .unwrap()
                .is_empty()
        );
        let lieux = maillage_venues::V1_FIELDS.join(",") + "\n";
        assert!(
            from_csv(Table::Venues, lieux.as_bytes())
                .unwrap()
                .is_empty()
        );
    }
}
