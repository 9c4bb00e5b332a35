//! Personal parts: what links an event to a person, detached from the signed payload
//! (docs/protocol.md §2b).
//!
//! An event about a person (`VouchersHandedOut`, `ReferralOpened`, `AccompanimentRecorded`)
//! signs a 32-byte commitment, `SHA-256("maillage/v2/personal\0" || part)`, where `part` is an
//! encoded [`pb::Personal`]: a 16-byte random salt, the person id and, for a referral, the
//! diagnostic. The part travels beside the signed event (`SignedEvent.personal`) while it
//! exists. The salt makes two commitments to one person unlinkable and a short diagnostic
//! impossible to guess from its commitment.
//!
//! No rule and nothing hashed into the digest reads a part: nodes that hold, dropped or never
//! received one reach the same verdicts and digest. A part whose hash is not the event's
//! commitment is dropped (the event stands); so is a part larger than [`PART_BYTES_MAX`].

use maillage_proto::v1 as pb;
use prost::Message;
use sha2::{Digest, Sha256};

use crate::ids::EventId;
use crate::person::PersonId;

/// Domain tag of a part's commitment.
pub const COMMITMENT_TAG: &[u8] = b"maillage/v2/personal\0";
/// Largest encoded part accepted.
pub const PART_BYTES_MAX: usize = 1024;
/// Longest diagnostic, in bytes.
pub const DIAGNOSTIC_BYTES_MAX: usize = 512;
/// Default days a personal part and its links live after the part's day.
pub const RETENTION_DAYS_DEFAULT: u32 = 730;

/// A checked personal part.
#[derive(Clone, PartialEq, Eq)]
pub struct Personal {
    /// The person.
    pub person: PersonId,
    /// Free text about them (a referral's diagnostic), possibly empty.
    pub diagnostic: String,
}

impl std::fmt::Debug for Personal {
    // Never print what a part holds in a log line or an error.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Personal(…)")
    }
}

/// The commitment to an encoded part.
pub fn commitment(part: &[u8]) -> [u8; 32] {
    let mut hasher = Sha256::new();
    hasher.update(COMMITMENT_TAG);
    hasher.update(part);
    hasher.finalize().into()
}

/// Encodes a part for `person` with `salt` (16 random bytes from the caller's generator) and
/// returns `(commitment, part bytes)`. Fails if the diagnostic is too long.
pub fn seal(
    person: PersonId,
    diagnostic: &str,
    salt: [u8; 16],
) -> Result<([u8; 32], Vec<u8>), String> {
    if diagnostic.len() > DIAGNOSTIC_BYTES_MAX {
        return Err(format!(
            "diagnostic: at most {DIAGNOSTIC_BYTES_MAX} bytes, found {}",
            diagnostic.len()
        ));
    }
    let part = pb::Personal {
        salt: salt.to_vec(),
        person: person.0.to_vec(),
        diagnostic: diagnostic.to_owned(),
    }
    .encode_to_vec();
    Ok((commitment(&part), part))
}

/// The part in `bytes` if its commitment is `committed` and it decodes as a part.
pub fn open(bytes: &[u8], committed: &[u8]) -> Option<Personal> {
    if bytes.is_empty() || bytes.len() > PART_BYTES_MAX || committed.len() != 32 {
        return None;
    }
    if commitment(bytes) != committed {
        return None;
    }
    let part = pb::Personal::decode(bytes).ok()?;
    if part.salt.len() != 16 || part.diagnostic.len() > DIAGNOSTIC_BYTES_MAX {
        return None;
    }
    let person = PersonId::from_slice(&part.person).ok()?;
    Some(Personal {
        person,
        diagnostic: part.diagnostic,
    })
}

/// The commitment a body holds, if it is an event about a person.
pub fn committed(body: Option<&pb::event::Body>) -> Option<&[u8]> {
    use pb::event::Body;
    match body? {
        Body::VouchersHandedOut(h) => Some(&h.personal),
        Body::ReferralOpened(o) => Some(&o.personal),
        Body::AccompanimentRecorded(a) => Some(&a.personal),
        _ => None,
    }
}

/// The event ids a `PersonForgotten` names, checked: 1 to [`FORGET_EVENTS_MAX`], 32 bytes
/// each, no repeats.
pub fn forgotten_events(f: &pb::PersonForgotten) -> Result<Vec<EventId>, String> {
    if f.events.is_empty() || f.events.len() > FORGET_EVENTS_MAX {
        return Err(format!(
            "expected 1 to {FORGET_EVENTS_MAX} event ids, found {}",
            f.events.len()
        ));
    }
    let mut seen = std::collections::BTreeSet::new();
    f.events
        .iter()
        .map(|bytes| {
            let id = EventId::try_from(bytes.as_slice())
                .map_err(|_| format!("an event id is 32 bytes, found {}", bytes.len()))?;
            if !seen.insert(id) {
                return Err("an event id is named twice".to_owned());
            }
            Ok(id)
        })
        .collect()
}

/// Events one `PersonForgotten` may name, at most.
pub const FORGET_EVENTS_MAX: usize = 1000;

/// A one-way name for a forgotten person, so that a node refuses their links if they arrive
/// later without keeping their id: `SHA-256("maillage/v2/forgotten\0" || person)`.
pub fn forgotten_name(person: &PersonId) -> [u8; 32] {
    let mut hasher = Sha256::new();
    hasher.update(b"maillage/v2/forgotten\0");
    hasher.update(person.0);
    hasher.finalize().into()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn a_part_opens_only_against_its_own_commitment() {
        let person = PersonId([7; 16]);
        let (c, part) = seal(person, "ABC Diag: débutant", [1; 16]).unwrap();
        let opened = open(&part, &c).unwrap();
        assert_eq!(opened.person, person);
        assert_eq!(opened.diagnostic, "ABC Diag: débutant");
        // Another salt: another commitment, unlinkable to the first.
        let (c2, part2) = seal(person, "ABC Diag: débutant", [2; 16]).unwrap();
        assert_ne!(c, c2);
        assert!(open(&part2, &c).is_none());
        // One flipped byte anywhere: refused.
        for i in 0..part.len() {
            let mut bad = part.clone();
            bad[i] ^= 1;
            assert!(open(&bad, &c).is_none(), "byte {i}");
        }
        assert!(open(&part, &c[..31]).is_none());
        assert!(open(&[], &c).is_none());
    }

    #[test]
    fn a_part_never_prints_what_it_holds() {
        let p = Personal {
            person: PersonId([9; 16]),
            diagnostic: "secret".into(),
        };
        assert_eq!(format!("{p:?}"), "Personal(…)");
    }

    #[test]
    fn a_long_diagnostic_is_refused_before_anything_is_signed() {
        let long = "x".repeat(DIAGNOSTIC_BYTES_MAX + 1);
        assert!(seal(PersonId([1; 16]), &long, [0; 16]).is_err());
    }

    #[test]
    fn forget_names_distinct_event_ids() {
        let ok = pb::PersonForgotten {
            events: vec![vec![1; 32], vec![2; 32]],
        };
        assert_eq!(forgotten_events(&ok).unwrap().len(), 2);
        for bad in [
            vec![],
            vec![vec![1; 31]],
            vec![vec![1; 32], vec![1; 32]],
            vec![vec![0; 32]; FORGET_EVENTS_MAX + 1],
        ] {
            assert!(forgotten_events(&pb::PersonForgotten { events: bad }).is_err());
        }
    }
}
