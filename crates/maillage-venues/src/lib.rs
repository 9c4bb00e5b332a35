//! Import, validation, normalisation and export of the national open-data standard for
//! digital-inclusion venues, the *Schéma de données des lieux de médiation numérique*
//! (v1.0.2, with the older v0.1.1 still read).
//!
//! # Design
//!
//! Real exports are messy: placeholder pivots, mixed v0.1.1/v1 vocabularies, malformed opening
//! hours, HTML, broken characters, hubs' own column layouts. The importer therefore works row
//! by row and **never aborts a file for one bad row**:
//!
//! 1. [`parse`] decodes the bytes (UTF-8, else Windows-1252), detects the layout
//!    ([`InputFormat`]) and reads every row into an untyped raw row. Only a file that cannot be
//!    read as that format at all is a [`FileError`]. A source's own CSV layout is read through
//!    an import [`Mapping`] ([`parse_mapped`]): a TOML file renaming its columns, translating
//!    its values, assembling its opening hours; the rows it gives are checked like any other.
//! 2. Each raw row is validated field by field. Every finding is a [`FieldIssue`] saying what
//!    was expected and what was found, with a [`Severity`]:
//!    * **error** — a required field (`id`, `pivot`, `nom`, `commune`, `code_postal`,
//!      `adresse`, `date_maj`) is missing or invalid, the département cannot be derived, the
//!      venue is outside the hub's territories, or the `id` is repeated: the row is
//!      [`RowOutcome::Rejected`];
//!    * **warning** — an optional value was dropped (invalid phone, unknown vocabulary value,
//!      non-OSM opening hours…) or guessed (lost leading zero, missing URL scheme), or a kept
//!      value is questionable (placeholder pivot `00000000000000`, `date_maj` 1970-01-01,
//!      failed SIRET checksum), or the venue declared Pass numérique / APTIC;
//!    * **info** — a lossless normalisation (v0.1.1 → v1 mapping, repaired characters,
//!      phone reformatting…).
//! 3. Accepted rows give a [`VenueRecord`] (the protobuf message the federation signs):
//!    multi-valued fields as lists in the standard's vocabulary order, coordinates in
//!    micro-degrees, dates `YYYY-MM-DD`, empty strings for absent optional values.
//! 4. [`export_csv_v1`] writes records back as a valid v1 CSV; re-importing an export gives
//!    the same records, and only the issues that describe the records themselves
//!    ([`IssueKind::is_persistent`]) are raised again.
//! 5. [`write_report_csv`] and [`summarize`] tell the hub what to fix.
//!
//! Controlled vocabularies are matched on a folded key (case, accents, apostrophes, spacing),
//! which absorbs the known defects of the official files (`Comprehension`, `Étapes
//! numériques (La Poste)`…). v0.1.1 values are mapped to v1 (see [`vocabulary`]); the two
//! v0.1.1 notions that matter for vouchers and have no v1 equivalent — `Accepte le Pass
//! numérique` and the `APTIC` label — are kept as a warning and as
//! `declares_pass_numerique` on the outcome, so the hub can qualify those venues.
//!
//! The département of a venue comes from `code_insee` when valid, else from `code_postal`
//! ([`departement`]); codes that disagree are reported, and coordinates far from their
//! département are flagged (kept, info level).
//!
//! Opening hours are checked by a small hand-written parser of the common subset of the
//! OpenStreetMap `opening_hours` syntax ([`validate_opening_hours`]).
//!
//! # Example
//!
//! ```
//! use maillage_venues::{ImportOptions, InputFormat, export_csv_v1, parse};
//!
//! let csv = "id,pivot,nom,commune,code_postal,adresse,date_maj,telephone,services\n\
//!            lieu-1,00000000000000,Anonymal,Reims,51100,12 rue X,02/04/2024,03 26 00 00 00,\
//!            Comprehension du monde numérique|Danse\n";
//! let options = ImportOptions::for_territories(["51"]).expect("valid codes");
//! let batch = parse(csv.as_bytes(), InputFormat::Auto, &options)?;
//! let (record, departement) = batch.accepted().next().expect("accepted");
//! assert_eq!(departement, "51");
//! assert_eq!(record.date_maj, "2024-04-02");
//! assert_eq!(record.telephone, ["+33326000000"]);
//! assert_eq!(record.services, ["Compréhension du monde numérique"]);
//! // Placeholder pivot and unknown service: two warnings, the row is kept.
//! assert_eq!(batch.summary().warnings, 2);
//!
//! let mut out = Vec::new();
//! export_csv_v1(&[record.clone()], &mut out).expect("in memory");
//! # Ok::<(), maillage_venues::FileError>(())
//! ```
//!
//! Data credits for the real exports used in tests: Licence Ouverte 2.0, "La MedNum / ANCT
//! cartographie nationale" and the hub named in each file.

#![warn(missing_docs)]

pub mod edit;
mod export;
mod fields;
mod geo;
mod hours;
mod input;
mod issue;
mod mapping;
mod record;
mod report;
mod row;
mod schedule;
mod text;
pub mod vocabulary;

use std::collections::{BTreeMap, BTreeSet};

pub use maillage_proto::v1::VenueRecord;

pub use export::{ExportError, export_csv_v1, from_spreadsheet_safe, spreadsheet_safe, v1_cells};
pub use fields::micro_to_decimal;
pub use geo::{departement, is_departement_code};
pub use hours::{OpeningHoursError, validate_opening_hours};
pub use issue::{
    FieldIssue, IssueKind, MAX_VALUE_CHARS, RowLocation, RowOutcome, RowReport, Severity,
    truncate_for_display,
};
pub use mapping::{
    ColumnUsage, ColumnUse, MAPPING_BYTES_MAX, MappedVia, Mapping, MappingError, SHIPPED_MAPPINGS,
    ShippedMapping,
};
pub use record::RESUME_MAX_CHARS;
pub use report::{
    ImportSummary, REPORT_HEADER, ReasonCount, summarize, write_report_csv,
    write_report_csv_with_info,
};
pub use row::V1_FIELDS;

/// The layout of an input file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum InputFormat {
    /// Detect: JSON when the first non-space character is `[`; a shipped mapping
    /// ([`SHIPPED_MAPPINGS`]) when a CSV header has its required columns (`bfc_id` for MedNum
    /// BFC, `id_fs` and `lib_fs` for the France services list); v0.1.1 when the header has
    /// more v0.1.1-only columns (`labels_nationaux`, `publics_accueillis`,
    /// `conditions_acces`, `courriel`, `accessibilite`…) than v1-only ones; v1 otherwise. The
    /// CSV delimiter (`,`, `;` or tab) is detected on the header line.
    Auto,
    /// CSV with the v1 column names (v0.1.1 names and values are still understood).
    CsvV1,
    /// CSV with the v0.1.1 column names (mapped to v1).
    CsvV0,
    /// A JSON array of objects keyed by the standard's field names (v1 or v0.1.1).
    Json,
    /// The MedNum BFC hub's own CSV layout (no pivot, no `date_maj`): the shipped mapping
    /// `mednum-bfc`.
    MednumBfcCsv,
    /// A CSV read through an import mapping, named in [`ImportBatch::mapping`]. Given to
    /// [`parse`]: the shipped mapping whose required columns the header has (a mapping of
    /// one's own is given to [`parse_mapped`]).
    Mapped,
}

/// A file that cannot be read as the requested format at all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileError {
    /// Nothing but whitespace.
    Empty,
    /// Not JSON.
    InvalidJson {
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// The parser's message.
        message: String,
    },
    /// JSON, but not an array.
    NotJsonArray {
        /// The JSON type found.
        found: &'static str,
    },
    /// A CSV without a header line.
    NoHeader,
    /// A CSV header with none of the standard's column names.
    UnrecognizedHeader {
        /// The start of the header, comma-joined (a bounded excerpt).
        found: String,
    },
    /// Read through a mapping, but the header lacks a column the mapping requires.
    LayoutMismatch {
        /// The mapping's title (`MedNum BFC`…).
        layout: String,
        /// The missing column.
        missing: String,
    },
    /// Read as [`InputFormat::Mapped`], but no shipped mapping fits the header.
    NoMappingFits {
        /// The start of the header (a bounded excerpt).
        found: String,
    },
    /// The CSV reader failed on the header.
    Csv(String),
}

impl std::fmt::Display for FileError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        use maillage_core::tr;
        let text = match self {
            Self::Empty => tr!("le fichier est vide", "the file is empty"),
            Self::InvalidJson {
                line,
                column,
                message,
            } => tr!(
                "JSON invalide (ligne {line}, colonne {column}) : {message}",
                "not valid JSON (line {line}, column {column}): {message}"
            ),
            Self::NotJsonArray { found } => tr!(
                "attendu : un tableau JSON d'objets lieux, trouvé : {found}",
                "expected a JSON array of venue objects, found {found}"
            ),
            Self::NoHeader => tr!(
                "le fichier CSV n'a pas de ligne d'en-tête",
                "the CSV file has no header line"
            ),
            Self::UnrecognizedHeader { found } => tr!(
                "l'en-tête CSV n'a aucune des colonnes du standard (attendu par exemple id, \
                 pivot, nom, commune, code_postal, adresse, date_maj), trouvé : {found}",
                "the CSV header has none of the standard's columns (expected e.g. id, pivot, \
                 nom, commune, code_postal, adresse, date_maj), found: {found}"
            ),
            Self::LayoutMismatch { layout, missing } => tr!(
                "pas un export {layout} : l'en-tête n'a pas de colonne {missing}",
                "not a {layout} export: the header has no {missing} column"
            ),
            Self::NoMappingFits { found } => tr!(
                "aucune correspondance d'import livrée ne convient à cet en-tête ({found}) : \
                 nommez la correspondance avec laquelle le lire",
                "no shipped import mapping fits this header ({found}): name the mapping to read \
                 it with"
            ),
            Self::Csv(error) => tr!("CSV illisible : {error}", "unreadable CSV: {error}"),
        };
        f.write_str(&text)
    }
}

impl std::error::Error for FileError {}

/// Options of an import.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImportOptions {
    /// When set, rows whose département is not in this set are rejected (field `code_insee`
    /// or `code_postal`). Codes as returned by [`departement`] (`01`, `2A`, `974`…).
    pub territories: Option<BTreeSet<String>>,
}

impl ImportOptions {
    /// Options restricting the import to a hub's départements. Codes are trimmed,
    /// upper-cased and `1`…`9` padded to `01`…`09`.
    ///
    /// # Errors
    /// The first code that is not a département ([`is_departement_code`]).
    pub fn for_territories<I, S>(codes: I) -> Result<Self, String>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let mut set = BTreeSet::new();
        for code in codes {
            let raw = code.as_ref();
            let mut c = raw.trim().to_uppercase();
            if c.len() == 1 {
                c.insert(0, '0');
            }
            if !is_departement_code(&c) {
                return Err(maillage_core::tr!(
                    "{} n'est pas un code de département",
                    "{} is not a département code",
                    maillage_core::excerpt::Excerpt::of(raw)
                ));
            }
            set.insert(c);
        }
        Ok(Self {
            territories: Some(set),
        })
    }
}

/// The result of reading one file.
#[derive(Debug, Clone, PartialEq)]
pub struct ImportBatch {
    /// The format actually used (never [`InputFormat::Auto`]).
    pub format: InputFormat,
    /// File-level observations: encoding fallback, ignored or mapped columns, blank records,
    /// columns the layout lacks.
    pub notes: Vec<String>,
    /// The import mapping the file was read with (its name), if any.
    pub mapping: Option<String>,
    /// What became of each column of the file, when read with a mapping (header order).
    pub columns: Vec<ColumnUse>,
    /// One report per record, in file order.
    pub rows: Vec<RowReport>,
}

impl ImportBatch {
    /// The accepted records with their département.
    pub fn accepted(&self) -> impl Iterator<Item = (&VenueRecord, &str)> {
        self.rows.iter().filter_map(|r| match &r.outcome {
            RowOutcome::Accepted {
                record,
                departement,
                ..
            } => Some((record, departement.as_str())),
            RowOutcome::Rejected { .. } => None,
        })
    }

    /// Counts and top reasons.
    #[must_use]
    pub fn summary(&self) -> ImportSummary {
        summarize(&self.rows)
    }
}

/// Detects the format of a file (see [`InputFormat::Auto`]); `None` for an empty file.
#[must_use]
pub fn detect_format(bytes: &[u8]) -> Option<InputFormat> {
    let (text, _) = text::decode(bytes);
    detect(&text).map(|(format, _)| format)
}

/// The format of decoded text, with the shipped mapping it fits.
fn detect(text: &str) -> Option<(InputFormat, Option<&'static Mapping>)> {
    let format = input::detect(text)?;
    if format == InputFormat::Json {
        return Some((format, None));
    }
    match mapping::shipped_for(&input::header_names(text)) {
        Some(m) => Some((m.format(), Some(m))),
        None => Some((format, None)),
    }
}

/// Reads a file of venues and validates every row.
///
/// # Errors
/// A [`FileError`] only when the file cannot be read as `format` at all; problems of single
/// rows are reported in [`ImportBatch::rows`].
pub fn parse(
    bytes: &[u8],
    format: InputFormat,
    options: &ImportOptions,
) -> Result<ImportBatch, FileError> {
    let (text, fallback) = text::decode(bytes);
    if text.trim().is_empty() {
        return Err(FileError::Empty);
    }
    let (format, shipped) = match format {
        InputFormat::Auto => detect(&text).ok_or(FileError::Empty)?,
        InputFormat::MednumBfcCsv => (format, mapping::shipped_by_name("mednum-bfc")),
        InputFormat::Mapped => {
            let header = input::header_names(&text);
            let found = mapping::shipped_for(&header).ok_or_else(|| FileError::NoMappingFits {
                found: input::header_excerpt(&header),
            })?;
            (found.format(), Some(found))
        }
        other => (other, None),
    };
    if let Some(m) = shipped {
        return read_mapped(&text, fallback, m, options);
    }
    let source = match format {
        InputFormat::Json => input::read_json(&text)?,
        _ => input::read_standard_csv(&text)?,
    };
    Ok(finish(format, fallback, source, options))
}

/// Reads a CSV file of venues through an import mapping and validates every row.
///
/// # Errors
/// A [`FileError`] only when the file cannot be read as CSV at all, or lacks a column the
/// mapping requires; problems of single rows are reported in [`ImportBatch::rows`].
pub fn parse_mapped(
    bytes: &[u8],
    mapping: &Mapping,
    options: &ImportOptions,
) -> Result<ImportBatch, FileError> {
    let (text, fallback) = text::decode(bytes);
    if text.trim().is_empty() {
        return Err(FileError::Empty);
    }
    read_mapped(&text, fallback, mapping, options)
}

fn read_mapped(
    text: &str,
    fallback: bool,
    mapping: &Mapping,
    options: &ImportOptions,
) -> Result<ImportBatch, FileError> {
    let (source, columns) = mapping::read(text, mapping)?;
    let mut batch = finish(mapping.format(), fallback, source, options);
    batch.mapping = Some(mapping.name().to_owned());
    batch.columns = columns;
    Ok(batch)
}

/// Validates the rows read from a file.
fn finish(
    format: InputFormat,
    fallback: bool,
    source: input::Source,
    options: &ImportOptions,
) -> ImportBatch {
    let mut notes = Vec::new();
    if fallback {
        notes.push(maillage_core::tr!(
            "le fichier n'est pas en UTF-8 valide : décodé en Windows-1252 (Latin-1)",
            "the file is not valid UTF-8: decoded as Windows-1252 (Latin-1)"
        ));
    }
    notes.extend(source.notes);
    let mut rows: Vec<RowReport> = source
        .rows
        .into_iter()
        .map(|pending| match pending.row {
            Ok(raw) => {
                let built = record::build(raw, &source.ctx, options);
                RowReport {
                    location: pending.location,
                    source_id: built.source_id,
                    outcome: built.outcome,
                }
            }
            Err(issue) => RowReport {
                location: pending.location,
                source_id: None,
                outcome: RowOutcome::Rejected {
                    issues: vec![issue],
                },
            },
        })
        .collect();
    reject_duplicate_ids(&mut rows);
    ImportBatch {
        format,
        notes,
        mapping: None,
        columns: Vec::new(),
        rows,
    }
}

/// The standard requires unique ids: later rows reusing an id are rejected.
fn reject_duplicate_ids(rows: &mut [RowReport]) {
    let mut first_seen: BTreeMap<String, RowLocation> = BTreeMap::new();
    for row in rows.iter_mut() {
        let Some(id) = row.source_id.clone() else {
            continue;
        };
        let Some(first) = first_seen.get(&id).copied() else {
            first_seen.insert(id, row.location);
            continue;
        };
        let duplicate = FieldIssue::new(
            Severity::Error,
            IssueKind::Duplicate,
            "id",
            &id,
            maillage_core::tr!(
                "l'id {} est déjà pris par un enregistrement précédent ({first}) ; les id \
                 doivent être uniques",
                "id {} is already used by the record at {first}; ids must be unique",
                maillage_core::excerpt::Excerpt::of(&id)
            ),
        );
        let mut issues = match std::mem::replace(
            &mut row.outcome,
            RowOutcome::Rejected { issues: Vec::new() },
        ) {
            RowOutcome::Accepted { warnings, .. } => warnings,
            RowOutcome::Rejected { issues } => issues,
        };
        issues.push(duplicate);
        row.outcome = RowOutcome::Rejected { issues };
    }
}
