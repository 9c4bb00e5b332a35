//! Who is in the federation, as of one point of its history: the founding charter with the
//! amendments in effect there applied in order (docs/protocol.md §1b).
//!
//! A member is a seat: a name, a role, territories, and the keys it signed with (the founding
//! key, then each successor key). Rules ask questions about keys ("does the author hold this
//! département?", "is the voucher's owner the author?") and the membership answers them by
//! seat, so that a successor key is the same member as the key it succeeds, and a hub that
//! handed over to a neighbour is that neighbour from then on.

use std::collections::{BTreeMap, BTreeSet};

use maillage_proto::v1 as pb;

use crate::charter::{Charter, Role};
use crate::crypto::PublicKey;
use crate::ids::{EventId, HubId};
use crate::rejection::Rejection;
use crate::territory::is_departement_code;

/// One member across its keys.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Seat {
    /// Display name.
    pub name: String,
    /// Hub or observer.
    pub role: Role,
    /// Départements held (hubs).
    pub territories: BTreeSet<String>,
    /// The key it signs with now.
    pub key: HubId,
    /// Every key it signed with, oldest first (the current one last).
    pub keys: Vec<HubId>,
    /// Removed from the federation.
    pub removed: bool,
    /// Handed everything over to this seat (a hub that closed).
    pub merged_into: Option<u32>,
}

/// A change of membership, checked (see [`Membership::apply`]).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Change {
    /// A new member.
    Admit {
        /// Its key.
        key: HubId,
        /// Its name.
        name: String,
        /// Hub or observer.
        role: Role,
        /// Départements (hubs).
        territories: BTreeSet<String>,
    },
    /// A member leaves; its key's events after `last_seq` never count.
    Remove {
        /// Its current key.
        member: HubId,
        /// The last seq of that key that counts.
        last_seq: u64,
    },
    /// Départements move between hubs.
    Move {
        /// Current key of the hub holding them.
        from: HubId,
        /// Current key of the hub receiving them.
        to: HubId,
        /// Which.
        territories: BTreeSet<String>,
    },
    /// A new admission threshold.
    Threshold(u32),
    /// A member's key is succeeded (see `events.proto`, `MemberSucceeded`).
    Succession {
        /// Its current key.
        member: HubId,
        /// The last seq of that key that counts.
        last_seq: u64,
        /// A new key, or another hub's current key.
        successor: HubId,
        /// The event at `last_seq` that stands, when the key's feed forked.
        branch: Option<EventId>,
    },
}

impl Change {
    /// The wire form of this change, as an `AmendmentProposed` carries it.
    pub fn to_wire(&self) -> pb::amendment_proposed::Change {
        use pb::amendment_proposed::Change as W;
        match self {
            Change::Admit {
                key,
                name,
                role,
                territories,
            } => W::Admit(pb::MemberAdmitted {
                key: key.0.to_vec(),
                name: name.clone(),
                role: match role {
                    Role::Hub => pb::Role::Hub as i32,
                    Role::Observer => pb::Role::Observer as i32,
                },
                territories: territories.iter().cloned().collect(),
            }),
            Change::Remove { member, last_seq } => W::Remove(pb::MemberRemoved {
                member: member.0.to_vec(),
                last_seq: *last_seq,
            }),
            Change::Move {
                from,
                to,
                territories,
            } => W::MoveTerritories(pb::TerritoriesMoved {
                from: from.0.to_vec(),
                to: to.0.to_vec(),
                territories: territories.iter().cloned().collect(),
            }),
            Change::Threshold(t) => W::Threshold(pb::ThresholdChanged { threshold: *t }),
            Change::Succession {
                member,
                last_seq,
                successor,
                branch,
            } => W::Succession(pb::MemberSucceeded {
                member: member.0.to_vec(),
                last_seq: *last_seq,
                successor: successor.0.to_vec(),
                branch: branch.map(|b| b.0.to_vec()).unwrap_or_default(),
            }),
        }
    }

    /// The key this change stops at `last_seq`, with its last seq and the branch that stands.
    pub fn cut(&self) -> Option<(HubId, u64, Option<EventId>)> {
        match self {
            Self::Remove { member, last_seq } => Some((*member, *last_seq, None)),
            Self::Succession {
                member,
                last_seq,
                branch,
                ..
            } => Some((*member, *last_seq, *branch)),
            _ => None,
        }
    }

    /// A key this change brings in (a new member, or a new successor key).
    pub fn new_key(&self, before: &Membership) -> Option<(HubId, Role)> {
        match self {
            Self::Admit { key, role, .. } => Some((*key, *role)),
            Self::Succession {
                successor, member, ..
            } if before.seat_index(successor).is_none() => {
                Some((*successor, before.role(member).unwrap_or(Role::Hub)))
            }
            _ => None,
        }
    }
}

/// The membership at one point of the federation's history.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Membership {
    /// Amendments applied (0: the founding charter).
    pub number: u32,
    /// Endorsements an amendment needs.
    pub threshold: u32,
    /// The members, founding ones first (in key order), then by admission.
    pub seats: Vec<Seat>,
    /// Every key ever held → its seat.
    by_key: BTreeMap<HubId, u32>,
    /// Département → the seat holding it.
    holders: BTreeMap<String, u32>,
}

impl Membership {
    /// The founding membership.
    pub fn founding(charter: &Charter) -> Self {
        let mut seats = Vec::new();
        let mut by_key = BTreeMap::new();
        let mut holders = BTreeMap::new();
        for (key, member) in charter.members() {
            let index = seats.len() as u32;
            for t in &member.territories {
                holders.insert(t.clone(), index);
            }
            by_key.insert(*key, index);
            seats.push(Seat {
                name: member.name.clone(),
                role: member.role,
                territories: member.territories.clone(),
                key: *key,
                keys: vec![*key],
                removed: false,
                merged_into: None,
            });
        }
        Self {
            number: 0,
            threshold: charter.admission_threshold(),
            seats,
            by_key,
            holders,
        }
    }

    /// The seat a key belongs to (following hand-overs to the seat acting now).
    pub fn seat_index(&self, key: &HubId) -> Option<u32> {
        let mut seat = *self.by_key.get(key)?;
        // Hand-over chains are short; the bound guards against a cycle ever being built.
        for _ in 0..self.seats.len() {
            match self.seats[seat as usize].merged_into {
                Some(next) => seat = next,
                None => break,
            }
        }
        Some(seat)
    }

    /// The seat of a key.
    pub fn seat(&self, key: &HubId) -> Option<&Seat> {
        self.seat_index(key).map(|i| &self.seats[i as usize])
    }

    /// Whether `key` is the key a present member signs with now.
    pub fn is_current(&self, key: &HubId) -> bool {
        self.by_key
            .get(key)
            .map(|i| &self.seats[*i as usize])
            .is_some_and(|s| s.key == *key && !s.removed && s.merged_into.is_none())
    }

    /// The role of a key's member.
    pub fn role(&self, key: &HubId) -> Option<Role> {
        self.seat(key).map(|s| s.role)
    }

    /// Whether `key` is a present hub's current key.
    pub fn is_current_hub(&self, key: &HubId) -> bool {
        self.is_current(key) && self.role(key) == Some(Role::Hub)
    }

    /// Whether two keys are the same member (a key and its successor; a hub and the
    /// neighbour it handed over to).
    pub fn same_member(&self, a: &HubId, b: &HubId) -> bool {
        match (self.seat_index(a), self.seat_index(b)) {
            (Some(a), Some(b)) => a == b,
            _ => a == b,
        }
    }

    /// The key `key`'s member signs with now (after rotations, recovery and hand-overs);
    /// `key` itself for a key no seat knows.
    pub fn current_key(&self, key: &HubId) -> HubId {
        self.seat(key).map_or(*key, |s| s.key)
    }

    /// The current key of the hub holding a département.
    pub fn holder_of(&self, departement: &str) -> Option<HubId> {
        self.holders
            .get(departement)
            .map(|i| self.seats[*i as usize].key)
    }

    /// Whether `key`'s member holds `departement`.
    pub fn holds(&self, key: &HubId, departement: &str) -> bool {
        match (self.holders.get(departement), self.seat_index(key)) {
            (Some(holder), Some(seat)) => *holder == seat,
            _ => false,
        }
    }

    /// The départements `key`'s member holds.
    pub fn territories(&self, key: &HubId) -> Option<&BTreeSet<String>> {
        self.seat(key).map(|s| &s.territories)
    }

    /// The name of `key`'s member.
    pub fn name(&self, key: &HubId) -> Option<&str> {
        self.seat(key).map(|s| s.name.as_str())
    }

    /// Present hubs.
    pub fn hubs(&self) -> usize {
        self.seats
            .iter()
            .filter(|s| s.role == Role::Hub && !s.removed && s.merged_into.is_none())
            .count()
    }

    /// The membership after `change`, or why the change cannot apply to this one.
    pub fn apply(&self, change: &Change) -> Result<Self, Rejection> {
        let mut next = self.clone();
        next.number += 1;
        let current = |key: &HubId| -> Result<u32, Rejection> {
            if self.is_current(key) {
                self.seat_index(key)
                    .ok_or(Rejection::AmendmentUnknownMember { key: *key })
            } else {
                Err(Rejection::AmendmentUnknownMember { key: *key })
            }
        };
        match change {
            Change::Admit {
                key,
                name,
                role,
                territories,
            } => {
                if self.by_key.contains_key(key) {
                    return Err(Rejection::AmendmentKeyKnown { key: *key });
                }
                if PublicKey::from_hub_id(*key).is_err() {
                    return Err(Rejection::AmendmentBadKey { key: *key });
                }
                if name.trim().is_empty() || name.len() > 200 {
                    return Err(Rejection::AmendmentBadName);
                }
                if *role == Role::Observer && !territories.is_empty() {
                    return Err(Rejection::AmendmentObserverTerritories);
                }
                self.free_territories(territories)?;
                let index = next.seats.len() as u32;
                for t in territories {
                    next.holders.insert(t.clone(), index);
                }
                next.by_key.insert(*key, index);
                next.seats.push(Seat {
                    name: name.clone(),
                    role: *role,
                    territories: territories.clone(),
                    key: *key,
                    keys: vec![*key],
                    removed: false,
                    merged_into: None,
                });
            }
            Change::Remove { member, .. } => {
                let seat = current(member)? as usize;
                next.seats[seat].removed = true;
                for t in std::mem::take(&mut next.seats[seat].territories) {
                    next.holders.remove(&t);
                }
                next.check_threshold(next.threshold)?;
            }
            Change::Move {
                from,
                to,
                territories,
            } => {
                let from_seat = current(from)?;
                let to_seat = current(to)?;
                if from_seat == to_seat || !self.is_current_hub(from) || !self.is_current_hub(to) {
                    return Err(Rejection::AmendmentNotHub { key: *to });
                }
                if territories.is_empty() {
                    return Err(Rejection::AmendmentNoTerritory);
                }
                for t in territories {
                    if self.holders.get(t) != Some(&from_seat) {
                        return Err(Rejection::AmendmentTerritoryNotHeld {
                            departement: t.clone(),
                        });
                    }
                    next.holders.insert(t.clone(), to_seat);
                    next.seats[from_seat as usize].territories.remove(t);
                    next.seats[to_seat as usize].territories.insert(t.clone());
                }
            }
            Change::Threshold(threshold) => next.check_threshold(*threshold)?,
            Change::Succession {
                member, successor, ..
            } => {
                let seat = current(member)? as usize;
                if successor == member {
                    return Err(Rejection::AmendmentKeyKnown { key: *successor });
                }
                match self.by_key.get(successor) {
                    None => {
                        if PublicKey::from_hub_id(*successor).is_err() {
                            return Err(Rejection::AmendmentBadKey { key: *successor });
                        }
                        next.by_key.insert(*successor, seat as u32);
                        next.seats[seat].key = *successor;
                        next.seats[seat].keys.push(*successor);
                    }
                    Some(_) => {
                        // A hand-over: the successor is another present hub, which takes
                        // the member's territories and everything it owns.
                        let to = current(successor)?;
                        if !self.is_current_hub(successor) || self.role(member) != Some(Role::Hub) {
                            return Err(Rejection::AmendmentNotHub { key: *successor });
                        }
                        for t in std::mem::take(&mut next.seats[seat].territories) {
                            next.holders.insert(t.clone(), to);
                            next.seats[to as usize].territories.insert(t);
                        }
                        next.seats[seat].merged_into = Some(to);
                        next.check_threshold(next.threshold)?;
                    }
                }
            }
        }
        Ok(next)
    }

    fn free_territories(&self, territories: &BTreeSet<String>) -> Result<(), Rejection> {
        for t in territories {
            if !is_departement_code(t) {
                return Err(Rejection::BadValue {
                    field: crate::rejection::Field::Territories,
                    expected: "département codes".into(),
                    found: t.clone(),
                });
            }
            if self.holders.contains_key(t) {
                return Err(Rejection::AmendmentTerritoryHeld {
                    departement: t.clone(),
                });
            }
        }
        Ok(())
    }

    fn check_threshold(&mut self, threshold: u32) -> Result<(), Rejection> {
        let hubs = self.hubs() as u32;
        if threshold == 0 || threshold > hubs {
            return Err(Rejection::AmendmentThreshold { threshold, hubs });
        }
        self.threshold = threshold;
        Ok(())
    }
}
