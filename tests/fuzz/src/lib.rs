//! What the fuzz targets share: the federation of the committed envelope vectors
//! (`tests/vectors/envelope.json`), whose events make the seed corpus of the envelope target.

use std::sync::{Arc, OnceLock};

use maillage_core::Charter;

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
