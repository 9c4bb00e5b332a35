//! What is kept about people: accompaniments recorded by venues, and the right to erasure.

use maillage_proto::v1 as pb;

use super::Ledger;
use super::effect::Effect;
use super::fields;
use super::model::{Accompaniment, StepDetail};
use super::state::as_of;
use crate::causal::Past;
use crate::envelope::VerifiedEvent;
use crate::rejection::{Field, Rejection};
use crate::vocab::Mode;

/// Longest accompaniment, in minutes (a day).
const DURATION_MAX_MIN: u32 = 24 * 60;

impl Ledger {
    /// `AccompanimentRecorded`. Checks: a person code; the venue is held by the author and
    /// open in the event's causal past; v1 services; a day; the mode is individual, collective
    /// or remote; 1 to 1,440 minutes; the referral, if named, is in the event's causal past.
    pub(super) fn check_accompaniment(
        &self,
        a: &pb::AccompanimentRecorded,
        event: &VerifiedEvent,
        past: &Past<'_>,
    ) -> Result<Effect, Rejection> {
        let person = fields::person(&a.person)?;
        self.held_open_venue(&a.venue_id, event.author, past)?;
        let services = fields::services(Field::Services, &a.services)?;
        let date = fields::day(Field::Date, &a.date)?;
        let mode = Mode::parse(&a.mode).ok_or_else(|| Rejection::BadValue {
            field: Field::Mode,
            expected: Mode::labels(),
            found: a.mode.clone(),
        })?;
        if a.duration_min == 0 || a.duration_min > DURATION_MAX_MIN {
            return Err(Rejection::OutOfRange {
                field: Field::Duration,
                expected: format!("1..={DURATION_MAX_MIN} minutes"),
                found: u64::from(a.duration_min),
            });
        }
        if !a.referral_id.is_empty()
            && self
                .s
                .referrals
                .get(&a.referral_id)
                .and_then(|h| as_of(h, past))
                .is_none()
        {
            return Err(Rejection::ReferralUnknown {
                referral: a.referral_id.clone(),
            });
        }
        Ok(Effect::Accompanied {
            person,
            record: Box::new(Accompaniment {
                event: event.id,
                venue_id: a.venue_id.clone(),
                referral_id: a.referral_id.clone(),
                services,
                date,
                duration_min: a.duration_min,
                mode,
            }),
            detail: StepDetail::Accompaniment {
                venue_id: a.venue_id.clone(),
                duration_min: a.duration_min,
                mode,
                date,
            },
        })
    }

    /// `PersonForgotten`. Checks: a person code.
    pub(super) fn check_forget(&self, f: &pb::PersonForgotten) -> Result<Effect, Rejection> {
        Ok(Effect::Forgotten {
            person: fields::person(&f.person)?,
        })
    }
}
