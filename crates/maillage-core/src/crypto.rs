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
//!
//! # The same verdict as `verify_strict`, faster
//!
//! ed25519-dalek's `verify_strict` accepts a signature `(R, S)` by key `A` on `M` iff
//! 1. `S` is canonical (`S < ℓ`);
//! 2. `R` decompresses to a point, and 3. that point is not of small order;
//! 4. `A` is not of small order;
//! 5. `R` is byte-for-byte the encoding of `R' = [S]B − [k]A`, `k = SHA-512(R ‖ A ‖ M) mod ℓ`.
//!
//! [`PublicKey`] checks 4 once, when the key is admitted. For each signature it checks 1, then
//! computes the same point `R'` with fixed-base tables (multiples of `B`, built once per
//! process, and of `−A`, built once per key: [`crate::fixed_base`]) instead of a double-base
//! ladder: group arithmetic is exact, so the point, and its canonical encoding, are the same.
//! If 5 holds, `R` is the canonical encoding of `R'`, so it decompresses (2) to `R'`, and 3
//! is `R'`'s order; if 5 fails both refuse. The verdict is therefore identical on every input, without
//! decompressing `R` and, in [`verify_payloads`], with one field inversion for a whole batch of
//! encodings. `PublicKey::verify_raw_reference` is `verify_strict` itself: the tests compare
//! both on valid, mutated and adversarial signatures (small-order and torsioned `R`, `S ≥ ℓ`,
//! mixed-order keys), and the benchmarks measure against it.

use std::fmt;
use std::sync::{Arc, LazyLock, OnceLock};

use curve25519_dalek::constants::ED25519_BASEPOINT_POINT;
use curve25519_dalek::edwards::{CompressedEdwardsY, EdwardsPoint};
use curve25519_dalek::scalar::Scalar;
use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use sha2::{Digest, Sha256, Sha512};
use thiserror::Error;

use crate::fixed_base::FixedBase;
use crate::ids::{EventId, FederationId, HubId};

/// Multiples of the basepoint `B`, for every verification of the process.
static BASEPOINT: LazyLock<FixedBase> = LazyLock::new(|| FixedBase::new(&ED25519_BASEPOINT_POINT));

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

/// One signature over `SIGN_TAG || payload` to check with [`verify_payloads`].
#[derive(Debug, Clone, Copy)]
pub struct PayloadSignature<'a> {
    /// The claimed signer.
    pub key: &'a PublicKey,
    /// The payload (the tag is prefixed here).
    pub payload: &'a [u8],
    /// The signature bytes (64 expected).
    pub signature: &'a [u8],
}

/// Strict verification of many payload signatures; verdicts in input order, each the one
/// `verify_strict` gives (module docs). The encodings of the recomputed `R` share one field
/// inversion.
pub fn verify_payloads(items: &[PayloadSignature<'_>]) -> Vec<Result<(), CryptoError>> {
    let recomputed: Vec<Result<EdwardsPoint, CryptoError>> = items
        .iter()
        .map(|item| {
            item.key
                .recompute_r(&[SIGN_TAG, item.payload], item.signature)
        })
        .collect();
    let points: Vec<EdwardsPoint> = recomputed.iter().filter_map(|r| r.clone().ok()).collect();
    let mut encodings = EdwardsPoint::compress_batch_alloc(&points).into_iter();
    items
        .iter()
        .zip(recomputed)
        .map(|(item, r)| {
            let point = r?;
            let encoding = encodings.next().ok_or(CryptoError::BadSignature {
                author: item.key.id,
            })?;
            item.key.accept(item.signature, &point, &encoding)
        })
        .collect()
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

    /// Strict verification of `SIGN_TAG || payload`.
    pub fn verify_payload(&self, payload: &[u8], signature: &[u8]) -> Result<(), CryptoError> {
        self.verify_parts(&[SIGN_TAG, payload], signature)
    }

    /// Strict verification of an arbitrary message.
    pub fn verify_raw(&self, message: &[u8], signature: &[u8]) -> Result<(), CryptoError> {
        self.verify_parts(&[message], signature)
    }

    /// ed25519-dalek's `verify_strict`, one signature at a time: the reference the fast path
    /// is tested and benchmarked against.
    pub fn verify_raw_reference(
        &self,
        message: &[u8],
        signature: &[u8],
    ) -> Result<(), CryptoError> {
        let bytes = self.signature_bytes(signature)?;
        self.key
            .verify_strict(message, &Signature::from_bytes(&bytes))
            .map_err(|_| self.bad())
    }

    /// [`Self::verify_raw_reference`] over `SIGN_TAG || payload`.
    pub fn verify_payload_reference(
        &self,
        payload: &[u8],
        signature: &[u8],
    ) -> Result<(), CryptoError> {
        let mut message = Vec::with_capacity(SIGN_TAG.len() + payload.len());
        message.extend_from_slice(SIGN_TAG);
        message.extend_from_slice(payload);
        self.verify_raw_reference(&message, signature)
    }

    fn verify_parts(&self, message: &[&[u8]], signature: &[u8]) -> Result<(), CryptoError> {
        let point = self.recompute_r(message, signature)?;
        self.accept(signature, &point, &point.compress())
    }

    /// Step 1 and the point of step 5 of the module docs: `[S]B − [k]A`.
    fn recompute_r(
        &self,
        message: &[&[u8]],
        signature: &[u8],
    ) -> Result<EdwardsPoint, CryptoError> {
        let bytes = self.signature_bytes(signature)?;
        let (r, s) = bytes.split_at(32);
        let s: [u8; 32] = s.try_into().map_err(|_| self.bad())?;
        let s =
            Option::<Scalar>::from(Scalar::from_canonical_bytes(s)).ok_or_else(|| self.bad())?;
        let mut hash = Sha512::new();
        hash.update(r);
        hash.update(self.id.0);
        for part in message {
            hash.update(part);
        }
        let k = Scalar::from_bytes_mod_order_wide(&hash.finalize().into());
        let minus_a = self
            .minus_a
            .get_or_init(|| FixedBase::new(&-self.key.to_edwards()));
        Ok(BASEPOINT.mul(&s) + minus_a.mul(&k))
    }

    /// Steps 5, 2 and 3 of the module docs, given `R'` and its encoding.
    fn accept(
        &self,
        signature: &[u8],
        recomputed: &EdwardsPoint,
        encoding: &CompressedEdwardsY,
    ) -> Result<(), CryptoError> {
        if signature.get(..32) == Some(encoding.as_bytes().as_slice())
            && !recomputed.is_small_order()
        {
            Ok(())
        } else {
            Err(self.bad())
        }
    }

    fn signature_bytes(&self, signature: &[u8]) -> Result<[u8; 64], CryptoError> {
        signature
            .try_into()
            .map_err(|_| CryptoError::SignatureLength {
                found: signature.len(),
            })
    }

    fn bad(&self) -> CryptoError {
        CryptoError::BadSignature { author: self.id }
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

    /// The fast path's verdict and `verify_strict`'s on one input, asserted equal; returned.
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
    fn fast_path_agrees_with_verify_strict_on_adversarial_signatures() {
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
            let mut s = [0u8; 32];
            s.copy_from_slice(&honest[32..]);
            let mut carry = 0u16;
            // S + ℓ, little-endian addition with ℓ's bytes.
            const L: [u8; 32] = [
                0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9,
                0xde, 0x14, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10,
            ];
            for (byte, l) in s.iter_mut().zip(L) {
                let sum = u16::from(*byte) + u16::from(l) + carry;
                *byte = sum as u8;
                carry = sum >> 8;
            }
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
        // A mixed-order key A' = [a]B + T8: valid iff 8 divides k, under both verifiers.
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
        // Both outcomes happen, so the comparisons above were not all of one kind.
        assert!(
            mixed_accepted > 0 && mixed_accepted < 64,
            "{mixed_accepted}"
        );
        assert!(
            accepted >= 8 && refused >= 30,
            "{accepted} accepted, {refused} refused"
        );
    }

    #[test]
    fn batched_verdicts_are_the_single_verdicts_in_order() {
        let keys: Vec<SecretKey> = (1..=3).map(key).collect();
        let publics: Vec<PublicKey> = keys
            .iter()
            .map(|k| PublicKey::from_hub_id(k.hub_id()).unwrap())
            .collect();
        let payloads: Vec<Vec<u8>> = (0..40u8).map(|n| vec![n; 1 + usize::from(n)]).collect();
        let mut signatures: Vec<Vec<u8>> = payloads
            .iter()
            .enumerate()
            .map(|(i, p)| keys[i % 3].sign_payload(p).to_vec())
            .collect();
        signatures[5][3] ^= 1; // R changed
        signatures[6][40] ^= 1; // S changed
        signatures[7].truncate(10); // wrong length
        signatures[8][63] |= 0xf0; // S >= ℓ
        let items: Vec<PayloadSignature<'_>> = payloads
            .iter()
            .zip(&signatures)
            .enumerate()
            .map(|(i, (payload, signature))| PayloadSignature {
                key: &publics[(i + usize::from(i == 9)) % 3], // #9 claims the wrong signer
                payload,
                signature,
            })
            .collect();
        let batch = verify_payloads(&items);
        for (i, (item, verdict)) in items.iter().zip(&batch).enumerate() {
            let reference = item
                .key
                .verify_payload_reference(item.payload, item.signature);
            assert_eq!(verdict, &reference, "item {i}");
            assert_eq!(verdict.is_ok(), !(5..=9).contains(&i), "item {i}");
        }
        assert!(verify_payloads(&[]).is_empty());
    }

    proptest::proptest! {
        #[test]
        fn fast_path_agrees_with_verify_strict_on_mutations(
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
    fn ids_are_domain_separated() {
        assert_ne!(event_id(b"x").0, federation_id(b"x").0);
        assert_eq!(event_id(b"x"), event_id(b"x"));
    }
}
