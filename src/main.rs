//! The `apicov` binary: parses the command line, runs one subcommand, prints
//! one line per error and maps outcomes to exit statuses (0 ok, 1 a coverage
//! gate tripped, 2 usage or input error).
//!
//! The crate is a binary only: [`cmd`] holds the command line, one file a
//! subcommand, each with its flags and its `run`, over the flag groups
//! several share ([`args`]); [`outputs`] writes a run's files and console
//! summary, and [`progress`] draws the scan's progress on stderr. The work
//! is done by the libraries: `apicov-core` (the engine), `apicov-report`
//! (the outputs), `apicov-fetch` (documents and CI runs), `apicov-gen` (test
//! data) and `apicov-serve` (the audit webhook, `serve` feature).

mod args;
mod cmd;
mod outputs;
mod progress;

use clap::Parser;

// Chunk tallies are built on one worker and freed on another; glibc's
// per-thread arenas handle that poorly (mimalloc: a parse a few per cent
// faster). Built without its huge-page advice on the heap (`no_thp`): on a
// VM that reports free memory to its host, a fresh 2 MiB page comes back
// from the host on first touch, and a parse after a pause took over half
// as much CPU again (docs/performance.md).
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    ignore_file_size_signal();
    // A log truncated while mapped is reported, not a SIGBUS death.
    apicov_core::mapguard::install();
    let cli = cmd::Cli::parse();
    // Temporary outputs are removed on SIGTERM/SIGINT/SIGHUP.
    if !cli.command.handles_signals() {
        apicov_report::cleanup::install();
    }
    let status = match cmd::run(&cli.command) {
        Ok(status) => status,
        Err(err) => {
            eprintln!("apicov: error: {}", cmd::error_text(&err));
            cmd::EXIT_ERROR
        }
    };
    exit(status)
}

/// A write past the file-size limit (`ulimit -f`) fails with EFBIG, which
/// apicov reports naming the file and cleans up after; the kernel also sends
/// SIGXFSZ, whose default action would kill the process first and leave the
/// staged `.apicov-*.tmp` files behind. Ignored here, as Rust's runtime
/// ignores SIGPIPE so that a closed pipe is an error, not a death.
fn ignore_file_size_signal() {
    // SAFETY: installing SIG_IGN runs no code in the handler's context.
    #[cfg(unix)]
    unsafe {
        libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
    }
}

/// Exits without the allocator's teardown. `std::process::exit` runs
/// mimalloc's exit handler, which frees and returns every page it holds
/// (~190 `madvise` calls after a 199 MB parse) just before the kernel frees
/// them all anyway. Everything
/// apicov writes is written and closed by now; stdout and stderr are
/// flushed here.
fn exit(status: i32) -> ! {
    use std::io::Write;
    let _ = std::io::stdout().flush();
    let _ = std::io::stderr().flush();
    // SAFETY: `_exit` ends the process; nothing runs after it.
    #[cfg(unix)]
    unsafe {
        libc::_exit(status)
    }
    #[cfg(not(unix))]
    std::process::exit(status)
}
