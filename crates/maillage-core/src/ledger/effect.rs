//! What an accepted event does to the views, as typed values: the result of the rules' pure
//! checks, then made by [`Ledger::commit`]. Its canonical bytes ([`Ledger::encode`]) are what
//! the digest commits to (docs/protocol.md §5).

use super::Ledger;
use super::digest::{Canonical, View};
use super::model::{Accompaniment, Batch, Claim, Qualification, Referral, StepDetail};
use super::state::{BatchInfo, Compact, NONE, Pos, VoucherKey, VoucherRec};
use crate::causal::Past;
use crate::date::Day;
use crate::envelope::VerifiedEvent;
use crate::ids::{EventId, HubId};
use crate::venues::VenueChange;
use crate::vocab::Service;

/// What an accepted event changes.
#[derive(Debug, Clone)]
pub(super) enum Effect {
    /// A body kind of a later version: stored and forwarded, not applied.
    Unknown,
    /// A venue registered, updated or closed.
    Venue(VenueChange),
    /// A venue qualified.
    Qualified {
        venue_id: String,
        qualification: Qualification,
    },
    /// A qualification revoked.
    Revoked { venue_id: String },
    /// A batch issued.
    BatchIssued(Box<Batch>),
    /// Vouchers handed to a person (`state.person` is set to the person when made, if this
    /// node holds the part).
    HandedOut {
        personal: [u8; 32],
        vouchers: Vec<(VoucherKey, Compact)>,
        detail: StepDetail,
    },
    /// A voucher redeemed (`state.redemption`'s venue and place in the log are set when made).
    Redeemed {
        key: VoucherKey,
        state: Compact,
        venue_id: String,
        service: Service,
        date: Day,
        claim: Option<EventId>,
        /// The venue's département.
        departement: String,
        detail: StepDetail,
    },
    /// Vouchers transferred to another hub.
    Transferred {
        to: HubId,
        vouchers: Vec<(VoucherKey, Compact)>,
    },
    /// Vouchers cancelled.
    Cancelled {
        vouchers: Vec<(VoucherKey, Compact)>,
    },
    /// Redeemed vouchers paid to a venue.
    Settled {
        venue_id: String,
        total: u64,
        vouchers: Vec<VoucherKey>,
    },
    /// A claim recorded; `person` is the voucher's holder (index) if any.
    Claimed {
        claim: Box<Claim>,
        person: u32,
        detail: StepDetail,
    },
    /// A claim rejected by the voucher's owner.
    ClaimRejected {
        key: VoucherKey,
        state: Compact,
        claim: EventId,
        reason: String,
    },
    /// A referral opened.
    ReferralOpened {
        referral: Box<Referral>,
        detail: StepDetail,
    },
    /// A referral moved on (accepted, declined, forwarded, closed).
    ReferralStep {
        referral: Box<Referral>,
        detail: StepDetail,
    },
    /// An accompaniment recorded.
    Accompanied {
        personal: [u8; 32],
        record: Box<Accompaniment>,
        detail: StepDetail,
    },
    /// A person forgotten: the personal parts of these events, and everything linked to the
    /// person they name, are erased.
    Forgotten { events: Vec<EventId> },
    /// A charter amendment proposed.
    Proposed(Box<super::amendments::Proposal>),
    /// A proposal endorsed (in a round of votes on its number).
    Endorsed {
        proposal: EventId,
        number: u32,
        endorser: HubId,
        at: Pos,
        round: u32,
    },
}

impl Effect {
    /// The view whose chain it extends.
    pub(super) fn view(&self) -> View {
        match self {
            Self::Unknown | Self::Venue(_) => View::Venues,
            Self::Qualified { .. } | Self::Revoked { .. } => View::Qualifications,
            Self::BatchIssued(_) => View::Batches,
            Self::HandedOut { .. }
            | Self::Redeemed { .. }
            | Self::Transferred { .. }
            | Self::Cancelled { .. } => View::Vouchers,
            Self::Settled { .. } => View::Settlements,
            Self::Claimed { .. } | Self::ClaimRejected { .. } => View::Claims,
            Self::ReferralOpened { .. } | Self::ReferralStep { .. } => View::Referrals,
            Self::Accompanied { .. } | Self::Forgotten { .. } => View::People,
            Self::Proposed(_) | Self::Endorsed { .. } => View::Membership,
        }
    }
}

impl Ledger {
    /// A voucher's serial parts: its batch id and number.
    fn serial_parts(&self, key: VoucherKey) -> (&str, u32) {
        (&self.s.batches[key.0 as usize].batch.batch_id, key.1)
    }

    fn encode_serials<'a>(
        &self,
        out: &mut Canonical,
        keys: impl ExactSizeIterator<Item = &'a VoucherKey>,
    ) {
        out.u32(keys.len() as u32);
        for key in keys {
            let (batch, number) = self.serial_parts(*key);
            out.str(batch).u32(number);
        }
    }

    /// The canonical bytes of an effect (docs/protocol.md §5).
    pub(super) fn encode(&self, effect: &Effect) -> Canonical {
        match effect {
            Effect::Unknown => Canonical::new(0),
            Effect::Venue(change) => {
                let mut out;
                match change {
                    VenueChange::Registered(venue) => {
                        out = Canonical::new(1);
                        out.str(&venue.venue_id).str(&venue.departement);
                    }
                    VenueChange::Updated {
                        venue_id,
                        departement,
                        ..
                    } => {
                        out = Canonical::new(2);
                        out.str(venue_id).str(departement);
                    }
                    VenueChange::Closed { venue_id, date, .. } => {
                        out = Canonical::new(3);
                        out.str(venue_id).opt(date.as_ref(), |o, d| {
                            o.day(*d);
                        });
                    }
                    VenueChange::Reopened { venue_id, .. } => {
                        out = Canonical::new(20);
                        out.str(venue_id);
                    }
                }
                out
            }
            Effect::Qualified {
                venue_id,
                qualification: q,
            } => {
                let mut out = Canonical::new(4);
                out.str(venue_id)
                    .str(&q.scheme)
                    .day(q.valid_until)
                    .list(&q.services, |o, s| {
                        o.u8(s.tag());
                    });
                out
            }
            Effect::Revoked { venue_id } => {
                let mut out = Canonical::new(5);
                out.str(venue_id);
                out
            }
            Effect::BatchIssued(b) => {
                let mut out = Canonical::new(6);
                out.str(&b.batch_id)
                    .hub(&b.issuer)
                    .str(&b.funder)
                    .str(&b.funder_siret)
                    .u64(b.face_value_cents)
                    .u32(b.count)
                    .day(b.valid_from)
                    .day(b.valid_until)
                    .day(b.redeem_deadline)
                    .list(&b.eligible_services, |o, s| {
                        o.u8(s.tag());
                    })
                    .list(&b.territories, |o, t| {
                        o.str(t);
                    });
                out
            }
            Effect::HandedOut {
                personal, vouchers, ..
            } => {
                let mut out = Canonical::new(7);
                out.commitment(personal);
                self.encode_serials(&mut out, vouchers.iter().map(|(k, _)| k));
                out
            }
            Effect::Redeemed {
                key,
                venue_id,
                service,
                date,
                claim,
                departement,
                ..
            } => {
                let mut out = Canonical::new(8);
                let (batch, number) = self.serial_parts(*key);
                out.str(batch)
                    .u32(number)
                    .str(venue_id)
                    .u8(service.tag())
                    .day(*date);
                out.opt(claim.as_ref(), |o, c| {
                    o.id(c);
                })
                .str(departement);
                out
            }
            Effect::Transferred { to, vouchers } => {
                let mut out = Canonical::new(9);
                out.hub(to);
                self.encode_serials(&mut out, vouchers.iter().map(|(k, _)| k));
                out
            }
            Effect::Cancelled { vouchers } => {
                let mut out = Canonical::new(10);
                self.encode_serials(&mut out, vouchers.iter().map(|(k, _)| k));
                out
            }
            Effect::Settled {
                venue_id,
                total,
                vouchers,
            } => {
                let mut out = Canonical::new(11);
                out.str(venue_id).u64(*total);
                self.encode_serials(&mut out, vouchers.iter());
                out
            }
            Effect::Claimed { claim, .. } => {
                let mut out = Canonical::new(12);
                out.str(&claim.serial)
                    .str(&claim.venue_id)
                    .u8(claim.service.tag())
                    .day(claim.date);
                out
            }
            Effect::ClaimRejected {
                key, claim, reason, ..
            } => {
                let mut out = Canonical::new(13);
                let (batch, number) = self.serial_parts(*key);
                out.id(claim).str(batch).u32(number).str(reason);
                out
            }
            Effect::ReferralOpened { referral: r, .. } => {
                let mut out = Canonical::new(14);
                out.str(&r.referral_id)
                    .commitment(&r.personal)
                    .u8(r.prescriber_kind.tag())
                    .str(&r.prescriber_name)
                    .hub(&r.handler)
                    .list(&r.needs, |o, s| {
                        o.u8(s.tag());
                    })
                    .str(&r.target_venue_id)
                    .str(&r.target_territory)
                    .day(r.opened_on)
                    .day(r.expires_on);
                out
            }
            Effect::ReferralStep { referral: r, .. } => {
                let mut out = Canonical::new(15);
                out.str(&r.referral_id)
                    .u8(r.status.tag())
                    .hub(&r.handler)
                    .str(&r.target_venue_id)
                    .str(&r.target_territory)
                    .str(&r.venue_id)
                    .opt(r.accepted_on, |o, d| {
                        o.day(d);
                    })
                    .opt(r.autonomy, |o, a| {
                        o.u8(a.tag());
                    });
                out
            }
            Effect::Accompanied {
                personal, record, ..
            } => {
                let mut out = Canonical::new(16);
                out.commitment(personal)
                    .str(&record.venue_id)
                    .str(&record.referral_id)
                    .list(&record.services, |o, s| {
                        o.u8(s.tag());
                    })
                    .day(record.date)
                    .u32(record.duration_min)
                    .u8(record.mode.tag());
                out
            }
            Effect::Forgotten { events } => {
                let mut out = Canonical::new(17);
                out.list(events, |o, id| {
                    o.id(id);
                });
                out
            }
            Effect::Proposed(p) => {
                let mut out = Canonical::new(18);
                out.u32(p.number).list(&p.base, |o, id| {
                    o.id(id);
                });
                super::amendments::encode_change(&mut out, &p.change);
                out
            }
            Effect::Endorsed {
                proposal, number, ..
            } => {
                let mut out = Canonical::new(19);
                out.id(proposal).u32(*number);
                out
            }
        }
    }

    /// Makes what an accepted event does.
    pub(super) fn commit(&mut self, effect: Effect, event: &VerifiedEvent, past: &Past<'_>) {
        let at = Pos::of(event, past);
        match effect {
            Effect::Unknown => {}
            Effect::Venue(change) => {
                let venue_id = change.venue_id().to_owned();
                self.s.venues.commit(change);
                self.snapshot_venue(&venue_id, at, |_| {});
            }
            Effect::Qualified {
                venue_id,
                qualification,
            } => self.snapshot_venue(&venue_id, at, |s| s.qualification = Some(qualification)),
            Effect::Revoked { venue_id } => {
                self.snapshot_venue(&venue_id, at, |s| s.qualification = None);
            }
            Effect::BatchIssued(batch) => {
                let index = self.s.batches.len() as u32;
                self.s.batch_index.insert(batch.batch_id.clone(), index);
                self.s.batches.push(BatchInfo {
                    batch: *batch,
                    issuer: past.feed(),
                    at,
                });
            }
            Effect::HandedOut {
                vouchers, detail, ..
            } => {
                let holder = self.link_person(event);
                for (key, mut state) in vouchers {
                    state.person = holder;
                    self.record_voucher(key, at, state);
                }
                self.trace(holder, event, past, detail);
            }
            Effect::Redeemed {
                key,
                mut state,
                venue_id,
                claim,
                detail,
                ..
            } => {
                let venue = self.s.names.number(&venue_id);
                if let Some(redemption) = state.redemption.as_mut() {
                    redemption.venue = venue;
                    // `record_voucher` puts the state there.
                    redemption.rec = self.s.voucher_log.len();
                }
                let person = state.person;
                self.record_voucher(key, at, state);
                if let Some(claim) = claim.and_then(|c| self.s.claims.get_mut(&c)) {
                    claim.accepted = Some(true);
                    self.s.unanswered_claims.remove(&claim.event);
                }
                self.trace(person, event, past, detail);
            }
            Effect::Transferred { vouchers, .. } | Effect::Cancelled { vouchers } => {
                for (key, state) in vouchers {
                    self.record_voucher(key, at, state);
                }
            }
            Effect::Settled {
                venue_id,
                total,
                vouchers,
            } => {
                for key in vouchers {
                    self.s.settled.insert(key, at);
                }
                *self
                    .s
                    .settlements
                    .entry((event.author, venue_id))
                    .or_insert(0) += total;
            }
            Effect::Claimed {
                claim,
                person,
                detail,
            } => {
                self.s
                    .claims_by_serial
                    .entry(claim.serial.clone())
                    .or_default()
                    .insert(claim.event);
                if claim.accepted.is_none() {
                    self.s.unanswered_claims.insert(claim.event);
                }
                self.s.claims.insert(claim.event, *claim);
                self.trace(person, event, past, detail);
            }
            Effect::ClaimRejected {
                key,
                state,
                claim,
                reason,
            } => {
                self.record_voucher(key, at, state);
                if let Some(claim) = self.s.claims.get_mut(&claim) {
                    claim.accepted = Some(false);
                    claim.rejection = Some(reason);
                    self.s.unanswered_claims.remove(&claim.event);
                }
            }
            Effect::ReferralOpened { referral, detail } => {
                let index = self.link_person(event);
                let id = referral.referral_id.clone();
                let rec = self.keep_opened(&referral, at, index);
                self.s.referrals.insert(id.clone(), rec);
                self.trace(index, event, past, detail);
                if index != NONE {
                    self.s.links.open(&id, index);
                }
            }
            Effect::ReferralStep { referral, detail } => {
                let moved = self.keep_moved(&referral);
                // The referral is in the past, so it has a record; records grow one step at a
                // time (a referral has a few steps).
                let mut person = NONE;
                if let Some(rec) = self.s.referrals.get_mut(&referral.referral_id) {
                    person = rec.opened.person;
                    rec.steps.reserve_exact(1);
                    rec.steps.push((at, moved));
                }
                self.trace(person, event, past, detail);
            }
            Effect::Accompanied { record, detail, .. } => {
                let index = self.link_person(event);
                if index != NONE {
                    self.s.people[index].accompaniment = Some(record);
                }
                self.trace(index, event, past, detail);
            }
            Effect::Proposed(proposal) => self.commit_proposal(*proposal),
            Effect::Endorsed {
                proposal,
                number,
                endorser,
                at,
                round,
            } => self.commit_endorsement(proposal, number, endorser, at, round),
            Effect::Forgotten { events } => self.forget(&events),
        }
    }

    /// Appends a voucher's new state to the log.
    fn record_voucher(&mut self, key: VoucherKey, at: Pos, state: Compact) {
        let index = self.s.voucher_log.len();
        let prev = self.s.vouchers.insert(key, index).unwrap_or(NONE);
        let before = self.s.person_before(prev);
        self.s.links.hold(key, state.person, before);
        self.s.voucher_log.push(VoucherRec {
            seq: at.seq,
            feed: at.feed,
            prev,
            batch: key.0,
            number: key.1,
            state,
        });
    }
}
