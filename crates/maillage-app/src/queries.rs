//! The reads: typed views of what a node holds, computed from its views under their lock.

use std::collections::{BTreeMap, BTreeSet};

use maillage_core::date::{day_of_millis, format_date};
use maillage_core::hlc::hlc_millis;
use maillage_core::ledger::{ReferralStatus, VoucherState, VoucherStatus};
use maillage_core::{Ledger, PersonId, Role};
use maillage_store::EventStore;

use crate::app::App;
use crate::error::{AppError, Result};
use crate::resolve;
use crate::stats::Stats;
use crate::views::{
    AppliedFeed, BatchView, CharterView, DigestView, FeedView, MemberView, ParcoursStep,
    ParcoursView, ReferralInProgress, ReferralView, RejectionView, StatusView, VoucherStatusView,
    VoucherView,
};

/// A voucher's status on `as_of`: issued, handed out, redeemed, cancelled, or expired
/// (neither redeemed nor cancelled, past its batch's redeem deadline).
pub fn voucher_status_on(
    ledger: &Ledger,
    serial: &str,
    state: &VoucherState,
    as_of: i32,
) -> VoucherStatusView {
    let expired = || {
        serial
            .rsplit_once('-')
            .and_then(|(b, _)| ledger.batch_by_id(b))
            .is_some_and(|b| as_of > b.redeem_deadline.0)
    };
    match state.status {
        VoucherStatus::Redeemed => VoucherStatusView::Redeemed,
        VoucherStatus::Cancelled => VoucherStatusView::Cancelled,
        _ if expired() => VoucherStatusView::Expired,
        VoucherStatus::Issued => VoucherStatusView::Issued,
        VoucherStatus::HandedOut => VoucherStatusView::HandedOut,
    }
}

/// A referral's status on a day: open, expired, accepted, declined, or its outcome.
pub fn referral_status(r: &maillage_core::ledger::Referral, as_of: i32) -> String {
    match &r.status {
        ReferralStatus::Open => {
            if as_of > r.expires_on.0 {
                "expired".into()
            } else {
                "open".into()
            }
        }
        ReferralStatus::Accepted => "accepted".into(),
        ReferralStatus::Declined => "declined".into(),
        ReferralStatus::Closed { outcome } => outcome.as_str().to_owned(),
    }
}

/// An author's clock value as `YYYY-MM-DD HH:MM` (UTC).
pub fn hlc_datetime(hlc: u64) -> String {
    let ms = hlc_millis(hlc);
    let day = day_of_millis(ms);
    let secs = (ms / 1000) % 86_400;
    format!(
        "{} {:02}:{:02}",
        format_date(day),
        secs / 3600,
        (secs % 3600) / 60
    )
}

impl App {
    /// `as_of` as days, today by default.
    pub(crate) fn as_of(&self, as_of: Option<&str>) -> Result<i32> {
        resolve::day_or("as_of", as_of, self.today())
    }

    pub(crate) fn voucher_status(&self, serial: &str, as_of: Option<&str>) -> Result<VoucherView> {
        let serial = resolve::serial("serial", serial)?;
        let serial = serial.as_str();
        let as_of = self.as_of(as_of)?;
        self.read(|ledger| {
            let state = ledger.voucher(serial).ok_or_else(|| {
                let serial = maillage_core::excerpt::Excerpt::of(serial);
                AppError::not_found(maillage_core::tr!(
                    "pass {serial} : aucun pass de ce numéro sur ce nœud (lot inconnu ou numéro hors de la plage)",
                    "voucher {serial}: no such serial on this node (unknown batch or number out of range)"
                ))
            })?;
            let charter = ledger.charter();
            let claims: Vec<_> = ledger.claims_on(serial).cloned().collect();
            Ok(VoucherView {
                serial: serial.to_owned(),
                status: voucher_status_on(ledger, serial, &state, as_of),
                as_of: format_date(as_of),
                owner: state.owner,
                owner_name: resolve::hub_name(charter, &state.owner),
                person: state.person,
                redemption_venue: state
                    .redemption
                    .as_ref()
                    .map(|r| resolve::venue_label(ledger, &r.venue_id)),
                redemption: state.redemption.as_deref().cloned(),
                settled: state.settled,
                claimants: claims
                    .iter()
                    .map(|c| resolve::hub_name(charter, &c.claimant))
                    .collect(),
                claims,
            })
        })
    }

    pub(crate) fn batch_status(&self, batch_id: &str, as_of: Option<&str>) -> Result<BatchView> {
        let as_of = self.as_of(as_of)?;
        self.read(|ledger| {
            let batch = ledger.batch_by_id(batch_id).ok_or_else(|| {
                let batch = maillage_core::excerpt::Excerpt::of(batch_id);
                AppError::not_found(maillage_core::tr!(
                    "le lot {batch} n'est pas sur ce nœud",
                    "batch {batch} is not on this node"
                ))
            })?;
            let mut counts: BTreeMap<VoucherStatusView, u32> = BTreeMap::new();
            for n in 1..=batch.count {
                let serial = format!("{batch_id}-{n}");
                if let Some(state) = ledger.voucher(&serial) {
                    *counts
                        .entry(voucher_status_on(ledger, &serial, &state, as_of))
                        .or_insert(0) += 1;
                }
            }
            Ok(BatchView {
                issuer_name: resolve::hub_name(ledger.charter(), &batch.issuer),
                batch: batch.clone(),
                as_of: format_date(as_of),
                counts: counts.into_iter().collect(),
            })
        })
    }

    pub(crate) fn referral(&self, id: &str, as_of: Option<&str>) -> Result<ReferralView> {
        let as_of = self.as_of(as_of)?;
        self.read(|ledger| {
            let r = ledger.referral(id).ok_or_else(|| {
                let id = maillage_core::excerpt::Excerpt::of(id);
                AppError::not_found(maillage_core::tr!(
                    "l'orientation {id} n'est pas sur ce nœud (importer le journal du hub qui l'a ouverte ?)",
                    "referral {id} is not on this node (import the opening hub's log?)"
                ))
            })?;
            let charter = ledger.charter();
            Ok(ReferralView {
                referral: r.clone(),
                status: referral_status(&r, as_of),
                as_of: format_date(as_of),
                opened_by_name: resolve::hub_name(charter, &r.opened_by),
                handler_name: resolve::hub_name(charter, &r.handler),
                target_venue: (!r.target_venue_id.is_empty())
                    .then(|| resolve::venue_label(ledger, &r.target_venue_id)),
                accepted_venue: (!r.venue_id.is_empty())
                    .then(|| resolve::venue_label(ledger, &r.venue_id)),
            })
        })
    }

    pub(crate) fn parcours(&self, person: &PersonId, as_of: Option<&str>) -> Result<ParcoursView> {
        let as_of = self.as_of(as_of)?;
        self.read(|ledger| Ok(parcours_of(ledger, person, as_of)))
    }

    pub(crate) fn stats(&self, as_of: Option<&str>) -> Result<Stats> {
        let as_of = self.as_of(as_of)?;
        self.read(|ledger| Ok(crate::stats::compute(ledger, as_of)))
    }

    pub(crate) fn digest(&self) -> Result<DigestView> {
        self.read(|ledger| {
            let charter = ledger.charter();
            Ok(DigestView {
                digest: ledger.digest(),
                applied: ledger
                    .applied()
                    .into_iter()
                    .map(|(hub, events)| AppliedFeed {
                        name: resolve::hub_name(charter, &hub),
                        hub,
                        events,
                    })
                    .collect(),
                pending: ledger.pending_count() as u64,
                rejections: ledger.rejections().len() as u64,
                parts: ledger
                    .digest_parts()
                    .into_iter()
                    .map(|(name, part)| (name.to_owned(), part))
                    .collect(),
            })
        })
    }

    pub(crate) fn rejections(&self) -> Result<Vec<RejectionView>> {
        self.read(|ledger| {
            Ok(ledger
                .rejections()
                .values()
                .map(|r| RejectionView {
                    event: r.event,
                    hub: r.author,
                    name: resolve::hub_name(ledger.charter(), &r.author),
                    seq: r.seq,
                    code: r.code().to_owned(),
                    reason: r.reason(),
                })
                .collect())
        })
    }

    /// Feeds as this node holds them: stored head, what is folded, fork, damage on disk, and
    /// how far each feed's last event is dated ahead of this node's clock.
    pub fn feeds(&self, applied: &BTreeMap<maillage_core::HubId, u64>) -> Vec<FeedView> {
        let node = self.node();
        let forks = node.store.forks();
        let frontier = node.store.frontier();
        let damaged = node.store.damaged();
        let hlcs = node.store.head_hlcs();
        let now_ms = node.clock().now_ms();
        let mut authors: BTreeSet<_> = frontier.keys().copied().collect();
        authors.extend(forks.keys().copied());
        authors.extend(damaged.keys().copied());
        authors
            .into_iter()
            .map(|author| {
                let head = frontier.get(&author);
                let damage = damaged.get(&author);
                FeedView {
                    author,
                    name: node
                        .charter
                        .member(&author)
                        .map(|m| m.name.clone())
                        .unwrap_or_default(),
                    seq: head.map_or(0, |h| h.seq),
                    head: head.map(|h| h.id),
                    applied: applied.get(&author).copied().unwrap_or(0),
                    fork_seq: forks.get(&author).map(|f| f.fork.seq),
                    clock_ahead_ms: hlcs
                        .get(&author)
                        .map_or(0, |hlc| hlc_millis(*hlc).saturating_sub(now_ms)),
                    damaged_from: damage.map(|d| d.from_seq),
                    damaged_until: damage.map(|d| d.held_until),
                }
            })
            .collect()
    }

    pub(crate) fn status(&self) -> Result<StatusView> {
        let node = self.node();
        let member = node.member()?;
        let (digest, applied, pending, rejections) = self.read(|ledger| {
            Ok((
                ledger.digest(),
                ledger.applied(),
                ledger.pending_count() as u64,
                ledger.rejections().len() as u64,
            ))
        })?;
        Ok(StatusView {
            node: node.id(),
            name: member.name.clone(),
            role: role_name(member.role).to_owned(),
            digest,
            events_stored: node.store.event_count(),
            events_pending: pending,
            domain_rejections: rejections,
            feeds: self.feeds(&applied),
            replication: self.network().map(|n| n.replication()),
        })
    }

    pub(crate) fn verify_log(&self) -> Result<crate::request::VerifyView> {
        let store = &self.node().store;
        let report = store.verify(true, &mut |_| {})?;
        Ok(crate::request::VerifyView {
            feeds: report.feeds,
            events: report.events,
            signatures: report.signatures,
            forks: store
                .forks()
                .values()
                .map(|f| (f.fork.author, f.fork.seq, f.fork.first, f.fork.second))
                .collect(),
            resolved: store
                .forks()
                .values()
                .filter_map(|f| f.resolved.map(|(seq, id)| (f.fork.author, seq, id)))
                .collect(),
            damaged: store
                .damaged()
                .into_iter()
                .map(|(author, d)| (author, d.from_seq, d.held_until, d.reason))
                .collect(),
            broken: report.broken.map(|b| (b.author, b.seq, b.reason)),
        })
    }
}

/// `hub` or `observer`.
pub fn role_name(role: Role) -> &'static str {
    match role {
        Role::Hub => "hub",
        Role::Observer => "observer",
    }
}

/// The charter as a view.
pub fn charter_view(charter: &maillage_core::Charter) -> CharterView {
    CharterView {
        name: charter.name().to_owned(),
        federation_id: charter.federation_id().to_hex(),
        admission_threshold: charter.admission_threshold(),
        protocol_version: charter.protocol_version(),
        members: charter
            .members()
            .iter()
            .map(|(key, m)| MemberView {
                key: *key,
                name: m.name.clone(),
                role: role_name(m.role).to_owned(),
                territories: m.territories.iter().cloned().collect(),
                former_keys: Vec::new(),
                status: "present".into(),
            })
            .collect(),
        amendments_in_effect: 0,
        amendments: Vec::new(),
    }
}

/// A person's timeline across all hubs, then their referrals, vouchers and venues on `as_of`.
pub fn parcours_of(ledger: &Ledger, person: &PersonId, as_of: i32) -> ParcoursView {
    let charter = ledger.charter();
    let mut view = ParcoursView {
        person: *person,
        forgotten: false,
        as_of: format_date(as_of),
        timeline: Vec::new(),
        referrals: Vec::new(),
        held: Vec::new(),
        used: Vec::new(),
        expired: Vec::new(),
        cancelled: Vec::new(),
        venues: Vec::new(),
        venue_ids: Vec::new(),
        hubs: Vec::new(),
    };
    let Some(entries) = ledger.parcours(person) else {
        view.forgotten = true;
        return view;
    };
    // Redemptions answering a claim, by event.
    let mut claim_answers = BTreeSet::new();
    let mut venues: BTreeSet<String> = BTreeSet::new();
    for (serial, state) in ledger.person_vouchers(person) {
        if let Some(r) = &state.redemption
            && r.claim.is_some()
        {
            claim_answers.insert(r.event);
        }
        match voucher_status_on(ledger, &serial, &state, as_of) {
            VoucherStatusView::Redeemed => {
                if let Some(r) = &state.redemption {
                    venues.insert(r.venue_id.clone());
                }
                view.used.push(serial);
            }
            VoucherStatusView::Cancelled => view.cancelled.push(serial),
            VoucherStatusView::Expired => view.expired.push(serial),
            _ => view.held.push(serial),
        }
    }
    for r in ledger.person_referrals(person) {
        if !r.venue_id.is_empty() {
            venues.insert(r.venue_id.clone());
        }
        let status = referral_status(&r, as_of);
        if status == "open" || status == "expired" || status == "accepted" {
            view.referrals.push(ReferralInProgress {
                referral_id: r.referral_id.clone(),
                status,
                expires_on: r.expires_on.to_string(),
                handler: resolve::hub_name(charter, &r.handler),
            });
        }
    }
    for a in ledger.accompaniments(person) {
        venues.insert(a.venue_id.clone());
    }
    let hubs: BTreeSet<String> = entries
        .iter()
        .map(|e| resolve::hub_name(charter, &e.hub))
        .collect();
    view.timeline = entries
        .iter()
        .map(|e| ParcoursStep {
            at: hlc_datetime(e.hlc),
            hlc: e.hlc,
            hub: resolve::hub_name(charter, &e.hub),
            kind: crate::views::step_kind(e.kind, claim_answers.contains(&e.event)).to_owned(),
            summary: e.summary.clone(),
            event: e.event,
        })
        .collect();
    view.venues = venues
        .iter()
        .map(|v| resolve::venue_label(ledger, v))
        .collect();
    view.venue_ids = venues.into_iter().collect();
    view.hubs = hubs.into_iter().collect();
    view
}
