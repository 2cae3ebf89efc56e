//! Typed errors of the library. Each variant names the file, URL or stream it
//! concerns, so `main` can print one line and exit with status 2.

use std::io;
use std::path::PathBuf;

/// Everything that can stop a run. Bad *lines* are not errors: they are counted
/// and reported by the aggregation stage and never stop a run.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A document (spec, tracking list, baseline) could not be obtained.
    #[error("{source_name}: {message}")]
    Source {
        source_name: String,
        message: String,
    },

    /// The swagger document was read but is not a usable OpenAPI v2 spec.
    #[error("{source_name}: invalid swagger spec: {message}")]
    Spec {
        source_name: String,
        message: String,
    },

    /// A tracking list (ineligible / pending YAML) is malformed.
    #[error("{source_name}: invalid endpoint list: {message}")]
    List {
        source_name: String,
        message: String,
    },

    /// An audit log could not be opened, read or decompressed.
    #[error("{}: {message}", path.display())]
    Input { path: PathBuf, message: String },

    /// A mapped input shrank while it was read (logrotate's `copytruncate`):
    /// part of what was counted read as zeros, so the run has no result.
    #[error(
        "{}: truncated while being read ({was} bytes when opened, {now} now; logrotate \
         copytruncate?): no result written; run again on the rotated copy, or read a \
         live log with --read-mode stream",
        path.display()
    )]
    Truncated { path: PathBuf, was: u64, now: u64 },

    /// Results of different meaning (another spec, `--conformance-only` or
    /// not, the same report twice) were to be combined.
    #[error("{source_name}: {message}")]
    Mixed {
        source_name: String,
        message: String,
    },

    /// A glob or path on the command line named nothing.
    #[error("{pattern}: no such file (and no file matches it as a glob)")]
    NoMatch { pattern: String },

    /// An output file could not be written.
    #[error("{}: cannot write: {source}", path.display())]
    Output { path: PathBuf, source: io::Error },

    /// A command-line value is unusable in a way clap cannot see.
    #[error("{0}")]
    Usage(String),
}

impl Error {
    pub(crate) fn input(path: impl Into<PathBuf>, err: impl std::fmt::Display) -> Error {
        Error::Input {
            path: path.into(),
            message: err.to_string(),
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
