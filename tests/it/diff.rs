//! `apicov diff`, `check`, `lint-lists`, baseline discovery against a GCS
//! fixture server on 127.0.0.1, and remote specs with caching.

use crate::common;

use std::fs;
use std::path::Path;

use assert_cmd::Command;
#[cfg(feature = "remote")]
use common::{serve, Canned};

fn apicov() -> Command {
    Command::cargo_bin("apicov").unwrap()
}

fn spec() -> String {
    common::testdata("swagger-mini.json").display().to_string()
}

/// An endpoints file in the reference parser's format.
fn endpoints_file(dir: &Path, name: &str, ops: &[(&str, u64)]) -> String {
    let mut text = String::from(
        "Kubernetes API Endpoints Found in Audit Log (Swagger-Enhanced)\n\
         ======================================================================\n\
         Total unique endpoints: 0\nTotal API calls: 0\nSwagger-based matches: 0\n\
         Fallback matches: 0\nSkipped entries: 0\nResults sorted alphabetically\n\n\
         Endpoint Name (OpenAPI Operation ID) | Count\n\
         ----------------------------------------------------------------------",
    );
    for (op, n) in ops {
        text.push_str(&format!("\n{op} | {n}"));
    }
    let path = dir.join(name);
    fs::write(&path, text).unwrap();
    path.display().to_string()
}

/// `apicov diff` in `d` with the mini spec, the given lists, baseline
/// (`--ci-audit-endpoints`, unless None) and pull file.
fn diff(d: &Path, lists: &(String, String), ci: Option<&str>, pull: &str) -> Command {
    let mut cmd = apicov();
    cmd.current_dir(d)
        .args(["diff", "--swagger", &spec(), "--pull-audit-endpoints", pull])
        .args([
            "--ineligible-endpoints",
            &lists.0,
            "--pending-eligible-endpoints",
            &lists.1,
        ]);
    if let Some(ci) = ci {
        cmd.args(["--ci-audit-endpoints", ci]);
    }
    cmd
}

fn lists(dir: &Path) -> (String, String) {
    let ineligible = dir.join("ineligible.yaml");
    fs::write(
        &ineligible,
        "- endpoint: connectCoreV1GetNodeProxy\n  reason: r\n  link: l\n\
         - endpoint: connectCoreV1GetNodeProxyWithPath\n  reason: r\n  link: l\n\
         - endpoint: logFileHandler\n  reason: r\n  link: l\n\
         - endpoint: logFileListHandler\n  reason: r\n  link: l\n",
    )
    .unwrap();
    let pending = dir.join("pending.yaml");
    fs::write(&pending, "---\n").unwrap();
    (
        ineligible.display().to_string(),
        pending.display().to_string(),
    )
}

/// Every stable, observable, eligible operation of the mini spec but one.
const ALMOST_ALL: &[&str] = &[
    "connectCoreV1GetNamespacedPodExec",
    "connectCoreV1PostNamespacedPodExec",
    "createAppsV1NamespacedDeployment",
    "createAuthorizationV1SubjectAccessReview",
    "createCoreV1Namespace",
    "createCoreV1NamespacedConfigMap",
    "createCoreV1NamespacedPod",
    "deleteCoreV1CollectionNamespacedPod",
    "deleteCoreV1Namespace",
    "deleteCoreV1NamespacedConfigMap",
    "deleteCoreV1NamespacedPod",
    "getAPIVersions",
    "getAppsAPIGroup",
    "getAppsV1APIResources",
    "getCodeVersion",
    "getCoordinationAPIGroup",
    "getCoreAPIVersions",
    "getCoreV1APIResources",
    "getServiceAccountIssuerOpenIDConfiguration",
    "listAppsV1NamespacedDeployment",
    "listCoreV1ConfigMapForAllNamespaces",
    "listCoreV1Namespace",
    "listCoreV1NamespacedConfigMap",
    "listCoreV1NamespacedPod",
    "listCoreV1Node",
    "listCoreV1PodForAllNamespaces",
    "listStorageV1CSINode",
    "patchAppsV1NamespacedDeployment",
    "patchAppsV1NamespacedDeploymentStatus",
    "patchCoreV1NamespacedPod",
    "readAppsV1NamespacedDeployment",
    "readCoordinationV1NamespacedLease",
    "readCoreV1Namespace",
    "readCoreV1NamespaceStatus",
    "readCoreV1NamespacedConfigMap",
    "readCoreV1NamespacedPod",
    "readCoreV1NamespacedPodLog",
    "readCoreV1NamespacedPodStatus",
    "readCoreV1Node",
    "replaceAppsV1NamespacedDeploymentScale",
    "replaceCoordinationV1NamespacedLease",
    "replaceCoreV1NamespacedPod",
];

#[test]
fn text_report_matches_the_reference_layout() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let lists = lists(d);
    let ci = endpoints_file(
        d,
        "ci.txt",
        &[
            ("listCoreV1Node", 3),
            ("readCoreV1Node", 1),
            ("notAnOperation", 9),
        ],
    );
    let mut pull_ops: Vec<(&str, u64)> = ALMOST_ALL
        .iter()
        .filter(|o| **o != "readCoreV1Node")
        .map(|o| (*o, 1))
        .collect();
    pull_ops.push(("watchCoreV1NodeList", 4)); // deprecated, still counted in the diff
    let pull = endpoints_file(d, "pull.txt", &pull_ops);
    let out = diff(d, &lists, Some(&ci), &pull).assert().code(0);
    let stdout = String::from_utf8(out.get_output().stdout.clone()).unwrap();
    let summary = format!(
        "SUMMARY\n=======\nTotal Operations in Swagger:  58\nOperations in CI:             2\n\
         Operations in Pull:           {}\nOperations Added:             {}\nOperations Removed:           1\n\
         Net Change:                   +{}\n\n",
        ALMOST_ALL.len(),
        ALMOST_ALL.len() - 1,
        ALMOST_ALL.len() - 2
    );
    assert!(stdout.contains(&summary), "{stdout}");
    assert!(stdout.contains(
        "OPERATIONS REMOVED FROM PULL (IN CI BUT NOT PULL)\n=================================================\nCount: 1\n\n  1. readCoreV1Node\n\n"
    ), "{stdout}");
    assert!(stdout.contains("OPERATIONS ADDED IN PULL (NOT IN CI)\n====================================\nCount: 41\n\n  1. connectCoreV1GetNamespacedPodExec\n"), "{stdout}");
    assert!(stdout.contains(
        "STABLE ENDPOINTS NOT FOUND IN PULL AUDIT LOG\n============================================\nCount: 1\n\n\
         These are stable, non-deprecated API endpoints defined in the Swagger spec\n\
         but not exercised in the pull request audit log:\n\n  1. readCoreV1Node\n\n"
    ), "{stdout}");
    assert!(stdout.ends_with("Analysis complete!\nGenerated files:\n- swagger_operations.txt (swagger operations list)\n"));
    assert_eq!(
        fs::read_to_string(d.join("swagger_operations.txt"))
            .unwrap()
            .lines()
            .count(),
        58
    );

    // Gates.
    let gate = |fail_on: &str| {
        diff(d, &lists, None, &pull)
            .args(["--baseline-file", &ci]) // the conformance docs' spelling
            .args(["--fail-on", fail_on, "--format", "json"])
            .assert()
    };
    let json = gate("removed").code(1);
    let report: serde_json::Value = serde_json::from_slice(&json.get_output().stdout).unwrap();
    assert_eq!(report["removed"], serde_json::json!(["readCoreV1Node"]));
    assert_eq!(
        report["stable_not_found"],
        serde_json::json!(["readCoreV1Node"])
    );
    assert_eq!(report["net_change"], 40);
    gate("stable-missing").code(1);
    // Markdown for a PR comment.
    let md = diff(d, &lists, Some(&ci), &pull)
        .args(["--format", "markdown"])
        .assert()
        .code(0);
    let md = String::from_utf8(md.get_output().stdout.clone()).unwrap();
    assert!(md.contains("| removed | 1 |\n"), "{md}");
    assert!(
        md.contains("<details><summary>Removed from pull (1)</summary>\n\n- `readCoreV1Node`\n"),
        "{md}"
    );
    // Input errors.
    diff(d, &lists, Some("missing.txt"), &pull)
        .assert()
        .code(2)
        .stderr("apicov: error: missing.txt: No such file or directory (os error 2)\n");
}

#[cfg(feature = "remote")]
fn gcs_fixture(d: &Path) -> (String, std::sync::Arc<std::sync::Mutex<Vec<String>>>) {
    let baseline = fs::read(endpoints_file(d, "baseline.txt", &[("listCoreV1Node", 7)])).unwrap();
    serve(move |target| {
        let ok = |body: &[u8]| {
            Some(Canned {
                status: 200,
                body: body.to_vec(),
                etag: None,
            })
        };
        let list = "/storage/v1/b/kubernetes-ci-logs/o?delimiter=/&prefix=logs%2Fci-kubernetes-audit-kind-conformance%2F&fields=prefixes,nextPageToken";
        let run = |b: &str, f: &str| {
            format!("/storage/v1/b/kubernetes-ci-logs/o/logs%2Fci-kubernetes-audit-kind-conformance%2F{b}%2F{f}")
        };
        match target {
            t if t == list => ok(br#"{"prefixes":["logs/ci-kubernetes-audit-kind-conformance/1790000000000000098/","logs/ci-kubernetes-audit-kind-conformance/1790000000000000100/"],"nextPageToken":"p2"}"#),
            t if t == format!("{list}&pageToken=p2") => ok(br#"{"prefixes":["logs/ci-kubernetes-audit-kind-conformance/1790000000000000101/","logs/ci-kubernetes-audit-kind-conformance/1790000000000000099/"]}"#),
            t if t == run("1790000000000000100", "finished.json") => ok(b"{}"),
            t if t == run("1790000000000000100", "artifacts%2Faudit%2Faudit-endpoints.txt") => ok(b"{}"),
            t if t == format!("{}?alt=media", run("1790000000000000100", "artifacts%2Faudit%2Faudit-endpoints.txt")) => ok(&baseline),
            t if t == run("1790000000000000099", "finished.json") => ok(b"{}"),
            _ => None,
        }
    })
}

#[test]
#[cfg(feature = "remote")]
fn discovers_the_newest_finished_run_in_gcs() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let lists = lists(d);
    let (base, seen) = gcs_fixture(d);
    let pull = endpoints_file(
        d,
        "pull.txt",
        &[("listCoreV1Node", 1), ("readCoreV1Node", 1)],
    );
    let out = diff(d, &lists, None, &pull)
        .args(["--gcs-endpoint", &base])
        .arg("--cache-dir")
        .arg(d.join("cache"))
        .assert()
        .code(0);
    let stdout = String::from_utf8(out.get_output().stdout.clone()).unwrap();
    assert!(stdout.contains("Run 1790000000000000101: no finished.json (still running?)\nFound run 1790000000000000100 with artifacts/audit/audit-endpoints.txt\n"), "{stdout}");
    assert!(
        stdout.contains("Operations in CI:             1\n"),
        "{stdout}"
    );
    assert!(
        stdout.contains("Count: 1\n\n  1. readCoreV1Node\n"),
        "{stdout}"
    );
    let seen = seen.lock().unwrap().clone();
    // 2 listing pages, 101's finished.json, 100's finished.json, file and media.
    assert_eq!(seen.len(), 6, "{seen:?}");
    // Offline: no discovery, a clear error naming the flag.
    diff(d, &lists, None, &pull)
        .arg("--offline")
        .env("APICOV_CACHE_DIR", d.join("cache"))
        .assert()
        .code(2)
        .stderr(format!(
            "apicov: error: gs://kubernetes-ci-logs/logs/ci-kubernetes-audit-kind-conformance: \
             --offline: the CI baseline cannot be discovered; pass a local copy with --ci-audit-endpoints FILE\n\
             apicov: hint: --offline reads only the cache ({}); run once without --offline to fill it, \
             or pass local copies with the flags above\n",
            d.join("cache").display()
        ));
}

#[test]
fn check_writes_everything_prints_both_reports_and_exits_on_the_gates() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (ineligible, pending) = lists(d);
    let ci = endpoints_file(d, "ci.txt", &[("listCoreV1Node", 3), ("readCoreV1Node", 1)]);
    let logs = common::root().join("testdata/audit/kind-conformance-*.log");
    let run = |extra: &[&str]| {
        apicov()
            .current_dir(d)
            .args([
                "check",
                "--audit-logs",
                logs.to_str().unwrap(),
                "--swagger",
                &spec(),
            ])
            .args([
                "--ineligible-endpoints",
                &ineligible,
                "--pending-eligible-endpoints",
                &pending,
            ])
            .args([
                "-o",
                "audit-endpoints.txt",
                "--report-json",
                "report.json",
                "--ci-audit-endpoints",
                &ci,
            ])
            .args(extra)
            .assert()
    };
    let out = run(&[]).code(1);
    let stdout = String::from_utf8(out.get_output().stdout.clone()).unwrap();
    // Data on stdout (the diff report), talk on stderr.
    assert!(
        stdout.starts_with("Kubernetes API Operations Analysis\n"),
        "{stdout}"
    );
    assert!(!stdout.contains("Parsing complete:"), "{stdout}");
    assert!(
        stdout.contains("Kubernetes API Operations Analysis"),
        "{stdout}"
    );
    assert!(
        stdout.contains("OPERATIONS REMOVED FROM PULL (IN CI BUT NOT PULL)"),
        "{stdout}"
    );
    for f in [
        "audit-endpoints.txt",
        "audit-operations.json",
        "report.json",
    ] {
        assert!(d.join(f).exists(), "{f}");
    }
    let stderr = String::from_utf8(out.get_output().stderr.clone()).unwrap();
    assert!(stderr.contains("Stable endpoint "), "{stderr}");
    run(&["--no-fail", "-q"]).code(0);
    run(&["--no-fail", "-q", "--fail-on", "stable-missing"]).code(1);
}

#[test]
fn lint_lists_reports_every_kind_of_problem_with_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    fs::write(
        d.join("ineligible.yaml"),
        "- endpoint: connectCoreV1GetNodeProxy\n  reason: Unable to be tested\n  link: https://x/1\n\
         - endpoint: readCoreV1Nod\n  reason: typo\n  link: https://x/2\n\
         - endpoint: connectCoreV1GetNodeProxy\n  reason: again\n  link: https://x/3\n\
         - endpoint: logFileHandler\n  link: https://x/4\n\
         - endpoint: listStoragemigrationV1alpha1StorageVersionMigration\n  reason: alpha\n  link: https://x/5\n\
         - endpoint: readCoreV1Node\n  reason: r\n",
    )
    .unwrap();
    fs::write(
        d.join("pending.yaml"),
        "- readCoreV1Node\n- listCoreV1Node\n- removedV1Thing\n",
    )
    .unwrap();
    fs::write(
        d.join("report.json"),
        r#"{"operations":{"listCoreV1Node":12,"getCodeVersion":1}}"#,
    )
    .unwrap();
    let out = apicov()
        .current_dir(d)
        .args([
            "lint-lists",
            "--swagger",
            &spec(),
            "--ineligible-endpoints",
            "ineligible.yaml",
        ])
        .args([
            "--pending-eligible-endpoints",
            "pending.yaml",
            "--report-json",
            "report.json",
        ])
        .assert()
        .code(1);
    assert_eq!(
        String::from_utf8(out.get_output().stdout.clone()).unwrap(),
        "ineligible.yaml:4: readCoreV1Nod: not an operation of the spec\n\
         ineligible.yaml:7: connectCoreV1GetNodeProxy: listed twice (first at line 1)\n\
         ineligible.yaml:10: logFileHandler: no reason\n\
         ineligible.yaml:12: listStoragemigrationV1alpha1StorageVersionMigration: not a stable operation (alpha/beta operations need no listing)\n\
         ineligible.yaml:15: readCoreV1Node: no link\n\
         pending.yaml:1: readCoreV1Node: also in ineligible.yaml (line 15)\n\
         pending.yaml:2: listCoreV1Node: pending, but exercised in report.json (12 calls): remove it\n\
         pending.yaml:3: removedV1Thing: not an operation of the spec\n\
         8 finding(s) in 6 ineligible and 3 pending entries\n"
    );
    fs::write(d.join("pending.yaml"), "---\n").unwrap();
    fs::write(
        d.join("ineligible.yaml"),
        "- endpoint: logFileHandler\n  reason: r\n  link: l\n",
    )
    .unwrap();
    apicov()
        .current_dir(d)
        .args([
            "lint-lists",
            "--swagger",
            &spec(),
            "--ineligible-endpoints",
            "ineligible.yaml",
        ])
        .args(["--pending-eligible-endpoints", "pending.yaml"])
        .assert()
        .code(0)
        .stdout("0 finding(s) in 1 ineligible and 0 pending entries\n");
}

#[test]
#[cfg(feature = "remote")]
fn remote_specs_are_cached_per_url_revalidated_and_used_offline() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let spec_bytes = fs::read(spec()).unwrap();
    let (base, seen) = serve(move |target| match target {
        "/a/swagger.json" => Some(Canned {
            status: 200,
            body: spec_bytes.clone(),
            etag: Some("\"v1\"".into()),
        }),
        "/broken.json" => Some(Canned {
            status: 200,
            body: b"{\"swagger\":\"2.0\"}".to_vec(),
            etag: None,
        }),
        _ => None,
    });
    let ops_of = |url: &str, extra: &[&str]| {
        apicov()
            .args(["ops", "--swagger", url, "--cache-dir"])
            .arg(d.join("cache"))
            .args(extra)
            .assert()
    };
    let url = format!("{base}/a/swagger.json");
    let ops = |extra: &[&str]| ops_of(&url, extra);
    let first = ops(&[]).code(0);
    let listing = first.get_output().stdout.clone();
    assert_eq!(String::from_utf8_lossy(&listing).lines().count(), 58);
    ops(&[]).code(0).stdout(listing.clone());
    ops(&["--offline"]).code(0).stdout(listing);
    assert_eq!(
        *seen.lock().unwrap(),
        ["/a/swagger.json", "/a/swagger.json [if-none-match]"],
        "offline must not touch the network; the second fetch revalidates"
    );
    // Errors: one line naming the source, exit 2.
    ops_of(&format!("{base}/missing.json"), &[])
        .code(2)
        .stderr(format!(
            "apicov: error: {base}/missing.json: HTTP status 404\n"
        ));
    ops_of(&format!("{base}/broken.json"), &[])
        .code(2)
        .stderr(format!(
            "apicov: error: {base}/broken.json: invalid swagger spec: no \"paths\" object\n"
        ));
    ops_of(&format!("{base}/never-fetched.json"), &["--offline"]).code(2);
}
