//! The invariants a run must keep. Each returns what it saw when it fails.

use std::collections::{BTreeMap, BTreeSet};
use std::rc::Rc;

use maillage_core::{EventId, HubId};
use maillage_store::EventStore;

use crate::misbehaving::Evidence;
use crate::node::{NodeState, SimNode};

/// The federation is at rest and agrees: every hub's staff have done their work (scheduled
/// events signed, visitors served), every claim is answered, and every node holds the same
/// feeds (frontier and forks), has folded all of it, and shows the same digest.
pub fn converged(states: &[NodeState]) -> bool {
    states.iter().all(|s| {
        s.work_left == 0
            && s.open_claims == 0
            && s.pending == 0
            && s.applied == s.stored
            && s.frontier == states[0].frontier
            && s.digest == states[0].digest
    })
}

/// No voucher presented at two hubs was honoured twice, and for each such voucher exactly
/// one presentation was honoured and the other refused (online by the owner, by the visited
/// hub's views, or its claim rejected), or both refused with one refusal from an owner that
/// was a restored copy, or during a stolen key's race, the voucher staying valid (counted
/// apart: see `double_spends_both_refused_in_a_fault`).
pub fn double_spends_refused(counts: &crate::DomainCounts) -> Result<(), String> {
    if counts.double_redemptions > 0 {
        return Err(format!(
            "{} voucher(s) honoured at two venues",
            counts.double_redemptions
        ));
    }
    if counts.double_spends_refused + counts.double_spends_both_refused_in_a_fault
        != counts.double_spend_attempts
    {
        return Err(format!(
            "of {} vouchers presented at two hubs, {} ended with one presentation honoured and the other refused; visits: {:?}",
            counts.double_spend_attempts, counts.double_spends_refused, counts.visit_outcomes
        ));
    }
    Ok(())
}

/// No voucher is redeemed by two different events, on one node or across nodes (a node's
/// views keep one redemption per voucher; two nodes disagreeing on it would be two). Events
/// some honest node knows to be past a stopped key's last seq (`stopped`) never count: a node
/// that has not folded the stop yet still shows their redemptions for a moment.
pub fn redemptions_agree(states: &[NodeState], stopped: &BTreeSet<EventId>) -> Result<(), String> {
    let mut seen: BTreeMap<&str, (&str, maillage_core::EventId)> = BTreeMap::new();
    for state in states {
        for (serial, event) in state
            .redemptions
            .iter()
            .filter(|(_, e)| !stopped.contains(e))
        {
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

/// Every honest node recorded the equivocator's fork by `by_s` (simulated seconds).
pub fn equivocation_detected(
    honest: &[NodeState],
    detected_at: &BTreeMap<String, u64>,
    by_s: Option<u64>,
) -> Result<(), String> {
    let missing: Vec<&str> = honest
        .iter()
        .filter(|s| !detected_at.contains_key(&s.name))
        .map(|s| s.name.as_str())
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    Err(format!(
        "at {} s, {} of {} honest nodes had not recorded the fork: {}",
        by_s.unwrap_or_default(),
        missing.len(),
        honest.len(),
        missing.join(", ")
    ))
}

/// No honest node recorded a fork of anyone but the misbehaving hub (a forgery must never
/// frame an honest hub).
pub fn no_honest_hub_frozen(honest: &[NodeState], equivocator: HubId) -> Result<(), String> {
    for state in honest {
        if let Some(author) = state.forked.keys().find(|a| **a != equivocator) {
            return Err(format!(
                "{} froze the feed of honest hub {}",
                state.name,
                author.short()
            ));
        }
    }
    Ok(())
}

/// Every honest node holds the misbehaving hub's out-of-territory events and rejected each
/// (the same reason everywhere follows from the digests agreeing).
pub fn intrusions_rejected(honest: &[Rc<SimNode>], evidence: &Evidence) -> Result<(), String> {
    for node in honest {
        let ledger = node.ledger();
        for id in &evidence.intrusions {
            if !ledger.rejections().contains_key(id) {
                return Err(format!(
                    "{}: event {} signed outside its author's authority was not rejected",
                    node.name,
                    id.short()
                ));
            }
        }
    }
    Ok(())
}

/// No honest store holds a forged event, and the forgeries reached some node and were
/// refused there.
pub fn forgeries_refused(
    honest: &[Rc<SimNode>],
    evidence: &Evidence,
    victim: &HubId,
) -> Result<(), String> {
    for node in honest {
        for (seq, id) in &evidence.forged {
            if let Ok(Some(event)) = node.store().get(victim, *seq)
                && event.id == *id
            {
                return Err(format!(
                    "{} stored the forged event {} at seq {seq}",
                    node.name,
                    id.short()
                ));
            }
        }
    }
    if !evidence.forged.is_empty() {
        let refused: u64 = honest
            .iter()
            .flat_map(|n| n.rejections())
            .filter(|(reason, _)| reason.starts_with("signature does not verify"))
            .map(|(_, n)| n)
            .sum();
        if refused == 0 {
            return Err(format!(
                "{} forged events served, none refused for its signature by any node",
                evidence.forged.len()
            ));
        }
    }
    Ok(())
}

/// No honest node counts an event of a key past the last seq an amendment let count for it
/// (a removed member, a succeeded key): every such event applied before the amendment reached
/// the node is folded out at once.
pub fn stops_respected(honest: &[NodeState]) -> Result<(), String> {
    for state in honest {
        let Some(life) = &state.life else { continue };
        for (key, (last_seq, _)) in &life.cuts {
            let applied = life.applied.get(key).copied().unwrap_or(0);
            if applied > *last_seq || life.refold_pending {
                return Err(format!(
                    "{} counts {} events of key {} stopped after seq {last_seq}",
                    state.name,
                    applied.saturating_sub(*last_seq),
                    key.short()
                ));
            }
        }
    }
    Ok(())
}

/// Every honest node applies the same membership to the same event: two nodes that know the
/// same stops and forks gave every event both applied the same verdict (accepted, or the same
/// rejection), whatever the order events reached them in.
pub fn one_membership_per_event(honest: &[NodeState]) -> Result<(), String> {
    let mut groups: BTreeMap<String, Vec<&NodeState>> = BTreeMap::new();
    for state in honest {
        let Some(life) = &state.life else { continue };
        let key = format!("{:?}{:?}", life.cuts, state.forked);
        groups.entry(key).or_default().push(state);
    }
    for group in groups.values() {
        let Some((first, rest)) = group.split_first() else {
            continue;
        };
        let Some(a) = &first.life else { continue };
        for other in rest {
            let Some(b) = &other.life else { continue };
            for (id, verdict) in &a.verdicts {
                if let Some(theirs) = b.verdicts.get(id)
                    && theirs != verdict
                {
                    return Err(format!(
                        "event {}: {} says {verdict}, {} says {theirs} (the same stops and forks known)",
                        id.short(),
                        first.name,
                        other.name,
                    ));
                }
            }
        }
    }
    Ok(())
}

/// At the end, every honest node holds the same amendments in effect (`expected` of them),
/// the same stops, and the same verdict for every event.
pub fn one_membership(honest: &[NodeState], expected: u32) -> Result<(), String> {
    let Some(first) = honest.first().and_then(|s| s.life.as_ref()) else {
        return Ok(());
    };
    for state in honest {
        let Some(life) = &state.life else { continue };
        if life.membership != expected {
            return Err(format!(
                "{} has {} amendments in effect, {expected} were proposed",
                state.name, life.membership
            ));
        }
        if life.in_effect != first.in_effect || life.cuts != first.cuts {
            return Err(format!(
                "{} and {} differ on the amendments in effect or the stops",
                honest[0].name, state.name
            ));
        }
        if life.verdicts != first.verdicts {
            let differing = life
                .verdicts
                .iter()
                .find(|(id, v)| first.verdicts.get(*id) != Some(*v))
                .map(|(id, _)| id.short())
                .unwrap_or_default();
            return Err(format!(
                "{} and {} gave events different verdicts (first: {differing})",
                honest[0].name, state.name
            ));
        }
    }
    Ok(())
}

/// What a thief or a removed hub signed with its key past the last seq that counts is applied
/// by no honest node (whenever it reached them); returns how many such events there were.
pub fn stopped_events_never_count(
    honest: &[NodeState],
    signed: &[(HubId, u64, EventId)],
) -> Result<u64, String> {
    let Some(first) = honest.first().and_then(|s| s.life.as_ref()) else {
        return Ok(0);
    };
    let mut past = 0;
    for (author, seq, id) in signed {
        let Some((last_seq, _)) = first.cuts.get(author) else {
            return Err(format!(
                "key {} signed after its theft or removal, and no amendment stopped it",
                author.short()
            ));
        };
        if seq <= last_seq {
            continue;
        }
        past += 1;
        for state in honest {
            if state
                .life
                .as_ref()
                .is_some_and(|l| l.verdicts.contains_key(id))
            {
                return Err(format!(
                    "{} applied event {} (seq {seq} of key {}, stopped after seq {last_seq})",
                    state.name,
                    id.short(),
                    author.short()
                ));
            }
        }
    }
    Ok(past)
}

/// Every voucher of a succeeded hub presented after its succession was honoured through its
/// successor (redeemed after an online transfer, or a claim the successor accepted).
pub fn successors_honour(counts: &crate::DomainCounts) -> Result<(), String> {
    if counts.successor_visits_honoured != counts.successor_visits {
        return Err(format!(
            "{} of {} vouchers of a succeeded hub presented after its succession were honoured; visits: {:?}",
            counts.successor_visits_honoured, counts.successor_visits, counts.visit_outcomes
        ));
    }
    Ok(())
}

/// Every stored event verifies (signature, envelope) and extends its chain.
pub fn store_verifies(node: &SimNode) -> Result<(), String> {
    let report = node
        .store()
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

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn state(name: &str, serial: &str, event: u8) -> NodeState {
        NodeState {
            name: name.into(),
            applied: 1,
            stored: 1,
            pending: 0,
            digest: [0; 32],
            frontier: [0; 32],
            bytes_received: 0,
            messages_received: 0,
            events_received: 0,
            redemptions: [(serial.to_string(), maillage_core::EventId([event; 32]))].into(),
            open_claims: 0,
            work_left: 0,
            honest: true,
            forked: BTreeMap::new(),
            life: None,
        }
    }

    #[test]
    fn two_nodes_redeeming_one_voucher_by_different_events_fail_the_invariant() {
        let same = [state("hub-0", "13-X-1", 1), state("hub-1", "13-X-1", 1)];
        assert!(redemptions_agree(&same, &BTreeSet::new()).is_ok());
        let split = [state("hub-0", "13-X-1", 1), state("hub-1", "13-X-1", 2)];
        let error = redemptions_agree(&split, &BTreeSet::new()).unwrap_err();
        assert!(
            error.contains("13-X-1") && error.contains("hub-1"),
            "{error}"
        );
    }
}
