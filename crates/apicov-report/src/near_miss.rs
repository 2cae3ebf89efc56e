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
//! - unmatched request patterns of the same verb that differ from the
//!   template in one segment (a typo'd or renamed path). A path of one
//!   segment has none: `/healthz` is not a typo of `/version/`.
//!
//! Everything comes from what the scan already keeps (operation counts,
//! unmatched patterns, requests left out by client), so the hot path pays
//! nothing; a report JSON holds the same data, so `apicov explain` works
//! from a report as well as from a run.

use std::cell::Cell;
use std::collections::{BTreeMap, HashMap};

use serde_json::{json, Value};

use apicov_core::spec::{Catalogue, Method, OpId, Operation};

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
        for (key, hits) in tally.unmatched() {
            view.unmatched
                .insert((key.verb.clone(), key.pattern.clone()), hits.total());
        }
        for ((actor, op), n) in tally.left_out() {
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

/// What near-miss finding looks up, built once per run: hit operations by
/// template and by version-less template, unmatched patterns by segment
/// count. Finding an operation's near misses then costs its own candidates,
/// not a pass over the whole catalogue (which made a report quadratic in
/// the spec's size: 47 s with 30k extra paths).
pub struct NearMissIndex<'a> {
    catalogue: &'a Catalogue,
    run: &'a RunView,
    /// Hit operations by template, in catalogue order.
    by_template: HashMap<&'a str, Vec<OpId>>,
    /// Hit operations by (method, template with its version as `*`), in
    /// catalogue order, with that version.
    by_versionless: HashMap<(Method, String), Vec<(OpId, String)>>,
    /// Unmatched groups by their pattern's segment count and the HTTP method
    /// their verb implies, in `run` order.
    unmatched_by_shape: HashMap<(usize, Method), Vec<UnmatchedGroup<'a>>>,
    /// Candidates looked at so far (the work, for tests).
    examined: Cell<u64>,
}

struct UnmatchedGroup<'a> {
    verb: &'a str,
    pattern: &'a str,
    segments: Vec<&'a str>,
    requests: u64,
}

impl<'a> NearMissIndex<'a> {
    /// Indexes the hit operations of `catalogue` and the unmatched groups of
    /// `run`.
    pub fn new(catalogue: &'a Catalogue, run: &'a RunView) -> NearMissIndex<'a> {
        let mut by_template: HashMap<&str, Vec<OpId>> = HashMap::new();
        let mut by_versionless: HashMap<(Method, String), Vec<(OpId, String)>> = HashMap::new();
        for (id, op) in catalogue.operations() {
            if run.hits.get(&op.id).copied().unwrap_or(0) == 0 {
                continue;
            }
            by_template.entry(&op.template).or_default().push(id);
            if let Some((versionless, version)) = without_version(op) {
                by_versionless
                    .entry((op.method, versionless))
                    .or_default()
                    .push((id, version));
            }
        }
        let mut unmatched_by_shape: HashMap<(usize, Method), Vec<UnmatchedGroup>> = HashMap::new();
        for ((verb, pattern), n) in &run.unmatched {
            let Some(info) = apicov_core::routing::verb_info(verb.as_bytes()) else {
                continue;
            };
            let segments: Vec<&str> = pattern.trim_matches('/').split('/').collect();
            unmatched_by_shape
                .entry((segments.len(), info.method))
                .or_default()
                .push(UnmatchedGroup {
                    verb,
                    pattern,
                    segments,
                    requests: *n,
                });
        }
        NearMissIndex {
            catalogue,
            run,
            by_template,
            by_versionless,
            unmatched_by_shape,
            examined: Cell::new(0),
        }
    }

    /// Candidates looked at by [`NearMissIndex::near_misses`] so far: hit
    /// operations sharing a template or a version-less template, unmatched
    /// groups of the same length and method. Tests bound the work by it.
    pub fn examined(&self) -> u64 {
        self.examined.get()
    }

    fn count(&self, n: usize) {
        self.examined.set(self.examined.get() + n as u64);
    }

    /// The near misses of operation `id`, most requests first within each
    /// kind, kinds in the order of the module docs.
    pub fn near_misses(&self, id: OpId) -> Vec<NearMiss> {
        let catalogue = self.catalogue;
        let run = self.run;
        let op = catalogue.get(id);
        let mut found = Vec::new();
        let hit = |other: &Operation| run.hits.get(&other.id).copied().unwrap_or(0);
        let mut by_verb: Vec<NearMiss> = Vec::new();
        let same_template = self
            .by_template
            .get(op.template.as_str())
            .map_or(&[][..], Vec::as_slice);
        self.count(same_template.len());
        for &other_id in same_template {
            if other_id == id {
                continue;
            }
            let other = catalogue.get(other_id);
            by_verb.push(NearMiss::OtherVerb {
                operation: other.id.clone(),
                method: other.method.as_str().to_string(),
                requests: hit(other),
            });
        }
        let mut by_version: Vec<NearMiss> = Vec::new();
        if let Some((versionless, _)) = without_version(op) {
            let same_resource = self
                .by_versionless
                .get(&(op.method, versionless))
                .map_or(&[][..], Vec::as_slice);
            self.count(same_resource.len());
            for (other_id, version) in same_resource {
                let other = catalogue.get(*other_id);
                // Same template is the other-verb kind (or the operation itself).
                if *other_id == id || other.template == op.template {
                    continue;
                }
                by_version.push(NearMiss::OtherVersion {
                    operation: other.id.clone(),
                    version: version.clone(),
                    requests: hit(other),
                });
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
        // One segment apart from a one-segment path is any other path.
        let same_shape = if mine.len() < 2 {
            &[][..]
        } else {
            self.unmatched_by_shape
                .get(&(mine.len(), op.method))
                .map_or(&[][..], Vec::as_slice)
        };
        self.count(same_shape.len());
        let mut unmatched: Vec<NearMiss> = same_shape
            .iter()
            .filter(|group| {
                mine.iter()
                    .zip(&group.segments)
                    .filter(|(t, s)| !segment_matches(t, s))
                    .count()
                    == 1
            })
            .map(|group| NearMiss::Unmatched {
                verb: group.verb.to_string(),
                pattern: group.pattern.to_string(),
                requests: group.requests,
            })
            .collect();
        unmatched.sort_by_key(|m| std::cmp::Reverse(requests_of(m)));
        found.extend(unmatched);
        found
    }
}

/// The near misses of operation `id` in `run` (one operation; for many,
/// build a [`NearMissIndex`] once).
pub fn near_misses(catalogue: &Catalogue, id: OpId, run: &RunView) -> Vec<NearMiss> {
    NearMissIndex::new(catalogue, run).near_misses(id)
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
    let index = NearMissIndex::new(catalogue, run);
    let mut map = serde_json::Map::new();
    for &id in ops {
        let misses = index.near_misses(id);
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

    /// A spec of `paths` paths (get and put each, in v1 and v1beta1), a run
    /// that hit every v1beta1 get and a few unmatched patterns.
    fn generated(paths: usize) -> (apicov_core::spec::Catalogue, super::RunView) {
        let mut spec = String::from(r#"{"paths":{"#);
        for i in 0..paths {
            let version = if i % 2 == 0 { "v1" } else { "v1beta1" };
            let resource = i / 2;
            if i > 0 {
                spec.push(',');
            }
            spec.push_str(&format!(
                r#""/apis/g{resource}/{version}/things/{{name}}":{{"get":{{"operationId":"get{i}"}},"put":{{"operationId":"put{i}"}}}}"#
            ));
        }
        spec.push_str("}}");
        let catalogue = apicov_core::spec::Catalogue::from_json(spec.as_bytes(), "gen").unwrap();
        let mut run = super::RunView::default();
        for i in (1..paths).step_by(2) {
            run.hits.insert(format!("get{i}"), i as u64);
        }
        for i in (0..paths).step_by(3) {
            run.hits.insert(format!("put{i}"), (i % 7) as u64 + 1);
        }
        for i in 0..10 {
            run.unmatched
                .insert(("get".into(), format!("/apis/g{i}/v1/thingz/{{name}}")), 1);
        }
        (catalogue, run)
    }

    /// Issue #30 (6): report time grew quadratically in the spec's paths
    /// because every operation looked at every other. The work must grow
    /// with the operations, and the answers stay what they were.
    #[test]
    fn near_miss_work_is_linear_in_the_spec() {
        let mut work = Vec::new();
        for paths in [10_000, 30_000] {
            let (catalogue, run) = generated(paths);
            let index = super::NearMissIndex::new(&catalogue, &run);
            let mut found = 0;
            for (id, _) in catalogue.operations() {
                found += index.near_misses(id).len();
            }
            // Each v1 get and put: a v1beta1 get (other version or, for put,
            // none: other method); each v1beta1 put: its get (other verb);
            // each v1 get one unmatched group (of verb get) for i < 10.
            assert!(found >= paths, "{found} near misses for {paths} paths");
            // Per operation: its template's hit operations (up to two), its
            // resource's in other versions (up to two) and the unmatched
            // groups (ten): never the rest of the catalogue.
            let ops = catalogue.len() as u64;
            let bound = ops * (4 + run.unmatched.len() as u64);
            assert!(
                index.examined() <= bound,
                "{} candidates for {ops} operations",
                index.examined()
            );
            work.push((ops, index.examined()));
        }
        let (small, large) = (work[0].1, work[1].1);
        assert!(large <= small * 4, "10k paths: {small}, 30k paths: {large}");
    }

    /// Issue #31 (6): `/healthz`, `/livez` and `/metrics` were offered as
    /// "one segment away" from `/version/` and `/api/`, and a `get` pattern
    /// as a near miss of a PUT. One-segment paths get no unmatched near
    /// misses, and the others only those of their own method.
    #[test]
    fn unmatched_near_misses_need_the_verb_and_two_segments() {
        let spec = br#"{"paths":{
            "/version/":{"get":{"operationId":"getCodeVersion"}},
            "/api/":{"get":{"operationId":"getCoreAPIVersions"}},
            "/api/v1/namespaces/{namespace}/configmaps/{name}":{
                "get":{"operationId":"readConfigMap"},
                "put":{"operationId":"replaceConfigMap"},
                "delete":{"operationId":"deleteConfigMap"}}}}"#;
        let catalogue = apicov_core::spec::Catalogue::from_json(spec, "mini").unwrap();
        let mut run = super::RunView::default();
        for (verb, pattern, n) in [
            ("get", "/healthz", 5),
            ("get", "/livez", 4),
            ("get", "/metrics", 3),
            ("get", "/api/v1/namespaces/{namespace}/configmap/{name}", 2),
            (
                "update",
                "/api/v1/namespaces/{namespace}/configmap/{name}",
                1,
            ),
            (
                "frobnicate",
                "/api/v1/namespaces/{namespace}/configmap/{name}",
                7,
            ),
        ] {
            run.unmatched.insert((verb.into(), pattern.into()), n);
        }
        let index = super::NearMissIndex::new(&catalogue, &run);
        let found = |op: &str| index.near_misses(catalogue.lookup(op).unwrap());
        let unmatched = |verb: &str, requests: u64| {
            vec![super::NearMiss::Unmatched {
                verb: verb.into(),
                pattern: "/api/v1/namespaces/{namespace}/configmap/{name}".into(),
                requests,
            }]
        };
        assert_eq!(found("getCodeVersion"), []);
        assert_eq!(found("getCoreAPIVersions"), []);
        assert_eq!(found("readConfigMap"), unmatched("get", 2));
        assert_eq!(found("replaceConfigMap"), unmatched("update", 1));
        assert_eq!(found("deleteConfigMap"), []);
        // One group of GET for the read, one of PUT for the replace: the
        // one-segment paths and the DELETE look at none.
        assert_eq!(index.examined(), 2);
        for (id, _) in catalogue.operations() {
            assert_index_answers_as_the_scan(&catalogue, &index, &run, id);
        }
    }

    /// The index's near misses of `id` are the catalogue pass's.
    fn assert_index_answers_as_the_scan(
        catalogue: &apicov_core::spec::Catalogue,
        index: &super::NearMissIndex,
        run: &super::RunView,
        id: apicov_core::spec::OpId,
    ) {
        assert_eq!(
            index.near_misses(id),
            near_misses_by_scan(catalogue, id, run),
            "{}",
            catalogue.get(id).id
        );
    }

    /// What the index replaced: a pass over the whole catalogue per
    /// operation (quadratic), kept as the reference the index must equal.
    fn near_misses_by_scan(
        catalogue: &apicov_core::spec::Catalogue,
        id: apicov_core::spec::OpId,
        run: &super::RunView,
    ) -> Vec<super::NearMiss> {
        let op = catalogue.get(id);
        let mut found = Vec::new();
        let hit =
            |other: &apicov_core::spec::Operation| run.hits.get(&other.id).copied().unwrap_or(0);
        let mut by_verb: Vec<super::NearMiss> = Vec::new();
        let mut by_version: Vec<super::NearMiss> = Vec::new();
        let versionless = super::without_version(op);
        for (other_id, other) in catalogue.operations() {
            if other_id == id || hit(other) == 0 {
                continue;
            }
            if other.template == op.template {
                by_verb.push(super::NearMiss::OtherVerb {
                    operation: other.id.clone(),
                    method: other.method.as_str().to_string(),
                    requests: hit(other),
                });
            } else if other.method == op.method {
                if let (Some((mine, _)), Some((theirs, version))) =
                    (&versionless, super::without_version(other))
                {
                    if *mine == theirs {
                        by_version.push(super::NearMiss::OtherVersion {
                            operation: other.id.clone(),
                            version,
                            requests: hit(other),
                        });
                    }
                }
            }
        }
        for list in [&mut by_verb, &mut by_version] {
            list.sort_by_key(|m| std::cmp::Reverse(super::requests_of(m)));
            found.append(list);
        }
        if let Some(clients) = run.left_out.get(&op.id) {
            let mut by_client: Vec<super::NearMiss> = clients
                .iter()
                .map(|(client, n)| super::NearMiss::OtherClient {
                    client: client.clone(),
                    requests: *n,
                })
                .collect();
            by_client.sort_by_key(|m| std::cmp::Reverse(super::requests_of(m)));
            found.extend(by_client);
        }
        let mine = super::shape(&op.template);
        let mut unmatched: Vec<super::NearMiss> = run
            .unmatched
            .iter()
            .filter(|((verb, pattern), _)| {
                let seen: Vec<&str> = pattern.trim_matches('/').split('/').collect();
                let same_method = apicov_core::routing::verb_info(verb.as_bytes())
                    .is_some_and(|info| info.method == op.method);
                same_method
                    && mine.len() >= 2
                    && seen.len() == mine.len()
                    && mine
                        .iter()
                        .zip(&seen)
                        .filter(|(t, s)| !super::segment_matches(t, s))
                        .count()
                        == 1
            })
            .map(|((verb, pattern), n)| super::NearMiss::Unmatched {
                verb: verb.clone(),
                pattern: pattern.clone(),
                requests: *n,
            })
            .collect();
        unmatched.sort_by_key(|m| std::cmp::Reverse(super::requests_of(m)));
        found.extend(unmatched);
        found
    }

    /// The index finds what a pass over the whole catalogue finds, in the
    /// same order.
    #[test]
    fn index_answers_as_the_catalogue_pass() {
        let (catalogue, run) = generated(40);
        let index = super::NearMissIndex::new(&catalogue, &run);
        for (id, op) in catalogue.operations() {
            assert_index_answers_as_the_scan(&catalogue, &index, &run, id);
            let mut expected = Vec::new();
            for (other_id, other) in catalogue.operations() {
                let n = run.hits.get(&other.id).copied().unwrap_or(0);
                if other_id == id || n == 0 {
                    continue;
                }
                if other.template == op.template {
                    expected.push(other.id.clone());
                }
            }
            let got: Vec<String> = index
                .near_misses(id)
                .into_iter()
                .filter_map(|m| match m {
                    super::NearMiss::OtherVerb { operation, .. } => Some(operation),
                    _ => None,
                })
                .collect();
            assert_eq!(got, expected, "{}", op.id);
        }
    }
}
