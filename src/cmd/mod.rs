//! Subcommands, one file each. Each returns the process exit status.

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
pub mod serve;

use crate::cli::{ListArgs, SpecArgs};
use crate::error::Result;
use crate::lists::EndpointList;
use crate::routes::{AnyMatcher, Router};
use crate::source::{fetch_all, Document, Fetcher, Wanted};
use crate::spec::Catalogue;

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
    crate::catalogue_cache::load(&fetcher, &doc)
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
    failed: Vec<(&'static str, crate::Error)>,
) -> Result<Loaded> {
    let [ineligible, pending] = lists.wanted();
    let mut wanted = vec![spec.wanted(), ineligible, pending];
    wanted.extend_from_slice(more);
    let mut docs = fetch_all(fetcher, &wanted, failed)?;
    let more = docs.split_off(3);
    let (ineligible, pending) = ListArgs::parse(fetcher, &docs[1..])?;
    let catalogue = crate::catalogue_cache::load(fetcher, &docs[0])?;
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
        AnyMatcher::build(spec.matcher, catalogue)?,
        spec.watch_credit,
    ))
}

/// Runs one subcommand.
pub fn run(command: &crate::cli::Command) -> Result<i32> {
    use crate::cli::Command;
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
        Command::Serve(args) => serve::run(args),
        Command::Promotions(args) => promotions::run(args),
        Command::Explain(args) => explain::run(args),
    }
}
