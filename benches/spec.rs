//! The fixed costs of a run, per real spec: the catalogue parsed
//! (`Catalogue::from_json`) or read back from the compiled-catalogue cache,
//! serde_json skipping the whole document (the floor of any parse that
//! validates the JSON), the tracking lists (parsed or read back) and the
//! router build.
#![allow(missing_docs)] // criterion_group! defines an undocumented `pub fn`

use std::time::Duration;

use apicov_core::lists::EndpointList;
use apicov_core::routing::{AnyMatcher, Strategy};
use apicov_core::spec::Catalogue;
use apicov_fetch::source::Document;
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};

/// (name, path) of the four real specs, or the bundled mini spec on a fresh
/// clone without ../shared.
fn specs() -> Vec<(String, String)> {
    let root = env!("CARGO_MANIFEST_DIR");
    let real: Vec<(String, String)> = ["1.33", "1.34", "1.35", "1.36"]
        .iter()
        .map(|v| {
            (
                v.to_string(),
                format!("{root}/../shared/k8s/swagger-v{v}.json"),
            )
        })
        .filter(|(_, p)| std::path::Path::new(p).exists())
        .collect();
    if real.is_empty() {
        vec![("mini".into(), format!("{root}/testdata/swagger-mini.json"))]
    } else {
        real
    }
}

fn spec(c: &mut Criterion) {
    let mut group = c.benchmark_group("spec");
    group
        .measurement_time(Duration::from_secs(2))
        .warm_up_time(Duration::from_millis(500))
        .sample_size(20);
    let cache = tempfile::tempdir().unwrap();
    for (name, path) in specs() {
        let bytes = std::fs::read(&path).unwrap();
        group.bench_function(BenchmarkId::new("from_json", &name), |b| {
            b.iter(|| Catalogue::from_json(&bytes, &path).unwrap())
        });
        group.bench_function(BenchmarkId::new("serde_skip_all", &name), |b| {
            b.iter(|| serde_json::from_slice::<serde::de::IgnoredAny>(&bytes).unwrap())
        });
        apicov_fetch::catalogue_cache::load_in(cache.path(), &bytes, &path).unwrap();
        group.bench_function(BenchmarkId::new("cache_hit", &name), |b| {
            b.iter(|| apicov_fetch::catalogue_cache::load_in(cache.path(), &bytes, &path).unwrap())
        });
        let catalogue = Catalogue::from_json(&bytes, &path).unwrap();
        group.bench_function(BenchmarkId::new("router_trie", &name), |b| {
            b.iter(|| AnyMatcher::build(Strategy::Trie, &catalogue).unwrap())
        });
    }
    let lists = format!("{}/../shared/k8s", env!("CARGO_MANIFEST_DIR"));
    for file in [
        "ineligible_endpoints.yaml",
        "pending_eligible_endpoints.yaml",
    ] {
        let Ok(bytes) = std::fs::read(format!("{lists}/{file}")) else {
            continue;
        };
        let doc = Document::from_bytes(file, bytes);
        group.bench_function(BenchmarkId::new("list", file), |b| {
            b.iter(|| EndpointList::parse(doc.bytes().unwrap(), &doc.name).unwrap())
        });
        apicov_fetch::catalogue_cache::load_list_in(cache.path(), &doc).unwrap();
        group.bench_function(BenchmarkId::new("list_cache_hit", file), |b| {
            b.iter(|| apicov_fetch::catalogue_cache::load_list_in(cache.path(), &doc).unwrap())
        });
    }
    group.finish();
}

criterion_group!(benches, spec);
criterion_main!(benches);
