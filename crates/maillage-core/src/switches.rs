//! Test-only switches that change a rule or a message on purpose, to show what the
//! conformance histories catch and what they do not depend on (see `conformance.rs`'s tests).

use std::cell::Cell;

thread_local! {
    /// Misspells the message of `voucher.already_redeemed`.
    pub(crate) static TYPO: Cell<bool> = const { Cell::new(false) };
    /// Stops checking that a service is one the batch funds.
    pub(crate) static ANY_SERVICE: Cell<bool> = const { Cell::new(false) };
}
