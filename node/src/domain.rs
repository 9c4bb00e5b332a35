//! The domain commands: vouchers (Pass numérique), referrals, accompaniments, a person's
//! parcours, venue qualification, and the air-gapped transport of signed logs.
//!
//! Every command that writes follows one path: validate the arguments (dates, v1 services,
//! prescriber kinds, person codes with their check character) so that most mistakes never
//! reach the log; sign one event whose causal past is everything this node holds
//! ([`Node::author_seen`]); fold the log; and report either what happened or the domain rule
//! the event broke (`REJECTED: …`, exit code 3 — the event stays in the log without effect,
//! as the protocol requires).

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::ExitCode;
use std::str::FromStr;

use anyhow::{Context, Result, anyhow, bail};
use clap::{Args, Subcommand, ValueEnum};
use maillage_core::date::{day_of_millis, format_date, parse_date};
use maillage_core::hlc::hlc_millis;
use maillage_core::ledger::{PRESCRIBER_KINDS, SERVICES, VoucherState, VoucherStatus};
use maillage_core::{EventId, EventRef, HubId, Ledger, PersonId, Role, VerifiedEvent, pb};
use maillage_store::{EventStore, Inserted};
use rand::RngExt;
use serde_json::json;

use crate::datadir::DataDir;
use crate::node::{Node, wall_ms};

/// Exit code of a command whose event a domain rule rejected.
pub const EXIT_REJECTED: u8 = 3;
/// Exit code of a command whose event waits for events this node does not hold.
pub const EXIT_PENDING: u8 = 4;

// ----- arguments ----------------------------------------------------------------------------

/// `maillage person …`.
#[derive(Debug, Subcommand)]
pub enum PersonCommand {
    /// Draw a new pseudonymous person code to print on the carnet. Nothing is written: a
    /// person exists only through the events that mention them.
    New {
        /// Machine-readable output.
        #[arg(long)]
        json: bool,
    },
    /// Right to erasure: every node drops the person's parcours (PersonForgotten).
    Forget {
        /// The person code (from the carnet).
        code: String,
        /// Machine-readable output.
        #[arg(long)]
        json: bool,
    },
}

/// `maillage venues qualify`.
#[derive(Debug, Args)]
pub struct QualifyArgs {
    /// Venue id (v…) or source id.
    pub venue: String,
    /// Last day of validity (YYYY-MM-DD).
    #[arg(long)]
    pub until: String,
    /// v1 services it may redeem vouchers for (exact label, or an unambiguous part of it).
    #[arg(long = "service", required = true)]
    pub services: Vec<String>,
    /// The scheme.
    #[arg(long, default_value = "pass-numerique")]
    pub scheme: String,
    /// Machine-readable output.
    #[arg(long)]
    pub json: bool,
}

/// `maillage venues revoke`.
#[derive(Debug, Args)]
pub struct RevokeArgs {
    /// Venue id (v…) or source id.
    pub venue: String,
    /// Why.
    #[arg(long)]
    pub reason: String,
    /// Machine-readable output.
    #[arg(long)]
    pub json: bool,
}

/// `maillage voucher …`.
#[derive(Debug, Subcommand)]
pub enum VoucherCommand {
    /// Issue a batch of vouchers bought by a funder (serials BATCH-1 … BATCH-N).
    Issue(IssueArgs),
    /// Hand vouchers (a carnet) to a person.
    HandOut(HandOutArgs),
    /// Redeem a voucher this hub owns at one of its qualified venues (or accept a claim).
    Redeem {
        /// The serial.
        serial: String,
        /// Venue id (v…) or source id.
        #[arg(long)]
        venue: String,
        /// v1 service (exact label, or an unambiguous part of it).
        #[arg(long)]
        service: String,
        /// Day of the redemption (default: today).
        #[arg(long)]
        date: Option<String>,
        /// The claim this redemption answers (event id, or a unique prefix of it).
        #[arg(long)]
        claim: Option<String>,
        /// Machine-readable output.
        #[arg(long)]
        json: bool,
    },
    /// Transfer vouchers to another hub (key hex or unique part of its name).
    Transfer {
        /// Serials.
        #[arg(required = true)]
        serials: Vec<String>,
        /// The receiving hub.
        #[arg(long)]
        to: String,
        /// Why.
        #[arg(long)]
        reason: String,
        /// Machine-readable output.
        #[arg(long)]
        json: bool,
    },
    /// Claim a voucher another hub owns, accepted at one of this hub's venues while the owner
    /// was unreachable; the owner answers with `voucher answer`.
    Claim {
        /// The serial.
        serial: String,
        /// Venue id (v…) or source id.
        #[arg(long)]
        venue: String,
        /// v1 service.
        #[arg(long)]
        service: String,
        /// Day (default: today).
        #[arg(long)]
        date: Option<String>,
        /// Machine-readable output.
        #[arg(long)]
        json: bool,
    },
    /// Answer a claim on a voucher this hub owns: accept (redeem it as claimed) or reject.
    Answer {
        /// The claim's event id (or a unique prefix of it).
        claim: String,
        /// Accept: redeem the voucher with the claim's venue, service and date.
        #[arg(long, conflicts_with = "reject", required_unless_present = "reject")]
        accept: bool,
        /// Reject, with this reason.
        #[arg(long)]
        reject: Option<String>,
        /// Machine-readable output.
        #[arg(long)]
        json: bool,
    },
    /// Withdraw vouchers this hub owns.
    Cancel {
        /// Serials.
        #[arg(required = true)]
        serials: Vec<String>,
        /// Why.
        #[arg(long)]
        reason: String,
        /// Machine-readable output.
        #[arg(long)]
        json: bool,
    },
    /// Record the payment to a venue of redeemed vouchers this hub issued (amount = face values).
    Settle {
        /// Venue id (v…) or source id.
        #[arg(long)]
        venue: String,
        /// Serials.
        #[arg(required = true)]
        serials: Vec<String>,
        /// Month paid for (YYYY-MM).
        #[arg(long)]
        period: String,
        /// Machine-readable output.
        #[arg(long)]
        json: bool,
    },
    /// A voucher's state, or counts by status for a batch.
    Status {
        /// The serial.
        #[arg(required_unless_present = "batch", conflicts_with = "batch")]
        serial: Option<String>,
        /// A batch id.
        #[arg(long)]
        batch: Option<String>,
        /// Day to evaluate expiry at (default: today).
        #[arg(long)]
        as_of: Option<String>,
        /// Machine-readable output.
        #[arg(long)]
        json: bool,
    },
}

/// `maillage voucher issue`.
#[derive(Debug, Args)]
pub struct IssueArgs {
    /// Batch id: one of this hub's départements, a dash, then letters, digits, dashes.
    #[arg(long)]
    pub batch: String,
    /// Funder name.
    #[arg(long)]
    pub funder: String,
    /// Funder SIRET (14 digits).
    #[arg(long)]
    pub funder_siret: String,
    /// Vouchers in the batch.
    #[arg(long)]
    pub count: u32,
    /// Face value of one voucher, in cents.
    #[arg(long, default_value_t = 1000)]
    pub face_value_cents: u64,
    /// First valid day.
    #[arg(long)]
    pub valid_from: String,
    /// Last day to hand out and use.
    #[arg(long)]
    pub valid_until: String,
    /// Last day to redeem (tolerance).
    #[arg(long)]
    pub redeem_deadline: String,
    /// Eligible v1 services (default: any).
    #[arg(long = "service")]
    pub services: Vec<String>,
    /// Départements where they may be redeemed (default: any).
    #[arg(long = "territory")]
    pub territories: Vec<String>,
    /// Machine-readable output.
    #[arg(long)]
    pub json: bool,
}

/// `maillage voucher hand-out`.
#[derive(Debug, Args)]
pub struct HandOutArgs {
    /// Serials.
    #[arg(required_unless_present = "carnet")]
    pub serials: Vec<String>,
    /// A range of a batch: BATCH:FIRST-LAST (e.g. 13-2026-CAF-01:1-5).
    #[arg(long)]
    pub carnet: Option<String>,
    /// The person code (from the carnet).
    #[arg(long)]
    pub person: String,
    /// Prescriber kind (CAF, FT, CCAS, MUNI, DEPT, ML, LA_POSTE, RFS, ASSO, SPIP, AUTRE).
    #[arg(long)]
    pub prescriber_kind: String,
    /// The desk's name (never a person's).
    #[arg(long)]
    pub prescriber: String,
    /// The referral it goes with.
    #[arg(long)]
    pub referral: Option<String>,
    /// Day (default: today).
    #[arg(long)]
    pub date: Option<String>,
    /// Machine-readable output.
    #[arg(long)]
    pub json: bool,
}

/// `maillage referral …`.
#[derive(Debug, Subcommand)]
pub enum ReferralCommand {
    /// Refer a person to a venue or to a service in a département.
    Open(OpenArgs),
    /// Accept a referral this hub handles, at one of its venues.
    Accept {
        /// Referral id.
        id: String,
        /// Venue id (v…) or source id.
        #[arg(long)]
        venue: String,
        /// Appointment day.
        #[arg(long)]
        appointment: Option<String>,
        /// Day of acceptance (default: today).
        #[arg(long)]
        date: Option<String>,
        /// Machine-readable output.
        #[arg(long)]
        json: bool,
    },
    /// Decline a referral this hub handles.
    Decline {
        /// Referral id.
        id: String,
        /// Why.
        #[arg(long)]
        reason: String,
        /// Machine-readable output.
        #[arg(long)]
        json: bool,
    },
    /// Forward a referral to another venue (possibly another hub's).
    Forward {
        /// Referral id.
        id: String,
        /// Venue id (v…) or source id.
        #[arg(long)]
        to_venue: String,
        /// Machine-readable output.
        #[arg(long)]
        json: bool,
    },
    /// Close a referral with its outcome.
    Close {
        /// Referral id.
        id: String,
        /// Outcome.
        #[arg(long, value_enum)]
        outcome: Outcome,
        /// The person's autonomy at the end.
        #[arg(long, value_enum)]
        autonomy: Option<Autonomy>,
        /// Machine-readable output.
        #[arg(long)]
        json: bool,
    },
    /// A referral's state (open referrals past their expiry are shown as expired).
    Show {
        /// Referral id.
        id: String,
        /// Day to evaluate expiry at (default: today).
        #[arg(long)]
        as_of: Option<String>,
        /// Machine-readable output.
        #[arg(long)]
        json: bool,
    },
}

/// `maillage referral open`.
#[derive(Debug, Args)]
pub struct OpenArgs {
    /// The person code (from the carnet).
    #[arg(long)]
    pub person: String,
    /// Prescriber kind (CAF, FT, CCAS, MUNI, DEPT, ML, LA_POSTE, RFS, ASSO, SPIP, AUTRE).
    #[arg(long)]
    pub prescriber_kind: String,
    /// The desk's name (never a person's).
    #[arg(long)]
    pub prescriber: String,
    /// Needs (v1 services).
    #[arg(long = "need", required = true)]
    pub needs: Vec<String>,
    /// Target venue (v… or source id).
    #[arg(
        long,
        conflicts_with = "service_territory",
        required_unless_present = "service_territory"
    )]
    pub venue: Option<String>,
    /// Target département (the need is served by its hub).
    #[arg(long)]
    pub service_territory: Option<String>,
    /// Diagnostic (e.g. "ABC Diag: débutant").
    #[arg(long, default_value = "")]
    pub diagnostic: String,
    /// Channel (telephone, mail, plateforme…).
    #[arg(long, default_value = "")]
    pub channel: String,
    /// Referral id (default: "<département>-<YYYYMMDD>-<6 random characters>").
    #[arg(long)]
    pub id: Option<String>,
    /// Opening day (default: today).
    #[arg(long)]
    pub opened_on: Option<String>,
    /// Expiry day (default: 30 days after opening).
    #[arg(long)]
    pub expires_on: Option<String>,
    /// Machine-readable output.
    #[arg(long)]
    pub json: bool,
}

/// Referral outcomes.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Outcome {
    /// The accompaniment took place.
    Completed,
    /// The person did not come.
    #[value(name = "no_show")]
    NoShow,
    /// Stopped before the end.
    Abandoned,
}

/// Autonomy levels.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Autonomy {
    /// Autonomous.
    Autonomous,
    /// Partially autonomous.
    Partially,
    /// Not autonomous.
    #[value(name = "not_autonomous")]
    NotAutonomous,
}

/// Accompaniment modes.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Mode {
    /// One person.
    Individual,
    /// A group.
    Collective,
    /// At a distance.
    Remote,
}

/// `maillage accompaniment …`.
#[derive(Debug, Subcommand)]
pub enum AccompanimentCommand {
    /// Record an accompaniment at one of this hub's venues.
    Record {
        /// The person code.
        #[arg(long)]
        person: String,
        /// Venue id (v…) or source id.
        #[arg(long)]
        venue: String,
        /// v1 services.
        #[arg(long = "service", required = true)]
        services: Vec<String>,
        /// Day.
        #[arg(long)]
        date: String,
        /// Minutes.
        #[arg(long)]
        duration_min: u32,
        /// individual | collective | remote.
        #[arg(long, value_enum)]
        mode: Mode,
        /// The referral it answers.
        #[arg(long)]
        referral: Option<String>,
        /// Vouchers used.
        #[arg(long = "voucher")]
        vouchers: Vec<String>,
        /// Machine-readable output.
        #[arg(long)]
        json: bool,
    },
}

// ----- validation helpers -------------------------------------------------------------------

/// Today (UTC), in days since the epoch.
pub fn today() -> i32 {
    day_of_millis(wall_ms())
}

/// A `YYYY-MM-DD` argument.
pub fn date_arg(field: &str, text: &str) -> Result<String> {
    parse_date(text.trim()).map(format_date).ok_or_else(|| {
        anyhow!("--{field}: expected a date YYYY-MM-DD, found {text:?}; nothing was signed")
    })
}

fn date_or_today(field: &str, text: Option<&str>) -> Result<String> {
    match text {
        Some(t) => date_arg(field, t),
        None => Ok(format_date(today())),
    }
}

/// An `--as-of` argument in days (default: today).
pub fn as_of_arg(text: Option<&str>) -> Result<i32> {
    match text {
        Some(t) => parse_date(t.trim())
            .ok_or_else(|| anyhow!("--as-of: expected a date YYYY-MM-DD, found {t:?}")),
        None => Ok(today()),
    }
}

/// Lowercase without French accents, for matching.
pub fn fold(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            'à' | 'â' | 'ä' | 'À' | 'Â' | 'Ä' => 'a',
            'é' | 'è' | 'ê' | 'ë' | 'É' | 'È' | 'Ê' | 'Ë' => 'e',
            'î' | 'ï' | 'Î' | 'Ï' => 'i',
            'ô' | 'ö' | 'Ô' | 'Ö' => 'o',
            'ù' | 'û' | 'ü' | 'Ù' | 'Û' | 'Ü' => 'u',
            'ç' | 'Ç' => 'c',
            other => other.to_lowercase().next().unwrap_or(other),
        })
        .collect()
}

/// A v1 service: the exact label, or a part of exactly one label (case and accents ignored).
pub fn service_arg(text: &str) -> Result<String> {
    if let Some(exact) = SERVICES.iter().find(|s| **s == text) {
        return Ok((*exact).to_owned());
    }
    let wanted = fold(text.trim());
    let matches: Vec<&str> = SERVICES
        .iter()
        .copied()
        .filter(|s| !wanted.is_empty() && fold(s).contains(&wanted))
        .collect();
    match matches.as_slice() {
        [one] => Ok((*one).to_owned()),
        [] => bail!(
            "service {text:?}: not a v1 service; expected one of: {}; nothing was signed",
            SERVICES.join(" | ")
        ),
        many => bail!(
            "service {text:?} is ambiguous: it matches {}; nothing was signed",
            many.join(" | ")
        ),
    }
}

fn services_arg(texts: &[String]) -> Result<Vec<String>> {
    let mut out: Vec<String> = Vec::new();
    for t in texts {
        let s = service_arg(t)?;
        if !out.contains(&s) {
            out.push(s);
        }
    }
    Ok(out)
}

/// A prescriber kind (case ignored).
pub fn prescriber_kind_arg(text: &str) -> Result<String> {
    let upper = text.trim().to_uppercase().replace('-', "_");
    if PRESCRIBER_KINDS.contains(&upper.as_str()) {
        Ok(upper)
    } else {
        bail!(
            "prescriber kind {text:?}: expected one of {}; nothing was signed",
            PRESCRIBER_KINDS.join(", ")
        )
    }
}

/// A person code, with its check character verified.
pub fn person_arg(text: &str) -> Result<PersonId> {
    PersonId::from_str(text).map_err(|e| anyhow!("{e}; nothing was signed"))
}

fn prescriber(kind: &str, name: &str) -> Result<pb::Prescriber> {
    let kind = prescriber_kind_arg(kind)?;
    if name.trim().is_empty() {
        bail!("--prescriber: the desk's name is required; nothing was signed");
    }
    Ok(pb::Prescriber {
        kind,
        name: name.trim().to_owned(),
    })
}

/// A venue id from a venue id or a source id.
fn venue_arg(ledger: &Ledger, text: &str) -> Result<String> {
    let directory = ledger.venues();
    if directory.get(text).is_some() {
        return Ok(text.to_owned());
    }
    let matches: Vec<&String> = directory
        .venues()
        .values()
        .filter(|v| v.record.id == text)
        .map(|v| &v.venue_id)
        .collect();
    match matches.as_slice() {
        [one] => Ok((*one).clone()),
        [] => bail!(
            "no venue {text:?} on this node (neither a venue id nor a source id); import the hub's log or try `maillage venues search`; nothing was signed"
        ),
        many => bail!(
            "{} venues have source id {text:?}: use the venue id ({}); nothing was signed",
            many.len(),
            many.iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

fn serial_arg(text: &str) -> Result<String> {
    let t = text.trim();
    let ok = t.rsplit_once('-').is_some_and(|(b, n)| {
        !b.is_empty() && !n.is_empty() && n.bytes().all(|c| c.is_ascii_digit())
    });
    if !ok {
        bail!("serial {text:?}: expected BATCH-N (e.g. 13-2026-CAF-01-4); nothing was signed");
    }
    Ok(t.to_owned())
}

fn serials_arg(texts: &[String]) -> Result<Vec<String>> {
    let mut out = Vec::new();
    for t in texts {
        let s = serial_arg(t)?;
        if !out.contains(&s) {
            out.push(s);
        }
    }
    Ok(out)
}

/// `BATCH:FIRST-LAST` → serials.
pub fn carnet_arg(text: &str) -> Result<Vec<String>> {
    let err = || anyhow!("--carnet {text:?}: expected BATCH:FIRST-LAST (e.g. 13-2026-CAF-01:1-5)");
    let (batch, range) = text.rsplit_once(':').ok_or_else(err)?;
    let (first, last) = range.split_once('-').ok_or_else(err)?;
    let first: u32 = first.trim().parse().map_err(|_| err())?;
    let last: u32 = last.trim().parse().map_err(|_| err())?;
    if batch.is_empty() || first == 0 || last < first || last - first >= 1000 {
        return Err(err());
    }
    Ok((first..=last).map(|n| format!("{batch}-{n}")).collect())
}

fn hub_arg(node: &Node, text: &str) -> Result<HubId> {
    if let Ok(id) = HubId::from_str(text.trim()) {
        return Ok(id);
    }
    let wanted = fold(text.trim());
    let matches: Vec<(&HubId, &String)> = node
        .charter
        .members()
        .iter()
        .filter(|(id, m)| {
            m.role == Role::Hub && **id != node.id() && fold(&m.name).contains(&wanted)
        })
        .map(|(id, m)| (id, &m.name))
        .collect();
    match matches.as_slice() {
        [(id, _)] => Ok(**id),
        [] => bail!(
            "--to {text:?}: no other hub of the federation has this key or name; nothing was signed"
        ),
        many => bail!(
            "--to {text:?} is ambiguous: {}; nothing was signed",
            many.iter()
                .map(|(_, n)| n.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// A hub's name in the charter (its short key if it is not a member).
pub fn hub_name(ledger: &Ledger, hub: &HubId) -> String {
    ledger
        .charter()
        .member(hub)
        .map_or_else(|| hub.short(), |m| m.name.clone())
}

fn venue_label(ledger: &Ledger, venue_id: &str) -> String {
    match ledger.venues().get(venue_id) {
        Some(v) => format!("{} ({}, {})", v.record.nom, v.record.commune, venue_id),
        None => venue_id.to_owned(),
    }
}

/// The claim with this id (or unique prefix) and the position of its event.
fn find_claim(
    node: &Node,
    ledger: &Ledger,
    text: &str,
) -> Result<(maillage_core::ledger::Claim, EventRef)> {
    let wanted = text.trim().to_lowercase();
    let matches: Vec<_> = ledger
        .claims()
        .values()
        .filter(|c| !wanted.is_empty() && c.event.to_hex().starts_with(&wanted))
        .collect();
    let claim = match matches.as_slice() {
        [one] => (*one).clone(),
        [] => bail!(
            "no claim {text:?} on this node: import the claiming hub's log first; nothing was signed"
        ),
        _ => bail!(
            "claim id {text:?} matches several claims: give more characters; nothing was signed"
        ),
    };
    let at = event_ref_of(node, &claim.claimant, &claim.event)?;
    Ok((claim, at))
}

fn event_ref_of(node: &Node, author: &HubId, id: &EventId) -> Result<EventRef> {
    let mut after = 0;
    loop {
        let events = node.store.range(author, after, 4096)?;
        let Some(last) = events.last().map(|e| e.seq) else {
            break;
        };
        if let Some(e) = events.iter().find(|e| e.id == *id) {
            return Ok(e.as_ref());
        }
        after = last;
    }
    bail!("event {} is not in this node's store", id.short())
}

fn hlc_datetime(hlc: u64) -> String {
    let ms = hlc_millis(hlc);
    let day = day_of_millis(ms);
    let secs = (ms / 1000) % 86_400;
    format!(
        "{} {:02}:{:02}",
        format_date(day),
        secs / 3600,
        (secs % 3600) / 60
    )
}

/// Whether an unredeemed voucher of this batch is expired on `as_of`.
fn expired(ledger: &Ledger, serial: &str, as_of: i32) -> bool {
    serial
        .rsplit_once('-')
        .and_then(|(b, _)| ledger.batch_by_id(b))
        .and_then(|b| parse_date(&b.redeem_deadline))
        .is_some_and(|deadline| as_of > deadline)
}

/// A voucher's status on `as_of`: issued, handed_out, redeemed, cancelled, or expired (neither
/// redeemed nor cancelled, past its batch's redeem deadline).
pub fn status_label(
    ledger: &Ledger,
    serial: &str,
    state: &VoucherState,
    as_of: i32,
) -> &'static str {
    match state.status {
        VoucherStatus::Redeemed => "redeemed",
        VoucherStatus::Cancelled => "cancelled",
        _ if expired(ledger, serial, as_of) => "expired",
        VoucherStatus::Issued => "issued",
        VoucherStatus::HandedOut => "handed_out",
    }
}

// ----- signing and reporting ----------------------------------------------------------------

/// Signs one event, folds the log and reports: the `describe`d outcome, or `REJECTED: …`
/// with exit code 3.
fn publish(
    node: &Node,
    body: pb::event::Body,
    json: bool,
    describe: impl FnOnce(&Ledger, &VerifiedEvent) -> (String, serde_json::Value),
) -> Result<ExitCode> {
    let event = node.author_seen(body).context("signing the event")?;
    let ledger = node.ledger().context("folding the log")?;
    if let Some(rejection) = ledger.rejections().get(&event.id) {
        if json {
            let out = json!({
                "event": event.id, "seq": event.seq, "rejected": true, "reason": rejection.reason,
            });
            outln!("{}", serde_json::to_string_pretty(&out)?);
        } else {
            outln!("REJECTED: {}", rejection.reason);
            outln!(
                "(event {} at seq {} stays in this hub's log without effect, as the protocol requires: every node will reject it the same way)",
                event.id.short(),
                event.seq
            );
        }
        return Ok(ExitCode::from(EXIT_REJECTED));
    }
    if ledger.applied().get(&event.author).copied().unwrap_or(0) < event.seq {
        // Its causal past names events this node does not hold: the rules cannot run yet.
        outln!(
            "PENDING: event {} (seq {}) is signed and stored, but waits for events this node does not hold; import the missing hubs' logs, then check `maillage rejections`",
            event.id.short(),
            event.seq
        );
        return Ok(ExitCode::from(EXIT_PENDING));
    }
    let (text, mut value) = describe(&ledger, &event);
    if json {
        if let Some(map) = value.as_object_mut() {
            map.insert("event".into(), json!(event.id));
            map.insert("seq".into(), json!(event.seq));
            map.insert("rejected".into(), json!(false));
        }
        outln!("{}", serde_json::to_string_pretty(&value)?);
    } else {
        outln!("{text}");
        outln!("signed event {} (seq {})", event.id.short(), event.seq);
    }
    Ok(ExitCode::SUCCESS)
}

/// Signs a claim on another hub's voucher (its owner answers it when the claim reaches it).
fn publish_claim(
    node: &Node,
    serial: String,
    venue_id: String,
    service: String,
    date: String,
    json: bool,
) -> Result<ExitCode> {
    let body = pb::event::Body::VoucherClaimed(pb::VoucherClaimed {
        serial: serial.clone(),
        venue_id: venue_id.clone(),
        service: service.clone(),
        date: date.clone(),
    });
    publish(node, body, json, |ledger, event| {
        let owner = ledger
            .voucher(&serial)
            .map(|s| hub_name(ledger, &s.owner))
            .unwrap_or_default();
        (
            format!(
                "voucher {serial} claimed at {} for {service:?} on {date}; claim {} waits for its owner {owner} to answer",
                venue_label(ledger, &venue_id),
                event.id.to_hex()
            ),
            json!({ "serial": serial, "venue_id": venue_id, "service": service, "date": date, "claim": event.id, "owner": owner }),
        )
    })
}

fn print_json_or(json: bool, value: &serde_json::Value, text: &str) -> Result<ExitCode> {
    if json {
        outln!("{}", serde_json::to_string_pretty(value)?);
    } else {
        out!("{text}");
    }
    Ok(ExitCode::SUCCESS)
}

// ----- person -------------------------------------------------------------------------------

/// Runs `maillage person …`.
pub fn run_person(data_dir: &DataDir, command: PersonCommand) -> Result<ExitCode> {
    match command {
        PersonCommand::New { json } => {
            let mut bytes = [0u8; 16];
            rand::rng().fill(&mut bytes[..]);
            let person = PersonId::random(bytes);
            let value = json!({ "code": person.code() });
            let text = format!(
                "{}\nPrint this code on the person's carnet: it is the only link between hubs (no name, no address).\n",
                person.code()
            );
            print_json_or(json, &value, &text)
        }
        PersonCommand::Forget { code, json } => {
            let person = person_arg(&code)?;
            let node = Node::open_shared(data_dir.clone())?;
            let body = pb::event::Body::PersonForgotten(pb::PersonForgotten {
                person: person.0.to_vec(),
            });
            publish(&node, body, json, |_, _| {
                (
                    format!(
                        "person {person} forgotten: every node drops their parcours and keeps anonymous counts"
                    ),
                    json!({ "person": person.code(), "forgotten": true }),
                )
            })
        }
    }
}

// ----- venues -------------------------------------------------------------------------------

/// `maillage venues qualify`.
pub fn qualify(data_dir: &DataDir, args: QualifyArgs) -> Result<ExitCode> {
    let until = date_arg("until", &args.until)?;
    let services = services_arg(&args.services)?;
    if args.scheme.trim().is_empty() {
        bail!("--scheme: expected a scheme name (e.g. pass-numerique); nothing was signed");
    }
    let node = Node::open_shared(data_dir.clone())?;
    let venue_id = venue_arg(&*node.ledger()?, &args.venue)?;
    let body = pb::event::Body::VenueQualified(pb::VenueQualified {
        venue_id: venue_id.clone(),
        scheme: args.scheme.trim().to_owned(),
        valid_until: until.clone(),
        services: services.clone(),
    });
    publish(&node, body, args.json, |ledger, _| {
        (
            format!(
                "venue {} qualified for {} until {until}: {}",
                venue_label(ledger, &venue_id),
                args.scheme,
                services.join(", ")
            ),
            json!({ "venue_id": venue_id, "scheme": args.scheme, "valid_until": until, "services": services }),
        )
    })
}

/// `maillage venues revoke`.
pub fn revoke(data_dir: &DataDir, args: RevokeArgs) -> Result<ExitCode> {
    if args.reason.trim().is_empty() {
        bail!("--reason: a revocation needs a reason; nothing was signed");
    }
    let node = Node::open_shared(data_dir.clone())?;
    let venue_id = venue_arg(&*node.ledger()?, &args.venue)?;
    let body = pb::event::Body::VenueQualificationRevoked(pb::VenueQualificationRevoked {
        venue_id: venue_id.clone(),
        reason: args.reason.clone(),
    });
    publish(&node, body, args.json, |ledger, _| {
        (
            format!(
                "qualification of venue {} revoked: {}",
                venue_label(ledger, &venue_id),
                args.reason
            ),
            json!({ "venue_id": venue_id, "revoked": true, "reason": args.reason }),
        )
    })
}

// ----- vouchers -----------------------------------------------------------------------------

/// Runs `maillage voucher …`.
pub fn run_voucher(data_dir: &DataDir, command: VoucherCommand) -> Result<ExitCode> {
    match command {
        VoucherCommand::Issue(args) => issue(data_dir, args),
        VoucherCommand::HandOut(args) => hand_out(data_dir, args),
        VoucherCommand::Redeem {
            serial,
            venue,
            service,
            date,
            claim,
            json,
        } => {
            let serial = serial_arg(&serial)?;
            let service = service_arg(&service)?;
            let date = date_or_today("date", date.as_deref())?;
            let node = Node::open_shared(data_dir.clone())?;
            // Read what the redemption needs, then let the views go: the transfer below waits
            // for replication, which folds into them.
            let (venue_id, claim, owner) = {
                let ledger = node.ledger()?;
                let venue_id = venue_arg(&ledger, &venue)?;
                let claim = match claim {
                    Some(text) => Some(find_claim(&node, &ledger, &text)?.1),
                    None => None,
                };
                let owner = ledger
                    .voucher(&serial)
                    .map(|v| (v.owner, hub_name(&ledger, &v.owner)));
                (venue_id, claim, owner)
            };
            // A voucher of another hub: a running node asks its owner for a transfer first, or
            // records a claim when the owner cannot be reached.
            if claim.is_none()
                && let Some((owner, owner_name)) = owner.filter(|(o, _)| *o != node.id())
                && let Some(daemon) = crate::serve::Daemon::current()
            {
                match daemon.transfer_from(owner, vec![serial.clone()], venue_id.clone()) {
                    Ok(transfer) => {
                        if !daemon.wait_for(&transfer, std::time::Duration::from_secs(10)) {
                            bail!(
                                "hub {} transferred voucher {serial} (event {}), but its log has not reached this node within 10 s; run the redemption again shortly",
                                owner_name,
                                transfer.id.short()
                            );
                        }
                        outln!(
                            "voucher {serial} transferred online by its owner {} (event {})",
                            owner_name,
                            transfer.id.short()
                        );
                    }
                    Err(crate::serve::TransferFailure::Unreachable(why)) => {
                        outln!(
                            "owner {} unreachable ({why}): recording a claim it will answer when the link returns",
                            owner_name
                        );
                        return publish_claim(&node, serial, venue_id, service, date, json);
                    }
                    Err(crate::serve::TransferFailure::Refused(why)) => {
                        bail!(
                            "the owner {} refused to transfer voucher {serial}: {why}; nothing was signed",
                            owner_name
                        );
                    }
                }
            }
            let body = pb::event::Body::VoucherRedeemed(pb::VoucherRedeemed {
                serial: serial.clone(),
                venue_id: venue_id.clone(),
                service: service.clone(),
                date: date.clone(),
                claim: claim.map(Into::into),
            });
            publish(&node, body, json, |ledger, _| {
                (
                    format!(
                        "voucher {serial} redeemed at {} for {service:?} on {date}",
                        venue_label(ledger, &venue_id)
                    ),
                    json!({ "serial": serial, "venue_id": venue_id, "service": service, "date": date }),
                )
            })
        }
        VoucherCommand::Transfer {
            serials,
            to,
            reason,
            json,
        } => {
            let serials = serials_arg(&serials)?;
            let node = Node::open_shared(data_dir.clone())?;
            let to = hub_arg(&node, &to)?;
            let body = pb::event::Body::VoucherTransferred(pb::VoucherTransferred {
                serials: serials.clone(),
                to_hub: to.0.to_vec(),
                reason: reason.clone(),
            });
            publish(&node, body, json, |ledger, _| {
                (
                    format!(
                        "{} voucher(s) transferred to {}: {} ({reason}); that hub now owns them once it imports this log",
                        serials.len(),
                        hub_name(ledger, &to),
                        serials.join(", ")
                    ),
                    json!({ "serials": serials, "to": to, "reason": reason }),
                )
            })
        }
        VoucherCommand::Claim {
            serial,
            venue,
            service,
            date,
            json,
        } => {
            let serial = serial_arg(&serial)?;
            let service = service_arg(&service)?;
            let date = date_or_today("date", date.as_deref())?;
            let node = Node::open_shared(data_dir.clone())?;
            let venue_id = venue_arg(&*node.ledger()?, &venue)?;
            publish_claim(&node, serial, venue_id, service, date, json)
        }
        VoucherCommand::Answer {
            claim,
            accept,
            reject,
            json,
        } => {
            let node = Node::open_shared(data_dir.clone())?;
            let ledger = node.ledger()?;
            let (claim, at) = find_claim(&node, &ledger, &claim)?;
            let (body, text, value) = if accept {
                (
                    pb::event::Body::VoucherRedeemed(pb::VoucherRedeemed {
                        serial: claim.serial.clone(),
                        venue_id: claim.venue_id.clone(),
                        service: claim.service.clone(),
                        date: claim.date.clone(),
                        claim: Some(at.into()),
                    }),
                    format!(
                        "claim {} accepted: voucher {} redeemed at {} for {:?} on {}",
                        claim.event.short(),
                        claim.serial,
                        venue_label(&ledger, &claim.venue_id),
                        claim.service,
                        claim.date
                    ),
                    json!({ "claim": claim.event, "serial": claim.serial, "accepted": true }),
                )
            } else {
                let reason = reject.unwrap_or_default();
                if reason.trim().is_empty() {
                    bail!("--reject: a rejected claim needs a reason; nothing was signed");
                }
                (
                    pb::event::Body::VoucherClaimRejected(pb::VoucherClaimRejected {
                        claim: Some(at.into()),
                        reason: reason.clone(),
                    }),
                    format!(
                        "claim {} on voucher {} rejected: {reason}",
                        claim.event.short(),
                        claim.serial
                    ),
                    json!({ "claim": claim.event, "serial": claim.serial, "accepted": false, "reason": reason }),
                )
            };
            drop(ledger);
            publish(&node, body, json, |_, _| (text, value))
        }
        VoucherCommand::Cancel {
            serials,
            reason,
            json,
        } => {
            let serials = serials_arg(&serials)?;
            if reason.trim().is_empty() {
                bail!("--reason: a cancellation needs a reason; nothing was signed");
            }
            let node = Node::open_shared(data_dir.clone())?;
            let body = pb::event::Body::VoucherCancelled(pb::VoucherCancelled {
                serials: serials.clone(),
                reason: reason.clone(),
            });
            publish(&node, body, json, |_, _| {
                (
                    format!(
                        "{} voucher(s) cancelled: {} ({reason})",
                        serials.len(),
                        serials.join(", ")
                    ),
                    json!({ "serials": serials, "reason": reason }),
                )
            })
        }
        VoucherCommand::Settle {
            venue,
            serials,
            period,
            json,
        } => {
            let serials = serials_arg(&serials)?;
            let month_ok = period.len() == 7 && parse_date(&format!("{period}-01")).is_some();
            if !month_ok {
                bail!("--period: expected a month YYYY-MM, found {period:?}; nothing was signed");
            }
            let node = Node::open_shared(data_dir.clone())?;
            let (venue_id, amount) = {
                let ledger = node.ledger()?;
                let venue_id = venue_arg(&ledger, &venue)?;
                let mut amount = 0u64;
                for serial in &serials {
                    let batch = serial
                        .rsplit_once('-')
                        .and_then(|(b, _)| ledger.batch_by_id(b))
                        .ok_or_else(|| {
                            anyhow!(
                                "voucher {serial}: unknown batch on this node; nothing was signed"
                            )
                        })?;
                    amount += batch.face_value_cents;
                }
                (venue_id, amount)
            };
            let body = pb::event::Body::RedemptionsSettled(pb::RedemptionsSettled {
                venue_id: venue_id.clone(),
                serials: serials.clone(),
                amount_cents: amount,
                period: period.clone(),
            });
            publish(&node, body, json, |ledger, _| {
                (
                    format!(
                        "{} voucher(s) settled to {} for {period}: {}",
                        serials.len(),
                        venue_label(ledger, &venue_id),
                        euros(amount)
                    ),
                    json!({ "venue_id": venue_id, "serials": serials, "amount_cents": amount, "period": period }),
                )
            })
        }
        VoucherCommand::Status {
            serial,
            batch,
            as_of,
            json,
        } => {
            let as_of = as_of_arg(as_of.as_deref())?;
            let node = Node::open_shared(data_dir.clone())?;
            let ledger = node.ledger()?;
            match (serial, batch) {
                (Some(serial), _) => voucher_status(&ledger, &serial, as_of, json),
                (None, Some(batch)) => batch_status(&ledger, &batch, as_of, json),
                (None, None) => bail!("give a SERIAL or --batch ID"),
            }
        }
    }
}

/// Euros from cents, French style.
pub fn euros(cents: u64) -> String {
    format!("{},{:02} €", cents / 100, cents % 100)
}

fn issue(data_dir: &DataDir, args: IssueArgs) -> Result<ExitCode> {
    let valid_from = date_arg("valid-from", &args.valid_from)?;
    let valid_until = date_arg("valid-until", &args.valid_until)?;
    let deadline = date_arg("redeem-deadline", &args.redeem_deadline)?;
    if !(valid_from <= valid_until && valid_until <= deadline) {
        bail!(
            "dates: expected --valid-from <= --valid-until <= --redeem-deadline; nothing was signed"
        );
    }
    if !(args.funder_siret.len() == 14 && args.funder_siret.bytes().all(|b| b.is_ascii_digit())) {
        bail!(
            "--funder-siret: expected 14 digits, found {:?}; nothing was signed",
            args.funder_siret
        );
    }
    if args.funder.trim().is_empty() {
        bail!("--funder: the funder's name is required; nothing was signed");
    }
    if args.count == 0 || args.count > maillage_core::ledger::BATCH_VOUCHERS_MAX {
        bail!(
            "--count: expected 1..={}, found {}; nothing was signed",
            maillage_core::ledger::BATCH_VOUCHERS_MAX,
            args.count
        );
    }
    if args.face_value_cents == 0 {
        bail!("--face-value-cents: expected more than 0; nothing was signed");
    }
    let services = services_arg(&args.services)?;
    for t in &args.territories {
        if !maillage_core::territory::is_departement_code(t) {
            bail!(
                "--territory: expected a département code (e.g. 13, 2A, 974), found {t:?}; nothing was signed"
            );
        }
    }
    let node = Node::open_shared(data_dir.clone())?;
    let member = node.member()?;
    let prefix_ok = args
        .batch
        .split_once('-')
        .is_some_and(|(dep, rest)| member.territories.contains(dep) && !rest.is_empty());
    let chars_ok = args
        .batch
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '-')
        && args.batch.len() <= 64;
    if !prefix_ok || !chars_ok {
        let first = member
            .territories
            .iter()
            .next()
            .map_or("13", String::as_str);
        bail!(
            "batch id {:?}: expected one of this hub's départements ({}), a dash, then letters, digits or dashes — e.g. \"{first}-{}\"; nothing was signed",
            args.batch,
            member
                .territories
                .iter()
                .cloned()
                .collect::<Vec<_>>()
                .join(","),
            args.batch
                .split_once('-')
                .filter(|(head, _)| head.len() <= 3)
                .map_or(args.batch.as_str(), |(_, rest)| rest)
        );
    }
    let body = pb::event::Body::VoucherBatchIssued(pb::VoucherBatchIssued {
        batch_id: args.batch.clone(),
        funder: Some(pb::Funder {
            name: args.funder.trim().to_owned(),
            siret: args.funder_siret.clone(),
        }),
        face_value_cents: args.face_value_cents,
        count: args.count,
        valid_from,
        valid_until: valid_until.clone(),
        redeem_deadline: deadline.clone(),
        eligible_services: services,
        territories: args.territories.clone(),
    });
    publish(&node, body, args.json, |_, _| {
        (
            format!(
                "batch {} issued for {}: {} voucher(s) of {} ({}-1 … {}-{}), valid until {valid_until}, redeemable until {deadline}",
                args.batch,
                args.funder,
                args.count,
                euros(args.face_value_cents),
                args.batch,
                args.batch,
                args.count
            ),
            json!({ "batch": args.batch, "count": args.count, "face_value_cents": args.face_value_cents }),
        )
    })
}

fn hand_out(data_dir: &DataDir, args: HandOutArgs) -> Result<ExitCode> {
    let person = person_arg(&args.person)?;
    let prescriber = prescriber(&args.prescriber_kind, &args.prescriber)?;
    let mut serials = serials_arg(&args.serials)?;
    if let Some(carnet) = &args.carnet {
        for s in carnet_arg(carnet)? {
            if !serials.contains(&s) {
                serials.push(s);
            }
        }
    }
    let date = date_or_today("date", args.date.as_deref())?;
    let node = Node::open_shared(data_dir.clone())?;
    let body = pb::event::Body::VouchersHandedOut(pb::VouchersHandedOut {
        serials: serials.clone(),
        person: person.0.to_vec(),
        prescriber: Some(prescriber.clone()),
        referral_id: args.referral.clone().unwrap_or_default(),
        date: date.clone(),
    });
    publish(&node, body, args.json, |_, _| {
        (
            format!(
                "{} voucher(s) handed out to {person} by {} ({}) on {date}: {}",
                serials.len(),
                prescriber.name,
                prescriber.kind,
                serials.join(", ")
            ),
            json!({ "serials": serials, "person": person.code(), "date": date }),
        )
    })
}

fn voucher_status(ledger: &Ledger, serial: &str, as_of: i32, json: bool) -> Result<ExitCode> {
    let state = ledger.voucher(serial).ok_or_else(|| {
        anyhow!(
            "voucher {serial:?}: no such serial on this node (unknown batch or number out of range)"
        )
    })?;
    let status = status_label(ledger, serial, &state, as_of);
    let claims: Vec<_> = ledger
        .claims()
        .values()
        .filter(|c| c.serial == serial)
        .collect();
    let value = json!({
        "serial": serial,
        "status": status,
        "owner": state.owner,
        "owner_name": hub_name(ledger, &state.owner),
        "person": state.person.map(|p| p.code()),
        "redemption": state.redemption,
        "settled": state.settled,
        "claims": claims,
        "as_of": format_date(as_of),
    });
    let mut text = format!(
        "voucher {serial}: {status} (as of {}), owned by {}\n",
        format_date(as_of),
        hub_name(ledger, &state.owner)
    );
    if let Some(p) = state.person {
        text.push_str(&format!("  held by {p}\n"));
    }
    if let Some(r) = &state.redemption {
        text.push_str(&format!(
            "  redeemed at {} for {:?} on {}{}\n",
            venue_label(ledger, &r.venue_id),
            r.service,
            r.date,
            if state.settled { ", settled" } else { "" }
        ));
    }
    for c in claims {
        let answer = match c.accepted {
            None => "pending".to_owned(),
            Some(true) => "accepted".to_owned(),
            Some(false) => format!("rejected: {}", c.rejection.clone().unwrap_or_default()),
        };
        text.push_str(&format!(
            "  claim {} by {} at {} on {}: {answer}\n",
            c.event.short(),
            hub_name(ledger, &c.claimant),
            c.venue_id,
            c.date
        ));
    }
    print_json_or(json, &value, &text)
}

fn batch_status(ledger: &Ledger, batch_id: &str, as_of: i32, json: bool) -> Result<ExitCode> {
    let batch = ledger
        .batch_by_id(batch_id)
        .ok_or_else(|| anyhow!("batch {batch_id:?} is not on this node"))?;
    let mut counts: BTreeMap<&'static str, u32> = BTreeMap::new();
    for n in 1..=batch.count {
        let serial = format!("{batch_id}-{n}");
        if let Some(state) = ledger.voucher(&serial) {
            *counts
                .entry(status_label(ledger, &serial, &state, as_of))
                .or_insert(0) += 1;
        }
    }
    let value = json!({
        "batch": batch,
        "as_of": format_date(as_of),
        "counts": counts,
    });
    let mut text = format!(
        "batch {batch_id}: {} voucher(s) of {} funded by {} (issued by {}), redeemable until {}\nas of {}:\n",
        batch.count,
        euros(batch.face_value_cents),
        batch.funder,
        hub_name(ledger, &batch.issuer),
        batch.redeem_deadline,
        format_date(as_of)
    );
    for (status, n) in &counts {
        text.push_str(&format!("  {status:<11} {n}\n"));
    }
    print_json_or(json, &value, &text)
}

// ----- referrals ----------------------------------------------------------------------------

/// Runs `maillage referral …`.
pub fn run_referral(data_dir: &DataDir, command: ReferralCommand) -> Result<ExitCode> {
    match command {
        ReferralCommand::Open(args) => open_referral(data_dir, args),
        ReferralCommand::Accept {
            id,
            venue,
            appointment,
            date,
            json,
        } => {
            let appointment = match appointment {
                Some(a) => date_arg("appointment", &a)?,
                None => String::new(),
            };
            let date = date_or_today("date", date.as_deref())?;
            let node = Node::open_shared(data_dir.clone())?;
            let venue_id = venue_arg(&*node.ledger()?, &venue)?;
            let body = pb::event::Body::ReferralAccepted(pb::ReferralAccepted {
                referral_id: id.clone(),
                venue_id: venue_id.clone(),
                appointment_on: appointment.clone(),
                date: date.clone(),
            });
            publish(&node, body, json, |ledger, _| {
                let when = if appointment.is_empty() {
                    String::new()
                } else {
                    format!(", appointment on {appointment}")
                };
                (
                    format!(
                        "referral {id} accepted at {} on {date}{when}",
                        venue_label(ledger, &venue_id)
                    ),
                    json!({ "referral_id": id, "venue_id": venue_id, "date": date, "appointment_on": appointment }),
                )
            })
        }
        ReferralCommand::Decline { id, reason, json } => {
            if reason.trim().is_empty() {
                bail!("--reason: a declined referral needs a reason; nothing was signed");
            }
            let node = Node::open_shared(data_dir.clone())?;
            let body = pb::event::Body::ReferralDeclined(pb::ReferralDeclined {
                referral_id: id.clone(),
                reason: reason.clone(),
            });
            publish(&node, body, json, |_, _| {
                (
                    format!("referral {id} declined: {reason}"),
                    json!({ "referral_id": id, "reason": reason }),
                )
            })
        }
        ReferralCommand::Forward { id, to_venue, json } => {
            let node = Node::open_shared(data_dir.clone())?;
            let venue_id = venue_arg(&*node.ledger()?, &to_venue)?;
            let body = pb::event::Body::ReferralForwarded(pb::ReferralForwarded {
                referral_id: id.clone(),
                to_venue_id: venue_id.clone(),
            });
            publish(&node, body, json, |ledger, _| {
                let handler = ledger
                    .referral(&id)
                    .map(|r| hub_name(ledger, &r.handler))
                    .unwrap_or_default();
                (
                    format!(
                        "referral {id} forwarded to {}, handled now by {handler}",
                        venue_label(ledger, &venue_id)
                    ),
                    json!({ "referral_id": id, "to_venue_id": venue_id, "handler": handler }),
                )
            })
        }
        ReferralCommand::Close {
            id,
            outcome,
            autonomy,
            json,
        } => {
            let outcome = match outcome {
                Outcome::Completed => "completed",
                Outcome::NoShow => "no_show",
                Outcome::Abandoned => "abandoned",
            };
            let autonomy = match autonomy {
                None => "",
                Some(Autonomy::Autonomous) => "autonomous",
                Some(Autonomy::Partially) => "partially",
                Some(Autonomy::NotAutonomous) => "not_autonomous",
            };
            let node = Node::open_shared(data_dir.clone())?;
            let body = pb::event::Body::ReferralClosed(pb::ReferralClosed {
                referral_id: id.clone(),
                outcome: outcome.to_owned(),
                autonomy: autonomy.to_owned(),
            });
            publish(&node, body, json, |_, _| {
                (
                    format!("referral {id} closed: {outcome}"),
                    json!({ "referral_id": id, "outcome": outcome, "autonomy": autonomy }),
                )
            })
        }
        ReferralCommand::Show { id, as_of, json } => {
            let as_of = as_of_arg(as_of.as_deref())?;
            let node = Node::open_shared(data_dir.clone())?;
            let ledger = node.ledger()?;
            let r = ledger.referral(&id).ok_or_else(|| {
                anyhow!("referral {id:?} is not on this node (import the opening hub's log?)")
            })?;
            let status = referral_status(r, as_of);
            let value = json!({ "referral": r, "status": status, "as_of": format_date(as_of) });
            let mut text = format!(
                "referral {id}: {status} (as of {})\n  person {}\n  opened on {} by {} ({}) at hub {}\n  needs: {}\n  handled by {} (territory {})\n",
                format_date(as_of),
                r.person,
                r.opened_on,
                r.prescriber_name,
                r.prescriber_kind,
                hub_name(&ledger, &r.opened_by),
                r.needs.join(", "),
                hub_name(&ledger, &r.handler),
                r.target_territory
            );
            if !r.target_venue_id.is_empty() {
                text.push_str(&format!(
                    "  target venue {}\n",
                    venue_label(&ledger, &r.target_venue_id)
                ));
            }
            if status == "open" || status == "expired" {
                text.push_str(&format!("  expires on {}\n", r.expires_on));
            }
            if !r.accepted_on.is_empty() {
                text.push_str(&format!(
                    "  accepted on {} at {}\n",
                    r.accepted_on,
                    venue_label(&ledger, &r.venue_id)
                ));
            }
            print_json_or(json, &value, &text)
        }
    }
}

/// A referral's status as of a day: open, expired, accepted, declined, or the outcome.
pub fn referral_status(r: &maillage_core::ledger::Referral, as_of: i32) -> String {
    use maillage_core::ledger::ReferralStatus;
    match &r.status {
        ReferralStatus::Open => {
            if parse_date(&r.expires_on).is_some_and(|e| as_of > e) {
                "expired".into()
            } else {
                "open".into()
            }
        }
        ReferralStatus::Accepted => "accepted".into(),
        ReferralStatus::Declined => "declined".into(),
        ReferralStatus::Closed { outcome } => outcome.clone(),
    }
}

fn open_referral(data_dir: &DataDir, args: OpenArgs) -> Result<ExitCode> {
    let person = person_arg(&args.person)?;
    let prescriber = prescriber(&args.prescriber_kind, &args.prescriber)?;
    let needs = services_arg(&args.needs)?;
    let opened_on = date_or_today("opened-on", args.opened_on.as_deref())?;
    let expires_on = match &args.expires_on {
        Some(e) => {
            let e = date_arg("expires-on", e)?;
            if e < opened_on {
                bail!("--expires-on {e} is before --opened-on {opened_on}; nothing was signed");
            }
            e
        }
        None => String::new(),
    };
    if let Some(t) = &args.service_territory
        && !maillage_core::territory::is_departement_code(t)
    {
        bail!("--service-territory: expected a département code, found {t:?}; nothing was signed");
    }
    let node = Node::open_shared(data_dir.clone())?;
    let ledger = node.ledger()?;
    let member = node.member()?;
    let venue_id = match &args.venue {
        Some(v) => venue_arg(&ledger, v)?,
        None => String::new(),
    };
    let id = match &args.id {
        Some(id) => id.clone(),
        None => {
            let dep = member
                .territories
                .iter()
                .next()
                .context("this hub holds no territory")?;
            let mut rng = rand::rng();
            const ALNUM: &[u8] = b"ABCDEFGHJKMNPQRSTVWXYZ0123456789";
            let tail: String = (0..6)
                .map(|_| ALNUM[rng.random_range(0..ALNUM.len())] as char)
                .collect();
            format!("{dep}-{}-{tail}", opened_on.replace('-', ""))
        }
    };
    let body = pb::event::Body::ReferralOpened(pb::ReferralOpened {
        referral_id: id.clone(),
        person: person.0.to_vec(),
        prescriber: Some(prescriber),
        needs: needs.clone(),
        diagnostic: args.diagnostic.clone(),
        target_venue_id: venue_id.clone(),
        target_service: if venue_id.is_empty() {
            needs.first().cloned().unwrap_or_default()
        } else {
            String::new()
        },
        target_territory: args.service_territory.clone().unwrap_or_default(),
        channel: args.channel.clone(),
        opened_on: opened_on.clone(),
        expires_on,
    });
    drop(ledger);
    publish(&node, body, args.json, |ledger, _| {
        let r = ledger.referral(&id);
        let handler = r.map(|r| hub_name(ledger, &r.handler)).unwrap_or_default();
        let expires = r.map(|r| r.expires_on.clone()).unwrap_or_default();
        let target = if venue_id.is_empty() {
            format!(
                "territory {}",
                args.service_territory.clone().unwrap_or_default()
            )
        } else {
            venue_label(ledger, &venue_id)
        };
        (
            format!(
                "referral {id} opened for {person} to {target}, handled by {handler}; expires on {expires}\nreferral id: {id}"
            ),
            json!({ "referral_id": id, "person": person.code(), "handler": handler, "expires_on": expires }),
        )
    })
}

// ----- accompaniments -----------------------------------------------------------------------

/// Runs `maillage accompaniment …`.
pub fn run_accompaniment(data_dir: &DataDir, command: AccompanimentCommand) -> Result<ExitCode> {
    let AccompanimentCommand::Record {
        person,
        venue,
        services,
        date,
        duration_min,
        mode,
        referral,
        vouchers,
        json,
    } = command;
    let person = person_arg(&person)?;
    let services = services_arg(&services)?;
    let date = date_arg("date", &date)?;
    if duration_min == 0 || duration_min > 24 * 60 {
        bail!(
            "--duration-min: expected 1..=1440 minutes, found {duration_min}; nothing was signed"
        );
    }
    let vouchers = serials_arg(&vouchers)?;
    let mode = match mode {
        Mode::Individual => "individual",
        Mode::Collective => "collective",
        Mode::Remote => "remote",
    };
    let node = Node::open_shared(data_dir.clone())?;
    let venue_id = venue_arg(&*node.ledger()?, &venue)?;
    let body = pb::event::Body::AccompanimentRecorded(pb::AccompanimentRecorded {
        person: person.0.to_vec(),
        venue_id: venue_id.clone(),
        referral_id: referral.clone().unwrap_or_default(),
        services: services.clone(),
        date: date.clone(),
        duration_min,
        mode: mode.to_owned(),
        vouchers,
    });
    publish(&node, body, json, |ledger, _| {
        (
            format!(
                "{duration_min} min {mode} accompaniment of {person} recorded at {} on {date}: {}",
                venue_label(ledger, &venue_id),
                services.join(", ")
            ),
            json!({ "person": person.code(), "venue_id": venue_id, "date": date, "mode": mode }),
        )
    })
}

// ----- parcours -----------------------------------------------------------------------------

/// `maillage parcours CODE`: the person's timeline across all hubs, then their current state.
pub fn run_parcours(
    data_dir: &DataDir,
    code: &str,
    as_of: Option<&str>,
    json: bool,
) -> Result<ExitCode> {
    let person = person_arg(code)?;
    let as_of = as_of_arg(as_of)?;
    let node = Node::open_shared(data_dir.clone())?;
    let ledger = node.ledger()?;
    let Some(entries) = ledger.parcours(&person) else {
        let value = json!({ "person": person.code(), "forgotten": true });
        let text = format!(
            "person {person} asked to be forgotten: no parcours is kept (anonymous counts only)\n"
        );
        return print_json_or(json, &value, &text);
    };
    // Redemptions answering a claim, by event.
    let mut claim_answers: BTreeSet<EventId> = BTreeSet::new();
    let mut held = Vec::new();
    let mut used = Vec::new();
    let mut lapsed = Vec::new();
    let mut cancelled = Vec::new();
    let mut venues: BTreeSet<String> = BTreeSet::new();
    // The redemptions in this person's timeline are of vouchers they hold.
    for (serial, state) in ledger.person_vouchers(&person) {
        if let Some(r) = &state.redemption
            && r.claim.is_some()
        {
            claim_answers.insert(r.event);
        }
        match status_label(&ledger, &serial, &state, as_of) {
            "redeemed" => {
                if let Some(r) = &state.redemption {
                    venues.insert(r.venue_id.clone());
                }
                used.push(serial.clone());
            }
            "cancelled" => cancelled.push(serial.clone()),
            "expired" => lapsed.push(serial.clone()),
            _ => held.push(serial.clone()),
        }
    }
    let mut open = Vec::new();
    for r in ledger.person_referrals(&person) {
        if !r.venue_id.is_empty() {
            venues.insert(r.venue_id.clone());
        }
        let status = referral_status(r, as_of);
        if status == "open" || status == "expired" || status == "accepted" {
            open.push((
                r.referral_id.clone(),
                status,
                r.expires_on.clone(),
                hub_name(&ledger, &r.handler),
            ));
        }
    }
    for a in ledger.accompaniments(&person) {
        venues.insert(a.venue_id.clone());
    }
    let hubs: BTreeSet<String> = entries.iter().map(|e| hub_name(&ledger, &e.hub)).collect();
    let timeline: Vec<serde_json::Value> = entries
        .iter()
        .map(|e| {
            let kind = if e.kind.as_str() == "voucher_redeemed" && claim_answers.contains(&e.event)
            {
                "claim_accepted"
            } else {
                e.kind.as_str()
            };
            json!({
                "at": hlc_datetime(e.hlc), "hub": hub_name(&ledger, &e.hub), "kind": kind,
                "summary": e.summary, "event": e.event,
            })
        })
        .collect();
    let value = json!({
        "person": person.code(),
        "as_of": format_date(as_of),
        "timeline": timeline,
        "referrals": open.iter().map(|(id, s, e, h)| json!({"referral_id": id, "status": s, "expires_on": e, "handler": h})).collect::<Vec<_>>(),
        "vouchers": { "held": held, "used": used, "expired": lapsed, "cancelled": cancelled },
        "venues": venues,
        "hubs": hubs,
    });
    let mut text = format!(
        "parcours of {person} ({} step(s), all hubs)\n",
        timeline.len()
    );
    let hub_width = timeline
        .iter()
        .map(|t| t["hub"].as_str().unwrap_or_default().chars().count())
        .max()
        .unwrap_or(0);
    for t in &timeline {
        text.push_str(&format!(
            "  {}  {:<hub_width$} {:<22} {}\n",
            t["at"].as_str().unwrap_or_default(),
            t["hub"].as_str().unwrap_or_default(),
            t["kind"].as_str().unwrap_or_default(),
            t["summary"].as_str().unwrap_or_default()
        ));
    }
    text.push_str(&format!("as of {}:\n", format_date(as_of)));
    if open.is_empty() {
        text.push_str("  referrals: none in progress\n");
    }
    for (id, status, expires, handler) in &open {
        let exp = if status == "accepted" {
            String::new()
        } else {
            format!(", expires on {expires}")
        };
        text.push_str(&format!(
            "  referral {id}: {status} (handled by {handler}{exp})\n"
        ));
    }
    text.push_str(&format!(
        "  vouchers: {} held, {} used, {} expired, {} cancelled\n",
        held.len(),
        used.len(),
        lapsed.len(),
        cancelled.len()
    ));
    if !held.is_empty() {
        text.push_str(&format!("    held: {}\n", held.join(", ")));
    }
    if !used.is_empty() {
        text.push_str(&format!("    used: {}\n", used.join(", ")));
    }
    let names: Vec<String> = venues.iter().map(|v| venue_label(&ledger, v)).collect();
    text.push_str(&format!(
        "  venues: {}\n",
        if names.is_empty() {
            "none".into()
        } else {
            names.join("; ")
        }
    ));
    text.push_str(&format!(
        "  hubs involved: {}\n",
        hubs.iter().cloned().collect::<Vec<_>>().join(", ")
    ));
    print_json_or(json, &value, &text)
}

// ----- digest, rejections -------------------------------------------------------------------

/// `maillage digest`.
pub fn run_digest(data_dir: &DataDir, json: bool) -> Result<ExitCode> {
    let node = Node::open_shared(data_dir.clone())?;
    let ledger = node.ledger()?;
    let digest = hex::encode(ledger.digest());
    let applied = ledger.applied();
    let value = json!({
        "digest": digest,
        "applied": applied.iter().map(|(h, n)| json!({"hub": h, "name": hub_name(&ledger, h), "events": n})).collect::<Vec<_>>(),
        "pending": ledger.pending_count(),
    });
    let mut text = format!("digest {digest}\n");
    for (hub, n) in &applied {
        text.push_str(&format!(
            "  {:<24} {} {n} event(s) applied\n",
            hub_name(&ledger, hub),
            hub.short()
        ));
    }
    if ledger.pending_count() > 0 {
        text.push_str(&format!(
            "  {} event(s) wait for their causal past\n",
            ledger.pending_count()
        ));
    }
    print_json_or(json, &value, &text)
}

/// `maillage rejections`.
pub fn run_rejections(data_dir: &DataDir, json: bool) -> Result<ExitCode> {
    let node = Node::open_shared(data_dir.clone())?;
    let ledger = node.ledger()?;
    let list: Vec<_> = ledger.rejections().values().collect();
    let value = json!(
        list.iter()
            .map(|r| json!({"event": r.event, "hub": r.author, "name": hub_name(&ledger, &r.author), "seq": r.seq, "reason": r.reason}))
            .collect::<Vec<_>>()
    );
    let mut text = format!(
        "{} event(s) kept in the log without effect (domain rules)\n",
        list.len()
    );
    for r in &list {
        text.push_str(&format!(
            "  {} {:<16} seq {:<6} {}\n",
            r.event.short(),
            hub_name(&ledger, &r.author),
            r.seq,
            r.reason
        ));
    }
    print_json_or(json, &value, &text)
}

// ----- log import ---------------------------------------------------------------------------

/// What `maillage log import` did.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct ImportReport {
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

/// Imports a portable log file (`bytes`, read from `path`) into the store: verified first,
/// then every event in feed order.
pub fn import_log(node: &Node, path: &Path, bytes: &[u8]) -> Result<ImportReport> {
    let (charter, events) = crate::logfile::read(bytes).map_err(|problem| {
        anyhow!(
            "{} does not verify, nothing imported: {problem}",
            path.display()
        )
    })?;
    if charter.bytes() != node.charter.bytes() {
        bail!(
            "{} belongs to federation {:?}, not this node's {:?}: nothing imported",
            path.display(),
            charter.name(),
            node.charter.name()
        );
    }
    let mut report = ImportReport {
        events: events.len() as u64,
        ..ImportReport::default()
    };
    // This node's own events go through the same chain rules: already held ones are
    // duplicates, missing ones (a restored backup) are taken back so no seq is ever reused,
    // and a different version at a held position is a fork, proven and frozen.
    for chunk in events.chunks(4096) {
        for outcome in node.store.insert(chunk.to_vec())? {
            match outcome {
                Inserted::Stored => report.stored += 1,
                Inserted::Duplicate => report.duplicate += 1,
                Inserted::Gap { .. } => report.gap += 1,
                Inserted::Fork(_) => report.fork += 1,
                Inserted::Frozen { .. } => report.frozen += 1,
            }
        }
    }
    Ok(report)
}

/// `maillage log import FILE`.
pub fn run_import_log(
    data_dir: &DataDir,
    path: &Path,
    json: bool,
    files: &dyn crate::files::Files,
) -> Result<ExitCode> {
    let node = Node::open_shared(data_dir.clone())?;
    let bytes = files.read(path)?;
    let report = import_log(&node, path, &bytes)?;
    if json {
        outln!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        outln!(
            "{}: {} events: {} stored, {} duplicate, {} gap, {} fork, {} frozen",
            path.display(),
            report.events,
            report.stored,
            report.duplicate,
            report.gap,
            report.fork,
            report.frozen
        );
        if report.fork > 0 {
            outln!(
                "WARNING: a hub signed two versions of its log; its feed is frozen (see `maillage log verify`)"
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}
