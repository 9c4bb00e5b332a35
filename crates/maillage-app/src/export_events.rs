//! What the analysts' files read from the events themselves rather than from the views: one
//! row per event the views applied (`events.csv`, for monthly series), the day each voucher
//! was handed out, the day each venue closed.
//!
//! Only events the views folded and accepted count: an event held but not yet applied (its
//! causal past is missing) or rejected by the rules is left out, so the rows agree with the
//! other files written from the same views. No row carries a person code.

use std::collections::BTreeMap;

use maillage_core::date::format_date;
use maillage_core::hlc::hlc_millis;
use maillage_core::{HubId, Ledger, VerifiedEvent, pb};

use crate::error::Result;
use crate::node::Node;

/// Columns of `events.csv`.
pub const EVENT_COLUMNS: [&str; 13] = [
    "signed_on",
    "hlc",
    "hub",
    "hub_key",
    "seq",
    "event_id",
    "kind",
    "event_date",
    "venue_id",
    "batch",
    "serial",
    "vouchers",
    "referral_id",
];

/// One applied event, as `events.csv` writes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventRow {
    /// Its author's clock.
    pub hlc: u64,
    /// Its author.
    pub author: HubId,
    /// Its position in the author's feed.
    pub seq: u64,
    /// Its id, in hex.
    pub event_id: String,
    /// The body's kind, snake_case as in the protocol.
    pub kind: &'static str,
    /// The day the body states (hand-out, redemption, opening…), if it states one.
    pub event_date: String,
    /// The venue it names.
    pub venue_id: String,
    /// The batch it names (or of the vouchers it names).
    pub batch: String,
    /// The one voucher it names.
    pub serial: String,
    /// How many vouchers it names (0: none).
    pub vouchers: usize,
    /// The referral it names.
    pub referral_id: String,
}

/// What the events tell beyond the views.
#[derive(Debug, Clone, Default)]
pub struct EventFacts {
    /// Every applied event, by clock, then author, then position.
    pub rows: Vec<EventRow>,
    /// The day each voucher was handed out, by serial.
    pub handed_out_on: BTreeMap<String, String>,
    /// The day (UTC, by its author's clock) each venue closed, by venue id.
    pub closed_on: BTreeMap<String, String>,
}

/// The UTC day of an HLC value.
pub fn hlc_day(hlc: u64) -> String {
    format_date((hlc_millis(hlc) / 86_400_000) as i32)
}

/// The batch of a serial (`BATCH-N`).
fn batch_of(serial: &str) -> &str {
    serial.rsplit_once('-').map_or(serial, |(batch, _)| batch)
}

/// Reads the events of `node`'s store that `ledger` applied and accepted.
pub fn collect(node: &Node, ledger: &Ledger) -> Result<EventFacts> {
    let mut facts = EventFacts::default();
    node.for_each_event(|event| {
        let applied = ledger.applied_id(&event.author, event.seq) == Some(event.id);
        if !applied || ledger.rejections().contains_key(&event.id) {
            return Ok(());
        }
        match &event.body {
            Some(pb::event::Body::VouchersHandedOut(h)) => {
                for serial in &h.serials {
                    facts.handed_out_on.insert(serial.clone(), h.date.clone());
                }
            }
            // The day the closing event gives, else the day it was signed; a reopening
            // forgets it.
            Some(pb::event::Body::VenueClosed(c)) => {
                let day = if c.date.is_empty() {
                    hlc_day(event.hlc)
                } else {
                    c.date.clone()
                };
                facts.closed_on.insert(c.venue_id.clone(), day);
            }
            Some(pb::event::Body::VenueReopened(r)) => {
                facts.closed_on.remove(&r.venue_id);
            }
            _ => {}
        }
        facts.rows.push(row_of(event));
        Ok(())
    })?;
    facts.rows.sort_by_key(|a| (a.hlc, a.author, a.seq));
    Ok(facts)
}

fn row_of(event: &VerifiedEvent) -> EventRow {
    use pb::event::Body as B;
    let mut row = EventRow {
        hlc: event.hlc,
        author: event.author,
        seq: event.seq,
        event_id: event.id.to_hex(),
        kind: "unknown",
        event_date: String::new(),
        venue_id: String::new(),
        batch: String::new(),
        serial: String::new(),
        vouchers: 0,
        referral_id: String::new(),
    };
    let serials = |row: &mut EventRow, serials: &[String]| {
        row.vouchers = serials.len();
        if let [one] = serials {
            row.serial = one.clone();
        }
        let mut batches: Vec<&str> = serials.iter().map(|s| batch_of(s)).collect();
        batches.dedup();
        row.batch = batches.join("|");
    };
    let Some(body) = &event.body else {
        return row;
    };
    row.kind = match body {
        B::VenueRegistered(v) => {
            row.venue_id = v.venue_id.clone();
            "venue_registered"
        }
        B::VenueUpdated(v) => {
            row.venue_id = v.venue_id.clone();
            "venue_updated"
        }
        B::VenueClosed(v) => {
            row.venue_id = v.venue_id.clone();
            row.event_date = v.date.clone();
            "venue_closed"
        }
        B::VenueReopened(v) => {
            row.venue_id = v.venue_id.clone();
            "venue_reopened"
        }
        B::VenueQualified(v) => {
            row.venue_id = v.venue_id.clone();
            "venue_qualified"
        }
        B::VenueQualificationRevoked(v) => {
            row.venue_id = v.venue_id.clone();
            "venue_qualification_revoked"
        }
        B::VoucherBatchIssued(b) => {
            row.batch = b.batch_id.clone();
            row.vouchers = b.count as usize;
            row.event_date = b.valid_from.clone();
            "voucher_batch_issued"
        }
        B::VouchersHandedOut(h) => {
            serials(&mut row, &h.serials);
            row.referral_id = h.referral_id.clone();
            row.event_date = h.date.clone();
            "vouchers_handed_out"
        }
        B::VoucherRedeemed(r) => {
            serials(&mut row, std::slice::from_ref(&r.serial));
            row.venue_id = r.venue_id.clone();
            row.event_date = r.date.clone();
            "voucher_redeemed"
        }
        B::VoucherTransferred(t) => {
            serials(&mut row, &t.serials);
            "voucher_transferred"
        }
        B::VoucherClaimed(c) => {
            serials(&mut row, std::slice::from_ref(&c.serial));
            row.venue_id = c.venue_id.clone();
            row.event_date = c.date.clone();
            "voucher_claimed"
        }
        B::VoucherClaimRejected(_) => "voucher_claim_rejected",
        B::VoucherCancelled(c) => {
            serials(&mut row, &c.serials);
            "voucher_cancelled"
        }
        B::RedemptionsSettled(s) => {
            serials(&mut row, &s.serials);
            row.venue_id = s.venue_id.clone();
            "redemptions_settled"
        }
        B::ReferralOpened(r) => {
            row.referral_id = r.referral_id.clone();
            row.venue_id = r.target_venue_id.clone();
            row.event_date = r.opened_on.clone();
            "referral_opened"
        }
        B::ReferralAccepted(r) => {
            row.referral_id = r.referral_id.clone();
            row.venue_id = r.venue_id.clone();
            row.event_date = r.date.clone();
            "referral_accepted"
        }
        B::ReferralDeclined(r) => {
            row.referral_id = r.referral_id.clone();
            "referral_declined"
        }
        B::ReferralForwarded(r) => {
            row.referral_id = r.referral_id.clone();
            row.venue_id = r.to_venue_id.clone();
            "referral_forwarded"
        }
        B::ReferralClosed(r) => {
            row.referral_id = r.referral_id.clone();
            "referral_closed"
        }
        B::AccompanimentRecorded(a) => {
            serials(&mut row, &a.vouchers);
            row.venue_id = a.venue_id.clone();
            row.referral_id = a.referral_id.clone();
            row.event_date = a.date.clone();
            "accompaniment_recorded"
        }
        B::PersonForgotten(_) => "person_forgotten",
        B::AmendmentProposed(_) => "amendment_proposed",
        B::AmendmentEndorsed(_) => "amendment_endorsed",
    };
    row
}
