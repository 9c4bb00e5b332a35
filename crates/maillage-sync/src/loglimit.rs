//! Warnings about what a peer (or a stranger) sent, rate-limited per source, so that hostile
//! input cannot turn into log volume: at most [`LINES_PER_WINDOW`] lines per source per
//! [`WINDOW_MS`], then one line saying the rest is suppressed, then silence (debug level) until
//! the window ends; the source's next warning says how many were left out. Sans-IO: the caller
//! gives the time.

use std::collections::BTreeMap;

/// Warnings logged per source and window.
pub const LINES_PER_WINDOW: u32 = 10;
/// The window.
pub const WINDOW_MS: u64 = 60_000;
/// Sources followed at once (the shared window included); beyond, new sources share one
/// window.
pub const SOURCES_MAX: usize = 1024;
/// The source that sources beyond [`SOURCES_MAX`] share.
pub const OTHER_SOURCES: &str = "(other sources)";

/// What to do with one warning.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Log it; `suppressed` warnings of this source were left out in its previous window.
    Log {
        /// Left out before this one.
        suppressed: u64,
    },
    /// The first over the limit: log that the source's warnings are suppressed for the rest of
    /// the window (instead of the warning itself).
    Suppressing,
    /// Leave it out of the log (debug level at most).
    Suppress,
}

#[derive(Debug, Clone, Copy)]
struct Window {
    start_ms: u64,
    logged: u32,
    suppressed: u64,
}

/// Per-source windows.
#[derive(Debug, Default)]
pub struct LogLimiter {
    sources: BTreeMap<String, Window>,
}

impl LogLimiter {
    /// The verdict on a warning from `source` at `now_ms`.
    pub fn check(&mut self, source: &str, now_ms: u64) -> Verdict {
        if !self.sources.contains_key(source) && self.sources.len() >= SOURCES_MAX {
            // Quiet sources whose window is over are forgotten; if none, the newcomer shares.
            self.sources
                .retain(|_, w| now_ms.saturating_sub(w.start_ms) < WINDOW_MS || w.suppressed > 0);
        }
        let key = if self.sources.contains_key(source) || self.sources.len() < SOURCES_MAX - 1 {
            source
        } else {
            OTHER_SOURCES
        };
        let window = self.sources.entry(key.to_owned()).or_insert(Window {
            start_ms: now_ms,
            logged: 0,
            suppressed: 0,
        });
        if now_ms.saturating_sub(window.start_ms) >= WINDOW_MS {
            let suppressed = window.suppressed;
            *window = Window {
                start_ms: now_ms,
                logged: 1,
                suppressed: 0,
            };
            return Verdict::Log { suppressed };
        }
        if window.logged < LINES_PER_WINDOW {
            window.logged += 1;
            return Verdict::Log { suppressed: 0 };
        }
        window.suppressed += 1;
        if window.suppressed == 1 {
            Verdict::Suppressing
        } else {
            Verdict::Suppress
        }
    }

    /// Sources followed.
    pub fn sources(&self) -> usize {
        self.sources.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_source_gets_ten_lines_a_minute_then_one_note_then_silence() {
        let mut limiter = LogLimiter::default();
        let verdicts: Vec<Verdict> = (0..10_000)
            .map(|i| limiter.check("10.0.0.9", 1_000 + i))
            .collect();
        let logged = verdicts
            .iter()
            .filter(|v| matches!(v, Verdict::Log { .. }))
            .count();
        assert_eq!(logged, LINES_PER_WINDOW as usize);
        assert_eq!(verdicts[10], Verdict::Suppressing);
        assert!(verdicts[11..].iter().all(|v| *v == Verdict::Suppress));
        // Another source is not silenced by the first.
        assert_eq!(
            limiter.check("10.0.0.10", 2_000),
            Verdict::Log { suppressed: 0 }
        );
        // The next window: the first line says how many were left out.
        assert_eq!(
            limiter.check("10.0.0.9", 1_000 + WINDOW_MS),
            Verdict::Log {
                suppressed: 10_000 - u64::from(LINES_PER_WINDOW)
            }
        );
        assert_eq!(
            limiter.check("10.0.0.9", 1_001 + WINDOW_MS),
            Verdict::Log { suppressed: 0 }
        );
    }

    #[test]
    fn sources_are_bounded() {
        let mut limiter = LogLimiter::default();
        for i in 0..(SOURCES_MAX + 500) {
            limiter.check(&format!("source {i}"), 0);
            assert!(limiter.sources() <= SOURCES_MAX);
        }
        // The newcomers shared one window: ten lines between them.
        let shared = (0..100)
            .filter(|i| matches!(limiter.check(&format!("late {i}"), 1), Verdict::Log { .. }))
            .count();
        assert_eq!(shared, 0, "the shared window is already used up");
        // Once the windows are over, quiet sources are forgotten and make room.
        assert_eq!(
            limiter.check("new", WINDOW_MS + 1),
            Verdict::Log { suppressed: 0 }
        );
        assert!(limiter.sources() <= SOURCES_MAX);
    }
}
