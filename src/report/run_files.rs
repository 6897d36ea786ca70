//! Where a run's four files live: `<output_dir>/<YYYYMMDDTHHMMSSZ>` of its start time,
//! suffixed `-2`, `-3`... when two runs started in the same second. The batch names the
//! folder here ([`folder_name`]); the server, `export` and retention find it again here
//! ([`locate`]) by reading the snapshot id at the head of the folder's `scan.json`.

use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};

use jiff::Timestamp;

/// The files of a run, in the order pages list them.
pub const FILES: [&str; 4] = ["report.html", "scan.json", "delta.json", "delta.csv"];

/// How many `-N` suffixes [`locate`] tries (the batch gives up at 999; more than a handful
/// of runs in one second does not happen).
const MAX_SUFFIX: usize = 50;

/// The folder name of the `n`th run (1-based) that started at `started_at`'s second.
pub fn folder_name(started_at: Timestamp, n: usize) -> String {
    let stamp = started_at.strftime("%Y%m%dT%H%M%SZ").to_string();
    if n <= 1 {
        stamp
    } else {
        format!("{stamp}-{n}")
    }
}

/// The folder of snapshot `id` that started at `started_at`, if it is still on disk.
pub fn locate(out_dir: &Path, id: i64, started_at: Timestamp) -> Option<PathBuf> {
    (1..=MAX_SUFFIX)
        .map(|n| out_dir.join(folder_name(started_at, n)))
        .find(|dir| snapshot_id_in(dir) == Some(id))
}

/// The `"id"` at the head of `dir/scan.json` (pretty-printed serde output of the snapshot,
/// whose first field is its id); only the first bytes are read.
fn snapshot_id_in(dir: &Path) -> Option<i64> {
    let mut head = [0u8; 128];
    let mut file = File::open(dir.join("scan.json")).ok()?;
    let mut len = 0;
    while len < head.len() {
        match file.read(&mut head[len..]) {
            Ok(0) | Err(_) => break,
            Ok(n) => len += n,
        }
    }
    let text = std::str::from_utf8(&head[..len]).ok()?;
    let rest = text.split_once("\"id\":")?.1.trim_start();
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok()
}

/// The media type a run file is served with.
pub fn content_type(name: &str) -> &'static str {
    match name.rsplit('.').next() {
        Some("html") => "text/html; charset=utf-8",
        Some("json") => "application/json",
        Some("csv") => "text/csv; charset=utf-8",
        _ => "application/octet-stream",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write_run(dir: &Path, id: i64) {
        std::fs::create_dir_all(dir).unwrap();
        std::fs::write(
            dir.join("scan.json"),
            format!("{{\n  \"id\": {id},\n  \"started_at\": \"x\"\n}}\n"),
        )
        .unwrap();
    }

    #[test]
    fn finds_the_folder_whose_scan_json_names_the_id() {
        let out = tempfile::tempdir().unwrap();
        let t: Timestamp = "2026-12-05T02:00:00.5Z".parse().unwrap();
        assert_eq!(folder_name(t, 1), "20261205T020000Z");
        assert_eq!(folder_name(t, 3), "20261205T020000Z-3");
        write_run(&out.path().join("20261205T020000Z"), 7);
        write_run(&out.path().join("20261205T020000Z-2"), 8);
        assert_eq!(
            locate(out.path(), 8, t),
            Some(out.path().join("20261205T020000Z-2"))
        );
        assert_eq!(
            locate(out.path(), 7, t),
            Some(out.path().join("20261205T020000Z"))
        );
        assert_eq!(locate(out.path(), 9, t), None);
        std::fs::remove_dir_all(out.path().join("20261205T020000Z")).unwrap();
        assert!(locate(out.path(), 8, t).is_some(), "a gap is skipped");
    }
}
