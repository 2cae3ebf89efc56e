//! The `apicov` command line over the engine (`apicov-core`) and its outputs
//! (`apicov-report`).
//!
//! [`cmd`] holds the command line: one file a subcommand, each with its flags
//! and its `run`, over the flag groups several share ([`args`]); [`outputs`] writes a
//! run's files and console summary, and [`progress`] draws the scan's
//! progress on stderr. Documents and CI runs come from `apicov-fetch`; the
//! audit-webhook server is `apicov-serve` (`serve` feature).

pub mod args;
pub mod cmd;
pub mod outputs;
pub mod progress;
