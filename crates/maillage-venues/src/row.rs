//! The raw, untyped row every input layout is read into, and the column names it knows.

use std::collections::BTreeMap;

use crate::issue::FieldIssue;

/// The 32 fields of the standard v1, in schema order (the header of a v1 export).
pub const V1_FIELDS: [&str; 32] = [
    "id",
    "pivot",
    "nom",
    "commune",
    "code_postal",
    "code_insee",
    "adresse",
    "complement_adresse",
    "latitude",
    "longitude",
    "typologie",
    "telephone",
    "courriels",
    "site_web",
    "horaires",
    "presentation_resume",
    "presentation_detail",
    "source",
    "itinerance",
    "structure_parente",
    "date_maj",
    "services",
    "publics_specifiquement_adresses",
    "prise_en_charge_specifique",
    "frais_a_charge",
    "dispositif_programmes_nationaux",
    "formations_labels",
    "autres_formations_labels",
    "modalites_acces",
    "modalites_accompagnement",
    "fiche_acces_libre",
    "prise_rdv",
];

/// An input field: the 32 v1 fields plus the v0.1.1 columns that split into several v1
/// fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum Field {
    Id,
    Pivot,
    Nom,
    Commune,
    CodePostal,
    CodeInsee,
    Adresse,
    ComplementAdresse,
    Latitude,
    Longitude,
    Typologie,
    Telephone,
    Courriels,
    SiteWeb,
    Horaires,
    PresentationResume,
    PresentationDetail,
    Source,
    Itinerance,
    StructureParente,
    DateMaj,
    Services,
    PublicsSpecifiquementAdresses,
    PriseEnChargeSpecifique,
    FraisACharge,
    DispositifProgrammesNationaux,
    FormationsLabels,
    AutresFormationsLabels,
    ModalitesAcces,
    ModalitesAccompagnement,
    FicheAccesLibre,
    PriseRdv,
    /// v0.1.1 `publics_accueillis` → `publics_specifiquement_adresses` +
    /// `prise_en_charge_specifique`.
    PublicsAccueillis,
    /// v0.1.1 `conditions_acces` → `frais_a_charge`.
    ConditionsAcces,
    /// v0.1.1 `labels_nationaux` → `dispositif_programmes_nationaux` + `formations_labels`.
    LabelsNationaux,
}

const V1: [Field; 32] = [
    Field::Id,
    Field::Pivot,
    Field::Nom,
    Field::Commune,
    Field::CodePostal,
    Field::CodeInsee,
    Field::Adresse,
    Field::ComplementAdresse,
    Field::Latitude,
    Field::Longitude,
    Field::Typologie,
    Field::Telephone,
    Field::Courriels,
    Field::SiteWeb,
    Field::Horaires,
    Field::PresentationResume,
    Field::PresentationDetail,
    Field::Source,
    Field::Itinerance,
    Field::StructureParente,
    Field::DateMaj,
    Field::Services,
    Field::PublicsSpecifiquementAdresses,
    Field::PriseEnChargeSpecifique,
    Field::FraisACharge,
    Field::DispositifProgrammesNationaux,
    Field::FormationsLabels,
    Field::AutresFormationsLabels,
    Field::ModalitesAcces,
    Field::ModalitesAccompagnement,
    Field::FicheAccesLibre,
    Field::PriseRdv,
];

impl Field {
    /// The field's name: the v1 name, or the v0.1.1 column name for v0-only fields.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Self::PublicsAccueillis => "publics_accueillis",
            Self::ConditionsAcces => "conditions_acces",
            Self::LabelsNationaux => "labels_nationaux",
            _ => V1
                .iter()
                .position(|f| *f == self)
                .and_then(|i| V1_FIELDS.get(i))
                .copied()
                .unwrap_or("?"),
        }
    }

    /// Fields whose cells hold several values (`|` or `;` separated).
    pub(crate) fn is_multi(self) -> bool {
        matches!(
            self,
            Self::Typologie
                | Self::Telephone
                | Self::Courriels
                | Self::SiteWeb
                | Self::Itinerance
                | Self::Services
                | Self::PublicsSpecifiquementAdresses
                | Self::PriseEnChargeSpecifique
                | Self::FraisACharge
                | Self::DispositifProgrammesNationaux
                | Self::FormationsLabels
                | Self::AutresFormationsLabels
                | Self::ModalitesAcces
                | Self::ModalitesAccompagnement
                | Self::PublicsAccueillis
                | Self::ConditionsAcces
                | Self::LabelsNationaux
        )
    }
}

/// Whether a column name is the v1 name or a v0.1.1 one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Origin {
    V1,
    V0,
}

/// What a column of a standard file (v1 or v0.1.1 names) means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Column {
    Field(Field, Origin),
    /// A known column with no v1 equivalent; the text says why it is ignored.
    Ignored(&'static str),
    Unknown,
}

/// Maps a column name (any case, surrounding spaces ignored) to its meaning.
pub(crate) fn column(name: &str) -> Column {
    let name = name.trim().trim_matches('"').trim().to_lowercase();
    if let Some(i) = V1_FIELDS.iter().position(|f| *f == name)
        && let Some(&field) = V1.get(i)
    {
        return Column::Field(field, Origin::V1);
    }
    match name.as_str() {
        "courriel" => Column::Field(Field::Courriels, Origin::V0),
        "accessibilite" => Column::Field(Field::FicheAccesLibre, Origin::V0),
        "labels_autres" | "autres_labels" => {
            Column::Field(Field::AutresFormationsLabels, Origin::V0)
        }
        "publics_accueillis" => Column::Field(Field::PublicsAccueillis, Origin::V0),
        "conditions_acces" => Column::Field(Field::ConditionsAcces, Origin::V0),
        "labels_nationaux" => Column::Field(Field::LabelsNationaux, Origin::V0),
        "cle_ban" => Column::Ignored(maillage_core::lang::t(
            "la v1 n'a pas de champ pour la clé BAN",
            "v1 has no BAN key field",
        )),
        _ => Column::Unknown,
    }
}

/// One input row before validation.
#[derive(Debug, Default)]
pub(crate) struct RawRow {
    values: BTreeMap<Field, (String, Origin)>,
    /// Issues found while reading the row (JSON types, layout mapping…).
    pub(crate) issues: Vec<FieldIssue>,
    /// Set by layouts that carry the APTIC label outside the standard's fields.
    pub(crate) declares_pass_numerique: bool,
    /// A département stated by the layout itself, cross-checked with the derived one.
    pub(crate) stated_departement: Option<String>,
}

impl RawRow {
    /// Adds a value. Multi-valued fields accumulate (`|`-joined); for single-valued fields a
    /// v1 column wins over its v0.1.1 alias, else the first non-empty value is kept.
    pub(crate) fn insert(&mut self, field: Field, value: String, origin: Origin) {
        if value.trim().is_empty() {
            return;
        }
        match self.values.get_mut(&field) {
            None => {
                self.values.insert(field, (value, origin));
            }
            Some((existing, _)) if field.is_multi() => {
                existing.push('|');
                existing.push_str(&value);
            }
            Some(slot) if origin == Origin::V1 && slot.1 == Origin::V0 => {
                *slot = (value, origin);
            }
            Some(_) => {}
        }
    }

    pub(crate) fn get(&self, field: Field) -> Option<&str> {
        self.values.get(&field).map(|(v, _)| v.as_str())
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.values.is_empty()
    }
}

/// What the whole file tells about its rows.
#[derive(Debug, Default)]
pub(crate) struct FileContext {
    /// Required fields the file's layout cannot provide, with an explanation (used in the
    /// rejection reason instead of a bare "missing").
    pub(crate) absent: BTreeMap<Field, String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for (i, name) in V1_FIELDS.iter().enumerate() {
            assert_eq!(column(name), Column::Field(V1[i], Origin::V1));
            assert_eq!(V1[i].name(), *name);
        }
        assert_eq!(
            column(" Courriel "),
            Column::Field(Field::Courriels, Origin::V0)
        );
        assert_eq!(Field::LabelsNationaux.name(), "labels_nationaux");
        assert_eq!(column("bfc_id"), Column::Unknown);
    }

    #[test]
    fn v1_columns_win_over_v0_aliases() {
        let mut row = RawRow::default();
        row.insert(Field::FicheAccesLibre, "https://a.fr".into(), Origin::V0);
        row.insert(Field::FicheAccesLibre, "https://b.fr".into(), Origin::V1);
        row.insert(Field::FicheAccesLibre, "https://c.fr".into(), Origin::V0);
        assert_eq!(row.get(Field::FicheAccesLibre), Some("https://b.fr"));
        row.insert(Field::Courriels, "a@b.fr".into(), Origin::V0);
        row.insert(Field::Courriels, "c@d.fr".into(), Origin::V1);
        row.insert(Field::Courriels, "  ".into(), Origin::V1);
        assert_eq!(row.get(Field::Courriels), Some("a@b.fr|c@d.fr"));
    }
}
