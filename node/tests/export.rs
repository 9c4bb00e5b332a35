//! `maillage export`, run with the real binary on a small real history: a hub imports the
//! Charente venue export, qualifies a venue, issues two batches, hands out a carnet, redeems,
//! cancels, settles, and opens, accepts and closes referrals. The CSV files are checked
//! against the commands that show the same views (`stats --json`, `voucher status`,
//! `referral show`, `venues export`) and the national schema; a second export is
//! byte-identical; existing files are never replaced without --force; inside a serving node
//! the files land where the caller stands. The Parquet files hold the CSV's rows, typed, and
//! `datapackage.json` describes every file (`export_check`).
//!
//! Size: one real history (import, qualify, issue, hand out, redeem, cancel, settle, refer) checked
//! table by table against the commands that show the same views; splitting it would rebuild the
//! history per file.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

mod common;
mod export_check;

use common::{exchange, issue_caf_batch, json, luhn_siret, maillage, ok, on, venues_file};

const AS_OF: &str = "2026-03-31";

const VOUCHER_COLUMNS: [&str; 24] = [
    "serial",
    "batch",
    "number",
    "issuer_hub",
    "issuer_key",
    "funder",
    "funder_siret",
    "face_value_cents",
    "valid_from",
    "valid_until",
    "redeem_deadline",
    "status",
    "as_of",
    "handed_out",
    "redeemed_on",
    "redeemed_venue_id",
    "redeemed_service",
    "redeemed_via_claim",
    "settled",
    "owner_hub",
    "owner_key",
    "transfers",
    "pending_claims",
    "handed_out_on",
];

const REFERRAL_COLUMNS: [&str; 18] = [
    "referral_id",
    "opened_on",
    "opened_by_hub",
    "opened_by_key",
    "prescriber_kind",
    "needs",
    "target_venue_id",
    "target_departement",
    "handling_hub",
    "handling_key",
    "status",
    "as_of",
    "expires_on",
    "accepted_on",
    "accepted_venue_id",
    "days_to_accept",
    "outcome",
    "autonomy",
];

const STATS_COLUMNS: [&str; 8] = [
    "as_of",
    "section",
    "hub",
    "hub_key",
    "funder",
    "departement",
    "metric",
    "value",
];

const FILES: [&str; 7] = [
    "lieux.csv",
    "venues.csv",
    "vouchers.csv",
    "referrals.csv",
    "events.csv",
    "stats.csv",
    "indicators.csv",
];

/// A CSV file: its header, and its rows as column → value.
struct Table {
    header: Vec<String>,
    rows: Vec<BTreeMap<String, String>>,
}

impl Table {
    fn read(path: &Path) -> Self {
        let bytes = std::fs::read(path).unwrap();
        assert!(
            std::str::from_utf8(&bytes).is_ok(),
            "{} is not UTF-8",
            path.display()
        );
        let mut reader = csv::Reader::from_reader(bytes.as_slice());
        let header: Vec<String> = reader
            .headers()
            .unwrap()
            .iter()
            .map(str::to_owned)
            .collect();
        let rows = reader
            .records()
            .map(|r| {
                let r = r.unwrap();
                assert_eq!(r.len(), header.len(), "{}: {r:?}", path.display());
                header
                    .iter()
                    .cloned()
                    .zip(r.iter().map(str::to_owned))
                    .collect()
            })
            .collect();
        Self { header, rows }
    }

    /// The one row whose `column` is `value`.
    fn row(&self, column: &str, value: &str) -> &BTreeMap<String, String> {
        let found: Vec<_> = self.rows.iter().filter(|r| r[column] == value).collect();
        assert_eq!(found.len(), 1, "{column} = {value}: {found:?}");
        found[0]
    }

    fn column(&self, column: &str) -> Vec<&str> {
        self.rows.iter().map(|r| r[column].as_str()).collect()
    }
}

/// A row of stats.csv without its value: section, hub, funder, département, metric.
type Key = (String, String, String, String, String);

fn stat_key(section: &str, hub: &str, funder: &str, departement: &str, metric: &str) -> Key {
    (
        section.to_owned(),
        hub.to_owned(),
        funder.to_owned(),
        departement.to_owned(),
        metric.to_owned(),
    )
}

/// `export` output: file name under DIR → row count, from lines "DIR/NAME : N lignes (…)".
fn written(stdout: &str) -> BTreeMap<String, u64> {
    stdout
        .lines()
        .map(|line| {
            let (path, rest) = line.rsplit_once(" : ").unwrap();
            let name = path.split_once('/').unwrap().1;
            let rows = rest.split_once(" lignes").unwrap().0.parse().unwrap();
            (name.to_owned(), rows)
        })
        .collect()
}

fn files_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    names
}

fn bytes(dir: &Path, name: &str) -> Vec<u8> {
    std::fs::read(dir.join(name)).unwrap()
}

/// The national standard v1's field names, from its schema.
fn schema_v1_fields() -> Vec<String> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/data/schemas/lieux-mediation-numerique/schema.json");
    let schema = json(&std::fs::read_to_string(path).unwrap());
    schema["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["name"].as_str().unwrap().to_owned())
        .collect()
}

/// Founds a one-hub federation for Charente and its neighbours in `dir/hub`.
fn found_hub(dir: &Path) {
    on(
        dir,
        "hub",
        &[
            "init",
            "--name",
            "Hub Charente",
            "--territories",
            "16,17,79,86",
        ],
    );
}

fn issue(dir: &Path, batch: &str, count: &str, from: &str, until: &str, deadline: &str) {
    on(
        dir,
        "hub",
        &[
            "voucher",
            "issue",
            "--batch",
            batch,
            "--funder",
            "Département de la Charente",
            "--funder-siret",
            &luhn_siret("2216000170001"),
            "--count",
            count,
            "--valid-from",
            from,
            "--valid-until",
            until,
            "--redeem-deadline",
            deadline,
        ],
    );
}

/// The history: returns (qualified venue id, person code).
fn history(dir: &Path) -> (String, String) {
    found_hub(dir);
    let charente = venues_file("charente-2023-07-11.json");
    let imported = on(
        dir,
        "hub",
        &["venues", "import", charente.to_str().unwrap(), "--json"],
    );
    assert!(
        json(&imported)["imported"].as_u64().unwrap() > 100,
        "{imported}"
    );

    // A venue with a real SIRET is qualified for vouchers.
    let venues = json(&on(
        dir,
        "hub",
        &["venues", "list", "--limit", "100000", "--json"],
    ));
    let vid = venues
        .as_array()
        .unwrap()
        .iter()
        .find(|v| {
            let pivot = v["record"]["pivot"].as_str().unwrap();
            !pivot.is_empty() && pivot.bytes().any(|b| b != b'0')
        })
        .unwrap()["venue_id"]
        .as_str()
        .unwrap()
        .to_owned();
    on(
        dir,
        "hub",
        &[
            "venues",
            "qualify",
            &vid,
            "--until",
            "2027-06-30",
            "--service",
            "démarches",
            "--service",
            "outils numériques",
        ],
    );

    // Two batches: one current, one whose redeem deadline has passed by the as-of day.
    issue(
        dir,
        "16-2026-CD-01",
        "10",
        "2026-01-01",
        "2026-12-31",
        "2027-01-31",
    );
    issue(
        dir,
        "16-2025-CD-01",
        "3",
        "2025-01-01",
        "2025-12-31",
        "2026-01-31",
    );
    let person = json(&on(dir, "hub", &["person", "new", "--json"]))["code"]
        .as_str()
        .unwrap()
        .to_owned();
    on(
        dir,
        "hub",
        &[
            "voucher",
            "hand-out",
            "--carnet",
            "16-2026-CD-01:1-5",
            "--person",
            &person,
            "--prescriber-kind",
            "CAF",
            "--prescriber",
            "CAF de la Charente, Angoulême",
            "--date",
            "2026-03-02",
        ],
    );
    for serial in ["16-2026-CD-01-1", "16-2026-CD-01-2"] {
        on(
            dir,
            "hub",
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
    on(
        dir,
        "hub",
        &[
            "voucher",
            "settle",
            "--venue",
            &vid,
            "16-2026-CD-01-1",
            "--period",
            "2026-03",
        ],
    );
    on(
        dir,
        "hub",
        &[
            "voucher",
            "cancel",
            "16-2026-CD-01-10",
            "--reason",
            "carnet détruit",
        ],
    );

    // Referrals: one accepted after 3 days then completed, one to a département left to
    // expire, one still open.
    let open = |id: &str, opened_on: &str, target: [&str; 2]| {
        on(
            dir,
            "hub",
            &[
                "referral",
                "open",
                "--id",
                id,
                "--person",
                &person,
                "--prescriber-kind",
                "FT",
                "--prescriber",
                "France Travail Angoulême",
                "--need",
                "démarches",
                target[0],
                target[1],
                "--opened-on",
                opened_on,
            ],
        );
    };
    open("16-R-A", "2026-03-01", ["--venue", &vid]);
    open("16-R-B", "2026-01-02", ["--service-territory", "16"]);
    open("16-R-C", "2026-03-20", ["--venue", &vid]);
    on(
        dir,
        "hub",
        &[
            "referral",
            "accept",
            "16-R-A",
            "--venue",
            &vid,
            "--date",
            "2026-03-04",
        ],
    );
    on(
        dir,
        "hub",
        &[
            "referral",
            "close",
            "16-R-A",
            "--outcome",
            "completed",
            "--autonomy",
            "partially",
        ],
    );
    (vid, person)
}

#[test]
fn export_writes_the_views_a_coordinator_loads_into_a_spreadsheet() {
    let work = tempfile::tempdir().unwrap();
    let dir = work.path();
    let (vid, person) = history(dir);
    let stats = json(&on(dir, "hub", &["stats", "--as-of", AS_OF, "--json"]));

    let out = on(dir, "hub", &["export", "--out", "exp", "--as-of", AS_OF]);
    let counts = written(&out);
    let months = export_check::month_files(counts.keys().cloned());
    assert!(!months.is_empty(), "{out}");
    assert_eq!(
        counts
            .keys()
            .filter(|name| !months.contains(name))
            .map(String::as_str)
            .collect::<Vec<_>>(),
        [
            "datapackage.json",
            "events.csv",
            "indicators.csv",
            "indicators.parquet",
            "lieux.csv",
            "referrals.csv",
            "referrals.parquet",
            "stats.csv",
            "stats.parquet",
            "venues.csv",
            "venues.parquet",
            "vouchers.csv",
            "vouchers.parquet",
        ],
        "{out}"
    );
    let exp = dir.join("exp");
    let mut top: Vec<String> = counts
        .keys()
        .map(|name| name.split('/').next().unwrap().to_owned())
        .collect();
    top.sort();
    top.dedup();
    assert_eq!(files_in(&exp), top);
    assert_eq!(
        months.iter().map(|m| counts[m]).sum::<u64>(),
        counts["events.csv"]
    );
    export_check::parquet_matches_csv(&exp, &counts);
    export_check::datapackage_describes(&exp, &counts);

    // lieux.csv: the national standard v1, the very file `venues export` writes.
    let lieux = Table::read(&exp.join("lieux.csv"));
    assert_eq!(lieux.header, schema_v1_fields());
    let open_venues: u64 = stats["venues"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["venues"].as_u64().unwrap())
        .sum();
    assert_eq!(lieux.rows.len() as u64, open_venues);
    assert_eq!(counts["lieux.csv"], open_venues);
    on(dir, "hub", &["venues", "export", "--out", "v1.csv"]);
    assert_eq!(bytes(&exp, "lieux.csv"), bytes(dir, "v1.csv"));

    // vouchers.csv: every voucher of both batches, by batch then number.
    let vouchers = Table::read(&exp.join("vouchers.csv"));
    assert_eq!(vouchers.header, VOUCHER_COLUMNS);
    let total = &stats["total"];
    assert_eq!(total["issued"], 13);
    assert_eq!(
        vouchers.rows.len() as u64,
        total["issued"].as_u64().unwrap()
    );
    assert_eq!(counts["vouchers.csv"], 13);
    let expected_order: Vec<String> = (1..=3)
        .map(|n| format!("16-2025-CD-01-{n}"))
        .chain((1..=10).map(|n| format!("16-2026-CD-01-{n}")))
        .collect();
    assert_eq!(vouchers.column("serial"), expected_order);
    let by_status = |status: &str| {
        vouchers
            .column("status")
            .iter()
            .filter(|s| **s == status)
            .count() as u64
    };
    for status in ["redeemed", "cancelled", "expired"] {
        assert_eq!(
            by_status(status),
            total[status].as_u64().unwrap(),
            "{status}"
        );
    }
    let handed: u64 = vouchers
        .column("handed_out")
        .iter()
        .map(|f| f.parse::<u64>().unwrap())
        .sum();
    assert_eq!(handed, total["handed_out"].as_u64().unwrap());
    let settled: u64 = vouchers
        .rows
        .iter()
        .filter(|r| r["settled"] == "1")
        .map(|r| r["face_value_cents"].parse::<u64>().unwrap())
        .sum();
    assert_eq!(settled, total["settled_cents"].as_u64().unwrap());

    let first = vouchers.row("serial", "16-2026-CD-01-1");
    for (column, value) in [
        ("batch", "16-2026-CD-01"),
        ("number", "1"),
        ("issuer_hub", "Hub Charente"),
        ("funder", "Département de la Charente"),
        ("face_value_cents", "1000"),
        ("redeem_deadline", "2027-01-31"),
        ("status", "redeemed"),
        ("as_of", AS_OF),
        ("handed_out", "1"),
        ("redeemed_on", "2026-03-10"),
        ("redeemed_venue_id", vid.as_str()),
        ("redeemed_service", "Aide aux démarches administratives"),
        ("redeemed_via_claim", "0"),
        ("settled", "1"),
        ("owner_hub", "Hub Charente"),
        ("transfers", "0"),
        ("pending_claims", "0"),
        ("handed_out_on", "2026-03-02"),
    ] {
        assert_eq!(first[column], value, "{column}: {first:?}");
    }
    assert_eq!(first["issuer_key"].len(), 8, "{first:?}");
    assert_eq!(first["owner_key"], first["issuer_key"]);
    for (serial, status, handed_out) in [
        ("16-2026-CD-01-2", "redeemed", "1"),
        ("16-2026-CD-01-3", "handed_out", "1"),
        ("16-2026-CD-01-7", "issued", "0"),
        ("16-2026-CD-01-10", "cancelled", "0"),
        ("16-2025-CD-01-2", "expired", "0"),
    ] {
        let row = vouchers.row("serial", serial);
        assert_eq!(
            (row["status"].as_str(), row["handed_out"].as_str()),
            (status, handed_out),
            "{row:?}"
        );
        // The same status `voucher status` shows for that day.
        let shown = json(&on(
            dir,
            "hub",
            &["voucher", "status", serial, "--as-of", AS_OF, "--json"],
        ));
        assert_eq!(shown["status"], status, "{shown}");
        assert_eq!(row["redeemed_on"].is_empty(), status != "redeemed");
        assert_eq!(row["handed_out_on"].is_empty(), handed_out == "0");
    }
    // The statuses move with --as-of: in December 2025 the old batch was still redeemable.
    let before = on(
        dir,
        "hub",
        &[
            "export",
            "--out",
            "exp-2025",
            "--as-of",
            "2025-12-01",
            "--only",
            "vouchers",
        ],
    );
    assert_eq!(written(&before)["vouchers.csv"], 13);
    let december = Table::read(&dir.join("exp-2025/vouchers.csv"));
    assert_eq!(
        december.row("serial", "16-2025-CD-01-2")["status"],
        "issued"
    );
    assert_eq!(
        december.row("serial", "16-2025-CD-01-2")["as_of"],
        "2025-12-01"
    );

    // referrals.csv: by id, each with its status on the day.
    let referrals = Table::read(&exp.join("referrals.csv"));
    assert_eq!(referrals.header, REFERRAL_COLUMNS);
    let figures = &stats["referrals"];
    let referral_count: u64 = [
        "open",
        "expired",
        "accepted",
        "declined",
        "completed",
        "no_show",
        "abandoned",
    ]
    .iter()
    .map(|s| figures[*s].as_u64().unwrap())
    .sum();
    assert_eq!(referral_count, 3);
    assert_eq!(referrals.rows.len() as u64, referral_count);
    assert_eq!(counts["referrals.csv"], 3);
    assert_eq!(
        referrals.column("referral_id"),
        ["16-R-A", "16-R-B", "16-R-C"]
    );
    for status in ["open", "expired", "completed"] {
        assert_eq!(
            referrals
                .column("status")
                .iter()
                .filter(|s| **s == status)
                .count() as u64,
            figures[status].as_u64().unwrap(),
            "{status}"
        );
    }
    let done = referrals.row("referral_id", "16-R-A");
    for (column, value) in [
        ("opened_on", "2026-03-01"),
        ("opened_by_hub", "Hub Charente"),
        ("prescriber_kind", "FT"),
        ("needs", "Aide aux démarches administratives"),
        ("target_venue_id", vid.as_str()),
        ("handling_hub", "Hub Charente"),
        ("status", "completed"),
        ("expires_on", ""),
        ("accepted_on", "2026-03-04"),
        ("accepted_venue_id", vid.as_str()),
        ("days_to_accept", "3"),
        ("outcome", "completed"),
        ("autonomy", "partially"),
    ] {
        assert_eq!(done[column], value, "{column}: {done:?}");
    }
    let lapsed = referrals.row("referral_id", "16-R-B");
    assert_eq!(
        (
            lapsed["status"].as_str(),
            lapsed["target_departement"].as_str(),
            lapsed["expires_on"].as_str(),
            lapsed["days_to_accept"].as_str(),
            lapsed["outcome"].as_str()
        ),
        ("expired", "16", "2026-02-01", "", "")
    );
    for id in ["16-R-A", "16-R-B", "16-R-C"] {
        let shown = json(&on(
            dir,
            "hub",
            &["referral", "show", id, "--as-of", AS_OF, "--json"],
        ));
        assert_eq!(
            referrals.row("referral_id", id)["status"],
            shown["status"].as_str().unwrap()
        );
    }

    // No person code in any file meant to be shared (nor the prescriber's desk).
    for name in FILES {
        let text = String::from_utf8(bytes(&exp, name)).unwrap();
        assert!(!text.contains(&person), "{name} names the person");
        assert!(!text.contains("France Travail Angoulême"), "{name}");
        assert!(!text.contains("CAF de la Charente"), "{name}");
    }

    // indicators.csv: the indicators of `stats --json`, one a row.
    let indicators = Table::read(&exp.join("indicators.csv"));
    assert_eq!(
        indicators.header,
        [
            "as_of",
            "indicator",
            "quarter",
            "funder",
            "prescriber_kind",
            "from_hub",
            "to_hub",
            "metric",
            "value"
        ]
    );
    let value_of = |indicator: &str, metric: &str| -> u64 {
        let rows: Vec<_> = indicators
            .rows
            .iter()
            .filter(|r| r["indicator"] == indicator && r["metric"] == metric)
            .collect();
        rows.iter()
            .map(|r| r["value"].parse::<u64>().unwrap())
            .sum()
    };
    let i = &stats["indicators"];
    assert_eq!(
        value_of("liability_total", "cents"),
        i["liability_cents"].as_u64().unwrap()
    );
    assert_eq!(
        value_of("activity", "redeemed"),
        i["quarters"]
            .as_array()
            .unwrap()
            .iter()
            .map(|q| q["redeemed"].as_u64().unwrap())
            .sum::<u64>()
    );
    assert_eq!(
        value_of("acceptance_delay", "referrals_old_enough"),
        i["referrals_old_enough"].as_u64().unwrap()
    );

    // stats.csv: every figure of `stats --json`, one a row.
    let table = Table::read(&exp.join("stats.csv"));
    assert_eq!(table.header, STATS_COLUMNS);
    assert!(table.rows.iter().all(|r| r["as_of"] == AS_OF));
    let mut figures_csv: BTreeMap<Key, String> = BTreeMap::new();
    for r in &table.rows {
        let key = stat_key(
            &r["section"],
            &r["hub"],
            &r["funder"],
            &r["departement"],
            &r["metric"],
        );
        assert!(
            figures_csv.insert(key, r["value"].clone()).is_none(),
            "{r:?}"
        );
    }
    let same = |value: &serde_json::Value, cell: &str, what: &str| match value {
        serde_json::Value::Null => assert_eq!(cell, "", "{what}"),
        v if v.is_u64() => assert_eq!(cell, v.as_u64().unwrap().to_string(), "{what}"),
        v => {
            let cell: f64 = cell.parse().unwrap_or_else(|_| panic!("{what}: {cell:?}"));
            assert!((cell - v.as_f64().unwrap()).abs() < 1e-12, "{what}");
        }
    };
    let voucher_metrics = [
        "batches",
        "issued",
        "handed_out",
        "redeemed",
        "cancelled",
        "expired",
        "usage_rate",
        "settled_cents",
    ];
    let mut expected_rows = 0;
    let lines = stats["vouchers"].as_array().unwrap();
    assert_eq!(lines.len(), 1);
    for line in lines {
        let hub = line["hub"].as_str().unwrap();
        let funder = line["funder"].as_str().unwrap();
        for metric in voucher_metrics {
            let key = stat_key("vouchers", hub, funder, "", metric);
            same(&line[metric], &figures_csv[&key], metric);
            expected_rows += 1;
        }
    }
    for metric in voucher_metrics {
        let key = stat_key("vouchers_total", "", "", "", metric);
        same(&total[metric], &figures_csv[&key], metric);
        expected_rows += 1;
    }
    for metric in [
        "open",
        "expired",
        "accepted",
        "declined",
        "completed",
        "no_show",
        "abandoned",
        "median_days_to_accept",
    ] {
        let key = stat_key("referrals", "", "", "", metric);
        same(&figures[metric], &figures_csv[&key], metric);
        expected_rows += 1;
    }
    for v in stats["venues"].as_array().unwrap() {
        for metric in ["venues", "qualified"] {
            let key = stat_key(
                "venues",
                v["hub"].as_str().unwrap(),
                "",
                v["departement"].as_str().unwrap(),
                metric,
            );
            same(&v[metric], &figures_csv[&key], metric);
            expected_rows += 1;
        }
    }
    assert_eq!(table.rows.len(), expected_rows);
    assert_eq!(counts["stats.csv"], expected_rows as u64);
    let usage = &figures_csv[&stat_key("vouchers_total", "", "", "", "usage_rate")];
    assert_eq!(usage, "0.4", "2 redeemed of 5 handed out");

    // The same events give the same bytes.
    let again = on(dir, "hub", &["export", "--out", "exp2", "--as-of", AS_OF]);
    assert_eq!(written(&again), counts);
    let exp2 = dir.join("exp2");
    for name in counts.keys() {
        assert_eq!(bytes(&exp, name), bytes(&exp2, name), "{name}");
    }

    // Existing files are not replaced without --force, and nothing at all is written.
    std::fs::write(exp.join("vouchers.csv"), "kept\n").unwrap();
    let refused = maillage(
        dir,
        &[
            "--data-dir",
            "hub",
            "export",
            "--out",
            "exp",
            "--as-of",
            AS_OF,
        ],
    );
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert_eq!(refused.status.code(), Some(1), "{stderr}");
    assert!(refused.stdout.is_empty());
    assert!(
        stderr.contains(&format!(
            "lieux.csv, venues.csv, venues.parquet, vouchers.csv, vouchers.parquet, referrals.csv, \
             referrals.parquet, events.csv, stats.csv, stats.parquet, indicators.csv, \
             indicators.parquet, datapackage.json, {} existent déjà dans {}",
            months.join(", "),
            Path::new("exp").display()
        )) && stderr.contains("rien n'a été écrit")
            && stderr.contains("--force"),
        "{stderr}"
    );
    assert_eq!(bytes(&exp, "vouchers.csv"), b"kept\n");
    for name in FILES.iter().filter(|n| **n != "vouchers.csv") {
        assert_eq!(bytes(&exp, name), bytes(&exp2, name), "{name}");
    }
    assert_eq!(files_in(&exp), files_in(&exp2), "no partial file left");
    // A month an earlier export wrote is removed by --force: `events/*/*.parquet` reads this
    // export's events only.
    std::fs::create_dir_all(exp.join("events/month=1999-01")).unwrap();
    std::fs::write(exp.join("events/month=1999-01/part-0.parquet"), "old").unwrap();
    let forced = on(
        dir,
        "hub",
        &["export", "--out", "exp", "--as-of", AS_OF, "--force"],
    );
    assert_eq!(written(&forced), counts);
    assert!(!exp.join("events/month=1999-01").exists());
    assert_eq!(bytes(&exp, "vouchers.csv"), bytes(&exp2, "vouchers.csv"));

    // --only writes the files asked for; one existing file is enough to refuse the rest.
    let only = on(
        dir,
        "hub",
        &[
            "export",
            "--out",
            "exp3",
            "--as-of",
            AS_OF,
            "--only",
            "stats,vouchers",
        ],
    );
    assert_eq!(only.lines().count(), 5, "{only}");
    let exp3 = dir.join("exp3");
    let only_files = [
        "datapackage.json",
        "stats.csv",
        "stats.parquet",
        "vouchers.csv",
        "vouchers.parquet",
    ];
    assert_eq!(files_in(&exp3), only_files);
    assert_eq!(bytes(&exp3, "stats.csv"), bytes(&exp2, "stats.csv"));
    // The package describes these files only; venues.csv is not written, so no join to it.
    let package = json(&String::from_utf8(bytes(&exp3, "datapackage.json")).unwrap());
    let described: Vec<&str> = package["resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["path"].as_str().unwrap())
        .collect();
    assert_eq!(
        described,
        [
            "vouchers.csv",
            "vouchers.parquet",
            "stats.csv",
            "stats.parquet"
        ]
    );
    assert!(package["resources"][0]["schema"]["foreignKeys"].is_null());
    let refused = maillage(
        dir,
        &[
            "--data-dir",
            "hub",
            "export",
            "--out",
            "exp3",
            "--as-of",
            AS_OF,
        ],
    );
    assert_eq!(refused.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(
        stderr.contains(
            "vouchers.csv, vouchers.parquet, stats.csv, stats.parquet, datapackage.json \
             existent déjà dans"
        ),
        "{stderr}"
    );
    assert_eq!(files_in(&exp3), only_files);

    // A malformed day is refused before anything is written.
    let refused = maillage(
        dir,
        &[
            "--data-dir",
            "hub",
            "export",
            "--out",
            "exp4",
            "--as-of",
            "31/03/2026",
        ],
    );
    assert_eq!(refused.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&refused.stderr)
            .contains("--as-of : date attendue au format AAAA-MM-JJ")
    );
    assert!(!dir.join("exp4").exists());
}

/// A running `maillage serve` on any free port, killed when dropped.
struct Serving(Child);

impl Serving {
    fn start(dir: &Path, node: &str) -> Self {
        let log = std::fs::File::create(dir.join(format!("{node}.log"))).unwrap();
        let child = Command::new(env!("CARGO_BIN_EXE_maillage"))
            .current_dir(dir)
            .env_remove("MAILLAGE_DATA_DIR")
            .env("RUST_LOG", "warn")
            .args(["--data-dir", node, "serve", "--listen", "127.0.0.1:0"])
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap();
        let serving = Self(child);
        let socket = dir.join(node).join("run/admin.sock");
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let answers = std::os::unix::net::UnixStream::connect(&socket).is_ok();
            if answers {
                return serving;
            }
            assert!(
                Instant::now() < deadline,
                "{node} did not start: {}",
                std::fs::read_to_string(dir.join(format!("{node}.log"))).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Serving {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn export_inside_a_serving_node_writes_where_the_caller_stands() {
    let work = tempfile::tempdir().unwrap();
    let dir = work.path();
    found_hub(dir);
    issue(
        dir,
        "16-2026-CD-02",
        "3",
        "2026-01-01",
        "2026-12-31",
        "2027-01-31",
    );
    let _serving = Serving::start(dir, "hub");

    // The analyst runs the command from another directory, with a relative --out.
    let analyst = dir.join("analyst");
    std::fs::create_dir(&analyst).unwrap();
    let args = [
        "--data-dir",
        "../hub",
        "export",
        "--out",
        "exp",
        "--as-of",
        AS_OF,
        "--only",
        "vouchers",
    ];
    let out = ok(&analyst, &args);
    let target: PathBuf = analyst.join("exp").join("vouchers.csv");
    // The node sent the file back and the CLI wrote it where the caller stands, under the
    // path as typed (the node opens no path a client names).
    assert_eq!(
        out.trim(),
        "exp/vouchers.csv : 3 lignes (pass)\n\
         exp/vouchers.parquet : 3 lignes (pass)\n\
         exp/datapackage.json : 2 lignes (fichiers décrits)",
        "{out}"
    );
    assert!(!dir.join("exp").exists(), "written where the daemon runs");
    let vouchers = Table::read(&target);
    assert_eq!(vouchers.header, VOUCHER_COLUMNS);
    assert_eq!(vouchers.column("status"), ["issued", "issued", "issued"]);

    // Its refusal reaches the caller too, and the file is untouched.
    let before = std::fs::read(&target).unwrap();
    let refused = maillage(&analyst, &args);
    assert_eq!(refused.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(
        stderr.contains(
            "vouchers.csv, vouchers.parquet, datapackage.json existent déjà dans exp : rien n'a \
             été écrit"
        ),
        "{stderr}"
    );
    assert_eq!(std::fs::read(&target).unwrap(), before);

    // `venues export` to stdout comes back to the caller too, not to the daemon's terminal.
    let venues = ok(&analyst, &["--data-dir", "../hub", "venues", "export"]);
    assert!(venues.starts_with("id,pivot,nom,"), "{venues}");
}

#[test]
fn two_nodes_holding_the_same_events_export_the_same_bytes() {
    let work = tempfile::tempdir().unwrap();
    let dir = work.path();
    let mut members = String::from("name = \"Fédération test\"\nadmission_threshold = 1\n");
    for (node, name, territories) in [
        ("sud", "Hub du Sud", "\"13\", \"84\""),
        ("hinaura", "Hinaura", "\"69\""),
    ] {
        let key = on(dir, node, &["init"]);
        members.push_str(&format!(
            "\n[[members]]\nname = \"{name}\"\nkey = \"{}\"\nrole = \"hub\"\nterritories = [{territories}]\n",
            key.trim()
        ));
    }
    common::create_charter(dir, &members);
    for node in ["sud", "hinaura"] {
        on(dir, node, &["init", "--charter", "charter.pb"]);
    }

    // Hinaura: a qualified médiathèque in Lyon.
    let venue = serde_json::json!([{
        "id": "bm-lyon-1er",
        "pivot": luhn_siret("2169001230001"),
        "nom": "Bibliothèque municipale du 1er arrondissement",
        "commune": "Lyon",
        "code_postal": "69001",
        "code_insee": "69381",
        "adresse": "7 rue Saint-Polycarpe",
        "date_maj": "2026-01-15",
        "services": "Aide aux démarches administratives|Maîtrise des outils numériques du quotidien",
        "source": "Hinaura"
    }]);
    std::fs::write(dir.join("lyon.json"), venue.to_string()).unwrap();
    on(dir, "hinaura", &["venues", "import", "lyon.json"]);
    on(
        dir,
        "hinaura",
        &[
            "venues",
            "qualify",
            "bm-lyon-1er",
            "--until",
            "2027-06-30",
            "--service",
            "démarches",
            "--service",
            "outils numériques",
        ],
    );
    exchange(dir, "hinaura", "sud");

    // Hub du Sud: a carnet of 3; the person moves to Lyon with voucher 1, transferred to
    // Hinaura, which redeems it; Hinaura's venue takes voucher 2 while Hub du Sud is away and
    // claims it.
    issue_caf_batch(dir, "sud", "13-2026-CAF-01", "4");
    let person = json(&on(dir, "sud", &["person", "new", "--json"]))["code"]
        .as_str()
        .unwrap()
        .to_owned();
    on(
        dir,
        "sud",
        &[
            "voucher",
            "hand-out",
            "--carnet",
            "13-2026-CAF-01:1-3",
            "--person",
            &person,
            "--prescriber-kind",
            "CCAS",
            "--prescriber",
            "CCAS de Marseille",
            "--date",
            "2026-03-02",
        ],
    );
    on(
        dir,
        "sud",
        &[
            "voucher",
            "transfer",
            "13-2026-CAF-01-1",
            "--to",
            "hinaura",
            "--reason",
            "la personne vit à Lyon",
        ],
    );
    exchange(dir, "sud", "hinaura");
    on(
        dir,
        "hinaura",
        &[
            "voucher",
            "redeem",
            "13-2026-CAF-01-1",
            "--venue",
            "bm-lyon-1er",
            "--service",
            "démarches",
            "--date",
            "2026-03-10",
        ],
    );
    on(
        dir,
        "hinaura",
        &[
            "voucher",
            "claim",
            "13-2026-CAF-01-2",
            "--venue",
            "bm-lyon-1er",
            "--service",
            "outils",
            "--date",
            "2026-03-12",
        ],
    );
    exchange(dir, "hinaura", "sud");
    exchange(dir, "sud", "hinaura");
    assert_eq!(on(dir, "sud", &["digest"]), on(dir, "hinaura", &["digest"]));

    for node in ["sud", "hinaura"] {
        on(
            dir,
            node,
            &[
                "export",
                "--out",
                &format!("{node}-export"),
                "--as-of",
                AS_OF,
            ],
        );
    }
    let names = |node: &str| {
        let mut names: Vec<String> = FILES
            .iter()
            .chain(&export_check::PARQUET)
            .chain(&["datapackage.json"])
            .map(|n| n.to_string())
            .collect();
        let events = dir.join(node).join("events");
        for month in std::fs::read_dir(events).unwrap() {
            let month = month.unwrap().file_name().into_string().unwrap();
            names.push(format!("events/{month}/part-0.parquet"));
        }
        names.sort();
        names
    };
    assert_eq!(names("sud-export"), names("hinaura-export"));
    for name in names("sud-export") {
        assert_eq!(
            bytes(&dir.join("sud-export"), &name),
            bytes(&dir.join("hinaura-export"), &name),
            "{name}"
        );
    }

    let vouchers = Table::read(&dir.join("sud-export/vouchers.csv"));
    assert_eq!(vouchers.rows.len(), 4);
    let moved = vouchers.row("serial", "13-2026-CAF-01-1");
    for (column, value) in [
        ("issuer_hub", "Hub du Sud"),
        ("owner_hub", "Hinaura"),
        ("transfers", "1"),
        ("status", "redeemed"),
        ("redeemed_on", "2026-03-10"),
        ("redeemed_via_claim", "0"),
        ("pending_claims", "0"),
    ] {
        assert_eq!(moved[column], value, "{column}: {moved:?}");
    }
    assert_ne!(moved["owner_key"], moved["issuer_key"]);
    let claimed = vouchers.row("serial", "13-2026-CAF-01-2");
    for (column, value) in [
        ("owner_hub", "Hub du Sud"),
        ("status", "handed_out"),
        ("pending_claims", "1"),
        ("redeemed_on", ""),
    ] {
        assert_eq!(claimed[column], value, "{column}: {claimed:?}");
    }
    let text = String::from_utf8(bytes(&dir.join("sud-export"), "vouchers.csv")).unwrap();
    assert!(!text.contains(&person) && !text.contains("CCAS de Marseille"));
}
