//! `apicov check`: parse + diff + gates in one run, for CI. The reference job
//! chains `parser && analysis`, and the parser exits 1 whenever a stable
//! operation is missing, so the analysis never runs. `check` writes every
//! output, prints both reports, and exits with the gates' verdict at the end.
//! When the baseline cannot be had (no network), the parse half still
//! counts: a warning says the diff was skipped, the parse gates decide.

use clap::Args;

use apicov_core::error::{Error, Result};
use apicov_fetch::source::{is_remote, Document, Fetcher};
use apicov_report::diff::RunOperations;

use super::diff::{baseline_location, compare, render, verdict, BaselineArgs};
use super::parse::{execute, ParseArgs};

#[derive(Debug, Args)]
pub struct CheckArgs {
    #[command(flatten)]
    pub parse: ParseArgs,

    #[command(flatten)]
    pub baseline: BaselineArgs,

    /// The spec before the change (path or URL): also check the operations
    /// that became stable since, as `apicov promotions` does (printed after
    /// the endpoints; exit 1 when one is neither tested nor listed).
    #[arg(long, value_name = "PATH|URL")]
    pub base_swagger: Option<String>,
}

pub fn run(args: &CheckArgs) -> Result<i32> {
    let parsed = execute(&args.parse)?;
    let promotions_failed = match &args.base_swagger {
        Some(base) => {
            let doc = parsed.fetcher.get(base)?;
            let old = apicov_fetch::catalogue_cache::load(&parsed.fetcher, &doc)?;
            let hits =
                apicov_report::promotions::RunHits::from_tally(&parsed.catalogue, &parsed.tally);
            let found = apicov_report::promotions::promotions(
                &old,
                &parsed.catalogue,
                &hits,
                &parsed.ineligible,
                &parsed.pending,
            );
            apicov_report::report::write_stdout(
                format!("\n{}", apicov_report::promotions::render_text(&found)).as_bytes(),
            )?;
            found.iter().any(|p| !p.rule.passes())
        }
        None => false,
    };
    let parse_status = if (parsed.gates_tripped() || promotions_failed) && !args.parse.no_fail {
        super::EXIT_GATE
    } else {
        super::EXIT_OK
    };
    let pull_name = args
        .parse
        .out
        .output
        .as_ref()
        .map_or_else(|| "<this run>".to_string(), |p| p.display().to_string());
    let pull = RunOperations::parse(parsed.endpoints.as_bytes(), &parsed.catalogue).map_err(
        |message| Error::Source {
            source_name: pull_name.clone(),
            message,
        },
    )?;
    // The endpoints text on stdout has no final newline.
    let mut log = String::from(if args.parse.out.output.is_none() {
        "\n\n"
    } else {
        ""
    });
    log.push_str("Kubernetes API Operations Analysis\n==================================\n\n");
    let ci_doc = match fetch_baseline(&args.baseline, &parsed.fetcher, &mut log) {
        Ok(doc) => doc,
        Err(e)
            if args
                .baseline
                .ci_audit_endpoints
                .as_deref()
                .is_none_or(is_remote) =>
        {
            // Without network the parse half still counts: its outputs are
            // written and its gates decide the exit status.
            apicov_report::report::summary::write_stderr(&format!(
                "apicov: warning: the diff against the CI baseline was skipped: {e}\n\
                 apicov: warning: pass the baseline with --ci-audit-endpoints FILE to compare \
                 without network; exit status from the parse gates only\n"
            ));
            return Ok(parse_status);
        }
        Err(e) => return Err(e),
    };
    let comparison = compare(
        ci_doc,
        &parsed.catalogue,
        &parsed.ineligible,
        &parsed.pending,
        &pull,
        &pull_name,
        &mut log,
    )?;
    let report = render(args.baseline.format, &comparison, &log, &pull_name, "");
    apicov_report::report::write_stdout(report.as_bytes())?;
    let diff_gates = verdict(&args.baseline, &comparison.diff) != super::EXIT_OK;
    Ok(if parse_status != super::EXIT_OK || diff_gates {
        super::EXIT_GATE
    } else {
        super::EXIT_OK
    })
}

/// The baseline document: discovered (or named) and fetched.
fn fetch_baseline(
    baseline: &BaselineArgs,
    fetcher: &Fetcher,
    log: &mut String,
) -> Result<Document> {
    let location = baseline_location(baseline, fetcher, log)?;
    fetcher.get(&location)
}
