//! Why the rules reject an event: one variant per rule, each with a stable code
//! ([`Rejection::code`], e.g. `voucher.already_redeemed`) and the structured facts of the case.
//!
//! The code is what the views keep and what the state digest commits to; the sentence, French
//! or English ([`std::fmt::Display`]; the French ones are in `rejection_fr.rs`), is rendered
//! from the facts when someone reads it, so rewording a message never moves a digest. docs/protocol.md §4c lists every code with the rule it
//! enforces; codes are never renamed or reused.
//!
//! Size: one variant per rule, with its code and its sentence beside it, so that a rule is
//! added, and reviewed, in one place.

use serde::{Deserialize, Serialize};

use crate::excerpt::Excerpt;
use crate::ids::{EventId, HubId};

/// A field of an event body, as rejections name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Field {
    /// `date`.
    Date,
    /// `valid_from`.
    ValidFrom,
    /// `valid_until`.
    ValidUntil,
    /// `redeem_deadline`.
    RedeemDeadline,
    /// `opened_on`.
    OpenedOn,
    /// `expires_on`.
    ExpiresOn,
    /// `reason`.
    Reason,
    /// `service`.
    Service,
    /// `services`.
    Services,
    /// `needs`.
    Needs,
    /// `record`.
    Record,
    /// `prescriber`.
    Prescriber,
    /// `person`.
    Person,
    /// `claim`.
    Claim,
    /// `to_hub`.
    ToHub,
    /// `count`.
    Count,
    /// `face_value_cents`.
    FaceValue,
    /// `funder`.
    Funder,
    /// `territories`.
    Territories,
    /// `mode`.
    Mode,
    /// `duration_min`.
    Duration,
    /// `outcome`.
    Outcome,
    /// `autonomy`.
    Autonomy,
    /// `serials`.
    Serials,
    /// `scheme`.
    Scheme,
    /// `change` (of an amendment).
    Change,
    /// `key` (of a member).
    Key,
    /// `role` (of a member).
    Role,
    /// `proposal` (of an endorsement).
    Proposal,
}

impl Field {
    /// The field's name in `events.proto`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Date => "date",
            Self::ValidFrom => "valid_from",
            Self::ValidUntil => "valid_until",
            Self::RedeemDeadline => "redeem_deadline",
            Self::OpenedOn => "opened_on",
            Self::ExpiresOn => "expires_on",
            Self::Reason => "reason",
            Self::Service => "service",
            Self::Services => "services",
            Self::Needs => "needs",
            Self::Record => "record",
            Self::Prescriber => "prescriber",
            Self::Person => "person",
            Self::Claim => "claim",
            Self::ToHub => "to_hub",
            Self::Count => "count",
            Self::FaceValue => "face_value_cents",
            Self::Funder => "funder",
            Self::Territories => "territories",
            Self::Mode => "mode",
            Self::Duration => "duration_min",
            Self::Outcome => "outcome",
            Self::Autonomy => "autonomy",
            Self::Serials => "serials",
            Self::Scheme => "scheme",
            Self::Change => "change",
            Self::Key => "key",
            Self::Role => "role",
            Self::Proposal => "proposal",
        }
    }
}

/// Why the rules reject an event. Strings are the event's own values (quoted as bounded
/// excerpts when shown); ids and days are the views'.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Rejection {
    // ----- fields ---------------------------------------------------------------------------
    /// `field.missing`: a required part of the body is absent.
    Missing {
        /// Which.
        field: Field,
    },
    /// `field.date`: not a real day written `YYYY-MM-DD`.
    BadDate {
        /// Which.
        field: Field,
        /// What the event carries.
        found: String,
    },
    /// `field.reason`: a reason is required and the event gives none (blank counts as none).
    NoReason {
        /// Which.
        field: Field,
    },
    /// `field.service`: not a service of the standard v1.
    BadService {
        /// Which.
        field: Field,
        /// What the event carries.
        found: String,
    },
    /// `field.prescriber_kind`: not a known prescriber kind.
    BadPrescriberKind {
        /// What the event carries.
        found: String,
    },
    /// `field.prescriber_name`: the desk's name is blank or over 200 bytes.
    BadPrescriberName,
    /// `field.person`: not a person code (16 bytes).
    BadPerson {
        /// What was wrong.
        error: String,
    },
    /// `field.event_ref`: an event reference that does not decode.
    BadEventRef {
        /// Which.
        field: Field,
        /// What was wrong.
        error: String,
    },
    /// `field.hub`: not a member key.
    BadHub {
        /// Which.
        field: Field,
        /// What was wrong.
        error: String,
    },
    /// `field.range`: a number out of its range.
    OutOfRange {
        /// Which.
        field: Field,
        /// The range, as shown.
        expected: String,
        /// What the event carries.
        found: u64,
    },
    /// `field.value`: a value outside its vocabulary or format.
    BadValue {
        /// Which.
        field: Field,
        /// What is accepted, as shown.
        expected: String,
        /// What the event carries.
        found: String,
    },
    /// `serials.repeated`: one serial listed twice.
    RepeatedSerial {
        /// The serial.
        serial: String,
    },

    // ----- venues ---------------------------------------------------------------------------
    /// `venue.id_mismatch`: a venue id not derived from the author and the record's id.
    VenueIdMismatch {
        /// The id it must be.
        expected: String,
        /// The id the event carries.
        found: String,
    },
    /// `venue.already_registered`.
    VenueAlreadyRegistered {
        /// The venue.
        venue: String,
    },
    /// `venue.territory`: the record's département is not one the author holds, or cannot be
    /// derived from its codes.
    VenueTerritory {
        /// The département, or why none could be derived.
        departement: String,
    },
    /// `venue.unknown`: no such venue in the event's causal past.
    VenueUnknown {
        /// The venue.
        venue: String,
    },
    /// `venue.closed`.
    VenueClosed {
        /// The venue.
        venue: String,
    },
    /// `venue.open`: a reopening of a venue that is not closed.
    VenueOpen {
        /// The venue.
        venue: String,
    },
    /// `venue.not_held`: the venue's département is not held by the author.
    VenueNotHeld {
        /// The venue.
        venue: String,
        /// Its département.
        departement: String,
    },
    /// `venue.no_pivot`: an all-zero SIRET/RNA/RIDET cannot be paid.
    VenueNoPivot {
        /// The venue.
        venue: String,
        /// Its pivot.
        pivot: String,
    },
    /// `venue.not_qualified`: no qualification in the event's causal past.
    VenueNotQualified {
        /// The venue.
        venue: String,
    },
    /// `venue.qualification_expired`.
    QualificationExpired {
        /// The venue.
        venue: String,
        /// Last valid day.
        until: String,
        /// The day of the use.
        date: String,
    },
    /// `venue.service_not_qualified`.
    ServiceNotQualified {
        /// The venue.
        venue: String,
        /// The service.
        service: String,
    },
    /// `qualification.scheme_empty`.
    SchemeEmpty,
    /// `qualification.none`: revoking a qualification the venue does not have.
    NoQualification {
        /// The venue.
        venue: String,
    },
    /// `territory.no_holder`: no hub holds the département.
    NoHolder {
        /// The département.
        departement: String,
    },

    // ----- batches --------------------------------------------------------------------------
    /// `batch.id_invalid`: not one of the author's départements, a dash, then letters, digits
    /// or dashes (at most 64 bytes).
    BatchIdInvalid {
        /// The id.
        found: String,
        /// A département of the author, for the example.
        example: String,
    },
    /// `batch.already_issued`.
    BatchAlreadyIssued {
        /// The batch.
        batch: String,
    },
    /// `batch.dates_order`: valid_from ≤ valid_until ≤ redeem_deadline does not hold.
    BatchDatesOrder,

    // ----- vouchers -------------------------------------------------------------------------
    /// `voucher.serial_invalid`: not `{batch}-{n}` with n in 1..=count, no leading zero.
    SerialInvalid {
        /// The serial.
        serial: String,
        /// The batch's count, when the batch is known.
        count: Option<u32>,
    },
    /// `voucher.batch_unknown`: the serial's batch is not in the event's causal past.
    BatchUnknown {
        /// The serial.
        serial: String,
    },
    /// `voucher.not_owner`: only the owner changes a voucher.
    NotOwner {
        /// The serial.
        serial: String,
        /// Its owner in the event's causal past.
        owner: HubId,
    },
    /// `voucher.not_issued`: only an issued voucher is handed out.
    NotIssued {
        /// The serial.
        serial: String,
        /// Its status.
        status: String,
    },
    /// `voucher.expired`: handed out after its batch's last valid day.
    VoucherExpired {
        /// The serial.
        serial: String,
        /// Last valid day.
        until: String,
    },
    /// `voucher.already_redeemed`.
    AlreadyRedeemed {
        /// The serial.
        serial: String,
        /// The redeeming event.
        by: Option<EventId>,
    },
    /// `voucher.not_handed_out`: only a voucher in a person's carnet is redeemed.
    NotHandedOut {
        /// The serial.
        serial: String,
        /// Its status.
        status: String,
    },
    /// `voucher.territory`: the batch may not be redeemed in the venue's département.
    VoucherTerritory {
        /// The serial.
        serial: String,
        /// The batch's territories.
        allowed: String,
        /// The venue's département.
        departement: String,
    },
    /// `voucher.service_not_eligible`.
    ServiceNotEligible {
        /// The serial.
        serial: String,
        /// The service.
        service: String,
    },
    /// `voucher.not_yet_valid`.
    NotYetValid {
        /// The serial.
        serial: String,
        /// First valid day.
        from: String,
    },
    /// `voucher.deadline_passed`.
    DeadlinePassed {
        /// The serial.
        serial: String,
        /// Last day to redeem.
        deadline: String,
        /// The day of the redemption.
        date: String,
    },
    /// `voucher.transfer_target`: a transfer to something other than another hub.
    TransferTarget {
        /// The target.
        to: HubId,
    },
    /// `voucher.not_transferable`: redeemed or cancelled.
    NotTransferable {
        /// The serial.
        serial: String,
        /// Its status.
        status: String,
    },
    /// `voucher.not_cancellable`: redeemed or cancelled.
    NotCancellable {
        /// The serial.
        serial: String,
        /// Its status.
        status: String,
    },
    /// `voucher.owner_claims`: the owner redeems its vouchers, it does not claim them.
    OwnerClaims {
        /// The serial.
        serial: String,
    },

    // ----- settlements ----------------------------------------------------------------------
    /// `settlement.not_issuer`: only the issuing hub settles.
    NotIssuer {
        /// The serial.
        serial: String,
        /// The issuer.
        issuer: HubId,
    },
    /// `settlement.other_venue`.
    OtherVenue {
        /// The serial.
        serial: String,
        /// Where it was redeemed.
        redeemed_at: String,
        /// The venue the settlement names.
        venue: String,
    },
    /// `settlement.not_redeemed`.
    NotRedeemed {
        /// The serial.
        serial: String,
    },
    /// `settlement.already_settled`.
    AlreadySettled {
        /// The serial.
        serial: String,
    },
    /// `settlement.amount`: the amount is not the sum of the face values.
    AmountMismatch {
        /// The sum of the face values.
        expected: u64,
        /// The amount the event carries.
        found: u64,
    },

    // ----- claims ---------------------------------------------------------------------------
    /// `claim.not_in_past`: the answered claim is not in the event's causal past.
    ClaimNotInPast {
        /// The claim.
        claim: EventId,
    },
    /// `claim.unknown`: the event named is not a valid claim.
    ClaimUnknown {
        /// The event named.
        claim: EventId,
    },
    /// `claim.other_voucher`: the claim is for another voucher.
    ClaimOtherVoucher {
        /// The claim.
        claim: EventId,
        /// Its voucher.
        claimed: String,
        /// The voucher of this event.
        serial: String,
    },
    /// `claim.answered`: already accepted or rejected.
    ClaimAnswered {
        /// The claim.
        claim: EventId,
    },
    /// `claim.terms_differ`: an accepted claim is redeemed exactly as claimed.
    ClaimTermsDiffer {
        /// The claim.
        claim: EventId,
    },

    // ----- referrals ------------------------------------------------------------------------
    /// `referral.id_invalid`: not one of the author's départements, a dash, then an id.
    ReferralIdInvalid {
        /// The id.
        found: String,
    },
    /// `referral.exists`.
    ReferralExists {
        /// The referral.
        referral: String,
    },
    /// `referral.expiry_before_opening`.
    ExpiryBeforeOpening {
        /// Opening day.
        opened: String,
        /// Expiry day.
        expires: String,
    },
    /// `referral.unknown`: not in the event's causal past.
    ReferralUnknown {
        /// The referral.
        referral: String,
    },
    /// `referral.not_handler`: only the handling hub moves a referral on.
    NotHandler {
        /// The referral.
        referral: String,
        /// The hub handling it in the event's causal past.
        handler: HubId,
    },
    /// `referral.not_open`.
    ReferralNotOpen {
        /// The referral.
        referral: String,
        /// Its status.
        status: String,
    },
    /// `referral.expired`.
    ReferralExpired {
        /// The referral.
        referral: String,
        /// Its expiry day.
        on: String,
    },
    /// `referral.not_closable`: already declined or closed.
    NotClosable {
        /// The referral.
        referral: String,
        /// Its status.
        status: String,
    },

    // ----- membership -----------------------------------------------------------------------
    /// `member.not_current`: the author is not a present member's current key in the event's
    /// causal past (not admitted there yet, removed, or succeeded).
    NotCurrentMember {
        /// The author.
        key: HubId,
    },
    /// `amendment.not_hub`: proposals and endorsements come from present hubs (and a
    /// hand-over or a move goes to one).
    AmendmentNotHub {
        /// The key.
        key: HubId,
    },
    /// `amendment.number`: a proposal amends the membership in effect in its causal past.
    AmendmentNumber {
        /// 1 + the amendments in effect.
        expected: u32,
        /// The proposal's number.
        found: u32,
    },
    /// `amendment.unknown_member`: the change names a key that is not a present member's
    /// current key.
    AmendmentUnknownMember {
        /// The key.
        key: HubId,
    },
    /// `amendment.key_known`: a new key the federation already knows.
    AmendmentKeyKnown {
        /// The key.
        key: HubId,
    },
    /// `amendment.bad_key`: not a valid Ed25519 public key (strict rules, §2).
    AmendmentBadKey {
        /// The key.
        key: HubId,
    },
    /// `amendment.bad_name`: a member's name, 1 to 200 bytes, not blank.
    AmendmentBadName,
    /// `amendment.observer_territories`: an observer holds no territory.
    AmendmentObserverTerritories,
    /// `amendment.territory_held`: a département another hub holds.
    AmendmentTerritoryHeld {
        /// The département.
        departement: String,
    },
    /// `amendment.territory_not_held`: a move of a département the hub does not hold.
    AmendmentTerritoryNotHeld {
        /// The département.
        departement: String,
    },
    /// `amendment.no_territory`: a move of no département.
    AmendmentNoTerritory,
    /// `amendment.threshold`: the threshold stays between 1 and the number of hubs.
    AmendmentThreshold {
        /// The threshold.
        threshold: u32,
        /// Present hubs.
        hubs: u32,
    },
    /// `amendment.unknown`: an endorsement of an event that is not a proposal in its past.
    AmendmentUnknown {
        /// The event named.
        proposal: EventId,
    },
    /// `amendment.superseded`: the number the proposal amends is already in effect.
    AmendmentSuperseded {
        /// The proposal.
        proposal: EventId,
        /// Its number.
        number: u32,
    },
    /// `amendment.endorsed`: a hub proposes or endorses one proposal per number and round of
    /// votes (a round ends when no proposal can reach the threshold in it any more).
    AmendmentEndorsed {
        /// The number.
        number: u32,
        /// The round of votes.
        round: u32,
    },
    /// `amendment.past_stop`: the key a removal or a succession stops proposes or endorses it
    /// only up to the last seq it keeps: signed later, its vote would be cut by the very stop
    /// it brings into effect.
    AmendmentPastStop {
        /// The last seq of the author's feed that counts under the change.
        last_seq: u64,
    },
    /// `amendment.protocol_version`: a protocol change moves to the version in effect + 1.
    AmendmentProtocolVersion {
        /// The version in effect + 1.
        expected: u32,
        /// The version named.
        found: u32,
    },
    /// `amendment.protocol_switch`: a protocol change names every present hub's current key
    /// once, each from a seq of at least 1.
    AmendmentProtocolSwitch {
        /// Present hubs.
        hubs: u32,
        /// What is wrong: `named_twice`, `not_present` (a key that is not a present hub's
        /// current key), `missing` (a present hub not named) or `zero_seq`.
        problem: String,
    },
    /// `event.version`: the event's protocol version is not the one the amendments in effect
    /// in its causal past expect of its author at its seq (§0).
    EventVersion {
        /// The version expected.
        expected: u32,
        /// The event's.
        found: u32,
    },
}

impl Rejection {
    /// The stable code of the rule (docs/protocol.md §4c).
    pub fn code(&self) -> &'static str {
        match self {
            Self::Missing { .. } => "field.missing",
            Self::BadDate { .. } => "field.date",
            Self::NoReason { .. } => "field.reason",
            Self::BadService { .. } => "field.service",
            Self::BadPrescriberKind { .. } => "field.prescriber_kind",
            Self::BadPrescriberName => "field.prescriber_name",
            Self::BadPerson { .. } => "field.person",
            Self::BadEventRef { .. } => "field.event_ref",
            Self::BadHub { .. } => "field.hub",
            Self::OutOfRange { .. } => "field.range",
            Self::BadValue { .. } => "field.value",
            Self::RepeatedSerial { .. } => "serials.repeated",
            Self::VenueIdMismatch { .. } => "venue.id_mismatch",
            Self::VenueAlreadyRegistered { .. } => "venue.already_registered",
            Self::VenueTerritory { .. } => "venue.territory",
            Self::VenueUnknown { .. } => "venue.unknown",
            Self::VenueClosed { .. } => "venue.closed",
            Self::VenueOpen { .. } => "venue.open",
            Self::VenueNotHeld { .. } => "venue.not_held",
            Self::VenueNoPivot { .. } => "venue.no_pivot",
            Self::VenueNotQualified { .. } => "venue.not_qualified",
            Self::QualificationExpired { .. } => "venue.qualification_expired",
            Self::ServiceNotQualified { .. } => "venue.service_not_qualified",
            Self::SchemeEmpty => "qualification.scheme_empty",
            Self::NoQualification { .. } => "qualification.none",
            Self::NoHolder { .. } => "territory.no_holder",
            Self::BatchIdInvalid { .. } => "batch.id_invalid",
            Self::BatchAlreadyIssued { .. } => "batch.already_issued",
            Self::BatchDatesOrder => "batch.dates_order",
            Self::SerialInvalid { .. } => "voucher.serial_invalid",
            Self::BatchUnknown { .. } => "voucher.batch_unknown",
            Self::NotOwner { .. } => "voucher.not_owner",
            Self::NotIssued { .. } => "voucher.not_issued",
            Self::VoucherExpired { .. } => "voucher.expired",
            Self::AlreadyRedeemed { .. } => "voucher.already_redeemed",
            Self::NotHandedOut { .. } => "voucher.not_handed_out",
            Self::VoucherTerritory { .. } => "voucher.territory",
            Self::ServiceNotEligible { .. } => "voucher.service_not_eligible",
            Self::NotYetValid { .. } => "voucher.not_yet_valid",
            Self::DeadlinePassed { .. } => "voucher.deadline_passed",
            Self::TransferTarget { .. } => "voucher.transfer_target",
            Self::NotTransferable { .. } => "voucher.not_transferable",
            Self::NotCancellable { .. } => "voucher.not_cancellable",
            Self::OwnerClaims { .. } => "voucher.owner_claims",
            Self::NotIssuer { .. } => "settlement.not_issuer",
            Self::OtherVenue { .. } => "settlement.other_venue",
            Self::NotRedeemed { .. } => "settlement.not_redeemed",
            Self::AlreadySettled { .. } => "settlement.already_settled",
            Self::AmountMismatch { .. } => "settlement.amount",
            Self::ClaimNotInPast { .. } => "claim.not_in_past",
            Self::ClaimUnknown { .. } => "claim.unknown",
            Self::ClaimOtherVoucher { .. } => "claim.other_voucher",
            Self::ClaimAnswered { .. } => "claim.answered",
            Self::ClaimTermsDiffer { .. } => "claim.terms_differ",
            Self::ReferralIdInvalid { .. } => "referral.id_invalid",
            Self::ReferralExists { .. } => "referral.exists",
            Self::ExpiryBeforeOpening { .. } => "referral.expiry_before_opening",
            Self::ReferralUnknown { .. } => "referral.unknown",
            Self::NotHandler { .. } => "referral.not_handler",
            Self::ReferralNotOpen { .. } => "referral.not_open",
            Self::ReferralExpired { .. } => "referral.expired",
            Self::NotClosable { .. } => "referral.not_closable",
            Self::NotCurrentMember { .. } => "member.not_current",
            Self::AmendmentNotHub { .. } => "amendment.not_hub",
            Self::AmendmentNumber { .. } => "amendment.number",
            Self::AmendmentUnknownMember { .. } => "amendment.unknown_member",
            Self::AmendmentKeyKnown { .. } => "amendment.key_known",
            Self::AmendmentBadKey { .. } => "amendment.bad_key",
            Self::AmendmentBadName => "amendment.bad_name",
            Self::AmendmentObserverTerritories => "amendment.observer_territories",
            Self::AmendmentTerritoryHeld { .. } => "amendment.territory_held",
            Self::AmendmentTerritoryNotHeld { .. } => "amendment.territory_not_held",
            Self::AmendmentNoTerritory => "amendment.no_territory",
            Self::AmendmentThreshold { .. } => "amendment.threshold",
            Self::AmendmentUnknown { .. } => "amendment.unknown",
            Self::AmendmentSuperseded { .. } => "amendment.superseded",
            Self::AmendmentEndorsed { .. } => "amendment.endorsed",
            Self::AmendmentPastStop { .. } => "amendment.past_stop",
            Self::AmendmentProtocolVersion { .. } => "amendment.protocol_version",
            Self::AmendmentProtocolSwitch { .. } => "amendment.protocol_switch",
            Self::EventVersion { .. } => "event.version",
        }
    }

    /// Every code, in the order of docs/protocol.md §4c.
    pub const CODES: &'static [&'static str] = &[
        "field.missing",
        "field.date",
        "field.reason",
        "field.service",
        "field.prescriber_kind",
        "field.prescriber_name",
        "field.person",
        "field.event_ref",
        "field.hub",
        "field.range",
        "field.value",
        "serials.repeated",
        "venue.id_mismatch",
        "venue.already_registered",
        "venue.territory",
        "venue.unknown",
        "venue.closed",
        "venue.open",
        "venue.not_held",
        "venue.no_pivot",
        "venue.not_qualified",
        "venue.qualification_expired",
        "venue.service_not_qualified",
        "qualification.scheme_empty",
        "qualification.none",
        "territory.no_holder",
        "batch.id_invalid",
        "batch.already_issued",
        "batch.dates_order",
        "voucher.serial_invalid",
        "voucher.batch_unknown",
        "voucher.not_owner",
        "voucher.not_issued",
        "voucher.expired",
        "voucher.already_redeemed",
        "voucher.not_handed_out",
        "voucher.territory",
        "voucher.service_not_eligible",
        "voucher.not_yet_valid",
        "voucher.deadline_passed",
        "voucher.transfer_target",
        "voucher.not_transferable",
        "voucher.not_cancellable",
        "voucher.owner_claims",
        "settlement.not_issuer",
        "settlement.other_venue",
        "settlement.not_redeemed",
        "settlement.already_settled",
        "settlement.amount",
        "claim.not_in_past",
        "claim.unknown",
        "claim.other_voucher",
        "claim.answered",
        "claim.terms_differ",
        "referral.id_invalid",
        "referral.exists",
        "referral.expiry_before_opening",
        "referral.unknown",
        "referral.not_handler",
        "referral.not_open",
        "referral.expired",
        "referral.not_closable",
        "member.not_current",
        "amendment.not_hub",
        "amendment.number",
        "amendment.unknown_member",
        "amendment.key_known",
        "amendment.bad_key",
        "amendment.bad_name",
        "amendment.observer_territories",
        "amendment.territory_held",
        "amendment.territory_not_held",
        "amendment.no_territory",
        "amendment.threshold",
        "amendment.unknown",
        "amendment.superseded",
        "amendment.endorsed",
        "amendment.past_stop",
        "amendment.protocol_version",
        "amendment.protocol_switch",
        "event.version",
    ];
}

/// The sentence in the current language ([`crate::lang`]): French (`rejection_fr.rs`), or
/// the English below.
impl std::fmt::Display for Rejection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if crate::lang::current() == crate::lang::Lang::Fr {
            return self.write_fr(f);
        }
        let x = |s: &str| Excerpt::of(s).to_string();
        match self {
            Self::Missing { field } => write!(f, "{}: missing", field.as_str()),
            Self::BadDate { field, found } => write!(
                f,
                "{}: expected a date YYYY-MM-DD, found {}",
                field.as_str(),
                x(found)
            ),
            Self::NoReason { field } => {
                write!(f, "{}: expected a reason, found none", field.as_str())
            }
            Self::BadService { field, found } => write!(
                f,
                "{}: expected a v1 service, found {}",
                field.as_str(),
                x(found)
            ),
            Self::BadPrescriberKind { found } => write!(
                f,
                "prescriber kind: expected one of {}, found {}",
                crate::vocab::PrescriberKind::labels(),
                x(found)
            ),
            Self::BadPrescriberName => {
                f.write_str("prescriber name: expected the desk's name (1 to 200 bytes)")
            }
            Self::BadPerson { error } => write!(f, "person: {error}"),
            Self::BadEventRef { field, error } => write!(f, "{}: {error}", field.as_str()),
            Self::BadHub { field, error } => write!(f, "{}: {error}", field.as_str()),
            Self::OutOfRange {
                field,
                expected,
                found,
            } => write!(f, "{}: expected {expected}, found {found}", field.as_str()),
            Self::BadValue {
                field,
                expected,
                found,
            } => write!(
                f,
                "{}: expected {expected}, found {}",
                field.as_str(),
                x(found)
            ),
            Self::RepeatedSerial { serial } => {
                write!(f, "serials: {} is listed twice", x(serial))
            }
            Self::VenueIdMismatch { expected, found } => write!(
                f,
                "venue id: expected {expected} (derived from the author and the record's id), found {}",
                x(found)
            ),
            Self::VenueAlreadyRegistered { venue } => {
                write!(f, "venue {venue} is already registered")
            }
            Self::VenueTerritory { departement } => write!(
                f,
                "territory: département {departement} is not held by the author"
            ),
            Self::VenueUnknown { venue } => write!(
                f,
                "venue {} is unknown in the event's causal past",
                x(venue)
            ),
            Self::VenueClosed { venue } => write!(f, "venue {venue} is closed"),
            Self::VenueOpen { venue } => {
                write!(f, "venue {venue} is open: only a closed venue reopens")
            }
            Self::VenueNotHeld { venue, departement } => write!(
                f,
                "venue {venue} is in département {departement}, which the author does not hold"
            ),
            Self::VenueNoPivot { venue, pivot } => write!(
                f,
                "venue {venue} has no real SIRET, RNA or RIDET (pivot {}): the payee of public money must be traceable",
                x(pivot)
            ),
            Self::VenueNotQualified { venue } => write!(
                f,
                "venue {venue} is not qualified in the event's causal past (put its VenueQualified in deps)"
            ),
            Self::QualificationExpired { venue, until, date } => write!(
                f,
                "venue {venue}: qualification expired on {until}, use dated {date}"
            ),
            Self::ServiceNotQualified { venue, service } => {
                write!(f, "venue {venue} is not qualified for {}", x(service))
            }
            Self::SchemeEmpty => f.write_str("qualification scheme is empty"),
            Self::NoQualification { venue } => write!(f, "venue {venue} is not qualified"),
            Self::NoHolder { departement } => {
                write!(f, "no hub holds département {}", x(departement))
            }
            Self::BatchIdInvalid { found, example } => write!(
                f,
                "batch id {}: expected one of the author's départements, a dash, then letters, digits or dashes (e.g. \"{example}-2026-CAF-01\")",
                x(found)
            ),
            Self::BatchAlreadyIssued { batch } => write!(f, "batch {batch} is already issued"),
            Self::BatchDatesOrder => {
                f.write_str("dates: expected valid_from <= valid_until <= redeem_deadline")
            }
            Self::SerialInvalid { serial, count } => match count {
                Some(count) => write!(
                    f,
                    "serial {}: expected a number in 1..={count} without leading zeros",
                    x(serial)
                ),
                None => write!(f, "serial {}: expected \"{{batch}}-{{n}}\"", x(serial)),
            },
            Self::BatchUnknown { serial } => write!(
                f,
                "serial {}: its batch is not in the event's causal past",
                x(serial)
            ),
            Self::NotOwner { serial, owner } => write!(
                f,
                "voucher {serial} is owned by {} in the event's causal past, not by the author",
                owner.short()
            ),
            Self::NotIssued { serial, status } => {
                write!(f, "voucher {serial} is {status}, not available to hand out")
            }
            Self::VoucherExpired { serial, until } => {
                write!(f, "voucher {serial} expired on {until}")
            }
            Self::AlreadyRedeemed { serial, by } => match by {
                #[cfg(test)]
                Some(by) if crate::switches::TYPO.get() => write!(
                    f,
                    "voucher {serial} is alredy redeemed (event {})",
                    by.short()
                ),
                Some(by) => write!(
                    f,
                    "voucher {serial} is already redeemed (event {})",
                    by.short()
                ),
                None => write!(f, "voucher {serial} is already redeemed"),
            },
            Self::NotHandedOut { serial, status } => write!(
                f,
                "voucher {serial} is {status}: only a handed-out voucher can be redeemed"
            ),
            Self::VoucherTerritory {
                serial,
                allowed,
                departement,
            } => write!(
                f,
                "voucher {serial}: its batch may be redeemed in {allowed}, the venue is in {departement}"
            ),
            Self::ServiceNotEligible { serial, service } => write!(
                f,
                "voucher {serial}: {} is not an eligible service of its batch",
                x(service)
            ),
            Self::NotYetValid { serial, from } => {
                write!(f, "voucher {serial} is valid from {from}")
            }
            Self::DeadlinePassed {
                serial,
                deadline,
                date,
            } => write!(
                f,
                "voucher {serial}: redeem deadline was {deadline}, redemption dated {date}"
            ),
            Self::TransferTarget { to } => write!(
                f,
                "to_hub {} is not another hub of the federation",
                to.short()
            ),
            Self::NotTransferable { serial, status } => {
                write!(f, "voucher {serial} is {status}: nothing to transfer")
            }
            Self::NotCancellable { serial, status } => {
                write!(f, "voucher {serial} is {status}: it cannot be cancelled")
            }
            Self::OwnerClaims { serial } => write!(
                f,
                "voucher {serial} is owned by the author: the owner redeems, it does not claim"
            ),
            Self::NotIssuer { serial, issuer } => write!(
                f,
                "voucher {serial} was issued by {}: only the issuer settles it",
                issuer.short()
            ),
            Self::OtherVenue {
                serial,
                redeemed_at,
                venue,
            } => write!(
                f,
                "voucher {serial} was redeemed at {redeemed_at}, not {}",
                x(venue)
            ),
            Self::NotRedeemed { serial } => write!(
                f,
                "voucher {serial} is not redeemed in the event's causal past"
            ),
            Self::AlreadySettled { serial } => write!(f, "voucher {serial} is already settled"),
            Self::AmountMismatch { expected, found } => write!(
                f,
                "amount: expected {expected} cents (face values), found {found}"
            ),
            Self::ClaimNotInPast { claim } => write!(
                f,
                "claim {} is not in the event's causal past (put it in deps)",
                claim.short()
            ),
            Self::ClaimUnknown { claim } => {
                write!(f, "event {} is not a valid claim", claim.short())
            }
            Self::ClaimOtherVoucher {
                claim,
                claimed,
                serial,
            } => write!(
                f,
                "claim {} is for voucher {claimed}, not {}",
                claim.short(),
                x(serial)
            ),
            Self::ClaimAnswered { claim } => {
                write!(f, "claim {} is already answered", claim.short())
            }
            Self::ClaimTermsDiffer { claim } => write!(
                f,
                "claim {}: accepted redemption must repeat the claim's venue, service and date",
                claim.short()
            ),
            Self::ReferralIdInvalid { found } => write!(
                f,
                "referral id {}: expected one of the author's départements, a dash, then an id",
                x(found)
            ),
            Self::ReferralExists { referral } => write!(f, "referral {referral} already exists"),
            Self::ExpiryBeforeOpening { opened, expires } => write!(
                f,
                "expires_on: expected a day on or after opened_on {opened}, found {expires}"
            ),
            Self::ReferralUnknown { referral } => write!(
                f,
                "referral {} is not in the event's causal past",
                x(referral)
            ),
            Self::NotHandler { referral, handler } => write!(
                f,
                "referral {referral} is handled by hub {} in the event's causal past, not by the author",
                handler.short()
            ),
            Self::ReferralNotOpen { referral, status } => {
                write!(f, "referral {referral} is {status}, not open")
            }
            Self::ReferralExpired { referral, on } => {
                write!(f, "referral {referral} expired on {on}")
            }
            Self::NotClosable { referral, status } => {
                write!(f, "referral {referral} is {status}: it cannot be closed")
            }
            Self::NotCurrentMember { key } => write!(
                f,
                "key {} is not a present member's key in the event's causal past (not admitted yet, removed or succeeded)",
                key.short()
            ),
            Self::AmendmentNotHub { key } => write!(
                f,
                "key {} is not a present hub's current key in the event's causal past",
                key.short()
            ),
            Self::AmendmentNumber { expected, found } => write!(
                f,
                "amendment number: expected {expected} (1 + the amendments in effect in the event's causal past), found {found}"
            ),
            Self::AmendmentUnknownMember { key } => write!(
                f,
                "key {} is not a present member's current key",
                key.short()
            ),
            Self::AmendmentKeyKnown { key } => {
                write!(f, "key {} is already known to the federation", key.short())
            }
            Self::AmendmentBadKey { key } => {
                write!(f, "key {} is not a valid Ed25519 public key", key.short())
            }
            Self::AmendmentBadName => {
                f.write_str("name: expected the member's name (1 to 200 bytes)")
            }
            Self::AmendmentObserverTerritories => {
                f.write_str("territories: an observer holds none")
            }
            Self::AmendmentTerritoryHeld { departement } => {
                write!(f, "département {} is held by another hub", x(departement))
            }
            Self::AmendmentTerritoryNotHeld { departement } => write!(
                f,
                "département {} is not held by the hub it would move from",
                x(departement)
            ),
            Self::AmendmentNoTerritory => f.write_str("territories: none to move"),
            Self::AmendmentThreshold { threshold, hubs } => write!(
                f,
                "threshold: expected 1..={hubs} (the hubs present), found {threshold}"
            ),
            Self::AmendmentUnknown { proposal } => write!(
                f,
                "event {} is not an amendment proposal in the event's causal past",
                proposal.short()
            ),
            Self::AmendmentSuperseded { proposal, number } => write!(
                f,
                "proposal {} is for amendment {number}, already in effect in the event's causal past",
                proposal.short()
            ),
            Self::AmendmentEndorsed { number, round } => write!(
                f,
                "the author already proposed or endorsed a proposal for amendment {number} in this round of votes (round {round}; the next begins when no proposal can reach the threshold in this one)"
            ),
            Self::AmendmentPastStop { last_seq } => write!(
                f,
                "the change stops the author's key after its seq {last_seq}: it proposes or endorses it at that seq or before, not later"
            ),
            Self::AmendmentProtocolVersion { expected, found } => write!(
                f,
                "a protocol change moves to v{expected} (the version in effect + 1), not v{found}"
            ),
            Self::AmendmentProtocolSwitch { hubs, problem } => write!(
                f,
                "a protocol change names each of the {hubs} present hubs' current keys once, from a seq of at least 1: {}",
                match problem.as_str() {
                    "named_twice" => "a key is named twice",
                    "not_present" => "a key is not a present hub's current key",
                    "missing" => "a present hub is not named",
                    "zero_seq" => "a seq of 0",
                    other => other,
                }
            ),
            Self::EventVersion { expected, found } => write!(
                f,
                "protocol version: the amendments in effect in the event's causal past expect v{expected} of its author at this seq, found v{found}"
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_and_listed() {
        let mut sorted = Rejection::CODES.to_vec();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(sorted.len(), Rejection::CODES.len());
        assert!(Rejection::CODES.contains(&Rejection::SchemeEmpty.code()));
    }
}
