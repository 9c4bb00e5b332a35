//! The handshake (docs/protocol.md §6): both sides prove possession of a member key by signing
//! a transcript that binds the FederationId, both keys and both fresh challenges, each side
//! under its own role label so that a signature can never be reflected back.
//!
//! Sans-IO: [`Sessions`] is the server's table, driven with the time and the random bytes it
//! needs; [`ClientHandshake`] is the client's half. Both are bounded: at most
//! [`PENDING_MAX`] handshakes half-done and [`SESSIONS_MAX`] sessions open; the oldest are
//! evicted first.

use std::collections::BTreeMap;

use maillage_core::crypto::HANDSHAKE_TAG;
use maillage_core::{Charter, FederationId, HubId, PublicKey, Role, SecretKey, pb};
use thiserror::Error;

/// Length of each side's challenge.
pub const NONCE_BYTES: usize = 32;
/// Length of a session token.
pub const SESSION_TOKEN_BYTES: usize = 16;
/// Handshakes waiting for their `Prove` step, at most.
pub const PENDING_MAX: usize = 256;
/// Open sessions, at most (the least recently used is evicted).
pub const SESSIONS_MAX: usize = 1024;
/// A `Hello` must be followed by its `Prove` within this time.
pub const PENDING_TTL_MS: u64 = 30_000;
/// A session unused for this long expires.
pub const SESSION_IDLE_TTL_MS: u64 = 10 * 60_000;
/// The metadata entry carrying the session token (hex).
pub const SESSION_METADATA: &str = "maillage-session";

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
        "handshake: no pending handshake for this challenge (expired after {PENDING_TTL_MS} ms, or never started)"
    )]
    NoPending,
    /// The session token is unknown or expired.
    #[error("session unknown or expired: handshake again")]
    NoSession,
    /// The key is not allowed to do this.
    #[error("handshake: {0}")]
    Refused(String),
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

/// The signed transcript: tag ‖ role label ‖ federation ‖ client key ‖ server key ‖ client
/// challenge ‖ server challenge.
pub fn transcript(
    side: Side,
    federation: &FederationId,
    client: &HubId,
    server: &HubId,
    client_nonce: &[u8; NONCE_BYTES],
    server_nonce: &[u8; NONCE_BYTES],
) -> Vec<u8> {
    let label: &[u8] = match side {
        Side::Client => b"client\0",
        Side::Server => b"server\0",
    };
    let mut t = Vec::with_capacity(HANDSHAKE_TAG.len() + label.len() + 4 * 32 + 32);
    t.extend_from_slice(HANDSHAKE_TAG);
    t.extend_from_slice(label);
    t.extend_from_slice(&federation.0);
    t.extend_from_slice(&client.0);
    t.extend_from_slice(&server.0);
    t.extend_from_slice(client_nonce);
    t.extend_from_slice(server_nonce);
    t
}

fn member_key(charter: &Charter, id: HubId) -> Result<PublicKey, HandshakeError> {
    charter
        .member(&id)
        .map(|m| m.key.clone())
        .ok_or(HandshakeError::UnknownKey(id))
}

#[derive(Debug)]
struct Pending {
    client: HubId,
    client_nonce: [u8; NONCE_BYTES],
    created_ms: u64,
}

#[derive(Debug)]
struct Open {
    peer: HubId,
    last_used_ms: u64,
}

/// The server's handshakes and sessions.
#[derive(Debug, Default)]
pub struct Sessions {
    /// Half-done handshakes, by server challenge.
    pending: BTreeMap<[u8; NONCE_BYTES], Pending>,
    /// Open sessions, by token.
    open: BTreeMap<[u8; SESSION_TOKEN_BYTES], Open>,
}

impl Sessions {
    /// Answers a `Hello`: checks the federation and the client's membership, signs the
    /// transcript with `me` and remembers the challenge. `server_nonce` must be fresh random.
    pub fn hello(
        &mut self,
        charter: &Charter,
        me: &SecretKey,
        request: &pb::HelloRequest,
        server_nonce: [u8; NONCE_BYTES],
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
        self.expire(now_ms);
        while self.pending.len() >= PENDING_MAX {
            let oldest = self
                .pending
                .iter()
                .min_by_key(|(_, p)| p.created_ms)
                .map(|(k, _)| *k);
            match oldest {
                Some(key) => self.pending.remove(&key),
                None => break,
            };
        }
        let server = me.hub_id();
        let signature = me.sign_raw(&transcript(
            Side::Server,
            &federation,
            &client,
            &server,
            &client_nonce,
            &server_nonce,
        ));
        self.pending.insert(
            server_nonce,
            Pending {
                client,
                client_nonce,
                created_ms: now_ms,
            },
        );
        Ok(pb::HelloResponse {
            server_key: server.0.to_vec(),
            server_nonce: server_nonce.to_vec(),
            server_signature: signature.to_vec(),
        })
    }

    /// Answers a `Prove`: checks the client's signature and opens a session under `token`
    /// (fresh random). Returns the peer's key.
    pub fn prove(
        &mut self,
        charter: &Charter,
        me: &HubId,
        request: &pb::ProveRequest,
        token: [u8; SESSION_TOKEN_BYTES],
        now_ms: u64,
    ) -> Result<HubId, HandshakeError> {
        let client = hub("client_key", &request.client_key)?;
        let server_nonce = array::<NONCE_BYTES>("server_nonce", &request.server_nonce)?;
        self.expire(now_ms);
        let pending = self
            .pending
            .get(&server_nonce)
            .filter(|p| p.client == client)
            .ok_or(HandshakeError::NoPending)?;
        let key = member_key(charter, client)?;
        let message = transcript(
            Side::Client,
            &charter.federation_id(),
            &client,
            me,
            &pending.client_nonce,
            &server_nonce,
        );
        key.verify_raw(&message, &request.client_signature)
            .map_err(|_| HandshakeError::BadSignature(Side::Client))?;
        self.pending.remove(&server_nonce);
        while self.open.len() >= SESSIONS_MAX {
            let oldest = self
                .open
                .iter()
                .min_by_key(|(_, s)| s.last_used_ms)
                .map(|(k, _)| *k);
            match oldest {
                Some(key) => self.open.remove(&key),
                None => break,
            };
        }
        self.open.insert(
            token,
            Open {
                peer: client,
                last_used_ms: now_ms,
            },
        );
        Ok(client)
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
        if charter.member(&session.peer).is_none() {
            self.open.remove(&token);
            return Err(HandshakeError::NoSession);
        }
        session.last_used_ms = now_ms;
        Ok(session.peer)
    }

    /// Half-done handshakes held.
    pub fn pending_count(&self) -> usize {
        self.pending.len()
    }

    /// Sessions open.
    pub fn open_count(&self) -> usize {
        self.open.len()
    }

    fn expire(&mut self, now_ms: u64) {
        self.pending
            .retain(|_, p| now_ms.saturating_sub(p.created_ms) <= PENDING_TTL_MS);
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
}

impl ClientHandshake {
    /// Starts a handshake with a fresh random `nonce`.
    pub fn new(charter: &Charter, me: HubId, nonce: [u8; NONCE_BYTES]) -> Self {
        Self {
            federation: charter.federation_id(),
            me,
            nonce,
        }
    }

    /// The `Hello` to send.
    pub fn hello(&self) -> pb::HelloRequest {
        pb::HelloRequest {
            federation: self.federation.0.to_vec(),
            client_key: self.me.0.to_vec(),
            client_nonce: self.nonce.to_vec(),
        }
    }

    /// Checks the server's answer (a member of the charter, `expected` if the operator named
    /// the peer's key, a valid signature) and returns the server's key and the `Prove` to send.
    pub fn finish(
        &self,
        charter: &Charter,
        me: &SecretKey,
        response: &pb::HelloResponse,
        expected: Option<HubId>,
    ) -> Result<(HubId, pb::ProveRequest), HandshakeError> {
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
        let message = transcript(
            Side::Server,
            &self.federation,
            &self.me,
            &server,
            &self.nonce,
            &server_nonce,
        );
        key.verify_raw(&message, &response.server_signature)
            .map_err(|_| HandshakeError::BadSignature(Side::Server))?;
        let signature = me.sign_raw(&transcript(
            Side::Client,
            &self.federation,
            &self.me,
            &server,
            &self.nonce,
            &server_nonce,
        ));
        Ok((
            server,
            pb::ProveRequest {
                client_key: self.me.0.to_vec(),
                server_nonce: server_nonce.to_vec(),
                client_signature: signature.to_vec(),
            },
        ))
    }
}

/// Whether a member may replicate (every member may: hubs and observers).
pub fn may_replicate(charter: &Charter, peer: &HubId) -> bool {
    charter
        .member(peer)
        .is_some_and(|m| matches!(m.role, Role::Hub | Role::Observer))
}

#[cfg(test)]
mod tests {
    use super::*;
    use maillage_core::MemberSpec;

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
        let hs = ClientHandshake::new(charter, client.hub_id(), [7; 32]);
        let hello = sessions.hello(charter, server, &hs.hello(), [8; 32], 1_000)?;
        let (server_id, prove) = hs.finish(charter, client, &hello, None)?;
        assert_eq!(server_id, server.hub_id());
        sessions.prove(charter, &server.hub_id(), &prove, [5; 16], 1_001)
    }

    #[test]
    fn members_open_a_session_and_use_it() {
        let (charter, keys, _) = setup();
        let mut sessions = Sessions::default();
        assert_eq!(
            full(&charter, &keys[2], &keys[0], &mut sessions),
            Ok(keys[2].hub_id())
        );
        assert_eq!(
            sessions.authorize(&charter, &hex::encode([5u8; 16]), 2_000),
            Ok(keys[2].hub_id())
        );
        assert_eq!(sessions.pending_count(), 0);
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
        let mut sessions = Sessions::default();
        assert_eq!(
            full(&charter, &stranger, &keys[0], &mut sessions),
            Err(HandshakeError::UnknownKey(stranger.hub_id()))
        );
        // A stranger answering as a server is refused by the client.
        let hs = ClientHandshake::new(&charter, keys[0].hub_id(), [1; 32]);
        // The stranger's own table would refuse nothing about itself: build its answer by hand.
        let forged = pb::HelloResponse {
            server_key: stranger.hub_id().0.to_vec(),
            server_nonce: vec![2; 32],
            server_signature: stranger
                .sign_raw(&transcript(
                    Side::Server,
                    &charter.federation_id(),
                    &keys[0].hub_id(),
                    &stranger.hub_id(),
                    &[1; 32],
                    &[2; 32],
                ))
                .to_vec(),
        };
        assert_eq!(
            hs.finish(&charter, &keys[0], &forged, None).map(|_| ()),
            Err(HandshakeError::UnknownKey(stranger.hub_id()))
        );
    }

    #[test]
    fn signatures_are_bound_to_role_and_challenges() {
        let (charter, keys, _) = setup();
        let mut sessions = Sessions::default();
        let hs = ClientHandshake::new(&charter, keys[1].hub_id(), [3; 32]);
        let hello = sessions
            .hello(&charter, &keys[0], &hs.hello(), [4; 32], 0)
            .expect("hello");
        // Reflecting the server's signature as the client's fails.
        let reflected = pb::ProveRequest {
            client_key: keys[1].hub_id().0.to_vec(),
            server_nonce: vec![4; 32],
            client_signature: hello.server_signature.clone(),
        };
        assert_eq!(
            sessions.prove(&charter, &keys[0].hub_id(), &reflected, [1; 16], 1),
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
            sessions.hello(&charter, &keys[0], &foreign, [6; 32], 0),
            Err(HandshakeError::Federation { .. })
        ));
        // Short fields are named.
        let mut short = hs.hello();
        short.client_nonce.truncate(3);
        assert_eq!(
            sessions.hello(&charter, &keys[0], &short, [6; 32], 0),
            Err(HandshakeError::Length {
                field: "client_nonce",
                expected: 32,
                found: 3
            })
        );
    }

    #[test]
    fn pending_handshakes_and_sessions_are_bounded() {
        let (charter, keys, _) = setup();
        let mut sessions = Sessions::default();
        for i in 0..(PENDING_MAX as u64 + 50) {
            let mut nonce = [0u8; 32];
            nonce[..8].copy_from_slice(&i.to_be_bytes());
            let hs = ClientHandshake::new(&charter, keys[1].hub_id(), [3; 32]);
            sessions
                .hello(&charter, &keys[0], &hs.hello(), nonce, i)
                .expect("hello");
            assert!(sessions.pending_count() <= PENDING_MAX);
        }
        for i in 0..(SESSIONS_MAX as u64 + 10) {
            let mut token = [0u8; 16];
            token[..8].copy_from_slice(&i.to_be_bytes());
            let mut nonce = [0xff; 32];
            nonce[..8].copy_from_slice(&i.to_be_bytes());
            let hs = ClientHandshake::new(&charter, keys[1].hub_id(), [3; 32]);
            let hello = sessions
                .hello(&charter, &keys[0], &hs.hello(), nonce, 10_000 + i)
                .expect("hello");
            let (_, prove) = hs.finish(&charter, &keys[1], &hello, None).expect("finish");
            sessions
                .prove(&charter, &keys[0].hub_id(), &prove, token, 10_000 + i)
                .expect("prove");
            assert!(sessions.open_count() <= SESSIONS_MAX);
        }
        // The oldest sessions were evicted, the newest work.
        assert_eq!(
            sessions.authorize(&charter, &hex::encode([0u8; 16]), 20_000),
            Err(HandshakeError::NoSession)
        );
        let mut newest = [0u8; 16];
        newest[..8].copy_from_slice(&(SESSIONS_MAX as u64 + 9).to_be_bytes());
        assert!(
            sessions
                .authorize(&charter, &hex::encode(newest), 20_000)
                .is_ok()
        );
    }
}
