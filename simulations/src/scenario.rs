//! Scenarios: a network of hubs and observers, its links, its faults, its workload (TOML).

use serde::Deserialize;

/// A scenario file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    /// What it exercises.
    pub name: String,
    /// Hubs (each with its own real département, see [`crate::territory`]).
    pub hubs: usize,
    /// National observers (read replicas).
    #[serde(default)]
    pub observers: usize,
    /// Each observer pulls from this many hubs (the first ones after its index, round-robin).
    #[serde(default = "default_observer_peers")]
    pub observer_peers: usize,
    /// Hub-to-hub topology.
    #[serde(default)]
    pub topology: Topology,
    /// Events each hub authors, spread over `authoring_s`.
    pub events_per_hub: usize,
    /// Simulated seconds during which hubs author.
    pub authoring_s: u64,
    /// After the last fault heals (or authoring ends), every node must reach the same digest
    /// within this many simulated seconds.
    #[serde(default = "default_converge_within_s")]
    pub converge_within_s: u64,
    /// Message latency between hosts, min and max (ms).
    #[serde(default = "default_latency_ms")]
    pub latency_ms: [u64; 2],
    /// Jitter: a message's latency is `min + (max - min) * x`, capped at max, with `x` drawn
    /// from an exponential distribution of this rate (turmoil's latency curve; the default 5
    /// keeps most messages near the minimum, 1 spreads them over the whole range).
    #[serde(default)]
    pub latency_curve: Option<f64>,
    /// Windows of lossy links (turmoil's message loss: a lost message breaks its link until
    /// a later send repairs it; over TCP the connection stalls and the link redials).
    #[serde(default)]
    pub loss: Vec<Loss>,
    /// Partitions: groups of hub indices cut from each other during `[from_s, until_s)`.
    #[serde(default)]
    pub partitions: Vec<Partition>,
    /// Crashes: a hub stops at `at_s` and restarts at `restart_s` with what it had stored.
    #[serde(default)]
    pub crashes: Vec<Crash>,
    /// Venues each hub registers in its département and qualifies for vouchers at the start.
    #[serde(default = "default_venues_per_hub")]
    pub venues_per_hub: usize,
    /// People who carry their carnets to other hubs' venues (none if absent).
    #[serde(default)]
    pub people: Option<People>,
    /// A hub that breaks the protocol (none if absent).
    #[serde(default)]
    pub misbehaving: Option<Misbehaving>,
    /// The founding charter's admission threshold: endorsements an amendment needs.
    #[serde(default = "default_threshold")]
    pub threshold: u32,
    /// Départements each founding hub holds: its own ([`crate::territory`]`(index)`), then
    /// others taken after every hub's own (the venues it registers are in each).
    #[serde(default = "default_territories_per_hub")]
    pub territories_per_hub: usize,
    /// Charter amendments and the nodes they concern (none if absent).
    #[serde(default)]
    pub lifecycle: Option<Lifecycle>,
}

fn default_threshold() -> u32 {
    1
}

fn default_territories_per_hub() -> usize {
    1
}

/// A federation that changes while it runs: hubs admitted, removed, keys rotated, stolen or
/// recovered after a restored backup forked them, départements moved (docs/protocol.md §1b).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Lifecycle {
    /// Hubs not in the founding charter: indices `hubs..hubs + joining`, each with a key of
    /// its own and its own département, whose node starts at `join_at_s` and replicates once
    /// an amendment admitted it; it signs its schedule (shifted to start then) and serves
    /// visitors like every hub.
    #[serde(default)]
    pub joining: usize,
    /// When the joining hubs' nodes start.
    #[serde(default)]
    pub join_at_s: u64,
    /// The amendments, each proposed by one hub and endorsed by others when they see it.
    pub amendments: Vec<Amendment>,
    /// A thief who copied a hub's key and store and signs with the key from then on.
    #[serde(default)]
    pub thief: Option<Thief>,
    /// A hub whose data is restored from a backup while it is cut off, and which signs at
    /// once (its feed forks).
    #[serde(default)]
    pub restore: Option<Restore>,
    /// Visits, at other hubs, of vouchers a succeeded hub handed out before its succession,
    /// from 5 s after the succession is proposed: each must be honoured through the successor.
    #[serde(default)]
    pub successor_visits: usize,
    /// Visits of vouchers at a venue of a département that moves (`move` amendments), from
    /// 4 s before the move to 4 s after: served by whichever hub holds the venue in its views.
    #[serde(default)]
    pub in_flight_visits: usize,
    /// Hubs whose node ignores the stops amendments set (it never folds its views again):
    /// a negative control, caught by the stopped-keys invariant.
    #[serde(default)]
    pub ignores_stops: Vec<usize>,
}

/// One amendment.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Amendment {
    /// When it is proposed (simulated seconds).
    pub at_s: u64,
    /// The hub that proposes it (its proposal counts as its endorsement).
    pub proposer: usize,
    /// The hubs that endorse it once their views hold the proposal.
    #[serde(default)]
    pub endorsers: Vec<usize>,
    /// What it changes.
    pub change: ChangeSpec,
}

/// An amendment's change, naming hubs by index.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub enum ChangeSpec {
    /// Admits a joining hub with its département.
    Admit {
        /// The hub (an index from `hubs` on).
        hub: usize,
    },
    /// Removes a hub: its events after what the proposer applied of its feed never count.
    /// The hub keeps signing its schedule, unjudged, from the proposal on.
    Remove {
        /// The hub.
        hub: usize,
    },
    /// Planned rotation: the hub proposes the succession of its key by its next key, the
    /// proposal being the old key's last event; it signs nothing more with the old key and
    /// switches once the succession is in effect in its views.
    Rotate {
        /// The hub (the proposer).
        hub: usize,
    },
    /// A stolen key (see [`Thief`]): another hub proposes the succession of the hub's key by
    /// its next key from the last event the hub signed before the theft.
    Steal {
        /// The hub.
        hub: usize,
    },
    /// Recovery from an own fork (see [`Restore`]): the proposer names the branch its store
    /// holds past the fork and the hub's next key; the hub serves a fresh data dir under it.
    Recover {
        /// The hub.
        hub: usize,
    },
    /// Moves `from`'s last département to `to`.
    Move {
        /// The hub giving it.
        from: usize,
        /// The hub receiving it.
        to: usize,
    },
}

impl ChangeSpec {
    /// The hubs it names.
    pub fn hubs(&self) -> Vec<usize> {
        match *self {
            Self::Admit { hub }
            | Self::Remove { hub }
            | Self::Rotate { hub }
            | Self::Steal { hub }
            | Self::Recover { hub } => vec![hub],
            Self::Move { from, to } => vec![from, to],
        }
    }

    /// The hub whose key this change succeeds.
    pub fn succeeded(&self) -> Option<usize> {
        match *self {
            Self::Rotate { hub } | Self::Steal { hub } | Self::Recover { hub } => Some(hub),
            _ => None,
        }
    }
}

/// A stolen key. At `at_s` the hub stops signing with it (its operator found out); the thief,
/// a node of its own with a copy of the hub's store, signs with it every 500 ms from then on:
/// redemptions of the hub's vouchers, carnets, batches. Every honest node must end up counting
/// none of them.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Thief {
    /// The hub whose key is stolen.
    pub hub: usize,
    /// When.
    pub at_s: u64,
    /// Until when the thief signs.
    pub until_s: u64,
    /// Hubs the thief dials (it serves anyone who dials it).
    pub peers: Vec<usize>,
}

/// A hub restored from a backup: the backup is taken at `backup_at_s`; at `restore_at_s` the
/// hub stops, its store is replaced by the backup and it starts again and signs its schedule
/// at once, without catching up (`--offline`): a partition should cut it off then, so that
/// its peers hold later events of its feed and the feed forks.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Restore {
    /// The hub.
    pub hub: usize,
    /// When its backup is taken.
    pub backup_at_s: u64,
    /// When it is restored and restarted.
    pub restore_at_s: u64,
}

/// A misbehaving hub. It serves two faces: its peers are split in two halves, the first
/// dialling it on the usual port, the second on the next one; until it equivocates both faces
/// serve the same feed. It takes part in no visit, answers no claim and signs no transfer.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Misbehaving {
    /// The hub.
    pub hub: usize,
    /// When it signs, validly, events outside its authority: a venue in the next hub's
    /// département, a batch with the next hub's département as prefix, a redemption of the
    /// next hub's voucher. Every node must store them and reject them with the same reason.
    #[serde(default)]
    pub out_of_territory_at_s: Option<u64>,
    /// From when its first face serves forged events in the next hub's name (the next seq of
    /// that hub's feed, signed with the misbehaving hub's own key). Every node that receives
    /// one must refuse it (no store holds it, no honest feed is frozen).
    #[serde(default)]
    pub forge_at_s: Option<u64>,
    /// When it signs two different events at the same seq, one per face, then stops signing.
    /// Every honest node must record the fork and freeze the feed before it.
    #[serde(default)]
    pub equivocate_at_s: Option<u64>,
    /// Detection bound: seconds after the equivocation, or after the last fault heals if one
    /// is active at or after it.
    #[serde(default = "default_detect_within_s")]
    pub detect_within_s: u64,
}

fn default_detect_within_s() -> u64 {
    20
}

fn default_venues_per_hub() -> usize {
    2
}

/// The people workload: carnets handed out by one hub, redeemed at another hub's venue.
///
/// Every visit picks a person whose carnet was handed out at least 2 s before it, so the
/// visited hub has usually heard of the voucher; a hub that has not waits until it has.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct People {
    /// People who moved to another hub's territory and redeem one voucher there: the visited
    /// hub asks the owner for an online transfer, or records a claim when it is unreachable.
    #[serde(default)]
    pub movers: usize,
    /// People who redeem one voucher at a venue of the hub that handed it out.
    #[serde(default)]
    pub locals: usize,
    /// People who present the same voucher at two different hubs, up to 2 s apart (the
    /// attack at-most-once redemption must stop; one of the two hubs may be the owner).
    #[serde(default)]
    pub double_spenders: usize,
    /// Visits happen during `[from_s, until_s)` (simulated seconds).
    pub from_s: u64,
    /// End of the visits.
    pub until_s: u64,
}

fn default_observer_peers() -> usize {
    2
}
fn default_converge_within_s() -> u64 {
    60
}
fn default_latency_ms() -> [u64; 2] {
    [1, 30]
}

/// Hub-to-hub links.
#[derive(Debug, Clone, Copy, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum Topology {
    /// Every hub pulls from every other.
    #[default]
    FullMesh,
    /// Each hub pulls from the next and the previous.
    Ring,
}

/// A network partition.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Partition {
    /// Start (simulated seconds).
    pub from_s: u64,
    /// End.
    pub until_s: u64,
    /// Groups of hub indices; links between groups are cut (observers stay with group 0).
    pub groups: Vec<Vec<usize>>,
}

/// Lossy links during `[from_s, until_s)`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Loss {
    /// Start (simulated seconds).
    pub from_s: u64,
    /// End: the loss stops (links broken then are repaired by their next send).
    pub until_s: u64,
    /// Probability that a message sent on a link breaks it (and is lost), per message.
    pub fail_rate: f64,
    /// Probability that a message sent on a broken link repairs it (and is delivered);
    /// below 1, a broken link drops several messages. The last window's value holds for the
    /// whole run (turmoil sets it once).
    #[serde(default = "default_repair_rate")]
    pub repair_rate: f64,
}

fn default_repair_rate() -> f64 {
    1.0
}

/// A crash and restart.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Crash {
    /// The hub.
    pub hub: usize,
    /// When it stops.
    pub at_s: u64,
    /// When it starts again.
    pub restart_s: u64,
}

impl Scenario {
    /// Parses and checks a scenario.
    pub fn from_toml(text: &str) -> anyhow::Result<Self> {
        let scenario: Self = toml::from_str(text)?;
        anyhow::ensure!(
            (2..=100).contains(&scenario.hubs),
            "hubs: between 2 and 100, found {}",
            scenario.hubs
        );
        anyhow::ensure!(
            scenario.latency_ms[0] <= scenario.latency_ms[1],
            "latency_ms: min {} above max {}",
            scenario.latency_ms[0],
            scenario.latency_ms[1]
        );
        for p in &scenario.partitions {
            anyhow::ensure!(
                p.from_s < p.until_s,
                "partition: from_s must be before until_s"
            );
            for hub in p.groups.iter().flatten() {
                anyhow::ensure!(
                    *hub < scenario.all_hubs(),
                    "partition names hub {hub}, only {} hubs",
                    scenario.all_hubs()
                );
            }
        }
        for c in &scenario.crashes {
            anyhow::ensure!(
                c.hub < scenario.hubs,
                "crash names hub {}, only {} hubs",
                c.hub,
                scenario.hubs
            );
            anyhow::ensure!(c.at_s < c.restart_s, "crash: at_s must be before restart_s");
        }
        for l in &scenario.loss {
            anyhow::ensure!(l.from_s < l.until_s, "loss: from_s must be before until_s");
            anyhow::ensure!(
                (0.0..=1.0).contains(&l.fail_rate) && (0.0..=1.0).contains(&l.repair_rate),
                "loss: fail_rate and repair_rate are probabilities (0 to 1)"
            );
        }
        if let Some(curve) = scenario.latency_curve {
            anyhow::ensure!(
                curve.is_finite() && curve > 0.0,
                "latency_curve: a positive rate, found {curve}"
            );
        }
        anyhow::ensure!(
            scenario.venues_per_hub >= 1,
            "venues_per_hub: at least 1 (visits need a qualified venue)"
        );
        if let Some(m) = &scenario.misbehaving {
            anyhow::ensure!(
                m.hub < scenario.hubs && scenario.hubs >= 3,
                "misbehaving: hub {} of {} (at least 3 hubs: a victim and two halves)",
                m.hub,
                scenario.hubs
            );
            if let (Some(o), Some(e)) = (m.out_of_territory_at_s, m.equivocate_at_s) {
                anyhow::ensure!(
                    o < e,
                    "misbehaving: out_of_territory_at_s must come before equivocate_at_s (after it the feed is frozen)"
                );
            }
        }
        if let Some(p) = &scenario.people {
            anyhow::ensure!(
                p.from_s < p.until_s,
                "people: from_s must be before until_s"
            );
        }
        anyhow::ensure!(
            scenario.threshold >= 1 && scenario.threshold as usize <= scenario.hubs,
            "threshold: between 1 and the {} founding hubs, found {}",
            scenario.hubs,
            scenario.threshold
        );
        anyhow::ensure!(
            (1..=4).contains(&scenario.territories_per_hub)
                && scenario.all_hubs() * scenario.territories_per_hub <= 101,
            "territories_per_hub: 1 to 4, and at most 101 départements in all"
        );
        if let Some(l) = &scenario.lifecycle {
            scenario.check_lifecycle(l)?;
        }
        Ok(scenario)
    }

    /// Every hub: the founding ones and those joining later.
    pub fn all_hubs(&self) -> usize {
        self.hubs + self.lifecycle.as_ref().map_or(0, |l| l.joining)
    }

    fn check_lifecycle(&self, l: &Lifecycle) -> anyhow::Result<()> {
        anyhow::ensure!(
            self.misbehaving.is_none(),
            "lifecycle: not with a misbehaving hub"
        );
        let n = self.all_hubs();
        for a in &l.amendments {
            let named = a.change.hubs();
            anyhow::ensure!(
                a.proposer < n
                    && a.endorsers.iter().all(|e| *e < n && *e != a.proposer)
                    && named.iter().all(|h| *h < n),
                "amendment at {} s names a hub outside 0..{n}, or its proposer as endorser",
                a.at_s
            );
            anyhow::ensure!(
                1 + a.endorsers.len() >= self.threshold as usize,
                "amendment at {} s: {} endorsement(s) with its proposal, the threshold is {}",
                a.at_s,
                1 + a.endorsers.len(),
                self.threshold
            );
            match a.change {
                ChangeSpec::Admit { hub } => {
                    anyhow::ensure!(hub >= self.hubs, "admit: hub {hub} is a founding hub")
                }
                ChangeSpec::Rotate { hub } => anyhow::ensure!(
                    a.proposer == hub,
                    "rotate: the hub proposes its own rotation"
                ),
                ChangeSpec::Steal { hub } => anyhow::ensure!(
                    l.thief
                        .as_ref()
                        .is_some_and(|t| t.hub == hub && t.at_s <= a.at_s)
                        && a.proposer != hub,
                    "steal: needs a thief of hub {hub} before it, and another proposer"
                ),
                ChangeSpec::Recover { hub } => anyhow::ensure!(
                    l.restore
                        .as_ref()
                        .is_some_and(|r| r.hub == hub && r.restore_at_s < a.at_s)
                        && a.proposer != hub,
                    "recover: needs a restore of hub {hub} before it, and another proposer"
                ),
                ChangeSpec::Move { from, to } => anyhow::ensure!(
                    from != to && self.territories_per_hub >= 2,
                    "move: two hubs, and territories_per_hub of 2 at least"
                ),
                ChangeSpec::Remove { .. } => {}
            }
        }
        if let Some(t) = &l.thief {
            anyhow::ensure!(
                t.hub < self.hubs && t.at_s < t.until_s && t.peers.iter().all(|p| *p < n),
                "thief: a founding hub, at_s before until_s, peers among the hubs"
            );
        }
        if let Some(r) = &l.restore {
            anyhow::ensure!(
                r.hub < self.hubs && r.backup_at_s < r.restore_at_s,
                "restore: a founding hub, backup_at_s before restore_at_s"
            );
        }
        Ok(())
    }

    /// When the last fault heals after `after_s` (a partition ends, a crashed hub restarts, a
    /// loss window closes), if one is active at or after `after_s`.
    pub fn last_heal_after(&self, after_s: u64) -> Option<u64> {
        self.partitions
            .iter()
            .map(|p| p.until_s)
            .chain(self.crashes.iter().map(|c| c.restart_s))
            .chain(self.loss.iter().map(|l| l.until_s))
            .filter(|heal| *heal >= after_s)
            .max()
    }

    /// When the last fault heals (or authoring ends, if later), in simulated seconds.
    pub fn quiet_from_s(&self) -> u64 {
        self.partitions
            .iter()
            .map(|p| p.until_s)
            .chain(self.crashes.iter().map(|c| c.restart_s))
            .chain(std::iter::once(self.authoring_s))
            .chain(self.people.iter().map(|p| p.until_s))
            .chain(self.loss.iter().map(|l| l.until_s))
            .chain(self.misbehaving.iter().flat_map(|m| {
                [m.out_of_territory_at_s, m.forge_at_s, m.equivocate_at_s]
                    .into_iter()
                    .flatten()
            }))
            .chain(self.lifecycle.iter().flat_map(|l| {
                l.amendments
                    .iter()
                    .map(|a| a.at_s)
                    .chain(l.thief.iter().map(|t| t.until_s))
                    .chain(l.restore.iter().map(|r| r.restore_at_s))
                    .chain(std::iter::once(l.join_at_s))
            }))
            .max()
            .unwrap_or(0)
    }
}
