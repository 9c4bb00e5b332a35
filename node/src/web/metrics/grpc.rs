//! The gRPC side of the metrics: a tower layer on both tonic servers of `maillage serve` that
//! times every request (`maillage_grpc_request_duration_seconds`) and counts it by the status
//! code it ended with (`maillage_grpc_requests_total`).
//!
//! A gRPC status travels in the response's trailers (or, for an error answered before any
//! message, in its headers: "trailers-only"), so the code is read from whichever carries it,
//! through a body wrapper that watches for the trailers. A response dropped before its end
//! (the client went away, the node stopped a following pull) counts as `CANCELLED`; one that
//! ends without a status as `UNKNOWN`. A streamed pull is counted when its stream closes.

use std::collections::BTreeSet;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Instant;

use http_body::{Body, Frame, SizeHint};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::Histogram;
use tonic::codegen::http;

/// Upper bounds (seconds) of the gRPC latency buckets: from a tenth of a millisecond (a
/// loopback call) to ten seconds (a large catch-up batch on a slow link).
const GRPC_BUCKETS_SECONDS: [f64; 16] = [
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
    5.0, 10.0,
];

/// Distinct gRPC method labels kept, at most: the path of a request comes from the client,
/// so beyond this (and for any method the server does not implement) requests are counted
/// under `method="other"`.
pub const GRPC_METHODS_MAX: usize = 64;

/// The gRPC status codes by number, as the gRPC specification names them.
const CODES: [&str; 17] = [
    "OK",
    "CANCELLED",
    "UNKNOWN",
    "INVALID_ARGUMENT",
    "DEADLINE_EXCEEDED",
    "NOT_FOUND",
    "ALREADY_EXISTS",
    "PERMISSION_DENIED",
    "RESOURCE_EXHAUSTED",
    "FAILED_PRECONDITION",
    "ABORTED",
    "OUT_OF_RANGE",
    "UNIMPLEMENTED",
    "INTERNAL",
    "UNAVAILABLE",
    "DATA_LOSS",
    "UNAUTHENTICATED",
];

/// The name of a `grpc-status` value (`UNKNOWN` for anything else).
pub fn code_name(value: &[u8]) -> &'static str {
    std::str::from_utf8(value)
        .ok()
        .and_then(|v| v.trim().parse::<usize>().ok())
        .and_then(|n| CODES.get(n).copied())
        .unwrap_or("UNKNOWN")
}

/// The labels of one gRPC latency histogram.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct GrpcLabels {
    /// `federation` (peers and clients) or `admin` (the operator's command socket).
    listener: &'static str,
    /// The gRPC path, e.g. `/maillage.v1.Federation/Pull`.
    method: String,
}

/// The labels of one gRPC request counter.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct GrpcCodeLabels {
    /// As in [`GrpcLabels`].
    listener: &'static str,
    /// As in [`GrpcLabels`].
    method: String,
    /// The status code the request ended with, e.g. `OK`, `UNAUTHENTICATED`.
    code: &'static str,
}

pub(super) fn grpc_histogram() -> Histogram {
    Histogram::new(GRPC_BUCKETS_SECONDS)
}

/// Latency histograms by listener and method.
pub type GrpcHistograms = Family<GrpcLabels, Histogram, fn() -> Histogram>;

/// Request counters by listener, method and status code.
pub type GrpcCounters = Family<GrpcCodeLabels, Counter>;

/// Times and counts the requests of a tonic server (see `Metrics::grpc_layer`).
#[derive(Debug, Clone)]
pub struct GrpcMetricsLayer {
    pub(super) histograms: GrpcHistograms,
    pub(super) counters: GrpcCounters,
    pub(super) methods: Arc<Mutex<BTreeSet<String>>>,
    pub(super) listener: &'static str,
}

impl GrpcMetricsLayer {
    /// The label of `path`: itself while fewer than [`GRPC_METHODS_MAX`] methods have one,
    /// `other` past that or when the server does not implement it.
    fn method(&self, path: &str, implemented: bool) -> String {
        let mut methods = self.methods.lock().unwrap_or_else(|p| p.into_inner());
        if implemented
            && (methods.contains(path)
                || (methods.len() < GRPC_METHODS_MAX && methods.insert(path.to_owned())))
        {
            path.to_owned()
        } else {
            "other".to_owned()
        }
    }

    fn observe(&self, method: &str, seconds: f64) {
        self.histograms
            .get_or_create(&GrpcLabels {
                listener: self.listener,
                method: method.to_owned(),
            })
            .observe(seconds);
    }

    fn count(&self, method: String, code: &'static str) {
        self.counters
            .get_or_create(&GrpcCodeLabels {
                listener: self.listener,
                method,
                code,
            })
            .inc();
    }
}

impl<S> tower::Layer<S> for GrpcMetricsLayer {
    type Service = GrpcMetricsService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        GrpcMetricsService {
            inner,
            layer: self.clone(),
        }
    }
}

/// The service [`GrpcMetricsLayer`] wraps around a server's routes.
#[derive(Debug, Clone)]
pub struct GrpcMetricsService<S> {
    inner: S,
    layer: GrpcMetricsLayer,
}

impl<S, RequestBody, ResponseBody> tower::Service<http::Request<RequestBody>>
    for GrpcMetricsService<S>
where
    S: tower::Service<http::Request<RequestBody>, Response = http::Response<ResponseBody>>,
    S::Future: Send + 'static,
    ResponseBody: Body + Unpin,
{
    type Response = http::Response<GrpcBody<ResponseBody>>;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Self::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<RequestBody>) -> Self::Future {
        let started = Instant::now();
        let path = request.uri().path().to_owned();
        let answer = self.inner.call(request);
        let layer = self.layer.clone();
        Box::pin(async move {
            let response = match answer.await {
                Ok(response) => response,
                Err(error) => {
                    let method = layer.method(&path, true);
                    layer.observe(&method, started.elapsed().as_secs_f64());
                    layer.count(method, "UNKNOWN");
                    return Err(error);
                }
            };
            // A status in the response head: a trailers-only answer (an error before any
            // message). 12 (UNIMPLEMENTED) there means no such method here.
            let head_status = response.headers().get("grpc-status").map(|s| s.as_bytes());
            let implemented = head_status.is_none_or(|status| status != b"12");
            let method = layer.method(&path, implemented);
            layer.observe(&method, started.elapsed().as_secs_f64());
            let head_code = head_status.map(code_name);
            let (parts, body) = response.into_parts();
            let mut wrapped = GrpcBody {
                inner: body,
                pending: Some((layer, method)),
            };
            if let Some(code) = head_code {
                wrapped.finish(code);
            }
            Ok(http::Response::from_parts(parts, wrapped))
        })
    }
}

/// A response body that counts its request once the status is known.
#[derive(Debug)]
pub struct GrpcBody<B> {
    inner: B,
    /// Where to count, until counted.
    pending: Option<(GrpcMetricsLayer, String)>,
}

impl<B> GrpcBody<B> {
    fn finish(&mut self, code: &'static str) {
        if let Some((layer, method)) = self.pending.take() {
            layer.count(method, code);
        }
    }
}

impl<B> Drop for GrpcBody<B> {
    fn drop(&mut self) {
        self.finish("CANCELLED");
    }
}

impl<B: Body + Unpin> Body for GrpcBody<B> {
    type Data = B::Data;
    type Error = B::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        let polled = Pin::new(&mut self.inner).poll_frame(cx);
        match &polled {
            Poll::Ready(Some(Ok(frame))) => {
                if let Some(trailers) = frame.trailers_ref() {
                    let code = trailers
                        .get("grpc-status")
                        .map_or("UNKNOWN", |s| code_name(s.as_bytes()));
                    self.finish(code);
                }
            }
            Poll::Ready(Some(Err(_))) => self.finish("UNKNOWN"),
            Poll::Ready(None) => self.finish("UNKNOWN"),
            Poll::Pending => {}
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use prometheus_client::registry::{Registry, Unit};

    use super::*;

    fn layer() -> GrpcMetricsLayer {
        GrpcMetricsLayer {
            histograms: Family::new_with_constructor(grpc_histogram as fn() -> Histogram),
            counters: GrpcCounters::default(),
            methods: Arc::new(Mutex::new(BTreeSet::new())),
            listener: "federation",
        }
    }

    fn encode(layer: &GrpcMetricsLayer) -> String {
        let mut registry = Registry::default();
        registry.register_with_unit("t", "t", Unit::Seconds, layer.histograms.clone());
        registry.register("r", "r", layer.counters.clone());
        let mut text = String::new();
        prometheus_client::encoding::text::encode(&mut text, &registry).unwrap();
        text
    }

    #[test]
    fn grpc_method_labels_are_bounded() {
        let layer = layer();
        let pull = layer.method("/maillage.v1.Federation/Pull", true);
        layer.observe(&pull, 0.001);
        layer.observe(&pull, 0.002);
        let unimplemented = layer.method("/no.such/Method", false);
        layer.observe(&unimplemented, 0.0001);
        for n in 0..2 * GRPC_METHODS_MAX {
            let method = layer.method(&format!("/x/{n}"), true);
            layer.observe(&method, 0.0001);
        }
        let text = encode(&layer);
        assert!(
            text.contains(
                "t_seconds_count{listener=\"federation\",method=\"/maillage.v1.Federation/Pull\"} 2"
            ),
            "{text}"
        );
        let series = text
            .lines()
            .filter(|l| l.starts_with("t_seconds_count"))
            .count();
        assert_eq!(series, GRPC_METHODS_MAX + 1, "{text}");
        // The unimplemented path and the overflow (all but the 63 that fitted) share `other`.
        let other = GRPC_METHODS_MAX as u64 + 2;
        assert!(
            text.contains(&format!(
                "t_seconds_count{{listener=\"federation\",method=\"other\"}} {other}"
            )),
            "{text}"
        );
    }

    /// A body of one data frame, then trailers (or nothing).
    #[derive(Debug)]
    struct Canned(Vec<Frame<bytes::Bytes>>);

    impl Body for Canned {
        type Data = bytes::Bytes;
        type Error = std::convert::Infallible;
        fn poll_frame(
            mut self: Pin<&mut Self>,
            _: &mut Context<'_>,
        ) -> Poll<Option<Result<Frame<bytes::Bytes>, Self::Error>>> {
            Poll::Ready(if self.0.is_empty() {
                None
            } else {
                Some(Ok(self.0.remove(0)))
            })
        }
    }

    fn drain(body: &mut GrpcBody<Canned>) {
        let waker = std::task::Waker::noop();
        let mut cx = Context::from_waker(waker);
        while let Poll::Ready(Some(_)) = Pin::new(&mut *body).poll_frame(&mut cx) {}
    }

    #[test]
    fn requests_are_counted_by_the_status_they_end_with() {
        let layer = layer();
        let body = |frames: Vec<Frame<bytes::Bytes>>, method: &str| GrpcBody {
            inner: Canned(frames),
            pending: Some((layer.clone(), method.to_owned())),
        };
        let trailers = |code: &str| {
            let mut map = http::HeaderMap::new();
            map.insert("grpc-status", code.parse().unwrap());
            Frame::trailers(map)
        };
        let data = || Frame::data(bytes::Bytes::from_static(b"x"));
        for _ in 0..3 {
            let mut ok = body(vec![data(), trailers("0")], "/q/Digest");
            drain(&mut ok);
        }
        let mut denied = body(vec![trailers("16")], "/q/Parcours");
        drain(&mut denied);
        // Counted once, even when drained again or dropped afterwards.
        drain(&mut denied);
        drop(denied);
        // The client left in the middle of a stream.
        let mut cut = body(vec![data(), data()], "/f/Pull");
        let waker = std::task::Waker::noop();
        let _ = Pin::new(&mut cut).poll_frame(&mut Context::from_waker(waker));
        drop(cut);
        // Ended without a status; a status in the head (trailers-only) is counted at once.
        let mut silent = body(vec![data()], "/f/Hello");
        drain(&mut silent);
        let mut head = body(vec![], "/f/Prove");
        head.finish(code_name(b"3"));
        drop(head);
        let text = encode(&layer);
        for (series, value) in [
            (
                "r_total{listener=\"federation\",method=\"/q/Digest\",code=\"OK\"}",
                3,
            ),
            (
                "r_total{listener=\"federation\",method=\"/q/Parcours\",code=\"UNAUTHENTICATED\"}",
                1,
            ),
            (
                "r_total{listener=\"federation\",method=\"/f/Pull\",code=\"CANCELLED\"}",
                1,
            ),
            (
                "r_total{listener=\"federation\",method=\"/f/Hello\",code=\"UNKNOWN\"}",
                1,
            ),
            (
                "r_total{listener=\"federation\",method=\"/f/Prove\",code=\"INVALID_ARGUMENT\"}",
                1,
            ),
        ] {
            assert!(
                text.contains(&format!("{series} {value}\n")),
                "{series}: {text}"
            );
        }
        assert_eq!(text.matches("r_total{").count(), 5, "{text}");
        assert_eq!(code_name(b"99"), "UNKNOWN");
        assert_eq!(code_name(b"14"), "UNAVAILABLE");
    }
}
