//! A deterministic workload drawn from the domain, for benchmarks (and simulations): fifteen
//! territorial hubs with real départements, qualified venues, voucher batches per funder,
//! carnets handed out, redemptions, transfers across territories, claims and their answers,
//! referrals from one territory to another, accompaniments and settlements.
//!
//! Same seed, same events (seeded SplitMix64, fixed clock): two runs sign the same bytes.

use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;

use anyhow::Result;
use maillage_core::hlc::MAX_AHEAD_MS_DEFAULT;
use maillage_core::venues::venue_id;
use maillage_core::{
    Charter, EventRef, FeedWriter, MemberSpec, PersonId, Role, SecretKey, VerifiedEvent, pb,
};

/// The federation's hubs: name and départements (the hubs' real regional footprints).
const HUBS: [(&str, &[&str]); 15] = [
    ("Hub du Sud", &["04", "05", "06", "13", "83", "84"]),
    (
        "Hinaura",
        &[
            "01", "03", "07", "15", "26", "38", "42", "43", "63", "69", "73", "74",
        ],
    ),
    (
        "Hub Nouvelle-Aquitaine",
        &[
            "16", "17", "19", "23", "24", "33", "40", "47", "64", "79", "86", "87",
        ],
    ),
    (
        "MedNum BFC",
        &["21", "25", "39", "58", "70", "71", "89", "90"],
    ),
    (
        "Francil'IN",
        &["75", "77", "78", "91", "92", "93", "94", "95"],
    ),
    (
        "RhinOcc",
        &[
            "09", "11", "12", "30", "31", "32", "34", "46", "48", "65", "66", "81", "82",
        ],
    ),
    (
        "Hub Grand Est",
        &["08", "10", "51", "52", "54", "55", "57", "67", "68", "88"],
    ),
    ("Hub Hauts-de-France", &["02", "59", "60", "62", "80"]),
    ("Hub Normandie", &["14", "27", "50", "61", "76"]),
    ("Hub Bretagne", &["22", "29", "35", "56"]),
    ("Hub Pays de la Loire", &["44", "49", "53", "72", "85"]),
    (
        "Hub Centre-Val de Loire",
        &["18", "28", "36", "37", "41", "45"],
    ),
    ("Hub Corse", &["2A", "2B"]),
    ("Hub Antilles-Guyane", &["971", "972", "973"]),
    ("Hub Océan Indien", &["974", "976"]),
];

/// Hubs of the default workload: the fifteen regional hubs of [`HUBS`].
pub const HUBS_DEFAULT: usize = HUBS.len();

/// Hubs a workload can have at most: one per département.
pub fn hubs_max() -> usize {
    HUBS.iter().map(|(_, t)| t.len()).sum()
}

/// A workload hub: its name and départements.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hub {
    /// Its name in the charter.
    pub name: String,
    /// Its départements (the first names its batches and referrals).
    pub territories: Vec<String>,
}

/// The hubs of a workload of `count` hubs: the fifteen regional hubs for
/// [`HUBS_DEFAULT`]; otherwise the départements dealt in turn to `count` territorial hubs (a
/// national federation of about a hundred departmental structures).
pub fn hubs(count: usize) -> Result<Vec<Hub>> {
    let max = hubs_max();
    if !(2..=max).contains(&count) {
        anyhow::bail!(maillage_core::tr!(
            "une charge compte de 2 à {max} hubs (un par département au plus), pas {count}",
            "a workload has 2 to {max} hubs (one per département at most), not {count}",
        ));
    }
    if count == HUBS_DEFAULT {
        return Ok(HUBS
            .iter()
            .map(|(name, territories)| Hub {
                name: (*name).into(),
                territories: territories.iter().map(|t| t.to_string()).collect(),
            })
            .collect());
    }
    let all: Vec<&str> = HUBS.iter().flat_map(|(_, t)| t.iter().copied()).collect();
    Ok((0..count)
        .map(|i| {
            let territories: Vec<String> = all
                .iter()
                .skip(i)
                .step_by(count)
                .map(|t| t.to_string())
                .collect();
            Hub {
                name: format!("Hub territorial {} ({})", i + 1, territories.join(", ")),
                territories,
            }
        })
        .collect())
}

/// The service every workload voucher and venue uses.
pub const SERVICE: &str = "Aide aux démarches administratives";
const FUNDERS: [(&str, &str); 3] = [
    ("Conseil départemental", "22130001700013"),
    ("CAF", "53448910800036"),
    ("Région", "23130002300019"),
];

/// The workload's generator: seeded, so a seed gives the same history.
pub use maillage_core::seeded::SplitMix64 as Rng;

struct HubState {
    writer: FeedWriter,
    venues: Vec<String>,
    qualified_at: Vec<EventRef>,
    available: VecDeque<String>,
    handed: Vec<(String, PersonId)>,
    batches: usize,
}

/// The workload: charter, keys and every event per feed.
#[derive(Debug)]
pub struct Workload {
    /// The federation.
    pub charter: Arc<Charter>,
    /// Hub keys, in the charter's order (seeds, to rebuild the secret keys).
    pub seeds: Vec<[u8; 32]>,
    /// Events in authoring order (a causal order).
    pub events: Vec<VerifiedEvent>,
    /// People met.
    pub people: Vec<PersonId>,
}

impl std::fmt::Debug for HubState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "HubState({} venues)", self.venues.len())
    }
}

/// The seed of the workload federation's observer (a national read replica; it authors
/// nothing).
pub fn observer_seed(seed: u64) -> [u8; 32] {
    let mut s = [0u8; 32];
    s[..8].copy_from_slice(&seed.to_be_bytes());
    s[8] = 0xFF;
    s
}

/// Generates about `target` events over `hubs` hubs ([`hubs`]).
pub fn generate(
    seed: u64,
    hubs: usize,
    target: usize,
    progress: &mut dyn FnMut(usize),
) -> Result<Workload> {
    let (charter, seeds) = federation(seed, hubs)?;
    let mut events: Vec<VerifiedEvent> = Vec::with_capacity(target + 64);
    let people = generate_into(&charter, &seeds, seed, target, 0, progress, &mut |chunk| {
        events.extend(chunk);
        Ok(())
    })?;
    Ok(Workload {
        charter,
        seeds,
        events,
        people,
    })
}

/// When a history spread over days ends (2026-09-21); one signed in one go starts there.
const HISTORY_END_MS: u64 = 1_790_000_000_000;

/// Events handed to a sink at a time by [`generate_into`].
pub const CHUNK_EVENTS: usize = 4096;

/// The workload federation of `seed` over `hubs` hubs ([`hubs`]): its charter and the hubs'
/// key seeds (in the same order).
pub fn federation(seed: u64, hubs: usize) -> Result<(Arc<Charter>, Vec<[u8; 32]>)> {
    let spec = self::hubs(hubs)?;
    let seeds: Vec<[u8; 32]> = (0..spec.len())
        .map(|i| {
            let mut s = [0u8; 32];
            s[..8].copy_from_slice(&seed.to_be_bytes());
            s[8] = i as u8 + 1;
            s
        })
        .collect();
    let mut members: Vec<MemberSpec> = spec
        .into_iter()
        .zip(&seeds)
        .map(|(hub, s)| MemberSpec {
            key: SecretKey::from_seed(s).hub_id(),
            name: hub.name,
            role: Role::Hub,
            territories: hub.territories,
        })
        .collect();
    members.push(MemberSpec {
        key: SecretKey::from_seed(&observer_seed(seed)).hub_id(),
        name: "Observatoire national (ANCT)".into(),
        role: Role::Observer,
        territories: Vec::new(),
    });
    let charter = Arc::new(Charter::found(
        "Fédération des hubs (workload)",
        8,
        members,
    )?);
    Ok((charter, seeds))
}

/// [`generate`] without holding the history, for the federation [`federation`] gave for
/// `seed`: events go to `sink` in authoring order (a causal order), [`CHUNK_EVENTS`] at a
/// time; what the generator keeps grows with the people met, not with the events. Returns the
/// people met. `days`: the days the history's clock spans (0: 7 ms between events).
pub fn generate_into(
    charter: &Charter,
    seeds: &[[u8; 32]],
    seed: u64,
    target: usize,
    days: u32,
    progress: &mut dyn FnMut(usize),
    sink: &mut dyn FnMut(Vec<VerifiedEvent>) -> Result<()>,
) -> Result<Vec<PersonId>> {
    let mut rng = Rng::new(seed);
    let mut hubs: Vec<HubState> = seeds
        .iter()
        .map(|s| HubState {
            writer: FeedWriter::new(
                SecretKey::from_seed(s),
                charter.federation_id(),
                None,
                0,
                MAX_AHEAD_MS_DEFAULT,
            ),
            venues: Vec::new(),
            qualified_at: Vec::new(),
            available: VecDeque::new(),
            handed: Vec::new(),
            batches: 0,
        })
        .collect();
    // The events not handed to the sink yet, and how many were.
    let mut events: Vec<VerifiedEvent> = Vec::with_capacity(CHUNK_EVENTS + 64);
    let mut flushed = 0usize;
    let mut reported = 0usize;
    let mut people: Vec<PersonId> = Vec::new();
    let mut referrals: Vec<(usize, String, EventRef)> = Vec::new(); // handler, id, last event
    // Spread over `days`, the history ends where one signed in one go starts.
    let span_ms = u64::from(days) * 86_400_000;
    let step_ms = (span_ms / target.max(1) as u64).max(7);
    let mut wall_ms = HISTORY_END_MS - span_ms.min(HISTORY_END_MS);
    let mut sign = |hubs: &mut Vec<HubState>,
                    h: usize,
                    body: pb::event::Body,
                    deps: Vec<EventRef>,
                    events: &mut Vec<VerifiedEvent>|
     -> Result<EventRef> {
        wall_ms += step_ms;
        let event = hubs[h].writer.next(body, deps, wall_ms)?;
        let r = event.as_ref();
        events.push(event);
        Ok(r)
    };

    // Venues, qualified.
    let spec = self::hubs(seeds.len())?;
    for (h, hub) in spec.iter().enumerate() {
        for n in 0..20 {
            let dep = hub.territories[n % hub.territories.len()].as_str();
            let postal = if dep.len() == 3 {
                format!("{dep}10")
            } else if dep.starts_with('2') && dep.len() == 2 && !dep.as_bytes()[1].is_ascii_digit()
            {
                "20000".into()
            } else {
                format!("{dep}100")
            };
            let insee = if dep == "2A" {
                "2A004".to_string()
            } else if dep == "2B" {
                "2B033".to_string()
            } else if dep.len() == 3 {
                format!("{dep}01")
            } else {
                format!("{dep}001")
            };
            let record = pb::VenueRecord {
                id: format!("lieu-{n}"),
                pivot: "21130055300016".into(),
                nom: format!("Espace numérique {n}"),
                commune: "Commune".into(),
                code_postal: postal,
                code_insee: insee,
                adresse: format!("{n} rue de la République"),
                date_maj: "2026-01-15".into(),
                services: vec![SERVICE.into()],
                ..Default::default()
            };
            let id = venue_id(&hubs[h].writer.author(), &record.id);
            sign(
                &mut hubs,
                h,
                pb::event::Body::VenueRegistered(pb::VenueRegistered {
                    venue_id: id.clone(),
                    record: Some(record),
                }),
                vec![],
                &mut events,
            )?;
            let q = sign(
                &mut hubs,
                h,
                pb::event::Body::VenueQualified(pb::VenueQualified {
                    venue_id: id.clone(),
                    scheme: "pass-numerique".into(),
                    valid_until: "2027-12-31".into(),
                    services: vec![SERVICE.into()],
                }),
                vec![],
                &mut events,
            )?;
            hubs[h].venues.push(id);
            hubs[h].qualified_at.push(q);
        }
    }

    while flushed + events.len() < target {
        if events.len() >= CHUNK_EVENTS {
            flushed += events.len();
            sink(std::mem::take(&mut events))?;
        }
        let h = rng.below(spec.len());
        let roll = rng.below(100);
        if hubs[h].available.len() < 10 {
            let (funder, siret) = FUNDERS[hubs[h].batches % FUNDERS.len()];
            let batch_id = format!("{}-2026-{}", spec[h].territories[0], hubs[h].batches);
            hubs[h].batches += 1;
            sign(
                &mut hubs,
                h,
                pb::event::Body::VoucherBatchIssued(pb::VoucherBatchIssued {
                    batch_id: batch_id.clone(),
                    funder: Some(pb::Funder {
                        name: funder.into(),
                        siret: siret.into(),
                    }),
                    face_value_cents: 1000,
                    count: 1000,
                    valid_from: "2026-01-01".into(),
                    valid_until: "2026-12-31".into(),
                    redeem_deadline: "2027-01-31".into(),
                    eligible_services: vec![],
                    territories: vec![],
                }),
                vec![],
                &mut events,
            )?;
            hubs[h]
                .available
                .extend((1..=1000).map(|n| format!("{batch_id}-{n}")));
            continue;
        }
        match roll {
            0..=24 => {
                let mut bytes = [0u8; 16];
                bytes[..8].copy_from_slice(&rng.next_u64().to_be_bytes());
                bytes[8..].copy_from_slice(&rng.next_u64().to_be_bytes());
                let person = PersonId(bytes);
                people.push(person);
                let serials: Vec<String> = (0..5)
                    .filter_map(|_| hubs[h].available.pop_front())
                    .collect();
                let (personal, part) = sealed(&mut rng, person, "")?;
                sign(
                    &mut hubs,
                    h,
                    pb::event::Body::VouchersHandedOut(pb::VouchersHandedOut {
                        serials: serials.clone(),
                        personal,
                        prescriber: Some(pb::Prescriber {
                            kind: "CAF".into(),
                            name: "CAF, accueil".into(),
                        }),
                        referral_id: String::new(),
                        date: "2026-03-02".into(),
                    }),
                    vec![],
                    &mut events,
                )?;
                attach_last(&mut events, part);
                hubs[h]
                    .handed
                    .extend(serials.into_iter().map(|s| (s, person)));
            }
            25..=59 if !hubs[h].handed.is_empty() => {
                let i = rng.below(hubs[h].handed.len());
                let (serial, _) = hubs[h].handed.swap_remove(i);
                let v = rng.below(hubs[h].venues.len());
                let venue = hubs[h].venues[v].clone();
                sign(
                    &mut hubs,
                    h,
                    redeem_body(&serial, &venue, None),
                    vec![],
                    &mut events,
                )?;
            }
            60..=64 if !hubs[h].handed.is_empty() => {
                // The person moved: the voucher is transferred and redeemed in another territory.
                let i = rng.below(hubs[h].handed.len());
                let (serial, _) = hubs[h].handed.swap_remove(i);
                let to = (h + 1 + rng.below(spec.len() - 1)) % spec.len();
                let to_id = hubs[to].writer.author();
                let t = sign(
                    &mut hubs,
                    h,
                    pb::event::Body::VoucherTransferred(pb::VoucherTransferred {
                        serials: vec![serial.clone()],
                        to_hub: to_id.0.to_vec(),
                        reason: "person moved".into(),
                    }),
                    vec![],
                    &mut events,
                )?;
                let venue = hubs[to].venues[rng.below(hubs[to].venues.len())].clone();
                sign(
                    &mut hubs,
                    to,
                    redeem_body(&serial, &venue, None),
                    vec![t],
                    &mut events,
                )?;
            }
            65..=67 if !hubs[h].handed.is_empty() => {
                // The owner was unreachable: another hub's venue claims; the owner accepts later.
                let i = rng.below(hubs[h].handed.len());
                let (serial, _) = hubs[h].handed.swap_remove(i);
                let other = (h + 1 + rng.below(spec.len() - 1)) % spec.len();
                let venue = hubs[other].venues[rng.below(hubs[other].venues.len())].clone();
                // The owner's last event (its hand-out or later), as the claimant saw it.
                let owner = hubs[h].writer.author();
                let hand_out_seen = hubs[h].writer.head().map(|head| EventRef {
                    author: owner,
                    seq: head.seq,
                    id: head.id,
                });
                let c = sign(
                    &mut hubs,
                    other,
                    pb::event::Body::VoucherClaimed(pb::VoucherClaimed {
                        serial: serial.clone(),
                        venue_id: venue.clone(),
                        service: SERVICE.into(),
                        date: "2026-05-05".into(),
                    }),
                    hand_out_seen.into_iter().collect(),
                    &mut events,
                )?;
                let mut deps = vec![c];
                let v = hubs[other]
                    .venues
                    .iter()
                    .position(|x| *x == venue)
                    .unwrap_or(0);
                deps.push(hubs[other].qualified_at[v]);
                deps.dedup_by_key(|r| r.author);
                sign(
                    &mut hubs,
                    h,
                    redeem_body(&serial, &venue, Some(c)),
                    deps,
                    &mut events,
                )?;
            }
            68..=79 => {
                let person = people
                    .get(rng.below(people.len().max(1)))
                    .copied()
                    .unwrap_or(PersonId([7; 16]));
                let target = rng.below(spec.len());
                let v = rng.below(hubs[target].venues.len());
                let venue = hubs[target].venues[v].clone();
                let id = format!("{}-R{}", spec[h].territories[0], flushed + events.len());
                let deps = if target == h {
                    vec![]
                } else {
                    vec![hubs[target].qualified_at[v]]
                };
                let (personal, part) = sealed(&mut rng, person, "ABC Diag : débutant")?;
                let r = sign(
                    &mut hubs,
                    h,
                    pb::event::Body::ReferralOpened(pb::ReferralOpened {
                        referral_id: id.clone(),
                        personal,
                        prescriber: Some(pb::Prescriber {
                            kind: "FT".into(),
                            name: "France Travail".into(),
                        }),
                        needs: vec![SERVICE.into()],
                        target_venue_id: venue,
                        channel: "telephone".into(),
                        opened_on: "2026-03-01".into(),
                        ..Default::default()
                    }),
                    deps,
                    &mut events,
                )?;
                attach_last(&mut events, part);
                referrals.push((target, id, r));
            }
            80..=87 if !referrals.is_empty() => {
                let (handler, id, last) = referrals.swap_remove(rng.below(referrals.len()));
                let venue = hubs[handler].venues[0].clone();
                let deps = if last.author == hubs[handler].writer.author() {
                    vec![]
                } else {
                    vec![last]
                };
                let a = sign(
                    &mut hubs,
                    handler,
                    pb::event::Body::ReferralAccepted(pb::ReferralAccepted {
                        referral_id: id.clone(),
                        venue_id: venue,
                        appointment_on: String::new(),
                        date: "2026-03-09".into(),
                    }),
                    deps,
                    &mut events,
                )?;
                let _ = a;
                sign(
                    &mut hubs,
                    handler,
                    pb::event::Body::ReferralClosed(pb::ReferralClosed {
                        referral_id: id,
                        outcome: "completed".into(),
                        autonomy: "partially".into(),
                    }),
                    vec![],
                    &mut events,
                )?;
            }
            _ => {
                let person = people
                    .get(rng.below(people.len().max(1)))
                    .copied()
                    .unwrap_or(PersonId([7; 16]));
                let venue = hubs[h].venues[rng.below(hubs[h].venues.len())].clone();
                let (personal, part) = sealed(&mut rng, person, "")?;
                sign(
                    &mut hubs,
                    h,
                    pb::event::Body::AccompanimentRecorded(pb::AccompanimentRecorded {
                        personal,
                        venue_id: venue,
                        referral_id: String::new(),
                        services: vec![SERVICE.into()],
                        date: "2026-04-14".into(),
                        duration_min: 120,
                        mode: "collective".into(),
                        vouchers: vec![],
                    }),
                    vec![],
                    &mut events,
                )?;
                attach_last(&mut events, part);
            }
        }
        // Once per 50,000 events (a step may add several, or one at a time).
        let made = flushed + events.len();
        if made / 50_000 > reported {
            reported = made / 50_000;
            progress(made);
        }
    }
    if !events.is_empty() {
        sink(events)?;
    }
    Ok(people)
}

/// A personal part for `person` with a salt from the workload's generator (same seed, same
/// bytes): the commitment to sign and the part.
fn sealed(rng: &mut Rng, person: PersonId, diagnostic: &str) -> Result<(Vec<u8>, Vec<u8>)> {
    let mut salt = [0u8; 16];
    salt[..8].copy_from_slice(&rng.next_u64().to_be_bytes());
    salt[8..].copy_from_slice(&rng.next_u64().to_be_bytes());
    let (commitment, part) = maillage_core::personal::seal(person, diagnostic, salt)
        .map_err(|why| anyhow::anyhow!(why))?;
    Ok((commitment.to_vec(), part))
}

/// Attaches its personal part to the event just signed.
fn attach_last(events: &mut [VerifiedEvent], part: Vec<u8>) {
    if let Some(event) = events.last_mut() {
        event.attach_personal(part);
    }
}

fn redeem_body(serial: &str, venue: &str, claim: Option<EventRef>) -> pb::event::Body {
    pb::event::Body::VoucherRedeemed(pb::VoucherRedeemed {
        serial: serial.into(),
        venue_id: venue.into(),
        service: SERVICE.into(),
        date: "2026-05-05".into(),
        claim: claim.map(Into::into),
    })
}

/// Events per feed, each in order.
pub fn by_feed(events: &[VerifiedEvent]) -> BTreeMap<maillage_core::HubId, Vec<&VerifiedEvent>> {
    let mut feeds: BTreeMap<_, Vec<&VerifiedEvent>> = BTreeMap::new();
    for event in events {
        feeds.entry(event.author).or_default().push(event);
    }
    feeds
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn every_count_of_hubs_deals_each_departement_to_exactly_one_hub() {
        let all: std::collections::BTreeSet<String> = HUBS
            .iter()
            .flat_map(|(_, t)| t.iter().map(|t| t.to_string()))
            .collect();
        assert_eq!(all.len(), hubs_max());
        for count in [2, 15, 16, 100, 101] {
            let spec = hubs(count).unwrap();
            assert_eq!(spec.len(), count);
            let mut dealt: Vec<String> = spec.iter().flat_map(|h| h.territories.clone()).collect();
            dealt.sort();
            assert_eq!(
                dealt,
                all.iter().cloned().collect::<Vec<_>>(),
                "{count} hubs"
            );
            let names: std::collections::BTreeSet<&str> =
                spec.iter().map(|h| h.name.as_str()).collect();
            assert_eq!(names.len(), count);
        }
        assert_eq!(hubs(15).unwrap()[4].name, "Francil'IN");
        for count in [0, 1, 102] {
            let error = hubs(count).unwrap_err().to_string();
            assert!(error.contains("de 2 à 101 hubs"), "{error}");
        }
    }

    #[test]
    fn a_hundred_hub_workload_is_authored_by_every_hub_and_every_event_is_accepted() {
        let folded = |count: usize| {
            let workload = generate(3, count, 30_000, &mut |_| {}).unwrap();
            let authors: std::collections::BTreeSet<_> =
                workload.events.iter().map(|e| e.author).collect();
            assert_eq!(authors.len(), count);
            let mut ledger = maillage_core::Ledger::new(workload.charter.clone());
            for event in workload.events.iter().cloned() {
                ledger.offer(event);
            }
            // Every event's causal past is in the history: all applied.
            assert_eq!(ledger.applied_count(), workload.events.len() as u64);
            (workload.events.len(), ledger.rejections().len())
        };
        for count in [100, HUBS_DEFAULT] {
            let (events, rejected) = folded(count);
            assert!(events >= 30_000, "{events}");
            // Every step is one the rules accept, whatever the number of hubs.
            assert_eq!(rejected, 0, "{count} hubs");
        }
    }
}
