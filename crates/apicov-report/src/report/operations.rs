//! `audit-operations.json`: `{operationId: [up to 5 sample events]}` for the
//! operations that pass the filters, in order of first hit. Each sample is the
//! parsed event, printed as Python's `json.dump(indent=2, ensure_ascii=False)`
//! prints it ([`python_json`](super::python_json)), so the file is
//! byte-identical to the reference's.

use std::borrow::Cow;

use rayon::prelude::*;
use serde_json::Value;

use super::python_json::{print_sample, to_python_json};
use super::{Body, Render, Run};
use apicov_core::aggregate::{Sample, Tally, SAMPLES_PER_OP};
use apicov_core::coverage::Coverage;
use apicov_core::spec::{Catalogue, OpId};

/// `audit-operations.json`, its operations rendered on `pool`.
#[derive(Debug, Clone, Copy)]
pub struct OperationsJson<'p> {
    /// The workers that render the operations in batches.
    pub pool: &'p rayon::ThreadPool,
}

impl Render for OperationsJson<'_> {
    fn render<'a>(&'a self, run: &Run<'a>, coverage: &'a Coverage) -> Body<'a> {
        render(run.catalogue, run.tally, coverage, self.pool)
    }
}

/// The document in pieces (`{`, one piece per operation, `}`). When the run
/// printed every sample as it kept it (see
/// [`apicov_core::aggregate::SamplePrinter`]), the samples are written from
/// where they are, between short pieces of punctuation; otherwise the
/// operations are rendered on `pool` in batches while
/// [`crate::report::write_all_atomic`] writes the batch before
/// ([`Body::in_batches`]).
fn render<'a>(
    catalogue: &'a Catalogue,
    tally: &'a Tally,
    coverage: &'a Coverage,
    pool: &'a rayon::ThreadPool,
) -> Body<'a> {
    if coverage.kept.is_empty() {
        return b"{}".to_vec().into();
    }
    let kept = &coverage.kept;
    let last = kept.len() - 1;
    let printed = kept.iter().all(|op| {
        tally.samples[op.index()]
            .iter()
            .all(|s| s.printed.is_some())
    });
    if printed {
        return Body::from(printed_pieces(catalogue, tally, kept));
    }
    Body::in_batches(kept.len(), pool, move |range| {
        // Each operation's samples are printed in parallel (a 200 MB run has
        // ~5,000 samples, ~6 MB of JSON) into a buffer sized for them.
        let (start, end) = (range.start, range.end);
        let mut pieces: Vec<Vec<u8>> = Vec::with_capacity(range.len() + 2);
        if start == 0 {
            pieces.push(b"{\n".to_vec());
        }
        pieces.par_extend(
            kept[range]
                .par_iter()
                .enumerate()
                .map(|(i, op)| operation(catalogue, tally, *op, start + i == last)),
        );
        if end == kept.len() {
            pieces.push(b"}".to_vec());
        }
        pieces
    })
}

/// The document with the samples borrowed from the tally (`render` takes
/// this way when every one is printed already), between owned pieces of
/// punctuation and names.
fn printed_pieces<'a>(
    catalogue: &Catalogue,
    tally: &'a Tally,
    kept: &[OpId],
) -> Vec<Cow<'a, [u8]>> {
    let mut sink = Borrowing {
        pieces: Vec::with_capacity(kept.len() * (2 * SAMPLES_PER_OP + 1) + 1),
        text: b"{\n".to_vec(),
    };
    for (i, op) in kept.iter().enumerate() {
        member(catalogue, tally, *op, i + 1 == kept.len(), &mut sink);
    }
    sink.text.push(b'}');
    sink.pieces.push(Cow::Owned(sink.text));
    sink.pieces
}

/// One operation's member of the document, rendered whole.
fn operation(catalogue: &Catalogue, tally: &Tally, op: OpId, last: bool) -> Vec<u8> {
    let size: usize = tally.samples[op.index()]
        .iter()
        .map(|s| s.printed.as_ref().map_or(s.line.len() * 3 / 2, |p| p.len()))
        .sum();
    let mut part = Vec::with_capacity(size + 128);
    member(catalogue, tally, op, last, &mut part);
    part
}

/// Where a member of the document goes: its text, and its samples.
trait Sink<'a> {
    fn text(&mut self, bytes: &[u8]);
    fn sample(&mut self, sample: &'a Sample);
}

/// Renders: samples printed now unless printed already.
impl Sink<'_> for Vec<u8> {
    fn text(&mut self, bytes: &[u8]) {
        self.extend_from_slice(bytes);
    }
    fn sample(&mut self, sample: &Sample) {
        match &sample.printed {
            Some(printed) => self.extend_from_slice(printed),
            None => print_sample(&sample.line, self),
        }
    }
}

/// Pieces that borrow the printed samples (and print any other here).
struct Borrowing<'a> {
    pieces: Vec<Cow<'a, [u8]>>,
    /// Text since the last sample.
    text: Vec<u8>,
}

impl<'a> Sink<'a> for Borrowing<'a> {
    fn text(&mut self, bytes: &[u8]) {
        self.text.extend_from_slice(bytes);
    }
    fn sample(&mut self, sample: &'a Sample) {
        match &sample.printed {
            Some(printed) => {
                self.pieces.push(Cow::Owned(std::mem::take(&mut self.text)));
                self.pieces.push(Cow::Borrowed(printed));
            }
            None => print_sample(&sample.line, &mut self.text),
        }
    }
}

/// One operation's member of the document: its id and its samples.
fn member<'a>(
    catalogue: &Catalogue,
    tally: &'a Tally,
    op: OpId,
    last: bool,
    sink: &mut impl Sink<'a>,
) {
    let samples = &tally.samples[op.index()];
    let name = Value::from(catalogue.get(op).id.as_str());
    sink.text(b"  ");
    sink.text(&to_python_json(&name));
    if samples.is_empty() {
        sink.text(b": []");
    } else {
        sink.text(b": [\n");
        for (i, sample) in samples.iter().enumerate() {
            sink.text(b"    ");
            sink.sample(sample);
            sink.text(if i + 1 < samples.len() { b",\n" } else { b"\n" });
        }
        sink.text(b"  ]");
    }
    sink.text(if last { b"\n" } else { b",\n" });
}
