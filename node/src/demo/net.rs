//! The demo's network: real TCP on loopback, with a switch per node that cuts its links the
//! way an unplugged cable would. Every connection of the demo federation has its client end in
//! the demo process, so cutting a node fails its open connections on their next read or write
//! (within a heartbeat) and refuses new ones until the switch is closed again.

use std::collections::BTreeMap;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use hyper_util::rt::TokioIo;
use maillage_sync::client::BoxFuture;
use maillage_sync::{Connector, LinkError, PeerConfig};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tonic::transport::{Channel, Uri};

/// Which nodes (by `host:port`) are cut off from the others.
#[derive(Debug, Default)]
pub struct Switchboard {
    down: BTreeMap<String, AtomicBool>,
}

impl Switchboard {
    /// A switchboard for the nodes listening on `addresses`, all connected.
    pub fn new(addresses: impl IntoIterator<Item = String>) -> Arc<Self> {
        Arc::new(Self {
            down: addresses
                .into_iter()
                .map(|a| (a, AtomicBool::new(false)))
                .collect(),
        })
    }

    /// Cuts (or restores) every link of the node listening on `address`.
    pub fn set_down(&self, address: &str, down: bool) {
        if let Some(flag) = self.down.get(address) {
            flag.store(down, Ordering::SeqCst);
        }
    }

    fn is_down(&self, address: &str) -> bool {
        self.down
            .get(address)
            .is_some_and(|flag| flag.load(Ordering::SeqCst))
    }

    /// Whether a link between the nodes at `a` and `b` carries traffic.
    pub fn link_up(&self, a: &str, b: &str) -> bool {
        !self.is_down(a) && !self.is_down(b)
    }
}

/// Dials peers over TCP through the switchboard, for the node listening on `own`.
#[derive(Debug, Clone)]
pub struct SwitchedConnector {
    /// This node's listening address (`host:port`).
    pub own: String,
    /// The switches.
    pub board: Arc<Switchboard>,
}

fn link_down() -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::ConnectionReset, "link down")
}

impl Connector for SwitchedConnector {
    fn connect(&self, peer: &PeerConfig) -> BoxFuture<Result<Channel, LinkError>> {
        let address = peer.address.clone();
        let own = self.own.clone();
        let board = self.board.clone();
        Box::pin(async move {
            let fail = |reason: String| LinkError::Connect {
                address: address.clone(),
                reason,
            };
            let endpoint = maillage_sync::client::endpoint(&address, Duration::from_secs(2))?;
            endpoint
                .connect_with_connector(tower::service_fn(move |uri: Uri| {
                    let own = own.clone();
                    let board = board.clone();
                    async move {
                        let target = uri
                            .authority()
                            .map(|a| a.to_string())
                            .ok_or_else(|| std::io::Error::other("address without host:port"))?;
                        if !board.link_up(&own, &target) {
                            return Err(link_down());
                        }
                        let stream = TcpStream::connect(&target).await?;
                        stream.set_nodelay(true)?;
                        Ok::<_, std::io::Error>(TokioIo::new(SwitchedStream {
                            stream,
                            own,
                            target,
                            board,
                        }))
                    }
                }))
                .await
                .map_err(|e| {
                    let mut reason = e.to_string();
                    if let Some(source) = std::error::Error::source(&e) {
                        reason = format!("{reason}: {source}");
                    }
                    fail(reason)
                })
        })
    }
}

/// A TCP connection that fails once its link is cut.
#[derive(Debug)]
struct SwitchedStream {
    stream: TcpStream,
    own: String,
    target: String,
    board: Arc<Switchboard>,
}

impl SwitchedStream {
    fn up(&self) -> bool {
        self.board.link_up(&self.own, &self.target)
    }
}

impl AsyncRead for SwitchedStream {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        if !self.up() {
            return Poll::Ready(Err(link_down()));
        }
        Pin::new(&mut self.stream).poll_read(cx, buf)
    }
}

impl AsyncWrite for SwitchedStream {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        if !self.up() {
            return Poll::Ready(Err(link_down()));
        }
        Pin::new(&mut self.stream).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        if !self.up() {
            return Poll::Ready(Err(link_down()));
        }
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cut_node_has_no_link_to_anyone() {
        let board = Switchboard::new(["a:1".to_string(), "b:2".into(), "c:3".into()]);
        assert!(board.link_up("a:1", "b:2"));
        board.set_down("b:2", true);
        assert!(!board.link_up("a:1", "b:2"));
        assert!(!board.link_up("b:2", "c:3"));
        assert!(board.link_up("a:1", "c:3"));
        board.set_down("b:2", false);
        assert!(board.link_up("b:2", "c:3"));
    }
}
