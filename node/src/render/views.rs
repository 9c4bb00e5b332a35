//! The node's views (venues, vouchers, batches, referrals, parcours, figures) as text for
//! people and JSON for scripts; the log and the federation are in `ledger.rs`.

use maillage_core::vocab::labels_of;

use super::*;

pub(super) fn venues_imported(
    out: &mut String,
    err: &mut String,
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
    let (source, rows, format, hub, territories) = (
        &r.source,
        c.rows,
        &r.format,
        &r.hub,
        r.territories.join(","),
    );
    writeln!(
        out,
        "{}",
        tr!(
            "{source} : {rows} lignes ({format}) pour le hub {hub:?} ({territories})",
            "{source}: {rows} rows ({format}) for hub {hub:?} ({territories})"
        )
    )?;
    for note in &r.notes {
        writeln!(out, "  {} {note}", t("note :", "note:"))?;
    }
    super::mapping::columns(out, r)?;
    let lines = [
        (
            if r.dry_run {
                t("importables", "would import")
            } else {
                t("importés", "imported")
            },
            c.imported,
            t("nouveaux lieux", "new venues"),
        ),
        (
            t("modifiés", "updated"),
            c.updated,
            t("lieux changés", "changed venues"),
        ),
        (
            t("inchangés", "unchanged"),
            c.unchanged,
            t("déjà à jour", "already up to date"),
        ),
        (t("rejetées", "rejected"), c.rejected, t("lignes", "rows")),
    ];
    for (verb, n, what) in lines {
        writeln!(out, "  {verb:<12} {n:>6}  {what}")?;
    }
    let (warned, declares) = (c.with_warnings, c.declares_pass_numerique);
    writeln!(
        out,
        "  {}",
        tr!(
            "{warned} lignes acceptées portent des avertissements ; {declares} déclarent Pass numérique/APTIC (qualifiez-les avant qu'ils encaissent des pass)",
            "{warned} accepted rows carry warnings; {declares} declare Pass numérique/APTIC (qualify them before they redeem vouchers)"
        )
    )?;
    if !r.top_rejections.is_empty() {
        writeln!(
            out,
            "{}",
            t(
                "motifs de rejet les plus fréquents :",
                "top rejection reasons:"
            )
        )?;
        for reason in &r.top_rejections {
            writeln!(out, "  {reason}")?;
        }
    }
    if !r.top_warnings.is_empty() {
        writeln!(
            out,
            "{}",
            t("avertissements les plus fréquents :", "top warnings:")
        )?;
        for reason in &r.top_warnings {
            writeln!(out, "  {reason}")?;
        }
    }
    if !r.rejected_rows.is_empty() {
        let first = r.rejected_rows.len();
        let heading = if c.rejected > first {
            tr!(
                "lignes rejetées (les {first} premières) :",
                "rejected rows (first {first}):"
            )
        } else {
            t("lignes rejetées :", "rejected rows:").to_owned()
        };
        writeln!(out, "{heading}")?;
        for row in &r.rejected_rows {
            writeln!(out, "  {row}")?;
        }
    }
    for refusal in &r.refused {
        writeln!(
            out,
            "  {} {refusal}",
            t(
                "non signé, refusé par les règles :",
                "not signed, refused by the rules:"
            )
        )?;
    }
    match &report_path {
        Some(path) => {
            let path = path.display();
            writeln!(
                out,
                "{}",
                tr!(
                    "rapport complet (chaque ligne rejetée et chaque avertissement) : {path}",
                    "full report (every rejected row and warning): {path}"
                )
            )?
        }
        None if c.rejected > 0 || c.with_warnings > 0 => {
            writeln!(
                err,
                "{}",
                t(
                    "(--report FICHIER écrit chaque ligne rejetée et chaque avertissement en CSV)",
                    "(--report FILE writes every rejected row and warning as CSV)"
                )
            )?;
        }
        None => {}
    }
    if !r.dry_run {
        let (appended, seq) = (c.events_appended, r.feed_seq);
        writeln!(
            out,
            "{}",
            tr!(
                "{appended} événements ajoutés ; le flux de ce hub est à la position {seq}",
                "{appended} events appended; this hub's feed is at seq {seq}"
            )
        )?;
    }
    Ok(())
}

pub(super) fn log_imported(
    out: &mut String,
    err: &mut String,
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
    let r = report;
    let (events, stored, duplicate, gap, fork, frozen) =
        (r.events, r.stored, r.duplicate, r.gap, r.fork, r.frozen);
    writeln!(
        out,
        "{}",
        tr!(
            "{file} : {events} événements : {stored} stockés, {duplicate} en double, {gap} après un trou, {fork} en bifurcation, {frozen} gelés",
            "{file}: {events} events: {stored} stored, {duplicate} duplicate, {gap} gap, {fork} fork, {frozen} frozen"
        )
    )?;
    if report.fork > 0 {
        writeln!(
            err,
            "{}",
            t(
                "ATTENTION : un hub a signé deux versions de son journal ; son flux est gelé (voir `maillage log verify`)",
                "WARNING: a hub signed two versions of its log; its feed is frozen (see `maillage log verify`)"
            )
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
        "{:<22} {:<4} {:<24} {}",
        t("ID LIEU", "VENUE ID"),
        "DEP",
        "COMMUNE",
        t("NOM", "NAME")
    )?;
    for v in &shown {
        let name: String = v.record.nom.chars().take(60).collect();
        let commune: String = v.record.commune.chars().take(24).collect();
        let closed = if v.closed.is_some() {
            t(" (fermé)", " (closed)")
        } else {
            ""
        };
        writeln!(
            out,
            "{:<22} {:<4} {:<24} {name}{closed}",
            v.venue_id, v.departement, commune
        )?;
    }
    let (n, total) = (shown.len(), venues.len());
    writeln!(
        out,
        "{}",
        tr!(
            "{n} lieux affichés sur {total}",
            "{n} of {total} venues shown"
        )
    )?;
    Ok(())
}

pub(super) fn venue_detail(out: &mut String, v: &VenueView) -> Result<()> {
    let r = &v.record;
    writeln!(out, "{} — {}", v.venue_id, r.nom)?;
    if let Some(reason) = &v.closed {
        writeln!(out, "  {} {reason}", t("FERMÉ :", "CLOSED:"))?;
    }
    let coordinates = match (&r.latitude, &r.longitude) {
        (Some(lat), Some(lon)) => format!("{lat}, {lon}"),
        _ => String::new(),
    };
    let lines: [(&str, String); 14] = [
        (t("id source", "source id"), r.id.clone()),
        ("hub", v.hub_name.clone()),
        ("département", v.departement.clone()),
        ("pivot", r.pivot.clone()),
        (
            t("adresse", "address"),
            format!(
                "{} {} {} {}",
                r.adresse, r.complement_adresse, r.code_postal, r.commune
            ),
        ),
        ("code INSEE", r.code_insee.clone()),
        (t("coordonnées", "coordinates"), coordinates),
        ("services", r.services.join(" | ")),
        (t("horaires", "opening hours"), r.horaires.clone()),
        (t("téléphone", "phone"), r.telephone.join(", ")),
        (t("courriel", "e-mail"), r.courriels.join(", ")),
        ("web", r.site_web.join(", ")),
        (t("frais", "fees"), r.frais_a_charge.join(", ")),
        (
            t("mis à jour (source)", "updated (source)"),
            r.date_maj.clone(),
        ),
    ];
    for (label, value) in lines {
        if !value.trim().is_empty() {
            writeln!(out, "  {label:<19} {}", value.trim())?;
        }
    }
    let mut typologie = r.typologie.clone();
    typologie.sort();
    typologie.dedup();
    if !typologie.is_empty() {
        writeln!(out, "  {:<19} {}", "typologie", typologie.join(", "))?;
    }
    if !r.presentation_resume.is_empty() {
        writeln!(
            out,
            "  {:<19} {}",
            t("présentation", "summary"),
            r.presentation_resume
        )?;
    }
    if let Some(until) = &v.qualified_until {
        writeln!(
            out,
            "  {:<19} {}",
            t("pass", "vouchers"),
            tr!(
                "qualifié pour les pass jusqu'au {until}",
                "qualified for vouchers until {until}"
            )
        )?;
    }
    let (last, updates) = (&v.last_event, v.updates);
    writeln!(
        out,
        "  {:<19} {}",
        t("dernier événement", "last event"),
        tr!(
            "{last} (mises à jour : {updates})",
            "{last} (updates: {updates})"
        )
    )?;
    Ok(())
}

pub(super) fn file_out(out: &mut String, command: &Command, file: &FileBytes) -> Result<()> {
    match command {
        Command::Venues(VenuesCommand::Export {
            out: Some(path), ..
        }) => {
            crate::files::write_new(path, &file.content)?;
            let (n, path) = (file.items, path.display());
            writeln!(
                out,
                "{}",
                tr!(
                    "{n} lieux écrits dans {path} (CSV du standard national v1)",
                    "{n} venues written to {path} (national standard v1 CSV)"
                )
            )?;
        }
        Command::Venues(VenuesCommand::Export { out: None, .. }) => {
            use std::io::Write;
            std::io::stdout().lock().write_all(&file.content)?;
        }
        Command::Log(LogCommand::Export { file: path }) => {
            crate::files::write_new(path, &file.content)?;
            let (n, what, path) = (file.items, &file.items_are, path.display());
            writeln!(
                out,
                "{}",
                tr!(
                    "{n} {what} écrits dans {path}",
                    "{n} {what} written to {path}"
                )
            )?;
        }
        _ => anyhow::bail!(
            "{}",
            t(
                "erreur interne : un fichier répond à une commande qui n'en écrit pas",
                "internal error: a file answered a command that writes none"
            )
        ),
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
    let (serial, status, as_of, owner) = (
        &v.serial,
        crate::lang::voucher_status(v.status.as_str()),
        &v.as_of,
        &v.owner_name,
    );
    writeln!(
        out,
        "{}",
        tr!(
            "pass {serial} : {status} (au {as_of}), propriété de {owner}",
            "voucher {serial}: {status} (as of {as_of}), owned by {owner}"
        )
    )?;
    if let Some(p) = v.person {
        writeln!(out, "  {}", tr!("détenu par {p}", "held by {p}"))?;
    }
    if let Some(r) = &v.redemption {
        let venue = v.redemption_venue.clone().unwrap_or_default();
        let (service, date) = (r.service.as_str(), &r.date);
        let settled = if v.settled {
            t(", réglé", ", settled")
        } else {
            ""
        };
        writeln!(
            out,
            "  {}",
            tr!(
                "utilisé à {venue} pour {service:?} le {date}{settled}",
                "redeemed at {venue} for {service:?} on {date}{settled}"
            )
        )?;
    }
    for (c, claimant) in v.claims.iter().zip(&v.claimants) {
        let answer = match c.accepted {
            None => t("en attente", "pending").to_owned(),
            Some(true) => t("acceptée", "accepted").to_owned(),
            Some(false) => {
                let reason = c.rejection.clone().unwrap_or_default();
                tr!("rejetée : {reason}", "rejected: {reason}")
            }
        };
        let (event, venue, date) = (c.event.short(), &c.venue_id, &c.date);
        writeln!(
            out,
            "  {}",
            tr!(
                "réclamation {event} de {claimant} à {venue} le {date} : {answer}",
                "claim {event} by {claimant} at {venue} on {date}: {answer}"
            )
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
    let (batch, count, value, funder, issuer, deadline, as_of) = (
        &b.batch.batch_id,
        b.batch.count,
        euros(b.batch.face_value_cents),
        &b.batch.funder,
        &b.issuer_name,
        &b.batch.redeem_deadline,
        &b.as_of,
    );
    writeln!(
        out,
        "{}",
        tr!(
            "lot {batch} : {count} pass de {value} financés par {funder} (émis par {issuer}), encaissables jusqu'au {deadline}\nau {as_of} :",
            "batch {batch}: {count} voucher(s) of {value} funded by {funder} (issued by {issuer}), redeemable until {deadline}\nas of {as_of}:"
        )
    )?;
    for (status, n) in &b.counts {
        writeln!(
            out,
            "  {:<11} {n}",
            crate::lang::voucher_status(status.as_str())
        )?;
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
    let (id, status, as_of) = (
        &r.referral_id,
        crate::lang::referral_status(&v.status),
        &v.as_of,
    );
    let person = r.person.map_or_else(
        || {
            t(
                "(aucun lien détenu sur ce nœud)",
                "(no link held on this node)",
            )
            .to_owned()
        },
        |p| p.to_string(),
    );
    let (opened_on, prescriber, kind, opened_by) = (
        &r.opened_on,
        &r.prescriber_name,
        &r.prescriber_kind,
        &v.opened_by_name,
    );
    let (needs, handler, territory) = (
        labels_of(&r.needs).join(", "),
        &v.handler_name,
        &r.target_territory,
    );
    writeln!(
        out,
        "{}",
        tr!(
            "orientation {id} : {status} (au {as_of})\n  personne {person}\n  ouverte le {opened_on} par {prescriber} ({kind}) au hub {opened_by}\n  besoins : {needs}\n  traitée par {handler} (territoire {territory})",
            "referral {id}: {status} (as of {as_of})\n  person {person}\n  opened on {opened_on} by {prescriber} ({kind}) at hub {opened_by}\n  needs: {needs}\n  handled by {handler} (territory {territory})"
        )
    )?;
    if let Some(target) = &v.target_venue {
        writeln!(
            out,
            "  {}",
            tr!("lieu visé {target}", "target venue {target}")
        )?;
    }
    if v.status == "open" || v.status == "expired" {
        let expires = &r.expires_on;
        writeln!(
            out,
            "  {}",
            tr!("expire le {expires}", "expires on {expires}")
        )?;
    }
    if let Some(accepted_on) = r.accepted_on {
        let venue = v.accepted_venue.clone().unwrap_or_default();
        writeln!(
            out,
            "  {}",
            tr!(
                "acceptée le {accepted_on} à {venue}",
                "accepted on {accepted_on} at {venue}"
            )
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
        let person = &p.person;
        writeln!(
            out,
            "{}",
            tr!(
                "la personne {person} a demandé l'effacement : aucun parcours n'est gardé (seulement des comptes anonymes)",
                "person {person} asked to be forgotten: no parcours is kept (anonymous counts only)"
            )
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
    let (person, steps) = (&p.person, p.timeline.len());
    writeln!(
        out,
        "{}",
        tr!(
            "parcours de {person} ({steps} étape(s), tous les hubs ; heures de Paris)",
            "parcours of {person} ({steps} step(s), all hubs; Paris time)"
        )
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
            crate::lang::paris_time_short(maillage_core::hlc::hlc_millis(t.hlc)),
            t.hub,
            t.kind,
            t.summary
        )?;
    }
    let as_of = &p.as_of;
    writeln!(out, "{}", tr!("au {as_of} :", "as of {as_of}:"))?;
    if p.referrals.is_empty() {
        writeln!(
            out,
            "  {}",
            t(
                "orientations : aucune en cours",
                "referrals: none in progress"
            )
        )?;
    }
    for r in &p.referrals {
        let expires = &r.expires_on;
        let exp = if r.status == "accepted" {
            String::new()
        } else {
            tr!(", expire le {expires}", ", expires on {expires}")
        };
        let (id, status, handler) = (
            &r.referral_id,
            crate::lang::referral_status(&r.status),
            &r.handler,
        );
        writeln!(
            out,
            "  {}",
            tr!(
                "orientation {id} : {status} (traitée par {handler}{exp})",
                "referral {id}: {status} (handled by {handler}{exp})"
            )
        )?;
    }
    let (held, used, expired, cancelled) = (
        p.held.len(),
        p.used.len(),
        p.expired.len(),
        p.cancelled.len(),
    );
    writeln!(
        out,
        "  {}",
        tr!(
            "pass : {held} détenus, {used} utilisés, {expired} expirés, {cancelled} annulés",
            "vouchers: {held} held, {used} used, {expired} expired, {cancelled} cancelled"
        )
    )?;
    if !p.held.is_empty() {
        writeln!(out, "    {} {}", t("détenus :", "held:"), p.held.join(", "))?;
    }
    if !p.used.is_empty() {
        writeln!(
            out,
            "    {} {}",
            t("utilisés :", "used:"),
            p.used.join(", ")
        )?;
    }
    writeln!(
        out,
        "  {} {}",
        t("lieux :", "venues:"),
        if p.venues.is_empty() {
            t("aucun", "none").into()
        } else {
            p.venues.join("; ")
        }
    )?;
    writeln!(
        out,
        "  {} {}",
        t("hubs concernés :", "hubs involved:"),
        p.hubs.join(", ")
    )?;
    Ok(())
}

pub(super) fn percent(rate: Option<f64>) -> String {
    rate.map_or_else(|| "—".into(), |r| format!("{:.0} %", r * 100.0))
}
