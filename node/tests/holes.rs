//! Four holes a serving node must not have, each tried as an attacker or a new operator would,
//! against real `maillage serve` processes on 127.0.0.1:
//!
//! 1. another local account (`nobody`) commanding the hub or reading its key through the
//!    node's ports or its command socket;
//! 2. a member's events dated in the future (2100, or ten minutes ahead) stopping every hub
//!    that receives them from signing;
//! 3. a deleted store index making the hub sign its own history again;
//! 4. damaged bytes on disk (the views snapshot, a signature below a feed's head) served as
//!    truth.
#![allow(clippy::unwrap_used)]

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use maillage_core::{Charter, FeedWriter, SecretKey, pb};

mod common;
#[path = "common/served.rs"]
mod served;

use common::{issue_caf_batch, json, maillage, ok, on, venues_file};
use served::{Served, federation, free_port, get};

/// Polls `check` until it holds (or panics after 30 s, saying what was awaited).
fn wait_until(what: &str, mut check: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !check() {
        assert!(Instant::now() < deadline, "timed out waiting: {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn status(dir: &Path, node: &str) -> serde_json::Value {
    json(&on(dir, node, &["status", "--json"]))
}

fn feed<'a>(status: &'a serde_json::Value, name: &str) -> &'a serde_json::Value {
    status["feeds"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["name"] == name)
        .unwrap_or_else(|| panic!("no feed {name} in {status}"))
}

/// The seq a node holds of a feed (0 when it holds none).
fn seq_of(dir: &Path, node: &str, name: &str) -> u64 {
    status(dir, node)["feeds"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["name"] == name)
        .map_or(0, |f| f["seq"].as_u64().unwrap())
}

fn secret_of(dir: &Path, node: &str) -> SecretKey {
    let text = std::fs::read_to_string(dir.join(node).join("node.key")).unwrap();
    let mut seed = [0u8; 32];
    hex::decode_to_slice(text.trim(), &mut seed).unwrap();
    SecretKey::from_seed(&seed)
}

fn charter_of(dir: &Path, node: &str) -> Charter {
    Charter::from_bytes(std::fs::read(dir.join(node).join("charter.pb")).unwrap()).unwrap()
}

fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64
}

// ----- 1. another local account --------------------------------------------------------------

/// The environment variables the attacker (this binary, run again as `nobody`) reads.
const ATTACK_PORT: &str = "MAILLAGE_ATTACK_PORT";
const ATTACK_DATA_DIR: &str = "MAILLAGE_ATTACK_DATA_DIR";
const ATTACK_SERIAL: &str = "MAILLAGE_ATTACK_SERIAL";
const ATTACK_PERSON: &str = "MAILLAGE_ATTACK_PERSON";

/// The `Run` call the node used to serve on its TCP ports, as an attacker sends it: a command
/// line executed inside the node.
#[derive(Clone, PartialEq, prost::Message)]
struct RunRequest {
    #[prost(string, repeated, tag = "1")]
    args: Vec<String>,
    #[prost(string, tag = "2")]
    cwd: String,
}

#[derive(Clone, PartialEq, prost::Message)]
struct RunResponse {
    #[prost(string, tag = "1")]
    stdout: String,
    #[prost(string, tag = "2")]
    stderr: String,
    #[prost(int32, tag = "3")]
    exit_code: i32,
}

async fn raw_run(
    channel: tonic::transport::Channel,
    args: &[&str],
) -> Result<RunResponse, tonic::Status> {
    let mut grpc = tonic::client::Grpc::new(channel);
    grpc.ready()
        .await
        .map_err(|e| tonic::Status::unavailable(e.to_string()))?;
    grpc.unary(
        tonic::Request::new(RunRequest {
            args: args.iter().map(|a| (*a).to_owned()).collect(),
            cwd: "/".into(),
        }),
        tonic::codegen::http::uri::PathAndQuery::from_static("/maillage.v1.Query/Run"),
        tonic_prost::ProstCodec::<RunRequest, RunResponse>::default(),
    )
    .await
    .map(tonic::Response::into_inner)
}

/// The attacker: run by `an_unprivileged_account_neither_commands_the_hub_nor_reads_its_key`
/// as `nobody`. Prints one `RESULT <attack> <outcome>` line per attempt.
#[test]
#[ignore = "run as an unprivileged account by the test below"]
fn attacker() {
    let (Ok(port), Ok(data_dir)) = (std::env::var(ATTACK_PORT), std::env::var(ATTACK_DATA_DIR))
    else {
        return;
    };
    let serial = std::env::var(ATTACK_SERIAL).unwrap();
    let person = std::env::var(ATTACK_PERSON).unwrap();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let channel = tonic::transport::Endpoint::from_shared(format!("http://127.0.0.1:{port}"))
            .unwrap()
            .connect()
            .await
            .unwrap();
        let report = |attack: &str, outcome: String| {
            println!("RESULT {attack} {}", outcome.replace('\n', " "));
        };
        let key_path = format!("{data_dir}/node.key");
        for (attack, args) in [
            ("read-key", vec!["venues", "import", key_path.as_str()]),
            (
                "sign",
                vec![
                    "voucher",
                    "issue",
                    "--batch",
                    "13-2026-EVIL-01",
                    "--funder",
                    "Evil",
                    "--funder-siret",
                    "53418890200012",
                    "--count",
                    "10",
                    "--valid-from",
                    "2026-01-01",
                    "--valid-until",
                    "2026-12-31",
                    "--redeem-deadline",
                    "2027-01-31",
                ],
            ),
            ("write", vec!["log", "export", "/tmp/maillage-attack.mlog"]),
        ] {
            let outcome = match raw_run(channel.clone(), &args).await {
                Ok(response) => format!(
                    "served exit={} stdout={} stderr={}",
                    response.exit_code, response.stdout, response.stderr
                ),
                Err(status) => format!("refused {:?} {}", status.code(), status.message()),
            };
            report(attack, outcome);
        }
        let mut query = maillage_proto::v1::query_client::QueryClient::new(channel.clone());
        let outcome = match query
            .parcours(pb::ParcoursRequest {
                person: person.clone(),
                as_of: String::new(),
            })
            .await
        {
            Ok(doc) => format!("served {:?}", doc.into_inner()),
            Err(status) => format!("refused {:?}", status.code()),
        };
        report("parcours", outcome);
        let outcome = match query
            .voucher_status(pb::VoucherStatusRequest {
                serial: serial.clone(),
                as_of: String::new(),
            })
            .await
        {
            Ok(voucher) => {
                let voucher = voucher.into_inner();
                format!(
                    "served status={} holder={:?}",
                    voucher.status, voucher.holder
                )
            }
            Err(status) => format!("refused {:?}", status.code()),
        };
        report("voucher-status", outcome);
        // The command socket: unreachable through its directory, and refused by uid if the
        // operator loosened the permissions.
        let socket = PathBuf::from(&data_dir).join("run/admin.sock");
        let outcome = match std::os::unix::net::UnixStream::connect(&socket) {
            Ok(_) => "connected".to_owned(),
            Err(error) => format!("refused {:?}", error.kind()),
        };
        report("socket-connect", outcome);
    });
    let socket = PathBuf::from(&data_dir).join("run/admin.sock");
    let request = maillage_app::request::Request::VoucherStatus {
        serial: serial.clone(),
        as_of: None,
    };
    let outcome = match maillage::admin::call(&socket, request) {
        Ok(answer) => format!("served {answer:?}"),
        Err(error) => format!("refused {error:#}"),
    };
    println!("RESULT socket-command {}", outcome.replace('\n', " "));
}

/// Runs the attacker as `nobody` and returns its `RESULT` lines, by attack.
fn attack_as_nobody(
    port: u16,
    data_dir: &Path,
    serial: &str,
    person: &str,
) -> std::collections::BTreeMap<String, String> {
    let out = Command::new("setpriv")
        .args(["--reuid=65534", "--regid=65534", "--clear-groups", "--"])
        .arg(std::env::current_exe().unwrap())
        .args(["--exact", "attacker", "--ignored", "--nocapture"])
        .env(ATTACK_PORT, port.to_string())
        .env(ATTACK_DATA_DIR, data_dir)
        .env(ATTACK_SERIAL, serial)
        .env(ATTACK_PERSON, person)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "the attacker did not run: {stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
        .lines()
        .filter_map(|line| line.strip_prefix("RESULT "))
        .filter_map(|line| line.split_once(' '))
        .map(|(attack, outcome)| (attack.to_owned(), outcome.to_owned()))
        .collect()
}

fn running_as_root() -> bool {
    std::fs::metadata("/proc/self")
        .map(|m| std::os::unix::fs::MetadataExt::uid(&m) == 0)
        .unwrap_or(false)
}

#[test]
fn an_unprivileged_account_neither_commands_the_hub_nor_reads_its_key() {
    if !running_as_root() {
        assert!(
            std::env::var_os("CI").is_none(),
            "this test drops to `nobody` and must run as root under CI"
        );
        println!("SKIPPED: dropping privileges to `nobody` needs root");
        return;
    }
    let work = tempfile::tempdir().unwrap();
    let dir = work.path();
    // A careless operator: the directories above the data dir are world-readable.
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    ok(
        dir,
        &[
            "--data-dir",
            "hub",
            "init",
            "--name",
            "Hub du Sud",
            "--territories",
            "13",
        ],
    );
    std::fs::set_permissions(dir.join("hub"), std::fs::Permissions::from_mode(0o755)).unwrap();
    issue_caf_batch(dir, "hub", "13-2026-CAF-01", "5");
    let person = on(dir, "hub", &["person", "new"])
        .lines()
        .next()
        .unwrap()
        .trim()
        .to_owned();
    common::hand_out(dir, "hub", "13-2026-CAF-01:1-5", &person);
    let port = free_port();
    let mut hub = Served::start(dir, "hub", port, &[], &["--http", "off"]);
    let seq_before = feed(&status(dir, "hub"), "Hub du Sud")["seq"].clone();
    let key = std::fs::read_to_string(dir.join("hub/node.key")).unwrap();
    let data_dir = dir.join("hub");
    let serial = "13-2026-CAF-01-1";

    let results = attack_as_nobody(port, &data_dir, serial, &person);
    let all = format!("{results:#?}");
    assert!(
        !all.contains(key.trim()),
        "the key's seed reached the attacker: {all}"
    );
    assert!(!all.contains(&key.trim()[..16]), "{all}");
    for attack in ["read-key", "sign", "write"] {
        assert!(
            results[attack].starts_with("refused Unimplemented"),
            "{attack}: {all}"
        );
    }
    assert!(!Path::new("/tmp/maillage-attack.mlog").exists());
    assert_eq!(
        results["parcours"], "refused Unauthenticated",
        "a person's parcours needs a session, loopback or not: {all}"
    );
    assert_eq!(
        results["voucher-status"], "served status=handed_out holder=\"\"",
        "the holder is left out without a session: {all}"
    );
    assert_eq!(
        results["socket-connect"], "refused PermissionDenied",
        "{all}"
    );
    assert!(results["socket-command"].starts_with("refused"), "{all}");

    // An operator loosens the socket's permissions: the node still refuses another account.
    std::fs::set_permissions(dir.join("hub/run"), std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::set_permissions(
        dir.join("hub/run/admin.sock"),
        std::fs::Permissions::from_mode(0o777),
    )
    .unwrap();
    let results = attack_as_nobody(port, &data_dir, serial, &person);
    assert_eq!(results["socket-connect"], "connected", "{results:#?}");
    assert!(
        results["socket-command"].starts_with("refused"),
        "the uid check refused the command: {results:#?}"
    );
    assert!(hub.log().contains("a process of another account connected"));

    // Nothing was signed; the operator's own commands still work through the socket.
    assert_eq!(feed(&status(dir, "hub"), "Hub du Sud")["seq"], seq_before);
    let mine = json(&on(dir, "hub", &["voucher", "status", serial, "--json"]));
    assert_eq!(mine["person"], person.as_str());
    hub.stop();
}

/// A file a command reads is read by the CLI, never by the node: a path only the node's
/// account could read is refused by the CLI itself, and an error never quotes a whole input.
#[test]
fn the_node_opens_no_path_a_client_names_and_errors_quote_little() {
    let work = tempfile::tempdir().unwrap();
    let dir = work.path();
    ok(
        dir,
        &[
            "--data-dir",
            "hub",
            "init",
            "--name",
            "Hub du Sud",
            "--territories",
            "13",
        ],
    );
    let port = free_port();
    let mut hub = Served::start(dir, "hub", port, &[], &["--http", "off"]);
    // The key file is not a venue file: the error quotes a bounded excerpt at most, never the
    // 64 hex digits of the seed.
    let key = std::fs::read_to_string(dir.join("hub/node.key")).unwrap();
    let out = maillage(
        dir,
        &["--data-dir", "hub", "venues", "import", "hub/node.key"],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(!stderr.contains(&key.trim()[..20]), "{stderr}");
    // A file the CLI cannot find is reported by the CLI.
    let out = maillage(
        dir,
        &["--data-dir", "hub", "log", "import", "/nonexistent.mlog"],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("lecture de /nonexistent.mlog"), "{stderr}");
    // A long header is quoted only in part.
    let long = format!("{}\n1,2\n", "x".repeat(5000));
    std::fs::write(dir.join("long.csv"), &long).unwrap();
    let out = maillage(dir, &["--data-dir", "hub", "venues", "import", "long.csv"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.len() < 1000, "{stderr}");
    assert!(stderr.contains("caractères de plus"), "{stderr}");
    hub.stop();
}

// ----- 2. clocks ---------------------------------------------------------------------------

/// Signs `count` events of `node`'s feed dated `wall_ms`, as a member's own server would, and
/// writes them as a portable log file.
fn dated_events(dir: &Path, node: &str, wall_ms: u64, count: u64) -> PathBuf {
    let charter = charter_of(dir, node);
    let mut writer = FeedWriter::new(
        secret_of(dir, node),
        charter.federation_id(),
        None,
        0,
        u64::MAX / 4,
    );
    let path = dir.join(format!("{node}-dated.mlog"));
    let file = std::fs::File::create(&path).unwrap();
    let mut log = maillage_app::logfile::LogWriter::new(file, &charter).unwrap();
    for n in 0..count {
        let body = pb::event::Body::PersonForgotten(pb::PersonForgotten {
            events: vec![vec![n as u8 + 1; 32]],
        });
        let event = writer.next(body, Vec::new(), wall_ms).unwrap();
        log.event(&event).unwrap();
    }
    log.finish().unwrap();
    path
}

#[test]
fn events_dated_in_the_future_stop_no_hub_from_signing() {
    let work = tempfile::tempdir().unwrap();
    let dir = work.path();
    federation(
        dir,
        &[
            ("sud", "Hub du Sud", "13"),
            ("hinaura", "Hinaura", "69"),
            ("forger", "Hub du futur", "06"),
            ("fast", "Hub pressé", "16"),
        ],
    );
    // One member's server dates its events in 2100; another's clock runs ten minutes fast.
    let year_2100 = dated_events(dir, "forger", 4_102_444_800_000, 3);
    let ten_minutes = dated_events(dir, "fast", now_ms() + 10 * 60 * 1000, 3);
    let (p_sud, p_hinaura) = (free_port(), free_port());
    let mut sud = Served::start(dir, "sud", p_sud, &[p_hinaura], &[]);
    let mut hinaura = Served::start(dir, "hinaura", p_hinaura, &[p_sud], &[]);
    for file in [&year_2100, &ten_minutes] {
        let report = on(dir, "sud", &["log", "import", file.to_str().unwrap()]);
        assert!(report.contains("3 stockés"), "{report}");
    }
    wait_until("Hinaura pulls both feeds from Hub du Sud", || {
        let s = status(dir, "hinaura");
        s["feeds"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["name"] == "Hub du futur" && f["seq"] == 3)
            && s["feeds"]
                .as_array()
                .unwrap()
                .iter()
                .any(|f| f["name"] == "Hub pressé" && f["seq"] == 3)
    });

    // Both hubs go on signing, now and after a restart, with their own clocks.
    for round in 0..2 {
        for (node, batch) in [("sud", "13-2026-CAF-0"), ("hinaura", "69-2026-CAF-0")] {
            let batch = format!("{batch}{}", round + 1);
            common::issue_batch(dir, node, &batch, "CAF", "2");
        }
        if round == 0 {
            sud.stop();
            hinaura.stop();
            sud.spawn();
            hinaura.spawn();
        }
    }
    for node in ["sud", "hinaura"] {
        let s = status(dir, node);
        let own = if node == "sud" {
            "Hub du Sud"
        } else {
            "Hinaura"
        };
        assert_eq!(feed(&s, own)["clock_ahead_ms"], 0, "{s}");
        let forged = feed(&s, "Hub du futur")["clock_ahead_ms"].as_u64().unwrap();
        assert!(forged > 70 * 365 * 24 * 3600 * 1000, "{s}");
        let fast = feed(&s, "Hub pressé")["clock_ahead_ms"].as_u64().unwrap();
        assert!((8 * 60 * 1000..=10 * 60 * 1000).contains(&fast), "{s}");
        let text = on(dir, node, &["status"]);
        assert!(text.contains("HORLOGE EN AVANCE"), "{text}");
    }
    // The metric and the log say which member is ahead.
    let metrics = get(&hinaura.http().unwrap(), "/metrics").body;
    let line = metrics
        .lines()
        .find(|l| l.starts_with("maillage_feed_clock_ahead_seconds{") && l.contains("Hub du futur"))
        .unwrap_or_else(|| panic!("{metrics}"));
    let value: f64 = line.rsplit(' ').next().unwrap().parse().unwrap();
    assert!(value > 2.0e9, "{line}");
    assert!(
        hinaura
            .log()
            .contains("dated ahead of this machine's clock"),
        "{}",
        hinaura.log()
    );
    // Every node reaches the same state with them.
    wait_until("both hubs hold the same digest", || {
        let a = json(&on(dir, "sud", &["digest", "--json"]));
        let b = json(&on(dir, "hinaura", &["digest", "--json"]));
        a["digest"] == b["digest"]
    });
    sud.stop();
    hinaura.stop();
}

// ----- 3. a lost index ----------------------------------------------------------------------

#[test]
fn a_deleted_index_is_rebuilt_and_no_seq_is_signed_twice() {
    let work = tempfile::tempdir().unwrap();
    let dir = work.path();
    ok(
        dir,
        &[
            "--data-dir",
            "sud",
            "init",
            "--name",
            "Hub du Sud",
            "--territories",
            "04,05,06,13,83,84",
        ],
    );
    let export = venues_file("hub-du-sud-2023-05-17.json");
    on(dir, "sud", &["venues", "import", export.to_str().unwrap()]);
    let before = status(dir, "sud");
    let held = feed(&before, "Hub du Sud")["seq"].as_u64().unwrap();
    assert!(held >= 600, "{before}");
    let digest = json(&on(dir, "sud", &["digest", "--json"]))["digest"].clone();

    std::fs::remove_dir_all(dir.join("sud/store/db")).unwrap();
    let after = status(dir, "sud");
    assert_eq!(feed(&after, "Hub du Sud")["seq"], held, "{after}");
    assert_eq!(after["events_stored"], held);
    assert_eq!(
        json(&on(dir, "sud", &["digest", "--json"]))["digest"],
        digest
    );
    let verify = on(dir, "sud", &["log", "verify"]);
    assert!(verify.contains(&format!("{held} événements")), "{verify}");
    // The next event continues the feed.
    issue_caf_batch(dir, "sud", "13-2026-CAF-01", "2");
    assert_eq!(feed(&status(dir, "sud"), "Hub du Sud")["seq"], held + 1);
}

// ----- 4. damage on disk --------------------------------------------------------------------

#[test]
fn a_damaged_views_snapshot_is_discarded_and_rebuilt_from_the_log() {
    let work = tempfile::tempdir().unwrap();
    let dir = work.path();
    ok(
        dir,
        &[
            "--data-dir",
            "sud",
            "init",
            "--name",
            "Hub du Sud",
            "--territories",
            "04,05,06,13,83,84",
        ],
    );
    let export = venues_file("hub-du-sud-2023-05-17.json");
    on(dir, "sud", &["venues", "import", export.to_str().unwrap()]);
    let digest = json(&on(dir, "sud", &["digest", "--json"]))["digest"].clone();
    let venues = on(dir, "sud", &["venues", "list", "--limit", "1000", "--json"]);
    let path = dir.join("sud/views.bin");
    let original = std::fs::read(&path).unwrap();
    // Twenty flipped bits, spread over the file, each turning a lower-case letter into a
    // capital: the views still decode (a venue's name, address or hub key changes), so only
    // a checksum can tell.
    for round in 0..5u64 {
        let mut bytes = original.clone();
        for n in 0..20u64 {
            let mut at = 64 + ((n * 7919 * 31 + round * 104_729) as usize) % (bytes.len() - 64);
            while at < bytes.len() && !bytes[at].is_ascii_lowercase() {
                at += 1;
            }
            if at < bytes.len() {
                bytes[at] ^= 1 << 5;
            }
        }
        std::fs::write(&path, &bytes).unwrap();
        let out = maillage(dir, &["--data-dir", "sud", "digest", "--json"]);
        assert!(out.status.success());
        assert_eq!(
            json(&String::from_utf8_lossy(&out.stdout))["digest"],
            digest
        );
        let warned = String::from_utf8_lossy(&out.stderr);
        assert!(warned.contains("view snapshot unusable"), "{warned}");
        assert_eq!(
            on(dir, "sud", &["venues", "list", "--limit", "1000", "--json"]),
            venues,
            "round {round}"
        );
    }
}

/// Flips one bit of the signature of the `index`-th event frame (0-based) of a data file, as a
/// disk fault would (the frame's checksum is left as it was).
fn flip_signature_bit(store: &Path, index: usize) {
    let path = store.join("events.log");
    let mut bytes = std::fs::read(&path).unwrap();
    let mut at = 20;
    for _ in 0..index {
        let len = u32::from_be_bytes(bytes[at + 1..at + 5].try_into().unwrap()) as usize;
        at += 9 + len;
    }
    let len = u32::from_be_bytes(bytes[at + 1..at + 5].try_into().unwrap()) as usize;
    bytes[at + 4 + len] ^= 0x04;
    std::fs::write(&path, bytes).unwrap();
}

#[test]
fn a_damaged_signature_below_the_head_is_never_served_and_comes_back_from_a_peer() {
    let work = tempfile::tempdir().unwrap();
    let dir = work.path();
    federation(
        dir,
        &[
            ("sud", "Hub du Sud", "04,05,06,13,83,84"),
            ("anct", "ANCT", ""),
            ("fresh", "Observatoire", ""),
        ],
    );
    let export = venues_file("hub-du-sud-2023-05-17.json");
    on(dir, "sud", &["venues", "import", export.to_str().unwrap()]);
    let held = feed(&status(dir, "sud"), "Hub du Sud")["seq"]
        .as_u64()
        .unwrap();
    let (p_sud, p_anct, p_fresh) = (free_port(), free_port(), free_port());
    let mut sud = Served::start(dir, "sud", p_sud, &[p_anct], &[]);
    let mut anct = Served::start(dir, "anct", p_anct, &[p_sud], &[]);
    wait_until("the observer holds Hub du Sud's feed", || {
        seq_of(dir, "anct", "Hub du Sud") == held
    });
    let digest = json(&on(dir, "anct", &["digest", "--json"]))["digest"].clone();
    sud.stop();
    anct.stop();

    // A disk fault flips one bit of the 10th event's signature on Hub du Sud's disk.
    flip_signature_bit(&dir.join("sud/store"), 9);
    let verify = maillage(dir, &["--data-dir", "sud", "log", "verify"]);
    assert_eq!(verify.status.code(), Some(2));
    let said = String::from_utf8_lossy(&verify.stdout);
    assert!(said.contains(&format!("positions 10..={held}")), "{said}");
    // Hub du Sud serves only what verifies, says so, and refuses to sign meanwhile.
    sud.spawn();
    let s = status(dir, "sud");
    assert_eq!(feed(&s, "Hub du Sud")["damaged_from"], 10, "{s}");
    let refused = maillage(
        dir,
        &[
            "--data-dir",
            "sud",
            "voucher",
            "issue",
            "--batch",
            "13-2026-CAF-01",
            "--funder",
            "CAF",
            "--funder-siret",
            "53418890200012",
            "--count",
            "1",
            "--valid-from",
            "2026-01-01",
            "--valid-until",
            "2026-12-31",
            "--redeem-deadline",
            "2027-01-31",
        ],
    );
    assert!(!refused.status.success());
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("abîmé sur le disque"),
        "{refused:?}"
    );
    // Its peer sends the lost events back.
    anct.spawn();
    wait_until("Hub du Sud fetches its events back", || {
        let s = status(dir, "sud");
        let f = feed(&s, "Hub du Sud");
        f["seq"] == held && f["damaged_from"].is_null()
    });
    // A fresh observer pulling from Hub du Sud alone receives every event.
    let mut fresh = Served::start(dir, "fresh", p_fresh, &[p_sud], &[]);
    wait_until("the fresh observer catches up", || {
        seq_of(dir, "fresh", "Hub du Sud") == held
    });
    assert_eq!(
        json(&on(dir, "fresh", &["digest", "--json"]))["digest"],
        digest
    );
    assert!(on(dir, "fresh", &["log", "verify"]).contains("OK"));
    // And Hub du Sud signs again, after its head.
    issue_caf_batch(dir, "sud", "13-2026-CAF-01", "1");
    assert_eq!(feed(&status(dir, "sud"), "Hub du Sud")["seq"], held + 1);
    fresh.stop();
    sud.stop();
    anct.stop();
}
