//! The README is part of the product: every `maillage` command it shows is accepted by the
//! real command-line parser (subcommands, options and values), and the hub operator's first
//! steps run as written against a real venue export.
#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};

use clap::Parser;

mod common;

use common::{ok, venues_file};

fn readme() -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../README.md")).unwrap()
}

/// Splits a shell line into words (quotes and backslashes as a POSIX shell reads them; a `#`
/// outside quotes starts a comment).
fn shell_words(line: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut in_word = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '#' if !in_word => break,
            '\'' => {
                in_word = true;
                for c in chars.by_ref() {
                    if c == '\'' {
                        break;
                    }
                    word.push(c);
                }
            }
            '"' => {
                in_word = true;
                while let Some(c) = chars.next() {
                    match c {
                        '"' => break,
                        '\\' => word.extend(chars.next()),
                        c => word.push(c),
                    }
                }
            }
            '\\' => {
                in_word = true;
                word.extend(chars.next());
            }
            c if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut word));
                    in_word = false;
                }
            }
            c => {
                in_word = true;
                word.push(c);
            }
        }
    }
    if in_word {
        words.push(word);
    }
    words
}

/// The `sh` blocks of the README as (heading above, lines), continuation lines joined.
fn sh_blocks(text: &str) -> Vec<(String, Vec<String>)> {
    let mut blocks = Vec::new();
    let mut heading = String::new();
    let mut current: Option<Vec<String>> = None;
    let mut pending = String::new();
    for line in text.lines() {
        if let Some(lines) = current.as_mut() {
            if line.trim_start().starts_with("```") {
                blocks.push((heading.clone(), current.take().unwrap()));
                continue;
            }
            let joined = format!("{pending}{line}");
            match joined.strip_suffix('\\') {
                Some(head) => pending = format!("{head} "),
                None => {
                    pending.clear();
                    lines.push(joined);
                }
            }
        } else if line.starts_with("```sh") {
            current = Some(Vec::new());
        } else if let Some(h) = line.strip_prefix("## ") {
            heading = h.trim().to_string();
        }
    }
    blocks
}

/// The `maillage` command lines of a shell line (`a && b` is two), as arguments after
/// `maillage`. `cargo run … --` means the node, `cargo run -p maillage-simulations … --` its
/// simulator (`maillage simulate`); `sudo -u ACCOUNT maillage …` is `maillage …`.
fn maillage_commands(line: &str) -> Vec<Vec<String>> {
    let words = shell_words(line);
    words
        .split(|w| w == "&&" || w == ";" || w == "|")
        .filter_map(|command| {
            let command = match command {
                [sudo, u, _, rest @ ..] if sudo == "sudo" && u == "-u" => rest,
                _ => command,
            };
            let first = command.first()?;
            if first == "maillage" {
                return Some(command[1..].to_vec());
            }
            if first == "cargo" && command.get(1).map(String::as_str) == Some("run") {
                let dash = command.iter().position(|w| w == "--")?;
                let mut args = command[dash + 1..].to_vec();
                if command.iter().any(|w| w == "maillage-simulations") {
                    args.insert(0, "simulate".into());
                }
                return Some(args);
            }
            None
        })
        .collect()
}

#[test]
fn shell_words_reads_quotes_like_a_shell() {
    assert_eq!(
        shell_words(r#"maillage a "b c" 'd e' f\ g # comment"#),
        ["maillage", "a", "b c", "d e", "f g"]
    );
    assert_eq!(
        maillage_commands("sudo -u maillage maillage --data-dir /var/lib/maillage status"),
        [["--data-dir", "/var/lib/maillage", "status"]]
    );
}

#[test]
fn every_command_the_readme_shows_is_accepted_by_the_cli() {
    let text = readme();
    let mut checked = 0;
    for (heading, lines) in sh_blocks(&text) {
        for line in lines {
            for args in maillage_commands(&line) {
                let argv = std::iter::once("maillage".to_string()).chain(args.iter().cloned());
                if let Err(error) = maillage::command::Cli::try_parse_from(argv) {
                    panic!(
                        "README, section {heading:?}: `maillage {}` is refused by the CLI:\n{}",
                        args.join(" "),
                        error.render()
                    );
                }
                checked += 1;
            }
        }
    }
    assert!(checked >= 30, "only {checked} commands found in the README");
}

/// The block of the section whose heading starts with `title`.
fn block_of(text: &str, title: &str) -> Vec<String> {
    sh_blocks(text)
        .into_iter()
        .find(|(heading, _)| heading.starts_with(title))
        .unwrap_or_else(|| panic!("no sh block under a heading {title:?}"))
        .1
}

#[test]
fn the_hub_operators_first_steps_run_as_written() {
    let text = readme();
    let work = tempfile::tempdir().unwrap();
    let dir = work.path();
    // The README imports the hub's export under this name.
    let export: PathBuf = venues_file("hub-du-sud-2023-05-17.json");
    std::fs::copy(&export, dir.join("lieux-hub-du-sud.json")).unwrap();
    let mut ran = 0;
    for line in block_of(&text, "A hub operator's first steps") {
        for args in maillage_commands(&line) {
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            ok(dir, &args);
            ran += 1;
        }
    }
    assert!(ran >= 8, "{ran} commands");
    assert!(dir.join("lieux-v1.csv").is_file());
    assert!(dir.join("hub-du-sud.mlog").is_file());
}
