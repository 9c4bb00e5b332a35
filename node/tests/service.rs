//! The node as a service its operators run, with real `maillage serve` processes on
//! 127.0.0.1: `/healthz` and `/readyz` (not ready while a peer is unreachable, ready once
//! caught up), `/metrics` in the Prometheus text format by default and OpenMetrics on
//! request (checked structurally, and by `promtool check metrics` when it is installed),
//! build, process and disk metrics, gRPC requests counted by status code, peers labelled by
//! key in both directions; `contrib/`'s alert rules and Grafana dashboard name only metrics
//! the node exports (and pass `promtool check rules` and their unit tests); `maillage config
//! check` names each problem of a node.toml; `serve` refuses a peer address it could never
//! dial, and names a plaintext/TLS mismatch; the packaging files (systemd unit, Debian
//! maintainer scripts and assets, OCI image) run real commands on real files.
//!
//! Under CI (`CI` set) a missing `promtool` fails the tests that use it (`.ci/run` installs
//! Debian's `prometheus` package, which carries it); elsewhere they say `SKIPPED` and why.
//!
//! Size: the helpers for real serving nodes (waiting on them, their HTTP address, TLS files,
//! node.toml, the repository's files) are shared by the tests of the service's faces (probes
//! and metrics, config check, TLS mismatch, packaging); split, each file would copy them.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeSet;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

mod common;
#[path = "common/served.rs"]
mod served;

use common::{issue_caf_batch, json, maillage, on};
use served::{Page, Served, federation, free_port, get, sample};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// `promtool`, if installed. Under CI its absence fails the test.
fn promtool() -> Option<PathBuf> {
    let found = std::env::var_os("PATH").and_then(|path| {
        std::env::split_paths(&path)
            .map(|dir| dir.join("promtool"))
            .find(|candidate| candidate.is_file())
    });
    if found.is_none() {
        let why = "no promtool: install Debian's `prometheus` package (`.ci/run` does)";
        assert!(std::env::var_os("CI").is_none(), "under CI, {why}");
        let _ = writeln!(
            std::io::stderr().lock(),
            "SKIPPED: the promtool checks did not run: {why}"
        );
    }
    found
}

/// Runs `promtool args` (with `stdin`), asserting success.
fn run_promtool(promtool: &Path, args: &[&str], cwd: &Path, stdin: Option<&str>) -> String {
    let mut child = Command::new(promtool)
        .args(args)
        .current_dir(cwd)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.unwrap_or("").as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "promtool {args:?}: {text}");
    text
}

/// `GET path` with an `Accept` header.
fn get_accepting(address: &str, path: &str, accept: &str) -> Page {
    use std::io::Read;
    let mut stream = std::net::TcpStream::connect(address).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\nAccept: {accept}\r\n\r\n"
    )
    .unwrap();
    let mut raw = String::new();
    stream.read_to_string(&mut raw).unwrap();
    let (head, body) = raw.split_once("\r\n\r\n").unwrap();
    let mut lines = head.lines();
    let status = lines.next().unwrap().split_whitespace().nth(1).unwrap();
    Page {
        status: status.parse().unwrap(),
        headers: lines.map(str::to_owned).collect(),
        body: body.to_owned(),
    }
}

/// Polls `done` every 100 ms for 60 s.
fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting: {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The HTTP address `served` wrote to serve.addr (it writes the file just after its
/// listeners answer).
fn http_of(served: &Served) -> String {
    let mut http = None;
    wait_until("serve.addr names the HTTP address", || {
        http = served.http();
        http.is_some()
    });
    http.unwrap()
}

/// The first 8 hex digits of `node`'s key.
fn short_key(dir: &Path, node: &str) -> String {
    on(dir, node, &["id"]).trim()[..8].to_owned()
}

/// Checks a Prometheus text exposition (format 0.0.4) line by line: every family has one
/// HELP and one TYPE line, of a 0.0.4 type, before its samples; every sample belongs to the
/// family just declared (histograms: `_bucket`, `_sum`, `_count`; counters are declared with
/// their `_total`); names and label sets are well formed and values are numbers; nothing of
/// OpenMetrics (`# EOF`, `# UNIT`, the `info` type) is left. Returns the sample names.
fn check_prometheus_text(text: &str) -> BTreeSet<String> {
    let name_ok = |name: &str| {
        !name.is_empty()
            && name.chars().enumerate().all(|(i, c)| {
                c == '_' || c == ':' || c.is_ascii_alphabetic() || (i > 0 && c.is_ascii_digit())
            })
    };
    let mut declared: BTreeSet<String> = BTreeSet::new();
    let mut family: Option<(String, String)> = None;
    let mut help_for: Option<String> = None;
    let mut samples = BTreeSet::new();
    assert!(text.ends_with('\n'), "ends with a line feed");
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("# HELP ") {
            let name = rest.split(' ').next().unwrap();
            assert!(name_ok(name), "{line}");
            help_for = Some(name.to_owned());
            continue;
        }
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            let (name, kind) = rest.split_once(' ').unwrap();
            assert!(
                ["counter", "gauge", "histogram", "summary", "untyped"].contains(&kind),
                "{line}"
            );
            assert_eq!(help_for.take().as_deref(), Some(name), "HELP before {line}");
            assert!(declared.insert(name.to_owned()), "{name} declared twice");
            if kind == "counter" {
                assert!(name.ends_with("_total"), "{line}");
            }
            family = Some((name.to_owned(), kind.to_owned()));
            continue;
        }
        assert!(!line.starts_with('#'), "not 0.0.4: {line}");
        assert!(!line.trim().is_empty(), "blank line");
        let (name, rest) = match line.find(['{', ' ']) {
            Some(at) => line.split_at(at),
            None => panic!("{line}"),
        };
        assert!(name_ok(name), "{line}");
        let value = if let Some(labels) = rest.strip_prefix('{') {
            let end = labels.rfind('}').unwrap_or_else(|| panic!("{line}"));
            let mut pairs = &labels[..end];
            while !pairs.is_empty() {
                let (label, after) = pairs.split_once("=\"").unwrap_or_else(|| panic!("{line}"));
                assert!(name_ok(label), "{line}");
                let mut escaped = false;
                let close = after
                    .char_indices()
                    .find(|&(_, c)| {
                        let found = c == '"' && !escaped;
                        escaped = c == '\\' && !escaped;
                        found
                    })
                    .unwrap_or_else(|| panic!("{line}"))
                    .0;
                pairs = after[close + 1..]
                    .strip_prefix(',')
                    .unwrap_or(&after[close + 1..]);
            }
            &labels[end + 1..]
        } else {
            rest
        };
        let value = value.trim();
        assert!(
            value.parse::<f64>().is_ok() || ["+Inf", "-Inf", "NaN"].contains(&value),
            "{line}"
        );
        let (family_name, kind) = family.as_ref().unwrap_or_else(|| panic!("no TYPE: {line}"));
        let belongs = match kind.as_str() {
            "histogram" => ["_bucket", "_sum", "_count"]
                .iter()
                .any(|s| name.strip_suffix(s) == Some(family_name.as_str())),
            _ => name == family_name,
        };
        assert!(belongs, "{line} is not of {family_name} ({kind})");
        samples.insert(name.to_owned());
    }
    assert!(samples.len() > 20, "{text}");
    samples
}

/// Every series name a family of `text` (either format) can have.
fn exported_names(text: &str) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            let (name, kind) = rest.split_once(' ').unwrap();
            names.insert(name.to_owned());
            match kind {
                "counter" => {
                    names.insert(format!("{}_total", name.trim_end_matches("_total")));
                }
                "histogram" => {
                    for suffix in ["_bucket", "_sum", "_count"] {
                        names.insert(format!("{name}{suffix}"));
                    }
                }
                "info" => {
                    names.insert(format!("{name}_info"));
                }
                _ => {}
            }
        } else if !line.starts_with('#') && !line.is_empty() {
            let end = line.find(['{', ' ']).unwrap_or(line.len());
            names.insert(line[..end].to_owned());
        }
    }
    names
}

/// The metric names a PromQL expression uses (`maillage_…`, `process_…`, `up`).
fn metrics_named(expr: &str) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    let bytes = expr.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let starts = (i == 0 || !(bytes[i - 1].is_ascii_alphanumeric() || bytes[i - 1] == b'_'))
            && bytes[i].is_ascii_alphabetic();
        if starts {
            let end = (i..bytes.len())
                .find(|&j| !(bytes[j].is_ascii_alphanumeric() || bytes[j] == b'_'))
                .unwrap_or(bytes.len());
            let word = &expr[i..end];
            let is_label_value = i > 0 && bytes[i - 1] == b'"';
            if !is_label_value
                && (word.starts_with("maillage_") || word.starts_with("process_") || word == "up")
            {
                names.insert(word.to_owned());
            }
            i = end;
        } else {
            i += 1;
        }
    }
    names
}

/// Every PromQL expression of the alert rules and of the dashboard's panels.
fn contrib_expressions() -> Vec<(String, String)> {
    let rules: serde_json::Value = serde_norway::from_str(
        &std::fs::read_to_string(repo().join("contrib/prometheus/maillage-rules.yml")).unwrap(),
    )
    .unwrap();
    let mut exprs = Vec::new();
    for group in rules["groups"].as_array().unwrap() {
        for rule in group["rules"].as_array().unwrap() {
            let name = rule["alert"].as_str().unwrap();
            assert!(rule["labels"]["severity"].is_string(), "{name}: severity");
            assert!(
                rule["annotations"]["summary"].is_string(),
                "{name}: summary"
            );
            exprs.push((name.to_owned(), rule["expr"].as_str().unwrap().to_owned()));
        }
    }
    let dashboard: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(repo().join("contrib/grafana/maillage.json")).unwrap(),
    )
    .unwrap();
    assert!(dashboard["uid"].is_string() && dashboard["title"].is_string());
    for panel in dashboard["panels"].as_array().unwrap() {
        for target in panel["targets"].as_array().into_iter().flatten() {
            exprs.push((
                panel["title"].as_str().unwrap().to_owned(),
                target["expr"].as_str().unwrap().to_owned(),
            ));
        }
    }
    let query = &dashboard["templating"]["list"][1]["query"]["query"];
    exprs.push((
        "instance variable".into(),
        query.as_str().unwrap().to_owned(),
    ));
    exprs
}

#[test]
fn health_readiness_metrics_and_contrib_against_real_nodes() {
    let work = tempfile::tempdir().unwrap();
    let dir = work.path();
    federation(
        dir,
        &[
            ("sud", "Hub du Sud", "04,05,06,13,83,84"),
            ("anct", "ANCT", ""),
        ],
    );
    issue_caf_batch(dir, "sud", "13-2026-CAF-01", "50");
    let (sud_key, anct_key) = (short_key(dir, "sud"), short_key(dir, "anct"));
    let ports = [free_port(), free_port()];

    // The observer starts first: its one peer does not answer yet.
    let mut anct = Served::start(dir, "anct", ports[1], &[ports[0]], &[]);
    let anct_http = http_of(&anct);
    let health = get(&anct_http, "/healthz");
    assert_eq!((health.status, health.body.as_str()), (200, "ok\n"));
    let ready = get(&anct_http, "/readyz");
    assert_eq!(ready.status, 503, "{}", ready.body);
    assert_eq!(
        ready.header("content-type"),
        Some("text/plain; charset=utf-8")
    );
    assert!(
        ready.body.starts_with("pas prêt / not ready\n")
            && ready.body.contains("its one peer is not live"),
        "{}",
        ready.body
    );

    // The hub pulls from no one: ready as soon as it serves. The observer catches up.
    let mut sud = Served::start(dir, "sud", ports[0], &[], &[]);
    let sud_http = http_of(&sud);
    let ready = get(&sud_http, "/readyz");
    assert_eq!((ready.status, ready.body.as_str()), (200, "prêt / ready\n"));
    wait_until("the observer is ready", || {
        get(&anct_http, "/readyz").status == 200
    });
    assert_eq!(
        json(&on(dir, "anct", &["status", "--json"]))["events_stored"],
        json(&on(dir, "sud", &["status", "--json"]))["events_stored"]
    );

    // A call no service answers: counted NOT_FOUND (health of an unknown service), through
    // the federation listener, next to the handshakes counted OK.
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let code = runtime.block_on(async {
        let channel =
            tonic::transport::Endpoint::from_shared(format!("http://127.0.0.1:{}", ports[0]))
                .unwrap()
                .connect()
                .await
                .unwrap();
        let mut health = tonic_health::pb::health_client::HealthClient::new(channel);
        health
            .check(tonic_health::pb::HealthCheckRequest {
                service: "no.such.Service".into(),
            })
            .await
            .unwrap_err()
            .code()
    });
    assert_eq!(code, tonic::Code::NotFound);
    // A command through the hub's admin socket.
    on(dir, "sud", &["digest"]);

    // /metrics: the Prometheus text format unless OpenMetrics is asked for.
    let page = get(&sud_http, "/metrics");
    assert_eq!(page.status, 200);
    assert_eq!(
        page.header("content-type"),
        Some("text/plain; version=0.0.4; charset=utf-8")
    );
    let sud_text = page.body;
    let samples = check_prometheus_text(&sud_text);
    for name in [
        "maillage_build_info",
        "maillage_node_info",
        "maillage_events_applied",
        "process_cpu_seconds_total",
        "process_resident_memory_bytes",
        "process_open_fds",
        "process_max_fds",
        "process_start_time_seconds",
        "maillage_data_dir_size_bytes",
        "maillage_data_dir_filesystem_avail_bytes",
        "maillage_grpc_requests_total",
    ] {
        assert!(samples.contains(name), "{name} missing:\n{sud_text}");
    }
    assert_eq!(
        sample(
            &sud_text,
            &format!(
                "maillage_build_info{{version=\"{}\",protocol=\"{}\"}}",
                env!("CARGO_PKG_VERSION"),
                maillage_core::envelope::PROTOCOL_VERSION
            )
        ),
        Some(1.0),
        "{sud_text}"
    );
    assert!(sample(&sud_text, "process_resident_memory_bytes").unwrap() > 1e6);
    assert!(sample(&sud_text, "process_open_fds").unwrap() >= 5.0);
    let started = sample(&sud_text, "process_start_time_seconds").unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64();
    assert!((now - started).abs() < 600.0, "{started} vs {now}");
    assert!(sample(&sud_text, "maillage_data_dir_size_bytes").unwrap() > 10_000.0);
    let series = |listener: &str, method: &str, code: &str| {
        format!(
            "maillage_grpc_requests_total{{listener=\"{listener}\",method=\"{method}\",code=\"{code}\"}}"
        )
    };
    assert!(
        sample(
            &sud_text,
            &series("federation", "/maillage.v1.Federation/Hello", "OK")
        )
        .unwrap()
            >= 1.0,
        "{sud_text}"
    );
    assert_eq!(
        sample(
            &sud_text,
            &series("federation", "/grpc.health.v1.Health/Check", "NOT_FOUND")
        ),
        Some(1.0),
        "{sud_text}"
    );
    assert!(
        sample(
            &sud_text,
            &series("admin", "/maillage.v1.Admin/Handle", "OK")
        )
        .unwrap()
            >= 1.0,
        "{sud_text}"
    );
    // Peers: the same labels whichever side dialled.
    assert_eq!(
        sample(
            &sud_text,
            &format!(
                "maillage_peer_state{{peer=\"{anct_key}\",name=\"ANCT\",direction=\"inbound\",state=\"pulling-from-us\"}}"
            )
        ),
        Some(1.0),
        "{sud_text}"
    );
    let anct_text = get(&anct_http, "/metrics").body;
    check_prometheus_text(&anct_text);
    assert_eq!(
        sample(
            &anct_text,
            &format!(
                "maillage_peer_state{{peer=\"{sud_key}\",name=\"Hub du Sud\",direction=\"outbound\",state=\"live\"}}"
            )
        ),
        Some(1.0),
        "{anct_text}"
    );
    assert_eq!(
        sample(
            &anct_text,
            &format!(
                "maillage_peer_lag_events{{peer=\"{sud_key}\",name=\"Hub du Sud\",direction=\"outbound\",feed=\"Hub du Sud\"}}"
            )
        ),
        Some(0.0),
        "{anct_text}"
    );
    // OpenMetrics as Prometheus asks for it by default.
    let prometheus_accept = "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1";
    let openmetrics = get_accepting(&sud_http, "/metrics", prometheus_accept);
    assert_eq!(
        openmetrics.header("content-type"),
        Some("application/openmetrics-text; version=1.0.0; charset=utf-8")
    );
    assert!(
        openmetrics.body.ends_with("# EOF\n"),
        "{}",
        openmetrics.body
    );
    assert!(openmetrics.body.contains("# TYPE maillage_node info\n"));
    let scraped = get_accepting(
        &sud_http,
        "/metrics",
        "text/plain;version=0.0.4;q=1,*/*;q=0.1",
    );
    assert!(!scraped.body.contains("# EOF"));

    // What the operators' Prometheus and Grafana read exists.
    let mut exported = exported_names(&sud_text);
    exported.extend(exported_names(&anct_text));
    exported.extend(exported_names(&openmetrics.body));
    // `up` is Prometheus's own, per scraped target.
    exported.insert("up".to_owned());
    let exprs = contrib_expressions();
    assert!(exprs.len() > 25, "{}", exprs.len());
    for (what, expr) in &exprs {
        let named = metrics_named(expr);
        assert!(!named.is_empty(), "{what}: {expr} names no metric");
        for name in named {
            assert!(
                exported.contains(&name),
                "{what}: {name} is not exported by the node ({expr})"
            );
        }
    }

    if let Some(promtool) = promtool() {
        for text in [&sud_text, &anct_text] {
            run_promtool(&promtool, &["check", "metrics"], dir, Some(text));
        }
        let rules = repo().join("contrib/prometheus");
        let checked = run_promtool(
            &promtool,
            &["check", "rules", "maillage-rules.yml"],
            &rules,
            None,
        );
        assert!(checked.contains("SUCCESS"), "{checked}");
        run_promtool(
            &promtool,
            &["test", "rules", "maillage-rules.test.yml"],
            &rules,
            None,
        );
    }
    anct.stop();
    sud.stop();
}

/// A CA and a certificate for 127.0.0.1 and localhost it signed (`ca.pem`, `node.pem`,
/// `node.key.pem`), and a key of another certificate (`other.key.pem`).
fn tls_files(dir: &Path) {
    use rcgen::{BasicConstraints, CertificateParams, IsCa, KeyPair, KeyUsagePurpose};
    let mut ca_params = CertificateParams::new(Vec::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let ca_key = KeyPair::generate().unwrap();
    let ca = ca_params.self_signed(&ca_key).unwrap();
    let node_params =
        CertificateParams::new(vec!["localhost".to_string(), "127.0.0.1".to_string()]).unwrap();
    let node_key = KeyPair::generate().unwrap();
    let node = node_params.signed_by(&node_key, &ca, &ca_key).unwrap();
    std::fs::write(dir.join("ca.pem"), ca.pem()).unwrap();
    std::fs::write(dir.join("node.pem"), node.pem()).unwrap();
    std::fs::write(dir.join("node.key.pem"), node_key.serialize_pem()).unwrap();
    std::fs::write(
        dir.join("other.key.pem"),
        KeyPair::generate().unwrap().serialize_pem(),
    )
    .unwrap();
}

/// Appends `text` to `node`'s node.toml.
fn configure(dir: &Path, node: &str, text: &str) {
    let path = dir.join(node).join("node.toml");
    let mut config = std::fs::read_to_string(&path).unwrap();
    config.push_str(text);
    std::fs::write(&path, config).unwrap();
}

#[test]
fn config_check_names_each_problem_and_serve_refuses_an_address_it_cannot_dial() {
    let work = tempfile::tempdir().unwrap();
    let dir = work.path();
    federation(dir, &[("sud", "Hub du Sud", "13"), ("anct", "ANCT", "")]);
    tls_files(dir);
    let check = |node: &str| {
        let out = maillage(dir, &["--data-dir", node, "config", "check"]);
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
        )
    };
    // As `init` wrote it: sound.
    let (code, report) = check("sud");
    assert_eq!(code, Some(0), "{report}");
    assert!(
        report.contains("ok        serve.listen : 127.0.0.1:7300"),
        "{report}"
    );
    assert!(
        report.contains("est \"Hub du Sud\" (hub) dans la fédération \"Fédération test\""),
        "{report}"
    );
    assert!(
        report.ends_with("sud/node.toml : 0 erreurs, 0 avertissements\n"),
        "{report}"
    );

    // Sound TLS settings and a pinned peer.
    let anct_key = on(dir, "anct", &["id"]).trim().to_owned();
    let sud_key = on(dir, "sud", &["id"]).trim().to_owned();
    configure(
        dir,
        "sud",
        &format!(
            "\n[serve]\nlisten = \"127.0.0.1:7301\"\n\n[serve.tls]\ncert = \"{cert}\"\nkey = \"{key}\"\n\n[[serve.peers]]\naddress = \"https://127.0.0.1:7302\"\nkey = \"{anct_key}\"\nca = \"{ca}\"\ntls_domain = \"localhost\"\n",
            cert = dir.join("node.pem").display(),
            key = dir.join("node.key.pem").display(),
            ca = dir.join("ca.pem").display(),
        ),
    );
    let (code, report) = check("sud");
    assert_eq!(code, Some(0), "{report}");
    assert!(
        report.contains("la clé correspond au certificat"),
        "{report}"
    );
    assert!(
        report.contains(&format!(
            "ok        serve.peers[0] : https://127.0.0.1:7302 (TLS, autorité {}, épinglé sur \"ANCT\")",
            dir.join("ca.pem").display()
        )),
        "{report}"
    );

    // Everything wrong at once, each named.
    let path = dir.join("anct/node.toml");
    std::fs::write(
        &path,
        format!(
            "name = \"Observatoire\"\n\n[serve]\nlisten = \"0.0.0.0\"\nhttp = \"127.0.0.1:9464\"\nsource_fallback_ms = 500\n\n[serve.tls]\ncert = \"{cert}\"\nkey = \"{other}\"\n\n[[serve.peers]]\naddress = \"htps://hinaura.example:7300\"\n\n[[serve.peers]]\naddress = \"http://charente.example:7300\"\nca = \"{ca}\"\n\n[[serve.peers]]\naddress = \"https://sud.example:7300\"\nkey = \"{anct_key}\"\n\n[[serve.peers]]\naddress = \"https://sud.example\"\nkey = \"{sud_key}\"\nca = \"/etc/maillage/none.pem\"\n",
            cert = dir.join("node.pem").display(),
            other = dir.join("other.key.pem").display(),
            ca = dir.join("ca.pem").display(),
        ),
    )
    .unwrap();
    let (code, report) = check("anct");
    assert_eq!(code, Some(1), "{report}");
    for line in [
        "attention name : node.toml dit \"Observatoire\" mais la charte nomme cette clé \"ANCT\"",
        "erreur    serve.listen : \"0.0.0.0\" n'a pas de port : écrivez hôte:port, par ex. 127.0.0.1:7300",
        "erreur    serve.peers[0].address : \"htps://hinaura.example:7300\" : le schéma \"htps\" n'est ni http (en clair) ni https (TLS)",
        "erreur    serve.peers[1] : ca = ",
        "est donné mais l'adresse est en clair (http://) : écrivez https:// pour parler TLS avec ce pair (ou retirez ca)",
        "erreur    serve.peers[2].key : la propre clé de ce nœud : un nœud ne tire pas de lui-même",
        "attention serve.peers[3].address : pas de port : le port 443 sera appelé",
        "erreur    serve.peers[3] : lecture de l'autorité de certification /etc/maillage/none.pem : fichier ou répertoire introuvable",
        "ne se chargent pas : ",
        "attention serve.source_fallback_ms : 500 ms, c'est moins que heartbeat_ms (2000 ms) : un flux sera demandé à d'autres pairs avant que sa source ait pu dire ce qu'elle détient, et reçu plusieurs fois",
        "anct/node.toml : 6 erreurs, 3 avertissements",
    ] {
        assert!(report.contains(line), "{line:?} missing from:\n{report}");
    }
    assert!(report.contains("erreur    serve.tls : "), "{report}");

    // A typo in a setting's name is an error, not a silent default.
    std::fs::write(&path, "name = \"ANCT\"\n\n[serve]\npeer = []\n").unwrap();
    let (code, report) = check("anct");
    assert_eq!(code, Some(1), "{report}");
    assert!(
        report.contains("ne se lit pas") && report.contains("peer"),
        "{report}"
    );

    // `serve` refuses a peer it could never dial, at once, with the same words.
    std::fs::write(&path, "name = \"ANCT\"\n").unwrap();
    let started = Instant::now();
    let out = maillage(
        dir,
        &[
            "--data-dir",
            "anct",
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--peer",
            "htps://sud.example:7300",
        ],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("adresse du pair \"htps://sud.example:7300\"")
            && stderr.contains("le schéma \"htps\" n'est ni http (en clair) ni https (TLS)")
            && stderr.contains("maillage config check"),
        "{stderr}"
    );
    assert!(started.elapsed() < Duration::from_secs(10));
    assert!(!dir.join("anct/serve.addr").exists());
}

#[test]
fn a_peer_whose_tls_setting_does_not_match_its_port_is_told_so() {
    let work = tempfile::tempdir().unwrap();
    let dir = work.path();
    federation(
        dir,
        &[
            ("sud", "Hub du Sud", "13"),
            ("anct", "ANCT", ""),
            ("obs", "Observatoire", ""),
        ],
    );
    tls_files(dir);
    let ports = [free_port(), free_port(), free_port()];
    // Hub du Sud serves TLS; the observer dials it in plaintext.
    configure(
        dir,
        "sud",
        &format!(
            "\n[serve.tls]\ncert = \"{}\"\nkey = \"{}\"\n",
            dir.join("node.pem").display(),
            dir.join("node.key.pem").display()
        ),
    );
    let mut sud = Served::start(dir, "sud", ports[0], &[], &[]);
    let mut anct = Served::start(dir, "anct", ports[1], &[ports[0]], &[]);
    // The second observer dials over TLS a node serving plaintext (the first observer).
    configure(
        dir,
        "obs",
        &format!(
            "\n[[serve.peers]]\naddress = \"https://127.0.0.1:{}\"\nca = \"{}\"\n",
            ports[1],
            dir.join("ca.pem").display()
        ),
    );
    let mut obs = Served::start(dir, "obs", ports[2], &[], &[]);
    let last_error = |node: &str| {
        let status = json(&on(dir, node, &["status", "--json"]));
        status["peers"][0]["last_error"]
            .as_str()
            .unwrap_or("")
            .to_owned()
    };
    wait_until("the plaintext link says why it fails", || {
        last_error("anct").contains("TLS mismatch")
    });
    let error = last_error("anct");
    assert!(
        error.contains(&format!(
            "the peer at http://127.0.0.1:{0} serves TLS but is configured as plaintext http://: write https://127.0.0.1:{0} as its address",
            ports[0]
        )),
        "{error}"
    );
    wait_until("the TLS link says why it fails", || {
        last_error("obs").contains("TLS mismatch")
    });
    let error = last_error("obs");
    assert!(
        error.contains(&format!(
            "the peer at https://127.0.0.1:{0} serves plaintext HTTP/2, not TLS: write http://127.0.0.1:{0} as its address",
            ports[1]
        )),
        "{error}"
    );
    assert!(anct.log().contains("TLS mismatch"), "{}", anct.log());
    // The hub's listener took no harm from the mismatched dials: it still answers.
    assert_eq!(get(&http_of(&sud), "/healthz").status, 200);
    for daemon in [&mut obs, &mut anct, &mut sud] {
        daemon.stop();
    }
}

/// Words of a command line, for the CLI parser (no quotes in the lines checked here).
fn parse_cli(words: &[&str]) {
    use clap::Parser;
    if let Err(error) = maillage::command::Cli::try_parse_from(words) {
        panic!("{words:?} does not parse: {error}");
    }
}

#[test]
fn packaging_files_run_real_commands_on_real_files() {
    // The unit: hardened as documented, its command accepted by the real parser.
    let unit = std::fs::read_to_string(repo().join("contrib/systemd/maillage.service")).unwrap();
    for directive in [
        "User=maillage",
        "StateDirectory=maillage",
        "ConditionPathExists=/var/lib/maillage/charter.pb",
        "ProtectSystem=strict",
        "ProtectHome=yes",
        "PrivateTmp=yes",
        "NoNewPrivileges=yes",
        "RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6",
        "LimitNOFILE=65536",
        "Restart=on-failure",
        "CapabilityBoundingSet=\n",
    ] {
        assert!(
            unit.contains(directive),
            "{directive} missing from the unit"
        );
    }
    let exec = unit
        .lines()
        .find_map(|l| l.strip_prefix("ExecStart="))
        .unwrap();
    // `$MAILLAGE_SERVE_ARGS` empty, as /etc/default/maillage ships it.
    let words: Vec<&str> = exec
        .split_whitespace()
        .filter(|w| !w.starts_with('$'))
        .collect();
    assert_eq!(
        words[..4],
        [
            "/usr/bin/maillage",
            "--data-dir",
            "/var/lib/maillage",
            "serve"
        ]
    );
    parse_cli(&words);
    let sysusers =
        std::fs::read_to_string(repo().join("contrib/systemd/maillage.sysusers")).unwrap();
    assert!(sysusers.contains("\nu maillage - "), "{sysusers}");
    let default =
        std::fs::read_to_string(repo().join("contrib/debian/etc-default-maillage")).unwrap();
    assert!(
        default.contains("\nMAILLAGE_SERVE_ARGS=\"\"\n"),
        "{default}"
    );
    for script in ["postinst", "postrm"] {
        let text = std::fs::read_to_string(repo().join("contrib/debian").join(script)).unwrap();
        // cargo-deb replaces the token wherever it stands: once, on a line of its own.
        assert_eq!(text.matches("#DEBHELPER#").count(), 1, "{script}");
        assert!(text.contains("\n#DEBHELPER#\n") && text.starts_with("#!/bin/sh\n"));
        let syntax = Command::new("sh")
            .args([
                "-n",
                repo().join("contrib/debian").join(script).to_str().unwrap(),
            ])
            .status()
            .unwrap();
        assert!(syntax.success(), "{script}: sh -n");
    }
    // The Debian package's assets exist.
    let manifest = std::fs::read_to_string(repo().join("node/Cargo.toml")).unwrap();
    let manifest: toml::Value = toml::from_str(&manifest).unwrap();
    let deb = &manifest["package"]["metadata"]["deb"];
    for asset in deb["assets"].as_array().unwrap() {
        let source = asset[0].as_str().unwrap();
        if !source.starts_with("target/") {
            assert!(repo().join("node").join(source).is_file(), "{source}");
        }
    }
    assert!(
        repo()
            .join("node")
            .join(deb["license-file"][0].as_str().unwrap())
            .is_file()
    );

    // The image: its command and healthcheck.
    let containerfile = std::fs::read_to_string(repo().join("contrib/oci/Containerfile")).unwrap();
    let cmd = containerfile
        .lines()
        .find_map(|l| l.strip_prefix("CMD "))
        .unwrap();
    let cmd: Vec<String> = serde_json::from_str(cmd).unwrap();
    let mut words = vec!["maillage"];
    words.extend(cmd.iter().map(String::as_str));
    parse_cli(&words);
    assert!(containerfile.contains("USER maillage"));
    assert!(containerfile.contains("VOLUME [\"/var/lib/maillage\"]"));
    assert!(containerfile.contains("GET /healthz"));

    // systemd's own reading of the unit, where systemd is installed (with this build as
    // the program it starts).
    let analyze = Path::new("/usr/bin/systemd-analyze");
    if analyze.is_file() {
        let work = tempfile::tempdir().unwrap();
        let copy = work.path().join("maillage.service");
        std::fs::write(
            &copy,
            unit.replace("/usr/bin/maillage", env!("CARGO_BIN_EXE_maillage")),
        )
        .unwrap();
        let out = Command::new(analyze)
            .arg("verify")
            .arg(&copy)
            .output()
            .unwrap();
        let said = String::from_utf8_lossy(&out.stderr);
        // Warnings about this unit name its file; others (the host's units) are not ours.
        assert!(
            out.status.success() && !said.contains("maillage.service:"),
            "{said}"
        );
    } else {
        let _ = writeln!(
            std::io::stderr().lock(),
            "SKIPPED: systemd-analyze verify did not run: no /usr/bin/systemd-analyze"
        );
    }
}
