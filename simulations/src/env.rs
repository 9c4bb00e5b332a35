//! The simulated world replication sees: turmoil's clock, a seeded generator, everything
//! inline on the simulation's thread.

use std::sync::Mutex;

use maillage_core::seeded::SplitMix64;
use maillage_sync::replica::Environment;

/// Wall time at the start of every simulation (2026-01-01T00:00:00Z), in ms.
pub const EPOCH_MS: u64 = 1_767_225_600_000;

/// One node's environment.
#[derive(Debug)]
pub struct SimEnvironment {
    rng: Mutex<SplitMix64>,
}

impl SimEnvironment {
    /// A node's environment, its randomness drawn from `seed`.
    pub fn new(seed: u64) -> Self {
        Self {
            rng: Mutex::new(SplitMix64::new(seed)),
        }
    }
}

/// Simulated wall time: the epoch plus turmoil's elapsed time.
pub fn sim_now_ms() -> u64 {
    EPOCH_MS + turmoil::sim_elapsed().unwrap_or_default().as_millis() as u64
}

impl Environment for SimEnvironment {
    fn now_ms(&self) -> u64 {
        sim_now_ms()
    }

    fn fill_random(&self, buffer: &mut [u8]) {
        let mut rng = self.rng.lock().unwrap_or_else(|p| p.into_inner());
        for chunk in buffer.chunks_mut(8) {
            let bytes = rng.next_u64().to_le_bytes();
            chunk.copy_from_slice(&bytes[..chunk.len()]);
        }
    }

    fn inline(&self) -> bool {
        true
    }
}
