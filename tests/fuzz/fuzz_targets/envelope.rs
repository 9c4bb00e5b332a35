//! A signed event from a peer: decoded, every envelope check, the strict signature.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let charter = maillage_fuzz::charter();
    if let Ok(event) = maillage_core::envelope::verify_encoded(data, &charter) {
        // The id and the signature cover the payload only: the `SignedEvent` wrapper around
        // it may carry fields this build ignores, and a node keeps and serves the wrapper it
        // re-encodes. What it serves verifies again, as the same event.
        let again = maillage_core::envelope::verify_encoded(&event.encode_signed(), &charter)
            .expect("a verified event, re-encoded, verifies");
        assert_eq!(again.id, event.id);
        assert_eq!(again.encode_signed(), event.encode_signed());
    }
});
