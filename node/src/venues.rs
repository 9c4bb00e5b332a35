//! `maillage venues …`: the hub's venue map in the national standard.
//!
//! Import appends one `VenueRegistered` per new venue and one `VenueUpdated` per venue whose
//! record changed; re-importing the same file appends nothing. Rows that fail validation are
//! reported (line/id, field, reason) and never abort the file.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::{Subcommand, ValueEnum};
use maillage_core::venues::{Venue, VenueDirectory, venue_id};
use maillage_core::{Role, pb};
use maillage_store::EventStore;
use maillage_venues::{ImportOptions, InputFormat, RowOutcome};
use serde::Serialize;

use crate::cli::progress_bar;
use crate::datadir::DataDir;
use crate::domain::fold;
use crate::files::Files;
use crate::node::Node;

/// `maillage venues …`.
#[derive(Debug, Subcommand)]
pub enum VenuesCommand {
    /// Import a venue file of the national standard (CSV v1, CSV v0.1.1, JSON) into this
    /// hub's log. Rows outside the hub's territories or with an invalid required field are
    /// rejected and reported; invalid optional fields are dropped with a warning.
    Import {
        /// The file to import.
        file: PathBuf,
        /// Input format (auto-detected by default).
        #[arg(long, value_enum, default_value_t = FormatArg::Auto)]
        format: FormatArg,
        /// Write every rejected row and warning to this CSV file.
        #[arg(long)]
        report: Option<PathBuf>,
        /// Validate and report, append nothing.
        #[arg(long)]
        dry_run: bool,
        /// Machine-readable summary.
        #[arg(long)]
        json: bool,
    },
    /// List venues (all hubs' venues this node holds).
    List {
        /// Only this département (INSEE code, e.g. 13 or 2A).
        #[arg(long)]
        departement: Option<String>,
        /// At most this many.
        #[arg(long, default_value_t = 50)]
        limit: usize,
        /// Include closed venues.
        #[arg(long)]
        all: bool,
        /// Machine-readable output.
        #[arg(long)]
        json: bool,
    },
    /// Show one venue by its venue id (v…) or its source id.
    Show {
        /// Venue id or source id.
        id: String,
        /// Machine-readable output.
        #[arg(long)]
        json: bool,
    },
    /// Search venues by words in the name, town or address, with optional filters.
    Search {
        /// Words to look for (all must match, accents and case ignored).
        text: Vec<String>,
        /// Only this département.
        #[arg(long)]
        departement: Option<String>,
        /// Only venues offering this service (v1 label, or a unique part of one).
        #[arg(long)]
        service: Option<String>,
        /// Only venues addressing this public or specific support (v1 label, e.g. Seniors,
        /// Surdité).
        #[arg(long)]
        public: Option<String>,
        /// Only venues qualified for vouchers today.
        #[arg(long)]
        qualified: bool,
        /// Only venues within --within-km of this point, nearest first ("LAT,LON" in degrees).
        #[arg(long, value_name = "LAT,LON")]
        near: Option<String>,
        /// Radius for --near.
        #[arg(long, default_value_t = 10.0)]
        within_km: f64,
        /// At most this many.
        #[arg(long, default_value_t = 50)]
        limit: usize,
        /// Machine-readable output.
        #[arg(long)]
        json: bool,
    },
    /// Qualify a venue of this hub for vouchers (after the in-situ check): VenueQualified.
    Qualify(crate::domain::QualifyArgs),
    /// Revoke a venue's qualification: VenueQualificationRevoked.
    Revoke(crate::domain::RevokeArgs),
    /// Export the open venues as a file of the national standard.
    Export {
        /// Output format.
        #[arg(long, value_enum, default_value_t = ExportFormat::CsvV1)]
        format: ExportFormat,
        /// Output file (standard output if absent).
        #[arg(long, short)]
        out: Option<PathBuf>,
    },
}

/// Import formats.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum FormatArg {
    /// Detect from the content.
    Auto,
    /// CSV, standard v1 (`|` between values).
    CsvV1,
    /// CSV, standard v0.1.1 (`;` between values).
    CsvV0,
    /// JSON array of records with the standard's field names.
    Json,
    /// The MedNum BFC hub's own CSV layout.
    MednumBfc,
}

impl From<FormatArg> for InputFormat {
    fn from(f: FormatArg) -> Self {
        match f {
            FormatArg::Auto => InputFormat::Auto,
            FormatArg::CsvV1 => InputFormat::CsvV1,
            FormatArg::CsvV0 => InputFormat::CsvV0,
            FormatArg::Json => InputFormat::Json,
            FormatArg::MednumBfc => InputFormat::MednumBfcCsv,
        }
    }
}

/// Export formats.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ExportFormat {
    /// CSV of the national standard v1.
    CsvV1,
}

/// Counts of one import.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct ImportCounts {
    /// Rows in the file.
    pub rows: usize,
    /// New venues (VenueRegistered appended).
    pub imported: usize,
    /// Changed venues (VenueUpdated appended).
    pub updated: usize,
    /// Venues already registered with the same record.
    pub unchanged: usize,
    /// Rows rejected.
    pub rejected: usize,
    /// Accepted rows carrying warnings.
    pub with_warnings: usize,
    /// Accepted rows whose source declared Pass numérique acceptance or APTIC.
    pub declares_pass_numerique: usize,
    /// Events appended.
    pub events_appended: usize,
}

/// Runs a venues command; the files it names go through `files`.
pub fn run(data_dir: &DataDir, command: VenuesCommand, files: &dyn Files) -> Result<ExitCode> {
    match command {
        VenuesCommand::Qualify(args) => crate::domain::qualify(data_dir, args),
        VenuesCommand::Revoke(args) => crate::domain::revoke(data_dir, args),
        VenuesCommand::Import {
            file,
            format,
            report,
            dry_run,
            json,
        } => {
            let node = Node::open_shared(data_dir.clone())?;
            let bytes = files.read(&file)?;
            let outcome = import_bytes(
                &node,
                &file.display().to_string(),
                &bytes,
                format.into(),
                report.as_deref().map(|path| (path, files)),
                dry_run,
            )?;
            if json {
                outln!("{}", serde_json::to_string_pretty(&outcome.counts)?);
            } else {
                out!("{}", outcome.text);
            }
            Ok(ExitCode::SUCCESS)
        }
        VenuesCommand::List {
            departement,
            limit,
            all,
            json,
        } => {
            let node = Node::open_shared(data_dir.clone())?;
            let ledger = node.ledger()?;
            let directory = ledger.venues();
            let venues: Vec<&Venue> = directory
                .venues()
                .values()
                .filter(|v| all || v.closed.is_none())
                .filter(|v| {
                    departement
                        .as_ref()
                        .is_none_or(|d| v.departement.eq_ignore_ascii_case(d))
                })
                .collect();
            print_venues(&venues, limit, json)
        }
        VenuesCommand::Search {
            text,
            departement,
            service,
            public,
            qualified,
            near,
            within_km,
            limit,
            json,
        } => {
            let query = maillage_core::ledger::VenueQuery {
                departement,
                service: service
                    .as_deref()
                    .map(crate::domain::service_arg)
                    .transpose()?,
                public,
                qualified_on: qualified.then(crate::domain::today),
                near: near
                    .as_deref()
                    .map(|p| parse_point(p, within_km))
                    .transpose()?,
            };
            let node = Node::open_shared(data_dir.clone())?;
            let ledger = node.ledger()?;
            let venues = search(&ledger, &query, &text);
            print_venues(&venues, limit, json)
        }
        VenuesCommand::Show { id, json } => {
            let node = Node::open_shared(data_dir.clone())?;
            let ledger = node.ledger()?;
            let directory = ledger.venues();
            let venue = find(directory, &id)?;
            if json {
                outln!("{}", serde_json::to_string_pretty(&venue_json(venue))?);
            } else {
                print_venue(venue, &node);
            }
            Ok(ExitCode::SUCCESS)
        }
        VenuesCommand::Export {
            format: ExportFormat::CsvV1,
            out,
        } => {
            let node = Node::open_shared(data_dir.clone())?;
            let ledger = node.ledger()?;
            let records = open_records(ledger.venues());
            match &out {
                Some(path) => {
                    let mut file = files.create(path)?;
                    maillage_venues::export_csv_v1(&records, &mut file)?;
                    file.commit()?;
                    outln!(
                        "{} venues written to {} (national standard v1 CSV)",
                        records.len(),
                        path.display()
                    );
                }
                // Through the output capture, so that a serving node sends it to the caller.
                None => {
                    let mut csv = Vec::new();
                    maillage_venues::export_csv_v1(&records, &mut csv)?;
                    out!("{}", String::from_utf8_lossy(&csv));
                }
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// The records of the open venues, by venue id: what an export of the national standard
/// holds (the same order on every node).
pub fn open_records(directory: &VenueDirectory) -> Vec<pb::VenueRecord> {
    directory
        .venues()
        .values()
        .filter(|v| v.closed.is_none())
        .map(|v| v.record.clone())
        .collect()
}

/// The venue search of `maillage venues search` and of the dashboard: open venues matching
/// every criterion of `query` (nearest first when it names a point) whose name, town, address
/// or postcode contain every one of `words` (case and accents ignored).
pub fn search<'a>(
    ledger: &'a maillage_core::Ledger,
    query: &maillage_core::ledger::VenueQuery,
    words: &[String],
) -> Vec<&'a Venue> {
    let words: Vec<String> = words.iter().map(|w| fold(w)).collect();
    ledger
        .search_venues(query)
        .into_iter()
        .map(|(v, _)| v)
        .filter(|v| {
            let haystack = fold(&format!(
                "{} {} {} {}",
                v.record.nom, v.record.commune, v.record.adresse, v.record.code_postal
            ));
            words.iter().all(|w| haystack.contains(w))
        })
        .collect()
}

/// What an import did, with its human report.
#[derive(Debug)]
pub struct ImportOutcome {
    /// Counts.
    pub counts: ImportCounts,
    /// The printed report.
    pub text: String,
}

/// Imports venue-file bytes (`label` names them in messages) into the node's log.
pub fn import_bytes(
    node: &Node,
    label: &str,
    bytes: &[u8],
    format: InputFormat,
    report: Option<(&Path, &dyn Files)>,
    dry_run: bool,
) -> Result<ImportOutcome> {
    let member = node.member()?.clone();
    if member.role != Role::Hub {
        bail!("this node is an observer: only hubs import venues");
    }
    let options = ImportOptions {
        territories: Some(member.territories.clone()),
    };
    let batch = maillage_venues::parse(bytes, format, &options)
        .with_context(|| format!("{label} cannot be read as a venue file"))?;
    let summary = maillage_venues::summarize(&batch.rows);
    let ledger = node.ledger()?;
    let directory = ledger.venues();
    let me = node.id();

    let mut counts = ImportCounts {
        rows: batch.rows.len(),
        ..ImportCounts::default()
    };
    let mut bodies = Vec::new();
    for row in &batch.rows {
        match &row.outcome {
            RowOutcome::Rejected { .. } => counts.rejected += 1,
            RowOutcome::Accepted {
                record,
                warnings,
                declares_pass_numerique,
                ..
            } => {
                if warnings
                    .iter()
                    .any(|w| w.severity >= maillage_venues::Severity::Warning)
                {
                    counts.with_warnings += 1;
                }
                if *declares_pass_numerique {
                    counts.declares_pass_numerique += 1;
                }
                let id = venue_id(&me, &record.id);
                match directory.get(&id) {
                    None => {
                        counts.imported += 1;
                        bodies.push(pb::event::Body::VenueRegistered(pb::VenueRegistered {
                            venue_id: id,
                            record: Some(record.clone()),
                        }));
                    }
                    Some(existing) if existing.record == *record => counts.unchanged += 1,
                    Some(_) => {
                        counts.updated += 1;
                        bodies.push(pb::event::Body::VenueUpdated(pb::VenueUpdated {
                            venue_id: id,
                            record: Some(record.clone()),
                        }));
                    }
                }
            }
        }
    }
    if !dry_run && !bodies.is_empty() {
        let bar = progress_bar(bodies.len() as u64, "signing and storing");
        let appended = node.author(bodies, &mut |done| bar.set_position(done as u64))?;
        bar.finish_and_clear();
        counts.events_appended = appended.len();
    }
    if let Some((path, files)) = report {
        let mut out = files.create(path)?;
        maillage_venues::write_report_csv(&batch.rows, &mut out)?;
        out.commit()?;
    }

    let mut text = String::new();
    use std::fmt::Write as _;
    let territories: Vec<&str> = member.territories.iter().map(String::as_str).collect();
    let _ = writeln!(
        text,
        "{label}: {} rows ({:?}) for hub {:?} ({})",
        counts.rows,
        batch.format,
        member.name,
        territories.join(",")
    );
    for note in &batch.notes {
        let _ = writeln!(text, "  note: {note}");
    }
    let verb = if dry_run { "would import" } else { "imported" };
    let _ = writeln!(text, "  {verb:<12} {:>6}  new venues", counts.imported);
    let _ = writeln!(
        text,
        "  {:<12} {:>6}  changed venues",
        "updated", counts.updated
    );
    let _ = writeln!(
        text,
        "  {:<12} {:>6}  already up to date",
        "unchanged", counts.unchanged
    );
    let _ = writeln!(text, "  {:<12} {:>6}  rows", "rejected", counts.rejected);
    let _ = writeln!(
        text,
        "  {} accepted rows carry warnings; {} declare Pass numérique/APTIC (qualify them before they redeem vouchers)",
        counts.with_warnings, counts.declares_pass_numerique
    );
    if !summary.rejection_reasons.is_empty() {
        let _ = writeln!(text, "top rejection reasons:");
        for reason in summary.top_rejection_reasons(5) {
            let _ = writeln!(text, "  {reason}");
        }
    }
    if !summary.warning_reasons.is_empty() {
        let _ = writeln!(text, "top warnings:");
        for reason in summary.top_warning_reasons(5) {
            let _ = writeln!(text, "  {reason}");
        }
    }
    let rejected: Vec<_> = batch.rows.iter().filter(|r| !r.is_accepted()).collect();
    if !rejected.is_empty() {
        let _ = writeln!(
            text,
            "rejected rows{}:",
            if rejected.len() > 10 {
                " (first 10)"
            } else {
                ""
            }
        );
        for row in rejected.iter().take(10) {
            let blocking: Vec<String> = row
                .issues()
                .iter()
                .filter(|i| i.severity == maillage_venues::Severity::Error)
                .map(|i| format!("{}: {}", i.field, i.reason))
                .collect();
            let _ = writeln!(
                text,
                "  {} (id {}): {}",
                row.location,
                row.source_id.as_deref().unwrap_or("-"),
                blocking.join("; ")
            );
        }
    }
    match report {
        Some((path, _)) => {
            let _ = writeln!(
                text,
                "full report (every rejected row and warning): {}",
                path.display()
            );
        }
        None if !rejected.is_empty() || counts.with_warnings > 0 => {
            let _ = writeln!(
                text,
                "(--report FILE writes every rejected row and warning as CSV)"
            );
        }
        None => {}
    }
    if !dry_run {
        let head = node.store.head(&me).map_or(0, |h| h.seq);
        let _ = writeln!(
            text,
            "{} events appended; this hub's feed is at seq {head}",
            counts.events_appended
        );
    }
    Ok(ImportOutcome { counts, text })
}

/// "LAT,LON" in degrees → micro-degrees and the radius.
fn parse_point(text: &str, within_km: f64) -> Result<(i64, i64, f64)> {
    let parse = |part: Option<&str>, what: &str, max: f64| -> Result<i64> {
        let value: f64 = part
            .map(str::trim)
            .and_then(|p| p.parse().ok())
            .filter(|v: &f64| v.abs() <= max)
            .with_context(|| {
                format!("--near: expected \"LAT,LON\" in degrees, found {text:?} ({what})")
            })?;
        Ok((value * 1e6).round() as i64)
    };
    let mut parts = text.split(',');
    let lat = parse(parts.next(), "latitude", 90.0)?;
    let lon = parse(parts.next(), "longitude", 180.0)?;
    if within_km.is_nan() || within_km <= 0.0 {
        bail!("--within-km: expected a positive distance, found {within_km}");
    }
    Ok((lat, lon, within_km))
}

fn find<'a>(directory: &'a VenueDirectory, id: &str) -> Result<&'a Venue> {
    if let Some(venue) = directory.get(id) {
        return Ok(venue);
    }
    let matches: Vec<&Venue> = directory
        .venues()
        .values()
        .filter(|v| v.record.id == id)
        .collect();
    match matches.as_slice() {
        [one] => Ok(one),
        [] => bail!(
            "no venue with id {id:?} (neither a venue id nor a source id); try `maillage venues search`"
        ),
        many => bail!(
            "{} venues have source id {id:?} (from different hubs): use the venue id, one of {}",
            many.len(),
            many.iter()
                .map(|v| v.venue_id.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

fn venue_json(v: &Venue) -> serde_json::Value {
    let r = &v.record;
    serde_json::json!({
        "venue_id": v.venue_id,
        "departement": v.departement,
        "hub": v.hub,
        "closed": v.closed,
        "updates": v.updates,
        "last_event": v.last_event,
        "record": {
            "id": r.id, "pivot": r.pivot, "nom": r.nom, "commune": r.commune,
            "code_postal": r.code_postal, "code_insee": r.code_insee, "adresse": r.adresse,
            "complement_adresse": r.complement_adresse,
            "latitude": r.latitude_micro.map(maillage_venues::micro_to_decimal),
            "longitude": r.longitude_micro.map(maillage_venues::micro_to_decimal),
            "typologie": r.typologie, "telephone": r.telephone, "courriels": r.courriels,
            "site_web": r.site_web, "horaires": r.horaires,
            "presentation_resume": r.presentation_resume, "presentation_detail": r.presentation_detail,
            "source": r.source, "itinerance": r.itinerance, "structure_parente": r.structure_parente,
            "date_maj": r.date_maj, "services": r.services,
            "publics_specifiquement_adresses": r.publics_specifiquement_adresses,
            "prise_en_charge_specifique": r.prise_en_charge_specifique,
            "frais_a_charge": r.frais_a_charge,
            "dispositif_programmes_nationaux": r.dispositif_programmes_nationaux,
            "formations_labels": r.formations_labels,
            "autres_formations_labels": r.autres_formations_labels,
            "modalites_acces": r.modalites_acces,
            "modalites_accompagnement": r.modalites_accompagnement,
            "fiche_acces_libre": r.fiche_acces_libre, "prise_rdv": r.prise_rdv,
        }
    })
}

fn print_venues(venues: &[&Venue], limit: usize, json: bool) -> Result<ExitCode> {
    let shown: Vec<&&Venue> = venues.iter().take(limit).collect();
    if json {
        let list: Vec<serde_json::Value> = shown.iter().map(|v| venue_json(v)).collect();
        outln!("{}", serde_json::to_string_pretty(&list)?);
        return Ok(ExitCode::SUCCESS);
    }
    // Through the output capture, so that a serving node sends the listing to the caller.
    outln!("{:<22} {:<4} {:<24} NAME", "VENUE ID", "DEP", "COMMUNE");
    for v in &shown {
        let name: String = v.record.nom.chars().take(60).collect();
        let commune: String = v.record.commune.chars().take(24).collect();
        let closed = if v.closed.is_some() { " (closed)" } else { "" };
        outln!(
            "{:<22} {:<4} {:<24} {name}{closed}",
            v.venue_id,
            v.departement,
            commune
        );
    }
    outln!("{} of {} venues shown", shown.len(), venues.len());
    Ok(ExitCode::SUCCESS)
}

fn print_venue(v: &Venue, node: &Node) {
    let r = &v.record;
    let hub = node
        .charter
        .member(&v.hub)
        .map_or_else(|| v.hub.short(), |m| m.name.clone());
    outln!("{} — {}", v.venue_id, r.nom);
    if let Some(reason) = &v.closed {
        outln!("  CLOSED: {reason}");
    }
    let lines: [(&str, String); 14] = [
        ("source id", r.id.clone()),
        ("hub", hub),
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
        (
            "coordinates",
            match (r.latitude_micro, r.longitude_micro) {
                (Some(lat), Some(lon)) => format!(
                    "{}, {}",
                    maillage_venues::micro_to_decimal(lat),
                    maillage_venues::micro_to_decimal(lon)
                ),
                _ => String::new(),
            },
        ),
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
            outln!("  {label:<17} {}", value.trim());
        }
    }
    let extra: BTreeSet<&str> = r.typologie.iter().map(String::as_str).collect();
    if !extra.is_empty() {
        outln!(
            "  {:<17} {}",
            "typologie",
            extra.into_iter().collect::<Vec<_>>().join(", ")
        );
    }
    if !r.presentation_resume.is_empty() {
        outln!("  {:<17} {}", "summary", r.presentation_resume);
    }
    outln!(
        "  {:<17} {} (updates: {})",
        "last event",
        v.last_event,
        v.updates
    );
}
