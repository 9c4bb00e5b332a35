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
    Cli, Command, FederationCommand, Global, LogCommand, LogFormat, PersonCommand, ServeArgs,
};
use crate::render;

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
        Command::Federation(FederationCommand::Show { json }) => {
            data_dir.require_initialised()?;
            let charter = data_dir.read_charter()?;
            let mut out = String::new();
            render::charter(
                &mut out,
                &maillage_app::queries::charter_view(&charter),
                json,
            )?;
            print!("{out}");
            Ok(ExitCode::SUCCESS)
        }
        Command::Id => {
            println!("{}", data_dir.read_key()?.hub_id());
            Ok(ExitCode::SUCCESS)
        }
        Command::Bench(command) => crate::bench_cli::run(command),
        Command::Serve(args) => serve(&data_dir, args),
        Command::Simulate { args } => simulate(args),
        Command::Log(LogCommand::Verify { file: Some(file) }) => crate::init::verify_file(&file),
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
            let answer = ask(&data_dir, request)?;
            Ok(render::answer(&command, answer)?.print())
        }
    }
}

/// Asks the node of `data_dir`: the daemon serving it, or the node opened here.
pub fn ask(data_dir: &DataDir, request: Request) -> Result<Result<Response, AppError>> {
    if let Some(socket) = crate::admin::running(data_dir)? {
        tracing::debug!(socket = %socket.display(), "sending the request to the running node");
        return crate::admin::call(&socket, request);
    }
    let node = match Node::open(data_dir.clone()) {
        Ok(node) => Arc::new(node),
        Err(error) => return Ok(Err(error)),
    };
    let app = App::new(node.clone());
    let answer = app.handle(request);
    node.save_views()?;
    Ok(answer)
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
