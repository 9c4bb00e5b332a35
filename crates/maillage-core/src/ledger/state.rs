//! How the views are kept: hubs and persons by dense index, every state of every voucher in
//! one linked log, histories of the objects whose valid events form one causal chain. Nothing
//! here is read across nodes: the digest is computed from typed effects ([`super::effect`]).

use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet, BinaryHeap};

use serde::{Deserialize, Serialize};

use super::digest::Chains;
use super::lines::Lines;
use super::model::{Accompaniment, Batch, Claim, DomainRejection, Qualification, VoucherStatus};
use super::referral_rec::{Names, ReferralRec};
use crate::causal::{CausalIndex, Map, Past};
use crate::chunked::Chunked;
use crate::date::Day;
use crate::envelope::VerifiedEvent;
use crate::ids::{EventId, HubId};
use crate::lookup::ByPrefix;
use crate::person::PersonId;
use crate::venues::VenueDirectory;
use crate::vocab::Service;

/// What the redemption rules need to know of a venue at one point of its feed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(super) struct VenueSnapshot {
    pub(super) departement: String,
    pub(super) open: bool,
    pub(super) qualification: Option<Qualification>,
}

/// Where a state changed: a feed position by member index (the id is not needed to ask "is
/// it in this past?").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub(super) struct Pos {
    pub(super) feed: u32,
    pub(super) seq: u64,
}

impl Pos {
    /// The position of the event `past` belongs to.
    pub(super) fn of(event: &VerifiedEvent, past: &Past<'_>) -> Self {
        Self {
            feed: past.feed(),
            seq: event.seq,
        }
    }
}

pub(super) type History<S> = Vec<(Pos, S)>;

pub(super) fn as_of<'h, S>(history: &'h History<S>, past: &Past<'_>) -> Option<&'h S> {
    history
        .iter()
        .rev()
        .find(|(at, _)| past.contains_at(at.feed, at.seq))
        .map(|(_, s)| s)
}

/// No index (an absent person, the end of a voucher's history).
pub(super) const NONE: u32 = u32::MAX;

/// A voucher: its batch (index in `State::batch_info`) and its number.
pub(super) type VoucherKey = (u32, u32);

/// A voucher's state as the views keep it: hubs and persons by index, what is rare boxed.
/// [`VoucherState`] is its public form.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(super) struct Compact {
    /// Member index of the owner.
    pub(super) owner: u32,
    /// Index in `State::people`, or [`NONE`].
    pub(super) person: u32,
    pub(super) status: VoucherStatus,
    /// Handed to a person once (from the permanent event: whether this node holds the
    /// person's part or not).
    pub(super) handed_out: bool,
    /// Set by a redemption, kept by the states after it: in the state's own bytes (half the
    /// vouchers of a national federation are redeemed; a box each cost 80 bytes more).
    pub(super) redemption: Option<Redeemed>,
    pub(super) more: Option<Box<VoucherMore>>,
}

/// A [`Redemption`] as the views keep it: venue by number, service, day, and its event by
/// where the state it made is in the voucher log (the id is the causal index's at that
/// position: `Ledger::redemption_at`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub(super) struct Redeemed {
    /// Number in `State::names`.
    pub(super) venue: u32,
    pub(super) service: Service,
    pub(super) date: Day,
    /// Index in `State::voucher_log` of the state the redemption made.
    pub(super) rec: u32,
}

/// What few vouchers carry: answered claims, transfers, the claim a redemption answered.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(super) struct VoucherMore {
    pub(super) answered_claims: BTreeSet<EventId>,
    pub(super) transfers: Vec<HubId>,
    pub(super) redeemed_claim: Option<EventId>,
}

impl Compact {
    pub(super) fn issued(owner: u32) -> Self {
        Self {
            owner,
            person: NONE,
            status: VoucherStatus::Issued,
            handed_out: false,
            redemption: None,
            more: None,
        }
    }

    pub(super) fn answered(&self, claim: &EventId) -> bool {
        self.more
            .as_ref()
            .is_some_and(|m| m.answered_claims.contains(claim))
    }

    pub(super) fn more(&mut self) -> &mut VoucherMore {
        self.more.get_or_insert_with(Box::default)
    }
}

/// One state of one voucher. A voucher's states are linked from its latest (`prev`), so all
/// histories live in one vector instead of a vector each.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(super) struct VoucherRec {
    pub(super) seq: u64,
    pub(super) feed: u32,
    /// The voucher's previous state, or [`NONE`].
    pub(super) prev: u32,
    pub(super) batch: u32,
    pub(super) number: u32,
    pub(super) state: Compact,
}

/// A batch with what the rules read of it on every voucher event, dates parsed.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(super) struct BatchInfo {
    pub(super) batch: Batch,
    pub(super) issuer: u32,
    pub(super) at: Pos,
}

/// One personal part the views keep, and every link made through it (§5c): the vouchers it
/// hands out name it as their holder, the referral it opens names it as its person, and the
/// steps of those vouchers and referrals are its parcours lines. A person with several parts
/// has several records, chained newest first; each is erased on its own when its part passes
/// retention, all of them when the person is forgotten.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(super) struct PersonRec {
    /// `None` once the record was erased (forgotten, or expired): the index stays, so that
    /// voucher states naming it stay valid, and names no one.
    pub(super) id: Option<PersonId>,
    /// The day (from the HLC) of the part's event: retention counts from it.
    pub(super) day: i32,
    /// The event whose personal part this record is (erased with it).
    pub(super) part: EventId,
    /// The same person's previous record and next one (`NONE`: none), so that a record leaves
    /// the chain at once, however many the person has. Rebuilt when a snapshot is read.
    #[serde(skip)]
    pub(super) next: u32,
    #[serde(skip)]
    pub(super) newer: u32,
    /// Sorted (HLC, then event id).
    pub(super) parcours: Lines,
    /// The accompaniment the part records, if it is one.
    pub(super) accompaniment: Option<Box<Accompaniment>>,
}

/// The person the record at an index names (no one once erased): how `State::persons`
/// confirms a key.
pub(super) fn person_of(people: &Chunked<PersonRec>) -> impl Fn(u32) -> Option<PersonId> + '_ {
    move |index| people.get(index).and_then(|p| p.id)
}

/// The event whose part the record at an index is (kept once erased): how `State::part_of`
/// confirms a key.
pub(super) fn part_at(people: &Chunked<PersonRec>) -> impl Fn(u32) -> Option<EventId> + '_ {
    move |index| people.get(index).map(|p| p.part)
}

/// Each person's vouchers and referrals, as lists linked newest-first through two shared
/// vectors (one allocation for everyone, not one per person). Derived from the voucher log
/// and the referrals: not persisted, rebuilt when a snapshot is read.
#[derive(Debug, Default, Clone)]
pub(super) struct PersonLinks {
    /// By person index: the newest entry of `held`, then of `opened`, naming them.
    pub(super) heads: Vec<[u32; 2]>,
    /// A voucher whose state came to name a person, and the person's previous entry.
    pub(super) held: Vec<(VoucherKey, u32)>,
    /// A referral opened for a person (its id's span in `ids`), and their previous entry.
    pub(super) opened: Vec<((u32, u32), u32)>,
    /// The referral ids of `opened`, end to end.
    pub(super) ids: String,
}

impl PersonLinks {
    const HELD: usize = 0;
    const OPENED: usize = 1;

    /// Makes `entry` (at the end of its vector) the newest of the person's list `which`, and
    /// returns the entry it follows.
    pub(super) fn link(&mut self, person: u32, which: usize, entry: usize) -> u32 {
        let person = person as usize;
        if self.heads.len() <= person {
            self.heads.resize(person + 1, [NONE; 2]);
        }
        std::mem::replace(&mut self.heads[person][which], entry as u32)
    }

    /// A voucher's new state names `person`; `before` is who its previous state named.
    pub(super) fn hold(&mut self, key: VoucherKey, person: u32, before: u32) {
        if Self::links(person, before) {
            let next = self.link(person, Self::HELD, self.held.len());
            self.held.push((key, next));
        }
    }

    /// Whether a voucher state naming `person` after one naming `before` is a new entry.
    fn links(person: u32, before: u32) -> bool {
        person != NONE && person != before
    }

    /// A referral was opened for `person`.
    pub(super) fn open(&mut self, referral_id: &str, person: u32) {
        let next = self.link(person, Self::OPENED, self.opened.len());
        let span = (
            self.ids.len() as u32,
            (self.ids.len() + referral_id.len()) as u32,
        );
        self.ids.push_str(referral_id);
        self.opened.push((span, next));
    }

    /// The person's list `which`, newest first, as entry indices.
    pub(super) fn walk<T>(&self, person: u32, which: usize, list: &[(T, u32)]) -> Vec<usize> {
        let mut at = self.heads.get(person as usize).map_or(NONE, |h| h[which]);
        let mut out = Vec::new();
        while let Some((_, next)) = list.get(at as usize) {
            out.push(at as usize);
            at = *next;
        }
        out
    }

    pub(super) fn vouchers(&self, person: u32) -> impl Iterator<Item = &VoucherKey> {
        self.walk(person, Self::HELD, &self.held)
            .into_iter()
            .map(|i| &self.held[i].0)
    }

    pub(super) fn referrals(&self, person: u32) -> impl Iterator<Item = &str> {
        self.walk(person, Self::OPENED, &self.opened)
            .into_iter()
            .filter_map(|i| {
                let (start, end) = self.opened[i].0;
                self.ids.get(start as usize..end as usize)
            })
    }
}

/// Everything a ledger folds, persisted as a snapshot so a node reopens without re-folding
/// (in sections that decode side by side: [`super::sections`], which names every field). The
/// lookup maps are not persisted: they are rebuilt from the vectors they index.
#[derive(Debug, Default, Clone)]
pub(super) struct State {
    pub(super) causal: CausalIndex,
    pub(super) venues: VenueDirectory,
    pub(super) venue_history: Map<String, History<VenueSnapshot>>,
    /// Every batch, in issuing order.
    pub(super) batches: Vec<BatchInfo>,
    pub(super) batch_index: Map<String, u32>,
    /// Every state of every touched voucher.
    pub(super) voucher_log: Chunked<VoucherRec>,
    /// Touched voucher → its latest state in `voucher_log`.
    pub(super) vouchers: Map<VoucherKey, u32>,
    pub(super) claims: BTreeMap<EventId, Claim>,
    /// The claims on each serial (kept beside `claims`, rebuilt from it on load).
    pub(super) claims_by_serial: Map<String, BTreeSet<EventId>>,
    /// The claims nobody answered yet (kept beside `claims`, rebuilt from it on load).
    pub(super) unanswered_claims: BTreeSet<EventId>,
    pub(super) links: PersonLinks,
    pub(super) referrals: Map<String, ReferralRec>,
    /// Venue ids (of redemptions and referrals) and départements (of referrals), numbered.
    pub(super) names: Names,
    pub(super) people: Chunked<PersonRec>,
    /// Each person's newest record, by the person's first four bytes, confirmed by the
    /// record ([`person_of`]).
    pub(super) persons: ByPrefix<PersonId>,
    /// One-way names of forgotten people (`personal::forgotten_name`): their parts arriving
    /// later are erased on arrival, and the id itself is kept nowhere.
    pub(super) forgotten: BTreeSet<[u8; 32]>,
    /// Events whose personal part this node erased or must never keep (§5c).
    pub(super) dropped: BTreeSet<EventId>,
    /// Parts dropped since the node last took them ([`super::Ledger::take_erasures`]): the
    /// store erases them.
    pub(super) to_erase: Vec<EventId>,
    /// Parts past retention (docs/protocol.md §5c) or of rejected events since the node last
    /// took them: erased with `to_erase`, which the node may wait to do for a batch.
    pub(super) to_expire: Vec<EventId>,
    /// Event with a kept part → its record's index, by the id's first four bytes, confirmed
    /// by the record ([`part_at`]).
    pub(super) part_of: ByPrefix<EventId>,
    /// Each author's latest day (from the HLC of its applied events).
    pub(super) latest_day: BTreeMap<HubId, i64>,
    /// The log's day: the latest day reached by `k` authors (§5c).
    pub(super) log_day: i64,
    /// (day, record index) of every personal record kept, oldest first: a heap of 8-byte
    /// entries (a set's nodes cost three to four times that per record). An erasure leaves its
    /// records' entries behind; they are skipped when they come out.
    pub(super) expiry: BinaryHeap<Reverse<(i32, u32)>>,
    pub(super) rejections: BTreeMap<EventId, DomainRejection>,
    pub(super) settlements: BTreeMap<(HubId, String), u64>,
    /// Settled vouchers and where their settlement is (always in the issuer's feed, so
    /// "settled in an event's past" is a question of that feed only, whoever owns the voucher).
    pub(super) settled: Map<VoucherKey, Pos>,
    /// The digest's chains (docs/protocol.md §5).
    pub(super) chains: Chains,
    /// Charter amendments.
    pub(super) amendments: super::amendments::Amendments,
    /// Keys amendments added to the causal index, in order (after the founding members).
    pub(super) added_keys: Vec<HubId>,
    /// Keys frozen by amendments after their last seq that counts.
    pub(super) cuts: BTreeMap<HubId, super::amendments::Cut>,
    /// Feeds frozen by fork proofs (set by the node from its store before folding).
    pub(super) forks: BTreeMap<HubId, u64>,
    /// Events past a cut were applied: fold again (see `Ledger::needs_refold`).
    pub(super) needs_refold: bool,
    /// Keys an amendment brought in or stopped while an event was applied: the causal index
    /// is lent out then, so they join it (and are frozen) once the offer returns.
    pub(super) enacted: Vec<HubId>,
}

impl State {
    /// Rebuilds the lookup maps of the vouchers, batches and claims after their section of a
    /// snapshot is decoded.
    pub(super) fn reindex_vouchers(&mut self) {
        // The maps are sized first: grown by doubling, each would leave tables of half, a
        // quarter... its size behind, fresh pages the kernel zeroes for nothing.
        let mut claims_by_serial: Map<String, BTreeSet<EventId>> = Map::default();
        claims_by_serial.reserve(self.claims.len());
        for (id, claim) in &self.claims {
            claims_by_serial
                .entry(claim.serial.clone())
                .or_default()
                .insert(*id);
        }
        self.claims_by_serial = claims_by_serial;
        self.unanswered_claims = self
            .claims
            .iter()
            .filter(|(_, claim)| claim.accepted.is_none())
            .map(|(id, _)| *id)
            .collect();
        self.batch_index = self
            .batches
            .iter()
            .enumerate()
            .map(|(i, b)| (b.batch.batch_id.clone(), i as u32))
            .collect();
        let mut vouchers = Map::default();
        vouchers.reserve(self.voucher_log.len() as usize);
        for (i, rec) in self.voucher_log.iter().enumerate() {
            vouchers.insert((rec.batch, rec.number), i as u32);
        }
        self.vouchers = vouchers;
    }

    /// Rebuilds the people's lookup maps and their records' chains after their section of a
    /// snapshot is decoded.
    pub(super) fn reindex_people(&mut self) {
        self.names.reindex();
        // Each person's records are chained newest first: walked by index, each live record
        // becomes its person's newest and points to the one it replaces.
        let mut persons = ByPrefix::default();
        persons.reserve(self.people.len() as usize);
        let mut part_of = ByPrefix::default();
        part_of.reserve(self.people.len() as usize);
        let mut expiry = Vec::new();
        for i in 0..self.people.len() {
            let p = &self.people[i];
            let (id, day, part) = (p.id, p.day, p.part);
            let mut next = NONE;
            if let Some(id) = id {
                next = persons
                    .insert(id, i, person_of(&self.people))
                    .unwrap_or(NONE);
                expiry.push(Reverse((day, i)));
                part_of.insert(part, i, part_at(&self.people));
                if next != NONE {
                    self.people[next].newer = i;
                }
            }
            let p = &mut self.people[i];
            p.next = next;
            p.newer = NONE;
        }
        self.persons = persons;
        self.part_of = part_of;
        self.expiry = BinaryHeap::from(expiry);
    }

    /// Rebuilds each person's vouchers and referrals once every section is decoded.
    pub(super) fn relink(&mut self) {
        // The links' vectors are sized first too (grown by doubling, up to half of each is
        // room never used).
        let mut links = PersonLinks {
            heads: vec![[NONE; 2]; self.people.len() as usize],
            ..PersonLinks::default()
        };
        let held = (0..self.voucher_log.len())
            .filter(|&i| {
                let rec = &self.voucher_log[i];
                PersonLinks::links(rec.state.person, self.person_before(rec.prev))
            })
            .count();
        links.held.reserve_exact(held);
        for i in 0..self.voucher_log.len() {
            let rec = &self.voucher_log[i];
            links.hold(
                (rec.batch, rec.number),
                rec.state.person,
                self.person_before(rec.prev),
            );
        }
        // Each person's referrals in id order, as when the map is walked in key order, but
        // sorted by person first: millions of ids are not compared with one another.
        let opened = self.referrals.collect_sorted(|(id, rec)| {
            let person = rec.opened.person;
            let named = self.people.get(person)?.id.is_some();
            named.then_some((person, id.as_str()))
        });
        links.opened.reserve_exact(opened.len());
        links
            .ids
            .reserve_exact(opened.iter().map(|(_, id)| id.len()).sum());
        for (person, id) in opened {
            links.open(id, person);
        }
        self.links = links;
    }

    /// The person the voucher state at `prev` names (`NONE` for no state or no person).
    pub(super) fn person_before(&self, prev: u32) -> u32 {
        if prev == NONE {
            NONE
        } else {
            self.voucher_log[prev].state.person
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A national federation keeps tens of millions of voucher states: a redemption lives in
    /// the state's own bytes, never in a box of its own.
    #[test]
    fn a_voucher_state_stays_small() {
        assert_eq!(std::mem::size_of::<Option<Redeemed>>(), 16);
        assert!(
            std::mem::size_of::<Compact>() <= 40,
            "{}",
            std::mem::size_of::<Compact>()
        );
        assert!(
            std::mem::size_of::<VoucherRec>() <= 64,
            "{}",
            std::mem::size_of::<VoucherRec>()
        );
    }
}
