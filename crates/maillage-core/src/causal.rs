//! Causal delivery and causal pasts (protocol sections 3 and 4).
//!
//! An event is applied only after its predecessor in its feed and every event it names in
//! `deps`; until then it waits in a bounded buffer. Each applied event's causal past is kept
//! as a vector clock (feed → highest seq in the past). Clocks only change at events with
//! deps, so a feed keeps a snapshot there and nowhere else: the clock of `(author, seq)` is the
//! last snapshot at or before `seq`, with the author's own entry set to `seq`.
//!
//! Rules are evaluated against the causal past only, so the verdict on an event is the same on
//! every node whatever order events arrived in.
//!
//! A feed frozen after a fork ([`CausalIndex::freeze`]) ends at its last valid event: a dep
//! naming one of its later events counts as naming that last valid event. An honest hub that
//! received one half of an equivocation before the proof reached it has named it in its deps;
//! without this, its own feed would wait forever for an event no node will apply.

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::envelope::{EventRef, VerifiedEvent};
use crate::ids::{EventId, HubId};

/// Feed → highest seq of that feed in a causal past.
pub type VectorClock = BTreeMap<HubId, u64>;

/// The causal past of one event: its own feed before it, its deps and their pasts.
#[derive(Debug, Clone)]
pub struct Past {
    author: HubId,
    seq: u64,
    /// Other feeds (an entry for `author` itself may be stale: own-feed questions use `seq`).
    clock: Arc<VectorClock>,
}

impl Past {
    /// True if `(author, seq)` is in this past (an event is not in its own past).
    pub fn contains(&self, author: &HubId, seq: u64) -> bool {
        if *author == self.author {
            return seq < self.seq;
        }
        self.clock.get(author).is_some_and(|s| *s >= seq)
    }

    /// True if the referenced event is in this past.
    pub fn contains_ref(&self, r: &EventRef) -> bool {
        self.contains(&r.author, r.seq)
    }

    /// The highest seq of `author` in this past.
    pub fn seq_of(&self, author: &HubId) -> u64 {
        if *author == self.author {
            return self.seq - 1;
        }
        self.clock.get(author).copied().unwrap_or(0)
    }
}

#[derive(Debug, Default, Clone, serde::Serialize, serde::Deserialize)]
struct Feed {
    /// Ids of applied events; index `seq - 1`.
    ids: Vec<EventId>,
    /// Clock snapshots `(seq, clock of that event)` at events whose deps widened the clock,
    /// shared with the pasts of the events that follow.
    snapshots: Vec<(u64, Arc<VectorClock>)>,
}

/// Why an offered event could not be applied yet (or ever).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Offer {
    /// Applied now (and maybe others that waited for it).
    Applied,
    /// Already applied.
    Duplicate,
    /// Waiting for the predecessor or a dep.
    Waiting,
    /// The buffer is full: offer it again later (it is in the store).
    BufferFull,
}

/// Tracks what is applied and orders delivery. Persisted without the waiting events: they
/// are in the store and are offered again after a reload.
#[derive(Debug, Default, Clone, serde::Serialize, serde::Deserialize)]
pub struct CausalIndex {
    feeds: BTreeMap<HubId, Feed>,
    #[serde(skip)]
    pending: BTreeMap<(HubId, u64), VerifiedEvent>,
    /// Missing `(author, seq)` → pending events waiting for it.
    #[serde(skip)]
    waiting: BTreeMap<(HubId, u64), Vec<(HubId, u64)>>,
    pending_max: usize,
    /// Feeds frozen after a fork: author → last valid seq. Not persisted: the node sets it
    /// from its store's fork proofs before folding.
    #[serde(skip)]
    frozen: BTreeMap<HubId, u64>,
}

impl CausalIndex {
    /// An empty index whose waiting buffer holds at most `pending_max` events.
    pub fn new(pending_max: usize) -> Self {
        Self {
            pending_max,
            ..Self::default()
        }
    }

    /// Sets the bound of the waiting buffer (after loading a snapshot).
    pub fn set_pending_max(&mut self, pending_max: usize) {
        self.pending_max = pending_max;
    }

    /// Freezes `author`'s feed at `valid_until` (a fork at `valid_until + 1`): deps naming
    /// later events of it count as naming event `valid_until` (none if 0). Set it before
    /// offering events that may name the feed: pasts already computed are not revised.
    pub fn freeze(&mut self, author: HubId, valid_until: u64) {
        self.frozen.insert(author, valid_until);
    }

    /// The requirement a dep stands for: itself, or, past a frozen feed's last valid event,
    /// that event (`seq` 0: nothing).
    fn effective(&self, dep: &EventRef) -> (HubId, u64, Option<EventId>) {
        match self.frozen.get(&dep.author) {
            Some(valid) if dep.seq > *valid => (dep.author, *valid, None),
            _ => (dep.author, dep.seq, Some(dep.id)),
        }
    }

    /// Applied events per feed.
    pub fn applied(&self) -> BTreeMap<HubId, u64> {
        self.feeds
            .iter()
            .map(|(a, f)| (*a, f.ids.len() as u64))
            .collect()
    }

    /// Total applied events.
    pub fn applied_count(&self) -> u64 {
        self.feeds.values().map(|f| f.ids.len() as u64).sum()
    }

    /// Events waiting for a predecessor or a dep.
    pub fn pending_count(&self) -> usize {
        self.pending.len()
    }

    /// The id of an applied event.
    pub fn id_of(&self, author: &HubId, seq: u64) -> Option<EventId> {
        let index = usize::try_from(seq.checked_sub(1)?).ok()?;
        self.feeds.get(author)?.ids.get(index).copied()
    }

    fn is_applied(&self, r: &EventRef) -> bool {
        match self.effective(r) {
            (_, 0, _) => true,
            (author, seq, Some(id)) => self.id_of(&author, seq) == Some(id),
            (author, seq, None) => self.id_of(&author, seq).is_some(),
        }
    }

    /// The first requirement of `event` not yet applied.
    fn missing(&self, event: &VerifiedEvent) -> Option<(HubId, u64)> {
        let applied = self
            .feeds
            .get(&event.author)
            .map_or(0, |f| f.ids.len() as u64);
        if applied + 1 < event.seq {
            // Wait for the direct predecessor, not the feed's next missing event: a run of
            // waiting events then wakes up one by one instead of all re-checking each time.
            return Some((event.author, event.seq - 1));
        }
        event.deps.iter().find(|d| !self.is_applied(d)).map(|d| {
            let (author, seq, _) = self.effective(d);
            (author, seq)
        })
    }

    /// The clock of other feeds at an applied event: its feed's last snapshot at or before
    /// `seq` (no allocation).
    fn snapshot_at(&self, author: &HubId, seq: u64) -> Option<Arc<VectorClock>> {
        let feed = self.feeds.get(author)?;
        let index = feed.snapshots.partition_point(|(s, _)| *s <= seq);
        index
            .checked_sub(1)
            .map(|i| Arc::clone(&feed.snapshots[i].1))
    }

    /// The vector clock of an applied event (its own entry included).
    pub fn clock_of(&self, author: &HubId, seq: u64) -> VectorClock {
        let mut clock = self
            .snapshot_at(author, seq)
            .map(|c| (*c).clone())
            .unwrap_or_default();
        clock.insert(*author, seq);
        clock
    }

    /// Offers an event; every event that becomes ready is passed to `apply` with its past, in
    /// a causal order.
    pub fn offer(
        &mut self,
        event: VerifiedEvent,
        apply: &mut dyn FnMut(&VerifiedEvent, &Past),
    ) -> Offer {
        let applied = self
            .feeds
            .get(&event.author)
            .map_or(0, |f| f.ids.len() as u64);
        if event.seq <= applied || self.pending.contains_key(&(event.author, event.seq)) {
            return Offer::Duplicate;
        }
        if let Some(missing) = self.missing(&event) {
            if self.pending.len() >= self.pending_max {
                return Offer::BufferFull;
            }
            let key = (event.author, event.seq);
            self.waiting.entry(missing).or_default().push(key);
            self.pending.insert(key, event);
            return Offer::Waiting;
        }
        let mut ready = vec![event];
        while let Some(event) = ready.pop() {
            let key = (event.author, event.seq);
            self.apply_ready(&event, apply);
            for waiter in self.waiting.remove(&key).unwrap_or_default() {
                let Some(pending) = self.pending.remove(&waiter) else {
                    continue;
                };
                match self.missing(&pending) {
                    None => ready.push(pending),
                    Some(missing) => {
                        self.waiting.entry(missing).or_default().push(waiter);
                        self.pending.insert(waiter, pending);
                    }
                }
            }
        }
        Offer::Applied
    }

    fn apply_ready(&mut self, event: &VerifiedEvent, apply: &mut dyn FnMut(&VerifiedEvent, &Past)) {
        let base = match event.seq {
            1 => None,
            seq => self.snapshot_at(&event.author, seq - 1),
        };
        let mut widened: Option<VectorClock> = None;
        for dep in &event.deps {
            let (dep_author, dep_seq, _) = self.effective(dep);
            if dep_seq == 0 {
                continue;
            }
            let clock = widened.get_or_insert_with(|| base.as_deref().cloned().unwrap_or_default());
            let mut merge = |author: HubId, seq: u64| {
                let entry = clock.entry(author).or_insert(0);
                *entry = (*entry).max(seq);
            };
            if let Some(dep_clock) = self.snapshot_at(&dep_author, dep_seq) {
                for (author, seq) in dep_clock.iter() {
                    merge(*author, *seq);
                }
            }
            merge(dep_author, dep_seq);
        }
        let snapshot = match widened {
            Some(clock) if base.as_deref() != Some(&clock) => Some(Arc::new(clock)),
            _ => None,
        };
        let clock = snapshot.clone().or(base).unwrap_or_default();
        let past = Past {
            author: event.author,
            seq: event.seq,
            clock,
        };
        apply(event, &past);
        let feed = self.feeds.entry(event.author).or_default();
        feed.ids.push(event.id);
        if let Some(snapshot) = snapshot {
            feed.snapshots.push((event.seq, snapshot));
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::crypto::SecretKey;
    use crate::envelope::{Header, sign_event};
    use crate::ids::FederationId;
    use maillage_proto::v1 as pb;

    fn event(
        key: &SecretKey,
        seq: u64,
        prev: Option<EventId>,
        deps: Vec<EventRef>,
    ) -> VerifiedEvent {
        let header = Header {
            federation: FederationId([7; 32]),
            seq,
            prev,
            hlc: seq << 16,
            deps,
        };
        let body = pb::event::Body::VenueClosed(pb::VenueClosed {
            venue_id: format!("v{seq}"),
            reason: "test".into(),
        });
        sign_event(key, header, body).unwrap()
    }

    #[test]
    fn a_dep_past_a_frozen_feed_counts_as_its_last_valid_event() {
        let (a, b) = (
            SecretKey::from_seed(&[1; 32]),
            SecretKey::from_seed(&[2; 32]),
        );
        let a1 = event(&a, 1, None, vec![]);
        let a2 = event(&a, 2, Some(a1.id), vec![]);
        // b saw a2 (one half of an equivocation at seq 2) and named it.
        let b1 = event(&b, 1, None, vec![a2.as_ref()]);
        let b2 = event(&b, 2, Some(b1.id), vec![]);

        let mut unfrozen = CausalIndex::new(100);
        unfrozen.offer(a1.clone(), &mut |_, _| {});
        assert_eq!(unfrozen.offer(b1.clone(), &mut |_, _| {}), Offer::Waiting);
        assert_eq!(unfrozen.offer(b2.clone(), &mut |_, _| {}), Offer::Waiting);

        let mut index = CausalIndex::new(100);
        index.freeze(a.hub_id(), 1);
        let mut applied: Vec<(HubId, u64, Past)> = Vec::new();
        let mut record = |e: &VerifiedEvent, p: &Past| applied.push((e.author, e.seq, p.clone()));
        assert_eq!(
            index.offer(b1, &mut record),
            Offer::Waiting,
            "b1 waits for a1"
        );
        index.offer(a1, &mut record);
        index.offer(b2, &mut record);
        let order: Vec<(HubId, u64)> = applied.iter().map(|(a, s, _)| (*a, *s)).collect();
        assert_eq!(
            order,
            [(a.hub_id(), 1), (b.hub_id(), 1), (b.hub_id(), 2)],
            "a1, then b1 and b2"
        );
        let past = &applied[1].2;
        assert!(past.contains(&a.hub_id(), 1));
        assert!(!past.contains(&a.hub_id(), 2));
        assert_eq!(index.pending_count(), 0);
    }
}
