//! One writer at a time: an exclusive lock on a file next to the database.
//!
//! SQLite alone would serialise the transactions, but two runs could still interleave their
//! snapshots (each comparing against a baseline the other is about to replace) and retention's
//! VACUUM would wait on a long run. So a run, an import and a prune first take
//! `<database>.lock` with `File::try_lock` (an OS advisory lock, `flock` on Linux): the kernel
//! drops it when the holder exits, even on `kill -9`, so a crash never leaves a stale lock.
//! A second writer does not wait: it exits with a message naming the holder (cron starts the
//! next run a day later; piling up runs would not help).
//!
//! On PostgreSQL there is no file next to the database: the same rule is an advisory lock on
//! the server (`store::PgWriterLock`: per profile for a run, database-wide for import and
//! prune), and [`HeldLock`] is whichever of the two a writer holds.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum LockError {
    #[error(
        "another daily_scan is already writing to {database} (lock {lock} held by pid {holder}); \
         this one exits without scanning: wait for it to finish, or stop it"
    )]
    Busy {
        database: PathBuf,
        lock: PathBuf,
        holder: String,
    },
    #[error(
        "another daily_scan is already writing {scope} to {database}; this one exits without \
         scanning: wait for it to finish, or stop it"
    )]
    PostgresBusy { database: String, scope: String },
    #[error("cannot use lock file {lock}: {source}")]
    Io {
        lock: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// The writer lock of either backend; dropping it releases the lock.
pub enum HeldLock {
    File(WriterLock),
    Postgres(crate::store::PgWriterLock),
}

/// Held for as long as the value lives; dropping it releases the lock.
#[derive(Debug)]
pub struct WriterLock {
    _file: File,
    path: PathBuf,
}

impl WriterLock {
    /// The lock file that guards `database`.
    pub fn path_for(database: &Path) -> PathBuf {
        let mut name = database.file_name().unwrap_or_default().to_os_string();
        name.push(".lock");
        database.with_file_name(name)
    }

    /// Takes the lock or says who holds it. Never blocks.
    pub fn acquire(database: &Path) -> Result<WriterLock, LockError> {
        let path = Self::path_for(database);
        let io = |source| LockError::Io {
            lock: path.clone(),
            source,
        };
        // Not truncated on open: the holder's pid must survive until we hold the lock.
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(io)?;
        match file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                let mut holder = String::new();
                let _ = file.read_to_string(&mut holder);
                let holder = holder.trim();
                return Err(LockError::Busy {
                    database: database.to_path_buf(),
                    lock: path.clone(),
                    holder: if holder.is_empty() {
                        "unknown".to_string()
                    } else {
                        holder.chars().take(20).collect()
                    },
                });
            }
            Err(TryLockError::Error(e)) => return Err(io(e)),
        }
        file.set_len(0).map_err(io)?;
        file.seek(SeekFrom::Start(0)).map_err(io)?;
        writeln!(file, "{}", std::process::id()).map_err(io)?;
        Ok(WriterLock { _file: file, path })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn second_writer_is_refused_with_the_holders_pid_until_release() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("scans.db");
        assert_eq!(WriterLock::path_for(&db), dir.path().join("scans.db.lock"));
        let first = WriterLock::acquire(&db).unwrap();
        let err = WriterLock::acquire(&db).unwrap_err();
        let text = err.to_string();
        assert!(matches!(err, LockError::Busy { .. }), "{text}");
        assert!(
            text.contains(&format!("pid {}", std::process::id())),
            "{text}"
        );
        assert!(text.contains("another daily_scan"), "{text}");
        drop(first);
        let again = WriterLock::acquire(&db).unwrap();
        assert_eq!(again.path(), dir.path().join("scans.db.lock"));
    }

    #[test]
    fn a_missing_directory_is_an_io_error_naming_the_lock() {
        let err = WriterLock::acquire(Path::new("/nonexistent-dir/scans.db")).unwrap_err();
        assert!(
            err.to_string().contains("/nonexistent-dir/scans.db.lock"),
            "{err}"
        );
    }
}
