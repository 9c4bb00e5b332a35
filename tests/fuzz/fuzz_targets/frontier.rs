//! A peer's frontier (heads and fork proofs), announced fork proofs, and a pull request's
//! ranges.
#![no_main]

use libfuzzer_sys::fuzz_target;
use maillage_core::fork::ForkProof;
use maillage_proto::v1 as pb;
use prost::Message;

fuzz_target!(|data: &[u8]| {
    let charter = maillage_fuzz::charter();
    if let Ok(frontier) = pb::Frontier::decode(data) {
        let _ = maillage_sync::wire::heads(&charter, &frontier.heads);
        for proof in frontier.forks {
            if let Ok(proof) = ForkProof::from_wire(proof) {
                let _ = proof.check(&charter);
            }
        }
    }
    if let Ok(pull) = pb::PullRequest::decode(data) {
        for range in &pull.ranges {
            let _ = maillage_sync::wire::member(&charter, "range author", &range.author);
            let _ = maillage_sync::wire::seq("range after_seq", range.after_seq);
        }
    }
    if let Ok(proofs) = pb::ForkProofs::decode(data) {
        for proof in proofs.proofs {
            if let Ok(proof) = ForkProof::from_wire(proof) {
                let _ = proof.check(&charter);
            }
        }
    }
});
