//! The `apicov` command line over the engine (`apicov-core`) and its outputs
//! (`apicov-report`).
//!
//! [`cmd`] holds the command line: one file a subcommand, each with its flags
//! and its `run`, over the flag groups several share ([`args`]); [`outputs`] writes a
//! run's files and console summary. Beside it:
//! [`source`] fetches the spec and the tracking lists (paths, or http(s) URLs
//! with the `remote` feature) and [`catalogue_cache`] keeps them compiled, [`progress`] draws the scan's progress on
//! stderr, [`gcs`] and [`remote`] read CI runs from Google Cloud Storage
//! (`remote` feature), and [`serve`] is the audit-webhook server on the same
//! engine (`serve` feature).

// The crate's surface is the command line; its modules are not a library.
#![allow(missing_docs)]

pub mod args;
pub mod catalogue_cache;
pub mod cmd;
#[cfg(feature = "remote")]
pub mod gcs;
pub mod outputs;
pub mod progress;
#[cfg(feature = "remote")]
pub mod remote;
#[cfg(feature = "serve")]
pub mod serve;
pub mod source;
