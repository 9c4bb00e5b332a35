//! A key, a signature and a message from anywhere: the fast single path, the rule written out
//! and the batch equation (the input among honest signatures of another key and of its own
//! key) give one verdict. Input: 32 key bytes, 64 signature bytes, the message.
#![no_main]

use libfuzzer_sys::fuzz_target;
use maillage_core::batch::{PayloadSignature, verify_messages};
use maillage_core::{HubId, PublicKey, SecretKey};

fuzz_target!(|data: &[u8]| {
    if data.len() < 96 {
        return;
    }
    let (key, rest) = data.split_at(32);
    let (signature, message) = rest.split_at(64);
    let Ok(id) = HubId::try_from(key) else {
        return;
    };
    let Ok(key) = PublicKey::from_hub_id(id) else {
        return;
    };
    let single = key.verify_raw(message, signature);
    assert_eq!(single, key.verify_raw_reference(message, signature));
    // Protocol v1's verdict implies v2's.
    assert!(key.verify_strict_cofactorless_raw(message, signature).is_err() || single.is_ok());
    let other = SecretKey::from_seed(&[7; 32]);
    let other_key = PublicKey::from_hub_id(other.hub_id()).expect("a generated key is admitted");
    let messages: Vec<Vec<u8>> = (0..7u8).map(|n| vec![n; 4]).collect();
    let signatures: Vec<[u8; 64]> = messages.iter().map(|m| other.sign_raw(m)).collect();
    let mut items: Vec<PayloadSignature<'_>> = messages
        .iter()
        .zip(&signatures)
        .map(|(payload, signature)| PayloadSignature {
            key: &other_key,
            payload,
            signature,
        })
        .collect();
    let input = PayloadSignature {
        key: &key,
        payload: message,
        signature,
    };
    items.insert(3, input);
    // The same input twice more, so that its key's terms collapse in the equation.
    items.push(input);
    items.push(input);
    let verdicts = verify_messages(&items);
    for (i, verdict) in verdicts.iter().enumerate() {
        if [3, 8, 9].contains(&i) {
            assert_eq!(verdict, &single, "the input inside the batch");
        } else {
            assert!(verdict.is_ok(), "an honest signature beside the input");
        }
    }
});
