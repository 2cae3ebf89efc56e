//! `apicov merge REPORT.json... -o merged.json`: combines runs parsed apart
//! into exactly what one parse over all their inputs would give, and writes
//! every output `parse` can write.
//!
//! Parts of one log, split anywhere: parse each with `--continue-from` the
//! report of the part before it, so requests in flight across a split are
//! counted once; merge checks that chain. Separate runs (other clusters,
//! other CI runs) share no requests: `--independent`.
//!
//! The tracking lists default to the ones the reports record (their
//! classification), so merging needs no list download; the spec is still
//! needed to read the reports' operations.

use std::path::PathBuf;

use clap::Args;

use crate::args::OutputArgs;
use crate::args::{RecordedListArgs, SpecArgs};
use crate::outputs::write_outputs;
use apicov_core::error::{Error, Result};
use apicov_core::lists::EndpointList;
use apicov_fetch::source::{fetch_all, Wanted};
use apicov_report::merge::{merge_read, read_reports, recorded_list, MergeRules};
use apicov_report::report::endpoints::SortOrder;
use apicov_report::report::Run;

#[derive(Debug, Args)]
pub struct MergeArgs {
    /// Report JSONs written by `apicov parse --report-json`, in input order.
    #[arg(required = true, value_name = "REPORT.json")]
    pub reports: Vec<PathBuf>,

    /// The merged report JSON.
    #[arg(short, long, value_name = "FILE")]
    pub output: PathBuf,

    /// Also write audit-endpoints.txt.
    #[arg(long, value_name = "FILE")]
    pub endpoints: Option<PathBuf>,

    /// Also write audit-operations.json.
    #[arg(long, value_name = "FILE")]
    pub audit_operations_json: Option<PathBuf>,

    /// Order of the endpoint lines.
    #[arg(long, value_enum, default_value_t = SortOrder::Name)]
    pub sort: SortOrder,

    /// The reports are separate runs (no request spans two of them).
    #[arg(long)]
    pub independent: bool,

    /// Combine reports parsed against different specs (refused otherwise);
    /// every output then says so.
    #[arg(long)]
    pub allow_spec_mix: bool,

    #[command(flatten)]
    pub spec: SpecArgs,

    /// The lists (default: the reports').
    #[command(flatten)]
    pub lists: RecordedListArgs,
}

pub fn run(args: &MergeArgs) -> Result<i32> {
    // The reports first: a bad one is found before anything is fetched. The
    // tracking lists default to those the reports were parsed with, so a
    // merge needs no network beyond the spec.
    let mut inputs: Vec<&std::path::Path> = args.reports.iter().map(|p| p.as_path()).collect();
    inputs.extend(
        [
            Some(args.spec.swagger.as_str()),
            args.lists.ineligible_endpoints.as_deref(),
            args.lists.pending_eligible_endpoints.as_deref(),
        ]
        .into_iter()
        .flatten()
        .filter(|s| !s.contains("://"))
        .map(std::path::Path::new),
    );
    let outputs: Vec<&std::path::Path> = [
        Some(args.output.as_path()),
        args.endpoints.as_deref(),
        args.audit_operations_json.as_deref(),
    ]
    .into_iter()
    .flatten()
    .collect();
    crate::outputs::check_paths(&[], &inputs, &outputs)?;
    let reports = read_reports(&args.reports)?;
    let fetcher = args.spec.fetch.fetcher();
    let mut wanted = vec![args.spec.wanted()];
    let given = [
        ("--ineligible-endpoints", &args.lists.ineligible_endpoints),
        (
            "--pending-eligible-endpoints",
            &args.lists.pending_eligible_endpoints,
        ),
    ];
    for (flag, location) in &given {
        if let Some(location) = location {
            wanted.push(Wanted { flag, location });
        }
    }
    let mut docs = fetch_all(&fetcher, &wanted, Vec::new())?.into_iter();
    let spec_doc = docs
        .next()
        .ok_or_else(|| Error::Usage("internal: no spec document".into()))?;
    let mut list = |(flag, location): &(&str, &Option<String>), which: &str| match location
        .as_ref()
        .and_then(|_| docs.next())
    {
        Some(doc) => EndpointList::parse(doc.bytes()?, &doc.name),
        None => recorded_list(&reports, which, flag),
    };
    let ineligible = list(&given[0], "ineligible")?;
    let pending = list(&given[1], "pending")?;
    let catalogue = apicov_fetch::catalogue_cache::load(&fetcher, &spec_doc)?;
    let rules = MergeRules {
        independent: args.independent,
        allow_spec_mix: args.allow_spec_mix,
    };
    let merged = merge_read(&reports, &catalogue, rules)?;
    if merged.inputs.len() >= 1 << 16 {
        return Err(Error::Usage("more than 65,535 inputs in one merge".into()));
    }
    let operations_json = args.audit_operations_json.clone();
    let out = OutputArgs {
        output: args.endpoints.clone(),
        audit_operations_json: operations_json.clone().unwrap_or_default(),
        sort: args.sort,
        report_json: Some(args.output.clone()),
        html: None,
        junit: None,
        not_found_in_output: false,
        gate_lines: crate::args::GateLines::First,
    };
    let run = Run {
        catalogue: &catalogue,
        spec_source: &spec_doc.name,
        tally: &merged.tally,
        inputs: &merged.inputs,
        ineligible: &ineligible,
        pending: &pending,
        watch_credit: merged.watch_credit,
        by_test: merged.by_test,
        seeded_from: None,
        chain_position: 0,
        caveats: merged.caveats,
    };
    let pool = crate::outputs::thread_pool(0)?;
    write_outputs(&run, &out, &pool, operations_json.is_some())?;
    Ok(super::EXIT_OK)
}
