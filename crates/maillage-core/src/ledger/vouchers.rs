//! Voucher rules: batches, hand-outs, redemptions, transfers, cancellations, settlements.
//!
//! Only a voucher's owner changes it, and every check reads the voucher's state in the
//! event's causal past, so a voucher's valid events form one causal chain.

use maillage_proto::v1 as pb;

use super::effect::Effect;
use super::fields;
use super::model::{Batch, StepDetail, VoucherStatus};
use super::state::{Compact, NONE, Redeemed, VoucherKey};
use super::{BATCH_VOUCHERS_MAX, Ledger};
use crate::causal::Past;
use crate::date::Day;
use crate::envelope::VerifiedEvent;
use crate::ids::HubId;
use crate::rejection::{Field, Rejection};
use crate::vocab::Service;

impl Ledger {
    /// `VoucherBatchIssued`. Checks: the batch id is one of the author's départements, a
    /// dash, then letters, digits or dashes (at most 64 bytes) and not issued yet; `count` in
    /// 1..=[`BATCH_VOUCHERS_MAX`]; a face value; a funder's name and 14-digit SIRET; three
    /// days with `valid_from <= valid_until <= redeem_deadline`; v1 services; département
    /// codes.
    pub(super) fn check_issue(
        &self,
        b: &pb::VoucherBatchIssued,
        event: &VerifiedEvent,
        past: &Past<'_>,
    ) -> Result<Effect, Rejection> {
        let membership = self.membership_in(past);
        let territories = membership.territories(&event.author);
        let prefix_ok = b.batch_id.split_once('-').is_some_and(|(dep, rest)| {
            territories.is_some_and(|t| t.contains(dep)) && !rest.is_empty()
        });
        if !prefix_ok
            || !b
                .batch_id
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-')
            || b.batch_id.len() > 64
        {
            return Err(Rejection::BatchIdInvalid {
                found: b.batch_id.clone(),
                example: territories
                    .and_then(|t| t.iter().next())
                    .cloned()
                    .unwrap_or_default(),
            });
        }
        if self.s.batch_index.contains_key(&b.batch_id) {
            return Err(Rejection::BatchAlreadyIssued {
                batch: b.batch_id.clone(),
            });
        }
        if b.count == 0 || b.count > BATCH_VOUCHERS_MAX {
            return Err(Rejection::OutOfRange {
                field: Field::Count,
                expected: format!("1..={BATCH_VOUCHERS_MAX}"),
                found: u64::from(b.count),
            });
        }
        if b.face_value_cents == 0 {
            return Err(Rejection::OutOfRange {
                field: Field::FaceValue,
                expected: "more than 0 cents".into(),
                found: 0,
            });
        }
        let funder = b.funder.as_ref().ok_or(Rejection::Missing {
            field: Field::Funder,
        })?;
        if funder.name.trim().is_empty() {
            return Err(Rejection::Missing {
                field: Field::Funder,
            });
        }
        if !(funder.siret.len() == 14 && funder.siret.bytes().all(|c| c.is_ascii_digit())) {
            return Err(Rejection::BadValue {
                field: Field::Funder,
                expected: "a SIRET of 14 digits".into(),
                found: funder.siret.clone(),
            });
        }
        let valid_from = fields::day(Field::ValidFrom, &b.valid_from)?;
        let valid_until = fields::day(Field::ValidUntil, &b.valid_until)?;
        let redeem_deadline = fields::day(Field::RedeemDeadline, &b.redeem_deadline)?;
        if !(valid_from <= valid_until && valid_until <= redeem_deadline) {
            return Err(Rejection::BatchDatesOrder);
        }
        let eligible_services = fields::services(Field::Services, &b.eligible_services)?;
        if let Some(t) = b
            .territories
            .iter()
            .find(|t| !crate::territory::is_departement_code(t))
        {
            return Err(Rejection::BadValue {
                field: Field::Territories,
                expected: "département codes".into(),
                found: t.clone(),
            });
        }
        Ok(Effect::BatchIssued(Box::new(Batch {
            batch_id: b.batch_id.clone(),
            issuer: event.author,
            issued_at: crate::envelope::EventRef {
                author: event.author,
                seq: event.seq,
                id: event.id,
            },
            funder: funder.name.clone(),
            funder_siret: funder.siret.clone(),
            face_value_cents: b.face_value_cents,
            count: b.count,
            valid_from,
            valid_until,
            redeem_deadline,
            eligible_services,
            territories: b.territories.clone(),
        })))
    }

    /// The voucher a serial names, if its batch is in `past` and its number in the batch.
    pub(super) fn voucher_key(
        &self,
        serial: &str,
        past: &Past<'_>,
    ) -> Result<VoucherKey, Rejection> {
        let (batch_id, number) =
            serial
                .rsplit_once('-')
                .ok_or_else(|| Rejection::SerialInvalid {
                    serial: serial.to_owned(),
                    count: None,
                })?;
        let (index, info) = self
            .s
            .batch_index
            .get(batch_id)
            .map(|i| (*i, &self.s.batches[*i as usize]))
            .filter(|(_, b)| past.contains_at(b.at.feed, b.at.seq))
            .ok_or_else(|| Rejection::BatchUnknown {
                serial: serial.to_owned(),
            })?;
        let count = info.batch.count;
        let invalid = || Rejection::SerialInvalid {
            serial: serial.to_owned(),
            count: Some(count),
        };
        if number.is_empty()
            || number.starts_with('0')
            || !number.bytes().all(|c| c.is_ascii_digit())
        {
            return Err(invalid());
        }
        let n: u32 = number.parse().map_err(|_| invalid())?;
        if n == 0 || n > count {
            return Err(invalid());
        }
        Ok((index, n))
    }

    /// The public record of a batch the views hold.
    pub(super) fn batch(&self, key: VoucherKey) -> &Batch {
        &self.s.batches[key.0 as usize].batch
    }

    /// The latest state of a touched voucher in `past`, if any.
    fn state_in(&self, key: VoucherKey, past: &Past<'_>) -> Option<&Compact> {
        let mut at = self.s.vouchers.get(&key).copied().unwrap_or(NONE);
        while at != NONE {
            let rec = &self.s.voucher_log[at];
            if past.contains_at(rec.feed, rec.seq) {
                return Some(&rec.state);
            }
            at = rec.prev;
        }
        None
    }

    /// The feed position (member index, seq) of the event that made a redemption: that of
    /// the state it made. Its id is the causal index's there (lent out while an event is
    /// applied: the rules ask the event's past).
    pub(super) fn redemption_at(&self, r: &Redeemed) -> Option<(u32, u64)> {
        let rec = self.s.voucher_log.get(r.rec)?;
        Some((rec.feed, rec.seq))
    }

    /// The voucher's state in `past` (as issued if untouched there).
    pub(super) fn voucher_as_of(
        &self,
        serial: &str,
        past: &Past<'_>,
    ) -> Result<(VoucherKey, Compact), Rejection> {
        let key = self.voucher_key(serial, past)?;
        let state = self
            .state_in(key, past)
            .cloned()
            .unwrap_or_else(|| Compact::issued(self.s.batches[key.0 as usize].issuer));
        Ok((key, state))
    }

    /// The state of a voucher the author owns in `past`.
    pub(super) fn owned(
        &self,
        serial: &str,
        past: &Past<'_>,
    ) -> Result<(VoucherKey, Compact), Rejection> {
        let (key, state) = self.voucher_as_of(serial, past)?;
        let owner = self.members.hub(state.owner);
        if !self
            .membership_in(past)
            .same_member(&owner, &self.members.hub(past.feed()))
        {
            return Err(Rejection::NotOwner {
                serial: serial.to_owned(),
                owner: self.members.hub(state.owner),
            });
        }
        Ok((key, state))
    }

    /// The new states of every serial the author owns in `past`, all or nothing: the first
    /// serial that is not owned or that `change` refuses rejects the whole event.
    fn change_owned(
        &self,
        serials: &[String],
        past: &Past<'_>,
        mut change: impl FnMut(&str, VoucherKey, &mut Compact) -> Result<(), Rejection>,
    ) -> Result<Vec<(VoucherKey, Compact)>, Rejection> {
        fields::serials(serials)?;
        let mut updates = Vec::with_capacity(serials.len());
        for serial in serials {
            let (key, mut state) = self.owned(serial, past)?;
            change(serial, key, &mut state)?;
            updates.push((key, state));
        }
        Ok(updates)
    }

    /// `VouchersHandedOut`. Checks: a commitment to a personal part; a prescriber; a day; 1 to 1,000 distinct
    /// serials, each owned by the author in the event's causal past, issued (not yet handed
    /// out) and not expired on that day.
    pub(super) fn check_hand_out(
        &self,
        h: &pb::VouchersHandedOut,
        past: &Past<'_>,
    ) -> Result<Effect, Rejection> {
        let personal = fields::commitment(&h.personal)?;
        let (prescriber_kind, prescriber_name) = fields::prescriber(h.prescriber.as_ref())?;
        let date = fields::day(Field::Date, &h.date)?;
        let vouchers = self.change_owned(&h.serials, past, |serial, key, state| {
            if state.status != VoucherStatus::Issued {
                return Err(Rejection::NotIssued {
                    serial: serial.to_owned(),
                    status: state.status.as_str().to_owned(),
                });
            }
            let until = self.batch(key).valid_until;
            if date > until {
                return Err(Rejection::VoucherExpired {
                    serial: serial.to_owned(),
                    until: until.to_string(),
                });
            }
            state.status = VoucherStatus::HandedOut;
            state.handed_out = true;
            Ok(())
        })?;
        Ok(Effect::HandedOut {
            personal,
            vouchers,
            detail: StepDetail::HandedOut {
                serials: h.serials.clone(),
                prescriber_kind,
                prescriber_name,
            },
        })
    }

    /// `VoucherRedeemed`. Checks: the voucher is owned by the author in the event's causal
    /// past and handed out (not yet redeemed); a day; the use fits the batch
    /// ([`Ledger::check_use`]) and the venue ([`Ledger::check_venue_for`]); the venue's
    /// département is one of the batch's territories (if it names any); an answered claim is
    /// in the past, for this voucher, not answered yet, and the redemption repeats its venue,
    /// service and date.
    pub(super) fn check_redeem(
        &self,
        r: &pb::VoucherRedeemed,
        past: &Past<'_>,
    ) -> Result<Effect, Rejection> {
        let (key, mut state) = self.owned(&r.serial, past)?;
        match state.status {
            VoucherStatus::HandedOut => {}
            VoucherStatus::Redeemed => {
                return Err(Rejection::AlreadyRedeemed {
                    serial: r.serial.clone(),
                    by: state
                        .redemption
                        .and_then(|r| self.redemption_at(&r))
                        .and_then(|(feed, seq)| past.applied_id(feed, seq)),
                });
            }
            other => {
                return Err(Rejection::NotHandedOut {
                    serial: r.serial.clone(),
                    status: other.as_str().to_owned(),
                });
            }
        }
        let date = fields::day(Field::Date, &r.date)?;
        let service = fields::service(Field::Service, &r.service)?;
        let batch = self.batch(key);
        self.check_use(batch, &r.serial, service, date)?;
        let departement = self.check_venue_for(&r.venue_id, service, date, past)?;
        if !batch.territories.is_empty() && !batch.territories.contains(&departement) {
            return Err(Rejection::VoucherTerritory {
                serial: r.serial.clone(),
                allowed: batch.territories.join(","),
                departement,
            });
        }
        let claim = match &r.claim {
            None => None,
            Some(wire) => {
                let claim_ref = fields::event_ref(Field::Claim, Some(wire))?;
                let claim = self.claim_in_past(&claim_ref, &r.serial, &state, past)?;
                if claim.venue_id != r.venue_id || claim.service != service || claim.date != date {
                    return Err(Rejection::ClaimTermsDiffer {
                        claim: claim_ref.id,
                    });
                }
                let more = state.more();
                more.answered_claims.insert(claim_ref.id);
                more.redeemed_claim = Some(claim_ref.id);
                Some(claim_ref.id)
            }
        };
        state.status = VoucherStatus::Redeemed;
        state.redemption = Some(Redeemed {
            venue: NONE,
            service,
            date,
            rec: NONE,
        });
        Ok(Effect::Redeemed {
            key,
            state,
            venue_id: r.venue_id.clone(),
            service,
            date,
            claim,
            departement,
            detail: StepDetail::Redeemed {
                serial: r.serial.clone(),
                venue_id: r.venue_id.clone(),
                service,
                date,
            },
        })
    }

    /// Whether a voucher of `batch` may be used for `service` on `date`: a service the batch
    /// allows (if it names any), on or after its first valid day, on or before its redeem
    /// deadline.
    pub(super) fn check_use(
        &self,
        batch: &Batch,
        serial: &str,
        service: Service,
        date: Day,
    ) -> Result<(), Rejection> {
        #[cfg(test)]
        let any_service = crate::switches::ANY_SERVICE.get();
        #[cfg(not(test))]
        let any_service = false;
        if !any_service
            && !batch.eligible_services.is_empty()
            && !batch.eligible_services.contains(&service)
        {
            return Err(Rejection::ServiceNotEligible {
                serial: serial.to_owned(),
                service: service.as_str().to_owned(),
            });
        }
        if date < batch.valid_from {
            return Err(Rejection::NotYetValid {
                serial: serial.to_owned(),
                from: batch.valid_from.to_string(),
            });
        }
        if date > batch.redeem_deadline {
            return Err(Rejection::DeadlinePassed {
                serial: serial.to_owned(),
                deadline: batch.redeem_deadline.to_string(),
                date: date.to_string(),
            });
        }
        Ok(())
    }

    /// `VoucherTransferred`. Checks: `to_hub` is another hub of the federation; 1 to 1,000
    /// distinct serials, each owned by the author in the event's causal past and neither
    /// redeemed nor cancelled.
    pub(super) fn check_transfer(
        &self,
        t: &pb::VoucherTransferred,
        event: &VerifiedEvent,
        past: &Past<'_>,
    ) -> Result<Effect, Rejection> {
        let to = HubId::try_from(t.to_hub.as_slice()).map_err(|e| Rejection::BadHub {
            field: Field::ToHub,
            error: e.to_string(),
        })?;
        let membership = self.membership_in(past);
        let receiver = match self.members.index(&to) {
            Some(index)
                if membership.is_current_hub(&to)
                    && !membership.same_member(&to, &event.author) =>
            {
                index
            }
            _ => return Err(Rejection::TransferTarget { to }),
        };
        let vouchers = self.change_owned(&t.serials, past, |serial, _, state| {
            if matches!(
                state.status,
                VoucherStatus::Redeemed | VoucherStatus::Cancelled
            ) {
                return Err(Rejection::NotTransferable {
                    serial: serial.to_owned(),
                    status: state.status.as_str().to_owned(),
                });
            }
            state.owner = receiver;
            state.more().transfers.push(to);
            Ok(())
        })?;
        Ok(Effect::Transferred { to, vouchers })
    }

    /// `VoucherCancelled`. Checks: a reason; 1 to 1,000 distinct serials, each owned by the
    /// author in the event's causal past and neither redeemed nor cancelled.
    pub(super) fn check_cancel(
        &self,
        c: &pb::VoucherCancelled,
        past: &Past<'_>,
    ) -> Result<Effect, Rejection> {
        fields::reason(Field::Reason, &c.reason)?;
        let vouchers = self.change_owned(&c.serials, past, |serial, _, state| {
            if matches!(
                state.status,
                VoucherStatus::Redeemed | VoucherStatus::Cancelled
            ) {
                return Err(Rejection::NotCancellable {
                    serial: serial.to_owned(),
                    status: state.status.as_str().to_owned(),
                });
            }
            state.status = VoucherStatus::Cancelled;
            Ok(())
        })?;
        Ok(Effect::Cancelled { vouchers })
    }

    /// `RedemptionsSettled`. Checks: 1 to 1,000 distinct serials, each of a batch the author
    /// issued, redeemed at the named venue in the event's causal past and not settled yet;
    /// the amount is the sum of their face values. A settlement does not change the voucher's
    /// state (its owner may be another hub, changing it concurrently): it is kept apart.
    pub(super) fn check_settle(
        &self,
        s: &pb::RedemptionsSettled,
        event: &VerifiedEvent,
        past: &Past<'_>,
    ) -> Result<Effect, Rejection> {
        fields::serials(&s.serials)?;
        let mut total = 0u64;
        let mut vouchers = Vec::with_capacity(s.serials.len());
        for serial in &s.serials {
            let (key, state) = self.voucher_as_of(serial, past)?;
            let batch = self.batch(key);
            if !self
                .membership_in(past)
                .same_member(&batch.issuer, &event.author)
            {
                return Err(Rejection::NotIssuer {
                    serial: serial.clone(),
                    issuer: batch.issuer,
                });
            }
            total = total.saturating_add(batch.face_value_cents);
            match &state.redemption {
                Some(r) if self.s.names.get(r.venue) == s.venue_id => {}
                Some(r) => {
                    return Err(Rejection::OtherVenue {
                        serial: serial.clone(),
                        redeemed_at: self.s.names.get(r.venue).to_owned(),
                        venue: s.venue_id.clone(),
                    });
                }
                None => {
                    return Err(Rejection::NotRedeemed {
                        serial: serial.clone(),
                    });
                }
            }
            if self
                .s
                .settled
                .get(&key)
                .is_some_and(|at| past.contains_at(at.feed, at.seq))
            {
                return Err(Rejection::AlreadySettled {
                    serial: serial.clone(),
                });
            }
            vouchers.push(key);
        }
        if total != s.amount_cents {
            return Err(Rejection::AmountMismatch {
                expected: total,
                found: s.amount_cents,
            });
        }
        Ok(Effect::Settled {
            venue_id: s.venue_id.clone(),
            total,
            vouchers,
        })
    }
}
