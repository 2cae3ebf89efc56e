//! The outputs of one run, shared by `parse`, `check`, `merge` and `serve`:
//! every file the flags ask for, written all or none, then the console
//! summary and the conformance gates.

use std::borrow::Cow;

use apicov_core::coverage::Coverage;
use apicov_core::error::{Error, Result};
use apicov_core::lists::EndpointList;
use apicov_report::report::endpoints::EndpointsText;
use apicov_report::report::html::{self, Html};
use apicov_report::report::json::ReportJson;
use apicov_report::report::junit::Junit;
use apicov_report::report::operations::OperationsJson;
use apicov_report::report::{self, Render, Run};

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

/// The workers outputs are rendered on: `threads`, or one per core when 0.
pub fn thread_pool(threads: usize) -> Result<rayon::ThreadPool> {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .map_err(|e| Error::Usage(format!("cannot start worker threads: {e}")))
}

/// Renders every requested output and writes them all or none
/// (`operations_json`: whether audit-operations.json is one of them). Returns the
/// endpoints text and the coverage view for the console and the gates.
///
/// audit-operations.json, by far the largest file (6 MB for 199 MB of
/// Metadata lines), is rendered and written on one worker
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
            let endpoints = EndpointsText {
                sort: out.sort,
                not_found_lines: out.not_found_in_output,
            }
            .text(run, coverage_ref);
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
                    let format = OperationsJson { pool };
                    let body = format.render(run, coverage_ref);
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
    let page = Html {
        generated: if out.html.is_some() {
            html::generation_time()
        } else {
            String::new()
        },
    };
    let formats: [(&Option<std::path::PathBuf>, &dyn Render); 3] = [
        (&out.report_json, &ReportJson),
        (&out.junit, &Junit),
        (&out.html, &page),
    ];
    let mut staged = Vec::new();
    for (path, format) in formats {
        if let Some(path) = path {
            staged.push(report::stage(path, &format.render(run, coverage))?);
        }
    }
    Ok(staged)
}

/// How two path arguments are told to be the same file: device and inode
/// where it exists, the absolute path with `.` and `..` resolved where not.
#[derive(PartialEq, Eq)]
enum Identity {
    Inode(u64, u64),
    Path(std::path::PathBuf),
}

fn identity(path: &std::path::Path) -> Identity {
    use std::os::unix::fs::MetadataExt;
    if let Ok(meta) = std::fs::metadata(path) {
        return Identity::Inode(meta.dev(), meta.ino());
    }
    let absolute = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    let mut normal = std::path::PathBuf::new();
    for part in absolute.components() {
        match part {
            std::path::Component::CurDir => {}
            std::path::Component::ParentDir => {
                normal.pop();
            }
            other => normal.push(other),
        }
    }
    Identity::Path(normal)
}

/// Refuses, before any work, an output that is one of the inputs or
/// another output, and an audit log given twice (`logs`: the expanded
/// names): one usage error (exit 2) naming both spellings. Then checks each
/// output can be written (its existing file is writable, or its directory
/// exists and is), so a bad `-o` fails before the scan, not at the end.
/// A device, FIFO or `/dev/stdout` may be both input and output (`-` and
/// `/dev/stdout` are not the same file to the reader).
pub fn check_paths(
    logs: &[std::path::PathBuf],
    inputs: &[&std::path::Path],
    outputs: &[&std::path::Path],
) -> Result<()> {
    use apicov_core::error::Error;
    let regular_or_absent =
        |p: &std::path::Path| std::fs::metadata(p).map_or(true, |m| m.is_file() || m.is_dir());
    let clash = |a: &std::path::Path, b: &std::path::Path, what: &str| {
        Error::Usage(format!(
            "{} and {} are the same file ({what})",
            a.display(),
            b.display()
        ))
    };
    for (i, a) in logs.iter().enumerate() {
        for b in &logs[i + 1..] {
            if regular_or_absent(a) && identity(a) == identity(b) {
                return Err(clash(
                    a,
                    b,
                    "an audit log given twice would be counted twice",
                ));
            }
        }
    }
    let all_inputs: Vec<&std::path::Path> = logs
        .iter()
        .map(|p| p.as_path())
        .chain(inputs.iter().copied())
        .collect();
    for (i, out) in outputs.iter().enumerate() {
        if !regular_or_absent(out) {
            continue;
        }
        let id = identity(out);
        if let Some(input) = all_inputs.iter().find(|p| identity(p) == id) {
            return Err(clash(out, input, "an output may not overwrite an input"));
        }
        if let Some(other) = outputs[i + 1..].iter().find(|p| identity(p) == id) {
            return Err(clash(out, other, "two outputs may not share a path"));
        }
    }
    for out in outputs {
        writable(out).map_err(|source| Error::Output {
            path: out.to_path_buf(),
            source,
        })?;
    }
    Ok(())
}

/// Whether `path` can be written: a file replaced by a rename needs its
/// directory writable (the file itself need not be); a device, FIFO or
/// `/dev/stdout`, written in place, needs itself writable.
fn writable(path: &std::path::Path) -> std::io::Result<()> {
    if path.is_dir() {
        return Err(std::io::Error::other("is a directory"));
    }
    let probe = match apicov_report::report::rename_target(path) {
        Some(at) => match at.parent() {
            Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
            _ => std::path::PathBuf::from("."),
        },
        None => path.to_path_buf(),
    };
    let c = std::ffi::CString::new(std::os::unix::ffi::OsStrExt::as_bytes(probe.as_os_str()))
        .map_err(std::io::Error::other)?;
    // SAFETY: `c` is a valid NUL-terminated string for the call's duration.
    if unsafe { libc::access(c.as_ptr(), libc::W_OK) } == 0 {
        Ok(())
    } else {
        let e = std::io::Error::last_os_error();
        Err(std::io::Error::new(
            e.kind(),
            format!("{} not writable: {e}", probe.display()),
        ))
    }
}

/// The local files among the spec and the tracking lists (URLs are not
/// files), for [`check_paths`].
pub fn named_inputs<'a>(
    spec: &'a crate::args::SpecArgs,
    lists: &'a crate::args::ListArgs,
) -> Vec<&'a std::path::Path> {
    [
        spec.swagger.as_str(),
        lists.ineligible_endpoints.as_str(),
        lists.pending_eligible_endpoints.as_str(),
    ]
    .into_iter()
    .filter(|s| !s.contains("://"))
    .map(std::path::Path::new)
    .collect()
}

/// The spec, when it is a local file, for [`check_paths`].
pub fn spec_input(spec: &crate::args::SpecArgs) -> Vec<&std::path::Path> {
    [spec.swagger.as_str()]
        .into_iter()
        .filter(|s| !s.contains("://"))
        .map(std::path::Path::new)
        .collect()
}

/// Every file `out` asks for, for [`check_paths`].
pub fn output_paths(out: &OutputArgs) -> Vec<&std::path::Path> {
    [
        out.output.as_deref(),
        Some(out.audit_operations_json.as_path()),
        out.report_json.as_deref(),
        out.junit.as_deref(),
        out.html.as_deref(),
    ]
    .into_iter()
    .flatten()
    .collect()
}
