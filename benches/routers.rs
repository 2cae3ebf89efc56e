//! apicov's matchers beside the ecosystem's routers (issue 33), on the real
//! specs 1.33–1.36 and the request sets of `benches/routes.rs`: templates
//! accepted, agreement with the trie, ns per lookup (median and min of
//! rounds that alternate the routers in one process), build time and bytes
//! allocated by a build. Method and results: docs/routers.md.
//!
//! A custom harness, bounded in time: `cargo bench --bench routers`
//! (`ROUNDS=n` changes the 15 timing rounds).

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use std::time::{Duration, Instant};

use apicov_core::routing::{AnyMatcher, PathMatcher, Route, Router, Strategy, WatchCredit};
use apicov_core::spec::Catalogue;

#[path = "common.rs"]
mod common;
#[path = "ecosystem.rs"]
mod ecosystem;

use ecosystem::{Dyn, ExactTable};

/// Counts the bytes allocated (not freed) since start: the memory a build
/// takes is `ALLOCATED` after minus before, less what it freed.
struct Counting;

static ALLOCATED: AtomicUsize = AtomicUsize::new(0);
static FREED: AtomicUsize = AtomicUsize::new(0);

// SAFETY: forwards to the system allocator, only counting.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATED.fetch_add(layout.size(), Relaxed);
        // SAFETY: the caller upholds `GlobalAlloc`'s contract, which is
        // the system allocator's.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        FREED.fetch_add(layout.size(), Relaxed);
        // SAFETY: the caller upholds `GlobalAlloc`'s contract, which is
        // the system allocator's.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATED.fetch_add(new_size, Relaxed);
        FREED.fetch_add(layout.size(), Relaxed);
        // SAFETY: the caller upholds `GlobalAlloc`'s contract, which is
        // the system allocator's.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Net bytes still allocated: a build's retained memory is the difference
/// across it, with the built value alive.
fn live() -> usize {
    ALLOCATED.load(Relaxed) - FREED.load(Relaxed)
}

/// apicov's matchers, then the ecosystem's routers, by name.
fn contenders() -> Vec<&'static str> {
    let ours = ["trie", "regex_lazy_dfa", "prefilter_ac_dfa", "linear"];
    ours.into_iter().chain(ecosystem::ROUTERS).collect()
}

/// Builds the matcher `name`: (matcher, templates accepted, refused).
fn build(name: &str, catalogue: &Catalogue) -> (Box<dyn PathMatcher>, usize, usize) {
    let strategy = match name {
        "trie" => Strategy::Trie,
        "regex_lazy_dfa" => Strategy::Regex,
        "linear" => Strategy::Linear,
        "prefilter_ac_dfa" => Strategy::Prefilter,
        _ => {
            let name = ecosystem::ROUTERS.into_iter().find(|r| *r == name).unwrap();
            let built = ecosystem::build(name, catalogue);
            return (built.matcher, built.accepted, built.rejected.len());
        }
    };
    let matcher = AnyMatcher::build(strategy, catalogue).unwrap();
    (Box::new(matcher), catalogue.len(), 0)
}

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(f64::total_cmp);
    xs[xs.len() / 2]
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` runs it once.
    let quick = !std::env::args().any(|a| a == "--bench");
    let rounds: usize = std::env::var("ROUNDS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(if quick { 1 } else { 15 });
    println!("| spec | router | templates accepted / refused | build ms (median of 5) | build MB retained | mix | agree / requests | empty segment | empty tail | other | ns/lookup median | ns/lookup min |");
    println!("|---|---|---|---|---|---|---|---|---|---|---|---|");
    for (version, catalogue) in common::specs() {
        let names = contenders();
        let routes = Route::all(&catalogue);
        // Build cost, one router at a time.
        let mut built = Vec::new();
        for name in &names {
            let mut times = Vec::new();
            for _ in 0..if quick { 1 } else { 5 } {
                let t = Instant::now();
                let b = build(name, &catalogue);
                times.push(t.elapsed().as_secs_f64() * 1e3);
                drop(b);
            }
            let before = live();
            let (matcher, accepted, refused) = build(name, &catalogue);
            let bytes = live().saturating_sub(before);
            let router = Router::with_matcher(&catalogue, Dyn(matcher), WatchCredit::Deprecated);
            built.push((*name, router, accepted, refused, median(times), bytes));
        }
        let trie = Router::new(&catalogue, WatchCredit::Deprecated);
        for (mix, shape) in ecosystem::MIXES {
            let requests = ecosystem::requests(&catalogue, shape);
            let floor = Router::with_matcher(
                &catalogue,
                ExactTable::precompute(
                    &catalogue,
                    &apicov_core::routing::SegmentTrie::new(&routes),
                    &requests,
                ),
                WatchCredit::Deprecated,
            );
            let mut ns: Vec<Vec<f64>> = vec![Vec::new(); built.len() + 1];
            let pass = |router: &dyn Fn(&[u8], &[u8]) -> bool| {
                let t = Instant::now();
                let hits = requests.iter().filter(|(v, u)| router(v, u)).count();
                std::hint::black_box(hits);
                t.elapsed()
            };
            let per = |d: Duration| d.as_secs_f64() * 1e9 / requests.len() as f64;
            for round in 0..rounds {
                // Rotate the order so no router always runs first.
                for k in 0..=built.len() {
                    let i = (k + round) % (built.len() + 1);
                    let d = if i == built.len() {
                        pass(&|v, u| floor.route(v, u).is_some())
                    } else {
                        let r = &built[i].1;
                        pass(&|v, u| r.route(v, u).is_some())
                    };
                    ns[i].push(per(d));
                }
            }
            for (i, (name, router, accepted, refused, ms, bytes)) in built.iter().enumerate() {
                let a = ecosystem::agreement(&routes, &trie, router, &requests);
                let min = ns[i].iter().copied().fold(f64::INFINITY, f64::min);
                println!(
                    "| {version} | {name} | {accepted} / {refused} | {ms:.2} | {:.2} | {mix} | {} / {} | {} | {} | {} | {:.0} | {:.0} |",
                    *bytes as f64 / 1e6,
                    a.agree,
                    requests.len(),
                    a.empty_segment,
                    a.empty_tail,
                    a.other,
                    median(ns[i].clone()),
                    min,
                );
                for s in &a.other_samples {
                    eprintln!("  {version} {mix} {name} other: {s}");
                }
            }
            let a = ecosystem::agreement(&routes, &trie, &floor, &requests);
            let i = built.len();
            let min = ns[i].iter().copied().fold(f64::INFINITY, f64::min);
            println!(
                "| {version} | floor (FxHashMap of the set's exact paths) | – | – | – | {mix} | {} / {} | – | – | – | {:.0} | {:.0} |",
                a.agree,
                requests.len(),
                median(ns[i].clone()),
                min
            );
        }
    }
}
