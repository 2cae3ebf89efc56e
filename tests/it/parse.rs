//! `apicov parse` end to end: exact counts on generated logs (plain, gzip,
//! noise, ResponseComplete-only policy), identical bytes on every read path,
//! snapshots of the bundled fixture's outputs, real audit events, bad input.

use crate::common;

use std::fs;
use std::path::{Path, PathBuf};

use common::{apicov, empty_list, mini_spec, parse_command};
use serde_json::Value;

fn tmp() -> tempfile::TempDir {
    tempfile::tempdir().unwrap()
}

/// `apicov gen` into `dir`, returning (log, truth).
fn generate(dir: &Path, spec: &Path, name: &str, extra: &[&str]) -> (PathBuf, Value) {
    let log = dir.join(name);
    let truth = dir.join(format!("{name}.truth.json"));
    apicov()
        .args(["gen", "--swagger"])
        .arg(spec)
        .arg("-o")
        .arg(&log)
        .arg("--truth")
        .arg(&truth)
        .args(extra)
        .assert()
        .success();
    (
        log,
        serde_json::from_slice(&fs::read(truth).unwrap()).unwrap(),
    )
}

/// Runs parse with empty lists; returns (endpoints, operations json, report).
fn parse(dir: &Path, spec: &Path, logs: &[&Path], extra: &[&str]) -> (Vec<u8>, Vec<u8>, Value) {
    let out = dir.join("out");
    parse_command(spec, logs, &empty_list(dir), &out)
        .arg("--quiet")
        .args(extra)
        .assert()
        .success();
    (
        fs::read(out.join("e.txt")).unwrap(),
        fs::read(out.join("o.json")).unwrap(),
        serde_json::from_slice(&fs::read(out.join("r.json")).unwrap()).unwrap(),
    )
}

#[cfg(feature = "compression")]
fn assert_matches_truth(report: &Value, truth: &Value, label: &str) {
    for (r, t) in [
        ("requests", "requests"),
        ("unmatched_requests", "unmatched_requests"),
        ("malformed_lines", "malformed_lines"),
        ("blank_lines", "blank_lines"),
        ("events", "events"),
    ] {
        assert_eq!(report[r], truth[t], "{label}: {r}");
    }
    assert_eq!(
        report["operations"], truth["operations"],
        "{label}: operations"
    );
}

// gzip or zstd logs: needs the `compression` feature.
#[cfg(feature = "compression")]
#[test]
fn counts_match_the_generators_truth() {
    let dir = tmp();
    let mut specs = vec![mini_spec()];
    specs.extend(common::shared("k8s/swagger-v1.34.json"));
    for spec in &specs {
        for (name, extra) in [
            (
                "plain.log",
                vec!["--size", "300K", "--seed", "3", "--noise"],
            ),
            (
                "bodies.log",
                vec![
                    "--size",
                    "300K",
                    "--seed",
                    "4",
                    "--level",
                    "request-response",
                ],
            ),
            (
                "large-bodies.log",
                vec![
                    "--size",
                    "2M",
                    "--seed",
                    "7",
                    "--shape",
                    "large-bodies",
                    "--level",
                    "request-response",
                ],
            ),
            (
                "crd-heavy.log",
                vec!["--size", "300K", "--seed", "8", "--shape", "crd-heavy"],
            ),
            (
                "rc-only.log",
                vec![
                    "--size",
                    "300K",
                    "--seed",
                    "5",
                    "--omit-request-received",
                    "--noise",
                ],
            ),
            (
                "zipped.log.gz",
                vec!["--size", "300K", "--seed", "6", "--noise"],
            ),
        ] {
            let (log, truth) = generate(dir.path(), spec, name, &extra);
            let (_, _, report) = parse(dir.path(), spec, &[&log], &[]);
            assert_matches_truth(&report, &truth, name);
            let (_, _, full) = parse(dir.path(), spec, &[&log], &["--validate", "full"]);
            assert_eq!(full, report, "{name}: --validate full");
            assert!(
                report["requests"].as_u64().unwrap() > 60,
                "{name}: too small to mean much"
            );
            let (_, _, report) = parse(dir.path(), spec, &[&log], &["--watch-credit", "list"]);
            assert_eq!(
                report["operations"], truth["operations_list_credit"],
                "{name}: list credit"
            );
        }
    }
}

/// mmap vs stream vs stdin, plain vs gzip, 1 vs N threads, tiny chunks vs
/// whole file: the same bytes out.
// gzip or zstd logs: needs the `compression` feature.
#[cfg(feature = "compression")]
#[test]
fn every_read_path_gives_identical_bytes() {
    let dir = tmp();
    let spec = mini_spec();
    let (log, _) = generate(
        dir.path(),
        &spec,
        "a.log",
        &["--size", "200K", "--seed", "9", "--noise"],
    );
    let gz = dir.path().join("a.log.gz");
    {
        use std::io::Write;
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        enc.write_all(&fs::read(&log).unwrap()).unwrap();
        fs::write(&gz, enc.finish().unwrap()).unwrap();
    }
    let strip = |mut r: Value| {
        r.as_object_mut().unwrap().remove("inputs");
        r.as_object_mut().unwrap().remove("malformed_examples");
        r
    };
    let baseline = parse(
        dir.path(),
        &spec,
        &[&log],
        &["--threads", "1", "--chunk-size", "100000000"],
    );
    let baseline = (baseline.0, baseline.1, strip(baseline.2));
    let mut runs = 0;
    for input in [&log, &gz] {
        for threads in ["1", "2", "4"] {
            for chunk in ["1", "97", "4096", "4194304"] {
                for mode in ["mmap", "stream"] {
                    let (e, o, r) = parse(
                        dir.path(),
                        &spec,
                        &[input],
                        &[
                            "--threads",
                            threads,
                            "--chunk-size",
                            chunk,
                            "--read-mode",
                            mode,
                        ],
                    );
                    let label = format!(
                        "{} threads={threads} chunk={chunk} mode={mode}",
                        input.display()
                    );
                    assert_eq!(e, baseline.0, "{label}: endpoints");
                    assert_eq!(o, baseline.1, "{label}: operations json");
                    assert_eq!(strip(r), baseline.2, "{label}: report");
                    runs += 1;
                }
            }
        }
    }
    assert_eq!(runs, 48);
    // Standard input, gzip and plain.
    for input in [&log, &gz] {
        let out = dir.path().join("stdin");
        parse_command(&spec, &[Path::new("-")], &empty_list(dir.path()), &out)
            .args(["-q", "--chunk-size", "333"])
            .pipe_stdin(input)
            .unwrap()
            .assert()
            .success();
        assert_eq!(fs::read(out.join("e.txt")).unwrap(), baseline.0);
        assert_eq!(fs::read(out.join("o.json")).unwrap(), baseline.1);
    }
}

/// The bundled fixture's outputs, pinned. Regenerate with
/// `UPDATE_SNAPSHOTS=1 cargo test --test it parse::snapshot` after checking the diff.
#[test]
fn snapshot_of_the_bundled_fixture() {
    let dir = tmp();
    let out = dir.path();
    common::parse_fixture()
        .arg("-o")
        .arg(out.join("audit-endpoints.txt"))
        .arg("--audit-operations-json")
        .arg(out.join("audit-operations.json"))
        .arg("--sort")
        .arg("count")
        .arg("-q")
        .assert()
        .code(1);
    for name in ["audit-endpoints.txt", "audit-operations.json"] {
        let got = fs::read(out.join(name)).unwrap();
        let path = common::testdata("expected").join(name);
        if std::env::var_os("UPDATE_SNAPSHOTS").is_some() {
            fs::create_dir_all(path.parent().unwrap()).unwrap();
            fs::write(&path, &got).unwrap();
        }
        assert_eq!(
            String::from_utf8(got).unwrap(),
            fs::read_to_string(&path).unwrap(),
            "{name}"
        );
    }
}

#[test]
fn every_real_audit_event_parses() {
    let Some(dir) = common::shared("real-audit") else {
        return;
    };
    let Some(spec) = common::shared("k8s/swagger-v1.34.json") else {
        return;
    };
    let mut logs: Vec<PathBuf> = fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "jsonl"))
        .collect();
    logs.sort();
    let t = tmp();
    let refs: Vec<&Path> = logs.iter().map(PathBuf::as_path).collect();
    let (_, _, report) = parse(t.path(), &spec, &refs, &[]);
    assert_eq!(report["events"], 792);
    assert_eq!(report["malformed_lines"], 0);
    assert_eq!(report["events_by_stage"]["RequestReceived"], 320);
    assert_eq!(report["events_by_stage"]["ResponseStarted"], 2);
    assert_eq!(report["events_by_stage"]["ResponseComplete"], 470);
}

#[test]
fn pending_but_exercised_trips_the_gate() {
    let dir = tmp();
    let spec = mini_spec();
    let log = dir.path().join("a.log");
    fs::write(
        &log,
        "{\"auditID\":\"1\",\"stage\":\"RequestReceived\",\"verb\":\"list\",\"requestURI\":\"/apis/storage.k8s.io/v1/csinodes\"}\n",
    )
    .unwrap();
    let pending = dir.path().join("pending.yaml");
    fs::write(&pending, "- listStorageV1CSINode\n").unwrap();
    let empty = empty_list(dir.path());
    let run = |no_fail: bool| {
        let mut cmd = apicov();
        cmd.current_dir(dir.path())
            .args([
                "parse",
                "-q",
                "--gate-lines",
                "all",
                "--audit-logs",
                "a.log",
            ])
            .arg("--swagger")
            .arg(&spec)
            .arg("--ineligible-endpoints")
            .arg(&empty)
            .arg("--pending-eligible-endpoints")
            .arg(&pending);
        if no_fail {
            cmd.arg("--no-fail");
        }
        cmd.assert()
    };
    let out = run(false).code(1);
    let stderr = String::from_utf8(out.get_output().stderr.clone()).unwrap();
    assert!(stderr.contains(
        "Endpoint listStorageV1CSINode found in pending_eligible_endpoints.yaml but is being tested"
    ));
    assert!(stderr
        .contains("Stable endpoint readCoreV1Node not found in pending_eligible_endpoints.yaml"));
    run(true).code(0);
}

/// One error line naming the file, exit status 2, and no output files.
fn assert_bad_input(args: &[&str], dir: &Path, names: &str) {
    let out = apicov().current_dir(dir).args(args).assert().code(2);
    let stderr = String::from_utf8(out.get_output().stderr.clone()).unwrap();
    assert_eq!(stderr.lines().count(), 1, "{args:?}: {stderr}");
    assert!(stderr.starts_with("apicov: error: "), "{stderr}");
    assert!(
        stderr.contains(names),
        "{args:?}: {stderr} should name {names}"
    );
    for leftover in ["e.txt", "o.json", "audit-operations.json"] {
        assert!(!dir.join(leftover).exists(), "{args:?} left {leftover}");
    }
}

#[test]
fn bad_input_is_one_error_line_exit_2_and_no_output() {
    let dir = tmp();
    let d = dir.path();
    let spec = mini_spec();
    let spec = spec.to_str().unwrap();
    let empty = empty_list(d);
    let empty = empty.to_str().unwrap();
    fs::write(
        d.join("good.log"),
        "{\"stage\":\"RequestReceived\",\"verb\":\"get\",\"requestURI\":\"/api\"}\n",
    )
    .unwrap();
    fs::write(
        d.join("corrupt.log.gz"),
        [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3, 0xde, 0xad, 0xbe, 0xef],
    )
    .unwrap();
    fs::create_dir(d.join("adir")).unwrap();
    fs::write(
        d.join("bad-spec.json"),
        "{\"swagger\": \"2.0\", \"paths\": ",
    )
    .unwrap();
    fs::write(d.join("nopaths.json"), "{\"swagger\": \"2.0\"}").unwrap();
    fs::write(d.join("bad.yaml"), "- a\n  - : [\n").unwrap();
    let common = |log: &str, spec: &str, list: &str| -> Vec<String> {
        [
            "parse",
            "--audit-logs",
            log,
            "--swagger",
            spec,
            "--ineligible-endpoints",
            list,
            "--pending-eligible-endpoints",
            empty,
            "-o",
            "e.txt",
            "--audit-operations-json",
            "o.json",
            "-q",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect()
    };
    let cases: Vec<(Vec<String>, &str)> = vec![
        (common("missing.log", spec, empty), "missing.log"),
        (common("nomatch-*.log", spec, empty), "nomatch-*.log"),
        (common("adir", spec, empty), "adir"),
        (common("corrupt.log.gz", spec, empty), "corrupt.log.gz"),
        (common("good.log", "bad-spec.json", empty), "bad-spec.json"),
        (common("good.log", "nopaths.json", empty), "nopaths.json"),
        (
            common("good.log", "missing-spec.json", empty),
            "missing-spec.json",
        ),
        (common("good.log", spec, "bad.yaml"), "bad.yaml"),
        (common("good.log", spec, "missing.yaml"), "missing.yaml"),
    ];
    for (args, names) in cases {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        assert_bad_input(&args, d, names);
    }
    // An output that cannot be written: nothing else is written either.
    let mut args = common("good.log", spec, empty);
    args[10] = "no-such-dir/e.txt".into();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    assert_bad_input(&args, d, "no-such-dir/e.txt");
}

#[test]
fn torn_crlf_blank_and_non_utf8_lines_are_counted_not_fatal() {
    let dir = tmp();
    let log = dir.path().join("a.log");
    let mut bytes = Vec::new();
    bytes.extend_from_slice(b"{\"auditID\":\"a\",\"stage\":\"RequestReceived\",\"verb\":\"get\",\"requestURI\":\"/api?x=1\\u0026y=2\"}\r\n");
    bytes.extend_from_slice(b"\n   \n");
    bytes.extend_from_slice(b"{\"auditID\":\"b\",\"stage\":\"RequestReceived\",\"verb\":\"get\",\"userAgent\":\"\xff\",\"requestURI\":\"/api\"}\n");
    bytes.extend_from_slice(b"{\"auditID\":\"c\",\"stage\":\"ResponseComplete\",\"verb\":\"get\",\"requestURI\":\"/version\"}\n");
    bytes.extend_from_slice(
        b"{\"auditID\":\"d\",\"stage\":\"RequestReceived\",\"verb\":\"get\",\"requestURI\":\"/ap",
    );
    fs::write(&log, bytes).unwrap();
    let (endpoints, _, report) = parse(dir.path(), &mini_spec(), &[&log], &[]);
    assert_eq!(report["malformed_lines"], 2);
    assert_eq!(report["blank_lines"], 2);
    assert_eq!(report["requests"], 2);
    assert_eq!(
        report["operations"],
        serde_json::json!({"getCodeVersion": 1, "getCoreAPIVersions": 1})
    );
    let examples: Vec<(u64, String)> = report["malformed_examples"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["line"].as_u64().unwrap(),
                m["reason"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        examples,
        [
            (4, "invalid UTF-8".to_string()),
            (6, "not JSON: line ends inside a string".to_string())
        ]
    );
    let text = String::from_utf8(endpoints).unwrap();
    assert!(
        text.ends_with("getCodeVersion | 1\ngetCoreAPIVersions | 1"),
        "{text}"
    );
    assert!(text.contains("\nSkipped entries: 2\n"), "{text}");
}

/// Python itself re-prints our audit-operations.json byte for byte: the file
/// is exactly `json.dump(indent=2, ensure_ascii=False)` of its content.
#[test]
fn operations_json_is_what_python_prints() {
    let Ok(status) = std::process::Command::new("python3")
        .arg("--version")
        .output()
    else {
        eprintln!("skipping: no python3");
        return;
    };
    assert!(status.status.success());
    let dir = tmp();
    let spec = mini_spec();
    let (log, _) = generate(
        dir.path(),
        &spec,
        "a.log",
        &[
            "--size",
            "300K",
            "--seed",
            "21",
            "--level",
            "request-response",
        ],
    );
    let (_, ops, _) = parse(dir.path(), &spec, &[&log], &[]);
    let path = dir.path().join("out/o.json");
    let script = "import json,sys; d=json.load(open(sys.argv[1],encoding='utf-8')); \
                  sys.stdout.buffer.write(json.dumps(d, indent=2, ensure_ascii=False).encode('utf-8'))";
    let out = std::process::Command::new("python3")
        .args(["-c", script])
        .arg(&path)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(ops.len() > 10_000, "too small to mean much: {}", ops.len());
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(ops).unwrap()
    );
}

/// Per-test attribution against the generator's truth, and
/// --conformance-only counting only what [Conformance] specs did.
#[test]
fn attribution_is_exact_on_generated_logs() {
    let dir = tmp();
    let mut specs = vec![mini_spec()];
    specs.extend(common::shared("k8s/swagger-v1.34.json"));
    for spec in &specs {
        for extra in [
            vec!["--noise"],
            vec!["--omit-request-received", "--level", "request"],
        ] {
            let mut args = vec!["--size", "400K", "--seed", "17"];
            args.extend(extra.iter().copied());
            let (log, truth) = generate(dir.path(), spec, "by-test.log", &args);
            let (_, _, report) = parse(dir.path(), spec, &[&log], &["--by-test"]);
            let attribution = &report["attribution"];
            let tests = attribution["tests"].as_object().unwrap();
            assert_eq!(tests.len(), truth["tests"].as_object().unwrap().len());
            for (name, ops) in truth["tests"].as_object().unwrap() {
                assert_eq!(&tests[name]["operations"], ops, "{name}");
                assert_eq!(
                    tests[name]["conformance"],
                    name.contains("[Conformance]"),
                    "{name}"
                );
            }
            for (name, ops) in truth["clients"].as_object().unwrap() {
                assert_eq!(&attribution["clients"][name]["operations"], ops, "{name}");
            }
            // Per operation: the tests that hit it add up to its count.
            for (op, by) in attribution["operations"].as_object().unwrap() {
                let sum: u64 = ["tests", "clients"]
                    .iter()
                    .flat_map(|k| by[k].as_object().unwrap().values())
                    .map(|v| v.as_u64().unwrap())
                    .sum();
                assert_eq!(report["operations"][op].as_u64().unwrap(), sum, "{op}");
            }
            let (_, _, conformance) = parse(dir.path(), spec, &[&log], &["--conformance-only"]);
            assert_eq!(conformance["operations"], truth["conformance_operations"]);
            assert!(conformance["requests"].as_u64().unwrap() > 20);
        }
    }
}

/// `apicov merge REPORTS` into `out` (r.json, e.txt, o.json) with empty lists.
fn merge(
    out: &Path,
    spec: &Path,
    empty: &Path,
    reports: &[PathBuf],
    extra: &[&str],
) -> assert_cmd::assert::Assert {
    apicov()
        .arg("merge")
        .args(reports)
        .arg("-o")
        .arg(out.join("r.json"))
        .arg("--endpoints")
        .arg(out.join("e.txt"))
        .arg("--audit-operations-json")
        .arg(out.join("o.json"))
        .args(common::spec_and_lists(spec, empty))
        .args(extra)
        .assert()
}

/// Splits `log` into `parts` files at line boundaries.
fn split_lines(log: &Path, dir: &Path, parts: usize) -> Vec<PathBuf> {
    let bytes = fs::read(log).unwrap();
    let lines: Vec<&[u8]> = bytes.split_inclusive(|&b| b == b'\n').collect();
    let per = lines.len().div_ceil(parts);
    lines
        .chunks(per)
        .enumerate()
        .map(|(i, chunk)| {
            let p = dir.join(format!("part-{i}.log"));
            fs::write(&p, chunk.concat()).unwrap();
            p
        })
        .collect()
}

/// Everything in a report that does not name an input or a place in one.
fn location_free(mut report: Value) -> Value {
    let r = report.as_object_mut().unwrap();
    r.remove("inputs");
    r.remove("malformed_examples");
    let t = r["tally"].as_object_mut().unwrap();
    for key in [
        "inputs",
        "malformed_examples",
        "samples",
        "open_digest",
        "seeded_from",
    ] {
        t.remove(key);
    }
    for hits in t["operations"].as_object_mut().unwrap().values_mut() {
        hits.as_object_mut().unwrap().remove("first");
    }
    for u in t["unmatched"].as_array_mut().unwrap() {
        u["hits"].as_object_mut().unwrap().remove("first");
    }
    report
}

#[test]
fn merging_parts_gives_what_one_parse_of_the_whole_gives() {
    let dir = tmp();
    let d = dir.path();
    let spec = mini_spec();
    let empty = empty_list(d);
    // RequestReceived + ResponseComplete, watches completing many lines later:
    // requests straddle every split.
    let (log, _) = generate(
        d,
        &spec,
        "whole.log",
        &["--size", "400K", "--seed", "33", "--noise"],
    );
    let whole_out = d.join("whole");
    let parse_to = |logs: &[&Path], out: &Path, extra: &[&str]| {
        parse_command(&spec, logs, &empty, out)
            .args(["-q", "--by-test"])
            .args(extra)
            .assert()
            .success();
    };
    parse_to(&[&log], &whole_out, &[]);

    let parts = split_lines(&log, d, 3);
    let mut reports = Vec::new();
    for (i, part) in parts.iter().enumerate() {
        let out = d.join(format!("out-{i}"));
        let previous = i.checked_sub(1).map(|p| d.join(format!("out-{p}/r.json")));
        let extra: Vec<String> = previous
            .map(|p| vec!["--continue-from".to_string(), p.display().to_string()])
            .unwrap_or_default();
        let extra: Vec<&str> = extra.iter().map(String::as_str).collect();
        parse_to(&[part], &out, &extra);
        reports.push(out.join("r.json"));
    }
    let merged = d.join("merged");
    fs::create_dir_all(&merged).unwrap();
    let merge = |reports: &[PathBuf], extra: &[&str]| merge(&merged, &spec, &empty, reports, extra);
    merge(&reports, &[]).success();
    for f in ["e.txt", "o.json"] {
        assert_eq!(
            fs::read_to_string(merged.join(f)).unwrap(),
            fs::read_to_string(whole_out.join(f)).unwrap(),
            "{f}"
        );
    }
    let read = |p: PathBuf| -> Value { serde_json::from_slice(&fs::read(p).unwrap()).unwrap() };
    let whole = read(whole_out.join("r.json"));
    assert_eq!(
        location_free(read(merged.join("r.json"))),
        location_free(whole.clone())
    );
    assert_eq!(
        read(merged.join("r.json"))["inputs"]
            .as_array()
            .unwrap()
            .len(),
        3
    );

    // Parts parsed without --continue-from cannot be merged silently wrong.
    let mut loose = Vec::new();
    for (i, part) in parts.iter().enumerate() {
        let out = d.join(format!("loose-{i}"));
        parse_to(&[part], &out, &[]);
        loose.push(out.join("r.json"));
    }
    let out = merge(&loose, &[]).code(2);
    let stderr = String::from_utf8(out.get_output().stderr.clone()).unwrap();
    assert!(
        stderr.contains("request(s) open, and this part was not parsed with --continue-from"),
        "{stderr}"
    );
}

#[test]
fn independent_runs_merge_to_the_parse_of_all_of_them() {
    let dir = tmp();
    let d = dir.path();
    let spec = mini_spec();
    let (a, _) = generate(
        d,
        &spec,
        "run-a.log",
        &["--size", "200K", "--seed", "41", "--omit-request-received"],
    );
    let (b, _) = generate(
        d,
        &spec,
        "run-b.log",
        &["--size", "200K", "--seed", "42", "--omit-request-received"],
    );
    let (e_all, o_all, _) = parse(d, &spec, &[&a, &b], &[]);
    let mut reports = Vec::new();
    for (i, log) in [&a, &b].iter().enumerate() {
        let (_, _, _) = parse(d, &spec, &[log], &[]);
        let keep = d.join(format!("r{i}.json"));
        fs::copy(d.join("out/r.json"), &keep).unwrap();
        reports.push(keep);
    }
    let merged = d.join("merged");
    fs::create_dir_all(&merged).unwrap();
    merge(&merged, &spec, &empty_list(d), &reports, &["--independent"]).success();
    assert_eq!(fs::read(merged.join("e.txt")).unwrap(), e_all);
    assert_eq!(fs::read(merged.join("o.json")).unwrap(), o_all);
}

/// The apiserver's batch backends write (and post) batches from concurrent
/// goroutines: a generated log whose lines are shuffled within windows of
/// 2,000 lines counts exactly the generator's truth, operation by
/// operation, with every stage logged and under `omitStages:
/// [RequestReceived]`, on one thread or two, in 64 KiB chunks or whole, and
/// with the window just wide enough.
#[test]
fn lines_shuffled_within_a_window_count_the_truth() {
    let dir = tempfile::tempdir().unwrap();
    let empty = empty_list(dir.path());
    for omit in [false, true] {
        let log = dir.path().join("gen.log");
        let truth = dir.path().join("truth.json");
        let mut gen = apicov();
        gen.arg("gen")
            .arg("--swagger")
            .arg(mini_spec())
            .arg("-o")
            .arg(&log)
            .arg("--truth")
            .arg(&truth)
            .args(["--size", "8M", "--seed", "7"]);
        if omit {
            gen.arg("--omit-request-received");
        }
        gen.assert().success();
        let truth: Value = serde_json::from_slice(&fs::read(&truth).unwrap()).unwrap();
        let text = fs::read_to_string(&log).unwrap();
        let mut lines: Vec<&str> = text.lines().collect();
        // Fisher-Yates within each window, by a fixed xorshift.
        let mut state: u64 = 0x2545_f491_4f6c_dd1d;
        for window in lines.chunks_mut(2_000) {
            for i in (1..window.len()).rev() {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                window.swap(i, (state % (i as u64 + 1)) as usize);
            }
        }
        let shuffled = dir.path().join("shuffled.log");
        fs::write(&shuffled, lines.join("\n") + "\n").unwrap();
        for (threads, chunk, window) in [
            ("1", "4194304", "262144"),
            ("2", "65536", "262144"),
            ("2", "65536", "4000"),
        ] {
            let out = dir
                .path()
                .join(format!("out-{omit}-{threads}-{chunk}-{window}"));
            parse_command(&mini_spec(), &[&shuffled], &empty, &out)
                .args(["--threads", threads, "--chunk-size", chunk])
                .args(["--window-events", window, "-q"])
                .assert()
                .success();
            let report: Value =
                serde_json::from_slice(&fs::read(out.join("r.json")).unwrap()).unwrap();
            assert_eq!(
                report["requests"], truth["requests"],
                "{omit} {threads} {chunk} {window}"
            );
            assert_eq!(report["unmatched_requests"], truth["unmatched_requests"]);
            assert_eq!(report["events"], truth["events"]);
            assert_eq!(report["operations"], truth["operations"]);
        }
    }
}

/// `--window-events` takes at most 2^30 events (the table of recent
/// requests names a record by 32 bits of its number): one more is refused
/// with exit 2 before anything is written; the largest window counts a log
/// shorter than the default window as the default does, byte for byte.
#[test]
fn the_window_is_at_most_two_to_the_thirty_events() {
    let dir = tmp();
    let d = dir.path();
    let spec = mini_spec();
    let empty = empty_list(d);
    let (log, _) = generate(d, &spec, "a.log", &["--size", "100K", "--seed", "35"]);
    let refused = d.join("refused");
    let out = parse_command(&spec, &[&log], &empty, &refused)
        .args(["--window-events", "1073741825"])
        .assert()
        .code(2);
    let stderr = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
    assert!(stderr.contains("1073741825"), "{stderr}");
    assert_eq!(fs::read_dir(&refused).unwrap().count(), 0);
    let (largest, default) = (d.join("largest"), d.join("default"));
    parse_command(&spec, &[&log], &empty, &largest)
        .args(["--window-events", "1073741824", "-q"])
        .assert()
        .success();
    parse_command(&spec, &[&log], &empty, &default)
        .arg("-q")
        .assert()
        .success();
    for name in ["e.txt", "o.json"] {
        assert_eq!(
            fs::read(largest.join(name)).unwrap(),
            fs::read(default.join(name)).unwrap(),
            "{name}"
        );
    }
}

/// Issue #30 (5): parts of a `--continue-from` chain given to `merge` out of
/// order are refused (exit 2, one line naming the part), whether or not
/// requests straddle the splits; each report records its place in the chain.
#[test]
fn merge_refuses_a_continue_from_chain_out_of_order() {
    let dir = tmp();
    let d = dir.path();
    let spec = mini_spec();
    let empty = empty_list(d);
    let (log, _) = generate(d, &spec, "whole.log", &["--size", "200K", "--seed", "34"]);
    let parts = split_lines(&log, d, 3);
    let mut reports = Vec::new();
    for (i, part) in parts.iter().enumerate() {
        let out = d.join(format!("out-{i}"));
        let mut cmd = parse_command(&spec, &[part.as_path()], &empty, &out);
        cmd.arg("-q");
        if let Some(previous) = reports.last() {
            cmd.arg("--continue-from").arg(previous);
        }
        cmd.assert().success();
        let report = out.join("r.json");
        let json: Value = serde_json::from_slice(&fs::read(&report).unwrap()).unwrap();
        assert_eq!(json["tally"]["chain_position"], i as u64);
        reports.push(report);
    }
    let merged = d.join("merged");
    fs::create_dir_all(&merged).unwrap();
    merge(&merged, &spec, &empty, &reports, &[]).success();
    let reversed: Vec<PathBuf> = reports.iter().rev().cloned().collect();
    merge(&merged, &spec, &empty, &reversed, &[])
        .code(2)
        .stderr(format!(
            "apicov: error: {}: part 3 of a --continue-from chain comes first: give the parts \
             in chain order (or pass --independent for separate runs)\n",
            reports[2].display()
        ));
    let swapped = [reports[0].clone(), reports[2].clone(), reports[1].clone()];
    merge(&merged, &spec, &empty, &swapped, &[])
        .code(2)
        .stderr(format!(
            "apicov: error: {}: part 3 of a --continue-from chain does not continue {}: give \
             the parts in chain order (or pass --independent for separate runs)\n",
            reports[2].display(),
            reports[0].display()
        ));
}

/// Issue #30 (5): a log whose file name is not UTF-8 is read when a glob
/// matches it, not skipped (the `glob` crate skips such names).
#[test]
fn a_glob_reads_logs_with_non_utf8_names() {
    use std::os::unix::ffi::OsStrExt;

    let dir = tmp();
    let d = dir.path();
    let spec = mini_spec();
    let (a, _) = generate(d, &spec, "a.log", &["--size", "60K", "--seed", "51"]);
    let (b, _) = generate(d, &spec, "b.log", &["--size", "60K", "--seed", "52"]);
    let logs = d.join("logs");
    fs::create_dir_all(&logs).unwrap();
    fs::copy(&a, logs.join("audit-a.log")).unwrap();
    fs::copy(
        &b,
        logs.join(std::ffi::OsStr::from_bytes(b"audit-\xff.log")),
    )
    .unwrap();
    let (_, _, both) = parse(d, &spec, &[&a, &b], &[]);
    let glob = logs.join("audit-*.log");
    let (_, _, globbed) = parse(d, &spec, &[&glob], &[]);
    assert_eq!(globbed["inputs"].as_array().unwrap().len(), 2);
    assert!(both["requests"].as_u64().unwrap() > 0);
    assert_eq!(globbed["requests"], both["requests"]);
    assert_eq!(globbed["operations"], both["operations"]);
}

/// A line longer than a sample may be (16 MiB) counts, but is not kept as a
/// sample: the operation's samples are its other events.
#[test]
fn a_line_longer_than_a_sample_may_be_counts_but_is_not_kept() {
    let dir = tempfile::tempdir().unwrap();
    let empty = empty_list(dir.path());
    let event = |id: &str, body: &str| {
        format!(
            "{{\"kind\":\"Event\",\"apiVersion\":\"audit.k8s.io/v1\",\"level\":\"Request\",\
             \"auditID\":\"{id}\",\"stage\":\"ResponseComplete\",\
             \"requestURI\":\"/api/v1/namespaces/default/pods/p\",\"verb\":\"get\",\
             \"user\":{{\"username\":\"admin\"}},\"requestObject\":{{\"data\":\"{body}\"}}}}\n"
        )
    };
    let huge = event("big", &"x".repeat((16 << 20) + 1));
    let small = event("small", "y");
    let log = dir.path().join("audit.log");
    fs::write(&log, format!("{huge}{small}")).unwrap();
    let out = dir.path().join("out");
    parse_command(&mini_spec(), &[&log], &empty, &out)
        .arg("-q")
        .assert()
        .success();
    let report: Value = serde_json::from_slice(&fs::read(out.join("r.json")).unwrap()).unwrap();
    assert_eq!(report["requests"], 2);
    let samples: Value = serde_json::from_slice(&fs::read(out.join("o.json")).unwrap()).unwrap();
    let (op, kept) = samples.as_object().unwrap().iter().next().unwrap();
    assert_eq!(report["operations"][op], 2);
    let kept = kept.as_array().unwrap();
    assert_eq!(kept.len(), 1, "{op}");
    assert_eq!(kept[0]["auditID"], "small");
}

/// `--timings` says what the serial absorbing path cost and how many
/// requests it looked up in the table of recent requests: one per request
/// and chunk it has events in. Each fixture file is one chunk here (the
/// default chunk size is larger), so the lookups are its distinct auditIDs,
/// file by file, counted from the lines themselves.
#[test]
fn timings_name_the_serial_path_and_its_lookups() {
    let dir = tmp();
    let mut lookups = 0;
    for entry in fs::read_dir(common::testdata("audit")).unwrap() {
        let text = fs::read_to_string(entry.unwrap().path()).unwrap();
        let ids: std::collections::HashSet<String> = text
            .lines()
            .filter_map(|line| serde_json::from_str::<Value>(line).ok())
            .filter_map(|event| event["auditID"].as_str().map(String::from))
            .collect();
        lookups += ids.len();
    }
    let out = common::parse_fixture()
        .arg("-o")
        .arg(dir.path().join("audit-endpoints.txt"))
        .arg("--audit-operations-json")
        .arg(dir.path().join("audit-operations.json"))
        .args(["--timings", "-q", "--no-fail"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let stderr = String::from_utf8(out.stderr).unwrap();
    let line = stderr
        .lines()
        .find(|l| l.starts_with("apicov: scan: absorbing in input order"))
        .unwrap_or_else(|| panic!("no absorbing line in:\n{stderr}"));
    let ms = |label: &str| -> f64 {
        let rest = &line[line.find(label).unwrap() + label.len()..];
        rest[..rest.find(" ms").unwrap()].parse().unwrap()
    };
    let (absorbing, recent) = (
        ms("(one thread at a time): "),
        ms("of which recent requests: "),
    );
    assert!(recent <= absorbing, "{line}");
    assert!(
        line.ends_with(&format!(" for {lookups} lookups")),
        "{line}: want {lookups} lookups"
    );
    let table = stderr
        .lines()
        .find(|l| l.starts_with("apicov: scan: table of recent requests: "))
        .unwrap_or_else(|| panic!("no table line in:\n{stderr}"));
    assert!(
        table.ends_with(" ms") && table.contains(" MB, set up in "),
        "{table}"
    );
}
