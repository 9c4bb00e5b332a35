//! `datapackage.json`: the export described as a Frictionless Data Package (v1 of the
//! specification), so that a reader, a validator (`frictionless validate datapackage.json`) or
//! a data portal knows each file's columns, their types, the keys that name a row and the
//! columns that name a row of another file, without reading the CLI's help.
//!
//! One resource per file written: each CSV under its table's name (`vouchers`), each Parquet
//! file under that name with `-parquet` (`vouchers-parquet`; the events' monthly files are one
//! resource whose `path` lists them). A foreign key is stated only when the file it points to
//! is written too. Nothing in it depends on the clock: the same export writes the same bytes.

use serde_json::{Value, json};

use crate::export_schema::{Kind, Table, fields};

/// What was written for one table.
#[derive(Debug, Clone)]
pub struct Written {
    pub table: Table,
    /// Its CSV's rows.
    pub rows: u64,
    /// Its Parquet files, by path under the export directory (empty: none).
    pub parquet: Vec<String>,
}

/// The Table Schema of a table's CSV (`csv`) or Parquet files: fields, keys.
fn schema(table: Table, written: &[Written], suffix: &str, csv: bool) -> Value {
    let fields: Vec<Value> = fields(table)
        .iter()
        .map(|f| {
            let mut field = json!({
                "name": f.name,
                "type": f.kind.name(),
                "description": f.description,
            });
            if f.kind == Kind::Boolean && csv {
                field["trueValues"] = json!(["1"]);
                field["falseValues"] = json!(["0"]);
            }
            field
        })
        .collect();
    let mut schema = json!({ "fields": fields, "missingValues": [""] });
    if let Some(key) = table.primary_key() {
        schema["primaryKey"] = json!([key]);
    }
    let foreign: Vec<Value> = table
        .foreign_keys()
        .iter()
        .filter(|(_, other, _)| {
            written
                .iter()
                .any(|w| w.table == *other && (csv || !w.parquet.is_empty()))
        })
        .map(|(column, other, other_column)| {
            json!({
                "fields": [column],
                "reference": {
                    "resource": format!("{}{suffix}", other.stem()),
                    "fields": [other_column],
                },
            })
        })
        .collect();
    if !foreign.is_empty() {
        schema["foreignKeys"] = Value::Array(foreign);
    }
    schema
}

/// The package of the files written for `as_of` (`YYYY-MM-DD`); `excel`: the CSV files have a
/// byte-order mark and `;` between values.
pub fn datapackage(written: &[Written], as_of: &str, excel: bool) -> Value {
    let mut resources = Vec::new();
    for w in written {
        let t = w.table;
        let mut description = format!(
            "{} ({} lignes). UTF-8, une ligne d'en-tête ; une cellule qui commencerait par \
             =, +, -, @ (hors nombre signé) est précédée d'une apostrophe, pour qu'un tableur \
             ne l'exécute jamais.",
            t.title(),
            w.rows
        );
        if t == Table::Venues {
            description.push_str(" Octets du standard national v1.");
        }
        resources.push(json!({
            "name": t.stem(),
            "title": t.title(),
            "description": description,
            "path": t.file_name(),
            "profile": "tabular-data-resource",
            "format": "csv",
            "mediatype": "text/csv",
            "encoding": if excel { "utf-8-sig" } else { "utf-8" },
            "dialect": {
                "delimiter": if excel { ";" } else { "," },
                "header": true,
                "doubleQuote": true,
            },
            "schema": schema(t, written, "", true),
        }));
        if w.parquet.is_empty() {
            continue;
        }
        let path = match w.parquet.as_slice() {
            [one] if t != Table::Events => json!(one),
            many => json!(many),
        };
        let mut description = format!(
            "{}, en Parquet : mêmes lignes que {}, colonnes typées, texte sans apostrophe \
             de garde.",
            t.title(),
            t.file_name()
        );
        if t == Table::Events {
            description.push_str(
                " Un fichier par mois de signed_on, partitionné à la Hive (events/month=AAAA-MM/), \
                 à lire avec read_parquet('events/*/*.parquet', hive_partitioning = true).",
            );
        }
        resources.push(json!({
            "name": format!("{}-parquet", t.stem()),
            "title": t.title(),
            "description": description,
            "path": path,
            "profile": "tabular-data-resource",
            "format": "parquet",
            "mediatype": "application/vnd.apache.parquet",
            "schema": schema(t, written, "-parquet", false),
        }));
    }
    json!({
        "profile": "tabular-data-package",
        "name": format!("maillage-export-{as_of}"),
        "title": format!("Export maillage au {as_of} : lieux, pass numériques, orientations, événements, chiffres"),
        "description": "Vues d'un nœud maillage (fédération des hubs territoriaux de l'inclusion \
                        numérique), calculées pour la date indiquée. Aucun code de personne : les \
                        fichiers peuvent être partagés. Les nœuds qui détiennent les mêmes \
                        événements écrivent les mêmes octets.",
        "licenses": [{
            "name": "etalab-2.0",
            "title": "Licence Ouverte / Open Licence version 2.0",
            "path": "https://www.etalab.gouv.fr/licence-ouverte-open-licence/",
        }],
        "resources": resources,
    })
}
