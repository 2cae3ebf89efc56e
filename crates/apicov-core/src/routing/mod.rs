//! Routing: from an audit event's (verb, requestURI) to the spec operation it
//! exercised.
//!
//! Two layers:
//! - [`PathMatcher`]: (HTTP method, path without query) → operation, over all
//!   path [`template`]s compiled into one structure. Four strategies
//!   implement it, one file each: the segment [`trie`] (the default), a
//!   [`regex`] automaton, a [`linear`] scan and an Aho-Corasick literal
//!   [`prefilter`]; [`strategy`] chooses one at run time. They answer alike
//!   for every input (tested), and [`check_matcher`] proves it of a matcher
//!   written elsewhere.
//! - [`Router`]: the Kubernetes semantics on top: audit verb → method, watch
//!   detection from the verb or the query string, crediting watches to the
//!   deprecated `/watch/` operations or to the list operations.
//!
//! The files import downwards only: `template` and `matcher` from the
//! catalogue, each strategy from those two, `strategy`, `router` and
//! `conformance` from the strategies.

pub mod conformance;
pub mod linear;
pub mod matcher;
pub mod prefilter;
pub mod regex;
pub mod router;
pub mod strategy;
pub mod template;
pub mod trie;

pub use conformance::{check_matcher, Disagreement};
pub use linear::LinearScan;
pub use matcher::PathMatcher;
pub use prefilter::{AutomatonKind, LiteralPrefilter};
pub use regex::RegexDfa;
pub use router::{query_sets_watch, split_uri, verb_info, Router, VerbInfo, WatchCredit};
pub use strategy::{AnyMatcher, Strategy};
pub use template::{parse_template, Route, Segment};
pub use trie::SegmentTrie;
