//! Turns a raw row into a v1 [`VenueRecord`], or into the reasons why it cannot be one.
//!
//! Size: the v1 record, its builder from raw rows and the per-field issues follow the standard's
//! field list in order; splitting by field would scatter one mapping.

use std::collections::{BTreeMap, BTreeSet};

use maillage_core::{lang::t, tr};
use maillage_proto::v1::VenueRecord;

use crate::ImportOptions;
use crate::fields::{self, Normalised, PivotKind};
use crate::geo;
use crate::hours::validate_opening_hours;
use crate::issue::{FieldIssue, IssueKind, Issues, RowOutcome, truncate_for_display};
use crate::row::{Field, FileContext, RawRow};
use crate::text::{clean_line, clean_multiline, repair_mojibake, split_multi};
use crate::vocabulary::{Effect, Family, Mapping, VocabField, resolve};

/// Longest `presentation_resume` allowed by v1.
pub const RESUME_MAX_CHARS: usize = 280;

/// The result of building one row.
pub(crate) struct Built {
    pub(crate) source_id: Option<String>,
    pub(crate) outcome: RowOutcome,
}

/// Validates and normalises one row.
pub(crate) fn build(mut raw: RawRow, ctx: &FileContext, opts: &ImportOptions) -> Built {
    let list = std::mem::take(&mut raw.issues);
    let mut b = Builder {
        iss: Issues { list },
        pass: raw.declares_pass_numerique,
        raw,
        ctx,
        rec: VenueRecord::default(),
        dep: None,
        vocab: BTreeMap::new(),
        other_labels: Vec::new(),
    };
    b.required_texts();
    b.location(opts);
    b.pivot();
    b.date_maj();
    b.optional_texts();
    b.coordinates();
    b.contacts();
    b.horaires();
    b.presentation();
    b.vocabularies();
    b.finish()
}

struct Builder<'a> {
    raw: RawRow,
    ctx: &'a FileContext,
    iss: Issues,
    rec: VenueRecord,
    dep: Option<String>,
    pass: bool,
    vocab: BTreeMap<VocabField, BTreeSet<usize>>,
    other_labels: Vec<String>,
}

impl Builder<'_> {
    // -- text access --------------------------------------------------------------------------

    /// The cleaned value of a field (`None` when absent or blank). Broken characters are
    /// repaired, with an info note.
    ///
    /// Cleaning can join the halves of a broken sequence (`Ã`, a control character, `©`) and
    /// a repair can produce a character cleaning changes, so the two alternate until neither
    /// changes anything: the value is then one that imports back unchanged. Each round
    /// shortens the text or replaces space-like characters by spaces, so this ends.
    fn text(&mut self, field: Field, multiline: bool) -> Option<String> {
        let raw = self.raw.get(field)?.to_owned();
        let clean = |s: &str| {
            if multiline {
                clean_multiline(s)
            } else {
                clean_line(s)
            }
        };
        let mut repaired = false;
        let mut current = raw.clone();
        loop {
            let fixed = repair_mojibake(&current);
            repaired |= fixed.is_some();
            let next = clean(fixed.as_deref().unwrap_or(&current));
            if next == current {
                break;
            }
            current = next;
        }
        if repaired {
            self.iss.info(
                IssueKind::Normalised,
                field.name(),
                &raw,
                tr!(
                    "caractères cassés réparés (texte UTF-8 lu un jour comme du Latin-1) : {:?}",
                    "broken characters repaired (UTF-8 text once read as Latin-1): {:?}",
                    truncate_for_display(&current)
                ),
            );
        }
        (!current.is_empty()).then_some(current)
    }

    fn missing(&mut self, field: Field) {
        let reason = match self.ctx.absent.get(&field) {
            Some(why) => tr!(
                "obligatoire dans le standard, mais {why}",
                "required by the standard, but {why}"
            ),
            None => t(
                "obligatoire dans le standard, mais absent ou vide",
                "required by the standard, but missing or empty",
            )
            .to_owned(),
        };
        self.iss.error(IssueKind::Missing, field.name(), "", reason);
    }

    fn required(&mut self, field: Field) -> String {
        self.text(field, false).unwrap_or_else(|| {
            self.missing(field);
            String::new()
        })
    }

    /// Reports how a value was rewritten: info for lossless reformatting, warning for guesses.
    fn note(&mut self, field: Field, raw: &str, n: &Normalised) {
        if let Some(note) = &n.note {
            let kind = IssueKind::Normalised;
            if note.guessed {
                self.iss.warn(kind, field.name(), raw, note.text.clone());
            } else {
                self.iss.info(kind, field.name(), raw, note.text.clone());
            }
        }
    }

    // -- required fields ----------------------------------------------------------------------

    fn required_texts(&mut self) {
        self.rec.id = self.required(Field::Id);
        self.rec.nom = self.required(Field::Nom);
        self.rec.commune = self.required(Field::Commune);
        self.rec.adresse = self.required(Field::Adresse);
    }

    fn postal_code(&mut self) -> Option<String> {
        let Some(raw) = self.text(Field::CodePostal, false) else {
            self.missing(Field::CodePostal);
            return None;
        };
        match fields::normalise_postal_code(&raw) {
            Ok(n) => {
                self.note(Field::CodePostal, &raw, &n);
                Some(n.value)
            }
            Err(reason) => {
                self.iss
                    .error(IssueKind::Malformed, "code_postal", &raw, reason);
                None
            }
        }
    }

    fn insee_code(&mut self) -> Option<String> {
        let raw = self.text(Field::CodeInsee, false)?;
        match fields::normalise_insee(&raw) {
            Ok(n) => {
                self.note(Field::CodeInsee, &raw, &n);
                Some(n.value)
            }
            Err(reason) => {
                self.iss.warn(
                    IssueKind::Malformed,
                    "code_insee",
                    &raw,
                    tr!(
                        "{reason} : écarté (le champ est facultatif)",
                        "{reason}: dropped (the field is optional)"
                    ),
                );
                None
            }
        }
    }

    /// Postal code, INSEE code, département (cross-checked) and the territory filter.
    fn location(&mut self, opts: &ImportOptions) {
        let cp = self.postal_code();
        let insee = self.insee_code();
        let from_postal = cp.as_deref().map(geo::departement_from_postal);
        let (dep, keep_insee) = match insee.as_deref().map(geo::departement_from_insee) {
            Some(Ok(i)) => self.reconcile(&i, cp.as_deref(), insee.as_deref(), from_postal),
            Some(Err(e)) => {
                let reason = tr!(
                    "{} : écarté (le champ est facultatif)",
                    "{}: dropped (the field is optional)",
                    e.reason
                );
                self.iss
                    .warn(IssueKind::Malformed, "code_insee", &e.value, reason);
                (self.postal_departement(from_postal), false)
            }
            None => (self.postal_departement(from_postal), false),
        };
        self.rec.code_postal = cp.clone().unwrap_or_default();
        if keep_insee {
            self.rec.code_insee = insee.clone().unwrap_or_default();
        }
        if let Some(dep) = &dep {
            self.check_territory(opts, dep, keep_insee);
            self.check_stated_departement(dep);
        }
        self.dep = dep;
    }

    fn postal_departement(
        &mut self,
        from_postal: Option<Result<String, FieldIssue>>,
    ) -> Option<String> {
        match from_postal? {
            Ok(dep) => Some(dep),
            Err(e) => {
                self.iss.push(e);
                None
            }
        }
    }

    /// Both codes are present and the INSEE one is valid: returns the département and whether
    /// the INSEE code is kept.
    fn reconcile(
        &mut self,
        from_insee: &str,
        cp: Option<&str>,
        insee: Option<&str>,
        from_postal: Option<Result<String, FieldIssue>>,
    ) -> (Option<String>, bool) {
        let (cp, insee) = (cp.unwrap_or_default(), insee.unwrap_or_default());
        match from_postal {
            Some(Ok(p)) if p == from_insee => (Some(p), true),
            Some(Ok(p)) if p.len() == 3 || from_insee.len() == 3 => {
                self.iss.warn(
                    IssueKind::Inconsistent,
                    "code_insee",
                    insee,
                    tr!(
                        "code_insee {insee} est dans le département {from_insee} mais code_postal \
                         {cp} dans le {p} : code_insee écarté",
                        "code_insee {insee} is in département {from_insee} but code_postal {cp} \
                         is in {p}: code_insee dropped"
                    ),
                );
                (Some(p), false)
            }
            Some(Ok(p)) => {
                self.iss.info(
                    IssueKind::Implausible,
                    "code_postal",
                    cp,
                    tr!(
                        "code_postal {cp} relève du département {p} mais code_insee {insee} du \
                         {from_insee} (normal pour certaines communes frontalières) : département \
                         {from_insee} retenu",
                        "code_postal {cp} belongs to département {p} but code_insee {insee} to \
                         {from_insee} (normal for some border communes): département \
                         {from_insee} kept"
                    ),
                );
                (Some(from_insee.to_owned()), true)
            }
            Some(Err(e)) if e.kind != IssueKind::Missing => {
                self.iss.warn(
                    IssueKind::Implausible,
                    "code_postal",
                    cp,
                    tr!(
                        "{} ; département {from_insee} pris de code_insee",
                        "{}; département {from_insee} taken from code_insee",
                        e.reason
                    ),
                );
                (Some(from_insee.to_owned()), true)
            }
            _ => (Some(from_insee.to_owned()), true),
        }
    }

    fn check_territory(&mut self, opts: &ImportOptions, dep: &str, from_insee: bool) {
        let Some(territories) = &opts.territories else {
            return;
        };
        if territories.contains(dep) {
            return;
        }
        let (field, value) = if from_insee {
            ("code_insee", self.rec.code_insee.clone())
        } else {
            ("code_postal", self.rec.code_postal.clone())
        };
        let list: Vec<&str> = territories.iter().map(String::as_str).collect();
        self.iss.error(
            IssueKind::OutsideTerritory,
            field,
            &value,
            tr!(
                "le département {dep} est hors des territoires du hub ({})",
                "département {dep} is outside the hub's territories ({})",
                list.join(", ")
            ),
        );
    }

    fn check_stated_departement(&mut self, dep: &str) {
        let Some(stated) = self.raw.stated_departement.clone() else {
            return;
        };
        if stated != dep {
            self.iss.warn(
                IssueKind::Inconsistent,
                "departement",
                &stated,
                tr!(
                    "la colonne departement du fichier indique {stated} mais le code postal/INSEE \
                     donne {dep} : {dep} retenu",
                    "the file's departement column says {stated} but the postal/INSEE code \
                     gives {dep}: {dep} kept"
                ),
            );
        }
    }

    fn pivot(&mut self) {
        let Some(raw) = self.text(Field::Pivot, false) else {
            self.missing(Field::Pivot);
            return;
        };
        match fields::check_pivot(&raw, self.dep.as_deref()) {
            Ok(p) => {
                self.note(Field::Pivot, &raw, &p.value);
                let value = p.value.value;
                if p.placeholder {
                    self.iss.warn(
                        IssueKind::Placeholder,
                        "pivot",
                        &value,
                        tr!(
                            "{} de remplissage : conservé, mais le lieu ne pourra pas être \
                             qualifié pour les bons tant qu'un vrai SIRET, RNA ou RIDET n'est pas \
                             donné",
                            "placeholder {}: kept, but the venue cannot be qualified for \
                             vouchers until a real SIRET, RNA or RIDET is given",
                            p.kind.name()
                        ),
                    );
                }
                if p.checksum_failed && p.kind == PivotKind::Siret {
                    self.iss.warn(
                        IssueKind::Checksum,
                        "pivot",
                        &value,
                        t(
                            "ce SIRET échoue à la clé de Luhn (établissements 356000000… de La \
                             Poste : la somme de ses chiffres n'est pas un multiple de 5) : \
                             conservé, mais vérifiez le numéro",
                            "this SIRET fails the Luhn checksum (La Poste's 356000000… \
                             establishments: its digit sum is not a multiple of 5): kept, but \
                             check the number",
                        ),
                    );
                }
                self.rec.pivot = value;
            }
            Err(reason) => self.iss.error(IssueKind::Malformed, "pivot", &raw, reason),
        }
    }

    fn date_maj(&mut self) {
        let Some(raw) = self.text(Field::DateMaj, false) else {
            self.missing(Field::DateMaj);
            return;
        };
        match fields::check_date(&raw) {
            Ok(d) => {
                self.note(Field::DateMaj, &raw, &d.value);
                if d.placeholder {
                    self.iss.warn(
                        IssueKind::Placeholder,
                        "date_maj",
                        &d.value.value,
                        t(
                            "date de remplissage (l'époque Unix, 1970-01-01 en UTC) : conservée, \
                             mais la vraie date de mise à jour est inconnue",
                            "placeholder date (the Unix epoch, 1970-01-01 in UTC): kept, but the \
                             real update date is unknown",
                        ),
                    );
                }
                self.rec.date_maj = d.value.value;
            }
            Err(reason) => self
                .iss
                .error(IssueKind::Malformed, "date_maj", &raw, reason),
        }
    }

    // -- optional fields ----------------------------------------------------------------------

    fn optional_texts(&mut self) {
        self.rec.complement_adresse = self
            .text(Field::ComplementAdresse, false)
            .unwrap_or_default();
        self.rec.source = self.text(Field::Source, false).unwrap_or_default();
        self.rec.structure_parente = self
            .text(Field::StructureParente, false)
            .unwrap_or_default();
    }

    fn coordinates(&mut self) {
        let Some((lat_raw, lon_raw)) = self.coordinate_pair() else {
            return;
        };
        let Some(lat) = self.degrees(Field::Latitude, &lat_raw) else {
            return;
        };
        let Some(lon) = self.degrees(Field::Longitude, &lon_raw) else {
            return;
        };
        let shown = format!("{lat_raw}, {lon_raw}");
        if let Some((lat_micro, lon_micro)) = self.choose_point(lat, lon, &shown) {
            self.rec.latitude_micro = Some(lat_micro);
            self.rec.longitude_micro = Some(lon_micro);
            self.check_distance(lat_micro, lon_micro);
        }
    }

    /// Both raw coordinates, or `None` (with a warning when only one is given).
    fn coordinate_pair(&mut self) -> Option<(String, String)> {
        match (
            self.text(Field::Latitude, false),
            self.text(Field::Longitude, false),
        ) {
            (Some(lat), Some(lon)) => Some((lat, lon)),
            (None, None) => None,
            (lat, lon) => {
                let (field, value) = match (lat, lon) {
                    (Some(v), _) => ("latitude", v),
                    (_, v) => ("longitude", v.unwrap_or_default()),
                };
                self.iss.warn(
                    IssueKind::Inconsistent,
                    field,
                    &value,
                    t(
                        "une seule coordonnée donnée : écartée (le standard demande les deux ou \
                         aucune)",
                        "only one coordinate given: dropped (the standard needs both or none)",
                    ),
                );
                None
            }
        }
    }

    /// The point in micro-degrees: as given when in range and plausible, swapped back when
    /// only the swapped point lies in the département, as given (flagged later) when in range
    /// but far, else nothing.
    fn choose_point(&mut self, lat: f64, lon: f64, shown: &str) -> Option<(i64, i64)> {
        if lat == 0.0 && lon == 0.0 {
            self.iss.warn(
                IssueKind::OutOfRange,
                "latitude",
                shown,
                t(
                    "0, 0 est une valeur de remplissage (un point du golfe de Guinée) : les deux \
                     coordonnées sont écartées",
                    "0, 0 is a placeholder (a point in the Gulf of Guinea): both coordinates \
                     dropped",
                ),
            );
            return None;
        }
        let micro =
            |a: f64, b: f64| in_range(a, b).then(|| (fields::to_micro(a), fields::to_micro(b)));
        let (straight, swapped) = (micro(lat, lon), micro(lon, lat));
        let near = |p: (i64, i64)| self.distance_km(p.0, p.1).is_none();
        match (straight, swapped) {
            (Some(p), _) if near(p) => Some(p),
            (_, Some(p)) if self.dep.is_some() && near(p) => {
                let dep = self.dep.clone().unwrap_or_default();
                self.iss.warn(
                    IssueKind::Normalised,
                    "latitude",
                    shown,
                    tr!(
                        "latitude et longitude étaient inversées (le point ne tombe dans le \
                         département {dep} que dans l'autre sens) : remises dans l'ordre",
                        "latitude and longitude were swapped (the point only falls in \
                         département {dep} the other way round): swapped back"
                    ),
                );
                Some(p)
            }
            (Some(p), _) => Some(p),
            (None, _) => {
                self.iss.warn(
                    IssueKind::OutOfRange,
                    "latitude",
                    shown,
                    t(
                        "attendu : une latitude entre -90 et 90 et une longitude entre -180 et \
                         180 : les deux coordonnées sont écartées",
                        "expected a latitude between -90 and 90 and a longitude between -180 and \
                         180: both coordinates dropped",
                    ),
                );
                None
            }
        }
    }

    /// Parses one coordinate; on failure both are dropped.
    fn degrees(&mut self, field: Field, raw: &str) -> Option<f64> {
        let name = field.name();
        match fields::parse_degrees(raw) {
            Ok((v, comma)) => {
                if comma {
                    self.iss.info(
                        IssueKind::Normalised,
                        name,
                        raw,
                        t(
                            "virgule décimale lue comme un point décimal",
                            "decimal comma read as a decimal point",
                        ),
                    );
                }
                Some(v)
            }
            Err(reason) => {
                self.iss.warn(
                    IssueKind::Malformed,
                    name,
                    raw,
                    tr!(
                        "{reason} : les deux coordonnées sont écartées",
                        "{reason}: both coordinates dropped"
                    ),
                );
                None
            }
        }
    }

    /// How far a point lies from the venue's département, when implausibly far.
    #[allow(clippy::cast_precision_loss)]
    fn distance_km(&self, lat_micro: i64, lon_micro: i64) -> Option<f64> {
        let dep = self.dep.as_deref()?;
        geo::implausible_distance(dep, lat_micro as f64 / 1e6, lon_micro as f64 / 1e6)
    }

    fn check_distance(&mut self, lat_micro: i64, lon_micro: i64) {
        let Some(km) = self.distance_km(lat_micro, lon_micro) else {
            return;
        };
        let dep = self.dep.clone().unwrap_or_default();
        self.iss.info(
            IssueKind::Implausible,
            "latitude",
            &format!(
                "{}, {}",
                fields::micro_to_decimal(lat_micro),
                fields::micro_to_decimal(lon_micro)
            ),
            tr!(
                "les coordonnées sont à {km:.0} km du département {dep} : conservées, mais \
                 vérifiez le géocodage ou le code postal",
                "the coordinates lie {km:.0} km from département {dep}: kept, but check the \
                 geocoding or the postal code"
            ),
        );
    }

    fn contacts(&mut self) {
        self.rec.telephone = self.list(Field::Telephone, &['|', ';', ','], |raw, dep| {
            fields::normalise_phone(raw, dep)
        });
        self.rec.courriels = self.list(Field::Courriels, &['|', ';', ',', ' '], |raw, _| {
            fields::normalise_email(raw)
        });
        self.rec.site_web = self.list(Field::SiteWeb, &['|', ';', ' '], |raw, _| {
            fields::normalise_url(raw)
        });
        self.rec.prise_rdv = self.single_url(Field::PriseRdv);
        self.rec.fiche_acces_libre = self.single_url(Field::FicheAccesLibre);
    }

    /// Splits a multi-valued contact field, normalises each piece, drops invalid ones with a
    /// warning and duplicates silently.
    fn list(
        &mut self,
        field: Field,
        separators: &[char],
        normalise: impl Fn(&str, Option<&str>) -> Result<Normalised, String>,
    ) -> Vec<String> {
        let Some(raw) = self.text(field, false) else {
            return Vec::new();
        };
        let mut out: Vec<String> = Vec::new();
        let pieces = raw
            .split(separators)
            .map(|p| p.trim().trim_end_matches(','))
            .filter(|p| !p.is_empty());
        for piece in pieces {
            match normalise(piece, self.dep.as_deref()) {
                Ok(n) => {
                    self.note(field, piece, &n);
                    if !out.contains(&n.value) {
                        out.push(n.value);
                    }
                }
                Err(reason) => self.iss.warn(
                    IssueKind::Malformed,
                    field.name(),
                    piece,
                    tr!("{reason} : écarté", "{reason}: dropped"),
                ),
            }
        }
        out
    }

    fn single_url(&mut self, field: Field) -> String {
        let mut urls = self.list(field, &['|', ';', ' '], |raw, _| fields::normalise_url(raw));
        if urls.len() > 1 {
            let extra = urls.split_off(1).join(" ");
            self.iss.warn(
                IssueKind::Malformed,
                field.name(),
                &extra,
                tr!(
                    "{} contient une seule URL : URL en trop écartées",
                    "{} holds a single URL: extra URLs dropped",
                    field.name()
                ),
            );
        }
        urls.pop().unwrap_or_default()
    }

    fn horaires(&mut self) {
        let Some(h) = self.text(Field::Horaires, false) else {
            return;
        };
        if h.contains('<') && h.contains('>') {
            self.iss.warn(
                IssueKind::Malformed,
                "horaires",
                &h,
                t(
                    "du HTML n'est pas la syntaxe opening_hours d'OpenStreetMap (par exemple \
                     \"Mo-Fr 09:00-12:00,14:00-18:00\") : écarté",
                    "HTML is not OpenStreetMap opening_hours syntax (e.g. \
                     \"Mo-Fr 09:00-12:00,14:00-18:00\"): dropped",
                ),
            );
            return;
        }
        match validate_opening_hours(&h) {
            Ok(()) => self.rec.horaires = h,
            Err(e) => self.iss.warn(
                IssueKind::Malformed,
                "horaires",
                &h,
                tr!(
                    "pas la syntaxe opening_hours d'OpenStreetMap ({e}) : écarté",
                    "not OpenStreetMap opening_hours syntax ({e}): dropped"
                ),
            ),
        }
    }

    fn presentation(&mut self) {
        let mut detail = self.text(Field::PresentationDetail, true);
        if let Some(resume) = self.text(Field::PresentationResume, true) {
            let n = resume.chars().count();
            if n <= RESUME_MAX_CHARS {
                self.rec.presentation_resume = resume;
            } else if detail.is_none() {
                self.iss.warn(
                    IssueKind::Moved,
                    "presentation_resume",
                    &resume,
                    tr!(
                        "{n} caractères, plus de {RESUME_MAX_CHARS} : déplacé dans \
                         presentation_detail",
                        "{n} characters, more than {RESUME_MAX_CHARS}: moved to presentation_detail"
                    ),
                );
                detail = Some(resume);
            } else {
                self.iss.warn(
                    IssueKind::TooLong,
                    "presentation_resume",
                    &resume,
                    tr!(
                        "{n} caractères, plus de {RESUME_MAX_CHARS}, et presentation_detail est \
                         déjà rempli : écarté",
                        "{n} characters, more than {RESUME_MAX_CHARS}, and presentation_detail \
                         is already filled: dropped"
                    ),
                );
            }
        }
        self.rec.presentation_detail = detail.unwrap_or_default();
    }

    // -- controlled vocabularies --------------------------------------------------------------

    fn vocabularies(&mut self) {
        const INPUTS: [(Field, Family); 13] = [
            (Field::Typologie, Family::Typologie),
            (Field::Itinerance, Family::Itinerance),
            (Field::Services, Family::Services),
            (Field::PublicsSpecifiquementAdresses, Family::Publics),
            (Field::PriseEnChargeSpecifique, Family::Publics),
            (Field::PublicsAccueillis, Family::Publics),
            (Field::FraisACharge, Family::Frais),
            (Field::ConditionsAcces, Family::Frais),
            (Field::DispositifProgrammesNationaux, Family::Labels),
            (Field::FormationsLabels, Family::Labels),
            (Field::LabelsNationaux, Family::Labels),
            (Field::ModalitesAcces, Family::ModalitesAcces),
            (
                Field::ModalitesAccompagnement,
                Family::ModalitesAccompagnement,
            ),
        ];
        for (field, family) in INPUTS {
            self.vocabulary(field, family);
        }
        self.autres_labels();
        let vocab = std::mem::take(&mut self.vocab);
        for (vf, indexes) in vocab {
            let values: Vec<String> = indexes
                .iter()
                .filter_map(|&i| vf.values().get(i))
                .map(|v| (*v).to_owned())
                .collect();
            self.set_vocab(vf, values);
        }
    }

    fn set_vocab(&mut self, vf: VocabField, values: Vec<String>) {
        let r = &mut self.rec;
        match vf {
            VocabField::Services => r.services = values,
            VocabField::PublicsSpecifiquementAdresses => r.publics_specifiquement_adresses = values,
            VocabField::PriseEnChargeSpecifique => r.prise_en_charge_specifique = values,
            VocabField::FraisACharge => r.frais_a_charge = values,
            VocabField::DispositifProgrammesNationaux => r.dispositif_programmes_nationaux = values,
            VocabField::FormationsLabels => r.formations_labels = values,
            VocabField::ModalitesAcces => r.modalites_acces = values,
            VocabField::ModalitesAccompagnement => r.modalites_accompagnement = values,
            VocabField::Itinerance => r.itinerance = values,
            VocabField::Typologie => r.typologie = values,
        }
    }

    fn vocabulary(&mut self, field: Field, family: Family) {
        let Some(raw) = self.text(field, false) else {
            return;
        };
        for piece in split_multi(&raw) {
            if let Some(m) = resolve(family, &piece) {
                self.apply(field, &piece, m);
                continue;
            }
            let parts: Vec<String> = piece
                .split(',')
                .map(clean_line)
                .filter(|p| !p.is_empty())
                .collect();
            if parts.len() > 1 && parts.iter().all(|p| resolve(family, p).is_some()) {
                for p in parts {
                    if let Some(m) = resolve(family, &p) {
                        self.apply(field, &p, m);
                    }
                }
            } else {
                self.unknown(field, family, &piece);
            }
        }
    }

    fn add(&mut self, m: &Mapping) {
        for &(vf, i) in &m.targets {
            self.vocab.entry(vf).or_default().insert(i);
        }
    }

    fn apply(&mut self, input: Field, piece: &str, m: &Mapping) {
        let name = input.name();
        match m.effect {
            Effect::Canonical => {
                self.add(m);
                for (vf, value) in m.target_values() {
                    if value != piece {
                        self.iss.info(
                            IssueKind::Normalised,
                            name,
                            piece,
                            tr!("normalisé en {value:?}", "normalised to {value:?}"),
                        );
                    }
                    if is_v1_input(input) && vf.name() != name {
                        self.iss.info(
                            IssueKind::Moved,
                            name,
                            piece,
                            tr!(
                                "une valeur de {} en v1 : déplacée là",
                                "a value of {} in v1: moved there",
                                vf.name()
                            ),
                        );
                    }
                }
            }
            Effect::Legacy => {
                self.add(m);
                let targets: Vec<String> = m
                    .target_values()
                    .map(|(vf, v)| format!("{} {v:?}", vf.name()))
                    .collect();
                self.iss.info(
                    IssueKind::Mapped,
                    name,
                    piece,
                    tr!(
                        "valeur v0.1.1 traduite en v1 {}",
                        "v0.1.1 value mapped to v1 {}",
                        targets.join(", ")
                    ),
                );
            }
            Effect::PassNumerique => {
                self.pass = true;
                self.iss.push(pass_numerique_issue(name, piece));
            }
            Effect::Aptic => {
                self.pass = true;
                self.iss.push(aptic_issue(name, piece));
            }
            Effect::NoEquivalent(fr, en) => {
                let why = t(fr, en);
                self.iss.info(
                    IssueKind::Unsupported,
                    name,
                    piece,
                    tr!(
                        "pas d'équivalent en v1 ({why}) : écarté",
                        "no v1 equivalent ({why}): dropped"
                    ),
                );
            }
            Effect::OtherLabel(label) => {
                if !self.other_labels.iter().any(|l| l == label) {
                    self.other_labels.push(label.to_owned());
                }
                self.iss.info(
                    IssueKind::Mapped,
                    name,
                    piece,
                    t(
                        "pas d'équivalent en v1 : gardé dans autres_formations_labels",
                        "no v1 equivalent: kept in autres_formations_labels",
                    ),
                );
            }
        }
    }

    fn unknown(&mut self, input: Field, family: Family, piece: &str) {
        let targets = family.fields();
        let names: Vec<&str> = targets.iter().map(|f| f.name()).collect();
        let values: Vec<&str> = targets
            .iter()
            .flat_map(|f| f.values().iter().copied())
            .collect();
        let expected = if values.len() <= 12 {
            tr!(
                " (attendu : l'une de {})",
                " (expected one of: {})",
                values.join(", ")
            )
        } else {
            t(
                " (attendu : un code de structure data·inclusion comme ASSO, BIB, CCAS, EPN, RFS, \
                 TIERS_LIEUX)",
                " (expected a data·inclusion structure code such as ASSO, BIB, CCAS, EPN, RFS, \
                 TIERS_LIEUX)",
            )
            .to_owned()
        };
        self.iss.warn(
            IssueKind::UnknownValue,
            input.name(),
            piece,
            tr!(
                "{piece:?} n'est pas dans le vocabulaire v1 de {} : écarté{expected}",
                "{piece:?} is not in the v1 vocabulary of {}: dropped{expected}",
                names.join(" / ")
            ),
        );
    }

    fn autres_labels(&mut self) {
        let mut items = self
            .text(Field::AutresFormationsLabels, false)
            .map(|raw| split_multi(&raw))
            .unwrap_or_default();
        for label in std::mem::take(&mut self.other_labels) {
            if !items.contains(&label) {
                items.push(label);
            }
        }
        let mut seen = BTreeSet::new();
        items.retain(|i| seen.insert(i.clone()));
        self.rec.autres_formations_labels = items.join("|");
    }

    // -- outcome ------------------------------------------------------------------------------

    fn finish(self) -> Built {
        let source_id = self
            .raw
            .get(Field::Id)
            .map(clean_line)
            .filter(|s| !s.is_empty());
        let outcome = if self.iss.has_errors() {
            RowOutcome::Rejected {
                issues: self.iss.list,
            }
        } else {
            RowOutcome::Accepted {
                record: self.rec,
                departement: self.dep.unwrap_or_default(),
                warnings: self.iss.list,
                declares_pass_numerique: self.pass,
            }
        };
        Built { source_id, outcome }
    }
}

fn in_range(lat: f64, lon: f64) -> bool {
    lat.abs() <= 90.0 && lon.abs() <= 180.0
}

/// The warning raised when a venue declares the APTIC label.
pub(crate) fn aptic_issue(field: &str, value: &str) -> FieldIssue {
    FieldIssue::new(
        crate::issue::Severity::Warning,
        IssueKind::VoucherDeclaration,
        field,
        value,
        t(
            "le lieu a déclaré le label APTIC (acceptation du Pass numérique) ; la v1 n'a pas \
             cette valeur : le hub doit qualifier le lieu (vérification sur place, vrai SIRET) \
             avant qu'il puisse encaisser des bons",
            "the venue declared the APTIC label (Pass numérique acceptance); v1 has no such \
             value: the hub should qualify the venue (on-site check, real SIRET) before it may \
             redeem vouchers",
        ),
    )
}

/// The warning raised when a venue declares it accepts the Pass numérique.
pub(crate) fn pass_numerique_issue(field: &str, value: &str) -> FieldIssue {
    FieldIssue::new(
        crate::issue::Severity::Warning,
        IssueKind::VoucherDeclaration,
        field,
        value,
        t(
            "le lieu a déclaré accepter le Pass numérique ; la v1 n'a pas cette valeur : le hub \
             doit qualifier le lieu (vérification sur place, vrai SIRET) avant qu'il puisse \
             encaisser des bons",
            "the venue declared it accepts the Pass numérique; v1 has no such value: the hub \
             should qualify the venue (on-site check, real SIRET) before it may redeem vouchers",
        ),
    )
}

/// v0.1.1 columns map to fields of other names by design: no "moved" note for them.
fn is_v1_input(field: Field) -> bool {
    !matches!(
        field,
        Field::PublicsAccueillis | Field::ConditionsAcces | Field::LabelsNationaux
    )
}
