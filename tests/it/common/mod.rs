//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::path::PathBuf;

/// The project root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// `../shared/<rel>` beside the repository, when it is there. In CI (CI=true)
/// it always is, so a missing directory fails the test instead of skipping it.
pub fn shared(rel: &str) -> Option<PathBuf> {
    let path = root().join("..").join("shared").join(rel);
    if path.exists() {
        return Some(path);
    }
    if std::env::var_os("CI").is_some() {
        panic!("{} is missing, and CI always has it", path.display());
    }
    eprintln!("skipping: {} not present", path.display());
    None
}

/// The four real Kubernetes specs, as (version, path).
pub fn real_specs() -> Vec<(&'static str, PathBuf)> {
    ["1.33", "1.34", "1.35", "1.36"]
        .into_iter()
        .filter_map(|v| shared(&format!("k8s/swagger-v{v}.json")).map(|p| (v, p)))
        .collect()
}

pub fn testdata(name: &str) -> PathBuf {
    root().join("testdata").join(name)
}

/// The binary, with no cache directory inherited from the environment.
pub fn apicov() -> assert_cmd::Command {
    let mut cmd = assert_cmd::Command::cargo_bin("apicov").unwrap();
    cmd.env_remove("APICOV_CACHE_DIR");
    cmd
}

/// The bundled small spec.
pub fn mini_spec() -> PathBuf {
    testdata("swagger-mini.json")
}

/// Writes an empty tracking list (a bare `---`, as upstream sometimes has).
pub fn empty_list(dir: &std::path::Path) -> PathBuf {
    let p = dir.join("empty.yaml");
    std::fs::write(&p, "---\n").unwrap();
    p
}

/// `apicov parse` of `logs` (`-` for stdin) with `empty` as both tracking
/// lists, writing e.txt, o.json and r.json into `out`; gates never fail it.
pub fn parse_command(
    spec: &std::path::Path,
    logs: &[&std::path::Path],
    empty: &std::path::Path,
    out: &std::path::Path,
) -> assert_cmd::Command {
    std::fs::create_dir_all(out).unwrap();
    let mut cmd = apicov();
    cmd.args(parse_args(spec, logs, empty, out));
    cmd
}

/// [`parse_command`]'s arguments, for a command run some other way (under
/// a shell that sets limits first).
pub fn parse_args(
    spec: &std::path::Path,
    logs: &[&std::path::Path],
    empty: &std::path::Path,
    out: &std::path::Path,
) -> Vec<std::ffi::OsString> {
    let mut args: Vec<std::ffi::OsString> = vec!["parse".into(), "--audit-logs".into()];
    args.extend(logs.iter().map(|log| log.into()));
    args.extend(spec_and_lists(spec, empty));
    for (flag, name) in [
        ("-o", "e.txt"),
        ("--audit-operations-json", "o.json"),
        ("--report-json", "r.json"),
    ] {
        args.push(flag.into());
        args.push(out.join(name).into());
    }
    args.push("--no-fail".into());
    args
}

/// `--swagger SPEC` with `lists` as both tracking lists.
pub fn spec_and_lists(spec: &std::path::Path, lists: &std::path::Path) -> [std::ffi::OsString; 6] {
    [
        "--swagger".into(),
        spec.into(),
        "--ineligible-endpoints".into(),
        lists.into(),
        "--pending-eligible-endpoints".into(),
        lists.into(),
    ]
}

/// `apicov parse` of the bundled fixture (testdata/audit) with the mini spec
/// and lists, run from the project root; the caller adds outputs and flags.
pub fn parse_fixture() -> assert_cmd::Command {
    let mut cmd = assert_cmd::Command::cargo_bin("apicov").unwrap();
    cmd.env_remove("APICOV_CACHE_DIR")
        .current_dir(root())
        .args([
            "parse",
            "--audit-logs",
            "testdata/audit/kind-conformance-*.log",
        ])
        .args(["--swagger", "testdata/swagger-mini.json"])
        .args(["--ineligible-endpoints", "testdata/ineligible-mini.yaml"])
        .args(["--pending-eligible-endpoints", "testdata/pending-mini.yaml"]);
    cmd
}

/// A canned HTTP response.
#[derive(Clone)]
pub struct Canned {
    pub status: u16,
    pub body: Vec<u8>,
    pub etag: Option<String>,
}

/// Serves canned responses from 127.0.0.1 on a port of its own: `route`
/// maps the request target (path and query) to a response; unknown targets
/// get 404. Returns the base URL and a log of the targets requested (with
/// `If-None-Match` shown as ` [if-none-match]`). The server thread ends
/// with the test process.
pub fn serve(
    route: impl Fn(&str) -> Option<Canned> + Send + 'static,
) -> (String, std::sync::Arc<std::sync::Mutex<Vec<String>>>) {
    use std::io::{BufRead, BufReader, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let log = seen.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut request_line = String::new();
            if reader.read_line(&mut request_line).is_err() {
                continue;
            }
            let target = request_line
                .split_whitespace()
                .nth(1)
                .unwrap_or("")
                .to_string();
            let mut if_none_match = None;
            loop {
                let mut header = String::new();
                if reader.read_line(&mut header).unwrap_or(0) == 0 || header == "\r\n" {
                    break;
                }
                if let Some((k, v)) = header.split_once(':') {
                    if k.eq_ignore_ascii_case("if-none-match") {
                        if_none_match = Some(v.trim().to_string());
                    }
                }
            }
            let canned = route(&target);
            let mut entry = target.clone();
            if if_none_match.is_some() {
                entry.push_str(" [if-none-match]");
            }
            log.lock().unwrap().push(entry);
            let (status, body, etag) = match canned {
                Some(c) if c.etag.is_some() && c.etag == if_none_match => (304, Vec::new(), c.etag),
                Some(c) => (c.status, c.body, c.etag),
                None => (404, b"not found".to_vec(), None),
            };
            let mut head = format!(
                "HTTP/1.1 {status} X\r\nContent-Length: {}\r\nConnection: close\r\n",
                body.len()
            );
            if let Some(etag) = etag {
                head.push_str(&format!("ETag: {etag}\r\n"));
            }
            head.push_str("\r\n");
            let _ = stream.write_all(head.as_bytes());
            let _ = stream.write_all(&body);
        }
    });
    (base, seen)
}

/// Headless Chromium, when installed (CI always has it: .ci/run installs it).
pub fn chromium() -> Option<PathBuf> {
    for c in ["/usr/bin/chromium", "/usr/bin/chromium-browser"] {
        if std::path::Path::new(c).exists() {
            return Some(PathBuf::from(c));
        }
    }
    if std::env::var_os("CI").is_some() {
        panic!("CI must have chromium (.ci/run installs it)");
    }
    eprintln!("skipping the browser part: no chromium");
    None
}

/// Runs headless Chromium at `window` (width, height) with a profile of its own and `args`; fails the
/// test unless it exits 0. Returns its standard output.
pub fn headless(
    browser: &std::path::Path,
    profile: &std::path::Path,
    window: (u32, u32),
    args: &[String],
) -> Vec<u8> {
    let mut cmd = std::process::Command::new(browser);
    cmd.args([
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
    ])
    .arg(format!("--window-size={},{}", window.0, window.1))
    .arg(format!("--user-data-dir={}", profile.display()))
    .args(args);
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}
