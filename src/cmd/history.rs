//! `apicov history RUN...`: re-analyses many CI runs against one spec and
//! one pair of tracking lists (built once), and writes a per-run table and a
//! per-operation timeline as text, CSV and JSON.

use std::path::PathBuf;

use clap::Args;

use crate::attribution::Attribution;
use crate::cli::{ListArgs, SpecArgs};
use crate::error::{Error, Result};
use crate::event::Validation;
use crate::history::{self, RunDir, RunRecord};
use crate::input::{InputName, ReadMode};
use crate::lists::EndpointList;
use crate::pipeline::{self, EngineOptions, DEFAULT_CHUNK_SIZE};
use crate::report::Body;
use crate::spec::Catalogue;

#[derive(Debug, Args)]
pub struct HistoryArgs {
    /// Run directories (`<run-id>/artifacts/audit/audit*.log[.gz]`, with
    /// started.json / finished.json beside artifacts/), or globs of them;
    /// with --reports, report JSONs of runs parsed elsewhere.
    #[arg(required = true, value_name = "RUN")]
    pub runs: Vec<String>,

    /// The RUN arguments are `apicov parse --report-json` files.
    #[arg(long)]
    pub reports: bool,

    #[command(flatten)]
    pub spec: SpecArgs,

    #[command(flatten)]
    pub lists: ListArgs,

    /// Write runs.csv and operations.csv into DIR.
    #[arg(long, value_name = "DIR")]
    pub csv: Option<PathBuf>,

    /// Write the tables as JSON.
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,

    /// Write an HTML page: coverage over time and the per-run table.
    #[arg(long, value_name = "FILE")]
    pub html: Option<PathBuf>,

    /// Write the tables as Parquet under DIR, partitioned by run date.
    #[arg(long, value_name = "DIR")]
    pub parquet: Option<PathBuf>,

    /// Worker threads (default: one per core).
    #[arg(long, default_value_t = 0, value_name = "N")]
    pub threads: usize,

    /// See `apicov parse --validate`.
    #[arg(long, value_enum, default_value_t = Validation::Fast)]
    pub validate: Validation,

    /// No progress bar, no table on stdout.
    #[arg(short, long)]
    pub quiet: bool,
}

pub fn run(args: &HistoryArgs) -> Result<i32> {
    let fetcher = args.spec.fetch.fetcher();
    let super::Loaded {
        catalogue,
        ineligible,
        pending,
        ..
    } = super::load_inputs(&fetcher, &args.spec, &args.lists, &[], Vec::new())?;
    let records = if args.reports {
        from_reports(args, &catalogue, &ineligible, &pending)?
    } else {
        from_run_dirs(args, &catalogue, &ineligible, &pending)?
    };
    let timelines = history::timelines(&records, &catalogue);
    let mut files: Vec<(PathBuf, Body)> = Vec::new();
    if let Some(dir) = &args.csv {
        std::fs::create_dir_all(dir).map_err(|source| Error::Output {
            path: dir.clone(),
            source,
        })?;
        files.push((
            dir.join("runs.csv"),
            history::runs_csv(&records).into_bytes().into(),
        ));
        files.push((
            dir.join("operations.csv"),
            history::operations_csv(&timelines).into_bytes().into(),
        ));
    }
    if let Some(path) = &args.json {
        let mut bytes =
            serde_json::to_vec_pretty(&history::to_json(&records, &timelines, &catalogue))
                .expect("Value serialises");
        bytes.push(b'\n');
        files.push((path.clone(), bytes.into()));
    }
    if let Some(path) = &args.html {
        let page = crate::report::html::render_history(
            &records,
            "Kubernetes API coverage over time (apicov)",
        );
        files.push((path.clone(), page.into_bytes().into()));
    }
    if let Some(dir) = &args.parquet {
        let tables = crate::columnar::files(dir, &records, &timelines, &catalogue)?;
        for (path, _) in &tables {
            let parent = path.parent().expect("partition files have a directory");
            std::fs::create_dir_all(parent).map_err(|source| Error::Output {
                path: parent.to_path_buf(),
                source,
            })?;
        }
        files.extend(tables.into_iter().map(|(path, bytes)| (path, bytes.into())));
    }
    crate::report::write_all_atomic(&files)?;
    if !args.quiet {
        crate::report::write_stdout(history::render_text(&records, &timelines).as_bytes())?;
    }
    Ok(super::EXIT_OK)
}

/// Parses every run with one router and one worker pool: a run costs its
/// parse, nothing more.
fn from_run_dirs(
    args: &HistoryArgs,
    catalogue: &Catalogue,
    ineligible: &EndpointList,
    pending: &EndpointList,
) -> Result<Vec<RunRecord>> {
    let runs: Vec<RunDir> = history::discover(&args.runs)?;
    let router = super::build_router(&args.spec, catalogue);
    let pool = pipeline::thread_pool(args.threads)?;
    let total: u64 = runs
        .iter()
        .flat_map(|r| &r.logs)
        .filter_map(|p| std::fs::metadata(p).ok().map(|m| m.len()))
        .sum();
    let bar = pipeline::progress_bar(!args.quiet, total);
    let options = EngineOptions {
        chunk_size: DEFAULT_CHUNK_SIZE,
        read_mode: ReadMode::Mmap,
        validation: args.validate,
        attribution: Attribution::default(),
        progress: false,
        shared_bar: Some(bar.clone()),
    };
    let mut records = Vec::with_capacity(runs.len());
    for run in &runs {
        let names: Vec<InputName> = run.logs.iter().cloned().map(InputName::File).collect();
        let (tally, _) = pipeline::run(&names, &router, catalogue.len(), &options, &pool, &[])?;
        records.push(RunRecord::new(run, &tally, catalogue, ineligible, pending));
    }
    bar.finish();
    Ok(records)
}

/// Runs parsed elsewhere (`apicov parse --report-json`, one job per run).
fn from_reports(
    args: &HistoryArgs,
    catalogue: &Catalogue,
    ineligible: &EndpointList,
    pending: &EndpointList,
) -> Result<Vec<RunRecord>> {
    let mut records = Vec::new();
    let mut paths: Vec<PathBuf> = Vec::new();
    for arg in &args.runs {
        paths.extend(
            crate::input::expand(std::slice::from_ref(arg))?
                .into_iter()
                .filter_map(|n| match n {
                    InputName::File(p) => Some(p),
                    InputName::Stdin => None,
                }),
        );
    }
    for path in paths {
        let merged = super::merge::merge_reports(std::slice::from_ref(&path), catalogue, true)?;
        let id = path
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or("?")
            .to_string();
        let dir = RunDir {
            id,
            dir: path.clone(),
            logs: Vec::new(),
            started: None,
            finished: true,
            passed: None,
        };
        records.push(RunRecord::new(
            &dir,
            &merged.tally,
            catalogue,
            ineligible,
            pending,
        ));
    }
    records.sort_by(|a, b| history::run_order(&a.id, &b.id));
    Ok(records)
}
