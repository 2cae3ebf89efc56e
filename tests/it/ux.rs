//! What a person sees (issue 15): data on stdout and talk on stderr, errors
//! that name the flag to use, progress lines, `route` request groups, JUnit
//! gate failures, legacy watch URLs under `--watch-credit list`, shell
//! completions and man pages, and the HTML page in headless Chromium.

use crate::common;

use std::fs;
use std::path::Path;

use assert_cmd::Command;
use serde_json::Value;

fn apicov() -> Command {
    let mut cmd = Command::cargo_bin("apicov").unwrap();
    cmd.env_remove("APICOV_CACHE_DIR")
        .env_remove("APICOV_PROGRESS_INTERVAL_MS")
        .current_dir(common::root());
    cmd
}

/// `apicov SUBCOMMAND` on the bundled logs, spec and ineligible list, with
/// `pending` as the pending list.
fn on_fixture(subcommand: &str, pending: &Path) -> Command {
    let mut cmd = apicov();
    cmd.args([
        subcommand,
        "--audit-logs",
        "testdata/audit/kind-conformance-*.log",
        "--swagger",
        "testdata/swagger-mini.json",
        "--ineligible-endpoints",
        "testdata/ineligible-mini.yaml",
        "--pending-eligible-endpoints",
    ])
    .arg(pending);
    cmd
}

/// `-o DIR/e.txt --audit-operations-json DIR/o.json`: a run's two files kept
/// out of the project tree.
fn outputs(d: &Path) -> [std::ffi::OsString; 4] {
    [
        "-o".into(),
        d.join("e.txt").into(),
        "--audit-operations-json".into(),
        d.join("o.json").into(),
    ]
}

fn stdout_of(out: &assert_cmd::assert::Assert) -> String {
    String::from_utf8(out.get_output().stdout.clone()).unwrap()
}

fn stderr_of(out: &assert_cmd::assert::Assert) -> String {
    String::from_utf8(out.get_output().stderr.clone()).unwrap()
}

/// The gate lines and verdict the fixture run prints, built from its report.
fn gate_lines(report: &Value, no_fail: bool) -> String {
    let missing: Vec<&str> = report["stable_not_found"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert_eq!(missing.len(), 17);
    // The first 10 gate lines (`--gate-lines first`, the default), then a count.
    let mut text: String = missing[..10]
        .iter()
        .map(|op| format!("Stable endpoint {op} not found in pending_eligible_endpoints.yaml\n"))
        .collect();
    text.push_str(
        "… and 7 more stable endpoints not found (17 in all: --gate-lines all prints each; \
         the report JSON lists them under \"stable_not_found\")\n",
    );
    text.push_str(&format!(
        "apicov: gates tripped: 17 stable endpoint(s) not found; {}\n",
        if no_fail {
            "reported only (--no-fail)"
        } else {
            "exit status 1"
        }
    ));
    text
}

#[test]
fn parse_stdout_is_only_the_endpoints_text_and_q_silences_only_stderr() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("audit-endpoints.txt");
    let report_path = dir.path().join("report.json");
    let ops_json = dir.path().join("ops.json");
    let with_file = common::parse_fixture()
        .args(["-q", "-o"])
        .arg(&file)
        .arg("--report-json")
        .arg(&report_path)
        .arg("--audit-operations-json")
        .arg(&ops_json)
        .assert()
        .code(1);
    let report: Value = serde_json::from_slice(&fs::read(&report_path).unwrap()).unwrap();
    assert_eq!(stdout_of(&with_file), "");
    assert_eq!(stderr_of(&with_file), gate_lines(&report, false));
    let expected = fs::read_to_string(&file).unwrap();

    // `apicov parse … -q > audit-endpoints.txt` gives the same file as -o.
    let quiet = common::parse_fixture()
        .arg("-q")
        .arg("--audit-operations-json")
        .arg(&ops_json)
        .assert()
        .code(1);
    assert_eq!(stdout_of(&quiet), expected);
    assert_eq!(stderr_of(&quiet), gate_lines(&report, false));

    // --no-fail makes the gates a report: -q silences them with the rest.
    let silent = common::parse_fixture()
        .args(["-q", "--no-fail", "--audit-operations-json"])
        .arg(&ops_json)
        .assert()
        .code(0);
    assert_eq!(stdout_of(&silent), expected);
    assert_eq!(stderr_of(&silent), "");

    // Without -q the summary joins the talk on stderr; stdout is unchanged.
    let talk = common::parse_fixture()
        .args(["--no-fail", "--conformance-only", "--audit-operations-json"])
        .arg(&ops_json)
        .assert()
        .code(0);
    let stderr = stderr_of(&talk);
    assert!(
        stderr.starts_with(
            "Parsed 2 audit log file(s):\n\
             \x20 [1/2] testdata/audit/kind-conformance-2026-11-26T10-00-00.000.log: 105 lines\n\
             \x20 [2/2] testdata/audit/kind-conformance-2026-11-26T11-00-00.000.log: 95 lines\n\n\
             Parsing complete:\n\
             \x20 Total log entries: 199\n\
             \x20 Stages in the logs: RequestReceived 86, ResponseStarted 26, ResponseComplete 86\n\
             \x20 Conformance only: counting only requests made by [Conformance] specs\n\
             \x20 API requests counted: 21\n"
        ),
        "{stderr}"
    );
    assert!(
        stderr.contains("  Stable endpoints not found: 30\n  Pending endpoints exercised: 0\n"),
        "{stderr}"
    );
    assert!(
        stderr.ends_with(
            "apicov: gates tripped: 30 stable endpoint(s) not found; reported only (--no-fail)\n"
        ),
        "{stderr}"
    );
    assert!(stdout_of(&talk)
        .starts_with("Kubernetes API Endpoints Found in Audit Log (Swagger-Enhanced)\n"));
    assert!(!stdout_of(&talk).contains("Parsing complete"));
}

#[test]
fn progress_lines_on_a_non_terminal_name_the_file_being_read() {
    let dir = tempfile::tempdir().unwrap();
    let out = common::parse_fixture()
        .env("APICOV_PROGRESS_INTERVAL_MS", "0")
        .args(["--threads", "1", "--no-fail"])
        .args(outputs(dir.path()))
        .assert()
        .code(0);
    let stderr = stderr_of(&out);
    let lines: Vec<&str> = stderr
        .lines()
        .filter(|l| l.starts_with("apicov: progress: "))
        .collect();
    let first = "testdata/audit/kind-conformance-2026-11-26T10-00-00.000.log";
    let second = "testdata/audit/kind-conformance-2026-11-26T11-00-00.000.log";
    assert_eq!(
        lines[..4],
        [
            format!("apicov: progress: 0.0 MiB of 0.2 MiB (0%), reading [1/2] {first}"),
            format!("apicov: progress: 0.1 MiB of 0.2 MiB (50%), reading [1/2] {first}"),
            format!("apicov: progress: 0.1 MiB of 0.2 MiB (50%), reading [2/2] {second}"),
            format!("apicov: progress: 0.2 MiB of 0.2 MiB (100%), reading [2/2] {second}"),
        ]
    );
    assert_eq!(lines.len(), 5, "{stderr}");
    assert!(
        lines[4].starts_with("apicov: progress: read 0.2 MiB in ") && lines[4].ends_with(" s"),
        "{}",
        lines[4]
    );
    // The default interval is 10 s: a short run prints no progress line.
    let quiet = common::parse_fixture()
        .args(["--no-fail"])
        .args(outputs(dir.path()))
        .assert()
        .code(0);
    assert!(!stderr_of(&quiet).contains("apicov: progress"));
}

/// `--offline` with an empty cache: the network is never touched and the
/// messages are exact.
fn offline_remote(cmd: &mut Command, cache: &Path) {
    cmd.arg("--offline").arg("--cache-dir").arg(cache);
}

// The messages of a missing remote document (the `remote` feature).
#[cfg(feature = "remote")]
const SPEC_URL: &str = "https://raw.githubusercontent.com/kubernetes/kubernetes/refs/heads/master/api/openapi-spec/swagger.json";
#[cfg(feature = "remote")]
const INELIGIBLE_URL: &str = "https://raw.githubusercontent.com/kubernetes/kubernetes/master/test/conformance/testdata/ineligible_endpoints.yaml";
#[cfg(feature = "remote")]
const PENDING_URL: &str = "https://raw.githubusercontent.com/kubernetes/kubernetes/refs/heads/master/test/conformance/testdata/pending_eligible_endpoints.yaml";

#[cfg(feature = "remote")]
fn missing_line(url: &str, cache: &Path, flag: &str) -> String {
    format!(
        "apicov: error: {url}: --offline and no cached copy in {}; pass a local copy with {flag} FILE\n",
        cache.display()
    )
}

#[cfg(feature = "remote")]
fn offline_hint(cache: &Path) -> String {
    format!(
        "apicov: hint: --offline reads only the cache ({}); run once without --offline to fill it, \
         or pass local copies with the flags above\n",
        cache.display()
    )
}

#[test]
#[cfg(feature = "remote")]
fn every_missing_remote_input_is_reported_at_once_with_its_flag() {
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("cache");
    let all_three = format!(
        "{}{}{}{}",
        missing_line(SPEC_URL, &cache, "--swagger"),
        missing_line(INELIGIBLE_URL, &cache, "--ineligible-endpoints"),
        missing_line(PENDING_URL, &cache, "--pending-eligible-endpoints"),
        offline_hint(&cache)
    );
    let out = dir.path().join("e.txt");
    let mut parse = apicov();
    parse
        .args(["parse", "--audit-logs", "testdata/audit/*.log", "-o"])
        .arg(&out);
    offline_remote(&mut parse, &cache);
    parse.assert().code(2).stdout("").stderr(all_three.clone());
    assert!(!out.exists(), "no output after an input error");

    // Only the lists missing: both named, the spec is fine.
    let mut lists_only = apicov();
    lists_only.args([
        "parse",
        "--audit-logs",
        "testdata/audit/*.log",
        "--swagger",
        "testdata/swagger-mini.json",
    ]);
    offline_remote(&mut lists_only, &cache);
    lists_only.assert().code(2).stderr(format!(
        "{}{}{}",
        missing_line(INELIGIBLE_URL, &cache, "--ineligible-endpoints"),
        missing_line(PENDING_URL, &cache, "--pending-eligible-endpoints"),
        offline_hint(&cache)
    ));

    let spec_only = format!(
        "{}{}",
        missing_line(SPEC_URL, &cache, "--swagger"),
        offline_hint(&cache)
    );
    for args in [
        &["route", "get", "/api/v1/pods"][..],
        &["ops"][..],
        &["lint-lists"][..],
    ] {
        let mut cmd = apicov();
        cmd.args(args);
        offline_remote(&mut cmd, &cache);
        let expected = if args[0] == "lint-lists" {
            all_three.clone()
        } else {
            spec_only.clone()
        };
        cmd.assert().code(2).stdout("").stderr(expected);
    }

    // diff: the baseline's discovery is one more missing input.
    let mut diff = apicov();
    diff.args([
        "diff",
        "--pull-audit-endpoints",
        "testdata/expected/audit-endpoints.txt",
    ]);
    offline_remote(&mut diff, &cache);
    diff.assert().code(2).stderr(format!(
        "apicov: error: gs://kubernetes-ci-logs/logs/ci-kubernetes-audit-kind-conformance: \
         --offline: the CI baseline cannot be discovered; pass a local copy with --ci-audit-endpoints FILE\n\
         {}",
        all_three
    ));
}

#[test]
fn unreachable_hosts_get_the_network_hint() {
    // A port nobody listens on: connection refused, no DNS, no waiting.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let dir = tempfile::tempdir().unwrap();
    let url = format!("http://127.0.0.1:{port}/swagger.json");
    let out = apicov()
        .args(["ops", "--swagger", &url, "--cache-dir"])
        .arg(dir.path())
        .assert()
        .code(2);
    let stderr = stderr_of(&out);
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 2, "{stderr}");
    assert!(
        lines[0].starts_with(&format!("apicov: error: {url}: ")),
        "{stderr}"
    );
    assert!(
        lines[0].ends_with("; pass a local copy with --swagger FILE"),
        "{stderr}"
    );
    assert_eq!(
        lines[1],
        format!(
            "apicov: hint: without network, pass local copies with the flags above (a kubernetes \
             checkout has api/openapi-spec/swagger.json and test/conformance/testdata/*.yaml), or \
             run once with network to fill the cache ({}) and then add --offline",
            dir.path().display()
        )
    );
}

#[test]
#[cfg(feature = "remote")]
fn check_without_a_baseline_finishes_the_parse_half_and_warns() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let cache = d.join("cache");
    let run = |extra: &[&str]| {
        let mut cmd = on_fixture("check", Path::new("testdata/pending-mini.yaml"));
        cmd.args(["--sort", "count", "-q"])
            .args(outputs(d))
            .arg("--report-json")
            .arg(d.join("r.json"))
            .args(extra);
        offline_remote(&mut cmd, &cache);
        cmd.assert()
    };
    let warning = "apicov: warning: the diff against the CI baseline was skipped: \
         gs://kubernetes-ci-logs/logs/ci-kubernetes-audit-kind-conformance: --offline: the CI \
         baseline cannot be discovered\n\
         apicov: warning: pass the baseline with --ci-audit-endpoints FILE to compare without \
         network; exit status from the parse gates only\n";
    let tripped = run(&[]).code(1).stdout("");
    let report: Value = serde_json::from_slice(&fs::read(d.join("r.json")).unwrap()).unwrap();
    assert_eq!(
        stderr_of(&tripped),
        format!("{}{warning}", gate_lines(&report, false))
    );
    assert_eq!(
        fs::read(d.join("e.txt")).unwrap(),
        fs::read(common::testdata("expected/audit-endpoints.txt")).unwrap()
    );
    run(&["--no-fail"]).code(0).stdout("").stderr(warning);
}

#[test]
fn merge_needs_no_lists_it_takes_those_the_reports_record() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    common::parse_fixture()
        .args(["-q", "--no-fail"])
        .args(outputs(d))
        .arg("--report-json")
        .arg(d.join("r.json"))
        .assert()
        .code(0);
    let mut merge = apicov();
    merge
        .arg("merge")
        .arg(d.join("r.json"))
        .arg("-o")
        .arg(d.join("m.json"))
        .arg("--endpoints")
        .arg(d.join("m.txt"))
        .args(["--swagger", "testdata/swagger-mini.json"]);
    offline_remote(&mut merge, &d.join("cache"));
    merge.assert().code(0).stdout("").stderr("");
    // Same filters, same file.
    assert_eq!(
        fs::read_to_string(d.join("m.txt")).unwrap(),
        fs::read_to_string(d.join("e.txt")).unwrap()
    );
    // A bad report is found before anything is fetched.
    fs::write(d.join("bad.json"), "{}").unwrap();
    let mut bad = apicov();
    bad.arg("merge")
        .arg(d.join("bad.json"))
        .arg("-o")
        .arg(d.join("m2.json"));
    offline_remote(&mut bad, &d.join("cache"));
    bad.assert().code(2).stderr(format!(
        "apicov: error: {}: no tally section: not an apicov report\n",
        d.join("bad.json").display()
    ));
}

#[test]
fn route_takes_verb_uri_groups_and_says_what_is_wrong() {
    let route = |args: &[&str]| {
        apicov()
            .args(["route", "--swagger", "testdata/swagger-mini.json"])
            .args(args)
            .assert()
    };
    route(&[
        "get",
        "/api/v1/pods",
        "list",
        "/api/v1/pods",
        "/api/v1/nodes",
    ])
    .code(0)
    .stderr("")
    .stdout(
        "get /api/v1/pods\tlistCoreV1PodForAllNamespaces\n\
             list /api/v1/pods\tlistCoreV1PodForAllNamespaces\n\
             list /api/v1/nodes\tlistCoreV1Node\n",
    );
    route(&["list", "get", "/x"])
        .code(2)
        .stdout("")
        .stderr("apicov: error: route: list: a verb needs at least one request URI after it\n");
    route(&["/api/v1/pods"]).code(2).stderr(
        "apicov: error: route: /api/v1/pods: a request URI needs an audit verb before it (e.g. `get /api/v1/pods`)\n",
    );
    route(&["fetch", "/api/v1/pods"]).code(2).stderr(
        "apicov: error: route: fetch: neither an audit verb (get, list, watch, create, update, patch, \
         delete, deletecollection, post, put, head, options) nor a request URI (starts with /)\n",
    );
    let help = stdout_of(&apicov().args(["route", "--help"]).assert().code(0));
    assert!(
        help.contains("A verb applies to the URIs after it, up to the next verb"),
        "{help}"
    );
}

#[test]
fn watch_credit_list_credits_legacy_watch_urls_to_list_and_read() {
    let route = |credit: &str| {
        apicov()
            .args(["route", "--swagger", "testdata/swagger-mini.json"])
            .args(["--watch-credit", credit])
            .args([
                "watch",
                "/api/v1/watch/namespaces/x/pods",
                "/api/v1/watch/namespaces/x/pods/y",
                "get",
                "/api/v1/namespaces/x/pods?watch=true",
                "/api/v1/namespaces/watch",
            ])
            .assert()
            .code(0)
    };
    route("list").stdout(
        "watch /api/v1/watch/namespaces/x/pods\tlistCoreV1NamespacedPod\n\
         watch /api/v1/watch/namespaces/x/pods/y\treadCoreV1NamespacedPod\n\
         get /api/v1/namespaces/x/pods?watch=true\tlistCoreV1NamespacedPod\n\
         get /api/v1/namespaces/watch\treadCoreV1Namespace\n",
    );
    route("deprecated").stdout(
        "watch /api/v1/watch/namespaces/x/pods\twatchCoreV1NamespacedPodList\n\
         watch /api/v1/watch/namespaces/x/pods/y\twatchCoreV1NamespacedPod\n\
         get /api/v1/namespaces/x/pods?watch=true\twatchCoreV1NamespacedPodList\n\
         get /api/v1/namespaces/watch\treadCoreV1Namespace\n",
    );
}

#[test]
fn junit_fails_a_pending_operation_that_is_exercised_with_the_gate_wording() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let pending = d.join("pending.yaml");
    fs::write(
        &pending,
        "- listCoreV1NamespacedPod\n- listStorageV1CSINode\n",
    )
    .unwrap();
    let junit = d.join("junit.xml");
    let out = on_fixture("parse", &pending)
        .args(["-q"])
        .args(outputs(d))
        .arg("--junit")
        .arg(&junit)
        .assert()
        .code(1);
    let gate = format!(
        "Endpoint listCoreV1NamespacedPod found in pending_eligible_endpoints.yaml but is being \
         tested (1 calls; remove it from {})",
        pending.display()
    );
    assert!(stderr_of(&out).contains(&format!("{gate}\n")));
    let xml = fs::read_to_string(&junit).unwrap();
    let case = format!(
        "    <testcase classname=\"core/v1\" name=\"listCoreV1NamespacedPod\" time=\"0\">\n      \
         <failure message=\"{gate}\" type=\"PendingExercised\">GET /api/v1/namespaces/{{namespace}}/pods</failure>\n    \
         </testcase>\n"
    );
    assert!(xml.contains(&case), "{xml}");
    // The pending one not exercised stays skipped.
    assert!(xml.contains(&format!(
        "<testcase classname=\"storage.k8s.io/v1\" name=\"listStorageV1CSINode\" time=\"0\">\n      \
         <skipped message=\"pending eligible ({})\"/>",
        pending.display()
    )));
    assert_eq!(xml.matches("type=\"PendingExercised\"").count(), 1);
}

#[test]
fn completions_and_man_pages_come_from_the_clap_definitions() {
    for (shell, start) in [
        ("bash", "_apicov() {\n"),
        ("zsh", "#compdef apicov\n"),
        ("fish", "# Print an optspec for argparse"),
    ] {
        let out = apicov().args(["completions", shell]).assert().code(0);
        let script = stdout_of(&out);
        assert!(script.starts_with(start), "{shell}: {script:.200}");
        for flag in [
            "watch-credit",
            "pending-eligible-endpoints",
            "conformance-only",
        ] {
            assert!(script.contains(flag), "{shell}: {flag}");
        }
    }
    apicov()
        .args(["completions", "tcsh"])
        .assert()
        .code(2)
        .stdout("");

    let page = stdout_of(&apicov().arg("man").assert().code(0));
    assert!(
        page.contains(".TH apicov 1  \"apicov 0.1.0\""),
        "{page:.300}"
    );
    assert!(page.contains("apicov\\-parse(1)"), "{page}");
    let dir = tempfile::tempdir().unwrap();
    apicov()
        .args(["man", "--dir"])
        .arg(dir.path())
        .assert()
        .code(0)
        .stdout("");
    let mut pages: Vec<String> = fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    pages.sort();
    // `serve` is a subcommand only with the `serve` feature.
    let mut expected = vec![
        "apicov-check.1",
        "apicov-completions.1",
        "apicov-diff.1",
        "apicov-explain.1",
        "apicov-gen.1",
        "apicov-history.1",
        "apicov-lint-lists.1",
        "apicov-man.1",
        "apicov-merge.1",
        "apicov-ops.1",
        "apicov-parse.1",
        "apicov-promotions.1",
        "apicov-route.1",
        "apicov-serve.1",
        "apicov.1",
    ];
    if !cfg!(feature = "serve") {
        expected.retain(|page| *page != "apicov-serve.1");
    }
    assert_eq!(pages, expected);
    let parse_page = fs::read_to_string(dir.path().join("apicov-parse.1")).unwrap();
    assert!(
        parse_page.contains("\\-\\-ineligible\\-endpoints"),
        "{parse_page:.400}"
    );
}

/// Appended to a copy of the page: records, per column header of the
/// operations table, whether it lies inside the viewport, and whether the
/// page scrolls sideways.
const MEASURE: &str = "<script>(function(){var w=document.documentElement.clientWidth,out=[];\
document.querySelectorAll('#ops thead th').forEach(function(th){var r=th.getBoundingClientRect();\
out.push(th.textContent+':'+(r.left>=0&&r.right<=w&&r.width>=40?'visible':'hidden'));});\
document.body.setAttribute('data-columns',out.join(','));\
document.body.setAttribute('data-overflow',document.documentElement.scrollWidth>w?'yes':'no');})();</script>";

#[test]
fn html_page_says_what_it_shows_and_every_column_fits_at_1280_px() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let html = d.join("report.html");
    common::parse_fixture()
        .env("SOURCE_DATE_EPOCH", "1764000000")
        .args([
            "-q",
            "--no-fail",
            "--conformance-only",
            "--watch-credit",
            "list",
        ])
        .args(outputs(d))
        .arg("--html")
        .arg(&html)
        .assert()
        .code(0)
        .stdout("")
        .stderr("");
    let page = fs::read_to_string(&html).unwrap();
    for shown in [
        "<p class=banner id=mode>Conformance only: counting only requests made by [Conformance] specs (--conformance-only).</p>",
        "<tr><th>Spec</th><td>testdata/swagger-mini.json (version v1.34.0-mini, 58 operations)</td></tr>",
        "<tr><th>Inputs</th><td>testdata/audit/kind-conformance-2026-11-26T10-00-00.000.log (105 lines)<br>\
         testdata/audit/kind-conformance-2026-11-26T11-00-00.000.log (95 lines)</td></tr>",
        "<tr><th>Tracking lists</th><td>ineligible: testdata/ineligible-mini.yaml (4 entries); \
         pending eligible: testdata/pending-mini.yaml (2 entries)</td></tr>",
        "<tr><th>Watches</th><td>--watch-credit list: watches credit the list (or read) operation of the resource</td></tr>",
        "<tr><th>Counted</th><td>conformance only: requests made by [Conformance] specs</td></tr>",
        "<tr><th>Generated</th><td>2025-11-24T16:00:00Z</td></tr>",
        "<div class=v>11 of 40 (27.5%)</div><div class=k>eligible stable operations hit</div>",
        "<div class=v>29</div><div class=k>eligible stable operations not found</div>",
        "<div class=v>12</div><div class=k>stable operations not eligible: 4 ineligible, 2 pending, 6 deprecated</div>",
        "<table id=tests>",
    ] {
        assert!(page.contains(shown), "missing: {shown}");
    }
    // Per group/version: hit / eligible (percent); no percent of nothing.
    let labels: Vec<&str> = page
        .split("fill=\"#555\">")
        .skip(1)
        .map(|l| &l[..l.find("</text>").unwrap()])
        .collect();
    assert_eq!(
        labels,
        [
            "1/1 (100%)",
            "1/7 (14%)",
            "0/1 (0%)",
            "0/1 (0%)",
            "1/1 (100%)",
            "7/25 (28%)",
            "1/4 (25%)",
        ]
    );
    // A group/version with no eligible operation gets no 0/0 bar (issue 31 §7).
    assert!(page.contains("<p id=no-eligible>Not drawn, no eligible operation"));
    // Tests by operations hit, with what only each one hits; under
    // --conformance-only the CustomResourceDefinition watch test is not there.
    let tests_table = &page[page.find("<table id=tests>").unwrap()..];
    let tests_rows: Vec<&str> = tests_table[..tests_table.find("</table>").unwrap()]
        .lines()
        .filter(|l| l.starts_with("<tr><td>"))
        .collect();
    assert_eq!(
        tests_rows,
        [
            "<tr><td>[sig-node] Pods should be updated [NodeConformance] [Conformance]</td>\
             <td class=num>10</td><td class=num>12</td><td class=num>8</td><td class=op>\
             connectCoreV1GetNodeProxyWithPath, createCoreV1Namespace, deleteCoreV1NamespacedPod, \
             getAppsAPIGroup, listAppsV1NamespacedDeployment, patchCoreV1NamespacedPod, \
             replaceCoordinationV1NamespacedLease, replaceCoreV1NamespacedPod</td></tr>",
            "<tr><td>[sig-apps] Deployment should run the lifecycle of a Deployment [Conformance]</td>\
             <td class=num>6</td><td class=num>9</td><td class=num>4</td><td class=op>\
             createCoreV1NamespacedPod, getServiceAccountIssuerOpenIDConfiguration, \
             getStoragemigrationAPIGroup, listStoragemigrationV1alpha1StorageVersionMigration</td></tr>",
        ]
    );
    // The gaps come first: every not-found row before any other.
    let statuses: Vec<&str> = page
        .split("<tr data-status=\"")
        .skip(1)
        .map(|row| &row[..row.find('"').unwrap()])
        .collect();
    assert_eq!(statuses.len(), 58);
    let not_found = statuses.iter().filter(|s| **s == "not found").count();
    assert!(not_found > 0);
    assert!(statuses[..not_found].iter().all(|s| *s == "not found"));

    let Some(browser) = common::chromium() else {
        return;
    };
    let measured = d.join("measured.html");
    fs::write(
        &measured,
        page.replace("</body>", &format!("{MEASURE}</body>")),
    )
    .unwrap();
    let dom = common::headless(
        &browser,
        &d.join("profile"),
        (1280, 900),
        &[
            "--dump-dom".into(),
            format!("file://{}", measured.display()),
        ],
    );
    let dom = String::from_utf8(dom).unwrap();
    assert!(
        dom.contains("data-ready=\"1\""),
        "the page's script did not run"
    );
    assert!(
        dom.contains(
            "data-columns=\"Operation:visible,Group/version:visible,Method:visible,Path:visible,\
             Status:visible,Requests:visible,Tests:visible\""
        ),
        "{}",
        &dom[..dom.find("<h1>").unwrap_or(400).min(dom.len())]
    );
    assert!(dom.contains("data-overflow=\"no\""));

    let artifacts = common::root().join("target/test-artifacts");
    fs::create_dir_all(&artifacts).unwrap();
    for width in [1280, 1920] {
        let shot = artifacts.join(format!("apicov-report-{width}.png"));
        let _ = fs::remove_file(&shot);
        common::headless(
            &browser,
            &d.join(format!("profile-{width}")),
            (width, 2400),
            &[
                format!("--screenshot={}", shot.display()),
                format!("file://{}", html.display()),
            ],
        );
        let png = fs::read(&shot).unwrap();
        assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
        // Width and height from the IHDR chunk.
        assert_eq!(u32::from_be_bytes(png[16..20].try_into().unwrap()), width);
        assert_eq!(u32::from_be_bytes(png[20..24].try_into().unwrap()), 2400);
    }
}

/// Standard output closed by its reader before apicov writes the endpoints
/// text to it (`apicov parse … | head -c0`): no error line and no panic, the
/// exit status the run earned, and the files written whole. The exit path
/// flushes standard output and error and then ends the process without the
/// allocator's teardown (`_exit`), so this is where a lost write would show.
#[test]
fn a_closed_stdout_pipe_costs_no_file_and_no_status() {
    let dir = tempfile::tempdir().unwrap();
    let (piped, reference) = (dir.path().join("piped.json"), dir.path().join("ref.json"));
    let args = |ops: &Path| -> Vec<std::ffi::OsString> {
        vec![
            "parse".into(),
            "--audit-logs".into(),
            "testdata/audit/kind-conformance-2026-11-26T10-00-00.000.log".into(),
            "testdata/audit/kind-conformance-2026-11-26T11-00-00.000.log".into(),
            "--swagger".into(),
            "testdata/swagger-mini.json".into(),
            "--ineligible-endpoints".into(),
            "testdata/ineligible-mini.yaml".into(),
            "--pending-eligible-endpoints".into(),
            "testdata/pending-mini.yaml".into(),
            "--no-fail".into(),
            "--audit-operations-json".into(),
            ops.into(),
        ]
    };
    let bin = assert_cmd::cargo::cargo_bin("apicov");
    let full = std::process::Command::new(&bin)
        .current_dir(common::root())
        .args(args(&reference))
        .output()
        .unwrap();
    assert_eq!(full.status.code(), Some(0));
    assert!(full.stdout.starts_with(b"Kubernetes API Endpoints Found"));

    let mut child = std::process::Command::new(&bin)
        .current_dir(common::root())
        .args(args(&piped))
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(!stderr.contains("error"), "{stderr}");
    assert!(stderr.contains("Parsing complete"), "{stderr}");
    assert_eq!(fs::read(&piped).unwrap(), fs::read(&reference).unwrap());
}

/// Issue 31 §4: the console labels its figures, the file's (after filters)
/// beside the unfiltered ones, and the gate counts stand under their own
/// heading, not indented under the unmatched list.
#[test]
fn summary_labels_the_files_figures_and_heads_the_gate_counts() {
    let dir = tempfile::tempdir().unwrap();
    let out = common::parse_fixture()
        .args(["--no-fail", "-o"])
        .arg(dir.path().join("e.txt"))
        .arg("--audit-operations-json")
        .arg(dir.path().join("o.json"))
        .assert()
        .code(0);
    let stderr = stderr_of(&out);
    let file = fs::read_to_string(dir.path().join("e.txt")).unwrap();
    assert!(file.contains("Total unique endpoints: 25\nTotal API calls: 53\n"));
    assert!(
        stderr.contains(
            "  Unique endpoints (as in audit-endpoints.txt, after filters): 25\n\
             \x20 Total API calls (as in audit-endpoints.txt, after filters): 53\n\
             \x20 Unique endpoints hit, before filters: 31\n\
             \x20 API calls matched, before filters: 83\n"
        ),
        "{stderr}"
    );
    assert!(
        stderr.contains(
            "  list /apis/stable.example.com/v1/namespaces/{namespace}/crontabs: 1\n\
             \n\
             Gates:\n\
             \x20 Stable endpoints not found: 17\n\
             \x20 Pending endpoints exercised: 0\n\
             \x20 Unmeasurable stable operations (HEAD/OPTIONS): 4\n"
        ),
        "{stderr}"
    );
}

/// Issue 31 §5: against the real 1.36 spec and lists, the gate lines are the
/// first 10 and a count, also under -q; `--gate-lines all` prints every one
/// in the reference's wording; the exit status is 1 either way.
#[test]
fn gate_flood_is_cut_to_ten_lines_and_a_count() {
    let (Some(spec), Some(ineligible), Some(pending)) = (
        common::shared("k8s/swagger-v1.36.json"),
        common::shared("k8s/ineligible_endpoints.yaml"),
        common::shared("k8s/pending_eligible_endpoints.yaml"),
    ) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let log = d.join("a.log");
    fs::write(
        &log,
        r#"{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"a1","stage":"ResponseComplete","requestURI":"/api/v1/nodes/n1","verb":"get","user":{"username":"u"},"userAgent":"e2e.test","objectRef":{"resource":"nodes","name":"n1","apiVersion":"v1"},"responseStatus":{"code":200}}
"#,
    )
    .unwrap();
    let run = |extra: &[&str]| {
        let mut cmd = apicov();
        cmd.args(["parse", "-q", "--audit-logs"])
            .arg(&log)
            .arg("--swagger")
            .arg(&spec)
            .arg("--ineligible-endpoints")
            .arg(&ineligible)
            .arg("--pending-eligible-endpoints")
            .arg(&pending)
            .args(outputs(d))
            .arg("--report-json")
            .arg(d.join("r.json"))
            .args(extra);
        cmd.assert().code(1)
    };
    let short = stderr_of(&run(&[]));
    let report: Value = serde_json::from_slice(&fs::read(d.join("r.json")).unwrap()).unwrap();
    let missing: Vec<&str> = report["stable_not_found"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert!(missing.len() > 100, "{}", missing.len());
    let line =
        |op: &str| format!("Stable endpoint {op} not found in pending_eligible_endpoints.yaml\n");
    let mut expected: String = missing[..10].iter().map(|op| line(op)).collect();
    expected.push_str(&format!(
        "… and {} more stable endpoints not found ({} in all: --gate-lines all prints each; \
         the report JSON lists them under \"stable_not_found\")\n",
        missing.len() - 10,
        missing.len()
    ));
    expected.push_str(&format!(
        "apicov: gates tripped: {} stable endpoint(s) not found; exit status 1\n",
        missing.len()
    ));
    assert_eq!(short, expected);

    let all = stderr_of(&run(&["--gate-lines", "all"]));
    let mut expected: String = missing.iter().map(|op| line(op)).collect();
    expected.push_str(&format!(
        "apicov: gates tripped: {} stable endpoint(s) not found; exit status 1\n",
        missing.len()
    ));
    assert_eq!(all, expected);
}

/// Issue 31 §5: the "pending-eligible operation exercised" lines were
/// printed in full while the "not found" lines stopped at ten. Both gates
/// print ten lines and a count by default, and every line with
/// `--gate-lines all`; the report JSON and JUnit keep every one.
#[test]
fn pending_exercised_gate_lines_are_cut_to_ten_and_a_count() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // Twelve operations the bundled logs exercise, with their requests.
    let exercised = [
        ("createAppsV1NamespacedDeployment", 1),
        ("createCoreV1Namespace", 1),
        ("createCoreV1NamespacedPod", 3),
        ("deleteCoreV1NamespacedConfigMap", 1),
        ("deleteCoreV1NamespacedPod", 5),
        ("listAppsV1NamespacedDeployment", 6),
        ("listCoreV1NamespacedConfigMap", 2),
        ("listCoreV1NamespacedPod", 1),
        ("listCoreV1Node", 1),
        ("patchCoreV1NamespacedPod", 2),
        ("readAppsV1NamespacedDeployment", 2),
        ("replaceCoreV1NamespacedPod", 3),
    ];
    let pending = d.join("pending.yaml");
    let listed: String = exercised
        .iter()
        .map(|(op, _)| format!("- {op}\n"))
        .collect();
    fs::write(&pending, listed).unwrap();
    let run = |extra: &[&str]| {
        on_fixture("parse", &pending)
            .arg("-q")
            .args(outputs(d))
            .arg("--report-json")
            .arg(d.join("r.json"))
            .arg("--junit")
            .arg(d.join("junit.xml"))
            .args(extra)
            .assert()
            .code(1)
            .stdout("")
    };
    let pending_line = |(op, calls): &(&str, u64)| {
        format!(
            "Endpoint {op} found in pending_eligible_endpoints.yaml but is being tested ({calls} \
             calls; remove it from {})\n",
            pending.display()
        )
    };
    let short = stderr_of(&run(&[]));
    let report: Value = serde_json::from_slice(&fs::read(d.join("r.json")).unwrap()).unwrap();
    let names: Vec<&str> = exercised.iter().map(|(op, _)| *op).collect();
    assert_eq!(report["pending_exercised"], serde_json::json!(names));
    let junit = fs::read_to_string(d.join("junit.xml")).unwrap();
    for e in &exercised {
        assert!(junit.contains(pending_line(e).trim_end()), "{}", e.0);
    }
    let missing: Vec<&str> = report["stable_not_found"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    // The mini list's two entries, not listed now and not hit, join them.
    assert_eq!(missing.len(), 19);
    let stable_line =
        |op: &str| format!("Stable endpoint {op} not found in pending_eligible_endpoints.yaml\n");
    let verdict =
        "apicov: gates tripped: 19 stable endpoint(s) not found, 12 pending endpoint(s) tested; \
         exit status 1\n";
    let mut expected: String = missing[..10].iter().map(|op| stable_line(op)).collect();
    expected.push_str(
        "… and 9 more stable endpoints not found (19 in all: --gate-lines all prints each; \
         the report JSON lists them under \"stable_not_found\")\n",
    );
    expected.extend(exercised[..10].iter().map(pending_line));
    expected.push_str(
        "… and 2 more pending endpoints exercised (12 in all: --gate-lines all prints each; \
         the report JSON lists them under \"pending_exercised\")\n",
    );
    expected.push_str(verdict);
    assert_eq!(short, expected);

    let all = stderr_of(&run(&["--gate-lines", "all"]));
    let mut expected: String = missing.iter().map(|op| stable_line(op)).collect();
    expected.extend(exercised.iter().map(pending_line));
    expected.push_str(verdict);
    assert_eq!(all, expected);
}

/// Issue 31 §8: `promotions` without `--report` fails nothing: it lists what
/// each newly stable operation needs, and exits 0.
#[test]
fn promotions_without_a_run_list_needs_and_fail_nothing() {
    let (Some(old), Some(new), Some(ineligible), Some(pending)) = (
        common::shared("k8s/swagger-v1.35.json"),
        common::shared("k8s/swagger-v1.36.json"),
        common::shared("k8s/ineligible_endpoints.yaml"),
        common::shared("k8s/pending_eligible_endpoints.yaml"),
    ) else {
        return;
    };
    let out = apicov()
        .args(["promotions", "--base-swagger"])
        .arg(&old)
        .arg("--swagger")
        .arg(&new)
        .arg("--ineligible-endpoints")
        .arg(&ineligible)
        .arg("--pending-eligible-endpoints")
        .arg(&pending)
        .assert()
        .code(0);
    let stdout = stdout_of(&out);
    assert!(!stdout.contains("FAIL"), "{stdout}");
    assert!(!stdout.contains("not hit by the run"), "{stdout}");
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(
        lines[0],
        "18 operation(s) newly stable; no run given (--report), so none fails: 14 need a test, \
         pending or ineligible entry"
    );
    assert_eq!(
        lines[1],
        "  needs   createAdmissionregistrationV1MutatingAdmissionPolicy (new, POST \
         /apis/admissionregistration.k8s.io/v1/mutatingadmissionpolicies): needs a conformance \
         test that hits it (no run given), or an entry in pending_eligible_endpoints.yaml"
    );
    assert_eq!(
        lines.iter().filter(|l| l.starts_with("  needs ")).count(),
        14
    );
}

/// Issue 31 §9: the default audit-operations.json is still written into the
/// working directory (drop-in), and the summary and `--help` say so.
#[test]
fn default_output_files_are_named_in_the_summary_and_help() {
    let dir = tempfile::tempdir().unwrap();
    let root = common::root();
    let out = apicov()
        .current_dir(dir.path())
        .args(["parse", "--no-fail", "--audit-logs"])
        .arg(root.join("testdata/audit/kind-conformance-2026-11-26T10-00-00.000.log"))
        .arg("--swagger")
        .arg(common::mini_spec())
        .arg("--ineligible-endpoints")
        .arg(common::testdata("ineligible-mini.yaml"))
        .arg("--pending-eligible-endpoints")
        .arg(common::testdata("pending-mini.yaml"))
        .arg("-o")
        .arg(dir.path().join("e.txt"))
        .assert()
        .code(0);
    assert!(dir.path().join("audit-operations.json").exists());
    let stderr = stderr_of(&out);
    assert!(
        stderr.contains(
            "\nWrote audit-operations.json (default of --audit-operations-json, as \
             audit_log_parser.py)\n"
        ),
        "{stderr}"
    );
    // Named only when it is the default.
    let named = apicov()
        .current_dir(dir.path())
        .args(["parse", "--no-fail", "--audit-logs"])
        .arg(root.join("testdata/audit/kind-conformance-2026-11-26T10-00-00.000.log"))
        .arg("--swagger")
        .arg(common::mini_spec())
        .arg("--ineligible-endpoints")
        .arg(common::testdata("ineligible-mini.yaml"))
        .arg("--pending-eligible-endpoints")
        .arg(common::testdata("pending-mini.yaml"))
        .args(outputs(dir.path()))
        .assert()
        .code(0);
    assert!(!stderr_of(&named).contains("Wrote "));

    let help = stdout_of(&apicov().args(["parse", "--help"]).assert().success());
    assert!(
        help.contains("working directory as audit_log_parser.py does (also under -q)"),
        "{help}"
    );
    let help = stdout_of(&apicov().args(["diff", "--help"]).assert().success());
    assert!(
        help.contains("as swagger_operations.txt in the working directory"),
        "{help}"
    );
}

/// Read by headless Chromium after the page's own script: per row the
/// operation, method and badge; the unobservable card's figure; the Spec row;
/// the chart's bar labels. One tab-separated line each, in `<pre id=point7>`.
const POINT7: &str = "<script>(function(){var out=[];\
document.querySelectorAll('#ops tbody tr').forEach(function(r){\
out.push(['row',r.cells[0].textContent,r.cells[2].textContent,r.querySelector('.badge').textContent].join('\\t'));});\
document.querySelectorAll('.stat').forEach(function(s){var k=s.querySelector('.k').textContent;\
if(k.indexOf('stable operations no audit log can show')===0){out.push('card\\t'+s.querySelector('.v').textContent);}});\
document.querySelectorAll('#run tr').forEach(function(r){if(r.cells[0].textContent==='Spec'){out.push('spec\\t'+r.cells[1].textContent);}});\
document.querySelectorAll('#chart text[fill=\"#555\"]').forEach(function(t){out.push('label\\t'+t.textContent);});\
var pre=document.createElement('pre');pre.id='point7';pre.textContent=out.join('\\n');document.body.appendChild(pre);})();</script>";

/// What Chromium rendered of a report page (see [`POINT7`]).
struct Rendered {
    /// (operation, method, badge) per table row.
    rows: Vec<(String, String, String)>,
    /// The unobservable card's figure.
    card: String,
    /// The Spec row of the header table.
    spec: String,
    /// The chart's "hit/eligible (percent)" labels.
    labels: Vec<String>,
}

/// Renders `html` in headless Chromium and reads back [`Rendered`]; keeps a
/// screenshot of the page as `target/test-artifacts/<shot>`.
fn render(browser: &Path, d: &Path, html: &Path, shot: &str) -> Rendered {
    let page = fs::read_to_string(html).unwrap();
    let probed = d.join(format!("probed-{shot}.html"));
    fs::write(
        &probed,
        page.replace("</body>", &format!("{POINT7}</body>")),
    )
    .unwrap();
    let dom = common::headless(
        browser,
        &d.join(format!("profile-{shot}")),
        (1280, 900),
        &["--dump-dom".into(), format!("file://{}", probed.display())],
    );
    let dom = String::from_utf8(dom).unwrap();
    assert!(
        dom.contains("data-ready=\"1\""),
        "the page's script did not run"
    );
    let at = dom
        .find("<pre id=\"point7\">")
        .expect("the probe did not run")
        + 17;
    let text = dom[at..at + dom[at..].find("</pre>").unwrap()]
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&");
    let mut rendered = Rendered {
        rows: Vec::new(),
        card: String::new(),
        spec: String::new(),
        labels: Vec::new(),
    };
    for line in text.lines() {
        let fields: Vec<&str> = line.split('\t').collect();
        match fields[..] {
            ["row", op, method, badge] => {
                rendered
                    .rows
                    .push((op.to_string(), method.to_string(), badge.to_string()))
            }
            ["card", v] => rendered.card = v.to_string(),
            ["spec", v] => rendered.spec = v.to_string(),
            ["label", v] => rendered.labels.push(v.to_string()),
            _ => panic!("unexpected probe line {line:?}"),
        }
    }

    let artifacts = common::root().join("target/test-artifacts");
    fs::create_dir_all(&artifacts).unwrap();
    let shot = artifacts.join(shot);
    let _ = fs::remove_file(&shot);
    common::headless(
        browser,
        &d.join("profile-shot"),
        (1280, 2400),
        &[
            format!("--screenshot={}", shot.display()),
            format!("file://{}", html.display()),
        ],
    );
    let png = fs::read(&shot).unwrap();
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
    rendered
}

/// `apicov ops --long` of `spec`: operation → (method, stable, observable).
fn ops_long(spec: &Path) -> std::collections::BTreeMap<String, (String, bool, bool)> {
    let out = apicov()
        .args(["ops", "--long", "--swagger"])
        .arg(spec)
        .assert()
        .success();
    stdout_of(&out)
        .lines()
        .skip(1)
        .map(|line| {
            let c: Vec<&str> = line.split('\t').collect();
            (
                c[0].to_string(),
                (c[1].to_string(), c[5] == "true", c[7] == "true"),
            )
        })
        .collect()
}

/// The rendered page agrees with `ops --long` and with its own card: a
/// HEAD/OPTIONS row of a stable operation is badged "stable, unobservable"
/// (never "not stable"), every unobservable stable operation is such a row
/// and the card counts them; no bar is labelled 0/0. Returns the rows so
/// badged.
fn assert_badges_agree(rendered: &Rendered, spec: &Path) -> usize {
    let classes = ops_long(spec);
    assert_eq!(rendered.rows.len(), classes.len());
    let mut unobservable = 0;
    for (op, method, badge) in &rendered.rows {
        let (their_method, stable, observable) = &classes[op];
        assert_eq!(method, their_method, "{op}");
        let expected_badge = match (stable, observable) {
            (false, _) => Some("not stable"),
            (true, false) => Some("stable, unobservable"),
            (true, true) => None,
        };
        match expected_badge {
            Some(expected) => assert_eq!(badge, expected, "{op}"),
            None => assert!(
                ["hit", "not found", "ineligible", "pending", "deprecated"]
                    .contains(&badge.as_str()),
                "{op}: {badge}"
            ),
        }
        if ["HEAD", "OPTIONS"].contains(&method.as_str()) && *stable {
            assert_eq!(badge, "stable, unobservable", "{op}");
        }
        if badge == "stable, unobservable" {
            unobservable += 1;
        }
    }
    assert_eq!(rendered.card, unobservable.to_string(), "the card's figure");
    assert!(!rendered.labels.is_empty(), "no bar rendered");
    for label in &rendered.labels {
        assert!(!label.starts_with("0/0"), "a 0/0 bar: {label}");
    }
    unobservable
}

/// Issue 31 §7 in headless Chromium: HEAD/OPTIONS proxy rows are badged
/// "stable, unobservable" as the card and `ops --long` call them, the
/// header names the release of the real 1.36 spec (its `info.version` says
/// "unversioned"), and no group/version draws a 0/0 bar. Screenshots of both
/// pages are kept in target/test-artifacts.
#[test]
fn html_badges_head_options_rows_stable_unobservable_in_chromium() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let html = d.join("mini.html");
    common::parse_fixture()
        .args(["-q", "--no-fail", "--html"])
        .arg(&html)
        .args(outputs(d))
        .assert()
        .code(0);
    let page = fs::read_to_string(&html).unwrap();
    assert!(page.contains(
        "<tr data-status=\"unobservable\"><td class=op>connectCoreV1HeadNodeProxy</td>\
         <td>core/v1</td><td>HEAD</td><td class=path>/api/v1/nodes/{name}/proxy</td>\
         <td><span class=badge style=\"background:#90a4ae\">stable, unobservable</span></td>"
    ));
    assert!(page.contains("<option value=\"unobservable\">stable, unobservable</option>"));
    let Some(browser) = common::chromium() else {
        return;
    };
    let mini = render(&browser, d, &html, "apicov-report-mini-badges.png");
    assert_eq!(assert_badges_agree(&mini, &common::mini_spec()), 4);
    assert_eq!(
        mini.spec,
        "testdata/swagger-mini.json (version v1.34.0-mini, 58 operations)"
    );

    let (Some(spec), Some(ineligible), Some(pending)) = (
        common::shared("k8s/swagger-v1.36.json"),
        common::shared("k8s/ineligible_endpoints.yaml"),
        common::shared("k8s/pending_eligible_endpoints.yaml"),
    ) else {
        return;
    };
    let html = d.join("v1.36.html");
    apicov()
        .args(["parse", "-q", "--no-fail", "--audit-logs"])
        .arg("testdata/audit/kind-conformance-*.log")
        .arg("--swagger")
        .arg(&spec)
        .arg("--ineligible-endpoints")
        .arg(&ineligible)
        .arg("--pending-eligible-endpoints")
        .arg(&pending)
        .args(outputs(d))
        .arg("--html")
        .arg(&html)
        .assert()
        .code(0);
    let real = render(&browser, d, &html, "apicov-report-v1.36.png");
    // The proxy operations' HEAD and OPTIONS: six resources, with and
    // without a path.
    assert_eq!(assert_badges_agree(&real, &spec), 12);
    assert_eq!(
        real.spec,
        format!(
            "{} (version v1.36 by its name, 1123 operations; the spec itself names no release)",
            spec.display()
        )
    );
    let page = fs::read_to_string(&html).unwrap();
    assert!(!page.contains("version unversioned"));
    // The group/versions with no eligible operation are named, not drawn.
    assert!(page.contains(
        "<p id=no-eligible>Not drawn, no eligible operation (all ineligible, pending or \
         deprecated): rbac.authorization.k8s.io, rbac.authorization.k8s.io/v1, resource.k8s.io</p>"
    ));
}

/// Issue 31 §7, grammar: one request is "1 request" (JUnit), and a run that
/// read nothing says so rather than "(0 MB/s)".
#[test]
fn counts_of_one_are_singular_and_an_empty_run_has_no_zero_rate() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let junit = d.join("j.xml");
    common::parse_fixture()
        .args(["-q", "--no-fail", "--junit"])
        .arg(&junit)
        .args(outputs(d))
        .assert()
        .code(0);
    let xml = fs::read_to_string(&junit).unwrap();
    assert!(xml.contains("<system-out>1 request</system-out>"), "{xml}");
    assert!(!xml.contains("<system-out>1 requests</system-out>"));
    assert!(xml.contains("<system-out>3 requests</system-out>"), "{xml}");

    let empty = d.join("empty.log");
    fs::write(&empty, "").unwrap();
    let out = apicov()
        .args(["parse", "--no-fail", "--audit-logs"])
        .arg(&empty)
        .args(["--swagger", "testdata/swagger-mini.json"])
        .args(["--ineligible-endpoints", "testdata/ineligible-mini.yaml"])
        .args(["--pending-eligible-endpoints", "testdata/pending-mini.yaml"])
        .args(outputs(d))
        .assert()
        .code(0);
    let stderr = stderr_of(&out);
    let elapsed = stderr
        .lines()
        .find(|l| l.starts_with("  Elapsed: "))
        .unwrap_or_else(|| panic!("{stderr}"));
    assert!(elapsed.ends_with(" s (nothing read)"), "{elapsed}");
}
