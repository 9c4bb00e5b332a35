//! What the views hold, in the form readers get it: venues' qualifications, batches,
//! vouchers, claims, referrals, a person's parcours, accompaniments. Every field is a typed
//! value (a [`Day`], a [`Service`], an id); none is prose computed by the fold.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use crate::date::Day;
use crate::envelope::EventRef;
use crate::ids::{EventId, HubId};
use crate::person::PersonId;
use crate::rejection::Rejection;
use crate::vocab::{Autonomy, Mode, Outcome, PrescriberKind, Service};

/// A venue's qualification for vouchers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Qualification {
    /// e.g. "pass-numerique".
    pub scheme: String,
    /// Last day of validity.
    pub valid_until: Day,
    /// Services it may redeem vouchers for (empty: any), sorted.
    pub services: Vec<Service>,
    /// The qualifying event.
    pub event: EventId,
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
    pub valid_from: Day,
    /// Last valid day.
    pub valid_until: Day,
    /// Last day to redeem.
    pub redeem_deadline: Day,
    /// Services (empty: any), sorted.
    pub eligible_services: Vec<Service>,
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

impl VoucherStatus {
    /// The snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Issued => "issued",
            Self::HandedOut => "handed_out",
            Self::Redeemed => "redeemed",
            Self::Cancelled => "cancelled",
        }
    }
}

/// A redemption.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Redemption {
    /// Where.
    pub venue_id: String,
    /// For what.
    pub service: Service,
    /// When.
    pub date: Day,
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
    /// Handed to a person once (known from the permanent event, held part or not: what
    /// aggregates count).
    pub handed_out: bool,
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
            handed_out: false,
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
    pub service: Service,
    /// Date.
    pub date: Day,
    /// The owner's answer: `Some(true)` accepted, `Some(false)` rejected.
    pub accepted: Option<bool>,
    /// The owner's reason for rejecting it (its own words, from its event).
    pub rejection: Option<String>,
    /// The claiming event's position.
    pub at: EventRef,
}

/// A referral's status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
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
        /// How it ended.
        outcome: Outcome,
    },
}

impl ReferralStatus {
    /// The snake_case name (a closed referral by its outcome, as readers count them).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Open => "open",
            Self::Accepted => "accepted",
            Self::Declined => "declined",
            Self::Closed { outcome } => outcome.as_str(),
        }
    }

    /// The tag in the digest's canonical encoding.
    pub(crate) fn tag(self) -> u8 {
        match self {
            Self::Open => 1,
            Self::Accepted => 2,
            Self::Declined => 3,
            Self::Closed { outcome } => 0x10 | outcome.tag(),
        }
    }
}

/// A referral's state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Referral {
    /// Its id.
    pub referral_id: String,
    /// The person, while this node holds the referral's personal part (§2b).
    pub person: Option<PersonId>,
    /// The commitment to the personal part.
    pub personal: [u8; 32],
    /// Who referred.
    pub prescriber_kind: PrescriberKind,
    /// The desk.
    pub prescriber_name: String,
    /// The hub that opened it.
    pub opened_by: HubId,
    /// The hub handling it now.
    pub handler: HubId,
    /// Needs (services), sorted.
    pub needs: Vec<Service>,
    /// Target venue (empty: a territory).
    pub target_venue_id: String,
    /// Target département.
    pub target_territory: String,
    /// Opening day.
    pub opened_on: Day,
    /// Expiry day if still open.
    pub expires_on: Day,
    /// Status.
    pub status: ReferralStatus,
    /// Venue that accepted (empty until then).
    pub venue_id: String,
    /// Acceptance day.
    pub accepted_on: Option<Day>,
    /// Autonomy at closing.
    pub autonomy: Option<Autonomy>,
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

/// What a parcours step records, as typed values; [`ParcoursEntry::summary`] is written from
/// it when the parcours is read.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum StepDetail {
    /// Vouchers handed out.
    HandedOut {
        /// The serials.
        serials: Vec<String>,
        /// Who handed them out.
        prescriber_kind: PrescriberKind,
        /// The desk.
        prescriber_name: String,
    },
    /// A voucher redeemed.
    Redeemed {
        /// The serial.
        serial: String,
        /// Where.
        venue_id: String,
        /// For what.
        service: Service,
        /// When.
        date: Day,
    },
    /// A voucher claimed while its owner was unreachable.
    Claimed {
        /// The serial.
        serial: String,
        /// Where.
        venue_id: String,
    },
    /// A referral opened.
    ReferralOpened {
        /// The referral.
        referral_id: String,
        /// Who referred.
        prescriber_kind: PrescriberKind,
        /// The desk.
        prescriber_name: String,
        /// Needs.
        needs: Vec<Service>,
        /// The hub handling it.
        handler: HubId,
        /// Its département.
        territory: String,
    },
    /// A referral accepted.
    ReferralAccepted {
        /// The referral.
        referral_id: String,
        /// The venue.
        venue_id: String,
        /// When.
        date: Day,
    },
    /// A referral declined.
    ReferralDeclined {
        /// The referral.
        referral_id: String,
        /// The handling hub's reason (its words).
        reason: String,
    },
    /// A referral forwarded.
    ReferralForwarded {
        /// The referral.
        referral_id: String,
        /// The new target venue.
        venue_id: String,
        /// The hub handling it now.
        handler: HubId,
    },
    /// A referral closed.
    ReferralClosed {
        /// The referral.
        referral_id: String,
        /// How it ended.
        outcome: Outcome,
    },
    /// An accompaniment.
    Accompaniment {
        /// Where.
        venue_id: String,
        /// How long.
        duration_min: u32,
        /// How.
        mode: Mode,
        /// When.
        date: Day,
    },
}

impl StepDetail {
    /// The kind of step.
    pub fn kind(&self) -> ParcoursKind {
        match self {
            Self::HandedOut { .. } => ParcoursKind::VouchersHandedOut,
            Self::Redeemed { .. } => ParcoursKind::VoucherRedeemed,
            Self::Claimed { .. } => ParcoursKind::VoucherClaimed,
            Self::ReferralOpened { .. } => ParcoursKind::ReferralOpened,
            Self::ReferralAccepted { .. } => ParcoursKind::ReferralAccepted,
            Self::ReferralDeclined { .. } => ParcoursKind::ReferralDeclined,
            Self::ReferralForwarded { .. } => ParcoursKind::ReferralForwarded,
            Self::ReferralClosed { .. } => ParcoursKind::ReferralClosed,
            Self::Accompaniment { .. } => ParcoursKind::AccompanimentRecorded,
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
    /// What the step records.
    pub detail: StepDetail,
    /// Plain-language summary, written from `detail` when read (hubs by name).
    pub summary: String,
}

/// An accompaniment recorded by a venue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Accompaniment {
    /// The event.
    pub event: EventId,
    /// Venue.
    pub venue_id: String,
    /// Referral (empty: none).
    pub referral_id: String,
    /// Services, sorted.
    pub services: Vec<Service>,
    /// Day.
    pub date: Day,
    /// Minutes.
    pub duration_min: u32,
    /// How.
    pub mode: Mode,
}

/// An event kept in the log without effect: the rule it breaks.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct DomainRejection {
    /// The event.
    pub event: EventId,
    /// Its author.
    pub author: HubId,
    /// Its seq.
    pub seq: u64,
    /// The rule and the facts of the case.
    pub rejection: Rejection,
}

impl DomainRejection {
    /// The rule's stable code.
    pub fn code(&self) -> &'static str {
        self.rejection.code()
    }

    /// The reason, in English, written from the facts now.
    pub fn reason(&self) -> String {
        self.rejection.to_string()
    }
}

/// What the rules say of a draft event ([`crate::Ledger::evaluate`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Evaluation {
    /// The rules accept it: signing it applies it.
    Accepted,
    /// A rule rejects it: an honest node does not sign it.
    Rejected(Rejection),
    /// The draft is not a valid event at all (too many deps, too large…).
    Invalid(String),
    /// Its feed or a dep is not applied in these views: it cannot be judged yet.
    Waiting,
}
