//! The validation and normalisation rules, one row at a time.
//!
//! Size: one test per validation rule of the venue standard, in the standard's field order, with
//! the small row builders they share.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;

use maillage_venues::vocabulary::VocabField;
use maillage_venues::{
    FieldIssue, FileError, ImportOptions, InputFormat, IssueKind, RowLocation, RowOutcome,
    RowReport, Severity, VenueRecord, parse,
};
use serde_json::{Value, json};

/// A minimal valid v1 row.
fn base() -> serde_json::Map<String, Value> {
    let Value::Object(map) = json!({
        "id": "lieu-1",
        "pivot": "43493312300029",
        "nom": "Anonymal",
        "commune": "Reims",
        "code_postal": "51100",
        "code_insee": "51454",
        "adresse": "12 BIS RUE DE LECLERCQ",
        "date_maj": "2024-04-02",
    }) else {
        unreachable!()
    };
    map
}

fn row_with(changes: &[(&str, Value)]) -> RowReport {
    row_with_options(changes, &ImportOptions::default())
}

fn row_with_options(changes: &[(&str, Value)], options: &ImportOptions) -> RowReport {
    let mut map = base();
    for (k, v) in changes {
        if v.is_null() {
            map.remove(*k);
        } else {
            map.insert((*k).to_owned(), v.clone());
        }
    }
    let bytes = serde_json::to_vec(&Value::Array(vec![Value::Object(map)])).unwrap();
    let batch = parse(&bytes, InputFormat::Json, options).unwrap();
    assert_eq!(batch.rows.len(), 1);
    batch.rows.into_iter().next().unwrap()
}

fn accepted(row: &RowReport) -> (VenueRecord, Vec<FieldIssue>) {
    match &row.outcome {
        RowOutcome::Accepted {
            record, warnings, ..
        } => (record.clone(), warnings.clone()),
        RowOutcome::Rejected { issues } => panic!("rejected: {issues:#?}"),
    }
}

fn rejected(row: &RowReport) -> Vec<FieldIssue> {
    match &row.outcome {
        RowOutcome::Rejected { issues } => issues.clone(),
        RowOutcome::Accepted { record, .. } => panic!("accepted: {record:?}"),
    }
}

fn warnings(issues: &[FieldIssue]) -> Vec<&FieldIssue> {
    issues
        .iter()
        .filter(|i| i.severity == Severity::Warning)
        .collect()
}

fn find<'a>(issues: &'a [FieldIssue], field: &str, kind: IssueKind) -> &'a FieldIssue {
    issues
        .iter()
        .find(|i| i.field == field && i.kind == kind)
        .unwrap_or_else(|| panic!("no {kind} issue on {field}: {issues:#?}"))
}

#[test]
fn a_clean_row_has_no_issue_at_all() {
    let row = row_with(&[]);
    let (record, issues) = accepted(&row);
    assert!(issues.is_empty(), "{issues:#?}");
    assert_eq!(record.id, "lieu-1");
    assert_eq!(row.location, RowLocation::Index(1));
    assert_eq!(row.source_id.as_deref(), Some("lieu-1"));
}

#[test]
fn missing_required_fields_reject_the_row_and_are_all_listed() {
    let row = row_with(&[
        ("pivot", Value::Null),
        ("nom", json!("  ")),
        ("date_maj", Value::Null),
    ]);
    let issues = rejected(&row);
    for field in ["pivot", "nom", "date_maj"] {
        let i = find(&issues, field, IssueKind::Missing);
        assert_eq!(i.severity, Severity::Error);
        assert_eq!(
            i.reason,
            "obligatoire dans le standard, mais absent ou vide"
        );
    }
}

#[test]
fn pivots() {
    let row = row_with(&[("pivot", json!("00000000000000"))]);
    let (record, issues) = accepted(&row);
    assert_eq!(record.pivot, "00000000000000");
    assert!(
        find(&issues, "pivot", IssueKind::Placeholder)
            .reason
            .contains("ne pourra pas être qualifié pour les bons")
    );

    let (record, _) = accepted(&row_with(&[("pivot", json!("W751234567"))]));
    assert_eq!(record.pivot, "W751234567");
    let (_, issues) = accepted(&row_with(&[("pivot", json!("W000000000"))]));
    find(&issues, "pivot", IssueKind::Placeholder);

    let (_, issues) = accepted(&row_with(&[("pivot", json!("43493312300028"))]));
    find(&issues, "pivot", IssueKind::Checksum);
    // La Poste's establishments: the digit sum is a multiple of 5 instead of Luhn (a real
    // one of the Charente export), and a number failing that is flagged like any other.
    let (_, issues) = accepted(&row_with(&[("pivot", json!("35600000062292"))]));
    assert!(issues.is_empty(), "La Poste's own rule: {issues:?}");
    let (_, issues) = accepted(&row_with(&[("pivot", json!("35600000012345"))]));
    find(&issues, "pivot", IssueKind::Checksum);

    let issues = rejected(&row_with(&[("pivot", json!("434933123"))]));
    assert!(
        find(&issues, "pivot", IssueKind::Malformed)
            .reason
            .contains("SIREN")
    );
    let issues = rejected(&row_with(&[("pivot", json!("1234"))]));
    assert_eq!(
        find(&issues, "pivot", IssueKind::Malformed).reason,
        "attendu : un SIRET (14 chiffres) ou un numéro RNA (W suivi de 9 chiffres), trouvé : 4 \
         chiffres \"1234\""
    );

    // RIDET in New Caledonia, including the all-zero placeholder.
    let nc = [
        ("code_postal", json!("98800")),
        ("code_insee", json!("98818")),
    ];
    let ridet = |pivot: &str| {
        let mut c = nc.to_vec();
        c.push(("pivot", json!(pivot)));
        row_with(&c)
    };
    let row = ridet("1234567.001");
    let (record, _) = accepted(&row);
    assert_eq!(record.pivot, "1234567001");
    let row = ridet("0000000000");
    find(&accepted(&row).1, "pivot", IssueKind::Placeholder);
    rejected(&ridet("12345"));
}

#[test]
fn dates() {
    let (record, issues) = accepted(&row_with(&[("date_maj", json!("02/04/2024"))]));
    assert_eq!(record.date_maj, "2024-04-02");
    assert_eq!(
        find(&issues, "date_maj", IssueKind::Normalised).severity,
        Severity::Info
    );
    let (record, _) = accepted(&row_with(&[(
        "date_maj",
        json!("2024-04-02T08:15:00.000Z"),
    )]));
    assert_eq!(record.date_maj, "2024-04-02");
    for placeholder in ["1970-01-01", "1969-12-31"] {
        let row = row_with(&[("date_maj", json!(placeholder))]);
        let (record, issues) = accepted(&row);
        assert_eq!(record.date_maj, placeholder);
        assert_eq!(
            find(&issues, "date_maj", IssueKind::Placeholder).severity,
            Severity::Warning
        );
    }
    let row = row_with(&[("date_maj", json!("2023-02-30"))]);
    assert!(
        find(&rejected(&row), "date_maj", IssueKind::Malformed)
            .reason
            .contains("n'est pas une date du calendrier")
    );
    rejected(&row_with(&[("date_maj", json!("hier"))]));
}

#[test]
fn postal_and_insee_codes() {
    let row = row_with(&[
        ("code_postal", json!(6000)),
        ("code_insee", Value::Null),
        ("commune", json!("Nice")),
    ]);
    let (record, issues) = accepted(&row);
    assert_eq!(record.code_postal, "06000");
    assert_eq!(
        find(&issues, "code_postal", IssueKind::Normalised).severity,
        Severity::Warning
    );

    let row = row_with(&[("code_postal", json!("743")), ("code_insee", Value::Null)]);
    assert_eq!(
        find(&rejected(&row), "code_postal", IssueKind::Malformed).reason,
        "attendu : 5 chiffres, trouvé : \"743\""
    );

    let row = row_with(&[("code_insee", json!("20004"))]);
    let (record, issues) = accepted(&row);
    assert!(record.code_insee.is_empty());
    assert!(
        find(&issues, "code_insee", IssueKind::Malformed)
            .reason
            .contains("écarté")
    );

    let row = row_with(&[
        ("code_postal", json!("01000")),
        ("code_insee", json!("1053")),
    ]);
    let (record, issues) = accepted(&row);
    assert_eq!(record.code_insee, "01053");
    assert_eq!(
        find(&issues, "code_insee", IssueKind::Normalised).severity,
        Severity::Warning
    );

    // Corsica needs code_insee.
    let row = row_with(&[("code_postal", json!("20000")), ("code_insee", Value::Null)]);
    assert!(
        find(&rejected(&row), "code_postal", IssueKind::Missing)
            .reason
            .contains("Corse")
    );
    let row = row_with(&[
        ("code_postal", json!("20000")),
        ("code_insee", json!("2a004")),
    ]);
    let RowOutcome::Accepted {
        record,
        departement,
        ..
    } = &row.outcome
    else {
        panic!()
    };
    assert_eq!(
        (record.code_insee.as_str(), departement.as_str()),
        ("2A004", "2A")
    );

    // Overseas postal code with a metropolitan INSEE code: the INSEE code goes.
    let row = row_with(&[
        ("code_postal", json!("98800")),
        ("code_insee", json!("63236")),
    ]);
    let RowOutcome::Accepted {
        record,
        departement,
        warnings,
        ..
    } = &row.outcome
    else {
        panic!()
    };
    assert_eq!(departement, "988");
    assert!(record.code_insee.is_empty());
    find(warnings, "code_insee", IssueKind::Inconsistent);

    // Border communes: the INSEE code wins, with a note.
    let row = row_with(&[
        ("code_postal", json!("05110")),
        ("code_insee", json!("04033")),
    ]);
    let RowOutcome::Accepted {
        departement,
        warnings,
        ..
    } = &row.outcome
    else {
        panic!()
    };
    assert_eq!(departement, "04");
    assert_eq!(
        find(warnings, "code_postal", IssueKind::Implausible).severity,
        Severity::Info
    );

    let row = row_with(&[("code_postal", json!("97133")), ("code_insee", Value::Null)]);
    let RowOutcome::Accepted { departement, .. } = &row.outcome else {
        panic!()
    };
    assert_eq!(departement, "977");
    rejected(&row_with(&[
        ("code_postal", json!("96000")),
        ("code_insee", Value::Null),
    ]));
}

#[test]
fn territories() {
    let hub = ImportOptions::for_territories(["08", "10", "51", "52"]).unwrap();
    accepted(&row_with_options(&[], &hub));
    let other = ImportOptions::for_territories(["13", "84"]).unwrap();
    let row = row_with_options(&[], &other);
    let issues = rejected(&row);
    let issue = find(&issues, "code_insee", IssueKind::OutsideTerritory);
    assert_eq!(issue.value, "51454");
    assert_eq!(
        issue.reason,
        "le département 51 est hors des territoires du hub (13, 84)"
    );
    let row = row_with_options(&[("code_insee", Value::Null)], &other);
    find(&rejected(&row), "code_postal", IssueKind::OutsideTerritory);
}

#[test]
fn telephones() {
    let row = row_with(&[(
        "telephone",
        json!("03 84 76 90 83|+33 (0)4 79 61 30 68;0479613068|36 46"),
    )]);
    let (record, issues) = accepted(&row);
    assert_eq!(record.telephone, ["+33384769083", "+33479613068"]);
    let dropped = find(&issues, "telephone", IssueKind::Malformed);
    assert_eq!(dropped.value, "36 46");
    assert_eq!(dropped.severity, Severity::Warning);

    let nc = row_with(&[
        ("code_postal", json!("98800")),
        ("code_insee", json!("98818")),
        ("telephone", json!("44 57 28")),
    ]);
    assert_eq!(accepted(&nc).0.telephone, ["+687445728"]);
    let reunion = row_with(&[
        ("code_postal", json!("97400")),
        ("code_insee", json!("97411")),
        ("telephone", json!("0692 12 34 56")),
    ]);
    assert_eq!(accepted(&reunion).0.telephone, ["+262692123456"]);
}

#[test]
fn emails_and_urls() {
    let row = row_with(&[
        ("courriel", json!("a@b.fr")),
        ("courriels", json!("c@d.fr|epn@blanzy71 fr; a@b.fr")),
        (
            "site_web",
            json!("www.exemple.fr|https://m.facebook.com/x/;javascript:alert(1)"),
        ),
        (
            "prise_rdv",
            json!("https://www.rdv-solidarites.fr/ https://autre.fr"),
        ),
        (
            "accessibilite",
            json!("https://acceslibre.beta.gouv.fr/app/x/"),
        ),
    ]);
    let (record, issues) = accepted(&row);
    assert_eq!(record.courriels, ["a@b.fr", "c@d.fr"]);
    assert_eq!(
        record.site_web,
        ["https://www.exemple.fr", "https://m.facebook.com/x/"]
    );
    assert_eq!(record.prise_rdv, "https://www.rdv-solidarites.fr/");
    assert_eq!(
        record.fiche_acces_libre,
        "https://acceslibre.beta.gouv.fr/app/x/"
    );
    let values: Vec<&str> = warnings(&issues).iter().map(|i| i.value.as_str()).collect();
    for expected in [
        "epn@blanzy71",
        "fr",
        "www.exemple.fr",
        "javascript:alert(1)",
        "https://autre.fr",
    ] {
        assert!(values.contains(&expected), "{expected} not in {values:?}");
    }
}

#[test]
fn coordinates() {
    let (record, issues) = accepted(&row_with(&[
        ("latitude", json!("49,2583")),
        ("longitude", json!(4.0317)),
    ]));
    assert_eq!(
        (record.latitude_micro, record.longitude_micro),
        (Some(49_258_300), Some(4_031_700))
    );
    assert_eq!(
        find(&issues, "latitude", IssueKind::Normalised).severity,
        Severity::Info
    );

    let (record, issues) = accepted(&row_with(&[("latitude", json!(49.2583))]));
    assert_eq!(record.latitude_micro, None);
    find(&issues, "latitude", IssueKind::Inconsistent);

    let (record, issues) = accepted(&row_with(&[
        ("latitude", json!(95.0)),
        ("longitude", json!(200.0)),
    ]));
    assert_eq!(record.latitude_micro, None);
    find(&issues, "latitude", IssueKind::OutOfRange);

    let (record, issues) = accepted(&row_with(&[
        ("latitude", json!(0)),
        ("longitude", json!(0)),
    ]));
    assert_eq!(record.longitude_micro, None);
    find(&issues, "latitude", IssueKind::OutOfRange);

    // Swapped in the source: swapped back, with a warning.
    let (record, issues) = accepted(&row_with(&[
        ("latitude", json!(4.0317)),
        ("longitude", json!(49.2583)),
    ]));
    assert_eq!(
        (record.latitude_micro, record.longitude_micro),
        (Some(49_258_300), Some(4_031_700))
    );
    assert_eq!(
        find(&issues, "latitude", IssueKind::Normalised).severity,
        Severity::Warning
    );

    // Far from the département: kept, flagged.
    let (record, issues) = accepted(&row_with(&[
        ("latitude", json!(43.52609)),
        ("longitude", json!(5.41423)),
    ]));
    assert_eq!(record.latitude_micro, Some(43_526_090));
    assert!(
        find(&issues, "latitude", IssueKind::Implausible)
            .reason
            .contains("km du département 51")
    );

    let (record, issues) = accepted(&row_with(&[
        ("latitude", json!("nord")),
        ("longitude", json!(4.0)),
    ]));
    assert_eq!(record.latitude_micro, None);
    find(&issues, "latitude", IssueKind::Malformed);
}

#[test]
fn opening_hours() {
    let (record, issues) = accepted(&row_with(&[(
        "horaires",
        json!("week 1-53/2 Tu 09:00-12:30,13:30-15:30; PH off"),
    )]));
    assert_eq!(
        record.horaires,
        "week 1-53/2 Tu 09:00-12:30,13:30-15:30; PH off"
    );
    assert!(issues.is_empty());
    for bad in [
        "Mo 09:00-12:30-13:45",
        "<ul><li>lundi 9h-12h</li></ul>",
        "du lundi au vendredi de 9h à 17h",
    ] {
        let (record, issues) = accepted(&row_with(&[("horaires", json!(bad))]));
        assert!(record.horaires.is_empty());
        let w = find(&issues, "horaires", IssueKind::Malformed);
        assert_eq!(w.severity, Severity::Warning);
        assert!(w.reason.contains("opening_hours"), "{}", w.reason);
    }
}

#[test]
fn presentation_resume_longer_than_280_characters() {
    let long = "é".repeat(300);
    let (record, issues) = accepted(&row_with(&[("presentation_resume", json!(long))]));
    assert!(record.presentation_resume.is_empty());
    assert_eq!(record.presentation_detail, long);
    find(&issues, "presentation_resume", IssueKind::Moved);

    let (record, issues) = accepted(&row_with(&[
        ("presentation_resume", json!(long)),
        ("presentation_detail", json!("Détail")),
    ]));
    assert!(record.presentation_resume.is_empty());
    assert_eq!(record.presentation_detail, "Détail");
    find(&issues, "presentation_resume", IssueKind::TooLong);

    let exact = "a".repeat(280);
    assert_eq!(
        accepted(&row_with(&[("presentation_resume", json!(exact))]))
            .0
            .presentation_resume,
        exact
    );
}

#[test]
fn known_defects_are_normalised_without_warnings() {
    let row = row_with(&[
        (
            "services",
            json!(
                " Comprehension du monde numérique |maîtrise des outils numériques du quotidien;Compréhension du monde numérique"
            ),
        ),
        ("formations_labels", json!("Étapes numériques (La Poste)")),
        (
            "modalites_acces",
            json!("Ce lieu n’accueille pas de public"),
        ),
        ("nom", json!("  MÃ©diathÃ¨que\u{a0}\u{a0}municipale ")),
        ("adresse", json!("Place de l’Église")),
        ("typologie", json!("tiers-lieux|asso")),
    ]);
    let (record, issues) = accepted(&row);
    assert!(warnings(&issues).is_empty(), "{issues:#?}");
    assert_eq!(
        record.services,
        [
            "Maîtrise des outils numériques du quotidien",
            "Compréhension du monde numérique"
        ]
    );
    assert_eq!(record.formations_labels, ["Étapes numériques(La Poste)"]);
    assert_eq!(
        record.modalites_acces,
        ["Ce lieu n'accueille pas de public"]
    );
    assert_eq!(record.nom, "Médiathèque municipale");
    assert_eq!(record.adresse, "Place de l’Église");
    assert_eq!(record.typologie, ["ASSO", "TIERS_LIEUX"]);
}

#[test]
fn unknown_vocabulary_values_are_dropped_with_a_warning_naming_them() {
    let row = row_with(&[
        (
            "services",
            json!("Aide aux démarches administratives|Danse contemporaine"),
        ),
        ("typologie", json!("EPN|XYZ")),
        ("itinerance", json!("Itinérant|Volant")),
    ]);
    let (record, issues) = accepted(&row);
    assert_eq!(record.services, ["Aide aux démarches administratives"]);
    assert_eq!(record.typologie, ["EPN"]);
    assert_eq!(record.itinerance, ["Itinérant"]);
    let w = find(&issues, "services", IssueKind::UnknownValue);
    assert_eq!(w.value, "Danse contemporaine");
    assert!(
        w.reason.starts_with(
            "\"Danse contemporaine\" n'est pas dans le vocabulaire v1 de services : écarté \
             (attendu : l'une de Aide aux"
        ),
        "{}",
        w.reason
    );
    assert_eq!(
        find(&issues, "typologie", IssueKind::UnknownValue).value,
        "XYZ"
    );
    assert_eq!(
        find(&issues, "itinerance", IssueKind::UnknownValue).value,
        "Volant"
    );
}

#[test]
fn v0_values_and_columns_are_mapped_and_voucher_declarations_kept() {
    let row = row_with(&[
        (
            "services",
            json!(
                "Prendre en main un ordinateur;Utiliser le numérique au quotidien|Aide aux démarches administratives"
            ),
        ),
        (
            "publics_accueillis",
            json!("Seniors (+ 65 ans);Surdité;Adultes;Uniquement femmes"),
        ),
        (
            "conditions_acces",
            json!(
                "Gratuit : Je peux accéder gratuitement au lieu et à ses services;Accepte le Pass numérique : Il est possible d'utiliser un Pass numérique pour accéder au lieu"
            ),
        ),
        (
            "labels_nationaux",
            json!("CNFS;APTIC;Fabriques de Territoire;Relais pôle emploi"),
        ),
        ("labels_autres", json!("SudLabs")),
        (
            "modalites_accompagnement",
            json!("A ma place : une personne habilitée fait les démarches à ma place;En autonomie"),
        ),
    ]);
    let RowOutcome::Accepted {
        record,
        warnings: issues,
        declares_pass_numerique,
        ..
    } = &row.outcome
    else {
        panic!()
    };
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
        ["Seniors", "Femmes"]
    );
    assert_eq!(record.prise_en_charge_specifique, ["Surdité"]);
    assert_eq!(record.frais_a_charge, ["Gratuit"]);
    assert_eq!(
        record.dispositif_programmes_nationaux,
        ["Conseillers numériques"]
    );
    assert_eq!(record.formations_labels, ["Fabriques de Territoire"]);
    assert_eq!(
        record.autres_formations_labels,
        "SudLabs|Relais pôle emploi"
    );
    assert_eq!(
        record.modalites_accompagnement,
        ["En autonomie", "Accompagnement individuel"]
    );
    let declarations: Vec<&str> = issues
        .iter()
        .filter(|i| i.kind == IssueKind::VoucherDeclaration)
        .map(|i| i.field.as_str())
        .collect();
    assert_eq!(declarations, ["conditions_acces", "labels_nationaux"]);
    assert!(
        issues.iter().all(|i| i.kind != IssueKind::UnknownValue),
        "{issues:#?}"
    );
}

/// The alternatives of a schema pattern `(?:(?:^|SEP)(A|B|C))+$`.
fn pattern_values(pattern: &str) -> Vec<String> {
    let start = pattern.find(")(").map(|i| i + 2).unwrap();
    let body = &pattern[start..pattern.len() - "))+$".len()];
    let mut out = Vec::new();
    let mut depth = 0;
    let mut current = String::new();
    let mut chars = body.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => current.extend(chars.next()),
            '(' => {
                depth += 1;
                current.push(c);
            }
            ')' => {
                depth -= 1;
                current.push(c);
            }
            '|' if depth == 0 => out.push(std::mem::take(&mut current)),
            _ => current.push(c),
        }
    }
    out.push(current);
    out
}

fn schema_fields(file: &str) -> Vec<(String, Vec<String>)> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/data/schemas/lieux-mediation-numerique")
        .join(file);
    let schema: Value =
        serde_json::from_slice(&std::fs::read(path).expect("the schema must exist")).unwrap();
    schema["fields"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|f| {
            let pattern = f["constraints"]["pattern"].as_str()?;
            pattern.contains("(?:^|").then(|| {
                (
                    f["name"].as_str().unwrap().to_owned(),
                    pattern_values(pattern),
                )
            })
        })
        .collect()
}

#[test]
fn every_v1_literal_of_the_schema_is_accepted_as_is() {
    let fields = schema_fields("schema.json");
    assert_eq!(fields.len(), 9);
    for (field, values) in fields {
        let vf = VocabField::ALL
            .into_iter()
            .find(|v| v.name() == field)
            .unwrap();
        assert_eq!(
            vf.values(),
            values.iter().map(String::as_str).collect::<Vec<_>>(),
            "{field}"
        );
        let row = row_with(&[(field.as_str(), json!(values.join("|")))]);
        let (record, issues) = accepted(&row);
        assert!(issues.is_empty(), "{field}: {issues:#?}");
        let exported = maillage_venues::v1_cells(&record);
        let index = maillage_venues::V1_FIELDS
            .iter()
            .position(|f| *f == field)
            .unwrap();
        assert_eq!(exported[index], values.join("|"), "{field}");
    }
}

const VOCABULARY_CELLS: [&str; 11] = [
    "typologie",
    "itinerance",
    "services",
    "publics_specifiquement_adresses",
    "prise_en_charge_specifique",
    "frais_a_charge",
    "dispositif_programmes_nationaux",
    "formations_labels",
    "autres_formations_labels",
    "modalites_acces",
    "modalites_accompagnement",
];

#[test]
fn every_v0_value_of_the_schema_maps_to_v1() {
    let fields = schema_fields("schema-v0.1.1.json");
    assert_eq!(fields.len(), 5);
    for (field, values) in fields {
        for value in values {
            let row = row_with(&[(field.as_str(), json!(value))]);
            let RowOutcome::Accepted {
                record,
                warnings,
                declares_pass_numerique,
                ..
            } = &row.outcome
            else {
                panic!()
            };
            assert!(
                warnings.iter().all(|i| i.kind != IssueKind::UnknownValue),
                "{field} {value}: {warnings:#?}"
            );
            let cells = maillage_venues::v1_cells(record);
            let kept = maillage_venues::V1_FIELDS
                .iter()
                .zip(&cells)
                .any(|(name, cell)| VOCABULARY_CELLS.contains(name) && !cell.is_empty());
            let noted = warnings.iter().any(|i| {
                matches!(
                    i.kind,
                    IssueKind::Unsupported | IssueKind::VoucherDeclaration
                )
            });
            assert!(kept || noted, "{field} {value} vanished");
            assert_eq!(
                *declares_pass_numerique,
                value.contains("Pass numérique") || value == "APTIC",
                "{value}"
            );
        }
    }
}

#[test]
fn duplicate_ids_are_rejected_after_the_first() {
    let rows = json!([
        base(),
        base(),
        {"id": "lieu-2", "pivot": "43493312300029", "nom": "B", "commune": "Reims", "code_postal": "51100", "adresse": "x", "date_maj": "2024-01-01"},
        42,
    ]);
    let batch = parse(
        &serde_json::to_vec(&rows).unwrap(),
        InputFormat::Auto,
        &ImportOptions::default(),
    )
    .unwrap();
    assert!(batch.rows[0].is_accepted());
    let issues = rejected(&batch.rows[1]);
    let dup = find(&issues, "id", IssueKind::Duplicate);
    assert_eq!(
        dup.reason,
        "l'id \"lieu-1\" est déjà pris par un enregistrement précédent (objet 1) ; les id \
         doivent être uniques"
    );
    assert!(batch.rows[2].is_accepted());
    assert!(
        rejected(&batch.rows[3])[0]
            .reason
            .contains("attendu : un objet JSON")
    );
}

#[test]
fn csv_files_semicolons_line_numbers_and_latin1() {
    let csv = "id;pivot;nom;commune;code_postal;adresse;date_maj;presentation_detail;telephone\n\
               a;43493312300029;Lieu A;Reims;51100;1 rue A;2024-01-01;\"deux\nlignes\";03 26 00 00 00\n\
               ;;;;;;;;\n\
               b;bad;Lieu B;Reims;51100;1 rue B;2024-01-01;;\n";
    let batch = parse(csv.as_bytes(), InputFormat::Auto, &ImportOptions::default()).unwrap();
    assert_eq!(batch.format, InputFormat::CsvV1);
    assert_eq!(batch.rows.len(), 2, "the blank record is skipped");
    assert_eq!(batch.rows[0].location, RowLocation::Line(2));
    assert_eq!(batch.rows[1].location, RowLocation::Line(5));
    let (record, _) = accepted(&batch.rows[0]);
    assert_eq!(record.presentation_detail, "deux\nlignes");
    assert_eq!(record.telephone, ["+33326000000"]);
    find(&rejected(&batch.rows[1]), "pivot", IssueKind::Malformed);
    assert!(batch.notes.iter().any(|n| n.contains("vide")));

    let latin1 = b"id,pivot,nom,commune,code_postal,adresse,date_maj\nx,43493312300029,M\xe9diath\xe8que,Reims,51100,Place de l'\xc9glise,2024-01-01\n";
    let batch = parse(latin1, InputFormat::Auto, &ImportOptions::default()).unwrap();
    assert_eq!(accepted(&batch.rows[0]).0.nom, "Médiathèque");
    assert!(batch.notes.iter().any(|n| n.contains("Windows-1252")));

    // A file without some required columns: every row says which column is absent.
    let batch = parse(
        b"id,nom\nx,Lieu\n",
        InputFormat::CsvV1,
        &ImportOptions::default(),
    )
    .unwrap();
    assert_eq!(
        find(&rejected(&batch.rows[0]), "pivot", IssueKind::Missing).reason,
        "obligatoire dans le standard, mais le fichier n'a pas de colonne pivot"
    );

    // Extra cells: a warning, the row kept.
    let batch = parse(b"id,pivot,nom,commune,code_postal,adresse,date_maj\nx,43493312300029,N,Reims,51100,1 rue,2024-01-01,oops\n", InputFormat::CsvV1, &ImportOptions::default()).unwrap();
    find(
        &accepted(&batch.rows[0]).1,
        "(record)",
        IssueKind::Malformed,
    );
}

#[test]
fn whole_file_errors() {
    let opts = ImportOptions::default();
    assert_eq!(parse(b"", InputFormat::Auto, &opts), Err(FileError::Empty));
    assert_eq!(
        parse(b" \n\t", InputFormat::Json, &opts),
        Err(FileError::Empty)
    );
    assert!(matches!(
        parse(b"[{\"id\": 1,", InputFormat::Auto, &opts),
        Err(FileError::InvalidJson { .. })
    ));
    assert_eq!(
        parse(b"{\"id\": 1}", InputFormat::Auto, &opts),
        Err(FileError::NotJsonArray { found: "un objet" })
    );
    assert!(matches!(
        parse(b"foo,bar\n1,2\n", InputFormat::Auto, &opts),
        Err(FileError::UnrecognizedHeader { .. })
    ));
    assert!(matches!(
        parse(b"id,nom\n1,2\n", InputFormat::MednumBfcCsv, &opts),
        Err(FileError::LayoutMismatch { .. })
    ));
    assert!(matches!(
        parse(b"id,nom\n1,2\n", InputFormat::Json, &opts),
        Err(FileError::InvalidJson { .. })
    ));
    // An empty array is a valid, empty file.
    assert!(
        parse(b"[]", InputFormat::Auto, &opts)
            .unwrap()
            .rows
            .is_empty()
    );
}

#[test]
fn mednum_bfc_layout_rows_say_what_is_missing() {
    let csv = "bfc_id,lon,lat,adresse,code_postal,ville,departement,nom_structure,url_lieu,contact_email,contact_tel,code_typo,code_label,horaires\n\
               mednumBFC_TL_1_,5.049559,47.364205,38 Avenue Françoise Giroud,21000,DIJON,21,Onlineformapro,www.onlineformapro.com,,03 84 76 90 83,O,APTIC,\"<ul><li>- lundi matin: 8h30-12h</li></ul>\"\n";
    let batch = parse(csv.as_bytes(), InputFormat::Auto, &ImportOptions::default()).unwrap();
    assert_eq!(batch.format, InputFormat::MednumBfcCsv);
    let issues = rejected(&batch.rows[0]);
    let errors: Vec<&str> = issues
        .iter()
        .filter(|i| i.severity == Severity::Error)
        .map(|i| i.field.as_str())
        .collect();
    assert_eq!(errors, ["pivot", "date_maj"]);
    assert!(
        find(&issues, "pivot", IssueKind::Missing)
            .reason
            .contains("MedNum BFC layout has no pivot column")
    );
    find(&issues, "code_label", IssueKind::VoucherDeclaration);
    assert!(
        find(&issues, "horaires", IssueKind::Normalised)
            .reason
            .contains("Mo 08:30-12:00")
    );

    // With the two missing columns added, the same layout is accepted.
    let csv = "bfc_id,lon,lat,adresse,code_postal,ville,departement,nom_structure,pivot,date_maj,code_label\n\
               x,5.049559,47.364205,38 Avenue Françoise Giroud,21000,DIJON,25,Onlineformapro,43493312300029,2020-05-16,APTIC-MFS\n";
    let batch = parse(csv.as_bytes(), InputFormat::Auto, &ImportOptions::default()).unwrap();
    let RowOutcome::Accepted {
        record,
        warnings,
        declares_pass_numerique,
        departement,
    } = &batch.rows[0].outcome
    else {
        panic!("{:?}", batch.rows[0])
    };
    assert!(declares_pass_numerique);
    assert_eq!(departement, "21");
    assert_eq!(record.typologie, ["RFS"]);
    assert_eq!(record.dispositif_programmes_nationaux, ["France Services"]);
    assert_eq!(
        (record.latitude_micro, record.longitude_micro),
        (Some(47_364_205), Some(5_049_559))
    );
    find(warnings, "departement", IssueKind::Inconsistent);
}

/// Technicians read the import's diagnostics in French; `--lang en` (or `MAILLAGE_LANG=en`)
/// gives English. Only the sentences change: the field, kind, status and value stay.
#[test]
fn issues_read_in_french_by_default_and_in_english_on_request() {
    use maillage_core::lang::{self, Lang};
    let postal = || {
        let row = row_with(&[("code_postal", json!("743")), ("code_insee", Value::Null)]);
        find(&rejected(&row), "code_postal", IssueKind::Malformed).clone()
    };
    let fr = postal();
    assert_eq!(fr.reason, "attendu : 5 chiffres, trouvé : \"743\"");
    let en = lang::with(Lang::En, postal);
    assert_eq!(en.reason, "expected 5 digits, found \"743\"");
    assert_eq!(
        (&en.field, en.kind, en.severity, &en.value),
        (&fr.field, fr.kind, fr.severity, &fr.value)
    );
    assert_eq!(en.kind.label(), "malformed");

    let missing = || rejected(&row_with(&[("pivot", Value::Null)]));
    let reason = |issues: &[FieldIssue]| find(issues, "pivot", IssueKind::Missing).reason.clone();
    assert_eq!(
        reason(&missing()),
        "obligatoire dans le standard, mais absent ou vide"
    );
    assert_eq!(
        reason(&lang::with(Lang::En, missing)),
        "required by the standard, but missing or empty"
    );

    let empty = || parse(b"  \n", InputFormat::Auto, &ImportOptions::default()).unwrap_err();
    assert_eq!(empty().to_string(), "le fichier est vide");
    assert_eq!(
        lang::with(Lang::En, || empty().to_string()),
        "the file is empty"
    );
}
