//! Protocol versions at the command line: the charter names the version the federation runs
//! (`federation create`, `federation show`); a data dir of protocol v1 (a charter without the
//! field, a store of version-1 events) is refused with the way out, never opened by the rules
//! of v2; a serving node reports a peer of another protocol version (`status`, its JSON,
//! `Query.Status`, `/metrics`, the log) and the events of another version it refused.
#![allow(clippy::unwrap_used)]

mod common;
#[path = "common/served.rs"]
mod served;

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{create_charter, json, maillage, ok, on};
use maillage_core::{Charter, Fork, HubId, SecretKey, VerifiedEvent, pb};
use maillage_store::{EventStore, MemoryStore};
use maillage_sync::{Host, Replica, ReplicaConfig};
use prost::Message;
use served::{Served, federation, free_port, get, sample};

/// The refusal of `maillage args` in `dir`: asserts failure, returns stderr and stdout.
fn refused(dir: &Path, args: &[&str]) -> String {
    let out = maillage(dir, args);
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stderr),
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(!out.status.success(), "maillage {args:?} succeeded: {text}");
    text
}

fn assert_mentions(text: &str, words: &[&str]) {
    for w in words {
        assert!(text.contains(w), "{w:?} not in: {text}");
    }
}

/// The node's key, from its data dir.
fn secret_of(dir: &Path, node: &str) -> SecretKey {
    let text = std::fs::read_to_string(dir.join(node).join("node.key")).unwrap();
    let mut seed = [0u8; 32];
    hex::decode_to_slice(text.trim(), &mut seed).unwrap();
    SecretKey::from_seed(&seed)
}

/// `count` events of `version` by `secret`, in a store data file of the first format (no
/// header, frames `0xE5, u32 BE length, SignedEvent`), as a protocol v1 release wrote them.
fn legacy_store(store: &Path, secret: &SecretKey, federation: [u8; 32], version: u32) {
    let mut file = Vec::new();
    let mut prev = Vec::new();
    for seq in 1..=3u64 {
        let payload = pb::Event {
            version,
            federation: federation.to_vec(),
            author: secret.hub_id().0.to_vec(),
            seq,
            prev: prev.clone(),
            hlc: (1_767_258_000_000 + seq) << 16,
            deps: vec![],
            body: Some(pb::event::Body::VenueClosed(pb::VenueClosed {
                venue_id: format!("v{seq}"),
                reason: "protocol v1".into(),
                ..Default::default()
            })),
        }
        .encode_to_vec();
        prev = maillage_core::crypto::event_id(&payload).0.to_vec();
        let signature = secret.sign_payload(&payload).to_vec();
        let bytes = pb::SignedEvent {
            payload,
            signature,
            personal: Vec::new(),
        }
        .encode_to_vec();
        file.push(0xE5);
        file.extend_from_slice(&(bytes.len() as u32).to_be_bytes());
        file.extend_from_slice(&bytes);
    }
    std::fs::remove_dir_all(store).unwrap();
    std::fs::create_dir_all(store).unwrap();
    std::fs::write(store.join("events.log"), file).unwrap();
}

#[test]
fn the_charter_names_the_protocol_version() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let key = ok(dir, &["--data-dir", "hub", "init"]);
    let members = format!(
        "name = \"Fédération test\"\nadmission_threshold = 1\n\n[[members]]\nname = \"Hub du Sud\"\nkey = \"{}\"\nrole = \"hub\"\nterritories = [\"13\"]\n",
        key.trim()
    );
    let created = create_charter(dir, &members);
    assert!(
        created.contains("(protocole v2, seuil d'admission 1)"),
        "{created}"
    );
    on(dir, "hub", &["init", "--charter", "charter.pb"]);
    let shown = on(dir, "hub", &["federation", "show"]);
    assert!(shown.contains("protocole v2"), "{shown}");
    let shown = json(&on(dir, "hub", &["federation", "show", "--json"]));
    assert_eq!(shown["protocol_version"], 2, "{shown}");
}

#[test]
fn a_protocol_v1_data_dir_is_refused_with_the_way_out() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    ok(
        dir,
        &[
            "--data-dir",
            "old",
            "init",
            "--name",
            "Hub du Sud",
            "--territories",
            "13",
        ],
    );
    // Make it what a protocol v1 release left: a charter without `protocol_version` and a
    // store of version-1 events signed under that charter's federation.
    let charter_path = dir.join("old/charter.pb");
    let mut charter =
        pb::Charter::decode(std::fs::read(&charter_path).unwrap().as_slice()).unwrap();
    charter.protocol_version = 0;
    let bytes = charter.encode_to_vec();
    let federation = maillage_core::crypto::federation_id(&bytes).0;
    std::fs::write(&charter_path, &bytes).unwrap();
    let secret = secret_of(dir, "old");
    legacy_store(&dir.join("old/store"), &secret, federation, 1);
    let _ = std::fs::remove_file(dir.join("old/views.bin"));

    let way_out = [
        "names no protocol version",
        "protocol v1",
        "this build implements protocol v2",
        "There is no migration",
        "maillage federation create",
        "maillage init --data-dir NEW_DIR --charter charter.pb",
        "maillage venues import",
    ];
    for args in [
        &["--data-dir", "old", "status"][..],
        &["--data-dir", "old", "federation", "show"],
        &["--data-dir", "old", "serve"],
    ] {
        assert_mentions(&refused(dir, args), &way_out);
    }
    // The same charter file given to a fresh node is refused the same way.
    std::fs::copy(&charter_path, dir.join("old-charter.pb")).unwrap();
    assert_mentions(
        &refused(
            dir,
            &["--data-dir", "new", "init", "--charter", "old-charter.pb"],
        ),
        &way_out,
    );

    // A v2 charter over a store of version-1 events (a store copied from an old data dir):
    // refused too, not cut as damaged and fetched again.
    ok(
        dir,
        &[
            "--data-dir",
            "mixed",
            "init",
            "--name",
            "Hub du Sud",
            "--territories",
            "13",
        ],
    );
    let charter = std::fs::read(dir.join("mixed/charter.pb")).unwrap();
    let federation = maillage_core::crypto::federation_id(&charter).0;
    let secret = secret_of(dir, "mixed");
    legacy_store(&dir.join("mixed/store"), &secret, federation, 1);
    let _ = std::fs::remove_file(dir.join("mixed/views.bin"));
    let text = refused(dir, &["--data-dir", "mixed", "status"]);
    assert_mentions(
        &text,
        &[
            "the store was written by another maillage release",
            "version: expected 2, found 1",
            "maillage init",
        ],
    );
    assert!(!text.contains("panicked"), "{text}");

    // Following the way out: a fresh data dir of this release works.
    let fresh = ok(
        dir,
        &[
            "--data-dir",
            "fresh",
            "init",
            "--name",
            "Hub du Sud",
            "--territories",
            "13",
        ],
    );
    assert!(fresh.contains("initialisé"), "{fresh}");
    let shown = json(&on(dir, "fresh", &["federation", "show", "--json"]));
    assert_eq!(shown["protocol_version"], 2);
}

/// Folds nothing: the in-process peers below only serve.
struct Inert;

impl Host for Inert {
    fn stored(&self, _: Vec<VerifiedEvent>) {}
    fn forked(&self, _: &Fork) {}
    fn transfer(&self, _: HubId, _: pb::TransferRequest) -> Result<VerifiedEvent, tonic::Status> {
        Err(tonic::Status::unimplemented("test peer"))
    }
}

/// Serves `node`'s key and charter from this process on `port`, offering `versions` in
/// handshakes, with `events` in its store: a node of another release, or one holding events
/// another release signed. Runs until the test process ends.
fn peer_in_process(
    dir: &Path,
    node: &str,
    port: u16,
    versions: &[u32],
    events: Vec<VerifiedEvent>,
) {
    let charter =
        Arc::new(Charter::from_bytes(std::fs::read(dir.join("charter.pb")).unwrap()).unwrap());
    let secret = secret_of(dir, node);
    let store = Arc::new(MemoryStore::in_memory(charter.clone()));
    store.append_own(&events).unwrap();
    let config = ReplicaConfig {
        protocol_versions: versions.to_vec(),
        ..ReplicaConfig::default()
    };
    let (ready_tx, ready_rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async move {
            let replica = Replica::new(
                charter,
                secret,
                store as Arc<dyn EventStore>,
                Arc::new(Inert),
                config,
            );
            let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
                .await
                .unwrap();
            ready_tx.send(()).unwrap();
            tonic::transport::Server::builder()
                .add_service(maillage_sync::server::federation_server(replica))
                .serve_with_incoming(maillage_sync::server::incoming(listener))
                .await
                .unwrap();
        });
    });
    ready_rx.recv_timeout(Duration::from_secs(10)).unwrap();
}

/// `count` events of `node`'s feed from seq 1, signed as a node of protocol `version` would.
fn own_events_of_version(dir: &Path, node: &str, count: u64, version: u32) -> Vec<VerifiedEvent> {
    let charter = Charter::from_bytes(std::fs::read(dir.join("charter.pb")).unwrap()).unwrap();
    let secret = secret_of(dir, node);
    let mut prev = None;
    (1..=count)
        .map(|seq| {
            let body = pb::event::Body::VenueClosed(pb::VenueClosed {
                venue_id: format!("v{seq}"),
                reason: "signed by a later release".into(),
                ..Default::default()
            });
            let hlc = (1_767_258_000_000 + seq) << 16;
            let payload = pb::Event {
                version,
                federation: charter.federation_id().0.to_vec(),
                author: secret.hub_id().0.to_vec(),
                seq,
                prev: prev
                    .map(|p: maillage_core::EventId| p.0.to_vec())
                    .unwrap_or_default(),
                hlc,
                deps: vec![],
                body: Some(body.clone()),
            }
            .encode_to_vec();
            let id = maillage_core::crypto::event_id(&payload);
            let event = VerifiedEvent {
                id,
                author: secret.hub_id(),
                seq,
                version,
                prev,
                hlc,
                deps: vec![],
                body: Some(body),
                signed: pb::SignedEvent {
                    signature: secret.sign_payload(&payload).to_vec(),
                    payload,
                    personal: Vec::new(),
                },
                personal: None,
            };
            prev = Some(id);
            event
        })
        .collect()
}

/// The peer of `status` (JSON) dialled at `port`.
fn peer_at(status: &serde_json::Value, port: u16) -> serde_json::Value {
    let address = format!("http://127.0.0.1:{port}");
    status["peers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["address"] == address.as_str())
        .cloned()
        .unwrap_or_default()
}

#[test]
fn a_serving_node_reports_peers_and_events_of_another_protocol_version() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    federation(
        dir,
        &[
            ("hub", "Hub du Sud", "13"),
            ("later", "Hub d'une version suivante", "69"),
            ("mixed", "Hub aux événements v3", "16"),
        ],
    );
    // `later` speaks protocol v3 only; `mixed` speaks v2 but holds two events of its own
    // feed that a v3 release signed.
    let (later_port, mixed_port, hub_port) = (free_port(), free_port(), free_port());
    peer_in_process(dir, "later", later_port, &[3], Vec::new());
    peer_in_process(
        dir,
        "mixed",
        mixed_port,
        &[2],
        own_events_of_version(dir, "mixed", 2, 3),
    );
    let mut hub = Served::start(dir, "hub", hub_port, &[later_port, mixed_port], &[]);

    let deadline = Instant::now() + Duration::from_secs(30);
    let status = loop {
        let status = json(&on(dir, "hub", &["status", "--json"]));
        let later = peer_at(&status, later_port);
        let mixed = peer_at(&status, mixed_port);
        if later["state"] == "incompatible-protocol"
            && mixed["unsupported"]
                .as_array()
                .is_some_and(|u| !u.is_empty())
        {
            break status;
        }
        assert!(Instant::now() < deadline, "{status:#}\n{}", hub.log());
        std::thread::sleep(Duration::from_millis(100));
    };
    let later = peer_at(&status, later_port);
    assert_eq!(
        later["incompatible"],
        "incompatible protocol (peer: v3, this node: v2)"
    );
    assert_eq!(later["protocol_version"], 0);
    assert_eq!(
        later["last_error"],
        "incompatible protocol (peer: v3, this node: v2): this node must upgrade maillage to \
         speak with it (the peer refused the handshake)"
    );
    let mixed = peer_at(&status, mixed_port);
    assert_eq!(mixed["protocol_version"], 2);
    assert_eq!(mixed["unsupported"][0]["version"], 3);
    assert_eq!(mixed["unsupported"][0]["from_seq"], 1);
    let mixed_key = secret_of(dir, "mixed").hub_id().to_hex();
    assert_eq!(mixed["unsupported"][0]["author"], mixed_key.as_str());
    let feeds = status["feeds"].as_array().unwrap();
    assert!(
        feeds
            .iter()
            .all(|f| f["author"] != mixed_key.as_str() || f["seq"] == 0),
        "no v3 event stored: {status:#}"
    );

    // The same in words.
    let text = on(dir, "hub", &["status"]);
    assert!(
        text.contains(
            "PROTOCOLE INCOMPATIBLE : incompatible protocol (peer: v3, this node: v2) ; le lien réessaie lentement"
        ),
        "{text}"
    );
    assert!(
        text.contains("PROTOCOLE NON PRIS EN CHARGE : events of protocol v3 from seq 1 of feed ")
            && text.contains(
                "this node implements v2: upgrade maillage to a release that implements v3"
            ),
        "{text}"
    );

    // In Query.Status, for any client of the read API.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let answer = runtime.block_on(async {
        let mut query = maillage_proto::v1::query_client::QueryClient::connect(format!(
            "http://127.0.0.1:{hub_port}"
        ))
        .await
        .unwrap();
        query
            .status(pb::StatusRequest {})
            .await
            .unwrap()
            .into_inner()
    });
    let address = |port: u16| format!("http://127.0.0.1:{port}");
    let of = |port: u16| {
        answer
            .peers
            .iter()
            .find(|p| p.address == address(port))
            .unwrap()
            .clone()
    };
    assert_eq!(
        of(later_port).incompatible,
        "incompatible protocol (peer: v3, this node: v2)"
    );
    assert_eq!(of(later_port).state, "incompatible-protocol");
    assert_eq!(of(mixed_port).protocol_version, 2);
    assert_eq!(of(mixed_port).unsupported[0].version, 3);
    assert!(
        of(mixed_port).unsupported[0]
            .message
            .contains("upgrade maillage"),
        "{answer:?}"
    );

    // In /metrics.
    let http = hub.http().unwrap();
    let metrics = get(&http, "/metrics").body;
    let later_address = address(later_port);
    assert_eq!(
        sample(
            &metrics,
            &format!(
                "maillage_peer_state{{peer=\"{later_address}\",name=\"\",direction=\"outbound\",state=\"incompatible-protocol\"}}"
            )
        ),
        Some(1.0),
        "{metrics}"
    );
    // A peer is labelled by its key's short form once its handshake named it.
    let mixed_label = &mixed_key[..8];
    assert_eq!(
        sample(
            &metrics,
            &format!(
                "maillage_peer_unsupported_version_events{{peer=\"{mixed_label}\",name=\"Hub aux événements v3\",direction=\"outbound\",version=\"3\"}}"
            )
        ),
        Some(2.0),
        "{metrics}"
    );
    assert!(
        sample(
            &metrics,
            "maillage_events_rejected_total{reason=\"unsupported_version\"}"
        )
        .unwrap()
            >= 2.0,
        "{metrics}"
    );

    // A client of another release dialling the node is refused with both versions named.
    let refusal = runtime.block_on(async {
        let mut raw =
            maillage_proto::v1::federation_client::FederationClient::connect(address(hub_port))
                .await
                .unwrap();
        let charter = std::fs::read(dir.join("charter.pb")).unwrap();
        raw.hello(pb::HelloRequest {
            federation: maillage_core::crypto::federation_id(&charter).0.to_vec(),
            client_key: secret_of(dir, "later").hub_id().0.to_vec(),
            client_nonce: vec![7; 32],
            protocol_versions: vec![3],
        })
        .await
        .unwrap_err()
    });
    assert_eq!(refusal.code(), tonic::Code::FailedPrecondition);
    assert!(
        refusal.message().contains(
            "the client offers v3, this node implements v2: incompatible protocol (peer: v3, this node: v2)"
        ),
        "{refusal:?}"
    );
    assert_eq!(
        refusal
            .metadata()
            .get("maillage-protocol-versions")
            .and_then(|v| v.to_str().ok()),
        Some("2")
    );
    // Its connections closed: a graceful shutdown waits for open ones.
    drop(runtime);
    let metrics = get(&http, "/metrics").body;
    assert_eq!(
        sample(&metrics, "maillage_handshakes_incompatible_total"),
        Some(1.0),
        "{metrics}"
    );

    // The log says it, once (the link retries slowly), with both versions.
    let log = hub.log();
    let said = log
        .matches(
            "link to peer: incompatible protocol (peer: v3, this node: v2): this node must \
             upgrade maillage to speak with it (the peer refused the handshake); will retry slowly",
        )
        .count();
    assert_eq!(said, 1, "{log}");
    assert!(
        log.contains("peer events of a protocol version this node does not implement"),
        "{log}"
    );
    hub.stop();
}
