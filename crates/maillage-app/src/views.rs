//! What a node answers about its views, as typed values a front end renders (text, JSON,
//! HTML, protobuf) without reaching into the fold.

use maillage_core::ledger::{Batch, Claim, ParcoursKind, Redemption, Referral};
use maillage_core::{EventId, HubId, PersonId, pb};
use serde::{Deserialize, Serialize};

/// A venue.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VenueView {
    /// Federation-wide id.
    pub venue_id: String,
    /// Its département.
    pub departement: String,
    /// The hub holding it.
    pub hub: HubId,
    /// That hub's name.
    pub hub_name: String,
    /// Why it closed, if it did.
    pub closed: Option<String>,
    /// Updates applied since registration.
    pub updates: u32,
    /// The last event that changed it.
    pub last_event: EventId,
    /// Distance from the point searched around, in km.
    pub distance_km: Option<f64>,
    /// Its qualification for vouchers, if any.
    pub qualified_until: Option<String>,
    /// The record of the national standard.
    pub record: VenueRecordView,
}

/// The national standard's fields of a venue (coordinates in decimal degrees, as text).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[allow(missing_docs)]
pub struct VenueRecordView {
    pub id: String,
    pub pivot: String,
    pub nom: String,
    pub commune: String,
    pub code_postal: String,
    pub code_insee: String,
    pub adresse: String,
    pub complement_adresse: String,
    pub latitude: Option<String>,
    pub longitude: Option<String>,
    pub typologie: Vec<String>,
    pub telephone: Vec<String>,
    pub courriels: Vec<String>,
    pub site_web: Vec<String>,
    pub horaires: String,
    pub presentation_resume: String,
    pub presentation_detail: String,
    pub source: String,
    pub itinerance: Vec<String>,
    pub structure_parente: String,
    pub date_maj: String,
    pub services: Vec<String>,
    pub publics_specifiquement_adresses: Vec<String>,
    pub prise_en_charge_specifique: Vec<String>,
    pub frais_a_charge: Vec<String>,
    pub dispositif_programmes_nationaux: Vec<String>,
    pub formations_labels: Vec<String>,
    pub autres_formations_labels: String,
    pub modalites_acces: Vec<String>,
    pub modalites_accompagnement: Vec<String>,
    pub fiche_acces_libre: String,
    pub prise_rdv: String,
}

impl From<&pb::VenueRecord> for VenueRecordView {
    fn from(r: &pb::VenueRecord) -> Self {
        Self {
            id: r.id.clone(),
            pivot: r.pivot.clone(),
            nom: r.nom.clone(),
            commune: r.commune.clone(),
            code_postal: r.code_postal.clone(),
            code_insee: r.code_insee.clone(),
            adresse: r.adresse.clone(),
            complement_adresse: r.complement_adresse.clone(),
            latitude: r.latitude_micro.map(maillage_venues::micro_to_decimal),
            longitude: r.longitude_micro.map(maillage_venues::micro_to_decimal),
            typologie: r.typologie.clone(),
            telephone: r.telephone.clone(),
            courriels: r.courriels.clone(),
            site_web: r.site_web.clone(),
            horaires: r.horaires.clone(),
            presentation_resume: r.presentation_resume.clone(),
            presentation_detail: r.presentation_detail.clone(),
            source: r.source.clone(),
            itinerance: r.itinerance.clone(),
            structure_parente: r.structure_parente.clone(),
            date_maj: r.date_maj.clone(),
            services: r.services.clone(),
            publics_specifiquement_adresses: r.publics_specifiquement_adresses.clone(),
            prise_en_charge_specifique: r.prise_en_charge_specifique.clone(),
            frais_a_charge: r.frais_a_charge.clone(),
            dispositif_programmes_nationaux: r.dispositif_programmes_nationaux.clone(),
            formations_labels: r.formations_labels.clone(),
            autres_formations_labels: r.autres_formations_labels.clone(),
            modalites_acces: r.modalites_acces.clone(),
            modalites_accompagnement: r.modalites_accompagnement.clone(),
            fiche_acces_libre: r.fiche_acces_libre.clone(),
            prise_rdv: r.prise_rdv.clone(),
        }
    }
}

/// A voucher's status on a day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VoucherStatusView {
    /// Issued, in no one's hands.
    Issued,
    /// In a person's carnet.
    HandedOut,
    /// Used.
    Redeemed,
    /// Withdrawn.
    Cancelled,
    /// Neither redeemed nor cancelled, past its batch's redeem deadline.
    Expired,
}

impl VoucherStatusView {
    /// The snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Issued => "issued",
            Self::HandedOut => "handed_out",
            Self::Redeemed => "redeemed",
            Self::Cancelled => "cancelled",
            Self::Expired => "expired",
        }
    }
}

/// A voucher.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VoucherView {
    /// Serial.
    pub serial: String,
    /// Status on `as_of`.
    pub status: VoucherStatusView,
    /// The day.
    pub as_of: String,
    /// Its owner.
    pub owner: HubId,
    /// The owner's name.
    pub owner_name: String,
    /// Who holds it (shown only to those who may read a person's data).
    pub person: Option<PersonId>,
    /// Its redemption.
    pub redemption: Option<Redemption>,
    /// Where it was redeemed, as a label.
    pub redemption_venue: Option<String>,
    /// Settled to the venue.
    pub settled: bool,
    /// Claims on it.
    pub claims: Vec<Claim>,
    /// Claimants' names, by claim.
    pub claimants: Vec<String>,
}

/// Counts by status of a batch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BatchView {
    /// The batch.
    pub batch: Batch,
    /// Its issuer's name.
    pub issuer_name: String,
    /// The day.
    pub as_of: String,
    /// Vouchers by status.
    pub counts: Vec<(VoucherStatusView, u32)>,
}

/// A referral.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReferralView {
    /// Its state.
    pub referral: Referral,
    /// Status on `as_of` (open past expiry shows `expired`; closed shows the outcome).
    pub status: String,
    /// The day.
    pub as_of: String,
    /// The opening hub's name.
    pub opened_by_name: String,
    /// The handling hub's name.
    pub handler_name: String,
    /// The target venue, as a label.
    pub target_venue: Option<String>,
    /// The accepting venue, as a label.
    pub accepted_venue: Option<String>,
}

/// One step of a parcours.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ParcoursStep {
    /// When (the author's clock), `YYYY-MM-DD HH:MM` UTC.
    pub at: String,
    /// The author's clock value.
    pub hlc: u64,
    /// The hub that signed it.
    pub hub: String,
    /// The kind (`claim_accepted` for a redemption answering a claim).
    pub kind: String,
    /// What happened.
    pub summary: String,
    /// The event.
    pub event: EventId,
}

/// A referral in progress in a parcours.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReferralInProgress {
    /// Its id.
    pub referral_id: String,
    /// Status on the day.
    pub status: String,
    /// Expiry day.
    pub expires_on: String,
    /// The handling hub's name.
    pub handler: String,
}

/// A person's parcours across all hubs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ParcoursView {
    /// The person.
    pub person: PersonId,
    /// The person asked to be forgotten: nothing below is kept.
    pub forgotten: bool,
    /// The day.
    pub as_of: String,
    /// Steps in causal order.
    pub timeline: Vec<ParcoursStep>,
    /// Referrals open, expired or accepted.
    pub referrals: Vec<ReferralInProgress>,
    /// Vouchers held (neither used, expired nor cancelled).
    pub held: Vec<String>,
    /// Vouchers used.
    pub used: Vec<String>,
    /// Vouchers expired.
    pub expired: Vec<String>,
    /// Vouchers cancelled.
    pub cancelled: Vec<String>,
    /// Venues involved, as labels.
    pub venues: Vec<String>,
    /// Venue ids involved.
    pub venue_ids: Vec<String>,
    /// Hubs involved, by name.
    pub hubs: Vec<String>,
}

/// The kind of a parcours step, as named in a [`ParcoursStep`].
pub fn step_kind(kind: ParcoursKind, answers_claim: bool) -> &'static str {
    if kind == ParcoursKind::VoucherRedeemed && answers_claim {
        "claim_accepted"
    } else {
        kind.as_str()
    }
}

/// Events applied from one feed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppliedFeed {
    /// The feed.
    pub hub: HubId,
    /// Its name.
    pub name: String,
    /// Events applied.
    pub events: u64,
}

/// The views' digest and what it covers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DigestView {
    /// SHA-256 of the views.
    pub digest: [u8; 32],
    /// Events applied, per feed.
    pub applied: Vec<AppliedFeed>,
    /// Events waiting for their causal past.
    pub pending: u64,
    /// Events kept without effect.
    pub rejections: u64,
    /// One hash per view (venues, vouchers…), to tell which view differs between two nodes.
    pub parts: Vec<(String, [u8; 32])>,
}

/// An event kept in the log without effect.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RejectionView {
    /// The event.
    pub event: EventId,
    /// Its author.
    pub hub: HubId,
    /// The author's name.
    pub name: String,
    /// Its seq.
    pub seq: u64,
    /// The stable code of the rule it broke (docs/protocol.md §4c).
    pub code: String,
    /// The rule it broke, in a sentence.
    pub reason: String,
}

/// One feed as a node holds it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FeedView {
    /// The author.
    pub author: HubId,
    /// Its name.
    pub name: String,
    /// Stored head.
    pub seq: u64,
    /// Its id.
    pub head: Option<EventId>,
    /// Folded into the views.
    pub applied: u64,
    /// Frozen by a fork proof, at this seq.
    pub fork_seq: Option<u64>,
    /// How far (ms) its last event is dated ahead of this node's clock.
    pub clock_ahead_ms: u64,
    /// Damaged on disk from this seq up to `damaged_until`, to fetch again.
    pub damaged_from: Option<u64>,
    /// See `damaged_from`.
    pub damaged_until: Option<u64>,
}

/// What a node knows of one peer (when it serves).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PeerView {
    /// Address dialled, or the peer's key for one dialling in.
    pub address: String,
    /// Its key, once a handshake succeeded.
    pub key: Option<HubId>,
    /// Its name.
    pub name: String,
    /// `connecting`, `catching-up`, `live`, `backing-off`, `incompatible-protocol`,
    /// `pulling-from-us`, `stopped`.
    pub state: String,
    /// Its last failure.
    pub last_error: String,
    /// The protocol version agreed at the last handshake (0 before one succeeded).
    pub protocol_version: u32,
    /// While the peer offers no protocol version this node implements:
    /// `incompatible protocol (peer: v3, this node: v2)`; empty otherwise.
    pub incompatible: String,
    /// Events of protocol versions this node does not implement, received from the peer and
    /// refused.
    pub unsupported: Vec<UnsupportedView>,
    /// Events received from it.
    pub events_received: u64,
    /// Of which refused.
    pub events_rejected: u64,
    /// Last contact (unix ms).
    pub last_contact_ms: u64,
    /// Per feed: (author, what the peer holds, lag of this node behind it).
    pub lags: Vec<(HubId, u64, u64)>,
}

/// Events of a protocol version this node does not implement, received from one peer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnsupportedView {
    /// Their version.
    pub version: u32,
    /// The feed they name (unauthenticated: the payload says so).
    pub author: Option<HubId>,
    /// The lowest seq they name.
    pub from_seq: u64,
    /// How many were refused.
    pub count: u64,
    /// For the operator: `events of protocol v3 from seq 6 …; this node implements v2:
    /// upgrade maillage …`.
    pub message: String,
}

/// A peer's event this node refused.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PeerRejectionView {
    /// The feed, when the event said.
    pub author: Option<HubId>,
    /// Its seq.
    pub seq: u64,
    /// Where it came from.
    pub peer: String,
    /// Why.
    pub reason: String,
}

/// Replication as a serving node sees it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReplicationView {
    /// Peers.
    pub peers: Vec<PeerView>,
    /// The last refused peer events.
    pub rejected_from_peers: Vec<PeerRejectionView>,
    /// Time since the node started serving.
    pub uptime_ms: u64,
    /// Where it serves the dashboard and metrics, if it does.
    pub http: Option<String>,
}

/// A node's status.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusView {
    /// The node.
    pub node: HubId,
    /// Its name.
    pub name: String,
    /// `hub` or `observer`.
    pub role: String,
    /// The views' digest.
    pub digest: [u8; 32],
    /// Events stored.
    pub events_stored: u64,
    /// Events waiting for their causal past.
    pub events_pending: u64,
    /// Events kept without effect.
    pub domain_rejections: u64,
    /// Feeds.
    pub feeds: Vec<FeedView>,
    /// Replication, when the node serves.
    pub replication: Option<ReplicationView>,
}

/// A member of the charter.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemberView {
    /// Key.
    pub key: HubId,
    /// Name.
    pub name: String,
    /// `hub` or `observer`.
    pub role: String,
    /// Départements.
    pub territories: Vec<String>,
    /// Earlier keys of this member (succeeded), oldest first.
    #[serde(default)]
    pub former_keys: Vec<HubId>,
    /// `present`, `removed`, or `handed over to NAME`.
    #[serde(default)]
    pub status: String,
}

/// A charter amendment in the federation's history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AmendmentItem {
    /// Its number.
    pub number: u32,
    /// The proposal event.
    pub proposal: maillage_core::EventId,
    /// Who proposed it.
    pub proposer: String,
    /// What it changes.
    pub change: AmendmentChangeView,
    /// Why.
    pub reason: String,
    /// Who voted for it in its latest round of votes, the proposer first.
    pub endorsers: Vec<String>,
    /// That round: 1, unless the votes on its number split for good in a round before
    /// (docs/protocol.md §1b).
    #[serde(default = "first_round")]
    pub round: u32,
    /// In effect at the head of this node's views.
    pub in_effect: bool,
    /// In effect in some past these views hold: its keys and stops hold even when a
    /// concurrent proposal took its number (docs/protocol.md §1b).
    #[serde(default)]
    pub in_force: bool,
}

pub(crate) fn first_round() -> u32 {
    1
}

/// The charter.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CharterView {
    /// Federation name.
    pub name: String,
    /// Its id.
    pub federation_id: String,
    /// Endorsements needed to change membership.
    pub admission_threshold: u32,
    /// The protocol version the federation runs.
    pub protocol_version: u32,
    /// Members, by key.
    pub members: Vec<MemberView>,
    /// Amendments in effect at the head of this node's views (0: the founding charter).
    #[serde(default)]
    pub amendments_in_effect: u32,
    /// Every amendment proposed, by number.
    #[serde(default)]
    pub amendments: Vec<AmendmentItem>,
}

/// A change of membership, in the words of its request and of its views: members by key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AmendmentChangeView {
    /// A new member.
    Admit {
        /// Its key.
        key: HubId,
        /// Its name.
        name: String,
        /// `hub` or `observer`.
        role: String,
        /// Départements.
        territories: Vec<String>,
    },
    /// A member leaves.
    Remove {
        /// Its current key.
        member: HubId,
        /// The last seq of that key that counts.
        last_seq: u64,
    },
    /// Départements move.
    Move {
        /// From.
        from: HubId,
        /// To.
        to: HubId,
        /// Which.
        territories: Vec<String>,
    },
    /// A new threshold.
    Threshold {
        /// The threshold.
        threshold: u32,
    },
    /// A key succeeded.
    Succession {
        /// Its current key.
        member: HubId,
        /// The last seq of that key that counts.
        last_seq: u64,
        /// The successor key (new, or another hub's).
        successor: HubId,
        /// The event at `last_seq` that stands (recovery from a fork).
        branch: Option<EventId>,
    },
    /// The next protocol version.
    Protocol {
        /// The version.
        version: u32,
        /// Each hub's current key and the first seq of its feed of that version.
        switches: Vec<(HubId, u64)>,
    },
}
