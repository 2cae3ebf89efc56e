//! `apicov promotions --base-swagger OLD --swagger NEW [--report RUN.json]`:
//! the operations that became stable between two specs and the rule that
//! decides each (see `apicov_report::promotions`); exit 1 when one is newly stable,
//! observable, and neither exercised nor listed.

use std::path::PathBuf;

use clap::{Args, ValueEnum};

use crate::args::{ListArgs, SpecArgs};
use apicov_core::error::{Error, Result};
use apicov_fetch::source::Wanted;
use apicov_report::promotions::{self, RunHits};

#[derive(Debug, Args)]
pub struct PromotionsArgs {
    /// The spec before the change (path or URL): operations stable there are
    /// not new.
    #[arg(long, value_name = "PATH|URL")]
    pub base_swagger: String,

    /// The run's report JSON (`apicov parse --report-json`, with --by-test
    /// for the tests that hit each operation). Without it nothing is hit.
    #[arg(long, value_name = "FILE")]
    pub report: Option<PathBuf>,

    #[command(flatten)]
    pub spec: SpecArgs,

    #[command(flatten)]
    pub lists: ListArgs,

    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,

    /// Write the report to FILE instead of standard output.
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,

    /// Report, but exit 0 even when an operation fails.
    #[arg(long)]
    pub no_fail: bool,
}

/// How the promotions are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Text,
    /// A pull-request comment.
    Markdown,
    Json,
}

pub fn run(args: &PromotionsArgs) -> Result<i32> {
    if let Some(out) = &args.output {
        let mut inputs = crate::outputs::named_inputs(&args.spec, &args.lists);
        inputs.extend(args.report.as_deref());
        if !args.base_swagger.contains("://") {
            inputs.push(std::path::Path::new(&args.base_swagger));
        }
        crate::outputs::check_paths(&[], &inputs, &[out])?;
    }
    let fetcher = args.spec.fetch.fetcher();
    let base = [Wanted {
        flag: "--base-swagger",
        location: &args.base_swagger,
    }];
    let loaded = super::load_inputs(&fetcher, &args.spec, &args.lists, &base, Vec::new())?;
    let old_doc = &loaded.more[0];
    let old = apicov_fetch::catalogue_cache::load(&fetcher, old_doc)?;
    let run = match &args.report {
        Some(path) => {
            let bytes = std::fs::read(path).map_err(|e| Error::input(path, e))?;
            let report: serde_json::Value = serde_json::from_slice(&bytes)
                .map_err(|e| Error::input(path, format!("not a report JSON: {e}")))?;
            if report.get("operations").is_none() {
                return Err(Error::input(
                    path,
                    "no \"operations\": expected an apicov parse --report-json file",
                ));
            }
            RunHits::from_report(&report)
        }
        None => RunHits::default(),
    };
    let mut found = promotions::promotions(
        &old,
        &loaded.catalogue,
        &run,
        &loaded.ineligible,
        &loaded.pending,
    );
    if args.report.is_none() {
        promotions::without_run(&mut found);
    }
    let text = match args.format {
        Format::Text => promotions::render_text(&found),
        Format::Markdown => promotions::render_markdown(&found),
        Format::Json => {
            let mut s = serde_json::to_string_pretty(&promotions::to_json(&found))
                .expect("Value serialises");
            s.push('\n');
            s
        }
    };
    match &args.output {
        Some(path) => apicov_report::report::write_atomic(path, text.as_bytes())?,
        None => apicov_report::report::write_stdout(text.as_bytes())?,
    }
    let failing = found.iter().any(|p| !p.rule.passes());
    Ok(if failing && !args.no_fail {
        super::EXIT_GATE
    } else {
        super::EXIT_OK
    })
}
