//! Conformance histories (docs/protocol.md §4e): every rule of §4/§4b, accepted and broken,
//! every rejection code of §4c at least once, concurrent branches delivered in several orders,
//! and a fork. Regenerated in memory with maillage-core, compared byte for byte with the
//! committed `vectors/histories.json`, then run with `maillage_core::conformance::check` in
//! every order each history lists.
//!
//! While generating, each event's verdict is asserted as it is signed: the history *is* the
//! positive and negative test of each rule. `MAILLAGE_UPDATE_VECTORS=1` rewrites the committed
//! file instead of comparing (review the diff: a moved verdict or digest is a protocol change,
//! and its commit says why).
//!
//! Size: one builder and one function per aggregate's rules (venues, vouchers, claims,
//! referrals, people, concurrency and forks), each a readable list of cases.

#![allow(clippy::unwrap_used)]

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use maillage_core::conformance::{self, APPLIED, Case, FORMAT, History, HistoryFile, NOT_APPLIED};
use maillage_core::date::parse_date;
use maillage_core::venues::venue_id;
use maillage_core::{
    Charter, EventRef, FeedWriter, HubId, Ledger, MemberSpec, PersonId, Rejection, Role, SecretKey,
    VerifiedEvent, pb,
};
use maillage_integration_tests::{first_difference, update_requested, vectors_dir};
use prost::Message;
use sha2::{Digest, Sha256};

type Body = pb::event::Body;

const DEMARCHES: &str = "Aide aux démarches administratives";
const OUTILS: &str = "Maîtrise des outils numériques du quotidien";
const LOISIRS: &str = "Loisirs et créations numériques";

fn secret(name: &str) -> SecretKey {
    let seed: [u8; 32] = Sha256::digest(format!("maillage conformance: {name}")).into();
    SecretKey::from_seed(&seed)
}

fn person(n: u8) -> PersonId {
    PersonId([n; 16])
}

/// The commitment to a personal part for `who` (§2b), with a fixed salt so that the vectors
/// are the same at every run. The parts themselves are not in the vectors: consensus is
/// computed from the permanent bytes only.
fn commit_to(who: PersonId) -> Vec<u8> {
    maillage_core::personal::seal(who, "", [0x5A; 16])
        .unwrap()
        .0
        .to_vec()
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}

/// Signs the events of a federation of two hubs (Hub du Sud: 13, 84; Hinaura: 69, 74) and an
/// observer, folding each at once and checking the verdict it was meant to get.
struct Builder {
    charter: Arc<Charter>,
    writers: BTreeMap<&'static str, FeedWriter>,
    ledger: Ledger,
    cases: Vec<(VerifiedEvent, String, String)>,
    wall_ms: u64,
    /// Events of keys not admitted yet: offered again once an amendment admits them.
    strangers: Vec<VerifiedEvent>,
}

const SUD: &str = "sud";
const HINAURA: &str = "hinaura";
const ANCT: &str = "anct";

impl Builder {
    fn new() -> Self {
        let member = |name: &str, role: Role, territories: &[&str]| MemberSpec {
            key: secret(name).hub_id(),
            name: name.into(),
            role,
            territories: strings(territories),
        };
        let charter = Arc::new(
            Charter::found(
                "Maillage — histoires de conformité",
                1,
                vec![
                    member(SUD, Role::Hub, &["13", "84"]),
                    member(HINAURA, Role::Hub, &["69", "74"]),
                    member(ANCT, Role::Observer, &[]),
                ],
            )
            .unwrap(),
        );
        let writers = [SUD, HINAURA, ANCT]
            .into_iter()
            .map(|name| {
                let writer =
                    FeedWriter::new(secret(name), charter.federation_id(), None, 0, 60_000);
                (name, writer)
            })
            .collect();
        Self {
            ledger: Ledger::new(charter.clone()),
            charter,
            writers,
            cases: Vec::new(),
            wall_ms: parse_date("2026-03-01").unwrap() as u64 * 86_400_000,
            strangers: Vec::new(),
        }
    }

    fn hub(name: &str) -> HubId {
        secret(name).hub_id()
    }

    /// A key the charter does not name (a hub admitted later, a successor key) that signs.
    fn add_signer(&mut self, name: &'static str) {
        let writer = FeedWriter::new(secret(name), self.charter.federation_id(), None, 0, 60_000);
        self.writers.insert(name, writer);
    }

    /// The seq the next event of `who` gets.
    fn next_seq(&self, who: &str) -> u64 {
        self.writers[who].head().map_or(1, |h| h.seq + 1)
    }

    /// Signs `body` as `who` with the deps an honest node names, folds it, checks `expect`.
    fn sign(&mut self, who: &'static str, body: Body, expect: &str, note: &str) -> VerifiedEvent {
        let deps = self.ledger.next_deps(&Self::hub(who));
        self.sign_with(who, body, deps, expect, note)
    }

    /// [`Builder::sign`] with chosen deps (a branch that has not seen the others' events).
    fn sign_with(
        &mut self,
        who: &'static str,
        body: Body,
        deps: Vec<EventRef>,
        expect: &str,
        note: &str,
    ) -> VerifiedEvent {
        let event = self.sign_unfolded(who, body, deps);
        self.fold(event, expect, note)
    }

    /// Signs `body` as `who` with `deps`, without folding it.
    fn sign_unfolded(
        &mut self,
        who: &'static str,
        body: Body,
        deps: Vec<EventRef>,
    ) -> VerifiedEvent {
        self.wall_ms += 60_000;
        self.writers
            .get_mut(who)
            .unwrap()
            .next(body, deps, self.wall_ms)
            .unwrap()
    }

    /// Folds an event signed by [`Builder::sign_unfolded`], checks `expect`.
    fn fold(&mut self, event: VerifiedEvent, expect: &str, note: &str) -> VerifiedEvent {
        if self.ledger.offer(event.clone()) == maillage_core::causal::Offer::Stranger {
            self.strangers.push(event.clone());
        } else {
            for waiting in std::mem::take(&mut self.strangers) {
                if self.ledger.offer(waiting.clone()) == maillage_core::causal::Offer::Stranger {
                    self.strangers.push(waiting);
                }
            }
        }
        let verdict = match self.ledger.rejections().get(&event.id) {
            Some(r) => r.code().to_owned(),
            None if self.ledger.applied_id(&event.author, event.seq) == Some(event.id) => {
                APPLIED.to_owned()
            }
            None => NOT_APPLIED.to_owned(),
        };
        let reason = self
            .ledger
            .rejections()
            .get(&event.id)
            .map(|r| r.reason())
            .unwrap_or_default();
        assert_eq!(verdict, expect, "{note}: {reason}");
        self.cases
            .push((event.clone(), expect.to_owned(), note.to_owned()));
        event
    }

    /// Signs `body` whose verdict comes later (its key is admitted afterwards): checked
    /// against the whole history in [`Builder::finish`].
    fn sign_pending(
        &mut self,
        who: &'static str,
        body: Body,
        expect: &str,
        note: &str,
    ) -> VerifiedEvent {
        let deps = self.ledger.next_deps(&Self::hub(who));
        self.wall_ms += 60_000;
        let event = self
            .writers
            .get_mut(who)
            .unwrap()
            .next(body, deps, self.wall_ms)
            .unwrap();
        assert_eq!(
            self.ledger.offer(event.clone()),
            maillage_core::causal::Offer::Stranger,
            "{note}"
        );
        self.strangers.push(event.clone());
        self.cases
            .push((event.clone(), expect.to_owned(), note.to_owned()));
        event
    }

    /// Adds an event signed elsewhere (a fork's second branch) without folding it.
    fn record(&mut self, event: VerifiedEvent, expect: &str, note: &str) {
        self.cases.push((event, expect.to_owned(), note.to_owned()));
    }

    fn finish(
        self,
        name: &str,
        description: &str,
        frozen: Vec<(HubId, u64)>,
        extra_orders: usize,
    ) -> History {
        let n = self.cases.len();
        let mut orders = vec![(0..n).collect::<Vec<usize>>(), (0..n).rev().collect()];
        let mut state = Sha256::digest(name.as_bytes());
        for _ in 0..extra_orders {
            let mut order: Vec<usize> = (0..n).collect();
            for i in (1..n).rev() {
                state = Sha256::digest(state);
                let j =
                    (u64::from_be_bytes(state[..8].try_into().unwrap()) % (i as u64 + 1)) as usize;
                order.swap(i, j);
            }
            orders.push(order);
        }
        let mut history = History {
            name: name.into(),
            description: description.into(),
            charter: hex::encode(self.charter.bytes()),
            frozen: frozen.iter().map(|(a, s)| (a.to_hex(), *s)).collect(),
            events: self
                .cases
                .iter()
                .map(|(event, verdict, note)| Case {
                    signed: hex::encode(event.signed.encode_to_vec()),
                    verdict: verdict.clone(),
                    note: note.clone(),
                })
                .collect(),
            orders,
            digest: String::new(),
            parts: BTreeMap::new(),
        };
        let outcome = conformance::run(&history, &history.orders[0]).unwrap();
        for ((case, verdict), i) in history.events.iter().zip(&outcome.verdicts).zip(0..) {
            assert_eq!(&case.verdict, verdict, "{name}, event {i}: {}", case.note);
        }
        history.digest = outcome.digest;
        history.parts = outcome.parts;
        history
    }
}

// ----- bodies ----------------------------------------------------------------------------------

fn record(id: &str, pivot: &str, code_postal: &str, code_insee: &str) -> pb::VenueRecord {
    pb::VenueRecord {
        id: id.into(),
        pivot: pivot.into(),
        nom: format!("Lieu {id}"),
        commune: "Commune".into(),
        code_postal: code_postal.into(),
        code_insee: code_insee.into(),
        adresse: "1 place de la Mairie".into(),
        source: "maillage-conformance".into(),
        date_maj: "2026-01-02".into(),
        services: strings(&[DEMARCHES, OUTILS]),
        ..Default::default()
    }
}

fn register(who: &str, record: pb::VenueRecord) -> Body {
    Body::VenueRegistered(pb::VenueRegistered {
        venue_id: venue_id(&Builder::hub(who), &record.id),
        record: Some(record),
    })
}

fn vid(who: &str, source_id: &str) -> String {
    venue_id(&Builder::hub(who), source_id)
}

fn qualify(venue: &str, until: &str, services: &[&str]) -> Body {
    Body::VenueQualified(pb::VenueQualified {
        venue_id: venue.into(),
        scheme: "pass-numerique".into(),
        valid_until: until.into(),
        services: strings(services),
    })
}

fn batch(id: &str, count: u32) -> pb::VoucherBatchIssued {
    pb::VoucherBatchIssued {
        batch_id: id.into(),
        funder: Some(pb::Funder {
            name: "CAF des Bouches-du-Rhône".into(),
            siret: "53418890200012".into(),
        }),
        face_value_cents: 1000,
        count,
        valid_from: "2026-01-01".into(),
        valid_until: "2026-12-31".into(),
        redeem_deadline: "2027-01-31".into(),
        eligible_services: vec![],
        territories: vec![],
    }
}

fn prescriber() -> Option<pb::Prescriber> {
    Some(pb::Prescriber {
        kind: "CAF".into(),
        name: "CAF des Bouches-du-Rhône, Martigues".into(),
    })
}

fn hand_out(serials: &[&str], who: PersonId, date: &str) -> pb::VouchersHandedOut {
    pb::VouchersHandedOut {
        serials: strings(serials),
        personal: commit_to(who),
        prescriber: prescriber(),
        referral_id: String::new(),
        date: date.into(),
    }
}

fn redeem(serial: &str, venue: &str, service: &str, date: &str) -> pb::VoucherRedeemed {
    pb::VoucherRedeemed {
        serial: serial.into(),
        venue_id: venue.into(),
        service: service.into(),
        date: date.into(),
        claim: None,
    }
}

fn transfer(serials: &[&str], to: &[u8]) -> Body {
    Body::VoucherTransferred(pb::VoucherTransferred {
        serials: strings(serials),
        to_hub: to.to_vec(),
        reason: "online redemption".into(),
    })
}

fn claim(serial: &str, venue: &str, date: &str) -> Body {
    Body::VoucherClaimed(pb::VoucherClaimed {
        serial: serial.into(),
        venue_id: venue.into(),
        service: DEMARCHES.into(),
        date: date.into(),
    })
}

fn reject_claim(claim: Option<pb::EventRef>, reason: &str) -> Body {
    Body::VoucherClaimRejected(pb::VoucherClaimRejected {
        claim,
        reason: reason.into(),
    })
}

fn cancel(serials: &[&str], reason: &str) -> Body {
    Body::VoucherCancelled(pb::VoucherCancelled {
        serials: strings(serials),
        reason: reason.into(),
    })
}

fn settle(venue: &str, serials: &[&str], amount: u64) -> Body {
    Body::RedemptionsSettled(pb::RedemptionsSettled {
        venue_id: venue.into(),
        serials: strings(serials),
        amount_cents: amount,
        period: "2026-03".into(),
    })
}

fn open(id: &str, who: PersonId, venue: &str, territory: &str) -> pb::ReferralOpened {
    pb::ReferralOpened {
        referral_id: id.into(),
        personal: commit_to(who),
        prescriber: prescriber(),
        needs: strings(&[DEMARCHES]),
        target_venue_id: venue.into(),
        target_territory: territory.into(),
        opened_on: "2026-03-02".into(),
        ..Default::default()
    }
}

fn accept(id: &str, venue: &str, date: &str) -> Body {
    Body::ReferralAccepted(pb::ReferralAccepted {
        referral_id: id.into(),
        venue_id: venue.into(),
        appointment_on: String::new(),
        date: date.into(),
    })
}

fn decline(id: &str, reason: &str) -> Body {
    Body::ReferralDeclined(pb::ReferralDeclined {
        referral_id: id.into(),
        reason: reason.into(),
    })
}

fn close(id: &str, outcome: &str, autonomy: &str) -> Body {
    Body::ReferralClosed(pb::ReferralClosed {
        referral_id: id.into(),
        outcome: outcome.into(),
        autonomy: autonomy.into(),
    })
}

fn accompaniment(who: &[u8], venue: &str, referral: &str, minutes: u32, mode: &str) -> Body {
    Body::AccompanimentRecorded(pb::AccompanimentRecorded {
        personal: PersonId::from_slice(who).map(commit_to).unwrap_or_default(),
        venue_id: venue.into(),
        referral_id: referral.into(),
        services: strings(&[DEMARCHES]),
        date: "2026-03-03".into(),
        duration_min: minutes,
        mode: mode.into(),
        vouchers: vec![],
    })
}

fn wire(event: &VerifiedEvent) -> Option<pb::EventRef> {
    Some(event.as_ref().into())
}

// ----- histories -------------------------------------------------------------------------------

/// The venues every history but the first starts from: Hub du Sud's Joliette (qualified for
/// two services until mid-2027), Avignon (qualified for any service until February 2026), a
/// venue without a real SIRET, a venue qualified then closed; Hinaura's Lyon (qualified).
fn venues(b: &mut Builder) {
    let setup = "setup";
    b.sign(
        SUD,
        register(SUD, record("joliette", "21130055300016", "13002", "13202")),
        APPLIED,
        setup,
    );
    b.sign(
        SUD,
        register(SUD, record("avignon", "W842000123", "84000", "84007")),
        APPLIED,
        setup,
    );
    b.sign(
        SUD,
        register(
            SUD,
            record("sans-siret", "00000000000000", "13003", "13203"),
        ),
        APPLIED,
        setup,
    );
    b.sign(
        SUD,
        register(SUD, record("ferme", "21130055300024", "13001", "13201")),
        APPLIED,
        setup,
    );
    b.sign(
        SUD,
        qualify(&vid(SUD, "joliette"), "2027-06-30", &[DEMARCHES, OUTILS]),
        APPLIED,
        setup,
    );
    b.sign(
        SUD,
        qualify(&vid(SUD, "avignon"), "2026-02-28", &[]),
        APPLIED,
        setup,
    );
    b.sign(
        SUD,
        qualify(&vid(SUD, "ferme"), "2027-06-30", &[]),
        APPLIED,
        setup,
    );
    b.sign(
        SUD,
        Body::VenueClosed(pb::VenueClosed {
            venue_id: vid(SUD, "ferme"),
            reason: "fermeture définitive".into(),
            ..Default::default()
        }),
        APPLIED,
        setup,
    );
    b.sign(
        HINAURA,
        register(HINAURA, record("lyon", "21690123000019", "69001", "69381")),
        APPLIED,
        setup,
    );
    b.sign(
        HINAURA,
        qualify(&vid(HINAURA, "lyon"), "2027-12-31", &[]),
        APPLIED,
        setup,
    );
}

fn venue_rules() -> History {
    let mut b = Builder::new();
    let joliette = record("joliette", "21130055300016", "13002", "13202");
    b.sign(
        SUD,
        register(SUD, joliette.clone()),
        APPLIED,
        "a hub registers a venue of its département",
    );
    b.sign(
        SUD,
        register(SUD, record("avignon", "W842000123", "84000", "84007")),
        APPLIED,
        "… of its other département (RNA pivot)",
    );
    b.sign(
        SUD,
        register(
            SUD,
            record("sans-siret", "00000000000000", "13003", "13203"),
        ),
        APPLIED,
        "a venue without a real pivot is registered (not qualifiable)",
    );
    b.sign(
        SUD,
        register(SUD, record("ferme", "21130055300024", "13001", "13201")),
        APPLIED,
        "a venue to close",
    );
    b.sign(
        SUD,
        Body::VenueRegistered(pb::VenueRegistered {
            venue_id: "v0000000000000000000000".into(),
            record: Some(record("autre", "21130055300032", "13004", "13204")),
        }),
        "venue.id_mismatch",
        "a venue id not derived from the author and the record's id",
    );
    b.sign(
        SUD,
        register(SUD, joliette.clone()),
        "venue.already_registered",
        "registering a venue twice",
    );
    b.sign(
        SUD,
        register(SUD, record("lyon", "21690123000019", "69001", "69381")),
        "venue.territory",
        "a venue of a département the author does not hold",
    );
    b.sign(
        SUD,
        register(SUD, record("nulle-part", "21130055300040", "", "")),
        "venue.territory",
        "a record whose département cannot be derived",
    );
    b.sign(
        SUD,
        Body::VenueRegistered(pb::VenueRegistered {
            venue_id: vid(SUD, "vide"),
            record: None,
        }),
        "field.missing",
        "a registration without a record",
    );
    let mut updated = joliette.clone();
    updated.nom = "EPN de la Joliette".into();
    b.sign(
        SUD,
        Body::VenueUpdated(pb::VenueUpdated {
            venue_id: vid(SUD, "joliette"),
            record: Some(updated),
        }),
        APPLIED,
        "a hub updates its venue",
    );
    b.sign(
        SUD,
        Body::VenueUpdated(pb::VenueUpdated {
            venue_id: vid(SUD, "inconnu"),
            record: Some(joliette.clone()),
        }),
        "venue.unknown",
        "updating a venue nobody registered",
    );
    b.sign(
        HINAURA,
        register(HINAURA, record("lyon", "21690123000019", "69001", "69381")),
        APPLIED,
        "the other hub registers its venue",
    );
    b.sign(
        HINAURA,
        Body::VenueUpdated(pb::VenueUpdated {
            venue_id: vid(SUD, "joliette"),
            record: Some(record("lyon", "21690123000019", "69001", "69381")),
        }),
        "venue.not_held",
        "updating another hub's venue",
    );
    let close_ferme = Body::VenueClosed(pb::VenueClosed {
        venue_id: vid(SUD, "ferme"),
        reason: "fermeture définitive".into(),
        ..Default::default()
    });
    b.sign(SUD, close_ferme.clone(), APPLIED, "a hub closes its venue");
    b.sign(SUD, close_ferme, "venue.closed", "closing a closed venue");
    let reopen = |venue: &str, reason: &str| {
        Body::VenueReopened(pb::VenueReopened {
            venue_id: venue.into(),
            reason: reason.into(),
        })
    };
    b.sign(
        SUD,
        reopen(&vid(SUD, "joliette"), "rien"),
        "venue.open",
        "reopening a venue that is open",
    );
    b.sign(
        SUD,
        reopen(&vid(SUD, "ferme"), " "),
        "field.reason",
        "reopening without a reason",
    );
    b.sign(
        HINAURA,
        reopen(&vid(SUD, "ferme"), "reprise"),
        "venue.not_held",
        "reopening another hub's venue",
    );
    b.sign(
        SUD,
        reopen(&vid(SUD, "inconnu"), "reprise"),
        "venue.unknown",
        "reopening an unknown venue",
    );
    b.sign(
        SUD,
        reopen(&vid(SUD, "ferme"), "fin des travaux"),
        APPLIED,
        "a hub reopens its closed venue",
    );
    b.sign(
        SUD,
        Body::VenueClosed(pb::VenueClosed {
            venue_id: vid(SUD, "ferme"),
            reason: "déménagement".into(),
            date: "2026-02-31".into(),
        }),
        "field.date",
        "closing on a day that does not exist",
    );
    b.sign(
        SUD,
        Body::VenueClosed(pb::VenueClosed {
            venue_id: vid(SUD, "ferme"),
            reason: "déménagement".into(),
            date: "2026-02-27".into(),
        }),
        APPLIED,
        "closing again, on a given day",
    );
    b.sign(
        SUD,
        qualify(&vid(SUD, "joliette"), "2027-06-30", &[DEMARCHES, OUTILS]),
        APPLIED,
        "a hub qualifies its venue for two services",
    );
    b.sign(
        SUD,
        qualify(&vid(SUD, "sans-siret"), "2027-06-30", &[]),
        "venue.no_pivot",
        "qualifying a venue whose pivot is all zeros",
    );
    let mut no_scheme = pb::VenueQualified {
        venue_id: vid(SUD, "avignon"),
        scheme: "  ".into(),
        valid_until: "2027-06-30".into(),
        services: vec![],
    };
    b.sign(
        SUD,
        Body::VenueQualified(no_scheme.clone()),
        "qualification.scheme_empty",
        "a qualification without a scheme",
    );
    no_scheme.scheme = "pass-numerique".into();
    no_scheme.valid_until = "2026-+1-+5".into();
    b.sign(
        SUD,
        Body::VenueQualified(no_scheme),
        "field.date",
        "a signed month and day are not a date",
    );
    b.sign(
        SUD,
        qualify(&vid(SUD, "avignon"), "2027-06-30", &["jardinage"]),
        "field.service",
        "a service outside the standard",
    );
    b.sign(
        SUD,
        qualify(&vid(SUD, "ferme"), "2027-06-30", &[]),
        "venue.closed",
        "qualifying a closed venue",
    );
    b.sign(
        HINAURA,
        qualify(&vid(SUD, "joliette"), "2027-06-30", &[]),
        "venue.not_held",
        "qualifying another hub's venue",
    );
    b.sign(
        SUD,
        qualify(&vid(SUD, "inconnu"), "2027-06-30", &[]),
        "venue.unknown",
        "qualifying an unknown venue",
    );
    b.sign(
        SUD,
        qualify(&vid(SUD, "avignon"), "2026-02-28", &[]),
        APPLIED,
        "a qualification for any service",
    );
    let revoke = |venue: &str, reason: &str| {
        Body::VenueQualificationRevoked(pb::VenueQualificationRevoked {
            venue_id: venue.into(),
            reason: reason.into(),
        })
    };
    b.sign(
        SUD,
        revoke(&vid(SUD, "avignon"), " "),
        "field.reason",
        "revoking without a reason",
    );
    b.sign(
        SUD,
        revoke(&vid(SUD, "sans-siret"), "erreur"),
        "qualification.none",
        "revoking a qualification the venue does not have",
    );
    b.sign(
        SUD,
        revoke(&vid(SUD, "avignon"), "convention terminée"),
        APPLIED,
        "revoking a qualification",
    );
    b.finish(
        "venues",
        "Venue registration, update, closing and reopening (§4) and qualification rules.",
        vec![],
        2,
    )
}

fn voucher_rules() -> History {
    let mut b = Builder::new();
    venues(&mut b);
    let sud = Builder::hub(SUD);
    let hinaura = Builder::hub(HINAURA);
    let issue = |b: &mut Builder, batch: pb::VoucherBatchIssued, expect: &str, note: &str| {
        b.sign(SUD, Body::VoucherBatchIssued(batch), expect, note);
    };
    issue(
        &mut b,
        batch("13-2026-CAF-01", 10),
        APPLIED,
        "a batch of ten vouchers for any service, anywhere",
    );
    issue(
        &mut b,
        batch("69-2026-CAF-01", 10),
        "batch.id_invalid",
        "a batch id of another hub's département",
    );
    issue(
        &mut b,
        batch("13-2026-CAF-01", 10),
        "batch.already_issued",
        "issuing a batch twice",
    );
    issue(
        &mut b,
        batch("13-2026-ZERO", 0),
        "field.range",
        "a batch of no vouchers",
    );
    let mut free = batch("13-2026-FREE", 10);
    free.face_value_cents = 0;
    issue(&mut b, free, "field.range", "vouchers worth nothing");
    let mut unfunded = batch("13-2026-ORPHAN", 10);
    unfunded.funder = None;
    issue(
        &mut b,
        unfunded,
        "field.missing",
        "a batch without a funder",
    );
    let mut bad_siret = batch("13-2026-SIRET", 10);
    bad_siret.funder = Some(pb::Funder {
        name: "CAF".into(),
        siret: "1234".into(),
    });
    issue(
        &mut b,
        bad_siret,
        "field.value",
        "a funder SIRET of four digits",
    );
    let mut bad_day = batch("13-2026-DAY", 10);
    bad_day.valid_from = "2026-1-1".into();
    issue(
        &mut b,
        bad_day,
        "field.date",
        "a day without its leading zeros",
    );
    let mut backwards = batch("13-2026-BACK", 10);
    backwards.valid_from = "2026-12-31".into();
    backwards.valid_until = "2026-01-01".into();
    issue(
        &mut b,
        backwards,
        "batch.dates_order",
        "valid until before valid from",
    );
    let mut odd_service = batch("13-2026-SERV", 10);
    odd_service.eligible_services = strings(&["jardinage"]);
    issue(
        &mut b,
        odd_service,
        "field.service",
        "a service outside the standard",
    );
    let mut odd_place = batch("13-2026-PLACE", 10);
    odd_place.territories = strings(&["999"]);
    issue(
        &mut b,
        odd_place,
        "field.value",
        "a territory that is not a département code",
    );
    let mut ville = batch("13-2026-VILLE-01", 5);
    ville.eligible_services = strings(&[DEMARCHES]);
    ville.territories = strings(&["13"]);
    ville.valid_from = "2026-03-10".into();
    ville.valid_until = "2026-06-30".into();
    ville.redeem_deadline = "2026-07-31".into();
    issue(
        &mut b,
        ville,
        APPLIED,
        "a batch for one service in one département, from 10 March",
    );

    let p1 = person(1);
    let hand =
        |b: &mut Builder, who: &'static str, h: pb::VouchersHandedOut, expect: &str, note: &str| {
            b.sign(who, Body::VouchersHandedOut(h), expect, note);
        };
    hand(
        &mut b,
        SUD,
        hand_out(
            &["13-2026-CAF-01-1", "13-2026-CAF-01-2", "13-2026-CAF-01-3"],
            p1,
            "2026-03-02",
        ),
        APPLIED,
        "a carnet of three vouchers",
    );
    hand(
        &mut b,
        SUD,
        hand_out(&["13-2026-CAF-01-1"], p1, "2026-03-02"),
        "voucher.not_issued",
        "handing out a voucher twice",
    );
    hand(
        &mut b,
        SUD,
        hand_out(&["13-2026-CAF-01-11"], p1, "2026-03-02"),
        "voucher.serial_invalid",
        "a number beyond the batch",
    );
    hand(
        &mut b,
        SUD,
        hand_out(&["13-2026-CAF-01-04"], p1, "2026-03-02"),
        "voucher.serial_invalid",
        "a number with a leading zero",
    );
    hand(
        &mut b,
        SUD,
        hand_out(&["CAF01"], p1, "2026-03-02"),
        "voucher.serial_invalid",
        "a serial without a number",
    );
    hand(
        &mut b,
        SUD,
        hand_out(&["13-2026-NOPE-1"], p1, "2026-03-02"),
        "voucher.batch_unknown",
        "a batch nobody issued",
    );
    hand(
        &mut b,
        SUD,
        hand_out(&[], p1, "2026-03-02"),
        "field.range",
        "no serial",
    );
    hand(
        &mut b,
        SUD,
        hand_out(&["13-2026-CAF-01-4", "13-2026-CAF-01-4"], p1, "2026-03-02"),
        "serials.repeated",
        "one serial twice",
    );
    let mut faceless = hand_out(&["13-2026-CAF-01-4"], p1, "2026-03-02");
    faceless.personal = vec![1, 2, 3];
    hand(
        &mut b,
        SUD,
        faceless,
        "field.person",
        "a commitment to a personal part of three bytes",
    );
    let mut nobody = hand_out(&["13-2026-CAF-01-4"], p1, "2026-03-02");
    nobody.prescriber = None;
    hand(&mut b, SUD, nobody, "field.missing", "no prescriber");
    let mut lowercase = hand_out(&["13-2026-CAF-01-4"], p1, "2026-03-02");
    lowercase.prescriber = Some(pb::Prescriber {
        kind: "caf".into(),
        name: "CAF".into(),
    });
    hand(
        &mut b,
        SUD,
        lowercase,
        "field.prescriber_kind",
        "a prescriber kind in lower case",
    );
    let mut anonymous = hand_out(&["13-2026-CAF-01-4"], p1, "2026-03-02");
    anonymous.prescriber = Some(pb::Prescriber {
        kind: "CAF".into(),
        name: " ".into(),
    });
    hand(
        &mut b,
        SUD,
        anonymous,
        "field.prescriber_name",
        "a blank desk name",
    );
    hand(
        &mut b,
        SUD,
        hand_out(&["13-2026-CAF-01-4"], p1, "2027-01-15"),
        "voucher.expired",
        "handing out after the batch's last valid day",
    );
    hand(
        &mut b,
        HINAURA,
        hand_out(&["13-2026-CAF-01-5"], p1, "2026-03-02"),
        "voucher.not_owner",
        "handing out another hub's voucher",
    );
    hand(
        &mut b,
        SUD,
        hand_out(
            &["13-2026-CAF-01-4", "13-2026-CAF-01-5", "13-2026-CAF-01-6"],
            p1,
            "2026-03-02",
        ),
        APPLIED,
        "three more",
    );
    hand(
        &mut b,
        SUD,
        hand_out(
            &["13-2026-VILLE-01-1", "13-2026-VILLE-01-2"],
            person(2),
            "2026-03-02",
        ),
        APPLIED,
        "a carnet of the town's batch",
    );

    let joliette = vid(SUD, "joliette");
    let lyon = vid(HINAURA, "lyon");
    let use_ =
        |b: &mut Builder, who: &'static str, r: pb::VoucherRedeemed, expect: &str, note: &str| {
            b.sign(who, Body::VoucherRedeemed(r), expect, note);
        };
    use_(
        &mut b,
        SUD,
        redeem("13-2026-CAF-01-1", &joliette, DEMARCHES, "2026-03-05"),
        APPLIED,
        "a redemption",
    );
    use_(
        &mut b,
        SUD,
        redeem("13-2026-CAF-01-1", &joliette, DEMARCHES, "2026-03-06"),
        "voucher.already_redeemed",
        "a second redemption",
    );
    use_(
        &mut b,
        SUD,
        redeem("13-2026-CAF-01-7", &joliette, DEMARCHES, "2026-03-05"),
        "voucher.not_handed_out",
        "redeeming a voucher nobody holds",
    );
    use_(
        &mut b,
        SUD,
        redeem("13-2026-CAF-01-2", &joliette, "jardinage", "2026-03-05"),
        "field.service",
        "a service outside the standard",
    );
    use_(
        &mut b,
        SUD,
        redeem("13-2026-CAF-01-2", &joliette, DEMARCHES, "05/03/2026"),
        "field.date",
        "a French-style date",
    );
    use_(
        &mut b,
        SUD,
        redeem("13-2026-VILLE-01-1", &joliette, OUTILS, "2026-03-15"),
        "voucher.service_not_eligible",
        "a service the batch does not fund",
    );
    use_(
        &mut b,
        SUD,
        redeem("13-2026-VILLE-01-1", &joliette, DEMARCHES, "2026-03-05"),
        "voucher.not_yet_valid",
        "before the batch's first day",
    );
    use_(
        &mut b,
        SUD,
        redeem("13-2026-CAF-01-2", &joliette, DEMARCHES, "2027-02-15"),
        "voucher.deadline_passed",
        "after the redeem deadline",
    );
    use_(
        &mut b,
        SUD,
        redeem(
            "13-2026-CAF-01-2",
            &vid(SUD, "sans-siret"),
            DEMARCHES,
            "2026-03-05",
        ),
        "venue.not_qualified",
        "at a venue never qualified",
    );
    use_(
        &mut b,
        SUD,
        redeem(
            "13-2026-CAF-01-2",
            &vid(SUD, "avignon"),
            DEMARCHES,
            "2026-03-05",
        ),
        "venue.qualification_expired",
        "at a venue whose qualification ended",
    );
    use_(
        &mut b,
        SUD,
        redeem("13-2026-CAF-01-2", &joliette, LOISIRS, "2026-03-05"),
        "venue.service_not_qualified",
        "a service the venue is not qualified for",
    );
    use_(
        &mut b,
        SUD,
        redeem("13-2026-VILLE-01-1", &lyon, DEMARCHES, "2026-03-15"),
        "voucher.territory",
        "a town's voucher outside its département",
    );
    use_(
        &mut b,
        SUD,
        redeem(
            "13-2026-CAF-01-2",
            &vid(SUD, "inconnu"),
            DEMARCHES,
            "2026-03-05",
        ),
        "venue.unknown",
        "at an unknown venue",
    );
    use_(
        &mut b,
        SUD,
        redeem(
            "13-2026-CAF-01-2",
            &vid(SUD, "ferme"),
            DEMARCHES,
            "2026-03-05",
        ),
        "venue.closed",
        "at a closed venue",
    );
    use_(
        &mut b,
        HINAURA,
        redeem("13-2026-CAF-01-2", &lyon, DEMARCHES, "2026-03-05"),
        "voucher.not_owner",
        "redeeming another hub's voucher",
    );

    b.sign(
        SUD,
        transfer(&["13-2026-CAF-01-2"], &hinaura.0),
        APPLIED,
        "the owner transfers a voucher for an online redemption",
    );
    b.sign(
        SUD,
        transfer(&["13-2026-CAF-01-2"], &hinaura.0),
        "voucher.not_owner",
        "transferring a voucher one no longer owns",
    );
    use_(
        &mut b,
        HINAURA,
        redeem("13-2026-CAF-01-2", &lyon, DEMARCHES, "2026-03-20"),
        APPLIED,
        "the receiver redeems it",
    );
    b.sign(
        SUD,
        transfer(&["13-2026-CAF-01-1"], &hinaura.0),
        "voucher.not_transferable",
        "transferring a redeemed voucher",
    );
    b.sign(
        SUD,
        transfer(&["13-2026-CAF-01-3"], &sud.0),
        "voucher.transfer_target",
        "a transfer to oneself",
    );
    b.sign(
        SUD,
        transfer(&["13-2026-CAF-01-3"], &Builder::hub(ANCT).0),
        "voucher.transfer_target",
        "a transfer to an observer",
    );
    b.sign(
        SUD,
        transfer(&["13-2026-CAF-01-3"], &[7; 3]),
        "field.hub",
        "a key of three bytes",
    );

    b.sign(
        SUD,
        cancel(&["13-2026-CAF-01-7"], "carnet perdu"),
        APPLIED,
        "a cancellation",
    );
    b.sign(
        SUD,
        cancel(&["13-2026-CAF-01-7"], "carnet perdu"),
        "voucher.not_cancellable",
        "cancelling twice",
    );
    b.sign(
        SUD,
        cancel(&["13-2026-CAF-01-8"], " "),
        "field.reason",
        "cancelling without a reason",
    );

    b.sign(
        SUD,
        settle(&joliette, &["13-2026-CAF-01-1"], 1000),
        APPLIED,
        "the issuer pays the venue",
    );
    b.sign(
        SUD,
        settle(&joliette, &["13-2026-CAF-01-1"], 1000),
        "settlement.already_settled",
        "paying twice",
    );
    b.sign(
        SUD,
        settle(&lyon, &["13-2026-CAF-01-2"], 1000),
        APPLIED,
        "the issuer pays another hub's venue",
    );
    b.sign(
        HINAURA,
        settle(&lyon, &["13-2026-CAF-01-2"], 1000),
        "settlement.not_issuer",
        "paying for a batch one did not issue",
    );
    b.sign(
        SUD,
        settle(&joliette, &["13-2026-CAF-01-3"], 1000),
        "settlement.not_redeemed",
        "paying for a voucher not redeemed",
    );
    b.sign(
        SUD,
        settle(&vid(SUD, "avignon"), &["13-2026-CAF-01-1"], 1000),
        "settlement.other_venue",
        "paying a venue that did not redeem it",
    );
    use_(
        &mut b,
        SUD,
        redeem("13-2026-CAF-01-3", &joliette, OUTILS, "2026-03-21"),
        APPLIED,
        "another redemption",
    );
    b.sign(
        SUD,
        settle(&joliette, &["13-2026-CAF-01-3"], 999),
        "settlement.amount",
        "an amount that is not the face value",
    );
    b.finish(
        "vouchers",
        "Batches, hand-outs, redemptions, transfers, cancellations and settlements (§4b).",
        vec![],
        2,
    )
}

fn claim_rules() -> History {
    let mut b = Builder::new();
    venues(&mut b);
    b.sign(
        SUD,
        Body::VoucherBatchIssued(batch("13-2026-CAF-01", 10)),
        APPLIED,
        "setup",
    );
    let serials = [
        "13-2026-CAF-01-1",
        "13-2026-CAF-01-2",
        "13-2026-CAF-01-3",
        "13-2026-CAF-01-4",
    ];
    b.sign(
        SUD,
        Body::VouchersHandedOut(hand_out(&serials, person(1), "2026-03-02")),
        APPLIED,
        "setup",
    );
    let joliette = vid(SUD, "joliette");
    let lyon = vid(HINAURA, "lyon");
    let c1 = b.sign(
        HINAURA,
        claim("13-2026-CAF-01-1", &lyon, "2026-03-10"),
        APPLIED,
        "a hub claims a voucher its owner could not be asked for",
    );
    b.sign(
        SUD,
        claim("13-2026-CAF-01-2", &joliette, "2026-03-10"),
        "voucher.owner_claims",
        "the owner claims its own voucher",
    );
    b.sign(
        HINAURA,
        claim("13-2026-CAF-01-2", &joliette, "2026-03-10"),
        "venue.not_held",
        "a claim at another hub's venue",
    );
    let mut answer = redeem("13-2026-CAF-01-1", &lyon, DEMARCHES, "2026-03-10");
    answer.claim = wire(&c1);
    b.sign(
        SUD,
        Body::VoucherRedeemed(answer),
        APPLIED,
        "the owner accepts the claim: it redeems as claimed",
    );
    b.sign(
        SUD,
        reject_claim(wire(&c1), "déjà utilisé"),
        "claim.answered",
        "answering a claim twice",
    );
    let c2 = b.sign(
        HINAURA,
        claim("13-2026-CAF-01-3", &lyon, "2026-03-11"),
        APPLIED,
        "another claim",
    );
    let mut other_terms = redeem("13-2026-CAF-01-3", &lyon, DEMARCHES, "2026-03-12");
    other_terms.claim = wire(&c2);
    b.sign(
        SUD,
        Body::VoucherRedeemed(other_terms),
        "claim.terms_differ",
        "accepting a claim with another date",
    );
    let mut wrong_voucher = redeem("13-2026-CAF-01-4", &lyon, DEMARCHES, "2026-03-11");
    wrong_voucher.claim = wire(&c2);
    b.sign(
        SUD,
        Body::VoucherRedeemed(wrong_voucher),
        "claim.other_voucher",
        "answering a claim on another voucher",
    );
    b.sign(
        SUD,
        reject_claim(wire(&c2), ""),
        "field.reason",
        "rejecting a claim without a reason",
    );
    b.sign(
        SUD,
        reject_claim(wire(&c2), "utilisé au guichet le 9 mars"),
        APPLIED,
        "rejecting a claim",
    );
    let not_a_claim = b.cases[0].0.clone();
    b.sign(
        SUD,
        reject_claim(wire(&not_a_claim), "?"),
        "claim.unknown",
        "answering an event that is not a claim",
    );
    let c3 = b.sign(
        HINAURA,
        claim("13-2026-CAF-01-4", &lyon, "2026-03-12"),
        APPLIED,
        "a third claim",
    );
    b.sign_with(
        SUD,
        reject_claim(wire(&c3), "?"),
        vec![],
        "claim.not_in_past",
        "answering a claim one has not seen",
    );
    let mut short = wire(&c3).unwrap();
    short.author = vec![1; 5];
    b.sign(
        SUD,
        reject_claim(Some(short), "?"),
        "field.event_ref",
        "a claim reference with a five-byte author",
    );
    b.sign(
        SUD,
        reject_claim(None, "?"),
        "field.missing",
        "a rejection that names no claim",
    );
    b.finish(
        "claims",
        "Claims while the owner is unreachable, and the owner's answers (§4b).",
        vec![],
        2,
    )
}

fn referral_rules() -> History {
    let mut b = Builder::new();
    venues(&mut b);
    let p1 = person(1);
    let joliette = vid(SUD, "joliette");
    let lyon = vid(HINAURA, "lyon");
    let opening = |b: &mut Builder, o: pb::ReferralOpened, expect: &str, note: &str| {
        b.sign(SUD, Body::ReferralOpened(o), expect, note);
    };
    opening(
        &mut b,
        open("13-R1", p1, &lyon, ""),
        APPLIED,
        "a desk in Marseille refers a person to a venue in Lyon",
    );
    opening(
        &mut b,
        open("69-R2", p1, &lyon, ""),
        "referral.id_invalid",
        "an id of another hub's département",
    );
    opening(
        &mut b,
        open("13-R1", p1, &lyon, ""),
        "referral.exists",
        "opening a referral twice",
    );
    let mut backwards = open("13-R3", p1, &lyon, "");
    backwards.expires_on = "2026-03-01".into();
    opening(
        &mut b,
        backwards,
        "referral.expiry_before_opening",
        "expiring before it opens",
    );
    opening(
        &mut b,
        open("13-R4", p1, "", "29"),
        "territory.no_holder",
        "a département no hub holds",
    );
    opening(
        &mut b,
        open("13-R5", p1, &vid(HINAURA, "inconnu"), ""),
        "venue.unknown",
        "an unknown venue",
    );
    let mut odd_need = open("13-R6", p1, &lyon, "");
    odd_need.needs = strings(&["jardinage"]);
    opening(
        &mut b,
        odd_need,
        "field.service",
        "a need outside the standard",
    );
    b.sign(
        HINAURA,
        accept("13-R1", &lyon, "2026-03-05"),
        APPLIED,
        "the handling hub accepts",
    );
    b.sign(
        SUD,
        accept("13-R1", &joliette, "2026-03-05"),
        "referral.not_handler",
        "accepting a referral another hub handles",
    );
    b.sign(
        HINAURA,
        accept("13-R1", &lyon, "2026-03-06"),
        "referral.not_open",
        "accepting twice",
    );
    let mut short = open("13-R7", p1, &lyon, "");
    short.expires_on = "2026-03-10".into();
    opening(&mut b, short, APPLIED, "a referral for ten days");
    b.sign(
        HINAURA,
        accept("13-R7", &lyon, "2026-03-20"),
        "referral.expired",
        "accepting after its expiry",
    );
    b.sign(
        HINAURA,
        decline("13-R7", ""),
        "field.reason",
        "declining without a reason",
    );
    b.sign(
        HINAURA,
        decline("13-R7", "pas de créneau"),
        APPLIED,
        "declining",
    );
    b.sign(
        HINAURA,
        close("13-R7", "completed", ""),
        "referral.not_closable",
        "closing a declined referral",
    );
    opening(
        &mut b,
        open("13-R8", p1, "", "69"),
        APPLIED,
        "a referral to a département",
    );
    b.sign(
        HINAURA,
        Body::ReferralForwarded(pb::ReferralForwarded {
            referral_id: "13-R8".into(),
            to_venue_id: joliette.clone(),
        }),
        APPLIED,
        "forwarded to a venue of the other hub, which now handles it",
    );
    b.sign(
        SUD,
        close("13-R8", "done", ""),
        "field.value",
        "an outcome outside the list",
    );
    b.sign(
        SUD,
        close("13-R8", "completed", "mostly"),
        "field.value",
        "an autonomy outside the list",
    );
    b.sign(
        SUD,
        close("13-R8", "completed", "autonomous"),
        APPLIED,
        "closing with an outcome and the person's autonomy",
    );
    b.sign(
        HINAURA,
        accept("13-R99", &lyon, "2026-03-05"),
        "referral.unknown",
        "accepting a referral nobody opened",
    );
    b.sign(
        HINAURA,
        close("13-R1", "no_show", ""),
        APPLIED,
        "closing an accepted referral",
    );
    b.finish(
        "referrals",
        "Referrals: opening, acceptance, decline, forward, closing (§4b).",
        vec![],
        2,
    )
}

fn people_rules() -> History {
    let mut b = Builder::new();
    venues(&mut b);
    let p1 = person(1);
    let joliette = vid(SUD, "joliette");
    let opened = b
        .sign(
            SUD,
            Body::ReferralOpened(open("13-R1", p1, &joliette, "")),
            APPLIED,
            "setup",
        )
        .id;
    let accompanied = b
        .sign(
            SUD,
            accompaniment(&p1.0, &joliette, "13-R1", 45, "individual"),
            APPLIED,
            "an accompaniment",
        )
        .id;
    b.sign(
        SUD,
        accompaniment(&p1.0, &joliette, "", 45, "solo"),
        "field.value",
        "a mode outside the list",
    );
    b.sign(
        SUD,
        accompaniment(&p1.0, &joliette, "", 0, "collective"),
        "field.range",
        "no minutes",
    );
    b.sign(
        SUD,
        accompaniment(&p1.0, &joliette, "13-NOPE", 30, "remote"),
        "referral.unknown",
        "an unknown referral",
    );
    b.sign(
        HINAURA,
        accompaniment(&p1.0, &joliette, "", 30, "remote"),
        "venue.not_held",
        "at another hub's venue",
    );
    b.sign(
        SUD,
        accompaniment(&[], &joliette, "", 30, "remote"),
        "field.person",
        "no commitment to a personal part",
    );
    b.sign(
        SUD,
        Body::PersonForgotten(pb::PersonForgotten { events: vec![] }),
        "field.person",
        "an erasure naming no event",
    );
    b.sign(
        SUD,
        Body::PersonForgotten(pb::PersonForgotten {
            events: vec![opened.0.to_vec(), opened.0.to_vec()],
        }),
        "field.person",
        "an erasure naming one event twice",
    );
    b.sign(
        SUD,
        Body::PersonForgotten(pb::PersonForgotten {
            events: vec![opened.0.to_vec(), accompanied.0.to_vec()],
        }),
        APPLIED,
        "the person asks to be forgotten: the erasure names the events, never the person",
    );
    b.sign(
        SUD,
        accompaniment(&p1.0, &joliette, "", 30, "remote"),
        APPLIED,
        "a later accompaniment (kept out of the views)",
    );
    b.finish(
        "people",
        "Accompaniments and the right to erasure (§4b).",
        vec![],
        2,
    )
}

fn concurrency() -> History {
    let mut b = Builder::new();
    venues(&mut b);
    b.sign(
        SUD,
        Body::VoucherBatchIssued(batch("13-2026-CAF-01", 10)),
        APPLIED,
        "setup",
    );
    b.sign(
        SUD,
        Body::VouchersHandedOut(hand_out(
            &["13-2026-CAF-01-1", "13-2026-CAF-01-2"],
            person(1),
            "2026-03-02",
        )),
        APPLIED,
        "setup",
    );
    let lyon = vid(HINAURA, "lyon");
    let joliette = vid(SUD, "joliette");
    // Two branches that have not seen each other: Hinaura claims voucher 1 while Hub du Sud
    // redeems it at its own venue.
    let hinaura_deps = b.ledger.next_deps(&Builder::hub(HINAURA));
    let sud_deps = b.ledger.next_deps(&Builder::hub(SUD));
    let c1 = b.sign_with(
        HINAURA,
        claim("13-2026-CAF-01-1", &lyon, "2026-03-10"),
        hinaura_deps,
        APPLIED,
        "a claim, concurrent with the owner's redemption",
    );
    b.sign_with(
        SUD,
        Body::VoucherRedeemed(redeem(
            "13-2026-CAF-01-1",
            &joliette,
            DEMARCHES,
            "2026-03-10",
        )),
        sud_deps,
        APPLIED,
        "the owner redeems, not knowing of the claim",
    );
    let mut late = redeem("13-2026-CAF-01-1", &lyon, DEMARCHES, "2026-03-10");
    late.claim = wire(&c1);
    b.sign(
        SUD,
        Body::VoucherRedeemed(late),
        "voucher.already_redeemed",
        "accepting the claim once both branches meet",
    );
    b.sign(
        SUD,
        reject_claim(wire(&c1), "déjà utilisé à la Joliette"),
        APPLIED,
        "so the owner rejects it",
    );
    // A fork: Hinaura signs two different events at one position; the store keeps the first
    // branch up to the fork, and Hub du Sud's event naming the second counts as naming the
    // last valid one.
    b.sign(
        HINAURA,
        register(
            HINAURA,
            record("annecy", "21740010000018", "74000", "74010"),
        ),
        APPLIED,
        "before the fork",
    );
    let writer = b.writers.get_mut(HINAURA).unwrap();
    let head = writer.head();
    let fork_seq = head.map_or(1, |h| h.seq + 1);
    let deps = b.ledger.next_deps(&Builder::hub(HINAURA));
    let first = writer
        .next(
            register(HINAURA, record("a", "21740010000026", "74000", "74010")),
            deps.clone(),
            b.wall_ms + 1,
        )
        .unwrap();
    writer.rewind(head);
    let second = writer
        .next(
            register(HINAURA, record("b", "21740010000034", "74000", "74010")),
            deps,
            b.wall_ms + 2,
        )
        .unwrap();
    b.record(first, NOT_APPLIED, "one side of a fork");
    b.record(second.clone(), NOT_APPLIED, "the other side");
    let mut deps = b.ledger.next_deps(&Builder::hub(SUD));
    deps.retain(|d| d.author != second.author);
    deps.push(second.as_ref());
    deps.sort_by_key(|d| d.author);
    b.ledger.freeze(second.author, fork_seq - 1);
    b.sign_with(
        SUD,
        Body::VoucherRedeemed(redeem(
            "13-2026-CAF-01-2",
            &joliette,
            DEMARCHES,
            "2026-03-12",
        )),
        deps,
        APPLIED,
        "an event naming the forked position",
    );
    let frozen = vec![(second.author, fork_seq - 1)];
    b.finish(
        "concurrency",
        "Concurrent branches that meet, and a fork: the same verdicts and digest in every order.",
        frozen,
        6,
    )
}

fn propose(number: u32, change: pb::amendment_proposed::Change, reason: &str) -> Body {
    Body::AmendmentProposed(pb::AmendmentProposed {
        number,
        change: Some(change),
        reason: reason.into(),
    })
}

fn endorse(proposal: &VerifiedEvent) -> Body {
    Body::AmendmentEndorsed(pb::AmendmentEndorsed {
        proposal: wire(proposal),
    })
}

fn admit(name: &str, role: pb::Role, territories: &[&str]) -> pb::amendment_proposed::Change {
    pb::amendment_proposed::Change::Admit(pb::MemberAdmitted {
        key: Builder::hub(name).0.to_vec(),
        name: name.into(),
        role: role as i32,
        territories: strings(territories),
    })
}

fn amendment_rules() -> History {
    use pb::amendment_proposed::Change as C;
    const OUEST: &str = "hub-ouest";
    const HINAURA_2: &str = "hinaura-2";
    let mut b = Builder::new();
    b.add_signer(OUEST);
    b.add_signer(HINAURA_2);
    venues(&mut b);
    let (sud, hinaura, ouest) = (
        Builder::hub(SUD),
        Builder::hub(HINAURA),
        Builder::hub(OUEST),
    );
    let threshold = |t: u32| C::Threshold(pb::ThresholdChanged { threshold: t });
    b.sign(
        SUD,
        propose(1, threshold(2), "deux hubs pour chaque changement"),
        APPLIED,
        "threshold 1: a proposal alone is in effect",
    );
    b.sign(
        SUD,
        propose(1, threshold(2), "encore"),
        "amendment.number",
        "a proposal for an amendment already in effect",
    );
    b.sign(
        SUD,
        propose(2, threshold(3), "trop"),
        "amendment.threshold",
        "a threshold above the number of hubs",
    );
    b.sign(
        SUD,
        propose(
            2,
            C::Threshold(pb::ThresholdChanged { threshold: 0 }),
            "aucun",
        ),
        "amendment.threshold",
        "a threshold of zero",
    );
    b.sign(
        SUD,
        propose(2, admit(OUEST, pb::Role::Hub, &["29", "35"]), " "),
        "field.reason",
        "an amendment without a reason",
    );
    b.sign(
        SUD,
        propose(2, admit(SUD, pb::Role::Hub, &["29"]), "doublon"),
        "amendment.key_known",
        "admitting a key the federation knows",
    );
    let mut small = admit(OUEST, pb::Role::Hub, &["29"]);
    if let C::Admit(m) = &mut small {
        m.key = vec![0; 32];
    }
    b.sign(
        SUD,
        propose(2, small, "clé invalide"),
        "amendment.bad_key",
        "admitting a key of small order",
    );
    let mut nameless = admit(OUEST, pb::Role::Hub, &["29"]);
    if let C::Admit(m) = &mut nameless {
        m.name = " ".into();
    }
    b.sign(
        SUD,
        propose(2, nameless, "sans nom"),
        "amendment.bad_name",
        "a member without a name",
    );
    b.sign(
        SUD,
        propose(2, admit(OUEST, pb::Role::Observer, &["29"]), "observateur"),
        "amendment.observer_territories",
        "an observer holding a territory",
    );
    b.sign(
        SUD,
        propose(2, admit(OUEST, pb::Role::Hub, &["13"]), "chevauchement"),
        "amendment.territory_held",
        "admitting a hub for a département another holds",
    );
    b.sign(
        SUD,
        Body::AmendmentProposed(pb::AmendmentProposed {
            number: 2,
            change: None,
            reason: "vide".into(),
        }),
        "field.missing",
        "a proposal changing nothing",
    );
    let early = b.sign_pending(
        OUEST,
        register(OUEST, record("quimper", "21290232000018", "29000", "29232")),
        "member.not_current",
        "a key signs before its admission: verified once admitted, its past lacks the admission",
    );
    let admission = b.sign(
        SUD,
        propose(
            2,
            admit(OUEST, pb::Role::Hub, &["29", "35"]),
            "nouveau hub en Bretagne",
        ),
        APPLIED,
        "admitting a hub: one endorsement of two",
    );
    b.sign(
        SUD,
        endorse(&admission),
        "amendment.endorsed",
        "the proposer endorses its own proposal again",
    );
    b.sign(
        SUD,
        endorse(&b.cases[0].0.clone()),
        "amendment.unknown",
        "endorsing an event that is not a proposal",
    );
    b.sign(
        HINAURA,
        endorse(&admission),
        APPLIED,
        "the second endorsement: the hub is admitted",
    );
    b.sign(
        HINAURA,
        endorse(&admission),
        "amendment.superseded",
        "endorsing an amendment already in effect",
    );
    let _ = early;
    b.sign(
        OUEST,
        Body::VoucherBatchIssued(batch("29-2026-CAF-01", 5)),
        APPLIED,
        "the admitted hub issues a batch of its département",
    );
    // Départements move from one hub to another.
    let moving = b.sign(
        SUD,
        propose(
            3,
            C::MoveTerritories(pb::TerritoriesMoved {
                from: hinaura.0.to_vec(),
                to: ouest.0.to_vec(),
                territories: strings(&["74"]),
            }),
            "la Haute-Savoie change de hub",
        ),
        APPLIED,
        "moving a département",
    );
    b.sign(OUEST, endorse(&moving), APPLIED, "moved");
    b.sign(
        OUEST,
        register(OUEST, record("annecy", "21740010000018", "74000", "74010")),
        APPLIED,
        "the new holder registers a venue there",
    );
    b.sign(
        HINAURA,
        register(
            HINAURA,
            record("thonon", "21740281000017", "74200", "74281"),
        ),
        "venue.territory",
        "the former holder no longer can",
    );
    b.sign(
        SUD,
        propose(
            4,
            C::MoveTerritories(pb::TerritoriesMoved {
                from: hinaura.0.to_vec(),
                to: ouest.0.to_vec(),
                territories: strings(&["13"]),
            }),
            "pas à lui",
        ),
        "amendment.territory_not_held",
        "moving a département the hub does not hold",
    );
    b.sign(
        SUD,
        propose(
            4,
            C::MoveTerritories(pb::TerritoriesMoved {
                from: hinaura.0.to_vec(),
                to: ouest.0.to_vec(),
                territories: vec![],
            }),
            "rien",
        ),
        "amendment.no_territory",
        "moving nothing",
    );
    b.sign(
        SUD,
        propose(
            4,
            C::MoveTerritories(pb::TerritoriesMoved {
                from: hinaura.0.to_vec(),
                to: Builder::hub(ANCT).0.to_vec(),
                territories: strings(&["69"]),
            }),
            "à l'observateur",
        ),
        "amendment.not_hub",
        "moving a département to an observer",
    );
    b.sign(
        SUD,
        propose(
            4,
            C::Remove(pb::MemberRemoved {
                member: Builder::hub("nobody").0.to_vec(),
                last_seq: 1,
            }),
            "inconnu",
        ),
        "amendment.unknown_member",
        "removing a key nobody holds",
    );
    // Hub du Sud hands a voucher to Hinaura, which rotates its key and still redeems it.
    b.sign(
        SUD,
        Body::VoucherBatchIssued(batch("13-2026-CAF-01", 5)),
        APPLIED,
        "a batch",
    );
    b.sign(
        SUD,
        Body::VouchersHandedOut(hand_out(&["13-2026-CAF-01-1"], person(1), "2026-03-02")),
        APPLIED,
        "a carnet",
    );
    b.sign(
        SUD,
        transfer(&["13-2026-CAF-01-1"], &hinaura.0),
        APPLIED,
        "the voucher moves to Hinaura",
    );
    let last = b.next_seq(HINAURA);
    let rotation = b.sign(
        HINAURA,
        propose(
            4,
            C::Succession(pb::MemberSucceeded {
                member: hinaura.0.to_vec(),
                last_seq: last,
                successor: Builder::hub(HINAURA_2).0.to_vec(),
                branch: vec![],
            }),
            "rotation annuelle de la clé",
        ),
        APPLIED,
        "a hub proposes to rotate its key, this proposal being its last event",
    );
    b.sign(
        SUD,
        endorse(&rotation),
        APPLIED,
        "the rotation is endorsed: the new key acts for Hinaura",
    );
    b.sign(
        HINAURA,
        register(
            HINAURA,
            record("vienne", "21380544000011", "38200", "38544"),
        ),
        NOT_APPLIED,
        "the old key signs again: past its last seq, it never counts",
    );
    b.sign(
        HINAURA_2,
        Body::VoucherRedeemed(redeem(
            "13-2026-CAF-01-1",
            &vid(HINAURA, "lyon"),
            DEMARCHES,
            "2026-03-20",
        )),
        APPLIED,
        "the successor redeems the voucher Hinaura owned, at Hinaura's venue",
    );
    b.sign(
        HINAURA_2,
        register(
            HINAURA_2,
            record("villeurbanne", "21690266800013", "69100", "69266"),
        ),
        APPLIED,
        "and registers a venue of Hinaura's département",
    );
    // A hub leaves.
    let last = b.next_seq(OUEST) - 1;
    let removal = b.sign(
        SUD,
        propose(
            5,
            C::Remove(pb::MemberRemoved {
                member: ouest.0.to_vec(),
                last_seq: last,
            }),
            "fin du financement",
        ),
        APPLIED,
        "removing a hub",
    );
    b.sign(HINAURA_2, endorse(&removal), APPLIED, "removed");
    b.sign(
        OUEST,
        register(OUEST, record("rennes", "21350238000014", "35000", "35238")),
        NOT_APPLIED,
        "the removed hub's later events never count",
    );
    // The federation moves to the next protocol version (§0).
    let hinaura_2 = Builder::hub(HINAURA_2);
    let switch = |at: &[(HubId, u64)]| {
        at.iter()
            .map(|(k, from)| pb::VersionSwitch {
                member: k.0.to_vec(),
                from_seq: *from,
            })
            .collect::<Vec<_>>()
    };
    let protocol = |version: u32, at: &[(HubId, u64)]| {
        C::Protocol(pb::ProtocolChanged {
            version,
            switches: switch(at),
        })
    };
    let (sud_from, hinaura_from) = (b.next_seq(SUD) + 3, b.next_seq(HINAURA_2) + 2);
    b.sign(
        SUD,
        propose(
            6,
            protocol(4, &[(sud, sud_from), (hinaura_2, hinaura_from)]),
            "trop loin",
        ),
        "amendment.protocol_version",
        "a protocol change skipping a version",
    );
    b.sign(
        SUD,
        propose(6, protocol(3, &[(sud, sud_from)]), "il manque un hub"),
        "amendment.protocol_switch",
        "a protocol change that does not name every present hub",
    );
    b.sign(
        SUD,
        propose(
            6,
            protocol(
                3,
                &[(sud, sud_from), (ouest, 99), (hinaura_2, hinaura_from)],
            ),
            "un hub retiré",
        ),
        "amendment.protocol_switch",
        "a protocol change naming a removed hub",
    );
    // Sud's feed switches two events from now: this proposal and the next event are v2.
    let (sud_from, hinaura_from) = (b.next_seq(SUD) + 2, b.next_seq(HINAURA_2) + 2);
    let change = b.sign(
        SUD,
        propose(
            6,
            protocol(3, &[(sud, sud_from), (hinaura_2, hinaura_from)]),
            "passage à la version 3 du protocole",
        ),
        APPLIED,
        "moving to protocol v3, each hub from a seq of its feed",
    );
    b.sign(HINAURA_2, endorse(&change), APPLIED, "in effect");
    b.sign(
        SUD,
        register(SUD, record("arles", "21130004400019", "13200", "13004")),
        APPLIED,
        "before its switch, a hub's events stay v2",
    );
    b.sign(
        SUD,
        register(SUD, record("aubagne", "21130005100016", "13400", "13005")),
        "event.version",
        "from its switch on, a v2 event of a hub whose past holds the change never counts",
    );
    let _ = sud;
    b.finish(
        "amendments",
        "Charter amendments (§1b): threshold, admission, moved territories, a key rotation, a removal, a protocol change (§0).",
        vec![],
        4,
    )
}

/// A key admitted and, in the same delivery, a transfer to it: delivered in reverse, the
/// transfer waits for the proposal that admits its target, the proposal for the batch, and
/// all three are applied in one go when the batch comes. The transfer's verdict is the one it
/// gets delivered in order (its past holds the admission): a node must not refuse it because
/// the admitted key joined its index only after the whole run of ready events.
fn admission_then_transfer() -> History {
    const OUEST: &str = "hub-ouest";
    let mut b = Builder::new();
    b.add_signer(OUEST);
    let ouest = Builder::hub(OUEST);
    b.sign(
        SUD,
        Body::VoucherBatchIssued(batch("13-2026-CAF-07", 2)),
        APPLIED,
        "vouchers to transfer",
    );
    b.sign(
        SUD,
        propose(
            1,
            admit(OUEST, pb::Role::Hub, &["29", "35"]),
            "nouveau hub en Bretagne",
        ),
        APPLIED,
        "threshold 1: the proposal admits the hub",
    );
    b.sign(
        SUD,
        transfer(&["13-2026-CAF-07-1"], &ouest.0),
        APPLIED,
        "a transfer to the hub just admitted, the admission in its past",
    );
    b.finish(
        "admission-then-transfer",
        "A transfer to a hub whose admission is in its past gets the same verdict whether it arrives after the admission or waits for it (§1b, §4).",
        vec![],
        2,
    )
}

/// Hub Ouest, which the stop histories admit first.
const OUEST: &str = "hub-ouest";

/// A builder whose first event (Hub du Sud's, at threshold 1) admits Hub Ouest (29, 35).
fn with_ouest_admitted() -> Builder {
    let mut b = Builder::new();
    b.add_signer(OUEST);
    b.sign(
        SUD,
        propose(
            1,
            admit(OUEST, pb::Role::Hub, &["29", "35"]),
            "nouveau hub en Bretagne",
        ),
        APPLIED,
        "threshold 1: the proposal admits the hub",
    );
    b
}

/// Amendment 2 of a stop history: `member` removed after `last_seq`.
fn second_removal(member: HubId, last_seq: u64, reason: &str) -> Body {
    let change = pb::amendment_proposed::Change::Remove(pb::MemberRemoved {
        member: member.0.to_vec(),
        last_seq,
    });
    propose(2, change, reason)
}

/// A batch of `who` past a stop signed later: applied when signed, never once the stop is in
/// effect (the verdict the history expects).
fn past_the_stop(b: &mut Builder, who: &'static str, batch_id: &str, note: &str) {
    b.sign(
        who,
        Body::VoucherBatchIssued(batch(batch_id, 2)),
        APPLIED,
        note,
    );
    let last = b.cases.len() - 1;
    b.cases[last].1 = NOT_APPLIED.into();
}

fn stop_after_late_deps() -> History {
    let mut b = with_ouest_admitted();
    let hinaura = Builder::hub(HINAURA);
    let kept = b.sign(
        HINAURA,
        Body::VoucherBatchIssued(batch("69-2026-CAF-01", 2)),
        APPLIED,
        "Hinaura's last event that counts",
    );
    for id in ["69-2026-CAF-02", "69-2026-CAF-03"] {
        past_the_stop(&mut b, HINAURA, id, "past the stop to come");
    }
    b.sign(
        OUEST,
        Body::VoucherBatchIssued(batch("29-2026-CAF-01", 2)),
        APPLIED,
        "its deps name Hinaura's seq 3, past the stop: they count as naming seq 1, whether it arrives before the stop or after",
    );
    b.sign_with(
        SUD,
        second_removal(hinaura, 1, "fin du financement"),
        vec![kept.as_ref()],
        APPLIED,
        "Hinaura removed after its seq 1, by a proposal without the batch above in its past",
    );
    let mut history = b.finish(
        "stop-after-late-deps",
        "An event naming a stopped key's events past its last seq gets the same verdict whether it arrived before the stop or after (§1b).",
        vec![],
        2,
    );
    // The batch that names seq 3 waits for it, then the removal comes into effect before
    // Hinaura's seq 2 and 3 arrive (never applied then): folded again with the stop first.
    history.orders.push(vec![1, 0, 4, 5, 2, 3]);
    history
}

fn stop_before_first_event() -> History {
    let mut b = with_ouest_admitted();
    let ouest = Builder::hub(OUEST);
    past_the_stop(
        &mut b,
        OUEST,
        "29-2026-CAF-01",
        "the admitted hub's first event, past the stop to come",
    );
    b.sign(
        HINAURA,
        Body::VoucherBatchIssued(batch("69-2026-CAF-01", 2)),
        APPLIED,
        "its deps name the admitted hub's seq 1, past the stop at 0: they count as naming nothing, whether it arrives before the admission, between it and the stop, or after",
    );
    b.sign_with(
        SUD,
        second_removal(ouest, 0, "admission par erreur"),
        vec![],
        APPLIED,
        "the hub removed before its first event, by a proposal without the batches in its past",
    );
    let mut history = b.finish(
        "stop-before-first-event",
        "An event naming an event of a hub removed before its first event gets the same verdict in every order (§1b).",
        vec![],
        2,
    );
    // The batch that names the admitted hub waits for it as a stranger's event, then for its
    // seq 1 once it is admitted, then the removal comes into effect.
    history.orders.push(vec![2, 1, 0, 3]);
    history
}

fn stop_with_waiting_events() -> History {
    let mut b = with_ouest_admitted();
    let hinaura = Builder::hub(HINAURA);
    let kept = b.sign(
        HINAURA,
        Body::VoucherBatchIssued(batch("69-2026-CAF-01", 2)),
        APPLIED,
        "Hinaura's last event that counts",
    );
    b.sign(
        OUEST,
        Body::VoucherBatchIssued(batch("29-2026-CAF-01", 2)),
        APPLIED,
        "an event Hinaura's seq 2 names",
    );
    past_the_stop(
        &mut b,
        HINAURA,
        "69-2026-CAF-02",
        "past the stop to come: never applied, even when it waited for its deps as the stop came",
    );
    b.sign_with(
        SUD,
        second_removal(hinaura, 1, "fin du financement"),
        vec![kept.as_ref()],
        APPLIED,
        "Hinaura removed after its seq 1",
    );
    let mut history = b.finish(
        "stop-with-waiting-events",
        "An event past a stop that waits for a dep when the stop comes into effect is never applied, as one arriving after the stop (§1b).",
        vec![],
        2,
    );
    // Hinaura's seq 2 waits for the admitted hub's batch; the removal comes into effect; the
    // batch arrives.
    history.orders.push(vec![0, 1, 3, 4, 2]);
    history
}

/// A builder where Hub du Sud's proposal for amendment 1 (`change`, on no past) is in effect,
/// then Hinaura's concurrent one (`rival`, on no past either) too, with a smaller event id:
/// wherever both are in the past, Hinaura's holds number 1 (§1b). The reason of Hinaura's
/// proposal is the first that gives it the smaller id.
fn losing_to_a_concurrent_proposal(
    setup: fn() -> Builder,
    (change, reason, note): (pb::amendment_proposed::Change, &str, &str),
    rival: pb::amendment_proposed::Change,
) -> (Builder, VerifiedEvent, VerifiedEvent) {
    for attempt in 1.. {
        let mut b = setup();
        let lost = b.sign_with(
            SUD,
            propose(1, change.clone(), reason),
            vec![],
            APPLIED,
            note,
        );
        let rival = propose(
            1,
            rival.clone(),
            &format!("proposition concurrente ({attempt})"),
        );
        let won = b.sign_unfolded(HINAURA, rival, vec![]);
        if won.id < lost.id {
            let won = b.fold(
                won,
                APPLIED,
                "a concurrent proposal for amendment 1 (threshold 1: in effect alone), with the smaller id: it holds number 1 wherever both are in the past",
            );
            return (b, lost, won);
        }
    }
    unreachable!()
}

fn competing_stop() -> History {
    let hinaura = Builder::hub(HINAURA);
    let remove = pb::amendment_proposed::Change::Remove(pb::MemberRemoved {
        member: hinaura.0.to_vec(),
        last_seq: 1,
    });
    let raise = pb::amendment_proposed::Change::Threshold(pb::ThresholdChanged { threshold: 2 });
    let (mut b, lost, won) = losing_to_a_concurrent_proposal(
        Builder::new,
        (
            remove,
            "fin du financement",
            "Hinaura removed after its seq 1, on no past",
        ),
        raise,
    );
    // The views say the removal is in force though not in effect at their head.
    let amendments = b.ledger.amendments();
    let view = |id| amendments.iter().find(|a| a.proposal == id).unwrap();
    assert!(!view(lost.id).in_effect && view(lost.id).in_force);
    assert!(view(won.id).in_effect && view(won.id).in_force);
    b.sign(
        HINAURA,
        Body::VoucherBatchIssued(batch("69-2026-CAF-01", 2)),
        NOT_APPLIED,
        "past the stop of a removal that lost its number: the stop holds all the same, whichever proposal came first",
    );
    b.sign(
        SUD,
        Body::VoucherBatchIssued(batch("13-2026-CAF-01", 2)),
        APPLIED,
        "both proposals in its past: the threshold amendment holds number 1",
    );
    b.finish(
        "competing-stop",
        "A removal in effect alone, then a concurrent proposal for its number with a smaller id: the stop holds for good in every order (§1b).",
        vec![],
        3,
    )
}

fn competing_admission() -> History {
    const EST: &str = "hub-est";
    let (mut b, lost, won) = losing_to_a_concurrent_proposal(
        || {
            let mut b = Builder::new();
            b.add_signer(OUEST);
            b.add_signer(EST);
            b
        },
        (
            admit(OUEST, pb::Role::Hub, &["29", "35"]),
            "nouveau hub en Bretagne",
            "Hub Ouest admitted, on no past",
        ),
        admit(EST, pb::Role::Hub, &["67", "68"]),
    );
    b.sign_with(
        EST,
        Body::VoucherBatchIssued(batch("67-2026-CAF-01", 2)),
        vec![won.as_ref()],
        APPLIED,
        "Hub Est, admitted by the proposal that holds number 1: a member",
    );
    b.sign_with(
        OUEST,
        Body::VoucherBatchIssued(batch("29-2026-CAF-01", 2)),
        vec![lost.as_ref()],
        APPLIED,
        "the admission alone in its past: a member, whichever proposal came first",
    );
    b.sign_with(
        OUEST,
        Body::VoucherBatchIssued(batch("29-2026-CAF-02", 2)),
        vec![lost.as_ref(), won.as_ref()],
        "member.not_current",
        "both proposals in its past: the other admission holds number 1, Hub Ouest is no member there",
    );
    b.finish(
        "competing-admission",
        "An admission in effect alone, then a concurrent admission for its number with a smaller id: each admitted key's events get the verdict of their own past, and the digest orders the two keys by amendment number then proposal id, in every order (§1b, §4d).",
        vec![],
        3,
    )
}

fn stop_voted_by_its_member() -> History {
    use pb::amendment_proposed::Change as C;
    let mut b = with_ouest_admitted();
    let hinaura = Builder::hub(HINAURA);
    let removal = |last_seq: u64| {
        C::Remove(pb::MemberRemoved {
            member: hinaura.0.to_vec(),
            last_seq,
        })
    };
    b.sign(
        SUD,
        propose(
            2,
            C::Threshold(pb::ThresholdChanged { threshold: 2 }),
            "deux voix",
        ),
        APPLIED,
        "threshold 2 from now on",
    );
    for id in ["69-2026-CAF-01", "69-2026-CAF-02"] {
        b.sign(
            HINAURA,
            Body::VoucherBatchIssued(batch(id, 2)),
            APPLIED,
            "Hinaura's batches",
        );
    }
    let early = b.sign(
        SUD,
        propose(3, removal(1), "fin du financement"),
        APPLIED,
        "Hinaura removed after its seq 1: one vote of two",
    );
    b.sign(
        HINAURA,
        endorse(&early),
        "amendment.past_stop",
        "Hinaura endorses its own removal at its seq 3, past the seq 1 it keeps",
    );
    b.sign(
        HINAURA,
        propose(3, removal(1), "retrait volontaire"),
        "amendment.past_stop",
        "Hinaura proposes its own removal after its seq 1, at its seq 4",
    );
    b.sign(
        HINAURA,
        Body::VoucherBatchIssued(batch("69-2026-CAF-03", 2)),
        APPLIED,
        "the removal lacks a vote: Hinaura is still a member",
    );
    let agreed = b.sign(
        OUEST,
        propose(3, removal(6), "retrait convenu"),
        APPLIED,
        "Hinaura removed after its seq 6: one vote of two",
    );
    b.sign(
        HINAURA,
        endorse(&agreed),
        APPLIED,
        "Hinaura endorses its own removal at its seq 6, the last it keeps: in effect",
    );
    b.sign(
        HINAURA,
        Body::VoucherBatchIssued(batch("69-2026-CAF-04", 2)),
        NOT_APPLIED,
        "past the stop",
    );
    b.finish(
        "stop-voted-by-its-member",
        "The key a removal stops votes for it only at or before the last seq it keeps (§1b).",
        vec![],
        3,
    )
}

/// Three hubs at a threshold of three: two proposals for one number at the same time split
/// the votes of a round for good; the votes are cast again in the next.
fn split_votes() -> History {
    use pb::amendment_proposed::Change as C;
    let mut b = with_ouest_admitted();
    let threshold = |t: u32| C::Threshold(pb::ThresholdChanged { threshold: t });
    b.sign(
        SUD,
        propose(2, threshold(3), "unanimité"),
        APPLIED,
        "every hub votes every change from now on",
    );
    let before = |b: &Builder, who: &str| b.ledger.next_deps(&Builder::hub(who));
    let (mut ouest_apart, hinaura_apart) = (before(&b, OUEST), before(&b, HINAURA));
    let raise = b.sign(
        SUD,
        propose(3, threshold(2), "deux voix suffisent"),
        APPLIED,
        "Hub du Sud proposes amendment 3: its vote, of the first round",
    );
    let lower = b.sign_with(
        HINAURA,
        propose(3, threshold(1), "une voix suffit"),
        hinaura_apart,
        APPLIED,
        "Hinaura proposes another amendment 3 at the same time: its vote, of the first round",
    );
    ouest_apart.push(raise.as_ref());
    b.sign_with(
        OUEST,
        endorse(&raise),
        ouest_apart,
        APPLIED,
        "Hub Ouest, knowing only Hub du Sud's proposal, endorses it: first round (two votes and one, no hub left: the round is dead wherever all three are known)",
    );
    b.sign(
        OUEST,
        endorse(&lower),
        APPLIED,
        "Hub Ouest now knows the three votes: the first round is dead, this vote is of the second",
    );
    b.sign(
        OUEST,
        endorse(&raise),
        "amendment.endorsed",
        "one vote a round",
    );
    b.sign(
        HINAURA,
        endorse(&raise),
        APPLIED,
        "Hinaura's vote of the second round, for Hub du Sud's proposal: one vote each, one hub left, the second round is dead too",
    );
    b.sign(
        SUD,
        propose(4, threshold(3), "retour à l'unanimité"),
        "amendment.number",
        "amendment 3 is not in effect",
    );
    b.sign(
        SUD,
        endorse(&raise),
        APPLIED,
        "Hub du Sud votes again for its own proposal: third round",
    );
    b.sign(OUEST, endorse(&raise), APPLIED, "third round: two votes");
    b.sign(
        HINAURA,
        endorse(&raise),
        APPLIED,
        "third round: three votes, amendment 3 (threshold two) in effect",
    );
    b.sign(
        HINAURA,
        propose(4, threshold(3), "retour à l'unanimité"),
        APPLIED,
        "amendment 4 follows it",
    );
    b.finish(
        "split-votes",
        "Votes on one amendment number split for good in a round are cast again in the next (§1b).",
        vec![],
        3,
    )
}

fn generate() -> HistoryFile {
    HistoryFile {
        format: FORMAT.into(),
        description: "Conformance histories of the maillage protocol v2 (docs/protocol.md §4e). For each history: build the federation from `charter` (hex of its bytes), freeze the feeds of `frozen` at the given seq, then for each order of `orders` verify and fold the `events` (hex of each SignedEvent) in that order, skipping events of a frozen feed past its seq; every event must get its `verdict` (`applied`, `not_applied`, or a rejection code of §4c) and the state digest must be `digest` (`parts`: each view's part, §4d).".into(),
        histories: vec![
            venue_rules(),
            voucher_rules(),
            claim_rules(),
            referral_rules(),
            people_rules(),
            concurrency(),
            amendment_rules(),
            admission_then_transfer(),
            stop_after_late_deps(),
            stop_before_first_event(),
            stop_with_waiting_events(),
            competing_stop(),
            competing_admission(),
            stop_voted_by_its_member(),
            split_votes(),
        ],
    }
}

fn committed_path() -> std::path::PathBuf {
    vectors_dir().join("histories.json")
}

#[test]
fn the_committed_histories_are_regenerated_byte_for_byte() {
    let generated = serde_json::to_string_pretty(&generate()).unwrap() + "\n";
    let path = committed_path();
    if update_requested() {
        std::fs::write(&path, &generated).unwrap();
        return;
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e}; run MAILLAGE_UPDATE_VECTORS=1 cargo test -p maillage-integration-tests --test histories",
            path.display()
        )
    });
    if let Some((line, expected, found)) = first_difference(&committed, &generated) {
        panic!(
            "{} differs from what maillage-core generates, line {line}:\n  committed: {expected}\n  generated: {found}\n(a protocol change: regenerate with MAILLAGE_UPDATE_VECTORS=1 and say why in the commit)",
            path.display()
        );
    }
}

#[test]
fn every_committed_history_passes_in_every_order() {
    let file: HistoryFile =
        serde_json::from_str(&std::fs::read_to_string(committed_path()).unwrap()).unwrap();
    assert_eq!(file.format, FORMAT);
    let mut events = 0;
    let mut orders = 0;
    for history in &file.histories {
        conformance::check(history).unwrap();
        events += history.events.len();
        orders += history.orders.len();
    }
    eprintln!(
        "{} histories, {events} events, {orders} orders of delivery: every verdict and digest as committed",
        file.histories.len()
    );
}

#[test]
fn every_rejection_code_is_reached_and_every_rule_also_accepts() {
    let file = generate();
    let reached: BTreeSet<&str> = file
        .histories
        .iter()
        .flat_map(|h| h.events.iter().map(|c| c.verdict.as_str()))
        .collect();
    let missing: Vec<&&str> = Rejection::CODES
        .iter()
        .filter(|code| !reached.contains(**code))
        .collect();
    assert!(missing.is_empty(), "codes no history reaches: {missing:?}");
    let unknown: Vec<&&str> = reached
        .iter()
        .filter(|v| **v != APPLIED && **v != NOT_APPLIED && !Rejection::CODES.contains(*v))
        .collect();
    assert!(
        unknown.is_empty(),
        "verdicts that are not codes: {unknown:?}"
    );
    // Every body kind is accepted at least once.
    let mut kinds = BTreeSet::new();
    for history in &file.histories {
        for case in history.events.iter().filter(|c| c.verdict == APPLIED) {
            let signed =
                pb::SignedEvent::decode(hex::decode(&case.signed).unwrap().as_slice()).unwrap();
            let event = pb::Event::decode(signed.payload.as_slice()).unwrap();
            if let Some(body) = event.body {
                let kind = format!("{body:?}");
                kinds.insert(kind.split('(').next().unwrap_or_default().to_owned());
            }
        }
    }
    assert_eq!(kinds.len(), 23, "every body kind is accepted at least once");
}

#[test]
fn a_changed_verdict_or_digest_fails_the_check() {
    let file = generate();
    let mut history = file.histories[1].clone();
    let index = history
        .events
        .iter()
        .position(|c| c.verdict == "voucher.already_redeemed")
        .unwrap();
    history.events[index].verdict = APPLIED.into();
    let error = conformance::check(&history).unwrap_err();
    assert!(
        error.contains("expected applied, found voucher.already_redeemed"),
        "{error}"
    );
    let mut history = file.histories[1].clone();
    history.digest = "00".repeat(32);
    let error = conformance::check(&history).unwrap_err();
    assert!(error.contains("digest"), "{error}");
}
