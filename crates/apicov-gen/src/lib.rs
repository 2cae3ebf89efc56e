//! A deterministic generator of realistic audit logs, driven by a spec, with
//! the true count per operation: the ground truth for tests and the input for
//! benchmarks.
//!
//! What it writes: `RequestReceived` + `ResponseComplete` pairs (watches get
//! `ResponseStarted` too, and complete some lines later), Go-escaped query
//! strings (`\u0026`), Metadata / Request / RequestResponse levels with bodies
//! (request bodies of access reviews hold decoy `verb`/`stage` keys), about
//! 1 KB a line at Metadata level, power-law popularity with a tail of
//! operations never called, names that defeat heuristics (`status`, `watch`,
//! `v1-app`, dotted), custom-resource and non-resource traffic, e2e.test user
//! agents, and optional noise lines.
//!
//! Two more shapes of real jobs' logs, for benchmarks ([`Shape`]): large
//! request and response bodies (`bodies.rs`), and a third of the traffic on
//! custom resources and aggregated APIs, paths in no spec.

#![deny(missing_docs)]

mod bodies;
mod options;
mod rng;

pub use options::{GenOptions, Level, Shape};

use std::fmt::Write as _;

use serde_json::{json, Map, Value};

use apicov_core::spec::{Catalogue, Method, OpId, OperationKind};

use rng::Rng;

/// The true figures of a generated log.
#[derive(Debug, Clone, Default)]
pub struct Truth {
    /// Requests written (one per auditID).
    pub requests: u64,
    /// Requests per operation (deprecated-watch credit).
    pub operations: std::collections::BTreeMap<String, u64>,
    /// Requests per operation under `--watch-credit list`.
    pub operations_list_credit: std::collections::BTreeMap<String, u64>,
    /// Requests no operation matches.
    pub unmatched: u64,
    /// Lines that are not audit events.
    pub malformed_lines: u64,
    /// Empty lines.
    pub blank_lines: u64,
    /// Events written, all stages.
    pub events: u64,
    /// Requests per test and per client, per operation.
    pub tests: std::collections::BTreeMap<String, std::collections::BTreeMap<String, u64>>,
    /// Requests per client (user agent product), per operation.
    pub clients: std::collections::BTreeMap<String, std::collections::BTreeMap<String, u64>>,
    /// Requests per operation made by `[Conformance]` specs.
    pub conformance_operations: std::collections::BTreeMap<String, u64>,
}

impl Truth {
    /// The figures as the JSON `apicov gen --truth` writes.
    pub fn to_json(&self) -> Value {
        json!({
            "requests": self.requests,
            "unmatched_requests": self.unmatched,
            "malformed_lines": self.malformed_lines,
            "blank_lines": self.blank_lines,
            "events": self.events,
            "operations": self.operations,
            "operations_list_credit": self.operations_list_credit,
            "tests": self.tests,
            "clients": self.clients,
            "conformance_operations": self.conformance_operations,
        })
    }
}

const NAMES: &[&str] = &[
    "default",
    "kube-system",
    "e2e-tests-deployment-x7k2p",
    "status",
    "watch",
    "v1-app",
    "proxy",
    "log",
    "a.b.example.com",
    "namespaces",
    "coredns-7d9f8c6b5-x2x4z",
    "kind-worker",
    "system:node:kind-worker",
    "scale",
];

/// User agents, with the test (or client) each one names and whether that
/// is a conformance test: written out here, not derived, so the truth does
/// not depend on the code under test.
const USER_AGENTS: &[(&str, &str, Who)] = &[
    ("kubelet/v1.34.0 (linux/amd64) kubernetes/a1b2c3d", "kubelet", Who::Client),
    (
        "kube-controller-manager/v1.34.0 (linux/amd64) kubernetes/a1b2c3d/system:serviceaccount:kube-system:deployment-controller",
        "kube-controller-manager",
        Who::Client,
    ),
    ("kube-scheduler/v1.34.0 (linux/amd64) kubernetes/a1b2c3d/leader-election", "kube-scheduler", Who::Client),
    (
        "e2e.test/v1.34.0 (linux/amd64) kubernetes/a1b2c3d -- [sig-apps] Deployment should run the lifecycle of a Deployment [Conformance]",
        "[sig-apps] Deployment should run the lifecycle of a Deployment [Conformance]",
        Who::ConformanceTest,
    ),
    (
        "e2e.test/v1.34.0 (linux/amd64) kubernetes/a1b2c3d -- [sig-node] Pods should be updated [NodeConformance] [Conformance]",
        "[sig-node] Pods should be updated [NodeConformance] [Conformance]",
        Who::ConformanceTest,
    ),
    (
        "e2e.test/v1.34.0 (linux/amd64) kubernetes/a1b2c3d -- [sig-api-machinery] CustomResourceDefinition Watch watch on custom resource definition objects",
        "[sig-api-machinery] CustomResourceDefinition Watch watch on custom resource definition objects",
        Who::Test,
    ),
    ("e2e.test/v1.34.0 (linux/amd64) kubernetes/a1b2c3d", "e2e.test", Who::Client),
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Who {
    Client,
    Test,
    ConformanceTest,
}

/// One planned request: what the log shows and what it should count as.
struct Planned {
    verb: String,
    uri: String,
    truth: Option<OpId>,
    truth_list: Option<OpId>,
    watch: bool,
    resource: Option<(String, String, String, String)>,
    /// `--shape large-bodies`: the bodies logged with it.
    bodies: Option<bodies::Bodies>,
}

/// Writes a log of about `options.target_bytes` into `out`; returns the truth.
pub fn generate(catalogue: &Catalogue, options: &GenOptions, out: &mut Vec<u8>) -> Truth {
    let mut rng = Rng(options.seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
    // Popularity: a seeded order of the observable operations, weight
    // 1/rank^1.1, and the last fifth never called.
    let mut ops: Vec<OpId> = catalogue
        .operations()
        .filter(|(_, o)| o.observable)
        .map(|(id, _)| id)
        .collect();
    for i in (1..ops.len()).rev() {
        ops.swap(i, rng.below(i + 1));
    }
    let called = ops.len() - ops.len() / 5;
    let mut cumulative = Vec::with_capacity(called);
    let mut total = 0.0;
    for rank in 0..called {
        total += 1.0 / ((rank + 1) as f64).powf(1.1);
        cumulative.push(total);
    }

    let mut truth = Truth::default();
    let mut deferred: Vec<(u64, String)> = Vec::new();
    let mut line_no: u64 = 0;
    let mut t: u64 = 0;
    while (out.len() as u64) < options.target_bytes {
        t += 1;
        let roll = rng.below(100);
        // Percent of requests outside the spec: custom resources and
        // aggregated APIs, then non-resource paths.
        let (foreign, non_resource_end) = match options.shape {
            Shape::CrdHeavy => (33, 35),
            _ => (4, 6),
        };
        let mut planned = if roll < foreign {
            match options.shape {
                Shape::CrdHeavy => foreign_resource(&mut rng),
                _ => custom_resource(&mut rng),
            }
        } else if roll < non_resource_end {
            non_resource(&mut rng)
        } else {
            let x = (rng.next() >> 11) as f64 / (1u64 << 53) as f64 * total;
            let rank = cumulative.partition_point(|c| *c < x).min(called - 1);
            plan(catalogue, ops[rank], &mut rng)
        };
        truth.requests += 1;
        match planned.truth {
            Some(op) => {
                *truth
                    .operations
                    .entry(catalogue.get(op).id.clone())
                    .or_default() += 1
            }
            None => truth.unmatched += 1,
        }
        if let Some(op) = planned.truth_list {
            *truth
                .operations_list_credit
                .entry(catalogue.get(op).id.clone())
                .or_default() += 1;
        }
        let id = rng.uuid();
        let (ua, actor, who) = USER_AGENTS[rng.below(USER_AGENTS.len())];
        if let Some(op) = planned.truth {
            let name = catalogue.get(op).id.clone();
            let by = if who == Who::Client {
                &mut truth.clients
            } else {
                &mut truth.tests
            };
            *by.entry(actor.to_string())
                .or_default()
                .entry(name.clone())
                .or_default() += 1;
            if who == Who::ConformanceTest {
                *truth.conformance_operations.entry(name).or_default() += 1;
            }
        }
        if options.shape == Shape::LargeBodies {
            planned.bodies = Some(bodies::bodies(
                &planned.verb,
                &planned.uri,
                planned.resource.as_ref(),
                options.level,
                &mut rng,
            ));
        }
        let mut stages: Vec<&str> = Vec::new();
        if !options.omit_request_received {
            stages.push("RequestReceived");
        }
        if planned.watch {
            stages.push("ResponseStarted");
        }
        for stage in stages {
            let line = event_line(&planned, &id, stage, ua, options.level, t, &mut rng);
            emit(out, &line, options.noise, &mut rng, &mut truth);
            line_no += 1;
        }
        let complete = event_line(
            &planned,
            &id,
            "ResponseComplete",
            ua,
            options.level,
            t,
            &mut rng,
        );
        if planned.watch {
            deferred.push((line_no + 3 + rng.below(40) as u64, complete));
        } else {
            emit(out, &complete, options.noise, &mut rng, &mut truth);
            line_no += 1;
        }
        let mut i = 0;
        while i < deferred.len() {
            if deferred[i].0 <= line_no {
                let (_, line) = deferred.swap_remove(i);
                emit(out, &line, options.noise, &mut rng, &mut truth);
                line_no += 1;
            } else {
                i += 1;
            }
        }
        if options.noise && rng.chance(2) {
            noise_line(out, &mut rng, &mut truth);
        }
    }
    for (_, line) in deferred {
        emit(out, &line, options.noise, &mut rng, &mut truth);
    }
    truth
}

fn emit(out: &mut Vec<u8>, line: &str, noise: bool, rng: &mut Rng, truth: &mut Truth) {
    out.extend_from_slice(line.as_bytes());
    truth.events += 1;
    if noise && rng.chance(5) {
        out.extend_from_slice(b"\r\n");
    } else {
        out.push(b'\n');
    }
}

fn noise_line(out: &mut Vec<u8>, rng: &mut Rng, truth: &mut Truth) {
    match rng.below(4) {
        0 => {
            out.extend_from_slice(b"\n");
            truth.blank_lines += 1;
        }
        1 => {
            out.extend_from_slice(b"I1126 10:00:00.000000 1 log.go:1] not json at all\n");
            truth.malformed_lines += 1;
        }
        2 => {
            out.extend_from_slice(
                b"{\"kind\":\"Event\",\"apiVersion\":\"audit.k8s.io/v1\",\"level\":\"Metadata\",\"auditID\":\"torn\",\"stage\":\"RequestRec\n",
            );
            truth.malformed_lines += 1;
        }
        _ => {
            out.extend_from_slice(
                b"{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"status\":\"Failure\"}\n",
            );
            truth.malformed_lines += 1;
        }
    }
}

fn fill(template: &str, rng: &mut Rng) -> (String, Option<String>, Option<String>) {
    let trimmed = template.strip_suffix('/').unwrap_or(template);
    let mut path = String::new();
    let (mut namespace, mut name) = (None, None);
    let parts: Vec<&str> = trimmed.split('/').skip(1).collect();
    for (i, part) in parts.iter().enumerate() {
        path.push('/');
        match *part {
            "{namespace}" => {
                let v = NAMES[rng.below(NAMES.len())];
                namespace = Some(v.to_string());
                path.push_str(v);
            }
            "{path}" | "{logpath}" if i + 1 == parts.len() => path.push_str("metrics/cadvisor"),
            p if p.starts_with('{') => {
                let v = NAMES[rng.below(NAMES.len())];
                name = Some(v.to_string());
                path.push_str(v);
            }
            p => path.push_str(p),
        }
    }
    if template.ends_with('/') && rng.chance(50) {
        path.push('/');
    }
    (path, namespace, name)
}

fn plan(catalogue: &Catalogue, op: OpId, rng: &mut Rng) -> Planned {
    let o = catalogue.get(op);
    let (mut path, namespace, name) = fill(&o.template, rng);
    let mut truth_list = Some(op);
    let (verb, query, watch) = match o.kind {
        OperationKind::Watch | OperationKind::WatchList => {
            // Clients watch the modern way: ?watch=true on the plain path.
            let plain = o.template.replacen("/watch/", "/", 1);
            path = path.replacen("/watch/", "/", 1);
            truth_list = catalogue
                .operations()
                .find(|(_, p)| p.method == Method::Get && p.template == plain)
                .map(|(id, _)| id);
            let rv = rng.below(900_000) + 1000;
            ("watch", format!("?allowWatchBookmarks=true\\u0026resourceVersion={rv}\\u0026timeout=7m3s\\u0026timeoutSeconds=423\\u0026watch=true"), true)
        }
        OperationKind::List => (
            "list",
            "?limit=500\\u0026resourceVersion=0".to_string(),
            false,
        ),
        OperationKind::DeleteCollection => ("deletecollection", String::new(), false),
        OperationKind::Create => (
            "create",
            "?fieldManager=kubectl-client-side-apply\\u0026fieldValidation=Strict".to_string(),
            false,
        ),
        OperationKind::Replace => ("update", "?timeout=10s".to_string(), false),
        OperationKind::Patch => ("patch", "?fieldManager=kubectl-edit".to_string(), false),
        OperationKind::Delete => ("delete", String::new(), false),
        OperationKind::Read => (
            "get",
            if rng.chance(30) {
                "?timeout=32s".into()
            } else {
                String::new()
            },
            false,
        ),
        OperationKind::Connect => match o.method {
            Method::Post => (
                "create",
                "?command=date\\u0026stdout=true".to_string(),
                false,
            ),
            Method::Put => ("update", String::new(), false),
            Method::Patch => ("patch", String::new(), false),
            Method::Delete => ("delete", String::new(), false),
            _ => ("get", String::new(), false),
        },
        OperationKind::Discovery | OperationKind::NonResource => {
            let verb = match o.method {
                Method::Get => "get",
                Method::Post => "post",
                Method::Put => "put",
                Method::Patch => "patch",
                Method::Delete => "delete",
                Method::Head => "head",
                Method::Options => "options",
            };
            (verb, "?timeout=32s".to_string(), false)
        }
    };
    let resource = o.group.clone().zip(o.version.clone()).map(|(g, v)| {
        let res = o
            .template
            .split('/')
            .rev()
            .find(|s| !s.starts_with('{') && !s.is_empty())
            .unwrap_or("")
            .to_string();
        (g, v, res, namespace.clone().unwrap_or_default())
    });
    let _ = name;
    Planned {
        verb: verb.to_string(),
        uri: format!("{path}{query}"),
        truth: Some(op),
        truth_list,
        watch,
        resource,
        bodies: None,
    }
}

fn custom_resource(rng: &mut Rng) -> Planned {
    let ns = NAMES[rng.below(NAMES.len())];
    let name = NAMES[rng.below(NAMES.len())];
    let (verb, uri) = match rng.below(4) {
        0 => (
            "get",
            format!("/apis/stable.example.com/v1/namespaces/{ns}/crontabs/{name}"),
        ),
        1 => (
            "list",
            format!("/apis/stable.example.com/v1/namespaces/{ns}/crontabs?limit=500"),
        ),
        2 => ("get", format!("/apis/metrics.k8s.io/v1beta1/nodes/{name}")),
        _ => (
            "create",
            "/apis/snapshot.storage.k8s.io/v1/namespaces/default/volumesnapshots".to_string(),
        ),
    };
    Planned {
        verb: verb.into(),
        uri,
        truth: None,
        truth_list: None,
        watch: false,
        resource: None,
        bodies: None,
    }
}

/// Custom resources (namespaced and cluster-scoped, every verb, status
/// subresources, watches) and aggregated APIs: what a cluster with
/// operators and metrics-server adds to a run. No spec path matches them.
fn foreign_resource(rng: &mut Rng) -> Planned {
    const CRDS: &[(&str, &str, &str, bool)] = &[
        ("example.com", "v1", "widgets", true),
        ("stable.example.com", "v1", "crontabs", true),
        ("cert-manager.io", "v1", "certificates", true),
        ("monitoring.coreos.com", "v1", "servicemonitors", true),
        ("monitoring.coreos.com", "v1", "prometheusrules", true),
        ("snapshot.storage.k8s.io", "v1", "volumesnapshots", true),
        ("argoproj.io", "v1alpha1", "applications", true),
        ("example.com", "v1", "clusterwidgets", false),
        ("crd.projectcalico.org", "v1", "ippools", false),
        ("apiextensions.example.io", "v1beta1", "gadgets", false),
    ];
    const AGGREGATED: &[&str] = &[
        "/apis/metrics.k8s.io/v1beta1/nodes",
        "/apis/metrics.k8s.io/v1beta1/nodes/kind-worker",
        "/apis/metrics.k8s.io/v1beta1/namespaces/kube-system/pods",
        "/apis/metrics.k8s.io/v1beta1/namespaces/default/pods/coredns-7d9f8c6b5-x2x4z",
        "/apis/metrics.k8s.io/v1beta1",
        "/apis/custom.metrics.k8s.io/v1beta2/namespaces/default/pods/*/http_requests",
        "/apis/external.metrics.k8s.io/v1beta1/namespaces/default/queue_length",
    ];
    if rng.chance(25) {
        let path = AGGREGATED[rng.below(AGGREGATED.len())];
        let mut segments = path.split('/').skip(2);
        let (group, version) = (segments.next().unwrap_or(""), segments.next().unwrap_or(""));
        let verb = if path.ends_with("nodes") || path.ends_with("pods") {
            "list"
        } else {
            "get"
        };
        let resource = ["nodes", "pods"]
            .into_iter()
            .find(|r| path.contains(&format!("/{r}")));
        return Planned {
            verb: verb.into(),
            uri: format!("{path}?timeout=32s"),
            truth: None,
            truth_list: None,
            watch: false,
            resource: resource.map(|r| (group.into(), version.into(), r.into(), String::new())),
            bodies: None,
        };
    }
    let (group, version, resource, namespaced) = CRDS[rng.below(CRDS.len())];
    let ns = NAMES[rng.below(NAMES.len())];
    let name = NAMES[rng.below(NAMES.len())];
    let base = if namespaced {
        format!("/apis/{group}/{version}/namespaces/{ns}/{resource}")
    } else {
        format!("/apis/{group}/{version}/{resource}")
    };
    let rv = rng.below(900_000) + 1000;
    let (verb, uri, watch) = match rng.below(10) {
        0..=2 => ("get", format!("{base}/{name}"), false),
        3 => ("list", format!("{base}?limit=500"), false),
        4 => (
            "watch",
            format!("{base}?allowWatchBookmarks=true\\u0026resourceVersion={rv}\\u0026watch=true"),
            true,
        ),
        5 => (
            "create",
            format!("{base}?fieldManager=kubectl-client-side-apply"),
            false,
        ),
        6 => ("update", format!("{base}/{name}/status"), false),
        7 => (
            "patch",
            format!("{base}/{name}?fieldManager=e2e.test"),
            false,
        ),
        8 => ("delete", format!("{base}/{name}"), false),
        _ => ("deletecollection", base, false),
    };
    Planned {
        verb: verb.into(),
        uri,
        truth: None,
        truth_list: None,
        watch,
        resource: Some((
            group.into(),
            version.into(),
            resource.into(),
            if namespaced { ns.into() } else { String::new() },
        )),
        bodies: None,
    }
}

fn non_resource(rng: &mut Rng) -> Planned {
    let uri = [
        "/healthz",
        "/readyz?verbose",
        "/livez",
        "/metrics",
        "/openapi/v2?timeout=32s",
        "/openapi/v3",
    ][rng.below(6)];
    Planned {
        verb: "get".into(),
        uri: uri.into(),
        truth: None,
        truth_list: None,
        watch: false,
        resource: None,
        bodies: None,
    }
}

/// One event line, keys in the order Go's encoder writes them.
fn event_line(
    p: &Planned,
    id: &str,
    stage: &str,
    ua: &str,
    level: Level,
    t: u64,
    rng: &mut Rng,
) -> String {
    let level_name = match level {
        Level::Metadata => "Metadata",
        Level::Request => "Request",
        Level::RequestResponse => "RequestResponse",
    };
    let secs = t / 1000;
    let ts = format!(
        "2026-11-26T{:02}:{:02}:{:02}.{:06}Z",
        (secs / 3600) % 24,
        (secs / 60) % 60,
        secs % 60,
        (t % 1000) * 997
    );
    let mut s = String::with_capacity(1400);
    let _ = write!(
        s,
        r#"{{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"{level_name}","auditID":"{id}","stage":"{stage}","requestURI":"{}","verb":"{}","user":{{"username":"system:serviceaccount:kube-system:generic-garbage-collector","uid":"0b5ce2e8-2f3a-4c1d-9e7b-3c2d1f0a9b8c","groups":["system:serviceaccounts","system:serviceaccounts:kube-system","system:authenticated"],"extra":{{"authentication.kubernetes.io/credential-id":["JTI=5f1c2b3a-4d5e-6f70-8192-a3b4c5d6e7f8"]}}}},"sourceIPs":["172.18.0.{}"],"userAgent":"{ua}""#,
        p.uri,
        p.verb,
        rng.below(250) + 2
    );
    if let Some((group, version, resource, namespace)) = &p.resource {
        let _ = write!(s, r#","objectRef":{{"resource":"{resource}","#);
        if !namespace.is_empty() {
            let _ = write!(s, r#""namespace":"{namespace}","#);
        }
        let _ = write!(s, r#""apiGroup":"{group}","apiVersion":"{version}"}}"#);
    }
    if stage != "RequestReceived" {
        let _ = write!(s, r#","responseStatus":{{"metadata":{{}},"code":200}}"#);
    }
    if let Some(bodies) = &p.bodies {
        if let Some(body) = &bodies.request {
            let _ = write!(s, r#","requestObject":{body}"#);
        }
        if let Some(body) = bodies
            .response
            .as_ref()
            .filter(|_| stage == "ResponseComplete")
        {
            let _ = write!(s, r#","responseObject":{body}"#);
        }
    } else if level != Level::Metadata && p.verb == "create" {
        // An access review body holds its own verb/stage-like keys: a decoy.
        let _ = write!(
            s,
            r#","requestObject":{{"kind":"SubjectAccessReview","apiVersion":"authorization.k8s.io/v1","spec":{{"resourceAttributes":{{"namespace":"default","verb":"delete","group":"apps","resource":"deployments"}},"user":"jane","stage":"RequestReceived","requestURI":"/decoy"}},"status":{{"allowed":false}}}}"#
        );
    }
    if p.bodies.is_none() && level == Level::RequestResponse && stage == "ResponseComplete" {
        let mut labels = Map::new();
        labels.insert("app.kubernetes.io/name".into(), Value::from("héllo-wörld"));
        labels.insert("ratio".into(), Value::from(0.00001));
        let body = json!({"kind":"Status","apiVersion":"v1","metadata":{"labels": labels},"status":"Success","details":{"retryAfterSeconds":1.5,"causes":[]}});
        let _ = write!(s, r#","responseObject":{body}"#);
    }
    let _ = write!(
        s,
        r#","requestReceivedTimestamp":"{ts}","stageTimestamp":"{ts}","annotations":{{"authorization.k8s.io/decision":"allow","authorization.k8s.io/reason":"RBAC: allowed by ClusterRoleBinding \"system:controller:generic-garbage-collector\" of ClusterRole \"system:controller:generic-garbage-collector\" to ServiceAccount \"generic-garbage-collector/kube-system\""}}}}"#
    );
    s
}
