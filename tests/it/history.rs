//! `apicov history` over generated CI runs laid out like Prow artifacts: one
//! with gzip logs, one still running (no finished.json); per-run figures
//! equal single parses; the timeline equals what the per-run sets imply.

use crate::common;

#[cfg(feature = "compression")]
use std::collections::{BTreeMap, BTreeSet};
use std::ffi::OsString;
use std::fs;
use std::path::{Path, PathBuf};

#[cfg(feature = "compression")]
use apicov_report::history::OpTimeline;
use assert_cmd::Command;
use serde_json::Value;

fn apicov() -> Command {
    Command::cargo_bin("apicov").unwrap()
}

fn spec() -> PathBuf {
    common::testdata("swagger-mini.json")
}

/// Writes a run directory; returns its audit dir.
fn make_run(
    root: &Path,
    id: &str,
    seed: u64,
    gzip: bool,
    started: Option<i64>,
    finished: Option<&str>,
) -> PathBuf {
    let run = root.join(id);
    let audit = run.join("artifacts/audit");
    fs::create_dir_all(&audit).unwrap();
    let ext = if gzip { ".log.gz" } else { ".log" };
    for (i, name) in ["audit-2026-11-26T09-00-00.000", "audit"]
        .iter()
        .enumerate()
    {
        apicov()
            .args(["gen", "--swagger"])
            .arg(spec())
            .arg("-o")
            .arg(audit.join(format!("{name}{ext}")))
            .args([
                "--size",
                "60K",
                "--seed",
                &(seed * 10 + i as u64).to_string(),
            ])
            .assert()
            .success();
    }
    if let Some(t) = started {
        fs::write(run.join("started.json"), format!("{{\"timestamp\": {t}}}")).unwrap();
    }
    if let Some(f) = finished {
        fs::write(run.join("finished.json"), f).unwrap();
    }
    audit
}

fn lists(d: &Path) -> PathBuf {
    let p = d.join("empty.yaml");
    fs::write(&p, "---\n").unwrap();
    p
}

/// `--swagger` the mini spec, with `lists` as both tracking lists.
fn spec_and_lists(lists: &Path) -> [OsString; 6] {
    common::spec_and_lists(&spec(), lists)
}

// gzip or zstd logs: needs the `compression` feature.
#[cfg(feature = "compression")]
#[test]
fn history_tables_match_single_parses() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let root = d.join("logs/ci-kubernetes-audit-kind-conformance");
    let runs = [
        (
            "1790000000000000101",
            1,
            false,
            Some(1_795_680_000),
            Some(r#"{"timestamp": 1795683600, "passed": true}"#),
        ),
        (
            "1790000000000000102",
            2,
            true,
            Some(1_795_694_400),
            Some(r#"{"timestamp": 1795698000, "result": "FAILURE"}"#),
        ),
        (
            "1790000000000000099",
            3,
            false,
            Some(1_795_600_000),
            Some(r#"{"passed": true}"#),
        ),
        ("1790000000000000103", 4, false, Some(1_795_708_800), None),
    ];
    for (id, seed, gzip, started, finished) in runs {
        make_run(&root, id, seed, gzip, started, finished);
    }
    let empty = lists(d);
    // The Parquet output needs the `parquet` feature; the other tables don't.
    let parquet_args: Vec<std::ffi::OsString> = if cfg!(feature = "parquet") {
        vec!["--parquet".into(), d.join("parquet").into()]
    } else {
        Vec::new()
    };
    let out = apicov()
        .arg("history")
        .arg(format!("{}/*", root.display()))
        .args(spec_and_lists(&empty))
        .arg("--csv")
        .arg(d.join("csv"))
        .arg("--json")
        .arg(d.join("history.json"))
        .args(parquet_args)
        .arg("--html")
        .arg(d.join("history.html"))
        .assert()
        .success();
    let stdout = String::from_utf8(out.get_output().stdout.clone()).unwrap();
    let history: Value =
        serde_json::from_slice(&fs::read(d.join("history.json")).unwrap()).unwrap();
    let order: Vec<&str> = history["runs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["run"].as_str().unwrap())
        .collect();
    assert_eq!(
        order,
        [
            "1790000000000000099",
            "1790000000000000101",
            "1790000000000000102",
            "1790000000000000103"
        ]
    );

    // Each run's figures equal a single parse of its logs.
    let mut sets: Vec<(String, BTreeSet<String>)> = Vec::new();
    for run in history["runs"].as_array().unwrap() {
        let id = run["run"].as_str().unwrap();
        let audit = root.join(id).join("artifacts/audit");
        let mut logs: Vec<PathBuf> = fs::read_dir(&audit)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        logs.sort();
        let report_path = d.join(format!("{id}.json"));
        apicov()
            .arg("parse")
            .arg("--audit-logs")
            .args(&logs)
            .args(spec_and_lists(&empty))
            .arg("--audit-operations-json")
            .arg(d.join("ops.json"))
            .arg("--report-json")
            .arg(&report_path)
            .args(["-q", "--no-fail"])
            .assert()
            .success();
        let single: Value = serde_json::from_slice(&fs::read(&report_path).unwrap()).unwrap();
        assert_eq!(run["requests"], single["requests"], "{id}");
        assert_eq!(run["operations"], single["operations"], "{id}");
        assert_eq!(
            run["stable_not_found"].as_u64().unwrap(),
            single["stable_not_found"].as_array().unwrap().len() as u64,
            "{id}"
        );
        sets.push((
            id.to_string(),
            single["operations"]
                .as_object()
                .unwrap()
                .keys()
                .cloned()
                .collect(),
        ));
    }
    assert_eq!(history["runs"][3]["finished"], false);
    assert_eq!(history["runs"][2]["passed"], false);
    assert_eq!(history["runs"][1]["started"], "2026-11-26T08:00:00Z");

    // The timeline, recomputed from the per-run sets.
    let mut expected: BTreeMap<String, OpTimeline> = BTreeMap::new();
    for (i, (id, set)) in sets.iter().enumerate() {
        for op in set {
            let e = expected.entry(op.clone()).or_default();
            if e.runs_hit == 0 {
                e.first_run = id.clone();
            }
            e.last_run = id.clone();
            e.runs_hit += 1;
            if i > 0 && !sets[i - 1].1.contains(op) {
                e.appeared.push(id.clone());
            }
        }
        if i > 0 {
            for op in sets[i - 1].1.difference(set) {
                expected.get_mut(op).unwrap().disappeared.push(id.clone());
            }
        }
    }
    let ops = history["operations"].as_object().unwrap();
    assert_eq!(ops.len(), expected.len());
    let mut changes = 0;
    for (op, e) in &expected {
        let t = &ops[op];
        assert_eq!(t["first_run"], e.first_run.as_str(), "{op}");
        assert_eq!(t["last_run"], e.last_run.as_str(), "{op}");
        assert_eq!(t["runs_hit"], e.runs_hit, "{op}");
        assert_eq!(t["appeared"], serde_json::json!(e.appeared), "{op}");
        assert_eq!(t["disappeared"], serde_json::json!(e.disappeared), "{op}");
        changes += e.appeared.len() + e.disappeared.len();
    }
    assert!(changes > 0, "the runs should differ");

    // CSV and console.
    let runs_csv = fs::read_to_string(d.join("csv/runs.csv")).unwrap();
    assert_eq!(runs_csv.lines().count(), 5);
    assert!(runs_csv.starts_with("run,started,finished,passed,requests,"));
    assert!(
        runs_csv.contains("\n1790000000000000103,2026-11-26T16:00:00Z,false,,"),
        "{runs_csv}"
    );
    assert_eq!(
        fs::read_to_string(d.join("csv/operations.csv"))
            .unwrap()
            .lines()
            .count(),
        expected.len() + 1
    );
    assert!(
        stdout.contains("Changes against the run before:"),
        "{stdout}"
    );

    if cfg!(feature = "parquet") {
        check_parquet(&d.join("parquet"), &history);
    }
    let page = fs::read_to_string(d.join("history.html")).unwrap();
    assert_eq!(page.matches("<circle class=\"run\"").count(), 4);
    assert_eq!(page.matches("<tr><td>1790").count(), 4);

    // The same runs from report JSONs parsed elsewhere.
    let reports: Vec<PathBuf> = order
        .iter()
        .map(|id| d.join(format!("{id}.json")))
        .collect();
    apicov()
        .arg("history")
        .arg("--reports")
        .args(&reports)
        .args(spec_and_lists(&empty))
        .arg("--json")
        .arg(d.join("from-reports.json"))
        .arg("-q")
        .assert()
        .success();
    let from_reports: Value =
        serde_json::from_slice(&fs::read(d.join("from-reports.json")).unwrap()).unwrap();
    assert_eq!(from_reports["operations"], history["operations"]);
    for (a, b) in from_reports["runs"]
        .as_array()
        .unwrap()
        .iter()
        .zip(history["runs"].as_array().unwrap())
    {
        assert_eq!(a["requests"], b["requests"]);
        assert_eq!(a["coverage_percent"], b["coverage_percent"]);
    }
}

/// Runs that died before uploading logs, a truncated gzip, broken
/// metadata: each gets a row saying why and is skipped; the good runs'
/// figures and timeline are those of a history without the bad ones.
// gzip or zstd logs: needs the `compression` feature.
#[cfg(feature = "compression")]
#[test]
fn bad_runs_are_reported_and_skipped() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let root = d.join("runs");
    let good = ["1790000000000000201", "1790000000000000205"];
    make_run(&root, good[0], 7, false, Some(1_795_680_000), None);
    make_run(&root, good[1], 8, true, Some(1_795_690_000), None);
    // An empty artifacts/audit, no artifacts/ at all.
    fs::create_dir_all(root.join("1790000000000000202/artifacts/audit")).unwrap();
    fs::create_dir_all(root.join("1790000000000000203")).unwrap();
    // A gzip log cut in half.
    let cut = make_run(&root, "1790000000000000204", 9, true, None, None);
    let gz = cut.join("audit.log.gz");
    let bytes = fs::read(&gz).unwrap();
    fs::write(&gz, &bytes[..bytes.len() / 2]).unwrap();
    // A started.json that is not JSON.
    make_run(&root, "1790000000000000206", 10, false, None, None);
    fs::write(
        root.join("1790000000000000206/started.json"),
        "{\"timestamp\": 17",
    )
    .unwrap();
    let empty = lists(d);

    let history = |runs: &[&str], out: &str, strict: bool| {
        let mut cmd = apicov();
        cmd.arg("history")
            .args(runs.iter().map(|r| root.join(r)))
            .args(spec_and_lists(&empty))
            .arg("--json")
            .arg(d.join(out))
            .arg("--csv")
            .arg(d.join(format!("{out}.csv")))
            .arg("-q");
        if strict {
            cmd.arg("--strict");
        }
        cmd.assert()
    };
    let all = [
        "1790000000000000201",
        "1790000000000000202",
        "1790000000000000203",
        "1790000000000000204",
        "1790000000000000205",
        "1790000000000000206",
    ];
    let assert = history(&all, "all.json", false).success();
    let stderr = String::from_utf8(assert.get_output().stderr.clone()).unwrap();
    let audit = |id: &str| root.join(id).join("artifacts/audit");
    let expected_stderr = format!(
        "apicov: warning: run 1790000000000000202 skipped (no-logs): {}: no audit*.log[.gz|.zst]\n\
         apicov: warning: run 1790000000000000203 skipped (no-artifacts): {}: no such directory\n\
         apicov: warning: run 1790000000000000204 skipped (corrupt): {}: corrupt or truncated gzip data: incomplete deflate stream\n\
         apicov: warning: run 1790000000000000206 skipped (bad-metadata): {}: not JSON: EOF while parsing an object at line 1 column 16\n",
        audit("1790000000000000202").display(),
        root.join("1790000000000000203/artifacts").display(),
        audit("1790000000000000204").join("audit.log.gz").display(),
        root.join("1790000000000000206/started.json").display(),
    );
    assert_eq!(stderr, expected_stderr);
    let all_json: Value = serde_json::from_slice(&fs::read(d.join("all.json")).unwrap()).unwrap();
    let statuses: Vec<(&str, &str)> = all_json["runs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["run"].as_str().unwrap(), r["status"].as_str().unwrap()))
        .collect();
    assert_eq!(
        statuses,
        [
            ("1790000000000000201", "ok"),
            ("1790000000000000202", "no-logs"),
            ("1790000000000000203", "no-artifacts"),
            ("1790000000000000204", "corrupt"),
            ("1790000000000000205", "ok"),
            ("1790000000000000206", "bad-metadata"),
        ]
    );

    // The good runs alone give the same figures and the same timeline.
    history(&good, "good.json", false).success().stderr("");
    let good_json: Value = serde_json::from_slice(&fs::read(d.join("good.json")).unwrap()).unwrap();
    let ok_rows: Vec<&Value> = all_json["runs"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["status"] == "ok")
        .collect();
    assert_eq!(ok_rows.len(), 2);
    for (a, b) in ok_rows.iter().zip(good_json["runs"].as_array().unwrap()) {
        assert_eq!(*a, b);
    }
    assert_eq!(all_json["operations"], good_json["operations"]);
    let csv = fs::read_to_string(d.join("all.json.csv/runs.csv")).unwrap();
    assert!(csv
        .lines()
        .next()
        .unwrap()
        .ends_with(",pending_exercised,status,problem,conformance_only,other_spec"));
    assert!(csv
        .lines()
        .any(|l| l.starts_with("1790000000000000202,,false,,0,0,0,0,0.00,0,0,no-logs,")));

    // --strict: every bad run is an error, nothing is written.
    let strict = history(&all, "strict.json", true).code(2);
    let stderr = String::from_utf8(strict.get_output().stderr.clone()).unwrap();
    assert_eq!(
        stderr,
        expected_stderr.replace("apicov: warning:", "apicov: error:")
            + "apicov: error: 4 of 6 runs could not be analysed (--strict): nothing written\n"
    );
    assert!(!d.join("strict.json").exists());
}

/// `history --reports` with an unreadable report: its row says so.
#[test]
fn an_unreadable_report_is_a_skipped_run() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let empty = lists(d);
    let log = d.join("a.log");
    apicov()
        .args(["gen", "--swagger"])
        .arg(spec())
        .arg("-o")
        .arg(&log)
        .args(["--size", "40K"])
        .assert()
        .success();
    let good = d.join("1790000000000000301.json");
    apicov()
        .arg("parse")
        .arg("--audit-logs")
        .arg(&log)
        .args(spec_and_lists(&empty))
        .arg("--audit-operations-json")
        .arg(d.join("ops.json"))
        .arg("--report-json")
        .arg(&good)
        .args(["-q", "--no-fail"])
        .assert()
        .success();
    let bad = d.join("1790000000000000302.json");
    fs::write(&bad, "{\"tally\": ").unwrap();
    let assert = apicov()
        .args(["history", "--reports"])
        .arg(&good)
        .arg(&bad)
        .args(spec_and_lists(&empty))
        .arg("--json")
        .arg(d.join("h.json"))
        .arg("-q")
        .assert()
        .success();
    assert_eq!(
        String::from_utf8(assert.get_output().stderr.clone()).unwrap(),
        format!(
            "apicov: warning: run 1790000000000000302 skipped (bad-report): {}: not JSON: EOF while parsing a value at line 1 column 10\n",
            bad.display()
        )
    );
    let h: Value = serde_json::from_slice(&fs::read(d.join("h.json")).unwrap()).unwrap();
    assert_eq!(h["runs"][0]["status"], "ok");
    assert_eq!(h["runs"][1]["status"], "bad-report");
    assert_eq!(h["runs"][1]["requests"], 0);
}

/// A column of a record batch, by name and type.
#[cfg(feature = "compression")]
fn column<'a, T: 'static>(batch: &'a arrow_array::RecordBatch, name: &str) -> &'a T {
    batch
        .column_by_name(name)
        .unwrap_or_else(|| panic!("no column {name}"))
        .as_any()
        .downcast_ref::<T>()
        .unwrap_or_else(|| panic!("column {name} has another type"))
}

/// Reads every Parquet file back and checks its rows against the JSON tables.
#[cfg(feature = "compression")]
fn check_parquet(dir: &Path, history: &Value) {
    use arrow_array::{Array, ListArray, StringArray, UInt64Array};
    use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

    let read = |path: PathBuf| {
        let file = fs::File::open(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        ParquetRecordBatchReaderBuilder::try_new(file)
            .unwrap()
            .build()
            .unwrap()
            .map(|b| b.unwrap())
            .collect::<Vec<_>>()
    };
    let mut runs_seen = 0;
    let mut hit_rows = 0;
    for run in history["runs"].as_array().unwrap() {
        let date = &run["started"].as_str().unwrap()[..10];
        let id = run["run"].as_str().unwrap();
        let batches = read(dir.join(format!("runs/date={date}/part-00000.parquet")));
        let mut found = false;
        for b in &batches {
            let ids = column::<StringArray>(b, "run");
            let requests = column::<UInt64Array>(b, "requests");
            for i in 0..b.num_rows() {
                if ids.value(i) == id {
                    assert_eq!(requests.value(i), run["requests"].as_u64().unwrap(), "{id}");
                    found = true;
                    runs_seen += 1;
                }
            }
        }
        assert!(found, "{id} not in its date partition");
        hit_rows += run["operations"].as_object().unwrap().len();
    }
    assert_eq!(runs_seen, 4);
    let mut rows = 0;
    for entry in fs::read_dir(dir.join("operation_runs")).unwrap() {
        for b in read(entry.unwrap().path().join("part-00000.parquet")) {
            rows += b.num_rows();
        }
    }
    assert_eq!(rows, hit_rows);
    let ops = read(dir.join("operations/part-00000.parquet"));
    let b = &ops[0];
    assert_eq!(
        b.num_rows(),
        history["operations"].as_object().unwrap().len()
    );
    let names = column::<StringArray>(b, "operation");
    let runs_hit = column::<UInt64Array>(b, "runs_hit");
    let appeared = column::<ListArray>(b, "appeared");
    for i in 0..b.num_rows() {
        let t = &history["operations"][names.value(i)];
        assert_eq!(runs_hit.value(i), t["runs_hit"].as_u64().unwrap());
        let list = appeared.value(i);
        let list = list.as_any().downcast_ref::<StringArray>().unwrap();
        let got: Vec<&str> = (0..list.len()).map(|j| list.value(j)).collect();
        let want: Vec<&str> = t["appeared"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect();
        assert_eq!(got, want);
    }
}

/// Issue #30 (5): what sits in a run's `artifacts/audit` or matches a run
/// glob. A FIFO named like a log must not hang `history` (only regular
/// files are logs), nor a directory named like one be read; a glob match
/// that is a file is reported, not silently dropped; run directories and
/// logs whose names are not UTF-8 are read like any other.
#[test]
fn special_files_and_non_utf8_names_in_runs() {
    use std::os::unix::ffi::OsStrExt;

    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let root = d.join("runs");
    let plain = "1790000000000000301";
    let audit = make_run(&root, plain, 11, false, Some(1_795_680_000), None);
    let fifo = audit.join("audit-fifo.log");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(made.success());
    fs::create_dir_all(audit.join("audit-dir.log")).unwrap();
    // The same logs again in a run whose name, and one log's, are not UTF-8.
    let odd = root.join(std::ffi::OsStr::from_bytes(b"1790000000000000302\xff"));
    let odd_audit = odd.join("artifacts/audit");
    fs::create_dir_all(&odd_audit).unwrap();
    fs::copy(
        audit.join("audit-2026-11-26T09-00-00.000.log"),
        odd_audit.join(std::ffi::OsStr::from_bytes(b"audit-\xfe.log")),
    )
    .unwrap();
    fs::copy(audit.join("audit.log"), odd_audit.join("audit.log")).unwrap();
    let stray = root.join("notes.txt");
    fs::write(&stray, "not a run\n").unwrap();
    let empty = lists(d);

    let assert = apicov()
        .arg("history")
        .arg(root.join("*"))
        .args(spec_and_lists(&empty))
        .arg("--json")
        .arg(d.join("h.json"))
        .arg("-q")
        .timeout(std::time::Duration::from_secs(120))
        .assert()
        .success();
    let stderr = String::from_utf8(assert.get_output().stderr.clone()).unwrap();
    assert_eq!(
        stderr,
        format!(
            "apicov: warning: {}: matches {} but is not a run directory: ignored\n",
            stray.display(),
            root.join("*").display()
        )
    );
    let h: Value = serde_json::from_slice(&fs::read(d.join("h.json")).unwrap()).unwrap();
    let runs = h["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 2, "{runs:?}");
    assert_eq!(runs[0]["run"], plain);
    assert_eq!(runs[1]["run"], "1790000000000000302\u{fffd}");
    for run in runs {
        assert_eq!(run["status"], "ok", "{run}");
    }
    assert!(runs[0]["requests"].as_u64().unwrap() > 0);
    assert_eq!(runs[0]["requests"], runs[1]["requests"]);
}

/// Issue #30 (5): a run glob that names nothing is exit 2 with one line
/// naming it (what `history gs://…/<no such job>` must do too).
#[test]
fn a_run_glob_naming_nothing_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let empty = lists(d);
    let glob = d.join("no-such-job/*");
    apicov()
        .arg("history")
        .arg(&glob)
        .args(spec_and_lists(&empty))
        .arg("--json")
        .arg(d.join("h.json"))
        .arg("-q")
        .assert()
        .code(2)
        .stderr(format!(
            "apicov: error: {}: no such file (and no file matches it as a glob)\n",
            glob.display()
        ));
    assert!(!d.join("h.json").exists());
}

/// Issue #30 (5): a run whose logs are 0 bytes, or hold no audit event, is
/// a skipped run (`empty`, `no-events`), not a run that hit nothing: the
/// timeline is that of the good runs alone (no "-N/+N" around it).
#[test]
fn empty_and_garbage_logs_are_not_runs_that_hit_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let root = d.join("runs");
    let good = ["1790000000000000401", "1790000000000000404"];
    make_run(&root, good[0], 12, false, Some(1_795_680_000), None);
    make_run(&root, good[1], 13, false, Some(1_795_690_000), None);
    let empty_run = root.join("1790000000000000402/artifacts/audit");
    fs::create_dir_all(&empty_run).unwrap();
    fs::write(empty_run.join("audit.log"), "").unwrap();
    let garbage_run = root.join("1790000000000000403/artifacts/audit");
    fs::create_dir_all(&garbage_run).unwrap();
    fs::write(garbage_run.join("audit.log"), "not json\n{\"kind\": 1}\n").unwrap();
    let empty = lists(d);
    let history = |runs: &[&str], out: &str| {
        apicov()
            .arg("history")
            .args(runs.iter().map(|r| root.join(r)))
            .args(spec_and_lists(&empty))
            .arg("--json")
            .arg(d.join(out))
            .arg("-q")
            .assert()
            .success()
    };
    let all = [
        good[0],
        "1790000000000000402",
        "1790000000000000403",
        good[1],
    ];
    let assert = history(&all, "all.json");
    assert_eq!(
        String::from_utf8(assert.get_output().stderr.clone()).unwrap(),
        "apicov: warning: run 1790000000000000402 skipped (empty): its audit logs are empty\n\
         apicov: warning: run 1790000000000000403 skipped (no-events): no audit event in its logs (2 lines, 2 malformed)\n"
    );
    let all_json: Value = serde_json::from_slice(&fs::read(d.join("all.json")).unwrap()).unwrap();
    let statuses: Vec<(&str, &str, u64)> = all_json["runs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["run"].as_str().unwrap(),
                r["status"].as_str().unwrap(),
                r["requests"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(statuses.len(), 4);
    assert_eq!(statuses[1], ("1790000000000000402", "empty", 0));
    assert_eq!(statuses[2], ("1790000000000000403", "no-events", 0));
    assert!(statuses[0].2 > 0 && statuses[3].2 > 0);
    history(&good, "good.json").stderr("");
    let good_json: Value = serde_json::from_slice(&fs::read(d.join("good.json")).unwrap()).unwrap();
    assert_eq!(all_json["operations"], good_json["operations"]);
}
