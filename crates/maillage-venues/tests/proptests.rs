//! Property tests: no input makes the importer panic, normalisation is idempotent, and
//! export → parse is the identity on valid records.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use maillage_venues::vocabulary::{
    DISPOSITIF_PROGRAMMES_NATIONAUX, FORMATIONS_LABELS, FRAIS_A_CHARGE, ITINERANCE,
    MODALITES_ACCES, MODALITES_ACCOMPAGNEMENT, PRISE_EN_CHARGE_SPECIFIQUE,
    PUBLICS_SPECIFIQUEMENT_ADRESSES, SERVICES, TYPOLOGIES,
};
use maillage_venues::{
    ImportOptions, InputFormat, Mapping, RowOutcome, SHIPPED_MAPPINGS, VenueRecord, export_csv_v1,
    parse, parse_mapped, validate_opening_hours,
};
use proptest::prelude::*;
use proptest::sample::{select, subsequence};
use serde_json::{Map, Value};

const FORMATS: [InputFormat; 6] = [
    InputFormat::Auto,
    InputFormat::CsvV1,
    InputFormat::CsvV0,
    InputFormat::Json,
    InputFormat::MednumBfcCsv,
    InputFormat::Mapped,
];

/// The France services list's header and one row.
const FRANCE_SERVICES: &str = "id_fs,insee_dep,lib_fs,adresse,insee_com,code_postal,lib_com,h_lundi,h_mardi,format_fs,labellisation_fs\n\
    1,21,France services X,1 rue Y,21231,21000,Dijon,09:00 - 12:00 / 14:00 - 17:00,9h-12h,Fixe,Espace labellisé 01/01/2020\n";

const HEADER: &str = "id,pivot,nom,commune,code_postal,code_insee,adresse,date_maj,latitude,longitude,telephone,courriels,site_web,horaires,services,publics_accueillis,conditions_acces,labels_nationaux,presentation_resume\n";

/// Exports, re-imports, and checks the records come back identical with only persistent
/// issues.
fn assert_round_trip(
    records: &[VenueRecord],
    expected_issues: &[Vec<maillage_venues::FieldIssue>],
) {
    let mut csv = Vec::new();
    export_csv_v1(records, &mut csv).unwrap();
    let again = parse(&csv, InputFormat::CsvV1, &ImportOptions::default()).unwrap();
    assert_eq!(again.rows.len(), records.len());
    for ((row, original), expected) in again.rows.iter().zip(records).zip(expected_issues) {
        match &row.outcome {
            RowOutcome::Accepted {
                record, warnings, ..
            } => {
                assert_eq!(record, original);
                assert_eq!(warnings, expected);
            }
            RowOutcome::Rejected { issues } => {
                panic!("re-import rejected {original:?}: {issues:#?}")
            }
        }
    }
}

// -- arbitrary input --------------------------------------------------------------------------

fn messy_value() -> impl Strategy<Value = String> {
    prop_oneof![
        ".{0,40}",
        select(vec![
            "",
            " ",
            "00000000000000",
            "43493312300029",
            "W751234567",
            "1234567001",
            "51100",
            "6000",
            "20000",
            "2A004",
            "98800",
            "63236",
            "51454",
            "1970-01-01",
            "02/04/2024",
            "2023-02-30",
            "03 84 76 90 83",
            "+33 (0)4 79 61 30 68",
            "44 57 28",
            "a@b.fr",
            "www.x.fr",
            "https://x.fr",
            "49,25",
            "4.03",
            "-22.3",
            "166.4",
            "0",
            "95",
            "Mo 09:00-12:30-13:45",
            "Mo-Fr 09:00-12:00",
            "week 1-53/2 Tu 09:00-12:00; PH off",
            "<ul><li>lundi</li></ul>",
            "MÃ©diathÃ¨que",
            "Comprehension du monde numérique",
            "Accéder à du matériel;Adultes",
            "APTIC|CNFS",
            "Accepte le Pass numérique",
            "Étapes numériques (La Poste)",
            "é|;|",
            "\u{a0}",
            "\"",
            ",",
        ])
        .prop_map(str::to_owned),
    ]
}

const KEYS: [&str; 24] = [
    "id",
    "pivot",
    "nom",
    "commune",
    "code_postal",
    "code_insee",
    "adresse",
    "date_maj",
    "latitude",
    "longitude",
    "telephone",
    "courriel",
    "courriels",
    "site_web",
    "horaires",
    "services",
    "publics_accueillis",
    "conditions_acces",
    "labels_nationaux",
    "typologie",
    "presentation_resume",
    "presentation_detail",
    "prise_rdv",
    "accessibilite",
];

/// A valid row with some fields replaced by messy values (or, sometimes, no base at all).
fn messy_object() -> impl Strategy<Value = Map<String, Value>> {
    (
        any::<bool>(),
        "[a-z0-9]{1,3}",
        prop::collection::vec((select(KEYS.to_vec()), messy_value()), 0..10),
    )
        .prop_map(|(with_base, id, pairs)| {
            let mut map = Map::new();
            if with_base {
                let base = [
                    ("id", id.as_str()),
                    ("pivot", "00000000000000"),
                    ("nom", "Lieu"),
                    ("commune", "Reims"),
                    ("code_postal", "51100"),
                    ("adresse", "1 rue"),
                    ("date_maj", "2024-01-01"),
                ];
                for (k, v) in base {
                    map.insert(k.to_owned(), Value::String(v.to_owned()));
                }
            }
            for (k, v) in pairs {
                map.insert(k.to_owned(), Value::String(v));
            }
            map
        })
}

/// Found by `normalisation_is_idempotent`: a broken sequence split by a character cleaning
/// removes was left broken by the first import and repaired by the second.
#[test]
fn a_broken_sequence_split_by_a_removed_character_is_repaired_on_the_first_import() {
    for nom in [
        "Lieu Æ\u{1}² x",
        "MÃ\u{200B}©diathÃ\u{AD}¨que",
        "Ã\u{7}\u{FEFF}© â€\u{2}™",
    ] {
        let json = serde_json::json!([{
            "id": "a1", "pivot": "00000000000000", "nom": nom, "commune": "Reims",
            "code_postal": "51100", "adresse": "1 rue", "date_maj": "2024-01-01",
        }]);
        let batch = parse(
            &serde_json::to_vec(&json).unwrap(),
            InputFormat::Json,
            &ImportOptions::default(),
        )
        .unwrap();
        let RowOutcome::Accepted {
            record, warnings, ..
        } = &batch.rows[0].outcome
        else {
            panic!("rejected: {:?}", batch.rows[0].outcome);
        };
        assert!(!record.nom.contains(['Ã', 'Æ', 'â']), "{:?}", record.nom);
        let persistent = warnings
            .iter()
            .filter(|i| i.kind.is_persistent())
            .cloned()
            .collect();
        assert_round_trip(std::slice::from_ref(record), &[persistent]);
    }
}

proptest! {
    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..600), f in 0usize..6) {
        let _ = parse(&bytes, FORMATS[f], &ImportOptions::default());
    }

    #[test]
    fn arbitrary_csv_bodies_never_panic(body in ".{0,400}", f in 0usize..6) {
        let text = format!("{HEADER}{body}");
        let _ = parse(text.as_bytes(), FORMATS[f], &ImportOptions::default());
        let bfc = format!("bfc_id,lon,lat,adresse,code_postal,ville,horaires,code_typo,code_label\n{body}");
        let _ = parse(bfc.as_bytes(), InputFormat::Auto, &ImportOptions::default());
        let fs = format!("{FRANCE_SERVICES}{body}");
        let _ = parse(fs.as_bytes(), InputFormat::Auto, &ImportOptions::default());
    }

    #[test]
    fn arbitrary_mapping_files_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..400), text in ".{0,400}") {
        let _ = Mapping::from_bytes(&bytes);
        let _ = Mapping::from_toml(&text);
    }

    /// A shipped mapping with a piece cut out and something else put in: refused with a
    /// message, or read and used, never a panic.
    #[test]
    fn mutated_mapping_files_never_panic(shipped in 0usize..2, at in 0usize..4000, cut in 0usize..40, insert in ".{0,20}") {
        let base = SHIPPED_MAPPINGS[shipped].toml;
        let mut at = at.min(base.len());
        while !base.is_char_boundary(at) {
            at -= 1;
        }
        let mut end = (at + cut).min(base.len());
        while !base.is_char_boundary(end) {
            end -= 1;
        }
        let text = format!("{}{insert}{}", &base[..at], &base[end..]);
        match Mapping::from_toml(&text) {
            Ok(mapping) => {
                let _ = parse_mapped(FRANCE_SERVICES.as_bytes(), &mapping, &ImportOptions::default());
            }
            Err(e) => prop_assert!(e.to_string().starts_with("ligne "), "{e}"),
        }
    }

    #[test]
    fn arbitrary_strings_never_panic_the_hours_validator(s in ".{0,80}") {
        let _ = validate_opening_hours(&s);
    }

    /// Whatever the input, an accepted record is a fixed point: exporting and re-importing it
    /// changes nothing and raises only the issues that describe the record itself.
    #[test]
    fn normalisation_is_idempotent(objects in prop::collection::vec(messy_object(), 1..6), territories in any::<bool>()) {
        let json = serde_json::to_vec(&Value::Array(objects.into_iter().map(Value::Object).collect())).unwrap();
        let options = if territories {
            ImportOptions::for_territories(["51", "988", "2A"]).unwrap()
        } else {
            ImportOptions::default()
        };
        let batch = parse(&json, InputFormat::Json, &options).unwrap();
        let mut records: Vec<VenueRecord> = Vec::new();
        let mut persistent = Vec::new();
        for row in &batch.rows {
            if let RowOutcome::Accepted { record, warnings, .. } = &row.outcome {
                records.push(record.clone());
                persistent.push(warnings.iter().filter(|i| i.kind.is_persistent()).cloned().collect());
            }
        }
        assert_round_trip(&records, &persistent);
    }
}

// -- valid records ----------------------------------------------------------------------------

/// A SIRET with a valid Luhn checksum.
fn siret() -> impl Strategy<Value = String> {
    "[1-9][0-9]{12}".prop_map(|body| {
        (0..10)
            .map(|check| format!("{body}{check}"))
            .find(|s| luhn(s))
            .unwrap()
    })
}

fn luhn(digits: &str) -> bool {
    let sum: u32 = digits
        .bytes()
        .rev()
        .enumerate()
        .map(|(i, b)| {
            let d = u32::from(b - b'0');
            if i % 2 == 1 {
                if d * 2 > 9 { d * 2 - 9 } else { d * 2 }
            } else {
                d
            }
        })
        .sum();
    sum.is_multiple_of(10)
}

fn words(max: usize) -> impl Strategy<Value = String> {
    prop::collection::vec("[A-Za-z0-9éèàçôÉÈ'’()/-]{1,10}", 1..max).prop_map(|w| w.join(" "))
}

fn lines() -> impl Strategy<Value = String> {
    prop::collection::vec(words(8), 0..4).prop_map(|l| l.join("\n"))
}

/// (postal code, INSEE code, latitude, longitude) that agree with each other.
const PLACES: [(&str, &str, f64, f64); 7] = [
    ("51100", "51454", 49.25, 4.03),
    ("13001", "13201", 43.30, 5.37),
    ("98800", "98818", -22.27, 166.44),
    ("97400", "97411", -20.88, 55.45),
    ("20000", "2A004", 41.92, 8.74),
    ("75001", "75101", 48.86, 2.34),
    ("01000", "01053", 46.20, 5.22),
];

const HOURS: [&str; 5] = [
    "Mo-Fr 09:00-12:00,14:00-18:30; Sa 08:30-12:00",
    "week 1-53/2 Tu 09:00-12:30,13:30-15:30; PH off",
    "24/7",
    "Tu-Fr 10:00-19:00; Sa 10:00-18:00; PH off",
    "Mo 10:00-12:00 \"sur rendez-vous\"",
];

#[allow(clippy::cast_possible_truncation)]
fn micro(deg: f64) -> i64 {
    (deg * 1e6).round() as i64
}

prop_compose! {
    fn place_and_contacts()(
        place in select(PLACES.to_vec()),
        with_insee in any::<bool>(),
        with_coordinates in any::<bool>(),
        dlat in -200_000i64..200_000,
        dlon in -200_000i64..200_000,
        telephone in prop::collection::vec("[1-9][0-9]{8}", 0..3),
        courriels in prop::collection::vec("[a-z]{1,8}\\.[a-z]{1,5}@[a-z]{1,8}\\.fr", 0..3),
        site_web in prop::collection::vec("https://www\\.[a-z]{1,10}\\.fr/[a-z]{0,5}", 0..3),
    ) -> (&'static str, String, Option<(i64, i64)>, Vec<String>, Vec<String>, Vec<String>) {
        let (postal, insee, lat, lon) = place;
        let insee = if with_insee || postal.starts_with("20") { insee.to_owned() } else { String::new() };
        let coordinates = with_coordinates.then(|| (micro(lat) + dlat, micro(lon) + dlon));
        let prefix = if postal.starts_with("988") { "+687" } else { "+33" };
        let telephone = telephone
            .into_iter()
            .map(|t| if prefix == "+687" { format!("+687{}", &t[..6]) } else { format!("+33{t}") })
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect();
        let dedup = |v: Vec<String>| v.into_iter().collect::<std::collections::BTreeSet<_>>().into_iter().collect();
        (postal, insee, coordinates, telephone, dedup(courriels), dedup(site_web))
    }
}

prop_compose! {
    fn vocabularies()(
        typologie in subsequence(TYPOLOGIES.to_vec(), 0..4),
        itinerance in subsequence(ITINERANCE.to_vec(), 0..=2),
        services in subsequence(SERVICES.to_vec(), 0..=9),
        publics in subsequence(PUBLICS_SPECIFIQUEMENT_ADRESSES.to_vec(), 0..=5),
        prise in subsequence(PRISE_EN_CHARGE_SPECIFIQUE.to_vec(), 0..=7),
        frais in subsequence(FRAIS_A_CHARGE.to_vec(), 0..=3),
        dispositifs in subsequence(DISPOSITIF_PROGRAMMES_NATIONAUX.to_vec(), 0..=11),
        formations in subsequence(FORMATIONS_LABELS.to_vec(), 0..=10),
        acces in subsequence(MODALITES_ACCES.to_vec(), 0..=6),
        accompagnement in subsequence(MODALITES_ACCOMPAGNEMENT.to_vec(), 0..=4),
    ) -> [Vec<String>; 10] {
        let own = |v: Vec<&str>| v.into_iter().map(str::to_owned).collect();
        [own(typologie), own(itinerance), own(services), own(publics), own(prise), own(frais),
         own(dispositifs), own(formations), own(acces), own(accompagnement)]
    }
}

prop_compose! {
    fn valid_record()(
        id in "[a-z0-9][a-z0-9-]{0,20}",
        pivot in prop_oneof![siret(), "W[0-9]{8}[1-9]"],
        nom in words(5),
        commune in words(3),
        adresse in words(6),
        complement in prop::option::of(words(4)),
        (postal, insee, coordinates, telephone, courriels, site_web) in place_and_contacts(),
        horaires in prop::option::of(select(HOURS.to_vec())),
        resume in prop::option::of(words(30)),
        detail in lines(),
        source in prop::option::of(words(3)),
        parente in prop::option::of(words(3)),
        date in (2000u32..2030, 1u32..=12, 1u32..=28),
        vocab in vocabularies(),
        autres in prop::collection::vec(words(3), 0..3),
        fiche in prop::option::of("https://acceslibre\\.beta\\.gouv\\.fr/app/[a-z0-9-]{1,20}/"),
        rdv in prop::option::of("https://rdv\\.[a-z]{1,8}\\.fr/"),
    ) -> VenueRecord {
        let [typologie, itinerance, services, publics, prise, frais, dispositifs, formations, acces, accompagnement] = vocab;
        VenueRecord {
            id,
            pivot,
            nom,
            commune,
            code_postal: postal.to_owned(),
            code_insee: insee,
            adresse,
            complement_adresse: complement.unwrap_or_default(),
            latitude_micro: coordinates.map(|c| c.0),
            longitude_micro: coordinates.map(|c| c.1),
            typologie,
            telephone,
            courriels,
            site_web,
            horaires: horaires.unwrap_or_default().to_owned(),
            presentation_resume: resume.unwrap_or_default().chars().take(280).collect::<String>().trim_end().to_owned(),
            presentation_detail: detail,
            source: source.unwrap_or_default(),
            itinerance,
            structure_parente: parente.unwrap_or_default(),
            date_maj: format!("{:04}-{:02}-{:02}", date.0, date.1, date.2),
            services,
            publics_specifiquement_adresses: publics,
            prise_en_charge_specifique: prise,
            frais_a_charge: frais,
            dispositif_programmes_nationaux: dispositifs,
            formations_labels: formations,
            autres_formations_labels: {
                let mut seen = std::collections::BTreeSet::new();
                autres.into_iter().filter(|a| seen.insert(a.clone())).collect::<Vec<_>>().join("|")
            },
            modalites_acces: acces,
            modalites_accompagnement: accompagnement,
            fiche_acces_libre: fiche.unwrap_or_default(),
            prise_rdv: rdv.unwrap_or_default(),
        }
    }
}

proptest! {
    /// Valid records survive export → parse unchanged and without a single issue.
    #[test]
    fn export_then_parse_is_the_identity(records in prop::collection::vec(valid_record(), 1..5)) {
        let mut seen = std::collections::BTreeSet::new();
        let records: Vec<VenueRecord> = records.into_iter().filter(|r| seen.insert(r.id.clone())).collect();
        let none = vec![Vec::new(); records.len()];
        assert_round_trip(&records, &none);
    }

    /// Generated well-formed opening hours are accepted.
    #[test]
    fn generated_opening_hours_are_valid(
        rules in prop::collection::vec((0usize..7, 0usize..7, 0u32..20, 1u32..5, any::<bool>()), 1..5),
        week in prop::option::of((1u32..27, 1u32..3)),
    ) {
        const DAYS: [&str; 7] = ["Mo", "Tu", "We", "Th", "Fr", "Sa", "Su"];
        let text: Vec<String> = rules
            .iter()
            .map(|&(a, b, start, len, off)| {
                let (a, b) = (a.min(b), a.max(b));
                let days = if a == b { DAYS[a].to_owned() } else { format!("{}-{}", DAYS[a], DAYS[b]) };
                if off { format!("{days} off") } else { format!("{days} {:02}:30-{:02}:00", start, start + len) }
            })
            .collect();
        let mut s = text.join("; ");
        if let Some((w, step)) = week {
            s = format!("week {w:02}-53/{step} {s}");
        }
        prop_assert_eq!(validate_opening_hours(&s), Ok(()), "{}", s);
    }
}
