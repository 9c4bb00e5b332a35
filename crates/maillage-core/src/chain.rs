//! Chain rules (protocol section 3.2): each author's feed is `1, 2, 3 …` with no gap, each
//! event naming its predecessor's id.

use thiserror::Error;

use crate::envelope::VerifiedEvent;
use crate::ids::{EventId, HubId};

/// The last event of a feed as held by a node.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
pub struct Head {
    /// Sequence number of the last event.
    pub seq: u64,
    /// Its id.
    pub id: EventId,
}

/// Where an event stands against a feed's head.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Position {
    /// `seq == head.seq + 1` (or 1 on an empty feed) and `prev` is the head: append it.
    Next,
    /// `seq <= head.seq`: either already stored (same id) or a fork (different id).
    Known,
}

/// An event that cannot extend the feed.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ChainError {
    /// The event is ahead of the feed: the events in between are missing.
    #[error("{}", crate::tr!(
        "flux {author} : trou : position {expected} attendue, {found} reçue",
        "feed {author}: gap: expected seq {expected}, found {found}"
    ))]
    Gap {
        /// The feed.
        author: HubId,
        /// The next seq the feed can take.
        expected: u64,
        /// The event's seq.
        found: u64,
    },
    /// Right position, wrong predecessor: the author signed two different events at `seq - 1`.
    #[error("{}", crate::tr!(
        "flux {author} : position {seq} : prédécesseur {expected} attendu, {found} reçu",
        "feed {author}: seq {seq}: prev expected {expected}, found {found}"
    ))]
    PrevMismatch {
        /// The feed.
        author: HubId,
        /// The event's seq.
        seq: u64,
        /// The stored head id.
        expected: EventId,
        /// The event's prev.
        found: EventId,
    },
}

/// Places `event` against `head` (the feed's last stored event, if any).
pub fn position(head: Option<Head>, event: &VerifiedEvent) -> Result<Position, ChainError> {
    let next = head.map_or(1, |h| h.seq + 1);
    if event.seq < next {
        return Ok(Position::Known);
    }
    if event.seq > next {
        return Err(ChainError::Gap {
            author: event.author,
            expected: next,
            found: event.seq,
        });
    }
    match (head, event.prev) {
        (None, None) => Ok(Position::Next),
        (Some(h), Some(prev)) if h.id == prev => Ok(Position::Next),
        (Some(h), Some(prev)) => Err(ChainError::PrevMismatch {
            author: event.author,
            seq: event.seq,
            expected: h.id,
            found: prev,
        }),
        // The envelope check guarantees prev is present iff seq > 1, and next == 1 iff head
        // is None: these arms cannot be reached by a verified event.
        (None, Some(prev)) => Err(ChainError::PrevMismatch {
            author: event.author,
            seq: event.seq,
            expected: EventId([0; 32]),
            found: prev,
        }),
        (Some(h), None) => Err(ChainError::PrevMismatch {
            author: event.author,
            seq: event.seq,
            expected: h.id,
            found: EventId([0; 32]),
        }),
    }
}

/// Verifies that `events` form a contiguous chain from seq 1 (a whole feed, in order).
/// Returns the first broken event's index and why.
pub fn check_feed<'a>(
    events: impl IntoIterator<Item = &'a VerifiedEvent>,
) -> Result<Option<Head>, (usize, ChainError)> {
    let mut head: Option<Head> = None;
    for (index, event) in events.into_iter().enumerate() {
        match position(head, event) {
            Ok(Position::Next) => {
                head = Some(Head {
                    seq: event.seq,
                    id: event.id,
                })
            }
            Ok(Position::Known) => {
                let expected = head.map_or(1, |h| h.seq + 1);
                return Err((
                    index,
                    ChainError::Gap {
                        author: event.author,
                        expected,
                        found: event.seq,
                    },
                ));
            }
            Err(e) => return Err((index, e)),
        }
    }
    Ok(head)
}
