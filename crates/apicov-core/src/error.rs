//! Typed errors of the library. Each variant names the file, URL or stream it
//! concerns and says what went wrong in words of the library: a program
//! adds its own prefix, and the flags or commands that would help.

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

    /// A remote document could not be reached (no network, or offline
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

    /// An input is compressed in a format this build does not read (xz,
    /// bzip2, lz4; gzip and zstd without the `compression` feature).
    #[error("{}: compressed with {format}{}", path.display(), unreadable_why(format))]
    Unreadable {
        /// The input's path.
        path: PathBuf,
        /// The format, by its tool's name (`xz`).
        format: &'static str,
    },

    /// A mapped input shrank while it was read (logrotate's `copytruncate`):
    /// part of what was counted read as zeros, so the run has no result.
    #[error(
        "{}: truncated while being read ({was} bytes when opened, {now} now; logrotate \
         copytruncate?)",
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

    /// Results of different meaning (another spec, conformance tests only or
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

    /// A matching strategy cannot be built for this spec (the segment trie,
    /// the default, always can).
    #[error("the {strategy} matcher {problem}")]
    Matcher {
        /// The strategy, as `Strategy` names it (`regex`, `prefilter`).
        strategy: &'static str,
        /// What stops it.
        problem: MatcherProblem,
    },

    /// A value given to the library is unusable (a thread count, too many
    /// inputs, a matcher for a spec it cannot compile).
    #[error("{0}")]
    Usage(String),

    /// An error of the program using the library, carried through it.
    #[error("{0}")]
    Other(Box<dyn std::error::Error + Send + Sync>),
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

/// Why a matching strategy cannot be built ([`Error::Matcher`]).
#[derive(Debug, thiserror::Error)]
pub enum MatcherProblem {
    /// A path template has more segments than the strategy handles.
    #[error("handles templates of up to {max} segments")]
    TooManySegments {
        /// The most it handles.
        max: usize,
    },
    /// The strategy's automaton could not be built.
    #[error("cannot be built: {0}")]
    Automaton(String),
    /// The templates do not compile into one automaton within its limits.
    #[error("cannot compile the spec's {templates} path templates ({why})")]
    TooLarge {
        /// Templates in the spec.
        templates: usize,
        /// The compiler's reason.
        why: String,
    },
}

/// Why [`Error::Unreadable`]'s format is not read.
fn unreadable_why(format: &str) -> &'static str {
    match format {
        "gzip" | "zstd" => ": this apicov was built without the `compression` feature",
        _ => ", which apicov does not read",
    }
}

/// `Result` with apicov's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
