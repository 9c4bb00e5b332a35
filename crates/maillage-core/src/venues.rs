//! The venue directory: venues registered, updated and closed by the hub holding their
//! département (protocol section 4, "Venues").
//!
//! Rules, checked against the author's feed only (venue events never depend on other feeds):
//! - `VenueRegistered`: the venue id is [`venue_id`]`(author, record.id)` (so two hubs can
//!   never race for one id), not yet registered, and the record's département is held by the
//!   author;
//! - `VenueUpdated`: the venue was registered by the author, is open, and stays in the
//!   author's territories;
//! - `VenueClosed`: the venue was registered by the author and is open.
//!
//! An event breaking a rule is kept in the log and listed as a [`DomainRejection`]: every node
//! computes the same list.

use std::collections::BTreeMap;

use maillage_proto::v1 as pb;

use crate::charter::Charter;
use crate::crypto::tagged_sha256;
use crate::envelope::VerifiedEvent;
use crate::ids::{EventId, HubId};
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
}

/// An event kept in the log but without effect.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
pub struct DomainRejection {
    /// The event.
    pub event: EventId,
    /// Its author.
    pub author: HubId,
    /// Its seq.
    pub seq: u64,
    /// Stable, precise reason.
    pub reason: String,
}

/// Venues by id.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct VenueDirectory {
    venues: BTreeMap<String, Venue>,
    rejections: Vec<DomainRejection>,
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

    /// Venue events that broke a rule.
    pub fn rejections(&self) -> &[DomainRejection] {
        &self.rejections
    }

    /// Applies one event (events of one author must come in feed order). Non-venue bodies are
    /// ignored here.
    pub fn apply(&mut self, event: &VerifiedEvent, charter: &Charter) {
        if let Err(reason) = self.try_apply(event, charter, true) {
            self.rejections.push(DomainRejection {
                event: event.id,
                author: event.author,
                seq: event.seq,
                reason,
            });
        }
    }

    /// The verdict [`VenueDirectory::apply`] would reach on `event`, changing nothing.
    pub fn check(&mut self, event: &VerifiedEvent, charter: &Charter) -> Result<(), String> {
        self.try_apply(event, charter, false)
    }

    /// Checks `event` against the rules and, if `commit`, applies it.
    fn try_apply(
        &mut self,
        event: &VerifiedEvent,
        charter: &Charter,
        commit: bool,
    ) -> Result<(), String> {
        use pb::event::Body;
        match &event.body {
            Some(Body::VenueRegistered(registered)) => {
                let record = registered
                    .record
                    .as_ref()
                    .ok_or("VenueRegistered without a record")?;
                let expected = venue_id(&event.author, &record.id);
                if registered.venue_id != expected {
                    return Err(format!(
                        "venue id: expected {expected} (derived from the author and record id {:?}), found {}",
                        record.id, registered.venue_id
                    ));
                }
                if self.venues.contains_key(&registered.venue_id) {
                    return Err(format!(
                        "venue {} is already registered",
                        registered.venue_id
                    ));
                }
                let departement = held_departement(record, event.author, charter)?;
                if commit {
                    self.venues.insert(
                        registered.venue_id.clone(),
                        Venue {
                            venue_id: registered.venue_id.clone(),
                            record: record.clone(),
                            departement,
                            hub: event.author,
                            last_event: event.id,
                            updates: 0,
                            closed: None,
                        },
                    );
                }
                Ok(())
            }
            Some(Body::VenueUpdated(updated)) => {
                let record = updated
                    .record
                    .as_ref()
                    .ok_or("VenueUpdated without a record")?;
                let departement = held_departement(record, event.author, charter)?;
                let venue = self.open_venue_of(&updated.venue_id, event.author, charter)?;
                if commit {
                    venue.record = record.clone();
                    venue.departement = departement;
                    venue.last_event = event.id;
                    venue.updates += 1;
                }
                Ok(())
            }
            Some(Body::VenueClosed(closed)) => {
                let venue = self.open_venue_of(&closed.venue_id, event.author, charter)?;
                if commit {
                    venue.closed = Some(closed.reason.clone());
                    venue.last_event = event.id;
                }
                Ok(())
            }
            _ => Ok(()),
        }
    }

    fn open_venue_of(
        &mut self,
        venue_id: &str,
        author: HubId,
        charter: &Charter,
    ) -> Result<&mut Venue, String> {
        let venue = self
            .venues
            .get_mut(venue_id)
            .ok_or_else(|| format!("unknown venue {venue_id}"))?;
        if venue.closed.is_some() {
            return Err(format!("venue {venue_id} is closed"));
        }
        if charter.holder_of(&venue.departement) != Some(author) {
            return Err(format!(
                "venue {venue_id} is in département {} which the author does not hold",
                venue.departement
            ));
        }
        Ok(venue)
    }
}

fn held_departement(
    record: &pb::VenueRecord,
    author: HubId,
    charter: &Charter,
) -> Result<String, String> {
    let insee = Some(record.code_insee.as_str()).filter(|c| !c.is_empty());
    let departement = departement_of(insee, &record.code_postal).map_err(|e| e.to_string())?;
    if charter.holder_of(&departement) != Some(author) {
        let held: Vec<&str> = charter
            .member(&author)
            .map(|m| m.territories.iter().map(String::as_str).collect())
            .unwrap_or_default();
        return Err(format!(
            "territory: département {departement} is not held by the author (holds {})",
            held.join(",")
        ));
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
