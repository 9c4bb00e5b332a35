//! The TOML form of a mapping file, as written: read with serde, every table closed to
//! unknown keys, every key and value with its place in the text for messages. Nothing here
//! judges the values; [`super::compile`] does.

use std::collections::BTreeMap;
use std::fmt;
use std::marker::PhantomData;

use serde::Deserialize;
use serde::de::value::{MapAccessDeserializer, SeqAccessDeserializer};
use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use toml::Spanned;

pub(super) type Key = Spanned<String>;
pub(super) type Table<T> = BTreeMap<Key, Spanned<T>>;

/// A whole mapping file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct Form {
    pub(super) name: Spanned<String>,
    pub(super) title: Option<Spanned<String>>,
    pub(super) description: Option<Spanned<String>>,
    pub(super) required_columns: Option<Spanned<Vec<Spanned<String>>>>,
    #[serde(default)]
    pub(super) standard_columns: bool,
    #[serde(default)]
    pub(super) columns: Table<ColumnForm>,
    #[serde(default)]
    pub(super) join: Vec<Spanned<JoinForm>>,
    pub(super) hours: Option<Spanned<HoursForm>>,
    #[serde(default)]
    pub(super) constants: Table<TextOrList>,
    #[serde(default)]
    pub(super) ignore: Table<String>,
    #[serde(default)]
    pub(super) absent: Table<String>,
}

/// `[columns]`: `source = "field"`, or a table of options.
#[derive(Debug)]
pub(super) enum ColumnForm {
    Rename(String),
    Rule(Box<RuleForm>),
}

/// `[columns.NAME]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RuleForm {
    pub(super) field: Option<Spanned<String>>,
    pub(super) split: Option<Spanned<String>>,
    pub(super) values: Option<Table<ValueForm>>,
    pub(super) unlisted: Option<Spanned<String>>,
    pub(super) extract: Option<Spanned<String>>,
    pub(super) prefix: Option<Spanned<String>>,
    pub(super) convert: Option<Spanned<String>>,
}

/// An entry of a value table: the standard's value, or a table of options.
#[derive(Debug)]
pub(super) enum ValueForm {
    Text(String),
    Rule(ValueRuleForm),
}

/// `values.CODE = { … }`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ValueRuleForm {
    pub(super) value: Option<Spanned<String>>,
    pub(super) set: Option<Table<String>>,
    pub(super) label: Option<Spanned<String>>,
    pub(super) declares: Option<Spanned<String>>,
    pub(super) drop: Option<Spanned<String>>,
}

/// `[[join]]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct JoinForm {
    pub(super) field: Spanned<String>,
    pub(super) columns: Spanned<Vec<Spanned<String>>>,
    pub(super) separator: Option<Spanned<String>>,
}

/// `[hours]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct HoursForm {
    pub(super) days: Table<String>,
}

/// A constant: one value, or a list for fields holding several.
#[derive(Debug)]
pub(super) enum TextOrList {
    Text(String),
    List(Vec<String>),
}

/// Deserializes "a string, or a table read as `T`" (or a list, for [`TextOrList`]) with the
/// table's own errors (unknown keys…) kept, which an untagged enum would hide.
struct Either<T>(PhantomData<T>);

trait FromText<T>: Sized {
    const EXPECTED: &'static str;
    /// Whether a table is accepted.
    const TAKES_TABLE: bool = true;
    fn text(text: String) -> Self;
    fn table(table: T) -> Self;
    fn list(_items: Vec<String>) -> Option<Self> {
        None
    }
}

impl<'de, T: Deserialize<'de>, E: FromText<T>> Visitor<'de> for Either<(T, E)> {
    type Value = E;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(E::EXPECTED)
    }

    fn visit_str<Er: de::Error>(self, v: &str) -> Result<E, Er> {
        Ok(E::text(v.to_owned()))
    }

    fn visit_string<Er: de::Error>(self, v: String) -> Result<E, Er> {
        Ok(E::text(v))
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<E, A::Error> {
        if !E::TAKES_TABLE {
            return Err(de::Error::invalid_type(de::Unexpected::Map, &E::EXPECTED));
        }
        T::deserialize(MapAccessDeserializer::new(map)).map(E::table)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<E, A::Error> {
        let items = Vec::<String>::deserialize(SeqAccessDeserializer::new(seq))?;
        let len = items.len();
        E::list(items).ok_or_else(|| de::Error::invalid_length(len, &E::EXPECTED))
    }
}

impl FromText<RuleForm> for ColumnForm {
    const EXPECTED: &'static str = "un nom de champ du standard ou une table d'options";
    fn text(text: String) -> Self {
        Self::Rename(text)
    }
    fn table(table: RuleForm) -> Self {
        Self::Rule(Box::new(table))
    }
}

impl FromText<ValueRuleForm> for ValueForm {
    const EXPECTED: &'static str = "une valeur du standard ou une table d'options";
    fn text(text: String) -> Self {
        Self::Text(text)
    }
    fn table(table: ValueRuleForm) -> Self {
        Self::Rule(table)
    }
}

/// Never read: constants take no table.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct NoTable {}

impl FromText<NoTable> for TextOrList {
    const EXPECTED: &'static str = "un texte ou une liste de textes";
    const TAKES_TABLE: bool = false;
    fn text(text: String) -> Self {
        Self::Text(text)
    }
    fn table(_: NoTable) -> Self {
        Self::List(Vec::new())
    }
    fn list(items: Vec<String>) -> Option<Self> {
        Some(Self::List(items))
    }
}

impl<'de> Deserialize<'de> for ColumnForm {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(Either::<(RuleForm, Self)>(PhantomData))
    }
}

impl<'de> Deserialize<'de> for ValueForm {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(Either::<(ValueRuleForm, Self)>(PhantomData))
    }
}

impl<'de> Deserialize<'de> for TextOrList {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(Either::<(NoTable, Self)>(PhantomData))
    }
}
