//! Baseline comparison: a pull request's run against the latest CI run, as
//! kubernetes_api_analysis.py compares them, with the stable operations not
//! found computed from the spec and the tracking lists (the reference scrapes
//! `NOT FOUND` lines that its parser no longer writes, so its list is empty).

use std::collections::BTreeSet;
use std::fmt::Write as _;

use serde_json::{json, Value};

use apicov_core::coverage::filter_of;
use apicov_core::lists::EndpointList;
use apicov_core::spec::Catalogue;

/// The operations a run exercised, read from audit-endpoints.txt (either
/// tool's) or apicov's report JSON. Only operations of the spec count.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RunOperations {
    /// Operation names, sorted.
    pub operations: BTreeSet<String>,
    /// `op | NOT FOUND` lines, when the file has them.
    pub not_found_lines: BTreeSet<String>,
}

impl RunOperations {
    /// Reads a run. A file that is neither an endpoints file nor a report
    /// JSON is an error (the caller adds the file's name), not an empty run.
    pub fn parse(bytes: &[u8], catalogue: &Catalogue) -> Result<RunOperations, String> {
        let expected = "expected an audit-endpoints.txt (either tool's) or an apicov report JSON";
        let Ok(text) = std::str::from_utf8(bytes) else {
            return Err(format!("not text (invalid UTF-8): {expected}"));
        };
        if text.contains('\0') {
            return Err(format!("binary data (NUL bytes): {expected}"));
        }
        if text.trim_start().starts_with('{') {
            return Self::from_report_json(text, catalogue);
        }
        if !looks_like_endpoints(text) {
            return Err(format!(
                "no \"Kubernetes API Endpoints\" title and no \"operation | count\" \
                 line: {expected}"
            ));
        }
        let mut run = RunOperations::default();
        // The reference's rule, line by line.
        for line in text.lines() {
            let line = line.trim();
            let op = line.split('|').next().unwrap_or("").trim();
            if op.is_empty() || catalogue.lookup(op).is_none() {
                continue;
            }
            if line.contains(" | NOT FOUND") {
                run.not_found_lines.insert(op.to_string());
            } else if line.contains(" | ")
                && !line.contains("Endpoint Name")
                && !line.contains("NOT FOUND")
            {
                run.operations.insert(op.to_string());
            }
        }
        Ok(run)
    }

    /// The operations an endpoints file would list: hit and not filtered.
    /// (Reports say what they are: a JSON file without a `classification`
    /// is refused below.)
    fn from_report_json(text: &str, catalogue: &Catalogue) -> Result<RunOperations, String> {
        let report: Value =
            serde_json::from_str(text).map_err(|e| format!("not a report JSON: {e}"))?;
        let classification = report
            .get("classification")
            .and_then(Value::as_object)
            .ok_or_else(|| "report JSON without \"classification\"".to_string())?;
        let mut run = RunOperations::default();
        for (op, class) in classification {
            if class.get("counted_in_endpoints") == Some(&Value::Bool(true))
                && catalogue.lookup(op).is_some()
            {
                run.operations.insert(op.clone());
            }
        }
        Ok(run)
    }
}

/// An endpoints file has the reference's title line, or at least one
/// `operationId | count` (or `| NOT FOUND`) line; an empty run still has the
/// title.
fn looks_like_endpoints(text: &str) -> bool {
    text.lines().any(|line| {
        let line = line.trim();
        if line.starts_with("Kubernetes API Endpoints") {
            return true;
        }
        let mut parts = line.splitn(2, " | ");
        let (Some(op), Some(rest)) = (parts.next(), parts.next()) else {
            return false;
        };
        let rest = rest.trim();
        !op.is_empty()
            && op.bytes().all(|b| b.is_ascii_alphanumeric())
            && (rest == "NOT FOUND" || rest.parse::<u64>().is_ok())
    })
}

/// The comparison of two runs.
#[derive(Debug, Clone)]
pub struct Diff {
    /// Operations in the spec.
    pub swagger_operations: usize,
    /// Operations the baseline (CI) run exercised.
    pub ci: BTreeSet<String>,
    /// Operations the pull request's run exercised.
    pub pull: BTreeSet<String>,
    /// Exercised by the pull run, not by the baseline; sorted.
    pub added: Vec<String>,
    /// Exercised by the baseline, not by the pull run; sorted.
    pub removed: Vec<String>,
    /// Stable, observable, not deprecated, ineligible or pending, and not
    /// exercised by the pull run; sorted.
    pub stable_not_found: Vec<String>,
    /// `NOT FOUND` lines read from the pull file (older parser versions).
    pub not_found_lines: Vec<String>,
}

impl Diff {
    /// Compares the `pull` run with the `ci` baseline.
    pub fn new(
        catalogue: &Catalogue,
        ineligible: &EndpointList,
        pending: &EndpointList,
        ci: &RunOperations,
        pull: &RunOperations,
    ) -> Diff {
        let mut stable_not_found = Vec::new();
        for id in catalogue.sorted_ids() {
            let op = catalogue.get(id);
            if op.stable
                && op.observable
                && filter_of(catalogue, id, ineligible, pending).is_none()
                && !pull.operations.contains(&op.id)
            {
                stable_not_found.push(op.id.clone());
            }
        }
        let distinct: BTreeSet<&str> = catalogue.operations().map(|(_, o)| o.id.as_str()).collect();
        Diff {
            swagger_operations: distinct.len(),
            added: pull
                .operations
                .difference(&ci.operations)
                .cloned()
                .collect(),
            removed: ci
                .operations
                .difference(&pull.operations)
                .cloned()
                .collect(),
            ci: ci.operations.clone(),
            pull: pull.operations.clone(),
            stable_not_found,
            not_found_lines: pull.not_found_lines.iter().cloned().collect(),
        }
    }

    /// Operations added minus operations removed.
    pub fn net_change(&self) -> i64 {
        self.added.len() as i64 - self.removed.len() as i64
    }

    /// The reference's SUMMARY and the three sections, as it prints them.
    pub fn render_text(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "SUMMARY");
        let _ = writeln!(out, "=======");
        let _ = writeln!(
            out,
            "Total Operations in Swagger:  {}",
            self.swagger_operations
        );
        let _ = writeln!(out, "Operations in CI:             {}", self.ci.len());
        let _ = writeln!(out, "Operations in Pull:           {}", self.pull.len());
        let _ = writeln!(out, "Operations Added:             {}", self.added.len());
        let _ = writeln!(out, "Operations Removed:           {}", self.removed.len());
        let _ = writeln!(out, "Net Change:                   {:+}", self.net_change());
        let _ = writeln!(out);
        section(
            &mut out,
            "OPERATIONS ADDED IN PULL (NOT IN CI)",
            &self.added,
            None,
            "No operations added.",
        );
        section(
            &mut out,
            "OPERATIONS REMOVED FROM PULL (IN CI BUT NOT PULL)",
            &self.removed,
            None,
            "No operations removed.",
        );
        section(
            &mut out,
            "STABLE ENDPOINTS NOT FOUND IN PULL AUDIT LOG",
            &self.stable_not_found,
            Some(
                "These are stable, non-deprecated API endpoints defined in the Swagger spec\n\
                 but not exercised in the pull request audit log:\n",
            ),
            "All stable swagger operations were found in the pull request audit log.",
        );
        out
    }

    /// A compact summary for a pull-request comment.
    pub fn render_markdown(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "### Kubernetes API coverage: pull request vs CI baseline\n"
        );
        let _ = writeln!(out, "| | operations |");
        let _ = writeln!(out, "|---|---:|");
        let _ = writeln!(out, "| in swagger | {} |", self.swagger_operations);
        let _ = writeln!(out, "| exercised in CI | {} |", self.ci.len());
        let _ = writeln!(out, "| exercised in pull | {} |", self.pull.len());
        let _ = writeln!(out, "| added | {} |", self.added.len());
        let _ = writeln!(out, "| removed | {} |", self.removed.len());
        let _ = writeln!(out, "| net change | {:+} |", self.net_change());
        let _ = writeln!(
            out,
            "| stable not found in pull | {} |",
            self.stable_not_found.len()
        );
        for (title, ops) in [
            ("Added in pull", &self.added),
            ("Removed from pull", &self.removed),
            ("Stable endpoints not found in pull", &self.stable_not_found),
        ] {
            if ops.is_empty() {
                continue;
            }
            let _ = writeln!(
                out,
                "\n<details><summary>{title} ({})</summary>\n",
                ops.len()
            );
            for op in ops.iter() {
                let _ = writeln!(out, "- `{op}`");
            }
            let _ = writeln!(out, "\n</details>");
        }
        out
    }

    /// The comparison as JSON (`diff --json`), naming both sources.
    pub fn to_json(&self, ci_source: &str, pull_source: &str) -> Value {
        json!({
            "ci_source": ci_source,
            "pull_source": pull_source,
            "swagger_operations": self.swagger_operations,
            "ci_operations": self.ci.len(),
            "pull_operations": self.pull.len(),
            "added": self.added,
            "removed": self.removed,
            "net_change": self.net_change(),
            "stable_not_found": self.stable_not_found,
            "not_found_lines": self.not_found_lines,
        })
    }
}

fn section(out: &mut String, title: &str, ops: &[String], intro: Option<&str>, empty: &str) {
    let _ = writeln!(out, "{title}");
    let _ = writeln!(out, "{}", "=".repeat(title.len()));
    let _ = writeln!(out, "Count: {}", ops.len());
    let _ = writeln!(out);
    if ops.is_empty() {
        let _ = writeln!(out, "{empty}");
    } else {
        if let Some(intro) = intro {
            let _ = writeln!(out, "{intro}");
        }
        for (i, op) in ops.iter().enumerate() {
            let _ = writeln!(out, "{:3}. {op}", i + 1);
        }
    }
    let _ = writeln!(out);
}
