//! What one run gives the history ([`RunRecord`]) and what the records give
//! per operation ([`OpTimeline`]).

use std::collections::BTreeMap;

use super::discover::{RunDir, RunStatus};
use crate::dates::utc;
use crate::report::Caveats;
use apicov_core::aggregate::Tally;
use apicov_core::coverage::filter_of;
use apicov_core::lists::EndpointList;
use apicov_core::spec::{Catalogue, OpId};

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

/// What holds for some run of the history, for titles and notes.
pub fn caveats(records: &[RunRecord]) -> Caveats {
    Caveats {
        conformance_only: records.iter().any(|r| r.caveats.conformance_only),
        spec_mix: records.iter().any(|r| r.caveats.spec_mix),
    }
}
