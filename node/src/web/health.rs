//! `GET /healthz` and `GET /readyz`: what a service manager, a container runtime or a load
//! balancer asks before it sends anyone to this node.
//!
//! - `/healthz`: the process is alive and its HTTP loop answers: always `200 ok`.
//! - `/readyz`: the node holds what its peers hold and may be read and written: `200` when
//!   - its own feed is neither frozen by a fork proof (it would sign nothing) nor damaged on
//!     disk (it signs nothing until its peers send the damaged events back);
//!   - no feed is damaged on disk (the history it serves would have a hole);
//!   - if it pulls from peers: at least one link is live, none is still catching up, and no
//!     peer it pulls from holds events of a feed it lacks (a feed frozen by a fork proof
//!     excepted: its later events are never pulled).
//!
//!   Otherwise `503`, one reason a line, in French then English. Peers that pull from this
//!   node are not waited for: a node is not late because someone else is. A node with no
//!   peer to pull from is ready once its own store is sound.
//!
//! Both read the same views as `maillage status` ([`FeedView`], [`ReplicationView`]), without
//! the digest: a probe every few seconds costs a look at the store's frontier and the links'
//! states, never a walk of the views.

use maillage_app::views::{FeedView, ReplicationView};
use maillage_core::HubId;

/// Why a node is not ready.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NotReady {
    /// This node's own feed is frozen by a fork proof: it signs nothing more.
    OwnFeedFrozen {
        /// The position signed twice.
        seq: u64,
    },
    /// A feed has events damaged on disk, not fetched back yet.
    FeedDamaged {
        /// The feed's name (or short key).
        feed: String,
        /// Whether it is this node's own.
        own: bool,
        /// First damaged seq.
        from: u64,
        /// Last damaged seq.
        until: u64,
    },
    /// Peers are configured, none is live.
    NoPeerLive {
        /// Links this node dials.
        peers: usize,
    },
    /// A link is still pulling what its peer holds.
    CatchingUp {
        /// The peer (name, or address).
        peer: String,
    },
    /// A peer this node pulls from holds events this node lacks.
    Behind {
        /// The peer.
        peer: String,
        /// Events missing, all feeds.
        events: u64,
    },
}

impl std::fmt::Display for NotReady {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::OwnFeedFrozen { seq } => write!(
                f,
                "flux propre gelé par une preuve de fourche (position {seq}) / own feed frozen by a fork proof (seq {seq})"
            ),
            Self::FeedDamaged {
                feed,
                own,
                from,
                until,
            } => {
                let (fr, en) = if *own {
                    ("flux propre", "own feed")
                } else {
                    ("flux", "feed")
                };
                write!(
                    f,
                    "{fr} {feed} endommagé sur le disque (événements {from}–{until}), en attente des pairs / {en} {feed} damaged on disk (events {from}–{until}), waiting for peers to send them again"
                )
            }
            Self::NoPeerLive { peers: 1 } => write!(
                f,
                "son seul pair n'est pas joint / its one peer is not live"
            ),
            Self::NoPeerLive { peers } => write!(
                f,
                "aucun de ses {peers} pairs n'est joint / none of its {peers} peers is live"
            ),
            Self::CatchingUp { peer } => write!(
                f,
                "rattrapage en cours auprès de {peer} / catching up with {peer}"
            ),
            Self::Behind { peer, events } => write!(
                f,
                "{events} événements de retard sur {peer} / {events} events behind {peer}"
            ),
        }
    }
}

/// Why the node of `me`, holding `feeds` and replicating as `replication` says (`None`: it
/// does not serve), is not ready; empty when it is.
pub fn readiness(
    me: &HubId,
    feeds: &[FeedView],
    replication: Option<&ReplicationView>,
) -> Vec<NotReady> {
    let mut reasons = Vec::new();
    let label = |feed: &FeedView| {
        if feed.name.is_empty() {
            feed.author.short()
        } else {
            feed.name.clone()
        }
    };
    for feed in feeds {
        let own = feed.author == *me;
        if own && let Some(seq) = feed.fork_seq {
            reasons.push(NotReady::OwnFeedFrozen { seq });
        }
        if let Some(from) = feed.damaged_from {
            reasons.push(NotReady::FeedDamaged {
                feed: label(feed),
                own,
                from,
                until: feed.damaged_until.unwrap_or(from),
            });
        }
    }
    let Some(replication) = replication else {
        return reasons;
    };
    let frozen: Vec<HubId> = feeds
        .iter()
        .filter(|f| f.fork_seq.is_some())
        .map(|f| f.author)
        .collect();
    // Links this node dials (their address is the one configured, never a key).
    let dialled: Vec<_> = replication
        .peers
        .iter()
        .filter(|p| p.state != "pulling-from-us")
        .collect();
    if !dialled.is_empty() && !dialled.iter().any(|p| p.state == "live") {
        reasons.push(NotReady::NoPeerLive {
            peers: dialled.len(),
        });
    }
    for peer in dialled {
        let name = if peer.name.is_empty() {
            peer.address.clone()
        } else {
            peer.name.clone()
        };
        if peer.state == "catching-up" {
            reasons.push(NotReady::CatchingUp { peer: name.clone() });
        }
        let events: u64 = peer
            .lags
            .iter()
            .filter(|(author, _, _)| !frozen.contains(author))
            .fold(0u64, |sum, (_, _, lag)| sum.saturating_add(*lag));
        if events > 0 {
            reasons.push(NotReady::Behind { peer: name, events });
        }
    }
    reasons
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use maillage_app::views::PeerView;
    use maillage_core::SecretKey;

    use super::*;

    fn key(n: u8) -> HubId {
        SecretKey::from_seed(&[n; 32]).hub_id()
    }

    fn feed(author: HubId, name: &str) -> FeedView {
        FeedView {
            author,
            name: name.into(),
            seq: 10,
            head: None,
            applied: 10,
            fork_seq: None,
            clock_ahead_ms: 0,
            damaged_from: None,
            damaged_until: None,
        }
    }

    fn peer(name: &str, state: &str, lags: Vec<(HubId, u64, u64)>) -> PeerView {
        PeerView {
            address: format!("http://{name}.example:7300"),
            key: None,
            name: name.into(),
            state: state.into(),
            last_error: String::new(),
            protocol_version: 2,
            incompatible: String::new(),
            unsupported: Vec::new(),
            events_received: 0,
            events_rejected: 0,
            last_contact_ms: 0,
            lags,
        }
    }

    fn replication(peers: Vec<PeerView>) -> ReplicationView {
        ReplicationView {
            peers,
            ..ReplicationView::default()
        }
    }

    #[test]
    fn a_sound_node_caught_up_with_a_live_peer_is_ready() {
        let (me, other) = (key(1), key(2));
        let feeds = [feed(me, "Sud"), feed(other, "Hinaura")];
        assert_eq!(readiness(&me, &feeds, None), vec![]);
        // Nothing to pull from: ready once the store is sound.
        assert_eq!(readiness(&me, &feeds, Some(&replication(vec![]))), vec![]);
        // One live peer is enough; a peer pulling from us is not waited for.
        let peers = vec![
            peer("hinaura", "live", vec![]),
            peer("charente", "backing-off", vec![]),
            peer("anct", "pulling-from-us", vec![(other, 20, 10)]),
        ];
        assert_eq!(readiness(&me, &feeds, Some(&replication(peers))), vec![]);
    }

    #[test]
    fn every_reason_not_to_be_ready_is_named() {
        let (me, other, forked) = (key(1), key(2), key(3));
        let mut own = feed(me, "Sud");
        own.fork_seq = Some(7);
        let mut damaged = feed(other, "");
        damaged.damaged_from = Some(4);
        damaged.damaged_until = Some(6);
        let mut frozen = feed(forked, "Fourbe");
        frozen.fork_seq = Some(3);
        let feeds = [own, damaged, frozen];
        let peers = vec![
            peer(
                "hinaura",
                "catching-up",
                vec![(other, 30, 20), (forked, 9, 6)],
            ),
            peer("charente", "connecting", vec![(forked, 9, 6)]),
        ];
        let reasons = readiness(&me, &feeds, Some(&replication(peers)));
        assert_eq!(
            reasons,
            vec![
                NotReady::OwnFeedFrozen { seq: 7 },
                NotReady::FeedDamaged {
                    feed: other.short(),
                    own: false,
                    from: 4,
                    until: 6
                },
                NotReady::NoPeerLive { peers: 2 },
                NotReady::CatchingUp {
                    peer: "hinaura".into()
                },
                // The frozen feed's lag is not waited for.
                NotReady::Behind {
                    peer: "hinaura".into(),
                    events: 20
                },
            ]
        );
        let text: Vec<String> = reasons.iter().map(ToString::to_string).collect();
        assert!(
            text[0].contains("gelé") && text[0].contains("frozen"),
            "{text:?}"
        );
        assert!(
            text[4].starts_with("20 événements de retard sur hinaura / 20 events behind hinaura")
        );
    }
}
