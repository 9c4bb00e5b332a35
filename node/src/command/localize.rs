//! The command line in French: the grammar's help is written once, in English, in the doc
//! comments clap derives it from; in French (the default) every text of the built command —
//! abouts, options' help, values' help, clap's own headings and flags — is replaced by its
//! translation from [`super::help_fr`], keyed by the English text, and clap's errors are
//! written by [`French`]. A text without a translation stays English; a test walks the whole
//! command tree so that none is missing.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use clap::builder::StyledStr;
use clap::error::{ContextKind, ContextValue, ErrorFormatter, ErrorKind};
use clap::{Arg, CommandFactory, FromArgMatches};
use maillage_core::lang::Lang;

use super::Cli;

/// The help page's layout, with French headings.
const TEMPLATE_FR: &str =
    "{before-help}{about-with-newline}\nUtilisation : {usage}\n\n{all-args}{after-help}";

/// The command line's grammar, with its help in `lang`.
pub fn command(lang: Lang) -> clap::Command {
    let mut cmd = Cli::command();
    if lang == Lang::Fr {
        // Built first, so that clap's own flags (--help, --version) and `help` subcommands
        // exist and are translated too.
        cmd.build();
        let catalogue = catalogue();
        cmd = french(cmd, &catalogue);
    }
    cmd
}

/// Parses the process's arguments with the help and errors in `lang`; on an error or a help
/// request, prints it and exits as clap does (status 2 for a usage error, 0 for help).
pub fn parse(lang: Lang) -> Cli {
    let mut cmd = command(lang);
    let fail = |error: clap::Error| -> ! {
        if lang == Lang::Fr && French::writes(error.kind()) {
            error.apply::<French>().exit()
        } else {
            error.exit()
        }
    };
    let matches = cmd
        .try_get_matches_from_mut(std::env::args_os())
        .unwrap_or_else(|e| fail(e));
    Cli::from_arg_matches(&matches).unwrap_or_else(|e| fail(e.format(&mut cmd)))
}

type Catalogue = BTreeMap<&'static str, &'static str>;

fn catalogue() -> Catalogue {
    super::help_fr::HELP_FR.iter().copied().collect()
}

fn fr(catalogue: &Catalogue, english: &str) -> String {
    catalogue
        .get(english)
        .map_or_else(|| english.to_owned(), |f| (*f).to_owned())
}

fn french(cmd: clap::Command, catalogue: &Catalogue) -> clap::Command {
    let mut cmd = cmd
        .help_template(TEMPLATE_FR)
        .subcommand_help_heading("Commandes")
        .subcommand_value_name("COMMANDE");
    if let Some(about) = cmd.get_about().map(ToString::to_string) {
        cmd = cmd.about(fr(catalogue, &about));
    }
    if let Some(about) = cmd.get_long_about().map(ToString::to_string) {
        cmd = cmd.long_about(fr(catalogue, &about));
    }
    cmd.mut_args(|arg| french_arg(arg, catalogue))
        .mut_subcommands(|sub| french(sub, catalogue))
}

fn french_arg(arg: Arg, catalogue: &Catalogue) -> Arg {
    let help = arg.get_help().map(|h| fr(catalogue, &h.to_string()));
    let long_help = arg.get_long_help().map(|h| fr(catalogue, &h.to_string()));
    let mut notes = String::new();
    let takes_values = arg.get_action().takes_values();
    if takes_values && !arg.is_hide_default_value_set() && !arg.get_default_values().is_empty() {
        let values: Vec<String> = arg
            .get_default_values()
            .iter()
            .map(|v| v.to_string_lossy().into_owned())
            .collect();
        let _ = write!(notes, " [défaut : {}]", values.join(", "));
    }
    if let (Some(env), false) = (arg.get_env(), arg.is_hide_env_set()) {
        let _ = write!(
            notes,
            " [variable d'environnement : {}]",
            env.to_string_lossy()
        );
    }
    let values: Vec<_> = arg
        .get_possible_values()
        .into_iter()
        .filter(|v| !v.is_hide_set())
        .collect();
    let listed = takes_values && !arg.is_hide_possible_values_set() && !values.is_empty();
    let mut value_list = String::new();
    if listed {
        let names: Vec<&str> = values.iter().map(|v| v.get_name()).collect();
        let _ = write!(notes, " [valeurs : {}]", names.join(", "));
        value_list.push_str("\n\nValeurs possibles :");
        for v in &values {
            match v.get_help() {
                Some(h) => {
                    let _ = write!(
                        value_list,
                        "\n- {} : {}",
                        v.get_name(),
                        fr(catalogue, &h.to_string())
                    );
                }
                None => {
                    let _ = write!(value_list, "\n- {}", v.get_name());
                }
            }
        }
    }
    let mut arg = arg
        .hide_default_value(true)
        .hide_env(true)
        .hide_possible_values(true);
    if let Some(help) = &help {
        arg = arg.help(format!("{help}{notes}"));
    }
    match (long_help, help) {
        (Some(long), _) => arg = arg.long_help(format!("{long}{notes}{value_list}")),
        (None, Some(help)) if listed => {
            arg = arg.long_help(format!("{help}{notes}{value_list}"));
        }
        _ => {}
    }
    arg
}

/// Every text of `cmd` that is translated (built first: clap's own flags included).
#[cfg(test)]
fn texts(cmd: &clap::Command) -> Vec<String> {
    let mut out = Vec::new();
    collect(cmd, &mut out);
    out
}

#[cfg(test)]
fn collect(cmd: &clap::Command, out: &mut Vec<String>) {
    out.extend(cmd.get_about().map(ToString::to_string));
    out.extend(cmd.get_long_about().map(ToString::to_string));
    for arg in cmd.get_arguments() {
        out.extend(arg.get_help().map(ToString::to_string));
        out.extend(arg.get_long_help().map(ToString::to_string));
        for value in arg.get_possible_values() {
            out.extend(value.get_help().map(ToString::to_string));
        }
    }
    for sub in cmd.get_subcommands() {
        collect(sub, out);
    }
}

/// clap's errors, in French.
#[derive(Debug)]
pub struct French;

impl French {
    /// Whether it writes errors of `kind` (the others, rare, and help and version, are
    /// clap's own).
    pub fn writes(kind: ErrorKind) -> bool {
        matches!(
            kind,
            ErrorKind::InvalidValue
                | ErrorKind::ValueValidation
                | ErrorKind::UnknownArgument
                | ErrorKind::InvalidSubcommand
                | ErrorKind::MissingRequiredArgument
                | ErrorKind::MissingSubcommand
                | ErrorKind::ArgumentConflict
                | ErrorKind::TooManyValues
                | ErrorKind::TooFewValues
                | ErrorKind::WrongNumberOfValues
                | ErrorKind::NoEquals
                | ErrorKind::InvalidUtf8
        )
    }
}

impl ErrorFormatter for French {
    fn format_error(error: &clap::error::Error<Self>) -> StyledStr {
        let text = |kind| match error.get(kind) {
            Some(ContextValue::String(s)) => Some(s.clone()),
            _ => None,
        };
        let strings = |kind| match error.get(kind) {
            Some(ContextValue::Strings(s)) => s.clone(),
            Some(ContextValue::String(s)) => vec![s.clone()],
            _ => Vec::new(),
        };
        let number = |kind| match error.get(kind) {
            Some(ContextValue::Number(n)) => Some(*n),
            _ => None,
        };
        let arg = text(ContextKind::InvalidArg).unwrap_or_default();
        let value = text(ContextKind::InvalidValue).unwrap_or_default();
        let mut m = String::from("erreur : ");
        match error.kind() {
            ErrorKind::InvalidValue if value.is_empty() => {
                let _ = write!(m, "une valeur est requise pour « {arg} »");
            }
            ErrorKind::InvalidValue => {
                let _ = write!(m, "valeur invalide « {value} » pour « {arg} »");
                let valid = strings(ContextKind::ValidValue);
                if !valid.is_empty() {
                    let _ = write!(m, "\n  [valeurs possibles : {}]", valid.join(", "));
                }
            }
            ErrorKind::ValueValidation => {
                let _ = write!(m, "valeur invalide « {value} » pour « {arg} »");
                if let Some(source) = std::error::Error::source(error) {
                    let _ = write!(m, " : {source}");
                }
            }
            ErrorKind::UnknownArgument => {
                let _ = write!(m, "argument inattendu « {arg} »");
            }
            ErrorKind::InvalidSubcommand => {
                let sub = text(ContextKind::InvalidSubcommand).unwrap_or_default();
                let _ = write!(m, "commande inconnue « {sub} »");
            }
            ErrorKind::MissingRequiredArgument => {
                m.push_str("ces arguments sont requis :");
                for a in strings(ContextKind::InvalidArg) {
                    let _ = write!(m, "\n  {a}");
                }
            }
            ErrorKind::MissingSubcommand => {
                let sub = text(ContextKind::InvalidSubcommand).unwrap_or_default();
                let _ = write!(m, "« {sub} » attend une commande");
                let valid = strings(ContextKind::ValidSubcommand);
                if !valid.is_empty() {
                    let _ = write!(m, "\n  [commandes : {}]", valid.join(", "));
                }
            }
            ErrorKind::ArgumentConflict => {
                let prior = strings(ContextKind::PriorArg);
                if prior.len() == 1 && prior[0] == arg {
                    let _ = write!(m, "l'argument « {arg} » ne peut être donné qu'une fois");
                } else if prior.is_empty() {
                    let _ = write!(
                        m,
                        "l'argument « {arg} » est incompatible avec un autre argument donné"
                    );
                } else {
                    let _ = write!(
                        m,
                        "l'argument « {arg} » est incompatible avec « {} »",
                        prior.join(" », « ")
                    );
                }
            }
            ErrorKind::TooManyValues => {
                let _ = write!(
                    m,
                    "valeur inattendue « {value} » pour « {arg} » : aucune autre n'était attendue"
                );
            }
            ErrorKind::TooFewValues | ErrorKind::WrongNumberOfValues => {
                let expected = number(ContextKind::MinValues)
                    .or_else(|| number(ContextKind::ExpectedNumValues))
                    .unwrap_or_default();
                let actual = number(ContextKind::ActualNumValues).unwrap_or_default();
                let _ = write!(
                    m,
                    "« {arg} » attend {expected} valeur(s), {actual} donnée(s)"
                );
            }
            ErrorKind::NoEquals => {
                let _ = write!(m, "« {arg} » s'écrit avec un signe égal (« {arg}=… »)");
            }
            ErrorKind::InvalidUtf8 => m.push_str("un argument n'est pas de l'UTF-8 valide"),
            kind => m.push_str(kind.as_str().unwrap_or("erreur de la ligne de commande")),
        }
        for kind in [
            ContextKind::SuggestedSubcommand,
            ContextKind::SuggestedArg,
            ContextKind::SuggestedValue,
        ] {
            let suggested = strings(kind);
            if !suggested.is_empty() {
                let _ = write!(
                    m,
                    "\n\n  conseil : vouliez-vous dire « {} » ?",
                    suggested.join(" », « ")
                );
            }
        }
        if let Some(ContextValue::StyledStrs(tips)) = error.get(ContextKind::Suggested) {
            for tip in tips {
                let tip = tip.to_string();
                // clap's one tip: to pass a value starting with '-', write `-- VALUE`.
                let tip = match tip.strip_prefix("to pass '") {
                    Some(rest) => format!(
                        "pour donner « {} » comme valeur, écrivez « -- {} »",
                        rest.split('\'').next().unwrap_or(""),
                        rest.split('\'').next().unwrap_or("")
                    ),
                    None => tip,
                };
                let _ = write!(m, "\n\n  conseil : {tip}");
            }
        }
        if let Some(ContextValue::StyledStr(usage)) = error.get(ContextKind::Usage) {
            let usage = usage.to_string();
            let usage = usage
                .strip_prefix("Usage:")
                .map_or(usage.clone(), |rest| format!("Utilisation :{rest}"));
            let _ = write!(m, "\n\n{usage}");
        }
        m.push_str("\n\nPour en savoir plus : --help\n");
        StyledStr::from(m)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn built() -> clap::Command {
        let mut cmd = Cli::command();
        cmd.build();
        cmd
    }

    #[test]
    fn every_help_text_has_its_french_translation_and_none_is_stale() {
        let catalogue = catalogue();
        let texts = texts(&built());
        let missing: Vec<&String> = texts
            .iter()
            .filter(|t| !catalogue.contains_key(t.as_str()))
            .collect();
        assert!(
            missing.is_empty(),
            "help texts without a French translation in help_fr.rs:\n{}",
            missing
                .iter()
                .map(|t| format!("    ({t:?}, \"\"),"))
                .collect::<Vec<_>>()
                .join("\n")
        );
        let stale: Vec<&&str> = catalogue
            .keys()
            .filter(|k| !texts.iter().any(|t| t == **k))
            .collect();
        assert!(
            stale.is_empty(),
            "translations of texts no longer in the grammar: {stale:?}"
        );
        assert_eq!(
            catalogue.len(),
            super::super::help_fr::HELP_FR.len(),
            "a text is translated twice"
        );
    }

    #[test]
    fn french_help_has_french_headings_defaults_and_values() {
        let mut cmd = command(Lang::Fr);
        let help = cmd.render_long_help().to_string();
        assert!(help.contains("Utilisation : maillage"), "{help}");
        assert!(
            help.contains("Commandes :") || help.contains("Commandes:"),
            "{help}"
        );
        assert!(!help.contains("Print help"), "{help}");
        let mut venues = command(Lang::Fr);
        let list = venues
            .find_subcommand_mut("venues")
            .unwrap()
            .find_subcommand_mut("list")
            .unwrap()
            .render_help()
            .to_string();
        assert!(list.contains("[défaut : 50]"), "{list}");
    }

    #[test]
    fn clap_errors_are_french() {
        let error = command(Lang::Fr)
            .try_get_matches_from(["maillage", "venues", "list", "--limt", "3"])
            .unwrap_err()
            .apply::<French>()
            .render()
            .to_string();
        assert!(
            error.starts_with("erreur : argument inattendu « --limt »"),
            "{error}"
        );
        assert!(error.contains("vouliez-vous dire « --limit »"), "{error}");
        assert!(
            error.contains("Utilisation : maillage venues list"),
            "{error}"
        );
    }
}
