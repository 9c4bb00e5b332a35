//! An independent client of a running node: `python/client.py` (Python, grpcio, PyNaCl,
//! hashlib; stubs generated from `proto/` at test time, no code shared with the Rust side)
//! joins a federation as an observer, talks to a real `maillage serve` over gRPC and verifies
//! by itself everything it pulls.
//!
//! What it proves:
//! - the wire contract is the `.proto` files plus the documented byte layouts: a client built
//!   from them alone completes the handshake (offering protocol v2, checking the version
//!   chosen and the server's signature over the transcript that binds it, signing its own), exchanges frontiers, pulls every feed and finds every event
//!   valid (id, Ed25519 signature, version, federation, author, seq and prev chain) and
//!   complete (each feed's count and last id equal the frontier's head);
//! - the node refuses a Hello from a key outside the charter, a Pull without a session or
//!   with an unknown one, and a replayed Prove (UNAUTHENTICATED), and a Hello offering only
//!   protocol v3 (FAILED_PRECONDITION, naming both sides' versions);
//! - the client verified exactly the events the import appended, and `Query.Digest` over gRPC
//!   equals `maillage digest --json`;
//! - a second client, `python/reflect.py`, knows only the address: it learns the services and
//!   messages through gRPC server reflection, finds the read API SERVING on the health service,
//!   reads a voucher (its holder withheld without a session) and a batch, and gets the status
//!   codes the read API promises (UNAUTHENTICATED, NOT_FOUND, INVALID_ARGUMENT); the admin
//!   service is not announced on the federation address;
//! - the verifier can fail: with `--tamper` (one payload byte flipped on reception) it reports
//!   a bad signature and exits non-zero.
//!
//! Needs `python3` and network access for pip (`grpcio grpcio-tools grpcio-reflection PyNaCl
//! protobuf`, in a
//! virtualenv cached under `CARGO_TARGET_TMPDIR`); without them the test fails, it never
//! skips. `MAILLAGE_PYTHON` names another interpreter than `python3`.
#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

mod common;

use common::{create_charter, json, ok};

const PIP_PACKAGES: [&str; 5] = [
    "grpcio",
    "grpcio-tools",
    "grpcio-reflection",
    "PyNaCl",
    "protobuf",
];
const PYTHON_IMPORTS: &str =
    "import grpc, grpc_tools.protoc, grpc_reflection.v1alpha, nacl.signing, google.protobuf";

fn describe(output: &Output) -> String {
    format!(
        "{}\nstdout:\n{}\nstderr:\n{}",
        output.status,
        String::from_utf8_lossy(&output.stdout).trim_end(),
        String::from_utf8_lossy(&output.stderr).trim_end()
    )
}

fn run(command: &mut Command) -> Output {
    command
        .output()
        .unwrap_or_else(|e| panic!("cannot run {command:?}: {e}"))
}

fn run_ok(command: &mut Command) -> Output {
    let output = run(command);
    assert!(
        output.status.success(),
        "{command:?} failed: {}",
        describe(&output)
    );
    output
}

/// A virtualenv with grpcio, grpcio-tools, PyNaCl and protobuf, created once under
/// `CARGO_TARGET_TMPDIR` and reused while its imports work. Panics if it cannot be made.
fn python_env() -> PathBuf {
    let venv = Path::new(env!("CARGO_TARGET_TMPDIR")).join("maillage-python-client-venv");
    let python = venv.join("bin").join("python");
    let imports = |python: &Path| {
        Command::new(python)
            .args(["-c", PYTHON_IMPORTS])
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
    run_ok(
        Command::new(&python)
            .args([
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
                "--no-input",
            ])
            .args(PIP_PACKAGES),
    );
    assert!(
        imports(&python),
        "pip installed {PIP_PACKAGES:?} but `{PYTHON_IMPORTS}` fails"
    );
    python
}

/// Generates the Python stubs of every `proto/maillage/v1/*.proto` into `out`.
fn generate_stubs(python: &Path, out: &Path) {
    let proto = Path::new(env!("CARGO_MANIFEST_DIR")).join("../proto");
    let mut files: Vec<String> = std::fs::read_dir(proto.join("maillage/v1"))
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".proto"))
        .map(|name| format!("maillage/v1/{name}"))
        .collect();
    files.sort();
    assert!(
        files.len() >= 4,
        "expected the .proto files, found {files:?}"
    );
    std::fs::create_dir_all(out).unwrap();
    run_ok(
        Command::new(python)
            .current_dir(&proto)
            .args(["-m", "grpc_tools.protoc", "-I", "."])
            .arg(format!("--python_out={}", out.display()))
            .arg(format!("--grpc_python_out={}", out.display()))
            .args(&files),
    );
}

fn client_py() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/python/client.py")
}

fn reflect_py() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/python/reflect.py")
}

fn venues_file() -> PathBuf {
    let file = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/data/venues/hub-du-sud-2023-05-17.json");
    assert!(
        file.is_file(),
        "the vendored venue export is expected at {}",
        file.display()
    );
    file
}

/// A running `maillage serve`, killed if dropped before [`Daemon::stop`].
struct Daemon {
    child: Child,
    log: PathBuf,
    stopped: bool,
}

impl Daemon {
    /// Starts `maillage --data-dir node serve --listen 127.0.0.1:0` in `dir` and returns it
    /// with the federation address it wrote to `serve.addr`.
    fn start(dir: &Path, node: &str) -> (Self, String) {
        let log = dir.join(format!("{node}.log"));
        let child = Command::new(env!("CARGO_BIN_EXE_maillage"))
            .current_dir(dir)
            .env_remove("MAILLAGE_DATA_DIR")
            .env("RUST_LOG", "info")
            .args(["--data-dir", node, "serve", "--listen", "127.0.0.1:0"])
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .unwrap();
        let mut daemon = Self {
            child,
            log,
            stopped: false,
        };
        let addr_file = dir.join(node).join("serve.addr");
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let text = std::fs::read_to_string(&addr_file).unwrap_or_default();
            if let Some(address) = text.lines().find_map(|l| l.strip_prefix("federation ")) {
                return (daemon, address.trim().to_owned());
            }
            if let Some(status) = daemon.child.try_wait().unwrap() {
                panic!("maillage serve exited with {status}: {}", daemon.log());
            }
            assert!(
                Instant::now() < deadline,
                "no {} after 30 s: {}",
                addr_file.display(),
                daemon.log()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// SIGTERM, then wait (bounded) for a clean exit.
    fn stop(&mut self) {
        run_ok(Command::new("kill").args(["-TERM", &self.child.id().to_string()]));
        let deadline = Instant::now() + Duration::from_secs(20);
        let status = loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                break status;
            }
            assert!(
                Instant::now() < deadline,
                "maillage serve did not stop within 20 s of SIGTERM: {}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(20));
        };
        self.stopped = true;
        assert!(
            status.success(),
            "maillage serve exited with {status}: {}",
            self.log()
        );
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        if !self.stopped {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

#[test]
fn a_python_client_pulls_and_verifies_every_event_by_itself() {
    let started = Instant::now();
    let work = tempfile::tempdir().unwrap();
    let dir = work.path();
    let python = python_env();
    let stubs = dir.join("stubs");
    generate_stubs(&python, &stubs);

    // The hub's key (Rust), the observer's seed (Python, PyNaCl): a federation of the two.
    let hub_key = ok(dir, &["--data-dir", "sud", "init"]).trim().to_owned();
    let seed_file = dir.join("client.seed");
    let keygen = run_ok(
        Command::new(&python)
            .arg(client_py())
            .arg("keygen")
            .arg(&seed_file),
    );
    let client_key = String::from_utf8(keygen.stdout).unwrap().trim().to_owned();
    assert_eq!(client_key.len(), 64, "{client_key}");
    let members = format!(
        "name = \"Fédération test\"\nadmission_threshold = 1\n\n\
         [[members]]\nname = \"Hub du Sud\"\nkey = \"{hub_key}\"\nrole = \"hub\"\n\
         territories = [\"04\", \"05\", \"06\", \"13\", \"83\", \"84\"]\n\n\
         [[members]]\nname = \"Client Python\"\nkey = \"{client_key}\"\nrole = \"observer\"\n\
         territories = []\n"
    );
    create_charter(dir, &members);
    ok(
        dir,
        &[
            "federation",
            "create",
            "members.toml",
            "--out",
            "charter.pb",
        ],
    );
    ok(
        dir,
        &["--data-dir", "sud", "init", "--charter", "charter.pb"],
    );
    let federation = json(&ok(
        dir,
        &["--data-dir", "sud", "federation", "show", "--json"],
    ));

    // The hub imports its real venue export, then serves.
    let imported = json(&ok(
        dir,
        &[
            "--data-dir",
            "sud",
            "venues",
            "import",
            venues_file().to_str().unwrap(),
            "--json",
        ],
    ));
    assert!(
        imported["events_appended"].as_u64().unwrap() > 100,
        "{imported}"
    );
    // A batch, one voucher of it handed out to a person.
    common::issue_caf_batch(dir, "sud", "13-2026-CAF-01", "3");
    let person = ok(dir, &["--data-dir", "sud", "person", "new"])
        .trim()
        .to_owned();
    ok(
        dir,
        &[
            "--data-dir",
            "sud",
            "voucher",
            "hand-out",
            "--carnet",
            "13-2026-CAF-01:1-1",
            "--person",
            &person,
            "--prescriber-kind",
            "CAF",
            "--prescriber",
            "CAF des Bouches-du-Rhône",
            "--date",
            "2026-03-02",
        ],
    );
    let appended = imported["events_appended"].as_u64().unwrap() + 2;
    let (mut daemon, address) = Daemon::start(dir, "sud");

    let check = |tamper: bool| {
        let mut command = Command::new(&python);
        command
            .arg(client_py())
            .arg("check")
            .arg("--stubs")
            .arg(&stubs)
            .args(["--address", &address, "--charter"])
            .arg(dir.join("charter.pb"))
            .arg("--seed-file")
            .arg(&seed_file)
            .args(["--server-key", &hub_key]);
        if tamper {
            command.arg("--tamper");
        }
        run(&mut command)
    };

    // The honest run: everything verifies.
    let out = check(false);
    let stderr = String::from_utf8_lossy(&out.stderr);
    eprintln!("client.py check:\n{stderr}");
    assert!(
        out.status.success(),
        "client.py failed: {}\nnode log:\n{}",
        describe(&out),
        daemon.log()
    );
    let report = json(&String::from_utf8_lossy(&out.stdout));
    eprintln!("client.py report: {report}");
    assert_eq!(report["ok"], true, "{report}");
    // The hand-out's personal part travelled beside it and matched its commitment.
    assert_eq!(report["personal_parts"].as_u64(), Some(1), "{report}");
    assert_eq!(report["events"].as_u64(), Some(appended), "{report}");
    assert_eq!(report["received"].as_u64(), Some(appended), "{report}");
    assert_eq!(report["authors"][&hub_key].as_u64(), Some(appended));
    assert_eq!(report["federation_id"], federation["federation_id"]);
    assert_eq!(report["server_key"], hub_key.as_str());
    assert_eq!(report["client_key"], client_key.as_str());
    for refusal in [
        "Hello from a key outside the charter: refused",
        "Pull without a session: refused",
        "Pull with an unknown session: refused",
        "the same Prove replayed: refused",
        "Hello offering only protocol v3: refused",
        "ok   Hello: protocol v2;",
    ] {
        assert!(stderr.contains(refusal), "missing {refusal:?}");
    }

    // The same digest as the CLI's (forwarded to the daemon while it runs).
    let digest = json(&ok(dir, &["--data-dir", "sud", "digest", "--json"]));
    assert_eq!(report["digest_hex"], digest["digest"], "{digest}");

    // A client that knows only the address: reflection lists the services, health says the
    // read API serves, the voucher and batch are read, and the status codes mean what they say.
    let out = run(Command::new(&python)
        .arg(reflect_py())
        .args(["--address", &address, "--serial", "13-2026-CAF-01-1"])
        .args(["--batch", "13-2026-CAF-01", "--person", &person]));
    eprintln!("reflect.py:\n{}", String::from_utf8_lossy(&out.stderr));
    assert!(
        out.status.success(),
        "reflect.py failed: {}",
        describe(&out)
    );
    let reflected = json(&String::from_utf8_lossy(&out.stdout));
    for service in [
        "maillage.v1.Federation",
        "maillage.v1.Query",
        "grpc.health.v1.Health",
        "grpc.reflection.v1alpha.ServerReflection",
    ] {
        assert!(
            reflected["services"]
                .as_array()
                .unwrap()
                .contains(&service.into()),
            "{service} not listed: {reflected}"
        );
    }
    assert!(
        !reflected["services"]
            .as_array()
            .unwrap()
            .contains(&"maillage.v1.Admin".into()),
        "the admin service is announced on the federation address: {reflected}"
    );
    assert_eq!(reflected["health"], "SERVING", "{reflected}");
    assert_eq!(reflected["voucher"]["status"], "handed_out", "{reflected}");
    assert_eq!(
        reflected["voucher"]["owner_name"], "Hub du Sud",
        "{reflected}"
    );
    assert!(
        reflected["voucher"].get("holder").is_none(),
        "the holder is shown without a session: {reflected}"
    );
    assert_eq!(reflected["batch"]["count"], 3, "{reflected}");
    let codes = &reflected["codes"];
    assert_eq!(
        codes["parcours_without_session"]["code"], "UNAUTHENTICATED",
        "{codes}"
    );
    assert_eq!(codes["unknown_serial"]["code"], "NOT_FOUND", "{codes}");
    assert_eq!(
        codes["malformed_serial"]["code"], "INVALID_ARGUMENT",
        "{codes}"
    );
    assert_eq!(
        codes["malformed_date"]["code"], "INVALID_ARGUMENT",
        "{codes}"
    );

    // The negative control: one flipped payload byte and the verifier fails.
    let out = check(true);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    let tampered = json(&stdout);
    assert_eq!(tampered["ok"], false);
    assert!(
        tampered["events"].as_u64().unwrap() < appended,
        "{tampered}"
    );
    assert!(
        stderr.contains("flipped payload byte")
            && (stderr.contains("bad signature") || stderr.contains("does not decode")),
        "{stderr}"
    );
    eprintln!(
        "client.py --tamper exited with {}; failures: {}",
        out.status, tampered["failures"]
    );

    daemon.stop();
    assert!(
        !dir.join("sud/serve.addr").exists(),
        "serve.addr left behind"
    );
    eprintln!("done in {:.1} s", started.elapsed().as_secs_f64());
}
