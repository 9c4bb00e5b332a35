//! The domain workload: what each hub signs on its own schedule (venues, voucher batches,
//! carnets handed to people) and the visits people make to venues, where they redeem.
//!
//! Everything here is a function of the scenario and the seed (SplitMix64, BTreeMap), so a
//! seed replays the same people, the same visits, at the same simulated times.

use maillage_core::seeded::SplitMix64;
use maillage_core::venues::venue_id;
use maillage_core::{HubId, pb};
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::scenario::Scenario;

/// Vouchers per batch.
pub const BATCH_VOUCHERS: u32 = 20;
/// Vouchers per carnet.
pub const CARNET: u32 = 5;
/// A visit picks a carnet handed out at least this long before it.
pub const HANDED_OUT_BEFORE_MS: u64 = 2_000;

/// When hub schedule event `k` is due, in simulated ms.
pub fn due_ms(scenario: &Scenario, k: usize) -> u64 {
    k as u64 * interval_ms(scenario)
}

fn interval_ms(scenario: &Scenario) -> u64 {
    (scenario.authoring_s * 1000 / scenario.events_per_hub.max(1) as u64).max(1)
}

fn batch_id(departement: &str, k: usize) -> String {
    format!("{departement}-2026-SIM-{}", k / 5 + 1)
}

/// The serials of the carnet hub schedule event `k` hands out (`None` for a batch).
pub fn carnet(departement: &str, k: usize) -> Option<Vec<String>> {
    let j = (k % 5) as u32;
    if j == 0 {
        return None;
    }
    let batch = batch_id(departement, k);
    Some(
        ((j - 1) * CARNET + 1..=j * CARNET)
            .map(|n| format!("{batch}-{n}"))
            .collect(),
    )
}

/// A batch of `count` €10 vouchers for 2026 funded by a département.
pub fn batch(batch_id: String, count: u32) -> pb::event::Body {
    pb::event::Body::VoucherBatchIssued(pb::VoucherBatchIssued {
        batch_id,
        funder: Some(pb::Funder {
            name: "Conseil départemental".into(),
            siret: "53418890200012".into(),
        }),
        face_value_cents: 1000,
        count,
        valid_from: "2026-01-01".into(),
        valid_until: "2026-12-31".into(),
        redeem_deadline: "2027-01-31".into(),
        ..Default::default()
    })
}

/// Schedule event `k` of the hub holding `departement`: every fifth a batch of 20 vouchers,
/// the others a carnet of 5 of the latest batch handed to a new person by a CAF agent.
pub fn body(index: usize, departement: &str, k: usize) -> pb::event::Body {
    let Some(serials) = carnet(departement, k) else {
        return batch(batch_id(departement, k), BATCH_VOUCHERS);
    };
    // The commitment to a person's part (the simulation carries no parts: no rule reads them).
    let personal = Sha256::new()
        .chain_update(b"simulated person\0")
        .chain_update((index as u64).to_be_bytes())
        .chain_update((k as u64).to_be_bytes())
        .finalize()
        .to_vec();
    pb::event::Body::VouchersHandedOut(pb::VouchersHandedOut {
        serials,
        personal,
        prescriber: Some(pb::Prescriber {
            kind: "CAF".into(),
            name: "CAF, accueil".into(),
        }),
        date: "2026-03-02".into(),
        ..Default::default()
    })
}

/// Why a person is at a venue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum VisitKind {
    /// Moved to another hub's territory.
    Move,
    /// At home.
    Local,
    /// One of two presentations of the same voucher at two hubs.
    DoubleSpend,
    /// A voucher of a hub whose key was succeeded, handed out before, presented at another
    /// hub after: it must be honoured through the successor.
    Successor,
    /// At a venue of a département that moves between hubs, around the move.
    InFlight,
}

/// A person presenting a voucher at a venue.
#[derive(Debug, Clone, Serialize)]
pub struct Visit {
    /// Index in the plan.
    pub id: usize,
    /// When (simulated ms).
    pub at_ms: u64,
    /// The hub whose venue it is.
    pub hub: usize,
    /// The hub that handed the carnet out (the voucher's owner).
    pub owner: usize,
    /// The voucher.
    pub serial: String,
    /// The venue.
    pub venue_id: String,
    /// The service.
    pub service: String,
    /// Why.
    pub kind: VisitKind,
    /// For a double spend: the other presentation.
    pub pair: Option<usize>,
    /// For a visit at a venue of a moving département: the département (whichever hub holds
    /// it in its views serves the visit).
    pub departement: Option<String>,
}

/// How a visit ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case", tag = "outcome", content = "detail")]
pub enum VisitOutcome {
    /// The visited hub owned the voucher (from the start or by an online transfer) and
    /// redeemed it.
    Redeemed {
        /// After an online transfer.
        transferred: bool,
    },
    /// The owner was unreachable: the visited hub signed a claim.
    Claimed,
    /// The owner answered the transfer request with a refusal.
    RefusedOnline(String),
    /// The visited hub's own views refused the voucher (already redeemed, or transferred on
    /// to another hub before this one redeemed it).
    RefusedLocally(String),
    /// The hub's own views judged its event with the rules and it refused to sign it (the
    /// rule's reason).
    RefusedByRules(String),
}

impl VisitOutcome {
    /// Whether this presentation was turned down.
    pub fn refused(&self) -> bool {
        matches!(
            self,
            Self::RefusedOnline(_) | Self::RefusedLocally(_) | Self::RefusedByRules(_)
        )
    }
}

/// Schedule events that hand a carnet out: (hub, k, due ms), those `usable` allows.
fn hand_outs(
    scenario: &Scenario,
    eligible: &[usize],
    usable: &dyn Fn(usize, u64) -> bool,
) -> Vec<(usize, usize, u64)> {
    let mut all = Vec::new();
    for &hub in eligible {
        for k in 0..scenario.events_per_hub {
            let due = hub_due_ms(scenario, hub, k);
            if k % 5 != 0 && usable(hub, due) {
                all.push((hub, k, due));
            }
        }
    }
    all
}

/// When schedule event `k` of hub `hub` is due: a joining hub's schedule starts 2 s after
/// the amendment admitting it is proposed, and keeps the others' pace.
pub fn hub_due_ms(scenario: &Scenario, hub: usize, k: usize) -> u64 {
    let admitted_ms = scenario.lifecycle.as_ref().and_then(|l| {
        l.amendments.iter().find_map(|a| match a.change {
            crate::scenario::ChangeSpec::Admit { hub: h } if h == hub => Some(a.at_s * 1000),
            _ => None,
        })
    });
    match admitted_ms {
        Some(at) => at + 2_000 + k as u64 * interval_ms(scenario) / 2,
        None => due_ms(scenario, k),
    }
}

/// Who takes part in the visits, and which carnets people carry.
#[allow(missing_debug_implementations)]
pub struct Cast<'a> {
    /// Hubs that take part in no visit (a misbehaving or removed hub).
    pub excluded: &'a [usize],
    /// Hubs people never visit, though their vouchers are presented elsewhere (a hub
    /// restored from a backup).
    pub not_visited: &'a [usize],
    /// Whether the carnet hub `hub` hands out at `due` ms stays valid for good.
    pub usable: &'a dyn Fn(usize, u64) -> bool,
}

/// The visits of a run. `hubs` are the hubs' keys; `misbehaving` takes part in none.
pub fn plan(scenario: &Scenario, seed: u64, hubs: &[HubId], cast: &Cast<'_>) -> Vec<Visit> {
    let Some(people) = &scenario.people else {
        return Vec::new();
    };
    let owners: Vec<usize> = (0..scenario.all_hubs())
        .filter(|h| !cast.excluded.contains(h))
        .collect();
    let eligible: Vec<usize> = owners
        .iter()
        .copied()
        .filter(|h| !cast.not_visited.contains(h))
        .collect();
    if eligible.len() < 2 {
        return Vec::new();
    }
    let mut rng = SplitMix64::new(seed ^ 0x7065_6f70_6c65_0001);
    let mut free = hand_outs(scenario, &owners, cast.usable);
    let window_ms = (people.until_s - people.from_s) * 1000;
    let venue = |hub: usize, rng: &mut SplitMix64| -> (String, String) {
        let venues = crate::venues::venues_for(&crate::territory(hub), scenario.venues_per_hub);
        let v = &venues[rng.below(venues.len())];
        (
            venue_id(&hubs[hub], &v.record.id),
            v.services.first().cloned().unwrap_or_default(),
        )
    };
    let mut visits: Vec<Visit> = Vec::new();
    lifecycle_visits(scenario, &mut rng, hubs, &eligible, &mut free, &mut visits);
    let kinds = std::iter::repeat_n(VisitKind::Move, people.movers)
        .chain(std::iter::repeat_n(VisitKind::Local, people.locals))
        .chain(std::iter::repeat_n(
            VisitKind::DoubleSpend,
            people.double_spenders,
        ));
    for kind in kinds {
        if free.is_empty() {
            break;
        }
        let at_ms = people.from_s * 1000 + rng.next_u64() % window_ms.max(1);
        // A carnet handed out long enough before; else the earliest one left (the visited
        // hub waits until it hears of it).
        let ready: Vec<usize> = (0..free.len())
            .filter(|i| free[*i].2 + HANDED_OUT_BEFORE_MS <= at_ms)
            .collect();
        let pick = if ready.is_empty() {
            (0..free.len()).min_by_key(|i| free[*i].2).unwrap_or(0)
        } else {
            ready[rng.below(ready.len())]
        };
        let (owner, k, _) = free.remove(pick);
        let Some(serials) = carnet(&crate::territory(owner), k) else {
            continue;
        };
        let eligible: Vec<usize> = if eligible.contains(&owner) {
            eligible.clone()
        } else {
            eligible.iter().copied().chain([owner]).collect()
        };
        let other = |rng: &mut SplitMix64, not: &[usize]| -> usize {
            let choices: Vec<usize> = eligible
                .iter()
                .copied()
                .filter(|h| !not.contains(h))
                .collect();
            choices[rng.below(choices.len())]
        };
        match kind {
            VisitKind::Move | VisitKind::Local
                if kind == VisitKind::Move || !cast.not_visited.contains(&owner) =>
            {
                let (hub, serial) = if kind == VisitKind::Move {
                    (other(&mut rng, &[owner]), serials[0].clone())
                } else {
                    (owner, serials[1].clone())
                };
                let (venue_id, service) = venue(hub, &mut rng);
                visits.push(Visit {
                    id: visits.len(),
                    at_ms,
                    hub,
                    owner,
                    serial,
                    venue_id,
                    service,
                    kind,
                    pair: None,
                    departement: None,
                });
            }
            VisitKind::Move | VisitKind::Local | VisitKind::Successor | VisitKind::InFlight => {}
            VisitKind::DoubleSpend => {
                // The first hub is the owner one time in four, another hub otherwise.
                let first = if rng.below(4) == 0 && !cast.not_visited.contains(&owner) {
                    owner
                } else {
                    other(&mut rng, &[owner])
                };
                let second = other(&mut rng, &[first]);
                let later_ms = at_ms + rng.next_u64() % 2_000;
                let a = visits.len();
                for (hub, at_ms, pair) in [(first, at_ms, a + 1), (second, later_ms, a)] {
                    let (venue_id, service) = venue(hub, &mut rng);
                    visits.push(Visit {
                        id: visits.len(),
                        at_ms,
                        hub,
                        owner,
                        serial: serials[2].clone(),
                        venue_id,
                        service,
                        kind,
                        pair: Some(pair),
                        departement: None,
                    });
                }
            }
        }
    }
    visits
}

/// The visits a lifecycle asks for: vouchers of a succeeded hub presented at other hubs after
/// its succession (the fourth voucher of carnets handed out before it, which no other visit
/// uses), and visits at the venues of a moving département around the move.
fn lifecycle_visits(
    scenario: &Scenario,
    rng: &mut SplitMix64,
    hubs: &[HubId],
    eligible: &[usize],
    free: &mut Vec<(usize, usize, u64)>,
    visits: &mut Vec<Visit>,
) {
    use crate::scenario::ChangeSpec;
    let Some(l) = &scenario.lifecycle else { return };
    for a in &l.amendments {
        if let Some(hub) = a.change.succeeded() {
            let before: Vec<usize> = (0..scenario.events_per_hub)
                .filter(|k| {
                    k % 5 != 0 && due_ms(scenario, *k) + HANDED_OUT_BEFORE_MS <= a.at_s * 1000
                })
                .filter(|k| free.iter().any(|(h, j, _)| *h == hub && j == k))
                .collect();
            for i in 0..l.successor_visits.min(before.len()) {
                let k = before[before.len() - 1 - i];
                let Some(serials) = carnet(&crate::territory(hub), k) else {
                    continue;
                };
                let others: Vec<usize> = eligible.iter().copied().filter(|h| *h != hub).collect();
                let at = others[rng.below(others.len())];
                let venues =
                    crate::venues::venues_for(&crate::territory(at), scenario.venues_per_hub);
                let v = &venues[rng.below(venues.len())];
                visits.push(Visit {
                    id: visits.len(),
                    at_ms: (a.at_s + 5) * 1000 + rng.next_u64() % 4_000,
                    hub: at,
                    owner: hub,
                    serial: serials[3].clone(),
                    venue_id: venue_id(&hubs[at], &v.record.id),
                    service: v.services.first().cloned().unwrap_or_default(),
                    kind: VisitKind::Successor,
                    pair: None,
                    departement: None,
                });
            }
        }
        if let ChangeSpec::Move { from, to } = a.change {
            let departement = crate::territories_of(scenario, from)
                .last()
                .cloned()
                .unwrap_or_default();
            let venues = crate::venues::venues_for(&departement, scenario.venues_per_hub);
            for _ in 0..l.in_flight_visits {
                let ready: Vec<usize> = (0..free.len())
                    .filter(|i| free[*i].2 + HANDED_OUT_BEFORE_MS + 4_000 <= a.at_s * 1000)
                    .collect();
                if ready.is_empty() {
                    break;
                }
                let (owner, k, _) = free.remove(ready[rng.below(ready.len())]);
                let Some(serials) = carnet(&crate::territory(owner), k) else {
                    continue;
                };
                let v = &venues[rng.below(venues.len())];
                let at_ms = (a.at_s * 1000 + rng.next_u64() % 8_000).saturating_sub(4_000);
                visits.push(Visit {
                    id: visits.len(),
                    at_ms,
                    hub: if at_ms < a.at_s * 1000 { from } else { to },
                    owner,
                    serial: serials[0].clone(),
                    venue_id: venue_id(&hubs[from], &v.record.id),
                    service: v.services.first().cloned().unwrap_or_default(),
                    kind: VisitKind::InFlight,
                    pair: None,
                    departement: Some(departement.clone()),
                });
            }
        }
    }
}
