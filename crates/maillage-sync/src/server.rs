//! Serving: the `Federation` service with its message limits, the HTTP/2 settings of the
//! server, and a bounded TCP incoming stream.
//!
//! Every connection is a stranger's until its handshake: [`incoming_limited`] bounds how many
//! are open at once (in all and per remote address; beyond, a new connection is closed at
//! once), closes a connection that sends nothing within [`ListenerLimits::silent_timeout`]
//! (a client speaks first: the HTTP/2 preface or a TLS ClientHello), pauses after a failed
//! accept (out of file descriptors) instead of spinning, and sets TCP_NODELAY (tonic's
//! `Server::tcp_nodelay` does not apply to `serve_with_incoming`) and TCP keepalive.
//! [`builder`] bounds what one connection may hold: concurrent streams, requests in flight,
//! and a dead peer is dropped by HTTP/2 keepalive.

use std::collections::BTreeMap;
use std::future::Future;
use std::io;
use std::net::IpAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use maillage_proto::v1::federation_server::FederationServer;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio::time::Sleep;
use tokio_stream::wrappers::ReceiverStream;
use tokio_stream::{Stream, StreamExt};
use tonic::transport::Server;
use tonic::transport::server::{Connected, TcpConnectInfo, TcpIncoming};

use crate::replica::{MESSAGE_BYTES_MAX, Replica};
use crate::service::FederationService;

/// The `Federation` service for `replica`, refusing messages over [`MESSAGE_BYTES_MAX`].
pub fn federation_server(replica: Arc<Replica>) -> FederationServer<FederationService> {
    FederationServer::new(FederationService::new(replica))
        .max_decoding_message_size(MESSAGE_BYTES_MAX)
        .max_encoding_message_size(MESSAGE_BYTES_MAX)
}

/// What one connection may hold, and how a dead one is found.
#[derive(Debug, Clone)]
pub struct ConnectionLimits {
    /// HTTP/2 streams open at once on one connection (a link uses a few).
    pub streams_max: u32,
    /// Requests being answered at once on one connection (a stream counts until its
    /// response headers are sent, not for its whole life).
    pub requests_max: usize,
    /// A request not answered within this is ended with an error. tonic's timeout runs until
    /// the response headers: a following `Pull` stream outlives it.
    pub request_timeout: Duration,
    /// An HTTP/2 ping goes out after this much silence on a connection…
    pub keepalive_interval: Duration,
    /// …and the connection is closed if its answer does not come within this.
    pub keepalive_timeout: Duration,
}

impl Default for ConnectionLimits {
    fn default() -> Self {
        Self {
            streams_max: 64,
            requests_max: 32,
            request_timeout: Duration::from_secs(60),
            keepalive_interval: Duration::from_secs(30),
            keepalive_timeout: Duration::from_secs(20),
        }
    }
}

/// A server builder with `limits` set.
pub fn builder(limits: &ConnectionLimits) -> Server {
    Server::builder()
        .max_concurrent_streams(limits.streams_max)
        .concurrency_limit_per_connection(limits.requests_max)
        .timeout(limits.request_timeout)
        .http2_keepalive_interval(Some(limits.keepalive_interval))
        .http2_keepalive_timeout(Some(limits.keepalive_timeout))
}

/// Bounds on accepted connections.
#[derive(Debug, Clone)]
pub struct ListenerLimits {
    /// Connections open at once, at most; beyond, a new connection is closed at once.
    pub connections_max: usize,
    /// Connections open at once from one remote address, at most.
    pub connections_per_address: usize,
    /// A connection that sends nothing for this long after it opened is closed.
    pub silent_timeout: Duration,
    /// The pause after a failed accept (out of file descriptors…) before accepting again.
    pub accept_backoff: Duration,
    /// TCP keepalive: probes after this much idle time (the kernel drops a dead peer).
    pub tcp_keepalive: Duration,
}

impl Default for ListenerLimits {
    fn default() -> Self {
        Self {
            connections_max: 512,
            connections_per_address: 64,
            silent_timeout: Duration::from_secs(10),
            accept_backoff: Duration::from_millis(100),
            tcp_keepalive: Duration::from_secs(60),
        }
    }
}

/// Accepted connections of `listener`, with TCP_NODELAY set on each.
pub fn incoming(listener: TcpListener) -> TcpIncoming {
    TcpIncoming::from(listener).with_nodelay(Some(true))
}

/// Accepted connections of `listener`, bounded by `limits` (see the module docs). The accept
/// loop runs on its own task and ends (closing the listener) when the stream is dropped.
pub fn incoming_limited(
    listener: TcpListener,
    limits: ListenerLimits,
) -> impl Stream<Item = io::Result<Admitted>> + Send + 'static {
    let (tx, rx) = mpsc::channel(16);
    let accepted = TcpIncoming::from(listener)
        .with_nodelay(Some(true))
        .with_keepalive(Some(limits.tcp_keepalive));
    tokio::spawn(accept_loop(accepted, limits, tx));
    ReceiverStream::new(rx)
}

/// Admits what `accepted` yields (TCP_NODELAY and keepalive already set) under `limits`.
async fn accept_loop(
    mut accepted: impl Stream<Item = io::Result<TcpStream>> + Unpin,
    limits: ListenerLimits,
    tx: mpsc::Sender<io::Result<Admitted>>,
) {
    let gate = Gate::default();
    let mut failure_logged: Option<tokio::time::Instant> = None;
    loop {
        let next = tokio::select! {
            biased;
            _ = tx.closed() => return,
            next = accepted.next() => next,
        };
        match next {
            None => return,
            Some(Err(error)) => {
                // EMFILE and the like: accepting again at once would spin.
                let due = failure_logged.is_none_or(|at| at.elapsed() >= Duration::from_secs(60));
                if due {
                    failure_logged = Some(tokio::time::Instant::now());
                    tracing::warn!(%error, backoff_ms = limits.accept_backoff.as_millis() as u64, "accepting a connection failed: pausing (logged once a minute)");
                } else {
                    tracing::debug!(%error, "accepting a connection failed: pausing");
                }
                tokio::time::sleep(limits.accept_backoff).await;
            }
            Some(Ok(stream)) => {
                let Some(address) = stream.peer_addr().ok().map(|a| a.ip()) else {
                    continue;
                };
                let Some(ticket) = gate.admit(address, &limits) else {
                    tracing::debug!(remote = %address, "connection closed at once: too many open");
                    drop(stream);
                    continue;
                };
                let admitted = Admitted {
                    stream,
                    silent: Some(Box::pin(tokio::time::sleep(limits.silent_timeout))),
                    _ticket: ticket,
                };
                if tx.send(Ok(admitted)).await.is_err() {
                    return;
                }
            }
        }
    }
}

/// Connections open, in all and per remote address.
#[derive(Debug, Default, Clone)]
struct Gate(Arc<Mutex<GateState>>);

#[derive(Debug, Default)]
struct GateState {
    total: usize,
    per_address: BTreeMap<IpAddr, usize>,
}

impl Gate {
    fn admit(&self, address: IpAddr, limits: &ListenerLimits) -> Option<Ticket> {
        let mut state = self.0.lock().unwrap_or_else(|p| p.into_inner());
        let from_there = state.per_address.get(&address).copied().unwrap_or(0);
        if state.total >= limits.connections_max || from_there >= limits.connections_per_address {
            return None;
        }
        state.total += 1;
        state.per_address.insert(address, from_there + 1);
        Some(Ticket {
            gate: self.clone(),
            address,
        })
    }
}

/// A connection's place under the bounds, given back when it is dropped.
#[derive(Debug)]
struct Ticket {
    gate: Gate,
    address: IpAddr,
}

impl Drop for Ticket {
    fn drop(&mut self) {
        let mut state = self.gate.0.lock().unwrap_or_else(|p| p.into_inner());
        state.total = state.total.saturating_sub(1);
        if let Some(count) = state.per_address.get_mut(&self.address) {
            *count = count.saturating_sub(1);
            if *count == 0 {
                state.per_address.remove(&self.address);
            }
        }
    }
}

/// An accepted connection, holding its place under the bounds until dropped. Reading from it
/// fails with `TimedOut` if the peer sent nothing within the silent timeout.
#[derive(Debug)]
pub struct Admitted {
    stream: TcpStream,
    /// Until the first byte arrives.
    silent: Option<Pin<Box<Sleep>>>,
    _ticket: Ticket,
}

impl AsyncRead for Admitted {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        let polled = Pin::new(&mut this.stream).poll_read(cx, buf);
        match &polled {
            Poll::Ready(Ok(())) if buf.filled().len() > before => this.silent = None,
            Poll::Pending => {
                if let Some(silent) = &mut this.silent
                    && silent.as_mut().poll(cx).is_ready()
                {
                    return Poll::Ready(Err(io::Error::new(
                        io::ErrorKind::TimedOut,
                        "the peer sent nothing: connection closed",
                    )));
                }
            }
            _ => {}
        }
        polled
    }
}

impl AsyncWrite for Admitted {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().stream).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().stream).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }
}

impl Connected for Admitted {
    type ConnectInfo = TcpConnectInfo;

    fn connect_info(&self) -> Self::ConnectInfo {
        self.stream.connect_info()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_failing_accept_pauses_instead_of_spinning() {
        // Every accept fails as when the process is out of file descriptors (EMFILE).
        let attempts = Arc::new(AtomicUsize::new(0));
        let counted = attempts.clone();
        let failing = Box::pin(tokio_stream::StreamExt::then(
            tokio_stream::iter(std::iter::repeat(())),
            move |()| {
                let counted = counted.clone();
                async move {
                    counted.fetch_add(1, Ordering::Relaxed);
                    tokio::task::yield_now().await;
                    Err::<TcpStream, _>(io::Error::from_raw_os_error(24))
                }
            },
        ));
        let limits = ListenerLimits {
            accept_backoff: Duration::from_millis(50),
            ..ListenerLimits::default()
        };
        let (tx, rx) = mpsc::channel(1);
        let task = tokio::spawn(accept_loop(failing, limits, tx));
        tokio::time::sleep(Duration::from_millis(275)).await;
        task.abort();
        let tried = attempts.load(Ordering::Relaxed);
        assert!(
            (2..=12).contains(&tried),
            "{tried} accepts in 275 ms with a 50 ms pause"
        );
        drop(rx);
    }
}
