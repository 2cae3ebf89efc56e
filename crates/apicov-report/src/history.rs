//! History: many CI runs at once. A run is a directory laid out like a Prow
//! artifact tree (`<run-id>/artifacts/audit/audit*.log[.gz]`, with
//! `started.json` / `finished.json` beside `artifacts/` when present), or a
//! report JSON of a run parsed elsewhere. Each run becomes a [`RunRecord`];
//! the records give a per-run table and a per-operation timeline.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use serde_json::{json, Value};

use crate::report::Caveats;
use apicov_core::aggregate::Tally;
use apicov_core::coverage::filter_of;
use apicov_core::error::{Error, Result};
use apicov_core::lists::EndpointList;
use apicov_core::spec::{Catalogue, OpId};

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

/// `YYYY-MM-DD` (UTC midnight) as Unix seconds.
pub fn parse_date(date: &str) -> Option<i64> {
    let mut parts = date.trim().splitn(3, '-');
    let y: i64 = parts.next()?.parse().ok()?;
    let m: i64 = parts.next()?.parse().ok()?;
    let d: i64 = parts.next()?.parse().ok()?;
    if !(1..=12).contains(&m) || !(1..=31).contains(&d) {
        return None;
    }
    // Howard Hinnant's days_from_civil.
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    Some((era * 146_097 + doe - 719_468) * 86_400)
}

/// The `run` section of a run's report JSON (`history --reports-dir`): the
/// row's own fields, so the report alone rebuilds the row.
pub fn run_section(record: &RunRecord, cache_key: Option<&str>) -> Value {
    let mut section = json!({
        "id": record.id,
        "started": record.started,
        "finished": record.finished,
        "passed": record.passed,
        "status": record.status.as_str(),
        "problem": record.problem,
    });
    if let Some(key) = cache_key {
        section["cache_key"] = json!(key);
    }
    section
}

/// A cached row of an analysed or skipped run: its `run` section (with the
/// cache key), its requests and its hits per operation.
pub fn cached_row(record: &RunRecord, cache_key: &str, catalogue: &Catalogue) -> Vec<u8> {
    let hits: serde_json::Map<String, Value> = record
        .hits
        .iter()
        .map(|(op, n)| (catalogue.get(*op).id.clone(), json!(n)))
        .collect();
    let mut bytes = serde_json::to_vec(&json!({
        "run": run_section(record, Some(cache_key)),
        "requests": record.requests,
        "hits": hits,
    }))
    .expect("Value serialises");
    bytes.push(b'\n');
    bytes
}

/// The row a [`cached_row`] file holds (None if it is not one).
pub fn record_from_cached_row(
    path: &Path,
    catalogue: &Catalogue,
    lists: (&EndpointList, &EndpointList),
) -> Option<RunRecord> {
    let value: Value = serde_json::from_slice(&std::fs::read(path).ok()?).ok()?;
    let dir = run_dir_from_section(value.get("run")?, path);
    if dir.status != RunStatus::Ok {
        return Some(RunRecord::skipped(&dir));
    }
    let mut hits: Vec<(OpId, u64)> = Vec::new();
    for (name, n) in value.get("hits")?.as_object()? {
        hits.push((catalogue.lookup(name)?, n.as_u64()?));
    }
    hits.sort_unstable();
    let requests = value.get("requests")?.as_u64()?;
    Some(RunRecord::from_hits(&dir, requests, hits, catalogue, lists))
}

/// The run a `run` section describes (see [`run_section`]).
pub fn run_dir_from_section(section: &Value, path: &Path) -> RunDir {
    RunDir {
        id: section
            .get("id")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string(),
        dir: path.to_path_buf(),
        logs: Vec::new(),
        started: section.get("started").and_then(Value::as_i64),
        finished: section
            .get("finished")
            .and_then(Value::as_bool)
            .unwrap_or(true),
        passed: section.get("passed").and_then(Value::as_bool),
        status: section
            .get("status")
            .and_then(Value::as_str)
            .and_then(RunStatus::parse)
            .unwrap_or(RunStatus::BadReport),
        problem: section
            .get("problem")
            .and_then(Value::as_str)
            .map(str::to_string),
    }
}

/// One run, summarised.
#[derive(Debug, Clone)]
pub struct RunRecord {
    /// The build id.
    pub id: String,
    /// Start time (Unix seconds) from started.json.
    pub started: Option<i64>,
    /// Whether finished.json exists.
    pub finished: bool,
    /// finished.json's result, when it says.
    pub passed: Option<bool>,
    /// Requests counted.
    pub requests: u64,
    /// Operations hit (before filters).
    pub operations_hit: usize,
    /// Stable, observable, not deprecated, ineligible or pending.
    pub eligible: usize,
    /// Eligible operations hit.
    pub eligible_hit: usize,
    /// Eligible operations not hit.
    pub stable_not_found: usize,
    /// Pending-eligible operations exercised.
    pub pending_exercised: usize,
    /// Requests per operation hit (every operation, before filters).
    pub hits: Vec<(OpId, u64)>,
    /// Whether the run was analysed; a skipped run counts nothing and is
    /// left out of timelines and coverage plots.
    pub status: RunStatus,
    /// Why the run was skipped, for its row and stderr.
    pub problem: Option<String>,
    /// How the run's report was made (`history --reports`).
    pub caveats: Caveats,
}

impl RunRecord {
    /// The record of the run in `dir`, from its tally.
    pub fn new(
        dir: &RunDir,
        tally: &Tally,
        catalogue: &Catalogue,
        ineligible: &EndpointList,
        pending: &EndpointList,
    ) -> RunRecord {
        let hits: Vec<(OpId, u64)> = catalogue
            .operations()
            .map(|(id, _)| (id, tally.ops[id.index()].total()))
            .filter(|(_, n)| *n > 0)
            .collect();
        RunRecord::from_hits(
            dir,
            tally.requests(),
            hits,
            catalogue,
            (ineligible, pending),
        )
    }

    /// The row of an analysed run from its requests and its hits per
    /// operation (in catalogue order): what `history`'s cache keeps.
    pub fn from_hits(
        dir: &RunDir,
        requests: u64,
        hits: Vec<(OpId, u64)>,
        catalogue: &Catalogue,
        (ineligible, pending): (&EndpointList, &EndpointList),
    ) -> RunRecord {
        let hit_ops: ahash::AHashSet<OpId> = hits.iter().map(|(op, _)| *op).collect();
        let (mut eligible, mut eligible_hit, mut pending_exercised) = (0, 0, 0);
        for (id, op) in catalogue.operations() {
            let hit = hit_ops.contains(&id);
            if hit && pending.contains(&op.id) {
                pending_exercised += 1;
            }
            if op.stable && op.observable && filter_of(catalogue, id, ineligible, pending).is_none()
            {
                eligible += 1;
                eligible_hit += usize::from(hit);
            }
        }
        RunRecord {
            id: dir.id.clone(),
            started: dir.started,
            finished: dir.finished,
            passed: dir.passed,
            requests,
            operations_hit: hits.len(),
            eligible,
            eligible_hit,
            stable_not_found: eligible - eligible_hit,
            pending_exercised,
            hits,
            status: dir.status,
            problem: dir.problem.clone(),
            caveats: Caveats::default(),
        }
    }

    /// The row of a run that could not be analysed.
    pub fn skipped(dir: &RunDir) -> RunRecord {
        RunRecord {
            id: dir.id.clone(),
            started: dir.started,
            finished: dir.finished,
            passed: dir.passed,
            requests: 0,
            operations_hit: 0,
            eligible: 0,
            eligible_hit: 0,
            stable_not_found: 0,
            pending_exercised: 0,
            hits: Vec::new(),
            status: dir.status,
            problem: dir.problem.clone(),
            caveats: Caveats::default(),
        }
    }

    /// The run was analysed.
    pub fn is_ok(&self) -> bool {
        self.status == RunStatus::Ok
    }

    /// When the run started, `YYYY-MM-DDTHH:MM:SSZ`, or `-`: as the console
    /// table and the HTML page show it.
    pub fn started_text(&self) -> String {
        self.started.map(|t| utc(t).1).unwrap_or_else(|| "-".into())
    }

    /// Eligible operations hit, in percent of the eligible.
    pub fn coverage_percent(&self) -> f64 {
        if self.eligible == 0 {
            0.0
        } else {
            100.0 * self.eligible_hit as f64 / self.eligible as f64
        }
    }

    /// The run's date (from started.json), `YYYY-MM-DD`.
    pub fn date(&self) -> Option<String> {
        self.started.map(|t| utc(t).0)
    }
}

/// One operation across the runs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OpTimeline {
    /// The first run (build id) that hit the operation.
    pub first_run: String,
    /// The last run that hit it.
    pub last_run: String,
    /// Runs that hit it.
    pub runs_hit: usize,
    /// Runs that hit it when the run before did not.
    pub appeared: Vec<String>,
    /// Runs that did not hit it when the run before did.
    pub disappeared: Vec<String>,
}

/// Timelines of every operation hit in some run, by name.
pub fn timelines(records: &[RunRecord], catalogue: &Catalogue) -> BTreeMap<String, OpTimeline> {
    let mut lines: BTreeMap<String, OpTimeline> = BTreeMap::new();
    let mut previous: Option<std::collections::HashSet<OpId>> = None;
    for record in records.iter().filter(|r| r.is_ok()) {
        let now: std::collections::HashSet<OpId> = record.hits.iter().map(|(op, _)| *op).collect();
        for op in &now {
            let t = lines.entry(catalogue.get(*op).id.clone()).or_default();
            if t.runs_hit == 0 {
                t.first_run = record.id.clone();
            }
            t.last_run = record.id.clone();
            t.runs_hit += 1;
            if previous.as_ref().is_some_and(|p| !p.contains(op)) {
                t.appeared.push(record.id.clone());
            }
        }
        if let Some(prev) = &previous {
            for op in prev.difference(&now) {
                lines
                    .entry(catalogue.get(*op).id.clone())
                    .or_default()
                    .disappeared
                    .push(record.id.clone());
            }
        }
        previous = Some(now);
    }
    lines
}

/// Unix seconds → (`YYYY-MM-DD`, `YYYY-MM-DDTHH:MM:SSZ`), UTC.
pub fn utc(secs: i64) -> (String, String) {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    let date = format!("{y:04}-{m:02}-{d:02}");
    let time = format!(
        "{date}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        (rem / 60) % 60,
        rem % 60
    );
    (date, time)
}

/// What holds for some run of the history, for titles and notes.
pub fn caveats(records: &[RunRecord]) -> Caveats {
    Caveats {
        conformance_only: records.iter().any(|r| r.caveats.conformance_only),
        spec_mix: records.iter().any(|r| r.caveats.spec_mix),
    }
}

fn gates_text(r: &RunRecord) -> String {
    if !r.is_ok() {
        format!(
            "skipped ({}): {}",
            r.status.as_str(),
            r.problem.as_deref().unwrap_or("")
        )
    } else if r.stable_not_found == 0 && r.pending_exercised == 0 {
        "pass".into()
    } else {
        format!(
            "fail ({} not found, {} pending exercised)",
            r.stable_not_found, r.pending_exercised
        )
    }
}

/// The console table and the changes between consecutive runs.
pub fn render_text(records: &[RunRecord], timelines: &BTreeMap<String, OpTimeline>) -> String {
    let mut out = String::new();
    for line in caveats(records).lines() {
        let _ = writeln!(out, "{line}");
    }
    let _ = writeln!(
        out,
        "{:<22} {:<20} {:>10} {:>6} {:>16}  {:<8} gates",
        "run", "started", "requests", "ops", "stable hit", "finished"
    );
    for r in records {
        let _ = writeln!(
            out,
            "{:<22} {:<20} {:>10} {:>6} {:>8}/{:<4} {:>5.1}%  {:<8} {}",
            r.id,
            r.started_text(),
            r.requests,
            r.operations_hit,
            r.eligible_hit,
            r.eligible,
            r.coverage_percent(),
            match (r.finished, r.passed) {
                (false, _) => "no",
                (true, Some(true)) => "passed",
                (true, Some(false)) => "failed",
                (true, None) => "yes",
            },
            gates_text(r)
        );
    }
    let mut changes: BTreeMap<&str, (Vec<&str>, Vec<&str>)> = BTreeMap::new();
    for (op, t) in timelines {
        for run in &t.appeared {
            changes.entry(run).or_default().0.push(op);
        }
        for run in &t.disappeared {
            changes.entry(run).or_default().1.push(op);
        }
    }
    if !changes.is_empty() {
        let _ = writeln!(out, "\nChanges against the run before:");
        for r in records {
            if let Some((gained, lost)) = changes.get(r.id.as_str()) {
                let _ = writeln!(out, "  {}: +{} -{}", r.id, gained.len(), lost.len());
                for op in gained {
                    let _ = writeln!(out, "    + {op}");
                }
                for op in lost {
                    let _ = writeln!(out, "    - {op}");
                }
            }
        }
    }
    out
}

/// `runs.csv`.
pub fn runs_csv(records: &[RunRecord]) -> String {
    let mut out = String::from(
        "run,started,finished,passed,requests,operations_hit,eligible_hit,eligible,coverage_percent,stable_not_found,pending_exercised,status,problem,conformance_only,other_spec\n",
    );
    for r in records {
        let _ = writeln!(
            out,
            "{},{},{},{},{},{},{},{},{:.2},{},{},{},{},{},{}",
            csv(&r.id),
            r.started.map(|t| utc(t).1).unwrap_or_default(),
            r.finished,
            r.passed.map(|p| p.to_string()).unwrap_or_default(),
            r.requests,
            r.operations_hit,
            r.eligible_hit,
            r.eligible,
            r.coverage_percent(),
            r.stable_not_found,
            r.pending_exercised,
            r.status.as_str(),
            csv(r.problem.as_deref().unwrap_or("")),
            r.caveats.conformance_only,
            r.caveats.spec_mix
        );
    }
    out
}

/// `operations.csv`: the timeline (runs joined with `;`).
pub fn operations_csv(timelines: &BTreeMap<String, OpTimeline>) -> String {
    let mut out = String::from("operation,first_run,last_run,runs_hit,appeared,disappeared\n");
    for (op, t) in timelines {
        let _ = writeln!(
            out,
            "{},{},{},{},{},{}",
            csv(op),
            csv(&t.first_run),
            csv(&t.last_run),
            t.runs_hit,
            csv(&t.appeared.join(";")),
            csv(&t.disappeared.join(";"))
        );
    }
    out
}

fn csv(field: &str) -> String {
    if field.contains([',', '"', '\n']) {
        format!("\"{}\"", field.replace('"', "\"\""))
    } else {
        field.to_string()
    }
}

/// The history as JSON (`history --json`): runs and per-operation timelines.
pub fn to_json(
    records: &[RunRecord],
    timelines: &BTreeMap<String, OpTimeline>,
    catalogue: &Catalogue,
) -> Value {
    let runs: Vec<Value> = records
        .iter()
        .map(|r| {
            let hits: serde_json::Map<String, Value> = r
                .hits
                .iter()
                .map(|(op, n)| (catalogue.get(*op).id.clone(), json!(n)))
                .collect();
            json!({
                "run": r.id,
                "started": r.started.map(|t| utc(t).1),
                "finished": r.finished,
                "passed": r.passed,
                "requests": r.requests,
                "operations_hit": r.operations_hit,
                "eligible_hit": r.eligible_hit,
                "eligible": r.eligible,
                "coverage_percent": (r.coverage_percent() * 100.0).round() / 100.0,
                "stable_not_found": r.stable_not_found,
                "pending_exercised": r.pending_exercised,
                "status": r.status.as_str(),
                "problem": r.problem,
                "conformance_only": r.caveats.conformance_only,
                "other_spec": r.caveats.spec_mix,
                "operations": hits,
            })
        })
        .collect();
    let ops: serde_json::Map<String, Value> = timelines
        .iter()
        .map(|(op, t)| {
            (
                op.clone(),
                json!({
                    "first_run": t.first_run,
                    "last_run": t.last_run,
                    "runs_hit": t.runs_hit,
                    "appeared": t.appeared,
                    "disappeared": t.disappeared,
                }),
            )
        })
        .collect();
    json!({"runs": runs, "operations": ops})
}

/// The cache files of a run: its row (small, read on every history; it
/// carries the cache key) and its full report (read only for --reports-dir).
pub fn cache_paths(cache_dir: &Path, id: &str) -> (PathBuf, PathBuf) {
    (
        cache_dir.join(format!("{id}.json")),
        cache_dir.join(format!("{id}.report.json")),
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn utc_dates() {
        assert_eq!(
            super::utc(0),
            ("1970-01-01".into(), "1970-01-01T00:00:00Z".into())
        );
        assert_eq!(super::utc(1_795_687_200).1, "2026-11-26T10:00:00Z");
        assert_eq!(super::utc(951_782_400).0, "2000-02-29");
    }

    #[test]
    fn dates_parse_back() {
        for secs in [0, 951_782_400, 1_795_651_200] {
            assert_eq!(super::parse_date(&super::utc(secs).0), Some(secs));
        }
        assert_eq!(super::parse_date("2026-13-01"), None);
    }

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
