//! A hub restored from last night's backup, with real daemons: Hub du Sud and Hinaura
//! replicate; Hub du Sud's operator takes a backup, the hub signs more, then the operator
//! restores the backup and issues a batch at once.
//!
//! With the start-up guard (the default) the restored node signs nothing until a peer has told
//! it how far its own feed goes: it pulls back the events signed after the backup, then signs
//! the next position. No fork anywhere, one digest. With `--offline` it signs the position it
//! had already signed: the fork the guard exists to prevent, caught by every node and named by
//! `log verify`.
#![allow(clippy::unwrap_used)]

use std::path::Path;
use std::time::{Duration, Instant};

mod common;
#[path = "common/served.rs"]
mod served;

use common::{exchange, issue_caf_batch, json, maillage, on};
use served::{Served, federation, free_port};

/// `node`'s view of `feed`: (stored seq, fork seq if frozen).
fn feed(dir: &Path, node: &str, feed: &str) -> (u64, Option<u64>) {
    let status = json(&on(dir, node, &["status", "--json"]));
    let found = status["feeds"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["name"] == feed)
        .cloned()
        .unwrap_or_default();
    (
        found["seq"].as_u64().unwrap_or(0),
        found["fork_seq"].as_u64().filter(|s| *s > 0),
    )
}

/// Waits until `node` holds `name`'s feed up to `seq`.
fn wait_for_seq(dir: &Path, node: &str, name: &str, seq: u64) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while feed(dir, node, name).0 < seq {
        assert!(
            Instant::now() < deadline,
            "{node} never got {name} seq {seq}: {}",
            on(dir, node, &["status"])
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn digest(dir: &Path, node: &str) -> String {
    json(&on(dir, node, &["digest", "--json"]))["digest"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[test]
fn a_hub_restored_from_a_backup_catches_up_before_it_signs() {
    let work = tempfile::tempdir().unwrap();
    let dir = work.path();
    federation(
        dir,
        &[
            ("sud", "Hub du Sud", "13,84"),
            ("hinaura", "Hinaura", "69,74"),
        ],
    );
    let ports = [free_port(), free_port()];
    let mut sud = Served::start(dir, "sud", ports[0], &[ports[1]], &[]);
    let mut hinaura = Served::start(dir, "hinaura", ports[1], &[ports[0]], &[]);

    issue_caf_batch(dir, "sud", "13-2026-CAF-01", "10");
    wait_for_seq(dir, "hinaura", "Hub du Sud", 1);

    // Last night's backup, taken while the node serves.
    let backup = dir.join("backup-sud");
    let out = on(dir, "sud", &["backup", backup.to_str().unwrap()]);
    assert!(out.contains("sauvegarde de sud écrite dans"), "{out}");
    assert!(backup.join("backup.toml").is_file());

    // Today the hub signed one more event, which reached Hinaura.
    issue_caf_batch(dir, "sud", "13-2026-CAF-02", "10");
    wait_for_seq(dir, "hinaura", "Hub du Sud", 2);
    sud.stop();

    // The disk is lost; the operator restores last night's backup.
    std::fs::rename(dir.join("sud"), dir.join("sud-lost")).unwrap();
    copy_dir(&backup, &dir.join("sud"));
    // Without a daemon, the restored copy refuses to sign, saying why.
    let refused = maillage(
        dir,
        &[
            "--data-dir",
            "sud",
            "voucher",
            "issue",
            "--batch",
            "13-2026-CAF-03",
            "--funder",
            "CAF",
            "--funder-siret",
            "53418890200012",
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
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(!refused.status.success(), "{stderr}");
    assert!(stderr.contains("est une sauvegarde restaurée"), "{stderr}");
    assert_eq!(feed(dir, "sud", "Hub du Sud").0, 1, "rien n'a été signé");

    // Started with its peer, the restored node signs only once it holds its own seq 2 again:
    // the batch issued right away becomes seq 3.
    let mut sud = Served::start(dir, "sud", ports[0], &[ports[1]], &[]);
    issue_caf_batch(dir, "sud", "13-2026-CAF-03", "10");
    assert_eq!(feed(dir, "sud", "Hub du Sud"), (3, None));
    wait_for_seq(dir, "hinaura", "Hub du Sud", 3);
    assert_eq!(feed(dir, "hinaura", "Hub du Sud"), (3, None), "no fork");
    assert!(
        !dir.join("sud/backup.toml").exists(),
        "the copy caught up: it is no longer a stale backup"
    );
    assert_eq!(digest(dir, "sud"), digest(dir, "hinaura"));
    assert!(
        sud.log().contains("a peer confirmed its own feed"),
        "{}",
        sud.log()
    );
    let verified = on(dir, "hinaura", &["log", "verify"]);
    assert!(verified.contains("OK :"), "{verified}");
    sud.stop();

    // The same restore signed with --offline: the node signs seq 2 a second time.
    std::fs::remove_dir_all(dir.join("sud")).unwrap();
    copy_dir(&backup, &dir.join("sud"));
    let mut sud = Served::start(dir, "sud", ports[0], &[], &["--offline"]);
    issue_caf_batch(dir, "sud", "13-2026-CAF-09", "10");
    assert_eq!(feed(dir, "sud", "Hub du Sud").0, 2);
    sud.stop();
    let mut sud = Served::start(dir, "sud", ports[0], &[ports[1]], &["--offline"]);
    let deadline = Instant::now() + Duration::from_secs(30);
    while feed(dir, "hinaura", "Hub du Sud").1.is_none() {
        assert!(
            Instant::now() < deadline,
            "the fork was never found: {}",
            on(dir, "hinaura", &["status"])
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(feed(dir, "hinaura", "Hub du Sud").1, Some(2));
    let out = maillage(dir, &["--data-dir", "hinaura", "log", "verify"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stdout).contains("BIFURCATION : le flux"));
    sud.stop();
    hinaura.stop();
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(to, std::fs::Permissions::from_mode(0o700)).unwrap();
    }
}

/// The id of the proposal a `federation propose --json` signed.
fn proposal_id(out: &str) -> String {
    json(out)["event"].as_str().unwrap().to_owned()
}

/// Waits until `node`'s views hold `number` amendments in effect.
fn wait_for_amendments(dir: &Path, node: &str, number: u64) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let shown = json(&on(dir, node, &["federation", "show", "--json"]));
        if shown["amendments_in_effect"].as_u64() >= Some(number) {
            return;
        }
        assert!(Instant::now() < deadline, "{node}: {shown}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn converged(dir: &Path, nodes: &[&str]) -> String {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let digests: Vec<String> = nodes.iter().map(|n| digest(dir, n)).collect();
        if digests.iter().all(|d| *d == digests[0]) {
            return digests[0].clone();
        }
        assert!(Instant::now() < deadline, "no convergence: {digests:?}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn a_hub_joins_a_running_federation_a_key_rotates_and_a_hub_leaves() {
    let work = tempfile::tempdir().unwrap();
    let dir = work.path();
    federation(
        dir,
        &[
            ("sud", "Hub du Sud", "13,84"),
            ("hinaura", "Hinaura", "69,74"),
            ("anct", "ANCT", ""),
        ],
    );
    let ports = [free_port(), free_port(), free_port(), free_port()];
    let mut sud = Served::start(dir, "sud", ports[0], &[ports[1]], &[]);
    let mut hinaura = Served::start(dir, "hinaura", ports[1], &[ports[0]], &[]);
    let mut anct = Served::start(dir, "anct", ports[2], &[ports[0], ports[1]], &[]);

    // Two hubs now endorse every change.
    let out = on(
        dir,
        "sud",
        &[
            "federation",
            "propose",
            "--reason",
            "deux hubs pour chaque changement",
            "threshold",
            "2",
        ],
    );
    assert!(
        out.contains("amendement 1 proposé") && out.contains("en vigueur"),
        "{out}"
    );

    // A new hub, in Brittany: its own key, the charter, and a proposal endorsed by two hubs.
    let key = on(dir, "ouest", &["init"])
        .lines()
        .next()
        .unwrap()
        .trim()
        .to_owned();
    let joined = maillage(
        dir,
        &[
            "--data-dir",
            "ouest",
            "init",
            "--charter",
            "charter.pb",
            "--name",
            "Hub Ouest",
        ],
    );
    assert!(joined.status.success(), "{joined:?}");
    assert!(
        String::from_utf8_lossy(&joined.stderr).contains("n'est pas dans la charte fondatrice")
    );
    wait_for_amendments(dir, "hinaura", 1);
    let proposal = proposal_id(&on(
        dir,
        "sud",
        &[
            "federation",
            "propose",
            "--reason",
            "nouveau hub breton",
            "admit",
            "--key",
            &key,
            "--name",
            "Hub Ouest",
            "--territories",
            "29,35",
            "--json",
        ],
    ));
    wait_for_seq(dir, "hinaura", "Hub du Sud", 2);
    let endorsed = on(dir, "hinaura", &["federation", "endorse", &proposal[..12]]);
    assert!(endorsed.contains("désormais en vigueur"), "{endorsed}");
    wait_for_amendments(dir, "sud", 2);

    // The new hub starts, replicates, and authors; Hub du Sud adds it to its peers.
    let mut ouest = Served::start(dir, "ouest", ports[3], &[ports[0], ports[1]], &[]);
    wait_for_amendments(dir, "ouest", 2);
    sud.stop();
    let mut sud = Served::start(dir, "sud", ports[0], &[ports[1], ports[3]], &[]);
    issue_caf_batch(dir, "ouest", "29-2026-CAF-01", "10");
    wait_for_seq(dir, "anct", "Hub Ouest", 1);
    let shown = on(dir, "anct", &["federation", "show"]);
    assert!(
        shown.contains("Hub Ouest") && shown.contains("EN VIGUEUR"),
        "{shown}"
    );
    converged(dir, &["sud", "hinaura", "anct", "ouest"]);

    // Hinaura rotates its key: the next key, its succession proposed by Hinaura (its last
    // event under the old key) and endorsed by Hub du Sud while Hinaura is down, then the
    // node switches. Hub du Sud, its only peer, folds the succession first and refuses the old
    // key from then on: Hinaura links under its next key to receive the endorsement.
    let next = on(dir, "hinaura", &["key", "new"]).trim().to_owned();
    let rotation = proposal_id(&on(
        dir,
        "hinaura",
        &[
            "federation",
            "propose",
            "--reason",
            "rotation annuelle de la clé",
            "succeed",
            "--member",
            "Hinaura",
            "--successor",
            &next,
            "--json",
        ],
    ));
    let hinaura_seq = feed(dir, "hinaura", "Hinaura").0;
    wait_for_seq(dir, "sud", "Hinaura", hinaura_seq);
    hinaura.stop();
    on(dir, "sud", &["federation", "endorse", &rotation[..12]]);
    wait_for_amendments(dir, "sud", 3);
    hinaura.spawn();
    wait_for_amendments(dir, "hinaura", 3);
    hinaura.stop();
    let rotated = on(dir, "hinaura", &["key", "rotate"]);
    assert!(
        rotated.contains(&format!("signe désormais avec {next}")),
        "{rotated}"
    );
    let mut hinaura = Served::start(dir, "hinaura", ports[1], &[ports[0]], &[]);
    // Under its new key, Hinaura holds its départements and issues a batch of them.
    issue_caf_batch(dir, "hinaura", "69-2026-CAF-01", "10");
    let shown = json(&on(dir, "anct", &["federation", "show", "--json"]));
    let seat = shown["members"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["name"] == "Hinaura")
        .cloned()
        .unwrap();
    assert_eq!(seat["key"], next.as_str(), "{shown}");
    assert_eq!(seat["former_keys"].as_array().unwrap().len(), 1, "{shown}");

    // The Brittany hub leaves: its later events never count anywhere.
    let removal = proposal_id(&on(
        dir,
        "sud",
        &[
            "federation",
            "propose",
            "--reason",
            "fin du financement",
            "remove",
            "--member",
            "Hub Ouest",
            "--json",
        ],
    ));
    wait_for_amendments(dir, "hinaura", 3);
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if maillage(
            dir,
            &[
                "--data-dir",
                "hinaura",
                "federation",
                "endorse",
                &removal[..12],
            ],
        )
        .status
        .success()
        {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "hinaura never saw the removal proposal"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    wait_for_amendments(dir, "anct", 4);
    let agreed = converged(dir, &["sud", "hinaura", "anct"]);
    assert!(!agreed.is_empty());
    let shown = on(dir, "anct", &["federation", "show"]);
    assert!(shown.contains("[retiré]"), "{shown}");
    ouest.stop();
    anct.stop();
    hinaura.stop();
    sud.stop();

    // Hinaura's views are lost (a release that changes their format does the same): they are
    // folded again from its store, which opens knowing only the founding charter. Its feed
    // under the key that charter does not name is kept, and counts again once the fold
    // reaches the succession: the same views, offline.
    std::fs::remove_file(dir.join("hinaura/views.bin")).unwrap();
    let status = on(dir, "hinaura", &["status"]);
    assert!(!status.contains("ABÎMÉ"), "{status}");
    assert_eq!(digest(dir, "hinaura"), agreed);
}

/// A voucher's status on `node`: (status, claims as (answer, event)).
fn voucher(dir: &Path, node: &str, serial: &str) -> serde_json::Value {
    json(&on(dir, node, &["voucher", "status", serial, "--json"]))
}

#[test]
fn a_forked_hub_is_recovered_under_a_successor_key_keeping_what_the_federation_held() {
    let work = tempfile::tempdir().unwrap();
    let dir = work.path();
    federation(
        dir,
        &[
            ("sud", "Hub du Sud", "13,84"),
            ("hinaura", "Hinaura", "69,74"),
        ],
    );
    // Hinaura's médiathèque in Lyon, qualified for vouchers.
    served::lyon_venue(dir, "hinaura", &["démarches"]);
    let ports = [free_port(), free_port()];
    let mut sud = Served::start(dir, "sud", ports[0], &[ports[1]], &[]);
    let mut hinaura = Served::start(dir, "hinaura", ports[1], &[ports[0]], &[]);
    issue_caf_batch(dir, "sud", "13-2026-CAF-01", "10");
    let person = on(dir, "sud", &["person", "new"]).trim().to_owned();
    common::hand_out(dir, "sud", "13-2026-CAF-01:1-3", &person);
    let backup = dir.join("backup-sud");
    on(dir, "sud", &["backup", backup.to_str().unwrap()]);
    // After the backup: more vouchers handed out (seq 3), held by Hinaura too.
    common::hand_out(dir, "sud", "13-2026-CAF-01:4-5", &person);
    wait_for_seq(dir, "hinaura", "Hub du Sud", 3);
    sud.stop();

    // The disk is lost; the backup is restored and, with --offline, signs seq 3 again.
    std::fs::remove_dir_all(dir.join("sud")).unwrap();
    copy_dir(&backup, &dir.join("sud"));
    let mut sud = Served::start(dir, "sud", ports[0], &[], &["--offline"]);
    issue_caf_batch(dir, "sud", "13-2026-CAF-09", "10");
    sud.stop();
    // Meanwhile a person presents voucher 4 (handed out in the seq 3 the restore lost) in
    // Lyon: the owner cannot answer, Hinaura records a claim.
    let claimed = json(&on(
        dir,
        "hinaura",
        &[
            "voucher",
            "claim",
            "13-2026-CAF-01-4",
            "--venue",
            "bm-lyon-1er",
            "--service",
            "démarches",
            "--date",
            "2026-03-12",
            "--json",
        ],
    ));
    assert_eq!(claimed["rejected"], false, "{claimed}");
    // The restored node meets Hinaura: the fork is proved, Hub du Sud's feed frozen at seq 2.
    let mut sud = Served::start(dir, "sud", ports[0], &[ports[1]], &["--offline"]);
    let deadline = Instant::now() + Duration::from_secs(30);
    while feed(dir, "hinaura", "Hub du Sud").1.is_none() {
        assert!(
            Instant::now() < deadline,
            "{}",
            on(dir, "hinaura", &["status"])
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    sud.stop();
    assert_eq!(
        voucher(dir, "hinaura", "13-2026-CAF-01-4")["status"],
        "issued"
    );

    // Recovery: the hub's new data dir and key; Hinaura proposes the succession keeping the
    // branch the federation holds (threshold 1: in effect at once).
    let new_key = on(dir, "sud2", &["init"])
        .lines()
        .next()
        .unwrap()
        .trim()
        .to_owned();
    let joined = maillage(
        dir,
        &[
            "--data-dir",
            "sud2",
            "init",
            "--charter",
            "charter.pb",
            "--name",
            "Hub du Sud",
        ],
    );
    assert!(joined.status.success(), "{joined:?}");
    let plan = on(
        dir,
        "hinaura",
        &["federation", "recovery-plan", "--member", "Hub du Sud"],
    );
    let command = plan
        .lines()
        .find(|l| l.trim_start().starts_with("maillage federation propose"))
        .unwrap()
        .trim()
        .to_owned();
    let args: Vec<String> = command
        .replace("NEW_KEY", &new_key)
        .replace("\"restauration après sauvegarde\"", "restauration")
        .split_whitespace()
        .skip(1)
        .map(str::to_owned)
        .collect();
    assert!(
        args.contains(&"--branch".to_owned()) && args.contains(&"3".to_owned()),
        "{plan}"
    );
    let mut full = vec!["--data-dir".to_owned(), "hinaura".to_owned()];
    full.extend(args);
    let refs: Vec<&str> = full.iter().map(String::as_str).collect();
    let proposed = common::ok(dir, &refs);
    assert!(proposed.contains("en vigueur"), "{proposed}");
    // The branch Hinaura held stands again: vouchers 4 and 5 are handed out.
    let deadline = Instant::now() + Duration::from_secs(30);
    while voucher(dir, "hinaura", "13-2026-CAF-01-4")["status"] != "handed_out" {
        assert!(
            Instant::now() < deadline,
            "{}",
            on(dir, "hinaura", &["status"])
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let verified = maillage(dir, &["--data-dir", "hinaura", "log", "verify"]);
    let said = String::from_utf8_lossy(&verified.stdout);
    assert_eq!(verified.status.code(), Some(0), "{said}");
    assert!(
        said.contains("résolue par un amendement à la charte"),
        "{said}"
    );

    // The hub runs again under its new key: it gets its feed back, answers the pending claim,
    // and everything it owned stays redeemable.
    let mut sud2 = Served::start(dir, "sud2", ports[0], &[ports[1]], &[]);
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let state = voucher(dir, "hinaura", "13-2026-CAF-01-4");
        if state["status"] == "redeemed" {
            break;
        }
        assert!(Instant::now() < deadline, "{state}\n{}", sud2.log());
        std::thread::sleep(Duration::from_millis(100));
    }
    issue_caf_batch(dir, "sud2", "13-2026-CAF-02", "10");
    converged(dir, &["sud2", "hinaura"]);
    sud2.stop();
    hinaura.stop();
}

/// Hinaura hands Haute-Savoie to Hub du Sud: a `federation propose` change.
const HAUTE_SAVOIE_TO_SUD: &[&str] = &[
    "move",
    "--from",
    "Hinaura",
    "--to",
    "Hub du Sud",
    "--territories",
    "74",
];

/// Two hubs (Hub du Sud, Hinaura) at threshold 1, not linked: their data dirs.
fn two_hubs() -> tempfile::TempDir {
    let work = tempfile::tempdir().unwrap();
    federation(
        work.path(),
        &[
            ("sud", "Hub du Sud", "13,84"),
            ("hinaura", "Hinaura", "69,74"),
        ],
    );
    work
}

/// `node` proposes `change` for `reason`: the proposal's id.
fn propose(dir: &Path, node: &str, reason: &str, change: &[&str]) -> String {
    let mut args = vec!["federation", "propose", "--reason", reason];
    args.extend_from_slice(change);
    args.push("--json");
    proposal_id(&on(dir, node, &args))
}

/// At threshold 1 two hubs propose amendment 1 without knowing of each other: each is in
/// effect where it is alone. Once their logs are exchanged, one holds the number on both nodes
/// and `federation show` says the other is in force all the same; both nodes end on one digest.
#[test]
fn two_concurrent_amendments_are_shown_alike_on_both_hubs() {
    let work = two_hubs();
    let dir = work.path();
    let propose = |node: &str, reason: &str, change: &[&str]| propose(dir, node, reason, change);
    let raise = propose("sud", "deux voix", &["threshold", "2"]);
    let moved = propose(
        "hinaura",
        "la Haute-Savoie rejoint le Sud",
        HAUTE_SAVOIE_TO_SUD,
    );
    exchange(dir, "sud", "hinaura");
    exchange(dir, "hinaura", "sud");

    let winner = if raise < moved { &raise } else { &moved };
    for node in ["sud", "hinaura"] {
        let shown = json(&on(dir, node, &["federation", "show", "--json"]));
        let amendments = shown["amendments"].as_array().unwrap();
        assert_eq!(amendments.len(), 2, "{shown}");
        for a in amendments {
            let id = a["proposal"].as_str().unwrap();
            assert_eq!(a["in_force"], true, "{node}: {shown}");
            assert_eq!(a["in_effect"], id == winner.as_str(), "{node}: {shown}");
        }
        let text = on(dir, node, &["federation", "show"]);
        assert!(
            text.contains("EN VIGUEUR")
                && text
                    .contains("numéro pris par un autre amendement ; ses clés et arrêts tiennent"),
            "{node}: {text}"
        );
    }
    assert_eq!(digest(dir, "sud"), digest(dir, "hinaura"));
}

/// Two hubs that must both vote propose amendment 2 at the same time: one vote each, the
/// first round can never bring either into effect. Their next votes are of the second round,
/// where the federation agrees, and both hubs show it alike.
#[test]
fn votes_split_for_good_are_cast_again_in_the_next_round() {
    let work = two_hubs();
    let dir = work.path();
    let propose = |node: &str, reason: &str, change: &[&str]| propose(dir, node, reason, change);
    propose("sud", "deux voix", &["threshold", "2"]);
    exchange(dir, "sud", "hinaura");
    let back = propose("sud", "une voix suffit", &["threshold", "1"]);
    propose(
        "hinaura",
        "la Haute-Savoie rejoint le Sud",
        HAUTE_SAVOIE_TO_SUD,
    );
    exchange(dir, "sud", "hinaura");
    exchange(dir, "hinaura", "sud");

    let endorsed = on(dir, "hinaura", &["federation", "endorse", &back[..12]]);
    assert!(
        endorsed.contains("approuvé au tour 2") && !endorsed.contains("en vigueur"),
        "{endorsed}"
    );
    exchange(dir, "hinaura", "sud");
    let endorsed = on(dir, "sud", &["federation", "endorse", &back[..12]]);
    assert!(
        endorsed.contains("approuvé au tour 2 : désormais en vigueur"),
        "{endorsed}"
    );
    exchange(dir, "sud", "hinaura");
    for node in ["sud", "hinaura"] {
        let shown = json(&on(dir, node, &["federation", "show", "--json"]));
        assert_eq!(shown["amendments_in_effect"], 2, "{node}: {shown}");
        let won = (shown["amendments"].as_array().unwrap().iter())
            .find(|a| a["proposal"] == back.as_str())
            .unwrap();
        assert_eq!(
            (won["in_effect"].clone(), won["round"].clone()),
            (true.into(), 2.into())
        );
        let text = on(dir, node, &["federation", "show"]);
        assert!(
            text.contains("approuvé au tour 2 par Hinaura, Hub du Sud"),
            "{node}: {text}"
        );
    }
    assert_eq!(digest(dir, "sud"), digest(dir, "hinaura"));
}
