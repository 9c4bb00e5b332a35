//! A hub whose disk fills, on a real daemon: its data dir is a 16 MiB tmpfs. A command that
//! cannot be stored fails saying so, loses nothing acknowledged, and once space returns the
//! next command succeeds without a restart. Stopping and starting with a full disk leaves no
//! stray temporary file and no index the next start cannot read (sled's empty snapshot file
//! once kept the node from starting until `store/db` was deleted by hand).
//!
//! Needs root and permission to mount a tmpfs; says SKIPPED otherwise.
#![allow(clippy::unwrap_used)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

mod common;
#[path = "common/served.rs"]
mod served;

use common::{issue_batch_args, json, maillage, on};
use served::{Served, free_port};

/// A tmpfs mounted for the test, unmounted when dropped.
struct Tmpfs(PathBuf);

impl Tmpfs {
    fn mount(path: &Path, size: &str) -> Result<Self, String> {
        std::fs::create_dir_all(path).unwrap();
        let out = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(path)
            .output()
            .map_err(|e| format!("mount: {e}"))?;
        if out.status.success() {
            Ok(Self(path.to_path_buf()))
        } else {
            Err(String::from_utf8_lossy(&out.stderr).trim().to_owned())
        }
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.0).status();
    }
}

/// Fills the file system holding `dir` with `dir/filler` until a write fails.
fn fill(dir: &Path) {
    let mut file = std::fs::File::create(dir.join("filler")).unwrap();
    let chunk = vec![0u8; 64 * 1024];
    while file.write_all(&chunk).is_ok() {}
    let small = [0u8; 512];
    while file.write_all(&small).is_ok() {}
    let _ = file.sync_all();
}

fn issue(dir: &Path, batch: &str) -> std::process::Output {
    let args = issue_batch_args("hub", batch, "CAF des Bouches-du-Rhône", "2");
    maillage(dir, &args.iter().map(String::as_str).collect::<Vec<_>>())
}

fn own_seq(dir: &Path) -> u64 {
    json(&on(dir, "hub", &["status", "--json"]))["feeds"][0]["seq"]
        .as_u64()
        .unwrap()
}

fn strays(dir: &Path) -> Vec<String> {
    let mut found = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "tmp") {
                found.push(path.display().to_string());
            }
        }
    }
    found
}

#[test]
fn a_full_disk_loses_nothing_and_the_hub_resumes_when_space_returns() {
    let work = tempfile::tempdir().unwrap();
    let dir = work.path();
    let disk = match Tmpfs::mount(&dir.join("hub"), "16m") {
        Ok(disk) => disk,
        Err(why) => {
            println!("SKIPPED: cannot mount a tmpfs for the data dir ({why})");
            return;
        }
    };
    let hub = disk.0.clone();
    on(
        dir,
        "hub",
        &["init", "--name", "Hub du Sud", "--territories", "13,84"],
    );
    let mut served = Served::start(dir, "hub", free_port(), &[], &[]);
    let pid = served.pid().unwrap();
    assert!(issue(dir, "13-2026-A").status.success());

    // Full: commands fail, saying why; what was acknowledged stays.
    fill(&hub);
    let mut refused = None;
    let mut acknowledged = own_seq(dir);
    for n in 0..2000 {
        let out = issue(dir, &format!("13-2026-B{n}"));
        if out.status.success() {
            acknowledged += 1;
        } else {
            refused = Some(String::from_utf8_lossy(&out.stderr).into_owned());
            break;
        }
    }
    let refused = refused.expect("a full disk never refused a command");
    assert!(
        refused.contains("No space left on device"),
        "the refusal does not say the disk is full: {refused}"
    );
    assert_eq!(own_seq(dir), acknowledged, "{refused}");

    // Space returns: the same daemon signs again.
    std::fs::remove_file(hub.join("filler")).unwrap();
    let out = issue(dir, "13-2026-C");
    assert!(
        out.status.success(),
        "after space returned: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    acknowledged += 1;
    assert_eq!(served.pid(), Some(pid), "the daemon was restarted");
    assert_eq!(own_seq(dir), acknowledged);

    // Stopped with a full disk: the views are not saved (they would not fit beside the log),
    // nothing temporary is left behind.
    fill(&hub);
    served.stop();
    assert!(
        served.log().contains("not saving the views"),
        "{}",
        served.log()
    );
    assert_eq!(strays(&hub), Vec::<String>::new());

    // A start on the full disk either serves or says why; with space back it serves, holding
    // every acknowledged event, its store verified.
    match served.try_spawn(Duration::from_secs(30)) {
        Ok(()) => println!("started on the full disk"),
        Err(why) => println!("refused to start on the full disk: {why}"),
    }
    served.kill();
    std::fs::remove_file(hub.join("filler")).unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    served.spawn();
    while own_seq(dir) < acknowledged {
        assert!(Instant::now() < deadline, "{}", served.log());
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(own_seq(dir), acknowledged);
    assert!(issue(dir, "13-2026-D").status.success());
    served.stop();
    let verify = on(dir, "hub", &["log", "verify"]);
    assert!(verify.contains("OK"), "{verify}");
    assert_eq!(strays(&hub), Vec::<String>::new());
}
