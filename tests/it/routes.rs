//! The route matcher against every operation of the real Kubernetes specs
//! (1.33–1.36) and the project's own mini spec: each template filled with
//! ordinary and adversarial values must map back to its own operation, under
//! every strategy, and paths outside the spec must map to nothing.

use crate::common;

use apicov_core::routing::LiteralPrefilter;
use apicov_core::routing::{
    check_matcher, AnyMatcher, LinearScan, PathMatcher, RegexDfa, Route, Router, SegmentTrie,
    Strategy, WatchCredit,
};
use apicov_core::spec::{Catalogue, Method, OperationKind};

/// Values a parameter must accept; several are words the reference's name
/// heuristics treat as path keywords.
const PARAM_VALUES: &[&str] = &[
    "default",
    "my-app-7d9f8c6b5-x2x4z",
    "a.b.c",
    "v1-app",
    "v1",
    "status",
    "watch",
    "proxy",
    "log",
    "namespaces",
    "api",
    "nodes",
    "pods",
    "system:node:kind-worker",
    "%2Fetc%2Fpasswd",
    "x%20y",
    "0",
    "{name}",
];

const CATCH_ALL_VALUES: &[&str] = &["a", "a/b/c", "healthz", "metrics/cadvisor", "x/"];

fn fill(template: &str, param: &str, rest: &str) -> String {
    let trimmed = template.strip_suffix('/').unwrap_or(template);
    let mut out = String::new();
    let parts: Vec<&str> = trimmed.split('/').skip(1).collect();
    for (i, part) in parts.iter().enumerate() {
        out.push('/');
        if i + 1 == parts.len() && (*part == "{path}" || *part == "{logpath}") {
            out.push_str(rest);
        } else if part.starts_with('{') {
            out.push_str(param);
        } else {
            out.push_str(part);
        }
    }
    out
}

fn verb_for(kind: OperationKind, method: Method) -> &'static str {
    match (kind, method) {
        (OperationKind::List, _) => "list",
        (OperationKind::Watch | OperationKind::WatchList, _) => "watch",
        (OperationKind::DeleteCollection, _) => "deletecollection",
        (_, Method::Get) => "get",
        (_, Method::Post) => "create",
        (_, Method::Put) => "update",
        (_, Method::Patch) => "patch",
        (_, Method::Delete) => "delete",
        (_, Method::Head) => "head",
        (_, Method::Options) => "options",
    }
}

/// Paths that are in no Kubernetes spec: CRDs, aggregated APIs, health and
/// metrics endpoints, unknown subresources.
const FOREIGN: &[(&str, &str)] = &[
    ("get", "/healthz"),
    ("get", "/livez?verbose"),
    ("get", "/readyz/etcd"),
    ("get", "/metrics"),
    ("get", "/openapi/v2?timeout=32s"),
    ("get", "/openapi/v3/apis/apps/v1"),
    ("get", "/apis/metrics.k8s.io/v1beta1/nodes"),
    (
        "list",
        "/apis/stable.example.com/v1/namespaces/default/crontabs",
    ),
    (
        "get",
        "/apis/stable.example.com/v1/namespaces/default/crontabs/my-cron",
    ),
    ("watch", "/apis/stable.example.com/v1/crontabs?watch=true"),
    (
        "get",
        "/api/v1/namespaces/default/pods/p/unknownsubresource",
    ),
    ("get", "/apis/apps/v1/namespaces/default/deployments/d/x/y"),
    ("get", "/"),
    ("get", ""),
    ("get", "/api/v2"),
    ("frobnicate", "/api/v1/namespaces"),
    ("get", "/api/v1/namespaces//pods"),
];

fn check_catalogue(label: &str, catalogue: &Catalogue) {
    let routes = Route::all(catalogue);
    let trie = SegmentTrie::new(&routes);
    let regex = RegexDfa::new(&routes).unwrap();
    let linear = LinearScan::new(&routes);
    let prefilter = LiteralPrefilter::new(&routes).unwrap();
    let router = Router::with_matcher(
        catalogue,
        SegmentTrie::new(&routes),
        WatchCredit::Deprecated,
    );
    let list_router = Router::with_matcher(catalogue, SegmentTrie::new(&routes), WatchCredit::List);
    let mut checked = 0;
    for (id, op) in catalogue.operations() {
        let verb = verb_for(op.kind, op.method);
        let has_catch_all = op.template.ends_with("{path}") || op.template.ends_with("{logpath}");
        let rests: &[&str] = if has_catch_all {
            CATCH_ALL_VALUES
        } else {
            &["-"]
        };
        for param in PARAM_VALUES {
            for rest in rests {
                let path = fill(&op.template, param, rest);
                for (strategy, m) in [
                    ("trie", &trie as &dyn PathMatcher),
                    ("regex", &regex),
                    ("linear", &linear),
                    ("prefilter", &prefilter),
                ] {
                    let trimmed = apicov_core::routing::split_uri(path.as_bytes()).0;
                    assert_eq!(
                        m.lookup(op.method, trimmed).map(|o| &catalogue.get(o).id),
                        Some(&op.id),
                        "{label} {strategy}: {} {path}",
                        op.method.as_str()
                    );
                }
                for uri in [
                    path.clone(),
                    format!("{path}/"),
                    format!("{path}?timeout=32s"),
                ] {
                    assert_eq!(
                        router.route(verb.as_bytes(), uri.as_bytes()),
                        Some(id),
                        "{label}: {verb} {uri} should be {}",
                        op.id
                    );
                }
                checked += 1;
            }
        }
        // A watch sent the modern way (?watch=true on the list or item path)
        // credits the deprecated /watch/ operation, or the plain one with
        // --watch-credit list.
        if matches!(op.kind, OperationKind::Watch | OperationKind::WatchList) {
            let modern = op.template.replacen("/watch/", "/", 1);
            let plain = catalogue
                .operations()
                .find(|(_, o)| o.method == Method::Get && o.template == modern)
                .map(|(i, _)| i);
            let plain = plain.unwrap_or_else(|| panic!("{label}: no plain path for {}", op.id));
            for param in PARAM_VALUES {
                let path = fill(&modern, param, "-");
                for (verb, query) in [
                    ("watch", "?watch=true"),
                    ("list", "?resourceVersion=1&watch=true"),
                    ("list", "?watch=1&timeoutSeconds=300"),
                    ("watch", ""),
                ] {
                    let uri = format!("{path}{query}");
                    assert_eq!(
                        router.route(verb.as_bytes(), uri.as_bytes()),
                        Some(id),
                        "{label}: {verb} {uri}"
                    );
                    assert_eq!(
                        list_router.route(verb.as_bytes(), uri.as_bytes()),
                        Some(plain),
                        "{label} list credit: {verb} {uri}"
                    );
                }
                let uri = format!("{path}?watch=false");
                assert_eq!(
                    router.route(b"list", uri.as_bytes()),
                    Some(plain),
                    "{label}: {uri}"
                );
            }
        }
    }
    assert!(checked >= catalogue.len() * PARAM_VALUES.len());
    for (verb, uri) in FOREIGN {
        assert_eq!(
            router.route(verb.as_bytes(), uri.as_bytes()),
            None,
            "{label}: {verb} {uri}"
        );
        for strategy in [
            Strategy::Trie,
            Strategy::Regex,
            Strategy::Linear,
            Strategy::Prefilter,
        ] {
            let r = Router::with_matcher(
                catalogue,
                AnyMatcher::build(strategy, catalogue).unwrap(),
                WatchCredit::Deprecated,
            );
            assert_eq!(
                r.route(verb.as_bytes(), uri.as_bytes()),
                None,
                "{label} {strategy:?}: {verb} {uri}"
            );
        }
    }
}

/// The newest real spec; the older ones are `every_older_real_spec…`.
#[test]
fn every_operation_of_the_newest_real_spec_maps_back_to_itself() {
    for (version, path) in common::real_specs()
        .into_iter()
        .filter(|(v, _)| *v == "1.36")
    {
        let bytes = std::fs::read(&path).unwrap();
        let catalogue = Catalogue::from_json(&bytes, &path.display().to_string()).unwrap();
        check_catalogue(version, &catalogue);
    }
}

/// Most of this check's time in a debug build is the linear scan's lookups
/// (three quarters), so the older specs run in CI (`.ci/run`) and on
/// `cargo test -- --ignored`, not in every `cargo test`.
#[test]
#[ignore = "the three older real specs: slow in a debug build, run by .ci/run"]
fn every_operation_of_every_older_real_spec_maps_back_to_itself() {
    for (version, path) in common::real_specs()
        .into_iter()
        .filter(|(v, _)| *v != "1.36")
    {
        let bytes = std::fs::read(&path).unwrap();
        let catalogue = Catalogue::from_json(&bytes, &path.display().to_string()).unwrap();
        check_catalogue(version, &catalogue);
    }
}

#[test]
fn every_operation_of_the_mini_spec_maps_back_to_itself() {
    let bytes = std::fs::read(common::testdata("swagger-mini.json")).unwrap();
    let catalogue = Catalogue::from_json(&bytes, "mini").unwrap();
    check_catalogue("mini", &catalogue);
}

/// Examples from the mapping rules in README, pinned by name.
#[test]
fn documented_examples() {
    let Some(path) = common::shared("k8s/swagger-v1.34.json") else {
        return;
    };
    let catalogue = Catalogue::from_json(&std::fs::read(path).unwrap(), "1.34").unwrap();
    let router = Router::new(&catalogue, WatchCredit::Deprecated);
    let name = |verb: &str, uri: &str| {
        router
            .route(verb.as_bytes(), uri.as_bytes())
            .map(|op| catalogue.get(op).id.clone())
            .unwrap_or_else(|| "-".into())
    };
    assert_eq!(name("get", "/api"), "getCoreAPIVersions");
    assert_eq!(name("get", "/version?timeout=32s"), "getCodeVersion");
    assert_eq!(name("get", "/apis/apps/v1"), "getAppsV1APIResources");
    assert_eq!(
        name("list", "/api/v1/namespaces/x/pods?watch=true"),
        "watchCoreV1NamespacedPodList"
    );
    assert_eq!(
        name("get", "/api/v1/namespaces/kube-system/pods/status"),
        "readCoreV1NamespacedPod"
    );
    assert_eq!(
        name("get", "/api/v1/nodes/kind-worker/proxy/metrics/cadvisor"),
        "connectCoreV1GetNodeProxyWithPath"
    );
    assert_eq!(
        name("get", "/api/v1/nodes/kind-worker/proxy/"),
        "connectCoreV1GetNodeProxy"
    );
    assert_eq!(
        name("create", "/api/v1/namespaces/ns/pods/p/eviction"),
        "createCoreV1NamespacedPodEviction"
    );
    assert_eq!(name("get", "/logs/kube-apiserver.log"), "logFileHandler");
    assert_eq!(
        name("get", "/apis/stable.example.com/v1/namespaces/d/crontabs/x"),
        "-"
    );
    assert_eq!(
        name("get", "/apis/apps/v1/namespaces/d/controllerrevisions/x"),
        "readAppsV1NamespacedControllerRevision"
    );
    assert_eq!(
        name("post", "/apis/authorization.k8s.io/v1/subjectaccessreviews"),
        "createAuthorizationV1SubjectAccessReview"
    );
}

#[test]
fn ops_lists_exactly_the_operation_ids_of_each_real_spec() {
    use assert_cmd::Command;
    let expected_counts = [
        ("1.33", 1041),
        ("1.34", 1062),
        ("1.35", 1067),
        ("1.36", 1123),
    ];
    for (version, path) in common::real_specs() {
        // The operationId set, read independently of the catalogue.
        let doc: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        let mut ids: Vec<String> = doc["paths"]
            .as_object()
            .unwrap()
            .values()
            .flat_map(|item| item.as_object().unwrap().iter())
            .filter(|(k, _)| *k != "parameters")
            .filter_map(|(_, op)| op["operationId"].as_str().map(str::to_string))
            .collect();
        ids.sort();
        ids.dedup();
        let want = expected_counts
            .iter()
            .find(|(v, _)| *v == version)
            .unwrap()
            .1;
        assert_eq!(ids.len(), want, "{version}");
        let expected = ids.iter().map(|id| format!("{id}\n")).collect::<String>();
        Command::cargo_bin("apicov")
            .unwrap()
            .args(["ops", "--swagger"])
            .arg(&path)
            .assert()
            .success()
            .stdout(expected);
    }
}

/// The Aho-Corasick prefilter (and the trie) against the linear scan, for
/// every method, on paths made from the spec's own templates and then
/// broken: segments replaced by other literals of the spec, by values, by
/// empty ones; segments added or cut; long catch-all rests.
#[test]
fn prefilter_equals_the_linear_scan_on_mutated_paths() {
    let mut specs = vec![("mini", common::testdata("swagger-mini.json"))];
    specs.extend(common::real_specs());
    for (label, path) in specs {
        let catalogue =
            Catalogue::from_json(&std::fs::read(&path).unwrap(), &path.display().to_string())
                .unwrap();
        let routes = Route::all(&catalogue);
        let linear = LinearScan::new(&routes);
        let trie = SegmentTrie::new(&routes);
        let prefilter = LiteralPrefilter::new(&routes).unwrap();
        let templates: Vec<&str> = catalogue
            .operations()
            .map(|(_, o)| o.template.as_str())
            .collect();
        let literals: Vec<&str> = templates
            .iter()
            .flat_map(|t| t.split('/'))
            .filter(|s| !s.is_empty() && !s.starts_with('{'))
            .collect();
        let mut state = 0x9E37_79B9_7F4A_7C15u64;
        let mut next = move |n: usize| {
            state ^= state >> 12;
            state ^= state << 25;
            state ^= state >> 27;
            (state.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 33) as usize % n
        };
        let long_rest = "x/".repeat(300);
        let (mut matched, mut total) = (0, 0);
        for _ in 0..5_000 {
            let template = templates[next(templates.len())];
            let mut segments: Vec<String> = fill(template, "v", "a/b")
                .split('/')
                .skip(1)
                .map(String::from)
                .collect();
            for _ in 0..next(3) {
                let at = next(segments.len() + 1);
                let value = match next(6) {
                    0 => String::new(),
                    1 => "watch".into(),
                    2 => long_rest.clone(),
                    _ => literals[next(literals.len())].into(),
                };
                match next(3) {
                    0 if at < segments.len() => segments[at] = value,
                    1 => segments.insert(at, value),
                    _ => segments.truncate(at.max(1)),
                }
            }
            let path = format!("/{}", segments.join("/"));
            let trimmed = apicov_core::routing::split_uri(path.as_bytes()).0;
            for method in Method::ALL {
                let want = linear.lookup(method, trimmed);
                assert_eq!(
                    prefilter.lookup(method, trimmed),
                    want,
                    "{label} prefilter: {} {path}",
                    method.as_str()
                );
                assert_eq!(trie.lookup(method, trimmed), want, "{label} trie: {path}");
                matched += usize::from(want.is_some());
                total += 1;
            }
        }
        assert!(
            matched * 10 > total / 7,
            "{label}: {matched} of {total} matched"
        );
    }
}

/// Found by the prefilter's differential test: the trie refused a catch-all
/// rest that starts with an empty segment (`/logs//a/b`), which the linear
/// scan and the regex take (the rest `/a/b` is not empty).
#[test]
fn trie_catch_all_rest_may_start_with_an_empty_segment() {
    let bytes = std::fs::read(common::testdata("swagger-mini.json")).unwrap();
    let catalogue = Catalogue::from_json(&bytes, "mini").unwrap();
    let routes = Route::all(&catalogue);
    let linear = LinearScan::new(&routes);
    let want = linear.lookup(Method::Get, b"/logs//a/b");
    assert!(want.is_some());
    assert_eq!(
        SegmentTrie::new(&routes).lookup(Method::Get, b"/logs//a/b"),
        want
    );
    assert_eq!(linear.lookup(Method::Get, b"/logs/"), None);
    assert_eq!(
        SegmentTrie::new(&routes).lookup(Method::Get, b"/logs/"),
        None
    );
}

#[test]
fn every_strategy_passes_the_matcher_conformance_check() {
    // The newest real spec only: the tests above compare the strategies on
    // every spec, and the linear scan is slow in a debug build.
    let mut specs = vec![("mini", common::testdata("swagger-mini.json"))];
    specs.extend(common::real_specs().pop());
    let mut checked = 0;
    for (version, path) in &specs {
        let catalogue = Catalogue::from_json(&std::fs::read(path).unwrap(), "spec").unwrap();
        for strategy in [
            Strategy::Trie,
            Strategy::Regex,
            Strategy::Linear,
            Strategy::Prefilter,
        ] {
            let matcher = AnyMatcher::build(strategy, &catalogue).unwrap();
            if let Err(found) = check_matcher(&catalogue, &matcher) {
                panic!("{version} {strategy:?}: {found}");
            }
            checked += 1;
        }
    }
    assert_eq!(checked, 4 * specs.len());
}
