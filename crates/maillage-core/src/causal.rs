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

use crate::chunked::Chunked;
use crate::clocks::Clocks;
use crate::envelope::{EventRef, VerifiedEvent};
use crate::ids::{EventId, HubId};

/// The feed index events naming a stranger's event wait on (until an amendment admits it).
const STRANGER: u32 = u32::MAX;

/// Feed → highest seq of that feed in a causal past.
pub type VectorClock = BTreeMap<HubId, u64>;

pub(crate) use crate::lookup::LookupMap as Map;

/// The federation's members in charter order, each with its dense index: clocks, feeds and
/// the views' positions name a hub by that index.
#[derive(Debug, Clone, Default)]
pub struct Members {
    hubs: Vec<HubId>,
    index: Map<HubId, u32>,
}

impl Members {
    /// The table of `hubs` (their order gives the indices).
    pub fn new(hubs: impl IntoIterator<Item = HubId>) -> Self {
        let hubs: Vec<HubId> = hubs.into_iter().collect();
        let index = hubs
            .iter()
            .enumerate()
            .map(|(i, h)| (*h, i as u32))
            .collect();
        Self { hubs, index }
    }

    /// The index of a member.
    pub fn index(&self, hub: &HubId) -> Option<u32> {
        self.index.get(hub).copied()
    }

    /// The member at an index.
    ///
    /// # Panics
    /// If `index` is not one this table gave.
    pub fn hub(&self, index: u32) -> HubId {
        self.hubs[index as usize]
    }

    /// Adds a key at the next index (a key an amendment admitted); its index.
    pub fn push(&mut self, hub: HubId) -> u32 {
        if let Some(index) = self.index(&hub) {
            return index;
        }
        let index = self.hubs.len() as u32;
        self.hubs.push(hub);
        self.index.insert(hub, index);
        index
    }

    /// Number of members.
    pub fn len(&self) -> usize {
        self.hubs.len()
    }

    /// True if there are none.
    pub fn is_empty(&self) -> bool {
        self.hubs.is_empty()
    }
}

/// The causal past of one event: its own feed before it, its deps and their pasts.
#[derive(Debug, Clone)]
pub struct Past<'a> {
    members: &'a Members,
    feed: u32,
    seq: u64,
    /// Highest seq of every feed by member index (the entry of `feed` itself may be stale:
    /// own-feed questions use `seq`); `None` while the feed named no dep.
    clock: Option<Arc<[u64]>>,
    /// Every feed's applied events.
    feeds: &'a [Feed],
}

impl Past<'_> {
    /// True if event `seq` of the member at `feed` is in this past (an event is not in its
    /// own past).
    pub fn contains_at(&self, feed: u32, seq: u64) -> bool {
        if feed == self.feed {
            return seq < self.seq;
        }
        self.clock
            .as_deref()
            .and_then(|c| c.get(feed as usize))
            .is_some_and(|s| *s >= seq)
    }

    /// True if `(author, seq)` is in this past.
    pub fn contains(&self, author: &HubId, seq: u64) -> bool {
        self.members
            .index(author)
            .is_some_and(|feed| self.contains_at(feed, seq))
    }

    /// True if the referenced event is in this past.
    pub fn contains_ref(&self, r: &EventRef) -> bool {
        self.contains(&r.author, r.seq)
    }

    /// The highest seq of `author` in this past.
    pub fn seq_of(&self, author: &HubId) -> u64 {
        match self.members.index(author) {
            Some(feed) if feed == self.feed => self.seq - 1,
            Some(feed) => self
                .clock
                .as_deref()
                .and_then(|c| c.get(feed as usize))
                .copied()
                .unwrap_or(0),
            None => 0,
        }
    }

    /// The member index of the event's author.
    pub fn feed(&self) -> u32 {
        self.feed
    }

    /// The id of an event applied before this one, in this past or not: for the order of
    /// what the views keep by position, never for a rule (a rule sees its past only).
    pub(crate) fn applied_id(&self, feed: u32, seq: u64) -> Option<EventId> {
        let index = u32::try_from(seq.checked_sub(1)?).ok()?;
        self.feeds.get(feed as usize)?.ids.get(index).copied()
    }
}

#[derive(Debug, Default, Clone, serde::Serialize, serde::Deserialize)]
struct Feed {
    /// Ids of applied events; index `seq - 1`.
    ids: Chunked<EventId>,
    /// Clock snapshots at events whose deps widened the clock.
    clocks: Clocks,
}

impl Feed {
    /// The clock of other feeds at an applied event: the last snapshot at or before `seq`.
    fn snapshot_at(&self, seq: u64) -> Option<Arc<[u64]>> {
        self.clocks.at(seq)
    }
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
    /// The author is not a member of the federation: never applied.
    Stranger,
    /// Past the last event of its feed that counts (a fork, or an amendment that removed or
    /// succeeded its key): never applied.
    Frozen,
}

/// Tracks what is applied and orders delivery. Persisted without the waiting events: they
/// are in the store and are offered again after a reload.
#[derive(Debug, Default, Clone, serde::Serialize, serde::Deserialize)]
pub struct CausalIndex {
    #[serde(skip)]
    members: Arc<Members>,
    /// By member index.
    feeds: Vec<Feed>,
    #[serde(skip)]
    pending: Map<(u32, u64), VerifiedEvent>,
    /// Missing `(feed, seq)` → pending events waiting for it.
    #[serde(skip)]
    waiting: Map<(u32, u64), Vec<(u32, u64)>>,
    pending_max: usize,
    /// Feeds frozen after a fork: member index → last valid seq. Not persisted: the node
    /// sets it from its store's fork proofs before folding.
    #[serde(skip)]
    frozen: BTreeMap<u32, u64>,
}

impl CausalIndex {
    /// An empty index of the feeds of `members` whose waiting buffer holds at most
    /// `pending_max` events.
    pub fn new(members: Arc<Members>, pending_max: usize) -> Self {
        Self {
            feeds: vec![Feed::default(); members.len()],
            members,
            pending_max,
            ..Self::default()
        }
    }

    /// An index holding nothing, to stand in for one taken out for a moment (no allocation).
    pub fn vacant(members: Arc<Members>) -> Self {
        Self {
            members,
            feeds: Vec::new(),
            pending: Map::default(),
            waiting: Map::default(),
            pending_max: 0,
            frozen: BTreeMap::new(),
        }
    }

    /// Sets the member table and the bound of the waiting buffer after loading a snapshot;
    /// fails if the snapshot was made for another number of members.
    pub fn restore(&mut self, members: Arc<Members>, pending_max: usize) -> Result<(), String> {
        if self.feeds.len() != members.len() {
            return Err(format!(
                "the snapshot has {} feeds, the charter {} members",
                self.feeds.len(),
                members.len()
            ));
        }
        self.members = members;
        self.pending_max = pending_max;
        Ok(())
    }

    /// The member table.
    pub fn members(&self) -> &Arc<Members> {
        &self.members
    }

    /// Adds a member's feed (a key an amendment admitted): its index.
    ///
    /// `frozen`: the last seq of its feed that counts, if a fork or an amendment set one
    /// before the key was admitted here. It is set before the events that named the key while
    /// it was a stranger are routed again, so that a dep past it counts as naming it (as it
    /// does for an event arriving later). Returns the key's index and the waiting events that
    /// need nothing more (their dep on the key counts as naming nothing: its feed stops before
    /// its first event): taken out of the buffer, for the caller to offer again.
    pub fn add_member(&mut self, key: HubId, frozen: Option<u64>) -> (u32, Vec<VerifiedEvent>) {
        if let Some(index) = self.members.index(&key) {
            return (index, Vec::new());
        }
        let mut members = (*self.members).clone();
        let index = members.push(key);
        self.members = Arc::new(members);
        self.feeds.resize_with(self.members.len(), Feed::default);
        if let Some(valid) = frozen {
            self.frozen.insert(index, valid);
        }
        // Events that named this key while it was a stranger wait for its events now.
        let strangers: Vec<(u32, u64)> = self
            .waiting
            .sorted()
            .into_iter()
            .filter(|(missing, _)| missing.0 == STRANGER)
            .map(|(missing, _)| *missing)
            .collect();
        let mut ready = Vec::new();
        for missing in strangers {
            for waiter in self.waiting.remove(&missing).unwrap_or_default() {
                let Some(event) = self.pending.get(&waiter) else {
                    continue;
                };
                match self.missing(waiter.0, event) {
                    Some(next) => self.waiting.entry(next).or_default().push(waiter),
                    None => ready.extend(self.pending.remove(&waiter)),
                }
            }
        }
        (index, ready)
    }

    /// Freezes `author`'s feed at `valid_until` (a fork at `valid_until + 1`): deps naming
    /// later events of it count as naming event `valid_until` (none if 0). Set it before
    /// offering events that may name the feed: pasts already computed are not revised.
    /// Returns whether anything changed.
    pub fn freeze(&mut self, author: HubId, valid_until: u64) -> bool {
        let Some(feed) = self.members.index(&author) else {
            return false;
        };
        // Its events past the freeze that wait here are never applied, as they would be
        // refused arriving now (`Offer::Frozen`): whatever they waited for may still come.
        let past: Vec<(u32, u64)> = self
            .pending
            .collect_sorted(|(at, _)| (at.0 == feed && at.1 > valid_until).then_some(*at));
        for at in past {
            self.pending.remove(&at);
        }
        self.frozen.insert(feed, valid_until) != Some(valid_until)
    }

    /// Whether events wait here for an event of `author`'s frozen feed past its last valid
    /// one: they were offered before the freeze, which they would count as naming that last
    /// valid event had it been set first, and no event wakes them any more (the feed's later
    /// events are never applied). The views must be folded again with the freeze set first.
    pub fn stranded(&self, author: &HubId) -> bool {
        let Some(feed) = self.members.index(author) else {
            return false;
        };
        let Some(valid) = self.frozen.get(&feed).copied() else {
            return false;
        };
        self.waiting.any(|(missing, seq), waiters| {
            *missing == feed && *seq > valid && waiters.iter().any(|w| self.pending.contains_key(w))
        })
    }

    /// The last valid seq of a frozen feed.
    pub fn frozen_at(&self, author: &HubId) -> Option<u64> {
        self.frozen.get(&self.members.index(author)?).copied()
    }

    /// The requirement a dep stands for: itself, or, past a frozen feed's last valid event,
    /// that event (`seq` 0: nothing); `None` if its author is not a member (never applied).
    fn effective(&self, dep: &EventRef) -> Option<(u32, u64, Option<EventId>)> {
        let feed = self.members.index(&dep.author)?;
        Some(match self.frozen.get(&feed) {
            Some(valid) if dep.seq > *valid => (feed, *valid, None),
            _ => (feed, dep.seq, Some(dep.id)),
        })
    }

    /// Applied events per feed (feeds with at least one).
    pub fn applied(&self) -> BTreeMap<HubId, u64> {
        self.feeds
            .iter()
            .enumerate()
            .filter(|(_, f)| !f.ids.is_empty())
            .map(|(i, f)| (self.members.hub(i as u32), f.ids.len() as u64))
            .collect()
    }

    /// Per feed with anything applied or waiting, the last seq up to which every event is
    /// applied or waiting here: what a fold from the store need not read again.
    pub fn offered(&self) -> BTreeMap<HubId, u64> {
        self.feeds
            .iter()
            .enumerate()
            .filter_map(|(i, f)| {
                let feed = i as u32;
                let mut seq = f.ids.len() as u64;
                while self.pending.contains_key(&(feed, seq + 1)) {
                    seq += 1;
                }
                (seq > 0).then(|| (self.members.hub(feed), seq))
            })
            .collect()
    }

    /// Total applied events.
    pub fn applied_count(&self) -> u64 {
        self.feeds.iter().map(|f| f.ids.len() as u64).sum()
    }

    /// Events waiting for a predecessor or a dep.
    pub fn pending_count(&self) -> usize {
        self.pending.len()
    }

    /// Events that may wait at once, at most.
    pub fn pending_max(&self) -> usize {
        self.pending_max
    }

    /// What waiting events wait for that is not itself waiting (the roots of the chains), the
    /// first `limit` in order: the missing event's author (`None`: a key that is not a member
    /// here) and seq, and how many events wait on it directly.
    pub fn waiting_for(&self, limit: usize) -> Vec<(Option<HubId>, u64, usize)> {
        self.waiting
            .sorted()
            .into_iter()
            .filter(|(missing, _)| !self.pending.contains_key(missing))
            .take(limit)
            .map(|((feed, seq), waiters)| {
                let author = (*feed != STRANGER).then(|| self.members.hub(*feed));
                (author, *seq, waiters.len())
            })
            .collect()
    }

    /// The id of an applied event.
    pub fn id_of(&self, author: &HubId, seq: u64) -> Option<EventId> {
        self.id_at(self.members.index(author)?, seq)
    }

    /// The id of an applied event of the feed of member `feed` (by index).
    pub(crate) fn id_at(&self, feed: u32, seq: u64) -> Option<EventId> {
        let index = u32::try_from(seq.checked_sub(1)?).ok()?;
        self.feeds.get(feed as usize)?.ids.get(index).copied()
    }

    /// Applied events of `author`'s feed; `None` for a key that is not a member.
    pub fn applied_seq(&self, author: &HubId) -> Option<u64> {
        Some(self.applied_in(self.members.index(author)?))
    }

    /// Applied events of the feed of member `feed` (by index).
    pub fn applied_in(&self, feed: u32) -> u64 {
        self.feeds
            .get(feed as usize)
            .map_or(0, |f| f.ids.len() as u64)
    }

    /// The first requirement of `event` (of the member at `feed`) not yet applied; a dep on a
    /// stranger's event can never be met and waits for ever.
    fn missing(&self, feed: u32, event: &VerifiedEvent) -> Option<(u32, u64)> {
        if self.applied_in(feed) + 1 < event.seq {
            // Wait for the direct predecessor, not the feed's next missing event: a run of
            // waiting events then wakes up one by one instead of all re-checking each time.
            return Some((feed, event.seq - 1));
        }
        for dep in &event.deps {
            let met = match self.effective(dep) {
                None => false,
                Some((_, 0, _)) => true,
                Some((f, seq, Some(id))) => self.id_at(f, seq) == Some(id),
                Some((f, seq, None)) => self.id_at(f, seq).is_some(),
            };
            if !met {
                return Some(match self.effective(dep) {
                    Some((f, seq, _)) => (f, seq),
                    None => (STRANGER, dep.seq),
                });
            }
        }
        None
    }

    /// The vector clock of an applied event (its own entry included).
    pub fn clock_of(&self, author: &HubId, seq: u64) -> VectorClock {
        let Some(feed) = self.members.index(author) else {
            return VectorClock::new();
        };
        let mut clock: VectorClock = self.feeds[feed as usize]
            .snapshot_at(seq)
            .map(|c| {
                c.iter()
                    .enumerate()
                    .filter(|(_, s)| **s > 0)
                    .map(|(i, s)| (self.members.hub(i as u32), *s))
                    .collect()
            })
            .unwrap_or_default();
        clock.insert(*author, seq);
        clock
    }

    /// The applied heads of the other feeds that advanced beyond what the author's last
    /// applied event had in its past: as deps, they make a new event's past everything applied.
    /// [`crate::Ledger::plan`] picks the few an event names.
    pub fn next_deps(&self, author: &HubId) -> Vec<EventRef> {
        let Some(feed) = self.members.index(author) else {
            return Vec::new();
        };
        let head = self.applied_in(feed);
        let known = self.feeds[feed as usize].snapshot_at(head);
        let known = known.as_deref();
        (0..self.members.len() as u32)
            .filter(|other| *other != feed)
            .filter_map(|other| {
                let seq = self.applied_in(other);
                let seen = known
                    .and_then(|c| c.get(other as usize))
                    .copied()
                    .unwrap_or(0);
                (seq > seen).then(|| {
                    self.id_at(other, seq).map(|id| EventRef {
                        author: self.members.hub(other),
                        seq,
                        id,
                    })
                })?
            })
            .collect()
    }

    /// Runs `f` with the past the next event of `author` would have with `deps`, if the
    /// author's feed and every dep are applied; `None` otherwise (the event would wait).
    /// Returns the seq and `prev` of that next event too.
    pub fn with_next_past<R>(
        &self,
        author: &HubId,
        deps: &[EventRef],
        f: impl FnOnce(u64, Option<EventId>, &Past<'_>) -> R,
    ) -> Option<R> {
        let feed = self.members.index(author)?;
        let seq = self.applied_in(feed) + 1;
        let prev = self.id_at(feed, seq - 1);
        let own = &self.feeds[feed as usize];
        let base = own.snapshot_at(seq - 1);
        let mut clock: Option<Vec<u64>> = None;
        for dep in deps {
            let (dep_feed, dep_seq, id) = self.effective(dep)?;
            if dep_seq == 0 {
                continue;
            }
            let applied = self.id_at(dep_feed, dep_seq)?;
            if id.is_some_and(|id| id != applied) {
                return None;
            }
            let clock = clock.get_or_insert_with(|| {
                let mut clock = base.as_deref().map(<[u64]>::to_vec).unwrap_or_default();
                clock.resize(self.members.len(), 0);
                clock
            });
            if let Some(dep_clock) = self.feeds[dep_feed as usize].snapshot_at(dep_seq) {
                for (mine, theirs) in clock.iter_mut().zip(dep_clock.iter()) {
                    *mine = (*mine).max(*theirs);
                }
            }
            let entry = &mut clock[dep_feed as usize];
            *entry = (*entry).max(dep_seq);
        }
        let past = Past {
            members: &self.members,
            feed,
            seq,
            clock: clock.map(Arc::from).or(base),
            feeds: &self.feeds,
        };
        Some(f(seq, prev, &past))
    }

    /// Offers an event; every event that becomes ready is passed to `apply` with its past, in
    /// a causal order.
    pub fn offer(
        &mut self,
        event: VerifiedEvent,
        apply: &mut dyn FnMut(&VerifiedEvent, &Past<'_>),
    ) -> Offer {
        let Some(feed) = self.members.index(&event.author) else {
            return Offer::Stranger;
        };
        if self
            .frozen
            .get(&feed)
            .is_some_and(|valid| event.seq > *valid)
        {
            return Offer::Frozen;
        }
        if event.seq <= self.applied_in(feed)
            || (!self.pending.is_empty() && self.pending.contains_key(&(feed, event.seq)))
        {
            return Offer::Duplicate;
        }
        if let Some(missing) = self.missing(feed, &event) {
            if self.pending.len() >= self.pending_max {
                return Offer::BufferFull;
            }
            let key = (feed, event.seq);
            self.waiting.entry(missing).or_default().push(key);
            self.pending.insert(key, event);
            return Offer::Waiting;
        }
        let mut ready = vec![(feed, event)];
        while let Some((feed, event)) = ready.pop() {
            self.apply_ready(feed, &event, apply);
            if self.waiting.is_empty() {
                continue;
            }
            let Some(waiters) = self.waiting.remove(&(feed, event.seq)) else {
                continue;
            };
            for waiter in waiters {
                let Some(pending) = self.pending.remove(&waiter) else {
                    continue;
                };
                match self.missing(waiter.0, &pending) {
                    None => ready.push((waiter.0, pending)),
                    Some(missing) => {
                        self.waiting.entry(missing).or_default().push(waiter);
                        self.pending.insert(waiter, pending);
                    }
                }
            }
        }
        Offer::Applied
    }

    fn apply_ready(
        &mut self,
        feed: u32,
        event: &VerifiedEvent,
        apply: &mut dyn FnMut(&VerifiedEvent, &Past<'_>),
    ) {
        let own = &self.feeds[feed as usize];
        let base = match event.seq {
            1 => None,
            seq => own.snapshot_at(seq - 1),
        };
        let mut widened: Option<Vec<u64>> = None;
        for dep in &event.deps {
            let Some((dep_feed, dep_seq, _)) = self.effective(dep) else {
                continue;
            };
            if dep_seq == 0 {
                continue;
            }
            // A clock taken before an amendment admitted keys is shorter: widen it.
            let clock = widened.get_or_insert_with(|| {
                let mut clock = base.as_deref().map(<[u64]>::to_vec).unwrap_or_default();
                clock.resize(self.members.len(), 0);
                clock
            });
            if let Some(dep_clock) = self.feeds[dep_feed as usize].snapshot_at(dep_seq) {
                for (mine, theirs) in clock.iter_mut().zip(dep_clock.iter()) {
                    *mine = (*mine).max(*theirs);
                }
            }
            let entry = &mut clock[dep_feed as usize];
            *entry = (*entry).max(dep_seq);
        }
        let snapshot: Option<Arc<[u64]>> = match widened {
            Some(clock) if base.as_deref() != Some(&clock[..]) => Some(clock.into()),
            _ => None,
        };
        let past = Past {
            members: &self.members,
            feed,
            seq: event.seq,
            clock: snapshot.clone().or(base),
            feeds: &self.feeds,
        };
        apply(event, &past);
        let own = &mut self.feeds[feed as usize];
        own.ids.push(event.id);
        if let Some(snapshot) = snapshot {
            own.clocks.push(event.seq, snapshot);
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
            ..Default::default()
        });
        sign_event(key, header, body).unwrap()
    }

    /// Two feeds: `a1`, `a2`, and `b1` naming `a2`, `b2`.
    fn two_feeds() -> (SecretKey, SecretKey, [VerifiedEvent; 4]) {
        let (a, b) = (
            SecretKey::from_seed(&[1; 32]),
            SecretKey::from_seed(&[2; 32]),
        );
        let a1 = event(&a, 1, None, vec![]);
        let a2 = event(&a, 2, Some(a1.id), vec![]);
        let b1 = event(&b, 1, None, vec![a2.as_ref()]);
        let b2 = event(&b, 2, Some(b1.id), vec![]);
        (a, b, [a1, a2, b1, b2])
    }

    #[test]
    fn a_dep_past_a_frozen_feed_counts_as_its_last_valid_event() {
        // b saw a2 (one half of an equivocation at seq 2) and named it.
        let (a, b, [a1, _, b1, b2]) = two_feeds();
        let members = Arc::new(Members::new([a.hub_id(), b.hub_id()]));
        let mut unfrozen = CausalIndex::new(members.clone(), 100);
        unfrozen.offer(a1.clone(), &mut |_, _| {});
        assert_eq!(unfrozen.offer(b1.clone(), &mut |_, _| {}), Offer::Waiting);
        assert_eq!(unfrozen.offer(b2.clone(), &mut |_, _| {}), Offer::Waiting);

        let mut index = CausalIndex::new(members, 100);
        index.freeze(a.hub_id(), 1);
        let mut applied: Vec<(HubId, u64, bool, bool)> = Vec::new();
        let mut record = |e: &VerifiedEvent, p: &Past<'_>| {
            applied.push((
                e.author,
                e.seq,
                p.contains(&a.hub_id(), 1),
                p.contains(&a.hub_id(), 2),
            ))
        };
        assert_eq!(
            index.offer(b1, &mut record),
            Offer::Waiting,
            "b1 waits for a1"
        );
        index.offer(a1, &mut record);
        index.offer(b2, &mut record);
        let order: Vec<(HubId, u64)> = applied.iter().map(|(a, s, _, _)| (*a, *s)).collect();
        assert_eq!(
            order,
            [(a.hub_id(), 1), (b.hub_id(), 1), (b.hub_id(), 2)],
            "a1, then b1 and b2"
        );
        let (_, _, has_a1, has_a2) = applied[1];
        assert!(has_a1, "b1's past holds a1");
        assert!(!has_a2, "b1's past does not hold the frozen a2");
        assert_eq!(index.pending_count(), 0);
    }

    #[test]
    fn offered_counts_the_waiting_events_that_follow_the_applied_ones() {
        let (a, b, [a1, a2, b1, b2]) = two_feeds();
        let b3 = event(&b, 3, Some(b2.id), vec![]);
        let b4 = event(&b, 4, Some(b3.id), vec![]);
        let members = Arc::new(Members::new([a.hub_id(), b.hub_id()]));
        let mut index = CausalIndex::new(members, 100);
        index.offer(a1, &mut |_, _| {});
        // b1 waits for a2, b2 for b1; b4 waits too, past a gap (b3 never offered).
        for waiting in [b1, b2, b4.clone()] {
            assert_eq!(index.offer(waiting, &mut |_, _| {}), Offer::Waiting);
        }
        let offered = index.offered();
        assert_eq!(offered.get(&a.hub_id()), Some(&1));
        assert_eq!(offered.get(&b.hub_id()), Some(&2), "up to the gap at b3");
        assert_eq!(index.applied().get(&b.hub_id()), None);
        index.offer(a2, &mut |_, _| {});
        index.offer(b3, &mut |_, _| {});
        assert_eq!(index.offered(), index.applied());
        assert_eq!(index.applied().get(&b.hub_id()), Some(&4));
    }

    #[test]
    fn the_advanced_heads_are_every_feed_past_the_authors_last_event() {
        let keys: Vec<SecretKey> = (1..=6u8).map(|i| SecretKey::from_seed(&[i; 32])).collect();
        let members = Arc::new(Members::new(keys.iter().map(SecretKey::hub_id)));
        let mut index = CausalIndex::new(members, 100);
        for key in &keys[1..] {
            index.offer(event(key, 1, None, vec![]), &mut |_, _| {});
        }
        let me = keys[0].hub_id();
        assert_eq!(index.next_deps(&me).len(), 5, "every advanced feed");
    }
}
