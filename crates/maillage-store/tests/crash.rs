//! Crash test: a child process appends to a sled store in a loop and prints every
//! acknowledged event; the parent kills it with SIGKILL at random moments, many times. After
//! each kill the store must reopen (reading the heads only when its data file is what its last
//! write recorded, walking every chain otherwise), hold every acknowledged event with the same
//! id, and the next child must continue the feed without reusing a sequence number.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use maillage_core::hlc::MAX_AHEAD_MS_DEFAULT;
use maillage_core::{Charter, EventId, FeedWriter, MemberSpec, Role, SecretKey, pb};
use maillage_store::{EventStore, SledStore};
use rand::RngExt;

const CHILD_DIR_VAR: &str = "MAILLAGE_CRASH_CHILD_DIR";

fn secret() -> SecretKey {
    SecretKey::from_seed(&[42; 32])
}

fn charter() -> Arc<Charter> {
    let member = MemberSpec {
        key: secret().hub_id(),
        name: "Crash hub".into(),
        role: Role::Hub,
        territories: vec!["05".into()],
    };
    Arc::new(Charter::found("Crash test", 1, vec![member]).unwrap())
}

/// The child: appends batches of 1..=16 events forever, printing `ack <seq> <id>` for each
/// event once `append_own` has returned (i.e. once it is durable).
#[test]
#[ignore = "run by acknowledged_appends_survive_sigkill as a child process"]
fn crash_child() {
    let Ok(dir) = std::env::var(CHILD_DIR_VAR) else {
        return;
    };
    let charter = charter();
    let store = SledStore::open_path(dir.as_ref(), charter.clone()).unwrap();
    let author = secret().hub_id();
    let mut writer = FeedWriter::new(
        secret(),
        charter.federation_id(),
        store.head(&author),
        store.head_hlcs().get(&author).copied().unwrap_or(0),
        MAX_AHEAD_MS_DEFAULT,
    );
    let mut rng = rand::rng();
    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "ready {}", store.head(&author).map_or(0, |h| h.seq)).unwrap();
    stdout.flush().unwrap();
    let wall_ms = 1_800_000_000_000u64;
    loop {
        let batch: Vec<_> = (0..rng.random_range(1..=16))
            .map(|i| {
                let body = pb::event::Body::VenueClosed(pb::VenueClosed {
                    venue_id: format!("v{i}"),
                    reason: "x".repeat(rng.random_range(10..300)),
                    ..Default::default()
                });
                writer.next(body, vec![], wall_ms).unwrap()
            })
            .collect();
        store.append_own(&batch).unwrap();
        for event in &batch {
            writeln!(stdout, "ack {} {}", event.seq, event.id).unwrap();
        }
        stdout.flush().unwrap();
    }
}

#[test]
fn acknowledged_appends_survive_sigkill() {
    let kills: usize = std::env::var("MAILLAGE_CRASH_KILLS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(30);
    let dir = tempfile::tempdir().unwrap();
    let charter = charter();
    let author = secret().hub_id();
    let mut acknowledged: BTreeMap<u64, EventId> = BTreeMap::new();
    let mut rng = rand::rng();
    // Reopens that read the heads only (the data file as the last write recorded it).
    let mut trusted = 0u32;
    for round in 0..kills {
        let mut child = Command::new(std::env::current_exe().unwrap())
            .args([
                "--exact",
                "crash_child",
                "--ignored",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(CHILD_DIR_VAR, dir.path())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let reader = std::thread::spawn(move || {
            let mut acks = Vec::new();
            let mut ready = None;
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                let mut parts = line.split_whitespace();
                match parts.next() {
                    Some("ready") => ready = parts.next().and_then(|s| s.parse::<u64>().ok()),
                    Some("ack") => {
                        let seq: u64 = parts.next().unwrap().parse().unwrap();
                        let id: EventId = parts.next().unwrap().parse().unwrap();
                        acks.push((seq, id));
                    }
                    _ => {}
                }
            }
            (ready, acks)
        });
        std::thread::sleep(Duration::from_millis(rng.random_range(30..250)));
        child.kill().unwrap(); // SIGKILL on Unix
        child.wait().unwrap();
        let (ready, acks) = reader.join().unwrap();
        if let Some(start) = ready {
            let previous = acknowledged.keys().next_back().copied().unwrap_or(0);
            assert!(
                start >= previous,
                "round {round}: the child restarted at {start} below acknowledged {previous}"
            );
        }
        for (seq, id) in acks {
            if let Some(old) = acknowledged.insert(seq, id) {
                assert_eq!(
                    old, id,
                    "round {round}: seq {seq} was acknowledged twice with different ids"
                );
            }
        }
        // Reopen: every acknowledged event is there with its id, and what the open trusted
        // (the last write's record) holds when every chain is walked.
        let store = SledStore::open_path(dir.path(), charter.clone()).unwrap();
        trusted += u32::from(store.opened_sealed());
        assert_eq!(
            store.verify(false, &mut |_| {}).unwrap().broken,
            None,
            "round {round}: the store opened with a broken chain"
        );
        let head = store.head(&author).map_or(0, |h| h.seq);
        let last_ack = acknowledged.keys().next_back().copied().unwrap_or(0);
        assert!(
            head >= last_ack,
            "round {round}: head {head} < acknowledged {last_ack}"
        );
        for event in store.range(&author, 0, usize::MAX).unwrap() {
            if let Some(id) = acknowledged.get(&event.seq) {
                assert_eq!(
                    *id, event.id,
                    "round {round}: seq {} changed after a crash",
                    event.seq
                );
            }
        }
        // Events written but not acknowledged before the kill are kept: record them so a
        // later round cannot reuse their seq silently.
        for event in store.range(&author, last_ack, usize::MAX).unwrap() {
            acknowledged.insert(event.seq, event.id);
        }
    }
    let store = SledStore::open_path(dir.path(), charter.clone()).unwrap();
    let report = store.verify(true, &mut |_| {}).unwrap();
    assert_eq!(report.broken, None);
    let total = acknowledged.len() as u64;
    assert_eq!(report.signatures, total);
    assert_eq!(
        acknowledged.keys().copied().collect::<Vec<_>>(),
        (1..=total).collect::<Vec<_>>()
    );
    assert!(total > 0, "the child never acknowledged anything");
    eprintln!(
        "{kills} SIGKILLs, {total} events acknowledged and present; {trusted} reopens read the heads only"
    );
}
