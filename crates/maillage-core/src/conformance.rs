//! Conformance histories (docs/protocol.md §4e): files of signed events with, for each, the
//! verdict every implementation must reach (applied, or a rejection code) and the state digest
//! after all of them, whatever the order they are delivered in.
//!
//! [`check`] runs one history against this implementation: it is what `tests/histories.rs`
//! runs on `tests/vectors/histories.json`, and what another implementation reproduces.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::charter::Charter;
use crate::envelope::verify_encoded;
use crate::ids::HubId;
use crate::ledger::Ledger;

/// The format name, in every file.
pub const FORMAT: &str = "maillage conformance histories v2";

/// A file of histories.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryFile {
    /// [`FORMAT`].
    pub format: String,
    /// What the file is and how to run it.
    pub description: String,
    /// The histories.
    pub histories: Vec<History>,
}

/// One federation's events and what the rules say of them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct History {
    /// Short name.
    pub name: String,
    /// What it exercises.
    pub description: String,
    /// The charter's bytes (hex): the federation id is their hash (§1).
    pub charter: String,
    /// Feeds frozen by a fork proof before folding: (author hex, last valid seq).
    pub frozen: Vec<(String, u64)>,
    /// The events, each as its signed encoding and the verdict it gets.
    pub events: Vec<Case>,
    /// Orders of delivery (indices into `events`); every one gives the same verdicts and
    /// digest. The first is the order the events were signed in.
    pub orders: Vec<Vec<usize>>,
    /// The state digest after all events (hex).
    pub digest: String,
    /// Each view's part of the digest (hex), by view name.
    pub parts: BTreeMap<String, String>,
}

/// One event of a history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Case {
    /// The `SignedEvent` encoding (hex), as stored and sent.
    pub signed: String,
    /// `applied`, `not_applied` (its feed is frozen before it, or a dep never comes), or the
    /// rejection code of §4c.
    pub verdict: String,
    /// What the case is about.
    pub note: String,
}

/// The verdict of an applied event in [`Case::verdict`].
pub const APPLIED: &str = "applied";
/// The verdict of an event that is never applied (its feed is frozen before it).
pub const NOT_APPLIED: &str = "not_applied";

/// What one run of a history found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// The verdict of each event, in file order.
    pub verdicts: Vec<String>,
    /// The digest (hex).
    pub digest: String,
    /// The parts (hex).
    pub parts: BTreeMap<String, String>,
}

/// Folds `history`'s events in `order` into a fresh ledger, as a node would (events of a
/// frozen feed past its last valid seq are not offered: a store does not keep them), and reads
/// every verdict and the digest.
pub fn run(history: &History, order: &[usize]) -> Result<Outcome, String> {
    let name = &history.name;
    let charter_bytes =
        hex::decode(&history.charter).map_err(|e| format!("{name}: charter is not hex: {e}"))?;
    let charter =
        Arc::new(Charter::from_bytes(charter_bytes).map_err(|e| format!("{name}: charter: {e}"))?);
    let mut frozen = BTreeMap::new();
    for (author, seq) in &history.frozen {
        let key = hex::decode(author).map_err(|e| format!("{name}: frozen author: {e}"))?;
        let author =
            HubId::try_from(key.as_slice()).map_err(|e| format!("{name}: frozen author: {e}"))?;
        frozen.insert(author, *seq);
    }
    let mut signed = Vec::with_capacity(history.events.len());
    for (i, case) in history.events.iter().enumerate() {
        let bytes =
            hex::decode(&case.signed).map_err(|e| format!("{name}: event {i} is not hex: {e}"))?;
        signed.push(bytes);
    }
    if order.len() != signed.len() {
        return Err(format!(
            "{name}: an order names {} events, the history has {}",
            order.len(),
            signed.len()
        ));
    }
    // A node folds again, with the keys amendments stopped frozen first, when events past a
    // stop were applied before the amendment (§1b): so does this run.
    let mut cuts = BTreeMap::new();
    let (ledger, events) = loop {
        let (ledger, events, deferred) = fold(name, &charter, &frozen, &cuts, &signed, order)?;
        if ledger.needs_refold() && *ledger.cuts() != cuts {
            // Events still deferred may be of a key whose admission this fold missed for want
            // of the stops: the next fold says.
            cuts = ledger.cuts().clone();
            continue;
        }
        if let Some(i) = deferred {
            return Err(format!(
                "{name}: event {i}'s author is never admitted by the history (amendments in effect: {}, order starting {:?})",
                ledger.membership().number,
                &order[..order.len().min(5)]
            ));
        }
        break (ledger, events);
    };
    let verdicts = events
        .iter()
        .map(|event| {
            if let Some(rejection) = ledger.rejections().get(&event.id) {
                rejection.code().to_owned()
            } else if ledger.applied_id(&event.author, event.seq) == Some(event.id) {
                APPLIED.to_owned()
            } else {
                NOT_APPLIED.to_owned()
            }
        })
        .collect();
    Ok(Outcome {
        verdicts,
        digest: hex::encode(ledger.digest()),
        parts: ledger
            .digest_parts()
            .into_iter()
            .map(|(name, part)| (name.to_owned(), hex::encode(part)))
            .collect(),
    })
}

/// Verifies and folds the events in `order` into a fresh ledger with `frozen` and `cuts` set
/// first; deferred events of keys not admitted yet are retried after each event; the first
/// event still deferred at the end, if any.
fn fold(
    name: &str,
    charter: &Arc<Charter>,
    frozen: &BTreeMap<HubId, u64>,
    cuts: &BTreeMap<HubId, crate::ledger::Cut>,
    signed: &[Vec<u8>],
    order: &[usize],
) -> Result<(Ledger, Vec<crate::envelope::VerifiedEvent>, Option<usize>), String> {
    let mut ledger = Ledger::new(charter.clone());
    for (author, seq) in frozen {
        ledger.freeze(*author, *seq);
    }
    for (key, cut) in cuts {
        ledger.cut(*key, *cut);
    }
    let mut seen = vec![false; signed.len()];
    let mut events: Vec<Option<crate::envelope::VerifiedEvent>> = vec![None; signed.len()];
    // An event of a key the charter does not name verifies once an amendment admitting the
    // key is folded (§1b): until then it waits, as a node's replication would fetch it again.
    let mut deferred: Vec<usize> = Vec::new();
    let mut offer = |ledger: &mut Ledger, i: usize| -> Result<bool, String> {
        match verify_encoded(&signed[i], charter) {
            Ok(event) => {
                // A store keeps a forked feed only up to its last valid event (§3).
                if frozen
                    .get(&event.author)
                    .is_none_or(|valid| event.seq <= *valid)
                    && ledger.offer(event.clone()) == crate::causal::Offer::Stranger
                {
                    // Known to the charter (an earlier fold admitted it), not yet to these
                    // views: offered again once they admit it.
                    return Ok(false);
                }
                events[i] = Some(event);
                Ok(true)
            }
            Err(crate::envelope::EnvelopeError::UnknownAuthor { .. }) => Ok(false),
            Err(e) => Err(format!("{name}: event {i} does not verify: {e}")),
        }
    };
    // Deferred events are offered again when a key joined these views (only then can theirs
    // be known).
    let mut known = ledger.members_known();
    for &i in order {
        let slot = seen
            .get_mut(i)
            .ok_or_else(|| format!("{name}: an order names event {i}"))?;
        if std::mem::replace(slot, true) {
            return Err(format!("{name}: an order names event {i} twice"));
        }
        if !offer(&mut ledger, i)? {
            deferred.push(i);
            continue;
        }
        let mut progress = true;
        while progress && !deferred.is_empty() {
            let now = ledger.members_known();
            if now == known {
                break;
            }
            known = now;
            progress = false;
            for j in std::mem::take(&mut deferred) {
                if offer(&mut ledger, j)? {
                    progress = true;
                } else {
                    deferred.push(j);
                }
            }
        }
    }
    let events: Vec<crate::envelope::VerifiedEvent> = events.into_iter().flatten().collect();
    Ok((ledger, events, deferred.first().copied()))
}

/// Runs `history` in each of its orders and compares with what it expects. The error names
/// the history, the order and the first event (or the digest) that differs.
pub fn check(history: &History) -> Result<(), String> {
    if history.orders.is_empty() {
        return Err(format!("{}: no order of delivery", history.name));
    }
    for (k, order) in history.orders.iter().enumerate() {
        let found = run(history, order)?;
        for (i, (case, verdict)) in history.events.iter().zip(&found.verdicts).enumerate() {
            if case.verdict != *verdict {
                return Err(format!(
                    "{}, order {k}: event {i} ({}): expected {}, found {verdict}",
                    history.name, case.note, case.verdict
                ));
            }
        }
        if found.digest != history.digest {
            let differing: Vec<&String> = found
                .parts
                .iter()
                .filter(|(view, part)| history.parts.get(*view) != Some(part))
                .map(|(view, _)| view)
                .collect();
            return Err(format!(
                "{}, order {k}: digest {} expected, {} found (views differing: {differing:?})",
                history.name, history.digest, found.digest
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    //! What the committed histories (`tests/vectors/histories.json`) pin and what they do
    //! not: a reworded message moves no digest; a changed rule fails them.

    use crate::conformance::{self, HistoryFile};
    use crate::switches::{ANY_SERVICE, TYPO};

    fn committed() -> HistoryFile {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../tests/vectors/histories.json");
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
    }

    /// Every rejection's message in a history, in order.
    fn messages(history: &conformance::History) -> Vec<String> {
        let charter = std::sync::Arc::new(
            crate::Charter::from_bytes(hex::decode(&history.charter).unwrap()).unwrap(),
        );
        let mut ledger = crate::Ledger::new(charter.clone());
        for case in &history.events {
            let event =
                crate::verify_encoded(&hex::decode(&case.signed).unwrap(), &charter).unwrap();
            ledger.offer(event);
        }
        crate::lang::with(crate::lang::Lang::En, || {
            ledger.rejections().values().map(|r| r.reason()).collect()
        })
    }

    #[test]
    fn a_reworded_rejection_message_moves_no_verdict_and_no_digest() {
        let file = committed();
        let vouchers = file
            .histories
            .iter()
            .find(|h| h.name == "vouchers")
            .unwrap();
        let before = messages(vouchers);
        TYPO.set(true);
        let after = messages(vouchers);
        let checked: Result<Vec<()>, String> =
            file.histories.iter().map(conformance::check).collect();
        TYPO.set(false);
        assert!(
            after.iter().any(|m| m.contains("alredy redeemed")),
            "the switch changed no message"
        );
        assert_ne!(before, after);
        checked.unwrap();
    }

    #[test]
    fn a_changed_rule_fails_the_histories() {
        let file = committed();
        for history in &file.histories {
            conformance::check(history).unwrap();
        }
        ANY_SERVICE.set(true);
        let failures: Vec<String> = file
            .histories
            .iter()
            .filter_map(|h| conformance::check(h).err())
            .collect();
        ANY_SERVICE.set(false);
        assert_eq!(failures.len(), 1, "{failures:?}");
        assert!(
            failures[0].contains("expected voucher.service_not_eligible, found applied"),
            "{}",
            failures[0]
        );
    }
}
