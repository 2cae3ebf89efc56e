//! Coverage: the run's counts seen through the spec and the tracking lists:
//! which hit operations pass the filters, what each filter removed, which
//! stable operations were never exercised, which pending ones were.

use crate::aggregate::Tally;
use crate::lists::EndpointList;
use crate::spec::{Catalogue, OpId};

/// Why an operation is left out of the endpoint list (first reason wins, in
/// the reference's order: ineligible, pending, deprecated).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Filtered {
    /// Listed in `ineligible_endpoints.yaml`.
    Ineligible,
    /// Listed in `pending_eligible_endpoints.yaml`.
    Pending,
    /// Deprecated in the spec.
    Deprecated,
}

/// Operations and calls one filter removed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FilterCount {
    /// Distinct operations removed.
    pub operations: u64,
    /// Requests to them.
    pub calls: u64,
}

/// The coverage view of one run.
#[derive(Debug)]
pub struct Coverage {
    /// Hit operations that pass every filter, in order of first hit.
    pub kept: Vec<OpId>,
    /// Hit operations removed as ineligible.
    pub ineligible: FilterCount,
    /// Hit operations removed as pending-eligible.
    pub pending: FilterCount,
    /// Hit operations removed as deprecated.
    pub deprecated: FilterCount,
    /// Stable, observable, not deprecated, ineligible or pending, never hit;
    /// sorted by name.
    pub stable_not_found: Vec<OpId>,
    /// Listed as pending-eligible yet exercised; sorted by name.
    pub pending_exercised: Vec<OpId>,
}

impl Coverage {
    /// Classifies every operation of `catalogue` for the run in `tally`.
    pub fn new(
        catalogue: &Catalogue,
        tally: &Tally,
        ineligible: &EndpointList,
        pending: &EndpointList,
    ) -> Coverage {
        let mut coverage = Coverage {
            kept: Vec::new(),
            ineligible: FilterCount::default(),
            pending: FilterCount::default(),
            deprecated: FilterCount::default(),
            stable_not_found: Vec::new(),
            pending_exercised: Vec::new(),
        };
        for op in tally.ops_by_first_hit() {
            let calls = tally.ops[op.index()].total();
            let count = match filter_of(catalogue, op, ineligible, pending) {
                None => {
                    coverage.kept.push(op);
                    continue;
                }
                Some(Filtered::Ineligible) => &mut coverage.ineligible,
                Some(Filtered::Pending) => &mut coverage.pending,
                Some(Filtered::Deprecated) => &mut coverage.deprecated,
            };
            count.operations += 1;
            count.calls += calls;
        }
        for op in catalogue.sorted_ids() {
            let operation = catalogue.get(op);
            let hit = tally.ops[op.index()].total() > 0;
            if hit && pending.contains(&operation.id) {
                coverage.pending_exercised.push(op);
            }
            if !hit
                && operation.stable
                && operation.observable
                && filter_of(catalogue, op, ineligible, pending).is_none()
            {
                coverage.stable_not_found.push(op);
            }
        }
        coverage
    }

    /// Calls of the kept operations.
    pub fn kept_calls(&self, tally: &Tally) -> u64 {
        self.kept
            .iter()
            .map(|op| tally.ops[op.index()].total())
            .sum()
    }
}

/// By operation index: whether a report shows the operation when it is hit
/// (no filter removes it).
pub fn shown(
    catalogue: &Catalogue,
    ineligible: &EndpointList,
    pending: &EndpointList,
) -> Vec<bool> {
    (0..catalogue.len() as u32)
        .map(|op| filter_of(catalogue, OpId(op), ineligible, pending).is_none())
        .collect()
}

/// The filter that removes `op`, if any.
pub fn filter_of(
    catalogue: &Catalogue,
    op: OpId,
    ineligible: &EndpointList,
    pending: &EndpointList,
) -> Option<Filtered> {
    let operation = catalogue.get(op);
    if ineligible.contains(&operation.id) {
        Some(Filtered::Ineligible)
    } else if pending.contains(&operation.id) {
        Some(Filtered::Pending)
    } else if operation.deprecated {
        Some(Filtered::Deprecated)
    } else {
        None
    }
}
