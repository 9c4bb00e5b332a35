//! The README's DuckDB recipe, run as written on a real export: a hub corrects a venue of Hub
//! du Sud's real file, qualifies it and redeems vouchers there; `maillage export` writes the
//! files where the README's SQL expects them, and DuckDB joins the vouchers to the venues on
//! the venue id, keeping the département codes as text (`04`, not 4); then the README's
//! Parquet queries: redemptions per month and département, events per month read through
//! the Hive partitions.
//!
//! Needs `python3` and network access for pip (`duckdb`, in a virtualenv cached under
//! `CARGO_TARGET_TMPDIR`); without them the test fails, it never skips. `MAILLAGE_PYTHON`
//! names another interpreter than `python3`.
#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

mod common;

use common::{hand_out, issue_caf_batch, json, luhn_siret, on, venues_file};

fn describe(output: &Output) -> String {
    format!(
        "{}\nstdout:\n{}\nstderr:\n{}",
        output.status,
        String::from_utf8_lossy(&output.stdout).trim_end(),
        String::from_utf8_lossy(&output.stderr).trim_end()
    )
}

fn run_ok(command: &mut Command) -> Output {
    let output = command
        .output()
        .unwrap_or_else(|e| panic!("cannot run {command:?}: {e}"));
    assert!(
        output.status.success(),
        "{command:?} failed: {}",
        describe(&output)
    );
    output
}

/// A virtualenv with duckdb, created once under `CARGO_TARGET_TMPDIR` and reused while it
/// imports. Panics if it cannot be made.
fn duckdb_python() -> PathBuf {
    let venv = Path::new(env!("CARGO_TARGET_TMPDIR")).join("maillage-duckdb-venv");
    let python = venv.join("bin").join("python");
    let imports = |python: &Path| {
        Command::new(python)
            .args(["-c", "import duckdb"])
            .output()
            .is_ok_and(|o| o.status.success())
    };
    if python.exists() && imports(&python) {
        return python;
    }
    let system = std::env::var("MAILLAGE_PYTHON").unwrap_or_else(|_| "python3".to_owned());
    if !python.exists() {
        run_ok(Command::new(&system).args(["-m", "venv"]).arg(&venv));
    }
    run_ok(Command::new(&python).args([
        "-m",
        "pip",
        "install",
        "--quiet",
        "--disable-pip-version-check",
        "--no-input",
        "duckdb",
    ]));
    assert!(
        imports(&python),
        "pip installed duckdb but it does not import"
    );
    python
}

/// The README's ```sql blocks, in order.
fn readme_sql() -> Vec<String> {
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../README.md"))
            .unwrap();
    readme
        .split("```sql\n")
        .skip(1)
        .map(|block| block[..block.find("```").unwrap()].to_owned())
        .collect()
}

/// The rows DuckDB answers to `sql`, run in `dir` (days and other values JSON lacks as text).
fn duckdb_rows(python: &Path, dir: &Path, sql: &str) -> serde_json::Value {
    let script = "import duckdb, json, sys\n\
                  rows = duckdb.sql(sys.stdin.read()).fetchall()\n\
                  print(json.dumps({'rows': rows}, default=str))\n";
    let mut child = Command::new(python)
        .current_dir(dir)
        .args(["-c", script])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    {
        use std::io::Write;
        child
            .stdin
            .take()
            .unwrap()
            .write_all(sql.as_bytes())
            .unwrap();
    }
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success(), "{sql}\n{}", describe(&output));
    json(&String::from_utf8(output.stdout).unwrap())["rows"].clone()
}

#[test]
fn the_readme_duckdb_recipe_joins_vouchers_to_venues_with_codes_as_text() {
    let work = tempfile::tempdir().unwrap();
    let dir = work.path();
    let python = duckdb_python();
    on(
        dir,
        "sud",
        &[
            "init",
            "--name",
            "Hub du Sud",
            "--territories",
            "04,05,06,13,83,84",
        ],
    );
    let file = venues_file("hub-du-sud-2023-05-17.json");
    on(dir, "sud", &["venues", "import", file.to_str().unwrap()]);
    let venues = json(&on(
        dir,
        "sud",
        &["venues", "list", "--departement", "04", "--json"],
    ));
    let vid = venues[0]["venue_id"].as_str().unwrap().to_owned();
    let name = venues[0]["record"]["nom"].as_str().unwrap().to_owned();
    on(
        dir,
        "sud",
        &[
            "venues",
            "set",
            &vid,
            "--siret",
            &luhn_siret("7328293200007"),
        ],
    );
    on(
        dir,
        "sud",
        &[
            "venues",
            "qualify",
            &vid,
            "--until",
            "2027-06-30",
            "--service",
            "démarches",
        ],
    );
    issue_caf_batch(dir, "sud", "04-2026-CAF-01", "5");
    let person = on(dir, "sud", &["person", "new"]).trim().to_owned();
    hand_out(dir, "sud", "04-2026-CAF-01:1-5", &person);
    for serial in ["04-2026-CAF-01-1", "04-2026-CAF-01-2", "04-2026-CAF-01-3"] {
        on(
            dir,
            "sud",
            &[
                "voucher",
                "redeem",
                serial,
                "--venue",
                &vid,
                "--service",
                "démarches",
                "--date",
                "2026-03-10",
            ],
        );
    }
    // Where the README's SQL reads the files.
    on(
        dir,
        "sud",
        &["export", "--out", "export-2026-06", "--as-of", "2026-06-30"],
    );

    let [csv, parquet, events] = readme_sql().try_into().unwrap();
    // One venue, département "04" as text, open, three vouchers redeemed there.
    let rows = duckdb_rows(&python, dir, &csv);
    assert_eq!(rows, serde_json::json!([["04", name, "open", 3]]), "{rows}");

    // The same from the Parquet files, typed: by month of redemption and département.
    let rows = duckdb_rows(&python, dir, &parquet);
    let mut vouchers = csv::Reader::from_path(dir.join("export-2026-06/vouchers.csv")).unwrap();
    let face = vouchers
        .headers()
        .unwrap()
        .iter()
        .position(|c| c == "face_value_cents");
    let first = vouchers.records().next().unwrap().unwrap();
    let cents = 3 * first[face.unwrap()].parse::<u64>().unwrap();
    assert_eq!(
        rows,
        serde_json::json!([["2026-03", "04", 3, cents]]),
        "{rows}"
    );

    // The events per month of signing, the month read from the partitions' paths; as many
    // as events.csv holds.
    let rows = duckdb_rows(&python, dir, &events);
    let csv_events = std::fs::read_to_string(dir.join("export-2026-06/events.csv")).unwrap();
    let mut months: Vec<String> = csv_events
        .lines()
        .skip(1)
        .map(|line| line[..7].to_owned())
        .collect();
    months.dedup();
    let rows = rows.as_array().unwrap();
    assert_eq!(
        rows.iter()
            .map(|r| r[0].as_str().unwrap().to_owned())
            .collect::<Vec<_>>(),
        months,
        "{rows:?}"
    );
    assert_eq!(
        rows.iter().map(|r| r[1].as_u64().unwrap()).sum::<u64>(),
        csv_events.lines().count() as u64 - 1
    );
    assert_eq!(rows.iter().map(|r| r[2].as_u64().unwrap()).sum::<u64>(), 3);
}
