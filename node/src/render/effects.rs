//! What a signed event did, in a sentence for people and as JSON for scripts.

use super::*;

pub(super) fn effect_text(effect: &Effect) -> (String, serde_json::Value) {
    match effect {
        Effect::VenueUpdated { venue, changed } => (
            format!(
                "lieu {} mis à jour : {}",
                venue.label,
                changed
                    .iter()
                    .map(|(field, value)| format!("{field} = {value:?}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            json!({
                "venue_id": venue.venue_id,
                "changed": changed.iter().map(|(f, v)| (f.clone(), json!(v))).collect::<serde_json::Map<_, _>>(),
            }),
        ),
        Effect::VenueClosed { venue, reason } => (
            format!("lieu {} fermé : {reason}", venue.label),
            json!({ "venue_id": venue.venue_id, "closed": true, "reason": reason }),
        ),
        Effect::VenueQualified {
            venue,
            scheme,
            valid_until,
            services,
        } => (
            format!(
                "venue {} qualified for {scheme} until {valid_until}: {}",
                venue.label,
                services.join(", ")
            ),
            json!({ "venue_id": venue.venue_id, "scheme": scheme, "valid_until": valid_until, "services": services }),
        ),
        Effect::QualificationRevoked { venue, reason } => (
            format!("qualification of venue {} revoked: {reason}", venue.label),
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
            format!(
                "batch {batch} issued for {funder}: {count} voucher(s) of {} ({batch}-1 … {batch}-{count}), valid until {valid_until}, redeemable until {redeem_deadline}",
                euros(*face_value_cents)
            ),
            json!({ "batch": batch, "count": count, "face_value_cents": face_value_cents }),
        ),
        Effect::HandedOut {
            serials,
            person,
            prescriber,
            prescriber_kind,
            date,
        } => (
            format!(
                "{} voucher(s) handed out to {person} by {prescriber} ({prescriber_kind}) on {date}: {}",
                serials.len(),
                serials.join(", ")
            ),
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
            if let Some(t) = transferred_by {
                text.push_str(&format!(
                    "voucher {serial} transferred online by its owner {} (event {})\n",
                    t.owner,
                    t.event.short()
                ));
            }
            text.push_str(&format!(
                "voucher {serial} redeemed at {} for {service:?} on {date}",
                venue.label
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
            format!(
                "{} voucher(s) transferred to {to_name}: {} ({reason}); that hub now owns them once it holds this log",
                serials.len(),
                serials.join(", ")
            ),
            json!({ "serials": serials, "to": to, "reason": reason }),
        ),
        Effect::Claimed {
            serial,
            venue,
            service,
            date,
            owner,
        } => (
            format!(
                "voucher {serial} claimed at {} for {service:?} on {date}; the claim waits for its owner {owner} to answer",
                venue.label
            ),
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
            let text = if *accepted {
                format!(
                    "claim {} accepted: voucher {serial} redeemed at {} for {service:?} on {date}",
                    claim.short(),
                    venue.label
                )
            } else {
                format!(
                    "claim {} on voucher {serial} rejected: {}",
                    claim.short(),
                    reason.clone().unwrap_or_default()
                )
            };
            let mut value = json!({ "claim": claim, "serial": serial, "accepted": accepted });
            if let (Some(reason), Some(map)) = (reason, value.as_object_mut()) {
                map.insert("reason".into(), json!(reason));
            }
            (text, value)
        }
        Effect::Cancelled { serials, reason } => (
            format!(
                "{} voucher(s) cancelled: {} ({reason})",
                serials.len(),
                serials.join(", ")
            ),
            json!({ "serials": serials, "reason": reason }),
        ),
        Effect::Settled {
            venue,
            serials,
            amount_cents,
            period,
        } => (
            format!(
                "{} voucher(s) settled to {} for {period}: {}",
                serials.len(),
                venue.label,
                euros(*amount_cents)
            ),
            json!({ "venue_id": venue.venue_id, "serials": serials, "amount_cents": amount_cents, "period": period }),
        ),
        Effect::ReferralOpened {
            referral_id,
            person,
            target,
            handler,
            expires_on,
        } => (
            format!(
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
                format!(", appointment on {appointment_on}")
            };
            (
                format!(
                    "referral {referral_id} accepted at {} on {date}{when}",
                    venue.label
                ),
                json!({ "referral_id": referral_id, "venue_id": venue.venue_id, "date": date, "appointment_on": appointment_on }),
            )
        }
        Effect::ReferralDeclined {
            referral_id,
            reason,
        } => (
            format!("referral {referral_id} declined: {reason}"),
            json!({ "referral_id": referral_id, "reason": reason }),
        ),
        Effect::ReferralForwarded {
            referral_id,
            venue,
            handler,
        } => (
            format!(
                "referral {referral_id} forwarded to {}, handled now by {handler}",
                venue.label
            ),
            json!({ "referral_id": referral_id, "to_venue_id": venue.venue_id, "handler": handler }),
        ),
        Effect::ReferralClosed {
            referral_id,
            outcome,
            autonomy,
        } => (
            format!("referral {referral_id} closed: {outcome}"),
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
            format!(
                "{duration_min} min {mode} accompaniment of {person} recorded at {} on {date}: {}",
                venue.label,
                services.join(", ")
            ),
            json!({ "person": person.code(), "venue_id": venue.venue_id, "date": date, "mode": mode }),
        ),
        Effect::PersonForgotten { person, events } => (
            format!(
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
            format!(
                "amendment {number} proposed: {}; {}",
                super::views::change_text(change),
                if *in_effect {
                    "in effect (this hub's endorsement is enough)".to_owned()
                } else {
                    format!(
                        "it takes effect once {threshold} hubs endorsed it (this proposal counts as one): `maillage federation endorse ID` on theirs"
                    )
                }
            ),
            json!({ "amendment": number, "change": change, "threshold": threshold, "in_effect": in_effect }),
        ),
        Effect::AmendmentEndorsed {
            proposal,
            number,
            in_effect,
        } => (
            format!(
                "amendment {number} (proposal {}) endorsed{}",
                proposal.short(),
                if *in_effect { ": now in effect" } else { "" }
            ),
            json!({ "amendment": number, "proposal": proposal, "in_effect": in_effect }),
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
        writeln!(
            out,
            "signed event {} (seq {})",
            signed.event.short(),
            signed.seq
        )?;
        Ok(())
    }
}
