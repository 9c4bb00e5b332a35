//! Text and JSON for people and scripts, from the node's typed answers. Standard output carries
//! the data a script captures; advice and errors go to standard error.

use std::fmt::Write as _;
use std::process::ExitCode;

use anyhow::Result;
use maillage_app::request::{Effect, FileBytes, LogImported, Response, Signed, VenuesImported};
use maillage_app::views::{
    BatchView, CharterView, DigestView, ParcoursView, ReferralView, RejectionView, VenueView,
    VoucherView,
};
use maillage_app::{AppError, ErrorKind};
use maillage_core::PersonId;
use serde_json::json;

use crate::command::{
    Command, LogCommand, PersonCommand, ReferralCommand, VenuesCommand, VoucherCommand,
};
use crate::lang::t;
use maillage_core::tr;

mod effects;
mod indicators;
mod ledger;
mod mapping;
mod stats;
mod views;

pub use effects::signed_event;
pub use ledger::charter;
use ledger::*;
pub use mapping::shipped_mappings;
pub use stats::stats_text;
pub use views::venue_json;
use views::*;

/// Exit code of a command whose event the federation's rules refuse (nothing was signed).
pub const EXIT_REJECTED: u8 = 3;
/// Exit code of a command whose event relies on events this node does not hold.
pub const EXIT_PENDING: u8 = 4;

/// What a command prints, and how it exits.
#[derive(Debug, Default)]
pub struct Rendered {
    /// For standard output: the data a script captures.
    pub stdout: String,
    /// For standard error: advice, refusals, errors.
    pub stderr: String,
    /// The exit code.
    pub code: u8,
}

impl Rendered {
    /// Prints it; its exit code.
    pub fn print(self) -> ExitCode {
        use std::io::Write;
        let _ = std::io::stdout().lock().write_all(self.stdout.as_bytes());
        let _ = std::io::stderr().lock().write_all(self.stderr.as_bytes());
        ExitCode::from(self.code)
    }
}

/// What a node answered to `command`, rendered.
pub fn answer(command: &Command, answer: Result<Response, AppError>) -> Result<Rendered> {
    let mut rendered = Rendered::default();
    match answer {
        Ok(response) => {
            rendered.code = response_of(&mut rendered, command, response)?;
        }
        Err(error) => {
            rendered.code = refusal(&mut rendered.stderr, &error)?;
        }
    }
    Ok(rendered)
}

/// An error of the node, for standard error; its exit code.
pub fn refusal(err: &mut String, error: &AppError) -> Result<u8> {
    Ok(match error.kind {
        ErrorKind::Rejected => {
            let message = &error.message;
            writeln!(
                err,
                "{}",
                tr!(
                    "erreur : REFUSÉ par les règles de la fédération : {message} ; rien n'a été signé",
                    "error: REFUSED by the federation's rules: {message}; nothing was signed"
                )
            )?;
            EXIT_REJECTED
        }
        ErrorKind::Pending => {
            let message = &error.message;
            writeln!(
                err,
                "{}",
                tr!(
                    "erreur : EN ATTENTE : {message} ; rien n'a été signé",
                    "error: PENDING: {message}; nothing was signed"
                )
            )?;
            EXIT_PENDING
        }
        _ => {
            writeln!(err, "{} {}", t("erreur :", "error:"), error.message)?;
            1
        }
    })
}

fn pretty(out: &mut String, value: &impl serde::Serialize) -> Result<()> {
    writeln!(out, "{}", serde_json::to_string_pretty(value)?)?;
    Ok(())
}

fn json_of(command: &Command) -> bool {
    match command {
        Command::Venues(v) => match v {
            VenuesCommand::Import { json, .. }
            | VenuesCommand::List { json, .. }
            | VenuesCommand::Show { json, .. }
            | VenuesCommand::Search { json, .. } => *json,
            VenuesCommand::Qualify(a) => a.json,
            VenuesCommand::Set(a) => a.json,
            VenuesCommand::Close(a) => a.json,
            VenuesCommand::Reopen(a) => a.json,
            VenuesCommand::Revoke(a) => a.json,
            VenuesCommand::Export { .. } | VenuesCommand::Mappings { .. } => false,
        },
        Command::Log(LogCommand::Import { json, .. }) => *json,
        Command::Person(PersonCommand::Forget { json, .. } | PersonCommand::New { json }) => *json,
        Command::Voucher(v) => match v {
            VoucherCommand::Issue(a) => a.json,
            VoucherCommand::HandOut(a) => a.json,
            VoucherCommand::Redeem { json, .. }
            | VoucherCommand::Transfer { json, .. }
            | VoucherCommand::Claim { json, .. }
            | VoucherCommand::Answer { json, .. }
            | VoucherCommand::Cancel { json, .. }
            | VoucherCommand::Settle { json, .. }
            | VoucherCommand::Status { json, .. } => *json,
        },
        Command::Referral(r) => match r {
            ReferralCommand::Open(a) => a.json,
            ReferralCommand::Accept { json, .. }
            | ReferralCommand::Decline { json, .. }
            | ReferralCommand::Forward { json, .. }
            | ReferralCommand::Close { json, .. }
            | ReferralCommand::Show { json, .. } => *json,
        },
        Command::Accompaniment(crate::command::AccompanimentCommand::Record { json, .. }) => *json,
        Command::Federation(
            crate::command::FederationCommand::Show { json }
            | crate::command::FederationCommand::Propose { json, .. }
            | crate::command::FederationCommand::Endorse { json, .. },
        ) => *json,
        Command::Parcours { json, .. }
        | Command::Stats { json, .. }
        | Command::Digest { json }
        | Command::Rejections { json }
        | Command::Status { json } => *json,
        _ => false,
    }
}

fn response_of(rendered: &mut Rendered, command: &Command, response: Response) -> Result<u8> {
    let json = json_of(command);
    let out = &mut rendered.stdout;
    let err = &mut rendered.stderr;
    match response {
        Response::Signed(signed) => signed_event(out, &signed, json)?,
        Response::Claimed { unreachable, claim } => {
            if !json {
                writeln!(
                    err,
                    "{}",
                    tr!(
                        "{unreachable} : réclamation enregistrée ; il y répondra quand le lien reviendra",
                        "{unreachable}: recording a claim it will answer when the link returns"
                    )
                )?;
            }
            signed_event(out, &claim, json)?;
        }
        Response::VenuesImported(imported) => venues_imported(out, err, command, &imported, json)?,
        Response::LogImported(report) => log_imported(out, err, command, &report, json)?,
        Response::Venues(venues) => {
            let limit = match command {
                Command::Venues(
                    VenuesCommand::List { limit, .. } | VenuesCommand::Search { limit, .. },
                ) => *limit,
                _ => usize::MAX,
            };
            venue_list(out, &venues, limit, json)?;
        }
        Response::Venue(venue) => {
            if json {
                pretty(out, &venue_json(&venue))?;
            } else {
                venue_detail(out, &venue)?;
            }
        }
        Response::File(file) => file_out(out, command, &file)?,
        Response::Files(files) => crate::export::write_files(out, command, &files)?,
        Response::Voucher(voucher) => voucher_status(out, &voucher, json)?,
        Response::Batch(batch) => batch_status(out, &batch, json)?,
        Response::Referral(referral) => referral_view(out, &referral, json)?,
        Response::Parcours(parcours) => parcours_view(out, &parcours, json)?,
        Response::Stats(stats) => {
            if json {
                pretty(out, &stats)?;
            } else {
                out.push_str(&stats_text(&stats));
            }
        }
        Response::Digest(digest) => digest_view(out, &digest, json)?,
        Response::Rejections(list) => rejections(out, &list, json)?,
        Response::Status(status) => crate::status::render(out, &status, json)?,
        Response::Federation(charter_view) => charter(out, &charter_view, json)?,
        Response::Verified(report) => return verified(out, &report),
        Response::RecoveryPlan(plan) => {
            let (name, fork_seq, branch, last_seq) =
                (&plan.name, plan.fork_seq, &plan.branch, plan.last_seq);
            writeln!(
                err,
                "{}",
                tr!(
                    "Le flux de {name} a bifurqué à la position {fork_seq} ; ce nœud détient la branche qui finit par l'événement {branch} à la position {last_seq}.\nPour garder cette branche et continuer sous une nouvelle clé (tirée par `maillage init` dans le nouveau répertoire de données du hub) :",
                    "{name}'s feed forked at seq {fork_seq}; this node holds the branch ending with event {branch} at seq {last_seq}.\nTo keep that branch and go on under a new key (from `maillage init` on the hub's new data dir):"
                )
            )?;
            writeln!(
                out,
                "  maillage federation propose --reason \"restauration après sauvegarde\" succeed --member {} --successor NEW_KEY --last-seq {} --branch {}",
                plan.member, plan.last_seq, plan.branch
            )?;
        }
    }
    Ok(0)
}

/// Euros from cents, French style.
pub fn euros(cents: u64) -> String {
    format!("{},{:02} €", cents / 100, cents % 100)
}

/// A new person code: the code on stdout (what a script captures), the advice on stderr.
pub fn person_code(
    out: &mut String,
    err: &mut String,
    person: &PersonId,
    json: bool,
) -> Result<()> {
    if json {
        pretty(out, &json!({ "code": person.code() }))
    } else {
        writeln!(out, "{}", person.code())?;
        writeln!(
            err,
            "{}",
            t(
                "Inscrivez ce code sur le carnet de la personne : c'est le seul lien entre les hubs (ni nom, ni adresse).",
                "Write this code on the person's carnet: it is the only link between the hubs (no name, no address)."
            )
        )?;
        Ok(())
    }
}
