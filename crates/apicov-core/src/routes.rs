//! Routing: from an audit event's (verb, requestURI) to the spec operation it
//! exercised.
//!
//! Two layers:
//! - [`PathMatcher`]: (HTTP method, path without query) → operation, over all
//!   path templates compiled into one automaton. Three strategies implement it
//!   (segment trie, regex-automata DFA, linear scan) so benchmarks can compare
//!   them; all three give the same answer for every input (tested).
//! - [`Router`]: the Kubernetes semantics on top: audit verb → method, watch
//!   detection from the verb or the query string, crediting watches to the
//!   deprecated `/watch/` operations or to the list operations.
//!
//! Matching rules, shared by every strategy:
//! - a literal segment beats a parameter at the same position, a parameter
//!   beats a trailing catch-all (`{path}`, `{logpath}`);
//! - a parameter matches any non-empty segment, whatever it holds;
//! - a catch-all takes the non-empty rest of the path, slashes included;
//! - one trailing slash on either side is ignored (`/api` ≡ `/api/`).

use regex_automata::{meta, Anchored, Input, MatchKind};

use crate::spec::{Catalogue, Method, OpId};

/// One segment of a path template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Segment {
    /// A fixed segment, matched byte for byte.
    Literal(Box<[u8]>),
    /// `{name}`, `{namespace}`: one non-empty segment.
    Param,
    /// `{path}` or `{logpath}` at the end: the non-empty rest of the path.
    CatchAll,
}

impl Segment {
    /// Literal < Param < CatchAll: the precedence order of the matching rules.
    fn rank(&self) -> u8 {
        match self {
            Segment::Literal(_) => 0,
            Segment::Param => 1,
            Segment::CatchAll => 2,
        }
    }
}

/// A compiled path template of one operation.
#[derive(Debug, Clone)]
pub struct Route {
    /// The operation's HTTP method.
    pub method: Method,
    /// The template's segments, in order.
    pub segments: Vec<Segment>,
    /// The operation.
    pub op: OpId,
}

impl Route {
    /// Templates of every operation in the catalogue, in precedence order:
    /// compared segment by segment, literal before parameter before catch-all.
    /// The first route of this list that matches a path is the answer.
    pub fn all(catalogue: &Catalogue) -> Vec<Route> {
        let mut routes: Vec<Route> = catalogue
            .operations()
            .map(|(op, operation)| Route {
                method: operation.method,
                segments: parse_template(&operation.template),
                op,
            })
            .collect();
        // Keys computed once a route, not twice a comparison.
        routes.sort_by_cached_key(|r| {
            let ranks: Vec<u8> = r.segments.iter().map(Segment::rank).collect();
            (ranks, r.op)
        });
        routes
    }

    /// Whether this route matches `path` (no query, trailing slash trimmed).
    pub fn matches(&self, method: Method, path: &[u8]) -> bool {
        if method != self.method {
            return false;
        }
        let mut rest = path;
        for segment in &self.segments {
            let Some(after_slash) = rest.strip_prefix(b"/") else {
                return false;
            };
            match segment {
                Segment::CatchAll => return !after_slash.is_empty(),
                _ => {
                    let end = memchr::memchr(b'/', after_slash).unwrap_or(after_slash.len());
                    let (seg, tail) = after_slash.split_at(end);
                    let ok = match segment {
                        Segment::Literal(lit) => **lit == *seg,
                        _ => !seg.is_empty(),
                    };
                    if !ok {
                        return false;
                    }
                    rest = tail;
                }
            }
        }
        rest.is_empty()
    }
}

/// Splits a spec path into segments; a trailing slash is dropped.
pub fn parse_template(template: &str) -> Vec<Segment> {
    let trimmed = template.strip_suffix('/').unwrap_or(template);
    let parts: Vec<&str> = trimmed.split('/').skip(1).collect();
    let last = parts.len().saturating_sub(1);
    parts
        .iter()
        .enumerate()
        .map(|(i, part)| {
            if part.starts_with('{') && part.ends_with('}') {
                if i == last && (*part == "{path}" || *part == "{logpath}") {
                    Segment::CatchAll
                } else {
                    Segment::Param
                }
            } else {
                Segment::Literal(part.as_bytes().into())
            }
        })
        .collect()
}

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

/// (method, path) → operation. `path` has no query and no trailing slash.
pub trait PathMatcher: Send + Sync {
    /// The operation of `method` at `path`, if any.
    fn lookup(&self, method: Method, path: &[u8]) -> Option<OpId>;
}

/// Segment trie: one node per distinct template prefix, literal children in a
/// hash map, at most one parameter and one catch-all child. Lookup walks the
/// path once, backtracking to the parameter child only when the literal branch
/// fails. The default strategy: fastest in `benches/routes.rs`.
#[derive(Debug)]
pub struct SegmentTrie {
    nodes: Vec<TrieNode>,
}

/// The trie's literal children of up to [`SHORT`] bytes (nearly all of a
/// Kubernetes path's), keyed by [`ShortKey`]: the segment's bytes come out
/// of the same 16-byte load that finds its end, and a lookup hashes and
/// compares two words instead of hashing the bytes and calling `memcmp`.
type ShortChildren = std::collections::HashMap<ShortKey, u32, ShortKeyHasher>;

/// Longer literal children (API group names such as
/// `admissionregistration.k8s.io`), hashed with foldhash's fixed-seed hasher
/// (ahash takes its slower fallback where AES is not enabled at build time,
/// as here; the change went in with the string search, README "Speed"). The
/// tables are built once from the spec and only read, so a fixed seed gives a
/// client nothing to aim at.
type LongChildren = std::collections::HashMap<Box<[u8]>, u32, foldhash::fast::FixedState>;

#[derive(Debug, Default)]
struct TrieNode {
    short: ShortChildren,
    long: LongChildren,
    param: Option<u32>,
    catch_all: Option<u32>,
    ops: [Option<OpId>; 7],
}

/// Segments this long or shorter are [`ShortKey`]s.
const SHORT: usize = 16;

/// A segment of at most [`SHORT`] bytes as one value: its bytes, zero
/// padded, and its length (a segment may hold zero bytes itself).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct ShortKey {
    bytes: u128,
    len: u8,
}

impl ShortKey {
    fn of(segment: &[u8]) -> Option<ShortKey> {
        let mut bytes = [0u8; SHORT];
        bytes.get_mut(..segment.len())?.copy_from_slice(segment);
        Some(ShortKey {
            bytes: u128::from_le_bytes(bytes),
            len: segment.len() as u8,
        })
    }
}

impl std::hash::Hash for ShortKey {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        // One word for the hasher below: both halves and the length folded.
        let folded = (self.bytes as u64) ^ ((self.bytes >> 64) as u64).rotate_left(29);
        state.write_u64(folded ^ u64::from(self.len));
    }
}

/// Multiplies the one word [`ShortKey`] writes. Unseeded on purpose: the
/// tables hold the spec's literals, built once; a log's paths only look
/// them up, so they cannot crowd a bucket.
#[derive(Debug, Clone, Copy, Default)]
struct ShortKeyHasher;

impl std::hash::BuildHasher for ShortKeyHasher {
    type Hasher = FoldedWord;
    fn build_hasher(&self) -> FoldedWord {
        FoldedWord(0)
    }
}

/// See [`ShortKeyHasher`].
#[derive(Debug)]
struct FoldedWord(u64);

impl std::hash::Hasher for FoldedWord {
    fn finish(&self) -> u64 {
        // hashbrown takes its control tag from the top bits and the bucket
        // from the low ones: a multiply and a fold spread the word over both.
        let m = u128::from(self.0) * 0x9E37_79B9_7F4A_7C15;
        (m as u64) ^ ((m >> 64) as u64)
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 ^ u64::from(b)).wrapping_mul(0x100_0000_01b3);
        }
    }
    fn write_u64(&mut self, word: u64) {
        self.0 = word;
    }
}

/// The first segment of `after_slash` (a path after one of its slashes):
/// where it ends (the next `/` or the end), and its [`ShortKey`] when it is
/// at most [`SHORT`] bytes. With SSE2 one 16-byte load gives both.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
fn first_segment(after_slash: &[u8]) -> (usize, Option<ShortKey>) {
    use std::arch::x86_64::{
        __m128i, _mm_and_si128, _mm_cmpeq_epi8, _mm_loadu_si128, _mm_movemask_epi8, _mm_set1_epi8,
    };
    /// 16 bytes kept then 16 cleared: loaded at `16 - len`, keeps `len` bytes.
    static KEEP: [u8; 32] = {
        let mut keep = [0u8; 32];
        let mut i = 0;
        while i < 16 {
            keep[i] = 0xff;
            i += 1;
        }
        keep
    };
    let (block, in_path) = match after_slash.first_chunk::<SHORT>() {
        Some(block) => (u128::from_le_bytes(*block), SHORT),
        None => (padded(after_slash), after_slash.len()),
    };
    // SAFETY: SSE2 is part of every x86_64; the unaligned load reads 16 of
    // KEEP's 32 bytes (`16 - len` is at most 16).
    unsafe {
        let v: __m128i = std::mem::transmute(block);
        // Past the path's end counts as a slash.
        let slashes = _mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_set1_epi8(b'/' as i8))) as u32
            | (1u32 << in_path);
        let len = slashes.trailing_zeros() as usize;
        if len < SHORT || (len == SHORT && after_slash.get(SHORT).is_none_or(|&c| c == b'/')) {
            let keep = _mm_loadu_si128(KEEP.as_ptr().add(SHORT - len).cast::<__m128i>());
            let bytes: u128 = std::mem::transmute(_mm_and_si128(v, keep));
            return (
                len,
                Some(ShortKey {
                    bytes,
                    len: len as u8,
                }),
            );
        }
    }
    let end = SHORT
        + after_slash[SHORT..]
            .iter()
            .position(|&c| c == b'/')
            .unwrap_or(after_slash.len() - SHORT);
    (end, None)
}

/// The bytes of `short` (fewer than [`SHORT`]), zero padded, in at most two
/// overlapping loads: the rest of a path is a `memcpy` call of a few bytes
/// otherwise (a fifth of the walk's instructions).
#[cfg(target_arch = "x86_64")]
#[inline(always)]
fn padded(short: &[u8]) -> u128 {
    let len = short.len();
    debug_assert!(len < SHORT);
    // Two loads that cover the bytes between them, the second shifted to
    // where its bytes belong; the bytes both hold are the same, so OR-ing
    // them changes nothing.
    let word = |at: usize, n: usize| -> u128 {
        let mut w = [0u8; 8];
        w[..n].copy_from_slice(&short[at..at + n]);
        u128::from(u64::from_le_bytes(w)) << (8 * at)
    };
    match len {
        8.. => word(0, 8) | word(len - 8, 8),
        4.. => word(0, 4) | word(len - 4, 4),
        1.. => word(0, 1) | word(len / 2, 1) | word(len - 1, 1),
        0 => 0,
    }
}

/// Elsewhere, byte by byte.
#[cfg(not(target_arch = "x86_64"))]
#[inline(always)]
fn first_segment(after_slash: &[u8]) -> (usize, Option<ShortKey>) {
    first_segment_plain(after_slash)
}

/// [`first_segment`]'s rule byte by byte: the code where there is no SSE2,
/// and the tests' oracle where there is.
#[cfg(any(test, not(target_arch = "x86_64")))]
fn first_segment_plain(after_slash: &[u8]) -> (usize, Option<ShortKey>) {
    let end = after_slash
        .iter()
        .position(|&c| c == b'/')
        .unwrap_or(after_slash.len());
    (end, ShortKey::of(&after_slash[..end]))
}

impl SegmentTrie {
    /// A trie over `routes`.
    pub fn new(routes: &[Route]) -> SegmentTrie {
        let mut trie = SegmentTrie {
            nodes: vec![TrieNode::default()],
        };
        for route in routes {
            let mut node = 0usize;
            for segment in &route.segments {
                node = trie.child(node, segment);
            }
            let slot = &mut trie.nodes[node].ops[route.method.index()];
            // Routes come in precedence order: the first one keeps the slot.
            slot.get_or_insert(route.op);
        }
        trie
    }

    fn child(&mut self, node: usize, segment: &Segment) -> usize {
        let next = self.nodes.len() as u32;
        let parent = &mut self.nodes[node];
        let existing = match segment {
            Segment::Literal(lit) => match ShortKey::of(lit) {
                Some(key) => *parent.short.entry(key).or_insert(next),
                // Most literals are there already: look before cloning the key.
                None => match parent.long.get(lit) {
                    Some(&child) => child,
                    None => *parent.long.entry(lit.clone()).or_insert(next),
                },
            },
            Segment::Param => *parent.param.get_or_insert(next),
            Segment::CatchAll => *parent.catch_all.get_or_insert(next),
        };
        if existing == next {
            self.nodes.push(TrieNode::default());
        }
        existing as usize
    }

    fn walk(&self, node: &TrieNode, method: Method, rest: &[u8]) -> Option<OpId> {
        let Some(after_slash) = rest.strip_prefix(b"/") else {
            return if rest.is_empty() {
                node.ops[method.index()]
            } else {
                None
            };
        };
        let (end, key) = first_segment(after_slash);
        let (segment, tail) = after_slash.split_at(end);
        let literal = match key {
            Some(key) => node.short.get(&key),
            None => node.long.get(segment),
        };
        if let Some(&child) = literal {
            if let Some(op) = self.walk(&self.nodes[child as usize], method, tail) {
                return Some(op);
            }
        }
        if !segment.is_empty() {
            if let Some(child) = node.param {
                if let Some(op) = self.walk(&self.nodes[child as usize], method, tail) {
                    return Some(op);
                }
            }
        }
        // The catch-all takes the non-empty rest, which may start with an
        // empty segment (`/logs//a`), as the other strategies have it.
        if let (Some(child), false) = (node.catch_all, after_slash.is_empty()) {
            return self.nodes[child as usize].ops[method.index()];
        }
        None
    }
}

impl PathMatcher for SegmentTrie {
    fn lookup(&self, method: Method, path: &[u8]) -> Option<OpId> {
        if path.is_empty() {
            return None;
        }
        self.walk(&self.nodes[0], method, path)
    }
}

/// The regex matcher's NFA size limit: 32 MiB (the default 10 MiB fails near 10,000
/// paths; much more lets the meta engine build structures of gigabytes).
const REGEX_NFA_LIMIT: usize = 32 << 20;

/// All templates as one regex-automata multi-pattern automaton over
/// `<method letter><path>`, patterns in precedence order with leftmost-first
/// semantics and an end anchor, so the first pattern that matches the whole
/// path wins.
#[derive(Debug)]
pub struct RegexDfa {
    regex: meta::Regex,
    ops: Vec<OpId>,
}

impl RegexDfa {
    /// Compiles the templates. A spec too large for the automaton's size
    /// limits (raised far above the ~1,100 paths of Kubernetes' spec, but
    /// finite) is an error that says to use the trie.
    pub fn new(routes: &[Route]) -> Result<RegexDfa, crate::Error> {
        let patterns: Vec<String> = routes
            .iter()
            .map(|route| {
                let mut pattern = String::from(method_tag(route.method) as char);
                for segment in &route.segments {
                    pattern.push('/');
                    match segment {
                        Segment::Literal(lit) => pattern.push_str(&regex_syntax::escape(
                            std::str::from_utf8(lit).expect("templates are UTF-8"),
                        )),
                        Segment::Param => pattern.push_str("[^/]+"),
                        Segment::CatchAll => pattern.push_str("(?s-u:.)+"),
                    }
                }
                // Every pattern must cover the whole path, so leftmost-first
                // picks the first pattern (in precedence order) that does.
                pattern.push('$');
                pattern
            })
            .collect();
        let regex = meta::Builder::new()
            .configure(
                meta::Config::new()
                    .match_kind(MatchKind::LeftmostFirst)
                    .utf8_empty(false)
                    // The default 2 MiB lazy-DFA cache thrashes on ~1,100
                    // templates (NOTES.md measured ~20 ms a lookup); 64 MiB does not.
                    .hybrid_cache_capacity(64 << 20)
                    // The default 10 MiB NFA limit fails at ~10,000 paths.
                    .nfa_size_limit(Some(REGEX_NFA_LIMIT)),
            )
            .syntax(
                regex_automata::util::syntax::Config::new()
                    .unicode(false)
                    .utf8(false),
            )
            .build_many(&patterns)
            .map_err(|e| {
                crate::Error::Usage(format!(
                    "--matcher regex cannot compile the spec's {} path templates ({e}): use \
                     --matcher trie (the default), which has no such limit",
                    routes.len()
                ))
            })?;
        Ok(RegexDfa {
            regex,
            ops: routes.iter().map(|r| r.op).collect(),
        })
    }
}

fn method_tag(method: Method) -> u8 {
    b"GOUADHP"[method.index()]
}

impl PathMatcher for RegexDfa {
    fn lookup(&self, method: Method, path: &[u8]) -> Option<OpId> {
        let mut stack = [0u8; 512];
        let mut heap = Vec::new();
        let haystack: &[u8] = if path.len() < stack.len() {
            stack[0] = method_tag(method);
            stack[1..=path.len()].copy_from_slice(path);
            &stack[..=path.len()]
        } else {
            heap.push(method_tag(method));
            heap.extend_from_slice(path);
            &heap
        };
        let input = Input::new(haystack).anchored(Anchored::Yes);
        self.regex
            .search(&input)
            .map(|m| self.ops[m.pattern().as_usize()])
    }
}

/// Tries every route in precedence order: the floor every automaton must beat.
#[derive(Debug)]
pub struct LinearScan {
    routes: Vec<Route>,
}

impl LinearScan {
    /// A scan over `routes`, in order.
    pub fn new(routes: &[Route]) -> LinearScan {
        LinearScan {
            routes: routes.to_vec(),
        }
    }
}

impl PathMatcher for LinearScan {
    fn lookup(&self, method: Method, path: &[u8]) -> Option<OpId> {
        self.routes
            .iter()
            .find(|route| route.matches(method, path))
            .map(|route| route.op)
    }
}

/// A strategy chosen at run time (`--matcher`), for people comparing them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
pub enum Strategy {
    /// Segment trie (default; fastest in benches/routes.rs).
    #[default]
    Trie,
    /// regex-automata multi-pattern lazy DFA.
    Regex,
    /// Linear scan over all templates.
    Linear,
    /// Aho-Corasick over the literal segments, then one hash lookup per
    /// candidate shape (src/prefilter.rs).
    Prefilter,
}

/// One of the [`PathMatcher`] strategies, chosen at run time.
#[derive(Debug)]
pub enum AnyMatcher {
    /// [`Strategy::Trie`].
    Trie(SegmentTrie),
    /// [`Strategy::Regex`].
    Regex(RegexDfa),
    /// [`Strategy::Linear`].
    Linear(LinearScan),
    /// [`Strategy::Prefilter`].
    Prefilter(crate::prefilter::LiteralPrefilter),
}

impl AnyMatcher {
    /// Builds the strategy's matcher (only regex and prefilter can fail).
    pub fn build(strategy: Strategy, catalogue: &Catalogue) -> crate::Result<AnyMatcher> {
        let routes = Route::all(catalogue);
        Ok(match strategy {
            Strategy::Trie => AnyMatcher::Trie(SegmentTrie::new(&routes)),
            Strategy::Regex => AnyMatcher::Regex(RegexDfa::new(&routes)?),
            Strategy::Linear => AnyMatcher::Linear(LinearScan::new(&routes)),
            Strategy::Prefilter => {
                AnyMatcher::Prefilter(crate::prefilter::LiteralPrefilter::new(&routes)?)
            }
        })
    }
}

impl PathMatcher for AnyMatcher {
    fn lookup(&self, method: Method, path: &[u8]) -> Option<OpId> {
        match self {
            AnyMatcher::Trie(m) => m.lookup(method, path),
            AnyMatcher::Regex(m) => m.lookup(method, path),
            AnyMatcher::Linear(m) => m.lookup(method, path),
            AnyMatcher::Prefilter(m) => m.lookup(method, path),
        }
    }
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

/// The Kubernetes routing semantics over one [`PathMatcher`].
pub struct Router<M: PathMatcher = SegmentTrie> {
    matcher: M,
    watch_credit: WatchCredit,
}

impl Router<SegmentTrie> {
    /// The default router: segment trie over all templates of `catalogue`.
    pub fn new(catalogue: &Catalogue, watch_credit: WatchCredit) -> Router<SegmentTrie> {
        Router::with_matcher(SegmentTrie::new(&Route::all(catalogue)), watch_credit)
    }
}

impl<M: PathMatcher> Router<M> {
    /// A router over any [`PathMatcher`] (see `examples/custom_matcher.rs`).
    pub fn with_matcher(matcher: M, watch_credit: WatchCredit) -> Router<M> {
        Router {
            matcher,
            watch_credit,
        }
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
    fn a_segment_and_its_key_are_found_as_the_plain_rule_has_them() {
        // Every length of the rest of a path up to 40 bytes, with no slash
        // or one or two at every offset, bytes that differ by position (a
        // load from the wrong place shows) and a high byte.
        let mut cases = 0;
        for len in 0..=40usize {
            let base: Vec<u8> = (0..len)
                .map(|i| b"abcdefghijklmnopqrstuvwxyz0123456789\xc3ABCDEF"[i % 40])
                .collect();
            let mut rests = vec![base.clone()];
            for at in 0..len {
                let mut one = base.clone();
                one[at] = b'/';
                rests.push(one.clone());
                for second in at + 1..len {
                    let mut two = one.clone();
                    two[second] = b'/';
                    rests.push(two);
                }
            }
            for rest in rests {
                let want = first_segment_plain(&rest);
                // The oracle itself: the segment ends at the first slash.
                assert_eq!(want.0, rest.iter().take_while(|&&c| c != b'/').count());
                assert_eq!(
                    first_segment(&rest),
                    want,
                    "{:?}",
                    String::from_utf8_lossy(&rest)
                );
                cases += 1;
            }
        }
        assert_eq!(cases, 11_521);
        // Keys differ where segments do, the length included.
        assert_ne!(ShortKey::of(b"a"), ShortKey::of(b"a\0"));
        assert_eq!(ShortKey::of(&[b'x'; 17]), None);
    }

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

    #[test]
    fn templates_parse() {
        assert_eq!(
            parse_template("/logs/{logpath}"),
            vec![Segment::Literal(b"logs"[..].into()), Segment::CatchAll]
        );
        assert_eq!(
            parse_template("/api/"),
            vec![Segment::Literal(b"api"[..].into())]
        );
        assert_eq!(
            parse_template("/api/v1/nodes/{name}"),
            vec![
                Segment::Literal(b"api"[..].into()),
                Segment::Literal(b"v1"[..].into()),
                Segment::Literal(b"nodes"[..].into()),
                Segment::Param
            ]
        );
    }
}
