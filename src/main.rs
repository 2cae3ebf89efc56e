//! The `apicov` binary: parses the command line, runs one subcommand, prints
//! one line per error and maps outcomes to exit statuses (0 ok, 1 a coverage
//! gate tripped, 2 usage or input error).

use clap::Parser;

fn main() {
    let cli = apicov::cli::Cli::parse();
    let status = match apicov::cmd::run(&cli.command) {
        Ok(status) => status,
        Err(err) => {
            eprintln!("apicov: error: {err}");
            apicov::cmd::EXIT_ERROR
        }
    };
    std::process::exit(status);
}
