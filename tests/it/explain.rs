//! Explaining verdicts: `apicov promotions` over real Kubernetes specs and
//! lists, and near misses (each kind planted in a log) in the report JSON,
//! `apicov explain` and the HTML page.

use crate::common;

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;

use common::{apicov, empty_list, mini_spec, spec_and_lists};
use serde_json::{json, Value};

/// `apicov ops --long` of a spec: operation → (stable, deprecated, observable).
fn classes(spec: &Path) -> BTreeMap<String, (bool, bool, bool)> {
    let out = apicov()
        .args(["ops", "--long", "--swagger"])
        .arg(spec)
        .assert()
        .success();
    String::from_utf8(out.get_output().stdout.clone())
        .unwrap()
        .lines()
        .skip(1)
        .map(|line| {
            let c: Vec<&str> = line.split('\t').collect();
            (
                c[0].to_string(),
                (c[5] == "true", c[6] == "true", c[7] == "true"),
            )
        })
        .collect()
}

/// The operationIds a tracking list names, read as plain text.
fn listed(path: &Path) -> Vec<String> {
    fs::read_to_string(path)
        .unwrap()
        .lines()
        .filter_map(|l| {
            let l = l.trim().trim_start_matches("- ");
            let l = l.strip_prefix("endpoint:").unwrap_or(l).trim();
            (!l.is_empty() && !l.contains(':') && !l.starts_with('#') && l != "---")
                .then(|| l.to_string())
        })
        .collect()
}

/// Promotions between real specs with the real lists and a generated run:
/// every newly stable operation gets exactly the rule its data implies.
#[test]
fn promotions_give_each_newly_stable_operation_its_rule() {
    let (Some(old), Some(new), Some(new35), Some(ineligible), Some(pending)) = (
        common::shared("k8s/swagger-v1.35.json"),
        common::shared("k8s/swagger-v1.36.json"),
        common::shared("k8s/swagger-v1.35.json"),
        common::shared("k8s/ineligible_endpoints.yaml"),
        common::shared("k8s/pending_eligible_endpoints.yaml"),
    ) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let lists = [
        "--ineligible-endpoints".into(),
        ineligible.clone().into_os_string(),
        "--pending-eligible-endpoints".into(),
        pending.clone().into_os_string(),
    ];
    // 1.34 -> 1.35 promoted nothing to GA.
    let base34 = common::shared("k8s/swagger-v1.34.json").unwrap();
    apicov()
        .args(["promotions", "--base-swagger"])
        .arg(&base34)
        .arg("--swagger")
        .arg(&new35)
        .args(&lists)
        .assert()
        .success()
        .stdout("0 operation(s) newly stable; 0 without a test, pending or ineligible entry\n");

    // A run against 1.36, parsed with --by-test.
    let log = d.join("run.log");
    apicov()
        .args(["gen", "--swagger"])
        .arg(&new)
        .arg("-o")
        .arg(&log)
        .args(["--size", "3M", "--seed", "11"])
        .assert()
        .success();
    let report = d.join("report.json");
    apicov()
        .args(["parse", "--by-test", "--no-fail", "-q", "--audit-logs"])
        .arg(&log)
        .arg("--swagger")
        .arg(&new)
        .args(&lists)
        .arg("--report-json")
        .arg(&report)
        .arg("--audit-operations-json")
        .arg(d.join("ops.json"))
        .arg("-o")
        .arg(d.join("e.txt"))
        .assert()
        .success();
    let run: Value = serde_json::from_slice(&fs::read(&report).unwrap()).unwrap();

    let out = apicov()
        .args(["promotions", "--format", "json", "--base-swagger"])
        .arg(&old)
        .arg("--swagger")
        .arg(&new)
        .args(&lists)
        .arg("--report")
        .arg(&report)
        .assert();
    let got: Value = serde_json::from_slice(&out.get_output().stdout).unwrap();

    // The expected rules, from the data itself.
    let (before, after) = (classes(&old), classes(&new));
    let (ineligible, pending) = (listed(&ineligible), listed(&pending));
    let mut expected: BTreeMap<String, (String, u64)> = BTreeMap::new();
    for (op, (stable, deprecated, observable)) in &after {
        let was_stable = before.get(op).is_some_and(|c| c.0);
        if !stable || was_stable {
            continue;
        }
        let requests = run["operations"][op.as_str()].as_u64().unwrap_or(0);
        let rule = if requests > 0 {
            "hit"
        } else if pending.contains(op) {
            "pending"
        } else if ineligible.contains(op) {
            "ineligible"
        } else if *deprecated {
            "deprecated"
        } else if !observable {
            "unobservable"
        } else {
            "untested"
        };
        expected.insert(op.clone(), (rule.to_string(), requests));
    }
    let actual: BTreeMap<String, (String, u64)> = got["operations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["operation"].as_str().unwrap().to_string(),
                (
                    p["rule"].as_str().unwrap().to_string(),
                    p["requests"].as_u64().unwrap_or(0),
                ),
            )
        })
        .collect();
    assert_eq!(actual, expected);
    assert_eq!(expected.len(), 18, "1.35 -> 1.36 promoted 18 operations");
    let failing = expected.values().filter(|(r, _)| r == "untested").count();
    assert_eq!(got["failing"], failing);
    out.code(if failing > 0 { 1 } else { 0 });
    // At least one of each rule the data allows, so the test can fail.
    assert!(expected.values().any(|(r, _)| r == "hit"));
    assert!(expected.values().any(|(r, _)| r == "untested"));
    // Hit operations name the tests that hit them.
    for p in got["operations"].as_array().unwrap() {
        if p["rule"] == "hit" {
            let op = p["operation"].as_str().unwrap();
            let tests: Vec<&str> = run["attribution"]["operations"][op]["tests"]
                .as_object()
                .map(|t| t.keys().map(String::as_str).collect())
                .unwrap_or_default();
            assert_eq!(p["tests"], json!(tests), "{op}");
        }
    }
    // Markdown for a PR comment: one table row per operation.
    let md = apicov()
        .args([
            "promotions",
            "--format",
            "markdown",
            "--no-fail",
            "--base-swagger",
        ])
        .arg(&old)
        .arg("--swagger")
        .arg(&new)
        .args(&lists)
        .arg("--report")
        .arg(&report)
        .assert()
        .success();
    let md = String::from_utf8(md.get_output().stdout.clone()).unwrap();
    assert_eq!(
        md.lines()
            .filter(|l| l.starts_with("| ✅") || l.starts_with("| ❌"))
            .count(),
        18
    );
    assert_eq!(
        md.lines().filter(|l| l.starts_with("| ❌")).count(),
        failing
    );
}

/// A conformance e2e test's user agent.
const E2E: &str = "e2e.test/v1.36.0 (linux/amd64) kubernetes/abc -- [sig-apps] Deployment should run the lifecycle of a Deployment [Conformance]";

fn event(id: u32, verb: &str, uri: &str, user_agent: &str) -> String {
    format!(
        r#"{{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"00000000-0000-0000-0000-{id:012}","stage":"ResponseComplete","requestURI":"{uri}","verb":"{verb}","userAgent":"{user_agent}"}}"#
    )
}

/// Each kind of near miss planted in a log: found in the report JSON, in
/// `apicov explain` and on the HTML page.
#[test]
fn near_misses_are_found_in_the_report_explain_and_html() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // The mini spec plus a beta version of one resource.
    let mut spec: Value = serde_json::from_slice(&fs::read(mini_spec()).unwrap()).unwrap();
    spec["paths"]["/apis/apps/v1beta2/namespaces/{namespace}/deployments/{name}"] = json!({
        "get": {"operationId": "readAppsV1beta2NamespacedDeployment", "description": "read"}
    });
    let spec_path = d.join("spec.json");
    fs::write(&spec_path, serde_json::to_vec(&spec).unwrap()).unwrap();
    let lines = [
        // The same path, another verb: GET hit, PUT not.
        event(1, "get", "/api/v1/namespaces/ns/pods/p", E2E),
        // The same resource in another version.
        event(
            2,
            "get",
            "/apis/apps/v1beta2/namespaces/ns/deployments/d",
            E2E,
        ),
        // Another client, left out by --conformance-only.
        event(
            3,
            "create",
            "/api/v1/namespaces/ns/pods",
            "kube-scheduler/v1.36.0 (linux/amd64) kubernetes/abc/scheduler",
        ),
        event(
            4,
            "create",
            "/api/v1/namespaces/ns/pods",
            "kube-scheduler/v1.36.0 (linux/amd64) kubernetes/abc/scheduler",
        ),
        event(
            5,
            "create",
            "/api/v1/namespaces/ns/pods",
            "kubelet/v1.36.0 (linux/amd64) kubernetes/abc",
        ),
        // A path one segment off (configmap for configmaps).
        event(6, "get", "/api/v1/namespaces/ns/configmap/c", E2E),
    ];
    let log = d.join("audit.log");
    fs::write(&log, lines.join("\n") + "\n").unwrap();
    let empty = empty_list(d);
    apicov()
        .env("SOURCE_DATE_EPOCH", "0")
        .args([
            "parse",
            "--conformance-only",
            "--no-fail",
            "-q",
            "--audit-logs",
        ])
        .arg(&log)
        .args(spec_and_lists(&spec_path, &empty))
        .arg("--report-json")
        .arg(d.join("r.json"))
        .arg("--html")
        .arg(d.join("r.html"))
        .arg("--audit-operations-json")
        .arg(d.join("o.json"))
        .arg("-o")
        .arg(d.join("e.txt"))
        .assert()
        .success();
    let report: Value = serde_json::from_slice(&fs::read(d.join("r.json")).unwrap()).unwrap();
    let near = &report["near_misses"];
    assert_eq!(
        near["replaceCoreV1NamespacedPod"],
        json!([
            {"kind": "other_verb", "operation": "readCoreV1NamespacedPod", "method": "GET", "requests": 1}
        ])
    );
    assert_eq!(
        near["readAppsV1NamespacedDeployment"],
        json!([{"kind": "other_version", "operation": "readAppsV1beta2NamespacedDeployment", "version": "v1beta2", "requests": 1}])
    );
    assert_eq!(
        near["createCoreV1NamespacedPod"],
        json!([
            {"kind": "other_client", "client": "kube-scheduler", "requests": 2},
            {"kind": "other_client", "client": "kubelet", "requests": 1}
        ])
    );
    assert_eq!(
        near["readCoreV1NamespacedConfigMap"],
        json!([{"kind": "unmatched_one_segment", "verb": "get", "pattern": "/api/v1/namespaces/{namespace}/configmap/{name}", "requests": 1}])
    );
    assert_eq!(
        report["left_out"],
        json!({"createCoreV1NamespacedPod": {"kube-scheduler": 2, "kubelet": 1}})
    );

    let explain = |op: &str| {
        apicov()
            .args(["explain", op, "--report"])
            .arg(d.join("r.json"))
            .args(spec_and_lists(&spec_path, &empty))
            .assert()
    };
    explain("createCoreV1NamespacedPod")
        .success()
        .stdout(
            "createCoreV1NamespacedPod (POST /api/v1/namespaces/{namespace}/pods)\n\
             \x20 classification: stable, not deprecated, observable\n\
             \x20 rule: untested: not hit by the run and not listed pending or ineligible: write a conformance test, or list it in pending_eligible_endpoints.yaml\n\
             \x20 near misses:\n\
             \x20   - 2 requests from kube-scheduler, not a conformance test (left out by --conformance-only)\n\
             \x20   - 1 request from kubelet, not a conformance test (left out by --conformance-only)\n",
        );
    explain("readCoreV1NamespacedPod")
        .success()
        .stdout(
            "readCoreV1NamespacedPod (GET /api/v1/namespaces/{namespace}/pods/{name})\n\
             \x20 classification: stable, not deprecated, observable\n\
             \x20 rule: hit: hit by the run (1 request; tests: [sig-apps] Deployment should run the lifecycle of a Deployment [Conformance])\n",
        );
    explain("noSuchOperation").code(2);

    // HEAD and OPTIONS operations: a category of their own, never counted.
    assert_eq!(
        report["unmeasurable"],
        json!([
            "connectCoreV1HeadNodeProxy",
            "connectCoreV1HeadNodeProxyWithPath",
            "connectCoreV1OptionsNodeProxy",
            "connectCoreV1OptionsNodeProxyWithPath"
        ])
    );
    let html = fs::read_to_string(d.join("r.html")).unwrap();
    assert!(html.contains(
        "<div class=stat><div class=v>4</div><div class=k>stable operations no audit log can show"
    ));
    assert!(html.contains("<h2>Near misses of operations not found</h2>"));
    assert!(html.contains(
        "<tr><td>readAppsV1NamespacedDeployment</td><td><ul class=near><li>same resource, other version: readAppsV1beta2NamespacedDeployment (v1beta2) was hit once</li></ul></td></tr>"
    ));
    assert!(html.contains("<li>2 requests from kube-scheduler, not a conformance test (left out by --conformance-only)</li>"));
}

/// `check --base-swagger OLD` runs the same promotions check after the
/// parse, and fails the job on a newly stable operation nobody tests.
#[test]
fn check_with_a_base_spec_checks_promotions() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let mut old: Value = serde_json::from_slice(&fs::read(mini_spec()).unwrap()).unwrap();
    // In the old spec the pod's PUT did not exist and the lease's
    // operations (same ids) were served at v1beta1.
    old["paths"]["/api/v1/namespaces/{namespace}/pods/{name}"]
        .as_object_mut()
        .unwrap()
        .remove("put");
    let lease = old["paths"]
        .as_object_mut()
        .unwrap()
        .remove("/apis/coordination.k8s.io/v1/namespaces/{namespace}/leases/{name}")
        .unwrap();
    old["paths"]["/apis/coordination.k8s.io/v1beta1/namespaces/{namespace}/leases/{name}"] = lease;
    let old_path = d.join("old.json");
    fs::write(&old_path, serde_json::to_vec(&old).unwrap()).unwrap();
    let empty = empty_list(d);
    let check = apicov()
        .current_dir(common::root())
        .args([
            "check",
            "-q",
            "--audit-logs",
            "testdata/audit/kind-conformance-*.log",
        ])
        .args(spec_and_lists(&mini_spec(), &empty))
        .arg("--audit-operations-json")
        .arg(d.join("o.json"))
        .arg("-o")
        .arg(d.join("e.txt"))
        .arg("--ci-audit-endpoints")
        .arg(common::testdata("expected/audit-endpoints.txt"))
        .arg("--base-swagger")
        .arg(&old_path)
        .assert()
        .code(1);
    let stdout = String::from_utf8(check.get_output().stdout.clone()).unwrap();
    let promotions: Vec<&str> = stdout
        .lines()
        .skip_while(|l| !l.contains("newly stable"))
        .take(5)
        .collect();
    let untested = "not hit by the run and not listed pending or ineligible: write a \
                    conformance test, or list it in pending_eligible_endpoints.yaml";
    // The group becomes stable with its first GA version: the
    // getLifecycleAPIGroup case of apisnoop #859.
    assert_eq!(
        promotions,
        [
            "4 operation(s) newly stable; 2 without a test, pending or ineligible entry".to_string(),
            format!("  FAIL    getCoordinationAPIGroup (was pre-GA, GET /apis/coordination.k8s.io/): {untested}"),
            format!("  FAIL    readCoordinationV1NamespacedLease (was v1beta1, GET /apis/coordination.k8s.io/v1/namespaces/{{namespace}}/leases/{{name}}): {untested}"),
            "  ok      replaceCoordinationV1NamespacedLease (was v1beta1, PUT /apis/coordination.k8s.io/v1/namespaces/{namespace}/leases/{name}): hit by the run (2 requests)".to_string(),
            "  ok      replaceCoreV1NamespacedPod (new, PUT /api/v1/namespaces/{namespace}/pods/{name}): hit by the run (3 requests)".to_string(),
        ]
    );
}

/// A run parsed from `dir` with relative paths (spec.json, ineligible.yaml,
/// pending.yaml, as the report then records them): requests to
/// `/healthz`, `/livez` and `/metrics`, a configmap path one segment off
/// with GET and DELETE, and a v1alpha1 list.
fn run_with_recorded_sources(dir: &Path) {
    fs::copy(mini_spec(), dir.join("spec.json")).unwrap();
    fs::copy(
        common::testdata("ineligible-mini.yaml"),
        dir.join("ineligible.yaml"),
    )
    .unwrap();
    fs::copy(
        common::testdata("pending-mini.yaml"),
        dir.join("pending.yaml"),
    )
    .unwrap();
    let lines = [
        event(1, "get", "/healthz", E2E),
        event(2, "get", "/livez", E2E),
        event(3, "get", "/metrics", E2E),
        event(4, "get", "/api/v1/namespaces/ns/configmap/c", E2E),
        event(5, "delete", "/api/v1/namespaces/ns/configmap/c", E2E),
        event(
            6,
            "list",
            "/apis/storagemigration.k8s.io/v1alpha1/storageversionmigrations",
            E2E,
        ),
    ];
    fs::write(dir.join("audit.log"), lines.join("\n") + "\n").unwrap();
    apicov()
        .current_dir(dir)
        .args(["parse", "--no-fail", "-q", "--audit-logs", "audit.log"])
        .args(["--swagger", "spec.json"])
        .args(["--ineligible-endpoints", "ineligible.yaml"])
        .args(["--pending-eligible-endpoints", "pending.yaml"])
        .args(["--report-json", "r.json", "-o", "e.txt"])
        .args(["--audit-operations-json", "o.json"])
        .assert()
        .success();
}

/// The digest a report records for `spec`.
fn digest_of(spec: &Path) -> String {
    apicov_core::spec::Catalogue::from_json(&fs::read(spec).unwrap(), "spec")
        .unwrap()
        .digest()
}

/// Issue #31 (6): `explain OP --report r.json` reads the spec and lists the
/// report records, and one-segment near misses need the verb and a path of
/// two segments or more.
#[test]
fn explain_reads_the_sources_the_report_records() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    run_with_recorded_sources(d);
    let cache = d.join("cache");
    let explain = |cwd: &Path, op: &str, more: &[&str]| {
        apicov()
            .current_dir(cwd)
            .args(["explain", op, "--report"])
            .args(more)
            .arg("--cache-dir")
            .arg(&cache)
            .assert()
    };
    // /healthz, /livez and /metrics are one segment from /version/ and
    // /api/, and no near miss of either.
    explain(d, "getCodeVersion", &["r.json"]).success().stdout(
        "getCodeVersion (GET /version/)\n\
         \x20 classification: stable, not deprecated, observable\n\
         \x20 rule: untested: not hit by the run and not listed pending or ineligible: write a conformance test, or list it in pending_eligible_endpoints.yaml\n\
         \x20 near misses: none in this run\n",
    );
    explain(d, "getCoreAPIVersions", &["r.json"])
        .success()
        .stdout(predicates::str::ends_with(
            "  near misses: none in this run\n",
        ));
    // The path one segment off: the GET's for the read, the DELETE's for
    // the delete.
    explain(d, "readCoreV1NamespacedConfigMap", &["r.json"])
        .success()
        .stdout(
            "readCoreV1NamespacedConfigMap (GET /api/v1/namespaces/{namespace}/configmaps/{name})\n\
             \x20 classification: stable, not deprecated, observable\n\
             \x20 rule: untested: not hit by the run and not listed pending or ineligible: write a conformance test, or list it in pending_eligible_endpoints.yaml\n\
             \x20 near misses:\n\
             \x20   - 1 unmatched `get /api/v1/namespaces/{namespace}/configmap/{name}`: one segment from its path\n",
        );
    explain(d, "deleteCoreV1NamespacedConfigMap", &["r.json"])
        .success()
        .stdout(predicates::str::ends_with(
            "  near misses:\n    - 1 unmatched `delete /api/v1/namespaces/{namespace}/configmap/{name}`: one segment from its path\n",
        ));
    // Alpha and beta operations: no advice to list them (lint-lists
    // rejects such entries).
    explain(d, "listStoragemigrationV1alpha1StorageVersionMigration", &["r.json"])
        .success()
        .stdout(
            "listStoragemigrationV1alpha1StorageVersionMigration (GET /apis/storagemigration.k8s.io/v1alpha1/storageversionmigrations)\n\
             \x20 classification: pre-GA, not deprecated, observable\n\
             \x20 rule: pre-GA: served at v1alpha1: hit by the run (1 request), which counts toward no gate; not eligible for conformance until it is GA, so no test is required and it needs no entry in pending_eligible_endpoints.yaml or ineligible_endpoints.yaml (lint-lists rejects alpha/beta entries)\n",
        );
    explain(d, "getStoragemigrationAPIGroup", &["r.json"])
        .success()
        .stdout(
            "getStoragemigrationAPIGroup (GET /apis/storagemigration.k8s.io/)\n\
             \x20 classification: pre-GA, not deprecated, observable\n\
             \x20 rule: pre-GA: its group serves no GA version: not eligible for conformance until it is GA, so no test is required and it needs no entry in pending_eligible_endpoints.yaml or ineligible_endpoints.yaml (lint-lists rejects alpha/beta entries)\n",
        );
    // The lists as the report records them: the ineligible list's reason
    // comes from its file.
    explain(d, "connectCoreV1GetNodeProxy", &["r.json"])
        .success()
        .stdout(
            "connectCoreV1GetNodeProxy (GET /api/v1/nodes/{name}/proxy)\n\
             \x20 classification: stable, not deprecated, observable, listed ineligible\n\
             \x20 rule: ineligible: listed in ineligible_endpoints.yaml: Unable to be tested, and likely soon deprecated\n\
             \x20 near misses: none in this run\n",
        );

    // From elsewhere the recorded relative paths name nothing: one line
    // each, naming it and the flag that replaces it.
    let elsewhere = d.join("elsewhere");
    fs::create_dir(&elsewhere).unwrap();
    explain(&elsewhere, "getCodeVersion", &["../r.json"])
        .code(2)
        .stdout("")
        .stderr(
            "apicov: error: ../r.json: its spec spec.json is neither cached nor readable (No such file or directory (os error 2)); pass a local copy with --swagger FILE\n\
             apicov: error: ../r.json: its ineligible list ineligible.yaml is neither cached nor readable (No such file or directory (os error 2)); pass a local copy with --ineligible-endpoints FILE\n\
             apicov: error: ../r.json: its pending list pending.yaml is neither cached nor readable (No such file or directory (os error 2)); pass a local copy with --pending-eligible-endpoints FILE\n",
        );
    explain(
        &elsewhere,
        "getCodeVersion",
        &[
            "../r.json",
            "--swagger",
            "../spec.json",
            "--ineligible-endpoints",
            "../ineligible.yaml",
        ],
    )
    .code(2)
    .stdout("")
    .stderr(
        "apicov: error: ../r.json: its pending list pending.yaml is neither cached nor readable (No such file or directory (os error 2)); pass a local copy with --pending-eligible-endpoints FILE\n",
    );
    let given = [
        "--swagger",
        "../spec.json",
        "--ineligible-endpoints",
        "../ineligible.yaml",
        "--pending-eligible-endpoints",
        "../pending.yaml",
    ];
    explain(
        &elsewhere,
        "getCodeVersion",
        &[&["../r.json"][..], &given].concat(),
    )
    .success()
    .stdout(predicates::str::starts_with(
        "getCodeVersion (GET /version/)\n",
    ));

    // Another spec than the report's: refused, naming both.
    let mut other: Value = serde_json::from_slice(&fs::read(mini_spec()).unwrap()).unwrap();
    other["paths"]
        .as_object_mut()
        .unwrap()
        .remove("/logs/")
        .unwrap();
    let other_path = d.join("other.json");
    fs::write(&other_path, serde_json::to_vec(&other).unwrap()).unwrap();
    let (recorded, theirs) = (digest_of(&mini_spec()), digest_of(&other_path));
    assert_ne!(recorded, theirs);
    explain(d, "getCodeVersion", &["r.json", "--swagger", "other.json"])
        .code(2)
        .stdout("")
        .stderr(format!(
            "apicov: error: r.json: parsed against another spec (spec.json, digest {recorded}) \
             than --swagger other.json (digest {theirs}): explain with the spec it was parsed with\n"
        ));
    // The recorded spec's file holds another spec now: refused too.
    fs::copy(&other_path, d.join("spec.json")).unwrap();
    explain(d, "getCodeVersion", &["r.json"])
        .code(2)
        .stdout("")
        .stderr(format!(
            "apicov: error: r.json: parsed against spec.json (digest {recorded}), which holds \
             another spec now (digest {theirs}): pass --swagger with the spec it was parsed with\n"
        ));
}

/// A report parsed against a spec URL: explain reads it from the cache,
/// never from the network, and says so when the cache lacks it.
#[test]
#[cfg(feature = "remote")]
fn explain_reads_a_recorded_url_from_the_cache_only() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let spec = fs::read(mini_spec()).unwrap();
    let (base, seen) = common::serve(move |target| {
        (target == "/swagger.json").then(|| common::Canned {
            status: 200,
            body: spec.clone(),
            etag: None,
        })
    });
    let url = format!("{base}/swagger.json");
    let empty = empty_list(d);
    let cache = d.join("cache");
    apicov()
        .current_dir(d)
        .args(["parse", "--no-fail", "-q", "--audit-logs"])
        .arg(common::testdata(
            "audit/kind-conformance-2026-11-26T10-00-00.000.log",
        ))
        .args(["--swagger", &url])
        .arg("--ineligible-endpoints")
        .arg(&empty)
        .arg("--pending-eligible-endpoints")
        .arg(&empty)
        .args(["--report-json", "r.json", "-o", "e.txt"])
        .args(["--audit-operations-json", "o.json", "--cache-dir"])
        .arg(&cache)
        .assert()
        .success();
    assert_eq!(*seen.lock().unwrap(), ["/swagger.json"]);
    let explain = |cache: &Path| {
        apicov()
            .current_dir(d)
            .args([
                "explain",
                "getCodeVersion",
                "--report",
                "r.json",
                "--cache-dir",
            ])
            .arg(cache)
            .assert()
    };
    explain(&cache)
        .success()
        .stdout(predicates::str::starts_with(
            "getCodeVersion (GET /version/)\n",
        ));
    let empty_cache = d.join("empty-cache");
    explain(&empty_cache).code(2).stdout("").stderr(format!(
        "apicov: error: r.json: its spec {url} is not in the cache ({}), and a recorded \
         source is read offline; pass a local copy with --swagger FILE\n",
        empty_cache.display()
    ));
    assert_eq!(*seen.lock().unwrap(), ["/swagger.json"], "no request made");
}
