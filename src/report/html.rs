//! `--html`: one self-contained page (no CDN, no network) for reviewers:
//! coverage of stable operations per API group/version as stacked bars
//! (inline SVG), a sortable, filterable table of every operation with its
//! count and the tests that hit it, the unmatched patterns and the run's
//! totals. Rows and chart are rendered here, so the page reads without
//! JavaScript; a small script adds sorting and filtering.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use super::escape_markup as esc;
use crate::aggregate::Tally;
use crate::attribution::Actor;
use crate::coverage::{filter_of, Coverage, Filtered};
use crate::lists::EndpointList;
use crate::spec::{Catalogue, OpId};

/// An operation's standing, as the page shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Status {
    Hit,
    NotFound,
    Ineligible,
    Pending,
    Deprecated,
    /// Alpha/beta or unobservable: not part of conformance.
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
            Status::Other => "not stable",
        }
    }

    fn color(self) -> &'static str {
        match self {
            Status::Hit => "#2e7d32",
            Status::NotFound => "#c62828",
            Status::Ineligible => "#9e9e9e",
            Status::Pending => "#f9a825",
            Status::Deprecated => "#6d4c41",
            Status::Other => "#90a4ae",
        }
    }
}

pub struct HtmlContext<'a> {
    pub catalogue: &'a Catalogue,
    pub tally: &'a Tally,
    pub coverage: &'a Coverage,
    pub ineligible: &'a EndpointList,
    pub pending: &'a EndpointList,
    pub title: &'a str,
}

fn status_of(ctx: &HtmlContext, op: OpId) -> Status {
    let o = ctx.catalogue.get(op);
    if !o.stable || !o.observable {
        return Status::Other;
    }
    match filter_of(ctx.catalogue, op, ctx.ineligible, ctx.pending) {
        Some(Filtered::Ineligible) => Status::Ineligible,
        Some(Filtered::Pending) => Status::Pending,
        Some(Filtered::Deprecated) => Status::Deprecated,
        None if ctx.tally.ops[op.index()].total() > 0 => Status::Hit,
        None => Status::NotFound,
    }
}

fn group_version(ctx: &HtmlContext, op: OpId) -> String {
    let o = ctx.catalogue.get(op);
    match (&o.group, &o.version) {
        (Some(g), Some(v)) if g.is_empty() => format!("core/{v}"),
        (Some(g), Some(v)) => format!("{g}/{v}"),
        (Some(g), None) => g.clone(),
        _ => "non-resource".into(),
    }
}

pub fn render(ctx: &HtmlContext) -> String {
    let t = ctx.tally;
    // Tests per operation, most requests first.
    let mut tests: BTreeMap<OpId, Vec<(&str, u64)>> = BTreeMap::new();
    for ((actor, op), n) in &t.attributed {
        if let Actor::Test(name) = &t.actors.actors[*actor as usize] {
            tests.entry(*op).or_default().push((name, *n));
        }
    }
    for list in tests.values_mut() {
        list.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    }

    let mut per_gv: BTreeMap<String, [u64; 5]> = BTreeMap::new();
    let mut rows = String::new();
    for op in ctx.catalogue.sorted_ids() {
        let o = ctx.catalogue.get(op);
        let status = status_of(ctx, op);
        let gv = group_version(ctx, op);
        if let Some(i) = Status::CHART.iter().position(|s| *s == status) {
            per_gv.entry(gv.clone()).or_default()[i] += 1;
        }
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
            status.label(),
            esc(&o.id),
            esc(&gv),
            o.method.as_str(),
            esc(&o.template),
            status.color(),
            status.label(),
        );
    }

    let chart = chart(&per_gv);
    let mut unmatched: Vec<_> = t.unmatched.iter().collect();
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
    let stable_total: u64 = per_gv.values().map(|c| c.iter().sum::<u64>()).sum();
    let eligible = per_gv.values().map(|c| c[0] + c[1]).sum::<u64>();
    let hit = per_gv.values().map(|c| c[0]).sum::<u64>();
    let pct = if eligible == 0 {
        0.0
    } else {
        100.0 * hit as f64 / eligible as f64
    };
    let totals = [
        ("requests counted", t.requests().to_string()),
        ("matched to an operation", t.matched_requests().to_string()),
        ("unmatched", t.unmatched_requests().to_string()),
        ("malformed lines", t.malformed_lines.to_string()),
        ("audit events", t.events().to_string()),
        ("stable operations", stable_total.to_string()),
        (
            "eligible stable operations hit",
            format!("{hit} of {eligible} ({pct:.1}%)"),
        ),
        (
            "stable operations not found",
            ctx.coverage.stable_not_found.len().to_string(),
        ),
    ];
    let totals: String = totals
        .iter()
        .map(|(k, v)| {
            format!(
                "<div class=stat><div class=v>{}</div><div class=k>{}</div></div>",
                esc(v),
                esc(k)
            )
        })
        .collect();
    let options: String = [
        Status::Hit,
        Status::NotFound,
        Status::Ineligible,
        Status::Pending,
        Status::Deprecated,
        Status::Other,
    ]
    .iter()
    .map(|s| format!("<option value=\"{0}\">{0}</option>", s.label()))
    .collect();
    format!(
        r#"<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<style>
body{{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#222}}
h1{{font-size:22px}} h2{{font-size:17px;margin-top:28px}}
.stats{{display:flex;flex-wrap:wrap;gap:12px}} .stat{{border:1px solid #ddd;border-radius:6px;padding:8px 12px;min-width:150px}}
.stat .v{{font-size:20px;font-weight:600}} .stat .k{{color:#666;font-size:12px}}
table{{border-collapse:collapse;width:100%}} th,td{{border-bottom:1px solid #eee;padding:4px 6px;text-align:left;vertical-align:top}}
th{{cursor:pointer;background:#f5f5f5;position:sticky;top:0}} td.num{{text-align:right}} td.path{{font-family:monospace;font-size:12px}}
td.op{{font-family:monospace}} .badge{{color:#fff;border-radius:3px;padding:1px 6px;font-size:12px;white-space:nowrap}}
.controls{{margin:8px 0;display:flex;gap:8px;align-items:center}} input,select{{font:inherit;padding:3px 6px}}
.legend span{{display:inline-block;margin-right:14px}} .legend i{{display:inline-block;width:12px;height:12px;margin-right:4px;vertical-align:-1px}}
ul{{margin:4px 0;padding-left:18px}} .n{{color:#888}}
</style></head>
<body data-ready="0">
<h1>{title}</h1>
<div class=stats>{totals}</div>
<h2>Stable operations per API group and version</h2>
<div class=legend>{legend}</div>
{chart}
<h2>Operations</h2>
<div class=controls><input id=filter type=search placeholder="filter by name, group or path" size=40>
<select id=status><option value="">any status</option>{options}</select> <span id=shown></span></div>
<table id=ops><thead><tr><th data-k=s>Operation</th><th data-k=s>Group/version</th><th data-k=s>Method</th><th data-k=s>Path</th><th data-k=s>Status</th><th data-k=n>Requests</th><th data-k=s>Tests</th></tr></thead>
<tbody>
{rows}</tbody></table>
<h2>Requests matching no operation</h2>
<table id=unmatched><thead><tr><th>Verb</th><th>Path pattern</th><th>Requests</th></tr></thead><tbody>
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
        label_w + bar_w + 80.0
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
        let total: u64 = counts.iter().sum();
        let _ = writeln!(
            svg,
            "<text x=\"{:.1}\" y=\"{}\" font-size=\"11\" fill=\"#555\">{}/{}</text>",
            x + 6.0,
            y + 13.0,
            counts[0],
            counts[0] + counts[1]
        );
        let _ = total;
    }
    svg.push_str("</svg>");
    svg
}

/// The history page: coverage of eligible stable operations over the runs
/// (an inline SVG line chart) and the per-run table.
pub fn render_history(all: &[crate::history::RunRecord], title: &str) -> String {
    let (w, h, pad) = (900.0, 260.0, 40.0);
    // Skipped runs have a row in the table but no point on the plot.
    let records: Vec<&crate::history::RunRecord> = all.iter().filter(|r| r.is_ok()).collect();
    let n = records.len().max(1) as f64;
    let x = |i: usize| pad + (w - 2.0 * pad) * if n > 1.0 { i as f64 / (n - 1.0) } else { 0.5 };
    let y = |pct: f64| h - pad - (h - 2.0 * pad) * pct / 100.0;
    let points: Vec<String> = records
        .iter()
        .enumerate()
        .map(|(i, r)| format!("{:.1},{:.1}", x(i), y(r.coverage_percent())))
        .collect();
    let mut svg = format!(
        "<svg id=trend xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{h}\">\n"
    );
    for pct in [0.0, 25.0, 50.0, 75.0, 100.0] {
        let (x2, gy, lx, ly) = (w - pad, y(pct), pad - 4.0, y(pct) + 4.0);
        let _ = writeln!(
            svg,
            "<line x1=\"{pad}\" x2=\"{x2}\" y1=\"{gy:.1}\" y2=\"{gy:.1}\" stroke=\"#eee\"/>\
             <text x=\"{lx}\" y=\"{ly:.1}\" font-size=\"11\" text-anchor=\"end\">{pct}%</text>"
        );
    }
    let _ = writeln!(
        svg,
        "<polyline fill=\"none\" stroke=\"#2e7d32\" stroke-width=\"2\" points=\"{}\"/>",
        points.join(" ")
    );
    for (i, r) in records.iter().enumerate() {
        let _ = writeln!(
            svg,
            "<circle class=\"run\" cx=\"{:.1}\" cy=\"{:.1}\" r=\"4\" fill=\"#2e7d32\"><title>{}: {:.1}% ({} of {})</title></circle>",
            x(i),
            y(r.coverage_percent()),
            esc(&r.id),
            r.coverage_percent(),
            r.eligible_hit,
            r.eligible
        );
    }
    svg.push_str("</svg>");
    let rows: String = all
        .iter()
        .map(|r| {
            format!(
                "<tr><td>{}</td><td title=\"{}\">{}</td><td>{}</td><td class=num>{}</td><td class=num>{}</td><td class=num>{}/{} ({:.1}%)</td><td class=num>{}</td><td class=num>{}</td></tr>\n",
                esc(&r.id),
                esc(r.problem.as_deref().unwrap_or("")),
                r.status.as_str(),
                r.started.map(|t| crate::history::utc(t).1).unwrap_or_else(|| "-".into()),
                r.requests,
                r.operations_hit,
                r.eligible_hit,
                r.eligible,
                r.coverage_percent(),
                r.stable_not_found,
                r.pending_exercised
            )
        })
        .collect();
    format!(
        r#"<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<style>body{{font:14px/1.4 system-ui,sans-serif;margin:24px}} table{{border-collapse:collapse}}
th,td{{border-bottom:1px solid #eee;padding:4px 8px;text-align:left}} td.num{{text-align:right}} th{{background:#f5f5f5}}</style>
</head><body>
<h1>{title}</h1>
<h2>Eligible stable operations hit, per run</h2>
{svg}
<h2>Runs</h2>
<table id=runs><thead><tr><th>Run</th><th>Status</th><th>Started</th><th>Requests</th><th>Operations hit</th><th>Stable hit</th><th>Not found</th><th>Pending exercised</th></tr></thead><tbody>
{rows}</tbody></table>
</body></html>
"#,
        title = esc(title)
    )
}
