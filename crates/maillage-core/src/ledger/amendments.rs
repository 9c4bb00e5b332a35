//! Charter amendments (docs/protocol.md §1b): proposals, endorsements, and the membership in
//! effect in each event's causal past.
//!
//! Amendments are numbered: number `n` amends the membership `n - 1` in effect in its
//! proposal's causal past. Amendment `n` is in effect in a past when the past holds a proposal
//! for it (made on the same chain of amendments) and votes of one round from `threshold`
//! distinct hubs of membership `n - 1`, the proposal counting as its author's vote. A hub votes
//! once per number and round; a round no proposal can win any more is dead, and the votes are
//! cast again in the next ([`Ledger::round_of`]). Should two proposals for one number both
//! gather enough votes (possible only with a threshold of half the hubs or less: a dead round
//! is dead in every past that holds it), the one with the smaller event id is in effect. Every
//! node computes the same membership for the same past.
//!
//! When an amendment comes into effect in some past the views hold (not only at their head:
//! a proposal that lost its number to a concurrent one with a smaller id may be in effect in
//! the pasts that hold it alone), the keys it brings are added to the causal index (and to the
//! charter's known keys, so that the store accepts their events and the handshake admits
//! them), and the keys it stops (a removed member, a succeeded key) are frozen after their
//! last seq that counts, the earliest stop of a key holding. Neither is ever undone: what the
//! views hold only grows, so every node ends with the same keys and stops whatever order the
//! events came in. If events past a stop were applied already, the views must be folded again
//! from the store with the freeze set first ([`Ledger::needs_refold`]).
//!
//! Size: the rules of §1b in one place (votes and their rounds, amendments in effect and in
//! force, keys and stops), each reading the others' state; split, they would share it
//! through a dozen `pub(super)` accessors.

use std::collections::BTreeMap;
use std::sync::Arc;

use maillage_proto::v1 as pb;
use serde::{Deserialize, Serialize};

use super::Ledger;
use super::effect::Effect;
use super::fields;
use super::state::Pos;
use crate::causal::Past;
use crate::charter::Role;
use crate::envelope::VerifiedEvent;
use crate::ids::{EventId, HubId};
use crate::membership::{Change, Membership};
use crate::rejection::{Field, Rejection};

/// A proposal the views hold.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(super) struct Proposal {
    pub(super) event: EventId,
    pub(super) author: HubId,
    pub(super) pos: Pos,
    pub(super) number: u32,
    /// The chain of amendments in effect in its past (their proposals' ids).
    pub(super) base: Vec<EventId>,
    pub(super) change: Change,
    pub(super) reason: String,
    /// Endorsements, the proposal's own first: (endorser, where, round).
    pub(super) endorsements: Vec<Vote>,
}

/// A vote for a proposal: who, where, and in which round of votes on its number (1, or one
/// more than the rounds its past shows dead: see [`Ledger::round_of`]).
pub(super) type Vote = (HubId, Pos, u32);

/// A key frozen after its last seq that counts. Of two stops of one key, the smaller (the
/// earlier `last_seq`, then no branch, then the smaller branch id) holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Cut {
    /// The last seq that counts.
    pub last_seq: u64,
    /// The event at `last_seq` that stands, when the feed forked.
    pub branch: Option<EventId>,
}

/// Every proposal, and the memberships of the chains in effect.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub(super) struct Amendments {
    /// By number, in the order they were applied.
    pub(super) proposals: BTreeMap<u32, Vec<Proposal>>,
    /// The chain in effect at the head of the views.
    pub(super) head: Vec<EventId>,
    /// The proposals in effect in some past, whose keys and stops were made (made again from
    /// the proposals when a snapshot is read).
    #[serde(skip)]
    pub(super) enacted: std::collections::BTreeSet<EventId>,
    /// The keys amendments in force admitted, by (number, proposal id): the charter order
    /// after the founding members (made again with `enacted`).
    #[serde(skip)]
    pub(super) admitted: BTreeMap<(u32, EventId), HubId>,
    /// Memberships by chain (the founding one under the empty chain).
    #[serde(skip)]
    pub(super) memberships: BTreeMap<Vec<EventId>, Arc<Membership>>,
}

/// An amendment in force: its chain (ending with it), its proposal, the membership it amends
/// and the one it makes.
type InForce = (Vec<EventId>, Proposal, Arc<Membership>, Arc<Membership>);

/// An amendment as the federation's history shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AmendmentView {
    /// Its number.
    pub number: u32,
    /// The proposal.
    pub proposal: EventId,
    /// Where it is (for an endorsement's reference).
    pub at: crate::envelope::EventRef,
    /// Who proposed it.
    pub proposer: HubId,
    /// What it changes.
    pub change: Change,
    /// Why.
    pub reason: String,
    /// Who voted for it in its latest round of votes (in it, the proposer first).
    pub endorsers: Vec<HubId>,
    /// That round: 1, unless the votes on its number split for good in a round before.
    pub round: u32,
    /// In effect at the head of these views.
    pub in_effect: bool,
    /// In effect in some past these views hold (its keys and stops hold).
    pub in_force: bool,
}

impl Amendments {
    pub(super) fn founding(&self) -> Option<&Arc<Membership>> {
        self.memberships.get(&Vec::new())
    }
}

impl Ledger {
    /// The founding membership, cached.
    pub(super) fn ensure_founding(&mut self) {
        if self.s.amendments.founding().is_none() {
            let founding = Arc::new(Membership::founding(&self.charter));
            self.s.amendments.memberships.insert(Vec::new(), founding);
        }
    }

    /// The membership in effect where `contains` says which proposals and endorsements are
    /// known, and its chain.
    fn membership_where(&self, contains: &dyn Fn(Pos) -> bool) -> (Arc<Membership>, Vec<EventId>) {
        let amendments = &self.s.amendments;
        let founding = amendments
            .founding()
            .cloned()
            .unwrap_or_else(|| Arc::new(Membership::founding(&self.charter)));
        let mut membership = founding;
        let mut chain: Vec<EventId> = Vec::new();
        let mut number = 1;
        while let Some(candidates) = amendments.proposals.get(&number) {
            let effective = candidates
                .iter()
                .filter(|p| p.base == chain && reached(p, &membership, contains))
                .min_by_key(|p| p.event);
            let Some(proposal) = effective else {
                break;
            };
            chain.push(proposal.event);
            membership = match amendments.memberships.get(&chain) {
                Some(known) => known.clone(),
                // Checked against this very membership when proposed: it applies.
                None => match membership.apply(&proposal.change) {
                    Ok(next) => Arc::new(next),
                    Err(_) => break,
                },
            };
            number += 1;
        }
        (membership, chain)
    }

    /// Every proposal in effect in some past the views hold: on a chain of proposals each in
    /// effect on its own base, endorsed enough. By number, then event id; each with its chain
    /// (ending with it), the membership it amends and the one it makes.
    fn in_force(&self) -> Vec<InForce> {
        let amendments = &self.s.amendments;
        let mut bases = vec![(Vec::new(), self.founding_membership())];
        let mut out = Vec::new();
        let mut number = 1;
        while let Some(candidates) = amendments.proposals.get(&number) {
            let mut sorted: Vec<&Proposal> = candidates.iter().collect();
            sorted.sort_by_key(|p| p.event);
            let mut next_bases = Vec::new();
            for proposal in sorted {
                let Some((_, before)) = bases.iter().find(|(chain, _)| *chain == proposal.base)
                else {
                    continue;
                };
                if !reached(proposal, before, &|_| true) {
                    continue;
                }
                let mut chain = proposal.base.clone();
                chain.push(proposal.event);
                let next = match amendments.memberships.get(&chain) {
                    Some(known) => known.clone(),
                    // Checked against this very membership when proposed: it applies.
                    None => match before.apply(&proposal.change) {
                        Ok(next) => Arc::new(next),
                        Err(_) => continue,
                    },
                };
                out.push((
                    chain.clone(),
                    proposal.clone(),
                    before.clone(),
                    next.clone(),
                ));
                next_bases.push((chain, next));
            }
            if next_bases.is_empty() {
                break;
            }
            bases = next_bases;
            number += 1;
        }
        out
    }

    /// The members' indices in charter order (docs/protocol.md §4d): the founding members,
    /// then the keys amendments in force admitted, by amendment number then proposal id,
    /// whatever order they took effect in here.
    pub(super) fn charter_order(&self) -> Vec<u32> {
        let admitted = &self.s.amendments.admitted;
        let later: std::collections::BTreeSet<&HubId> = admitted.values().collect();
        let mut order: Vec<u32> = (0..self.members.len() as u32)
            .filter(|i| !later.contains(&self.members.hub(*i)))
            .collect();
        for key in admitted.values() {
            if let Some(index) = self.members.index(key)
                && !order.contains(&index)
            {
                order.push(index);
            }
        }
        order
    }

    /// The membership in effect in an event's causal past.
    pub(super) fn membership_in(&self, past: &Past<'_>) -> Arc<Membership> {
        if self.s.amendments.proposals.is_empty() {
            return self.founding_membership();
        }
        self.membership_where(&|at| past.contains_at(at.feed, at.seq))
            .0
    }

    fn founding_membership(&self) -> Arc<Membership> {
        self.s
            .amendments
            .founding()
            .cloned()
            .unwrap_or_else(|| Arc::new(Membership::founding(&self.charter)))
    }

    /// How many keys these views number (founding members, then every key an amendment
    /// brought in): it only grows, and an event of a key they do not number waits for it to.
    pub fn members_known(&self) -> usize {
        self.members.len()
    }

    /// The membership in effect at the head of these views (every applied event known).
    pub fn membership(&self) -> Arc<Membership> {
        self.s
            .amendments
            .memberships
            .get(&self.s.amendments.head)
            .cloned()
            .unwrap_or_else(|| self.founding_membership())
    }

    /// The last valid seq of a feed a fork proof froze, unless an amendment resolved the
    /// fork by choosing a branch (then [`Ledger::cuts`] says how far it counts).
    pub fn frozen_at(&self, key: &HubId) -> Option<u64> {
        let valid = self.s.forks.get(key).copied()?;
        match self.s.cuts.get(key) {
            Some(Cut {
                branch: Some(_), ..
            }) => None,
            _ => Some(valid),
        }
    }

    /// The keys frozen by amendments after their last seq that counts.
    pub fn cuts(&self) -> &BTreeMap<HubId, Cut> {
        &self.s.cuts
    }

    /// Whether events already applied come after a key's last seq that counts: the views
    /// must be folded again from the store, with [`Ledger::cut`] set for every entry of
    /// [`Ledger::cuts`] first.
    pub fn needs_refold(&self) -> bool {
        self.s.needs_refold
    }

    /// Sets a cut before folding (see [`Ledger::needs_refold`]).
    pub fn cut(&mut self, key: HubId, cut: Cut) {
        self.s.cuts.insert(key, cut);
        self.apply_freeze(key);
    }

    /// The latest round of votes `proposal` has a vote in (`None`: not a proposal these views
    /// hold).
    pub fn proposal_round(&self, proposal: &EventId) -> Option<u32> {
        (self.s.amendments.proposals.values().flatten())
            .find(|p| p.event == *proposal)
            .map(latest_round)
    }

    /// Every amendment proposal, by number, with its endorsers and whether it is in effect at
    /// the head.
    pub fn amendments(&self) -> Vec<AmendmentView> {
        let head: std::collections::BTreeSet<&EventId> = self.s.amendments.head.iter().collect();
        self.s
            .amendments
            .proposals
            .values()
            .flatten()
            .map(|p| {
                let round = latest_round(p);
                AmendmentView {
                    number: p.number,
                    proposal: p.event,
                    at: crate::envelope::EventRef {
                        author: p.author,
                        seq: p.pos.seq,
                        id: p.event,
                    },
                    proposer: p.author,
                    change: p.change.clone(),
                    reason: p.reason.clone(),
                    endorsers: (p.endorsements.iter())
                        .filter(|(_, _, r)| *r == round)
                        .map(|(k, _, _)| *k)
                        .collect(),
                    round,
                    in_effect: head.contains(&p.event),
                    in_force: self.s.amendments.enacted.contains(&p.event),
                }
            })
            .collect()
    }

    /// The freeze a key's feed gets: a cut wins over a fork (it was decided knowing of the
    /// fork, or cuts earlier); a fork alone freezes before its position.
    pub(super) fn apply_freeze(&mut self, key: HubId) {
        if let Some(valid) = self.freeze_of(key) {
            self.s.causal.freeze(key, valid);
        }
    }

    /// The last seq of a key's feed that counts, from its fork and its stop (see
    /// [`Ledger::apply_freeze`]).
    fn freeze_of(&self, key: HubId) -> Option<u64> {
        let fork = self.s.forks.get(&key).copied();
        let cut = self.s.cuts.get(&key).copied();
        match (fork, cut) {
            (
                _,
                Some(Cut {
                    branch: Some(_),
                    last_seq,
                }),
            ) => Some(last_seq),
            (Some(fork), Some(cut)) => Some(fork.min(cut.last_seq)),
            (Some(fork), None) => Some(fork),
            (None, Some(cut)) => Some(cut.last_seq),
            (None, None) => None,
        }
    }

    /// `AmendmentProposed`. Checks: the author is a present hub of the membership in effect
    /// in the event's causal past; `number` is 1 + the amendments in effect there; the author
    /// proposed or endorsed no other proposal for that number in its past; a reason; the
    /// change applies to that membership (keys, names, roles, territories, threshold).
    pub(super) fn check_propose(
        &self,
        a: &pb::AmendmentProposed,
        event: &VerifiedEvent,
        past: &Past<'_>,
    ) -> Result<Effect, Rejection> {
        let contains = |at: Pos| past.contains_at(at.feed, at.seq);
        let (membership, chain) = self.membership_where(&contains);
        if !membership.is_current_hub(&event.author) {
            return Err(Rejection::AmendmentNotHub { key: event.author });
        }
        let expected = membership.number + 1;
        if a.number != expected {
            return Err(Rejection::AmendmentNumber {
                expected,
                found: a.number,
            });
        }
        let round = self.round_of(expected, &chain, &membership, &contains);
        self.check_not_endorsed(expected, round, &event.author, &contains)?;
        fields::reason(Field::Reason, &a.reason)?;
        let change = change_of(a)?;
        membership.apply(&change)?;
        check_before_stop(&change, event)?;
        Ok(Effect::Proposed(Box::new(Proposal {
            event: event.id,
            author: event.author,
            pos: Pos::of(event, past),
            number: expected,
            base: chain,
            change,
            reason: a.reason.clone(),
            endorsements: vec![(event.author, Pos::of(event, past), round)],
        })))
    }

    /// `AmendmentEndorsed`. Checks: the reference decodes and names a proposal in the event's
    /// causal past; its number is not in effect there yet and its base is the chain in effect;
    /// the author is a present hub of that membership and proposed or endorsed no proposal for
    /// that number in its past.
    pub(super) fn check_endorse(
        &self,
        e: &pb::AmendmentEndorsed,
        event: &VerifiedEvent,
        past: &Past<'_>,
    ) -> Result<Effect, Rejection> {
        let proposal = fields::event_ref(Field::Proposal, e.proposal.as_ref())?;
        if !past.contains_ref(&proposal) {
            return Err(Rejection::AmendmentUnknown {
                proposal: proposal.id,
            });
        }
        let found = self
            .s
            .amendments
            .proposals
            .values()
            .flatten()
            .find(|p| p.event == proposal.id)
            .ok_or(Rejection::AmendmentUnknown {
                proposal: proposal.id,
            })?;
        let contains = |at: Pos| past.contains_at(at.feed, at.seq);
        let (membership, chain) = self.membership_where(&contains);
        if membership.number >= found.number || found.base != chain {
            return Err(Rejection::AmendmentSuperseded {
                proposal: found.event,
                number: found.number,
            });
        }
        if !membership.is_current_hub(&event.author) {
            return Err(Rejection::AmendmentNotHub { key: event.author });
        }
        let round = self.round_of(found.number, &chain, &membership, &contains);
        self.check_not_endorsed(found.number, round, &event.author, &contains)?;
        check_before_stop(&found.change, event)?;
        Ok(Effect::Endorsed {
            proposal: found.event,
            number: found.number,
            endorser: event.author,
            at: Pos::of(event, past),
            round,
        })
    }

    /// The author proposed or endorsed no proposal for `number` in `round` in the past.
    fn check_not_endorsed(
        &self,
        number: u32,
        round: u32,
        author: &HubId,
        contains: &dyn Fn(Pos) -> bool,
    ) -> Result<(), Rejection> {
        let endorsed = self
            .s
            .amendments
            .proposals
            .get(&number)
            .into_iter()
            .flatten()
            .flat_map(|p| &p.endorsements)
            .any(|(k, at, r)| k == author && *r == round && contains(*at));
        if endorsed {
            return Err(Rejection::AmendmentEndorsed { number, round });
        }
        Ok(())
    }

    /// The round a vote for amendment `number` on `chain` (amending `membership`) belongs to
    /// where `contains` says which events are known: one more than the rounds dead there. A
    /// round is dead when no proposal can reach the threshold with its votes any more: the
    /// most votes one proposal has in it, plus the hubs with no vote in it, fall short. Each
    /// hub votes once a round, so what is dead in one past is dead in every past that holds
    /// it (votes only add up and the hubs without a vote only get fewer): a round that is
    /// dead somewhere never brings an amendment into effect anywhere, and votes split for
    /// good in it are cast again in the next.
    fn round_of(
        &self,
        number: u32,
        chain: &[EventId],
        membership: &Membership,
        contains: &dyn Fn(Pos) -> bool,
    ) -> u32 {
        let proposals: Vec<&Proposal> = (self.s.amendments.proposals.get(&number))
            .into_iter()
            .flatten()
            .filter(|p| p.base == chain && contains(p.pos))
            .collect();
        let mut round = 1;
        loop {
            let mut voted = std::collections::BTreeSet::new();
            let mut most = 0;
            for proposal in &proposals {
                let seats = seats_in(proposal, round, membership, contains);
                most = most.max(seats.len());
                voted.extend(seats);
            }
            let without = membership.hubs().saturating_sub(voted.len());
            if voted.is_empty() || (most + without) as u32 >= membership.threshold {
                return round;
            }
            round += 1;
        }
    }

    /// Records a proposal.
    pub(super) fn commit_proposal(&mut self, proposal: Proposal) {
        self.s
            .amendments
            .proposals
            .entry(proposal.number)
            .or_default()
            .push(proposal);
        self.advance_head();
    }

    /// Records an endorsement.
    pub(super) fn commit_endorsement(
        &mut self,
        proposal: EventId,
        number: u32,
        endorser: HubId,
        at: Pos,
        round: u32,
    ) {
        if let Some(p) = self
            .s
            .amendments
            .proposals
            .get_mut(&number)
            .and_then(|list| list.iter_mut().find(|p| p.event == proposal))
        {
            p.endorsements.push((endorser, at, round));
        }
        self.advance_head();
    }

    /// Moves the head membership on to what every applied proposal and endorsement put in
    /// effect, and makes the consequences of every amendment in effect in some past (the
    /// head's and those a concurrent proposal won the number from): new keys join the causal
    /// index and the charter's known keys, stopped keys are frozen (and retired from
    /// connections).
    pub(super) fn advance_head(&mut self) {
        // The head's chain is the path through the amendments in force that takes, at each
        // number, the smallest id on the chain so far (they come by number, then id).
        let mut head: Vec<EventId> = Vec::new();
        for (chain, proposal, before, next) in self.in_force() {
            if chain.len() == head.len() + 1 && chain.starts_with(&head) {
                head.clone_from(&chain);
            }
            if self.s.amendments.enacted.insert(proposal.event) {
                if let Some((key, _)) = proposal.change.new_key(&before) {
                    (self.s.amendments.admitted).insert((proposal.number, proposal.event), key);
                }
                self.enact(&before, &proposal.change);
            }
            self.s.amendments.memberships.insert(chain, next);
        }
        self.s.amendments.head = head;
    }

    /// What an amendment that just came into effect (in some past) does to the fold. The causal
    /// index may be lent out (an event is being applied): the keys are settled by
    /// [`Ledger::settle_enacted`] once it is back.
    fn enact(&mut self, before: &Membership, change: &Change) {
        if let Some((key, role)) = change.new_key(before) {
            let name = match change {
                Change::Admit { name, .. } => name.clone(),
                Change::Succession { member, .. } => {
                    before.name(member).unwrap_or_default().to_owned()
                }
                _ => String::new(),
            };
            if let Err(error) = self.charter.admit(key, &name, role) {
                // Checked when proposed (`amendment.bad_key`): cannot happen.
                debug_assert!(false, "{error}");
            }
            if !self.s.added_keys.contains(&key) {
                self.s.added_keys.push(key);
            }
            // The rules number the key from now on (a transfer to the admitted hub applied
            // next, in the same run of ready events, finds it): the causal index, lent out
            // while an event is applied, gives it the same number when it is settled.
            if self.members.index(&key).is_none() {
                let mut members = (*self.members).clone();
                members.push(key);
                self.members = Arc::new(members);
            }
            self.s.enacted.push(key);
        }
        if let Some((key, last_seq, branch)) = change.cut() {
            self.charter.retire(key);
            let cut = Cut { last_seq, branch };
            let held = self.s.cuts.entry(key).or_insert(cut);
            *held = (*held).min(cut);
            self.s.enacted.push(key);
        }
    }

    /// The keys amendments brought in join the causal index and every stopped key is
    /// frozen; events already applied past a stop ask for a new fold.
    pub(super) fn settle_enacted(&mut self) {
        let mut ready = Vec::new();
        for key in std::mem::take(&mut self.s.enacted) {
            if self.s.added_keys.contains(&key) {
                // A fork or a stop set before the key was admitted here (a fold with the stops
                // set first) holds from its first event on.
                let (index, waited) = self.s.causal.add_member(key, self.freeze_of(key));
                debug_assert_eq!(self.members.index(&key), Some(index));
                ready.extend(waited);
            }
            let before = self.s.causal.frozen_at(&key);
            self.apply_freeze(key);
            if let Some(cut) = self.s.cuts.get(&key).copied() {
                let applied = self.s.causal.applied().get(&key).copied().unwrap_or(0);
                // Events past the stop were applied, or a fork's freeze moved to the branch
                // that stands, or events wait for the key's events past the stop (they would
                // count as naming its last seq had the stop come first): pasts computed with
                // the old freeze must be computed again.
                let moved = before.is_some_and(|b| Some(b) != self.s.causal.frozen_at(&key));
                if applied > cut.last_seq || moved || self.s.causal.stranded(&key) {
                    self.s.needs_refold = true;
                }
            }
        }
        // The rules numbered the keys as they were enacted, in this order (several may join in
        // one run of events): the index now numbers them alike.
        debug_assert_eq!(self.members.len(), self.s.causal.members().len());
        self.members = self.s.causal.members().clone();
        // Events whose dep on a key just admitted counts as naming nothing (the key stops
        // before its first event) are applied now, as they would be arriving after it.
        for event in ready {
            self.offer(event);
        }
    }

    /// After a snapshot is read: the memberships and the keys' consequences again (the
    /// charter's known keys live in memory only).
    pub(super) fn restore_amendments(&mut self) {
        self.ensure_founding();
        let head = std::mem::take(&mut self.s.amendments.head);
        self.s.amendments.enacted.clear();
        self.s.amendments.admitted.clear();
        let cuts = self.s.cuts.clone();
        let needs_refold = self.s.needs_refold;
        self.advance_head();
        self.s.enacted.clear();
        debug_assert_eq!(head, self.s.amendments.head);
        for (key, cut) in cuts {
            self.s.cuts.insert(key, cut);
            self.apply_freeze(key);
        }
        self.s.needs_refold = needs_refold;
    }
}

/// The change a proposal carries.
fn change_of(a: &pb::AmendmentProposed) -> Result<Change, Rejection> {
    use pb::amendment_proposed::Change as Wire;
    let key = |bytes: &[u8]| {
        HubId::try_from(bytes).map_err(|e| Rejection::BadHub {
            field: Field::Key,
            error: e.to_string(),
        })
    };
    Ok(
        match a.change.as_ref().ok_or(Rejection::Missing {
            field: Field::Change,
        })? {
            Wire::Admit(m) => Change::Admit {
                key: key(&m.key)?,
                name: m.name.clone(),
                role: match pb::Role::try_from(m.role) {
                    Ok(pb::Role::Hub) => Role::Hub,
                    Ok(pb::Role::Observer) => Role::Observer,
                    _ => {
                        return Err(Rejection::BadValue {
                            field: Field::Role,
                            expected: "a role: hub or observer".into(),
                            found: m.role.to_string(),
                        });
                    }
                },
                territories: m.territories.iter().cloned().collect(),
            },
            Wire::Remove(r) => Change::Remove {
                member: key(&r.member)?,
                last_seq: r.last_seq,
            },
            Wire::MoveTerritories(m) => Change::Move {
                from: key(&m.from)?,
                to: key(&m.to)?,
                territories: m.territories.iter().cloned().collect(),
            },
            Wire::Threshold(t) => Change::Threshold(t.threshold),
            Wire::Succession(s) => Change::Succession {
                member: key(&s.member)?,
                last_seq: s.last_seq,
                successor: key(&s.successor)?,
                branch: if s.branch.is_empty() {
                    None
                } else {
                    Some(EventId::try_from(s.branch.as_slice()).map_err(|e| {
                        Rejection::BadEventRef {
                            field: Field::Change,
                            error: e.to_string(),
                        }
                    })?)
                },
            },
            Wire::Protocol(p) => Change::Protocol {
                version: p.version,
                switches: p
                    .switches
                    .iter()
                    .take(SWITCHES_MAX + 1)
                    .map(|w| Ok((key(&w.member)?, w.from_seq)))
                    .collect::<Result<Vec<_>, Rejection>>()?,
            },
        },
    )
}

/// More switches than this in a protocol change cannot name each hub once (the charter
/// bounds its members well below).
const SWITCHES_MAX: usize = 10_000;

/// A membership change's canonical bytes (docs/protocol.md §4d).
pub(super) fn encode_change(out: &mut super::digest::Canonical, change: &Change) {
    match change {
        Change::Admit {
            key,
            name,
            role,
            territories,
        } => {
            out.u8(1).hub(key).str(name).u8(match role {
                Role::Hub => 1,
                Role::Observer => 2,
            });
            let list: Vec<String> = territories.iter().cloned().collect();
            out.list(&list, |o, t| {
                o.str(t);
            });
        }
        Change::Remove { member, last_seq } => {
            out.u8(2).hub(member).u64(*last_seq);
        }
        Change::Move {
            from,
            to,
            territories,
        } => {
            out.u8(3).hub(from).hub(to);
            let list: Vec<String> = territories.iter().cloned().collect();
            out.list(&list, |o, t| {
                o.str(t);
            });
        }
        Change::Threshold(t) => {
            out.u8(4).u32(*t);
        }
        Change::Succession {
            member,
            last_seq,
            successor,
            branch,
        } => {
            out.u8(5)
                .hub(member)
                .u64(*last_seq)
                .hub(successor)
                .opt(branch.as_ref(), |o, b| {
                    o.id(b);
                });
        }
        Change::Protocol { version, switches } => {
            out.u8(6).u32(*version);
            out.list(switches, |o, (member, from_seq)| {
                o.hub(member).u64(*from_seq);
            });
        }
    }
}

/// Whether `threshold` distinct seats of `membership` (present hubs) endorsed `proposal` where
/// `contains` says which endorsements are known (the proposal counting as its author's).
fn reached(proposal: &Proposal, membership: &Membership, contains: &dyn Fn(Pos) -> bool) -> bool {
    if !contains(proposal.pos) {
        return false;
    }
    let mut rounds: Vec<u32> = proposal.endorsements.iter().map(|(_, _, r)| *r).collect();
    rounds.sort_unstable();
    rounds.dedup();
    rounds.into_iter().any(|round| {
        seats_in(proposal, round, membership, contains).len() as u32 >= membership.threshold
    })
}

/// The latest round of votes `proposal` has a vote in.
fn latest_round(proposal: &Proposal) -> u32 {
    (proposal.endorsements.iter())
        .map(|(_, _, r)| *r)
        .max()
        .unwrap_or(1)
}

/// The seats of the present hubs whose votes for `proposal` in `round` are known.
fn seats_in(
    proposal: &Proposal,
    round: u32,
    membership: &Membership,
    contains: &dyn Fn(Pos) -> bool,
) -> std::collections::BTreeSet<u32> {
    (proposal.endorsements.iter())
        .filter(|(endorser, at, r)| {
            *r == round && contains(*at) && membership.is_current_hub(endorser)
        })
        .filter_map(|(endorser, _, _)| membership.seat_index(endorser))
        .collect()
}

/// A vote of the key `change` stops counts only at or before the last seq it keeps
/// (`amendment.past_stop`): signed later, the stop it brings into effect would cut it.
fn check_before_stop(change: &Change, event: &VerifiedEvent) -> Result<(), Rejection> {
    match change.cut() {
        Some((key, last_seq, _)) if key == event.author && event.seq > last_seq => {
            Err(Rejection::AmendmentPastStop { last_seq })
        }
        _ => Ok(()),
    }
}
