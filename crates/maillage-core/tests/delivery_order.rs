//! Any delivery order gives the same digest: random multi-hub histories (transfers, claims,
//! referrals, forgotten people, plenty of invalid attempts) are delivered to fresh ledgers in
//! many random orders consistent with each feed's order, with duplicates; every ledger ends on
//! the same digest, and no voucher is ever redeemed twice by valid events.
//!
//! Size: one history generator (domain events, then membership changes among them) and the
//! properties over it; the generator's state is one struct its steps share.
#![allow(clippy::unwrap_used)]

mod world;

use std::collections::BTreeMap;

use maillage_core::conformance::{self, Case, History};
use maillage_core::ledger::{AmendmentView, Evaluation, ReferralStatus};
use maillage_core::{Ledger, SecretKey, VerifiedEvent, pb};
use proptest::prelude::*;
use prost::Message;
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use world::*;

struct Sim {
    world: World,
    rng: StdRng,
    /// Per hub of the world (an admitted key or a successor key included), its venues.
    venues: Vec<Vec<String>>,
    serials: Vec<String>,
    claims: Vec<(VerifiedEvent, String, String)>,
    referrals: Vec<String>,
    /// Membership changes among the events, if the history has them.
    changes: Option<Changes>,
    /// Days an author's clock may move on before each event (0: it barely moves), so that
    /// personal parts pass retention.
    days: u64,
    /// Whether people ask to be forgotten.
    forgets: bool,
    /// People met: `person(1)` to `person(people)`.
    people: u8,
}

/// What a history with membership changes keeps to draw them.
struct Changes {
    /// Every event folded in the order it was signed (a causal order): the amendments in
    /// effect, the keys that may sign.
    truth: Ledger,
    /// Events of `world.authored` folded into `truth`.
    folded: usize,
    /// Proposals signed, with their number and the index of their proposer.
    proposals: Vec<(VerifiedEvent, u32, usize)>,
    /// Keys drawn so far (admitted hubs and successor keys).
    drawn: u8,
    /// Whether a rival proposal may stop a key.
    rivals_stop: bool,
    /// Whether rivals propose at any threshold, splitting the votes of a round for good now
    /// and then (cast again in the next round); else only where two proposals can both win.
    splits: bool,
    /// Whether a hub whose key an amendment in force stopped still votes (as a dishonest or
    /// stale node would; an honest node's views refuse its own events past the stop).
    stopped_vote: bool,
}

impl Sim {
    fn new(seed: u64, hubs: usize) -> Self {
        Self::on(World::new(hubs), seed)
    }

    /// A history of `world`'s hubs, each starting with two qualified venues.
    fn on(mut world: World, seed: u64) -> Self {
        let hubs = world.hubs.len();
        let mut venues = Vec::new();
        for h in 0..hubs {
            venues.push(
                (0..2)
                    .map(|n| world.qualified_venue(h, h * 10 + n))
                    .collect(),
            );
        }
        for a in 0..hubs {
            for b in 0..hubs {
                world.sync(a, b);
            }
        }
        Self {
            world,
            rng: StdRng::seed_from_u64(seed),
            venues,
            serials: Vec::new(),
            claims: Vec::new(),
            referrals: Vec::new(),
            changes: None,
            days: 0,
            forgets: true,
            people: 40,
        }
    }

    /// A history where hubs also admit hubs, rotate their keys, remove and move members and
    /// change the threshold (2 at first), endorsing each other's proposals.
    fn with_membership_changes(seed: u64, hubs: usize) -> Self {
        let mut sim = Self::on(World::with_threshold(hubs, 2), seed);
        sim.changes = Some(Changes {
            truth: Ledger::new(sim.world.charter.clone()),
            folded: 0,
            proposals: Vec::new(),
            drawn: 0,
            rivals_stop: false,
            splits: false,
            stopped_vote: true,
        });
        sim
    }

    /// Amendments in effect in everything signed so far (0 without membership changes).
    fn amendments_in_effect(&mut self) -> u32 {
        self.signers();
        self.changes
            .as_ref()
            .map_or(0, |c| c.truth.membership().number)
    }

    /// The hubs that may sign: every hub without membership changes; with them, the keys
    /// an amendment in effect admitted too (a removed or succeeded key still signs: its
    /// later events never count).
    fn signers(&mut self) -> Vec<usize> {
        let Some(changes) = self.changes.as_mut() else {
            return (0..self.world.hubs.len()).collect();
        };
        while changes.folded < self.world.authored.len() {
            changes
                .truth
                .offer(self.world.authored[changes.folded].clone());
            changes.folded += 1;
            if changes.truth.needs_refold() {
                // As a node does: folded again with the stops set first.
                let mut again = Ledger::new(self.world.charter.clone());
                for (key, cut) in changes.truth.cuts() {
                    again.cut(*key, *cut);
                }
                for event in &self.world.authored[..changes.folded] {
                    again.offer(event.clone());
                }
                changes.truth = again;
            }
        }
        let membership = changes.truth.membership();
        (0..self.world.hubs.len())
            .filter(|h| membership.seat(&self.world.hubs[*h].id).is_some())
            .collect()
    }

    /// One membership change signed by a present hub: a proposal (numbered after the
    /// amendments in effect in everything signed so far, which its author usually knows) or
    /// an endorsement of another hub's proposal.
    fn change(&mut self, signers: &[usize]) {
        let Some(changes) = self.changes.as_mut() else {
            return;
        };
        let membership = changes.truth.membership();
        let cuts = changes.truth.cuts();
        let present: Vec<usize> = signers
            .iter()
            .copied()
            .filter(|h| membership.current_key(&self.world.hubs[*h].id) == self.world.hubs[*h].id)
            .filter(|h| membership.is_current_hub(&self.world.hubs[*h].id))
            .filter(|h| changes.stopped_vote || !cuts.contains_key(&self.world.hubs[*h].id))
            .collect();
        let Some(h) = pick(&mut self.rng, &present) else {
            return;
        };
        if self.rng.random_bool(0.8) {
            for other in 0..self.world.hubs.len() {
                self.world.sync(other, h);
            }
        }
        // While a valid proposal for the next number is open, hubs endorse it or wait: a hub
        // votes once per number, so proposals of their own would split the votes (for good,
        // once every hub voted without a proposal reaching the threshold).
        let truth = &changes.truth;
        let open: Vec<(VerifiedEvent, u32, usize)> = (changes.proposals.iter())
            .filter(|(p, number, _)| {
                *number == membership.number + 1 && truth.applied_id(&p.author, p.seq) == Some(p.id)
            })
            .filter(|(p, _, _)| !truth.rejections().contains_key(&p.id))
            .cloned()
            .collect();
        // A hub may endorse its own removal or succession: past the seq it keeps, the vote is
        // refused (`amendment.past_stop`).
        let others: Vec<_> = (open.iter())
            .filter(|(_, _, by)| *by != h)
            .cloned()
            .collect();
        let kind = match (others.is_empty(), open.is_empty()) {
            (false, _) => 0,
            (true, false) => return,
            _ => self.rng.random_range(0..6u32),
        };
        if kind >= 2 {
            // Now and then a rival hub, as up to date, proposes another change for the same
            // number at the same time. Where each of two proposals can gather the threshold
            // alone (half the hubs or fewer), both may come into effect in different pasts, the
            // one with the smaller id holding the number; never a third: at threshold t of 2t
            // hubs or more, one of two always reaches it. With `splits`, rivals come at any
            // threshold too, and the votes of a round may split for good: they are cast again
            // in the next. The rival stops no key unless `rivals_stop`: stops that cut the
            // votes of the amendments bringing other stops can be settled two ways by the
            // fold with the stops first (see `circular_stops_are_not_settled_alike_yet`).
            let rivals: Vec<usize> = present.iter().copied().filter(|o| *o != h).collect();
            let splits = self.changes.as_ref().is_some_and(|c| c.splits);
            let rival = ((splits || 2 * membership.threshold as usize <= membership.hubs())
                && self.rng.random_bool(0.3))
            .then(|| pick(&mut self.rng, &rivals))
            .flatten();
            if let Some(rival) = rival {
                for other in 0..self.world.hubs.len() {
                    self.world.sync(other, rival);
                }
            }
            self.propose(h, kind, &membership, &present, true);
            if let Some(rival) = rival {
                let kind = self.rng.random_range(2..6u32);
                let stops = self.changes.as_ref().is_some_and(|c| c.rivals_stop);
                self.propose(rival, kind, &membership, &present, stops);
            }
            return;
        }
        // An open proposal of another hub (most of the time), any proposal else. Where votes
        // may split for good, hubs often vote for one open proposal (their own too), as a
        // federation agrees to after a split, so that a later round ends it: the smallest id
        // among those that stop no key (a removal or a succession keeps its key's votes only
        // up to the seq it names, which later rounds may never reach), else the smallest id.
        let agreed = (open.iter())
            .min_by_key(|(p, _, _)| (stops_a_key(p), p.id))
            .cloned()
            .filter(|_| changes.splits && self.rng.random_bool(0.5));
        let choice = if agreed.is_some() {
            agreed
        } else if self.rng.random_bool(0.9) {
            pick(&mut self.rng, &others)
        } else {
            pick(&mut self.rng, &changes.proposals)
        };
        let Some((proposal, _, proposer)) = choice else {
            return;
        };
        self.world.sync(proposer, h);
        self.world.author(
            h,
            pb::event::Body::AmendmentEndorsed(pb::AmendmentEndorsed {
                proposal: Some(proposal.as_ref().into()),
            }),
        );
    }

    /// A proposal of `h` for the number after `membership`'s, of kind `kind` (2: a new hub or
    /// key, 3: a removal or a move, else a threshold); `stops`: a key rotation or a removal
    /// may be drawn.
    fn propose(
        &mut self,
        h: usize,
        kind: u32,
        membership: &maillage_core::membership::Membership,
        present: &[usize],
        stops: bool,
    ) {
        use pb::amendment_proposed::Change as C;
        let Some(changes) = self.changes.as_mut() else {
            return;
        };
        let me = self.world.hubs[h].id;
        let own_seq = self.world.hubs[h].known.get(&me).map_or(0, |k| k.0);
        let change = match kind {
            2 if changes.drawn < 6 => {
                changes.drawn += 1;
                let key = SecretKey::from_seed(&[200 + changes.drawn; 32]);
                let hub = &self.world.hubs[h];
                let (name, territories) = if !stops || self.rng.random_bool(0.5) {
                    // A new hub, with départements no hub holds.
                    let index = self.world.hubs.len();
                    (name_of(index), territories_of(index))
                } else {
                    // The proposer's next key: a rotation, its proposal the old key's last
                    // event.
                    (hub.name.clone(), hub.territories.clone())
                };
                let rotation = name == hub.name;
                let change = if rotation {
                    C::Succession(pb::MemberSucceeded {
                        member: me.0.to_vec(),
                        last_seq: own_seq + 1,
                        successor: key.hub_id().0.to_vec(),
                        branch: Vec::new(),
                    })
                } else {
                    C::Admit(pb::MemberAdmitted {
                        key: key.hub_id().0.to_vec(),
                        name: name.clone(),
                        role: pb::Role::Hub as i32,
                        territories: territories.clone(),
                    })
                };
                let venues = if rotation {
                    self.venues[h].clone()
                } else {
                    Vec::new()
                };
                self.world.add_signer(key, &name, territories);
                self.venues.push(venues);
                change
            }
            3 => {
                let others: Vec<usize> = present.iter().copied().filter(|o| *o != h).collect();
                let Some(other) = pick(&mut self.rng, &others) else {
                    return;
                };
                let key = self.world.hubs[other].id;
                if stops && self.rng.random_bool(0.3) && present.len() > 2 {
                    let last_seq = self.world.hubs[h].known.get(&key).map_or(0, |k| k.0);
                    C::Remove(pb::MemberRemoved {
                        member: key.0.to_vec(),
                        last_seq,
                    })
                } else {
                    let held: Vec<String> = membership
                        .territories(&me)
                        .map(|t| t.iter().cloned().collect())
                        .unwrap_or_default();
                    let Some(territory) = pick(&mut self.rng, &held) else {
                        return;
                    };
                    C::MoveTerritories(pb::TerritoriesMoved {
                        from: me.0.to_vec(),
                        to: key.0.to_vec(),
                        territories: vec![territory],
                    })
                }
            }
            // At most 3, so that amendments keep coming into effect.
            _ => C::Threshold(pb::ThresholdChanged {
                threshold: self.rng.random_range(1..=(membership.hubs() as u32).min(3)),
            }),
        };
        let number = membership.number + 1;
        let proposal = self.world.author(
            h,
            pb::event::Body::AmendmentProposed(pb::AmendmentProposed {
                number,
                change: Some(change),
                reason: "changement de la fédération".into(),
            }),
        );
        changes.proposals.push((proposal, number, h));
    }

    fn date(&mut self) -> String {
        let month = self.rng.random_range(9..=14u32);
        let (y, m) = if month > 12 {
            (2027, month - 12)
        } else {
            (2026, month)
        };
        format!("{y}-{m:02}-{:02}", self.rng.random_range(1..=28u32))
    }

    fn step(&mut self) {
        let hubs = self.world.hubs.len();
        let signers = self.signers();
        if self.changes.is_some() && self.rng.random_bool(0.08) {
            self.change(&signers);
            return;
        }
        let h = pick(&mut self.rng, &signers).unwrap();
        if self.days > 0 {
            let days = self.rng.random_range(0..=self.days);
            self.world.advance_days(h, days);
        }
        let Some(venue) = pick(&mut self.rng, &self.venues[h]) else {
            // An admitted hub's first events: its venues.
            let n = 100 + h * 10 + self.rng.random_range(0..10);
            let venue = self.world.qualified_venue(h, n);
            self.venues[h].push(venue);
            return;
        };
        let person = person(self.rng.random_range(1..=self.people));
        let roll = self.rng.random_range(0..100u32);
        let body = match roll {
            0..=14 => {
                let from = pick(&mut self.rng, &signers).unwrap();
                self.world.sync(from, h);
                return;
            }
            15..=17 => {
                let batch_id = format!(
                    "{}-B{}",
                    self.world.hubs[h].territories[0],
                    self.serials.len()
                );
                self.serials
                    .extend((1..=20).map(|n| format!("{batch_id}-{n}")));
                batch(&batch_id, 20)
            }
            18..=34 => {
                let serials: Vec<String> = (0..self.rng.random_range(1..=5))
                    .filter_map(|_| pick(&mut self.rng, &self.serials))
                    .collect();
                let mut unique = serials.clone();
                unique.sort();
                unique.dedup();
                if unique.is_empty() {
                    return;
                }
                hand_out(&unique, person)
            }
            35..=54 => {
                let Some(serial) = pick(&mut self.rng, &self.serials) else {
                    return;
                };
                let date = self.date();
                redeem(&serial, &venue, &date)
            }
            55..=64 => {
                let Some(serial) = pick(&mut self.rng, &self.serials) else {
                    return;
                };
                let to = self.world.hubs[self.rng.random_range(0..hubs)].id;
                transfer(&[serial], to)
            }
            65..=72 => {
                let Some(serial) = pick(&mut self.rng, &self.serials) else {
                    return;
                };
                let date = self.date();
                let body = claim(&serial, &venue, &date);
                let event = self.world.author(h, body);
                self.claims.push((event, serial, date));
                return;
            }
            73..=80 => {
                let Some((claim_event, serial, date)) = pick(&mut self.rng, &self.claims) else {
                    return;
                };
                let claim_venue = match &claim_event.body {
                    Some(pb::event::Body::VoucherClaimed(c)) => c.venue_id.clone(),
                    _ => return,
                };
                if self.rng.random_bool(0.5) {
                    answer_accept(&serial, &claim_venue, &date, &claim_event)
                } else {
                    answer_reject(&claim_event, "already used")
                }
            }
            81..=83 => {
                let Some(serial) = pick(&mut self.rng, &self.serials) else {
                    return;
                };
                pb::event::Body::VoucherCancelled(pb::VoucherCancelled {
                    serials: vec![serial],
                    reason: "lost".into(),
                })
            }
            84..=88 => {
                let id = format!(
                    "{}-R{}",
                    self.world.hubs[h].territories[0],
                    self.referrals.len()
                );
                self.referrals.push(id.clone());
                let target_hub = self.rng.random_range(0..hubs);
                let target = pick(&mut self.rng, &self.venues[target_hub]).unwrap_or(venue);
                pb::event::Body::ReferralOpened(pb::ReferralOpened {
                    referral_id: id,
                    personal: world::personal(person, "ABC Diag : débutant"),
                    prescriber: Some(pb::Prescriber {
                        kind: "FT".into(),
                        name: "France Travail".into(),
                    }),
                    needs: vec![SERVICE.into()],
                    target_venue_id: target,
                    channel: "telephone".into(),
                    opened_on: "2026-10-01".into(),
                    ..Default::default()
                })
            }
            89..=95 => {
                let Some(referral_id) = pick(&mut self.rng, &self.referrals) else {
                    return;
                };
                match self.rng.random_range(0..4) {
                    0 => pb::event::Body::ReferralAccepted(pb::ReferralAccepted {
                        referral_id,
                        venue_id: venue,
                        appointment_on: String::new(),
                        date: "2026-10-10".into(),
                    }),
                    1 => pb::event::Body::ReferralDeclined(pb::ReferralDeclined {
                        referral_id,
                        reason: "full".into(),
                    }),
                    2 => {
                        let other = self.rng.random_range(0..hubs);
                        let to_venue_id = pick(&mut self.rng, &self.venues[other]).unwrap_or(venue);
                        pb::event::Body::ReferralForwarded(pb::ReferralForwarded {
                            referral_id,
                            to_venue_id,
                        })
                    }
                    _ => pb::event::Body::ReferralClosed(pb::ReferralClosed {
                        referral_id,
                        outcome: "completed".into(),
                        autonomy: String::new(),
                    }),
                }
            }
            96..=98 => pb::event::Body::AccompanimentRecorded(pb::AccompanimentRecorded {
                personal: world::personal(person, ""),
                venue_id: venue,
                services: vec![SERVICE.into()],
                date: "2026-10-12".into(),
                duration_min: 90,
                mode: "individual".into(),
                ..Default::default()
            }),
            _ if !self.forgets => return,
            _ => {
                // The events the author's views link to the person (what `person forget`
                // names); none yet: nothing to erase.
                let events: Vec<Vec<u8>> = self
                    .world
                    .authored
                    .iter()
                    .filter(|e| e.person() == Some(person))
                    .take(maillage_core::personal::FORGET_EVENTS_MAX)
                    .map(|e| e.id.0.to_vec())
                    .collect();
                if events.is_empty() {
                    return;
                }
                pb::event::Body::PersonForgotten(pb::PersonForgotten { events })
            }
        };
        self.world.author(h, body);
    }
}

impl Sim {
    /// The events as a conformance history (`tests/vectors`), in signing order.
    fn history(&self) -> History {
        History {
            name: "random".into(),
            description: String::new(),
            charter: hex::encode(self.world.charter.bytes()),
            frozen: Vec::new(),
            events: (self.world.authored.iter())
                .map(|event| Case {
                    signed: hex::encode(event.signed.encode_to_vec()),
                    verdict: String::new(),
                    note: String::new(),
                })
                .collect(),
            orders: Vec::new(),
            digest: String::new(),
            parts: BTreeMap::new(),
        }
    }
}

/// A random interleaving of the feeds, each in its own order (what replication delivers: a
/// store holds a feed without gaps).
fn interleaving(events: &[VerifiedEvent], rng: &mut StdRng) -> Vec<usize> {
    let mut feeds: BTreeMap<maillage_core::HubId, std::collections::VecDeque<usize>> =
        BTreeMap::new();
    for (i, event) in events.iter().enumerate() {
        feeds.entry(event.author).or_default().push_back(i);
    }
    let mut feeds: Vec<_> = feeds.into_values().collect();
    let mut order = Vec::with_capacity(events.len());
    while !feeds.is_empty() {
        let f = rng.random_range(0..feeds.len());
        for _ in 0..rng.random_range(1..=8) {
            match feeds[f].pop_front() {
                Some(i) => order.push(i),
                None => break,
            }
        }
        if feeds[f].is_empty() {
            feeds.swap_remove(f);
        }
    }
    order
}

fn pick<T: Clone>(rng: &mut StdRng, items: &[T]) -> Option<T> {
    (!items.is_empty()).then(|| items[rng.random_range(0..items.len())].clone())
}

/// Delivers every event in a random interleaving of the feeds, with some duplicates.
fn deliver(world: &World, seed: u64) -> Ledger {
    let mut rng = StdRng::seed_from_u64(seed);
    let feeds: Vec<&Vec<VerifiedEvent>> = world.feeds.values().collect();
    let mut cursors = vec![0usize; feeds.len()];
    let mut ledger = Ledger::new(world.charter.clone());
    loop {
        let open: Vec<usize> = (0..feeds.len())
            .filter(|f| cursors[*f] < feeds[*f].len())
            .collect();
        if open.is_empty() {
            break;
        }
        let f = open[rng.random_range(0..open.len())];
        // Deliver a burst of one feed, sometimes re-delivering an earlier event.
        for _ in 0..rng.random_range(1..=8) {
            if cursors[f] >= feeds[f].len() {
                break;
            }
            if cursors[f] > 0 && rng.random_bool(0.05) {
                ledger.offer(feeds[f][rng.random_range(0..cursors[f])].clone());
            }
            ledger.offer(feeds[f][cursors[f]].clone());
            cursors[f] += 1;
        }
    }
    ledger
}

fn valid_redemptions_per_serial(world: &World, ledger: &Ledger) -> BTreeMap<String, usize> {
    let mut counts = BTreeMap::new();
    for event in world.all_events() {
        if let Some(pb::event::Body::VoucherRedeemed(r)) = &event.body
            && !ledger.rejections().contains_key(&event.id)
        {
            *counts.entry(r.serial.clone()).or_insert(0) += 1;
        }
    }
    counts
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 6, ..ProptestConfig::default() })]

    #[test]
    fn any_delivery_order_gives_the_same_digest(seed in any::<u64>(), hubs in 4usize..=6) {
        let mut sim = Sim::new(seed, hubs);
        while sim.world.event_count() < 2_000 {
            sim.step();
        }
        let world = &sim.world;
        let reference = deliver(world, 0);
        prop_assert_eq!(reference.pending_count(), 0);
        prop_assert_eq!(reference.applied_count(), world.all_events().len() as u64);
        let accepted = world.all_events().len() - reference.rejections().len();
        prop_assert!(accepted > 200, "the history should hold many valid events, has {}", accepted);
        for order in 1..=8u64 {
            let other = deliver(world, seed ^ order.wrapping_mul(0x9e37_79b9_7f4a_7c15));
            let diverging: Vec<&str> = other
                .digest_parts()
                .into_iter()
                .zip(reference.digest_parts())
                .filter(|(a, b)| a != b)
                .map(|(a, _)| a.0)
                .collect();
            if !diverging.is_empty() {
                let mismatched: Vec<String> = reference
                    .rejections()
                    .iter()
                    .filter(|(id, r)| other.rejections().get(id).map(|o| &o.rejection) != Some(&r.rejection))
                    .chain(other.rejections().iter().filter(|(id, _)| !reference.rejections().contains_key(id)))
                    .take(3)
                    .map(|(id, r)| format!("{} seq {}: {:?} vs {:?}", id.short(), r.seq, r.reason(), other.rejections().get(id).map(|o| o.reason())))
                    .collect();
                prop_assert!(false, "order {} diverged in {:?}; rejections: {:#?}", order, diverging, mismatched);
            }
            prop_assert_eq!(other.digest(), reference.digest());
        }
        for (serial, count) in valid_redemptions_per_serial(world, &reference) {
            prop_assert!(count <= 1, "voucher {} redeemed {} times", serial, count);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 4, ..ProptestConfig::default() })]

    /// A person's vouchers and referrals, read from their own record, are exactly what a walk
    /// of every voucher and every referral finds for them: folded in any order, and after the
    /// views are restored from a snapshot (the records are rebuilt, not stored). Their
    /// parcours is the same whatever the order.
    #[test]
    fn per_person_records_match_a_walk_of_every_voucher_and_referral(seed in any::<u64>()) {
        let mut sim = Sim::new(seed, 4);
        // Some seeds give a history light on valid hand-outs (most pick another hub's
        // vouchers): it grows until people hold a few vouchers, for the records to be tested.
        let mut events = 1_500;
        loop {
            while sim.world.event_count() < events {
                sim.step();
            }
            let held = deliver(&sim.world, seed)
                .touched_vouchers()
                .filter(|(_, s)| s.person.is_some())
                .count();
            if held > 5 || events >= 6_000 {
                break;
            }
            events += 1_500;
        }
        let folded = deliver(&sim.world, seed);
        let restored = Ledger::from_snapshot(
            sim.world.charter.clone(),
            &folded.to_snapshot().unwrap(),
        )
        .unwrap();
        // Every referral's whole state, kept in its compact form, reads back alike.
        let referrals: Vec<_> = folded.referrals().collect();
        prop_assert!(referrals.iter().any(|r| r.status != ReferralStatus::Open));
        prop_assert_eq!(&restored.referrals().collect::<Vec<_>>(), &referrals);
        let touched: Vec<_> = folded.touched_vouchers().collect();
        let mut people: Vec<_> = touched.iter().filter_map(|(_, s)| s.person).collect();
        people.extend(folded.referrals().filter_map(|r| r.person));
        people.sort();
        people.dedup();
        prop_assert!(people.len() > 10, "only {} people", people.len());
        // Each person's parcours is the same, in the same order, folded in another order and
        // read back from a snapshot (lines are kept by feed position and sorted by HLC, then
        // event id).
        let other = deliver(&sim.world, seed ^ 0x9e37_79b9_7f4a_7c15);
        let mut lines = 0;
        for person in &people {
            let parcours = folded.parcours(person);
            lines += parcours.as_ref().map_or(0, Vec::len);
            prop_assert_eq!(&other.parcours(person), &parcours);
            prop_assert_eq!(&restored.parcours(person), &parcours);
        }
        prop_assert!(lines > people.len(), "only {} lines", lines);
        let mut vouchers_seen = 0;
        for person in &people {
            let walked: Vec<_> = touched
                .iter()
                .filter(|(_, s)| s.person == Some(*person))
                .cloned()
                .collect();
            let walked_referrals: Vec<_> =
                folded.referrals().filter(|r| r.person == Some(*person)).collect();
            vouchers_seen += walked.len();
            for ledger in [&folded, &restored] {
                prop_assert_eq!(&ledger.person_vouchers(person), &walked);
                prop_assert_eq!(&ledger.person_referrals(person), &walked_referrals);
            }
        }
        prop_assert!(vouchers_seen > 5, "only {} vouchers held", vouchers_seen);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 4, ..ProptestConfig::default() })]

    /// Personal parts pass retention as the authors' clocks move on (up to 5 days before each
    /// event, so that parts of the first months expire while later ones come): every person's
    /// links are the same whatever the delivery order, and after a snapshot (docs/protocol.md
    /// §5c). Erasures are left out: one that reaches a node after the part it names expired
    /// there is the open case of "Erasure".
    #[test]
    fn personal_links_past_retention_are_the_same_in_any_delivery_order(seed in any::<u64>()) {
        let mut sim = Sim::new(seed, 4);
        sim.days = 5;
        sim.forgets = false;
        sim.people = 200;
        while sim.world.event_count() < 1_500 {
            sim.step();
        }
        let mut folded = deliver(&sim.world, seed);
        let mut other = deliver(&sim.world, seed ^ 0x9e37_79b9_7f4a_7c15);
        let restored = Ledger::from_snapshot(
            sim.world.charter.clone(),
            &folded.to_snapshot().unwrap(),
        )
        .unwrap();
        let (log_day, kept) = folded.retention_state();
        prop_assert_eq!(other.retention_state(), (log_day, kept));
        prop_assert!(log_day > T0_MS as i64 / 86_400_000 + 730, "no part expired");
        prop_assert!(kept > 0, "every part expired");
        let mut erased = folded.take_erasures();
        let mut erased_other = other.take_erasures();
        erased.sort_unstable();
        erased.dedup();
        erased_other.sort_unstable();
        erased_other.dedup();
        prop_assert!(!erased.is_empty());
        prop_assert_eq!(&erased_other, &erased);
        for n in 1..=sim.people {
            let person = person(n);
            for ledger in [&other, &restored] {
                let events = |l: &Ledger| {
                    let mut events = l.person_events(&person);
                    events.sort_unstable();
                    events
                };
                prop_assert_eq!(events(ledger), events(&folded));
                prop_assert_eq!(ledger.parcours(&person), folded.parcours(&person));
                prop_assert_eq!(ledger.person_vouchers(&person), folded.person_vouchers(&person));
                prop_assert_eq!(ledger.person_referrals(&person), folded.person_referrals(&person));
                prop_assert_eq!(ledger.accompaniments(&person), folded.accompaniments(&person));
            }
        }
        prop_assert_eq!(other.digest(), folded.digest());
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 4, ..ProptestConfig::default() })]

    /// Before signing, a node asks its views what the rules say of the event
    /// ([`Ledger::evaluate`]): the answer is the verdict the event gets once signed and
    /// folded, for every event of random histories (valid or not), and asking changes nothing.
    #[test]
    fn a_draft_is_judged_as_the_signed_event_is(seed in any::<u64>()) {
        let mut sim = Sim::new(seed, 4);
        while sim.world.event_count() < 1_500 {
            sim.step();
        }
        let mut ledger = Ledger::new(sim.world.charter.clone());
        let (mut accepted, mut rejected) = (0, 0);
        for (n, event) in sim.world.authored.clone().into_iter().enumerate() {
            let body = event.body.clone().unwrap();
            // Every 25th event: the views are byte for byte the same after the evaluation.
            let before = (n % 25 == 0).then(|| (ledger.to_snapshot().unwrap(), ledger.digest()));
            let verdict = ledger.evaluate(event.author, event.hlc, &event.deps, &body);
            if let Some((snapshot, digest)) = before {
                prop_assert_eq!(ledger.to_snapshot().unwrap(), snapshot, "evaluate changed the views");
                prop_assert_eq!(ledger.digest(), digest);
            }
            let id = event.id;
            ledger.offer(event);
            match (verdict, ledger.rejections().get(&id)) {
                (Evaluation::Accepted, None) => accepted += 1,
                (Evaluation::Rejected(reason), Some(rejection)) => {
                    prop_assert_eq!(&reason, &rejection.rejection);
                    rejected += 1;
                }
                (verdict, rejection) => prop_assert!(
                    false,
                    "event {}: evaluated {:?}, folded {:?}",
                    n,
                    verdict,
                    rejection.map(|r| r.reason())
                ),
            }
        }
        prop_assert!(accepted > 200 && rejected > 50, "{} accepted, {} rejected", accepted, rejected);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 4, ..ProptestConfig::default() })]

    /// Hubs admitted, keys rotated, members removed, départements moved and thresholds changed
    /// among the domain events, proposals endorsed (or not, or out of turn): in any
    /// interleaving of the feeds, every event gets the same verdict and the views the same
    /// digest. Folded as the conformance vectors are: events of keys not admitted yet offered
    /// again once a key is, the views folded again when a stop comes after events it stops.
    /// A few cases here; `PROPTEST_CASES=300 cargo test --release -p maillage-core --test
    /// delivery_order membership` runs more.
    #[test]
    fn membership_changes_are_judged_alike_in_any_delivery_order(
        seed in any::<u64>(),
        hubs in 3usize..=5,
    ) {
        judged_alike_with_membership_changes(seed, hubs)?;
    }
}

/// The membership property for one case (see above): rival proposals at any threshold, so
/// that votes split for good now and then and are cast again in the next round.
fn judged_alike_with_membership_changes(
    seed: u64,
    hubs: usize,
) -> Result<Vec<AmendmentView>, TestCaseError> {
    judged_alike_with(seed, hubs, |changes| {
        changes.splits = true;
        changes.stopped_vote = false;
    })
}

/// [`judged_alike_with_membership_changes`] where rival proposals may stop keys too.
fn judged_alike_with_membership_changes_rivals_stopping(
    seed: u64,
    hubs: usize,
) -> Result<Vec<AmendmentView>, TestCaseError> {
    judged_alike_with(seed, hubs, |changes| changes.rivals_stop = true)
}

/// The property for one case of a history with membership changes drawn as `set` says.
fn judged_alike_with(
    seed: u64,
    hubs: usize,
    set: impl FnOnce(&mut Changes),
) -> Result<Vec<AmendmentView>, TestCaseError> {
    let mut sim = Sim::with_membership_changes(seed, hubs);
    if let Some(changes) = sim.changes.as_mut() {
        set(changes);
    }
    judged_alike(sim, seed, hubs)
}

/// Whether a proposal removes a member or succeeds a key.
fn stops_a_key(proposal: &VerifiedEvent) -> bool {
    use pb::amendment_proposed::Change;
    matches!(
        &proposal.body,
        Some(pb::event::Body::AmendmentProposed(a))
            if matches!(a.change, Some(Change::Remove(_) | Change::Succession(_)))
    )
}

/// Checks the property on `sim`'s history; the amendments its signers knew at the end.
fn judged_alike(mut sim: Sim, seed: u64, hubs: usize) -> Result<Vec<AmendmentView>, TestCaseError> {
    // Some seeds stall the amendments a while (proposals that split the votes): the
    // history grows until a few are in effect.
    while sim.world.event_count() < 1_200
        || (sim.amendments_in_effect() < 4 && sim.world.event_count() < 2_400)
    {
        sim.step();
    }
    prop_assert!(
        sim.amendments_in_effect() >= 2,
        "{} amendments in effect",
        sim.amendments_in_effect()
    );
    let history = sim.history();
    let signing: Vec<usize> = (0..history.events.len()).collect();
    let reference = conformance::run(&history, &signing).map_err(TestCaseError::fail)?;
    let founding: Vec<_> = sim.world.hubs[..hubs].iter().map(|h| h.id).collect();
    let applied = |wanted: &dyn Fn(&VerifiedEvent) -> bool| {
        sim.world
            .authored
            .iter()
            .zip(&reference.verdicts)
            .filter(|(event, verdict)| *verdict == conformance::APPLIED && wanted(event))
            .count()
    };
    let newcomers = applied(&|e| !founding.contains(&e.author));
    let mut rng = StdRng::seed_from_u64(seed);
    for n in 0..4 {
        let order = interleaving(&sim.world.authored, &mut rng);
        let other = conformance::run(&history, &order).map_err(TestCaseError::fail)?;
        if let Some(i) = (0..signing.len()).find(|i| other.verdicts[*i] != reference.verdicts[*i]) {
            let event = &sim.world.authored[i];
            prop_assert!(
                false,
                "order {}: event {} ({} seq {}, {:?}) is {} in signing order, {} here ({} events signed by admitted keys applied)",
                n,
                i,
                event.author.short(),
                event.seq,
                event.body.as_ref().map(std::mem::discriminant),
                reference.verdicts[i],
                other.verdicts[i],
                newcomers
            );
        }
        prop_assert_eq!(&other.digest, &reference.digest);
    }
    Ok(sim
        .changes
        .map(|c| c.truth.amendments())
        .unwrap_or_default())
}

/// Cases the property found faults with, kept whatever the generator's later changes: two
/// proposals for one number both in effect, the losing one's stop set or not by arrival order
/// (446570580652376906), then the digest's order of the keys they admitted (2213375366176908840).
#[test]
fn competing_amendments_are_judged_alike_in_any_delivery_order() {
    for seed in [446_570_580_652_376_906, 2_213_375_366_176_908_840] {
        judged_alike_with_membership_changes_rivals_stopping(seed, 3).unwrap();
    }
}

/// Votes on amendment 6 split for good in the first round; it comes into effect in the second
/// (three hubs, rivals at any threshold): judged alike in any order.
#[test]
fn split_votes_are_judged_alike_in_any_delivery_order() {
    let amendments = judged_alike_with_membership_changes(10_407_891_139_174_005_507, 3).unwrap();
    let late = (amendments.iter()).find(|a| a.in_effect && a.round > 1);
    assert!(late.is_some(), "{amendments:?}");
}

/// Open, the same class as below with one stop: a removal in force that lost its number to a
/// concurrent proposal stops a hub that, still present in the chain in effect, goes on voting;
/// a delivery order that brings in one of its later proposals (a stop of another key) before
/// the removal puts it in force, and the fold again with the stops set first keeps that stop
/// though the proposal is now cut (this case: three hubs, rivals at any threshold). The
/// property's generator has a hub stop voting once its own stop is in force. Setting first
/// only the stops of the amendments in force, folded again until they stay, settles this case
/// and the one below, but not the simulator's restored copy of a forked hub
/// (`restored-hub-recovered`, seed 1): there the recovery's stop, set first, holds back the
/// events its own amendment waits for (the copy holds the other branch), so that the amendment
/// is in force in every other fold. The remedy must tell a proposal a stop cuts from one that
/// waits.
#[test]
#[ignore = "open protocol question: stops that cut the votes bringing other stops, docs/protocol.md §1b"]
fn a_stop_kept_from_a_proposal_its_refold_cuts() {
    judged_alike_with(10_962_956_962_635_647_893, 3, |changes| {
        changes.splits = true
    })
    .unwrap();
}

/// Open: stops that cut the votes of amendments that bring other stops. A fold that meets a
/// stop after events it cuts folds again with the stops it knows set first (§1b); when those
/// stops cut votes that brought other amendments into force, the next fold may bring another
/// set of stops, and two delivery orders can settle on two different sets (this case: five
/// hubs removing each other at thresholds 1 to 3, a rival proposing a removal at the same
/// number). Settling it needs a rule that orders stops and votes (amendments decided by
/// number, each counting only the votes earlier stops leave), not a change of the fold alone.
#[test]
#[ignore = "open protocol question: circular stops, see docs/protocol.md §1b"]
fn circular_stops_are_not_settled_alike_yet() {
    judged_alike_with_membership_changes_rivals_stopping(10_494_181_706_130_258_600, 5).unwrap();
}
