//! apicov: Kubernetes API coverage from kube-apiserver audit logs.
//!
//! The pipeline, one module a stage:
//! `source` (documents) → `spec` (operation catalogue) → `routes` (matcher);
//! `input` → `chunk` → `event` (field extraction) → `aggregate` → `report`.

pub mod cli;
pub mod cmd;
pub mod error;
pub mod report;
pub mod routes;
pub mod source;
pub mod spec;

pub use error::{Error, Result};
