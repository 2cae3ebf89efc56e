//! The spool: every accepted event, appended to rotating JSON-lines files
//! (`DIR/audit-NNNNNN.log`) before its batch is acknowledged, so that a crash
//! loses no acknowledged event and `apicov parse 'DIR/*.log'` reproduces the
//! served result.
//!
//! File numbers are zero-padded so that the sorted glob order `parse` uses is
//! the order of writing; a file's index in that order is its input number in
//! the tally's positions. A restart never appends to an old file: it cuts a
//! torn last line (bytes written but never acknowledged) and starts the next
//! file. A lock file keeps two servers off one directory.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use apicov_core::error::{Error, Result};

/// Name of the lock file; it does not match `*.log`.
const LOCK_NAME: &str = ".apicov-serve.lock";

/// An open spool directory.
#[derive(Debug)]
pub struct Spool {
    dir: PathBuf,
    /// Held for the life of the server (released when the file is closed).
    _lock: File,
    /// The files written so far, in order (earlier runs' files included).
    files: Vec<PathBuf>,
    /// The file being appended to, and its size.
    current: Option<(File, u64)>,
    /// A file is closed once it reaches this size.
    max_file_bytes: u64,
    /// `fdatasync` after each group of batches.
    sync: bool,
}

impl Spool {
    /// Opens (creating) `dir`, locks it and repairs the last file. Returns
    /// the spool and the existing files in order (to replay).
    pub fn open(dir: &Path, max_file_bytes: u64, sync: bool) -> Result<Spool> {
        let err = |e: std::io::Error| Error::input(dir, e);
        std::fs::create_dir_all(dir).map_err(err)?;
        let lock = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(dir.join(LOCK_NAME))
            .map_err(err)?;
        match lock.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => {
                return Err(Error::input(
                    dir,
                    "spool directory is in use by another apicov serve",
                ))
            }
            Err(std::fs::TryLockError::Error(e)) => return Err(err(e)),
        }
        let mut files = Vec::new();
        for entry in std::fs::read_dir(dir).map_err(err)? {
            let entry = entry.map_err(err)?;
            let name = entry.file_name();
            if file_number(&name.to_string_lossy()).is_some() {
                files.push(dir.join(name));
            }
        }
        files.sort();
        if let Some(last) = files.last() {
            cut_torn_tail(last)?;
        }
        Ok(Spool {
            dir: dir.to_path_buf(),
            _lock: lock,
            files,
            current: None,
            max_file_bytes: max_file_bytes.max(1),
            sync,
        })
    }

    /// The spool's files so far, in order.
    pub fn files(&self) -> &[PathBuf] {
        &self.files
    }

    /// Where the next `len` bytes will go: (input index, byte offset in that
    /// file). Starts a new file when none is open or the open one is full.
    pub fn place(&mut self, len: usize) -> Result<(usize, u64)> {
        let full = match &self.current {
            Some((_, size)) => *size > 0 && *size + len as u64 > self.max_file_bytes,
            None => true,
        };
        if full {
            let next = self
                .files
                .last()
                .and_then(|p| file_number(&p.file_name()?.to_string_lossy()))
                .map_or(0, |n| n + 1);
            let path = self.dir.join(format!("audit-{next:06}.log"));
            let file = OpenOptions::new()
                .create_new(true)
                .append(true)
                .open(&path)
                .map_err(|e| Error::Output {
                    path: path.clone(),
                    source: e,
                })?;
            self.files.push(path);
            self.current = Some((file, 0));
        }
        let (_, size) = self.current.as_ref().expect("a file is open");
        Ok((self.files.len() - 1, *size))
    }

    /// Appends `bytes` (whole lines) at the place [`Spool::place`] gave.
    pub fn append(&mut self, bytes: &[u8]) -> Result<()> {
        let path = self.files.last().cloned().unwrap_or_default();
        let (file, size) = self.current.as_mut().expect("place() opened a file");
        file.write_all(bytes).map_err(|source| Error::Output {
            path: path.clone(),
            source,
        })?;
        *size += bytes.len() as u64;
        Ok(())
    }

    /// Makes what was appended durable (one `fdatasync` for a group of
    /// batches: the writes alone already survive a killed process).
    pub fn commit(&mut self) -> Result<()> {
        if !self.sync {
            return Ok(());
        }
        if let Some((file, _)) = &self.current {
            file.sync_data().map_err(|source| Error::Output {
                path: self.files.last().cloned().unwrap_or_default(),
                source,
            })?;
        }
        Ok(())
    }
}

/// `audit-000042.log` → 42.
fn file_number(name: &str) -> Option<u64> {
    let digits = name.strip_prefix("audit-")?.strip_suffix(".log")?;
    if digits.len() < 6 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

/// A file that does not end with a newline was cut short while a batch was
/// being written, before that batch was acknowledged: drop the torn line.
fn cut_torn_tail(path: &Path) -> Result<()> {
    let err = |e: std::io::Error| Error::input(path, e);
    let bytes = std::fs::read(path).map_err(err)?;
    if bytes.is_empty() || bytes.ends_with(b"\n") {
        return Ok(());
    }
    let keep = memchr::memrchr(b'\n', &bytes).map_or(0, |i| i + 1);
    let file = OpenOptions::new().write(true).open(path).map_err(err)?;
    file.set_len(keep as u64).map_err(err)?;
    file.sync_all().map_err(err)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_rotate_in_glob_order_and_torn_tails_are_cut() {
        let dir = tempfile::tempdir().unwrap();
        let mut spool = Spool::open(dir.path(), 10, false).unwrap();
        assert_eq!(spool.place(6).unwrap(), (0, 0));
        spool.append(b"{\"a\"}\n").unwrap();
        assert_eq!(spool.place(3).unwrap(), (0, 6));
        spool.append(b"{}\n").unwrap();
        // 9 + 6 > 10: a new file.
        assert_eq!(spool.place(6).unwrap(), (1, 0));
        spool.append(b"{\"b\"}\n").unwrap();
        drop(spool);
        // A torn line, as a killed server leaves it.
        let last = dir.path().join("audit-000001.log");
        std::fs::OpenOptions::new()
            .append(true)
            .open(&last)
            .unwrap()
            .write_all(b"{\"tor")
            .unwrap();
        let spool = Spool::open(dir.path(), 10, false).unwrap();
        assert_eq!(std::fs::read(&last).unwrap(), b"{\"b\"}\n");
        let names: Vec<_> = spool
            .files()
            .iter()
            .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, ["audit-000000.log", "audit-000001.log"]);
        // The lock keeps a second server out.
        let second = Spool::open(dir.path(), 10, false).unwrap_err();
        assert!(second
            .to_string()
            .ends_with("in use by another apicov serve"));
    }
}
