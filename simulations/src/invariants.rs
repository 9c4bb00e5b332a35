//! The invariants a run must keep. Each returns what it saw when it fails.

use std::collections::BTreeMap;

use maillage_store::EventStore;

use crate::node::{NodeState, SimNode};

/// Every node applied every authored event and holds the same digest.
pub fn converged(states: &[NodeState], events: u64) -> bool {
    states
        .iter()
        .all(|s| s.applied == events && s.digest == states[0].digest)
}

/// No voucher is redeemed by two different events, on one node or across nodes (a node's
/// views keep one redemption per voucher; two nodes disagreeing on it would be two).
pub fn redemptions_agree(states: &[NodeState]) -> Result<(), String> {
    let mut seen: BTreeMap<&str, (&str, maillage_core::EventId)> = BTreeMap::new();
    for state in states {
        for (serial, event) in &state.redemptions {
            match seen.get(serial.as_str()) {
                Some((node, other)) if other != event => {
                    return Err(format!(
                        "voucher {serial} redeemed by event {} on {node} and by {} on {}",
                        other.short(),
                        event.short(),
                        state.name
                    ));
                }
                Some(_) => {}
                None => {
                    seen.insert(serial, (&state.name, *event));
                }
            }
        }
    }
    Ok(())
}

/// Every stored event verifies (signature, envelope) and extends its chain.
pub fn store_verifies(node: &SimNode) -> Result<(), String> {
    let report = node
        .store
        .verify(true, &mut |_| {})
        .map_err(|e| format!("{}: store: {e}", node.name))?;
    match report.broken {
        None => Ok(()),
        Some(broken) => Err(format!(
            "{}: feed {} seq {}: {}",
            node.name,
            broken.author.short(),
            broken.seq,
            broken.reason
        )),
    }
}
