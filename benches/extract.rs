//! Line-extraction strategies in MB/s on one core, on the same generated
//! lines of two shapes: Metadata level (~1.3 KB a line) and RequestResponse
//! level with large bodies (`gen --shape large-bodies`: lines up to 50 KB,
//! mean ~11 KB). apicov's hand scanner (fast mode with and without its
//! canonical-head path, full mode), serde_json with borrowed (Cow) fields,
//! simd-json's serde API and its tape, both with reused buffers.
#![allow(missing_docs)] // criterion_group! defines an undocumented `pub fn`

use std::borrow::Cow;
use std::time::Duration;

use apicov_core::event::{self, Validation};
use apicov_gen::{Level, Shape};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use serde::Deserialize;
use simd_json::prelude::*;

#[path = "common.rs"]
mod common;

#[derive(Deserialize)]
struct Wanted<'a> {
    #[serde(borrow)]
    stage: Option<Cow<'a, str>>,
    #[serde(borrow)]
    verb: Option<Cow<'a, str>>,
    #[serde(borrow, rename = "requestURI")]
    request_uri: Option<Cow<'a, str>>,
    #[serde(borrow, rename = "auditID")]
    audit_id: Option<Cow<'a, str>>,
}

fn extract(c: &mut Criterion) {
    let catalogue = common::catalogue();
    for (mix, log) in [
        ("metadata", common::log(&catalogue, 16 << 20)),
        (
            "request_response_bodies",
            common::shaped(
                &catalogue,
                32 << 20,
                Level::RequestResponse,
                Shape::LargeBodies,
            ),
        ),
    ] {
        let lines: Vec<&[u8]> = log
            .split(|&b| b == b'\n')
            .filter(|l| !l.is_empty())
            .collect();

        let mut group = c.benchmark_group(format!("extract_{mix}"));
        group
            .warm_up_time(Duration::from_secs(1))
            .measurement_time(Duration::from_secs(3))
            .sample_size(10);
        group.throughput(Throughput::Bytes(log.len() as u64));
        for (name, validation, canonical) in [
            ("hand_scanner_fast", Validation::Fast, true),
            ("hand_scanner_fast_general_loop", Validation::Fast, false),
            ("hand_scanner_full", Validation::Full, false),
        ] {
            group.bench_function(name, |b| {
                b.iter(|| {
                    lines
                        .iter()
                        .filter(|l| event::extract_with(l, validation, false, canonical).is_ok())
                        .count()
                })
            });
        }
        group.bench_function("serde_json_cow", |b| {
            b.iter(|| {
                lines
                    .iter()
                    .filter_map(|l| serde_json::from_slice::<Wanted>(l).ok())
                    .filter(|w| {
                        w.stage.is_some()
                            && w.verb.is_some()
                            && w.request_uri.is_some()
                            && w.audit_id.is_some()
                    })
                    .count()
            })
        });
        group.bench_function("simd_json_serde_reused", |b| {
            let mut scratch = Vec::new();
            let mut buffers = simd_json::Buffers::default();
            b.iter(|| {
                let mut n = 0;
                for l in &lines {
                    scratch.clear();
                    scratch.extend_from_slice(l);
                    if let Ok(w) = simd_json::serde::from_slice_with_buffers::<Wanted>(
                        &mut scratch,
                        &mut buffers,
                    ) {
                        n += usize::from(w.verb.is_some());
                    }
                }
                n
            })
        });
        group.bench_function("simd_json_tape_reused", |b| {
            let mut scratch = Vec::new();
            let mut buffers = simd_json::Buffers::default();
            let mut tape = Some(simd_json::tape::Tape::null());
            b.iter(|| {
                let mut n = 0;
                for l in &lines {
                    scratch.clear();
                    scratch.extend_from_slice(l);
                    let mut filled = tape.take().expect("returned each line").reset();
                    if simd_json::fill_tape(&mut scratch, &mut buffers, &mut filled).is_ok() {
                        let event = filled.as_value();
                        n += usize::from(
                            ["stage", "verb", "requestURI", "auditID"]
                                .iter()
                                .all(|k| event.get(*k).is_some_and(|v| v.as_str().is_some())),
                        );
                    }
                    tape = Some(filled.reset());
                }
                n
            })
        });
        group.finish();
    }
}

criterion_group!(benches, extract);
criterion_main!(benches);
