//! An opened node: key, charter, store, and the writing end of its own feed.

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result, bail};
use maillage_core::causal::Offer;
use maillage_core::{
    Charter, EventRef, FeedWriter, HubId, Ledger, Role, SecretKey, VerifiedEvent, pb,
};
use maillage_store::{EventStore, SledStore};

use crate::datadir::{DataDir, NodeConfig};

/// Own events are signed and made durable in batches of this many.
pub const APPEND_BATCH_EVENTS: usize = 1024;

/// A node opened from its data directory.
#[derive(Debug)]
pub struct Node {
    /// Where it lives.
    pub data_dir: DataDir,
    /// `node.toml`.
    pub config: NodeConfig,
    /// The federation.
    pub charter: Arc<Charter>,
    /// The event store (chains checked on open); shared with replication when serving.
    pub store: Arc<SledStore>,
    secret: SecretKey,
    /// The view snapshot, decoded while the store was being checked (taken by the first
    /// [`Node::ledger`] call).
    preloaded: std::sync::Mutex<Option<Ledger>>,
    /// Held while signing and appending own events: two writers in one process (a command run
    /// by the daemon and a transfer a peer asked for) must not both sign the next seq.
    author_lock: std::sync::Mutex<()>,
    /// When the node is serving: the views kept up to date by replication. [`Node::ledger`]
    /// then folds what is new into them and lends them.
    live: std::sync::OnceLock<Arc<std::sync::Mutex<Ledger>>>,
    /// Own events signed and made durable by this process (the `/metrics` counter).
    appended: std::sync::atomic::AtomicU64,
}

/// The views a command reads: a serving node's live views, borrowed under their lock (no
/// copy, so a query costs what it reads; replication waits meanwhile), or views folded from
/// the data dir for this command alone.
#[derive(Debug)]
pub enum Views<'a> {
    /// A serving node's views, locked until dropped.
    Live(std::sync::MutexGuard<'a, Ledger>),
    /// Views folded for this command.
    Owned(Box<Ledger>),
}

impl std::ops::Deref for Views<'_> {
    type Target = Ledger;

    fn deref(&self) -> &Ledger {
        match self {
            Views::Live(guard) => guard,
            Views::Owned(ledger) => ledger,
        }
    }
}

impl Drop for Views<'_> {
    fn drop(&mut self) {
        if matches!(self, Views::Live(_)) {
            HOLDING_VIEWS.with(|h| h.set(false));
        }
    }
}

thread_local! {
    /// Set while this thread holds the live views: asking for them again would wait on itself.
    static HOLDING_VIEWS: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
    /// The node a running daemon lends to the commands it executes for the CLI.
    static SHARED: std::cell::RefCell<Option<Arc<Node>>> = const { std::cell::RefCell::new(None) };
}

/// The first bytes of `views.bin`.
const SNAPSHOT_MAGIC: &[u8; 16] = b"MAILLAGE-VIEWS\0\x02";
/// Domain of the snapshot's checksum.
const SNAPSHOT_CHECKSUM_TAG: &[u8] = b"maillage/views-snapshot\0";

/// `views.bin`: a header, the SHA-256 of the encoded views (which name every event they
/// applied, per feed: the log position they reflect), then the encoded views. A snapshot that
/// fails its checksum is never loaded; the views are rebuilt from the log.
pub fn encode_snapshot(ledger: &Ledger) -> Result<Vec<u8>> {
    use sha2::Digest;
    let body = ledger.to_snapshot().map_err(anyhow::Error::msg)?;
    let checksum = sha2::Sha256::new()
        .chain_update(SNAPSHOT_CHECKSUM_TAG)
        .chain_update(&body)
        .finalize();
    let mut bytes = Vec::with_capacity(SNAPSHOT_MAGIC.len() + 32 + body.len());
    bytes.extend_from_slice(SNAPSHOT_MAGIC);
    bytes.extend_from_slice(&checksum);
    bytes.extend_from_slice(&body);
    Ok(bytes)
}

/// Decodes `views.bin`, checking its header and checksum first.
pub fn decode_snapshot(charter: Arc<Charter>, bytes: &[u8]) -> Result<Ledger, String> {
    use sha2::Digest;
    let header = SNAPSHOT_MAGIC.len() + 32;
    if bytes.len() < header || &bytes[..SNAPSHOT_MAGIC.len()] != SNAPSHOT_MAGIC {
        return Err("not a views snapshot of this format".into());
    }
    let (checksum, body) = bytes[SNAPSHOT_MAGIC.len()..].split_at(32);
    let actual = sha2::Sha256::new()
        .chain_update(SNAPSHOT_CHECKSUM_TAG)
        .chain_update(body)
        .finalize();
    if actual.as_slice() != checksum {
        return Err("checksum mismatch: the file was damaged".into());
    }
    Ledger::from_snapshot(charter, body)
}

/// Milliseconds since the Unix epoch, from the system clock.
pub fn wall_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

impl Node {
    /// Opens an initialised data directory, checking every stored chain.
    pub fn open(data_dir: DataDir) -> Result<Self> {
        data_dir.require_initialised()?;
        let secret = data_dir.read_key()?;
        let config = data_dir.read_config()?;
        let charter = Arc::new(data_dir.read_charter()?);
        if charter.member(&secret.hub_id()).is_none() {
            bail!(
                "this node's key {} is not a member of federation {:?} ({}): the charter in {} was made without it",
                secret.hub_id(),
                charter.name(),
                charter.federation_id().short(),
                data_dir.charter_path().display()
            );
        }
        // Checking every chain of the store and decoding the view snapshot are independent:
        // do both at once.
        let views_path = data_dir.views_path();
        let (store, preloaded) = std::thread::scope(|scope| {
            let decoder = scope.spawn(|| {
                let bytes = std::fs::read(&views_path).ok()?;
                match decode_snapshot(charter.clone(), &bytes) {
                    Ok(ledger) => Some(ledger),
                    Err(reason) => {
                        tracing::warn!(path = %views_path.display(), %reason, "view snapshot unusable: the views will be rebuilt from the log");
                        None
                    }
                }
            });
            let store = SledStore::open_path(&data_dir.store_path(), charter.clone());
            (store, decoder.join().ok().flatten())
        });
        let store = store.map_err(|error| {
            let locked = error.to_string().contains("lock");
            anyhow::Error::new(error).context(if locked {
                format!(
                    "opening the store in {}: another process holds it (a `maillage serve` on this data dir? its address is in {})",
                    data_dir.store_path().display(),
                    data_dir.serve_addr_path().display()
                )
            } else {
                format!("opening the store in {}", data_dir.store_path().display())
            })
        })?;
        Ok(Self {
            data_dir,
            config,
            charter,
            store: Arc::new(store),
            secret,
            preloaded: std::sync::Mutex::new(preloaded),
            author_lock: std::sync::Mutex::new(()),
            live: std::sync::OnceLock::new(),
            appended: std::sync::atomic::AtomicU64::new(0),
        })
    }

    /// The node for a command: the one a running daemon lent to this thread, or the data
    /// dir opened now.
    pub fn open_shared(data_dir: DataDir) -> Result<Arc<Self>> {
        if let Some(node) = SHARED.with(|s| s.borrow().clone()) {
            return Ok(node);
        }
        Ok(Arc::new(Self::open(data_dir)?))
    }

    /// Runs `f` with `node` lent to the commands it runs on this thread.
    pub fn lend<R>(node: &Arc<Self>, f: impl FnOnce() -> R) -> R {
        let previous = SHARED.with(|s| s.borrow_mut().replace(node.clone()));
        let result = f();
        SHARED.with(|s| *s.borrow_mut() = previous);
        result
    }

    /// Makes `ledger` the node's live views (the daemon keeps them folded).
    pub fn set_live(&self, ledger: Arc<std::sync::Mutex<Ledger>>) {
        let _ = self.live.set(ledger);
    }

    /// The live views, when serving.
    pub fn live(&self) -> Option<&Arc<std::sync::Mutex<Ledger>>> {
        self.live.get()
    }

    /// A copy of this node's key (replication signs handshakes with it).
    pub fn secret(&self) -> SecretKey {
        SecretKey::from_seed(&self.secret.seed())
    }

    /// Own events this process signed and made durable (commands it ran, claims it answered,
    /// transfers peers asked for).
    pub fn events_appended(&self) -> u64 {
        self.appended.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// This node's identity.
    pub fn id(&self) -> HubId {
        self.secret.hub_id()
    }

    /// The node's charter entry.
    pub fn member(&self) -> Result<&maillage_core::Member> {
        self.charter
            .member(&self.id())
            .context("this node is not in the charter")
    }

    /// Signs and durably appends own events, in batches; `progress(done)` after each batch.
    /// Returns the events once all are durable. Observers refuse.
    pub fn author(
        &self,
        bodies: Vec<pb::event::Body>,
        progress: &mut dyn FnMut(usize),
    ) -> Result<Vec<VerifiedEvent>> {
        self.author_with_deps(bodies, Vec::new(), progress)
    }

    /// Signs and appends one domain event whose causal past is everything this node holds:
    /// its deps are the heads of every other feed, so the rules see what the author saw.
    pub fn author_seen(&self, body: pb::event::Body) -> Result<VerifiedEvent> {
        let deps = self.store.causal_past(&self.id());
        let mut events = self.author_with_deps(vec![body], deps, &mut |_| {})?;
        events.pop().context("no event was authored")
    }

    /// Signs and appends events; the first carries `deps`.
    pub fn author_with_deps(
        &self,
        bodies: Vec<pb::event::Body>,
        mut deps: Vec<EventRef>,
        progress: &mut dyn FnMut(usize),
    ) -> Result<Vec<VerifiedEvent>> {
        if self.member()?.role != Role::Hub {
            bail!("this node is an observer (a read replica): observers author no events");
        }
        let _writer = self
            .author_lock
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(damage) = self.store.damaged().get(&self.id()) {
            bail!(
                "this node's own feed is damaged on disk from seq {} (up to seq {}): it signed those events once and waits for its peers to send them back before signing anything new (start `maillage serve` with peers; `maillage status` shows progress). Cause: {}",
                damage.from_seq,
                damage.held_until,
                damage.reason
            );
        }
        let seed = self.secret.seed();
        let hlcs = self.store.head_hlcs();
        let me = self.id();
        // The own feed goes on after its own last value; other members' values are taken in
        // only within the bound (a member dated in the future does not drag this clock along).
        let mut writer = FeedWriter::new(
            SecretKey::from_seed(&seed),
            self.charter.federation_id(),
            self.store.head(&me),
            hlcs.get(&me).copied().unwrap_or(0),
            self.config.clock_max_ahead_ms,
        );
        let wall = wall_ms();
        for (author, hlc) in &hlcs {
            if *author != me {
                let _ = writer.clock_mut().observe(*hlc, wall);
            }
        }
        let ahead_ms = writer.clock_mut().ahead_ms(wall);
        if ahead_ms > self.config.clock_max_ahead_ms {
            tracing::warn!(
                ahead_ms,
                "this node's own feed is dated ahead of this machine's clock (was the clock set back?): its events go on from its last value"
            );
        }
        let mut done = Vec::with_capacity(bodies.len());
        let mut bodies = bodies.into_iter().peekable();
        while bodies.peek().is_some() {
            let mut batch = Vec::with_capacity(APPEND_BATCH_EVENTS);
            for body in bodies.by_ref().take(APPEND_BATCH_EVENTS) {
                batch.push(writer.next(body, std::mem::take(&mut deps), wall_ms())?);
            }
            if let Err(e) = self.store.append_own(&batch) {
                writer.rewind(self.store.head(&self.id()));
                return Err(e).context("appending own events");
            }
            self.appended
                .fetch_add(batch.len() as u64, std::sync::atomic::Ordering::Relaxed);
            done.extend(batch);
            progress(done.len());
        }
        Ok(done)
    }

    /// Every valid stored event, feed by feed (authors ascending, seq ascending).
    pub fn for_each_event(&self, mut f: impl FnMut(&VerifiedEvent) -> Result<()>) -> Result<()> {
        for author in self.store.frontier().keys() {
            let mut after = 0;
            loop {
                let events = self.store.range(author, after, 4096)?;
                let Some(last) = events.last() else { break };
                after = last.seq;
                for event in &events {
                    f(event)?;
                }
            }
        }
        Ok(())
    }

    /// The views. A serving node folds what was stored since into its live views and lends
    /// them, locked, until the returned [`Views`] is dropped: hold them only while reading,
    /// never across signing, a peer call or a wait for replication (asking for them twice on
    /// one thread is refused rather than left to wait on itself). Otherwise: the persisted
    /// snapshot (`views.bin`) if it still matches the store, plus every event stored since,
    /// feeds read round-robin so that events waiting for another feed's events wait briefly;
    /// the snapshot is rewritten when anything new was folded.
    pub fn ledger(&self) -> Result<Views<'_>> {
        if self.live.get().is_some() {
            return self.serving_views();
        }
        self.ledger_from_disk().map(|l| Views::Owned(Box::new(l)))
    }

    /// A serving node's live views, with what was stored since folded in, lent as by
    /// [`Node::ledger`]; an error if the node is not serving.
    pub fn serving_views(&self) -> Result<Views<'_>> {
        let live = self
            .live
            .get()
            .context("this node is not serving its views")?;
        if HOLDING_VIEWS.with(std::cell::Cell::get) {
            bail!(
                "internal error: this command asked for the live views while already holding them"
            );
        }
        let mut ledger = live.lock().unwrap_or_else(|p| p.into_inner());
        self.fold_new(&mut ledger)?;
        HOLDING_VIEWS.with(|h| h.set(true));
        Ok(Views::Live(ledger))
    }

    /// The views as [`Node::ledger`] finds them, as a copy the caller owns (a serving node
    /// copies its live views: linear in their size, so only for callers that keep them).
    pub fn ledger_copy(&self) -> Result<Ledger> {
        if self.live.get().is_some() {
            let views = self.ledger()?;
            return Ok(Ledger::clone(&views));
        }
        self.ledger_from_disk()
    }

    fn ledger_from_disk(&self) -> Result<Ledger> {
        let path = self.data_dir.views_path();
        let preloaded = self.preloaded.lock().ok().and_then(|mut p| p.take());
        let snapshot = preloaded
            .or_else(|| {
                let bytes = std::fs::read(&path).ok()?;
                decode_snapshot(self.charter.clone(), &bytes)
                    .map_err(|reason| tracing::warn!(path = %path.display(), %reason, "view snapshot unusable: rebuilding the views from the log"))
                    .ok()
            })
            .filter(|ledger| {
                let matches = self.snapshot_matches_store(ledger);
                if !matches {
                    tracing::info!(path = %path.display(), "view snapshot does not match the store: rebuilding the views from the log");
                }
                matches
            });
        let mut ledger = snapshot.unwrap_or_else(|| Ledger::new(self.charter.clone()));
        let before = ledger.applied_count();
        self.fold_new(&mut ledger)?;
        if ledger.applied_count() != before {
            crate::datadir::write_atomic(&path, &encode_snapshot(&ledger)?)
                .with_context(|| format!("saving the views to {}", path.display()))?;
        }
        Ok(ledger)
    }

    /// Saves `ledger` as the views snapshot.
    pub fn save_views(&self, ledger: &Ledger) -> Result<()> {
        let path = self.data_dir.views_path();
        crate::datadir::write_atomic(&path, &encode_snapshot(ledger)?)
            .with_context(|| format!("saving the views to {}", path.display()))
    }

    /// Folds every stored event `ledger` has not applied yet, feeds read round-robin so that
    /// events waiting for another feed's events wait briefly.
    pub fn fold_new(&self, ledger: &mut Ledger) -> Result<()> {
        const CHUNK: usize = 1024;
        // Deps past a frozen feed's last valid event count as naming that event.
        for (author, recorded) in self.store.forks() {
            ledger.freeze(author, recorded.fork.seq - 1);
        }
        let applied = ledger.applied();
        let mut cursors: Vec<(HubId, u64)> = self
            .store
            .frontier()
            .keys()
            .map(|a| (*a, applied.get(a).copied().unwrap_or(0)))
            .collect();
        while !cursors.is_empty() {
            let mut next = Vec::with_capacity(cursors.len());
            for (author, after) in cursors {
                let events = self.store.range(&author, after, CHUNK)?;
                let Some(last) = events.last().map(|e| e.seq) else {
                    continue;
                };
                for event in events {
                    if ledger.offer(event) == Offer::BufferFull {
                        anyhow::bail!(
                            "folding the log: more than {} events wait for events this node does not hold",
                            maillage_core::ledger::PENDING_EVENTS_MAX
                        );
                    }
                }
                next.push((author, last));
            }
            cursors = next;
        }
        Ok(())
    }

    /// A snapshot is usable if every event it applied is still the store's valid event at
    /// that position (a fork found since, or a restored backup, makes it stale).
    fn snapshot_matches_store(&self, ledger: &Ledger) -> bool {
        let frontier = self.store.frontier();
        ledger.applied().iter().all(|(author, seq)| {
            frontier.get(author).is_some_and(|head| head.seq >= *seq)
                && self
                    .store
                    .get(author, *seq)
                    .ok()
                    .flatten()
                    .is_some_and(|event| Some(event.id) == ledger.applied_id(author, *seq))
        })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::datadir::ServeConfig;

    fn serving_node(root: &std::path::Path) -> Node {
        let key = SecretKey::from_seed(&[0x31; 32]);
        let charter = Charter::found(
            "Test",
            1,
            vec![maillage_core::MemberSpec {
                key: key.hub_id(),
                name: "Hub du Sud".into(),
                role: Role::Hub,
                territories: vec!["13".into()],
            }],
        )
        .unwrap();
        let data_dir = DataDir::new(root.join("hub"));
        data_dir.create().unwrap();
        data_dir.write_key(&key).unwrap();
        data_dir.write_charter(&charter).unwrap();
        data_dir
            .write_config(&NodeConfig {
                name: "hub".into(),
                clock_max_ahead_ms: 60_000,
                serve: ServeConfig::default(),
            })
            .unwrap();
        let node = Node::open(data_dir).unwrap();
        let views = node.ledger_copy().unwrap();
        node.set_live(Arc::new(std::sync::Mutex::new(views)));
        node
    }

    #[test]
    fn live_views_are_lent_once_per_thread_and_given_back_on_drop() {
        let root = tempfile::tempdir().unwrap();
        let node = serving_node(root.path());
        let views = node.ledger().unwrap();
        assert!(matches!(views, Views::Live(_)));
        let again = node.ledger().unwrap_err().to_string();
        assert!(again.contains("already holding"), "{again}");
        assert!(node.ledger_copy().is_err());
        drop(views);
        // Given back: this thread and others may borrow them again.
        assert_eq!(node.ledger().unwrap().applied_count(), 0);
        std::thread::scope(|s| {
            s.spawn(|| assert!(node.ledger().is_ok()));
        });
        // What is signed meanwhile is folded into the lent views.
        node.author(
            vec![pb::event::Body::PersonForgotten(pb::PersonForgotten {
                person: vec![7; 16],
            })],
            &mut |_| {},
        )
        .unwrap();
        assert_eq!(node.ledger().unwrap().applied_count(), 1);
        assert_eq!(node.ledger_copy().unwrap().applied_count(), 1);
    }
}
