//! The node's views (venues, vouchers, batches, referrals, parcours, figures, digest, status
//! of the log) as text for people and JSON for scripts.

use maillage_core::vocab::labels_of;

use super::*;

pub(super) fn venues_imported(
    out: &mut String,
    command: &Command,
    r: &VenuesImported,
    json: bool,
) -> Result<()> {
    let report_path = match command {
        Command::Venues(VenuesCommand::Import { report, .. }) => report.clone(),
        _ => None,
    };
    if let (Some(path), Some(csv)) = (&report_path, &r.report_csv) {
        crate::files::write_new(path, csv)?;
    }
    if json {
        pretty(out, &r.counts)?;
        return Ok(());
    }
    let c = &r.counts;
    writeln!(
        out,
        "{}: {} rows ({}) for hub {:?} ({})",
        r.source,
        c.rows,
        r.format,
        r.hub,
        r.territories.join(",")
    )?;
    for note in &r.notes {
        writeln!(out, "  note: {note}")?;
    }
    let verb = if r.dry_run {
        "would import"
    } else {
        "imported"
    };
    writeln!(out, "  {verb:<12} {:>6}  new venues", c.imported)?;
    writeln!(out, "  {:<12} {:>6}  changed venues", "updated", c.updated)?;
    writeln!(
        out,
        "  {:<12} {:>6}  already up to date",
        "unchanged", c.unchanged
    )?;
    writeln!(out, "  {:<12} {:>6}  rows", "rejected", c.rejected)?;
    writeln!(
        out,
        "  {} accepted rows carry warnings; {} declare Pass numérique/APTIC (qualify them before they redeem vouchers)",
        c.with_warnings, c.declares_pass_numerique
    )?;
    if !r.top_rejections.is_empty() {
        writeln!(out, "top rejection reasons:")?;
        for reason in &r.top_rejections {
            writeln!(out, "  {reason}")?;
        }
    }
    if !r.top_warnings.is_empty() {
        writeln!(out, "top warnings:")?;
        for reason in &r.top_warnings {
            writeln!(out, "  {reason}")?;
        }
    }
    if !r.rejected_rows.is_empty() {
        writeln!(
            out,
            "rejected rows{}:",
            if c.rejected > r.rejected_rows.len() {
                format!(" (first {})", r.rejected_rows.len())
            } else {
                String::new()
            }
        )?;
        for row in &r.rejected_rows {
            writeln!(out, "  {row}")?;
        }
    }
    for refusal in &r.refused {
        writeln!(out, "  not signed, refused by the rules: {refusal}")?;
    }
    match &report_path {
        Some(path) => writeln!(
            out,
            "full report (every rejected row and warning): {}",
            path.display()
        )?,
        None if c.rejected > 0 || c.with_warnings > 0 => {
            writeln!(
                out,
                "(--report FILE writes every rejected row and warning as CSV)"
            )?;
        }
        None => {}
    }
    if !r.dry_run {
        writeln!(
            out,
            "{} events appended; this hub's feed is at seq {}",
            c.events_appended, r.feed_seq
        )?;
    }
    Ok(())
}

pub(super) fn log_imported(
    out: &mut String,
    command: &Command,
    report: &LogImported,
    json: bool,
) -> Result<()> {
    if json {
        return pretty(out, report);
    }
    let file = match command {
        Command::Log(LogCommand::Import { file, .. }) => file.display().to_string(),
        _ => String::new(),
    };
    writeln!(
        out,
        "{file}: {} events: {} stored, {} duplicate, {} gap, {} fork, {} frozen",
        report.events, report.stored, report.duplicate, report.gap, report.fork, report.frozen
    )?;
    if report.fork > 0 {
        writeln!(
            out,
            "WARNING: a hub signed two versions of its log; its feed is frozen (see `maillage log verify`)"
        )?;
    }
    Ok(())
}

/// A venue in JSON (the record's fields under `record`).
pub fn venue_json(v: &VenueView) -> serde_json::Value {
    json!({
        "venue_id": v.venue_id,
        "departement": v.departement,
        "hub": v.hub,
        "closed": v.closed,
        "updates": v.updates,
        "last_event": v.last_event,
        "record": v.record,
    })
}

pub(super) fn venue_list(
    out: &mut String,
    venues: &[VenueView],
    limit: usize,
    json: bool,
) -> Result<()> {
    let shown: Vec<&VenueView> = venues.iter().take(limit).collect();
    if json {
        let list: Vec<serde_json::Value> = shown.iter().map(|v| venue_json(v)).collect();
        return pretty(out, &list);
    }
    writeln!(
        out,
        "{:<22} {:<4} {:<24} NAME",
        "VENUE ID", "DEP", "COMMUNE"
    )?;
    for v in &shown {
        let name: String = v.record.nom.chars().take(60).collect();
        let commune: String = v.record.commune.chars().take(24).collect();
        let closed = if v.closed.is_some() { " (closed)" } else { "" };
        writeln!(
            out,
            "{:<22} {:<4} {:<24} {name}{closed}",
            v.venue_id, v.departement, commune
        )?;
    }
    writeln!(out, "{} of {} venues shown", shown.len(), venues.len())?;
    Ok(())
}

pub(super) fn venue_detail(out: &mut String, v: &VenueView) -> Result<()> {
    let r = &v.record;
    writeln!(out, "{} — {}", v.venue_id, r.nom)?;
    if let Some(reason) = &v.closed {
        writeln!(out, "  CLOSED: {reason}")?;
    }
    let coordinates = match (&r.latitude, &r.longitude) {
        (Some(lat), Some(lon)) => format!("{lat}, {lon}"),
        _ => String::new(),
    };
    let lines: [(&str, String); 14] = [
        ("source id", r.id.clone()),
        ("hub", v.hub_name.clone()),
        ("département", v.departement.clone()),
        ("pivot", r.pivot.clone()),
        (
            "address",
            format!(
                "{} {} {} {}",
                r.adresse, r.complement_adresse, r.code_postal, r.commune
            ),
        ),
        ("code INSEE", r.code_insee.clone()),
        ("coordinates", coordinates),
        ("services", r.services.join(" | ")),
        ("opening hours", r.horaires.clone()),
        ("phone", r.telephone.join(", ")),
        ("e-mail", r.courriels.join(", ")),
        ("web", r.site_web.join(", ")),
        ("fees", r.frais_a_charge.join(", ")),
        ("updated (source)", r.date_maj.clone()),
    ];
    for (label, value) in lines {
        if !value.trim().is_empty() {
            writeln!(out, "  {label:<17} {}", value.trim())?;
        }
    }
    let mut typologie = r.typologie.clone();
    typologie.sort();
    typologie.dedup();
    if !typologie.is_empty() {
        writeln!(out, "  {:<17} {}", "typologie", typologie.join(", "))?;
    }
    if !r.presentation_resume.is_empty() {
        writeln!(out, "  {:<17} {}", "summary", r.presentation_resume)?;
    }
    if let Some(until) = &v.qualified_until {
        writeln!(
            out,
            "  {:<17} qualified for vouchers until {until}",
            "vouchers"
        )?;
    }
    writeln!(
        out,
        "  {:<17} {} (updates: {})",
        "last event", v.last_event, v.updates
    )?;
    Ok(())
}

pub(super) fn file_out(out: &mut String, command: &Command, file: &FileBytes) -> Result<()> {
    match command {
        Command::Venues(VenuesCommand::Export {
            out: Some(path), ..
        }) => {
            crate::files::write_new(path, &file.content)?;
            writeln!(
                out,
                "{} venues written to {} (national standard v1 CSV)",
                file.items,
                path.display()
            )?;
        }
        Command::Venues(VenuesCommand::Export { out: None, .. }) => {
            use std::io::Write;
            std::io::stdout().lock().write_all(&file.content)?;
        }
        Command::Log(LogCommand::Export { file: path }) => {
            crate::files::write_new(path, &file.content)?;
            writeln!(
                out,
                "{} {} written to {}",
                file.items,
                file.items_are,
                path.display()
            )?;
        }
        _ => anyhow::bail!("internal error: a file answered a command that writes none"),
    }
    Ok(())
}

pub(super) fn voucher_status(out: &mut String, v: &VoucherView, json: bool) -> Result<()> {
    if json {
        return pretty(
            out,
            &json!({
                "serial": v.serial,
                "status": v.status.as_str(),
                "owner": v.owner,
                "owner_name": v.owner_name,
                "person": v.person.map(|p| p.code()),
                "redemption": v.redemption,
                "settled": v.settled,
                "claims": v.claims,
                "as_of": v.as_of,
            }),
        );
    }
    writeln!(
        out,
        "voucher {}: {} (as of {}), owned by {}",
        v.serial,
        v.status.as_str(),
        v.as_of,
        v.owner_name
    )?;
    if let Some(p) = v.person {
        writeln!(out, "  held by {p}")?;
    }
    if let Some(r) = &v.redemption {
        writeln!(
            out,
            "  redeemed at {} for {:?} on {}{}",
            v.redemption_venue.clone().unwrap_or_default(),
            r.service,
            r.date,
            if v.settled { ", settled" } else { "" }
        )?;
    }
    for (c, claimant) in v.claims.iter().zip(&v.claimants) {
        let answer = match c.accepted {
            None => "pending".to_owned(),
            Some(true) => "accepted".to_owned(),
            Some(false) => format!("rejected: {}", c.rejection.clone().unwrap_or_default()),
        };
        writeln!(
            out,
            "  claim {} by {claimant} at {} on {}: {answer}",
            c.event.short(),
            c.venue_id,
            c.date
        )?;
    }
    Ok(())
}

pub(super) fn batch_status(out: &mut String, b: &BatchView, json: bool) -> Result<()> {
    if json {
        let counts: serde_json::Map<String, serde_json::Value> = b
            .counts
            .iter()
            .map(|(s, n)| (s.as_str().to_owned(), json!(n)))
            .collect();
        return pretty(
            out,
            &json!({ "batch": b.batch, "as_of": b.as_of, "counts": counts }),
        );
    }
    writeln!(
        out,
        "batch {}: {} voucher(s) of {} funded by {} (issued by {}), redeemable until {}\nas of {}:",
        b.batch.batch_id,
        b.batch.count,
        euros(b.batch.face_value_cents),
        b.batch.funder,
        b.issuer_name,
        b.batch.redeem_deadline,
        b.as_of
    )?;
    for (status, n) in &b.counts {
        writeln!(out, "  {:<11} {n}", status.as_str())?;
    }
    Ok(())
}

pub(super) fn referral_view(out: &mut String, v: &ReferralView, json: bool) -> Result<()> {
    let r = &v.referral;
    if json {
        return pretty(
            out,
            &json!({ "referral": r, "status": v.status, "as_of": v.as_of }),
        );
    }
    writeln!(
        out,
        "referral {}: {} (as of {})\n  person {}\n  opened on {} by {} ({}) at hub {}\n  needs: {}\n  handled by {} (territory {})",
        r.referral_id,
        v.status,
        v.as_of,
        r.person.map_or_else(
            || "(no link held on this node)".to_owned(),
            |p| p.to_string()
        ),
        r.opened_on,
        r.prescriber_name,
        r.prescriber_kind,
        v.opened_by_name,
        labels_of(&r.needs).join(", "),
        v.handler_name,
        r.target_territory
    )?;
    if let Some(target) = &v.target_venue {
        writeln!(out, "  target venue {target}")?;
    }
    if v.status == "open" || v.status == "expired" {
        writeln!(out, "  expires on {}", r.expires_on)?;
    }
    if let Some(accepted_on) = r.accepted_on {
        writeln!(
            out,
            "  accepted on {} at {}",
            accepted_on,
            v.accepted_venue.clone().unwrap_or_default()
        )?;
    }
    Ok(())
}

pub(super) fn parcours_view(out: &mut String, p: &ParcoursView, json: bool) -> Result<()> {
    if p.forgotten {
        if json {
            return pretty(
                out,
                &json!({ "person": p.person.code(), "forgotten": true }),
            );
        }
        writeln!(
            out,
            "person {} asked to be forgotten: no parcours is kept (anonymous counts only)",
            p.person
        )?;
        return Ok(());
    }
    if json {
        return pretty(
            out,
            &json!({
                "person": p.person.code(),
                "as_of": p.as_of,
                "timeline": p.timeline.iter().map(|s| json!({
                    "at": s.at, "hub": s.hub, "kind": s.kind, "summary": s.summary, "event": s.event,
                })).collect::<Vec<_>>(),
                "referrals": p.referrals.iter().map(|r| json!({
                    "referral_id": r.referral_id, "status": r.status, "expires_on": r.expires_on, "handler": r.handler,
                })).collect::<Vec<_>>(),
                "vouchers": { "held": p.held, "used": p.used, "expired": p.expired, "cancelled": p.cancelled },
                "venues": p.venue_ids,
                "hubs": p.hubs,
            }),
        );
    }
    writeln!(
        out,
        "parcours of {} ({} step(s), all hubs)",
        p.person,
        p.timeline.len()
    )?;
    let hub_width = p
        .timeline
        .iter()
        .map(|t| t.hub.chars().count())
        .max()
        .unwrap_or(0);
    for t in &p.timeline {
        writeln!(
            out,
            "  {}  {:<hub_width$} {:<22} {}",
            t.at, t.hub, t.kind, t.summary
        )?;
    }
    writeln!(out, "as of {}:", p.as_of)?;
    if p.referrals.is_empty() {
        writeln!(out, "  referrals: none in progress")?;
    }
    for r in &p.referrals {
        let exp = if r.status == "accepted" {
            String::new()
        } else {
            format!(", expires on {}", r.expires_on)
        };
        writeln!(
            out,
            "  referral {}: {} (handled by {}{exp})",
            r.referral_id, r.status, r.handler
        )?;
    }
    writeln!(
        out,
        "  vouchers: {} held, {} used, {} expired, {} cancelled",
        p.held.len(),
        p.used.len(),
        p.expired.len(),
        p.cancelled.len()
    )?;
    if !p.held.is_empty() {
        writeln!(out, "    held: {}", p.held.join(", "))?;
    }
    if !p.used.is_empty() {
        writeln!(out, "    used: {}", p.used.join(", "))?;
    }
    writeln!(
        out,
        "  venues: {}",
        if p.venues.is_empty() {
            "none".into()
        } else {
            p.venues.join("; ")
        }
    )?;
    writeln!(out, "  hubs involved: {}", p.hubs.join(", "))?;
    Ok(())
}

pub(super) fn percent(rate: Option<f64>) -> String {
    rate.map_or_else(|| "—".into(), |r| format!("{:.0} %", r * 100.0))
}

/// The figures as text, in French (the coordinators' language), with the indicators.
pub fn stats_text(stats: &Stats) -> String {
    let day = crate::lang::date_fr(&stats.as_of);
    let mut out = format!("chiffres nationaux au {day}\n\nPass numériques\n");
    out.push_str(&format!(
        "  {:<20} {:<28} {:>7} {:>8} {:>8} {:>8} {:>8} {:>6} {:>12}\n",
        "HUB ÉMETTEUR",
        "FINANCEUR",
        "ÉMIS",
        "REMIS",
        "UTILISÉS",
        "EXPIRÉS",
        "ANNULÉS",
        "USAGE",
        "RÉGLÉ"
    ));
    for line in stats.vouchers.iter().chain([&stats.total]) {
        let (hub, funder) = if std::ptr::eq(line, &stats.total) {
            ("tous les hubs", "tous les financeurs")
        } else {
            (line.hub.as_str(), line.funder.as_str())
        };
        out.push_str(&format!(
            "  {:<20} {:<28} {:>7} {:>8} {:>8} {:>8} {:>8} {:>6} {:>12}\n",
            hub,
            funder,
            line.issued,
            line.handed_out,
            line.redeemed,
            line.expired,
            line.cancelled,
            percent(line.usage_rate),
            euros(line.settled_cents)
        ));
    }
    let t = &stats.total;
    out.push_str(&format!(
        "  total : {} émis, {} remis, {} utilisés, taux d'usage {}\n",
        t.issued,
        t.handed_out,
        t.redeemed,
        percent(t.usage_rate)
    ));
    let r = &stats.referrals;
    out.push_str(&format!(
        "\norientations : {} ouvertes, {} expirées, {} acceptées, {} refusées, {} terminées, {} absences, {} abandons\n",
        r.open, r.expired, r.accepted, r.declined, r.completed, r.no_show, r.abandoned
    ));
    out.push_str(&format!(
        "  délai médian entre ouverture et acceptation : {}\n",
        r.median_days_to_accept
            .map_or_else(|| "—".into(), |d| format!("{d} j"))
    ));
    out.push_str("\nlieux par département (qualifié = qualification valide ce jour-là)\n");
    for v in &stats.venues {
        out.push_str(&format!(
            "  {:<28} {:<24} {:>5} lieux, {:>4} qualifiés\n",
            maillage_core::territory::departement_label(&v.departement),
            v.hub,
            v.venues,
            v.qualified
        ));
    }
    out.push_str(&super::indicators::indicators_text(&stats.indicators));
    out
}

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
    writeln!(out, "digest {digest}")?;
    for a in &d.applied {
        writeln!(
            out,
            "  {:<24} {} {} event(s) applied",
            a.name,
            a.hub.short(),
            a.events
        )?;
    }
    if d.pending > 0 {
        writeln!(out, "  {} event(s) wait for their causal past", d.pending)?;
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
    writeln!(
        out,
        "{} event(s) kept in the log without effect (domain rules)",
        list.len()
    )?;
    for r in list {
        writeln!(
            out,
            "  {} {:<16} seq {:<6} [{}] {}",
            r.event.short(),
            r.name,
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
        format!(", {} amendment(s) in effect", c.amendments_in_effect)
    };
    writeln!(
        out,
        "federation {:?} (protocol v{}, admission threshold {}{amended})",
        c.name, c.protocol_version, c.admission_threshold
    )?;
    for m in &c.members {
        let status = if m.status.is_empty() || m.status == "present" {
            String::new()
        } else {
            format!("  [{}]", m.status)
        };
        writeln!(
            out,
            "  {:<8} {:<32} {}  {}{status}",
            m.role,
            m.name,
            m.key,
            m.territories.join(",")
        )?;
        for old in &m.former_keys {
            writeln!(out, "           former key {old}")?;
        }
    }
    if !c.amendments.is_empty() {
        writeln!(out, "\namendments:")?;
        for a in &c.amendments {
            writeln!(
                out,
                "  {} #{} {} — {} (proposed by {}; endorsed by {}) {}",
                a.proposal.short(),
                a.number,
                change_text(&a.change),
                a.reason,
                a.proposer,
                a.endorsers.join(", "),
                if a.in_effect { "IN EFFECT" } else { "pending" }
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
        } => format!(
            "admit {name:?} ({role}{}) with key {}",
            if territories.is_empty() {
                String::new()
            } else {
                format!(", {}", territories.join(","))
            },
            key.short()
        ),
        C::Remove { member, last_seq } => {
            format!("remove {} after its seq {last_seq}", member.short())
        }
        C::Move {
            from,
            to,
            territories,
        } => format!(
            "move {} from {} to {}",
            territories.join(","),
            from.short(),
            to.short()
        ),
        C::Threshold { threshold } => format!("set the threshold to {threshold}"),
        C::Succession {
            member,
            last_seq,
            successor,
            branch,
        } => format!(
            "key {} succeeded by {} after its seq {last_seq}{}",
            member.short(),
            successor.short(),
            branch.map_or(String::new(), |b| format!(" (branch {})", b.short()))
        ),
    }
}

pub(super) fn verified(out: &mut String, r: &maillage_app::request::VerifyView) -> Result<u8> {
    writeln!(
        out,
        "{} feeds, {} events, {} signatures verified (strict Ed25519), {} fork proofs",
        r.feeds,
        r.events,
        r.signatures,
        r.forks.len()
    )?;
    for (author, seq, first, second) in &r.forks {
        match r.resolved.iter().find(|(a, _, _)| a == author) {
            Some((_, last, branch)) => writeln!(
                out,
                "  FORK: feed {author} signed two versions at seq {seq} ({first} vs {second}); resolved by a charter amendment: the branch through {branch} stands up to seq {last}"
            )?,
            None => writeln!(
                out,
                "  FORK: feed {author} signed two versions at seq {seq} ({first} vs {second}); frozen at seq {}",
                seq - 1
            )?,
        }
    }
    let unresolved = r
        .forks
        .iter()
        .filter(|(a, _, _, _)| !r.resolved.iter().any(|(b, _, _)| b == a))
        .count();
    for (author, from, until, reason) in &r.damaged {
        writeln!(
            out,
            "  DAMAGED: feed {author} seq {from}..={until} could not be read back or verified ({reason}); served up to seq {} until peers send them again",
            from - 1
        )?;
    }
    match &r.broken {
        None if r.damaged.is_empty() && unresolved == 0 => {
            writeln!(out, "OK: every signature and every chain verifies")?;
            Ok(0)
        }
        None if r.damaged.is_empty() => {
            writeln!(
                out,
                "FORKED: {unresolved} feed(s) signed two events at one position and are frozen; every stored signature and chain verifies"
            )?;
            Ok(2)
        }
        None => {
            writeln!(
                out,
                "DAMAGED: {} feed(s) damaged on disk; what is served verifies",
                r.damaged.len()
            )?;
            Ok(2)
        }
        Some((author, seq, reason)) => {
            writeln!(out, "BROKEN: feed {author} seq {seq}: {reason}")?;
            Ok(2)
        }
    }
}
