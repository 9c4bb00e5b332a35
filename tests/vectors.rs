//! Envelope test vectors (protocol section 2): regenerated in memory with maillage-core,
//! compared byte for byte with the committed `vectors/envelope.json`, and checked against
//! maillage-core's own verification.
//!
//! `MAILLAGE_UPDATE_VECTORS=1 cargo test -p maillage-integration-tests --test vectors` rewrites
//! the committed file instead of comparing (then review the diff: every change of these bytes
//! is a change of the wire protocol).
//!
//! Everything is deterministic: seeds are SHA-256 of fixed labels, clock values are fixed,
//! Ed25519 signing is deterministic, and the hand-made adversarial signatures use nonces
//! derived from fixed labels. No randomness, no clock.
//!
//! Size: one generator per conformance vector family (envelope, charter, handshake, views, digest),
//! each regenerating its vectors byte for byte; they share the fixtures at the top.

#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::sync::OnceLock;

use curve25519_dalek::constants::EIGHT_TORSION;
use curve25519_dalek::edwards::{CompressedEdwardsY, EdwardsPoint};
use curve25519_dalek::scalar::Scalar;
use ed25519_dalek::{Signature, SigningKey, Verifier, VerifyingKey};
use maillage_core::chain::{self, Head};
use maillage_core::crypto::{self, CHARTER_TAG, EVENT_ID_TAG, SIGN_TAG};
use maillage_core::envelope::{Header, PAYLOAD_BYTES_MAX, PROTOCOL_VERSION, sign_event};
use maillage_core::{
    ChainError, Charter, CryptoError, EnvelopeError, EventId, EventRef, FederationId, FeedWriter,
    HubId, MemberSpec, PublicKey, Role, SecretKey, VerifiedEvent, pb, verify_encoded,
};
use maillage_integration_tests::{envelope_vectors_path, first_difference, update_requested};
use prost::Message;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256, Sha512};

// ---------------------------------------------------------------------------------------------
// The file format.

/// The whole file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Vectors {
    format: String,
    note: String,
    description: Vec<String>,
    domain_tags: DomainTags,
    /// The protocol version of these vectors: the charters name it, valid events carry it.
    protocol_version: u32,
    payload_bytes_max: usize,
    charter: CharterVector,
    other_charter: CharterVector,
    keys: Vec<KeyVector>,
    events: Vec<EventVector>,
    signatures: Vec<SignatureVector>,
}

/// The domain-separation tags, hex (each ends with a NUL byte).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct DomainTags {
    event: String,
    sign: String,
    charter: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct CharterVector {
    description: String,
    name: String,
    admission_threshold: u32,
    /// The protocol version the charter names (field 5).
    protocol_version: u32,
    /// The exact charter bytes (protobuf `Charter`), hex.
    bytes: String,
    /// `SHA-256("maillage/v1/charter\0" || bytes)`, hex.
    federation_id: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct KeyVector {
    name: String,
    /// `seed = SHA-256(seed_label)` (UTF-8).
    seed_label: String,
    seed: String,
    public_key: String,
    role: String,
    territories: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct DepVector {
    author: String,
    seq: u64,
    id: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct EventVector {
    name: String,
    /// "valid" or "invalid".
    expected: String,
    /// Why it is invalid (absent when valid).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    reason: Option<String>,
    description: String,
    /// Header fields as encoded in the payload (hex for byte fields; `prev` empty at seq 1).
    author: String,
    seq: u64,
    prev: String,
    hlc: u64,
    federation: String,
    deps: Vec<DepVector>,
    /// The `oneof body` field name.
    body: String,
    /// Names of the events that precede this one in its feed, in order (the chain context).
    follows: Vec<String>,
    payload_len: usize,
    payload: String,
    signature: String,
    /// `SHA-256("maillage/v1/event\0" || payload)`, hex.
    id: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct SignatureVector {
    name: String,
    expected: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    reason: Option<String>,
    description: String,
    public_key: String,
    /// The exact signed message (for events: `"maillage/v1/sign\0" || payload`), hex.
    message: String,
    signature: String,
    /// Whether a lax verifier accepts it: cofactored equation `[8]([S]B - [k]A - R) = 0`,
    /// point encodings reduced mod p, `S` reduced mod ℓ, no small-order check.
    lax_accepts: bool,
    /// Whether protocol v1's rule accepts it: the cofactorless strict check of libsodium's
    /// `crypto_sign_verify_detached` and ed25519-dalek's `verify_strict`.
    cofactorless_strict_accepts: bool,
}

// ---------------------------------------------------------------------------------------------
// Constants and small helpers.

const VALID: &str = "valid";
const INVALID: &str = "invalid";

/// 2026-01-01T09:00:00Z, in unix milliseconds.
const T0_MS: u64 = 1_767_258_000_000;
const HOUR_MS: u64 = 3_600_000;

/// The encoding of the identity point (y = 1): order 1.
const IDENTITY_ENCODING: [u8; 32] = {
    let mut b = [0u8; 32];
    b[0] = 1;
    b
};

fn sha256(data: &[u8]) -> [u8; 32] {
    Sha256::digest(data).into()
}

fn seed_label(name: &str) -> String {
    format!("maillage/v1 TEST VECTOR KEY {name} (public, never use in production)")
}

fn seed_of(name: &str) -> [u8; 32] {
    sha256(seed_label(name).as_bytes())
}

fn secret(name: &str) -> SecretKey {
    SecretKey::from_seed(&seed_of(name))
}

fn signed_message(payload: &[u8]) -> Vec<u8> {
    [SIGN_TAG, payload].concat()
}

fn body_kind(body: &pb::event::Body) -> &'static str {
    match body {
        pb::event::Body::VenueRegistered(_) => "venue_registered",
        pb::event::Body::VenueUpdated(_) => "venue_updated",
        pb::event::Body::VenueClosed(_) => "venue_closed",
        pb::event::Body::VenueQualified(_) => "venue_qualified",
        pb::event::Body::VenueQualificationRevoked(_) => "venue_qualification_revoked",
        // The vectors use venue events only.
        _ => "other",
    }
}

/// `p + small` as a 32-byte little-endian encoding (a y-coordinate >= p: non-canonical).
fn p_plus(small: u8) -> [u8; 32] {
    assert!(small <= 18, "p + {small} does not fit in 255 bits");
    let mut b = [0xffu8; 32];
    b[0] = 0xed + small;
    b[31] = 0x7f;
    b
}

/// `k = SHA-512(R || A || M) mod ℓ`, the Ed25519 challenge.
fn challenge(r: &[u8; 32], a: &[u8; 32], message: &[u8]) -> Scalar {
    let mut h = Sha512::new();
    h.update(r);
    h.update(a);
    h.update(message);
    let wide: [u8; 64] = h.finalize().into();
    Scalar::from_bytes_mod_order_wide(&wide)
}

/// A nonce scalar derived from a label (for the hand-made signatures: deterministic).
fn label_scalar(label: &str) -> Scalar {
    let wide: [u8; 64] = Sha512::digest(label.as_bytes()).into();
    Scalar::from_bytes_mod_order_wide(&wide)
}

fn signature_bytes(r: &[u8; 32], s: &[u8; 32]) -> [u8; 64] {
    let mut out = [0u8; 64];
    out[..32].copy_from_slice(r);
    out[32..].copy_from_slice(s);
    out
}

/// See [`SignatureVector::lax_accepts`].
fn lax_cofactored_accepts(public_key: &[u8], message: &[u8], signature: &[u8]) -> bool {
    let (Ok(pk), Ok(sig)) = (
        <[u8; 32]>::try_from(public_key),
        <[u8; 64]>::try_from(signature),
    ) else {
        return false;
    };
    let r_bytes: [u8; 32] = sig[..32].try_into().unwrap();
    let s_bytes: [u8; 32] = sig[32..].try_into().unwrap();
    let (Some(a), Some(r)) = (
        CompressedEdwardsY(pk).decompress(),
        CompressedEdwardsY(r_bytes).decompress(),
    ) else {
        return false;
    };
    let s = Scalar::from_bytes_mod_order(s_bytes);
    let k = challenge(&r_bytes, &pk, message);
    (EdwardsPoint::mul_base(&s) - k * a - r).is_small_order()
}

/// ed25519-dalek's `verify_strict` (protocol v1's rule).
fn dalek_strict_accepts(public_key: &[u8], message: &[u8], signature: &[u8]) -> bool {
    let (Ok(pk), Ok(sig)) = (
        <[u8; 32]>::try_from(public_key),
        <[u8; 64]>::try_from(signature),
    ) else {
        return false;
    };
    VerifyingKey::from_bytes(&pk).is_ok_and(|key| {
        key.verify_strict(message, &Signature::from_bytes(&sig))
            .is_ok()
    })
}

/// ed25519-dalek's non-strict `verify`: cofactorless, but no small-order checks.
fn dalek_permissive_accepts(public_key: &[u8], message: &[u8], signature: &[u8]) -> bool {
    let Ok(pk) = <[u8; 32]>::try_from(public_key) else {
        return false;
    };
    let Ok(sig) = <[u8; 64]>::try_from(signature) else {
        return false;
    };
    match VerifyingKey::from_bytes(&pk) {
        Ok(key) => key.verify(message, &Signature::from_bytes(&sig)).is_ok(),
        Err(_) => false,
    }
}

// ---------------------------------------------------------------------------------------------
// Realistic (fictional) venue records.

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}

fn alcazar(horaires: &str, date_maj: &str) -> pb::VenueRecord {
    pb::VenueRecord {
        id: "mednum-13-0042".into(),
        pivot: "21130055300016".into(),
        nom: "Médiathèque de l'Alcazar — Espace numérique".into(),
        commune: "Marseille".into(),
        code_postal: "13001".into(),
        code_insee: "13201".into(),
        adresse: "58 cours Belsunce".into(),
        complement_adresse: "Niveau 2, espace Société".into(),
        latitude_micro: Some(43_298_850),
        longitude_micro: Some(5_378_310),
        typologie: strings(&["BIB"]),
        telephone: strings(&["+33400000001"]),
        courriels: strings(&["espace-numerique@example.invalid"]),
        site_web: strings(&["https://example.invalid/alcazar"]),
        horaires: horaires.into(),
        presentation_resume: "Accès libre à des ordinateurs et ateliers d'initiation au \
                              numérique, accompagnement aux démarches en ligne."
            .into(),
        presentation_detail: String::new(),
        source: "maillage-test-vectors".into(),
        itinerance: vec![],
        structure_parente: String::new(),
        date_maj: date_maj.into(),
        services: strings(&[
            "Aide aux démarches administratives",
            "Maîtrise des outils numériques du quotidien",
            "Accès internet et matériel informatique",
        ]),
        publics_specifiquement_adresses: strings(&["Seniors (+ 65 ans)", "Jeunes (16-26 ans)"]),
        prise_en_charge_specifique: strings(&["Surdité"]),
        frais_a_charge: strings(&["Gratuit"]),
        dispositif_programmes_nationaux: strings(&["Conseillers numériques"]),
        formations_labels: vec![],
        autres_formations_labels: String::new(),
        modalites_acces: strings(&["Se présenter", "Téléphoner"]),
        modalites_accompagnement: strings(&["Seul", "Avec de l'aide", "Dans un atelier collectif"]),
        fiche_acces_libre: String::new(),
        prise_rdv: "https://example.invalid/alcazar/rdv".into(),
    }
}

fn avignon() -> pb::VenueRecord {
    pb::VenueRecord {
        id: "mednum-84-0007".into(),
        pivot: "W842000123".into(),
        nom: "Association Clic & Lien — Point numérique".into(),
        commune: "Avignon".into(),
        code_postal: "84000".into(),
        code_insee: "84007".into(),
        adresse: "12 rue des Lices".into(),
        latitude_micro: Some(43_945_120),
        longitude_micro: Some(4_808_710),
        typologie: strings(&["ASSO"]),
        horaires: "Mo-Fr 09:00-12:30,13:30-17:00".into(),
        presentation_resume: "Permanences d'aide au numérique et ateliers pour débutants.".into(),
        source: "maillage-test-vectors".into(),
        date_maj: "2026-01-02".into(),
        services: strings(&[
            "Aide aux démarches administratives",
            "Insertion professionnelle via le numérique",
        ]),
        frais_a_charge: strings(&["Gratuit sous condition"]),
        modalites_acces: strings(&["Prendre un RDV en ligne"]),
        modalites_accompagnement: strings(&["Avec de l'aide"]),
        ..Default::default()
    }
}

fn villeurbanne() -> pb::VenueRecord {
    pb::VenueRecord {
        id: "mednum-69-0113".into(),
        pivot: "21690266800013".into(),
        nom: "Maison du numérique de Villeurbanne".into(),
        commune: "Villeurbanne".into(),
        code_postal: "69100".into(),
        code_insee: "69266".into(),
        adresse: "3 avenue Henri Barbusse".into(),
        latitude_micro: Some(45_766_690),
        longitude_micro: Some(4_879_670),
        typologie: strings(&["FS", "TIERS_LIEUX"]),
        horaires: "Mo-Sa 10:00-18:00".into(),
        source: "maillage-test-vectors".into(),
        itinerance: strings(&["Itinérant"]),
        date_maj: "2025-12-15".into(),
        services: strings(&["Maîtrise des outils numériques du quotidien"]),
        frais_a_charge: strings(&["Gratuit"]),
        modalites_acces: strings(&["Se présenter"]),
        modalites_accompagnement: strings(&["Dans un atelier collectif"]),
        ..Default::default()
    }
}

const ALCAZAR: &str = "sud-13201-alcazar";
const AVIGNON: &str = "sud-84007-clic-et-lien";
const VILLEURBANNE: &str = "hinaura-69266-maison-numerique";

// ---------------------------------------------------------------------------------------------
// Generation.

struct Generator {
    charter: Charter,
    other: Charter,
    events: Vec<EventVector>,
    signatures: Vec<SignatureVector>,
}

impl Generator {
    fn federation(&self) -> FederationId {
        self.charter.federation_id()
    }

    fn event(&self, name: &str) -> &EventVector {
        self.events
            .iter()
            .find(|e| e.name == name)
            .unwrap_or_else(|| panic!("no event named {name}"))
    }

    fn payload_of(&self, name: &str) -> Vec<u8> {
        hex::decode(&self.event(name).payload).unwrap()
    }

    fn signature_of(&self, name: &str) -> Vec<u8> {
        hex::decode(&self.event(name).signature).unwrap()
    }

    fn id_of(&self, name: &str) -> EventId {
        self.event(name).id.parse().unwrap()
    }

    /// Adds an event vector from raw payload and signature bytes (the header fields are read
    /// back from the payload, so that the vector says what the bytes say).
    #[allow(clippy::too_many_arguments)]
    fn push_event(
        &mut self,
        name: &str,
        expected: &str,
        reason: Option<&str>,
        description: &str,
        follows: &[&str],
        payload: Vec<u8>,
        signature: Vec<u8>,
    ) {
        let event = pb::Event::decode(payload.as_slice()).unwrap();
        self.events.push(EventVector {
            name: name.into(),
            expected: expected.into(),
            reason: reason.map(str::to_owned),
            description: description.into(),
            author: hex::encode(&event.author),
            seq: event.seq,
            prev: hex::encode(&event.prev),
            hlc: event.hlc,
            federation: hex::encode(&event.federation),
            deps: event
                .deps
                .iter()
                .map(|d| DepVector {
                    author: hex::encode(&d.author),
                    seq: d.seq,
                    id: hex::encode(&d.id),
                })
                .collect(),
            body: event.body.as_ref().map_or("none", body_kind).into(),
            follows: follows.iter().map(|s| (*s).to_owned()).collect(),
            payload_len: payload.len(),
            id: crypto::event_id(&payload).to_hex(),
            payload: hex::encode(&payload),
            signature: hex::encode(&signature),
        });
    }

    fn push_verified(
        &mut self,
        name: &str,
        description: &str,
        follows: &[&str],
        ev: VerifiedEvent,
    ) {
        self.push_event(
            name,
            VALID,
            None,
            description,
            follows,
            ev.signed.payload,
            ev.signed.signature,
        );
    }

    #[allow(clippy::too_many_arguments)]
    fn push_signature(
        &mut self,
        name: &str,
        expected: &str,
        reason: Option<&str>,
        description: &str,
        public_key: &[u8],
        message: &[u8],
        signature: &[u8],
    ) {
        self.signatures.push(SignatureVector {
            name: name.into(),
            expected: expected.into(),
            reason: reason.map(str::to_owned),
            description: description.into(),
            public_key: hex::encode(public_key),
            message: hex::encode(message),
            signature: hex::encode(signature),
            lax_accepts: lax_cofactored_accepts(public_key, message, signature),
            cofactorless_strict_accepts: dalek_strict_accepts(public_key, message, signature),
        });
    }

    /// The signature vector of an event vector (same key, message and signature).
    fn push_signature_of_event(&mut self, event: &str, description: &str) {
        let e = self.event(event).clone();
        let payload = hex::decode(&e.payload).unwrap();
        let signature = hex::decode(&e.signature).unwrap();
        let author = hex::decode(&e.author).unwrap();
        self.push_signature(
            &e.name,
            &e.expected,
            e.reason.as_deref(),
            description,
            &author,
            &signed_message(&payload),
            &signature,
        );
    }
}

/// An event built by hand (for payloads `sign_event` refuses to make, or exact sizes).
fn raw_event(
    author: HubId,
    federation: FederationId,
    seq: u64,
    prev: Option<EventId>,
    hlc: u64,
    body: pb::event::Body,
) -> pb::Event {
    pb::Event {
        version: PROTOCOL_VERSION,
        federation: federation.0.to_vec(),
        author: author.0.to_vec(),
        seq,
        prev: prev.map(|p| p.0.to_vec()).unwrap_or_default(),
        hlc,
        deps: vec![],
        body: Some(body),
    }
}

/// A `VenueUpdated` of the Alcazar whose payload is exactly `target` bytes long (padding the
/// long presentation text).
fn event_of_size(
    author: HubId,
    federation: FederationId,
    seq: u64,
    prev: EventId,
    hlc: u64,
    target: usize,
) -> Vec<u8> {
    const TEXT: &str = "Ateliers collectifs, permanences et accompagnement individuel aux usages \
                        du numerique, du premier clic aux demarches en ligne. ";
    let mut n = target;
    for _ in 0..16 {
        let mut record = alcazar("Tu-Sa 11:00-19:00", "2026-01-03");
        record.presentation_detail = TEXT.chars().cycle().take(n).collect();
        let body = pb::event::Body::VenueUpdated(pb::VenueUpdated {
            venue_id: ALCAZAR.into(),
            record: Some(record),
        });
        let payload = raw_event(author, federation, seq, Some(prev), hlc, body).encode_to_vec();
        match payload.len().cmp(&target) {
            std::cmp::Ordering::Equal => return payload,
            std::cmp::Ordering::Greater => n -= payload.len() - target,
            std::cmp::Ordering::Less => n += target - payload.len(),
        }
    }
    panic!("could not build a payload of exactly {target} bytes");
}

fn member(name: &str, territories: &[&str]) -> MemberSpec {
    MemberSpec {
        key: secret(name).hub_id(),
        name: name.into(),
        role: Role::Hub,
        territories: strings(territories),
    }
}

const HUBS: [(&str, &[&str]); 3] = [
    ("hub-sud", &["13", "84"]),
    ("hinaura", &["69", "74"]),
    ("hub-ouest", &["29", "35"]),
];

fn charter_vector(charter: &Charter, description: &str) -> CharterVector {
    CharterVector {
        description: description.into(),
        name: charter.name().into(),
        admission_threshold: charter.admission_threshold(),
        protocol_version: charter.protocol_version(),
        bytes: hex::encode(charter.bytes()),
        federation_id: charter.federation_id().to_hex(),
    }
}

fn generate() -> Vectors {
    let members: Vec<MemberSpec> = HUBS.iter().map(|(n, t)| member(n, t)).collect();
    let charter = Charter::found("Maillage — vecteurs de test", 2, members.clone()).unwrap();
    let other = Charter::found("Maillage — autre fédération (test)", 2, members).unwrap();
    let mut g = Generator {
        charter,
        other,
        events: vec![],
        signatures: vec![],
    };
    let fed = g.federation();
    let sud = secret("hub-sud");
    let sud_id = sud.hub_id();

    // --- Valid feeds. Hinaura: one event; hub-sud: seven events, all body kinds.
    let mut hinaura = FeedWriter::new(secret("hinaura"), fed, None, 0, 0);
    let h1 = hinaura
        .next(
            pb::event::Body::VenueRegistered(pb::VenueRegistered {
                venue_id: VILLEURBANNE.into(),
                record: Some(villeurbanne()),
            }),
            vec![],
            T0_MS - HOUR_MS / 2,
        )
        .unwrap();
    let h1_ref = h1.as_ref();
    g.push_verified(
        "hinaura-1",
        "Hinaura's first event: registers a venue in Villeurbanne (69).",
        &[],
        h1,
    );

    let mut writer = FeedWriter::new(secret("hub-sud"), fed, None, 0, 0);
    let mut next = |body: pb::event::Body, deps: Vec<EventRef>, hour: u64| {
        writer.next(body, deps, T0_MS + hour * HOUR_MS).unwrap()
    };
    let s1 = next(
        pb::event::Body::VenueRegistered(pb::VenueRegistered {
            venue_id: ALCAZAR.into(),
            record: Some(alcazar("Tu-Sa 11:00-19:00", "2026-01-01")),
        }),
        vec![],
        0,
    );
    let s2 = next(
        pb::event::Body::VenueUpdated(pb::VenueUpdated {
            venue_id: ALCAZAR.into(),
            record: Some(alcazar("Tu-Sa 11:00-19:00; We 10:00-19:00", "2026-01-02")),
        }),
        vec![h1_ref],
        1,
    );
    let s3 = next(
        pb::event::Body::VenueQualified(pb::VenueQualified {
            venue_id: ALCAZAR.into(),
            scheme: "pass-numerique".into(),
            valid_until: "2027-01-31".into(),
            services: strings(&[
                "Aide aux démarches administratives",
                "Maîtrise des outils numériques du quotidien",
            ]),
        }),
        vec![],
        2,
    );
    let s4 = next(
        pb::event::Body::VenueRegistered(pb::VenueRegistered {
            venue_id: AVIGNON.into(),
            record: Some(avignon()),
        }),
        vec![],
        3,
    );
    let s5 = next(
        pb::event::Body::VenueQualificationRevoked(pb::VenueQualificationRevoked {
            venue_id: ALCAZAR.into(),
            reason: "Contrôle sur place : accompagnement suspendu pendant travaux".into(),
        }),
        vec![],
        4,
    );
    let s6 = next(
        pb::event::Body::VenueClosed(pb::VenueClosed {
            venue_id: AVIGNON.into(),
            reason: "Fin d'activité de l'association".into(),
            ..Default::default()
        }),
        vec![],
        5,
    );
    let s6_head = Head {
        seq: s6.seq,
        id: s6.id,
    };
    g.push_verified(
        "sud-1",
        "hub-sud seq 1: VenueRegistered, a complete v1 record (UTF-8 strings, integer \
         micro-degree coordinates). Fictional venue data.",
        &[],
        s1,
    );
    g.push_verified(
        "sud-2",
        "hub-sud seq 2: VenueUpdated (full record replacement) with a dep on hinaura-1, \
         another author's event.",
        &["sud-1"],
        s2,
    );
    g.push_verified(
        "sud-3",
        "hub-sud seq 3: VenueQualified.",
        &["sud-1", "sud-2"],
        s3,
    );
    g.push_verified(
        "sud-4",
        "hub-sud seq 4: VenueRegistered of a second venue (84).",
        &["sud-1", "sud-2", "sud-3"],
        s4,
    );
    g.push_verified(
        "sud-5",
        "hub-sud seq 5: VenueQualificationRevoked.",
        &["sud-1", "sud-2", "sud-3", "sud-4"],
        s5,
    );
    g.push_verified(
        "sud-6",
        "hub-sud seq 6: VenueClosed.",
        &["sud-1", "sud-2", "sud-3", "sud-4", "sud-5"],
        s6,
    );
    let all_six = ["sud-1", "sud-2", "sud-3", "sud-4", "sud-5", "sud-6"];
    let hlc7 = (T0_MS + 6 * HOUR_MS) << 16;
    let max_payload = event_of_size(sud_id, fed, 7, s6_head.id, hlc7, PAYLOAD_BYTES_MAX);
    let max_signature = sud.sign_payload(&max_payload).to_vec();
    g.push_event(
        "sud-7-max-size",
        VALID,
        None,
        "hub-sud seq 7: a VenueUpdated whose payload is exactly 65536 bytes, the largest \
         accepted (boundary of the size limit).",
        &all_six,
        max_payload,
        max_signature,
    );

    // --- Invalid events.
    let s1_payload = g.payload_of("sud-1");
    let s1_signature = g.signature_of("sud-1");
    let message1 = signed_message(&s1_payload);
    let sud_pk = sud_id.0;

    g.push_event(
        "wrong-signature",
        INVALID,
        Some("wrong_signature"),
        "The payload of sud-1 with the (valid) signature of sud-2: a signature of another \
         payload by the same author.",
        &[],
        s1_payload.clone(),
        g.signature_of("sud-2"),
    );

    let nom = "Médiathèque de l'Alcazar".as_bytes();
    let offset = s1_payload
        .windows(nom.len())
        .position(|w| w == nom)
        .unwrap();
    let mut flipped = s1_payload.clone();
    flipped[offset] ^= 0x20;
    g.push_event(
        "flipped-payload-byte",
        INVALID,
        Some("flipped_payload_byte"),
        &format!(
            "The payload of sud-1 with byte {offset} XOR 0x20 ('M' of the venue name becomes \
             'm': still a well-formed Event) and sud-1's signature."
        ),
        &[],
        flipped,
        s1_signature.clone(),
    );

    // Small-order public key: the identity point. R = identity, S = 0 satisfies the
    // cofactorless equation [S]B = R + [k]A for every message.
    let weak_author = HubId(IDENTITY_ENCODING);
    let weak_payload = raw_event(
        weak_author,
        fed,
        1,
        None,
        T0_MS << 16,
        pb::event::Body::VenueClosed(pb::VenueClosed {
            venue_id: ALCAZAR.into(),
            reason: "forged".into(),
            ..Default::default()
        }),
    )
    .encode_to_vec();
    let forged = signature_bytes(&IDENTITY_ENCODING, &[0u8; 32]);
    g.push_event(
        "small-order-key",
        INVALID,
        Some("small_order_key"),
        "Author key 0100…00 (the identity point, order 1) with signature R = identity, S = 0, \
         which a permissive cofactorless verifier accepts for ANY message. Strict rules refuse \
         the key (and no charter can hold it).",
        &[],
        weak_payload,
        forged.to_vec(),
    );

    // Small-order R: R = identity, S = k·a (needs the secret scalar a): [S]B - [k]A = 0 = R.
    let a = SigningKey::from_bytes(&seed_of("hub-sud")).to_scalar();
    let k = challenge(&IDENTITY_ENCODING, &sud_pk, &message1);
    let s = k * a;
    let small_r = signature_bytes(&IDENTITY_ENCODING, s.as_bytes());
    g.push_event(
        "small-order-r",
        INVALID,
        Some("small_order_r"),
        "The payload of sud-1 signed by hub-sud's key with R = identity (small order) and \
         S = k·a: the cofactorless equation holds, strict rules refuse the small-order R.",
        &[],
        s1_payload.clone(),
        small_r.to_vec(),
    );

    // Mixed-order R: R = [r]B + T8 (T8 of order 8), S = r + k·a. Cofactorless fails by T8,
    // cofactored (×8) succeeds: a batch verifier that is cofactored would accept it.
    let r = label_scalar("maillage/v1 test vector nonce: mixed-order R");
    let mixed_r = (EdwardsPoint::mul_base(&r) + EIGHT_TORSION[1])
        .compress()
        .to_bytes();
    let k = challenge(&mixed_r, &sud_pk, &message1);
    let s = r + k * a;
    let mixed_signature = signature_bytes(&mixed_r, s.as_bytes());
    g.push_event(
        "mixed-order-r",
        VALID,
        None,
        "The payload of sud-1 signed with R = [r]B + T (T of order 8) and S = r + k·a: the \
         cofactored equation of protocol v2 holds ([8] removes T), so the signature is valid; \
         protocol v1's cofactorless rule (libsodium, verify_strict) refused it. Only the signer \
         can make it: another R changes k.",
        &[],
        s1_payload.clone(),
        mixed_signature.to_vec(),
    );

    let mut non_canonical_s = s1_signature.clone();
    let s_plus_l = maillage_core::crypto::add_group_order(&s1_signature[32..]);
    non_canonical_s[32..].copy_from_slice(&s_plus_l);
    g.push_event(
        "non-canonical-s",
        INVALID,
        Some("non_canonical_s"),
        "sud-1 with S replaced by S + ℓ (same value mod ℓ: a malleated copy of a valid \
         signature). Strict rules require S < ℓ.",
        &[],
        s1_payload.clone(),
        non_canonical_s,
    );

    // Non-canonical key: y = p + t for the smallest t whose point is not of small order, so
    // that only the canonical-encoding rule refuses it.
    let t = (2u8..=18)
        .find(|&t| {
            CompressedEdwardsY(p_plus(t))
                .decompress()
                .is_some_and(|point| !point.is_small_order())
        })
        .unwrap();
    let non_canonical_author = HubId(p_plus(t));
    let nc_payload = raw_event(
        non_canonical_author,
        fed,
        1,
        None,
        T0_MS << 16,
        pb::event::Body::VenueClosed(pb::VenueClosed {
            venue_id: ALCAZAR.into(),
            reason: "forged".into(),
            ..Default::default()
        }),
    )
    .encode_to_vec();
    g.push_event(
        "non-canonical-key",
        INVALID,
        Some("non_canonical_key"),
        &format!(
            "Author key encodes y = p + {t} (>= p, non-canonical; the point y = {t} is on the \
             curve and not of small order). The signature is sud-1's, copied. Strict rules \
             refuse the key encoding itself."
        ),
        &[],
        nc_payload,
        s1_signature.clone(),
    );

    // Broken chain: seq 3 whose prev is the id of seq 1, not of seq 2.
    let broken = sign_event(
        &sud,
        Header {
            federation: fed,
            seq: 3,
            prev: Some(g.id_of("sud-1")),
            hlc: (T0_MS + 2 * HOUR_MS + 60_000) << 16,
            deps: vec![],
        },
        pb::event::Body::VenueQualified(pb::VenueQualified {
            venue_id: ALCAZAR.into(),
            scheme: "pass-numerique".into(),
            valid_until: "2026-12-31".into(),
            services: strings(&["Aide aux démarches administratives"]),
        }),
    )
    .unwrap();
    g.push_event(
        "broken-chain",
        INVALID,
        Some("broken_chain"),
        "Validly signed hub-sud seq 3 whose prev is the id of sud-1, not of sud-2 (follows \
         sud-1, sud-2).",
        &["sud-1", "sud-2"],
        broken.signed.payload,
        broken.signed.signature,
    );

    let gap = sign_event(
        &sud,
        Header {
            federation: fed,
            seq: 5,
            prev: Some(g.id_of("sud-4")),
            hlc: (T0_MS + 4 * HOUR_MS + 60_000) << 16,
            deps: vec![],
        },
        pb::event::Body::VenueClosed(pb::VenueClosed {
            venue_id: ALCAZAR.into(),
            reason: "Déménagement".into(),
            ..Default::default()
        }),
    )
    .unwrap();
    g.push_event(
        "gap",
        INVALID,
        Some("gap"),
        "Validly signed hub-sud seq 5 (prev = id of sud-4) presented right after seq 3 \
         (follows sud-1, sud-2, sud-3): seq 4 is missing.",
        &["sud-1", "sud-2", "sud-3"],
        gap.signed.payload,
        gap.signed.signature,
    );

    let oversize = event_of_size(sud_id, fed, 7, s6_head.id, hlc7, PAYLOAD_BYTES_MAX + 1);
    let oversize_signature = sud.sign_payload(&oversize).to_vec();
    g.push_event(
        "oversize",
        INVALID,
        Some("oversize"),
        "hub-sud seq 7 (follows sud-1..6) with a payload of 65537 bytes, one over the limit, \
         correctly signed.",
        &all_six,
        oversize,
        oversize_signature,
    );

    let other_fed = g.other.federation_id();
    let replay = sign_event(
        &sud,
        Header {
            federation: other_fed,
            seq: 1,
            prev: None,
            hlc: T0_MS << 16,
            deps: vec![],
        },
        pb::event::Body::VenueRegistered(pb::VenueRegistered {
            venue_id: ALCAZAR.into(),
            record: Some(alcazar("Tu-Sa 11:00-19:00", "2026-01-01")),
        }),
    )
    .unwrap();
    g.push_event(
        "wrong-federation",
        INVALID,
        Some("wrong_federation"),
        "hub-sud seq 1, correctly signed, but naming other_charter's FederationId (the same \
         members in another federation): must not be replayed into this one.",
        &[],
        replay.signed.payload,
        replay.signed.signature,
    );

    // A later protocol's event: correctly signed by a hub, extending the chain, but of a
    // version the charter does not name. Refused before anything else is read.
    let mut later = raw_event(
        sud_id,
        fed,
        7,
        Some(s6_head.id),
        hlc7,
        pb::event::Body::VenueClosed(pb::VenueClosed {
            venue_id: ALCAZAR.into(),
            reason: "Protocole suivant".into(),
            ..Default::default()
        }),
    );
    later.version = PROTOCOL_VERSION + 1;
    let later = later.encode_to_vec();
    let later_signature = sud.sign_payload(&later).to_vec();
    g.push_event(
        "unsupported-version",
        INVALID,
        Some("unsupported_version"),
        &format!(
            "hub-sud seq 7 (follows sud-1..6), correctly signed, but version {} where the \
             charter names {PROTOCOL_VERSION}: an event of a protocol this node does not \
             implement is refused, never folded by this version's rules.",
            PROTOCOL_VERSION + 1
        ),
        &all_six,
        later,
        later_signature,
    );

    // --- Raw signatures.
    g.push_signature_of_event("sud-1", "sud-1's key, signed message and signature.");
    g.push_signature_of_event(
        "hinaura-1",
        "hinaura-1's key, signed message and signature.",
    );
    let ouest = secret("hub-ouest");
    let empty_signature = ouest.sign_raw(b"");
    g.push_signature(
        "empty-message",
        VALID,
        None,
        "hub-ouest's signature of the empty message (no domain tag: a raw Ed25519 check).",
        &ouest.hub_id().0,
        b"",
        &empty_signature,
    );
    for (event, description) in [
        ("wrong-signature", "sud-1's message with sud-2's signature."),
        (
            "flipped-payload-byte",
            "sud-1's signature over the message with one payload byte flipped.",
        ),
        (
            "small-order-key",
            "Identity public key, R = identity, S = 0: accepted by a permissive verifier for \
             any message.",
        ),
        (
            "small-order-r",
            "hub-sud's key, R = identity (small order), S = k·a: the cofactorless equation \
             holds.",
        ),
        (
            "mixed-order-r",
            "hub-sud's key, R with an order-8 component: valid under the cofactored rule, refused \
             by libsodium and verify_strict.",
        ),
        ("non-canonical-s", "sud-1's signature with S + ℓ."),
        (
            "non-canonical-key",
            "A public key encoding y >= p (of a point that is not of small order).",
        ),
    ] {
        g.push_signature_of_event(event, description);
    }

    // Non-canonical AND small order: y = p + 1 encodes the identity again; with R = identity,
    // S = 0 a verifier that reduces y mod p and skips the small-order check accepts.
    let p1 = p_plus(1);
    g.push_signature(
        "non-canonical-key-identity",
        INVALID,
        Some("non_canonical_key"),
        "Public key y = p + 1 (a non-canonical encoding of the identity point), R = identity, \
         S = 0, over sud-1's signed message: accepted by a verifier that reduces y mod p and \
         skips the small-order check.",
        &p1,
        &message1,
        &forged,
    );

    // Mixed-order key: A' = [a']B + T8. Strict rules (libsodium, verify_strict) do not test
    // for torsion: a signature (R = [r]B, S = r + k·a') verifies iff [k]T8 = 0, i.e. k ≡ 0
    // (mod 8). One of each, nonces searched deterministically.
    let mixed_seed = seed_of("mixed-order");
    let a2 = SigningKey::from_bytes(&mixed_seed).to_scalar();
    let mixed_key = (EdwardsPoint::mul_base(&a2) + EIGHT_TORSION[1])
        .compress()
        .to_bytes();
    let mixed_message = b"maillage/v1 test vector: mixed-order public key".as_slice();
    let mut made = [false, false];
    for i in 0u32.. {
        let r = label_scalar(&format!(
            "maillage/v1 test vector nonce: mixed-order key {i}"
        ));
        let r_bytes = EdwardsPoint::mul_base(&r).compress().to_bytes();
        let k = challenge(&r_bytes, &mixed_key, mixed_message);
        let divisible = k.as_bytes()[0] & 7 == 0;
        let slot = usize::from(!divisible);
        if made[slot] {
            continue;
        }
        made[slot] = true;
        let signature = signature_bytes(&r_bytes, (r + k * a2).as_bytes());
        if divisible {
            g.push_signature(
                "mixed-order-key-k-divisible-by-8",
                VALID,
                None,
                &format!(
                    "Public key [a]B + T (T of order 8; a from seed SHA-256(\"{}\")), nonce #{i}: \
                     the challenge k is ≡ 0 mod 8 so [k]T = 0 and the cofactorless equation \
                     holds too. Neither rule tests keys for torsion: valid everywhere.",
                    seed_label("mixed-order")
                ),
                &mixed_key,
                mixed_message,
                &signature,
            );
        } else {
            g.push_signature(
                "mixed-order-key",
                VALID,
                None,
                &format!(
                    "Same mixed-order key, nonce #{i}: k is not ≡ 0 mod 8, the cofactorless \
                     equation is off by [k]T, which [8] removes: valid under protocol v2's \
                     cofactored rule, refused by libsodium and verify_strict."
                ),
                &mixed_key,
                mixed_message,
                &signature,
            );
        }
        if made == [true, true] {
            break;
        }
    }

    let keys = HUBS
        .iter()
        .map(|(name, territories)| KeyVector {
            name: (*name).into(),
            seed_label: seed_label(name),
            seed: hex::encode(seed_of(name)),
            public_key: secret(name).hub_id().to_hex(),
            role: "hub".into(),
            territories: strings(territories),
        })
        .collect();

    Vectors {
        format: "maillage/v1 envelope test vectors".into(),
        note: "TEST KEYS ONLY: every seed below is public (SHA-256 of its label). Never use \
               them outside tests."
            .into(),
        description: strings(&[
            "EventId = SHA-256(domain_tags.event || payload); signature = \
             Ed25519(seed, domain_tags.sign || payload); FederationId = \
             SHA-256(domain_tags.charter || charter.bytes).",
            "Verification follows the cofactored strict rule (protocol v2): S >= ℓ refused; R \
             and the key must be canonical encodings of points not of small order; then \
             [8]([S]B - R - [k]A) = O with k = SHA-512(R || A || message) mod ℓ. Field \
             cofactorless_strict_accepts gives protocol v1's verdict (libsodium \
             crypto_sign_verify_detached, ed25519-dalek verify_strict), which differs only on \
             the mixed-order vectors.",
            "An event is valid iff: payload <= payload_bytes_max bytes; version = \
             charter.protocol_version (protobuf Charter field 5; = protocol_version); federation \
             = charter.federation_id; author a hub of the charter; the signature verifies; \
             and it extends the chain made of the events named in `follows` (seq = last seq + \
             1, prev = id of the last, prev empty at seq 1).",
            "Payload fields (protobuf Event): version=1 varint, federation=2 bytes, author=3 \
             bytes, seq=4 varint, prev=5 bytes, hlc=6 varint, deps=7 EventRef{author=1, \
             seq=2, id=3}, body=20..24.",
            "Generated by tests/vectors.rs (MAILLAGE_UPDATE_VECTORS=1) and checked \
             independently by tests/vectors/check_vectors.py.",
        ]),
        domain_tags: DomainTags {
            event: hex::encode(EVENT_ID_TAG),
            sign: hex::encode(SIGN_TAG),
            charter: hex::encode(CHARTER_TAG),
        },
        protocol_version: PROTOCOL_VERSION,
        payload_bytes_max: PAYLOAD_BYTES_MAX,
        charter: charter_vector(
            &g.charter,
            "The federation of these vectors: three hubs (hub-sud, hinaura, hub-ouest), k = 2.",
        ),
        other_charter: charter_vector(
            &g.other,
            "Same members, another name: another federation (for wrong-federation).",
        ),
        keys,
        events: g.events,
        signatures: g.signatures,
    }
}

fn render(vectors: &Vectors) -> String {
    let mut text = serde_json::to_string_pretty(vectors).unwrap();
    text.push('\n');
    text
}

// ---------------------------------------------------------------------------------------------
// The tests.

/// The generated text; with `MAILLAGE_UPDATE_VECTORS=1`, written to the committed file once,
/// before any test reads it.
fn generated_text() -> &'static str {
    static TEXT: OnceLock<String> = OnceLock::new();
    TEXT.get_or_init(|| {
        let text = render(&generate());
        assert_eq!(render(&generate()), text, "generation is not deterministic");
        if update_requested() {
            let path = envelope_vectors_path();
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, &text).unwrap();
            eprintln!("rewrote {}", path.display());
        }
        text
    })
}

fn committed_text() -> String {
    generated_text();
    let path = envelope_vectors_path();
    std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "cannot read {}: {e}; create it with MAILLAGE_UPDATE_VECTORS=1",
            path.display()
        )
    })
}

fn committed() -> Vectors {
    serde_json::from_str(&committed_text()).unwrap()
}

#[test]
fn committed_vectors_are_exactly_what_maillage_core_generates() {
    let generated = generated_text();
    let on_disk = committed_text();
    if let Some((line, expected, found)) = first_difference(generated, &on_disk) {
        panic!(
            "{} differs from what maillage-core generates, first at line {line}:\n  generated: \
             {expected}\n  committed: {found}\nIf the protocol change is intended, rerun with \
             MAILLAGE_UPDATE_VECTORS=1 and review the diff.",
            envelope_vectors_path().display()
        );
    }
    assert_eq!(generated.as_bytes(), on_disk.as_bytes());
}

/// Reasons for which maillage-core can only say "the signature does not verify".
const BAD_SIGNATURE_REASONS: [&str; 4] = [
    "wrong_signature",
    "flipped_payload_byte",
    "small_order_r",
    "non_canonical_s",
];

/// maillage-core's verdict, as `Ok(())` or the reason class it gives.
fn core_event_verdict(
    v: &EventVector,
    by_name: &BTreeMap<&str, &EventVector>,
    charter: &Charter,
) -> Result<(), String> {
    let signed = pb::SignedEvent {
        payload: hex::decode(&v.payload).unwrap(),
        signature: hex::decode(&v.signature).unwrap(),
        personal: Vec::new(),
    };
    let event = match verify_encoded(&signed.encode_to_vec(), charter) {
        Ok(event) => event,
        Err(EnvelopeError::Oversize { .. }) => return Err("oversize".into()),
        Err(EnvelopeError::Federation { .. }) => return Err("wrong_federation".into()),
        Err(EnvelopeError::Version { .. }) => return Err("unsupported_version".into()),
        Err(EnvelopeError::Signature(CryptoError::BadSignature { .. })) => {
            return Err("bad_signature".into());
        }
        Err(EnvelopeError::UnknownAuthor { author }) => {
            return Err(match PublicKey::from_hub_id(author) {
                Err(CryptoError::KeyWeak { .. }) => "small_order_key".into(),
                Err(CryptoError::KeyNonCanonical { .. }) => "non_canonical_key".into(),
                Err(e) => format!("key: {e}"),
                Ok(_) => "unknown_author".into(),
            });
        }
        Err(e) => return Err(format!("other: {e}")),
    };
    // The decoded header must be what the vector says.
    assert_eq!(event.id.to_hex(), v.id, "{}: id", v.name);
    assert_eq!(event.author.to_hex(), v.author, "{}: author", v.name);
    assert_eq!(event.seq, v.seq, "{}: seq", v.name);
    assert_eq!(
        event.prev.map(|p| p.to_hex()).unwrap_or_default(),
        v.prev,
        "{}: prev",
        v.name
    );
    assert_eq!(event.hlc, v.hlc, "{}: hlc", v.name);
    let deps: Vec<DepVector> = event
        .deps
        .iter()
        .map(|d| DepVector {
            author: d.author.to_hex(),
            seq: d.seq,
            id: d.id.to_hex(),
        })
        .collect();
    assert_eq!(deps, v.deps, "{}: deps", v.name);
    assert_eq!(
        event.body.as_ref().map_or("none", body_kind),
        v.body,
        "{}: body",
        v.name
    );
    let mut feed = Vec::new();
    for name in &v.follows {
        let before = by_name[name.as_str()];
        assert_eq!(
            before.expected, VALID,
            "{}: follows an invalid event",
            v.name
        );
        let signed = pb::SignedEvent {
            payload: hex::decode(&before.payload).unwrap(),
            signature: hex::decode(&before.signature).unwrap(),
            personal: Vec::new(),
        };
        feed.push(verify_encoded(&signed.encode_to_vec(), charter).unwrap());
    }
    feed.push(event);
    match chain::check_feed(&feed) {
        Ok(head) => {
            let head = head.unwrap();
            assert_eq!(head.seq, v.seq);
            Ok(())
        }
        Err((index, _)) if index != feed.len() - 1 => {
            Err(format!("chain broken before the event, at #{index}"))
        }
        Err((_, ChainError::PrevMismatch { .. })) => Err("broken_chain".into()),
        Err((_, ChainError::Gap { .. })) => Err("gap".into()),
        Err((_, e)) => Err(format!("chain: {e}")),
    }
}

fn core_signature_verdict(v: &SignatureVector) -> Result<(), String> {
    let key = HubId::try_from(hex::decode(&v.public_key).unwrap().as_slice()).unwrap();
    let message = hex::decode(&v.message).unwrap();
    let signature = hex::decode(&v.signature).unwrap();
    match PublicKey::from_hub_id(key) {
        Err(CryptoError::KeyWeak { .. }) => Err("small_order_key".into()),
        Err(CryptoError::KeyNonCanonical { .. }) => Err("non_canonical_key".into()),
        Err(e) => Err(format!("key: {e}")),
        Ok(public) => match public.verify_raw(&message, &signature) {
            // The fast path and the rule's reference give one verdict.
            verdict if verdict != public.verify_raw_reference(&message, &signature) => {
                Err(format!("fast path and reference differ: {verdict:?}"))
            }
            Ok(()) => Ok(()),
            Err(CryptoError::BadSignature { .. }) => Err("bad_signature".into()),
            Err(e) => Err(format!("other: {e}")),
        },
    }
}

/// Compares a verdict with the expectation; `None` when they agree.
fn disagreement(
    kind: &str,
    name: &str,
    expected: &str,
    reason: Option<&str>,
    verdict: &Result<(), String>,
) -> Option<String> {
    let agrees = match (expected, reason, verdict) {
        (VALID, None, Ok(())) => true,
        (INVALID, Some(reason), Err(class)) => {
            class == reason || (class == "bad_signature" && BAD_SIGNATURE_REASONS.contains(&reason))
        }
        _ => false,
    };
    let line = format!("{kind} {name}: expected {expected} {reason:?}, maillage-core: {verdict:?}");
    eprintln!("{} {line}", if agrees { "ok  " } else { "FAIL" });
    (!agrees).then_some(line)
}

#[test]
fn maillage_core_reaches_every_expected_verdict() {
    let v = committed();
    let charter = Charter::from_bytes(hex::decode(&v.charter.bytes).unwrap()).unwrap();
    assert_eq!(charter.federation_id().to_hex(), v.charter.federation_id);
    assert_eq!(
        crypto::federation_id(charter.bytes()).to_hex(),
        v.charter.federation_id
    );
    let other = Charter::from_bytes(hex::decode(&v.other_charter.bytes).unwrap()).unwrap();
    assert_eq!(
        other.federation_id().to_hex(),
        v.other_charter.federation_id
    );
    assert_ne!(other.federation_id(), charter.federation_id());
    assert_eq!(v.payload_bytes_max, PAYLOAD_BYTES_MAX);
    assert_eq!(v.protocol_version, PROTOCOL_VERSION);
    for (c, vector) in [(&charter, &v.charter), (&other, &v.other_charter)] {
        assert_eq!(c.protocol_version(), vector.protocol_version);
        assert_eq!(c.protocol_version(), PROTOCOL_VERSION);
    }

    for key in &v.keys {
        let seed: [u8; 32] = hex::decode(&key.seed).unwrap().try_into().unwrap();
        assert_eq!(seed, sha256(key.seed_label.as_bytes()), "{}", key.name);
        let id = SecretKey::from_seed(&seed).hub_id();
        assert_eq!(id.to_hex(), key.public_key, "{}", key.name);
        let m = charter.member(&id).unwrap();
        assert_eq!(m.role, Role::Hub);
        assert_eq!(m.name, key.name);
        PublicKey::from_hub_id(id).unwrap();
    }

    let by_name: BTreeMap<&str, &EventVector> =
        v.events.iter().map(|e| (e.name.as_str(), e)).collect();
    assert_eq!(by_name.len(), v.events.len(), "event names are unique");
    let mut failures = Vec::new();
    let mut count = 0;
    for e in &v.events {
        count += 1;
        let payload = hex::decode(&e.payload).unwrap();
        assert_eq!(payload.len(), e.payload_len, "{}", e.name);
        assert_eq!(crypto::event_id(&payload).to_hex(), e.id, "{}", e.name);
        let verdict = core_event_verdict(e, &by_name, &charter);
        failures.extend(disagreement(
            "event",
            &e.name,
            &e.expected,
            e.reason.as_deref(),
            &verdict,
        ));
    }
    for s in &v.signatures {
        count += 1;
        let verdict = core_signature_verdict(s);
        failures.extend(disagreement(
            "signature",
            &s.name,
            &s.expected,
            s.reason.as_deref(),
            &verdict,
        ));
        let public_key = hex::decode(&s.public_key).unwrap();
        let message = hex::decode(&s.message).unwrap();
        let signature = hex::decode(&s.signature).unwrap();
        assert_eq!(
            lax_cofactored_accepts(&public_key, &message, &signature),
            s.lax_accepts,
            "{}: lax_accepts",
            s.name
        );
        assert_eq!(
            dalek_strict_accepts(&public_key, &message, &signature),
            s.cofactorless_strict_accepts,
            "{}: cofactorless_strict_accepts",
            s.name
        );
        // Protocol v1's verdict implies v2's: the cofactorless equation implies the cofactored.
        assert!(
            !s.cofactorless_strict_accepts || verdict.is_ok(),
            "{}: verify_strict accepts, the v2 rule refuses",
            s.name
        );
    }
    assert!(
        failures.is_empty(),
        "maillage-core disagrees with {} of {count} vectors:\n{}",
        failures.len(),
        failures.join("\n")
    );
    eprintln!("{count} vectors: maillage-core agrees with every verdict");
}

/// The adversarial vectors are adversarial: weaker verifiers do accept them.
#[test]
fn adversarial_vectors_fool_weaker_verifiers() {
    let v = committed();
    let sig = |name: &str| {
        let s = v.signatures.iter().find(|s| s.name == name).unwrap();
        (
            hex::decode(&s.public_key).unwrap(),
            hex::decode(&s.message).unwrap(),
            hex::decode(&s.signature).unwrap(),
            s.lax_accepts,
        )
    };
    // Cofactorless but without the small-order checks (ed25519-dalek's plain `verify`).
    for name in [
        "small-order-key",
        "small-order-r",
        "non-canonical-key-identity",
    ] {
        let (pk, message, signature, _) = sig(name);
        assert!(
            dalek_permissive_accepts(&pk, &message, &signature),
            "{name}: a permissive cofactorless verifier should accept it"
        );
        // …for any message, when the key is small order.
        if name != "small-order-r" {
            assert!(dalek_permissive_accepts(
                &pk,
                b"any other message",
                &signature
            ));
        }
    }
    // The mixed-order vectors are valid under the cofactored rule and refused by v1's
    // cofactorless one: a node following v1 would disagree on them.
    for name in ["mixed-order-r", "mixed-order-key"] {
        let (pk, message, signature, _) = sig(name);
        assert!(
            !dalek_strict_accepts(&pk, &message, &signature),
            "{name}: verify_strict should refuse it"
        );
    }
    // Lax cofactored verifiers (no encoding or small-order checks) accept these.
    for name in [
        "mixed-order-r",
        "mixed-order-key",
        "small-order-key",
        "small-order-r",
        "non-canonical-s",
    ] {
        assert!(
            sig(name).3,
            "{name}: a lax cofactored verifier should accept it"
        );
    }
    for name in [
        "wrong-signature",
        "flipped-payload-byte",
        "non-canonical-key",
    ] {
        assert!(!sig(name).3, "{name}: nobody should accept it");
    }
    // The valid ones verify under the lax rule, and the honest ones under every rule.
    for s in v.signatures.iter().filter(|s| s.expected == VALID) {
        let (pk, message, signature, lax) = sig(&s.name);
        assert!(lax, "{}", s.name);
        assert_eq!(
            dalek_permissive_accepts(&pk, &message, &signature),
            s.cofactorless_strict_accepts,
            "{}",
            s.name
        );
    }
}
