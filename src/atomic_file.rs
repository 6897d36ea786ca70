//! Replacing a file so that a reader (or a full disk) never sees half of it, and a planted
//! symlink never redirects the write: the content goes to a temporary file in the same
//! directory, created new-only (`O_CREAT|O_EXCL`, which refuses to follow a symlink) under an
//! unpredictable name, synced, then renamed over the destination (a rename replaces a symlink
//! itself, never its target). On any error the temporary file is removed and the previous file
//! stays as it was.

use std::collections::hash_map::RandomState;
use std::fs::{self, File, OpenOptions};
use std::hash::BuildHasher;
use std::io::{self, BufWriter, Write};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// Attempts at a fresh temporary name before giving up (each collision is a file someone made).
const NAME_ATTEMPTS: usize = 16;

/// Writes `path` through `body`; `mode` (e.g. 0o644) is set exactly, whatever the umask, when
/// given, else the new file gets 0o666 less the umask.
pub fn write(
    path: &Path,
    mode: Option<u32>,
    body: impl FnOnce(&mut BufWriter<File>) -> io::Result<()>,
) -> io::Result<()> {
    let (tmp, file) = create_temp(path)?;
    let written = (|| {
        if let Some(mode) = mode {
            file.set_permissions(fs::Permissions::from_mode(mode))?;
        }
        let mut w = BufWriter::new(file);
        body(&mut w)?;
        w.flush()?;
        w.into_inner().map_err(|e| e.into_error())?.sync_all()?;
        fs::rename(&tmp, path)
    })();
    if written.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    written
}

/// A new temporary file beside `path`, named `.NAME.tmp.RANDOM` (not ending in the
/// destination's extension, so collectors that glob `*.prom` skip it).
fn create_temp(path: &Path) -> io::Result<(PathBuf, File)> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let name = path
        .file_name()
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "the path names no file"))?
        .to_string_lossy();
    for _ in 0..NAME_ATTEMPTS {
        let tmp = dir.join(format!(".{name}.tmp.{:016x}", random()));
        match OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&tmp)
        {
            Ok(file) => return Ok((tmp, file)),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e),
        }
    }
    Err(io::Error::new(
        io::ErrorKind::AlreadyExists,
        "no fresh temporary name after 16 attempts",
    ))
}

/// 64 unpredictable bits: std's `RandomState` keys come from the OS random source.
fn random() -> u64 {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    RandomState::new().hash_one((
        COUNTER.fetch_add(1, Ordering::Relaxed),
        std::process::id(),
        std::time::SystemTime::now(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    #[test]
    fn a_symlink_at_the_destination_is_replaced_not_followed() {
        let dir = tempfile::tempdir().unwrap();
        let victim = dir.path().join("scans.db");
        fs::write(&victim, "precious").unwrap();
        fs::set_permissions(&victim, fs::Permissions::from_mode(0o600)).unwrap();
        let path = dir.path().join("metrics.prom");
        symlink(&victim, &path).unwrap();
        write(&path, Some(0o644), |w| w.write_all(b"m 1\n")).unwrap();
        assert_eq!(fs::read_to_string(&victim).unwrap(), "precious");
        assert_eq!(
            victim.metadata().unwrap().permissions().mode() & 0o777,
            0o600
        );
        assert!(
            !fs::symlink_metadata(&path)
                .unwrap()
                .file_type()
                .is_symlink()
        );
        assert_eq!(fs::read_to_string(&path).unwrap(), "m 1\n");
        assert_eq!(path.metadata().unwrap().permissions().mode() & 0o777, 0o644);
    }

    #[test]
    fn a_failed_write_leaves_the_previous_file_and_no_temporary() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("report.html");
        fs::write(&path, "previous").unwrap();
        let err = write(&path, None, |w| {
            w.write_all(b"half a rep")?;
            Err(io::Error::new(io::ErrorKind::StorageFull, "disk full"))
        })
        .unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::StorageFull);
        assert_eq!(fs::read_to_string(&path).unwrap(), "previous");
        let names: Vec<_> = fs::read_dir(dir.path()).unwrap().flatten().collect();
        assert_eq!(names.len(), 1, "a temporary file was left behind");
    }

    #[test]
    fn temporary_names_are_not_predictable() {
        let a = random();
        let b = random();
        assert_ne!(a, b);
    }
}
