//! Telling an operator that a peer speaks TLS where node.toml says plaintext, or the reverse,
//! instead of the HTTP/2 or TLS error the mismatch produces ("h2 protocol error", "received
//! corrupt message of type InvalidContentType").
//!
//! A look at the port tells them apart without troubling either kind of server: a plaintext
//! HTTP/2 server sends its SETTINGS frame as soon as a connection opens, a TLS server says
//! nothing until the client's hello. So [`ExplainingConnector`] dials through the real
//! connector and, for an `http://` peer, first opens one TCP connection and listens: if the
//! port stays silent, it sends the HTTP/2 preface; a TLS alert in reply settles it. For an
//! `https://` peer it only looks once the TLS connection failed: a SETTINGS frame then means
//! the peer serves plaintext. Either finding replaces the link's error with a sentence that
//! says which setting to change; anything else leaves the error as it was.

use std::sync::Arc;
use std::time::Duration;

use maillage_sync::client::BoxFuture;
use maillage_sync::{Connector, LinkError, PeerConfig};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tonic::transport::{Channel, Uri};

/// How long a probe may take, each step.
const PROBE_STEP: Duration = Duration::from_millis(500);

/// What a port speaks, as far as a probe can tell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Speaks {
    /// HTTP/2 without TLS (a SETTINGS frame came first).
    PlainHttp2,
    /// TLS (silence, then a TLS alert in answer to plaintext).
    Tls,
    /// Something else, or nothing: no conclusion.
    Unknown,
}

/// Classifies the first bytes a server sent.
pub fn classify(bytes: &[u8]) -> Speaks {
    match bytes {
        // An HTTP/2 frame header: 24-bit length, type 4 (SETTINGS), stream 0.
        [_, _, _, 0x04, _, 0, 0, 0, 0, ..] => Speaks::PlainHttp2,
        // A TLS record: alert (21) or handshake (22), version 3.x.
        [0x15 | 0x16, 0x03, ..] => Speaks::Tls,
        _ => Speaks::Unknown,
    }
}

/// The client's HTTP/2 connection preface and an empty SETTINGS frame.
const H2_PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\x00\x00\x00\x04\x00\x00\x00\x00\x00";

/// Reads what arrives within [`PROBE_STEP`] (at most a few bytes).
async fn first_bytes(stream: &mut TcpStream) -> Vec<u8> {
    let mut buffer = [0u8; 16];
    match tokio::time::timeout(PROBE_STEP, stream.read(&mut buffer)).await {
        Ok(Ok(n)) => buffer[..n].to_vec(),
        _ => Vec::new(),
    }
}

/// What the server at `host_port` speaks. `listen_only`: never send anything (the answer is
/// then `Tls` only if the server sent a TLS record by itself, which none does).
pub async fn probe(host_port: &str, listen_only: bool) -> Speaks {
    let Ok(Ok(mut stream)) = tokio::time::timeout(PROBE_STEP, TcpStream::connect(host_port)).await
    else {
        return Speaks::Unknown;
    };
    let first = first_bytes(&mut stream).await;
    if !first.is_empty() || listen_only {
        return classify(&first);
    }
    if stream.write_all(H2_PREFACE).await.is_err() {
        return Speaks::Unknown;
    }
    classify(&first_bytes(&mut stream).await)
}

/// `host:port` of an `http(s)://` address (default ports filled in).
fn host_port(address: &str) -> Option<String> {
    let uri: Uri = address.parse().ok()?;
    let host = uri.host()?;
    let port = uri
        .port_u16()
        .unwrap_or(if uri.scheme_str() == Some("https") {
            443
        } else {
            80
        });
    // `Uri::host` keeps an IPv6 literal's brackets, as `connect` wants them.
    Some(format!("{host}:{port}"))
}

/// The sentence for a mismatch, if the probe found one.
pub fn explain(address: &str, speaks: Speaks) -> Option<String> {
    let tls_configured = address.starts_with("https://");
    match (tls_configured, speaks) {
        (false, Speaks::Tls) => Some(format!(
            "TLS mismatch: the peer at {address} serves TLS but is configured as plaintext http://: write {} as its address (with `ca = \"…\"` if its certificate is not from a public authority)",
            address.replacen("http://", "https://", 1)
        )),
        (true, Speaks::PlainHttp2) => Some(format!(
            "TLS mismatch: the peer at {address} serves plaintext HTTP/2, not TLS: write {} as its address, or turn TLS on at the peer ([serve.tls] in its node.toml)",
            address.replacen("https://", "http://", 1)
        )),
        _ => None,
    }
}

/// Dials through `inner`, explaining a plaintext/TLS mismatch instead of failing obscurely.
#[derive(Clone)]
pub struct ExplainingConnector {
    inner: Arc<dyn Connector>,
}

impl std::fmt::Debug for ExplainingConnector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ExplainingConnector")
            .finish_non_exhaustive()
    }
}

impl ExplainingConnector {
    /// Wraps the connector that really dials.
    pub fn new(inner: Arc<dyn Connector>) -> Self {
        Self { inner }
    }
}

impl Connector for ExplainingConnector {
    fn connect(&self, peer: &PeerConfig) -> BoxFuture<Result<Channel, LinkError>> {
        let inner = self.inner.clone();
        let peer = peer.clone();
        Box::pin(async move {
            let target = host_port(&peer.address);
            let mismatch = |speaks| {
                explain(&peer.address, speaks).map(|reason| LinkError::Connect {
                    address: peer.address.clone(),
                    reason,
                })
            };
            if peer.tls.is_none()
                && let Some(target) = &target
                && let Some(error) = mismatch(probe(target, false).await)
            {
                // Plaintext towards a TLS port connects, then fails on the first call with
                // an HTTP/2 error: say why before dialling.
                return Err(error);
            }
            match inner.connect(&peer).await {
                Ok(channel) => Ok(channel),
                Err(error) => {
                    if peer.tls.is_some()
                        && let Some(target) = &target
                        && let Some(explained) = mismatch(probe(target, true).await)
                    {
                        return Err(explained);
                    }
                    Err(error)
                }
            }
        })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn first_bytes_tell_plaintext_http2_from_tls() {
        // What tonic's server sends first, and rustls's answer to plaintext.
        let settings = [0, 0, 0x12, 4, 0, 0, 0, 0, 0, 0, 4, 0, 0x40, 0, 0];
        assert_eq!(classify(&settings), Speaks::PlainHttp2);
        assert_eq!(classify(&[0x15, 0x03, 0x03, 0, 2, 2, 0x32]), Speaks::Tls);
        assert_eq!(classify(b"HTTP/1.1 400 Bad Request\r\n"), Speaks::Unknown);
        assert_eq!(classify(&[]), Speaks::Unknown);
        assert_eq!(
            host_port("http://127.0.0.1:7300").as_deref(),
            Some("127.0.0.1:7300")
        );
        assert_eq!(host_port("https://[::1]").as_deref(), Some("[::1]:443"));
        let plain = explain("http://hinaura.example:7300", Speaks::Tls).unwrap();
        assert!(
            plain.contains("write https://hinaura.example:7300"),
            "{plain}"
        );
        let tls = explain("https://hinaura.example:7300", Speaks::PlainHttp2).unwrap();
        assert!(tls.contains("write http://hinaura.example:7300"), "{tls}");
        assert_eq!(explain("http://x:1", Speaks::PlainHttp2), None);
        assert_eq!(explain("https://x:1", Speaks::Unknown), None);
    }
}
