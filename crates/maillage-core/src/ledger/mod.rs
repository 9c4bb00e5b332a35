//! The deterministic fold of the federation's events into views (protocol sections 4 and 5).
//!
//! Events reach [`Ledger::offer`] in any order; [`CausalIndex`] applies each one after its
//! causal past. Every rule is evaluated against that past only:
//! - objects whose valid events form one causal chain (a voucher, a referral, a venue) keep a
//!   history `(author, seq, state after)`; the state "as of" a past is the last entry in it;
//! - each rule is a pure check (`check_*`, `&self`) that lists what it checks and returns
//!   either the [`effect::Effect`] of the event or the [`Rejection`] it breaks; the effect is
//!   then made by [`Ledger::commit`]. [`Ledger::evaluate`] runs the same checks on a draft
//!   and changes nothing;
//! - an event breaking a rule stays in the log and becomes a [`DomainRejection`] with the
//!   rule's code, the same on every node.
//!
//! Why a voucher's valid events form one chain: only its owner may change it, ownership moves
//! only by `VoucherTransferred` from the current owner, and the receiver may act only in events
//! whose past holds the transfer. Two owner events on one voucher are therefore causally
//! ordered, and a second redemption is rejected because the first is in its past. Double
//! spending would need the owner to sign two events at one seq: a fork, frozen on sight.
//!
//! Nothing here reads a clock, and no output depends on a hash map's order: lookups go through
//! [`LookupMap`](crate::lookup::LookupMap), which is only walked in key order.
//!
//! The rules by aggregate: [`venue_rules`] (qualifications; the directory is
//! [`crate::venues`]), [`vouchers`] (batches, hand-outs, redemptions, transfers, cancellations,
//! settlements), [`claims`], [`referrals`], [`people`] (accompaniments, erasure); what readers
//! get is in [`read`], the digest in [`digest`].

use std::io::Read;
use std::sync::Arc;

use maillage_proto::v1 as pb;

use crate::causal::{CausalIndex, Members, Offer, Past};
use crate::charter::Charter;
use crate::envelope::{EventRef, VerifiedEvent};
use crate::ids::{EventId, HubId};
use crate::person::PersonId;
use crate::rejection::Rejection;

mod amendments;
mod claims;
pub mod digest;
mod effect;
mod fields;
mod lines;
mod model;
mod people;
mod read;
mod referral_rec;
mod referrals;
mod sections;
mod sink;
mod source;
mod state;
mod venue_rules;
mod vouchers;

pub use amendments::{AmendmentView, Cut};
pub use digest::{DIGEST_TAG, VIEWS};
pub use model::{
    Accompaniment, Batch, Claim, DomainRejection, Evaluation, ParcoursEntry, ParcoursKind,
    Qualification, Redemption, Referral, ReferralStatus, StepDetail, VoucherState, VoucherStatus,
};
pub use read::{VenueQuery, distance_km, record_departement};

use effect::Effect;
use lines::Line;
use state::{NONE, Pos, State, VenueSnapshot};

/// Events waiting for their causal past, at most.
pub const PENDING_EVENTS_MAX: usize = 100_000;
/// Vouchers per batch, at most.
pub const BATCH_VOUCHERS_MAX: u32 = 100_000;
/// Serials in one event, at most.
pub const SERIALS_PER_EVENT_MAX: usize = 1_000;
/// Default lifetime of an open referral, in days.
pub const REFERRAL_DAYS_DEFAULT: i32 = 30;
/// First bytes of a view snapshot (bump the version when `State` changes shape, or when a fix
/// changes what folding the same events gives: views saved before it are folded again from the
/// store on first open). 7: a key an amendment admits is numbered as the amendment takes
/// effect, so a transfer to it waiting for the admission is no longer refused. 8: a stop holds
/// for events that waited when it came (a stopped key's own events past it are not applied,
/// deps on them count as naming its last seq). 9: the keys and stops of an amendment that lost
/// its number to a concurrent proposal hold too, the earliest of two stops of a key holding.
/// 10: each vote on an amendment records its round. 11: a referral is kept as its opening and
/// what each step changed, people in chunks. 12: a parcours line names its event by feed
/// position, not by id. 13: an erasure that came before an event it names forgets the person
/// when the event comes. 14: redemptions name their venue in the referrals' table of names.
/// 15: a record per personal part, retention counted from each part (§5c). 16: in sections
/// that decode side by side, each starting with these bytes, the federation and its number.
/// 17: a redemption is kept in its voucher's state, its event by the place of that state. 18: a
/// feed's clock snapshots as the entries each changed.
pub const SNAPSHOT_MAGIC: &[u8; 16] = b"MAILLAGE-VIEWS18";
pub use sections::SECTIONS as SNAPSHOT_SECTIONS;

/// One section of a view snapshot, decoded ([`Ledger::read_section`]): a snapshot's sections
/// decode independently, side by side, and [`Ledger::from_sections`] joins them.
#[derive(Debug)]
pub struct SnapshotSection {
    index: usize,
    state: Box<State>,
}

/// The folded state of every feed. Cloning copies the views (a running node lends its views
/// to the commands it runs; the CSV export takes a copy so replication goes on meanwhile).
#[derive(Debug, Clone)]
pub struct Ledger {
    charter: Arc<Charter>,
    members: Arc<Members>,
    s: State,
}

impl Ledger {
    /// An empty ledger for a federation.
    pub fn new(charter: Arc<Charter>) -> Self {
        Self::with_pending_max(charter, PENDING_EVENTS_MAX)
    }

    /// An empty ledger whose buffer of events waiting for their causal past holds at most
    /// `max` of them (a node's holds [`PENDING_EVENTS_MAX`]; tests make it small).
    pub fn with_pending_max(charter: Arc<Charter>, max: usize) -> Self {
        let members = Arc::new(Members::new(charter.members().keys().copied()));
        let s = State {
            causal: CausalIndex::new(members.clone(), max),
            ..State::default()
        };
        let mut ledger = Self {
            charter,
            members,
            s,
        };
        ledger.ensure_founding();
        ledger
    }

    /// The folded state as bytes (postcard), bound to the federation and the snapshot format.
    /// Events still waiting for their causal past are not included: they are in the store.
    pub fn to_snapshot(&self) -> Result<Vec<u8>, String> {
        let mut bytes = Vec::new();
        self.write_snapshot(&mut |piece| {
            bytes.extend_from_slice(piece);
            Ok(())
        })
        .map_err(|e| e.to_string())?;
        Ok(bytes)
    }

    /// [`Ledger::to_snapshot`]'s bytes handed to `out` in pieces of about a mebibyte, never
    /// held whole (a node saving the views of millions of events): every section in order.
    /// The first error `out` returns stops the encoding and is returned.
    pub fn write_snapshot(
        &self,
        out: &mut dyn FnMut(&[u8]) -> std::io::Result<()>,
    ) -> std::io::Result<()> {
        (0..SNAPSHOT_SECTIONS).try_for_each(|index| self.write_section(index, out))
    }

    /// Section `index` (below [`SNAPSHOT_SECTIONS`]) of the snapshot, as
    /// [`Ledger::write_snapshot`] writes it.
    pub fn write_section(
        &self,
        index: usize,
        out: &mut dyn FnMut(&[u8]) -> std::io::Result<()>,
    ) -> std::io::Result<()> {
        out(SNAPSHOT_MAGIC)?;
        out(self.charter.federation_id().as_bytes())?;
        out(&[index as u8])?;
        self.s.encode_section(index, out)
    }

    /// A ledger from [`Ledger::to_snapshot`] bytes of the same federation and format.
    pub fn from_snapshot(charter: Arc<Charter>, bytes: &[u8]) -> Result<Self, String> {
        Self::read_snapshot(charter, &mut &bytes[..])
    }

    /// [`Ledger::from_snapshot`] reading the bytes from `input` a piece at a time, never
    /// holding them whole (a node opening the views of millions of events), each section in
    /// turn. Up to a piece of the bytes after the snapshot may be read too.
    pub fn read_snapshot(charter: Arc<Charter>, input: &mut dyn Read) -> Result<Self, String> {
        let mut sections = Vec::with_capacity(SNAPSHOT_SECTIONS);
        // A section's decoding reads ahead: what it read past its end starts the next one.
        let mut rest = Vec::new();
        for index in 0..SNAPSHOT_SECTIONS {
            let mut next = std::io::Cursor::new(std::mem::take(&mut rest)).chain(&mut *input);
            let (section, past) = Self::read_section_leaving(&charter, index, &mut next)?;
            sections.push(section);
            rest = past;
        }
        Self::from_sections(charter, sections)
    }

    /// Section `index` of a snapshot of `charter`'s federation, read from `input` as
    /// [`Ledger::write_section`] wrote it. The decoding reads ahead: `input` should hold that
    /// section alone (bytes past it are read and dropped).
    pub fn read_section(
        charter: &Charter,
        index: usize,
        input: &mut dyn Read,
    ) -> Result<SnapshotSection, String> {
        Self::read_section_leaving(charter, index, input).map(|(section, _)| section)
    }

    /// [`Ledger::read_section`], and the bytes read past the section.
    fn read_section_leaving(
        charter: &Charter,
        index: usize,
        input: &mut dyn Read,
    ) -> Result<(SnapshotSection, Vec<u8>), String> {
        let mut header = [0u8; SNAPSHOT_MAGIC.len() + 32 + 1];
        input
            .read_exact(&mut header)
            .map_err(|_| "not a view snapshot of this version".to_string())?;
        let (magic, rest) = header.split_at(SNAPSHOT_MAGIC.len());
        let (federation, number) = rest.split_at(32);
        if magic != SNAPSHOT_MAGIC {
            return Err("not a view snapshot of this version".into());
        }
        if federation != charter.federation_id().0 {
            return Err("the snapshot belongs to another federation".into());
        }
        if usize::from(number[0]) != index {
            return Err(format!(
                "views section {} where section {index} was expected",
                number[0]
            ));
        }
        let (state, rest) = State::decode_section(index, input)
            .map_err(|e| format!("snapshot section {index} {e}"))?;
        let section = SnapshotSection {
            index,
            state: Box::new(state),
        };
        Ok((section, rest))
    }

    /// The ledger made of a snapshot's sections, each read with [`Ledger::read_section`] (in
    /// any order, on any thread).
    pub fn from_sections(
        charter: Arc<Charter>,
        mut sections: Vec<SnapshotSection>,
    ) -> Result<Self, String> {
        sections.sort_by_key(|section| section.index);
        if !sections.iter().map(|s| s.index).eq(0..SNAPSHOT_SECTIONS) {
            return Err("the snapshot's sections are not all there, each once".into());
        }
        let mut s = State::join(sections.into_iter().map(|s| *s.state).collect())?;
        let members = Arc::new(Members::new(
            charter
                .members()
                .keys()
                .copied()
                .chain(s.added_keys.iter().copied()),
        ));
        s.causal.restore(members.clone(), PENDING_EVENTS_MAX)?;
        let mut ledger = Self {
            charter,
            members,
            s,
        };
        ledger.restore_amendments();
        Ok(ledger)
    }

    /// Offers one verified, stored event (any order); applies it and everything that waited
    /// for it once their causal pasts are applied.
    pub fn offer(&mut self, event: VerifiedEvent) -> Offer {
        let vacant = CausalIndex::vacant(self.members.clone());
        let mut causal = std::mem::replace(&mut self.s.causal, vacant);
        let outcome = causal.offer(event, &mut |event, past| self.apply(event, past));
        self.s.causal = causal;
        self.settle_enacted();
        outcome
    }

    /// The applied heads of the other feeds that advanced beyond what `author`'s last event
    /// had in its past: the deps that would make a new event's past everything these views
    /// hold. Unbounded: [`Ledger::plan`] picks the few an event names.
    pub fn next_deps(&self, author: &HubId) -> Vec<EventRef> {
        self.s.causal.next_deps(author)
    }

    /// The feeds a new event of `author` with `body` relies on: those of `relies_on` (authors
    /// of events it must have in its past: the transfer it redeems) and the author of any
    /// event `body` names (the claim it answers).
    fn relied_feeds(body: &pb::event::Body, relies_on: &[HubId]) -> Vec<HubId> {
        let mut first = relies_on.to_vec();
        let named = match body {
            pb::event::Body::VoucherRedeemed(r) => r.claim.as_ref(),
            pb::event::Body::VoucherClaimRejected(r) => r.claim.as_ref(),
            _ => None,
        };
        if let Some(author) = named.and_then(|r| HubId::try_from(r.author.as_slice()).ok()) {
            first.push(author);
        }
        first
    }

    /// The deps [`Ledger::plan`] tries first, without judging the event: the heads of the
    /// feeds it relies on, and one more advanced head, rotating with the seq. What a hub that
    /// signs without judging names (the simulator's misbehaving hubs).
    pub fn deps_without_judging(
        &self,
        author: &HubId,
        body: &pb::event::Body,
        relies_on: &[HubId],
    ) -> Vec<EventRef> {
        let first = Self::relied_feeds(body, relies_on);
        let advanced = self.s.causal.next_deps(author);
        self.few_deps(author, &advanced, &first)
    }

    fn few_deps(&self, author: &HubId, advanced: &[EventRef], first: &[HubId]) -> Vec<EventRef> {
        let mut chosen: Vec<EventRef> = advanced
            .iter()
            .filter(|d| first.contains(&d.author))
            .take(crate::envelope::DEPS_MAX - 1)
            .copied()
            .collect();
        let others: Vec<&EventRef> = advanced
            .iter()
            .filter(|d| !first.contains(&d.author))
            .collect();
        if !others.is_empty() {
            let seq = self.s.causal.applied_seq(author).unwrap_or(0) + 1;
            let turn = usize::try_from(seq).unwrap_or(0) % others.len();
            chosen.push(*others[turn]);
        }
        chosen.sort_by_key(|d| d.author);
        chosen
    }

    /// The deps a new event of `author` with `body` names, with the rules' verdict on it
    /// (protocol §3, "Choosing deps"). An honest node signs only an [`Evaluation::Accepted`]
    /// plan, and then:
    /// - these views accept the event as a whole: judged with every advanced head as a dep,
    ///   its past is everything they hold;
    /// - its few deps give it a past in which the rules accept it too: the heads of the feeds
    ///   it relies on and one more head (rotating with the seq, so that pasts keep growing),
    ///   or, when the rules need more, the smallest set found by dropping advanced heads one by
    ///   one while the rules still accept. At most [`crate::envelope::DEPS_MAX`].
    pub fn plan(
        &self,
        author: HubId,
        hlc: u64,
        body: &pb::event::Body,
        relies_on: &[HubId],
    ) -> (Vec<EventRef>, Evaluation) {
        let first = Self::relied_feeds(body, relies_on);
        let advanced = self.s.causal.next_deps(&author);
        let chosen = self.few_deps(&author, &advanced, &first);
        let whole = self.evaluate(author, hlc, &advanced, body);
        if whole != Evaluation::Accepted {
            return (chosen, whole);
        }
        if self.evaluate(author, hlc, &chosen, body) == Evaluation::Accepted {
            return (chosen, Evaluation::Accepted);
        }
        let max = crate::envelope::DEPS_MAX;
        // The rules need more of the past: drop what they accept without, the feeds the event
        // does not rely on first.
        let mut order = advanced.clone();
        order.sort_by_key(|d| first.contains(&d.author));
        let mut needed = advanced;
        for dep in order {
            let without: Vec<EventRef> = needed.iter().filter(|d| **d != dep).copied().collect();
            if self.evaluate(author, hlc, &without, body) == Evaluation::Accepted {
                needed = without;
            }
        }
        needed.sort_by_key(|d| d.author);
        if needed.len() <= max {
            return (needed, Evaluation::Accepted);
        }
        let found = needed.len();
        (
            needed,
            Evaluation::Invalid(format!(
                "the rules accept this event only with {found} feeds in its past, more than \
                 the {max} deps an event names: wait until other hubs' events cover them"
            )),
        )
    }

    /// What the rules say of `body` as the next event of `author` with `deps` and `hlc`,
    /// judged against these views exactly as they would judge it once signed (the same
    /// checks), without changing anything. An honest node evaluates every event before
    /// signing it and signs only what its own views accept.
    pub fn evaluate(
        &self,
        author: HubId,
        hlc: u64,
        deps: &[EventRef],
        body: &pb::event::Body,
    ) -> Evaluation {
        let federation = self.charter.federation_id();
        let verdict = self
            .s
            .causal
            .with_next_past(&author, deps, |seq, prev, past| {
                let header = crate::envelope::Header {
                    federation,
                    seq,
                    prev,
                    hlc,
                    deps: deps.to_vec(),
                };
                match crate::envelope::unsigned_draft(author, header, body.clone()) {
                    Ok(draft) => match self.check(&draft, past) {
                        Ok(_) => Evaluation::Accepted,
                        Err(rejection) => Evaluation::Rejected(rejection),
                    },
                    Err(error) => Evaluation::Invalid(error.to_string()),
                }
            });
        verdict.unwrap_or(Evaluation::Waiting)
    }

    /// Freezes a feed after a fork (see [`CausalIndex::freeze`]): call it for every fork
    /// proof the store holds before folding into a fresh ledger.
    pub fn freeze(&mut self, author: HubId, valid_until: u64) {
        self.s.forks.insert(author, valid_until);
        self.apply_freeze(author);
    }

    /// Applies one event whose causal past is applied: its effect if the rules accept it,
    /// else its rejection; either way its author's chain of the view moves on.
    fn apply(&mut self, event: &VerifiedEvent, past: &Past<'_>) {
        self.apply_rules(event, past);
        // Then the log's day moves on, and links that expired with it are erased (§5c).
        self.advance_day(event.author, people::event_day(event.hlc));
    }

    fn apply_rules(&mut self, event: &VerifiedEvent, past: &Past<'_>) {
        let feed = past.feed();
        match self.check(event, past) {
            Ok(effect) => {
                let bytes = self.encode(&effect);
                self.s
                    .chains
                    .extend(feed, effect.view(), &event.id, bytes.bytes());
                self.commit(effect, event, past);
            }
            Err(rejection) => {
                if event.personal.is_some() {
                    // A rejected event links no one: its part is not kept (erased with the
                    // parts past retention: a member's rejected events cannot make the node
                    // rewrite its parts file at every batch).
                    self.drop_part(event.id, true);
                }
                let mut bytes = digest::Canonical::new(0xFF);
                bytes.str(rejection.code());
                self.s
                    .chains
                    .extend(feed, digest::View::Rejections, &event.id, bytes.bytes());
                self.s.rejections.insert(
                    event.id,
                    DomainRejection {
                        event: event.id,
                        author: event.author,
                        seq: event.seq,
                        rejection,
                    },
                );
            }
        }
    }

    /// The rules: what `event` does given its causal past `past`, or the rule it breaks.
    fn check(&self, event: &VerifiedEvent, past: &Past<'_>) -> Result<Effect, Rejection> {
        use pb::event::Body;
        let membership = self.membership_in(past);
        // Every event's author is a present member's current key in its causal past.
        if !membership.is_current(&event.author) {
            return Err(Rejection::NotCurrentMember { key: event.author });
        }
        // Every event follows the protocol version its causal past expects of its author at
        // its seq (§0: a protocol change in effect there moves it on from its `from_seq`).
        let expected = membership.expected_version(&event.author, event.seq);
        if event.version != expected {
            return Err(Rejection::EventVersion {
                expected,
                found: event.version,
            });
        }
        if let Some(venue) = self.s.venues.check(event, &membership) {
            return venue.map(Effect::Venue);
        }
        match &event.body {
            // A body kind of a later version: stored and forwarded, not applied.
            None => Ok(Effect::Unknown),
            Some(
                Body::VenueRegistered(_)
                | Body::VenueUpdated(_)
                | Body::VenueClosed(_)
                | Body::VenueReopened(_),
            ) => Ok(Effect::Unknown),
            Some(Body::VenueQualified(q)) => self.check_qualify(q, event, past),
            Some(Body::VenueQualificationRevoked(r)) => self.check_revoke(r, event, past),
            Some(Body::VoucherBatchIssued(b)) => self.check_issue(b, event, past),
            Some(Body::VouchersHandedOut(h)) => self.check_hand_out(h, past),
            Some(Body::VoucherRedeemed(r)) => self.check_redeem(r, past),
            Some(Body::VoucherTransferred(t)) => self.check_transfer(t, event, past),
            Some(Body::VoucherClaimed(c)) => self.check_claim(c, event, past),
            Some(Body::VoucherClaimRejected(r)) => self.check_reject_claim(r, past),
            Some(Body::VoucherCancelled(c)) => self.check_cancel(c, past),
            Some(Body::RedemptionsSettled(s)) => self.check_settle(s, event, past),
            Some(Body::ReferralOpened(o)) => self.check_open_referral(o, event, past),
            Some(Body::ReferralAccepted(a)) => {
                self.check_referral_step(&a.referral_id, event, past, referrals::Step::Accept(a))
            }
            Some(Body::ReferralDeclined(d)) => {
                self.check_referral_step(&d.referral_id, event, past, referrals::Step::Decline(d))
            }
            Some(Body::ReferralForwarded(f)) => {
                self.check_referral_step(&f.referral_id, event, past, referrals::Step::Forward(f))
            }
            Some(Body::ReferralClosed(c)) => {
                self.check_referral_step(&c.referral_id, event, past, referrals::Step::Close(c))
            }
            Some(Body::AccompanimentRecorded(a)) => self.check_accompaniment(a, event, past),
            Some(Body::PersonForgotten(f)) => self.check_forget(f),
            Some(Body::AmendmentProposed(a)) => self.check_propose(a, event, past),
            Some(Body::AmendmentEndorsed(e)) => self.check_endorse(e, event, past),
        }
    }

    // ----- shared by the rules and their effects --------------------------------------------

    /// Records a venue's new state (after its directory change, or a qualification change).
    fn snapshot_venue(&mut self, venue_id: &str, at: Pos, change: impl FnOnce(&mut VenueSnapshot)) {
        let Some(venue) = self.s.venues.get(venue_id) else {
            return;
        };
        let previous = self
            .venue_now(venue_id)
            .and_then(|s| s.qualification.clone());
        let mut snapshot = VenueSnapshot {
            departement: venue.departement.clone(),
            open: venue.closed.is_none(),
            qualification: previous,
        };
        change(&mut snapshot);
        self.s
            .venue_history
            .entry(venue_id.to_owned())
            .or_default()
            .push((at, snapshot));
    }

    fn venue_now(&self, venue_id: &str) -> Option<&VenueSnapshot> {
        self.s
            .venue_history
            .get(venue_id)
            .and_then(|h| h.last())
            .map(|(_, s)| s)
    }

    /// A new record for `person`'s part in `part`, dated `day`: the person's newest.
    fn new_record(&mut self, person: PersonId, part: EventId, day: i32) -> u32 {
        let index = self.s.people.len();
        let next = (self.s.persons)
            .insert(person, index, state::person_of(&self.s.people))
            .unwrap_or(NONE);
        if next != NONE {
            self.s.people[next].newer = index;
        }
        self.s.people.push(state::PersonRec {
            id: Some(person),
            day,
            part,
            next,
            newer: NONE,
            parcours: lines::Lines::default(),
            accompaniment: None,
        });
        index
    }

    /// The indices of `person`'s records kept, newest first.
    fn records(&self, person: &PersonId) -> impl Iterator<Item = u32> + '_ {
        let mut at = (self.s.persons)
            .get(person, state::person_of(&self.s.people))
            .unwrap_or(NONE);
        std::iter::from_fn(move || {
            let rec = self.s.people.get(at)?;
            let this = at;
            at = rec.next;
            Some(this)
        })
    }

    /// The person at an index, while their links are kept.
    fn person_id(&self, index: u32) -> Option<PersonId> {
        self.s.people.get(index).and_then(|p| p.id)
    }

    /// Adds a step to the parcours of the record at `index` (`NONE`, or a record erased:
    /// nothing).
    fn trace(&mut self, index: u32, event: &VerifiedEvent, past: &Past<'_>, detail: StepDetail) {
        if self.person_id(index).is_none() {
            return;
        }
        let entry = Line {
            hlc: event.hlc,
            hub: past.feed(),
            seq: event.seq,
            detail,
        };
        // The event being applied is not yet among the applied ones; every other line's is.
        let id_at = |hub: u32, seq: u64| {
            if (hub, seq) == (past.feed(), event.seq) {
                event.id
            } else {
                past.applied_id(hub, seq).unwrap_or(EventId([0; 32]))
            }
        };
        self.s.people[index].parcours.insert(entry, &id_at);
    }

    fn hub_name(&self, hub: &HubId) -> String {
        self.membership()
            .name(hub)
            .map_or_else(|| hub.short(), str::to_owned)
    }
}
