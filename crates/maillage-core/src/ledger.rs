//! The deterministic fold of the federation's events into views (protocol sections 4 and 5).
//!
//! Events reach [`Ledger::offer`] in any order; [`CausalIndex`] applies each one after its
//! causal past. Every rule is evaluated against that past only:
//! - objects whose valid events form one causal chain (a voucher, a referral, a venue) keep a
//!   history `(author, seq, state after)`; the state "as of" a past is the last entry in it;
//! - an event breaking a rule stays in the log and becomes a [`DomainRejection`] with a
//!   precise reason, the same on every node.
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
//! Hubs and persons are held by dense index (members in charter order, persons in order of
//! appearance) and a voucher's states are linked in one log, so a million events fold into
//! a few hundred MiB instead of several allocations for every voucher state.
//!
//! Size: the fold is one state machine: every body kind's rule reads and writes the same views
//! (venues, vouchers, claims, referrals), and the dry run (`evaluate`) must take exactly the same
//! code path; the file is ordered by body kind.

use std::collections::{BTreeMap, BTreeSet};

use maillage_proto::v1 as pb;
use serde::{Deserialize, Serialize};

use crate::causal::{CausalIndex, Map, Members, Offer, Past};
use crate::charter::{Charter, Role};
use crate::chunked::Chunked;
use crate::crypto::tagged_sha256;
use crate::date::{day_of_millis, format_date, parse_date};
use crate::envelope::{EventRef, VerifiedEvent};
use crate::hlc::hlc_millis;
use crate::ids::{EventId, HubId};
use crate::person::PersonId;
use crate::territory::departement_of;
use crate::venues::{DomainRejection, VenueDirectory};

/// Events waiting for their causal past, at most.
pub const PENDING_EVENTS_MAX: usize = 100_000;
/// Vouchers per batch, at most.
pub const BATCH_VOUCHERS_MAX: u32 = 100_000;
/// Serials in one event, at most.
pub const SERIALS_PER_EVENT_MAX: usize = 1_000;
/// Default lifetime of an open referral.
pub const REFERRAL_DAYS_DEFAULT: i32 = 30;
/// First bytes of a view snapshot (bump the version when `State` changes shape).
pub const SNAPSHOT_MAGIC: &[u8; 16] = b"MAILLAGE-VIEWS2\n";
/// Domain tag of the state digest.
pub const DIGEST_TAG: &[u8] = b"maillage/v1/state-digest\0";

/// The v1 services a voucher or qualification may name.
pub const SERVICES: [&str; 9] = [
    "Aide aux démarches administratives",
    "Maîtrise des outils numériques du quotidien",
    "Insertion professionnelle via le numérique",
    "Utilisation sécurisée du numérique",
    "Parentalité et éducation avec le numérique",
    "Loisirs et créations numériques",
    "Compréhension du monde numérique",
    "Accès internet et matériel informatique",
    "Acquisition de matériel informatique à prix solidaire",
];

/// Prescriber kinds.
pub const PRESCRIBER_KINDS: [&str; 11] = [
    "CAF", "FT", "CCAS", "MUNI", "DEPT", "ML", "LA_POSTE", "RFS", "ASSO", "SPIP", "AUTRE",
];

/// A venue's qualification for vouchers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Qualification {
    /// e.g. "pass-numerique".
    pub scheme: String,
    /// Last day of validity.
    pub valid_until: String,
    /// Services it may redeem vouchers for.
    pub services: Vec<String>,
    /// The qualifying event.
    pub event: EventId,
}

/// What the redemption rules need to know of a venue at one point of its feed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct VenueSnapshot {
    departement: String,
    open: bool,
    qualification: Option<Qualification>,
}

/// A batch of vouchers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Batch {
    /// Its id.
    pub batch_id: String,
    /// The issuing hub (first owner, payer of settlements).
    pub issuer: HubId,
    /// Issuing event position.
    pub issued_at: EventRef,
    /// Funder name.
    pub funder: String,
    /// Funder SIRET.
    pub funder_siret: String,
    /// Face value of one voucher.
    pub face_value_cents: u64,
    /// Vouchers in the batch.
    pub count: u32,
    /// First valid day.
    pub valid_from: String,
    /// Last valid day.
    pub valid_until: String,
    /// Last day to redeem.
    pub redeem_deadline: String,
    /// Services (empty: any).
    pub eligible_services: Vec<String>,
    /// Départements (empty: any).
    pub territories: Vec<String>,
}

/// A voucher's status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VoucherStatus {
    /// Issued, not yet handed to anyone.
    Issued,
    /// In a person's carnet.
    HandedOut,
    /// Used at a venue.
    Redeemed,
    /// Withdrawn by the owner.
    Cancelled,
}

/// A redemption.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Redemption {
    /// Where.
    pub venue_id: String,
    /// For what.
    pub service: String,
    /// When.
    pub date: String,
    /// The redeeming event.
    pub event: EventId,
    /// The claim it answers, if any.
    pub claim: Option<EventId>,
}

/// A voucher's state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VoucherState {
    /// The one hub that may change it.
    pub owner: HubId,
    /// Status.
    pub status: VoucherStatus,
    /// Who holds it (after hand-out).
    pub person: Option<PersonId>,
    /// Its redemption.
    /// Boxed: most states in a history are not redeemed, and this keeps them small.
    pub redemption: Option<Box<Redemption>>,
    /// Settled to the venue.
    pub settled: bool,
    /// Claims answered (accepted or rejected) by the owner.
    pub answered_claims: BTreeSet<EventId>,
    /// Hubs it was transferred through.
    pub transfers: Vec<HubId>,
}

impl VoucherState {
    /// A voucher as its batch issues it: owned by the issuer, in no one's hands.
    pub fn issued(issuer: HubId) -> Self {
        Self {
            owner: issuer,
            status: VoucherStatus::Issued,
            person: None,
            redemption: None,
            settled: false,
            answered_claims: BTreeSet::new(),
            transfers: Vec::new(),
        }
    }
}

/// A non-owner's claim on a voucher.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claim {
    /// The claiming event.
    pub event: EventId,
    /// Claiming hub.
    pub claimant: HubId,
    /// Voucher.
    pub serial: String,
    /// Venue that accepted it.
    pub venue_id: String,
    /// Service.
    pub service: String,
    /// Date.
    pub date: String,
    /// The owner's answer: `Some(true)` accepted, `Some(false)` rejected.
    pub accepted: Option<bool>,
    /// Why it was rejected.
    pub rejection: Option<String>,
    /// The claiming event's position.
    pub at: EventRef,
}

/// A referral's status.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReferralStatus {
    /// Waiting for the handling hub.
    Open,
    /// A venue accepted the person.
    Accepted,
    /// The handling hub declined.
    Declined,
    /// Closed with an outcome.
    Closed {
        /// completed | no_show | abandoned.
        outcome: String,
    },
}

/// A referral's state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Referral {
    /// Its id.
    pub referral_id: String,
    /// The person.
    pub person: PersonId,
    /// Who referred.
    pub prescriber_kind: String,
    /// The desk.
    pub prescriber_name: String,
    /// The hub that opened it.
    pub opened_by: HubId,
    /// The hub handling it now.
    pub handler: HubId,
    /// Needs (services).
    pub needs: Vec<String>,
    /// Target venue (if any).
    pub target_venue_id: String,
    /// Target département.
    pub target_territory: String,
    /// Opening day.
    pub opened_on: String,
    /// Expiry day if still open.
    pub expires_on: String,
    /// Status.
    pub status: ReferralStatus,
    /// Venue that accepted.
    pub venue_id: String,
    /// Acceptance day.
    pub accepted_on: String,
    /// Autonomy at closing.
    pub autonomy: String,
}

/// The kind of a parcours step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ParcoursKind {
    /// `vouchers_handed_out`.
    VouchersHandedOut,
    /// `voucher_redeemed`.
    VoucherRedeemed,
    /// `voucher_claimed`.
    VoucherClaimed,
    /// `referral_opened`.
    ReferralOpened,
    /// `referral_accepted`.
    ReferralAccepted,
    /// `referral_declined`.
    ReferralDeclined,
    /// `referral_forwarded`.
    ReferralForwarded,
    /// `referral_closed`.
    ReferralClosed,
    /// `accompaniment_recorded`.
    AccompanimentRecorded,
}

impl ParcoursKind {
    /// The snake_case name (as in JSON).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::VouchersHandedOut => "vouchers_handed_out",
            Self::VoucherRedeemed => "voucher_redeemed",
            Self::VoucherClaimed => "voucher_claimed",
            Self::ReferralOpened => "referral_opened",
            Self::ReferralAccepted => "referral_accepted",
            Self::ReferralDeclined => "referral_declined",
            Self::ReferralForwarded => "referral_forwarded",
            Self::ReferralClosed => "referral_closed",
            Self::AccompanimentRecorded => "accompaniment_recorded",
        }
    }
}

/// One line of a person's parcours.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ParcoursEntry {
    /// Author's clock (orders the timeline; ties by event id).
    pub hlc: u64,
    /// The event.
    pub event: EventId,
    /// Author hub.
    pub hub: HubId,
    /// Kind of step.
    pub kind: ParcoursKind,
    /// Plain-language summary.
    pub summary: String,
}

/// An accompaniment recorded by a venue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Accompaniment {
    /// The event.
    pub event: EventId,
    /// Venue.
    pub venue_id: String,
    /// Referral, if any.
    pub referral_id: String,
    /// Services.
    pub services: Vec<String>,
    /// Day.
    pub date: String,
    /// Minutes.
    pub duration_min: u32,
    /// individual | collective | remote.
    pub mode: String,
}

/// What the rules say of a draft event ([`Ledger::evaluate`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Evaluation {
    /// The rules accept it: signing it applies it.
    Accepted,
    /// A rule rejects it, for this reason: an honest node does not sign it.
    Rejected(String),
    /// Its feed or a dep is not applied in these views: it cannot be judged yet.
    Waiting,
}

/// Where a state changed: a feed position by member index (the id is not needed to ask "is
/// it in this past?").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
struct Pos {
    feed: u32,
    seq: u64,
}

impl Pos {
    /// The position of the event `past` belongs to.
    fn of(event: &VerifiedEvent, past: &Past<'_>) -> Self {
        Self {
            feed: past.feed(),
            seq: event.seq,
        }
    }
}

type History<S> = Vec<(Pos, S)>;

fn as_of<'h, S>(history: &'h History<S>, past: &Past<'_>) -> Option<&'h S> {
    history
        .iter()
        .rev()
        .find(|(at, _)| past.contains_at(at.feed, at.seq))
        .map(|(_, s)| s)
}

/// No index (an absent person, the end of a voucher's history).
const NONE: u32 = u32::MAX;

/// A voucher: its batch (index in `State::batch_info`) and its number.
type VoucherKey = (u32, u32);

/// A voucher's state as the views keep it: hubs and persons by index, what is rare boxed.
/// [`VoucherState`] is its public form.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Compact {
    /// Member index of the owner.
    owner: u32,
    /// Index in `State::people`, or [`NONE`].
    person: u32,
    status: VoucherStatus,
    settled: bool,
    redemption: Option<Box<Redeemed>>,
    more: Option<Box<VoucherMore>>,
}

/// A [`Redemption`] as the views keep it: venue and service by index, the date's ten bytes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Redeemed {
    /// Index in `State::venue_ids`.
    venue: u32,
    /// Index in [`SERVICES`].
    service: u8,
    /// `YYYY-MM-DD` (a valid date is exactly these ten bytes).
    date: [u8; 10],
    event: EventId,
    claim: Option<EventId>,
}

/// What few vouchers carry: answered claims, transfers.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
struct VoucherMore {
    answered_claims: BTreeSet<EventId>,
    transfers: Vec<HubId>,
}

impl Compact {
    fn issued(owner: u32) -> Self {
        Self {
            owner,
            person: NONE,
            status: VoucherStatus::Issued,
            settled: false,
            redemption: None,
            more: None,
        }
    }

    fn answered(&self, claim: &EventId) -> bool {
        self.more
            .as_ref()
            .is_some_and(|m| m.answered_claims.contains(claim))
    }

    fn more(&mut self) -> &mut VoucherMore {
        self.more.get_or_insert_with(Box::default)
    }
}

/// One state of one voucher. A voucher's states are linked from its latest (`prev`), so all
/// histories live in one vector instead of a vector each.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct VoucherRec {
    seq: u64,
    feed: u32,
    /// The voucher's previous state, or [`NONE`].
    prev: u32,
    batch: u32,
    number: u32,
    state: Compact,
}

/// A batch with what the rules read of it on every voucher event, dates parsed.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct BatchInfo {
    batch: Batch,
    issuer: u32,
    at: Pos,
    valid_until: i32,
}

/// A parcours line as the views keep it ([`ParcoursEntry`] with the hub by member index, in
/// the same order: member indices follow hub ids).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
struct Line {
    hlc: u64,
    event: EventId,
    hub: u32,
    kind: ParcoursKind,
    summary: Box<str>,
}

/// A step encoded exactly as its [`ParcoursEntry`] would be, without building one.
struct LineRef<'a>(&'a Line, &'a Members);

impl Serialize for LineRef<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut out = serializer.serialize_struct("ParcoursEntry", 5)?;
        out.serialize_field("hlc", &self.0.hlc)?;
        out.serialize_field("event", &self.0.event)?;
        out.serialize_field("hub", &self.1.hub(self.0.hub))?;
        out.serialize_field("kind", &self.0.kind)?;
        out.serialize_field("summary", &*self.0.summary)?;
        out.end()
    }
}

/// A person's steps, encoded as the list of their [`ParcoursEntry`].
struct LinesRef<'a>(&'a [Line], &'a Members);

impl Serialize for LinesRef<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.0.iter().map(|step| LineRef(step, self.1)))
    }
}

/// A person the views know, with what is kept per person.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct PersonRec {
    id: PersonId,
    /// Sorted (HLC, then event id).
    parcours: Vec<Line>,
    /// By event id (concurrent records from several hubs arrive in any order).
    accompaniments: BTreeMap<EventId, Accompaniment>,
}

/// Each person's vouchers and referrals, as lists linked newest-first through two shared
/// vectors (one allocation for everyone, not one per person). Derived from the voucher log
/// and the referrals: not persisted, rebuilt when a snapshot is read.
#[derive(Debug, Default, Clone)]
struct PersonLinks {
    /// By person index: the newest entry of `held`, then of `opened`, naming them.
    heads: Vec<[u32; 2]>,
    /// A voucher whose state came to name a person, and the person's previous entry.
    held: Vec<(VoucherKey, u32)>,
    /// A referral opened for a person (its id's span in `ids`), and their previous entry.
    opened: Vec<((u32, u32), u32)>,
    /// The referral ids of `opened`, end to end.
    ids: String,
}

impl PersonLinks {
    const HELD: usize = 0;
    const OPENED: usize = 1;

    /// Makes `entry` (at the end of its vector) the newest of the person's list `which`, and
    /// returns the entry it follows.
    fn link(&mut self, person: u32, which: usize, entry: usize) -> u32 {
        let person = person as usize;
        if self.heads.len() <= person {
            self.heads.resize(person + 1, [NONE; 2]);
        }
        std::mem::replace(&mut self.heads[person][which], entry as u32)
    }

    /// A voucher's new state names `person`; `before` is who its previous state named.
    fn hold(&mut self, key: VoucherKey, person: u32, before: u32) {
        if person != NONE && person != before {
            let next = self.link(person, Self::HELD, self.held.len());
            self.held.push((key, next));
        }
    }

    /// A referral was opened for `person`.
    fn open(&mut self, referral_id: &str, person: u32) {
        let next = self.link(person, Self::OPENED, self.opened.len());
        let span = (
            self.ids.len() as u32,
            (self.ids.len() + referral_id.len()) as u32,
        );
        self.ids.push_str(referral_id);
        self.opened.push((span, next));
    }

    /// The person's list `which`, newest first, as entry indices.
    fn walk<T>(&self, person: u32, which: usize, list: &[(T, u32)]) -> Vec<usize> {
        let mut at = self.heads.get(person as usize).map_or(NONE, |h| h[which]);
        let mut out = Vec::new();
        while let Some((_, next)) = list.get(at as usize) {
            out.push(at as usize);
            at = *next;
        }
        out
    }

    fn vouchers(&self, person: u32) -> impl Iterator<Item = &VoucherKey> {
        self.walk(person, Self::HELD, &self.held)
            .into_iter()
            .map(|i| &self.held[i].0)
    }

    fn referrals(&self, person: u32) -> impl Iterator<Item = &str> {
        self.walk(person, Self::OPENED, &self.opened)
            .into_iter()
            .filter_map(|i| {
                let (start, end) = self.opened[i].0;
                self.ids.get(start as usize..end as usize)
            })
    }
}

/// The folded state of every feed. Cloning copies the views (a running node lends its views
/// to the commands it runs; the CSV export takes a copy so replication goes on meanwhile).
#[derive(Debug, Clone)]
pub struct Ledger {
    charter: std::sync::Arc<Charter>,
    members: std::sync::Arc<Members>,
    s: State,
    /// [`Ledger::digest`] of the views as they are, until an event is applied or a feed frozen
    /// (a serving node is asked for it by every status call, the dashboard and its peers'
    /// operators; computing it walks every view).
    digest: std::sync::OnceLock<[u8; 32]>,
    /// Set while [`Ledger::evaluate`] runs the rules on a draft: every change they would make
    /// is skipped.
    dry_run: bool,
}

/// Everything a ledger folds, persisted as a snapshot so a node reopens without re-folding.
/// The lookup maps are not persisted: they are rebuilt from the vectors they index.
#[derive(Debug, Default, Clone, Serialize, Deserialize)]
struct State {
    causal: CausalIndex,
    venues: VenueDirectory,
    venue_history: Map<String, History<VenueSnapshot>>,
    /// Every batch, in issuing order.
    batches: Vec<BatchInfo>,
    #[serde(skip)]
    batch_index: Map<String, u32>,
    /// Every state of every touched voucher.
    voucher_log: Chunked<VoucherRec>,
    /// Touched voucher → its latest state in `voucher_log`.
    #[serde(skip)]
    vouchers: Map<VoucherKey, u32>,
    /// Venues named by a redemption, by first use.
    venue_ids: Vec<String>,
    #[serde(skip)]
    venue_index: Map<String, u32>,
    claims: BTreeMap<EventId, Claim>,
    #[serde(skip)]
    links: PersonLinks,
    referrals: Map<String, History<Referral>>,
    people: Vec<PersonRec>,
    #[serde(skip)]
    persons: Map<PersonId, u32>,
    forgotten: BTreeSet<PersonId>,
    rejections: BTreeMap<EventId, DomainRejection>,
    settlements: BTreeMap<(HubId, String), u64>,
}

impl State {
    /// Rebuilds the lookup maps after a snapshot is decoded.
    fn reindex(&mut self) {
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
        self.venue_index = self
            .venue_ids
            .iter()
            .enumerate()
            .map(|(i, v)| (v.clone(), i as u32))
            .collect();
        self.persons = self
            .people
            .iter()
            .enumerate()
            .map(|(i, p)| (p.id, i as u32))
            .collect();
        let mut links = PersonLinks::default();
        for i in 0..self.voucher_log.len() {
            let rec = &self.voucher_log[i];
            links.hold(
                (rec.batch, rec.number),
                rec.state.person,
                self.person_before(rec.prev),
            );
        }
        for (id, history) in self.referrals.sorted() {
            if let Some((_, first)) = history.first()
                && let Some(person) = self.persons.get(&first.person)
            {
                links.open(id, *person);
            }
        }
        self.links = links;
    }

    /// The person the voucher state at `prev` names (`NONE` for no state or no person).
    fn person_before(&self, prev: u32) -> u32 {
        if prev == NONE {
            NONE
        } else {
            self.voucher_log[prev].state.person
        }
    }
}

impl Ledger {
    /// An empty ledger for a federation.
    pub fn new(charter: std::sync::Arc<Charter>) -> Self {
        let members = std::sync::Arc::new(Members::new(charter.members().keys().copied()));
        let s = State {
            causal: CausalIndex::new(members.clone(), PENDING_EVENTS_MAX),
            ..State::default()
        };
        Self {
            charter,
            members,
            s,
            digest: std::sync::OnceLock::new(),
            dry_run: false,
        }
    }

    /// The folded state as bytes (postcard), bound to the federation and the snapshot format.
    /// Events still waiting for their causal past are not included: they are in the store.
    pub fn to_snapshot(&self) -> Result<Vec<u8>, String> {
        let mut out = SNAPSHOT_MAGIC.to_vec();
        out.extend_from_slice(self.charter.federation_id().as_bytes());
        postcard::to_extend(&self.s, out).map_err(|e| format!("encoding the views: {e}"))
    }

    /// A ledger from [`Ledger::to_snapshot`] bytes of the same federation and format.
    pub fn from_snapshot(charter: std::sync::Arc<Charter>, bytes: &[u8]) -> Result<Self, String> {
        let header = SNAPSHOT_MAGIC.len() + 32;
        if bytes.len() < header || &bytes[..SNAPSHOT_MAGIC.len()] != SNAPSHOT_MAGIC {
            return Err("not a view snapshot of this version".into());
        }
        if bytes[SNAPSHOT_MAGIC.len()..header] != charter.federation_id().0 {
            return Err("the snapshot belongs to another federation".into());
        }
        let mut s: State = postcard::from_bytes(&bytes[header..])
            .map_err(|e| format!("snapshot does not decode: {e}"))?;
        let members = std::sync::Arc::new(Members::new(charter.members().keys().copied()));
        s.causal.restore(members.clone(), PENDING_EVENTS_MAX)?;
        s.reindex();
        Ok(Self {
            charter,
            members,
            s,
            digest: std::sync::OnceLock::new(),
            dry_run: false,
        })
    }

    /// Offers one verified, stored event (any order); applies it and everything that waited
    /// for it once their causal pasts are applied.
    pub fn offer(&mut self, event: VerifiedEvent) -> Offer {
        let vacant = CausalIndex::vacant(self.members.clone());
        let mut causal = std::mem::replace(&mut self.s.causal, vacant);
        let mut applied = false;
        let outcome = causal.offer(event, &mut |event, past| {
            applied = true;
            self.apply(event, past)
        });
        if applied {
            self.digest.take();
        }
        self.s.causal = causal;
        outcome
    }

    /// The deps a new event of `author` names: the applied heads of the other feeds it has
    /// not named yet (see [`CausalIndex::next_deps`]), so that its past is everything these
    /// views hold.
    pub fn next_deps(&self, author: &HubId) -> Vec<EventRef> {
        self.next_deps_relying_on(author, &[])
    }

    /// [`Ledger::next_deps`], naming first the heads of the feeds in `relies_on` (authors of
    /// events the new one must have in its past: the transfer it redeems), and of the author
    /// of any event `body` names (the claim it answers).
    pub fn next_deps_for(
        &self,
        author: &HubId,
        body: &pb::event::Body,
        relies_on: &[HubId],
    ) -> Vec<EventRef> {
        let mut first = relies_on.to_vec();
        let named = match body {
            pb::event::Body::VoucherRedeemed(r) => r.claim.as_ref(),
            pb::event::Body::VoucherClaimRejected(r) => r.claim.as_ref(),
            _ => None,
        };
        if let Some(author) = named.and_then(|r| HubId::try_from(r.author.as_slice()).ok()) {
            first.push(author);
        }
        self.next_deps_relying_on(author, &first)
    }

    fn next_deps_relying_on(&self, author: &HubId, first: &[HubId]) -> Vec<EventRef> {
        self.s
            .causal
            .next_deps(author, crate::envelope::DEPS_MAX, first)
    }

    /// What the rules say of `body` as the next event of `author` with `deps` and `hlc`,
    /// judged against these views exactly as they would judge it once signed, without
    /// changing anything. An honest node evaluates every event before signing it and signs
    /// only what its own views accept.
    pub fn evaluate(
        &mut self,
        author: HubId,
        hlc: u64,
        deps: &[EventRef],
        body: &pb::event::Body,
    ) -> Evaluation {
        let federation = self.charter.federation_id();
        let causal = std::mem::replace(
            &mut self.s.causal,
            CausalIndex::vacant(self.members.clone()),
        );
        let verdict = causal.with_next_past(&author, deps, |seq, prev, past| {
            let header = crate::envelope::Header {
                federation,
                seq,
                prev,
                hlc,
                deps: deps.to_vec(),
            };
            let draft = match crate::envelope::unsigned_draft(author, header, body.clone()) {
                Ok(draft) => draft,
                Err(error) => return Evaluation::Rejected(error.to_string()),
            };
            self.dry_run = true;
            let verdict = self.try_apply(&draft, past);
            self.dry_run = false;
            match verdict {
                Ok(()) => Evaluation::Accepted,
                Err(reason) => Evaluation::Rejected(reason),
            }
        });
        self.s.causal = causal;
        verdict.unwrap_or(Evaluation::Waiting)
    }

    /// Freezes a feed after a fork (see [`CausalIndex::freeze`]): call it for every fork
    /// proof the store holds before folding into a fresh ledger.
    pub fn freeze(&mut self, author: HubId, valid_until: u64) {
        if self.s.causal.freeze(author, valid_until) {
            self.digest.take();
        }
    }

    /// Applied events per feed.
    pub fn applied(&self) -> BTreeMap<HubId, u64> {
        self.s.causal.applied()
    }

    /// The id of an applied event.
    pub fn applied_id(&self, author: &HubId, seq: u64) -> Option<EventId> {
        self.s.causal.id_of(author, seq)
    }

    /// Total applied events.
    pub fn applied_count(&self) -> u64 {
        self.s.causal.applied_count()
    }

    /// Events waiting for their causal past.
    pub fn pending_count(&self) -> usize {
        self.s.causal.pending_count()
    }

    fn apply(&mut self, event: &VerifiedEvent, past: &Past<'_>) {
        if let Err(reason) = self.try_apply(event, past) {
            self.s.rejections.insert(
                event.id,
                DomainRejection {
                    event: event.id,
                    author: event.author,
                    seq: event.seq,
                    reason,
                },
            );
        }
    }

    fn try_apply(&mut self, event: &VerifiedEvent, past: &Past<'_>) -> Result<(), String> {
        use pb::event::Body;
        let at = event.as_ref();
        match &event.body {
            None => Ok(()), // A body kind of a newer version: stored and forwarded, not applied.
            Some(Body::VenueRegistered(_) | Body::VenueUpdated(_) | Body::VenueClosed(_)) => {
                if self.dry_run {
                    return self.s.venues.check(event, &self.charter);
                }
                let before = self.s.venues.rejections().len();
                self.s.venues.apply(event, &self.charter);
                if let Some(rejection) = self.s.venues.rejections().get(before) {
                    return Err(rejection.reason.clone());
                }
                let venue_id = match &event.body {
                    Some(Body::VenueRegistered(v)) => &v.venue_id,
                    Some(Body::VenueUpdated(v)) => &v.venue_id,
                    Some(Body::VenueClosed(v)) => &v.venue_id,
                    _ => return Ok(()),
                };
                self.snapshot_venue(venue_id, Pos::of(event, past), |_| {});
                Ok(())
            }
            Some(Body::VenueQualified(q)) => self.qualify(q, event, past),
            Some(Body::VenueQualificationRevoked(r)) => {
                reason_field("reason", &r.reason)?;
                self.held_open_venue(&r.venue_id, event.author, past)?;
                let current = self.venue_now(&r.venue_id);
                if current.and_then(|v| v.qualification.as_ref()).is_none() {
                    return Err(format!("venue {} is not qualified", r.venue_id));
                }
                self.snapshot_venue(&r.venue_id, Pos::of(event, past), |s| {
                    s.qualification = None;
                });
                Ok(())
            }
            Some(Body::VoucherBatchIssued(b)) => self.issue_batch(b, event, past, at),
            Some(Body::VouchersHandedOut(h)) => self.hand_out(h, event, past),
            Some(Body::VoucherRedeemed(r)) => self.redeem(r, event, past),
            Some(Body::VoucherTransferred(t)) => self.transfer(t, event, past),
            Some(Body::VoucherClaimed(c)) => self.claim(c, event, past, at),
            Some(Body::VoucherClaimRejected(r)) => self.reject_claim(r, event, past),
            Some(Body::VoucherCancelled(c)) => self.cancel(c, event, past),
            Some(Body::RedemptionsSettled(s)) => self.settle(s, event, past),
            Some(Body::ReferralOpened(o)) => self.open_referral(o, event, past),
            Some(Body::ReferralAccepted(a)) => {
                self.referral_step(&a.referral_id, event, past, Step::Accept(a))
            }
            Some(Body::ReferralDeclined(d)) => {
                self.referral_step(&d.referral_id, event, past, Step::Decline(d))
            }
            Some(Body::ReferralForwarded(f)) => {
                self.referral_step(&f.referral_id, event, past, Step::Forward(f))
            }
            Some(Body::ReferralClosed(c)) => {
                self.referral_step(&c.referral_id, event, past, Step::Close(c))
            }
            Some(Body::AccompanimentRecorded(a)) => self.accompany(a, event, past),
            Some(Body::PersonForgotten(f)) => {
                let person = person_of(&f.person)?;
                if self.dry_run {
                    return Ok(());
                }
                self.s.forgotten.insert(person);
                if let Some(ix) = self.s.persons.get(&person) {
                    let record = &mut self.s.people[*ix as usize];
                    record.parcours = Vec::new();
                    record.accompaniments = BTreeMap::new();
                }
                Ok(())
            }
        }
    }

    // ----- venues ---------------------------------------------------------------------------

    fn venue_now(&self, venue_id: &str) -> Option<&VenueSnapshot> {
        self.s
            .venue_history
            .get(venue_id)
            .and_then(|h| h.last())
            .map(|(_, s)| s)
    }

    fn venue_as_of(&self, venue_id: &str, past: &Past<'_>) -> Option<&VenueSnapshot> {
        self.s
            .venue_history
            .get(venue_id)
            .and_then(|h| as_of(h, past))
    }

    fn snapshot_venue(&mut self, venue_id: &str, at: Pos, change: impl FnOnce(&mut VenueSnapshot)) {
        if self.dry_run {
            return;
        }
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

    /// The hub that handles referrals to a venue open in `past`, and its département.
    fn venue_handler(&self, venue_id: &str, past: &Past<'_>) -> Result<(HubId, String), String> {
        let snapshot = self
            .venue_as_of(venue_id, past)
            .filter(|s| s.open)
            .ok_or_else(|| format!("venue {venue_id} is not open in the event's causal past"))?;
        let holder = self
            .charter
            .holder_of(&snapshot.departement)
            .ok_or_else(|| format!("no hub holds département {}", snapshot.departement))?;
        Ok((holder, snapshot.departement.clone()))
    }

    /// A venue the author holds, open in the event's causal past. A venue held by the author
    /// has all its events in the author's own feed, so this depends on the past only.
    fn held_open_venue(
        &self,
        venue_id: &str,
        author: HubId,
        past: &Past<'_>,
    ) -> Result<&crate::venues::Venue, String> {
        let snapshot = self
            .venue_as_of(venue_id, past)
            .ok_or_else(|| format!("venue {venue_id} is unknown in the event's causal past"))?;
        if self.charter.holder_of(&snapshot.departement) != Some(author) {
            return Err(format!(
                "venue {venue_id} is in département {}, which the author does not hold",
                snapshot.departement
            ));
        }
        if !snapshot.open {
            return Err(format!("venue {venue_id} is closed"));
        }
        self.s
            .venues
            .get(venue_id)
            .ok_or_else(|| format!("venue {venue_id} is unknown"))
    }

    fn qualify(
        &mut self,
        q: &pb::VenueQualified,
        event: &VerifiedEvent,
        past: &Past<'_>,
    ) -> Result<(), String> {
        let venue = self.held_open_venue(&q.venue_id, event.author, past)?;
        if venue.record.pivot.bytes().all(|b| b == b'0') {
            return Err(format!(
                "venue {} has no real SIRET, RNA or RIDET (pivot {:?}): the payee of public money must be traceable",
                q.venue_id, venue.record.pivot
            ));
        }
        if q.scheme.trim().is_empty() {
            return Err("qualification scheme is empty".into());
        }
        date_field("valid_until", &q.valid_until)?;
        let services = services_field(&q.services)?;
        let qualification = Qualification {
            scheme: q.scheme.clone(),
            valid_until: q.valid_until.clone(),
            services,
            event: event.id,
        };
        self.snapshot_venue(&q.venue_id, Pos::of(event, past), |s| {
            s.qualification = Some(qualification);
        });
        Ok(())
    }

    /// The venue's qualification problem for a redemption or claim on `date` for `service`,
    /// as the past sees it.
    fn check_venue_for(
        &self,
        venue_id: &str,
        service: &str,
        date: i32,
        past: &Past<'_>,
    ) -> Result<String, String> {
        let snapshot = self
            .venue_as_of(venue_id, past)
            .ok_or_else(|| format!("venue {venue_id} is unknown in the event's causal past"))?;
        if !snapshot.open {
            return Err(format!(
                "venue {venue_id} is closed in the event's causal past"
            ));
        }
        let q = snapshot.qualification.as_ref().ok_or_else(|| {
            format!("venue {venue_id} is not qualified in the event's causal past (put its VenueQualified in deps)")
        })?;
        let until = parse_date(&q.valid_until).unwrap_or(i32::MIN);
        if date > until {
            return Err(format!(
                "venue {venue_id}: qualification expired on {}, redemption dated {}",
                q.valid_until,
                format_date(date)
            ));
        }
        if !q.services.is_empty() && !q.services.iter().any(|s| s == service) {
            return Err(format!("venue {venue_id} is not qualified for {service:?}"));
        }
        Ok(snapshot.departement.clone())
    }

    // ----- vouchers -------------------------------------------------------------------------

    fn issue_batch(
        &mut self,
        b: &pb::VoucherBatchIssued,
        event: &VerifiedEvent,
        past: &Past<'_>,
        at: EventRef,
    ) -> Result<(), String> {
        let member = self.charter.member(&event.author).ok_or("unknown author")?;
        let prefix_ok = b
            .batch_id
            .split_once('-')
            .is_some_and(|(dep, rest)| member.territories.contains(dep) && !rest.is_empty());
        if !prefix_ok
            || !b
                .batch_id
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-')
            || b.batch_id.len() > 64
        {
            return Err(format!(
                "batch id {:?}: expected one of the author's départements, a dash, then letters, digits or dashes (e.g. \"{}-2026-CAF-01\")",
                b.batch_id,
                member
                    .territories
                    .iter()
                    .next()
                    .map_or("13", String::as_str)
            ));
        }
        if self.s.batch_index.contains_key(&b.batch_id) {
            return Err(format!("batch {} is already issued", b.batch_id));
        }
        if b.count == 0 || b.count > BATCH_VOUCHERS_MAX {
            return Err(format!(
                "count: expected 1..={BATCH_VOUCHERS_MAX}, found {}",
                b.count
            ));
        }
        if b.face_value_cents == 0 {
            return Err("face value: expected more than 0 cents".into());
        }
        let funder = b.funder.clone().unwrap_or_default();
        if funder.name.trim().is_empty() {
            return Err("funder: a name is required".into());
        }
        if !(funder.siret.len() == 14 && funder.siret.bytes().all(|c| c.is_ascii_digit())) {
            return Err(format!(
                "funder SIRET: expected 14 digits, found {:?}",
                funder.siret
            ));
        }
        let from = date_field("valid_from", &b.valid_from)?;
        let until = date_field("valid_until", &b.valid_until)?;
        let deadline = date_field("redeem_deadline", &b.redeem_deadline)?;
        if !(from <= until && until <= deadline) {
            return Err("dates: expected valid_from <= valid_until <= redeem_deadline".into());
        }
        let services = services_field(&b.eligible_services)?;
        for t in &b.territories {
            if !crate::territory::is_departement_code(t) {
                return Err(format!(
                    "territories: expected département codes, found {t:?}"
                ));
            }
        }
        if self.dry_run {
            return Ok(());
        }
        let index = self.s.batches.len() as u32;
        self.s.batch_index.insert(b.batch_id.clone(), index);
        self.s.batches.push(BatchInfo {
            issuer: past.feed(),
            at: Pos::of(event, past),
            valid_until: until,
            batch: Batch {
                batch_id: b.batch_id.clone(),
                issuer: event.author,
                issued_at: at,
                funder: funder.name,
                funder_siret: funder.siret,
                face_value_cents: b.face_value_cents,
                count: b.count,
                valid_from: b.valid_from.clone(),
                valid_until: b.valid_until.clone(),
                redeem_deadline: b.redeem_deadline.clone(),
                eligible_services: services,
                territories: b.territories.clone(),
            },
        });
        Ok(())
    }

    /// The voucher a serial names, if its batch is in `past` and its number in the batch.
    fn voucher_key(&self, serial: &str, past: &Past<'_>) -> Result<VoucherKey, String> {
        let (batch_id, number) = serial
            .rsplit_once('-')
            .ok_or_else(|| format!("serial {serial:?}: expected \"{{batch}}-{{n}}\""))?;
        let (index, info) = self
            .s
            .batch_index
            .get(batch_id)
            .map(|i| (*i, &self.s.batches[*i as usize]))
            .filter(|(_, b)| past.contains_at(b.at.feed, b.at.seq))
            .ok_or_else(|| {
                format!("serial {serial}: batch {batch_id} is not in the event's causal past")
            })?;
        let n: u32 = number
            .parse()
            .map_err(|_| format!("serial {serial:?}: number is not an integer"))?;
        if n == 0 || n > info.batch.count || number.starts_with('0') {
            return Err(format!(
                "serial {serial}: expected a number in 1..={} without leading zeros",
                info.batch.count
            ));
        }
        Ok((index, n))
    }

    /// The public record of a batch the views hold.
    fn batch(&self, key: VoucherKey) -> &Batch {
        &self.s.batches[key.0 as usize].batch
    }

    /// The latest state of a touched voucher in `past`, if any.
    fn state_in(&self, key: VoucherKey, past: &Past<'_>) -> Option<&Compact> {
        let mut at = self.s.vouchers.get(&key).copied().unwrap_or(NONE);
        while at != NONE {
            let rec = &self.s.voucher_log[at];
            if past.contains_at(rec.feed, rec.seq) {
                return Some(&rec.state);
            }
            at = rec.prev;
        }
        None
    }

    /// The voucher's state in `past`, or an error if the serial does not exist there.
    fn voucher_as_of(
        &self,
        serial: &str,
        past: &Past<'_>,
    ) -> Result<(VoucherKey, Compact), String> {
        let key = self.voucher_key(serial, past)?;
        let state = self
            .state_in(key, past)
            .cloned()
            .unwrap_or_else(|| Compact::issued(self.s.batches[key.0 as usize].issuer));
        Ok((key, state))
    }

    /// The state of a voucher the author owns in `past`.
    fn owned(&self, serial: &str, past: &Past<'_>) -> Result<(VoucherKey, Compact), String> {
        let (key, state) = self.voucher_as_of(serial, past)?;
        if state.owner != past.feed() {
            return Err(format!(
                "voucher {serial} is owned by {} in the event's causal past, not by the author",
                self.members.hub(state.owner).short()
            ));
        }
        Ok((key, state))
    }

    /// Applies `change` to every serial the author owns in `past`, all or nothing: the first
    /// serial that is not owned or that `change` refuses rejects the whole event.
    fn change_owned(
        &mut self,
        serials: &[String],
        event: &VerifiedEvent,
        past: &Past<'_>,
        mut change: impl FnMut(&Self, &str, VoucherKey, &mut Compact) -> Result<(), String>,
    ) -> Result<(), String> {
        Self::serials_field(serials)?;
        let mut updates = Vec::with_capacity(serials.len());
        for serial in serials {
            let (key, mut state) = self.owned(serial, past)?;
            change(self, serial, key, &mut state)?;
            updates.push((key, state));
        }
        for (key, state) in updates {
            self.record_voucher(key, Pos::of(event, past), state);
        }
        Ok(())
    }

    fn record_voucher(&mut self, key: VoucherKey, at: Pos, state: Compact) {
        if self.dry_run {
            return;
        }
        let index = self.s.voucher_log.len();
        let prev = self.s.vouchers.insert(key, index).unwrap_or(NONE);
        let before = self.s.person_before(prev);
        self.s.links.hold(key, state.person, before);
        self.s.voucher_log.push(VoucherRec {
            seq: at.seq,
            feed: at.feed,
            prev,
            batch: key.0,
            number: key.1,
            state,
        });
    }

    fn serials_field(serials: &[String]) -> Result<(), String> {
        if serials.is_empty() || serials.len() > SERIALS_PER_EVENT_MAX {
            return Err(format!(
                "serials: expected 1..={SERIALS_PER_EVENT_MAX}, found {}",
                serials.len()
            ));
        }
        let unique: BTreeSet<&String> = serials.iter().collect();
        if unique.len() != serials.len() {
            return Err("serials: a serial is listed twice".into());
        }
        Ok(())
    }

    /// The index of a venue named by a redemption, known from now on.
    fn venue_number(&mut self, venue_id: &str) -> u32 {
        if let Some(index) = self.s.venue_index.get(venue_id) {
            return *index;
        }
        if self.dry_run {
            // Not recorded: the state it goes into is not either.
            return NONE;
        }
        let index = self.s.venue_ids.len() as u32;
        self.s.venue_ids.push(venue_id.to_owned());
        self.s.venue_index.insert(venue_id.to_owned(), index);
        index
    }

    /// The index of a person, known from now on.
    fn person_index(&mut self, person: PersonId) -> u32 {
        if self.dry_run {
            // Not recorded: the state it goes into is not either.
            return self.s.persons.get(&person).copied().unwrap_or(NONE);
        }
        let next = self.s.people.len() as u32;
        let index = *self.s.persons.entry(person).or_insert(next);
        if index == next {
            self.s.people.push(PersonRec {
                id: person,
                parcours: Vec::new(),
                accompaniments: BTreeMap::new(),
            });
        }
        index
    }

    fn hand_out(
        &mut self,
        h: &pb::VouchersHandedOut,
        event: &VerifiedEvent,
        past: &Past<'_>,
    ) -> Result<(), String> {
        let person = person_of(&h.person)?;
        let prescriber = prescriber_field(h.prescriber.as_ref())?;
        let date = date_field("date", &h.date)?;
        let holder = self.person_index(person);
        self.change_owned(&h.serials, event, past, |ledger, serial, key, state| {
            if state.status != VoucherStatus::Issued {
                return Err(format!(
                    "voucher {serial} is {:?}, not available to hand out",
                    state.status
                ));
            }
            let info = &ledger.s.batches[key.0 as usize];
            if date > info.valid_until {
                return Err(format!(
                    "voucher {serial} expired on {}",
                    ledger.batch(key).valid_until
                ));
            }
            state.status = VoucherStatus::HandedOut;
            state.person = holder;
            Ok(())
        })?;
        let summary = format!(
            "{} voucher(s) handed out by {} ({}): {}",
            h.serials.len(),
            prescriber.1,
            prescriber.0,
            h.serials.join(", ")
        );
        self.trace(
            person,
            event,
            past,
            ParcoursKind::VouchersHandedOut,
            summary,
        );
        Ok(())
    }

    fn redeem(
        &mut self,
        r: &pb::VoucherRedeemed,
        event: &VerifiedEvent,
        past: &Past<'_>,
    ) -> Result<(), String> {
        let (key, mut state) = self.owned(&r.serial, past)?;
        let date = date_field("date", &r.date)?;
        match state.status {
            VoucherStatus::HandedOut => {}
            VoucherStatus::Redeemed => {
                let previous = state
                    .redemption
                    .as_ref()
                    .map(|p| p.event.short())
                    .unwrap_or_default();
                return Err(format!(
                    "voucher {} is already redeemed (event {previous})",
                    r.serial
                ));
            }
            other => {
                return Err(format!(
                    "voucher {} is {other:?}: only a handed-out voucher can be redeemed",
                    r.serial
                ));
            }
        }
        let batch = self.batch(key);
        self.check_use(batch, &r.serial, &r.service, date)?;
        let departement = self.check_venue_for(&r.venue_id, &r.service, date, past)?;
        if !batch.territories.is_empty() && !batch.territories.contains(&departement) {
            return Err(format!(
                "voucher {}: batch {} may be redeemed in {}, venue is in {departement}",
                r.serial,
                batch.batch_id,
                batch.territories.join(",")
            ));
        }
        let claim = match &r.claim {
            None => None,
            Some(wire) => {
                let claim_ref = event_ref(wire)?;
                let claim = self.claim_in_past(&claim_ref, &r.serial, &state, past)?;
                if claim.venue_id != r.venue_id
                    || claim.service != r.service
                    || claim.date != r.date
                {
                    return Err(format!(
                        "claim {}: accepted redemption must repeat the claim's venue, service and date",
                        claim_ref.id.short()
                    ));
                }
                state.more().answered_claims.insert(claim_ref.id);
                Some(claim_ref.id)
            }
        };
        state.status = VoucherStatus::Redeemed;
        // check_use and date_field accepted both: a v1 service, a ten-byte date.
        let service = SERVICES.iter().position(|s| *s == r.service).unwrap_or(0) as u8;
        let date = r.date.as_bytes().try_into().unwrap_or(*b"0000-00-00");
        state.redemption = Some(Box::new(Redeemed {
            venue: self.venue_number(&r.venue_id),
            service,
            date,
            event: event.id,
            claim,
        }));
        let person = state.person;
        self.record_voucher(key, Pos::of(event, past), state);
        if self.dry_run {
            return Ok(());
        }
        if let Some(claim) = claim.and_then(|c| self.s.claims.get_mut(&c)) {
            claim.accepted = Some(true);
        }
        if person != NONE {
            let summary = format!(
                "voucher {} redeemed at venue {} for {:?} on {}",
                r.serial, r.venue_id, r.service, r.date
            );
            let person = self.s.people[person as usize].id;
            self.trace(person, event, past, ParcoursKind::VoucherRedeemed, summary);
        }
        Ok(())
    }

    fn check_use(
        &self,
        batch: &Batch,
        serial: &str,
        service: &str,
        date: i32,
    ) -> Result<(), String> {
        if !SERVICES.contains(&service) {
            return Err(format!("service: expected a v1 service, found {service:?}"));
        }
        if !batch.eligible_services.is_empty()
            && !batch.eligible_services.iter().any(|s| s == service)
        {
            return Err(format!(
                "voucher {serial}: {service:?} is not an eligible service of batch {}",
                batch.batch_id
            ));
        }
        if date < parse_date(&batch.valid_from).unwrap_or(i32::MAX) {
            return Err(format!(
                "voucher {serial} is valid from {}",
                batch.valid_from
            ));
        }
        if date > parse_date(&batch.redeem_deadline).unwrap_or(i32::MIN) {
            return Err(format!(
                "voucher {serial}: redeem deadline was {}, redemption dated {}",
                batch.redeem_deadline,
                format_date(date)
            ));
        }
        Ok(())
    }

    fn claim_in_past(
        &self,
        claim_ref: &EventRef,
        serial: &str,
        state: &Compact,
        past: &Past<'_>,
    ) -> Result<&Claim, String> {
        if !past.contains_ref(claim_ref) {
            return Err(format!(
                "claim {} is not in the event's causal past (put it in deps)",
                claim_ref.id.short()
            ));
        }
        let claim = self
            .s
            .claims
            .get(&claim_ref.id)
            .filter(|c| c.at == *claim_ref)
            .ok_or_else(|| format!("event {} is not a valid claim", claim_ref.id.short()))?;
        if claim.serial != serial {
            return Err(format!(
                "claim {} is for voucher {}, not {serial}",
                claim_ref.id.short(),
                claim.serial
            ));
        }
        if state.answered(&claim_ref.id) {
            return Err(format!(
                "claim {} is already answered",
                claim_ref.id.short()
            ));
        }
        Ok(claim)
    }

    fn transfer(
        &mut self,
        t: &pb::VoucherTransferred,
        event: &VerifiedEvent,
        past: &Past<'_>,
    ) -> Result<(), String> {
        let to = HubId::try_from(t.to_hub.as_slice()).map_err(|e| format!("to_hub: {e}"))?;
        let receiver = match (self.charter.member(&to), self.members.index(&to)) {
            (Some(m), Some(index)) if m.role == Role::Hub && to != event.author => index,
            _ => {
                return Err(format!(
                    "to_hub {} is not another hub of the federation",
                    to.short()
                ));
            }
        };
        self.change_owned(&t.serials, event, past, |_, serial, _, state| {
            if matches!(
                state.status,
                VoucherStatus::Redeemed | VoucherStatus::Cancelled
            ) {
                return Err(format!(
                    "voucher {serial} is {:?}: nothing to transfer",
                    state.status
                ));
            }
            state.owner = receiver;
            state.more().transfers.push(to);
            Ok(())
        })
    }

    fn claim(
        &mut self,
        c: &pb::VoucherClaimed,
        event: &VerifiedEvent,
        past: &Past<'_>,
        at: EventRef,
    ) -> Result<(), String> {
        let (key, state) = self.voucher_as_of(&c.serial, past)?;
        if state.owner == past.feed() {
            return Err(format!(
                "voucher {} is owned by the author: the owner redeems, it does not claim",
                c.serial
            ));
        }
        let date = date_field("date", &c.date)?;
        self.held_open_venue(&c.venue_id, event.author, past)?;
        self.check_use(self.batch(key), &c.serial, &c.service, date)?;
        self.check_venue_for(&c.venue_id, &c.service, date, past)?;
        if self.dry_run {
            return Ok(());
        }
        self.s.claims.insert(
            event.id,
            Claim {
                event: event.id,
                claimant: event.author,
                serial: c.serial.clone(),
                venue_id: c.venue_id.clone(),
                service: c.service.clone(),
                date: c.date.clone(),
                accepted: None,
                rejection: None,
                at,
            },
        );
        if state.person != NONE {
            let summary = format!(
                "voucher {} claimed at venue {} while its owner was unreachable",
                c.serial, c.venue_id
            );
            let person = self.s.people[state.person as usize].id;
            self.trace(person, event, past, ParcoursKind::VoucherClaimed, summary);
        }
        Ok(())
    }

    fn reject_claim(
        &mut self,
        r: &pb::VoucherClaimRejected,
        event: &VerifiedEvent,
        past: &Past<'_>,
    ) -> Result<(), String> {
        let claim_ref = event_ref(r.claim.as_ref().ok_or("claim: missing")?)?;
        if !past.contains_ref(&claim_ref) {
            return Err(format!(
                "claim {} is not in the event's causal past (put it in deps)",
                claim_ref.id.short()
            ));
        }
        let serial = self
            .s
            .claims
            .get(&claim_ref.id)
            .map(|c| c.serial.clone())
            .ok_or_else(|| format!("event {} is not a valid claim", claim_ref.id.short()))?;
        let (key, mut state) = self.owned(&serial, past)?;
        self.claim_in_past(&claim_ref, &serial, &state, past)?;
        if r.reason.trim().is_empty() {
            return Err("reason: a rejected claim needs a reason".into());
        }
        state.more().answered_claims.insert(claim_ref.id);
        self.record_voucher(key, Pos::of(event, past), state);
        if self.dry_run {
            return Ok(());
        }
        if let Some(claim) = self.s.claims.get_mut(&claim_ref.id) {
            claim.accepted = Some(false);
            claim.rejection = Some(r.reason.clone());
        }
        Ok(())
    }

    fn cancel(
        &mut self,
        c: &pb::VoucherCancelled,
        event: &VerifiedEvent,
        past: &Past<'_>,
    ) -> Result<(), String> {
        reason_field("reason", &c.reason)?;
        self.change_owned(&c.serials, event, past, |_, serial, _, state| {
            if matches!(
                state.status,
                VoucherStatus::Redeemed | VoucherStatus::Cancelled
            ) {
                return Err(format!(
                    "voucher {serial} is {:?}: it cannot be cancelled",
                    state.status
                ));
            }
            state.status = VoucherStatus::Cancelled;
            Ok(())
        })
    }

    fn settle(
        &mut self,
        s: &pb::RedemptionsSettled,
        event: &VerifiedEvent,
        past: &Past<'_>,
    ) -> Result<(), String> {
        Self::serials_field(&s.serials)?;
        let mut total = 0u64;
        let mut updates = Vec::new();
        for serial in &s.serials {
            let (key, mut state) = self.voucher_as_of(serial, past)?;
            let batch = self.batch(key);
            if batch.issuer != event.author {
                return Err(format!(
                    "voucher {serial} was issued by {}: only the issuer settles it",
                    batch.issuer.short()
                ));
            }
            total += batch.face_value_cents;
            match &state.redemption {
                Some(r) if self.s.venue_ids[r.venue as usize] == s.venue_id => {}
                Some(r) => {
                    return Err(format!(
                        "voucher {serial} was redeemed at {}, not {}",
                        self.s.venue_ids[r.venue as usize], s.venue_id
                    ));
                }
                None => {
                    return Err(format!(
                        "voucher {serial} is not redeemed in the event's causal past"
                    ));
                }
            }
            if state.settled {
                return Err(format!("voucher {serial} is already settled"));
            }
            state.settled = true;
            updates.push((key, state));
        }
        if total != s.amount_cents {
            return Err(format!(
                "amount: expected {total} cents (face values), found {}",
                s.amount_cents
            ));
        }
        if self.dry_run {
            return Ok(());
        }
        for (key, state) in updates {
            self.record_voucher(key, Pos::of(event, past), state);
        }
        *self
            .s
            .settlements
            .entry((event.author, s.venue_id.clone()))
            .or_insert(0) += total;
        Ok(())
    }

    // ----- referrals ------------------------------------------------------------------------

    fn open_referral(
        &mut self,
        o: &pb::ReferralOpened,
        event: &VerifiedEvent,
        past: &Past<'_>,
    ) -> Result<(), String> {
        let member = self.charter.member(&event.author).ok_or("unknown author")?;
        let prefix_ok = o
            .referral_id
            .split_once('-')
            .is_some_and(|(dep, rest)| member.territories.contains(dep) && !rest.is_empty());
        if !prefix_ok || o.referral_id.len() > 64 {
            return Err(format!(
                "referral id {:?}: expected one of the author's départements, a dash, then an id",
                o.referral_id
            ));
        }
        if self.s.referrals.contains_key(&o.referral_id) {
            return Err(format!("referral {} already exists", o.referral_id));
        }
        let person = person_of(&o.person)?;
        let prescriber = prescriber_field(o.prescriber.as_ref())?;
        let needs = services_field(&o.needs)?;
        let opened = date_field("opened_on", &o.opened_on)?;
        let expires = if o.expires_on.is_empty() {
            opened + REFERRAL_DAYS_DEFAULT
        } else {
            date_field("expires_on", &o.expires_on)?
        };
        if expires < opened {
            return Err(format!(
                "expires_on: expected a day on or after opened_on {}, found {}",
                format_date(opened),
                format_date(expires)
            ));
        }
        let (handler, territory) = if !o.target_venue_id.is_empty() {
            self.venue_handler(&o.target_venue_id, past)?
        } else {
            let holder = self.charter.holder_of(&o.target_territory).ok_or_else(|| {
                format!("target territory {:?}: no hub holds it", o.target_territory)
            })?;
            (holder, o.target_territory.clone())
        };
        let referral = Referral {
            referral_id: o.referral_id.clone(),
            person,
            prescriber_kind: prescriber.0,
            prescriber_name: prescriber.1,
            opened_by: event.author,
            handler,
            needs,
            target_venue_id: o.target_venue_id.clone(),
            target_territory: territory,
            opened_on: format_date(opened),
            expires_on: format_date(expires),
            status: ReferralStatus::Open,
            venue_id: String::new(),
            accepted_on: String::new(),
            autonomy: String::new(),
        };
        let summary = format!(
            "referred by {} ({}) for {}; handled by hub {} (territory {})",
            referral.prescriber_name,
            referral.prescriber_kind,
            referral.needs.join(", "),
            self.hub_name(&handler),
            referral.target_territory
        );
        if self.dry_run {
            return Ok(());
        }
        self.s.referrals.insert(
            o.referral_id.clone(),
            vec![(Pos::of(event, past), referral)],
        );
        self.trace(person, event, past, ParcoursKind::ReferralOpened, summary);
        let index = self.person_index(person);
        self.s.links.open(&o.referral_id, index);
        Ok(())
    }

    fn referral_step(
        &mut self,
        referral_id: &str,
        event: &VerifiedEvent,
        past: &Past<'_>,
        step: Step<'_>,
    ) -> Result<(), String> {
        let mut referral = self
            .s
            .referrals
            .get(referral_id)
            .and_then(|h| as_of(h, past))
            .cloned()
            .ok_or_else(|| format!("referral {referral_id} is not in the event's causal past"))?;
        if referral.handler != event.author {
            return Err(format!(
                "referral {referral_id} is handled by hub {} in the event's causal past, not by the author",
                referral.handler.short()
            ));
        }
        let day = day_of_millis(hlc_millis(event.hlc));
        let summary = match step {
            Step::Accept(a) => {
                if referral.status != ReferralStatus::Open {
                    return Err(format!(
                        "referral {referral_id} is {:?}, not open",
                        referral.status
                    ));
                }
                self.held_open_venue(&a.venue_id, event.author, past)?;
                let date = if a.date.is_empty() {
                    day
                } else {
                    date_field("date", &a.date)?
                };
                if date > parse_date(&referral.expires_on).unwrap_or(i32::MAX) {
                    return Err(format!(
                        "referral {referral_id} expired on {}",
                        referral.expires_on
                    ));
                }
                referral.status = ReferralStatus::Accepted;
                referral.venue_id = a.venue_id.clone();
                referral.accepted_on = format_date(date);
                format!(
                    "accepted at venue {} on {}",
                    a.venue_id, referral.accepted_on
                )
            }
            Step::Decline(d) => {
                reason_field("reason", &d.reason)?;
                if referral.status != ReferralStatus::Open {
                    return Err(format!(
                        "referral {referral_id} is {:?}, not open",
                        referral.status
                    ));
                }
                referral.status = ReferralStatus::Declined;
                format!("declined: {}", d.reason)
            }
            Step::Forward(f) => {
                if referral.status != ReferralStatus::Open {
                    return Err(format!(
                        "referral {referral_id} is {:?}, not open",
                        referral.status
                    ));
                }
                let (holder, departement) = self.venue_handler(&f.to_venue_id, past)?;
                referral.handler = holder;
                referral.target_venue_id = f.to_venue_id.clone();
                referral.target_territory = departement;
                format!(
                    "forwarded to venue {} (hub {})",
                    f.to_venue_id,
                    self.hub_name(&holder)
                )
            }
            Step::Close(c) => {
                if !matches!(
                    referral.status,
                    ReferralStatus::Open | ReferralStatus::Accepted
                ) {
                    return Err(format!(
                        "referral {referral_id} is {:?}: it cannot be closed",
                        referral.status
                    ));
                }
                if !["completed", "no_show", "abandoned"].contains(&c.outcome.as_str()) {
                    return Err(format!(
                        "outcome: expected completed, no_show or abandoned, found {:?}",
                        c.outcome
                    ));
                }
                referral.status = ReferralStatus::Closed {
                    outcome: c.outcome.clone(),
                };
                referral.autonomy = c.autonomy.clone();
                format!("closed: {}", c.outcome)
            }
        };
        if self.dry_run {
            return Ok(());
        }
        let person = referral.person;
        // The referral is in the past, so it has a history; histories grow one step at a
        // time (a referral has a few steps and each is a whole record).
        if let Some(history) = self.s.referrals.get_mut(referral_id) {
            history.reserve_exact(1);
            history.push((Pos::of(event, past), referral));
        }
        let kind = match step {
            Step::Accept(_) => ParcoursKind::ReferralAccepted,
            Step::Decline(_) => ParcoursKind::ReferralDeclined,
            Step::Forward(_) => ParcoursKind::ReferralForwarded,
            Step::Close(_) => ParcoursKind::ReferralClosed,
        };
        self.trace(
            person,
            event,
            past,
            kind,
            format!("referral {referral_id} {summary}"),
        );
        Ok(())
    }

    fn accompany(
        &mut self,
        a: &pb::AccompanimentRecorded,
        event: &VerifiedEvent,
        past: &Past<'_>,
    ) -> Result<(), String> {
        let person = person_of(&a.person)?;
        self.held_open_venue(&a.venue_id, event.author, past)?;
        let services = services_field(&a.services)?;
        date_field("date", &a.date)?;
        if !["individual", "collective", "remote"].contains(&a.mode.as_str()) {
            return Err(format!(
                "mode: expected individual, collective or remote, found {:?}",
                a.mode
            ));
        }
        if a.duration_min == 0 || a.duration_min > 24 * 60 {
            return Err(format!(
                "duration: expected 1..=1440 minutes, found {}",
                a.duration_min
            ));
        }
        if !a.referral_id.is_empty()
            && self
                .s
                .referrals
                .get(&a.referral_id)
                .and_then(|h| as_of(h, past))
                .is_none()
        {
            return Err(format!(
                "referral {} is not in the event's causal past",
                a.referral_id
            ));
        }
        let record = Accompaniment {
            event: event.id,
            venue_id: a.venue_id.clone(),
            referral_id: a.referral_id.clone(),
            services,
            date: a.date.clone(),
            duration_min: a.duration_min,
            mode: a.mode.clone(),
        };
        let summary = format!(
            "{} min {} accompaniment at venue {} on {}",
            a.duration_min, a.mode, a.venue_id, a.date
        );
        if self.dry_run {
            return Ok(());
        }
        if !self.s.forgotten.contains(&person) {
            let index = self.person_index(person);
            self.s.people[index as usize]
                .accompaniments
                .insert(record.event, record);
        }
        self.trace(
            person,
            event,
            past,
            ParcoursKind::AccompanimentRecorded,
            summary,
        );
        Ok(())
    }

    fn trace(
        &mut self,
        person: PersonId,
        event: &VerifiedEvent,
        past: &Past<'_>,
        kind: ParcoursKind,
        summary: String,
    ) {
        if self.dry_run || self.s.forgotten.contains(&person) {
            return;
        }
        let entry = Line {
            hlc: event.hlc,
            event: event.id,
            hub: past.feed(),
            kind,
            summary: summary.into_boxed_str(),
        };
        let index = self.person_index(person);
        let parcours = &mut self.s.people[index as usize].parcours;
        // Almost always the newest entry: look from the end.
        if parcours.last().is_none_or(|last| *last < entry) {
            parcours.push(entry);
        } else if let Err(at) = parcours.binary_search(&entry) {
            parcours.insert(at, entry);
        }
    }

    fn hub_name(&self, hub: &HubId) -> String {
        self.charter
            .member(hub)
            .map_or_else(|| hub.short(), |m| m.name.clone())
    }

    // ----- views ----------------------------------------------------------------------------

    /// The venue directory.
    pub fn venues(&self) -> &VenueDirectory {
        &self.s.venues
    }

    /// Open venues matching every criterion of `query`, nearest first when a point is given,
    /// else by venue id.
    pub fn search_venues(&self, query: &VenueQuery) -> Vec<(&crate::venues::Venue, Option<f64>)> {
        let mut found: Vec<(&crate::venues::Venue, Option<f64>)> = self
            .s
            .venues
            .venues()
            .values()
            .filter(|v| v.closed.is_none())
            .filter(|v| {
                query
                    .departement
                    .as_ref()
                    .is_none_or(|d| v.departement.eq_ignore_ascii_case(d))
            })
            .filter(|v| {
                query
                    .service
                    .as_ref()
                    .is_none_or(|s| v.record.services.iter().any(|x| x == s))
            })
            .filter(|v| {
                query.public.as_ref().is_none_or(|p| {
                    v.record
                        .publics_specifiquement_adresses
                        .iter()
                        .chain(&v.record.prise_en_charge_specifique)
                        .any(|x| x == p)
                })
            })
            .filter(|v| {
                query.qualified_on.is_none_or(|day| {
                    self.qualification(&v.venue_id).is_some_and(|q| {
                        parse_date(&q.valid_until).is_some_and(|until| until >= day)
                    })
                })
            })
            .filter_map(|v| match query.near {
                None => Some((v, None)),
                Some((lat, lon, within_km)) => {
                    let d = distance_km(
                        lat,
                        lon,
                        v.record.latitude_micro?,
                        v.record.longitude_micro?,
                    );
                    (d <= within_km).then_some((v, Some(d)))
                }
            })
            .collect();
        if query.near.is_some() {
            found.sort_by(|a, b| {
                a.1.unwrap_or(0.0)
                    .total_cmp(&b.1.unwrap_or(0.0))
                    .then_with(|| a.0.venue_id.cmp(&b.0.venue_id))
            });
        }
        found
    }

    /// A venue's current qualification.
    pub fn qualification(&self, venue_id: &str) -> Option<&Qualification> {
        self.venue_now(venue_id)
            .and_then(|s| s.qualification.as_ref())
    }

    /// Every batch, by batch id.
    pub fn batches(&self) -> Vec<&Batch> {
        let mut all: Vec<&Batch> = self.s.batches.iter().map(|b| &b.batch).collect();
        all.sort_unstable_by(|a, b| a.batch_id.cmp(&b.batch_id));
        all
    }

    /// A batch by its id.
    pub fn batch_by_id(&self, batch_id: &str) -> Option<&Batch> {
        self.s
            .batch_index
            .get(batch_id)
            .map(|i| &self.s.batches[*i as usize].batch)
    }

    /// A voucher's current state (`None` if its batch is unknown or the number is out of range).
    pub fn voucher(&self, serial: &str) -> Option<VoucherState> {
        let (batch_id, number) = serial.rsplit_once('-')?;
        let index = *self.s.batch_index.get(batch_id)?;
        let info = &self.s.batches[index as usize];
        let n: u32 = number.parse().ok()?;
        if n == 0 || n > info.batch.count || number.starts_with('0') {
            return None;
        }
        Some(match self.s.vouchers.get(&(index, n)) {
            Some(at) => self.public(&self.s.voucher_log[*at].state),
            None => VoucherState::issued(self.members.hub(info.issuer)),
        })
    }

    /// The public form of a voucher's state.
    fn public(&self, state: &Compact) -> VoucherState {
        let more = state.more.as_deref();
        VoucherState {
            owner: self.members.hub(state.owner),
            status: state.status,
            person: (state.person != NONE).then(|| self.s.people[state.person as usize].id),
            redemption: state.redemption.as_ref().map(|r| {
                Box::new(Redemption {
                    venue_id: self.s.venue_ids[r.venue as usize].clone(),
                    service: SERVICES[usize::from(r.service)].to_owned(),
                    date: String::from_utf8_lossy(&r.date).into_owned(),
                    event: r.event,
                    claim: r.claim,
                })
            }),
            settled: state.settled,
            answered_claims: more.map(|m| m.answered_claims.clone()).unwrap_or_default(),
            transfers: more.map(|m| m.transfers.clone()).unwrap_or_default(),
        }
    }

    /// Every voucher that left the `Issued` state with its serial, by batch id then number
    /// (the same order on every node).
    pub fn touched_vouchers(&self) -> impl Iterator<Item = (String, VoucherState)> + '_ {
        let rank: BTreeMap<&str, u32> = self
            .s
            .batches
            .iter()
            .enumerate()
            .map(|(i, b)| (b.batch.batch_id.as_str(), i as u32))
            .collect();
        let mut order = vec![0u32; self.s.batches.len()];
        for (sorted, (_, index)) in rank.iter().enumerate() {
            order[*index as usize] = sorted as u32;
        }
        let mut touched: Vec<(u32, u32, u32)> = self
            .s
            .vouchers
            .sorted()
            .into_iter()
            .map(|((batch, number), at)| (order[*batch as usize], *number, *at))
            .collect();
        touched.sort_unstable();
        touched.into_iter().map(|(_, number, at)| {
            let rec = &self.s.voucher_log[at];
            let batch = &self.s.batches[rec.batch as usize].batch.batch_id;
            (format!("{batch}-{number}"), self.public(&rec.state))
        })
    }

    /// The vouchers whose latest state names `person`, with their serials, by batch id then
    /// number (the order of [`Ledger::touched_vouchers`]).
    pub fn person_vouchers(&self, person: &PersonId) -> Vec<(String, VoucherState)> {
        let Some(index) = self.s.persons.get(person).copied() else {
            return Vec::new();
        };
        let mut found: Vec<(&str, u32, u32)> = self
            .s
            .links
            .vouchers(index)
            .filter_map(|key| {
                let at = *self.s.vouchers.get(key)?;
                (self.s.voucher_log[at].state.person == index).then(|| {
                    let batch = self.s.batches[key.0 as usize].batch.batch_id.as_str();
                    (batch, key.1, at)
                })
            })
            .collect();
        found.sort_unstable();
        found.dedup();
        found
            .into_iter()
            .map(|(batch, number, at)| {
                (
                    format!("{batch}-{number}"),
                    self.public(&self.s.voucher_log[at].state),
                )
            })
            .collect()
    }

    /// The current state of every referral opened for `person`, by referral id.
    pub fn person_referrals(&self, person: &PersonId) -> Vec<&Referral> {
        let Some(index) = self.s.persons.get(person) else {
            return Vec::new();
        };
        let mut ids: Vec<&str> = self.s.links.referrals(*index).collect();
        ids.sort_unstable();
        ids.dedup();
        ids.into_iter()
            .filter_map(|id| self.referral(id))
            .filter(|r| r.person == *person)
            .collect()
    }

    /// Claims and their answers.
    pub fn claims(&self) -> &BTreeMap<EventId, Claim> {
        &self.s.claims
    }

    /// A referral's current state.
    pub fn referral(&self, referral_id: &str) -> Option<&Referral> {
        self.s
            .referrals
            .get(referral_id)
            .and_then(|h| h.last())
            .map(|(_, r)| r)
    }

    /// Every referral's current state, by referral id.
    pub fn referrals(&self) -> impl Iterator<Item = &Referral> {
        self.s
            .referrals
            .sorted()
            .into_iter()
            .filter_map(|(_, h)| h.last().map(|(_, r)| r))
    }

    /// A person's parcours, in causal order (HLC, then event id); `None` if forgotten.
    pub fn parcours(&self, person: &PersonId) -> Option<Vec<ParcoursEntry>> {
        if self.s.forgotten.contains(person) {
            return None;
        }
        Some(
            self.person(person)
                .map(|p| {
                    p.parcours
                        .iter()
                        .map(|step| ParcoursEntry {
                            hlc: step.hlc,
                            event: step.event,
                            hub: self.members.hub(step.hub),
                            kind: step.kind,
                            summary: step.summary.to_string(),
                        })
                        .collect()
                })
                .unwrap_or_default(),
        )
    }

    fn person(&self, person: &PersonId) -> Option<&PersonRec> {
        self.s
            .persons
            .get(person)
            .map(|i| &self.s.people[*i as usize])
    }

    /// Accompaniments of a person, by event id.
    pub fn accompaniments(&self, person: &PersonId) -> Vec<&Accompaniment> {
        self.person(person)
            .map(|p| p.accompaniments.values().collect())
            .unwrap_or_default()
    }

    /// True if the person asked to be forgotten.
    pub fn is_forgotten(&self, person: &PersonId) -> bool {
        self.s.forgotten.contains(person)
    }

    /// Events kept in the log without effect, by event id.
    pub fn rejections(&self) -> &BTreeMap<EventId, DomainRejection> {
        &self.s.rejections
    }

    /// Settled amounts by (issuing hub, venue).
    pub fn settlements(&self) -> &BTreeMap<(HubId, String), u64> {
        &self.s.settlements
    }

    /// The charter.
    pub fn charter(&self) -> &Charter {
        &self.charter
    }

    /// SHA-256 over a canonical encoding of every view (query-date independent). Computed
    /// once for the views as they are, then kept until they change.
    pub fn digest(&self) -> [u8; 32] {
        *self.digest.get_or_init(|| self.compute_digest())
    }

    fn compute_digest(&self) -> [u8; 32] {
        let mut all = Vec::new();
        for (name, part) in self.digest_parts() {
            all.extend_from_slice(name.as_bytes());
            all.extend_from_slice(&part);
        }
        tagged_sha256(DIGEST_TAG, &all)
    }

    /// One SHA-256 per view, to tell which view differs between two nodes.
    pub fn digest_parts(&self) -> Vec<(&'static str, [u8; 32])> {
        struct Canonical<'a> {
            applied: BTreeMap<HubId, u64>,
            venues: Vec<(&'a String, EventId, &'a str, bool, u32)>,
            qualifications: BTreeMap<&'a String, Option<&'a Qualification>>,
            batches: Sorted<&'a String, &'a Batch>,
            vouchers: Sorted<String, VoucherState>,
            claims: &'a BTreeMap<EventId, Claim>,
            referrals: BTreeMap<&'a String, &'a Referral>,
            accompaniments: Sorted<&'a PersonId, &'a BTreeMap<EventId, Accompaniment>>,
            parcours: Sorted<&'a PersonId, LinesRef<'a>>,
            forgotten: &'a BTreeSet<PersonId>,
            rejections: Vec<(&'a EventId, &'a str)>,
            settlements: Vec<(HubId, &'a String, u64)>,
        }
        let canonical = Canonical {
            applied: self.applied(),
            venues: self
                .s
                .venues
                .venues()
                .iter()
                .map(|(id, v)| {
                    (
                        id,
                        v.last_event,
                        v.departement.as_str(),
                        v.closed.is_some(),
                        v.updates,
                    )
                })
                .collect(),
            qualifications: self
                .s
                .venue_history
                .sorted()
                .into_iter()
                .map(|(id, h)| (id, h.last().and_then(|(_, s)| s.qualification.as_ref())))
                .collect(),
            batches: Sorted::new(
                self.s
                    .batches
                    .iter()
                    .map(|b| (&b.batch.batch_id, &b.batch))
                    .collect(),
            ),
            vouchers: Sorted::new(self.touched_vouchers().collect()),
            claims: &self.s.claims,
            referrals: self
                .s
                .referrals
                .sorted()
                .into_iter()
                .filter_map(|(k, h)| h.last().map(|(_, r)| (k, r)))
                .collect(),
            accompaniments: Sorted::new(
                self.s
                    .people
                    .iter()
                    .filter(|p| !p.accompaniments.is_empty())
                    .map(|p| (&p.id, &p.accompaniments))
                    .collect(),
            ),
            parcours: Sorted::new(
                self.s
                    .people
                    .iter()
                    .filter(|p| !p.parcours.is_empty())
                    .map(|p| (&p.id, LinesRef(&p.parcours, &self.members)))
                    .collect(),
            ),
            forgotten: &self.s.forgotten,
            rejections: self
                .s
                .rejections
                .iter()
                .map(|(id, r)| (id, r.reason.as_str()))
                .collect(),
            settlements: self
                .s
                .settlements
                .iter()
                .map(|((h, v), a)| (*h, v, *a))
                .collect(),
        };
        // serde_json over BTreeMaps and Vecs of integers and strings is deterministic. The
        // JSON goes straight into the hash: the views' text is never held whole.
        fn part<T: Serialize>(name: &'static str, value: &T) -> (&'static str, [u8; 32]) {
            let mut hasher = crate::crypto::TaggedSha256::new(name.as_bytes());
            let digest = match serde_json::to_writer(&mut hasher, value) {
                Ok(()) => hasher.finish(),
                Err(_) => tagged_sha256(name.as_bytes(), &[]),
            };
            (name, digest)
        }
        vec![
            part("applied", &canonical.applied),
            part("venues", &canonical.venues),
            part("qualifications", &canonical.qualifications),
            part("batches", &canonical.batches),
            part("vouchers", &canonical.vouchers),
            part("claims", &canonical.claims),
            part("referrals", &canonical.referrals),
            part("accompaniments", &canonical.accompaniments),
            part("parcours", &canonical.parcours),
            part("forgotten", &canonical.forgotten),
            part("rejections", &canonical.rejections),
            part("settlements", &canonical.settlements),
        ]
    }
}

/// Pairs sorted by key, encoded as a map (as a `BTreeMap` of them would be).
struct Sorted<K, V>(Vec<(K, V)>);

impl<K: Ord, V> Sorted<K, V> {
    fn new(mut pairs: Vec<(K, V)>) -> Self {
        pairs.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        Self(pairs)
    }
}

impl<K: Serialize, V: Serialize> Serialize for Sorted<K, V> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_map(self.0.iter().map(|(k, v)| (k, v)))
    }
}

/// Criteria of a venue search (all optional).
#[derive(Debug, Clone, Default)]
pub struct VenueQuery {
    /// Département code.
    pub departement: Option<String>,
    /// Exact v1 service label.
    pub service: Option<String>,
    /// Exact v1 public or specific-support label.
    pub public: Option<String>,
    /// Qualified for vouchers on this day (days since 1970-01-01).
    pub qualified_on: Option<i32>,
    /// Within `km` of a point given in micro-degrees: (latitude, longitude, km).
    pub near: Option<(i64, i64, f64)>,
}

/// Great-circle distance between two points in micro-degrees (query time only: no float is
/// ever signed or folded).
pub fn distance_km(lat1: i64, lon1: i64, lat2: i64, lon2: i64) -> f64 {
    let radians = |micro: i64| (micro as f64 / 1e6).to_radians();
    let (p1, p2) = (radians(lat1), radians(lat2));
    let dp = p2 - p1;
    let dl = radians(lon2) - radians(lon1);
    let a = (dp / 2.0).sin().powi(2) + p1.cos() * p2.cos() * (dl / 2.0).sin().powi(2);
    2.0 * 6371.0 * a.sqrt().asin()
}

enum Step<'a> {
    Accept(&'a pb::ReferralAccepted),
    Decline(&'a pb::ReferralDeclined),
    Forward(&'a pb::ReferralForwarded),
    Close(&'a pb::ReferralClosed),
}

fn person_of(bytes: &[u8]) -> Result<PersonId, String> {
    PersonId::from_slice(bytes).map_err(|e| e.to_string())
}

fn date_field(field: &str, text: &str) -> Result<i32, String> {
    parse_date(text).ok_or_else(|| format!("{field}: expected a date YYYY-MM-DD, found {text:?}"))
}

/// A reason a rule requires: the people reading the log later must know why.
fn reason_field(field: &str, text: &str) -> Result<(), String> {
    if text.trim().is_empty() {
        return Err(format!("{field}: expected a reason, found none"));
    }
    Ok(())
}

fn services_field(services: &[String]) -> Result<Vec<String>, String> {
    let mut out: Vec<String> = Vec::with_capacity(services.len());
    for s in services {
        if !SERVICES.contains(&s.as_str()) {
            return Err(format!("services: expected v1 services, found {s:?}"));
        }
        if !out.contains(s) {
            out.push(s.clone());
        }
    }
    out.sort();
    Ok(out)
}

fn prescriber_field(p: Option<&pb::Prescriber>) -> Result<(String, String), String> {
    let p = p.ok_or("prescriber: missing")?;
    if !PRESCRIBER_KINDS.contains(&p.kind.as_str()) {
        return Err(format!(
            "prescriber kind: expected one of {}, found {:?}",
            PRESCRIBER_KINDS.join(", "),
            p.kind
        ));
    }
    if p.name.trim().is_empty() || p.name.len() > 200 {
        return Err("prescriber name: expected the desk's name (1 to 200 bytes)".into());
    }
    Ok((p.kind.clone(), p.name.clone()))
}

fn event_ref(wire: &pb::EventRef) -> Result<EventRef, String> {
    Ok(EventRef {
        author: HubId::try_from(wire.author.as_slice()).map_err(|e| e.to_string())?,
        seq: wire.seq,
        id: EventId::try_from(wire.id.as_slice()).map_err(|e| e.to_string())?,
    })
}

/// The département of a venue record (for callers building events).
pub fn record_departement(record: &pb::VenueRecord) -> Option<String> {
    departement_of(
        Some(record.code_insee.as_str()).filter(|c| !c.is_empty()),
        &record.code_postal,
    )
    .ok()
}
