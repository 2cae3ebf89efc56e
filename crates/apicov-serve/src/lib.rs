//! `apicov serve`: the kube-apiserver's audit webhook backend.
//!
//! hyper (HTTP/1.1, optionally over rustls) accepts connections; axum routes
//! requests; every event POST is read, decoded (`ingest::decode`) and put
//! on one queue. One ingest thread takes batches off the queue in the order
//! they were received, drops replays, spools, counts them with the `parse`
//! engine (`ingest::Intake`), syncs the spool once per group of batches and
//! only then answers. The queue is bounded in bytes: beyond it POSTs get 429.
//! A flush (SIGTERM, SIGINT, `POST /flush`) is a job on the same queue, so it
//! sees every batch received before it; it writes `parse`'s outputs and the
//! server returns its [`ServeOutcome`].
//!
//! The server takes a plain [`ServeConfig`]; what it serves (the catalogue,
//! router and lists) and how a flush writes a run's files come from the
//! program that starts it ([`Loaded`]), so the command line's flags stay
//! with the program.

#![deny(missing_docs)]

mod ingest;
mod metrics;
mod spool;
mod tls;

use std::io::Read as _;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use hyper_util::rt::{TokioIo, TokioTimer};
use subtle::ConstantTimeEq;
use tokio::sync::{mpsc, oneshot, Semaphore};

use apicov_core::aggregate::{Tally, Window};
use apicov_core::attribution::Attribution;
use apicov_core::coverage::Coverage;
use apicov_core::error::{Error, Result};
use apicov_core::event::Validation;
use apicov_core::lists::EndpointList;
use apicov_core::pipeline::{Engine, EngineOptions, InputInfo};
use apicov_core::routing::{AnyMatcher, Router, WatchCredit};
use apicov_core::spec::Catalogue;
use apicov_report::report::{self as reports, Run};

use ingest::{Batch, Ingested, Intake};
use metrics::WebhookMetrics;
use tls::{CertState, ClientCerts};

/// Batches handled between two spool syncs, at most.
const GROUP: usize = 64;
/// How long open connections get to finish after a flush.
const DRAIN: Duration = Duration::from_secs(10);
/// Time for a TLS handshake, and for each request's headers (counted from
/// the end of the previous request, so an idle keep-alive connection is
/// closed after it too). Short, so that slow or silent connections cannot
/// keep the apiserver out; capped by --read-timeout.
const HEADER_TIMEOUT: Duration = Duration::from_secs(5);
/// Open connections allowed per request slot (--max-connections). A
/// connection costs a task and a small read buffer until it sends an
/// authorized request; only then does it take one of the slots that bound
/// the bodies being read.
const CONNECTIONS_PER_SLOT: usize = 16;

/// Work for the ingest thread.
enum Job {
    Batch {
        batch: Batch,
        /// Queue room held until the batch is counted.
        _room: tokio::sync::OwnedSemaphorePermit,
        reply: oneshot::Sender<std::result::Result<Ingested, (StatusCode, String)>>,
    },
    Flush {
        reply: oneshot::Sender<std::result::Result<ServeOutcome, String>>,
    },
}

/// How the server listens, authenticates, spools and counts: the settings
/// of `apicov serve`'s flags, named after them.
#[derive(Debug, Clone)]
pub struct ServeConfig {
    /// Address to listen on (`HOST:PORT`; a host name is resolved).
    pub listen: String,
    /// TLS certificate chain (PEM); with `tls_key`, the server speaks TLS.
    pub tls_cert: Option<PathBuf>,
    /// TLS private key (PEM).
    pub tls_key: Option<PathBuf>,
    /// Require a client certificate signed by this CA (PEM).
    pub client_ca: Option<PathBuf>,
    /// Require `Authorization: Bearer <token>` with the token in this file.
    pub token_file: Option<PathBuf>,
    /// Allow plain HTTP, or no client authentication, on a non-loopback address.
    pub insecure_listen: bool,
    /// Largest accepted POST body, after gzip decoding too.
    pub max_body: u64,
    /// Bytes of accepted batches that may wait for the engine.
    pub queue_bytes: u64,
    /// Authorized requests served at once.
    pub max_connections: usize,
    /// Seconds a client has to send a request's body.
    pub read_timeout: u64,
    /// Events remembered to drop replays; 0 turns the check off.
    pub replay_window: usize,
    /// Directory of the spool (every accepted event, replayed on start).
    pub spool: Option<PathBuf>,
    /// Size at which a new spool file is started.
    pub spool_file_size: u64,
    /// Whether the spool is synced before a batch is answered.
    pub fsync: bool,
    /// How much of each event is checked.
    pub validation: Validation,
    /// How far apart, in events, one request's events may be.
    pub window_events: u64,
    /// Attribute requests to e2e tests and clients.
    pub by_test: bool,
    /// Count only requests made by `[Conformance]` specs.
    pub conformance_only: bool,
    /// How watches are credited (as the router was built).
    pub watch_credit: WatchCredit,
    /// Worker threads of the HTTP server and engine (0: one per core).
    pub threads: usize,
}

/// How a served run ended: what its final flush found.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ServeOutcome {
    /// A coverage gate tripped at the final write.
    pub gate_tripped: bool,
}

/// Writes a run's outputs at a flush (given the run and the time since the
/// server started) and says how it ended.
pub type WriteOutputs = dyn Fn(&Run<'_>, Duration) -> Result<ServeOutcome> + Send + Sync + 'static;

/// What the server counts against, and how a flush writes its outputs:
/// made by the program once the configuration is found sound.
pub struct Loaded {
    /// The spec's operations.
    pub catalogue: Catalogue,
    /// The spec's name in the outputs.
    pub spec_source: String,
    /// The router built on `catalogue`.
    pub router: Router<AnyMatcher>,
    /// The ineligible-endpoints list.
    pub ineligible: EndpointList,
    /// The pending-eligible-endpoints list.
    pub pending: EndpointList,
    /// The final write.
    pub write_outputs: Box<WriteOutputs>,
    /// The exit status the program will give `outcome`, named in the answer
    /// to `POST /flush`.
    pub exit_status: Box<ExitStatus>,
}

/// The exit status the program gives an outcome.
pub type ExitStatus = dyn Fn(&ServeOutcome) -> i32 + Send + Sync + 'static;

/// What the outputs are rendered from, besides the tally.
struct Setup {
    catalogue: Catalogue,
    spec_source: String,
    ineligible: EndpointList,
    pending: EndpointList,
    config: ServeConfig,
    write_outputs: Box<WriteOutputs>,
    exit_status: Box<ExitStatus>,
    started: Instant,
}

impl Setup {
    fn run_result<'a>(&'a self, tally: &'a Tally, inputs: &'a [InputInfo]) -> Run<'a> {
        Run {
            catalogue: &self.catalogue,
            spec_source: &self.spec_source,
            tally,
            inputs,
            ineligible: &self.ineligible,
            pending: &self.pending,
            watch_credit: self.config.watch_credit,
            by_test: self.config.by_test,
            seeded_from: None,
            chain_position: 0,
            caveats: apicov_report::report::Caveats {
                conformance_only: self.config.conformance_only,
                spec_mix: false,
            },
        }
    }

    fn coverage(&self, tally: &Tally) -> Coverage {
        Coverage::new(&self.catalogue, tally, &self.ineligible, &self.pending)
    }
}

/// State shared by the connections.
struct App {
    setup: Setup,
    engine: Mutex<Intake>,
    jobs: mpsc::UnboundedSender<Job>,
    queue: Arc<Semaphore>,
    queue_capacity: usize,
    /// --max-connections slots: an authorized request holds one while it is
    /// read and answered (idle and unauthenticated connections hold none).
    request_slots: Semaphore,
    webhook: WebhookMetrics,
    /// Set by a flush: later POSTs get 503.
    closed: AtomicBool,
    /// Why the spool cannot be written (then POSTs and /healthz get 503).
    broken: Mutex<Option<String>>,
    token: Option<Vec<u8>>,
    client_certs: Option<ClientCerts>,
    shutdown: tokio::sync::watch::Sender<bool>,
    /// The final flush's outcome (the exit status, or why it failed).
    flushed: Mutex<Option<std::result::Result<ServeOutcome, String>>>,
}

/// Runs the server until a flush; returns how it ended. `load` is called
/// once the configuration is found sound, before anything is bound.
pub fn run(args: &ServeConfig, load: impl FnOnce() -> Result<Loaded>) -> Result<ServeOutcome> {
    let setup_started = Instant::now();
    let addresses = resolve_listen(&args.listen)?;
    // A name is loopback only if every address it stands for is.
    let loopback = addresses.iter().all(|a| a.ip().is_loopback());
    let tls = match (&args.tls_cert, &args.tls_key) {
        (Some(cert), Some(key)) => Some(tls::server_config(cert, key, args.client_ca.as_deref())?),
        _ => None,
    };
    if !loopback && !args.insecure_listen {
        if tls.is_none() {
            return Err(Error::Usage(format!(
                "--listen {}: plain HTTP on a non-loopback address needs --insecure-listen (or --tls-cert/--tls-key)",
                args.listen
            )));
        }
        if args.client_ca.is_none() && args.token_file.is_none() {
            return Err(Error::Usage(format!(
                "--listen {}: a non-loopback address needs --client-ca or --token-file (or --insecure-listen)",
                args.listen
            )));
        }
    }
    if args.max_body == 0 || args.queue_bytes < args.max_body {
        return Err(Error::Usage(
            "--queue-bytes must be at least --max-body, and --max-body more than 0".into(),
        ));
    }
    let queue_capacity = usize::try_from(args.queue_bytes)
        .unwrap_or(usize::MAX)
        .min(Semaphore::MAX_PERMITS)
        .min(u32::MAX as usize);
    let token = match &args.token_file {
        Some(path) => {
            let text = std::fs::read(path).map_err(|e| Error::Source {
                source_name: path.display().to_string(),
                message: e.to_string(),
            })?;
            let token = text.trim_ascii().to_vec();
            if token.is_empty() {
                return Err(Error::Source {
                    source_name: path.display().to_string(),
                    message: "empty token file".into(),
                });
            }
            Some(token)
        }
        None => None,
    };

    let Loaded {
        catalogue,
        spec_source,
        router,
        ineligible,
        pending,
        write_outputs,
        exit_status,
    } = load()?;
    let options = EngineOptions {
        validation: args.validation,
        window: Window(args.window_events),
        attribution: Attribution {
            by_test: args.by_test,
            conformance_only: args.conformance_only,
        },
        threads: args.threads,
        ..EngineOptions::default()
    };
    let spool = match &args.spool {
        Some(dir) => Some(spool::Spool::open(dir, args.spool_file_size, args.fsync)?),
        None => None,
    };
    let engine = Intake::new(&Engine::new(router, options), spool, args.replay_window)?;
    let replayed = engine.tally().events();

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(if args.threads == 0 {
            std::thread::available_parallelism().map_or(2, |n| n.get())
        } else {
            args.threads
        })
        .enable_all()
        .build()
        .map_err(|e| Error::Usage(format!("cannot start the server runtime: {e}")))?;
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind(&addresses[..]))
        .map_err(|e| Error::Usage(format!("--listen {}: {e}", args.listen)))?;
    let local = listener
        .local_addr()
        .map_err(|e| Error::Usage(format!("--listen {}: {e}", args.listen)))?;

    let (jobs, queue_rx) = mpsc::unbounded_channel();
    let (shutdown, _) = tokio::sync::watch::channel(false);
    let (tls_config, client_certs) = match tls {
        Some((config, certs)) => (Some(config), certs),
        None => (None, None),
    };
    let app = Arc::new(App {
        setup: Setup {
            catalogue,
            spec_source,
            ineligible,
            pending,
            config: args.clone(),
            write_outputs,
            exit_status,
            started: setup_started,
        },
        engine: Mutex::new(engine),
        jobs,
        queue: Arc::new(Semaphore::new(queue_capacity)),
        queue_capacity,
        request_slots: Semaphore::new(args.max_connections.max(1)),
        webhook: WebhookMetrics::default(),
        closed: AtomicBool::new(false),
        broken: Mutex::new(None),
        token,
        client_certs,
        shutdown,
        flushed: Mutex::new(None),
    });
    let ingest_app = app.clone();
    // Not joined: after the final flush it only answers 503 until exit.
    std::thread::Builder::new()
        .name("apicov-ingest".into())
        .spawn(move || ingest_loop(&ingest_app, queue_rx))
        .map_err(|e| Error::Usage(format!("cannot start the ingest thread: {e}")))?;
    // Always printed (even with -q): scripts wait for it, and it names the
    // port when --listen asked for port 0.
    let scheme = if tls_config.is_some() {
        "https"
    } else {
        "http"
    };
    eprintln!(
        "apicov: serving on {scheme}://{local} (POST events to /audit; {replayed} events replayed from the spool)"
    );
    let status = runtime.block_on(serve(app, listener, tls_config));
    runtime.shutdown_timeout(Duration::from_secs(1));
    status
}

/// `--listen`'s addresses: `HOST:PORT` with HOST an address or a name.
fn resolve_listen(listen: &str) -> Result<Vec<std::net::SocketAddr>> {
    use std::net::ToSocketAddrs as _;
    let addresses: Vec<_> = listen
        .to_socket_addrs()
        .map_err(|e| Error::Usage(format!("--listen {listen}: {e}")))?
        .collect();
    if addresses.is_empty() {
        return Err(Error::Usage(format!(
            "--listen {listen}: the name has no address"
        )));
    }
    Ok(addresses)
}

/// Accepts connections until a flush, then lets open ones finish.
async fn serve(
    app: Arc<App>,
    listener: tokio::net::TcpListener,
    tls_config: Option<Arc<rustls::ServerConfig>>,
) -> Result<ServeOutcome> {
    let acceptor = tls_config.map(tokio_rustls::TlsAcceptor::from);
    let routes = axum::Router::new()
        .route("/", get(html).post(post_events))
        .route("/coverage.json", get(coverage_json))
        .route("/metrics", get(metrics_page))
        .route("/healthz", get(healthz))
        .route("/flush", axum::routing::post(flush))
        .fallback(fallback)
        .with_state(app.clone());
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let mut shutdown = app.shutdown.subscribe();
    let signal_app = app.clone();
    tokio::spawn(async move {
        wait_for_signal().await;
        let _ = request_flush(&signal_app).await;
        let _ = signal_app.shutdown.send(true);
    });
    let header_timeout =
        Duration::from_secs(app.setup.config.read_timeout.max(1)).min(HEADER_TIMEOUT);
    // Bounds the open connections (descriptors, tasks); the bodies being
    // read at once are bounded by the request slots, with the queue bound.
    let connections = Arc::new(Semaphore::new(
        app.setup
            .config
            .max_connections
            .max(1)
            .saturating_mul(CONNECTIONS_PER_SLOT),
    ));
    loop {
        let slot = tokio::select! {
            slot = connections.clone().acquire_owned() => match slot {
                Ok(slot) => slot,
                Err(_) => break,
            },
            _ = shutdown.changed() => break,
        };
        let (stream, _) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(conn) => conn,
                // Out of descriptors and the like: wait, do not spin.
                Err(_) => { tokio::time::sleep(Duration::from_millis(50)).await; continue; }
            },
            _ = shutdown.changed() => break,
        };
        let _ = stream.set_nodelay(true);
        let app = app.clone();
        let routes = routes.clone();
        let acceptor = acceptor.clone();
        let watcher = graceful.watcher();
        tokio::spawn(async move {
            let _slot = slot;
            let mut http = hyper::server::conn::http1::Builder::new();
            http.timer(TokioTimer::new())
                .header_read_timeout(header_timeout);
            match acceptor {
                Some(acceptor) => {
                    let Ok(Ok(tls)) =
                        tokio::time::timeout(header_timeout, acceptor.accept(stream)).await
                    else {
                        return;
                    };
                    let certs = match &app.client_certs {
                        Some(check) => check.check(tls.get_ref().1.peer_certificates()),
                        None => CertState::NotRequired,
                    };
                    let conn =
                        http.serve_connection(TokioIo::new(tls), service(app, routes, certs));
                    let _ = watcher.watch(conn).await;
                }
                None => {
                    let conn = http.serve_connection(
                        TokioIo::new(stream),
                        service(app, routes, CertState::NotRequired),
                    );
                    let _ = watcher.watch(conn).await;
                }
            }
        });
    }
    let _ = tokio::time::timeout(DRAIN, graceful.shutdown()).await;
    match app.flushed.lock().expect("not poisoned").take() {
        Some(Ok(outcome)) => Ok(outcome),
        Some(Err(message)) => Err(Error::Usage(message)),
        None => Err(Error::Usage(
            "the server stopped before its final flush".into(),
        )),
    }
}

/// Waits for SIGTERM or SIGINT.
async fn wait_for_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let (Ok(mut term), Ok(mut int)) = (
            signal(SignalKind::terminate()),
            signal(SignalKind::interrupt()),
        ) else {
            return std::future::pending().await;
        };
        tokio::select! {
            _ = term.recv() => {}
            _ = int.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// Puts a flush on the queue (behind every batch received before it) and
/// waits for its exit status.
async fn request_flush(app: &App) -> std::result::Result<ServeOutcome, String> {
    let (reply, status) = oneshot::channel();
    if app.jobs.send(Job::Flush { reply }).is_err() {
        return Err("the ingest thread is gone".into());
    }
    status
        .await
        .unwrap_or_else(|_| Err("the ingest thread is gone".into()))
}

/// Wraps the routes for one connection: checks the credentials (all paths
/// but /healthz) and times event POSTs for the metrics.
fn service(
    app: Arc<App>,
    routes: axum::Router,
    certs: CertState,
) -> impl hyper::service::Service<
    hyper::Request<hyper::body::Incoming>,
    Response = Response,
    Error = std::convert::Infallible,
    Future = impl Send,
> + Clone {
    hyper::service::service_fn(move |req: hyper::Request<hyper::body::Incoming>| {
        let app = app.clone();
        let routes = routes.clone();
        async move {
            let started = Instant::now();
            let req = req.map(Body::new);
            let is_post = req.method() == Method::POST && req.uri().path() != "/flush";
            let response = if req.uri().path() == "/healthz" {
                tower::ServiceExt::oneshot(routes, req).await?
            } else if let Err(status) = authorize(&app, certs, req.headers()) {
                // Read what was sent (up to the body limit) so the client,
                // still writing, gets the answer rather than a reset. Read
                // and dropped a frame at a time: no slot is held, so no
                // body may be kept.
                let read_timeout = Duration::from_secs(app.setup.config.read_timeout.max(1));
                let _ = tokio::time::timeout(
                    read_timeout,
                    discard_body(req.into_body(), app.setup.config.max_body),
                )
                .await;
                let mut r = (
                    status,
                    format!("{}\n", status.canonical_reason().unwrap_or("")),
                )
                    .into_response();
                if status == StatusCode::UNAUTHORIZED {
                    r.headers_mut().insert(
                        header::WWW_AUTHENTICATE,
                        HeaderValue::from_static("Bearer realm=\"apicov\""),
                    );
                }
                r
            } else {
                // Held until the answer: the bodies read at once are bounded.
                let _slot = app.request_slots.acquire().await;
                tower::ServiceExt::oneshot(routes, req).await?
            };
            if is_post {
                app.webhook
                    .observe(response.status().as_u16(), started.elapsed());
            }
            Ok(response)
        }
    })
}

/// Reads and drops up to `limit` bytes of a body.
async fn discard_body(mut body: Body, limit: u64) {
    use http_body_util::BodyExt as _;
    let mut read = 0u64;
    while read <= limit {
        match body.frame().await {
            Some(Ok(frame)) => {
                read += frame.data_ref().map_or(0, |d| d.len() as u64);
            }
            _ => return,
        }
    }
}

/// 401 without credentials, 403 with wrong ones; every configured check
/// must pass.
fn authorize(
    app: &App,
    certs: CertState,
    headers: &HeaderMap,
) -> std::result::Result<(), StatusCode> {
    match certs {
        CertState::NotRequired | CertState::Verified => {}
        CertState::Missing => return Err(StatusCode::UNAUTHORIZED),
        CertState::Rejected => return Err(StatusCode::FORBIDDEN),
    }
    if let Some(token) = &app.token {
        let presented = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| bearer_token(v.as_bytes()))
            .ok_or(StatusCode::UNAUTHORIZED)?;
        // Constant time over the token's bytes (a length mismatch is
        // rejected at once: the length is not the secret).
        if !bool::from(presented.trim_ascii().ct_eq(token)) {
            return Err(StatusCode::FORBIDDEN);
        }
    }
    Ok(())
}

/// The credentials of `Bearer <token>`; the scheme's name is
/// case-insensitive (RFC 7235, section 2.1).
fn bearer_token(value: &[u8]) -> Option<&[u8]> {
    let (scheme, rest) = value.split_at_checked(7)?;
    (scheme[..6].eq_ignore_ascii_case(b"bearer") && scheme[6] == b' ').then_some(rest)
}

fn plain(status: StatusCode, message: impl Into<String>) -> Response {
    let mut text = message.into();
    text.push('\n');
    (status, text).into_response()
}

/// POST on a path of its own is an event POST (the kubeconfig's server
/// URL may name any path); anything else is not here.
async fn fallback(State(app): State<Arc<App>>, req: Request) -> Response {
    if req.method() == Method::POST {
        post_events(State(app), req).await
    } else {
        plain(StatusCode::NOT_FOUND, "not found")
    }
}

/// An event POST: read, decode, queue, and answer once counted and spooled.
async fn post_events(State(app): State<Arc<App>>, req: Request) -> Response {
    if app.closed.load(Ordering::Acquire) {
        return plain(
            StatusCode::SERVICE_UNAVAILABLE,
            "the server is shutting down",
        );
    }
    let headers = req.headers();
    let json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("application/json"));
    if !json {
        return plain(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "expected Content-Type: application/json",
        );
    }
    let gzip = match headers
        .get(header::CONTENT_ENCODING)
        .map(|v| v.to_str().unwrap_or("?").trim().to_ascii_lowercase())
        .as_deref()
    {
        None | Some("identity") => false,
        Some("gzip") => true,
        Some(other) => {
            return plain(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                format!("Content-Encoding {other:?}: only gzip is accepted"),
            )
        }
    };
    let max_body = app.setup.config.max_body as usize;
    // Refused before the whole body is read: the connection cannot carry
    // another request, and says so (a client reusing it would otherwise see
    // it closed under its next request).
    let too_large_unread = || {
        let mut r = plain(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("body larger than --max-body ({max_body} bytes)"),
        );
        r.headers_mut()
            .insert(header::CONNECTION, HeaderValue::from_static("close"));
        r
    };
    let too_large = || {
        plain(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("body larger than --max-body ({max_body} bytes)"),
        )
    };
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > max_body as u64) {
        return too_large_unread();
    }
    let read_timeout = Duration::from_secs(app.setup.config.read_timeout.max(1));
    let body = match tokio::time::timeout(
        read_timeout,
        axum::body::to_bytes(req.into_body(), max_body),
    )
    .await
    {
        Err(_) => return plain(StatusCode::REQUEST_TIMEOUT, "body not received in time"),
        Ok(Err(e)) => {
            let over = std::error::Error::source(&e)
                .is_some_and(|s| s.is::<http_body_util::LengthLimitError>());
            return if over {
                too_large_unread()
            } else {
                plain(
                    StatusCode::BAD_REQUEST,
                    format!("cannot read the body: {e}"),
                )
            };
        }
        Ok(Ok(body)) => body,
    };
    let decoded;
    let body: &[u8] = if gzip {
        let mut out = Vec::new();
        let mut reader = flate2::read::MultiGzDecoder::new(&body[..]).take(max_body as u64 + 1);
        if let Err(e) = reader.read_to_end(&mut out) {
            return plain(StatusCode::BAD_REQUEST, format!("bad gzip body: {e}"));
        }
        if out.len() > max_body {
            return too_large();
        }
        decoded = out;
        &decoded
    } else {
        &body
    };
    let batch = match ingest::decode(body) {
        Ok(batch) => batch,
        Err(message) => return plain(StatusCode::BAD_REQUEST, message),
    };
    // Room in the queue for the decoded lines; none left: the engine is
    // behind, and the apiserver retries after backing off.
    let room = u32::try_from(batch.bytes.len().clamp(1, app.queue_capacity)).unwrap_or(u32::MAX);
    let Ok(room) = app.queue.clone().try_acquire_many_owned(room) else {
        let mut r = plain(
            StatusCode::TOO_MANY_REQUESTS,
            "the engine is behind: retry later",
        );
        r.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        return r;
    };
    let (reply, answer) = oneshot::channel();
    let job = Job::Batch {
        batch,
        _room: room,
        reply,
    };
    if app.jobs.send(job).is_err() {
        return plain(
            StatusCode::SERVICE_UNAVAILABLE,
            "the server is shutting down",
        );
    }
    match answer.await {
        Ok(Ok(_)) => StatusCode::OK.into_response(),
        Ok(Err((status, message))) => plain(status, message),
        Err(_) => plain(
            StatusCode::SERVICE_UNAVAILABLE,
            "the server is shutting down",
        ),
    }
}

/// `GET /healthz`: 503 whenever an event POST would get 503 (after the
/// final flush, or once the spool cannot be written), so that a probe sees
/// what the apiserver sees.
async fn healthz(State(app): State<Arc<App>>) -> Response {
    if let Some(why) = &*app.broken.lock().expect("not poisoned") {
        return plain(StatusCode::SERVICE_UNAVAILABLE, format!("unhealthy: {why}"));
    }
    if app.closed.load(Ordering::Acquire) {
        return plain(
            StatusCode::SERVICE_UNAVAILABLE,
            "unhealthy: the server is shutting down",
        );
    }
    plain(StatusCode::OK, "ok")
}

/// `POST /flush`: write the outputs now and exit.
async fn flush(State(app): State<Arc<App>>) -> Response {
    let status = request_flush(&app).await;
    let _ = app.shutdown.send(true);
    match status {
        Ok(outcome) => plain(
            StatusCode::OK,
            format!("flushed; exit status {}", (app.setup.exit_status)(&outcome)),
        ),
        Err(message) => plain(StatusCode::INTERNAL_SERVER_ERROR, message),
    }
}

/// Renders a report of the run so far on a blocking thread, from a copy of
/// the tally (so rendering does not hold up ingest).
async fn render_report<T: Default + Send + 'static>(
    app: Arc<App>,
    render: impl FnOnce(&Run, &Coverage) -> T + Send + 'static,
) -> T {
    tokio::task::spawn_blocking(move || {
        let (tally, inputs) = {
            let engine = app.engine.lock().expect("not poisoned");
            (engine.tally().clone(), engine.inputs())
        };
        let coverage = app.setup.coverage(&tally);
        render(&app.setup.run_result(&tally, &inputs), &coverage)
    })
    .await
    .unwrap_or_default()
}

async fn coverage_json(State(app): State<Arc<App>>) -> Response {
    let body = render_report(app, reports::json::render).await;
    ([(header::CONTENT_TYPE, "application/json")], body).into_response()
}

async fn html(State(app): State<Arc<App>>) -> Response {
    let body = render_report(app, |run, coverage| {
        reports::html::render(run, coverage, &reports::html::generation_time())
    })
    .await;
    (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        body,
    )
        .into_response()
}

async fn metrics_page(State(app): State<Arc<App>>) -> Response {
    let body = tokio::task::spawn_blocking(move || {
        let engine = app.engine.lock().expect("not poisoned");
        let coverage = app.setup.coverage(engine.tally());
        let queued = app.queue_capacity - app.queue.available_permits();
        metrics::render(
            &app.webhook,
            &metrics::EngineFigures {
                catalogue: &app.setup.catalogue,
                tally: engine.tally(),
                coverage: &coverage,
                events_received: engine.events_received,
                replays: engine.replays,
                queued_bytes: queued as u64,
            },
        )
    })
    .await
    .unwrap_or_default();
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        body,
    )
        .into_response()
}

/// The ingest thread: batches in the order received, a group at a time
/// (one spool sync per group), answers after the sync.
fn ingest_loop(app: &App, mut queue: mpsc::UnboundedReceiver<Job>) {
    let mut broken: Option<String> = None;
    while let Some(first) = queue.blocking_recv() {
        let mut group = vec![first];
        while group.len() < GROUP {
            match queue.try_recv() {
                Ok(job) => group.push(job),
                Err(_) => break,
            }
        }
        let mut engine = app.engine.lock().expect("not poisoned");
        let mut answers = Vec::with_capacity(group.len());
        for job in group {
            match job {
                Job::Batch {
                    batch,
                    _room,
                    reply,
                } => {
                    let result = if app.closed.load(Ordering::Acquire) {
                        Err((
                            StatusCode::SERVICE_UNAVAILABLE,
                            "the server is shutting down".to_string(),
                        ))
                    } else if let Some(why) = &broken {
                        Err((StatusCode::SERVICE_UNAVAILABLE, why.clone()))
                    } else {
                        engine.ingest(&batch).map_err(|e| {
                            let why = format!("spool write failed: {e}");
                            eprintln!("apicov: error: {why}");
                            broken = Some(why.clone());
                            *app.broken.lock().expect("not poisoned") = Some(why.clone());
                            (StatusCode::SERVICE_UNAVAILABLE, why)
                        })
                    };
                    answers.push((reply, result));
                }
                Job::Flush { reply } => {
                    // Everything before the flush is durable and answered first.
                    settle(&mut engine, &mut answers, &mut broken, &app.broken);
                    let status = if app.closed.swap(true, Ordering::AcqRel) {
                        app.flushed
                            .lock()
                            .expect("not poisoned")
                            .clone()
                            .unwrap_or(Ok(ServeOutcome::default()))
                    } else {
                        let status = finish(app, &engine).map_err(|e| e.to_string());
                        *app.flushed.lock().expect("not poisoned") = Some(status.clone());
                        status
                    };
                    let _ = reply.send(status);
                }
            }
        }
        settle(&mut engine, &mut answers, &mut broken, &app.broken);
    }
}

type Answer = (
    oneshot::Sender<std::result::Result<Ingested, (StatusCode, String)>>,
    std::result::Result<Ingested, (StatusCode, String)>,
);

/// Syncs the spool, then answers the batches handled since the last sync.
fn settle(
    engine: &mut Intake,
    answers: &mut Vec<Answer>,
    broken: &mut Option<String>,
    app_broken: &Mutex<Option<String>>,
) {
    if answers.is_empty() {
        return;
    }
    if let Err(e) = engine.commit() {
        let why = format!("spool sync failed: {e}");
        eprintln!("apicov: error: {why}");
        *broken = Some(why);
    }
    if let Some(why) = &*broken {
        *app_broken.lock().expect("not poisoned") = Some(why.clone());
    }
    for (reply, mut result) in answers.drain(..) {
        if let (Ok(_), Some(why)) = (&result, &*broken) {
            result = Err((StatusCode::SERVICE_UNAVAILABLE, why.clone()));
        }
        let _ = reply.send(result);
    }
}

/// The final write: the program's outputs, summary and gates.
fn finish(app: &App, engine: &Intake) -> Result<ServeOutcome> {
    let setup = &app.setup;
    let inputs = engine.inputs();
    let run = setup.run_result(engine.tally(), &inputs);
    (setup.write_outputs)(&run, setup.started.elapsed())
}
