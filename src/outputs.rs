//! The outputs of one run, shared by `parse`, `check`, `merge` and `serve`:
//! every file the flags ask for, written all or none, then the console
//! summary and the conformance gates.

use std::borrow::Cow;

use apicov_core::coverage::Coverage;
use apicov_core::error::Result;
use apicov_core::lists::EndpointList;
use apicov_report::report::endpoints::ListsPresent;
use apicov_report::report::{self, Run};

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
    out: &OutputArgs,
    ineligible: &EndpointList,
    pending: &EndpointList,
) -> Result<String> {
    if out.output.is_none() {
        report::write_stdout(endpoints.as_bytes())?;
    }
    if !quiet {
        let mut text = summary.render();
        text.push_str(&default_files_written(out));
        report::summary::write_stderr(&text);
    }
    let gates = summary.gates(ineligible, pending, out.gate_lines.limit());
    if !quiet || !no_fail {
        report::summary::write_stderr(&gates);
        report::summary::write_stderr(&summary.verdict(no_fail));
    }
    Ok(gates)
}

/// A line for each file written under its default name, which a run writes
/// into the working directory unasked (the reference parser does the same).
fn default_files_written(out: &OutputArgs) -> String {
    if out.audit_operations_json.as_os_str() == crate::args::DEFAULT_OPERATIONS_JSON {
        format!(
            "Wrote {} (default of --audit-operations-json, as audit_log_parser.py)\n",
            crate::args::DEFAULT_OPERATIONS_JSON
        )
    } else {
        String::new()
    }
}

/// Renders every requested output and writes them all or none
/// (`operations_json`: whether audit-operations.json is one of them). Returns the
/// endpoints text and the coverage view for the console and the gates.
///
/// audit-operations.json, by far the largest file (6 MB for 199 MB of
/// Metadata lines, 2 ms of writing), is rendered and written on one worker
/// while the other renders and writes the rest; then all are renamed, in
/// one order (endpoints, operations, report JSON, JUnit, HTML).
pub fn write_outputs(
    run: &Run,
    out: &OutputArgs,
    pool: &rayon::ThreadPool,
    operations_json: bool,
) -> Result<(String, Coverage)> {
    let coverage = Coverage::new(run.catalogue, run.tally, run.ineligible, run.pending);
    let coverage_ref = &coverage;
    let (rest, operations) = pool.join(
        || {
            let endpoints = report::endpoints::render(
                run.catalogue,
                run.tally,
                coverage_ref,
                out.sort,
                ListsPresent {
                    ineligible: !run.ineligible.is_empty(),
                    pending: !run.pending.is_empty(),
                },
                out.not_found_in_output,
                run.caveats,
            );
            let output = out
                .output
                .as_deref()
                .map(|path| report::stage(path, &vec![Cow::Borrowed(endpoints.as_bytes())].into()))
                .transpose();
            // Not rendered once an earlier file failed: that error is the one reported.
            let later = match output {
                Ok(_) => later_outputs(run, coverage_ref, out),
                Err(_) => Ok(Vec::new()),
            };
            (endpoints, output, later)
        },
        || {
            operations_json
                .then(|| {
                    let body =
                        report::operations::render(run.catalogue, run.tally, coverage_ref, pool);
                    report::stage(&out.audit_operations_json, &body)
                })
                .transpose()
        },
    );
    // Errors in the order of the files, as when they were written one by one.
    let (endpoints, output, later) = rest;
    let mut staged: Vec<_> = output?.into_iter().collect();
    staged.extend(operations?);
    staged.extend(later?);
    report::commit(staged)?;
    Ok((endpoints, coverage))
}

/// The report JSON, JUnit XML and HTML that `out` asks for, rendered and
/// staged in that order.
fn later_outputs<'p>(
    run: &Run,
    coverage: &Coverage,
    out: &'p OutputArgs,
) -> Result<Vec<report::StagedFile<'p>>> {
    let mut staged = Vec::new();
    if let Some(path) = &out.report_json {
        staged.push(report::stage(
            path,
            &report::json::render(run, coverage).into(),
        )?);
    }
    if let Some(path) = &out.junit {
        let xml = report::junit::render(
            run.catalogue,
            run.tally,
            run.ineligible,
            run.pending,
            run.caveats,
        );
        staged.push(report::stage(path, &xml.into_bytes().into())?);
    }
    if let Some(path) = &out.html {
        let html = report::html::render(run, coverage, &report::html::generation_time());
        staged.push(report::stage(path, &html.into_bytes().into())?);
    }
    Ok(staged)
}
