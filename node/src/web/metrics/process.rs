//! The process's own figures (`process_*`, named as every Prometheus client library names
//! them) and the disk the data dir lives on, read at each scrape from Linux's `/proc` and
//! `statvfs`. On another system, or if `/proc` is not mounted, the process figures are left
//! out rather than reported as zero.

use std::path::Path;

/// Clock ticks per second of `/proc/*/stat` times: `USER_HZ`, 100 on every Linux
/// architecture the node is built for (the kernel fixes it for user space).
const USER_HZ: f64 = 100.0;

/// What `/proc/self` says about this process.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ProcessFigures {
    /// User and system CPU time (seconds).
    pub cpu_seconds: f64,
    /// Resident memory (bytes).
    pub resident_bytes: u64,
    /// Virtual memory (bytes).
    pub virtual_bytes: u64,
    /// Open file descriptors.
    pub open_fds: u64,
    /// The soft limit on open file descriptors (`None`: unlimited).
    pub max_fds: Option<u64>,
    /// When the process started (Unix time, seconds).
    pub start_time_seconds: f64,
    /// Threads.
    pub threads: u64,
}

/// Reads this process's figures, `None` where `/proc` cannot tell.
pub fn read() -> Option<ProcessFigures> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    let boot_time = std::fs::read_to_string("/proc/stat")
        .ok()
        .and_then(|text| boot_time(&text));
    let mut figures = parse_stat(&stat, boot_time)?;
    if let Ok(status) = std::fs::read_to_string("/proc/self/status") {
        let (resident, virtual_bytes) = parse_status(&status);
        figures.resident_bytes = resident.unwrap_or(figures.resident_bytes);
        figures.virtual_bytes = virtual_bytes.unwrap_or(figures.virtual_bytes);
    }
    // `read_dir` holds one descriptor open itself while it lists them.
    figures.open_fds = std::fs::read_dir("/proc/self/fd")
        .map(|entries| entries.count().saturating_sub(1) as u64)
        .unwrap_or(0);
    figures.max_fds = std::fs::read_to_string("/proc/self/limits")
        .ok()
        .and_then(|text| max_open_files(&text));
    Some(figures)
}

/// Parses `/proc/self/stat`. The command name (field 2) is in parentheses and may hold
/// spaces and parentheses itself: fields are counted after its last `)`.
fn parse_stat(stat: &str, boot_time: Option<u64>) -> Option<ProcessFigures> {
    let after_name = &stat[stat.rfind(')')? + 1..];
    // Field 3 (state) is the first after the name.
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    let field = |n: usize| -> Option<u64> { fields.get(n - 3)?.parse().ok() };
    let utime = field(14)?;
    let stime = field(15)?;
    let threads = field(20)?;
    let start_ticks = field(22)?;
    let virtual_bytes = field(23)?;
    Some(ProcessFigures {
        cpu_seconds: (utime + stime) as f64 / USER_HZ,
        // Pages here; `/proc/self/status` gives bytes.
        resident_bytes: 0,
        virtual_bytes,
        open_fds: 0,
        max_fds: None,
        start_time_seconds: boot_time.map_or(0.0, |boot| boot as f64)
            + start_ticks as f64 / USER_HZ,
        threads,
    })
}

/// `btime` of `/proc/stat`: when the machine booted (Unix time, seconds).
fn boot_time(proc_stat: &str) -> Option<u64> {
    proc_stat
        .lines()
        .find_map(|line| line.strip_prefix("btime "))
        .and_then(|value| value.trim().parse().ok())
}

/// `VmRSS` and `VmSize` of `/proc/self/status`, in bytes.
fn parse_status(status: &str) -> (Option<u64>, Option<u64>) {
    let kib = |key: &str| {
        status.lines().find_map(|line| {
            let value = line.strip_prefix(key)?.trim();
            let number = value.strip_suffix("kB").unwrap_or(value).trim();
            number.parse::<u64>().ok().map(|k| k * 1024)
        })
    };
    (kib("VmRSS:"), kib("VmSize:"))
}

/// The soft limit of `Max open files` in `/proc/self/limits`.
fn max_open_files(limits: &str) -> Option<u64> {
    let line = limits.lines().find(|l| l.starts_with("Max open files"))?;
    let soft = line
        .trim_start_matches("Max open files")
        .split_whitespace()
        .next()?;
    soft.parse().ok()
}

/// The data dir's size on disk and its file system's.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DiskFigures {
    /// Bytes the data dir's files occupy (blocks allocated, as `du` counts them).
    pub data_dir_bytes: u64,
    /// The file system's size (bytes).
    pub filesystem_size_bytes: Option<u64>,
    /// Bytes free on it for an unprivileged process, as `df` shows them.
    pub filesystem_avail_bytes: Option<u64>,
}

/// Measures the data dir at `root` (its files, recursively; symbolic links are not followed).
pub fn disk(root: &Path) -> DiskFigures {
    let mut figures = DiskFigures {
        data_dir_bytes: du(root),
        ..DiskFigures::default()
    };
    if let Some((size, avail)) = maillage_app::datadir::filesystem_space(root) {
        figures.filesystem_size_bytes = Some(size);
        figures.filesystem_avail_bytes = Some(avail);
    }
    figures
}

fn du(path: &Path) -> u64 {
    use std::os::unix::fs::MetadataExt;
    let Ok(meta) = std::fs::symlink_metadata(path) else {
        return 0;
    };
    let own = meta.blocks().saturating_mul(512);
    if !meta.is_dir() {
        return own;
    }
    let Ok(entries) = std::fs::read_dir(path) else {
        return own;
    };
    entries
        .filter_map(Result::ok)
        .fold(own, |total, entry| total.saturating_add(du(&entry.path())))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn proc_files_are_parsed_field_by_field() {
        // A command name with spaces and a parenthesis, as the kernel writes it.
        let stat = "4242 (maillage (x) y) S 1 4242 4242 0 -1 4194560 2613 0 0 0 250 125 0 0 20 0 7 0 123450 987654321 3000 18446744073709551615 1 1 0 0 0 0 0 4096 0 0 0 0 17 1 0 0 0 0 0";
        let figures = parse_stat(stat, Some(1_700_000_000)).unwrap();
        assert_eq!(figures.cpu_seconds, 3.75);
        assert_eq!(figures.threads, 7);
        assert_eq!(figures.virtual_bytes, 987_654_321);
        assert_eq!(figures.start_time_seconds, 1_700_000_000.0 + 1234.5);
        assert_eq!(
            boot_time("cpu  1 2 3\nbtime 1700000000\nprocesses 9\n"),
            Some(1_700_000_000)
        );
        assert_eq!(
            parse_status("Name:\tmaillage\nVmSize:\t  123456 kB\nVmRSS:\t    2048 kB\n"),
            (Some(2048 * 1024), Some(123_456 * 1024))
        );
        let limits = "Limit                     Soft Limit           Hard Limit           Units     \nMax cpu time              unlimited            unlimited            seconds   \nMax open files            65536                524288               files     \n";
        assert_eq!(max_open_files(limits), Some(65536));
        assert_eq!(
            max_open_files(
                "Max open files            unlimited            unlimited            files\n"
            ),
            None
        );
    }

    #[test]
    fn this_process_and_its_disk_are_measured() {
        let figures = read().expect("/proc is mounted on Linux");
        assert!(figures.resident_bytes > 1 << 20, "{figures:?}");
        assert!(figures.open_fds >= 3, "{figures:?}");
        assert!(figures.threads >= 1, "{figures:?}");
        assert!(figures.start_time_seconds > 1.5e9, "{figures:?}");
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("store")).unwrap();
        std::fs::write(dir.path().join("store/events.log"), vec![7u8; 100_000]).unwrap();
        let disk = disk(dir.path());
        assert!(disk.data_dir_bytes >= 100_000, "{disk:?}");
        assert!(disk.filesystem_size_bytes.unwrap() >= disk.filesystem_avail_bytes.unwrap());
    }
}
