//! Near misses: for a stable operation the run did not exercise, what the
//! run did that comes close, so "untested" can be told from "tested but not
//! counted" (apisnoop #271, #362, #363, #660):
//!
//! - the same path with another verb (another operation of the template was
//!   hit: `patch` where the operation is `update`);
//! - the same resource in another API version (`…/v1beta1/…` hit where the
//!   operation is `…/v1/…`);
//! - requests that a run with `--conformance-only` left out because they came
//!   from other clients (the kubelet, controllers, kube-scheduler's
//!   `pods/binding`);
//! - unmatched request patterns that differ from the template in one segment
//!   (a typo'd or renamed path).
//!
//! Everything comes from what the scan already keeps (operation counts,
//! unmatched patterns, requests left out by client), so the hot path pays
//! nothing; a report JSON holds the same data, so `apicov explain` works
//! from a report as well as from a run.

use std::collections::BTreeMap;

use serde_json::{json, Value};

use apicov_core::spec::{Catalogue, OpId, Operation};

/// What a run did, by operation name: the input of near-miss finding.
#[derive(Debug, Clone, Default)]
pub struct RunView {
    /// Requests per operation hit.
    pub hits: BTreeMap<String, u64>,
    /// Unmatched requests: (verb, pattern) → count.
    pub unmatched: BTreeMap<(String, String), u64>,
    /// Requests left out by `--conformance-only`: operation → client → count.
    pub left_out: BTreeMap<String, BTreeMap<String, u64>>,
}

impl RunView {
    /// What `tally` holds (`left_out` under `--conformance-only`).
    pub fn from_tally(catalogue: &Catalogue, tally: &apicov_core::aggregate::Tally) -> RunView {
        let mut view = RunView::default();
        for (id, op) in catalogue.operations() {
            let n = tally.ops[id.index()].total();
            if n > 0 {
                view.hits.insert(op.id.clone(), n);
            }
        }
        for (key, hits) in &tally.unmatched {
            view.unmatched
                .insert((key.verb.clone(), key.pattern.clone()), hits.total());
        }
        for ((actor, op), n) in &tally.left_out {
            let client = tally.actors.actors[*actor as usize].name().to_string();
            *view
                .left_out
                .entry(catalogue.get(*op).id.clone())
                .or_default()
                .entry(client)
                .or_default() += n;
        }
        view
    }

    /// `left_out` as the report JSON holds it.
    pub fn left_out_json(&self) -> Value {
        json!(self.left_out)
    }

    /// Reads `operations`, `unmatched` and `left_out` of a report JSON.
    pub fn from_report(report: &Value) -> RunView {
        let mut view = RunView::default();
        for (op, n) in report
            .get("operations")
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
        {
            view.hits.insert(op.clone(), n.as_u64().unwrap_or(0));
        }
        for u in report
            .get("unmatched")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let text = |k: &str| u.get(k).and_then(Value::as_str).unwrap_or("").to_string();
            view.unmatched.insert(
                (text("verb"), text("pattern")),
                u.get("count").and_then(Value::as_u64).unwrap_or(0),
            );
        }
        for (op, clients) in report
            .get("left_out")
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
        {
            let by_client = clients
                .as_object()
                .into_iter()
                .flatten()
                .map(|(c, n)| (c.clone(), n.as_u64().unwrap_or(0)))
                .collect();
            view.left_out.insert(op.clone(), by_client);
        }
        view
    }
}

/// One near miss.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NearMiss {
    /// Another operation of the same path was hit.
    OtherVerb {
        /// The operation hit.
        operation: String,
        /// Its HTTP method.
        method: String,
        /// Requests to it.
        requests: u64,
    },
    /// The same resource in another API version was hit.
    OtherVersion {
        /// The operation hit.
        operation: String,
        /// Its API version.
        version: String,
        /// Requests to it.
        requests: u64,
    },
    /// Requests to it from other clients, left out by `--conformance-only`.
    OtherClient {
        /// The client (user agent product).
        client: String,
        /// Its requests to the operation.
        requests: u64,
    },
    /// Unmatched requests whose pattern differs from the template in one
    /// segment.
    Unmatched {
        /// The audit verb.
        verb: String,
        /// The normalised path pattern.
        pattern: String,
        /// Requests in the group.
        requests: u64,
    },
}

impl NearMiss {
    /// The kind's name in JSON.
    pub fn kind(&self) -> &'static str {
        match self {
            NearMiss::OtherVerb { .. } => "other_verb",
            NearMiss::OtherVersion { .. } => "other_version",
            NearMiss::OtherClient { .. } => "other_client",
            NearMiss::Unmatched { .. } => "unmatched_one_segment",
        }
    }

    /// One line for people.
    pub fn describe(&self) -> String {
        match self {
            NearMiss::OtherVerb {
                operation,
                method,
                requests,
            } => format!(
                "same path, other verb: {operation} ({method}) was hit {}",
                crate::times(*requests)
            ),
            NearMiss::OtherVersion {
                operation,
                version,
                requests,
            } => format!(
                "same resource, other version: {operation} ({version}) was hit {}",
                crate::times(*requests)
            ),
            NearMiss::OtherClient { client, requests } => format!(
                "{} from {client}, not a conformance test (left out by --conformance-only)",
                crate::counted(*requests, "request", "requests")
            ),
            NearMiss::Unmatched {
                verb,
                pattern,
                requests,
            } => format!("{requests} unmatched `{verb} {pattern}`: one segment from its path"),
        }
    }

    /// The near miss as JSON (report JSON's `near_misses`).
    pub fn to_json(&self) -> Value {
        let mut v = match self {
            NearMiss::OtherVerb {
                operation,
                method,
                requests,
            } => json!({"operation": operation, "method": method, "requests": requests}),
            NearMiss::OtherVersion {
                operation,
                version,
                requests,
            } => json!({"operation": operation, "version": version, "requests": requests}),
            NearMiss::OtherClient { client, requests } => {
                json!({"client": client, "requests": requests})
            }
            NearMiss::Unmatched {
                verb,
                pattern,
                requests,
            } => json!({"verb": verb, "pattern": pattern, "requests": requests}),
        };
        v["kind"] = json!(self.kind());
        v
    }
}

/// A template's segments with every parameter as `{}`.
fn shape(template: &str) -> Vec<&str> {
    template
        .trim_matches('/')
        .split('/')
        .map(|s| if s.starts_with('{') { "{}" } else { s })
        .collect()
}

/// The template with its version segment replaced, and that version:
/// `/apis/batch/v1/…` → (`/apis/batch/*/…`, `v1`).
fn without_version(op: &Operation) -> Option<(String, String)> {
    let version = op.version.as_ref()?;
    let segments: Vec<&str> = op.template.split('/').collect();
    let at = segments.iter().position(|s| s == version)?;
    let mut rest = segments.clone();
    rest[at] = "*";
    Some((rest.join("/"), version.clone()))
}

/// Segments equal, or one of them a parameter.
fn segment_matches(template: &str, seen: &str) -> bool {
    template == "{}" || seen.starts_with('{') || template == seen
}

/// The near misses of operation `id` in `run`, most requests first within
/// each kind, kinds in the order of the module docs.
pub fn near_misses(catalogue: &Catalogue, id: OpId, run: &RunView) -> Vec<NearMiss> {
    let op = catalogue.get(id);
    let mut found = Vec::new();
    let hit = |other: &Operation| run.hits.get(&other.id).copied().unwrap_or(0);
    let mut by_verb: Vec<NearMiss> = Vec::new();
    let mut by_version: Vec<NearMiss> = Vec::new();
    let versionless = without_version(op);
    for (other_id, other) in catalogue.operations() {
        if other_id == id || hit(other) == 0 {
            continue;
        }
        if other.template == op.template {
            by_verb.push(NearMiss::OtherVerb {
                operation: other.id.clone(),
                method: other.method.as_str().to_string(),
                requests: hit(other),
            });
        } else if other.method == op.method {
            if let (Some((mine, _)), Some((theirs, version))) =
                (&versionless, without_version(other))
            {
                if *mine == theirs {
                    by_version.push(NearMiss::OtherVersion {
                        operation: other.id.clone(),
                        version,
                        requests: hit(other),
                    });
                }
            }
        }
    }
    for list in [&mut by_verb, &mut by_version] {
        list.sort_by_key(|m| std::cmp::Reverse(requests_of(m)));
        found.append(list);
    }
    if let Some(clients) = run.left_out.get(&op.id) {
        let mut by_client: Vec<NearMiss> = clients
            .iter()
            .map(|(client, n)| NearMiss::OtherClient {
                client: client.clone(),
                requests: *n,
            })
            .collect();
        by_client.sort_by_key(|m| std::cmp::Reverse(requests_of(m)));
        found.extend(by_client);
    }
    let mine = shape(&op.template);
    let mut unmatched: Vec<NearMiss> = run
        .unmatched
        .iter()
        .filter(|((_, pattern), _)| {
            let seen: Vec<&str> = pattern.trim_matches('/').split('/').collect();
            seen.len() == mine.len()
                && mine
                    .iter()
                    .zip(&seen)
                    .filter(|(t, s)| !segment_matches(t, s))
                    .count()
                    == 1
        })
        .map(|((verb, pattern), n)| NearMiss::Unmatched {
            verb: verb.clone(),
            pattern: pattern.clone(),
            requests: *n,
        })
        .collect();
    unmatched.sort_by_key(|m| std::cmp::Reverse(requests_of(m)));
    found.extend(unmatched);
    found
}

fn requests_of(m: &NearMiss) -> u64 {
    match m {
        NearMiss::OtherVerb { requests, .. }
        | NearMiss::OtherVersion { requests, .. }
        | NearMiss::OtherClient { requests, .. }
        | NearMiss::Unmatched { requests, .. } => *requests,
    }
}

/// Near misses of every listed operation, as the report JSON holds them
/// (operations without any are left out).
pub fn to_json(catalogue: &Catalogue, ops: &[OpId], run: &RunView) -> Value {
    let mut map = serde_json::Map::new();
    for &id in ops {
        let misses = near_misses(catalogue, id, run);
        if !misses.is_empty() {
            map.insert(
                catalogue.get(id).id.clone(),
                Value::Array(misses.iter().map(NearMiss::to_json).collect()),
            );
        }
    }
    Value::Object(map)
}

#[cfg(test)]
mod tests {
    #[test]
    fn one_segment_apart() {
        let t = super::shape("/apis/apps/v1/namespaces/{namespace}/deployments/{name}/scale");
        let seen: Vec<&str> = "apis/apps/v1/namespaces/{namespace}/deployments/{name}/scal"
            .split('/')
            .collect();
        let differing = t
            .iter()
            .zip(&seen)
            .filter(|(a, b)| !super::segment_matches(a, b))
            .count();
        assert_eq!(differing, 1);
    }
}
