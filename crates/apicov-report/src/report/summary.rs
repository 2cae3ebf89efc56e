//! The console summary (the figures the reference prints, plus elapsed time
//! and throughput) and the conformance gates: all of it talk for stderr.

use std::fmt::Write as _;
use std::time::Duration;

use apicov_core::aggregate::Tally;
use apicov_core::coverage::Coverage;
use apicov_core::event::Stage;
use apicov_core::lists::EndpointList;
use apicov_core::pipeline::InputInfo;
use apicov_core::spec::{Catalogue, OpId};

/// Unmatched groups shown on the console (all are in the report JSON).
const UNMATCHED_SHOWN: usize = 10;

/// The console summary of a run (stderr): totals, filters, gates.
pub struct Summary<'a> {
    /// The spec's operations.
    pub catalogue: &'a Catalogue,
    /// What the run counted.
    pub tally: &'a Tally,
    /// The run's coverage.
    pub coverage: &'a Coverage,
    /// The run's inputs.
    pub inputs: &'a [InputInfo],
    /// Wall time of the run.
    pub elapsed: Duration,
    /// `--conformance-only`: only requests of `[Conformance]` specs counted.
    pub conformance_only: bool,
}

/// Writes console talk to stderr in one piece; a closed stderr is ignored
/// (the outputs are written already and the exit status says the rest).
pub fn write_stderr(text: &str) {
    use std::io::Write as _;
    if !text.is_empty() {
        let _ = std::io::stderr().lock().write_all(text.as_bytes());
    }
}

impl Summary<'_> {
    /// The summary's text.
    pub fn render(&self) -> String {
        let t = self.tally;
        let mut out = String::new();
        let _ = writeln!(out, "Parsed {} audit log file(s):", self.inputs.len());
        for (i, (info, totals)) in self.inputs.iter().zip(&t.inputs).enumerate() {
            let gz = info
                .compression
                .name()
                .map_or(String::new(), |c| format!(" ({c})"));
            let _ = writeln!(
                out,
                "  [{}/{}] {}{gz}: {} lines",
                i + 1,
                self.inputs.len(),
                info.name,
                totals.lines
            );
        }
        let bytes: u64 = t.inputs.iter().map(|i| i.bytes).sum();
        let secs = self.elapsed.as_secs_f64();
        let stages: Vec<String> = Stage::ALL
            .iter()
            .filter(|s| t.events_by_stage[**s as usize] > 0)
            .map(|s| format!("{} {}", s.as_str(), t.events_by_stage[*s as usize]))
            .collect();
        let _ = writeln!(out);
        let _ = writeln!(out, "Parsing complete:");
        let _ = writeln!(
            out,
            "  Total log entries: {}",
            t.events() + t.malformed_lines
        );
        let _ = writeln!(
            out,
            "  Stages in the logs: {}",
            if stages.is_empty() {
                "none".into()
            } else {
                stages.join(", ")
            }
        );
        if self.conformance_only {
            let _ = writeln!(
                out,
                "  Conformance only: counting only requests made by [Conformance] specs"
            );
        }
        let _ = writeln!(out, "  API requests counted: {}", t.requests());
        let _ = writeln!(out, "  Swagger-based matches: {}", t.matched_requests());
        let _ = writeln!(out, "  Fallback matches: 0");
        let _ = writeln!(out, "  Unmatched requests: {}", t.unmatched_requests());
        // The endpoints file's two figures first, then the same before the
        // tracking lists' and deprecation filters: they differ, so each says
        // what it counts.
        let _ = writeln!(
            out,
            "  Unique endpoints (as in audit-endpoints.txt, after filters): {}",
            self.coverage.kept.len()
        );
        let _ = writeln!(
            out,
            "  Total API calls (as in audit-endpoints.txt, after filters): {}",
            self.coverage.kept_calls(t)
        );
        let _ = writeln!(
            out,
            "  Unique endpoints hit, before filters: {}",
            t.ops.iter().filter(|h| h.total() > 0).count()
        );
        let _ = writeln!(
            out,
            "  API calls matched, before filters: {}",
            t.matched_requests()
        );
        let _ = writeln!(
            out,
            "  Skipped entries: {}",
            t.lines() - t.blank_lines - t.matched_requests()
        );
        let _ = writeln!(out, "  Malformed lines: {}", t.malformed_lines);
        for m in &t.malformed_examples {
            let _ = writeln!(
                out,
                "    {}:{}: {}",
                self.inputs[m.input].name, m.line, m.reason
            );
        }
        let _ = writeln!(out, "  Elapsed: {}", elapsed_text(secs, bytes));
        if t.unmatched().len() > 0 {
            let mut groups: Vec<_> = t.unmatched().collect();
            groups.sort_by(|a, b| b.1.total().cmp(&a.1.total()).then_with(|| a.0.cmp(b.0)));
            let _ = writeln!(out);
            let _ = writeln!(
                out,
                "Requests matching no operation of the spec (by verb and path pattern):"
            );
            for (key, hits) in groups.iter().take(UNMATCHED_SHOWN) {
                let _ = writeln!(out, "  {} {}: {}", key.verb, key.pattern, hits.total());
            }
            if groups.len() > UNMATCHED_SHOWN {
                let _ = writeln!(
                    out,
                    "  … and {} more patterns (see --report-json)",
                    groups.len() - UNMATCHED_SHOWN
                );
            }
        }
        // The operations themselves are listed once, by the gate lines.
        let _ = writeln!(out);
        let _ = writeln!(out, "Gates:");
        let _ = writeln!(
            out,
            "  Stable endpoints not found: {}",
            self.coverage.stable_not_found.len()
        );
        let _ = writeln!(
            out,
            "  Pending endpoints exercised: {}",
            self.coverage.pending_exercised.len()
        );
        // Never in a coverage figure: no audit log can show them.
        let unmeasurable = self
            .catalogue
            .operations()
            .filter(|(_, op)| op.stable && !op.observable)
            .count();
        let _ = writeln!(
            out,
            "  Unmeasurable stable operations (HEAD/OPTIONS): {unmeasurable}"
        );
        out
    }

    /// The gate messages, worded as the conformance docs word them; empty
    /// when every gate passes. `shown`: how many lines of each gate (stable
    /// endpoints not found, pending endpoints exercised) to print (`None`:
    /// all, as the reference does); the rest of a gate are counted in one
    /// line that says where its full list is (532 lines against the 1.36
    /// spec otherwise flood the console).
    pub fn gates(
        &self,
        _ineligible: &EndpointList,
        pending: &EndpointList,
        shown: Option<usize>,
    ) -> String {
        let mut out = String::new();
        if self.tally.matched_requests() == 0 {
            let _ = writeln!(out, "apicov: no API operation found in the audit logs");
        }
        let lines = |out: &mut String,
                     ops: &[OpId],
                     line: &dyn Fn(OpId) -> String,
                     (rest, key): (&str, &str)| {
            let shown = shown.unwrap_or(ops.len()).min(ops.len());
            for op in &ops[..shown] {
                let _ = writeln!(out, "{}", line(*op));
            }
            if shown < ops.len() {
                let _ = writeln!(
                    out,
                    "… and {} more {rest} ({} in all: --gate-lines all prints each; the report \
                     JSON lists them under \"{key}\")",
                    ops.len() - shown,
                    ops.len()
                );
            }
        };
        lines(
            &mut out,
            &self.coverage.stable_not_found,
            &|op| {
                format!(
                    "Stable endpoint {} not found in pending_eligible_endpoints.yaml",
                    self.catalogue.get(op).id
                )
            },
            ("stable endpoints not found", "stable_not_found"),
        );
        lines(
            &mut out,
            &self.coverage.pending_exercised,
            &|op| {
                pending_exercised_gate(
                    &self.catalogue.get(op).id,
                    self.tally.ops[op.index()].total(),
                    &pending.source,
                )
            },
            ("pending endpoints exercised", "pending_exercised"),
        );
        out
    }
}

impl Summary<'_> {
    /// The last line after tripped gates: how many, and whether they fail
    /// the run (`--no-fail` turns them into a report). Empty when none tripped.
    pub fn verdict(&self, no_fail: bool) -> String {
        let mut tripped = Vec::new();
        if self.tally.matched_requests() == 0 {
            tripped.push("no API operation found".to_string());
        }
        if !self.coverage.stable_not_found.is_empty() {
            tripped.push(format!(
                "{} stable endpoint(s) not found",
                self.coverage.stable_not_found.len()
            ));
        }
        if !self.coverage.pending_exercised.is_empty() {
            tripped.push(format!(
                "{} pending endpoint(s) tested",
                self.coverage.pending_exercised.len()
            ));
        }
        if tripped.is_empty() {
            return String::new();
        }
        let effect = if no_fail {
            "reported only (--no-fail)"
        } else {
            "exit status 1"
        };
        format!("apicov: gates tripped: {}; {effect}\n", tripped.join(", "))
    }
}

/// "15.5 s (13 MB/s)"; a throughput under 1 MB/s (a trickle, as `serve`
/// sees between requests) in kB/s, and none when nothing was read.
pub fn elapsed_text(secs: f64, bytes: u64) -> String {
    let rate = bytes as f64 / secs.max(1e-9);
    if bytes == 0 {
        format!("{secs:.3} s (nothing read)")
    } else if rate >= 1e6 {
        format!("{secs:.3} s ({:.0} MB/s)", rate / 1e6)
    } else {
        format!("{secs:.3} s ({:.1} kB/s)", rate / 1e3)
    }
}

/// The pending-exercised gate's line for one operation (console and JUnit).
pub fn pending_exercised_gate(operation: &str, calls: u64, pending_source: &str) -> String {
    format!(
        "Endpoint {operation} found in pending_eligible_endpoints.yaml but is being tested \
         ({calls} calls; remove it from {pending_source})"
    )
}
