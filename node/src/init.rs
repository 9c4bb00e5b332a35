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
use crate::lang::t;
use maillage_core::tr;

/// `maillage init`.
pub fn init(data_dir: &DataDir, args: InitArgs) -> Result<ExitCode> {
    data_dir.create()?;
    let secret = if data_dir.has_key() {
        let key = data_dir.read_key()?;
        let path = data_dir.key_path();
        let path = path.display();
        eprintln!(
            "{}",
            tr!(
                "clé déjà présente dans {path} : elle est gardée",
                "key already present in {path}: keeping it"
            )
        );
        key
    } else {
        let key = SecretKey::generate(&mut rand::rng());
        data_dir.write_key(&key)?;
        let path = data_dir.key_path();
        let path = path.display();
        eprintln!("{}", tr!("clé créée : {path}", "created key {path}"));
        key
    };
    let me = secret.hub_id();
    let charter = if let Some(path) = &args.charter {
        let shown = path.display();
        let bytes =
            std::fs::read(path).with_context(|| tr!("lecture de {shown}", "reading {shown}"))?;
        let charter =
            Charter::from_bytes(bytes).with_context(|| tr!("charte {shown}", "charter {shown}"))?;
        if charter.member(&me).is_none() {
            let name = charter.name();
            eprintln!(
                "{}",
                tr!(
                    "La clé de ce nœud, {me}, n'est pas dans la charte fondatrice de {name:?} : il rejoint la fédération une fois admis. Envoyez la clé à un hub membre, qui propose `maillage federation propose admit --key {me} --name NOM --territories …` ; une fois l'admission approuvée par assez de hubs, lancez `maillage serve` avec un pair et ce nœud replie son admission.",
                    "This node's key {me} is not in the founding charter of {name:?}: it joins once the federation admits it. Send the key to a member hub, which proposes `maillage federation propose admit --key {me} --name NAME --territories …`; once enough hubs endorsed it, start `maillage serve` with a peer and this node folds its admission."
                )
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
            "{}",
            t(
                "\nLa clé publique de ce nœud est ci-dessus. Envoyez-la aux fondateurs de votre fédération ;\n\
                 une fois qu'ils vous ont donné le fichier de charte, lancez `maillage init --charter FICHIER`.\n\
                 Pour commencer seul tout de suite : `maillage init --name \"Votre hub\" --territories 04,05`.",
                "\nThis node's public key is above. Send it to your federation's founders; once they\n\
                 give you the charter file, run `maillage init --charter FILE`.\n\
                 To start alone right away: `maillage init --name \"Your hub\" --territories 04,05`."
            )
        );
        return Ok(ExitCode::SUCCESS);
    };
    if data_dir.charter_path().exists() {
        let existing = data_dir.read_charter()?;
        if existing.federation_id() != charter.federation_id() {
            let (root, old, old_id, new, new_id) = (
                data_dir.root().display(),
                existing.name(),
                existing.federation_id().short(),
                charter.name(),
                charter.federation_id().short(),
            );
            bail!(
                "{}",
                tr!(
                    "{root} appartient déjà à la fédération {old:?} ({old_id}) ; refus de le faire passer à {new:?} ({new_id}). Utilisez un autre --data-dir.",
                    "{root} already belongs to federation {old:?} ({old_id}); refusing to switch it to {new:?} ({new_id}). Use another --data-dir."
                )
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
    let (name, root) = (&config.name, data_dir.root().display());
    println!(
        "{}",
        tr!(
            "nœud {name:?} ({me}) initialisé dans {root}",
            "node {name:?} ({me}) initialised in {root}"
        )
    );
    let (federation, id) = (charter.name(), charter.federation_id());
    println!(
        "{}",
        tr!(
            "fédération {federation:?} : FederationId {id}",
            "federation {federation:?}: FederationId {id}"
        )
    );
    let role = match &member {
        Some(m) if m.role == Role::Hub => {
            let held = m.territories.iter().cloned().collect::<Vec<_>>().join(",");
            tr!("hub tenant {held}", "hub holding {held}")
        }
        Some(_) => t(
            "observateur (réplique en lecture)",
            "observer (read replica)",
        )
        .into(),
        None => t(
            "pas encore membre (en attente de son admission)",
            "not a member yet (waiting for its admission)",
        )
        .into(),
    };
    let stored = node.store.event_count();
    println!(
        "{}",
        tr!(
            "rôle : {role} ; événements stockés : {stored}",
            "role: {role}; events stored: {stored}"
        )
    );
    if member.is_some_and(|m| m.role == Role::Hub) {
        eprintln!(
            "{}",
            t(
                "ensuite : `maillage venues import FICHIER` pour importer votre carte des lieux",
                "next: `maillage venues import FILE` to import your venue map"
            )
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// `maillage federation create`: turns the founders' TOML list of members into the charter.
pub fn create_federation(members: &Path, out: &Path) -> Result<ExitCode> {
    let shown = members.display();
    let text = std::fs::read_to_string(members)
        .with_context(|| tr!("lecture de {shown}", "reading {shown}"))?;
    let charter = maillage_app::federation::charter_from_toml(&text)
        .with_context(|| tr!("fichier des membres {shown}", "members file {shown}"))?;
    maillage_app::datadir::write_atomic(out, charter.bytes())?;
    let out_shown = out.display();
    eprintln!(
        "{}",
        tr!(
            "charte écrite dans {out_shown}",
            "charter written to {out_shown}"
        )
    );
    let mut shown = String::new();
    crate::render::charter(
        &mut shown,
        &maillage_app::queries::charter_view(&charter),
        false,
    )?;
    print!("{shown}");
    eprintln!(
        "{}",
        tr!(
            "Donnez ce fichier à chaque membre ; chacun lance `maillage init --charter {out_shown}`.",
            "Give this file to every member; each runs `maillage init --charter {out_shown}`."
        )
    );
    Ok(ExitCode::SUCCESS)
}

/// `maillage log verify --file`.
pub fn verify_file(path: &std::path::Path) -> Result<ExitCode> {
    let shown = path.display();
    let bytes =
        std::fs::read(path).with_context(|| tr!("lecture de {shown}", "reading {shown}"))?;
    let report = maillage_app::logfile::verify(&bytes);
    if let Some(name) = &report.federation {
        println!("{}", tr!("fédération {name:?}", "federation {name:?}"));
    }
    let (feeds, events) = (report.feeds.len(), report.events);
    println!(
        "{}",
        tr!(
            "{feeds} flux, {events} événements vérifiés",
            "{feeds} feeds, {events} events verified"
        )
    );
    match report.problem {
        None => {
            println!(
                "{}",
                tr!(
                    "OK : {shown} se vérifie (chaque signature, chaque chaîne et l'empreinte du fichier)",
                    "OK: {shown} verifies (every signature, chain, and the file digest)"
                )
            );
            Ok(ExitCode::SUCCESS)
        }
        Some(problem) => {
            println!(
                "{}",
                tr!("CASSÉ : {shown} : {problem}", "BROKEN: {shown}: {problem}")
            );
            Ok(ExitCode::from(2))
        }
    }
}

/// `maillage key new` and `maillage key rotate`.
pub fn key(data_dir: &DataDir, command: crate::command::KeyCommand) -> Result<ExitCode> {
    use crate::command::KeyCommand;
    data_dir.require_initialised()?;
    let next = data_dir.next_key_path();
    match command {
        KeyCommand::New => {
            if next.exists() {
                let next = next.display();
                bail!(
                    "{}",
                    tr!(
                        "{next} existe déjà : sa clé publique est celle à proposer (`maillage key rotate` une fois sa succession en vigueur), ou supprimez-le pour en tirer une autre",
                        "{next} exists already: its public key is the one to propose (`maillage key rotate` once its succession is in effect), or delete it to draw another"
                    )
                );
            }
            let secret = SecretKey::from_seed(&rand::random::<[u8; 32]>());
            maillage_app::datadir::write_secret(&next, &secret)?;
            println!("{}", secret.hub_id());
            let (next, me, successor) = (
                next.display(),
                data_dir.read_key()?.hub_id(),
                secret.hub_id(),
            );
            eprintln!(
                "{}",
                tr!(
                    "Clé suivante écrite dans {next}. Proposez-la comme successeure de ce hub : maillage federation propose --reason \"…\" succeed --member {me} --successor {successor}",
                    "Next key written to {next}. Propose it as this hub's successor: maillage federation propose --reason \"…\" succeed --member {me} --successor {successor}"
                )
            );
            Ok(ExitCode::SUCCESS)
        }
        KeyCommand::Rotate => {
            if let Some(socket) = crate::admin::running(data_dir)? {
                let (root, socket) = (data_dir.root().display(), socket.display());
                bail!(
                    "{}",
                    tr!(
                        "un nœud sert {root} (il répond sur {socket}) : arrêtez-le avant de changer sa clé",
                        "a node serves {root} (it answers on {socket}): stop it before rotating its key"
                    )
                );
            }
            let successor = maillage_app::datadir::read_secret(&next).with_context(|| {
                let next = next.display();
                tr!(
                    "pas de clé suivante : lancez d'abord `maillage key new` ({next})",
                    "no next key: run `maillage key new` first ({next})"
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
                let (old, new, full) = (me.short(), successor.hub_id().short(), successor.hub_id());
                bail!(
                    "{}",
                    tr!(
                        "la succession de {old} par {new} n'est pas encore en vigueur dans les vues de ce nœud : proposez-la (`maillage federation propose … succeed --successor {full}`), faites-la approuver, laissez ce nœud la répliquer (`maillage federation show`), puis changez la clé",
                        "the succession of {old} by {new} is not in effect in this node's views yet: propose it (`maillage federation propose … succeed --successor {full}`), get it endorsed, let this node replicate it (`maillage federation show`), then rotate"
                    )
                );
            }
            drop(views);
            node.save_views()?;
            drop(node);
            let old = data_dir.root().join("node.key.old");
            std::fs::rename(data_dir.key_path(), &old).with_context(|| {
                let old = old.display();
                tr!(
                    "mise de côté de l'ancienne clé dans {old}",
                    "keeping the old key as {old}"
                )
            })?;
            std::fs::rename(&next, data_dir.key_path()).with_context(|| {
                let next = next.display();
                tr!("installation de {next}", "installing {next}")
            })?;
            let (new, short, old) = (successor.hub_id(), me.short(), old.display());
            println!(
                "{}",
                tr!(
                    "ce nœud signe désormais avec {new} (l'ancienne clé {short} est gardée dans {old})",
                    "this node now signs as {new} (the old key {short} is kept in {old})"
                )
            );
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// Gives a serving node's replica the key `maillage key new` drew (`node.key.next`), if any:
/// links dial with it where a peer's views put the succession of this node's key in effect
/// before this node's own do. A damaged file stops no node: it serves under its key and says
/// why the next one is not used.
pub fn give_next_key(replica: &maillage_sync::Replica, data_dir: &DataDir) {
    let next = data_dir.next_key_path();
    if !next.exists() {
        return;
    }
    match maillage_app::datadir::read_secret(&next) {
        Ok(successor) => {
            tracing::info!(next = %successor.hub_id().short(), "next key found (node.key.next): links dial with it where a peer no longer admits this node's key");
            replica.set_successor(successor);
        }
        Err(error) => {
            tracing::warn!(
                error = format!("{error:#}"),
                "next key unreadable: links dial with this node's key only"
            )
        }
    }
}

/// `maillage log repair`: rewrites a stopped node's data file with only its valid frames.
pub fn repair_store(data_dir: &DataDir) -> Result<ExitCode> {
    data_dir.require_initialised()?;
    if let Some(socket) = crate::admin::running(data_dir)? {
        let (root, socket) = (data_dir.root().display(), socket.display());
        bail!(
            "{}",
            tr!(
                "un nœud sert {root} (il répond sur {socket}) : arrêtez-le avant de réparer son fichier de données",
                "a node serves {root} (it answers on {socket}): stop it before repairing its data file"
            )
        );
    }
    let repair = maillage_store::repair_data_file(&data_dir.store_path()).with_context(|| {
        let file = data_dir.store_path().join("events.log");
        let file = file.display();
        tr!("réparation de {file}", "repairing {file}")
    })?;
    let frames = repair.frames_kept;
    let Some(kept_as) = repair.kept_as else {
        println!(
            "{}",
            tr!(
                "events.log est sain : {frames} trames, chaque octet dans une trame valide ; rien n'a changé",
                "events.log is sound: {frames} frames, every byte in a valid frame; nothing changed"
            )
        );
        return Ok(ExitCode::SUCCESS);
    };
    let dropped: u64 = repair.dropped.iter().map(|(from, to)| to - from).sum();
    let ranges = repair.dropped.len();
    println!(
        "{}",
        tr!(
            "events.log réparé : {frames} trames gardées, {dropped} octets écartés en {ranges} plage(s) :",
            "events.log repaired: {frames} frames kept, {dropped} bytes dropped in {ranges} range(s):"
        )
    );
    for (from, to) in &repair.dropped {
        let n = to - from;
        println!(
            "  {}",
            tr!(
                "octets {from}..{to} ({n} octets) : aucune trame valide",
                "bytes {from}..{to} ({n} bytes): no valid frame"
            )
        );
    }
    let kept = kept_as.display();
    println!(
        "{}",
        tr!(
            "Le fichier abîmé est gardé dans {kept}.",
            "The damaged file is kept as {kept}."
        )
    );
    eprintln!(
        "{}",
        t(
            "Supprimez-le une fois le nœud rétabli. L'index est reconstruit au prochain démarrage ; un flux coupé court y est redemandé aux pairs (`maillage status` dit ABÎMÉ SUR LE DISQUE d'ici là).",
            "Delete it once the node is healthy. The index is rebuilt at the next start; a feed cut short there is fetched again from peers (`maillage status` says DAMAGED ON DISK until then)."
        )
    );
    Ok(ExitCode::SUCCESS)
}
