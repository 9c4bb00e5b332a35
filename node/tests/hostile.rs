//! A hostile member against real daemons: Hub du Sud and Hinaura serve and replicate while a
//! third member's key, held by an attacker in this process, floods Hub du Sud at once with
//! everything a member or a stranger can send: `Hello`s it never proves, handshakes opened and
//! dropped, junk fork proofs, `Pull` streams it never reads, and silent TCP connections. Hub du
//! Sud keeps signing a batch every second throughout, and Hinaura opens a handshake with it
//! every second under its own key, the very key the strangers' Hellos claim. The silent
//! connections come from 127.0.0.2 (the node bounds connections per remote address; an
//! attacker sharing an honest peer's address shares its budget). Every few seconds the test samples Hub
//! du Sud's resident memory and file descriptors and how long its last batch took to reach
//! Hinaura; honest replication must carry on within bounds, and so must memory and
//! descriptors.
//!
//! CI runs 20 s. `MAILLAGE_HOSTILE_SECONDS=600 cargo test --release -p maillage --test hostile
//! -- --nocapture` runs ten minutes and prints the curves.
#![allow(clippy::unwrap_used)]

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use maillage_core::{Charter, SecretKey, pb};
use maillage_proto::v1::federation_client::FederationClient;

mod common;
#[path = "common/served.rs"]
mod served;

use common::{issue_batch_args, json, maillage, on};
use served::{Served, federation, free_port};

fn secret_of(dir: &Path, node: &str) -> SecretKey {
    let text = std::fs::read_to_string(dir.join(node).join("node.key")).unwrap();
    let mut seed = [0u8; 32];
    hex::decode_to_slice(text.trim(), &mut seed).unwrap();
    SecretKey::from_seed(&seed)
}

/// Hub du Sud's feed as `node` holds it.
fn sud_seq(dir: &Path, node: &str) -> u64 {
    let out = maillage(dir, &["--data-dir", node, "status", "--json"]);
    if !out.status.success() {
        return 0;
    }
    json(&String::from_utf8_lossy(&out.stdout))["feeds"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["name"] == "Hub du Sud")
        .and_then(|f| f["seq"].as_u64())
        .unwrap_or(0)
}

/// (resident memory in MiB, open file descriptors) of a process.
fn resources(pid: u32) -> (u64, usize) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let rss_kib: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or(0);
    let fds = std::fs::read_dir(format!("/proc/{pid}/fd")).map_or(0, |d| d.count());
    (rss_kib / 1024, fds)
}

/// `message` with the session token a handshake gave.
fn with_session<T>(token: &str, message: T) -> tonic::Request<T> {
    let mut request = tonic::Request::new(message);
    request
        .metadata_mut()
        .insert("maillage-session", token.parse().unwrap());
    request
}

/// What the attacker managed, counted.
#[derive(Default)]
struct Attack {
    hellos: AtomicU64,
    handshakes: AtomicU64,
    junk_proofs: AtomicU64,
    unread_pulls: AtomicU64,
    silent_connections: AtomicU64,
}

/// Runs the attacker until `stop`: five kinds of abuse at once against `port`.
async fn attack(
    port: u16,
    charter: Arc<Charter>,
    secret: SecretKey,
    sessions_key: SecretKey,
    stop: Arc<AtomicBool>,
    counts: Arc<Attack>,
) {
    let address = format!("http://127.0.0.1:{port}");
    let channel = || {
        maillage_sync::client::endpoint(&address, Duration::from_secs(2))
            .unwrap()
            .connect_lazy()
    };
    let mut tasks = Vec::new();
    // Hellos, never proved: the pending-handshake table of a server that keeps state for them.
    for _ in 0..8 {
        let (charter, stop, counts, channel) =
            (charter.clone(), stop.clone(), counts.clone(), channel());
        let key = secret.hub_id();
        tasks.push(tokio::spawn(async move {
            let mut client = FederationClient::new(channel);
            let mut n = 0u64;
            while !stop.load(Ordering::Relaxed) {
                n += 1;
                let mut nonce = [0u8; 32];
                nonce[..8].copy_from_slice(&n.to_be_bytes());
                nonce[8..16]
                    .copy_from_slice(&(counts.hellos.load(Ordering::Relaxed)).to_be_bytes());
                let _ = client
                    .hello(pb::HelloRequest {
                        federation: charter.federation_id().0.to_vec(),
                        client_key: key.0.to_vec(),
                        client_nonce: nonce.to_vec(),
                        protocol_versions: vec![maillage_core::envelope::PROTOCOL_VERSION],
                    })
                    .await;
                counts.hellos.fetch_add(1, Ordering::Relaxed);
            }
        }));
    }
    // Sessions opened and dropped, junk fork proofs through them, pulls never read.
    let seed = sessions_key.seed();
    for worker in 0..2u64 {
        let (charter, stop, counts) = (charter.clone(), stop.clone(), counts.clone());
        let secret = SecretKey::from_seed(&seed);
        let address = address.clone();
        tasks.push(tokio::spawn(async move {
            let mut held = Vec::new();
            let mut n = 0u64;
            while !stop.load(Ordering::Relaxed) {
                n += 1;
                let channel = maillage_sync::client::endpoint(&address, Duration::from_secs(2))
                    .unwrap()
                    .connect_lazy();
                let mut nonce = [0u8; 32];
                nonce[..8].copy_from_slice(&n.to_be_bytes());
                nonce[8] = worker as u8;
                nonce[9] = 0xEE;
                let Ok((mut client, token, _)) =
                    maillage_sync::client::handshake(channel, &charter, &secret, nonce, None).await
                else {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                };
                counts.handshakes.fetch_add(1, Ordering::Relaxed);
                let junk: Vec<pb::ForkProof> = (0..256)
                    .map(|i| pb::ForkProof {
                        first: Some(pb::SignedEvent {
                            payload: vec![i as u8; 300],
                            signature: vec![7; 64],
                            personal: Vec::new(),
                        }),
                        second: Some(pb::SignedEvent {
                            payload: vec![!(i as u8); 300],
                            signature: vec![9; 64],
                            personal: Vec::new(),
                        }),
                    })
                    .collect();
                if client
                    .announce_forks(with_session(&token, pb::ForkProofs { proofs: junk }))
                    .await
                    .is_ok()
                {
                    counts.junk_proofs.fetch_add(256, Ordering::Relaxed);
                }
                for _ in 0..4 {
                    if let Ok(stream) = client
                        .pull(with_session(
                            &token,
                            pb::PullRequest {
                                ranges: Vec::new(),
                                batch_events_max: 4096,
                                follow: true,
                                named_only: false,
                            },
                        ))
                        .await
                    {
                        counts.unread_pulls.fetch_add(1, Ordering::Relaxed);
                        held.push(stream.into_inner());
                    }
                }
                // Streams are kept unread; the oldest are let go past a few hundred.
                if held.len() > 400 {
                    held.drain(..100);
                }
            }
        }));
    }
    // Silent TCP connections: connect, say nothing, hold.
    {
        let (stop, counts) = (stop.clone(), counts.clone());
        tasks.push(tokio::spawn(async move {
            let mut held = Vec::new();
            while !stop.load(Ordering::Relaxed) {
                // From another loopback address than the honest nodes': the node bounds
                // connections per remote address, and a stranger is not an honest peer's host.
                let connect = async {
                    let socket = tokio::net::TcpSocket::new_v4()?;
                    socket.bind("127.0.0.2:0".parse().unwrap())?;
                    socket.connect(([127, 0, 0, 1], port).into()).await
                };
                if let Ok(Ok(stream)) =
                    tokio::time::timeout(Duration::from_millis(500), connect).await
                {
                    counts.silent_connections.fetch_add(1, Ordering::Relaxed);
                    held.push(stream);
                }
                if held.len() >= 3000 {
                    held.drain(..500);
                }
                tokio::time::sleep(Duration::from_millis(2)).await;
            }
        }));
    }
    for task in tasks {
        let _ = task.await;
    }
}

#[test]
fn a_hostile_member_does_not_stop_honest_replication() {
    let seconds: u64 = std::env::var("MAILLAGE_HOSTILE_SECONDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20);
    let work = tempfile::tempdir().unwrap();
    let dir = work.path();
    federation(
        dir,
        &[
            ("sud", "Hub du Sud", "04,05,06,13,83,84"),
            ("hinaura", "Hinaura", "01,03,07,15,26,38,42,43,63,69,73,74"),
            ("evil", "Hub compromis", "2A"),
            ("evil2", "Hub compromis bis", "2B"),
        ],
    );
    let charter =
        Arc::new(Charter::from_bytes(std::fs::read(dir.join("charter.pb")).unwrap()).unwrap());
    // Strangers flood Hellos claiming Hinaura's own key (a Hello proves nothing); a stolen
    // key opens sessions, announces junk and pulls. Hinaura's real handshakes must go on.
    let hinaura_key = secret_of(dir, "hinaura");
    let claimed = secret_of(dir, "hinaura");
    let evil2 = secret_of(dir, "evil2");
    let ports = [free_port(), free_port()];
    // Logging as a service does (`info`): what a stranger makes it write is what counts.
    let mut sud = Served::start_logging(dir, "sud", ports[0], &[ports[1]], &[], "info");
    let mut hinaura = Served::start(dir, "hinaura", ports[1], &[ports[0]], &[]);
    let pid = sud.pid().unwrap();

    let stop = Arc::new(AtomicBool::new(false));
    let counts = Arc::new(Attack::default());
    let attacker = {
        let (stop, counts) = (stop.clone(), counts.clone());
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(attack(ports[0], charter, claimed, evil2, stop, counts));
        })
    };

    // Hinaura's own handshakes with Hub du Sud, one a second, in the middle of the flood.
    let honest_runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let honest_charter =
        Charter::from_bytes(std::fs::read(dir.join("charter.pb")).unwrap()).unwrap();
    let sud_address = format!("http://127.0.0.1:{}", ports[0]);
    let (mut honest_ok, mut honest_failed) = (0u64, 0u64);

    // Honest work: a batch a second at Hub du Sud, each timed until Hinaura holds it.
    let started = Instant::now();
    let mut samples: Vec<(u64, u64, usize, f64)> = Vec::new();
    let mut worst_ms = 0u128;
    let mut failed = 0;
    let mut batch = 0;
    let mut next_sample = Duration::ZERO;
    let (mut peak_rss, mut peak_fds) = (0, 0);
    while started.elapsed() < Duration::from_secs(seconds) {
        batch += 1;
        let signed = Instant::now();
        let args = issue_batch_args(
            "sud",
            &format!("13-2026-H{batch:05}"),
            "CAF des Bouches-du-Rhône",
            "1",
        );
        let out = maillage(dir, &args.iter().map(String::as_str).collect::<Vec<_>>());
        if !out.status.success() {
            failed += 1;
            eprintln!(
                "batch {batch} refused under attack: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            continue;
        }
        let seq = sud_seq(dir, "sud");
        while sud_seq(dir, "hinaura") < seq {
            assert!(
                signed.elapsed() < Duration::from_secs(30),
                "Hinaura never received Hub du Sud's seq {seq} under attack"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        let took = signed.elapsed();
        let shaken = honest_runtime.block_on(async {
            let channel = maillage_sync::client::endpoint(&sud_address, Duration::from_secs(2))
                .unwrap()
                .connect_lazy();
            let mut nonce = [0u8; 32];
            nonce[..8].copy_from_slice(&(batch as u64).to_be_bytes());
            nonce[8] = 0x11;
            tokio::time::timeout(
                Duration::from_secs(5),
                maillage_sync::client::handshake(
                    channel,
                    &honest_charter,
                    &hinaura_key,
                    nonce,
                    None,
                ),
            )
            .await
        });
        match shaken {
            Ok(Ok(_)) => honest_ok += 1,
            other => {
                honest_failed += 1;
                eprintln!("Hinaura's handshake {batch} failed under attack: {other:?}");
            }
        }
        worst_ms = worst_ms.max(took.as_millis());
        let (rss, fds) = resources(pid);
        peak_rss = peak_rss.max(rss);
        peak_fds = peak_fds.max(fds);
        if started.elapsed() >= next_sample {
            next_sample += Duration::from_secs((seconds / 20).max(2));
            samples.push((
                started.elapsed().as_secs(),
                rss,
                fds,
                took.as_secs_f64() * 1000.0,
            ));
        }
        std::thread::sleep(Duration::from_secs(1).saturating_sub(took));
    }
    stop.store(true, Ordering::Relaxed);
    attacker.join().unwrap();

    eprintln!(
        "attack over {seconds} s: {} Hellos never proved, {} handshakes, {} junk fork proofs, {} unread Pull streams, {} silent connections",
        counts.hellos.load(Ordering::Relaxed),
        counts.handshakes.load(Ordering::Relaxed),
        counts.junk_proofs.load(Ordering::Relaxed),
        counts.unread_pulls.load(Ordering::Relaxed),
        counts.silent_connections.load(Ordering::Relaxed),
    );
    eprintln!("   s   RSS MiB   fds   sign→Hinaura ms");
    for (s, rss, fds, ms) in &samples {
        eprintln!("{s:>4}   {rss:>7}   {fds:>4}   {ms:>10.0}");
    }
    eprintln!(
        "{batch} batches, {failed} refused; worst sign→Hinaura {worst_ms} ms; peak {peak_rss} MiB, {peak_fds} fds; log {} bytes",
        std::fs::metadata(dir.join("sud.log")).map_or(0, |m| m.len())
    );
    eprintln!(
        "Hinaura's own handshakes during the flood: {honest_ok} succeeded, {honest_failed} failed"
    );
    assert_eq!(
        failed, 0,
        "Hub du Sud refused its staff's work under attack"
    );
    assert_eq!(
        honest_failed, 0,
        "Hinaura's handshakes failed while strangers claimed its key"
    );
    assert!(
        worst_ms < 10_000,
        "replication took {worst_ms} ms under attack"
    );
    assert!(
        peak_rss < 1024,
        "Hub du Sud grew to {peak_rss} MiB under attack"
    );
    assert!(
        peak_fds < 2048,
        "Hub du Sud held {peak_fds} descriptors under attack"
    );
    // A log a stranger can grow grows slowly: a few lines per source a minute.
    let log = std::fs::metadata(dir.join("sud.log")).map_or(0, |m| m.len());
    assert!(
        log < 50_000 + 2_000 * seconds,
        "Hub du Sud wrote {log} bytes of log in {seconds} s under attack"
    );
    on(dir, "sud", &["log", "verify"]);
    // The honest handshakes' connections stay open, unanswered (their runtime is idle): a
    // stop must not wait for such clients beyond its bound.
    sud.stop();
    hinaura.stop();
}
