//! Temporary output files, and the signals that must not leave them behind.
//!
//! Outputs are written to `.apicov-XXXXXX.tmp` beside their final path and
//! renamed into place (see `report::write_all_atomic`). Every such file is
//! registered here while it exists; on SIGTERM, SIGINT or SIGHUP (a CI
//! timeout, Ctrl-C, a closed terminal) a watcher thread removes them, then
//! lets the signal take its default course, so the exit status still says
//! which signal ended the run.
//!
//! The signal handler itself only raises a flag. Writers look at it between
//! pieces of at most [`WRITE_PIECE`] bytes and before renaming, and stop
//! there for the watcher to finish the process (a write of hundreds of
//! megabytes in one call would otherwise run on, and rename, before the
//! watcher could act). Renames happen under the registry's lock: a signal
//! that arrives while the outputs are being put in place waits until all of
//! them are, so a run leaves either all its outputs or none.
//!
//! Only SIGKILL (or a power cut) can still leave a `.apicov-*.tmp` file; the
//! name says whose it is.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, Once, OnceLock};

/// The prefix and suffix of every temporary output file.
pub const TEMP_PREFIX: &str = ".apicov-";
/// The suffix of every temporary output file.
pub const TEMP_SUFFIX: &str = ".tmp";

/// The most a writer writes between two looks at the flag: 8 MiB.
pub const WRITE_PIECE: usize = 8 << 20;

static STAGED: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());
static INSTALL: Once = Once::new();
static TERMINATING: OnceLock<Arc<AtomicBool>> = OnceLock::new();

fn flag() -> &'static Arc<AtomicBool> {
    TERMINATING.get_or_init(|| Arc::new(AtomicBool::new(false)))
}

/// A terminating signal has arrived: writers stop where they are and wait
/// for the watcher thread to remove their files and end the process.
pub fn stop_if_terminating() {
    if flag().load(Ordering::Acquire) {
        park_forever();
    }
}

fn park_forever() -> ! {
    loop {
        std::thread::park();
    }
}

/// The registry, even if a thread panicked while holding it (the list of
/// paths is still valid).
fn staged() -> MutexGuard<'static, Vec<PathBuf>> {
    STAGED
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Starts the watcher thread (once). Commands that write output files call
/// it; `serve` handles its own signals and does not.
pub fn install() {
    INSTALL.call_once(|| {
        #[cfg(unix)]
        {
            use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
            for signal in [SIGTERM, SIGINT, SIGHUP] {
                let _ = signal_hook::flag::register(signal, flag().clone());
            }
            let Ok(mut signals) = signal_hook::iterator::Signals::new([SIGTERM, SIGINT, SIGHUP])
            else {
                return;
            };
            std::thread::spawn(move || {
                if let Some(signal) = signals.forever().next() {
                    // Held until the process ends: no new file is staged
                    // and no rename starts after this point.
                    let files = staged();
                    for path in files.iter() {
                        if path.is_dir() {
                            let _ = std::fs::remove_dir_all(path);
                        } else {
                            let _ = std::fs::remove_file(path);
                        }
                    }
                    let _ = signal_hook::low_level::emulate_default_handler(signal);
                    std::process::exit(128 + signal);
                }
            });
        }
    });
}

/// Creates a temporary file in `dir` and registers it for removal on a
/// signal. Registered before the caller writes a byte.
pub fn temp_file_in(dir: &Path) -> std::io::Result<tempfile::NamedTempFile> {
    let mut files = staged();
    let tmp = tempfile::Builder::new()
        .prefix(TEMP_PREFIX)
        .suffix(TEMP_SUFFIX)
        .tempfile_in(dir)?;
    files.push(tmp.path().to_path_buf());
    Ok(tmp)
}

/// A temporary directory (`.apicov-<what>-XXXXXX` in the system's temporary
/// directory) registered for removal on a signal, removed when dropped.
#[derive(Debug)]
pub struct StagedDir(Option<tempfile::TempDir>);

impl StagedDir {
    /// Creates one, registered before anything is written into it.
    pub fn new(what: &str) -> std::io::Result<StagedDir> {
        let mut files = staged();
        let dir = tempfile::Builder::new()
            .prefix(&format!("{TEMP_PREFIX}{what}-"))
            .tempdir()?;
        files.push(dir.path().to_path_buf());
        Ok(StagedDir(Some(dir)))
    }

    /// Where it is.
    pub fn path(&self) -> &Path {
        self.0.as_ref().expect("present until dropped").path()
    }
}

impl Drop for StagedDir {
    fn drop(&mut self) {
        if let Some(dir) = self.0.take() {
            let path = dir.path().to_path_buf();
            drop(dir);
            forget(&path);
        }
    }
}

/// Runs `f`, which creates a file or directory inside a [`StagedDir`], with
/// the signal watcher held off: it never removes a directory while
/// something is being created in it (the directory would be left behind,
/// not empty). After a signal, the caller stops here.
pub fn creating<T>(f: impl FnOnce() -> T) -> T {
    let files = staged();
    if flag().load(Ordering::Acquire) {
        drop(files);
        park_forever();
    }
    let made = f();
    drop(files);
    made
}

/// Holds off the signal watcher while files are renamed into place; each
/// renamed (or dropped) file is then forgotten with [`Renaming::forget`].
pub struct Renaming(MutexGuard<'static, Vec<PathBuf>>);

/// Starts the rename phase (unless a signal came first: then the caller
/// stops here, see [`stop_if_terminating`]).
pub fn renaming() -> Renaming {
    let files = staged();
    if flag().load(Ordering::Acquire) {
        drop(files);
        park_forever();
    }
    Renaming(files)
}

impl Renaming {
    /// `path` no longer exists as a temporary file.
    pub fn forget(&mut self, path: &Path) {
        self.0.retain(|p| p != path);
    }
}

/// Forgets a temporary file that was removed (dropped) outside a rename.
pub fn forget(path: &Path) {
    staged().retain(|p| p != path);
}
