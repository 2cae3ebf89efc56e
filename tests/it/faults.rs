//! Faults and bad input, each run through the binary (or, where the fault
//! must strike at an exact point, through the library's own pipeline): the
//! exit status, the one-line message, no panic text, no temporary file left,
//! existing outputs untouched. One test per case of the reliability issue.

use crate::common;

use std::fs;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use assert_cmd::Command;
use common::{apicov, empty_list, mini_spec, spec_and_lists};
use serde_json::Value;

/// `apicov parse` of `logs` with the mini spec and empty lists, writing
/// e.txt, o.json and r.json into `out`.
fn parse_into(logs: &[&Path], out: &Path) -> Command {
    parse_with(&mini_spec(), logs, out)
}

/// [`parse_into`] with another spec.
fn parse_with(spec: &Path, logs: &[&Path], out: &Path) -> Command {
    fs::create_dir_all(out).unwrap();
    let mut cmd = common::parse_command(spec, logs, &empty_list(out), out);
    cmd.arg("-q");
    cmd
}

fn outputs(out: &Path) -> (Vec<u8>, Vec<u8>, Value) {
    (
        fs::read(out.join("e.txt")).unwrap(),
        fs::read(out.join("o.json")).unwrap(),
        serde_json::from_slice(&fs::read(out.join("r.json")).unwrap()).unwrap(),
    )
}

fn generate(dir: &Path, name: &str, size: &str) -> PathBuf {
    let log = dir.join(name);
    apicov()
        .args(["gen", "--swagger"])
        .arg(mini_spec())
        .arg("-o")
        .arg(&log)
        .args(["--size", size, "--seed", "5"])
        .assert()
        .success();
    log
}

/// Files in `dir` that an interrupted write could leave.
fn leftovers(dir: &Path) -> Vec<String> {
    fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".apicov-") || n.starts_with(".tmp"))
        .collect()
}

/// An event line as the apiserver writes it, with `rest` after its head.
fn event(id: u32, uri: &str, verb: &str, rest: &str) -> String {
    format!(
        r#"{{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"00000000-0000-0000-0000-{id:012}","stage":"ResponseComplete","requestURI":"{uri}","verb":"{verb}"{rest}}}"#
    )
}

fn nested(levels: usize) -> String {
    format!("{}{}", "[".repeat(levels), "]".repeat(levels))
}

/// Deep nesting: one limit (127 levels, the event's object included) in
/// the extractor, the sample printers and a full check. A line nested too
/// deeply after the fields fast mode reads is counted in fast mode (like any
/// line broken in its unread part) but never printed as a sample, so
/// audit-operations.json is the same in both modes and nothing overflows.
#[test]
fn deep_nesting_follows_one_rule_in_fast_and_full() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let pods = "/api/v1/namespaces/default/pods";
    let lines = [
        // 20,000 levels after the fields: the first line of its operation.
        event(
            1,
            pods,
            "list",
            &format!(r#","requestObject":{}"#, nested(20_000)),
        ),
        // 20,000 levels before them: malformed in both modes.
        format!(
            r#"{{"requestObject":{},"stage":"ResponseComplete","requestURI":"{pods}","verb":"list"}}"#,
            nested(20_000)
        ),
        // Exactly the limit: a sample in both modes (127 = 1 + 126).
        event(
            3,
            pods,
            "list",
            &format!(r#","requestObject":{}"#, nested(126)),
        ),
        // One level more: counted in fast mode only, never a sample.
        event(
            4,
            pods,
            "list",
            &format!(r#","requestObject":{}"#, nested(127)),
        ),
        // Broken after the fields (a bad literal): likewise.
        event(5, pods, "list", r#","annotations":{"a":tru}"#),
        event(6, pods, "list", ""),
    ];
    let log = d.join("deep.log");
    fs::write(&log, lines.join("\n") + "\n").unwrap();
    let mut results = Vec::new();
    for mode in ["fast", "full"] {
        for (threads, chunk) in [("1", "1"), ("2", "4194304")] {
            let out = d.join(format!("{mode}-{threads}"));
            let assert = parse_into(&[&log], &out)
                .args(["--validate", mode, "--threads", threads])
                .args(["--chunk-size", chunk])
                .assert()
                .success();
            let stderr = String::from_utf8_lossy(&assert.get_output().stderr).into_owned();
            assert!(!stderr.contains("panicked"), "{stderr}");
            results.push((mode, outputs(&out)));
        }
    }
    let (_, fast) = &results[0];
    let (_, full) = &results[2];
    assert_eq!(
        results[1].1 .1, fast.1,
        "fast: thread count changes samples"
    );
    assert_eq!(
        results[3].1 .1, full.1,
        "full: thread count changes samples"
    );
    assert_eq!(
        fast.1, full.1,
        "audit-operations.json differs between modes"
    );
    // The file nests deeper than serde_json reads (the sample of 127 levels
    // sits two levels down), so the samples' IDs are read as text.
    let text = String::from_utf8(fast.1.clone()).unwrap();
    let ids: Vec<&str> = text
        .split("\"auditID\": \"")
        .skip(1)
        .map(|rest| &rest[..36])
        .collect();
    assert_eq!(
        ids,
        [
            "00000000-0000-0000-0000-000000000003",
            "00000000-0000-0000-0000-000000000006"
        ]
    );
    // Fast counts lines 1, 3, 4, 5, 6; full only 3 and 6.
    assert_eq!(fast.2["operations"]["listCoreV1NamespacedPod"], 5);
    assert_eq!(fast.2["malformed_lines"], 1);
    assert_eq!(full.2["operations"]["listCoreV1NamespacedPod"], 2);
    assert_eq!(full.2["malformed_lines"], 4);
    let reasons: Vec<&str> = full.2["malformed_examples"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["reason"].as_str().unwrap())
        .collect();
    assert_eq!(
        reasons,
        [
            "not JSON: nested too deeply",
            "not JSON: nested too deeply",
            "not JSON: nested too deeply",
            "not JSON: invalid value"
        ]
    );
}

/// The mini spec's catalogue and the segment trie over its routes, for the
/// engine-level tests that wrap the matcher.
fn mini_trie() -> (
    apicov_core::spec::Catalogue,
    apicov_core::routing::SegmentTrie,
) {
    let catalogue =
        apicov_core::spec::Catalogue::from_json(&fs::read(mini_spec()).unwrap(), "mini").unwrap();
    let trie =
        apicov_core::routing::SegmentTrie::new(&apicov_core::routing::Route::all(&catalogue));
    (catalogue, trie)
}

/// A matcher that truncates the mapped log (from a second thread) the
/// first time it is asked, so that the rest of the scan reads past the
/// file's new end: a real SIGBUS, caught by the map guard.
struct TruncateOnFirstLookup {
    inner: apicov_core::routing::SegmentTrie,
    file: PathBuf,
    done: std::sync::Once,
}

impl apicov_core::routing::PathMatcher for TruncateOnFirstLookup {
    fn lookup(
        &self,
        method: apicov_core::spec::Method,
        path: &[u8],
    ) -> Option<apicov_core::spec::OpId> {
        self.done.call_once(|| {
            let file = self.file.clone();
            std::thread::spawn(move || {
                fs::OpenOptions::new()
                    .write(true)
                    .open(&file)
                    .unwrap()
                    .set_len(4096)
                    .unwrap();
            })
            .join()
            .unwrap();
        });
        self.inner.lookup(method, path)
    }
}

#[test]
fn a_log_truncated_while_mapped_is_an_error_naming_it() {
    use apicov_core::aggregate::SamplePrinting;
    use apicov_core::pipeline::{Engine, EngineOptions};
    // The program opts in to the guard, as the binary does.
    assert!(apicov_core::mapguard::install());
    let dir = tempfile::tempdir().unwrap();
    // With samples printed as they are kept too: the worker prints a
    // chunk's candidates from its mapped bytes after the scan.
    let (catalogue, _) = mini_trie();
    let printing = SamplePrinting {
        print: apicov_report::report::python_json::transcode,
        shown: vec![true; catalogue.len()].into(),
        keep_lines: false,
    };
    for (n, sample_printing) in [None, Some(printing)].into_iter().enumerate() {
        let log = generate(dir.path(), &format!("audit-{n}.log"), "2M");
        let (catalogue, trie) = mini_trie();
        let matcher = TruncateOnFirstLookup {
            inner: trie,
            file: log.clone(),
            done: std::sync::Once::new(),
        };
        let router = apicov_core::routing::Router::with_matcher(
            &catalogue,
            matcher,
            apicov_core::routing::WatchCredit::Deprecated,
        );
        let options = EngineOptions {
            chunk_size: 64 << 10,
            sample_printing,
            threads: 1,
            ..EngineOptions::default()
        };
        let size = fs::metadata(&log).unwrap().len();
        let names = [apicov_core::input::InputName::File(log.clone())];
        let engine = Engine::new(router, options);
        let err = engine
            .run(engine.open(&names).unwrap())
            .expect_err("the truncation is reported");
        assert_eq!(
            err.to_string(),
            format!(
                "{}: truncated while being read ({size} bytes when opened, 4096 now; logrotate \
                 copytruncate?)",
                log.display()
            )
        );
        // The process is alive and the next run of the same engine works.
        let (tally, _) = engine.run(engine.open(&names).unwrap()).unwrap();
        assert_eq!(tally.inputs[0].bytes, 4096);
    }
}

/// A matcher that notes the process's mapped-file memory the first time it
/// is asked, that is while the first lines of the first piece are scanned.
#[cfg(target_os = "linux")]
struct RssAtFirstLookup {
    inner: apicov_core::routing::SegmentTrie,
    rss_file_kib: std::sync::Arc<std::sync::OnceLock<u64>>,
}

#[cfg(target_os = "linux")]
impl apicov_core::routing::PathMatcher for RssAtFirstLookup {
    fn lookup(
        &self,
        method: apicov_core::spec::Method,
        path: &[u8],
    ) -> Option<apicov_core::spec::OpId> {
        self.rss_file_kib.get_or_init(rss_file_kib);
        self.inner.lookup(method, path)
    }
}

/// `RssFile` of /proc/self/status, in KiB.
#[cfg(target_os = "linux")]
fn rss_file_kib() -> u64 {
    let status = fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find(|l| l.starts_with("RssFile:")).unwrap();
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

/// A mapped log is cut into chunks as the workers get to them, not all at
/// once: cutting it up front touched a page at every chunk boundary of the
/// whole file before the first line was read (where the page cache holds
/// the file in 2 MiB folios, each touch maps a whole folio: 2.5 GiB resident
/// for a 5.2 GB log). With 4 KiB chunks every page of this 32 MB log is a
/// boundary, so cutting up front would map all of it.
#[cfg(target_os = "linux")]
#[test]
fn a_mapped_log_is_not_touched_ahead_of_the_scan() {
    use apicov_core::pipeline::{Engine, EngineOptions};
    let dir = tempfile::tempdir().unwrap();
    let log = generate(dir.path(), "audit.log", "32M");
    let (catalogue, trie) = mini_trie();
    let at_first_lookup = std::sync::Arc::new(std::sync::OnceLock::new());
    let router = apicov_core::routing::Router::with_matcher(
        &catalogue,
        RssAtFirstLookup {
            inner: trie,
            rss_file_kib: at_first_lookup.clone(),
        },
        apicov_core::routing::WatchCredit::Deprecated,
    );
    let options = EngineOptions {
        chunk_size: 4096,
        threads: 1,
        ..EngineOptions::default()
    };
    let engine = Engine::new(router, options);
    let names = [apicov_core::input::InputName::File(log.clone())];
    let before = rss_file_kib();
    let (tally, _) = engine.run(engine.open(&names).unwrap()).unwrap();
    assert_eq!(tally.inputs[0].bytes, fs::metadata(&log).unwrap().len());
    let grown = at_first_lookup.get().unwrap() - before;
    assert!(
        grown < 8 << 10,
        "{grown} KiB of the log mapped before its first line was counted"
    );
}

/// Inputs are scanned across file boundaries, so a later input can fail
/// before an earlier one is checked: the error is still the first in input
/// order. The log (one piece, truncated while scanned) is checked once its
/// piece is absorbed; by then the second worker has already read the broken
/// gzip that follows it.
// gzip or zstd logs: needs the `compression` feature.
#[cfg(feature = "compression")]
#[test]
fn the_first_failure_in_input_order_is_the_one_reported() {
    use apicov_core::pipeline::{Engine, EngineOptions};
    assert!(apicov_core::mapguard::install());
    let dir = tempfile::tempdir().unwrap();
    let log = generate(dir.path(), "audit.log", "512K");
    let broken = dir.path().join("later.log.gz");
    fs::write(&broken, b"\x1f\x8b\x08\x00not deflate at all").unwrap();
    let (catalogue, trie) = mini_trie();
    let router = apicov_core::routing::Router::with_matcher(
        &catalogue,
        TruncateOnFirstLookup {
            inner: trie,
            file: log.clone(),
            done: std::sync::Once::new(),
        },
        apicov_core::routing::WatchCredit::Deprecated,
    );
    let options = EngineOptions {
        threads: 2,
        ..EngineOptions::default()
    };
    let engine = Engine::new(router, options);
    let size = fs::metadata(&log).unwrap().len();
    let names = [
        apicov_core::input::InputName::File(log.clone()),
        apicov_core::input::InputName::File(broken.clone()),
    ];
    let error_of = |names: &[apicov_core::input::InputName]| {
        engine
            .run(engine.open(names).unwrap())
            .expect_err("an input fails")
            .to_string()
    };
    let err = error_of(&names);
    let truncated = format!(
        "{}: truncated while being read ({size} bytes when opened, 4096 now;",
        log.display()
    );
    assert!(err.starts_with(&truncated), "{err}");
    // Alone, the broken gzip is the error.
    let err = error_of(&names[1..]);
    let corrupt = format!("{}: corrupt or truncated gzip data", broken.display());
    assert!(err.starts_with(&corrupt), "{err}");
}

/// SIGTERM or SIGINT while outputs are being written: the temporary files
/// are removed, the file that was there is untouched (or, when the signal
/// came after the renames had begun, replaced whole), and the exit status
/// says which signal ended the run.
#[test]
fn a_signal_during_the_write_leaves_no_temporary_file() {
    const OLD: &str = "the previous output\n";
    for (signal, name) in [(libc::SIGTERM, "SIGTERM"), (libc::SIGINT, "SIGINT")] {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let target = d.join("big.log");
        let mut caught = false;
        // A generated log is written as one temporary file; a big one takes
        // long enough to be caught while its temporary file exists (the
        // machine may be busy, so a few tries).
        for size in ["300M", "300M", "600M", "600M", "1200M"] {
            fs::write(&target, OLD).unwrap();
            let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("apicov"))
                .args(["gen", "--swagger"])
                .arg(mini_spec())
                .arg("-o")
                .arg(&target)
                .args(["--size", size])
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap();
            let deadline = Instant::now() + Duration::from_secs(60);
            while leftovers(d).is_empty()
                && Instant::now() < deadline
                && child.try_wait().unwrap().is_none()
            {
                std::thread::sleep(Duration::from_millis(1));
            }
            // SAFETY: sending a signal to our own child.
            unsafe { libc::kill(child.id() as libc::pid_t, signal) };
            let status = child.wait().unwrap();
            let mut stderr = String::new();
            std::io::Read::read_to_string(child.stderr.as_mut().unwrap(), &mut stderr).unwrap();
            assert_eq!(leftovers(d), Vec::<String>::new(), "{name} ({size})");
            if status.success() {
                continue; // finished before the signal landed
            }
            assert_eq!(status.signal(), Some(signal), "{name}: {status:?}");
            assert_eq!(stderr, "", "{name}");
            let now = fs::read(&target).unwrap();
            if now == OLD.as_bytes() {
                caught = true;
                break;
            }
            // Renamed before the signal: whole, never cut.
            assert!(now.len() > 250 << 20 && now.ends_with(b"}\n"), "{name}");
        }
        assert!(caught, "{name}: never caught apicov while it was writing");
    }
}

/// Outputs are written all or none, audit-operations.json on one worker
/// while the others are written on another: whichever of them cannot be
/// written, the run names it in one line, exits 2, and leaves every output
/// as it was and no temporary file.
#[test]
fn an_output_that_cannot_be_written_leaves_every_output_as_it_was() {
    const NAMES: [&str; 4] = ["e.txt", "o.json", "r.json", "x.xml"];
    let dir = tempfile::tempdir().unwrap();
    let log = generate(dir.path(), "audit.log", "300K");
    for broken in NAMES {
        let out = dir.path().join(format!("out-{broken}"));
        fs::create_dir_all(&out).unwrap();
        for name in NAMES {
            if name == broken {
                fs::create_dir(out.join(name)).unwrap(); // where the file should go
            } else {
                fs::write(out.join(name), "old\n").unwrap();
            }
        }
        let assert = parse_into(&[&log], &out)
            .arg("--junit")
            .arg(out.join("x.xml"))
            .assert()
            .code(2);
        let stderr = String::from_utf8_lossy(&assert.get_output().stderr).into_owned();
        assert_eq!(
            stderr,
            format!(
                "apicov: error: {}: cannot write: is a directory\n",
                out.join(broken).display()
            )
        );
        for name in NAMES.iter().filter(|&&n| n != broken) {
            assert_eq!(
                fs::read(out.join(name)).unwrap(),
                b"old\n",
                "{broken}: {name}"
            );
        }
        assert_eq!(leftovers(&out), Vec::<String>::new(), "{broken}");
    }
}

/// A write the file system refuses partway (here a file-size limit, as a
/// full disk would): the outputs' blocks are asked for ahead of each write
/// (`fallocate` on ext4), and a refusal there or in the write itself is one
/// error naming the file, every output left as it was and no temporary file.
#[test]
fn a_write_refused_partway_leaves_every_output_as_it_was() {
    const NAMES: [&str; 3] = ["e.txt", "o.json", "r.json"];
    let dir = tempfile::tempdir().unwrap();
    let log = generate(dir.path(), "audit.log", "300K");
    let out = dir.path().join("out");
    fs::create_dir_all(&out).unwrap();
    for name in NAMES {
        fs::write(out.join(name), "old\n").unwrap();
    }
    let empty = empty_list(&out);
    // 64 blocks of 512 bytes: the endpoints text fits, audit-operations.json
    // does not. The kernel refuses the write with EFBIG and sends SIGXFSZ,
    // whose default action kills the process; apicov ignores it, so the
    // refusal is reported like any other. Also with the shell ignoring it
    // first (an ignored signal stays ignored across exec).
    for script in [
        r#"ulimit -f 64; exec "$@""#,
        r#"trap "" XFSZ; ulimit -f 64; exec "$@""#,
    ] {
        let mut limited = std::process::Command::new("bash");
        limited
            .args(["-c", script, "bash"])
            .arg(assert_cmd::cargo::cargo_bin("apicov"))
            .args(common::parse_args(&mini_spec(), &[&log], &empty, &out))
            .arg("-q")
            .env_remove("APICOV_CACHE_DIR");
        let assert = Command::from(limited).assert().code(2);
        let stderr = String::from_utf8_lossy(&assert.get_output().stderr).into_owned();
        assert_eq!(
            stderr,
            format!(
                "apicov: error: {}: cannot write: File too large (os error 27)\n",
                out.join("o.json").display()
            ),
            "{script}"
        );
        for name in NAMES {
            assert_eq!(
                fs::read(out.join(name)).unwrap(),
                b"old\n",
                "{script}: {name}"
            );
        }
        assert_eq!(leftovers(&out), Vec::<String>::new(), "{script}");
    }
    // Without the limit the same run writes them all.
    parse_into(&[&log], &out).assert().success();
    assert!(fs::metadata(out.join("o.json")).unwrap().len() > 64 * 512);
}

/// FIFOs, process substitution and pipes cannot be mapped or sought: they
/// are read as streams, with the same bytes out as the file itself.
#[test]
fn fifos_and_process_substitution_read_like_files() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let log = generate(d, "a.log", "300K");
    parse_into(&[&log], &d.join("file")).assert().success();
    let want = outputs(&d.join("file"));

    let fifo = d.join("fifo");
    let c_path = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
    // SAFETY: a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c_path.as_ptr(), 0o600) }, 0);
    let writer = {
        let (fifo, log) = (fifo.clone(), log.clone());
        std::thread::spawn(move || fs::write(&fifo, fs::read(&log).unwrap()).unwrap())
    };
    parse_into(&[&fifo], &d.join("fifo-out")).assert().success();
    writer.join().unwrap();
    let got = outputs(&d.join("fifo-out"));
    assert_eq!(got.0, want.0);
    assert_eq!(got.1, want.1);

    // `--audit-logs <(cat …)`, as a shell user writes it.
    let out = d.join("subst");
    fs::create_dir_all(&out).unwrap();
    let empty = empty_list(&out);
    let script = format!(
        "'{bin}' parse --audit-logs <(cat '{log}') --swagger '{spec}' \
         --ineligible-endpoints '{empty}' --pending-eligible-endpoints '{empty}' \
         -o '{out}/e.txt' --audit-operations-json '{out}/o.json' \
         --report-json '{out}/r.json' --no-fail -q",
        bin = assert_cmd::cargo::cargo_bin("apicov").display(),
        log = log.display(),
        spec = mini_spec().display(),
        empty = empty.display(),
        out = out.display(),
    );
    let status = std::process::Command::new("bash")
        .arg("-c")
        .arg(script)
        .status()
        .unwrap();
    assert!(status.success());
    let got = outputs(&out);
    assert_eq!(got.0, want.0);
    assert_eq!(got.1, want.1);
}

/// zstd is read (several frames too); xz, bzip2 and lz4 get one line that
/// says what to do.
// gzip or zstd logs: needs the `compression` feature.
#[cfg(feature = "compression")]
#[test]
fn zstd_is_read_and_other_compressions_say_what_to_do() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let log = generate(d, "a.log", "300K");
    parse_into(&[&log], &d.join("plain")).assert().success();
    let want = outputs(&d.join("plain"));
    let bytes = fs::read(&log).unwrap();
    let half = bytes.len() / 2;
    let mut zst = zstd::encode_all(&bytes[..half], 3).unwrap();
    zst.extend(zstd::encode_all(&bytes[half..], 3).unwrap());
    let zst_path = d.join("a.log.zst");
    fs::write(&zst_path, zst).unwrap();
    parse_into(&[&zst_path], &d.join("zst")).assert().success();
    let got = outputs(&d.join("zst"));
    assert_eq!(got.0, want.0);
    assert_eq!(got.1, want.1);
    assert_eq!(got.2["inputs"][0]["compression"], "zstd");

    for (magic, name) in [
        (&[0xfd, b'7', b'z', b'X', b'Z', 0x00][..], "xz"),
        (b"BZh91AY&SY", "bzip2"),
        (&[0x04, 0x22, 0x4d, 0x18, 0x64][..], "lz4"),
    ] {
        refuses_compressed(
            d,
            magic,
            name,
            &format!(
                "compressed with {name}, which apicov does not read: decompress it and pass it \
                 on stdin (e.g. `{name} -dc FILE | apicov parse --audit-logs -`)"
            ),
        );
    }
}

/// A log of `magic` bytes named `a.log.NAME` is refused with exit 2, one
/// line `FILE: message`, and nothing written.
fn refuses_compressed(d: &Path, magic: &[u8], name: &str, message: &str) {
    let path = d.join(format!("a.log.{name}"));
    fs::write(&path, magic).unwrap();
    let out = d.join(format!("out-{name}"));
    parse_into(&[&path], &out)
        .assert()
        .code(2)
        .stdout("")
        .stderr(format!("apicov: error: {}: {message}\n", path.display()));
    assert!(!out.join("o.json").exists());
}

/// Built without the `compression` feature, a gzip or zstd log is refused
/// by name with what to do instead, and nothing is written.
#[cfg(not(feature = "compression"))]
#[test]
fn without_compression_gzip_and_zstd_say_what_to_do() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    for (magic, name) in [
        (&[0x1f, 0x8b, 0x08, 0x00][..], "gzip"),
        (&[0x28, 0xb5, 0x2f, 0xfd][..], "zstd"),
    ] {
        refuses_compressed(
            d,
            magic,
            name,
            &format!(
                "compressed with {name}: this apicov was built without the `compression` \
                 feature: decompress it and pass it on stdin (e.g. `{name} -dc FILE | apicov \
                 parse --audit-logs -`)"
            ),
        );
    }
}

/// diff refuses a pull or baseline file that is neither an endpoints file
/// nor a report JSON, instead of reading it as an empty run.
#[test]
fn diff_refuses_garbage() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let empty = empty_list(d);
    let good = d.join("good.txt");
    parse_into(
        &[&common::testdata(
            "audit/kind-conformance-2026-11-26T10-00-00.000.log",
        )],
        d,
    )
    .assert()
    .success();
    fs::copy(d.join("e.txt"), &good).unwrap();
    let cases: [(&str, &[u8], &str); 3] = [
        (
            "binary.bin",
            b"\x7fELF\x02\x01\x01\x00\x00\x00",
            "binary data (NUL bytes)",
        ),
        ("latin1.txt", b"caf\xe9\n", "not text (invalid UTF-8)"),
        (
            "notes.txt",
            b"just some notes\nnothing | here\n",
            "no \"Kubernetes API Endpoints\" title and no \"operation | count\" line",
        ),
    ];
    for (name, bytes, why) in cases {
        let bad = d.join(name);
        fs::write(&bad, bytes).unwrap();
        for (ci, pull) in [(&good, &bad), (&bad, &good)] {
            apicov()
                .arg("diff")
                .args(spec_and_lists(&mini_spec(), &empty))
                .arg("--ci-audit-endpoints")
                .arg(ci)
                .arg("--pull-audit-endpoints")
                .arg(pull)
                .arg("--output-file")
                .arg(d.join("diff.txt"))
                .assert()
                .code(2)
                .stderr(format!(
                    "apicov: error: {}: {why}: expected an audit-endpoints.txt (either tool's) \
                     or an apicov report JSON\n",
                    bad.display()
                ));
            assert!(!d.join("diff.txt").exists());
        }
    }
}

/// Reports of different meaning are not combined: --conformance-only with
/// full ones, another spec (unless --allow-spec-mix, which every output then
/// states), the same report twice.
#[test]
fn results_of_different_meaning_are_not_mixed() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let empty = empty_list(d);
    let log = generate(d, "a.log", "100K");
    let report = |name: &str, spec: &Path, extra: &[&str]| -> PathBuf {
        let out = d.join(name);
        parse_with(spec, &[&log], &out)
            .args(extra)
            .assert()
            .success();
        out.join("r.json")
    };
    let full = report("full", &mini_spec(), &[]);
    let conf = report("conf", &mini_spec(), &["--conformance-only"]);
    // Every output of a --conformance-only run says so.
    let conf_endpoints = fs::read_to_string(d.join("conf/e.txt")).unwrap();
    assert_eq!(
        conf_endpoints.lines().nth(1).unwrap(),
        "Conformance tests only (--conformance-only): requests of other clients and tests are not counted"
    );
    let full_endpoints = fs::read_to_string(d.join("full/e.txt")).unwrap();
    assert_eq!(full_endpoints.lines().nth(1).unwrap(), "=".repeat(70));
    let conf_json: Value = serde_json::from_slice(&fs::read(&conf).unwrap()).unwrap();
    assert_eq!(conf_json["conformance_only"], true);

    // Another spec: the mini spec without one path.
    let mut spec: Value = serde_json::from_slice(&fs::read(mini_spec()).unwrap()).unwrap();
    let first = spec["paths"]
        .as_object()
        .unwrap()
        .keys()
        .next()
        .unwrap()
        .clone();
    spec["paths"].as_object_mut().unwrap().remove(&first);
    let other_spec = d.join("other-spec.json");
    fs::write(&other_spec, serde_json::to_vec(&spec).unwrap()).unwrap();
    let other = report("other", &other_spec, &[]);

    let merge = |reports: &[&Path], extra: &[&str]| {
        let mut cmd = apicov();
        cmd.arg("merge")
            .args(reports)
            .args(spec_and_lists(&mini_spec(), &empty))
            .arg("-o")
            .arg(d.join("merged.json"))
            .arg("--endpoints")
            .arg(d.join("merged.txt"))
            .args(extra);
        cmd.assert()
    };
    merge(&[&full, &conf], &["--independent"])
        .code(2)
        .stderr(format!(
            "apicov: error: {}: parsed with --conformance-only, {} without it: conformance-only \
         counts and full counts do not add up\n",
            conf.display(),
            full.display()
        ));
    let digest = |r: &Path| -> String {
        let v: Value = serde_json::from_slice(&fs::read(r).unwrap()).unwrap();
        v["spec"]["digest"].as_str().unwrap().to_string()
    };
    merge(&[&full, &other], &["--independent"])
        .code(2)
        .stderr(format!(
        "apicov: error: {}: parsed against another spec (digest {}) than --swagger (digest {}): \
         merge with the spec it was parsed with, or pass --allow-spec-mix to combine anyway \
         (every output then says so)\n",
        other.display(),
        digest(&other),
        digest(&full)
    ));
    merge(&[&full, &full], &[]).code(2).stderr(format!(
        "apicov: error: {}: named twice (also as {}): its counts would be added twice\n",
        full.display(),
        full.display()
    ));
    let copy = d.join("copy.json");
    fs::copy(&full, &copy).unwrap();
    merge(&[&full, &copy], &[]).code(2).stderr(format!(
        "apicov: error: {}: the same report as {}: a part does not follow itself, and its \
         counts would be added twice\n",
        copy.display(),
        full.display()
    ));
    assert!(!d.join("merged.json").exists());

    merge(&[&full, &other], &["--independent", "--allow-spec-mix"]).success();
    let merged: Value = serde_json::from_slice(&fs::read(d.join("merged.json")).unwrap()).unwrap();
    assert_eq!(merged["spec_mix"], true);
    let merged_txt = fs::read_to_string(d.join("merged.txt")).unwrap();
    assert_eq!(
        merged_txt.lines().nth(1).unwrap(),
        "Results parsed against different specs were combined (--allow-spec-mix): operations renamed or removed between them do not compare"
    );

    // history --reports refuses the mix too, and mixed conformance-only.
    let history = |reports: &[&Path], extra: &[&str]| {
        let mut cmd = apicov();
        cmd.args(["history", "--reports"])
            .args(reports)
            .args(spec_and_lists(&mini_spec(), &empty))
            .arg("--json")
            .arg(d.join("h.json"))
            .arg("-q")
            .args(extra);
        cmd.assert()
    };
    history(&[&full, &other], &[]).code(2);
    history(&[&full, &conf], &[]).code(2).stderr(format!(
        "apicov: error: {}: parsed with --conformance-only, {} without it: the two do not \
         share a timeline\n",
        conf.display(),
        full.display()
    ));
    history(&[&full, &other], &["--allow-spec-mix"]).success();
    let h: Value = serde_json::from_slice(&fs::read(d.join("h.json")).unwrap()).unwrap();
    assert_eq!(h["runs"][0]["other_spec"], false);
    assert_eq!(h["runs"][1]["other_spec"], true);

    // --continue-from: the earlier part must mean the same.
    let out = d.join("cont");
    fs::create_dir_all(&out).unwrap();
    apicov()
        .arg("parse")
        .arg("--audit-logs")
        .arg(&log)
        .args(spec_and_lists(&mini_spec(), &empty))
        .arg("--continue-from")
        .arg(&full)
        .arg("--conformance-only")
        .arg("--audit-operations-json")
        .arg(out.join("o.json"))
        .arg("-q")
        .assert()
        .code(2)
        .stderr(format!(
            "apicov: error: {}: parsed without --conformance-only, this part with it: the \
             parts would not add up\n",
            full.display()
        ));
}

/// Items that name no operation are findings of lint-lists, and parse warns
/// once about them.
#[test]
fn broken_list_entries_are_found_and_warned_about() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let ineligible = d.join("ineligible.yaml");
    fs::write(
        &ineligible,
        "- endpoint: readCoreV1NamespacedPod\n  reason: r\n  link: l\n\
         - reason: no endpoint here\n  link: l\n\
         - 42\n\
         - endpoint: [listCoreV1NamespacedPod, readCoreV1NamespacedPod]\n  reason: r\n  link: l\n",
    )
    .unwrap();
    let empty = empty_list(d);
    let i = ineligible.display();
    apicov()
        .args(["lint-lists", "--swagger"])
        .arg(mini_spec())
        .arg("--ineligible-endpoints")
        .arg(&ineligible)
        .arg("--pending-eligible-endpoints")
        .arg(&empty)
        .assert()
        .code(1)
        .stdout(format!(
            "{i}:4: entry without `endpoint`: ignored\n\
             {i}:6: item is a number, not an operationId: ignored\n\
             {i}:7: `endpoint` is a list, not an operationId: entry ignored\n\
             3 finding(s) in 1 ineligible and 0 pending entries\n"
        ));
    let out = d.join("out");
    fs::create_dir_all(&out).unwrap();
    apicov()
        .arg("parse")
        .arg("--audit-logs")
        .arg(common::testdata(
            "audit/kind-conformance-2026-11-26T10-00-00.000.log",
        ))
        .arg("--swagger")
        .arg(mini_spec())
        .arg("--ineligible-endpoints")
        .arg(&ineligible)
        .arg("--pending-eligible-endpoints")
        .arg(&empty)
        .arg("-o")
        .arg(out.join("e.txt"))
        .arg("--audit-operations-json")
        .arg(out.join("o.json"))
        .arg("--no-fail")
        .assert()
        .success()
        .stderr(predicates::str::starts_with(format!(
            "apicov: warning: {i}:4: 3 item(s) name no operation and are ignored (first: entry \
             without `endpoint`: ignored); see `apicov lint-lists`\n"
        )));
}

/// `--matcher regex` on a spec of 10,000 paths: it builds (the default
/// size limit of regex-automata failed there) and routes as the trie does.
#[test]
fn the_regex_matcher_takes_ten_thousand_paths() {
    let dir = tempfile::tempdir().unwrap();
    let mut paths = serde_json::Map::new();
    for i in 0..10_000 {
        paths.insert(
            format!("/apis/group{i}.example.com/v1/namespaces/{{namespace}}/things{i}/{{name}}"),
            serde_json::json!({"get": {"operationId": format!("readThing{i}"), "description": "d"}}),
        );
    }
    let spec = dir.path().join("big.json");
    fs::write(
        &spec,
        serde_json::to_vec(&serde_json::json!({"swagger": "2.0", "info": {"title": "t", "version": "v"}, "paths": paths})).unwrap(),
    )
    .unwrap();
    for matcher in ["regex", "trie"] {
        apicov()
            .args(["route", "--matcher", matcher, "--swagger"])
            .arg(&spec)
            .args([
                "get",
                "/apis/group9876.example.com/v1/namespaces/ns/things9876/x",
            ])
            .assert()
            .success()
            .stdout(
                "get /apis/group9876.example.com/v1/namespaces/ns/things9876/x\treadThing9876\n",
            );
    }
}

/// `gen -o -` writes the log to standard output.
#[test]
fn gen_writes_to_stdout_with_dash() {
    let dir = tempfile::tempdir().unwrap();
    let log = generate(dir.path(), "a.log", "50K");
    let out = apicov()
        .current_dir(dir.path())
        .args(["gen", "--swagger"])
        .arg(mini_spec())
        .args(["-o", "-", "--size", "50K", "--seed", "5"])
        .assert()
        .success();
    assert_eq!(out.get_output().stdout, fs::read(&log).unwrap());
    assert!(!dir.path().join("-").exists());
}
