//! What a signed event did, in a sentence for people and as JSON for scripts.

use super::*;

pub(super) fn effect_text(effect: &Effect) -> (String, serde_json::Value) {
    match effect {
        Effect::VenueUpdated { venue, changed } => (
            {
                let (label, changed) = (
                    &venue.label,
                    changed
                        .iter()
                        .map(|(field, value)| format!("{field} = {value:?}"))
                        .collect::<Vec<_>>()
                        .join(", "),
                );
                tr!(
                    "lieu {label} mis à jour : {changed}",
                    "venue {label} updated: {changed}"
                )
            },
            json!({
                "venue_id": venue.venue_id,
                "changed": changed.iter().map(|(f, v)| (f.clone(), json!(v))).collect::<serde_json::Map<_, _>>(),
            }),
        ),
        Effect::VenueClosed { venue, reason } => (
            {
                let label = &venue.label;
                tr!(
                    "lieu {label} fermé : {reason}",
                    "venue {label} closed: {reason}"
                )
            },
            json!({ "venue_id": venue.venue_id, "closed": true, "reason": reason }),
        ),
        Effect::VenueReopened { venue, reason } => (
            {
                let label = &venue.label;
                tr!(
                    "lieu {label} rouvert : {reason}",
                    "venue {label} open again: {reason}"
                )
            },
            json!({ "venue_id": venue.venue_id, "closed": false, "reason": reason }),
        ),
        Effect::VenueQualified {
            venue,
            scheme,
            valid_until,
            services,
        } => (
            {
                let (label, services) = (&venue.label, services.join(", "));
                tr!(
                    "lieu {label} qualifié pour {scheme} jusqu'au {valid_until} : {services}",
                    "venue {label} qualified for {scheme} until {valid_until}: {services}"
                )
            },
            json!({ "venue_id": venue.venue_id, "scheme": scheme, "valid_until": valid_until, "services": services }),
        ),
        Effect::QualificationRevoked { venue, reason } => (
            {
                let label = &venue.label;
                tr!(
                    "qualification du lieu {label} retirée : {reason}",
                    "qualification of venue {label} revoked: {reason}"
                )
            },
            json!({ "venue_id": venue.venue_id, "revoked": true, "reason": reason }),
        ),
        Effect::BatchIssued {
            batch,
            funder,
            count,
            face_value_cents,
            valid_until,
            redeem_deadline,
        } => (
            {
                let value = euros(*face_value_cents);
                tr!(
                    "lot {batch} émis pour {funder} : {count} pass de {value} ({batch}-1 … {batch}-{count}), valables jusqu'au {valid_until}, encaissables jusqu'au {redeem_deadline}",
                    "batch {batch} issued for {funder}: {count} voucher(s) of {value} ({batch}-1 … {batch}-{count}), valid until {valid_until}, redeemable until {redeem_deadline}"
                )
            },
            json!({ "batch": batch, "count": count, "face_value_cents": face_value_cents }),
        ),
        Effect::HandedOut {
            serials,
            person,
            prescriber,
            prescriber_kind,
            date,
        } => (
            {
                let (n, list) = (serials.len(), serials.join(", "));
                tr!(
                    "{n} pass remis à {person} par {prescriber} ({prescriber_kind}) le {date} : {list}",
                    "{n} voucher(s) handed out to {person} by {prescriber} ({prescriber_kind}) on {date}: {list}"
                )
            },
            json!({ "serials": serials, "person": person.code(), "date": date }),
        ),
        Effect::Redeemed {
            serial,
            venue,
            service,
            date,
            transferred_by,
        } => {
            let mut text = String::new();
            if let Some(by) = transferred_by {
                let (owner, event) = (&by.owner, by.event.short());
                text.push_str(&tr!(
                    "pass {serial} transféré en ligne par son propriétaire {owner} (événement {event})\n",
                    "voucher {serial} transferred online by its owner {owner} (event {event})\n"
                ));
            }
            let label = &venue.label;
            text.push_str(&tr!(
                "pass {serial} utilisé à {label} pour {service:?} le {date}",
                "voucher {serial} redeemed at {label} for {service:?} on {date}"
            ));
            (
                text,
                json!({ "serial": serial, "venue_id": venue.venue_id, "service": service, "date": date }),
            )
        }
        Effect::Transferred {
            serials,
            to,
            to_name,
            reason,
        } => (
            {
                let (n, list) = (serials.len(), serials.join(", "));
                tr!(
                    "{n} pass transféré(s) à {to_name} : {list} ({reason}) ; ce hub les possède dès qu'il détient ce journal",
                    "{n} voucher(s) transferred to {to_name}: {list} ({reason}); that hub now owns them once it holds this log"
                )
            },
            json!({ "serials": serials, "to": to, "reason": reason }),
        ),
        Effect::Claimed {
            serial,
            venue,
            service,
            date,
            owner,
        } => (
            {
                let label = &venue.label;
                tr!(
                    "pass {serial} réclamé à {label} pour {service:?} le {date} ; la réclamation attend la réponse de son propriétaire {owner}",
                    "voucher {serial} claimed at {label} for {service:?} on {date}; the claim waits for its owner {owner} to answer"
                )
            },
            json!({ "serial": serial, "venue_id": venue.venue_id, "service": service, "date": date, "owner": owner }),
        ),
        Effect::ClaimAnswered {
            claim,
            serial,
            accepted,
            reason,
            venue,
            service,
            date,
        } => {
            let (short, label) = (claim.short(), &venue.label);
            let text = if *accepted {
                tr!(
                    "réclamation {short} acceptée : pass {serial} utilisé à {label} pour {service:?} le {date}",
                    "claim {short} accepted: voucher {serial} redeemed at {label} for {service:?} on {date}"
                )
            } else {
                let why = reason.clone().unwrap_or_default();
                tr!(
                    "réclamation {short} sur le pass {serial} rejetée : {why}",
                    "claim {short} on voucher {serial} rejected: {why}"
                )
            };
            let mut value = json!({ "claim": claim, "serial": serial, "accepted": accepted });
            if let (Some(reason), Some(map)) = (reason, value.as_object_mut()) {
                map.insert("reason".into(), json!(reason));
            }
            (text, value)
        }
        Effect::Cancelled { serials, reason } => (
            {
                let (n, list) = (serials.len(), serials.join(", "));
                tr!(
                    "{n} pass annulé(s) : {list} ({reason})",
                    "{n} voucher(s) cancelled: {list} ({reason})"
                )
            },
            json!({ "serials": serials, "reason": reason }),
        ),
        Effect::Settled {
            venue,
            serials,
            amount_cents,
            period,
        } => (
            {
                let (n, label, amount) = (serials.len(), &venue.label, euros(*amount_cents));
                tr!(
                    "{n} pass réglé(s) à {label} pour {period} : {amount}",
                    "{n} voucher(s) settled to {label} for {period}: {amount}"
                )
            },
            json!({ "venue_id": venue.venue_id, "serials": serials, "amount_cents": amount_cents, "period": period }),
        ),
        Effect::ReferralOpened {
            referral_id,
            person,
            target,
            handler,
            expires_on,
        } => (
            tr!(
                "orientation {referral_id} ouverte pour {person} vers {target}, traitée par {handler} ; expire le {expires_on}\nidentifiant de l'orientation : {referral_id}",
                "referral {referral_id} opened for {person} to {target}, handled by {handler}; expires on {expires_on}\nreferral id: {referral_id}"
            ),
            json!({ "referral_id": referral_id, "person": person.code(), "handler": handler, "expires_on": expires_on }),
        ),
        Effect::ReferralAccepted {
            referral_id,
            venue,
            date,
            appointment_on,
        } => {
            let when = if appointment_on.is_empty() {
                String::new()
            } else {
                tr!(
                    ", rendez-vous le {appointment_on}",
                    ", appointment on {appointment_on}"
                )
            };
            let label = &venue.label;
            (
                tr!(
                    "orientation {referral_id} acceptée à {label} le {date}{when}",
                    "referral {referral_id} accepted at {label} on {date}{when}"
                ),
                json!({ "referral_id": referral_id, "venue_id": venue.venue_id, "date": date, "appointment_on": appointment_on }),
            )
        }
        Effect::ReferralDeclined {
            referral_id,
            reason,
        } => (
            tr!(
                "orientation {referral_id} refusée : {reason}",
                "referral {referral_id} declined: {reason}"
            ),
            json!({ "referral_id": referral_id, "reason": reason }),
        ),
        Effect::ReferralForwarded {
            referral_id,
            venue,
            handler,
        } => (
            {
                let label = &venue.label;
                tr!(
                    "orientation {referral_id} réorientée vers {label}, traitée désormais par {handler}",
                    "referral {referral_id} forwarded to {label}, handled now by {handler}"
                )
            },
            json!({ "referral_id": referral_id, "to_venue_id": venue.venue_id, "handler": handler }),
        ),
        Effect::ReferralClosed {
            referral_id,
            outcome,
            autonomy,
        } => (
            {
                let words = crate::lang::referral_status(outcome);
                tr!(
                    "orientation {referral_id} close : {words}",
                    "referral {referral_id} closed: {words}"
                )
            },
            json!({ "referral_id": referral_id, "outcome": outcome, "autonomy": autonomy }),
        ),
        Effect::AccompanimentRecorded {
            person,
            venue,
            services,
            date,
            duration_min,
            mode,
        } => (
            {
                let (label, list) = (&venue.label, services.join(", "));
                let mode_words = match (crate::lang::current(), mode.as_str()) {
                    (crate::lang::Lang::Fr, "individual") => "individuel",
                    (crate::lang::Lang::Fr, "collective") => "collectif",
                    (crate::lang::Lang::Fr, "remote") => "à distance",
                    (_, other) => other,
                };
                tr!(
                    "accompagnement {mode_words} de {duration_min} min de {person} enregistré à {label} le {date} : {list}",
                    "{duration_min} min {mode_words} accompaniment of {person} recorded at {label} on {date}: {list}"
                )
            },
            json!({ "person": person.code(), "venue_id": venue.venue_id, "date": date, "mode": mode }),
        ),
        Effect::PersonForgotten { person, events } => (
            tr!(
                "personne {person} oubliée : chaque nœud efface les parties personnelles de {events} événement(s) et tout ce qu'il relie à cette personne, et garde des comptes anonymes",
                "person {person} forgotten: every node erases the personal parts of {events} event(s) and everything it links to this person, and keeps anonymous counts"
            ),
            json!({ "person": person.code(), "forgotten": true, "events": events }),
        ),
        Effect::AmendmentProposed {
            number,
            change,
            threshold,
            in_effect,
        } => (
            {
                let change = super::ledger::change_text(change);
                let effect = if *in_effect {
                    t(
                        "en vigueur (l'approbation de ce hub suffit)",
                        "in effect (this hub's endorsement is enough)",
                    )
                    .to_owned()
                } else {
                    tr!(
                        "il prend effet une fois approuvé par {threshold} hubs (cette proposition compte pour un) : `maillage federation endorse ID` sur les leurs",
                        "it takes effect once {threshold} hubs endorsed it (this proposal counts as one): `maillage federation endorse ID` on theirs"
                    )
                };
                tr!(
                    "amendement {number} proposé : {change} ; {effect}",
                    "amendment {number} proposed: {change}; {effect}"
                )
            },
            json!({ "amendment": number, "change": change, "threshold": threshold, "in_effect": in_effect }),
        ),
        Effect::AmendmentEndorsed {
            proposal,
            number,
            in_effect,
            round,
        } => (
            {
                let short = proposal.short();
                let now = if *in_effect {
                    t(" : désormais en vigueur", ": now in effect")
                } else {
                    ""
                };
                let round = match round {
                    1 => String::new(),
                    r => tr!(" au tour {r}", " in round {r}"),
                };
                tr!(
                    "amendement {number} (proposition {short}) approuvé{round}{now}",
                    "amendment {number} (proposal {short}) endorsed{round}{now}"
                )
            },
            json!({ "amendment": number, "proposal": proposal, "in_effect": in_effect, "round": round }),
        ),
    }
}

/// A signed event: what it did, then its id and seq.
pub fn signed_event(out: &mut String, signed: &Signed, json: bool) -> Result<()> {
    let (text, mut value) = effect_text(&signed.effect);
    if json {
        if let Some(map) = value.as_object_mut() {
            map.insert("event".into(), json!(signed.event));
            map.insert("seq".into(), json!(signed.seq));
            map.insert("rejected".into(), json!(false));
            if matches!(signed.effect, Effect::Claimed { .. }) {
                map.insert("claim".into(), json!(signed.event));
            }
        }
        pretty(out, &value)
    } else {
        writeln!(out, "{text}")?;
        let (event, seq) = (signed.event.short(), signed.seq);
        writeln!(
            out,
            "{}",
            tr!(
                "événement signé {event} (position {seq})",
                "signed event {event} (seq {seq})"
            )
        )?;
        Ok(())
    }
}
