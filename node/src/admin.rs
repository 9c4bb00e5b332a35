//! The operator's channel to a serving node: the `Admin` gRPC service on a Unix domain socket
//! inside the data dir, `run/admin.sock`.
//!
//! Only the operator commands a node. The socket's directory is created mode 0700 and the
//! socket mode 0600, so that no other account can even connect; and every connection's peer
//! credentials are checked (`SO_PEERCRED`): only the account that owns the socket (the one the
//! node runs as) and root are served. Nothing of the kind listens on TCP: the federation port
//! serves peers and the read API only.
//!
//! What travels is the application's typed request and its typed answer
//! ([`maillage_app::request`]), encoded with postcard, tagged with the caller's build so that
//! a node of another build refuses rather than misreads. The node never opens a path the
//! caller names: files travel as bytes, read and written by the CLI.

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result, bail};
use maillage_app::datadir::DataDir;
use maillage_app::request::{Request, Response};
use maillage_app::{App, AppError};
use maillage_core::lang::{FileOp, on_file};
use maillage_core::pb;
use maillage_core::tr;
use maillage_proto::v1::admin_client::AdminClient;
use maillage_proto::v1::admin_server::{Admin, AdminServer};
use tokio_stream::StreamExt;

/// The largest admin message either way: a command's input and output files travel in it.
pub const ADMIN_MESSAGE_BYTES_MAX: usize = 1 << 30;

/// This build, as a request names it: the version and the encoding's format.
pub fn build() -> String {
    format!("maillage {} admin/1", env!("CARGO_PKG_VERSION"))
}

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
        Err(error) if error.kind() == std::io::ErrorKind::PermissionDenied => {
            let (root, socket) = (data_dir.root().display(), path.display());
            bail!(
                "{}",
                tr!(
                    "un nœud sert {root} mais ce compte ne peut pas lui envoyer de commandes ({socket}) : lancez la commande avec le compte qui fait tourner le nœud",
                    "a node serves {root} but this account may not send it commands ({socket}): run the command as the account that runs the node"
                )
            )
        }
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
        .with_context(|| on_file(FileOp::Read, &path))?
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
    app: App,
}

impl AdminService {
    /// Commands the node of `app`.
    pub fn new(app: App) -> Self {
        Self { app }
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
    async fn handle(
        &self,
        request: tonic::Request<pb::AdminRequest>,
    ) -> Result<tonic::Response<pb::AdminResponse>, tonic::Status> {
        let request = request.into_inner();
        if request.build != build() {
            let (here, there) = (build(), maillage_core::excerpt::excerpt(&request.build, 60));
            return Err(tonic::Status::failed_precondition(tr!(
                "ce nœud fait tourner {here}, la commande vient de {there} : utilisez le maillage qui fait tourner le nœud, ou redémarrez le nœud après une mise à jour",
                "this node runs {here}, the command comes from {there}: use the maillage that runs the node, or restart the node after an upgrade"
            )));
        }
        let decoded: Request = postcard::from_bytes(&request.request).map_err(|e| {
            tonic::Status::invalid_argument(format!("the request does not decode: {e}"))
        })?;
        let app = self.app.clone();
        let lang = maillage_core::lang::Lang::parse(&request.lang)
            .unwrap_or_else(maillage_core::lang::current);
        let answer = tokio::task::spawn_blocking(move || {
            maillage_core::lang::with(lang, || app.handle(decoded))
        })
        .await
        .map_err(|e| tonic::Status::internal(format!("request task failed: {e}")))?;
        let answer = postcard::to_stdvec(&answer)
            .map_err(|e| tonic::Status::internal(format!("encoding the answer: {e}")))?;
        Ok(tonic::Response::new(pb::AdminResponse { answer }))
    }
}

/// Sends `request` to the node listening on `socket`; returns its answer.
pub fn call(socket: &Path, request: Request) -> Result<Result<Response, AppError>> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let socket = socket.to_path_buf();
    let encoded = postcard::to_stdvec(&request).context("encoding the request")?;
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
                tr!(
                    "un nœud sert ce répertoire de données ({shown}) mais ne répond pas ; s'il s'est arrêté brutalement, redémarrez-le",
                    "a node serves this data dir ({shown}) but does not answer; if it crashed, start it again"
                )
            })?;
        let mut client = AdminClient::new(channel)
            .max_decoding_message_size(ADMIN_MESSAGE_BYTES_MAX)
            .max_encoding_message_size(ADMIN_MESSAGE_BYTES_MAX);
        let response = client
            .handle(pb::AdminRequest {
                build: build(),
                request: encoded,
                lang: maillage_core::lang::current().code().to_owned(),
            })
            .await
            .map_err(|s| {
                let why = s.message();
                anyhow::anyhow!(
                    "{}",
                    tr!(
                        "le nœud en marche a refusé la requête : {why}",
                        "the running node refused the request: {why}"
                    )
                )
            })?
            .into_inner();
        let answer: Result<Response, AppError> = postcard::from_bytes(&response.answer).context(
            maillage_core::lang::t(
                "la réponse du nœud en marche ne se décode pas",
                "the running node's answer does not decode",
            ),
        )?;
        Ok(answer)
    })
}
