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
        /// The document, input or report: a path or URL.
        source_name: String,
        /// What went wrong, for the user.
        message: String,
    },

    /// A remote document could not be reached (no network, or `--offline`
    /// without a cached copy): replacing it with a local file helps.
    #[error("{source_name}: {message}")]
    Unreachable {
        /// The document, input or report: a path or URL.
        source_name: String,
        /// What went wrong, for the user.
        message: String,
    },

    /// The swagger document was read but is not a usable OpenAPI v2 spec.
    #[error("{source_name}: invalid swagger spec: {message}")]
    Spec {
        /// The document, input or report: a path or URL.
        source_name: String,
        /// What went wrong, for the user.
        message: String,
    },

    /// A tracking list (ineligible / pending YAML) is malformed.
    #[error("{source_name}: invalid endpoint list: {message}")]
    List {
        /// The document, input or report: a path or URL.
        source_name: String,
        /// What went wrong, for the user.
        message: String,
    },

    /// An audit log could not be opened, read or decompressed.
    #[error("{}: {message}", path.display())]
    /// An audit log could not be opened, read or decompressed.
    Input {
        /// The input's path.
        path: PathBuf,
        /// What went wrong, for the user.
        message: String,
    },

    /// A mapped input shrank while it was read (logrotate's `copytruncate`):
    /// part of what was counted read as zeros, so the run has no result.
    #[error(
        "{}: truncated while being read ({was} bytes when opened, {now} now; logrotate \
         copytruncate?): no result written; run again on the rotated copy, or read a \
         live log with --read-mode stream",
        path.display()
    )]
    Truncated {
        /// The input's path.
        path: PathBuf,
        /// Its size when opened.
        was: u64,
        /// Its size after the scan.
        now: u64,
    },

    /// Results of different meaning (another spec, `--conformance-only` or
    /// not, the same report twice) were to be combined.
    #[error("{source_name}: {message}")]
    Mixed {
        /// The document, input or report: a path or URL.
        source_name: String,
        /// What went wrong, for the user.
        message: String,
    },

    /// A glob or path on the command line named nothing.
    #[error("{pattern}: no such file (and no file matches it as a glob)")]
    NoMatch {
        /// The glob or path as given.
        pattern: String,
    },

    /// A run prefix (a `gs://` job) holds no run.
    #[error("{prefix}: no runs found")]
    NoRuns {
        /// The prefix as given.
        prefix: String,
    },

    /// An output file could not be written.
    #[error("{}: cannot write: {source}", path.display())]
    Output {
        /// The output's path.
        path: PathBuf,
        /// Why it could not be written.
        source: io::Error,
    },

    /// Inputs that could not be obtained, each with the flag that replaces it
    /// (several lines: one per input, then what to do without network).
    #[error("{}", missing_lines(inputs, cache_dir, *offline, *remote))]
    Missing {
        /// Each missing input: the flag naming it and why it is missing.
        inputs: Vec<(&'static str, Error)>,
        /// Where remote documents are cached.
        cache_dir: PathBuf,
        /// `--offline` was given.
        offline: bool,
        /// Some missing input is remote.
        remote: bool,
    },

    /// A command-line value is unusable in a way clap cannot see.
    #[error("{0}")]
    Usage(String),
}

impl Error {
    /// An input file is unreadable or malformed: `err` says how.
    pub fn input(path: impl Into<PathBuf>, err: impl std::fmt::Display) -> Error {
        Error::Input {
            path: path.into(),
            message: err.to_string(),
        }
    }
}

/// The text of [`Error::Missing`]: `main` prefixes the first line with
/// `apicov: error: `, so later lines carry their own prefix.
fn missing_lines(
    inputs: &[(&'static str, Error)],
    cache_dir: &std::path::Path,
    offline: bool,
    remote: bool,
) -> String {
    let mut text = inputs
        .iter()
        .map(|(flag, err)| format!("{err}; pass a local copy with {flag} FILE"))
        .collect::<Vec<_>>()
        .join("\napicov: error: ");
    if remote {
        let hint = if offline {
            format!(
                "--offline reads only the cache ({}); run once without --offline to fill it, \
                 or pass local copies with the flags above",
                cache_dir.display()
            )
        } else {
            format!(
                "without network, pass local copies with the flags above (a kubernetes \
                 checkout has api/openapi-spec/swagger.json and test/conformance/testdata/*.yaml), \
                 or run once with network to fill the cache ({}) and then add --offline",
                cache_dir.display()
            )
        };
        text.push_str("\napicov: hint: ");
        text.push_str(&hint);
    }
    text
}

/// `Result` with apicov's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
