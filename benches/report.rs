//! Printing audit-operations.json samples, in MB/s of event lines on one
//! core: apicov's one-pass transcoder against parsing each line into
//! serde_json values and printing those, on the same generated lines.
#![allow(missing_docs)] // criterion_group! defines an undocumented `pub fn`

use std::time::Duration;

use apicov_gen::Level;
use apicov_report::report::python_json::{print_sample, print_sample_via_serde};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};

#[path = "common.rs"]
mod common;

fn samples(c: &mut Criterion) {
    let catalogue = common::catalogue();
    let mut group = c.benchmark_group("samples");
    group
        .measurement_time(Duration::from_secs(3))
        .sample_size(10);
    for (name, level) in [
        ("metadata", Level::Metadata),
        ("request_response", Level::RequestResponse),
    ] {
        // About what a 200 MB run prints: ~5,000 samples.
        let log = common::log_at(&catalogue, 6 << 20, level);
        let lines: Vec<&[u8]> = log
            .split(|&b| b == b'\n')
            .filter(|l| !l.is_empty())
            .collect();
        group.throughput(Throughput::Bytes(log.len() as u64));
        let mut out = Vec::with_capacity(log.len() * 2);
        group.bench_function(format!("transcoder_{name}"), |b| {
            b.iter(|| {
                out.clear();
                lines.iter().for_each(|l| print_sample(l, &mut out));
                out.len()
            })
        });
        group.bench_function(format!("serde_json_{name}"), |b| {
            b.iter(|| {
                out.clear();
                lines
                    .iter()
                    .for_each(|l| print_sample_via_serde(l, &mut out));
                out.len()
            })
        });
    }
    group.finish();
}

criterion_group!(benches, samples);
criterion_main!(benches);
