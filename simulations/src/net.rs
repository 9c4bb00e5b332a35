//! gRPC over turmoil's simulated network: a connector for the links and an incoming stream
//! for the server, so the real `maillage-sync` service and links run unchanged.

use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use hyper_util::rt::TokioIo;
use maillage_sync::client::BoxFuture;
use maillage_sync::{Connector, LinkError, PeerConfig};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tonic::transport::{Channel, Endpoint, Uri};

/// Dials peers on turmoil's network (`http://hub-3:7300`).
#[derive(Debug, Clone, Copy)]
pub struct SimConnector;

impl Connector for SimConnector {
    fn connect(&self, peer: &PeerConfig) -> BoxFuture<Result<Channel, LinkError>> {
        let address = peer.address.clone();
        Box::pin(async move {
            let fail = |reason: String| LinkError::Connect {
                address: address.clone(),
                reason,
            };
            let endpoint = Endpoint::from_shared(address.clone())
                .map_err(|e| fail(e.to_string()))?
                .connect_timeout(Duration::from_secs(2))
                .http2_keep_alive_interval(Duration::from_secs(5))
                .keep_alive_timeout(Duration::from_secs(5))
                .keep_alive_while_idle(true);
            endpoint
                .connect_with_connector(tower::service_fn(|uri: Uri| async move {
                    let authority = uri
                        .authority()
                        .map(|a| a.to_string())
                        .ok_or_else(|| std::io::Error::other("address without host:port"))?;
                    let stream = turmoil::net::TcpStream::connect(authority).await?;
                    Ok::<_, std::io::Error>(TokioIo::new(stream))
                }))
                .await
                .map_err(|e| fail(e.to_string()))
        })
    }
}

/// An accepted simulated connection, as tonic's server wants it.
#[derive(Debug)]
pub struct SimStream(pub turmoil::net::TcpStream);

impl tonic::transport::server::Connected for SimStream {
    type ConnectInfo = ();
    fn connect_info(&self) -> Self::ConnectInfo {}
}

impl AsyncRead for SimStream {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.0).poll_read(cx, buf)
    }
}

impl AsyncWrite for SimStream {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.0).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.0).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.0).poll_shutdown(cx)
    }
}

/// Connections accepted on `listener`, as a stream for `serve_with_incoming`.
pub fn incoming(
    listener: turmoil::net::TcpListener,
) -> impl futures_util::Stream<Item = std::io::Result<SimStream>> {
    futures_util::stream::unfold(listener, |listener| async move {
        let accepted = listener.accept().await.map(|(s, _)| SimStream(s));
        Some((accepted, listener))
    })
}
