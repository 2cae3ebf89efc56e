//! History straight from GCS: the runs of a Prow job are fetched and parsed
//! by a few threads at once, and handed on in run order.
//!
//! Each run's objects (`started.json`, `finished.json`,
//! `artifacts/audit/audit*.log[.gz|.zst]`) are listed with their
//! generations; together with the analysis's own salt (apicov version, spec
//! digest, tracking lists, validation) they make the run's cache key. A run
//! whose cached result has that key is not downloaded at all. For any other,
//! `started.json` and `finished.json` are downloaded into a temporary
//! directory laid out like a Prow artifact tree, with an empty file standing
//! for each audit log, so that the run is read by the same code as a local
//! one ([`run_dir`](apicov_report::history::run_dir)); the logs themselves
//! are parsed as they arrive ([`Bucket::stream`]), never written to disk.
//! At most `window` runs are in hand ahead of the one handed on, so memory
//! is bounded whatever the number of runs.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Condvar, Mutex};

use crate::gcs::{Bucket, Object};
use apicov_core::error::{Error, Result};
use apicov_report::cleanup::{self, StagedDir};
use apicov_report::history::{RunDir, RunRecord, RunStatus};

/// A run ready to record.
pub enum Fetched {
    /// Its result, from the cache: nothing was downloaded. `row` is the
    /// cached row (see [`cache_paths`](apicov_report::history::cache_paths)).
    Cached {
        /// The run's build id.
        id: String,
        /// Where its cached row is.
        row: PathBuf,
    },
    /// Parsed as its logs arrived: the row, the report and the cache key.
    Analysed {
        /// The run's row.
        record: RunRecord,
        /// Its report JSON.
        report: Vec<u8>,
        /// The cache key it was analysed under.
        key: String,
    },
    /// Its listing or a download failed even after retries.
    Failed {
        /// The run, laid out as far as it was fetched.
        dir: RunDir,
    },
    /// Something that ends the whole history (not one run's problem).
    Fatal(Error),
}

/// What a run's logs are made into: given the run as read from its
/// temporary tree, its audit-log objects in the tree's order, and its cache
/// key, the caller parses them ([`Bucket::stream`]) and returns the run.
pub type Analyse<'a> = dyn Fn(&Bucket, &RunDir, &[&Object], &str) -> Fetched + Sync + 'a;

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

/// Shared between the fetching threads and the one that hands runs on.
struct Shared {
    state: Mutex<State>,
    changed: Condvar,
}

struct State {
    /// The next run a fetching thread takes.
    next_task: usize,
    /// The run handed on next (runs before it are done).
    reading: usize,
    /// Nobody takes runs any more: start no new one.
    stopped: bool,
    done: BTreeMap<usize, Fetched>,
}

impl Shared {
    /// The state, even if a fetching thread panicked holding it.
    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Fetches and parses `ids` with `options.jobs` threads, at most `window`
/// runs ahead of the one handed on, and hands each to `take` in order. When
/// `take` fails (an error, `--strict`), no new run is started, the threads
/// finish the one they are on, every run not handed on is dropped (its
/// temporary files with it: nothing is left behind) and the error returned.
pub fn fetch_runs(
    bucket: &Bucket,
    ids: &[String],
    options: &FetchOptions,
    window: usize,
    analyse: &Analyse<'_>,
    mut take: impl FnMut(Fetched) -> Result<()>,
) -> Result<()> {
    let shared = Shared {
        state: Mutex::new(State {
            next_task: 0,
            reading: 0,
            stopped: false,
            done: BTreeMap::new(),
        }),
        changed: Condvar::new(),
    };
    std::thread::scope(|scope| {
        for _ in 0..options.jobs.max(1) {
            scope.spawn(|| loop {
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
                let fetched = fetch_one(bucket, &ids[task], options, analyse);
                let mut state = shared.lock();
                if state.stopped {
                    return; // nobody takes it: its files go now
                }
                state.done.insert(task, fetched);
                shared.changed.notify_all();
            });
        }
        let handed = (0..ids.len()).try_for_each(|index| {
            let fetched = {
                let mut state = shared.lock();
                state.reading = index;
                shared.changed.notify_all();
                loop {
                    if let Some(fetched) = state.done.remove(&index) {
                        break fetched;
                    }
                    state = shared
                        .changed
                        .wait(state)
                        .unwrap_or_else(|e| e.into_inner());
                }
            };
            match fetched {
                Fetched::Fatal(e) => Err(e),
                fetched => take(fetched),
            }
        });
        if handed.is_err() {
            let unread = {
                let mut state = shared.lock();
                state.stopped = true;
                shared.changed.notify_all();
                std::mem::take(&mut state.done)
            };
            drop(unread);
        }
        handed
    })
}

/// Lists one run, then takes it from the cache or fetches and parses it.
fn fetch_one(bucket: &Bucket, id: &str, options: &FetchOptions, analyse: &Analyse<'_>) -> Fetched {
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
    // Each log is an empty file here, standing for its object.
    let mut logs: BTreeMap<PathBuf, &Object> = BTreeMap::new();
    for object in objects.iter().filter(|o| relevant(o)) {
        let rel = &object.name[prefix.len()..];
        let dest = root.join(rel);
        if let Some(parent) = dest.parent() {
            if let Err(e) = cleanup::creating(|| std::fs::create_dir_all(parent)) {
                return failed(format!("{}: {e}", parent.display()));
            }
        }
        let stored = if rel.starts_with("artifacts/") {
            logs.insert(dest.clone(), object);
            cleanup::creating(|| std::fs::File::create(&dest).map(drop))
                .map_err(|e| Error::input(&dest, e))
        } else {
            bucket.download(object, &dest)
        };
        if let Err(e) = stored {
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
            let Some(in_order) = dir
                .logs
                .iter()
                .map(|p| logs.get(p).copied())
                .collect::<Option<Vec<&Object>>>()
            else {
                // Every log run_dir lists is one of the placeholders above.
                return failed(format!(
                    "{}{id}: a log that is not in the listing",
                    bucket.url()
                ));
            };
            let fetched = analyse(bucket, &dir, &in_order, &key);
            drop(files);
            fetched
        }
        Err(e) => failed(e.to_string()),
    }
}
