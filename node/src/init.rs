//! What the CLI does without a node: creating a node's key and configuration, founding or
//! joining a federation, verifying a portable log file.

use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use maillage_app::datadir::{DataDir, NodeConfig};
use maillage_app::node::Node;
use maillage_core::{Charter, MemberSpec, Role, SecretKey};
use maillage_store::EventStore;

use crate::command::InitArgs;

/// `maillage init`.
pub fn init(data_dir: &DataDir, args: InitArgs) -> Result<ExitCode> {
    data_dir.create()?;
    let secret = if data_dir.has_key() {
        let key = data_dir.read_key()?;
        eprintln!(
            "key already present in {}: keeping it",
            data_dir.key_path().display()
        );
        key
    } else {
        let key = SecretKey::generate(&mut rand::rng());
        data_dir.write_key(&key)?;
        eprintln!("created key {}", data_dir.key_path().display());
        key
    };
    let me = secret.hub_id();
    let charter = if let Some(path) = &args.charter {
        let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
        let charter =
            Charter::from_bytes(bytes).with_context(|| format!("charter {}", path.display()))?;
        if charter.member(&me).is_none() {
            bail!(
                "this node's key {me} is not a member of federation {:?}: send the key to the founders and ask for a charter that lists it",
                charter.name()
            );
        }
        Some(charter)
    } else if !args.territories.is_empty() {
        let name = args.name.clone().unwrap_or_default();
        let federation_name = args
            .federation_name
            .clone()
            .unwrap_or_else(|| format!("{name} federation"));
        let spec = MemberSpec {
            key: me,
            name: name.clone(),
            role: Role::Hub,
            territories: args.territories.clone(),
        };
        Some(Charter::found(&federation_name, 1, vec![spec])?)
    } else {
        None
    };
    let Some(charter) = charter else {
        println!("{me}");
        eprintln!(
            "\nThis node's public key is above. Send it to your federation's founders; once they\n\
             give you the charter file, run `maillage init --charter FILE`.\n\
             To start alone right away: `maillage init --name \"Your hub\" --territories 04,05`."
        );
        return Ok(ExitCode::SUCCESS);
    };
    if data_dir.charter_path().exists() {
        let existing = data_dir.read_charter()?;
        if existing.federation_id() != charter.federation_id() {
            bail!(
                "{} already belongs to federation {:?} ({}); refusing to switch it to {:?} ({}). Use another --data-dir.",
                data_dir.root().display(),
                existing.name(),
                existing.federation_id().short(),
                charter.name(),
                charter.federation_id().short()
            );
        }
    }
    let member = charter
        .member(&me)
        .context("own key missing from the charter")?;
    data_dir.write_charter(&charter)?;
    let config = NodeConfig {
        name: member.name.clone(),
        clock_max_ahead_ms: maillage_core::hlc::MAX_AHEAD_MS_DEFAULT,
        serve: Default::default(),
    };
    if !data_dir.config_path().exists() {
        data_dir.write_config(&config)?;
    }
    // Create the store now so later commands find it.
    let node = Node::open(data_dir.clone())?;
    println!(
        "node {:?} ({}) initialised in {}",
        member.name,
        me,
        data_dir.root().display()
    );
    println!(
        "federation {:?}: FederationId {}",
        charter.name(),
        charter.federation_id()
    );
    let role = match member.role {
        Role::Hub => format!(
            "hub holding {}",
            member
                .territories
                .iter()
                .cloned()
                .collect::<Vec<_>>()
                .join(",")
        ),
        Role::Observer => "observer (read replica)".into(),
    };
    println!("role: {role}; events stored: {}", node.store.event_count());
    if member.role == Role::Hub {
        println!("next: `maillage venues import FILE` to import your venue map");
    }
    Ok(ExitCode::SUCCESS)
}

/// `maillage federation create`: turns the founders' TOML list of members into the charter.
pub fn create_federation(members: &Path, out: &Path) -> Result<ExitCode> {
    let text = std::fs::read_to_string(members)
        .with_context(|| format!("reading {}", members.display()))?;
    let charter = maillage_app::federation::charter_from_toml(&text)
        .with_context(|| format!("members file {}", members.display()))?;
    maillage_app::datadir::write_atomic(out, charter.bytes())?;
    println!("charter written to {}", out.display());
    let mut shown = String::new();
    crate::render::charter(
        &mut shown,
        &maillage_app::queries::charter_view(&charter),
        false,
    )?;
    print!("{shown}");
    println!(
        "Give this file to every member; each runs `maillage init --charter {}`.",
        out.display()
    );
    Ok(ExitCode::SUCCESS)
}

/// `maillage log verify --file`.
pub fn verify_file(path: &std::path::Path) -> Result<ExitCode> {
    let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    let report = maillage_app::logfile::verify(&bytes);
    if let Some(name) = &report.federation {
        println!("federation {name:?}");
    }
    println!(
        "{} feeds, {} events verified",
        report.feeds.len(),
        report.events
    );
    match report.problem {
        None => {
            println!(
                "OK: {} verifies (every signature, chain, and the file digest)",
                path.display()
            );
            Ok(ExitCode::SUCCESS)
        }
        Some(problem) => {
            println!("BROKEN: {}: {problem}", path.display());
            Ok(ExitCode::from(2))
        }
    }
}
