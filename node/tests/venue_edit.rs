//! A hub's hand on its own venues, with the real binary on Hub du Sud's real export: every row
//! carries the placeholder SIRET `00000000000000`, so no venue can be qualified for vouchers
//! until the hub sets a real one with `venues set`; bad identifiers are refused with a precise
//! French message and leave the log as it was; `venues close` takes a venue off the map; and
//! `person new` gives a script the code alone.
#![allow(clippy::unwrap_used)]

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

    // Now it qualifies, and a voucher is redeemed there.
    on(dir, "sud", &qualify);
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
