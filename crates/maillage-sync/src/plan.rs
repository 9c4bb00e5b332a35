//! What to pull from a peer, decided from the two frontiers (docs/protocol.md §6). Pure.
//!
//! A peer's frontier is a hint: it decides where the pull starts, never what is skipped. For
//! every author either side knows, the pull starts after what this node holds, except where
//! the peer's head disagrees with the event this node holds at that seq: then the pull starts
//! up to [`FORK_SEARCH_EVENTS`] before the peer's head, so that the peer's version of that
//! stretch arrives and the store builds the proof at the first seq where the two differ. A
//! frozen feed is compared the same way (its valid events against the peer's valid head): a
//! lower proof is found, and every node ends on the lowest one (protocol §3).

use std::collections::{BTreeMap, BTreeSet};

use maillage_core::{EventId, Head, HubId};

/// How far below a disagreeing head a pull starts: the store finds the first seq where the two
/// versions differ within it; a deeper divergence is found over further rounds.
pub const FORK_SEARCH_EVENTS: u64 = 1024;

/// The pull to ask a peer for.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PullPlan {
    /// `(author, after_seq)`, authors ascending.
    pub ranges: Vec<(HubId, u64)>,
    /// Authors whose head at the peer disagrees with what this node holds: `(author, seq)`.
    pub suspected_forks: Vec<(HubId, u64)>,
    /// Events the peer holds that this node does not (per author), from the peer's word.
    pub lag: BTreeMap<HubId, u64>,
}

/// Plans a pull from `remote`'s frontier. `local_id_at(author, seq)` gives the id of the event
/// this node holds there; `frozen` authors (a fork proof is recorded) are not pulled, unless
/// the peer's head disagrees with the valid event this node holds at that seq.
pub fn plan(
    local: &BTreeMap<HubId, Head>,
    local_id_at: impl Fn(&HubId, u64) -> Option<EventId>,
    remote: &BTreeMap<HubId, Head>,
    frozen: &BTreeSet<HubId>,
) -> PullPlan {
    let mut out = PullPlan::default();
    let authors: BTreeSet<&HubId> = local.keys().chain(remote.keys()).collect();
    for author in authors {
        let held = local.get(author).map_or(0, |h| h.seq);
        let theirs = remote.get(author);
        let disagrees = theirs.is_some_and(|theirs| {
            theirs.seq <= held && local_id_at(author, theirs.seq).is_some_and(|id| id != theirs.id)
        });
        if let (true, Some(theirs)) = (disagrees, theirs) {
            out.suspected_forks.push((*author, theirs.seq));
            out.ranges
                .push((*author, theirs.seq.saturating_sub(FORK_SEARCH_EVENTS)));
            continue;
        }
        if frozen.contains(author) {
            continue;
        }
        if let Some(theirs) = theirs.filter(|theirs| theirs.seq > held) {
            out.lag.insert(*author, theirs.seq - held);
        }
        out.ranges.push((*author, held));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(n: u8) -> EventId {
        EventId([n; 32])
    }
    fn hub(n: u8) -> HubId {
        HubId([n; 32])
    }
    fn head(seq: u64, n: u8) -> Head {
        Head { seq, id: id(n) }
    }

    #[test]
    fn pulls_start_after_what_is_held_for_every_known_author() {
        let local = BTreeMap::from([(hub(1), head(5, 15)), (hub(2), head(3, 23))]);
        let remote = BTreeMap::from([(hub(1), head(9, 19)), (hub(3), head(2, 32))]);
        let ids = |a: &HubId, seq: u64| Some(id(a.0[0] * 10 + seq as u8));
        let p = plan(&local, ids, &remote, &BTreeSet::new());
        assert_eq!(
            p.ranges,
            vec![(hub(1), 5), (hub(2), 3), (hub(3), 0)],
            "authors the peer lacks are still subscribed to; authors only it has start at 0"
        );
        assert!(p.suspected_forks.is_empty());
        assert_eq!(p.lag, BTreeMap::from([(hub(1), 4), (hub(3), 2)]));
    }

    #[test]
    fn a_disagreeing_head_is_pulled_again_to_build_the_proof() {
        let local = BTreeMap::from([(hub(1), head(5, 15))]);
        // The peer's seq 3 is not ours.
        let remote = BTreeMap::from([(hub(1), head(3, 99))]);
        let ids = |_: &HubId, seq: u64| Some(id(10 + seq as u8));
        let p = plan(&local, ids, &remote, &BTreeSet::new());
        assert_eq!(
            p.ranges,
            vec![(hub(1), 0)],
            "from up to FORK_SEARCH_EVENTS before"
        );
        assert_eq!(p.suspected_forks, vec![(hub(1), 3)]);
        let far = BTreeMap::from([(hub(1), head(3000, 99))]);
        let local_far = BTreeMap::from([(hub(1), head(3005, 15))]);
        let p = plan(&local_far, ids, &far, &BTreeSet::new());
        assert_eq!(p.ranges, vec![(hub(1), 3000 - FORK_SEARCH_EVENTS)]);
        // Same id: no suspicion.
        let remote = BTreeMap::from([(hub(1), head(3, 13))]);
        let p = plan(&local, ids, &remote, &BTreeSet::new());
        assert_eq!(p.ranges, vec![(hub(1), 5)]);
        assert!(p.suspected_forks.is_empty());
    }

    #[test]
    fn frozen_feeds_are_not_pulled() {
        let local = BTreeMap::from([(hub(1), head(5, 15))]);
        let remote = BTreeMap::from([(hub(1), head(9, 19)), (hub(2), head(1, 21))]);
        let p = plan(&local, |_, _| None, &remote, &BTreeSet::from([hub(1)]));
        assert_eq!(p.ranges, vec![(hub(2), 0)]);
    }

    #[test]
    fn a_frozen_feed_whose_valid_events_disagree_is_searched_for_a_lower_fork() {
        // Frozen here at 5 (valid head); the peer's valid head at 4 is another version.
        let local = BTreeMap::from([(hub(1), head(5, 15))]);
        let remote = BTreeMap::from([(hub(1), head(4, 99))]);
        let ids = |_: &HubId, seq: u64| Some(id(10 + seq as u8));
        let frozen = BTreeSet::from([hub(1)]);
        let p = plan(&local, ids, &remote, &frozen);
        assert_eq!(p.ranges, vec![(hub(1), 0)]);
        assert_eq!(p.suspected_forks, vec![(hub(1), 4)]);
        // The same version: nothing to pull.
        let remote = BTreeMap::from([(hub(1), head(4, 14))]);
        assert!(plan(&local, ids, &remote, &frozen).ranges.is_empty());
    }
}
