//! A federation that changes while it runs (docs/protocol.md §1b): what each node does about
//! charter amendments — propose, endorse, switch to a successor key, keep signing once removed,
//! sign with a stolen key — and the fold a node runs over its store, as the node's application
//! does: rounds while amendments admit more keys, the branch an amendment chose resolved, and
//! the views folded again with the stops set first once events past a stop were applied.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use maillage_core::ledger::{Cut, VoucherStatus};
use maillage_core::membership::Change;
use maillage_core::{Charter, EventId, HubId, Ledger, Role, pb};
use maillage_store::{EventStore, MemoryStore};

use crate::scenario::ChangeSpec;

/// A node's part in the amendments.
#[derive(Debug, Clone, Default)]
pub struct Life {
    /// The node starts at this simulated ms (a joining hub, a thief).
    pub starts_at_ms: u64,
    /// Amendments this hub proposes.
    pub proposals: Vec<Proposal>,
    /// Amendments this hub endorses once its views hold their proposal.
    pub endorsements: Vec<Template>,
    /// From then on, the hub signs its schedule without judging it (a removed hub that keeps
    /// authoring).
    pub stubborn_from_ms: Option<u64>,
    /// From then on, the hub signs nothing with the key it runs under (its key was stolen),
    /// until it switches to its successor key.
    pub pause_at_ms: Option<u64>,
    /// On switching to its successor key, the hub serves a fresh data dir (recovery).
    pub fresh_on_switch: bool,
    /// The node never folds its views again when an amendment stops a key (negative control).
    pub ignores_stops: bool,
    /// Not an honest participant from the start (a thief) or once removed: left out of the
    /// invariants about honest nodes.
    pub departed: bool,
    /// A thief: what it signs with the stolen key.
    pub thief: Option<ThiefPlan>,
    /// The scenario has amendments: the node reports what the lifecycle invariants compare.
    pub tracked: bool,
}

/// What a thief signs.
#[derive(Debug, Clone)]
pub struct ThiefPlan {
    /// Its victim's département (for its batch) and a venue id of the victim's.
    pub departement: String,
    /// A venue of the victim's, where it redeems the victim's vouchers.
    pub venue_id: String,
    /// Serials of the victim's carnets it redeems when its views show them handed out.
    pub serials: Vec<String>,
    /// It signs until then (simulated ms).
    pub until_ms: u64,
}

/// An amendment a hub proposes.
#[derive(Debug, Clone)]
pub struct Proposal {
    /// When (simulated ms).
    pub at_ms: u64,
    /// What.
    pub template: Template,
}

/// An amendment's change with its keys, and how its last seq is found when it is proposed.
#[derive(Debug, Clone)]
pub struct Template {
    /// The change (its `last_seq` and `branch` filled in when proposed).
    pub change: Change,
    /// How the last seq that counts is found.
    pub last_seq: LastSeq,
}

/// How a proposer finds the last seq of a stopped key.
#[derive(Debug, Clone)]
pub enum LastSeq {
    /// Not a stop.
    None,
    /// What the proposer's views applied of the key's feed (a removal).
    Applied,
    /// The proposal itself (a hub rotating its own key).
    NextOwn,
    /// The last seq the hub signed before its key was stolen, which its operator tells the
    /// federation (set by the runner at the theft).
    Told(Arc<Mutex<Option<u64>>>),
    /// The branch the proposer's store holds past the key's fork (recovery).
    HeldBranch,
}

impl Template {
    /// Whether a proposal in the views is this one (same kind, same keys).
    pub fn matches(&self, change: &Change) -> bool {
        match (&self.change, change) {
            (Change::Admit { key: a, .. }, Change::Admit { key: b, .. }) => a == b,
            (Change::Remove { member: a, .. }, Change::Remove { member: b, .. }) => a == b,
            (
                Change::Succession {
                    member: a,
                    successor: s,
                    ..
                },
                Change::Succession {
                    member: b,
                    successor: t,
                    ..
                },
            ) => a == b && s == t,
            (Change::Move { from: a, to: c, .. }, Change::Move { from: b, to: d, .. }) => {
                a == b && c == d
            }
            _ => false,
        }
    }

    /// The change to propose now, its last seq and branch found, or `None` if the proposer
    /// cannot tell yet.
    pub fn resolve(
        &self,
        me: &HubId,
        ledger: &Ledger,
        store: &MemoryStore,
    ) -> Option<pb::event::Body> {
        let member = self.change.cut().map(|(key, _, _)| key);
        let (last_seq, branch) = match (&self.last_seq, member) {
            (LastSeq::None, _) | (_, None) => (0, None),
            (LastSeq::Applied, Some(key)) => (ledger.applied().get(&key).copied()?, None),
            (LastSeq::NextOwn, _) => (store.head(me).map_or(1, |h| h.seq + 1), None),
            (LastSeq::Told(told), _) => ((*told.lock().unwrap_or_else(|p| p.into_inner()))?, None),
            (LastSeq::HeldBranch, Some(key)) => {
                let (seq, id) = store.held_branch(&key).ok()??;
                (seq, Some(id))
            }
        };
        let change = match self.change.clone() {
            Change::Remove { member, .. } => Change::Remove { member, last_seq },
            Change::Succession {
                member, successor, ..
            } => Change::Succession {
                member,
                last_seq,
                successor,
                branch,
            },
            other => other,
        };
        Some(pb::event::Body::AmendmentProposed(pb::AmendmentProposed {
            number: ledger.membership().number + 1,
            change: Some(change.to_wire()),
            reason: "amendement simulé".into(),
        }))
    }
}

/// The change a scenario names, with the keys of the run. `keys[i]` are hub `i`'s key
/// seeds, its founding (or joining) key first, then its successor.
pub fn template(
    spec: ChangeSpec,
    hub_ids: &[Vec<HubId>],
    territories: &[Vec<String>],
    told: &Arc<Mutex<Option<u64>>>,
) -> Template {
    let key = |hub: usize| hub_ids[hub][0];
    let successor = |hub: usize| hub_ids[hub][1];
    match spec {
        ChangeSpec::Admit { hub } => Template {
            change: Change::Admit {
                key: key(hub),
                name: crate::hub_name(hub),
                role: Role::Hub,
                territories: territories[hub].iter().cloned().collect(),
            },
            last_seq: LastSeq::None,
        },
        ChangeSpec::Remove { hub } => Template {
            change: Change::Remove {
                member: key(hub),
                last_seq: 0,
            },
            last_seq: LastSeq::Applied,
        },
        ChangeSpec::Rotate { hub } | ChangeSpec::Steal { hub } | ChangeSpec::Recover { hub } => {
            Template {
                change: Change::Succession {
                    member: key(hub),
                    last_seq: 0,
                    successor: successor(hub),
                    branch: None,
                },
                last_seq: match spec {
                    ChangeSpec::Rotate { .. } => LastSeq::NextOwn,
                    ChangeSpec::Steal { .. } => LastSeq::Told(told.clone()),
                    _ => LastSeq::HeldBranch,
                },
            }
        }
        ChangeSpec::Move { from, to } => Template {
            change: Change::Move {
                from: key(from),
                to: key(to),
                territories: territories[from].last().cloned().into_iter().collect(),
            },
            last_seq: LastSeq::None,
        },
    }
}

/// The endorsement of the proposal in `ledger` that `template` names, if the views hold it
/// and it is not in effect yet.
pub fn endorsement(template: &Template, ledger: &Ledger) -> Option<pb::event::Body> {
    let proposal = ledger
        .amendments()
        .into_iter()
        .find(|a| !a.in_effect && template.matches(&a.change))?;
    Some(pb::event::Body::AmendmentEndorsed(pb::AmendmentEndorsed {
        proposal: Some(proposal.at.into()),
    }))
}

/// Whether the views hold, in effect, an amendment `template` names.
pub fn in_effect(template: &Template, ledger: &Ledger) -> bool {
    ledger
        .amendments()
        .iter()
        .any(|a| a.in_effect && template.matches(&a.change))
}

/// What a thief signs next: a redemption of one of the victim's vouchers its views show
/// handed out and not redeemed, else a carnet of its own batch, else that batch.
pub fn thief_body(plan: &ThiefPlan, ledger: &Ledger, step: usize) -> pb::event::Body {
    let batch = format!("{}-2026-VOL-1", plan.departement);
    for serial in &plan.serials {
        if ledger
            .voucher(serial)
            .is_some_and(|v| v.status == VoucherStatus::HandedOut)
        {
            return pb::event::Body::VoucherRedeemed(pb::VoucherRedeemed {
                serial: serial.clone(),
                venue_id: plan.venue_id.clone(),
                service: maillage_core::vocab::Service::Outils.as_str().into(),
                date: "2026-03-16".into(),
                claim: None,
            });
        }
    }
    if ledger.batch_by_id(&batch).is_none() {
        return crate::workload::batch(batch, crate::workload::BATCH_VOUCHERS);
    }
    let n = (step % 4) as u32;
    pb::event::Body::VouchersHandedOut(pb::VouchersHandedOut {
        serials: (n * 5 + 1..=n * 5 + 5)
            .map(|i| format!("{batch}-{i}"))
            .collect(),
        personal: vec![7; 32],
        prescriber: Some(pb::Prescriber {
            kind: "CAF".into(),
            name: "CAF, accueil".into(),
        }),
        date: "2026-03-02".into(),
        ..Default::default()
    })
}

/// Every stored event folded from scratch (a start, a fork found, a stop set), as the node's
/// application folds its store.
pub fn fold_all(charter: &Arc<Charter>, store: &MemoryStore, ignores_stops: bool) -> Ledger {
    let mut ledger = Ledger::new(charter.clone());
    fold_new(charter, store, &mut ledger, ignores_stops);
    ledger
}

/// Folds what `store` holds that `ledger` has not applied: rounds while amendments admit
/// more keys; a forked feed whose branch an amendment chose resolved in the store; the views
/// folded again, with the stops set first, when an amendment stopped a key after some of its
/// later events were applied (unless the node ignores stops).
pub fn fold_new(charter: &Arc<Charter>, store: &MemoryStore, ledger: &mut Ledger, ignores: bool) {
    for _ in 0..4 {
        fold_rounds(store, ledger);
        let forks = store.forks();
        let mut resolved = false;
        for (key, cut) in ledger.cuts().clone() {
            let Some(branch) = cut.branch else { continue };
            if forks
                .get(&key)
                .is_some_and(|f| f.resolved != Some((cut.last_seq, branch)))
                && store
                    .resolve_fork(&key, cut.last_seq, branch)
                    .unwrap_or(false)
            {
                resolved = true;
            }
        }
        if ignores || !(resolved || ledger.needs_refold()) {
            return;
        }
        let cuts: BTreeMap<HubId, Cut> = ledger.cuts().clone();
        let mut fresh = Ledger::new(charter.clone());
        for (key, cut) in cuts {
            fresh.cut(key, cut);
        }
        *ledger = fresh;
    }
}

fn fold_rounds(store: &MemoryStore, ledger: &mut Ledger) {
    for (author, recorded) in store.forks() {
        ledger.freeze(author, recorded.fork.seq - 1);
    }
    let mut unknown = usize::MAX;
    loop {
        let applied = ledger.applied();
        let mut strangers = 0;
        for (author, head) in store.frontier() {
            let after = applied.get(&author).copied().unwrap_or(0);
            if after >= head.seq {
                continue;
            }
            if !ledger.knows(&author) {
                strangers += 1;
                continue;
            }
            if let Ok(events) = store.range(&author, after, usize::MAX) {
                for event in events {
                    ledger.offer(event);
                }
            }
        }
        if strangers == 0 || strangers >= unknown {
            return;
        }
        unknown = strangers;
    }
}

/// What a node's fold decided for each event it applied: accepted, or the rejection's code.
pub fn verdicts(ledger: &Ledger) -> BTreeMap<EventId, String> {
    let rejections = ledger.rejections();
    let mut out = BTreeMap::new();
    for (author, applied) in ledger.applied() {
        for seq in 1..=applied {
            if let Some(id) = ledger.applied_id(&author, seq) {
                let verdict = rejections
                    .get(&id)
                    .map_or_else(|| "accepted".to_owned(), |r| r.code().to_owned());
                out.insert(id, verdict);
            }
        }
    }
    out
}
