//! The hub operator's first steps, run as a newcomer would, with the real binary and the real
//! venue exports of `tests/data/venues/`: found a federation of five hubs, import each
//! hub's file, verify, export, tamper, verify again.
#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};

mod common;

use common::{maillage, ok};

fn venues_dir() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/data/venues");
    assert!(
        dir.is_dir(),
        "the vendored venue exports are expected at {}",
        dir.display()
    );
    dir
}

/// (data dir, hub name, territories, file)
const HUBS: [(&str, &str, &str, &str); 5] = [
    (
        "hinaura",
        "Hinaura",
        "01,03,07,15,26,38,42,43,63,69,73,74",
        "hinaura-2022-v0.1.json",
    ),
    (
        "sud",
        "Hub du Sud",
        "04,05,06,13,83,84",
        "hub-du-sud-2023-05-17.json",
    ),
    (
        "na",
        "Hub Nouvelle-Aquitaine",
        "16,17,19,23,24,33,40,47,64,79,86,87",
        "charente-2023-07-11.json",
    ),
    (
        "nc",
        "Hub Nouvelle-Calédonie",
        "988",
        "nouvelle-caledonie-2024-03-20.json",
    ),
    (
        "bfc",
        "MedNum BFC",
        "21,25,39,58,70,71,89,90",
        "mednum-bfc-2020-05-16.csv",
    ),
];

fn count(report: &str, label: &str) -> usize {
    report
        .lines()
        .find_map(|l| {
            let mut words = l.split_whitespace();
            (words.next() == Some(label)).then(|| words.next().unwrap().parse().unwrap())
        })
        .unwrap_or_else(|| panic!("no {label:?} line in:\n{report}"))
}

#[test]
fn a_federation_of_five_hubs_imports_its_real_venue_maps() {
    let work = tempfile::tempdir().unwrap();
    let dir = work.path();
    let venues = venues_dir();

    // Each hub creates its key and sends the public key to the founders.
    let mut members = String::from(
        "name = \"Fédération des hubs du numérique inclusif\"\nadmission_threshold = 3\n",
    );
    for (data_dir, name, territories, _) in HUBS {
        let key = ok(dir, &["--data-dir", data_dir, "init"]);
        let key = key.trim();
        assert_eq!(key.len(), 64, "init prints the public key: {key}");
        let list: Vec<String> = territories.split(',').map(|t| format!("\"{t}\"")).collect();
        members.push_str(&format!(
            "\n[[members]]\nname = \"{name}\"\nkey = \"{key}\"\nrole = \"hub\"\nterritories = [{}]\n",
            list.join(", ")
        ));
    }
    let observer_key = ok(dir, &["--data-dir", "anct", "init"]);
    members.push_str(&format!(
        "\n[[members]]\nname = \"ANCT\"\nkey = \"{}\"\nrole = \"observer\"\n",
        observer_key.trim()
    ));
    std::fs::write(dir.join("members.toml"), members).unwrap();
    let created = ok(
        dir,
        &[
            "federation",
            "create",
            "members.toml",
            "--out",
            "charter.pb",
        ],
    );
    let federation_id = created
        .lines()
        .find_map(|l| l.strip_prefix("FederationId "))
        .unwrap()
        .to_owned();

    for (data_dir, _, _, _) in HUBS.iter().chain([&("anct", "", "", "")]) {
        let joined = ok(
            dir,
            &["--data-dir", data_dir, "init", "--charter", "charter.pb"],
        );
        assert!(joined.contains(&federation_id), "{joined}");
    }

    // Each hub imports its own export.
    let mut totals = Vec::new();
    for (data_dir, name, _, file) in HUBS {
        let path = venues.join(file);
        let report_csv = dir.join(format!("{data_dir}-report.csv"));
        let report = ok(
            dir,
            &[
                "--data-dir",
                data_dir,
                "venues",
                "import",
                path.to_str().unwrap(),
                "--report",
                report_csv.to_str().unwrap(),
            ],
        );
        let imported = count(&report, "importés");
        let rejected = count(&report, "rejetées");
        let rows: usize = report
            .lines()
            .next()
            .unwrap()
            .split(": ")
            .nth(1)
            .unwrap()
            .split(' ')
            .next()
            .unwrap()
            .parse()
            .unwrap();
        assert_eq!(
            imported + rejected,
            rows,
            "{name}: every row is imported or rejected\n{report}"
        );
        assert!(report_csv.exists());
        totals.push((name, rows, imported, rejected));
        // Re-importing the same file appends nothing.
        let again = ok(
            dir,
            &[
                "--data-dir",
                data_dir,
                "venues",
                "import",
                path.to_str().unwrap(),
            ],
        );
        assert_eq!(count(&again, "importés"), 0, "{again}");
        assert_eq!(count(&again, "modifiés"), 0, "{again}");
        assert!(again.contains("0 événements ajoutés"), "{again}");
    }
    eprintln!("{totals:#?}");
    let by_name = |n: &str| totals.iter().find(|t| t.0 == n).unwrap();
    assert!(
        by_name("Hub du Sud").2 > 600,
        "most Hub du Sud venues are valid"
    );
    assert!(by_name("Hinaura").2 > 500);
    assert!(by_name("Hub Nouvelle-Calédonie").2 > 50);
    let bfc = by_name("MedNum BFC");
    assert_eq!(
        bfc.2, 0,
        "the BFC layout has no pivot nor date_maj: every row is rejected"
    );
    let bfc_report = std::fs::read_to_string(dir.join("bfc-report.csv")).unwrap();
    assert!(
        bfc_report.contains("pivot"),
        "the report names the missing field"
    );

    // A file of another territory is refused row by row.
    let sud_file = venues.join("hub-du-sud-2023-05-17.json");
    let foreign = ok(
        dir,
        &[
            "--data-dir",
            "hinaura",
            "venues",
            "import",
            "--dry-run",
            sud_file.to_str().unwrap(),
        ],
    );
    assert_eq!(count(&foreign, "rejetées"), 646, "{foreign}");

    // Read back, verify, export, tamper, verify again.
    let listed = ok(
        dir,
        &[
            "--data-dir",
            "sud",
            "venues",
            "list",
            "--departement",
            "13",
            "--limit",
            "5",
        ],
    );
    assert!(
        listed.contains(" lieux affichés sur ") && listed.lines().count() == 7,
        "{listed}"
    );
    let found = ok(dir, &["--data-dir", "sud", "venues", "search", "martigues"]);
    let first_id = found
        .lines()
        .nth(1)
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap()
        .to_owned();
    let shown = ok(dir, &["--data-dir", "sud", "venues", "show", &first_id]);
    assert!(shown.to_lowercase().contains("martigues"), "{shown}");
    let exported = dir.join("sud-v1.csv");
    ok(
        dir,
        &[
            "--data-dir",
            "sud",
            "venues",
            "export",
            "--format",
            "csv-v1",
            "--out",
            exported.to_str().unwrap(),
        ],
    );
    let csv = std::fs::read_to_string(&exported).unwrap();
    assert!(
        csv.starts_with("id,pivot,nom,commune,code_postal"),
        "standard v1 header"
    );
    assert_eq!(csv.lines().count(), by_name("Hub du Sud").2 + 1);

    let verified = ok(dir, &["--data-dir", "sud", "log", "verify"]);
    assert!(
        verified.contains("OK : chaque signature et chaque chaîne se vérifient"),
        "{verified}"
    );
    ok(dir, &["--data-dir", "sud", "log", "export", "sud.mlog"]);
    let file_ok = ok(dir, &["log", "verify", "--file", "sud.mlog"]);
    assert!(file_ok.contains("OK :"), "{file_ok}");
    let mut bytes = std::fs::read(dir.join("sud.mlog")).unwrap();
    let target = bytes.len() * 2 / 3;
    bytes[target] ^= 0x04;
    std::fs::write(dir.join("tampered.mlog"), &bytes).unwrap();
    let out = maillage(dir, &["log", "verify", "--file", "tampered.mlog"]);
    assert_eq!(
        out.status.code(),
        Some(2),
        "a tampered file fails verification"
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("CASSÉ : tampered.mlog : octet "), "{text}");
    assert!(
        text.contains("événement #"),
        "the broken event is located: {text}"
    );
}

#[test]
fn errors_are_precise_and_lose_nothing() {
    let work = tempfile::tempdir().unwrap();
    let dir = work.path();
    let out = maillage(dir, &["venues", "list"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(
            "le répertoire de données maillage-data n'existe pas : lancez `maillage init`"
        ),
        "{err}"
    );

    ok(
        dir,
        &[
            "init",
            "--name",
            "Hub du Sud",
            "--territories",
            "04,05,06,13,83,84",
        ],
    );
    let sud = venues_dir().join("hub-du-sud-2023-05-17.json");
    ok(dir, &["venues", "import", sud.to_str().unwrap()]);
    // A file that is not a venue file: a precise error, and the log is untouched.
    std::fs::write(dir.join("garbage.json"), "{\"not\": \"an array\"").unwrap();
    let out = maillage(dir, &["venues", "import", "garbage.json"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("garbage.json ne se lit pas comme un fichier de lieux"),
        "{err}"
    );
    let verified = ok(dir, &["log", "verify"]);
    assert!(verified.contains("646 événements"), "{verified}");
    // Unknown territory codes are refused at init.
    let out = maillage(
        dir,
        &[
            "--data-dir",
            "other",
            "init",
            "--name",
            "X",
            "--territories",
            "13,1",
        ],
    );
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("reçu \"1\""));
    // A second init with another federation is refused.
    let out = maillage(dir, &["init", "--name", "Other", "--territories", "75"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("refus de le faire passer"));
}

#[test]
fn a_restored_backup_takes_its_own_events_back_and_never_reuses_a_seq() {
    let work = tempfile::tempdir().unwrap();
    let dir = work.path();
    ok(
        dir,
        &[
            "init",
            "--name",
            "Hub du Sud",
            "--territories",
            "04,05,06,13,83,84",
        ],
    );
    let sud = venues_dir().join("hub-du-sud-2023-05-17.json");
    ok(dir, &["venues", "import", sud.to_str().unwrap()]);
    ok(dir, &["log", "export", "sud.mlog"]);
    // The machine is lost; a backup of the key, charter and configuration (but not of the
    // store) is restored in a new data dir, and the federation's copy of the log comes back.
    std::fs::create_dir(dir.join("restored")).unwrap();
    for file in ["node.key", "charter.pb", "node.toml"] {
        std::fs::copy(
            dir.join("maillage-data").join(file),
            dir.join("restored").join(file),
        )
        .unwrap();
    }
    let imported = ok(
        dir,
        &["--data-dir", "restored", "log", "import", "sud.mlog"],
    );
    assert!(imported.contains("646 stockés"), "{imported}");
    let again = ok(
        dir,
        &[
            "--data-dir",
            "restored",
            "venues",
            "import",
            sud.to_str().unwrap(),
        ],
    );
    assert!(
        again.contains("0 événements ajoutés ; le flux de ce hub est à la position 646"),
        "{again}"
    );
    ok(
        dir,
        &[
            "--data-dir",
            "restored",
            "voucher",
            "issue",
            "--batch",
            "13-2026-CAF-01",
            "--funder",
            "CAF des Bouches-du-Rhône",
            "--funder-siret",
            "53448910800036",
            "--count",
            "5",
            "--valid-from",
            "2026-01-01",
            "--valid-until",
            "2026-12-31",
            "--redeem-deadline",
            "2027-01-31",
        ],
    );
    let verified = ok(dir, &["--data-dir", "restored", "log", "verify"]);
    assert!(
        verified.contains("647 événements"),
        "the next event took seq 647: {verified}"
    );
}

#[test]
fn a_serving_node_logs_one_json_object_per_line_for_a_collector() {
    use std::io::{BufRead, BufReader};
    let work = tempfile::tempdir().unwrap();
    let dir = work.path();
    ok(
        dir,
        &["init", "--name", "Hub du Sud", "--territories", "13"],
    );
    let mut serve = std::process::Command::new(env!("CARGO_BIN_EXE_maillage"))
        .current_dir(dir)
        .env_remove("MAILLAGE_DATA_DIR")
        .env_remove("RUST_LOG")
        .args(["--log-format", "json", "serve", "--listen", "127.0.0.1:0"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(serve.stderr.take().unwrap()).lines();
    let mut seen = Vec::new();
    let serving = loop {
        let line = lines.next().expect("serve ended before logging").unwrap();
        let value: serde_json::Value = serde_json::from_str(&line)
            .unwrap_or_else(|e| panic!("not one JSON object ({e}): {line}"));
        seen.push(value.clone());
        if value["fields"]["message"] == "serving" {
            break value;
        }
        assert!(seen.len() < 50, "no `serving` line in {seen:?}");
    };
    assert_eq!(serving["level"], "INFO", "{serving}");
    assert!(
        serving["fields"]["listen"]
            .as_str()
            .unwrap()
            .starts_with("127.0.0.1:"),
        "{serving}"
    );
    assert!(serving["timestamp"].is_string(), "{serving}");
    // SIGTERM: the shutdown is logged the same way, and the node stops cleanly.
    let term = std::process::Command::new("kill")
        .args(["-TERM", &serve.id().to_string()])
        .status()
        .unwrap();
    assert!(term.success());
    let rest: Vec<serde_json::Value> = lines
        .map(|l| serde_json::from_str(&l.unwrap()).unwrap())
        .collect();
    assert!(
        rest.iter().any(|v| v["fields"]["message"] == "stopped"),
        "{rest:?}"
    );
    assert!(serve.wait().unwrap().success());
}
