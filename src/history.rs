//! History: many CI runs at once. A run is a directory laid out like a Prow
//! artifact tree (`<run-id>/artifacts/audit/audit*.log[.gz]`, with
//! `started.json` / `finished.json` beside `artifacts/` when present), or a
//! report JSON of a run parsed elsewhere. Each run becomes a [`RunRecord`];
//! the records give a per-run table and a per-operation timeline.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use serde_json::{json, Value};

use crate::aggregate::Tally;
use crate::coverage::filter_of;
use crate::error::{Error, Result};
use crate::lists::EndpointList;
use crate::spec::{Catalogue, OpId};

/// A run directory found on disk.
#[derive(Debug, Clone)]
pub struct RunDir {
    pub id: String,
    pub dir: PathBuf,
    /// Audit logs, sorted (rotated `audit-<time>.log` before `audit.log`).
    pub logs: Vec<PathBuf>,
    /// `started.json`'s `timestamp` (Unix seconds).
    pub started: Option<i64>,
    /// `finished.json` was there.
    pub finished: bool,
    /// `finished.json`'s `passed` (or `result == "SUCCESS"`).
    pub passed: Option<bool>,
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
        let found: Vec<PathBuf> = glob::glob(arg)
            .map_err(|e| Error::Usage(format!("{arg}: bad glob: {e}")))?
            .filter_map(std::result::Result::ok)
            .filter(|p| p.is_dir())
            .collect();
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

fn run_dir(dir: &Path) -> Result<RunDir> {
    if !dir.is_dir() {
        return Err(Error::input(dir, "not a run directory"));
    }
    let audit = dir.join("artifacts").join("audit");
    let mut logs: Vec<PathBuf> = std::fs::read_dir(&audit)
        .map_err(|e| Error::input(&audit, e))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
            name.starts_with("audit") && (name.ends_with(".log") || name.ends_with(".log.gz"))
        })
        .collect();
    if logs.is_empty() {
        return Err(Error::input(&audit, "no audit*.log or audit*.log.gz"));
    }
    logs.sort();
    let read_json = |name: &str| -> Result<Option<Value>> {
        let p = dir.join(name);
        match std::fs::read(&p) {
            Ok(bytes) => serde_json::from_slice(&bytes)
                .map(Some)
                .map_err(|e| Error::input(&p, e)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(Error::input(&p, e)),
        }
    };
    let started =
        read_json("started.json")?.and_then(|v| v.get("timestamp").and_then(Value::as_i64));
    let finished = read_json("finished.json")?;
    let passed = finished.as_ref().and_then(|f| {
        f.get("passed").and_then(Value::as_bool).or_else(|| {
            f.get("result")
                .and_then(Value::as_str)
                .map(|r| r == "SUCCESS")
        })
    });
    Ok(RunDir {
        id: dir
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("?")
            .to_string(),
        dir: dir.to_path_buf(),
        logs,
        started,
        finished: finished.is_some(),
        passed,
    })
}

/// One run, summarised.
#[derive(Debug, Clone)]
pub struct RunRecord {
    pub id: String,
    pub started: Option<i64>,
    pub finished: bool,
    pub passed: Option<bool>,
    pub requests: u64,
    pub operations_hit: usize,
    /// Stable, observable, not deprecated, ineligible or pending.
    pub eligible: usize,
    pub eligible_hit: usize,
    pub stable_not_found: usize,
    pub pending_exercised: usize,
    /// Requests per operation hit (every operation, before filters).
    pub hits: Vec<(OpId, u64)>,
}

impl RunRecord {
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
        let (mut eligible, mut eligible_hit, mut pending_exercised) = (0, 0, 0);
        for (id, op) in catalogue.operations() {
            let hit = tally.ops[id.index()].total() > 0;
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
            requests: tally.requests(),
            operations_hit: hits.len(),
            eligible,
            eligible_hit,
            stable_not_found: eligible - eligible_hit,
            pending_exercised,
            hits,
        }
    }

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
    pub first_run: String,
    pub last_run: String,
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
    for record in records {
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

fn started_text(r: &RunRecord) -> String {
    r.started.map(|t| utc(t).1).unwrap_or_else(|| "-".into())
}

fn gates_text(r: &RunRecord) -> String {
    if r.stable_not_found == 0 && r.pending_exercised == 0 {
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
            started_text(r),
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
        "run,started,finished,passed,requests,operations_hit,eligible_hit,eligible,coverage_percent,stable_not_found,pending_exercised\n",
    );
    for r in records {
        let _ = writeln!(
            out,
            "{},{},{},{},{},{},{},{},{:.2},{},{}",
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
            r.pending_exercised
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
}
