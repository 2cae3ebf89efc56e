//! `--report-json`: everything the run found, for programs (and for later
//! merging of runs). Keys are stable; lists are sorted; see README.

use serde_json::{json, Map, Value};

use apicov_core::aggregate::Tally;
use apicov_core::attribution::{is_conformance, Actor};
use apicov_core::coverage::{filter_of, Coverage};
use apicov_core::event::Stage;
use apicov_core::spec::Catalogue;

use super::{Body, Render, Run};

/// The report JSON (`--report-json`).
#[derive(Debug, Clone, Copy, Default)]
pub struct ReportJson;

impl Render for ReportJson {
    fn render<'a>(&'a self, run: &Run<'a>, coverage: &'a Coverage) -> Body<'a> {
        render(run, coverage).into()
    }
}

/// Format version of the report JSON; bumped on incompatible changes.
pub const FORMAT_VERSION: u64 = 1;

/// Per test and per client the operations they hit, and per operation the
/// tests and clients that hit it; names sorted.
fn attribution(catalogue: &Catalogue, tally: &Tally) -> Value {
    use std::collections::BTreeMap;
    /// Requests by name (of an operation, test or client).
    type Counts<'a> = BTreeMap<&'a str, u64>;
    let mut tests: BTreeMap<&str, Counts> = BTreeMap::new();
    let mut clients: BTreeMap<&str, Counts> = BTreeMap::new();
    // Per operation: (tests, clients).
    let mut ops: BTreeMap<&str, (Counts, Counts)> = BTreeMap::new();
    for ((actor, op), n) in tally.attributed() {
        let op_name = catalogue.get(*op).id.as_str();
        let entry = ops.entry(op_name).or_default();
        match &tally.actors.actors[*actor as usize] {
            Actor::Test(name) => {
                *tests.entry(name).or_default().entry(op_name).or_default() += n;
                *entry.0.entry(name).or_default() += n;
            }
            Actor::Client(name) => {
                *clients.entry(name).or_default().entry(op_name).or_default() += n;
                *entry.1.entry(name).or_default() += n;
            }
        }
    }
    let tests: Map<String, Value> = tests
        .into_iter()
        .map(|(name, ops)| {
            let v = json!({
                "conformance": is_conformance(name),
                "requests": ops.values().sum::<u64>(),
                "operations": ops,
            });
            (name.to_string(), v)
        })
        .collect();
    let clients: Map<String, Value> = clients
        .into_iter()
        .map(|(name, ops)| {
            let v = json!({"requests": ops.values().sum::<u64>(), "operations": ops});
            (name.to_string(), v)
        })
        .collect();
    let ops: Map<String, Value> = ops
        .into_iter()
        .map(|(op, (t, c))| (op.to_string(), json!({"tests": t, "clients": c})))
        .collect();
    json!({"tests": tests, "clients": clients, "operations": ops})
}

fn by_stage(counts: &[u64; 4]) -> Value {
    let mut map = Map::new();
    for stage in Stage::ALL {
        map.insert(stage.as_str().into(), counts[stage as usize].into());
    }
    Value::Object(map)
}

/// Stable operations no audit log can show, so no coverage percentage
/// counts them: HEAD and OPTIONS (logged as `get`, kubernetes/kubernetes#95966)
/// and, when watches credit the list operation, the deprecated `/watch/`
/// operations (no request is ever credited to them). Sorted by name.
pub fn unmeasurable(catalogue: &Catalogue, watch_credit: &str) -> Vec<apicov_core::spec::OpId> {
    catalogue
        .sorted_ids()
        .into_iter()
        .filter(|id| {
            let op = catalogue.get(*id);
            op.stable
                && (!op.observable || (watch_credit == "list" && op.template.contains("/watch/")))
        })
        .collect()
}

/// The report JSON of `run` (`--report-json`, `serve`'s `/coverage.json`).
pub fn render(run: &Run, coverage: &Coverage) -> Vec<u8> {
    let Run {
        catalogue, tally, ..
    } = *run;
    let watch_credit = run.watch_credit.as_str();
    let name = |op: &apicov_core::spec::OpId| Value::from(catalogue.get(*op).id.clone());
    let view = crate::near_miss::RunView::from_tally(catalogue, tally);

    let mut requests_by_stage = [0u64; 4];
    for hits in tally
        .ops
        .iter()
        .chain(tally.unmatched().map(|(_, hits)| hits))
    {
        for (total, n) in requests_by_stage.iter_mut().zip(hits.by_stage) {
            *total += n;
        }
    }

    let mut operations = Map::new();
    let mut operation_stages = Map::new();
    for op in catalogue.sorted_ids() {
        let hits = &tally.ops[op.index()];
        if hits.total() > 0 {
            operations.insert(catalogue.get(op).id.clone(), hits.total().into());
            operation_stages.insert(catalogue.get(op).id.clone(), by_stage(&hits.by_stage));
        }
    }

    let mut unmatched: Vec<_> = tally.unmatched().collect();
    unmatched.sort_by(|a, b| b.1.total().cmp(&a.1.total()).then_with(|| a.0.cmp(b.0)));
    let unmatched: Vec<Value> = unmatched
        .into_iter()
        .map(|(key, hits)| json!({"verb": key.verb, "pattern": key.pattern, "count": hits.total()}))
        .collect();

    let mut classification = Map::new();
    for op in catalogue.sorted_ids() {
        let o = catalogue.get(op);
        let filtered = filter_of(catalogue, op, run.ineligible, run.pending);
        classification.insert(
            o.id.clone(),
            json!({
                "method": o.method.as_str(),
                "path": o.template,
                "kind": o.kind.as_str(),
                "stable": o.stable,
                "deprecated": o.deprecated,
                "ineligible": run.ineligible.contains(&o.id),
                "pending": run.pending.contains(&o.id),
                "observable": o.observable,
                "counted_in_endpoints": filtered.is_none() && tally.ops[op.index()].total() > 0,
            }),
        );
    }

    let inputs: Vec<Value> = run
        .inputs
        .iter()
        .zip(&tally.inputs)
        .map(|(info, totals)| {
            json!({
                "path": info.name,
                "compression": info.compression.name(),
                "bytes": totals.bytes,
                "lines": totals.lines,
            })
        })
        .collect();

    let malformed: Vec<Value> = tally
        .malformed_examples
        .iter()
        .map(|m| json!({"file": run.inputs[m.input].name, "line": m.line, "reason": m.reason}))
        .collect();

    let stages_seen: Vec<&str> = Stage::ALL
        .iter()
        .filter(|s| tally.events_by_stage[**s as usize] > 0)
        .map(|s| s.as_str())
        .collect();

    let mut report = json!({
        "format_version": FORMAT_VERSION,
        "apicov_version": env!("CARGO_PKG_VERSION"),
        "spec": {"source": run.spec_source, "operations": catalogue.len(), "digest": catalogue.digest()},
        "conformance_only": run.caveats.conformance_only,
        "spec_mix": run.caveats.spec_mix,
        "watch_credit": watch_credit,
        "inputs": inputs,
        "lines": tally.lines(),
        "blank_lines": tally.blank_lines,
        "malformed_lines": tally.malformed_lines,
        "malformed_examples": malformed,
        "events": tally.events(),
        "events_by_stage": by_stage(&tally.events_by_stage),
        "stages_seen": stages_seen,
        "requests": tally.requests(),
        "matched_requests": tally.matched_requests(),
        "unmatched_requests": tally.unmatched_requests(),
        "requests_by_counting_stage": by_stage(&requests_by_stage),
        "operations": operations,
        "operation_stages": operation_stages,
        "unmatched": unmatched,
        "filters": {
            "ineligible": {"source": run.ineligible.source, "listed": run.ineligible.len(),
                           "operations": coverage.ineligible.operations, "calls": coverage.ineligible.calls},
            "pending": {"source": run.pending.source, "listed": run.pending.len(),
                        "operations": coverage.pending.operations, "calls": coverage.pending.calls},
            "deprecated": {"operations": coverage.deprecated.operations, "calls": coverage.deprecated.calls},
        },
        "endpoints": {"operations": coverage.kept.len(), "calls": coverage.kept_calls(tally)},
        "stable_not_found": coverage.stable_not_found.iter().map(name).collect::<Vec<_>>(),
        "pending_exercised": coverage.pending_exercised.iter().map(name).collect::<Vec<_>>(),
        "unmeasurable": unmeasurable(catalogue, watch_credit).iter().map(name).collect::<Vec<_>>(),
        "near_misses": crate::near_miss::to_json(catalogue, &coverage.stable_not_found, &view),
        "left_out": view.left_out_json(),
        "classification": classification,
    });
    report.as_object_mut().expect("report is an object").insert(
        "tally".into(),
        crate::merge::to_json(tally, catalogue, run.seeded_from, run.chain_position),
    );
    if run.by_test {
        report
            .as_object_mut()
            .expect("report is an object")
            .insert("attribution".into(), attribution(catalogue, tally));
    }
    let mut bytes = serde_json::to_vec_pretty(&report).expect("serialising a Value cannot fail");
    bytes.push(b'\n');
    bytes
}
