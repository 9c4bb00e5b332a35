//! Claims: a hub that cannot reach a voucher's owner records the redemption its venue accepted
//! as a claim; the owner answers it, by the redemption it asks for (see
//! [`Ledger::check_redeem`]) or by a rejection with a reason.

use maillage_proto::v1 as pb;

use super::Ledger;
use super::effect::Effect;
use super::fields;
use super::model::{Claim, StepDetail};
use super::state::Compact;
use crate::causal::Past;
use crate::envelope::{EventRef, VerifiedEvent};
use crate::rejection::{Field, Rejection};

impl Ledger {
    /// A claim named by an answer: in the answer's causal past, a valid claim on `serial`, not
    /// answered in the voucher's state `state`.
    pub(super) fn claim_in_past(
        &self,
        claim_ref: &EventRef,
        serial: &str,
        state: &Compact,
        past: &Past<'_>,
    ) -> Result<&Claim, Rejection> {
        if !past.contains_ref(claim_ref) {
            return Err(Rejection::ClaimNotInPast {
                claim: claim_ref.id,
            });
        }
        let claim = self
            .s
            .claims
            .get(&claim_ref.id)
            .filter(|c| c.at == *claim_ref)
            .ok_or(Rejection::ClaimUnknown {
                claim: claim_ref.id,
            })?;
        if claim.serial != serial {
            return Err(Rejection::ClaimOtherVoucher {
                claim: claim_ref.id,
                claimed: claim.serial.clone(),
                serial: serial.to_owned(),
            });
        }
        if state.answered(&claim_ref.id) {
            return Err(Rejection::ClaimAnswered {
                claim: claim_ref.id,
            });
        }
        Ok(claim)
    }

    /// `VoucherClaimed`. Checks: the voucher exists in the event's causal past and is not the
    /// author's (the owner redeems, it does not claim); a day and a v1 service; the venue is
    /// held by the author and open; the use fits the batch and the venue. Whether the voucher
    /// is still redeemable is the owner's to judge when it answers.
    pub(super) fn check_claim(
        &self,
        c: &pb::VoucherClaimed,
        event: &VerifiedEvent,
        past: &Past<'_>,
    ) -> Result<Effect, Rejection> {
        let (key, state) = self.voucher_as_of(&c.serial, past)?;
        if self.membership_in(past).same_member(
            &self.members.hub(state.owner),
            &self.members.hub(past.feed()),
        ) {
            return Err(Rejection::OwnerClaims {
                serial: c.serial.clone(),
            });
        }
        let date = fields::day(Field::Date, &c.date)?;
        let service = fields::service(Field::Service, &c.service)?;
        self.held_open_venue(&c.venue_id, event.author, past)?;
        self.check_use(self.batch(key), &c.serial, service, date)?;
        self.check_venue_for(&c.venue_id, service, date, past)?;
        Ok(Effect::Claimed {
            claim: Box::new(Claim {
                event: event.id,
                claimant: event.author,
                serial: c.serial.clone(),
                venue_id: c.venue_id.clone(),
                service,
                date,
                accepted: None,
                rejection: None,
                at: EventRef {
                    author: event.author,
                    seq: event.seq,
                    id: event.id,
                },
            }),
            person: state.person,
            detail: StepDetail::Claimed {
                serial: c.serial.clone(),
                venue_id: c.venue_id.clone(),
            },
        })
    }

    /// `VoucherClaimRejected`. Checks: the claim reference decodes and is in the event's
    /// causal past; it names a valid claim, on a voucher the author owns there, not answered
    /// yet; a reason is given.
    pub(super) fn check_reject_claim(
        &self,
        r: &pb::VoucherClaimRejected,
        past: &Past<'_>,
    ) -> Result<Effect, Rejection> {
        let claim_ref = fields::event_ref(Field::Claim, r.claim.as_ref())?;
        if !past.contains_ref(&claim_ref) {
            return Err(Rejection::ClaimNotInPast {
                claim: claim_ref.id,
            });
        }
        let serial = self
            .s
            .claims
            .get(&claim_ref.id)
            .map(|c| c.serial.clone())
            .ok_or(Rejection::ClaimUnknown {
                claim: claim_ref.id,
            })?;
        let (key, mut state) = self.owned(&serial, past)?;
        self.claim_in_past(&claim_ref, &serial, &state, past)?;
        fields::reason(Field::Reason, &r.reason)?;
        state.more().answered_claims.insert(claim_ref.id);
        Ok(Effect::ClaimRejected {
            key,
            state,
            claim: claim_ref.id,
            reason: r.reason.clone(),
        })
    }
}
