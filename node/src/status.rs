//! `maillage status`: the node, its feeds, its peers (when it serves) and what it refused.

use std::fmt::Write as _;

use anyhow::Result;
use maillage_app::views::StatusView;
use serde_json::json;

/// Prints a node's status.
pub fn render(out: &mut String, status: &StatusView, json: bool) -> Result<()> {
    let serving = status.replication.is_some();
    if json {
        writeln!(out, "{}", serde_json::to_string_pretty(&to_json(status))?)?;
        return Ok(());
    }
    writeln!(
        out,
        "node {} ({}, {}){}",
        status.node.short(),
        status.name,
        status.role,
        if serving {
            ""
        } else {
            " — not serving: peer links unknown"
        }
    )?;
    writeln!(out, "digest {}", hex::encode(status.digest))?;
    if let Some(replication) = &status.replication {
        match &replication.http {
            None => writeln!(out, "http: off (dashboard and metrics not served)")?,
            Some(http) => writeln!(
                out,
                "http: dashboard http://{http}/  metrics http://{http}/metrics"
            )?,
        }
    }
    writeln!(
        out,
        "{} events stored, {} pending, {} rejected by domain rules",
        status.events_stored, status.events_pending, status.domain_rejections
    )?;
    writeln!(out, "\nfeeds:")?;
    for feed in &status.feeds {
        let mut notes = String::new();
        if let Some(seq) = feed.fork_seq {
            notes.push_str(&format!("  FROZEN: fork at seq {seq}"));
        }
        if let (Some(from), Some(until)) = (feed.damaged_from, feed.damaged_until) {
            notes.push_str(&format!(
                "  DAMAGED ON DISK: seq {from}..={until} to fetch again from peers"
            ));
        }
        if feed.clock_ahead_ms > maillage_core::hlc::MAX_AHEAD_MS_DEFAULT {
            notes.push_str(&format!(
                "  CLOCK AHEAD: last event dated {} s ahead of this machine",
                feed.clock_ahead_ms / 1000
            ));
        }
        writeln!(
            out,
            "  {:<40} seq {:>8}  folded {:>8}{notes}",
            feed.name, feed.seq, feed.applied,
        )?;
    }
    if let Some(replication) = &status.replication {
        writeln!(out, "\npeers:")?;
        if replication.peers.is_empty() {
            writeln!(out, "  (none)")?;
        }
        for peer in &replication.peers {
            let lag = peer
                .lags
                .iter()
                .fold(0u64, |sum, (_, _, lag)| sum.saturating_add(*lag));
            writeln!(
                out,
                "  {:<28} {:<24} {:<16} received {:>8} rejected {:>4} lag {:>6}{}",
                peer.address,
                peer.name,
                peer.state,
                peer.events_received,
                peer.events_rejected,
                lag,
                if peer.last_error.is_empty() {
                    String::new()
                } else {
                    format!("  last error: {}", peer.last_error)
                }
            )?;
            if !peer.incompatible.is_empty() {
                writeln!(
                    out,
                    "    INCOMPATIBLE PROTOCOL: {}; the link retries slowly until one side upgrades maillage",
                    peer.incompatible
                )?;
            }
            for u in &peer.unsupported {
                writeln!(out, "    UNSUPPORTED PROTOCOL: {}", u.message)?;
            }
        }
        if !replication.rejected_from_peers.is_empty() {
            writeln!(out, "\nrecent events rejected from peers:")?;
            for r in &replication.rejected_from_peers {
                writeln!(out, "  from {}: {}", r.peer, r.reason)?;
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
