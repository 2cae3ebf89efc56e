//! `apicov explain OPERATION --report RUN.json`: why one operation is or is
//! not covered: its classification (stable, deprecated, listed, observable),
//! the rule that decides it (as `promotions` decides newly stable ones), its
//! requests and tests, and the run's near misses (see `apicov_report::near_miss`).

use std::fmt::Write as _;
use std::path::PathBuf;

use clap::Args;

use crate::args::{ListArgs, SpecArgs};
use apicov_core::error::{Error, Result};
use apicov_report::near_miss::{self, RunView};
use apicov_report::promotions::{Rule, RunHits};

#[derive(Debug, Args)]
pub struct ExplainArgs {
    /// The operationId, e.g. createCoreV1NamespacedPodBinding.
    #[arg(value_name = "OPERATION")]
    pub operation: String,

    /// The run's report JSON (`apicov parse --report-json`; with --by-test
    /// it names the tests, with --conformance-only the clients left out).
    #[arg(long, value_name = "FILE")]
    pub report: PathBuf,

    #[command(flatten)]
    pub spec: SpecArgs,

    #[command(flatten)]
    pub lists: ListArgs,
}

pub fn run(args: &ExplainArgs) -> Result<i32> {
    let fetcher = args.spec.fetch.fetcher();
    let loaded = super::load_inputs(&fetcher, &args.spec, &args.lists, &[], Vec::new())?;
    let catalogue = &loaded.catalogue;
    let id = catalogue.lookup(&args.operation).ok_or_else(|| {
        Error::Usage(format!(
            "{}: not an operation of {} (see `apicov ops`)",
            args.operation, loaded.spec_source
        ))
    })?;
    let bytes = std::fs::read(&args.report).map_err(|e| Error::input(&args.report, e))?;
    let report: serde_json::Value = serde_json::from_slice(&bytes)
        .map_err(|e| Error::input(&args.report, format!("not a report JSON: {e}")))?;
    let op = catalogue.get(id);
    let hits = RunHits::from_report(&report);
    let rule = apicov_report::promotions::rule_of(op, &hits, &loaded.ineligible, &loaded.pending);
    let mut out = String::new();
    let _ = writeln!(out, "{} ({} {})", op.id, op.method.as_str(), op.template);
    let _ = writeln!(
        out,
        "  classification: {}, {}, {}{}{}",
        if op.stable { "stable" } else { "pre-GA" },
        if op.deprecated {
            "deprecated"
        } else {
            "not deprecated"
        },
        if op.observable {
            "observable"
        } else {
            "not observable (HEAD/OPTIONS)"
        },
        if loaded.ineligible.contains(&op.id) {
            ", listed ineligible"
        } else {
            ""
        },
        if loaded.pending.contains(&op.id) {
            ", listed pending"
        } else {
            ""
        },
    );
    let _ = writeln!(out, "  rule: {}: {}", rule.word(), rule.explain());
    if !matches!(rule, Rule::Hit { .. }) {
        let misses = near_miss::near_misses(catalogue, id, &RunView::from_report(&report));
        if misses.is_empty() {
            let _ = writeln!(out, "  near misses: none in this run");
        } else {
            let _ = writeln!(out, "  near misses:");
            for m in misses {
                let _ = writeln!(out, "    - {}", m.describe());
            }
        }
    }
    apicov_report::report::write_stdout(out.as_bytes())?;
    Ok(super::EXIT_OK)
}
