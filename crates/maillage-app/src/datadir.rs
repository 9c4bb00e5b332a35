//! The node's data directory: its key, configuration, charter and store.
//!
//! ```text
//! maillage-data/
//!   node.key      the secret key seed, hex (mode 0600; never printed)
//!   node.key.next the next key (`maillage key new`, mode 0600), until `maillage key rotate`
//!                 makes it node.key; meanwhile links dial with it where a peer no longer
//!                 admits node.key (the succession is in effect there, not yet here)
//!   node.toml     configuration: name, clock bound, and the [serve] section (listen address,
//!                 peers, TLS files, HTTP address of the dashboard and metrics) read by
//!                 `maillage serve`
//!   charter.pb    the federation charter, exactly as distributed
//!   store/        the event store: events.log (the signed events, the source of truth) and
//!                 db/ (a sled index, rebuilt from events.log whenever it does not match)
//!   views.bin     the folded views (a checksummed cache: rebuilt from the log when stale,
//!                 damaged or absent)
//!   run/          while `maillage serve` runs (mode 0700): admin.sock, the Unix socket where
//!                 it takes the operator's commands (mode 0600, the node's account only)
//!   serve.addr    while `maillage serve` runs: `federation ADDRESS` (where peers and clients
//!                 reach it), `admin PATH` (its command socket) and, unless HTTP is off,
//!                 `http ADDRESS` (the dashboard and `/metrics`)
//! ```

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use maillage_core::lang::t;
use maillage_core::lang::{FileOp, on_file};
use maillage_core::tr;
use maillage_core::{Charter, SecretKey};
use serde::{Deserialize, Serialize};

use crate::error::{AppError, Context, Result};

/// Default data directory, relative to the working directory.
pub const DEFAULT_DATA_DIR: &str = "maillage-data";

/// Paths inside a data directory.
#[derive(Debug, Clone)]
pub struct DataDir {
    root: PathBuf,
}

/// `node.toml`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct NodeConfig {
    /// This node's display name (as in the charter).
    pub name: String,
    /// How far (ms) the node's clock may run ahead of wall time before it refuses to sign.
    #[serde(default = "default_max_ahead_ms")]
    pub clock_max_ahead_ms: u64,
    /// `maillage serve`: where to listen, which peers to pull from.
    #[serde(default, skip_serializing_if = "ServeConfig::is_default")]
    pub serve: ServeConfig,
}

/// The `[serve]` section of `node.toml`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, default)]
pub struct ServeConfig {
    /// Address to listen on (peers and clients).
    pub listen: String,
    /// Peers to pull from (`[[serve.peers]]`).
    pub peers: Vec<PeerEntry>,
    /// Empty batch sent on a quiet following stream after this long (ms).
    pub heartbeat_ms: u64,
    /// A link silent for this long is dropped and redialled (ms).
    pub stall_timeout_ms: u64,
    /// Each feed is pulled from one peer at a time; when that peer brings none of it for this
    /// long while another peer holds more of it, the feed is asked of another peer (ms).
    pub source_fallback_ms: u64,
    /// Answer claims on this hub's vouchers as soon as they arrive (accept if the voucher
    /// can be redeemed, reject with the reason otherwise).
    pub answer_claims: bool,
    /// TLS for the listener (certificate and key files, PEM).
    pub tls: Option<TlsFiles>,
    /// Where to serve the dashboard and the Prometheus metrics over plain HTTP, or `off`.
    /// The default, `127.0.0.1:0`, is loopback only on a free port (so that several nodes run
    /// on one machine), reported in `serve.addr`, the log and `maillage status`; give a fixed
    /// port (e.g. `127.0.0.1:9464`) for a Prometheus scrape configuration.
    pub http: String,
    /// Sign without having compared this node's feed with a peer first (`serve --offline`;
    /// never read from node.toml): a node started from a stale copy of its data dir may then
    /// sign a position of its feed twice.
    #[serde(skip)]
    pub offline: bool,
}

impl Default for ServeConfig {
    fn default() -> Self {
        Self {
            listen: "127.0.0.1:7300".into(),
            peers: Vec::new(),
            heartbeat_ms: 2_000,
            stall_timeout_ms: 10_000,
            source_fallback_ms: 5_000,
            answer_claims: true,
            tls: None,
            http: DEFAULT_HTTP.into(),
            offline: false,
        }
    }
}

/// The default `[serve] http`: loopback, any free port.
pub const DEFAULT_HTTP: &str = "127.0.0.1:0";

impl ServeConfig {
    fn is_default(&self) -> bool {
        *self == Self::default()
    }

    /// The HTTP address to bind, `None` when the setting is `off` (or empty).
    pub fn http_address(&self) -> Option<&str> {
        let http = self.http.trim();
        (!http.is_empty() && !http.eq_ignore_ascii_case("off")).then_some(http)
    }
}

/// A peer in `node.toml`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct PeerEntry {
    /// `http://host:port`, or `https://host:port` with TLS.
    pub address: String,
    /// The peer's key (hex), to refuse anyone else answering at that address.
    #[serde(default)]
    pub key: Option<String>,
    /// CA certificate (PEM) to check the peer's TLS certificate against (https only).
    #[serde(default)]
    pub ca: Option<PathBuf>,
    /// Name the peer's certificate is for, if not the address's host.
    #[serde(default)]
    pub tls_domain: Option<String>,
}

/// TLS files for the listener.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct TlsFiles {
    /// Certificate chain (PEM).
    pub cert: PathBuf,
    /// Private key (PEM).
    pub key: PathBuf,
}

fn default_max_ahead_ms() -> u64 {
    maillage_core::hlc::MAX_AHEAD_MS_DEFAULT
}

impl DataDir {
    /// A data directory at `root` (not created yet).
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }

    /// The directory itself.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// `node.key`.
    pub fn key_path(&self) -> PathBuf {
        self.root.join("node.key")
    }

    /// `node.key.next`: the key `maillage key new` drew, to act under once the federation
    /// put its succession in effect (`maillage key rotate`).
    pub fn next_key_path(&self) -> PathBuf {
        self.root.join("node.key.next")
    }

    /// `node.toml`.
    pub fn config_path(&self) -> PathBuf {
        self.root.join("node.toml")
    }

    /// `charter.pb`.
    pub fn charter_path(&self) -> PathBuf {
        self.root.join("charter.pb")
    }

    /// `views.bin`: the folded views, rebuilt from the log whenever they do not match it.
    pub fn views_path(&self) -> PathBuf {
        self.root.join("views.bin")
    }

    /// `serve.addr`: written by a running `maillage serve`.
    pub fn serve_addr_path(&self) -> PathBuf {
        self.root.join("serve.addr")
    }

    /// `store/`.
    pub fn store_path(&self) -> PathBuf {
        self.root.join("store")
    }

    /// True once `maillage init` has created a key here.
    pub fn has_key(&self) -> bool {
        self.key_path().exists()
    }

    /// Creates the directory (mode 0700 on Unix).
    pub fn create(&self) -> Result<()> {
        fs::create_dir_all(&self.root).with_context(|| {
            let root = self.root.display();
            tr!(
                "création du répertoire de données {root}",
                "creating data dir {root}"
            )
        })?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            fs::set_permissions(&self.root, fs::Permissions::from_mode(0o700)).with_context(
                || {
                    let root = self.root.display();
                    tr!("restriction des droits de {root}", "restricting {root}")
                },
            )?;
        }
        Ok(())
    }

    /// Writes a new key file (mode 0600), refusing to overwrite one.
    pub fn write_key(&self, key: &SecretKey) -> Result<()> {
        write_secret(&self.key_path(), key)
    }

    /// Reads the key file.
    pub fn read_key(&self) -> Result<SecretKey> {
        read_secret(&self.key_path()).map_err(|e| {
            e.context(t(
                "lancez d'abord `maillage init`, ou donnez --data-dir",
                "run `maillage init` first, or pass --data-dir",
            ))
        })
    }

    /// Reads and validates the charter.
    pub fn read_charter(&self) -> Result<Charter> {
        let path = self.charter_path();
        let shown = path.display();
        let bytes = fs::read(&path).with_context(|| {
            tr!(
                "lecture de la charte {shown} (lancez `maillage init --charter FICHIER` ou `maillage init --name … --territories …`)",
                "reading charter {shown} (run `maillage init --charter FILE` or `maillage init --name … --territories …`)"
            )
        })?;
        Charter::from_bytes(bytes).with_context(|| tr!("charte {shown}", "charter {shown}"))
    }

    /// Writes the charter bytes (atomically: temp file, then rename).
    pub fn write_charter(&self, charter: &Charter) -> Result<()> {
        write_atomic(&self.charter_path(), charter.bytes())
    }

    /// Reads `node.toml`.
    pub fn read_config(&self) -> Result<NodeConfig> {
        let path = self.config_path();
        let text = fs::read_to_string(&path).with_context(|| on_file(FileOp::Read, &path))?;
        toml::from_str(&text).with_context(|| {
            let shown = path.display();
            tr!("lecture de {shown}", "parsing {shown}")
        })
    }

    /// Writes `node.toml`.
    pub fn write_config(&self, config: &NodeConfig) -> Result<()> {
        let text = format!(
            "# maillage node configuration (see `maillage --help`)\n{}",
            toml::to_string(config).context("encoding node.toml")?
        );
        write_atomic(&self.config_path(), text.as_bytes())
    }

    /// Fails unless the directory holds an initialised node.
    pub fn require_initialised(&self) -> Result<()> {
        if !self.root.exists() {
            let root = self.root.display();
            return Err(AppError::unavailable(tr!(
                "le répertoire de données {root} n'existe pas : lancez `maillage init` (ou donnez --data-dir / MAILLAGE_DATA_DIR)",
                "data dir {root} does not exist: run `maillage init` (or pass --data-dir / set MAILLAGE_DATA_DIR)"
            )));
        }
        if !self.charter_path().exists() {
            let root = self.root.display();
            return Err(AppError::unavailable(tr!(
                "le répertoire de données {root} n'a pas encore de charte : lancez `maillage init --charter FICHIER` pour rejoindre une fédération, ou `maillage init --name NOM --territories 04,05` pour en fonder une",
                "data dir {root} has no charter yet: run `maillage init --charter FILE` to join a federation, or `maillage init --name NAME --territories 04,05` to found one"
            )));
        }
        Ok(())
    }
}

/// Writes a file through a temporary sibling and a rename, so readers never see half of it.
/// A write that fails (a full disk) removes the temporary file: nothing stray is left.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    write_atomic_with(path, |file| file.write_all(bytes))
}

/// [`write_atomic`] with the contents written by `write` (a file too large to be held whole).
pub fn write_atomic_with(
    path: &Path,
    write: impl FnOnce(&mut fs::File) -> std::io::Result<()>,
) -> Result<()> {
    let tmp = path.with_extension("tmp");
    let written = (|| -> Result<()> {
        let mut file = fs::File::create(&tmp).with_context(|| on_file(FileOp::Create, &tmp))?;
        write(&mut file).with_context(|| on_file(FileOp::Write, &tmp))?;
        file.sync_all()
            .with_context(|| on_file(FileOp::Write, &tmp))?;
        fs::rename(&tmp, path).with_context(|| on_file(FileOp::Write, path))
    })();
    if written.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    written
}

/// The size of the file system holding `path` and the bytes free on it for an unprivileged
/// process (as `df` shows them), if it can be asked.
pub fn filesystem_space(path: &Path) -> Option<(u64, u64)> {
    let fs = rustix::fs::statvfs(path).ok()?;
    Some((
        fs.f_blocks.saturating_mul(fs.f_frsize),
        fs.f_bavail.saturating_mul(fs.f_frsize),
    ))
}

/// Writes a secret key file (the seed in hex, mode 0600), refusing to overwrite one.
pub fn write_secret(path: &Path, key: &SecretKey) -> Result<()> {
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path).with_context(|| {
        let shown = path.display();
        tr!(
            "création du fichier de clé {shown}",
            "creating key file {shown}"
        )
    })?;
    let writing = || t("écriture du fichier de clé", "writing the key file");
    writeln!(file, "{}", hex::encode(key.seed())).with_context(writing)?;
    file.sync_all().with_context(writing)?;
    Ok(())
}

/// Reads a secret key file, warning when others may read it.
pub fn read_secret(path: &Path) -> Result<SecretKey> {
    let shown = path.display();
    let text = fs::read_to_string(path).with_context(|| {
        tr!(
            "lecture du fichier de clé {shown}",
            "reading key file {shown}"
        )
    })?;
    let mut seed = [0u8; 32];
    hex::decode_to_slice(text.trim(), &mut seed).map_err(|_| {
        let n = text.trim().len();
        AppError::internal(tr!(
            "fichier de clé {shown} : 64 chiffres hexadécimaux attendus, {n} caractères trouvés",
            "key file {shown}: expected 64 hex digits, found {n} characters"
        ))
    })?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = fs::metadata(path)
            .context(t(
                "lecture des droits du fichier de clé",
                "reading the key file's mode",
            ))?
            .permissions()
            .mode();
        if mode & 0o077 != 0 {
            tracing::warn!(
                path = %path.display(),
                mode = format!("{:o}", mode & 0o777),
                "key file is readable by other users: chmod 600 it"
            );
        }
    }
    Ok(SecretKey::from_seed(&seed))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn http_defaults_to_loopback_any_port_and_can_be_turned_off() {
        let config: NodeConfig =
            toml::from_str("name = \"Hub\"\n[serve]\nlisten = \"127.0.0.1:7301\"\n").unwrap();
        assert_eq!(config.serve.http, DEFAULT_HTTP);
        assert_eq!(config.serve.http_address(), Some("127.0.0.1:0"));
        for off in ["off", "OFF", " ", ""] {
            let text = format!("name = \"Hub\"\n[serve]\nhttp = \"{off}\"\n");
            let config: NodeConfig = toml::from_str(&text).unwrap();
            assert_eq!(config.serve.http_address(), None, "{off:?}");
        }
        let text = "name = \"Hub\"\n[serve]\nhttp = \"0.0.0.0:9464\"\n";
        let config: NodeConfig = toml::from_str(text).unwrap();
        assert_eq!(config.serve.http_address(), Some("0.0.0.0:9464"));
        // A default [serve] section is left out of a written node.toml.
        let written = toml::to_string(&NodeConfig {
            name: "Hub".into(),
            clock_max_ahead_ms: default_max_ahead_ms(),
            serve: ServeConfig::default(),
        })
        .unwrap();
        assert!(!written.contains("[serve]"), "{written}");
    }
}
