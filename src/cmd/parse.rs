//! `apicov parse`: audit logs → `audit-endpoints.txt`, `audit-operations.json`
//! and, on request, the report JSON; the console summary; the conformance
//! gates. A drop-in for test-infra's `audit_log_parser.py`: same flags (its
//! spellings are aliases), same files, byte for byte.

use std::path::PathBuf;
use std::time::Instant;

use clap::Args;

use crate::aggregate::Tally;
use crate::attribution::Attribution;
use crate::cli::{ListArgs, SpecArgs};
use crate::coverage::Coverage;
use crate::error::{Error, Result};
use crate::event::Validation;
use crate::input::{self, ReadMode};
use crate::lists::EndpointList;
use crate::pipeline::InputInfo;
use crate::pipeline::{self, EngineOptions, DEFAULT_CHUNK_SIZE};
use crate::report::endpoints::{ListsPresent, SortOrder};
use crate::report::{self, json::ReportContext, Body};
use crate::routes::WatchCredit;
use crate::spec::Catalogue;

/// The output files, shared by `parse`, `check` and `merge`.
#[derive(Debug, Clone, Args)]
pub struct OutputArgs {
    /// audit-endpoints.txt to write (default: print it to stdout).
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,

    /// Sample events per operation.
    #[arg(long, value_name = "FILE", default_value = "audit-operations.json")]
    pub audit_operations_json: PathBuf,

    /// Order of the endpoint lines.
    #[arg(long, value_enum, default_value_t = SortOrder::Name)]
    pub sort: SortOrder,

    /// Also write the full report as JSON.
    #[arg(long, value_name = "FILE")]
    pub report_json: Option<PathBuf>,

    /// Write a self-contained HTML coverage report (implies --by-test).
    #[arg(long, value_name = "FILE")]
    pub html: Option<PathBuf>,

    /// Write a JUnit XML file: one testcase per stable observable operation.
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,

    /// Append `op | NOT FOUND` lines for unexercised stable operations to the
    /// endpoints file, for readers of older versions of the file.
    #[arg(long)]
    pub not_found_in_output: bool,
}

#[derive(Debug, Args)]
pub struct ParseArgs {
    /// Audit logs: files, globs (quoted or not), `-` for stdin; gzip is
    /// recognised by content. Rotated files are read in the order given.
    #[arg(long = "audit-logs", visible_alias = "audit-log", num_args = 1.., required = true,
          value_name = "FILE|GLOB")]
    pub audit_logs: Vec<String>,

    #[command(flatten)]
    pub spec: SpecArgs,

    #[command(flatten)]
    pub out: OutputArgs,

    #[command(flatten)]
    pub lists: ListArgs,

    /// Worker threads (default: one per core).
    #[arg(long, default_value_t = 0, value_name = "N")]
    pub threads: usize,

    /// Attribute every counted request to its e2e test (from the User-Agent
    /// `<client> -- <spec text>`) or to its client; listed in the report JSON.
    #[arg(long)]
    pub by_test: bool,

    /// Count only requests made by `[Conformance]` specs.
    #[arg(long)]
    pub conformance_only: bool,

    /// The report JSON of the part of the same log just before these files:
    /// requests it left open are not counted again (see `apicov merge`).
    #[arg(long, value_name = "REPORT.json")]
    pub continue_from: Option<PathBuf>,

    /// Report the gates but exit 0.
    #[arg(long)]
    pub no_fail: bool,

    /// No progress, no summary on stderr (errors and the gate lines still
    /// print; stdout is unaffected).
    #[arg(short, long)]
    pub quiet: bool,

    /// How much of each line is checked: `fast` stops after the fields apicov
    /// needs (and checks the line ends with `}`), `full` checks all of it.
    #[arg(long, value_enum, default_value_t = Validation::Fast)]
    pub validate: Validation,

    /// Print how long each phase took, on stderr.
    #[arg(long, hide = true)]
    pub timings: bool,

    /// How regular files are read (mmap, or stream like gzip and stdin).
    #[arg(long, value_enum, default_value_t = ReadMode::Mmap, hide = true)]
    pub read_mode: ReadMode,

    /// Target chunk size in bytes (testing and tuning).
    #[arg(long, default_value_t = DEFAULT_CHUNK_SIZE, hide = true)]
    pub chunk_size: usize,
}

pub fn run(args: &ParseArgs) -> Result<i32> {
    let parsed = execute(args)?;
    Ok(if parsed.gates_tripped() && !args.no_fail {
        super::EXIT_GATE
    } else {
        super::EXIT_OK
    })
}

/// What a parse leaves for commands that go on from it (`check`).
pub struct Parsed {
    pub catalogue: Catalogue,
    pub ineligible: EndpointList,
    pub pending: EndpointList,
    pub fetcher: crate::source::Fetcher,
    /// audit-endpoints.txt's text.
    pub endpoints: String,
    /// Gate messages (printed already); empty when every gate passed.
    pub gates: String,
    /// Requests and tests per operation (for `check --base-swagger`).
    pub hits: crate::promotions::RunHits,
}

impl Parsed {
    pub fn gates_tripped(&self) -> bool {
        !self.gates.is_empty()
    }
}

/// Parses, writes every output, prints the summary and the gate messages.
pub fn execute(args: &ParseArgs) -> Result<Parsed> {
    let started = Instant::now();
    let mut phases = Phases::new(args.timings);
    if args.chunk_size == 0 {
        return Err(Error::Usage("--chunk-size must be at least 1".into()));
    }
    let fetcher = args.spec.fetch.fetcher();
    let super::Loaded {
        catalogue,
        spec_source,
        ineligible,
        pending,
        ..
    } = super::load_inputs(&fetcher, &args.spec, &args.lists, &[], Vec::new())?;
    if !args.quiet {
        for warning in [&ineligible, &pending]
            .iter()
            .filter_map(|l| l.ignored_warning())
        {
            eprintln!("apicov: warning: {warning}");
        }
    }
    let router = super::build_router(&args.spec, &catalogue)?;
    let names = input::expand(&args.audit_logs)?;
    phases.mark("spec, lists, router");

    let options = EngineOptions {
        chunk_size: args.chunk_size,
        read_mode: args.read_mode,
        validation: args.validate,
        attribution: Attribution {
            by_test: args.by_test || args.out.html.is_some(),
            conformance_only: args.conformance_only,
        },
        progress: !args.quiet,
        shared_bar: None,
    };
    let pool = pipeline::thread_pool(args.threads)?;
    let seed = match &args.continue_from {
        Some(path) => Some(previous_part(path, &catalogue, args.conformance_only)?),
        None => None,
    };
    let (tally, inputs) = pipeline::run(
        &names,
        &router,
        catalogue.len(),
        &options,
        &pool,
        seed.as_ref().map_or(&[][..], |(ids, _)| ids.as_slice()),
    )?;
    phases.mark("scan");
    let run = RunResult {
        catalogue: &catalogue,
        spec_source: &spec_source,
        tally: &tally,
        inputs: &inputs,
        ineligible: &ineligible,
        pending: &pending,
        watch_credit: args.spec.watch_credit,
        by_test: options.attribution.by_test,
        seeded_from: seed.as_ref().map(|(_, digest)| digest.as_str()),
        caveats: report::Caveats {
            conformance_only: args.conformance_only,
            spec_mix: false,
        },
    };
    let (endpoints, coverage) = write_outputs(&run, &args.out, &pool, true)?;
    phases.mark("render and write");

    let elapsed = started.elapsed();
    let summary = report::summary::Summary {
        catalogue: &catalogue,
        tally: &tally,
        coverage: &coverage,
        inputs: &inputs,
        elapsed,
        conformance_only: args.conformance_only,
    };
    let gates = console(
        &summary,
        &endpoints,
        (args.quiet, args.no_fail),
        args.out.output.is_none(),
        &ineligible,
        &pending,
    )?;
    let hits = crate::promotions::RunHits::from_tally(&catalogue, &tally);
    Ok(Parsed {
        hits,
        catalogue,
        ineligible,
        pending,
        fetcher,
        endpoints,
        gates,
    })
}

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

/// What the output files are made from.
pub struct RunResult<'a> {
    pub catalogue: &'a Catalogue,
    pub spec_source: &'a str,
    pub tally: &'a Tally,
    pub inputs: &'a [InputInfo],
    pub ineligible: &'a EndpointList,
    pub pending: &'a EndpointList,
    pub watch_credit: WatchCredit,
    pub by_test: bool,
    /// Digest of the open requests the run was seeded with (`--continue-from`).
    pub seeded_from: Option<&'a str>,
    pub caveats: report::Caveats,
}

/// Renders every requested output and writes them all or none
/// (`operations_json`: whether audit-operations.json is one of them). Returns the
/// endpoints text and the coverage view for the console and the gates.
pub fn write_outputs(
    run: &RunResult,
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
        let operations =
            pool.install(|| report::operations::render(run.catalogue, run.tally, &coverage));
        files.push((out.audit_operations_json.clone(), operations));
    }
    if let Some(path) = &out.report_json {
        files.push((path.clone(), report_json(run, &coverage).into()));
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
            html_report(run, &coverage).into_bytes().into(),
        ));
    }
    report::write_all_atomic(&files)?;
    Ok((endpoints, coverage))
}

/// The report JSON (`--report-json`; `serve`'s `GET /coverage.json`).
pub fn report_json(run: &RunResult, coverage: &Coverage) -> Vec<u8> {
    report::json::render(&ReportContext {
        catalogue: run.catalogue,
        spec_source: run.spec_source,
        tally: run.tally,
        coverage,
        inputs: run.inputs,
        ineligible: run.ineligible,
        pending: run.pending,
        watch_credit: match run.watch_credit {
            WatchCredit::Deprecated => "deprecated",
            WatchCredit::List => "list",
        },
        by_test: run.by_test,
        seeded_from: run.seeded_from,
        caveats: run.caveats,
    })
}

/// The HTML report (`--html`; `serve`'s `GET /`).
pub fn html_report(run: &RunResult, coverage: &Coverage) -> String {
    let title = format!(
        "Kubernetes API coverage (apicov){}",
        run.caveats.title_suffix()
    );
    report::html::render(&report::html::HtmlContext {
        catalogue: run.catalogue,
        tally: run.tally,
        coverage,
        ineligible: run.ineligible,
        pending: run.pending,
        title: &title,
        spec_source: run.spec_source,
        inputs: run.inputs,
        watch_credit: run.watch_credit,
        conformance_only: run.caveats.conformance_only,
        generated: &report::html::generation_time(),
    })
}

/// The open requests (and their digest) that a previous part's report left.
/// The part must have been parsed against the same spec and with the same
/// `--conformance-only`: otherwise the two would not add up.
fn previous_part(
    path: &std::path::Path,
    catalogue: &Catalogue,
    conformance_only: bool,
) -> Result<(Vec<u128>, String)> {
    let err = |message: String| Error::Source {
        source_name: path.display().to_string(),
        message,
    };
    let bytes = std::fs::read(path).map_err(|e| err(e.to_string()))?;
    let report: serde_json::Value =
        serde_json::from_slice(&bytes).map_err(|e| err(e.to_string()))?;
    let section = report
        .get("tally")
        .ok_or_else(|| err("no tally section: not an apicov report".into()))?;
    let meaning = crate::merge::ReportMeaning::of(&report);
    if meaning.conformance_only != conformance_only {
        return Err(err(format!(
            "parsed {} --conformance-only, this part {}: the parts would not add up",
            if meaning.conformance_only {
                "with"
            } else {
                "without"
            },
            if conformance_only {
                "with it"
            } else {
                "without it"
            },
        )));
    }
    if let Some(digest) = &meaning.spec_digest {
        if *digest != catalogue.digest() {
            return Err(err(format!(
                "parsed against another spec (digest {digest}, this run's {}): parse both \
                 parts with the same --swagger",
                catalogue.digest()
            )));
        }
    }
    let loaded = crate::merge::from_json(section, catalogue).map_err(err)?;
    let ids: Vec<u128> = loaded.tally.open_requests().collect();
    Ok((ids, loaded.open_digest))
}

/// `--timings`: elapsed time per phase on stderr.
struct Phases {
    enabled: bool,
    last: Instant,
}

impl Phases {
    fn new(enabled: bool) -> Phases {
        Phases {
            enabled,
            last: Instant::now(),
        }
    }

    fn mark(&mut self, phase: &str) {
        if self.enabled {
            eprintln!(
                "apicov: {phase}: {:.1} ms",
                self.last.elapsed().as_secs_f64() * 1e3
            );
        }
        self.last = Instant::now();
    }
}
