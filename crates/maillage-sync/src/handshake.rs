//! The handshake (docs/protocol.md §8): both sides prove possession of a member key by signing
//! a transcript that binds the FederationId, both keys, both fresh challenges, the protocol
//! versions the client offers and the one the server chose, each side under its own role label
//! so that a signature can never be reflected back.
//!
//! Versions: the client offers the versions it implements; the server picks the highest it
//! implements too, or refuses ([`HandshakeError::NoCommonVersion`]); the client refuses a
//! choice it did not offer ([`HandshakeError::VersionNotOffered`]). A peer of a release before
//! versions were named offers or chooses nothing: it speaks protocol v1.
//!
//! Sans-IO: [`Sessions`] is the server's table, driven with the time and the random bytes it
//! needs; [`ClientHandshake`] is the client's half. A `Hello` is unauthenticated (anyone may
//! claim a member's key), so it leaves no state on the server: its challenge is issued with a
//! MAC of what the `Prove` must echo, and checked when the `Prove` comes; a flood of `Hello`s
//! claiming any key, the honest client's own included, evicts nothing. Sessions are bounded:
//! at most [`SESSIONS_PER_MEMBER`] per member (its new session evicts its own least recently
//! used) and [`SESSIONS_MAX`] in all (then the member holding the most loses its least
//! recently used).
//!
//! Size: the sans-IO handshake and, below it, one test per refusal (unknown key, reflected
//! signature, versions without a common one, versions altered in transit, bounds).

use std::collections::BTreeMap;

use maillage_core::crypto::HANDSHAKE_TAG;
use maillage_core::version::{self, VERSIONS_OFFERED_MAX};
use maillage_core::{Charter, FederationId, HubId, PublicKey, Role, SecretKey, pb};
use thiserror::Error;

/// Length of each side's challenge.
pub const NONCE_BYTES: usize = 32;
/// Length of a session token.
pub const SESSION_TOKEN_BYTES: usize = 16;
/// Open sessions of one member, at most (its least recently used is evicted).
pub const SESSIONS_PER_MEMBER: usize = 16;
/// Open sessions, at most (the least recently used of the member holding the most is evicted).
pub const SESSIONS_MAX: usize = 1024;
/// A `Hello` must be followed by its `Prove` within this time (the challenge says when it was
/// issued).
pub const PENDING_TTL_MS: u64 = 30_000;
/// A session unused for this long expires.
pub const SESSION_IDLE_TTL_MS: u64 = 10 * 60_000;
/// The metadata entry carrying the session token (hex).
pub const SESSION_METADATA: &str = "maillage-session";
/// The trailer of a Hello refused for want of a common version: the server's versions,
/// comma-separated decimal.
pub const VERSIONS_METADATA: &str = "maillage-protocol-versions";
/// The version a peer speaks when it names none: releases before versions were named.
pub const UNNAMED_VERSION: u32 = 1;

/// The versions a peer named, or [`UNNAMED_VERSION`] when it named none.
pub fn named_or_v1(versions: &[u32]) -> Vec<u32> {
    if versions.is_empty() {
        vec![UNNAMED_VERSION]
    } else {
        versions.to_vec()
    }
}

/// `incompatible protocol (peer: v3, this node: v2)`.
pub fn incompatible_text(peer: &[u32], ours: &[u32]) -> String {
    format!(
        "incompatible protocol (peer: {}, this node: {})",
        version::list(peer),
        version::list(ours)
    )
}

/// What to do about a peer of `peer` versions, for a node implementing `ours`.
pub fn incompatible_advice(peer: &[u32], ours: &[u32]) -> &'static str {
    if newest(peer) > newest(ours) {
        "this node must upgrade maillage to speak with it"
    } else {
        "the peer must upgrade maillage to speak with this node"
    }
}

/// [`incompatible_advice`] for the server's refusal, which its client reads too.
fn client_advice(client: &[u32], server: &[u32]) -> &'static str {
    if newest(client) > newest(server) {
        "this node (the server) must upgrade maillage to speak with the client"
    } else {
        "the client must upgrade maillage to speak with this node (the server)"
    }
}

fn newest(versions: &[u32]) -> u32 {
    versions.iter().max().copied().unwrap_or(0)
}

/// Which side signs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// The side that called.
    Client,
    /// The side that answered.
    Server,
}

/// Why a handshake or a session was refused.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum HandshakeError {
    /// A field had the wrong length.
    #[error("handshake: {field} must be {expected} bytes, found {found}")]
    Length {
        /// The field.
        field: &'static str,
        /// Expected length.
        expected: usize,
        /// Found length.
        found: usize,
    },
    /// The other side is in another federation.
    #[error("handshake: expected federation {expected}, found {found}")]
    Federation {
        /// Ours.
        expected: FederationId,
        /// Theirs.
        found: FederationId,
    },
    /// The key is not a member of the charter.
    #[error("handshake: key {0} is not a member of this federation")]
    UnknownKey(HubId),
    /// The server is not the one the client meant to reach.
    #[error("handshake: expected to reach {expected}, reached {found}")]
    WrongPeer {
        /// The configured peer.
        expected: HubId,
        /// The key that answered.
        found: HubId,
    },
    /// A signature over the transcript does not verify.
    #[error("handshake: the {0:?} signature does not verify")]
    BadSignature(Side),
    /// `Prove` without a matching `Hello` (unknown, expired or evicted).
    #[error(
        "handshake: this challenge is not one this node issued for this Prove, was issued more than {PENDING_TTL_MS} ms ago, or was already proven"
    )]
    NoPending,
    /// The session token is unknown or expired.
    #[error("session unknown or expired: handshake again")]
    NoSession,
    /// The key is not allowed to do this.
    #[error("handshake: {0}")]
    Refused(String),
    /// Too many handshakes claiming this key wait for their `Prove`, all recent.
    /// Server side: the client offers no version this node implements.
    #[error(
        "handshake: no common protocol version: the client offers {}, this node implements {}: {}; {}",
        version::list(.client), version::list(.server), incompatible_text(.client, .server),
        client_advice(.client, .server)
    )]
    NoCommonVersion {
        /// What the client offers ([`UNNAMED_VERSION`] if nothing).
        client: Vec<u32>,
        /// What this node implements.
        server: Vec<u32>,
    },
    /// Client side: the server chose a version the client did not offer.
    #[error(
        "handshake: the server chose protocol {}, this node offered {}: {}; {}",
        version::list(&[*.chosen]), version::list(.offered),
        incompatible_text(&[*.chosen], .offered), incompatible_advice(&[*.chosen], .offered)
    )]
    VersionNotOffered {
        /// The server's choice ([`UNNAMED_VERSION`] if it named none).
        chosen: u32,
        /// What the client offered.
        offered: Vec<u32>,
    },
    /// More versions offered than [`VERSIONS_OFFERED_MAX`].
    #[error("handshake: protocol_versions: expected at most {VERSIONS_OFFERED_MAX}, found {0}")]
    TooManyVersions(usize),
}

fn array<const N: usize>(field: &'static str, bytes: &[u8]) -> Result<[u8; N], HandshakeError> {
    bytes.try_into().map_err(|_| HandshakeError::Length {
        field,
        expected: N,
        found: bytes.len(),
    })
}

fn hub(field: &'static str, bytes: &[u8]) -> Result<HubId, HandshakeError> {
    Ok(HubId(array::<32>(field, bytes)?))
}

/// What both sides sign, but the role label.
#[derive(Debug, Clone, Copy)]
pub struct Transcript<'a> {
    /// The federation.
    pub federation: &'a FederationId,
    /// The client's key.
    pub client: &'a HubId,
    /// The server's key.
    pub server: &'a HubId,
    /// The client's challenge.
    pub client_nonce: &'a [u8; NONCE_BYTES],
    /// The server's challenge.
    pub server_nonce: &'a [u8; NONCE_BYTES],
    /// The versions the client offered, as sent (empty: none).
    pub client_versions: &'a [u32],
    /// The version the server chose.
    pub chosen_version: u32,
}

/// The signed transcript: tag ‖ role label ‖ federation ‖ client key ‖ server key ‖ client
/// challenge ‖ server challenge ‖ u32 BE count of the client's versions ‖ each, u32 BE ‖ the
/// chosen version, u32 BE.
pub fn transcript(side: Side, t: &Transcript<'_>) -> Vec<u8> {
    let label: &[u8] = match side {
        Side::Client => b"client\0",
        Side::Server => b"server\0",
    };
    let mut out = Vec::with_capacity(
        HANDSHAKE_TAG.len() + label.len() + 5 * 32 + 8 + 4 * t.client_versions.len(),
    );
    out.extend_from_slice(HANDSHAKE_TAG);
    out.extend_from_slice(label);
    out.extend_from_slice(&t.federation.0);
    out.extend_from_slice(&t.client.0);
    out.extend_from_slice(&t.server.0);
    out.extend_from_slice(t.client_nonce);
    out.extend_from_slice(t.server_nonce);
    out.extend_from_slice(&(t.client_versions.len() as u32).to_be_bytes());
    for v in t.client_versions {
        out.extend_from_slice(&v.to_be_bytes());
    }
    out.extend_from_slice(&t.chosen_version.to_be_bytes());
    out
}

/// A key the node's folded membership admits: a founding member or an admitted key, not
/// retired by an amendment (a removed member, a succeeded key).
fn member_key(charter: &Charter, id: HubId) -> Result<PublicKey, HandshakeError> {
    if charter.is_retired(&id) {
        return Err(HandshakeError::UnknownKey(id));
    }
    charter
        .member(&id)
        .map(|m| m.key.clone())
        .ok_or(HandshakeError::UnknownKey(id))
}

#[derive(Debug)]
struct Open {
    peer: HubId,
    last_used_ms: u64,
}

/// The server's handshakes and sessions.
///
/// A `Hello` leaves no state: the server's challenge carries the time it was issued, a random
/// salt and a MAC, under a key of this process, of everything the `Prove` must echo (the
/// client's key, challenge and versions). So a flood of `Hello`s, whatever key it claims,
/// evicts nothing and fills nothing: the honest `Prove` that follows its `Hello` finds its
/// challenge valid. A challenge is accepted once, within [`PENDING_TTL_MS`].
#[derive(Debug)]
pub struct Sessions {
    /// The key of the challenges' MACs (random, per process).
    nonce_key: [u8; 32],
    /// Challenges already proven, with the time they were issued, until they expire.
    proved: BTreeMap<[u8; NONCE_BYTES], u64>,
    /// Open sessions, by token.
    open: BTreeMap<[u8; SESSION_TOKEN_BYTES], Open>,
}

/// The MAC of a server challenge: what the `Prove` must echo, the time and the salt.
fn challenge_mac(
    key: &[u8; 32],
    client: &HubId,
    client_nonce: &[u8; NONCE_BYTES],
    client_versions: &[u32],
    issued_ms: u64,
    salt: &[u8],
) -> [u8; 16] {
    use hmac::{KeyInit, Mac};
    let mut mac = <hmac::Hmac<sha2::Sha256> as KeyInit>::new_from_slice(key)
        .unwrap_or_else(|_| unreachable!("HMAC takes a key of any length"));
    mac.update(b"maillage/v2/handshake-challenge\0");
    mac.update(&client.0);
    mac.update(client_nonce);
    mac.update(&(client_versions.len() as u32).to_be_bytes());
    for version in client_versions {
        mac.update(&version.to_be_bytes());
    }
    mac.update(&issued_ms.to_be_bytes());
    mac.update(salt);
    let full = mac.finalize().into_bytes();
    let mut out = [0u8; 16];
    out.copy_from_slice(&full[..16]);
    out
}

/// Proven challenges remembered at most (each for [`PENDING_TTL_MS`]); past it the oldest
/// are forgotten. Only a valid `Prove`, signed by a member, adds one.
pub const PROVED_MAX: usize = 65_536;

/// Answers `Hello`s: issues challenges a [`Sessions`] of the same key accepts at `Prove`.
#[derive(Clone, Copy)]
pub struct Challenger {
    nonce_key: [u8; 32],
}

impl std::fmt::Debug for Challenger {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Challenger").finish_non_exhaustive()
    }
}

impl Challenger {
    /// Answers a `Hello`: checks the federation, the client's membership and that it offers
    /// a version of `versions` (what this node implements), and signs the transcript with `me`.
    /// `random` must be fresh random bytes (the challenge's salt). Nothing is remembered.
    pub fn hello(
        &self,
        charter: &Charter,
        me: &SecretKey,
        versions: &[u32],
        request: &pb::HelloRequest,
        random: [u8; NONCE_BYTES],
        now_ms: u64,
    ) -> Result<pb::HelloResponse, HandshakeError> {
        let federation = FederationId(array::<32>("federation", &request.federation)?);
        if federation != charter.federation_id() {
            return Err(HandshakeError::Federation {
                expected: charter.federation_id(),
                found: federation,
            });
        }
        let client = hub("client_key", &request.client_key)?;
        member_key(charter, client)?;
        let client_nonce = array::<NONCE_BYTES>("client_nonce", &request.client_nonce)?;
        let offered = &request.protocol_versions;
        if offered.len() > VERSIONS_OFFERED_MAX {
            return Err(HandshakeError::TooManyVersions(offered.len()));
        }
        let chosen_version = version::highest_common(versions, offered).ok_or_else(|| {
            HandshakeError::NoCommonVersion {
                client: named_or_v1(offered),
                server: versions.to_vec(),
            }
        })?;
        // issued (8 bytes) || salt (8) || MAC (16).
        let mut server_nonce = [0u8; NONCE_BYTES];
        server_nonce[..8].copy_from_slice(&now_ms.to_be_bytes());
        server_nonce[8..16].copy_from_slice(&random[..8]);
        let mac = challenge_mac(
            &self.nonce_key,
            &client,
            &client_nonce,
            offered,
            now_ms,
            &random[..8],
        );
        server_nonce[16..].copy_from_slice(&mac);
        let server = me.hub_id();
        let signature = me.sign_raw(&transcript(
            Side::Server,
            &Transcript {
                federation: &federation,
                client: &client,
                server: &server,
                client_nonce: &client_nonce,
                server_nonce: &server_nonce,
                client_versions: offered,
                chosen_version,
            },
        ));
        Ok(pb::HelloResponse {
            server_key: server.0.to_vec(),
            server_nonce: server_nonce.to_vec(),
            server_signature: signature.to_vec(),
            protocol_version: chosen_version,
        })
    }
}

impl Sessions {
    /// A server's table; `nonce_key` must be random (and secret).
    pub fn new(nonce_key: [u8; 32]) -> Self {
        Self {
            nonce_key,
            proved: BTreeMap::new(),
            open: BTreeMap::new(),
        }
    }

    /// What answers `Hello`s for this table, without its lock (a `Hello` reads nothing the
    /// table holds).
    pub fn challenger(&self) -> Challenger {
        Challenger {
            nonce_key: self.nonce_key,
        }
    }

    /// [`Challenger::hello`] of this table.
    pub fn hello(
        &self,
        charter: &Charter,
        me: &SecretKey,
        versions: &[u32],
        request: &pb::HelloRequest,
        random: [u8; NONCE_BYTES],
        now_ms: u64,
    ) -> Result<pb::HelloResponse, HandshakeError> {
        self.challenger()
            .hello(charter, me, versions, request, random, now_ms)
    }

    /// Answers a `Prove`: checks that the challenge is one this process issued for what the
    /// `Prove` echoes, within [`PENDING_TTL_MS`] and never proven before, and the client's
    /// signature, then opens a session under `token` (fresh random). `versions` is what this
    /// node implements. Returns the peer's key and the protocol version agreed.
    pub fn prove(
        &mut self,
        charter: &Charter,
        me: &HubId,
        versions: &[u32],
        request: &pb::ProveRequest,
        token: [u8; SESSION_TOKEN_BYTES],
        now_ms: u64,
    ) -> Result<(HubId, u32), HandshakeError> {
        let client = hub("client_key", &request.client_key)?;
        let server_nonce = array::<NONCE_BYTES>("server_nonce", &request.server_nonce)?;
        let client_nonce = array::<NONCE_BYTES>("client_nonce", &request.client_nonce)?;
        let offered = &request.protocol_versions;
        if offered.len() > VERSIONS_OFFERED_MAX {
            return Err(HandshakeError::TooManyVersions(offered.len()));
        }
        self.expire(now_ms);
        let mut issued = [0u8; 8];
        issued.copy_from_slice(&server_nonce[..8]);
        let issued_ms = u64::from_be_bytes(issued);
        let fresh = issued_ms <= now_ms && now_ms - issued_ms <= PENDING_TTL_MS;
        let mac = challenge_mac(
            &self.nonce_key,
            &client,
            &client_nonce,
            offered,
            issued_ms,
            &server_nonce[8..16],
        );
        // Compared in constant time: the MAC is the server's secret.
        let genuine = mac
            .iter()
            .zip(&server_nonce[16..])
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0;
        if !fresh || !genuine || self.proved.contains_key(&server_nonce) {
            return Err(HandshakeError::NoPending);
        }
        let chosen_version =
            version::highest_common(versions, offered).ok_or(HandshakeError::NoPending)?;
        let key = member_key(charter, client)?;
        let message = transcript(
            Side::Client,
            &Transcript {
                federation: &charter.federation_id(),
                client: &client,
                server: me,
                client_nonce: &client_nonce,
                server_nonce: &server_nonce,
                client_versions: offered,
                chosen_version,
            },
        );
        key.verify_raw(&message, &request.client_signature)
            .map_err(|_| HandshakeError::BadSignature(Side::Client))?;
        while self.proved.len() >= PROVED_MAX {
            let Some(oldest) = self
                .proved
                .iter()
                .min_by_key(|(_, issued)| **issued)
                .map(|(nonce, _)| *nonce)
            else {
                break;
            };
            self.proved.remove(&oldest);
        }
        self.proved.insert(server_nonce, issued_ms);
        // A member's new session evicts its own least recently used, never another member's;
        // only a full table (many members) takes one from the member holding the most.
        while self.sessions_of(&client) >= SESSIONS_PER_MEMBER {
            if !self.evict_least_recent(&client) {
                break;
            }
        }
        while self.open.len() >= SESSIONS_MAX {
            let mut counts: BTreeMap<HubId, usize> = BTreeMap::new();
            for session in self.open.values() {
                *counts.entry(session.peer).or_default() += 1;
            }
            let Some(largest) = counts
                .into_iter()
                .max_by_key(|(_, count)| *count)
                .map(|(peer, _)| peer)
            else {
                break;
            };
            if !self.evict_least_recent(&largest) {
                break;
            }
        }
        self.open.insert(
            token,
            Open {
                peer: client,
                last_used_ms: now_ms,
            },
        );
        Ok((client, chosen_version))
    }

    /// The peer a session token belongs to (refreshing its idle timer). A member removed
    /// from the charter loses its sessions.
    pub fn authorize(
        &mut self,
        charter: &Charter,
        token_hex: &str,
        now_ms: u64,
    ) -> Result<HubId, HandshakeError> {
        let bytes = hex::decode(token_hex).map_err(|_| HandshakeError::NoSession)?;
        let token = array::<SESSION_TOKEN_BYTES>("session", &bytes)?;
        self.expire(now_ms);
        let session = self.open.get_mut(&token).ok_or(HandshakeError::NoSession)?;
        if charter.member(&session.peer).is_none() || charter.is_retired(&session.peer) {
            self.open.remove(&token);
            return Err(HandshakeError::NoSession);
        }
        session.last_used_ms = now_ms;
        Ok(session.peer)
    }

    /// Sessions of `peer` open.
    fn sessions_of(&self, peer: &HubId) -> usize {
        self.open.values().filter(|s| s.peer == *peer).count()
    }

    /// Closes `peer`'s least recently used session; false if it has none.
    fn evict_least_recent(&mut self, peer: &HubId) -> bool {
        let oldest = self
            .open
            .iter()
            .filter(|(_, s)| s.peer == *peer)
            .min_by_key(|(_, s)| s.last_used_ms)
            .map(|(token, _)| *token);
        oldest.is_some_and(|token| self.open.remove(&token).is_some())
    }

    /// Proven challenges remembered (to refuse a `Prove` replayed).
    pub fn proved_count(&self) -> usize {
        self.proved.len()
    }

    /// Sessions open.
    pub fn open_count(&self) -> usize {
        self.open.len()
    }

    fn expire(&mut self, now_ms: u64) {
        self.proved
            .retain(|_, issued| now_ms.saturating_sub(*issued) <= PENDING_TTL_MS);
        self.open
            .retain(|_, s| now_ms.saturating_sub(s.last_used_ms) <= SESSION_IDLE_TTL_MS);
    }
}

/// The client's half of the handshake.
#[derive(Debug)]
pub struct ClientHandshake {
    federation: FederationId,
    me: HubId,
    nonce: [u8; NONCE_BYTES],
    versions: Vec<u32>,
}

/// What a finished client handshake yields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finished {
    /// The server's key, proven.
    pub server: HubId,
    /// The protocol version agreed.
    pub protocol_version: u32,
    /// The `Prove` to send.
    pub prove: pb::ProveRequest,
}

impl ClientHandshake {
    /// Starts a handshake with a fresh random `nonce`, offering `versions` (the versions this
    /// node implements: [`maillage_core::version::SUPPORTED_VERSIONS`]).
    pub fn new(charter: &Charter, me: HubId, nonce: [u8; NONCE_BYTES], versions: &[u32]) -> Self {
        Self {
            federation: charter.federation_id(),
            me,
            nonce,
            versions: versions.to_vec(),
        }
    }

    /// The `Hello` to send.
    pub fn hello(&self) -> pb::HelloRequest {
        pb::HelloRequest {
            federation: self.federation.0.to_vec(),
            client_key: self.me.0.to_vec(),
            client_nonce: self.nonce.to_vec(),
            protocol_versions: self.versions.clone(),
        }
    }

    /// Checks the server's answer (a member of the charter, `expected` if the operator named
    /// the peer's key, a version this node offered, a valid signature) and returns the server's
    /// key, the version agreed and the `Prove` to send.
    pub fn finish(
        &self,
        charter: &Charter,
        me: &SecretKey,
        response: &pb::HelloResponse,
        expected: Option<HubId>,
    ) -> Result<Finished, HandshakeError> {
        let server = hub("server_key", &response.server_key)?;
        if let Some(expected) = expected
            && expected != server
        {
            return Err(HandshakeError::WrongPeer {
                expected,
                found: server,
            });
        }
        if server == self.me {
            return Err(HandshakeError::Refused(
                "the peer answered with this node's own key (a node configured as its own peer?)"
                    .into(),
            ));
        }
        let key = member_key(charter, server)?;
        let server_nonce = array::<NONCE_BYTES>("server_nonce", &response.server_nonce)?;
        // Before the signature: a server of a release before versions were named signs
        // another transcript, and "bad signature" would hide the real reason.
        let chosen_version = response.protocol_version;
        if !self.versions.contains(&chosen_version) {
            return Err(HandshakeError::VersionNotOffered {
                chosen: match chosen_version {
                    0 => UNNAMED_VERSION,
                    named => named,
                },
                offered: self.versions.clone(),
            });
        }
        let signed = Transcript {
            federation: &self.federation,
            client: &self.me,
            server: &server,
            client_nonce: &self.nonce,
            server_nonce: &server_nonce,
            client_versions: &self.versions,
            chosen_version,
        };
        key.verify_raw(
            &transcript(Side::Server, &signed),
            &response.server_signature,
        )
        .map_err(|_| HandshakeError::BadSignature(Side::Server))?;
        let signature = me.sign_raw(&transcript(Side::Client, &signed));
        Ok(Finished {
            server,
            protocol_version: chosen_version,
            prove: pb::ProveRequest {
                client_key: self.me.0.to_vec(),
                server_nonce: server_nonce.to_vec(),
                client_signature: signature.to_vec(),
                client_nonce: self.nonce.to_vec(),
                protocol_versions: self.versions.clone(),
            },
        })
    }
}

/// Whether a member may replicate (every member may: hubs and observers).
pub fn may_replicate(charter: &Charter, peer: &HubId) -> bool {
    charter
        .member(peer)
        .is_some_and(|m| matches!(m.role, Role::Hub | Role::Observer))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use maillage_core::MemberSpec;
    use maillage_core::version::{PROTOCOL_VERSION, SUPPORTED_VERSIONS};

    /// What this build offers and implements.
    const V: &[u32] = SUPPORTED_VERSIONS;

    fn setup() -> (Charter, Vec<SecretKey>, SecretKey) {
        let keys: Vec<SecretKey> = (1..=3u8).map(|n| SecretKey::from_seed(&[n; 32])).collect();
        let members = keys
            .iter()
            .enumerate()
            .map(|(i, k)| MemberSpec {
                key: k.hub_id(),
                name: format!("member {i}"),
                role: if i == 2 { Role::Observer } else { Role::Hub },
                territories: if i == 2 {
                    vec![]
                } else {
                    vec![format!("{}", 13 + i)]
                },
            })
            .collect();
        let charter = Charter::found("Test", 1, members).expect("charter");
        (charter, keys, SecretKey::from_seed(&[9; 32]))
    }

    fn full(
        charter: &Charter,
        client: &SecretKey,
        server: &SecretKey,
        sessions: &mut Sessions,
    ) -> Result<HubId, HandshakeError> {
        let hs = ClientHandshake::new(charter, client.hub_id(), [7; 32], V);
        let hello = sessions.hello(charter, server, V, &hs.hello(), [8; 32], 1_000)?;
        let finished = hs.finish(charter, client, &hello, None)?;
        assert_eq!(finished.server, server.hub_id());
        assert_eq!(finished.protocol_version, PROTOCOL_VERSION);
        let (peer, agreed) = sessions.prove(
            charter,
            &server.hub_id(),
            V,
            &finished.prove,
            [5; 16],
            1_001,
        )?;
        assert_eq!(agreed, PROTOCOL_VERSION);
        Ok(peer)
    }

    #[test]
    fn members_open_a_session_and_use_it() {
        let (charter, keys, _) = setup();
        let mut sessions = Sessions::new([0x5A; 32]);
        assert_eq!(
            full(&charter, &keys[2], &keys[0], &mut sessions),
            Ok(keys[2].hub_id())
        );
        assert_eq!(
            sessions.authorize(&charter, &hex::encode([5u8; 16]), 2_000),
            Ok(keys[2].hub_id())
        );
        assert_eq!(sessions.proved_count(), 1);
        // Idle too long: gone.
        assert_eq!(
            sessions.authorize(
                &charter,
                &hex::encode([5u8; 16]),
                2_000 + SESSION_IDLE_TTL_MS + 1
            ),
            Err(HandshakeError::NoSession)
        );
        assert_eq!(
            sessions.authorize(&charter, "not hex", 0),
            Err(HandshakeError::NoSession)
        );
    }

    #[test]
    fn an_unknown_key_is_refused_on_both_sides() {
        let (charter, keys, stranger) = setup();
        let mut sessions = Sessions::new([0x5A; 32]);
        assert_eq!(
            full(&charter, &stranger, &keys[0], &mut sessions),
            Err(HandshakeError::UnknownKey(stranger.hub_id()))
        );
        // A stranger answering as a server is refused by the client.
        let hs = ClientHandshake::new(&charter, keys[0].hub_id(), [1; 32], V);
        // The stranger's own table would refuse nothing about itself: build its answer by hand.
        let forged = pb::HelloResponse {
            server_key: stranger.hub_id().0.to_vec(),
            server_nonce: vec![2; 32],
            server_signature: stranger
                .sign_raw(&transcript(
                    Side::Server,
                    &Transcript {
                        federation: &charter.federation_id(),
                        client: &keys[0].hub_id(),
                        server: &stranger.hub_id(),
                        client_nonce: &[1; 32],
                        server_nonce: &[2; 32],
                        client_versions: V,
                        chosen_version: PROTOCOL_VERSION,
                    },
                ))
                .to_vec(),
            protocol_version: PROTOCOL_VERSION,
        };
        assert_eq!(
            hs.finish(&charter, &keys[0], &forged, None).map(|_| ()),
            Err(HandshakeError::UnknownKey(stranger.hub_id()))
        );
    }

    #[test]
    fn signatures_are_bound_to_role_and_challenges() {
        let (charter, keys, _) = setup();
        let mut sessions = Sessions::new([0x5A; 32]);
        let hs = ClientHandshake::new(&charter, keys[1].hub_id(), [3; 32], V);
        let hello = sessions
            .hello(&charter, &keys[0], V, &hs.hello(), [4; 32], 0)
            .expect("hello");
        // Reflecting the server's signature as the client's fails.
        let reflected = pb::ProveRequest {
            client_key: keys[1].hub_id().0.to_vec(),
            server_nonce: hello.server_nonce.clone(),
            client_signature: hello.server_signature.clone(),
            client_nonce: vec![3; 32],
            protocol_versions: V.to_vec(),
        };
        assert_eq!(
            sessions.prove(&charter, &keys[0].hub_id(), V, &reflected, [1; 16], 1),
            Err(HandshakeError::BadSignature(Side::Client))
        );
        // A tampered server challenge fails on the client.
        let mut tampered = hello.clone();
        tampered.server_nonce[0] ^= 1;
        assert_eq!(
            hs.finish(&charter, &keys[1], &tampered, None).map(|_| ()),
            Err(HandshakeError::BadSignature(Side::Server))
        );
        // The configured peer key is enforced.
        assert_eq!(
            hs.finish(&charter, &keys[1], &hello, Some(keys[2].hub_id()))
                .map(|_| ()),
            Err(HandshakeError::WrongPeer {
                expected: keys[2].hub_id(),
                found: keys[0].hub_id()
            })
        );
        // Another federation is refused at Hello.
        let mut foreign = hs.hello();
        foreign.federation = vec![0; 32];
        assert!(matches!(
            sessions.hello(&charter, &keys[0], V, &foreign, [6; 32], 0),
            Err(HandshakeError::Federation { .. })
        ));
        // Short fields are named.
        let mut short = hs.hello();
        short.client_nonce.truncate(3);
        assert_eq!(
            sessions.hello(&charter, &keys[0], V, &short, [6; 32], 0),
            Err(HandshakeError::Length {
                field: "client_nonce",
                expected: 32,
                found: 3
            })
        );
    }

    #[test]
    fn the_transcript_binds_the_versions_offered_and_chosen() {
        let federation = FederationId([0xfe; 32]);
        let (client, server) = (HubId([0xc1; 32]), HubId([0x5e; 32]));
        let t = Transcript {
            federation: &federation,
            client: &client,
            server: &server,
            client_nonce: &[0xaa; 32],
            server_nonce: &[0xbb; 32],
            client_versions: &[2, 3],
            chosen_version: 3,
        };
        let bytes = transcript(Side::Server, &t);
        let mut expected = b"maillage/v1/handshake\0server\0".to_vec();
        for part in [[0xfe; 32], [0xc1; 32], [0x5e; 32], [0xaa; 32], [0xbb; 32]] {
            expected.extend(part);
        }
        expected.extend([0, 0, 0, 2, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0, 3]);
        assert_eq!(bytes, expected);
        // Each version field changes the bytes.
        for changed in [
            Transcript {
                client_versions: &[3],
                ..t
            },
            Transcript {
                client_versions: &[2, 3, 4],
                ..t
            },
            Transcript {
                chosen_version: 2,
                ..t
            },
        ] {
            assert_ne!(transcript(Side::Server, &changed), bytes);
        }
    }

    #[test]
    fn the_highest_common_version_is_chosen_and_both_sides_agree() {
        let (charter, keys, _) = setup();
        let mut sessions = Sessions::new([0x5A; 32]);
        for (i, (client, server, agreed)) in [
            (&[2u32][..], &[2u32][..], 2),
            (&[2, 3], &[2], 2),
            (&[2], &[2, 3], 2),
            (&[2, 3], &[1, 2, 3], 3),
        ]
        .into_iter()
        .enumerate()
        {
            let hs = ClientHandshake::new(&charter, keys[1].hub_id(), [3; 32], client);
            let hello = sessions
                .hello(&charter, &keys[0], server, &hs.hello(), [i as u8; 32], 0)
                .unwrap();
            assert_eq!(hello.protocol_version, agreed);
            let finished = hs.finish(&charter, &keys[1], &hello, None).unwrap();
            assert_eq!(finished.protocol_version, agreed);
            let (_, on_server) = sessions
                .prove(
                    &charter,
                    &keys[0].hub_id(),
                    server,
                    &finished.prove,
                    [1; 16],
                    1,
                )
                .unwrap();
            assert_eq!(on_server, agreed);
        }
    }

    #[test]
    fn peers_without_a_common_version_refuse_each_other_naming_both() {
        let (charter, keys, _) = setup();
        let sessions = Sessions::new([0x5A; 32]);
        // Server side: a client of protocol v3 only.
        let v3 = ClientHandshake::new(&charter, keys[1].hub_id(), [3; 32], &[3]);
        let err = sessions
            .hello(&charter, &keys[0], &[2], &v3.hello(), [4; 32], 0)
            .unwrap_err();
        assert_eq!(
            err,
            HandshakeError::NoCommonVersion {
                client: vec![3],
                server: vec![2]
            }
        );
        assert_eq!(
            err.to_string(),
            "handshake: no common protocol version: the client offers v3, this node implements \
             v2: incompatible protocol (peer: v3, this node: v2); this node (the server) must \
             upgrade maillage to speak with the client"
        );
        assert_eq!(sessions.proved_count(), 0);
        // A client of a release before versions were named offers none: protocol v1.
        let mut v1 = v3.hello();
        v1.protocol_versions.clear();
        let err = sessions
            .hello(&charter, &keys[0], &[2], &v1, [4; 32], 0)
            .unwrap_err();
        assert!(
            err.to_string().contains(
                "incompatible protocol (peer: v1, this node: v2); the client must upgrade \
                 maillage to speak with this node (the server)"
            ),
            "{err}"
        );
        // Offering too many is refused before anything is signed.
        let mut many = v3.hello();
        many.protocol_versions = (1..=17).collect();
        assert_eq!(
            sessions.hello(&charter, &keys[0], &[2], &many, [4; 32], 0),
            Err(HandshakeError::TooManyVersions(17))
        );

        // Client side: a server choosing what the client did not offer, or naming nothing (a
        // release before versions were named), is refused before its signature is checked.
        let v2 = ClientHandshake::new(&charter, keys[1].hub_id(), [3; 32], &[2]);
        let mut hello = sessions
            .hello(&charter, &keys[0], &[2], &v2.hello(), [5; 32], 0)
            .unwrap();
        hello.protocol_version = 3;
        let err = v2.finish(&charter, &keys[1], &hello, None).unwrap_err();
        assert_eq!(
            err,
            HandshakeError::VersionNotOffered {
                chosen: 3,
                offered: vec![2]
            }
        );
        assert!(
            err.to_string()
                .contains("incompatible protocol (peer: v3, this node: v2)"),
            "{err}"
        );
        hello.protocol_version = 0;
        assert_eq!(
            v2.finish(&charter, &keys[1], &hello, None),
            Err(HandshakeError::VersionNotOffered {
                chosen: 1,
                offered: vec![2]
            })
        );
    }

    #[test]
    fn versions_altered_in_transit_break_the_signatures() {
        let (charter, keys, _) = setup();
        let mut sessions = Sessions::new([0x5A; 32]);
        let hs = ClientHandshake::new(&charter, keys[1].hub_id(), [3; 32], &[2, 3]);
        // Downgrade: the offer reaches the server without v3; the server picks v2.
        let mut stripped = hs.hello();
        stripped.protocol_versions = vec![2];
        let hello = sessions
            .hello(&charter, &keys[0], &[2, 3], &stripped, [4; 32], 0)
            .unwrap();
        assert_eq!(hello.protocol_version, 2);
        assert_eq!(
            hs.finish(&charter, &keys[1], &hello, None),
            Err(HandshakeError::BadSignature(Side::Server))
        );
        // The choice changed on the way back (to another version the client offered).
        let hello = sessions
            .hello(&charter, &keys[0], &[2, 3], &hs.hello(), [5; 32], 0)
            .unwrap();
        assert_eq!(hello.protocol_version, 3);
        let mut lowered = hello.clone();
        lowered.protocol_version = 2;
        assert_eq!(
            hs.finish(&charter, &keys[1], &lowered, None),
            Err(HandshakeError::BadSignature(Side::Server))
        );
        // A client signing another choice than the server's is refused at Prove.
        let honest = hs.finish(&charter, &keys[1], &hello, None).unwrap();
        let mut forged = honest.prove.clone();
        forged.client_signature = keys[1]
            .sign_raw(&transcript(
                Side::Client,
                &Transcript {
                    federation: &charter.federation_id(),
                    client: &keys[1].hub_id(),
                    server: &keys[0].hub_id(),
                    client_nonce: &[3; 32],
                    server_nonce: &[5; 32],
                    client_versions: &[2, 3],
                    chosen_version: 2,
                },
            ))
            .to_vec();
        assert_eq!(
            sessions.prove(&charter, &keys[0].hub_id(), &[2, 3], &forged, [1; 16], 1),
            Err(HandshakeError::BadSignature(Side::Client))
        );
        assert!(
            sessions
                .prove(
                    &charter,
                    &keys[0].hub_id(),
                    &[2, 3],
                    &honest.prove,
                    [1; 16],
                    1
                )
                .is_ok()
        );
    }

    #[test]
    fn sessions_are_bounded_and_hellos_leave_nothing() {
        let (charter, keys, _) = setup();
        let mut sessions = Sessions::new([0x5A; 32]);
        for i in 0..1_000u64 {
            let mut nonce = [0u8; 32];
            nonce[..8].copy_from_slice(&i.to_be_bytes());
            let hs = ClientHandshake::new(&charter, keys[1].hub_id(), [3; 32], V);
            sessions
                .hello(&charter, &keys[0], V, &hs.hello(), nonce, i)
                .expect("hello");
        }
        assert_eq!((sessions.proved_count(), sessions.open_count()), (0, 0));
        for i in 0..(SESSIONS_MAX as u64 + 10) {
            let mut token = [0u8; 16];
            token[..8].copy_from_slice(&i.to_be_bytes());
            let mut nonce = [0xff; 32];
            nonce[..8].copy_from_slice(&i.to_be_bytes());
            // Members in turn, so that the table fills before any member reaches its own cap.
            let key = &keys[(i % 3) as usize];
            let hs = ClientHandshake::new(&charter, key.hub_id(), [3; 32], V);
            let hello = sessions
                .hello(&charter, &keys[0], V, &hs.hello(), nonce, 100_000 + i)
                .expect("hello");
            let finished = hs.finish(&charter, key, &hello, None);
            let Ok(finished) = finished else {
                // keys[0] is the server itself: the client refuses it.
                continue;
            };
            sessions
                .prove(
                    &charter,
                    &keys[0].hub_id(),
                    V,
                    &finished.prove,
                    token,
                    100_000 + i,
                )
                .expect("prove");
            assert!(sessions.open_count() <= SESSIONS_MAX);
        }
        assert!(sessions.open_count() <= 2 * SESSIONS_PER_MEMBER);
    }

    #[test]
    fn a_challenge_is_proven_once_within_its_time_and_only_for_what_it_was_issued() {
        let (charter, keys, _) = setup();
        let mut sessions = Sessions::new([0x5A; 32]);
        let prove = handshake(&mut sessions, &charter, &keys[0], &keys[1], 1, 1_000).unwrap();
        // Replayed: refused.
        assert!(
            sessions
                .prove(&charter, &keys[0].hub_id(), V, &prove, [1; 16], 1_500)
                .is_ok()
        );
        assert_eq!(
            sessions.prove(&charter, &keys[0].hub_id(), V, &prove, [2; 16], 1_600),
            Err(HandshakeError::NoPending)
        );
        // Too late: refused.
        let late = handshake(&mut sessions, &charter, &keys[0], &keys[1], 2, 1_000).unwrap();
        assert_eq!(
            sessions.prove(
                &charter,
                &keys[0].hub_id(),
                V,
                &late,
                [3; 16],
                1_001 + PENDING_TTL_MS
            ),
            Err(HandshakeError::NoPending)
        );
        // Another client nonce, other versions, another key, a changed challenge: refused.
        let fresh = handshake(&mut sessions, &charter, &keys[0], &keys[1], 3, 2_000).unwrap();
        let mut other_nonce = fresh.clone();
        other_nonce.client_nonce = vec![4; 32];
        let mut other_versions = fresh.clone();
        other_versions.protocol_versions.push(99);
        let mut changed = fresh.clone();
        changed.server_nonce[20] ^= 1;
        let mut earlier = fresh.clone();
        earlier.server_nonce[7] ^= 1;
        for bad in [other_nonce, other_versions, changed, earlier] {
            assert_eq!(
                sessions.prove(&charter, &keys[0].hub_id(), V, &bad, [5; 16], 2_100),
                Err(HandshakeError::NoPending)
            );
        }
        // Another process (another key) did not issue it.
        let mut restarted = Sessions::new([0xA5; 32]);
        assert_eq!(
            restarted.prove(&charter, &keys[0].hub_id(), V, &fresh, [6; 16], 2_100),
            Err(HandshakeError::NoPending)
        );
        assert!(
            sessions
                .prove(&charter, &keys[0].hub_id(), V, &fresh, [7; 16], 2_100)
                .is_ok()
        );
    }

    /// `key`'s Hello with server challenge `n` at `now`, and its Prove.
    fn handshake(
        sessions: &mut Sessions,
        charter: &Charter,
        server: &SecretKey,
        key: &SecretKey,
        n: u64,
        now: u64,
    ) -> Result<pb::ProveRequest, HandshakeError> {
        let mut nonce = [0u8; 32];
        nonce[..8].copy_from_slice(&n.to_be_bytes());
        let hs = ClientHandshake::new(charter, key.hub_id(), [3; 32], V);
        let hello = sessions.hello(charter, server, V, &hs.hello(), nonce, now)?;
        Ok(hs.finish(charter, key, &hello, None)?.prove)
    }

    #[test]
    fn a_flood_of_hellos_claiming_any_key_leaves_the_honest_handshake_alone() {
        let (charter, keys, _) = setup();
        let mut sessions = Sessions::new([0x5A; 32]);
        let honest = handshake(&mut sessions, &charter, &keys[0], &keys[1], 0, 1_000).unwrap();
        // 10,000 Hellos from strangers claiming the other member's key and the honest key
        // itself (a Hello proves nothing), in the same second: every one is answered, nothing
        // is kept.
        for i in 1..=10_000u64 {
            let claimed = &keys[1 + (i % 2) as usize];
            let mut nonce = [0xAA; 32];
            nonce[..8].copy_from_slice(&i.to_be_bytes());
            let hs = ClientHandshake::new(&charter, claimed.hub_id(), [9; 32], V);
            sessions
                .hello(&charter, &keys[0], V, &hs.hello(), nonce, 1_000 + i / 100)
                .unwrap();
        }
        assert_eq!((sessions.proved_count(), sessions.open_count()), (0, 0));
        assert_eq!(
            sessions
                .prove(&charter, &keys[0].hub_id(), V, &honest, [1; 16], 1_200)
                .map(|(peer, _)| peer),
            Ok(keys[1].hub_id())
        );
        // And the honest key's next handshake, in the middle of the flood.
        let next = handshake(&mut sessions, &charter, &keys[0], &keys[1], 20_000, 1_150).unwrap();
        assert!(
            sessions
                .prove(&charter, &keys[0].hub_id(), V, &next, [2; 16], 1_201)
                .is_ok()
        );
    }

    #[test]
    fn a_members_new_sessions_evict_only_its_own() {
        let (charter, keys, _) = setup();
        // Another member's session, then one member opens 1,100 sessions (the probe's flood,
        // 1,100 in 2.6 s; here one every 100 ms).
        let mut sessions = Sessions::new([0x5A; 32]);
        let other = handshake(&mut sessions, &charter, &keys[0], &keys[2], 0, 0).unwrap();
        sessions
            .prove(&charter, &keys[0].hub_id(), V, &other, [0xEE; 16], 0)
            .unwrap();
        for i in 0..1_100u64 {
            let now = 1 + i * 100;
            let mut token = [0u8; 16];
            token[..8].copy_from_slice(&i.to_be_bytes());
            // Each Hello is proven at once: at most one waits at a time.
            let prove = handshake(&mut sessions, &charter, &keys[0], &keys[1], 1 + i, now).unwrap();
            sessions
                .prove(&charter, &keys[0].hub_id(), V, &prove, token, now)
                .unwrap();
        }
        assert_eq!(sessions.open_count(), SESSIONS_PER_MEMBER + 1);
        let now = 1_100 * 100;
        assert_eq!(
            sessions.authorize(&charter, &hex::encode([0xEE; 16]), now),
            Ok(keys[2].hub_id())
        );
        let mut newest = [0u8; 16];
        newest[..8].copy_from_slice(&1_099u64.to_be_bytes());
        assert_eq!(
            sessions.authorize(&charter, &hex::encode(newest), now),
            Ok(keys[1].hub_id())
        );
        assert_eq!(
            sessions.authorize(&charter, &hex::encode([0u8; 16]), now),
            Err(HandshakeError::NoSession),
            "the member's own oldest session was evicted"
        );
    }
}
