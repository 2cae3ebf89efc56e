//! Property: the run's tally does not depend on how the input is cut into
//! chunks or how many threads scan them, for any interleaving of stages,
//! reused auditIDs, matched / unmatched requests and bad lines; samples
//! printed as they are kept are the same samples, printed as a report
//! prints them.

use crate::common;

use std::collections::HashMap;

use apicov_core::aggregate::{SamplePrinter, SamplePrinting, Tally, Window};
use apicov_core::attribution::Attribution;
use apicov_core::event::Validation;
use apicov_core::input::InputName;
use apicov_core::pipeline::{Engine, EngineOptions};
use apicov_core::routing::{Router, WatchCredit};
use apicov_core::spec::Catalogue;
use proptest::prelude::*;

const STAGES: &[&str] = &[
    "RequestReceived",
    "ResponseStarted",
    "ResponseComplete",
    "Panic",
];
const REQUESTS: &[(&str, &str)] = &[
    ("get", "/api/v1/namespaces/ns/pods/p"),
    ("list", "/api/v1/namespaces/ns/pods?watch=true"),
    ("create", "/api/v1/namespaces/ns/configmaps"),
    (
        "get",
        "/apis/stable.example.com/v1/namespaces/ns/crontabs/c",
    ),
    ("get", "/healthz"),
];

fn line(kind: u8, id: u8, stage: u8, request: u8) -> String {
    match kind % 12 {
        0 => "garbage line".into(),
        1 => String::new(),
        // Counted in fast mode, never a sample: broken after its fields.
        10 => line(3, id, stage, request).replace("}", r#","x":[}"#),
        // A sample the transcoder leaves to serde_json (a surrogate pair).
        11 => line(3, id, stage, request).replace("}", r#","x":"\ud83d\ude00"}"#),
        _ => {
            let (verb, uri) = REQUESTS[request as usize % REQUESTS.len()];
            let id = if kind % 10 == 2 {
                String::new()
            } else {
                format!("\"auditID\":\"id-{}\",", id % 6)
            };
            let ua = [
                "kubelet/v1.34.0 (linux/amd64)",
                "e2e.test/v1.34 -- [sig-x] a [Conformance]",
                "e2e.test/v1.34 -- [sig-y] b",
            ][request as usize % 3];
            format!(
                "{{{id}\"stage\":\"{}\",\"verb\":\"{verb}\",\"userAgent\":\"{ua}\",\"requestURI\":\"{uri}\"}}",
                STAGES[stage as usize % STAGES.len()]
            )
        }
    }
}

/// The operation whose samples no report shows, when samples are printed:
/// kept unprinted.
fn hidden_op(catalogue: &Catalogue) -> usize {
    let router = Router::new(catalogue, WatchCredit::Deprecated);
    let (verb, uri) = REQUESTS[0];
    router
        .route(verb.as_bytes(), uri.as_bytes())
        .unwrap()
        .index()
}

fn tally(
    bytes: &[u8],
    chunk_size: usize,
    threads: usize,
    catalogue: &Catalogue,
    validation: Validation,
    by_test: bool,
    printer: Option<SamplePrinter>,
) -> Tally {
    tally_in_window(
        bytes,
        chunk_size,
        threads,
        catalogue,
        validation,
        by_test,
        printer,
        Window::DEFAULT,
    )
}

/// The engine's options for these tallies.
fn options(
    catalogue: &Catalogue,
    chunk_size: usize,
    threads: usize,
    validation: Validation,
    by_test: bool,
    printer: Option<SamplePrinter>,
    window: Window,
) -> EngineOptions {
    let hidden = hidden_op(catalogue);
    EngineOptions {
        chunk_size,
        threads,
        validation,
        window,
        attribution: Attribution {
            by_test,
            conformance_only: false,
        },
        sample_printing: printer.map(|print| SamplePrinting {
            print,
            shown: (0..catalogue.len()).map(|i| i != hidden).collect(),
            keep_lines: true,
        }),
        ..EngineOptions::default()
    }
}

/// `bytes` as a mapped log, through the engine in chunks of `chunk_size`
/// on `threads` workers.
#[allow(clippy::too_many_arguments)]
fn tally_in_window(
    bytes: &[u8],
    chunk_size: usize,
    threads: usize,
    catalogue: &Catalogue,
    validation: Validation,
    by_test: bool,
    printer: Option<SamplePrinter>,
    window: Window,
) -> Tally {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("audit.log");
    std::fs::write(&log, bytes).unwrap();
    let options = options(
        catalogue, chunk_size, threads, validation, by_test, printer, window,
    );
    let router = Router::new(catalogue, WatchCredit::Deprecated);
    let engine = Engine::new(router, options);
    let (tally, _) = engine
        .run(engine.open(&[InputName::File(log)]).unwrap())
        .unwrap();
    tally
}

/// `bytes` cut as the engine cuts a mapped log: pieces of `chunk_size`
/// bytes or more, each ending after a newline (the last perhaps not).
fn split(bytes: &[u8], chunk_size: usize) -> Vec<std::ops::Range<usize>> {
    let mut pieces = Vec::new();
    let mut start = 0;
    while start < bytes.len() {
        let probe = start.saturating_add(chunk_size.max(1)).min(bytes.len());
        let end = match bytes[probe - 1..].iter().position(|&b| b == b'\n') {
            Some(k) if probe < bytes.len() => probe + k,
            _ => bytes.len(),
        };
        pieces.push(start..end);
        start = end;
    }
    pieces
}

/// `bytes` through a feed, in the pieces the engine would cut.
fn fed(
    bytes: &[u8],
    chunk_size: usize,
    catalogue: &Catalogue,
    validation: Validation,
    printer: Option<SamplePrinter>,
) -> Tally {
    let options = options(
        catalogue,
        chunk_size,
        1,
        validation,
        true,
        printer,
        Window::DEFAULT,
    );
    let router = Router::new(catalogue, WatchCredit::Deprecated);
    let mut feed = Engine::new(router, options).feed();
    // An input with no bytes is one empty piece, as the engine counts it.
    let pieces = split(bytes, chunk_size);
    if pieces.is_empty() {
        feed.push(b"");
    }
    for piece in pieces {
        feed.push(&bytes[piece]);
    }
    feed.finish()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]
    #[test]
    fn chunking_and_threads_do_not_change_the_tally(
        lines in prop::collection::vec((any::<u8>(), any::<u8>(), any::<u8>(), any::<u8>()), 0..60),
        chunk_size in 1usize..400,
        threads in 1usize..4,
        fast in any::<bool>(),
        print in any::<bool>(),
    ) {
        let catalogue = Catalogue::from_json(
            &std::fs::read(common::testdata("swagger-mini.json")).unwrap(), "mini").unwrap();
        let text: String = lines.iter().map(|(k, i, s, r)| line(*k, *i, *s, *r) + "\n").collect();
        let validation = if fast { Validation::Fast } else { Validation::Full };
        // Samples printed as they are kept (on the scanning worker or at
        // absorption) are the same samples, printed as the report prints them.
        let printer: Option<SamplePrinter> =
            print.then_some(apicov_report::report::python_json::transcode);
        let whole = tally(text.as_bytes(), usize::MAX / 2, 1, &catalogue, validation, true, None);
        let cut = tally(text.as_bytes(), chunk_size, threads, &catalogue, validation, true, printer);
        prop_assert_eq!(&whole.ops, &cut.ops);
        let unprinted = |t: &Tally| {
            t.samples.iter().map(|s| s.iter().map(|s| (s.pos, s.line.clone())).collect::<Vec<_>>()).collect::<Vec<_>>()
        };
        prop_assert_eq!(unprinted(&whole), unprinted(&cut));
        for sample in whole.samples.iter().flatten() {
            prop_assert_eq!(&sample.printed, &None);
        }
        let hidden = hidden_op(&catalogue);
        for (op, samples) in cut.samples.iter().enumerate() {
            for sample in samples {
                let mut want = Vec::new();
                let taken = apicov_report::report::python_json::transcode(&sample.line, &mut want);
                prop_assert_eq!(&sample.printed, &(print && op != hidden && taken).then(|| want.into()));
            }
        }
        let unmatched = |t: &Tally| t.unmatched().map(|(k, h)| (k.clone(), *h)).collect::<HashMap<_, _>>();
        prop_assert_eq!(unmatched(&whole), unmatched(&cut));
        let open = |t: &Tally| {
            let mut ids: Vec<u128> = t.open_requests().collect();
            ids.sort_unstable();
            ids
        };
        prop_assert_eq!(open(&whole), open(&cut));
        prop_assert_eq!(&whole.events_by_stage, &cut.events_by_stage);
        prop_assert_eq!(&whole.malformed_examples, &cut.malformed_examples);
        prop_assert_eq!(whole.malformed_lines, cut.malformed_lines);
        prop_assert_eq!(whole.blank_lines, cut.blank_lines);
        prop_assert_eq!(&whole.inputs, &cut.inputs);
        // Attribution: the same counts per (actor, operation), by name.
        let named = |t: &Tally| {
            let mut v: Vec<_> = t.attributed().map(|((a, op), n)| (t.actors.actors[*a as usize].clone(), *op, *n)).collect();
            v.sort();
            v
        };
        prop_assert_eq!(named(&whole), named(&cut));
        // The feed counts the same pieces as the engine.
        let fed = fed(text.as_bytes(), chunk_size, &catalogue, validation, printer);
        prop_assert_eq!(&fed.ops, &cut.ops);
        prop_assert_eq!(&fed.samples, &cut.samples);
        prop_assert_eq!(unmatched(&fed), unmatched(&cut));
        prop_assert_eq!(named(&fed), named(&cut));
        prop_assert_eq!(open(&fed), open(&cut));
        prop_assert_eq!(&fed.inputs, &cut.inputs);
    }
}

/// A log of `requests` (target, logged stages as a 4-bit mask, 0 taken as
/// RequestReceived and ResponseComplete), one distinct auditID each, a
/// request's events in stage order and requests one after another.
fn ordered_log(requests: &[(u8, u8)]) -> Vec<String> {
    let mut lines = Vec::new();
    for (n, &(target, stages)) in requests.iter().enumerate() {
        let stages = if stages & 15 == 0 { 0b101 } else { stages & 15 };
        let (verb, uri) = REQUESTS[target as usize % REQUESTS.len()];
        for (s, stage) in STAGES.iter().enumerate() {
            if stages & (1 << s) != 0 {
                lines.push(format!(
                    "{{\"auditID\":\"r-{n}\",\"stage\":\"{stage}\",\"verb\":\"{verb}\",\"requestURI\":\"{uri}\"}}"
                ));
            }
        }
    }
    lines
}

/// Requests per operation and per unmatched group, whatever the stage.
fn totals(t: &Tally) -> (Vec<u64>, Vec<(String, String, u64)>) {
    let mut unmatched: Vec<_> = t
        .unmatched()
        .map(|(k, h)| (k.verb.clone(), k.pattern.clone(), h.total()))
        .collect();
    unmatched.sort();
    (t.ops.iter().map(|h| h.total()).collect(), unmatched)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]
    /// The apiserver's batch backends post batches from concurrent
    /// goroutines, so a request's stages arrive in any order: any
    /// permutation of a log's lines within the window counts each request
    /// once, the same operation by operation as the ordered log, for every
    /// chunk size and thread count.
    #[test]
    fn any_order_within_the_window_counts_each_request_once(
        requests in prop::collection::vec((any::<u8>(), any::<u8>()), 1..50),
        keys in prop::collection::vec(any::<u32>(), 200),
        block in 1usize..40,
        chunk_size in 1usize..600,
        threads in 1usize..4,
    ) {
        let catalogue = Catalogue::from_json(
            &std::fs::read(common::testdata("swagger-mini.json")).unwrap(), "mini").unwrap();
        let ordered = ordered_log(&requests);
        // Shuffled within blocks of `block` lines: a request's events (at
        // most 4, adjacent) end up at most 2 * block + 4 lines apart.
        let mut shuffled: Vec<(usize, u32, &String)> = ordered
            .iter()
            .enumerate()
            .map(|(i, l)| (i / block, keys[i % keys.len()], l))
            .collect();
        shuffled.sort_by_key(|&(b, k, _)| (b, k));
        let window = Window(2 * block as u64 + 4);
        let text = |lines: Vec<&String>| lines.into_iter().map(|l| format!("{l}\n")).collect::<String>();
        let ordered_text = text(ordered.iter().collect());
        let shuffled_text = text(shuffled.iter().map(|&(_, _, l)| l).collect());
        let want = tally_in_window(ordered_text.as_bytes(), usize::MAX / 2, 1, &catalogue,
            Validation::Fast, false, None, window);
        prop_assert_eq!(want.requests(), requests.len() as u64);
        for (chunk, threads) in [(usize::MAX / 2, 1), (chunk_size, threads)] {
            let got = tally_in_window(shuffled_text.as_bytes(), chunk, threads, &catalogue,
                Validation::Fast, false, None, window);
            prop_assert_eq!(totals(&got), totals(&want));
            prop_assert_eq!(got.events(), ordered.len() as u64);
        }
    }
}

/// A request's stages in each order count once; the same ID again past
/// the window is a new request; a batch posted twice counts once.
#[test]
fn stages_in_any_order_count_once_and_the_window_ends_a_request() {
    let catalogue = Catalogue::from_json(
        &std::fs::read(common::testdata("swagger-mini.json")).unwrap(),
        "mini",
    )
    .unwrap();
    let event = |id: &str, stage: &str| {
        format!(
            "{{\"auditID\":\"{id}\",\"stage\":\"{stage}\",\"verb\":\"get\",\"requestURI\":\"/api/v1/namespaces/ns/pods/p\"}}\n"
        )
    };
    let count = |stages: &[(&str, &str)], window: u64, chunk: usize| {
        let text: String = stages.iter().map(|(id, s)| event(id, s)).collect();
        let t = tally_in_window(
            text.as_bytes(),
            chunk,
            2,
            &catalogue,
            Validation::Fast,
            false,
            None,
            Window(window),
        );
        (
            t.requests(),
            t.ops
                .iter()
                .map(|h| h.by_stage)
                .find(|s| s.iter().sum::<u64>() > 0),
        )
    };
    let (rr, rs, rc) = ("RequestReceived", "ResponseStarted", "ResponseComplete");
    for chunk in [1, 120, 1 << 20] {
        // Counted once, at the stage first seen.
        assert_eq!(
            count(&[("a", rr), ("a", rc), ("a", rs)], 100, chunk),
            (1, Some([1, 0, 0, 0]))
        );
        assert_eq!(
            count(&[("a", rc), ("a", rr)], 100, chunk),
            (1, Some([0, 0, 1, 0]))
        );
        assert_eq!(
            count(&[("a", rc), ("a", rs), ("a", rr)], 100, chunk),
            (1, Some([0, 0, 1, 0]))
        );
        // A batch replayed: once.
        let batch = [("a", rr), ("b", rr), ("a", rc), ("b", rc)];
        let twice: Vec<_> = batch.iter().chain(&batch).copied().collect();
        assert_eq!(count(&twice, 100, chunk).0, 2);
        // Window of 2 events: the ID 3 events after its last is a new request.
        let spread = [("a", rr), ("b", rr), ("c", rr), ("a", rc)];
        assert_eq!(count(&spread, 2, chunk).0, 4);
        assert_eq!(count(&spread, 3, chunk).0, 3);
        // The window runs from a request's last event, not its first.
        let chained = [("a", rr), ("b", rr), ("a", rs), ("c", rr), ("a", rc)];
        assert_eq!(count(&chained, 2, chunk).0, 3);
    }
}
