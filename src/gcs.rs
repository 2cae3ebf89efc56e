//! Baseline discovery without gsutil: the newest finished run of a Prow job in
//! a public GCS bucket, through the GCS JSON API over HTTPS.
//!
//! Runs live under `logs/<job>/<build-id>/`; build ids grow with time, so the
//! newest run is the largest id. A run counts when it has `finished.json` and
//! `artifacts/audit/audit-endpoints.txt` (a run still in progress has neither).

use std::time::Duration;

use serde_json::Value;

use crate::error::{Error, Result};

/// Where the CI runs are.
#[derive(Debug, Clone)]
pub struct Bucket {
    /// `https://storage.googleapis.com`, or a test server.
    pub endpoint: String,
    pub bucket: String,
    pub job: String,
}

/// How many of the newest runs are tried before giving up.
const RUNS_TRIED: usize = 30;

/// A run found: its build id and the URL of its audit-endpoints.txt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FoundRun {
    pub build: String,
    pub endpoints_url: String,
}

impl Bucket {
    fn agent() -> ureq::Agent {
        ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(60)))
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
        let agent = Self::agent();
        let prefix = format!("logs/{}/", self.job);
        let mut runs = Vec::new();
        let mut page: Option<String> = None;
        loop {
            let mut url = format!(
                "{}/storage/v1/b/{}/o?delimiter=/&prefix={}&fields=prefixes,nextPageToken",
                self.endpoint.trim_end_matches('/'),
                self.bucket,
                encode(&prefix)
            );
            if let Some(token) = &page {
                url.push_str("&pageToken=");
                url.push_str(&encode(token));
            }
            let mut response = agent.get(&url).call().map_err(|e| Error::Unreachable {
                source_name: self.location(),
                message: e.to_string(),
            })?;
            if response.status() != 200 {
                return Err(self.err(format!("listing runs: HTTP status {}", response.status())));
            }
            let bytes = response
                .body_mut()
                .read_to_vec()
                .map_err(|e| self.err(format!("listing runs: {e}")))?;
            let body: Value = serde_json::from_slice(&bytes)
                .map_err(|e| self.err(format!("listing runs: {e}")))?;
            for p in body
                .get("prefixes")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                if let Some(build) = p.as_str().and_then(|p| p.strip_prefix(&prefix)) {
                    runs.push(build.trim_end_matches('/').to_string());
                }
            }
            page = body
                .get("nextPageToken")
                .and_then(Value::as_str)
                .map(str::to_string);
            if page.is_none() {
                break;
            }
        }
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
