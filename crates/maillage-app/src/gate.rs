//! Whether a node may sign yet. A node started from a stale copy of its data dir (last night's
//! backup, a snapshot of the disk) does not know the last events it signed: if it signed
//! before hearing from a peer it would sign a position of its feed a second time, a fork that
//! freezes its feed everywhere. So a node with peers signs nothing until a peer has told it
//! how far its own feed goes and it holds at least that much (replication pulls back what it
//! lacks first). A node without peers, or started with `--offline` (logged), signs at once.

use std::sync::{Condvar, Mutex};
use std::time::{Duration, Instant};

use crate::locks::lock;

/// Closed until the node's own feed is known to be whole; then open for the process's life.
#[derive(Debug, Default)]
pub struct AuthoringGate {
    /// `None` while closed; why it opened once open.
    open: Mutex<Option<String>>,
    opened: Condvar,
    /// Why it is closed, for the refusal.
    closed_because: String,
    /// How long a signer waits for it to open before refusing.
    patience: Duration,
}

impl AuthoringGate {
    /// A closed gate: signers wait up to `patience`, then are refused with `because`.
    pub fn closed(because: impl Into<String>, patience: Duration) -> Self {
        Self {
            closed_because: because.into(),
            patience,
            ..Self::default()
        }
    }

    /// A gate open from the start, for `reason`.
    pub fn open_for(reason: impl Into<String>) -> Self {
        let gate = Self::default();
        gate.open(reason);
        gate
    }

    /// Ok once open (waiting up to the gate's patience); else why the node may not sign.
    pub fn check(&self) -> Result<(), String> {
        if self.wait(self.patience) {
            Ok(())
        } else {
            Err(self.closed_because.clone())
        }
    }

    /// Opens the gate (once; later calls keep the first reason). Returns whether it was closed.
    pub fn open(&self, reason: impl Into<String>) -> bool {
        let mut open = lock(&self.open);
        if open.is_some() {
            return false;
        }
        *open = Some(reason.into());
        self.opened.notify_all();
        true
    }

    /// Why it is closed (the refusal signers get).
    pub fn closed_because(&self) -> String {
        self.closed_because.clone()
    }

    /// Why it opened, if it did.
    pub fn reason(&self) -> Option<String> {
        lock(&self.open).clone()
    }

    /// Whether the node may sign now.
    pub fn is_open(&self) -> bool {
        self.reason().is_some()
    }

    /// Waits at most `timeout` for the gate to open; whether it is open.
    pub fn wait(&self, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        let mut open = lock(&self.open);
        while open.is_none() {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return false;
            }
            open = match self.opened.wait_timeout(open, left) {
                Ok((guard, _)) => guard,
                Err(poisoned) => poisoned.into_inner().0,
            };
        }
        true
    }
}

/// Whether one peer's word on this node's own feed lets it sign: the peer answered the
/// handshake and sent its frontier (`heard`), and this node holds its own feed at least as far
/// as the peer does (`peer_seq` is the peer's head of this node's feed, 0 if it holds none).
pub fn confirms(heard: bool, own_head: u64, peer_seq: u64) -> bool {
    heard && own_head >= peer_seq
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_gate_opens_once_and_wakes_its_waiters() {
        let gate = std::sync::Arc::new(AuthoringGate::closed("no peer yet", Duration::ZERO));
        assert_eq!(gate.check(), Err("no peer yet".to_owned()));
        assert!(!gate.wait(Duration::from_millis(10)));
        let waiter = {
            let gate = gate.clone();
            std::thread::spawn(move || gate.wait(Duration::from_secs(10)))
        };
        std::thread::sleep(Duration::from_millis(20));
        assert!(gate.open("peer A holds seq 3 of this feed, as this node does"));
        assert!(!gate.open("again"));
        assert!(waiter.join().unwrap_or(false));
        assert_eq!(
            gate.reason().as_deref(),
            Some("peer A holds seq 3 of this feed, as this node does")
        );
        assert!(confirms(true, 3, 3));
        assert!(
            !confirms(true, 2, 3),
            "a restored node behind its peers waits"
        );
        assert!(!confirms(false, 9, 0), "nothing heard yet");
    }
}
