//! CI runs in a public GCS bucket, through the GCS JSON API without gsutil:
//! baseline discovery (the newest finished run of a Prow job), listing a
//! job's runs and a run's objects, and downloads pinned to an object's
//! generation. Every request is retried on transient failures (5xx, 429,
//! connection errors, a body cut short) with exponential backoff.
//!
//! Runs live under `logs/<job>/<build-id>/`; build ids grow with time, so the
//! newest run is the largest id. A run counts as a baseline when it has
//! `finished.json` and `artifacts/audit/audit-endpoints.txt` (a run still in
//! progress has neither).

use std::io::Read;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::Value;

use apicov_core::error::{Error, Result};

/// Where the CI runs are.
#[derive(Debug, Clone)]
pub struct Bucket {
    /// `https://storage.googleapis.com`, or a test server.
    pub endpoint: String,
    /// The bucket's name.
    pub bucket: String,
    /// The Prow job: its runs are under `logs/<job>/`.
    pub job: String,
}

/// How many of the newest runs are tried before giving up.
const RUNS_TRIED: usize = 30;

/// Attempts per request before a transient failure is final.
const ATTEMPTS: u32 = 6;

/// One object: its name, size and generation (which changes whenever the
/// object is rewritten, so it keys caches).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Object {
    /// The object's name in the bucket.
    pub name: String,
    /// Its size in bytes.
    pub size: u64,
    /// Its generation.
    pub generation: String,
}

/// Why a request failed: worth another try, or final.
enum Failure {
    Transient(String),
    Final(String),
    /// No connection to the endpoint (after retries, the error says so,
    /// with the hint to work offline).
    Unreachable(String),
    /// The endpoint's name does not resolve: no network, no retry.
    NoHost(String),
}

impl Failure {
    /// The same failure, its message prefixed with `name: `.
    fn about(self, name: &str) -> Failure {
        let named = |message: String| format!("{name}: {message}");
        match self {
            Failure::Transient(m) => Failure::Transient(named(m)),
            Failure::Final(m) => Failure::Final(named(m)),
            Failure::Unreachable(m) => Failure::Unreachable(named(m)),
            Failure::NoHost(m) => Failure::NoHost(named(m)),
        }
    }
}

/// A request that never got a response.
fn transport(e: ureq::Error) -> Failure {
    match e {
        // No name resolution means no network: retrying will not help.
        ureq::Error::HostNotFound => Failure::NoHost(e.to_string()),
        ureq::Error::ConnectionFailed | ureq::Error::Io(_) => Failure::Unreachable(e.to_string()),
        e => Failure::Transient(e.to_string()),
    }
}

/// GETs `url`; anything but 200 is a failure, transient or final by status.
fn get_ok(agent: &ureq::Agent, url: &str) -> Result<ureq::http::Response<ureq::Body>, Failure> {
    let response = agent.get(url).call().map_err(transport)?;
    let status = response.status().as_u16();
    if status == 200 {
        return Ok(response);
    }
    let message = format!("HTTP status {status}");
    Err(if transient_status(status) {
        Failure::Transient(message)
    } else {
        Failure::Final(message)
    })
}

/// Statuses a later attempt may not get.
fn transient_status(status: u16) -> bool {
    status == 429 || status == 408 || (500..600).contains(&status)
}

/// A run found: its build id and the URL of its audit-endpoints.txt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FoundRun {
    /// The run's build id.
    pub build: String,
    /// The URL of its `audit-endpoints.txt`.
    pub endpoints_url: String,
}

impl Bucket {
    /// Reads `gs://BUCKET/logs/JOB` (a trailing `/` is fine).
    pub fn from_url(url: &str, endpoint: &str) -> Result<Bucket> {
        let usage = || {
            Error::Usage(format!(
                "{url}: expected gs://BUCKET/logs/JOB (where Prow uploads a job's runs)"
            ))
        };
        let rest = url.strip_prefix("gs://").ok_or_else(usage)?;
        let (bucket, path) = rest.split_once('/').ok_or_else(usage)?;
        let job = path
            .trim_end_matches('/')
            .strip_prefix("logs/")
            .filter(|j| !j.is_empty() && !j.contains('/'))
            .ok_or_else(usage)?;
        Ok(Bucket {
            endpoint: endpoint.to_string(),
            bucket: bucket.to_string(),
            job: job.to_string(),
        })
    }

    /// `gs://BUCKET/logs/JOB/`, the prefix of the job's runs.
    pub fn url(&self) -> String {
        format!("gs://{}/logs/{}/", self.bucket, self.job)
    }

    /// Runs `attempt` until it succeeds, fails for good, or has failed
    /// transiently [`ATTEMPTS`] times; waits about 100 ms, 200 ms, 400 ms, …
    /// between tries (each wait scaled by a random 0.5-1.5, so that clients
    /// that failed together do not retry together).
    fn retrying<T>(&self, what: &str, attempt: impl FnMut() -> Result<T, Failure>) -> Result<T> {
        self.retrying_named(&|message| format!("{what}: {message}"), attempt)
    }

    /// [`Bucket::retrying`] with messages that name what failed themselves
    /// (`name` prints the final one).
    fn retrying_named<T>(
        &self,
        name: &dyn Fn(&str) -> String,
        mut attempt: impl FnMut() -> Result<T, Failure>,
    ) -> Result<T> {
        let mut wait = Duration::from_millis(100);
        for n in 1..=ATTEMPTS {
            match attempt() {
                Ok(value) => return Ok(value),
                Err(Failure::NoHost(message)) => {
                    return Err(Error::Unreachable {
                        source_name: self.location(),
                        message: name(&message),
                    })
                }
                Err(Failure::Final(message)) => return Err(self.err(name(&message))),
                Err(Failure::Unreachable(message)) if n == ATTEMPTS => {
                    return Err(Error::Unreachable {
                        source_name: self.location(),
                        message: name(&format!("{message} (after {ATTEMPTS} tries)")),
                    })
                }
                Err(Failure::Transient(message)) if n == ATTEMPTS => {
                    return Err(self.err(name(&format!("{message} (after {ATTEMPTS} tries)"))))
                }
                Err(Failure::Transient(_) | Failure::Unreachable(_)) => {
                    std::thread::sleep(jitter(wait));
                    wait *= 2;
                }
            }
        }
        unreachable!("the last attempt returns")
    }

    /// GETs `url` whole; a body cut short is a transient failure.
    fn get_bytes(agent: &ureq::Agent, url: &str) -> Result<Vec<u8>, Failure> {
        let mut response = get_ok(agent, url)?;
        let mut bytes = Vec::new();
        response
            .body_mut()
            .as_reader()
            .read_to_end(&mut bytes)
            .map_err(|e| Failure::Transient(format!("reading the body: {e}")))?;
        Ok(bytes)
    }

    /// Every object under `prefix`, all pages.
    pub fn objects(&self, prefix: &str) -> Result<Vec<Object>> {
        let mut objects = Vec::new();
        let query = format!(
            "prefix={}&fields=items(name,size,generation),nextPageToken",
            encode(prefix)
        );
        self.list(&query, &format!("listing {prefix}"), |page| {
            for item in page
                .get("items")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                let text = |key: &str| match item.get(key) {
                    Some(Value::String(s)) => s.clone(),
                    Some(other) => other.to_string(),
                    None => String::new(),
                };
                objects.push(Object {
                    name: text("name"),
                    size: text("size").parse().unwrap_or(0),
                    generation: text("generation"),
                });
            }
        })?;
        Ok(objects)
    }

    /// Every page of an object listing (`query` without the page token),
    /// each handed to `each`.
    fn list(&self, query: &str, what: &str, mut each: impl FnMut(&Value)) -> Result<()> {
        let agent = Self::agent();
        let mut page: Option<String> = None;
        loop {
            let mut url = format!(
                "{}/storage/v1/b/{}/o?{query}",
                self.endpoint.trim_end_matches('/'),
                self.bucket
            );
            if let Some(token) = &page {
                url.push_str("&pageToken=");
                url.push_str(&encode(token));
            }
            let body = self.retrying(what, || {
                let bytes = Self::get_bytes(&agent, &url)?;
                serde_json::from_slice::<Value>(&bytes)
                    .map_err(|e| Failure::Transient(format!("listing is not JSON: {e}")))
            })?;
            each(&body);
            page = body
                .get("nextPageToken")
                .and_then(Value::as_str)
                .map(str::to_string);
            if page.is_none() {
                return Ok(());
            }
        }
    }

    /// Streams `object` at its generation into the file `dest` (whole or not
    /// at all: a download cut short is tried again from the start), so a
    /// download holds no more than a buffer in memory.
    pub fn download(&self, object: &Object, dest: &Path) -> Result<()> {
        let agent = Self::download_agent();
        let url = format!(
            "{}?alt=media&generation={}",
            self.object_url(&object.name),
            encode(&object.generation)
        );
        self.retrying(&object.name, || {
            let mut response = get_ok(&agent, &url)?;
            let file = apicov_report::cleanup::creating(|| std::fs::File::create(dest))
                .map_err(|e| Failure::Final(e.to_string()))?;
            let mut out = std::io::BufWriter::with_capacity(1 << 20, file);
            let mut body = response.body_mut().with_config().limit(u64::MAX).reader();
            let copied = std::io::copy(&mut body, &mut out)
                .map_err(|e| Failure::Transient(format!("download cut short: {e}")))?;
            std::io::Write::flush(&mut out).map_err(|e| Failure::Final(e.to_string()))?;
            if copied != object.size {
                return Err(Failure::Transient(format!(
                    "{copied} of {} bytes received",
                    object.size
                )));
            }
            Ok(())
        })
    }

    /// Reads `objects` (each at its generation) as they arrive, handing
    /// `consume` one reader per object, in order, all opened at once: the
    /// bytes go from the socket to the reader with no copy on disk (writing
    /// 1.5 GB of downloads to the page cache and reading it back was ~40% of
    /// a first history's CPU). Whole or again: when a download breaks or
    /// ends short, what `consume` made of that attempt is dropped and every
    /// object is read again from the start, with backoff, like any
    /// transient failure. `consume` reports problems with the data itself
    /// in its own result; those are not retried.
    pub fn stream<T>(
        &self,
        objects: &[&Object],
        mut consume: impl FnMut(Vec<Box<dyn std::io::Read + Send>>) -> T,
    ) -> Result<T> {
        let agent = Self::download_agent();
        self.retrying_named(&|message| message.to_string(), || {
            let broken = Arc::new(Mutex::new(None::<String>));
            let mut readers: Vec<Box<dyn std::io::Read + Send>> = Vec::new();
            for object in objects {
                let url = format!(
                    "{}?alt=media&generation={}",
                    self.object_url(&object.name),
                    encode(&object.generation)
                );
                let response = get_ok(&agent, &url).map_err(|f| f.about(&object.name))?;
                readers.push(Box::new(Download {
                    name: object.name.clone(),
                    body: response
                        .into_body()
                        .into_with_config()
                        .limit(u64::MAX)
                        .reader(),
                    received: 0,
                    size: object.size,
                    broken: broken.clone(),
                }));
            }
            let made = consume(readers);
            let broken = broken.lock().unwrap_or_else(|e| e.into_inner()).take();
            match broken {
                Some(why) => Err(Failure::Transient(why)),
                None => Ok(made),
            }
        })
    }

    /// `started.json`'s timestamp for each run (None where it is missing or
    /// unreadable), read with `jobs` requests in flight.
    pub fn started_times(
        &self,
        ids: &[String],
        jobs: usize,
    ) -> Result<std::collections::HashMap<String, Option<i64>>> {
        let per_thread = ids.len().div_ceil(jobs.max(1)).max(1);
        let found = std::sync::Mutex::new(std::collections::HashMap::new());
        std::thread::scope(|scope| {
            for part in ids.chunks(per_thread) {
                let found = &found;
                scope.spawn(move || {
                    let agent = Self::agent();
                    for id in part {
                        let name = format!("logs/{}/{id}/started.json", self.job);
                        let url = format!("{}?alt=media", self.object_url(&name));
                        let started = self
                            .retrying(&name, || match Self::get_bytes(&agent, &url) {
                                Err(Failure::Final(_)) => Ok(None),
                                other => other.map(Some),
                            })
                            .ok()
                            .flatten()
                            .and_then(|b| serde_json::from_slice::<Value>(&b).ok())
                            .and_then(|v| v.get("timestamp").and_then(Value::as_i64));
                        found
                            .lock()
                            .expect("started times")
                            .insert(id.clone(), started);
                    }
                });
            }
        });
        Ok(found.into_inner().expect("started times"))
    }

    /// Listings and small objects: a minute at most.
    fn agent() -> ureq::Agent {
        ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(60)))
            .build()
            .into()
    }

    /// Downloads: a stalled connection or server fails fast and is retried,
    /// a large log may take as long as its bytes take.
    fn download_agent() -> ureq::Agent {
        ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_connect(Some(Duration::from_secs(10)))
            .timeout_recv_response(Some(Duration::from_secs(60)))
            .timeout_recv_body(Some(Duration::from_secs(3600)))
            // A fresh connection for each try: a pooled one may be the one
            // that just broke.
            .max_idle_connections_per_host(0)
            .build()
            .into()
    }

    fn object_url(&self, name: &str) -> String {
        format!(
            "{}/storage/v1/b/{}/o/{}",
            self.endpoint.trim_end_matches('/'),
            self.bucket,
            encode(name)
        )
    }

    /// `gs://bucket/logs/job`, for messages.
    pub fn location(&self) -> String {
        format!("gs://{}/logs/{}", self.bucket, self.job)
    }

    fn err(&self, message: String) -> Error {
        Error::Source {
            source_name: self.location(),
            message,
        }
    }

    /// Build ids of the job, newest first.
    pub fn runs(&self) -> Result<Vec<String>> {
        let prefix = format!("logs/{}/", self.job);
        let mut runs = Vec::new();
        let query = format!(
            "delimiter=/&prefix={}&fields=prefixes,nextPageToken",
            encode(&prefix)
        );
        self.list(&query, "listing runs", |page| {
            for p in page
                .get("prefixes")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                if let Some(build) = p.as_str().and_then(|p| p.strip_prefix(&prefix)) {
                    runs.push(build.trim_end_matches('/').to_string());
                }
            }
        })?;
        // Build ids are decimal numbers: newest is largest.
        runs.sort_by(|a, b| (b.len(), b).cmp(&(a.len(), a)));
        Ok(runs)
    }

    fn exists(&self, agent: &ureq::Agent, name: &str) -> Result<bool> {
        let response = agent
            .get(&self.object_url(name))
            .call()
            .map_err(|e| self.err(e.to_string()))?;
        match response.status().as_u16() {
            200 => Ok(true),
            404 => Ok(false),
            s => Err(self.err(format!("{name}: HTTP status {s}"))),
        }
    }

    /// The newest run that finished and has an audit-endpoints.txt.
    pub fn latest_finished(&self, log: &mut dyn FnMut(&str)) -> Result<FoundRun> {
        let agent = Self::agent();
        for build in self.runs()?.into_iter().take(RUNS_TRIED) {
            let dir = format!("logs/{}/{}/", self.job, build);
            if !self.exists(&agent, &format!("{dir}finished.json"))? {
                log(&format!("Run {build}: no finished.json (still running?)"));
                continue;
            }
            let endpoints = format!("{dir}artifacts/audit/audit-endpoints.txt");
            if !self.exists(&agent, &endpoints)? {
                log(&format!(
                    "Run {build}: finished, but no artifacts/audit/audit-endpoints.txt"
                ));
                continue;
            }
            log(&format!(
                "Found run {build} with artifacts/audit/audit-endpoints.txt"
            ));
            return Ok(FoundRun {
                build,
                endpoints_url: format!("{}?alt=media", self.object_url(&endpoints)),
            });
        }
        Err(self.err(format!(
            "no finished run with artifacts/audit/audit-endpoints.txt among the newest {RUNS_TRIED}; \
             name a baseline with --ci-audit-endpoints"
        )))
    }
}

/// `wait` scaled by a factor in [0.5, 1.5) drawn from the clock's
/// nanoseconds and the thread (enough to spread retries; no RNG needed).
fn jitter(wait: Duration) -> Duration {
    use std::hash::{Hash, Hasher};
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    std::time::SystemTime::now().hash(&mut hasher);
    std::thread::current().id().hash(&mut hasher);
    let unit = (hasher.finish() % 1000) as f64 / 1000.0;
    wait.mul_f64(0.5 + unit)
}

/// Percent-encodes an object name or query value (everything but unreserved).
fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// An object's bytes as they arrive. A connection that breaks, or ends
/// before the object's size, fails the read and says why in `broken`, so
/// that the caller tells a broken download (read it again) from bad data.
struct Download {
    name: String,
    body: ureq::BodyReader<'static>,
    received: u64,
    size: u64,
    broken: Arc<Mutex<Option<String>>>,
}

impl std::io::Read for Download {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let why = match self.body.read(buf) {
            Ok(0) if !buf.is_empty() && self.received != self.size => {
                format!(
                    "{}: {} of {} bytes received",
                    self.name, self.received, self.size
                )
            }
            Ok(n) => {
                self.received += n as u64;
                return Ok(n);
            }
            Err(e) => format!("{}: download cut short: {e}", self.name),
        };
        let mut broken = self.broken.lock().unwrap_or_else(|e| e.into_inner());
        broken.get_or_insert_with(|| why.clone());
        Err(std::io::Error::new(std::io::ErrorKind::UnexpectedEof, why))
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn encodes_object_names() {
        assert_eq!(
            super::encode("logs/job/1/finished.json"),
            "logs%2Fjob%2F1%2Ffinished.json"
        );
    }
}
