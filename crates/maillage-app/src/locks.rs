//! Mutexes locked whether poisoned or not: what the node's mutexes hold is written whole, so a
//! panic elsewhere leaves nothing half-written behind.

use std::sync::{Mutex, MutexGuard};

/// Locks `mutex`, poisoned or not.
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|p| p.into_inner())
}
