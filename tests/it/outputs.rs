//! Output paths that are not plain files: devices, FIFOs, symlinks and
//! `/dev/stdout` are written where they are, never renamed over (issue 30,
//! point 2).

use crate::common;

use std::fs;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};

use common::{apicov, empty_list, mini_spec, spec_and_lists, testdata};

fn log() -> PathBuf {
    testdata("audit/kind-conformance-2026-11-26T10-00-00.000.log")
}

/// `parse` of the fixture log writing its endpoints text to `output`.
fn parse_to(dir: &Path, output: &Path) -> assert_cmd::Command {
    let mut cmd = apicov();
    cmd.args(["parse", "-q", "--no-fail", "--audit-logs"])
        .arg(log())
        .args(spec_and_lists(&mini_spec(), &empty_list(dir)))
        .arg("--audit-operations-json")
        .arg(dir.join("o.json"))
        .arg("-o")
        .arg(output);
    cmd
}

/// The endpoints text as written to a regular file.
fn expected(dir: &Path) -> Vec<u8> {
    let plain = dir.join("plain.txt");
    parse_to(dir, &plain).assert().success();
    fs::read(plain).unwrap()
}

#[test]
fn a_device_node_is_written_in_place_not_replaced() {
    let dir = tempfile::tempdir().unwrap();
    let node = dir.path().join("null");
    let made = std::process::Command::new("mknod")
        .arg(&node)
        .args(["c", "1", "3"])
        .output()
        .unwrap();
    if !made.status.success() {
        let why = String::from_utf8_lossy(&made.stderr);
        assert!(
            why.contains("not permitted"),
            "mknod failed for another reason: {why}"
        );
        eprintln!("skipping: mknod needs CAP_MKNOD ({why})");
        return;
    }
    parse_to(dir.path(), &node).assert().success();
    let meta = fs::symlink_metadata(&node).unwrap();
    assert!(meta.file_type().is_char_device(), "the node was replaced");
    assert_eq!(meta.rdev(), fs::metadata("/dev/null").unwrap().rdev());
}

#[test]
fn a_fifo_is_written_in_place_and_read_whole() {
    let dir = tempfile::tempdir().unwrap();
    let want = expected(dir.path());
    let fifo = dir.path().join("fifo");
    assert!(std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap()
        .success());
    let reader = {
        let fifo = fifo.clone();
        std::thread::spawn(move || fs::read(fifo).unwrap())
    };
    parse_to(dir.path(), &fifo).assert().success();
    assert_eq!(reader.join().unwrap(), want);
    assert!(fs::symlink_metadata(&fifo).unwrap().file_type().is_fifo());
}

#[test]
fn a_symlink_is_kept_and_the_file_it_names_replaced() {
    let dir = tempfile::tempdir().unwrap();
    let want = expected(dir.path());
    let target = dir.path().join("target.txt");
    fs::write(&target, "old").unwrap();
    let link = dir.path().join("link.txt");
    std::os::unix::fs::symlink("target.txt", &link).unwrap();
    parse_to(dir.path(), &link).assert().success();
    assert!(fs::symlink_metadata(&link)
        .unwrap()
        .file_type()
        .is_symlink());
    assert_eq!(fs::read_link(&link).unwrap(), Path::new("target.txt"));
    assert_eq!(fs::read(&target).unwrap(), want);
}

#[test]
fn dev_stdout_writes_to_stdout() {
    let dir = tempfile::tempdir().unwrap();
    let want = expected(dir.path());
    let out = parse_to(dir.path(), Path::new("/dev/stdout"))
        .assert()
        .success();
    assert_eq!(out.get_output().stdout, want);
}

// Paths that collide (issue 30, point 3): refused before anything is read
// or written, exit 2, one line naming both paths.

fn refused(cmd: &mut assert_cmd::Command, both: [&Path; 2]) {
    let out = cmd.assert().code(2);
    let stderr = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.starts_with("apicov: error: "), "{stderr}");
    for path in both {
        assert!(stderr.contains(&path.display().to_string()), "{stderr}");
    }
}

#[test]
fn an_output_over_its_own_audit_log_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.log");
    fs::copy(log(), &input).unwrap();
    let before = fs::read(&input).unwrap();
    let mut cmd = apicov();
    cmd.args(["parse", "-q", "--no-fail", "--audit-logs"])
        .arg(&input)
        .args(spec_and_lists(&mini_spec(), &empty_list(dir.path())))
        .arg("--audit-operations-json")
        .arg(dir.path().join("o.json"))
        .arg("-o")
        .arg(&input);
    refused(&mut cmd, [&input, &input]);
    assert_eq!(fs::read(&input).unwrap(), before);
}

#[test]
fn two_outputs_on_one_path_are_refused_and_nothing_written() {
    let dir = tempfile::tempdir().unwrap();
    let x = dir.path().join("x");
    let mut cmd = parse_to(dir.path(), &x);
    cmd.arg("--report-json").arg(&x);
    refused(&mut cmd, [&x, &x]);
    assert!(!x.exists());
    assert!(!dir.path().join("o.json").exists());
}

#[test]
fn the_same_log_twice_through_a_symlink_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let link = dir.path().join("again.log");
    std::os::unix::fs::symlink(log(), &link).unwrap();
    let mut cmd = apicov();
    cmd.args(["parse", "-q", "--no-fail", "--audit-logs"])
        .arg(log())
        .arg(&link)
        .args(spec_and_lists(&mini_spec(), &empty_list(dir.path())))
        .arg("--audit-operations-json")
        .arg(dir.path().join("o.json"));
    refused(&mut cmd, [&log(), &link]);
    assert!(!dir.path().join("o.json").exists());
}

#[test]
fn an_output_in_a_missing_directory_fails_before_the_scan() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("no-such-dir").join("e.txt");
    let out = parse_to(dir.path(), &bad).assert().code(2);
    let stderr = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
    assert!(stderr.contains(&bad.display().to_string()), "{stderr}");
    assert!(!dir.path().join("o.json").exists());
}

#[test]
#[cfg(feature = "serve")]
fn serve_with_an_unwritable_output_fails_at_start() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("no-such-dir").join("e.txt");
    let mut cmd = apicov();
    cmd.args(["serve", "--listen", "127.0.0.1:0"])
        .args(spec_and_lists(&mini_spec(), &empty_list(dir.path())))
        .arg("--audit-operations-json")
        .arg(dir.path().join("o.json"))
        .arg("-o")
        .arg(&bad)
        .timeout(std::time::Duration::from_secs(20));
    let out = cmd.assert().code(2);
    let stderr = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
    assert!(stderr.contains(&bad.display().to_string()), "{stderr}");
    assert!(!stderr.contains("serving on"), "{stderr}");
}

#[test]
#[cfg(feature = "serve")]
fn serve_refuses_an_output_over_its_spec() {
    let dir = tempfile::tempdir().unwrap();
    let spec = dir.path().join("swagger.json");
    fs::copy(mini_spec(), &spec).unwrap();
    let before = fs::read(&spec).unwrap();
    let mut cmd = apicov();
    cmd.args(["serve", "--listen", "127.0.0.1:0"])
        .args(spec_and_lists(&spec, &empty_list(dir.path())))
        .arg("--audit-operations-json")
        .arg(&spec)
        .timeout(std::time::Duration::from_secs(20));
    refused(&mut cmd, [&spec, &spec]);
    assert_eq!(fs::read(&spec).unwrap(), before);
}

#[test]
fn the_same_log_by_name_and_by_glob_or_twice_by_name_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("audit.log");
    fs::copy(log(), &input).unwrap();
    let glob = dir.path().join("audit*.log");
    for second in [glob.as_path(), input.as_path()] {
        let mut cmd = apicov();
        cmd.args(["parse", "-q", "--no-fail", "--audit-logs"])
            .arg(&input)
            .arg(second)
            .args(spec_and_lists(&mini_spec(), &empty_list(dir.path())))
            .arg("--audit-operations-json")
            .arg(dir.path().join("o.json"));
        refused(&mut cmd, [&input, &input]);
        assert!(!dir.path().join("o.json").exists());
    }
}

#[test]
fn merge_refuses_to_write_over_one_of_its_reports() {
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("r.json");
    parse_to(dir.path(), &dir.path().join("e.txt"))
        .arg("--report-json")
        .arg(&report)
        .assert()
        .success();
    let before = fs::read(&report).unwrap();
    let mut cmd = apicov();
    cmd.arg("merge")
        .arg(&report)
        .arg("--swagger")
        .arg(mini_spec())
        .arg("-o")
        .arg(&report);
    refused(&mut cmd, [&report, &report]);
    assert_eq!(fs::read(&report).unwrap(), before);
}

#[test]
fn diff_refuses_to_write_its_listing_over_the_pull_run() {
    let dir = tempfile::tempdir().unwrap();
    let pull = dir.path().join("e.txt");
    parse_to(dir.path(), &pull).assert().success();
    let before = fs::read(&pull).unwrap();
    let mut cmd = apicov();
    cmd.args(["diff", "--pull-audit-endpoints"])
        .arg(&pull)
        .arg("--ci-audit-endpoints")
        .arg(&pull)
        .args(spec_and_lists(&mini_spec(), &empty_list(dir.path())))
        .arg("--output-file")
        .arg(&pull);
    refused(&mut cmd, [&pull, &pull]);
    assert_eq!(fs::read(&pull).unwrap(), before);
}

/// `gen`, `ops`, `promotions` and `history` refuse an output over their
/// spec (left as it was), and `gen` its log over its truth file.
#[test]
fn the_other_commands_refuse_an_output_over_an_input_or_another_output() {
    let dir = tempfile::tempdir().unwrap();
    let spec = dir.path().join("swagger.json");
    fs::copy(mini_spec(), &spec).unwrap();
    let before = fs::read(&spec).unwrap();
    let empty = empty_list(dir.path());

    let mut cmd = apicov();
    cmd.args(["gen", "--size", "10K", "--swagger"])
        .arg(&spec)
        .arg("-o")
        .arg(&spec);
    refused(&mut cmd, [&spec, &spec]);

    let generated = dir.path().join("a.log");
    let mut cmd = apicov();
    cmd.args(["gen", "--size", "10K", "--swagger"])
        .arg(&spec)
        .arg("-o")
        .arg(&generated)
        .arg("--truth")
        .arg(&generated);
    refused(&mut cmd, [&generated, &generated]);
    assert!(!generated.exists());

    let mut cmd = apicov();
    cmd.args(["ops", "--swagger"])
        .arg(&spec)
        .arg("-o")
        .arg(&spec);
    refused(&mut cmd, [&spec, &spec]);

    let mut cmd = apicov();
    cmd.args(["promotions", "--base-swagger"])
        .arg(mini_spec())
        .args(spec_and_lists(&spec, &empty))
        .arg("-o")
        .arg(&spec);
    refused(&mut cmd, [&spec, &spec]);

    let runs = dir.path().join("runs");
    fs::create_dir_all(runs.join("1/artifacts/audit")).unwrap();
    fs::copy(log(), runs.join("1/artifacts/audit/audit.log")).unwrap();
    let mut cmd = apicov();
    cmd.arg("history")
        .arg(runs.join("*"))
        .args(spec_and_lists(&spec, &empty))
        .arg("--json")
        .arg(&empty);
    refused(&mut cmd, [&empty, &empty]);

    assert_eq!(fs::read(&spec).unwrap(), before);
    assert_eq!(fs::read(&empty).unwrap(), b"---\n");
}
