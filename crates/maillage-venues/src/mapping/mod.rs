//! Import mappings: how a source's own CSV layout maps to the standard, written as a small
//! TOML file rather than as code. A mapping renames columns, joins several columns into one
//! field, translates values through tables (type codes, labels, yes/no), assembles opening
//! hours from one column per day, adds constant values and names the columns it ignores, with
//! the reason. The rows it produces are the raw rows every other layout produces: they go
//! through the same per-row checks as a file of the standard.
//!
//! A mapping file comes from anyone: it is bounded ([`MAPPING_BYTES_MAX`], counts of entries,
//! lengths of texts) and every message names its line and key and quotes at most a short
//! excerpt of it. Mappings shipped with maillage ([`SHIPPED_MAPPINGS`]) are the same files,
//! embedded in the binary.
//!
//! ```toml
//! name = "exemple"
//! required_columns = ["code"]
//! [columns]
//! code = { field = "id", prefix = "exemple-" }
//! nom_lieu = "nom"
//! oui_non_bus = { field = "itinerance", values = { oui = "Itinérant", non = "Fixe" } }
//! [[join]]
//! field = "adresse"
//! columns = ["numero", "voie"]
//! [hours.days]
//! lundi = "h_lundi"
//! [constants]
//! frais_a_charge = "Gratuit"
//! [ignore]
//! interne = "notes internes du hub"
//! ```

mod apply;
mod compile;
mod form;
#[cfg(test)]
mod tests;

use std::collections::BTreeMap;
use std::fmt;
use std::sync::LazyLock;

use regex::Regex;

use crate::row::Field;

pub(crate) use apply::read;
pub use apply::{ColumnUsage, ColumnUse, MappedVia};

/// The largest mapping file read, in bytes.
pub const MAPPING_BYTES_MAX: usize = 64 * 1024;

/// A mapping shipped with maillage.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ShippedMapping {
    /// Its name (`--mapping NAME`).
    pub name: &'static str,
    /// The mapping file.
    pub toml: &'static str,
}

/// The mappings shipped with maillage, by name.
pub const SHIPPED_MAPPINGS: [ShippedMapping; 2] = [
    ShippedMapping {
        name: "mednum-bfc",
        toml: include_str!("../../mappings/mednum-bfc.toml"),
    },
    ShippedMapping {
        name: "france-services",
        toml: include_str!("../../mappings/france-services.toml"),
    },
];

/// Why a mapping file cannot be used. Messages are in French: hub staff write these files.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MappingError {
    /// Larger than [`MAPPING_BYTES_MAX`].
    #[error("le fichier de correspondance fait {size} octets : au plus {max} sont acceptés")]
    TooLarge {
        /// Its size.
        size: usize,
        /// The bound.
        max: usize,
    },
    /// Not UTF-8 text.
    #[error("le fichier de correspondance n'est pas du texte UTF-8 (octet {offset} invalide)")]
    NotUtf8 {
        /// Offset of the first invalid byte.
        offset: usize,
    },
    /// Not valid TOML, or a key or value the format refuses.
    #[error("{}", Located { line: *line, key, message })]
    Invalid {
        /// 1-based line of the text.
        line: usize,
        /// The dotted key (`columns.code_typo.values.F`), bounded; empty for the whole file.
        key: String,
        /// What is wrong.
        message: String,
    },
    /// No shipped mapping has this name.
    #[error(
        "aucune correspondance livrée ne s'appelle {name} (correspondances livrées : {known}) ; \
         donnez sinon le chemin d'un fichier de correspondance"
    )]
    UnknownShipped {
        /// The name asked for (an excerpt).
        name: String,
        /// The shipped names.
        known: String,
    },
}

struct Located<'a> {
    line: usize,
    key: &'a str,
    message: &'a str,
}

impl fmt::Display for Located<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.key.is_empty() {
            write!(f, "ligne {} : {}", self.line, self.message)
        } else {
            write!(
                f,
                "ligne {}, clé {} : {}",
                self.line, self.key, self.message
            )
        }
    }
}

/// Where a mapped value goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Target {
    Field(Field),
    /// The département the source states, cross-checked with the one derived from the codes.
    Departement,
}

impl Target {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Self::Field(f) => f.name(),
            Self::Departement => "departement",
        }
    }
}

/// What a value of a table does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ValueRule {
    /// Values added to fields of the standard.
    pub(crate) sets: Vec<(Field, String)>,
    /// What the source's value means, for messages.
    pub(crate) label: Option<String>,
    /// The venue declares a voucher scheme v1 has no value for.
    pub(crate) declares: Option<Declares>,
    /// Deliberately not mapped, and why.
    pub(crate) drop: Option<String>,
}

/// Voucher schemes a source may declare (v1 has no value for them).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Declares {
    Aptic,
    PassNumerique,
}

/// Values missing from a column's table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Unlisted {
    /// Kept as they are in the column's field.
    Keep,
    /// Dropped, with a note.
    Drop,
}

/// Built-in conversions of a cell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Convert {
    /// A French HTML day-by-day schedule to `opening_hours` (text without HTML is kept as is).
    HtmlSchedule,
}

/// How one column is read.
#[derive(Debug, Clone)]
pub(crate) struct ColumnRule {
    pub(crate) target: Option<Target>,
    pub(crate) split: Option<String>,
    /// By folded source value.
    pub(crate) values: BTreeMap<String, ValueRule>,
    pub(crate) unlisted: Unlisted,
    pub(crate) extract: Option<Regex>,
    pub(crate) prefix: String,
    pub(crate) convert: Option<Convert>,
}

/// Several columns joined into one field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Join {
    pub(crate) field: Field,
    pub(crate) columns: Vec<String>,
    pub(crate) separator: String,
}

/// A parsed, checked import mapping.
#[derive(Debug, Clone)]
pub struct Mapping {
    name: String,
    title: String,
    description: String,
    /// The shipped MedNum BFC mapping keeps its own [`crate::InputFormat`].
    bfc: bool,
    pub(crate) required_columns: Vec<String>,
    pub(crate) standard_columns: bool,
    /// By normalised column name.
    pub(crate) columns: BTreeMap<String, ColumnRule>,
    pub(crate) joins: Vec<Join>,
    /// (day index, column), Monday = 0.
    pub(crate) days: Vec<(usize, String)>,
    pub(crate) constants: Vec<(Field, String)>,
    /// By normalised column name: the reason.
    pub(crate) ignored: BTreeMap<String, String>,
    /// Why a required field no column provides is missing.
    pub(crate) absent: BTreeMap<Field, String>,
}

impl Mapping {
    /// Reads a mapping file: at most [`MAPPING_BYTES_MAX`] bytes of UTF-8 TOML.
    ///
    /// # Errors
    /// A [`MappingError`] naming the line and key at fault.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, MappingError> {
        if bytes.len() > MAPPING_BYTES_MAX {
            return Err(MappingError::TooLarge {
                size: bytes.len(),
                max: MAPPING_BYTES_MAX,
            });
        }
        let text = std::str::from_utf8(bytes).map_err(|e| MappingError::NotUtf8 {
            offset: e.valid_up_to(),
        })?;
        Self::from_toml(text.strip_prefix('\u{feff}').unwrap_or(text))
    }

    /// Reads a mapping from its TOML text (bounded like [`Mapping::from_bytes`]).
    ///
    /// # Errors
    /// A [`MappingError`] naming the line and key at fault.
    pub fn from_toml(text: &str) -> Result<Self, MappingError> {
        if text.len() > MAPPING_BYTES_MAX {
            return Err(MappingError::TooLarge {
                size: text.len(),
                max: MAPPING_BYTES_MAX,
            });
        }
        compile::compile(text)
    }

    /// A mapping shipped with maillage, by name.
    ///
    /// # Errors
    /// [`MappingError::UnknownShipped`] for a name no shipped mapping has.
    pub fn shipped(name: &str) -> Result<Self, MappingError> {
        let Some(shipped) = SHIPPED_MAPPINGS.iter().find(|m| m.name == name.trim()) else {
            let known: Vec<&str> = SHIPPED_MAPPINGS.iter().map(|m| m.name).collect();
            return Err(MappingError::UnknownShipped {
                name: maillage_core::excerpt::excerpt(name, 40),
                known: known.join(", "),
            });
        };
        let mut mapping = Self::from_toml(shipped.toml)?;
        mapping.bfc = shipped.name == "mednum-bfc";
        Ok(mapping)
    }

    /// Its name.
    #[must_use]
    pub fn name(&self) -> &str {
        &self.name
    }

    /// A short title (the source it reads).
    #[must_use]
    pub fn title(&self) -> &str {
        &self.title
    }

    /// What the source is, as the file describes it.
    #[must_use]
    pub fn description(&self) -> &str {
        &self.description
    }

    /// The columns a file must have to be read with this mapping.
    #[must_use]
    pub fn required_columns(&self) -> &[String] {
        &self.required_columns
    }

    /// The format an import through this mapping reports.
    pub(crate) fn format(&self) -> crate::InputFormat {
        if self.bfc {
            crate::InputFormat::MednumBfcCsv
        } else {
            crate::InputFormat::Mapped
        }
    }

    /// True when a header (normalised names) has every required column of this mapping, and
    /// it requires some.
    pub(crate) fn fits(&self, header: &[String]) -> bool {
        !self.required_columns.is_empty()
            && self
                .required_columns
                .iter()
                .all(|c| header.iter().any(|h| h == c))
    }
}

static SHIPPED: LazyLock<Vec<Mapping>> = LazyLock::new(|| {
    SHIPPED_MAPPINGS
        .iter()
        .filter_map(|m| Mapping::shipped(m.name).ok())
        .collect()
});

/// The shipped mapping a header fits (see [`Mapping::fits`]), in [`SHIPPED_MAPPINGS`] order.
pub(crate) fn shipped_for(header: &[String]) -> Option<&'static Mapping> {
    SHIPPED.iter().find(|m| m.fits(header))
}

/// A shipped mapping, by name.
pub(crate) fn shipped_by_name(name: &str) -> Option<&'static Mapping> {
    SHIPPED.iter().find(|m| m.name == name)
}

/// A column name as headers are compared: trimmed, unquoted, lower case.
pub(crate) fn column_key(name: &str) -> String {
    name.trim().trim_matches('"').trim().to_lowercase()
}
