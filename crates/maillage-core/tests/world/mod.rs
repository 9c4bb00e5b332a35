//! A small multi-hub world for tests: hubs with their own feeds and their own knowledge of
//! the others' events. A hub authors with deps on the heads of the feeds it knows, exactly as
//! a node does.
#![allow(dead_code, clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::sync::Arc;

use maillage_core::hlc::MAX_AHEAD_MS_DEFAULT;
use maillage_core::venues::venue_id;
use maillage_core::{
    Charter, EventRef, FeedWriter, HubId, MemberSpec, PersonId, Role, SecretKey, VerifiedEvent, pb,
};

pub const T0_MS: u64 = 1_790_000_000_000; // 2026-09-21

#[derive(Debug)]
pub struct Hub {
    pub id: HubId,
    pub name: String,
    pub territories: Vec<String>,
    writer: FeedWriter,
    /// Highest seq known of every feed (own included).
    pub known: BTreeMap<HubId, (u64, maillage_core::EventId)>,
    wall_ms: u64,
}

#[derive(Debug)]
pub struct World {
    pub charter: Arc<Charter>,
    pub hubs: Vec<Hub>,
    /// Every event, per feed, in order.
    pub feeds: BTreeMap<HubId, Vec<VerifiedEvent>>,
    /// Every event in the order it was authored (a causal order).
    pub authored: Vec<VerifiedEvent>,
}

pub const TERRITORIES: [&[&str]; 6] = [
    &["04", "05", "06", "13", "83", "84"],
    &[
        "01", "03", "07", "15", "26", "38", "42", "43", "63", "69", "73", "74",
    ],
    &[
        "16", "17", "19", "23", "24", "33", "40", "47", "64", "79", "86", "87",
    ],
    &["21", "25", "39", "58", "70", "71", "89", "90"],
    &["75", "77", "78", "91", "92", "93", "94", "95"],
    &["988"],
];
pub const NAMES: [&str; 6] = [
    "Hub du Sud",
    "Hinaura",
    "Hub Nouvelle-Aquitaine",
    "MedNum BFC",
    "Francil'IN",
    "Hub NC",
];
pub const SERVICE: &str = "Aide aux démarches administratives";

/// Hub `i`'s name: the six named hubs, then "Hub 7", "Hub 8"…
pub fn name_of(i: usize) -> String {
    NAMES
        .get(i)
        .map_or_else(|| format!("Hub {}", i + 1), |n| (*n).to_owned())
}

/// Hub `i`'s territories: the six of [`TERRITORIES`], then one département each among those
/// they leave (a world of up to 66 hubs).
pub fn territories_of(i: usize) -> Vec<String> {
    if let Some(t) = TERRITORIES.get(i) {
        return t.iter().map(|t| t.to_string()).collect();
    }
    let taken: Vec<&str> = TERRITORIES.iter().flat_map(|t| t.iter().copied()).collect();
    let free: Vec<String> = (1..=95)
        .filter(|d| *d != 20)
        .map(|d| format!("{d:02}"))
        .chain(["2A", "2B"].map(String::from))
        .chain((971..=978).map(|d| d.to_string()))
        .chain(["984", "986", "987", "989"].map(String::from))
        .filter(|d| !taken.contains(&d.as_str()))
        .collect();
    vec![free[i - TERRITORIES.len()].clone()]
}

impl World {
    pub fn new(hubs: usize) -> Self {
        Self::with_threshold(hubs, 1)
    }

    /// A world whose charter needs `threshold` hubs to change membership (and to move the
    /// log's day on, for retention).
    pub fn with_threshold(hubs: usize, threshold: u32) -> Self {
        // Salts count from zero in every world: a case's seed alone makes its history (a
        // failing seed of a property test runs the same alone).
        SALT.with(|s| s.set(0));
        let keys: Vec<SecretKey> = (0..hubs)
            .map(|i| SecretKey::from_seed(&[i as u8 + 1; 32]))
            .collect();
        let members = keys
            .iter()
            .enumerate()
            .map(|(i, k)| MemberSpec {
                key: k.hub_id(),
                name: name_of(i),
                role: Role::Hub,
                territories: territories_of(i),
            })
            .collect();
        let charter = Arc::new(Charter::found("Test federation", threshold, members).unwrap());
        let hubs = keys
            .into_iter()
            .enumerate()
            .map(|(i, k)| Hub {
                id: k.hub_id(),
                name: name_of(i),
                territories: territories_of(i),
                writer: FeedWriter::new(k, charter.federation_id(), None, 0, MAX_AHEAD_MS_DEFAULT),
                known: BTreeMap::new(),
                wall_ms: T0_MS,
            })
            .collect();
        Self {
            charter,
            hubs,
            feeds: BTreeMap::new(),
            authored: Vec::new(),
        }
    }

    /// A key the charter does not name signs from now on (a hub an amendment admits, a
    /// successor key), under `name` with `territories`; its events need the amendment in
    /// their past. Returns its index.
    pub fn add_signer(&mut self, key: SecretKey, name: &str, territories: Vec<String>) -> usize {
        let id = key.hub_id();
        let writer = FeedWriter::new(
            key,
            self.charter.federation_id(),
            None,
            0,
            MAX_AHEAD_MS_DEFAULT,
        );
        self.hubs.push(Hub {
            id,
            name: name.to_owned(),
            territories,
            writer,
            known: BTreeMap::new(),
            wall_ms: T0_MS,
        });
        self.hubs.len() - 1
    }

    /// Hub `h` authors an event with deps on every other feed it knows.
    pub fn author(&mut self, h: usize, body: pb::event::Body) -> VerifiedEvent {
        let hub = &mut self.hubs[h];
        let deps: Vec<EventRef> = hub
            .known
            .iter()
            .filter(|(a, _)| **a != hub.id)
            .map(|(a, (seq, id))| EventRef {
                author: *a,
                seq: *seq,
                id: *id,
            })
            .collect();
        hub.wall_ms += 60_000;
        let mut event = hub.writer.next(body, deps, hub.wall_ms).unwrap();
        let part = maillage_core::personal::committed(event.body.as_ref())
            .and_then(|c| PARTS.with(|p| p.borrow().get(c).cloned()));
        if let Some(part) = part {
            assert!(event.attach_personal(part));
        }
        hub.known.insert(hub.id, (event.seq, event.id));
        self.feeds
            .entry(event.author)
            .or_default()
            .push(event.clone());
        self.authored.push(event.clone());
        event
    }

    /// Hub `h`'s clock moves on by `days`.
    pub fn advance_days(&mut self, h: usize, days: u64) {
        self.hubs[h].wall_ms += days * 86_400_000;
    }

    /// Hub `to` learns everything hub `from` knows (a sync).
    pub fn sync(&mut self, from: usize, to: usize) {
        let known = self.hubs[from].known.clone();
        let target = &mut self.hubs[to];
        for (author, (seq, id)) in known {
            let entry = target.known.entry(author).or_insert((0, id));
            if seq > entry.0 {
                *entry = (seq, id);
            }
        }
    }

    pub fn event_count(&self) -> usize {
        self.feeds.values().map(Vec::len).sum()
    }

    pub fn all_events(&self) -> Vec<VerifiedEvent> {
        self.feeds.values().flatten().cloned().collect()
    }

    pub fn venue_record(&self, h: usize, n: usize) -> pb::VenueRecord {
        let dep = &self.hubs[h].territories[0];
        let postal = if dep.len() == 3 {
            format!("{dep}00")
        } else {
            format!("{dep}000")
        };
        pb::VenueRecord {
            id: format!("venue-{n}"),
            pivot: "21130055300016".into(),
            nom: format!("Médiathèque {n}"),
            commune: "Commune".into(),
            code_postal: postal,
            adresse: "1 place de la Mairie".into(),
            date_maj: "2026-01-01".into(),
            services: vec![SERVICE.into()],
            ..Default::default()
        }
    }

    /// Registers and qualifies a venue of hub `h`; returns its id.
    pub fn qualified_venue(&mut self, h: usize, n: usize) -> String {
        let record = self.venue_record(h, n);
        let id = venue_id(&self.hubs[h].id, &record.id);
        self.author(
            h,
            pb::event::Body::VenueRegistered(pb::VenueRegistered {
                venue_id: id.clone(),
                record: Some(record),
            }),
        );
        self.author(h, qualify(&id, "2027-12-31"));
        id
    }
}

pub fn qualify(venue_id: &str, until: &str) -> pb::event::Body {
    pb::event::Body::VenueQualified(pb::VenueQualified {
        venue_id: venue_id.into(),
        scheme: "pass-numerique".into(),
        valid_until: until.into(),
        services: vec![SERVICE.into()],
    })
}

pub fn batch(batch_id: &str, count: u32) -> pb::event::Body {
    pb::event::Body::VoucherBatchIssued(pb::VoucherBatchIssued {
        batch_id: batch_id.into(),
        funder: Some(pb::Funder {
            name: "Région Sud".into(),
            siret: "23130002300019".into(),
        }),
        face_value_cents: 1000,
        count,
        valid_from: "2026-01-01".into(),
        valid_until: "2026-12-31".into(),
        redeem_deadline: "2027-01-31".into(),
        eligible_services: vec![],
        territories: vec![],
    })
}

thread_local! {
    /// Personal parts sealed by [`personal`], by commitment: attached when the event is signed.
    static PARTS: std::cell::RefCell<std::collections::BTreeMap<Vec<u8>, Vec<u8>>> =
        Default::default();
    static SALT: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
}

/// The commitment to a fresh personal part for `person` (a new salt each time); the world
/// attaches the part to the event that carries the commitment.
pub fn personal(person: PersonId, diagnostic: &str) -> Vec<u8> {
    let n = SALT.with(|s| {
        s.set(s.get() + 1);
        s.get()
    });
    let mut salt = [0u8; 16];
    salt[8..].copy_from_slice(&n.to_be_bytes());
    let (commitment, part) = maillage_core::personal::seal(person, diagnostic, salt).unwrap();
    PARTS.with(|p| p.borrow_mut().insert(commitment.to_vec(), part));
    commitment.to_vec()
}

pub fn hand_out(serials: &[String], person: PersonId) -> pb::event::Body {
    pb::event::Body::VouchersHandedOut(pb::VouchersHandedOut {
        serials: serials.to_vec(),
        personal: personal(person, ""),
        prescriber: Some(pb::Prescriber {
            kind: "CAF".into(),
            name: "CAF 13, accueil de Martigues".into(),
        }),
        referral_id: String::new(),
        date: "2026-10-01".into(),
    })
}

pub fn redeem(serial: &str, venue: &str, date: &str) -> pb::event::Body {
    pb::event::Body::VoucherRedeemed(pb::VoucherRedeemed {
        serial: serial.into(),
        venue_id: venue.into(),
        service: SERVICE.into(),
        date: date.into(),
        claim: None,
    })
}

pub fn transfer(serials: &[String], to: HubId) -> pb::event::Body {
    pb::event::Body::VoucherTransferred(pb::VoucherTransferred {
        serials: serials.to_vec(),
        to_hub: to.0.to_vec(),
        reason: "person moved".into(),
    })
}

pub fn claim(serial: &str, venue: &str, date: &str) -> pb::event::Body {
    pb::event::Body::VoucherClaimed(pb::VoucherClaimed {
        serial: serial.into(),
        venue_id: venue.into(),
        service: SERVICE.into(),
        date: date.into(),
    })
}

pub fn answer_accept(
    serial: &str,
    venue: &str,
    date: &str,
    claim: &VerifiedEvent,
) -> pb::event::Body {
    pb::event::Body::VoucherRedeemed(pb::VoucherRedeemed {
        serial: serial.into(),
        venue_id: venue.into(),
        service: SERVICE.into(),
        date: date.into(),
        claim: Some(claim.as_ref().into()),
    })
}

pub fn answer_reject(claim: &VerifiedEvent, reason: &str) -> pb::event::Body {
    pb::event::Body::VoucherClaimRejected(pb::VoucherClaimRejected {
        claim: Some(claim.as_ref().into()),
        reason: reason.into(),
    })
}

pub fn person(n: u8) -> PersonId {
    PersonId([n; 16])
}
