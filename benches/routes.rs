//! Route-matching strategies side by side on the same requests: build time
//! and time per lookup (segment trie, regex-automata DFA, linear scan).

use std::time::Duration;

use apicov_core::event::{self, Validation};
use apicov_core::routes::{AnyMatcher, Router, Strategy, WatchCredit};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};

#[path = "common.rs"]
mod common;

fn routes(c: &mut Criterion) {
    let catalogue = common::catalogue();
    let log = common::log(&catalogue, 4 << 20);
    let requests: Vec<(Vec<u8>, Vec<u8>)> = log
        .split(|&b| b == b'\n')
        .filter_map(|l| event::extract(l, Validation::Full, false).ok())
        .map(|f| {
            (
                f.verb.unwrap().decode().into_owned(),
                f.request_uri.unwrap().decode().into_owned(),
            )
        })
        .take(4000)
        .collect();

    let mut build = c.benchmark_group("route_build");
    build
        .measurement_time(Duration::from_secs(3))
        .sample_size(10);
    for strategy in [Strategy::Trie, Strategy::Regex, Strategy::Linear] {
        build.bench_function(BenchmarkId::from_parameter(format!("{strategy:?}")), |b| {
            b.iter(|| AnyMatcher::build(strategy, &catalogue).unwrap())
        });
    }
    build.finish();

    let mut lookup = c.benchmark_group("route_lookup");
    lookup
        .measurement_time(Duration::from_secs(3))
        .sample_size(10);
    lookup.throughput(Throughput::Elements(requests.len() as u64));
    for strategy in [Strategy::Trie, Strategy::Regex, Strategy::Linear] {
        let router = Router::with_matcher(
            AnyMatcher::build(strategy, &catalogue).unwrap(),
            WatchCredit::Deprecated,
        );
        lookup.bench_function(BenchmarkId::from_parameter(format!("{strategy:?}")), |b| {
            b.iter(|| {
                requests
                    .iter()
                    .filter(|(verb, uri)| router.route(verb, uri).is_some())
                    .count()
            })
        });
    }
    lookup.finish();
}

criterion_group!(benches, routes);
criterion_main!(benches);
