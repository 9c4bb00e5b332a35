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
            eprintln!(
                "This node's key {me} is not in the founding charter of {:?}: it joins once the federation admits it. Send the key to a member hub, which proposes `maillage federation propose admit --key {me} --name NAME --territories …`; once enough hubs endorsed it, start `maillage serve` with a peer and this node folds its admission.",
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
    let name = charter
        .member(&me)
        .map(|m| m.name.clone())
        .or_else(|| args.name.clone())
        .unwrap_or_else(|| format!("candidate {}", me.short()));
    data_dir.write_charter(&charter)?;
    let config = NodeConfig {
        name,
        clock_max_ahead_ms: maillage_core::hlc::MAX_AHEAD_MS_DEFAULT,
        serve: Default::default(),
    };
    if !data_dir.config_path().exists() {
        data_dir.write_config(&config)?;
    }
    // Create the store now so later commands find it.
    let node = Node::open(data_dir.clone())?;
    let member = charter.member(&me).cloned();
    println!(
        "node {:?} ({}) initialised in {}",
        config.name,
        me,
        data_dir.root().display()
    );
    println!(
        "federation {:?}: FederationId {}",
        charter.name(),
        charter.federation_id()
    );
    let role = match &member {
        Some(m) if m.role == Role::Hub => format!(
            "hub holding {}",
            m.territories.iter().cloned().collect::<Vec<_>>().join(",")
        ),
        Some(_) => "observer (read replica)".into(),
        None => "not a member yet (waiting for its admission)".into(),
    };
    println!("role: {role}; events stored: {}", node.store.event_count());
    if member.is_some_and(|m| m.role == Role::Hub) {
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

/// `maillage key new` and `maillage key rotate`.
pub fn key(data_dir: &DataDir, command: crate::command::KeyCommand) -> Result<ExitCode> {
    use crate::command::KeyCommand;
    data_dir.require_initialised()?;
    let next = data_dir.root().join("node.key.next");
    match command {
        KeyCommand::New => {
            if next.exists() {
                bail!(
                    "{} exists already: its public key is the one to propose (`maillage key rotate` once its succession is in effect), or delete it to draw another",
                    next.display()
                );
            }
            let secret = SecretKey::from_seed(&rand::random::<[u8; 32]>());
            maillage_app::datadir::write_secret(&next, &secret)?;
            println!("{}", secret.hub_id());
            eprintln!(
                "Next key written to {}. Propose it as this hub's successor: maillage federation propose --reason \"…\" succeed --member {} --successor {}",
                next.display(),
                data_dir.read_key()?.hub_id(),
                secret.hub_id()
            );
            Ok(ExitCode::SUCCESS)
        }
        KeyCommand::Rotate => {
            if let Some(socket) = crate::admin::running(data_dir)? {
                bail!(
                    "a node serves {} (it answers on {}): stop it before rotating its key",
                    data_dir.root().display(),
                    socket.display()
                );
            }
            let successor = maillage_app::datadir::read_secret(&next).with_context(|| {
                format!(
                    "no next key: run `maillage key new` first ({})",
                    next.display()
                )
            })?;
            let node = Node::open(data_dir.clone())?;
            let views = node.views()?;
            let membership = views.membership();
            let me = node.id();
            let succeeded = membership
                .seat(&me)
                .is_some_and(|seat| seat.key == successor.hub_id());
            if !succeeded {
                bail!(
                    "the succession of {} by {} is not in effect in this node's views yet: propose it (`maillage federation propose … succeed --successor {}`), get it endorsed, let this node replicate it (`maillage federation show`), then rotate",
                    me.short(),
                    successor.hub_id().short(),
                    successor.hub_id()
                );
            }
            drop(views);
            node.save_views()?;
            drop(node);
            let old = data_dir.root().join("node.key.old");
            std::fs::rename(data_dir.key_path(), &old)
                .with_context(|| format!("keeping the old key as {}", old.display()))?;
            std::fs::rename(&next, data_dir.key_path())
                .with_context(|| format!("installing {}", next.display()))?;
            println!(
                "this node now signs as {} (the old key {} is kept in {})",
                successor.hub_id(),
                me.short(),
                old.display()
            );
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// `maillage log repair`: rewrites a stopped node's data file with only its valid frames.
pub fn repair_store(data_dir: &DataDir) -> Result<ExitCode> {
    data_dir.require_initialised()?;
    if let Some(socket) = crate::admin::running(data_dir)? {
        bail!(
            "a node serves {} (it answers on {}): stop it before repairing its data file",
            data_dir.root().display(),
            socket.display()
        );
    }
    let repair = maillage_store::repair_data_file(&data_dir.store_path()).with_context(|| {
        format!(
            "repairing {}",
            data_dir.store_path().join("events.log").display()
        )
    })?;
    let Some(kept_as) = repair.kept_as else {
        println!(
            "events.log is sound: {} frames, every byte in a valid frame; nothing changed",
            repair.frames_kept
        );
        return Ok(ExitCode::SUCCESS);
    };
    let dropped: u64 = repair.dropped.iter().map(|(from, to)| to - from).sum();
    println!(
        "events.log repaired: {} frames kept, {dropped} bytes dropped in {} range(s):",
        repair.frames_kept,
        repair.dropped.len()
    );
    for (from, to) in &repair.dropped {
        println!("  bytes {from}..{to} ({} bytes): no valid frame", to - from);
    }
    println!(
        "The damaged file is kept as {} (delete it once the node is healthy). The index is rebuilt at the next start; a feed cut short there is fetched again from peers (`maillage status` says DAMAGED ON DISK until then).",
        kept_as.display()
    );
    Ok(ExitCode::SUCCESS)
}
