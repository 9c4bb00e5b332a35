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
                    *hub < scenario.hubs,
                    "partition names hub {hub}, only {} hubs",
                    scenario.hubs
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
        Ok(scenario)
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
            .max()
            .unwrap_or(0)
    }
}
