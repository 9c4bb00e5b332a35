//! The federation over gRPC, with real `maillage serve` processes on 127.0.0.1: hubs and an
//! observer converge to one digest; a node killed with SIGKILL mid-replication restarts and
//! converges; a hub cut off has its voucher claimed and answers the claim when it returns; an
//! online cross-territory redemption goes through the owner's transfer call; an equivocating
//! hub is frozen everywhere; a tampered event from a peer is rejected alone and logged; a
//! node of another federation is refused at the handshake; an oversized message is refused and
//! the node keeps serving.
#![allow(clippy::unwrap_used)]

use std::path::Path;
use std::time::{Duration, Instant};

use maillage_proto::v1 as pb;
use maillage_proto::v1::federation_client::FederationClient;

mod common;
#[path = "common/served.rs"]
mod served;

use common::{hand_out, issue_caf_batch, json, maillage, ok, on, venues_file, wait_live};
use served::{Served, federation, free_port, lyon_venue};

/// The digest of each node, polled until all agree and cover `events` events (or panic with
/// what each node reports after `within`).
fn converge(dir: &Path, nodes: &[&str], events: u64, within: Duration) -> String {
    let deadline = Instant::now() + within;
    loop {
        let digests: Vec<(String, u64)> = nodes
            .iter()
            .map(|node| {
                let d = json(&on(dir, node, &["digest", "--json"]));
                let applied: u64 = d["applied"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|a| a["events"].as_u64().unwrap())
                    .sum();
                (d["digest"].as_str().unwrap().to_string(), applied)
            })
            .collect();
        if digests.iter().all(|d| *d == digests[0]) && digests[0].1 >= events {
            return digests[0].0.clone();
        }
        if Instant::now() > deadline {
            let status: Vec<String> = nodes.iter().map(|n| on(dir, n, &["status"])).collect();
            panic!(
                "no convergence within {within:?}: {digests:?}\n{}",
                status.join("\n")
            );
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn stored_events(dir: &Path, node: &str) -> u64 {
    json(&on(dir, node, &["status", "--json"]))["events_stored"]
        .as_u64()
        .unwrap()
}

#[test]
fn three_hubs_and_an_observer_converge_and_survive_a_sigkill() {
    let work = tempfile::tempdir().unwrap();
    let dir = work.path();
    federation(
        dir,
        &[
            ("sud", "sud", "04,05,06,13,83,84"),
            ("hinaura", "hinaura", "01,03,07,15,26,38,42,43,63,69,73,74"),
            ("charente", "charente", "16"),
            ("anct", "anct", ""),
        ],
    );
    let ports: Vec<u16> = (0..4).map(|_| free_port()).collect();
    let mut sud = Served::start(dir, "sud", ports[0], &[ports[1], ports[2]], &[]);
    let mut hinaura = Served::start(dir, "hinaura", ports[1], &[ports[0], ports[2]], &[]);
    let mut charente = Served::start(dir, "charente", ports[2], &[ports[0], ports[1]], &[]);
    // The observer pulls from two hubs.
    let mut anct = Served::start(dir, "anct", ports[3], &[ports[0], ports[1]], &[]);

    // Every hub authors: its venue map (real exports) and some domain events.
    for (node, file) in [
        ("sud", "hub-du-sud-2023-05-17.json"),
        ("hinaura", "hinaura-2022-v0.1.json"),
        ("charente", "charente-2023-07-11.json"),
    ] {
        let path = venues_file(file);
        on(dir, node, &["venues", "import", path.to_str().unwrap()]);
    }
    issue_caf_batch(dir, "sud", "13-2026-CAF-01", "50");
    // The observer refuses to author, even through its daemon.
    let refused = maillage(
        dir,
        &[
            "--data-dir",
            "anct",
            "voucher",
            "issue",
            "--batch",
            "13-2026-CAF-02",
            "--funder",
            "x",
            "--funder-siret",
            "53418890200012",
            "--count",
            "1",
            "--valid-from",
            "2026-01-01",
            "--valid-until",
            "2026-12-31",
            "--redeem-deadline",
            "2027-01-31",
        ],
    );
    assert!(!refused.status.success());

    let total: u64 = ["sud", "hinaura", "charente"]
        .iter()
        .map(|n| {
            json(&on(dir, n, &["status", "--json"]))["feeds"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|f| f["name"] == *n)
                .map(|f| f["seq"].as_u64().unwrap())
                .sum::<u64>()
        })
        .sum();
    assert!(total > 900, "{total}");
    let digest = converge(
        dir,
        &["sud", "hinaura", "charente", "anct"],
        total,
        Duration::from_secs(60),
    );

    // Peers are live and lag nothing.
    let status = wait_live(dir, "anct", 2);
    let peers = status["peers"].as_array().unwrap();
    assert_eq!(
        peers.iter().filter(|p| p["state"] == "live").count(),
        2,
        "{status}"
    );
    assert!(
        peers
            .iter()
            .all(|p| p["lag"].as_array().unwrap().is_empty())
    );

    // A fresh observer-to-be: kill the observer with SIGKILL while it catches up from scratch.
    anct.kill();
    std::fs::remove_dir_all(dir.join("anct/store")).unwrap();
    let _ = std::fs::remove_file(dir.join("anct/views.bin"));
    anct.spawn();
    let deadline = Instant::now() + Duration::from_secs(30);
    while stored_events(dir, "anct") == 0 {
        assert!(Instant::now() < deadline);
        std::thread::sleep(Duration::from_millis(5));
    }
    anct.kill();
    anct.spawn(); // stale serve.addr from the SIGKILL is detected and replaced
    let again = converge(
        dir,
        &["sud", "hinaura", "charente", "anct"],
        total,
        Duration::from_secs(60),
    );
    assert_eq!(again, digest);
    on(dir, "anct", &["log", "verify"]);

    for daemon in [&mut sud, &mut hinaura, &mut charente, &mut anct] {
        daemon.stop();
    }
    // Stopped cleanly: no serve.addr left, and the CLI works on the data dir directly.
    assert!(!dir.join("sud/serve.addr").exists());
    let offline = json(&on(dir, "anct", &["digest", "--json"]));
    assert_eq!(offline["digest"], digest);
}

fn voucher_status(dir: &Path, node: &str, serial: &str) -> String {
    json(&on(dir, node, &["voucher", "status", serial, "--json"]))["status"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[test]
fn vouchers_cross_territories_online_and_through_a_partition() {
    let work = tempfile::tempdir().unwrap();
    let dir = work.path();
    federation(
        dir,
        &[
            ("sud", "sud", "04,05,06,13,83,84"),
            ("hinaura", "hinaura", "01,03,07,15,26,38,42,43,63,69,73,74"),
        ],
    );
    // Hinaura's médiathèque in Lyon, qualified; Hub du Sud's batch and a person's carnet.
    lyon_venue(dir, "hinaura", &["démarches", "outils numériques"]);
    issue_caf_batch(dir, "sud", "13-2026-CAF-01", "10");
    let person = json(&on(dir, "sud", &["person", "new", "--json"]))["code"]
        .as_str()
        .unwrap()
        .to_owned();
    hand_out(dir, "sud", "13-2026-CAF-01:1-5", &person);

    let ports = [free_port(), free_port()];
    let mut sud = Served::start(dir, "sud", ports[0], &[ports[1]], &[]);
    let mut hinaura = Served::start(dir, "hinaura", ports[1], &[ports[0]], &[]);
    converge(dir, &["sud", "hinaura"], 4, Duration::from_secs(30));

    // Online: Hinaura's venue redeems a voucher of Hub du Sud; the owner transfers it first.
    // What it did on stdout, why (an unreachable owner) on stderr.
    let redeem = |serial: &str| {
        let out = maillage(
            dir,
            &[
                "--data-dir",
                "hinaura",
                "voucher",
                "redeem",
                serial,
                "--venue",
                "bm-lyon-1er",
                "--service",
                "démarches",
                "--date",
                "2026-03-10",
            ],
        );
        assert!(out.status.success(), "{out:?}");
        (
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (online, _) = redeem("13-2026-CAF-01-1");
    assert!(
        online.contains("transféré en ligne par son propriétaire sud"),
        "{online}"
    );
    assert!(online.contains("pass 13-2026-CAF-01-1 utilisé"), "{online}");
    converge(dir, &["sud", "hinaura"], 6, Duration::from_secs(30));
    assert_eq!(voucher_status(dir, "sud", "13-2026-CAF-01-1"), "redeemed");

    // Partition: Hub du Sud is down; the redemption becomes a claim.
    sud.stop();
    let (offline, why) = redeem("13-2026-CAF-01-2");
    assert!(why.contains("propriétaire sud injoignable"), "{why}");
    assert!(offline.contains("réclamé"), "{offline}");
    assert_eq!(
        voucher_status(dir, "hinaura", "13-2026-CAF-01-2"),
        "handed_out"
    );
    // A voucher already redeemed cannot be claimed again: the rules refuse it (exit 3) and
    // nothing is signed.
    let again = maillage(
        dir,
        &[
            "--data-dir",
            "hinaura",
            "voucher",
            "redeem",
            "13-2026-CAF-01-1",
            "--venue",
            "bm-lyon-1er",
            "--service",
            "démarches",
            "--date",
            "2026-03-11",
        ],
    );
    assert_eq!(again.status.code(), Some(3), "{again:?}");

    // The link returns: Hub du Sud answers the claim by itself, everyone sees it redeemed.
    sud.spawn();
    let deadline = Instant::now() + Duration::from_secs(30);
    while voucher_status(dir, "hinaura", "13-2026-CAF-01-2") != "redeemed" {
        assert!(
            Instant::now() < deadline,
            "claim not answered: {}\n{}",
            sud.log(),
            hinaura.log()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    // 6 + the claim + its answer: the second redemption above was refused before signing.
    converge(dir, &["sud", "hinaura"], 8, Duration::from_secs(30));
    assert_eq!(voucher_status(dir, "sud", "13-2026-CAF-01-2"), "redeemed");
    sud.stop();
    hinaura.stop();
}

/// Flips the last byte (part of the Ed25519 signature) of the `index`-th event frame of a
/// store's data file, and writes the frame's checksum again: not a disk fault (the store would
/// see that) but a forgery, which only signature verification can catch.
fn tamper_signature(store: &Path, index: usize) {
    let path = store.join("events.log");
    let mut bytes = std::fs::read(&path).unwrap();
    assert!(bytes.starts_with(b"MAILLAGE-EVENTS\0"), "data file header");
    let mut at = 20;
    for _ in 0..index {
        let len = u32::from_be_bytes(bytes[at + 1..at + 5].try_into().unwrap()) as usize;
        at += 9 + len;
    }
    assert_eq!(bytes[at], 0xE6, "frame tag");
    let len = u32::from_be_bytes(bytes[at + 1..at + 5].try_into().unwrap()) as usize;
    bytes[at + 4 + len] ^= 0x01;
    let crc = crc32fast::hash(&bytes[at..at + 5 + len]);
    bytes[at + 5 + len..at + 9 + len].copy_from_slice(&crc.to_be_bytes());
    std::fs::write(&path, bytes).unwrap();
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

fn feed_of<'a>(status: &'a serde_json::Value, name: &str) -> &'a serde_json::Value {
    status["feeds"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["name"] == name)
        .unwrap_or_else(|| panic!("no feed {name} in {status}"))
}

#[test]
fn equivocation_forgery_and_strangers_are_caught() {
    let work = tempfile::tempdir().unwrap();
    let dir = work.path();
    federation(
        dir,
        &[
            ("x", "x", "13"),
            ("y", "y", "69"),
            ("evil", "evil", "16"),
            ("forger", "forger", "04,05,06,83,84"),
            ("o", "o", ""),
        ],
    );
    let issue = |node: &str, batch: &str| {
        on(
            dir,
            node,
            &[
                "voucher",
                "issue",
                "--batch",
                batch,
                "--funder",
                "Département",
                "--funder-siret",
                "53418890200012",
                "--count",
                "3",
                "--valid-from",
                "2026-01-01",
                "--valid-until",
                "2026-12-31",
                "--redeem-deadline",
                "2027-01-31",
            ],
        )
    };
    // The equivocating hub: one history, copied, then two different seq 2.
    issue("evil", "16-2026-CD-01");
    copy_dir(&dir.join("evil"), &dir.join("evil-twin"));
    issue("evil", "16-2026-CD-02");
    issue("evil-twin", "16-2026-CD-03");
    // The forger's store: real events, one signature byte flipped in the 10th.
    let sud = venues_file("hub-du-sud-2023-05-17.json");
    on(dir, "forger", &["venues", "import", sud.to_str().unwrap()]);
    tamper_signature(&dir.join("forger/store"), 9);
    // A node of another federation.
    ok(
        dir,
        &[
            "--data-dir",
            "stranger",
            "init",
            "--name",
            "Ailleurs",
            "--territories",
            "13",
        ],
    );

    let p: Vec<u16> = (0..7).map(|_| free_port()).collect();
    let (px, py, pe, pt, pf, po, ps) = (p[0], p[1], p[2], p[3], p[4], p[5], p[6]);
    let _evil = Served::start(dir, "evil", pe, &[], &[]);
    let _twin = Served::start(dir, "evil-twin", pt, &[], &[]);
    let _forger = Served::start(dir, "forger", pf, &[], &[]);
    let mut x = Served::start(dir, "x", px, &[pe, py, pf], &[]);
    let mut y = Served::start(dir, "y", py, &[pt, px], &[]);
    let mut o = Served::start(dir, "o", po, &[px, py], &[]);
    let mut stranger = Served::start(dir, "stranger", ps, &[px], &[]);

    // Every node ends with the evil feed frozen at the fork, whichever version it saw first.
    let deadline = Instant::now() + Duration::from_secs(40);
    for node in ["x", "y", "o"] {
        loop {
            let status = json(&on(dir, node, &["status", "--json"]));
            let feed = feed_of(&status, "evil");
            if feed["frozen"] == true {
                assert_eq!(feed["fork_seq"], 2, "{status}");
                assert_eq!(feed["seq"], 1, "{status}");
                break;
            }
            assert!(
                Instant::now() < deadline,
                "{node} never froze evil: {status}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
    // A store holding a fork proof does not verify "OK": the fork is named and the exit code
    // says so (a script checking backups must not pass it).
    let out = maillage(dir, &["--data-dir", "o", "log", "verify"]);
    let verified = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(2), "{verified}");
    assert!(verified.contains("1 preuves de bifurcation"), "{verified}");
    assert!(
        verified.contains("BIFURCATION : le flux") && verified.contains("BIFURQUÉ"),
        "{verified}"
    );

    // The forged event is rejected alone and logged: x keeps the nine before it.
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let status = json(&on(dir, "x", &["status", "--json"]));
        let rejected = status["rejected_from_peers"].as_array().unwrap();
        if rejected
            .iter()
            .any(|r| r["reason"].as_str().unwrap().contains("signature"))
        {
            assert_eq!(feed_of(&status, "forger")["seq"], 9, "{status}");
            break;
        }
        assert!(Instant::now() < deadline, "no rejection: {status}");
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(x.log().contains("peer event rejected"), "{}", x.log());

    // The stranger is refused at the handshake and says why.
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let status = json(&on(dir, "stranger", &["status", "--json"]));
        let error = status["peers"][0]["last_error"]
            .as_str()
            .unwrap_or("")
            .to_owned();
        if error.contains("expected federation") {
            break;
        }
        assert!(Instant::now() < deadline, "{status}");
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(x.log().contains("handshake refused"), "{}", x.log());

    // A 5 MiB handshake opening to a running node: refused by the size limit before any
    // handler runs; the node keeps serving its peers and its operator.
    let refusal = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(async {
            let mut raw = FederationClient::connect(format!("http://127.0.0.1:{px}"))
                .await
                .unwrap()
                .max_encoding_message_size(64 << 20);
            raw.hello(pb::HelloRequest {
                client_nonce: vec![7; 5 << 20],
                ..Default::default()
            })
            .await
            .unwrap_err()
        });
    assert!(
        matches!(
            refusal.code(),
            tonic::Code::OutOfRange | tonic::Code::ResourceExhausted
        ),
        "{refusal:?}"
    );
    let status = json(&on(dir, "x", &["status", "--json"]));
    assert_eq!(feed_of(&status, "forger")["seq"], 9, "{status}");
    assert!(!x.log().contains("panicked"), "{}", x.log());

    // x, y and o agree on everything they verified (once the last events reached each).
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let digests: Vec<String> = ["x", "y", "o"]
            .iter()
            .map(|n| json(&on(dir, n, &["digest", "--json"]))["digest"].to_string())
            .collect();
        if digests.iter().all(|d| *d == digests[0]) {
            break;
        }
        assert!(Instant::now() < deadline, "{digests:?}");
        std::thread::sleep(Duration::from_millis(100));
    }
    for daemon in [&mut x, &mut y, &mut o, &mut stranger] {
        daemon.stop();
    }
}

/// A certificate authority and a certificate for `localhost` it signed, as PEM files in `dir`:
/// `ca.pem`, `node.pem`, `node.key.pem`.
fn tls_files(dir: &Path) {
    use rcgen::{BasicConstraints, CertificateParams, IsCa, KeyPair, KeyUsagePurpose};
    let mut ca_params = CertificateParams::new(Vec::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let ca_key = KeyPair::generate().unwrap();
    let ca = ca_params.self_signed(&ca_key).unwrap();
    let node_params = CertificateParams::new(vec!["localhost".to_string()]).unwrap();
    let node_key = KeyPair::generate().unwrap();
    let node = node_params.signed_by(&node_key, &ca, &ca_key).unwrap();
    std::fs::write(dir.join("ca.pem"), ca.pem()).unwrap();
    std::fs::write(dir.join("node.pem"), node.pem()).unwrap();
    std::fs::write(dir.join("node.key.pem"), node_key.serialize_pem()).unwrap();
}

#[test]
fn hubs_replicate_over_tls_and_refuse_a_plaintext_peer() {
    let work = tempfile::tempdir().unwrap();
    let dir = work.path();
    federation(
        dir,
        &[
            ("sud", "sud", "04,05,06,13,83,84"),
            ("anct", "anct", ""),
            ("plain", "plain", ""),
        ],
    );
    tls_files(dir);
    let ports = [free_port(), free_port(), free_port()];
    // Both ends configured in node.toml: a TLS listener, a peer reached over https.
    for (node, own, peer) in [("sud", ports[0], ports[1]), ("anct", ports[1], ports[0])] {
        let path = dir.join(node).join("node.toml");
        let mut config = std::fs::read_to_string(&path).unwrap();
        config.push_str(&format!(
            "\n[serve]\nlisten = \"127.0.0.1:{own}\"\n\n[serve.tls]\ncert = \"{cert}\"\nkey = \"{key}\"\n\n[[serve.peers]]\naddress = \"https://127.0.0.1:{peer}\"\nca = \"{ca}\"\ntls_domain = \"localhost\"\n",
            cert = dir.join("node.pem").display(),
            key = dir.join("node.key.pem").display(),
            ca = dir.join("ca.pem").display(),
        ));
        std::fs::write(&path, config).unwrap();
    }
    let sud_file = venues_file("hub-du-sud-2023-05-17.json");
    // A hub with peers in node.toml signs through its daemon, which first compares its feed
    // with a peer's; without one it refuses, unless --offline.
    let refused = maillage(
        dir,
        &[
            "--data-dir",
            "sud",
            "venues",
            "import",
            sud_file.to_str().unwrap(),
        ],
    );
    assert!(
        String::from_utf8_lossy(&refused.stderr)
            .contains("nomme 1 pair(s) et aucun `maillage serve` ne tourne"),
        "{refused:?}"
    );
    on(
        dir,
        "sud",
        &["--offline", "venues", "import", sud_file.to_str().unwrap()],
    );
    let mut sud = Served::start(dir, "sud", ports[0], &[], &[]);
    let mut anct = Served::start(dir, "anct", ports[1], &[], &[]);
    // A peer dialling the TLS listener in plaintext gets nowhere.
    let mut plain = Served::start(dir, "plain", ports[2], &[ports[0]], &[]);

    let digest = converge(dir, &["sud", "anct"], 646, Duration::from_secs(60));
    assert!(!digest.is_empty());
    let status = wait_live(dir, "anct", 1);
    let link = status["peers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["address"].as_str().unwrap().starts_with("https://"))
        .unwrap_or_else(|| panic!("no https link: {status}"));
    assert_eq!(link["state"], "live", "{status}");
    assert_eq!(link["events_received"], 646, "{status}");
    // ... and is told why, in words that say what to change.
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let status = json(&on(dir, "plain", &["status", "--json"]));
        if status["peers"][0]["last_error"]
            .as_str()
            .unwrap_or("")
            .contains("TLS mismatch: the peer at http://127.0.0.1:")
        {
            assert_eq!(status["events_stored"], 0, "{status}");
            break;
        }
        assert!(Instant::now() < deadline, "{status}");
        std::thread::sleep(Duration::from_millis(100));
    }
    for daemon in [&mut sud, &mut anct, &mut plain] {
        daemon.stop();
    }
}
