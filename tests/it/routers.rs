//! The ecosystem's routers (benches/ecosystem.rs) against apicov's trie on
//! the real specs and the bench's request sets: how many templates each
//! takes and how many requests it answers as the trie does, pinned, so a
//! router upgrade that changes answers shows here (docs/routers.md).

use crate::common;
#[path = "../../benches/ecosystem.rs"]
mod ecosystem;

use apicov_core::routing::{Route, Router, WatchCredit};
use apicov_core::spec::Catalogue;

use ecosystem::{Agreement, Dyn};

/// (router, templates refused, then per request set (metadata, crd_heavy,
/// edge): agree, empty segment, empty tail, other), per spec.
type Expected = (&'static str, usize, [(usize, usize, usize, usize); 3]);

fn expected(version: &str) -> Vec<Expected> {
    // Every router takes every converted template and answers every
    // generated request as the trie does; they differ on the edge set only.
    let (metadata, crd_heavy) = match version {
        "1.33" => (3398, 3401),
        "1.34" => (3345, 3343),
        "1.35" => (3372, 3377),
        "1.36" => (3365, 3370),
        other => panic!("no figures for {other}"),
    };
    let mixes = |edge| [(metadata, 0, 0, 0), (crd_heavy, 0, 0, 0), edge];
    vec![
        ("matchit_0.9", 0, mixes((16, 0, 0, 0))),
        // Parameters match empty segments (`/api/v1/namespaces//pods`).
        ("matchit_0.8", 0, mixes((13, 3, 0, 0))),
        ("wayfind", 0, mixes((16, 0, 0, 0))),
        // Parameters match empty segments.
        ("path_tree", 0, mixes((13, 3, 0, 0))),
        ("route_recognizer", 0, mixes((16, 0, 0, 0))),
        // `{rest}*` takes an empty tail (`…/proxy/`).
        ("actix_router", 0, mixes((14, 0, 2, 0))),
        ("regex_set", 0, mixes((16, 0, 0, 0))),
    ]
}

#[test]
fn ecosystem_routers_agree_with_the_trie_as_recorded() {
    // One thread a spec: actix-router's regex list is slow in debug (≈3 s
    // a spec), and the test should stay well under 20 s.
    let specs = common::real_specs();
    let tables: Vec<String> = std::thread::scope(|scope| {
        let workers: Vec<_> = specs
            .iter()
            .map(|(version, path)| scope.spawn(move || spec_table(version, path)))
            .collect();
        workers.into_iter().map(|w| w.join().unwrap()).collect()
    });
    let table = tables.concat();
    assert!(!table.contains("differs"), "\n{table}");
}

/// The figures of one spec, in `expected`'s syntax, with a `differs` line
/// when they are not the expected ones.
fn spec_table(version: &str, path: &std::path::Path) -> String {
    let mut table = String::new();
    let catalogue = Catalogue::from_json(&std::fs::read(path).unwrap(), "spec").unwrap();
    let routes = Route::all(&catalogue);
    let trie = Router::new(&catalogue, WatchCredit::Deprecated);
    let mut request_sets: Vec<_> = ecosystem::MIXES
        .iter()
        .map(|&(_, shape)| ecosystem::requests(&catalogue, shape))
        .collect();
    request_sets.push(ecosystem::edge_requests());
    let mut got: Vec<Expected> = Vec::new();
    for name in ecosystem::ROUTERS {
        let built = ecosystem::build(name, &catalogue);
        let refused = built.rejected.len();
        let router = Router::with_matcher(&catalogue, Dyn(built.matcher), WatchCredit::Deprecated);
        let per_mix = [0, 1, 2].map(|i| {
            let a: Agreement = ecosystem::agreement(&routes, &trie, &router, &request_sets[i]);
            for sample in &a.other_samples {
                table.push_str(&format!("        // {version} {name} other: {sample}\n"));
            }
            (a.agree, a.empty_segment, a.empty_tail, a.other)
        });
        table.push_str(&format!(
            "        (\"{name}\", {refused}, {per_mix:?}),  // {version}\n"
        ));
        got.push((name, refused, per_mix));
    }
    if got != expected(version) {
        table.push_str(&format!("        // {version} differs\n"));
    }
    table
}
