//! A route matcher that finds a path's literal segments with one
//! Aho-Corasick pass, then narrows the templates to those whose literals sit
//! at exactly those positions (globset's shape: cheap literal search before
//! the exact check). A benchmark strategy beside the segment trie
//! (`benches/routes.rs`, `--matcher prefilter`); same answers as
//! [`LinearScan`](super::LinearScan) on every input (tested).
//!
//! How a lookup goes:
//! 1. One overlapping Aho-Corasick search over `path + "/"` for every
//!    distinct literal segment of the spec written as `/lit/`: a match is a
//!    whole segment, so each segment gets the id of the literal it equals,
//!    or none (a name, a namespace, a custom resource's group).
//! 2. Templates are grouped by *shape*: the positions of their literals,
//!    parameters and trailing catch-all. For a path of n segments the
//!    candidate shapes (length n, or a catch-all no longer than n) are
//!    tried in precedence order; a shape is skipped by two mask tests when
//!    one of its literal positions holds no literal or one of its
//!    parameters is empty.
//! 3. The surviving shape's templates are a hash map from (method, literal
//!    ids at the shape's positions) to the operation: one lookup verifies.

use ahash::AHashMap;
use aho_corasick::{AhoCorasick, MatchKind};

/// The Aho-Corasick implementations [`LiteralPrefilter::with_kind`] takes
/// (the aho-corasick crate's, named here so that its type stays out of this
/// library's signatures).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AutomatonKind {
    /// A DFA: the fastest search, the slowest build.
    Dfa,
    /// A contiguous NFA: a fast build and a compact automaton.
    ContiguousNfa,
    /// A noncontiguous NFA: the plainest.
    NoncontiguousNfa,
}

impl From<AutomatonKind> for aho_corasick::AhoCorasickKind {
    fn from(kind: AutomatonKind) -> Self {
        match kind {
            AutomatonKind::Dfa => aho_corasick::AhoCorasickKind::DFA,
            AutomatonKind::ContiguousNfa => aho_corasick::AhoCorasickKind::ContiguousNFA,
            AutomatonKind::NoncontiguousNfa => aho_corasick::AhoCorasickKind::NoncontiguousNFA,
        }
    }
}

use super::matcher::PathMatcher;
use super::template::{Route, Segment};
use crate::error::MatcherProblem;
use crate::spec::{Method, OpId};

/// Templates longer than this many segments cannot be masked in a `u64`.
const MAX_SEGMENTS: usize = 63;

/// No literal in this segment.
const NONE: u32 = u32::MAX;

/// The Aho-Corasick literal prefilter (see the module documentation).
#[derive(Debug)]
pub struct LiteralPrefilter {
    literals: AhoCorasick,
    /// Segments in the longest template.
    longest: usize,
    /// Shapes in precedence order.
    shapes: Vec<Shape>,
    /// For a path of n segments (n ≤ `longest`, or `longest + 1` for any
    /// longer path): the shapes that can match it, in precedence order.
    candidates: Vec<Box<[u32]>>,
}

/// The positions of a group of templates' literals and parameters.
#[derive(Debug)]
struct Shape {
    /// Segments, the catch-all included.
    len: usize,
    catch_all: bool,
    literal_mask: u64,
    param_mask: u64,
    literal_positions: Box<[u8]>,
    /// Key: method index, then the literal ids at `literal_positions`.
    routes: AHashMap<Box<[u32]>, OpId>,
}

impl LiteralPrefilter {
    /// Builds the prefilter with Aho-Corasick's DFA (the fastest search).
    pub fn new(routes: &[Route]) -> Result<LiteralPrefilter, crate::Error> {
        LiteralPrefilter::with_kind(routes, AutomatonKind::Dfa)
    }

    /// Builds it with a chosen Aho-Corasick implementation (benchmarks
    /// compare the DFA with the contiguous NFA).
    pub fn with_kind(
        routes: &[Route],
        kind: AutomatonKind,
    ) -> Result<LiteralPrefilter, crate::Error> {
        let mut literal_ids: AHashMap<&[u8], u32> = AHashMap::new();
        let mut patterns: Vec<Vec<u8>> = Vec::new();
        let mut shapes: Vec<Shape> = Vec::new();
        let mut shape_of: AHashMap<Vec<u8>, usize> = AHashMap::new();
        for route in routes {
            let len = route.segments.len();
            if len == 0 {
                // Only the empty path would match it, and no lookup has one.
                continue;
            }
            if len > MAX_SEGMENTS {
                return Err(crate::Error::Matcher {
                    strategy: "prefilter",
                    problem: MatcherProblem::TooManySegments { max: MAX_SEGMENTS },
                });
            }
            let mut key = vec![route.method.index() as u32];
            let mut ranks = Vec::with_capacity(len);
            for segment in &route.segments {
                match segment {
                    Segment::Literal(lit) => {
                        let next = patterns.len() as u32;
                        let id = *literal_ids.entry(lit).or_insert(next);
                        if id == next {
                            let mut pattern = Vec::with_capacity(lit.len() + 2);
                            pattern.push(b'/');
                            pattern.extend_from_slice(lit);
                            pattern.push(b'/');
                            patterns.push(pattern);
                        }
                        key.push(id);
                        ranks.push(0);
                    }
                    Segment::Param => ranks.push(1),
                    Segment::CatchAll => ranks.push(2),
                }
            }
            let next = shapes.len();
            let index = *shape_of.entry(ranks.clone()).or_insert(next);
            if index == next {
                shapes.push(Shape::new(&ranks));
            }
            // Routes come in precedence order: the first keeps the key.
            shapes[index]
                .routes
                .entry(key.into_boxed_slice())
                .or_insert(route.op);
        }
        // Precedence of shapes is that of routes: rank vectors compared
        // lexicographically (literal < parameter < catch-all).
        let ranks = |s: &Shape| {
            (0..s.len)
                .map(|i| {
                    if s.catch_all && i + 1 == s.len {
                        2
                    } else if s.literal_mask >> i & 1 == 1 {
                        0
                    } else {
                        1
                    }
                })
                .collect::<Vec<u8>>()
        };
        shapes.sort_by_key(|s| ranks(s));
        let longest = shapes.iter().map(|s| s.len).max().unwrap_or(0);
        let candidates = (0..=longest + 1)
            .map(|n| {
                (0..shapes.len() as u32)
                    .filter(|&i| {
                        let s = &shapes[i as usize];
                        if s.catch_all {
                            s.len <= n
                        } else {
                            s.len == n
                        }
                    })
                    .collect()
            })
            .collect();
        let literals = AhoCorasick::builder()
            .kind(Some(kind.into()))
            .match_kind(MatchKind::Standard)
            .build(&patterns)
            .map_err(|e| crate::Error::Matcher {
                strategy: "prefilter",
                problem: MatcherProblem::Automaton(e.to_string()),
            })?;
        Ok(LiteralPrefilter {
            literals,
            longest,
            shapes,
            candidates,
        })
    }
}

impl PathMatcher for LiteralPrefilter {
    fn lookup(&self, method: Method, path: &[u8]) -> Option<OpId> {
        if !path.starts_with(b"/") {
            return None;
        }
        // Segment starts (the slash before each), up to one past the
        // longest template: later segments only feed a catch-all.
        let mut starts = [0u32; MAX_SEGMENTS + 2];
        let mut n = 0;
        for at in memchr::memchr_iter(b'/', path) {
            if n == self.longest + 1 {
                break;
            }
            starts[n] = at as u32;
            n += 1;
        }
        let more = n == self.longest + 1;
        // The searched part: the segments a template can name, each
        // followed by a slash (`/a/b` → `/a/b/`).
        let end = if more {
            starts[self.longest] as usize
        } else {
            path.len()
        };
        let segments = n.min(self.longest);
        let mut stack = [0u8; 512];
        let heap: Vec<u8>;
        let haystack: &[u8] = if end < stack.len() {
            stack[..end].copy_from_slice(&path[..end]);
            stack[end] = b'/';
            &stack[..=end]
        } else {
            heap = [&path[..end], b"/"].concat();
            &heap
        };

        let mut found = [NONE; MAX_SEGMENTS + 1];
        let mut identified = 0u64;
        for m in self.literals.find_overlapping_iter(haystack) {
            // A match starts at a slash, so it names that slash's segment.
            if let Ok(i) = starts[..segments].binary_search(&(m.start() as u32)) {
                found[i] = m.pattern().as_u32();
                identified |= 1 << i;
            }
        }
        let mut empty = 0u64;
        for i in 0..segments {
            let after = if i + 1 < n {
                starts[i + 1] as usize
            } else {
                path.len()
            };
            if after == starts[i] as usize + 1 {
                empty |= 1 << i;
            }
        }

        let mut key = [0u32; MAX_SEGMENTS + 2];
        key[0] = method.index() as u32;
        let n_candidates = if more { self.longest + 1 } else { n };
        for &s in self.candidates[n_candidates].iter() {
            let shape = &self.shapes[s as usize];
            if shape.literal_mask & !identified != 0 || shape.param_mask & empty != 0 {
                continue;
            }
            // A catch-all takes the non-empty rest: the segment it starts
            // at, or more segments.
            if shape.catch_all && !more && n == shape.len && empty >> (n - 1) & 1 == 1 {
                continue;
            }
            for (k, &pos) in shape.literal_positions.iter().enumerate() {
                key[k + 1] = found[pos as usize];
            }
            let key = &key[..shape.literal_positions.len() + 1];
            if let Some(&op) = shape.routes.get(key) {
                return Some(op);
            }
        }
        None
    }
}

impl Shape {
    fn new(ranks: &[u8]) -> Shape {
        let mut shape = Shape {
            len: ranks.len(),
            catch_all: ranks.last() == Some(&2),
            literal_mask: 0,
            param_mask: 0,
            literal_positions: Box::default(),
            routes: AHashMap::new(),
        };
        let mut positions = Vec::new();
        for (i, rank) in ranks.iter().enumerate() {
            match rank {
                0 => {
                    shape.literal_mask |= 1 << i;
                    positions.push(i as u8);
                }
                1 => shape.param_mask |= 1 << i,
                _ => {}
            }
        }
        shape.literal_positions = positions.into_boxed_slice();
        shape
    }
}
