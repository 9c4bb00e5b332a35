//! Runs a parsed command line: what the CLI does itself (founding, keys, benchmarks, the demo,
//! serving), and what it asks a node — the typed request sent to the daemon serving the data
//! dir on its command socket, or answered here by the node opened for this command alone.

use std::io::IsTerminal;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context, Result, bail};
use maillage_app::datadir::DataDir;
use maillage_app::node::Node;
use maillage_app::request::{Request, Response};
use maillage_app::{App, AppError};

use crate::command::{
    Cli, Command, ConfigCommand, FederationCommand, Global, LogCommand, LogFormat, PersonCommand,
    ServeArgs, VenuesCommand,
};
use crate::lang::t;
use crate::render;
use maillage_core::tr;

/// Sets up tracing on stderr. The demo narrates on stdout and logs only errors by default
/// (its nodes' links fail on purpose when it cuts one).
pub fn init_logging(global: &Global, command: &Command) {
    let default = match global.verbose {
        0 if matches!(command, Command::Demo { .. }) => "error",
        0 => "warn,maillage=info,maillage_sync=info,maillage_app=info,maillage_store=warn",
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

/// Runs a parsed command.
pub fn run(cli: Cli) -> Result<ExitCode> {
    let data_dir = DataDir::new(&cli.global.data_dir);
    match cli.command {
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
        Command::Init(args) => crate::init::init(&data_dir, args),
        Command::Federation(FederationCommand::Create { members, out }) => {
            crate::init::create_federation(&members, &out)
        }
        Command::Key(command) => crate::init::key(&data_dir, command),
        Command::Id => {
            println!("{}", data_dir.read_key()?.hub_id());
            Ok(ExitCode::SUCCESS)
        }
        Command::Bench(command) => crate::bench_cli::run(command),
        Command::Backup { dir } => {
            data_dir.require_initialised()?;
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_millis() as u64);
            let report = maillage_app::backup::backup(&data_dir, &dir, now)?;
            let (from, to, files, bytes, when) = (
                data_dir.root().display(),
                report.dir.display(),
                report.files.join(", "),
                report.bytes,
                crate::lang::paris_time(now),
            );
            println!(
                "{}",
                tr!(
                    "sauvegarde de {from} écrite dans {to} le {when} : {files} ({bytes} octets)",
                    "backup of {from} written to {to} on {when}: {files} ({bytes} bytes)"
                )
            );
            eprintln!(
                "{}",
                t(
                    "Restaurée, cette copie ne signe rien tant qu'un pair ne lui a pas dit jusqu'où va le flux de ce hub (démarrez-la avec `maillage serve` et ses pairs).",
                    "Restored, this copy signs nothing until a peer has told it how far this hub's feed goes (start it with `maillage serve` and its peers)."
                )
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Serve(args) => serve(&data_dir, args),
        Command::Config(ConfigCommand::Check) => Ok(crate::config::run_check(&data_dir)),
        Command::Simulate { args } => simulate(args),
        Command::Log(LogCommand::Verify { file: Some(file) }) => crate::init::verify_file(&file),
        Command::Log(LogCommand::Repair) => crate::init::repair_store(&data_dir),
        Command::Venues(VenuesCommand::Mappings { name }) => {
            print!("{}", render::shipped_mappings(name.as_deref())?);
            Ok(ExitCode::SUCCESS)
        }
        Command::Person(PersonCommand::New { json }) => {
            let mut rendered = render::Rendered::default();
            render::person_code(
                &mut rendered.stdout,
                &mut rendered.stderr,
                &maillage_app::new_person(),
                json,
            )?;
            Ok(rendered.print())
        }
        command => {
            let request = command.request()?;
            if let Command::Export(export) = &command {
                // Before the node is asked: a refusal here writes nothing.
                crate::export::check_out_dir(export)?;
            }
            let answer = ask(&data_dir, cli.global.offline, request)?;
            Ok(render::answer(&command, answer)?.print())
        }
    }
}

/// Asks the node of `data_dir`: the daemon serving it, or the node opened here. A hub whose
/// node.toml names peers signs only through its daemon (which first compares its feed with a
/// peer's), unless `offline`.
pub fn ask(
    data_dir: &DataDir,
    offline: bool,
    request: Request,
) -> Result<Result<Response, AppError>> {
    if let Some(socket) = crate::admin::running(data_dir)? {
        tracing::debug!(socket = %socket.display(), "sending the request to the running node");
        return crate::admin::call(&socket, request);
    }
    let node = match Node::open(data_dir.clone()) {
        Ok(node) => Arc::new(node),
        Err(error) => return Ok(Err(error)),
    };
    let restored = maillage_app::backup::restored(data_dir)?;
    if let (Some(marker), false) = (&restored, offline) {
        let (root, source, taken) = (
            data_dir.root().display(),
            &marker.source,
            crate::lang::paris_time(marker.taken_at_ms),
        );
        node.set_gate(Arc::new(maillage_app::gate::AuthoringGate::closed(
            tr!(
                "{root} est une sauvegarde restaurée (prise de {source} le {taken}) : démarrez `maillage serve` avec ses pairs pour qu'elle récupère les événements que son flux contient au-delà de la sauvegarde avant de signer (signer maintenant signerait une seconde fois des positions de son flux : une bifurcation) ; ou donnez --offline pour signer sans cela",
                "{root} is a restored backup (taken from {source} on {taken}): start `maillage serve` with its peers so that it gets back the events its feed holds beyond the backup before it signs (signing now would sign positions of its feed a second time: a fork); or pass --offline to sign without it"
            ),
            std::time::Duration::ZERO,
        )));
    } else if !node.config.serve.peers.is_empty() {
        if offline {
            if request.signs() {
                tracing::warn!(
                    "signing with --offline: this hub's feed was not compared with its peers' first (a stale data dir would fork it)"
                );
            }
        } else {
            let (peers, root) = (node.config.serve.peers.len(), data_dir.root().display());
            node.set_gate(Arc::new(maillage_app::gate::AuthoringGate::closed(
                tr!(
                    "le node.toml de ce hub nomme {peers} pair(s) et aucun `maillage serve` ne tourne sur {root} : démarrez-le, pour qu'il compare le flux de ce hub avec celui de ses pairs avant de signer (un nœud démarré depuis une copie périmée de son répertoire de données signerait deux fois une position de son flux) ; ou donnez --offline pour signer sans cela",
                    "this hub's node.toml names {peers} peer(s) and no `maillage serve` runs on {root}: start it, so that it compares this hub's feed with its peers' before signing (a node started from a stale copy of its data dir would sign a position of its feed twice); or pass --offline to sign without it"
                ),
                std::time::Duration::ZERO,
            )));
        }
    }
    let app = App::new(node.clone());
    let answer = app.handle(request);
    node.save_views()?;
    Ok(answer)
}

fn serve(data_dir: &DataDir, args: ServeArgs) -> Result<ExitCode> {
    if let Some(socket) = crate::admin::running(data_dir)? {
        let (root, socket) = (data_dir.root().display(), socket.display());
        bail!(
            "{}",
            tr!(
                "un nœud sert déjà {root} (il répond sur {socket}) ; arrêtez-le d'abord",
                "a node already serves {root} (it answers on {socket}); stop it first"
            )
        );
    }
    // The settings first: a peer that could never be dialled is refused before the store is
    // opened and checked (seconds on a large one), not retried forever once serving.
    data_dir.require_initialised()?;
    let mut config = data_dir.read_config()?.serve;
    if let Some(listen) = args.listen {
        config.listen = listen;
    }
    for address in args.peers {
        config.peers.push(maillage_app::datadir::PeerEntry {
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
        config.tls = Some(maillage_app::datadir::TlsFiles { cert, key });
    }
    if let Some(http) = args.http {
        config.http = http;
    }
    config.offline = args.offline;
    crate::serve::peer_configs(&config)?;
    let node = Node::open(data_dir.clone())?;
    crate::serve::serve_blocking(node, config)?;
    Ok(ExitCode::SUCCESS)
}

/// The simulator's program name, looked for next to the running `maillage`.
const SIMULATOR: &str = "maillage-simulate";

fn simulate(args: Vec<String>) -> Result<ExitCode> {
    let exe = std::env::current_exe().context(t(
        "recherche du programme maillage",
        "locating the maillage program",
    ))?;
    let simulator = exe.with_file_name(format!("{SIMULATOR}{}", std::env::consts::EXE_SUFFIX));
    if !simulator.is_file() {
        let (exe, args) = (exe.display(), args.join(" "));
        bail!(
            "{}",
            tr!(
                "le simulateur n'est pas installé à côté de {exe} : construisez-le avec `cargo build --release -p maillage-simulations` (ou lancez `cargo run --release -p maillage-simulations -- {args}`)",
                "the simulator is not installed next to {exe}: build it with `cargo build --release -p maillage-simulations` (or run `cargo run --release -p maillage-simulations -- {args}`)"
            )
        );
    }
    let shown = simulator.display();
    let status = std::process::Command::new(&simulator)
        .args(&args)
        .status()
        .with_context(|| tr!("lancement de {shown}", "running {shown}"))?;
    Ok(match status.code() {
        Some(code) => ExitCode::from(u8::try_from(code).unwrap_or(1)),
        None => bail!(
            "{}",
            tr!(
                "{shown} a été arrêté par un signal",
                "{shown} was stopped by a signal"
            )
        ),
    })
}
