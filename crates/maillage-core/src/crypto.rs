//! Keys, domain-separated hashes and signatures (protocol section 2).
//!
//! - `EventId = SHA-256("maillage/v1/event\0" || payload)`
//! - `signature = Ed25519(secret, "maillage/v1/sign\0" || payload)`
//! - `FederationId = SHA-256("maillage/v1/charter\0" || charter_bytes)`
//!
//! Verification is strict: small-order public keys and `R` values, non-canonical `S` and
//! non-canonical public-key encodings are all rejected, so that every node (and every
//! independent implementation following libsodium's rules) gives the same verdict on every
//! input, adversarial ones included.

use std::fmt;

use curve25519_dalek::edwards::CompressedEdwardsY;
use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use sha2::{Digest, Sha256};
use thiserror::Error;

use crate::ids::{EventId, FederationId, HubId};

/// Domain tag of event ids.
pub const EVENT_ID_TAG: &[u8] = b"maillage/v1/event\0";
/// Domain tag of event signatures.
pub const SIGN_TAG: &[u8] = b"maillage/v1/sign\0";
/// Domain tag of the federation id.
pub const CHARTER_TAG: &[u8] = b"maillage/v1/charter\0";
/// Domain tag of handshake challenges (replication, later).
pub const HANDSHAKE_TAG: &[u8] = b"maillage/v1/handshake\0";

/// Why a key or signature was refused.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum CryptoError {
    /// The 32 bytes are not the encoding of a curve point.
    #[error("public key {key}: not a valid Ed25519 point encoding")]
    KeyNotAPoint {
        /// The key, hex.
        key: String,
    },
    /// The point is encoded in a non-canonical way (y >= p, or a sign bit on x = 0).
    #[error("public key {key}: non-canonical point encoding")]
    KeyNonCanonical {
        /// The key, hex.
        key: String,
    },
    /// The key has small order: it would validate signatures on almost any message.
    #[error("public key {key}: small-order (weak) key")]
    KeyWeak {
        /// The key, hex.
        key: String,
    },
    /// The signature has the wrong length.
    #[error("signature: expected 64 bytes, found {found}")]
    SignatureLength {
        /// Bytes found.
        found: usize,
    },
    /// The signature does not verify under strict rules.
    #[error("signature does not verify (strict Ed25519) for author {author}")]
    BadSignature {
        /// The claimed author.
        author: HubId,
    },
}

/// A node's secret key. Never printed: `Debug` shows `SecretKey(***)`.
pub struct SecretKey(SigningKey);

impl SecretKey {
    /// A fresh key from the given cryptographic random generator (the caller owns randomness).
    pub fn generate<R: rand_core_compat::CryptoRng + ?Sized>(rng: &mut R) -> Self {
        Self(SigningKey::generate(rng))
    }

    /// From the 32-byte seed stored in the key file.
    pub fn from_seed(seed: &[u8; 32]) -> Self {
        Self(SigningKey::from_bytes(seed))
    }

    /// The 32-byte seed, for the key file only.
    pub fn seed(&self) -> [u8; 32] {
        self.0.to_bytes()
    }

    /// The public identity.
    pub fn hub_id(&self) -> HubId {
        HubId(self.0.verifying_key().to_bytes())
    }

    /// Signs `SIGN_TAG || payload`.
    pub fn sign_payload(&self, payload: &[u8]) -> [u8; 64] {
        let mut message = Vec::with_capacity(SIGN_TAG.len() + payload.len());
        message.extend_from_slice(SIGN_TAG);
        message.extend_from_slice(payload);
        self.0.sign(&message).to_bytes()
    }

    /// Signs an arbitrary, already domain-separated message (handshake challenges).
    pub fn sign_raw(&self, message: &[u8]) -> [u8; 64] {
        self.0.sign(message).to_bytes()
    }
}

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretKey(***)")
    }
}

/// Re-export of the random-generator trait ed25519-dalek expects.
pub mod rand_core_compat {
    pub use ed25519_dalek::ed25519::signature::rand_core::CryptoRng;
}

/// A public key checked once for canonical encoding and non-small order, ready to verify.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct PublicKey {
    id: HubId,
    key: VerifyingKey,
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PublicKey({})", self.id.short())
    }
}

impl PublicKey {
    /// Accepts only canonical encodings of points that are not of small order.
    pub fn from_hub_id(id: HubId) -> Result<Self, CryptoError> {
        let key_hex = id.to_hex();
        let point =
            CompressedEdwardsY(id.0)
                .decompress()
                .ok_or_else(|| CryptoError::KeyNotAPoint {
                    key: key_hex.clone(),
                })?;
        if point.compress().to_bytes() != id.0 {
            return Err(CryptoError::KeyNonCanonical { key: key_hex });
        }
        if point.is_small_order() {
            return Err(CryptoError::KeyWeak { key: key_hex });
        }
        let key = VerifyingKey::from_bytes(&id.0)
            .map_err(|_| CryptoError::KeyNotAPoint { key: key_hex })?;
        Ok(Self { id, key })
    }

    /// The identity this key stands for.
    pub fn hub_id(&self) -> HubId {
        self.id
    }

    /// Strict verification of `SIGN_TAG || payload`.
    pub fn verify_payload(&self, payload: &[u8], signature: &[u8]) -> Result<(), CryptoError> {
        let mut message = Vec::with_capacity(SIGN_TAG.len() + payload.len());
        message.extend_from_slice(SIGN_TAG);
        message.extend_from_slice(payload);
        self.verify_raw(&message, signature)
    }

    /// Strict verification of an arbitrary message.
    pub fn verify_raw(&self, message: &[u8], signature: &[u8]) -> Result<(), CryptoError> {
        let bytes: [u8; 64] = signature
            .try_into()
            .map_err(|_| CryptoError::SignatureLength {
                found: signature.len(),
            })?;
        let signature = Signature::from_bytes(&bytes);
        self.key
            .verify_strict(message, &signature)
            .map_err(|_| CryptoError::BadSignature { author: self.id })
    }
}

/// `SHA-256(EVENT_ID_TAG || payload)`.
pub fn event_id(payload: &[u8]) -> EventId {
    EventId(tagged_sha256(EVENT_ID_TAG, payload))
}

/// `SHA-256(CHARTER_TAG || charter_bytes)`.
pub fn federation_id(charter_bytes: &[u8]) -> FederationId {
    FederationId(tagged_sha256(CHARTER_TAG, charter_bytes))
}

/// SHA-256 over a domain tag followed by data.
pub fn tagged_sha256(tag: &[u8], data: &[u8]) -> [u8; 32] {
    let mut hasher = Sha256::new();
    hasher.update(tag);
    hasher.update(data);
    hasher.finalize().into()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn key(n: u8) -> SecretKey {
        SecretKey::from_seed(&[n; 32])
    }

    #[test]
    fn secret_key_is_never_printed() {
        let k = key(7);
        assert_eq!(format!("{k:?}"), "SecretKey(***)");
    }

    #[test]
    fn sign_then_verify_and_reject_other_payload() {
        let k = key(1);
        let public = PublicKey::from_hub_id(k.hub_id()).unwrap();
        let sig = k.sign_payload(b"hello");
        public.verify_payload(b"hello", &sig).unwrap();
        assert!(matches!(
            public.verify_payload(b"hellO", &sig),
            Err(CryptoError::BadSignature { .. })
        ));
        assert_eq!(
            public.verify_payload(b"hello", &sig[..63]),
            Err(CryptoError::SignatureLength { found: 63 })
        );
    }

    #[test]
    fn weak_and_non_canonical_keys_are_refused() {
        // The identity point (y = 1) has order 1.
        let mut identity = [0u8; 32];
        identity[0] = 1;
        assert!(matches!(
            PublicKey::from_hub_id(HubId(identity)),
            Err(CryptoError::KeyWeak { .. })
        ));
        // y = 1 with the sign bit set: same point, non-canonical encoding.
        let mut signed_identity = identity;
        signed_identity[31] |= 0x80;
        assert!(matches!(
            PublicKey::from_hub_id(HubId(signed_identity)),
            Err(CryptoError::KeyNonCanonical { .. } | CryptoError::KeyNotAPoint { .. })
        ));
        // y = p + 1 encodes the same y = 1: non-canonical.
        let mut p_plus_one = [0xffu8; 32];
        p_plus_one[0] = 0xee;
        p_plus_one[31] = 0x7f;
        assert!(PublicKey::from_hub_id(HubId(p_plus_one)).is_err());
    }

    #[test]
    fn ids_are_domain_separated() {
        assert_ne!(event_id(b"x").0, federation_id(b"x").0);
        assert_eq!(event_id(b"x"), event_id(b"x"));
    }
}
