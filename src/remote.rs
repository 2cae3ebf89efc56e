//! History straight from GCS: the runs of a Prow job are fetched by a few
//! download threads while the runs before them are parsed, in run order.
//!
//! Each run's objects (`started.json`, `finished.json`,
//! `artifacts/audit/audit*.log[.gz|.zst]`) are listed with their
//! generations; together with the analysis's own salt (apicov version, spec
//! digest, tracking lists, validation) they make the run's cache key. A run
//! whose cached result has that key is not downloaded at all; any other is
//! downloaded into a temporary directory laid out like a Prow artifact tree
//! and handed to the same code that reads local runs. At most `window` runs
//! are downloaded ahead of the one being parsed, so disk use is bounded
//! whatever the number of runs.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, Condvar, Mutex};

use crate::gcs::{Bucket, Object};
use apicov_report::cleanup::{self, StagedDir};
use apicov_report::history::{RunDir, RunStatus};

/// A run ready to analyse.
pub enum Fetched {
    /// Its result, from the cache: nothing was downloaded. `row` is the
    /// cached row (see [`cache_paths`](apicov_report::history::cache_paths)).
    Cached { id: String, row: PathBuf },
    /// Its files, in a temporary directory that lives as long as this value.
    Downloaded {
        dir: RunDir,
        key: String,
        files: StagedDir,
    },
    /// Its listing or a download failed even after retries.
    Failed { dir: RunDir },
}

/// How runs are fetched.
#[derive(Debug, Clone)]
pub struct FetchOptions {
    /// Download threads (`--jobs`).
    pub jobs: usize,
    /// Where per-run results are cached (`<dir>/<id>.json`).
    pub cache_dir: PathBuf,
    /// What else the result depends on (version, spec, lists, validation).
    pub salt: String,
    /// Full reports are wanted (`--reports-dir`): a cached row without its
    /// cached report is downloaded and parsed again.
    pub need_reports: bool,
}

/// A run's cache key: a digest of the salt and of the name and generation of
/// every object its result depends on.
pub fn cache_key(salt: &str, objects: &[Object]) -> String {
    let mut named: Vec<(&str, &str)> = objects
        .iter()
        .filter(|o| relevant(o))
        .map(|o| (o.name.as_str(), o.generation.as_str()))
        .collect();
    named.sort_unstable();
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    let mut eat = |bytes: &[u8]| {
        for &b in bytes.iter().chain([&0xff]) {
            hash ^= u64::from(b);
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
    };
    eat(salt.as_bytes());
    for (name, generation) in named {
        eat(name.as_bytes());
        eat(generation.as_bytes());
    }
    format!("{hash:016x}")
}

/// The objects of a run that its analysis reads.
fn relevant(object: &Object) -> bool {
    let Some((_, rest)) = object.name.split_once("/artifacts/audit/") else {
        return object.name.ends_with("/started.json") || object.name.ends_with("/finished.json");
    };
    !rest.contains('/') && apicov_report::history::is_audit_log_name(rest)
}

/// The cache key a cached result was stored with.
fn cached_key(path: &std::path::Path) -> Option<String> {
    let bytes = std::fs::read(path).ok()?;
    let value: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    value
        .pointer("/run/cache_key")
        .and_then(serde_json::Value::as_str)
        .map(str::to_string)
}

/// Shared between the download threads and the reader.
struct Shared {
    state: Mutex<State>,
    changed: Condvar,
}

struct State {
    /// The next run a download thread takes.
    next_task: usize,
    /// The run the reader waits for (runs before it are done).
    reading: usize,
    /// The reader is gone: take no new run.
    stopped: bool,
    done: BTreeMap<usize, Fetched>,
}

/// Fetches `ids` (in that order) with `options.jobs` threads, at most
/// `window` runs ahead of the reader; yields them in order. Dropping the
/// iterator early (an error, `--strict`) stops the threads once their
/// current run is fetched and removes every run fetched and not yet read:
/// nothing is left in the temporary directory.
pub fn fetch_runs(bucket: Bucket, ids: Vec<String>, options: FetchOptions, window: usize) -> Runs {
    let shared = Arc::new(Shared {
        state: Mutex::new(State {
            next_task: 0,
            reading: 0,
            stopped: false,
            done: BTreeMap::new(),
        }),
        changed: Condvar::new(),
    });
    let count = ids.len();
    let ids = Arc::new(ids);
    let bucket = Arc::new(bucket);
    let options = Arc::new(options);
    let threads = (0..options.jobs.max(1))
        .map(|_| {
            let (shared, ids, bucket, options) =
                (shared.clone(), ids.clone(), bucket.clone(), options.clone());
            std::thread::spawn(move || loop {
                let task = {
                    let mut state = shared.lock();
                    while !state.stopped
                        && state.next_task < ids.len()
                        && state.next_task >= state.reading + window
                    {
                        state = shared
                            .changed
                            .wait(state)
                            .unwrap_or_else(|e| e.into_inner());
                    }
                    if state.stopped || state.next_task >= ids.len() {
                        return;
                    }
                    state.next_task += 1;
                    state.next_task - 1
                };
                let fetched = fetch_one(&bucket, &ids[task], &options);
                let mut state = shared.lock();
                if state.stopped {
                    return; // nobody reads it: its files go now
                }
                state.done.insert(task, fetched);
                shared.changed.notify_all();
            })
        })
        .collect();
    Runs {
        shared,
        next: 0,
        count,
        threads,
    }
}

/// The fetched runs, in order (see [`fetch_runs`]).
pub struct Runs {
    shared: Arc<Shared>,
    next: usize,
    count: usize,
    threads: Vec<std::thread::JoinHandle<()>>,
}

impl Iterator for Runs {
    type Item = Fetched;

    fn next(&mut self) -> Option<Fetched> {
        if self.next >= self.count {
            return None;
        }
        let index = self.next;
        self.next += 1;
        let mut state = self.shared.lock();
        state.reading = index;
        self.shared.changed.notify_all();
        loop {
            if let Some(fetched) = state.done.remove(&index) {
                return Some(fetched);
            }
            state = self
                .shared
                .changed
                .wait(state)
                .unwrap_or_else(|e| e.into_inner());
        }
    }
}

impl Drop for Runs {
    fn drop(&mut self) {
        let unread = {
            let mut state = self.shared.lock();
            state.stopped = true;
            self.shared.changed.notify_all();
            std::mem::take(&mut state.done)
        };
        drop(unread);
        for thread in self.threads.drain(..) {
            let _ = thread.join();
        }
    }
}

impl Shared {
    /// The state, even if a download thread panicked holding it.
    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Lists one run, then takes it from the cache or downloads it.
fn fetch_one(bucket: &Bucket, id: &str, options: &FetchOptions) -> Fetched {
    let prefix = format!("logs/{}/{id}/", bucket.job);
    let failed = |problem: String| Fetched::Failed {
        dir: RunDir::skipped(
            id.to_string(),
            PathBuf::from(format!("{}{id}", bucket.url())),
            RunStatus::DownloadFailed,
            problem,
        ),
    };
    let objects = match bucket.objects(&prefix) {
        Ok(objects) => objects,
        Err(e) => return failed(e.to_string()),
    };
    let key = cache_key(&options.salt, &objects);
    let (row, full) = apicov_report::history::cache_paths(&options.cache_dir, id);
    if cached_key(&row).as_deref() == Some(key.as_str()) && (!options.need_reports || full.exists())
    {
        return Fetched::Cached {
            id: id.to_string(),
            row,
        };
    }
    let files = match StagedDir::new("run") {
        Ok(files) => files,
        Err(e) => return failed(format!("a temporary directory: {e}")),
    };
    let root = files.path().join(id);
    for object in objects.iter().filter(|o| relevant(o)) {
        let rel = &object.name[prefix.len()..];
        let dest = root.join(rel);
        if let Some(parent) = dest.parent() {
            if let Err(e) = cleanup::creating(|| std::fs::create_dir_all(parent)) {
                return failed(format!("{}: {e}", parent.display()));
            }
        }
        if let Err(e) = bucket.download(object, &dest) {
            return failed(e.to_string());
        }
    }
    if let Err(e) = cleanup::creating(|| std::fs::create_dir_all(&root)) {
        return failed(format!("{}: {e}", root.display()));
    }
    match apicov_report::history::run_dir(&root) {
        Ok(mut dir) => {
            // Messages name the bucket, not the temporary copy.
            let local = format!("{}/", files.path().display());
            dir.problem = dir.problem.map(|p| p.replace(&local, &bucket.url()));
            Fetched::Downloaded { dir, key, files }
        }
        Err(e) => failed(e.to_string()),
    }
}
