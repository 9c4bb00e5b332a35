//! The hybrid logical clock: `(unix ms << 16) | counter`.
//!
//! Values only grow, even when the wall clock steps back. Restarting from the last value the
//! node signed ([`HybridClock::resume`]) keeps that promise across restarts. The clock refuses
//! to run more than `max_ahead_ms` ahead of wall time: a remote value that far in the future is
//! not adopted, and a local clock that finds itself that far ahead (a wall clock set back by
//! hours) refuses to sign rather than date events wrongly. The wall time is passed in: the core
//! reads no clock.

use thiserror::Error;

/// Default bound on how far the clock may run ahead of wall time: 5 minutes.
pub const MAX_AHEAD_MS_DEFAULT: u64 = 5 * 60 * 1000;

/// The clock would run too far ahead of wall time.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ClockError {
    /// A value beyond the bound.
    #[error(
        "clock: expected at most {max_ahead_ms} ms ahead of wall time {wall_ms}, found {found_ms} ms ({ahead_ms} ms ahead); check this machine's clock"
    )]
    TooFarAhead {
        /// The bound.
        max_ahead_ms: u64,
        /// Wall time given.
        wall_ms: u64,
        /// Physical part of the offending value.
        found_ms: u64,
        /// How far ahead.
        ahead_ms: u64,
    },
}

/// A hybrid logical clock.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HybridClock {
    last: u64,
    max_ahead_ms: u64,
}

/// The physical (ms) part of an HLC value.
pub fn hlc_millis(hlc: u64) -> u64 {
    hlc >> 16
}

impl HybridClock {
    /// A clock that has never ticked.
    pub fn new(max_ahead_ms: u64) -> Self {
        Self {
            last: 0,
            max_ahead_ms,
        }
    }

    /// A clock continuing after `last` (the HLC of the node's latest own or observed event).
    pub fn resume(last: u64, max_ahead_ms: u64) -> Self {
        Self { last, max_ahead_ms }
    }

    /// The last value issued or observed.
    pub fn last(&self) -> u64 {
        self.last
    }

    /// A new value, strictly greater than every earlier one.
    pub fn tick(&mut self, wall_ms: u64) -> Result<u64, ClockError> {
        let physical = wall_ms.saturating_mul(1 << 16);
        let next = physical.max(self.last.saturating_add(1));
        self.check(next, wall_ms)?;
        self.last = next;
        Ok(next)
    }

    /// Takes a remote value into account (a received event's HLC).
    pub fn observe(&mut self, remote: u64, wall_ms: u64) -> Result<(), ClockError> {
        self.check(remote, wall_ms)?;
        self.last = self.last.max(remote);
        Ok(())
    }

    fn check(&self, value: u64, wall_ms: u64) -> Result<(), ClockError> {
        let found_ms = hlc_millis(value);
        let ahead_ms = found_ms.saturating_sub(wall_ms);
        if ahead_ms > self.max_ahead_ms {
            return Err(ClockError::TooFarAhead {
                max_ahead_ms: self.max_ahead_ms,
                wall_ms,
                found_ms,
                ahead_ms,
            });
        }
        Ok(())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn monotonic_even_when_wall_time_steps_back() {
        let mut clock = HybridClock::new(1000);
        let a = clock.tick(10_000).unwrap();
        let b = clock.tick(9_500).unwrap();
        let c = clock.tick(10_000).unwrap();
        assert!(a < b && b < c);
        assert_eq!(hlc_millis(a), 10_000);
    }

    #[test]
    fn survives_restart() {
        let mut clock = HybridClock::new(1000);
        let a = clock.tick(10_000).unwrap();
        let mut restarted = HybridClock::resume(a, 1000);
        assert!(restarted.tick(10_000).unwrap() > a);
    }

    #[test]
    fn refuses_to_jump_ahead() {
        let mut clock = HybridClock::new(1000);
        let far = (20_000u64) << 16;
        let err = clock.observe(far, 10_000).unwrap_err();
        assert!(err.to_string().contains("10000 ms ahead"), "{err}");
        assert_eq!(clock.last(), 0, "the remote value was not adopted");
        clock.observe((10_900u64) << 16, 10_000).unwrap();
        // A clock resumed far in the future (wall clock set back) refuses to sign.
        let mut resumed = HybridClock::resume(far, 1000);
        assert!(resumed.tick(10_000).is_err());
        assert!(resumed.tick(19_500).is_ok());
    }
}
