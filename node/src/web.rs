//! The HTTP side of `maillage serve`: Prometheus metrics and the national dashboard.
//!
//! - `GET /metrics`: the Prometheus text exposition 0.0.4, or OpenMetrics 1.0 when the
//!   scraper's `Accept` header asks for it ([`metrics`] lists every metric).
//! - `GET /healthz`, `GET /readyz`: liveness and readiness, for a service manager, a container
//!   runtime or a load balancer ([`health`]).
//! - `GET /` (`?as_of=YYYY-MM-DD`): the national figures of `maillage stats` per territory
//!   (hub, département) and funder, with inline SVG charts (vouchers per hub, referral
//!   outcomes, a dot map of the venues).
//! - `GET /federation`: replication health (`maillage status`): peers, their state and lag,
//!   feeds, forks, the digest of this node's views.
//! - `GET /venues?q=…&departement=…&service=…&qualified=on`: the venue directory, searched
//!   with the logic of `maillage venues search`.
//!
//! Pages are in French, or in English for `?lang=en` (which wins) or an `Accept-Language`
//! header preferring English ([`lang`]).
//!
//! Plain server-rendered HTML: no script, no build step. The pages are maud templates
//! ([`pages`]), which escape every text that comes from the ledger, a peer or the request; they
//! are sent with a Content-Security-Policy that allows no script at all.
//!
//! Where: `[serve] http` in node.toml or `maillage serve --http ADDR|off`; by default
//! `127.0.0.1:0`, loopback on a free port (the bound address is logged, written as the
//! `http ADDR` line of `serve.addr` and shown by `maillage status`). There is no
//! authentication: the pages show the federation's aggregate figures, the public venue
//! directory and this node's replication state, never a person's data; keep the listener on
//! loopback, or put an authenticating reverse proxy in front of it to open it wider.
//!
//! Views read the live ledger under its lock only while they compute their figures (on the
//! blocking pool), never while rendering or sending.

pub mod health;
pub mod lang;
pub mod metrics;
pub mod pages;

use std::collections::BTreeMap;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;

use axum::Router;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use maillage_app::App;
use maillage_app::request::{Request, Response as AppResponse};
use maillage_core::date::parse_date;
use maillage_core::lang::{Lang, with};
use maillage_core::ledger::VenueQuery;
use maillage_core::vocab::Service;
use maillage_core::{Ledger, Role};
use maillage_sync::server::{Admitted, ListenerLimits};
use serde::Deserialize;
use tokio_stream::{Stream, StreamExt};
use tonic::transport::server::Connected;

pub use metrics::Metrics;
use pages::{DashboardData, Dot, PageHead, VenueRow, VenueSearchView};

/// Venues listed on one page of search results, at most.
pub const VENUES_SHOWN_MAX: usize = 100;

/// Search text kept from a request, at most (characters).
const SEARCH_TEXT_CHARS_MAX: usize = 200;

/// What the handlers share.
#[derive(Clone)]
pub struct Web {
    app: App,
    metrics: Arc<Metrics>,
}

impl std::fmt::Debug for Web {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Web").finish_non_exhaustive()
    }
}

impl Web {
    /// The pages of `app`'s node.
    pub fn new(app: App, metrics: Arc<Metrics>) -> Self {
        Self { app, metrics }
    }

    fn head(&self) -> PageHead {
        let node = self.app.node();
        let member = node.charter.member(&node.id());
        PageHead {
            federation: node.charter.name().to_owned(),
            node: member.map(|m| m.name.clone()).unwrap_or_default(),
            role: match member.map(|m| m.role) {
                Some(Role::Hub) => "hub".into(),
                Some(Role::Observer) => "observateur".into(),
                None => String::new(),
            },
            key_short: node.id().short(),
        }
    }

    /// Runs `f` on the live ledger, with what was stored since the last fold folded in, on
    /// the blocking pool.
    async fn with_ledger<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Ledger) -> T + Send + 'static,
    ) -> Result<T, String> {
        let app = self.app.clone();
        tokio::task::spawn_blocking(move || {
            app.read(|ledger| Ok(f(ledger)))
                .map_err(|e| format!("reading the views: {e}"))
        })
        .await
        .map_err(|e| format!("the view's task failed: {e}"))?
    }
}

/// The routes.
pub fn router(web: Web) -> Router {
    Router::new()
        .route("/", get(dashboard))
        .route("/federation", get(federation))
        .route("/venues", get(venues))
        .route("/metrics", get(metrics_text))
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .fallback(not_found)
        .with_state(web)
}

/// Serves `web` on `listener` until `shutdown` resolves.
pub async fn serve(
    listener: tokio::net::TcpListener,
    web: Web,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    serve_bounded(listener, router(web), HTTP_LIMITS, shutdown).await
}

/// The dashboard's connections: a browser and a scraper need few; a stranger's silent
/// connections are closed like on the federation listener.
const HTTP_LIMITS: ListenerLimits = ListenerLimits {
    connections_max: 64,
    connections_per_address: 16,
    silent_timeout: std::time::Duration::from_secs(10),
    accept_backoff: std::time::Duration::from_millis(100),
    tcp_keepalive: std::time::Duration::from_secs(60),
};

/// Serves `router` on `listener`'s connections bounded by `limits`
/// ([`maillage_sync::server::incoming_limited`]).
async fn serve_bounded(
    listener: tokio::net::TcpListener,
    router: Router,
    limits: ListenerLimits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let local = listener.local_addr()?;
    let incoming = Box::pin(maillage_sync::server::incoming_limited(listener, limits));
    axum::serve(BoundedListener { incoming, local }, router)
        .with_graceful_shutdown(shutdown)
        .await
}

/// Bounded connections, as axum takes them.
struct BoundedListener {
    incoming: Pin<Box<dyn Stream<Item = std::io::Result<Admitted>> + Send>>,
    local: SocketAddr,
}

impl axum::serve::Listener for BoundedListener {
    type Io = Admitted;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Admitted, SocketAddr) {
        loop {
            match self.incoming.next().await {
                Some(Ok(io)) => {
                    let remote = io.connect_info().remote_addr.unwrap_or(self.local);
                    return (io, remote);
                }
                // The bounded stream pauses after a failed accept itself.
                Some(Err(_)) => {}
                // Only once the server is gone.
                None => std::future::pending::<()>().await,
            }
        }
    }

    fn local_addr(&self) -> std::io::Result<SocketAddr> {
        Ok(self.local)
    }
}

/// An HTML page, with headers that forbid any script and any caching.
fn html(status: StatusCode, body: String) -> Response {
    let mut response = (status, body).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
        ),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    // The language of a page may follow Accept-Language (`lang`).
    headers.insert(header::VARY, HeaderValue::from_static("Accept-Language"));
    response
}

fn failure(web: &Web, lang: Lang, message: &str) -> Response {
    tracing::warn!(%message, "a dashboard page could not be computed");
    html(
        StatusCode::INTERNAL_SERVER_ERROR,
        with(lang, || pages::failure(&web.head(), message)),
    )
}

async fn not_found(State(web): State<Web>, uri: Uri, headers: HeaderMap) -> Response {
    let lang = lang::of_request(&uri, &headers);
    html(
        StatusCode::NOT_FOUND,
        with(lang, || pages::not_found(&web.head(), uri.path())),
    )
}

async fn metrics_text(State(web): State<Web>, headers: HeaderMap) -> Response {
    let format = metrics::Format::negotiate(
        headers
            .get(header::ACCEPT)
            .and_then(|accept| accept.to_str().ok()),
    );
    let metrics = web.metrics.clone();
    match tokio::task::spawn_blocking(move || metrics.encode(format)).await {
        Ok(Ok(text)) => ([(header::CONTENT_TYPE, format.content_type())], text).into_response(),
        Ok(Err(_)) | Err(_) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            "encoding the metrics failed\n",
        )
            .into_response(),
    }
}

/// A short plain-text answer that no one caches.
fn plain(status: StatusCode, body: String) -> Response {
    (
        status,
        [
            (header::CONTENT_TYPE, "text/plain; charset=utf-8"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        body,
    )
        .into_response()
}

async fn healthz() -> Response {
    plain(StatusCode::OK, "ok\n".to_owned())
}

async fn readyz(State(web): State<Web>) -> Response {
    let app = web.app.clone();
    let reasons = tokio::task::spawn_blocking(move || {
        let feeds = app.feeds(&BTreeMap::new());
        let replication = app.network().map(|n| n.replication());
        health::readiness(&app.node().id(), &feeds, replication.as_ref())
    })
    .await;
    match reasons {
        Ok(reasons) if reasons.is_empty() => plain(StatusCode::OK, "prêt / ready\n".to_owned()),
        Ok(reasons) => {
            let mut body = String::from("pas prêt / not ready\n");
            for reason in reasons {
                body.push_str(&format!("- {reason}\n"));
            }
            plain(StatusCode::SERVICE_UNAVAILABLE, body)
        }
        Err(error) => plain(
            StatusCode::SERVICE_UNAVAILABLE,
            format!("pas prêt / not ready\n- état illisible / state unreadable: {error}\n"),
        ),
    }
}

/// `/` parameters.
#[derive(Debug, Default, Deserialize)]
struct DashboardParams {
    /// The day the figures are computed for (default: today).
    as_of: Option<String>,
}

async fn dashboard(
    State(web): State<Web>,
    uri: Uri,
    headers: HeaderMap,
    Query(params): Query<DashboardParams>,
) -> Response {
    let lang = lang::of_request(&uri, &headers);
    let as_of = match params
        .as_of
        .as_deref()
        .map(str::trim)
        .filter(|d| !d.is_empty())
    {
        None => web.app.today(),
        Some(text) => match parse_date(text) {
            Some(day) => day,
            None => {
                return html(
                    StatusCode::BAD_REQUEST,
                    with(lang, || {
                        pages::failure(
                            &web.head(),
                            &maillage_core::tr!(
                                "as_of : date attendue au format AAAA-MM-JJ, reçu {text:?}",
                                "as_of: expected a date as YYYY-MM-DD, got {text:?}"
                            ),
                        )
                    }),
                );
            }
        },
    };
    match web
        .with_ledger(move |ledger| dashboard_data(ledger, as_of))
        .await
    {
        Ok(data) => html(
            StatusCode::OK,
            with(lang, || pages::dashboard(&web.head(), &data)),
        ),
        Err(message) => failure(&web, lang, &message),
    }
}

/// The dashboard's figures: `maillage stats`, the charter's hubs and the venues' positions.
pub fn dashboard_data(ledger: &Ledger, as_of: i32) -> DashboardData {
    let stats = maillage_app::stats::compute(ledger, as_of);
    let hubs = ledger
        .charter()
        .members()
        .values()
        .filter(|m| m.role == Role::Hub)
        .map(|m| (m.name.clone(), m.territories.iter().cloned().collect()))
        .collect();
    let mut dots = Vec::new();
    let mut elsewhere: BTreeMap<String, u64> = BTreeMap::new();
    let mut unplaced = 0;
    for venue in ledger
        .venues()
        .venues()
        .values()
        .filter(|v| v.closed.is_none())
    {
        let (Some(lat), Some(lon)) = (venue.record.latitude_micro, venue.record.longitude_micro)
        else {
            unplaced += 1;
            continue;
        };
        let (lat, lon) = (lat as f64 / 1e6, lon as f64 / 1e6);
        if pages::on_map(lat, lon) {
            let qualified = qualified_until(ledger, &venue.venue_id, as_of).is_some();
            dots.push(Dot {
                lat,
                lon,
                qualified,
            });
        } else {
            *elsewhere.entry(venue.departement.clone()).or_default() += 1;
        }
    }
    DashboardData {
        stats,
        hubs,
        dots,
        elsewhere,
        unplaced,
    }
}

/// The last day of a venue's qualification if it is valid on `day`.
fn qualified_until(ledger: &Ledger, venue_id: &str, day: i32) -> Option<String> {
    ledger
        .qualification(venue_id)
        .filter(|q| q.valid_until.0 >= day)
        .map(|q| q.valid_until.to_string())
}

async fn federation(State(web): State<Web>, uri: Uri, headers: HeaderMap) -> Response {
    let lang = lang::of_request(&uri, &headers);
    let app = web.app.clone();
    let status = tokio::task::spawn_blocking(move || app.handle(Request::Status))
        .await
        .map_err(|e| e.to_string())
        .and_then(|answer| match answer {
            Ok(AppResponse::Status(status)) => Ok(crate::query::status_message(&status)),
            Ok(_) => Err("the node gave an answer of another kind".to_owned()),
            Err(error) => Err(error.message),
        });
    match status {
        Ok(status) => html(
            StatusCode::OK,
            with(lang, || {
                pages::federation(&web.head(), &status, web.app.node().clock().now_ms())
            }),
        ),
        Err(message) => failure(&web, lang, &message),
    }
}

/// `/venues` parameters.
#[derive(Debug, Default, Deserialize)]
struct VenueParams {
    q: Option<String>,
    departement: Option<String>,
    service: Option<String>,
    qualified: Option<String>,
}

async fn venues(
    State(web): State<Web>,
    uri: Uri,
    headers: HeaderMap,
    Query(params): Query<VenueParams>,
) -> Response {
    let lang = lang::of_request(&uri, &headers);
    let clean = |text: Option<String>| {
        text.map(|t| {
            t.trim()
                .chars()
                .take(SEARCH_TEXT_CHARS_MAX)
                .collect::<String>()
        })
        .unwrap_or_default()
    };
    let mut view = VenueSearchView {
        q: clean(params.q),
        departement: clean(params.departement),
        service: clean(params.service),
        qualified: params.qualified.is_some_and(|q| !q.is_empty()),
        services: Service::LABELS.iter().map(|s| (*s).to_owned()).collect(),
        ..VenueSearchView::default()
    };
    let service = if view.service.is_empty() {
        None
    } else {
        match with(lang, || {
            maillage_app::resolve::service("service", &view.service)
        }) {
            Ok(service) => Some(service),
            Err(error) => {
                view.error = Some(error.message);
                None
            }
        }
    };
    let today = web.app.today();
    let query = VenueQuery {
        departement: (!view.departement.is_empty()).then(|| view.departement.clone()),
        service,
        public: None,
        qualified_on: view.qualified.then_some(today),
        near: None,
    };
    let words: Vec<String> = view.q.split_whitespace().map(str::to_owned).collect();
    let searching = view.error.is_none();
    let found = web
        .with_ledger(move |ledger| {
            let charter = ledger.charter();
            let hub_name = |hub: &maillage_core::HubId| {
                charter
                    .member(hub)
                    .map_or_else(|| hub.short(), |m| m.name.clone())
            };
            let mut departements: BTreeMap<String, String> = BTreeMap::new();
            for venue in ledger
                .venues()
                .venues()
                .values()
                .filter(|v| v.closed.is_none())
            {
                if !departements.contains_key(&venue.departement) {
                    let holder = charter
                        .holder_of(&venue.departement)
                        .map(|h| hub_name(&h))
                        .unwrap_or_default();
                    departements.insert(venue.departement.clone(), holder);
                }
            }
            let (rows, total) = if searching {
                let found = maillage_app::venues::search(ledger, &query, &words);
                let rows = found
                    .iter()
                    .take(VENUES_SHOWN_MAX)
                    .map(|(v, _)| VenueRow {
                        nom: v.record.nom.clone(),
                        typologie: v.record.typologie.clone(),
                        adresse: v.record.adresse.clone(),
                        code_postal: v.record.code_postal.clone(),
                        commune: v.record.commune.clone(),
                        departement: v.departement.clone(),
                        services: v.record.services.clone(),
                        qualified_until: qualified_until(ledger, &v.venue_id, today),
                        hub: hub_name(&v.hub),
                    })
                    .collect();
                (rows, found.len())
            } else {
                (Vec::new(), 0)
            };
            (departements.into_iter().collect(), rows, total)
        })
        .await;
    match found {
        Ok((departements, rows, total)) => {
            view.departements = departements;
            view.rows = rows;
            view.total = total;
            let status = if view.error.is_some() {
                StatusCode::BAD_REQUEST
            } else {
                StatusCode::OK
            };
            html(status, with(lang, || pages::venues(&web.head(), &view)))
        }
        Err(message) => failure(&web, lang, &message),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use std::time::{Duration, Instant};

    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::{TcpSocket, TcpStream};

    use super::*;

    /// Reads until the peer closes or `within` passes: what came, and whether it closed.
    async fn read_until_closed(stream: &mut TcpStream, within: Duration) -> (Vec<u8>, bool) {
        let deadline = tokio::time::Instant::now() + within;
        let mut seen = Vec::new();
        let mut buffer = [0u8; 1024];
        loop {
            match tokio::time::timeout_at(deadline, stream.read(&mut buffer)).await {
                Err(_) => return (seen, false),
                Ok(Ok(0) | Err(_)) => return (seen, true),
                Ok(Ok(n)) => seen.extend_from_slice(&buffer[..n]),
            }
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn silent_connections_beyond_the_bounds_are_closed_and_a_browser_is_served() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let silent_timeout = Duration::from_millis(1_000);
        let limits = ListenerLimits {
            connections_max: 4,
            connections_per_address: 2,
            silent_timeout,
            ..HTTP_LIMITS
        };
        let router = Router::new().route("/", get(|| async { "ok" }));
        tokio::spawn(serve_bounded(
            listener,
            router,
            limits,
            std::future::pending(),
        ));
        let opened = Instant::now();
        let mut silent = Vec::new();
        for _ in 0..10 {
            silent.push(TcpStream::connect(address).await.unwrap());
        }
        let watched: Vec<_> = silent
            .into_iter()
            .map(|mut stream| {
                tokio::spawn(async move {
                    let (_, closed) =
                        read_until_closed(&mut stream, Duration::from_millis(300)).await;
                    (stream, closed)
                })
            })
            .collect();
        let mut held = Vec::new();
        let mut closed_at_once = 0;
        for watch in watched {
            match watch.await.unwrap() {
                (_, true) => closed_at_once += 1,
                (stream, false) => held.push(stream),
            }
        }
        assert!(opened.elapsed() < silent_timeout);
        assert_eq!((held.len(), closed_at_once), (2, 8));
        // A browser on another address is served meanwhile.
        let socket = TcpSocket::new_v4().unwrap();
        socket.bind("127.0.0.2:0".parse().unwrap()).unwrap();
        let mut browser = socket.connect(address).await.unwrap();
        browser
            .write_all(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            .await
            .unwrap();
        let (answer, closed) = read_until_closed(&mut browser, Duration::from_secs(5)).await;
        assert!(closed);
        let answer = String::from_utf8_lossy(&answer);
        assert!(answer.starts_with("HTTP/1.1 200 OK"), "{answer}");
        // The silent ones are closed after the silent timeout.
        for mut stream in held {
            let (_, closed) = read_until_closed(&mut stream, silent_timeout * 3).await;
            assert!(closed);
        }
        assert!(opened.elapsed() >= silent_timeout);
    }
}
