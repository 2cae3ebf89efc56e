//! `apicov serve`: live coverage as the kube-apiserver's audit webhook
//! backend (`--audit-webhook-config-file`). The flags, mapped to
//! `apicov_serve::ServeConfig`; the server is the `apicov-serve` crate, and
//! its outcome is mapped to the exit status here.

use std::path::PathBuf;
use std::time::Duration;

use clap::Args;

use crate::args::{ListArgs, SpecArgs};
use apicov_core::aggregate::Window;
use apicov_core::error::Result;
use apicov_core::event::Validation;
use apicov_report::report::summary::Summary;
use apicov_report::report::Run;
use apicov_serve::{Loaded, ServeConfig, ServeOutcome};

use super::gen::parse_size;
use crate::args::OutputArgs;

#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    /// Address to listen on (HOST:PORT; a host name is resolved). Plain
    /// HTTP only on a loopback address unless --insecure-listen.
    #[arg(long, default_value = "127.0.0.1:8443", value_name = "ADDR")]
    pub listen: String,

    #[command(flatten)]
    pub spec: SpecArgs,

    /// Written on SIGTERM, SIGINT or `POST /flush`, as `parse` writes them.
    #[command(flatten)]
    pub out: OutputArgs,

    #[command(flatten)]
    pub lists: ListArgs,

    /// Append every accepted event to rotating JSON-lines files in DIR
    /// (`audit-NNNNNN.log`) before answering; on start, replay DIR first.
    #[arg(long, value_name = "DIR")]
    pub spool: Option<PathBuf>,

    /// Start a new spool file when the current one reaches this size.
    #[arg(long, default_value = "128M", value_parser = parse_size, value_name = "BYTES")]
    pub spool_file_size: u64,

    /// Do not fdatasync the spool before answering (a killed server still
    /// loses nothing; a crashed machine may lose the last batches).
    #[arg(long)]
    pub no_fsync: bool,

    /// TLS certificate chain (PEM).
    #[arg(long, value_name = "FILE", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,

    /// TLS private key (PEM).
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,

    /// Require a client certificate signed by this CA (PEM): the
    /// client-certificate of the webhook kubeconfig. Needs TLS.
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    pub client_ca: Option<PathBuf>,

    /// Require `Authorization: Bearer <token>` with the token in FILE (the
    /// kubeconfig's `token`).
    #[arg(long, value_name = "FILE")]
    pub token_file: Option<PathBuf>,

    /// Allow plain HTTP, or no client authentication, on a non-loopback address.
    #[arg(long)]
    pub insecure_listen: bool,

    /// Largest accepted POST body (after gzip decoding too): the apiserver's
    /// --audit-webhook-truncate-max-batch-size default.
    #[arg(long, default_value = "10M", value_parser = parse_size, value_name = "BYTES")]
    pub max_body: u64,

    /// Bytes of accepted batches that may wait for the engine; beyond it
    /// POSTs get 429 with Retry-After (the apiserver backs off and retries).
    #[arg(long, default_value = "64M", value_parser = parse_size, value_name = "BYTES")]
    pub queue_bytes: u64,

    /// Authorized requests served at once (each may hold a body of up to
    /// --max-body while it is read); more wait. Up to 16 times as many
    /// connections are kept open; more wait to be accepted.
    #[arg(long, default_value_t = 64, value_name = "N")]
    pub max_connections: usize,

    /// Seconds a client has to send a request's body (its headers, and a
    /// TLS handshake, get at most 5 s).
    #[arg(long, default_value_t = 30, value_name = "SECONDS")]
    pub read_timeout: u64,

    /// Events remembered to drop replays (auditID + stage seen already);
    /// 0 turns the check off.
    #[arg(long, default_value_t = 1_000_000, value_name = "EVENTS")]
    pub replay_window: usize,

    /// Attribute requests to e2e tests and clients (as `parse --by-test`).
    #[arg(long)]
    pub by_test: bool,

    /// Count only requests made by `[Conformance]` specs.
    #[arg(long)]
    pub conformance_only: bool,

    /// How much of each event is checked (as `parse --validate`).
    #[arg(long, value_enum, default_value_t = Validation::Fast)]
    pub validate: Validation,

    /// How far apart, in events, two events with one auditID may be and
    /// still count as one request: finished requests are remembered for
    /// this many events, whatever the order their stages arrive in.
    #[arg(long, value_name = "EVENTS", default_value_t = Window::DEFAULT.0,
          value_parser = clap::value_parser!(u64).range(1..=Window::MAX.0))]
    pub window_events: u64,

    /// Exit 0 after the final write even when a gate tripped.
    #[arg(long)]
    pub no_fail: bool,

    /// No summary on stdout at exit (the start-up line on stderr stays).
    #[arg(short, long)]
    pub quiet: bool,

    /// Worker threads of the HTTP server (default: one per core).
    #[arg(long, default_value_t = 0, value_name = "N")]
    pub threads: usize,
}

pub fn run(args: &ServeArgs) -> Result<i32> {
    let by_test = args.by_test || args.out.html.is_some();
    let config = ServeConfig {
        listen: args.listen.clone(),
        tls_cert: args.tls_cert.clone(),
        tls_key: args.tls_key.clone(),
        client_ca: args.client_ca.clone(),
        token_file: args.token_file.clone(),
        insecure_listen: args.insecure_listen,
        max_body: args.max_body,
        queue_bytes: args.queue_bytes,
        max_connections: args.max_connections,
        read_timeout: args.read_timeout,
        replay_window: args.replay_window,
        spool: args.spool.clone(),
        spool_file_size: args.spool_file_size,
        fsync: !args.no_fsync,
        validation: args.validate,
        window_events: args.window_events,
        by_test,
        conformance_only: args.conformance_only,
        watch_credit: args.spec.watch_credit,
        threads: args.threads,
    };
    let outcome = apicov_serve::run(&config, || load(args))?;
    Ok(exit_status(&outcome, args.no_fail))
}

/// A gate tripped fails the run unless --no-fail.
fn exit_status(outcome: &ServeOutcome, no_fail: bool) -> i32 {
    if outcome.gate_tripped && !no_fail {
        super::EXIT_GATE
    } else {
        super::EXIT_OK
    }
}

/// The spec, the lists and the router, once the server's settings are
/// sound; the final write is `parse`'s outputs, summary and gates.
fn load(args: &ServeArgs) -> Result<Loaded> {
    let mut inputs = crate::outputs::named_inputs(&args.spec, &args.lists);
    inputs.extend(
        [
            &args.tls_cert,
            &args.tls_key,
            &args.client_ca,
            &args.token_file,
        ]
        .into_iter()
        .filter_map(|p| p.as_deref()),
    );
    crate::outputs::check_paths(&[], &inputs, &crate::outputs::output_paths(&args.out))?;
    let fetcher = args.spec.fetch.fetcher();
    let (ineligible, pending) = args.lists.load(&fetcher)?;
    let spec_doc = fetcher.get(&args.spec.swagger)?;
    let catalogue = apicov_fetch::catalogue_cache::load(&fetcher, &spec_doc)?;
    let router = super::build_router(&args.spec, &catalogue)?;
    let pool = crate::outputs::thread_pool(args.threads)?;
    let out = args.out.clone();
    let (quiet, no_fail) = (args.quiet, args.no_fail);
    let write_outputs = move |run: &Run<'_>, elapsed: Duration| -> Result<ServeOutcome> {
        let (endpoints, coverage) = crate::outputs::write_outputs(run, &out, &pool, true)?;
        let summary = Summary {
            catalogue: run.catalogue,
            tally: run.tally,
            coverage: &coverage,
            inputs: run.inputs,
            elapsed,
            conformance_only: run.caveats.conformance_only,
        };
        let gates = crate::outputs::console(
            &summary,
            &endpoints,
            (quiet, no_fail),
            &out,
            run.ineligible,
            run.pending,
        )?;
        Ok(ServeOutcome {
            gate_tripped: !gates.is_empty(),
        })
    };
    Ok(Loaded {
        catalogue,
        spec_source: spec_doc.name.clone(),
        router,
        ineligible,
        pending,
        write_outputs: Box::new(write_outputs),
        exit_status: Box::new(move |outcome| exit_status(outcome, no_fail)),
    })
}
