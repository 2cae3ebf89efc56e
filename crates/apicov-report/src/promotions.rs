//! Promotions: the operations that are stable in a new spec but absent or
//! pre-GA (alpha/beta) in the old one, and for each the rule that decides
//! whether the conformance gate may pass: hit by the run (with its count and
//! tests), listed pending, listed ineligible (with the list's reason),
//! deprecated, or unobservable (HEAD/OPTIONS: the apiserver logs them as
//! `get`, kubernetes/kubernetes#95966). Only a newly stable, observable
//! operation that none of these covers fails the gate: the check that
//! ignored `pending_eligible_endpoints.yaml` and went red for ~60 runs on
//! `getLifecycleAPIGroup` (apisnoop #859) is the one this replaces.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde_json::{json, Value};

use apicov_core::lists::EndpointList;
use apicov_core::spec::Catalogue;

/// What the old spec said of an operation that is stable now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Before {
    /// Not in the old spec.
    Absent,
    /// In the old spec at a pre-GA version (`v1beta1`, `v2alpha1`, …), or
    /// under a group with no GA version.
    PreGa(String),
}

/// The rule that decides a newly stable operation, first that applies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rule {
    /// Exercised by the run.
    Hit {
        /// Requests to it.
        requests: u64,
        /// The tests that made them (with `parse --by-test`).
        tests: Vec<String>,
    },
    /// Listed in pending_eligible_endpoints.yaml.
    Pending,
    /// Listed in ineligible_endpoints.yaml, with the list's reason.
    Ineligible {
        /// The list's `reason:`.
        reason: Option<String>,
    },
    /// Deprecated (its description says so).
    Deprecated,
    /// HEAD or OPTIONS: no audit log can show it.
    Unobservable,
    /// None of the above: the gate fails.
    Untested,
    /// None of the above, and no run was given to look in: what it needs is
    /// listed, and nothing fails (a run might hit it).
    NeedsRun,
}

impl Rule {
    /// The rule's word in every output.
    pub fn word(&self) -> &'static str {
        match self {
            Rule::Hit { .. } => "hit",
            Rule::Pending => "pending",
            Rule::Ineligible { .. } => "ineligible",
            Rule::Deprecated => "deprecated",
            Rule::Unobservable => "unobservable",
            Rule::Untested => "untested",
            Rule::NeedsRun => "needs-test",
        }
    }

    /// The gate passes for this operation.
    pub fn passes(&self) -> bool {
        !matches!(self, Rule::Untested)
    }

    /// One sentence on why.
    pub fn explain(&self) -> String {
        match self {
            Rule::Hit { requests, tests } if tests.is_empty() => {
                format!(
                    "hit by the run ({})",
                    crate::counted(*requests, "request", "requests")
                )
            }
            Rule::Hit { requests, tests } => format!(
                "hit by the run ({}; tests: {})",
                crate::counted(*requests, "request", "requests"),
                tests.join("; ")
            ),
            Rule::Pending => "listed in pending_eligible_endpoints.yaml".into(),
            Rule::Ineligible { reason: Some(r) } => {
                format!("listed in ineligible_endpoints.yaml: {r}")
            }
            Rule::Ineligible { reason: None } => "listed in ineligible_endpoints.yaml".into(),
            Rule::Deprecated => "deprecated".into(),
            Rule::Unobservable => {
                "not observable: the apiserver logs HEAD/OPTIONS as get (kubernetes/kubernetes#95966)"
                    .into()
            }
            Rule::NeedsRun => {
                "needs a conformance test that hits it (no run given), or an \
                 entry in pending_eligible_endpoints.yaml"
                    .into()
            }
            Rule::Untested => {
                "not hit by the run and not listed pending or ineligible: write a conformance \
                 test, or list it in pending_eligible_endpoints.yaml"
                    .into()
            }
        }
    }
}

/// One newly stable operation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Promotion {
    /// The operationId.
    pub operation: String,
    /// Its HTTP method.
    pub method: &'static str,
    /// Its path template.
    pub path: String,
    /// What it was in the base spec.
    pub before: Before,
    /// The rule that decides it.
    pub rule: Rule,
}

/// What a run exercised, per operation name: requests and (with
/// `parse --by-test`) the tests that made them.
#[derive(Debug, Clone, Default)]
pub struct RunHits {
    /// Requests per operation.
    pub requests: BTreeMap<String, u64>,
    /// Tests per operation (with `parse --by-test`).
    pub tests: BTreeMap<String, Vec<String>>,
}

impl RunHits {
    /// What `tally` holds (tests with `--by-test`).
    pub fn from_tally(catalogue: &Catalogue, tally: &apicov_core::aggregate::Tally) -> RunHits {
        let mut hits = RunHits::default();
        for (id, op) in catalogue.operations() {
            let n = tally.ops[id.index()].total();
            if n > 0 {
                hits.requests.insert(op.id.clone(), n);
            }
        }
        for (actor, op) in tally.attributed().map(|(key, _)| key) {
            if let apicov_core::attribution::Actor::Test(name) =
                &tally.actors.actors[*actor as usize]
            {
                hits.tests
                    .entry(catalogue.get(*op).id.clone())
                    .or_default()
                    .push(name.clone());
            }
        }
        for tests in hits.tests.values_mut() {
            tests.sort();
        }
        hits
    }

    /// Reads `operations` and `attribution.operations.*.tests` of a report
    /// JSON (`apicov parse --report-json`).
    pub fn from_report(report: &Value) -> RunHits {
        let mut hits = RunHits::default();
        if let Some(ops) = report.get("operations").and_then(Value::as_object) {
            for (op, n) in ops {
                hits.requests.insert(op.clone(), n.as_u64().unwrap_or(0));
            }
        }
        if let Some(ops) = report
            .pointer("/attribution/operations")
            .and_then(Value::as_object)
        {
            for (op, who) in ops {
                let tests: Vec<String> = who
                    .get("tests")
                    .and_then(Value::as_object)
                    .map(|t| t.keys().cloned().collect())
                    .unwrap_or_default();
                hits.tests.insert(op.clone(), tests);
            }
        }
        hits
    }
}

/// The rule that decides `op` in `run`: the first of hit, pending,
/// ineligible, deprecated, unobservable, else untested.
pub fn rule_of(
    op: &apicov_core::spec::Operation,
    run: &RunHits,
    ineligible: &EndpointList,
    pending: &EndpointList,
) -> Rule {
    let requests = run.requests.get(&op.id).copied().unwrap_or(0);
    if requests > 0 {
        Rule::Hit {
            requests,
            tests: run.tests.get(&op.id).cloned().unwrap_or_default(),
        }
    } else if pending.contains(&op.id) {
        Rule::Pending
    } else if let Some(entry) = ineligible.entry(&op.id) {
        Rule::Ineligible {
            reason: entry.reason.clone(),
        }
    } else if op.deprecated {
        Rule::Deprecated
    } else if !op.observable {
        Rule::Unobservable
    } else {
        Rule::Untested
    }
}

/// The operations stable in `new` and absent or pre-GA in `old`, sorted by
/// name, each with its rule.
pub fn promotions(
    old: &Catalogue,
    new: &Catalogue,
    run: &RunHits,
    ineligible: &EndpointList,
    pending: &EndpointList,
) -> Vec<Promotion> {
    let mut found = Vec::new();
    for id in new.sorted_ids() {
        let op = new.get(id);
        if !op.stable {
            continue;
        }
        let before = match old.lookup(&op.id) {
            None => Before::Absent,
            Some(old_id) if !old.get(old_id).stable => Before::PreGa(
                old.get(old_id)
                    .version
                    .clone()
                    .unwrap_or_else(|| "pre-GA".into()),
            ),
            Some(_) => continue,
        };
        let rule = rule_of(op, run, ineligible, pending);
        found.push(Promotion {
            operation: op.id.clone(),
            method: op.method.as_str(),
            path: op.template.clone(),
            before,
            rule,
        });
    }
    found
}

fn before_text(before: &Before) -> String {
    match before {
        Before::Absent => "new".into(),
        Before::PreGa(v) => format!("was {v}"),
    }
}

/// Without a run, an operation no list decides needs a test (`NeedsRun`)
/// rather than fails: nothing was looked for.
pub fn without_run(promotions: &mut [Promotion]) {
    for p in promotions {
        if p.rule == Rule::Untested {
            p.rule = Rule::NeedsRun;
        }
    }
}

fn status_word(rule: &Rule) -> &'static str {
    match rule {
        Rule::Untested => "FAIL",
        Rule::NeedsRun => "needs",
        _ => "ok",
    }
}

/// The console report: one line per operation, then the verdict.
pub fn render_text(promotions: &[Promotion]) -> String {
    let mut out = String::new();
    let failing = promotions.iter().filter(|p| !p.rule.passes()).count();
    let needing = promotions
        .iter()
        .filter(|p| p.rule == Rule::NeedsRun)
        .count();
    if needing > 0 {
        let _ = writeln!(
            out,
            "{} operation(s) newly stable; no run given (--report), so none fails: {needing} \
             need a test, pending or ineligible entry",
            promotions.len()
        );
    } else {
        let _ = writeln!(
            out,
            "{} operation(s) newly stable; {failing} without a test, pending or ineligible entry",
            promotions.len()
        );
    }
    for p in promotions {
        let _ = writeln!(
            out,
            "  {:<7} {} ({}, {} {}): {}",
            status_word(&p.rule),
            p.operation,
            before_text(&p.before),
            p.method,
            p.path,
            p.rule.explain()
        );
    }
    out
}

/// A pull-request comment.
pub fn render_markdown(promotions: &[Promotion]) -> String {
    let failing = promotions.iter().filter(|p| !p.rule.passes()).count();
    let mut out = format!(
        "### Newly stable API operations: {} ({failing} failing)\n\n\
         | | operation | before | request | rule |\n|---|---|---|---|---|\n",
        promotions.len()
    );
    for p in promotions {
        let _ = writeln!(
            out,
            "| {} | `{}` | {} | `{} {}` | {} |",
            match p.rule {
                Rule::Untested => "❌",
                Rule::NeedsRun => "❔",
                _ => "✅",
            },
            p.operation,
            before_text(&p.before),
            p.method,
            p.path,
            p.rule.explain().replace('|', "\\|")
        );
    }
    out
}

/// For programs.
pub fn to_json(promotions: &[Promotion]) -> Value {
    let ops: Vec<Value> = promotions
        .iter()
        .map(|p| {
            let mut v = json!({
                "operation": p.operation,
                "method": p.method,
                "path": p.path,
                "before": match &p.before { Before::Absent => Value::Null, Before::PreGa(v) => json!(v) },
                "rule": p.rule.word(),
                "passes": p.rule.passes(),
                "explanation": p.rule.explain(),
            });
            match &p.rule {
                Rule::Hit { requests, tests } => {
                    v["requests"] = json!(requests);
                    v["tests"] = json!(tests);
                }
                Rule::Ineligible { reason } => v["reason"] = json!(reason),
                _ => {}
            }
            v
        })
        .collect();
    json!({
        "newly_stable": promotions.len(),
        "failing": promotions.iter().filter(|p| !p.rule.passes()).count(),
        "operations": ops,
    })
}
