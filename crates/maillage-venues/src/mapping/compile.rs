//! From the TOML form to a checked [`Mapping`]: every name resolved, every value of a
//! controlled vocabulary checked against the standard, every count and length bounded.

use std::collections::BTreeMap;
use std::ops::Range;

use maillage_core::excerpt::Excerpt;
use regex::RegexBuilder;
use toml::Spanned;

use super::form::{ColumnForm, Form, JoinForm, RuleForm, Table, TextOrList, ValueForm};
use super::{
    ColumnRule, Convert, Declares, Join, Mapping, MappingError, Target, Unlisted, ValueRule,
    column_key,
};
use crate::input::REQUIRED;
use crate::row::{Column, Field, Origin, column};
use crate::schedule::day_index;
use crate::text::fold;
use crate::vocabulary::VocabField;

/// Columns named in `[columns]` or in `[ignore]`, each at most.
const COLUMNS_MAX: usize = 256;
/// Entries of one value table.
const VALUES_MAX: usize = 1024;
/// Entries of all value tables together.
const VALUES_TOTAL_MAX: usize = 4096;
/// `[[join]]` entries, and columns in one.
const JOINS_MAX: usize = 64;
const JOIN_COLUMNS_MAX: usize = 32;
/// Fields in `[constants]`, and values in one.
const CONSTANTS_MAX: usize = 64;
const CONSTANT_VALUES_MAX: usize = 32;
/// `required_columns` entries.
const REQUIRED_COLUMNS_MAX: usize = 16;
/// Characters of a column name or a source value.
const NAME_CHARS_MAX: usize = 128;
/// Characters of a text (value, reason, title…).
const TEXT_CHARS_MAX: usize = 1000;
/// Characters of a separator or a prefix.
const SEPARATOR_CHARS_MAX: usize = 16;
const PREFIX_CHARS_MAX: usize = 64;
/// Characters of an `extract` pattern, and the compiled size allowed.
const PATTERN_CHARS_MAX: usize = 200;
const PATTERN_BYTES_MAX: usize = 1 << 16;
/// Characters of the name.
const MAPPING_NAME_MAX: usize = 40;

/// Characters of a key or value quoted in a message.
const QUOTED: usize = 40;

fn quoted(s: &str) -> Excerpt<'_> {
    Excerpt::new(s, QUOTED)
}

struct Compiler<'a> {
    text: &'a str,
    values_total: usize,
    /// Column → the section that uses it, so that no column is read twice.
    used: BTreeMap<String, String>,
}

type Result<T> = std::result::Result<T, MappingError>;

/// Parses and checks a mapping file.
pub(super) fn compile(text: &str) -> Result<Mapping> {
    let form: Form = toml::from_str(text).map_err(|e| {
        let start = e.span().map_or(0, |s| s.start);
        MappingError::Invalid {
            line: line_of(text, start),
            key: String::new(),
            message: format!("{} (lecture du TOML)", bounded(e.message(), 200)),
        }
    })?;
    let mut c = Compiler {
        text,
        values_total: 0,
        used: BTreeMap::new(),
    };
    c.mapping(form)
}

/// At most `max` characters of a text from the file or about it, control characters as
/// spaces: a message never carries a long or multi-line piece of the input.
fn bounded(s: &str, max: usize) -> String {
    let mut out: String = s
        .chars()
        .take(max)
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if s.chars().nth(max).is_some() {
        out.push('…');
    }
    out
}

/// 1-based line of a byte offset.
fn line_of(text: &str, offset: usize) -> usize {
    let end = offset.min(text.len());
    text.as_bytes()
        .get(..end)
        .map_or(0, |b| b.iter().filter(|&&c| c == b'\n').count())
        + 1
}

/// A v1 field, by name.
fn v1_field(name: &str) -> Option<Field> {
    match column(name) {
        Column::Field(field, Origin::V1) => Some(field),
        _ => None,
    }
}

fn vocab_of(field: Field) -> Option<VocabField> {
    VocabField::ALL
        .into_iter()
        .find(|v| v.name() == field.name())
}

impl Compiler<'_> {
    fn err(&self, span: Range<usize>, key: &str, message: impl Into<String>) -> MappingError {
        MappingError::Invalid {
            line: line_of(self.text, span.start),
            key: bounded(key, 80),
            message: message.into(),
        }
    }

    fn text(&self, s: &Spanned<String>, key: &str, max: usize) -> Result<String> {
        let value = s.get_ref().trim();
        if value.is_empty() {
            return Err(self.err(s.span(), key, "texte vide"));
        }
        let n = value.chars().count();
        if n > max {
            return Err(self.err(
                s.span(),
                key,
                format!("{n} caractères : au plus {max} sont acceptés"),
            ));
        }
        Ok(value.to_owned())
    }

    fn count<T>(&self, table: &Table<T>, key: &str, max: usize) -> Result<()> {
        if let Some((k, _)) = table.iter().nth(max) {
            return Err(self.err(
                k.span(),
                key,
                format!("plus de {max} entrées : la table est trop longue"),
            ));
        }
        Ok(())
    }

    /// A column name, normalised, used once in the whole file.
    fn column_name(&mut self, name: &Spanned<String>, key: &str, section: &str) -> Result<String> {
        let value = self.text(name, key, NAME_CHARS_MAX)?;
        let normalised = column_key(&value);
        if normalised.is_empty() {
            return Err(self.err(name.span(), key, "nom de colonne vide"));
        }
        if let Some(first) = self.used.get(&normalised) {
            return Err(self.err(
                name.span(),
                key,
                format!(
                    "la colonne {} est déjà lue par {first} : une colonne ne sert qu'une fois \
                     (noms comparés sans casse)",
                    quoted(&normalised)
                ),
            ));
        }
        self.used.insert(normalised.clone(), section.to_owned());
        Ok(normalised)
    }

    fn field(&self, name: &Spanned<String>, key: &str) -> Result<Field> {
        v1_field(name.get_ref()).ok_or_else(|| {
            self.err(
                name.span(),
                key,
                format!(
                    "{} n'est pas un champ du standard v1 (id, nom, adresse, typologie, \
                     services…)",
                    quoted(name.get_ref())
                ),
            )
        })
    }

    fn target(&self, name: &Spanned<String>, key: &str) -> Result<Target> {
        if name.get_ref().trim() == "departement" {
            return Ok(Target::Departement);
        }
        self.field(name, key).map(Target::Field).map_err(|_| {
            self.err(
                name.span(),
                key,
                format!(
                    "{} n'est pas un champ du standard v1 (id, nom, adresse, typologie, \
                     services…) ni « departement »",
                    quoted(name.get_ref())
                ),
            )
        })
    }

    /// A value given for `field`: a text, and for a controlled vocabulary one of its values.
    fn value(&self, field: Field, value: &Spanned<String>, key: &str) -> Result<String> {
        let text = self.text(value, key, TEXT_CHARS_MAX)?;
        if let Some(vocab) = vocab_of(field)
            && !vocab.contains(&text)
        {
            let values = vocab.values();
            let hint = if values.len() <= 12 {
                format!("valeurs possibles : {}", values.join(", "))
            } else {
                "voir la liste du standard".to_owned()
            };
            return Err(self.err(
                value.span(),
                key,
                format!(
                    "{} n'est pas une valeur de {} dans le standard v1 ({hint})",
                    quoted(&text),
                    field.name()
                ),
            ));
        }
        Ok(text)
    }

    fn mapping(&mut self, form: Form) -> Result<Mapping> {
        let name = self.text(&form.name, "name", MAPPING_NAME_MAX)?;
        if !name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        {
            return Err(self.err(
                form.name.span(),
                "name",
                "un nom de correspondance s'écrit en minuscules, chiffres et tirets \
                 (ex. france-services)",
            ));
        }
        let title = match &form.title {
            Some(t) => self.text(t, "title", TEXT_CHARS_MAX)?,
            None => name.clone(),
        };
        let description = match &form.description {
            Some(d) => self.text(d, "description", TEXT_CHARS_MAX)?,
            None => String::new(),
        };
        let mut required_columns = Vec::new();
        if let Some(list) = &form.required_columns {
            if list.get_ref().len() > REQUIRED_COLUMNS_MAX {
                return Err(self.err(
                    list.span(),
                    "required_columns",
                    format!("plus de {REQUIRED_COLUMNS_MAX} colonnes"),
                ));
            }
            for c in list.get_ref() {
                let c = column_key(&self.text(c, "required_columns", NAME_CHARS_MAX)?);
                required_columns.push(c);
            }
        }
        let mut mapping = Mapping {
            name,
            title,
            description,
            bfc: false,
            required_columns,
            standard_columns: form.standard_columns,
            columns: BTreeMap::new(),
            joins: Vec::new(),
            days: Vec::new(),
            constants: Vec::new(),
            ignored: BTreeMap::new(),
            absent: BTreeMap::new(),
        };
        self.count(&form.columns, "columns", COLUMNS_MAX)?;
        for (source, spec) in &form.columns {
            let key = format!("columns.{}", source.get_ref());
            let name = self.column_name(source, &key, "[columns]")?;
            let rule = self.column(spec, &key)?;
            mapping.columns.insert(name, rule);
        }
        if form.join.len() > JOINS_MAX {
            let span = form.join.get(JOINS_MAX).map_or(0..0, Spanned::span);
            return Err(self.err(span, "join", format!("plus de {JOINS_MAX} jointures")));
        }
        for (i, join) in form.join.iter().enumerate() {
            let key = format!("join[{}]", i + 1);
            mapping.joins.push(self.join(join, &key)?);
        }
        if let Some(hours) = &form.hours {
            self.count(&hours.get_ref().days, "hours.days", 7)?;
            if hours.get_ref().days.is_empty() {
                return Err(self.err(hours.span(), "hours.days", "aucun jour"));
            }
            for (day, column) in &hours.get_ref().days {
                let key = format!("hours.days.{}", day.get_ref());
                let index = day_index(day.get_ref()).ok_or_else(|| {
                    self.err(
                        day.span(),
                        &key,
                        format!(
                            "{} n'est pas un jour (lundi… dimanche, ou Mo… Su)",
                            quoted(day.get_ref())
                        ),
                    )
                })?;
                if mapping.days.iter().any(|(d, _)| *d == index) {
                    return Err(self.err(day.span(), &key, "ce jour est déjà donné"));
                }
                let name = self.column_name(column, &key, "[hours]")?;
                mapping.days.push((index, name));
            }
            mapping.days.sort();
        }
        self.count(&form.constants, "constants", CONSTANTS_MAX)?;
        for (field, values) in &form.constants {
            let key = format!("constants.{}", field.get_ref());
            let f = self.field(field, &key)?;
            mapping.constants.extend(self.constant(f, values, &key)?);
        }
        self.count(&form.ignore, "ignore", COLUMNS_MAX)?;
        for (source, why) in &form.ignore {
            let key = format!("ignore.{}", source.get_ref());
            let name = self.column_name(source, &key, "[ignore]")?;
            let why = self.text(why, &key, TEXT_CHARS_MAX)?;
            mapping.ignored.insert(name, why);
        }
        for (field, why) in &form.absent {
            let key = format!("absent.{}", field.get_ref());
            let f = self.field(field, &key)?;
            if !REQUIRED.contains(&f) {
                return Err(self.err(
                    field.span(),
                    &key,
                    "seuls les champs obligatoires (id, pivot, nom, commune, code_postal, \
                     adresse, date_maj) ont une explication d'absence",
                ));
            }
            mapping
                .absent
                .insert(f, self.text(why, &key, TEXT_CHARS_MAX)?);
        }
        Ok(mapping)
    }

    fn constant(
        &self,
        field: Field,
        values: &Spanned<TextOrList>,
        key: &str,
    ) -> Result<Vec<(Field, String)>> {
        if field == Field::Id {
            return Err(self.err(
                values.span(),
                key,
                "une constante pour id donnerait le même id à chaque ligne",
            ));
        }
        let texts: Vec<Spanned<String>> = match values.get_ref() {
            TextOrList::Text(t) => vec![Spanned::new(values.span(), t.clone())],
            TextOrList::List(list) => list
                .iter()
                .map(|t| Spanned::new(values.span(), t.clone()))
                .collect(),
        };
        if texts.is_empty() {
            return Err(self.err(values.span(), key, "liste vide"));
        }
        if texts.len() > CONSTANT_VALUES_MAX {
            return Err(self.err(
                values.span(),
                key,
                format!("plus de {CONSTANT_VALUES_MAX} valeurs"),
            ));
        }
        if texts.len() > 1 && !field.is_multi() {
            return Err(self.err(
                values.span(),
                key,
                format!("{} ne prend qu'une valeur", field.name()),
            ));
        }
        texts
            .iter()
            .map(|t| Ok((field, self.value(field, t, key)?)))
            .collect()
    }

    fn join(&mut self, join: &Spanned<JoinForm>, key: &str) -> Result<Join> {
        let j = join.get_ref();
        let field = self.field(&j.field, &format!("{key}.field"))?;
        let n = j.columns.get_ref().len();
        if !(2..=JOIN_COLUMNS_MAX).contains(&n) {
            return Err(self.err(
                j.columns.span(),
                &format!("{key}.columns"),
                format!("une jointure lit de 2 à {JOIN_COLUMNS_MAX} colonnes, pas {n}"),
            ));
        }
        let mut columns = Vec::new();
        for c in j.columns.get_ref() {
            columns.push(self.column_name(c, &format!("{key}.columns"), &format!("[{key}]"))?);
        }
        let separator = match &j.separator {
            Some(s) => self.separator(s, &format!("{key}.separator"))?,
            None => " ".to_owned(),
        };
        Ok(Join {
            field,
            columns,
            separator,
        })
    }

    fn separator(&self, s: &Spanned<String>, key: &str) -> Result<String> {
        let n = s.get_ref().chars().count();
        if n == 0 || n > SEPARATOR_CHARS_MAX {
            return Err(self.err(
                s.span(),
                key,
                format!("un séparateur a de 1 à {SEPARATOR_CHARS_MAX} caractères"),
            ));
        }
        Ok(s.get_ref().clone())
    }

    fn column(&mut self, spec: &Spanned<ColumnForm>, key: &str) -> Result<ColumnRule> {
        let mut rule = ColumnRule {
            target: None,
            split: None,
            values: BTreeMap::new(),
            unlisted: Unlisted::Keep,
            extract: None,
            prefix: String::new(),
            convert: None,
        };
        let form = match spec.get_ref() {
            ColumnForm::Rename(field) => {
                rule.target = Some(self.target(&Spanned::new(spec.span(), field.clone()), key)?);
                return Ok(rule);
            }
            ColumnForm::Rule(form) => form,
        };
        if let Some(field) = &form.field {
            rule.target = Some(self.target(field, &format!("{key}.field"))?);
        }
        rule.unlisted = match &form.unlisted {
            None if rule.target.is_some() => Unlisted::Keep,
            None => Unlisted::Drop,
            Some(u) => match u.get_ref().as_str() {
                "keep" if rule.target.is_some() => Unlisted::Keep,
                "keep" => {
                    return Err(self.err(
                        u.span(),
                        &format!("{key}.unlisted"),
                        "« keep » garde la valeur dans le champ de la colonne : donnez field",
                    ));
                }
                "drop" => Unlisted::Drop,
                other => {
                    return Err(self.err(
                        u.span(),
                        &format!("{key}.unlisted"),
                        format!("{} : « keep » ou « drop » attendu", quoted(other)),
                    ));
                }
            },
        };
        if let Some(split) = &form.split {
            rule.split = Some(self.separator(split, &format!("{key}.split"))?);
        }
        if let Some(prefix) = &form.prefix {
            if !matches!(rule.target, Some(Target::Field(_))) {
                return Err(self.err(
                    prefix.span(),
                    &format!("{key}.prefix"),
                    "un préfixe s'ajoute à la valeur du champ de la colonne : donnez field",
                ));
            }
            rule.prefix = self.text(prefix, &format!("{key}.prefix"), PREFIX_CHARS_MAX)?;
        }
        if let Some(pattern) = &form.extract {
            rule.extract = Some(self.pattern(pattern, &format!("{key}.extract"))?);
        }
        if let Some(convert) = &form.convert {
            rule.convert = Some(self.convert(form, &rule, convert, key)?);
        }
        if let Some(values) = &form.values {
            self.values(&mut rule, values, key)?;
        }
        if rule.target.is_none() && rule.values.is_empty() {
            return Err(self.err(
                spec.span(),
                key,
                "ni field ni values : la colonne ne donnerait rien (pour l'ignorer, nommez-la \
                 dans [ignore] avec la raison)",
            ));
        }
        Ok(rule)
    }

    fn convert(
        &self,
        form: &RuleForm,
        rule: &ColumnRule,
        convert: &Spanned<String>,
        key: &str,
    ) -> Result<Convert> {
        let key = format!("{key}.convert");
        if convert.get_ref() != "html_schedule" {
            return Err(self.err(
                convert.span(),
                &key,
                format!(
                    "{} : seule la conversion « html_schedule » existe",
                    quoted(convert.get_ref())
                ),
            ));
        }
        if rule.target != Some(Target::Field(Field::Horaires))
            || form.values.is_some()
            || form.split.is_some()
        {
            return Err(self.err(
                convert.span(),
                &key,
                "« html_schedule » va avec field = \"horaires\", sans values ni split",
            ));
        }
        Ok(Convert::HtmlSchedule)
    }

    fn pattern(&self, pattern: &Spanned<String>, key: &str) -> Result<regex::Regex> {
        let text = self.text(pattern, key, PATTERN_CHARS_MAX)?;
        let re = RegexBuilder::new(&text)
            .size_limit(PATTERN_BYTES_MAX)
            .dfa_size_limit(PATTERN_BYTES_MAX)
            .build()
            .map_err(|e| {
                let first = e.to_string();
                let first = first.lines().last().unwrap_or_default().to_owned();
                self.err(
                    pattern.span(),
                    key,
                    format!(
                        "expression régulière invalide ou trop grande ({})",
                        bounded(&first, 80)
                    ),
                )
            })?;
        if re.captures_len() != 2 {
            return Err(self.err(
                pattern.span(),
                key,
                "l'expression doit avoir exactement un groupe entre parenthèses : la partie \
                 gardée (ex. \"(\\\\d{2}/\\\\d{2}/\\\\d{4})\")",
            ));
        }
        Ok(re)
    }

    fn values(
        &mut self,
        rule: &mut ColumnRule,
        values: &Table<ValueForm>,
        key: &str,
    ) -> Result<()> {
        if rule.target == Some(Target::Departement) {
            let span = values.keys().next().map_or(0..0, Spanned::span);
            return Err(self.err(span, key, "departement ne prend pas de table de valeurs"));
        }
        self.count(values, &format!("{key}.values"), VALUES_MAX)?;
        self.values_total += values.len();
        if self.values_total > VALUES_TOTAL_MAX {
            let span = values.keys().next().map_or(0..0, Spanned::span);
            return Err(self.err(
                span,
                key,
                format!("plus de {VALUES_TOTAL_MAX} valeurs dans l'ensemble des tables"),
            ));
        }
        let field = match rule.target {
            Some(Target::Field(f)) => Some(f),
            _ => None,
        };
        let mut originals: BTreeMap<String, String> = BTreeMap::new();
        for (source, entry) in values {
            let vkey = format!("{key}.values.{}", source.get_ref());
            let source_text = self.text(source, &vkey, NAME_CHARS_MAX)?;
            let folded = fold(&source_text);
            if let Some(first) = originals.get(&folded) {
                return Err(self.err(
                    source.span(),
                    &vkey,
                    format!(
                        "{} et {} sont la même valeur (comparées sans casse, accents ni espaces)",
                        quoted(first),
                        quoted(&source_text)
                    ),
                ));
            }
            originals.insert(folded.clone(), source_text);
            let value = self.value_rule(field, entry, &vkey)?;
            rule.values.insert(folded, value);
        }
        Ok(())
    }

    fn value_rule(
        &self,
        field: Option<Field>,
        entry: &Spanned<ValueForm>,
        key: &str,
    ) -> Result<ValueRule> {
        let no_field = || {
            self.err(
                entry.span(),
                key,
                "une valeur seule va dans le champ de la colonne : donnez field à la colonne, \
                 ou set = { champ = \"valeur\" }",
            )
        };
        let mut rule = ValueRule {
            sets: Vec::new(),
            label: None,
            declares: None,
            drop: None,
        };
        let form = match entry.get_ref() {
            ValueForm::Text(text) => {
                let field = field.ok_or_else(no_field)?;
                let value = self.value(field, &Spanned::new(entry.span(), text.clone()), key)?;
                rule.sets.push((field, value));
                return Ok(rule);
            }
            ValueForm::Rule(form) => form,
        };
        if let Some(label) = &form.label {
            rule.label = Some(self.text(label, &format!("{key}.label"), TEXT_CHARS_MAX)?);
        }
        if let Some(value) = &form.value {
            let field = field.ok_or_else(no_field)?;
            rule.sets
                .push((field, self.value(field, value, &format!("{key}.value"))?));
        }
        if let Some(set) = &form.set {
            if set.len() > CONSTANTS_MAX {
                return Err(self.err(entry.span(), key, "set : trop de champs"));
            }
            for (f, value) in set {
                let skey = format!("{key}.set.{}", f.get_ref());
                let field = self.field(f, &skey)?;
                rule.sets.push((field, self.value(field, value, &skey)?));
            }
        }
        if let Some(declares) = &form.declares {
            rule.declares = Some(match declares.get_ref().as_str() {
                "aptic" => Declares::Aptic,
                "pass_numerique" => Declares::PassNumerique,
                other => {
                    return Err(self.err(
                        declares.span(),
                        &format!("{key}.declares"),
                        format!(
                            "{} : « aptic » ou « pass_numerique » attendu",
                            quoted(other)
                        ),
                    ));
                }
            });
        }
        if let Some(why) = &form.drop {
            if !rule.sets.is_empty() || rule.declares.is_some() {
                return Err(self.err(
                    why.span(),
                    &format!("{key}.drop"),
                    "une valeur écartée (drop) ne donne rien d'autre : retirez value, set ou \
                     declares",
                ));
            }
            rule.drop = Some(self.text(why, &format!("{key}.drop"), TEXT_CHARS_MAX)?);
        }
        if rule.sets.is_empty() && rule.declares.is_none() && rule.drop.is_none() {
            return Err(self.err(
                entry.span(),
                key,
                "la valeur ne donne rien : donnez value, set, declares ou drop",
            ));
        }
        Ok(rule)
    }
}
