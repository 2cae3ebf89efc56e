//! `--junit`: one testcase per stable, observable operation, so CI dashboards
//! show the coverage gaps: passed when exercised, skipped (with the reason)
//! when ineligible, pending or deprecated, failed when never hit, and failed
//! with the gate's wording when a pending-eligible operation is exercised.

use std::fmt::Write as _;

use super::{Body, Caveats, Render, Run};
use apicov_core::aggregate::Tally;
use apicov_core::coverage::{filter_of, Coverage, Filtered};
use apicov_core::lists::EndpointList;
use apicov_core::spec::Catalogue;

/// The JUnit XML (`--junit`).
#[derive(Debug, Clone, Copy, Default)]
pub struct Junit;

impl Render for Junit {
    fn render<'a>(&'a self, run: &Run<'a>, _: &'a Coverage) -> Body<'a> {
        render(
            run.catalogue,
            run.tally,
            run.ineligible,
            run.pending,
            run.caveats,
        )
        .into_bytes()
        .into()
    }
}

/// The JUnit XML: one testcase per stable observable operation, failed when untested or pending yet exercised.
fn render(
    catalogue: &Catalogue,
    tally: &Tally,
    ineligible: &EndpointList,
    pending: &EndpointList,
    caveats: Caveats,
) -> String {
    let suite = format!(
        "Kubernetes API coverage: stable operations{}",
        caveats.title_suffix()
    );
    let mut cases = String::new();
    let (mut tests, mut failures, mut skipped) = (0, 0, 0);
    for id in catalogue.sorted_ids() {
        let op = catalogue.get(id);
        let hits = tally.ops[id.index()].total();
        // A pending operation that is exercised trips a gate whatever its
        // stability, so it is always a testcase: the dashboard shows why the
        // job failed.
        let pending_exercised = hits > 0 && pending.contains(&op.id);
        if !pending_exercised && (!op.stable || !op.observable) {
            continue;
        }
        tests += 1;
        let class = match (&op.group, &op.version) {
            (Some(g), Some(v)) if g.is_empty() => format!("core/{v}"),
            (Some(g), Some(v)) => format!("{g}/{v}"),
            (Some(g), None) => g.clone(),
            _ => "non-resource".to_string(),
        };
        let _ = write!(
            cases,
            "    <testcase classname=\"{}\" name=\"{}\" time=\"0\">",
            super::escape_markup(&class),
            super::escape_markup(&op.id)
        );
        let skip_reason = match filter_of(catalogue, id, ineligible, pending) {
            Some(Filtered::Ineligible) => {
                let entry = ineligible.entry(&op.id);
                let reason = entry
                    .and_then(|e| e.reason.as_deref())
                    .unwrap_or("no reason given");
                let link = entry
                    .and_then(|e| e.link.as_deref())
                    .map(|l| format!(" ({l})"))
                    .unwrap_or_default();
                Some(format!("ineligible: {reason}{link}"))
            }
            Some(Filtered::Pending) => Some(format!("pending eligible ({})", pending.source)),
            Some(Filtered::Deprecated) => Some("deprecated".to_string()),
            None => None,
        };
        if pending_exercised {
            failures += 1;
            let _ = write!(
                cases,
                "\n      <failure message=\"{}\" type=\"PendingExercised\">{} {}</failure>\n    ",
                super::escape_markup(&super::summary::pending_exercised_gate(
                    &op.id,
                    hits,
                    &pending.source
                )),
                op.method.as_str(),
                super::escape_markup(&op.template)
            );
            cases.push_str("</testcase>\n");
            continue;
        }
        match (skip_reason, hits) {
            (Some(reason), _) => {
                skipped += 1;
                let _ = write!(
                    cases,
                    "\n      <skipped message=\"{}\"/>\n    ",
                    super::escape_markup(&reason)
                );
            }
            (None, 0) => {
                failures += 1;
                let _ = write!(
                    cases,
                    "\n      <failure message=\"not exercised by any request in the audit logs\" type=\"NotFound\">{} {}</failure>\n    ",
                    op.method.as_str(),
                    super::escape_markup(&op.template)
                );
            }
            (None, n) => {
                let _ = write!(
                    cases,
                    "\n      <system-out>{}</system-out>\n    ",
                    crate::counted(n, "request", "requests")
                );
            }
        }
        cases.push_str("</testcase>\n");
    }
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
         <testsuites name=\"apicov\" tests=\"{tests}\" failures=\"{failures}\" errors=\"0\" skipped=\"{skipped}\">\n\
         \x20 <testsuite name=\"{suite}\" tests=\"{tests}\" failures=\"{failures}\" errors=\"0\" skipped=\"{skipped}\" time=\"0\">\n\
         {cases}\
         \x20 </testsuite>\n\
         </testsuites>\n"
    )
}
