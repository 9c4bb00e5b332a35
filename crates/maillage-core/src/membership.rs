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
    /// The federation moves to the next protocol version (§0): from each hub's `from_seq` on,
    /// its events follow `version`.
    Protocol {
        /// The version in effect + 1.
        version: u32,
        /// Every present hub's current key with the first seq of its feed of the new version,
        /// in the proposal's order.
        switches: Vec<(HubId, u64)>,
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
            Change::Protocol { version, switches } => W::Protocol(pb::ProtocolChanged {
                version: *version,
                switches: switches
                    .iter()
                    .map(|(member, from_seq)| pb::VersionSwitch {
                        member: member.0.to_vec(),
                        from_seq: *from_seq,
                    })
                    .collect(),
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
    /// The founding charter's protocol version.
    pub base_version: u32,
    /// The version the protocol changes in effect moved to (`base_version` if none).
    pub version: u32,
    /// Per key, from which seq its events follow which version, ascending: a protocol change
    /// adds `(from_seq, version)` for each hub's current key; a key admitted (or succeeding)
    /// after one starts at `(1, version)`. A key without an entry follows `base_version`.
    versions: BTreeMap<HubId, Vec<(u64, u32)>>,
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
            base_version: charter.protocol_version(),
            version: charter.protocol_version(),
            versions: BTreeMap::new(),
        }
    }

    /// The protocol version the events of `key` follow at `seq` in this membership (§0).
    pub fn expected_version(&self, key: &HubId, seq: u64) -> u32 {
        self.versions
            .get(key)
            .and_then(|steps| steps.iter().rev().find(|(from, _)| *from <= seq))
            .map_or(self.base_version, |(_, version)| *version)
    }

    /// The first seq of `key`'s feed that must follow a version above `version`, if any:
    /// where a node that implements only up to `version` stops signing (and a node that
    /// implements it switches).
    pub fn switch_above(&self, key: &HubId, version: u32) -> Option<(u64, u32)> {
        self.versions
            .get(key)?
            .iter()
            .find(|(_, v)| *v > version)
            .copied()
    }

    /// A new key (admitted, or succeeding) follows the version in effect from its first seq.
    fn start_key(&mut self, key: HubId) {
        if self.version != self.base_version {
            self.versions.insert(key, vec![(1, self.version)]);
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
                next.start_key(*key);
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
                        next.start_key(*successor);
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
            Change::Protocol { version, switches } => {
                let expected = self.version.saturating_add(1);
                if *version != expected {
                    return Err(Rejection::AmendmentProtocolVersion {
                        expected,
                        found: *version,
                    });
                }
                let hubs: BTreeSet<HubId> = self
                    .seats
                    .iter()
                    .filter(|s| s.role == Role::Hub && !s.removed && s.merged_into.is_none())
                    .map(|s| s.key)
                    .collect();
                let problem = |problem: &str| Rejection::AmendmentProtocolSwitch {
                    hubs: hubs.len() as u32,
                    problem: problem.to_owned(),
                };
                let named: BTreeSet<HubId> = switches.iter().map(|(k, _)| *k).collect();
                if named.len() != switches.len() {
                    return Err(problem("named_twice"));
                }
                if named.iter().any(|k| !hubs.contains(k)) {
                    return Err(problem("not_present"));
                }
                if named.len() != hubs.len() {
                    return Err(problem("missing"));
                }
                if switches.iter().any(|(_, from)| *from == 0) {
                    return Err(problem("zero_seq"));
                }
                next.version = *version;
                for (key, from_seq) in switches {
                    next.versions
                        .entry(*key)
                        .or_default()
                        .push((*from_seq, *version));
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

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::charter::MemberSpec;
    use crate::crypto::SecretKey;

    fn key(n: u8) -> HubId {
        SecretKey::from_seed(&[n; 32]).hub_id()
    }

    #[test]
    fn a_protocol_change_moves_each_feed_from_its_seq_and_new_keys_from_their_first() {
        let charter = Charter::found(
            "T",
            1,
            [(1, "13"), (2, "69")]
                .iter()
                .map(|(n, t)| MemberSpec {
                    key: key(*n),
                    name: format!("hub {t}"),
                    role: Role::Hub,
                    territories: BTreeSet::from([t.to_string()]).into_iter().collect(),
                })
                .collect(),
        )
        .unwrap();
        let founding = Membership::founding(&charter);
        let v = founding.version;
        assert_eq!(founding.expected_version(&key(1), 1_000_000), v);
        let change = |version, switches: Vec<(HubId, u64)>| Change::Protocol { version, switches };
        // Each present hub once, from a seq of at least 1, to the next version only.
        for (bad, code) in [
            (
                change(v + 2, vec![(key(1), 5), (key(2), 7)]),
                "amendment.protocol_version",
            ),
            (
                change(v + 1, vec![(key(1), 5)]),
                "amendment.protocol_switch",
            ),
            (
                change(v + 1, vec![(key(1), 5), (key(1), 6)]),
                "amendment.protocol_switch",
            ),
            (
                change(v + 1, vec![(key(1), 5), (key(3), 6)]),
                "amendment.protocol_switch",
            ),
            (
                change(v + 1, vec![(key(1), 0), (key(2), 6)]),
                "amendment.protocol_switch",
            ),
        ] {
            assert_eq!(founding.apply(&bad).unwrap_err().code(), code, "{bad:?}");
        }
        let moved = founding
            .apply(&change(v + 1, vec![(key(1), 5), (key(2), 7)]))
            .unwrap();
        assert_eq!(moved.expected_version(&key(1), 4), v);
        assert_eq!(moved.expected_version(&key(1), 5), v + 1);
        assert_eq!(moved.expected_version(&key(2), 6), v);
        assert_eq!(moved.expected_version(&key(2), 7), v + 1);
        assert_eq!(moved.switch_above(&key(1), v), Some((5, v + 1)));
        assert_eq!(moved.switch_above(&key(1), v + 1), None);
        // A successor key signs the new version from its first event.
        let rotated = moved
            .apply(&Change::Succession {
                member: key(2),
                last_seq: 9,
                successor: key(4),
                branch: None,
            })
            .unwrap();
        assert_eq!(rotated.expected_version(&key(4), 1), v + 1);
        // The next change moves on from there.
        let again = rotated
            .apply(&change(v + 2, vec![(key(1), 20), (key(4), 3)]))
            .unwrap();
        assert_eq!(again.expected_version(&key(1), 19), v + 1);
        assert_eq!(again.expected_version(&key(1), 20), v + 2);
        assert_eq!(again.expected_version(&key(4), 2), v + 1);
        assert_eq!(again.expected_version(&key(4), 3), v + 2);
    }
}
