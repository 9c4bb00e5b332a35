//! Faults on real daemons: two hubs and a national observer serving on loopback, staff
//! authoring batches and redeeming vouchers across territories (online transfers, or claims
//! when the owner is down) while, at random moments, a node is SIGKILLed (restarted at once or
//! a second later) or SIGSTOPped (frozen, then resumed), or one link between two nodes is cut,
//! stalled or slowed (every link goes through a user-space proxy of the test). After the last
//! fault every node runs again, and:
//! - no acknowledged event is lost: every position a command reported signed is held by every
//!   node, and no feed forked (a position signed twice would be a fork);
//! - every node's store verifies (`log verify`), and every node ends on one digest;
//! - no voucher is redeemed twice: a voucher presented at both hubs' venues is redeemed at most
//!   once, and every node says the same of it;
//! - memory and file descriptors of each daemon stay within bounds.
//!
//! CI runs 12 faults. `MAILLAGE_FAULTS=1000 cargo test --release -p maillage --test faults --
//! --nocapture` runs a long campaign; `MAILLAGE_FAULT_SEED` replays one (the seed is printed).
#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

mod common;
#[path = "common/served.rs"]
mod served;

use common::{hand_out, issue_batch_args, issue_caf_batch, json, maillage, on};
use served::{Served, federation, free_port, lyon_venue, martigues_venue};

/// What a [`Link`] does to the bytes between two nodes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum LinkMode {
    /// Forwards them.
    Pass,
    /// Holds them: connections stay open, nothing crosses (a stalled route).
    Stall,
    /// Forwards each chunk 150 ms late.
    Slow,
    /// Closes every connection and refuses new ones (a cut cable).
    Cut,
}

/// A user-space TCP proxy in front of a node: the links between nodes go through it, so that
/// a test can cut, stall or slow one link while the others carry on (the kernel here has no
/// `netem`).
struct Link {
    port: u16,
    mode: std::sync::Arc<std::sync::Mutex<LinkMode>>,
}

impl Link {
    /// Listens on a free port, forwarding to 127.0.0.1:`upstream`.
    fn to(upstream: u16) -> Self {
        use std::net::{Shutdown, TcpListener, TcpStream};
        let listener = TcpListener::bind(("127.0.0.1", free_port())).unwrap();
        let port = listener.local_addr().unwrap().port();
        let mode = std::sync::Arc::new(std::sync::Mutex::new(LinkMode::Pass));
        let shared = mode.clone();
        std::thread::spawn(move || {
            for client in listener.incoming().flatten() {
                let current = *shared.lock().unwrap();
                if current == LinkMode::Cut {
                    let _ = client.shutdown(Shutdown::Both);
                    continue;
                }
                let Ok(server) = TcpStream::connect(("127.0.0.1", upstream)) else {
                    continue;
                };
                for (mut from, mut to) in [
                    (client.try_clone().unwrap(), server.try_clone().unwrap()),
                    (server, client),
                ] {
                    let mode = shared.clone();
                    std::thread::spawn(move || {
                        use std::io::{Read, Write};
                        let mut buffer = vec![0u8; 64 * 1024];
                        loop {
                            let n = match from.read(&mut buffer) {
                                Ok(0) | Err(_) => break,
                                Ok(n) => n,
                            };
                            loop {
                                let current = *mode.lock().unwrap();
                                match current {
                                    LinkMode::Stall => {
                                        std::thread::sleep(Duration::from_millis(20));
                                    }
                                    LinkMode::Slow => {
                                        std::thread::sleep(Duration::from_millis(150));
                                        break;
                                    }
                                    LinkMode::Pass | LinkMode::Cut => break,
                                }
                            }
                            if *mode.lock().unwrap() == LinkMode::Cut
                                || to.write_all(&buffer[..n]).is_err()
                            {
                                break;
                            }
                        }
                        let _ = from.shutdown(Shutdown::Both);
                        let _ = to.shutdown(Shutdown::Both);
                    });
                }
            }
        });
        Self { port, mode }
    }

    fn set(&self, mode: LinkMode) {
        *self.mode.lock().unwrap() = mode;
    }
}

/// A small deterministic generator (xorshift64*), so that a seed replays a campaign's choices.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// Every `signed event ID (seq N)` a command printed: the events it acknowledged.
fn acknowledged(stdout: &str) -> Vec<(String, u64)> {
    stdout
        .lines()
        .filter_map(|line| {
            let rest = line.split("signed event ").nth(1)?;
            let (id, rest) = rest.split_once(" (seq ")?;
            let seq = rest.split(')').next()?.parse().ok()?;
            Some((id.to_owned(), seq))
        })
        .collect()
}

/// `node` runs `args`: (node, whether it succeeded, its stdout).
fn run_on(dir: &Path, node: &str, args: &[&str]) -> (String, bool, String) {
    let mut all = vec!["--data-dir", node];
    all.extend_from_slice(args);
    let out = maillage(dir, &all);
    (
        node.to_owned(),
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

/// `node`'s status, retried while its daemon restarts.
fn status(dir: &Path, node: &str) -> serde_json::Value {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let out = maillage(dir, &["--data-dir", node, "status", "--json"]);
        if out.status.success() {
            return json(&String::from_utf8_lossy(&out.stdout));
        }
        assert!(
            Instant::now() < deadline,
            "{node}: status keeps failing: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// (seq, fork seq) of each feed `node` holds, by feed name.
fn feeds(dir: &Path, node: &str) -> BTreeMap<String, (u64, u64)> {
    status(dir, node)["feeds"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["name"].as_str().unwrap().to_owned(),
                (
                    f["seq"].as_u64().unwrap(),
                    f["fork_seq"].as_u64().unwrap_or(0),
                ),
            )
        })
        .collect()
}

fn signal(pid: u32, signal: &str) {
    let status = Command::new("kill")
        .args([&format!("-{signal}"), &pid.to_string()])
        .status()
        .unwrap();
    assert!(status.success(), "kill -{signal} {pid}");
}

/// (resident memory in KiB, open file descriptors) of a process.
fn resources(pid: u32) -> (u64, usize) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let rss = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or(0);
    let fds = std::fs::read_dir(format!("/proc/{pid}/fd")).map_or(0, |d| d.count());
    (rss, fds)
}

#[test]
fn acknowledged_events_survive_kills_and_freezes_of_serving_nodes() {
    let faults: usize = std::env::var("MAILLAGE_FAULTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(12);
    let seed: u64 = std::env::var("MAILLAGE_FAULT_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos() as u64
                | 1
        });
    eprintln!("faults: {faults}, seed: {seed} (MAILLAGE_FAULT_SEED={seed} replays it)");
    let mut rng = Rng(seed);

    let work = tempfile::tempdir().unwrap();
    let dir = work.path();
    federation(
        dir,
        &[
            ("sud", "Hub du Sud", "04,05,06,13,83,84"),
            ("hinaura", "Hinaura", "01,03,07,15,26,38,42,43,63,69,73,74"),
            ("anct", "ANCT", ""),
        ],
    );
    // A qualified venue at each hub; Hub du Sud's vouchers in a person's carnet.
    lyon_venue(dir, "hinaura", &["démarches"]);
    let martigues = martigues_venue(dir, "sud");
    on(
        dir,
        "sud",
        &[
            "venues",
            "qualify",
            &martigues,
            "--until",
            "2027-06-30",
            "--service",
            "démarches",
        ],
    );
    // A carnet holds a few dozen vouchers; over a long campaign each is presented again and
    // again (a redeemed voucher presented again must be refused).
    let vouchers = faults.clamp(1, 40);
    issue_caf_batch(dir, "sud", "13-2026-CAF-01", &vouchers.to_string());
    let person = json(&on(dir, "sud", &["person", "new", "--json"]))["code"]
        .as_str()
        .unwrap()
        .to_owned();
    hand_out(dir, "sud", &format!("13-2026-CAF-01:1-{vouchers}"), &person);

    let names = ["sud", "hinaura", "anct"];
    let feed_names = ["Hub du Sud", "Hinaura"];
    let ports = [free_port(), free_port(), free_port()];
    // Every link between nodes goes through a proxy of its own: sud → hinaura, hinaura →
    // sud, anct → sud, anct → hinaura.
    let links = [
        Link::to(ports[1]),
        Link::to(ports[0]),
        Link::to(ports[0]),
        Link::to(ports[1]),
    ];
    let mut nodes: Vec<Served> = vec![
        Served::start(dir, "sud", ports[0], &[links[0].port], &[]),
        Served::start(dir, "hinaura", ports[1], &[links[1].port], &[]),
        Served::start(dir, "anct", ports[2], &[links[2].port, links[3].port], &[]),
    ];

    // What commands acknowledged: (feed name, seq) → event id prefix.
    let mut acked: BTreeMap<(String, u64), String> = BTreeMap::new();
    let mut counts: BTreeMap<&str, u64> = BTreeMap::new();
    let started = Instant::now();
    for round in 0..faults {
        // The staff's work of this round, on a thread: a batch at one hub, or a voucher
        // presented at one hub's venue, or at both at once.
        let work_dir = dir.to_path_buf();
        let serial = format!("13-2026-CAF-01-{}", round % vouchers + 1);
        let kind = rng.below(3);
        let worker = std::thread::spawn(move || {
            let redeem = |node: &'static str, venue: &'static str, serial: String| {
                let dir = work_dir.clone();
                std::thread::spawn(move || {
                    run_on(
                        &dir,
                        node,
                        &[
                            "voucher",
                            "redeem",
                            &serial,
                            "--venue",
                            venue,
                            "--service",
                            "démarches",
                            "--date",
                            "2026-03-10",
                        ],
                    )
                })
            };
            match kind {
                0 => {
                    let batch = format!("13-2026-F{round:04}");
                    let args = issue_batch_args("sud", &batch, "Conseil départemental", "2");
                    let out = maillage(
                        &work_dir,
                        &args.iter().map(String::as_str).collect::<Vec<_>>(),
                    );
                    vec![(
                        "sud".to_owned(),
                        out.status.success(),
                        String::from_utf8_lossy(&out.stdout).into_owned(),
                    )]
                }
                1 => vec![redeem("hinaura", "bm-lyon-1er", serial).join().unwrap()],
                _ => {
                    let a = redeem("hinaura", "bm-lyon-1er", serial.clone());
                    let b = redeem("sud", "mediatheque-martigues", serial);
                    vec![a.join().unwrap(), b.join().unwrap()]
                }
            }
        });
        // The fault, at a random moment of that work.
        std::thread::sleep(Duration::from_millis(rng.below(400)));
        let victim = rng.below(3) as usize;
        let what = rng.below(10);
        let pid = nodes[victim].pid().unwrap();
        match what {
            0..=4 => {
                nodes[victim].kill();
                *counts.entry("sigkill, restarted at once").or_default() += 1;
                nodes[victim].spawn();
            }
            5 => {
                nodes[victim].kill();
                *counts.entry("sigkill, restarted after 1 s").or_default() += 1;
                std::thread::sleep(Duration::from_secs(1));
                nodes[victim].spawn();
            }
            7..=9 => {
                let link = &links[rng.below(links.len() as u64) as usize];
                let (mode, label) = match what {
                    7 => (LinkMode::Cut, "a link cut for 0.5-3 s"),
                    8 => (LinkMode::Stall, "a link stalled for 0.5-3 s"),
                    _ => (
                        LinkMode::Slow,
                        "a link slowed (150 ms per chunk) for 0.5-3 s",
                    ),
                };
                link.set(mode);
                *counts.entry(label).or_default() += 1;
                std::thread::sleep(Duration::from_millis(500 + rng.below(2500)));
                link.set(LinkMode::Pass);
            }
            _ => {
                signal(pid, "STOP");
                *counts
                    .entry("sigstop, resumed after 0.3-1.5 s")
                    .or_default() += 1;
                std::thread::sleep(Duration::from_millis(300 + rng.below(1200)));
                signal(pid, "CONT");
            }
        }
        for (node, success, stdout) in worker.join().unwrap() {
            let name = if node == "sud" {
                "Hub du Sud"
            } else {
                "Hinaura"
            };
            for (id, seq) in acknowledged(&stdout) {
                // A redemption also prints the owner's transfer: its seq is the owner's.
                let feed = if stdout.contains(&format!("(event {id})")) {
                    "Hub du Sud"
                } else {
                    name
                };
                if let Some(before) = acked.insert((feed.to_owned(), seq), id.clone()) {
                    assert_eq!(
                        before, id,
                        "{feed} acknowledged two events at seq {seq}: {before} and {id}"
                    );
                }
            }
            *counts
                .entry(if success {
                    "commands that succeeded"
                } else {
                    "commands that failed (node down)"
                })
                .or_default() += 1;
        }
    }
    eprintln!(
        "{faults} faults in {:.0?}: {counts:?}; {} positions acknowledged",
        started.elapsed(),
        acked.len()
    );

    // Healed: every node serving, one digest, every acknowledged position everywhere.
    let deadline = Instant::now() + Duration::from_secs(120);
    let digest = loop {
        let digests: Vec<String> = names
            .iter()
            .map(|n| {
                let digest = &status(dir, n)["digest"];
                digest
                    .as_str()
                    .map_or_else(|| digest.to_string(), str::to_owned)
            })
            .collect();
        let held: Vec<BTreeMap<String, (u64, u64)>> = names.iter().map(|n| feeds(dir, n)).collect();
        let all_held = acked.keys().all(|(feed, seq)| {
            held.iter()
                .all(|f| f.get(feed).is_some_and(|(held, _)| held >= seq))
        });
        let same_feeds = held.iter().all(|f| *f == held[0]);
        if all_held && same_feeds && digests.iter().all(|d| *d == digests[0]) {
            for f in &held {
                for feed in feed_names {
                    assert_eq!(f[feed].1, 0, "{feed} forked: {held:?}");
                }
            }
            break digests[0].clone();
        }
        assert!(
            Instant::now() < deadline,
            "no convergence after the faults: {digests:?}\n{held:?}\nacknowledged: {acked:?}"
        );
        std::thread::sleep(Duration::from_millis(200));
    };
    for node in names {
        let out = maillage(dir, &["--data-dir", node, "log", "verify"]);
        assert!(
            out.status.success(),
            "{node}: log verify: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    // At most one redemption per voucher, the same on every node.
    let mut redeemed = 0;
    for n in 1..=vouchers {
        let serial = format!("13-2026-CAF-01-{n}");
        let states: Vec<serde_json::Value> = names
            .iter()
            .map(|node| json(&on(dir, node, &["voucher", "status", &serial, "--json"])))
            .collect();
        assert!(
            states.iter().all(|s| s["status"] == states[0]["status"]),
            "{serial}: {states:?}"
        );
        if states[0]["status"] == "redeemed" {
            redeemed += 1;
        }
    }
    for (node, served) in names.iter().zip(&nodes) {
        let (rss_kib, fds) = resources(served.pid().unwrap());
        eprintln!(
            "{node}: {} MiB resident, {fds} file descriptors",
            rss_kib / 1024
        );
        assert!(rss_kib < 1024 * 1024, "{node}: {rss_kib} KiB resident");
        assert!(fds < 512, "{node}: {fds} file descriptors open");
    }
    eprintln!(
        "healed: one digest {}, {redeemed} of {vouchers} vouchers redeemed once",
        &digest[..16.min(digest.len())]
    );
    for node in &mut nodes {
        node.stop();
    }
}
