//! A federation moves to the next protocol version by a charter amendment (docs/protocol.md
//! §0): the change names each hub's feed and the seq from which its events follow the new
//! version. This release implements v2 only: once the change is in effect and its feed has
//! reached its switch, the hub signs nothing more and says to upgrade, while its events before
//! the switch stay valid and `log verify` still passes.
#![allow(clippy::unwrap_used)]

mod common;

use common::{maillage, on};

#[test]
fn a_protocol_change_in_effect_stops_a_release_that_does_not_implement_it() {
    let work = tempfile::tempdir().unwrap();
    let dir = work.path();
    let key = on(dir, "sud", &["init"]);
    let members = format!(
        "name = \"Fédération test\"\nadmission_threshold = 1\n\n[[members]]\nname = \"Hub du Sud\"\nkey = \"{}\"\nrole = \"hub\"\nterritories = [\"13\"]\n",
        key.trim()
    );
    common::create_charter(dir, &members);
    on(dir, "sud", &["init", "--charter", "charter.pb"]);
    common::issue_caf_batch(dir, "sud", "13-2026-CAF-01", "10");

    // A change that skips a version is refused before anything is signed.
    let skipped = maillage(
        dir,
        &[
            "--data-dir",
            "sud",
            "federation",
            "propose",
            "--reason",
            "trop loin",
            "protocol",
            "--version",
            "4",
        ],
    );
    assert!(!skipped.status.success());
    let said = String::from_utf8_lossy(&skipped.stderr);
    assert!(said.contains("v3") && said.contains("v4"), "{said}");

    // Threshold 1: the proposal alone puts it in effect. The hub's next event after the
    // proposal is still v2 (margin 1), the one after must be v3.
    on(
        dir,
        "sud",
        &[
            "federation",
            "propose",
            "--reason",
            "passage à la version 3 du protocole",
            "protocol",
            "--version",
            "3",
            "--margin",
            "1",
        ],
    );
    let shown = on(dir, "sud", &["federation", "show"]);
    assert!(shown.contains("v3"), "{shown}");
    common::issue_caf_batch(dir, "sud", "13-2026-CAF-02", "10");
    let args = common::issue_batch_args("sud", "13-2026-CAF-03", "CAF", "10");
    let refused = maillage(dir, &args.iter().map(String::as_str).collect::<Vec<_>>());
    assert!(!refused.status.success());
    let said = String::from_utf8_lossy(&refused.stderr);
    assert!(
        said.contains("v3")
            && said.contains("position 4")
            && said.contains("mettez maillage à jour"),
        "{said}"
    );
    // Nothing was signed, and what was signed verifies.
    on(dir, "sud", &["log", "verify"]);
    let status = on(dir, "sud", &["status", "--json"]);
    assert!(
        status.contains("\"seq\": 3") || status.contains("\"seq\":3"),
        "{status}"
    );
}
