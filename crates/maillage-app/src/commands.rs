//! The commands: each resolves what its request names against the views, builds one event,
//! and has the node judge and sign it ([`Node::sign`]): refused by a rule, nothing is signed.

use std::time::Duration;

use maillage_core::date::{format_date, parse_date};
use maillage_core::lang::t;
use maillage_core::tr;
use maillage_core::{HubId, Ledger, PersonId, VerifiedEvent, pb};
use maillage_store::{EventStore, Inserted};
use rand::RngExt;

use crate::app::App;
use crate::error::{AppError, Result};
use crate::network::TransferFailure;
use crate::node::Draft;
use crate::request::{
    AcceptReferral, AnswerClaim, Cancel, ClaimAnswer, ClaimVoucher, CloseReferral, DeclineReferral,
    Effect, ForgetPerson, ForwardReferral, HandOut, ImportLog, IssueBatch, LogImported,
    OpenReferral, QualifyVenue, RecordAccompaniment, Redeem, Response, RevokeQualification, Settle,
    Signed, Transfer, TransferNote,
};
use crate::resolve;

/// How long a redemption waits for the owner's transfer to arrive through replication.
const TRANSFER_ARRIVAL_WAIT: Duration = Duration::from_secs(10);

impl App {
    /// Signs `body` if the rules accept it; `describe` tells what it did, read from the views
    /// it was folded into.
    pub(crate) fn sign(
        &self,
        views: &mut Ledger,
        body: impl Into<Draft>,
        describe: impl FnOnce(&Ledger, &VerifiedEvent) -> Effect,
    ) -> Result<Signed> {
        self.sign_relying_on(views, body, &[], describe)
    }

    /// [`App::sign`] for an event that relies on the latest events of `relies_on`'s feeds.
    fn sign_relying_on(
        &self,
        views: &mut Ledger,
        body: impl Into<Draft>,
        relies_on: &[HubId],
        describe: impl FnOnce(&Ledger, &VerifiedEvent) -> Effect,
    ) -> Result<Signed> {
        let event = self.node().sign_relying_on(views, body, relies_on)?;
        if let Some(network) = self.network() {
            network.notify();
        }
        Ok(Signed {
            event: event.id,
            seq: event.seq,
            effect: describe(views, &event),
        })
    }

    pub(crate) fn qualify_venue(&self, r: QualifyVenue) -> Result<Signed> {
        let mut views = self.node().views()?;
        let venue_id = resolve::venue(&views, "venue", &r.venue)?;
        let until = format_date(resolve::day("until", &r.until)?);
        let body = pb::event::Body::VenueQualified(pb::VenueQualified {
            venue_id: venue_id.clone(),
            scheme: r.scheme.trim().to_owned(),
            valid_until: until.clone(),
            services: r.services.clone(),
        });
        self.sign(&mut views, body, |ledger, _| Effect::VenueQualified {
            venue: resolve::venue_ref(ledger, &venue_id),
            scheme: r.scheme.trim().to_owned(),
            valid_until: until,
            services: r.services,
        })
    }

    pub(crate) fn revoke_qualification(&self, r: RevokeQualification) -> Result<Signed> {
        let mut views = self.node().views()?;
        let venue_id = resolve::venue(&views, "venue", &r.venue)?;
        let body = pb::event::Body::VenueQualificationRevoked(pb::VenueQualificationRevoked {
            venue_id: venue_id.clone(),
            reason: r.reason.clone(),
        });
        self.sign(&mut views, body, |ledger, _| Effect::QualificationRevoked {
            venue: resolve::venue_ref(ledger, &venue_id),
            reason: r.reason,
        })
    }

    pub(crate) fn issue_batch(&self, r: IssueBatch) -> Result<Signed> {
        let mut views = self.node().views()?;
        let body = pb::event::Body::VoucherBatchIssued(pb::VoucherBatchIssued {
            batch_id: r.batch.clone(),
            funder: Some(pb::Funder {
                name: r.funder.trim().to_owned(),
                siret: r.funder_siret.clone(),
            }),
            face_value_cents: r.face_value_cents,
            count: r.count,
            valid_from: r.valid_from.clone(),
            valid_until: r.valid_until.clone(),
            redeem_deadline: r.redeem_deadline.clone(),
            eligible_services: r.services.clone(),
            territories: r.territories.clone(),
        });
        self.sign(&mut views, body, |_, _| Effect::BatchIssued {
            batch: r.batch,
            funder: r.funder.trim().to_owned(),
            count: r.count,
            face_value_cents: r.face_value_cents,
            valid_until: r.valid_until,
            redeem_deadline: r.redeem_deadline,
        })
    }

    pub(crate) fn hand_out(&self, r: HandOut) -> Result<Signed> {
        let date = resolve::date_or("date", r.date.as_deref(), self.today())?;
        let mut views = self.node().views()?;
        let (personal, part) = seal(r.person, "")?;
        let body = pb::event::Body::VouchersHandedOut(pb::VouchersHandedOut {
            serials: r.serials.clone(),
            personal,
            prescriber: Some(pb::Prescriber {
                kind: r.prescriber_kind.clone(),
                name: r.prescriber.trim().to_owned(),
            }),
            referral_id: r.referral.clone().unwrap_or_default(),
            date: date.clone(),
        });
        let body = Draft {
            body,
            personal: Some(part),
        };
        self.sign(&mut views, body, |_, _| Effect::HandedOut {
            serials: r.serials,
            person: r.person,
            prescriber: r.prescriber.trim().to_owned(),
            prescriber_kind: r.prescriber_kind,
            date,
        })
    }

    /// A redemption. Of another hub's voucher on a serving node: the owner is asked for a
    /// transfer first; if it cannot be reached, a claim is recorded instead, which it answers
    /// when the link returns.
    pub(crate) fn redeem(&self, r: Redeem) -> Result<Response> {
        let date = resolve::date_or("date", r.date.as_deref(), self.today())?;
        let me = self.node().id();
        // Read what the redemption needs, then let the views go: a transfer waits for
        // replication, which folds into them.
        let (venue_id, claim, owner) = self.read(|views| {
            let venue_id = resolve::venue(views, "venue", &r.venue)?;
            let claim = match &r.claim {
                Some(text) => Some(resolve::claim(views, text)?),
                None => None,
            };
            // Asked of the key the owner signs with now (a rotated or recovered key answers
            // for the vouchers issued under the one it succeeded).
            let owner = views.voucher(&r.serial).map(|v| {
                let key = views.membership().current_key(&v.owner);
                (key, resolve::hub_name(&self.node().charter, &key))
            });
            Ok((venue_id, claim, owner))
        })?;
        let mut transferred_by = None;
        if claim.is_none()
            && let Some((owner, owner_name)) = owner.clone().filter(|(o, _)| *o != me)
            && let Some(network) = self.network()
        {
            match network.request_transfer(owner, vec![r.serial.clone()], venue_id.clone()) {
                Ok(transfer) => {
                    if !network.wait_for(&transfer, TRANSFER_ARRIVAL_WAIT) {
                        let (serial, event, secs) = (
                            &r.serial,
                            transfer.id.short(),
                            TRANSFER_ARRIVAL_WAIT.as_secs(),
                        );
                        return Err(AppError::unavailable(tr!(
                            "le hub {owner_name} a transféré le pass {serial} (événement {event}), mais son journal n'a pas atteint ce nœud en {secs} s ; relancez l'encaissement dans un instant",
                            "hub {owner_name} transferred voucher {serial} (event {event}), but its log has not reached this node within {secs} s; run the redemption again shortly"
                        )));
                    }
                    transferred_by = Some(TransferNote {
                        owner: owner_name,
                        event: transfer.id,
                    });
                }
                Err(TransferFailure::Unreachable(why)) => {
                    let claim = self.claim(ClaimVoucher {
                        serial: r.serial,
                        venue: venue_id,
                        service: r.service,
                        date: Some(date),
                    })?;
                    return Ok(Response::Claimed {
                        unreachable: tr!(
                            "propriétaire {owner_name} injoignable ({why})",
                            "owner {owner_name} unreachable ({why})"
                        ),
                        claim,
                    });
                }
                Err(TransferFailure::Refused(why)) => {
                    let serial = &r.serial;
                    return Err(AppError::rejected(tr!(
                        "le propriétaire {owner_name} a refusé de transférer le pass {serial} : {why}",
                        "the owner {owner_name} refused to transfer voucher {serial}: {why}"
                    )));
                }
            }
        }
        let mut views = self.node().views()?;
        let body = pb::event::Body::VoucherRedeemed(pb::VoucherRedeemed {
            serial: r.serial.clone(),
            venue_id: venue_id.clone(),
            service: r.service.clone(),
            date: date.clone(),
            claim: claim.as_ref().map(|c| c.at.into()),
        });
        let relies_on: Vec<HubId> = owner.iter().map(|(owner, _)| *owner).collect();
        let signed =
            self.sign_relying_on(&mut views, body, &relies_on, |ledger, _| Effect::Redeemed {
                serial: r.serial,
                venue: resolve::venue_ref(ledger, &venue_id),
                service: r.service,
                date,
                transferred_by,
            })?;
        Ok(Response::Signed(signed))
    }

    pub(crate) fn transfer(&self, r: Transfer) -> Result<Signed> {
        let mut views = self.node().views()?;
        let to = resolve::hub(&self.node().charter, &self.node().id(), "to", &r.to)?;
        let body = pb::event::Body::VoucherTransferred(pb::VoucherTransferred {
            serials: r.serials.clone(),
            to_hub: to.0.to_vec(),
            reason: r.reason.clone(),
        });
        let to_name = resolve::hub_name(&self.node().charter, &to);
        self.sign(&mut views, body, |_, _| Effect::Transferred {
            serials: r.serials,
            to,
            to_name,
            reason: r.reason,
        })
    }

    pub(crate) fn claim(&self, r: ClaimVoucher) -> Result<Signed> {
        let date = resolve::date_or("date", r.date.as_deref(), self.today())?;
        let mut views = self.node().views()?;
        let venue_id = resolve::venue(&views, "venue", &r.venue)?;
        let body = pb::event::Body::VoucherClaimed(pb::VoucherClaimed {
            serial: r.serial.clone(),
            venue_id: venue_id.clone(),
            service: r.service.clone(),
            date: date.clone(),
        });
        let charter = self.node().charter.clone();
        self.sign(&mut views, body, |ledger, _| {
            let owner = ledger
                .voucher(&r.serial)
                .map(|s| resolve::hub_name(&charter, &s.owner))
                .unwrap_or_default();
            Effect::Claimed {
                serial: r.serial,
                venue: resolve::venue_ref(ledger, &venue_id),
                service: r.service,
                date,
                owner,
            }
        })
    }

    pub(crate) fn answer_claim(&self, r: AnswerClaim) -> Result<Signed> {
        let mut views = self.node().views()?;
        let claim = resolve::claim(&views, &r.claim)?;
        let (body, accepted, reason) = match r.answer {
            ClaimAnswer::Accept => (crate::policy::claim_redemption(&claim), true, None),
            ClaimAnswer::Reject(reason) => (
                crate::policy::claim_rejection(&claim, reason.clone()),
                false,
                Some(reason),
            ),
        };
        self.sign(&mut views, body, |ledger, _| Effect::ClaimAnswered {
            claim: claim.event,
            serial: claim.serial.clone(),
            accepted,
            reason,
            venue: resolve::venue_ref(ledger, &claim.venue_id),
            service: claim.service.to_string(),
            date: claim.date.to_string(),
        })
    }

    pub(crate) fn cancel(&self, r: Cancel) -> Result<Signed> {
        let mut views = self.node().views()?;
        let body = pb::event::Body::VoucherCancelled(pb::VoucherCancelled {
            serials: r.serials.clone(),
            reason: r.reason.clone(),
        });
        self.sign(&mut views, body, |_, _| Effect::Cancelled {
            serials: r.serials,
            reason: r.reason,
        })
    }

    pub(crate) fn settle(&self, r: Settle) -> Result<Signed> {
        let month_ok = r.period.len() == 7 && parse_date(&format!("{}-01", r.period)).is_some();
        if !month_ok {
            return Err(AppError::invalid(
                "period",
                t("un mois AAAA-MM", "a month YYYY-MM"),
                &r.period,
            ));
        }
        let mut views = self.node().views()?;
        let venue_id = resolve::venue(&views, "venue", &r.venue)?;
        let mut amount = 0u64;
        for serial in &r.serials {
            let batch = serial
                .rsplit_once('-')
                .and_then(|(b, _)| views.batch_by_id(b))
                .ok_or_else(|| {
                    AppError::not_found(tr!(
                        "pass {serial} : lot inconnu sur ce nœud",
                        "voucher {serial}: unknown batch on this node"
                    ))
                })?;
            amount += batch.face_value_cents;
        }
        let body = pb::event::Body::RedemptionsSettled(pb::RedemptionsSettled {
            venue_id: venue_id.clone(),
            serials: r.serials.clone(),
            amount_cents: amount,
            period: r.period.clone(),
        });
        self.sign(&mut views, body, |ledger, _| Effect::Settled {
            venue: resolve::venue_ref(ledger, &venue_id),
            serials: r.serials,
            amount_cents: amount,
            period: r.period,
        })
    }

    pub(crate) fn open_referral(&self, r: OpenReferral) -> Result<Signed> {
        let opened_on = resolve::date_or("opened_on", r.opened_on.as_deref(), self.today())?;
        let expires_on = match &r.expires_on {
            Some(day) => format_date(resolve::day("expires_on", day)?),
            None => String::new(),
        };
        let mut views = self.node().views()?;
        let venue_id = match &r.venue {
            Some(v) => resolve::venue(&views, "venue", v)?,
            None => String::new(),
        };
        let id = match &r.id {
            Some(id) => id.clone(),
            None => {
                let dep = self
                    .node()
                    .member()?
                    .territories
                    .iter()
                    .next()
                    .cloned()
                    .ok_or_else(|| {
                        AppError::forbidden(t(
                            "ce hub ne tient aucun territoire",
                            "this hub holds no territory",
                        ))
                    })?;
                let mut rng = rand::rng();
                const ALNUM: &[u8] = b"ABCDEFGHJKMNPQRSTVWXYZ0123456789";
                let tail: String = (0..6)
                    .map(|_| ALNUM[rng.random_range(0..ALNUM.len())] as char)
                    .collect();
                format!("{dep}-{}-{tail}", opened_on.replace('-', ""))
            }
        };
        let (personal, part) = seal(r.person, &r.diagnostic)?;
        let body = pb::event::Body::ReferralOpened(pb::ReferralOpened {
            referral_id: id.clone(),
            personal,
            prescriber: Some(pb::Prescriber {
                kind: r.prescriber_kind.clone(),
                name: r.prescriber.trim().to_owned(),
            }),
            needs: r.needs.clone(),
            target_venue_id: venue_id.clone(),
            target_service: if venue_id.is_empty() {
                r.needs.first().cloned().unwrap_or_default()
            } else {
                String::new()
            },
            target_territory: r.service_territory.clone().unwrap_or_default(),
            channel: r.channel.clone(),
            opened_on,
            expires_on,
        });
        let body = Draft {
            body,
            personal: Some(part),
        };
        let charter = self.node().charter.clone();
        self.sign(&mut views, body, |ledger, _| {
            let referral = ledger.referral(&id);
            let handler = referral
                .as_ref()
                .map(|r| resolve::hub_name(&charter, &r.handler))
                .unwrap_or_default();
            let expires_on = referral
                .map(|r| r.expires_on.to_string())
                .unwrap_or_default();
            let target = if venue_id.is_empty() {
                {
                    let territory = r.service_territory.clone().unwrap_or_default();
                    tr!("territoire {territory}", "territory {territory}")
                }
            } else {
                resolve::venue_label(ledger, &venue_id)
            };
            Effect::ReferralOpened {
                referral_id: id.clone(),
                person: r.person,
                target,
                handler,
                expires_on,
            }
        })
    }

    pub(crate) fn accept_referral(&self, r: AcceptReferral) -> Result<Signed> {
        let date = resolve::date_or("date", r.date.as_deref(), self.today())?;
        let appointment = match &r.appointment {
            Some(day) => format_date(resolve::day("appointment", day)?),
            None => String::new(),
        };
        let mut views = self.node().views()?;
        let venue_id = resolve::venue(&views, "venue", &r.venue)?;
        let body = pb::event::Body::ReferralAccepted(pb::ReferralAccepted {
            referral_id: r.id.clone(),
            venue_id: venue_id.clone(),
            appointment_on: appointment.clone(),
            date: date.clone(),
        });
        self.sign(&mut views, body, |ledger, _| Effect::ReferralAccepted {
            referral_id: r.id,
            venue: resolve::venue_ref(ledger, &venue_id),
            date,
            appointment_on: appointment,
        })
    }

    pub(crate) fn decline_referral(&self, r: DeclineReferral) -> Result<Signed> {
        let mut views = self.node().views()?;
        let body = pb::event::Body::ReferralDeclined(pb::ReferralDeclined {
            referral_id: r.id.clone(),
            reason: r.reason.clone(),
        });
        self.sign(&mut views, body, |_, _| Effect::ReferralDeclined {
            referral_id: r.id,
            reason: r.reason,
        })
    }

    pub(crate) fn forward_referral(&self, r: ForwardReferral) -> Result<Signed> {
        let mut views = self.node().views()?;
        let venue_id = resolve::venue(&views, "to_venue", &r.to_venue)?;
        let body = pb::event::Body::ReferralForwarded(pb::ReferralForwarded {
            referral_id: r.id.clone(),
            to_venue_id: venue_id.clone(),
        });
        let charter = self.node().charter.clone();
        self.sign(&mut views, body, |ledger, _| {
            let handler = ledger
                .referral(&r.id)
                .map(|referral| resolve::hub_name(&charter, &referral.handler))
                .unwrap_or_default();
            Effect::ReferralForwarded {
                referral_id: r.id,
                venue: resolve::venue_ref(ledger, &venue_id),
                handler,
            }
        })
    }

    pub(crate) fn close_referral(&self, r: CloseReferral) -> Result<Signed> {
        let mut views = self.node().views()?;
        let body = pb::event::Body::ReferralClosed(pb::ReferralClosed {
            referral_id: r.id.clone(),
            outcome: r.outcome.clone(),
            autonomy: r.autonomy.clone(),
        });
        self.sign(&mut views, body, |_, _| Effect::ReferralClosed {
            referral_id: r.id,
            outcome: r.outcome,
            autonomy: r.autonomy,
        })
    }

    pub(crate) fn record_accompaniment(&self, r: RecordAccompaniment) -> Result<Signed> {
        let date = format_date(resolve::day("date", &r.date)?);
        let mut views = self.node().views()?;
        let venue_id = resolve::venue(&views, "venue", &r.venue)?;
        let (personal, part) = seal(r.person, "")?;
        let body = pb::event::Body::AccompanimentRecorded(pb::AccompanimentRecorded {
            personal,
            venue_id: venue_id.clone(),
            referral_id: r.referral.clone().unwrap_or_default(),
            services: r.services.clone(),
            date: date.clone(),
            duration_min: r.duration_min,
            mode: r.mode.clone(),
            vouchers: r.vouchers.clone(),
        });
        let body = Draft {
            body,
            personal: Some(part),
        };
        self.sign(&mut views, body, |ledger, _| {
            Effect::AccompanimentRecorded {
                person: r.person,
                venue: resolve::venue_ref(ledger, &venue_id),
                services: r.services,
                date,
                duration_min: r.duration_min,
                mode: r.mode,
            }
        })
    }

    /// Erasure: names the events whose personal parts link to the person on this node (never
    /// the person); every node erases them and everything it links to the same person.
    pub(crate) fn forget_person(&self, r: ForgetPerson) -> Result<Signed> {
        let mut views = self.node().views()?;
        let events = views.person_events(&r.person);
        if events.is_empty() {
            return Err(AppError::not_found(t(
                "ce nœud ne détient aucun lien vers cette personne (code inconnu, déjà oubliée, ou liens au-delà de la durée de conservation) : rien à effacer",
                "this node holds no link to this person (unknown code, already forgotten, or links past retention): nothing to erase",
            )));
        }
        let named = events.len().min(maillage_core::personal::FORGET_EVENTS_MAX);
        let body = pb::event::Body::PersonForgotten(pb::PersonForgotten {
            events: events[..named].iter().map(|id| id.0.to_vec()).collect(),
        });
        self.sign(&mut views, body, |_, _| Effect::PersonForgotten {
            person: r.person,
            events: named,
        })
    }

    /// Imports a portable log file: verified first (every signature, chain and the file
    /// digest), then every event stored in feed order, through the store's chain rules (this
    /// node's own events too: held ones are duplicates, missing ones are taken back).
    pub(crate) fn import_log(&self, r: ImportLog) -> Result<LogImported> {
        let node = self.node();
        let (charter, events) = crate::logfile::read(&r.content).map_err(|problem| {
            let source = &r.source;
            AppError::invalid_field(
                "file",
                tr!(
                    "{source} ne se vérifie pas, rien n'est importé : {problem}",
                    "{source} does not verify, nothing imported: {problem}"
                ),
            )
        })?;
        if charter.bytes() != node.charter.bytes() {
            let (source, theirs, ours) = (&r.source, charter.name(), node.charter.name());
            return Err(AppError::invalid_field(
                "file",
                tr!(
                    "{source} appartient à la fédération {theirs:?}, pas à celle de ce nœud, {ours:?} : rien n'est importé",
                    "{source} belongs to federation {theirs:?}, not this node's {ours:?}: nothing imported"
                ),
            ));
        }
        let mut report = LogImported {
            events: events.len() as u64,
            ..LogImported::default()
        };
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
        // A fork recorded: the views that folded the author's later events are stale.
        let mut views = node.views()?;
        if report.fork > 0 {
            node.refold(&mut views)?;
        }
        drop(views);
        if let Some(network) = self.network() {
            network.notify();
        }
        Ok(report)
    }
}

/// A fresh pseudonymous person code: 16 random bytes.
pub fn new_person() -> PersonId {
    let mut bytes = [0u8; 16];
    rand::rng().fill(&mut bytes[..]);
    PersonId::random(bytes)
}

/// A personal part for `person` (and a diagnostic), with a fresh random salt: the commitment
/// to sign and the part's bytes (§2b).
fn seal(person: PersonId, diagnostic: &str) -> Result<(Vec<u8>, Vec<u8>)> {
    let mut salt = [0u8; 16];
    rand::rng().fill(&mut salt);
    let (commitment, part) = maillage_core::personal::seal(person, diagnostic.trim(), salt)
        .map_err(|why| AppError::invalid_field("diagnostic", why))?;
    Ok((commitment.to_vec(), part))
}
