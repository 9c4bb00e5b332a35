//! Many signatures checked at once, with the single rule's verdicts (protocol section 2).
//!
//! The rule ([`crate::crypto`]) ends with a linear equation: signature `i` is valid iff its
//! encodings pass the per-signature checks (1–4) and `[8]P_i = O` for
//! `P_i = [S_i]B − R_i − [k_i]A_i`. A slice is verified in three steps:
//!
//! 1. **Per signature**: length, `S_i < ℓ`, `R_i` canonical and not of small order, `k_i`. A
//!    signature failing here is refused with the single path's error; the others go on.
//! 2. **One equation**: with 128-bit coefficients `z_i`,
//!    `[8]([Σ z_i S_i]B − Σ z_i R_i − Σ_A [Σ_{i by A} z_i k_i]A) = O`. The terms of one key
//!    collapse into a single multiplication by `A` (a slice of one feed's events costs one,
//!    from the key's fixed-base table); the `R_i` go through one variable-time multi-scalar
//!    multiplication.
//! 3. If the equation holds, every signature of step 2 is valid; otherwise each is verified on
//!    its own ([`PublicKey::verify_payload`]), so a bad signature is found and refused alone.
//!
//! **Why the verdicts are the single ones.** The left side is `[8]Σ z_i P_i = Σ z_i [8]P_i`.
//! If every signature is valid, every `[8]P_i` is `O` and the equation holds whatever the
//! `z_i`: a batch never refuses a valid signature, and step 3 gives the exact verdicts
//! whenever it fails. If some `[8]P_j ≠ O`, it is a point of prime order `ℓ` (the cofactor
//! removed every torsion component), and for fixed other terms at most one value of
//! `z_j mod ℓ` cancels it; the `z_i` are below `2^128 < ℓ` and derived from a SHA-512 of
//! every signature, key and message hash of the batch, after they are fixed. So an accepted
//! batch holding an invalid signature needs a hash output chosen in advance: probability
//! `2^-128` per attempt. With the cofactorless rule (`verify_strict`) the same batch
//! equation would not be the conjunction of the single verdicts: a torsion component that
//! makes a single check fail can cancel, or fail to cancel, depending on the `z_i` mod 8.
//!
//! The coefficients are a function of the batch alone (no random generator), so a node
//! verifying the same batch twice does the same work; no verdict depends on them.

use curve25519_dalek::edwards::EdwardsPoint;
use curve25519_dalek::scalar::Scalar;
use curve25519_dalek::traits::{IsIdentity, VartimeMultiscalarMul};
use sha2::{Digest, Sha512};

use crate::crypto::{BASEPOINT, CryptoError, PublicKey, SIGN_TAG, canonical_scalar, decode_r};

/// Domain tag of the batch coefficients' hash.
const COEFFICIENT_TAG: &[u8] = b"maillage/v2/batch-coefficients\0";

/// Below this many signatures the equation saves nothing: each is verified on its own.
pub const BATCH_MIN: usize = 4;

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

/// A signature that passed step 1 of the module docs.
struct Prepared {
    r_bytes: [u8; 32],
    r: EdwardsPoint,
    s: Scalar,
    k: Scalar,
}

/// The rule's verdicts on many payload signatures, in input order: each is
/// [`PublicKey::verify_payload`]'s (module docs).
pub fn verify_payloads(items: &[PayloadSignature<'_>]) -> Vec<Result<(), CryptoError>> {
    verify_tagged(items, SIGN_TAG)
}

/// [`verify_payloads`] for signatures over the bare `payload` (no domain tag): each verdict is
/// [`PublicKey::verify_raw`]'s. For test vectors made outside this protocol.
pub fn verify_messages(items: &[PayloadSignature<'_>]) -> Vec<Result<(), CryptoError>> {
    verify_tagged(items, b"")
}

fn verify_tagged(items: &[PayloadSignature<'_>], tag: &[u8]) -> Vec<Result<(), CryptoError>> {
    let single =
        |item: &PayloadSignature<'_>| item.key.verify_parts(&[tag, item.payload], item.signature);
    if items.len() < BATCH_MIN {
        return items.iter().map(single).collect();
    }
    let prepared: Vec<Result<Prepared, CryptoError>> =
        items.iter().map(|item| prepare(item, tag)).collect();
    let holds = equation_holds(items, &prepared);
    items
        .iter()
        .zip(prepared)
        .map(|(item, prepared)| match prepared {
            Err(error) => Err(error),
            Ok(_) if holds => Ok(()),
            Ok(_) => single(item),
        })
        .collect()
}

/// Step 1: the checks of one signature that need no equation.
fn prepare(item: &PayloadSignature<'_>, tag: &[u8]) -> Result<Prepared, CryptoError> {
    let key = item.key;
    let bytes = key.signature_bytes(item.signature)?;
    let (r_part, s_part) = bytes.split_at(32);
    let s = canonical_scalar(s_part).ok_or_else(|| key.bad())?;
    let r = decode_r(r_part).ok_or_else(|| key.bad())?;
    let r_bytes: [u8; 32] = r_part.try_into().map_err(|_| key.bad())?;
    let k = key.challenge(&r_bytes, &[tag, item.payload]);
    Ok(Prepared { r_bytes, r, s, k })
}

/// Step 2: the batch equation over the signatures that passed step 1 (true when there are
/// none).
fn equation_holds(
    items: &[PayloadSignature<'_>],
    prepared: &[Result<Prepared, CryptoError>],
) -> bool {
    let candidates: Vec<(&PublicKey, &Prepared)> = items
        .iter()
        .zip(prepared)
        .filter_map(|(item, p)| Some((item.key, p.as_ref().ok()?)))
        .collect();
    if candidates.is_empty() {
        return true;
    }
    let z = coefficients(&candidates);
    let mut s_sum = Scalar::ZERO;
    // One `Σ z_i k_i` per key, in first-seen order (a slice holds few keys).
    let mut per_key: Vec<(&PublicKey, Scalar)> = Vec::new();
    for ((key, p), z) in candidates.iter().zip(&z) {
        s_sum += z * p.s;
        let zk = z * p.k;
        match per_key.iter_mut().find(|(k, _)| k.hub_id() == key.hub_id()) {
            Some((_, sum)) => *sum += zk,
            None => per_key.push((key, zk)),
        }
    }
    let r_sum = EdwardsPoint::vartime_multiscalar_mul(&z, candidates.iter().map(|(_, p)| p.r));
    let mut total = BASEPOINT.mul(&s_sum) - r_sum;
    for (key, k_sum) in &per_key {
        total += key.minus_a().mul(k_sum);
    }
    total.mul_by_cofactor().is_identity()
}

/// The `z_i`: 128-bit values from a SHA-512 of every key, `R`, `S` and `k` of the batch.
fn coefficients(candidates: &[(&PublicKey, &Prepared)]) -> Vec<Scalar> {
    let mut transcript = Sha512::new();
    transcript.update(COEFFICIENT_TAG);
    transcript.update((candidates.len() as u64).to_le_bytes());
    for (key, p) in candidates {
        transcript.update(key.hub_id().0);
        transcript.update(p.r_bytes);
        transcript.update(p.s.as_bytes());
        transcript.update(p.k.as_bytes());
    }
    let seed: [u8; 64] = transcript.finalize().into();
    (0..candidates.len() as u64)
        .map(|i| {
            let block: [u8; 64] = Sha512::new()
                .chain_update(seed)
                .chain_update(i.to_le_bytes())
                .finalize()
                .into();
            let mut bytes = [0u8; 32];
            bytes[..16].copy_from_slice(&block[..16]);
            Scalar::from_bytes_mod_order(bytes)
        })
        .collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::crypto::SecretKey;
    use crate::ids::HubId;
    use curve25519_dalek::constants::EIGHT_TORSION;
    use ed25519_dalek::SigningKey;

    fn key(n: u8) -> SecretKey {
        SecretKey::from_seed(&[n; 32])
    }

    fn public(secret: &SecretKey) -> PublicKey {
        PublicKey::from_hub_id(secret.hub_id()).unwrap()
    }

    /// Verifies `items` as one batch and asserts each verdict is the single and the reference
    /// verdict; returns the indices refused.
    fn refused(items: &[PayloadSignature<'_>]) -> Vec<usize> {
        let batch = verify_payloads(items);
        assert_eq!(batch.len(), items.len());
        let mut out = Vec::new();
        for (i, (item, verdict)) in items.iter().zip(&batch).enumerate() {
            let single = item.key.verify_payload(item.payload, item.signature);
            let reference = item
                .key
                .verify_payload_reference(item.payload, item.signature);
            assert_eq!(verdict, &single, "item {i}: batch and single differ");
            assert_eq!(verdict, &reference, "item {i}: batch and reference differ");
            if verdict.is_err() {
                out.push(i);
            }
        }
        out
    }

    /// The signatures of `payloads` by `key`, in order.
    fn one_key<'a>(
        key: &'a PublicKey,
        payloads: &'a [Vec<u8>],
        signatures: &'a [Vec<u8>],
    ) -> Vec<PayloadSignature<'a>> {
        payloads
            .iter()
            .zip(signatures)
            .map(|(payload, signature)| PayloadSignature {
                key,
                payload,
                signature,
            })
            .collect()
    }

    /// Whether the batch equation (step 2) holds over `items`.
    fn holds(items: &[PayloadSignature<'_>]) -> bool {
        let prepared: Vec<_> = items.iter().map(|item| prepare(item, SIGN_TAG)).collect();
        equation_holds(items, &prepared)
    }

    #[test]
    fn batched_verdicts_are_the_single_verdicts_in_order() {
        let keys: Vec<SecretKey> = (1..=3).map(key).collect();
        let publics: Vec<PublicKey> = keys.iter().map(public).collect();
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
        assert_eq!(refused(&items), vec![5, 6, 7, 8, 9]);
        // Without the bad ones the equation holds over three keys; with one it fails.
        let good: Vec<PayloadSignature<'_>> = items
            .iter()
            .enumerate()
            .filter(|(i, _)| !(5..=9).contains(i))
            .map(|(_, item)| *item)
            .collect();
        assert!(holds(&good));
        assert!(!holds(&items[..10]));
        assert!(verify_payloads(&[]).is_empty());
        // Short slices (verified one by one) give the same verdicts.
        assert_eq!(refused(&items[4..7]), vec![1, 2]);
    }

    /// A signature by hand: nonce point `r_point`, `S = r + k·a`, on `SIGN_TAG || payload`.
    fn forge(r: Scalar, r_point: EdwardsPoint, signing: &SigningKey, payload: &[u8]) -> Vec<u8> {
        let key = PublicKey::from_hub_id(HubId(signing.verifying_key().to_bytes())).unwrap();
        let r_bytes = r_point.compress().to_bytes();
        let k = key.challenge(&r_bytes, &[SIGN_TAG, payload]);
        let s = r + k * signing.to_scalar();
        [r_bytes.as_slice(), s.as_bytes()].concat()
    }

    #[test]
    fn one_bad_signature_among_256_of_one_feed_is_refused_alone() {
        let secret = key(4);
        let signing = SigningKey::from_bytes(&[4; 32]);
        let public = public(&secret);
        let payloads: Vec<Vec<u8>> = (0..256u32).map(|n| n.to_le_bytes().to_vec()).collect();
        let honest: Vec<Vec<u8>> = payloads
            .iter()
            .map(|p| secret.sign_payload(p).to_vec())
            .collect();
        // Each kind of bad signature, alone at a different position of an otherwise valid
        // batch of 256: found and refused, every other one accepted.
        let r = Scalar::from(77u64);
        let torsioned_wrong = {
            // R with an order-8 component, S off by one: the cofactor cannot save it.
            let mut sig = forge(
                r,
                EdwardsPoint::mul_base(&r) + EIGHT_TORSION[3],
                &signing,
                &payloads[0],
            );
            sig[32] ^= 1;
            sig
        };
        let small_r = {
            let k = public.challenge(
                EIGHT_TORSION[2].compress().as_bytes(),
                &[SIGN_TAG, &payloads[0]],
            );
            let s = k * signing.to_scalar();
            [
                EIGHT_TORSION[2].compress().as_bytes().as_slice(),
                s.as_bytes(),
            ]
            .concat()
        };
        let bad_kinds: Vec<(usize, Vec<u8>)> = vec![
            (0, torsioned_wrong),
            (17, {
                let mut sig = honest[17].clone();
                sig[40] ^= 4;
                sig
            }),
            (128, honest[129].clone()),
            (200, small_r),
            (255, {
                let mut sig = honest[255].clone();
                sig[5] ^= 0x80;
                sig
            }),
        ];
        for (at, bad) in bad_kinds {
            let mut signatures = honest.clone();
            signatures[at] = bad.clone();
            if at == 200 {
                // The small-order R was made for payload 0: put it there too.
                signatures[0] = bad;
            }
            let items = one_key(&public, &payloads, &signatures);
            let expected = if at == 200 { vec![0, 200] } else { vec![at] };
            assert_eq!(refused(&items), expected, "bad signature at {at}");
        }
    }

    #[test]
    fn errors_that_cancel_in_a_plain_sum_do_not_pass_the_batch() {
        // S_1 + δ and S_2 − δ: the unweighted sum of the two equations still holds, so a batch
        // without coefficients would accept both. With the z_i both are refused.
        let secret = key(5);
        let public = public(&secret);
        let payloads: Vec<Vec<u8>> = (0..8u8).map(|n| vec![n; 3]).collect();
        let mut signatures: Vec<Vec<u8>> = payloads
            .iter()
            .map(|p| secret.sign_payload(p).to_vec())
            .collect();
        let delta = Scalar::from(12_345u64);
        for (i, sign) in [(2usize, 1i8), (6, -1)] {
            let s = canonical_scalar(&signatures[i][32..]).unwrap();
            let moved = if sign > 0 { s + delta } else { s - delta };
            signatures[i][32..].copy_from_slice(moved.as_bytes());
        }
        let items = one_key(&public, &payloads, &signatures);
        assert_eq!(refused(&items), vec![2, 6]);
    }

    #[test]
    fn torsion_the_cofactor_removes_is_accepted_in_and_out_of_a_batch() {
        // R = [r]B + T for every torsion point T, S = r + k·a: valid under the cofactored rule
        // (not under verify_strict except for T = O), alone and among honest signatures.
        let secret = key(6);
        let signing = SigningKey::from_bytes(&[6; 32]);
        let public = public(&secret);
        let payloads: Vec<Vec<u8>> = (0..16u8).map(|n| vec![n; 5]).collect();
        let signatures: Vec<Vec<u8>> = payloads
            .iter()
            .enumerate()
            .map(|(i, p)| {
                let r = Scalar::from(900u64 + i as u64);
                forge(
                    r,
                    EdwardsPoint::mul_base(&r) + EIGHT_TORSION[i % 8],
                    &signing,
                    p,
                )
            })
            .collect();
        let items = one_key(&public, &payloads, &signatures);
        assert!(refused(&items).is_empty());
        assert!(holds(&items));
        let strict: usize = items
            .iter()
            .filter(|i| {
                public
                    .verify_strict_cofactorless(i.payload, i.signature)
                    .is_ok()
            })
            .count();
        assert_eq!(strict, 2, "only T = O is accepted by verify_strict");
    }
}
