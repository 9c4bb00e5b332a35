//! The controlled vocabularies of the standard v1.0.2 and the v0.1.1 → v1 value mapping.
//!
//! The v1 lists are the literals of the regex patterns of `schema.json`, in the schema's order
//! (records list their values in this order). Typologies are the data·inclusion structure
//! codes (`typologies-de-structures.json`, v0).
//!
//! Input values are matched on a folded key (case, accents, apostrophes, whitespace, `-`/`_`
//! ignored), so `Comprehension du monde numerique`, `Étapes numériques (La Poste)` or
//! `tiers-lieux` all find their canonical literal.
//!
//! Size: the standard's controlled vocabularies and the v0.1.1 → v1 mapping are data: lists as
//! published, in the schema's order.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use crate::text::fold;

/// `services` (9 values): the list the vouchers' rules use too.
pub const SERVICES: &[&str] = maillage_core::vocab::Service::LABELS;

/// `publics_specifiquement_adresses`.
pub const PUBLICS_SPECIFIQUEMENT_ADRESSES: &[&str] = &[
    "Jeunes",
    "Étudiants",
    "Familles et/ou enfants",
    "Seniors",
    "Femmes",
];

/// `prise_en_charge_specifique`.
pub const PRISE_EN_CHARGE_SPECIFIQUE: &[&str] = &[
    "Surdité",
    "Handicaps moteurs",
    "Handicaps mentaux",
    "Illettrisme",
    "Langues étrangères (anglais)",
    "Langues étrangères (autres)",
    "Déficience visuelle",
];

/// `frais_a_charge`.
pub const FRAIS_A_CHARGE: &[&str] = &["Gratuit", "Gratuit sous condition", "Payant"];

/// `dispositif_programmes_nationaux`.
pub const DISPOSITIF_PROGRAMMES_NATIONAUX: &[&str] = &[
    "Aidants Connect",
    "Bibliothèques numérique de référence",
    "Certification PIX",
    "Conseillers numériques",
    "Emmaüs Connect",
    "France Services",
    "Grande école du numérique",
    "La Croix Rouge",
    "Point d'accès numérique CAF",
    "Promeneurs du net",
    "Relais numérique (Emmaüs Connect)",
];

/// `formations_labels`. `Étapes numériques(La Poste)` is the schema's literal (without the
/// space the description has), so that exports validate against the pattern.
pub const FORMATIONS_LABELS: &[&str] = &[
    "Formé à « Mon Espace Santé »",
    "Formé à « DUPLEX » (illettrisme)",
    "Arnia/MedNum BFC (Bourgogne-Franche-Comté)",
    "Collectif ressources et acteurs réemploi (Normandie)",
    "Étapes numériques(La Poste)",
    "Fabriques de Territoire",
    "Les Éclaireurs du numérique (Drôme)",
    "Mes Papiers (Métropole de Lyon)",
    "ORDI 3.0",
    "SUD LABS (PACA)",
];

/// `modalites_acces`.
pub const MODALITES_ACCES: &[&str] = &[
    "Se présenter",
    "Téléphoner",
    "Contacter par mail",
    "Prendre un RDV en ligne",
    "Ce lieu n'accueille pas de public",
    "Envoyer un mail avec une fiche de prescription",
];

/// `modalites_accompagnement`.
pub const MODALITES_ACCOMPAGNEMENT: &[&str] = &[
    "En autonomie",
    "Accompagnement individuel",
    "Dans un atelier collectif",
    "À distance",
];

/// `itinerance`.
pub const ITINERANCE: &[&str] = &["Itinérant", "Fixe"];

/// `typologie`: data·inclusion structure codes.
pub const TYPOLOGIES: &[&str] = &[
    "ACI",
    "ACIPHC",
    "AFPA",
    "AI",
    "ASE",
    "ASSO",
    "ASSO_CHOMEUR",
    "AVIP",
    "Autre",
    "BIB",
    "CAARUD",
    "CADA",
    "CAF",
    "CAP_EMPLOI",
    "CAVA",
    "CC",
    "CCAS",
    "CCONS",
    "CD",
    "CDAS",
    "CFP",
    "CHRS",
    "CHU",
    "CIAS",
    "CIDFF",
    "CITMET",
    "CMP",
    "CMS",
    "CPAM",
    "CPH",
    "CS",
    "CSAPA",
    "CSC",
    "DEETS",
    "DEPT",
    "DIPLP",
    "E2C",
    "EA",
    "EATT",
    "EI",
    "EITI",
    "ENM",
    "EPCI",
    "EPI",
    "EPIDE",
    "EPN",
    "ES",
    "ESS",
    "ETABL_PRI",
    "ETABL_PUB",
    "ETAT",
    "ETTI",
    "EVS",
    "FABLAB",
    "FAIS",
    "FT",
    "GEIQ",
    "HUDA",
    "LA_POSTE",
    "MDE",
    "MDEF",
    "MDPH",
    "MDS",
    "MJC",
    "ML",
    "MQ",
    "MSA",
    "MSAP",
    "MUNI",
    "OACAS",
    "ODC",
    "OF",
    "OIL",
    "OPCS",
    "PAD",
    "PENSION",
    "PI",
    "PIJ_BIJ",
    "PIMMS",
    "PJJ",
    "PLIE",
    "PREF",
    "PREVENTION",
    "REG",
    "RESSOURCERIE",
    "RFS",
    "RS_FJT",
    "SCP",
    "SPIP",
    "TIERS_LIEUX",
    "UDAF",
];

/// A v1 field with a controlled vocabulary.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum VocabField {
    /// `services`
    Services,
    /// `publics_specifiquement_adresses`
    PublicsSpecifiquementAdresses,
    /// `prise_en_charge_specifique`
    PriseEnChargeSpecifique,
    /// `frais_a_charge`
    FraisACharge,
    /// `dispositif_programmes_nationaux`
    DispositifProgrammesNationaux,
    /// `formations_labels`
    FormationsLabels,
    /// `modalites_acces`
    ModalitesAcces,
    /// `modalites_accompagnement`
    ModalitesAccompagnement,
    /// `itinerance`
    Itinerance,
    /// `typologie`
    Typologie,
}

impl VocabField {
    /// Every vocabulary field.
    pub const ALL: [Self; 10] = [
        Self::Services,
        Self::PublicsSpecifiquementAdresses,
        Self::PriseEnChargeSpecifique,
        Self::FraisACharge,
        Self::DispositifProgrammesNationaux,
        Self::FormationsLabels,
        Self::ModalitesAcces,
        Self::ModalitesAccompagnement,
        Self::Itinerance,
        Self::Typologie,
    ];

    /// The v1 field name.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Self::Services => "services",
            Self::PublicsSpecifiquementAdresses => "publics_specifiquement_adresses",
            Self::PriseEnChargeSpecifique => "prise_en_charge_specifique",
            Self::FraisACharge => "frais_a_charge",
            Self::DispositifProgrammesNationaux => "dispositif_programmes_nationaux",
            Self::FormationsLabels => "formations_labels",
            Self::ModalitesAcces => "modalites_acces",
            Self::ModalitesAccompagnement => "modalites_accompagnement",
            Self::Itinerance => "itinerance",
            Self::Typologie => "typologie",
        }
    }

    /// The canonical values, in the standard's order.
    #[must_use]
    pub fn values(self) -> &'static [&'static str] {
        match self {
            Self::Services => SERVICES,
            Self::PublicsSpecifiquementAdresses => PUBLICS_SPECIFIQUEMENT_ADRESSES,
            Self::PriseEnChargeSpecifique => PRISE_EN_CHARGE_SPECIFIQUE,
            Self::FraisACharge => FRAIS_A_CHARGE,
            Self::DispositifProgrammesNationaux => DISPOSITIF_PROGRAMMES_NATIONAUX,
            Self::FormationsLabels => FORMATIONS_LABELS,
            Self::ModalitesAcces => MODALITES_ACCES,
            Self::ModalitesAccompagnement => MODALITES_ACCOMPAGNEMENT,
            Self::Itinerance => ITINERANCE,
            Self::Typologie => TYPOLOGIES,
        }
    }

    /// True when `value` is exactly one of the canonical literals.
    #[must_use]
    pub fn contains(self, value: &str) -> bool {
        self.values().contains(&value)
    }
}

/// A group of input columns whose values are looked up together: a v0.1.1 column often feeds
/// several v1 fields, and producers put values in the wrong one of two sibling fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum Family {
    Services,
    Publics,
    Frais,
    Labels,
    ModalitesAcces,
    ModalitesAccompagnement,
    Itinerance,
    Typologie,
}

impl Family {
    /// The v1 fields whose literals are valid in this family.
    pub(crate) fn fields(self) -> &'static [VocabField] {
        match self {
            Self::Services => &[VocabField::Services],
            Self::Publics => &[
                VocabField::PublicsSpecifiquementAdresses,
                VocabField::PriseEnChargeSpecifique,
            ],
            Self::Frais => &[VocabField::FraisACharge],
            Self::Labels => &[
                VocabField::DispositifProgrammesNationaux,
                VocabField::FormationsLabels,
            ],
            Self::ModalitesAcces => &[VocabField::ModalitesAcces],
            Self::ModalitesAccompagnement => &[VocabField::ModalitesAccompagnement],
            Self::Itinerance => &[VocabField::Itinerance],
            Self::Typologie => &[VocabField::Typologie],
        }
    }
}

/// What a matched input value means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Effect {
    /// A v1 literal (possibly spelled differently).
    Canonical,
    /// A v0.1.1 (or other legacy) value with a v1 equivalent.
    Legacy,
    /// v0.1.1 `Accepte le Pass numérique`: no v1 equivalent, flagged.
    PassNumerique,
    /// v0.1.1 `APTIC` label: no v1 equivalent, flagged.
    Aptic,
    /// No v1 equivalent and nothing to keep; the text explains why (in French, then English).
    NoEquivalent(&'static str, &'static str),
    /// No v1 equivalent: kept in `autres_formations_labels` under this label.
    OtherLabel(&'static str),
}

/// The meaning of a matched input value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Mapping {
    /// v1 values to add: (field, index in the field's vocabulary).
    pub(crate) targets: Vec<(VocabField, usize)>,
    pub(crate) effect: Effect,
}

impl Mapping {
    /// The canonical literals of the targets.
    pub(crate) fn target_values(&self) -> impl Iterator<Item = (VocabField, &'static str)> + '_ {
        self.targets
            .iter()
            .filter_map(|&(f, i)| f.values().get(i).map(|v| (f, *v)))
    }
}

type Target = (VocabField, &'static str);

/// Legacy values: (family, input value, v1 targets, effect).
const LEGACY: &[(Family, &str, &[Target], Effect)] = {
    use Effect::{Aptic, Legacy, NoEquivalent, OtherLabel, PassNumerique};
    use Family as F;
    use VocabField as V;
    const ADMIN: &[Target] = &[(V::Services, "Aide aux démarches administratives")];
    const OUTILS: &[Target] = &[(V::Services, "Maîtrise des outils numériques du quotidien")];
    const INSERTION: &[Target] = &[(V::Services, "Insertion professionnelle via le numérique")];
    const COMPREHENSION: &[Target] = &[(V::Services, "Compréhension du monde numérique")];
    const ACCES: &[Target] = &[(V::Services, "Accès internet et matériel informatique")];
    const INDIVIDUEL: &[Target] = &[(V::ModalitesAccompagnement, "Accompagnement individuel")];
    const AUTONOMIE: &[Target] = &[(V::ModalitesAccompagnement, "En autonomie")];
    const ATELIER: &[Target] = &[(V::ModalitesAccompagnement, "Dans un atelier collectif")];
    const GRATUIT: &[Target] = &[(V::FraisACharge, "Gratuit")];
    const SOUS_CONDITION: &[Target] = &[(V::FraisACharge, "Gratuit sous condition")];
    const PAYANT: &[Target] = &[(V::FraisACharge, "Payant")];
    const CAF: &[Target] = &[(
        V::DispositifProgrammesNationaux,
        "Point d'accès numérique CAF",
    )];
    const CNFS: &[Target] = &[(V::DispositifProgrammesNationaux, "Conseillers numériques")];
    const MENTAUX: &[Target] = &[(V::PriseEnChargeSpecifique, "Handicaps mentaux")];
    const NONE: &[Target] = &[];
    &[
        // services: 15 → 9
        (
            F::Services,
            "Devenir autonome dans les démarches administratives",
            ADMIN,
            Legacy,
        ),
        (
            F::Services,
            "Réaliser des démarches administratives avec un accompagnement",
            ADMIN,
            Legacy,
        ),
        (
            F::Services,
            "Accompagner les démarches de santé",
            ADMIN,
            Legacy,
        ),
        (
            F::Services,
            "Prendre en main un smartphone ou une tablette",
            OUTILS,
            Legacy,
        ),
        (F::Services, "Prendre en main un ordinateur", OUTILS, Legacy),
        (
            F::Services,
            "Utiliser le numérique au quotidien",
            OUTILS,
            Legacy,
        ),
        (
            F::Services,
            "Approfondir ma culture numérique",
            COMPREHENSION,
            Legacy,
        ),
        (
            F::Services,
            "Promouvoir la citoyenneté numérique",
            COMPREHENSION,
            Legacy,
        ),
        (
            F::Services,
            "Favoriser mon insertion professionnelle",
            INSERTION,
            Legacy,
        ),
        (
            F::Services,
            "Créer et développer mon entreprise",
            INSERTION,
            Legacy,
        ),
        (
            F::Services,
            "Accéder à une connexion internet",
            ACCES,
            Legacy,
        ),
        (F::Services, "Accéder à du matériel", ACCES, Legacy),
        (
            F::Services,
            "S'équiper en matériel informatique",
            &[(
                V::Services,
                "Acquisition de matériel informatique à prix solidaire",
            )],
            Legacy,
        ),
        (
            F::Services,
            "Créer avec le numérique",
            &[(V::Services, "Loisirs et créations numériques")],
            Legacy,
        ),
        (
            F::Services,
            "Soutenir la parentalité et l'éducation avec le numérique",
            &[(V::Services, "Parentalité et éducation avec le numérique")],
            Legacy,
        ),
        // publics_accueillis → publics_specifiquement_adresses + prise_en_charge_specifique
        (
            F::Publics,
            "Seniors (+ 65 ans)",
            &[(V::PublicsSpecifiquementAdresses, "Seniors")],
            Legacy,
        ),
        (
            F::Publics,
            "Familles/enfants",
            &[(V::PublicsSpecifiquementAdresses, "Familles et/ou enfants")],
            Legacy,
        ),
        (
            F::Publics,
            "Jeunes (16-26 ans)",
            &[(V::PublicsSpecifiquementAdresses, "Jeunes")],
            Legacy,
        ),
        (
            F::Publics,
            "Uniquement femmes",
            &[(V::PublicsSpecifiquementAdresses, "Femmes")],
            Legacy,
        ),
        (
            F::Publics,
            "Adultes",
            NONE,
            NoEquivalent(
                "la v1 ne liste que les publics qu'un lieu accueille spécifiquement ; tout lieu \
                 accueille des adultes",
                "v1 only lists publics a venue specifically addresses; every venue welcomes adults",
            ),
        ),
        (
            F::Publics,
            "Public langues étrangères",
            &[(V::PriseEnChargeSpecifique, "Langues étrangères (autres)")],
            Legacy,
        ),
        (
            F::Publics,
            "Personnes en situation d'illettrisme",
            &[(V::PriseEnChargeSpecifique, "Illettrisme")],
            Legacy,
        ),
        (
            F::Publics,
            "Handicaps psychiques : troubles psychiatriques donnant lieu à des atteintes comportementales",
            MENTAUX,
            Legacy,
        ),
        (
            F::Publics,
            "Handicaps mentaux : déficiences limitant les activités d'une personne",
            MENTAUX,
            Legacy,
        ),
        (F::Publics, "Handicaps psychiques", MENTAUX, Legacy),
        // conditions_acces → frais_a_charge
        (
            F::Frais,
            "Gratuit : Je peux accéder gratuitement au lieu et à ses services",
            GRATUIT,
            Legacy,
        ),
        (
            F::Frais,
            "Gratuit sous condition : La gratuité est conditionnée à des critères (situation familiale, convention avec un organisme social...)",
            SOUS_CONDITION,
            Legacy,
        ),
        (F::Frais, "Gratuit sous conditions", SOUS_CONDITION, Legacy),
        (
            F::Frais,
            "Payant : L'accès au lieu et/ou à ses services est payant",
            PAYANT,
            Legacy,
        ),
        (
            F::Frais,
            "Adhésion : L'accès au lieu et/ou à ses services nécessite d'y adhérer",
            PAYANT,
            Legacy,
        ),
        (F::Frais, "Adhésion", PAYANT, Legacy),
        (
            F::Frais,
            "Accepte le Pass numérique : Il est possible d'utiliser un Pass numérique pour accéder au lieu",
            NONE,
            PassNumerique,
        ),
        (F::Frais, "Accepte le Pass numérique", NONE, PassNumerique),
        (F::Frais, "Pass numérique", NONE, PassNumerique),
        (F::Frais, "pass-numerique", NONE, PassNumerique),
        // labels_nationaux → dispositif_programmes_nationaux + formations_labels
        (F::Labels, "CNFS", CNFS, Legacy),
        (F::Labels, "Conseiller numérique", CNFS, Legacy),
        (F::Labels, "conseiller-numerique", CNFS, Legacy),
        (F::Labels, "APTIC", NONE, Aptic),
        (
            F::Labels,
            "Grandes écoles du numérique",
            &[(
                V::DispositifProgrammesNationaux,
                "Grande école du numérique",
            )],
            Legacy,
        ),
        (F::Labels, "Point relais CAF", CAF, Legacy),
        (F::Labels, "Point numérique CAF", CAF, Legacy),
        (
            F::Labels,
            "France Service",
            &[(V::DispositifProgrammesNationaux, "France Services")],
            Legacy,
        ),
        (
            F::Labels,
            "Bibliothèque numérique de référence",
            &[(
                V::DispositifProgrammesNationaux,
                "Bibliothèques numérique de référence",
            )],
            Legacy,
        ),
        (
            F::Labels,
            "Fabrique de Territoire",
            &[(V::FormationsLabels, "Fabriques de Territoire")],
            Legacy,
        ),
        (
            F::Labels,
            "Relais pôle emploi",
            NONE,
            OtherLabel("Relais pôle emploi"),
        ),
        (F::Labels, "French Tech", NONE, OtherLabel("French Tech")),
        (
            F::Labels,
            "Campus connecté",
            NONE,
            OtherLabel("Campus connecté"),
        ),
        // modalites_accompagnement: renamed values
        (
            F::ModalitesAccompagnement,
            "Seul : j'ai accès à du matériel et une connexion",
            AUTONOMIE,
            Legacy,
        ),
        (F::ModalitesAccompagnement, "Seul", AUTONOMIE, Legacy),
        (
            F::ModalitesAccompagnement,
            "Avec de l'aide : je suis accompagné seul dans l'usage du numérique",
            INDIVIDUEL,
            Legacy,
        ),
        (
            F::ModalitesAccompagnement,
            "Avec de l'aide",
            INDIVIDUEL,
            Legacy,
        ),
        (
            F::ModalitesAccompagnement,
            "Dans un atelier : j'apprends collectivement à utiliser le numérique",
            ATELIER,
            Legacy,
        ),
        (
            F::ModalitesAccompagnement,
            "Dans un atelier",
            ATELIER,
            Legacy,
        ),
        (
            F::ModalitesAccompagnement,
            "A ma place : une personne habilitée fait les démarches à ma place",
            INDIVIDUEL,
            Legacy,
        ),
        (F::ModalitesAccompagnement, "A ma place", INDIVIDUEL, Legacy),
        // typologie: a few spelled-out names
        (
            F::Typologie,
            "Tiers-lieu",
            &[(V::Typologie, "TIERS_LIEUX")],
            Legacy,
        ),
        (
            F::Typologie,
            "France Services",
            &[(V::Typologie, "RFS")],
            Legacy,
        ),
        (
            F::Typologie,
            "Médiathèque",
            &[(V::Typologie, "BIB")],
            Legacy,
        ),
        (
            F::Typologie,
            "Bibliothèque",
            &[(V::Typologie, "BIB")],
            Legacy,
        ),
        (F::Typologie, "Mairie", &[(V::Typologie, "MUNI")], Legacy),
        (
            F::Typologie,
            "Centre social",
            &[(V::Typologie, "CS")],
            Legacy,
        ),
    ]
};

const FAMILIES: [Family; 8] = [
    Family::Services,
    Family::Publics,
    Family::Frais,
    Family::Labels,
    Family::ModalitesAcces,
    Family::ModalitesAccompagnement,
    Family::Itinerance,
    Family::Typologie,
];

static TABLE: LazyLock<BTreeMap<(Family, String), Mapping>> = LazyLock::new(build_table);

fn build_table() -> BTreeMap<(Family, String), Mapping> {
    let mut table = BTreeMap::new();
    for family in FAMILIES {
        for &field in family.fields() {
            for (i, value) in field.values().iter().enumerate() {
                let mapping = Mapping {
                    targets: vec![(field, i)],
                    effect: Effect::Canonical,
                };
                table.entry((family, fold(value))).or_insert(mapping);
            }
        }
    }
    for &(family, alias, targets, effect) in LEGACY {
        let targets = targets
            .iter()
            .filter_map(|&(f, v)| index_of(f, v))
            .collect();
        table
            .entry((family, fold(alias)))
            .or_insert(Mapping { targets, effect });
    }
    table
}

fn index_of(field: VocabField, value: &str) -> Option<(VocabField, usize)> {
    field
        .values()
        .iter()
        .position(|v| *v == value)
        .map(|i| (field, i))
}

/// Looks a value up: the whole value, then the label before ` : ` (v0.1.1 values and v1
/// descriptions carry an explanation after it), then without a trailing `(…)`.
pub(crate) fn resolve(family: Family, value: &str) -> Option<&'static Mapping> {
    let table = &*TABLE;
    let lookup = |v: &str| table.get(&(family, fold(v)));
    lookup(value)
        .or_else(|| value.split_once(':').and_then(|(head, _)| lookup(head)))
        .or_else(|| {
            value
                .strip_suffix(')')
                .and_then(|v| v.rsplit_once('('))
                .and_then(|(head, _)| lookup(head))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_legacy_target_exists() {
        for &(_, alias, targets, _) in LEGACY {
            for &(field, value) in targets {
                assert!(
                    index_of(field, value).is_some(),
                    "{alias}: {value} is not in {}",
                    field.name()
                );
            }
        }
    }

    #[test]
    fn literals_round_trip_through_the_table() {
        for field in VocabField::ALL {
            for value in field.values() {
                let family = FAMILIES
                    .iter()
                    .copied()
                    .find(|f| f.fields().contains(&field));
                let Some(family) = family else {
                    panic!("no family for {}", field.name())
                };
                let Some(m) = resolve(family, value) else {
                    panic!("{value} not found")
                };
                assert_eq!(m.effect, Effect::Canonical);
                assert_eq!(m.target_values().collect::<Vec<_>>(), vec![(field, *value)]);
            }
        }
    }

    #[test]
    fn folded_variants_resolve() {
        let check = |family, input: &str, expected: &str| {
            let m = resolve(family, input);
            let got: Vec<_> = m
                .map(|m| m.target_values().map(|(_, v)| v).collect())
                .unwrap_or_default();
            assert_eq!(got, vec![expected], "{input}");
        };
        check(
            Family::Services,
            "Comprehension du monde numerique",
            "Compréhension du monde numérique",
        );
        check(
            Family::Services,
            "  maîtrise des outils numériques du quotidien ",
            "Maîtrise des outils numériques du quotidien",
        );
        check(
            Family::Labels,
            "Étapes numériques (La Poste)",
            "Étapes numériques(La Poste)",
        );
        check(
            Family::ModalitesAcces,
            "Ce lieu n’accueille pas de public",
            "Ce lieu n'accueille pas de public",
        );
        check(
            Family::ModalitesAccompagnement,
            "À distance (par téléphone ou en visioconférence)",
            "À distance",
        );
        check(
            Family::ModalitesAccompagnement,
            "Dans un atelier collectif : j'apprends collectivement à utiliser le numérique",
            "Dans un atelier collectif",
        );
        check(Family::Typologie, "tiers-lieux", "TIERS_LIEUX");
        check(Family::Typologie, "autre", "Autre");
        check(
            Family::Publics,
            "Langues étrangères (anglais)",
            "Langues étrangères (anglais)",
        );
    }

    #[test]
    fn unknown_values_do_not_resolve() {
        assert!(resolve(Family::Services, "Danse contemporaine").is_none());
        assert!(resolve(Family::Typologie, "XYZ").is_none());
        assert!(resolve(Family::Frais, "").is_none());
    }
}
