//! The signed event envelope (protocol sections 2 and 3.1).
//!
//! [`verify_event`] turns untrusted wire bytes into a [`VerifiedEvent`]. It checks, in order:
//! 1. the payload is at most [`PAYLOAD_BYTES_MAX`] bytes and the signature 64 bytes;
//! 2. `version` (field 1, read alone first, so that a later protocol may change anything
//!    else in the payload) is the version the charter names: an event of a version this
//!    build does not implement is refused, never decoded and folded by the rules of another;
//! 3. the payload decodes as an `Event` and `federation` is this charter's id;
//! 4. the author is a hub of the charter (observers author nothing);
//! 5. `seq >= 1`; `prev` is empty iff `seq == 1`, else 32 bytes;
//! 6. at most [`DEPS_MAX`] deps, each well formed, on another feed, none repeated;
//! 7. the signature verifies (the cofactored strict rule, [`crate::crypto`]) over
//!    `"maillage/v1/sign\0" || payload`.
//!
//! The payload bytes are kept exactly as received: they are what is hashed, stored and
//! forwarded. Nothing here re-encodes a payload.
//!
//! Size: the envelope's checks in the order above and, below them, one test per refusal.

use std::collections::BTreeSet;

use maillage_proto::v1 as pb;
use prost::Message;
use thiserror::Error;

use crate::charter::{Charter, Role};
use crate::crypto::{self, CryptoError, SecretKey};
use crate::ids::{EventId, FederationId, HubId};
use crate::version;

pub use crate::version::{PROTOCOL_VERSION, SUPPORTED_VERSIONS};
/// Largest payload accepted (64 KiB).
pub const PAYLOAD_BYTES_MAX: usize = 64 * 1024;
/// Largest number of deps in one event.
pub const DEPS_MAX: usize = 16;
/// Largest encoded `SignedEvent` (payload, signature, personal part and framing).
pub const SIGNED_EVENT_BYTES_MAX: usize =
    PAYLOAD_BYTES_MAX + 128 + crate::personal::PART_BYTES_MAX + 8;

/// A validated reference to an event of another feed.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
pub struct EventRef {
    /// The referenced feed.
    pub author: HubId,
    /// Its position in that feed.
    pub seq: u64,
    /// Its id.
    pub id: EventId,
}

impl From<EventRef> for pb::EventRef {
    fn from(r: EventRef) -> Self {
        pb::EventRef {
            author: r.author.0.to_vec(),
            seq: r.seq,
            id: r.id.0.to_vec(),
        }
    }
}

/// Why an event was rejected before storage.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum EnvelopeError {
    /// Payload too large.
    #[error("payload: expected at most {max} bytes, found {found}")]
    Oversize {
        /// The limit.
        max: usize,
        /// The size received.
        found: usize,
    },
    /// The signed event wrapper does not decode.
    #[error("signed event does not decode: {0}")]
    SignedDecode(String),
    /// The payload does not decode as an `Event`.
    #[error("payload does not decode as an Event: {0}")]
    Decode(String),
    /// An event of another protocol version than the one the charter names (see
    /// [`crate::version`]). The author and seq are what the payload states: a payload of a
    /// version this build does not implement is not authenticated (its signature is not
    /// checked), so they only help an operator find where the events come from.
    #[error("version: expected {expected}, found {found}{}", version_note(.found))]
    Version {
        /// The version the charter names.
        expected: u32,
        /// The version the event names.
        found: u32,
        /// The author the payload names, if it names a 32-byte key.
        author: Option<HubId>,
        /// The seq the payload names.
        seq: u64,
    },
    /// Event of another federation.
    #[error("federation: expected {expected}, found {found}")]
    Federation {
        /// This federation.
        expected: String,
        /// What the event names (hex, or a length description).
        found: String,
    },
    /// A malformed field.
    #[error("field {field}: {reason}")]
    Field {
        /// Field name.
        field: &'static str,
        /// Expected vs found.
        reason: String,
    },
    /// The author is not in the charter.
    #[error("author {author} is not a member of this federation")]
    UnknownAuthor {
        /// The author.
        author: HubId,
    },
    /// The author is an observer.
    #[error("author {author} ({name}) is an observer: observers author no events")]
    NotAHub {
        /// The author.
        author: HubId,
        /// Its display name.
        name: String,
    },
    /// Strict verification failed.
    #[error(transparent)]
    Signature(#[from] CryptoError),
}

fn version_note(found: &u32) -> String {
    if version::implements(*found) {
        String::new()
    } else {
        format!(
            "; this node implements protocol {}: {}",
            version::list(SUPPORTED_VERSIONS),
            version::advice(*found)
        )
    }
}

impl EnvelopeError {
    /// For an event of a protocol version this build does not implement: that version, and
    /// the author and seq the payload names (unauthenticated).
    pub fn unsupported_version(&self) -> Option<(u32, Option<HubId>, u64)> {
        match self {
            Self::Version {
                found, author, seq, ..
            } if !version::implements(*found) => Some((*found, *author, *seq)),
            _ => None,
        }
    }
}

/// The field of an `Event` payload read before anything else: its version.
#[derive(Clone, PartialEq, Message)]
struct VersionPeek {
    #[prost(uint32, tag = "1")]
    version: u32,
}

/// Where an event of a refused version says it belongs, if its fields 3 and 4 still read as
/// this version's `author` and `seq` (for the operator only).
#[derive(Clone, PartialEq, Message)]
struct PositionPeek {
    #[prost(bytes = "vec", tag = "3")]
    author: Vec<u8>,
    #[prost(uint64, tag = "4")]
    seq: u64,
}

/// The author and seq a payload names (fields 3 and 4), read without checking anything else:
/// unauthenticated, for a log line or a lookup, never for a verdict. `None` when they do not
/// read as a 32-byte key and a seq.
pub fn claimed_position(payload: &[u8]) -> Option<(HubId, u64)> {
    let position = PositionPeek::decode(payload).ok()?;
    let author = HubId::try_from(position.author.as_slice()).ok()?;
    Some((author, position.seq))
}

/// An event whose envelope and signature have been checked against a charter (or that this
/// node just signed). Holds the exact signed bytes and their decoded form.
#[derive(Debug, Clone, PartialEq)]
pub struct VerifiedEvent {
    /// `SHA-256("maillage/v1/event\0" || payload)`.
    pub id: EventId,
    /// The feed.
    pub author: HubId,
    /// Position in the feed, from 1.
    pub seq: u64,
    /// The protocol version it was signed under (§0: the fold checks it is the one the
    /// amendments in effect in its causal past expect of its author at its seq).
    pub version: u32,
    /// Id of the previous event of the feed (`None` iff `seq == 1`).
    pub prev: Option<EventId>,
    /// Hybrid logical clock of the author at signing.
    pub hlc: u64,
    /// Events of other feeds this one relies on.
    pub deps: Vec<EventRef>,
    /// The domain event (`None`: a body kind this version does not know; stored, not applied).
    pub body: Option<pb::event::Body>,
    /// The exact bytes as signed and received, without the personal part (`personal` empty):
    /// what the log stores and fork proofs hold.
    pub signed: pb::SignedEvent,
    /// The personal part, when held and matching the event's commitment (§2b).
    pub personal: Option<PersonalPart>,
}

/// A personal part beside an event: its exact bytes and what they hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersonalPart {
    /// The encoded `Personal`, as committed to.
    pub bytes: Vec<u8>,
    /// Decoded.
    pub part: crate::personal::Personal,
}

impl VerifiedEvent {
    /// The permanent encoding of the signed event (no personal part): what the log stores.
    pub fn encode_signed(&self) -> Vec<u8> {
        self.signed.encode_to_vec()
    }

    /// The signed event as it travels to a peer: with its personal part when held.
    pub fn wire(&self) -> pb::SignedEvent {
        let mut signed = self.signed.clone();
        if let Some(part) = &self.personal {
            signed.personal = part.bytes.clone();
        }
        signed
    }

    /// Attaches a personal part if it matches the event's commitment; returns whether it did
    /// (a part that does not match, or an event about no one, leaves the event as it was).
    pub fn attach_personal(&mut self, bytes: Vec<u8>) -> bool {
        let Some(committed) = crate::personal::committed(self.body.as_ref()) else {
            return false;
        };
        match crate::personal::open(&bytes, committed) {
            Some(part) => {
                self.personal = Some(PersonalPart { bytes, part });
                true
            }
            None => false,
        }
    }

    /// The person this event's held part names.
    pub fn person(&self) -> Option<crate::person::PersonId> {
        self.personal.as_ref().map(|p| p.part.person)
    }

    /// A reference to this event, for other events' deps.
    pub fn as_ref(&self) -> EventRef {
        EventRef {
            author: self.author,
            seq: self.seq,
            id: self.id,
        }
    }
}

/// Decodes and verifies an encoded `SignedEvent` (as stored or received).
pub fn verify_encoded(bytes: &[u8], charter: &Charter) -> Result<VerifiedEvent, EnvelopeError> {
    if bytes.len() > SIGNED_EVENT_BYTES_MAX {
        return Err(EnvelopeError::Oversize {
            max: SIGNED_EVENT_BYTES_MAX,
            found: bytes.len(),
        });
    }
    let signed =
        pb::SignedEvent::decode(bytes).map_err(|e| EnvelopeError::SignedDecode(e.to_string()))?;
    verify_event(signed, charter)
}

/// Checks everything that does not need the store (see the module docs for the order).
pub fn verify_event(
    signed: pb::SignedEvent,
    charter: &Charter,
) -> Result<VerifiedEvent, EnvelopeError> {
    let (header, key) = check_unsigned(&signed, charter)?;
    key.verify_payload(&signed.payload, &signed.signature)?;
    Ok(header.into_verified(signed))
}

/// [`verify_event`] for an event read back from a node's own store, which checked its author's
/// membership when it came in: an author the charter does not name yet (a key an amendment
/// admitted, before the views that fold the amendment are read) is checked with its own key
/// as a hub. Integrity, not membership: never a verdict on an event received.
pub fn verify_stored_event(
    signed: pb::SignedEvent,
    charter: &Charter,
) -> Result<VerifiedEvent, EnvelopeError> {
    let (header, key) = check_fields(&signed, charter, true, Authors::Stored)?;
    key.verify_payload(&signed.payload, &signed.signature)?;
    Ok(header.into_verified(signed))
}

/// [`verify_event`] over many events: the same verdicts, in input order, with the signatures
/// checked together (one batch equation for the whole slice, [`crate::batch`]).
pub fn verify_events(
    batch: Vec<pb::SignedEvent>,
    charter: &Charter,
) -> Vec<Result<VerifiedEvent, EnvelopeError>> {
    let checked: Vec<Result<(CheckedHeader, crypto::PublicKey), EnvelopeError>> = batch
        .iter()
        .map(|signed| check_unsigned(signed, charter))
        .collect();
    let signatures: Vec<crate::batch::PayloadSignature<'_>> = checked
        .iter()
        .zip(&batch)
        .filter_map(|(checked, signed)| {
            let (_, key) = checked.as_ref().ok()?;
            Some(crate::batch::PayloadSignature {
                key,
                payload: &signed.payload,
                signature: &signed.signature,
            })
        })
        .collect();
    let mut verdicts = crate::batch::verify_payloads(&signatures).into_iter();
    let headers: Vec<Result<CheckedHeader, EnvelopeError>> = checked
        .into_iter()
        .map(|checked| checked.map(|(header, _)| header))
        .collect();
    headers
        .into_iter()
        .zip(batch)
        .map(|(header, signed)| {
            let header = header?;
            match verdicts.next() {
                Some(Ok(())) => Ok(header.into_verified(signed)),
                Some(Err(e)) => Err(e.into()),
                // One verdict per checked header: not reachable, refused rather than trusted.
                None => Err(CryptoError::BadSignature {
                    author: header.author,
                }
                .into()),
            }
        })
        .collect()
}

/// What [`check_unsigned`] extracts before the signature is checked.
#[derive(Debug)]
pub struct CheckedHeader {
    id: EventId,
    author: HubId,
    seq: u64,
    version: u32,
    prev: Option<EventId>,
    hlc: u64,
    deps: Vec<EventRef>,
    body: Option<pb::event::Body>,
}

impl CheckedHeader {
    /// The event's author.
    pub fn author(&self) -> HubId {
        self.author
    }

    /// The event's position in its author's feed.
    pub fn seq(&self) -> u64 {
        self.seq
    }

    /// Joins the header with the bytes it came from (after the signature was checked). The
    /// personal part, if any, is kept only if it matches the payload's commitment.
    pub fn into_verified(self, mut signed: pb::SignedEvent) -> VerifiedEvent {
        let part = std::mem::take(&mut signed.personal);
        let mut event = VerifiedEvent {
            id: self.id,
            author: self.author,
            seq: self.seq,
            version: self.version,
            prev: self.prev,
            hlc: self.hlc,
            deps: self.deps,
            body: self.body,
            signed,
            personal: None,
        };
        if !part.is_empty() {
            event.attach_personal(part);
        }
        event
    }
}

/// An `Event` payload's fields before its body: what a walk along a stored chain reads. The
/// body's bytes are skipped, not decoded; the event's id covers them all the same.
#[derive(Clone, PartialEq, Message)]
struct HeaderPeek {
    #[prost(uint32, tag = "1")]
    version: u32,
    #[prost(bytes = "vec", tag = "2")]
    federation: Vec<u8>,
    #[prost(bytes = "vec", tag = "3")]
    author: Vec<u8>,
    #[prost(uint64, tag = "4")]
    seq: u64,
    #[prost(bytes = "vec", tag = "5")]
    prev: Vec<u8>,
    #[prost(uint64, tag = "6")]
    hlc: u64,
    #[prost(message, repeated, tag = "7")]
    deps: Vec<pb::EventRef>,
}

/// Steps 1–6 of the module docs; returns the author's key for step 7.
pub fn check_unsigned(
    signed: &pb::SignedEvent,
    charter: &Charter,
) -> Result<(CheckedHeader, crypto::PublicKey), EnvelopeError> {
    check_fields(signed, charter, true, Authors::Members)
        .map(|(header, key)| (header, key.into_owned()))
}

/// [`check_unsigned`] without decoding the body (the header's `body` is `None`): for a walk
/// along stored chains, where a body's bytes matter only through the id, which the next
/// event's `prev` (or the head's signature) pins. Never a verdict on an event received.
pub fn check_unsigned_header(
    signed: &pb::SignedEvent,
    charter: &Charter,
) -> Result<CheckedHeader, EnvelopeError> {
    check_fields(signed, charter, false, Authors::Members).map(|(header, _)| header)
}

/// [`check_unsigned`] (with the body, or only the header) for an event read back from a
/// node's own store: an author the charter does not name is taken as a hub with its own key
/// ([`verify_stored_event`]).
pub fn check_stored(
    signed: &pb::SignedEvent,
    charter: &Charter,
    with_body: bool,
) -> Result<CheckedHeader, EnvelopeError> {
    check_fields(signed, charter, with_body, Authors::Stored).map(|(header, _)| header)
}

/// Whose events [`check_fields`] accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Authors {
    /// Hubs the charter names: what comes in.
    Members,
    /// Those, and any valid key not named (as a hub): what a store reads back.
    Stored,
}

/// The checks of steps 1–6, and the author's key: the charter's, borrowed (a walk along a
/// stored chain checks millions of events and needs no key), or one made from the author's id.
fn check_fields<'c>(
    signed: &pb::SignedEvent,
    charter: &'c Charter,
    with_body: bool,
    authors: Authors,
) -> Result<(CheckedHeader, std::borrow::Cow<'c, crypto::PublicKey>), EnvelopeError> {
    let payload = &signed.payload;
    if payload.len() > PAYLOAD_BYTES_MAX {
        return Err(EnvelopeError::Oversize {
            max: PAYLOAD_BYTES_MAX,
            found: payload.len(),
        });
    }
    if signed.signature.len() != 64 {
        return Err(CryptoError::SignatureLength {
            found: signed.signature.len(),
        }
        .into());
    }
    let decode_error = |e: prost::DecodeError| EnvelopeError::Decode(e.to_string());
    // The header (and the body) decoded first, in one pass; only a payload that does not
    // decode is read again for its version alone, so that an event of a later version is
    // refused as such. Whatever decodes as a header decodes as a version, the same one.
    let decoded = if with_body {
        pb::Event::decode(payload.as_slice()).map(|event| {
            let header = HeaderPeek {
                version: event.version,
                federation: event.federation,
                author: event.author,
                seq: event.seq,
                prev: event.prev,
                hlc: event.hlc,
                deps: event.deps,
            };
            (header, event.body)
        })
    } else {
        HeaderPeek::decode(payload.as_slice()).map(|header| (header, None))
    };
    let version = match &decoded {
        Ok((header, _)) => header.version,
        Err(_) => {
            VersionPeek::decode(payload.as_slice())
                .map_err(decode_error)?
                .version
        }
    };
    // The founding charter's version, or a later one this build implements: which of them an
    // author's event must follow is the fold's rule (the amendments in its causal past, §0).
    let expected = charter.protocol_version();
    if version != expected && !(version > expected && crate::version::implements(version)) {
        let position = PositionPeek::decode(payload.as_slice()).unwrap_or_default();
        return Err(EnvelopeError::Version {
            expected,
            found: version,
            author: HubId::try_from(position.author.as_slice()).ok(),
            seq: position.seq,
        });
    }
    let (event, body) = decoded.map_err(decode_error)?;
    let expected = charter.federation_id();
    match FederationId::try_from(event.federation.as_slice()) {
        Ok(found) if found == expected => {}
        Ok(found) => {
            return Err(EnvelopeError::Federation {
                expected: expected.to_hex(),
                found: found.to_hex(),
            });
        }
        Err(e) => {
            return Err(EnvelopeError::Federation {
                expected: expected.to_hex(),
                found: e.to_string(),
            });
        }
    }
    let author = HubId::try_from(event.author.as_slice()).map_err(|e| EnvelopeError::Field {
        field: "author",
        reason: e.to_string(),
    })?;
    // A founding member, or a key an amendment this node folded admitted (§1b).
    // Read in place: the member's name and départements are not copied for every event.
    let key = match (charter.member(&author), authors) {
        (Some(member), _) if member.role != Role::Hub => {
            return Err(EnvelopeError::NotAHub {
                author,
                name: member.name.clone(),
            });
        }
        (Some(member), _) => std::borrow::Cow::Borrowed(&member.key),
        (None, Authors::Members) => return Err(EnvelopeError::UnknownAuthor { author }),
        (None, Authors::Stored) => std::borrow::Cow::Owned(crypto::PublicKey::from_hub_id(author)?),
    };
    if event.seq == 0 {
        return Err(EnvelopeError::Field {
            field: "seq",
            reason: "expected >= 1, found 0".into(),
        });
    }
    let prev =
        match (event.seq, event.prev.len()) {
            (1, 0) => None,
            (1, n) => {
                return Err(EnvelopeError::Field {
                    field: "prev",
                    reason: format!("expected empty at seq 1, found {n} bytes"),
                });
            }
            (_, _) => Some(EventId::try_from(event.prev.as_slice()).map_err(|e| {
                EnvelopeError::Field {
                    field: "prev",
                    reason: e.to_string(),
                }
            })?),
        };
    let deps = check_deps(&event.deps, author)?;
    let header = CheckedHeader {
        id: crypto::event_id(payload),
        author,
        seq: event.seq,
        version: event.version,
        prev,
        hlc: event.hlc,
        deps,
        body,
    };
    Ok((header, key))
}

fn check_deps(deps: &[pb::EventRef], author: HubId) -> Result<Vec<EventRef>, EnvelopeError> {
    if deps.len() > DEPS_MAX {
        return Err(EnvelopeError::Field {
            field: "deps",
            reason: format!("expected at most {DEPS_MAX}, found {}", deps.len()),
        });
    }
    let mut seen = BTreeSet::new();
    let mut out = Vec::with_capacity(deps.len());
    for (i, d) in deps.iter().enumerate() {
        let dep_author =
            HubId::try_from(d.author.as_slice()).map_err(|e| EnvelopeError::Field {
                field: "deps",
                reason: format!("dep #{}: {e}", i + 1),
            })?;
        let id = EventId::try_from(d.id.as_slice()).map_err(|e| EnvelopeError::Field {
            field: "deps",
            reason: format!("dep #{}: {e}", i + 1),
        })?;
        if d.seq == 0 {
            return Err(EnvelopeError::Field {
                field: "deps",
                reason: format!("dep #{}: seq expected >= 1, found 0", i + 1),
            });
        }
        if dep_author == author {
            return Err(EnvelopeError::Field {
                field: "deps",
                reason: format!(
                    "dep #{}: names the author's own feed (its order is implied by prev)",
                    i + 1
                ),
            });
        }
        if !seen.insert((dep_author, d.seq)) {
            return Err(EnvelopeError::Field {
                field: "deps",
                reason: format!(
                    "dep #{}: ({}, {}) is listed twice",
                    i + 1,
                    dep_author.short(),
                    d.seq
                ),
            });
        }
        out.push(EventRef {
            author: dep_author,
            seq: d.seq,
            id,
        });
    }
    Ok(out)
}

/// The header fields an author fills in.
#[derive(Debug, Clone)]
pub struct Header {
    /// The federation.
    pub federation: FederationId,
    /// Position in the author's feed.
    pub seq: u64,
    /// Previous event id (`None` iff `seq == 1`).
    pub prev: Option<EventId>,
    /// Clock value.
    pub hlc: u64,
    /// Deps on other feeds.
    pub deps: Vec<EventRef>,
}

/// The event `author` would sign with `header` and `body`, unsigned: for the rules to judge a
/// draft before anything is signed. Never stored, sent or shown as an event.
pub(crate) fn unsigned_draft(
    author: HubId,
    header: Header,
    body: pb::event::Body,
) -> Result<VerifiedEvent, EnvelopeError> {
    let event = pb::Event {
        version: PROTOCOL_VERSION,
        federation: header.federation.0.to_vec(),
        author: author.0.to_vec(),
        seq: header.seq,
        prev: header.prev.map(|p| p.0.to_vec()).unwrap_or_default(),
        hlc: header.hlc,
        deps: header
            .deps
            .iter()
            .copied()
            .map(pb::EventRef::from)
            .collect(),
        body: Some(body),
    };
    let payload = event.encode_to_vec();
    if payload.len() > PAYLOAD_BYTES_MAX {
        return Err(EnvelopeError::Oversize {
            max: PAYLOAD_BYTES_MAX,
            found: payload.len(),
        });
    }
    Ok(VerifiedEvent {
        id: crypto::event_id(&payload),
        author,
        seq: header.seq,
        version: PROTOCOL_VERSION,
        prev: header.prev,
        hlc: header.hlc,
        deps: header.deps,
        body: event.body,
        signed: pb::SignedEvent {
            payload,
            signature: Vec::new(),
            personal: Vec::new(),
        },
        personal: None,
    })
}

/// Encodes a payload once and signs it. Fails only if the payload would exceed the limit.
pub fn sign_event(
    secret: &SecretKey,
    header: Header,
    body: pb::event::Body,
) -> Result<VerifiedEvent, EnvelopeError> {
    let author = secret.hub_id();
    // Every receiver refuses more deps than this: never sign such an event.
    if header.deps.len() > DEPS_MAX {
        return Err(EnvelopeError::Field {
            field: "deps",
            reason: format!("expected at most {DEPS_MAX}, found {}", header.deps.len()),
        });
    }
    let event = pb::Event {
        version: PROTOCOL_VERSION,
        federation: header.federation.0.to_vec(),
        author: author.0.to_vec(),
        seq: header.seq,
        prev: header.prev.map(|p| p.0.to_vec()).unwrap_or_default(),
        hlc: header.hlc,
        deps: header
            .deps
            .iter()
            .copied()
            .map(pb::EventRef::from)
            .collect(),
        body: Some(body),
    };
    let payload = event.encode_to_vec();
    if payload.len() > PAYLOAD_BYTES_MAX {
        return Err(EnvelopeError::Oversize {
            max: PAYLOAD_BYTES_MAX,
            found: payload.len(),
        });
    }
    let signature = secret.sign_payload(&payload).to_vec();
    Ok(VerifiedEvent {
        id: crypto::event_id(&payload),
        author,
        seq: header.seq,
        version: PROTOCOL_VERSION,
        prev: header.prev,
        hlc: header.hlc,
        deps: header.deps,
        body: event.body,
        signed: pb::SignedEvent {
            payload,
            signature,
            personal: Vec::new(),
        },
        personal: None,
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::charter::MemberSpec;

    fn setup() -> (SecretKey, SecretKey, Charter) {
        let hub = SecretKey::from_seed(&[1; 32]);
        let observer = SecretKey::from_seed(&[2; 32]);
        let charter = Charter::found(
            "Test",
            1,
            vec![
                MemberSpec {
                    key: hub.hub_id(),
                    name: "Hub".into(),
                    role: Role::Hub,
                    territories: vec!["13".into()],
                },
                MemberSpec {
                    key: observer.hub_id(),
                    name: "Obs".into(),
                    role: Role::Observer,
                    territories: vec![],
                },
            ],
        )
        .unwrap();
        (hub, observer, charter)
    }

    fn body() -> pb::event::Body {
        pb::event::Body::VenueClosed(pb::VenueClosed {
            venue_id: "v1".into(),
            reason: "test".into(),
            ..Default::default()
        })
    }

    fn header(charter: &Charter, seq: u64, prev: Option<EventId>) -> Header {
        Header {
            federation: charter.federation_id(),
            seq,
            prev,
            hlc: 1 << 16,
            deps: vec![],
        }
    }

    #[test]
    fn signed_event_round_trips_through_verification() {
        let (hub, _, charter) = setup();
        let ev = sign_event(&hub, header(&charter, 1, None), body()).unwrap();
        let again = verify_encoded(&ev.encode_signed(), &charter).unwrap();
        assert_eq!(again, ev);
        assert_eq!(again.id, crypto::event_id(&ev.signed.payload));
    }

    #[test]
    fn the_header_check_reads_what_the_full_check_reads_but_the_body() {
        let (hub, observer, charter) = setup();
        let first = sign_event(&hub, header(&charter, 1, None), body()).unwrap();
        let mut h = header(&charter, 2, Some(first.id));
        h.deps = vec![EventRef {
            author: observer.hub_id(),
            seq: 3,
            id: EventId([5; 32]),
        }];
        let event = sign_event(&hub, h, body()).unwrap();
        let (full, _) = check_unsigned(&event.signed, &charter).unwrap();
        let light = check_unsigned_header(&event.signed, &charter).unwrap();
        assert_eq!(light.body, None);
        assert_eq!(full.body, event.body);
        assert_eq!(
            (light.id, light.author, light.seq, light.version),
            (full.id, full.author, full.seq, full.version)
        );
        assert_eq!(
            (light.prev, light.hlc, &light.deps),
            (full.prev, full.hlc, &full.deps)
        );
        // The header's rules still hold: an observer's event, a stranger's.
        let ev = sign_event(&observer, header(&charter, 1, None), body()).unwrap();
        let error = check_unsigned_header(&ev.signed, &charter).unwrap_err();
        assert!(
            matches!(&error, EnvelopeError::NotAHub { name, .. } if name == "Obs"),
            "{error}"
        );
        let stranger = SecretKey::from_seed(&[9; 32]);
        let ev = sign_event(&stranger, header(&charter, 1, None), body()).unwrap();
        assert!(matches!(
            check_unsigned_header(&ev.signed, &charter),
            Err(EnvelopeError::UnknownAuthor { .. })
        ));
    }

    #[test]
    fn every_rule_rejects_with_expected_and_found() {
        let (hub, observer, charter) = setup();
        // Flipped payload byte: the signature no longer matches.
        let mut ev = sign_event(&hub, header(&charter, 1, None), body())
            .unwrap()
            .signed;
        let last = ev.payload.len() - 1;
        ev.payload[last] ^= 1;
        assert!(matches!(
            verify_event(ev, &charter),
            Err(EnvelopeError::Signature(_))
        ));
        // Observer as author.
        let ev = sign_event(&observer, header(&charter, 1, None), body())
            .unwrap()
            .signed;
        assert!(matches!(
            verify_event(ev, &charter),
            Err(EnvelopeError::NotAHub { .. })
        ));
        // Unknown author.
        let stranger = SecretKey::from_seed(&[9; 32]);
        let ev = sign_event(&stranger, header(&charter, 1, None), body())
            .unwrap()
            .signed;
        assert!(matches!(
            verify_event(ev, &charter),
            Err(EnvelopeError::UnknownAuthor { .. })
        ));
        // Wrong federation.
        let mut h = header(&charter, 1, None);
        h.federation = FederationId([7; 32]);
        let ev = sign_event(&hub, h, body()).unwrap().signed;
        let err = verify_event(ev, &charter).unwrap_err();
        assert!(
            err.to_string().starts_with("federation: expected "),
            "{err}"
        );
        // prev at seq 1, missing prev at seq 2.
        let ev = sign_event(&hub, header(&charter, 1, Some(EventId([1; 32]))), body())
            .unwrap()
            .signed;
        assert!(
            verify_event(ev, &charter)
                .unwrap_err()
                .to_string()
                .contains("expected empty at seq 1")
        );
        let ev = sign_event(&hub, header(&charter, 2, None), body())
            .unwrap()
            .signed;
        let err = verify_event(ev, &charter).unwrap_err();
        assert!(
            err.to_string().contains("32 octets attendus, 0 reçus"),
            "{err}"
        );
        // Oversize payload refused at signing and at verification.
        let big = pb::event::Body::VenueClosed(pb::VenueClosed {
            venue_id: "v".into(),
            reason: "x".repeat(PAYLOAD_BYTES_MAX),
            ..Default::default()
        });
        assert!(matches!(
            sign_event(&hub, header(&charter, 1, None), big),
            Err(EnvelopeError::Oversize { .. })
        ));
        let oversize = pb::SignedEvent {
            payload: vec![0; PAYLOAD_BYTES_MAX + 1],
            signature: vec![0; 64],
            personal: Vec::new(),
        };
        assert_eq!(
            verify_event(oversize, &charter),
            Err(EnvelopeError::Oversize {
                max: PAYLOAD_BYTES_MAX,
                found: PAYLOAD_BYTES_MAX + 1
            })
        );
        // Dep on own feed.
        let mut h = header(&charter, 2, Some(EventId([1; 32])));
        h.deps = vec![EventRef {
            author: hub.hub_id(),
            seq: 1,
            id: EventId([1; 32]),
        }];
        let ev = sign_event(&hub, h, body()).unwrap().signed;
        assert!(
            verify_event(ev, &charter)
                .unwrap_err()
                .to_string()
                .contains("own feed")
        );
    }

    /// A correctly signed event of `version`, built by hand as a node of that version would.
    fn signed_as_version(
        secret: &SecretKey,
        charter: &Charter,
        version: u32,
        seq: u64,
    ) -> pb::SignedEvent {
        let payload = pb::Event {
            version,
            federation: charter.federation_id().0.to_vec(),
            author: secret.hub_id().0.to_vec(),
            seq,
            prev: if seq == 1 { vec![] } else { vec![7; 32] },
            hlc: 1 << 16,
            deps: vec![],
            body: Some(body()),
        }
        .encode_to_vec();
        let signature = secret.sign_payload(&payload).to_vec();
        pb::SignedEvent {
            payload,
            signature,
            personal: Vec::new(),
        }
    }

    #[test]
    fn events_of_a_version_this_build_does_not_implement_are_refused() {
        let (hub, _, charter) = setup();
        assert_eq!(charter.protocol_version(), PROTOCOL_VERSION);
        // The same event at the charter's version verifies: only the version differs below.
        let ok = signed_as_version(&hub, &charter, PROTOCOL_VERSION, 1);
        verify_event(ok, &charter).unwrap();
        let later = signed_as_version(&hub, &charter, PROTOCOL_VERSION + 1, 4);
        let err = verify_event(later.clone(), &charter).unwrap_err();
        assert_eq!(
            err,
            EnvelopeError::Version {
                expected: PROTOCOL_VERSION,
                found: PROTOCOL_VERSION + 1,
                author: Some(hub.hub_id()),
                seq: 4,
            }
        );
        assert_eq!(
            err.to_string(),
            format!(
                "version: expected 2, found 3; this node implements protocol v2: upgrade \
                 maillage to a release that implements v3"
            )
        );
        assert_eq!(err.unsupported_version(), Some((3, Some(hub.hub_id()), 4)));
        // The batch path gives the same verdict.
        assert_eq!(verify_events(vec![later], &charter), vec![Err(err)]);
        // An event of protocol v1 (a release before versions were named) is refused too.
        let earlier = signed_as_version(&hub, &charter, 1, 1);
        let err = verify_event(earlier, &charter).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("version: expected 2, found 1; this node implements protocol v2"),
            "{err}"
        );
        assert!(err.to_string().contains("maillage init"), "{err}");
        // A payload of a later version need not decode as this version's `Event`: the version
        // is read alone first. Here field 2 carries a varint, which `Event` would refuse.
        let mut payload = vec![0x08, 0x03, 0x10, 0x01, 0x1a, 0x20];
        payload.extend([9u8; 32]);
        let odd = pb::SignedEvent {
            payload,
            signature: vec![0; 64],
            personal: Vec::new(),
        };
        assert!(pb::Event::decode(odd.payload.as_slice()).is_err());
        assert_eq!(
            verify_event(odd, &charter)
                .unwrap_err()
                .unsupported_version(),
            Some((3, Some(HubId([9; 32])), 0))
        );
    }

    #[test]
    fn garbage_never_panics() {
        let (_, _, charter) = setup();
        for len in [0usize, 1, 2, 10, 100] {
            let bytes: Vec<u8> = (0..len).map(|i| (i * 37 % 251) as u8).collect();
            let _ = verify_encoded(&bytes, &charter);
        }
    }
}
