//! The federation charter (protocol section 1): who the members are, their roles and the
//! territories each hub is authoritative for.
//!
//! The charter is encoded once (protobuf) by [`Charter::found`]; every node loads those exact
//! bytes with [`Charter::from_bytes`], which re-checks every rule. The federation id is the
//! tagged hash of the bytes, so two nodes with the same file agree on the federation.
//!
//! Rules checked: version 1; a protocol version this build implements; a name; at least one hub; `1 <= k <= hubs`; members sorted by key
//! with no duplicate; every key a canonical, non-small-order Ed25519 point; hubs hold at least
//! one territory and observers none; every territory a valid département code, held by at
//! most one hub.

use std::collections::{BTreeMap, BTreeSet};

use maillage_proto::v1 as pb;
use prost::Message;
use thiserror::Error;

use crate::crypto::{self, CryptoError, PublicKey};
use crate::ids::{FederationId, HubId};
use crate::territory::is_departement_code;
use crate::version::{self, PROTOCOL_VERSION, SUPPORTED_VERSIONS};

/// Charter format version.
pub const CHARTER_VERSION: u32 = 1;

/// What a member does in the federation.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// A territorial hub: authors events for its territories and replicates everything.
    Hub,
    /// A national coordinator's read replica: replicates and verifies, authors nothing.
    Observer,
}

/// A member as given by the founders, before encoding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberSpec {
    /// Public key.
    pub key: HubId,
    /// Display name (e.g. "Hinaura").
    pub name: String,
    /// Hub or observer.
    pub role: Role,
    /// INSEE département codes (hubs only).
    pub territories: Vec<String>,
}

/// A validated member.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    /// The checked public key.
    pub key: PublicKey,
    /// Display name.
    pub name: String,
    /// Hub or observer.
    pub role: Role,
    /// Départements held (empty for observers).
    pub territories: BTreeSet<String>,
}

/// A charter rule that does not hold.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum CharterError {
    /// The bytes are not a protobuf `Charter`.
    #[error("{}", crate::tr!("la charte ne se décode pas : {_0}", "charter does not decode: {_0}"))]
    Decode(String),
    /// Unsupported version.
    #[error("{}", crate::tr!(
        "version de la charte : {expected} attendue, {found} reçue",
        "charter version: expected {expected}, found {found}"
    ))]
    Version {
        /// Supported version.
        expected: u32,
        /// Version found.
        found: u32,
    },
    /// The charter names no protocol version (it was made before versions were named, by a
    /// protocol v1 release), or one this build does not implement.
    #[error("{}", protocol_version_message(.found))]
    ProtocolVersion {
        /// The version the charter names (0: none).
        found: u32,
    },
    /// No federation name.
    #[error(
        "{}",
        crate::lang::t("la charte n'a pas de nom", "charter has no name")
    )]
    NoName,
    /// No hub at all.
    #[error(
        "{}",
        crate::lang::t(
            "la charte ne nomme aucun hub : une fédération en demande au moins un",
            "charter names no hub: a federation needs at least one"
        )
    )]
    NoHub,
    /// `k` out of range.
    #[error("{}", crate::tr!(
        "seuil d'admission : attendu de 1 à {hubs} (le nombre de hubs), reçu {found}",
        "admission threshold: expected 1..={hubs} (the number of hubs), found {found}"
    ))]
    Threshold {
        /// Number of hubs.
        hubs: usize,
        /// Threshold found.
        found: u32,
    },
    /// A key that is not 32 bytes.
    #[error("{}", crate::tr!(
        "membre n° {index} : clé : 32 octets attendus, {found} reçus",
        "member #{index}: key: expected 32 bytes, found {found}"
    ))]
    KeyLength {
        /// Position in the list (1-based).
        index: usize,
        /// Bytes found.
        found: usize,
    },
    /// A key refused by the signature rule (non-canonical or of small order).
    #[error("{}", crate::tr!("membre {name:?} : {source}", "member {name:?}: {source}"))]
    Key {
        /// Member name.
        name: String,
        /// Why.
        #[source]
        source: CryptoError,
    },
    /// Members out of order or repeated.
    #[error("{}", crate::tr!(
        "membre {name:?} : les clés doivent être uniques et triées par ordre croissant ({key} est mal placée ou répétée)",
        "member {name:?}: keys must be unique and sorted ascending ({key} is out of order or repeated)"
    ))]
    Order {
        /// Member name.
        name: String,
        /// Key, hex.
        key: String,
    },
    /// Missing member name.
    #[error("{}", crate::tr!("membre n° {index} : pas de nom", "member #{index}: no name"))]
    MemberName {
        /// Position (1-based).
        index: usize,
    },
    /// Role unspecified or unknown.
    #[error("{}", crate::tr!(
        "membre {name:?} : le rôle doit être hub ou observer, reçu {found}",
        "member {name:?}: role must be hub or observer, found {found}"
    ))]
    Role {
        /// Member name.
        name: String,
        /// Raw role value.
        found: i32,
    },
    /// A hub without territory, or an observer with some.
    #[error("{}", crate::tr!("membre {name:?} : {reason}", "member {name:?}: {reason}"))]
    Territories {
        /// Member name.
        name: String,
        /// What is wrong.
        reason: String,
    },
    /// Two hubs claim the same département.
    #[error("{}", crate::tr!(
        "le territoire {territory} est tenu à la fois par {first:?} et {second:?} : deux hubs ne tiennent jamais le même territoire",
        "territory {territory} is held by both {first:?} and {second:?}: two hubs never hold the same territory"
    ))]
    TerritoryTaken {
        /// The département.
        territory: String,
        /// First holder.
        first: String,
        /// Second holder.
        second: String,
    },
}

fn protocol_version_message(found: &u32) -> String {
    let implemented = version::list(SUPPORTED_VERSIONS);
    if *found == 0 {
        format!(
            "the charter names no protocol version: it was made by a maillage release of protocol \
             v1, and this build implements protocol {implemented}. There is no migration: found the \
             federation again (`maillage federation create members.toml`), then on each node \
             `maillage init --data-dir NEW_DIR --charter charter.pb` a fresh data dir and re-import \
             its venues (`maillage venues import FILE`)"
        )
    } else {
        format!(
            "the charter names protocol v{found}; this build implements protocol {implemented}: {}",
            version::advice(*found)
        )
    }
}

/// A validated charter, with the exact bytes it was loaded from.
///
/// The founding document never changes. Beside it, the charter keeps the keys that amendments
/// the node has folded admitted or retired (docs/protocol.md §1b), shared by everything that
/// holds the charter: the store accepts events of admitted keys, the handshake admits them
/// and refuses retired ones. The rules themselves never read this: they ask the membership
/// in effect in each event's causal past ([`crate::membership`]).
#[derive(Debug, Clone)]
pub struct Charter {
    bytes: Vec<u8>,
    id: FederationId,
    name: String,
    admission_threshold: u32,
    protocol_version: u32,
    retention_days: u32,
    members: BTreeMap<HubId, Member>,
    territory_holders: BTreeMap<String, HubId>,
    live: std::sync::Arc<std::sync::RwLock<Live>>,
}

/// Keys amendments changed, as far as this node folded them. Admitted members are allocated
/// once and never freed (a few hundred bytes per amendment over a federation's life), so that
/// [`Charter::member`] lends them like founding members.
#[derive(Debug, Default)]
struct Live {
    admitted: BTreeMap<HubId, &'static Member>,
    retired: std::collections::BTreeSet<HubId>,
}

impl PartialEq for Charter {
    fn eq(&self, other: &Self) -> bool {
        self.bytes == other.bytes
    }
}

impl Eq for Charter {}

impl Charter {
    /// Founds a federation running this build's [`PROTOCOL_VERSION`]: sorts the members by
    /// key, encodes the charter once, validates it.
    pub fn found(
        name: &str,
        admission_threshold: u32,
        mut members: Vec<MemberSpec>,
    ) -> Result<Self, CharterError> {
        members.sort_by_key(|m| m.key);
        let message = pb::Charter {
            version: CHARTER_VERSION,
            name: name.trim().to_owned(),
            admission_threshold,
            members: members
                .into_iter()
                .map(|m| {
                    let mut territories: Vec<String> = m
                        .territories
                        .iter()
                        .map(|t| t.trim().to_ascii_uppercase())
                        .collect();
                    territories.sort();
                    territories.dedup();
                    pb::Member {
                        key: m.key.0.to_vec(),
                        name: m.name.trim().to_owned(),
                        role: match m.role {
                            Role::Hub => pb::Role::Hub as i32,
                            Role::Observer => pb::Role::Observer as i32,
                        },
                        territories,
                    }
                })
                .collect(),
            protocol_version: PROTOCOL_VERSION,
            person_retention_days: 0,
        };
        Self::from_bytes(message.encode_to_vec())
    }

    /// Loads and validates charter bytes exactly as distributed.
    pub fn from_bytes(bytes: Vec<u8>) -> Result<Self, CharterError> {
        let message = pb::Charter::decode(bytes.as_slice())
            .map_err(|e| CharterError::Decode(e.to_string()))?;
        if message.version != CHARTER_VERSION {
            return Err(CharterError::Version {
                expected: CHARTER_VERSION,
                found: message.version,
            });
        }
        if !version::implements(message.protocol_version) {
            return Err(CharterError::ProtocolVersion {
                found: message.protocol_version,
            });
        }
        if message.name.trim().is_empty() {
            return Err(CharterError::NoName);
        }
        let mut members = BTreeMap::new();
        let mut territory_holders: BTreeMap<String, HubId> = BTreeMap::new();
        let mut previous: Option<HubId> = None;
        for (position, m) in message.members.iter().enumerate() {
            let index = position + 1;
            if m.name.trim().is_empty() {
                return Err(CharterError::MemberName { index });
            }
            let id = HubId::try_from(m.key.as_slice()).map_err(|_| CharterError::KeyLength {
                index,
                found: m.key.len(),
            })?;
            if previous.is_some_and(|p| p >= id) {
                return Err(CharterError::Order {
                    name: m.name.clone(),
                    key: id.to_hex(),
                });
            }
            previous = Some(id);
            let key = PublicKey::from_hub_id(id).map_err(|source| CharterError::Key {
                name: m.name.clone(),
                source,
            })?;
            let role = match pb::Role::try_from(m.role) {
                Ok(pb::Role::Hub) => Role::Hub,
                Ok(pb::Role::Observer) => Role::Observer,
                _ => {
                    return Err(CharterError::Role {
                        name: m.name.clone(),
                        found: m.role,
                    });
                }
            };
            let territories: BTreeSet<String> = m.territories.iter().cloned().collect();
            if territories.len() != m.territories.len() {
                return Err(CharterError::Territories {
                    name: m.name.clone(),
                    reason: crate::lang::t(
                        "un territoire est donné deux fois",
                        "a territory is listed twice",
                    )
                    .into(),
                });
            }
            match role {
                Role::Hub if territories.is_empty() => {
                    return Err(CharterError::Territories {
                        name: m.name.clone(),
                        reason: crate::lang::t(
                            "un hub doit tenir au moins un territoire",
                            "a hub must hold at least one territory",
                        )
                        .into(),
                    });
                }
                Role::Observer if !territories.is_empty() => {
                    return Err(CharterError::Territories {
                        name: m.name.clone(),
                        reason: crate::lang::t(
                            "un observateur ne tient aucun territoire",
                            "an observer holds no territory",
                        )
                        .into(),
                    });
                }
                _ => {}
            }
            for territory in &territories {
                if !is_departement_code(territory) {
                    return Err(CharterError::Territories {
                        name: m.name.clone(),
                        reason: crate::tr!(
                            "codes de département INSEE attendus, reçu {territory:?}",
                            "expected INSEE département codes, found {territory:?}"
                        ),
                    });
                }
                if let Some(first) = territory_holders.insert(territory.clone(), id) {
                    let first_name = members
                        .get(&first)
                        .map(|f: &Member| f.name.clone())
                        .unwrap_or_default();
                    return Err(CharterError::TerritoryTaken {
                        territory: territory.clone(),
                        first: first_name,
                        second: m.name.clone(),
                    });
                }
            }
            members.insert(
                id,
                Member {
                    key,
                    name: m.name.clone(),
                    role,
                    territories,
                },
            );
        }
        let hubs = members.values().filter(|m| m.role == Role::Hub).count();
        if hubs == 0 {
            return Err(CharterError::NoHub);
        }
        let threshold = message.admission_threshold;
        if threshold == 0 || threshold as usize > hubs {
            return Err(CharterError::Threshold {
                hubs,
                found: threshold,
            });
        }
        let id = crypto::federation_id(&bytes);
        Ok(Self {
            bytes,
            id,
            name: message.name,
            admission_threshold: threshold,
            protocol_version: message.protocol_version,
            retention_days: match message.person_retention_days {
                0 => crate::personal::RETENTION_DAYS_DEFAULT,
                days => days,
            },
            members,
            territory_holders,
            live: Default::default(),
        })
    }

    /// The exact bytes, to write to the charter file.
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// `SHA-256("maillage/v1/charter\0" || bytes)`.
    pub fn federation_id(&self) -> FederationId {
        self.id
    }

    /// The federation's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// `k`: endorsements needed to change membership.
    pub fn admission_threshold(&self) -> u32 {
        self.admission_threshold
    }

    /// The protocol version the federation runs: the `version` of every event.
    pub fn protocol_version(&self) -> u32 {
        self.protocol_version
    }

    /// Days a personal part and its links live after its event's day (§5c; 730 unless the
    /// charter says).
    pub fn retention_days(&self) -> u32 {
        self.retention_days
    }

    /// A member by key: a founding member, or a key an amendment this node folded admitted
    /// (a new member, or a successor key under its member's name).
    pub fn member(&self, id: &HubId) -> Option<&Member> {
        self.members
            .get(id)
            .or_else(|| self.live().admitted.get(id).copied())
    }

    /// Whether an amendment this node folded retired this key (a removed member, a
    /// succeeded key): connections from it are refused.
    pub fn is_retired(&self, id: &HubId) -> bool {
        self.live().retired.contains(id)
    }

    /// All members, by key.
    pub fn members(&self) -> &BTreeMap<HubId, Member> {
        &self.members
    }

    /// The hub holding a département, if any.
    pub fn holder_of(&self, departement: &str) -> Option<HubId> {
        self.territory_holders.get(departement).copied()
    }

    fn live(&self) -> std::sync::RwLockReadGuard<'_, Live> {
        self.live.read().unwrap_or_else(|p| p.into_inner())
    }

    /// A key an amendment admitted (a new member or a successor key) may author and connect.
    pub fn admit(&self, key: HubId, name: &str, role: Role) -> Result<(), CharterError> {
        let public = PublicKey::from_hub_id(key).map_err(|source| CharterError::Key {
            name: name.to_owned(),
            source,
        })?;
        let mut live = self.live.write().unwrap_or_else(|p| p.into_inner());
        live.retired.remove(&key);
        if self.members.contains_key(&key) || live.admitted.contains_key(&key) {
            return Ok(());
        }
        let member: &'static Member = Box::leak(Box::new(Member {
            key: public,
            name: name.to_owned(),
            role,
            territories: Default::default(),
        }));
        live.admitted.insert(key, member);
        Ok(())
    }

    /// A key an amendment retired (a removed member, a succeeded key): connections from it are
    /// refused (its events up to its last counted seq are still stored and replicated).
    pub fn retire(&self, key: HubId) {
        self.live
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .retired
            .insert(key);
    }

    /// How many keys folded amendments admitted (new members and successor keys): it only
    /// grows.
    pub fn admitted_count(&self) -> usize {
        self.live().admitted.len()
    }

    /// Every key this node knows (founding and admitted), with their member and whether
    /// retired.
    pub fn known_keys(&self) -> Vec<(HubId, Member, bool)> {
        let live = self.live();
        self.members
            .iter()
            .chain(live.admitted.iter().map(|(k, m)| (k, *m)))
            .map(|(k, m)| (*k, m.clone(), live.retired.contains(k)))
            .collect()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::crypto::SecretKey;

    fn spec(seed: u8, name: &str, role: Role, territories: &[&str]) -> MemberSpec {
        MemberSpec {
            key: SecretKey::from_seed(&[seed; 32]).hub_id(),
            name: name.into(),
            role,
            territories: territories.iter().map(|t| t.to_string()).collect(),
        }
    }

    #[test]
    fn founding_is_deterministic_whatever_the_member_order() {
        let a = spec(1, "Hub du Sud", Role::Hub, &["13", "84", "04"]);
        let b = spec(2, "Hinaura", Role::Hub, &["69", "74"]);
        let c = spec(3, "ANCT", Role::Observer, &[]);
        let one = Charter::found("France", 2, vec![a.clone(), b.clone(), c.clone()]).unwrap();
        let two = Charter::found("France", 2, vec![c, b, a]).unwrap();
        assert_eq!(one.bytes(), two.bytes());
        assert_eq!(one.federation_id(), two.federation_id());
        let reloaded = Charter::from_bytes(one.bytes().to_vec()).unwrap();
        assert_eq!(reloaded, one);
        assert_eq!(
            one.holder_of("84"),
            Some(SecretKey::from_seed(&[1; 32]).hub_id())
        );
    }

    #[test]
    fn rules_are_enforced_with_precise_errors() {
        let a = spec(1, "A", Role::Hub, &["13"]);
        let b = spec(2, "B", Role::Hub, &["13"]);
        let err = Charter::found("F", 1, vec![a.clone(), b]).unwrap_err();
        assert!(
            matches!(err, CharterError::TerritoryTaken { ref territory, .. } if territory == "13"),
            "{err}"
        );
        let err = Charter::found("F", 2, vec![a.clone()]).unwrap_err();
        assert_eq!(err, CharterError::Threshold { hubs: 1, found: 2 });
        let err = Charter::found("F", 1, vec![spec(3, "O", Role::Observer, &[])]).unwrap_err();
        assert_eq!(err, CharterError::NoHub);
        let err = Charter::found("F", 1, vec![spec(4, "X", Role::Hub, &["20"])]).unwrap_err();
        assert!(err.to_string().contains("reçu \"20\""), "{err}");
        let err = Charter::found("F", 1, vec![spec(4, "X", Role::Hub, &[])]).unwrap_err();
        assert!(err.to_string().contains("au moins un territoire"), "{err}");
        let mut weak = spec(5, "Weak", Role::Hub, &["05"]);
        weak.key = HubId({
            let mut k = [0u8; 32];
            k[0] = 1;
            k
        });
        let err = Charter::found("F", 1, vec![weak]).unwrap_err();
        assert!(matches!(err, CharterError::Key { .. }), "{err}");
    }

    /// The charter `Charter::found` would encode, with another protocol version.
    fn with_protocol_version(charter: &Charter, protocol_version: u32) -> Vec<u8> {
        let mut message = pb::Charter::decode(charter.bytes()).unwrap();
        message.protocol_version = protocol_version;
        message.encode_to_vec()
    }

    #[test]
    fn the_charter_names_the_protocol_version_and_only_an_implemented_one_loads() {
        let charter = Charter::found("F", 1, vec![spec(1, "A", Role::Hub, &["13"])]).unwrap();
        assert_eq!(charter.protocol_version(), PROTOCOL_VERSION);
        let reloaded =
            Charter::from_bytes(with_protocol_version(&charter, PROTOCOL_VERSION)).unwrap();
        assert_eq!(reloaded, charter);
        // A charter of a protocol v1 release: no field. Refused, naming the way out.
        let err = Charter::from_bytes(with_protocol_version(&charter, 0)).unwrap_err();
        assert_eq!(err, CharterError::ProtocolVersion { found: 0 });
        let text = err.to_string();
        for words in [
            "names no protocol version",
            "protocol v1",
            "implements protocol v2",
            "maillage federation create",
            "maillage init --data-dir NEW_DIR --charter charter.pb",
            "maillage venues import",
        ] {
            assert!(text.contains(words), "{words:?} not in {text}");
        }
        // A charter of a later protocol.
        let err = Charter::from_bytes(with_protocol_version(&charter, 3)).unwrap_err();
        assert_eq!(
            err.to_string(),
            "the charter names protocol v3; this build implements protocol v2: upgrade \
             maillage to a release that implements v3"
        );
    }
}
