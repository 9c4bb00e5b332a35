//! What each file of the analysts' export holds, column by column: its name, its type and a
//! description in French. The Parquet files take their column types from here
//! ([`crate::export_parquet`]) and `datapackage.json` its schemas ([`crate::export_datapackage`]),
//! so both say the same; the CSV writers keep their own column lists, checked against these by
//! a test.

/// The files of an export.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Table {
    /// lieux.csv: open venues, national standard v1.
    Venues,
    /// venues.csv: every venue by its venue id, closed ones included.
    VenueIndex,
    /// vouchers.csv: one row per voucher.
    Vouchers,
    /// referrals.csv: one row per referral.
    Referrals,
    /// events.csv: one row per applied event.
    Events,
    /// stats.csv: the national figures, one value a row.
    Stats,
    /// indicators.csv: the national indicators, one value a row.
    Indicators,
}

impl Table {
    /// Every file, in the order they are written.
    pub const ALL: [Table; 7] = [
        Self::Venues,
        Self::VenueIndex,
        Self::Vouchers,
        Self::Referrals,
        Self::Events,
        Self::Stats,
        Self::Indicators,
    ];

    /// The file's name.
    pub fn file_name(self) -> &'static str {
        match self {
            Self::Venues => "lieux.csv",
            Self::VenueIndex => "venues.csv",
            Self::Vouchers => "vouchers.csv",
            Self::Referrals => "referrals.csv",
            Self::Events => "events.csv",
            Self::Stats => "stats.csv",
            Self::Indicators => "indicators.csv",
        }
    }

    /// The file's name without its extension: the name of its resource in `datapackage.json`
    /// and of its Parquet file.
    pub fn stem(self) -> &'static str {
        self.file_name().trim_end_matches(".csv")
    }

    pub fn rows_are(self) -> &'static str {
        let t = maillage_core::lang::t;
        match self {
            Self::Venues => t(
                "lieux ouverts, standard national v1",
                "open venues, national standard v1",
            ),
            Self::VenueIndex => t("lieux, fermés compris", "venues, closed ones included"),
            Self::Vouchers => t("pass", "vouchers"),
            Self::Referrals => t("orientations", "referrals"),
            Self::Events => t("événements", "events"),
            Self::Stats => t("chiffres", "figures"),
            Self::Indicators => t("valeurs d'indicateurs", "indicator values"),
        }
    }

    /// The Parquet file written beside the CSV, if any: every table but `lieux.csv` (the
    /// national standard's own file, whose rows `venues.csv` already holds). `events` is
    /// split by month instead ([`crate::export_parquet::EVENTS_DIR`]).
    pub fn parquet_name(self) -> Option<String> {
        match self {
            Self::Venues => None,
            _ => Some(format!("{}.parquet", self.stem())),
        }
    }

    /// What one row is, in French.
    pub fn title(self) -> &'static str {
        match self {
            Self::Venues => {
                "Lieux ouverts, au standard national des lieux d'inclusion numérique v1"
            }
            Self::VenueIndex => "Lieux, fermés compris, par identifiant de lieu",
            Self::Vouchers => "Pass numériques, un par ligne, avec leur statut à la date d'export",
            Self::Referrals => "Orientations, une par ligne, avec leur statut à la date d'export",
            Self::Events => "Événements appliqués, un par ligne, par horloge",
            Self::Stats => "Chiffres nationaux, une valeur par ligne",
            Self::Indicators => "Indicateurs nationaux, une valeur par ligne",
        }
    }

    /// The columns that name a row, if the file has such a key.
    pub fn primary_key(self) -> Option<&'static str> {
        match self {
            Self::VenueIndex => Some("venue_id"),
            Self::Vouchers => Some("serial"),
            Self::Referrals => Some("referral_id"),
            Self::Events => Some("event_id"),
            Self::Venues | Self::Stats | Self::Indicators => None,
        }
    }

    /// The columns that name a row of another file: (column, that file, its column).
    pub fn foreign_keys(self) -> &'static [(&'static str, Table, &'static str)] {
        match self {
            Self::Vouchers => &[("redeemed_venue_id", Self::VenueIndex, "venue_id")],
            Self::Referrals => &[
                ("target_venue_id", Self::VenueIndex, "venue_id"),
                ("accepted_venue_id", Self::VenueIndex, "venue_id"),
            ],
            _ => &[],
        }
    }
}

/// A column's type, as Frictionless Table Schema names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Text (UTF-8 in Parquet), codes included: `04`, `2A`, `01000`.
    Text,
    /// A whole number (INT64 in Parquet).
    Integer,
    /// A decimal number (DOUBLE in Parquet).
    Number,
    /// `1` or `0` in the CSV (BOOLEAN in Parquet).
    Boolean,
    /// `YYYY-MM-DD` in the CSV (DATE in Parquet).
    Date,
}

impl Kind {
    /// Its name in a Table Schema.
    pub fn name(self) -> &'static str {
        match self {
            Self::Text => "string",
            Self::Integer => "integer",
            Self::Number => "number",
            Self::Boolean => "boolean",
            Self::Date => "date",
        }
    }
}

/// One column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Field {
    pub name: &'static str,
    pub kind: Kind,
    /// In French.
    pub description: &'static str,
}

const fn f(name: &'static str, kind: Kind, description: &'static str) -> Field {
    Field {
        name,
        kind,
        description,
    }
}

use Kind::{Boolean as B, Date as D, Integer as I, Number as N, Text as T};

const HUB: &str = "Nom du hub, tel que la charte de la fédération le nomme";
const HUB_KEY: &str = "Début de la clé publique du hub (16 caractères hexadécimaux)";
const AS_OF: &str = "Date pour laquelle les statuts et chiffres sont calculés";

const VENUES: [Field; 16] = [
    f(
        "venue_id",
        T,
        "Identifiant du lieu dans la fédération, que les autres fichiers nomment",
    ),
    f(
        "source_id",
        T,
        "Identifiant du lieu dans son fichier source (colonne id de lieux.csv)",
    ),
    f("hub", T, "Hub qui tient le lieu"),
    f("hub_key", T, HUB_KEY),
    f("nom", T, "Nom du lieu"),
    f("commune", T, "Commune du lieu"),
    f(
        "code_postal",
        T,
        "Code postal, en texte (01000 garde son zéro)",
    ),
    f(
        "code_insee",
        T,
        "Code INSEE de la commune, en texte (2A004)",
    ),
    f(
        "departement",
        T,
        "Code du département, en texte (04, 2A, 971)",
    ),
    f("departement_nom", T, "Nom du département"),
    f(
        "pivot",
        T,
        "SIRET ou RNA de la structure (pivot du standard)",
    ),
    f("status", T, "open (ouvert) ou closed (fermé)"),
    f(
        "closed_on",
        D,
        "Jour de fermeture (UTC, horloge du hub auteur)",
    ),
    f("closing_reason", T, "Motif de fermeture"),
    f(
        "qualified_until",
        D,
        "Fin de la qualification en cours (vide : non qualifié)",
    ),
    f("updates", I, "Nombre de mises à jour reçues par le lieu"),
];

const VOUCHERS: [Field; 24] = [
    f("serial", T, "Numéro du pass (LOT-N)"),
    f("batch", T, "Lot émis"),
    f("number", I, "Rang du pass dans son lot"),
    f("issuer_hub", T, "Hub émetteur"),
    f("issuer_key", T, HUB_KEY),
    f("funder", T, "Financeur du lot"),
    f("funder_siret", T, "SIRET du financeur, en texte"),
    f("face_value_cents", I, "Valeur faciale, en centimes d'euro"),
    f("valid_from", D, "Début de validité"),
    f("valid_until", D, "Fin de validité"),
    f("redeem_deadline", D, "Date limite d'encaissement"),
    f(
        "status",
        T,
        "Statut à la date as_of : issued, handed_out, redeemed, cancelled ou expired",
    ),
    f("as_of", D, AS_OF),
    f("handed_out", B, "Remis à une personne"),
    f("redeemed_on", D, "Jour d'encaissement"),
    f(
        "redeemed_venue_id",
        T,
        "Lieu où le pass a été encaissé (venue_id de venues)",
    ),
    f("redeemed_service", T, "Service rendu contre le pass"),
    f(
        "redeemed_via_claim",
        B,
        "Encaissé par une réclamation acceptée",
    ),
    f("settled", B, "Remboursé au lieu"),
    f("owner_hub", T, "Hub qui détient le pass"),
    f("owner_key", T, HUB_KEY),
    f("transfers", I, "Nombre de transferts entre hubs"),
    f("pending_claims", I, "Réclamations en attente"),
    f("handed_out_on", D, "Jour de remise"),
];

const REFERRALS: [Field; 18] = [
    f("referral_id", T, "Identifiant de l'orientation"),
    f("opened_on", D, "Jour d'ouverture"),
    f("opened_by_hub", T, "Hub qui a ouvert l'orientation"),
    f("opened_by_key", T, HUB_KEY),
    f(
        "prescriber_kind",
        T,
        "Type de prescripteur (sans le nom du guichet)",
    ),
    f("needs", T, "Besoins, séparés par |"),
    f(
        "target_venue_id",
        T,
        "Lieu visé (venue_id de venues), s'il y en a un",
    ),
    f("target_departement", T, "Département visé, en texte"),
    f("handling_hub", T, "Hub qui traite l'orientation"),
    f("handling_key", T, HUB_KEY),
    f(
        "status",
        T,
        "Statut à la date as_of : open, expired, accepted, declined ou l'issue",
    ),
    f("as_of", D, AS_OF),
    f(
        "expires_on",
        D,
        "Jour d'expiration d'une orientation encore ouverte",
    ),
    f("accepted_on", D, "Jour d'acceptation"),
    f(
        "accepted_venue_id",
        T,
        "Lieu qui a accepté (venue_id de venues)",
    ),
    f("days_to_accept", I, "Jours entre ouverture et acceptation"),
    f("outcome", T, "Issue à la clôture"),
    f("autonomy", T, "Autonomie constatée à la clôture"),
];

const EVENTS: [Field; 13] = [
    f(
        "signed_on",
        D,
        "Jour de signature (UTC, horloge du hub auteur)",
    ),
    f("hlc", I, "Horloge logique hybride de l'auteur"),
    f("hub", T, "Hub auteur"),
    f("hub_key", T, HUB_KEY),
    f("seq", I, "Rang de l'événement dans le flux de son auteur"),
    f("event_id", T, "Identifiant de l'événement (hexadécimal)"),
    f(
        "kind",
        T,
        "Type d'événement (voucher_redeemed, referral_opened…)",
    ),
    f(
        "event_date",
        D,
        "Jour que l'événement déclare (remise, encaissement, ouverture…)",
    ),
    f("venue_id", T, "Lieu nommé"),
    f("batch", T, "Lot nommé (plusieurs séparés par |)"),
    f("serial", T, "Pass nommé, s'il n'y en a qu'un"),
    f("vouchers", I, "Nombre de pass nommés"),
    f("referral_id", T, "Orientation nommée"),
];

const STATS: [Field; 8] = [
    f("as_of", D, AS_OF),
    f(
        "section",
        T,
        "Section : vouchers, vouchers_total, referrals ou venues",
    ),
    f("hub", T, HUB),
    f("hub_key", T, HUB_KEY),
    f("funder", T, "Financeur"),
    f("departement", T, "Code du département, en texte"),
    f("metric", T, "Mesure"),
    f("value", N, "Valeur (vide : non calculable)"),
];

const INDICATORS: [Field; 9] = [
    f("as_of", D, AS_OF),
    f("indicator", T, "Indicateur"),
    f("quarter", T, "Trimestre (AAAA-Tn)"),
    f("funder", T, "Financeur"),
    f("prescriber_kind", T, "Type de prescripteur"),
    f("from_hub", T, "Hub d'origine d'un flux"),
    f("to_hub", T, "Hub de destination d'un flux"),
    f("metric", T, "Mesure"),
    f("value", I, "Valeur"),
];

/// The columns of `table`, in file order.
pub fn fields(table: Table) -> Vec<Field> {
    match table {
        Table::Venues => maillage_venues::V1_FIELDS
            .iter()
            .map(|&name| {
                let kind = match name {
                    "latitude" | "longitude" => N,
                    _ => T,
                };
                f(
                    name,
                    kind,
                    "Champ du standard national des lieux d'inclusion numérique v1",
                )
            })
            .collect(),
        Table::VenueIndex => VENUES.to_vec(),
        Table::Vouchers => VOUCHERS.to_vec(),
        Table::Referrals => REFERRALS.to_vec(),
        Table::Events => EVENTS.to_vec(),
        Table::Stats => STATS.to_vec(),
        Table::Indicators => INDICATORS.to_vec(),
    }
}
