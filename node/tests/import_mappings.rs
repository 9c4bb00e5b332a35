//! Import mappings with the real binary: a hub of Bourgogne-Franche-Comté lists the shipped
//! mappings, imports ANCT's France services list through one (a fixture with the list's
//! header), starts a mapping of its own from a shipped one, and gets precise French refusals
//! for a broken mapping, an unknown name, or a format given with a mapping.
#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};

mod common;

use common::{maillage, on, venues_file};

fn france_services() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../crates/maillage-venues/tests/fixtures/france-services-2024.csv")
}

/// The number on the report line starting with `label` (`rejetées`, `importables`…).
fn count(report: &str, label: &str) -> usize {
    report
        .lines()
        .find_map(|l| {
            let rest = l.trim_start().strip_prefix(label)?;
            rest.split_whitespace().next()?.parse().ok()
        })
        .unwrap_or_else(|| panic!("no {label:?} line in:\n{report}"))
}

/// Runs a command that must fail; its standard error.
fn refused(dir: &Path, args: &[&str]) -> String {
    let mut all = vec!["--data-dir", "bfc"];
    all.extend_from_slice(args);
    let out = maillage(dir, &all);
    assert!(!out.status.success(), "{args:?} succeeded");
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// The MedNum BFC hub's data dir, holding its eight départements.
fn init_bfc(dir: &Path) {
    on(
        dir,
        "bfc",
        &[
            "init",
            "--name",
            "MedNum BFC",
            "--territories",
            "21,25,39,58,70,71,89,90",
        ],
    );
}

#[test]
fn a_hub_imports_the_france_services_list_through_a_mapping() {
    let work = tempfile::tempdir().unwrap();
    let dir = work.path();
    init_bfc(dir);

    let list = on(dir, "bfc", &["venues", "mappings"]);
    assert!(
        list.contains("mednum-bfc") && list.contains("france-services"),
        "{list}"
    );
    let toml = on(dir, "bfc", &["venues", "mappings", "france-services"]);
    assert!(toml.contains("[hours.days]"), "{toml}");

    let file = france_services();
    let file = file.to_str().unwrap();
    let dry = on(
        dir,
        "bfc",
        &[
            "venues",
            "import",
            file,
            "--mapping",
            "france-services",
            "--dry-run",
        ],
    );
    assert_eq!(count(&dry, "importables"), 3, "{dry}");
    assert_eq!(count(&dry, "rejetées"), 4, "{dry}");
    for line in [
        "correspondance d'import : france-services",
        "lib_fs",
        "→ nom",
        "→ horaires (horaires d'un jour)",
        "→ itinerance (table de valeurs)",
        "ignorée : Oui/Non, selon qu'on y prend rendez-vous",
        "commune missing",
    ] {
        assert!(dry.contains(line), "{line:?} not in:\n{dry}");
    }

    // Signed, then re-imported: nothing new.
    let done = on(
        dir,
        "bfc",
        &["venues", "import", file, "--mapping", "france-services"],
    );
    assert_eq!(count(&done, "importés"), 3, "{done}");
    let again = on(
        dir,
        "bfc",
        &["venues", "import", file, "--mapping", "france-services"],
    );
    assert_eq!(count(&again, "importés"), 0, "{again}");
    assert_eq!(count(&again, "inchangés"), 3, "{again}");

    // A mapping of one's own, started from the shipped one: a file path.
    let own = toml
        .replace("name = \"france-services\"", "name = \"fs-du-hub\"")
        .replace(
            "frais_a_charge = \"Gratuit\"",
            "frais_a_charge = \"Gratuit\"\nmodalites_acces = \"Se présenter\"",
        );
    std::fs::write(dir.join("fs-du-hub.toml"), &own).unwrap();
    let mine = on(
        dir,
        "bfc",
        &[
            "venues",
            "import",
            file,
            "--mapping",
            "fs-du-hub.toml",
            "--dry-run",
        ],
    );
    assert!(
        mine.contains("correspondance d'import : fs-du-hub"),
        "{mine}"
    );
    assert_eq!(count(&mine, "modifiés"), 3, "{mine}");

    // Refusals, each naming what is wrong; nothing imported.
    let broken = own.replace(
        "modalites_acces = \"Se présenter\"",
        "modalites_acces = \"Sonner\"",
    );
    std::fs::write(dir.join("broken.toml"), broken).unwrap();
    let e = refused(dir, &["venues", "import", file, "--mapping", "broken.toml"]);
    assert!(
        e.contains("clé constants.modalites_acces") && e.contains("\"Sonner\""),
        "{e}"
    );
    assert!(e.contains("ligne "), "{e}");
    let e = refused(dir, &["venues", "import", file, "--mapping", "nulle-part"]);
    assert!(
        e.contains("ni un fichier, ni une correspondance livrée"),
        "{e}"
    );
    let e = refused(
        dir,
        &[
            "venues",
            "import",
            file,
            "--mapping",
            "france-services",
            "--format",
            "json",
        ],
    );
    assert!(e.contains("--format"), "{e}");
    std::fs::write(dir.join("big.toml"), "#".repeat(70_000)).unwrap();
    let e = refused(dir, &["venues", "import", file, "--mapping", "big.toml"]);
    assert!(e.contains("64 Kio"), "{e}");
    let e = refused(dir, &["venues", "mappings", "nulle-part"]);
    assert!(e.contains("aucune correspondance livrée"), "{e}");
}

#[test]
fn the_mednum_bfc_format_is_its_shipped_mapping() {
    let work = tempfile::tempdir().unwrap();
    let dir = work.path();
    init_bfc(dir);
    let file = venues_file("mednum-bfc-2020-05-16.csv");
    let file = file.to_str().unwrap();
    let by_format = on(
        dir,
        "bfc",
        &[
            "venues",
            "import",
            file,
            "--format",
            "mednum-bfc",
            "--dry-run",
        ],
    );
    let by_name = on(
        dir,
        "bfc",
        &[
            "venues",
            "import",
            file,
            "--mapping",
            "mednum-bfc",
            "--dry-run",
        ],
    );
    assert_eq!(by_format, by_name);
    assert_eq!(count(&by_format, "rejetées"), 606, "{by_format}");
    assert!(
        by_format.contains("ignorée : répète departement"),
        "{by_format}"
    );
}
