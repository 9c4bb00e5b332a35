//! Authoring one's own feed: sequence numbers, `prev` links and clock values.

use maillage_proto::v1 as pb;
use thiserror::Error;

use crate::chain::Head;
use crate::crypto::SecretKey;
use crate::envelope::{EnvelopeError, EventRef, Header, VerifiedEvent, sign_event};
use crate::hlc::HybridClock;
use crate::ids::{FederationId, HubId};

/// Why an event could not be authored.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum AuthorError {
    /// The event would be invalid (too large).
    #[error(transparent)]
    Envelope(#[from] EnvelopeError),
}

/// The writing end of a node's own feed. Created from the head the store holds, so a
/// restarted node never re-uses a sequence number.
#[derive(Debug)]
pub struct FeedWriter {
    secret: SecretKey,
    federation: FederationId,
    head: Option<Head>,
    clock: HybridClock,
}

impl FeedWriter {
    /// Continues the feed after `head`; `last_hlc` is the HLC of the head event (the node's
    /// own last value). Values of other members are taken in through [`FeedWriter::clock_mut`]
    /// and [`HybridClock::observe`], within its bound.
    pub fn new(
        secret: SecretKey,
        federation: FederationId,
        head: Option<Head>,
        last_hlc: u64,
        max_ahead_ms: u64,
    ) -> Self {
        Self {
            secret,
            federation,
            head,
            clock: HybridClock::resume(last_hlc, max_ahead_ms),
        }
    }

    /// This feed's author.
    pub fn author(&self) -> HubId {
        self.secret.hub_id()
    }

    /// The last event authored.
    pub fn head(&self) -> Option<Head> {
        self.head
    }

    /// The clock, to observe remote values.
    pub fn clock_mut(&mut self) -> &mut HybridClock {
        &mut self.clock
    }

    /// Signs the next event. The caller must store it durably before signing events that
    /// depend on it being acknowledged; if storing fails, call [`FeedWriter::rewind`].
    pub fn next(
        &mut self,
        body: pb::event::Body,
        deps: Vec<EventRef>,
        wall_ms: u64,
    ) -> Result<VerifiedEvent, AuthorError> {
        let hlc = self.next_hlc(wall_ms);
        self.sign_at(body, deps, hlc)
    }

    /// The clock value the next event carries (the clock ticks: ask once per event). An
    /// author judging an event before signing it judges it with this value, then signs it
    /// with [`FeedWriter::sign_at`].
    pub fn next_hlc(&mut self, wall_ms: u64) -> u64 {
        self.clock.tick(wall_ms)
    }

    /// The seq and `prev` of the next event.
    pub fn next_position(&self) -> (u64, Option<crate::ids::EventId>) {
        (self.head.map_or(1, |h| h.seq + 1), self.head.map(|h| h.id))
    }

    /// Signs the next event with clock value `hlc` (from [`FeedWriter::next_hlc`]).
    pub fn sign_at(
        &mut self,
        body: pb::event::Body,
        deps: Vec<EventRef>,
        hlc: u64,
    ) -> Result<VerifiedEvent, AuthorError> {
        let (seq, prev) = self.next_position();
        let header = Header {
            federation: self.federation,
            seq,
            prev,
            hlc,
            deps,
        };
        let event = sign_event(&self.secret, header, body)?;
        self.head = Some(Head {
            seq: event.seq,
            id: event.id,
        });
        Ok(event)
    }

    /// Resets the head after a failed store write, so the same seq is reused only for events
    /// that were never acknowledged.
    pub fn rewind(&mut self, head: Option<Head>) {
        self.head = head;
    }
}
