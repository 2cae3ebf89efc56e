//! `--html`: one self-contained page (no CDN, no network) for reviewers:
//! coverage of stable operations per API group/version as stacked bars
//! (inline SVG), a sortable, filterable table of every operation with its
//! count and the tests that hit it (gaps first), the tests by operations
//! hit, the unmatched patterns, the run's totals and what the page was made
//! from (spec and version, inputs, lists, watch rule, mode, time). Rows and chart are rendered here, so the page reads without
//! JavaScript; a small script adds sorting and filtering.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use super::escape_markup as esc;
use super::{Body, Render, Run};
use apicov_core::aggregate::Tally;
use apicov_core::attribution::Actor;
use apicov_core::coverage::{filter_of, Coverage, Filtered};
use apicov_core::lists::EndpointList;
use apicov_core::pipeline::InputInfo;
use apicov_core::routing::WatchCredit;
use apicov_core::spec::{Catalogue, OpId};

/// An operation's standing, as the page shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Status {
    Hit,
    NotFound,
    Ineligible,
    Pending,
    Deprecated,
    /// Stable but HEAD/OPTIONS: no audit log can show it, so never counted.
    Unobservable,
    /// Alpha/beta: not part of conformance.
    Other,
}

impl Status {
    const CHART: [Status; 5] = [
        Status::Hit,
        Status::NotFound,
        Status::Ineligible,
        Status::Pending,
        Status::Deprecated,
    ];

    fn label(self) -> &'static str {
        match self {
            Status::Hit => "hit",
            Status::NotFound => "not found",
            Status::Ineligible => "ineligible",
            Status::Pending => "pending",
            Status::Deprecated => "deprecated",
            Status::Unobservable => "stable, unobservable",
            Status::Other => "not stable",
        }
    }

    /// The row's `data-status` and the filter option's value.
    fn key(self) -> &'static str {
        match self {
            Status::Unobservable => "unobservable",
            _ => self.label(),
        }
    }

    fn color(self) -> &'static str {
        match self {
            Status::Hit => "#2e7d32",
            Status::NotFound => "#c62828",
            Status::Ineligible => "#9e9e9e",
            Status::Pending => "#f9a825",
            Status::Deprecated => "#6d4c41",
            Status::Unobservable | Status::Other => "#90a4ae",
        }
    }
}

/// What the page shows: one run, its coverage and when it was made.
struct Page<'a> {
    catalogue: &'a Catalogue,
    tally: &'a Tally,
    coverage: &'a Coverage,
    ineligible: &'a EndpointList,
    pending: &'a EndpointList,
    title: &'a str,
    spec_source: &'a str,
    inputs: &'a [InputInfo],
    watch_credit: WatchCredit,
    conformance_only: bool,
    /// `YYYY-MM-DDTHH:MM:SSZ`.
    generated: &'a str,
}

/// The HTML page (`--html`), stamped with its generation time.
#[derive(Debug, Clone, Default)]
pub struct Html {
    /// The time the page says it was made ([`generation_time`]).
    pub generated: String,
}

impl Render for Html {
    fn render<'a>(&'a self, run: &Run<'a>, coverage: &'a Coverage) -> Body<'a> {
        render(run, coverage, &self.generated).into_bytes().into()
    }
}

/// The time to print as the page's generation time: `SOURCE_DATE_EPOCH` when
/// set (reproducible builds), else now.
pub fn generation_time() -> String {
    let secs = std::env::var("SOURCE_DATE_EPOCH")
        .ok()
        .and_then(|v| v.parse::<i64>().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs() as i64)
        });
    crate::dates::utc(secs).1
}

fn status_of(ctx: &Page, op: OpId) -> Status {
    let o = ctx.catalogue.get(op);
    if !o.stable {
        return Status::Other;
    }
    if !o.observable {
        return Status::Unobservable;
    }
    match filter_of(ctx.catalogue, op, ctx.ineligible, ctx.pending) {
        Some(Filtered::Ineligible) => Status::Ineligible,
        Some(Filtered::Pending) => Status::Pending,
        Some(Filtered::Deprecated) => Status::Deprecated,
        None if ctx.tally.ops[op.index()].total() > 0 => Status::Hit,
        None => Status::NotFound,
    }
}

/// Row order of the operations table: the gaps first.
fn row_rank(status: Status) -> u8 {
    match status {
        Status::NotFound => 0,
        Status::Pending => 1,
        Status::Hit => 2,
        Status::Ineligible => 3,
        Status::Deprecated => 4,
        Status::Unobservable => 5,
        Status::Other => 6,
    }
}

fn group_version(ctx: &Page, op: OpId) -> String {
    let o = ctx.catalogue.get(op);
    match (&o.group, &o.version) {
        (Some(g), Some(v)) if g.is_empty() => format!("core/{v}"),
        (Some(g), Some(v)) => format!("{g}/{v}"),
        (Some(g), None) => g.clone(),
        _ => "non-resource".into(),
    }
}

fn percent(part: u64, whole: u64) -> f64 {
    if whole == 0 {
        0.0
    } else {
        100.0 * part as f64 / whole as f64
    }
}

/// `hit/eligible (percent)`; no percentage of nothing.
fn hit_label(hit: u64, eligible: u64) -> String {
    if eligible == 0 {
        format!("{hit}/{eligible}")
    } else {
        format!("{hit}/{eligible} ({:.0}%)", percent(hit, eligible))
    }
}

/// Tests per operation, most requests first.
fn tests_per_operation(t: &Tally) -> BTreeMap<OpId, Vec<(&str, u64)>> {
    let mut tests: BTreeMap<OpId, Vec<(&str, u64)>> = BTreeMap::new();
    for ((actor, op), n) in t.attributed() {
        if let Actor::Test(name) = &t.actors.actors[*actor as usize] {
            tests.entry(*op).or_default().push((name, *n));
        }
    }
    for list in tests.values_mut() {
        list.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    }
    tests
}

/// The HTML page of `run` (`--html`, `serve`'s `/`); `generated`: when,
/// `YYYY-MM-DDTHH:MM:SSZ` (see [`generation_time`]).
pub fn render(run: &Run, coverage: &Coverage, generated: &str) -> String {
    let title = format!(
        "Kubernetes API coverage (apicov){}",
        run.caveats.title_suffix()
    );
    let page = Page {
        catalogue: run.catalogue,
        tally: run.tally,
        coverage,
        ineligible: run.ineligible,
        pending: run.pending,
        title: &title,
        spec_source: run.spec_source,
        inputs: run.inputs,
        watch_credit: run.watch_credit,
        conformance_only: run.caveats.conformance_only,
        generated,
    };
    let ctx = &page;
    let t = ctx.tally;
    let tests = tests_per_operation(t);

    let mut per_gv: BTreeMap<String, [u64; 5]> = BTreeMap::new();
    let mut ordered: Vec<(u8, &str, OpId, Status)> = Vec::new();
    for op in ctx.catalogue.sorted_ids() {
        let status = status_of(ctx, op);
        if let Some(i) = Status::CHART.iter().position(|s| *s == status) {
            per_gv.entry(group_version(ctx, op)).or_default()[i] += 1;
        }
        ordered.push((row_rank(status), &ctx.catalogue.get(op).id, op, status));
    }
    ordered.sort();
    let mut rows = String::new();
    for (_, _, op, status) in ordered {
        let o = ctx.catalogue.get(op);
        let count = t.ops[op.index()].total();
        let op_tests = tests.get(&op).map(Vec::as_slice).unwrap_or(&[]);
        let tests_cell = if op_tests.is_empty() {
            String::new()
        } else {
            let items: String = op_tests
                .iter()
                .map(|(name, n)| format!("<li>{} <span class=n>({n})</span></li>", esc(name)))
                .collect();
            format!(
                "<details><summary>{} test(s)</summary><ul>{items}</ul></details>",
                op_tests.len()
            )
        };
        let _ = writeln!(
            rows,
            "<tr data-status=\"{}\"><td class=op>{}</td><td>{}</td><td>{}</td><td class=path>{}</td>\
             <td><span class=badge style=\"background:{}\">{}</span></td><td class=num>{count}</td><td>{tests_cell}</td></tr>",
            status.key(),
            esc(&o.id),
            esc(&group_version(ctx, op)),
            o.method.as_str(),
            esc(&o.template),
            status.color(),
            status.label(),
        );
    }

    // A group/version with no eligible operation (all ineligible, pending or
    // deprecated) would draw a 0/0 bar: it is named under the chart instead.
    let (drawn, no_eligible): (BTreeMap<_, _>, BTreeMap<_, _>) = per_gv
        .iter()
        .map(|(gv, counts)| (gv.clone(), *counts))
        .partition(|(_, counts)| counts[0] + counts[1] > 0);
    let mut chart = chart(&drawn);
    if !no_eligible.is_empty() {
        let names: Vec<String> = no_eligible.keys().map(|gv| esc(gv)).collect();
        let _ = writeln!(
            chart,
            "<p id=no-eligible>Not drawn, no eligible operation (all ineligible, pending or \
             deprecated): {}</p>",
            names.join(", ")
        );
    }
    let mut unmatched: Vec<_> = t.unmatched().collect();
    unmatched.sort_by(|a, b| b.1.total().cmp(&a.1.total()).then_with(|| a.0.cmp(b.0)));
    let unmatched_rows: String = unmatched
        .iter()
        .map(|(k, h)| {
            format!(
                "<tr><td>{}</td><td class=path>{}</td><td class=num>{}</td></tr>\n",
                esc(&k.verb),
                esc(&k.pattern),
                h.total()
            )
        })
        .collect();
    let sum = |i: usize| per_gv.values().map(|c| c[i]).sum::<u64>();
    let (hit, not_found) = (sum(0), sum(1));
    let (ineligible, pending, deprecated) = (sum(2), sum(3), sum(4));
    let eligible = hit + not_found;
    let cards = [
        (
            format!("{hit} of {eligible} ({:.1}%)", percent(hit, eligible)),
            "eligible stable operations hit".to_string(),
        ),
        (
            not_found.to_string(),
            "eligible stable operations not found".to_string(),
        ),
        (
            (ineligible + pending + deprecated).to_string(),
            format!(
                "stable operations not eligible: {ineligible} ineligible, {pending} pending, {deprecated} deprecated"
            ),
        ),
        (t.requests().to_string(), "requests counted".to_string()),
        (
            t.unmatched_requests().to_string(),
            "requests matching no operation".to_string(),
        ),
        (t.malformed_lines.to_string(), "malformed lines".to_string()),
        (
            crate::report::json::unmeasurable(
                ctx.catalogue,
                ctx.watch_credit.as_str(),
            )
            .len()
            .to_string(),
            "stable operations no audit log can show (HEAD/OPTIONS; /watch/ under --watch-credit list): never counted".to_string(),
        ),
    ];
    let cards: String = cards
        .iter()
        .map(|(v, k)| {
            format!(
                "<div class=stat><div class=v>{}</div><div class=k>{}</div></div>",
                esc(v),
                esc(k)
            )
        })
        .collect();
    let options: String = [
        Status::NotFound,
        Status::Hit,
        Status::Ineligible,
        Status::Pending,
        Status::Deprecated,
        Status::Unobservable,
        Status::Other,
    ]
    .iter()
    .map(|s| format!("<option value=\"{}\">{}</option>", s.key(), s.label()))
    .collect();
    let banner = if ctx.conformance_only {
        "<p class=banner id=mode>Conformance only: counting only requests made by [Conformance] specs (--conformance-only).</p>\n"
    } else {
        ""
    };
    format!(
        r#"<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>{title}</title>
<style>
body{{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#222}}
h1{{font-size:22px}} h2{{font-size:17px;margin-top:28px}}
.banner{{background:#fff3e0;border:1px solid #f9a825;border-radius:6px;padding:6px 10px;font-weight:600}}
table.run{{width:auto}} table.run th{{background:none;cursor:default;position:static;white-space:nowrap;padding-right:16px}}
.stats{{display:flex;flex-wrap:wrap;gap:12px}} .stat{{border:1px solid #ddd;border-radius:6px;padding:8px 12px;min-width:150px;max-width:260px}}
.stat .v{{font-size:20px;font-weight:600}} .stat .k{{color:#666;font-size:12px}}
table{{border-collapse:collapse;width:100%}} th,td{{border-bottom:1px solid #eee;padding:4px 6px;text-align:left;vertical-align:top}}
th{{background:#f5f5f5}} #ops th{{cursor:pointer;position:sticky;top:0}} td.num,th.num{{text-align:right}} td.path{{font-family:monospace;font-size:12px}}
#ops,#tests{{table-layout:fixed}} #ops td,#tests td{{overflow-wrap:anywhere}}
td.op{{font-family:monospace;font-size:12px}} .badge{{color:#fff;border-radius:3px;padding:1px 6px;font-size:12px;white-space:nowrap}}
.controls{{margin:8px 0;display:flex;gap:8px;align-items:center}} input,select{{font:inherit;padding:3px 6px}}
.legend span{{display:inline-block;margin-right:14px}} .legend i{{display:inline-block;width:12px;height:12px;margin-right:4px;vertical-align:-1px}}
ul{{margin:4px 0;padding-left:18px}} .n{{color:#888}} summary{{cursor:pointer}}
</style></head>
<body data-ready="0">
<h1>{title}</h1>
{banner}<table class=run id=run><tbody>
{run_rows}</tbody></table>
<h2>Coverage</h2>
<div class=stats>{cards}</div>
<h2>Stable operations per API group and version</h2>
<p>Bars: every stable, observable operation of the group/version by status; the label is hit / eligible (percent).</p>
<div class=legend>{legend}</div>
{chart}
<h2>Operations</h2>
<div class=controls><input id=filter type=search placeholder="filter by name, group or path" size=40>
<select id=status><option value="">any status</option>{options}</select> <span id=shown></span></div>
<table id=ops><colgroup><col style="width:23%"><col style="width:11%"><col style="width:6%"><col style="width:27%"><col style="width:9%"><col style="width:8%"><col style="width:16%"></colgroup>
<thead><tr><th data-k=s>Operation</th><th data-k=s>Group/version</th><th data-k=s>Method</th><th data-k=s>Path</th><th data-k=s>Status</th><th data-k=n class=num>Requests</th><th data-k=s>Tests</th></tr></thead>
<tbody>
{rows}</tbody></table>
{near_misses}{tests_section}<h2>Requests matching no operation</h2>
<table id=unmatched><thead><tr><th>Verb</th><th>Path pattern</th><th class=num>Requests</th></tr></thead><tbody>
{unmatched_rows}</tbody></table>
<script>
(function(){{
  var tbody=document.querySelector('#ops tbody'), rows=Array.prototype.slice.call(tbody.rows);
  var filter=document.getElementById('filter'), status=document.getElementById('status'), shown=document.getElementById('shown');
  function apply(){{
    var q=filter.value.toLowerCase(), s=status.value, n=0;
    rows.forEach(function(r){{
      var ok=(!s||r.dataset.status===s)&&(!q||r.textContent.toLowerCase().indexOf(q)>=0);
      r.style.display=ok?'':'none'; if(ok)n++;
    }});
    shown.textContent=n+' of '+rows.length+' shown';
  }}
  var dir={{}};
  document.querySelectorAll('#ops th').forEach(function(th,i){{
    th.addEventListener('click',function(){{
      var num=th.dataset.k==='n'; dir[i]=-(dir[i]||-1);
      rows.sort(function(a,b){{
        var x=a.cells[i].textContent, y=b.cells[i].textContent;
        return dir[i]*(num?(+x)-(+y):x.localeCompare(y));
      }});
      rows.forEach(function(r){{tbody.appendChild(r);}});
    }});
  }});
  filter.addEventListener('input',apply); status.addEventListener('change',apply);
  apply(); document.body.dataset.ready='1';
}})();
</script>
</body></html>
"#,
        title = esc(ctx.title),
        run_rows = run_rows(ctx),
        tests_section = tests_section(ctx),
        near_misses = near_misses_section(ctx),
        legend = Status::CHART
            .iter()
            .map(|s| format!(
                "<span><i style=\"background:{}\"></i>{}</span>",
                s.color(),
                s.label()
            ))
            .collect::<String>(),
    )
}

/// The last Kubernetes release a spec's path or URL names, as `v1.N` or
/// `v1.N.P`: `swagger-v1.36.json`, `…/v1.36.0/api/openapi-spec/swagger.json`,
/// `release-1.36`, reference-docs' `v1_36/swagger.json`. The prefix starts a
/// word, so an API version (`/apis/apps/v1/…`) is never one.
fn release_in_name(source: &str) -> Option<String> {
    let bytes = source.as_bytes();
    let digits = |from: usize| {
        bytes[from..]
            .iter()
            .take_while(|b| b.is_ascii_digit())
            .count()
    };
    let mut found = None;
    for start in 0..bytes.len() {
        if start > 0 && bytes[start - 1].is_ascii_alphanumeric() {
            continue;
        }
        let rest = &source[start..];
        let Some(after) = ["v1.", "v1_", "release-1."]
            .iter()
            .find_map(|prefix| rest.strip_prefix(prefix))
        else {
            continue;
        };
        let minor_at = bytes.len() - after.len();
        let minor = digits(minor_at);
        if !(1..=2).contains(&minor) {
            continue;
        }
        let end = minor_at + minor;
        if bytes.get(end).is_some_and(|b| b.is_ascii_alphanumeric()) {
            continue;
        }
        let mut release = format!("v1.{}", &source[minor_at..end]);
        let patch = if bytes.get(end) == Some(&b'.') {
            digits(end + 1)
        } else {
            0
        };
        if patch > 0
            && !bytes
                .get(end + 1 + patch)
                .is_some_and(|b| b.is_ascii_alphanumeric())
        {
            release.push_str(&source[end..end + 1 + patch]);
        }
        found = Some(release);
    }
    found
}

/// What the page shows: spec, inputs, lists, watch rule, mode, time.
fn run_rows(ctx: &Page) -> String {
    // Specs built from a branch (the published ones too) say `"version":
    // "unversioned"`: then the release is the one the spec's name gives.
    let spec = match ctx.catalogue.version() {
        Some(v) if v != "unversioned" => format!(
            "{} (version {v}, {} operations)",
            ctx.spec_source,
            ctx.catalogue.len()
        ),
        _ => match release_in_name(ctx.spec_source) {
            Some(release) => format!(
                "{} (version {release} by its name, {} operations; the spec itself names no \
                 release)",
                ctx.spec_source,
                ctx.catalogue.len()
            ),
            None => format!(
                "{} ({} operations; the spec names no release version)",
                ctx.spec_source,
                ctx.catalogue.len()
            ),
        },
    };
    let inputs: Vec<String> = ctx
        .inputs
        .iter()
        .zip(&ctx.tally.inputs)
        .map(|(info, totals)| {
            let gz = info
                .compression
                .name()
                .map_or(String::new(), |c| format!(", {c}"));
            format!("{} ({} lines{gz})", info.name, totals.lines)
        })
        .collect();
    let lists = format!(
        "ineligible: {} ({} entries); pending eligible: {} ({} entries)",
        ctx.ineligible.source,
        ctx.ineligible.len(),
        ctx.pending.source,
        ctx.pending.len()
    );
    let watch = match ctx.watch_credit {
        WatchCredit::Deprecated => {
            "--watch-credit deprecated: watches credit the deprecated /watch/ operations (as the reference parser)"
        }
        WatchCredit::List => {
            "--watch-credit list: watches credit the list (or read) operation of the resource"
        }
    };
    let mode = if ctx.conformance_only {
        "conformance only: requests made by [Conformance] specs"
    } else {
        "every request"
    };
    let mut out = String::new();
    for (k, v) in [
        ("Spec", esc(&spec)),
        (
            "Inputs",
            inputs
                .iter()
                .map(|i| esc(i))
                .collect::<Vec<_>>()
                .join("<br>"),
        ),
        ("Tracking lists", esc(&lists)),
        ("Watches", esc(watch)),
        ("Counted", esc(mode)),
        ("Generated", esc(ctx.generated)),
    ] {
        let _ = writeln!(out, "<tr><th>{k}</th><td>{v}</td></tr>");
    }
    out
}

/// Per test: requests, operations hit and the operations only that test
/// hits (what would be lost without it); most operations first.
/// What the run did close to each stable operation it did not hit (see
/// `crate::near_miss`); nothing when there is none.
fn near_misses_section(ctx: &Page) -> String {
    let view = crate::near_miss::RunView::from_tally(ctx.catalogue, ctx.tally);
    let index = crate::near_miss::NearMissIndex::new(ctx.catalogue, &view);
    let mut rows = String::new();
    for &id in &ctx.coverage.stable_not_found {
        let misses = index.near_misses(id);
        if misses.is_empty() {
            continue;
        }
        let items: String = misses
            .iter()
            .map(|m| format!("<li>{}</li>", esc(&m.describe())))
            .collect();
        let _ = writeln!(
            rows,
            "<tr><td>{}</td><td><ul class=near>{items}</ul></td></tr>",
            esc(&ctx.catalogue.get(id).id)
        );
    }
    if rows.is_empty() {
        return String::new();
    }
    format!(
        "<h2>Near misses of operations not found</h2>\n\
         <p>What the run did close to a stable operation it did not exercise: another verb on the \
         same path, the same resource in another version, requests from other clients, unmatched \
         paths one segment away.</p>\n\
         <table id=near-misses><thead><tr><th>Operation</th><th>Near misses</th></tr></thead><tbody>\n{rows}</tbody></table>\n"
    )
}

fn tests_section(ctx: &Page) -> String {
    let t = ctx.tally;
    let tests = tests_per_operation(t);
    let mut per_test: BTreeMap<&str, (u64, Vec<OpId>, Vec<OpId>)> = BTreeMap::new();
    for (op, list) in &tests {
        for (name, n) in list {
            let entry = per_test.entry(name).or_default();
            entry.0 += n;
            entry.1.push(*op);
            if list.len() == 1 {
                entry.2.push(*op);
            }
        }
    }
    if per_test.is_empty() {
        return String::new();
    }
    let mut order: Vec<_> = per_test.into_iter().collect();
    order.sort_by(|a, b| b.1 .1.len().cmp(&a.1 .1.len()).then(a.0.cmp(b.0)));
    let names = |ops: &[OpId]| -> String {
        let mut names: Vec<&str> = ops
            .iter()
            .map(|op| ctx.catalogue.get(*op).id.as_str())
            .collect();
        names.sort_unstable();
        names.iter().map(|n| esc(n)).collect::<Vec<_>>().join(", ")
    };
    let mut rows = String::new();
    for (name, (requests, ops, only)) in &order {
        let _ = writeln!(
            rows,
            "<tr><td>{}</td><td class=num>{}</td><td class=num>{requests}</td><td class=num>{}</td><td class=op>{}</td></tr>",
            esc(name),
            ops.len(),
            only.len(),
            names(only)
        );
    }
    format!(
        "<h2>Tests</h2>\n<p>Every e2e test seen, by operations hit; the last column lists the operations no other test hits.</p>\n\
         <table id=tests><colgroup><col style=\"width:44%\"><col style=\"width:8%\"><col style=\"width:8%\"><col style=\"width:8%\"><col style=\"width:32%\"></colgroup>\n\
         <thead><tr><th>Test</th><th class=num>Operations</th><th class=num>Requests</th><th class=num>Only this test</th><th>Operations only this test hits</th></tr></thead><tbody>\n{rows}</tbody></table>\n"
    )
}

/// Stacked horizontal bars, one per group/version, scaled to the largest.
fn chart(per_gv: &BTreeMap<String, [u64; 5]>) -> String {
    let label_w = 260.0;
    let bar_w = 560.0;
    let row_h = 20.0;
    let max = per_gv
        .values()
        .map(|c| c.iter().sum::<u64>())
        .max()
        .unwrap_or(1)
        .max(1) as f64;
    let height = row_h * per_gv.len() as f64 + 10.0;
    let mut svg = format!(
        "<svg id=chart xmlns=\"http://www.w3.org/2000/svg\" width=\"{}\" height=\"{height}\" role=\"img\" aria-label=\"coverage per group/version\">\n",
        label_w + bar_w + 130.0
    );
    for (row, (gv, counts)) in per_gv.iter().enumerate() {
        let y = row as f64 * row_h + 4.0;
        let _ = writeln!(
            svg,
            "<text x=\"{}\" y=\"{}\" text-anchor=\"end\" font-size=\"12\">{}</text>",
            label_w - 8.0,
            y + 13.0,
            esc(gv)
        );
        let mut x = label_w;
        for (i, n) in counts.iter().enumerate() {
            if *n == 0 {
                continue;
            }
            let w = bar_w * *n as f64 / max;
            let status = Status::CHART[i];
            let _ = writeln!(
                svg,
                "<rect class=\"bar\" x=\"{x:.1}\" y=\"{y}\" width=\"{w:.1}\" height=\"{}\" fill=\"{}\"><title>{}: {} {}</title></rect>",
                row_h - 4.0,
                status.color(),
                esc(gv),
                n,
                status.label()
            );
            x += w;
        }
        let _ = writeln!(
            svg,
            "<text x=\"{:.1}\" y=\"{}\" font-size=\"11\" fill=\"#555\">{}</text>",
            x + 6.0,
            y + 13.0,
            hit_label(counts[0], counts[0] + counts[1])
        );
    }
    svg.push_str("</svg>");
    svg
}
#[cfg(test)]
mod tests {
    #[test]
    fn a_release_is_read_from_the_spec_name_only_where_it_starts_a_word() {
        for (name, release) in [
            ("../shared/k8s/swagger-v1.36.json", Some("v1.36")),
            (
                "https://raw.githubusercontent.com/kubernetes/kubernetes/v1.36.0/api/openapi-spec/swagger.json",
                Some("v1.36.0"),
            ),
            (
                "https://raw.githubusercontent.com/kubernetes/kubernetes/release-1.35/api/openapi-spec/swagger.json",
                Some("v1.35"),
            ),
            ("gen-apidocs/config/v1_34/swagger.json", Some("v1.34")),
            ("specs/v1.33/swagger-v1.36.json", Some("v1.36")),
            ("testdata/swagger-mini.json", None),
            ("/apis/apps/v1/swagger.json", None),
            ("kv1.36.json", None),
            ("swagger-v1.360.json", None),
            ("swagger-v1.36a.json", None),
        ] {
            assert_eq!(super::release_in_name(name).as_deref(), release, "{name}");
        }
    }
}
