//! apicov: Kubernetes API coverage from kube-apiserver audit logs.
//!
//! The pipeline, one module a stage:
//! `source` (documents) → `spec` (operation catalogue, kept compiled by
//! `catalogue_cache`) → `routes` (matcher);
//! `input` → `chunk` → `event` (field extraction) → `attribution` →
//! `aggregate` (tallies) → `coverage` → `report` (one module a format).
//! Beside it: `pipeline` drives the parallel scan, `progress` shows it,
//! `mapguard` survives inputs truncated while mapped and `cleanup` removes
//! temporary outputs on signals; `diff` and `gcs` compare with a CI
//! baseline; `merge`, `history`, `remote` (runs fetched from GCS) and
//! `columnar` combine runs; `promotions` and `near_miss` explain verdicts;
//! `lists` reads and lints the tracking files; `gen` writes test logs;
//! `serve` is the audit-webhook server on the same engine; `cli` and `cmd`
//! are the command line.

pub mod aggregate;
pub mod attribution;
pub mod catalogue_cache;
pub mod chunk;
pub mod cleanup;
pub mod cli;
pub mod cmd;
pub mod columnar;
pub mod coverage;
pub mod diff;
pub mod error;
pub mod event;
pub mod gcs;
pub mod gen;
pub mod history;
pub mod input;
pub mod lists;
pub mod mapguard;
pub mod merge;
pub mod near_miss;
pub mod pipeline;
pub mod progress;
pub mod promotions;
pub mod remote;
pub mod report;
pub mod routes;
pub mod serve;
pub mod source;
pub mod spec;

pub use error::{Error, Result};
