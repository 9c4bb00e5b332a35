//! The language of messages written for people: French by default (the people who run and use
//! the nodes are French hub staff and State agents), English on request (`--lang en` or
//! `MAILLAGE_LANG=en`).
//!
//! This is the one piece of process state of this crate, and it only chooses words: nothing
//! folded, hashed, signed or compared across nodes depends on it (a rejection's stable code
//! does not; its sentence is rendered when someone reads it). Machine-readable names — JSON
//! keys, CSV headers, metric names, rejection codes — never change with it.
//!
//! The process's language is set once at start ([`set`]); a thread can answer one request in
//! another language ([`with`]), as a serving node does for a command sent by an operator who
//! asked for English.

use std::cell::Cell;
use std::sync::atomic::{AtomicU8, Ordering};

/// A language messages are written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Lang {
    /// French, the default.
    #[default]
    Fr,
    /// English.
    En,
}

impl Lang {
    /// `fr` or `en` (case and surrounding spaces ignored).
    pub fn parse(text: &str) -> Option<Self> {
        match text.trim().to_ascii_lowercase().as_str() {
            "fr" => Some(Self::Fr),
            "en" => Some(Self::En),
            _ => None,
        }
    }

    /// The two-letter code: `fr` or `en`.
    pub fn code(self) -> &'static str {
        match self {
            Self::Fr => "fr",
            Self::En => "en",
        }
    }
}

/// The process's language: 0 French, 1 English.
static PROCESS: AtomicU8 = AtomicU8::new(0);

thread_local! {
    /// A language this thread uses instead of the process's, while [`with`] runs.
    static SCOPED: Cell<Option<Lang>> = const { Cell::new(None) };
}

/// Sets the process's language.
pub fn set(lang: Lang) {
    PROCESS.store(u8::from(lang == Lang::En), Ordering::Relaxed);
}

/// The language messages are written in now, on this thread.
pub fn current() -> Lang {
    SCOPED.with(Cell::get).unwrap_or_else(|| {
        if PROCESS.load(Ordering::Relaxed) == 1 {
            Lang::En
        } else {
            Lang::Fr
        }
    })
}

/// Runs `f` with messages in `lang` on this thread.
pub fn with<R>(lang: Lang, f: impl FnOnce() -> R) -> R {
    struct Restore(Option<Lang>);
    impl Drop for Restore {
        fn drop(&mut self) {
            SCOPED.with(|s| s.set(self.0));
        }
    }
    let _restore = Restore(SCOPED.with(|s| s.replace(Some(lang))));
    f()
}

/// `fr` or `en`, in the current language.
pub fn t<'a>(fr: &'a str, en: &'a str) -> &'a str {
    match current() {
        Lang::Fr => fr,
        Lang::En => en,
    }
}

/// What was being done to a file, for an error's context ([`on_file`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileOp {
    /// Reading it.
    Read,
    /// Writing it.
    Write,
    /// Creating it.
    Create,
    /// Opening it.
    Open,
    /// Removing it.
    Remove,
    /// Copying it.
    Copy,
    /// Syncing it to disk.
    Sync,
}

/// `lecture de PATH` (`reading PATH`): the context of a file's error.
pub fn on_file(op: FileOp, path: &std::path::Path) -> String {
    let (fr, en) = match op {
        FileOp::Read => ("lecture de", "reading"),
        FileOp::Write => ("écriture de", "writing"),
        FileOp::Create => ("création de", "creating"),
        FileOp::Open => ("ouverture de", "opening"),
        FileOp::Remove => ("suppression de", "removing"),
        FileOp::Copy => ("copie de", "copying"),
        FileOp::Sync => ("synchronisation sur disque de", "syncing"),
    };
    format!("{} {}", t(fr, en), path.display())
}

/// An I/O error for people: the common kinds in the current language (the system's own
/// words, English, otherwise).
pub fn io_error(error: &std::io::Error) -> String {
    use std::io::ErrorKind as K;
    let fr = match error.kind() {
        K::NotFound => "fichier ou répertoire introuvable",
        K::PermissionDenied => "permission refusée",
        K::AlreadyExists => "existe déjà",
        K::StorageFull => "plus de place sur le disque",
        K::IsADirectory => "c'est un répertoire",
        K::NotADirectory => "ce n'est pas un répertoire",
        K::DirectoryNotEmpty => "le répertoire n'est pas vide",
        K::ReadOnlyFilesystem => "système de fichiers en lecture seule",
        K::ConnectionRefused => "connexion refusée",
        K::TimedOut => "délai dépassé",
        K::UnexpectedEof => "fin de fichier inattendue",
        _ => return error.to_string(),
    };
    match current() {
        Lang::Fr => fr.to_owned(),
        Lang::En => error.to_string(),
    }
}

/// A message in the current language: `tr!("français {x}", "English {x}")`, each a
/// `format!` string over the same arguments.
#[macro_export]
macro_rules! tr {
    ($fr:literal, $en:literal $(,)?) => {
        match $crate::lang::current() {
            $crate::lang::Lang::Fr => format!($fr),
            $crate::lang::Lang::En => format!($en),
        }
    };
    ($fr:literal, $en:literal, $($arg:tt)+) => {
        match $crate::lang::current() {
            $crate::lang::Lang::Fr => format!($fr, $($arg)+),
            $crate::lang::Lang::En => format!($en, $($arg)+),
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn french_by_default_english_on_request_and_per_thread() {
        assert_eq!(Lang::parse(" EN "), Some(Lang::En));
        assert_eq!(Lang::parse("Fr"), Some(Lang::Fr));
        assert_eq!(Lang::parse("fr_FR.UTF-8"), None);
        assert_eq!(Lang::parse("de"), None);
        let n = 3;
        assert_eq!(with(Lang::Fr, || tr!("{n} bons", "{n} vouchers")), "3 bons");
        assert_eq!(
            with(Lang::En, || (
                t("oui", "yes"),
                tr!("{} bons", "{} vouchers", n)
            )),
            ("yes", "3 vouchers".to_owned())
        );
        let outer = current();
        with(Lang::En, || assert_eq!(current(), Lang::En));
        assert_eq!(
            current(),
            outer,
            "the scoped language ends with its closure"
        );
    }
}
