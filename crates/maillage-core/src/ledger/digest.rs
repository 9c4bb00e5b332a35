//! The state digest (docs/protocol.md §5): data only, kept up to date by each applied event.
//!
//! Every applied event extends one hash chain of its author's feed for the view it changes:
//! `chain = SHA-256("maillage/v2/digest-chain\0" || chain || event id || canonical bytes)`,
//! where the canonical bytes ([`Canonical`]) are the typed values the event wrote (its
//! [`super::effect::Effect`]) or, for a rejected event, the rule's code. Within a feed events
//! are applied in seq order, and each verdict depends only on the event's causal past, so every
//! node holding the same events holds the same chains, whatever the order they arrived in.
//!
//! The digest hashes, in charter order, each member's applied seq and chains: a call costs a
//! few kilobytes of hashing whatever the number of events. No English text, no `Debug`
//! output and no serde format enter it.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::causal::Members;
use crate::date::Day;
use crate::ids::{EventId, HubId};

/// Domain tag of the state digest.
pub const DIGEST_TAG: &[u8] = b"maillage/v2/state-digest\0";
/// Domain tag of one view's part of the digest.
pub const PART_TAG: &[u8] = b"maillage/v2/digest-part\0";
/// Domain tag of a chain link.
pub const CHAIN_TAG: &[u8] = b"maillage/v2/digest-chain\0";

/// The views, as the digest names them. The tag is part of the encoding: never renumbered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum View {
    /// Venues registered, updated, closed.
    Venues = 0,
    /// Qualifications granted and revoked.
    Qualifications = 1,
    /// Batches issued.
    Batches = 2,
    /// Voucher states.
    Vouchers = 3,
    /// Claims made and answered.
    Claims = 4,
    /// Referrals.
    Referrals = 5,
    /// Accompaniments and erasures.
    People = 6,
    /// Settlements.
    Settlements = 7,
    /// Rejected events and their codes.
    Rejections = 8,
    /// Charter amendments proposed and endorsed.
    Membership = 9,
}

/// Every view with its name, in tag order.
pub const VIEWS: [(View, &str); 10] = [
    (View::Venues, "venues"),
    (View::Qualifications, "qualifications"),
    (View::Batches, "batches"),
    (View::Vouchers, "vouchers"),
    (View::Claims, "claims"),
    (View::Referrals, "referrals"),
    (View::People, "people"),
    (View::Settlements, "settlements"),
    (View::Rejections, "rejections"),
    (View::Membership, "membership"),
];

/// The canonical encoding of typed values (docs/protocol.md §5): integers big-endian at their
/// width, a day as its signed day number (i32), ids and keys as their raw bytes, strings and
/// byte strings prefixed by their length (u32), options by a byte 0 or 1, lists by their
/// length (u32), enums by their tag (u8).
#[derive(Debug, Default)]
pub struct Canonical(Vec<u8>);

impl Canonical {
    /// An encoding starting with `tag` (the kind of effect).
    pub fn new(tag: u8) -> Self {
        Self(vec![tag])
    }

    /// The bytes.
    pub fn bytes(&self) -> &[u8] {
        &self.0
    }

    /// A byte.
    pub fn u8(&mut self, v: u8) -> &mut Self {
        self.0.push(v);
        self
    }

    /// A u32.
    pub fn u32(&mut self, v: u32) -> &mut Self {
        self.0.extend_from_slice(&v.to_be_bytes());
        self
    }

    /// A u64.
    pub fn u64(&mut self, v: u64) -> &mut Self {
        self.0.extend_from_slice(&v.to_be_bytes());
        self
    }

    /// A boolean as 0 or 1.
    pub fn bool(&mut self, v: bool) -> &mut Self {
        self.u8(u8::from(v))
    }

    /// A day.
    pub fn day(&mut self, v: Day) -> &mut Self {
        self.0.extend_from_slice(&v.0.to_be_bytes());
        self
    }

    /// A string (UTF-8, length-prefixed).
    pub fn str(&mut self, v: &str) -> &mut Self {
        self.u32(v.len() as u32);
        self.0.extend_from_slice(v.as_bytes());
        self
    }

    /// An event id.
    pub fn id(&mut self, v: &EventId) -> &mut Self {
        self.0.extend_from_slice(&v.0);
        self
    }

    /// A member key.
    pub fn hub(&mut self, v: &HubId) -> &mut Self {
        self.0.extend_from_slice(&v.0);
        self
    }

    /// A personal part's commitment (never the person: §2b).
    pub fn commitment(&mut self, v: &[u8; 32]) -> &mut Self {
        self.0.extend_from_slice(v);
        self
    }

    /// An optional value.
    pub fn opt<T>(&mut self, v: Option<T>, f: impl FnOnce(&mut Self, T)) -> &mut Self {
        match v {
            None => self.u8(0),
            Some(v) => {
                self.u8(1);
                f(self, v);
                self
            }
        }
    }

    /// A list.
    pub fn list<T>(&mut self, items: &[T], mut f: impl FnMut(&mut Self, &T)) -> &mut Self {
        self.u32(items.len() as u32);
        for item in items {
            f(self, item);
        }
        self
    }
}

/// The chains of every member's feed, one per view.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Chains {
    /// By member index (charter order), by view tag.
    heads: Vec<[[u8; 32]; VIEWS.len()]>,
}

impl Chains {
    /// Extends the chain of `feed` for `view` with an applied event and its canonical bytes.
    pub fn extend(&mut self, feed: u32, view: View, event: &EventId, bytes: &[u8]) {
        let feed = feed as usize;
        if self.heads.len() <= feed {
            self.heads.resize(feed + 1, [[0; 32]; VIEWS.len()]);
        }
        let head = &mut self.heads[feed][view as usize];
        let mut hasher = Sha256::new();
        hasher.update(CHAIN_TAG);
        hasher.update(*head);
        hasher.update(event.0);
        hasher.update(bytes);
        *head = hasher.finalize().into();
    }

    /// One view's part: its chains in charter order (`order`: the members' indices), each
    /// after its member's key.
    pub fn part(&self, view: View, members: &Members, order: &[u32]) -> [u8; 32] {
        let mut hasher = Sha256::new();
        hasher.update(PART_TAG);
        hasher.update([view as u8]);
        for &index in order {
            hasher.update(members.hub(index).0);
            let head = (self.heads.get(index as usize)).map_or([0; 32], |h| h[view as usize]);
            hasher.update(head);
        }
        hasher.finalize().into()
    }

    /// The digest: the protocol version, each member's applied seq, then each view's part.
    pub fn digest(
        &self,
        members: &Members,
        order: &[u32],
        applied: &dyn Fn(u32) -> u64,
    ) -> [u8; 32] {
        let mut hasher = Sha256::new();
        hasher.update(DIGEST_TAG);
        hasher.update(crate::envelope::PROTOCOL_VERSION.to_be_bytes());
        for &index in order {
            hasher.update(members.hub(index).0);
            hasher.update(applied(index).to_be_bytes());
        }
        for (view, _) in VIEWS {
            hasher.update(self.part(view, members, order));
        }
        hasher.finalize().into()
    }
}
