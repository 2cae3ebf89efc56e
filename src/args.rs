//! The flag groups several subcommands share (the spec, the tracking lists,
//! fetching), with the reference scripts' spellings accepted as aliases so CI
//! jobs only change the program. Each subcommand's own flags live beside its
//! `run` in [`crate::cmd`].

use std::path::PathBuf;

use clap::Args;

use apicov_core::lists::EndpointList;
use apicov_core::routing::{Strategy, WatchCredit};
use apicov_fetch::source::{DEFAULT_INELIGIBLE_URL, DEFAULT_PENDING_URL, DEFAULT_SWAGGER_URL};
use apicov_report::report::endpoints::SortOrder;

/// Where the swagger spec comes from and how requests are matched to it.
#[derive(Debug, Clone, Args)]
pub struct SpecArgs {
    /// Swagger/OpenAPI v2 spec: a path, file:// URL or http(s):// URL.
    #[arg(long = "swagger", visible_alias = "swagger-url", value_name = "PATH|URL",
          default_value = DEFAULT_SWAGGER_URL)]
    pub swagger: String,

    /// Which operation a watch credits: the deprecated /watch/ operation
    /// (as the reference does) or the list operation (as APIsnoop does).
    #[arg(long, value_enum, default_value_t = WatchCredit::Deprecated)]
    pub watch_credit: WatchCredit,

    /// Route-matching strategy (all give identical results; see benches/).
    #[arg(long, value_enum, default_value_t = Strategy::Trie)]
    pub matcher: Strategy,

    #[command(flatten)]
    pub fetch: FetchArgs,
}

/// The conformance tracking lists (the reference's `…-url` spellings too).
#[derive(Debug, Clone, Args)]
pub struct ListArgs {
    /// Ineligible endpoints YAML (path or URL).
    #[arg(long, visible_alias = "ineligible-endpoints-url", value_name = "PATH|URL",
          default_value = DEFAULT_INELIGIBLE_URL)]
    pub ineligible_endpoints: String,

    /// Pending eligible endpoints YAML (path or URL).
    #[arg(long, visible_alias = "pending-eligible-endpoints-url", value_name = "PATH|URL",
          default_value = DEFAULT_PENDING_URL)]
    pub pending_eligible_endpoints: String,
}

/// The tracking lists of a command that reads report JSONs (`merge`,
/// `explain`): by default, the lists the reports record they were parsed
/// with.
#[derive(Debug, Clone, Args)]
pub struct RecordedListArgs {
    /// Ineligible endpoints YAML (path or URL) [default: the list the
    /// report was parsed with, as it records it].
    #[arg(
        long,
        visible_alias = "ineligible-endpoints-url",
        value_name = "PATH|URL"
    )]
    pub ineligible_endpoints: Option<String>,

    /// Pending eligible endpoints YAML (path or URL) [default: the list the
    /// report was parsed with, as it records it].
    #[arg(
        long,
        visible_alias = "pending-eligible-endpoints-url",
        value_name = "PATH|URL"
    )]
    pub pending_eligible_endpoints: Option<String>,
}

impl ListArgs {
    /// Reads (ineligible, pending), reporting both when both are missing.
    #[cfg(feature = "serve")]
    pub fn load(
        &self,
        fetcher: &apicov_fetch::source::Fetcher,
    ) -> apicov_core::Result<(EndpointList, EndpointList)> {
        let docs = apicov_fetch::source::fetch_all(fetcher, &self.wanted(), Vec::new())?;
        ListArgs::parse(fetcher, &docs)
    }

    /// The two lists as documents to fetch, ineligible first.
    pub fn wanted(&self) -> [apicov_fetch::source::Wanted<'_>; 2] {
        [
            apicov_fetch::source::Wanted {
                flag: "--ineligible-endpoints",
                location: &self.ineligible_endpoints,
            },
            apicov_fetch::source::Wanted {
                flag: "--pending-eligible-endpoints",
                location: &self.pending_eligible_endpoints,
            },
        ]
    }

    /// Parses the two documents fetched for [`ListArgs::wanted`] (or reads
    /// them back from the fetcher's cache directory: `catalogue_cache`).
    pub fn parse(
        fetcher: &apicov_fetch::source::Fetcher,
        docs: &[apicov_fetch::source::Document],
    ) -> apicov_core::Result<(EndpointList, EndpointList)> {
        Ok((
            apicov_fetch::catalogue_cache::load_list(fetcher, &docs[0])?,
            apicov_fetch::catalogue_cache::load_list(fetcher, &docs[1])?,
        ))
    }
}

/// How remote documents are fetched.
#[derive(Debug, Clone, Args)]
pub struct FetchArgs {
    /// Use cached copies of remote documents only; never touch the network.
    #[arg(long)]
    pub offline: bool,

    /// Cache directory for remote documents
    /// [default: $APICOV_CACHE_DIR, $XDG_CACHE_HOME/apicov or ~/.cache/apicov].
    #[arg(long, value_name = "DIR")]
    pub cache_dir: Option<PathBuf>,
}

impl SpecArgs {
    /// The spec as a document to fetch.
    pub fn wanted(&self) -> apicov_fetch::source::Wanted<'_> {
        apicov_fetch::source::Wanted {
            flag: "--swagger",
            location: &self.swagger,
        }
    }
}

impl FetchArgs {
    pub fn fetcher(&self) -> apicov_fetch::source::Fetcher {
        apicov_fetch::source::Fetcher::new(self.cache_dir.clone(), self.offline)
    }
}

/// Where audit-operations.json goes unless told (the reference's name).
pub const DEFAULT_OPERATIONS_JSON: &str = "audit-operations.json";

/// The output files, shared by `parse`, `check`, `merge` and `serve`.
#[derive(Debug, Clone, Args)]
pub struct OutputArgs {
    /// audit-endpoints.txt to write (default: print it to stdout).
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,

    /// Sample events per operation. Always written, by default into the
    /// working directory as audit_log_parser.py does (also under -q).
    #[arg(long, value_name = "FILE", default_value = DEFAULT_OPERATIONS_JSON)]
    pub audit_operations_json: PathBuf,

    /// Order of the endpoint lines.
    #[arg(long, value_enum, default_value_t = SortOrder::Name)]
    pub sort: SortOrder,

    /// Also write the full report as JSON.
    #[arg(long, value_name = "FILE")]
    pub report_json: Option<PathBuf>,

    /// Write a self-contained HTML coverage report (implies --by-test).
    #[arg(long, value_name = "FILE")]
    pub html: Option<PathBuf>,

    /// Write a JUnit XML file: one testcase per stable observable operation.
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,

    /// Gate lines on stderr: `first` prints the first 10 "Stable endpoint …
    /// not found" lines and a count of the rest, and the same of the
    /// "Endpoint … found in pending_eligible_endpoints.yaml" lines; `all`
    /// prints every one, as audit_log_parser.py does. The exit status is the
    /// same either way.
    #[arg(long, value_enum, default_value_t = GateLines::First, value_name = "HOW")]
    pub gate_lines: GateLines,

    /// Append `op | NOT FOUND` lines for unexercised stable operations to the
    /// endpoints file, for readers of older versions of the file.
    #[arg(long)]
    pub not_found_in_output: bool,
}

/// How many lines of each gate ("Stable endpoint … not found", pending
/// endpoint exercised) the console prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum GateLines {
    /// The first 10 of each gate, then a count of the rest.
    First,
    /// Every one (the reference's output).
    All,
}

impl GateLines {
    /// Gate lines shown by default: enough to start on, few enough to read.
    pub const FIRST: usize = 10;

    /// The limit `Summary::gates` takes (`None`: no limit).
    pub fn limit(self) -> Option<usize> {
        match self {
            GateLines::First => Some(Self::FIRST),
            GateLines::All => None,
        }
    }
}
