//! `maillage demo`: the foundation of a federation on embedded defaults, narrated.
//!
//! Three territorial hubs (Hub du Sud, Hinaura, a Nouvelle-Aquitaine hub) and a national
//! observer found a federation; each hub imports an excerpt of its real venue export (embedded
//! in the binary, see `node/demo/README.md` for the credit); every log is verified; a portable
//! log file is exported, and a single flipped byte in a copy is caught and located.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use maillage_core::{Charter, MemberSpec, Role, SecretKey};
use maillage_store::EventStore;
use maillage_venues::InputFormat;

use crate::datadir::{DataDir, NodeConfig};
use crate::logfile;
use crate::node::Node;
use crate::venues::import_bytes;

/// One demo hub: data dir name, display name, territories, embedded venue excerpt.
struct DemoHub {
    dir: &'static str,
    name: &'static str,
    territories: &'static [&'static str],
    venues_label: &'static str,
    venues: &'static [u8],
}

const HUBS: [DemoHub; 3] = [
    DemoHub {
        dir: "hub-du-sud",
        name: "Hub du Sud",
        territories: &["04", "05", "06", "13", "83", "84"],
        venues_label: "hub-du-sud-2023-05-17.json (excerpt)",
        venues: include_bytes!("../demo/hub-du-sud.json"),
    },
    DemoHub {
        dir: "hinaura",
        name: "Hinaura",
        territories: &[
            "01", "03", "07", "15", "26", "38", "42", "43", "63", "69", "73", "74",
        ],
        venues_label: "hinaura-2022-v0.1.json (excerpt)",
        venues: include_bytes!("../demo/hinaura.json"),
    },
    DemoHub {
        dir: "nouvelle-aquitaine",
        name: "Hub Nouvelle-Aquitaine",
        territories: &[
            "16", "17", "19", "23", "24", "33", "40", "47", "64", "79", "86", "87",
        ],
        venues_label: "charente-2023-07-11.json (excerpt)",
        venues: include_bytes!("../demo/charente.json"),
    },
];

const OBSERVER_DIR: &str = "anct-observer";

/// Runs the demo in `root` (created; must be empty or absent).
pub fn run(root: &Path) -> Result<()> {
    if root.exists() && std::fs::read_dir(root)?.next().is_some() {
        bail!(
            "{} is not empty: pass --dir with a new directory (the demo never overwrites data)",
            root.display()
        );
    }
    std::fs::create_dir_all(root).with_context(|| format!("creating {}", root.display()))?;
    say("1. Three territorial hubs and a national observer found a federation.");
    let mut keys = Vec::new();
    let mut specs = Vec::new();
    for hub in &HUBS {
        let key = SecretKey::generate(&mut rand::rng());
        specs.push(MemberSpec {
            key: key.hub_id(),
            name: hub.name.into(),
            role: Role::Hub,
            territories: hub.territories.iter().map(|t| t.to_string()).collect(),
        });
        keys.push((hub.dir, key));
    }
    let observer = SecretKey::generate(&mut rand::rng());
    specs.push(MemberSpec {
        key: observer.hub_id(),
        name: "ANCT (national observer)".into(),
        role: Role::Observer,
        territories: vec![],
    });
    keys.push((OBSERVER_DIR, observer));
    let charter = Charter::found("Fédération des hubs du numérique inclusif (démo)", 2, specs)?;
    println!(
        "   The charter lists members, roles and territories; its hash, the FederationId, is in every event:"
    );
    println!("   {}", charter.federation_id());
    for (id, member) in charter.members() {
        let territories: Vec<&str> = member.territories.iter().map(String::as_str).collect();
        println!(
            "   - {:<26} {}  {}",
            member.name,
            id.short(),
            territories.join(",")
        );
    }
    let mut nodes = Vec::new();
    for (dir, key) in keys {
        let data_dir = DataDir::new(root.join(dir));
        data_dir.create()?;
        data_dir.write_key(&key)?;
        data_dir.write_charter(&charter)?;
        let name = charter
            .member(&key.hub_id())
            .map(|m| m.name.clone())
            .unwrap_or_default();
        data_dir.write_config(&NodeConfig {
            name,
            clock_max_ahead_ms: maillage_core::hlc::MAX_AHEAD_MS_DEFAULT,
            serve: Default::default(),
        })?;
        nodes.push(Node::open(data_dir)?);
    }

    say(
        "2. Each hub imports its venue map from its real export (national standard, v0.1.1 or v1).",
    );
    for (hub, node) in HUBS.iter().zip(&nodes) {
        let outcome = import_bytes(
            node,
            hub.venues_label,
            hub.venues,
            InputFormat::Auto,
            None,
            false,
        )?;
        let c = &outcome.counts;
        println!(
            "   {:<24} {} rows: {} venues registered, {} rejected, {} with warnings → {} signed events",
            hub.name, c.rows, c.imported, c.rejected, c.with_warnings, c.events_appended
        );
    }
    let again = import_bytes(
        &nodes[0],
        HUBS[0].venues_label,
        HUBS[0].venues,
        InputFormat::Auto,
        None,
        true,
    )?;
    println!(
        "   Re-importing Hub du Sud's file would append nothing: {} unchanged, {} new, {} updated.",
        again.counts.unchanged, again.counts.imported, again.counts.updated
    );
    let hinaura_in_sud = import_bytes(
        &nodes[0],
        HUBS[1].venues_label,
        HUBS[1].venues,
        InputFormat::Auto,
        None,
        true,
    )?;
    println!(
        "   Hub du Sud cannot register Hinaura's venues: {} of {} rows refused (outside its territories).",
        hinaura_in_sud.counts.rejected, hinaura_in_sud.counts.rows
    );

    say("3. Every log is verified: every Ed25519 signature (strict) and every hash chain.");
    for node in &nodes[..HUBS.len()] {
        let report = node.store.verify(true, &mut |_| {})?;
        println!(
            "   {:<24} {} events, {} signatures: {}",
            node.config.name,
            report.events,
            report.signatures,
            if report.broken.is_none() {
                "OK"
            } else {
                "BROKEN"
            }
        );
    }

    say("4. Hub du Sud exports its log as a portable file; anyone with it can check every byte.");
    let file = root.join("hub-du-sud.mlog");
    {
        let out = std::io::BufWriter::new(std::fs::File::create(&file)?);
        let mut writer = logfile::LogWriter::new(out, &nodes[0].charter)?;
        nodes[0].for_each_event(|event| writer.event(event))?;
        writer.finish()?;
    }
    let bytes = std::fs::read(&file)?;
    let report = logfile::verify(&bytes);
    println!(
        "   {}: {} events, {}",
        file.display(),
        report.events,
        if report.problem.is_none() {
            "verifies"
        } else {
            "BROKEN"
        }
    );
    let mut tampered = bytes.clone();
    let target = tampered.len() / 2;
    tampered[target] ^= 0x01;
    let tampered_path = root.join("hub-du-sud-tampered.mlog");
    std::fs::write(&tampered_path, &tampered)?;
    match logfile::verify(&tampered).problem {
        Some(problem) => {
            println!("   One bit flipped at byte {target} of a copy → caught: {problem}")
        }
        None => bail!("the tampered copy verified: this is a bug"),
    }

    say("Where to look next:");
    let data_dirs: Vec<PathBuf> = nodes
        .iter()
        .map(|n| n.data_dir.root().to_path_buf())
        .collect();
    for (node, dir) in nodes.iter().zip(&data_dirs) {
        println!("   {:<26} {}", node.config.name, dir.display());
    }
    let sud = data_dirs[0].display();
    println!("   maillage --data-dir {sud} venues list");
    println!("   maillage --data-dir {sud} venues search marseille");
    println!("   maillage --data-dir {sud} log verify");
    println!("   maillage log verify --file {}", tampered_path.display());
    println!(
        "\n   The observer's store holds {} events: replication between nodes (maillage serve) is the next milestone.",
        nodes[HUBS.len()].store.event_count()
    );
    Ok(())
}

fn say(text: &str) {
    println!("\n{text}");
}
