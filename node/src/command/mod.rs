//! The command line's grammar: every command and option, in the words of the people who run
//! them (clap), and what each becomes — a typed request to the node
//! ([`maillage_app::request::Request`]) or an operation the CLI does itself. Parsing here is
//! syntax only: what an argument means is the node's to judge.
//!
//! Size: the grammar is declarative (clap derive) and its doc comments are the `--help` text
//! people read; one file keeps the whole command tree in view. What each command becomes is in
//! `request.rs`.

use std::path::PathBuf;

use anyhow::bail;
use clap::{Args, Parser, Subcommand, ValueEnum};
use maillage_app::datadir::DEFAULT_DATA_DIR;

use crate::args;

mod help_fr;
mod localize;
mod request;

pub use localize::{command, parse};

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
///
/// Language: French by default; --lang en or MAILLAGE_LANG=en for English.
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
    /// Sign on this data dir although no daemon serves it and node.toml names peers, without
    /// comparing this hub's feed with theirs first (see `maillage serve --help`). Logged.
    #[arg(long, global = true)]
    pub offline: bool,
    /// Language of help and messages: fr (French, the default) or en (English). JSON, CSV,
    /// ids and codes are the same in both.
    #[arg(
        long,
        global = true,
        env = "MAILLAGE_LANG",
        value_enum,
        ignore_case = true,
        default_value_t = LangArg::Fr
    )]
    pub lang: LangArg,
}

/// Languages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LangArg {
    /// French.
    Fr,
    /// English.
    En,
}

impl From<LangArg> for maillage_core::lang::Lang {
    fn from(lang: LangArg) -> Self {
        match lang {
            LangArg::Fr => Self::Fr,
            LangArg::En => Self::En,
        }
    }
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
    /// Rotate this node's key: `key new` draws the next key, the federation endorses its
    /// succession (`federation propose … succeed --successor KEY`), then `key rotate` (node
    /// stopped) makes it the node's key.
    #[command(subcommand)]
    Key(KeyCommand),
    /// The venue map: import the national standard, list, search, export.
    #[command(subcommand)]
    Venues(VenuesCommand),
    /// The signed log: verify every signature and chain, export a portable file.
    #[command(subcommand)]
    Log(LogCommand),
    /// Benchmarks, reported as ratios against the raw primitives measured in the same run.
    #[command(subcommand)]
    Bench(BenchCommand),
    /// People: draw a pseudonymous carnet code, or forget a person (right to erasure).
    #[command(subcommand)]
    Person(PersonCommand),
    /// Vouchers (Pass numérique): issue, hand out, redeem, transfer, claim, settle, status.
    #[command(subcommand)]
    Voucher(VoucherCommand),
    /// Referrals (orientations): open, accept, decline, forward, close, show.
    #[command(subcommand)]
    Referral(ReferralCommand),
    /// Accompaniments recorded by venues.
    #[command(subcommand)]
    Accompaniment(AccompanimentCommand),
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
    /// Write the views as CSV and Parquet files for analysts, described in datapackage.json:
    /// lieux.csv, venues.csv, vouchers.csv, referrals.csv, events.csv, stats.csv,
    /// indicators.csv.
    ///
    /// lieux.csv holds the open venues in the national standard v1 (as `venues export`);
    /// venues.csv every venue, closed ones included (status, closed_on, closing_reason), by
    /// the venue id the other files name, with the source id (lieux.csv's id), name, commune,
    /// codes (quoted), pivot and qualification; vouchers.csv one row per voucher of every
    /// batch, with its status on the --as-of day (issued, handed_out, redeemed, cancelled,
    /// expired) and its hand-out day; referrals.csv one row per referral, with its status on
    /// that day (open, expired after its 30 days, accepted, declined, or its outcome);
    /// events.csv one row per applied event, by clock (signed_on, event_date, hub, kind, and
    /// the venue, batch, voucher and referral it names); stats.csv the figures of `maillage
    /// stats`, one value a row (as_of,section,hub,hub_key,funder,departement,metric,value);
    /// indicators.csv its national indicators, one value a row (as_of,indicator,quarter,
    /// funder,prescriber_kind,from_hub,to_hub,metric,value).
    ///
    /// UTF-8, comma-separated, one header row, rows in id order (vouchers by batch, then
    /// number; events by clock): nodes holding the same events write the same bytes for the
    /// same day. With --excel: a byte-order mark and `;` between values, for a double-click in
    /// a French spreadsheet. No person code is written, so the files can be shared. Files
    /// already in DIR are left untouched unless --force; the files appear only once all of
    /// them are complete.
    ///
    /// Beside the CSV files: the same tables in Parquet, typed (all but lieux.csv; events.csv
    /// one file per month, events/month=YYYY-MM/part-0.parquet, for DuckDB's
    /// hive_partitioning; --no-parquet leaves them out), and datapackage.json, every file
    /// written described as a Frictionless Data Package (columns, types, descriptions in
    /// French, keys and the joins between files).
    ///
    /// Example: maillage export --out export-2026-03 --as-of 2026-03-31
    Export(ExportArgs),
    /// The digest of every folded view (equal on nodes holding the same events) and the
    /// events applied per feed.
    Digest {
        /// Machine-readable output.
        #[arg(long)]
        json: bool,
    },
    /// Copy this data dir into DIR (new or empty), whether a node serves it or not: the key,
    /// the charter, node.toml and the event store as it is now (the index and the views are
    /// rebuilt from it). Restored, the copy knows it is a backup: it signs nothing until a
    /// peer has told it how far this hub's feed goes, so that restoring last night's copy can
    /// never make the hub sign a position of its feed twice.
    ///
    /// Example: maillage backup /var/backups/maillage/2026-03-31
    Backup {
        /// Where to write the copy (created; must be empty if it exists).
        dir: PathBuf,
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
    /// Check this node's configuration without starting it: node.toml, key, charter, TLS files.
    #[command(subcommand)]
    Config(ConfigCommand),
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

/// `maillage config …`.
#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Check the data dir's node.toml as `maillage serve` would read it, and say precisely
    /// what is wrong: peers' addresses (http:// or https:// URLs with a host), their pinned
    /// keys (members of the charter), TLS settings consistent with each address and files
    /// that exist and load (the listener's certificate and key, which must match; peers' CA
    /// files), the listen and HTTP addresses, and node.key (present, a member of the charter).
    ///
    /// Prints one line per setting checked (ok, warning, error); exits with status 1 if any
    /// is an error. Safe while the node serves: it reads, and writes nothing.
    Check,
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
    /// Sign without first comparing this hub's feed with a peer's. By default a hub with
    /// peers signs nothing after it starts until a peer has told it how far its own feed goes
    /// and it holds that much: a node started from a backup would otherwise sign a position
    /// of its feed a second time (a fork, which freezes its feed everywhere). Logged.
    #[arg(long)]
    pub offline: bool,
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
    /// Show this node's federation: id, members (with the amendments its views hold applied:
    /// keys, roles, territories, who left or handed over) and the history of amendments.
    Show {
        /// Machine-readable output.
        #[arg(long)]
        json: bool,
    },
    /// Propose a charter amendment, signed by this hub. It takes effect once `threshold` hubs
    /// (`federation show`) endorsed it, this proposal counting as this hub's endorsement.
    ///
    /// Examples:
    ///   maillage federation propose --reason "nouveau hub breton" admit --key 3b6a… --name "Hub Ouest" --territories 29,35
    ///   maillage federation propose --reason "rotation annuelle" succeed --member "Hub du Sud" --successor 9f01…
    ///   maillage federation propose --reason "fin du financement" remove --member "Hub Ouest"
    Propose {
        /// Why (kept in the federation's history; required).
        #[arg(long)]
        reason: String,
        /// Machine-readable output.
        #[arg(long, global = true)]
        json: bool,
        /// What to change.
        #[command(subcommand)]
        change: AmendmentCommand,
    },
    /// After a hub's feed forked (a restored backup signed again): the recovery amendment
    /// this node's store supports — the branch it holds past the fork — as a command to run
    /// with the successor key of the restored hub (README, "A hub restored from a backup").
    RecoveryPlan {
        /// The member whose feed forked (its key, or part of its name).
        #[arg(long)]
        member: String,
    },
    /// Endorse a proposal (an id prefix from `federation show`).
    Endorse {
        /// The proposal's event id, or a prefix of at least 4 hex digits.
        proposal: String,
        /// Machine-readable output.
        #[arg(long)]
        json: bool,
    },
}

/// `maillage key …`.
#[derive(Debug, Subcommand)]
pub enum KeyCommand {
    /// Draw the node's next key (kept in node.key.next, mode 0600) and print its public key,
    /// to propose as this member's successor.
    New,
    /// Make the next key the node's key (the node must be stopped): only once the succession
    /// naming it is in effect in this node's views. The old key is kept as node.key.old.
    Rotate,
}

/// What an amendment changes.
#[derive(Debug, Subcommand)]
pub enum AmendmentCommand {
    /// Admit a member: a hub holding départements no hub holds, or an observer.
    Admit {
        /// Its public key, as `maillage init` printed it on its machine.
        #[arg(long)]
        key: String,
        /// Its name.
        #[arg(long)]
        name: String,
        /// The départements it holds (a hub), comma-separated INSEE codes.
        #[arg(long, value_delimiter = ',')]
        territories: Vec<String>,
        /// Admit an observer (a read replica: no territory).
        #[arg(long, conflicts_with = "territories")]
        observer: bool,
    },
    /// Remove a member: its events after `--last-seq` never count.
    Remove {
        /// The member (its key, or part of its name).
        #[arg(long)]
        member: String,
        /// Its last event that counts (default: the last this node holds).
        #[arg(long)]
        last_seq: Option<u64>,
    },
    /// Move départements from one hub to another.
    Move {
        /// The hub holding them.
        #[arg(long)]
        from: String,
        /// The hub receiving them.
        #[arg(long)]
        to: String,
        /// The départements, comma-separated.
        #[arg(long, value_delimiter = ',', required = true)]
        territories: Vec<String>,
    },
    /// Change the number of hubs whose endorsement an amendment needs.
    Threshold {
        /// Between 1 and the number of hubs.
        threshold: u32,
    },
    /// Succeed a member's key: a new key (rotation, a lost or stolen key) or another hub that
    /// takes everything over (a hub that closes). The old key's events after `--last-seq`
    /// never count.
    Succeed {
        /// The member (its key, or part of its name).
        #[arg(long)]
        member: String,
        /// The new key (64 hex digits), or the hub taking over.
        #[arg(long)]
        successor: String,
        /// The old key's last event that counts (default: the last this node holds; this
        /// hub's own proposal when it rotates its own key).
        #[arg(long)]
        last_seq: Option<u64>,
        /// After a fork of the member's feed: the id of the event at `--last-seq` that stands
        /// (the branch the federation holds).
        #[arg(long)]
        branch: Option<String>,
    },
    /// Move the federation to the next protocol version: from each hub's next event plus
    /// `--margin` on, its events follow `--version`. Propose it once every node runs a
    /// release that implements that version (docs/protocol.md §0); a node whose feed reaches
    /// its switch before the change is in effect in its views signs nothing until it is.
    Protocol {
        /// The version in effect + 1.
        #[arg(long)]
        version: u32,
        /// Events each hub may still sign under the current version (its next seq as this
        /// node sees it, plus this many, is where it switches).
        #[arg(long, default_value_t = 1000)]
        margin: u64,
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
    /// Repair a damaged data file (store/events.log) of a stopped node: keep every valid
    /// frame in order, drop the bytes that hold none (junk, a torn tail) and say which, keep
    /// the damaged file as events.log.before-repair, and rebuild the index at the next start.
    /// Events whose frames are gone are not invented: the node cuts each feed to its verified
    /// prefix and fetches the rest from its peers.
    Repair,
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
    /// The analysts' export of a generated history held by a real data dir: the time to
    /// compute every file (CSV, Parquet, datapackage.json), the time to write them, and their
    /// sizes (Parquet against CSV).
    Export {
        /// Events in the generated history.
        #[arg(long, default_value_t = 1_000_000)]
        events: usize,
        /// Workload seed.
        #[arg(long, default_value_t = 2026)]
        seed: u64,
        /// Day the statuses and figures are computed for.
        #[arg(long, default_value = "2026-12-31")]
        as_of: String,
        /// Keep the exported files in this directory (default: a temporary one, removed).
        #[arg(long)]
        keep: Option<std::path::PathBuf>,
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
    /// A long history generated straight into a hub's store (never held in memory), then the
    /// hub and a fresh observer as real daemons: first open of the hub, its reopen after a
    /// clean stop and after a crash, the observer's catch-up over loopback gRPC, peak memory
    /// of each process, size on disk, read latency.
    Scale {
        /// Events in the generated history.
        #[arg(long, default_value_t = 10_000_000)]
        events: usize,
        /// Workload seed.
        #[arg(long, default_value_t = 7)]
        seed: u64,
        /// Hubs in the workload: 15 (the regional hubs) or 2 to 101 territorial hubs (the
        /// départements dealt in turn).
        #[arg(long, default_value_t = crate::workload::HUBS_DEFAULT)]
        hubs: usize,
        /// Days the history spans, ending on 2026-09-21 (0: minutes, as signed in one go);
        /// over 730, personal parts pass retention as the history is folded.
        #[arg(long, default_value_t = 0)]
        days: u32,
        /// Keep the data dirs in this directory (default: a temporary one, removed).
        #[arg(long)]
        keep: Option<std::path::PathBuf>,
        /// Machine-readable output.
        #[arg(long)]
        json: bool,
    },
    /// The signature rule's verdicts compared three ways (single, reference, batch) on
    /// generated honest and adversarial signatures, then each path's speed against bare
    /// verify_strict on one core and on every core.
    Signatures {
        /// Signatures whose verdicts are compared.
        #[arg(long, default_value_t = 1_000_000)]
        count: usize,
        /// Signatures per batch (one key each, as a slice of one feed's events).
        #[arg(long, default_value_t = 64)]
        batch: usize,
        /// Runs (medians are reported).
        #[arg(long, default_value_t = 5)]
        runs: usize,
        /// Corpus seed.
        #[arg(long, default_value_t = 2026)]
        seed: u64,
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
        /// Hubs in the workload: 15 (the regional hubs) or 2 to 101 territorial hubs (the
        /// départements dealt in turn).
        #[arg(long, default_value_t = crate::workload::HUBS_DEFAULT)]
        hubs: usize,
        /// Machine-readable output.
        #[arg(long)]
        json: bool,
    },
}

// ----- domain commands ------------------------------------------------------------------

/// `maillage person …`.
#[derive(Debug, Subcommand)]
pub enum PersonCommand {
    /// Draw a new pseudonymous person code to print on the carnet. Nothing is written: a
    /// person exists only through the events that mention them.
    New {
        /// Machine-readable output.
        #[arg(long)]
        json: bool,
    },
    /// Right to erasure: every node drops the person's parcours (PersonForgotten).
    Forget {
        /// The person code (from the carnet).
        code: String,
        /// Machine-readable output.
        #[arg(long)]
        json: bool,
    },
}

/// `maillage venues qualify`.
#[derive(Debug, Args)]
pub struct QualifyArgs {
    /// Venue id (v…) or source id.
    pub venue: String,
    /// Last day of validity (YYYY-MM-DD).
    #[arg(long)]
    pub until: String,
    /// v1 services it may redeem vouchers for (exact label, or an unambiguous part of it).
    #[arg(long = "service", required = true)]
    pub services: Vec<String>,
    /// The scheme.
    #[arg(long, default_value = "pass-numerique")]
    pub scheme: String,
    /// Machine-readable output.
    #[arg(long)]
    pub json: bool,
}

/// `maillage venues set`: the identifier (one of --siret, --rna, --ridet), hours, services
/// and contact of one of this hub's venues.
#[derive(Debug, Args)]
pub struct SetArgs {
    /// Venue id (v…) or source id.
    pub venue: String,
    /// SIRET of the establishment (14 digits; Luhn checksum, or La Poste's digit-sum rule).
    #[arg(long, group = "pivot", value_name = "SIRET")]
    pub siret: Option<String>,
    /// RNA number of the association (W followed by 9 digits).
    #[arg(long, group = "pivot", value_name = "RNA")]
    pub rna: Option<String>,
    /// RIDET of a New Caledonia establishment (7 digits, then the 3-digit rank: 1234567.001).
    #[arg(long, group = "pivot", value_name = "RIDET")]
    pub ridet: Option<String>,
    /// Opening hours, OpenStreetMap opening_hours syntax ("Mo-Fr 09:00-12:00"; "" for none).
    #[arg(long, value_name = "HOURS")]
    pub hours: Option<String>,
    /// v1 services offered, separated by | (exact label, or an unambiguous part of one);
    /// replaces the list.
    #[arg(long, value_name = "SERVICES")]
    pub services: Option<String>,
    /// E-mail address (repeat for several; replaces the list; "" for none).
    #[arg(long = "email", value_name = "EMAIL")]
    pub emails: Vec<String>,
    /// Phone number (repeat for several; replaces the list; "" for none).
    #[arg(long = "phone", value_name = "PHONE")]
    pub phones: Vec<String>,
    /// Machine-readable output.
    #[arg(long)]
    pub json: bool,
}

/// `maillage venues close`.
#[derive(Debug, Args)]
pub struct CloseArgs {
    /// Venue id (v…) or source id.
    pub venue: String,
    /// Why it closes.
    #[arg(long)]
    pub reason: String,
    /// The day it closed, YYYY-MM-DD (default: none given; the exports then show the day the
    /// closing was signed).
    #[arg(long)]
    pub date: Option<String>,
    /// Machine-readable output.
    #[arg(long)]
    pub json: bool,
}

/// `maillage venues reopen`.
#[derive(Debug, Args)]
pub struct ReopenArgs {
    /// Venue id (v…) or source id.
    pub venue: String,
    /// Why it opens again.
    #[arg(long)]
    pub reason: String,
    /// Machine-readable output.
    #[arg(long)]
    pub json: bool,
}

/// `maillage venues revoke`.
#[derive(Debug, Args)]
pub struct RevokeArgs {
    /// Venue id (v…) or source id.
    pub venue: String,
    /// Why.
    #[arg(long)]
    pub reason: String,
    /// Machine-readable output.
    #[arg(long)]
    pub json: bool,
}

/// `maillage voucher …`.
#[derive(Debug, Subcommand)]
pub enum VoucherCommand {
    /// Issue a batch of vouchers bought by a funder (serials BATCH-1 … BATCH-N).
    Issue(IssueArgs),
    /// Hand vouchers (a carnet) to a person.
    HandOut(HandOutArgs),
    /// Redeem a voucher this hub owns at one of its qualified venues (or accept a claim).
    Redeem {
        /// The serial.
        serial: String,
        /// Venue id (v…) or source id.
        #[arg(long)]
        venue: String,
        /// v1 service (exact label, or an unambiguous part of it).
        #[arg(long)]
        service: String,
        /// Day of the redemption (default: today).
        #[arg(long)]
        date: Option<String>,
        /// The claim this redemption answers (event id, or a unique prefix of it).
        #[arg(long)]
        claim: Option<String>,
        /// Machine-readable output.
        #[arg(long)]
        json: bool,
    },
    /// Transfer vouchers to another hub (key hex or unique part of its name).
    Transfer {
        /// Serials.
        #[arg(required = true)]
        serials: Vec<String>,
        /// The receiving hub.
        #[arg(long)]
        to: String,
        /// Why.
        #[arg(long)]
        reason: String,
        /// Machine-readable output.
        #[arg(long)]
        json: bool,
    },
    /// Claim a voucher another hub owns, accepted at one of this hub's venues while the owner
    /// was unreachable; the owner answers with `voucher answer`.
    Claim {
        /// The serial.
        serial: String,
        /// Venue id (v…) or source id.
        #[arg(long)]
        venue: String,
        /// v1 service.
        #[arg(long)]
        service: String,
        /// Day (default: today).
        #[arg(long)]
        date: Option<String>,
        /// Machine-readable output.
        #[arg(long)]
        json: bool,
    },
    /// Answer a claim on a voucher this hub owns: accept (redeem it as claimed) or reject.
    Answer {
        /// The claim's event id (or a unique prefix of it).
        claim: String,
        /// Accept: redeem the voucher with the claim's venue, service and date.
        #[arg(long, conflicts_with = "reject", required_unless_present = "reject")]
        accept: bool,
        /// Reject, with this reason.
        #[arg(long)]
        reject: Option<String>,
        /// Machine-readable output.
        #[arg(long)]
        json: bool,
    },
    /// Withdraw vouchers this hub owns.
    Cancel {
        /// Serials.
        #[arg(required = true)]
        serials: Vec<String>,
        /// Why.
        #[arg(long)]
        reason: String,
        /// Machine-readable output.
        #[arg(long)]
        json: bool,
    },
    /// Record the payment to a venue of redeemed vouchers this hub issued (amount = face values).
    Settle {
        /// Venue id (v…) or source id.
        #[arg(long)]
        venue: String,
        /// Serials.
        #[arg(required = true)]
        serials: Vec<String>,
        /// Month paid for (YYYY-MM).
        #[arg(long)]
        period: String,
        /// Machine-readable output.
        #[arg(long)]
        json: bool,
    },
    /// A voucher's state, or counts by status for a batch.
    Status {
        /// The serial.
        #[arg(required_unless_present = "batch", conflicts_with = "batch")]
        serial: Option<String>,
        /// A batch id.
        #[arg(long)]
        batch: Option<String>,
        /// Day to evaluate expiry at (default: today).
        #[arg(long)]
        as_of: Option<String>,
        /// Machine-readable output.
        #[arg(long)]
        json: bool,
    },
}

/// `maillage voucher issue`.
#[derive(Debug, Args)]
pub struct IssueArgs {
    /// Batch id: one of this hub's départements, a dash, then letters, digits, dashes.
    #[arg(long)]
    pub batch: String,
    /// Funder name.
    #[arg(long)]
    pub funder: String,
    /// Funder SIRET (14 digits).
    #[arg(long)]
    pub funder_siret: String,
    /// Vouchers in the batch.
    #[arg(long)]
    pub count: u32,
    /// Face value of one voucher, in cents.
    #[arg(long, default_value_t = 1000)]
    pub face_value_cents: u64,
    /// First valid day.
    #[arg(long)]
    pub valid_from: String,
    /// Last day to hand out and use.
    #[arg(long)]
    pub valid_until: String,
    /// Last day to redeem (tolerance).
    #[arg(long)]
    pub redeem_deadline: String,
    /// Eligible v1 services (default: any).
    #[arg(long = "service")]
    pub services: Vec<String>,
    /// Départements where they may be redeemed (default: any).
    #[arg(long = "territory")]
    pub territories: Vec<String>,
    /// Machine-readable output.
    #[arg(long)]
    pub json: bool,
}

/// `maillage voucher hand-out`.
#[derive(Debug, Args)]
pub struct HandOutArgs {
    /// Serials.
    #[arg(required_unless_present = "carnet")]
    pub serials: Vec<String>,
    /// A range of a batch: BATCH:FIRST-LAST (e.g. 13-2026-CAF-01:1-5).
    #[arg(long)]
    pub carnet: Option<String>,
    /// The person code (from the carnet).
    #[arg(long)]
    pub person: String,
    /// Prescriber kind (CAF, FT, CCAS, MUNI, DEPT, ML, LA_POSTE, RFS, ASSO, SPIP, AUTRE).
    #[arg(long)]
    pub prescriber_kind: String,
    /// The desk's name (never a person's).
    #[arg(long)]
    pub prescriber: String,
    /// The referral it goes with.
    #[arg(long)]
    pub referral: Option<String>,
    /// Day (default: today).
    #[arg(long)]
    pub date: Option<String>,
    /// Machine-readable output.
    #[arg(long)]
    pub json: bool,
}

/// `maillage referral …`.
#[derive(Debug, Subcommand)]
pub enum ReferralCommand {
    /// Refer a person to a venue or to a service in a département.
    Open(OpenArgs),
    /// Accept a referral this hub handles, at one of its venues.
    Accept {
        /// Referral id.
        id: String,
        /// Venue id (v…) or source id.
        #[arg(long)]
        venue: String,
        /// Appointment day.
        #[arg(long)]
        appointment: Option<String>,
        /// Day of acceptance (default: today).
        #[arg(long)]
        date: Option<String>,
        /// Machine-readable output.
        #[arg(long)]
        json: bool,
    },
    /// Decline a referral this hub handles.
    Decline {
        /// Referral id.
        id: String,
        /// Why.
        #[arg(long)]
        reason: String,
        /// Machine-readable output.
        #[arg(long)]
        json: bool,
    },
    /// Forward a referral to another venue (possibly another hub's).
    Forward {
        /// Referral id.
        id: String,
        /// Venue id (v…) or source id.
        #[arg(long)]
        to_venue: String,
        /// Machine-readable output.
        #[arg(long)]
        json: bool,
    },
    /// Close a referral with its outcome.
    Close {
        /// Referral id.
        id: String,
        /// Outcome.
        #[arg(long, value_enum)]
        outcome: Outcome,
        /// The person's autonomy at the end.
        #[arg(long, value_enum)]
        autonomy: Option<Autonomy>,
        /// Machine-readable output.
        #[arg(long)]
        json: bool,
    },
    /// A referral's state (open referrals past their expiry are shown as expired).
    Show {
        /// Referral id.
        id: String,
        /// Day to evaluate expiry at (default: today).
        #[arg(long)]
        as_of: Option<String>,
        /// Machine-readable output.
        #[arg(long)]
        json: bool,
    },
}

/// `maillage referral open`.
#[derive(Debug, Args)]
pub struct OpenArgs {
    /// The person code (from the carnet).
    #[arg(long)]
    pub person: String,
    /// Prescriber kind (CAF, FT, CCAS, MUNI, DEPT, ML, LA_POSTE, RFS, ASSO, SPIP, AUTRE).
    #[arg(long)]
    pub prescriber_kind: String,
    /// The desk's name (never a person's).
    #[arg(long)]
    pub prescriber: String,
    /// Needs (v1 services).
    #[arg(long = "need", required = true)]
    pub needs: Vec<String>,
    /// Target venue (v… or source id).
    #[arg(
        long,
        conflicts_with = "service_territory",
        required_unless_present = "service_territory"
    )]
    pub venue: Option<String>,
    /// Target département (the need is served by its hub).
    #[arg(long)]
    pub service_territory: Option<String>,
    /// Diagnostic (e.g. "ABC Diag: débutant").
    #[arg(long, default_value = "")]
    pub diagnostic: String,
    /// Channel (telephone, mail, plateforme…).
    #[arg(long, default_value = "")]
    pub channel: String,
    /// Referral id (default: "<département>-<YYYYMMDD>-<6 random characters>").
    #[arg(long)]
    pub id: Option<String>,
    /// Opening day (default: today).
    #[arg(long)]
    pub opened_on: Option<String>,
    /// Expiry day (default: 30 days after opening).
    #[arg(long)]
    pub expires_on: Option<String>,
    /// Machine-readable output.
    #[arg(long)]
    pub json: bool,
}

/// Referral outcomes.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Outcome {
    /// The accompaniment took place.
    Completed,
    /// The person did not come.
    #[value(name = "no_show")]
    NoShow,
    /// Stopped before the end.
    Abandoned,
}

/// Autonomy levels.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Autonomy {
    /// Autonomous.
    Autonomous,
    /// Partially autonomous.
    Partially,
    /// Not autonomous.
    #[value(name = "not_autonomous")]
    NotAutonomous,
}

/// Accompaniment modes.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Mode {
    /// One person.
    Individual,
    /// A group.
    Collective,
    /// At a distance.
    Remote,
}

/// `maillage accompaniment …`.
#[derive(Debug, Subcommand)]
pub enum AccompanimentCommand {
    /// Record an accompaniment at one of this hub's venues.
    Record {
        /// The person code.
        #[arg(long)]
        person: String,
        /// Venue id (v…) or source id.
        #[arg(long)]
        venue: String,
        /// v1 services.
        #[arg(long = "service", required = true)]
        services: Vec<String>,
        /// Day.
        #[arg(long)]
        date: String,
        /// Minutes.
        #[arg(long)]
        duration_min: u32,
        /// individual | collective | remote.
        #[arg(long, value_enum)]
        mode: Mode,
        /// The referral it answers.
        #[arg(long)]
        referral: Option<String>,
        /// Vouchers used.
        #[arg(long = "voucher")]
        vouchers: Vec<String>,
        /// Machine-readable output.
        #[arg(long)]
        json: bool,
    },
}

// ----- venues -------------------------------------------------------------------------

/// `maillage venues …`.
#[derive(Debug, Subcommand)]
pub enum VenuesCommand {
    /// Import a venue file of the national standard (CSV v1, CSV v0.1.1, JSON) into this
    /// hub's log. Rows outside the hub's territories or with an invalid required field are
    /// rejected and reported; invalid optional fields are dropped with a warning.
    ///
    /// An export whose columns are not the standard's is read with an import mapping
    /// (--mapping): a TOML file that renames its columns, translates its values and assembles
    /// its opening hours.
    Import {
        /// The file to import.
        file: PathBuf,
        /// Input format (auto-detected by default).
        #[arg(long, value_enum, default_value_t = FormatArg::Auto)]
        format: FormatArg,
        /// Read the file with this import mapping: the path of a TOML file (64 KiB at most), or
        /// the name of a shipped mapping (mednum-bfc, france-services; see `maillage venues
        /// mappings`).
        #[arg(long, value_name = "FICHIER_OU_NOM", conflicts_with = "format")]
        mapping: Option<String>,
        /// Write every rejected row and warning to this CSV file.
        #[arg(long)]
        report: Option<PathBuf>,
        /// Validate and report, append nothing.
        #[arg(long)]
        dry_run: bool,
        /// Machine-readable summary.
        #[arg(long)]
        json: bool,
    },
    /// List venues (all hubs' venues this node holds).
    List {
        /// Only this département (INSEE code, e.g. 13 or 2A).
        #[arg(long)]
        departement: Option<String>,
        /// At most this many.
        #[arg(long, default_value_t = 50)]
        limit: usize,
        /// Include closed venues.
        #[arg(long)]
        all: bool,
        /// Machine-readable output.
        #[arg(long)]
        json: bool,
    },
    /// Show one venue by its venue id (v…) or its source id.
    Show {
        /// Venue id or source id.
        id: String,
        /// Machine-readable output.
        #[arg(long)]
        json: bool,
    },
    /// Search venues by words in the name, town or address, with optional filters.
    Search {
        /// Words to look for (all must match, accents and case ignored).
        text: Vec<String>,
        /// Only this département.
        #[arg(long)]
        departement: Option<String>,
        /// Only venues offering this service (v1 label, or a unique part of one).
        #[arg(long)]
        service: Option<String>,
        /// Only venues addressing this public or specific support (v1 label, e.g. Seniors,
        /// Surdité).
        #[arg(long)]
        public: Option<String>,
        /// Only venues qualified for vouchers today.
        #[arg(long)]
        qualified: bool,
        /// Only venues within --within-km of this point, nearest first ("LAT,LON" in degrees).
        #[arg(long, value_name = "LAT,LON")]
        near: Option<String>,
        /// Radius for --near.
        #[arg(long, default_value_t = 10.0)]
        within_km: f64,
        /// At most this many.
        #[arg(long, default_value_t = 50)]
        limit: usize,
        /// Machine-readable output.
        #[arg(long)]
        json: bool,
    },
    /// Change one of this hub's venues without re-importing a file: its identifier (SIRET,
    /// RNA or RIDET), opening hours, services, e-mail, phone (VenueUpdated).
    Set(SetArgs),
    /// Close one of this hub's venues (VenueClosed): it leaves the map, the exports keep it
    /// with its closing date.
    Close(CloseArgs),
    /// Open one of this hub's closed venues again (VenueReopened): back on the map, with its
    /// record and qualification history.
    Reopen(ReopenArgs),
    /// Qualify a venue of this hub for vouchers (after the in-situ check): VenueQualified.
    Qualify(QualifyArgs),
    /// Revoke a venue's qualification: VenueQualificationRevoked.
    Revoke(RevokeArgs),
    /// List the import mappings shipped with maillage, or show one of them (to write one's own
    /// from it).
    Mappings {
        /// The name of a shipped mapping: its TOML file is shown.
        name: Option<String>,
    },
    /// Export the open venues as a file of the national standard.
    Export {
        /// Output format.
        #[arg(long, value_enum, default_value_t = ExportFormat::CsvV1)]
        format: ExportFormat,
        /// Output file (standard output if absent).
        #[arg(long, short)]
        out: Option<PathBuf>,
    },
}

/// Import formats.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum FormatArg {
    /// Detect from the content.
    Auto,
    /// CSV, standard v1 (`|` between values).
    CsvV1,
    /// CSV, standard v0.1.1 (`;` between values).
    CsvV0,
    /// JSON array of records with the standard's field names.
    Json,
    /// The MedNum BFC hub's own CSV layout (the shipped mapping mednum-bfc).
    MednumBfc,
}

impl From<FormatArg> for maillage_app::request::VenueFormat {
    fn from(f: FormatArg) -> Self {
        use maillage_app::request::VenueFormat;
        match f {
            FormatArg::Auto => VenueFormat::Auto,
            FormatArg::CsvV1 => VenueFormat::CsvV1,
            FormatArg::CsvV0 => VenueFormat::CsvV0,
            FormatArg::Json => VenueFormat::Json,
            FormatArg::MednumBfc => VenueFormat::MednumBfc,
        }
    }
}

/// Export formats.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ExportFormat {
    /// CSV of the national standard v1.
    CsvV1,
}

// ----- export ---------------------------------------------------------------------------

/// `maillage export` options.
#[derive(Debug, Args)]
pub struct ExportArgs {
    /// Directory to write the files into (created if missing).
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// Day the statuses and figures are computed for, YYYY-MM-DD (default: today, as for
    /// `maillage stats`).
    #[arg(long, value_name = "DAY")]
    pub as_of: Option<String>,
    /// Write only these files (comma-separated; default: all of them).
    #[arg(long, value_enum, value_delimiter = ',', value_name = "FILES")]
    pub only: Vec<TableArg>,
    /// Replace files of the same names already in DIR (by default the export refuses and
    /// writes nothing).
    #[arg(long)]
    pub force: bool,
    /// For a double-click in a French spreadsheet (Excel): UTF-8 with a byte-order mark and
    /// `;` between values, every file (lieux.csv included, no longer the standard's bytes).
    #[arg(long)]
    pub excel: bool,
    /// Without the Parquet files: by default every file but lieux.csv is also written as
    /// Parquet beside the CSV (venues.parquet, vouchers.parquet, referrals.parquet,
    /// stats.parquet, indicators.parquet; the events one file per month,
    /// events/month=YYYY-MM/part-0.parquet), with typed columns (numbers, booleans, dates;
    /// codes stay text), for DuckDB, pandas or R.
    #[arg(long)]
    pub no_parquet: bool,
}

/// The files of an export.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, ValueEnum)]
pub enum TableArg {
    /// lieux.csv: open venues, national standard v1.
    Venues,
    /// venues.csv: every venue by its venue id (the id the other files name), closed ones
    /// included with their closing day.
    VenueIndex,
    /// vouchers.csv: one row per voucher.
    Vouchers,
    /// referrals.csv: one row per referral.
    Referrals,
    /// events.csv: one row per applied event, by clock (no person code).
    Events,
    /// stats.csv: the national figures, one value a row.
    Stats,
    /// indicators.csv: the national indicators (trends, funders, prescribers, delays, flows,
    /// liability), one value a row.
    Indicators,
}

impl TableArg {
    /// The file's name.
    pub fn file_name(self) -> &'static str {
        match self {
            Self::Venues => "lieux.csv",
            Self::VenueIndex => "venues.csv",
            Self::Vouchers => "vouchers.csv",
            Self::Referrals => "referrals.csv",
            Self::Events => "events.csv",
            Self::Stats => "stats.csv",
            Self::Indicators => "indicators.csv",
        }
    }
}
