//! An honest node never signs an event its own views reject. Each command below used to sign
//! an event that every node then kept as a domain rejection; now the application judges the
//! event with the core's rules first and refuses it, with the rule's own reason: exit 3,
//! `REFUSÉ par les règles de la fédération : … ; rien n'a été signé`, and the feed's head stays
//! where it was.
#![allow(clippy::unwrap_used)]

use std::path::Path;

mod common;

use common::{create_charter, hand_out, issue_caf_batch, json, luhn_siret, maillage, ok, on};

/// The head of the hub's own feed.
fn head(dir: &Path) -> u64 {
    json(&on(dir, "sud", &["status", "--json"]))["feeds"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["name"] == "Hub du Sud")
        .and_then(|f| f["seq"].as_u64())
        .unwrap()
}

/// Runs `args` on the hub, expects a refusal by the rules naming `reason`, and checks that
/// nothing was signed.
fn refused(dir: &Path, args: &[&str], reason: &str) {
    let before = head(dir);
    let mut full = vec!["--data-dir", "sud"];
    full.extend_from_slice(args);
    let out = maillage(dir, &full);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{args:?}: {stderr}");
    assert!(
        stderr.contains("REFUSÉ par les règles de la fédération") && stderr.contains(reason),
        "{args:?}: expected the rule's reason {reason:?}, got {stderr}"
    );
    assert!(stderr.contains("rien n'a été signé"), "{stderr}");
    assert_eq!(head(dir), before, "{args:?}: the feed's head moved");
}

#[test]
fn what_the_rules_reject_is_refused_before_signing() {
    let work = tempfile::tempdir().unwrap();
    let dir = work.path();
    let key = on(dir, "sud", &["init"]);
    create_charter(
        dir,
        &format!(
            "name = \"Fédération test\"\nadmission_threshold = 1\n\n[[members]]\nname = \"Hub du Sud\"\nkey = \"{}\"\nrole = \"hub\"\nterritories = [\"13\"]\n",
            key.trim()
        ),
    );
    on(dir, "sud", &["init", "--charter", "charter.pb"]);

    // Two venues: one with a real SIRET, one whose pivot is the all-zero placeholder.
    let venues = serde_json::json!([
        {
            "id": "epn-joliette", "pivot": luhn_siret("2130005500001"),
            "nom": "EPN de la Joliette", "commune": "Marseille", "code_postal": "13002",
            "code_insee": "13202", "adresse": "10 place de la Joliette", "date_maj": "2026-01-15",
            "services": "Aide aux démarches administratives", "source": "Hub du Sud"
        },
        {
            "id": "asso-sans-siret", "pivot": "00000000000000",
            "nom": "Association sans SIRET", "commune": "Marseille", "code_postal": "13003",
            "code_insee": "13203", "adresse": "2 rue de la République", "date_maj": "2026-01-15",
            "services": "Aide aux démarches administratives", "source": "Hub du Sud"
        }
    ]);
    std::fs::write(dir.join("venues.json"), venues.to_string()).unwrap();
    on(dir, "sud", &["venues", "import", "venues.json"]);

    // Qualifying the placeholder-pivot venue: the payee of public money must be traceable.
    refused(
        dir,
        &[
            "venues",
            "qualify",
            "asso-sans-siret",
            "--until",
            "2027-06-30",
            "--service",
            "démarches",
        ],
        "n'a pas de vrai SIRET, RNA ou RIDET (pivot \"00000000000000\")",
    );

    // A second redemption of a redeemed voucher.
    on(
        dir,
        "sud",
        &[
            "venues",
            "qualify",
            "epn-joliette",
            "--until",
            "2027-06-30",
            "--service",
            "démarches",
        ],
    );
    issue_caf_batch(dir, "sud", "13-2026-CAF-01", "3");
    let person = on(dir, "sud", &["person", "new"]).trim().to_owned();
    hand_out(dir, "sud", "13-2026-CAF-01:1-2", &person);
    let redeem = [
        "voucher",
        "redeem",
        "13-2026-CAF-01-1",
        "--venue",
        "epn-joliette",
        "--service",
        "démarches",
        "--date",
        "2026-03-10",
    ];
    on(dir, "sud", &redeem);
    refused(dir, &redeem, "le pass 13-2026-CAF-01-1 est déjà utilisé");

    // Declining a referral without a reason (blank is no reason), and a referral that expires
    // before it opens.
    let opened = on(
        dir,
        "sud",
        &[
            "referral",
            "open",
            "--person",
            &person,
            "--prescriber-kind",
            "CAF",
            "--prescriber",
            "CAF 13",
            "--need",
            "démarches",
            "--venue",
            "epn-joliette",
            "--opened-on",
            "2026-03-02",
        ],
    );
    let referral = opened
        .lines()
        .find_map(|l| l.strip_prefix("identifiant de l'orientation : "))
        .unwrap()
        .to_owned();
    refused(
        dir,
        &["referral", "decline", &referral, "--reason", "   "],
        "reason",
    );
    refused(
        dir,
        &[
            "referral",
            "open",
            "--person",
            &person,
            "--prescriber-kind",
            "CAF",
            "--prescriber",
            "CAF 13",
            "--need",
            "démarches",
            "--venue",
            "epn-joliette",
            "--opened-on",
            "2026-03-02",
            "--expires-on",
            "2026-03-01",
        ],
        "expires_on",
    );
    // Cancelling a voucher or revoking a qualification without a reason.
    refused(
        dir,
        &["voucher", "cancel", "13-2026-CAF-01-3", "--reason", " "],
        "reason",
    );
    refused(
        dir,
        &["venues", "revoke", "epn-joliette", "--reason", ""],
        "reason",
    );

    // Nothing the node signed is kept without effect: its log holds no domain rejection.
    assert!(
        ok(dir, &["--data-dir", "sud", "rejections"]).starts_with("0 événement(s)"),
        "the node signed an event its views reject"
    );
}
