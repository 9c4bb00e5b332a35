//! What a serving node lends the application: its links to the other members (the online
//! transfer of a voucher from its owner) and what replication knows (peers, lag).

use std::time::Duration;

use maillage_core::{HubId, VerifiedEvent};

use crate::views::ReplicationView;

/// A direct call to a voucher's owner that did not give a transfer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransferFailure {
    /// No link reaches the owner, or the call failed in transit: record a claim instead.
    #[error("the owner hub is unreachable: {0}")]
    Unreachable(String),
    /// The owner answered and refused.
    #[error("the owner refused: {0}")]
    Refused(String),
}

/// The federation as a serving node reaches it.
pub trait Network: Send + Sync + std::fmt::Debug {
    /// Asks `owner` to transfer `serials` to this node for a redemption at `venue_id`; returns
    /// the owner's signed `VoucherTransferred`.
    fn request_transfer(
        &self,
        owner: HubId,
        serials: Vec<String>,
        venue_id: String,
    ) -> Result<VerifiedEvent, TransferFailure>;

    /// Waits (at most `timeout`) until the store holds `event`'s feed up to it; whether it
    /// arrived.
    fn wait_for(&self, event: &VerifiedEvent, timeout: Duration) -> bool;

    /// Peers and what replication refused lately.
    fn replication(&self) -> ReplicationView;

    /// Own events were signed: wake the peers' streams.
    fn notify(&self);
}
