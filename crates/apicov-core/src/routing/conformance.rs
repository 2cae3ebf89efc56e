//! A conformance check for [`PathMatcher`]s written elsewhere: does one
//! answer as the segment trie does on a catalogue's paths?
//!
//! The method is the one `tests/routers.rs` applies to the ecosystem's
//! routers: route the same requests through the matcher and through the
//! trie and compare the answers. The requests here come from the catalogue
//! itself, so no log is needed: every template filled in (parameters with
//! plain values and with literals that compete with the template's own
//! siblings), and the edges of the matching rules, where routers are known
//! to differ: an empty parameter segment, an empty catch-all tail, one
//! segment more or fewer, and every other method on each path.

use std::collections::HashSet;
use std::fmt;

use super::matcher::PathMatcher;
use super::template::{Route, Segment};
use super::trie::SegmentTrie;
use crate::spec::{Catalogue, Method};

/// Values a probe puts in parameter segments: a plain name, and literals
/// that Kubernetes templates also hold at parameter positions, so a
/// matcher that prefers a parameter over a literal shows.
const FILLERS: [&str; 4] = ["x", "namespaces", "status", "watch"];

/// What a probe path exercises: the rule a disagreement points at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Probe {
    /// The template with its parameters filled in, catch-alls with one or
    /// two segments.
    Filled,
    /// A parameter left empty (`/api/v1/namespaces//pods`): parameters
    /// match non-empty segments only.
    EmptySegment,
    /// A catch-all with nothing after it (`…/proxy` against
    /// `…/proxy/{path}`): a catch-all takes a non-empty rest.
    EmptyTail,
    /// The filled template and one more segment.
    Longer,
    /// The filled template without its last segment.
    Shorter,
}

/// The first request on which a matcher's answer differs from the trie's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Disagreement {
    /// The request's method.
    pub method: Method,
    /// The request's path, as a [`PathMatcher`] receives it.
    pub path: String,
    /// The kind of request.
    pub probe: Probe,
    /// The trie's answer: an operationId, or None for no operation.
    pub expected: Option<String>,
    /// The checked matcher's answer.
    pub got: Option<String>,
}

impl fmt::Display for Disagreement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = |op: &Option<String>| op.clone().unwrap_or_else(|| "no operation".into());
        write!(
            f,
            "{} {} ({:?}): the matcher answers {}, the trie {}",
            self.method.as_str(),
            self.path,
            self.probe,
            name(&self.got),
            name(&self.expected)
        )
    }
}

impl std::error::Error for Disagreement {}

/// Checks that `matcher` answers as the built-in segment trie does on every
/// probe request of `catalogue` (see the module documentation), with every
/// method. The first difference is the error.
pub fn check_matcher(
    catalogue: &Catalogue,
    matcher: &(impl PathMatcher + ?Sized),
) -> Result<(), Disagreement> {
    let routes = Route::all(catalogue);
    let trie = SegmentTrie::new(&routes);
    let mut seen = HashSet::new();
    for (path, probe) in routes.iter().flat_map(probes) {
        if !seen.insert(path.clone()) {
            continue;
        }
        for method in Method::ALL {
            let expected = trie.lookup(method, path.as_bytes());
            let got = matcher.lookup(method, path.as_bytes());
            if got != expected {
                let name = |op: Option<_>| op.map(|op| catalogue.get(op).id.to_string());
                return Err(Disagreement {
                    method,
                    path,
                    probe,
                    expected: name(expected),
                    got: name(got),
                });
            }
        }
    }
    Ok(())
}

/// The probe paths of one template, as a matcher receives them (no
/// trailing slash).
fn probes(route: &Route) -> Vec<(String, Probe)> {
    let mut out = Vec::new();
    let fill = |param: &str, tail: &str| {
        let mut path = String::new();
        for segment in &route.segments {
            path.push('/');
            match segment {
                Segment::Literal(lit) => path.push_str(&String::from_utf8_lossy(lit)),
                Segment::Param => path.push_str(param),
                Segment::CatchAll => path.push_str(tail),
            }
        }
        if path.is_empty() {
            path.push('/');
        }
        path
    };
    for filler in FILLERS {
        out.push((fill(filler, filler), Probe::Filled));
    }
    let filled = fill("x", "a/b");
    out.push((filled.clone(), Probe::Filled));
    out.push((format!("{filled}/more"), Probe::Longer));
    if let Some(cut) = filled.rfind('/').filter(|&cut| cut > 0) {
        out.push((filled[..cut].to_string(), Probe::Shorter));
    }
    // Each parameter empty in turn, the others filled.
    for (i, _) in route
        .segments
        .iter()
        .enumerate()
        .filter(|(_, s)| **s == Segment::Param)
    {
        let mut path = String::new();
        for (j, segment) in route.segments.iter().enumerate() {
            path.push('/');
            match segment {
                Segment::Literal(lit) => path.push_str(&String::from_utf8_lossy(lit)),
                Segment::Param if i == j => {}
                Segment::Param => path.push('x'),
                Segment::CatchAll => path.push('a'),
            }
        }
        out.push((path, Probe::EmptySegment));
    }
    if matches!(route.segments.last(), Some(Segment::CatchAll)) {
        let head = fill("x", "");
        // `…/proxy/` reaches a matcher as `…/proxy`; `…/proxy//` keeps one.
        out.push((head[..head.len() - 1].to_string(), Probe::EmptyTail));
        out.push((head, Probe::EmptyTail));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::OpId;

    fn catalogue() -> Catalogue {
        let spec = br#"{"info": {"version": "v1.36.0"}, "paths": {
          "/api/v1/namespaces/{namespace}/pods": {
            "get": {"operationId": "listCoreV1NamespacedPod"}},
          "/api/v1/namespaces/{namespace}/pods/{name}": {
            "get": {"operationId": "readCoreV1NamespacedPod"}},
          "/api/v1/namespaces/{namespace}/pods/{name}/status": {
            "get": {"operationId": "readCoreV1NamespacedPodStatus"}},
          "/api/v1/nodes/{name}/proxy/{path}": {
            "get": {"operationId": "connectCoreV1GetNodeProxyWithPath"}}}}"#;
        Catalogue::from_json(spec, "spec").unwrap()
    }

    /// The trie's rules but a catch-all that takes an empty tail too.
    struct EmptyTails(SegmentTrie, Vec<Route>);

    impl PathMatcher for EmptyTails {
        fn lookup(&self, method: Method, path: &[u8]) -> Option<OpId> {
            self.0.lookup(method, path).or_else(|| {
                let tail = format!("{}/x", String::from_utf8_lossy(path));
                self.1
                    .iter()
                    .filter(|r| matches!(r.segments.last(), Some(Segment::CatchAll)))
                    .find(|r| r.matches(method, tail.as_bytes()))
                    .map(|r| r.op)
            })
        }
    }

    #[test]
    fn the_trie_conforms_and_an_empty_tail_is_caught() {
        let catalogue = catalogue();
        let routes = Route::all(&catalogue);
        assert_eq!(
            check_matcher(&catalogue, &SegmentTrie::new(&routes)),
            Ok(())
        );
        let wrong = EmptyTails(SegmentTrie::new(&routes), routes.clone());
        let found = check_matcher(&catalogue, &wrong).unwrap_err();
        assert_eq!(
            found.to_string(),
            "GET /api/v1/nodes/x/proxy (EmptyTail): the matcher answers \
             connectCoreV1GetNodeProxyWithPath, the trie no operation"
        );
    }

    #[test]
    fn probes_cover_the_rules_edges() {
        let catalogue = catalogue();
        let routes = Route::all(&catalogue);
        let proxy = routes
            .iter()
            .find(|r| r.segments.last() == Some(&Segment::CatchAll))
            .unwrap();
        let paths: Vec<String> = probes(proxy)
            .into_iter()
            .map(|(path, probe)| format!("{probe:?} {path}"))
            .collect();
        assert_eq!(
            paths,
            [
                "Filled /api/v1/nodes/x/proxy/x",
                "Filled /api/v1/nodes/namespaces/proxy/namespaces",
                "Filled /api/v1/nodes/status/proxy/status",
                "Filled /api/v1/nodes/watch/proxy/watch",
                "Filled /api/v1/nodes/x/proxy/a/b",
                "Longer /api/v1/nodes/x/proxy/a/b/more",
                "Shorter /api/v1/nodes/x/proxy/a",
                "EmptySegment /api/v1/nodes//proxy/a",
                "EmptyTail /api/v1/nodes/x/proxy",
                "EmptyTail /api/v1/nodes/x/proxy/",
            ]
        );
    }
}
