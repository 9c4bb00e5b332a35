//! The command line speaks French by default (its users are French hub staff and State agents)
//! and English on request: `--lang en`, or `MAILLAGE_LANG=en`, the flag winning.
#![allow(clippy::unwrap_used)]

mod common;
#[path = "common/served.rs"]
mod served;

use std::process::{Command, Output};

use common::*;

fn run(dir: &std::path::Path, env_lang: Option<&str>, args: &[&str]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_maillage"));
    command
        .current_dir(dir)
        .env_remove("MAILLAGE_DATA_DIR")
        .env_remove("MAILLAGE_LANG")
        .env("RUST_LOG", "warn")
        .args(args);
    if let Some(lang) = env_lang {
        command.env("MAILLAGE_LANG", lang);
    }
    command.output().unwrap()
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn help_is_french_by_default() {
    let dir = tempfile::tempdir().unwrap();
    let top = ok(dir.path(), &["--help"]);
    assert!(
        top.contains("Utilisation : maillage [OPTIONS] <COMMANDE>"),
        "{top}"
    );
    assert!(top.contains("Commandes:"), "{top}");
    assert!(
        top.contains("Pass numériques : émettre, remettre, encaisser"),
        "{top}"
    );
    assert!(top.contains("--lang en ou MAILLAGE_LANG=en"), "{top}");
    assert!(top.contains("Afficher la version"), "{top}");
    assert!(!top.contains("Print help"), "{top}");

    let issue = ok(dir.path(), &["voucher", "issue", "--help"]);
    assert!(
        issue.contains("Émettre un lot de pass acheté par un financeur"),
        "{issue}"
    );
    assert!(
        issue.contains("Valeur faciale d'un pass, en centimes [défaut : 1000]"),
        "{issue}"
    );
    assert!(!issue.contains("Face value"), "{issue}");

    let search = ok(dir.path(), &["venues", "search", "-h"]);
    assert!(search.contains("Rayon pour --near"), "{search}");
    assert!(search.contains("[défaut : 50]"), "{search}");
    assert!(!search.contains("[default"), "{search}");

    let close = ok(dir.path(), &["help", "referral", "close"]);
    assert!(
        close.contains("Clore une orientation avec son issue"),
        "{close}"
    );
    assert!(
        close.contains("- no_show : La personne n'est pas venue"),
        "{close}"
    );
}

#[test]
fn english_on_request_by_flag_or_environment() {
    let dir = tempfile::tempdir().unwrap();
    let top = stdout(&run(dir.path(), None, &["--lang", "en", "--help"]));
    assert!(top.contains("Usage: maillage [OPTIONS] <COMMAND>"), "{top}");
    assert!(
        top.contains("Vouchers (Pass numérique): issue, hand out"),
        "{top}"
    );

    let issue = stdout(&run(
        dir.path(),
        Some("en"),
        &["voucher", "issue", "--help"],
    ));
    assert!(
        issue.contains("Face value of one voucher, in cents"),
        "{issue}"
    );
    assert!(issue.contains("[default: 1000]"), "{issue}");

    // Case does not matter.
    let top = stdout(&run(dir.path(), Some("EN"), &["--help"]));
    assert!(top.contains("Usage: maillage"), "{top}");

    // The flag wins over the environment.
    let issue = stdout(&run(
        dir.path(),
        Some("en"),
        &["voucher", "issue", "--help", "--lang", "fr"],
    ));
    assert!(issue.contains("Valeur faciale d'un pass"), "{issue}");
}

#[test]
fn usage_errors_follow_the_language() {
    let dir = tempfile::tempdir().unwrap();
    let fr = run(dir.path(), None, &["venues", "list", "--limt", "3"]);
    assert_eq!(fr.status.code(), Some(2));
    let text = stderr(&fr);
    assert!(
        text.starts_with("erreur : argument inattendu « --limt »"),
        "{text}"
    );
    assert!(text.contains("vouliez-vous dire « --limit »"), "{text}");

    let en = run(dir.path(), Some("en"), &["venues", "list", "--limt", "3"]);
    assert_eq!(en.status.code(), Some(2));
    assert!(
        stderr(&en).starts_with("error: unexpected argument '--limt' found"),
        "{}",
        stderr(&en)
    );

    let bad = run(dir.path(), Some("de"), &["status"]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(
        stderr(&bad).contains("valeur invalide « de » pour « --lang <LANG> »"),
        "{}",
        stderr(&bad)
    );
}

#[test]
fn the_node_answers_in_the_operators_language_and_times_are_paris_time() {
    let work = tempfile::tempdir().unwrap();
    let dir = work.path();
    let unknown = ["--data-dir", "sud", "voucher", "status", "13-2026-X-1"];
    let french = "erreur : pass \"13-2026-X-1\" : aucun pass de ce numéro sur ce nœud";
    let english = "error: voucher \"13-2026-X-1\": no such serial on this node";

    // No data dir yet: the CLI's own error.
    let out = run(dir, None, &unknown);
    assert!(
        stderr(&out).starts_with("erreur : le répertoire de données sud n'existe pas"),
        "{}",
        stderr(&out)
    );
    let out = run(dir, None, &["--lang", "en", "--data-dir", "sud", "stats"]);
    assert!(
        stderr(&out).starts_with("error: data dir sud does not exist"),
        "{}",
        stderr(&out)
    );

    ok(
        dir,
        &[
            "--data-dir",
            "sud",
            "init",
            "--name",
            "Hub du Sud",
            "--territories",
            "13",
        ],
    );
    // Answered by the node opened for the command.
    assert!(stderr(&run(dir, None, &unknown)).starts_with(french));
    assert!(stderr(&run(dir, Some("en"), &unknown)).starts_with(english));

    // `stats` as text: French by default, English with --lang en (definitions included).
    let stats = |args: &[&str]| stdout(&run(dir, None, args));
    let fr = stats(&["--data-dir", "sud", "stats", "--as-of", "2026-12-06"]);
    assert!(
        fr.starts_with("chiffres nationaux au 6\u{a0}décembre 2026\n\nPass numériques\n"),
        "{fr}"
    );
    assert!(fr.contains("HUB ÉMETTEUR") && fr.contains("indicateurs nationaux"));
    assert!(fr.contains("Activité par trimestre") && fr.contains("Encours"));
    let en = stats(&[
        "--lang",
        "en",
        "--data-dir",
        "sud",
        "stats",
        "--as-of",
        "2026-12-06",
    ]);
    assert!(
        en.starts_with("national figures on 6 December 2026\n"),
        "{en}"
    );
    for english in [
        "ISSUING HUB",
        "all funders",
        "referrals: 0 open",
        "median delay between opening and acceptance",
        "venues per département",
        "national indicators",
        "Activity per quarter",
        "Pass numérique vouchers redeemed (by redemption date)",
        "Outstanding liability",
    ] {
        assert!(en.contains(english), "{english}: {en}");
    }
    for french in ["orientations", "financeur", "Encours", "trimestre"] {
        assert!(!en.contains(french), "{french}: {en}");
    }

    // Answered by a serving node (started in French): in the language of the command.
    let mut sud = served::Served::start(dir, "sud", served::free_port(), &[], &[]);
    let out = run(dir, None, &unknown);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).starts_with(french), "{}", stderr(&out));
    let out = run(dir, Some("en"), &unknown);
    assert!(stderr(&out).starts_with(english), "{}", stderr(&out));
    // Data stays data: the same JSON in both languages.
    let status = |lang| {
        let out = run(dir, lang, &["--data-dir", "sud", "digest", "--json"]);
        stdout(&out)
    };
    assert_eq!(status(None), status(Some("en")));
    sud.stop();

    // A time for people is Paris time, with the zone named; advice goes to stderr.
    let out = run(dir, None, &["--data-dir", "sud", "backup", "copy"]);
    let said = stdout(&out);
    assert!(
        said.starts_with("sauvegarde de sud écrite dans copy le "),
        "{said}"
    );
    assert!(said.contains(" (heure de Paris, UTC+"), "{said}");
    assert!(
        stderr(&out).starts_with("Restaurée, cette copie ne signe rien"),
        "{}",
        stderr(&out)
    );
    let out = run(dir, Some("en"), &["--data-dir", "sud", "backup", "copy-en"]);
    assert!(
        stdout(&out).contains(" (Paris time, UTC+"),
        "{}",
        stdout(&out)
    );
}
