//! apicov's outputs and the algebra of runs, over `apicov-core`'s tallies.
//!
//! [`report`] renders one run (one module a format: the drop-in
//! `audit-endpoints.txt` and `audit-operations.json`, report JSON, HTML,
//! JUnit, the console summary) and writes outputs all or none, with
//! [`cleanup`] removing temporary files on signals. Across runs: [`diff`]
//! (a pull request against a baseline), [`merge`] (several parts or runs into
//! one), [`history`] (a timeline of runs; [`columnar`] writes it as Parquet
//! behind the default `parquet` feature). [`promotions`] and [`near_miss`]
//! explain verdicts.
//!
//! # Example
//!
//! The drop-in `audit-endpoints.txt` of a run counted by `apicov-core`:
//!
//! ```
//! use apicov_core::{Catalogue, Coverage, EndpointList, Engine, EngineOptions, Router, WatchCredit};
//! use apicov_report::report::endpoints::{EndpointsText, SortOrder};
//! use apicov_report::report::{Caveats, Run};
//!
//! let swagger = br#"{"info": {"version": "v1.36.0"}, "paths": {
//!   "/api/v1/namespaces/{namespace}/pods": {
//!     "get": {"operationId": "listCoreV1NamespacedPod"}}}}"#;
//! let catalogue = Catalogue::from_json(swagger, "swagger.json")?;
//! let router = Router::new(&catalogue, WatchCredit::default());
//! let mut feed = Engine::new(router, EngineOptions::default()).feed();
//! feed.push(concat!(
//!     r#"{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"a1","stage":"ResponseComplete","requestURI":"/api/v1/namespaces/default/pods?limit=500","verb":"list","user":{"username":"admin"},"userAgent":"e2e.test/v1.36.0"}"#,
//!     "\n"
//! ).as_bytes());
//! let tally = feed.finish();
//!
//! let none = EndpointList::default();
//! let coverage = Coverage::new(&catalogue, &tally, &none, &none);
//! let run = Run {
//!     catalogue: &catalogue,
//!     spec_source: "swagger.json",
//!     tally: &tally,
//!     inputs: &[],
//!     ineligible: &none,
//!     pending: &none,
//!     watch_credit: WatchCredit::default(),
//!     by_test: false,
//!     seeded_from: None,
//!     chain_position: 0,
//!     caveats: Caveats::default(),
//! };
//! // Every format renders from the run and its coverage (`report::Render`);
//! // the endpoints text also gives its text for the console.
//! let format = EndpointsText { sort: SortOrder::Name, not_found_lines: false };
//! let text = format.text(&run, &coverage);
//! assert!(text.ends_with("\n----------------------------------------------------------------------\nlistCoreV1NamespacedPod | 1"));
//! # Ok::<(), apicov_core::Error>(())
//! ```

#![deny(missing_docs)]

pub mod caveats;
pub mod cleanup;
#[cfg(feature = "parquet")]
pub mod columnar;
pub mod dates;
pub mod diff;
pub mod history;
pub mod merge;
pub mod near_miss;
pub mod promotions;
pub mod report;

/// `n` and its noun, singular for one: "1 request", "3 requests".
pub fn counted(n: u64, singular: &str, plural: &str) -> String {
    format!("{n} {}", if n == 1 { singular } else { plural })
}

/// How often, in words: "once", "twice", "3 times".
pub fn times(n: u64) -> String {
    match n {
        1 => "once".into(),
        2 => "twice".into(),
        _ => format!("{n} times"),
    }
}
