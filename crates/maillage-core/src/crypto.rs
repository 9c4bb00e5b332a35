//! Keys, domain-separated hashes and signatures (protocol section 2).
//!
//! - `EventId = SHA-256("maillage/v1/event\0" || payload)`
//! - `signature = Ed25519(secret, "maillage/v1/sign\0" || payload)`
//! - `FederationId = SHA-256("maillage/v1/charter\0" || charter_bytes)`
//!
//! # The signature rule (protocol v2, section 2)
//!
//! A signature `(R, S)` by key `A` on message `M` is valid iff
//! 1. it is 64 bytes and `S` is canonical (`S < ℓ`);
//! 2. `R` is the canonical encoding of a curve point, and 3. that point is not of small order;
//! 4. `A` is the canonical encoding of a point not of small order (checked once, when the key
//!    is admitted: [`PublicKey::from_hub_id`]);
//! 5. `[8]([S]B − R − [k]A)` is the identity, `k = SHA-512(R ‖ A ‖ M) mod ℓ`.
//!
//! This is the cofactored strict rule: libsodium's and ed25519-dalek's `verify_strict`
//! checks 1–4 with the cofactored equation 5 instead of their cofactorless `R = [S]B − [k]A`.
//! Every signature `verify_strict` accepts is accepted (the cofactorless equation implies the
//! cofactored one); the rule also accepts the signatures whose `R` or `A` carries a torsion
//! component that the cofactor removes, which no honest signer produces. What the change
//! buys: the rule is linear, so a batch of signatures can be checked with one equation whose
//! verdict is the single verdicts' conjunction ([`crate::batch`]); the cofactorless rule has no
//! such batch check.
//!
//! # One verdict, computed fast
//!
//! [`PublicKey::verify_raw_reference`] is the rule as written, with curve25519-dalek's
//! double-scalar multiplication. The path every node uses computes `R' = [S]B − [k]A` with
//! fixed-base tables (multiples of `B`, built once per process, and of `−A`, built once per
//! key: [`crate::fixed_base`]); group arithmetic is exact, so `R'` is the same point. Then:
//! - if the received `R` bytes are the canonical encoding of `R'`, `R` decompresses to `R'`
//!   (2 holds), `[S]B − R − [k]A` is the identity (5 holds), and 3 is `R'`'s order;
//! - otherwise `R` is decompressed and checked (2, 3) and 5 is `[8](R' − R) = O`.
//!
//! Both branches decide exactly 1–5, so the verdict is the reference's on every input; the
//! tests compare them on valid, mutated and adversarial signatures (small-order and torsioned
//! `R`, `S ≥ ℓ`, mixed-order keys), and on the speccheck vectors. Honest signatures take the
//! first branch without decompressing `R`; in [`crate::batch`] the encodings of a whole slice
//! share one field inversion.

use std::fmt;
use std::sync::{Arc, LazyLock, OnceLock};

use curve25519_dalek::constants::ED25519_BASEPOINT_POINT;
use curve25519_dalek::edwards::{CompressedEdwardsY, EdwardsPoint};
use curve25519_dalek::scalar::Scalar;
use curve25519_dalek::traits::IsIdentity;
use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use sha2::{Digest, Sha256, Sha512};
use thiserror::Error;

use crate::fixed_base::FixedBase;
use crate::ids::{EventId, FederationId, HubId};

/// Multiples of the basepoint `B`, for every verification of the process.
pub(crate) static BASEPOINT: LazyLock<FixedBase> =
    LazyLock::new(|| FixedBase::new(&ED25519_BASEPOINT_POINT));

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
///
/// Clones share the key's multiplication table (about 215 KiB, built on the key's first
/// verification).
#[derive(Clone)]
pub struct PublicKey {
    id: HubId,
    key: VerifyingKey,
    /// Multiples of `−A` for fixed-base multiplication, built on first use.
    minus_a: Arc<OnceLock<FixedBase>>,
}

impl PartialEq for PublicKey {
    fn eq(&self, other: &Self) -> bool {
        self.id == other.id
    }
}

impl Eq for PublicKey {}

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
        Ok(Self {
            id,
            key,
            minus_a: Arc::default(),
        })
    }

    /// The identity this key stands for.
    pub fn hub_id(&self) -> HubId {
        self.id
    }

    /// The rule's verdict (module docs) on `SIGN_TAG || payload`.
    pub fn verify_payload(&self, payload: &[u8], signature: &[u8]) -> Result<(), CryptoError> {
        self.verify_parts(&[SIGN_TAG, payload], signature)
    }

    /// The rule's verdict on an arbitrary message.
    pub fn verify_raw(&self, message: &[u8], signature: &[u8]) -> Result<(), CryptoError> {
        self.verify_parts(&[message], signature)
    }

    /// The rule as written (module docs), with curve25519-dalek's double-scalar
    /// multiplication, one signature at a time: the reference the fast and batch paths are
    /// tested against, and the bare primitive the benchmarks measure.
    pub fn verify_raw_reference(
        &self,
        message: &[u8],
        signature: &[u8],
    ) -> Result<(), CryptoError> {
        let bytes = self.signature_bytes(signature)?;
        let (r_bytes, s) = bytes.split_at(32);
        let s = canonical_scalar(s).ok_or_else(|| self.bad())?;
        let r = decode_r_reference(r_bytes).ok_or_else(|| self.bad())?;
        let k = self.challenge(r_bytes, &[message]);
        let minus_a = -self.key.to_edwards();
        let check = EdwardsPoint::vartime_double_scalar_mul_basepoint(&k, &minus_a, &s) - r;
        if check.mul_by_cofactor().is_identity() {
            Ok(())
        } else {
            Err(self.bad())
        }
    }

    /// [`Self::verify_raw_reference`] over `SIGN_TAG || payload`.
    pub fn verify_payload_reference(
        &self,
        payload: &[u8],
        signature: &[u8],
    ) -> Result<(), CryptoError> {
        self.verify_raw_reference(&tagged(payload), signature)
    }

    /// ed25519-dalek's `verify_strict` over `SIGN_TAG || payload` (protocol v1's cofactorless
    /// rule): not a verdict of this protocol, only the benchmarks' yardstick.
    pub fn verify_strict_cofactorless(
        &self,
        payload: &[u8],
        signature: &[u8],
    ) -> Result<(), CryptoError> {
        self.verify_strict_cofactorless_raw(&tagged(payload), signature)
    }

    /// [`Self::verify_strict_cofactorless`] over an arbitrary message.
    pub fn verify_strict_cofactorless_raw(
        &self,
        message: &[u8],
        signature: &[u8],
    ) -> Result<(), CryptoError> {
        let bytes = self.signature_bytes(signature)?;
        self.key
            .verify_strict(message, &Signature::from_bytes(&bytes))
            .map_err(|_| self.bad())
    }

    pub(crate) fn verify_parts(
        &self,
        message: &[&[u8]],
        signature: &[u8],
    ) -> Result<(), CryptoError> {
        let (r_bytes, point) = self.recompute_r(message, signature)?;
        self.accept(&r_bytes, &point, &point.compress())
    }

    /// `k = SHA-512(R ‖ A ‖ M) mod ℓ`, the message given in parts.
    pub(crate) fn challenge(&self, r_bytes: &[u8], message: &[&[u8]]) -> Scalar {
        let mut hash = Sha512::new();
        hash.update(r_bytes);
        hash.update(self.id.0);
        for part in message {
            hash.update(part);
        }
        Scalar::from_bytes_mod_order_wide(&hash.finalize().into())
    }

    /// Check 1 of the module docs and the point `R' = [S]B − [k]A`, with the `R` bytes.
    fn recompute_r(
        &self,
        message: &[&[u8]],
        signature: &[u8],
    ) -> Result<([u8; 32], EdwardsPoint), CryptoError> {
        let bytes = self.signature_bytes(signature)?;
        let (r_bytes, s) = bytes.split_at(32);
        let s = canonical_scalar(s).ok_or_else(|| self.bad())?;
        let k = self.challenge(r_bytes, message);
        let r: [u8; 32] = r_bytes.try_into().map_err(|_| self.bad())?;
        Ok((r, BASEPOINT.mul(&s) + self.minus_a().mul(&k)))
    }

    /// Multiples of `−A`, built on first use.
    pub(crate) fn minus_a(&self) -> &FixedBase {
        self.minus_a
            .get_or_init(|| FixedBase::new(&-self.key.to_edwards()))
    }

    /// Checks 2, 3 and 5 of the module docs, given `R'` and its encoding.
    pub(crate) fn accept(
        &self,
        r_bytes: &[u8; 32],
        recomputed: &EdwardsPoint,
        encoding: &CompressedEdwardsY,
    ) -> Result<(), CryptoError> {
        let valid = if r_bytes == encoding.as_bytes() {
            !recomputed.is_small_order()
        } else {
            decode_r(r_bytes).is_some_and(|r| (recomputed - r).mul_by_cofactor().is_identity())
        };
        if valid { Ok(()) } else { Err(self.bad()) }
    }

    pub(crate) fn signature_bytes(&self, signature: &[u8]) -> Result<[u8; 64], CryptoError> {
        signature
            .try_into()
            .map_err(|_| CryptoError::SignatureLength {
                found: signature.len(),
            })
    }

    pub(crate) fn bad(&self) -> CryptoError {
        CryptoError::BadSignature { author: self.id }
    }
}

/// `S` if its 32 bytes are canonical (`S < ℓ`), check 1.
pub(crate) fn canonical_scalar(bytes: &[u8]) -> Option<Scalar> {
    let bytes: [u8; 32] = bytes.try_into().ok()?;
    Option::from(Scalar::from_canonical_bytes(bytes))
}

/// `R` if its 32 bytes are the canonical encoding of a point not of small order, checks 2
/// and 3.
///
/// An encoding decompresses to a point whose own encoding is the same bytes unless its `y`
/// (the low 255 bits) is `p` or more, or `x = 0` with the sign bit set. `x = 0` only for
/// `y = ±1`, the identity and the point of order 2, both of small order: so the rule's
/// "canonical and not of small order" is "`y < p` and not of small order", and no second
/// encoding (a field inversion, as costly as the decompression) is needed.
pub(crate) fn decode_r(bytes: &[u8]) -> Option<EdwardsPoint> {
    let bytes: [u8; 32] = bytes.try_into().ok()?;
    if !y_below_p(&bytes) {
        return None;
    }
    let point = CompressedEdwardsY(bytes).decompress()?;
    (!point.is_small_order()).then_some(point)
}

/// [`decode_r`] as the rule states checks 2 and 3 (the bytes are the encoding of the point
/// they decode to), for the reference path.
fn decode_r_reference(bytes: &[u8]) -> Option<EdwardsPoint> {
    let bytes: [u8; 32] = bytes.try_into().ok()?;
    let point = CompressedEdwardsY(bytes).decompress()?;
    (point.compress().to_bytes() == bytes && !point.is_small_order()).then_some(point)
}

/// Whether the `y` of an encoding (its low 255 bits, little-endian) is below
/// `p = 2^255 − 19`: the 19 values from `p` to `2^255 − 1` are the bytes `ED..FF`, then 30
/// bytes `FF`, then `7F` (the sign bit aside).
fn y_below_p(bytes: &[u8; 32]) -> bool {
    !(bytes[0] >= 0xed && bytes[1..31].iter().all(|&b| b == 0xff) && bytes[31] & 0x7f == 0x7f)
}

/// `SIGN_TAG || payload`.
fn tagged(payload: &[u8]) -> Vec<u8> {
    let mut message = Vec::with_capacity(SIGN_TAG.len() + payload.len());
    message.extend_from_slice(SIGN_TAG);
    message.extend_from_slice(payload);
    message
}

/// `S + ℓ` on 32 little-endian bytes (`S < ℓ`, so the sum fits in 32 bytes): the same scalar,
/// a non-canonical encoding.
pub fn add_group_order(s: &[u8]) -> [u8; 32] {
    const ORDER: [u8; 32] = [
        0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde,
        0x14, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10,
    ];
    let mut out = [0u8; 32];
    let mut carry = 0u16;
    for ((o, byte), l) in out.iter_mut().zip(s).zip(ORDER) {
        let sum = u16::from(*byte) + u16::from(l) + carry;
        *o = sum as u8;
        carry = sum >> 8;
    }
    out
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
    let mut hasher = TaggedSha256::new(tag);
    hasher.0.update(data);
    hasher.finish()
}

/// [`tagged_sha256`] fed as a writer, for data produced piece by piece.
#[derive(Debug)]
pub struct TaggedSha256(Sha256);

impl TaggedSha256 {
    /// A hash that starts with `tag`.
    pub fn new(tag: &[u8]) -> Self {
        let mut hasher = Sha256::new();
        hasher.update(tag);
        Self(hasher)
    }

    /// The hash of the tag and everything written.
    pub fn finish(self) -> [u8; 32] {
        self.0.finalize().into()
    }
}

impl std::io::Write for TaggedSha256 {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.update(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
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

    /// The fast path's verdict and the reference's on one input, asserted equal; returned.
    /// Whatever `verify_strict` (cofactorless) accepts, the rule accepts too.
    fn same_verdict(key: &PublicKey, message: &[u8], signature: &[u8]) -> bool {
        let fast = key.verify_raw(message, signature);
        let reference = key.verify_raw_reference(message, signature);
        assert_eq!(
            fast,
            reference,
            "verdicts differ for key {} signature {}",
            key.hub_id().to_hex(),
            hex::encode(signature)
        );
        let strict = signature.try_into().is_ok_and(|bytes: [u8; 64]| {
            key.key
                .verify_strict(message, &Signature::from_bytes(&bytes))
                .is_ok()
        });
        assert!(
            !strict || fast.is_ok(),
            "verify_strict accepts, the rule refuses"
        );
        fast.is_ok()
    }

    fn challenge(r: &[u8; 32], key: &HubId, message: &[u8]) -> Scalar {
        let mut hash = Sha512::new();
        hash.update(r);
        hash.update(key.0);
        hash.update(message);
        Scalar::from_bytes_mod_order_wide(&hash.finalize().into())
    }

    fn signature_of(r: &[u8; 32], s: &[u8; 32]) -> [u8; 64] {
        let mut signature = [0u8; 64];
        signature[..32].copy_from_slice(r);
        signature[32..].copy_from_slice(s);
        signature
    }

    /// A signature built by hand: nonce point `r_point`, `S = r + k·a`, for secret scalar `a`.
    fn forge(r: Scalar, r_point: EdwardsPoint, a: Scalar, key: &HubId, msg: &[u8]) -> [u8; 64] {
        let r_bytes = r_point.compress().to_bytes();
        let k = challenge(&r_bytes, key, msg);
        signature_of(&r_bytes, (r + k * a).as_bytes())
    }

    /// Both verdicts, asserted equal, for the encoding `r` with `S = k·a` (so that
    /// `[S]B − [k]A` is the identity) and with `S = 0`.
    fn verdicts_for_r(key: &PublicKey, a: Scalar, msg: &[u8], r: &[u8; 32]) -> [bool; 2] {
        let k = challenge(r, &key.hub_id(), msg);
        [
            same_verdict(key, msg, &signature_of(r, (k * a).as_bytes())),
            same_verdict(key, msg, &signature_of(r, &[0; 32])),
        ]
    }

    #[test]
    fn fast_path_agrees_with_the_reference_on_adversarial_signatures() {
        use curve25519_dalek::constants::EIGHT_TORSION;
        let signing = SigningKey::from_bytes(&[9; 32]);
        let a = signing.to_scalar();
        let id = HubId(signing.verifying_key().to_bytes());
        let key = PublicKey::from_hub_id(id).unwrap();
        let msg = b"maillage/v1 adversarial".as_slice();
        let mut accepted = 0;
        let mut refused = 0;
        let mut tally = |ok: bool| if ok { accepted += 1 } else { refused += 1 };
        // Honest signatures, and the same with S + ℓ (same point, non-canonical S).
        for n in 0u8..8 {
            let honest = signing.sign(&[msg, &[n]].concat()).to_bytes();
            tally(same_verdict(&key, &[msg, &[n]].concat(), &honest));
            let s = add_group_order(&honest[32..]);
            let mut malleated = honest;
            malleated[32..].copy_from_slice(&s);
            tally(same_verdict(&key, &[msg, &[n]].concat(), &malleated));
        }
        // R with a torsion component: R = [r]B + T for each of the 8 torsion points.
        for (i, t) in EIGHT_TORSION.iter().enumerate() {
            let r = Scalar::from(1000u64 + i as u64);
            let sig = forge(r, EdwardsPoint::mul_base(&r) + t, a, &id, msg);
            tally(same_verdict(&key, msg, &sig));
            // Small-order R alone.
            for ok in verdicts_for_r(&key, a, msg, &t.compress().to_bytes()) {
                tally(ok);
            }
        }
        // R = identity and S = k·a: the recomputed point is the identity, whose encoding R is.
        let mut identity = [0u8; 32];
        identity[0] = 1;
        let k = challenge(&identity, &id, msg);
        assert!(!same_verdict(
            &key,
            msg,
            &signature_of(&identity, (k * a).as_bytes())
        ));
        // Non-canonical R encodings (y ≥ p, and a sign bit on x = 0), and R not on the curve.
        let mut p_plus_one = [0xffu8; 32];
        p_plus_one[0] = 0xee;
        p_plus_one[31] = 0x7f;
        let mut signed_identity = identity;
        signed_identity[31] |= 0x80;
        for r in [p_plus_one, signed_identity, [0xff; 32], [2; 32]] {
            for ok in verdicts_for_r(&key, a, msg, &r) {
                tally(ok);
            }
        }
        // A mixed-order key A' = [a]B + T8: the cofactor removes [k]T8, so every signature is
        // valid (verify_strict accepts only those where 8 divides k).
        let mixed = HubId(
            (EdwardsPoint::mul_base(&a) + EIGHT_TORSION[1])
                .compress()
                .to_bytes(),
        );
        let mixed_key = PublicKey::from_hub_id(mixed).unwrap();
        let mut mixed_accepted = 0;
        for n in 0u64..64 {
            let r = Scalar::from(5000 + n);
            let sig = forge(r, EdwardsPoint::mul_base(&r), a, &mixed, msg);
            if same_verdict(&mixed_key, msg, &sig) {
                mixed_accepted += 1;
            }
        }
        assert_eq!(mixed_accepted, 64);
        assert!(
            accepted >= 8 && refused >= 30,
            "{accepted} accepted, {refused} refused"
        );
    }

    proptest::proptest! {
        #[test]
        fn fast_path_agrees_with_the_reference_on_mutations(
            seed in proptest::prelude::any::<[u8; 32]>(),
            message in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..300),
            flip_signature in proptest::option::of((0usize..64, 0u8..8)),
            flip_message in proptest::option::of(0usize..300),
        ) {
            let signing = SigningKey::from_bytes(&seed);
            let key = PublicKey::from_hub_id(HubId(signing.verifying_key().to_bytes())).unwrap();
            let mut signature = signing.sign(&message).to_bytes();
            if let Some((byte, bit)) = flip_signature {
                signature[byte] ^= 1 << bit;
            }
            let mut signed = message.clone();
            if let Some(at) = flip_message.filter(|at| *at < signed.len()) {
                signed[at] ^= 0x20;
            }
            let ok = same_verdict(&key, &signed, &signature);
            if flip_signature.is_none() && signed == message {
                proptest::prop_assert!(ok);
            }
        }
    }

    #[test]
    fn r_decoding_without_a_second_encoding_is_the_round_trip_rule() {
        let mut cases: Vec<[u8; 32]> = Vec::new();
        // Every y from p - 2 to 2^255 - 1 (the 19 non-canonical ones), both signs.
        for low in 0xebu8..=0xff {
            let mut y = [0xffu8; 32];
            y[0] = low;
            y[31] = 0x7f;
            cases.push(y);
            y[31] = 0xff;
            cases.push(y);
        }
        // y = 0, 1 and 2 with both signs, the small-order points, mixed-order points.
        for small in 0u8..3 {
            let mut y = [0u8; 32];
            y[0] = small;
            cases.push(y);
            y[31] = 0x80;
            cases.push(y);
        }
        for torsion in curve25519_dalek::constants::EIGHT_TORSION.iter() {
            let mut encoding = torsion.compress().to_bytes();
            cases.push(encoding);
            encoding[31] ^= 0x80;
            cases.push(encoding);
            let mixed = EdwardsPoint::mul_base(&Scalar::from(7u8)) + torsion;
            cases.push(mixed.compress().to_bytes());
        }
        // Points of prime order and random bytes (about half are not on the curve).
        let mut state = [7u8; 32];
        for n in 0u64..4000 {
            state = Sha512::digest(state).as_slice()[..32].try_into().unwrap();
            cases.push(state);
            cases.push(
                EdwardsPoint::mul_base(&Scalar::from(n + 1))
                    .compress()
                    .to_bytes(),
            );
        }
        let mut accepted = 0;
        for bytes in cases {
            let fast = decode_r(&bytes);
            assert_eq!(fast, decode_r_reference(&bytes), "{}", hex::encode(bytes));
            accepted += usize::from(fast.is_some());
        }
        assert!(accepted > 4000, "{accepted}");
    }

    #[test]
    fn ids_are_domain_separated() {
        assert_ne!(event_id(b"x").0, federation_id(b"x").0);
        assert_eq!(event_id(b"x"), event_id(b"x"));
    }
}
