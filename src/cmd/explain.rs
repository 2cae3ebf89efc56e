//! `apicov explain OPERATION --report RUN.json`: why one operation is or is
//! not covered: its classification (stable, deprecated, listed, observable),
//! the rule that decides it (as `promotions` decides newly stable ones), its
//! requests and tests, and the run's near misses (see `apicov_report::near_miss`).
//!
//! The spec and the tracking lists default to the ones the report records
//! (`spec.source`, `filters.*.source`), read offline: a local path as it is,
//! a URL from the cache. A spec whose digest is not the report's is refused,
//! as `merge` refuses one: the report's operations would be read against
//! another catalogue.

use std::fmt::Write as _;
use std::path::PathBuf;

use clap::Args;
use serde_json::Value;

use crate::args::{FetchArgs, RecordedListArgs};
use apicov_core::error::{Error, Result};
use apicov_core::spec::Operation;
use apicov_fetch::source::{Document, Fetcher, Missing};
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

    /// Swagger spec (path or URL) [default: the spec the report was parsed
    /// against, as it records it, read offline]. Refused when it is not the
    /// report's spec.
    #[arg(
        long = "swagger",
        visible_alias = "swagger-url",
        value_name = "PATH|URL"
    )]
    pub swagger: Option<String>,

    /// The lists (default: the report's, read offline).
    #[command(flatten)]
    pub lists: RecordedListArgs,

    #[command(flatten)]
    pub fetch: FetchArgs,
}

/// One input of explain: the flag that names it, where the report records
/// it, and where it was given, if it was.
struct Source<'a> {
    flag: &'static str,
    /// "spec", "ineligible list", "pending list": for messages.
    what: &'static str,
    /// The report's JSON pointer to the recorded location.
    recorded_at: &'static str,
    given: Option<&'a str>,
}

/// The documents to read: each given flag, else the report's record of it,
/// read offline (a URL from the cache). Every recorded document that cannot
/// be read is reported, one line each, with the flag that replaces it.
fn fetch_sources(
    fetcher: &Fetcher,
    report_name: &str,
    report: &Value,
    sources: &[Source],
) -> Result<Vec<Document>> {
    let offline = Fetcher::new(Some(fetcher.cache_dir().to_path_buf()), true);
    let mut docs = Vec::with_capacity(sources.len());
    let mut missing: Vec<(&'static str, Error)> = Vec::new();
    for source in sources {
        if let Some(location) = source.given {
            match fetcher.get(location) {
                Ok(doc) => docs.push(doc),
                Err(e) => missing.push((source.flag, e)),
            }
            continue;
        }
        let recorded = report.pointer(source.recorded_at).and_then(Value::as_str);
        let reason = match recorded {
            None => format!("records no {}", source.what),
            Some(location) => match offline.get(location) {
                Ok(doc) => {
                    docs.push(doc);
                    continue;
                }
                Err(Error::Unreachable { .. }) => format!(
                    "its {} {location} is not in the cache ({}), and a recorded source is \
                     read offline",
                    source.what,
                    fetcher.cache_dir().display()
                ),
                Err(e) => format!(
                    "its {} {location} is neither cached nor readable ({})",
                    source.what,
                    cause(&e, location)
                ),
            },
        };
        missing.push((
            source.flag,
            Error::Source {
                source_name: report_name.to_string(),
                message: reason,
            },
        ));
    }
    if missing.is_empty() {
        return Ok(docs);
    }
    if missing.len() == 1
        && sources
            .iter()
            .any(|s| s.flag == missing[0].0 && s.given.is_some())
    {
        // A given file that is missing: its own line says it all.
        return Err(missing.remove(0).1);
    }
    Err(Error::Other(Box::new(Missing {
        inputs: missing,
        cache_dir: fetcher.cache_dir().to_path_buf(),
        offline: true,
        remote: false,
    })))
}

/// An error's message without the location it names (already said).
fn cause(err: &Error, location: &str) -> String {
    let text = err.to_string();
    text.strip_prefix(location)
        .and_then(|rest| rest.strip_prefix(": "))
        .map_or(text.clone(), str::to_string)
}

pub fn run(args: &ExplainArgs) -> Result<i32> {
    let report_name = args.report.display().to_string();
    let bytes = std::fs::read(&args.report).map_err(|e| Error::input(&args.report, e))?;
    let report: Value = serde_json::from_slice(&bytes)
        .map_err(|e| Error::input(&args.report, format!("not a report JSON: {e}")))?;
    if report.get("operations").is_none() {
        return Err(Error::input(
            &args.report,
            "no \"operations\" object: not an apicov report",
        ));
    }
    let fetcher = args.fetch.fetcher();
    let sources = [
        Source {
            flag: "--swagger",
            what: "spec",
            recorded_at: "/spec/source",
            given: args.swagger.as_deref(),
        },
        Source {
            flag: "--ineligible-endpoints",
            what: "ineligible list",
            recorded_at: "/filters/ineligible/source",
            given: args.lists.ineligible_endpoints.as_deref(),
        },
        Source {
            flag: "--pending-eligible-endpoints",
            what: "pending list",
            recorded_at: "/filters/pending/source",
            given: args.lists.pending_eligible_endpoints.as_deref(),
        },
    ];
    let docs = fetch_sources(&fetcher, &report_name, &report, &sources)?;
    let catalogue = apicov_fetch::catalogue_cache::load(&fetcher, &docs[0])?;
    let spec_source = &docs[0].name;
    if let Some(recorded) = apicov_report::merge::ReportMeaning::of(&report).spec_digest {
        let digest = catalogue.digest();
        if recorded != digest {
            let recorded_source = report
                .pointer("/spec/source")
                .and_then(Value::as_str)
                .unwrap_or("?");
            return Err(Error::Mixed {
                source_name: report_name,
                message: if args.swagger.is_some() {
                    format!(
                        "parsed against another spec ({recorded_source}, digest {recorded}) \
                         than --swagger {spec_source} (digest {digest}): explain with the spec \
                         it was parsed with"
                    )
                } else {
                    format!(
                        "parsed against {recorded_source} (digest {recorded}), which holds \
                         another spec now (digest {digest}): pass --swagger with the spec it \
                         was parsed with"
                    )
                },
            });
        }
    }
    let ineligible = apicov_fetch::catalogue_cache::load_list(&fetcher, &docs[1])?;
    let pending = apicov_fetch::catalogue_cache::load_list(&fetcher, &docs[2])?;
    let id = catalogue.lookup(&args.operation).ok_or_else(|| {
        Error::Usage(format!(
            "{}: not an operation of {spec_source} (see `apicov ops`)",
            args.operation
        ))
    })?;
    let op = catalogue.get(id);
    let hits = RunHits::from_report(&report);
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
        if ineligible.contains(&op.id) {
            ", listed ineligible"
        } else {
            ""
        },
        if pending.contains(&op.id) {
            ", listed pending"
        } else {
            ""
        },
    );
    if !op.stable {
        let _ = writeln!(out, "  rule: pre-GA: {}", pre_ga_advice(op, &hits));
        apicov_report::report::write_stdout(out.as_bytes())?;
        return Ok(super::EXIT_OK);
    }
    let rule = apicov_report::promotions::rule_of(op, &hits, &ineligible, &pending);
    let _ = writeln!(out, "  rule: {}: {}", rule.word(), rule.explain());
    if !matches!(rule, Rule::Hit { .. }) {
        let misses = near_miss::near_misses(&catalogue, id, &RunView::from_report(&report));
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

/// Why an alpha/beta operation decides nothing: conformance covers GA
/// operations only, and `lint-lists` rejects alpha/beta entries in either
/// list, so the advice for a stable one (a test or a pending entry) does
/// not hold.
fn pre_ga_advice(op: &Operation, hits: &RunHits) -> String {
    let version = op
        .version
        .as_deref()
        .map_or(String::from("its group serves no GA version"), |v| {
            format!("served at {v}")
        });
    let requests = hits.requests.get(&op.id).copied().unwrap_or(0);
    let hit = if requests > 0 {
        format!(
            "hit by the run ({}), which counts toward no gate; ",
            apicov_report::counted(requests, "request", "requests")
        )
    } else {
        String::new()
    };
    format!(
        "{version}: {hit}not eligible for conformance until it is GA, so no test is required \
         and it needs no entry in pending_eligible_endpoints.yaml or ineligible_endpoints.yaml \
         (lint-lists rejects alpha/beta entries)"
    )
}
