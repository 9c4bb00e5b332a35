//! Writing records back as a standard v1 CSV.

use std::io::Write;

use maillage_proto::v1::VenueRecord;

use crate::fields::micro_to_decimal;
use crate::row::V1_FIELDS;

/// Why writing a CSV failed.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    /// The CSV writer failed (usually an I/O error underneath).
    #[error("CSV output failed: {0}")]
    Csv(#[from] csv::Error),
    /// Flushing the output failed.
    #[error("I/O error while writing CSV: {0}")]
    Io(#[from] std::io::Error),
}

/// Writes `records` as a CSV of the standard v1: `,`-separated, header in schema order,
/// multi-valued fields `|`-joined, coordinates in decimal degrees (up to 6 decimals), quoted
/// only where needed.
///
/// # Errors
/// [`ExportError`] when the writer fails.
pub fn export_csv_v1<W: Write>(records: &[VenueRecord], w: W) -> Result<(), ExportError> {
    let mut out = csv::WriterBuilder::new()
        .quote_style(csv::QuoteStyle::Necessary)
        .from_writer(w);
    out.write_record(V1_FIELDS)?;
    for record in records {
        out.write_record(v1_cells(record))?;
    }
    out.flush()?;
    Ok(())
}

/// The 32 cells of a record, in [`V1_FIELDS`] order.
#[must_use]
pub fn v1_cells(r: &VenueRecord) -> [String; 32] {
    let join = |values: &[String]| values.join("|");
    let coordinate = |micro: Option<i64>| micro.map(micro_to_decimal).unwrap_or_default();
    [
        r.id.clone(),
        r.pivot.clone(),
        r.nom.clone(),
        r.commune.clone(),
        r.code_postal.clone(),
        r.code_insee.clone(),
        r.adresse.clone(),
        r.complement_adresse.clone(),
        coordinate(r.latitude_micro),
        coordinate(r.longitude_micro),
        join(&r.typologie),
        join(&r.telephone),
        join(&r.courriels),
        join(&r.site_web),
        r.horaires.clone(),
        r.presentation_resume.clone(),
        r.presentation_detail.clone(),
        r.source.clone(),
        join(&r.itinerance),
        r.structure_parente.clone(),
        r.date_maj.clone(),
        join(&r.services),
        join(&r.publics_specifiquement_adresses),
        join(&r.prise_en_charge_specifique),
        join(&r.frais_a_charge),
        join(&r.dispositif_programmes_nationaux),
        join(&r.formations_labels),
        r.autres_formations_labels.clone(),
        join(&r.modalites_acces),
        join(&r.modalites_accompagnement),
        r.fiche_acces_libre.clone(),
        r.prise_rdv.clone(),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[allow(clippy::unwrap_used)]
    fn writes_header_and_quotes_when_needed() {
        let record = VenueRecord {
            id: "a,1".into(),
            nom: "Le \"Lieu\"".into(),
            latitude_micro: Some(-8588),
            longitude_micro: Some(45_000_000),
            services: vec![
                "Aide aux démarches administratives".into(),
                "Loisirs et créations numériques".into(),
            ],
            presentation_detail: "ligne 1\nligne 2".into(),
            ..VenueRecord::default()
        };
        let mut out = Vec::new();
        export_csv_v1(&[record], &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        let mut lines = text.lines();
        assert_eq!(lines.next().unwrap(), V1_FIELDS.join(","));
        assert!(text.contains("\"a,1\",,\"Le \"\"Lieu\"\"\""));
        assert!(text.contains(",-0.008588,45,"));
        assert!(
            text.contains("Aide aux démarches administratives|Loisirs et créations numériques")
        );
        assert!(text.contains("\"ligne 1\nligne 2\""));
    }
}
