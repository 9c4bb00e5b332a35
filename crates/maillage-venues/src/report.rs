//! Reports for hubs: one CSV line per issue, and counts for a summary.

use std::collections::BTreeMap;
use std::fmt;
use std::io::Write;

use maillage_core::tr;

use crate::export::ExportError;
use crate::issue::{IssueKind, RowOutcome, RowReport, Severity};
use crate::row::V1_FIELDS;

/// Header of the issue report.
pub const REPORT_HEADER: [&str; 6] = [
    "location",
    "source_id",
    "status",
    "field",
    "value",
    "reason",
];

/// Writes one line per rejection and warning: `location,source_id,status,field,value,reason`
/// (`status` is `rejected` or `warning`). Info-level notes are left out; see
/// [`write_report_csv_with_info`].
///
/// # Errors
/// [`ExportError`] when the writer fails.
pub fn write_report_csv<W: Write>(rows: &[RowReport], w: W) -> Result<(), ExportError> {
    write_report(rows, w, Severity::Warning)
}

/// Like [`write_report_csv`], with the info-level notes too (`status` `info`: v0.1.1
/// mappings, repaired characters, reformatted values…).
///
/// # Errors
/// [`ExportError`] when the writer fails.
pub fn write_report_csv_with_info<W: Write>(rows: &[RowReport], w: W) -> Result<(), ExportError> {
    write_report(rows, w, Severity::Info)
}

fn write_report<W: Write>(rows: &[RowReport], w: W, min: Severity) -> Result<(), ExportError> {
    let mut out = csv::WriterBuilder::new()
        .quote_style(csv::QuoteStyle::Necessary)
        .from_writer(w);
    out.write_record(REPORT_HEADER)?;
    for row in rows {
        let location = row.location.to_string();
        let id = row.source_id.as_deref().unwrap_or_default();
        for issue in row.issues().iter().filter(|i| i.severity >= min) {
            out.write_record(
                [
                    location.as_str(),
                    id,
                    issue.severity.status(),
                    issue.field.as_str(),
                    issue.value.as_str(),
                    issue.reason.as_str(),
                ]
                .map(crate::export::spreadsheet_safe)
                .iter()
                .map(|cell| cell.as_bytes()),
            )?;
        }
    }
    out.flush()?;
    Ok(())
}

/// How many rows share one (field, kind) of issue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReasonCount {
    /// The field.
    pub field: String,
    /// The kind of issue.
    pub kind: IssueKind,
    /// Number of rows with at least one such issue.
    pub rows: usize,
    /// The reason sentence of the first such issue.
    pub example: String,
}

impl fmt::Display for ReasonCount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (rows, field, kind, example) = (self.rows, &self.field, self.kind, &self.example);
        f.write_str(&tr!(
            "{rows} lignes : {field} {kind} (par exemple {example})",
            "{rows} rows: {field} {kind} (e.g. {example})"
        ))
    }
}

/// Counts over an import.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImportSummary {
    /// Rows accepted.
    pub accepted: usize,
    /// Rows rejected.
    pub rejected: usize,
    /// Accepted rows with at least one warning.
    pub accepted_with_warnings: usize,
    /// Warnings over all rows (accepted or not).
    pub warnings: usize,
    /// Info-level notes over all rows.
    pub infos: usize,
    /// Accepted rows whose source declared Pass numérique acceptance or the APTIC label.
    pub declares_pass_numerique: usize,
    /// Blocking issues of rejected rows, most frequent first.
    pub rejection_reasons: Vec<ReasonCount>,
    /// Warnings, most frequent first.
    pub warning_reasons: Vec<ReasonCount>,
}

impl ImportSummary {
    /// The `n` most frequent rejection reasons.
    #[must_use]
    pub fn top_rejection_reasons(&self, n: usize) -> &[ReasonCount] {
        &self.rejection_reasons[..n.min(self.rejection_reasons.len())]
    }

    /// The `n` most frequent warnings.
    #[must_use]
    pub fn top_warning_reasons(&self, n: usize) -> &[ReasonCount] {
        &self.warning_reasons[..n.min(self.warning_reasons.len())]
    }
}

impl fmt::Display for ImportSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let line = tr!(
            "{} accepté(s) ({} avec avertissements, {} déclarant Pass numérique/APTIC), {} \
             rejeté(s), {} avertissement(s), {} note(s)",
            "{} accepted ({} with warnings, {} declaring Pass numérique/APTIC), {} rejected, \
             {} warnings, {} notes",
            self.accepted,
            self.accepted_with_warnings,
            self.declares_pass_numerique,
            self.rejected,
            self.warnings,
            self.infos
        );
        writeln!(f, "{line}")?;
        if !self.rejection_reasons.is_empty() {
            writeln!(
                f,
                "{}",
                maillage_core::lang::t("principales raisons de rejet :", "top rejection reasons:")
            )?;
            for r in self.top_rejection_reasons(5) {
                writeln!(f, "  {r}")?;
            }
        }
        Ok(())
    }
}

/// Counts accepted and rejected rows and groups issues by (field, kind).
#[must_use]
pub fn summarize(rows: &[RowReport]) -> ImportSummary {
    let mut s = ImportSummary::default();
    let mut rejections = Tally::default();
    let mut warnings = Tally::default();
    for row in rows {
        let issues = row.issues();
        s.warnings += issues
            .iter()
            .filter(|i| i.severity == Severity::Warning)
            .count();
        s.infos += issues
            .iter()
            .filter(|i| i.severity == Severity::Info)
            .count();
        match &row.outcome {
            RowOutcome::Accepted {
                declares_pass_numerique,
                ..
            } => {
                s.accepted += 1;
                if issues.iter().any(|i| i.severity == Severity::Warning) {
                    s.accepted_with_warnings += 1;
                }
                if *declares_pass_numerique {
                    s.declares_pass_numerique += 1;
                }
            }
            RowOutcome::Rejected { .. } => s.rejected += 1,
        }
        rejections.add_row(row, Severity::Error);
        warnings.add_row(row, Severity::Warning);
    }
    s.rejection_reasons = rejections.sorted();
    s.warning_reasons = warnings.sorted();
    s
}

#[derive(Default)]
struct Tally(BTreeMap<(String, IssueKind), (usize, String)>);

impl Tally {
    fn add_row(&mut self, row: &RowReport, severity: Severity) {
        let mut seen = std::collections::BTreeSet::new();
        for issue in row.issues().iter().filter(|i| i.severity == severity) {
            let key = (issue.field.clone(), issue.kind);
            if seen.insert(key.clone()) {
                let entry = self
                    .0
                    .entry(key)
                    .or_insert_with(|| (0, issue.reason.clone()));
                entry.0 += 1;
            }
        }
    }

    fn sorted(self) -> Vec<ReasonCount> {
        let mut out: Vec<ReasonCount> = self
            .0
            .into_iter()
            .map(|((field, kind), (rows, example))| ReasonCount {
                field,
                kind,
                rows,
                example,
            })
            .collect();
        let rank = |field: &str| {
            V1_FIELDS
                .iter()
                .position(|f| *f == field)
                .unwrap_or(V1_FIELDS.len())
        };
        out.sort_by(|a, b| {
            b.rows
                .cmp(&a.rows)
                .then_with(|| rank(&a.field).cmp(&rank(&b.field)))
                .then_with(|| (&a.field, a.kind).cmp(&(&b.field, b.kind)))
        });
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::issue::{FieldIssue, RowLocation};

    fn rejected(n: usize, issues: Vec<FieldIssue>) -> RowReport {
        RowReport {
            location: RowLocation::Line(n as u64),
            source_id: Some(format!("id-{n}")),
            outcome: RowOutcome::Rejected { issues },
        }
    }

    fn issue(sev: Severity, kind: IssueKind, field: &str) -> FieldIssue {
        FieldIssue::new(sev, kind, field, "v", format!("{field} is wrong"))
    }

    #[test]
    #[allow(clippy::unwrap_used)]
    fn report_lists_rejections_and_warnings() {
        let rows = vec![rejected(
            2,
            vec![
                issue(Severity::Error, IssueKind::Missing, "pivot"),
                issue(Severity::Warning, IssueKind::Malformed, "telephone"),
                issue(Severity::Info, IssueKind::Mapped, "services"),
            ],
        )];
        let mut out = Vec::new();
        write_report_csv(&rows, &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert_eq!(
            text,
            "location,source_id,status,field,value,reason\n\
             ligne 2,id-2,rejected,pivot,v,pivot is wrong\n\
             ligne 2,id-2,warning,telephone,v,telephone is wrong\n"
        );
        let mut out = Vec::new();
        write_report_csv_with_info(&rows, &mut out).unwrap();
        assert!(String::from_utf8(out).unwrap().contains("info,services"));
    }

    #[test]
    fn summary_ranks_rejection_reasons() {
        let rows = vec![
            rejected(
                2,
                vec![
                    issue(Severity::Error, IssueKind::Missing, "pivot"),
                    issue(Severity::Error, IssueKind::Missing, "date_maj"),
                ],
            ),
            rejected(3, vec![issue(Severity::Error, IssueKind::Missing, "pivot")]),
            rejected(
                4,
                vec![
                    issue(Severity::Error, IssueKind::Malformed, "code_postal"),
                    issue(Severity::Error, IssueKind::Missing, "pivot"),
                ],
            ),
        ];
        let s = summarize(&rows);
        assert_eq!((s.accepted, s.rejected), (0, 3));
        let top: Vec<(&str, usize)> = s
            .top_rejection_reasons(2)
            .iter()
            .map(|r| (r.field.as_str(), r.rows))
            .collect();
        assert_eq!(top, vec![("pivot", 3), ("code_postal", 1)]);
        assert_eq!(s.top_rejection_reasons(10).len(), 3);
        assert!(s.to_string().contains("principales raisons de rejet"));
    }
}
