//! Generated signatures, honest and adversarial, to compare the verdicts of the single, the
//! reference and the batch verification (tests and `maillage bench signatures`).
//!
//! Deterministic: batch `n` of seed `s` is the same on every run and build. Each batch holds
//! signatures by one key (as a slice of one feed's events); one batch in seven uses a key with
//! an order-8 component, which the rule accepts. An adversarial batch holds one signature of
//! each [`Kind`] in turn at a position derived from the batch number, the others honest.

use curve25519_dalek::constants::EIGHT_TORSION;
use curve25519_dalek::edwards::EdwardsPoint;
use curve25519_dalek::scalar::Scalar;
use ed25519_dalek::{Signer, SigningKey};
use sha2::{Digest, Sha256, Sha512};

use crate::ids::HubId;

/// What a sample is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Signed with ed25519-dalek (or by hand for a mixed-order key): valid.
    Honest,
    /// `R = [r]B + T`, `T` of order 8, `S = r + k·a`: valid under the cofactored rule only.
    TorsionedR,
    /// One bit of `R` or `S` flipped.
    FlippedBit,
    /// Another message than the one signed.
    OtherMessage,
    /// `S + ℓ`: the same point, a non-canonical `S`.
    SPlusOrder,
    /// `R` of small order with `S = k·a`: the cofactored equation holds, `R` is refused.
    SmallOrderR,
    /// The identity encoded with `y = p + 1` as `R`, `S = k·a`.
    NonCanonicalR,
    /// `R = [r]B + T`, `S = r + k·a + 1`: off by a point of prime order.
    TorsionedRWrongS,
}

/// The kinds an adversarial batch cycles through (every one but [`Kind::Honest`]).
pub const ADVERSARIAL: [Kind; 7] = [
    Kind::TorsionedR,
    Kind::FlippedBit,
    Kind::OtherMessage,
    Kind::SPlusOrder,
    Kind::SmallOrderR,
    Kind::NonCanonicalR,
    Kind::TorsionedRWrongS,
];

/// One generated signature.
#[derive(Debug, Clone)]
pub struct Sample {
    /// The signer's key.
    pub key: HubId,
    /// The message the signature is checked against (no domain tag is added).
    pub message: Vec<u8>,
    /// The signature.
    pub signature: [u8; 64],
    /// How it was made.
    pub kind: Kind,
}

impl Sample {
    /// Whether the rule accepts it (by construction, not by verifying).
    pub fn valid(&self) -> bool {
        matches!(self.kind, Kind::Honest | Kind::TorsionedR)
    }
}

fn hash_scalar(parts: &[&[u8]]) -> Scalar {
    let mut hash = Sha512::new();
    for part in parts {
        hash.update(part);
    }
    Scalar::from_bytes_mod_order_wide(&hash.finalize().into())
}

fn challenge(r: &[u8; 32], key: &[u8; 32], message: &[u8]) -> Scalar {
    hash_scalar(&[r, key, message])
}

fn signature(r: &[u8; 32], s: &Scalar) -> [u8; 64] {
    let mut out = [0u8; 64];
    out[..32].copy_from_slice(r);
    out[32..].copy_from_slice(s.as_bytes());
    out
}

/// Batch `index` of `seed`: `size` signatures by one key; adversarial or all honest.
pub fn batch(seed: u64, index: u64, size: usize, adversarial: bool) -> Vec<Sample> {
    let key_seed: [u8; 32] = Sha256::new()
        .chain_update(b"maillage/v2 signature corpus key\0")
        .chain_update(seed.to_le_bytes())
        .chain_update(index.to_le_bytes())
        .finalize()
        .into();
    let signing = SigningKey::from_bytes(&key_seed);
    let a = signing.to_scalar();
    let mixed = index % 7 == 3;
    let key: [u8; 32] = if mixed {
        (EdwardsPoint::mul_base(&a) + EIGHT_TORSION[1])
            .compress()
            .to_bytes()
    } else {
        signing.verifying_key().to_bytes()
    };
    let nonce = |i: usize, what: &[u8]| hash_scalar(&[&key_seed, &(i as u64).to_le_bytes(), what]);
    let bad_at =
        usize::try_from(index.wrapping_mul(2_654_435_761) % size.max(1) as u64).unwrap_or(0);
    let bad_kind = ADVERSARIAL[usize::try_from(index % ADVERSARIAL.len() as u64).unwrap_or(0)];
    (0..size)
        .map(|i| {
            let message: Vec<u8> = [
                b"corpus".as_slice(),
                &index.to_le_bytes(),
                &(i as u64).to_le_bytes(),
            ]
            .concat();
            let kind = if adversarial && i == bad_at {
                bad_kind
            } else {
                Kind::Honest
            };
            let honest = || {
                if mixed {
                    let r = nonce(i, b"r");
                    let r_bytes = EdwardsPoint::mul_base(&r).compress().to_bytes();
                    signature(&r_bytes, &(r + challenge(&r_bytes, &key, &message) * a))
                } else {
                    signing.sign(&message).to_bytes()
                }
            };
            let torsioned = |extra: Scalar| {
                let r = nonce(i, b"t");
                let point = EdwardsPoint::mul_base(&r) + EIGHT_TORSION[1 + i % 7];
                let r_bytes = point.compress().to_bytes();
                signature(
                    &r_bytes,
                    &(r + challenge(&r_bytes, &key, &message) * a + extra),
                )
            };
            let (message, signature) = match kind {
                Kind::Honest => {
                    let s = honest();
                    (message, s)
                }
                Kind::TorsionedR => {
                    let s = torsioned(Scalar::ZERO);
                    (message, s)
                }
                Kind::TorsionedRWrongS => {
                    let s = torsioned(Scalar::ONE);
                    (message, s)
                }
                Kind::FlippedBit => {
                    let mut s = honest();
                    let bit = (index as usize + i) % 512;
                    s[bit / 8] ^= 1 << (bit % 8);
                    (message, s)
                }
                Kind::OtherMessage => {
                    let s = honest();
                    let mut other = message;
                    other.push(0);
                    (other, s)
                }
                Kind::SPlusOrder => {
                    let mut s = honest();
                    let value = crate::crypto::add_group_order(&s[32..]);
                    s[32..].copy_from_slice(&value);
                    (message, s)
                }
                Kind::SmallOrderR => {
                    let r_bytes = EIGHT_TORSION[1 + i % 7].compress().to_bytes();
                    let s = signature(&r_bytes, &(challenge(&r_bytes, &key, &message) * a));
                    (message, s)
                }
                Kind::NonCanonicalR => {
                    // y = p + 1: 0xee, 0xff…, 0x7f.
                    let mut r_bytes = [0xffu8; 32];
                    r_bytes[0] = 0xee;
                    r_bytes[31] = 0x7f;
                    let s = signature(&r_bytes, &(challenge(&r_bytes, &key, &message) * a));
                    (message, s)
                }
            };
            Sample {
                key: HubId(key),
                message,
                signature,
                kind,
            }
        })
        .collect()
}

/// How many samples disagreed, and how many of each verdict, over a run of batches.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Agreement {
    /// Samples checked.
    pub samples: u64,
    /// Accepted by all three paths.
    pub accepted: u64,
    /// Refused by all three paths.
    pub refused: u64,
    /// Samples where the single, reference or batch verdict differs from another, or from
    /// the verdict the sample was built to get.
    pub disagreements: u64,
}

impl Agreement {
    /// Adds another run's counts.
    pub fn add(&mut self, other: Agreement) {
        self.samples += other.samples;
        self.accepted += other.accepted;
        self.refused += other.refused;
        self.disagreements += other.disagreements;
    }
}

/// Verifies one batch three ways (fast single, reference, batch equation) and counts.
pub fn check_batch(samples: &[Sample]) -> Agreement {
    use crate::batch::{PayloadSignature, verify_messages};
    use crate::crypto::PublicKey;
    let mut agreement = Agreement::default();
    let Some(first) = samples.first() else {
        return agreement;
    };
    let Ok(key) = PublicKey::from_hub_id(first.key) else {
        agreement.samples = samples.len() as u64;
        agreement.disagreements = agreement.samples;
        return agreement;
    };
    let items: Vec<PayloadSignature<'_>> = samples
        .iter()
        .map(|s| PayloadSignature {
            key: &key,
            payload: &s.message,
            signature: &s.signature,
        })
        .collect();
    let batch = verify_messages(&items);
    for (sample, batched) in samples.iter().zip(batch) {
        let single = key.verify_raw(&sample.message, &sample.signature);
        let reference = key.verify_raw_reference(&sample.message, &sample.signature);
        agreement.samples += 1;
        if single != batched || single != reference || single.is_ok() != sample.valid() {
            agreement.disagreements += 1;
        } else if single.is_ok() {
            agreement.accepted += 1;
        } else {
            agreement.refused += 1;
        }
    }
    agreement
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_gets_the_verdict_it_was_built_for_single_and_batched() {
        let mut total = Agreement::default();
        let mut kinds = std::collections::BTreeSet::new();
        for index in 0..28 {
            let samples = batch(1, index, 40, true);
            kinds.extend(samples.iter().map(|s| format!("{:?}", s.kind)));
            total.add(check_batch(&samples));
            total.add(check_batch(&batch(2, index, 8, false)));
        }
        assert_eq!(total.disagreements, 0, "{total:?}");
        assert_eq!(kinds.len(), 8, "{kinds:?}");
        assert!(total.refused >= 20, "{total:?}");
    }

    #[test]
    fn the_corpus_is_the_same_on_every_run() {
        let a = batch(9, 5, 6, true);
        let b = batch(9, 5, 6, true);
        assert!(
            a.iter()
                .zip(&b)
                .all(|(x, y)| x.signature == y.signature && x.message == y.message)
        );
    }
}
