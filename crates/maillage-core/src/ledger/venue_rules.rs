//! Venue rules beyond the directory: qualifications for vouchers, and what other rules ask of
//! a venue in an event's causal past (open, held by the author, qualified for a service).

use maillage_proto::v1 as pb;

use super::Ledger;
use super::effect::Effect;
use super::fields;
use super::model::Qualification;
use super::state::{VenueSnapshot, as_of};
use crate::causal::Past;
use crate::date::Day;
use crate::envelope::VerifiedEvent;
use crate::ids::HubId;
use crate::rejection::{Field, Rejection};
use crate::vocab::Service;

impl Ledger {
    pub(super) fn venue_as_of(&self, venue_id: &str, past: &Past<'_>) -> Option<&VenueSnapshot> {
        self.s
            .venue_history
            .get(venue_id)
            .and_then(|h| as_of(h, past))
    }

    /// The hub that handles referrals to a venue open in `past`, and its département.
    pub(super) fn venue_handler(
        &self,
        venue_id: &str,
        past: &Past<'_>,
    ) -> Result<(HubId, String), Rejection> {
        let snapshot = self
            .venue_as_of(venue_id, past)
            .ok_or_else(|| Rejection::VenueUnknown {
                venue: venue_id.to_owned(),
            })?;
        if !snapshot.open {
            return Err(Rejection::VenueClosed {
                venue: venue_id.to_owned(),
            });
        }
        let holder = self
            .membership_in(past)
            .holder_of(&snapshot.departement)
            .ok_or_else(|| Rejection::NoHolder {
                departement: snapshot.departement.clone(),
            })?;
        Ok((holder, snapshot.departement.clone()))
    }

    /// A venue the author holds, open in the event's causal past. A venue held by the author
    /// has all its events in the author's own feed, so this depends on the past only.
    pub(super) fn held_open_venue(
        &self,
        venue_id: &str,
        author: HubId,
        past: &Past<'_>,
    ) -> Result<&crate::venues::Venue, Rejection> {
        let unknown = || Rejection::VenueUnknown {
            venue: venue_id.to_owned(),
        };
        let snapshot = self.venue_as_of(venue_id, past).ok_or_else(unknown)?;
        if !self
            .membership_in(past)
            .holds(&author, &snapshot.departement)
        {
            return Err(Rejection::VenueNotHeld {
                venue: venue_id.to_owned(),
                departement: snapshot.departement.clone(),
            });
        }
        if !snapshot.open {
            return Err(Rejection::VenueClosed {
                venue: venue_id.to_owned(),
            });
        }
        self.s.venues.get(venue_id).ok_or_else(unknown)
    }

    /// `VenueQualified`. Checks: the venue is held by the author and open in the event's
    /// causal past; its pivot (SIRET, RNA, RIDET) is not the all-zero placeholder; the scheme
    /// is not blank; `valid_until` is a day; the services are v1 services.
    pub(super) fn check_qualify(
        &self,
        q: &pb::VenueQualified,
        event: &VerifiedEvent,
        past: &Past<'_>,
    ) -> Result<Effect, Rejection> {
        let venue = self.held_open_venue(&q.venue_id, event.author, past)?;
        if venue.record.pivot.bytes().all(|b| b == b'0') {
            return Err(Rejection::VenueNoPivot {
                venue: q.venue_id.clone(),
                pivot: venue.record.pivot.clone(),
            });
        }
        if q.scheme.trim().is_empty() {
            return Err(Rejection::SchemeEmpty);
        }
        let valid_until = fields::day(Field::ValidUntil, &q.valid_until)?;
        let services = fields::services(Field::Services, &q.services)?;
        Ok(Effect::Qualified {
            venue_id: q.venue_id.clone(),
            qualification: Qualification {
                scheme: q.scheme.clone(),
                valid_until,
                services,
                event: event.id,
            },
        })
    }

    /// `VenueQualificationRevoked`. Checks: a reason is given; the venue is held by the author
    /// and open in the event's causal past; it is qualified there.
    pub(super) fn check_revoke(
        &self,
        r: &pb::VenueQualificationRevoked,
        event: &VerifiedEvent,
        past: &Past<'_>,
    ) -> Result<Effect, Rejection> {
        fields::reason(Field::Reason, &r.reason)?;
        self.held_open_venue(&r.venue_id, event.author, past)?;
        let qualified = self
            .venue_as_of(&r.venue_id, past)
            .is_some_and(|v| v.qualification.is_some());
        if !qualified {
            return Err(Rejection::NoQualification {
                venue: r.venue_id.clone(),
            });
        }
        Ok(Effect::Revoked {
            venue_id: r.venue_id.clone(),
        })
    }

    /// Whether a voucher may be used at a venue on `date` for `service`, as the past sees it:
    /// the venue is known and open there, qualified, the qualification still valid on `date`
    /// and covering `service`. Returns the venue's département.
    pub(super) fn check_venue_for(
        &self,
        venue_id: &str,
        service: Service,
        date: Day,
        past: &Past<'_>,
    ) -> Result<String, Rejection> {
        let snapshot = self
            .venue_as_of(venue_id, past)
            .ok_or_else(|| Rejection::VenueUnknown {
                venue: venue_id.to_owned(),
            })?;
        if !snapshot.open {
            return Err(Rejection::VenueClosed {
                venue: venue_id.to_owned(),
            });
        }
        let q = snapshot
            .qualification
            .as_ref()
            .ok_or_else(|| Rejection::VenueNotQualified {
                venue: venue_id.to_owned(),
            })?;
        if date > q.valid_until {
            return Err(Rejection::QualificationExpired {
                venue: venue_id.to_owned(),
                until: q.valid_until.to_string(),
                date: date.to_string(),
            });
        }
        if !q.services.is_empty() && !q.services.contains(&service) {
            return Err(Rejection::ServiceNotQualified {
                venue: venue_id.to_owned(),
                service: service.as_str().to_owned(),
            });
        }
        Ok(snapshot.departement.clone())
    }
}
