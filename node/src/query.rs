//! The `Query` service: the typed read API a serving node answers from its views
//! (`proto/maillage/v1/query.proto`).
//!
//! Access: anything about a person (a parcours, a referral, the holder of a voucher) needs a
//! session token from the Federation handshake (a member key), whatever the caller's address:
//! loopback is not an authentication (any local account reaches it). Aggregate reads are
//! served to loopback callers without a session and to others with one. Commands never arrive
//! here (see [`crate::admin`]). Errors carry the gRPC code their kind means.

use std::sync::Arc;

use maillage_app::request::{Request, Response, SearchVenues};
use maillage_app::stats::{Stats, VoucherLine};
use maillage_app::views::{StatusView, VenueView};
use maillage_app::{App, AppError};
use maillage_core::pb;
use maillage_core::vocab::labels_of;
use maillage_proto::v1::query_server::Query;
use maillage_sync::{FederationService, Replica};
use tonic::{Request as GrpcRequest, Response as GrpcResponse, Status};

/// Venues a search returns by default, and at most.
const SEARCH_LIMIT_DEFAULT: usize = 50;
const SEARCH_LIMIT_MAX: usize = 1000;

/// The service.
#[derive(Debug, Clone)]
pub struct QueryService {
    app: App,
    replica: Arc<Replica>,
}

/// The gRPC status an application error means.
pub fn status_of_error(error: AppError) -> Status {
    error.into()
}

fn day(text: String) -> Option<String> {
    (!text.is_empty()).then_some(text)
}

fn is_loopback<T>(request: &GrpcRequest<T>) -> bool {
    request.remote_addr().is_some_and(|a| a.ip().is_loopback())
}

impl QueryService {
    /// Serves the views of `app`'s node; sessions are `replica`'s.
    pub fn new(app: App, replica: Arc<Replica>) -> Self {
        Self { app, replica }
    }

    /// Aggregate reads: loopback callers, or a session.
    fn allow<T>(&self, request: &GrpcRequest<T>) -> Result<(), Status> {
        if is_loopback(request) {
            return Ok(());
        }
        self.session(request).map(|_| ())
    }

    /// Reads about a person: a session, whatever the caller's address.
    fn session<T>(&self, request: &GrpcRequest<T>) -> Result<maillage_core::HubId, Status> {
        FederationService::authorize(&self.replica, request)
    }

    /// Answers `request` on a blocking thread.
    async fn ask(&self, request: Request) -> Result<Response, Status> {
        let app = self.app.clone();
        tokio::task::spawn_blocking(move || app.handle(request))
            .await
            .map_err(|e| Status::internal(format!("query task failed: {e}")))?
            .map_err(status_of_error)
    }
}

fn unexpected() -> Status {
    Status::internal("the node gave an answer of another kind")
}

/// A venue as the read API gives it.
pub fn venue_message(v: &VenueView) -> pb::Venue {
    let r = &v.record;
    pb::Venue {
        venue_id: v.venue_id.clone(),
        departement: v.departement.clone(),
        hub: v.hub.0.to_vec(),
        hub_name: v.hub_name.clone(),
        closed: v.closed.clone().unwrap_or_default(),
        source_id: r.id.clone(),
        pivot: r.pivot.clone(),
        nom: r.nom.clone(),
        commune: r.commune.clone(),
        code_postal: r.code_postal.clone(),
        code_insee: r.code_insee.clone(),
        adresse: r.adresse.clone(),
        latitude: r.latitude.clone().unwrap_or_default(),
        longitude: r.longitude.clone().unwrap_or_default(),
        services: r.services.clone(),
        horaires: r.horaires.clone(),
        telephone: r.telephone.clone(),
        courriels: r.courriels.clone(),
        site_web: r.site_web.clone(),
        typologie: r.typologie.clone(),
        publics_specifiquement_adresses: r.publics_specifiquement_adresses.clone(),
        qualified_until: v.qualified_until.clone().unwrap_or_default(),
    }
}

fn voucher_figures(line: &VoucherLine) -> pb::VoucherFigures {
    pb::VoucherFigures {
        hub: line.hub.clone(),
        hub_key: line.hub_id.map(|h| h.0.to_vec()).unwrap_or_default(),
        funder: line.funder.clone(),
        batches: line.batches,
        issued: line.issued,
        handed_out: line.handed_out,
        redeemed: line.redeemed,
        cancelled: line.cancelled,
        expired: line.expired,
        usage_rate: line.usage_rate,
        settled_cents: line.settled_cents,
    }
}

/// The figures as the read API gives them.
pub fn figures_message(stats: &Stats) -> pb::Figures {
    let r = &stats.referrals;
    pb::Figures {
        as_of: stats.as_of.clone(),
        vouchers: stats.vouchers.iter().map(voucher_figures).collect(),
        total: Some(voucher_figures(&stats.total)),
        referrals: Some(pb::ReferralFigures {
            open: r.open,
            expired: r.expired,
            accepted: r.accepted,
            declined: r.declined,
            completed: r.completed,
            no_show: r.no_show,
            abandoned: r.abandoned,
            median_days_to_accept: r.median_days_to_accept,
        }),
        venues: stats
            .venues
            .iter()
            .map(|v| pb::DepartementFigures {
                departement: v.departement.clone(),
                hub: v.hub.clone(),
                venues: v.venues,
                qualified: v.qualified,
            })
            .collect(),
    }
}

/// A node's status as the read API gives it.
pub fn status_message(status: &StatusView) -> pb::StatusResponse {
    let replication = status.replication.clone().unwrap_or_default();
    pb::StatusResponse {
        node: status.node.0.to_vec(),
        name: status.name.clone(),
        role: status.role.clone(),
        digest: status.digest.to_vec(),
        events_stored: status.events_stored,
        feeds: status
            .feeds
            .iter()
            .map(|f| pb::FeedStatus {
                author: f.author.0.to_vec(),
                name: f.name.clone(),
                seq: f.seq,
                head_id: f.head.map(|h| h.0.to_vec()).unwrap_or_default(),
                applied: f.applied,
                frozen: f.fork_seq.is_some(),
                fork_seq: f.fork_seq.unwrap_or(0),
                clock_ahead_ms: f.clock_ahead_ms,
                damaged_from: f.damaged_from.unwrap_or(0),
                damaged_until: f.damaged_until.unwrap_or(0),
            })
            .collect(),
        peers: replication
            .peers
            .iter()
            .map(|p| pb::PeerStatus {
                address: p.address.clone(),
                key: p.key.map(|k| k.0.to_vec()).unwrap_or_default(),
                name: p.name.clone(),
                state: p.state.clone(),
                last_error: p.last_error.clone(),
                events_received: p.events_received,
                events_rejected: p.events_rejected,
                last_contact_ms: p.last_contact_ms,
                lags: p
                    .lags
                    .iter()
                    .map(|(author, peer_seq, lag)| pb::PeerFeedLag {
                        author: author.0.to_vec(),
                        peer_seq: *peer_seq,
                        lag: *lag,
                    })
                    .collect(),
                protocol_version: p.protocol_version,
                incompatible: p.incompatible.clone(),
                unsupported: p
                    .unsupported
                    .iter()
                    .map(|u| pb::UnsupportedEvents {
                        version: u.version,
                        author: u.author.map(|a| a.0.to_vec()).unwrap_or_default(),
                        from_seq: u.from_seq,
                        count: u.count,
                        message: u.message.clone(),
                    })
                    .collect(),
            })
            .collect(),
        domain_rejections: status.domain_rejections,
        rejected_from_peers: replication
            .rejected_from_peers
            .iter()
            .map(|r| pb::RecentRejection {
                author: r.author.map(|a| a.0.to_vec()).unwrap_or_default(),
                seq: r.seq,
                peer: r.peer.clone(),
                reason: r.reason.clone(),
            })
            .collect(),
        events_pending: status.events_pending,
        uptime_ms: replication.uptime_ms,
        http: replication.http.clone().unwrap_or_default(),
    }
}

#[tonic::async_trait]
impl Query for QueryService {
    async fn digest(
        &self,
        request: GrpcRequest<pb::DigestRequest>,
    ) -> Result<GrpcResponse<pb::DigestResponse>, Status> {
        self.allow(&request)?;
        let Response::Digest(d) = self.ask(Request::Digest).await? else {
            return Err(unexpected());
        };
        Ok(GrpcResponse::new(pb::DigestResponse {
            digest: d.digest.to_vec(),
            events_applied: d.applied.iter().map(|a| a.events).sum(),
            events_pending: d.pending,
            rejections: d.rejections,
            applied: d
                .applied
                .iter()
                .map(|a| pb::FeedPosition {
                    author: a.hub.0.to_vec(),
                    seq: a.events,
                })
                .collect(),
        }))
    }

    async fn status(
        &self,
        request: GrpcRequest<pb::StatusRequest>,
    ) -> Result<GrpcResponse<pb::StatusResponse>, Status> {
        self.allow(&request)?;
        let Response::Status(status) = self.ask(Request::Status).await? else {
            return Err(unexpected());
        };
        Ok(GrpcResponse::new(status_message(&status)))
    }

    async fn search_venues(
        &self,
        request: GrpcRequest<pb::SearchVenuesRequest>,
    ) -> Result<GrpcResponse<pb::VenueList>, Status> {
        self.allow(&request)?;
        let r = request.into_inner();
        let service = match r.service.as_str() {
            "" => None,
            text => Some(maillage_app::resolve::service("service", text).map_err(status_of_error)?),
        };
        let limit = match r.limit as usize {
            0 => SEARCH_LIMIT_DEFAULT,
            n => n.min(SEARCH_LIMIT_MAX),
        };
        let search = SearchVenues {
            words: r.text.split_whitespace().map(String::from).collect(),
            departement: day(r.departement),
            service,
            public: day(r.public),
            qualified_on: r.qualified_only.then(String::new),
            near: None,
            within_km: 10.0,
            limit,
        };
        let Response::Venues(venues) = self.ask(Request::SearchVenues(search)).await? else {
            return Err(unexpected());
        };
        Ok(GrpcResponse::new(pb::VenueList {
            venues: venues.iter().map(venue_message).collect(),
        }))
    }

    async fn voucher_status(
        &self,
        request: GrpcRequest<pb::VoucherStatusRequest>,
    ) -> Result<GrpcResponse<pb::Voucher>, Status> {
        // The holder is shown only to a session.
        let holder = self.session(&request).is_ok();
        if !holder {
            self.allow(&request)?;
        }
        let r = request.into_inner();
        let Response::Voucher(v) = self
            .ask(Request::VoucherStatus {
                serial: r.serial,
                as_of: day(r.as_of),
            })
            .await?
        else {
            return Err(unexpected());
        };
        let redemption = v.redemption.as_ref();
        Ok(GrpcResponse::new(pb::Voucher {
            serial: v.serial.clone(),
            status: v.status.as_str().to_owned(),
            as_of: v.as_of.clone(),
            owner: v.owner.0.to_vec(),
            owner_name: v.owner_name.clone(),
            holder: v
                .person
                .filter(|_| holder)
                .map(|p| p.code())
                .unwrap_or_default(),
            redeemed_venue_id: redemption.map(|r| r.venue_id.clone()).unwrap_or_default(),
            redeemed_service: redemption
                .map(|r| r.service.to_string())
                .unwrap_or_default(),
            redeemed_on: redemption.map(|r| r.date.to_string()).unwrap_or_default(),
            redeemed_by: redemption.map(|r| r.event.0.to_vec()).unwrap_or_default(),
            via_claim: redemption.is_some_and(|r| r.claim.is_some()),
            settled: v.settled,
            claims: v
                .claims
                .iter()
                .zip(&v.claimants)
                .map(|(c, name)| pb::VoucherClaim {
                    event: c.event.0.to_vec(),
                    claimant: c.claimant.0.to_vec(),
                    claimant_name: name.clone(),
                    venue_id: c.venue_id.clone(),
                    service: c.service.to_string(),
                    date: c.date.to_string(),
                    answer: match c.accepted {
                        None => "pending",
                        Some(true) => "accepted",
                        Some(false) => "rejected",
                    }
                    .to_owned(),
                    rejection: c.rejection.clone().unwrap_or_default(),
                })
                .collect(),
        }))
    }

    async fn batch_status(
        &self,
        request: GrpcRequest<pb::BatchStatusRequest>,
    ) -> Result<GrpcResponse<pb::Batch>, Status> {
        self.allow(&request)?;
        let r = request.into_inner();
        let Response::Batch(b) = self
            .ask(Request::BatchStatus {
                batch: r.batch_id,
                as_of: day(r.as_of),
            })
            .await?
        else {
            return Err(unexpected());
        };
        let batch = &b.batch;
        Ok(GrpcResponse::new(pb::Batch {
            batch_id: batch.batch_id.clone(),
            issuer: batch.issuer.0.to_vec(),
            issuer_name: b.issuer_name.clone(),
            funder: batch.funder.clone(),
            funder_siret: batch.funder_siret.clone(),
            face_value_cents: batch.face_value_cents,
            count: batch.count,
            valid_from: batch.valid_from.to_string(),
            valid_until: batch.valid_until.to_string(),
            redeem_deadline: batch.redeem_deadline.to_string(),
            eligible_services: labels_of(&batch.eligible_services),
            territories: batch.territories.clone(),
            as_of: b.as_of.clone(),
            counts: b
                .counts
                .iter()
                .map(|(status, count)| pb::StatusCount {
                    status: status.as_str().to_owned(),
                    count: *count,
                })
                .collect(),
        }))
    }

    async fn referral(
        &self,
        request: GrpcRequest<pb::ReferralRequest>,
    ) -> Result<GrpcResponse<pb::ReferralInfo>, Status> {
        self.session(&request)?;
        let r = request.into_inner();
        let Response::Referral(v) = self
            .ask(Request::Referral {
                id: r.referral_id,
                as_of: day(r.as_of),
            })
            .await?
        else {
            return Err(unexpected());
        };
        let referral = &v.referral;
        Ok(GrpcResponse::new(pb::ReferralInfo {
            referral_id: referral.referral_id.clone(),
            status: v.status.clone(),
            as_of: v.as_of.clone(),
            person: referral.person.map(|p| p.code()).unwrap_or_default(),
            prescriber_kind: referral.prescriber_kind.to_string(),
            prescriber_name: referral.prescriber_name.clone(),
            opened_by: referral.opened_by.0.to_vec(),
            opened_by_name: v.opened_by_name.clone(),
            handler: referral.handler.0.to_vec(),
            handler_name: v.handler_name.clone(),
            needs: labels_of(&referral.needs),
            target_venue_id: referral.target_venue_id.clone(),
            target_territory: referral.target_territory.clone(),
            opened_on: referral.opened_on.to_string(),
            expires_on: referral.expires_on.to_string(),
            accepted_venue_id: referral.venue_id.clone(),
            accepted_on: referral
                .accepted_on
                .map(|d| d.to_string())
                .unwrap_or_default(),
            autonomy: referral.autonomy.map(|a| a.to_string()).unwrap_or_default(),
        }))
    }

    async fn parcours(
        &self,
        request: GrpcRequest<pb::ParcoursRequest>,
    ) -> Result<GrpcResponse<pb::PersonParcours>, Status> {
        self.session(&request)?;
        let r = request.into_inner();
        let person = r.person.trim().parse().map_err(|e| {
            Status::invalid_argument(format!("person: expected a carnet code: {e}"))
        })?;
        let Response::Parcours(p) = self
            .ask(Request::Parcours {
                person,
                as_of: day(r.as_of),
            })
            .await?
        else {
            return Err(unexpected());
        };
        Ok(GrpcResponse::new(pb::PersonParcours {
            person: p.person.code(),
            forgotten: p.forgotten,
            as_of: p.as_of.clone(),
            timeline: p
                .timeline
                .iter()
                .map(|s| pb::ParcoursStep {
                    at: s.at.clone(),
                    hlc: s.hlc,
                    hub: s.hub.clone(),
                    kind: s.kind.clone(),
                    summary: s.summary.clone(),
                    event: s.event.0.to_vec(),
                })
                .collect(),
            referrals: p
                .referrals
                .iter()
                .map(|r| pb::ReferralProgress {
                    referral_id: r.referral_id.clone(),
                    status: r.status.clone(),
                    expires_on: r.expires_on.clone(),
                    handler: r.handler.clone(),
                })
                .collect(),
            held: p.held.clone(),
            used: p.used.clone(),
            expired: p.expired.clone(),
            cancelled: p.cancelled.clone(),
            venues: p.venue_ids.clone(),
            hubs: p.hubs.clone(),
        }))
    }

    async fn stats(
        &self,
        request: GrpcRequest<pb::StatsRequest>,
    ) -> Result<GrpcResponse<pb::Figures>, Status> {
        self.allow(&request)?;
        let r = request.into_inner();
        let Response::Stats(stats) = self
            .ask(Request::Stats {
                as_of: day(r.as_of),
            })
            .await?
        else {
            return Err(unexpected());
        };
        Ok(GrpcResponse::new(figures_message(&stats)))
    }
}
