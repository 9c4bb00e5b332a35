//! Protocol versions at the command line: the charter names the version the federation runs
//! (`federation create`, `federation show`), and a data dir of protocol v1 (a charter without
//! the field, a store of version-1 events) is refused with the way out, never opened by the
//! rules of v2.
#![allow(clippy::unwrap_used)]

mod common;

use std::path::Path;

use common::{create_charter, json, maillage, ok, on};
use maillage_core::{SecretKey, pb};
use prost::Message;

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
            })),
        }
        .encode_to_vec();
        prev = maillage_core::crypto::event_id(&payload).0.to_vec();
        let signature = secret.sign_payload(&payload).to_vec();
        let bytes = pb::SignedEvent { payload, signature }.encode_to_vec();
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
        created.contains("(protocol v2, admission threshold 1)"),
        "{created}"
    );
    on(dir, "hub", &["init", "--charter", "charter.pb"]);
    let shown = on(dir, "hub", &["federation", "show"]);
    assert!(shown.contains("protocol v2"), "{shown}");
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
    assert!(fresh.contains("initialised"), "{fresh}");
    let shown = json(&on(dir, "fresh", &["federation", "show", "--json"]));
    assert_eq!(shown["protocol_version"], 2);
}
