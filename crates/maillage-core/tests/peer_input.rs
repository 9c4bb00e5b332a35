//! Every decoder of peer or user input returns an error, never panics, on arbitrary bytes;
//! and arbitrary well-signed events with arbitrary bodies fold without panicking.
#![allow(clippy::unwrap_used)]

mod world;

use maillage_core::{Charter, Ledger, PersonId, pb, verify_encoded};
use proptest::prelude::*;
use prost::Message;
use world::*;

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn signed_event_decoder_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
        let w = World::new(2);
        let _ = verify_encoded(&bytes, &w.charter);
    }

    #[test]
    fn charter_decoder_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
        let _ = Charter::from_bytes(bytes);
    }

    #[test]
    fn person_code_parser_never_panics(text in ".{0,40}") {
        let _ = text.parse::<PersonId>();
    }

    #[test]
    fn snapshot_decoder_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
        let w = World::new(2);
        let mut framed = maillage_core::ledger::SNAPSHOT_MAGIC.to_vec();
        framed.extend_from_slice(w.charter.federation_id().as_bytes());
        framed.extend_from_slice(&bytes);
        let _ = Ledger::from_snapshot(w.charter.clone(), &framed);
        let _ = Ledger::from_snapshot(w.charter.clone(), &bytes);
    }

    /// Well-signed events whose body is any decodable protobuf of any kind: the fold rejects
    /// or applies them, and never panics.
    #[test]
    fn the_fold_survives_arbitrary_bodies(bodies in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..120), 1..40), tags in proptest::collection::vec(20u32..=50, 1..40)) {
        let mut w = World::new(2);
        for (raw, tag) in bodies.iter().zip(&tags) {
            // Wrap the random bytes as the field `tag` of an Event to get a body of that kind.
            let mut wire = Vec::new();
            prost::encoding::encode_key(*tag, prost::encoding::WireType::LengthDelimited, &mut wire);
            prost::encoding::encode_varint(raw.len() as u64, &mut wire);
            wire.extend_from_slice(raw);
            let Ok(event) = pb::Event::decode(wire.as_slice()) else { continue };
            let Some(body) = event.body else { continue };
            w.author(0, body);
        }
        let mut ledger = Ledger::new(w.charter.clone());
        for event in w.all_events() {
            ledger.offer(event);
        }
        prop_assert_eq!(ledger.pending_count(), 0);
        let _ = ledger.digest();
    }
}
