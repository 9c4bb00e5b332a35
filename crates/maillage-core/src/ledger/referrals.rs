//! Referrals: opened by the prescriber's hub, then moved on only by the hub handling them
//! (the holder of the target venue's or territory's département), so a referral's valid events
//! form one causal chain.

use maillage_proto::v1 as pb;

use super::effect::Effect;
use super::fields;
use super::model::{Referral, ReferralStatus, StepDetail};
use super::{Ledger, REFERRAL_DAYS_DEFAULT};
use crate::causal::Past;
use crate::date::Day;
use crate::envelope::VerifiedEvent;
use crate::hlc::hlc_millis;
use crate::rejection::{Field, Rejection};
use crate::vocab::{Autonomy, Outcome};

/// A step of a referral after its opening.
pub(super) enum Step<'a> {
    Accept(&'a pb::ReferralAccepted),
    Decline(&'a pb::ReferralDeclined),
    Forward(&'a pb::ReferralForwarded),
    Close(&'a pb::ReferralClosed),
}

impl Ledger {
    /// `ReferralOpened`. Checks: the id is one of the author's départements, a dash, then an
    /// id (at most 64 bytes) and does not exist yet; a commitment to a personal part; a prescriber; v1 services
    /// as needs; an opening day and an expiry day (30 days later if absent) not before it; a
    /// target venue open in the event's causal past, or a target département some hub holds.
    pub(super) fn check_open_referral(
        &self,
        o: &pb::ReferralOpened,
        event: &VerifiedEvent,
        past: &Past<'_>,
    ) -> Result<Effect, Rejection> {
        let membership = self.membership_in(past);
        let prefix_ok = o.referral_id.split_once('-').is_some_and(|(dep, rest)| {
            membership
                .territories(&event.author)
                .is_some_and(|t| t.contains(dep))
                && !rest.is_empty()
        });
        if !prefix_ok || o.referral_id.len() > 64 {
            return Err(Rejection::ReferralIdInvalid {
                found: o.referral_id.clone(),
            });
        }
        if self.s.referrals.contains_key(&o.referral_id) {
            return Err(Rejection::ReferralExists {
                referral: o.referral_id.clone(),
            });
        }
        let personal = fields::commitment(&o.personal)?;
        let (prescriber_kind, prescriber_name) = fields::prescriber(o.prescriber.as_ref())?;
        let needs = fields::services(Field::Needs, &o.needs)?;
        let opened_on = fields::day(Field::OpenedOn, &o.opened_on)?;
        let expires_on = if o.expires_on.is_empty() {
            opened_on.plus(REFERRAL_DAYS_DEFAULT)
        } else {
            fields::day(Field::ExpiresOn, &o.expires_on)?
        };
        if expires_on < opened_on {
            return Err(Rejection::ExpiryBeforeOpening {
                opened: opened_on.to_string(),
                expires: expires_on.to_string(),
            });
        }
        let (handler, target_territory) = if !o.target_venue_id.is_empty() {
            self.venue_handler(&o.target_venue_id, past)?
        } else {
            let holder =
                membership
                    .holder_of(&o.target_territory)
                    .ok_or_else(|| Rejection::NoHolder {
                        departement: o.target_territory.clone(),
                    })?;
            (holder, o.target_territory.clone())
        };
        let referral = Referral {
            referral_id: o.referral_id.clone(),
            // Set when the effect is made, from the part this node holds (if any).
            person: None,
            personal,
            prescriber_kind,
            prescriber_name: prescriber_name.clone(),
            opened_by: event.author,
            handler,
            needs: needs.clone(),
            target_venue_id: o.target_venue_id.clone(),
            target_territory: target_territory.clone(),
            opened_on,
            expires_on,
            status: ReferralStatus::Open,
            venue_id: String::new(),
            accepted_on: None,
            autonomy: None,
        };
        Ok(Effect::ReferralOpened {
            referral: Box::new(referral),
            detail: StepDetail::ReferralOpened {
                referral_id: o.referral_id.clone(),
                prescriber_kind,
                prescriber_name,
                needs,
                handler,
                territory: target_territory,
            },
        })
    }

    /// A referral's next step. Checks, for every step: the referral is in the event's causal
    /// past and the author handles it there. Accept: it is open; the venue is held by the
    /// author and open; the day (the author's clock's day if absent) is not after its expiry.
    /// Decline: a reason; it is open. Forward: it is open; the new venue is open and some hub
    /// holds its département (which then handles the referral). Close: it is open or
    /// accepted; the outcome is completed, no_show or abandoned; the autonomy, if given, is
    /// autonomous, partially or not_autonomous.
    pub(super) fn check_referral_step(
        &self,
        referral_id: &str,
        event: &VerifiedEvent,
        past: &Past<'_>,
        step: Step<'_>,
    ) -> Result<Effect, Rejection> {
        let mut referral =
            self.referral_as_of(referral_id, past)
                .ok_or_else(|| Rejection::ReferralUnknown {
                    referral: referral_id.to_owned(),
                })?;
        if !self
            .membership_in(past)
            .same_member(&referral.handler, &event.author)
        {
            return Err(Rejection::NotHandler {
                referral: referral_id.to_owned(),
                handler: referral.handler,
            });
        }
        let not_open = |referral: &Referral| Rejection::ReferralNotOpen {
            referral: referral_id.to_owned(),
            status: referral.status.as_str().to_owned(),
        };
        let detail = match step {
            Step::Accept(a) => {
                if referral.status != ReferralStatus::Open {
                    return Err(not_open(&referral));
                }
                self.held_open_venue(&a.venue_id, event.author, past)?;
                let date = if a.date.is_empty() {
                    Day::of_millis(hlc_millis(event.hlc))
                } else {
                    fields::day(Field::Date, &a.date)?
                };
                if date > referral.expires_on {
                    return Err(Rejection::ReferralExpired {
                        referral: referral_id.to_owned(),
                        on: referral.expires_on.to_string(),
                    });
                }
                referral.status = ReferralStatus::Accepted;
                referral.venue_id = a.venue_id.clone();
                referral.accepted_on = Some(date);
                StepDetail::ReferralAccepted {
                    referral_id: referral_id.to_owned(),
                    venue_id: a.venue_id.clone(),
                    date,
                }
            }
            Step::Decline(d) => {
                fields::reason(Field::Reason, &d.reason)?;
                if referral.status != ReferralStatus::Open {
                    return Err(not_open(&referral));
                }
                referral.status = ReferralStatus::Declined;
                StepDetail::ReferralDeclined {
                    referral_id: referral_id.to_owned(),
                    reason: d.reason.clone(),
                }
            }
            Step::Forward(f) => {
                if referral.status != ReferralStatus::Open {
                    return Err(not_open(&referral));
                }
                let (holder, departement) = self.venue_handler(&f.to_venue_id, past)?;
                referral.handler = holder;
                referral.target_venue_id = f.to_venue_id.clone();
                referral.target_territory = departement;
                StepDetail::ReferralForwarded {
                    referral_id: referral_id.to_owned(),
                    venue_id: f.to_venue_id.clone(),
                    handler: holder,
                }
            }
            Step::Close(c) => {
                if !matches!(
                    referral.status,
                    ReferralStatus::Open | ReferralStatus::Accepted
                ) {
                    return Err(Rejection::NotClosable {
                        referral: referral_id.to_owned(),
                        status: referral.status.as_str().to_owned(),
                    });
                }
                let outcome = Outcome::parse(&c.outcome).ok_or_else(|| Rejection::BadValue {
                    field: Field::Outcome,
                    expected: Outcome::labels(),
                    found: c.outcome.clone(),
                })?;
                let autonomy = if c.autonomy.is_empty() {
                    None
                } else {
                    Some(
                        Autonomy::parse(&c.autonomy).ok_or_else(|| Rejection::BadValue {
                            field: Field::Autonomy,
                            expected: Autonomy::labels(),
                            found: c.autonomy.clone(),
                        })?,
                    )
                };
                referral.status = ReferralStatus::Closed { outcome };
                referral.autonomy = autonomy;
                StepDetail::ReferralClosed {
                    referral_id: referral_id.to_owned(),
                    outcome,
                }
            }
        };
        Ok(Effect::ReferralStep {
            referral: Box::new(referral),
            detail,
        })
    }
}
