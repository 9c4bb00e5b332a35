//! Import mappings for people (French, or English on request): what became of each column of an imported file, and
//! the mappings shipped with maillage (`maillage venues mappings`).

use std::fmt::Write as _;

use anyhow::Result;
use maillage_app::request::{ColumnFate, ColumnVia, VenuesImported};
use maillage_core::lang::t;
use maillage_core::tr;
use maillage_venues::{Mapping, SHIPPED_MAPPINGS};

/// The columns of a file read with a mapping: mapped ones (to which fields, how), ignored ones
/// (why), unknown ones.
pub(super) fn columns(out: &mut String, r: &VenuesImported) -> Result<()> {
    let Some(mapping) = &r.mapping else {
        return Ok(());
    };
    writeln!(
        out,
        "  {}",
        tr!(
            "correspondance d'import : {mapping}",
            "import mapping: {mapping}"
        )
    )?;
    if r.columns.is_empty() {
        return Ok(());
    }
    let width = r
        .columns
        .iter()
        .map(|c| c.column.chars().count())
        .max()
        .unwrap_or(0)
        .min(32);
    let mut unknown = Vec::new();
    writeln!(
        out,
        "  {}",
        t("colonnes du fichier :", "the file's columns:")
    )?;
    for c in &r.columns {
        let name = &c.column;
        match &c.fate {
            ColumnFate::Mapped { fields, via } => {
                let how = match via {
                    ColumnVia::Rename => "",
                    ColumnVia::Values => t(" (table de valeurs)", " (table of values)"),
                    ColumnVia::Converted => t(" (convertie)", " (converted)"),
                    ColumnVia::Join => t(
                        " (jointe à d'autres colonnes)",
                        " (joined to other columns)",
                    ),
                    ColumnVia::Hours => t(" (horaires d'un jour)", " (a day's opening hours)"),
                    ColumnVia::Standard => t(" (nom du standard)", " (the standard's name)"),
                };
                writeln!(out, "    {name:<width$} → {}{how}", fields.join(", "))?;
            }
            ColumnFate::Ignored { reason } => {
                writeln!(
                    out,
                    "    {name:<width$}   {} {reason}",
                    t("ignorée :", "ignored:")
                )?;
            }
            ColumnFate::Unknown => unknown.push(name.as_str()),
        }
    }
    if !unknown.is_empty() {
        let unknown = unknown.join(", ");
        writeln!(
            out,
            "  {}",
            tr!(
                "colonnes inconnues de la correspondance, ignorées : {unknown}",
                "columns the mapping does not know, ignored: {unknown}"
            )
        )?;
    }
    Ok(())
}

/// `maillage venues mappings [NAME]`: the shipped mappings, or one's TOML file.
pub fn shipped_mappings(name: Option<&str>) -> Result<String> {
    let mut out = String::new();
    if let Some(name) = name {
        // Refuses an unknown name with the list of the known ones.
        Mapping::shipped(name)?;
        let shipped = SHIPPED_MAPPINGS.iter().find(|m| m.name == name.trim());
        if let Some(shipped) = shipped {
            out.push_str(shipped.toml);
        }
        return Ok(out);
    }
    writeln!(
        out,
        "{}",
        t(
            "Correspondances d'import livrées (maillage venues import FICHIER --mapping NOM) :",
            "Import mappings shipped with maillage (maillage venues import FILE --mapping NAME):"
        )
    )?;
    for shipped in SHIPPED_MAPPINGS {
        let mapping = Mapping::shipped(shipped.name)?;
        writeln!(out, "  {:<16} {}", mapping.name(), mapping.title())?;
        if !mapping.required_columns().is_empty() {
            writeln!(
                out,
                "  {:<16} {} {}",
                "",
                t("reconnue aux colonnes :", "recognised by the columns:"),
                mapping.required_columns().join(", ")
            )?;
        }
    }
    writeln!(
        out,
        "{}",
        t(
            "Pour lire une correspondance et en écrire une à partir d'elle : maillage venues mappings NOM > ma-correspondance.toml",
            "To read a mapping and write one from it: maillage venues mappings NAME > my-mapping.toml"
        )
    )?;
    Ok(out)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use maillage_app::request::{ImportCounts, ImportedColumn};

    use super::*;

    #[test]
    fn lists_and_prints_the_shipped_mappings() {
        let list = shipped_mappings(None).unwrap();
        assert!(list.contains("mednum-bfc"), "{list}");
        assert!(list.contains("france-services"), "{list}");
        assert!(list.contains("id_fs, lib_fs"), "{list}");
        let bfc = shipped_mappings(Some("mednum-bfc")).unwrap();
        assert!(bfc.contains("name = \"mednum-bfc\""), "{bfc}");
        let e = shipped_mappings(Some("inconnue")).unwrap_err().to_string();
        assert!(e.contains("aucune correspondance livrée"), "{e}");
    }

    #[test]
    fn says_what_became_of_each_column() {
        let column = |column: &str, fate| ImportedColumn {
            column: column.into(),
            fate,
        };
        let r = VenuesImported {
            source: "fs.csv".into(),
            format: "Mapped".into(),
            mapping: Some("france-services".into()),
            columns: vec![
                column(
                    "lib_fs",
                    ColumnFate::Mapped {
                        fields: vec!["nom".into()],
                        via: ColumnVia::Rename,
                    },
                ),
                column(
                    "h_lundi",
                    ColumnFate::Mapped {
                        fields: vec!["horaires".into()],
                        via: ColumnVia::Hours,
                    },
                ),
                column(
                    "type_fs",
                    ColumnFate::Ignored {
                        reason: "pas de champ v1".into(),
                    },
                ),
                column("extra", ColumnFate::Unknown),
            ],
            hub: "Hub".into(),
            territories: vec![],
            counts: ImportCounts::default(),
            notes: vec![],
            top_rejections: vec![],
            top_warnings: vec![],
            rejected_rows: vec![],
            refused: vec![],
            report_csv: None,
            dry_run: true,
            feed_seq: 0,
        };
        let mut out = String::new();
        columns(&mut out, &r).unwrap();
        assert!(
            out.contains("correspondance d'import : france-services"),
            "{out}"
        );
        assert!(out.contains("lib_fs  → nom\n"), "{out}");
        assert!(
            out.contains("h_lundi → horaires (horaires d'un jour)"),
            "{out}"
        );
        assert!(out.contains("type_fs   ignorée : pas de champ v1"), "{out}");
        assert!(out.contains("ignorées : extra"), "{out}");
    }
}
