//! The mapping format, feature by feature, and every refusal of a mapping file.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use super::*;
use crate::{
    FileError, ImportBatch, ImportOptions, InputFormat, IssueKind, RowOutcome, Severity,
    VenueRecord, parse, parse_mapped,
};

/// The standard's required fields, from columns named otherwise.
const BASE: &str = r#"
name = "test"
[columns]
code = "id"
siret = "pivot"
nom_lieu = "nom"
ville = "commune"
cp = "code_postal"
rue = "adresse"
maj = "date_maj"
"#;

const BASE_HEADER: &str = "code,siret,nom_lieu,ville,cp,rue,maj";
const BASE_ROW: &str = "L1,43493312300029,Le Lieu,Dijon,21000,1 rue X,2024-01-02";

fn mapping(extra: &str) -> Mapping {
    Mapping::from_toml(&format!("{BASE}{extra}")).unwrap_or_else(|e| panic!("{e}"))
}

fn import(m: &Mapping, header: &str, row: &str) -> ImportBatch {
    let csv = format!("{BASE_HEADER},{header}\n{BASE_ROW},{row}\n");
    parse_mapped(csv.as_bytes(), m, &ImportOptions::default()).unwrap()
}

fn record(batch: &ImportBatch) -> &VenueRecord {
    match &batch.rows[0].outcome {
        RowOutcome::Accepted { record, .. } => record,
        RowOutcome::Rejected { issues } => panic!("rejected: {issues:?}"),
    }
}

fn error(text: &str) -> String {
    match Mapping::from_toml(text) {
        Ok(_) => panic!("accepted:\n{text}"),
        Err(e) => e.to_string(),
    }
}

fn usage<'a>(batch: &'a ImportBatch, column: &str) -> &'a ColumnUsage {
    &batch
        .columns
        .iter()
        .find(|c| c.column == column)
        .unwrap_or_else(|| panic!("no column {column}"))
        .usage
}

// ---------------------------------------------------------------------------------------------
// Features

#[test]
fn shipped_mappings_parse() {
    for shipped in SHIPPED_MAPPINGS {
        let m = Mapping::shipped(shipped.name).unwrap_or_else(|e| panic!("{}: {e}", shipped.name));
        assert_eq!(m.name(), shipped.name);
        assert!(!m.required_columns().is_empty());
        assert!(shipped.toml.len() <= MAPPING_BYTES_MAX);
    }
    assert_eq!(
        Mapping::shipped("mednum-bfc").unwrap().format(),
        InputFormat::MednumBfcCsv
    );
    assert_eq!(
        Mapping::shipped("france-services").unwrap().format(),
        InputFormat::Mapped
    );
    let e = Mapping::shipped("inconnue").unwrap_err().to_string();
    assert!(e.contains("mednum-bfc, france-services"), "{e}");
}

#[test]
fn renames_columns_and_reports_them() {
    let m = mapping("[ignore]\ninterne = \"notes du hub\"\n");
    let batch = import(&m, "interne,autre", "secret,x");
    let r = record(&batch);
    assert_eq!(
        (r.id.as_str(), r.nom.as_str(), r.date_maj.as_str()),
        ("L1", "Le Lieu", "2024-01-02")
    );
    assert_eq!(batch.mapping.as_deref(), Some("test"));
    assert_eq!(batch.format, InputFormat::Mapped);
    assert_eq!(
        usage(&batch, "nom_lieu"),
        &ColumnUsage::Mapped {
            fields: vec!["nom".into()],
            via: MappedVia::Rename
        }
    );
    assert_eq!(
        usage(&batch, "interne"),
        &ColumnUsage::Ignored {
            reason: "notes du hub".into()
        }
    );
    assert_eq!(usage(&batch, "autre"), &ColumnUsage::Unknown);
}

#[test]
fn column_names_ignore_case_and_spaces() {
    let m = Mapping::from_toml(&BASE.replace("nom_lieu", "\" Nom_Lieu \"")).unwrap();
    let batch = import(&m, "x", "y");
    assert_eq!(record(&batch).nom, "Le Lieu");
}

#[test]
fn prefixes_and_extracts() {
    let m = Mapping::from_toml(
        &BASE
            .replace(
                "code = \"id\"",
                "code = { field = \"id\", prefix = \"fs-\" }",
            )
            .replace(
                "maj = \"date_maj\"",
                "maj = { field = \"date_maj\", extract = '(\\d{2}/\\d{2}/\\d{4})' }",
            ),
    )
    .unwrap();
    let csv = format!(
        "{BASE_HEADER}\n{}\nL2,43493312300029,B,Dijon,21000,1 rue X,Sans date\n",
        BASE_ROW.replace("2024-01-02", "Espace labellisé 15/01/2021")
    );
    let batch = parse_mapped(csv.as_bytes(), &m, &ImportOptions::default()).unwrap();
    let r = record(&batch);
    assert_eq!(
        (r.id.as_str(), r.date_maj.as_str()),
        ("fs-L1", "2021-01-15")
    );
    // Without a match the cell is kept, and the standard's check quotes it.
    let RowOutcome::Rejected { issues } = &batch.rows[1].outcome else {
        panic!("accepted")
    };
    let date = issues.iter().find(|i| i.field == "date_maj").unwrap();
    assert_eq!(
        (date.kind, date.value.as_str()),
        (IssueKind::Malformed, "Sans date")
    );
}

#[test]
fn translates_values_through_tables() {
    let m = mapping(
        r#"
[columns.types]
field = "typologie"
split = "-"
unlisted = "drop"
values.F = { value = "FABLAB", label = "fabrication" }
values.X = { label = "ancien code", drop = "plus utilisé" }
values.MFS = { set = { typologie = "RFS", dispositif_programmes_nationaux = "France Services" } }
[columns.labels]
field = "autres_formations_labels"
split = "/"
values.A = { declares = "aptic" }
values.P = { declares = "pass_numerique" }
values."Réseau local" = "Réseau du pays"
[columns.bus]
field = "itinerance"
values = { oui = "Itinérant", non = "Fixe" }
"#,
    );
    let batch = import(
        &m,
        "types,labels,bus",
        "f-X-MFS-Z,A / réseau LOCAL / Autre,OUI",
    );
    let r = record(&batch);
    assert_eq!(r.typologie, ["FABLAB", "RFS"]);
    assert_eq!(r.dispositif_programmes_nationaux, ["France Services"]);
    assert_eq!(r.autres_formations_labels, "Réseau du pays|Autre");
    assert_eq!(r.itinerance, ["Itinérant"]);
    let issues = batch.rows[0].issues();
    let find = |field: &str, value: &str| {
        issues
            .iter()
            .find(|i| i.field == field && i.value == value)
            .unwrap_or_else(|| panic!("no issue {field} {value}: {issues:#?}"))
    };
    assert_eq!(find("types", "f").kind, IssueKind::Mapped);
    assert!(find("types", "f").reason.contains("fabrication"));
    assert_eq!(find("types", "X").kind, IssueKind::Unsupported);
    assert!(find("types", "X").reason.contains("plus utilisé"));
    assert_eq!(find("types", "Z").kind, IssueKind::Unsupported);
    assert_eq!(find("labels", "A").kind, IssueKind::VoucherDeclaration);
    assert_eq!(find("labels", "Autre").kind, IssueKind::Mapped);
    let RowOutcome::Accepted {
        declares_pass_numerique,
        ..
    } = batch.rows[0].outcome
    else {
        panic!()
    };
    assert!(declares_pass_numerique);
    assert_eq!(
        usage(&batch, "types"),
        &ColumnUsage::Mapped {
            fields: vec!["typologie".into(), "dispositif_programmes_nationaux".into()],
            via: MappedVia::Values
        }
    );

    let batch = import(&m, "types,labels,bus", ",P,");
    let issue = batch.rows[0]
        .issues()
        .iter()
        .find(|i| i.field == "labels")
        .unwrap();
    assert!(issue.reason.contains("Pass numérique"), "{issue}");
}

#[test]
fn joins_columns() {
    let m = Mapping::from_toml(&format!(
        "{}\n[[join]]\nfield = \"adresse\"\ncolumns = [\"num\", \"voie\"]\n\
         [[join]]\nfield = \"presentation_detail\"\ncolumns = [\"a\", \"b\", \"c\"]\nseparator = \" — \"\n",
        BASE.replace("rue = \"adresse\"\n", "")
    ))
    .unwrap();
    let csv = "code,siret,nom_lieu,ville,cp,maj,num,voie,a,b,c\n\
               L1,43493312300029,N,Dijon,21000,2024-01-02,12, rue X ,un,,trois\n";
    let batch = parse_mapped(csv.as_bytes(), &m, &ImportOptions::default()).unwrap();
    let r = record(&batch);
    assert_eq!(r.adresse, "12 rue X");
    assert_eq!(r.presentation_detail, "un — trois");
    assert_eq!(
        usage(&batch, "voie"),
        &ColumnUsage::Mapped {
            fields: vec!["adresse".into()],
            via: MappedVia::Join
        }
    );
}

#[test]
fn assembles_opening_hours_from_day_columns() {
    let m = mapping("[hours.days]\nlundi = \"h_lun\"\nTu = \"h_mar\"\nsamedi = \"h_sam\"\n");
    let batch = import(
        &m,
        "h_lun,h_mar,h_sam",
        "09:00 - 12:00 / 13:30 - 17:00,9h-12h et 13h30-17h,",
    );
    assert_eq!(record(&batch).horaires, "Mo-Tu 09:00-12:00,13:30-17:00");
    let note = batch.rows[0]
        .issues()
        .iter()
        .find(|i| i.field == "horaires")
        .unwrap();
    assert_eq!(
        (note.severity, note.kind),
        (Severity::Info, IssueKind::Normalised)
    );
    assert_eq!(
        usage(&batch, "h_sam"),
        &ColumnUsage::Mapped {
            fields: vec!["horaires".into()],
            via: MappedVia::Hours
        }
    );

    // One unreadable day: no hours rather than wrong ones.
    let batch = import(&m, "h_lun,h_mar,h_sam", "9h-12h,sur rendez-vous,");
    assert_eq!(record(&batch).horaires, "");
    let w = batch.rows[0]
        .issues()
        .iter()
        .find(|i| i.field == "horaires")
        .unwrap();
    assert_eq!(
        (w.severity, w.kind, w.value.as_str()),
        (Severity::Warning, IssueKind::Malformed, "sur rendez-vous")
    );
    assert!(w.reason.contains("h_mar"), "{w}");

    // Blank days: no hours, nothing said.
    let batch = import(&m, "h_lun,h_mar,h_sam", ",,");
    assert!(batch.rows[0].issues().iter().all(|i| i.field != "horaires"));
}

#[test]
fn converts_html_schedules() {
    let m = mapping("[columns.h]\nfield = \"horaires\"\nconvert = \"html_schedule\"\n");
    let batch = import(&m, "h", "\"<li>lundi matin: 9h-12h</li>\"");
    assert_eq!(record(&batch).horaires, "Mo 09:00-12:00");
    let batch = import(&m, "h", "Mo-Fr 10:00-12:00");
    assert_eq!(record(&batch).horaires, "Mo-Fr 10:00-12:00");
}

#[test]
fn adds_constants_after_the_columns() {
    let m = mapping(
        "web = \"site_web\"\nsrc = \"source\"\n[constants]\nservices = [\"Aide aux démarches administratives\", \
         \"Accès internet et matériel informatique\"]\nfrais_a_charge = \"Gratuit\"\nsource = \"Liste\"\n",
    );
    let batch = import(&m, "web,src", "https://a.fr,Hub");
    let r = record(&batch);
    assert_eq!(r.services.len(), 2);
    assert_eq!(r.frais_a_charge, ["Gratuit"]);
    // A single-valued field: the file's value wins over the constant.
    assert_eq!(r.source, "Hub");
    let m = mapping("[constants]\nsource = \"Liste\"\n");
    let batch = import(&m, "x", "y");
    assert_eq!(record(&batch).source, "Liste");
}

#[test]
fn states_a_departement() {
    let m = mapping("dep = \"departement\"\n");
    let batch = import(&m, "dep", "25");
    let warning = batch.rows[0]
        .issues()
        .iter()
        .find(|i| i.field == "departement")
        .unwrap();
    assert_eq!(warning.kind, IssueKind::Inconsistent);
}

#[test]
fn explains_missing_required_fields() {
    let text = BASE
        .replace("siret = \"pivot\"\n", "")
        .replace("maj = \"date_maj\"\n", "");
    let m = Mapping::from_toml(&format!(
        "{text}[absent]\npivot = \"la source n'a pas de SIRET\"\n"
    ))
    .unwrap();
    let batch = import(&m, "x", "y");
    let RowOutcome::Rejected { issues } = &batch.rows[0].outcome else {
        panic!()
    };
    let reason = |field: &str| {
        issues
            .iter()
            .find(|i| i.field == field && i.kind == IssueKind::Missing)
            .unwrap()
            .reason
            .clone()
    };
    assert!(reason("pivot").contains("la source n'a pas de SIRET"));
    assert!(reason("date_maj").contains("la correspondance test lit dans date_maj"));
    assert!(
        batch
            .notes
            .iter()
            .any(|n| n.starts_with("toutes les lignes sont rejetées"))
    );
}

#[test]
fn reads_standard_columns_only_when_asked() {
    let batch = import(&mapping(""), "code_insee,cle_ban", "21231,x");
    assert_eq!(record(&batch).code_insee, "");
    assert_eq!(usage(&batch, "code_insee"), &ColumnUsage::Unknown);
    let m = Mapping::from_toml(&format!("standard_columns = true\n{BASE}")).unwrap();
    let batch = import(&m, "code_insee,cle_ban", "21231,x");
    assert_eq!(record(&batch).code_insee, "21231");
    assert_eq!(
        usage(&batch, "code_insee"),
        &ColumnUsage::Mapped {
            fields: vec!["code_insee".into()],
            via: MappedVia::Standard
        }
    );
    assert!(matches!(
        usage(&batch, "cle_ban"),
        ColumnUsage::Ignored { .. }
    ));
}

#[test]
fn requires_its_key_columns_and_is_detected_by_them() {
    let m =
        Mapping::from_toml(&format!("required_columns = [\"Code\", \"siret\"]\n{BASE}")).unwrap();
    assert_eq!(
        parse_mapped(b"code,nom\n1,2\n", &m, &ImportOptions::default()),
        Err(FileError::LayoutMismatch {
            layout: "test".into(),
            missing: "siret".into()
        })
    );
    let lacking = import(&m, "x", "y");
    assert!(
        lacking
            .notes
            .iter()
            .all(|n| !n.contains("manquent au fichier"))
    );
    // Shipped mappings are detected from their required columns.
    let fs = "id_fs,lib_fs,adresse\n1,France services X,1 rue Y\n";
    let batch = parse(fs.as_bytes(), InputFormat::Auto, &ImportOptions::default()).unwrap();
    assert_eq!(
        (batch.format, batch.mapping.as_deref()),
        (InputFormat::Mapped, Some("france-services"))
    );
    let batch = parse(
        fs.as_bytes(),
        InputFormat::Mapped,
        &ImportOptions::default(),
    )
    .unwrap();
    assert_eq!(batch.mapping.as_deref(), Some("france-services"));
    assert!(matches!(
        parse(
            b"id,nom\n1,2\n",
            InputFormat::Mapped,
            &ImportOptions::default()
        ),
        Err(FileError::NoMappingFits { .. })
    ));
    assert!(
        apply::lacking_columns(&mapping("[hours.days]\nlundi = \"h\"\n"), &["code".into()])
            .contains(&"h".to_owned())
    );
}

// ---------------------------------------------------------------------------------------------
// Refusals

#[test]
fn refuses_large_or_binary_files() {
    let big = format!("name = \"x\"\n#{}\n", "a".repeat(MAPPING_BYTES_MAX));
    assert!(matches!(
        Mapping::from_bytes(big.as_bytes()),
        Err(MappingError::TooLarge { .. })
    ));
    assert!(matches!(
        Mapping::from_bytes(b"name = \"x\xff\""),
        Err(MappingError::NotUtf8 { offset: 9 })
    ));
    assert!(
        Mapping::from_bytes("\u{feff}name = \"x\"\n[columns]\na = \"nom\"\n".as_bytes()).is_ok()
    );
}

#[test]
fn names_the_line_of_a_syntax_error() {
    let e = error("name = \"x\"\n\n[columns\na = \"nom\"\n");
    assert!(e.starts_with("ligne 3 :"), "{e}");
    let e = error("name = \"x\"\nnmae = \"y\"\n");
    assert!(e.starts_with("ligne 2 :") && e.contains("nmae"), "{e}");
    let e = error("name = \"x\"\n[columns.a]\nfield = \"nom\"\nsplitt = \"-\"\n");
    assert!(e.starts_with("ligne 4 :") && e.contains("splitt"), "{e}");
    let e = error("title = \"x\"\n");
    assert!(e.contains("name"), "{e}");
    let deep = format!(
        "name = \"x\"\nz = {}1{}\n",
        "[".repeat(5000),
        "]".repeat(5000)
    );
    assert!(error(&deep).starts_with("ligne 2"));
}

#[test]
fn never_echoes_long_inputs() {
    let key = "k".repeat(5000);
    let e = error(&format!("name = \"x\"\n[columns]\n{key} = \"nom\"\n"));
    assert!(e.len() < 400, "{e}");
    let e = error(&format!("name = \"x\"\n{key} = 1\n"));
    assert!(e.len() < 400, "{e}");
    let e = error(&format!(
        "name = \"x\"\n[columns]\na = \"{}\"\n",
        "v".repeat(5000)
    ));
    assert!(e.len() < 400, "{e}");
}

#[test]
fn refuses_unknown_fields_and_vocabulary_values() {
    let e = error("name = \"x\"\n[columns]\na = \"nam\"\n");
    assert!(
        e.starts_with("ligne 3, clé columns.a :") && e.contains("nam"),
        "{e}"
    );
    let e = error(
        "name = \"x\"\n[columns]\na = { field = \"typologie\", values = { F = \"FABLABB\" } }\n",
    );
    assert!(
        e.contains("columns.a.values.F") && e.contains("FABLABB"),
        "{e}"
    );
    let e = error("name = \"x\"\n[constants]\nfrais_a_charge = \"Gratos\"\n");
    assert!(e.contains("Gratuit, Gratuit sous condition, Payant"), "{e}");
    let e = error("name = \"x\"\n[columns.a]\nvalues.F = { set = { typo = \"RFS\" } }\n");
    assert!(e.contains("columns.a.values.F.set.typo"), "{e}");
    let e = error("name = \"X Y\"\n");
    assert!(e.contains("minuscules"), "{e}");
}

#[test]
fn refuses_a_column_read_twice() {
    let e = error("name = \"x\"\n[columns]\na = \"nom\"\n[ignore]\nA = \"doublon\"\n");
    assert!(e.starts_with("ligne 5") && e.contains("[columns]"), "{e}");
    let e = error("name = \"x\"\n[columns]\na = \"nom\"\n\"a \" = \"adresse\"\n");
    assert!(e.contains("déjà lue"), "{e}");
    let e = error("name = \"x\"\n[hours.days]\nlundi = \"h\"\nMo = \"h2\"\n");
    assert!(e.contains("déjà donné"), "{e}");
    let e = error(
        "name = \"x\"\n[columns.a]\nfield = \"nom\"\nvalues = { Oui = \"x\", oui = \"y\" }\n",
    );
    assert!(e.contains("la même valeur"), "{e}");
}

#[test]
fn refuses_rules_that_make_no_sense() {
    let cases = [
        ("[columns.a]\nsplit = \"-\"\n", "ni field ni values"),
        ("[columns.a]\nvalues.X = \"Fixe\"\n", "donnez field"),
        (
            "[columns.a]\nvalues.X = { set = { itinerance = \"Fixe\" } }\nunlisted = \"keep\"\n",
            "donnez field",
        ),
        (
            "[columns.a]\nfield = \"nom\"\nunlisted = \"maybe\"\n",
            "keep",
        ),
        (
            "[columns.a]\nvalues.X = { drop = \"non\", declares = \"aptic\" }\n",
            "drop",
        ),
        (
            "[columns.a]\nvalues.X = { declares = \"apticc\" }\n",
            "aptic",
        ),
        (
            "[columns.a]\nvalues.X = { label = \"seul\" }\n",
            "ne donne rien",
        ),
        (
            "[columns.a]\nfield = \"nom\"\nextract = \"(a\"\n",
            "expression régulière",
        ),
        (
            "[columns.a]\nfield = \"nom\"\nextract = \"a+\"\n",
            "exactement un groupe",
        ),
        (
            "[columns.a]\nfield = \"nom\"\nextract = \"(a{1000}){1000}\"\n",
            "trop grande",
        ),
        (
            "[columns.a]\nfield = \"nom\"\nconvert = \"html_schedule\"\n",
            "horaires",
        ),
        (
            "[columns.a]\nfield = \"horaires\"\nconvert = \"pdf\"\n",
            "html_schedule",
        ),
        (
            "[columns.a]\nvalues.X = { set = { nom = \"a\" } }\nprefix = \"p\"\n",
            "préfixe",
        ),
        ("[columns.a]\nfield = \"nom\"\nsplit = \"\"\n", "séparateur"),
        (
            "[columns]\na = { field = \"departement\", values = { X = \"21\" } }\n",
            "departement",
        ),
        ("[constants]\nid = \"x\"\n", "même id"),
        ("[constants]\nnom = [\"a\", \"b\"]\n", "qu'une valeur"),
        ("[constants]\nservices = []\n", "liste vide"),
        ("[constants]\nservices = { a = 1 }\n", "texte"),
        ("[absent]\nservices = \"x\"\n", "obligatoires"),
        ("[hours.days]\nlun = \"h\"\n", "n'est pas un jour"),
        ("[hours]\ndays = {}\n", "aucun jour"),
        (
            "[[join]]\nfield = \"adresse\"\ncolumns = [\"a\"]\n",
            "de 2 à",
        ),
        ("[ignore]\na = \" \"\n", "texte vide"),
    ];
    for (body, expected) in cases {
        let e = error(&format!("name = \"x\"\n{body}"));
        assert!(e.contains(expected), "{body}: {e}");
        assert!(e.starts_with("ligne "), "{body}: {e}");
    }
}

#[test]
fn bounds_the_number_of_entries() {
    let many: String = (0..300).map(|i| format!("c{i} = \"nom\"\n")).collect();
    let e = error(&format!("name = \"x\"\n[columns]\n{many}"));
    assert!(e.contains("plus de 256"), "{e}");
    let values: String = (0..1100).map(|i| format!("v{i} = \"Fixe\"\n")).collect();
    let e = error(&format!(
        "name = \"x\"\n[columns.a]\nfield = \"itinerance\"\n[columns.a.values]\n{values}"
    ));
    assert!(e.contains("plus de 1024"), "{e}");
    let joins: String = (0..70)
        .map(|i| format!("[[join]]\nfield = \"nom\"\ncolumns = [\"a{i}\", \"b{i}\"]\n"))
        .collect();
    let e = error(&format!("name = \"x\"\n{joins}"));
    assert!(e.contains("plus de 64"), "{e}");
}
