//! `GET /metrics`: the served run in the Prometheus text format (0.0.4).
//! Counters about events and requests are read from the same tally the
//! report is rendered from, so the two always agree; the webhook's own
//! figures (POSTs by status, latency) are kept here.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use apicov_core::aggregate::Tally;
use apicov_core::coverage::Coverage;
use apicov_core::spec::Catalogue;

/// Upper bounds (seconds) of the POST latency histogram.
const LATENCY_BUCKETS: [f64; 12] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0,
];

/// Statuses the webhook answers, in the order they are listed.
pub const STATUSES: [u16; 11] = [200, 400, 401, 403, 404, 408, 413, 415, 429, 500, 503];

/// The webhook's own counters; lock-free, updated by every POST.
#[derive(Debug, Default)]
pub struct WebhookMetrics {
    /// POSTs answered, by index in [`STATUSES`].
    by_status: [AtomicU64; STATUSES.len()],
    /// Cumulative counts per bucket, and the `+Inf` bucket last.
    latency_buckets: [AtomicU64; LATENCY_BUCKETS.len() + 1],
    latency_sum_micros: AtomicU64,
}

impl WebhookMetrics {
    /// Notes one answered POST.
    pub fn observe(&self, status: u16, elapsed: Duration) {
        if let Some(i) = STATUSES.iter().position(|s| *s == status) {
            self.by_status[i].fetch_add(1, Ordering::Relaxed);
        }
        let secs = elapsed.as_secs_f64();
        let bucket = LATENCY_BUCKETS
            .iter()
            .position(|b| secs <= *b)
            .unwrap_or(LATENCY_BUCKETS.len());
        self.latency_buckets[bucket].fetch_add(1, Ordering::Relaxed);
        self.latency_sum_micros
            .fetch_add(elapsed.as_micros() as u64, Ordering::Relaxed);
    }
}

/// What the engine adds to the page (read under its lock).
pub struct EngineFigures<'a> {
    pub catalogue: &'a Catalogue,
    pub tally: &'a Tally,
    pub coverage: &'a Coverage,
    pub events_received: u64,
    pub replays: u64,
    pub queued_bytes: u64,
}

/// Escapes a label value.
fn label(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

fn header(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} {kind}");
}

fn single(out: &mut String, name: &str, kind: &str, help: &str, value: u64) {
    header(out, name, kind, help);
    let _ = writeln!(out, "{name} {value}");
}

/// Renders the page.
pub fn render(webhook: &WebhookMetrics, engine: &EngineFigures) -> String {
    let t = engine.tally;
    let mut out = String::with_capacity(16 << 10);
    single(
        &mut out,
        "apicov_events_received_total",
        "counter",
        "Events received in accepted batches, replays included.",
        engine.events_received,
    );
    single(
        &mut out,
        "apicov_events_replayed_total",
        "counter",
        "Events dropped as replays (auditID and stage seen already).",
        engine.replays,
    );
    single(
        &mut out,
        "apicov_events_total",
        "counter",
        "Audit events counted (the report's events).",
        t.events(),
    );
    single(
        &mut out,
        "apicov_malformed_lines_total",
        "counter",
        "Events that are not usable audit events.",
        t.malformed_lines,
    );
    single(
        &mut out,
        "apicov_requests_total",
        "counter",
        "API requests counted, once per auditID.",
        t.requests(),
    );
    single(
        &mut out,
        "apicov_requests_matched_total",
        "counter",
        "Requests that matched an operation of the spec.",
        t.matched_requests(),
    );
    single(
        &mut out,
        "apicov_requests_unmatched_total",
        "counter",
        "Requests that matched no operation.",
        t.unmatched_requests(),
    );
    header(
        &mut out,
        "apicov_operation_requests_total",
        "counter",
        "Requests per operation of the spec (operations hit only).",
    );
    for op in engine.catalogue.sorted_ids() {
        let n = t.ops[op.index()].total();
        if n > 0 {
            let _ = writeln!(
                out,
                "apicov_operation_requests_total{{operation=\"{}\"}} {n}",
                label(&engine.catalogue.get(op).id)
            );
        }
    }
    // Eligible: stable, observable and in no filter (the gate's population).
    let eligible_hit = engine
        .coverage
        .kept
        .iter()
        .filter(|op| {
            let o = engine.catalogue.get(**op);
            o.stable && o.observable
        })
        .count() as u64;
    single(
        &mut out,
        "apicov_stable_operations_hit",
        "gauge",
        "Eligible stable operations hit (stable, observable, not deprecated, ineligible or pending).",
        eligible_hit,
    );
    single(
        &mut out,
        "apicov_stable_operations_not_found",
        "gauge",
        "Eligible stable operations not hit yet (the conformance gate's list).",
        engine.coverage.stable_not_found.len() as u64,
    );
    single(
        &mut out,
        "apicov_requests_remembered",
        "gauge",
        "Requests remembered so that their other events count nothing (those of the last --window-events events, and some before until the next sweep).",
        engine.tally.remembered_requests() as u64,
    );
    single(
        &mut out,
        "apicov_queue_bytes",
        "gauge",
        "Bytes of received batches waiting for the engine.",
        engine.queued_bytes,
    );
    header(
        &mut out,
        "apicov_webhook_posts_total",
        "counter",
        "Event POSTs answered, by HTTP status.",
    );
    for (status, n) in STATUSES.iter().zip(&webhook.by_status) {
        let _ = writeln!(
            out,
            "apicov_webhook_posts_total{{code=\"{status}\"}} {}",
            n.load(Ordering::Relaxed)
        );
    }
    header(
        &mut out,
        "apicov_webhook_post_duration_seconds",
        "histogram",
        "Time from receiving an event POST to answering it.",
    );
    let mut cumulative = 0;
    for (i, n) in webhook.latency_buckets.iter().enumerate() {
        cumulative += n.load(Ordering::Relaxed);
        let le = LATENCY_BUCKETS
            .get(i)
            .map_or_else(|| "+Inf".to_string(), |b| b.to_string());
        let _ = writeln!(
            out,
            "apicov_webhook_post_duration_seconds_bucket{{le=\"{le}\"}} {cumulative}"
        );
    }
    let _ = writeln!(
        out,
        "apicov_webhook_post_duration_seconds_sum {}",
        webhook.latency_sum_micros.load(Ordering::Relaxed) as f64 / 1e6
    );
    let _ = writeln!(
        out,
        "apicov_webhook_post_duration_seconds_count {cumulative}"
    );
    out
}
