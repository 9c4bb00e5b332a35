//! The venue directory: venues registered, updated and closed by the hub holding their
//! département (protocol section 4, "Venues").
//!
//! Rules, checked against the author's feed only (venue events never depend on other feeds):
//! - `VenueRegistered`: the venue id is [`venue_id`]`(author, record.id)` (so two hubs can
//!   never race for one id), not yet registered, and the record's département is held by the
//!   author;
//! - `VenueUpdated`: the venue was registered by the author, is open, and stays in the
//!   author's territories;
//! - `VenueClosed`: the venue is open and in a département the author holds; its `date`, if
//!   given, is a real day;
//! - `VenueReopened`: the venue is closed and in a département the author holds; a reason.
//!
//! An event breaking a rule is kept in the log and rejected by the fold (see
//! [`crate::ledger`]) with the rule's [`Rejection`]: every node computes the same verdicts.

use std::collections::BTreeMap;

use maillage_proto::v1 as pb;

use crate::crypto::tagged_sha256;
use crate::date::Day;
use crate::envelope::VerifiedEvent;
use crate::ids::{EventId, HubId};
use crate::membership::Membership;
use crate::rejection::{Field, Rejection};
use crate::territory::departement_of;

/// Domain tag of venue ids.
pub const VENUE_ID_TAG: &[u8] = b"maillage/v1/venue\0";

/// The federation-wide id of a venue: `"v"` + 20 hex digits of
/// `SHA-256("maillage/v1/venue\0" || author || source id)`. Stable across re-imports.
pub fn venue_id(author: &HubId, source_id: &str) -> String {
    let mut data = Vec::with_capacity(32 + source_id.len());
    data.extend_from_slice(&author.0);
    data.extend_from_slice(source_id.as_bytes());
    let digest = tagged_sha256(VENUE_ID_TAG, &data);
    format!("v{}", hex::encode(&digest[..10]))
}

/// A venue as the directory holds it.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Venue {
    /// Federation-wide id.
    pub venue_id: String,
    /// The current record (national standard v1).
    #[serde(with = "record_bytes")]
    pub record: pb::VenueRecord,
    /// Département derived from the record.
    pub departement: String,
    /// The hub that registered it.
    pub hub: HubId,
    /// The last event that changed it.
    pub last_event: EventId,
    /// Number of updates applied.
    pub updates: u32,
    /// Why it closed, if it did.
    pub closed: Option<String>,
    /// The day it closed, when the closing event gave one.
    #[serde(default)]
    pub closed_on: Option<Day>,
}

/// What a venue event changes, once the rules accept it.
#[derive(Debug, Clone, PartialEq)]
pub enum VenueChange {
    /// A new venue.
    Registered(Box<Venue>),
    /// A venue's new record.
    Updated {
        /// The venue.
        venue_id: String,
        /// Its new record.
        record: Box<pb::VenueRecord>,
        /// Its département (unchanged or another the author holds).
        departement: String,
        /// The event.
        event: EventId,
    },
    /// A venue closed.
    Closed {
        /// The venue.
        venue_id: String,
        /// Why, in the author's words.
        reason: String,
        /// The day it closed, if given.
        date: Option<Day>,
        /// The event.
        event: EventId,
    },
    /// A closed venue open again.
    Reopened {
        /// The venue.
        venue_id: String,
        /// The event.
        event: EventId,
    },
}

impl VenueChange {
    /// The venue it changes.
    pub fn venue_id(&self) -> &str {
        match self {
            Self::Registered(venue) => &venue.venue_id,
            Self::Updated { venue_id, .. }
            | Self::Closed { venue_id, .. }
            | Self::Reopened { venue_id, .. } => venue_id,
        }
    }
}

/// Venues by id.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct VenueDirectory {
    venues: BTreeMap<String, Venue>,
}

impl VenueDirectory {
    /// An empty directory.
    pub fn new() -> Self {
        Self::default()
    }

    /// All venues, by id.
    pub fn venues(&self) -> &BTreeMap<String, Venue> {
        &self.venues
    }

    /// One venue.
    pub fn get(&self, venue_id: &str) -> Option<&Venue> {
        self.venues.get(venue_id)
    }

    /// What a venue event would change, or the rule it breaks (`None`: not a venue event).
    ///
    /// Checks, for `VenueRegistered`: a record is present; the venue id is derived from the
    /// author and the record's id; it is not registered yet; the record's département can be
    /// derived and is held by the author. For `VenueUpdated`: a record is present, its
    /// département is held by the author; the venue exists, is open and is in a département
    /// the author holds. For `VenueClosed`: the venue exists, is open and is held by the author, and
    /// a date given is a real day. For `VenueReopened`: a reason; the venue exists, is closed
    /// and is held by the author.
    pub fn check(
        &self,
        event: &VerifiedEvent,
        membership: &Membership,
    ) -> Option<Result<VenueChange, Rejection>> {
        use pb::event::Body;
        Some(match &event.body {
            Some(Body::VenueRegistered(registered)) => (|| {
                let record = registered.record.as_ref().ok_or(Rejection::Missing {
                    field: Field::Record,
                })?;
                let expected = venue_id(&event.author, &record.id);
                if registered.venue_id != expected {
                    return Err(Rejection::VenueIdMismatch {
                        expected,
                        found: registered.venue_id.clone(),
                    });
                }
                if self.venues.contains_key(&registered.venue_id) {
                    return Err(Rejection::VenueAlreadyRegistered {
                        venue: registered.venue_id.clone(),
                    });
                }
                let departement = held_departement(record, event.author, membership)?;
                Ok(VenueChange::Registered(Box::new(Venue {
                    venue_id: registered.venue_id.clone(),
                    record: record.clone(),
                    departement,
                    hub: event.author,
                    last_event: event.id,
                    updates: 0,
                    closed: None,
                    closed_on: None,
                })))
            })(),
            Some(Body::VenueUpdated(updated)) => (|| {
                let record = updated.record.as_ref().ok_or(Rejection::Missing {
                    field: Field::Record,
                })?;
                let departement = held_departement(record, event.author, membership)?;
                self.open_venue_of(&updated.venue_id, event.author, membership)?;
                Ok(VenueChange::Updated {
                    venue_id: updated.venue_id.clone(),
                    record: Box::new(record.clone()),
                    departement,
                    event: event.id,
                })
            })(),
            Some(Body::VenueClosed(closed)) => (|| {
                self.open_venue_of(&closed.venue_id, event.author, membership)?;
                let date = match closed.date.as_str() {
                    "" => None,
                    text => Some(Day::parse(text).ok_or_else(|| Rejection::BadDate {
                        field: Field::Date,
                        found: text.to_owned(),
                    })?),
                };
                Ok(VenueChange::Closed {
                    venue_id: closed.venue_id.clone(),
                    reason: closed.reason.clone(),
                    date,
                    event: event.id,
                })
            })(),
            Some(Body::VenueReopened(reopened)) => (|| {
                if reopened.reason.trim().is_empty() {
                    return Err(Rejection::NoReason {
                        field: Field::Reason,
                    });
                }
                let venue =
                    self.venues
                        .get(&reopened.venue_id)
                        .ok_or_else(|| Rejection::VenueUnknown {
                            venue: reopened.venue_id.clone(),
                        })?;
                if venue.closed.is_none() {
                    return Err(Rejection::VenueOpen {
                        venue: reopened.venue_id.clone(),
                    });
                }
                if !membership.holds(&event.author, &venue.departement) {
                    return Err(Rejection::VenueNotHeld {
                        venue: reopened.venue_id.clone(),
                        departement: venue.departement.clone(),
                    });
                }
                Ok(VenueChange::Reopened {
                    venue_id: reopened.venue_id.clone(),
                    event: event.id,
                })
            })(),
            _ => return None,
        })
    }

    /// Makes a change [`VenueDirectory::check`] accepted.
    pub fn commit(&mut self, change: VenueChange) {
        match change {
            VenueChange::Registered(venue) => {
                self.venues.insert(venue.venue_id.clone(), *venue);
            }
            VenueChange::Updated {
                venue_id,
                record,
                departement,
                event,
            } => {
                if let Some(venue) = self.venues.get_mut(&venue_id) {
                    venue.record = *record;
                    venue.departement = departement;
                    venue.last_event = event;
                    venue.updates += 1;
                }
            }
            VenueChange::Closed {
                venue_id,
                reason,
                date,
                event,
            } => {
                if let Some(venue) = self.venues.get_mut(&venue_id) {
                    venue.closed = Some(reason);
                    venue.closed_on = date;
                    venue.last_event = event;
                }
            }
            VenueChange::Reopened { venue_id, event } => {
                if let Some(venue) = self.venues.get_mut(&venue_id) {
                    venue.closed = None;
                    venue.closed_on = None;
                    venue.last_event = event;
                }
            }
        }
    }

    fn open_venue_of(
        &self,
        venue_id: &str,
        author: HubId,
        membership: &Membership,
    ) -> Result<&Venue, Rejection> {
        let venue = self
            .venues
            .get(venue_id)
            .ok_or_else(|| Rejection::VenueUnknown {
                venue: venue_id.to_owned(),
            })?;
        if venue.closed.is_some() {
            return Err(Rejection::VenueClosed {
                venue: venue_id.to_owned(),
            });
        }
        if !membership.holds(&author, &venue.departement) {
            return Err(Rejection::VenueNotHeld {
                venue: venue_id.to_owned(),
                departement: venue.departement.clone(),
            });
        }
        Ok(venue)
    }
}

fn held_departement(
    record: &pb::VenueRecord,
    author: HubId,
    membership: &Membership,
) -> Result<String, Rejection> {
    let insee = Some(record.code_insee.as_str()).filter(|c| !c.is_empty());
    let departement =
        departement_of(insee, &record.code_postal).map_err(|e| Rejection::VenueTerritory {
            departement: e.to_string(),
        })?;
    if !membership.holds(&author, &departement) {
        return Err(Rejection::VenueTerritory { departement });
    }
    Ok(departement)
}

/// Persists a record as its protobuf encoding (prost types have no serde).
mod record_bytes {
    use maillage_proto::v1 as pb;
    use prost::Message;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(record: &pb::VenueRecord, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_bytes(&record.encode_to_vec())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<pb::VenueRecord, D::Error> {
        let bytes = <Vec<u8>>::deserialize(d)?;
        pb::VenueRecord::decode(bytes.as_slice()).map_err(serde::de::Error::custom)
    }
}
