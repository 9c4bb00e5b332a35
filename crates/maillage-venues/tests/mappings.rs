//! Files read through the shipped import mappings: the France services list (a fixture with
//! its header and made-up rows) and the MedNum BFC export (real data, `tests/data/venues/`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;

use maillage_venues::{
    ColumnUsage, FieldIssue, ImportBatch, ImportOptions, InputFormat, IssueKind, MappedVia,
    Mapping, RowOutcome, Severity, VenueRecord, parse, parse_mapped,
};

fn fixture(name: &str) -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn accepted<'a>(batch: &'a ImportBatch, id: &str) -> &'a VenueRecord {
    batch
        .accepted()
        .map(|(r, _)| r)
        .find(|r| r.id == id)
        .unwrap_or_else(|| panic!("{id} not accepted"))
}

/// The blocking issues of the row whose id cell was `id_fs`.
fn rejection(batch: &ImportBatch, id_fs: &str) -> Vec<FieldIssue> {
    let id = format!("france-services-{id_fs}");
    let row = batch
        .rows
        .iter()
        .find(|r| r.source_id.as_deref() == Some(id.as_str()))
        .unwrap_or_else(|| panic!("no row {id}"));
    match &row.outcome {
        RowOutcome::Rejected { issues } => issues
            .iter()
            .filter(|i| i.severity == Severity::Error)
            .cloned()
            .collect(),
        RowOutcome::Accepted { .. } => panic!("{id} accepted"),
    }
}

#[test]
fn the_france_services_list_is_read_through_its_mapping() {
    let bytes = fixture("france-services-2024.csv");
    let options = ImportOptions::for_territories(["21", "25"]).unwrap();
    let mapping = Mapping::shipped("france-services").unwrap();
    let batch = parse_mapped(&bytes, &mapping, &options).unwrap();
    // Detected from its header, too.
    assert_eq!(parse(&bytes, InputFormat::Auto, &options).unwrap(), batch);
    assert_eq!(batch.format, InputFormat::Mapped);
    assert_eq!(batch.mapping.as_deref(), Some("france-services"));

    let s = batch.summary();
    println!("{s}");
    for note in &batch.notes {
        println!("note: {note}");
    }
    assert_eq!((s.accepted, s.rejected), (3, 4), "{s}");

    let r = accepted(&batch, "france-services-101");
    assert_eq!(r.nom, "France services de Montbard");
    assert_eq!(r.pivot, "00000000000000");
    assert_eq!(
        (
            r.commune.as_str(),
            r.code_postal.as_str(),
            r.code_insee.as_str()
        ),
        ("Montbard", "21500", "21425")
    );
    assert_eq!(r.horaires, "Mo-Th 09:00-12:00,13:30-17:00; Fr 09:00-12:00");
    assert_eq!(r.date_maj, "2020-01-01");
    assert_eq!(r.typologie, ["RFS"]);
    assert_eq!(r.dispositif_programmes_nationaux, ["France Services"]);
    assert_eq!(r.services, ["Aide aux démarches administratives"]);
    assert_eq!(r.frais_a_charge, ["Gratuit"]);
    assert_eq!(r.itinerance, ["Fixe"]);
    assert_eq!(r.telephone, ["+33380000001"]);
    assert_eq!(r.courriels, ["montbard@example.fr"]);
    assert_eq!(r.source, "ANCT, liste des France services (data.gouv.fr)");

    let bus = accepted(&batch, "france-services-102");
    assert_eq!(bus.itinerance, ["Itinérant"]);
    assert_eq!(bus.horaires, "Mo-Fr 09:30-16:30");
    assert_eq!(bus.date_maj, "2021-01-15");
    assert!(bus.presentation_detail.starts_with("Tournée"));

    // An unreadable day drops the hours, not the venue.
    let pontarlier = accepted(&batch, "france-services-103");
    assert_eq!(pontarlier.horaires, "");
    assert_eq!(pontarlier.complement_adresse, "Maison des services");
    let dropped = batch
        .rows
        .iter()
        .flat_map(|r| r.issues())
        .find(|i| i.field == "horaires" && i.severity == Severity::Warning)
        .unwrap();
    assert_eq!(dropped.value, "sur rendez-vous");
    assert!(dropped.reason.contains("h_mercredi"), "{dropped}");

    // Every accepted venue carries the placeholder pivot's warning.
    let placeholders = batch
        .rows
        .iter()
        .flat_map(|r| r.issues())
        .filter(|i| i.kind == IssueKind::Placeholder && i.field == "pivot")
        .count();
    assert!(placeholders >= 3);

    let kinds = |id: &str| -> Vec<(String, IssueKind)> {
        rejection(&batch, id)
            .into_iter()
            .map(|i| (i.field, i.kind))
            .collect()
    };
    assert_eq!(kinds("104"), [("commune".into(), IssueKind::Missing)]);
    assert_eq!(kinds("105"), [("code_postal".into(), IssueKind::Malformed)]);
    assert!(kinds("106").contains(&("code_insee".into(), IssueKind::OutsideTerritory)));
    let date = rejection(&batch, "107");
    assert_eq!(
        (date[0].field.as_str(), date[0].value.as_str()),
        ("date_maj", "En cours de labellisation")
    );

    // The columns: where each went, which were ignored and why.
    let usage = |column: &str| {
        &batch
            .columns
            .iter()
            .find(|c| c.column == column)
            .unwrap()
            .usage
    };
    assert_eq!(
        usage("lib_fs"),
        &ColumnUsage::Mapped {
            fields: vec!["nom".into()],
            via: MappedVia::Rename
        }
    );
    assert_eq!(
        usage("h_samedi"),
        &ColumnUsage::Mapped {
            fields: vec!["horaires".into()],
            via: MappedVia::Hours
        }
    );
    assert!(
        matches!(usage("prise_rdv"), ColumnUsage::Ignored { reason } if reason.contains("rendez-vous"))
    );
    assert_eq!(batch.columns.len(), 24);
    assert!(
        batch
            .columns
            .iter()
            .all(|c| c.usage != ColumnUsage::Unknown)
    );
    assert!(
        batch
            .notes
            .iter()
            .any(|n| n.contains("manquent au fichier : itinerance, labellisation"))
    );
}

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
