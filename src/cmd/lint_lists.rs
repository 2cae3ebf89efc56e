//! `apicov lint-lists`: validates ineligible_endpoints.yaml and
//! pending_eligible_endpoints.yaml against the spec (and a run).

use std::collections::BTreeMap;

use clap::Args;
use serde_json::Value;

use crate::args::{ListArgs, SpecArgs};
use apicov_core::error::{Error, Result};
use apicov_core::lists::lint;

#[derive(Debug, Args)]
pub struct LintListsArgs {
    #[command(flatten)]
    pub spec: SpecArgs,

    #[command(flatten)]
    pub lists: ListArgs,

    /// A run's report JSON (`apicov parse --report-json`): pending entries
    /// it exercises are findings too.
    #[arg(long, value_name = "FILE")]
    pub report_json: Option<String>,
}

pub fn run(args: &LintListsArgs) -> Result<i32> {
    let fetcher = args.spec.fetch.fetcher();
    let more: Vec<apicov_fetch::source::Wanted> = args
        .report_json
        .iter()
        .map(|location| apicov_fetch::source::Wanted {
            flag: "--report-json",
            location,
        })
        .collect();
    let super::Loaded {
        catalogue,
        ineligible,
        pending,
        more,
        ..
    } = super::load_inputs(&fetcher, &args.spec, &args.lists, &more, Vec::new())?;
    let counts = match more.into_iter().next() {
        Some(doc) => {
            let bad = |message: String| Error::Source {
                source_name: doc.name.clone(),
                message,
            };
            let report: Value =
                serde_json::from_slice(doc.bytes()?).map_err(|e| bad(e.to_string()))?;
            let ops = report
                .get("operations")
                .and_then(Value::as_object)
                .ok_or_else(|| bad("no \"operations\" object: not an apicov report".into()))?;
            let counts: BTreeMap<String, u64> = ops
                .iter()
                .map(|(k, v)| (k.clone(), v.as_u64().unwrap_or(0)))
                .collect();
            Some((doc.name, counts))
        }
        None => None,
    };
    let findings = lint(
        &catalogue,
        &ineligible,
        &pending,
        counts.as_ref().map(|(name, c)| (name.as_str(), c)),
    );
    let mut out = String::new();
    for f in &findings {
        out.push_str(&format!("{f}\n"));
    }
    out.push_str(&format!(
        "{} finding(s) in {} ineligible and {} pending entries\n",
        findings.len(),
        ineligible.entries.len(),
        pending.entries.len()
    ));
    apicov_report::report::write_stdout(out.as_bytes())?;
    Ok(if findings.is_empty() {
        super::EXIT_OK
    } else {
        super::EXIT_GATE
    })
}
