//! The dashboard in a real browser: headless Chromium loads `/`, `/federation` and `/venues`
//! of real `maillage serve` processes (two hubs with their real venue exports, vouchers,
//! referrals), the DOM it built is checked, and screenshots are kept under the target
//! directory: `dashboard.png`, `federation.png`, `venues.png`.
//!
//! Chromium is looked up as `$MAILLAGE_CHROMIUM`, then `chromium`, `chromium-browser`,
//! `google-chrome` on the PATH. The test installs nothing: `.ci/run` installs Chromium (the
//! README names it). Under CI (`CI` set) a missing Chromium fails the test; elsewhere the test
//! prints `SKIPPED: …` and why to stderr and returns, so a machine without Chromium still runs
//! the rest of the suite, and the skip is said, never silent.
#![allow(clippy::unwrap_used)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

mod common;
#[path = "common/served.rs"]
mod served;

use common::{issue_batch, json, on, venues_file};
use served::{Served, federation, free_port, martigues_venue, qualifiable};

/// Longest one page load (DOM dump or screenshot) may take.
const PAGE_TIMEOUT: Duration = Duration::from_secs(60);

/// Says so on the process's stderr (the harness captures `eprintln!` of passing tests).
fn say(text: &str) {
    let _ = writeln!(std::io::stderr().lock(), "{text}");
}

/// Skips, saying why.
fn skip(why: &str) {
    say(&format!(
        "SKIPPED: the headless Chromium dashboard test did not run: {why}"
    ));
}

fn on_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|candidate| candidate.is_file())
}

fn find_chromium() -> Option<PathBuf> {
    if let Some(binary) = std::env::var_os("MAILLAGE_CHROMIUM") {
        return Some(PathBuf::from(binary));
    }
    ["chromium", "chromium-browser", "google-chrome"]
        .into_iter()
        .find_map(on_path)
}

/// Runs `command` for at most `timeout`; kills it past that.
fn run_for(command: &mut Command, timeout: Duration) -> Result<Output, String> {
    let described = format!("{command:?}");
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run {described}: {e}"))?;
    // Read both pipes on threads so that a chatty child never blocks on a full pipe.
    let mut stdout = child.stdout.take().unwrap();
    let mut stderr = child.stderr.take().unwrap();
    let out = std::thread::spawn(move || {
        let mut buffer = Vec::new();
        let _ = std::io::Read::read_to_end(&mut stdout, &mut buffer);
        buffer
    });
    let err = std::thread::spawn(move || {
        let mut buffer = Vec::new();
        let _ = std::io::Read::read_to_end(&mut stderr, &mut buffer);
        buffer
    });
    let deadline = Instant::now() + timeout;
    let status = loop {
        if let Some(status) = child.try_wait().map_err(|e| e.to_string())? {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            return Err(format!("{described} took more than {timeout:?}: killed"));
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    Ok(Output {
        status,
        stdout: out.join().unwrap_or_default(),
        stderr: err.join().unwrap_or_default(),
    })
}

/// Headless Chromium with a throwaway profile.
struct Browser {
    binary: PathBuf,
    profile: tempfile::TempDir,
}

impl Browser {
    fn command(&self) -> Command {
        let mut command = Command::new(&self.binary);
        command
            .arg("--headless")
            .arg("--no-sandbox")
            .arg("--disable-gpu")
            .arg("--disable-dev-shm-usage")
            .arg("--no-first-run")
            .arg("--no-default-browser-check")
            .arg("--hide-scrollbars")
            // A French user's browser: the dashboard follows `Accept-Language`.
            .arg("--lang=fr-FR")
            .arg("--accept-lang=fr-FR,fr")
            .arg(format!("--user-data-dir={}", self.profile.path().display()));
        command
    }

    /// The DOM Chromium built from `url`.
    fn dom(&self, url: &str) -> String {
        let output = run_for(self.command().arg("--dump-dom").arg(url), PAGE_TIMEOUT).unwrap();
        assert!(
            output.status.success(),
            "chromium --dump-dom {url}: {}\n{}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8(output.stdout).unwrap()
    }

    /// A `width`×`height` screenshot of `url` at `path`; returns the PNG's width and height.
    fn screenshot(&self, url: &str, path: &Path, (width, height): (u32, u32)) -> (u32, u32) {
        let _ = std::fs::remove_file(path);
        let output = run_for(
            self.command()
                .arg(format!("--screenshot={}", path.display()))
                .arg(format!("--window-size={width},{height}"))
                .arg(url),
            PAGE_TIMEOUT,
        )
        .unwrap();
        assert!(
            output.status.success(),
            "chromium --screenshot {url}: {}\n{}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        );
        let png = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        assert_eq!(
            &png[..8],
            b"\x89PNG\r\n\x1a\n",
            "{} is a PNG",
            path.display()
        );
        let width = u32::from_be_bytes(png[16..20].try_into().unwrap());
        let height = u32::from_be_bytes(png[20..24].try_into().unwrap());
        assert!(
            png.len() > 20_000,
            "{}: only {} bytes",
            path.display(),
            png.len()
        );
        (width, height)
    }
}

/// Two hubs with their real venue maps, vouchers of two funders, referrals.
fn populate(dir: &Path) {
    federation(
        dir,
        &[
            ("sud", "Hub du Sud", "04,05,06,13,83,84"),
            ("charente", "Charente numérique", "16"),
        ],
    );
    for (node, file) in [
        ("sud", "hub-du-sud-2023-05-17.json"),
        ("charente", "charente-2023-07-11.json"),
    ] {
        on(
            dir,
            node,
            &["venues", "import", venues_file(file).to_str().unwrap()],
        );
    }
    let first_venue = |node: &str, departement: &str| {
        qualifiable(&json(&on(
            dir,
            node,
            &[
                "venues",
                "list",
                "--departement",
                departement,
                "--limit",
                "100000",
                "--json",
            ],
        )))
    };
    let batches = [
        (
            "sud",
            "13",
            "13-2026-CAF-01",
            "CAF des Bouches-du-Rhône",
            "40",
            12,
            5,
        ),
        (
            "sud",
            "13",
            "84-2026-VAU-01",
            "Département de Vaucluse",
            "20",
            6,
            4,
        ),
        (
            "charente",
            "16",
            "16-2026-DEP-01",
            "Département de la Charente",
            "30",
            8,
            2,
        ),
    ];
    let martigues = martigues_venue(dir, "sud");
    for (i, (node, departement, batch, funder, count, handed, redeemed)) in
        batches.into_iter().enumerate()
    {
        let venue = if node == "sud" {
            martigues.clone()
        } else {
            first_venue(node, departement)
        };
        on(
            dir,
            node,
            &[
                "venues",
                "qualify",
                &venue,
                "--until",
                "2027-06-30",
                "--service",
                "démarches",
            ],
        );
        issue_batch(dir, node, batch, funder, count);
        let person = json(&on(dir, node, &["person", "new", "--json"]))["code"]
            .as_str()
            .unwrap()
            .to_owned();
        on(
            dir,
            node,
            &[
                "voucher",
                "hand-out",
                "--carnet",
                &format!("{batch}:1-{handed}"),
                "--person",
                &person,
                "--prescriber-kind",
                "CAF",
                "--prescriber",
                "Accueil CAF",
                "--date",
                "2026-03-02",
            ],
        );
        for n in 1..=redeemed {
            on(
                dir,
                node,
                &[
                    "voucher",
                    "redeem",
                    &format!("{batch}-{n}"),
                    "--venue",
                    &venue,
                    "--service",
                    "démarches",
                    "--date",
                    "2026-03-10",
                ],
            );
        }
        for (n, opened) in ["2026-03-02", "2026-03-05"].into_iter().enumerate() {
            let referral = format!("{departement}-R{i}{n}");
            on(
                dir,
                node,
                &[
                    "referral",
                    "open",
                    "--id",
                    &referral,
                    "--person",
                    &person,
                    "--prescriber-kind",
                    "CCAS",
                    "--prescriber",
                    "CCAS",
                    "--need",
                    "démarches",
                    "--venue",
                    &venue,
                    "--opened-on",
                    opened,
                ],
            );
            if n == 0 {
                on(
                    dir,
                    node,
                    &[
                        "referral",
                        "accept",
                        &referral,
                        "--venue",
                        &venue,
                        "--date",
                        "2026-03-09",
                    ],
                );
            }
        }
    }
}

#[test]
fn the_dashboard_renders_in_headless_chromium() {
    let started = Instant::now();
    let Some(binary) = find_chromium() else {
        let why = "no Chromium: set MAILLAGE_CHROMIUM, or install it (`apt-get install -y chromium`; `.ci/run` does)";
        assert!(std::env::var_os("CI").is_none(), "under CI, {why}");
        return skip(why);
    };
    say(&format!(
        "headless Chromium: {} (ready after {:.0?})",
        binary.display(),
        started.elapsed()
    ));
    let browser = Browser {
        binary,
        profile: tempfile::tempdir().unwrap(),
    };

    let work = tempfile::tempdir().unwrap();
    let dir = work.path();
    populate(dir);
    // Each hub holds its own feed alone until they replicate.
    let total: u64 = ["sud", "charente"]
        .iter()
        .map(|n| {
            json(&on(dir, n, &["status", "--json"]))["events_stored"]
                .as_u64()
                .unwrap()
        })
        .sum();
    let ports = [free_port(), free_port()];
    let mut sud = Served::start(dir, "sud", ports[0], &[ports[1]], &[]);
    let mut charente = Served::start(dir, "charente", ports[1], &[ports[0]], &[]);
    let deadline = Instant::now() + Duration::from_secs(30);
    while json(&on(dir, "sud", &["status", "--json"]))["events_stored"]
        .as_u64()
        .unwrap()
        < total
    {
        assert!(Instant::now() < deadline, "{}", sud.log());
        std::thread::sleep(Duration::from_millis(50));
    }
    let http = sud.http().unwrap();
    let base = format!("http://{http}");

    let dom = browser.dom(&format!("{base}/"));
    for text in [
        "<html lang=\"fr\">",
        "Tableau de bord national",
        "Hub du Sud",
        "Charente numérique",
        "CAF des Bouches-du-Rhône",
        "Département de la Charente",
        "<svg id=\"chart-vouchers\"",
        "<svg id=\"chart-referrals\"",
        "<svg id=\"map-venues\"",
    ] {
        assert!(dom.contains(text), "{text:?} missing from the DOM of /");
    }
    assert!(!dom.contains("<script"), "a script in the DOM of /");
    assert!(dom.matches("<circle").count() > 500, "venues on the map");
    assert!(dom.matches("<rect").count() > 10, "bars");
    let dom = browser.dom(&format!("{base}/federation"));
    assert!(dom.contains("Réplication de la fédération"));
    assert!(
        dom.contains("<span class=\"badge live\" title=\"live\">en direct</span>"),
        "the peer is live"
    );
    let dom = browser.dom(&format!("{base}/venues?q=marseille&departement=13"));
    assert!(dom.contains("<table id=\"venues\">"));
    assert!(dom.contains("lieux trouvés"));
    assert!(
        dom.contains("<option value=\"13\" selected=\"\">"),
        "the form keeps the filter"
    );

    let target = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .unwrap()
        .to_path_buf();
    // A desktop and a phone (390 px wide, as a current phone's viewport).
    for (size, suffix) in [((1280, 1600), ""), ((390, 844), "-phone")] {
        for (page, file) in [
            ("/", "dashboard"),
            ("/federation", "federation"),
            ("/venues?q=m%C3%A9diath%C3%A8que", "venues"),
        ] {
            let path = target.join(format!("{file}{suffix}.png"));
            let got = browser.screenshot(&format!("{base}{page}"), &path, size);
            assert_eq!(got, size, "{}", path.display());
            say(&format!("screenshot of {page}: {}", path.display()));
        }
    }
    sud.stop();
    charente.stop();
    say(&format!(
        "headless Chromium dashboard test ran in {:.0?}",
        started.elapsed()
    ));
}
