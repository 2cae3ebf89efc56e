//! `audit-endpoints.txt`, byte for byte in the reference parser's format.
//!
//! Header figures:
//! - Total unique endpoints / Total API calls: operations hit and their
//!   requests, after the ineligible, pending and deprecated filters;
//! - Swagger-based matches: requests mapped to an operation, before filters;
//! - Fallback matches: always 0 (apicov invents no names);
//! - Skipped entries: non-blank lines that did not count as a matched request
//!   (other stages of counted requests, unmatched requests, malformed lines);
//! - the filter lines: operations and requests each filter removed, printed
//!   (as the reference does) only when the list is non-empty / the spec has
//!   deprecated operations.

use std::fmt::Write as _;

use super::{Body, Caveats, Render, Run};
use apicov_core::aggregate::Tally;
use apicov_core::coverage::Coverage;
use apicov_core::spec::{Catalogue, OpId};

/// The endpoints text, with its options.
#[derive(Debug, Clone, Copy, Default)]
pub struct EndpointsText {
    /// Order of the `op | count` lines.
    pub sort: SortOrder,
    /// The not-found operations are listed too (`--not-found-in-output`).
    pub not_found_lines: bool,
}

impl EndpointsText {
    /// The text itself (the console prints it when no file takes it).
    pub fn text(&self, run: &Run, coverage: &Coverage) -> String {
        render(
            run.catalogue,
            run.tally,
            coverage,
            self.sort,
            ListsPresent {
                ineligible: !run.ineligible.is_empty(),
                pending: !run.pending.is_empty(),
            },
            self.not_found_lines,
            run.caveats,
        )
    }
}

impl Render for EndpointsText {
    fn render<'a>(&'a self, run: &Run<'a>, coverage: &'a Coverage) -> Body<'a> {
        self.text(run, coverage).into_bytes().into()
    }
}

/// Order of the `op | count` lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
pub enum SortOrder {
    /// By name, case-insensitive (the reference's default).
    #[default]
    Name,
    /// By count, descending; ties in order of first appearance.
    Count,
}

/// What the header's filter lines depend on.
#[derive(Debug, Clone, Copy)]
struct ListsPresent {
    /// An ineligible list was given (not empty).
    ineligible: bool,
    /// A pending-eligible list was given (not empty).
    pending: bool,
}

/// audit-endpoints.txt: the header, then one `operationId | count` line per kept operation.
fn render(
    catalogue: &Catalogue,
    tally: &Tally,
    coverage: &Coverage,
    sort: SortOrder,
    lists: ListsPresent,
    not_found_lines: bool,
    caveats: Caveats,
) -> String {
    let rule = "=".repeat(70);
    let dash = "-".repeat(70);
    let matched = tally.matched_requests();
    let non_blank = tally.lines() - tally.blank_lines;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "Kubernetes API Endpoints Found in Audit Log (Swagger-Enhanced)"
    );
    // Only when there is something to say: the drop-in file stays the
    // reference's, byte for byte, otherwise.
    for line in caveats.lines() {
        let _ = writeln!(out, "{line}");
    }
    let _ = writeln!(out, "{rule}");
    let _ = writeln!(out, "Total unique endpoints: {}", coverage.kept.len());
    let _ = writeln!(out, "Total API calls: {}", coverage.kept_calls(tally));
    let _ = writeln!(out, "Swagger-based matches: {matched}");
    let _ = writeln!(out, "Fallback matches: 0");
    let _ = writeln!(out, "Skipped entries: {}", non_blank - matched);
    if lists.ineligible {
        let _ = writeln!(
            out,
            "Ineligible endpoints filtered: {}",
            coverage.ineligible.operations
        );
        let _ = writeln!(
            out,
            "Ineligible API calls filtered: {}",
            coverage.ineligible.calls
        );
    }
    if lists.pending {
        let _ = writeln!(
            out,
            "Pending eligible endpoints filtered: {}",
            coverage.pending.operations
        );
        let _ = writeln!(
            out,
            "Pending eligible API calls filtered: {}",
            coverage.pending.calls
        );
    }
    if catalogue.has_deprecated() {
        let _ = writeln!(
            out,
            "Deprecated endpoints filtered: {}",
            coverage.deprecated.operations
        );
        let _ = writeln!(
            out,
            "Deprecated API calls filtered: {}",
            coverage.deprecated.calls
        );
    }
    let _ = writeln!(
        out,
        "Results {}",
        match sort {
            SortOrder::Name => "sorted alphabetically",
            SortOrder::Count => "sorted by count (descending)",
        }
    );
    let _ = writeln!(out);
    let _ = writeln!(out, "Endpoint Name (OpenAPI Operation ID) | Count");
    out.push_str(&dash);
    for op in sorted(catalogue, tally, &coverage.kept, sort) {
        let _ = write!(
            out,
            "\n{} | {}",
            catalogue.get(op).id,
            tally.ops[op.index()].total()
        );
    }
    if not_found_lines {
        for op in &coverage.stable_not_found {
            let _ = write!(out, "\n{} | NOT FOUND", catalogue.get(*op).id);
        }
    }
    // The reference joins lines with "\n" and writes no final newline.
    out
}

/// `kept` is in first-hit order; both sorts are stable over it, as Python's
/// `sorted` and `Counter.most_common` are over insertion order.
fn sorted(catalogue: &Catalogue, tally: &Tally, kept: &[OpId], sort: SortOrder) -> Vec<OpId> {
    let mut ops = kept.to_vec();
    match sort {
        SortOrder::Name => ops.sort_by_cached_key(|op| catalogue.get(*op).id.to_lowercase()),
        SortOrder::Count => ops.sort_by_key(|op| std::cmp::Reverse(tally.ops[op.index()].total())),
    }
    ops
}
