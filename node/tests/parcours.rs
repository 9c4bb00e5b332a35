//! A person's parcours across two hubs, run with the real binary: Hub du Sud (PACA) refers a
//! person to a médiathèque of Hinaura (Lyon) and hands out a carnet of Pass numérique; the
//! person moves, vouchers follow, one is claimed while Hub du Sud is unreachable. The two
//! nodes exchange portable log files (`log export` / `log import`) and end with the same
//! parcours, the same figures and the same state digest.
//!
//! Size: two end-to-end stories (a parcours across two hubs, a hub's own voucher and referral life)
//! each run the real binary step by step; a step relies on the ones before it.
#![allow(clippy::unwrap_used)]

use std::path::Path;

mod common;

use common::{exchange, issue_caf_batch, json, luhn_siret, maillage, ok, on};

fn event_count(dir: &Path, node: &str) -> String {
    let verified = on(dir, node, &["log", "verify"]);
    verified.lines().next().unwrap().to_owned()
}

/// The seq of `feed` (by name) in `node`'s store.
fn feed_seq(dir: &Path, node: &str, feed: &str) -> u64 {
    json(&on(dir, node, &["status", "--json"]))["feeds"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["name"] == feed)
        .map_or(0, |f| f["seq"].as_u64().unwrap())
}

#[test]
fn a_parcours_across_two_hubs_ends_identical_on_both_nodes() {
    let work = tempfile::tempdir().unwrap();
    let dir = work.path();

    // Two hubs create their keys; the founders write the charter; both join.
    let mut members = String::from("name = \"Fédération test\"\nadmission_threshold = 1\n");
    for (node, name, territories) in [
        ("sud", "Hub du Sud", "04,05,06,13,83,84"),
        ("hinaura", "Hinaura", "01,03,07,15,26,38,42,43,63,69,73,74"),
    ] {
        let key = on(dir, node, &["init"]);
        let list: Vec<String> = territories.split(',').map(|t| format!("\"{t}\"")).collect();
        members.push_str(&format!(
            "\n[[members]]\nname = \"{name}\"\nkey = \"{}\"\nrole = \"hub\"\nterritories = [{}]\n",
            key.trim(),
            list.join(", ")
        ));
    }
    std::fs::write(dir.join("members.toml"), members).unwrap();
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
    for node in ["sud", "hinaura"] {
        on(dir, node, &["init", "--charter", "charter.pb"]);
    }

    // Hinaura registers a médiathèque in Lyon with a real SIRET and qualifies it.
    let siret = luhn_siret("2169001230001");
    let venue = serde_json::json!([{
        "id": "bm-lyon-1er",
        "pivot": siret,
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
    let imported = on(dir, "hinaura", &["venues", "import", "lyon.json"]);
    assert!(
        imported.contains("1 événements ajoutés") || imported.contains("importés"),
        "{imported}"
    );
    let listed = json(&on(dir, "hinaura", &["venues", "list", "--json"]));
    let vid = listed[0]["venue_id"].as_str().unwrap().to_owned();
    let qualified = on(
        dir,
        "hinaura",
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
    assert!(
        qualified.contains("qualifié pour pass-numerique jusqu'au 2027-06-30"),
        "{qualified}"
    );

    // Hub du Sud: a new person, a referral to Hinaura's venue, a batch, a carnet of 5.
    let person = json(&on(dir, "sud", &["person", "new", "--json"]))["code"]
        .as_str()
        .unwrap()
        .to_owned();
    let imported = exchange(dir, "hinaura", "sud");
    assert!(
        imported.contains("2 stockés, 0 en double, 0 après un trou, 0 en bifurcation"),
        "{imported}"
    );

    // A typo in the person code is refused before anything is signed.
    let before = event_count(dir, "sud");
    let mut typo: Vec<char> = person.chars().collect();
    typo[3] = if typo[3] == '7' { '8' } else { '7' };
    let typo: String = typo.into_iter().collect();
    let out = maillage(
        dir,
        &[
            "--data-dir",
            "sud",
            "referral",
            "open",
            "--person",
            &typo,
            "--prescriber-kind",
            "CAF",
            "--prescriber",
            "CAF 13",
            "--need",
            "démarches",
            "--venue",
            &vid,
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("caractère de contrôle") && err.contains("rien n'a été signé"),
        "{err}"
    );
    assert_eq!(event_count(dir, "sud"), before, "rien n'a été signé");
    // So is an unknown service.
    let out = maillage(
        dir,
        &[
            "--data-dir",
            "sud",
            "referral",
            "open",
            "--person",
            &person,
            "--prescriber-kind",
            "CAF",
            "--prescriber",
            "CAF 13",
            "--need",
            "jardinage",
            "--venue",
            &vid,
        ],
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("n'est pas un service v1"));

    let opened = on(
        dir,
        "sud",
        &[
            "referral",
            "open",
            "--person",
            &person,
            "--prescriber-kind",
            "caf",
            "--prescriber",
            "CAF des Bouches-du-Rhône, Martigues",
            "--need",
            "démarches",
            "--venue",
            &vid,
            "--diagnostic",
            "ABC Diag: débutant",
            "--opened-on",
            "2026-03-02",
        ],
    );
    let rid = opened
        .lines()
        .find_map(|l| l.strip_prefix("identifiant de l'orientation : "))
        .unwrap()
        .to_owned();
    assert!(rid.starts_with("04-20260302-"), "{rid}");
    assert!(
        opened.contains("traitée par Hinaura ; expire le 2026-04-01"),
        "{opened}"
    );
    // A batch id outside the hub's territories is refused, with a suggestion.
    let out = maillage(
        dir,
        &[
            "--data-dir",
            "sud",
            "voucher",
            "issue",
            "--batch",
            "69-2026-CAF-01",
            "--funder",
            "CAF 13",
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
    );
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("par ex. \"04-2026-CAF-01\""),
        "{out:?}"
    );
    issue_caf_batch(dir, "sud", "13-2026-CAF-01", "10");
    let handed = on(
        dir,
        "sud",
        &[
            "voucher",
            "hand-out",
            "--carnet",
            "13-2026-CAF-01:1-5",
            "--person",
            &person,
            "--prescriber-kind",
            "CAF",
            "--prescriber",
            "CAF des Bouches-du-Rhône, Martigues",
            "--referral",
            &rid,
            "--date",
            "2026-03-02",
        ],
    );
    assert!(handed.contains("5 pass remis"), "{handed}");

    // Hinaura accepts the referral.
    exchange(dir, "sud", "hinaura");
    let accepted = on(
        dir,
        "hinaura",
        &[
            "referral",
            "accept",
            &rid,
            "--venue",
            &vid,
            "--date",
            "2026-03-05",
        ],
    );
    assert!(
        accepted.contains("acceptée à Bibliothèque municipale"),
        "{accepted}"
    );

    // Hub du Sud transfers two vouchers to Hinaura, which redeems them.
    let transferred = on(
        dir,
        "sud",
        &[
            "voucher",
            "transfer",
            "13-2026-CAF-01-1",
            "13-2026-CAF-01-2",
            "--to",
            "hinaura",
            "--reason",
            "la personne vit à Lyon",
        ],
    );
    assert!(
        transferred.contains("transféré(s) à Hinaura"),
        "{transferred}"
    );
    exchange(dir, "sud", "hinaura");
    for serial in ["13-2026-CAF-01-1", "13-2026-CAF-01-2"] {
        let redeemed = on(
            dir,
            "hinaura",
            &[
                "voucher",
                "redeem",
                serial,
                "--venue",
                "bm-lyon-1er",
                "--service",
                "démarches",
                "--date",
                "2026-03-10",
            ],
        );
        assert!(
            redeemed.contains(&format!("pass {serial} utilisé")),
            "{redeemed}"
        );
    }
    // A second redemption is refused before anything is signed, with the rule's own reason:
    // exit code 3, and Hinaura's feed does not move.
    let head_before = feed_seq(dir, "hinaura", "hinaura");
    let out = maillage(
        dir,
        &[
            "--data-dir",
            "hinaura",
            "voucher",
            "redeem",
            "13-2026-CAF-01-1",
            "--venue",
            &vid,
            "--service",
            "démarches",
            "--date",
            "2026-03-11",
        ],
    );
    let text = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{text}");
    assert!(
        text.contains(
            "REFUSÉ par les règles de la fédération : le pass 13-2026-CAF-01-1 est déjà utilisé"
        ),
        "{text}"
    );
    assert!(text.contains("rien n'a été signé"), "{text}");
    assert_eq!(feed_seq(dir, "hinaura", "hinaura"), head_before);

    // Hub du Sud tries to redeem a voucher it transferred: rejected (its newest event, which
    // Hinaura will not see before claiming).
    let out = maillage(
        dir,
        &[
            "--data-dir",
            "sud",
            "voucher",
            "redeem",
            "13-2026-CAF-01-2",
            "--venue",
            &vid,
            "--service",
            "démarches",
            "--date",
            "2026-03-11",
        ],
    );
    let text = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{text}");
    assert!(
        text.contains(
            "REFUSÉ par les règles de la fédération : le pass 13-2026-CAF-01-2 appartient à"
        ),
        "{text}"
    );

    // Hub du Sud is unreachable: Hinaura's venue accepts a third voucher and claims it.
    let claimed = json(&on(
        dir,
        "hinaura",
        &[
            "voucher",
            "claim",
            "13-2026-CAF-01-3",
            "--venue",
            &vid,
            "--service",
            "outils",
            "--date",
            "2026-03-12",
            "--json",
        ],
    ));
    assert_eq!(claimed["rejected"], false, "{claimed}");
    assert_eq!(claimed["owner"], "Hub du Sud");
    let claim = claimed["claim"].as_str().unwrap().to_owned();

    // Hub du Sud gets Hinaura's log and accepts the claim (by a prefix of its id).
    exchange(dir, "hinaura", "sud");
    let answered = on(dir, "sud", &["voucher", "answer", &claim[..12], "--accept"]);
    assert!(
        answered.contains("acceptée : pass 13-2026-CAF-01-3 utilisé"),
        "{answered}"
    );
    let status = on(
        dir,
        "sud",
        &[
            "voucher",
            "status",
            "--batch",
            "13-2026-CAF-01",
            "--as-of",
            "2026-03-31",
        ],
    );
    assert!(
        status.contains("utilisé     3")
            && status.contains("remis       2")
            && status.contains("émis        5"),
        "{status}"
    );

    // Final exchange: both nodes hold the same events.
    let imported = exchange(dir, "sud", "hinaura");
    assert!(imported.contains(" 0 en bifurcation"), "{imported}");
    let imported = exchange(dir, "hinaura", "sud");
    assert!(imported.contains(" 0 stockés"), "nothing new: {imported}");

    // The same parcours on both nodes.
    let sud = on(dir, "sud", &["parcours", &person, "--as-of", "2026-03-31"]);
    let hinaura = on(
        dir,
        "hinaura",
        &["parcours", &person, "--as-of", "2026-03-31"],
    );
    assert_eq!(sud, hinaura);
    let parcours = json(&on(
        dir,
        "hinaura",
        &["parcours", &person, "--as-of", "2026-03-31", "--json"],
    ));
    let kinds: Vec<&str> = parcours["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        [
            "referral_opened",
            "vouchers_handed_out",
            "referral_accepted",
            "voucher_redeemed",
            "voucher_redeemed",
            "voucher_claimed",
            "claim_accepted"
        ],
        "{sud}"
    );
    assert!(
        sud.contains("claim_accepted") && sud.contains("Hub du Sud"),
        "{sud}"
    );
    assert!(
        sud.contains("pass : 2 détenus, 3 utilisés, 0 expirés"),
        "{sud}"
    );
    assert!(
        sud.contains(&format!(
            "orientation {rid} : acceptée (traitée par Hinaura)"
        )),
        "{sud}"
    );
    assert!(
        sud.contains("hubs concernés : Hinaura, Hub du Sud"),
        "{sud}"
    );
    assert_eq!(parcours["timeline"].as_array().unwrap().len(), 7);
    assert_eq!(parcours["vouchers"]["used"].as_array().unwrap().len(), 3);

    // The same figures.
    let stats = on(dir, "sud", &["stats", "--as-of", "2026-03-31"]);
    assert!(
        stats.contains("total : 10 émis, 5 remis, 3 utilisés, taux d'usage 60 %"),
        "{stats}"
    );
    assert!(stats.contains("1 acceptées"), "{stats}");
    assert!(
        stats.contains("délai médian entre ouverture et acceptation : 3 j"),
        "{stats}"
    );
    assert_eq!(
        stats,
        on(dir, "hinaura", &["stats", "--as-of", "2026-03-31"])
    );
    let figures = json(&on(
        dir,
        "hinaura",
        &["stats", "--as-of", "2026-03-31", "--json"],
    ));
    assert_eq!(figures["total"]["usage_rate"], 0.6);
    let lyon = figures["venues"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["departement"] == "69")
        .unwrap();
    assert_eq!(
        (lyon["venues"].as_u64(), lyon["qualified"].as_u64()),
        (Some(1), Some(1))
    );

    // The same state digest, and the same rejections.
    let digest_sud = on(dir, "sud", &["digest"]);
    let digest_hinaura = on(dir, "hinaura", &["digest"]);
    assert!(digest_sud.starts_with("empreinte "), "{digest_sud}");
    assert_eq!(digest_sud, digest_hinaura);
    let rejections = on(dir, "hinaura", &["rejections"]);
    assert!(rejections.starts_with("0 événement(s)"), "{rejections}");
    assert_eq!(rejections, on(dir, "sud", &["rejections"]));

    // A file of another federation, or a tampered file, is refused.
    let mut bytes = std::fs::read(dir.join("sud.mlog")).unwrap();
    let at = bytes.len() / 2;
    bytes[at] ^= 1;
    std::fs::write(dir.join("bad.mlog"), bytes).unwrap();
    let out = maillage(dir, &["--data-dir", "hinaura", "log", "import", "bad.mlog"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("ne se vérifie pas, rien n'est importé"));

    // Right to erasure: the parcours is dropped everywhere.
    on(dir, "sud", &["person", "forget", &person]);
    let forgotten = on(dir, "sud", &["parcours", &person]);
    assert!(forgotten.contains("a demandé l'effacement"), "{forgotten}");

    // Another claim, which the owner rejects.
    let claimed = json(&on(
        dir,
        "hinaura",
        &[
            "voucher",
            "claim",
            "13-2026-CAF-01-4",
            "--venue",
            &vid,
            "--service",
            "démarches",
            "--date",
            "2026-03-20",
            "--json",
        ],
    ));
    let claim = claimed["claim"].as_str().unwrap().to_owned();
    exchange(dir, "hinaura", "sud");
    let rejected = on(
        dir,
        "sud",
        &[
            "voucher",
            "answer",
            &claim,
            "--reject",
            "carnet déclaré perdu",
        ],
    );
    assert!(
        rejected.contains("rejetée : carnet déclaré perdu"),
        "{rejected}"
    );
    let status = on(
        dir,
        "sud",
        &[
            "voucher",
            "status",
            "13-2026-CAF-01-4",
            "--as-of",
            "2026-03-31",
        ],
    );
    assert!(status.contains("pass 13-2026-CAF-01-4 : remis"), "{status}");
    assert!(
        status.contains("rejetée : carnet déclaré perdu"),
        "{status}"
    );
    // Answering it twice is rejected by the rules.
    let out = maillage(
        dir,
        &["--data-dir", "sud", "voucher", "answer", &claim, "--accept"],
    );
    assert_eq!(out.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&out.stderr).contains("a déjà une réponse"));
}

#[test]
fn every_other_operation_of_one_hub() {
    let work = tempfile::tempdir().unwrap();
    let dir = work.path();
    ok(
        dir,
        &[
            "init",
            "--name",
            "Hub du Sud",
            "--territories",
            "04,05,06,13,83,84",
        ],
    );
    let venues = serde_json::json!([
        {"id": "epn-joliette", "pivot": luhn_siret("2113005530001"), "nom": "EPN de la Joliette",
         "commune": "Marseille", "code_postal": "13002", "code_insee": "13202",
         "adresse": "1 place de la Joliette", "date_maj": "2026-01-01"},
        {"id": "cs-avignon", "pivot": luhn_siret("7821234560001"), "nom": "Centre social Croix des Oiseaux",
         "commune": "Avignon", "code_postal": "84000", "code_insee": "84007",
         "adresse": "2 rue des Oiseaux", "date_maj": "2026-01-01"}
    ]);
    std::fs::write(dir.join("venues.json"), venues.to_string()).unwrap();
    ok(dir, &["venues", "import", "venues.json"]);
    ok(
        dir,
        &[
            "venues",
            "qualify",
            "epn-joliette",
            "--until",
            "2026-12-31",
            "--service",
            "Aide aux démarches administratives",
        ],
    );
    // An ambiguous service is refused before signing.
    let out = maillage(
        dir,
        &[
            "venues",
            "qualify",
            "cs-avignon",
            "--until",
            "2026-12-31",
            "--service",
            "num",
        ],
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("est ambigu"));
    let person = json(&ok(dir, &["person", "new", "--json"]))["code"]
        .as_str()
        .unwrap()
        .to_owned();

    ok(
        dir,
        &[
            "voucher",
            "issue",
            "--batch",
            "13-2026-VILLE-01",
            "--funder",
            "Ville de Marseille",
            "--funder-siret",
            "21130055300016",
            "--count",
            "5",
            "--face-value-cents",
            "1500",
            "--valid-from",
            "2026-01-01",
            "--valid-until",
            "2026-06-30",
            "--redeem-deadline",
            "2026-07-31",
            "--territory",
            "13",
        ],
    );
    ok(
        dir,
        &[
            "voucher",
            "hand-out",
            "13-2026-VILLE-01-1",
            "13-2026-VILLE-01-2",
            "13-2026-VILLE-01-3",
            "--person",
            &person,
            "--prescriber-kind",
            "CCAS",
            "--prescriber",
            "CCAS de Marseille",
            "--date",
            "2026-02-01",
        ],
    );
    ok(
        dir,
        &[
            "voucher",
            "redeem",
            "13-2026-VILLE-01-1",
            "--venue",
            "epn-joliette",
            "--service",
            "démarches",
            "--date",
            "2026-02-10",
        ],
    );
    let settled = ok(
        dir,
        &[
            "voucher",
            "settle",
            "--venue",
            "epn-joliette",
            "13-2026-VILLE-01-1",
            "--period",
            "2026-02",
        ],
    );
    assert!(settled.contains("15,00 €"), "{settled}");
    ok(
        dir,
        &[
            "voucher",
            "cancel",
            "13-2026-VILLE-01-5",
            "--reason",
            "carnet abîmé",
        ],
    );
    // A venue outside the batch's territory: rejected by the rules.
    ok(
        dir,
        &[
            "venues",
            "qualify",
            "cs-avignon",
            "--until",
            "2026-12-31",
            "--service",
            "démarches",
        ],
    );
    let out = maillage(
        dir,
        &[
            "voucher",
            "redeem",
            "13-2026-VILLE-01-2",
            "--venue",
            "cs-avignon",
            "--service",
            "démarches",
            "--date",
            "2026-02-11",
        ],
    );
    assert_eq!(out.status.code(), Some(3));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("s'utilise dans 13, le lieu est dans 84")
    );
    // After revocation the venue cannot redeem.
    ok(
        dir,
        &[
            "venues",
            "revoke",
            "epn-joliette",
            "--reason",
            "contrôle sur place négatif",
        ],
    );
    let out = maillage(
        dir,
        &[
            "voucher",
            "redeem",
            "13-2026-VILLE-01-2",
            "--venue",
            "epn-joliette",
            "--service",
            "démarches",
            "--date",
            "2026-02-12",
        ],
    );
    assert_eq!(out.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&out.stderr).contains("n'est pas qualifié"));

    let status = json(&ok(
        dir,
        &[
            "voucher",
            "status",
            "--batch",
            "13-2026-VILLE-01",
            "--as-of",
            "2026-08-01",
            "--json",
        ],
    ));
    assert_eq!(
        status["counts"],
        serde_json::json!({"redeemed": 1, "expired": 3, "cancelled": 1})
    );

    // Referrals: declined, closed as no-show, left to expire.
    let open = |target: &[&str], opened: &str| {
        let mut args = vec![
            "referral",
            "open",
            "--person",
            &person,
            "--prescriber-kind",
            "FT",
            "--prescriber",
            "France Travail Marseille",
            "--need",
            "démarches",
            "--opened-on",
            opened,
        ];
        args.extend_from_slice(target);
        let out = ok(dir, &args);
        out.lines()
            .find_map(|l| l.strip_prefix("identifiant de l'orientation : "))
            .unwrap()
            .to_owned()
    };
    let declined = open(&["--service-territory", "13"], "2026-02-01");
    ok(
        dir,
        &[
            "referral",
            "decline",
            &declined,
            "--reason",
            "pas de créneau",
        ],
    );
    let forwarded = open(&["--venue", "epn-joliette"], "2026-02-01");
    let text = ok(
        dir,
        &[
            "referral",
            "forward",
            &forwarded,
            "--to-venue",
            "cs-avignon",
        ],
    );
    assert!(text.contains("Croix des Oiseaux"), "{text}");
    ok(
        dir,
        &[
            "referral",
            "accept",
            &forwarded,
            "--venue",
            "cs-avignon",
            "--date",
            "2026-02-11",
            "--appointment",
            "2026-02-15",
        ],
    );
    ok(
        dir,
        &["referral", "close", &forwarded, "--outcome", "no_show"],
    );
    let expired = open(&["--venue", "cs-avignon"], "2026-02-01");
    let shown = ok(
        dir,
        &["referral", "show", &expired, "--as-of", "2026-03-15"],
    );
    assert!(
        shown.contains(" : expirée (au 2026-03-15)") && shown.contains("expire le 2026-03-03"),
        "{shown}"
    );
    // Closing a declined referral breaks a rule.
    let out = maillage(
        dir,
        &["referral", "close", &declined, "--outcome", "completed"],
    );
    assert_eq!(out.status.code(), Some(3));

    ok(
        dir,
        &[
            "accompaniment",
            "record",
            "--person",
            &person,
            "--venue",
            "cs-avignon",
            "--service",
            "démarches",
            "--date",
            "2026-02-15",
            "--duration-min",
            "60",
            "--mode",
            "collective",
            "--referral",
            &forwarded,
        ],
    );
    let parcours = json(&ok(
        dir,
        &["parcours", &person, "--json", "--as-of", "2026-03-15"],
    ));
    let kinds: Vec<&str> = parcours["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert!(
        kinds.contains(&"accompaniment_recorded") && kinds.contains(&"referral_declined"),
        "{kinds:?}"
    );

    let stats = json(&ok(dir, &["stats", "--as-of", "2026-03-15", "--json"]));
    let line = &stats["vouchers"][0];
    assert_eq!(
        (
            line["issued"].as_u64(),
            line["handed_out"].as_u64(),
            line["redeemed"].as_u64()
        ),
        (Some(5), Some(3), Some(1))
    );
    assert_eq!(line["settled_cents"], 1500);
    let r = &stats["referrals"];
    assert_eq!(
        (
            r["declined"].as_u64(),
            r["no_show"].as_u64(),
            r["expired"].as_u64()
        ),
        (Some(1), Some(1), Some(1)),
        "{r}"
    );
    assert_eq!(r["median_days_to_accept"], 10.0);
    let marseille = stats["venues"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["departement"] == "13")
        .unwrap();
    assert_eq!(marseille["qualified"], 0, "revoked");

    // Every event the rules refused above was refused before signing: none is in the log.
    let rejections = ok(dir, &["rejections"]);
    assert!(rejections.starts_with("0 événement(s)"), "{rejections}");
    ok(dir, &["person", "forget", &person]);
    let gone = json(&ok(dir, &["parcours", &person, "--json"]));
    assert_eq!(gone["forgotten"], true);
}
