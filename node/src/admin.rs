//! The operator's channel to a serving node: the `Admin` gRPC service on a Unix domain socket
//! inside the data dir, `run/admin.sock`.
//!
//! Only the operator commands a node. The socket's directory is created mode 0700 and the
//! socket mode 0600, so that no other account can even connect; and every connection's peer
//! credentials are checked (`SO_PEERCRED`): only the account that owns the socket (the one the
//! node runs as) and root are served. Nothing of the kind listens on TCP: the federation port
//! serves peers and the read API only.
//!
//! A command runs inside the node as the CLI would run it on the data dir, with one difference:
//! the node never opens a path the caller names. The CLI reads the files a command line names
//! as inputs and sends their bytes; the files the command writes come back in the answer and
//! the CLI writes them ([`crate::files`]).

use std::collections::BTreeMap;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use maillage_core::pb;
use maillage_proto::v1::admin_client::AdminClient;
use maillage_proto::v1::admin_server::{Admin, AdminServer};
use tokio_stream::StreamExt;
use tonic::{Request, Response, Status};

use crate::cli::{Cli, Command};
use crate::datadir::DataDir;
use crate::files::{Files, LocalFiles, SentFiles};
use crate::node::Node;
use crate::serve::Daemon;

/// The largest admin message either way: a command's input and output files travel in it.
pub const ADMIN_MESSAGE_BYTES_MAX: usize = 1 << 30;
/// Files one command may send, at most.
const INPUTS_MAX: usize = 8;
/// Arguments of one command line, at most, and their total length.
const ARGS_MAX: usize = 256;
const ARGS_BYTES_MAX: usize = 64 << 10;

/// Where a serving node takes the operator's commands.
pub fn socket_path(data_dir: &DataDir) -> PathBuf {
    data_dir.root().join("run").join("admin.sock")
}

/// The socket of the node serving `data_dir`, if one answers there. An error if one serves
/// it but this account may not command it.
pub fn running(data_dir: &DataDir) -> Result<Option<PathBuf>> {
    let path = socket_path(data_dir);
    match std::os::unix::net::UnixStream::connect(&path) {
        Ok(_) => Ok(Some(path)),
        Err(error) if error.kind() == std::io::ErrorKind::PermissionDenied => bail!(
            "a node serves {} but this account may not send it commands ({}): run the command as the account that runs the node",
            data_dir.root().display(),
            path.display()
        ),
        // Absent, or left behind by a node that did not stop cleanly.
        Err(_) => Ok(None),
    }
}

/// Creates `run/` (mode 0700) and binds the socket (mode 0600), replacing one left behind by
/// a node that did not stop cleanly. Returns the listener and the uid allowed to connect.
pub fn bind(data_dir: &DataDir) -> Result<(tokio::net::UnixListener, u32)> {
    let path = socket_path(data_dir);
    let dir = path.parent().context("the socket path has no directory")?;
    match std::fs::symlink_metadata(dir) {
        Ok(meta) if meta.file_type().is_dir() => {}
        Ok(_) => bail!(
            "{} exists and is not a directory: remove it so the node can create its command socket there",
            dir.display()
        ),
        Err(_) => std::fs::create_dir(dir)
            .with_context(|| format!("creating the command directory {}", dir.display()))?,
    }
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
        .with_context(|| format!("restricting {} to its owner", dir.display()))?;
    if let Ok(meta) = std::fs::symlink_metadata(&path) {
        use std::os::unix::fs::FileTypeExt;
        if !meta.file_type().is_socket() {
            bail!(
                "{} exists and is not a socket: remove it so the node can take commands there",
                path.display()
            );
        }
        std::fs::remove_file(&path)
            .with_context(|| format!("removing the stale socket {}", path.display()))?;
    }
    let listener = tokio::net::UnixListener::bind(&path).with_context(|| {
        format!(
            "binding the command socket {} (a Unix socket path holds at most 107 bytes: choose a shorter --data-dir if it is longer)",
            path.display()
        )
    })?;
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))
        .with_context(|| format!("restricting {} to its owner", path.display()))?;
    let owner = std::fs::metadata(&path)
        .with_context(|| format!("reading {}", path.display()))?
        .uid();
    Ok((listener, owner))
}

/// The connections of `listener` whose peer runs as `owner` or root; others are closed at once.
pub fn incoming(
    listener: tokio::net::UnixListener,
    owner: u32,
) -> impl tokio_stream::Stream<Item = std::io::Result<tokio::net::UnixStream>> {
    tokio_stream::wrappers::UnixListenerStream::new(listener).filter_map(move |accepted| {
        let stream = match accepted {
            Ok(stream) => stream,
            Err(error) => {
                tracing::warn!(%error, "accepting on the command socket failed");
                return None;
            }
        };
        match stream.peer_cred() {
            Ok(cred) if cred.uid() == owner || cred.uid() == 0 => Some(Ok(stream)),
            Ok(cred) => {
                tracing::warn!(
                    uid = cred.uid(),
                    owner,
                    "command socket: a process of another account connected: refused"
                );
                None
            }
            Err(error) => {
                tracing::warn!(%error, "command socket: the peer's credentials cannot be read: refused");
                None
            }
        }
    })
}

/// The `Admin` service of a serving node.
#[derive(Debug, Clone)]
pub struct AdminService {
    node: Arc<Node>,
    daemon: Arc<Daemon>,
}

impl AdminService {
    /// Commands `node`.
    pub fn new(node: Arc<Node>, daemon: Arc<Daemon>) -> Self {
        Self { node, daemon }
    }

    /// The tonic server, with the message limits of the channel.
    pub fn server(self) -> AdminServer<Self> {
        AdminServer::new(self)
            .max_decoding_message_size(ADMIN_MESSAGE_BYTES_MAX)
            .max_encoding_message_size(ADMIN_MESSAGE_BYTES_MAX)
    }
}

#[tonic::async_trait]
impl Admin for AdminService {
    async fn run(
        &self,
        request: Request<pb::AdminRunRequest>,
    ) -> Result<Response<pb::AdminRunResponse>, Status> {
        let request = request.into_inner();
        let args_bytes: usize = request.args.iter().map(String::len).sum();
        if request.args.len() > ARGS_MAX || args_bytes > ARGS_BYTES_MAX {
            return Err(Status::invalid_argument(format!(
                "a command line has at most {ARGS_MAX} arguments and {ARGS_BYTES_MAX} bytes, found {} and {args_bytes}",
                request.args.len()
            )));
        }
        if request.inputs.len() > INPUTS_MAX {
            return Err(Status::invalid_argument(format!(
                "a command sends at most {INPUTS_MAX} files, found {}",
                request.inputs.len()
            )));
        }
        let inputs = request
            .inputs
            .into_iter()
            .map(|file| (file.path, file.content))
            .collect();
        let node = self.node.clone();
        let daemon = self.daemon.clone();
        let args = request.args;
        let response = tokio::task::spawn_blocking(move || {
            Node::lend(&node, || {
                Daemon::lend(&daemon, || run_captured(args, inputs))
            })
        })
        .await
        .map_err(|e| Status::internal(format!("command task failed: {e}")))?;
        // Commands may have appended own events: wake the peers' streams.
        self.daemon.replica.notify();
        Ok(Response::new(response))
    }
}

/// Parses and runs a command line inside the node, with its output captured and the files it
/// names taken from `inputs`.
pub fn run_captured(args: Vec<String>, inputs: BTreeMap<String, Vec<u8>>) -> pb::AdminRunResponse {
    use clap::Parser;
    let argv = std::iter::once("maillage".to_string()).chain(args);
    let cli = match Cli::try_parse_from(argv) {
        Ok(cli) => cli,
        Err(error) => {
            let code = error.exit_code();
            let text = error.render().to_string();
            let (stdout, stderr) = if code == 0 {
                (text, String::new())
            } else {
                (String::new(), text)
            };
            return pb::AdminRunResponse {
                stdout,
                stderr,
                exit_code: code,
                outputs: Vec::new(),
            };
        }
    };
    if !crate::cli::runs_in_daemon(&cli.command) {
        return pb::AdminRunResponse {
            stdout: String::new(),
            stderr: "error: this command does not run inside a serving node\n".into(),
            exit_code: 2,
            outputs: Vec::new(),
        };
    }
    let files = SentFiles::new(inputs);
    let (result, stdout) = crate::output::capture(|| crate::cli::run_with(cli, &files));
    let outputs = files
        .into_outputs()
        .into_iter()
        .map(|(path, content)| pb::AdminFile { path, content })
        .collect();
    match result {
        Ok(code) => pb::AdminRunResponse {
            stdout,
            stderr: String::new(),
            exit_code: exit_code_number(code),
            outputs,
        },
        Err(error) => pb::AdminRunResponse {
            stdout,
            stderr: format!("error: {error:#}\n"),
            exit_code: 1,
            outputs: Vec::new(),
        },
    }
}

fn exit_code_number(code: ExitCode) -> i32 {
    (0..=255u8)
        .find(|n| ExitCode::from(*n) == code)
        .map_or(1, i32::from)
}

/// Sends a command line to the node listening on `socket`, with `inputs`; returns its answer.
pub fn call(
    socket: &Path,
    args: Vec<String>,
    inputs: Vec<pb::AdminFile>,
) -> Result<pb::AdminRunResponse> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let socket = socket.to_path_buf();
    runtime.block_on(async move {
        let shown = socket.display().to_string();
        // The URI is required by the HTTP/2 layer and unused: the connector dials the socket.
        let channel = tonic::transport::Endpoint::from_static("http://node.admin")
            .connect_timeout(Duration::from_secs(2))
            .connect_with_connector(tower::service_fn(move |_: tonic::transport::Uri| {
                let socket = socket.clone();
                async move {
                    Ok::<_, std::io::Error>(hyper_util::rt::TokioIo::new(
                        tokio::net::UnixStream::connect(socket).await?,
                    ))
                }
            }))
            .await
            .with_context(|| {
                format!(
                    "a node serves this data dir ({shown}) but does not answer; if it crashed, start it again"
                )
            })?;
        let mut client = AdminClient::new(channel)
            .max_decoding_message_size(ADMIN_MESSAGE_BYTES_MAX)
            .max_encoding_message_size(ADMIN_MESSAGE_BYTES_MAX);
        let response = client
            .run(pb::AdminRunRequest { args, inputs })
            .await
            .map_err(|s| anyhow::anyhow!("the running node refused the command: {}", s.message()))?
            .into_inner();
        Ok(response)
    })
}

/// Sends a command line (no files) to the node on `socket`: (stdout, stderr, exit code).
pub fn forward(socket: &Path, args: Vec<String>) -> Result<(String, String, i32)> {
    let response = call(socket, args, Vec::new())?;
    Ok((response.stdout, response.stderr, response.exit_code))
}

/// The CLI's side: sends `command` (typed as `args`) to the node on `socket`, with the files it
/// reads; writes the files it wrote; prints its output. The files a command may write are the
/// ones its command line names: anything else in the answer is refused.
pub fn send_command(socket: &Path, command: &Command, args: Vec<String>) -> Result<ExitCode> {
    let mut inputs = Vec::new();
    for path in crate::cli::input_paths(command) {
        inputs.push(pb::AdminFile {
            path: path.to_string_lossy().into_owned(),
            content: crate::files::read_bounded(&path)?,
        });
    }
    crate::cli::preflight(command, &LocalFiles)?;
    tracing::debug!(socket = %socket.display(), "sending the command to the running node");
    let response = call(socket, args, inputs)?;
    let allowed = crate::cli::output_paths(command);
    let mut written = Vec::new();
    for file in &response.outputs {
        let path = PathBuf::from(&file.path);
        if !allowed.contains(&path) {
            bail!(
                "the node sent back a file the command does not name ({}): nothing written",
                maillage_core::excerpt::excerpt(&file.path, 80)
            );
        }
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            LocalFiles.create_dir_all(parent)?;
        }
        let mut out = LocalFiles.create(&path)?;
        std::io::Write::write_all(&mut out, &file.content)
            .with_context(|| format!("writing {}", path.display()))?;
        written.push(out);
    }
    // Every file takes its name once all are complete.
    for out in written {
        out.commit()?;
    }
    out!("{}", response.stdout);
    eprint!("{}", response.stderr);
    Ok(ExitCode::from(
        u8::try_from(response.exit_code).unwrap_or(1),
    ))
}
