//! The real exports in `tests/data/venues/` (Licence Ouverte 2.0, credit "La MedNum / ANCT
//! cartographie nationale" and the hub named in each file) and the standard's examples.
//!
//! These tests fail, rather than skip, when the data directory is missing: it is part of the repository.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;
use std::path::PathBuf;

use maillage_venues::{
    FieldIssue, ImportBatch, ImportOptions, InputFormat, IssueKind, RowOutcome, Severity,
    VenueRecord, export_csv_v1, parse, summarize, write_report_csv,
};

fn data() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/data")
}

fn venues_dir() -> PathBuf {
    data().join("venues")
}

fn read(path: &PathBuf) -> Vec<u8> {
    std::fs::read(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

fn import(name: &str) -> ImportBatch {
    let bytes = read(&venues_dir().join(name));
    let batch = parse(&bytes, InputFormat::Auto, &ImportOptions::default())
        .unwrap_or_else(|e| panic!("{name}: whole-file error: {e}"));
    let s = batch.summary();
    println!("== {name} ({:?})", batch.format);
    for note in &batch.notes {
        println!("   note: {note}");
    }
    print!("   {s}");
    for r in s.top_warning_reasons(6) {
        println!("   warning: {r}");
    }
    batch
}

fn deps(batch: &ImportBatch) -> BTreeMap<String, usize> {
    let mut out = BTreeMap::new();
    for (_, dep) in batch.accepted() {
        *out.entry(dep.to_owned()).or_default() += 1;
    }
    out
}

fn issues_of<'a>(batch: &'a ImportBatch, kind: IssueKind, field: &str) -> Vec<&'a FieldIssue> {
    batch
        .rows
        .iter()
        .flat_map(|r| r.issues())
        .filter(|i| i.kind == kind && i.field == field)
        .collect()
}

const FILES: [&str; 6] = [
    "hinaura-2022-v0.1.json",
    "hub-du-sud-2023-05-17.json",
    "charente-2023-07-11.json",
    "bus-france-services-charente-2023-10-03.json",
    "nouvelle-caledonie-2024-03-20.json",
    "mednum-bfc-2020-05-16.csv",
];

#[test]
fn the_data_directory_is_there() {
    let dir = venues_dir();
    assert!(dir.is_dir(), "{} is missing", dir.display());
    for name in FILES {
        assert!(dir.join(name).is_file(), "{name} is missing");
    }
}

#[test]
fn every_real_file_parses_without_whole_file_error() {
    let mut entries: Vec<_> = std::fs::read_dir(venues_dir())
        .expect("tests/data/venues must exist")
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    assert!(entries.len() >= FILES.len());
    for path in entries {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let batch = import(&name);
        assert!(!batch.rows.is_empty(), "{name}: no rows");
        let mut report = Vec::new();
        write_report_csv(&batch.rows, &mut report).unwrap();
        assert!(!report.is_empty());
    }
}

#[test]
fn hinaura_v0_is_mapped_to_v1() {
    let batch = import("hinaura-2022-v0.1.json");
    assert_eq!(batch.format, InputFormat::Json);
    assert_eq!(batch.rows.len(), 687);
    let s = batch.summary();
    assert!(s.accepted >= 680, "{s}");
    // Placeholder pivots everywhere: kept with a warning.
    assert_eq!(
        issues_of(&batch, IssueKind::Placeholder, "pivot").len(),
        s.accepted + s.rejected
    );
    // 91 venues declared "Accepte le Pass numérique".
    assert_eq!(s.declares_pass_numerique, 91);
    for (record, dep) in batch.accepted() {
        assert!(maillage_venues::is_departement_code(dep));
        for service in &record.services {
            assert!(
                maillage_venues::vocabulary::SERVICES.contains(&service.as_str()),
                "{service}"
            );
        }
        assert!(
            !record
                .publics_specifiquement_adresses
                .iter()
                .any(|p| p.contains("ans"))
        );
    }
    let d = deps(&batch);
    assert!(
        d.keys().all(|k| [
            "01", "03", "07", "15", "26", "38", "42", "43", "63", "69", "73", "74"
        ]
        .contains(&k.as_str())),
        "{d:?}"
    );
}

#[test]
fn hub_du_sud_is_mostly_accepted() {
    let batch = import("hub-du-sud-2023-05-17.json");
    let s = batch.summary();
    assert_eq!(batch.rows.len(), 646);
    assert!(s.accepted >= 600, "{s}");
    // 99 rows carry the 1970-01-01 placeholder date.
    assert_eq!(
        issues_of(&batch, IssueKind::Placeholder, "date_maj").len(),
        99
    );
    // Malformed opening hours are dropped with a warning, the rows kept.
    let hours = issues_of(&batch, IssueKind::Malformed, "horaires");
    assert!(hours.len() >= 7, "{hours:?}");
    assert!(hours.iter().any(|i| i.value.contains("12:00-14:00-17:00")));
    // Geocoding errors (L'Isle-sur-la-Sorgue placed in the Indre…) are flagged.
    assert!(!issues_of(&batch, IssueKind::Implausible, "latitude").is_empty());
}

#[test]
fn charente_and_its_bus() {
    let batch = import("charente-2023-07-11.json");
    assert!(batch.summary().accepted >= 180);
    assert!(deps(&batch).keys().all(|d| d == "16"));

    let bus = import("bus-france-services-charente-2023-10-03.json");
    let s = bus.summary();
    assert_eq!(s.accepted, 12, "{s}");
    assert_eq!(s.declares_pass_numerique, 12, "APTIC label on every stop");
    // Alternating weeks are valid opening hours.
    let alternating = bus
        .accepted()
        .filter(|(r, _)| r.horaires.starts_with("week "))
        .count();
    assert_eq!(alternating, 8);
    // 1969-12-31 is the epoch seen from a western time zone.
    assert_eq!(
        issues_of(&bus, IssueKind::Placeholder, "date_maj").len(),
        12
    );
    // Stop 4 ("Valence") was geocoded in the Bouches-du-Rhône.
    assert_eq!(issues_of(&bus, IssueKind::Implausible, "latitude").len(), 1);
}

#[test]
fn nouvelle_caledonie_is_in_988() {
    let batch = import("nouvelle-caledonie-2024-03-20.json");
    let s = batch.summary();
    assert_eq!(s.accepted, 90, "{s}");
    assert_eq!(deps(&batch), BTreeMap::from([("988".to_owned(), 90)]));
    // Mont-Dore was given the INSEE code of the Puy-de-Dôme commune: dropped.
    let wrong_insee = issues_of(&batch, IssueKind::Inconsistent, "code_insee");
    assert_eq!(wrong_insee.len(), 9);
    assert!(
        batch
            .accepted()
            .all(|(r, _)| r.code_insee.is_empty() || r.code_insee.starts_with("988"))
    );
    // Local 6-digit numbers are +687.
    assert!(
        batch
            .accepted()
            .flat_map(|(r, _)| &r.telephone)
            .all(|t| t.starts_with("+687"))
    );
}

#[test]
fn mednum_bfc_rows_are_all_rejected_for_missing_pivot() {
    let batch = import("mednum-bfc-2020-05-16.csv");
    assert_eq!(batch.format, InputFormat::MednumBfcCsv);
    let s = batch.summary();
    assert_eq!(batch.rows.len(), 606);
    assert_eq!((s.accepted, s.rejected), (0, 606), "{s}");
    let top = &s.top_rejection_reasons(1)[0];
    assert_eq!(
        (top.field.as_str(), top.kind, top.rows),
        ("pivot", IssueKind::Missing, 606)
    );
    assert!(
        top.example
            .contains("MedNum BFC layout has no pivot column")
    );
    assert!(batch.notes.iter().any(|n| n.contains("no pivot column")));
    // The APTIC label is not lost.
    let aptic = batch
        .rows
        .iter()
        .filter(|r| {
            r.issues()
                .iter()
                .any(|i| i.kind == IssueKind::VoucherDeclaration)
        })
        .count();
    assert_eq!(aptic, 27);
    // HTML schedules are converted for the hub to check.
    assert!(issues_of(&batch, IssueKind::Normalised, "horaires").len() > 200);
}

/// Every opening-hours value of the real files is either valid or reported; the files that
/// only hold well-formed values raise no warning on `horaires`.
#[test]
fn real_opening_hours() {
    for name in [
        "hinaura-2022-v0.1.json",
        "charente-2023-07-11.json",
        "bus-france-services-charente-2023-10-03.json",
        "nouvelle-caledonie-2024-03-20.json",
    ] {
        let batch = import(name);
        let bad: Vec<_> = batch
            .rows
            .iter()
            .flat_map(|r| r.issues())
            .filter(|i| i.field == "horaires")
            .collect();
        assert!(bad.is_empty(), "{name}: {bad:#?}");
        let with_hours = batch
            .accepted()
            .filter(|(r, _)| !r.horaires.is_empty())
            .count();
        assert!(with_hours > 0, "{name}");
    }
    let batch = import("hub-du-sud-2023-05-17.json");
    let dropped: Vec<&str> = issues_of(&batch, IssueKind::Malformed, "horaires")
        .iter()
        .map(|i| i.value.as_str())
        .collect();
    assert_eq!(dropped.len(), 7, "{dropped:#?}");
    for expected in [
        "Mo-Fr 09:00-19:00; Sa 17:00",
        "Tu-Fr 09:00-12:00,14:00-17:00; Mo 14-17;9-12,14-17",
    ] {
        assert!(dropped.contains(&expected), "{expected}");
    }
}

#[test]
fn territory_filter_rejects_other_departements() {
    let bytes = read(&venues_dir().join("hub-du-sud-2023-05-17.json"));
    let paca = ImportOptions::for_territories(["04", "05", "06", "13", "83", "84"]).unwrap();
    let batch = parse(&bytes, InputFormat::Auto, &paca).unwrap();
    let outside = issues_of(&batch, IssueKind::OutsideTerritory, "code_postal");
    let all = parse(&bytes, InputFormat::Auto, &ImportOptions::default()).unwrap();
    assert_eq!(
        batch.summary().accepted + outside.len(),
        all.summary().accepted
    );

    let only_13 = ImportOptions::for_territories(["13"]).unwrap();
    let batch = parse(&bytes, InputFormat::Auto, &only_13).unwrap();
    assert!(batch.accepted().all(|(_, d)| d == "13"));
    let rejected = issues_of(&batch, IssueKind::OutsideTerritory, "code_postal");
    assert!(!rejected.is_empty());
    assert!(
        rejected[0]
            .reason
            .contains("hors des territoires du hub (13)"),
        "{}",
        rejected[0].reason
    );
    assert!(ImportOptions::for_territories(["20"]).is_err());
    assert_eq!(
        ImportOptions::for_territories(["1", "2a"])
            .unwrap()
            .territories
            .unwrap()
            .into_iter()
            .collect::<Vec<_>>(),
        vec!["01".to_owned(), "2A".to_owned()]
    );
}

/// Export then re-import: identical records, and no issue but those describing the records
/// themselves (placeholders, checksum, implausible but kept values).
#[test]
fn export_then_parse_is_the_identity_on_real_records() {
    for name in FILES {
        let batch = parse(
            &read(&venues_dir().join(name)),
            InputFormat::Auto,
            &ImportOptions::default(),
        )
        .unwrap();
        let records: Vec<VenueRecord> = batch.accepted().map(|(r, _)| r.clone()).collect();
        let persistent: Vec<Vec<FieldIssue>> = batch
            .rows
            .iter()
            .filter(|r| r.is_accepted())
            .map(|r| {
                r.issues()
                    .iter()
                    .filter(|i| i.kind.is_persistent())
                    .cloned()
                    .collect()
            })
            .collect();
        let mut csv = Vec::new();
        export_csv_v1(&records, &mut csv).unwrap();
        let again = parse(&csv, InputFormat::CsvV1, &ImportOptions::default()).unwrap();
        assert_eq!(again.rows.len(), records.len(), "{name}");
        for ((row, original), expected) in again.rows.iter().zip(&records).zip(&persistent) {
            let RowOutcome::Accepted {
                record, warnings, ..
            } = &row.outcome
            else {
                panic!("{name}: re-import rejected {:?}", row.issues());
            };
            assert_eq!(record, original, "{name}");
            assert_eq!(warnings, expected, "{name}: {}", original.id);
        }
    }
}

#[test]
fn the_standards_examples_parse_without_warnings() {
    let dir = data().join("schemas/lieux-mediation-numerique");
    let v1 = parse(
        &read(&dir.join("exemple-valide.csv")),
        InputFormat::Auto,
        &ImportOptions::default(),
    )
    .unwrap();
    assert_eq!(v1.format, InputFormat::CsvV1);
    assert_eq!(v1.rows.len(), 1);
    let warnings: Vec<_> = v1.rows[0]
        .issues()
        .iter()
        .filter(|i| i.severity >= Severity::Warning)
        .collect();
    assert!(warnings.is_empty(), "{warnings:?}");
    let (record, dep) = v1.accepted().next().unwrap();
    assert_eq!(dep, "51");
    assert_eq!(record.typologie, ["ASSO", "TIERS_LIEUX"]);
    assert_eq!(record.latitude_micro, Some(43_526_090));

    let v0 = parse(
        &read(&dir.join("exemple-valide-v0.1.1.csv")),
        InputFormat::Auto,
        &ImportOptions::default(),
    )
    .unwrap();
    assert_eq!(v0.format, InputFormat::CsvV0);
    let row = &v0.rows[0];
    let RowOutcome::Accepted {
        record,
        warnings,
        declares_pass_numerique,
        ..
    } = &row.outcome
    else {
        panic!("{:?}", row.issues());
    };
    // The only warnings are the two voucher declarations the product must not lose.
    let kinds: Vec<_> = warnings
        .iter()
        .filter(|i| i.severity >= Severity::Warning)
        .map(|i| (i.field.as_str(), i.kind))
        .collect();
    assert_eq!(
        kinds,
        vec![
            ("conditions_acces", IssueKind::VoucherDeclaration),
            ("labels_nationaux", IssueKind::VoucherDeclaration)
        ]
    );
    assert!(declares_pass_numerique);
    assert_eq!(
        record.services,
        [
            "Aide aux démarches administratives",
            "Maîtrise des outils numériques du quotidien"
        ]
    );
    assert_eq!(
        record.publics_specifiquement_adresses,
        ["Familles et/ou enfants"]
    );
    assert_eq!(record.prise_en_charge_specifique, ["Déficience visuelle"]);
    assert_eq!(record.frais_a_charge, ["Payant"]);
    assert_eq!(
        record.dispositif_programmes_nationaux,
        ["France Services", "Point d'accès numérique CAF"]
    );
    assert_eq!(
        record.autres_formations_labels,
        "SudLabs|Nièvre médiation numérique"
    );
    assert_eq!(
        record.modalites_accompagnement,
        ["En autonomie", "Accompagnement individuel"]
    );
    assert_eq!(record.courriels, ["contact@laquincaillerie.tl"]);
    assert!(record.fiche_acces_libre.starts_with("https://acceslibre"));
    assert!(v0.notes.iter().any(|n| n.contains("cle_ban")));
}

#[test]
fn summary_counts_match_rows() {
    let batch = import("hub-du-sud-2023-05-17.json");
    let s = summarize(&batch.rows);
    assert_eq!(s.accepted + s.rejected, batch.rows.len());
}
