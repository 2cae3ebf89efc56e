//! Subcommands, one file each. Each returns the process exit status.

pub mod check;
pub mod diff;
pub mod gen;
pub mod history;
pub mod lint_lists;
pub mod merge;
pub mod ops;
pub mod parse;
pub mod route;
pub mod serve;

use crate::cli::SpecArgs;
use crate::error::Result;
use crate::routes::{AnyMatcher, Router};
use crate::spec::Catalogue;

/// Exit status: success.
pub const EXIT_OK: i32 = 0;
/// Exit status: a coverage gate tripped.
pub const EXIT_GATE: i32 = 1;
/// Exit status: usage or input error.
pub const EXIT_ERROR: i32 = 2;

/// Loads the catalogue named by `--swagger`.
pub fn load_catalogue(spec: &SpecArgs) -> Result<Catalogue> {
    let doc = spec.fetch.fetcher().get(&spec.swagger)?;
    Catalogue::from_json(&doc.bytes, &doc.name)
}

/// The router the flags ask for.
pub fn build_router(spec: &SpecArgs, catalogue: &Catalogue) -> Router<AnyMatcher> {
    Router::with_matcher(
        AnyMatcher::build(spec.matcher, catalogue),
        spec.watch_credit,
    )
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
        Command::Serve(args) => serve::run(args),
    }
}
