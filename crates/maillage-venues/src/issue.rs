//! Per-row outcomes and the issues attached to them.

use std::fmt;

use maillage_proto::v1::VenueRecord;

/// Longest value (in characters) kept in [`FieldIssue::value`]; longer values are cut and end
/// with `…`.
pub const MAX_VALUE_CHARS: usize = 80;

/// Where a row came from in the source file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum RowLocation {
    /// CSV: 1-based line number where the record starts (the header is line 1).
    Line(u64),
    /// JSON: 1-based index of the object in the top-level array.
    Index(usize),
}

impl fmt::Display for RowLocation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Line(n) => f.write_str(&maillage_core::tr!("ligne {n}", "line {n}")),
            Self::Index(n) => f.write_str(&maillage_core::tr!("objet {n}", "item {n}")),
        }
    }
}

/// How serious an issue is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    /// A value was normalised or mapped without losing information (v0.1.1 → v1 mapping,
    /// repaired characters, reformatted phone number…). Nothing for the hub to fix.
    Info,
    /// The row is kept, but a value was dropped or guessed, or a kept value is questionable
    /// (placeholder pivot, failed checksum…). The hub should fix its export.
    Warning,
    /// The row is rejected because of this issue.
    Error,
}

impl Severity {
    /// `info`, `warning` or `rejected` (the `status` column of the report).
    #[must_use]
    pub fn status(self) -> &'static str {
        match self {
            Self::Info => "info",
            Self::Warning => "warning",
            Self::Error => "rejected",
        }
    }
}

/// What kind of problem an issue is (used to group reasons in summaries).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum IssueKind {
    /// A required value is absent or empty.
    Missing,
    /// The value does not have the expected shape.
    Malformed,
    /// The value is well formed but impossible (coordinates, calendar date…).
    OutOfRange,
    /// The value is not part of a controlled vocabulary.
    UnknownValue,
    /// A placeholder was kept (pivot `00000000000000`, `date_maj` 1970-01-01…).
    Placeholder,
    /// A SIRET fails its Luhn checksum; the value is kept.
    Checksum,
    /// A kept value contradicts another field (coordinates far from the département, postal
    /// code of another département…).
    Implausible,
    /// Values contradict each other and one was dropped.
    Inconsistent,
    /// The `id` was already used by an earlier row of the same file.
    Duplicate,
    /// The venue lies outside the territories of the importing hub.
    OutsideTerritory,
    /// The value was rewritten into its canonical form.
    Normalised,
    /// A v0.1.1 field or value was mapped to its v1 equivalent.
    Mapped,
    /// A value was moved to another field.
    Moved,
    /// The value is longer than the standard allows.
    TooLong,
    /// The venue declared Pass numérique acceptance or the APTIC label (v0.1.1 only).
    VoucherDeclaration,
    /// A value or column has no v1 equivalent and was ignored.
    Unsupported,
}

impl IssueKind {
    /// A short machine-friendly label (`missing`, `malformed`…).
    #[must_use]
    pub fn label(self) -> &'static str {
        match self {
            Self::Missing => "missing",
            Self::Malformed => "malformed",
            Self::OutOfRange => "out-of-range",
            Self::UnknownValue => "unknown-value",
            Self::Placeholder => "placeholder",
            Self::Checksum => "checksum",
            Self::Implausible => "implausible",
            Self::Inconsistent => "inconsistent",
            Self::Duplicate => "duplicate",
            Self::OutsideTerritory => "outside-territory",
            Self::Normalised => "normalised",
            Self::Mapped => "mapped",
            Self::Moved => "moved",
            Self::TooLong => "too-long",
            Self::VoucherDeclaration => "voucher-declaration",
            Self::Unsupported => "unsupported",
        }
    }

    /// True when the issue describes the stored record itself rather than a transformation
    /// of the input: it is raised again when the exported record is re-imported.
    #[must_use]
    pub fn is_persistent(self) -> bool {
        matches!(self, Self::Placeholder | Self::Checksum | Self::Implausible)
    }
}

impl fmt::Display for IssueKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// One problem found on one field of one row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldIssue {
    /// The v1 field name (or the source column when it has no v1 equivalent).
    pub field: String,
    /// The offending value as found, cut to [`MAX_VALUE_CHARS`] characters for display.
    pub value: String,
    /// A sentence saying what was expected and what was found, in the language current when
    /// the file was read (French by default, English with `--lang en`).
    pub reason: String,
    /// The kind of problem.
    pub kind: IssueKind,
    /// Info, warning or rejection.
    pub severity: Severity,
}

impl FieldIssue {
    /// Builds an issue; `value` is truncated for display.
    #[must_use]
    pub fn new(
        severity: Severity,
        kind: IssueKind,
        field: &str,
        value: &str,
        reason: impl Into<String>,
    ) -> Self {
        Self {
            field: field.to_owned(),
            value: truncate_for_display(value),
            reason: reason.into(),
            kind,
            severity,
        }
    }

    /// Same issue with another severity.
    #[must_use]
    pub fn with_severity(mut self, severity: Severity) -> Self {
        self.severity = severity;
        self
    }
}

impl fmt::Display for FieldIssue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {} {:?}: {}",
            self.severity.status(),
            self.field,
            self.value,
            self.reason
        )
    }
}

/// Cuts `value` to [`MAX_VALUE_CHARS`] characters, ending with `…` when cut.
#[must_use]
pub fn truncate_for_display(value: &str) -> String {
    if value.chars().count() <= MAX_VALUE_CHARS {
        return value.to_owned();
    }
    let mut out: String = value.chars().take(MAX_VALUE_CHARS - 1).collect();
    out.push('…');
    out
}

/// What happened to one row.
// Most rows are accepted: boxing the record would add an allocation to nearly every row.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq)]
pub enum RowOutcome {
    /// The row gave a valid v1 record.
    Accepted {
        /// The normalised record.
        record: VenueRecord,
        /// The venue's département (INSEE code: `01`…`95`, `2A`, `2B`, `971`…).
        departement: String,
        /// Everything worth telling the hub about this row (severity info or warning).
        warnings: Vec<FieldIssue>,
        /// The source declared Pass numérique acceptance or the APTIC label (v0.1.1
        /// vocabulary, or the APTIC label of the MedNum BFC layout). v1 has no such notion:
        /// the hub must qualify the venue before it may redeem vouchers.
        declares_pass_numerique: bool,
    },
    /// The row cannot give a valid v1 record.
    Rejected {
        /// Every issue of the row: the blocking ones (severity error) and the warnings and
        /// notes found on its other fields, so the hub can fix everything at once.
        issues: Vec<FieldIssue>,
    },
}

/// The outcome of one row of the input file.
#[derive(Debug, Clone, PartialEq)]
pub struct RowReport {
    /// Where the row is in the file.
    pub location: RowLocation,
    /// The source's `id` (or the layout's own identifier), when present.
    pub source_id: Option<String>,
    /// Accepted or rejected.
    pub outcome: RowOutcome,
}

impl RowReport {
    /// All issues of the row, whatever the outcome.
    #[must_use]
    pub fn issues(&self) -> &[FieldIssue] {
        match &self.outcome {
            RowOutcome::Accepted { warnings, .. } => warnings,
            RowOutcome::Rejected { issues } => issues,
        }
    }

    /// True when the row was accepted.
    #[must_use]
    pub fn is_accepted(&self) -> bool {
        matches!(self.outcome, RowOutcome::Accepted { .. })
    }

    /// The accepted record, if any.
    #[must_use]
    pub fn record(&self) -> Option<&VenueRecord> {
        match &self.outcome {
            RowOutcome::Accepted { record, .. } => Some(record),
            RowOutcome::Rejected { .. } => None,
        }
    }
}

/// Collects the issues of one row.
#[derive(Debug, Default)]
pub(crate) struct Issues {
    pub(crate) list: Vec<FieldIssue>,
}

impl Issues {
    pub(crate) fn push(&mut self, issue: FieldIssue) {
        self.list.push(issue);
    }

    pub(crate) fn error(
        &mut self,
        kind: IssueKind,
        field: &str,
        value: &str,
        reason: impl Into<String>,
    ) {
        self.push(FieldIssue::new(Severity::Error, kind, field, value, reason));
    }

    pub(crate) fn warn(
        &mut self,
        kind: IssueKind,
        field: &str,
        value: &str,
        reason: impl Into<String>,
    ) {
        self.push(FieldIssue::new(
            Severity::Warning,
            kind,
            field,
            value,
            reason,
        ));
    }

    pub(crate) fn info(
        &mut self,
        kind: IssueKind,
        field: &str,
        value: &str,
        reason: impl Into<String>,
    ) {
        self.push(FieldIssue::new(Severity::Info, kind, field, value, reason));
    }

    pub(crate) fn has_errors(&self) -> bool {
        self.list.iter().any(|i| i.severity == Severity::Error)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truncation_keeps_short_values_and_marks_cut_ones() {
        assert_eq!(truncate_for_display("abc"), "abc");
        let long = "é".repeat(200);
        let cut = truncate_for_display(&long);
        assert_eq!(cut.chars().count(), MAX_VALUE_CHARS);
        assert!(cut.ends_with('…'));
    }

    #[test]
    fn locations_display() {
        assert_eq!(RowLocation::Line(3).to_string(), "ligne 3");
        assert_eq!(RowLocation::Index(7).to_string(), "objet 7");
    }
}
