//! `apicov ops`: every operationId of the spec, sorted, one a line: the
//! `swagger_operations.txt` that kubernetes_api_analysis.py writes.

use std::fmt::Write as _;
use std::path::PathBuf;

use clap::Args;

use crate::args::SpecArgs;
use apicov_core::error::Result;
use apicov_core::spec::Catalogue;

#[derive(Debug, Args)]
pub struct OpsArgs {
    #[command(flatten)]
    pub spec: SpecArgs,

    /// Write to FILE instead of standard output.
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,

    /// Tab-separated columns: operationId, method, path, kind, group/version,
    /// stable, deprecated, observable.
    #[arg(long)]
    pub long: bool,
}

pub fn run(args: &OpsArgs) -> Result<i32> {
    if let Some(out) = &args.output {
        crate::outputs::check_paths(&[], &crate::outputs::spec_input(&args.spec), &[out])?;
    }
    let catalogue = super::load_catalogue(&args.spec)?;
    let text = render(&catalogue, args.long);
    match &args.output {
        Some(path) => apicov_report::report::write_atomic(path, text.as_bytes())?,
        None => apicov_report::report::write_stdout(text.as_bytes())?,
    }
    Ok(super::EXIT_OK)
}

/// The listing; `long` adds the catalogue's columns after a header line.
pub fn render(catalogue: &Catalogue, long: bool) -> String {
    let mut out = String::new();
    if long {
        out.push_str(
            "operationId\tmethod\tpath\tkind\tgroupVersion\tstable\tdeprecated\tobservable\n",
        );
    }
    for id in catalogue.sorted_ids() {
        let op = catalogue.get(id);
        if long {
            let gv = match (&op.group, &op.version) {
                (Some(g), Some(v)) if g.is_empty() => v.clone(),
                (Some(g), Some(v)) => format!("{g}/{v}"),
                (Some(g), None) => g.clone(),
                _ => "-".to_string(),
            };
            let _ = writeln!(
                out,
                "{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}",
                op.id,
                op.method.as_str(),
                op.template,
                op.kind.as_str(),
                gv,
                op.stable,
                op.deprecated,
                op.observable
            );
        } else {
            out.push_str(&op.id);
            out.push('\n');
        }
    }
    out
}
