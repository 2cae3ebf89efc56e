//! The outputs of one run, shared by `parse`, `check`, `merge` and `serve`:
//! every file the flags ask for, written all or none, then the console
//! summary and the conformance gates.

use std::path::PathBuf;

use apicov_core::coverage::Coverage;
use apicov_core::error::Result;
use apicov_core::lists::EndpointList;
use apicov_report::report::endpoints::ListsPresent;
use apicov_report::report::{self, Body, Run};

use crate::args::OutputArgs;

/// What a run says, data to stdout and talk to stderr: stdout carries only
/// the endpoints text when no file takes it (so `apicov parse … >
/// audit-endpoints.txt` is the file `-o` writes), and `quiet` silences only
/// the talk. Gate lines that fail the run always print (they are why the
/// status is 1); under `no_fail` they are a report, and `quiet` silences
/// them too. Returns the gate messages.
pub fn console(
    summary: &report::summary::Summary,
    endpoints: &str,
    (quiet, no_fail): (bool, bool),
    endpoints_to_stdout: bool,
    ineligible: &EndpointList,
    pending: &EndpointList,
) -> Result<String> {
    if endpoints_to_stdout {
        report::write_stdout(endpoints.as_bytes())?;
    }
    if !quiet {
        report::summary::write_stderr(&summary.render());
    }
    let gates = summary.gates(ineligible, pending);
    if !quiet || !no_fail {
        report::summary::write_stderr(&gates);
        report::summary::write_stderr(&summary.verdict(no_fail));
    }
    Ok(gates)
}

/// Renders every requested output and writes them all or none
/// (`operations_json`: whether audit-operations.json is one of them). Returns the
/// endpoints text and the coverage view for the console and the gates.
pub fn write_outputs(
    run: &Run,
    out: &OutputArgs,
    pool: &rayon::ThreadPool,
    operations_json: bool,
) -> Result<(String, Coverage)> {
    let coverage = Coverage::new(run.catalogue, run.tally, run.ineligible, run.pending);
    let endpoints = report::endpoints::render(
        run.catalogue,
        run.tally,
        &coverage,
        out.sort,
        ListsPresent {
            ineligible: !run.ineligible.is_empty(),
            pending: !run.pending.is_empty(),
        },
        out.not_found_in_output,
        run.caveats,
    );
    let mut files: Vec<(PathBuf, Body)> = Vec::new();
    if let Some(path) = &out.output {
        files.push((path.clone(), endpoints.clone().into_bytes().into()));
    }
    if operations_json {
        let operations = report::operations::render(run.catalogue, run.tally, &coverage, pool);
        files.push((out.audit_operations_json.clone(), operations));
    }
    if let Some(path) = &out.report_json {
        files.push((path.clone(), report::json::render(run, &coverage).into()));
    }
    if let Some(path) = &out.junit {
        let xml = report::junit::render(
            run.catalogue,
            run.tally,
            run.ineligible,
            run.pending,
            run.caveats,
        );
        files.push((path.clone(), xml.into_bytes().into()));
    }
    if let Some(path) = &out.html {
        files.push((
            path.clone(),
            report::html::render(run, &coverage, &report::html::generation_time())
                .into_bytes()
                .into(),
        ));
    }
    report::write_all_atomic(&files)?;
    drop(files);
    Ok((endpoints, coverage))
}
