//! The command line: [`Cli`] and its subcommands, one file each with its
//! flags and its `run`, which returns the process exit status. Flags shared
//! by several subcommands are in [`crate::args`].

pub mod check;
pub mod completions;
pub mod diff;
pub mod explain;
pub mod gen;
pub mod history;
pub mod lint_lists;
pub mod merge;
pub mod ops;
pub mod parse;
pub mod promotions;
pub mod route;
#[cfg(feature = "serve")]
pub mod serve;

use clap::{Parser, Subcommand};

use crate::args::{ListArgs, SpecArgs};
use apicov_core::error::{Error, MatcherProblem, Result};
use apicov_core::lists::EndpointList;
use apicov_core::routing::{AnyMatcher, Router};
use apicov_core::spec::Catalogue;
use apicov_fetch::source::{fetch_all, Document, Fetcher, Wanted};

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
    Parse(parse::ParseArgs),
    /// Compare a pull request's run with the CI baseline
    /// (drop-in for kubernetes_api_analysis.py).
    Diff(diff::DiffArgs),
    /// Parse, compare with the CI baseline and apply every gate in one run (for CI).
    Check(check::CheckArgs),
    /// Validate the ineligible and pending tracking lists.
    LintLists(lint_lists::LintListsArgs),
    /// Combine report JSONs of parts or runs parsed apart.
    Merge(merge::MergeArgs),
    /// Re-analyse many CI runs: per-run table and per-operation timeline.
    History(history::HistoryArgs),
    /// Serve live coverage as the kube-apiserver's audit webhook backend.
    #[cfg(feature = "serve")]
    Serve(serve::ServeArgs),
    /// Operations newly stable between two specs, and the rule deciding each.
    Promotions(promotions::PromotionsArgs),
    /// Why one operation is (not) covered: its classification, its rule and
    /// the run's near misses.
    Explain(explain::ExplainArgs),
    /// List every operationId of the spec (swagger_operations.txt).
    Ops(ops::OpsArgs),
    /// Show which operation requests map to (`VERB URI… [VERB URI…]…`).
    Route(route::RouteArgs),
    /// Generate a realistic audit log for a spec, with its true counts.
    Gen(gen::GenArgs),
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell).
    Completions(completions::CompletionsArgs),
    /// Print the man page (roff), or write one page per subcommand with --dir.
    Man(completions::ManArgs),
}

/// Exit status: success.
pub const EXIT_OK: i32 = 0;
/// Exit status: a coverage gate tripped.
pub const EXIT_GATE: i32 = 1;
/// Exit status: usage or input error.
pub const EXIT_ERROR: i32 = 2;

/// Loads the catalogue named by `--swagger`.
pub fn load_catalogue(spec: &SpecArgs) -> Result<Catalogue> {
    let fetcher = spec.fetch.fetcher();
    let doc = fetch_all(&fetcher, &[spec.wanted()], Vec::new())?.remove(0);
    apicov_fetch::catalogue_cache::load(&fetcher, &doc)
}

/// What most commands read before their own inputs: the spec and the two
/// tracking lists, plus `more` documents, all fetched in one go so that every
/// missing one is reported at once (`failed`: failures found before).
pub struct Loaded {
    pub catalogue: Catalogue,
    /// The spec's name (path or URL) for reports.
    pub spec_source: String,
    pub ineligible: EndpointList,
    pub pending: EndpointList,
    /// The documents of `more`, in order.
    pub more: Vec<Document>,
}

/// Fetches and parses the spec, the lists and `more` (see [`Loaded`]).
pub fn load_inputs(
    fetcher: &Fetcher,
    spec: &SpecArgs,
    lists: &ListArgs,
    more: &[Wanted],
    failed: Vec<(&'static str, apicov_core::Error)>,
) -> Result<Loaded> {
    let [ineligible, pending] = lists.wanted();
    let mut wanted = vec![spec.wanted(), ineligible, pending];
    wanted.extend_from_slice(more);
    let mut docs = fetch_all(fetcher, &wanted, failed)?;
    let more = docs.split_off(3);
    let (ineligible, pending) = ListArgs::parse(fetcher, &docs[1..])?;
    let catalogue = apicov_fetch::catalogue_cache::load(fetcher, &docs[0])?;
    Ok(Loaded {
        catalogue,
        spec_source: docs.swap_remove(0).name,
        ineligible,
        pending,
        more,
    })
}

/// The router the flags ask for.
pub fn build_router(spec: &SpecArgs, catalogue: &Catalogue) -> Result<Router<AnyMatcher>> {
    Ok(Router::with_matcher(
        catalogue,
        AnyMatcher::build(spec.matcher, catalogue)?,
        spec.watch_credit,
    ))
}

impl Command {
    /// The command turns SIGTERM/SIGINT/SIGHUP into its own ending (`serve`
    /// flushes its outputs), so the temporary-file watcher is not installed.
    pub fn handles_signals(&self) -> bool {
        #[cfg(feature = "serve")]
        if matches!(self, Command::Serve(_)) {
            return true;
        }
        false
    }
}

/// Runs one subcommand.
/// An error as `main` prints it after `apicov: error: `: the library's
/// words, and what to do about it on this command line.
pub fn error_text(err: &Error) -> String {
    match err {
        Error::Truncated { .. } => format!(
            "{err}: no result written; run again on the rotated copy, or read a live log \
             with --read-mode stream"
        ),
        Error::Unreadable { format, .. } => format!(
            "{err}: decompress it and pass it on stdin (e.g. `{format} -dc FILE | apicov parse \
             --audit-logs -`)"
        ),
        // The words of the `--matcher` flag, as the matchers once said them.
        Error::Matcher { strategy, problem } => match problem {
            MatcherProblem::TooManySegments { max } => format!(
                "--matcher {strategy} handles templates of up to {max} segments; use --matcher \
                 trie (the default)"
            ),
            MatcherProblem::Automaton(why) => format!("--matcher {strategy}: {why}"),
            MatcherProblem::TooLarge { templates, why } => format!(
                "--matcher {strategy} cannot compile the spec's {templates} path templates \
                 ({why}): use --matcher trie (the default), which has no such limit"
            ),
        },
        _ => err.to_string(),
    }
}

pub fn run(command: &Command) -> Result<i32> {
    match command {
        Command::Parse(args) => parse::run(args),
        Command::Ops(args) => ops::run(args),
        Command::Route(args) => route::run(args),
        Command::Gen(args) => gen::run(args),
        Command::Diff(args) => diff::run(args),
        Command::Check(args) => check::run(args),
        Command::LintLists(args) => lint_lists::run(args),
        Command::Merge(args) => merge::run(args),
        Command::History(args) => history::run(args),
        Command::Completions(args) => completions::run_completions(args),
        Command::Man(args) => completions::run_man(args),
        #[cfg(feature = "serve")]
        Command::Serve(args) => serve::run(args),
        Command::Promotions(args) => promotions::run(args),
        Command::Explain(args) => explain::run(args),
    }
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    #[test]
    fn clap_definition_is_consistent() {
        super::Cli::command().debug_assert();
    }

    /// The library says what happened; the command line adds what to do.
    #[test]
    fn a_truncated_log_gets_the_flag_that_reads_it_live() {
        let err = apicov_core::Error::Truncated {
            path: "audit.log".into(),
            was: 8192,
            now: 4096,
        };
        assert_eq!(
            super::error_text(&err),
            "audit.log: truncated while being read (8192 bytes when opened, 4096 now; logrotate \
             copytruncate?): no result written; run again on the rotated copy, or read a live \
             log with --read-mode stream"
        );
        let other = apicov_core::Error::Usage("x".into());
        assert_eq!(super::error_text(&other), "x");
    }

    /// A matcher that cannot be built for the spec is named by its flag.
    #[test]
    fn a_matcher_that_cannot_be_built_gets_its_flag() {
        use apicov_core::error::MatcherProblem;
        let err = apicov_core::Error::Matcher {
            strategy: "regex",
            problem: MatcherProblem::TooLarge {
                templates: 900,
                why: "too big".into(),
            },
        };
        assert_eq!(
            err.to_string(),
            "the regex matcher cannot compile the spec's 900 path templates (too big)"
        );
        assert_eq!(
            super::error_text(&err),
            "--matcher regex cannot compile the spec's 900 path templates (too big): use \
             --matcher trie (the default), which has no such limit"
        );
        let err = apicov_core::Error::Matcher {
            strategy: "prefilter",
            problem: MatcherProblem::TooManySegments { max: 12 },
        };
        assert_eq!(
            super::error_text(&err),
            "--matcher prefilter handles templates of up to 12 segments; use --matcher trie \
             (the default)"
        );
    }
}
