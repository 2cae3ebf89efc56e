//! `apicov gen`: writes a deterministic, realistic audit log for a spec and
//! its true counts (see `gen.rs`).

use std::io::Write as _;
use std::path::PathBuf;

use clap::Args;

use crate::args::SpecArgs;
use apicov_core::error::{Error, Result};
use apicov_gen::{generate, GenOptions, Level, Shape};
use apicov_report::report::Body;

#[derive(Debug, Args)]
pub struct GenArgs {
    #[command(flatten)]
    pub spec: SpecArgs,

    /// Log file to write (`.gz` names are gzip-compressed; `-` is standard
    /// output).
    #[arg(short, long, value_name = "FILE")]
    pub output: PathBuf,

    /// True counts as JSON.
    #[arg(long, value_name = "FILE")]
    pub truth: Option<PathBuf>,

    /// Approximate size in bytes (suffixes K, M, G).
    #[arg(long, default_value = "1M", value_parser = parse_size)]
    pub size: u64,

    #[arg(long, default_value_t = 1)]
    pub seed: u64,

    #[arg(long, value_enum, default_value_t = Level::Metadata)]
    pub level: Level,

    /// Kind of traffic: a conformance run's mix, large request/response
    /// bodies (with --level request or request-response), or a third of the
    /// requests on custom resources and aggregated APIs.
    #[arg(long, value_enum, default_value_t = Shape::Default)]
    pub shape: Shape,

    /// Write no RequestReceived events (`omitStages: [RequestReceived]`).
    #[arg(long)]
    pub omit_request_received: bool,

    /// Mix in blank, CRLF, torn and non-event lines.
    #[arg(long)]
    pub noise: bool,
}

/// A size with an optional K, M or G suffix (binary units).
pub fn parse_size(s: &str) -> std::result::Result<u64, String> {
    let (num, mult) = match s.chars().last() {
        Some('K' | 'k') => (&s[..s.len() - 1], 1u64 << 10),
        Some('M' | 'm') => (&s[..s.len() - 1], 1 << 20),
        Some('G' | 'g') => (&s[..s.len() - 1], 1 << 30),
        _ => (s, 1),
    };
    num.parse::<u64>()
        .map(|n| n * mult)
        .map_err(|e| format!("{s}: {e}"))
}

pub fn run(args: &GenArgs) -> Result<i32> {
    if args.shape == Shape::LargeBodies && args.level == Level::Metadata {
        return Err(Error::Usage(
            "--shape large-bodies needs --level request or request-response (Metadata-level \
             events carry no bodies)"
                .into(),
        ));
    }
    let outputs: Vec<&std::path::Path> = [Some(args.output.as_path()), args.truth.as_deref()]
        .into_iter()
        .flatten()
        .filter(|p| p.as_os_str() != "-")
        .collect();
    crate::outputs::check_paths(&[], &crate::outputs::spec_input(&args.spec), &outputs)?;
    let catalogue = super::load_catalogue(&args.spec)?;
    let options = GenOptions {
        seed: args.seed,
        target_bytes: args.size,
        level: args.level,
        omit_request_received: args.omit_request_received,
        noise: args.noise,
        shape: args.shape,
    };
    let mut log = Vec::with_capacity(args.size as usize + (64 << 10));
    let truth = generate(&catalogue, &options, &mut log);
    let bytes = if args.output.extension().is_some_and(|e| e == "gz") {
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        enc.write_all(&log)
            .and_then(|()| enc.finish())
            .map_err(|e| Error::Output {
                path: args.output.clone(),
                source: e,
            })?
    } else {
        log
    };
    // `-o -`: the log goes to standard output (the truth file, if any, is
    // written first, so a consumer of the pipe can already read it).
    let (to_file, to_stdout) = if args.output.as_os_str() == "-" {
        (None, Some(bytes))
    } else {
        (Some(bytes), None)
    };
    let mut files: Vec<(PathBuf, Body)> = Vec::new();
    if let Some(bytes) = to_file {
        files.push((args.output.clone(), bytes.into()));
    }
    if let Some(path) = &args.truth {
        let mut t = serde_json::to_vec_pretty(&truth.to_json()).expect("Value serialises");
        t.push(b'\n');
        files.push((path.clone(), t.into()));
    }
    apicov_report::report::write_all_atomic(&files)?;
    if let Some(bytes) = to_stdout {
        apicov_report::report::write_stdout(&bytes)?;
    }
    Ok(super::EXIT_OK)
}
