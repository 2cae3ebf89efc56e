//! All templates as one regex-automata automaton: a strategy the benchmarks
//! compare (`--matcher regex`).

use regex_automata::{meta, Anchored, Input, MatchKind};

use super::matcher::PathMatcher;
use super::template::{Route, Segment};
use crate::error::MatcherProblem;
use crate::spec::{Method, OpId};

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
            .map_err(|e| crate::Error::Matcher {
                strategy: "regex",
                problem: MatcherProblem::TooLarge {
                    templates: routes.len(),
                    why: e.to_string(),
                },
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
