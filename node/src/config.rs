//! `maillage config check`: what `maillage serve` would do with a data dir's `node.toml`,
//! checked without starting it, each problem named with the setting it comes from. And the one
//! rule `serve` shares with it: a peer's address must be a usable `http://` or `https://` URL
//! ([`peer_address`]), checked before anything starts instead of dialled forever.
//!
//! What is checked:
//! - `node.toml` parses (unknown settings included: a typo is an error, not a silent default);
//! - `node.key` is there and its key is a member of the charter in `charter.pb`, under the
//!   name node.toml gives;
//! - `[serve] listen` and `http` are `host:port` addresses (or `off` for `http`);
//! - each `[[serve.peers]]`: its address, its pinned key (a member's, not this node's), and
//!   TLS settings consistent with the address (`ca` and `tls_domain` only with `https://`, the
//!   CA file present and holding a certificate);
//! - `[serve.tls]`: both files present, and loading as `serve` loads them (certificate chain,
//!   private key, the key matching the certificate);
//! - timings: the heartbeat must come well within the stall timeout.

use std::fmt;
use std::net::{SocketAddr, ToSocketAddrs};
use std::process::ExitCode;

use maillage_app::datadir::{DataDir, NodeConfig, PeerEntry, ServeConfig, TlsFiles};
use maillage_core::HubId;
use maillage_core::excerpt::Excerpt;
use maillage_core::tr;

use crate::lang::t;
use tonic::transport::{
    Certificate, ClientTlsConfig, Endpoint, Identity, Server, ServerTlsConfig, Uri,
};

/// How bad a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    /// Checked and sound.
    Ok,
    /// Works, but probably not as meant.
    Warning,
    /// `serve` would refuse it or fail with it.
    Error,
}

/// One thing checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// How bad.
    pub severity: Severity,
    /// The setting, as written in node.toml (`serve.peers[2].address`), or the file.
    pub what: String,
    /// What was found.
    pub message: String,
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let tag = match self.severity {
            Severity::Ok => t("ok       ", "ok     "),
            Severity::Warning => t("attention", "warning"),
            Severity::Error => t("erreur   ", "error  "),
        };
        let (what, message) = (&self.what, &self.message);
        f.write_str(&tr!("{tag} {what} : {message}", "{tag} {what}: {message}"))
    }
}

/// Everything checked in a data dir.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    /// In the order checked.
    pub findings: Vec<Finding>,
}

impl Report {
    fn push(&mut self, severity: Severity, what: impl Into<String>, message: impl Into<String>) {
        self.findings.push(Finding {
            severity,
            what: what.into(),
            message: message.into(),
        });
    }

    /// Findings of `severity`.
    pub fn count(&self, severity: Severity) -> usize {
        self.findings
            .iter()
            .filter(|f| f.severity == severity)
            .count()
    }
}

/// A peer address as `serve` dials it: `host:port` alone means `http://host:port`. Refuses
/// what cannot be dialled (not a URL, a scheme other than http or https, no host, no valid
/// port), with a sentence that says what to write instead (the caller names the address).
pub fn peer_address(raw: &str) -> Result<String, String> {
    let trimmed = raw.trim();
    if trimmed.is_empty() {
        return Err(t(
            "vide : écrivez http://hôte:port, ou https://hôte:port pour TLS",
            "empty: write http://host:port, or https://host:port for TLS",
        )
        .into());
    }
    let address = if trimmed.contains("://") {
        trimmed.to_owned()
    } else {
        format!("http://{trimmed}")
    };
    let uri: Uri = address.parse().map_err(|e| {
        tr!(
            "pas une URL ({e}) : écrivez http://hôte:port, ou https://hôte:port pour TLS",
            "not a URL ({e}): write http://host:port, or https://host:port for TLS"
        )
    })?;
    match uri.scheme_str() {
        Some("http" | "https") => {}
        Some(other) => {
            let other = Excerpt::new(other, 20);
            return Err(tr!(
                "le schéma {other} n'est ni http (en clair) ni https (TLS)",
                "the scheme {other} is neither http (plaintext) nor https (TLS)"
            ));
        }
        None => {
            return Err(t(
                "pas de schéma : écrivez http:// ou https://",
                "no scheme: write http:// or https://",
            )
            .into());
        }
    }
    match uri.host() {
        Some(host) if !host.is_empty() => {}
        _ => return Err(t("pas d'hôte", "no host").into()),
    }
    // `Uri` takes any digits after the host's last colon; `port_u16` only a valid port.
    let authority = uri.authority().map_or("", |a| a.as_str());
    if let Some((_, port)) = authority.rsplit_once(':')
        && !port.ends_with(']')
        && uri.port_u16().is_none_or(|p| p == 0)
    {
        let port = Excerpt::new(port, 20);
        return Err(tr!(
            "le port {port} n'est pas un nombre de 1 à 65535",
            "the port {port} is not a number from 1 to 65535"
        ));
    }
    Ok(address)
}

/// Notes on an address that parses but is probably not what was meant.
fn peer_address_warnings(address: &str) -> Vec<String> {
    let Ok(uri) = address.parse::<Uri>() else {
        return Vec::new();
    };
    let mut warnings = Vec::new();
    if uri.port_u16().is_none() {
        let default = if uri.scheme_str() == Some("https") {
            443
        } else {
            80
        };
        warnings.push(tr!(
            "pas de port : le port {default} sera appelé (maillage serve écoute sur 7300 par défaut)",
            "no port: {default} will be dialled (maillage serve listens on 7300 by default)"
        ));
    }
    if uri.path() != "/" && !uri.path().is_empty() || uri.query().is_some() {
        let path = Excerpt::of(uri.path_and_query().map_or("", |p| p.as_str()));
        warnings.push(tr!(
            "le chemin {path} est ignoré : les appels gRPC ne vont qu'à l'hôte et au port",
            "the path {path} is ignored: gRPC calls go to the host and port only"
        ));
    }
    warnings
}

/// Whether `text` names a `host:port` the node can bind or dial (resolving the host).
fn socket_address(text: &str) -> Result<String, String> {
    if let Ok(address) = text.parse::<SocketAddr>() {
        return Ok(address.to_string());
    }
    let shown = Excerpt::of(text);
    let Some((host, port)) = text.rsplit_once(':') else {
        return Err(tr!(
            "{shown} n'a pas de port : écrivez hôte:port, par ex. 127.0.0.1:7300",
            "{shown} has no port: write host:port, e.g. 127.0.0.1:7300"
        ));
    };
    if host.is_empty() || port.parse::<u16>().is_err() {
        return Err(tr!(
            "{shown} n'est pas de la forme hôte:port (par ex. 0.0.0.0:7300)",
            "{shown} is not host:port (e.g. 0.0.0.0:7300)"
        ));
    }
    let host = Excerpt::of(host);
    match text.to_socket_addrs() {
        Ok(mut found) => match found.next() {
            Some(first) => Ok(format!("{text} ({first})")),
            None => Err(tr!(
                "{host} ne correspond à aucune adresse",
                "{host} resolves to no address"
            )),
        },
        Err(e) => Err(tr!(
            "{host} ne se résout pas : {e}",
            "{host} does not resolve: {e}"
        )),
    }
}

/// An error and its causes, on one line.
fn chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(inner) = source {
        let next = inner.to_string();
        if !text.contains(&next) {
            text.push_str(": ");
            text.push_str(&next);
        }
        source = inner.source();
    }
    text
}

/// Loads the listener's certificate and key as `serve` does; the error says which file.
pub fn load_server_tls(tls: &TlsFiles) -> Result<ServerTlsConfig, String> {
    let (cert_path, key_path) = (tls.cert.display(), tls.key.display());
    let cert = std::fs::read(&tls.cert).map_err(|e| {
        let e = maillage_core::lang::io_error(&e);
        tr!(
            "lecture du certificat {cert_path} : {e}",
            "reading the certificate {cert_path}: {e}"
        )
    })?;
    let key = std::fs::read(&tls.key).map_err(|e| {
        let e = maillage_core::lang::io_error(&e);
        tr!(
            "lecture de la clé privée {key_path} : {e}",
            "reading the private key {key_path}: {e}"
        )
    })?;
    if !String::from_utf8_lossy(&cert).contains("-----BEGIN CERTIFICATE-----") {
        return Err(tr!(
            "{cert_path} ne contient aucun certificat PEM (-----BEGIN CERTIFICATE-----)",
            "{cert_path} holds no PEM certificate (-----BEGIN CERTIFICATE-----)"
        ));
    }
    if !String::from_utf8_lossy(&key).contains("PRIVATE KEY-----") {
        return Err(tr!(
            "{key_path} ne contient aucune clé privée PEM (-----BEGIN … PRIVATE KEY-----)",
            "{key_path} holds no PEM private key (-----BEGIN … PRIVATE KEY-----)"
        ));
    }
    let config = ServerTlsConfig::new().identity(Identity::from_pem(cert, key));
    // What `serve` does with it: rustls parses both and checks the key is the certificate's.
    Server::builder().tls_config(config.clone()).map_err(|e| {
        let why = chain(&e);
        tr!(
            "{cert_path} et {key_path} ne se chargent pas : {why}",
            "{cert_path} and {key_path} do not load: {why}"
        )
    })?;
    Ok(config)
}

/// The TLS settings of a peer as `serve` builds them (`None` for plaintext), or why not.
pub fn peer_tls(entry: &PeerEntry, address: &str) -> Result<Option<ClientTlsConfig>, String> {
    if !address.starts_with("https://") {
        if let Some(ca) = &entry.ca {
            let ca = Excerpt::of(&ca.display().to_string()).to_string();
            return Err(tr!(
                "ca = {ca} est donné mais l'adresse est en clair (http://) : écrivez https:// pour parler TLS avec ce pair (ou retirez ca)",
                "ca = {ca} is set but the address is plaintext http://: write https:// to use TLS with this peer (or remove ca)"
            ));
        }
        if entry.tls_domain.is_some() {
            return Err(t(
                "tls_domain est donné mais l'adresse est en clair (http://) : écrivez https:// (ou retirez tls_domain)",
                "tls_domain is set but the address is plaintext http://: write https:// (or remove tls_domain)",
            )
            .into());
        }
        return Ok(None);
    }
    let mut tls = ClientTlsConfig::new().with_webpki_roots();
    if let Some(ca) = &entry.ca {
        let shown = ca.display();
        let pem = std::fs::read(ca).map_err(|e| {
            let e = maillage_core::lang::io_error(&e);
            tr!(
                "lecture de l'autorité de certification {shown} : {e}",
                "reading CA {shown}: {e}"
            )
        })?;
        if !String::from_utf8_lossy(&pem).contains("-----BEGIN CERTIFICATE-----") {
            return Err(tr!(
                "l'autorité de certification {shown} ne contient aucun certificat PEM (-----BEGIN CERTIFICATE-----)",
                "CA {shown} holds no PEM certificate (-----BEGIN CERTIFICATE-----)"
            ));
        }
        tls = ClientTlsConfig::new().ca_certificate(Certificate::from_pem(pem));
    }
    if let Some(domain) = &entry.tls_domain {
        tls = tls.domain_name(domain.clone());
    }
    // Built here as a link builds it, so a CA that does not load fails now.
    Endpoint::from_shared(address.to_owned())
        .map_err(|e| chain(&e))?
        .tls_config(tls.clone())
        .map_err(|e| {
            let why = chain(&e);
            tr!(
                "les réglages TLS ne se chargent pas : {why}",
                "TLS settings do not load: {why}"
            )
        })?;
    Ok(Some(tls))
}

/// Checks the data dir at `data_dir` as `maillage serve` would start on it.
pub fn check(data_dir: &DataDir) -> Report {
    let mut report = Report::default();
    let config_path = data_dir.config_path();
    let shown = config_path.display().to_string();
    if !data_dir.root().is_dir() {
        report.push(
            Severity::Error,
            data_dir.root().display().to_string(),
            t(
                "ce répertoire de données n'existe pas : lancez `maillage init` (ou donnez --data-dir / MAILLAGE_DATA_DIR)",
                "no such data dir: run `maillage init` (or pass --data-dir / set MAILLAGE_DATA_DIR)",
            ),
        );
        return report;
    }
    let text = match std::fs::read_to_string(&config_path) {
        Ok(text) => text,
        Err(e) => {
            let e = maillage_core::lang::io_error(&e);
            report.push(
                Severity::Error,
                shown,
                tr!("illisible : {e}", "cannot be read: {e}"),
            );
            return report;
        }
    };
    let config: NodeConfig = match toml::from_str(&text) {
        Ok(config) => config,
        Err(e) => {
            report.push(Severity::Error, shown, {
                let why = e.to_string().trim_end().replace('\n', "\n    ");
                tr!("ne se lit pas : {why}", "does not parse: {why}")
            });
            return report;
        }
    };
    report.push(Severity::Ok, shown, t("se lit", "parses"));
    let me = check_identity(data_dir, &config, &mut report);
    check_serve(&config.serve, me.as_ref(), &mut report);
    report
}

/// node.key and charter.pb: returns this node's key and the charter if both load.
fn check_identity(
    data_dir: &DataDir,
    config: &NodeConfig,
    report: &mut Report,
) -> Option<(HubId, maillage_core::Charter)> {
    let key_shown = data_dir.key_path().display().to_string();
    let key = match data_dir.read_key() {
        Ok(key) => key.hub_id(),
        Err(e) => {
            report.push(Severity::Error, key_shown, e.message);
            return None;
        }
    };
    let charter_shown = data_dir.charter_path().display().to_string();
    let charter = match data_dir.read_charter() {
        Ok(charter) => charter,
        Err(e) => {
            report.push(Severity::Error, charter_shown, e.message);
            return None;
        }
    };
    match charter.member(&key) {
        None => report.push(
            Severity::Error,
            key_shown,
            {
                let (name, id) = (charter.name(), charter.federation_id().short());
                tr!(
                    "la clé {key} n'est pas membre de la fédération {name:?} ({id}) : ce nœud ne peut pas la servir",
                    "key {key} is not a member of federation {name:?} ({id}): this node cannot serve it"
                )
            },
        ),
        Some(member) => {
            report.push(
                Severity::Ok,
                key_shown,
                {
                    let (short, name, role, federation) = (
                        key.short(),
                        &member.name,
                        maillage_app::queries::role_name(member.role),
                        charter.name(),
                    );
                    tr!(
                        "la clé {short} est {name:?} ({role}) dans la fédération {federation:?}",
                        "key {short} is {name:?} ({role}) in federation {federation:?}"
                    )
                },
            );
            if member.name != config.name {
                report.push(
                    Severity::Warning,
                    "name",
                    {
                        let (here, there) = (&config.name, &member.name);
                        tr!(
                            "node.toml dit {here:?} mais la charte nomme cette clé {there:?} (le nom de la charte est celui que voient les autres)",
                            "node.toml says {here:?} but the charter names this key {there:?} (the charter's name is the one shown to others)"
                        )
                    },
                );
            }
        }
    }
    Some((key, charter))
}

/// The `[serve]` section.
fn check_serve(
    serve: &ServeConfig,
    identity: Option<&(HubId, maillage_core::Charter)>,
    report: &mut Report,
) {
    match socket_address(&serve.listen) {
        Ok(shown) => report.push(Severity::Ok, "serve.listen", shown),
        Err(e) => report.push(Severity::Error, "serve.listen", e),
    }
    match serve.http_address() {
        None => report.push(Severity::Ok, "serve.http", t("désactivé (off)", "off")),
        Some(http) => match socket_address(http) {
            Ok(shown) => {
                let exposed = http
                    .parse::<SocketAddr>()
                    .is_ok_and(|a| !a.ip().is_loopback());
                report.push(Severity::Ok, "serve.http", shown);
                if exposed {
                    report.push(
                        Severity::Warning,
                        "serve.http",
                        t(
                            "pas en boucle locale : le tableau de bord et /metrics n'ont pas d'authentification ; placez devant un mandataire inverse qui authentifie, ou un pare-feu",
                            "not loopback: the dashboard and /metrics have no authentication; put an authenticating reverse proxy or a firewall in front",
                        ),
                    );
                }
            }
            Err(e) => report.push(Severity::Error, "serve.http", e),
        },
    }
    if let Some(tls) = &serve.tls {
        match load_server_tls(tls) {
            Ok(_) => report.push(Severity::Ok, "serve.tls", {
                let (cert, key) = (tls.cert.display(), tls.key.display());
                tr!(
                    "{cert} et {key} se chargent, la clé correspond au certificat",
                    "{cert} and {key} load, the key matches the certificate"
                )
            }),
            Err(e) => report.push(Severity::Error, "serve.tls", e),
        }
    }
    if serve.heartbeat_ms.saturating_mul(2) > serve.stall_timeout_ms {
        report.push(
            Severity::Warning,
            "serve.heartbeat_ms",
            {
                let (beat, stall) = (serve.heartbeat_ms, serve.stall_timeout_ms);
                tr!(
                    "{beat} ms, c'est plus de la moitié de stall_timeout_ms ({stall} ms) : les pairs risquent de couper un lien silencieux mais sain",
                    "{beat} ms is more than half of stall_timeout_ms ({stall} ms): peers may drop a quiet but healthy link"
                )
            },
        );
    }
    if serve.source_fallback_ms < serve.heartbeat_ms {
        report.push(
            Severity::Warning,
            "serve.source_fallback_ms",
            {
                let (fallback, beat) = (serve.source_fallback_ms, serve.heartbeat_ms);
                tr!(
                    "{fallback} ms, c'est moins que heartbeat_ms ({beat} ms) : un flux sera demandé à d'autres pairs avant que sa source ait pu dire ce qu'elle détient, et reçu plusieurs fois",
                    "{fallback} ms is less than heartbeat_ms ({beat} ms): a feed will be asked of other peers before its source could say what it holds, and received several times"
                )
            },
        );
    }
    if serve.peers.is_empty() {
        report.push(
            Severity::Ok,
            "serve.peers",
            t(
                "aucun : ce nœud ne tire d'aucun pair (les pairs peuvent encore tirer de lui)",
                "none: this node pulls from no one (peers may still pull from it)",
            ),
        );
    }
    let mut seen = Vec::new();
    for (index, entry) in serve.peers.iter().enumerate() {
        check_peer(index, entry, identity, &mut seen, report);
    }
}

fn check_peer(
    index: usize,
    entry: &PeerEntry,
    identity: Option<&(HubId, maillage_core::Charter)>,
    seen: &mut Vec<String>,
    report: &mut Report,
) {
    let what = format!("serve.peers[{index}]");
    let address = match peer_address(&entry.address) {
        Ok(address) => address,
        Err(e) => {
            report.push(
                Severity::Error,
                format!("{what}.address"),
                format!("{} : {e}", Excerpt::of(&entry.address)),
            );
            return;
        }
    };
    for warning in peer_address_warnings(&address) {
        report.push(Severity::Warning, format!("{what}.address"), warning);
    }
    if seen.contains(&address) {
        report.push(
            Severity::Warning,
            format!("{what}.address"),
            tr!(
                "{address} est donnée deux fois",
                "{address} is listed twice"
            ),
        );
    }
    seen.push(address.clone());
    let mut ok = true;
    if let Some(key) = &entry.key {
        match key.parse::<HubId>() {
            Err(e) => {
                ok = false;
                report.push(
                    Severity::Error,
                    format!("{what}.key"),
                    format!("{} : {e}", Excerpt::of(key)),
                );
            }
            Ok(key) => {
                if let Some((me, charter)) = identity {
                    if key == *me {
                        ok = false;
                        report.push(
                            Severity::Error,
                            format!("{what}.key"),
                            t(
                                "la propre clé de ce nœud : un nœud ne tire pas de lui-même",
                                "this node's own key: a node does not pull from itself",
                            ),
                        );
                    } else if charter.member(&key).is_none() {
                        ok = false;
                        report.push(Severity::Error, format!("{what}.key"), {
                            let short = key.short();
                            tr!(
                                "{short} n'est pas membre de la charte",
                                "{short} is not a member of the charter"
                            )
                        });
                    }
                }
            }
        }
    }
    match peer_tls(entry, &address) {
        Ok(tls) => {
            if ok {
                let member = entry
                    .key
                    .as_deref()
                    .and_then(|k| k.parse::<HubId>().ok())
                    .and_then(|k| identity.and_then(|(_, c)| c.member(&k)))
                    .map(|m| {
                        let name = &m.name;
                        tr!(", épinglé sur {name:?}", ", pinned to {name:?}")
                    })
                    .unwrap_or_default();
                let tls = match (&tls, &entry.ca) {
                    (None, _) => t("en clair", "plaintext").to_owned(),
                    (Some(_), Some(ca)) => {
                        let ca = ca.display();
                        tr!("TLS, autorité {ca}", "TLS, CA {ca}")
                    }
                    (Some(_), None) => t(
                        "TLS, autorités publiques (racines webpki)",
                        "TLS, public CAs (webpki roots)",
                    )
                    .to_owned(),
                };
                report.push(Severity::Ok, what, format!("{address} ({tls}{member})"));
            }
        }
        Err(e) => report.push(Severity::Error, what, e),
    }
}

/// `maillage config check`: prints the report; exit status 1 if anything is an error.
pub fn run_check(data_dir: &DataDir) -> ExitCode {
    let report = check(data_dir);
    for finding in &report.findings {
        println!("{finding}");
    }
    let (errors, warnings) = (
        report.count(Severity::Error),
        report.count(Severity::Warning),
    );
    let plural = |n: usize| if n == 1 { "" } else { "s" };
    let (path, e, w) = (
        data_dir.config_path().display().to_string(),
        plural(errors),
        plural(warnings),
    );
    println!(
        "{}",
        tr!(
            "{path} : {errors} erreur{e}, {warnings} avertissement{w}",
            "{path}: {errors} error{e}, {warnings} warning{w}"
        )
    );
    if errors > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn peer_addresses_are_urls_with_a_host_over_http_or_https() {
        assert_eq!(
            peer_address("127.0.0.1:7300").unwrap(),
            "http://127.0.0.1:7300"
        );
        assert_eq!(
            peer_address(" https://hinaura.example:7300 ").unwrap(),
            "https://hinaura.example:7300"
        );
        assert_eq!(
            peer_address("http://[::1]:7300").unwrap(),
            "http://[::1]:7300"
        );
        for (bad, says) in [
            ("", "vide"),
            ("htps://x.example:7300", "le schéma \"htps\""),
            ("grpc://x.example:7300", "ni http"),
            ("http://exa mple:7300", "pas une URL"),
            ("http://:7300", "pas d'hôte"),
            ("http://x.example:99999", "pas un nombre de 1"),
        ] {
            let error = peer_address(bad).unwrap_err();
            assert!(error.contains(says), "{bad:?}: {error}");
        }
        assert_eq!(
            peer_address_warnings("http://x.example"),
            vec![
                "pas de port : le port 80 sera appelé (maillage serve écoute sur 7300 par défaut)"
            ]
        );
        assert!(peer_address_warnings("https://x.example:7300/maillage")[0].contains("ignoré"));
        assert!(peer_address_warnings("https://x.example:7300").is_empty());
    }

    #[test]
    fn listen_addresses_are_host_and_port() {
        assert!(socket_address("0.0.0.0:7300").is_ok());
        assert!(socket_address("[::]:7300").is_ok());
        assert!(socket_address("localhost:7300").is_ok());
        assert!(socket_address("7300").unwrap_err().contains("pas de port"));
        assert!(socket_address("localhost:http").is_err());
        assert!(socket_address(":7300").is_err());
    }

    #[test]
    fn tls_settings_must_agree_with_the_scheme() {
        let entry = |ca: Option<&str>, domain: Option<&str>| PeerEntry {
            address: String::new(),
            key: None,
            ca: ca.map(Into::into),
            tls_domain: domain.map(Into::into),
        };
        assert!(
            peer_tls(&entry(Some("/etc/ca.pem"), None), "http://x:7300")
                .unwrap_err()
                .contains("écrivez https://")
        );
        assert!(
            peer_tls(&entry(None, Some("x")), "http://x:7300")
                .unwrap_err()
                .contains("tls_domain")
        );
        assert!(
            peer_tls(&entry(None, None), "http://x:7300")
                .unwrap()
                .is_none()
        );
        assert!(
            peer_tls(&entry(None, None), "https://x:7300")
                .unwrap()
                .is_some()
        );
        assert!(
            peer_tls(&entry(Some("/no/such/ca.pem"), None), "https://x:7300")
                .unwrap_err()
                .contains("lecture de l'autorité de certification /no/such/ca.pem")
        );
    }
}
