//! Which link each feed is pulled from (docs/protocol.md §8, "One source per feed").
//!
//! A node pulls every feed from one peer at a time, so that each event arrives once: a link
//! asks its peer only for the feeds it is the source of, and the peer tells it, beside the
//! events, how far the feeds it does not serve have gone ("heard" heads). A feed goes to the
//! first link that plans a pull of it, and moves:
//! - to the link whose peer *is* the feed's author (nobody holds a feed sooner);
//! - to a link whose peer holds more of it, when the source brought nothing new for
//!   `fallback_ms` while that peer said it had more (a stalled, partitioned or lying source);
//! - to some other link when its source link ends.
//!
//! A link that took a feed over on its peer's word ("I hold up to seq N") and then brought
//! nothing of it for `fallback_ms` while this node held less than N broke its word: it loses
//! the feed, and may not be that feed's source again for [`BAR_FALLBACKS`] fallback delays,
//! whatever it says. Without this a member that claims to hold more of every feed than it
//! does would take each feed over whenever it stood still, and delay every new event by up
//! to `fallback_ms`.
//!
//! Pure bookkeeping: the links act on what it answers (replanning their pull).

use std::collections::{BTreeMap, BTreeSet};

use maillage_core::HubId;

/// Fallback delays during which a link that broke its word on a feed may not be its source.
pub const BAR_FALLBACKS: u64 = 12;

/// A feed's source: the link and the peer behind it, and its word if it took the feed over
/// on it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Source {
    link: String,
    peer: HubId,
    promise: Option<Promise>,
}

/// A source's word: it held the feed up to `seq`. This node held `held` at `since_ms`, the
/// last time the source brought something of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Promise {
    seq: u64,
    held: u64,
    since_ms: u64,
}

/// A feed a peer said it holds further than this node, since when, and how far this node
/// held it then.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Lag {
    since_ms: u64,
    held: u64,
}

/// The sources of every feed, and the feeds lagging behind what a peer said.
#[derive(Debug)]
pub struct Sources {
    by_author: BTreeMap<HubId, Source>,
    lagging: BTreeMap<HubId, Lag>,
    /// `(feed, link)` → until when (unix ms) the link may not be the feed's source: it broke
    /// its word on it. At most one entry per feed and configured peer.
    barred: BTreeMap<(HubId, String), u64>,
    /// A source lost its feed for breaking its word since [`Sources::take_dropped`] was last
    /// asked: the links must plan again.
    dropped: bool,
    /// How long a source may bring nothing while a peer holds more.
    fallback_ms: u64,
}

/// What a link's claim did.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Claim {
    /// The feeds the link pulls.
    pub feeds: BTreeSet<HubId>,
    /// Whether feeds were taken from other links (which must plan their pulls again).
    pub displaced: bool,
}

impl Sources {
    /// No source yet; a stalled source is replaced after `fallback_ms`.
    pub fn new(fallback_ms: u64) -> Self {
        Self {
            by_author: BTreeMap::new(),
            lagging: BTreeMap::new(),
            barred: BTreeMap::new(),
            dropped: false,
            fallback_ms,
        }
    }

    /// Link `link`, to `peer`, plans a pull of `wanted` at `now_ms`: the feeds it becomes (or
    /// stays) the source of. A feed the link is barred from is not among them.
    pub fn claim(&mut self, link: &str, peer: HubId, wanted: &[HubId], now_ms: u64) -> Claim {
        let mut claim = Claim::default();
        for author in wanted {
            if self.barred(link, author, now_ms) {
                continue;
            }
            let take = match self.by_author.get(author) {
                None => true,
                Some(source) if source.link == link => true,
                // The author itself is the best source of its feed.
                Some(source) if *author == peer && source.peer != *author => {
                    claim.displaced = true;
                    true
                }
                Some(_) => false,
            };
            if take {
                if !self.is_source(link, author) {
                    self.assign(*author, link, peer, None);
                }
                claim.feeds.insert(*author);
            }
        }
        claim
    }

    /// Link `link` ended: its feeds have no source until another link claims them. Whether
    /// it was the source of any.
    pub fn release(&mut self, link: &str) -> bool {
        let before = self.by_author.len();
        self.by_author.retain(|_, source| source.link != link);
        self.by_author.len() != before
    }

    /// Whether `link` is the source of `author`'s feed.
    pub fn is_source(&self, link: &str, author: &HubId) -> bool {
        self.by_author
            .get(author)
            .is_some_and(|source| source.link == link)
    }

    /// The feeds among `authors` no link is the source of.
    pub fn unsourced<'a>(&self, authors: impl IntoIterator<Item = &'a HubId>) -> Vec<HubId> {
        authors
            .into_iter()
            .filter(|a| !self.by_author.contains_key(a))
            .copied()
            .collect()
    }

    /// Whether `link` may not be the source of `author`'s feed at `now_ms` (it broke its
    /// word on it less than [`BAR_FALLBACKS`] fallback delays ago).
    pub fn barred(&self, link: &str, author: &HubId, now_ms: u64) -> bool {
        self.barred
            .get(&(*author, link.to_owned()))
            .is_some_and(|until| now_ms < *until)
    }

    /// Link `link`'s peer said it holds `author`'s feed up to `seq`; this node holds `held`.
    /// Returns true when `link` takes the feed over: nobody pulls it, or this node made no
    /// progress on it for the fallback delay while a peer had more.
    ///
    /// Every call also holds the feed's source to its word, if it took the feed over on one,
    /// when this node `takes` the feed's events now (its key is a member here): a feed whose
    /// key an amendment admits only later cannot move, whoever its source is.
    pub fn heard(
        &mut self,
        link: &str,
        peer: HubId,
        author: HubId,
        (seq, held): (u64, u64),
        now_ms: u64,
        takes: bool,
    ) -> bool {
        if takes {
            self.keep_word(author, held, now_ms);
        }
        if self.barred(link, &author, now_ms) {
            return false;
        }
        if seq <= held {
            if self.lagging.get(&author).is_some_and(|lag| lag.held < held) {
                self.lagging.remove(&author);
            }
            return false;
        }
        if self.is_source(link, &author) {
            return false;
        }
        let promise = takes.then_some(Promise {
            seq,
            held,
            since_ms: now_ms,
        });
        if !self.by_author.contains_key(&author) {
            // Nobody pulls it: the peer that has it is the source.
            self.lagging.remove(&author);
            self.assign(author, link, peer, promise);
            return true;
        }
        let lag = self.lagging.entry(author).or_insert(Lag {
            since_ms: now_ms,
            held,
        });
        if held > lag.held {
            // The source brought something since: it is not stalled.
            *lag = Lag {
                since_ms: now_ms,
                held,
            };
            return false;
        }
        if now_ms.saturating_sub(lag.since_ms) < self.fallback_ms {
            return false;
        }
        self.lagging.remove(&author);
        self.assign(author, link, peer, promise);
        true
    }

    /// Holds `author`'s source to its word, this node holding `held` at `now_ms`: kept once
    /// this node holds what it said; broken when it brought nothing for the fallback delay
    /// before that (the feed loses its source and the link is barred from it).
    fn keep_word(&mut self, author: HubId, held: u64, now_ms: u64) {
        let Some(source) = self.by_author.get_mut(&author) else {
            return;
        };
        let Some(promise) = &mut source.promise else {
            return;
        };
        if held >= promise.seq {
            source.promise = None;
        } else if held > promise.held {
            promise.held = held;
            promise.since_ms = now_ms;
        } else if now_ms.saturating_sub(promise.since_ms) >= self.fallback_ms {
            let until = now_ms.saturating_add(self.fallback_ms.saturating_mul(BAR_FALLBACKS));
            self.barred.retain(|_, until| now_ms < *until);
            self.barred.insert((author, source.link.clone()), until);
            self.by_author.remove(&author);
            self.dropped = true;
        }
    }

    /// Whether a source lost its feed for breaking its word since the last call.
    pub fn take_dropped(&mut self) -> bool {
        std::mem::take(&mut self.dropped)
    }

    fn assign(&mut self, author: HubId, link: &str, peer: HubId, promise: Option<Promise>) {
        self.by_author.insert(
            author,
            Source {
                link: link.to_owned(),
                peer,
                promise,
            },
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hub(n: u8) -> HubId {
        HubId([n; 32])
    }

    #[test]
    fn each_feed_has_one_source_and_the_author_takes_its_own() {
        let mut s = Sources::new(5_000);
        let all = [hub(1), hub(2), hub(3)];
        // The first link planned takes every feed.
        let a = s.claim("to-2", hub(2), &all, 0);
        assert_eq!(a.feeds.len(), 3);
        assert!(!a.displaced);
        // A link to hub 3 takes only hub 3's own feed, displacing the first link.
        let b = s.claim("to-3", hub(3), &all, 0);
        assert_eq!(b.feeds, BTreeSet::from([hub(3)]));
        assert!(b.displaced);
        assert!(!s.is_source("to-2", &hub(3)));
        // The first link, planning again, keeps the rest.
        let a = s.claim("to-2", hub(2), &all, 0);
        assert_eq!(a.feeds, BTreeSet::from([hub(1), hub(2)]));
        // A link ends: its feeds wait for a new source.
        assert!(s.release("to-2"));
        assert_eq!(s.unsourced(&all), vec![hub(1), hub(2)]);
        assert!(!s.release("to-2"));
        // A peer that says it holds a feed nobody pulls becomes its source at once.
        assert!(s.heard("to-3", hub(3), hub(1), (4, 0), 7_000, true));
        assert!(s.is_source("to-3", &hub(1)));
    }

    #[test]
    fn a_stalled_source_is_replaced_only_after_the_fallback_delay_without_progress() {
        let mut s = Sources::new(5_000);
        s.claim("to-2", hub(2), &[hub(1)], 0);
        // Peer 3 holds seq 10 of hub 1; this node holds 4.
        assert!(!s.heard("to-3", hub(3), hub(1), (10, 4), 1_000, true));
        // Progress in the meantime: the clock restarts.
        assert!(!s.heard("to-3", hub(3), hub(1), (12, 6), 5_500, true));
        assert!(!s.heard("to-3", hub(3), hub(1), (12, 6), 9_000, true));
        // No progress for the whole delay: link to-3 takes the feed.
        assert!(s.heard("to-3", hub(3), hub(1), (12, 6), 10_500, true));
        assert!(s.is_source("to-3", &hub(1)));
        // The source's own announcements never displace it, nor does a peer behind.
        assert!(!s.heard("to-3", hub(3), hub(1), (20, 6), 90_000, true));
        assert!(!s.heard("to-2", hub(2), hub(1), (5, 6), 90_000, true));
    }

    #[test]
    fn a_link_that_took_a_feed_on_its_word_and_brought_nothing_loses_it_and_is_barred() {
        let mut s = Sources::new(5_000);
        s.claim("to-2", hub(2), &[hub(1)], 0);
        // Peer 3 says it holds seq 1,000 of hub 1; this node holds 10 and the source has
        // nothing more. After the delay, link to-3 takes the feed over on that word.
        assert!(!s.heard("to-3", hub(3), hub(1), (1_000, 10), 1_000, true));
        assert!(s.heard("to-3", hub(3), hub(1), (1_000, 10), 6_000, true));
        assert!(s.is_source("to-3", &hub(1)));
        assert!(!s.take_dropped());
        // It brings a little, then nothing: the delay counts from its last progress.
        assert!(!s.heard("to-2", hub(2), hub(1), (12, 12), 9_000, true));
        assert!(s.is_source("to-3", &hub(1)));
        assert!(!s.heard("to-2", hub(2), hub(1), (12, 12), 13_999, true));
        assert!(s.is_source("to-3", &hub(1)));
        // Nothing for the whole delay while this node holds less than it said: word broken.
        assert!(!s.heard("to-2", hub(2), hub(1), (12, 12), 14_000, true));
        assert!(!s.is_source("to-3", &hub(1)));
        assert!(s.take_dropped());
        assert!(!s.take_dropped());
        assert_eq!(s.unsourced(&[hub(1)]), vec![hub(1)]);
        // Barred: neither its word nor its plan makes it the source again...
        assert!(s.barred("to-3", &hub(1), 14_000));
        assert!(!s.heard("to-3", hub(3), hub(1), (1_000, 12), 30_000, true));
        assert!(s.claim("to-3", hub(3), &[hub(1)], 30_000).feeds.is_empty());
        // ...while another link may take it, and the bar ends after its delays.
        assert_eq!(
            s.claim("to-2", hub(2), &[hub(1)], 30_000).feeds,
            BTreeSet::from([hub(1)])
        );
        let end = 14_000 + 5_000 * BAR_FALLBACKS;
        assert!(s.barred("to-3", &hub(1), end - 1));
        assert!(!s.barred("to-3", &hub(1), end));
    }

    #[test]
    fn a_link_that_brings_what_it_said_keeps_the_feed() {
        let mut s = Sources::new(5_000);
        s.claim("to-2", hub(2), &[hub(1)], 0);
        assert!(!s.heard("to-3", hub(3), hub(1), (50, 10), 0, true));
        assert!(s.heard("to-3", hub(3), hub(1), (50, 10), 5_000, true));
        // It delivers everything it said, then the feed stands still for a long time.
        assert!(!s.heard("to-2", hub(2), hub(1), (50, 50), 7_000, true));
        assert!(!s.heard("to-2", hub(2), hub(1), (50, 50), 100_000, true));
        assert!(s.is_source("to-3", &hub(1)));
        assert!(!s.barred("to-3", &hub(1), 100_000));
        assert!(!s.take_dropped());
    }

    #[test]
    fn a_feed_this_node_cannot_take_yet_holds_no_source_to_its_word() {
        let mut s = Sources::new(5_000);
        // Hub 1's key is not a member here yet (an amendment admits it later): nothing of its
        // feed can be stored, whoever its source is.
        assert!(s.heard("to-3", hub(3), hub(1), (5, 0), 0, false));
        assert!(!s.heard("to-2", hub(2), hub(1), (5, 0), 60_000, false));
        assert!(s.is_source("to-3", &hub(1)));
        // Once it is, the source brings the feed as before, barred from nothing.
        assert!(!s.heard("to-2", hub(2), hub(1), (5, 0), 61_000, true));
        assert!(!s.barred("to-3", &hub(1), 61_000));
        assert!(!s.take_dropped());
    }
}
