//! Charter amendments (docs/protocol.md §1b): proposing and endorsing them, and the
//! federation as the views see it — members, their keys, and the history of amendments.

use maillage_core::lang::t;
use maillage_core::ledger::AmendmentView;
use maillage_core::membership::{Change, Membership};
use maillage_core::tr;
use maillage_core::{EventId, HubId, Ledger, Role, pb};
use maillage_store::EventStore;

use crate::app::App;
use crate::error::{AppError, Result};
use crate::queries::role_name;
use crate::request::{
    AmendmentChangeView, AmendmentRequest, Effect, ProposeAmendment, RecoveryPlanView, Signed,
};
use crate::resolve;
use crate::views::{AmendmentItem, CharterView, MemberView};

impl App {
    pub(crate) fn propose_amendment(&self, r: ProposeAmendment) -> Result<Signed> {
        let me = self.node().id();
        let next_own_seq = self.node().store.head(&me).map_or(1, |h| h.seq + 1);
        let mut views = self.node().views()?;
        let membership = views.membership();
        let number = membership.number + 1;
        let change = self.change_of(&views, &membership, r.change, &me, next_own_seq)?;
        let body = pb::event::Body::AmendmentProposed(pb::AmendmentProposed {
            number,
            change: Some(change.to_wire()),
            reason: r.reason,
        });
        let threshold = membership.threshold;
        let charter = self.node().charter.clone();
        self.sign(&mut views, body, move |ledger, _| {
            Effect::AmendmentProposed {
                number,
                change: change_view(&change),
                threshold,
                in_effect: ledger.membership().number >= number,
            }
        })
        .map_err(|e| {
            let name = charter.name();
            e.context(tr!(
                "amendement {number} de {name:?}",
                "amendment {number} of {name:?}"
            ))
        })
    }

    pub(crate) fn endorse_amendment(&self, prefix: &str) -> Result<Signed> {
        let mut views = self.node().views()?;
        let proposal = find_proposal(&views, prefix)?;
        let body = pb::event::Body::AmendmentEndorsed(pb::AmendmentEndorsed {
            proposal: Some(proposal.at.into()),
        });
        let (id, number) = (proposal.proposal, proposal.number);
        self.sign(&mut views, body, move |ledger, _| {
            Effect::AmendmentEndorsed {
                proposal: id,
                number,
                in_effect: ledger.membership().number >= number,
                round: ledger.proposal_round(&id).unwrap_or(1),
            }
        })
    }

    pub(crate) fn recovery_plan(&self, member: &str) -> Result<RecoveryPlanView> {
        let membership = self.node().views()?.membership();
        let key = match key_of("member", member) {
            Ok(key) => key,
            Err(_) => member_of(&membership, "member", member)?,
        };
        let name = membership
            .name(&key)
            .map_or_else(|| key.short(), str::to_owned);
        let fork = self.node().store.forks().remove(&key).ok_or_else(|| {
            AppError::not_found(tr!(
                "le flux de {name} n'a pas bifurqué dans le stockage de ce nœud : aucune reprise à proposer",
                "{name}'s feed did not fork in this node's store: no recovery to propose"
            ))
        })?;
        let (last_seq, branch) = self.node().store.held_branch(&key)?.ok_or_else(|| {
            let seq = fork.fork.seq;
            AppError::not_found(tr!(
                "ce nœud ne détient aucun événement de {name} après sa bifurcation à la position {seq} : demandez à un hub qui en détient",
                "this node holds none of {name}'s events past its fork at seq {seq}: ask a hub that does"
            ))
        })?;
        Ok(RecoveryPlanView {
            member: key,
            name,
            fork_seq: fork.fork.seq,
            last_seq,
            branch,
        })
    }

    /// The change a request names, members resolved against the views.
    fn change_of(
        &self,
        views: &Ledger,
        membership: &Membership,
        request: AmendmentRequest,
        me: &HubId,
        next_own_seq: u64,
    ) -> Result<Change> {
        let member = |field: &str, text: &str| member_of(membership, field, text);
        let last_seq = |key: &HubId, given: Option<u64>| -> u64 {
            given.unwrap_or_else(|| {
                if key == me {
                    next_own_seq
                } else {
                    views.applied().get(key).copied().unwrap_or(0)
                }
            })
        };
        Ok(match request {
            AmendmentRequest::Admit {
                key,
                name,
                observer,
                territories,
            } => Change::Admit {
                key: key_of("key", &key)?,
                name,
                role: if observer { Role::Observer } else { Role::Hub },
                territories: territories.into_iter().collect(),
            },
            AmendmentRequest::Remove {
                member: m,
                last_seq: given,
            } => {
                let key = member("member", &m)?;
                Change::Remove {
                    member: key,
                    last_seq: last_seq(&key, given),
                }
            }
            AmendmentRequest::Move {
                from,
                to,
                territories,
            } => Change::Move {
                from: member("from", &from)?,
                to: member("to", &to)?,
                territories: territories.into_iter().collect(),
            },
            AmendmentRequest::Threshold(t) => Change::Threshold(t),
            AmendmentRequest::Succeed {
                member: m,
                successor,
                last_seq: given,
                branch,
            } => {
                let key = member("member", &m)?;
                let successor =
                    key_of("successor", &successor).or_else(|_| member("successor", &successor))?;
                let branch = match branch {
                    None => None,
                    Some(text) => Some(event_id("branch", &text)?),
                };
                Change::Succession {
                    member: key,
                    last_seq: last_seq(&key, given),
                    successor,
                    branch,
                }
            }
            AmendmentRequest::Protocol { version, margin } => {
                let switches = membership
                    .seats
                    .iter()
                    .filter(|s| s.role == Role::Hub && !s.removed && s.merged_into.is_none())
                    .map(|s| {
                        let next = last_seq(&s.key, None).saturating_add(1);
                        (s.key, next.saturating_add(margin))
                    })
                    .collect();
                Change::Protocol { version, switches }
            }
        })
    }

    /// The federation as these views see it: the membership at their head and every
    /// amendment proposed.
    pub(crate) fn federation_view(&self) -> Result<CharterView> {
        let charter = self.node().charter.clone();
        self.read(|views| {
            let membership = views.membership();
            let name = |key: &HubId| {
                membership
                    .name(key)
                    .map_or_else(|| key.short(), str::to_owned)
            };
            let members = membership
                .seats
                .iter()
                .map(|seat| MemberView {
                    key: seat.key,
                    name: seat.name.clone(),
                    role: role_name(seat.role).to_owned(),
                    territories: seat.territories.iter().cloned().collect(),
                    former_keys: seat.keys[..seat.keys.len().saturating_sub(1)].to_vec(),
                    status: match (seat.removed, seat.merged_into) {
                        (true, _) => "removed".into(),
                        (_, Some(to)) => {
                            format!("handed over to {}", membership.seats[to as usize].name)
                        }
                        _ => "present".into(),
                    },
                })
                .collect();
            let amendments = views
                .amendments()
                .into_iter()
                .map(|a: AmendmentView| AmendmentItem {
                    number: a.number,
                    proposal: a.proposal,
                    proposer: name(&a.proposer),
                    change: change_view(&a.change),
                    reason: a.reason,
                    endorsers: a.endorsers.iter().map(&name).collect(),
                    round: a.round,
                    in_effect: a.in_effect,
                    in_force: a.in_force,
                })
                .collect();
            Ok(CharterView {
                name: charter.name().to_owned(),
                federation_id: charter.federation_id().to_hex(),
                admission_threshold: membership.threshold,
                protocol_version: charter.protocol_version(),
                members,
                amendments_in_effect: membership.number,
                amendments,
            })
        })
    }
}

fn key_of(field: &str, text: &str) -> Result<HubId> {
    text.trim().parse::<HubId>().map_err(|_| {
        AppError::invalid(
            field,
            t(
                "une clé publique (64 chiffres hexadécimaux)",
                "a public key (64 hex digits)",
            ),
            text,
        )
    })
}

fn event_id(field: &str, text: &str) -> Result<EventId> {
    text.trim().parse::<EventId>().map_err(|_| {
        AppError::invalid(
            field,
            t(
                "un identifiant d'événement (64 chiffres hexadécimaux)",
                "an event id (64 hex digits)",
            ),
            text,
        )
    })
}

/// A present member named by its key (current or former) or by part of its name (case and
/// accents ignored): its current key.
fn member_of(membership: &Membership, field: &str, text: &str) -> Result<HubId> {
    if let Ok(key) = key_of(field, text) {
        return membership.seat(&key).map(|s| s.key).ok_or_else(|| {
            let key = key.short();
            AppError::not_found(tr!(
                "{field} : la clé {key} n'est pas membre de la fédération",
                "{field}: key {key} is not a member of the federation"
            ))
        });
    }
    let wanted = resolve::fold(text.trim());
    let found: Vec<&maillage_core::membership::Seat> = membership
        .seats
        .iter()
        .filter(|s| !s.removed && s.merged_into.is_none())
        .filter(|s| !wanted.is_empty() && resolve::fold(&s.name).contains(&wanted))
        .collect();
    match found.as_slice() {
        [one] => Ok(one.key),
        [] => {
            let text = maillage_core::excerpt::Excerpt::of(text);
            Err(AppError::not_found(tr!(
                "{field} : aucun membre présent ne porte un nom comme {text}",
                "{field}: no present member named like {text}"
            )))
        }
        many => {
            let (text, n, names) = (
                maillage_core::excerpt::Excerpt::of(text),
                many.len(),
                many.iter()
                    .map(|s| s.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
            );
            Err(AppError::invalid_field(
                field,
                tr!(
                    "{field} : {text} désigne {n} membres ({names}) : donnez leur clé",
                    "{field}: {text} names {n} members ({names}): give their key"
                ),
            ))
        }
    }
}

/// The proposal a prefix of its id names.
fn find_proposal(views: &Ledger, prefix: &str) -> Result<AmendmentView> {
    let wanted = prefix.trim().to_ascii_lowercase();
    if wanted.len() < 4 || !wanted.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(AppError::invalid(
            "proposal",
            t(
                "l'identifiant d'événement de la proposition ou un de ses préfixes (au moins 4 chiffres hexadécimaux)",
                "the proposal's event id or a prefix of it (at least 4 hex digits)",
            ),
            prefix,
        ));
    }
    let found: Vec<AmendmentView> = views
        .amendments()
        .into_iter()
        .filter(|a| a.proposal.to_hex().starts_with(&wanted))
        .collect();
    match found.as_slice() {
        [one] => Ok(one.clone()),
        [] => {
            let prefix = maillage_core::excerpt::Excerpt::of(prefix);
            Err(AppError::not_found(tr!(
                "aucune proposition d'amendement {prefix} dans les vues de ce nœud (`maillage federation show` les liste)",
                "no amendment proposal {prefix} in this node's views (`maillage federation show` lists them)"
            )))
        }
        _ => {
            let (prefix, n) = (maillage_core::excerpt::Excerpt::of(prefix), found.len());
            Err(AppError::invalid_field(
                "proposal",
                tr!(
                    "{prefix} désigne {n} propositions : donnez plus de chiffres",
                    "{prefix} names {n} proposals: give more digits"
                ),
            ))
        }
    }
}

/// A change as a view.
pub fn change_view(change: &Change) -> AmendmentChangeView {
    match change {
        Change::Admit {
            key,
            name,
            role,
            territories,
        } => AmendmentChangeView::Admit {
            key: *key,
            name: name.clone(),
            role: role_name(*role).to_owned(),
            territories: territories.iter().cloned().collect(),
        },
        Change::Remove { member, last_seq } => AmendmentChangeView::Remove {
            member: *member,
            last_seq: *last_seq,
        },
        Change::Move {
            from,
            to,
            territories,
        } => AmendmentChangeView::Move {
            from: *from,
            to: *to,
            territories: territories.iter().cloned().collect(),
        },
        Change::Threshold(threshold) => AmendmentChangeView::Threshold {
            threshold: *threshold,
        },
        Change::Succession {
            member,
            last_seq,
            successor,
            branch,
        } => AmendmentChangeView::Succession {
            member: *member,
            last_seq: *last_seq,
            successor: *successor,
            branch: *branch,
        },
        Change::Protocol { version, switches } => AmendmentChangeView::Protocol {
            version: *version,
            switches: switches.clone(),
        },
    }
}
