//! `maillage demo`, the README's main command, run as a newcomer would: four real nodes
//! replicating over gRPC on loopback ports play a person's story and end on one digest.
#![allow(clippy::unwrap_used)]

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

mod common;
#[path = "common/served.rs"]
mod served;

use common::{json, maillage, ok, on, wait_live};

#[test]
fn the_demo_plays_its_story_on_four_nodes_and_ends_on_one_digest() {
    let work = tempfile::tempdir().unwrap();
    let root = work.path().join("demo");
    let out = ok(
        work.path(),
        &["demo", "--dir", root.to_str().unwrap(), "--exit"],
    );
    assert!(out.contains("40 lignes : 40 lieux enregistrés"), "{out}");
    assert!(out.contains("40 lignes sur 40 refusées"), "{out}");
    // Every node's dashboard address is printed (a node is waited for until it wrote them).
    assert!(!out.contains("http:///") && !out.contains("(, "), "{out}");
    // The online redemption is a transfer by the owner; the one through the cut link a claim,
    // pending until the link returns, then accepted.
    assert!(
        out.contains("transféré en ligne par son propriétaire Hub du Sud"),
        "{out}"
    );
    assert!(out.contains("propriétaire Hub du Sud injoignable"), "{out}");
    assert!(out.contains(": en attente"), "{out}");
    assert!(out.contains(": acceptée"), "{out}");
    assert!(out.contains("referral_accepted"), "{out}");
    assert!(
        out.contains("OK : chaque signature et chaque chaîne se vérifient"),
        "{out}"
    );
    // Section 11 lists four nodes with one digest.
    let finale = &out[out
        .find("11. Chaque nœud finit sur la même empreinte.")
        .unwrap()..];
    let digests: Vec<&str> = finale
        .lines()
        .filter_map(|l| l.split("empreinte ").nth(1))
        .map(str::trim)
        .collect();
    assert_eq!(digests.len(), 4, "{finale}");
    assert!(
        digests.iter().all(|d| d.len() == 64 && *d == digests[0]),
        "{finale}"
    );

    // The data dirs it leaves are real nodes, readable once the federation stopped: the
    // observer holds the person's vouchers, used in another territory.
    for dir in [
        "hub-du-sud",
        "hinaura",
        "nouvelle-aquitaine",
        "anct-observer",
    ] {
        assert!(
            !root.join(dir).join("serve.addr").exists(),
            "{dir} still says it serves"
        );
    }
    let person = out
        .lines()
        .find_map(|l| {
            l.trim()
                .strip_prefix("maillage --data-dir anct-observer parcours ")
        })
        .unwrap()
        .trim()
        .trim_matches('"')
        .to_string();
    let parcours = json(&on(
        &root,
        "anct-observer",
        &["parcours", &person, "--json"],
    ));
    assert_eq!(parcours["vouchers"]["used"].as_array().unwrap().len(), 2);
    let offline = json(&on(&root, "anct-observer", &["digest", "--json"]));
    assert_eq!(offline["digest"], digests[0]);

    // It never overwrites data.
    let again = maillage(work.path(), &["demo", "--dir", root.to_str().unwrap()]);
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("n'est pas vide"));
}

#[test]
fn the_demo_federation_runs_until_ctrl_c_and_answers_the_commands_it_prints() {
    let work = tempfile::tempdir().unwrap();
    let root = work.path().join("demo");
    let mut demo = Command::new(env!("CARGO_BIN_EXE_maillage"))
        .args(["demo", "--dir", root.to_str().unwrap()])
        .env_remove("MAILLAGE_DATA_DIR")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (tx, rx) = mpsc::channel();
    let stdout = demo.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { return };
            let _ = tx.send(line);
        }
    });
    let mut seen = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(120);
    while !seen
        .iter()
        .any(|l: &String| l.contains("tourne jusqu'à Ctrl-C"))
    {
        let wait = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(wait) {
            Ok(line) => seen.push(line),
            Err(_) => {
                let _ = demo.kill();
                panic!("the demo did not reach Ctrl-C:\n{}", seen.join("\n"));
            }
        }
    }
    // The commands it prints reach the running nodes from another terminal.
    let printed: Vec<String> = seen
        .iter()
        .filter_map(|l| l.trim().strip_prefix("maillage "))
        .map(str::to_string)
        .collect();
    assert!(printed.len() >= 4, "{seen:?}");
    for command in &printed {
        // Carnet codes are printed in double quotes when their check character is special
        // to a shell.
        let args: Vec<&str> = command
            .split_whitespace()
            .map(|a| a.trim_matches('"'))
            .collect();
        let out = ok(&root, &args);
        assert!(
            !out.trim().is_empty(),
            "`maillage {command}` printed nothing"
        );
    }
    let found = ok(
        &root,
        &[
            "--data-dir",
            "nouvelle-aquitaine",
            "venues",
            "search",
            "barbezieux",
        ],
    );
    assert!(found.contains("Barbezieux-Saint-Hilaire"), "{found}");
    // So does the dashboard it points to: the observer's figures include the story's vouchers.
    let dashboard = seen
        .iter()
        .find_map(|l| {
            l.split("Le tableau de bord national (celui de l'observateur) :")
                .nth(1)
        })
        .unwrap()
        .trim()
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .to_string();
    let page = served::get(&dashboard, "/");
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(
        page.body.contains("CAF des Bouches-du-Rhône"),
        "{}",
        page.body
    );
    let metrics = served::get(&dashboard, "/metrics").body;
    assert!(
        served::sample(&metrics, "maillage_events_stored").unwrap() > 120.0,
        "{metrics}"
    );
    let status = wait_live(&root, "anct-observer", 3);
    let peers = status["peers"].as_array().unwrap();
    assert_eq!(peers.len(), 3, "{status}");
    assert!(peers.iter().all(|p| p["state"] == "live"), "{status}");

    // Ctrl-C stops the four nodes cleanly.
    let interrupted = Command::new("kill")
        .args(["-INT", &demo.id().to_string()])
        .status()
        .unwrap();
    assert!(interrupted.success());
    let deadline = Instant::now() + Duration::from_secs(60);
    let status = loop {
        if let Some(status) = demo.try_wait().unwrap() {
            break status;
        }
        assert!(Instant::now() < deadline, "the demo did not stop on Ctrl-C");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success(), "{status}");
    for dir in [
        "hub-du-sud",
        "hinaura",
        "nouvelle-aquitaine",
        "anct-observer",
    ] {
        assert!(!root.join(dir).join("serve.addr").exists());
    }
}
