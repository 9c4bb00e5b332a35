//! A charter amendment chose the branch of a forked feed that stands (protocol §1b): the
//! store serves that branch again, whether it held it or takes it from peers.

use super::*;

/// A feed of `count` events sharing the first three with [`feed`]`(f, key, count, 0)`, then
/// another branch (salted with `salt`).
fn other_branch(f: &Fixture, key: usize, count: u64, salt: u64) -> Vec<VerifiedEvent> {
    let mut w = writer(f, key);
    (1..=count)
        .map(|n| {
            let salt = if n <= 3 { 0 } else { salt };
            w.next(body(n * 1000 + salt), vec![], 1_000_000 + n)
                .unwrap()
        })
        .collect()
}

/// The branch the store holds is chosen: it is served up to the amendment's seq, nothing
/// past it is taken, and asking again changes nothing.
pub(super) fn a_held_branch_stands_again<B: Backend>(make: &impl Fn(Arc<Charter>) -> Store<B>) {
    let f = fixture();
    let held = feed(&f, 1, 6, 0);
    let other = other_branch(&f, 1, 6, 7);
    let author = held[0].author;
    let store = make(f.charter.clone());
    store.insert(held.clone()).unwrap();
    store.insert(vec![other[3].clone()]).unwrap();
    assert_eq!(
        store.head(&author).map(|h| h.seq),
        Some(3),
        "frozen before the fork"
    );
    assert_eq!(store.held_branch(&author).unwrap(), Some((6, held[5].id)));

    assert!(store.resolve_fork(&author, 5, held[4].id).unwrap());
    assert_eq!(
        store.head(&author),
        Some(Head {
            seq: 5,
            id: held[4].id
        })
    );
    assert_eq!(store.range(&author, 0, 10).unwrap(), held[..5].to_vec());
    let recorded = store.forks().remove(&author).unwrap();
    assert_eq!(recorded.resolved, Some((5, held[4].id)));
    assert_eq!(recorded.valid_until(), 5);
    assert_eq!(
        store.insert(vec![held[5].clone()]).unwrap(),
        vec![Inserted::Frozen { valid_until: 5 }],
        "nothing past the amendment's last seq"
    );
    assert!(
        store.resolve_fork(&author, 5, held[4].id).unwrap(),
        "idempotent"
    );
}

/// The store holds another branch, or nothing, past the fork: it records that it takes the
/// chosen branch from peers, refuses another event at its last seq, and resolves when the
/// chosen event arrives.
pub(super) fn a_branch_not_held_is_taken_from_peers<B: Backend>(
    make: &impl Fn(Arc<Charter>) -> Store<B>,
) {
    let f = fixture();
    let chosen = feed(&f, 1, 6, 0);
    let other = other_branch(&f, 1, 6, 7);
    let author = chosen[0].author;
    let (proof, _) = ForkProof::from_pair(&chosen[3], &other[3]).unwrap();

    // Only the proof and the events before the fork.
    let store = make(f.charter.clone());
    store.insert(chosen[..3].to_vec()).unwrap();
    store.accept_fork_proof(proof.clone()).unwrap();
    assert!(!store.resolve_fork(&author, 5, chosen[4].id).unwrap());
    let recorded = store.forks().remove(&author).unwrap();
    assert_eq!(recorded.resolving, Some((5, chosen[4].id)));
    assert_eq!(recorded.resolved, None);
    assert_eq!(
        recorded.valid_until(),
        3,
        "served up to the fork until it arrives"
    );
    // Another event at the chosen seq is refused; the chain up to it is taken.
    let off = {
        let mut w = writer(&f, 1);
        let mut last = None;
        for n in 1..=5 {
            let body = if n == 5 { body(99_999) } else { body(n * 1000) };
            last = Some(w.next(body, vec![], 1_000_000 + n).unwrap());
        }
        last.unwrap()
    };
    assert_eq!(off.seq, 5);
    assert_ne!(off.id, chosen[4].id);
    let out = store.insert(vec![chosen[3].clone(), off]).unwrap();
    assert_eq!(out[0], Inserted::Stored);
    assert_eq!(
        out[1],
        Inserted::Frozen { valid_until: 5 },
        "off the chosen branch"
    );
    assert_eq!(store.forks()[&author].resolved, None);
    let out = store.insert(chosen[4..].to_vec()).unwrap();
    assert_eq!(out[0], Inserted::Stored);
    assert_eq!(
        out[1],
        Inserted::Frozen { valid_until: 5 },
        "past the last seq"
    );
    let recorded = store.forks().remove(&author).unwrap();
    assert_eq!(recorded.resolved, Some((5, chosen[4].id)));
    assert_eq!(recorded.resolving, None);
    assert_eq!(store.range(&author, 0, 10).unwrap(), chosen[..5].to_vec());

    // Holding the other branch past the fork: the chosen one replaces it.
    let store = make(f.charter.clone());
    store.insert(other.clone()).unwrap();
    store.accept_fork_proof(proof).unwrap();
    assert_eq!(store.held_branch(&author).unwrap(), Some((6, other[5].id)));
    assert!(!store.resolve_fork(&author, 5, chosen[4].id).unwrap());
    let out = store.insert(chosen[3..5].to_vec()).unwrap();
    assert_eq!(out, vec![Inserted::Stored, Inserted::Stored]);
    assert_eq!(store.forks()[&author].resolved, Some((5, chosen[4].id)));
    assert_eq!(store.range(&author, 0, 10).unwrap(), chosen[..5].to_vec());
}

/// A resolution, and an intent to resolve, survive a restart; a rebuilt index keeps the
/// chosen branch.
#[test]
fn a_resolution_survives_reopening_and_an_index_rebuild() {
    let f = fixture();
    let chosen = feed(&f, 1, 6, 0);
    let other = other_branch(&f, 1, 6, 7);
    let author = chosen[0].author;
    let (proof, _) = ForkProof::from_pair(&chosen[3], &other[3]).unwrap();
    let dir = tempfile::tempdir().unwrap();
    {
        let store = SledStore::open_path(dir.path(), f.charter.clone()).unwrap();
        store.insert(other.clone()).unwrap();
        store.accept_fork_proof(proof.clone()).unwrap();
        assert!(!store.resolve_fork(&author, 5, chosen[4].id).unwrap());
    }
    {
        let store = SledStore::open_path(dir.path(), f.charter.clone()).unwrap();
        assert_eq!(store.forks()[&author].resolving, Some((5, chosen[4].id)));
        store.insert(chosen[3..5].to_vec()).unwrap();
        assert_eq!(store.forks()[&author].resolved, Some((5, chosen[4].id)));
    }
    let store = SledStore::open_path(dir.path(), f.charter.clone()).unwrap();
    assert_eq!(
        store.head(&author),
        Some(Head {
            seq: 5,
            id: chosen[4].id
        })
    );
    assert_eq!(store.range(&author, 0, 10).unwrap(), chosen[..5].to_vec());
    drop(store);
    let index = dir.path().join("db");
    assert!(index.exists(), "the sled index lives in {index:?}");
    std::fs::remove_dir_all(&index).unwrap();
    // The resolution is the charter's (an amendment the node folds): a rebuilt index has the
    // fork again, and the node's fold asks for the resolution again, which the data file holds.
    let store = SledStore::open_path(dir.path(), f.charter.clone()).unwrap();
    assert_eq!(store.head(&author).map(|h| h.seq), Some(3));
    assert!(store.resolve_fork(&author, 5, chosen[4].id).unwrap());
    assert_eq!(
        store.head(&author),
        Some(Head {
            seq: 5,
            id: chosen[4].id
        })
    );
    assert_eq!(store.range(&author, 0, 10).unwrap(), chosen[..5].to_vec());
}

/// Two versions of a feed that differ from seq 1. A store holding one version to seq 4 that
/// receives the other's seq 5 proves a fork at 4 (form b: seq 5's `prev` contradicts its seq
/// 4), though the versions differ from seq 1. Once a proof at a lower seq arrives it replaces
/// the recorded one and the feed's valid head moves down; a higher or equal proof changes
/// nothing (protocol §3: the lowest proof stands).
pub(super) fn the_lowest_fork_proof_stands<B: Backend>(make: &impl Fn(Arc<Charter>) -> Store<B>) {
    let f = fixture();
    let one = feed(&f, 1, 6, 0);
    let two = feed(&f, 1, 6, 5);
    let author = one[0].author;
    let store = make(f.charter.clone());
    store.insert(one[..4].to_vec()).unwrap();
    let out = store.insert(vec![two[4].clone()]).unwrap();
    assert!(
        matches!(out[0], Inserted::Fork(Fork { seq: 4, .. })),
        "{out:?}"
    );
    assert_eq!(store.head(&author).map(|h| h.seq), Some(3));

    // A proof at 5 (higher): nothing changes.
    let (higher, _) = ForkProof::from_pair(&one[4], &two[4]).unwrap();
    assert_eq!(store.accept_fork_proof(higher).unwrap(), None);
    assert_eq!(store.forks()[&author].fork.seq, 4);

    // The first seq with two versions, found by inserting the other version's seq 2 (form a).
    let out = store.insert(vec![two[1].clone()]).unwrap();
    assert!(
        matches!(out[0], Inserted::Fork(Fork { seq: 2, .. })),
        "{out:?}"
    );
    assert_eq!(store.forks()[&author].fork.seq, 2);
    assert_eq!(
        store.head(&author),
        Some(Head {
            seq: 1,
            id: one[0].id
        })
    );
    assert_eq!(
        store.insert(vec![one[2].clone()]).unwrap(),
        vec![Inserted::Frozen { valid_until: 1 }]
    );

    // And by gossip: the proof at 1 replaces it; the feed has no valid event left.
    let (lowest, _) = ForkProof::from_pair(&one[0], &two[0]).unwrap();
    let fork = store.accept_fork_proof(lowest.clone()).unwrap();
    assert_eq!(fork.map(|f| f.seq), Some(1));
    assert_eq!(store.forks()[&author].proof, lowest);
    assert_eq!(store.head(&author), None);
    assert!(store.range(&author, 0, 10).unwrap().is_empty());
}
