//! The JUnit and HTML reports: the JUnit file has the common schema's shape
//! and counts; the HTML page renders in headless Chromium (table, chart,
//! script), with a screenshot kept in target/test-artifacts/.

use crate::common;

use std::fs;
use std::path::Path;

use quick_xml::events::Event;
use serde_json::Value;

/// Parses the bundled fixture with the mini spec into `dir`.
fn run(dir: &Path, extra: &[&str]) -> Value {
    common::parse_fixture()
        .args(["-q", "--no-fail"])
        .arg("--audit-operations-json")
        .arg(dir.join("ops.json"))
        .arg("--report-json")
        .arg(dir.join("report.json"))
        .args(extra)
        .assert()
        .success();
    serde_json::from_slice(&fs::read(dir.join("report.json")).unwrap()).unwrap()
}

#[test]
fn junit_has_the_schema_shape_and_the_coverage_counts() {
    let dir = tempfile::tempdir().unwrap();
    let junit = dir.path().join("junit.xml");
    let report = run(dir.path(), &["--junit", junit.to_str().unwrap()]);
    let xml = fs::read_to_string(&junit).unwrap();
    let mut reader = quick_xml::Reader::from_str(&xml);
    let mut stack: Vec<String> = Vec::new();
    let (mut cases, mut failures, mut skipped, mut passed) = (0, 0, 0, 0);
    let mut case_children = 0;
    let mut suite_attrs = std::collections::HashMap::new();
    let mut failed_names = Vec::new();
    let mut current = String::new();
    loop {
        let event = reader.read_event().unwrap();
        let (name, attrs, empty) = match &event {
            Event::Start(e) => (e.name(), Some(e.attributes()), false),
            Event::Empty(e) => (e.name(), Some(e.attributes()), true),
            Event::End(e) => {
                let n = String::from_utf8(e.name().as_ref().to_vec()).unwrap();
                if n == "testcase" {
                    if case_children == 0 {
                        passed += 1;
                    }
                    case_children = 0;
                }
                assert_eq!(stack.pop().as_deref(), Some(n.as_str()));
                continue;
            }
            Event::Eof => break,
            _ => continue,
        };
        let name = String::from_utf8(name.as_ref().to_vec()).unwrap();
        let parent = stack.last().map(String::as_str);
        let attrs: std::collections::HashMap<String, String> = attrs
            .unwrap()
            .map(|a| {
                let a = a.unwrap();
                (
                    String::from_utf8(a.key.as_ref().to_vec()).unwrap(),
                    a.unescape_value().unwrap().into_owned(),
                )
            })
            .collect();
        match (parent, name.as_str()) {
            (None, "testsuites") => {}
            (Some("testsuites"), "testsuite") => suite_attrs = attrs.clone(),
            (Some("testsuite"), "testcase") => {
                cases += 1;
                assert!(
                    attrs.contains_key("classname") && attrs.contains_key("name"),
                    "{attrs:?}"
                );
                current = attrs["name"].clone();
            }
            (Some("testcase"), "failure") => {
                failures += 1;
                case_children += 1;
                failed_names.push(current.clone());
            }
            (Some("testcase"), "skipped") => {
                skipped += 1;
                case_children += 1;
                assert!(!attrs["message"].is_empty());
            }
            (Some("testcase"), "system-out") => {}
            other => panic!("unexpected element {other:?}"),
        }
        if !empty {
            stack.push(name);
        }
    }
    assert!(stack.is_empty());
    let stable_observable = report["classification"]
        .as_object()
        .unwrap()
        .values()
        .filter(|c| c["stable"] == true && c["observable"] == true)
        .count();
    assert_eq!(cases, stable_observable);
    assert_eq!(suite_attrs["tests"], cases.to_string());
    assert_eq!(suite_attrs["failures"], failures.to_string());
    assert_eq!(suite_attrs["skipped"], skipped.to_string());
    let not_found: Vec<String> = report["stable_not_found"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect();
    assert_eq!(failed_names, not_found);
    assert_eq!(cases, failures + skipped + passed);
    assert!(
        failures > 0 && skipped > 0 && passed > 0,
        "{failures} {skipped} {passed}"
    );
}

#[test]
fn html_report_renders_in_headless_chromium() {
    let dir = tempfile::tempdir().unwrap();
    let html = dir.path().join("report.html");
    let report = run(dir.path(), &["--html", html.to_str().unwrap()]);
    let page = fs::read_to_string(&html).unwrap();
    let ops = report["classification"].as_object().unwrap().len();
    // Self-contained: no external resources.
    for external in ["src=\"http", "href=\"http", "@import", "<link"] {
        assert!(!page.contains(external), "{external}");
    }
    assert_eq!(page.matches("<tr data-status=").count(), ops);
    assert!(page.contains("<svg id=chart"));
    let unmatched = report["unmatched"].as_array().unwrap().len();
    assert!(unmatched > 0);

    let Some(browser) = common::chromium() else {
        return;
    };
    let page = format!("file://{}", html.display());
    let dom = common::headless(
        &browser,
        &dir.path().join("profile"),
        (1300, 1600),
        &["--dump-dom".into(), page.clone()],
    );
    let dom = String::from_utf8(dom).unwrap();
    assert!(dom.contains("data-ready=\"1\""), "the script did not run");
    assert!(
        dom.contains(&format!("{ops} of {ops} shown")),
        "the table did not render"
    );
    assert!(
        dom.matches("class=\"bar\"").count() > 5,
        "the chart did not render"
    );

    let artifacts = common::root().join("target/test-artifacts");
    fs::create_dir_all(&artifacts).unwrap();
    let shot = artifacts.join("apicov-report.png");
    let _ = fs::remove_file(&shot);
    common::headless(
        &browser,
        &dir.path().join("profile2"),
        (1300, 1600),
        &[format!("--screenshot={}", shot.display()), page],
    );
    let png = fs::read(&shot).unwrap();
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
    assert!(
        png.len() > 20_000,
        "screenshot suspiciously small: {} bytes",
        png.len()
    );
}

/// Every line printed both ways: the one-pass transcoder against parsing into
/// serde_json values and printing those (the definition of the format).
fn assert_transcoder_matches_serde(lines: &[&[u8]]) -> usize {
    use apicov_report::report::python_json::{print_sample, print_sample_via_serde};
    let mut checked = 0;
    for line in lines {
        let (mut fast, mut slow) = (Vec::new(), Vec::new());
        print_sample(line, &mut fast);
        print_sample_via_serde(line, &mut slow);
        assert_eq!(
            String::from_utf8_lossy(&fast),
            String::from_utf8_lossy(&slow),
            "line: {}",
            String::from_utf8_lossy(line)
        );
        checked += 1;
    }
    checked
}

/// A log of about `size` bytes generated with the bundled mini spec.
fn generated(seed: u64, size: u64, level: apicov_gen::Level) -> Vec<u8> {
    use apicov_gen::{generate, GenOptions};
    let spec = common::testdata("swagger-mini.json");
    let catalogue =
        apicov_core::spec::Catalogue::from_json(&std::fs::read(&spec).unwrap(), "mini").unwrap();
    let mut log = Vec::new();
    generate(&catalogue, &GenOptions::new(seed, size, level), &mut log);
    log
}

/// The real events of `../shared/real-audit`, one a line, when it is there.
fn real_audit() -> Option<Vec<u8>> {
    let dir = common::shared("real-audit")?;
    let mut real = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "jsonl") {
            real.extend(std::fs::read(path).unwrap());
            real.push(b'\n');
        }
    }
    Some(real)
}

/// The non-blank lines of `log`, trimmed.
fn event_lines(log: &[u8]) -> Vec<&[u8]> {
    log.split(|&b| b == b'\n')
        .map(|l| l.trim_ascii())
        .filter(|l| !l.is_empty())
        .collect()
}

#[test]
fn samples_print_the_same_through_the_transcoder_and_serde() {
    use apicov_gen::Level;
    for level in [Level::Metadata, Level::Request, Level::RequestResponse] {
        let log = generated(7, 400_000, level);
        let lines: Vec<&[u8]> = log
            .split(|&b| b == b'\n')
            .filter(|l| !l.is_empty())
            .collect();
        assert!(lines.len() > 100, "{level:?}: {} lines", lines.len());
        assert_eq!(assert_transcoder_matches_serde(&lines), lines.len());
    }

    // What the transcoder must get right or leave to serde_json: escapes of
    // every kind, non-ASCII, numbers Python prints differently, empty and
    // nested containers, whitespace, duplicate and escaped keys, surrogates,
    // raw control characters, invalid UTF-8.
    let adversarial: Vec<&[u8]> = vec![
        br#"{"a":"\"\\\/\b\f\n\r\t","b":"\u0026\u003c\u00e9\u00E9\u0000\u001f\u007f\u0022\u005c"}"#,
        "{\"caf\u{e9}\":\"\u{65e5}\u{672c} \u{1f600}\",\"x\":\"\u{2028}\"}".as_bytes(),
        br#"{"n":[0,-0,1.0,1.50,1e5,1E+16,-0.0,2.5e-3,1e400,12345678901234567890123]}"#,
        br#"{"e":{},"f":[],"g":[{}],"h":[[],[[]]],"i":{"j":{"k":null}},"t":true,"u":false}"#,
        b"  { \"a\" : [ 1 , { \"b\" : \"c\" } ] ,\t\"d\":\"e\" }  ",
        br#"{"a":1,"b":{"a":2},"a":3}"#,
        br#"{"\u0061":1,"a":2}"#,
        br#"{"s":"\ud83d\ude00","lone":"\udc00"}"#,
        b"{\"raw\":\"tab\there\"}",
        b"{\"bad\":\"\xff\xfe\"}",
        br#"{"a":"\x"}"#,
        br#"{"a":tru}"#,
        br#"{"a":1"#,
        br#"["top","level",{"array":1}]"#,
    ];
    assert_eq!(
        assert_transcoder_matches_serde(&adversarial),
        adversarial.len()
    );

    let Some(real) = real_audit() else {
        return;
    };
    let lines = event_lines(&real);
    assert!(lines.len() >= 790, "{} real events", lines.len());
    assert_eq!(assert_transcoder_matches_serde(&lines), lines.len());
}

/// The run prints each sample as it keeps it and, for a line the printer
/// takes, skips the whole-line check (aggregate::SamplePrinter): so the
/// printer must take no event line that the check refuses. Every line of
/// generated logs and of the real events, and of a few of them broken at
/// every offset (a byte replaced by each of a set of special bytes, or cut
/// there).
#[test]
fn the_sample_printer_takes_only_lines_the_whole_check_takes() {
    use apicov_core::event::{check_whole, extract, Validation};
    use apicov_gen::Level;
    use apicov_report::report::python_json::transcode;
    let mut logs = vec![
        generated(11, 60_000, Level::Metadata),
        generated(11, 60_000, Level::RequestResponse),
    ];
    logs.extend(real_audit());
    let lines: Vec<&[u8]> = logs.iter().flat_map(|log| event_lines(log)).collect();
    let (mut taken, mut declined) = (0, 0);
    let mut try_line = |line: &[u8]| {
        if extract(line, Validation::Fast, false).is_err() {
            return; // never a sample candidate
        }
        let mut out = Vec::new();
        if transcode(line, &mut out) {
            taken += 1;
            assert_eq!(
                check_whole(line),
                Ok(()),
                "printed, but the whole check refuses: {}",
                String::from_utf8_lossy(line)
            );
        } else {
            declined += 1;
        }
    };
    for line in &lines {
        try_line(line);
    }
    let specials: [&[u8]; 10] = [
        b"\"", b"\\", b"}", b"]", b"{", b"[", b",", b"\x01", b"\xff", b"\\u12",
    ];
    for line in lines.iter().step_by(lines.len() / 6) {
        for at in 0..line.len() {
            try_line(&line[..at]);
            for special in specials {
                try_line(&[&line[..at], special, &line[at + 1..]].concat());
            }
        }
    }
    assert!(taken > lines.len(), "{taken} lines printed");
    assert!(declined > 100, "{declined} lines declined");
}

/// A sample line the printer declines (a surrogate pair escape, which the
/// transcoder leaves to serde_json) is still a sample, printed the slow
/// way, with the same bytes for one thread and two and for any chunk size.
#[test]
fn a_sample_the_printer_declines_prints_through_serde() {
    use apicov_report::report::python_json::{print_sample, print_sample_via_serde, transcode};
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let fixture = fs::read(
        common::root().join("testdata/audit/kind-conformance-2026-11-26T10-00-00.000.log"),
    )
    .unwrap();
    let get = fixture
        .split(|&b| b == b'\n')
        .find(|l| l.windows(13).any(|w| w == br#""verb":"get","#))
        .unwrap();
    let declined = String::from_utf8(get.to_vec()).unwrap().replacen(
        "\"userAgent\":\"",
        "\"userAgent\":\"\\ud83d\\ude00 ",
        1,
    );
    assert!(!transcode(declined.as_bytes(), &mut Vec::new()));
    let log = d.join("audit.log");
    fs::write(&log, format!("{declined}\n")).unwrap();
    let empty = common::empty_list(d);
    let spec = common::mini_spec();
    let mut want = b"{\n  \"connectCoreV1GetNodeProxyWithPath\": [\n    ".to_vec();
    print_sample_via_serde(declined.as_bytes(), &mut want);
    want.extend_from_slice(b"\n  ]\n}");
    let mut through = Vec::new();
    print_sample(declined.as_bytes(), &mut through);
    assert!(want.ends_with(&[&through[..], b"\n  ]\n}"].concat()));
    for extra in [
        &["--threads", "1"][..],
        &["--threads", "2", "--chunk-size", "64"],
    ] {
        let out = d.join("out");
        common::parse_command(&spec, &[&log], &empty, &out)
            .arg("-q")
            .args(extra)
            .assert()
            .success();
        assert_eq!(
            String::from_utf8(fs::read(out.join("o.json")).unwrap()).unwrap(),
            String::from_utf8(want.clone()).unwrap(),
            "{extra:?}"
        );
    }
}
