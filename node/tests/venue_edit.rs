//! A hub's hand on its own venues, with the real binary on Hub du Sud's real export: every row
//! carries the placeholder SIRET `00000000000000`, so no venue can be qualified for vouchers
//! until the hub sets a real one with `venues set`; bad identifiers are refused with a precise
//! French message and leave the log as it was; `venues close` takes a venue off the map; the
//! same through a running daemon. Then what an analyst does with the export: vouchers joined
//! to venues on the venue id. And `person new` gives a script the code alone.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

mod common;

use common::{hand_out, issue_caf_batch, json, luhn_siret, maillage, on, venues_file};

/// Hub du Sud founded alone, its real export imported; the id of one of its venues in 13.
fn hub_du_sud(dir: &Path) -> String {
    on(
        dir,
        "sud",
        &[
            "init",
            "--name",
            "Hub du Sud",
            "--territories",
            "04,05,06,13,83,84",
        ],
    );
    let file = venues_file("hub-du-sud-2023-05-17.json");
    on(dir, "sud", &["venues", "import", file.to_str().unwrap()]);
    let venues = json(&on(
        dir,
        "sud",
        &["venues", "list", "--departement", "13", "--json"],
    ));
    let venue = &venues.as_array().unwrap()[0];
    assert_eq!(venue["record"]["pivot"], "00000000000000", "{venue}");
    venue["venue_id"].as_str().unwrap().to_owned()
}

/// The whole log, as bytes: what "nothing was signed" compares.
fn log_bytes(dir: &Path) -> Vec<u8> {
    let file = dir.join("sud.mlog");
    let _ = std::fs::remove_file(&file);
    on(dir, "sud", &["log", "export", "sud.mlog"]);
    std::fs::read(file).unwrap()
}

/// Runs a command that must fail; its exit code and standard error.
fn refused(dir: &Path, args: &[&str]) -> (i32, String) {
    let mut all = vec!["--data-dir", "sud"];
    all.extend_from_slice(args);
    let out = maillage(dir, &all);
    assert!(!out.status.success(), "{args:?} succeeded");
    (
        out.status.code().unwrap(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn a_placeholder_venue_gets_a_real_siret_is_qualified_and_redeems_a_voucher() {
    let work = tempfile::tempdir().unwrap();
    let dir = work.path();
    let vid = hub_du_sud(dir);
    let qualify = [
        "venues",
        "qualify",
        vid.as_str(),
        "--until",
        "2027-06-30",
        "--service",
        "démarches",
    ];

    // As imported, the rules refuse to qualify it.
    let (code, err) = refused(dir, &qualify);
    assert_eq!(code, 3, "{err}");

    // Bad identifiers: refused with a precise message quoting a short excerpt, nothing signed.
    let before = log_bytes(dir);
    let good = luhn_siret("7328293200007");
    let mut bad_luhn = good.clone();
    let last = bad_luhn.pop().unwrap();
    bad_luhn.push(if last == '9' {
        '0'
    } else {
        (last as u8 + 1) as char
    });
    let (code, err) = refused(dir, &["venues", "set", &vid, "--siret", &bad_luhn]);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("SIRET invalide") && err.contains("Luhn"),
        "{err}"
    );
    assert!(
        err.contains(&bad_luhn) && err.contains("rien n'a été signé"),
        "{err}"
    );
    let (_, err) = refused(dir, &["venues", "set", &vid, "--rna", "W12345"]);
    assert!(
        err.contains("numéro RNA invalide") && err.contains("W suivi de 9 chiffres"),
        "{err}"
    );
    let (_, err) = refused(dir, &["venues", "set", &vid, "--siret", "434933123"]);
    assert!(err.contains("SIREN"), "{err}");
    let (_, err) = refused(dir, &["venues", "set", &vid, "--ridet", "1234567.001"]);
    assert!(err.contains("Nouvelle-Calédonie"), "{err}");
    let long = "1".repeat(5000);
    let (_, err) = refused(dir, &["venues", "set", &vid, "--siret", &long]);
    assert!(
        err.len() < 400,
        "the whole input echoed: {} bytes",
        err.len()
    );
    let (_, err) = refused(
        dir,
        &[
            "venues", "set", &vid, "--siret", &good, "--hours", "le matin",
        ],
    );
    assert!(err.contains("horaires invalides"), "{err}");
    let (_, err) = refused(dir, &["venues", "set", &vid, "--email", "contact@"]);
    assert!(err.contains("adresse e-mail invalide"), "{err}");
    let (_, err) = refused(dir, &["venues", "set", &vid]);
    assert!(err.contains("rien à changer"), "{err}");
    assert!(
        before == log_bytes(dir),
        "a refused change signed something"
    );
    let (code, _) = refused(dir, &qualify);
    assert_eq!(code, 3);

    // A real SIRET (spaces as people type them), hours and a phone: one VenueUpdated.
    let spaced = format!("{} {} {}", &good[..3], &good[3..9], &good[9..]);
    let set = json(&on(
        dir,
        "sud",
        &[
            "venues",
            "set",
            &vid,
            "--siret",
            &spaced,
            "--hours",
            "Mo-Fr 09:00-12:00",
            "--phone",
            "04 42 00 00 00",
            "--json",
        ],
    ));
    assert_eq!(set["changed"]["pivot"], good.as_str(), "{set}");
    assert_eq!(set["changed"]["telephone"], "+33442000000", "{set}");
    let shown = json(&on(dir, "sud", &["venues", "show", &vid, "--json"]));
    assert_eq!(shown["record"]["pivot"], good.as_str(), "{shown}");
    assert_eq!(shown["record"]["horaires"], "Mo-Fr 09:00-12:00", "{shown}");
    assert_eq!(shown["updates"], 1, "{shown}");
    assert!(before != log_bytes(dir));

    // Now it qualifies. Re-importing the hub's usual export (placeholder pivots) does not undo
    // the correction.
    on(dir, "sud", &qualify);
    let file = venues_file("hub-du-sud-2023-05-17.json");
    on(dir, "sud", &["venues", "import", file.to_str().unwrap()]);
    let shown = json(&on(dir, "sud", &["venues", "show", &vid, "--json"]));
    assert_eq!(shown["record"]["pivot"], good.as_str(), "{shown}");
    assert_eq!(shown["closed"], serde_json::Value::Null, "{shown}");

    // A voucher is redeemed there.
    issue_caf_batch(dir, "sud", "13-2026-CAF-01", "5");
    let person = on(dir, "sud", &["person", "new"]).trim().to_owned();
    hand_out(dir, "sud", "13-2026-CAF-01:1-5", &person);
    on(
        dir,
        "sud",
        &[
            "voucher",
            "redeem",
            "13-2026-CAF-01-1",
            "--venue",
            &vid,
            "--service",
            "démarches",
            "--date",
            "2026-03-10",
        ],
    );
    let status = json(&on(
        dir,
        "sud",
        &["voucher", "status", "13-2026-CAF-01-1", "--json"],
    ));
    assert_eq!(status["status"], "redeemed", "{status}");
}

#[test]
fn a_closed_venue_leaves_the_map_and_takes_no_more_changes() {
    let work = tempfile::tempdir().unwrap();
    let dir = work.path();
    let vid = hub_du_sud(dir);
    let listed = |all: bool| {
        let mut args = vec!["venues", "list", "--departement", "13", "--limit", "100000"];
        if all {
            args.push("--all");
        }
        args.push("--json");
        json(&on(dir, "sud", &args))
            .as_array()
            .unwrap()
            .iter()
            .any(|v| v["venue_id"] == vid.as_str())
    };
    assert!(listed(false));

    let (_, err) = refused(dir, &["venues", "close", &vid, "--reason", "  "]);
    assert!(err.contains("--reason"), "{err}");
    let closed = json(&on(
        dir,
        "sud",
        &[
            "venues",
            "close",
            &vid,
            "--reason",
            "déménagement",
            "--json",
        ],
    ));
    assert_eq!(closed["closed"], true, "{closed}");
    assert!(!listed(false));
    assert!(listed(true));

    // Closed is closed: the rules refuse a change or a second closing, nothing is signed.
    let before = log_bytes(dir);
    let (code, err) = refused(dir, &["venues", "set", &vid, "--hours", "Mo 09:00-12:00"]);
    assert_eq!(code, 3, "{err}");
    let (code, err) = refused(dir, &["venues", "close", &vid, "--reason", "encore"]);
    assert_eq!(code, 3, "{err}");
    assert!(before == log_bytes(dir));
}

#[test]
fn a_closed_venue_reopens_and_closes_again_on_a_given_day() {
    let work = tempfile::tempdir().unwrap();
    let dir = work.path();
    let vid = hub_du_sud(dir);
    // An open venue does not reopen; a reopening needs a reason; a day must be a real one:
    // each refused before anything is signed.
    let before = log_bytes(dir);
    let (code, err) = refused(dir, &["venues", "reopen", &vid, "--reason", "rien"]);
    assert_eq!(code, 3, "{err}");
    assert!(err.contains("ouvert"), "{err}");
    let (_, err) = refused(
        dir,
        &[
            "venues",
            "close",
            &vid,
            "--reason",
            "x",
            "--date",
            "2026-02-31",
        ],
    );
    assert!(err.contains("--date"), "{err}");
    assert!(before == log_bytes(dir));

    on(
        dir,
        "sud",
        &["venues", "close", &vid, "--reason", "travaux"],
    );
    let (_, err) = refused(dir, &["venues", "reopen", &vid, "--reason", " "]);
    assert!(err.contains("--reason"), "{err}");
    let reopened = json(&on(
        dir,
        "sud",
        &[
            "venues",
            "reopen",
            &vid,
            "--reason",
            "fin des travaux",
            "--json",
        ],
    ));
    assert_eq!(reopened["closed"], false, "{reopened}");
    let shown = json(&on(dir, "sud", &["venues", "show", &vid, "--json"]));
    assert!(shown["closed"].is_null(), "{shown}");
    on(
        dir,
        "sud",
        &[
            "venues",
            "close",
            &vid,
            "--reason",
            "déménagement",
            "--date",
            "2026-02-27",
        ],
    );
    // The exports give the day the closing named, and every step in the event table.
    on(dir, "sud", &["export", "--out", "exp", "--no-parquet"]);
    let read = |name: &str| std::fs::read(dir.join("exp").join(name)).unwrap();
    let venues = rows(&read("venues.csv"), b',');
    let gone = venues
        .iter()
        .find(|v| v["venue_id"] == vid.as_str())
        .unwrap();
    assert_eq!(gone["status"], "closed");
    assert_eq!(gone["closed_on"], "2026-02-27", "{gone:?}");
    assert_eq!(gone["closing_reason"], "déménagement");
    let events = rows(&read("events.csv"), b',');
    let kinds: Vec<&str> = events
        .iter()
        .filter(|e| e["venue_id"] == vid.as_str())
        .map(|e| e["kind"].as_str())
        .filter(|k| k.starts_with("venue_closed") || *k == "venue_reopened")
        .collect();
    assert_eq!(kinds, ["venue_closed", "venue_reopened", "venue_closed"]);
}

#[test]
fn person_new_prints_only_the_code_on_standard_output() {
    let work = tempfile::tempdir().unwrap();
    let dir = work.path();
    let out = maillage(dir, &["person", "new"]);
    assert!(out.status.success());
    let stdout = String::from_utf8(out.stdout).unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    // What `P=$(maillage person new)` captures: one line, the code alone.
    assert_eq!(stdout.lines().count(), 1, "{stdout:?}");
    let code = stdout.trim_end_matches('\n');
    assert!(!code.contains(' ') && code.len() > 20, "{code:?}");
    assert!(
        stderr.contains("carnet"),
        "the advice goes to stderr: {stderr:?}"
    );
    assert!(!stdout.contains("carnet"));
    // The code captured is one the other commands take.
    on(
        dir,
        "sud",
        &["init", "--name", "Hub du Sud", "--territories", "13"],
    );
    issue_caf_batch(dir, "sud", "13-2026-CAF-01", "5");
    hand_out(dir, "sud", "13-2026-CAF-01:1-5", code);
}

/// A CSV file's rows as column → value (`delimiter` between values).
fn rows(bytes: &[u8], delimiter: u8) -> Vec<BTreeMap<String, String>> {
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .from_reader(bytes);
    let header: Vec<String> = reader
        .headers()
        .unwrap()
        .iter()
        .map(str::to_owned)
        .collect();
    reader
        .records()
        .map(|r| {
            let r = r.unwrap();
            assert_eq!(r.len(), header.len(), "{r:?}");
            header
                .iter()
                .cloned()
                .zip(r.iter().map(str::to_owned))
                .collect()
        })
        .collect()
}

#[test]
fn an_analyst_joins_the_vouchers_to_the_venues_they_were_redeemed_at() {
    let work = tempfile::tempdir().unwrap();
    let dir = work.path();
    let vid = hub_du_sud(dir);
    let siret = luhn_siret("7328293200007");
    on(dir, "sud", &["venues", "set", &vid, "--siret", &siret]);
    on(
        dir,
        "sud",
        &[
            "venues",
            "qualify",
            &vid,
            "--until",
            "2027-06-30",
            "--service",
            "démarches",
        ],
    );
    issue_caf_batch(dir, "sud", "13-2026-CAF-01", "5");
    let person = on(dir, "sud", &["person", "new"]).trim().to_owned();
    hand_out(dir, "sud", "13-2026-CAF-01:1-5", &person);
    for serial in ["13-2026-CAF-01-1", "13-2026-CAF-01-2"] {
        on(
            dir,
            "sud",
            &[
                "voucher",
                "redeem",
                serial,
                "--venue",
                &vid,
                "--service",
                "démarches",
                "--date",
                "2026-03-10",
            ],
        );
    }
    // Another venue closes.
    let venues = json(&on(
        dir,
        "sud",
        &["venues", "list", "--departement", "04", "--json"],
    ));
    let closed = venues[0]["venue_id"].as_str().unwrap().to_owned();
    on(
        dir,
        "sud",
        &["venues", "close", &closed, "--reason", "fin du service"],
    );

    on(dir, "sud", &["export", "--out", "exp"]);
    let read = |name: &str| std::fs::read(dir.join("exp").join(name)).unwrap();
    let vouchers = rows(&read("vouchers.csv"), b',');
    let venues = rows(&read("venues.csv"), b',');
    let lieux = rows(&read("lieux.csv"), b',');
    let events = rows(&read("events.csv"), b',');

    // The join on the venue id returns the redeemed vouchers, and through the source id the
    // venue's row of the national standard.
    let by_id: BTreeMap<&str, &BTreeMap<String, String>> =
        venues.iter().map(|v| (v["venue_id"].as_str(), v)).collect();
    let joined: Vec<(&str, &BTreeMap<String, String>)> = vouchers
        .iter()
        .filter_map(|b| {
            by_id
                .get(b["redeemed_venue_id"].as_str())
                .map(|v| (b["serial"].as_str(), *v))
        })
        .collect();
    assert_eq!(
        joined.iter().map(|(s, _)| *s).collect::<Vec<_>>(),
        ["13-2026-CAF-01-1", "13-2026-CAF-01-2"]
    );
    let venue = joined[0].1;
    assert_eq!(venue["departement"], "13");
    assert_eq!(venue["departement_nom"], "Bouches-du-Rhône");
    assert_eq!(venue["pivot"], siret.as_str());
    assert_eq!(venue["status"], "open");
    assert_eq!(venue["qualified_until"], "2027-06-30");
    let standard: Vec<_> = lieux
        .iter()
        .filter(|l| l["id"] == venue["source_id"])
        .collect();
    assert_eq!(standard.len(), 1);
    assert_eq!(standard[0]["nom"], venue["nom"]);
    // Hand-out day and funder, per voucher.
    let first = &vouchers[0];
    assert_eq!(first["handed_out_on"], "2026-03-02", "{first:?}");
    assert_eq!(first["funder"], "CAF des Bouches-du-Rhône");

    // Closed venues: in venues.csv with their closing day, not in the standard's file.
    let gone = by_id[closed.as_str()];
    assert_eq!(gone["status"], "closed");
    assert_eq!(gone["closing_reason"], "fin du service");
    let closing = events.iter().find(|e| e["kind"] == "venue_closed").unwrap();
    assert_eq!(gone["closed_on"], closing["signed_on"]);
    assert_eq!(gone["closed_on"].len(), 10, "{gone:?}");
    assert!(lieux.iter().all(|l| l["id"] != gone["source_id"]));
    assert_eq!(venues.len(), lieux.len() + 1);

    // Codes are quoted, so readers honouring quotes keep them as text.
    let text = String::from_utf8(read("venues.csv")).unwrap();
    assert!(text.contains(",\"04\","), "département 04 unquoted");

    // events.csv: one row per event applied, by clock; the kinds of this history; no person.
    let count = |kind: &str| events.iter().filter(|e| e["kind"] == kind).count();
    assert_eq!(count("venue_updated"), 1);
    assert_eq!(count("voucher_redeemed"), 2);
    assert_eq!(count("venue_closed"), 1);
    let handed = events
        .iter()
        .find(|e| e["kind"] == "vouchers_handed_out")
        .unwrap();
    assert_eq!(handed["event_date"], "2026-03-02");
    assert_eq!(handed["vouchers"], "5");
    assert_eq!(handed["batch"], "13-2026-CAF-01");
    let clocks: Vec<u64> = events.iter().map(|e| e["hlc"].parse().unwrap()).collect();
    assert!(clocks.windows(2).all(|w| w[0] <= w[1]));
    for name in ["venues.csv", "events.csv", "vouchers.csv"] {
        let text = String::from_utf8(read(name)).unwrap();
        assert!(!text.contains(&person), "{name} names the person");
    }

    // --excel: byte-order mark, `;` between values, the same rows, accents intact.
    on(dir, "sud", &["export", "--out", "xl", "--excel"]);
    for name in ["venues.csv", "vouchers.csv", "lieux.csv", "events.csv"] {
        let excel = std::fs::read(dir.join("xl").join(name)).unwrap();
        let body = excel.strip_prefix("\u{feff}".as_bytes()).unwrap();
        assert_eq!(rows(body, b';'), rows(&read(name), b','), "{name}");
        assert!(body.split(|b| *b == b'\n').next().unwrap().contains(&b';'));
    }
    let excel = String::from_utf8(std::fs::read(dir.join("xl/vouchers.csv")).unwrap()).unwrap();
    assert!(excel.contains("CAF des Bouches-du-Rhône"));
}

/// A running `maillage serve` on any free port, killed when dropped.
struct Serving(Child);

impl Serving {
    fn start(dir: &Path, node: &str) -> Self {
        let log = std::fs::File::create(dir.join(format!("{node}.log"))).unwrap();
        let child = Command::new(env!("CARGO_BIN_EXE_maillage"))
            .current_dir(dir)
            .env_remove("MAILLAGE_DATA_DIR")
            .env("RUST_LOG", "warn")
            .args([
                "--data-dir",
                node,
                "serve",
                "--listen",
                "127.0.0.1:0",
                "--http",
                "off",
            ])
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap();
        let serving = Self(child);
        let socket = dir.join(node).join("run/admin.sock");
        let deadline = Instant::now() + Duration::from_secs(30);
        while std::os::unix::net::UnixStream::connect(&socket).is_err() {
            assert!(Instant::now() < deadline, "{node} did not start");
            std::thread::sleep(Duration::from_millis(20));
        }
        serving
    }
}

impl Drop for Serving {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn a_serving_node_takes_the_same_changes_and_refusals() {
    let work = tempfile::tempdir().unwrap();
    let dir = work.path();
    let vid = hub_du_sud(dir);
    let _serving = Serving::start(dir, "sud");
    let before = log_bytes(dir);
    let (code, err) = refused(dir, &["venues", "set", &vid, "--rna", "X751234567"]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("ne commence pas par W"), "{err}");
    assert!(before == log_bytes(dir));
    let rna = json(&on(
        dir,
        "sud",
        &["venues", "set", &vid, "--rna", "w751234567", "--json"],
    ));
    assert_eq!(rna["changed"]["pivot"], "W751234567", "{rna}");
    on(
        dir,
        "sud",
        &["venues", "close", &vid, "--reason", "travaux"],
    );
    let shown = json(&on(dir, "sud", &["venues", "show", &vid, "--json"]));
    assert_eq!(shown["record"]["pivot"], "W751234567", "{shown}");
    assert_eq!(shown["closed"], "travaux", "{shown}");
}

#[test]
fn a_hub_cannot_change_another_hubs_venue() {
    let work = tempfile::tempdir().unwrap();
    let dir = work.path();
    let mut members = String::from("name = \"Fédération test\"\nadmission_threshold = 1\n");
    for (node, name, territories) in [
        ("sud", "Hub du Sud", "\"13\""),
        ("hinaura", "Hinaura", "\"69\""),
    ] {
        let key = on(dir, node, &["init"]);
        members.push_str(&format!(
            "\n[[members]]\nname = \"{name}\"\nkey = \"{}\"\nrole = \"hub\"\nterritories = [{territories}]\n",
            key.trim()
        ));
    }
    common::create_charter(dir, &members);
    for node in ["sud", "hinaura"] {
        on(dir, node, &["init", "--charter", "charter.pb"]);
    }
    let venue = serde_json::json!([{
        "id": "bm-lyon-1er",
        "pivot": "00000000000000",
        "nom": "Bibliothèque municipale du 1er arrondissement",
        "commune": "Lyon",
        "code_postal": "69001",
        "code_insee": "69381",
        "adresse": "7 rue Saint-Polycarpe",
        "date_maj": "2026-01-15",
        "source": "Hinaura"
    }]);
    std::fs::write(dir.join("lyon.json"), venue.to_string()).unwrap();
    on(dir, "hinaura", &["venues", "import", "lyon.json"]);
    common::exchange(dir, "hinaura", "sud");

    // Hub du Sud holds Hinaura's venue but may not change or close it: nothing is signed.
    let before = log_bytes(dir);
    let siret = luhn_siret("2169001230001");
    let (code, err) = refused(dir, &["venues", "set", "bm-lyon-1er", "--siret", &siret]);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("Hinaura") && err.contains("seul ce hub"),
        "{err}"
    );
    let (code, err) = refused(dir, &["venues", "close", "bm-lyon-1er", "--reason", "x"]);
    assert_eq!(code, 3, "{err}");
    assert!(before == log_bytes(dir));
    // Hinaura itself may.
    on(
        dir,
        "hinaura",
        &["venues", "set", "bm-lyon-1er", "--siret", &siret],
    );
}
