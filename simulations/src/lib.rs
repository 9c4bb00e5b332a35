//! Deterministic simulations of a maillage federation on turmoil.
//!
//! Every node runs the real replication code (`maillage-sync`: handshake, frontier, pull, live
//! follow, fork gossip) and the real fold (`maillage-core`'s ledger) over an in-memory store,
//! on turmoil's simulated network and clock, single-threaded. Handshake challenges come from a
//! generator seeded per node, time from the simulation, and store and fold work runs inline,
//! so one seed replays one run exactly: the run's trace hash (a hash of every node's state at
//! every simulated second) is the proof, and a test runs a seed twice to compare.
//!
//! A scenario ([`scenario::Scenario`], TOML) names the hubs, observers, topology, latency and
//! jitter, lossy windows, partitions and crashes, a misbehaving hub ([`misbehaving`]), and the
//! workload ([`workload`]): hubs register and qualify venues ([`venues`]), issue voucher
//! batches and hand carnets to people on a schedule; people present vouchers at other hubs'
//! venues (online transfer from the owner, or a claim the owner answers later), some at two
//! hubs at once. [`run`] plays it and checks the invariants ([`invariants`]): at most one
//! redemption per voucher on and across nodes, every double presentation honoured once and
//! refused once, convergence (work done, claims answered, same frontier and digest on every
//! honest node) within the scenario's bound, every stored event verifies, a misbehaving hub's
//! fork recorded by every honest node within its bound, no honest feed frozen, forgeries never
//! stored, out-of-territory events rejected everywhere. [`report`] writes what a sweep shows.
//!
//! With a lifecycle ([`lifecycle`]), hubs propose and endorse charter amendments while the
//! run goes on (a hub admitted, removed, its key rotated, stolen or recovered after a restored
//! backup forked it, a département moved) and the runner checks that every honest node
//! applies the same membership to the same event, counts no event of a stopped key, and
//! honours a succeeded hub's vouchers through its successor.
//!
//! Size: one run is one function over the whole simulated world (hosts, faults, thefts and
//! restores, the per-second invariants, the final figures), which share its locals.

pub mod env;
pub mod invariants;
pub mod lifecycle;
pub mod misbehaving;
pub mod net;
pub mod node;
pub mod report;
pub mod scenario;
pub mod venues;
pub mod workload;

use std::rc::Rc;
use std::sync::Arc;
use std::time::{Duration, Instant};

use std::collections::BTreeMap;

use maillage_core::{Charter, HubId, MemberSpec, Role, SecretKey};
use maillage_store::EventStore;
use serde::Serialize;
use sha2::{Digest, Sha256};

pub use scenario::Scenario;

use crate::node::{NodeState, SimNode};

/// The départements of the first hubs (a hub's batches and venues are in its own); the
/// following hubs take the other départements in code order ([`territory`]).
pub const TERRITORIES: [&str; 20] = [
    "13", "69", "16", "33", "59", "35", "67", "31", "44", "06", "21", "76", "34", "63", "29", "38",
    "57", "45", "87", "974",
];

/// The département of hub `index`: one of the 101, never shared (up to 101 hubs).
pub fn territory(index: usize) -> String {
    let mut codes: Vec<String> = TERRITORIES.iter().map(|t| t.to_string()).collect();
    let all = (1..=95)
        .flat_map(|n: u32| match n {
            20 => vec!["2A".to_string(), "2B".to_string()],
            n => vec![format!("{n:02}")],
        })
        .chain(["971", "972", "973", "974", "976"].map(String::from));
    for code in all {
        if !codes.contains(&code) {
            codes.push(code);
        }
    }
    codes[index % codes.len()].clone()
}

/// The départements of hub `index`: its own ([`territory`]), then, with several per hub,
/// others taken after every hub's own.
pub fn territories_of(scenario: &Scenario, index: usize) -> Vec<String> {
    let extra = scenario.territories_per_hub.saturating_sub(1);
    std::iter::once(territory(index))
        .chain((0..extra).map(|j| territory(scenario.all_hubs() + index * extra + j)))
        .collect()
}

/// The port every node listens on.
pub const PORT: u16 = 7300;

/// What a run measured.
#[derive(Debug, Clone, Serialize)]
pub struct Outcome {
    /// The scenario.
    pub scenario: String,
    /// The seed.
    pub seed: u64,
    /// Events in the converged log (every node holds them).
    pub events: u64,
    /// Simulated ms from the last fault healing to every node holding the same digest.
    pub converged_after_quiet_ms: u64,
    /// The digest every node reached.
    pub digest: String,
    /// Hash of every node's (events applied, digest, bytes received) at every simulated
    /// second: equal for equal seeds.
    pub trace_hash: String,
    /// gRPC message bytes received by all nodes, per event.
    pub bytes_per_event: f64,
    /// gRPC messages (event batches, heartbeats) received by all nodes, per event.
    pub messages_per_event: f64,
    /// Copies of each event received, all nodes together (a node that pulls from k peers
    /// may receive an event k times).
    pub copies_per_event: f64,
    /// Signed bytes (payload and signature) of an event, mean over the converged log.
    pub signed_bytes_per_event: f64,
    /// The largest signed event of the log, bytes.
    pub signed_bytes_max: u64,
    /// Deps an event names, mean over the log.
    pub deps_per_event: f64,
    /// The most deps an event of the log names.
    pub deps_max: u64,
    /// Simulated seconds played.
    pub simulated_s: f64,
    /// Wall-clock seconds the run took.
    pub wall_s: f64,
    /// What the domain workload did, as the converged views and the visits tell.
    pub domain: DomainCounts,
    /// What a misbehaving hub did and how the others caught it.
    pub misbehaviour: MisbehaviourCounts,
    /// Peer events honest nodes refused before storing them (bad signature, gap, frozen
    /// feed), by reason, all nodes together.
    pub refused_by_reason: BTreeMap<String, u64>,
    /// What the charter amendments did.
    pub lifecycle: LifecycleCounts,
}

/// A run with charter amendments.
#[derive(Debug, Clone, Default, Serialize)]
pub struct LifecycleCounts {
    /// Amendments in effect on every honest node at the end.
    pub amendments_in_effect: u32,
    /// From the last amendment's proposal to every honest node holding every amendment in
    /// effect (simulated ms).
    pub in_effect_everywhere_after_ms: Option<u64>,
    /// From the last amendment's proposal to one digest on every honest node, all work done.
    pub converged_after_last_amendment_ms: Option<u64>,
    /// Events a thief or a removed hub signed with its key from its theft or removal on.
    pub stopped_signed: u64,
    /// Of which past the key's last seq that counts (never applied by any honest node).
    pub stopped_past_cut: u64,
    /// Feeds found forked.
    pub forks: u64,
}

/// A misbehaving hub's run.
#[derive(Debug, Clone, Default, Serialize)]
pub struct MisbehaviourCounts {
    /// Events it signed outside its authority (every node rejected them).
    pub intrusions: u64,
    /// Forged events its first face served (no node stored one).
    pub forgeries_served: u64,
    /// The seq at which it equivocated.
    pub equivocated_at_seq: Option<u64>,
    /// Honest nodes that recorded the fork.
    pub nodes_detecting_fork: u64,
    /// Seconds from the equivocation to the last honest node recording it.
    pub fork_detected_within_s: Option<u64>,
}

/// The domain workload's figures.
#[derive(Debug, Clone, Default, Serialize)]
pub struct DomainCounts {
    /// Venues registered.
    pub venues: u64,
    /// Vouchers redeemed.
    pub redemptions: u64,
    /// Vouchers transferred online by their owner.
    pub transfers: u64,
    /// Transfer requests the owners refused.
    pub transfers_refused: u64,
    /// Claims recorded (owner unreachable).
    pub claims_made: u64,
    /// Claims the owner accepted (redeemed).
    pub claims_accepted: u64,
    /// Claims the owner rejected.
    pub claims_rejected: u64,
    /// Visits (a person presenting a voucher at a venue).
    pub visits: u64,
    /// Visits by outcome.
    pub visit_outcomes: BTreeMap<String, u64>,
    /// Vouchers presented at two hubs.
    pub double_spend_attempts: u64,
    /// Of which exactly one presentation was honoured and the other refused or rejected.
    pub double_spends_refused: u64,
    /// Vouchers honoured twice (must stay 0).
    pub double_redemptions: u64,
    /// Vouchers presented twice both of whose presentations were turned away during a fault,
    /// the voucher staying valid in the final views (the person can present it again): one
    /// turned away by a restored copy's views (they lack what it signed after the backup), or
    /// both by views that counted a thief's redemption with a stolen key until its successor's
    /// amendment folded it out. Never a double redemption.
    pub double_spends_both_refused_in_a_fault: u64,
    /// Presentations of a succeeded hub's vouchers after its succession.
    pub successor_visits: u64,
    /// Of which honoured through the successor.
    pub successor_visits_honoured: u64,
    /// Presentations at a venue of a département that moved, around the move.
    pub in_flight_visits: u64,
    /// Of which honoured.
    pub in_flight_honoured: u64,
    /// Events the rules rejected (kept in the log without effect), by reason.
    pub rejected_by_reason: BTreeMap<String, u64>,
}

/// A reason with its particulars (ids, serials, numbers) elided, to count reasons by kind.
pub fn reason_class(reason: &str) -> String {
    reason
        .split(' ')
        .map(|word| {
            let bare = word.trim_matches(|c: char| !c.is_alphanumeric());
            if bare.bytes().any(|b| b.is_ascii_digit()) && bare != "Ed25519" {
                word.replace(bare, "…")
            } else {
                word.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// An invariant that did not hold.
#[derive(Debug, Clone)]
pub struct Failure {
    /// The invariant.
    pub invariant: &'static str,
    /// What was seen.
    pub detail: String,
    /// The seed.
    pub seed: u64,
    /// The scenario file, as given.
    pub scenario_path: String,
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "invariant `{}` failed (seed {}): {}\nreproduce: cargo run -p maillage-simulations --release -- {} --seed {}",
            self.invariant, self.seed, self.detail, self.scenario_path, self.seed
        )
    }
}

impl std::error::Error for Failure {}

fn key_seed(seed: u64, index: usize, observer: bool) -> [u8; 32] {
    let digest = Sha256::new()
        .chain_update(b"maillage-simulation-key\0")
        .chain_update(seed.to_be_bytes())
        .chain_update((index as u64).to_be_bytes())
        .chain_update([u8::from(observer)])
        .finalize();
    digest.into()
}

/// Host names: `hub-0`, …, `observer-0`, ….
pub fn hub_name(index: usize) -> String {
    format!("hub-{index}")
}

fn observer_name(index: usize) -> String {
    format!("observer-{index}")
}

/// Plays `scenario` with `seed` and checks every invariant.
pub fn run(scenario: &Scenario, seed: u64, scenario_path: &str) -> Result<Outcome, Failure> {
    let fail = |invariant: &'static str, detail: String| Failure {
        invariant,
        detail,
        seed,
        scenario_path: scenario_path.to_string(),
    };
    let started = Instant::now();
    let hub_keys: Vec<[u8; 32]> = (0..scenario.all_hubs())
        .map(|i| key_seed(seed, i, false))
        .collect();
    // A hub's successor key, should an amendment name one.
    let successor_keys: Vec<[u8; 32]> = (0..scenario.all_hubs())
        .map(|i| key_seed(seed, 1000 + i, false))
        .collect();
    let observer_keys: Vec<[u8; 32]> = (0..scenario.observers)
        .map(|i| key_seed(seed, i, true))
        .collect();
    let mut members: Vec<MemberSpec> = hub_keys[..scenario.hubs]
        .iter()
        .enumerate()
        .map(|(i, k)| MemberSpec {
            key: SecretKey::from_seed(k).hub_id(),
            name: hub_name(i),
            role: Role::Hub,
            territories: territories_of(scenario, i),
        })
        .collect();
    members.extend(observer_keys.iter().enumerate().map(|(i, k)| MemberSpec {
        key: SecretKey::from_seed(k).hub_id(),
        name: observer_name(i),
        role: Role::Observer,
        territories: Vec::new(),
    }));
    let charter = Arc::new(
        Charter::found("Fédération simulée", scenario.threshold, members)
            .map_err(|e| fail("scenario", format!("charter: {e}")))?,
    );

    // Peers of each hub.
    let hub_peers = |i: usize| -> Vec<usize> {
        let n = scenario.all_hubs();
        match scenario.topology {
            scenario::Topology::FullMesh => (0..n).filter(|j| *j != i).collect(),
            scenario::Topology::Ring => {
                let mut peers = vec![(i + 1) % n, (i + n - 1) % n];
                peers.dedup();
                peers
            }
        }
    };
    // A misbehaving hub's peers are split in two halves; the second dials its second face.
    let misbehaving = scenario.misbehaving.as_ref().map(|m| m.hub);
    let (first_half, second_half): (Vec<usize>, Vec<usize>) = match misbehaving {
        Some(m) => {
            let peers = hub_peers(m);
            let cut = peers.len().div_ceil(2);
            (peers[..cut].to_vec(), peers[cut..].to_vec())
        }
        None => (Vec::new(), Vec::new()),
    };
    let peer_names = |i: usize| -> Vec<String> {
        hub_peers(i)
            .into_iter()
            .map(|j| {
                if Some(j) == misbehaving && second_half.contains(&i) {
                    format!("{}:{}", hub_name(j), PORT + 1)
                } else {
                    hub_name(j)
                }
            })
            .collect()
    };
    let hub_ids: Vec<HubId> = hub_keys
        .iter()
        .map(|k| SecretKey::from_seed(k).hub_id())
        .collect();
    let life = scenario.lifecycle.as_ref();
    let removed: Vec<usize> = life
        .iter()
        .flat_map(|l| &l.amendments)
        .filter_map(|a| match a.change {
            scenario::ChangeSpec::Remove { hub } => Some(hub),
            _ => None,
        })
        .collect();
    let excluded: Vec<usize> = misbehaving
        .into_iter()
        .chain(removed.iter().copied())
        .collect();
    let restore = life.and_then(|l| l.restore.clone());
    let not_visited: Vec<usize> = restore.iter().map(|r| r.hub).collect();
    // A restored hub's carnets handed out once it was cut off are lost with its disk.
    let lost_from_ms = restore.as_ref().map(|r| {
        scenario
            .partitions
            .iter()
            .find(|p| {
                p.from_s <= r.restore_at_s
                    && r.restore_at_s < p.until_s
                    && p.groups.iter().any(|g| g.contains(&r.hub))
            })
            .map_or(r.backup_at_s, |p| p.from_s)
            * 1000
    });
    let usable = |hub: usize, due: u64| -> bool {
        match (&restore, lost_from_ms) {
            (Some(r), Some(lost)) if r.hub == hub => due + 1000 <= lost,
            _ => true,
        }
    };
    let cast = workload::Cast {
        excluded: &excluded,
        not_visited: &not_visited,
        usable: &usable,
    };
    let visits = workload::plan(scenario, seed, &hub_ids, &cast);
    let told: Arc<std::sync::Mutex<Option<u64>>> = Arc::default();
    let lives = lives(scenario, &hub_keys, &successor_keys, &told);
    let desk: Option<Arc<std::sync::Mutex<Vec<workload::Visit>>>> = life
        .is_some_and(|l| {
            l.amendments
                .iter()
                .any(|a| matches!(a.change, scenario::ChangeSpec::Move { .. }))
        })
        .then(|| {
            Arc::new(std::sync::Mutex::new(
                visits
                    .iter()
                    .filter(|v| v.departement.is_some())
                    .cloned()
                    .collect(),
            ))
        });
    let mut nodes: Vec<Rc<SimNode>> = Vec::new();
    for (i, key) in hub_keys.iter().enumerate() {
        let schedule = node_schedule_of(scenario, i, &hub_ids[i]);
        let peers = if misbehaving == Some(i) {
            first_half.iter().map(|j| hub_name(*j)).collect()
        } else {
            peer_names(i)
        };
        let mut node = SimNode::new(
            hub_name(i),
            *key,
            &charter,
            peers,
            schedule,
            visits
                .iter()
                .filter(|v| v.hub == i && v.departement.is_none())
                .cloned()
                .collect(),
            seed ^ (i as u64 + 1),
        );
        if let Some(life) = &lives {
            node = node.living(life[i].clone(), Some(successor_keys[i]), desk.clone());
        }
        if let Some(m) = scenario.misbehaving.as_ref().filter(|m| m.hub == i) {
            let victim = (i + 1) % scenario.hubs;
            let victim_departement = territory(victim);
            node = node.misbehaving(misbehaving::Misbehaviour {
                out_of_territory_at_ms: m.out_of_territory_at_s.map(|s| s * 1000),
                forge_at_ms: m.forge_at_s.map(|s| s * 1000),
                equivocate_at_ms: m.equivocate_at_s.map(|s| s * 1000),
                victim: hub_ids[victim],
                victim_venue: venues::venues_for(&victim_departement, 1)[0].record.clone(),
                victim_serial: workload::carnet(&victim_departement, 1)
                    .and_then(|c| c.last().cloned())
                    .unwrap_or_default(),
                victim_departement,
                second_face_peers: second_half.iter().map(|j| hub_name(*j)).collect(),
            });
        }
        nodes.push(Rc::new(node));
    }
    for (i, key) in observer_keys.iter().enumerate() {
        let peers = (0..scenario.observer_peers.min(scenario.hubs))
            .map(|k| hub_name((i + k) % scenario.hubs))
            .collect();
        let observer = SimNode::new(
            observer_name(i),
            *key,
            &charter,
            peers,
            None,
            Vec::new(),
            seed ^ (0x0b5e_0000 + i as u64),
        );
        let tracked = lifecycle::Life {
            tracked: lives.is_some(),
            ..lifecycle::Life::default()
        };
        nodes.push(Rc::new(observer.living(tracked, None, None)));
    }
    // A thief: a node of its own with the victim's key, from the theft on.
    let thief = life.and_then(|l| l.thief.clone());
    if let Some(t) = &thief {
        let departement = territory(t.hub);
        let venue = &venues::venues_for(&departement, 1)[0].record;
        let serials = (0..scenario.events_per_hub)
            .filter(|k| workload::due_ms(scenario, *k) < t.at_s * 1000)
            .filter_map(|k| workload::carnet(&departement, k).map(|c| c[3].clone()))
            .collect();
        let plan = lifecycle::ThiefPlan {
            venue_id: maillage_core::venues::venue_id(&hub_ids[t.hub], &venue.id),
            departement,
            serials,
            until_ms: t.until_s * 1000,
        };
        let node = SimNode::new(
            format!("thief-{}", t.hub),
            hub_keys[t.hub],
            &charter,
            t.peers.iter().map(|p| hub_name(*p)).collect(),
            None,
            Vec::new(),
            seed ^ 0x7468_6965_6600,
        )
        .living(
            lifecycle::Life {
                starts_at_ms: t.at_s * 1000 + 500,
                departed: true,
                tracked: true,
                thief: Some(plan),
                ..lifecycle::Life::default()
            },
            None,
            None,
        );
        nodes.push(Rc::new(node));
    }
    let node_index = |name: &str| nodes.iter().position(|n| n.name == name);

    let quiet_from_s = scenario.quiet_from_s();
    let horizon_s = quiet_from_s + scenario.converge_within_s + 5;
    let mut sim = turmoil::Builder::new()
        .rng_seed(seed)
        .simulation_duration(Duration::from_secs(horizon_s + 60))
        .tick_duration(Duration::from_millis(10))
        .min_message_latency(Duration::from_millis(scenario.latency_ms[0]))
        .max_message_latency(Duration::from_millis(scenario.latency_ms[1]))
        .tcp_capacity(1 << 16)
        .repair_rate(scenario.loss.last().map_or(1.0, |l| l.repair_rate))
        .build();
    if let Some(curve) = scenario.latency_curve {
        sim.set_message_latency_curve(curve);
    }
    for node in &nodes {
        let name = node.name.clone();
        let node = node.clone();
        sim.host(name.as_str(), move || {
            let node = node.clone();
            async move { node.serve().await }
        });
    }

    let mut trace = Sha256::new();
    let mut next_second = 0u64;
    let mut converged_at: Option<u64> = None;
    // The equivocation: when each honest node recorded the fork, and the bound.
    let equivocator = misbehaving.map(|m| hub_ids[m]);
    let detect_by_s = scenario.misbehaving.as_ref().and_then(|m| {
        let at = m.equivocate_at_s?;
        Some(scenario.last_heal_after(at).unwrap_or(at).max(at) + m.detect_within_s)
    });
    let mut detected_at: BTreeMap<String, u64> = BTreeMap::new();
    // Amendments: how many, the last one's proposal, and when every honest node had them all.
    let amendments_expected = life.map_or(0, |l| l.amendments.len() as u32);
    let last_amendment_ms = life
        .and_then(|l| l.amendments.iter().map(|a| a.at_s * 1000).max())
        .unwrap_or(0);
    let mut everywhere_at: Option<u64> = None;
    // Nodes are observed every simulated second, and every 100 ms once the network is quiet
    // and until it converges (the convergence time's resolution).
    let mut next_look_ms = 0u64;
    loop {
        let elapsed_ms = sim.elapsed().as_millis() as u64;
        let second = elapsed_ms / 1000;
        if elapsed_ms >= next_look_ms {
            let new_second = second >= next_second;
            next_second = second + 1;
            // Faults, in simulated seconds.
            for p in scenario.partitions.iter().filter(|_| new_second) {
                if p.from_s == second || p.until_s == second {
                    for (g, a) in p.groups.iter().enumerate() {
                        for b in p.groups.iter().skip(g + 1) {
                            for x in a {
                                for y in b {
                                    if p.from_s == second {
                                        sim.partition(hub_name(*x).as_str(), hub_name(*y).as_str());
                                    } else {
                                        sim.repair(hub_name(*x).as_str(), hub_name(*y).as_str());
                                    }
                                }
                            }
                        }
                        // Observers stay with group 0.
                        if g > 0 {
                            for x in a {
                                for o in 0..scenario.observers {
                                    let (h, o) = (hub_name(*x), observer_name(o));
                                    if p.from_s == second {
                                        sim.partition(h.as_str(), o.as_str());
                                    } else {
                                        sim.repair(h.as_str(), o.as_str());
                                    }
                                }
                            }
                        }
                    }
                }
            }
            for l in scenario.loss.iter().filter(|_| new_second) {
                if l.from_s == second {
                    sim.set_fail_rate(l.fail_rate);
                }
                if l.until_s == second {
                    sim.set_fail_rate(0.0);
                }
            }
            for c in scenario.crashes.iter().filter(|_| new_second) {
                let name = hub_name(c.hub);
                if c.at_s == second {
                    sim.crash(name.as_str());
                }
                if c.restart_s == second {
                    sim.bounce(name.as_str());
                }
            }
            if new_second {
                if let Some(t) = thief.as_ref().filter(|t| t.at_s == second) {
                    // The key is stolen: its hub signs nothing more with it, and tells the
                    // federation the last seq it signed; the thief has a copy of its disk.
                    let victim = &nodes[t.hub];
                    victim.pause_key();
                    *told.lock().unwrap_or_else(|p| p.into_inner()) =
                        victim.store().head(&hub_ids[t.hub]).map(|h| h.seq);
                    if let Some(j) = node_index(&format!("thief-{}", t.hub)) {
                        nodes[j].copy_store_of(victim);
                    }
                }
                if let Some(r) = &restore {
                    let name = hub_name(r.hub);
                    if r.backup_at_s == second {
                        nodes[r.hub].take_backup();
                    }
                    if r.restore_at_s == second {
                        sim.crash(name.as_str());
                        nodes[r.hub].restore_backup();
                    }
                    if r.restore_at_s + 1 == second {
                        sim.bounce(name.as_str());
                    }
                }
            }
            // A hub whose views put its successor key in effect restarts under it.
            for node in nodes.iter().filter(|n| n.wants_switch(&nodes)) {
                node.switch_key();
                sim.crash(node.name.as_str());
                sim.bounce(node.name.as_str());
            }
            // Observe every node once per simulated second.
            let states: Vec<NodeState> = nodes.iter().map(|n| n.state()).collect();
            for state in states.iter().filter(|_| new_second) {
                trace.update(state.name.as_bytes());
                trace.update(state.applied.to_be_bytes());
                trace.update(state.digest);
                trace.update(state.frontier);
                trace.update(state.bytes_received.to_be_bytes());
            }
            let honest: Vec<NodeState> = states.iter().filter(|s| s.honest).cloned().collect();
            let stopped: std::collections::BTreeSet<maillage_core::EventId> = honest
                .iter()
                .filter_map(|s| s.life.as_ref())
                .flat_map(|l| l.stopped.iter().copied())
                .collect();
            invariants::redemptions_agree(&honest, &stopped)
                .map_err(|d| fail("at-most-once-redemption", d))?;
            if lives.is_some() {
                invariants::stops_respected(&honest).map_err(|d| fail("stopped-keys", d))?;
                invariants::one_membership_per_event(&honest)
                    .map_err(|d| fail("one-membership-per-event", d))?;
                let all_in_effect = honest.iter().all(|s| {
                    s.life
                        .as_ref()
                        .is_some_and(|l| l.membership >= amendments_expected)
                });
                if everywhere_at.is_none() && elapsed_ms >= last_amendment_ms && all_in_effect {
                    everywhere_at = Some(elapsed_ms);
                }
            }
            if let Some(equivocator) = equivocator {
                for state in honest
                    .iter()
                    .filter(|s| s.forked.contains_key(&equivocator))
                {
                    detected_at.entry(state.name.clone()).or_insert(second);
                }
                invariants::no_honest_hub_frozen(&honest, equivocator)
                    .map_err(|d| fail("forgeries-refused", d))?;
                if new_second && detect_by_s == Some(second) {
                    invariants::equivocation_detected(&honest, &detected_at, detect_by_s)
                        .map_err(|d| fail("equivocation-detected", d))?;
                }
            }
            let quiet = elapsed_ms >= quiet_from_s * 1000;
            let desk_empty = desk
                .as_ref()
                .is_none_or(|d| d.lock().map(|d| d.is_empty()).unwrap_or(false));
            if quiet
                && converged_at.is_none()
                && desk_empty
                && (lives.is_none() || everywhere_at.is_some())
                && invariants::converged(&honest)
            {
                converged_at = Some(elapsed_ms);
            }
            let all_detected = equivocator.is_none() || detected_at.len() == honest.len();
            if converged_at.is_some() && all_detected {
                break;
            }
            if second > quiet_from_s + scenario.converge_within_s {
                let summary: Vec<String> = states
                    .iter()
                    .zip(&nodes)
                    .map(|(s, node)| {
                        let mut line = format!(
                            "{} applied {} of {} stored ({} waiting), digest {}, {} open claims, {} tasks left",
                            s.name,
                            s.applied,
                            s.stored,
                            s.pending,
                            hex::encode(&s.digest[..6]),
                            s.open_claims,
                            s.work_left
                        );
                        let diagnosis = node.diagnosis();
                        if !diagnosis.is_empty() {
                            line.push_str(&format!(" [{}]", diagnosis.join("; ")));
                        }
                        line
                    })
                    .collect();
                return Err(fail(
                    "convergence",
                    format!(
                        "{} s after the last fault healed, nodes differ: {}",
                        scenario.converge_within_s,
                        summary.join("; ")
                    ),
                ));
            }
            let amending = lives.is_some()
                && everywhere_at.is_none()
                && elapsed_ms + 1000 >= last_amendment_ms;
            next_look_ms = if (quiet && converged_at.is_none()) || amending {
                elapsed_ms + 100
            } else {
                next_second * 1000
            };
        }
        match sim.step() {
            Ok(_) => {}
            Err(error) => return Err(fail("simulation", error.to_string())),
        }
    }

    let states: Vec<NodeState> = nodes
        .iter()
        .map(|n| n.state())
        .filter(|s| s.honest)
        .collect();
    let honest: Vec<Rc<SimNode>> = nodes.iter().filter(|n| n.honest()).cloned().collect();
    for node in &honest {
        invariants::store_verifies(node).map_err(|d| fail("store-verifies", d))?;
    }
    let mut misbehaviour = MisbehaviourCounts::default();
    if let Some(bad) = nodes.iter().find(|n| !n.honest()) {
        let evidence = bad.evidence();
        let victim = hub_ids[(misbehaving.unwrap_or_default() + 1) % scenario.hubs];
        invariants::intrusions_rejected(&honest, &evidence)
            .map_err(|d| fail("out-of-territory-rejected", d))?;
        invariants::forgeries_refused(&honest, &evidence, &victim)
            .map_err(|d| fail("forgeries-refused", d))?;
        misbehaviour = MisbehaviourCounts {
            intrusions: evidence.intrusions.len() as u64,
            forgeries_served: evidence.forged.len() as u64,
            equivocated_at_seq: evidence.equivocation.map(|e| e.0),
            nodes_detecting_fork: detected_at.len() as u64,
            fork_detected_within_s: detected_at
                .values()
                .max()
                .map(|s| s.saturating_sub(evidence.equivocated_at_ms / 1000)),
        };
    }
    let mut refused_by_reason: BTreeMap<String, u64> = BTreeMap::new();
    for node in &honest {
        for (reason, n) in node.rejections() {
            *refused_by_reason.entry(reason).or_default() += n;
        }
    }
    let domain = domain_counts(&honest);
    invariants::double_spends_refused(&domain).map_err(|d| fail("at-most-once-redemption", d))?;
    let mut lifecycle_counts = LifecycleCounts::default();
    if lives.is_some() {
        invariants::one_membership(&states, amendments_expected)
            .map_err(|d| fail("one-membership-per-event", d))?;
        let signed: Vec<(HubId, u64, maillage_core::EventId)> = nodes
            .iter()
            .filter(|n| !n.honest())
            .flat_map(|n| {
                n.stopped_signed
                    .lock()
                    .map(|s| s.clone())
                    .unwrap_or_default()
            })
            .collect();
        lifecycle_counts.stopped_signed = signed.len() as u64;
        lifecycle_counts.stopped_past_cut =
            invariants::stopped_events_never_count(&states, &signed)
                .map_err(|d| fail("stopped-keys", d))?;
        invariants::successors_honour(&domain)
            .map_err(|d| fail("redeemable-through-successor", d))?;
        lifecycle_counts.amendments_in_effect = amendments_expected;
        lifecycle_counts.in_effect_everywhere_after_ms =
            everywhere_at.map(|t| t.saturating_sub(last_amendment_ms));
        lifecycle_counts.converged_after_last_amendment_ms =
            converged_at.map(|t| t.saturating_sub(last_amendment_ms));
        lifecycle_counts.forks = states[0].forked.len() as u64;
    }
    let events = states[0].stored;
    let bytes: u64 = states.iter().map(|s| s.bytes_received).sum();
    let sizes = honest.first().map(|n| n.signed_sizes()).unwrap_or_default();
    let logged = sizes.len().max(1) as f64;
    let converged_ms = converged_at.unwrap_or_default();
    Ok(Outcome {
        scenario: scenario.name.clone(),
        seed,
        events,
        converged_after_quiet_ms: converged_ms.saturating_sub(quiet_from_s * 1000),
        digest: hex::encode(states[0].digest),
        trace_hash: hex::encode(trace.finalize()),
        bytes_per_event: bytes as f64 / events.max(1) as f64,
        messages_per_event: states.iter().map(|s| s.messages_received).sum::<u64>() as f64
            / events.max(1) as f64,
        copies_per_event: states.iter().map(|s| s.events_received).sum::<u64>() as f64
            / events.max(1) as f64,
        signed_bytes_per_event: sizes.iter().map(|(b, _)| *b as f64).sum::<f64>() / logged,
        signed_bytes_max: sizes.iter().map(|(b, _)| *b as u64).max().unwrap_or(0),
        deps_per_event: sizes.iter().map(|(_, d)| *d as f64).sum::<f64>() / logged,
        deps_max: sizes.iter().map(|(_, d)| *d as u64).max().unwrap_or(0),
        simulated_s: sim.elapsed().as_secs_f64(),
        wall_s: started.elapsed().as_secs_f64(),
        domain,
        misbehaviour,
        refused_by_reason,
        lifecycle: lifecycle_counts,
    })
}

/// What hub `i` signs on its own: its venues, then its batches and carnets.
fn node_schedule_of(scenario: &Scenario, i: usize, id: &HubId) -> Option<node::Schedule> {
    let departement = territory(i);
    Some(node::Schedule {
        index: i,
        venues: territories_of(scenario, i)
            .iter()
            .flat_map(|d| venues::bodies(id, &venues::venues_for(d, scenario.venues_per_hub)))
            .collect(),
        bodies: (0..scenario.events_per_hub)
            .map(|k| workload::body(i, &departement, k))
            .collect(),
        due_ms: (0..scenario.events_per_hub)
            .map(|k| workload::hub_due_ms(scenario, i, k))
            .collect(),
    })
}

/// Each hub's part in the amendments of the scenario (`None` without a lifecycle).
fn lives(
    scenario: &Scenario,
    hub_keys: &[[u8; 32]],
    successor_keys: &[[u8; 32]],
    told: &Arc<std::sync::Mutex<Option<u64>>>,
) -> Option<Vec<lifecycle::Life>> {
    use scenario::ChangeSpec;
    let l = scenario.lifecycle.as_ref()?;
    let n = scenario.all_hubs();
    let id = |seed: &[u8; 32]| SecretKey::from_seed(seed).hub_id();
    let ids: Vec<Vec<HubId>> = (0..n)
        .map(|i| vec![id(&hub_keys[i]), id(&successor_keys[i])])
        .collect();
    let territories: Vec<Vec<String>> = (0..n).map(|i| territories_of(scenario, i)).collect();
    let mut lives = vec![
        lifecycle::Life {
            tracked: true,
            ..lifecycle::Life::default()
        };
        n
    ];
    for life in &mut lives[scenario.hubs..] {
        life.starts_at_ms = l.join_at_s * 1000;
    }
    for a in &l.amendments {
        let template = lifecycle::template(a.change, &ids, &territories, told);
        lives[a.proposer].proposals.push(lifecycle::Proposal {
            at_ms: a.at_s * 1000,
            template: template.clone(),
        });
        for e in &a.endorsers {
            lives[*e].endorsements.push(template.clone());
        }
        match a.change {
            ChangeSpec::Remove { hub } => {
                lives[hub].stubborn_from_ms = Some(a.at_s * 1000);
                lives[hub].departed = true;
            }
            ChangeSpec::Recover { hub } => lives[hub].fresh_on_switch = true,
            _ => {}
        }
    }
    for hub in &l.ignores_stops {
        if let Some(life) = lives.get_mut(*hub) {
            life.ignores_stops = true;
        }
    }
    Some(lives)
}

/// The domain figures of a converged run: from the first node's views (every node holds the
/// same) and the visits' outcomes.
fn domain_counts(nodes: &[Rc<SimNode>]) -> DomainCounts {
    use workload::{VisitKind, VisitOutcome};
    let ledger = nodes[0].ledger();
    let mut counts = DomainCounts {
        venues: ledger.venues().venues().len() as u64,
        ..DomainCounts::default()
    };
    for (_, state) in ledger.touched_vouchers() {
        counts.redemptions += u64::from(state.redemption.is_some());
        counts.transfers += state.transfers.len() as u64;
    }
    for claim in ledger.claims().values() {
        counts.claims_made += 1;
        match claim.accepted {
            Some(true) => counts.claims_accepted += 1,
            Some(false) => counts.claims_rejected += 1,
            None => {}
        }
    }
    for rejection in ledger.rejections().values() {
        *counts
            .rejected_by_reason
            .entry(rejection.code().to_owned())
            .or_default() += 1;
    }
    counts.transfers_refused = nodes
        .iter()
        .map(|n| n.counters().transfers_refused.values().sum::<u64>())
        .sum();
    // A presentation was honoured if the hub redeemed, or claimed and the owner accepted.
    let claim_of = |visit: &workload::Visit| {
        ledger
            .claims()
            .values()
            .find(|c| c.serial == visit.serial && c.venue_id == visit.venue_id)
            .and_then(|c| c.accepted)
    };
    // A redemption a hub signed counts only if the federation's views hold it: one signed by
    // a restored copy on the branch of a fork that its recovery discarded does not (the venue
    // served the person and is not paid: the cost of forcing a restored copy to sign).
    let counted = |visit: &workload::Visit| {
        ledger
            .voucher(&visit.serial)
            .and_then(|v| v.redemption)
            .is_some_and(|r| r.venue_id == visit.venue_id)
    };
    let mut honoured: BTreeMap<String, u64> = BTreeMap::new();
    let mut pairs: BTreeMap<String, (u64, u64, u64)> = BTreeMap::new();
    for (visit, outcome) in nodes.iter().flat_map(|n| n.visits()) {
        counts.visits += 1;
        // Signed by a hub that was then restored from an older backup before any peer held
        // the event: a redemption on the discarded branch, or a claim lost with the store.
        let discarded = match &outcome {
            Some(VisitOutcome::Redeemed { .. }) => !counted(&visit),
            Some(VisitOutcome::Claimed) => {
                ledger
                    .claims()
                    .values()
                    .all(|c| c.serial != visit.serial || c.venue_id != visit.venue_id)
                    && nodes.get(visit.hub).is_some_and(|n| n.recovers())
            }
            _ => false,
        };
        let label = match &outcome {
            Some(VisitOutcome::Redeemed { .. }) if discarded => {
                "redeemed on a fork branch a recovery discarded".into()
            }
            Some(VisitOutcome::Claimed) if discarded => {
                "claimed, the claim lost with a store restored from an older backup".into()
            }
            None => "unserved".to_string(),
            Some(VisitOutcome::Redeemed { transferred: true }) => {
                "redeemed after an online transfer".into()
            }
            Some(VisitOutcome::Redeemed { transferred: false }) => "redeemed by the owner".into(),
            Some(VisitOutcome::Claimed) => match claim_of(&visit) {
                Some(true) => "claimed, accepted".into(),
                Some(false) => "claimed, rejected".into(),
                None => "claimed, unanswered".into(),
            },
            Some(VisitOutcome::RefusedOnline(reason)) => {
                format!("refused by the owner: {}", reason_class(reason))
            }
            Some(VisitOutcome::RefusedLocally(reason)) => format!("refused: {reason}"),
            Some(VisitOutcome::RefusedByRules(reason)) => {
                format!(
                    "refused by the rules before signing: {}",
                    reason_class(reason)
                )
            }
        };
        *counts.visit_outcomes.entry(label).or_default() += 1;
        let ok = match &outcome {
            Some(VisitOutcome::Redeemed { .. }) => !discarded,
            Some(VisitOutcome::Claimed) => claim_of(&visit) == Some(true),
            _ => false,
        };
        *honoured.entry(visit.serial.clone()).or_default() += u64::from(ok);
        if visit.kind == VisitKind::Successor {
            counts.successor_visits += 1;
            counts.successor_visits_honoured += u64::from(ok);
        }
        if visit.kind == VisitKind::InFlight {
            counts.in_flight_visits += 1;
            counts.in_flight_honoured += u64::from(ok);
        }
        if visit.kind == VisitKind::DoubleSpend {
            let refused = outcome.as_ref().is_some_and(VisitOutcome::refused)
                || discarded
                || (outcome == Some(VisitOutcome::Claimed) && claim_of(&visit) == Some(false));
            let by_restored_copy = discarded
                || (matches!(outcome, Some(VisitOutcome::RefusedOnline(_)))
                    && nodes.get(visit.owner).is_some_and(|n| n.recovers()));
            let pair = pairs.entry(visit.serial.clone()).or_default();
            pair.0 += u64::from(ok);
            pair.1 += u64::from(refused);
            pair.2 += u64::from(by_restored_copy);
        }
    }
    counts.double_redemptions = honoured.values().filter(|n| **n > 1).count() as u64;
    counts.double_spend_attempts = pairs.len() as u64;
    counts.double_spends_refused = pairs
        .values()
        .filter(|(ok, refused, _)| *ok == 1 && *refused == 1)
        .count() as u64;
    counts.double_spends_both_refused_in_a_fault = pairs
        .iter()
        .filter(|(serial, (ok, refused, by_copy))| {
            *ok == 0
                && *refused == 2
                && (*by_copy > 0
                    || ledger.voucher(serial).is_some_and(|v| {
                        v.status == maillage_core::ledger::VoucherStatus::HandedOut
                    }))
        })
        .count() as u64;
    counts
}
