//! `apicov serve` end to end: the real binary on 127.0.0.1, real HTTP(S)
//! clients (ureq over rustls), logs and truths from `apicov gen`.

use crate::common;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::Value;

/// The events of one log the apiserver would send in one POST (its
/// --audit-webhook-batch-max-size default).
const BATCH_EVENTS: usize = 400;
/// Concurrent webhook clients.
const CLIENTS: usize = 8;

fn bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_apicov"))
}

/// The mini spec and lists, as flags.
fn spec_flags() -> Vec<String> {
    let t = |name: &str| common::testdata(name).display().to_string();
    vec![
        "--swagger".into(),
        t("swagger-mini.json"),
        "--ineligible-endpoints".into(),
        t("ineligible-mini.yaml"),
        "--pending-eligible-endpoints".into(),
        t("pending-mini.yaml"),
    ]
}

/// `apicov gen` into `dir`: the log's lines and the truth.
fn generate(
    dir: &Path,
    size: &str,
    seed: u64,
    omit_request_received: bool,
) -> (Vec<String>, Value) {
    let log = dir.join(format!("gen-{seed}.log"));
    let truth = dir.join(format!("truth-{seed}.json"));
    let mut cmd = Command::new(bin());
    cmd.arg("gen")
        .args(&spec_flags()[..2])
        .arg("-o")
        .arg(&log)
        .arg("--truth")
        .arg(&truth);
    cmd.args(["--size", size, "--seed", &seed.to_string()]);
    if omit_request_received {
        cmd.arg("--omit-request-received");
    }
    assert!(cmd.status().unwrap().success());
    let text = std::fs::read_to_string(&log).unwrap();
    let lines = text.lines().map(String::from).collect();
    (
        lines,
        serde_json::from_slice(&std::fs::read(&truth).unwrap()).unwrap(),
    )
}

/// An `EventList` body of `events` (compact JSON lines).
fn event_list(events: &[String]) -> Vec<u8> {
    format!(
        "{{\"kind\":\"EventList\",\"apiVersion\":\"audit.k8s.io/v1\",\"metadata\":{{}},\"items\":[{}]}}",
        events.join(",")
    )
    .into_bytes()
}

/// The log as the apiserver's batch backends send it
/// (`k8s.io/apiserver/plugin/pkg/audit/buffered`): consecutive batches of
/// `BATCH_EVENTS` events. Each batch is posted from a goroutine of its own,
/// so neighbouring batches race and a request's stages arrive in any order.
fn apiserver_batches(lines: &[String]) -> Vec<Vec<u8>> {
    lines.chunks(BATCH_EVENTS).map(event_list).collect()
}

/// The next batch to post, for `senders` threads that each take one, post
/// it (and retry it on 429/503 with a growing backoff, as the webhook
/// does) and take the next: neighbouring batches are in flight at once.
/// Every `replay_every`th batch is posted a second time after its 200 (a
/// retry whose answer was lost). Returns the events sent twice and the
/// refusals the senders saw.
fn post_concurrently(
    base: &str,
    batches: Vec<Vec<u8>>,
    senders: usize,
    replay_every: Option<usize>,
) -> (usize, usize) {
    let batches = Arc::new(batches);
    let next = Arc::new(AtomicUsize::new(0));
    let replayed = Arc::new(AtomicUsize::new(0));
    let refused = Arc::new(AtomicUsize::new(0));
    let threads: Vec<_> = (0..senders)
        .map(|_| {
            let url = format!("{base}/audit");
            let (batches, next) = (batches.clone(), next.clone());
            let (replayed, refused) = (replayed.clone(), refused.clone());
            std::thread::spawn(move || {
                let agent = agent(None);
                let send = |body: &[u8]| {
                    let mut backoff = Duration::from_millis(2);
                    // The apiserver retries for minutes; a minute here, so
                    // that a loaded machine slows the test rather than
                    // failing it.
                    let deadline = std::time::Instant::now() + Duration::from_secs(60);
                    while std::time::Instant::now() < deadline {
                        let response = agent
                            .post(&url)
                            .header("Content-Type", "application/json")
                            .send(body)
                            .unwrap();
                        match response.status().as_u16() {
                            200 => return,
                            status @ (429 | 503) => {
                                if status == 429 {
                                    let retry = response.headers().get("Retry-After").cloned();
                                    assert_eq!(retry.unwrap(), "1");
                                }
                                refused.fetch_add(1, Ordering::Relaxed);
                                std::thread::sleep(backoff);
                                backoff = (backoff * 2).min(Duration::from_millis(50));
                            }
                            other => panic!("status {other}"),
                        }
                    }
                    panic!("refused for a minute");
                };
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(body) = batches.get(i) else { break };
                    send(body);
                    if replay_every.is_some_and(|n| i % n == 0) {
                        send(body);
                        let v: Value = serde_json::from_slice(body).unwrap();
                        replayed.fetch_add(v["items"].as_array().unwrap().len(), Ordering::Relaxed);
                    }
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    (
        replayed.load(Ordering::Relaxed),
        refused.load(Ordering::Relaxed),
    )
}

/// A running `apicov serve`.
struct Server {
    child: Child,
    base: String,
    out: PathBuf,
}

impl Server {
    /// Starts the server with `extra` flags; outputs go to `out`
    /// (`served.txt`, `served-ops.json`, `served.json`, `served.xml`).
    fn start(out: &Path, scheme: &str, extra: &[&str]) -> Server {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut cmd = Command::new(bin());
        // The HTML page states when it was made: the same instant for both.
        cmd.env("SOURCE_DATE_EPOCH", "1795651200");
        cmd.arg("serve").args(spec_flags());
        cmd.args(["--listen", &format!("127.0.0.1:{port}")]);
        cmd.arg("-o").arg(out.join("served.txt"));
        cmd.arg("--audit-operations-json")
            .arg(out.join("served-ops.json"));
        cmd.arg("--report-json").arg(out.join("served.json"));
        cmd.arg("--junit").arg(out.join("served.xml"));
        cmd.arg("--html").arg(out.join("served.html"));
        cmd.args(extra);
        cmd.stdout(Stdio::null()).stderr(Stdio::piped());
        let mut child = cmd.spawn().unwrap();
        // The start-up line says the server listens.
        // The start-up line says the server listens; the rest of stderr is
        // kept (a closed pipe would fail the server's last messages).
        let mut stderr = BufReader::new(child.stderr.take().unwrap());
        let mut first = String::new();
        stderr.read_line(&mut first).unwrap();
        assert!(first.starts_with("apicov: serving on "), "{first}");
        std::thread::spawn(move || std::io::copy(&mut stderr, &mut std::io::sink()));
        Server {
            child,
            base: format!("{scheme}://127.0.0.1:{port}"),
            out: out.to_path_buf(),
        }
    }

    fn signal(&self, sig: &str) {
        let ok = Command::new("kill")
            .args([sig, &self.child.id().to_string()])
            .status()
            .unwrap()
            .success();
        assert!(ok);
    }

    /// Waits for the exit status (at most 30 s).
    fn wait(&mut self) -> Option<i32> {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status.code();
            }
            assert!(Instant::now() < deadline, "server did not exit");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn agent(tls: Option<ureq::tls::TlsConfig>) -> ureq::Agent {
    let mut config = ureq::config::Config::builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(30)));
    if let Some(tls) = tls {
        config = config.tls_config(tls);
    }
    config.build().new_agent()
}

/// POSTs a JSON body; (status, body text).
fn post(agent: &ureq::Agent, url: &str, body: &[u8], headers: &[(&str, &str)]) -> (u16, String) {
    let mut req = agent.post(url).header("Content-Type", "application/json");
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    match req.send(body) {
        Ok(resp) => {
            let status = resp.status().as_u16();
            (
                status,
                resp.into_body().read_to_string().unwrap_or_default(),
            )
        }
        Err(e) => (0, e.to_string()),
    }
}

fn get(agent: &ureq::Agent, url: &str, headers: &[(&str, &str)]) -> (u16, String) {
    let mut req = agent.get(url);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    match req.call() {
        Ok(resp) => {
            let status = resp.status().as_u16();
            (status, resp.into_body().read_to_string().unwrap())
        }
        Err(e) => (0, e.to_string()),
    }
}

/// `apicov parse` of the spool into `out` (`parsed.*`); its exit status.
fn parse_spool(spool: &Path, out: &Path) -> i32 {
    Command::new(bin())
        .env("SOURCE_DATE_EPOCH", "1795651200")
        .arg("parse")
        .args(spec_flags())
        .arg("--audit-logs")
        .arg(format!("{}/*.log", spool.display()))
        .arg("-o")
        .arg(out.join("parsed.txt"))
        .arg("--audit-operations-json")
        .arg(out.join("parsed-ops.json"))
        .arg("--report-json")
        .arg(out.join("parsed.json"))
        .arg("--junit")
        .arg(out.join("parsed.xml"))
        .arg("--html")
        .arg(out.join("parsed.html"))
        .arg("-q")
        .stderr(Stdio::null())
        .status()
        .unwrap()
        .code()
        .unwrap()
}

/// One event as serde_json writes it (escapes and spacing made uniform).
fn normalised(line: &str) -> String {
    serde_json::from_str::<Value>(line).unwrap().to_string()
}

fn read(path: PathBuf) -> Vec<u8> {
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Every output of the server equals `parse`'s, byte for byte.
fn assert_outputs_identical(out: &Path) {
    for (served, parsed) in [
        ("served.txt", "parsed.txt"),
        ("served-ops.json", "parsed-ops.json"),
        ("served.json", "parsed.json"),
        ("served.xml", "parsed.xml"),
        ("served.html", "parsed.html"),
    ] {
        assert!(
            read(out.join(served)) == read(out.join(parsed)),
            "{served} differs from {parsed}"
        );
    }
}

/// The report's counts equal the generator's truth.
fn assert_report_is_truth(report: &Value, truth: &Value) {
    assert_eq!(report["requests"], truth["requests"]);
    assert_eq!(report["unmatched_requests"], truth["unmatched_requests"]);
    assert_eq!(report["events"], truth["events"]);
    assert_eq!(report["operations"], truth["operations"]);
}

/// `/metrics` through a Prometheus text parser: name{labels} → value.
fn scrape(agent: &ureq::Agent, base: &str) -> std::collections::BTreeMap<String, f64> {
    let (status, text) = get(agent, &format!("{base}/metrics"), &[]);
    assert_eq!(status, 200);
    let lines = text.lines().map(|l| Ok(l.to_string()));
    let scrape = prometheus_parse::Scrape::parse(lines).unwrap();
    let mut out = std::collections::BTreeMap::new();
    for s in scrape.samples {
        let value = match s.value {
            prometheus_parse::Value::Counter(v)
            | prometheus_parse::Value::Gauge(v)
            | prometheus_parse::Value::Untyped(v) => v,
            prometheus_parse::Value::Histogram(h) => h.last().map_or(0.0, |b| b.count),
            prometheus_parse::Value::Summary(_) => continue,
        };
        let key = match s.labels.get("operation").or(s.labels.get("code")) {
            Some(l) => format!("{}{{{l}}}", s.metric),
            None => s.metric.clone(),
        };
        out.insert(key, value);
    }
    out
}

/// The apiserver's batches from 8 goroutines at once, ≥ 50k requests, 10%
/// of batches replayed, every stage logged
/// (SIGTERM ends it) and `omitStages: [RequestReceived]` (POST /flush ends
/// it): outputs byte-identical to `parse` of the spool, counts equal the
/// generator's truth, /metrics equal to the report.
///
/// Issue 12's scale (≥ 50k requests, twice) takes most of this file's time
/// in a debug build, so it runs in CI (`.ci/run`) and on
/// `cargo test -- --ignored`, not in every `cargo test`.
#[test]
#[ignore = "two 50k-request logs: slow in a debug build, run by .ci/run"]
fn concurrent_clients_with_replays_equal_parse_and_truth() {
    for (seed, omit) in [(11, false), (12, true)] {
        let dir = tempfile::tempdir().unwrap();
        let size = if omit { "82M" } else { "135M" };
        let (lines, truth) = generate(dir.path(), size, seed, omit);
        assert!(
            truth["requests"].as_u64().unwrap() >= 50_000,
            "{}",
            truth["requests"]
        );
        let spool = dir.path().join("spool");
        let mut server = Server::start(
            dir.path(),
            "http",
            &[
                "--spool",
                spool.to_str().unwrap(),
                "--spool-file-size",
                "32M",
                "-q",
            ],
        );
        let (replayed, _) =
            post_concurrently(&server.base, apiserver_batches(&lines), CLIENTS, Some(10));
        assert!(replayed > 0);

        let client = agent(None);
        let (status, live) = get(&client, &format!("{}/coverage.json", server.base), &[]);
        assert_eq!(status, 200);
        let (status, live_html) = get(&client, &format!("{}/", server.base), &[]);
        assert_eq!(status, 200);
        let live_json = live.clone();
        let live: Value = serde_json::from_str(&live).unwrap();
        assert_report_is_truth(&live, &truth);
        let metrics = scrape(&client, &server.base);
        let events = truth["events"].as_u64().unwrap() as f64;
        assert_eq!(metrics["apicov_events_total"], events);
        assert_eq!(
            metrics["apicov_events_received_total"],
            events + replayed as f64
        );
        assert_eq!(metrics["apicov_events_replayed_total"], replayed as f64);
        assert_eq!(
            metrics["apicov_requests_total"],
            live["requests"].as_f64().unwrap()
        );
        assert_eq!(
            metrics["apicov_requests_matched_total"],
            live["matched_requests"].as_f64().unwrap()
        );
        assert_eq!(
            metrics["apicov_requests_unmatched_total"],
            live["unmatched_requests"].as_f64().unwrap()
        );
        let ops = live["operations"].as_object().unwrap();
        let metric_ops: Vec<_> = metrics
            .iter()
            .filter(|(k, _)| k.starts_with("apicov_operation_requests_total{"))
            .collect();
        assert_eq!(metric_ops.len(), ops.len());
        for (op, n) in ops {
            let key = format!("apicov_operation_requests_total{{{op}}}");
            assert_eq!(metrics[&key], n.as_f64().unwrap(), "{op}");
        }
        let posts = metrics["apicov_webhook_posts_total{200}"];
        assert_eq!(metrics["apicov_webhook_post_duration_seconds"], posts);
        let stable_missing = live["stable_not_found"].as_array().unwrap().len() as f64;
        assert_eq!(
            metrics["apicov_stable_operations_not_found"],
            stable_missing
        );

        let status = if omit {
            let (status, text) = post(&client, &format!("{}/flush", server.base), b"", &[]);
            assert_eq!((status, text.as_str()), (200, "flushed; exit status 1\n"));
            server.wait()
        } else {
            server.signal("-TERM");
            server.wait()
        };
        // The mini lists leave stable operations unexercised: the gate trips.
        assert_eq!(status, Some(1));
        assert_eq!(parse_spool(&spool, &server.out), 1);
        assert_outputs_identical(&server.out);
        // The live pages are the final files: nothing came in after them.
        assert!(live_json.as_bytes() == read(dir.path().join("served.json")));
        assert!(live_html.as_bytes() == read(dir.path().join("served.html")));
        let served: Value = serde_json::from_slice(&read(dir.path().join("served.json"))).unwrap();
        assert_report_is_truth(&served, &truth);
        // Several spool files, in order.
        assert!(served["inputs"].as_array().unwrap().len() >= 2);
    }
}

/// SIGKILL while 4 senders post the apiserver's batches; a restart on the
/// same spool replays it; every acknowledged batch is in the spool; the
/// batches not acknowledged are then resent (as the apiserver retries them)
/// and the result is the truth.
#[test]
fn sigkill_mid_stream_loses_no_acknowledged_event() {
    let dir = tempfile::tempdir().unwrap();
    let (lines, truth) = generate(dir.path(), "12M", 21, false);
    let spool = dir.path().join("spool");
    let spool_arg = spool.to_str().unwrap().to_string();
    let batches = Arc::new(apiserver_batches(&lines));
    let total = batches.len();
    let server = Server::start(dir.path(), "http", &["--spool", &spool_arg, "-q"]);
    // Per batch: acknowledged.
    let acked: Arc<Vec<AtomicBool>> =
        Arc::new((0..total).map(|_| AtomicBool::new(false)).collect());
    let all_acked = Arc::new(AtomicUsize::new(0));
    let next = Arc::new(AtomicUsize::new(0));
    let threads: Vec<_> = (0..4)
        .map(|_| {
            let url = format!("{}/audit", server.base);
            let (batches, acked, all_acked, next) = (
                batches.clone(),
                acked.clone(),
                all_acked.clone(),
                next.clone(),
            );
            std::thread::spawn(move || {
                let agent = agent(None);
                loop {
                    let i = next.fetch_add(1, Ordering::SeqCst);
                    let Some(body) = batches.get(i) else { return };
                    if post(&agent, &url, body, &[]).0 != 200 {
                        return;
                    }
                    acked[i].store(true, Ordering::SeqCst);
                    all_acked.fetch_add(1, Ordering::SeqCst);
                }
            })
        })
        .collect();
    while all_acked.load(Ordering::SeqCst) < total / 2 {
        std::thread::sleep(Duration::from_millis(1));
    }
    server.signal("-KILL");
    for t in threads {
        t.join().unwrap();
    }
    drop(server);
    let acked: Vec<bool> = acked.iter().map(|a| a.load(Ordering::SeqCst)).collect();
    assert!(acked.contains(&false), "killed after the end");

    // Every acknowledged event is in the spool, whole. A file may end in a
    // torn line: the kernel stops a write to a file part way when SIGKILL
    // arrives, and that batch was never acknowledged (the restart cuts it).
    let mut spooled = std::collections::HashSet::new();
    let mut torn = 0;
    for entry in std::fs::read_dir(&spool).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "log") {
            // Bytes: a torn line may end inside a character.
            for line in read(path).split_inclusive(|&b| b == b'\n') {
                match line.strip_suffix(b"\n") {
                    Some(line) => {
                        spooled.insert(normalised(std::str::from_utf8(line).unwrap()));
                    }
                    None => torn += 1,
                }
            }
        }
    }
    assert!(
        torn <= 1,
        "{torn} torn lines: only the batch being written can be"
    );
    for (body, _) in batches.iter().zip(&acked).filter(|(_, &a)| a) {
        {
            let v: Value = serde_json::from_slice(body).unwrap();
            for item in v["items"].as_array().unwrap() {
                assert!(
                    spooled.contains(&item.to_string()),
                    "acknowledged event lost: {item}"
                );
            }
        }
    }

    // Restart: the spool is replayed; the batches not acknowledged are
    // resent, and replays of what was written are dropped.
    let mut server = Server::start(dir.path(), "http", &["--spool", &spool_arg, "-q"]);
    let rest: Vec<Vec<u8>> = batches
        .iter()
        .zip(&acked)
        .filter(|(_, &a)| !a)
        .map(|(b, _)| b.clone())
        .collect();
    post_concurrently(&server.base, rest, 4, None);
    server.signal("-TERM");
    assert_eq!(server.wait(), Some(1));
    assert_eq!(parse_spool(&spool, &server.out), 1);
    assert_outputs_identical(&server.out);
    let parsed: Value = serde_json::from_slice(&read(dir.path().join("parsed.json"))).unwrap();
    assert_report_is_truth(&parsed, &truth);
}

/// A CA and the certificates it signs, made for the test.
struct Pki {
    issuer: rcgen::Issuer<'static, rcgen::KeyPair>,
    cert_pem: String,
}

impl Pki {
    fn new_ca(name: &str) -> Pki {
        let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, name);
        let key = rcgen::KeyPair::generate().unwrap();
        let cert = params.self_signed(&key).unwrap();
        Pki {
            cert_pem: cert.pem(),
            issuer: rcgen::Issuer::new(params, key),
        }
    }

    /// (certificate PEM, key PEM) for `names`.
    fn issue(&self, names: &[&str]) -> (String, String) {
        let names: Vec<String> = names.iter().map(|s| s.to_string()).collect();
        let params = rcgen::CertificateParams::new(names).unwrap();
        let key = rcgen::KeyPair::generate().unwrap();
        let cert = params.signed_by(&key, &self.issuer).unwrap();
        (cert.pem(), key.serialize_pem())
    }
}

fn tls_agent(ca_pem: &str, client: Option<&(String, String)>) -> ureq::Agent {
    use ureq::tls::{Certificate, ClientCert, PrivateKey, RootCerts, TlsConfig};
    let root = Certificate::from_pem(ca_pem.as_bytes()).unwrap();
    let mut tls = TlsConfig::builder().root_certs(RootCerts::new_with_certs(&[root]));
    if let Some((cert, key)) = client {
        let cert = Certificate::from_pem(cert.as_bytes()).unwrap();
        let key = PrivateKey::from_pem(key.as_bytes()).unwrap();
        tls = tls.client_cert(Some(ClientCert::new_with_certs(&[cert], key)));
    }
    agent(Some(tls.build()))
}

/// TLS with client certificates and a bearer token: every wrong credential
/// is refused (401 without, 403 with wrong ones) and counts nothing.
#[test]
fn wrong_credentials_are_refused_and_count_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let (lines, _) = generate(dir.path(), "200K", 31, false);
    let ca = Pki::new_ca("apicov test CA");
    let other_ca = Pki::new_ca("another CA");
    let server_cert = ca.issue(&["127.0.0.1", "localhost"]);
    let apiserver = ca.issue(&["kube-apiserver"]);
    let stranger = other_ca.issue(&["kube-apiserver"]);
    let write = |name: &str, text: &str| {
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        path.display().to_string()
    };
    let cert = write("server.pem", &server_cert.0);
    let key = write("server-key.pem", &server_cert.1);
    let client_ca = write("ca.pem", &ca.cert_pem);
    let token = write("token", "s3cret-token\n");
    let mut server = Server::start(
        dir.path(),
        "https",
        &[
            "--tls-cert",
            &cert,
            "--tls-key",
            &key,
            "--client-ca",
            &client_ca,
            "--token-file",
            &token,
            "-q",
        ],
    );
    let body = event_list(&lines);
    let url = format!("{}/audit", server.base);
    let good = tls_agent(&ca.cert_pem, Some(&apiserver));
    let bearer = [("Authorization", "Bearer s3cret-token")];
    let wrong = [("Authorization", "Bearer s3cret-tokem")];
    let no_cert = tls_agent(&ca.cert_pem, None);
    let other = tls_agent(&ca.cert_pem, Some(&stranger));
    assert_eq!(post(&no_cert, &url, &body, &bearer).0, 401);
    assert_eq!(post(&other, &url, &body, &bearer).0, 403);
    assert_eq!(post(&good, &url, &body, &[]).0, 401);
    assert_eq!(post(&good, &url, &body, &wrong).0, 403);
    assert_eq!(
        get(&other, &format!("{}/coverage.json", server.base), &bearer).0,
        403
    );
    assert_eq!(
        get(&no_cert, &format!("{}/metrics", server.base), &bearer).0,
        401
    );
    assert_eq!(
        get(&no_cert, &format!("{}/healthz", server.base), &[]),
        (200, "ok\n".into())
    );
    let (status, text) = get(&good, &format!("{}/metrics", server.base), &bearer);
    assert_eq!(status, 200);
    assert!(
        text.contains("\napicov_events_received_total 0\n"),
        "{text}"
    );
    assert!(
        text.contains("\napicov_webhook_posts_total{code=\"401\"} 2\n"),
        "{text}"
    );
    assert!(
        text.contains("\napicov_webhook_posts_total{code=\"403\"} 2\n"),
        "{text}"
    );
    // The right credentials: counted.
    assert_eq!(post(&good, &url, &body, &bearer).0, 200);
    let (_, text) = get(&good, &format!("{}/metrics", server.base), &bearer);
    let events = format!("\napicov_events_received_total {}\n", lines.len());
    assert!(text.contains(&events), "{text}");
    assert_eq!(
        post(&good, &format!("{}/flush", server.base), b"", &bearer).0,
        200
    );
    assert_eq!(server.wait(), Some(1));

    // Plain HTTP on a non-loopback address is refused.
    let out = Command::new(bin())
        .arg("serve")
        .args(spec_flags())
        .args(["--listen", "0.0.0.0:0"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "apicov: error: --listen 0.0.0.0:0: plain HTTP on a non-loopback address needs --insecure-listen (or --tls-cert/--tls-key)\n"
    );
}

/// 413 for a body over --max-body (plain and gzip), 400 for malformed JSON
/// or a non-audit body, 415 for another content type; the stream goes on
/// and the outputs hold exactly the good batches.
#[test]
fn bad_bodies_are_refused_and_the_stream_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let (lines, _) = generate(dir.path(), "300K", 41, false);
    let spool = dir.path().join("spool");
    let mut server = Server::start(
        dir.path(),
        "http",
        &[
            "--spool",
            spool.to_str().unwrap(),
            "--max-body",
            "64K",
            "--no-fail",
            "-q",
        ],
    );
    let url = format!("{}/audit", server.base);
    let client = agent(None);
    let small: Vec<Vec<u8>> = lines.chunks(20).map(event_list).collect();
    // Just over the limit: a body many times larger can still be in
    // flight when the server answers 413 and closes, and the client then
    // sees a broken pipe instead of the answer.
    let mut take = 1;
    while event_list(&lines[..take]).len() <= 64 << 10 {
        take += 1;
    }
    let huge = event_list(&lines[..take]);
    assert!(huge.len() > 64 << 10 && huge.len() < 72 << 10);
    let (status, text) = post(&client, &url, &huge, &[]);
    assert_eq!(
        (status, text.as_str()),
        (413, "body larger than --max-body (65536 bytes)\n")
    );
    // Gzip: small on the wire, too large decoded.
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    std::io::Write::write_all(&mut gz, &huge).unwrap();
    let gz = gz.finish().unwrap();
    assert!(gz.len() < 64 << 10);
    assert_eq!(
        post(&client, &url, &gz, &[("Content-Encoding", "gzip")]).0,
        413
    );
    let mut sent = Vec::new();
    for (i, body) in small.iter().enumerate() {
        if i == 3 {
            let (status, text) = post(&client, &url, &body[..body.len() - 1], &[]);
            assert_eq!(status, 400);
            assert!(
                text.starts_with("malformed JSON: EOF while parsing"),
                "{text}"
            );
            let (status, text) = post(&client, &url, b"{\"kind\":\"Pod\"}", &[]);
            assert_eq!(
                (status, text.as_str()),
                (
                    400,
                    "kind \"Pod\": expected an audit.k8s.io EventList or Event\n"
                )
            );
            let req = client.post(&url).header("Content-Type", "text/plain");
            assert_eq!(req.send(&body[..]).unwrap().status().as_u16(), 415);
        }
        if i % 2 == 1 {
            // Gzip-encoded batches count the same.
            let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
            std::io::Write::write_all(&mut gz, body).unwrap();
            let gz = gz.finish().unwrap();
            assert_eq!(
                post(&client, &url, &gz, &[("Content-Encoding", "gzip")]).0,
                200
            );
        } else {
            assert_eq!(post(&client, &url, body, &[]).0, 200);
        }
        sent.extend_from_slice(&lines[i * 20..(i * 20 + 20).min(lines.len())]);
    }
    server.signal("-INT");
    assert_eq!(server.wait(), Some(0));
    assert_eq!(parse_spool(&spool, &server.out), 1);
    assert_outputs_identical(&server.out);
    // The spool holds exactly the accepted events, in order.
    let spooled = std::fs::read_to_string(spool.join("audit-000000.log")).unwrap();
    let sent: Vec<String> = sent.iter().map(|l| normalised(l)).collect();
    let spooled: Vec<String> = spooled.lines().map(normalised).collect();
    assert_eq!(spooled, sent);
}

/// A queue that holds one body while eight clients post at once: the POSTs
/// beyond it are answered 429 with `Retry-After: 1` and count nothing; the
/// clients retry them (as the apiserver's webhook does), and every event is
/// counted once: the live report is the truth and the metrics count each
/// 429 the clients saw.
#[test]
fn a_full_queue_answers_429_and_retried_batches_count_once() {
    let dir = tempfile::tempdir().unwrap();
    let (lines, truth) = generate(dir.path(), "6M", 51, false);
    let spool = dir.path().join("spool");
    let server = Server::start(
        dir.path(),
        "http",
        &[
            "--spool",
            spool.to_str().unwrap(),
            "--max-body",
            "64K",
            "--queue-bytes",
            "64K",
            "--no-fail",
            "-q",
        ],
    );
    // The log in consecutive bodies of at most 60 KB, posted by 8 senders
    // at once.
    let mut bodies = Vec::new();
    let mut start = 0;
    while start < lines.len() {
        let mut end = start + 1;
        while end < lines.len() && event_list(&lines[start..=end]).len() <= 60 << 10 {
            end += 1;
        }
        bodies.push(event_list(&lines[start..end]));
        start = end;
    }
    let (_, refused) = post_concurrently(&server.base, bodies, CLIENTS, None);
    assert!(refused > 0, "the queue never filled");

    let client = agent(None);
    let (status, live) = get(&client, &format!("{}/coverage.json", server.base), &[]);
    assert_eq!(status, 200);
    assert_report_is_truth(&serde_json::from_str(&live).unwrap(), &truth);
    let metrics = scrape(&client, &server.base);
    assert_eq!(metrics["apicov_webhook_posts_total{429}"], refused as f64);
    assert_eq!(
        metrics["apicov_events_total"],
        truth["events"].as_f64().unwrap()
    );
}

/// Requests that never complete (RequestReceived only) are remembered for
/// the window and no longer: memory stays bounded. A later stage in the
/// window counts nothing; one past it is a new request.
#[test]
fn requests_that_never_complete_are_remembered_for_the_window_only() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), "http", &["--window-events", "1000", "-q"]);
    let event = |n: usize, stage: &str| {
        format!(
            "{{\"kind\":\"Event\",\"apiVersion\":\"audit.k8s.io/v1\",\"level\":\"Metadata\",\
             \"auditID\":\"00000000-0000-0000-0000-{n:012x}\",\"stage\":\"{stage}\",\
             \"requestURI\":\"/api/v1/namespaces/default/pods/p\",\"verb\":\"get\",\
             \"user\":{{\"username\":\"admin\"}},\"userAgent\":\"kubelet\"}}"
        )
    };
    let client = agent(None);
    let url = format!("{}/audit", server.base);
    let mut most = 0.0f64;
    for batch in 0..30 {
        let events: Vec<String> = (batch * 400..batch * 400 + 400)
            .map(|n| event(n, "RequestReceived"))
            .collect();
        assert_eq!(post(&client, &url, &event_list(&events), &[]).0, 200);
        most = most.max(scrape(&client, &server.base)["apicov_requests_remembered"]);
    }
    // At most twice the window, plus one batch's requests.
    assert!(most <= 2_400.0, "{most} requests remembered");
    assert!(most >= 1_000.0, "{most} requests remembered");
    let requests = |client: &ureq::Agent| scrape(client, &server.base)["apicov_requests_total"];
    assert_eq!(requests(&client), 12_000.0);
    // The last 500 requests complete: in the window, they count nothing.
    let done: Vec<String> = (11_500..12_000)
        .map(|n| event(n, "ResponseComplete"))
        .collect();
    assert_eq!(post(&client, &url, &event_list(&done), &[]).0, 200);
    assert_eq!(requests(&client), 12_000.0);
    // The first 500 complete, long past the window: new requests.
    let late: Vec<String> = (0..500).map(|n| event(n, "ResponseComplete")).collect();
    assert_eq!(post(&client, &url, &event_list(&late), &[]).0, 200);
    assert_eq!(requests(&client), 12_500.0);
}

/// RFC 7235: the auth scheme's name is case-insensitive (`bearer`,
/// `BEARER`); the token itself is not.
#[test]
fn bearer_scheme_is_case_insensitive() {
    let dir = tempfile::tempdir().unwrap();
    let (lines, _) = generate(dir.path(), "100K", 61, false);
    let token = dir.path().join("token");
    std::fs::write(&token, "s3cret-token\n").unwrap();
    let server = Server::start(
        dir.path(),
        "http",
        &["--token-file", token.to_str().unwrap(), "--no-fail", "-q"],
    );
    let url = format!("{}/audit", server.base);
    let client = agent(None);
    let body = event_list(&lines[..10]);
    for scheme in ["Bearer", "bearer", "BEARER", "bEaReR"] {
        let auth = format!("{scheme} s3cret-token");
        assert_eq!(
            post(&client, &url, &body, &[("Authorization", &auth)]).0,
            200,
            "{scheme}"
        );
    }
    for refused in ["Bearers3cret-token", "Basic s3cret-token", "bearer"] {
        assert_eq!(
            post(&client, &url, &body, &[("Authorization", refused)]).0,
            401,
            "{refused}"
        );
    }
    assert_eq!(
        post(
            &client,
            &url,
            &body,
            &[("Authorization", "bearer S3CRET-TOKEN")]
        )
        .0,
        403
    );
}

/// `--listen localhost:PORT`: the host name is resolved (it is loopback,
/// so plain HTTP is allowed).
#[test]
fn listen_accepts_a_host_name() {
    let mut child = Command::new(bin())
        .arg("serve")
        .args(spec_flags())
        .args(["--listen", "localhost:0", "-q"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let mut first = String::new();
    stderr.read_line(&mut first).unwrap();
    let address = first
        .strip_prefix("apicov: serving on http://")
        .and_then(|rest| rest.split(' ').next())
        .unwrap_or_else(|| panic!("{first}"))
        .to_string();
    std::thread::spawn(move || std::io::copy(&mut stderr, &mut std::io::sink()));
    let answer = get(&agent(None), &format!("http://{address}/healthz"), &[]);
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(answer, (200, "ok\n".into()));
}

/// A spool write that fails answers 503 (the apiserver retries later), not
/// 500; from then on every POST and `/healthz` get 503, and the error is
/// named. The fault: the next spool file's name is taken by a directory.
#[test]
fn a_spool_write_failure_answers_503_and_healthz_says_unhealthy() {
    let dir = tempfile::tempdir().unwrap();
    let (lines, _) = generate(dir.path(), "100K", 71, false);
    let spool = dir.path().join("spool");
    // Every batch starts a new spool file.
    let server = Server::start(
        dir.path(),
        "http",
        &[
            "--spool",
            spool.to_str().unwrap(),
            "--spool-file-size",
            "1",
            "--no-fail",
            "-q",
        ],
    );
    let url = format!("{}/audit", server.base);
    let client = agent(None);
    let healthz = format!("{}/healthz", server.base);
    assert_eq!(get(&client, &healthz, &[]), (200, "ok\n".into()));
    assert_eq!(post(&client, &url, &event_list(&lines[..10]), &[]).0, 200);
    std::fs::create_dir(spool.join("audit-000001.log")).unwrap();
    let (status, text) = post(&client, &url, &event_list(&lines[10..20]), &[]);
    assert_eq!(status, 503, "{text}");
    assert!(text.starts_with("spool write failed: "), "{text}");
    assert!(text.contains("audit-000001.log"), "{text}");
    // Broken for good: a later batch is refused too, and the probe agrees.
    assert_eq!(post(&client, &url, &event_list(&lines[20..30]), &[]).0, 503);
    let (status, text) = get(&client, &healthz, &[]);
    assert_eq!(status, 503);
    assert!(
        text.starts_with("unhealthy: spool write failed: "),
        "{text}"
    );
    let metrics = scrape(&client, &server.base);
    assert_eq!(metrics["apicov_webhook_posts_total{503}"], 2.0);
    assert_eq!(metrics["apicov_events_total"], 10.0);
}

/// Hostile connections do not keep the apiserver out (issue 30, point 4):
/// 100 connections sending their headers one byte a second and 300 that
/// send nothing, all open at once, while the apiserver's POST (valid
/// token) is answered 200 within 1 s; the header timeout then closes the
/// silent ones.
#[test]
fn slow_and_idle_connections_do_not_keep_the_apiserver_out() {
    use std::io::{Read as _, Write as _};
    use std::net::TcpStream;
    let dir = tempfile::tempdir().unwrap();
    let (lines, _) = generate(dir.path(), "100K", 81, false);
    let token = dir.path().join("token");
    std::fs::write(&token, "s3cret-token\n").unwrap();
    let server = Server::start(
        dir.path(),
        "http",
        &["--token-file", token.to_str().unwrap(), "--no-fail", "-q"],
    );
    let address = server.base.strip_prefix("http://").unwrap().to_string();
    let idle: Vec<TcpStream> = (0..300)
        .map(|_| TcpStream::connect(&address).unwrap())
        .collect();
    let slow: Vec<TcpStream> = (0..100)
        .map(|_| TcpStream::connect(&address).unwrap())
        .collect();
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let writer = {
        let stop = stop.clone();
        std::thread::spawn(move || {
            let request = b"POST /audit HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n";
            let mut slow = slow;
            for byte in request.iter().cycle() {
                if stop.load(Ordering::Relaxed) {
                    break;
                }
                for conn in &mut slow {
                    // A closed connection (header timeout) is expected.
                    let _ = conn.write_all(&[*byte]);
                }
                std::thread::sleep(Duration::from_secs(1));
            }
        })
    };
    // The slow ones have sent a few bytes; all are still within the
    // header timeout.
    std::thread::sleep(Duration::from_secs(2));
    let client = agent(None);
    let started = Instant::now();
    let (status, text) = post(
        &client,
        &format!("{}/audit", server.base),
        &event_list(&lines[..50]),
        &[("Authorization", "Bearer s3cret-token")],
    );
    let took = started.elapsed();
    assert_eq!(status, 200, "{text}");
    assert!(took < Duration::from_secs(1), "took {took:?}");
    // The header timeout (5 s) closes a silent connection.
    let mut silent = idle.into_iter().next().unwrap();
    silent
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let opened = started - Duration::from_secs(2);
    let mut buf = [0u8; 256];
    let closed = match silent.read(&mut buf) {
        Ok(n) => n == 0 || String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 408"),
        Err(e) => e.kind() == std::io::ErrorKind::ConnectionReset,
    };
    assert!(closed, "the idle connection was not closed");
    assert!(
        opened.elapsed() < Duration::from_secs(9),
        "{:?}",
        opened.elapsed()
    );
    stop.store(true, Ordering::Relaxed);
    writer.join().unwrap();
}
