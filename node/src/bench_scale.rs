//! `maillage bench scale`: a long history (ten million events by default) generated straight
//! into a hub's store, never held in memory; then the hub and a fresh observer run as real
//! daemons (`maillage serve`, each its own process): the hub's first open (the views folded
//! from the store) and its reopen (from its views snapshot), the
//! observer's catch-up over loopback gRPC, the peak resident memory of each process, the stores'
//! size on disk, and the read API's latency on the observer.

use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail, ensure};
use maillage_app::datadir::DataDir;
use maillage_core::{SecretKey, VerifiedEvent};
use maillage_store::EventStore;
use serde::Serialize;

use crate::bench_replicate::{node_dir, read_latency};

/// Parameters.
#[derive(Debug, Clone)]
pub struct ScaleBench {
    /// Events generated.
    pub events: usize,
    /// Workload seed.
    pub seed: u64,
    /// Hubs in the workload.
    pub hubs: usize,
    /// Days the history spans (0: minutes).
    pub days: u32,
    /// Keep the data dirs here (default: a temporary directory, removed).
    pub keep: Option<PathBuf>,
}

/// What the run measured.
#[derive(Debug, Clone, Serialize)]
pub struct ScaleSummary {
    /// Events in the history.
    pub events: u64,
    /// Hubs that authored them.
    pub hubs: usize,
    /// Generating, signing and storing them (one core signs), seconds.
    pub generate_s: f64,
    /// Signed bytes (payload and signature) per event.
    pub signed_bytes_per_event: f64,
    /// The hub's data dir on disk, bytes.
    pub hub_disk_bytes: u64,
    /// The hub daemon's first start on the stored history: seconds until it serves.
    pub first_open_s: f64,
    /// Its peak resident memory then, MiB.
    pub first_open_rss_mib: f64,
    /// The hub daemon's restart after a clean stop (views from their snapshot, the store
    /// as its last write left it: each feed's head checked): seconds until it serves.
    pub reopen_s: f64,
    /// Its peak resident memory then, MiB.
    pub reopen_rss_mib: f64,
    /// The hub daemon's restart after it was killed (SIGKILL: views from their snapshot,
    /// the store as its last write left it: each feed's head checked): seconds until it
    /// serves.
    pub crash_reopen_s: f64,
    /// Its peak resident memory then, MiB.
    pub crash_reopen_rss_mib: f64,
    /// A fresh observer daemon catching up from the hub: seconds until it holds and folded
    /// every event.
    pub catch_up_s: f64,
    /// Events per second of that catch-up.
    pub catch_up_per_s: f64,
    /// The observer's peak resident memory, MiB.
    pub observer_rss_mib: f64,
    /// The hub's peak resident memory while it served the catch-up, MiB.
    pub hub_serving_rss_mib: f64,
    /// The observer's data dir on disk, bytes.
    pub observer_disk_bytes: u64,
    /// Read API round trips on the observer: (call, p50 ms, p99 ms).
    pub reads: Vec<(String, f64, f64)>,
    /// The digest both daemons reached.
    pub digest: String,
    /// Whether both daemons stopped cleanly at the end (saving their views).
    pub stopped_cleanly: bool,
}

/// Events kept from the end of the history for the read API's calls (a voucher redeemed, a
/// person with a parcours).
const RECENT_KEPT: usize = 50_000;

/// A daemon of this binary, stopped (SIGTERM, so it saves its views) when dropped.
struct Daemon {
    child: Child,
    data_dir: DataDir,
}

impl Daemon {
    /// Starts `maillage serve` on `data_dir` and waits until it serves (its `serve.addr`
    /// written): the seconds it took.
    fn start(
        data_dir: &DataDir,
        listen: u16,
        peer: Option<u16>,
        log: &Path,
    ) -> Result<(Self, f64)> {
        let _ = std::fs::remove_file(data_dir.serve_addr_path());
        let mut command = Command::new(std::env::current_exe()?);
        command
            .arg("--data-dir")
            .arg(data_dir.root())
            .args(["serve", "--listen", &format!("127.0.0.1:{listen}")])
            .env("RUST_LOG", "warn")
            .env_remove("MAILLAGE_DATA_DIR")
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(log)?);
        if let Some(peer) = peer {
            command.args(["--peer", &format!("127.0.0.1:{peer}")]);
        }
        let started = Instant::now();
        let child = command.spawn().context("starting `maillage serve`")?;
        let mut daemon = Self {
            child,
            data_dir: data_dir.clone(),
        };
        loop {
            if data_dir.serve_addr_path().exists() {
                return Ok((daemon, started.elapsed().as_secs_f64()));
            }
            if let Some(status) = daemon.child.try_wait()? {
                bail!(
                    "`maillage serve` on {} exited with {status}; see {}",
                    data_dir.root().display(),
                    log.display()
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Peak resident memory so far (`VmHWM`), MiB.
    fn peak_rss_mib(&self) -> f64 {
        crate::bench::proc_status_kib(&self.child.id().to_string(), "VmHWM:") / 1024.0
    }

    /// `maillage status --json` of the daemon.
    fn status(&self) -> Result<serde_json::Value> {
        let output = Command::new(std::env::current_exe()?)
            .arg("--data-dir")
            .arg(self.data_dir.root())
            .args(["status", "--json"])
            .env_remove("MAILLAGE_DATA_DIR")
            .output()?;
        ensure!(
            output.status.success(),
            "`maillage status` failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        Ok(serde_json::from_slice(&output.stdout)?)
    }

    /// Kills the daemon (SIGKILL: nothing saved, the store as its last write left it) and
    /// waits.
    fn kill(mut self) -> Result<()> {
        self.child.kill()?;
        self.child.wait()?;
        Ok(())
    }

    /// Stops the daemon (SIGTERM: it stores what it received and saves its views) and waits:
    /// whether it exited cleanly (not, for one the kernel killed for want of memory).
    fn stop(mut self) -> Result<bool> {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        Ok(self.child.wait()?.success())
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// A free loopback port.
fn free_port() -> Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

/// Bytes of every file under `dir`.
fn disk_bytes(dir: &Path) -> u64 {
    let mut total = 0;
    let mut stack = vec![dir.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            match entry.metadata() {
                Ok(m) if m.is_dir() => stack.push(entry.path()),
                Ok(m) => total += m.len(),
                Err(_) => {}
            }
        }
    }
    total
}

/// Runs the benchmark; `say` gets progress lines.
pub fn run(params: &ScaleBench, say: &mut dyn FnMut(&str)) -> Result<ScaleSummary> {
    let (charter, seeds) = crate::workload::federation(params.seed, params.hubs)?;
    let temp = tempfile::tempdir()?;
    let root = params
        .keep
        .clone()
        .unwrap_or_else(|| temp.path().to_path_buf());
    std::fs::create_dir_all(&root)?;

    say(&format!(
        "generating {} events over {} hubs straight into the hub's store (signing on one core)…",
        params.events, params.hubs
    ));
    let hub_dir = node_dir(&root, "hub", &seeds[0], &charter)?;
    let started = Instant::now();
    let mut recent: VecDeque<VerifiedEvent> = VecDeque::with_capacity(RECENT_KEPT);
    let mut signed_bytes = 0u64;
    let mut stored = 0u64;
    {
        let node = maillage_app::node::Node::open(hub_dir.clone())?;
        let store = node.store.clone();
        crate::workload::generate_into(
            &charter,
            &seeds,
            params.seed,
            params.events,
            params.days,
            &mut |n| {
                if n % 1_000_000 < 50_000 {
                    say(&format!("  {n} events"));
                }
            },
            &mut |chunk| {
                signed_bytes += chunk
                    .iter()
                    .map(|e| (e.signed.payload.len() + e.signed.signature.len()) as u64)
                    .sum::<u64>();
                stored += chunk.len() as u64;
                for event in &chunk {
                    if recent.len() == RECENT_KEPT {
                        recent.pop_front();
                    }
                    recent.push_back(event.clone());
                }
                store.insert(chunk)?;
                Ok(())
            },
        )?;
        ensure!(
            store.event_count() == stored,
            "the hub's store is incomplete"
        );
        // Closed here: the daemon opens the data dir next.
        drop(store);
        drop(node);
    }
    let generate_s = started.elapsed().as_secs_f64();
    let hub_disk_bytes = disk_bytes(hub_dir.root());
    say(&format!(
        "  {stored} events in {generate_s:.0} s, {:.2} GiB on disk",
        hub_disk_bytes as f64 / f64::from(1u32 << 30)
    ));

    let hub_port = free_port()?;
    say("starting the hub daemon on the stored history (first open: fold from the store)…");
    let (hub, first_open_s) = Daemon::start(&hub_dir, hub_port, None, &root.join("hub.log"))?;
    let first_open_rss_mib = hub.peak_rss_mib();
    say(&format!(
        "  serving after {first_open_s:.1} s, peak RSS {first_open_rss_mib:.0} MiB; stopping it"
    ));
    ensure!(
        hub.stop()?,
        "the hub daemon did not stop cleanly; see hub.log"
    );
    say("restarting the hub daemon (views from their snapshot, closed cleanly)…");
    let (hub, reopen_s) = Daemon::start(&hub_dir, hub_port, None, &root.join("hub.log"))?;
    let reopen_rss_mib = hub.peak_rss_mib();
    say(&format!(
        "  serving after {reopen_s:.1} s, peak RSS {reopen_rss_mib:.0} MiB; killing it (SIGKILL)"
    ));
    hub.kill()?;
    say("restarting the hub daemon after the crash…");
    let (hub, crash_reopen_s) = Daemon::start(&hub_dir, hub_port, None, &root.join("hub.log"))?;
    let crash_reopen_rss_mib = hub.peak_rss_mib();
    say(&format!(
        "  serving after {crash_reopen_s:.1} s, peak RSS {crash_reopen_rss_mib:.0} MiB"
    ));

    say("a fresh observer daemon catches up from the hub over loopback gRPC…");
    let observer_dir = node_dir(
        &root,
        "observer",
        &crate::workload::observer_seed(params.seed),
        &charter,
    )?;
    let observer_port = free_port()?;
    let started = Instant::now();
    let (observer, _) = Daemon::start(
        &observer_dir,
        observer_port,
        Some(hub_port),
        &root.join("observer.log"),
    )?;
    let mut hub_serving_rss_mib = hub.peak_rss_mib();
    let mut last_said = Instant::now();
    let digest = loop {
        std::thread::sleep(Duration::from_secs(2));
        hub_serving_rss_mib = hub_serving_rss_mib.max(hub.peak_rss_mib());
        let status = observer.status()?;
        let held = status["events_stored"].as_u64().unwrap_or(0);
        let pending = status["events_pending"].as_u64().unwrap_or(0);
        if held == stored && pending == 0 {
            break status["digest"].clone();
        }
        if last_said.elapsed() > Duration::from_secs(30) {
            last_said = Instant::now();
            say(&format!(
                "  {held} events stored by the observer after {:.0} s",
                started.elapsed().as_secs_f64()
            ));
        }
    };
    let catch_up_s = started.elapsed().as_secs_f64();
    let observer_rss_mib = observer.peak_rss_mib();
    let hub_digest = hub.status()?["digest"].clone();
    ensure!(
        hub_digest == digest,
        "the observer's digest differs from the hub's"
    );
    say(&format!(
        "  caught up in {catch_up_s:.0} s ({:.0} events/s), observer peak RSS {observer_rss_mib:.0} MiB",
        stored as f64 / catch_up_s
    ));

    say("timing the read API on the observer…");
    let recent: Vec<VerifiedEvent> = recent.into();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let reader = SecretKey::from_seed(&seeds[0]);
    let addr: std::net::SocketAddr = format!("127.0.0.1:{observer_port}").parse()?;
    let reads = runtime.block_on(read_latency(addr, &charter, &reader, &recent, 200))?;
    let observer_stopped = observer.stop()?;
    let hub_stopped = hub.stop()?;
    Ok(ScaleSummary {
        events: stored,
        hubs: params.hubs,
        generate_s,
        signed_bytes_per_event: signed_bytes as f64 / stored.max(1) as f64,
        hub_disk_bytes,
        first_open_s,
        first_open_rss_mib,
        reopen_s,
        reopen_rss_mib,
        crash_reopen_s,
        crash_reopen_rss_mib,
        catch_up_s,
        catch_up_per_s: stored as f64 / catch_up_s,
        observer_rss_mib,
        hub_serving_rss_mib,
        observer_disk_bytes: disk_bytes(observer_dir.root()),
        reads,
        digest: digest
            .as_str()
            .map(str::to_owned)
            .unwrap_or_else(|| digest.to_string()),
        stopped_cleanly: observer_stopped && hub_stopped,
    })
}
