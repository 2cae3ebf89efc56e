//! The Kubernetes semantics over a [`PathMatcher`]: audit verb → method,
//! watch detection from the verb or the query string, crediting watches to
//! the deprecated `/watch/` operations or to the list operations.

use super::matcher::PathMatcher;
use super::template::Route;
use super::trie::SegmentTrie;
use crate::spec::{Catalogue, Method, OpId};

/// Strips the query string and one trailing slash (but keeps a lone `/`).
pub fn split_uri(uri: &[u8]) -> (&[u8], &[u8]) {
    let (path, query) = match memchr::memchr(b'?', uri) {
        Some(q) => (&uri[..q], &uri[q + 1..]),
        None => (uri, &b""[..]),
    };
    let path = match path.strip_suffix(b"/") {
        Some(p) if !p.is_empty() => p,
        _ => path,
    };
    (path, query)
}

/// Which operation a watch request credits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
pub enum WatchCredit {
    /// The deprecated `/watch/` operation where the spec has one
    /// (`watchCoreV1NamespacedPodList`), as the reference parser does.
    #[default]
    Deprecated,
    /// The list (or read) operation of the same path, as APIsnoop does.
    List,
}

impl WatchCredit {
    /// The flag's value (`deprecated` or `list`), as reports record it.
    pub fn as_str(self) -> &'static str {
        match self {
            WatchCredit::Deprecated => "deprecated",
            WatchCredit::List => "list",
        }
    }
}

/// What an audit verb says about the request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VerbInfo {
    /// The HTTP method the verb implies.
    pub method: Method,
    /// The verb itself says watch.
    pub watch: bool,
    /// get/list: a `watch` query parameter can turn it into a watch.
    pub may_watch: bool,
}

/// Maps an audit verb to its HTTP method. Resource requests carry Kubernetes
/// verbs; non-resource requests carry the lowercase HTTP method.
pub fn verb_info(verb: &[u8]) -> Option<VerbInfo> {
    let (method, watch, may_watch) = match verb {
        b"get" | b"list" => (Method::Get, false, true),
        b"watch" => (Method::Get, true, false),
        b"create" | b"post" => (Method::Post, false, false),
        b"update" | b"put" => (Method::Put, false, false),
        b"patch" => (Method::Patch, false, false),
        b"delete" | b"deletecollection" => (Method::Delete, false, false),
        b"head" => (Method::Head, false, false),
        b"options" => (Method::Options, false, false),
        _ => return None,
    };
    Some(VerbInfo {
        method,
        watch,
        may_watch,
    })
}

/// The apiserver's rule: the first `watch` query value turns a list into a
/// watch unless it is `false` or `0` (any case).
pub fn query_sets_watch(query: &[u8]) -> bool {
    for pair in query.split(|&b| b == b'&') {
        let (key, value) = match memchr::memchr(b'=', pair) {
            Some(eq) => (&pair[..eq], &pair[eq + 1..]),
            None => (pair, &b""[..]),
        };
        if key == b"watch" {
            return !(value == b"0" || value.eq_ignore_ascii_case(b"false"));
        }
    }
    false
}

/// Length of `/api/<v>` or `/apis/<g>/<v>` at the start of `path`, when
/// something follows it.
fn version_prefix_len(path: &[u8]) -> Option<usize> {
    let prefix_segments = if path.starts_with(b"/api/") {
        2
    } else if path.starts_with(b"/apis/") {
        3
    } else {
        return None;
    };
    let mut cut = 0;
    for _ in 0..prefix_segments {
        cut += 1 + memchr::memchr(b'/', &path[cut + 1..])?;
    }
    (cut < path.len()).then_some(cut)
}

/// The Kubernetes routing semantics over one [`PathMatcher`], for one
/// catalogue: the operations it answers index that catalogue.
pub struct Router<M: PathMatcher = SegmentTrie> {
    matcher: M,
    watch_credit: WatchCredit,
    operation_count: usize,
}

impl Router<SegmentTrie> {
    /// The default router: segment trie over all templates of `catalogue`.
    pub fn new(catalogue: &Catalogue, watch_credit: WatchCredit) -> Router<SegmentTrie> {
        Router::with_matcher(
            catalogue,
            SegmentTrie::new(&Route::all(catalogue)),
            watch_credit,
        )
    }
}

impl<M: PathMatcher> Router<M> {
    /// A router over any [`PathMatcher`] built from `catalogue` (see
    /// `examples/custom_matcher.rs`, and [`check_matcher`](super::check_matcher)
    /// to prove it answers as the trie does).
    pub fn with_matcher(catalogue: &Catalogue, matcher: M, watch_credit: WatchCredit) -> Router<M> {
        Router {
            matcher,
            watch_credit,
            operation_count: catalogue.len(),
        }
    }

    /// Operations in the catalogue: the tallies of a run have this many
    /// counters.
    pub fn operation_count(&self) -> usize {
        self.operation_count
    }

    /// The matcher under the Kubernetes semantics.
    pub fn matcher(&self) -> &M {
        &self.matcher
    }

    /// The operation a request exercised, or None when no template matches
    /// (custom resources, aggregated APIs, `/healthz`, …) or the verb is unknown.
    pub fn route(&self, verb: &[u8], uri: &[u8]) -> Option<OpId> {
        let info = verb_info(verb)?;
        let (path, query) = split_uri(uri);
        let watch = info.watch || (info.may_watch && query_sets_watch(query));
        match self.watch_credit {
            WatchCredit::Deprecated if watch => {
                if let Some(op) = self.deprecated_watch(path) {
                    return Some(op);
                }
            }
            // "Credit the list operation" means every watch: a legacy
            // `/watch/` URL credits the list (or, named, the read) operation
            // of the same resource too.
            WatchCredit::List if info.method == Method::Get => {
                if let Some(op) = self.legacy_watch_as_list(path) {
                    return Some(op);
                }
            }
            _ => {}
        }
        self.matcher.lookup(info.method, path)
    }

    /// `/api/v1/watch/<rest>` → `/api/v1/<rest>`, `/apis/<g>/<v>/watch/<rest>`
    /// → `/apis/<g>/<v>/<rest>`, then a GET lookup.
    fn legacy_watch_as_list(&self, path: &[u8]) -> Option<OpId> {
        let cut = version_prefix_len(path)?;
        let rest = path[cut..].strip_prefix(b"/watch/")?;
        let mut stripped = Vec::with_capacity(path.len());
        stripped.extend_from_slice(&path[..cut]);
        stripped.push(b'/');
        stripped.extend_from_slice(rest);
        self.matcher.lookup(Method::Get, &stripped)
    }

    /// `/api/v1/<rest>` → `/api/v1/watch/<rest>`, `/apis/<g>/<v>/<rest>` →
    /// `/apis/<g>/<v>/watch/<rest>`, then a GET lookup.
    fn deprecated_watch(&self, path: &[u8]) -> Option<OpId> {
        let cut = version_prefix_len(path)?;
        let mut buf = [0u8; 512];
        let total = path.len() + 6;
        if total > buf.len() {
            let mut owned = Vec::with_capacity(total);
            owned.extend_from_slice(&path[..cut]);
            owned.extend_from_slice(b"/watch");
            owned.extend_from_slice(&path[cut..]);
            return self.matcher.lookup(Method::Get, &owned);
        }
        buf[..cut].copy_from_slice(&path[..cut]);
        buf[cut..cut + 6].copy_from_slice(b"/watch");
        buf[cut + 6..total].copy_from_slice(&path[cut..]);
        self.matcher.lookup(Method::Get, &buf[..total])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_watch_follows_the_apiserver() {
        assert!(query_sets_watch(b"watch=true"));
        assert!(query_sets_watch(b"a=b&watch=1"));
        assert!(query_sets_watch(b"watch"));
        assert!(query_sets_watch(b"watch=yes"));
        assert!(!query_sets_watch(b"watch=false"));
        assert!(!query_sets_watch(b"watch=FALSE"));
        assert!(!query_sets_watch(b"watch=0"));
        assert!(!query_sets_watch(b"allowWatchBookmarks=true"));
        assert!(!query_sets_watch(b"watch=0&watch=1"));
    }

    #[test]
    fn split_uri_trims_query_and_one_slash() {
        assert_eq!(split_uri(b"/api/?x=1"), (&b"/api"[..], &b"x=1"[..]));
        assert_eq!(split_uri(b"/"), (&b"/"[..], &b""[..]));
        assert_eq!(split_uri(b"/version?timeout=32s").0, b"/version");
    }
}
