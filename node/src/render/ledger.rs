//! The log and the federation as text for people and JSON for scripts: the digest, the
//! events kept without effect, the charter with its amendments, and what `log verify` found.

use super::*;

pub(super) fn digest_view(out: &mut String, d: &DigestView, json: bool) -> Result<()> {
    let digest = hex::encode(d.digest);
    if json {
        return pretty(
            out,
            &json!({
                "digest": digest,
                "applied": d.applied.iter().map(|a| json!({"hub": a.hub, "name": a.name, "events": a.events})).collect::<Vec<_>>(),
                "pending": d.pending,
                "parts": d.parts.iter().map(|(name, part)| (name.clone(), hex::encode(part))).collect::<std::collections::BTreeMap<_, _>>(),
            }),
        );
    }
    writeln!(out, "{} {digest}", t("empreinte", "digest"))?;
    for a in &d.applied {
        let n = a.events;
        writeln!(
            out,
            "  {:<24} {} {}",
            a.name,
            a.hub.short(),
            tr!("{n} événement(s) appliqué(s)", "{n} event(s) applied")
        )?;
    }
    if d.pending > 0 {
        let n = d.pending;
        writeln!(
            out,
            "  {}",
            tr!(
                "{n} événement(s) attendent leur passé causal",
                "{n} event(s) wait for their causal past"
            )
        )?;
    }
    Ok(())
}

pub(super) fn rejections(out: &mut String, list: &[RejectionView], json: bool) -> Result<()> {
    if json {
        return pretty(
            out,
            &list
                .iter()
                .map(|r| json!({"event": r.event, "hub": r.hub, "name": r.name, "seq": r.seq, "code": r.code, "reason": r.reason}))
                .collect::<Vec<_>>(),
        );
    }
    let n = list.len();
    writeln!(
        out,
        "{}",
        tr!(
            "{n} événement(s) gardé(s) dans le journal sans effet (règles métier)",
            "{n} event(s) kept in the log without effect (domain rules)"
        )
    )?;
    for r in list {
        writeln!(
            out,
            "  {} {:<16} {} {:<6} [{}] {}",
            r.event.short(),
            r.name,
            t("pos.", "seq"),
            r.seq,
            r.code,
            r.reason
        )?;
    }
    Ok(())
}

/// The charter: members, roles, territories.
pub fn charter(out: &mut String, c: &CharterView, json: bool) -> Result<()> {
    if json {
        return pretty(
            out,
            &json!({
                "name": c.name,
                "federation_id": c.federation_id,
                "admission_threshold": c.admission_threshold,
                "protocol_version": c.protocol_version,
                "amendments_in_effect": c.amendments_in_effect,
                "members": c.members.iter().map(|m| json!({
                    "key": m.key, "name": m.name, "role": m.role, "territories": m.territories,
                    "former_keys": m.former_keys, "status": m.status,
                })).collect::<Vec<_>>(),
                "amendments": c.amendments,
            }),
        );
    }
    let amended = if c.amendments.is_empty() {
        String::new()
    } else {
        let n = c.amendments_in_effect;
        tr!(
            ", {n} amendement(s) en vigueur",
            ", {n} amendment(s) in effect"
        )
    };
    let (name, version, threshold) = (&c.name, c.protocol_version, c.admission_threshold);
    writeln!(
        out,
        "{}",
        tr!(
            "fédération {name:?} (protocole v{version}, seuil d'admission {threshold}{amended})",
            "federation {name:?} (protocol v{version}, admission threshold {threshold}{amended})"
        )
    )?;
    for m in &c.members {
        let status = match m.status.as_str() {
            "" | "present" => String::new(),
            "removed" => format!("  [{}]", t("retiré", "removed")),
            other => match other.strip_prefix("handed over to ") {
                Some(to) => format!(
                    "  [{}]",
                    tr!("a passé la main à {to}", "handed over to {to}")
                ),
                None => format!("  [{other}]"),
            },
        };
        let role = match (crate::lang::current(), m.role.as_str()) {
            (crate::lang::Lang::Fr, "observer") => "observ.",
            (_, role) => role,
        };
        writeln!(
            out,
            "  {:<8} {:<32} {}  {}{status}",
            role,
            m.name,
            m.key,
            m.territories.join(",")
        )?;
        for old in &m.former_keys {
            writeln!(out, "           {} {old}", t("ancienne clé", "former key"))?;
        }
    }
    if !c.amendments.is_empty() {
        writeln!(out, "\n{}", t("amendements :", "amendments:"))?;
        for a in &c.amendments {
            let (proposer, endorsers, round) = (&a.proposer, a.endorsers.join(", "), a.round);
            let voted = match round {
                1 => tr!(
                    "proposé par {proposer} ; approuvé par {endorsers}",
                    "proposed by {proposer}; endorsed by {endorsers}"
                ),
                _ => tr!(
                    "proposé par {proposer} ; approuvé au tour {round} par {endorsers}",
                    "proposed by {proposer}; endorsed in round {round} by {endorsers}"
                ),
            };
            writeln!(
                out,
                "  {} #{} {} — {} ({}) {}",
                a.proposal.short(),
                a.number,
                change_text(&a.change),
                a.reason,
                voted,
                if a.in_effect {
                    t("EN VIGUEUR", "IN EFFECT")
                } else if a.in_force {
                    t(
                        "numéro pris par un autre amendement ; ses clés et arrêts tiennent",
                        "number taken by another amendment; its keys and stops hold",
                    )
                } else {
                    t("en attente", "pending")
                }
            )?;
        }
    }
    writeln!(out, "\nFederationId {}", c.federation_id)?;
    Ok(())
}

/// A membership change in words.
pub(super) fn change_text(change: &maillage_app::request::AmendmentChangeView) -> String {
    use maillage_app::request::AmendmentChangeView as C;
    match change {
        C::Admit {
            key,
            name,
            role,
            territories,
        } => {
            let territories = if territories.is_empty() {
                String::new()
            } else {
                format!(", {}", territories.join(","))
            };
            let key = key.short();
            tr!(
                "admettre {name:?} ({role}{territories}) avec la clé {key}",
                "admit {name:?} ({role}{territories}) with key {key}"
            )
        }
        C::Remove { member, last_seq } => {
            let member = member.short();
            tr!(
                "retirer {member} après sa position {last_seq}",
                "remove {member} after its seq {last_seq}"
            )
        }
        C::Move {
            from,
            to,
            territories,
        } => {
            let (territories, from, to) = (territories.join(","), from.short(), to.short());
            tr!(
                "déplacer {territories} de {from} à {to}",
                "move {territories} from {from} to {to}"
            )
        }
        C::Threshold { threshold } => tr!(
            "fixer le seuil à {threshold}",
            "set the threshold to {threshold}"
        ),
        C::Succession {
            member,
            last_seq,
            successor,
            branch,
        } => {
            let (member, successor) = (member.short(), successor.short());
            let branch = branch.map_or(String::new(), |b| {
                let b = b.short();
                tr!(" (branche {b})", " (branch {b})")
            });
            tr!(
                "clé {member} remplacée par {successor} après sa position {last_seq}{branch}",
                "key {member} succeeded by {successor} after its seq {last_seq}{branch}"
            )
        }
        C::Protocol { version, switches } => {
            let switches = switches
                .iter()
                .map(|(key, from)| {
                    let key = key.short();
                    tr!("{key} dès sa position {from}", "{key} from seq {from}")
                })
                .collect::<Vec<_>>()
                .join(", ");
            tr!(
                "passer au protocole v{version} : {switches}",
                "move to protocol v{version}: {switches}"
            )
        }
    }
}

pub(super) fn verified(out: &mut String, r: &maillage_app::request::VerifyView) -> Result<u8> {
    let (feeds, events, signatures, forks) = (r.feeds, r.events, r.signatures, r.forks.len());
    writeln!(
        out,
        "{}",
        tr!(
            "{feeds} flux, {events} événements, {signatures} signatures vérifiées (Ed25519 strict), {forks} preuves de bifurcation",
            "{feeds} feeds, {events} events, {signatures} signatures verified (strict Ed25519), {forks} fork proofs"
        )
    )?;
    for (author, seq, first, second) in &r.forks {
        match r.resolved.iter().find(|(a, _, _)| a == author) {
            Some((_, last, branch)) => writeln!(
                out,
                "  {}",
                tr!(
                    "BIFURCATION : le flux {author} a signé deux versions à la position {seq} ({first} contre {second}) ; résolue par un amendement à la charte : la branche passant par {branch} est retenue jusqu'à la position {last}",
                    "FORK: feed {author} signed two versions at seq {seq} ({first} vs {second}); resolved by a charter amendment: the branch through {branch} stands up to seq {last}"
                )
            )?,
            None => {
                let frozen = seq - 1;
                writeln!(
                    out,
                    "  {}",
                    tr!(
                        "BIFURCATION : le flux {author} a signé deux versions à la position {seq} ({first} contre {second}) ; gelé à la position {frozen}",
                        "FORK: feed {author} signed two versions at seq {seq} ({first} vs {second}); frozen at seq {frozen}"
                    )
                )?
            }
        }
    }
    let unresolved = r
        .forks
        .iter()
        .filter(|(a, _, _, _)| !r.resolved.iter().any(|(b, _, _)| b == a))
        .count();
    for (author, from, until, reason) in &r.damaged {
        let served = from - 1;
        writeln!(
            out,
            "  {}",
            tr!(
                "ABÎMÉ : le flux {author} positions {from}..={until} n'a pu être relu ou vérifié ({reason}) ; servi jusqu'à la position {served} en attendant que les pairs les renvoient",
                "DAMAGED: feed {author} seq {from}..={until} could not be read back or verified ({reason}); served up to seq {served} until peers send them again"
            )
        )?;
    }
    match &r.broken {
        None if r.damaged.is_empty() && unresolved == 0 => {
            writeln!(
                out,
                "{}",
                t(
                    "OK : chaque signature et chaque chaîne se vérifient",
                    "OK: every signature and every chain verifies"
                )
            )?;
            Ok(0)
        }
        None if r.damaged.is_empty() => {
            writeln!(
                out,
                "{}",
                tr!(
                    "BIFURQUÉ : {unresolved} flux ont signé deux événements à une même position et sont gelés ; chaque signature et chaque chaîne stockées se vérifient",
                    "FORKED: {unresolved} feed(s) signed two events at one position and are frozen; every stored signature and chain verifies"
                )
            )?;
            Ok(2)
        }
        None => {
            let n = r.damaged.len();
            writeln!(
                out,
                "{}",
                tr!(
                    "ABÎMÉ : {n} flux abîmé(s) sur le disque ; ce qui est servi se vérifie",
                    "DAMAGED: {n} feed(s) damaged on disk; what is served verifies"
                )
            )?;
            Ok(2)
        }
        Some((author, seq, reason)) => {
            writeln!(
                out,
                "{}",
                tr!(
                    "CASSÉ : flux {author} position {seq} : {reason}",
                    "BROKEN: feed {author} seq {seq}: {reason}"
                )
            )?;
            Ok(2)
        }
    }
}
