//! An opened node: key, charter, store, the views folded from the store, and the writing end
//! of its own feed.
//!
//! **The views** are one ledger per node, kept behind a lock ([`Node::views`]): the CLI folds
//! them once for a command, the daemon keeps them folded as replication stores events. They
//! are loaded from `views.bin` when it still matches the store (checksummed, every applied
//! event still the store's), else rebuilt from the log.
//!
//! **Signing** ([`Node::sign`], [`Node::sign_all`]) happens with the views held: each event is
//! judged by the core's rules against them first ([`Ledger::evaluate`]), with the deps and
//! clock value it will carry, and only what the rules accept is signed; what is signed is
//! folded into the views at once, so the next event is judged with it. An honest node never
//! signs an event its own views reject, and never signs a position of its feed twice.
//!
//! **Personal parts** the views drop are erased from the store right after the fold that
//! dropped them ([`Node::fold_new`]) when an erasure dropped them; parts past retention (and
//! those of rejected events) are gathered for up to ten minutes, or until they are a quarter
//! of the parts kept, and erased together (each erasure rewrites the parts file), and all of
//! them when the node stops.
//!
//! Size: the views, the signing path and the erasure of personal parts share the node's locks
//! and are kept together; a fifth of the file is their tests.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use maillage_core::causal::Offer;
use maillage_core::lang::t;
use maillage_core::ledger::Evaluation;
use maillage_core::tr;
use maillage_core::{
    Charter, EventId, FeedWriter, HubId, Ledger, Role, SecretKey, VerifiedEvent, pb,
};
use maillage_store::{EventStore, SledStore};

use crate::clock::{Clock, SystemClock};
use crate::datadir::{DataDir, NodeConfig};
use crate::error::{AppError, Context, ErrorKind, Result};
use crate::gate::AuthoringGate;
use crate::locks::lock;
use crate::views_file;

/// Own events are made durable in batches of this many (one sync each).
pub const APPEND_BATCH_EVENTS: usize = 1024;

/// Free space a views snapshot leaves untouched while it is written (the old file stays until
/// the new one replaces it): room for the log's appends.
const VIEWS_FREE_SPACE_MARGIN: u64 = 8 << 20;

/// An open whose steps take this long (seconds) logs how long each took: what a reopen of
/// millions of events waits for.
const SLOW_OPEN_S: f64 = 2.0;

/// Parts past retention (§5c) wait to be erased together until they are a quarter of the parts
/// kept, or for ten minutes of this node's clock: erasing rewrites the parts file whole, and a
/// decade's history caught up day by day would otherwise rewrite it once for each day that
/// passes. An erasure (`PersonForgotten`) is carried out at once, with whatever waits.
const EXPIRED_SHARE: usize = 4;
/// See [`EXPIRED_SHARE`].
const EXPIRED_WAIT_MS: u64 = 10 * 60 * 1000;

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
    /// The views: `None` until first asked for (loading them costs a snapshot read and a fold
    /// of what was stored since).
    views: Mutex<Option<Ledger>>,
    /// The snapshot decoded while the store was being checked, for the first load: `None` if
    /// there was no file to read, `Some(None)` if it was refused (it is not read again).
    preloaded: Mutex<Option<Option<Ledger>>>,
    /// Events the views had applied when they were last saved.
    saved: AtomicU64,
    /// When parts past retention were last erased (this node's clock; its start at first).
    expired_erased_ms: AtomicU64,
    /// Held while signing and appending own events: two writers in one process (a command and
    /// a transfer a peer asked for) never sign the same seq.
    author_lock: Mutex<()>,
    /// Own events signed and made durable by this process (the `/metrics` counter).
    appended: AtomicU64,
    /// Wall time.
    clock: Arc<dyn Clock>,
    /// Whether this node may sign yet (see [`crate::gate`]): open for a node working alone;
    /// a serving node with peers closes it until a peer confirmed its own feed.
    gate: Mutex<Arc<AuthoringGate>>,
}

/// The views, held: replication and other commands wait while they are. Hold them only while
/// reading or signing, never across a call to a peer.
#[derive(Debug)]
pub struct Views<'a>(MutexGuard<'a, Option<Ledger>>);

impl std::ops::Deref for Views<'_> {
    type Target = Ledger;

    fn deref(&self) -> &Ledger {
        // Set by `Node::views` before a `Views` is made.
        self.0.as_ref().unwrap_or_else(|| unreachable!())
    }
}

impl std::ops::DerefMut for Views<'_> {
    fn deref_mut(&mut self) -> &mut Ledger {
        self.0.as_mut().unwrap_or_else(|| unreachable!())
    }
}

impl Node {
    /// Opens an initialised data directory, checking every stored chain, with the system's
    /// clock.
    pub fn open(data_dir: DataDir) -> Result<Self> {
        Self::open_with_clock(data_dir, Arc::new(SystemClock))
    }

    /// Opens an initialised data directory with `clock`.
    pub fn open_with_clock(data_dir: DataDir, clock: Arc<dyn Clock>) -> Result<Self> {
        data_dir.require_initialised()?;
        let secret = data_dir.read_key()?;
        let config = data_dir.read_config()?;
        let charter = Arc::new(data_dir.read_charter()?);
        if charter.member(&secret.hub_id()).is_none() {
            // A key the founding charter does not name may be one an amendment admits (or will
            // admit): the node replicates and folds, and acts once its admission is in effect.
            tracing::info!(
                key = %secret.hub_id(),
                federation = %charter.federation_id().short(),
                "this node's key is not in the founding charter: it acts once an amendment admitting it is folded (maillage federation show)"
            );
        }
        // Checking every chain of the store and decoding the view snapshot are independent:
        // the store runs the decoding of each section of the views on one of its threads, the
        // first jobs, while the others check the chains.
        let views = views_file::SideRead::new(charter.clone(), data_dir.views_path());
        let started = std::time::Instant::now();
        let store =
            SledStore::open_path_beside(&data_dir.store_path(), charter.clone(), views.jobs());
        let checked_s = started.elapsed().as_secs_f64();
        match &store {
            Ok(store) if store.opened_sealed() => tracing::info!(
                checked_s,
                "store opened: unchanged since its last write, each feed's head checked"
            ),
            Ok(_) if checked_s >= SLOW_OPEN_S => {
                tracing::info!(checked_s, "store opened, every chain checked")
            }
            _ => {}
        }
        let preloaded = views.finish(SLOW_OPEN_S);
        let store = store.map_err(|error| {
            let locked = error.to_string().contains("lock");
            if locked {
                let (store, socket) = (
                    data_dir.store_path().display().to_string(),
                    data_dir.root().join("run/admin.sock").display().to_string(),
                );
                AppError::unavailable(tr!(
                    "ouverture du stockage dans {store} : un autre processus le tient (un `maillage serve` sur ce répertoire de données ? sa socket de commande est {socket})",
                    "opening the store in {store}: another process holds it (a `maillage serve` on this data dir? its command socket is {socket})"
                ))
            } else {
                let store = data_dir.store_path().display().to_string();
                AppError::from(error).context(tr!(
                    "ouverture du stockage dans {store}",
                    "opening the store in {store}"
                ))
            }
        })?;
        Ok(Self {
            data_dir,
            config,
            charter,
            store: Arc::new(store),
            secret,
            views: Mutex::new(None),
            preloaded: Mutex::new(preloaded),
            saved: AtomicU64::new(u64::MAX),
            expired_erased_ms: AtomicU64::new(clock.now_ms()),
            author_lock: Mutex::new(()),
            appended: AtomicU64::new(0),
            clock,
            gate: Mutex::new(Arc::new(AuthoringGate::open_for("working alone"))),
        })
    }

    /// The clock.
    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.clock
    }

    /// Whether this node may ever sign now, gate aside: a hub (observers sign nothing) whose
    /// own feed is not damaged on disk.
    pub fn may_sign(&self) -> Result<()> {
        if self.member()?.role != Role::Hub {
            return Err(AppError::forbidden(t(
                "ce nœud est un observateur (une réplique en lecture) : les observateurs ne signent aucun événement",
                "this node is an observer (a read replica): observers sign no events",
            )));
        }
        if let Some(damage) = self.store.damaged().get(&self.id()) {
            let (from, until, reason) = (damage.from_seq, damage.held_until, &damage.reason);
            return Err(AppError::unavailable(tr!(
                "le propre flux de ce nœud est abîmé sur le disque à partir de la position {from} (jusqu'à la position {until}) : il a signé ces événements une fois et attend que ses pairs les lui renvoient avant de signer quoi que ce soit de nouveau (lancez `maillage serve` avec des pairs ; `maillage status` montre l'avancement). Cause : {reason}",
                "this node's own feed is damaged on disk from seq {from} (up to seq {until}): it signed those events once and waits for its peers to send them back before signing anything new (start `maillage serve` with peers; `maillage status` shows progress). Cause: {reason}"
            )));
        }
        Ok(())
    }

    /// Whether this node may sign yet.
    pub fn gate(&self) -> Arc<AuthoringGate> {
        lock(&self.gate).clone()
    }

    /// Puts a gate in front of signing (a serving node: closed until a peer confirmed its
    /// own feed; the CLI on a hub with peers and no daemon: closed for good).
    pub fn set_gate(&self, gate: Arc<AuthoringGate>) {
        *lock(&self.gate) = gate;
    }

    /// A copy of this node's key (replication signs handshakes with it).
    pub fn secret(&self) -> SecretKey {
        SecretKey::from_seed(&self.secret.seed())
    }

    /// Own events this process signed and made durable.
    pub fn events_appended(&self) -> u64 {
        self.appended.load(Ordering::Relaxed)
    }

    /// This node's identity.
    pub fn id(&self) -> HubId {
        self.secret.hub_id()
    }

    /// The node's charter entry. A key an amendment admitted (a hub that joined, a rotated
    /// key) is known to the charter once the views that fold the amendment are read: they are
    /// read first if they were not.
    pub fn member(&self) -> Result<&maillage_core::Member> {
        if self.charter.member(&self.id()).is_none() {
            let unread = self.views.try_lock().is_ok_and(|views| views.is_none());
            if unread {
                drop(self.views()?);
            }
        }
        self.charter.member(&self.id()).ok_or_else(|| {
            let id = self.id();
            AppError::forbidden(tr!(
                "la clé de ce nœud, {id}, n'est pas encore membre de la fédération : un hub propose son admission (`maillage federation propose admit --key {id} …`) et assez de hubs l'approuvent ; ce nœud la replie une fois qu'il a répliqué leurs journaux",
                "this node's key {id} is not a member of the federation yet: a hub proposes its admission (`maillage federation propose admit --key {id} …`) and enough hubs endorse it; this node folds it once it replicates their logs"
            ))
        })
    }

    /// The views, with every event stored since folded in, held until dropped.
    pub fn views(&self) -> Result<Views<'_>> {
        let mut views = self.loaded_views()?;
        self.fold_new(&mut views)?;
        Ok(views)
    }

    /// The views with `events` (just stored) folded in first, then anything else stored
    /// since: what replication calls after each batch, without reading the batch back.
    pub fn views_with(&self, events: Vec<VerifiedEvent>) -> Result<Views<'_>> {
        let mut views = self.loaded_views()?;
        for event in events {
            if views.offer(event) == Offer::BufferFull {
                // It is in the store: the fold below finds it again.
                break;
            }
        }
        self.fold_new(&mut views)?;
        Ok(views)
    }

    /// The views, loaded (from the snapshot or the log) the first time, nothing folded since.
    fn loaded_views(&self) -> Result<Views<'_>> {
        let mut guard = lock(&self.views);
        if guard.is_none() {
            let (ledger, saved) = self.load_views()?;
            self.saved.store(saved, Ordering::Relaxed);
            self.erase_stale_parts(&ledger)?;
            *guard = Some(ledger);
        }
        Ok(Views(guard))
    }

    /// Runs `f` on the views as they are, without folding what was stored since (`None`
    /// before they are first loaded): for watching progress cheaply.
    pub fn peek<T>(&self, f: impl FnOnce(&Ledger) -> T) -> Option<T> {
        lock(&self.views).as_ref().map(f)
    }

    /// A copy of the views (for work that must not hold them: an export while replication
    /// goes on). Linear in their size.
    pub fn views_copy(&self) -> Result<Ledger> {
        let views = self.views()?;
        Ok(Ledger::clone(&views))
    }

    /// Throws the views away and folds them again from the store (after a failed write left
    /// them ahead of it).
    pub fn refold(&self, views: &mut Ledger) -> Result<()> {
        let mut fresh = Ledger::new(self.charter.clone());
        // Keys amendments stopped stay stopped from the first event on.
        for (key, cut) in views.cuts() {
            fresh.cut(*key, *cut);
        }
        self.fold_new(&mut fresh)?;
        *views = fresh;
        Ok(())
    }

    /// The snapshot if it still matches the store, plus what was stored since; and the
    /// applied count the snapshot had.
    fn load_views(&self) -> Result<(Ledger, u64)> {
        let path = self.data_dir.views_path();
        // The open's attempt stands, refused or not: a refused file is not decoded again.
        let preloaded = lock(&self.preloaded).take();
        let snapshot = preloaded
            .unwrap_or_else(|| {
                let mut file = std::fs::File::open(&path).ok()?;
                views_file::read(self.charter.clone(), &mut file)
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
        let (ledger, saved) = match snapshot {
            Some(ledger) => {
                let count = ledger.applied_count();
                (ledger, count)
            }
            None => (Ledger::new(self.charter.clone()), u64::MAX),
        };
        Ok((ledger, saved))
    }

    /// Saves the views as `views.bin` if they changed since they were last loaded or saved.
    pub fn save_views(&self) -> Result<()> {
        let guard = lock(&self.views);
        let Some(ledger) = guard.as_ref() else {
            return Ok(());
        };
        if ledger.applied_count() == self.saved.load(Ordering::Relaxed) {
            return Ok(());
        }
        let path = self.data_dir.views_path();
        // The snapshot only saves time at the next start (the views are rebuilt from the log
        // without it): on a disk short of space the log's appends come first. The new file
        // is about the size of the last one; free space is checked again every 64 MiB.
        let expected = std::fs::metadata(&path).map_or(0, |m| m.len());
        let root = self.data_dir.root().to_path_buf();
        let short_of_space = |needed: u64| {
            crate::datadir::filesystem_space(&root)
                .filter(|(_, free)| *free < needed)
                .map(|(_, free)| free)
        };
        let mut short = short_of_space(expected + VIEWS_FREE_SPACE_MARGIN);
        let mut checked_at = 0u64;
        if short.is_none() {
            let written = crate::datadir::write_atomic_with(&path, |file| {
                views_file::write(ledger, file, &mut |written| {
                    if written >= checked_at + (64 << 20) {
                        checked_at = written;
                        short = short_of_space(VIEWS_FREE_SPACE_MARGIN);
                        if short.is_some() {
                            return Err(std::io::Error::other("the disk is short of space"));
                        }
                    }
                    Ok(())
                })
            });
            if short.is_none() {
                written.with_context(|| {
                    let path = path.display();
                    tr!(
                        "enregistrement des vues dans {path}",
                        "saving the views to {path}"
                    )
                })?;
            }
        }
        if let Some(free) = short {
            tracing::warn!(
                free_mib = free >> 20,
                needed_mib = (expected + VIEWS_FREE_SPACE_MARGIN).div_ceil(1 << 20),
                "not saving the views: the disk is short of space (they are rebuilt from the log at the next start)"
            );
            return Ok(());
        }
        self.saved.store(ledger.applied_count(), Ordering::Relaxed);
        Ok(())
    }

    /// Folds every stored event `ledger` has not applied yet, feeds read round-robin so that
    /// events waiting for another feed's events wait briefly.
    pub fn fold_new(&self, ledger: &mut Ledger) -> Result<()> {
        // Deps past a frozen feed's last valid event count as naming that event.
        for (author, recorded) in self.store.forks() {
            ledger.freeze(author, recorded.fork.seq - 1);
        }
        // A feed whose key an amendment admits only further on is folded once it is admitted:
        // rounds go on while one more key joins.
        let mut unknown = usize::MAX;
        loop {
            let strangers = self.fold_round(ledger)?;
            if strangers == 0 || strangers >= unknown {
                break;
            }
            unknown = strangers;
        }
        // An amendment chose the branch of a forked feed that stands: the store serves it again
        // if it holds it.
        let forks = self.store.forks();
        let mut resolved = false;
        for (key, cut) in ledger.cuts() {
            let Some(branch) = cut.branch else { continue };
            if forks
                .get(key)
                .is_some_and(|f| f.resolved != Some((cut.last_seq, branch)))
            {
                match self.store.resolve_fork(key, cut.last_seq, branch) {
                    Ok(true) => resolved = true,
                    Ok(false) => tracing::info!(
                        author = %key.short(),
                        last_seq = cut.last_seq,
                        branch = %branch.short(),
                        "an amendment chose a branch of this forked feed that this node does not hold yet: it takes it from its peers"
                    ),
                    Err(error) => return Err(error.into()),
                }
            }
        }
        // An amendment stopped a key after events past its last seq were applied, or moved a
        // fork's freeze: fold again with the stops set from the first event on.
        if resolved || ledger.needs_refold() {
            tracing::info!(
                "an amendment stopped a key after some of its later events were folded: folding the views again"
            );
            self.refold(ledger)?;
        }
        self.erase_due(ledger)
    }

    /// Erases the parts the views dropped: at once after an erasure; parts past retention
    /// once they are due ([`EXPIRED_SHARE`]).
    fn erase_due(&self, ledger: &mut Ledger) -> Result<()> {
        let (erasures, expired, kept) = ledger.erasures_waiting();
        let now = self.clock.now_ms();
        if erasures == 0 {
            let waited = now.saturating_sub(self.expired_erased_ms.load(Ordering::Relaxed));
            if expired == 0
                || (expired.saturating_mul(EXPIRED_SHARE) < kept && waited < EXPIRED_WAIT_MS)
            {
                return Ok(());
            }
        }
        if expired > 0 {
            self.expired_erased_ms.store(now, Ordering::Relaxed);
        }
        self.erase_parts(ledger.take_erasures())
    }

    /// Erases every part the views dropped now, those past retention that wait included: a
    /// node that stops leaves none of them on disk.
    pub fn erase_waiting(&self) -> Result<()> {
        let mut views = self.views()?;
        self.erase_parts(views.take_erasures())
    }

    /// Closes the store cleanly, the last step of a daemon's stop: it records a fingerprint of
    /// its files, so that the next open, if they did not change, checks each feed's head
    /// instead of re-hashing every event (`Store::seal`).
    pub fn seal_store(&self) -> Result<()> {
        self.store
            .seal()
            .context(t("fermeture du stockage", "closing the store"))
    }

    /// Erases personal parts the views dropped (an erasure, a forgotten person's part arriving
    /// late, links past retention): from the store's files, and the views snapshot, which
    /// may hold the person, is deleted (written again, without them, at the next stop).
    fn erase_parts(&self, events: Vec<EventId>) -> Result<()> {
        if events.is_empty() {
            return Ok(());
        }
        let erased = self.store.erase_personal(&events).context(t(
            "effacement des parties personnelles",
            "erasing personal parts",
        ))?;
        let path = self.data_dir.views_path();
        match std::fs::remove_file(&path) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => {
                let path = path.display();
                return Err(AppError::from(e).context(tr!(
                    "suppression de {path} après un effacement",
                    "removing {path} after an erasure"
                )));
            }
        }
        self.saved.store(u64::MAX, Ordering::Relaxed);
        tracing::info!(
            events = events.len(),
            parts = erased,
            "personal parts erased (an erasure, or links past retention)"
        );
        Ok(())
    }

    /// Parts the store holds that the views say it must not keep (an erasure folded before a
    /// crash, say): erased when the views are first loaded.
    fn erase_stale_parts(&self, ledger: &Ledger) -> Result<()> {
        let stale = self.store.held_personal(&mut ledger.parts_dropped());
        self.erase_parts(stale)
    }

    /// Passes over the stored feeds with something to fold, a few events of each at a time,
    /// until every stored event is offered; how many feeds' keys these views do not know yet.
    ///
    /// A feed's events after one that waits wait too (for their predecessor): a pass reads at
    /// most a quarter of what may wait, shared between the feeds (1,024 events of each up to
    /// 24 feeds, 250 at 100).
    ///
    /// When the views hold as many waiting events as they may, a feed whose next event would
    /// wait too is left where it is and the other feeds go on (their events are what the
    /// waiting ones wait for); it is read again at the next pass. The stored event that
    /// happened first among those not applied has its whole causal past applied, so a pass
    /// always applies something, unless what waits waits for events this node does not hold:
    /// then the fold stops there, and what is left in the store is offered again later.
    fn fold_round(&self, ledger: &mut Ledger) -> Result<usize> {
        // Events waiting in the views (offered by replication before their deps arrived) are
        // not read again.
        let applied = ledger.offered();
        let mut cursors: Vec<(HubId, u64)> = self
            .store
            .frontier()
            .iter()
            .filter(|(author, head)| applied.get(author).copied().unwrap_or(0) < head.seq)
            .map(|(a, _)| (*a, applied.get(a).copied().unwrap_or(0)))
            .collect();
        let chunk = (ledger.pending_max() / (4 * cursors.len().max(1))).clamp(16, 1024);
        let mut strangers = 0;
        while !cursors.is_empty() {
            let mut next = Vec::with_capacity(cursors.len());
            let mut moved = false;
            for (author, after) in cursors {
                if !ledger.knows(&author) {
                    strangers += 1;
                    continue;
                }
                let events = self.store.range(&author, after, chunk)?;
                let mut reached = after;
                let mut full = false;
                for event in events {
                    let seq = event.seq;
                    if ledger.offer(event) == Offer::BufferFull {
                        full = true;
                        break;
                    }
                    reached = seq;
                }
                moved |= reached > after;
                if full || reached > after {
                    next.push((author, reached));
                }
            }
            if !moved {
                if !next.is_empty() {
                    tracing::warn!(
                        waiting = ledger.pending_count(),
                        feeds = next.len(),
                        "folding the log: the events waiting in the views wait for events this node does not hold; the rest of the stored feeds is folded once they come"
                    );
                }
                break;
            }
            cursors = next;
        }
        Ok(strangers)
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

    /// Judges `body` with the rules against `views` and, if they accept it, signs it, makes
    /// it durable and folds it in. Refused: an [`ErrorKind::Rejected`] error with the rule's
    /// reason, and nothing signed.
    pub fn sign(&self, views: &mut Ledger, body: impl Into<Draft>) -> Result<VerifiedEvent> {
        self.sign_relying_on(views, body, &[])
    }

    /// [`Node::sign`] for an event that relies on the latest events of the feeds of
    /// `relies_on` (a redemption on the transfer its owner just signed): their heads are named
    /// in its deps first.
    pub fn sign_relying_on(
        &self,
        views: &mut Ledger,
        body: impl Into<Draft>,
        relies_on: &[HubId],
    ) -> Result<VerifiedEvent> {
        let mut outcomes = self.sign_each(views, vec![body.into()], relies_on, &mut |_| {})?;
        match outcomes.pop() {
            Some(Ok(event)) => Ok(event),
            Some(Err(error)) => Err(error),
            None => Err(AppError::internal(t(
                "aucun événement n'a été signé",
                "no event was signed",
            ))),
        }
    }

    /// [`Node::sign`] for several events, judged one after the other (each with the ones
    /// before it folded in) and made durable in batches; `progress(done)` after each batch.
    /// One outcome per body: the signed event, or why it was not signed.
    pub fn sign_all(
        &self,
        views: &mut Ledger,
        bodies: Vec<impl Into<Draft>>,
        progress: &mut dyn FnMut(usize),
    ) -> Result<Vec<Result<VerifiedEvent>>> {
        let drafts = bodies.into_iter().map(Into::into).collect();
        self.sign_each(views, drafts, &[], progress)
    }

    fn sign_each(
        &self,
        views: &mut Ledger,
        bodies: Vec<Draft>,
        relies_on: &[HubId],
        progress: &mut dyn FnMut(usize),
    ) -> Result<Vec<Result<VerifiedEvent>>> {
        self.may_sign()?;
        // Callers wait for the gate before taking the views (`App::handle`): here it is only
        // checked, never waited for, with the views held.
        let gate = self.gate();
        if !gate.is_open() {
            return Err(AppError::unavailable(gate.closed_because()));
        }
        let me = self.id();
        let _writer = lock(&self.author_lock);
        self.fold_new(views)?;
        let head = self.store.head(&me);
        if views.applied().get(&me).copied().unwrap_or(0) != head.map_or(0, |h| h.seq) {
            return Err(AppError::unavailable(t(
                "les propres événements de ce nœud ne sont pas encore tous repliés dans ses vues (certains attendent des événements d'autres flux) : réessayez dans un instant",
                "this node's own events are not all folded into its views yet (some wait for events of other feeds): try again shortly",
            )));
        }
        // A protocol change in effect moved this hub's feed to a version this release does
        // not implement from a seq it has reached: it signs nothing more (§0).
        let next_seq = head.map_or(1, |h| h.seq + 1);
        if let Some((from_seq, version)) = views
            .membership()
            .switch_above(&me, maillage_core::version::PROTOCOL_VERSION)
            .filter(|(from_seq, _)| next_seq >= *from_seq)
        {
            let ours = maillage_core::version::PROTOCOL_VERSION;
            return Err(AppError::rejected(maillage_core::tr!(
                "la fédération est passée au protocole v{version} : les événements de ce hub le suivent dès la position {from_seq} de son flux (la prochaine est la position {next_seq}), et cette version de maillage signe en v{ours} : mettez maillage à jour vers une version qui met en œuvre la v{version}",
                "the federation moved to protocol v{version}: this hub's events follow it from seq {from_seq} of its feed (its next is seq {next_seq}), and this release signs v{ours}: upgrade maillage to a release that implements v{version}"
            )));
        }
        let hlcs = self.store.head_hlcs();
        // The own feed goes on after its own last value; other members' values are taken in
        // only within the bound (a member dated in the future does not drag this clock along).
        let mut writer = FeedWriter::new(
            self.secret(),
            self.charter.federation_id(),
            head,
            hlcs.get(&me).copied().unwrap_or(0),
            self.config.clock_max_ahead_ms,
        );
        let wall = self.clock.now_ms();
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
        let mut outcomes = Vec::with_capacity(bodies.len());
        let mut pending: Vec<VerifiedEvent> = Vec::new();
        let mut done = 0;
        for Draft { body, personal } in bodies {
            let hlc = writer.next_hlc(self.clock.now_ms());
            let (deps, verdict) = views.plan(me, hlc, &body, relies_on);
            match verdict {
                Evaluation::Accepted => {}
                Evaluation::Rejected(rejection) => {
                    outcomes.push(Err(AppError::rule(&rejection)));
                    continue;
                }
                Evaluation::Invalid(why) => {
                    outcomes.push(Err(AppError::invalid_field("event", why)));
                    continue;
                }
                Evaluation::Waiting => {
                    outcomes.push(Err(AppError::new(
                        ErrorKind::Pending,
                        t(
                            "l'événement s'appuierait sur des événements que les vues de ce nœud n'ont pas appliqués",
                            "the event would rely on events this node's views have not applied",
                        ),
                    )));
                    continue;
                }
            }
            let mut event = writer
                .sign_at(body, deps, hlc)
                .map_err(|e| AppError::invalid_field("event", e.to_string()))?;
            if let Some(part) = personal
                && !event.attach_personal(part)
            {
                let id = event.id.short();
                return Err(AppError::internal(tr!(
                    "événement {id} : sa partie personnelle ne correspond pas à son engagement",
                    "event {id}: its personal part does not match its commitment"
                )));
            }
            // Folded now, so that the next body is judged with it; durable below, before
            // anything is acknowledged.
            if views.offer(event.clone()) != Offer::Applied
                || views.rejections().contains_key(&event.id)
            {
                let id = event.id.short();
                return Err(AppError::internal(tr!(
                    "l'événement {id} a été jugé acceptable mais le repli ne l'a pas appliqué",
                    "event {id} was judged acceptable but the fold did not apply it"
                )));
            }
            pending.push(event.clone());
            outcomes.push(Ok(event));
            if pending.len() >= APPEND_BATCH_EVENTS {
                done += self.append(views, &mut pending)?;
                progress(done);
            }
        }
        if !pending.is_empty() {
            done += self.append(views, &mut pending)?;
            progress(done);
        }
        Ok(outcomes)
    }

    /// Makes `pending` durable; on failure the views, which folded them, are folded again
    /// from the store.
    fn append(&self, views: &mut Ledger, pending: &mut Vec<VerifiedEvent>) -> Result<usize> {
        let count = pending.len();
        if let Err(error) = self.store.append_own(pending) {
            pending.clear();
            self.refold(views)?;
            return Err(AppError::from(error)
                .context(t("ajout des propres événements", "appending own events")));
        }
        pending.clear();
        self.appended.fetch_add(count as u64, Ordering::Relaxed);
        Ok(count)
    }
}

/// A body to sign, with the personal part its commitment names (§2b), if it is about a person.
#[derive(Debug, Clone)]
pub struct Draft {
    /// The domain event.
    pub body: pb::event::Body,
    /// The encoded part (`personal::seal`), attached to the event once signed.
    pub personal: Option<Vec<u8>>,
}

impl From<pb::event::Body> for Draft {
    fn from(body: pb::event::Body) -> Self {
        Self {
            body,
            personal: None,
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::clock::FixedClock;
    use crate::datadir::ServeConfig;

    fn hub(root: &std::path::Path) -> Node {
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
        node_in(root, "hub", &key, &charter)
    }

    /// A batch of one voucher issued by the test hub.
    fn batch_issued() -> pb::event::Body {
        pb::event::Body::VoucherBatchIssued(pb::VoucherBatchIssued {
            batch_id: "13-2026-X".into(),
            funder: Some(pb::Funder {
                name: "CAF".into(),
                siret: "53418890200012".into(),
            }),
            face_value_cents: 1000,
            count: 1,
            valid_from: "2026-01-01".into(),
            valid_until: "2026-12-31".into(),
            redeem_deadline: "2027-01-31".into(),
            ..Default::default()
        })
    }

    /// The node of `key` in `root/name` (created with `charter` the first time), its clock
    /// fixed.
    fn node_in(root: &std::path::Path, name: &str, key: &SecretKey, charter: &Charter) -> Node {
        let clock = Arc::new(FixedClock(1_790_000_000_000));
        node_with_clock(root, name, key, charter, clock)
    }

    /// [`node_in`] with `clock`.
    fn node_with_clock(
        root: &std::path::Path,
        name: &str,
        key: &SecretKey,
        charter: &Charter,
        clock: Arc<dyn Clock>,
    ) -> Node {
        let data_dir = DataDir::new(root.join(name));
        if !data_dir.has_key() {
            data_dir.create().unwrap();
            data_dir.write_key(key).unwrap();
            data_dir.write_charter(charter).unwrap();
            data_dir
                .write_config(&NodeConfig {
                    name: name.into(),
                    clock_max_ahead_ms: 60_000,
                    serve: ServeConfig::default(),
                })
                .unwrap();
        }
        Node::open_with_clock(data_dir, clock).unwrap()
    }

    /// A clock the test moves on.
    #[derive(Debug)]
    struct Moving(AtomicU64);

    impl Clock for Moving {
        fn now_ms(&self) -> u64 {
            self.0.load(Ordering::Relaxed)
        }
    }

    impl Moving {
        fn advance(&self, ms: u64) {
            self.0.fetch_add(ms, Ordering::Relaxed);
        }
    }

    /// Voucher `number` of `batch` handed out to person `number`, with their part.
    fn hand_out_to(batch: &str, number: u8) -> Draft {
        let person = maillage_core::PersonId([number; 16]);
        let (commitment, part) = maillage_core::personal::seal(person, "", [number; 16]).unwrap();
        Draft {
            body: pb::event::Body::VouchersHandedOut(pb::VouchersHandedOut {
                serials: vec![format!("{batch}-{number}")],
                personal: commitment.to_vec(),
                prescriber: Some(pb::Prescriber {
                    kind: "CAF".into(),
                    name: "Accueil".into(),
                }),
                referral_id: String::new(),
                date: "2026-02-01".into(),
            }),
            personal: Some(part),
        }
    }

    /// Parts past retention are gathered, not erased one day at a time as a history is caught
    /// up: a quarter of the parts kept, or ten minutes, and they go together.
    #[test]
    fn parts_past_retention_are_erased_together_when_due() {
        const DAY_MS: u64 = 86_400_000;
        let root = tempfile::tempdir().unwrap();
        let (a, b) = (
            SecretKey::from_seed(&[0x31; 32]),
            SecretKey::from_seed(&[0x32; 32]),
        );
        let member = |key: &SecretKey, name: &str, dep: &str| maillage_core::MemberSpec {
            key: key.hub_id(),
            name: name.into(),
            role: Role::Hub,
            territories: vec![dep.into()],
        };
        let charter = Charter::found(
            "Test",
            1,
            vec![member(&a, "Hub du Sud", "13"), member(&b, "Hinaura", "69")],
        )
        .unwrap();
        // Hinaura hands out 4 vouchers on day 0, 21 on day 100, and signs on day 740: the
        // first 4 parts are past retention (730 days).
        let t0 = 1_790_000_000_000;
        let clock_b = Arc::new(Moving(AtomicU64::new(t0)));
        let hinaura = node_with_clock(root.path(), "hinaura", &b, &charter, clock_b.clone());
        let mut views = hinaura.views().unwrap();
        let mut history = Vec::new();
        let mut batch = batch_issued();
        if let pb::event::Body::VoucherBatchIssued(issued) = &mut batch {
            issued.batch_id = "69-2026-X".into();
            issued.count = 30;
        }
        history.push(hinaura.sign(&mut views, batch.clone()).unwrap());
        for number in 1..=25 {
            if number == 5 {
                clock_b.advance(100 * DAY_MS);
            }
            let draft = hand_out_to("69-2026-X", number);
            history.push(hinaura.sign(&mut views, draft).unwrap());
        }
        clock_b.advance(640 * DAY_MS);
        if let pb::event::Body::VoucherBatchIssued(issued) = &mut batch {
            issued.batch_id = "69-2026-Y".into();
        }
        history.push(hinaura.sign(&mut views, batch.clone()).unwrap());
        drop(views);

        // The Hub du Sud gets the history at once: 4 parts past retention, 21 kept.
        let clock_a = Arc::new(Moving(AtomicU64::new(t0 + 741 * DAY_MS)));
        let sud = node_with_clock(root.path(), "sud", &a, &charter, clock_a.clone());
        sud.store.insert(history.clone()).unwrap();
        let held = || sud.store.personal_events(&|_| true).len();
        assert_eq!(sud.views().unwrap().erasures_waiting(), (0, 4, 21));
        assert_eq!(held(), 25, "4 of 21 wait, for ten minutes");
        clock_a.advance(EXPIRED_WAIT_MS);
        assert_eq!(sud.views().unwrap().erasures_waiting(), (0, 0, 21));
        assert_eq!(held(), 21);

        // Then 21 pass at once (a quarter of the 1 kept, and more): erased without waiting.
        let mut views = hinaura.views().unwrap();
        clock_b.advance(95 * DAY_MS);
        let late = hinaura
            .sign(&mut views, hand_out_to("69-2026-X", 26))
            .unwrap();
        clock_b.advance(5 * DAY_MS);
        if let pb::event::Body::VoucherBatchIssued(issued) = &mut batch {
            issued.batch_id = "69-2026-Z".into();
        }
        let tick = hinaura.sign(&mut views, batch).unwrap();
        drop(views);
        clock_a.advance(100 * DAY_MS);
        sud.store.insert(vec![late.clone(), tick]).unwrap();
        assert_eq!(sud.views().unwrap().erasures_waiting(), (0, 0, 1));
        assert_eq!(sud.store.personal_events(&|_| true), vec![late.id]);
    }

    fn cancel(reason: &str) -> pb::event::Body {
        pb::event::Body::VoucherCancelled(pb::VoucherCancelled {
            serials: vec!["13-2026-X-1".into()],
            reason: reason.into(),
        })
    }

    #[test]
    fn an_event_the_rules_reject_is_never_signed() {
        let root = tempfile::tempdir().unwrap();
        let node = hub(root.path());
        let mut views = node.views().unwrap();
        let error = node.sign(&mut views, cancel("lost")).unwrap_err();
        assert_eq!(error.kind, ErrorKind::Rejected, "{error}");
        assert_eq!(
            error.code.as_deref(),
            Some("voucher.batch_unknown"),
            "{error}"
        );
        assert!(
            error
                .message
                .contains("son lot n'est pas dans le passé causal de l'événement"),
            "{error}"
        );
        assert_eq!(node.store.head(&node.id()), None, "nothing was signed");
        // What the rules accept is signed, durable and folded at once.
        let event = node
            .sign(
                &mut views,
                pb::event::Body::PersonForgotten(pb::PersonForgotten {
                    events: vec![vec![7; 32]],
                }),
            )
            .unwrap();
        assert_eq!(event.seq, 1);
        assert_eq!(views.applied_count(), 1);
        drop(views);
        node.save_views().unwrap();
        drop(node);
        let node = hub(root.path());
        assert_eq!(node.views().unwrap().applied_count(), 1);
    }

    /// A snapshot the open refused is not decoded a second time by the first load (at ten
    /// million events, seconds spent again on a file known to be bad): the views are folded
    /// from the log. Witness: a good snapshot put in its place after the open is not read.
    #[test]
    fn a_snapshot_refused_at_open_is_not_read_again() {
        let root = tempfile::tempdir().unwrap();
        let node = hub(root.path());
        let mut views = node.views().unwrap();
        let issue = batch_issued();
        node.sign(&mut views, issue).unwrap();
        drop(views);
        node.save_views().unwrap();
        let path = node.data_dir.views_path();
        drop(node);
        let good = std::fs::read(&path).unwrap();
        let mut bad = good.clone();
        let last = bad.len() - 1;
        bad[last] ^= 1;
        std::fs::write(&path, &bad).unwrap();
        let node = hub(root.path());
        std::fs::write(&path, &good).unwrap();
        let views = node.views().unwrap();
        assert_eq!(views.applied_count(), 1);
        drop(views);
        // Folded from the log: nothing counts as saved, so the next save writes the views.
        assert_eq!(node.saved.load(Ordering::Relaxed), u64::MAX);
        // A good snapshot at open is used, and counts as saved.
        drop(node);
        let node = hub(root.path());
        drop(node.views().unwrap());
        assert_eq!(node.saved.load(Ordering::Relaxed), 1);
    }

    /// A hub that signed three events and saved its views; their digest.
    fn hub_with_saved_views(root: &std::path::Path) -> (Node, [u8; 32]) {
        let node = hub(root);
        let mut views = node.views().unwrap();
        for n in 0..3u8 {
            node.sign(
                &mut views,
                pb::event::Body::PersonForgotten(pb::PersonForgotten {
                    events: vec![vec![n; 32]],
                }),
            )
            .unwrap();
        }
        let digest = views.digest();
        drop(views);
        node.save_views().unwrap();
        (node, digest)
    }

    #[test]
    fn a_node_reopens_checking_its_heads_only_after_a_clean_close_or_a_crash() {
        let root = tempfile::tempdir().unwrap();
        let (node, digest) = hub_with_saved_views(root.path());
        node.seal_store().unwrap();
        drop(node);
        let node = hub(root.path());
        assert!(node.store.opened_sealed());
        assert_eq!(node.views().unwrap().digest(), digest);
        // Not closed cleanly this time, after one more event: its write recorded what the
        // data holds, and the next open reads the heads only again.
        let mut views = node.views().unwrap();
        node.sign(
            &mut views,
            pb::event::Body::PersonForgotten(pb::PersonForgotten {
                events: vec![vec![9; 32]],
            }),
        )
        .unwrap();
        let digest = views.digest();
        drop(views);
        drop(node);
        let node = hub(root.path());
        assert!(node.store.opened_sealed());
        assert_eq!(node.views().unwrap().digest(), digest);
    }

    #[test]
    fn saved_views_are_written_in_pieces_and_read_back_whole() {
        let root = tempfile::tempdir().unwrap();
        let (node, digest) = hub_with_saved_views(root.path());
        let path = node.data_dir.views_path();
        let mut bytes = std::fs::read(&path).unwrap();
        let read = views_file::decode(node.charter.clone(), &bytes).unwrap();
        assert_eq!((read.applied_count(), read.digest()), (3, digest));
        // Read from the file a piece at a time, as a node opening does.
        let mut file = std::fs::File::open(&path).unwrap();
        let read = views_file::read(node.charter.clone(), &mut file).unwrap();
        assert_eq!((read.applied_count(), read.digest()), (3, digest));
        // Cut short, or with bytes added after the views: refused.
        let error =
            views_file::decode(node.charter.clone(), &bytes[..bytes.len() - 9]).unwrap_err();
        assert!(error.contains("checksum"), "{error}");
        let longer = [bytes.as_slice(), b"more"].concat();
        let error = views_file::decode(node.charter.clone(), &longer).unwrap_err();
        assert!(error.contains("checksum"), "{error}");
        // Each section read from its place in the file, as a node opening does, side by side.
        let sections = (0..maillage_core::ledger::SNAPSHOT_SECTIONS)
            .rev()
            .map(|index| views_file::read_section_of(&node.charter, &path, index).unwrap())
            .collect();
        let read = Ledger::from_sections(node.charter.clone(), sections).unwrap();
        assert_eq!((read.applied_count(), read.digest()), (3, digest));
        // The checksums written last, at their place, cover each section: a byte changed in
        // the first or the last is refused, and so is a header that puts them out of place.
        let header = 16 + 2 * 40;
        for (at, section) in [(header + 60, "section 0"), (bytes.len() - 1, "section 1")] {
            let mut damaged = bytes.clone();
            damaged[at] ^= 1;
            let error = views_file::decode(node.charter.clone(), &damaged).unwrap_err();
            assert!(
                error.contains(&format!("checksum mismatch in {section}")),
                "{error}"
            );
        }
        let second = u64::from_le_bytes(bytes[56..64].try_into().unwrap());
        bytes[56..64].copy_from_slice(&(header as u64 - 1).to_le_bytes());
        let error = views_file::decode(node.charter.clone(), &bytes).unwrap_err();
        assert!(error.contains("out of place"), "{error}");
        bytes[56..64].copy_from_slice(&(second + 1).to_le_bytes());
        let error = views_file::decode(node.charter.clone(), &bytes).unwrap_err();
        assert!(error.contains("checksum"), "{error}");
        assert!(!path.with_extension("tmp").exists());
    }

    /// Parts the store still holds though the views dropped them (an erasure folded, the
    /// parts file then put back as it was before: a crash between the two, say) are erased
    /// when the views are first loaded, and only those.
    #[test]
    fn parts_the_views_dropped_are_erased_when_the_views_are_loaded() {
        let root = tempfile::tempdir().unwrap();
        let node = hub(root.path());
        let mut views = node.views().unwrap();
        let mut batch = batch_issued();
        if let pb::event::Body::VoucherBatchIssued(b) = &mut batch {
            b.count = 2;
        }
        node.sign(&mut views, batch).unwrap();
        let hand_out = |number: u8| hand_out_to("13-2026-X", number);
        let first = node.sign(&mut views, hand_out(1)).unwrap();
        let second = node.sign(&mut views, hand_out(2)).unwrap();
        let held = || node.store.personal_events(&|_| true);
        assert_eq!(held().len(), 2);
        let parts = node.data_dir.store_path().join(maillage_store::PARTS_FILE);
        let before = std::fs::read(&parts).unwrap();
        node.sign(
            &mut views,
            pb::event::Body::PersonForgotten(pb::PersonForgotten {
                events: vec![first.id.0.to_vec()],
            }),
        )
        .unwrap();
        // Erased as the views next fold what is stored.
        drop(views);
        drop(node.views().unwrap());
        assert_eq!(held(), vec![second.id]);
        node.save_views().unwrap();
        drop(node);
        std::fs::write(&parts, before).unwrap();
        let node = hub(root.path());
        assert_eq!(node.store.personal_events(&|_| true).len(), 2);
        drop(node.views().unwrap());
        assert_eq!(node.store.personal_events(&|_| true), vec![second.id]);
    }

    #[test]
    fn a_batch_is_judged_event_by_event() {
        let root = tempfile::tempdir().unwrap();
        let node = hub(root.path());
        let mut views = node.views().unwrap();
        let issue = batch_issued();
        // The cancellation is judged after the batch it names was folded; the second one
        // finds the voucher already cancelled.
        let outcomes = node
            .sign_all(
                &mut views,
                vec![issue, cancel("lost"), cancel("lost again")],
                &mut |_| {},
            )
            .unwrap();
        assert!(outcomes[0].is_ok() && outcomes[1].is_ok());
        let refused = outcomes[2].as_ref().unwrap_err();
        assert!(
            refused.message.contains("ne peut pas être annulé"),
            "{refused}"
        );
        assert_eq!(node.store.head(&node.id()).unwrap().seq, 2);
    }

    /// An observer's node beside hubs A and B, and the hubs' keys in the order their feeds
    /// are read (A first).
    fn observer_of_two_hubs(root: &std::path::Path) -> (Node, [SecretKey; 2]) {
        let keys: Vec<SecretKey> = (1..=3u8)
            .map(|n| SecretKey::from_seed(&[0x40 + n; 32]))
            .collect();
        let members = keys
            .iter()
            .zip(["13", "69", ""])
            .map(|(key, t)| maillage_core::MemberSpec {
                key: key.hub_id(),
                name: format!("membre {t}"),
                role: if t.is_empty() {
                    Role::Observer
                } else {
                    Role::Hub
                },
                territories: if t.is_empty() { vec![] } else { vec![t.into()] },
            })
            .collect();
        let charter = Charter::found("Test", 1, members).unwrap();
        let node = node_in(root, "observer", &keys[2], &charter);
        let [a, b, _] = <[SecretKey; 3]>::try_from(keys).unwrap();
        let hubs = if a.hub_id() < b.hub_id() {
            [a, b]
        } else {
            [b, a]
        };
        (node, hubs)
    }

    /// `count` events of `key`'s feed, the first naming `first_deps`.
    fn feed_of(
        node: &Node,
        key: &SecretKey,
        count: u64,
        first_deps: Vec<maillage_core::EventRef>,
    ) -> Vec<VerifiedEvent> {
        let mut writer = FeedWriter::new(
            SecretKey::from_seed(&key.seed()),
            node.charter.federation_id(),
            None,
            0,
            maillage_core::hlc::MAX_AHEAD_MS_DEFAULT,
        );
        (1..=count)
            .map(|n| {
                let deps = if n == 1 { first_deps.clone() } else { vec![] };
                writer
                    .next(cancel(&format!("{n}")), deps, 1_000_000 + n)
                    .unwrap()
            })
            .collect()
    }

    #[test]
    fn a_fold_whose_waiting_events_overflow_the_views_buffer_still_applies_every_event() {
        let root = tempfile::tempdir().unwrap();
        let (node, [a, b]) = observer_of_two_hubs(root.path());
        // A's first event names B's 200th: all of A waits until B is folded that far, more
        // than the views may hold waiting at once.
        let b_feed = feed_of(&node, &b, 200, vec![]);
        let a_feed = feed_of(&node, &a, 120, vec![b_feed[199].as_ref()]);
        node.store.insert(a_feed).unwrap();
        node.store.insert(b_feed).unwrap();
        let mut ledger = Ledger::with_pending_max(node.charter.clone(), 50);
        node.fold_new(&mut ledger).unwrap();
        assert_eq!(ledger.applied_count(), 320);
        assert_eq!(ledger.pending_count(), 0);
    }

    #[test]
    fn a_fold_waiting_for_events_this_node_does_not_hold_stops_there_and_fails_nothing() {
        let root = tempfile::tempdir().unwrap();
        let (node, [a, b]) = observer_of_two_hubs(root.path());
        // A's first event names B's 300th, which this node does not hold.
        let missing = maillage_core::EventRef {
            author: b.hub_id(),
            seq: 300,
            id: EventId([9; 32]),
        };
        node.store
            .insert(feed_of(&node, &a, 120, vec![missing]))
            .unwrap();
        node.store.insert(feed_of(&node, &b, 200, vec![])).unwrap();
        let mut ledger = Ledger::with_pending_max(node.charter.clone(), 50);
        for _ in 0..2 {
            node.fold_new(&mut ledger).unwrap();
            assert_eq!(ledger.applied_count(), 200);
            assert_eq!(ledger.pending_count(), 50);
        }
    }
}
