//! The apicov engine: Kubernetes API coverage from kube-apiserver audit logs,
//! without a command line, a network or a terminal.
//!
//! The pipeline, one module a stage:
//! [`spec`] (the operation catalogue of a swagger document) →
//! [`routing`] (verb + request URI → operation, one file a matching
//! strategy; [`routing::PathMatcher`] is the extension point for other
//! strategies and [`routing::check_matcher`] proves one answers as the
//! built-in trie);
//! [`input`] (files, streams, gzip/zstd) → [`chunk`] (newline-aligned
//! pieces) → [`event`] (field extraction) → [`attribution`] (which test or
//! client sent a request) → [`aggregate`] (per-chunk tallies merged in input
//! order) → [`coverage`] (each operation's verdict against the tracking
//! [`lists`]). [`pipeline`] drives the parallel scan; [`mapguard`] survives
//! inputs truncated while mapped. Synthetic logs with known counts come
//! from `apicov-gen`. Rendering the results is `apicov-report`'s job.
//!
//! # Example
//!
//! Build a catalogue from a swagger document, scan a log and read the tally
//! (`apicov-report` renders it; `examples/custom_matcher.rs` plugs in a
//! route matcher of its own):
//!
//! ```
//! use apicov_core::aggregate::ScanOptions;
//! use apicov_core::pipeline::{self, Engine, EngineOptions, Feed};
//! use apicov_core::routing::{Router, WatchCredit};
//! use apicov_core::spec::Catalogue;
//! use apicov_core::{coverage::Coverage, input::InputName, lists::EndpointList};
//!
//! let swagger = br#"{"info": {"version": "v1.36.0"}, "paths": {
//!   "/api/v1/namespaces/{namespace}/pods": {
//!     "get": {"operationId": "listCoreV1NamespacedPod"}}}}"#;
//! let catalogue = Catalogue::from_json(swagger, "swagger.json")?;
//! let router = Router::new(&catalogue, WatchCredit::default());
//!
//! let dir = tempfile::tempdir().unwrap();
//! let log = dir.path().join("audit.log");
//! std::fs::write(&log, concat!(
//!     r#"{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"a1","stage":"ResponseComplete","requestURI":"/api/v1/namespaces/default/pods","verb":"list","user":{"username":"admin"},"userAgent":"e2e.test/v1.36.0 -- [sig-node] Pods should list"}"#,
//!     "\n"))?;
//!
//! let pool = pipeline::thread_pool(2)?;
//! let inputs = [InputName::File(log.clone())];
//! let options = EngineOptions::default();
//! let engine = Engine::new(&router, &options, &pool);
//! let (tally, _) = engine.run(&inputs, &[])?;
//! let op = catalogue.lookup("listCoreV1NamespacedPod").unwrap();
//! assert_eq!(tally.ops[op.index()].total(), 1);
//!
//! let (ineligible, pending) = (EndpointList::default(), EndpointList::default());
//! let coverage = Coverage::new(&catalogue, &tally, &ineligible, &pending);
//! assert_eq!(coverage.kept, [op]);
//!
//! // Lines that are not in a file (a webhook's batch, an iterator) go
//! // through a Feed, one piece after another.
//! let mut feed = Feed::new(&router, ScanOptions::default());
//! for line in std::fs::read_to_string(&log)?.lines() {
//!     feed.push(format!("{line}\n").as_bytes());
//! }
//! assert_eq!(feed.finish().ops, tally.ops);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

#![deny(missing_docs)]

pub mod aggregate;
pub mod attribution;
pub mod chunk;
pub mod coverage;
pub mod error;
pub mod event;
pub mod input;
pub mod lists;
pub mod mapguard;
pub mod pipeline;
pub mod routing;
pub mod spec;

pub use error::{Error, Result};

/// [`routing`] under the name the engine's stages import it by.
#[doc(hidden)]
pub use routing as routes;
