//! `apicov parse`: audit logs → `audit-endpoints.txt`, `audit-operations.json`
//! and, on request, the report JSON; the console summary; the conformance
//! gates. A drop-in for test-infra's `audit_log_parser.py`: same flags (its
//! spellings are aliases), same files, byte for byte.

use std::path::PathBuf;
use std::time::Instant;

use std::sync::Arc;

use clap::Args;

use crate::progress::Progress;

use crate::args::{ListArgs, OutputArgs, SpecArgs};
use crate::outputs::{console, write_outputs};
use apicov_core::aggregate::{AbsorbTimings, SamplePrinting, Tally, Window};
use apicov_core::attribution::Attribution;
use apicov_core::coverage;
use apicov_core::error::{Error, Result};
use apicov_core::event::Validation;
use apicov_core::input::{self, ReadMode};
use apicov_core::lists::EndpointList;
use apicov_core::pipeline::{Engine, EngineOptions, DEFAULT_CHUNK_SIZE};
use apicov_core::spec::Catalogue;

use apicov_report::report::{self, Run};

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

    /// How far apart, in events, two events with one auditID may be and
    /// still count as one request: finished requests are remembered for
    /// this many events, whatever the order their stages arrive in.
    #[arg(long, value_name = "EVENTS", default_value_t = Window::DEFAULT.0,
          value_parser = clap::value_parser!(u64).range(1..=Window::MAX.0))]
    pub window_events: u64,

    /// Print how long each phase took, on stderr, and the scan's serial
    /// part: absorbing chunks in input order, and within it the table of
    /// recent requests.
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
    let status = if parsed.gates_tripped() && !args.no_fail {
        super::EXIT_GATE
    } else {
        super::EXIT_OK
    };
    parsed.leave_to_exit();
    Ok(status)
}

/// What a parse leaves for commands that go on from it (`check`).
pub struct Parsed {
    pub catalogue: Catalogue,
    pub ineligible: EndpointList,
    pub pending: EndpointList,
    pub fetcher: apicov_fetch::source::Fetcher,
    /// audit-endpoints.txt's text.
    pub endpoints: String,
    /// Gate messages (printed already); empty when every gate passed.
    pub gates: String,
    /// What the run counted (requests and tests per operation for `check
    /// --base-swagger`).
    pub tally: Tally,
}

impl Parsed {
    pub fn gates_tripped(&self) -> bool {
        !self.gates.is_empty()
    }

    /// Ends a command that exits next (`main` calls `_exit`): the tally and
    /// the catalogue, plain memory, are left for the process's exit to free
    /// rather than freed one allocation at a time after the outputs were
    /// written (thousands of samples and strings). The
    /// rest is dropped: the fetcher may hold a downloads directory to remove.
    pub fn leave_to_exit(self) {
        std::mem::forget(self.tally);
        std::mem::forget(self.catalogue);
    }
}

/// Parses, writes every output, prints the summary and the gate messages.
/// Refuses colliding or unwritable paths before anything is read.
fn check_paths(args: &ParseArgs) -> Result<()> {
    let logs: Vec<std::path::PathBuf> = input::expand(&args.audit_logs)?
        .into_iter()
        .filter_map(|n| match n {
            input::InputName::File(p) => Some(p),
            input::InputName::Stdin => None,
        })
        .collect();
    let mut inputs = crate::outputs::named_inputs(&args.spec, &args.lists);
    inputs.extend(args.continue_from.as_deref());
    let outputs = crate::outputs::output_paths(&args.out);
    crate::outputs::check_paths(&logs, &inputs, &outputs)
}

pub fn execute(args: &ParseArgs) -> Result<Parsed> {
    let started = Instant::now();
    let mut phases = Phases::new(args.timings);
    if args.chunk_size == 0 {
        return Err(Error::Usage("--chunk-size must be at least 1".into()));
    }
    check_paths(args)?;
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

    let seed = match &args.continue_from {
        Some(path) => Some(previous_part(path, &catalogue, args.conformance_only)?),
        None => None,
    };
    let options = EngineOptions {
        chunk_size: args.chunk_size,
        read_mode: args.read_mode,
        validation: args.validate,
        window: Window(args.window_events),
        attribution: Attribution {
            by_test: args.by_test || args.out.html.is_some(),
            conformance_only: args.conformance_only,
        },
        progress: Some(Arc::new(Progress::new(!args.quiet, 0))),
        sample_printing: Some(SamplePrinting {
            print: report::python_json::transcode,
            shown: coverage::shown(&catalogue, &ineligible, &pending).into(),
            keep_lines: args.out.report_json.is_some(),
        }),
        threads: args.threads,
        open_before: seed
            .as_ref()
            .map_or_else(Vec::new, |(ids, _, _)| ids.clone()),
    };
    let pool = crate::outputs::thread_pool(args.threads)?;
    let engine = Engine::new(router, options);
    let (tally, inputs) = engine.run(engine.open(&names)?)?;
    phases.mark("scan");
    phases.absorbing(tally.absorb_timings());
    let run = Run {
        catalogue: &catalogue,
        spec_source: &spec_source,
        tally: &tally,
        inputs: &inputs,
        ineligible: &ineligible,
        pending: &pending,
        watch_credit: args.spec.watch_credit,
        by_test: engine.options().attribution.by_test,
        seeded_from: seed.as_ref().map(|(_, digest, _)| digest.as_str()),
        chain_position: seed.as_ref().map_or(0, |(_, _, position)| position + 1),
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
        &args.out,
        &ineligible,
        &pending,
    )?;
    Ok(Parsed {
        tally,
        catalogue,
        ineligible,
        pending,
        fetcher,
        endpoints,
        gates,
    })
}

/// The open requests (and their digest) that a previous part's report left.
/// The part must have been parsed against the same spec and with the same
/// `--conformance-only`: otherwise the two would not add up.
fn previous_part(
    path: &std::path::Path,
    catalogue: &Catalogue,
    conformance_only: bool,
) -> Result<(Vec<u128>, String, u64)> {
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
    let meaning = apicov_report::merge::ReportMeaning::of(&report);
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
    let loaded = apicov_report::merge::from_json(section, catalogue).map_err(err)?;
    let ids: Vec<u128> = loaded.tally.open_requests().collect();
    Ok((ids, loaded.open_digest, loaded.chain_position.unwrap_or(0)))
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

    /// The scan's serial part: absorbing chunks in input order, and within
    /// it the table of recent requests (the cost of counting each request
    /// once whatever the order of its events).
    fn absorbing(&self, timings: AbsorbTimings) {
        if self.enabled {
            eprintln!(
                "apicov: scan: absorbing in input order (one thread at a time): {:.1} ms, \
                 of which recent requests: {:.1} ms for {} lookups",
                timings.absorbing.as_secs_f64() * 1e3,
                timings.recent_requests.as_secs_f64() * 1e3,
                timings.looked_up
            );
            eprintln!(
                "apicov: scan: table of recent requests: {:.1} MB, set up in {:.1} ms",
                timings.table_bytes as f64 / 1e6,
                timings.table_setup.as_secs_f64() * 1e3
            );
        }
    }
}
