//! `maillage bench scale` end to end on a small history: the history goes straight into the
//! hub's store, the hub and the observer run as real daemons, the observer catches up to the
//! hub's digest, and every figure is reported.
#![allow(clippy::unwrap_used)]

mod common;

use common::{maillage, ok};

#[test]
fn a_small_scale_run_over_a_hundred_hubs_reports_every_figure_and_one_digest() {
    let dir = tempfile::tempdir().unwrap();
    let out = ok(
        dir.path(),
        &[
            "bench", "scale", "--events", "20000", "--hubs", "100", "--json",
        ],
    );
    let report: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(report["hubs"], 100);
    // The generator stops at the end of the step that reaches the target.
    let events = report["events"].as_u64().unwrap();
    assert!((20_000..20_010).contains(&events), "{events}");
    for figure in [
        "generate_s",
        "signed_bytes_per_event",
        "first_open_s",
        "first_open_rss_mib",
        "reopen_s",
        "reopen_rss_mib",
        "crash_reopen_s",
        "crash_reopen_rss_mib",
        "catch_up_per_s",
        "observer_rss_mib",
        "hub_serving_rss_mib",
    ] {
        assert!(report[figure].as_f64().unwrap() > 0.0, "{figure}: {report}");
    }
    assert!(report["hub_disk_bytes"].as_u64().unwrap() > events * 300);
    assert_eq!(report["reads"].as_array().unwrap().len(), 3);
    assert_eq!(report["digest"].as_str().unwrap().len(), 64, "{report}");
    assert_eq!(report["stopped_cleanly"], true);
}

#[test]
fn a_count_of_hubs_the_workload_cannot_have_is_refused_before_anything_is_generated() {
    let dir = tempfile::tempdir().unwrap();
    let out = maillage(
        dir.path(),
        &[
            "bench", "scale", "--events", "1000", "--hubs", "1", "--keep", "kept",
        ],
    );
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("de 2 à 101 hubs"), "{stderr}");
    assert!(!dir.path().join("kept").join("hub").exists());
}
