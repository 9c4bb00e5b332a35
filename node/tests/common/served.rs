//! Helpers of the HTTP tests: a federation of named nodes, a real `maillage serve` with its
//! HTTP listener, and a plain HTTP/1.1 GET over a std `TcpStream`.
#![allow(dead_code, clippy::unwrap_used)]

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use super::common::{create_charter, luhn_siret, on};

/// A free port on loopback for a daemon to bind right after. Drawn below Linux's ephemeral
/// range (32768 and up), where every `:0` listener of the running nodes (command and HTTP
/// listeners) gets its port: a port released here cannot be taken by one of them before its
/// daemon binds it. Distinct within a test binary (a counter), spread between binaries.
pub fn free_port() -> u16 {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    loop {
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let port = 20_000 + (std::process::id().wrapping_mul(97).wrapping_add(n) % 12_000);
        let port = u16::try_from(port).unwrap();
        if TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
}

/// Creates keys for `members` (data dir, display name, territories; empty territories: an
/// observer), writes the charter and joins every node.
pub fn federation(dir: &Path, members: &[(&str, &str, &str)]) {
    let mut toml = String::from("name = \"Fédération test\"\nadmission_threshold = 1\n");
    for (node, name, territories) in members {
        let key = on(dir, node, &["init"]);
        let (role, list) = if territories.is_empty() {
            ("observer", String::new())
        } else {
            let list: Vec<String> = territories.split(',').map(|t| format!("\"{t}\"")).collect();
            ("hub", list.join(", "))
        };
        toml.push_str(&format!(
            "\n[[members]]\nname = \"{name}\"\nkey = \"{}\"\nrole = \"{role}\"\nterritories = [{list}]\n",
            key.lines().next().unwrap().trim()
        ));
    }
    create_charter(dir, &toml);
    for (node, _, _) in members {
        on(dir, node, &["init", "--charter", "charter.pb"]);
    }
}

/// A running `maillage serve`, killed when dropped.
pub struct Served {
    child: Option<Child>,
    /// The data dir (relative to `dir`).
    pub node: String,
    dir: PathBuf,
    /// The federation listener's port.
    pub port: u16,
    peers: Vec<u16>,
    extra: Vec<String>,
    /// `RUST_LOG` of the process.
    log_filter: String,
}

impl Served {
    /// Starts `maillage serve` for `node` on `port`, pulling from `peers`, with `extra`
    /// arguments; returns once its command listener answers.
    pub fn start(dir: &Path, node: &str, port: u16, peers: &[u16], extra: &[&str]) -> Self {
        Self::start_logging(dir, node, port, peers, extra, "info,maillage_sync=debug")
    }

    /// [`Served::start`] with `RUST_LOG` set to `log_filter` (the tests' default logs the
    /// replication's debug lines; `info` is what a service logs).
    pub fn start_logging(
        dir: &Path,
        node: &str,
        port: u16,
        peers: &[u16],
        extra: &[&str],
        log_filter: &str,
    ) -> Self {
        let mut served = Self {
            child: None,
            node: node.to_owned(),
            dir: dir.to_path_buf(),
            port,
            peers: peers.to_vec(),
            extra: extra.iter().map(|s| (*s).to_owned()).collect(),
            log_filter: log_filter.to_owned(),
        };
        served.spawn();
        served
    }

    /// Starts (or restarts) the process; returns once its command socket answers.
    pub fn spawn(&mut self) {
        if let Err(why) = self.try_spawn(Duration::from_secs(30)) {
            panic!("{} did not start: {why}", self.node);
        }
    }

    /// Starts (or restarts) the process and waits until its command socket answers (`Ok`),
    /// it exits (`Err` with its log) or `within` passes (`Err`).
    pub fn try_spawn(&mut self, within: Duration) -> Result<(), String> {
        let log = std::fs::File::create(self.dir.join(format!("{}.log", self.node))).unwrap();
        let mut args = vec![
            "--data-dir".to_owned(),
            self.node.clone(),
            "serve".into(),
            "--listen".into(),
            format!("127.0.0.1:{}", self.port),
        ];
        for peer in &self.peers {
            args.push("--peer".into());
            args.push(format!("127.0.0.1:{peer}"));
        }
        args.extend(self.extra.iter().cloned());
        // The daemon writes `serve.addr` just after its listeners answer: wait for a fresh one
        // too, so that a test never reads it before it is written (or reads a killed run's).
        let addr_file = self.dir.join(&self.node).join("serve.addr");
        let _ = std::fs::remove_file(&addr_file);
        let child = Command::new(env!("CARGO_BIN_EXE_maillage"))
            .current_dir(&self.dir)
            .env_remove("MAILLAGE_DATA_DIR")
            .env_remove("MAILLAGE_LANG")
            .env("RUST_LOG", &self.log_filter)
            .args(&args)
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap();
        self.child = Some(child);
        let deadline = Instant::now() + within;
        loop {
            let socket = self.dir.join(&self.node).join("run/admin.sock");
            let answers = std::os::unix::net::UnixStream::connect(&socket).is_ok();
            if answers && TcpStream::connect(("127.0.0.1", self.port)).is_ok() && addr_file.exists()
            {
                return Ok(());
            }
            if let Some(status) = self
                .child
                .as_mut()
                .and_then(|c| c.try_wait().ok().flatten())
            {
                self.child = None;
                return Err(format!("exited with {status}: {}", self.log()));
            }
            if Instant::now() >= deadline {
                return Err(format!("no answer within {within:?}: {}", self.log()));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// The lines of `serve.addr`.
    pub fn addr_lines(&self) -> Vec<String> {
        std::fs::read_to_string(self.dir.join(&self.node).join("serve.addr"))
            .map(|text| text.lines().map(str::to_owned).collect())
            .unwrap_or_default()
    }

    /// The HTTP address from `serve.addr` (`http ADDR`), if HTTP is on.
    pub fn http(&self) -> Option<String> {
        self.addr_lines()
            .iter()
            .find_map(|l| l.strip_prefix("http ").map(str::to_owned))
    }

    /// The daemon's log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join(format!("{}.log", self.node))).unwrap_or_default()
    }

    /// SIGTERM, and wait for a clean exit.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            Command::new("kill")
                .args(["-TERM", &child.id().to_string()])
                .status()
                .unwrap();
            let deadline = Instant::now() + Duration::from_secs(20);
            loop {
                if let Some(status) = child.try_wait().unwrap() {
                    assert!(status.success(), "{} exited with {status}", self.node);
                    break;
                }
                if Instant::now() >= deadline {
                    let log = self.log();
                    let tail: Vec<&str> = log.lines().rev().take(15).collect();
                    panic!(
                        "{} did not stop on SIGTERM; the end of its log:\n{}",
                        self.node,
                        tail.into_iter().rev().collect::<Vec<_>>().join("\n")
                    );
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        }
    }
}

impl Served {
    /// The running process's id.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// SIGKILL: no chance to clean up.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            child.kill().unwrap();
            child.wait().unwrap();
        }
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// An HTTP response.
#[derive(Debug)]
pub struct Page {
    /// Status code.
    pub status: u16,
    /// Header lines, lower-cased names: `name: value`.
    pub headers: Vec<String>,
    /// The body, as text.
    pub body: String,
}

impl Page {
    /// The value of a header.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find_map(|h| {
            let (n, v) = h.split_once(':')?;
            n.eq_ignore_ascii_case(name).then(|| v.trim())
        })
    }
}

/// `GET path` on `address` over plain HTTP/1.1 (one connection, closed after the answer).
pub fn get(address: &str, path: &str) -> Page {
    get_with(address, path, "")
}

/// [`get`] with more request headers, each line ending with `\r\n`.
pub fn get_with(address: &str, path: &str, headers: &str) -> Page {
    let mut stream = TcpStream::connect(address).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\nAccept: */*\r\n{headers}\r\n"
    )
    .unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).unwrap();
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or_else(|| panic!("no header end in {:?}", String::from_utf8_lossy(&raw)));
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let mut body = raw[split + 4..].to_vec();
    let mut lines = head.lines();
    let status: u16 = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|c| c.parse().ok())
        .unwrap_or_else(|| panic!("no status line in {head:?}"));
    let headers: Vec<String> = lines.map(str::to_owned).collect();
    let chunked = headers.iter().any(|h| {
        h.to_ascii_lowercase()
            .starts_with("transfer-encoding: chunked")
    });
    if chunked {
        body = dechunk(&body);
    }
    Page {
        status,
        headers,
        body: String::from_utf8(body).unwrap(),
    }
}

fn dechunk(mut data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let line_end = data.windows(2).position(|w| w == b"\r\n").unwrap();
        let size_text = String::from_utf8_lossy(&data[..line_end]);
        let size = usize::from_str_radix(size_text.split(';').next().unwrap().trim(), 16).unwrap();
        data = &data[line_end + 2..];
        if size == 0 {
            return out;
        }
        out.extend_from_slice(&data[..size]);
        data = &data[size + 2..];
    }
}

/// The value of the sample `name{labels}` (or `name` alone) of a metrics exposition.
pub fn sample(metrics: &str, series: &str) -> Option<f64> {
    metrics.lines().find_map(|line| {
        let rest = line.strip_prefix(series)?;
        rest.strip_prefix(' ')?.trim().parse().ok()
    })
}

/// Percent-encodes a query value.
pub fn encode(text: &str) -> String {
    let mut out = String::new();
    for byte in text.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(byte as char)
            }
            _ => out.push_str(&format!("%{byte:02X}")),
        }
    }
    out
}

/// The venue id of the first venue of a `venues list/search --json` output that has a real
/// pivot (SIRET, RNA or RIDET): only those may be qualified for vouchers.
pub fn qualifiable(venues: &serde_json::Value) -> String {
    venues
        .as_array()
        .unwrap()
        .iter()
        .find(|v| {
            let pivot = v["record"]["pivot"].as_str().unwrap_or_default();
            !pivot.is_empty() && !pivot.bytes().all(|b| b == b'0')
        })
        .unwrap_or_else(|| {
            panic!(
                "none of {} venues has a real pivot",
                venues.as_array().map_or(0, Vec::len)
            )
        })["venue_id"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// Registers, on hub `node` (Hinaura), the municipal library of Lyon's 1st arrondissement with a
/// real SIRET and qualifies it until mid-2027 for `services` (`démarches`, `outils
/// numériques`). Returns its source id, `bm-lyon-1er`.
pub fn lyon_venue(dir: &Path, node: &str, services: &[&str]) -> &'static str {
    let venue = serde_json::json!([{
        "id": "bm-lyon-1er", "pivot": luhn_siret("2169001230001"),
        "nom": "Bibliothèque municipale du 1er arrondissement", "commune": "Lyon",
        "code_postal": "69001", "code_insee": "69381", "adresse": "7 rue Saint-Polycarpe",
        "date_maj": "2026-01-15",
        "services": "Aide aux démarches administratives|Maîtrise des outils numériques du quotidien",
        "source": "Hinaura"
    }]);
    std::fs::write(dir.join("lyon.json"), venue.to_string()).unwrap();
    on(dir, node, &["venues", "import", "lyon.json"]);
    let mut qualify = vec!["venues", "qualify", "bm-lyon-1er", "--until", "2027-06-30"];
    for service in services {
        qualify.extend(["--service", service]);
    }
    on(dir, node, &qualify);
    "bm-lyon-1er"
}

/// Registers, on hub `node`, a médiathèque in Martigues (13) with a real SIRET: Hub du Sud's
/// export has none, and only a traceable payee may be qualified. Returns its venue id.
pub fn martigues_venue(dir: &Path, node: &str) -> String {
    let venue = serde_json::json!([{
        "id": "mediatheque-martigues", "pivot": luhn_siret("2113005600001"),
        "nom": "Médiathèque Louis Aragon", "commune": "Martigues",
        "code_postal": "13500", "code_insee": "13056", "adresse": "Quai des Anglais",
        "latitude": 43.4045, "longitude": 5.0464, "date_maj": "2026-01-15",
        "services": "Aide aux démarches administratives|Maîtrise des outils numériques du quotidien",
        "source": "Hub du Sud"
    }]);
    let file = dir.join("martigues.json");
    std::fs::write(&file, venue.to_string()).unwrap();
    on(dir, node, &["venues", "import", file.to_str().unwrap()]);
    json_venue_id(&on(
        dir,
        node,
        &["venues", "show", "mediatheque-martigues", "--json"],
    ))
}

fn json_venue_id(text: &str) -> String {
    super::common::json(text)["venue_id"]
        .as_str()
        .unwrap()
        .to_owned()
}
