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
