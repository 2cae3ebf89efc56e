//! `apicov merge REPORT.json... -o merged.json`: combines runs parsed apart
//! into exactly what one parse over all their inputs would give, and writes
//! every output `parse` can write.
//!
//! Parts of one log, split anywhere: parse each with `--continue-from` the
//! report of the part before it, so requests in flight across a split are
//! counted once; merge checks that chain. Separate runs (other clusters,
//! other CI runs) share no requests: `--independent`.
//!
//! The tracking lists default to the ones the reports record (their
//! classification), so merging needs no list download; the spec is still
//! needed to read the reports' operations.

use std::path::PathBuf;

use clap::Args;
use serde_json::Value;

use crate::args::OutputArgs;
use crate::args::SpecArgs;
use crate::outputs::write_outputs;
use crate::source::{fetch_all, Wanted};
use apicov_core::error::{Error, Result};
use apicov_core::input::Compression;
use apicov_core::lists::EndpointList;
use apicov_core::pipeline::InputInfo;
use apicov_core::routes::WatchCredit;
use apicov_core::spec::Catalogue;
use apicov_report::report::endpoints::SortOrder;
use apicov_report::report::Caveats;
use apicov_report::report::Run;

#[derive(Debug, Args)]
pub struct MergeArgs {
    /// Report JSONs written by `apicov parse --report-json`, in input order.
    #[arg(required = true, value_name = "REPORT.json")]
    pub reports: Vec<PathBuf>,

    /// The merged report JSON.
    #[arg(short, long, value_name = "FILE")]
    pub output: PathBuf,

    /// Also write audit-endpoints.txt.
    #[arg(long, value_name = "FILE")]
    pub endpoints: Option<PathBuf>,

    /// Also write audit-operations.json.
    #[arg(long, value_name = "FILE")]
    pub audit_operations_json: Option<PathBuf>,

    /// Order of the endpoint lines.
    #[arg(long, value_enum, default_value_t = SortOrder::Name)]
    pub sort: SortOrder,

    /// The reports are separate runs (no request spans two of them).
    #[arg(long)]
    pub independent: bool,

    /// Combine reports parsed against different specs (refused otherwise);
    /// every output then says so.
    #[arg(long)]
    pub allow_spec_mix: bool,

    #[command(flatten)]
    pub spec: SpecArgs,

    /// Ineligible endpoints YAML (path or URL) [default: the list the
    /// reports were parsed with, as they record it].
    #[arg(
        long,
        visible_alias = "ineligible-endpoints-url",
        value_name = "PATH|URL"
    )]
    pub ineligible_endpoints: Option<String>,

    /// Pending eligible endpoints YAML (path or URL) [default: the list the
    /// reports were parsed with, as they record it].
    #[arg(
        long,
        visible_alias = "pending-eligible-endpoints-url",
        value_name = "PATH|URL"
    )]
    pub pending_eligible_endpoints: Option<String>,
}

/// Reports read and chained into one tally.
pub struct Merged {
    pub tally: apicov_core::aggregate::Tally,
    pub inputs: Vec<InputInfo>,
    pub watch_credit: WatchCredit,
    pub by_test: bool,
    pub caveats: Caveats,
}

/// How [`merge_reports`] combines reports.
#[derive(Debug, Clone, Copy, Default)]
pub struct MergeRules {
    /// Separate runs: no request spans two reports.
    pub independent: bool,
    /// Reports parsed against another spec than the catalogue's are combined
    /// (and the result says so) instead of refused.
    pub allow_spec_mix: bool,
}

/// A report JSON read from disk, with its name for messages.
pub struct Report {
    pub name: String,
    pub json: Value,
    /// The file's canonical path and a hash of its bytes: the same report
    /// named twice is refused.
    canonical: Option<PathBuf>,
    content: u64,
}

/// Reads and checks the report JSONs, before anything is fetched.
pub fn read_reports(reports: &[PathBuf]) -> Result<Vec<Report>> {
    reports
        .iter()
        .map(|path| {
            let name = path.display().to_string();
            let err = |message: String| Error::Source {
                source_name: name.clone(),
                message,
            };
            let bytes = std::fs::read(path).map_err(|e| err(e.to_string()))?;
            let json: Value =
                serde_json::from_slice(&bytes).map_err(|e| err(format!("not JSON: {e}")))?;
            if json.get("tally").is_none() {
                return Err(err("no tally section: not an apicov report".into()));
            }
            Ok(Report {
                name,
                json,
                canonical: std::fs::canonicalize(path).ok(),
                content: content_hash(&bytes),
            })
        })
        .collect()
}

/// Reads `reports` in order and appends their tallies. Reports of different
/// meaning are refused ([`Error::Mixed`]): `--conformance-only` with full
/// ones, another spec than `catalogue` (unless `rules.allow_spec_mix`), and
/// the same report twice.
pub fn merge_reports(
    reports: &[PathBuf],
    catalogue: &Catalogue,
    rules: MergeRules,
) -> Result<Merged> {
    merge_read(&read_reports(reports)?, catalogue, rules)
}

/// The tracking list (`ineligible` or `pending`) the reports were parsed
/// with, as their classification records it; every report must agree.
fn recorded_list(reports: &[Report], which: &str, flag: &str) -> Result<EndpointList> {
    let mut first: Option<(String, std::collections::BTreeSet<String>)> = None;
    for report in reports {
        let names: std::collections::BTreeSet<String> = report.json["classification"]
            .as_object()
            .map(|ops| {
                ops.iter()
                    .filter(|(_, c)| c[which] == true)
                    .map(|(op, _)| op.clone())
                    .collect()
            })
            .unwrap_or_default();
        let source = report.json["filters"][which]["source"]
            .as_str()
            .unwrap_or("?")
            .to_string();
        match &first {
            None => first = Some((source, names)),
            Some((_, first_names)) if *first_names != names => {
                return Err(Error::Source {
                    source_name: report.name.clone(),
                    message: format!(
                    "parsed with another {which} list than {}; name the list to apply with {flag}",
                    reports[0].name
                ),
                })
            }
            Some(_) => {}
        }
    }
    let (source, names) = first.unwrap_or_default();
    Ok(EndpointList::from_names(source, names))
}

/// Appends the tallies of reports already read.
fn merge_read(reports: &[Report], catalogue: &Catalogue, rules: MergeRules) -> Result<Merged> {
    let mut merged: Option<Merged> = None;
    let mut previous_digest = String::new();
    let mut previous_position: Option<u64> = None;
    let mut previous_name = String::new();
    let spec_digest = catalogue.digest();
    for (index, this) in reports.iter().enumerate() {
        let Report {
            name, json: report, ..
        } = this;
        let name = name.clone();
        let err = |message: String| Error::Source {
            source_name: name.clone(),
            message,
        };
        let mixed = |message: String| Error::Mixed {
            source_name: name.clone(),
            message,
        };
        for other in &reports[..index] {
            if this.canonical.is_some() && other.canonical == this.canonical {
                return Err(mixed(format!(
                    "named twice (also as {}): its counts would be added twice",
                    other.name
                )));
            }
            if !rules.independent && other.content == this.content {
                return Err(mixed(format!(
                    "the same report as {}: a part does not follow itself, and its counts \
                     would be added twice",
                    other.name
                )));
            }
        }
        let section = report
            .get("tally")
            .ok_or_else(|| err("no tally section: not an apicov report".into()))?;
        let meaning = apicov_report::merge::ReportMeaning::of(report);
        let mut spec_mix = meaning.spec_mix;
        if let Some(digest) = &meaning.spec_digest {
            if *digest != spec_digest {
                if !rules.allow_spec_mix {
                    return Err(mixed(format!(
                        "parsed against another spec (digest {digest}) than --swagger \
                         (digest {spec_digest}): merge with the spec it was parsed with, or \
                         pass --allow-spec-mix to combine anyway (every output then says so)"
                    )));
                }
                spec_mix = true;
            }
        }
        let loaded = apicov_report::merge::from_json(section, catalogue).map_err(err)?;
        let watch_credit = match report.get("watch_credit").and_then(Value::as_str) {
            Some("list") => WatchCredit::List,
            _ => WatchCredit::Deprecated,
        };
        let inputs: Vec<InputInfo> = report
            .get("inputs")
            .and_then(Value::as_array)
            .ok_or_else(|| err("no inputs".into()))?
            .iter()
            .map(|i| InputInfo {
                name: i
                    .get("path")
                    .and_then(Value::as_str)
                    .unwrap_or("?")
                    .to_string(),
                compression: compression_of(i),
                disk_bytes: None,
            })
            .collect();
        let by_test = report.get("attribution").is_some();
        // A part parsed with --continue-from goes right after the part it
        // continues: in another order the counts may still add up (when no
        // request straddles a split) but the samples and positions would
        // not be the whole log's.
        if !rules.independent && loaded.seeded_from.is_some() {
            let position = loaded.chain_position;
            let follows = index > 0
                && loaded.seeded_from.as_deref() == Some(previous_digest.as_str())
                && match (position, previous_position) {
                    (Some(p), Some(q)) => p == q + 1,
                    _ => true,
                };
            if !follows {
                let place = position.map_or(String::new(), |p| format!(" {}", p + 1));
                return Err(err(if index == 0 {
                    format!(
                        "part{place} of a --continue-from chain comes first: give the parts \
                         in chain order (or pass --independent for separate runs)"
                    )
                } else {
                    format!(
                        "part{place} of a --continue-from chain does not continue \
                         {previous_name}: give the parts in chain order (or pass \
                         --independent for separate runs)"
                    )
                }));
            }
        }
        match &mut merged {
            None => {
                merged = Some(Merged {
                    tally: loaded.tally,
                    inputs,
                    watch_credit,
                    by_test,
                    caveats: Caveats {
                        conformance_only: meaning.conformance_only,
                        spec_mix,
                    },
                });
            }
            Some(m) => {
                if m.watch_credit != watch_credit {
                    return Err(mixed(format!(
                        "parsed with another --watch-credit than {previous_name}"
                    )));
                }
                if m.caveats.conformance_only != meaning.conformance_only {
                    return Err(mixed(format!(
                        "parsed {} --conformance-only, {previous_name} {}: conformance-only \
                         counts and full counts do not add up",
                        if meaning.conformance_only {
                            "with"
                        } else {
                            "without"
                        },
                        if meaning.conformance_only {
                            "without it"
                        } else {
                            "with it"
                        },
                    )));
                }
                m.caveats.spec_mix |= spec_mix;
                let open_before = m.tally.open_requests().count();
                if !rules.independent
                    && open_before > 0
                    && loaded.seeded_from.as_deref() != Some(previous_digest.as_str())
                {
                    return Err(err(format!(
                        "{previous_name} left {open_before} request(s) open, and this part was not parsed with \
                         --continue-from {previous_name}: their later stages would count twice \
                         (re-parse it so, or pass --independent for separate runs)"
                    )));
                }
                m.tally.append(loaded.tally);
                m.inputs.extend(inputs);
                m.by_test |= by_test;
            }
        }
        previous_digest = loaded.open_digest;
        previous_position = loaded.chain_position;
        previous_name = name;
    }
    merged.ok_or_else(|| Error::Usage("no report to merge".into()))
}

pub fn run(args: &MergeArgs) -> Result<i32> {
    // The reports first: a bad one is found before anything is fetched. The
    // tracking lists default to those the reports were parsed with, so a
    // merge needs no network beyond the spec.
    let mut inputs: Vec<&std::path::Path> = args.reports.iter().map(|p| p.as_path()).collect();
    inputs.extend(
        [
            Some(args.spec.swagger.as_str()),
            args.ineligible_endpoints.as_deref(),
            args.pending_eligible_endpoints.as_deref(),
        ]
        .into_iter()
        .flatten()
        .filter(|s| !s.contains("://"))
        .map(std::path::Path::new),
    );
    let outputs: Vec<&std::path::Path> = [
        Some(args.output.as_path()),
        args.endpoints.as_deref(),
        args.audit_operations_json.as_deref(),
    ]
    .into_iter()
    .flatten()
    .collect();
    crate::outputs::check_paths(&[], &inputs, &outputs)?;
    let reports = read_reports(&args.reports)?;
    let fetcher = args.spec.fetch.fetcher();
    let mut wanted = vec![args.spec.wanted()];
    let given = [
        ("--ineligible-endpoints", &args.ineligible_endpoints),
        (
            "--pending-eligible-endpoints",
            &args.pending_eligible_endpoints,
        ),
    ];
    for (flag, location) in &given {
        if let Some(location) = location {
            wanted.push(Wanted { flag, location });
        }
    }
    let mut docs = fetch_all(&fetcher, &wanted, Vec::new())?.into_iter();
    let spec_doc = docs
        .next()
        .ok_or_else(|| Error::Usage("internal: no spec document".into()))?;
    let mut list = |(flag, location): &(&str, &Option<String>), which: &str| match location
        .as_ref()
        .and_then(|_| docs.next())
    {
        Some(doc) => EndpointList::parse(doc.bytes()?, &doc.name),
        None => recorded_list(&reports, which, flag),
    };
    let ineligible = list(&given[0], "ineligible")?;
    let pending = list(&given[1], "pending")?;
    let catalogue = crate::catalogue_cache::load(&fetcher, &spec_doc)?;
    let rules = MergeRules {
        independent: args.independent,
        allow_spec_mix: args.allow_spec_mix,
    };
    let merged = merge_read(&reports, &catalogue, rules)?;
    if merged.inputs.len() >= 1 << 16 {
        return Err(Error::Usage("more than 65,535 inputs in one merge".into()));
    }
    let operations_json = args.audit_operations_json.clone();
    let out = OutputArgs {
        output: args.endpoints.clone(),
        audit_operations_json: operations_json.clone().unwrap_or_default(),
        sort: args.sort,
        report_json: Some(args.output.clone()),
        html: None,
        junit: None,
        not_found_in_output: false,
        gate_lines: crate::args::GateLines::First,
    };
    let run = Run {
        catalogue: &catalogue,
        spec_source: &spec_doc.name,
        tally: &merged.tally,
        inputs: &merged.inputs,
        ineligible: &ineligible,
        pending: &pending,
        watch_credit: merged.watch_credit,
        by_test: merged.by_test,
        seeded_from: None,
        chain_position: 0,
        caveats: merged.caveats,
    };
    let pool = crate::outputs::thread_pool(0)?;
    write_outputs(&run, &out, &pool, operations_json.is_some())?;
    Ok(super::EXIT_OK)
}

/// Tells the same bytes apart (reports named twice under other names).
fn content_hash(bytes: &[u8]) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    bytes.hash(&mut hasher);
    hasher.finish()
}

/// An input's compression as a report names it (`"gzip": true` in reports
/// written before zstd was read).
fn compression_of(input: &Value) -> Compression {
    match input.get("compression").and_then(Value::as_str) {
        Some("gzip") => Compression::Gzip,
        Some("zstd") => Compression::Zstd,
        _ if input.get("gzip").and_then(Value::as_bool) == Some(true) => Compression::Gzip,
        _ => Compression::None,
    }
}
