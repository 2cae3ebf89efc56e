//! The strategy chosen at run time (`--matcher`).

use super::linear::LinearScan;
use super::matcher::PathMatcher;
use super::prefilter::LiteralPrefilter;
use super::regex::RegexDfa;
use super::template::Route;
use super::trie::SegmentTrie;
use crate::spec::{Catalogue, Method, OpId};

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
    /// candidate shape (routing/prefilter.rs).
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
    Prefilter(LiteralPrefilter),
}

impl AnyMatcher {
    /// Builds the strategy's matcher (only regex and prefilter can fail).
    pub fn build(strategy: Strategy, catalogue: &Catalogue) -> crate::Result<AnyMatcher> {
        let routes = Route::all(catalogue);
        Ok(match strategy {
            Strategy::Trie => AnyMatcher::Trie(SegmentTrie::new(&routes)),
            Strategy::Regex => AnyMatcher::Regex(RegexDfa::new(&routes)?),
            Strategy::Linear => AnyMatcher::Linear(LinearScan::new(&routes)),
            Strategy::Prefilter => AnyMatcher::Prefilter(LiteralPrefilter::new(&routes)?),
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
