//! Finding runs: directories laid out like a Prow artifact tree
//! (`<run-id>/artifacts/audit/audit*.log[.gz]`, with `started.json` /
//! `finished.json` beside `artifacts/` when present), their order, and the
//! selection (`--since`, `--last`, `--shard`) of those to analyse.

use std::path::{Path, PathBuf};

use serde_json::Value;

use apicov_core::error::{Error, Result};

/// Whether a run was analysed, and if not, why. Real CI mirrors always hold
/// runs that died before uploading their logs: such a run gets a row that
/// says why, and the rest of the history goes on without it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunStatus {
    /// Analysed.
    Ok,
    /// No `artifacts/` directory.
    NoArtifacts,
    /// `artifacts/audit/` is missing or holds no `audit*.log[.gz]`.
    NoLogs,
    /// A log could not be read to its end (corrupt or truncated gzip/zstd,
    /// truncated while read, unreadable).
    Corrupt,
    /// `started.json` or `finished.json` is not JSON.
    BadMetadata,
    /// A report JSON (`history --reports`) could not be read.
    BadReport,
    /// (GCS) listing or downloading the run failed, even after retries.
    DownloadFailed,
    /// Its logs hold no byte: no run happened, not a run that hit nothing.
    Empty,
    /// Its logs hold lines but no audit event (all blank or malformed).
    NoEvents,
}

impl RunStatus {
    /// The `status` column's word.
    pub fn as_str(self) -> &'static str {
        match self {
            RunStatus::Ok => "ok",
            RunStatus::NoArtifacts => "no-artifacts",
            RunStatus::NoLogs => "no-logs",
            RunStatus::Corrupt => "corrupt",
            RunStatus::BadMetadata => "bad-metadata",
            RunStatus::BadReport => "bad-report",
            RunStatus::DownloadFailed => "download-failed",
            RunStatus::Empty => "empty",
            RunStatus::NoEvents => "no-events",
        }
    }

    /// Reads a `status` word back (report JSONs written by `--reports-dir`).
    pub fn parse(word: &str) -> Option<RunStatus> {
        [
            RunStatus::Ok,
            RunStatus::NoArtifacts,
            RunStatus::NoLogs,
            RunStatus::Corrupt,
            RunStatus::BadMetadata,
            RunStatus::BadReport,
            RunStatus::DownloadFailed,
            RunStatus::Empty,
            RunStatus::NoEvents,
        ]
        .into_iter()
        .find(|s| s.as_str() == word)
    }
}

/// A run directory found on disk.
#[derive(Debug, Clone)]
pub struct RunDir {
    /// The build id (the directory's name).
    pub id: String,
    /// The run's directory.
    pub dir: PathBuf,
    /// Audit logs, sorted (rotated `audit-<time>.log` before `audit.log`).
    pub logs: Vec<PathBuf>,
    /// `started.json`'s `timestamp` (Unix seconds).
    pub started: Option<i64>,
    /// `finished.json` was there.
    pub finished: bool,
    /// `finished.json`'s `passed` (or `result == "SUCCESS"`).
    pub passed: Option<bool>,
    /// [`RunStatus::Ok`] unless the run cannot be analysed.
    pub status: RunStatus,
    /// What is wrong, when the status is not ok (file and reason).
    pub problem: Option<String>,
}

impl RunDir {
    /// A run that is left out for `status`, with its reason.
    pub fn skipped(id: String, dir: PathBuf, status: RunStatus, problem: String) -> RunDir {
        RunDir {
            id,
            dir,
            logs: Vec::new(),
            started: None,
            finished: false,
            passed: None,
            status,
            problem: Some(problem),
        }
    }
}

/// Expands RUN arguments (directories or globs of them) into run dirs.
pub fn discover(args: &[String]) -> Result<Vec<RunDir>> {
    let mut dirs = Vec::new();
    for arg in args {
        let path = Path::new(arg);
        if path.exists() {
            dirs.push(path.to_path_buf());
            continue;
        }
        let mut found: Vec<PathBuf> = Vec::new();
        for p in apicov_core::input::glob_paths(arg)? {
            if p.is_dir() {
                found.push(p);
            } else {
                // Said, not dropped: a run is a directory.
                eprintln!(
                    "apicov: warning: {}: matches {arg} but is not a run directory: ignored",
                    p.display()
                );
            }
        }
        if found.is_empty() {
            return Err(Error::NoMatch {
                pattern: arg.clone(),
            });
        }
        dirs.extend(found);
    }
    let mut runs = Vec::with_capacity(dirs.len());
    for dir in dirs {
        runs.push(run_dir(&dir)?);
    }
    runs.sort_by(|a, b| run_order(&a.id, &b.id));
    Ok(runs)
}

/// Prow build ids are decimal numbers growing with time: shorter is older.
pub fn run_order(a: &str, b: &str) -> std::cmp::Ordering {
    (a.len(), a).cmp(&(b.len(), b))
}

/// Reads one run directory; what is wrong with it is its status, not an
/// error (only a path that is not a directory is).
pub fn run_dir(dir: &Path) -> Result<RunDir> {
    if !dir.is_dir() {
        return Err(Error::input(dir, "not a run directory"));
    }
    // A name that is not UTF-8 is still a run: its id is the lossy form.
    let id = dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "?".to_string());
    let skipped = |status, problem: String| {
        Ok(RunDir::skipped(
            id.clone(),
            dir.to_path_buf(),
            status,
            problem,
        ))
    };
    let artifacts = dir.join("artifacts");
    if !artifacts.is_dir() {
        return skipped(
            RunStatus::NoArtifacts,
            format!("{}: no such directory", artifacts.display()),
        );
    }
    let audit = artifacts.join("audit");
    let entries = match std::fs::read_dir(&audit) {
        Ok(entries) => entries,
        Err(e) => return skipped(RunStatus::NoLogs, format!("{}: {e}", audit.display())),
    };
    let mut logs: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            let name = p
                .file_name()
                .map(|n| n.to_string_lossy())
                .unwrap_or_default();
            // Only regular files (or links to them) are logs: a FIFO would
            // block the read for ever, a directory is not a log.
            is_audit_log_name(&name) && std::fs::metadata(p).is_ok_and(|m| m.is_file())
        })
        .collect();
    if logs.is_empty() {
        return skipped(
            RunStatus::NoLogs,
            format!("{}: no audit*.log[.gz|.zst]", audit.display()),
        );
    }
    logs.sort();
    let read_json = |name: &str| -> std::result::Result<Option<Value>, String> {
        let p = dir.join(name);
        match std::fs::read(&p) {
            Ok(bytes) => serde_json::from_slice(&bytes)
                .map(Some)
                .map_err(|e| format!("{}: not JSON: {e}", p.display())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(format!("{}: {e}", p.display())),
        }
    };
    let (started, finished) = match (read_json("started.json"), read_json("finished.json")) {
        (Ok(s), Ok(f)) => (s, f),
        (Err(e), _) | (_, Err(e)) => return skipped(RunStatus::BadMetadata, e),
    };
    let started = started.and_then(|v| v.get("timestamp").and_then(Value::as_i64));
    let passed = finished.as_ref().and_then(|f| {
        f.get("passed").and_then(Value::as_bool).or_else(|| {
            f.get("result")
                .and_then(Value::as_str)
                .map(|r| r == "SUCCESS")
        })
    });
    Ok(RunDir {
        id,
        dir: dir.to_path_buf(),
        logs,
        started,
        finished: finished.is_some(),
        passed,
        status: RunStatus::Ok,
        problem: None,
    })
}

/// Audit-log names a run holds: `audit*.log`, rotated `.log.gz` and `.log.zst`.
pub fn is_audit_log_name(name: &str) -> bool {
    name.starts_with("audit")
        && [".log", ".log.gz", ".log.zst"]
            .iter()
            .any(|ext| name.ends_with(ext))
}

/// `--shard K/N`: the K-th (from 0) of N disjoint slices of any run list.
/// A run's slice depends on its id alone, so it stays in the same slice as
/// runs come and go (Kubernetes Indexed Jobs number their pods from 0).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    /// This slice, from 0.
    pub index: u64,
    /// Number of slices.
    pub count: u64,
}

impl std::str::FromStr for Shard {
    type Err = String;

    fn from_str(s: &str) -> std::result::Result<Shard, String> {
        let bad = || format!("{s}: expected K/N with 0 <= K < N (e.g. 0/4)");
        let (k, n) = s.split_once('/').ok_or_else(bad)?;
        let (index, count): (u64, u64) = (
            k.trim().parse().map_err(|_| bad())?,
            n.trim().parse().map_err(|_| bad())?,
        );
        if count == 0 || index >= count {
            return Err(bad());
        }
        Ok(Shard { index, count })
    }
}

impl Shard {
    /// Whether run `id` falls in this slice (FNV-1a of the id, mod N).
    pub fn holds(&self, id: &str) -> bool {
        let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
        for b in id.bytes() {
            hash ^= u64::from(b);
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
        hash % self.count == self.index
    }
}

/// Which runs a history takes: `--runs`, `--since`, `--last`, `--shard`,
/// applied in that order to the runs sorted by build id.
#[derive(Debug, Clone, Default)]
pub struct Selection {
    /// `--runs`: only these build ids (empty: all).
    pub only: Vec<String>,
    /// Unix seconds: runs started at or after it (runs without started.json
    /// are left out).
    pub since: Option<i64>,
    /// `--last`: the newest N runs.
    pub last: Option<usize>,
    /// `--shard`: one slice of what is left.
    pub shard: Option<Shard>,
}

impl Selection {
    /// Whether `--since` needs the runs' start times.
    pub fn needs_started(&self) -> bool {
        self.since.is_some()
    }

    /// The selected ids, oldest first. `started` gives a run's start time.
    pub fn apply(
        &self,
        mut ids: Vec<String>,
        started: impl Fn(&str) -> Option<i64>,
    ) -> Vec<String> {
        ids.sort_by(|a, b| run_order(a, b));
        ids.dedup();
        if !self.only.is_empty() {
            ids.retain(|id| self.only.contains(id));
        }
        if let Some(since) = self.since {
            ids.retain(|id| started(id).is_some_and(|t| t >= since));
        }
        if let Some(last) = self.last {
            let drop = ids.len().saturating_sub(last);
            ids.drain(..drop);
        }
        if let Some(shard) = self.shard {
            ids.retain(|id| shard.holds(id));
        }
        ids
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn shards_are_disjoint_and_cover_every_run() {
        let ids: Vec<String> = (0..500).map(|i| format!("17900000000{i:05}")).collect();
        let shards: Vec<super::Shard> = (0..7).map(|k| format!("{k}/7").parse().unwrap()).collect();
        for id in &ids {
            assert_eq!(shards.iter().filter(|s| s.holds(id)).count(), 1, "{id}");
        }
        assert!("7/7".parse::<super::Shard>().is_err());
    }
}
