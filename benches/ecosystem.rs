//! The ecosystem's routers (matchit 0.8 and 0.9, wayfind, path-tree,
//! route-recognizer, actix-router, `regex::bytes::RegexSet`) behind apicov's
//! [`PathMatcher`], so each answers through the same [`Router`] (verb → method,
//! query, watch rules) as apicov's own matchers. Shared by
//! `benches/routers.rs` (timings, build cost) and `tests/it/routers.rs` (the
//! agreement figures, pinned), so both use one conversion.
//!
//! Conversion: `{name}` parameters become positional names (`p0`, `p1`, …) in
//! each router's syntax, so templates of one shape with different parameter
//! names (`{namespace}` vs `{name}`) are one route instead of a conflict; the
//! trailing `{path}`/`{logpath}` becomes the router's catch-all. The routers
//! know nothing of methods: each converted template holds one operation per
//! method, filled in apicov's precedence order (the first route wins).
#![allow(dead_code)] // the test uses part of it

use apicov_core::event::{self, Validation};
use apicov_core::routing::{
    split_uri, verb_info, PathMatcher, Route, Router, Segment, WatchCredit,
};
use apicov_core::spec::{Catalogue, Method, OpId};
use apicov_gen::{generate, GenOptions, Level, Shape};

/// One operation per method, indexed by [`Method::index`].
type PerMethod = [Option<OpId>; 7];

/// The bench's request sets, by name: a Metadata-level conformance log and
/// a CRD-heavy one.
pub const MIXES: [(&str, Shape); 2] =
    [("metadata", Shape::Default), ("crd_heavy", Shape::CrdHeavy)];

/// Requests (verb, requestURI) of the first 4,000 events of a generated
/// 4 MiB log (the same sets as `benches/routes.rs`).
pub fn requests(catalogue: &Catalogue, shape: Shape) -> Vec<(Vec<u8>, Vec<u8>)> {
    let mut log = Vec::new();
    let options = GenOptions {
        shape,
        ..GenOptions::new(42, 4 << 20, Level::Metadata)
    };
    generate(catalogue, &options, &mut log);
    log.split(|&b| b == b'\n')
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

/// Requests on the edges of the mapping rules, where routers are known to
/// differ: empty segments, empty catch-all tails, a root and doubled slashes.
/// The generated mixes hold none of them.
pub const EDGE_REQUESTS: [(&str, &str); 16] = [
    ("list", "/api/v1/namespaces//pods"),
    ("get", "/api/v1/namespaces/default/pods//log"),
    ("list", "/apis/apps/v1/namespaces//deployments"),
    ("get", "/api/v1/namespaces/default/pods/"),
    ("get", "//api/v1/pods"),
    ("list", "/api//pods"),
    ("get", "/api/v1/namespaces/default/pods/web-0/proxy/"),
    ("get", "/api/v1/namespaces/default/pods/web-0/proxy//"),
    (
        "create",
        "/api/v1/namespaces/default/services/web:80/proxy/",
    ),
    ("get", "/api/v1/nodes/node-1/proxy/"),
    ("get", "/api/v1/nodes/node-1/proxy/metrics"),
    ("get", "/logs/"),
    ("get", "/logs//"),
    ("get", "/logs/kube-apiserver.log"),
    ("get", "/"),
    ("get", "/api/v1/namespaces/default/pods/web-0/proxy/a//b"),
];

/// [`EDGE_REQUESTS`] as a request set.
pub fn edge_requests() -> Vec<(Vec<u8>, Vec<u8>)> {
    EDGE_REQUESTS
        .iter()
        .map(|(v, u)| (v.as_bytes().to_vec(), u.as_bytes().to_vec()))
        .collect()
}

/// A template in one router's syntax: `param(i)` for the i-th parameter,
/// `catch_all` for a trailing `{path}`.
fn convert(segments: &[Segment], param: impl Fn(usize) -> String, catch_all: &str) -> String {
    if segments.is_empty() {
        return "/".into();
    }
    let mut out = String::new();
    for (i, segment) in segments.iter().enumerate() {
        out.push('/');
        match segment {
            Segment::Literal(lit) => {
                out.push_str(std::str::from_utf8(lit).expect("UTF-8 template"))
            }
            Segment::Param => out.push_str(&param(i)),
            Segment::CatchAll => out.push_str(catch_all),
        }
    }
    out
}

/// Converted templates in first-appearance (precedence) order, each with
/// its operation per method.
fn grouped(routes: &[Route], syntax: impl Fn(&[Segment]) -> String) -> Vec<(String, PerMethod)> {
    let mut out: Vec<(String, PerMethod)> = Vec::new();
    let mut index = std::collections::HashMap::new();
    for route in routes {
        let template = syntax(&route.segments);
        let at = *index.entry(template.clone()).or_insert_with(|| {
            out.push((template, [None; 7]));
            out.len() - 1
        });
        out[at].1[route.method.index()].get_or_insert(route.op);
    }
    out
}

/// A router built from a catalogue: the matcher and what its builder said.
pub struct Built {
    /// The router's name in tables.
    pub name: &'static str,
    /// The router behind apicov's matcher trait.
    pub matcher: Box<dyn PathMatcher>,
    /// Converted templates the router took.
    pub accepted: usize,
    /// Converted templates it refused, with its error.
    pub rejected: Vec<(String, String)>,
}

/// The routers of the comparison, by name, each built from `catalogue`.
pub const ROUTERS: [&str; 7] = [
    "matchit_0.9",
    "matchit_0.8",
    "wayfind",
    "path_tree",
    "route_recognizer",
    "actix_router",
    "regex_set",
];

/// Builds the router `name` (one of [`ROUTERS`]) over every template.
pub fn build(name: &'static str, catalogue: &Catalogue) -> Built {
    let routes = Route::all(catalogue);
    let mut rejected = Vec::new();
    let mut accepted = 0;
    let mut note = |template: &str, result: Result<(), String>| match result {
        Ok(()) => accepted += 1,
        Err(e) => rejected.push((template.to_string(), e)),
    };
    let braces = |s: &[Segment]| convert(s, |i| format!("{{p{i}}}"), "{*rest}");
    let colons = |s: &[Segment]| convert(s, |i| format!(":p{i}"), "*rest");
    let matcher: Box<dyn PathMatcher> = match name {
        "matchit_0.9" => {
            let mut router = matchit::Router::new();
            for (t, ops) in grouped(&routes, braces) {
                note(&t, router.insert(&t, ops).map_err(|e| e.to_string()));
            }
            Box::new(ByStr(move |p: &str| router.at(p).ok().map(|m| *m.value)))
        }
        "matchit_0.8" => {
            let mut router = matchit08::Router::new();
            for (t, ops) in grouped(&routes, braces) {
                note(&t, router.insert(&t, ops).map_err(|e| e.to_string()));
            }
            Box::new(ByStr(move |p: &str| router.at(p).ok().map(|m| *m.value)))
        }
        "wayfind" => {
            let mut builder = wayfind::RouterBuilder::new();
            let angles = |s: &[Segment]| convert(s, |i| format!("<p{i}>"), "<*rest>");
            for (t, ops) in grouped(&routes, angles) {
                note(&t, builder.insert(&t, ops).map_err(|e| e.to_string()));
            }
            let router = builder.build();
            Box::new(ByStr(move |p: &str| router.search(p).map(|m| *m.data())))
        }
        "path_tree" => {
            let mut router = path_tree::PathTree::new();
            // `:rest+`: one or more characters, slashes included.
            let plus = |s: &[Segment]| convert(s, |i| format!(":p{i}"), ":rest+");
            for (t, ops) in grouped(&routes, plus) {
                let _id = router.insert(&t, ops); // path-tree reports no conflicts
                note(&t, Ok(()));
            }
            Box::new(ByStr(move |p: &str| router.find(p).map(|(v, _)| *v)))
        }
        "route_recognizer" => {
            let mut router = route_recognizer::Router::new();
            for (t, ops) in grouped(&routes, colons) {
                router.add(&t, ops); // no conflict reporting either
                note(&t, Ok(()));
            }
            Box::new(ByStr(move |p: &str| {
                router.recognize(p).ok().map(|m| **m.handler())
            }))
        }
        "actix_router" => {
            // A list of regexes tried in insertion (precedence) order.
            let mut builder = actix_router::Router::<PerMethod>::build();
            let tail = |s: &[Segment]| convert(s, |i| format!("{{p{i}}}"), "{rest}*");
            for (t, ops) in grouped(&routes, tail) {
                builder.path(t.as_str(), ops);
                note(&t, Ok(()));
            }
            let router = builder.finish();
            Box::new(ByStr(move |p: &str| {
                router
                    .recognize(&mut actix_router::Path::new(p))
                    .map(|(v, _)| *v)
            }))
        }
        "regex_set" => {
            let set = RegexSetMatcher::new(&routes);
            accepted = routes.len();
            Box::new(set)
        }
        other => panic!("no router {other}"),
    };
    Built {
        name,
        matcher,
        accepted,
        rejected,
    }
}

/// A router that looks up `&str` paths and answers per-method operations.
struct ByStr<F>(F);

impl<F: Fn(&str) -> Option<PerMethod> + Send + Sync> PathMatcher for ByStr<F> {
    fn lookup(&self, method: Method, path: &[u8]) -> Option<OpId> {
        let path = std::str::from_utf8(path).ok()?;
        (self.0)(path)?[method.index()]
    }
}

/// One `regex::bytes::RegexSet` per method, a pattern per template in
/// precedence order: the lowest matching index is the answer.
pub struct RegexSetMatcher {
    sets: Vec<(regex::bytes::RegexSet, Vec<OpId>)>,
}

impl RegexSetMatcher {
    /// The sets for `routes`, one per method.
    pub fn new(routes: &[Route]) -> RegexSetMatcher {
        let sets = Method::ALL
            .iter()
            .map(|&method| {
                let mine: Vec<&Route> = routes.iter().filter(|r| r.method == method).collect();
                let patterns = mine.iter().map(|r| {
                    let lit = |s: &[u8]| regex::escape(std::str::from_utf8(s).unwrap());
                    let body: String = r
                        .segments
                        .iter()
                        .map(|s| match s {
                            Segment::Literal(l) => format!("/{}", lit(l)),
                            Segment::Param => "/[^/]+".into(),
                            Segment::CatchAll => "/.+".into(),
                        })
                        .collect();
                    format!("^(?s-u){}$", if body.is_empty() { "/" } else { &body })
                });
                let set = regex::bytes::RegexSet::new(patterns).expect("templates compile");
                (set, mine.iter().map(|r| r.op).collect())
            })
            .collect();
        RegexSetMatcher { sets }
    }
}

impl PathMatcher for RegexSetMatcher {
    fn lookup(&self, method: Method, path: &[u8]) -> Option<OpId> {
        let (set, ops) = &self.sets[method.index()];
        set.matches(path).iter().next().map(|i| ops[i])
    }
}

/// A lookup and its answer.
type Lookup = (Method, Box<[u8]>, Option<OpId>);

/// Records every (method, path) lookup a matcher gets, to precompute the
/// floor's table.
struct Recording<'a> {
    inner: &'a dyn PathMatcher,
    seen: &'a std::sync::Mutex<Vec<Lookup>>,
}

impl PathMatcher for Recording<'_> {
    fn lookup(&self, method: Method, path: &[u8]) -> Option<OpId> {
        let answer = self.inner.lookup(method, path);
        self.seen
            .lock()
            .unwrap()
            .push((method, path.into(), answer));
        answer
    }
}

/// The floor: the exact paths a request set looks up, with the trie's
/// answer per method, in an FxHashMap. It knows nothing beyond that set.
pub struct ExactTable(rustc_hash::FxHashMap<Box<[u8]>, PerMethod>);

impl ExactTable {
    /// The table of every lookup `reference` (built from `catalogue`) gets
    /// while routing `requests`.
    pub fn precompute(
        catalogue: &Catalogue,
        reference: &dyn PathMatcher,
        requests: &[(Vec<u8>, Vec<u8>)],
    ) -> ExactTable {
        let seen = std::sync::Mutex::new(Vec::new());
        let recording = Router::with_matcher(
            catalogue,
            Recording {
                inner: reference,
                seen: &seen,
            },
            WatchCredit::Deprecated,
        );
        for (verb, uri) in requests {
            recording.route(verb, uri);
        }
        let mut table = rustc_hash::FxHashMap::default();
        for (method, path, answer) in seen.into_inner().unwrap() {
            let slots: &mut PerMethod = table.entry(path).or_insert([None; 7]);
            slots[method.index()] = answer;
        }
        ExactTable(table)
    }
}

impl PathMatcher for ExactTable {
    fn lookup(&self, method: Method, path: &[u8]) -> Option<OpId> {
        self.0.get(path)?[method.index()]
    }
}

/// Why a router's answer differs from the trie's on one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Disagreement {
    /// The path has an empty segment (`/api/v1/namespaces//pods`): apicov's
    /// parameters match only non-empty segments.
    EmptySegment,
    /// The router's catch-all took an empty tail (`…/proxy` against
    /// `…/proxy/{path}`): apicov's catch-all needs a non-empty rest.
    EmptyTail,
    /// Anything else.
    Other,
}

/// Classifies a request on which `theirs` differs from the trie's answer.
pub fn classify(routes: &[Route], verb: &[u8], uri: &[u8], theirs: Option<OpId>) -> Disagreement {
    let (path, _) = split_uri(uri);
    if path.windows(2).any(|w| w == b"//") {
        return Disagreement::EmptySegment;
    }
    let method = verb_info(verb).map(|i| i.method);
    let empty_tail = theirs
        .and_then(|op| routes.iter().find(|r| r.op == op))
        .is_some_and(|r| {
            matches!(r.segments.last(), Some(Segment::CatchAll)) && {
                let head = Route {
                    segments: r.segments[..r.segments.len() - 1].to_vec(),
                    ..r.clone()
                };
                // `…/proxy/` (from `…/proxy//`) is an empty tail too.
                let bare = path.strip_suffix(b"/").unwrap_or(path);
                method.is_some_and(|m| head.matches(m, path) || head.matches(m, bare))
            }
        });
    if empty_tail {
        Disagreement::EmptyTail
    } else {
        Disagreement::Other
    }
}

/// Agreement of one router with the trie on one request set.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Agreement {
    /// Requests it answered as the trie did.
    pub agree: usize,
    /// Disagreements of class [`Disagreement::EmptySegment`].
    pub empty_segment: usize,
    /// Disagreements of class [`Disagreement::EmptyTail`].
    pub empty_tail: usize,
    /// Disagreements of class [`Disagreement::Other`].
    pub other: usize,
    /// Up to five requests of the `other` class, as `VERB uri`.
    pub other_samples: Vec<String>,
}

/// Compares `router` with the trie on `requests`.
pub fn agreement(
    routes: &[Route],
    trie: &Router<impl PathMatcher>,
    router: &Router<impl PathMatcher>,
    requests: &[(Vec<u8>, Vec<u8>)],
) -> Agreement {
    let mut out = Agreement::default();
    for (verb, uri) in requests {
        let theirs = router.route(verb, uri);
        if theirs == trie.route(verb, uri) {
            out.agree += 1;
            continue;
        }
        match classify(routes, verb, uri, theirs) {
            Disagreement::EmptySegment => out.empty_segment += 1,
            Disagreement::EmptyTail => out.empty_tail += 1,
            Disagreement::Other => {
                out.other += 1;
                if out.other_samples.len() < 5 {
                    out.other_samples.push(format!(
                        "{} {}",
                        String::from_utf8_lossy(verb),
                        String::from_utf8_lossy(uri)
                    ));
                }
            }
        }
    }
    out
}

/// A boxed matcher as a matcher (for `Router<Dyn>`).
pub struct Dyn(pub Box<dyn PathMatcher>);

impl PathMatcher for Dyn {
    fn lookup(&self, method: Method, path: &[u8]) -> Option<OpId> {
        self.0.lookup(method, path)
    }
}
