//! The command line's language: French unless `--lang en` or `MAILLAGE_LANG=en` asks for
//! English (the flag wins over the variable), and how times are written for people (Paris
//! time, with the zone named).
//!
//! The language is known before the command line is parsed, since clap renders `--help` and
//! its own errors while parsing: [`detect`] reads it from the raw arguments and the
//! environment, then `--lang` is parsed (and checked) like any other option. Messages are
//! chosen with [`maillage_core::tr!`] and [`maillage_core::lang::t`]; machine-readable output
//! (JSON, CSV, ids, codes) is the same in both languages.

use std::ffi::OsString;

use maillage_core::date::ParisTime;
pub use maillage_core::lang::{Lang, current, t};

/// The environment variable naming the language (`fr` or `en`).
pub const LANG_ENV: &str = "MAILLAGE_LANG";

/// The language asked for: `--lang X` or `--lang=X` among `args` (before a `--`), else
/// `MAILLAGE_LANG`, else French. A value that is neither `fr` nor `en` counts as French here;
/// clap then refuses it with the list of valid values.
pub fn detect(args: impl IntoIterator<Item = OsString>) -> Lang {
    let mut args = args.into_iter().skip(1);
    let mut from_args = None;
    while let Some(arg) = args.next() {
        let arg = arg.to_string_lossy().into_owned();
        if arg == "--" {
            break;
        }
        if arg == "--lang" {
            from_args = args.next().map(|v| v.to_string_lossy().into_owned());
        } else if let Some(value) = arg.strip_prefix("--lang=") {
            from_args = Some(value.to_owned());
        }
    }
    let asked = from_args.or_else(|| std::env::var(LANG_ENV).ok());
    asked.and_then(|v| Lang::parse(&v)).unwrap_or_default()
}

/// "error: …" in the current language, for the message of a failed command: its causes on
/// one line, a system error (file not found…) in the current language too.
pub fn error_line(error: &anyhow::Error) -> String {
    let causes: Vec<String> = error
        .chain()
        .map(|cause| match cause.downcast_ref::<std::io::Error>() {
            Some(io) => maillage_core::lang::io_error(io),
            None => cause.to_string(),
        })
        .collect();
    let text = causes.join(t(" : ", ": "));
    maillage_core::tr!("erreur : {text}", "error: {text}")
}

/// A day `YYYY-MM-DD` written the French way (`1er mars 2026`, `15 mars 2026`); anything else
/// is returned as it is.
pub fn date_fr(day: &str) -> String {
    const MONTHS: [&str; 12] = [
        "janvier",
        "février",
        "mars",
        "avril",
        "mai",
        "juin",
        "juillet",
        "août",
        "septembre",
        "octobre",
        "novembre",
        "décembre",
    ];
    // The core's strict day: real calendar days only, the very bytes it prints.
    let Some(parsed) = maillage_core::Day::parse(day) else {
        return day.to_owned();
    };
    let (year, month, day) = maillage_core::date::civil_from_days(parsed.0);
    let day = if day == 1 {
        "1er".to_owned()
    } else {
        day.to_string()
    };
    format!("{day}\u{A0}{} {year}", MONTHS[month as usize - 1])
}

const MONTHS_EN: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

/// A day `YYYY-MM-DD` for people: `6 décembre 2026` (the dashboard's way), or
/// `6 December 2026`.
pub fn day(text: &str) -> String {
    match current() {
        Lang::Fr => date_fr(text),
        Lang::En => match maillage_core::Day::parse(text) {
            Some(d) => {
                let (year, month, day) = maillage_core::date::civil_from_days(d.0);
                format!("{day} {} {year}", MONTHS_EN[month as usize - 1])
            }
            None => text.to_owned(),
        },
    }
}

/// A moment (milliseconds since the Unix epoch) for people, in Paris time with the zone named:
/// `6 décembre 2026 à 11:05 (heure de Paris, UTC+1)`.
pub fn paris_time(ms: u64) -> String {
    let p = ParisTime::of_millis(ms);
    let date = day(&p.day.to_string());
    let (h, m, z) = (p.hour, p.minute, p.utc_offset_hours);
    maillage_core::tr!(
        "{date} à {h:02}:{m:02} (heure de Paris, UTC+{z})",
        "{date}, {h:02}:{m:02} (Paris time, UTC+{z})"
    )
}

/// A moment, short, for tables: `2026-12-06 11:05 UTC+1`, in Paris time (the table's heading
/// says so).
pub fn paris_time_short(ms: u64) -> String {
    let p = ParisTime::of_millis(ms);
    format!(
        "{} {:02}:{:02} UTC+{}",
        p.day, p.hour, p.minute, p.utc_offset_hours
    )
}

/// A voucher status code (`handed_out`) in words: `remis` in French; English shows the code.
pub fn voucher_status(code: &str) -> &str {
    match (current(), code) {
        (Lang::En, _) => code,
        (Lang::Fr, "issued") => "émis",
        (Lang::Fr, "handed_out") => "remis",
        (Lang::Fr, "redeemed") => "utilisé",
        (Lang::Fr, "cancelled") => "annulé",
        (Lang::Fr, "expired") => "expiré",
        (Lang::Fr, other) => other,
    }
}

/// A referral status code (`no_show`) in words: `absence` in French; English shows the code.
pub fn referral_status(code: &str) -> &str {
    match (current(), code) {
        (Lang::En, _) => code,
        (Lang::Fr, "open") => "ouverte",
        (Lang::Fr, "expired") => "expirée",
        (Lang::Fr, "accepted") => "acceptée",
        (Lang::Fr, "declined") => "refusée",
        (Lang::Fr, "completed") => "terminée",
        (Lang::Fr, "no_show") => "absence",
        (Lang::Fr, "abandoned") => "abandonnée",
        (Lang::Fr, other) => other,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use maillage_core::lang::with;

    fn args(list: &[&str]) -> Vec<OsString> {
        list.iter().map(OsString::from).collect()
    }

    #[test]
    fn the_flag_chooses_the_language_and_french_is_the_default() {
        assert_eq!(
            detect(args(&["maillage", "--lang", "en", "status"])),
            Lang::En
        );
        assert_eq!(detect(args(&["maillage", "status", "--lang=en"])), Lang::En);
        assert_eq!(
            detect(args(&["maillage", "--lang", "fr", "status"])),
            Lang::Fr
        );
        assert_eq!(
            detect(args(&["maillage", "simulate", "--", "--lang", "en"])),
            detect(args(&["maillage"])),
            "after --, arguments belong to another program"
        );
    }

    #[test]
    fn times_are_written_in_paris_time_with_the_zone() {
        // 2026-12-06 10:05 UTC.
        let ms = (maillage_core::date::parse_date("2026-12-06").unwrap() as u64 * 86_400
            + 10 * 3600
            + 5 * 60)
            * 1000;
        assert_eq!(
            with(Lang::Fr, || paris_time(ms)),
            "6\u{a0}décembre 2026 à 11:05 (heure de Paris, UTC+1)"
        );
        assert_eq!(
            with(Lang::En, || paris_time(ms)),
            "6 December 2026, 11:05 (Paris time, UTC+1)"
        );
        assert_eq!(paris_time_short(ms), "2026-12-06 11:05 UTC+1");
        // Summer: UTC+2.
        let summer = ms - 150 * 86_400_000;
        assert!(with(Lang::Fr, || paris_time(summer)).ends_with("(heure de Paris, UTC+2)"));
    }
}
