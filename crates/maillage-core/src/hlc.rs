//! The hybrid logical clock: `(unix ms << 16) | counter`.
//!
//! Values only grow, even when the wall clock steps back. Restarting from the last value the
//! node signed in its own feed ([`HybridClock::resume`]) keeps that promise across restarts.
//!
//! A value received from another member is adopted only if it is at most `max_ahead_ms` ahead
//! of wall time ([`HybridClock::observe`]): a member whose clock runs fast, or a forged event
//! dated in 2100, never drags this node's clock along. A node's own feed must keep growing
//! whatever happened before, so when its own last value is ahead of wall time (its wall clock
//! was set back), the clock goes on from there by logical ticks ([`HybridClock::tick`]) rather
//! than refusing to sign; [`HybridClock::ahead_ms`] tells how far ahead it runs so the node
//! can say so. No validity rule reads the HLC against any node's clock. The wall time is passed
//! in: the core reads no clock.

use thiserror::Error;

/// Default bound on how far the clock may run ahead of wall time: 5 minutes.
pub const MAX_AHEAD_MS_DEFAULT: u64 = 5 * 60 * 1000;

/// A remote value too far ahead of wall time to be adopted.
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

    /// A new value, strictly greater than every earlier one: wall time, or the last value plus
    /// one when that is later.
    pub fn tick(&mut self, wall_ms: u64) -> u64 {
        let physical = wall_ms.saturating_mul(1 << 16);
        let next = physical.max(self.last.saturating_add(1));
        self.last = next;
        next
    }

    /// How far (ms) the last value runs ahead of `wall_ms` (0 when it does not).
    pub fn ahead_ms(&self, wall_ms: u64) -> u64 {
        hlc_millis(self.last).saturating_sub(wall_ms)
    }

    /// Takes a remote value into account (a received event's HLC): adopted if it is at most
    /// the bound ahead of `wall_ms`, ignored (the error says by how much) otherwise.
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
        let a = clock.tick(10_000);
        let b = clock.tick(9_500);
        let c = clock.tick(10_000);
        assert!(a < b && b < c);
        assert_eq!(hlc_millis(a), 10_000);
    }

    #[test]
    fn survives_restart() {
        let mut clock = HybridClock::new(1000);
        let a = clock.tick(10_000);
        let mut restarted = HybridClock::resume(a, 1000);
        assert!(restarted.tick(10_000) > a);
    }

    #[test]
    fn refuses_to_jump_ahead() {
        let mut clock = HybridClock::new(1000);
        let far = (20_000u64) << 16;
        let err = clock.observe(far, 10_000).unwrap_err();
        assert!(err.to_string().contains("10000 ms ahead"), "{err}");
        assert_eq!(clock.last(), 0, "the remote value was not adopted");
        clock.observe((10_900u64) << 16, 10_000).unwrap();
        assert_eq!(
            clock.last(),
            10_900 << 16,
            "a value within the bound is adopted"
        );
    }

    #[test]
    fn an_own_feed_ahead_of_wall_time_goes_on_by_logical_ticks() {
        // The node's own last event is dated 10 s ahead (its wall clock was set back): it goes
        // on signing, each value one more than the last, and says how far ahead it runs.
        let far = (20_000u64) << 16;
        let mut resumed = HybridClock::resume(far, 1000);
        assert_eq!(resumed.tick(10_000), far + 1);
        assert_eq!(resumed.tick(10_000), far + 2);
        assert_eq!(resumed.ahead_ms(10_000), 10_000);
        // Once wall time passes it, the clock follows wall time again.
        assert_eq!(resumed.tick(20_001), 20_001 << 16);
        assert_eq!(resumed.ahead_ms(20_001), 0);
    }
}
