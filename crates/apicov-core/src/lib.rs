//! The apicov engine: Kubernetes API coverage from kube-apiserver audit logs,
//! without a command line, a network or a terminal.
//!
//! The pipeline, one module a stage:
//! [`spec`] (the operation catalogue of a swagger document) →
//! [`routing`] (verb + request URI → operation, one file a matching
//! strategy; [`routing::PathMatcher`] is the extension point for other
//! strategies and [`routing::check_matcher`] proves one answers as the
//! built-in trie);
//! [`input`] (files, streams, gzip/zstd) → newline-aligned pieces →
//! [`event`] (field extraction) → [`attribution`] (which test or
//! client sent a request) → [`aggregate`] (per-chunk tallies merged in input
//! order) → [`coverage`] (each operation's verdict against the tracking
//! [`lists`]). [`pipeline`] is the engine: [`Engine::run`] scans files and
//! streams in parallel, [`Feed`] takes pieces one at a time; [`mapguard`]
//! survives inputs truncated while mapped. Synthetic logs with known counts
//! come from `apicov-gen`. Rendering the results is `apicov-report`'s job.
//!
//! What a program needs is re-exported here: the catalogue ([`Catalogue`]),
//! the router and its extension point ([`Router`], [`PathMatcher`],
//! [`check_matcher`]), the engine ([`Engine`], [`EngineOptions`], [`Feed`])
//! and its result ([`Tally`], [`Coverage`]). The modules hold the rest.
//!
//! # Example
//!
//! Build a catalogue from a swagger document, scan a log and read the tally
//! (`apicov-report` renders it; `examples/custom_matcher.rs` plugs in a
//! route matcher of its own). Everything named here is at the crate's root:
//!
//! ```
//! use apicov_core::{
//!     Catalogue, Coverage, EndpointList, Engine, EngineOptions, InputName, Router, WatchCredit,
//! };
//!
//! let swagger = br#"{"info": {"version": "v1.36.0"}, "paths": {
//!   "/api/v1/namespaces/{namespace}/pods": {
//!     "get": {"operationId": "listCoreV1NamespacedPod"}}}}"#;
//! let catalogue = Catalogue::from_json(swagger, "swagger.json")?;
//! let router = Router::new(&catalogue, WatchCredit::default());
//! let engine = Engine::new(router, EngineOptions::default());
//!
//! let dir = tempfile::tempdir().unwrap();
//! let log = dir.path().join("audit.log");
//! std::fs::write(&log, concat!(
//!     r#"{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"a1","stage":"ResponseComplete","requestURI":"/api/v1/namespaces/default/pods","verb":"list","user":{"username":"admin"},"userAgent":"e2e.test/v1.36.0 -- [sig-node] Pods should list"}"#,
//!     "\n"))?;
//!
//! let (tally, _inputs) = engine.run(engine.open(&[InputName::File(log.clone())])?)?;
//! let op = catalogue.lookup("listCoreV1NamespacedPod").unwrap();
//! assert_eq!(tally.ops[op.index()].total(), 1);
//!
//! let (ineligible, pending) = (EndpointList::default(), EndpointList::default());
//! let coverage = Coverage::new(&catalogue, &tally, &ineligible, &pending);
//! assert_eq!(coverage.kept, [op]);
//!
//! // Lines that are not in a file (a webhook's batch, an iterator) go
//! // through a feed of the same engine, one piece after another.
//! let mut feed = engine.feed();
//! for line in std::fs::read_to_string(&log)?.lines() {
//!     feed.push(format!("{line}\n").as_bytes());
//! }
//! assert_eq!(feed.finish().ops, tally.ops);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! A program that maps its inputs (the default [`ReadMode`]) should call
//! [`mapguard::install`] first, so that a log truncated while it is read is
//! an [`Error::Truncated`] rather than a SIGBUS.

#![deny(missing_docs)]

/// The README's "Using the library" example, compiled as a doc test.
#[cfg(doctest)]
#[doc = include_str!("../../../README.md")]
struct ReadmeExample;

pub mod aggregate;
pub mod attribution;
mod chunk;
pub mod coverage;
pub mod error;
pub mod event;
pub mod input;
pub mod lists;
pub mod mapguard;
pub mod pages;
pub mod pipeline;
pub mod routing;
pub mod spec;

pub use aggregate::{Hits, Sample, SamplePrinting, Tally, UnmatchedKey, Window};
pub use attribution::{Actor, Attribution};
pub use coverage::Coverage;
pub use error::{Error, Result};
pub use event::Validation;
pub use input::{Compression, InputName, ReadMode};
pub use lists::EndpointList;
pub use pipeline::{Engine, EngineOptions, Feed, InputInfo, Progress};
pub use routing::{
    check_matcher, AnyMatcher, Disagreement, PathMatcher, Route, Router, Segment, SegmentTrie,
    Strategy, WatchCredit,
};
pub use spec::{Catalogue, Method, OpId, Operation};
