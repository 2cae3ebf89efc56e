//! Mergeable results: a run's [`Tally`] as JSON (the `tally` section of the
//! report JSON) and back, so that runs parsed apart (one Kubernetes Job per CI
//! run, a Spark `pipe` stage, …) combine into exactly what one parse over all
//! their inputs gives; and the merge itself ([`merge_reports`]): report JSONs
//! read, checked to mean the same thing and to follow one another, and their
//! tallies appended in order.
//!
//! Parts of one log, split anywhere, are parsed each with `--continue-from`
//! the report of the part before it, so requests in flight across a split
//! are counted once; the merge checks that chain. Separate runs (other
//! clusters, other CI runs) share no requests ([`MergeRules::independent`]).
//!
//! Positions are written as `[input, offset]` pairs (input numbers are the
//! report's own), request IDs as 32 hex digits.

use std::path::PathBuf;

use serde_json::{json, Map, Value};

use crate::caveats::Caveats;
use apicov_core::error::{Error, Result};
use apicov_core::input::Compression;
use apicov_core::lists::EndpointList;
use apicov_core::pipeline::InputInfo;
use apicov_core::routing::WatchCredit;

use apicov_core::aggregate::{
    position, position_input, Hits, InputTotals, Malformed, Sample, Tally, UnmatchedKey,
};
use apicov_core::attribution::Actor;
use apicov_core::spec::Catalogue;

/// Format of the `tally` section; bumped on incompatible changes.
pub const TALLY_FORMAT: u64 = 1;

fn pos_json(pos: u64) -> Value {
    json!([position_input(pos), pos & ((1u64 << 48) - 1)])
}

fn pos_from(v: &Value) -> Option<u64> {
    let pair = v.as_array()?;
    Some(position(
        pair.first()?.as_u64()? as usize,
        pair.get(1)?.as_u64()?,
    ))
}

fn hits_json(h: &Hits) -> Value {
    json!({"by_stage": h.by_stage, "first": pos_json(h.first)})
}

fn hits_from(v: &Value) -> Option<Hits> {
    let stages = v.get("by_stage")?.as_array()?;
    let mut by_stage = [0u64; 4];
    for (slot, n) in by_stage.iter_mut().zip(stages) {
        *slot = n.as_u64()?;
    }
    Some(Hits {
        by_stage,
        first: pos_from(v.get("first")?)?,
    })
}

/// Digest of a set of open request IDs: lets `merge` check that a part was
/// parsed with `--continue-from` the part before it.
pub fn open_digest(ids: impl IntoIterator<Item = u128>) -> String {
    let mut sorted: Vec<u128> = ids.into_iter().collect();
    sorted.sort_unstable();
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for id in sorted {
        for b in id.to_be_bytes() {
            hash ^= u64::from(b);
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
    }
    format!("{hash:016x}")
}

/// The tally as JSON. `seeded` is the digest of the open requests the parse
/// started from (`--continue-from`), if any; `chain_position` the parse's
/// place in that chain (so `merge` can refuse parts out of order).
pub fn to_json(
    tally: &Tally,
    catalogue: &Catalogue,
    seeded: Option<&str>,
    chain_position: u64,
) -> Value {
    let mut ops = Map::new();
    let mut samples = Map::new();
    for id in catalogue.sorted_ids() {
        let hits = &tally.ops[id.index()];
        if hits.total() == 0 {
            continue;
        }
        let name = catalogue.get(id).id.clone();
        ops.insert(name.clone(), hits_json(hits));
        let lines: Vec<Value> = tally.samples[id.index()]
            .iter()
            .map(|s| json!({"at": pos_json(s.pos), "line": String::from_utf8_lossy(&s.line)}))
            .collect();
        samples.insert(name, Value::Array(lines));
    }
    let mut unmatched: Vec<_> = tally.unmatched().collect();
    unmatched.sort_by(|a, b| a.0.cmp(b.0));
    let unmatched: Vec<Value> = unmatched
        .into_iter()
        .map(|(k, h)| json!({"verb": k.verb, "pattern": k.pattern, "hits": hits_json(h)}))
        .collect();
    let mut attributed: Vec<(&Actor, &str, u64)> = tally
        .attributed()
        .map(|((a, op), n)| {
            (
                &tally.actors.actors[*a as usize],
                catalogue.get(*op).id.as_str(),
                *n,
            )
        })
        .collect();
    attributed.sort();
    let attributed: Vec<Value> = attributed
        .into_iter()
        .map(|(actor, op, n)| {
            let (kind, name) = match actor {
                Actor::Test(n) => ("test", n),
                Actor::Client(n) => ("client", n),
            };
            json!({kind: name, "operation": op, "requests": n})
        })
        .collect();
    let mut open: Vec<u128> = tally.open_requests().collect();
    open.sort_unstable();
    json!({
        "format": TALLY_FORMAT,
        "inputs": tally.inputs.iter().map(|i| json!({"lines": i.lines, "bytes": i.bytes})).collect::<Vec<_>>(),
        "blank_lines": tally.blank_lines,
        "malformed_lines": tally.malformed_lines,
        "malformed_examples": tally.malformed_examples.iter()
            .map(|m| json!({"input": m.input, "line": m.line, "reason": m.reason})).collect::<Vec<_>>(),
        "events_by_stage": tally.events_by_stage,
        "operations": ops,
        "samples": samples,
        "unmatched": unmatched,
        "attributed": attributed,
        "open_at_end": open.iter().map(|id| format!("{id:032x}")).collect::<Vec<_>>(),
        "open_digest": open_digest(open.iter().copied()),
        "seeded_from": seeded,
        "chain_position": chain_position,
    })
}

/// What a report's tally section holds besides the tally itself.
pub struct Loaded {
    /// The tally, with samples and open requests.
    pub tally: Tally,
    /// Digest of the open requests the parse was seeded with.
    pub seeded_from: Option<String>,
    /// Digest of the requests left open at the end (for `--continue-from`).
    pub open_digest: String,
    /// The part's place in its `--continue-from` chain (None in reports
    /// written before it was recorded).
    pub chain_position: Option<u64>,
}

/// Reads a `tally` section back. Operations are looked up by name in
/// `catalogue`; an unknown one is an error (the report came from another spec).
pub fn from_json(v: &Value, catalogue: &Catalogue) -> Result<Loaded, String> {
    let bad = |what: &str| format!("report JSON: bad or missing tally.{what}");
    if v.get("format").and_then(Value::as_u64) != Some(TALLY_FORMAT) {
        return Err(format!("report JSON: no tally section of format {TALLY_FORMAT} (written by another apicov version?)"));
    }
    let mut tally = Tally::new(catalogue.len());
    for i in v
        .get("inputs")
        .and_then(Value::as_array)
        .ok_or_else(|| bad("inputs"))?
    {
        tally.inputs.push(InputTotals {
            lines: i
                .get("lines")
                .and_then(Value::as_u64)
                .ok_or_else(|| bad("inputs"))?,
            bytes: i
                .get("bytes")
                .and_then(Value::as_u64)
                .ok_or_else(|| bad("inputs"))?,
        });
    }
    tally.blank_lines = v
        .get("blank_lines")
        .and_then(Value::as_u64)
        .ok_or_else(|| bad("blank_lines"))?;
    tally.malformed_lines = v
        .get("malformed_lines")
        .and_then(Value::as_u64)
        .ok_or_else(|| bad("malformed_lines"))?;
    for m in v
        .get("malformed_examples")
        .and_then(Value::as_array)
        .ok_or_else(|| bad("malformed_examples"))?
    {
        tally.malformed_examples.push(Malformed {
            input: m
                .get("input")
                .and_then(Value::as_u64)
                .ok_or_else(|| bad("malformed_examples"))? as usize,
            line: m
                .get("line")
                .and_then(Value::as_u64)
                .ok_or_else(|| bad("malformed_examples"))?,
            reason: m
                .get("reason")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string(),
        });
    }
    let stages = v
        .get("events_by_stage")
        .and_then(Value::as_array)
        .ok_or_else(|| bad("events_by_stage"))?;
    for (slot, n) in tally.events_by_stage.iter_mut().zip(stages) {
        *slot = n.as_u64().ok_or_else(|| bad("events_by_stage"))?;
    }
    let lookup = |name: &str| {
        catalogue
            .lookup(name)
            .ok_or_else(|| format!("report JSON: operation {name} is not in the spec (use the spec the run was parsed with)"))
    };
    for (name, h) in v
        .get("operations")
        .and_then(Value::as_object)
        .ok_or_else(|| bad("operations"))?
    {
        tally.ops[lookup(name)?.index()] = hits_from(h).ok_or_else(|| bad("operations"))?;
    }
    for (name, list) in v
        .get("samples")
        .and_then(Value::as_object)
        .ok_or_else(|| bad("samples"))?
    {
        let op = lookup(name)?;
        for s in list.as_array().ok_or_else(|| bad("samples"))? {
            tally.samples[op.index()].push(Sample {
                pos: s
                    .get("at")
                    .and_then(pos_from)
                    .ok_or_else(|| bad("samples"))?,
                line: s
                    .get("line")
                    .and_then(Value::as_str)
                    .ok_or_else(|| bad("samples"))?
                    .as_bytes()
                    .into(),
                printed: None,
            });
        }
    }
    for u in v
        .get("unmatched")
        .and_then(Value::as_array)
        .ok_or_else(|| bad("unmatched"))?
    {
        let key = UnmatchedKey {
            verb: u
                .get("verb")
                .and_then(Value::as_str)
                .ok_or_else(|| bad("unmatched"))?
                .to_string(),
            pattern: u
                .get("pattern")
                .and_then(Value::as_str)
                .ok_or_else(|| bad("unmatched"))?
                .to_string(),
        };
        tally.insert_unmatched(
            key,
            u.get("hits")
                .and_then(hits_from)
                .ok_or_else(|| bad("unmatched"))?,
        );
    }
    for a in v
        .get("attributed")
        .and_then(Value::as_array)
        .ok_or_else(|| bad("attributed"))?
    {
        let actor = match (
            a.get("test").and_then(Value::as_str),
            a.get("client").and_then(Value::as_str),
        ) {
            (Some(t), _) => Actor::Test(t.to_string()),
            (_, Some(c)) => Actor::Client(c.to_string()),
            _ => return Err(bad("attributed")),
        };
        let op = lookup(
            a.get("operation")
                .and_then(Value::as_str)
                .ok_or_else(|| bad("attributed"))?,
        )?;
        let n = a
            .get("requests")
            .and_then(Value::as_u64)
            .ok_or_else(|| bad("attributed"))?;
        let actor = tally.actors.intern_actor(&actor);
        tally.add_attributed(actor, op, n);
    }
    let mut open = Vec::new();
    for id in v
        .get("open_at_end")
        .and_then(Value::as_array)
        .ok_or_else(|| bad("open_at_end"))?
    {
        let hex = id.as_str().ok_or_else(|| bad("open_at_end"))?;
        open.push(u128::from_str_radix(hex, 16).map_err(|_| bad("open_at_end"))?);
    }
    tally.seed_open(open);
    Ok(Loaded {
        chain_position: v.get("chain_position").and_then(Value::as_u64),
        tally,
        seeded_from: v
            .get("seeded_from")
            .and_then(Value::as_str)
            .map(str::to_string),
        open_digest: v
            .get("open_digest")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string(),
    })
}

/// What a report's counts mean beyond its tally: which spec they were
/// matched against and whether only conformance tests were counted. Results
/// of different meaning are not combined silently.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportMeaning {
    /// `spec.digest` (reports written before it existed have none).
    pub spec_digest: Option<String>,
    /// Only requests of `[Conformance]` specs were counted.
    pub conformance_only: bool,
    /// The report is itself a combination across specs (`--allow-spec-mix`).
    pub spec_mix: bool,
}

impl ReportMeaning {
    /// Reads the meaning of a report JSON.
    pub fn of(report: &Value) -> ReportMeaning {
        ReportMeaning {
            spec_digest: report
                .pointer("/spec/digest")
                .and_then(Value::as_str)
                .map(str::to_string),
            conformance_only: flag(report, "conformance_only"),
            spec_mix: flag(report, "spec_mix"),
        }
    }
}

/// A boolean member of a report; absent (older reports) is false.
fn flag(report: &Value, key: &str) -> bool {
    report.get(key).and_then(Value::as_bool).unwrap_or(false)
}

/// Reports read and chained into one tally.
pub struct Merged {
    /// The reports' tallies, appended in order.
    pub tally: Tally,
    /// Every report's inputs, in order.
    pub inputs: Vec<InputInfo>,
    /// The watch credit the reports were parsed with (one for all).
    pub watch_credit: WatchCredit,
    /// Some report holds the per-test attribution.
    pub by_test: bool,
    /// What holds for the merged figures.
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
    /// The path, as named.
    pub name: String,
    /// The parsed report.
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
pub fn recorded_list(reports: &[Report], which: &str, flag: &str) -> Result<EndpointList> {
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
pub fn merge_read(reports: &[Report], catalogue: &Catalogue, rules: MergeRules) -> Result<Merged> {
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
        let meaning = ReportMeaning::of(report);
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
        let loaded = from_json(section, catalogue).map_err(err)?;
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
