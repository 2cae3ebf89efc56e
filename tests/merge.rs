//! Property: the run's tally does not depend on how the input is cut into
//! chunks or how many threads scan them, for any interleaving of stages,
//! reused auditIDs, matched / unmatched requests and bad lines; samples
//! printed as they are kept are the same samples, printed as a report
//! prints them.

mod common;

use apicov_core::aggregate::{
    position, scan_chunk, SamplePrinter, SamplePrinting, SampledOps, ScanOptions, Tally,
};
use apicov_core::attribution::Attribution;
use apicov_core::chunk;
use apicov_core::event::Validation;
use apicov_core::routes::{Router, WatchCredit};
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
    let router = Router::new(catalogue, WatchCredit::Deprecated);
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .unwrap();
    let ranges = chunk::split(bytes, chunk_size);
    let hidden = hidden_op(catalogue);
    let printing = printer.map(|print| SamplePrinting {
        print,
        shown: (0..catalogue.len()).map(|i| i != hidden).collect(),
        keep_lines: true,
    });
    let sampled = SampledOps::new(catalogue.len()).with_printing(printing.clone());
    let tallies: Vec<_> = pool.install(|| {
        use rayon::prelude::*;
        ranges
            .par_iter()
            .map(|r| {
                scan_chunk(
                    &bytes[r.clone()],
                    position(0, r.start as u64),
                    &router,
                    catalogue.len(),
                    ScanOptions {
                        validation,
                        attribution: Attribution {
                            by_test,
                            conformance_only: false,
                        },
                    },
                    &sampled,
                )
            })
            .collect()
    });
    let mut total = Tally::new(catalogue.len());
    if let Some(printing) = printing {
        total.print_samples_with(printing);
    }
    for (r, t) in ranges.iter().zip(tallies) {
        total.absorb(t, &bytes[r.clone()]);
    }
    total
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
            print.then_some(apicov_report::report::operations::transcode);
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
                let taken = apicov_report::report::operations::transcode(&sample.line, &mut want);
                prop_assert_eq!(&sample.printed, &(print && op != hidden && taken).then_some(want));
            }
        }
        prop_assert_eq!(&whole.unmatched, &cut.unmatched);
        prop_assert_eq!(&whole.events_by_stage, &cut.events_by_stage);
        prop_assert_eq!(&whole.malformed_examples, &cut.malformed_examples);
        prop_assert_eq!(whole.malformed_lines, cut.malformed_lines);
        prop_assert_eq!(whole.blank_lines, cut.blank_lines);
        prop_assert_eq!(&whole.inputs, &cut.inputs);
        // Attribution: the same counts per (actor, operation), by name.
        let named = |t: &Tally| {
            let mut v: Vec<_> = t.attributed.iter().map(|((a, op), n)| (t.actors.actors[*a as usize].clone(), *op, *n)).collect();
            v.sort();
            v
        };
        prop_assert_eq!(named(&whole), named(&cut));
    }
}
