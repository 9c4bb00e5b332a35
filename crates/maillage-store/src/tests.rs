//! One suite, run against both backends.
//!
//! Size: one suite per backend and the data file's recovery cases (flipped bytes, torn frames,
//! lost or unreadable indexes) share the fixtures above them; the fork resolutions live in
//! `tests/resolution.rs`.
#![allow(clippy::unwrap_used)]

use std::io::Write;
use std::sync::Arc;

use maillage_core::hlc::MAX_AHEAD_MS_DEFAULT;
use maillage_core::{Charter, FeedWriter, MemberSpec, Role, SecretKey, VerifiedEvent, pb};

use super::*;

struct Fixture {
    charter: Arc<Charter>,
    keys: Vec<SecretKey>,
}

fn fixture() -> Fixture {
    let keys: Vec<SecretKey> = (1..=3u8).map(|n| SecretKey::from_seed(&[n; 32])).collect();
    let members = keys
        .iter()
        .zip(["13", "69", "16"])
        .map(|(k, t)| MemberSpec {
            key: k.hub_id(),
            name: format!("hub {t}"),
            role: Role::Hub,
            territories: vec![t.into()],
        })
        .collect();
    let charter = Arc::new(Charter::found("Test federation", 1, members).unwrap());
    Fixture { charter, keys }
}

fn body(n: u64) -> pb::event::Body {
    pb::event::Body::VenueClosed(pb::VenueClosed {
        venue_id: format!("v{n}"),
        reason: "test".into(),
        ..Default::default()
    })
}

fn writer(f: &Fixture, key: usize) -> FeedWriter {
    let secret = SecretKey::from_seed(&f.keys[key].seed());
    FeedWriter::new(
        secret,
        f.charter.federation_id(),
        None,
        0,
        MAX_AHEAD_MS_DEFAULT,
    )
}

fn feed(f: &Fixture, key: usize, count: u64, salt: u64) -> Vec<VerifiedEvent> {
    let mut w = writer(f, key);
    (1..=count)
        .map(|n| {
            w.next(body(n * 1000 + salt), vec![], 1_000_000 + n)
                .unwrap()
        })
        .collect()
}

/// Replaces `to` with a copy of the directory `from`.
fn copy_dir(from: &std::path::Path, to: &std::path::Path) {
    let _ = std::fs::remove_dir_all(to);
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &to.join(entry.file_name()));
        } else {
            std::fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
        }
    }
}

fn suite<B: Backend>(make: impl Fn(Arc<Charter>) -> Store<B>) {
    own_appends_are_readable(&make);
    own_feed_never_reuses_a_seq(&make);
    peer_inserts_are_idempotent_and_ordered(&make);
    equivocation_at_same_seq_freezes_the_feed(&make);
    equivocation_by_prev_freezes_before_the_fork(&make);
    many_feeds_in_one_batch(&make);
    gossiped_proofs_freeze_the_feed(&make);
    resolution::a_held_branch_stands_again(&make);
    resolution::a_branch_not_held_is_taken_from_peers(&make);
    resolution::the_lowest_fork_proof_stands(&make);
}

mod resolution;

/// A proof learnt from a peer freezes the feed whether this store holds events past the fork
/// (they stop being served) or has not reached it yet (the head stays, later events refused).
fn gossiped_proofs_freeze_the_feed<B: Backend>(make: &impl Fn(Arc<Charter>) -> Store<B>) {
    let f = fixture();
    let honest = feed(&f, 1, 6, 0);
    let evil = feed(&f, 1, 6, 7);
    let (proof, fork) = ForkProof::from_pair(&honest[3], &evil[3]).unwrap();
    assert_eq!(fork.seq, 4);
    let author = honest[0].author;

    let ahead = make(f.charter.clone());
    ahead.insert(honest.clone()).unwrap();
    assert_eq!(ahead.accept_fork_proof(proof.clone()).unwrap(), Some(fork));
    assert_eq!(ahead.head(&author).map(|h| h.seq), Some(3));
    assert_eq!(ahead.range(&author, 0, 10).unwrap(), honest[..3].to_vec());
    assert_eq!(
        ahead.accept_fork_proof(proof.clone()).unwrap(),
        None,
        "second time: known"
    );
    // A proof at the recorded fork is not verified again: a replay whose signatures are
    // damaged changes nothing and costs no verification (the old code checked all four).
    let mut replayed = proof.clone();
    replayed.first.signature[0] ^= 1;
    replayed.second.signature[0] ^= 1;
    assert_eq!(ahead.accept_fork_proof(replayed.clone()).unwrap(), None);
    // A fresh store verifies it and refuses it.
    assert!(matches!(
        make(f.charter.clone()).accept_fork_proof(replayed),
        Err(AcceptProofError::Invalid(_))
    ));

    let behind = make(f.charter.clone());
    behind.insert(honest[..2].to_vec()).unwrap();
    assert_eq!(behind.accept_fork_proof(proof.clone()).unwrap(), Some(fork));
    assert_eq!(behind.head(&author).map(|h| h.seq), Some(2));
    let out = behind.insert(honest[2..].to_vec()).unwrap();
    assert_eq!(out[0], Inserted::Stored, "seq 3 is before the fork");
    assert_eq!(out[1], Inserted::Frozen { valid_until: 3 });
    assert_eq!(
        behind.head(&author).map(|h| h.seq),
        Some(3),
        "the head moves up to the fork"
    );
    assert_eq!(behind.range(&author, 0, 10).unwrap(), honest[..3].to_vec());

    // A proof arriving before any event of the feed.
    let empty = make(f.charter.clone());
    assert_eq!(empty.accept_fork_proof(proof.clone()).unwrap(), Some(fork));
    empty.insert(honest.clone()).unwrap();
    assert_eq!(empty.head(&author).map(|h| h.seq), Some(3));

    let mut bogus = proof.clone();
    bogus.second = honest[4].signed.clone();
    assert!(matches!(
        make(f.charter.clone()).accept_fork_proof(bogus),
        Err(AcceptProofError::Invalid(_))
    ));
}

fn own_appends_are_readable<B: Backend>(make: &impl Fn(Arc<Charter>) -> Store<B>) {
    let f = fixture();
    let store = make(f.charter.clone());
    let events = feed(&f, 0, 5, 0);
    store.append_own(&events[..2]).unwrap();
    store.append_own(&events[2..]).unwrap();
    let author = events[0].author;
    assert_eq!(
        store.head(&author),
        Some(Head {
            seq: 5,
            id: events[4].id
        })
    );
    assert_eq!(store.range(&author, 0, 100).unwrap(), events);
    assert_eq!(store.range(&author, 3, 1).unwrap(), events[3..4].to_vec());
    assert_eq!(store.get(&author, 2).unwrap().unwrap(), events[1]);
    assert_eq!(store.get(&author, 6).unwrap(), None);
    assert_eq!(store.head_hlcs()[&events[4].author], events[4].hlc);
    assert_eq!(store.event_count(), 5);
    let report = store.verify(true, &mut |_| {}).unwrap();
    assert_eq!(
        (
            report.feeds,
            report.events,
            report.signatures,
            report.broken
        ),
        (1, 5, 5, None)
    );
}

fn own_feed_never_reuses_a_seq<B: Backend>(make: &impl Fn(Arc<Charter>) -> Store<B>) {
    let f = fixture();
    let store = make(f.charter.clone());
    let events = feed(&f, 0, 3, 0);
    store.append_own(&events[..2]).unwrap();
    let err = store.append_own(&events[..1]).unwrap_err();
    assert!(
        err.to_string()
            .contains("sequence numbers are never reused"),
        "{err}"
    );
    let other = feed(&f, 0, 3, 7);
    let err = store.append_own(&other[2..]).unwrap_err();
    assert!(err.to_string().contains("prédécesseur"), "{err}");
    let gap = feed(&f, 1, 3, 0);
    let err = store.append_own(&gap[1..]).unwrap_err();
    assert!(
        err.to_string()
            .contains("trou : position 1 attendue, 2 reçue"),
        "{err}"
    );
    // A failed append wrote nothing.
    assert_eq!(store.head(&events[0].author).unwrap().seq, 2);
}

fn peer_inserts_are_idempotent_and_ordered<B: Backend>(make: &impl Fn(Arc<Charter>) -> Store<B>) {
    let f = fixture();
    let store = make(f.charter.clone());
    let events = feed(&f, 1, 4, 0);
    let out = store
        .insert(vec![events[0].clone(), events[2].clone()])
        .unwrap();
    assert_eq!(
        out,
        vec![
            Inserted::Stored,
            Inserted::Gap {
                expected: 2,
                found: 3
            }
        ]
    );
    let out = store.insert(events.clone()).unwrap();
    assert_eq!(
        out,
        vec![
            Inserted::Duplicate,
            Inserted::Stored,
            Inserted::Stored,
            Inserted::Stored
        ]
    );
    let out = store.insert(events.clone()).unwrap();
    assert!(out.iter().all(|o| *o == Inserted::Duplicate));
    assert_eq!(store.range(&events[0].author, 0, 10).unwrap(), events);
    assert!(store.forks().is_empty());
}

fn equivocation_at_same_seq_freezes_the_feed<B: Backend>(make: &impl Fn(Arc<Charter>) -> Store<B>) {
    let f = fixture();
    let store = make(f.charter.clone());
    let honest = feed(&f, 2, 3, 0);
    let evil = feed(&f, 2, 3, 1);
    let author = honest[0].author;
    store.insert(honest[..2].to_vec()).unwrap();
    let out = store
        .insert(vec![evil[1].clone(), honest[2].clone()])
        .unwrap();
    let Inserted::Fork(fork) = &out[0] else {
        panic!("expected a fork, got {out:?}")
    };
    assert_eq!((fork.author, fork.seq), (author, 2));
    assert_eq!(out[1], Inserted::Frozen { valid_until: 1 });
    assert_eq!(
        store.head(&author),
        Some(Head {
            seq: 1,
            id: honest[0].id
        })
    );
    assert_eq!(store.range(&author, 0, 10).unwrap(), honest[..1].to_vec());
    let recorded = store.forks().remove(&author).unwrap();
    assert_eq!(recorded.proof.check(&f.charter).unwrap(), *fork);
    // The other order gives the same proof bytes.
    let (proof, _) = ForkProof::from_pair(&honest[1], &evil[1]).unwrap();
    assert_eq!(proof, recorded.proof);
}

fn equivocation_by_prev_freezes_before_the_fork<B: Backend>(
    make: &impl Fn(Arc<Charter>) -> Store<B>,
) {
    let f = fixture();
    let store = make(f.charter.clone());
    let honest = feed(&f, 0, 2, 0);
    let evil = feed(&f, 0, 3, 5);
    store.insert(honest.clone()).unwrap();
    let out = store.insert(vec![evil[2].clone()]).unwrap();
    let Inserted::Fork(fork) = out[0] else {
        panic!("expected a fork, got {out:?}")
    };
    assert_eq!(fork.seq, 2);
    assert_eq!(store.head(&honest[0].author).unwrap().seq, 1);
    assert_eq!(
        store.insert(vec![honest[1].clone()]).unwrap(),
        vec![Inserted::Frozen { valid_until: 1 }]
    );
}

fn many_feeds_in_one_batch<B: Backend>(make: &impl Fn(Arc<Charter>) -> Store<B>) {
    let f = fixture();
    let store = make(f.charter.clone());
    let mut all = Vec::new();
    let feeds: Vec<Vec<VerifiedEvent>> = (0..3).map(|k| feed(&f, k, 50, 0)).collect();
    for i in 0..50 {
        for feed in &feeds {
            all.push(feed[i].clone());
        }
    }
    let out = store.insert(all).unwrap();
    assert!(out.iter().all(|o| *o == Inserted::Stored));
    assert_eq!(store.frontier().len(), 3);
    assert_eq!(store.event_count(), 150);
}

#[test]
fn memory_store_suite() {
    suite(MemoryStore::in_memory);
}

#[test]
fn sled_store_suite() {
    let dirs = std::cell::RefCell::new(Vec::new());
    suite(|charter| {
        let dir = tempfile::tempdir().unwrap();
        let store = SledStore::open_path(dir.path(), charter).unwrap();
        dirs.borrow_mut().push(dir);
        store
    });
}

#[test]
fn the_lowest_fork_proof_survives_reopen_and_a_lost_index() {
    let f = fixture();
    let dir = tempfile::tempdir().unwrap();
    let one = feed(&f, 1, 4, 0);
    let two = feed(&f, 1, 4, 5);
    let author = one[0].author;
    {
        let store = SledStore::open_path(dir.path(), f.charter.clone()).unwrap();
        store.insert(one.clone()).unwrap();
        store.insert(vec![two[3].clone()]).unwrap();
        assert_eq!(store.forks()[&author].fork.seq, 4);
        store.insert(vec![two[1].clone()]).unwrap();
        assert_eq!(store.forks()[&author].fork.seq, 2);
    }
    let store = SledStore::open_path(dir.path(), f.charter.clone()).unwrap();
    assert_eq!(store.forks()[&author].fork.seq, 2);
    assert_eq!(store.head(&author).map(|h| h.seq), Some(1));
    drop(store);
    std::fs::remove_dir_all(dir.path().join("db")).unwrap();
    let store = SledStore::open_path(dir.path(), f.charter.clone()).unwrap();
    assert_eq!(
        store.forks()[&author].fork.seq,
        2,
        "the index rebuilt from the data file keeps the last, lowest proof"
    );
    assert_eq!(store.head(&author).map(|h| h.seq), Some(1));
}

#[test]
fn sled_store_survives_reopen_with_forks_and_heads() {
    let f = fixture();
    let dir = tempfile::tempdir().unwrap();
    let own = feed(&f, 0, 10, 0);
    let honest = feed(&f, 1, 3, 0);
    let evil = feed(&f, 1, 3, 9);
    {
        let store = SledStore::open_path(dir.path(), f.charter.clone()).unwrap();
        store.append_own(&own).unwrap();
        store.insert(honest.clone()).unwrap();
        store.insert(vec![evil[2].clone()]).unwrap();
    }
    let store = SledStore::open_path(dir.path(), f.charter.clone()).unwrap();
    assert_eq!(
        store.head(&own[0].author),
        Some(Head {
            seq: 10,
            id: own[9].id
        })
    );
    assert_eq!(store.head(&honest[0].author).unwrap().seq, 2);
    assert_eq!(store.forks().len(), 1);
    let hlcs = store.head_hlcs();
    assert_eq!(hlcs[&own[0].author], own[9].hlc);
    assert_eq!(
        hlcs[&honest[0].author], honest[1].hlc,
        "the frozen feed's valid head"
    );
    assert_eq!(
        store.insert(vec![honest[2].clone()]).unwrap(),
        vec![Inserted::Frozen { valid_until: 2 }]
    );
}

#[test]
fn sled_store_reopens_a_feed_frozen_beyond_what_it_holds() {
    let f = fixture();
    let dir = tempfile::tempdir().unwrap();
    let honest = feed(&f, 2, 8, 0);
    let evil = feed(&f, 2, 8, 3);
    let (proof, _) = ForkProof::from_pair(&honest[6], &evil[6]).unwrap();
    {
        let store = SledStore::open_path(dir.path(), f.charter.clone()).unwrap();
        store.insert(honest[..3].to_vec()).unwrap();
        store.accept_fork_proof(proof).unwrap();
    }
    let store = SledStore::open_path(dir.path(), f.charter.clone()).unwrap();
    // The checked proof was recorded with the data: the heads are read only.
    assert!(store.opened_sealed());
    assert_eq!(store.head(&honest[0].author).map(|h| h.seq), Some(3));
    assert_eq!(store.forks().len(), 1);
    drop(store);
    // A proof written through the raw backend leaves the record behind.
    {
        let store = SledStore::open_path(dir.path(), f.charter.clone()).unwrap();
        let other = feed(&f, 1, 4, 0);
        let (proof, _) = ForkProof::from_pair(&other[2], &feed(&f, 1, 4, 5)[2]).unwrap();
        store
            .backend()
            .write_fork(&other[0].author, &proof.to_wire().encode_to_vec())
            .unwrap();
    }
    let store = SledStore::open_path(dir.path(), f.charter.clone()).unwrap();
    assert!(!store.opened_sealed());
    assert_eq!(store.head(&honest[0].author).map(|h| h.seq), Some(3));
    assert_eq!(store.forks().len(), 2);
}

/// Every flipped byte of the data file is found when the store opens, without verifying
/// every signature: the feed is served up to the event before the damage, the damage is
/// recorded, and the own feed refuses appends until the lost events come back from a peer.
/// Flips each byte of the data file in `dir` past its 20-byte header in turn, the index put
/// back as it was each time, and calls `check` with the byte's position; then puts the file
/// and the index back as they were, and returns the file's bytes.
fn for_each_flipped_byte(dir: &std::path::Path, mut check: impl FnMut(usize)) -> Vec<u8> {
    let path = dir.join("events.log");
    let original = std::fs::read(&path).unwrap();
    let db = dir.join("db");
    let saved_db = dir.join("saved-db");
    copy_dir(&db, &saved_db);
    for position in 20..original.len() {
        let mut bytes = original.clone();
        bytes[position] ^= 0x10;
        std::fs::write(&path, &bytes).unwrap();
        copy_dir(&saved_db, &db);
        check(position);
    }
    std::fs::write(&path, &original).unwrap();
    copy_dir(&saved_db, &db);
    original
}

#[test]
fn open_finds_a_flipped_byte_anywhere_in_the_data_file() {
    let f = fixture();
    let own = feed(&f, 0, 6, 0);
    let author = own[0].author;
    let dir = tempfile::tempdir().unwrap();
    {
        let store = SledStore::open_path(dir.path(), f.charter.clone()).unwrap();
        store.append_own(&own).unwrap();
    }
    // The header (20 bytes) is checked on its own below.
    let original = for_each_flipped_byte(dir.path(), |position| {
        let store = SledStore::open_path(dir.path(), f.charter.clone()).unwrap();
        let damage = store
            .damaged()
            .remove(&author)
            .unwrap_or_else(|| panic!("byte {position}: a flipped byte went unnoticed"));
        let held = store.head(&author).map_or(0, |h| h.seq);
        assert_eq!(held + 1, damage.from_seq, "byte {position}");
        assert_eq!(damage.held_until, 6, "byte {position}");
        // What is served verifies, signatures included.
        assert_eq!(
            store.verify(true, &mut |_| {}).unwrap().broken,
            None,
            "byte {position}"
        );
        let next = writer(&f, 0).next(body(99), vec![], 2_000_000).unwrap();
        assert!(
            matches!(
                store.append_own(&[next]),
                Err(StoreError::NotAppendable { .. })
            ),
            "byte {position}: a damaged own feed must not take new events"
        );
        // A peer sends the lost events back: the feed heals and takes new ones.
        let back = store.insert(own[held as usize..].to_vec()).unwrap();
        assert!(
            back.iter().all(|o| *o == Inserted::Stored),
            "byte {position}: {back:?}"
        );
        assert!(store.damaged().is_empty(), "byte {position}");
        assert_eq!(store.head(&author).unwrap().id, own[5].id);
        drop(store);
        // Reopened: the events fetched back shadow the damaged frames.
        let store = SledStore::open_path(dir.path(), f.charter.clone()).unwrap();
        assert!(
            store.damaged().is_empty(),
            "byte {position}: after reopening"
        );
        assert_eq!(store.range(&author, 0, 10).unwrap(), own, "byte {position}");
    });
    let path = dir.path().join("events.log");
    for position in 0..20 {
        let mut bytes = original.clone();
        bytes[position] ^= 0x10;
        std::fs::write(&path, &bytes).unwrap();
        assert!(
            SledStore::open_path(dir.path(), f.charter.clone()).is_err(),
            "header byte {position}"
        );
    }
    std::fs::write(&path, &original).unwrap();
    let store = SledStore::open_path(dir.path(), f.charter.clone()).unwrap();
    assert_eq!(store.range(&author, 0, 10).unwrap(), own);
}

/// Every write the store checked records the data's length and CRC-32 with it: an open that
/// finds the data unchanged reads and verifies each feed's head instead of walking every
/// chain, after a clean close or a crash alike (these stores are dropped without `seal`, as a
/// killed process leaves them). A flipped byte anywhere in the data file, or a write the store
/// did not check, and every chain is walked; a store found damaged records nothing until an
/// open finds it whole.
#[test]
fn a_store_trusts_its_chains_only_while_its_data_is_what_it_checked() {
    let f = fixture();
    let own = feed(&f, 0, 7, 0);
    let other = feed(&f, 1, 4, 0);
    let author = own[0].author;
    let dir = tempfile::tempdir().unwrap();
    let open = || SledStore::open_path(dir.path(), f.charter.clone()).unwrap();
    {
        let store = open();
        assert!(!store.opened_sealed());
        store.append_own(&own[..6]).unwrap();
        store.insert(other.clone()).unwrap();
    }
    let store = open();
    assert!(store.opened_sealed());
    assert!(store.damaged().is_empty());
    assert_eq!(store.head(&author).unwrap().id, own[5].id);
    assert_eq!(store.head(&other[0].author).unwrap().id, other[3].id);
    assert_eq!(store.range(&author, 0, 10).unwrap(), own[..6]);
    drop(store);
    assert!(open().opened_sealed());
    // A checked write after an open is recorded with it.
    open().append_own(&own[6..]).unwrap();
    let store = open();
    assert!(store.opened_sealed());
    assert_eq!(store.head(&author).unwrap().id, own[6].id);
    drop(store);
    // The header (20 bytes) fails the open whatever was recorded.
    for_each_flipped_byte(dir.path(), |position| {
        let store = open();
        assert!(!store.opened_sealed(), "byte {position}");
        assert!(
            !store.damaged().is_empty(),
            "byte {position}: a flipped byte went unnoticed"
        );
    });
    assert!(open().opened_sealed());
    // An event rewritten by a write the store did not check: the record stays behind.
    {
        let store = open();
        let mut bytes = own[2].encode_signed();
        let middle = bytes.len() / 2;
        bytes[middle] ^= 0x20;
        store
            .backend()
            .write_events(&[(author, own[2].seq, bytes)])
            .unwrap();
    }
    for seq in 5..7 {
        let store = open();
        assert!(!store.opened_sealed());
        let damage = store.damaged().remove(&author).unwrap();
        assert!(damage.from_seq <= 4, "{damage:?}");
        // Damaged: nothing is recorded, whatever is written after.
        let next = feed(&f, 1, seq, 0).pop().unwrap();
        assert_eq!(store.insert(vec![next]).unwrap(), vec![Inserted::Stored]);
    }
}

/// A write cut short by a crash leaves bytes in the data file past what the index covers: the
/// index is rebuilt from the data file, which empties the record, and every chain is walked;
/// found whole, the store is recorded again.
#[test]
fn a_write_cut_short_is_walked_once_after_the_index_is_rebuilt() {
    let f = fixture();
    let own = feed(&f, 0, 4, 0);
    let dir = tempfile::tempdir().unwrap();
    let open = || SledStore::open_path(dir.path(), f.charter.clone()).unwrap();
    open().append_own(&own).unwrap();
    assert!(open().opened_sealed());
    let path = dir.path().join("events.log");
    let mut bytes = std::fs::read(&path).unwrap();
    let whole = bytes.len();
    // The first half of the last frame again, as a killed append leaves it.
    let frame = own[3].encode_signed().len() + 9;
    bytes.extend_from_within(whole - frame..whole - frame / 2);
    std::fs::write(&path, &bytes).unwrap();
    let store = open();
    assert!(!store.opened_sealed());
    assert!(store.damaged().is_empty());
    assert_eq!(store.head(&own[0].author).unwrap().id, own[3].id);
    drop(store);
    assert!(open().opened_sealed());
}

/// With the index lost as well, damage in the data file is still noticed from the frames that
/// survive after it: the own feed is not signed again from the damaged position.
#[test]
fn damage_and_a_lost_index_together_still_protect_the_own_feed() {
    let f = fixture();
    let own = feed(&f, 0, 6, 0);
    let author = own[0].author;
    let dir = tempfile::tempdir().unwrap();
    {
        let store = SledStore::open_path(dir.path(), f.charter.clone()).unwrap();
        store.append_own(&own).unwrap();
    }
    let path = dir.path().join("events.log");
    let mut bytes = std::fs::read(&path).unwrap();
    let signature = own[1].signed.signature.clone();
    let at = bytes
        .windows(signature.len())
        .position(|w| w == signature.as_slice())
        .unwrap();
    bytes[at] ^= 1;
    std::fs::write(&path, &bytes).unwrap();
    std::fs::remove_dir_all(dir.path().join("db")).unwrap();
    let store = SledStore::open_path(dir.path(), f.charter.clone()).unwrap();
    assert_eq!(store.head(&author).unwrap().seq, 1);
    let damage = store.damaged().remove(&author).unwrap();
    assert_eq!((damage.from_seq, damage.held_until), (2, 6));
    assert!(store.append_own(&[own[1].clone()]).is_err());
}

/// An event rewritten in place with a valid checksum (not a disk fault: a forged frame) is
/// still found by the hash chain and the head's signature.
#[test]
fn open_finds_a_rewritten_event() {
    let f = fixture();
    let own = feed(&f, 0, 6, 0);
    for target in 0..own.len() {
        let dir = tempfile::tempdir().unwrap();
        {
            let store = SledStore::open_path(dir.path(), f.charter.clone()).unwrap();
            store.append_own(&own).unwrap();
            let mut bytes = own[target].encode_signed();
            let middle = bytes.len() / 2;
            bytes[middle] ^= 0x20;
            store
                .backend()
                .write_events(&[(own[target].author, own[target].seq, bytes)])
                .unwrap();
        }
        let store = SledStore::open_path(dir.path(), f.charter.clone()).unwrap();
        let damage = store.damaged().remove(&own[0].author).unwrap();
        // A changed payload changes its id: seen at the event itself (decode, signature of
        // the head) or at its successor (prev link).
        assert!(
            damage.from_seq == own[target].seq || damage.from_seq == own[target].seq + 1,
            "target {target}: {damage:?}"
        );
        let held = store.head(&own[0].author).map_or(0, |h| h.seq);
        assert!(held < damage.from_seq, "target {target}");
        assert_eq!(store.verify(true, &mut |_| {}).unwrap().broken, None);
    }
}

/// The feeds are checked side by side when the store opens: rewritten events in two feeds
/// are each found and cut at their own place, and the third feed is untouched.
#[test]
fn open_checks_each_feed_on_its_own() {
    let f = fixture();
    let feeds: Vec<Vec<VerifiedEvent>> = (0..3).map(|key| feed(&f, key, 9, 0)).collect();
    let dir = tempfile::tempdir().unwrap();
    {
        let store = SledStore::open_path(dir.path(), f.charter.clone()).unwrap();
        for events in &feeds {
            store.insert(events.clone()).unwrap();
        }
        // Seq 4 of the second feed and seq 7 of the third, each byte in the middle flipped.
        for (key, index) in [(1usize, 3usize), (2, 6)] {
            let event = &feeds[key][index];
            let mut bytes = event.encode_signed();
            let middle = bytes.len() / 2;
            bytes[middle] ^= 0x20;
            store
                .backend()
                .write_events(&[(event.author, event.seq, bytes)])
                .unwrap();
        }
    }
    let store = SledStore::open_path(dir.path(), f.charter.clone()).unwrap();
    let damaged = store.damaged();
    assert_eq!(damaged.len(), 2, "{damaged:?}");
    for (key, seq) in [(1usize, 4u64), (2, 7)] {
        let author = feeds[key][0].author;
        let damage = &damaged[&author];
        assert!(
            damage.from_seq == seq || damage.from_seq == seq + 1,
            "feed {key}: {damage:?}"
        );
        assert_eq!(damage.held_until, 9, "feed {key}");
        assert!(store.head(&author).unwrap().seq < damage.from_seq);
    }
    assert_eq!(store.head(&feeds[0][0].author).unwrap().id, feeds[0][8].id);
    assert_eq!(store.verify(true, &mut |_| {}).unwrap().broken, None);
}

/// A store holding the feeds of two founding hubs and of a key an amendment admitted (nine
/// events each), closed: the fixture (its charter knowing the admitted key), the store's dir,
/// the feeds, and a builder of the founding charter (which does not).
fn store_with_an_admitted_feed() -> (
    Fixture,
    tempfile::TempDir,
    Vec<Vec<VerifiedEvent>>,
    impl Fn() -> Arc<Charter>,
) {
    let keys = fixture().keys;
    let ids: Vec<HubId> = keys.iter().map(|k| k.hub_id()).collect();
    let founding = move || {
        let members = (ids[..2].iter().zip(["13", "69"]))
            .map(|(key, t)| MemberSpec {
                key: *key,
                name: format!("hub {t}"),
                role: Role::Hub,
                territories: vec![t.into()],
            })
            .collect();
        Arc::new(Charter::found("Test federation", 1, members).unwrap())
    };
    let f = Fixture {
        charter: founding(),
        keys,
    };
    f.charter
        .admit(f.keys[2].hub_id(), "hub 16", Role::Hub)
        .unwrap();
    let feeds: Vec<Vec<VerifiedEvent>> = (0..3).map(|key| feed(&f, key, 9, 0)).collect();
    let dir = tempfile::tempdir().unwrap();
    {
        let store = SledStore::open_path(dir.path(), f.charter.clone()).unwrap();
        for events in &feeds {
            store.insert(events.clone()).unwrap();
        }
    }
    (f, dir, feeds, founding)
}

/// The feed of a key an amendment admitted, reopened while a side job makes the key known (a
/// node decodes its views there) and takes a while: kept whole. It was once checked before the
/// job was done, found "not a member" and cut to nothing (to be fetched again from peers).
#[test]
fn the_feed_of_an_admitted_key_is_kept_while_the_views_are_read() {
    let (f, dir, feeds, founding) = store_with_an_admitted_feed();
    let admitted = f.keys[2].hub_id();
    let charter = founding();
    let side: SideJob<'_> = Box::new(|| {
        std::thread::sleep(std::time::Duration::from_millis(300));
        charter.admit(admitted, "hub 16", Role::Hub).unwrap();
    });
    let backend = sled_backend::SledBackend::open(dir.path()).unwrap();
    let store = Store::open_with(backend, charter.clone(), 2, vec![side]).unwrap();
    assert!(store.damaged().is_empty(), "{:?}", store.damaged());
    assert_eq!(store.head(&admitted).unwrap().id, feeds[2][8].id);
}

/// A node whose views snapshot is unusable folds them again from its store, opened with the
/// founding charter alone: the admitted key is known only once the fold reaches the amendment.
/// Its feed is checked and read back by its own key meanwhile (stored events had their
/// author's membership checked when they came in); it was cut to nothing, and the node's own
/// feed, were it that hub's, could not be used until peers sent it back.
#[test]
fn the_feed_of_an_admitted_key_is_kept_when_the_views_are_folded_again() {
    let (f, dir, feeds, founding) = store_with_an_admitted_feed();
    let admitted = f.keys[2].hub_id();
    let charter = founding();
    let store = SledStore::open_path(dir.path(), charter.clone()).unwrap();
    assert!(store.damaged().is_empty(), "{:?}", store.damaged());
    assert_eq!(store.head(&admitted).unwrap().id, feeds[2][8].id);
    let read: Vec<EventId> = (1..=9)
        .map(|seq| store.get(&admitted, seq).unwrap().unwrap().id)
        .collect();
    let stored: Vec<EventId> = feeds[2].iter().map(|e| e.id).collect();
    assert_eq!(read, stored);
    assert_eq!(store.verify(true, &mut |_| {}).unwrap().broken, None);
    // What comes in is still checked for membership: the key is a stranger to this charter.
    let came_in = maillage_core::verify_event(feeds[2][0].signed.clone(), &charter);
    assert!(matches!(
        came_in,
        Err(maillage_core::EnvelopeError::UnknownAuthor { .. })
    ));
}

/// Damage found while serving (after the store opened) cuts the feed the same way: the
/// damaged event is never returned.
#[test]
fn damage_found_while_reading_is_never_served() {
    let f = fixture();
    let own = feed(&f, 0, 6, 0);
    let author = own[0].author;
    let dir = tempfile::tempdir().unwrap();
    let store = SledStore::open_path(dir.path(), f.charter.clone()).unwrap();
    store.append_own(&own).unwrap();
    // Flip a signature byte of seq 3 under the open store.
    let path = dir.path().join("events.log");
    let mut bytes = std::fs::read(&path).unwrap();
    let signature = own[2].signed.signature.clone();
    let at = bytes
        .windows(signature.len())
        .position(|w| w == signature.as_slice())
        .unwrap();
    bytes[at + 5] ^= 1;
    std::fs::write(&path, &bytes).unwrap();
    let served = store.range_signed(&author, 0, 10).unwrap();
    assert_eq!(served.len(), 2, "only the events before the damage");
    assert_eq!(store.head(&author).unwrap().seq, 2);
    assert_eq!(store.damaged()[&author].from_seq, 3);
    assert_eq!(store.get(&author, 4).unwrap(), None);
}

/// The data file is the source of truth: a deleted index is rebuilt from it, with the fork
/// proofs, and nothing already signed is signed again.
#[test]
fn a_deleted_index_is_rebuilt_from_the_data_file() {
    let f = fixture();
    let dir = tempfile::tempdir().unwrap();
    let own = feed(&f, 0, 700, 0);
    let honest = feed(&f, 1, 5, 0);
    let evil = feed(&f, 1, 5, 9);
    {
        let store = SledStore::open_path(dir.path(), f.charter.clone()).unwrap();
        for chunk in own.chunks(64) {
            store.append_own(chunk).unwrap();
        }
        store.insert(honest.clone()).unwrap();
        store.insert(vec![evil[3].clone()]).unwrap();
        assert_eq!(store.forks().len(), 1);
    }
    std::fs::remove_dir_all(dir.path().join("db")).unwrap();
    let store = SledStore::open_path(dir.path(), f.charter.clone()).unwrap();
    assert_eq!(store.head(&own[0].author).unwrap().id, own[699].id);
    assert_eq!(store.range(&own[0].author, 0, 1000).unwrap(), own);
    assert_eq!(
        store.forks().len(),
        1,
        "the fork proof is in the data file too"
    );
    assert_eq!(store.head(&honest[0].author).unwrap().seq, 3);
    assert!(store.damaged().is_empty());
    // The next own event continues after 700; seq 700 cannot be signed again.
    let mut w = writer(&f, 0);
    w.rewind(store.head(&own[0].author));
    let next = w.next(body(701), vec![], 2_000_000).unwrap();
    assert_eq!(next.seq, 701);
    store.append_own(&[next]).unwrap();
    assert!(store.append_own(&[own[699].clone()]).is_err());
}

/// An index restored from an older copy (behind the data file) is caught up; a data file
/// restored from an older copy (behind the index) leaves the feeds it lost marked damaged
/// until peers send them back.
#[test]
fn an_index_and_a_data_file_of_different_ages_are_reconciled() {
    let f = fixture();
    let own = feed(&f, 0, 20, 0);
    let author = own[0].author;
    let copy = copy_dir;
    let dir = tempfile::tempdir().unwrap();
    let old_db = dir.path().join("old-db");
    let old_log = dir.path().join("old-events.log");
    {
        let store = SledStore::open_path(dir.path(), f.charter.clone()).unwrap();
        store.append_own(&own[..10]).unwrap();
    }
    copy(&dir.path().join("db"), &old_db);
    std::fs::copy(dir.path().join("events.log"), &old_log).unwrap();
    {
        let store = SledStore::open_path(dir.path(), f.charter.clone()).unwrap();
        store.append_own(&own[10..]).unwrap();
    }
    // An older index over the newer data file.
    let new_db = dir.path().join("new-db");
    copy(&dir.path().join("db"), &new_db);
    copy(&old_db, &dir.path().join("db"));
    {
        let store = SledStore::open_path(dir.path(), f.charter.clone()).unwrap();
        assert_eq!(store.head(&author).unwrap().seq, 20);
        assert!(store.damaged().is_empty());
    }
    // The newer index over an older data file.
    copy(&new_db, &dir.path().join("db"));
    std::fs::copy(&old_log, dir.path().join("events.log")).unwrap();
    let store = SledStore::open_path(dir.path(), f.charter.clone()).unwrap();
    assert_eq!(store.head(&author).unwrap().seq, 10);
    let damage = store.damaged().remove(&author).unwrap();
    assert_eq!((damage.from_seq, damage.held_until), (11, 20));
    let again = writer(&f, 0);
    drop(again);
    assert!(matches!(
        store.append_own(&[own[10].clone()]),
        Err(StoreError::NotAppendable { .. })
    ));
    store.insert(own[10..].to_vec()).unwrap();
    assert!(store.damaged().is_empty());
}

/// A write torn by a crash leaves a partial frame at the end of the data file: it is skipped,
/// and what is appended after it is found again by the next rebuild.
#[test]
fn a_torn_frame_is_skipped_and_later_frames_are_found() {
    let f = fixture();
    let own = feed(&f, 0, 8, 0);
    let author = own[0].author;
    let dir = tempfile::tempdir().unwrap();
    {
        let store = SledStore::open_path(dir.path(), f.charter.clone()).unwrap();
        store.append_own(&own[..4]).unwrap();
    }
    // Half a frame, as a crash in the middle of a write leaves it.
    let path = dir.path().join("events.log");
    let mut bytes = std::fs::read(&path).unwrap();
    let torn = own[4].encode_signed();
    bytes.push(0xE6);
    bytes.extend_from_slice(&(torn.len() as u32).to_be_bytes());
    bytes.extend_from_slice(&torn[..torn.len() / 2]);
    std::fs::write(&path, &bytes).unwrap();
    {
        let store = SledStore::open_path(dir.path(), f.charter.clone()).unwrap();
        assert_eq!(store.head(&author).unwrap().seq, 4);
        store.append_own(&own[4..]).unwrap();
    }
    std::fs::remove_dir_all(dir.path().join("db")).unwrap();
    let store = SledStore::open_path(dir.path(), f.charter.clone()).unwrap();
    assert_eq!(store.range(&author, 0, 10).unwrap(), own);
}

/// A data file of the first format (no header, no checksums) is converted when opened.
#[test]
fn a_first_format_data_file_is_converted() {
    let f = fixture();
    let own = feed(&f, 0, 5, 0);
    let dir = tempfile::tempdir().unwrap();
    let mut legacy = Vec::new();
    for event in &own {
        let bytes = event.encode_signed();
        legacy.push(0xE5);
        legacy.extend_from_slice(&(bytes.len() as u32).to_be_bytes());
        legacy.extend_from_slice(&bytes);
    }
    std::fs::write(dir.path().join("events.log"), &legacy).unwrap();
    let store = SledStore::open_path(dir.path(), f.charter.clone()).unwrap();
    assert_eq!(store.range(&own[0].author, 0, 10).unwrap(), own);
    let converted = std::fs::read(dir.path().join("events.log")).unwrap();
    assert!(converted.starts_with(b"MAILLAGE-EVENTS\0"));
}

#[test]
fn full_verification_finds_a_flipped_signature_byte_in_the_middle_of_a_feed() {
    let f = fixture();
    let own = feed(&f, 0, 6, 0);
    let store = MemoryStore::in_memory(f.charter.clone());
    store.append_own(&own).unwrap();
    let mut tampered = own[2].signed.clone();
    tampered.signature[10] ^= 1;
    store
        .backend()
        .write_events(&[(own[2].author, 3, tampered.encode_to_vec())])
        .unwrap();
    // Hashes and links do not cover signatures: only the full check sees it.
    assert_eq!(store.verify(false, &mut |_| {}).unwrap().broken, None);
    let broken = store.verify(true, &mut |_| {}).unwrap().broken.unwrap();
    assert_eq!(broken.seq, 3);
    assert!(
        broken.reason.contains("signature does not verify"),
        "{}",
        broken.reason
    );
}

/// In a federation larger than `DEPS_MAX` other feeds, a new event names at most `DEPS_MAX`
/// heads, and the next one names heads left out (nothing already in its past).
#[test]
fn the_causal_past_respects_the_deps_bound_and_rotates() {
    use maillage_core::envelope::DEPS_MAX;
    let keys: Vec<SecretKey> = (0..70u8)
        .map(|n| SecretKey::from_seed(&[n + 1; 32]))
        .collect();
    let members = keys
        .iter()
        .enumerate()
        .map(|(i, k)| MemberSpec {
            key: k.hub_id(),
            name: format!("hub {i}"),
            role: Role::Hub,
            territories: vec![format!("{:02}", if i + 1 >= 20 { i + 2 } else { i + 1 })],
        })
        .collect();
    let charter = Arc::new(Charter::found("Large federation", 1, members).unwrap());
    let store = MemoryStore::in_memory(charter.clone());
    let me = keys[0].hub_id();
    for key in &keys[1..] {
        let mut writer = FeedWriter::new(
            SecretKey::from_seed(&key.seed()),
            charter.federation_id(),
            None,
            0,
            MAX_AHEAD_MS_DEFAULT,
        );
        store
            .insert(vec![writer.next(body(1), vec![], 1_000_000).unwrap()])
            .unwrap();
    }
    let first = store.causal_past(&me);
    assert_eq!(first.len(), DEPS_MAX);
    let mut writer = FeedWriter::new(
        SecretKey::from_seed(&keys[0].seed()),
        charter.federation_id(),
        None,
        0,
        MAX_AHEAD_MS_DEFAULT,
    );
    let own = writer.next(body(2), first.clone(), 1_000_001).unwrap();
    store.append_own(&[own]).unwrap();
    let second = store.causal_past(&me);
    assert_eq!(
        second.len(),
        DEPS_MAX.min(69 - DEPS_MAX),
        "only the feeds left out"
    );
    assert!(
        second
            .iter()
            .all(|d| !first.iter().any(|f| f.author == d.author))
    );
    // More deps than any receiver accepts are never signed.
    let too_many: Vec<_> = first.iter().chain(&second).copied().collect();
    assert!(writer.next(body(3), too_many, 1_000_002).is_err());
}

/// A store written by a protocol v1 release (events of version 1) is refused at open with the
/// way out, not cut as damaged (which would hide it and fetch "the rest" from peers).
#[test]
fn a_store_of_another_protocol_version_is_refused_at_open() {
    let f = fixture();
    let secret = &f.keys[0];
    let mut rows = Vec::new();
    let mut prev: Option<maillage_core::EventId> = None;
    for seq in 1..=3u64 {
        let payload = pb::Event {
            version: 1,
            federation: f.charter.federation_id().0.to_vec(),
            author: secret.hub_id().0.to_vec(),
            seq,
            prev: prev.map(|p| p.0.to_vec()).unwrap_or_default(),
            hlc: (1_000_000 + seq) << 16,
            deps: vec![],
            body: Some(body(seq)),
        }
        .encode_to_vec();
        prev = Some(maillage_core::crypto::event_id(&payload));
        let signature = secret.sign_payload(&payload).to_vec();
        let signed = pb::SignedEvent {
            payload,
            signature,
            personal: Vec::new(),
        };
        rows.push((secret.hub_id(), seq, signed.encode_to_vec()));
    }
    let dir = tempfile::tempdir().unwrap();
    {
        let backend = SledBackend::open(dir.path()).unwrap();
        backend.write_events(&rows).unwrap();
    }
    let error = SledStore::open_path(dir.path(), f.charter.clone()).unwrap_err();
    assert!(
        matches!(error, StoreError::UnsupportedVersion { seq: 1, .. }),
        "{error}"
    );
    let text = error.to_string();
    for words in [
        "written by another maillage release",
        "version: expected 2, found 1",
        "this node implements protocol v2",
        "maillage init",
    ] {
        assert!(text.contains(words), "{words:?} not in {text}");
    }
}

/// A disk that filled while sled wrote left an index sled reads as corrupt ("Read corrupted
/// data"): the node refused to start until someone deleted `store/db` by hand. The index is
/// derived from the data file, so the store removes it and rebuilds it.
#[test]
fn an_index_sled_cannot_read_is_rebuilt_from_the_data_file() {
    let f = fixture();
    let dir = tempfile::tempdir().unwrap();
    let own = feed(&f, 0, 50, 0);
    {
        let store = SledStore::open_path(dir.path(), f.charter.clone()).unwrap();
        store.append_own(&own).unwrap();
    }
    // What a snapshot sled could not write on a full disk leaves: an empty file it takes for
    // its latest snapshot, and then reads as corrupt.
    std::fs::write(
        dir.path()
            .join("db")
            .join("snap.00000000000F0000.generating"),
        b"",
    )
    .unwrap();
    let store = SledStore::open_path(dir.path(), f.charter.clone())
        .unwrap_or_else(|e| panic!("a damaged index keeps the store from opening: {e}"));
    assert_eq!(store.range(&own[0].author, 0, 100).unwrap(), own);
    assert!(store.damaged().is_empty());
}

/// A data file with junk between frames and a torn tail (what a crash mid-write or a bad
/// disk leaves): the store opens around them every time, logging them again; `repair` keeps
/// every valid frame, drops the rest, says what, and keeps the damaged file beside it.
#[test]
fn repair_keeps_every_valid_frame_and_says_what_it_dropped() {
    let f = fixture();
    let dir = tempfile::tempdir().unwrap();
    let own = feed(&f, 0, 30, 0);
    {
        let store = SledStore::open_path(dir.path(), f.charter.clone()).unwrap();
        store.append_own(&own[..20]).unwrap();
    }
    let log = dir.path().join("events.log");
    let clean_len = std::fs::metadata(&log).unwrap().len();
    // Junk after the 20th frame, then ten more frames, then a torn frame.
    std::fs::OpenOptions::new()
        .append(true)
        .open(&log)
        .unwrap()
        .write_all(&[0xEE; 37])
        .unwrap();
    {
        let store = SledStore::open_path(dir.path(), f.charter.clone()).unwrap();
        store.append_own(&own[20..]).unwrap();
    }
    let full_len = std::fs::metadata(&log).unwrap().len();
    std::fs::OpenOptions::new()
        .append(true)
        .open(&log)
        .unwrap()
        .write_all(&[0x01, 0, 0, 0, 200, 1, 2, 3])
        .unwrap();

    let repair = crate::repair_data_file(dir.path()).unwrap();
    assert_eq!(repair.frames_kept, 30);
    assert_eq!(
        repair.dropped,
        vec![(clean_len, clean_len + 37), (full_len, full_len + 8)]
    );
    let kept_as = repair.kept_as.unwrap();
    assert_eq!(std::fs::metadata(&kept_as).unwrap().len(), full_len + 8);
    assert_eq!(std::fs::metadata(&log).unwrap().len(), full_len - 37);
    let store = SledStore::open_path(dir.path(), f.charter.clone()).unwrap();
    assert_eq!(store.range(&own[0].author, 0, 100).unwrap(), own);
    assert!(store.damaged().is_empty());
    drop(store);
    // A sound file is left as it is.
    let again = crate::repair_data_file(dir.path()).unwrap();
    assert_eq!(
        (again.frames_kept, again.dropped, again.kept_as),
        (30, vec![], None)
    );
}

/// A frame damaged in the middle of the own feed is dropped by `repair`; the next open still
/// knows from the index how far the feed went, so the hub signs none of those positions again
/// until a peer sends them back.
#[test]
fn a_repaired_own_feed_stays_marked_damaged_until_peers_return_it() {
    let f = fixture();
    let own = feed(&f, 0, 6, 0);
    let author = own[0].author;
    let dir = tempfile::tempdir().unwrap();
    {
        let store = SledStore::open_path(dir.path(), f.charter.clone()).unwrap();
        store.append_own(&own).unwrap();
    }
    let path = dir.path().join("events.log");
    let mut bytes = std::fs::read(&path).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x10;
    std::fs::write(&path, &bytes).unwrap();
    let repair = crate::repair_data_file(dir.path()).unwrap();
    assert_eq!(repair.frames_kept, 5);
    let store = SledStore::open_path(dir.path(), f.charter.clone()).unwrap();
    let damage = store
        .damaged()
        .remove(&author)
        .expect("the cut is remembered");
    assert_eq!(damage.held_until, 6);
    let next = writer(&f, 0).next(body(99), vec![], 2_000_000).unwrap();
    assert!(matches!(
        store.append_own(&[next]),
        Err(StoreError::NotAppendable { .. })
    ));
    let held = store.head(&author).map_or(0, |h| h.seq);
    store.insert(own[held as usize..].to_vec()).unwrap();
    assert!(store.damaged().is_empty());
    assert_eq!(store.head(&author).unwrap().id, own[5].id);
}
