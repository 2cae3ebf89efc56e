//! Route-matching strategies side by side on the same requests, for each
//! real spec (1.33–1.36): build time and time per lookup of the segment
//! trie, the regex-automata lazy DFA, the linear scan and the Aho-Corasick
//! literal prefilter (DFA and contiguous-NFA searches), on two request
//! mixes: a Metadata-level conformance log (6% of requests outside the spec)
//! and a CRD-heavy one (35%: custom resources, aggregated APIs).
#![allow(missing_docs)] // criterion_group! defines an undocumented `pub fn`

use std::time::Duration;

use apicov_core::event::{self, Validation};
use apicov_core::routing::AutomatonKind;
use apicov_core::routing::LiteralPrefilter;
use apicov_core::routing::{AnyMatcher, PathMatcher, Route, Router, Strategy, WatchCredit};
use apicov_core::spec::Catalogue;
use apicov_gen::{Level, Shape};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};

#[path = "common.rs"]
mod common;

/// Requests (verb, requestURI) of the first 4,000 events of a generated log.
fn requests(catalogue: &Catalogue, shape: Shape) -> Vec<(Vec<u8>, Vec<u8>)> {
    common::shaped(catalogue, 4 << 20, Level::Metadata, shape)
        .split(|&b| b == b'\n')
        .filter_map(|l| event::extract(l, Validation::Full, false).ok())
        .map(|f| {
            (
                f.verb.unwrap().decode().into_owned(),
                f.request_uri.unwrap().decode().into_owned(),
            )
        })
        .take(4000)
        .collect()
}

/// The strategies behind `--matcher`, by bench name.
const STRATEGIES: [(&str, Strategy); 4] = [
    ("trie", Strategy::Trie),
    ("regex_lazy_dfa", Strategy::Regex),
    ("linear", Strategy::Linear),
    ("prefilter_ac_dfa", Strategy::Prefilter),
];

/// Every strategy, and the prefilter with Aho-Corasick's contiguous NFA.
fn matchers(catalogue: &Catalogue) -> Vec<(&'static str, Box<dyn PathMatcher>)> {
    let mut out: Vec<(&'static str, Box<dyn PathMatcher>)> = STRATEGIES
        .iter()
        .map(|&(name, strategy)| {
            let m: Box<dyn PathMatcher> = Box::new(AnyMatcher::build(strategy, catalogue).unwrap());
            (name, m)
        })
        .collect();
    out.push((
        "prefilter_ac_nfa",
        Box::new(
            LiteralPrefilter::with_kind(&Route::all(catalogue), AutomatonKind::ContiguousNfa)
                .unwrap(),
        ),
    ));
    out
}

struct Boxed(Box<dyn PathMatcher>);

impl PathMatcher for Boxed {
    fn lookup(
        &self,
        method: apicov_core::spec::Method,
        path: &[u8],
    ) -> Option<apicov_core::spec::OpId> {
        self.0.lookup(method, path)
    }
}

fn routes(c: &mut Criterion) {
    let specs = common::specs();

    let mut build = c.benchmark_group("route_build");
    build
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .sample_size(10);
    for (version, catalogue) in &specs {
        let routes = Route::all(catalogue);
        for (name, strategy) in STRATEGIES {
            build.bench_function(BenchmarkId::new(name, version), |b| {
                b.iter(|| AnyMatcher::build(strategy, catalogue).unwrap())
            });
        }
        build.bench_function(BenchmarkId::new("prefilter_ac_nfa", version), |b| {
            b.iter(|| LiteralPrefilter::with_kind(&routes, AutomatonKind::ContiguousNfa).unwrap())
        });
    }
    build.finish();

    for (mix, shape) in [("metadata", Shape::Default), ("crd_heavy", Shape::CrdHeavy)] {
        let mut lookup = c.benchmark_group(format!("route_lookup_{mix}"));
        lookup
            .warm_up_time(Duration::from_millis(500))
            .measurement_time(Duration::from_secs(2))
            .sample_size(10);
        for (version, catalogue) in &specs {
            let requests = requests(catalogue, shape);
            lookup.throughput(Throughput::Elements(requests.len() as u64));
            let mut answers = None;
            for (name, matcher) in matchers(catalogue) {
                let router =
                    Router::with_matcher(catalogue, Boxed(matcher), WatchCredit::Deprecated);
                // Every strategy must give the same answers on the mix.
                let got: Vec<_> = requests.iter().map(|(v, u)| router.route(v, u)).collect();
                assert_eq!(answers.get_or_insert_with(|| got.clone()), &got, "{name}");
                lookup.bench_function(BenchmarkId::new(name, version), |b| {
                    b.iter(|| {
                        requests
                            .iter()
                            .filter(|(verb, uri)| router.route(verb, uri).is_some())
                            .count()
                    })
                });
            }
        }
        lookup.finish();
    }
}

criterion_group!(benches, routes);
criterion_main!(benches);
