//! `apicov diff`: a pull request's run against the CI baseline, as
//! kubernetes_api_analysis.py reports it (drop-in: same flags, same text).

use std::path::PathBuf;

use clap::{Args, ValueEnum};

use crate::args::{ListArgs, SpecArgs};
use apicov_core::error::{Error, Result};
use apicov_core::lists::EndpointList;
use apicov_core::spec::Catalogue;
#[cfg(feature = "remote")]
use apicov_fetch::gcs::Bucket;
use apicov_fetch::source::{Document, Fetcher, Wanted};
use apicov_report::diff::{Diff, RunOperations};

/// Report format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, ValueEnum)]
pub enum Format {
    /// The reference's report, section for section.
    #[default]
    Text,
    /// The same content for programs.
    Json,
    /// A compact table for a pull-request comment.
    Markdown,
}

/// What makes `diff` (and `check`) exit 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FailOn {
    /// Operations the CI run exercised and the pull run does not.
    Removed,
    /// Stable operations the pull run does not exercise.
    StableMissing,
}

/// Where the baseline comes from and how it is compared.
#[derive(Debug, Clone, Args)]
pub struct BaselineArgs {
    /// The CI run: audit-endpoints.txt (either tool's) or apicov report JSON,
    /// path or URL. Default: the newest finished run of the CI job in GCS.
    #[arg(long, visible_alias = "baseline-file", value_name = "FILE|URL")]
    pub ci_audit_endpoints: Option<String>,

    /// GCS endpoint for baseline discovery.
    #[arg(
        long,
        default_value = "https://storage.googleapis.com",
        value_name = "URL"
    )]
    pub gcs_endpoint: String,

    /// GCS bucket for baseline discovery.
    #[arg(long, default_value = "kubernetes-ci-logs")]
    pub gcs_bucket: String,

    /// CI job whose newest finished run is the baseline.
    #[arg(long, default_value = "ci-kubernetes-audit-kind-conformance")]
    pub ci_job: String,

    /// Report format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,

    /// Exit 1 when these happen (comma-separated).
    #[arg(long, value_enum, value_delimiter = ',')]
    pub fail_on: Vec<FailOn>,
}

#[derive(Debug, Args)]
pub struct DiffArgs {
    /// The pull request's run: audit-endpoints.txt or apicov report JSON.
    #[arg(long, value_name = "FILE|URL", required = true)]
    pub pull_audit_endpoints: String,

    #[command(flatten)]
    pub baseline: BaselineArgs,

    #[command(flatten)]
    pub spec: SpecArgs,

    #[command(flatten)]
    pub lists: ListArgs,

    /// Where to write the spec's operation list. Always written, by default
    /// as swagger_operations.txt in the working directory, as
    /// kubernetes_api_analysis.py does; the report names it.
    #[arg(long, default_value = "swagger_operations.txt", value_name = "FILE")]
    pub output_file: PathBuf,
}

pub fn run(args: &DiffArgs) -> Result<i32> {
    let mut inputs = crate::outputs::named_inputs(&args.spec, &args.lists);
    inputs.extend(
        [
            Some(args.pull_audit_endpoints.as_str()),
            args.baseline.ci_audit_endpoints.as_deref(),
        ]
        .into_iter()
        .flatten()
        .filter(|s| !s.contains("://"))
        .map(std::path::Path::new),
    );
    crate::outputs::check_paths(&[], &inputs, &[args.output_file.as_path()])?;
    let fetcher = args.spec.fetch.fetcher();
    // Discovery first, so that without network every missing input, the
    // baseline included, is reported in one go.
    let mut discovery_log = String::new();
    let mut failed = Vec::new();
    let ci_location = match baseline_location(&args.baseline, &fetcher, &mut discovery_log) {
        Ok(location) => Some(location),
        Err(e) => {
            failed.push(("--ci-audit-endpoints", e));
            None
        }
    };
    let mut more = vec![Wanted {
        flag: "--pull-audit-endpoints",
        location: &args.pull_audit_endpoints,
    }];
    if let Some(location) = &ci_location {
        more.push(Wanted {
            flag: "--ci-audit-endpoints",
            location,
        });
    }
    let super::Loaded {
        catalogue,
        ineligible,
        pending,
        more,
        ..
    } = super::load_inputs(&fetcher, &args.spec, &args.lists, &more, failed)?;
    let [pull_doc, ci_doc]: [Document; 2] = more
        .try_into()
        .map_err(|_| Error::Usage("internal: baseline documents missing".into()))?;
    let pull =
        RunOperations::parse(pull_doc.bytes()?, &catalogue).map_err(|message| Error::Source {
            source_name: pull_doc.name.clone(),
            message,
        })?;

    let mut text = String::new();
    text.push_str("Kubernetes API Operations Analysis\n==================================\n\n");
    text.push_str("Step 1: Extracting operationIds from swagger.json...\n");
    text.push_str(&format!("Swagger URL: {}\n", args.spec.swagger));
    text.push_str(&format!("Output file: {}\n", args.output_file.display()));
    text.push_str("Downloading swagger specification...\n");
    let listing = super::ops::render(&catalogue, false);
    text.push_str(&format!(
        "Extracted {} operationIds to {}\n\n",
        listing.lines().count(),
        args.output_file.display()
    ));
    text.push_str(&discovery_log);
    let comparison = compare(
        ci_doc,
        &catalogue,
        &ineligible,
        &pending,
        &pull,
        &pull_doc.name,
        &mut text,
    )?;
    // Written once both runs are read: a bad baseline leaves no file behind.
    apicov_report::report::write_atomic(&args.output_file, listing.as_bytes())?;
    let generated = format!(
        "- {} (swagger operations list)\n",
        args.output_file.display()
    );
    let report = render(
        args.baseline.format,
        &comparison,
        &text,
        &pull_doc.name,
        &generated,
    );
    apicov_report::report::write_stdout(report.as_bytes())?;
    Ok(verdict(&args.baseline, &comparison.diff))
}

/// Where the baseline is: `--ci-audit-endpoints`, or the newest finished run
/// of the CI job in GCS (its discovery lines are appended to `log`).
pub fn baseline_location(
    baseline: &BaselineArgs,
    fetcher: &Fetcher,
    log: &mut String,
) -> Result<String> {
    if let Some(location) = &baseline.ci_audit_endpoints {
        return Ok(location.clone());
    }
    #[cfg(not(feature = "remote"))]
    {
        let _ = (fetcher, log);
        Err(Error::Unreachable {
            source_name: format!("gs://{}/logs/{}", baseline.gcs_bucket, baseline.ci_job),
            message: "this apicov was built without the `remote` feature: pass \
                      --ci-audit-endpoints"
                .into(),
        })
    }
    #[cfg(feature = "remote")]
    discover_baseline(baseline, fetcher, log)
}

/// The newest finished run of the CI job in GCS.
#[cfg(feature = "remote")]
fn discover_baseline(
    baseline: &BaselineArgs,
    fetcher: &Fetcher,
    log: &mut String,
) -> Result<String> {
    let bucket = Bucket {
        endpoint: baseline.gcs_endpoint.clone(),
        bucket: baseline.gcs_bucket.clone(),
        job: baseline.ci_job.clone(),
    };
    if fetcher.offline() {
        return Err(Error::Unreachable {
            source_name: bucket.location(),
            message: "--offline: the CI baseline cannot be discovered".into(),
        });
    }
    log.push_str("No CI audit endpoints file specified, auto-discovering latest from GCS...\n");
    let found = bucket.latest_finished(&mut |line| {
        log.push_str(line);
        log.push('\n');
    })?;
    log.push('\n');
    Ok(found.endpoints_url)
}

/// Compares `pull` with the baseline `ci_doc`. The reference's Step 2 lines
/// are appended to `log`.
pub fn compare(
    ci_doc: Document,
    catalogue: &Catalogue,
    ineligible: &EndpointList,
    pending: &EndpointList,
    pull: &RunOperations,
    pull_name: &str,
    log: &mut String,
) -> Result<Comparison> {
    let ci = RunOperations::parse(ci_doc.bytes()?, catalogue).map_err(|message| Error::Source {
        source_name: ci_doc.name.clone(),
        message,
    })?;
    log.push_str("Step 2: Comparing audit endpoint files...\n");
    log.push_str(&format!(
        "CI File: {}\nPull File: {pull_name}\n\n",
        ci_doc.name
    ));
    log.push_str("Extracting operations from audit files (filtering by swagger operations)...\n");
    Ok(Comparison {
        diff: Diff::new(catalogue, ineligible, pending, &ci, pull),
        ci_source: ci_doc.name,
    })
}

/// A comparison and where its baseline came from.
pub struct Comparison {
    pub diff: Diff,
    pub ci_source: String,
}

/// The report in the requested format; `log` holds the text preamble, and
/// `generated` the files written, as the reference lists them.
pub fn render(
    format: Format,
    comparison: &Comparison,
    log: &str,
    pull_name: &str,
    generated: &str,
) -> String {
    let diff = &comparison.diff;
    match format {
        Format::Text => format!(
            "{log}{}Analysis complete!\nGenerated files:\n{generated}",
            diff.render_text()
        ),
        Format::Markdown => diff.render_markdown(),
        Format::Json => {
            let mut s =
                serde_json::to_string_pretty(&diff.to_json(&comparison.ci_source, pull_name))
                    .expect("Value serialises");
            s.push('\n');
            s
        }
    }
}

/// Exit status for `--fail-on`.
pub fn verdict(baseline: &BaselineArgs, diff: &Diff) -> i32 {
    let tripped = baseline.fail_on.iter().any(|f| match f {
        FailOn::Removed => !diff.removed.is_empty(),
        FailOn::StableMissing => !diff.stable_not_found.is_empty(),
    });
    if tripped {
        super::EXIT_GATE
    } else {
        super::EXIT_OK
    }
}
