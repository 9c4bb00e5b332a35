//! What the fuzz targets share: the federation of the committed envelope vectors
//! (`tests/vectors/envelope.json`), whose events make the seed corpus of the envelope target.

use std::sync::{Arc, OnceLock};

use maillage_core::{Charter, Ledger};

/// The vectors' charter (three members: two hubs and an observer).
pub fn charter() -> Arc<Charter> {
    static CHARTER: OnceLock<Arc<Charter>> = OnceLock::new();
    CHARTER
        .get_or_init(|| {
            let vectors: serde_json::Value =
                serde_json::from_str(include_str!("../../vectors/envelope.json"))
                    .expect("the committed vectors are JSON");
            let bytes = hex::decode(
                vectors["charter"]["bytes"]
                    .as_str()
                    .expect("the vectors carry the charter's bytes"),
            )
            .expect("hex");
            Arc::new(Charter::from_bytes(bytes).expect("the vectors' charter decodes"))
        })
        .clone()
}

/// The views of the vectors' valid events: venues to search (built once).
pub fn ledger() -> &'static Ledger {
    static LEDGER: OnceLock<Ledger> = OnceLock::new();
    LEDGER.get_or_init(|| {
        let vectors: serde_json::Value =
            serde_json::from_str(include_str!("../../vectors/envelope.json")).expect("JSON");
        let charter = charter();
        let mut ledger = Ledger::new(charter.clone());
        for event in vectors["events"].as_array().expect("events") {
            let signed = maillage_core::pb::SignedEvent {
                payload: hex::decode(event["payload"].as_str().unwrap_or("")).unwrap_or_default(),
                signature: hex::decode(event["signature"].as_str().unwrap_or(""))
                    .unwrap_or_default(),
                personal: Vec::new(),
            };
            if let Ok(verified) = maillage_core::envelope::verify_event(signed, &charter) {
                ledger.offer(verified);
            }
        }
        ledger
    })
}
