//! The `apicov` command line over the engine (`apicov-core`) and its outputs
//! (`apicov-report`).
//!
//! [`cmd`] holds the command line: one file a subcommand, each with its flags
//! and its `run`, over the flag groups several share ([`args`]); [`outputs`] writes a
//! run's files and console summary. Beside it: [`progress`] draws the scan's
//! progress on stderr, and [`serve`] is the audit-webhook server on the same
//! engine (`serve` feature). Documents and CI runs come from `apicov-fetch`.

pub mod args;
pub mod cmd;
pub mod outputs;
pub mod progress;
#[cfg(feature = "serve")]
pub mod serve;
