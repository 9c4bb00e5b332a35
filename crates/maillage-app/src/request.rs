//! The typed requests a node answers and their answers: what the CLI sends over the admin
//! socket, what the read API and the dashboard ask, what the demo plays.
//!
//! Arguments are values, already in the protocol's vocabulary (exact v1 service labels, dates
//! `YYYY-MM-DD`, person codes); references to things a node knows (a venue by its id or source
//! id, a hub by its key or part of its name, a claim by a prefix of its id) are resolved by
//! the node against its views. Files travel as bytes: a node opens no path a client names.
//!
//! Size: every typed request and answer of the application in one place: the contract of the admin
//! socket, read by every front end.

use maillage_core::{EventId, HubId, PersonId};
use serde::{Deserialize, Serialize};

use crate::stats::Stats;
pub use crate::views::AmendmentChangeView;
use crate::views::{
    BatchView, CharterView, DigestView, ParcoursView, ReferralView, RejectionView, StatusView,
    VenueView, VoucherView,
};

/// Something to do or to read.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Request {
    /// Import a venue file of the national standard into this hub's log.
    ImportVenues(ImportVenues),
    /// Change fields of one of this hub's venues (its pivot, hours, services, contact).
    EditVenue(EditVenue),
    /// Close one of this hub's venues.
    CloseVenue(CloseVenue),
    /// Open a closed venue again.
    ReopenVenue(ReopenVenue),
    /// Qualify a venue for vouchers.
    QualifyVenue(QualifyVenue),
    /// Revoke a venue's qualification.
    RevokeQualification(RevokeQualification),
    /// Issue a batch of vouchers.
    IssueBatch(IssueBatch),
    /// Hand vouchers to a person.
    HandOut(HandOut),
    /// Redeem a voucher (asking its owner for a transfer first on a serving node).
    Redeem(Redeem),
    /// Transfer vouchers to another hub.
    Transfer(Transfer),
    /// Claim a voucher another hub owns.
    Claim(ClaimVoucher),
    /// Answer a claim on one of this hub's vouchers.
    AnswerClaim(AnswerClaim),
    /// Withdraw vouchers.
    Cancel(Cancel),
    /// Record the payment of redeemed vouchers to a venue.
    Settle(Settle),
    /// Refer a person.
    OpenReferral(OpenReferral),
    /// Accept a referral this hub handles.
    AcceptReferral(AcceptReferral),
    /// Decline a referral this hub handles.
    DeclineReferral(DeclineReferral),
    /// Forward a referral to another venue.
    ForwardReferral(ForwardReferral),
    /// Close a referral with its outcome.
    CloseReferral(CloseReferral),
    /// Record an accompaniment.
    RecordAccompaniment(RecordAccompaniment),
    /// Right to erasure.
    ForgetPerson(ForgetPerson),
    /// Import a portable log file.
    ImportLog(ImportLog),
    /// Propose a charter amendment.
    ProposeAmendment(ProposeAmendment),
    /// What a recovery amendment for a forked member would name, from this node's store.
    RecoveryPlan {
        /// The member whose feed forked (key or part of its name).
        member: String,
    },
    /// Endorse a proposal, by a prefix of its event id.
    EndorseAmendment {
        /// The proposal.
        proposal: String,
    },

    /// Venues, optionally of one département.
    ListVenues(ListVenues),
    /// Venue search.
    SearchVenues(SearchVenues),
    /// One venue.
    ShowVenue {
        /// Venue id or source id.
        id: String,
    },
    /// The open venues as a CSV file of the national standard v1.
    ExportVenues,
    /// A voucher's state.
    VoucherStatus {
        /// Its serial.
        serial: String,
        /// Day to evaluate expiry at (default: today).
        as_of: Option<String>,
    },
    /// Counts by status for a batch.
    BatchStatus {
        /// Its id.
        batch: String,
        /// Day to evaluate expiry at (default: today).
        as_of: Option<String>,
    },
    /// A referral.
    Referral {
        /// Its id.
        id: String,
        /// Day to evaluate expiry at (default: today).
        as_of: Option<String>,
    },
    /// A person's parcours.
    Parcours {
        /// The person.
        person: PersonId,
        /// Day to evaluate expiry at (default: today).
        as_of: Option<String>,
    },
    /// The national figures.
    Stats {
        /// Day (default: today).
        as_of: Option<String>,
    },
    /// The views' digest.
    Digest,
    /// Events kept without effect.
    Rejections,
    /// Feeds, peers, lag, forks, damage.
    Status,
    /// The charter.
    Federation,
    /// The analysts' CSV files.
    Export(ExportTables),
    /// Every feed as a portable log file.
    ExportLog,
    /// Re-verify every signature and chain of the store.
    VerifyLog,
}

impl Request {
    /// Whether answering it may sign events of this node's feed.
    pub fn signs(&self) -> bool {
        matches!(
            self,
            Self::ImportVenues(ImportVenues { dry_run: false, .. })
                | Self::EditVenue(_)
                | Self::CloseVenue(_)
                | Self::ReopenVenue(_)
                | Self::QualifyVenue(_)
                | Self::RevokeQualification(_)
                | Self::IssueBatch(_)
                | Self::HandOut(_)
                | Self::Redeem(_)
                | Self::Transfer(_)
                | Self::Claim(_)
                | Self::AnswerClaim(_)
                | Self::Cancel(_)
                | Self::Settle(_)
                | Self::OpenReferral(_)
                | Self::AcceptReferral(_)
                | Self::DeclineReferral(_)
                | Self::ForwardReferral(_)
                | Self::CloseReferral(_)
                | Self::RecordAccompaniment(_)
                | Self::ForgetPerson(_)
                | Self::ProposeAmendment(_)
                | Self::EndorseAmendment { .. }
        )
    }
}

/// What a request gave.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Response {
    /// Venues imported (or checked, on a dry run).
    VenuesImported(VenuesImported),
    /// The branch a recovery amendment would keep (`RecoveryPlan`).
    RecoveryPlan(RecoveryPlanView),
    /// One event signed.
    Signed(Signed),
    /// A redemption asked to the owner and recorded as a claim (the owner was unreachable).
    Claimed {
        /// Why the owner could not be asked.
        unreachable: String,
        /// The claim signed.
        claim: Signed,
    },
    /// A log file imported.
    LogImported(LogImported),
    /// Venues.
    Venues(Vec<VenueView>),
    /// One venue.
    Venue(Box<VenueView>),
    /// A file's bytes (a CSV, a portable log).
    File(FileBytes),
    /// Several files.
    Files(Vec<FileBytes>),
    /// A voucher.
    Voucher(Box<VoucherView>),
    /// A batch.
    Batch(BatchView),
    /// A referral.
    Referral(Box<ReferralView>),
    /// A parcours.
    Parcours(ParcoursView),
    /// Figures.
    Stats(Box<Stats>),
    /// The digest.
    Digest(DigestView),
    /// Rejections.
    Rejections(Vec<RejectionView>),
    /// Status.
    Status(Box<StatusView>),
    /// The charter.
    Federation(CharterView),
    /// What a verification of the store found.
    Verified(VerifyView),
}

/// [`Response::Verified`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct VerifyView {
    /// Feeds checked.
    pub feeds: usize,
    /// Events checked.
    pub events: u64,
    /// Signatures verified.
    pub signatures: u64,
    /// Fork proofs held: (author, seq of the fork, one version, the other).
    pub forks: Vec<(HubId, u64, EventId, EventId)>,
    /// Forks a charter amendment resolved: (author, last seq of the branch that stands, its
    /// event there).
    #[serde(default)]
    pub resolved: Vec<(HubId, u64, EventId)>,
    /// Feeds damaged on disk: (author, first seq, last seq, reason).
    pub damaged: Vec<(HubId, u64, u64, String)>,
    /// The first broken event: (author, seq, reason).
    pub broken: Option<(HubId, u64, String)>,
}

/// A file produced by a node, for the client to write.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileBytes {
    /// Its name: no directory, but for the events' monthly Parquet files
    /// (`events/month=YYYY-MM/part-0.parquet`).
    pub name: String,
    /// Its content.
    pub content: Vec<u8>,
    /// Rows or events it holds.
    pub items: u64,
    /// What the items are.
    pub items_are: String,
}

/// An event signed, and what it did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Signed {
    /// Its id.
    pub event: EventId,
    /// Its position in this hub's feed.
    pub seq: u64,
    /// What it did.
    pub effect: Effect,
}

/// What a signed event did, in terms a person reads.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Effect {
    /// A venue's record changed by hand.
    VenueUpdated {
        /// The venue.
        venue: VenueRef,
        /// The fields changed (names of the national standard), with their new values.
        changed: Vec<(String, String)>,
    },
    /// A venue closed.
    VenueClosed {
        /// The venue.
        venue: VenueRef,
        /// Why.
        reason: String,
    },
    /// A closed venue opened again.
    VenueReopened {
        /// The venue.
        venue: VenueRef,
        /// Why.
        reason: String,
    },
    /// A venue qualified.
    VenueQualified {
        /// The venue.
        venue: VenueRef,
        /// The scheme.
        scheme: String,
        /// Last valid day.
        valid_until: String,
        /// Services.
        services: Vec<String>,
    },
    /// A qualification revoked.
    QualificationRevoked {
        /// The venue.
        venue: VenueRef,
        /// Why.
        reason: String,
    },
    /// A batch issued.
    BatchIssued {
        /// Batch id.
        batch: String,
        /// Funder.
        funder: String,
        /// Vouchers.
        count: u32,
        /// Face value of one.
        face_value_cents: u64,
        /// Last valid day.
        valid_until: String,
        /// Last redemption day.
        redeem_deadline: String,
    },
    /// Vouchers handed out.
    HandedOut {
        /// Serials.
        serials: Vec<String>,
        /// To whom.
        person: PersonId,
        /// The desk.
        prescriber: String,
        /// Its kind.
        prescriber_kind: String,
        /// Day.
        date: String,
    },
    /// A voucher redeemed.
    Redeemed {
        /// Serial.
        serial: String,
        /// Where.
        venue: VenueRef,
        /// Service.
        service: String,
        /// Day.
        date: String,
        /// The owner's transfer asked first, if it was another hub's voucher.
        transferred_by: Option<TransferNote>,
    },
    /// Vouchers transferred.
    Transferred {
        /// Serials.
        serials: Vec<String>,
        /// To.
        to: HubId,
        /// Its name.
        to_name: String,
        /// Why.
        reason: String,
    },
    /// A claim recorded.
    Claimed {
        /// Serial.
        serial: String,
        /// Where.
        venue: VenueRef,
        /// Service.
        service: String,
        /// Day.
        date: String,
        /// The voucher's owner, who answers.
        owner: String,
    },
    /// A claim answered.
    ClaimAnswered {
        /// The claim.
        claim: EventId,
        /// The voucher.
        serial: String,
        /// Accepted (redeemed as claimed) or rejected.
        accepted: bool,
        /// Why it was rejected.
        reason: Option<String>,
        /// Where it was claimed.
        venue: VenueRef,
        /// Service.
        service: String,
        /// Day.
        date: String,
    },
    /// Vouchers cancelled.
    Cancelled {
        /// Serials.
        serials: Vec<String>,
        /// Why.
        reason: String,
    },
    /// Redemptions settled.
    Settled {
        /// The venue paid.
        venue: VenueRef,
        /// Serials.
        serials: Vec<String>,
        /// Amount.
        amount_cents: u64,
        /// Month.
        period: String,
    },
    /// A referral opened.
    ReferralOpened {
        /// Its id.
        referral_id: String,
        /// The person.
        person: PersonId,
        /// A venue or a territory.
        target: String,
        /// The hub handling it.
        handler: String,
        /// Expiry day.
        expires_on: String,
    },
    /// A referral accepted.
    ReferralAccepted {
        /// Its id.
        referral_id: String,
        /// Where.
        venue: VenueRef,
        /// Day.
        date: String,
        /// Appointment day, if any.
        appointment_on: String,
    },
    /// A referral declined.
    ReferralDeclined {
        /// Its id.
        referral_id: String,
        /// Why.
        reason: String,
    },
    /// A referral forwarded.
    ReferralForwarded {
        /// Its id.
        referral_id: String,
        /// To.
        venue: VenueRef,
        /// The hub handling it now.
        handler: String,
    },
    /// A referral closed.
    ReferralClosed {
        /// Its id.
        referral_id: String,
        /// Outcome.
        outcome: String,
        /// Autonomy.
        autonomy: String,
    },
    /// An accompaniment recorded.
    AccompanimentRecorded {
        /// The person.
        person: PersonId,
        /// Where.
        venue: VenueRef,
        /// Services.
        services: Vec<String>,
        /// Day.
        date: String,
        /// Minutes.
        duration_min: u32,
        /// Mode.
        mode: String,
    },
    /// A person forgotten.
    PersonForgotten {
        /// The person.
        person: PersonId,
        /// Events whose personal parts the erasure names.
        events: usize,
    },
    /// A charter amendment proposed.
    AmendmentProposed {
        /// Its number.
        number: u32,
        /// What it changes.
        change: AmendmentChangeView,
        /// Endorsements it needs (the proposal counts as one).
        threshold: u32,
        /// In effect already (a threshold of 1).
        in_effect: bool,
    },
    /// A proposal endorsed.
    AmendmentEndorsed {
        /// The proposal.
        proposal: EventId,
        /// Its number.
        number: u32,
        /// In effect now.
        in_effect: bool,
        /// The round of votes this endorsement is of (docs/protocol.md §1b).
        #[serde(default = "crate::views::first_round")]
        round: u32,
    },
}

/// What a recovery amendment for a forked member would name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecoveryPlanView {
    /// The member's key.
    pub member: HubId,
    /// Its name.
    pub name: String,
    /// Where its feed forked.
    pub fork_seq: u64,
    /// The last seq of the branch this node holds past the fork.
    pub last_seq: u64,
    /// That event.
    pub branch: EventId,
}

/// A charter amendment to propose. Members are named by key or by (part of) their name; a
/// last seq left out is this node's head of that member's feed (its own next seq when the
/// member is this node: its proposal is then its last event under that key).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProposeAmendment {
    /// What to change.
    pub change: AmendmentRequest,
    /// Why (kept in the federation's history).
    pub reason: String,
}

/// The change of [`ProposeAmendment`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum AmendmentRequest {
    /// Admit a member.
    Admit {
        /// Its public key (hex).
        key: String,
        /// Its name.
        name: String,
        /// An observer (else a hub).
        observer: bool,
        /// Départements (hubs).
        territories: Vec<String>,
    },
    /// Remove a member.
    Remove {
        /// The member.
        member: String,
        /// Its last seq that counts.
        last_seq: Option<u64>,
    },
    /// Move départements between hubs.
    Move {
        /// From.
        from: String,
        /// To.
        to: String,
        /// Which.
        territories: Vec<String>,
    },
    /// Change the threshold.
    Threshold(u32),
    /// Succeed a member's key.
    Succeed {
        /// The member.
        member: String,
        /// A new public key (hex), or another hub.
        successor: String,
        /// Its last seq that counts.
        last_seq: Option<u64>,
        /// The event (id prefix) at `last_seq` that stands, when its feed forked.
        branch: Option<String>,
    },
    /// Move to the next protocol version.
    Protocol {
        /// The version in effect + 1.
        version: u32,
        /// Each hub switches at its next seq (as this node sees it) plus this many.
        margin: u64,
    },
}

/// A venue named in an answer: its id and a label to show.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VenueRef {
    /// Federation-wide id.
    pub venue_id: String,
    /// "name (commune, id)", or the id when the node does not know the venue.
    pub label: String,
}

/// A transfer the owner signed for an online redemption.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TransferNote {
    /// The owner's name.
    pub owner: String,
    /// The transfer event.
    pub event: EventId,
}

/// Input formats of a venue file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum VenueFormat {
    /// Detect from the content.
    Auto,
    /// CSV, standard v1.
    CsvV1,
    /// CSV, standard v0.1.1.
    CsvV0,
    /// JSON array of records.
    Json,
    /// The MedNum BFC hub's CSV layout (the shipped mapping `mednum-bfc`).
    MednumBfc,
}

/// The import mapping a venue file is read with ([`ImportVenues::mapping`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum VenueMapping {
    /// A mapping shipped with maillage, by name (`mednum-bfc`, `france-services`).
    Shipped(String),
    /// A mapping file of one's own: its TOML text, as the client read it.
    File {
        /// How it is named in messages.
        source: String,
        /// Its content.
        content: Vec<u8>,
    },
}

/// [`Request::ImportVenues`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportVenues {
    /// How the file is named in messages.
    pub source: String,
    /// Its content.
    pub content: Vec<u8>,
    /// Its format.
    pub format: VenueFormat,
    /// Read it through this import mapping (the format is then [`VenueFormat::Auto`]).
    pub mapping: Option<VenueMapping>,
    /// Validate and report, sign nothing.
    pub dry_run: bool,
    /// Return every rejected row and warning as CSV.
    pub report: bool,
}

/// Counts of one import.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportCounts {
    /// Rows in the file.
    pub rows: usize,
    /// New venues (VenueRegistered signed).
    pub imported: usize,
    /// Changed venues (VenueUpdated signed).
    pub updated: usize,
    /// Venues already registered with the same record.
    pub unchanged: usize,
    /// Rows rejected.
    pub rejected: usize,
    /// Accepted rows carrying warnings.
    pub with_warnings: usize,
    /// Accepted rows whose source declared Pass numérique acceptance or APTIC.
    pub declares_pass_numerique: usize,
    /// Events signed.
    pub events_appended: usize,
}

/// [`Response::VenuesImported`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VenuesImported {
    /// The file, as named.
    pub source: String,
    /// The format read.
    pub format: String,
    /// The import mapping the file was read with, by name.
    pub mapping: Option<String>,
    /// What became of each of the file's columns, when read with a mapping.
    pub columns: Vec<ImportedColumn>,
    /// The importing hub.
    pub hub: String,
    /// Its départements.
    pub territories: Vec<String>,
    /// Counts.
    pub counts: ImportCounts,
    /// File-level notes.
    pub notes: Vec<String>,
    /// The most frequent rejection reasons.
    pub top_rejections: Vec<String>,
    /// The most frequent warnings.
    pub top_warnings: Vec<String>,
    /// The first rejected rows, each with its blocking issues.
    pub rejected_rows: Vec<String>,
    /// Events the rules refused (nothing was signed for them).
    pub refused: Vec<String>,
    /// Every rejected row and warning as CSV, when asked.
    pub report_csv: Option<Vec<u8>>,
    /// Nothing was signed.
    pub dry_run: bool,
    /// This hub's feed head after the import.
    pub feed_seq: u64,
}

/// What became of one column of an imported file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportedColumn {
    /// The column, as the header names it (lower case).
    pub column: String,
    /// Where its values went.
    pub fate: ColumnFate,
}

/// Where a column's values went.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum ColumnFate {
    /// Into these fields of the standard (`departement`: cross-checked, not kept).
    Mapped {
        /// The fields.
        fields: Vec<String>,
        /// How.
        via: ColumnVia,
    },
    /// Ignored, as the mapping says, for this reason.
    Ignored {
        /// The reason.
        reason: String,
    },
    /// Named neither by the mapping nor by the standard: ignored.
    Unknown,
}

/// How a column was mapped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ColumnVia {
    /// Its value as the field's.
    Rename,
    /// Through a table of values.
    Values,
    /// Converted (an HTML schedule to opening hours).
    Converted,
    /// Joined with other columns.
    Join,
    /// One day of the opening hours.
    Hours,
    /// Named like a field of the standard.
    Standard,
}

/// [`Request::EditVenue`]: the fields to change, each `None` left as it is. Values are as
/// typed: the node checks and normalises them (French messages), and signs a `VenueUpdated`
/// carrying the whole record with them and `date_maj` set to its day.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct EditVenue {
    /// Venue id or source id.
    pub venue: String,
    /// The new identifier of the establishment.
    pub pivot: Option<PivotInput>,
    /// Opening hours, OpenStreetMap `opening_hours` (empty: none).
    pub hours: Option<String>,
    /// Exact v1 service labels (at least one).
    pub services: Option<Vec<String>>,
    /// E-mail addresses (empty: none).
    pub emails: Option<Vec<String>>,
    /// Phone numbers (empty: none).
    pub phones: Option<Vec<String>>,
}

/// A venue's identifier, by kind.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum PivotInput {
    /// SIRET (14 digits, Luhn; La Poste's digit-sum rule).
    Siret(String),
    /// RNA number (W + 9 digits).
    Rna(String),
    /// RIDET (New Caledonia).
    Ridet(String),
}

/// [`Request::CloseVenue`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CloseVenue {
    /// Venue id or source id.
    pub venue: String,
    /// Why, in the hub's words.
    pub reason: String,
    /// The day it closed, `YYYY-MM-DD` (default: none given; the exports then show the day it
    /// was signed).
    #[serde(default)]
    pub date: Option<String>,
}

/// [`Request::ReopenVenue`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReopenVenue {
    /// Venue id or source id.
    pub venue: String,
    /// Why, in the hub's words.
    pub reason: String,
}

/// [`Request::QualifyVenue`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QualifyVenue {
    /// Venue id or source id.
    pub venue: String,
    /// Last valid day.
    pub until: String,
    /// Exact v1 service labels.
    pub services: Vec<String>,
    /// The scheme.
    pub scheme: String,
}

/// [`Request::RevokeQualification`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RevokeQualification {
    /// Venue id or source id.
    pub venue: String,
    /// Why.
    pub reason: String,
}

/// [`Request::IssueBatch`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IssueBatch {
    /// Batch id.
    pub batch: String,
    /// Funder name.
    pub funder: String,
    /// Funder SIRET.
    pub funder_siret: String,
    /// Vouchers.
    pub count: u32,
    /// Face value of one.
    pub face_value_cents: u64,
    /// First valid day.
    pub valid_from: String,
    /// Last day to hand out and use.
    pub valid_until: String,
    /// Last day to redeem.
    pub redeem_deadline: String,
    /// Exact v1 service labels (empty: any).
    pub services: Vec<String>,
    /// Départements (empty: any).
    pub territories: Vec<String>,
}

/// [`Request::HandOut`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HandOut {
    /// Serials.
    pub serials: Vec<String>,
    /// The person.
    pub person: PersonId,
    /// Prescriber kind.
    pub prescriber_kind: String,
    /// The desk's name.
    pub prescriber: String,
    /// The referral it goes with.
    pub referral: Option<String>,
    /// Day (default: today).
    pub date: Option<String>,
}

/// [`Request::Redeem`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Redeem {
    /// Serial.
    pub serial: String,
    /// Venue id or source id.
    pub venue: String,
    /// Exact v1 service label.
    pub service: String,
    /// Day (default: today).
    pub date: Option<String>,
    /// The claim it answers (prefix of its id).
    pub claim: Option<String>,
}

/// [`Request::Transfer`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Transfer {
    /// Serials.
    pub serials: Vec<String>,
    /// The receiving hub: its key, or a part of its name.
    pub to: String,
    /// Why.
    pub reason: String,
}

/// [`Request::Claim`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClaimVoucher {
    /// Serial.
    pub serial: String,
    /// Venue id or source id.
    pub venue: String,
    /// Exact v1 service label.
    pub service: String,
    /// Day (default: today).
    pub date: Option<String>,
}

/// [`Request::AnswerClaim`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AnswerClaim {
    /// The claim's event id, or a unique prefix of it.
    pub claim: String,
    /// Accept (redeem as claimed) or reject with this reason.
    pub answer: ClaimAnswer,
}

/// An owner's answer to a claim.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum ClaimAnswer {
    /// Redeem the voucher with the claim's venue, service and date.
    Accept,
    /// Reject it, for this reason.
    Reject(String),
}

/// [`Request::Cancel`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cancel {
    /// Serials.
    pub serials: Vec<String>,
    /// Why.
    pub reason: String,
}

/// [`Request::Settle`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Settle {
    /// Venue id or source id.
    pub venue: String,
    /// Serials.
    pub serials: Vec<String>,
    /// Month paid for, `YYYY-MM`.
    pub period: String,
}

/// [`Request::OpenReferral`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpenReferral {
    /// The person.
    pub person: PersonId,
    /// Prescriber kind.
    pub prescriber_kind: String,
    /// The desk's name.
    pub prescriber: String,
    /// Needs (exact v1 service labels).
    pub needs: Vec<String>,
    /// Target venue id or source id (or a territory).
    pub venue: Option<String>,
    /// Target département.
    pub service_territory: Option<String>,
    /// Diagnostic.
    pub diagnostic: String,
    /// Channel.
    pub channel: String,
    /// Referral id (default: drawn).
    pub id: Option<String>,
    /// Opening day (default: today).
    pub opened_on: Option<String>,
    /// Expiry day (default: 30 days after opening).
    pub expires_on: Option<String>,
}

/// [`Request::AcceptReferral`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AcceptReferral {
    /// Referral id.
    pub id: String,
    /// Venue id or source id.
    pub venue: String,
    /// Appointment day.
    pub appointment: Option<String>,
    /// Day of acceptance (default: today).
    pub date: Option<String>,
}

/// [`Request::DeclineReferral`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeclineReferral {
    /// Referral id.
    pub id: String,
    /// Why.
    pub reason: String,
}

/// [`Request::ForwardReferral`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ForwardReferral {
    /// Referral id.
    pub id: String,
    /// Venue id or source id.
    pub to_venue: String,
}

/// [`Request::CloseReferral`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CloseReferral {
    /// Referral id.
    pub id: String,
    /// `completed`, `no_show` or `abandoned`.
    pub outcome: String,
    /// `autonomous`, `partially`, `not_autonomous` or empty.
    pub autonomy: String,
}

/// [`Request::RecordAccompaniment`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordAccompaniment {
    /// The person.
    pub person: PersonId,
    /// Venue id or source id.
    pub venue: String,
    /// Exact v1 service labels.
    pub services: Vec<String>,
    /// Day.
    pub date: String,
    /// Minutes.
    pub duration_min: u32,
    /// `individual`, `collective` or `remote`.
    pub mode: String,
    /// The referral it answers.
    pub referral: Option<String>,
    /// Vouchers used.
    pub vouchers: Vec<String>,
}

/// [`Request::ForgetPerson`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ForgetPerson {
    /// The person.
    pub person: PersonId,
}

/// [`Request::ImportLog`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportLog {
    /// How the file is named in messages.
    pub source: String,
    /// Its content.
    pub content: Vec<u8>,
}

/// [`Response::LogImported`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogImported {
    /// Events in the file.
    pub events: u64,
    /// Newly stored.
    pub stored: u64,
    /// Already held.
    pub duplicate: u64,
    /// Not stored: their feed lacks earlier events.
    pub gap: u64,
    /// Equivocations found (fork proofs recorded).
    pub fork: u64,
    /// Not stored: the author's feed is frozen after a fork.
    pub frozen: u64,
}

/// [`Request::ListVenues`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListVenues {
    /// Only this département.
    pub departement: Option<String>,
    /// Include closed venues.
    pub all: bool,
}

/// [`Request::SearchVenues`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SearchVenues {
    /// Words that must all appear (name, town, address, postcode; case and accents ignored).
    pub words: Vec<String>,
    /// Only this département.
    pub departement: Option<String>,
    /// Only venues offering this exact v1 service.
    pub service: Option<String>,
    /// Only venues addressing this public or specific support.
    pub public: Option<String>,
    /// Only venues qualified on this day (`YYYY-MM-DD`; "today" when given empty).
    pub qualified_on: Option<String>,
    /// Only venues within `within_km` of (latitude, longitude) in degrees, nearest first.
    pub near: Option<(f64, f64)>,
    /// Radius for `near`.
    pub within_km: f64,
    /// At most this many.
    pub limit: usize,
}

/// [`Request::Export`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExportTables {
    /// Day the statuses and figures are computed for (default: today).
    pub as_of: Option<String>,
    /// Files to write, by name (`lieux.csv`, `venues.csv`, `vouchers.csv`, `referrals.csv`,
    /// `events.csv`, `stats.csv`); empty: all of them.
    pub tables: Vec<String>,
    /// For a double-click in a French spreadsheet: UTF-8 with a byte-order mark and `;`
    /// between values (the national standard's `lieux.csv` included).
    #[serde(default)]
    pub excel: bool,
    /// Also each table but `lieux.csv` as a Parquet file of typed columns (`events` split by
    /// month: `events/month=YYYY-MM/part-0.parquet`). Off when a client does not say: an older
    /// client would refuse files it did not ask for.
    #[serde(default)]
    pub parquet: bool,
    /// Also `datapackage.json`, the files described as a Frictionless Data Package.
    #[serde(default)]
    pub datapackage: bool,
}
