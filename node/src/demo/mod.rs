//! `maillage demo`: a federation on embedded defaults, run as real nodes and narrated.
//!
//! Three territorial hubs (Hub du Sud, Hinaura, a Nouvelle-Aquitaine hub) and a national
//! observer found a federation; each hub imports an excerpt of its real venue export (embedded
//! in the binary, see `node/demo/README.md` for the credit). The four nodes then serve on
//! loopback ports, each with its own data dir, replicating over gRPC exactly as `maillage
//! serve` does, and a person's story is played through the same commands a hub's staff would
//! type (sent to the running nodes the way the CLI sends them): spotted at a CAF desk in
//! Martigues, referred, given a carnet, moving to Charente, accepted and redeeming vouchers
//! there; Hub du Sud's link goes down, a redemption becomes a claim, the link returns and the
//! claim is answered; every node ends on the same digest. The federation keeps running until
//! Ctrl-C (or ends after the story with `--exit`).

mod net;
mod story;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use maillage_app::App;
use maillage_app::request::{ImportVenues, Request, Response, VenueFormat, VenuesImported};
use maillage_core::date::format_date;
use maillage_core::lang::t;
use maillage_core::lang::{FileOp, on_file};
use maillage_core::tr;
use maillage_core::{Charter, MemberSpec, Role, SecretKey};
use tokio::sync::watch;

use maillage_app::datadir::{DataDir, NodeConfig, PeerEntry, ServeConfig};
use maillage_app::node::Node;

pub use net::{Switchboard, SwitchedConnector};

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
        venues: include_bytes!("../../demo/hub-du-sud.json"),
    },
    DemoHub {
        dir: "hinaura",
        name: "Hinaura",
        territories: &[
            "01", "03", "07", "15", "26", "38", "42", "43", "63", "69", "73", "74",
        ],
        venues_label: "hinaura-2022-v0.1.json (excerpt)",
        venues: include_bytes!("../../demo/hinaura.json"),
    },
    DemoHub {
        dir: "nouvelle-aquitaine",
        name: "Hub Nouvelle-Aquitaine",
        territories: &[
            "16", "17", "19", "23", "24", "33", "40", "47", "64", "79", "86", "87",
        ],
        venues_label: "charente-2023-07-11.json (excerpt)",
        venues: include_bytes!("../../demo/charente.json"),
    },
];

const OBSERVER_DIR: &str = "anct-observer";
const SUD: usize = 0;
const NA: usize = 2;
const OBSERVER: usize = 3;

/// The venue of the Charente export where the person is welcomed (the France services desk of
/// Barbezieux-Saint-Hilaire, whose SIRET makes it a traceable payee), by its id in the export.
const BARBEZIEUX: &str = "mediation-numerique-aidants-connect-5415-mediation-numerique";
/// How long the demo waits for replication before calling it a failure.
const PATIENCE: Duration = Duration::from_secs(60);

/// Runs the demo in `root` (created; must be empty or absent). With `exit`, the federation
/// stops after the story; otherwise it runs until Ctrl-C.
pub fn run(root: &Path, exit: bool) -> Result<()> {
    if root.exists() && std::fs::read_dir(root)?.next().is_some() {
        let root = root.display();
        bail!(
            "{}",
            tr!(
                "{root} n'est pas vide : donnez --dir avec un nouveau répertoire (la démonstration n'écrase jamais de données)",
                "{root} is not empty: pass --dir with a new directory (the demo never overwrites data)"
            )
        );
    }
    std::fs::create_dir_all(root).with_context(|| on_file(FileOp::Create, root))?;
    let root = root.canonicalize().with_context(|| {
        let root = root.display();
        tr!("résolution de {root}", "resolving {root}")
    })?;
    let (charter, keys) = found()?;

    // Each node's port is chosen before the configurations are written, so that every node
    // can name its peers.
    let mut listeners = Vec::new();
    for _ in 0..keys.len() {
        listeners.push(
            std::net::TcpListener::bind("127.0.0.1:0")
                .context(t("ouverture d'un port local", "binding a loopback port"))?,
        );
    }
    let listen: Vec<String> = listeners
        .iter()
        .map(|l| l.local_addr().map(|a| a.to_string()))
        .collect::<std::io::Result<_>>()?;
    let mut nodes = Vec::new();
    for (i, (dir, key)) in keys.iter().enumerate() {
        let data_dir = DataDir::new(root.join(dir));
        data_dir.create()?;
        data_dir.write_key(key)?;
        data_dir.write_charter(&charter)?;
        let name = charter
            .member(&key.hub_id())
            .map(|m| m.name.clone())
            .unwrap_or_default();
        // Hubs pull from the other hubs; the observer pulls from every hub.
        let peers = (0..HUBS.len())
            .filter(|&j| j != i)
            .map(|j| PeerEntry {
                address: format!("http://{}", listen[j]),
                key: Some(keys[j].1.hub_id().to_string()),
                ca: None,
                tls_domain: None,
            })
            .collect();
        data_dir.write_config(&NodeConfig {
            name,
            clock_max_ahead_ms: maillage_core::hlc::MAX_AHEAD_MS_DEFAULT,
            serve: ServeConfig {
                listen: listen[i].clone(),
                peers,
                heartbeat_ms: 1_000,
                stall_timeout_ms: 4_000,
                ..ServeConfig::default()
            },
        })?;
        nodes.push(Arc::new(Node::open(data_dir)?));
    }
    import_venues(&nodes)?;

    let federation = Federation::start(&root, nodes, listeners, listen)?;
    // Watched from now on, so that Ctrl-C during the story stops the nodes cleanly once it ends.
    let signal = {
        let _entered = federation.runtime.enter();
        crate::serve::shutdown_signal()
    };
    let outcome = story::story(&federation).map(|person| {
        federation.where_to_look(&person);
        if !exit {
            println!(
                "\n{}",
                t(
                    "La fédération tourne jusqu'à Ctrl-C.",
                    "The federation runs until Ctrl-C."
                )
            );
            federation.runtime.block_on(signal);
            println!(
                "\n{}",
                t(
                    "Arrêt des quatre nœuds (leurs répertoires de données restent)…",
                    "Stopping the four nodes (their data dirs stay)…"
                )
            );
        }
    });
    let stopped = federation.stop();
    outcome?;
    stopped
}

/// Step 1: the keys and the charter.
fn found() -> Result<(Charter, Vec<(&'static str, SecretKey)>)> {
    say(t(
        "1. Trois hubs territoriaux et un observateur national fondent une fédération.",
        "1. Three territorial hubs and a national observer found a federation.",
    ));
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
        name: "ANCT (observateur national)".into(),
        role: Role::Observer,
        territories: vec![],
    });
    keys.push((OBSERVER_DIR, observer));
    let charter = Charter::found("Fédération des hubs du numérique inclusif (démo)", 2, specs)?;
    println!(
        "   {}",
        t(
            "La charte liste les membres, leurs rôles et leurs territoires ; son empreinte, le FederationId, est dans chaque événement :",
            "The charter lists members, roles and territories; its hash, the FederationId, is in every event:"
        )
    );
    println!("   {}", charter.federation_id());
    for (id, member) in charter.members() {
        let territories: Vec<&str> = member.territories.iter().map(String::as_str).collect();
        println!(
            "   - {:<28} {}  {}",
            member.name,
            id.short(),
            territories.join(",")
        );
    }
    Ok((charter, keys))
}

/// Step 2: each hub signs its venue map (before the nodes serve, as a hub would on day one).
fn import_venues(nodes: &[Arc<Node>]) -> Result<()> {
    say(t(
        "2. Chaque hub importe sa carte des lieux depuis son export réel (standard national, v0.1.1 ou v1).",
        "2. Each hub imports its venue map from its real export (national standard, v0.1.1 or v1).",
    ));
    let import = |node: &Arc<Node>, hub: &DemoHub, dry_run: bool| -> Result<VenuesImported> {
        let request = Request::ImportVenues(ImportVenues {
            source: hub.venues_label.to_owned(),
            content: hub.venues.to_vec(),
            format: VenueFormat::Auto,
            mapping: None,
            dry_run,
            report: false,
        });
        match App::new(node.clone()).handle(request)? {
            Response::VenuesImported(imported) => Ok(imported),
            _ => bail!(
                "{}",
                t(
                    "le nœud a donné une réponse d'une autre sorte à un import",
                    "the node gave an answer of another kind to an import"
                )
            ),
        }
    };
    for (hub, node) in HUBS.iter().zip(nodes) {
        let outcome = import(node, hub, false)?;
        let c = &outcome.counts;
        let (rows, imported, rejected, warned, events) = (
            c.rows,
            c.imported,
            c.rejected,
            c.with_warnings,
            c.events_appended,
        );
        println!(
            "   {:<24} {}",
            hub.name,
            tr!(
                "{rows} lignes : {imported} lieux enregistrés, {rejected} rejetées, {warned} avec avertissements → {events} événements signés",
                "{rows} rows: {imported} venues registered, {rejected} rejected, {warned} with warnings → {events} signed events"
            )
        );
    }
    let hinaura_in_sud = import(&nodes[SUD], &HUBS[1], true)?;
    let (refused, rows) = (hinaura_in_sud.counts.rejected, hinaura_in_sud.counts.rows);
    println!(
        "   {}",
        tr!(
            "Hub du Sud ne peut pas enregistrer les lieux de Hinaura : {refused} lignes sur {rows} refusées (hors de ses territoires).",
            "Hub du Sud cannot register Hinaura's venues: {refused} of {rows} rows refused (outside its territories)."
        )
    );
    for node in nodes {
        node.save_views()?;
    }
    Ok(())
}

/// The four running nodes.
struct Federation {
    root: PathBuf,
    names: Vec<String>,
    dirs: Vec<String>,
    /// Federation addresses (`host:port`).
    listen: Vec<String>,
    /// Each node's command socket, where the CLI sends commands.
    commands: Vec<PathBuf>,
    /// Dashboard and metrics addresses (`http ADDR` in `serve.addr`).
    http: Vec<String>,
    board: Arc<Switchboard>,
    runtime: tokio::runtime::Runtime,
    stop: watch::Sender<bool>,
    daemons: Vec<tokio::task::JoinHandle<Result<()>>>,
}

impl Federation {
    /// Step 3: every node serves on its loopback port and pulls from its peers.
    fn start(
        root: &Path,
        nodes: Vec<Arc<Node>>,
        listeners: Vec<std::net::TcpListener>,
        listen: Vec<String>,
    ) -> Result<Self> {
        say(t(
            "3. Les quatre nœuds démarrent, chacun sur son port et son répertoire de données, et se répliquent en gRPC.",
            "3. The four nodes start, each on its own port and data dir, and replicate over gRPC.",
        ));
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .thread_name("maillage-demo")
            .build()?;
        let board = Switchboard::new(listen.iter().cloned());
        let (stop, stop_rx) = watch::channel(false);
        let mut names = Vec::new();
        let mut dirs = Vec::new();
        let mut daemons = Vec::new();
        for ((node, listener), address) in nodes.into_iter().zip(listeners).zip(&listen) {
            names.push(node.config.name.clone());
            dirs.push(
                node.data_dir
                    .root()
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default(),
            );
            let config = node.config.serve.clone();
            let connector = Arc::new(SwitchedConnector {
                own: address.clone(),
                board: board.clone(),
            });
            let mut stop = stop_rx.clone();
            daemons.push(runtime.spawn(async move {
                listener.set_nonblocking(true)?;
                let listener = tokio::net::TcpListener::from_std(listener)?;
                crate::serve::run(node, config, listener, connector, async move {
                    let _ = stop.wait_for(|stopped| *stopped).await;
                })
                .await
            }));
        }
        let mut federation = Self {
            root: root.to_path_buf(),
            names,
            dirs,
            listen,
            commands: Vec::new(),
            http: Vec::new(),
            board,
            runtime,
            stop,
            daemons,
        };
        // A node is ready once its command socket answers and it has written its addresses
        // (`serve.addr` comes last: the socket may answer before it is there).
        let deadline = Instant::now() + PATIENCE;
        for i in 0..federation.dirs.len() {
            let data_dir = DataDir::new(root.join(&federation.dirs[i]));
            loop {
                if let Some(address) = crate::admin::running(&data_dir)?
                    && let Some(http) = http_address(&data_dir)
                {
                    federation.commands.push(address);
                    federation.http.push(http);
                    break;
                }
                if federation.daemons[i].is_finished() || Instant::now() > deadline {
                    let _ = federation.stop.send(true);
                    let handle = federation.daemons.swap_remove(i);
                    let error = match federation.runtime.block_on(handle) {
                        Ok(Err(error)) => format!("{error:#}"),
                        Ok(Ok(())) => t("il s'est arrêté", "it stopped").into(),
                        Err(error) => error.to_string(),
                    };
                    let _ = federation.stop();
                    let root = data_dir.root().display();
                    bail!(
                        "{}",
                        tr!(
                            "{root} n'a pas démarré : {error}",
                            "{root} did not start: {error}"
                        )
                    );
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        }
        for i in 0..federation.dirs.len() {
            let (grpc, http, dir) = (
                &federation.listen[i],
                &federation.http[i],
                &federation.dirs[i],
            );
            println!(
                "   {:<28} {}",
                federation.names[i],
                tr!(
                    "gRPC sur {grpc}   tableau de bord http://{http}/   répertoire {dir}",
                    "gRPC on {grpc}   dashboard http://{http}/   data dir {dir}"
                )
            );
        }
        let took = federation.converge(&[0, 1, 2, 3])?.as_millis();
        let events = federation.events(OBSERVER)?;
        println!(
            "   {}",
            tr!(
                "En {took} ms, chaque nœud détient les mêmes {events} événements signés, et la même empreinte.",
                "Within {took} ms every node holds the same {events} signed events, and the same digest."
            )
        );
        let root = root.display();
        println!(
            "\n   {}",
            tr!(
                "Désormais, le récit lance les commandes que taperait l'équipe d'un hub, depuis {root} :",
                "From here on, the story runs the commands a hub's staff would type, from {root}:"
            )
        );
        Ok(federation)
    }

    /// Runs a command on a node as the CLI would (parsed by the CLI's own grammar, sent to the
    /// running node as the CLI sends it), quietly; returns what the CLI would print (standard
    /// output, then standard error).
    fn call(&self, node: usize, args: &[&str]) -> Result<String> {
        use clap::Parser;
        let data_dir = self.root.join(&self.dirs[node]).display().to_string();
        let line = ["maillage", "--data-dir", data_dir.as_str()]
            .into_iter()
            .chain(args.iter().copied());
        let cli = crate::command::Cli::try_parse_from(line).with_context(|| {
            tr!(
                "la commande de la démonstration {args:?}",
                "the demo's command {args:?}"
            )
        })?;
        let rendered = match &cli.command {
            // Drawn by the CLI itself, as a desk would.
            crate::command::Command::Person(crate::command::PersonCommand::New { json }) => {
                let mut rendered = crate::render::Rendered::default();
                crate::render::person_code(
                    &mut rendered.stdout,
                    &mut rendered.stderr,
                    &maillage_app::new_person(),
                    *json,
                )?;
                rendered
            }
            command => {
                let answer = crate::admin::call(&self.commands[node], command.request()?)?;
                crate::render::answer(command, answer)?
            }
        };
        if rendered.code != 0 {
            let (dir, line, code) = (&self.dirs[node], args.join(" "), rendered.code);
            let output = format!("{}{}", rendered.stdout, rendered.stderr);
            let output = output.trim();
            bail!(
                "{}",
                tr!(
                    "`maillage --data-dir {dir} {line}` a échoué (code {code}) : {output}",
                    "`maillage --data-dir {dir} {line}` failed (exit {code}): {output}"
                )
            );
        }
        Ok(rendered.stdout + &rendered.stderr)
    }

    /// Runs a command and shows it with its output.
    fn cmd(&self, node: usize, args: &[&str]) -> Result<String> {
        println!(
            "   $ maillage --data-dir {} {}",
            self.dirs[node],
            shell_words(args)
        );
        let out = self.call(node, args)?;
        for line in out.lines() {
            println!("     {line}");
        }
        Ok(out)
    }

    fn json(&self, node: usize, args: &[&str]) -> Result<serde_json::Value> {
        let out = self.call(node, args)?;
        serde_json::from_str(&out).with_context(|| {
            tr!(
                "lecture de la sortie de {args:?}",
                "reading the output of {args:?}"
            )
        })
    }

    fn events(&self, node: usize) -> Result<u64> {
        Ok(self.json(node, &["status", "--json"])?["events_stored"]
            .as_u64()
            .unwrap_or_default())
    }

    fn digest(&self, node: usize) -> Result<(String, u64)> {
        let digest = self.json(node, &["digest", "--json"])?["digest"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        Ok((digest, self.events(node)?))
    }

    /// Waits until `nodes` hold the same events and digest; returns how long it took.
    fn converge(&self, nodes: &[usize]) -> Result<Duration> {
        let started = Instant::now();
        loop {
            let states = nodes
                .iter()
                .map(|&n| self.digest(n))
                .collect::<Result<Vec<_>>>()?;
            if states.windows(2).all(|w| w[0] == w[1]) {
                return Ok(started.elapsed());
            }
            if started.elapsed() > PATIENCE {
                let lines: Vec<String> = nodes
                    .iter()
                    .zip(&states)
                    .map(|(&n, (d, e))| {
                        let name = &self.names[n];
                        tr!(
                            "{name} : {e} événements, empreinte {d}",
                            "{name}: {e} events, digest {d}"
                        )
                    })
                    .collect();
                let lines = lines.join("\n");
                bail!(
                    "{}",
                    tr!(
                        "les nœuds n'ont pas convergé en {PATIENCE:?} :\n{lines}",
                        "the nodes did not converge within {PATIENCE:?}:\n{lines}"
                    )
                );
            }
            std::thread::sleep(Duration::from_millis(25));
        }
    }

    /// Shows how fast the last events reached everyone.
    fn replicated(&self, nodes: &[usize]) -> Result<()> {
        let took = self.converge(nodes)?;
        let who = if nodes.len() == self.names.len() {
            t("tous les nœuds", "every node").to_string()
        } else {
            nodes
                .iter()
                .map(|&n| self.names[n].as_str())
                .collect::<Vec<_>>()
                .join(", ")
        };
        let ms = took.as_millis();
        println!(
            "     {}",
            tr!(
                "(répliqué vers {who} en {ms} ms)",
                "(replicated to {who} in {ms} ms)"
            )
        );
        Ok(())
    }

    fn where_to_look(&self, person: &str) {
        say(t("Où regarder :", "Where to look:"));
        let (observer, all) = (&self.http[OBSERVER], self.http.join(", "));
        println!(
            "   {}",
            tr!(
                "Le tableau de bord national (celui de l'observateur) : http://{observer}/",
                "The national dashboard (the observer's):  http://{observer}/"
            )
        );
        println!(
            "   {}",
            tr!(
                "L'état de la réplication :                            http://{observer}/federation",
                "Replication health:                       http://{observer}/federation"
            )
        );
        println!(
            "   {}",
            tr!(
                "Les métriques Prometheus de chaque nœud :             http://ADRESSE/metrics ({all})",
                "Prometheus metrics of each node:          http://ADDRESS/metrics ({all})"
            )
        );
        println!("\n   {}", t("Répertoires de données :", "Data dirs:"));
        for (name, dir) in self.names.iter().zip(&self.dirs) {
            println!("   {:<28} {}", name, self.root.join(dir).display());
        }
        println!(
            "\n   {}",
            t(
                "Pendant que la fédération tourne, dans un autre terminal :",
                "While the federation runs, in another terminal:"
            )
        );
        println!("   cd {}", self.root.display());
        println!("   maillage --data-dir {OBSERVER_DIR} status");
        // A carnet code may end in a check character a shell would expand (`*`, `$`).
        println!(
            "   maillage --data-dir {OBSERVER_DIR} parcours {}",
            shell_words(&[person])
        );
        println!("   maillage --data-dir {OBSERVER_DIR} stats");
        println!("   maillage --data-dir nouvelle-aquitaine venues search barbezieux");
        println!(
            "   {}",
            t(
                "(Après Ctrl-C, les répertoires de données restent : `maillage --data-dir hub-du-sud serve` redémarre un nœud.)",
                "(After Ctrl-C the data dirs stay: `maillage --data-dir hub-du-sud serve` restarts a node.)"
            )
        );
    }

    /// Stops every node (links, servers; views saved) and reports the first failure.
    fn stop(self) -> Result<()> {
        let _ = self.stop.send(true);
        let mut first = Ok(());
        for (handle, dir) in self.daemons.into_iter().zip(&self.dirs) {
            let result = match self.runtime.block_on(handle) {
                Ok(result) => result,
                Err(error) => Err(anyhow::anyhow!("{error}")),
            };
            if let Err(error) = result
                && first.is_ok()
            {
                first = Err(error.context(tr!("nœud {dir}", "node {dir}")));
            }
        }
        first
    }
}

/// The dashboard's address a serving node wrote in its `serve.addr` (`http ADDR`).
fn http_address(data_dir: &DataDir) -> Option<String> {
    std::fs::read_to_string(data_dir.serve_addr_path())
        .ok()?
        .lines()
        .find_map(|l| l.strip_prefix("http ").map(|a| a.trim().to_string()))
}

/// Arguments as a person would type them in a shell.
fn shell_words(args: &[&str]) -> String {
    args.iter()
        .map(|a| {
            if a.is_empty()
                || a.contains(|c: char| c.is_whitespace() || "'\"$`\\;&|<>()*?".contains(c))
            {
                format!("\"{}\"", a.replace('"', "\\\""))
            } else {
                a.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

fn say(text: &str) {
    println!("\n{text}");
}
