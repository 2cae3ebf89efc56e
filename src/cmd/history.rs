//! `apicov history RUN...` and `apicov history gs://BUCKET/logs/JOB`:
//! re-analyses many CI runs against one spec and one pair of tracking lists
//! (built once), and writes a per-run table and a per-operation timeline as
//! text, CSV, JSON, HTML and Parquet. Runs come from local directories, from
//! GCS (parsed as they download, a few at a time, results cached per run), or
//! from report JSONs written by `--reports-dir` (shards of a larger history).

use std::path::PathBuf;

use std::sync::Arc;

use clap::Args;

use crate::progress::Progress;

use crate::args::{ListArgs, SpecArgs};
use apicov_core::aggregate::Window;
use apicov_core::attribution::Attribution;
use apicov_core::coverage::Coverage;
use apicov_core::error::{Error, Result};
use apicov_core::event::Validation;
use apicov_core::input::{InputName, ReadMode};
use apicov_core::lists::EndpointList;
use apicov_core::pipeline::{self, Engine, EngineOptions, DEFAULT_CHUNK_SIZE};
use apicov_core::routing::{AnyMatcher, WatchCredit};
use apicov_core::spec::Catalogue;
#[cfg(feature = "remote")]
use apicov_fetch::gcs::Bucket;
#[cfg(feature = "remote")]
use apicov_fetch::remote;
use apicov_report::history::{self, RunDir, RunRecord, RunStatus};
use apicov_report::merge::MergeRules;
use apicov_report::report::{Body, Caveats, Run};

#[derive(Debug, Args)]
pub struct HistoryArgs {
    /// Run directories (`<run-id>/artifacts/audit/audit*.log[.gz]`, with
    /// started.json / finished.json beside artifacts/), or globs of them; or
    /// one `gs://BUCKET/logs/JOB` (every run of a Prow job in GCS); with
    /// --reports, report JSONs of runs parsed elsewhere.
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

    /// A run that cannot be analysed (no logs, a corrupt log, broken
    /// metadata, an unreadable report) is an error: exit 2, nothing written.
    /// Without it such a run gets a row with its status and is skipped.
    #[arg(long)]
    pub strict: bool,

    /// With --reports: take reports parsed against another spec than
    /// --swagger (refused otherwise); their rows and the outputs say so.
    #[arg(long)]
    pub allow_spec_mix: bool,

    /// Only runs started on or after DATE (YYYY-MM-DD, UTC; from started.json).
    #[arg(long, value_name = "DATE", value_parser = parse_since)]
    pub since: Option<i64>,

    /// Only the newest N runs.
    #[arg(long, value_name = "N")]
    pub last: Option<usize>,

    /// Only these runs (build ids).
    #[arg(long = "runs", value_name = "ID,…", value_delimiter = ',')]
    pub only: Vec<String>,

    /// Only the K-th (from 0) of N disjoint, stable slices of the runs, for
    /// one machine of N (`--shard $JOB_COMPLETION_INDEX/N` in an Indexed Job).
    #[arg(long, value_name = "K/N")]
    pub shard: Option<history::Shard>,

    /// Write each run's report JSON (`parse --report-json`, plus a `run`
    /// section) to `DIR/<run-id>.json`; `history --reports 'DIR/*.json'`
    /// combines them (and the shards of other machines) into these tables.
    #[arg(long, value_name = "DIR")]
    pub reports_dir: Option<PathBuf>,

    /// (gs://) Runs downloaded and parsed at once; at most N+1 are in hand.
    #[arg(long, default_value_t = 8, value_name = "N")]
    pub jobs: usize,

    /// (gs://) The GCS JSON API endpoint (an emulator or a mirror).
    #[arg(
        long,
        default_value = "https://storage.googleapis.com",
        value_name = "URL"
    )]
    pub gcs_endpoint: String,
}

fn parse_since(date: &str) -> std::result::Result<i64, String> {
    apicov_report::dates::parse_date(date).ok_or_else(|| format!("{date}: expected YYYY-MM-DD"))
}

impl HistoryArgs {
    fn selection(&self) -> history::Selection {
        history::Selection {
            only: self.only.clone(),
            since: self.since,
            last: self.last,
            shard: self.shard,
        }
    }
}

pub fn run(args: &HistoryArgs) -> Result<i32> {
    // The files named, and the CSV files, where their directory exists
    // already: `--csv` and `--parquet` make theirs (and a file named under
    // one of them is written after it is made).
    let csv: Vec<PathBuf> = args
        .csv
        .iter()
        .flat_map(|dir| [dir.join("runs.csv"), dir.join("operations.csv")])
        .collect();
    let outputs: Vec<&std::path::Path> = [&args.json, &args.html]
        .into_iter()
        .flatten()
        .chain(&csv)
        .map(|p| p.as_path())
        .filter(|p| {
            p.parent()
                .is_none_or(|d| d.as_os_str().is_empty() || d.is_dir())
        })
        .collect();
    crate::outputs::check_paths(
        &[],
        &crate::outputs::named_inputs(&args.spec, &args.lists),
        &outputs,
    )?;
    let fetcher = args.spec.fetch.fetcher();
    let super::Loaded {
        catalogue,
        ineligible,
        pending,
        ..
    } = super::load_inputs(&fetcher, &args.spec, &args.lists, &[], Vec::new())?;
    let lists = (&ineligible, &pending);
    let records = match args.runs.as_slice() {
        _ if args.reports => from_reports(args, &catalogue, &ineligible, &pending)?,
        #[cfg(feature = "remote")]
        [url] if url.starts_with("gs://") => from_gcs(args, url, &catalogue, lists, &fetcher)?,
        #[cfg(not(feature = "remote"))]
        [url] if url.starts_with("gs://") => {
            return Err(Error::Usage(format!(
                "{url}: this apicov was built without the `remote` feature: copy the runs \
                 locally (gsutil -m cp -r) and pass their directories"
            )))
        }
        _ => from_run_dirs(args, &catalogue, lists)?,
    };
    let skipped: Vec<&RunRecord> = records.iter().filter(|r| !r.is_ok()).collect();
    for r in &skipped {
        eprintln!(
            "apicov: {}: run {} skipped ({}): {}",
            if args.strict { "error" } else { "warning" },
            r.id,
            r.status.as_str(),
            r.problem.as_deref().unwrap_or("")
        );
    }
    if args.strict && !skipped.is_empty() {
        return Err(Error::Usage(format!(
            "{} of {} runs could not be analysed (--strict): nothing written",
            skipped.len(),
            records.len()
        )));
    }
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
        let title = format!(
            "Kubernetes API coverage over time (apicov){}",
            history::caveats(&records).title_suffix()
        );
        let page = history::render_html(&records, &title);
        files.push((path.clone(), page.into_bytes().into()));
    }
    #[cfg(not(feature = "parquet"))]
    if args.parquet.is_some() {
        return Err(Error::Usage(
            "--parquet: this apicov was built without the `parquet` feature".into(),
        ));
    }
    #[cfg(feature = "parquet")]
    if let Some(dir) = &args.parquet {
        let tables = apicov_report::columnar::files(dir, &records, &timelines, &catalogue)?;
        for (path, _) in &tables {
            let parent = path.parent().expect("partition files have a directory");
            std::fs::create_dir_all(parent).map_err(|source| Error::Output {
                path: parent.to_path_buf(),
                source,
            })?;
        }
        files.extend(tables.into_iter().map(|(path, bytes)| (path, bytes.into())));
    }
    apicov_report::report::write_all_atomic(&files)?;
    if !args.quiet {
        apicov_report::report::write_stdout(history::render_text(&records, &timelines).as_bytes())?;
    }
    Ok(super::EXIT_OK)
}

/// What every run is analysed with, built once: a run costs its parse.
struct Analyser<'a> {
    catalogue: &'a Catalogue,
    ineligible: &'a EndpointList,
    pending: &'a EndpointList,
    spec_source: String,
    /// Every run is parsed with it: one router, one set of workers.
    engine: Engine<AnyMatcher>,
    watch_credit: WatchCredit,
    reports_dir: Option<PathBuf>,
}

impl<'a> Analyser<'a> {
    fn new(
        args: &HistoryArgs,
        catalogue: &'a Catalogue,
        (ineligible, pending): (&'a EndpointList, &'a EndpointList),
        bar: Option<crate::progress::Progress>,
    ) -> Result<Analyser<'a>> {
        if let Some(dir) = &args.reports_dir {
            std::fs::create_dir_all(dir).map_err(|source| Error::Output {
                path: dir.clone(),
                source,
            })?;
        }
        Ok(Analyser {
            catalogue,
            ineligible,
            pending,
            spec_source: args.spec.swagger.clone(),
            engine: Engine::new(
                super::build_router(&args.spec, catalogue)?,
                EngineOptions {
                    chunk_size: DEFAULT_CHUNK_SIZE,
                    read_mode: ReadMode::Mmap,
                    validation: args.validate,
                    attribution: Attribution::default(),
                    progress: bar.map(|b| Arc::new(b.shared()) as Arc<dyn pipeline::Progress>),
                    // history prints no samples
                    sample_printing: None,
                    window: Window::DEFAULT,
                    threads: args.threads,
                    open_before: Vec::new(),
                },
            ),
            watch_credit: args.spec.watch_credit,
            reports_dir: args.reports_dir.clone(),
        })
    }

    /// What a run's result depends on besides its files: the cache's salt.
    #[cfg(feature = "remote")]
    fn salt(&self) -> String {
        let mut lists: Vec<&str> = self
            .ineligible
            .entries
            .iter()
            .map(|e| e.endpoint.as_str())
            .chain(std::iter::once("|"))
            .chain(self.pending.entries.iter().map(|e| e.endpoint.as_str()))
            .collect();
        lists.sort_unstable();
        format!(
            "apicov {} spec {} lists {} validate {:?} watch {}",
            env!("CARGO_PKG_VERSION"),
            self.catalogue.digest(),
            lists.join(","),
            self.engine.options().validation,
            self.watch_credit.as_str()
        )
    }

    /// Parses one run (unless its status says it cannot be) and returns its
    /// record and its report JSON (with a `run` section). `rename` maps local
    /// paths in messages and input names to where the files came from.
    fn analyse(
        &self,
        run: &RunDir,
        cache_key: Option<&str>,
        rename: &dyn Fn(&str) -> String,
    ) -> Result<(RunRecord, Vec<u8>)> {
        self.analyse_with(run, cache_key, rename, || {
            let names: Vec<InputName> = run.logs.iter().cloned().map(InputName::File).collect();
            self.engine.run(self.engine.open(&names)?)
        })
    }

    /// [`Analyser::analyse`] with the logs read by `parse` (streams, for
    /// runs parsed as they download).
    fn analyse_with(
        &self,
        run: &RunDir,
        cache_key: Option<&str>,
        rename: &dyn Fn(&str) -> String,
        parse: impl FnOnce() -> Result<(apicov_core::aggregate::Tally, Vec<pipeline::InputInfo>)>,
    ) -> Result<(RunRecord, Vec<u8>)> {
        let skipped = |run: &RunDir| {
            let record = RunRecord::skipped(run);
            let report = self.report(&record, None, cache_key);
            (record, report)
        };
        if run.status != RunStatus::Ok {
            return Ok(skipped(run));
        }
        match parse() {
            Ok((tally, mut inputs)) => {
                for input in &mut inputs {
                    input.name = rename(&input.name);
                }
                // A run whose logs hold no event is not a run that hit
                // nothing: counted as one, it would drop every operation
                // from the timeline and add them back at the next run.
                if tally.events_by_stage.iter().sum::<u64>() == 0 {
                    let bytes: u64 = tally.inputs.iter().map(|i| i.bytes).sum();
                    let lines: u64 = tally.inputs.iter().map(|i| i.lines).sum();
                    let mut bad = run.clone();
                    (bad.status, bad.problem) = if bytes == 0 {
                        (
                            RunStatus::Empty,
                            Some("its audit logs are empty".to_string()),
                        )
                    } else {
                        (
                            RunStatus::NoEvents,
                            Some(format!(
                                "no audit event in its logs ({lines} lines, {} malformed)",
                                tally.malformed_lines
                            )),
                        )
                    };
                    return Ok(skipped(&bad));
                }
                let record =
                    RunRecord::new(run, &tally, self.catalogue, self.ineligible, self.pending);
                // Rendered only for --reports-dir (and then cached too).
                let report = if self.reports_dir.is_some() {
                    self.report(&record, Some((&tally, &inputs)), cache_key)
                } else {
                    Vec::new()
                };
                Ok((record, report))
            }
            // A log that cannot be read to its end spoils only its run.
            Err(e @ (Error::Input { .. } | Error::Truncated { .. } | Error::Unreadable { .. })) => {
                let mut bad = run.clone();
                bad.status = RunStatus::Corrupt;
                bad.problem = Some(rename(&super::error_text(&e)));
                Ok(skipped(&bad))
            }
            Err(e) => Err(e),
        }
    }

    /// A run from GCS, its logs (`logs`, in order) parsed as they download
    /// ([`Bucket::stream`]). In chunks of 1 MiB rather than 4: `--jobs`
    /// runs are parsed at once, each holding up to four chunks per worker
    /// (the counts do not depend on the chunk size).
    #[cfg(feature = "remote")]
    fn analyse_remote(
        &self,
        bucket: &Bucket,
        run: &RunDir,
        logs: &[&apicov_fetch::gcs::Object],
        key: &str,
    ) -> remote::Fetched {
        let local = format!("{}/", run.dir.parent().unwrap_or(&run.dir).display());
        let rename = |s: &str| s.replace(&local, &bucket.url());
        let engine = self.engine.with_options(EngineOptions {
            chunk_size: 1 << 20,
            ..self.engine.options().clone()
        });
        let mut download_failed = None;
        let analysed = self.analyse_with(run, Some(key), &rename, || {
            let streamed = bucket.stream(logs, |readers| {
                let sources = readers
                    .into_iter()
                    .zip(logs)
                    .map(|(reader, object)| {
                        let name = format!("gs://{}/{}", bucket.bucket, object.name);
                        let name = InputName::File(PathBuf::from(name));
                        apicov_core::input::from_reader(name, reader, Some(object.size))
                    })
                    .collect::<Result<Vec<_>>>()?;
                engine.run(sources)
            });
            // A download that failed for good makes its run's row below.
            streamed.unwrap_or_else(|e| {
                download_failed = Some(e.to_string());
                Err(e)
            })
        });
        if let Some(problem) = download_failed {
            return remote::Fetched::Failed {
                dir: RunDir::skipped(
                    run.id.clone(),
                    PathBuf::from(format!("{}{}", bucket.url(), run.id)),
                    RunStatus::DownloadFailed,
                    problem,
                ),
            };
        }
        match analysed {
            Ok((record, report)) => remote::Fetched::Analysed {
                record,
                report,
                key: key.to_string(),
            },
            Err(e) => remote::Fetched::Fatal(e),
        }
    }

    /// A run's report JSON: what `parse --report-json` writes (for an
    /// analysed run) and a `run` section with the row's own fields.
    fn report(
        &self,
        record: &RunRecord,
        parsed: Option<(&apicov_core::aggregate::Tally, &[pipeline::InputInfo])>,
        cache_key: Option<&str>,
    ) -> Vec<u8> {
        let section = history::run_section(record, cache_key);
        match parsed {
            Some((tally, inputs)) => {
                let coverage = Coverage::new(self.catalogue, tally, self.ineligible, self.pending);
                let run = Run {
                    catalogue: self.catalogue,
                    spec_source: &self.spec_source,
                    tally,
                    inputs,
                    ineligible: self.ineligible,
                    pending: self.pending,
                    watch_credit: self.watch_credit,
                    by_test: false,
                    seeded_from: None,
                    chain_position: 0,
                    caveats: Caveats::default(),
                };
                let bytes = apicov_report::report::json::render(&run, &coverage);
                history::report_with_section(Some(bytes), &section)
            }
            None => history::report_with_section(None, &section),
        }
    }

    /// Writes a run's report into --reports-dir and, given a cache
    /// directory, the report and the row's compact record into the cache.
    fn keep(
        &self,
        record: &RunRecord,
        report: &[u8],
        cache: Option<(&std::path::Path, &str)>,
    ) -> Result<()> {
        let mut files: Vec<(PathBuf, Body)> = Vec::new();
        if let Some(dir) = &self.reports_dir {
            files.push((
                dir.join(format!("{}.json", record.id)),
                report.to_vec().into(),
            ));
        }
        if let Some((dir, key)) = cache {
            let (row, full) = history::cache_paths(dir, &record.id);
            if !report.is_empty() {
                files.push((full, report.to_vec().into()));
            }
            let compact = history::cached_row(record, key, self.catalogue);
            files.push((row, compact.into()));
        }
        apicov_report::report::write_all_atomic(&files)
    }
}

/// Parses every local run directory, in build-id order.
fn from_run_dirs(
    args: &HistoryArgs,
    catalogue: &Catalogue,
    lists: (&EndpointList, &EndpointList),
) -> Result<Vec<RunRecord>> {
    let mut runs: Vec<RunDir> = history::discover(&args.runs)?;
    let started: std::collections::HashMap<String, Option<i64>> =
        runs.iter().map(|r| (r.id.clone(), r.started)).collect();
    let ids = args
        .selection()
        .apply(runs.iter().map(|r| r.id.clone()).collect(), |id| {
            started.get(id).copied().flatten()
        });
    runs.retain(|r| ids.contains(&r.id));
    let total: u64 = runs
        .iter()
        .flat_map(|r| &r.logs)
        .filter_map(|p| std::fs::metadata(p).ok().map(|m| m.len()))
        .sum();
    let bar = Progress::new(!args.quiet, total);
    let analyser = Analyser::new(args, catalogue, lists, Some(bar.clone()))?;
    let mut records = Vec::with_capacity(runs.len());
    for run in &runs {
        let (record, report) = analyser.analyse(run, None, &|s| s.to_string())?;
        analyser.keep(&record, &report, None)?;
        records.push(record);
    }
    bar.finish();
    Ok(records)
}

/// Every selected run of a Prow job in GCS: `--jobs` runs at a time, each
/// parsed as its logs download, the rows in run order; a run whose objects
/// have not changed since its result was cached is not downloaded again.
#[cfg(feature = "remote")]
fn from_gcs(
    args: &HistoryArgs,
    url: &str,
    catalogue: &Catalogue,
    lists: (&EndpointList, &EndpointList),
    fetcher: &apicov_fetch::source::Fetcher,
) -> Result<Vec<RunRecord>> {
    let analyser = Analyser::new(args, catalogue, lists, None)?;
    let bucket = Bucket::from_url(url, &args.gcs_endpoint)?;
    let mut ids = bucket.runs()?;
    if ids.is_empty() {
        // As a local glob that names nothing: exit 2, not an empty table.
        return Err(Error::NoRuns {
            prefix: url.to_string(),
        });
    }
    let selection = args.selection();
    let started = if selection.needs_started() {
        bucket.started_times(&ids, args.jobs)?
    } else {
        Default::default()
    };
    ids = selection.apply(ids, |id| started.get(id).copied().flatten());
    let cache_dir = fetcher
        .cache_dir()
        .join("history")
        .join(&bucket.bucket)
        .join(&bucket.job);
    std::fs::create_dir_all(&cache_dir).map_err(|source| Error::Output {
        path: cache_dir.clone(),
        source,
    })?;
    let options = remote::FetchOptions {
        jobs: args.jobs.max(1),
        cache_dir: cache_dir.clone(),
        salt: analyser.salt(),
        need_reports: args.reports_dir.is_some(),
    };
    let mut records = Vec::with_capacity(ids.len());
    let analyse = |bucket: &Bucket,
                   dir: &RunDir,
                   logs: &[&apicov_fetch::gcs::Object],
                   key: &str| { analyser.analyse_remote(bucket, dir, logs, key) };
    let window = args.jobs.max(1) + 1;
    remote::fetch_runs(&bucket, &ids, &options, window, &analyse, |fetched| {
        match fetched {
            remote::Fetched::Cached { id, row } => {
                let record = history::record_from_cached_row(&row, analyser.catalogue, lists)
                    .ok_or_else(|| Error::input(&row, "unreadable cache entry"))?;
                if analyser.reports_dir.is_some() {
                    let full = history::cache_paths(&cache_dir, &id).1;
                    let bytes = std::fs::read(&full).map_err(|e| Error::input(&full, e))?;
                    analyser.keep(&record, &bytes, None)?;
                }
                records.push(record);
            }
            remote::Fetched::Analysed {
                record,
                report,
                key,
            } => {
                analyser.keep(&record, &report, Some((&cache_dir, &key)))?;
                records.push(record);
            }
            remote::Fetched::Failed { dir } => {
                let record = RunRecord::skipped(&dir);
                analyser.keep(&record, &analyser.report(&record, None, None), None)?;
                records.push(record);
            }
            remote::Fetched::Fatal(e) => return Err(e),
        }
        Ok(())
    })?;
    Ok(records)
}

/// Runs parsed elsewhere (`apicov parse --report-json`, one job per run,
/// or `history --reports-dir`, one machine per shard).
fn from_reports(
    args: &HistoryArgs,
    catalogue: &Catalogue,
    ineligible: &EndpointList,
    pending: &EndpointList,
) -> Result<Vec<RunRecord>> {
    let mut records = Vec::new();
    let rules = MergeRules {
        independent: true,
        allow_spec_mix: args.allow_spec_mix,
    };
    // Conformance-only runs and full runs do not share a timeline.
    let mut conformance_only: Option<(bool, PathBuf)> = None;
    let mut paths: Vec<PathBuf> = Vec::new();
    for arg in &args.runs {
        paths.extend(
            apicov_core::input::expand(std::slice::from_ref(arg))?
                .into_iter()
                .filter_map(|n| match n {
                    InputName::File(p) => Some(p),
                    InputName::Stdin => None,
                }),
        );
    }
    for path in paths {
        let record = history::record_from_report(&path, catalogue, rules, ineligible, pending)?;
        if record.is_ok() {
            let this = record.caveats.conformance_only;
            match &conformance_only {
                Some((first, first_path)) if *first != this => {
                    return Err(Error::Mixed {
                        source_name: path.display().to_string(),
                        message: format!(
                            "parsed {} --conformance-only, {} {}: the two do not share a timeline",
                            if this { "with" } else { "without" },
                            first_path.display(),
                            if this { "without it" } else { "with it" },
                        ),
                    })
                }
                Some(_) => {}
                None => conformance_only = Some((this, path.clone())),
            }
        }
        records.push(record);
    }
    records.sort_by(|a, b| history::run_order(&a.id, &b.id));
    Ok(records)
}
