//! A hub that breaks the protocol: what it signs outside its authority, what it forges in
//! another hub's name, and the store its first face serves forgeries from.
//!
//! Equivocation needs no special store: the hub keeps two (one per face, each a real replica
//! over a real store), signs the same events into both, then one event per face at one seq.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use maillage_core::envelope::PROTOCOL_VERSION;
use maillage_core::venues::venue_id;
use maillage_core::{Charter, EventId, Fork, ForkProof, Head, HubId, SecretKey, VerifiedEvent, pb};
use maillage_store::{
    AcceptProofError, EventStore, Inserted, MemoryStore, RecordedFork, StoreError, VerifyReport,
};
use prost::Message;

use crate::env::sim_now_ms;

/// What a misbehaving hub does, and to whom.
#[derive(Debug, Clone)]
pub struct Misbehaviour {
    /// When it signs events outside its authority (simulated ms).
    pub out_of_territory_at_ms: Option<u64>,
    /// From when its first face serves forgeries.
    pub forge_at_ms: Option<u64>,
    /// When it equivocates.
    pub equivocate_at_ms: Option<u64>,
    /// The hub it impersonates and whose territory it intrudes on.
    pub victim: HubId,
    /// The victim's département.
    pub victim_departement: String,
    /// A venue record of the victim's département.
    pub victim_venue: pb::VenueRecord,
    /// A voucher of the victim's first carnet.
    pub victim_serial: String,
    /// Peers its second face dials.
    pub second_face_peers: Vec<String>,
}

/// What the misbehaving hub did, for the invariants.
#[derive(Debug, Clone, Default)]
pub struct Evidence {
    /// Events it signed outside its authority.
    pub intrusions: Vec<EventId>,
    /// The equivocation: seq and the two ids.
    pub equivocation: Option<(u64, EventId, EventId)>,
    /// When it equivocated (simulated ms).
    pub equivocated_at_ms: u64,
    /// Forged events it served: seq in the victim's feed, id.
    pub forged: Vec<(u64, EventId)>,
}

/// The events it signs outside its authority: a venue in the victim's département, a batch
/// named after it, a redemption of the victim's voucher.
pub fn intrusions(me: &HubId, m: &Misbehaviour) -> Vec<pb::event::Body> {
    let mut record = m.victim_venue.clone();
    record.id = "intrusion-1".into();
    vec![
        pb::event::Body::VenueRegistered(pb::VenueRegistered {
            venue_id: venue_id(me, &record.id),
            record: Some(record),
        }),
        crate::workload::batch(format!("{}-2026-INTRUSION-1", m.victim_departement), 10),
        pb::event::Body::VoucherRedeemed(pb::VoucherRedeemed {
            serial: m.victim_serial.clone(),
            venue_id: venue_id(&m.victim, &m.victim_venue.id),
            service: maillage_core::vocab::Service::Outils.as_str().into(),
            date: "2026-03-16".into(),
            claim: None,
        }),
    ]
}

/// The two events of an equivocation: two batches with different ids at one seq.
pub fn equivocation(departement: &str) -> (pb::event::Body, pb::event::Body) {
    let batch =
        |half: &str| crate::workload::batch(format!("{departement}-2026-EQUIVOQUE-{half}"), 10);
    (batch("A"), batch("B"))
}

/// A forgery: the next event of `victim`'s feed after `head`, closing one of its venues, in
/// its name but signed with `forger`'s key.
fn forge(
    forger: &SecretKey,
    charter: &Charter,
    victim: &HubId,
    head: Head,
    venue: &str,
) -> pb::SignedEvent {
    let event = pb::Event {
        version: PROTOCOL_VERSION,
        federation: charter.federation_id().0.to_vec(),
        author: victim.0.to_vec(),
        seq: head.seq + 1,
        prev: head.id.0.to_vec(),
        hlc: (sim_now_ms() << 16) | 1,
        deps: Vec::new(),
        body: Some(pb::event::Body::VenueClosed(pb::VenueClosed {
            venue_id: venue.to_string(),
            reason: "fermeture définitive".into(),
            ..Default::default()
        })),
    };
    let payload = event.encode_to_vec();
    let signature = forger.sign_payload(&payload).to_vec();
    pb::SignedEvent {
        payload,
        signature,
        personal: Vec::new(),
    }
}

/// The store behind the misbehaving hub's first face: its real store, plus, once forging
/// has started, a forged next event of the victim's feed in its frontier and in the ranges
/// it serves.
pub struct FaceStore {
    inner: Arc<MemoryStore>,
    forger: SecretKey,
    charter: Arc<Charter>,
    victim: HubId,
    venue: String,
    from_ms: Option<u64>,
    /// The forgery for each victim head, by seq.
    forged: Mutex<BTreeMap<u64, (EventId, pb::SignedEvent)>>,
    evidence: Arc<Mutex<Evidence>>,
}

impl std::fmt::Debug for FaceStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FaceStore")
            .field("victim", &self.victim)
            .finish_non_exhaustive()
    }
}

impl FaceStore {
    /// The first face's store.
    pub fn new(
        inner: Arc<MemoryStore>,
        charter: Arc<Charter>,
        forger: SecretKey,
        m: &Misbehaviour,
        evidence: Arc<Mutex<Evidence>>,
    ) -> Self {
        Self {
            charter,
            inner,
            forger,
            victim: m.victim,
            venue: venue_id(&m.victim, &m.victim_venue.id),
            from_ms: m.forge_at_ms,
            forged: Mutex::new(BTreeMap::new()),
            evidence,
        }
    }

    /// The forgery that extends the victim's feed as held, once forging has started.
    fn forgery(&self) -> Option<(u64, EventId, pb::SignedEvent)> {
        let from = self.from_ms?;
        if sim_now_ms().saturating_sub(crate::env::EPOCH_MS) < from {
            return None;
        }
        let head = self.inner.head(&self.victim)?;
        let mut forged = self.forged.lock().unwrap_or_else(|p| p.into_inner());
        let (id, signed) = forged
            .entry(head.seq + 1)
            .or_insert_with(|| {
                let signed = forge(&self.forger, &self.charter, &self.victim, head, &self.venue);
                let id = maillage_core::crypto::event_id(&signed.payload);
                self.evidence
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .forged
                    .push((head.seq + 1, id));
                (id, signed)
            })
            .clone();
        Some((head.seq + 1, id, signed))
    }
}

impl EventStore for FaceStore {
    fn charter(&self) -> &Charter {
        self.inner.charter()
    }
    fn append_own(&self, events: &[VerifiedEvent]) -> Result<(), StoreError> {
        self.inner.append_own(events)
    }
    fn insert_all(&self, events: &[VerifiedEvent]) -> Result<Vec<Inserted>, StoreError> {
        self.inner.insert_all(events)
    }
    fn head(&self, author: &HubId) -> Option<Head> {
        self.inner.head(author)
    }
    fn frontier(&self) -> BTreeMap<HubId, Head> {
        let mut frontier = self.inner.frontier();
        if let Some((seq, id, _)) = self.forgery() {
            frontier.insert(self.victim, Head { seq, id });
        }
        frontier
    }
    fn forks(&self) -> BTreeMap<HubId, RecordedFork> {
        self.inner.forks()
    }
    fn resolve_fork(
        &self,
        author: &HubId,
        last_seq: u64,
        branch: maillage_core::EventId,
    ) -> Result<bool, maillage_store::StoreError> {
        self.inner.resolve_fork(author, last_seq, branch)
    }
    fn held_branch(
        &self,
        author: &HubId,
    ) -> Result<Option<(u64, maillage_core::EventId)>, maillage_store::StoreError> {
        self.inner.held_branch(author)
    }
    fn accept_fork_proof(&self, proof: ForkProof) -> Result<Option<Fork>, AcceptProofError> {
        self.inner.accept_fork_proof(proof)
    }
    fn get(&self, author: &HubId, seq: u64) -> Result<Option<VerifiedEvent>, StoreError> {
        self.inner.get(author, seq)
    }
    fn range(
        &self,
        author: &HubId,
        after_seq: u64,
        limit: usize,
    ) -> Result<Vec<VerifiedEvent>, StoreError> {
        self.inner.range(author, after_seq, limit)
    }
    fn range_signed(
        &self,
        author: &HubId,
        after_seq: u64,
        limit: usize,
    ) -> Result<Vec<(u64, pb::SignedEvent)>, StoreError> {
        let mut events = self.inner.range_signed(author, after_seq, limit)?;
        if *author == self.victim
            && events.len() < limit
            && let Some((seq, _, signed)) = self.forgery()
            && events.last().map_or(after_seq, |(s, _)| *s) + 1 == seq
        {
            events.push((seq, signed));
        }
        Ok(events)
    }
    fn head_hlcs(&self) -> BTreeMap<HubId, u64> {
        self.inner.head_hlcs()
    }
    fn erase_personal(&self, events: &[EventId]) -> Result<usize, StoreError> {
        self.inner.erase_personal(events)
    }
    fn held_personal(&self, events: &mut dyn Iterator<Item = &EventId>) -> Vec<EventId> {
        self.inner.held_personal(events)
    }
    fn damaged(&self) -> BTreeMap<HubId, maillage_store::Damage> {
        self.inner.damaged()
    }
    fn verify(
        &self,
        signatures: bool,
        progress: &mut dyn FnMut(u64),
    ) -> Result<VerifyReport, StoreError> {
        self.inner.verify(signatures, progress)
    }
    fn meta_get(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        self.inner.meta_get(key)
    }
    fn meta_put(&self, key: &str, value: &[u8]) -> Result<(), StoreError> {
        self.inner.meta_put(key, value)
    }
    fn size_on_disk(&self) -> Result<u64, StoreError> {
        self.inner.size_on_disk()
    }
}
