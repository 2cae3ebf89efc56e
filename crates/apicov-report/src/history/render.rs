//! The history's outputs: the console table, the two CSV files, the JSON
//! document and the HTML page.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde_json::{json, Value};

use super::record::{caveats, OpTimeline, RunRecord};
use crate::dates::utc;
use crate::report::escape_markup as esc;
use apicov_core::spec::Catalogue;

fn gates_text(r: &RunRecord) -> String {
    if !r.is_ok() {
        format!(
            "skipped ({}): {}",
            r.status.as_str(),
            r.problem.as_deref().unwrap_or("")
        )
    } else if r.stable_not_found == 0 && r.pending_exercised == 0 {
        "pass".into()
    } else {
        format!(
            "fail ({} not found, {} pending exercised)",
            r.stable_not_found, r.pending_exercised
        )
    }
}

/// The console table and the changes between consecutive runs.
pub fn render_text(records: &[RunRecord], timelines: &BTreeMap<String, OpTimeline>) -> String {
    let mut out = String::new();
    for line in caveats(records).lines() {
        let _ = writeln!(out, "{line}");
    }
    let _ = writeln!(
        out,
        "{:<22} {:<20} {:>10} {:>6} {:>16}  {:<8} gates",
        "run", "started", "requests", "ops", "stable hit", "finished"
    );
    for r in records {
        let _ = writeln!(
            out,
            "{:<22} {:<20} {:>10} {:>6} {:>8}/{:<4} {:>5.1}%  {:<8} {}",
            r.id,
            r.started_text(),
            r.requests,
            r.operations_hit,
            r.eligible_hit,
            r.eligible,
            r.coverage_percent(),
            match (r.finished, r.passed) {
                (false, _) => "no",
                (true, Some(true)) => "passed",
                (true, Some(false)) => "failed",
                (true, None) => "yes",
            },
            gates_text(r)
        );
    }
    let mut changes: BTreeMap<&str, (Vec<&str>, Vec<&str>)> = BTreeMap::new();
    for (op, t) in timelines {
        for run in &t.appeared {
            changes.entry(run).or_default().0.push(op);
        }
        for run in &t.disappeared {
            changes.entry(run).or_default().1.push(op);
        }
    }
    if !changes.is_empty() {
        let _ = writeln!(out, "\nChanges against the run before:");
        for r in records {
            if let Some((gained, lost)) = changes.get(r.id.as_str()) {
                let _ = writeln!(out, "  {}: +{} -{}", r.id, gained.len(), lost.len());
                for op in gained {
                    let _ = writeln!(out, "    + {op}");
                }
                for op in lost {
                    let _ = writeln!(out, "    - {op}");
                }
            }
        }
    }
    out
}

/// `runs.csv`.
pub fn runs_csv(records: &[RunRecord]) -> String {
    let mut out = String::from(
        "run,started,finished,passed,requests,operations_hit,eligible_hit,eligible,coverage_percent,stable_not_found,pending_exercised,status,problem,conformance_only,other_spec\n",
    );
    for r in records {
        let _ = writeln!(
            out,
            "{},{},{},{},{},{},{},{},{:.2},{},{},{},{},{},{}",
            csv(&r.id),
            r.started.map(|t| utc(t).1).unwrap_or_default(),
            r.finished,
            r.passed.map(|p| p.to_string()).unwrap_or_default(),
            r.requests,
            r.operations_hit,
            r.eligible_hit,
            r.eligible,
            r.coverage_percent(),
            r.stable_not_found,
            r.pending_exercised,
            r.status.as_str(),
            csv(r.problem.as_deref().unwrap_or("")),
            r.caveats.conformance_only,
            r.caveats.spec_mix
        );
    }
    out
}

/// `operations.csv`: the timeline (runs joined with `;`).
pub fn operations_csv(timelines: &BTreeMap<String, OpTimeline>) -> String {
    let mut out = String::from("operation,first_run,last_run,runs_hit,appeared,disappeared\n");
    for (op, t) in timelines {
        let _ = writeln!(
            out,
            "{},{},{},{},{},{}",
            csv(op),
            csv(&t.first_run),
            csv(&t.last_run),
            t.runs_hit,
            csv(&t.appeared.join(";")),
            csv(&t.disappeared.join(";"))
        );
    }
    out
}

fn csv(field: &str) -> String {
    if field.contains([',', '"', '\n']) {
        format!("\"{}\"", field.replace('"', "\"\""))
    } else {
        field.to_string()
    }
}

/// The history as JSON (`history --json`): runs and per-operation timelines.
pub fn to_json(
    records: &[RunRecord],
    timelines: &BTreeMap<String, OpTimeline>,
    catalogue: &Catalogue,
) -> Value {
    let runs: Vec<Value> = records
        .iter()
        .map(|r| {
            let hits: serde_json::Map<String, Value> = r
                .hits
                .iter()
                .map(|(op, n)| (catalogue.get(*op).id.clone(), json!(n)))
                .collect();
            json!({
                "run": r.id,
                "started": r.started.map(|t| utc(t).1),
                "finished": r.finished,
                "passed": r.passed,
                "requests": r.requests,
                "operations_hit": r.operations_hit,
                "eligible_hit": r.eligible_hit,
                "eligible": r.eligible,
                "coverage_percent": (r.coverage_percent() * 100.0).round() / 100.0,
                "stable_not_found": r.stable_not_found,
                "pending_exercised": r.pending_exercised,
                "status": r.status.as_str(),
                "problem": r.problem,
                "conformance_only": r.caveats.conformance_only,
                "other_spec": r.caveats.spec_mix,
                "operations": hits,
            })
        })
        .collect();
    let ops: serde_json::Map<String, Value> = timelines
        .iter()
        .map(|(op, t)| {
            (
                op.clone(),
                json!({
                    "first_run": t.first_run,
                    "last_run": t.last_run,
                    "runs_hit": t.runs_hit,
                    "appeared": t.appeared,
                    "disappeared": t.disappeared,
                }),
            )
        })
        .collect();
    json!({"runs": runs, "operations": ops})
}

/// The history page: coverage of eligible stable operations over the runs
/// (an inline SVG line chart) and the per-run table.
pub fn render_html(all: &[RunRecord], title: &str) -> String {
    let (w, h, pad) = (900.0, 260.0, 40.0);
    // Skipped runs have a row in the table but no point on the plot.
    let records: Vec<&RunRecord> = all.iter().filter(|r| r.is_ok()).collect();
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
                r.started_text(),
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

/// A run's report JSON as history keeps it: `report` (what `parse
/// --report-json` writes, for an analysed run) with the `run` section
/// added, or only the section (and the format's version) for a skipped run.
pub fn report_with_section(report: Option<Vec<u8>>, section: &Value) -> Vec<u8> {
    match report {
        Some(mut bytes) => {
            // The section goes in before the closing brace, as text:
            // parsing and re-printing a report of megabytes for one more
            // member cost more than the run's parse.
            let end = bytes
                .iter()
                .rposition(|&b| b == b'}')
                .expect("a report ends with its closing brace");
            bytes.truncate(end);
            while bytes.last().is_some_and(u8::is_ascii_whitespace) {
                bytes.pop();
            }
            bytes.extend_from_slice(b",\n  \"run\": ");
            bytes.extend_from_slice(section.to_string().as_bytes());
            bytes.extend_from_slice(b"\n}\n");
            bytes
        }
        None => {
            let stub = json!({
                "format_version": crate::report::json::FORMAT_VERSION,
                "apicov_version": env!("CARGO_PKG_VERSION"),
                "run": section,
            });
            let mut bytes = serde_json::to_vec_pretty(&stub).expect("Value serialises");
            bytes.push(b'\n');
            bytes
        }
    }
}
