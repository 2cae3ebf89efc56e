//! `apicov completions SHELL` and `apicov man`: shell completion scripts and
//! a roff man page generated from the clap definitions in `cli.rs`, so they
//! never drift from the flags (as ripgrep and hyperfine ship theirs).

use std::path::PathBuf;

use clap::{Args, CommandFactory};

use apicov_core::error::{Error, Result};

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to write a completion script for.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

#[derive(Debug, Args)]
pub struct ManArgs {
    /// Write the pages into DIR (apicov.1 and apicov-SUBCOMMAND.1 for each
    /// subcommand) instead of printing apicov.1 to stdout.
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
}

/// Prints the completion script for `args.shell` to stdout.
pub fn run_completions(args: &CompletionsArgs) -> Result<i32> {
    let mut command = super::Cli::command();
    let mut out = Vec::new();
    clap_complete::generate(args.shell, &mut command, "apicov", &mut out);
    apicov_report::report::write_stdout(&out)?;
    Ok(super::EXIT_OK)
}

/// Prints apicov.1, or writes every page into `--dir`.
pub fn run_man(args: &ManArgs) -> Result<i32> {
    let command = super::Cli::command();
    match &args.dir {
        None => {
            let mut out = Vec::new();
            render(command, &mut out)?;
            apicov_report::report::write_stdout(&out)?;
        }
        Some(dir) => {
            std::fs::create_dir_all(dir).map_err(|source| Error::Output {
                path: dir.clone(),
                source,
            })?;
            // apicov.1, apicov-parse.1, … (subcommand pages named as git's are).
            clap_mangen::generate_to(command, dir).map_err(|source| Error::Output {
                path: dir.clone(),
                source,
            })?;
        }
    }
    Ok(super::EXIT_OK)
}

fn render(command: clap::Command, out: &mut Vec<u8>) -> Result<()> {
    clap_mangen::Man::new(command)
        .render(out)
        .map_err(|e| Error::Usage(format!("cannot render the man page: {e}")))
}
