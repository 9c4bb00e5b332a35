//! The twelve edge cases of "Taming the many EdDSAs" (`vectors/speccheck.json`, from
//! ed25519-speccheck) get the verdicts of protocol v2's signature rule: through the fast
//! single path, the reference, and batches (all twelve together, and each one among 63 honest
//! signatures by the same key). The independent Python check reads the same file.

#![allow(clippy::unwrap_used)]

use maillage_core::batch::{PayloadSignature, verify_messages};
use maillage_core::{CryptoError, HubId, PublicKey, SecretKey};
use maillage_integration_tests::speccheck_vectors_path;
use serde::Deserialize;

#[derive(Deserialize)]
struct File {
    cases: Vec<Case>,
}

#[derive(Deserialize)]
struct Case {
    case: usize,
    message: String,
    public_key: String,
    signature: String,
    expected: String,
    reason: Option<String>,
    cofactorless_strict_accepts: bool,
}

struct Decoded {
    case: usize,
    message: Vec<u8>,
    key: Result<PublicKey, CryptoError>,
    signature: Vec<u8>,
    valid: bool,
    reason: Option<String>,
    cofactorless: bool,
}

fn cases() -> Vec<Decoded> {
    let text = std::fs::read_to_string(speccheck_vectors_path()).unwrap();
    let file: File = serde_json::from_str(&text).unwrap();
    assert_eq!(file.cases.len(), 12);
    file.cases
        .into_iter()
        .map(|c| Decoded {
            case: c.case,
            message: hex::decode(&c.message).unwrap(),
            key: PublicKey::from_hub_id(
                HubId::try_from(hex::decode(&c.public_key).unwrap().as_slice()).unwrap(),
            ),
            signature: hex::decode(&c.signature).unwrap(),
            valid: c.expected == "valid",
            reason: c.reason,
            cofactorless: c.cofactorless_strict_accepts,
        })
        .collect()
}

/// The single verdict, with the reason class the vector names.
fn single(c: &Decoded) -> Result<(), String> {
    let key = match &c.key {
        Ok(key) => key,
        Err(CryptoError::KeyWeak { .. }) => return Err("small_order_key".into()),
        Err(CryptoError::KeyNonCanonical { .. }) => return Err("non_canonical_key".into()),
        Err(e) => return Err(format!("key: {e}")),
    };
    let fast = key.verify_raw(&c.message, &c.signature);
    let reference = key.verify_raw_reference(&c.message, &c.signature);
    assert_eq!(
        fast, reference,
        "case {}: fast path and reference differ",
        c.case
    );
    fast.map_err(|_| "bad_signature".into())
}

#[test]
fn each_case_gets_the_v2_verdict_alone() {
    let reasons_only_a_signature_check_sees =
        ["small_order_r", "non_canonical_s", "non_canonical_r"];
    for c in cases() {
        let verdict = single(&c);
        match (&verdict, c.valid, c.reason.as_deref()) {
            (Ok(()), true, None) => {}
            (Err(class), false, Some(reason))
                if class == reason
                    || (class == "bad_signature"
                        && reasons_only_a_signature_check_sees.contains(&reason)) => {}
            _ => panic!(
                "case {}: expected {} {:?}, found {verdict:?}",
                c.case,
                if c.valid { "valid" } else { "invalid" },
                c.reason
            ),
        }
        // Protocol v1's rule (ed25519-dalek's verify_strict) accepts only case 3: the cases
        // 4 and 5 are the ones the cofactored equation adds.
        if let Ok(key) = &c.key {
            let strict = key
                .verify_strict_cofactorless_raw(&c.message, &c.signature)
                .is_ok();
            assert_eq!(strict, c.cofactorless, "case {}: verify_strict", c.case);
        }
    }
}

#[test]
fn each_case_gets_the_same_verdict_inside_a_batch() {
    let cases = cases();
    // All the cases whose key is admitted, in one batch of mixed keys.
    let admitted: Vec<&Decoded> = cases.iter().filter(|c| c.key.is_ok()).collect();
    let items: Vec<PayloadSignature<'_>> = admitted
        .iter()
        .map(|c| PayloadSignature {
            key: c.key.as_ref().unwrap(),
            payload: &c.message,
            signature: &c.signature,
        })
        .collect();
    for (c, verdict) in admitted.iter().zip(verify_messages(&items)) {
        assert_eq!(
            verdict.is_ok(),
            c.valid,
            "case {} in the batch of all cases",
            c.case
        );
    }
    // Each case among 63 honest signatures by another key, at every eighth position: the
    // batch singles out the invalid ones and accepts the valid ones with the others.
    let filler = SecretKey::from_seed(&[42; 32]);
    let filler_key = PublicKey::from_hub_id(filler.hub_id()).unwrap();
    let messages: Vec<Vec<u8>> = (0..64u8).map(|n| vec![n; 9]).collect();
    let signatures: Vec<[u8; 64]> = messages.iter().map(|m| filler.sign_raw(m)).collect();
    for c in &admitted {
        for at in (0..64).step_by(8) {
            let mut items: Vec<PayloadSignature<'_>> = messages
                .iter()
                .zip(&signatures)
                .map(|(payload, signature)| PayloadSignature {
                    key: &filler_key,
                    payload,
                    signature,
                })
                .collect();
            items[at] = PayloadSignature {
                key: c.key.as_ref().unwrap(),
                payload: &c.message,
                signature: &c.signature,
            };
            let verdicts = verify_messages(&items);
            for (i, verdict) in verdicts.iter().enumerate() {
                let expected = i != at || c.valid;
                assert_eq!(
                    verdict.is_ok(),
                    expected,
                    "case {} at {at}, item {i}",
                    c.case
                );
            }
        }
    }
}
