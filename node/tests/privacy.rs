//! A person forgotten everywhere, with real daemons replicating over gRPC: after the erasure
//! has travelled, no file of any node's data dir (store, views, snapshots) and no fresh log
//! export holds the person's 16 id bytes or the diagnostic written about them; every log
//! verifies, every digest is equal, the vouchers', referrals' statuses and the national
//! figures are what they were, and a node that joins afterwards never receives the erased
//! parts (it does receive another person's).
#![allow(clippy::unwrap_used)]

mod common;
#[path = "common/served.rs"]
mod served;

use std::path::Path;
use std::str::FromStr;
use std::time::{Duration, Instant};

use common::{hand_out, issue_caf_batch, json, maillage, on};
use maillage_core::PersonId;
use served::{Served, federation, free_port, lyon_venue};

const DIAGNOSTIC: &str = "Diagnostic ABC : ne sait pas ouvrir sa boîte de courriel (confidentiel)";

fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "timed out waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

fn digest(dir: &Path, node: &str) -> String {
    on(dir, node, &["digest"])
}

/// Every file under `root`, with how often `needle` occurs in it (only those where it does).
fn occurrences(root: &Path, needle: &[u8]) -> Vec<(String, usize)> {
    let mut found = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(path) = stack.pop() {
        if path.is_dir() {
            for entry in std::fs::read_dir(&path).unwrap() {
                stack.push(entry.unwrap().path());
            }
        } else if let Ok(bytes) = std::fs::read(&path) {
            let n = bytes.windows(needle.len()).filter(|w| *w == needle).count();
            if n > 0 {
                found.push((path.display().to_string(), n));
            }
        }
    }
    found
}

fn new_person(dir: &Path) -> (String, PersonId) {
    let code = json(&on(dir, "sud", &["person", "new", "--json"]))["code"]
        .as_str()
        .unwrap()
        .to_owned();
    let id = PersonId::from_str(&code).unwrap();
    (code, id)
}

#[test]
fn a_forgotten_person_is_gone_from_every_node_and_every_later_export() {
    let work = tempfile::tempdir().unwrap();
    let dir = work.path();
    federation(
        dir,
        &[
            ("sud", "Hub du Sud", "13,84"),
            ("hinaura", "Hinaura", "69,74"),
            ("anct", "ANCT", ""),
            ("later", "Observatoire régional", ""),
        ],
    );
    lyon_venue(dir, "hinaura", &["démarches"]);
    issue_caf_batch(dir, "sud", "13-2026-CAF-01", "4");
    let (code, id) = new_person(dir);
    let (other_code, other_id) = new_person(dir);

    let (p_sud, p_hinaura, p_anct) = (free_port(), free_port(), free_port());
    let mut sud = Served::start(dir, "sud", p_sud, &[p_hinaura, p_anct], &[]);
    let mut hinaura = Served::start(dir, "hinaura", p_hinaura, &[p_sud, p_anct], &[]);
    let mut anct = Served::start(dir, "anct", p_anct, &[p_sud, p_hinaura], &[]);
    let nodes = ["sud", "hinaura", "anct"];

    // Hub du Sud hands a carnet to the person and refers them to Lyon with a diagnostic;
    // another person gets a voucher too.
    hand_out(dir, "sud", "13-2026-CAF-01:1-3", &code);
    hand_out(dir, "sud", "13-2026-CAF-01:4-4", &other_code);
    wait_until("Hinaura holds the Lyon venue on Hub du Sud", || {
        on(dir, "sud", &["venues", "list", "--json"]).contains("bm-lyon-1er")
    });
    let lyon = json(&on(
        dir,
        "sud",
        &["venues", "show", "bm-lyon-1er", "--json"],
    ))["venue_id"]
        .as_str()
        .unwrap()
        .to_owned();
    on(
        dir,
        "sud",
        &[
            "referral",
            "open",
            "--id",
            "13-R-PRIV",
            "--person",
            &code,
            "--prescriber-kind",
            "CAF",
            "--prescriber",
            "CAF 13",
            "--need",
            "démarches",
            "--venue",
            &lyon,
            "--diagnostic",
            DIAGNOSTIC,
        ],
    );
    // Hinaura's venue takes voucher 1 (a transfer from its owner, online).
    wait_until("the carnet reaches Hinaura", || {
        on(dir, "hinaura", &["voucher", "status", "13-2026-CAF-01-1"]).contains("remis")
    });
    on(
        dir,
        "hinaura",
        &[
            "voucher",
            "redeem",
            "13-2026-CAF-01-1",
            "--venue",
            &lyon,
            "--service",
            "démarches",
            "--date",
            "2026-03-10",
        ],
    );
    wait_until("one digest on every node", || {
        let d = digest(dir, "sud");
        nodes.iter().all(|n| digest(dir, n) == d)
    });
    // The links travelled with the events: every node knows who holds voucher 2.
    for node in nodes {
        let status = on(dir, node, &["voucher", "status", "13-2026-CAF-01-2"]);
        assert!(status.contains(&code), "{node}: {status}");
    }
    let statuses = |node: &str| -> Vec<String> {
        let mut out: Vec<String> = (1..=4)
            .map(|n| {
                let v = json(&on(
                    dir,
                    node,
                    &[
                        "voucher",
                        "status",
                        &format!("13-2026-CAF-01-{n}"),
                        "--json",
                    ],
                ));
                format!("{} {}", v["status"], v["owner"])
            })
            .collect();
        let r = json(&on(dir, node, &["referral", "show", "13-R-PRIV", "--json"]));
        out.push(r["status"].to_string());
        out.push(on(dir, node, &["stats", "--as-of", "2026-03-31", "--json"]));
        out
    };
    let before: Vec<Vec<String>> = nodes.iter().map(|n| statuses(n)).collect();
    for node in nodes {
        assert!(
            !occurrences(&dir.join(node), &id.0).is_empty(),
            "{node}: the test must look for bytes that were there"
        );
    }
    assert!(!occurrences(&dir.join("sud"), DIAGNOSTIC.as_bytes()).is_empty());

    // The erasure, and its journey.
    let forgotten = on(dir, "sud", &["person", "forget", &code]);
    assert!(forgotten.contains("oubliée"), "{forgotten}");
    wait_until("the erasure on every node", || {
        let d = digest(dir, "sud");
        nodes.iter().all(|n| digest(dir, n) == d)
    });
    for node in nodes {
        let status = on(dir, node, &["voucher", "status", "13-2026-CAF-01-2"]);
        assert!(!status.contains(&code), "{node}: {status}");
        let parcours = maillage(dir, &["--data-dir", node, "parcours", &code]);
        let text = String::from_utf8_lossy(&parcours.stdout);
        assert!(!text.contains("pass"), "{node}: {text}");
        // The other person's links are untouched.
        let status = on(dir, node, &["voucher", "status", "13-2026-CAF-01-4"]);
        assert!(status.contains(&other_code), "{node}: {status}");
    }
    let after: Vec<Vec<String>> = nodes.iter().map(|n| statuses(n)).collect();
    assert_eq!(
        before, after,
        "statuses and figures changed with the erasure"
    );

    // Nothing left in any file of any node, running or stopped, nor in a fresh export.
    for node in nodes {
        let export = format!("{node}-after.mlog");
        on(dir, node, &["log", "export", &export]);
        for needle in [&id.0[..], DIAGNOSTIC.as_bytes()] {
            assert_eq!(occurrences(&dir.join(&export), needle), vec![], "{export}");
            assert_eq!(
                occurrences(&dir.join(node), needle),
                vec![],
                "{node} (running)"
            );
        }
        let verified = on(dir, node, &["log", "verify"]);
        assert!(verified.contains("vérifiées"), "{node}: {verified}");
    }
    let final_digest = digest(dir, "sud");
    for served in [&mut sud, &mut hinaura, &mut anct] {
        served.stop();
    }
    for node in nodes {
        for needle in [&id.0[..], DIAGNOSTIC.as_bytes()] {
            assert_eq!(
                occurrences(&dir.join(node), needle),
                vec![],
                "{node} (stopped)"
            );
        }
        assert_eq!(digest(dir, node), final_digest, "{node}");
    }

    // A node that joins afterwards receives the other person's link, never the erased ones.
    let mut sud = Served::start(dir, "sud", p_sud, &[], &[]);
    let mut later = Served::start(dir, "later", free_port(), &[p_sud], &[]);
    wait_until("the late node catches up", || {
        digest(dir, "later") == final_digest
    });
    let status = on(dir, "later", &["voucher", "status", "13-2026-CAF-01-4"]);
    assert!(status.contains(&other_code), "{status}");
    assert!(!occurrences(&dir.join("later"), &other_id.0).is_empty());
    for needle in [&id.0[..], DIAGNOSTIC.as_bytes()] {
        assert_eq!(occurrences(&dir.join("later"), needle), vec![], "later");
    }
    later.stop();
    sud.stop();
}
