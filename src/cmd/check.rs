//! `apicov check`: parse + diff + gates in one run, for CI. The reference job
//! chains `parser && analysis`, and the parser exits 1 whenever a stable
//! operation is missing, so the analysis never runs. `check` writes every
//! output, prints both reports, and exits with the gates' verdict at the end.

use clap::Args;

use crate::diff::RunOperations;
use crate::error::Result;

use super::diff::{compare, render, verdict, BaselineArgs};
use super::parse::{execute, ParseArgs};

#[derive(Debug, Args)]
pub struct CheckArgs {
    #[command(flatten)]
    pub parse: ParseArgs,

    #[command(flatten)]
    pub baseline: BaselineArgs,
}

pub fn run(args: &CheckArgs) -> Result<i32> {
    let parsed = execute(&args.parse)?;
    let pull_name = args
        .parse
        .out
        .output
        .as_ref()
        .map_or_else(|| "<this run>".to_string(), |p| p.display().to_string());
    let pull = RunOperations::parse(parsed.endpoints.as_bytes(), &parsed.catalogue)
        .expect("apicov's own endpoints text parses");
    let mut log = String::from(
        "\nKubernetes API Operations Analysis\n==================================\n\n",
    );
    let comparison = compare(
        &args.baseline,
        &parsed.fetcher,
        &parsed.catalogue,
        &parsed.ineligible,
        &parsed.pending,
        &pull,
        &pull_name,
        &mut log,
    )?;
    let report = render(args.baseline.format, &comparison, &log, &pull_name, "");
    crate::report::write_stdout(report.as_bytes())?;
    let parse_gates = parsed.gates_tripped() && !args.parse.no_fail;
    let diff_gates = verdict(&args.baseline, &comparison.diff) != super::EXIT_OK;
    Ok(if parse_gates || diff_gates {
        super::EXIT_GATE
    } else {
        super::EXIT_OK
    })
}
