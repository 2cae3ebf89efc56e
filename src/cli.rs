//! The command line: clap definitions in one place, with the reference
//! scripts' spellings accepted as aliases so CI jobs only change the program.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::lists::EndpointList;
use crate::routes::{Strategy, WatchCredit};
use crate::source::{DEFAULT_INELIGIBLE_URL, DEFAULT_PENDING_URL, DEFAULT_SWAGGER_URL};

#[derive(Debug, Parser)]
#[command(
    name = "apicov",
    version,
    about = "Kubernetes API coverage from kube-apiserver audit logs",
    long_about = "Kubernetes API coverage from kube-apiserver audit logs.\n\
        A fast, exact drop-in for kubernetes/test-infra experiment/audit/audit_log_parser.py."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Parse audit logs into audit-endpoints.txt and audit-operations.json
    /// (drop-in for audit_log_parser.py).
    Parse(crate::cmd::parse::ParseArgs),
    /// Compare a pull request's run with the CI baseline
    /// (drop-in for kubernetes_api_analysis.py).
    Diff(crate::cmd::diff::DiffArgs),
    /// Parse, compare with the CI baseline and apply every gate in one run (for CI).
    Check(crate::cmd::check::CheckArgs),
    /// Validate the ineligible and pending tracking lists.
    LintLists(crate::cmd::lint_lists::LintListsArgs),
    /// Combine report JSONs of parts or runs parsed apart.
    Merge(crate::cmd::merge::MergeArgs),
    /// Re-analyse many CI runs: per-run table and per-operation timeline.
    History(crate::cmd::history::HistoryArgs),
    /// Serve live coverage as the kube-apiserver's audit webhook backend.
    Serve(crate::cmd::serve::ServeArgs),
    /// Operations newly stable between two specs, and the rule deciding each.
    Promotions(crate::cmd::promotions::PromotionsArgs),
    /// Why one operation is (not) covered: its classification, its rule and
    /// the run's near misses.
    Explain(crate::cmd::explain::ExplainArgs),
    /// List every operationId of the spec (swagger_operations.txt).
    Ops(crate::cmd::ops::OpsArgs),
    /// Show which operation requests map to (`VERB URI… [VERB URI…]…`).
    Route(crate::cmd::route::RouteArgs),
    /// Generate a realistic audit log for a spec, with its true counts.
    Gen(crate::cmd::gen::GenArgs),
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell).
    Completions(crate::cmd::completions::CompletionsArgs),
    /// Print the man page (roff), or write one page per subcommand with --dir.
    Man(crate::cmd::completions::ManArgs),
}

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

impl ListArgs {
    /// Reads (ineligible, pending), reporting both when both are missing.
    pub fn load(
        &self,
        fetcher: &crate::source::Fetcher,
    ) -> crate::Result<(EndpointList, EndpointList)> {
        let docs = crate::source::fetch_all(fetcher, &self.wanted(), Vec::new())?;
        ListArgs::parse(fetcher, &docs)
    }

    /// The two lists as documents to fetch, ineligible first.
    pub fn wanted(&self) -> [crate::source::Wanted<'_>; 2] {
        [
            crate::source::Wanted {
                flag: "--ineligible-endpoints",
                location: &self.ineligible_endpoints,
            },
            crate::source::Wanted {
                flag: "--pending-eligible-endpoints",
                location: &self.pending_eligible_endpoints,
            },
        ]
    }

    /// Parses the two documents fetched for [`ListArgs::wanted`] (or reads
    /// them back from the fetcher's cache directory: `catalogue_cache`).
    pub fn parse(
        fetcher: &crate::source::Fetcher,
        docs: &[crate::source::Document],
    ) -> crate::Result<(EndpointList, EndpointList)> {
        Ok((
            crate::catalogue_cache::load_list(fetcher, &docs[0])?,
            crate::catalogue_cache::load_list(fetcher, &docs[1])?,
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
    pub fn wanted(&self) -> crate::source::Wanted<'_> {
        crate::source::Wanted {
            flag: "--swagger",
            location: &self.swagger,
        }
    }
}

impl FetchArgs {
    pub fn fetcher(&self) -> crate::source::Fetcher {
        crate::source::Fetcher::new(self.cache_dir.clone(), self.offline)
    }
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    #[test]
    fn clap_definition_is_consistent() {
        super::Cli::command().debug_assert();
    }
}
