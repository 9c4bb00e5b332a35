//! The command line: what each command does, in the words of the people who run it.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::{Args, Parser, Subcommand, ValueEnum};
use maillage_core::{Charter, MemberSpec, Role, SecretKey};
use maillage_store::EventStore;

use crate::datadir::{DEFAULT_DATA_DIR, DataDir, NodeConfig};
use crate::files::{Files, LocalFiles};
use crate::node::Node;
use crate::{bench, domain, export, federation, logfile, stats, venues};

/// maillage — a federation of France's digital-inclusion hubs.
///
/// Each hub runs a node keeping an append-only, Ed25519-signed log of its venues, vouchers and
/// referrals; nodes replicate every log so no central server is needed.
///
/// First steps for a hub:
///   maillage init --name "Hub du Sud" --territories 04,05,06,13,83,84
///   maillage venues import lieux.json
///   maillage venues list
///   maillage log verify
#[derive(Debug, Parser)]
#[command(name = "maillage", version, about, long_about, verbatim_doc_comment)]
pub struct Cli {
    /// Options of every command.
    #[command(flatten)]
    pub global: Global,
    /// The command.
    #[command(subcommand)]
    pub command: Command,
}

/// Options of every command.
#[derive(Debug, Args)]
pub struct Global {
    /// The node's data directory (key, charter, configuration, store).
    #[arg(long, global = true, env = "MAILLAGE_DATA_DIR", default_value = DEFAULT_DATA_DIR)]
    pub data_dir: PathBuf,
    /// Log format on stderr.
    #[arg(long, global = true, value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
    /// More logs (-v: debug, -vv: trace). RUST_LOG overrides.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
}

/// Log formats.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line.
    Json,
}

/// Commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the demo federation on embedded defaults: three hubs of real territories and a
    /// national observer, as four nodes replicating over gRPC on loopback ports, play a
    /// person's story (a referral, vouchers redeemed in another territory, a claim through a
    /// cut link) and end on the same digest; the federation then runs until Ctrl-C.
    ///
    /// Nothing to configure: venues come from real exports embedded in the binary; each node
    /// gets its own data dir under --dir, which stays after the demo.
    Demo {
        /// Where to create the demo's data dirs (must be new or empty; default: a new
        /// directory under the system's temporary directory).
        #[arg(long)]
        dir: Option<PathBuf>,
        /// Stop the federation after the story instead of running until Ctrl-C.
        #[arg(long)]
        exit: bool,
    },
    /// Create this node's key and configuration; join or found a federation.
    ///
    /// Without options: creates the key and prints the public key to give to the federation's
    /// founders. With --charter FILE: joins that federation. With --name and --territories:
    /// founds a one-hub federation so you can start immediately.
    Init(InitArgs),
    /// Found a federation or show this node's.
    #[command(subcommand)]
    Federation(FederationCommand),
    /// Print this node's public key (its HubId).
    Id,
    /// The venue map: import the national standard, list, search, export.
    #[command(subcommand)]
    Venues(venues::VenuesCommand),
    /// The signed log: verify every signature and chain, export a portable file.
    #[command(subcommand)]
    Log(LogCommand),
    /// Benchmarks, reported as ratios against the raw primitives measured in the same run.
    #[command(subcommand)]
    Bench(BenchCommand),
    /// People: draw a pseudonymous carnet code, or forget a person (right to erasure).
    #[command(subcommand)]
    Person(domain::PersonCommand),
    /// Vouchers (Pass numérique): issue, hand out, redeem, transfer, claim, settle, status.
    #[command(subcommand)]
    Voucher(domain::VoucherCommand),
    /// Referrals (orientations): open, accept, decline, forward, close, show.
    #[command(subcommand)]
    Referral(domain::ReferralCommand),
    /// Accompaniments recorded by venues.
    #[command(subcommand)]
    Accompaniment(domain::AccompanimentCommand),
    /// A person's parcours across all hubs, then their referrals, vouchers and venues.
    Parcours {
        /// The person code (from the carnet).
        code: String,
        /// Day to evaluate expiry at (default: today).
        #[arg(long)]
        as_of: Option<String>,
        /// Machine-readable output.
        #[arg(long)]
        json: bool,
    },
    /// National figures: vouchers by hub and funder, referral outcomes, qualified venues.
    Stats {
        /// Day the figures are computed for (default: today).
        #[arg(long)]
        as_of: Option<String>,
        /// Machine-readable output.
        #[arg(long)]
        json: bool,
    },
    /// Write the views as CSV files for analysts: lieux.csv, vouchers.csv, referrals.csv,
    /// stats.csv.
    ///
    /// lieux.csv holds the open venues in the national standard v1 (as `venues export`);
    /// vouchers.csv one row per voucher of every batch, with its status on the --as-of day
    /// (issued, handed_out, redeemed, cancelled, expired); referrals.csv one row per referral,
    /// with its status on that day (open, expired after its 30 days, accepted, declined, or
    /// its outcome); stats.csv the figures of `maillage stats`, one value a row
    /// (as_of,section,hub,hub_key,funder,departement,metric,value).
    ///
    /// UTF-8, comma-separated, one header row, rows in id order (vouchers by batch, then
    /// number): nodes holding the same events write the same bytes for the same day. No person code is written, so the files
    /// can be shared. Files already in DIR are left untouched unless --force; the files appear
    /// only once all of them are complete.
    ///
    /// Example: maillage export --out export-2026-03 --as-of 2026-03-31
    Export(export::ExportArgs),
    /// The digest of every folded view (equal on nodes holding the same events) and the
    /// events applied per feed.
    Digest {
        /// Machine-readable output.
        #[arg(long)]
        json: bool,
    },
    /// Events kept in the log without effect because they broke a domain rule.
    Rejections {
        /// Machine-readable output.
        #[arg(long)]
        json: bool,
    },
    /// Run the node: serve peers and clients, pull from the configured peers, follow them
    /// live, fold everything into the views.
    ///
    /// Configured in node.toml's [serve] section (listen, [[serve.peers]] address/key, tls);
    /// the flags below override it. Stops cleanly on SIGINT/SIGTERM. While it runs, the other
    /// commands on this data dir are sent to it (its address is in serve.addr), so the CLI and
    /// the daemon never write at the same time. Observers run it too, as read replicas.
    Serve(ServeArgs),
    /// Replication status: peers and their state, lag per feed, forks, rejections, digest.
    /// Needs a running `maillage serve` for peer information; without one, shows the store.
    Status {
        /// Machine-readable output.
        #[arg(long)]
        json: bool,
    },
    /// Play a scenario on a simulated network of hubs (partitions, crashes, people moving),
    /// deterministically: `maillage simulate SCENARIO.toml --seed N` or `--seeds A..B`.
    ///
    /// Runs the `maillage-simulate` program installed next to this one (the simulator links a
    /// simulated network and clock that a production node does not carry): build it with
    /// `cargo build --release -p maillage-simulations`. Its options: `maillage simulate --help`.
    #[command(disable_help_flag = true)]
    Simulate {
        /// The scenario and the simulator's options, passed on unchanged.
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<String>,
    },
}

/// `maillage serve` options (each overrides node.toml).
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on, e.g. 127.0.0.1:7300 or 0.0.0.0:7300 (port 0: any free port).
    #[arg(long)]
    pub listen: Option<String>,
    /// A peer to pull from (repeatable): http://host:port, or host:port. Adds to node.toml's.
    #[arg(long = "peer")]
    pub peers: Vec<String>,
    /// Do not answer claims on this hub's vouchers automatically.
    #[arg(long)]
    pub no_answer_claims: bool,
    /// TLS certificate (PEM) for the listener; needs --tls-key.
    #[arg(long, requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// TLS private key (PEM) for the listener.
    #[arg(long, requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// Where to serve the dashboard and Prometheus metrics (/metrics) over plain HTTP, e.g.
    /// 127.0.0.1:9464, or `off`. Default: node.toml's [serve] http, else 127.0.0.1:0 (loopback,
    /// any free port; the address is written to serve.addr and shown by `maillage status`).
    #[arg(long, value_name = "ADDR|off")]
    pub http: Option<String>,
}

/// Whether a running daemon executes this command for the CLI (everything that reads or
/// writes the data dir's store), rather than the CLI itself.
pub fn runs_in_daemon(command: &Command) -> bool {
    !matches!(
        command,
        Command::Demo { .. }
            | Command::Simulate { .. }
            | Command::Init(_)
            | Command::Federation(_)
            | Command::Id
            | Command::Bench(_)
            | Command::Serve(_)
            | Command::Log(LogCommand::Verify { file: Some(_) })
    )
}

/// The files a command line names for the command to read (the CLI sends them to a serving
/// node, which opens no path itself).
pub fn input_paths(command: &Command) -> Vec<PathBuf> {
    match command {
        Command::Venues(venues::VenuesCommand::Import { file, .. })
        | Command::Log(LogCommand::Import { file, .. }) => vec![file.clone()],
        _ => Vec::new(),
    }
}

/// The files a command line names for the command to write (a serving node sends them back
/// and the CLI writes them; nothing else).
pub fn output_paths(command: &Command) -> Vec<PathBuf> {
    match command {
        Command::Venues(venues::VenuesCommand::Import {
            report: Some(report),
            ..
        }) => vec![report.clone()],
        Command::Venues(venues::VenuesCommand::Export { out: Some(out), .. })
        | Command::Log(LogCommand::Export { file: out }) => vec![out.clone()],
        Command::Export(args) => export::output_paths(args),
        _ => Vec::new(),
    }
}

/// What the CLI checks before sending a command to a serving node, where the node cannot
/// (whether files it must not overwrite are there).
pub fn preflight(command: &Command, files: &dyn Files) -> Result<()> {
    if let Command::Export(args) = command {
        export::check_out_dir(args, files)?;
    }
    Ok(())
}

/// `maillage init`.
#[derive(Debug, Args)]
pub struct InitArgs {
    /// Join the federation described by this charter file (from `maillage federation create`).
    #[arg(long, conflicts_with_all = ["territories", "federation_name"])]
    pub charter: Option<PathBuf>,
    /// This hub's display name (founding a one-hub federation, or the node's name).
    #[arg(long)]
    pub name: Option<String>,
    /// Départements this hub holds, comma-separated INSEE codes (e.g. 04,05,06,13,83,84).
    #[arg(long, value_delimiter = ',', requires = "name")]
    pub territories: Vec<String>,
    /// Name of the federation founded with --territories (default: "<name> federation").
    #[arg(long, requires = "territories")]
    pub federation_name: Option<String>,
}

/// `maillage federation …`.
#[derive(Debug, Subcommand)]
pub enum FederationCommand {
    /// Turn a TOML list of members into the charter file and print the FederationId.
    ///
    /// The file lists `name`, optional `admission_threshold`, and `[[members]]` with `name`,
    /// `key` (public key hex), `role` ("hub" or "observer") and `territories` (hubs).
    Create {
        /// The members file (TOML).
        members: PathBuf,
        /// Where to write the charter.
        #[arg(long, short, default_value = "charter.pb")]
        out: PathBuf,
    },
    /// Show this node's federation: id, members, roles, territories.
    Show {
        /// Machine-readable output.
        #[arg(long)]
        json: bool,
    },
}

/// `maillage log …`.
#[derive(Debug, Subcommand)]
pub enum LogCommand {
    /// Re-verify every signature and every chain; report the first broken event precisely.
    Verify {
        /// Verify a portable log file (from `maillage log export`) instead of the data dir.
        #[arg(long)]
        file: Option<PathBuf>,
    },
    /// Write every feed to a portable file of signed events (with the charter), verifiable
    /// anywhere with `maillage log verify --file`.
    Export {
        /// Output file.
        file: PathBuf,
    },
    /// Import a portable log file (from another hub's `maillage log export`): a real
    /// transport for air-gapped hubs (USB stick, e-mail). The file is verified first (every
    /// signature, chain and the file digest); then every event is stored in feed order.
    /// Reports stored / duplicate / gap / fork counts; events of this node's own feed are
    /// refused unless identical to what it holds.
    Import {
        /// The file.
        file: PathBuf,
        /// Machine-readable output.
        #[arg(long)]
        json: bool,
    },
}

/// `maillage bench …`.
#[derive(Debug, Subcommand)]
pub enum BenchCommand {
    /// Fold a generated history of 15 hubs into the views: events/s on one core, memory,
    /// time to reopen a node holding them and answer a first query, parcours latency.
    Fold {
        /// Events in the generated history.
        #[arg(long, default_value_t = 1_000_000)]
        events: usize,
        /// In-memory fold repetitions (median reported).
        #[arg(long, default_value_t = 3)]
        runs: usize,
        /// Workload seed.
        #[arg(long, default_value_t = 2026)]
        seed: u64,
        /// Machine-readable output.
        #[arg(long)]
        json: bool,
    },
    /// Own appends vs bare sign/s, peer ingest vs bare verify_strict/s, disk vs payload bytes.
    Log {
        /// Events per measurement.
        #[arg(long, default_value_t = 20_000)]
        events: usize,
        /// Runs (medians are reported).
        #[arg(long, default_value_t = 5)]
        runs: usize,
        /// Events per durable batch (one file sync and one index flush each).
        #[arg(long, default_value_t = 1024)]
        batch: usize,
        /// Machine-readable output.
        #[arg(long)]
        json: bool,
    },
    /// A fresh observer catches up a generated history (15 feeds) from a hub over loopback
    /// gRPC, end to end (receive, verify, store, fold), against bare verify_strict on every
    /// core in the same run; bytes on the wire per event; latency of the owner-side transfer
    /// call between two real nodes.
    Replicate {
        /// Events in the generated history.
        #[arg(long, default_value_t = 1_000_000)]
        events: usize,
        /// Catch-ups measured (the median is reported).
        #[arg(long, default_value_t = 3)]
        runs: usize,
        /// Transfer calls timed.
        #[arg(long, default_value_t = 500)]
        transfers: usize,
        /// Workload seed.
        #[arg(long, default_value_t = 7)]
        seed: u64,
        /// Machine-readable output.
        #[arg(long)]
        json: bool,
    },
}

/// Sets up tracing on stderr. The demo narrates on stdout and logs only errors by default
/// (its nodes' links fail on purpose when it cuts one).
pub fn init_logging(global: &Global, command: &Command) {
    let default = match global.verbose {
        0 if matches!(command, Command::Demo { .. }) => "error",
        0 => "warn,maillage=info,maillage_sync=info",
        1 => "debug",
        _ => "trace",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = match global.log_format {
        LogFormat::Text => builder
            .with_ansi(std::io::stderr().is_terminal())
            .try_init(),
        LogFormat::Json => builder.json().try_init(),
    };
}

fn serve(data_dir: &DataDir, args: ServeArgs) -> Result<ExitCode> {
    if let Some(socket) = crate::admin::running(data_dir)? {
        bail!(
            "a node already serves {} (it answers on {}); stop it first",
            data_dir.root().display(),
            socket.display()
        );
    }
    let node = Node::open(data_dir.clone())?;
    let mut config = node.config.serve.clone();
    if let Some(listen) = args.listen {
        config.listen = listen;
    }
    for address in args.peers {
        config.peers.push(crate::datadir::PeerEntry {
            address,
            key: None,
            ca: None,
            tls_domain: None,
        });
    }
    if args.no_answer_claims {
        config.answer_claims = false;
    }
    if let (Some(cert), Some(key)) = (args.tls_cert, args.tls_key) {
        config.tls = Some(crate::datadir::TlsFiles { cert, key });
    }
    if let Some(http) = args.http {
        config.http = http;
    }
    crate::serve::serve_blocking(node, config)?;
    Ok(ExitCode::SUCCESS)
}

/// The simulator's program name, looked for next to the running `maillage`.
const SIMULATOR: &str = "maillage-simulate";

fn simulate(args: Vec<String>) -> Result<ExitCode> {
    let exe = std::env::current_exe().context("locating the maillage program")?;
    let simulator = exe.with_file_name(format!("{SIMULATOR}{}", std::env::consts::EXE_SUFFIX));
    if !simulator.is_file() {
        bail!(
            "the simulator is not installed next to {}: build it with `cargo build --release -p maillage-simulations` (or run `cargo run --release -p maillage-simulations -- {}`)",
            exe.display(),
            args.join(" ")
        );
    }
    let status = std::process::Command::new(&simulator)
        .args(&args)
        .status()
        .with_context(|| format!("running {}", simulator.display()))?;
    Ok(match status.code() {
        Some(code) => ExitCode::from(u8::try_from(code).unwrap_or(1)),
        None => bail!("{} was stopped by a signal", simulator.display()),
    })
}

fn status(data_dir: &DataDir, json: bool) -> Result<ExitCode> {
    let node = Node::open_shared(data_dir.clone())?;
    let status = match crate::serve::Daemon::current() {
        Some(daemon) => crate::query::status_of(&node, &daemon)
            .map_err(|s| anyhow::anyhow!("{}", s.message()))?,
        None => {
            let ledger = node.ledger()?;
            maillage_core::pb::StatusResponse {
                node: node.id().0.to_vec(),
                name: node.member()?.name.clone(),
                role: format!("{:?}", node.member()?.role).to_lowercase(),
                digest: ledger.digest().to_vec(),
                events_stored: node.store.event_count(),
                feeds: crate::query::feed_statuses(&node, &ledger.applied()),
                domain_rejections: ledger.rejections().len() as u64,
                events_pending: ledger.pending_count() as u64,
                ..Default::default()
            }
        }
    };
    let serving = crate::serve::Daemon::current().is_some();
    if json {
        outln!(
            "{}",
            serde_json::to_string_pretty(&status_json(&status, serving))?
        );
        return Ok(ExitCode::SUCCESS);
    }
    outln!(
        "node {} ({}, {}){}",
        hex::encode(&status.node[..4.min(status.node.len())]),
        status.name,
        status.role,
        if serving {
            ""
        } else {
            " — not serving: peer links unknown"
        }
    );
    outln!("digest {}", hex::encode(&status.digest));
    if serving {
        if status.http.is_empty() {
            outln!("http: off (dashboard and metrics not served)");
        } else {
            outln!(
                "http: dashboard http://{0}/  metrics http://{0}/metrics",
                status.http
            );
        }
    }
    outln!(
        "{} events stored, {} pending, {} rejected by domain rules",
        status.events_stored,
        status.events_pending,
        status.domain_rejections
    );
    outln!("\nfeeds:");
    for feed in &status.feeds {
        let mut notes = String::new();
        if feed.frozen {
            notes.push_str(&format!("  FROZEN: fork at seq {}", feed.fork_seq));
        }
        if feed.damaged_from > 0 {
            notes.push_str(&format!(
                "  DAMAGED ON DISK: seq {}..={} to fetch again from peers",
                feed.damaged_from, feed.damaged_until
            ));
        }
        if feed.clock_ahead_ms > maillage_core::hlc::MAX_AHEAD_MS_DEFAULT {
            notes.push_str(&format!(
                "  CLOCK AHEAD: last event dated {} s ahead of this machine",
                feed.clock_ahead_ms / 1000
            ));
        }
        outln!(
            "  {:<40} seq {:>8}  folded {:>8}{notes}",
            feed.name,
            feed.seq,
            feed.applied,
        );
    }
    if serving {
        outln!("\npeers:");
        if status.peers.is_empty() {
            outln!("  (none)");
        }
        for peer in &status.peers {
            let lag: u64 = peer.lags.iter().map(|l| l.lag).sum();
            outln!(
                "  {:<28} {:<24} {:<16} received {:>8} rejected {:>4} lag {:>6}{}",
                peer.address,
                peer.name,
                peer.state,
                peer.events_received,
                peer.events_rejected,
                lag,
                if peer.last_error.is_empty() {
                    String::new()
                } else {
                    format!("  last error: {}", peer.last_error)
                }
            );
        }
        if !status.rejected_from_peers.is_empty() {
            outln!("\nrecent events rejected from peers:");
            for r in &status.rejected_from_peers {
                outln!("  from {}: {}", r.peer, r.reason);
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn status_json(status: &maillage_core::pb::StatusResponse, serving: bool) -> serde_json::Value {
    use serde_json::json;
    json!({
        "node": hex::encode(&status.node),
        "name": status.name,
        "role": status.role,
        "serving": serving,
        "digest": hex::encode(&status.digest),
        "events_stored": status.events_stored,
        "events_pending": status.events_pending,
        "domain_rejections": status.domain_rejections,
        "uptime_ms": status.uptime_ms,
        "http": (!status.http.is_empty()).then_some(&status.http),
        "feeds": status.feeds.iter().map(|f| json!({
            "author": hex::encode(&f.author), "name": f.name, "seq": f.seq,
            "head": hex::encode(&f.head_id), "applied": f.applied,
            "frozen": f.frozen, "fork_seq": f.fork_seq,
            "clock_ahead_ms": f.clock_ahead_ms,
            "damaged_from": (f.damaged_from > 0).then_some(f.damaged_from),
            "damaged_until": (f.damaged_until > 0).then_some(f.damaged_until),
        })).collect::<Vec<_>>(),
        "peers": status.peers.iter().map(|p| json!({
            "address": p.address, "key": hex::encode(&p.key), "name": p.name,
            "state": p.state, "last_error": p.last_error,
            "events_received": p.events_received, "events_rejected": p.events_rejected,
            "last_contact_ms": p.last_contact_ms,
            "lag": p.lags.iter().map(|l| json!({
                "author": hex::encode(&l.author), "peer_seq": l.peer_seq, "lag": l.lag,
            })).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
        "rejected_from_peers": status.rejected_from_peers.iter().map(|r| json!({
            "author": hex::encode(&r.author), "seq": r.seq, "peer": r.peer, "reason": r.reason,
        })).collect::<Vec<_>>(),
    })
}

/// Runs a parsed command, on the files it names.
pub fn run(cli: Cli) -> Result<ExitCode> {
    run_with(cli, &LocalFiles)
}

/// Runs a parsed command; the files it reads and writes go through `files`. On a data dir a
/// node serves, the command is sent to the node.
pub fn run_with(cli: Cli, files: &dyn Files) -> Result<ExitCode> {
    let data_dir = DataDir::new(&cli.global.data_dir);
    if runs_in_daemon(&cli.command)
        && !crate::output::capturing()
        && let Some(socket) = crate::admin::running(&data_dir)?
    {
        let args: Vec<String> = std::env::args().skip(1).collect();
        return crate::admin::send_command(&socket, &cli.command, args);
    }
    match cli.command {
        Command::Serve(args) => serve(&data_dir, args),
        Command::Status { json } => status(&data_dir, json),
        Command::Simulate { args } => simulate(args),
        Command::Init(args) => init(&data_dir, args),
        Command::Demo { dir, exit } => {
            let root = match dir {
                Some(dir) => dir,
                None => tempfile::Builder::new()
                    .prefix("maillage-demo-")
                    .tempdir()?
                    .keep(),
            };
            crate::demo::run(&root, exit)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Federation(FederationCommand::Create { members, out }) => {
            let text = std::fs::read_to_string(&members)
                .with_context(|| format!("reading {}", members.display()))?;
            let charter = federation::charter_from_toml(&text)
                .with_context(|| format!("members file {}", members.display()))?;
            crate::datadir::write_atomic(&out, charter.bytes())?;
            outln!("charter written to {}", out.display());
            print_charter(&charter);
            outln!("\nFederationId {}", charter.federation_id());
            outln!(
                "Give this file to every member; each runs `maillage init --charter {}`.",
                out.display()
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Federation(FederationCommand::Show { json }) => {
            data_dir.require_initialised()?;
            let charter = data_dir.read_charter()?;
            if json {
                outln!("{}", serde_json::to_string_pretty(&charter_json(&charter))?);
            } else {
                print_charter(&charter);
                outln!("\nFederationId {}", charter.federation_id());
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Id => {
            outln!("{}", data_dir.read_key()?.hub_id());
            Ok(ExitCode::SUCCESS)
        }
        Command::Venues(command) => venues::run(&data_dir, command, files),
        Command::Log(LogCommand::Verify { file: Some(file) }) => verify_file(&file),
        Command::Log(LogCommand::Verify { file: None }) => verify_store(&data_dir),
        Command::Log(LogCommand::Export { file }) => export_log(&data_dir, &file, files),
        Command::Log(LogCommand::Import { file, json }) => {
            domain::run_import_log(&data_dir, &file, json, files)
        }
        Command::Person(command) => domain::run_person(&data_dir, command),
        Command::Voucher(command) => domain::run_voucher(&data_dir, command),
        Command::Referral(command) => domain::run_referral(&data_dir, command),
        Command::Accompaniment(command) => domain::run_accompaniment(&data_dir, command),
        Command::Parcours { code, as_of, json } => {
            domain::run_parcours(&data_dir, &code, as_of.as_deref(), json)
        }
        Command::Stats { as_of, json } => stats::run(&data_dir, as_of.as_deref(), json),
        Command::Export(args) => export::run(&data_dir, args, files),
        Command::Digest { json } => domain::run_digest(&data_dir, json),
        Command::Rejections { json } => domain::run_rejections(&data_dir, json),
        Command::Bench(BenchCommand::Fold {
            events,
            runs,
            seed,
            json,
        }) => bench_fold(events, runs, seed, json),
        Command::Bench(BenchCommand::Replicate {
            events,
            runs,
            transfers,
            seed,
            json,
        }) => bench_replicate(events, runs, transfers, seed, json),
        Command::Bench(BenchCommand::Log {
            events,
            runs,
            batch,
            json,
        }) => bench_log(events, runs, batch, json),
    }
}

fn init(data_dir: &DataDir, args: InitArgs) -> Result<ExitCode> {
    data_dir.create()?;
    let secret = if data_dir.has_key() {
        let key = data_dir.read_key()?;
        eprintln!(
            "key already present in {}: keeping it",
            data_dir.key_path().display()
        );
        key
    } else {
        let key = SecretKey::generate(&mut rand::rng());
        data_dir.write_key(&key)?;
        eprintln!("created key {}", data_dir.key_path().display());
        key
    };
    let me = secret.hub_id();
    let charter = if let Some(path) = &args.charter {
        let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
        let charter =
            Charter::from_bytes(bytes).with_context(|| format!("charter {}", path.display()))?;
        if charter.member(&me).is_none() {
            bail!(
                "this node's key {me} is not a member of federation {:?}: send the key to the founders and ask for a charter that lists it",
                charter.name()
            );
        }
        Some(charter)
    } else if !args.territories.is_empty() {
        let name = args.name.clone().unwrap_or_default();
        let federation_name = args
            .federation_name
            .clone()
            .unwrap_or_else(|| format!("{name} federation"));
        let spec = MemberSpec {
            key: me,
            name: name.clone(),
            role: Role::Hub,
            territories: args.territories.clone(),
        };
        Some(Charter::found(&federation_name, 1, vec![spec])?)
    } else {
        None
    };
    let Some(charter) = charter else {
        outln!("{me}");
        eprintln!(
            "\nThis node's public key is above. Send it to your federation's founders; once they\n\
             give you the charter file, run `maillage init --charter FILE`.\n\
             To start alone right away: `maillage init --name \"Your hub\" --territories 04,05`."
        );
        return Ok(ExitCode::SUCCESS);
    };
    if data_dir.charter_path().exists() {
        let existing = data_dir.read_charter()?;
        if existing.federation_id() != charter.federation_id() {
            bail!(
                "{} already belongs to federation {:?} ({}); refusing to switch it to {:?} ({}). Use another --data-dir.",
                data_dir.root().display(),
                existing.name(),
                existing.federation_id().short(),
                charter.name(),
                charter.federation_id().short()
            );
        }
    }
    let member = charter
        .member(&me)
        .context("own key missing from the charter")?;
    data_dir.write_charter(&charter)?;
    let config = NodeConfig {
        name: member.name.clone(),
        clock_max_ahead_ms: maillage_core::hlc::MAX_AHEAD_MS_DEFAULT,
        serve: Default::default(),
    };
    if !data_dir.config_path().exists() {
        data_dir.write_config(&config)?;
    }
    // Create the store now so later commands find it.
    let node = Node::open_shared(data_dir.clone())?;
    outln!(
        "node {:?} ({}) initialised in {}",
        member.name,
        me,
        data_dir.root().display()
    );
    outln!(
        "federation {:?}: FederationId {}",
        charter.name(),
        charter.federation_id()
    );
    let role = match member.role {
        Role::Hub => format!(
            "hub holding {}",
            member
                .territories
                .iter()
                .cloned()
                .collect::<Vec<_>>()
                .join(",")
        ),
        Role::Observer => "observer (read replica)".into(),
    };
    outln!("role: {role}; events stored: {}", node.store.event_count());
    if member.role == Role::Hub {
        outln!("next: `maillage venues import FILE` to import your venue map");
    }
    Ok(ExitCode::SUCCESS)
}

fn print_charter(charter: &Charter) {
    outln!(
        "federation {:?} (admission threshold {})",
        charter.name(),
        charter.admission_threshold()
    );
    for (id, member) in charter.members() {
        let role = match member.role {
            Role::Hub => "hub",
            Role::Observer => "observer",
        };
        let territories = member
            .territories
            .iter()
            .cloned()
            .collect::<Vec<_>>()
            .join(",");
        outln!("  {:<8} {:<32} {}  {}", role, member.name, id, territories);
    }
}

fn charter_json(charter: &Charter) -> serde_json::Value {
    serde_json::json!({
        "name": charter.name(),
        "federation_id": charter.federation_id(),
        "admission_threshold": charter.admission_threshold(),
        "members": charter.members().iter().map(|(id, m)| serde_json::json!({
            "key": id,
            "name": m.name,
            "role": m.role,
            "territories": m.territories,
        })).collect::<Vec<_>>(),
    })
}

fn verify_store(data_dir: &DataDir) -> Result<ExitCode> {
    data_dir.require_initialised()?;
    let charter = std::sync::Arc::new(data_dir.read_charter()?);
    let shared;
    let local;
    // Inside a serving node, its open store; otherwise opened here (a damaged feed is cut to
    // its verified prefix and listed below).
    let store: &dyn EventStore = if crate::serve::Daemon::current().is_some() {
        shared = Node::open_shared(data_dir.clone())?;
        &*shared.store
    } else {
        local = maillage_store::SledStore::open_path(&data_dir.store_path(), charter.clone())
            .with_context(|| format!("opening {}", data_dir.store_path().display()))?;
        &local
    };
    let bar = progress_bar(store.event_count(), "verifying");
    let report = store.verify(true, &mut |done| bar.set_position(done))?;
    bar.finish_and_clear();
    let forks = store.forks();
    outln!(
        "{} feeds, {} events, {} signatures verified (strict Ed25519), {} fork proofs",
        report.feeds,
        report.events,
        report.signatures,
        forks.len()
    );
    for recorded in forks.values() {
        outln!(
            "  FORK: feed {} signed two versions at seq {} ({} vs {}); frozen at seq {}",
            recorded.fork.author,
            recorded.fork.seq,
            recorded.fork.first,
            recorded.fork.second,
            recorded.fork.seq - 1
        );
    }
    let damaged = store.damaged();
    for (author, damage) in &damaged {
        outln!(
            "  DAMAGED: feed {} seq {}..={} could not be read back or verified ({}); served up to seq {} until peers send them again",
            author,
            damage.from_seq,
            damage.held_until,
            damage.reason,
            damage.from_seq - 1
        );
    }
    match report.broken {
        None if damaged.is_empty() => {
            outln!("OK: every signature and every chain verifies");
            Ok(ExitCode::SUCCESS)
        }
        None => {
            outln!(
                "DAMAGED: {} feed(s) damaged on disk; what is served verifies",
                damaged.len()
            );
            Ok(ExitCode::from(2))
        }
        Some(broken) => {
            outln!(
                "BROKEN: feed {} seq {}: {}",
                broken.author,
                broken.seq,
                broken.reason
            );
            Ok(ExitCode::from(2))
        }
    }
}

fn verify_file(path: &std::path::Path) -> Result<ExitCode> {
    let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    let report = logfile::verify(&bytes);
    if let Some(name) = &report.federation {
        outln!("federation {name:?}");
    }
    outln!(
        "{} feeds, {} events verified",
        report.feeds.len(),
        report.events
    );
    match report.problem {
        None => {
            outln!(
                "OK: {} verifies (every signature, chain, and the file digest)",
                path.display()
            );
            Ok(ExitCode::SUCCESS)
        }
        Some(problem) => {
            outln!("BROKEN: {}: {problem}", path.display());
            Ok(ExitCode::from(2))
        }
    }
}

fn export_log(data_dir: &DataDir, path: &std::path::Path, files: &dyn Files) -> Result<ExitCode> {
    let node = Node::open_shared(data_dir.clone())?;
    let mut file = files.create(path)?;
    let mut writer = logfile::LogWriter::new(&mut file, &node.charter)?;
    node.for_each_event(|event| writer.event(event))?;
    let count = writer.finish()?;
    file.commit()?;
    outln!(
        "{count} events from {} feeds written to {}",
        node.store.frontier().len(),
        path.display()
    );
    Ok(ExitCode::SUCCESS)
}

/// A progress bar on stderr when it is a terminal, hidden otherwise.
pub fn progress_bar(total: u64, message: &'static str) -> indicatif::ProgressBar {
    if !std::io::stderr().is_terminal() || crate::output::capturing() {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::new(total);
    if let Ok(style) = indicatif::ProgressStyle::with_template(
        "{msg} [{bar:40}] {pos}/{len} ({per_sec}, eta {eta})",
    ) {
        bar.set_style(style.progress_chars("=> "));
    }
    bar.set_message(message);
    bar
}

fn bench_fold(events: usize, runs: usize, seed: u64, json: bool) -> Result<ExitCode> {
    if cfg!(debug_assertions) {
        eprintln!(
            "warning: this is a debug build; run `cargo run --release -- bench fold` for real figures"
        );
    }
    let params = bench::FoldBench { events, runs, seed };
    let s = bench::run_fold(&params, &mut |line| eprintln!("{line}"))?;
    if json {
        outln!("{}", serde_json::to_string_pretty(&s)?);
        return Ok(ExitCode::SUCCESS);
    }
    outln!(
        "{} events folded ({} rejected by a domain rule), digest {}",
        s.events,
        s.rejected,
        &s.digest[..16]
    );
    outln!(
        "  fold in memory, one core          {:>10.0} events/s  ({:.1}x bare verify_strict, target >= 200,000/s)",
        s.fold_per_s,
        s.fold_vs_verify
    );
    outln!(
        "  fold from the store, no snapshot  {:>10.0} events/s",
        s.cold_fold_from_store_per_s
    );
    outln!(
        "  ledger memory                     {:>10.0} MiB (peak process RSS {:.0} MiB)",
        s.ledger_mib,
        s.peak_rss_mib
    );
    outln!(
        "  persisted views                   {:>10.1} MiB",
        s.snapshot_mib
    );
    outln!(
        "  reopen + first query              {:>10.2} s (store open {:.2} s; target < 5 s)",
        s.reopen_s,
        s.reopen_store_s
    );
    outln!(
        "  store index rebuilt from its file {:>10.2} s (after deleting store/db)",
        s.rebuild_index_s
    );
    outln!(
        "  state digest of the views         {:>10.0} ms (computed once per state of the views)",
        s.digest_ms
    );
    outln!(
        "  parcours lookup                   {:>10.1} µs p50, {:.1} µs p99 (target <= 1 ms)",
        s.parcours_p50_us,
        s.parcours_p99_us
    );
    for (count, reason) in &s.top_rejections {
        outln!("  rejected ×{count}: {reason}");
    }
    Ok(ExitCode::SUCCESS)
}

fn bench_replicate(
    events: usize,
    runs: usize,
    transfers: usize,
    seed: u64,
    json: bool,
) -> Result<ExitCode> {
    if cfg!(debug_assertions) {
        eprintln!(
            "warning: this is a debug build; run `cargo run --release -- bench replicate` for real figures"
        );
    }
    let params = crate::bench_replicate::ReplicateBench {
        events,
        runs,
        transfers,
        seed,
    };
    let s = crate::bench_replicate::run(&params, &mut |line| eprintln!("{line}"))?;
    if json {
        outln!("{}", serde_json::to_string_pretty(&s)?);
        return Ok(ExitCode::SUCCESS);
    }
    outln!(
        "{} events in {} feeds, median of {} catch-ups over loopback gRPC:",
        s.events,
        s.feeds,
        s.runs_per_s.len()
    );
    outln!(
        "  end to end (receive, verify, store, fold): {:.0} events/s (runs: {})",
        s.catch_up_per_s,
        s.runs_per_s
            .iter()
            .map(|r| format!("{r:.0}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    outln!(
        "  bare verify_strict: {:.0}/s on every core, {:.0}/s on one",
        s.verify_all_cores_per_s,
        s.verify_one_core_per_s
    );
    outln!(
        "  ratio to verify_strict on every core: {:.2} ({:.2} cores busy during the catch-up)",
        s.ratio_all_cores,
        s.cores_busy
    );
    outln!(
        "  the hub serving alone (a plain pull, nothing verified): {:.0} events/s",
        s.serve_only_per_s
    );
    outln!(
        "  on the wire: {:.0} bytes per event ({:.0} signed bytes per event)",
        s.wire_bytes_per_event,
        s.signed_bytes_per_event
    );
    outln!(
        "  owner-side transfer call (sign, durable append, fold, reply): p50 {:.2} ms, p99 {:.2} ms",
        s.transfer_p50_ms,
        s.transfer_p99_ms
    );
    for (call, p50, p99) in &s.reads {
        outln!(
            "  read API on the observer holding every event, {call}: p50 {p50:.2} ms, p99 {p99:.2} ms"
        );
    }
    outln!("  digest {}", s.digest);
    Ok(ExitCode::SUCCESS)
}

fn bench_log(events: usize, runs: usize, batch: usize, json: bool) -> Result<ExitCode> {
    if cfg!(debug_assertions) {
        eprintln!(
            "warning: this is a debug build; run `cargo run --release -- bench log` for real figures"
        );
    }
    let params = bench::LogBench {
        events,
        runs,
        batch,
    };
    eprintln!("bench log: {events} events per run, {runs} runs, batches of {batch}");
    let summary = bench::run(&params, &mut |index, run| {
        eprintln!(
            "run {index}: sign {:.0}/s, append {:.0}/s ({:.2}), verify {:.0}/s, ingest {:.0}/s ({:.2}), disk {:.0} B/event for {:.0} B payload ({:.2})",
            run.sign_per_s,
            run.append_per_s,
            run.append_ratio(),
            run.verify_per_s,
            run.ingest_per_s,
            run.ingest_ratio(),
            run.disk_bytes_per_event,
            run.payload_bytes,
            run.disk_ratio()
        );
    })?;
    if json {
        outln!("{}", serde_json::to_string_pretty(&summary)?);
    } else {
        outln!(
            "median of {} runs of {} events:",
            summary.runs.len(),
            summary.events
        );
        outln!(
            "  own appends (sign+store+flush) / bare sign         {:.2}  (target >= 0.6)",
            summary.append_vs_sign
        );
        outln!(
            "  peer ingest (verify+chain+store) / bare verify      {:.2}  (target >= 0.8)",
            summary.ingest_vs_verify
        );
        outln!(
            "  bytes on disk per event / payload bytes             {:.2}  (target <= 2)",
            summary.disk_vs_payload
        );
    }
    Ok(ExitCode::SUCCESS)
}
