//! `maillage status`: the node, its feeds, its peers (when it serves) and what it refused.

use std::fmt::Write as _;

use anyhow::Result;
use maillage_app::views::StatusView;
use maillage_core::tr;
use serde_json::json;

use crate::lang::{Lang, t};

/// Prints a node's status.
pub fn render(out: &mut String, status: &StatusView, json: bool) -> Result<()> {
    let serving = status.replication.is_some();
    if json {
        writeln!(out, "{}", serde_json::to_string_pretty(&to_json(status))?)?;
        return Ok(());
    }
    let (node, name) = (status.node.short(), &status.name);
    let role = match (crate::lang::current(), status.role.as_str()) {
        (Lang::Fr, "observer") => "observateur",
        (_, role) => role,
    };
    let serving_note = if serving {
        ""
    } else {
        t(
            " — ne sert pas : liens avec les pairs inconnus",
            " — not serving: peer links unknown",
        )
    };
    writeln!(
        out,
        "{}",
        tr!(
            "nœud {node} ({name}, {role}){serving_note}",
            "node {node} ({name}, {role}){serving_note}"
        )
    )?;
    writeln!(
        out,
        "{} {}",
        t("empreinte", "digest"),
        hex::encode(status.digest)
    )?;
    if let Some(replication) = &status.replication {
        match &replication.http {
            None => writeln!(
                out,
                "{}",
                t(
                    "http : désactivé (ni tableau de bord ni métriques)",
                    "http: off (dashboard and metrics not served)"
                )
            )?,
            Some(http) => writeln!(
                out,
                "{}",
                tr!(
                    "http : tableau de bord http://{http}/  métriques http://{http}/metrics",
                    "http: dashboard http://{http}/  metrics http://{http}/metrics"
                )
            )?,
        }
    }
    let (stored, pending, rejected) = (
        status.events_stored,
        status.events_pending,
        status.domain_rejections,
    );
    writeln!(
        out,
        "{}",
        tr!(
            "{stored} événements stockés, {pending} en attente, {rejected} rejetés par les règles métier",
            "{stored} events stored, {pending} pending, {rejected} rejected by domain rules"
        )
    )?;
    writeln!(out, "\n{}", t("flux :", "feeds:"))?;
    for feed in &status.feeds {
        let mut notes = String::new();
        if let Some(seq) = feed.fork_seq {
            notes.push_str(&tr!(
                "  GELÉ : bifurcation à la position {seq}",
                "  FROZEN: fork at seq {seq}"
            ));
        }
        if let (Some(from), Some(until)) = (feed.damaged_from, feed.damaged_until) {
            notes.push_str(&tr!(
                "  ABÎMÉ SUR LE DISQUE : positions {from}..={until} à redemander aux pairs",
                "  DAMAGED ON DISK: seq {from}..={until} to fetch again from peers"
            ));
        }
        if feed.clock_ahead_ms > maillage_core::hlc::MAX_AHEAD_MS_DEFAULT {
            let secs = feed.clock_ahead_ms / 1000;
            notes.push_str(&tr!(
                "  HORLOGE EN AVANCE : dernier événement daté de {secs} s plus tard que l'horloge de cette machine",
                "  CLOCK AHEAD: last event dated {secs} s ahead of this machine"
            ));
        }
        writeln!(
            out,
            "  {:<40} {} {:>8}  {} {:>8}{notes}",
            feed.name,
            t("pos.", "seq"),
            feed.seq,
            t("replié", "folded"),
            feed.applied,
        )?;
    }
    if let Some(replication) = &status.replication {
        writeln!(out, "\n{}", t("pairs :", "peers:"))?;
        if replication.peers.is_empty() {
            writeln!(out, "  {}", t("(aucun)", "(none)"))?;
        }
        for peer in &replication.peers {
            let lag = peer
                .lags
                .iter()
                .fold(0u64, |sum, (_, _, lag)| sum.saturating_add(*lag));
            writeln!(
                out,
                "  {:<28} {:<24} {:<16} {} {:>8} {} {:>4} {} {:>6}{}",
                peer.address,
                peer.name,
                peer.state,
                t("reçus", "received"),
                peer.events_received,
                t("rejetés", "rejected"),
                peer.events_rejected,
                t("retard", "lag"),
                lag,
                if peer.last_error.is_empty() {
                    String::new()
                } else {
                    format!(
                        "  {} {}",
                        t("dernière erreur :", "last error:"),
                        peer.last_error
                    )
                }
            )?;
            if !peer.incompatible.is_empty() {
                let incompatible = &peer.incompatible;
                writeln!(
                    out,
                    "    {}",
                    tr!(
                        "PROTOCOLE INCOMPATIBLE : {incompatible} ; le lien réessaie lentement jusqu'à ce qu'un côté mette maillage à jour",
                        "INCOMPATIBLE PROTOCOL: {incompatible}; the link retries slowly until one side upgrades maillage"
                    )
                )?;
            }
            for u in &peer.unsupported {
                writeln!(
                    out,
                    "    {} {}",
                    t("PROTOCOLE NON PRIS EN CHARGE :", "UNSUPPORTED PROTOCOL:"),
                    u.message
                )?;
            }
            if peer.last_contact_ms > 0 {
                writeln!(
                    out,
                    "    {} {}",
                    t("dernier contact :", "last contact:"),
                    crate::lang::paris_time(peer.last_contact_ms)
                )?;
            }
        }
        if !replication.rejected_from_peers.is_empty() {
            writeln!(
                out,
                "\n{}",
                t(
                    "événements récemment rejetés venant des pairs :",
                    "recent events rejected from peers:"
                )
            )?;
            for r in &replication.rejected_from_peers {
                let (peer, reason) = (&r.peer, &r.reason);
                writeln!(
                    out,
                    "  {}",
                    tr!("de {peer} : {reason}", "from {peer}: {reason}")
                )?;
            }
        }
    }
    Ok(())
}

/// The status as JSON.
pub fn to_json(status: &StatusView) -> serde_json::Value {
    let replication = status.replication.clone().unwrap_or_default();
    json!({
        "node": status.node,
        "name": status.name,
        "role": status.role,
        "serving": status.replication.is_some(),
        "digest": hex::encode(status.digest),
        "events_stored": status.events_stored,
        "events_pending": status.events_pending,
        "domain_rejections": status.domain_rejections,
        "uptime_ms": replication.uptime_ms,
        "http": replication.http,
        "feeds": status.feeds.iter().map(|f| json!({
            "author": f.author, "name": f.name, "seq": f.seq,
            "head": f.head.map(|h| h.to_hex()).unwrap_or_default(), "applied": f.applied,
            "frozen": f.fork_seq.is_some(), "fork_seq": f.fork_seq.unwrap_or(0),
            "clock_ahead_ms": f.clock_ahead_ms,
            "damaged_from": f.damaged_from,
            "damaged_until": f.damaged_until,
        })).collect::<Vec<_>>(),
        "peers": replication.peers.iter().map(|p| json!({
            "address": p.address, "key": p.key.map(|k| k.to_hex()).unwrap_or_default(), "name": p.name,
            "state": p.state, "last_error": p.last_error,
            "protocol_version": p.protocol_version, "incompatible": p.incompatible,
            "unsupported": p.unsupported.iter().map(|u| json!({
                "version": u.version,
                "author": u.author.map(|a| a.to_hex()).unwrap_or_default(),
                "from_seq": u.from_seq, "count": u.count, "message": u.message,
            })).collect::<Vec<_>>(),
            "events_received": p.events_received, "events_rejected": p.events_rejected,
            "last_contact_ms": p.last_contact_ms,
            "lag": p.lags.iter().map(|(author, peer_seq, lag)| json!({
                "author": author, "peer_seq": peer_seq, "lag": lag,
            })).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
        "rejected_from_peers": replication.rejected_from_peers.iter().map(|r| json!({
            "author": r.author.map(|a| a.to_hex()).unwrap_or_default(), "seq": r.seq, "peer": r.peer, "reason": r.reason,
        })).collect::<Vec<_>>(),
    })
}
