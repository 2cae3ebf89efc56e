//! What history keeps between runs and reads back: a run's row (small, read
//! on every history) and its full report, keyed by what the run was analysed
//! with, and rows rebuilt from report JSONs (`history --reports`).

use std::path::{Path, PathBuf};

use serde_json::{json, Value};

use super::discover::{RunDir, RunStatus};
use super::record::RunRecord;
use crate::merge::{merge_reports, MergeRules};
use apicov_core::error::{Error, Result};
use apicov_core::lists::EndpointList;
use apicov_core::spec::{Catalogue, OpId};

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

/// The cache files of a run: its row (small, read on every history; it
/// carries the cache key) and its full report (read only for --reports-dir).
pub fn cache_paths(cache_dir: &Path, id: &str) -> (PathBuf, PathBuf) {
    (
        cache_dir.join(format!("{id}.json")),
        cache_dir.join(format!("{id}.report.json")),
    )
}

/// One run's row from its report JSON: the `run` section (written by
/// `history`) gives its times, result and status; a plain `parse` report is
/// a finished run of unknown start. An unreadable report is a `bad-report` row.
pub fn record_from_report(
    path: &Path,
    catalogue: &Catalogue,
    rules: MergeRules,
    ineligible: &EndpointList,
    pending: &EndpointList,
) -> Result<RunRecord> {
    let stem = path
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or("?")
        .to_string();
    let bad = |e: Error| {
        let dir = RunDir::skipped(
            stem.clone(),
            path.to_path_buf(),
            RunStatus::BadReport,
            e.to_string(),
        );
        RunRecord::skipped(&dir)
    };
    let section = std::fs::read(path)
        .ok()
        .and_then(|bytes| serde_json::from_slice::<Value>(&bytes).ok())
        .and_then(|report| report.get("run").cloned());
    let mut dir = match &section {
        Some(run) => run_dir_from_section(run, path),
        None => RunDir {
            id: stem.clone(),
            dir: path.to_path_buf(),
            logs: Vec::new(),
            started: None,
            finished: true,
            passed: None,
            status: RunStatus::Ok,
            problem: None,
        },
    };
    if dir.id.is_empty() {
        dir.id = stem.clone();
    }
    if dir.status != RunStatus::Ok {
        return Ok(RunRecord::skipped(&dir));
    }
    let merged = match merge_reports(std::slice::from_ref(&path.to_path_buf()), catalogue, rules) {
        Ok(merged) => merged,
        Err(e @ (Error::Input { .. } | Error::Source { .. })) => return Ok(bad(e)),
        Err(e) => return Err(e),
    };
    let mut record = RunRecord::new(&dir, &merged.tally, catalogue, ineligible, pending);
    record.caveats = merged.caveats;
    Ok(record)
}
