//! What each command line becomes: the typed request it makes of a node. Files it names are
//! read here (the node opens none); what an argument means is the node's to judge.

use std::path::Path;

use anyhow::{Context, Result};
use maillage_app::request::{self as req, Request};
use maillage_core::tr;

use super::*;

impl Command {
    /// The request this command line makes of a node. Files it names are read here: the node
    /// opens none.
    pub fn request(&self) -> Result<Request> {
        request_of(self)
    }
}

fn request_of(command: &Command) -> Result<Request> {
    use Request as R;
    Ok(match command {
        Command::Venues(v) => match v {
            VenuesCommand::Import {
                file,
                format,
                mapping,
                report,
                dry_run,
                ..
            } => R::ImportVenues(req::ImportVenues {
                source: file.display().to_string(),
                content: read_input(file)?,
                format: (*format).into(),
                mapping: mapping.as_deref().map(read_mapping).transpose()?,
                dry_run: *dry_run,
                report: report.is_some(),
            }),
            VenuesCommand::Mappings { .. } => {
                bail!(
                    "{}",
                    internal("the shipped mappings are listed by the CLI itself")
                )
            }
            VenuesCommand::List {
                departement, all, ..
            } => R::ListVenues(req::ListVenues {
                departement: departement.clone(),
                all: *all,
            }),
            VenuesCommand::Show { id, .. } => R::ShowVenue { id: id.clone() },
            VenuesCommand::Search {
                text,
                departement,
                service,
                public,
                qualified,
                near,
                within_km,
                limit,
                ..
            } => R::SearchVenues(req::SearchVenues {
                words: text.clone(),
                departement: departement.clone(),
                service: service.as_deref().map(args::service).transpose()?,
                public: public.clone(),
                qualified_on: qualified.then(String::new),
                near: near.as_deref().map(args::point).transpose()?,
                within_km: *within_km,
                limit: *limit,
            }),
            VenuesCommand::Set(a) => R::EditVenue(req::EditVenue {
                venue: a.venue.clone(),
                pivot: match (&a.siret, &a.rna, &a.ridet) {
                    (Some(v), ..) => Some(req::PivotInput::Siret(v.clone())),
                    (_, Some(v), _) => Some(req::PivotInput::Rna(v.clone())),
                    (.., Some(v)) => Some(req::PivotInput::Ridet(v.clone())),
                    _ => None,
                },
                hours: a.hours.clone(),
                services: a
                    .services
                    .as_deref()
                    .map(|list| {
                        let parts: Vec<String> = list
                            .split('|')
                            .map(str::trim)
                            .filter(|p| !p.is_empty())
                            .map(str::to_owned)
                            .collect();
                        args::services(&parts)
                    })
                    .transpose()?,
                emails: listed(&a.emails),
                phones: listed(&a.phones),
            }),
            VenuesCommand::Close(a) => R::CloseVenue(req::CloseVenue {
                venue: a.venue.clone(),
                reason: a.reason.clone(),
                date: args::date_opt("date", a.date.as_deref())?,
            }),
            VenuesCommand::Reopen(a) => R::ReopenVenue(req::ReopenVenue {
                venue: a.venue.clone(),
                reason: a.reason.clone(),
            }),
            VenuesCommand::Qualify(a) => R::QualifyVenue(req::QualifyVenue {
                venue: a.venue.clone(),
                until: args::date("until", &a.until)?,
                services: args::services(&a.services)?,
                scheme: a.scheme.clone(),
            }),
            VenuesCommand::Revoke(a) => R::RevokeQualification(req::RevokeQualification {
                venue: a.venue.clone(),
                reason: a.reason.clone(),
            }),
            VenuesCommand::Export { .. } => R::ExportVenues,
        },
        Command::Log(LogCommand::Verify { file: None }) => R::VerifyLog,
        Command::Log(LogCommand::Verify { file: Some(_) }) => {
            bail!("{}", internal("a log file is verified by the CLI itself"))
        }
        Command::Log(LogCommand::Repair) => {
            bail!("{}", internal("a data file is repaired by the CLI itself"))
        }
        Command::Log(LogCommand::Export { .. }) => R::ExportLog,
        Command::Log(LogCommand::Import { file, .. }) => R::ImportLog(req::ImportLog {
            source: file.display().to_string(),
            content: read_input(file)?,
        }),
        Command::Federation(FederationCommand::Show { .. }) => R::Federation,
        Command::Federation(FederationCommand::RecoveryPlan { member }) => R::RecoveryPlan {
            member: member.clone(),
        },
        Command::Federation(FederationCommand::Endorse { proposal, .. }) => R::EndorseAmendment {
            proposal: proposal.clone(),
        },
        Command::Federation(FederationCommand::Propose { reason, change, .. }) => {
            R::ProposeAmendment(req::ProposeAmendment {
                reason: reason.clone(),
                change: match change {
                    AmendmentCommand::Admit {
                        key,
                        name,
                        territories,
                        observer,
                    } => req::AmendmentRequest::Admit {
                        key: key.clone(),
                        name: name.clone(),
                        observer: *observer,
                        territories: territories.clone(),
                    },
                    AmendmentCommand::Remove { member, last_seq } => {
                        req::AmendmentRequest::Remove {
                            member: member.clone(),
                            last_seq: *last_seq,
                        }
                    }
                    AmendmentCommand::Move {
                        from,
                        to,
                        territories,
                    } => req::AmendmentRequest::Move {
                        from: from.clone(),
                        to: to.clone(),
                        territories: territories.clone(),
                    },
                    AmendmentCommand::Threshold { threshold } => {
                        req::AmendmentRequest::Threshold(*threshold)
                    }
                    AmendmentCommand::Succeed {
                        member,
                        successor,
                        last_seq,
                        branch,
                    } => req::AmendmentRequest::Succeed {
                        member: member.clone(),
                        successor: successor.clone(),
                        last_seq: *last_seq,
                        branch: branch.clone(),
                    },
                    AmendmentCommand::Protocol { version, margin } => {
                        req::AmendmentRequest::Protocol {
                            version: *version,
                            margin: *margin,
                        }
                    }
                },
            })
        }
        Command::Person(PersonCommand::Forget { code, .. }) => R::ForgetPerson(req::ForgetPerson {
            person: args::person(code)?,
        }),
        Command::Person(PersonCommand::New { .. }) => {
            bail!("{}", internal("a person code is drawn by the CLI itself"))
        }
        Command::Voucher(v) => voucher_request(v)?,
        Command::Referral(r) => referral_request(r)?,
        Command::Accompaniment(AccompanimentCommand::Record {
            person,
            venue,
            services,
            date,
            duration_min,
            mode,
            referral,
            vouchers,
            ..
        }) => R::RecordAccompaniment(req::RecordAccompaniment {
            person: args::person(person)?,
            venue: venue.clone(),
            services: args::services(services)?,
            date: args::date("date", date)?,
            duration_min: *duration_min,
            mode: match mode {
                Mode::Individual => "individual",
                Mode::Collective => "collective",
                Mode::Remote => "remote",
            }
            .to_owned(),
            referral: referral.clone(),
            vouchers: args::serials(vouchers)?,
        }),
        Command::Parcours { code, as_of, .. } => R::Parcours {
            person: args::person(code)?,
            as_of: args::date_opt("as-of", as_of.as_deref())?,
        },
        Command::Stats { as_of, .. } => R::Stats {
            as_of: args::date_opt("as-of", as_of.as_deref())?,
        },
        Command::Export(a) => R::Export(req::ExportTables {
            as_of: args::date_opt("as-of", a.as_of.as_deref())?,
            tables: a.only.iter().map(|t| t.file_name().to_owned()).collect(),
            excel: a.excel,
            parquet: !a.no_parquet,
            datapackage: true,
        }),
        Command::Digest { .. } => R::Digest,
        Command::Rejections { .. } => R::Rejections,
        Command::Status { .. } => R::Status,
        Command::Demo { .. }
        | Command::Init(_)
        | Command::Federation(FederationCommand::Create { .. })
        | Command::Id
        | Command::Key(_)
        | Command::Backup { .. }
        | Command::Bench(_)
        | Command::Serve(_)
        | Command::Config(_)
        | Command::Simulate { .. } => bail!("{}", internal("not a node command")),
    })
}

fn voucher_request(command: &VoucherCommand) -> Result<Request> {
    use Request as R;
    Ok(match command {
        VoucherCommand::Issue(a) => {
            for t in &a.territories {
                if !maillage_core::territory::is_departement_code(t) {
                    let found = maillage_core::excerpt::Excerpt::of(t);
                    bail!(
                        "{}",
                        tr!(
                            "--territory : code de département attendu (par ex. 13, 2A, 974), reçu {found}",
                            "--territory: expected a département code (e.g. 13, 2A, 974), found {found}"
                        )
                    );
                }
            }
            R::IssueBatch(req::IssueBatch {
                batch: a.batch.clone(),
                funder: a.funder.clone(),
                funder_siret: a.funder_siret.clone(),
                count: a.count,
                face_value_cents: a.face_value_cents,
                valid_from: args::date("valid-from", &a.valid_from)?,
                valid_until: args::date("valid-until", &a.valid_until)?,
                redeem_deadline: args::date("redeem-deadline", &a.redeem_deadline)?,
                services: args::services(&a.services)?,
                territories: a.territories.clone(),
            })
        }
        VoucherCommand::HandOut(a) => {
            let mut serials = args::serials(&a.serials)?;
            if let Some(carnet) = &a.carnet {
                for s in args::carnet(carnet)? {
                    if !serials.contains(&s) {
                        serials.push(s);
                    }
                }
            }
            R::HandOut(req::HandOut {
                serials,
                person: args::person(&a.person)?,
                prescriber_kind: args::prescriber_kind(&a.prescriber_kind)?,
                prescriber: a.prescriber.clone(),
                referral: a.referral.clone(),
                date: args::date_opt("date", a.date.as_deref())?,
            })
        }
        VoucherCommand::Redeem {
            serial,
            venue,
            service,
            date,
            claim,
            ..
        } => R::Redeem(req::Redeem {
            serial: args::serial(serial)?,
            venue: venue.clone(),
            service: args::service(service)?,
            date: args::date_opt("date", date.as_deref())?,
            claim: claim.clone(),
        }),
        VoucherCommand::Transfer {
            serials,
            to,
            reason,
            ..
        } => R::Transfer(req::Transfer {
            serials: args::serials(serials)?,
            to: to.clone(),
            reason: reason.clone(),
        }),
        VoucherCommand::Claim {
            serial,
            venue,
            service,
            date,
            ..
        } => R::Claim(req::ClaimVoucher {
            serial: args::serial(serial)?,
            venue: venue.clone(),
            service: args::service(service)?,
            date: args::date_opt("date", date.as_deref())?,
        }),
        VoucherCommand::Answer {
            claim,
            accept,
            reject,
            ..
        } => R::AnswerClaim(req::AnswerClaim {
            claim: claim.clone(),
            answer: if *accept {
                req::ClaimAnswer::Accept
            } else {
                req::ClaimAnswer::Reject(reject.clone().unwrap_or_default())
            },
        }),
        VoucherCommand::Cancel {
            serials, reason, ..
        } => R::Cancel(req::Cancel {
            serials: args::serials(serials)?,
            reason: reason.clone(),
        }),
        VoucherCommand::Settle {
            venue,
            serials,
            period,
            ..
        } => R::Settle(req::Settle {
            venue: venue.clone(),
            serials: args::serials(serials)?,
            period: period.clone(),
        }),
        VoucherCommand::Status {
            serial,
            batch,
            as_of,
            ..
        } => {
            let as_of = args::date_opt("as-of", as_of.as_deref())?;
            match (serial, batch) {
                (Some(serial), _) => R::VoucherStatus {
                    serial: serial.clone(),
                    as_of,
                },
                (None, Some(batch)) => R::BatchStatus {
                    batch: batch.clone(),
                    as_of,
                },
                (None, None) => bail!(
                    "{}",
                    maillage_core::lang::t(
                        "donnez un NUMÉRO de pass ou --batch LOT",
                        "give a SERIAL or --batch ID"
                    )
                ),
            }
        }
    })
}

fn referral_request(command: &ReferralCommand) -> Result<Request> {
    use Request as R;
    Ok(match command {
        ReferralCommand::Open(a) => {
            if let Some(t) = &a.service_territory
                && !maillage_core::territory::is_departement_code(t)
            {
                let found = maillage_core::excerpt::Excerpt::of(t);
                bail!(
                    "{}",
                    tr!(
                        "--service-territory : code de département attendu, reçu {found}",
                        "--service-territory: expected a département code, found {found}"
                    )
                );
            }
            R::OpenReferral(req::OpenReferral {
                person: args::person(&a.person)?,
                prescriber_kind: args::prescriber_kind(&a.prescriber_kind)?,
                prescriber: a.prescriber.clone(),
                needs: args::services(&a.needs)?,
                venue: a.venue.clone(),
                service_territory: a.service_territory.clone(),
                diagnostic: a.diagnostic.clone(),
                channel: a.channel.clone(),
                id: a.id.clone(),
                opened_on: args::date_opt("opened-on", a.opened_on.as_deref())?,
                expires_on: args::date_opt("expires-on", a.expires_on.as_deref())?,
            })
        }
        ReferralCommand::Accept {
            id,
            venue,
            appointment,
            date,
            ..
        } => R::AcceptReferral(req::AcceptReferral {
            id: id.clone(),
            venue: venue.clone(),
            appointment: args::date_opt("appointment", appointment.as_deref())?,
            date: args::date_opt("date", date.as_deref())?,
        }),
        ReferralCommand::Decline { id, reason, .. } => R::DeclineReferral(req::DeclineReferral {
            id: id.clone(),
            reason: reason.clone(),
        }),
        ReferralCommand::Forward { id, to_venue, .. } => R::ForwardReferral(req::ForwardReferral {
            id: id.clone(),
            to_venue: to_venue.clone(),
        }),
        ReferralCommand::Close {
            id,
            outcome,
            autonomy,
            ..
        } => R::CloseReferral(req::CloseReferral {
            id: id.clone(),
            outcome: match outcome {
                Outcome::Completed => "completed",
                Outcome::NoShow => "no_show",
                Outcome::Abandoned => "abandoned",
            }
            .to_owned(),
            autonomy: match autonomy {
                None => "",
                Some(Autonomy::Autonomous) => "autonomous",
                Some(Autonomy::Partially) => "partially",
                Some(Autonomy::NotAutonomous) => "not_autonomous",
            }
            .to_owned(),
        }),
        ReferralCommand::Show { id, as_of, .. } => R::Referral {
            id: id.clone(),
            as_of: args::date_opt("as-of", as_of.as_deref())?,
        },
    })
}

/// Reads a file a command line names.
/// A repeatable option's values: absent when not given, empty when given only as "".
fn listed(values: &[String]) -> Option<Vec<String>> {
    (!values.is_empty()).then(|| {
        values
            .iter()
            .filter(|v| !v.trim().is_empty())
            .cloned()
            .collect()
    })
}

/// An error of this program, not of its user (a command routed where it does not belong).
fn internal(what: &str) -> String {
    maillage_core::tr!("erreur interne : {what}", "internal error: {what}")
}

/// `--mapping PATH_OR_NAME`: a file's bytes (bounded, parsed by the node), or the name of a
/// shipped mapping.
fn read_mapping(arg: &str) -> Result<req::VenueMapping> {
    use maillage_core::lang::{FileOp, on_file};
    let path = Path::new(arg);
    if path.is_file() {
        let max = maillage_venues::MAPPING_BYTES_MAX;
        let size = std::fs::metadata(path)
            .with_context(|| on_file(FileOp::Read, path))?
            .len();
        if size > max as u64 {
            let (shown, kib) = (path.display(), max >> 10);
            bail!(
                "{}",
                tr!(
                    "--mapping {shown} : {size} octets, plus que les {kib} Kio qu'une correspondance peut faire",
                    "--mapping {shown}: {size} bytes, more than the {kib} KiB a mapping may hold"
                )
            );
        }
        let content = std::fs::read(path).with_context(|| on_file(FileOp::Read, path))?;
        return Ok(req::VenueMapping::File {
            source: path.display().to_string(),
            content,
        });
    }
    let shipped = maillage_venues::SHIPPED_MAPPINGS.map(|m| m.name);
    if shipped.contains(&arg) {
        return Ok(req::VenueMapping::Shipped(arg.to_owned()));
    }
    let (shown, list) = (maillage_core::excerpt::Excerpt::of(arg), shipped.join(", "));
    bail!(
        "{}",
        tr!(
            "--mapping {shown} : ni un fichier, ni une correspondance livrée ({list}) ; `maillage venues mappings` les liste",
            "--mapping {shown}: neither a file nor a shipped mapping ({list}); `maillage venues mappings` lists them"
        )
    )
}

fn read_input(path: &Path) -> Result<Vec<u8>> {
    crate::files::read_bounded(path)
}
