//! Aggregation: what one chunk of lines adds up to (`ChunkTally`, built on
//! one thread with no shared state), and the run's totals ([`Tally`]), which
//! absorbs chunk tallies strictly in input order.
//!
//! Counting rule: each API request counts once, whatever the order in which
//! its events arrive. Events of one request share an `auditID`; the apiserver's
//! batch backends post batches from concurrent goroutines, so a request's
//! stages reach a log or a webhook in any order. A request counts at the first
//! of its events in the input, whatever its stage (so logs written under
//! `omitStages: [RequestReceived]` are counted too; the reference counts
//! nothing there); an event whose `auditID` was seen in the last [`Window`]
//! events counts nothing. An event further than the window from the last one
//! with its `auditID` is a new request; an event without an `auditID` is a
//! request of its own.
//!
//! In parallel: a chunk counts each request at its first event in the chunk
//! and remembers what that counted; `Tally::absorb`, taking chunks in input
//! order, takes that count back for the requests it saw in the window before
//! the chunk. The result is the same for every chunk size and thread count
//! (tested), and for every order of a request's events within the window.
//!
//! Memory stays bounded: a chunk holds one entry per request in it, and the
//! run remembers the requests of the chunks with an event in the window (a
//! record each, at most one per event of the window and a chunk's more, and
//! a slot each in a table of tags swept when it has doubled).
//!
//! Here: the counting rule and the run's [`Tally`]; beside it, `counts`
//! (what chunks and the run share), `chunk_tally` (the per-chunk side and
//! its scan loop), `recent` (the run's table of recent requests) and `keys`
//! (what identifies a request and an unmatched request's group). Each
//! imports only `counts` and `keys`, never this module.

mod chunk_tally;
mod counts;
mod keys;
mod recent;

pub(crate) use chunk_tally::{scan_chunk, ChunkTally, SampledOps, ScanOptions};
pub use counts::{
    position, position_input, Hits, Malformed, Position, Sample, SamplePrinter, SamplePrinting,
    Target, UnmatchedKey, Window, MALFORMED_EXAMPLES, MAX_SAMPLE_LINE, SAMPLES_PER_OP,
};
pub use keys::{normalise_unmatched, request_key};

use std::collections::hash_map::Entry;

use crate::attribution::ActorTable;
use crate::event;
use crate::spec::OpId;
use ahash::AHashMap;
use counts::{NO_ACTOR, NO_CANDIDATE, UNMATCHED};
use recent::{Recent, RecentRequests};

/// Per-input figures.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InputTotals {
    /// Lines read, blank and malformed ones included.
    pub lines: u64,
    /// Bytes read (decompressed).
    pub bytes: u64,
}

/// The run's totals, built by absorbing chunk tallies in input order.
#[derive(Debug, Clone)]
pub struct Tally {
    /// Per-input figures, in input order.
    pub inputs: Vec<InputTotals>,
    /// Empty lines, not counted as malformed.
    pub blank_lines: u64,
    /// Lines that are not audit events: counted and skipped, never fatal.
    pub malformed_lines: u64,
    /// The first few malformed lines, by position (see [`MALFORMED_EXAMPLES`]).
    pub malformed_examples: Vec<Malformed>,
    /// Events read, by stage (indexed by [`Stage`](crate::event::Stage) as a number).
    pub events_by_stage: [u64; 4],
    /// Per operation (indexed by [`OpId`]): requests counted and the first position.
    pub ops: Vec<Hits>,
    /// Per operation: up to [`SAMPLES_PER_OP`] sample events, in input order.
    pub samples: Vec<Vec<Sample>>,
    /// Requests no operation matched, grouped by verb and path pattern.
    unmatched: AHashMap<UnmatchedKey, Hits>,
    /// Tests and clients (when requests are attributed), numbered in order
    /// of appearance.
    pub actors: ActorTable,
    /// Counted requests per (actor, operation), when requests are attributed.
    pub(crate) attributed: AHashMap<(u32, OpId), u64>,
    /// Requests left out as not conformance tests', per (client, operation).
    pub(crate) left_out: AHashMap<(u32, OpId), u64>,
    /// Requests seen in the last [`Window`] events.
    recent: RecentRequests,
    /// Events numbered so far (the next event's global number).
    events_numbered: u64,
    /// `recent`'s size at which its entries out of the window are dropped.
    sweep_at: usize,
    /// The window of the chunks absorbed.
    window: Window,
    /// Prints samples as they are kept, if set.
    printing: Option<SamplePrinting>,
    /// Where the serial absorbing path spent its time.
    absorbing: AbsorbTimings,
    /// The input's size, until the first chunk with requests sizes the
    /// memory of recent requests for it.
    expected_bytes: Option<u64>,
}

/// Where the run's serial path spent its time (`parse --timings`): every
/// chunk is absorbed by one thread at a time, in input order, so this is
/// the part of a parse that more threads do not shorten.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AbsorbTimings {
    /// Absorbing chunk tallies, all told.
    pub absorbing: std::time::Duration,
    /// Of which: looking each request of a chunk up in the table of recent
    /// requests and settling what it counts, and making room in the table.
    pub recent_requests: std::time::Duration,
    /// Requests looked up: one per request and chunk it has events in.
    pub looked_up: u64,
    /// Setting the table up for the requests the input is expected to hold:
    /// its pages, fresh memory, mapped in at once.
    pub table_setup: std::time::Duration,
    /// The table's size in memory at the end of the run.
    pub table_bytes: usize,
}

impl Tally {
    /// An empty tally over a catalogue of `n_ops` operations.
    pub fn new(n_ops: usize) -> Tally {
        Tally {
            inputs: Vec::new(),
            blank_lines: 0,
            malformed_lines: 0,
            malformed_examples: Vec::new(),
            events_by_stage: [0; 4],
            ops: vec![Hits::default(); n_ops],
            samples: vec![Vec::new(); n_ops],
            unmatched: AHashMap::new(),
            actors: ActorTable::default(),
            attributed: AHashMap::new(),
            left_out: AHashMap::new(),
            recent: RecentRequests::default(),
            events_numbered: 0,
            sweep_at: 0,
            window: Window::DEFAULT,
            printing: None,
            absorbing: AbsorbTimings::default(),
            expected_bytes: None,
        }
    }

    /// Samples kept from now on are printed as they are kept (see
    /// [`SamplePrinter`]).
    pub(crate) fn print_samples_with(&mut self, printing: SamplePrinting) {
        self.printing = Some(printing);
    }

    /// Adds the next chunk (in input order). `bytes` are the chunk's bytes,
    /// from which sample lines are copied.
    pub(crate) fn absorb(&mut self, chunk: ChunkTally, bytes: &[u8]) {
        self.size_for_input(&chunk, bytes.len());
        let started = std::time::Instant::now();
        let input = position_input(chunk.base);
        while self.inputs.len() <= input {
            self.inputs.push(InputTotals::default());
        }
        let first_line = self.inputs[input].lines;
        self.inputs[input].lines += chunk.lines;
        self.inputs[input].bytes += bytes.len() as u64;
        self.blank_lines += chunk.blank_lines;
        self.malformed_lines += chunk.malformed;
        for (line_index, issue) in chunk.malformed_examples {
            if self.malformed_examples.len() < MALFORMED_EXAMPLES {
                self.malformed_examples.push(Malformed {
                    input,
                    line: first_line + line_index + 1,
                    reason: issue.to_string(),
                });
            }
        }
        for (total, add) in self.events_by_stage.iter_mut().zip(chunk.events_by_stage) {
            *total += add;
        }

        // Chunk-local actor numbers become the run's.
        let actor_map: Vec<u32> = chunk
            .actors
            .actors
            .iter()
            .map(|a| self.actors.intern_actor(a))
            .collect();
        for ((actor, op), n) in chunk.left_out {
            *self
                .left_out
                .entry((actor_map[actor as usize], op))
                .or_default() += n;
        }
        for ((actor, op), n) in chunk.attributed {
            *self
                .attributed
                .entry((actor_map[actor as usize], op))
                .or_default() += n;
        }

        // Requests the run saw in the window before this chunk were counted
        // there: what their first event here counted is taken back.
        let mut op_hits = chunk.ops;
        let mut unmatched = chunk.unmatched;
        let mut taken_back: Vec<u32> = Vec::new();
        let base = self.events_numbered;
        let window = chunk.window;
        self.window = window;
        let (ids, seen) = (chunk.request_ids, chunk.requests);
        let looked_up = ids.len();
        let looking_up = std::time::Instant::now();
        self.make_room(looked_up, window);
        // The requests seen in the window before, by index: few, as most
        // requests begin and end in one chunk. The others' first positions
        // join their operations' as they are settled, in the same pass.
        let mut in_window: Vec<u32> = Vec::new();
        self.recent.settle_each(&ids, |i, known| {
            let seen = &seen[i];
            let first = base + u64::from(seen.first);
            let last = base + u64::from(seen.last);
            match known {
                Some(was) if window.holds(first - was.last()) => {
                    in_window.push(i as u32);
                    Recent::new(last, seen.done || (!seen.renewed && was.done()))
                }
                _ => {
                    let hits = seen.counted.hits(&mut op_hits, &mut unmatched);
                    hits.first = hits.first.min(seen.pos);
                    Recent::new(last, seen.done)
                }
            }
        });
        self.absorbing.recent_requests += looking_up.elapsed();
        self.absorbing.looked_up += looked_up as u64;
        for i in in_window {
            let counted = seen[i as usize].counted;
            counted.hits(&mut op_hits, &mut unmatched).by_stage[counted.stage as usize] -= 1;
            if counted.target & UNMATCHED != 0 {
                continue;
            }
            let op = OpId(counted.target);
            if counted.actor != NO_ACTOR {
                let key = (actor_map[counted.actor as usize], op);
                if let Entry::Occupied(mut n) = self.attributed.entry(key) {
                    *n.get_mut() -= 1;
                    if *n.get() == 0 {
                        n.remove();
                    }
                }
            }
            if counted.candidate != NO_CANDIDATE {
                taken_back.push(counted.candidate);
            }
        }
        taken_back.sort_unstable();
        let mut taken_back = taken_back.into_iter().peekable();
        self.events_numbered += u64::from(chunk.events);
        let sweeping = std::time::Instant::now();
        self.sweep(window);
        self.absorbing.recent_requests += sweeping.elapsed();

        for (i, hits) in op_hits.iter().enumerate() {
            merge_hits(&mut self.ops[i], hits);
        }
        // Samples: the first counted lines of each operation, in input order,
        // that pass the whole-line check or that the printer takes (the
        // chunk's own and its settled pending entries, both in chunk order,
        // merged).
        let mut by_worker = chunk.printed.into_iter().peekable();
        for (index, (op, (start, end))) in chunk.candidates.into_iter().enumerate() {
            if taken_back.next_if_eq(&(index as u32)).is_some() {
                continue;
            }
            let kept = &mut self.samples[op.index()];
            if kept.len() >= SAMPLES_PER_OP {
                continue;
            }
            let line = event::trim_line(&bytes[start..end]);
            // Printed by the worker that scanned the chunk, or now.
            while by_worker.next_if(|(i, _)| *i < index).is_some() {}
            let printed = match by_worker.next_if(|(i, _)| *i == index) {
                Some((_, out)) => Some(out),
                None => self.printing.as_ref().and_then(|p| p.printed(op, line)),
            };
            if printed.is_some() || chunk.checked_whole || event::check_whole(line).is_ok() {
                kept.push(Sample {
                    pos: chunk.base + start as u64,
                    line: match (&printed, &self.printing) {
                        (Some(_), Some(p)) if !p.keep_lines => Box::default(),
                        _ => line.into(),
                    },
                    printed,
                });
            }
        }
        for (key, hits) in unmatched {
            if hits.total() > 0 {
                merge_hits(self.unmatched.entry(key).or_default(), &hits);
            }
        }
        self.absorbing.absorbing += started.elapsed();
    }

    /// Where the serial absorbing path spent its time so far.
    pub fn absorb_timings(&self) -> AbsorbTimings {
        AbsorbTimings {
            table_bytes: self.recent.bytes(),
            ..self.absorbing
        }
    }

    /// Makes room in the table of recent requests for `more` requests. The
    /// records out of the window are dropped at every chunk; when the
    /// requests would overfill the table, its stale slots are emptied
    /// first, and it grows only if that leaves it over half full (so that
    /// sweeps stay amortised O(1) per request).
    fn make_room(&mut self, more: usize, window: Window) {
        self.recent.forget(self.events_numbered, window);
        if self.recent.fits(more) {
            return;
        }
        self.recent.drop_stale();
        self.recent.reserve_half(more);
    }

    /// Empties the table's stale slots (requests whose records left the
    /// window), once it holds more than twice the window's requests and has
    /// doubled since the last sweep (each sweep walks the table: amortised
    /// O(1) a request). Records are held while their chunk has an event in
    /// the window, at most one request per event and a chunk's more, so the
    /// table stays under twice that; below it, only a table about to
    /// overfill is swept ([`Tally::make_room`]), so a parse whose table was
    /// sized for its input walks it rarely.
    fn sweep(&mut self, window: Window) {
        let floor = usize::try_from(window.0.saturating_mul(2)).unwrap_or(usize::MAX);
        if self.recent.len() < self.sweep_at.max(floor) {
            return;
        }
        self.recent.forget(self.events_numbered, window);
        self.recent.drop_stale();
        self.sweep_at = 2 * self.recent.len();
    }

    /// Requests no operation matched, by verb and path pattern, in no
    /// particular order.
    pub fn unmatched(&self) -> impl ExactSizeIterator<Item = (&UnmatchedKey, &Hits)> + '_ {
        self.unmatched.iter()
    }

    /// The requests of one unmatched group, if any were counted.
    pub fn unmatched_hits(&self, key: &UnmatchedKey) -> Option<&Hits> {
        self.unmatched.get(key)
    }

    /// Sets the requests of an unmatched group (a tally read back from a
    /// report).
    pub fn insert_unmatched(&mut self, key: UnmatchedKey, hits: Hits) {
        self.unmatched.insert(key, hits);
    }

    /// Counted requests per (actor, operation), when requests are
    /// attributed ([`Attribution::by_test`](crate::attribution::Attribution::by_test)): actors number into
    /// [`Tally::actors`]. In no particular order.
    pub fn attributed(&self) -> impl ExactSizeIterator<Item = (&(u32, OpId), &u64)> + '_ {
        self.attributed.iter()
    }

    /// Adds `n` requests of `actor` (a number of [`Tally::actors`]) to `op`.
    pub fn add_attributed(&mut self, actor: u32, op: OpId, n: u64) {
        *self.attributed.entry((actor, op)).or_default() += n;
    }

    /// Requests left out as not sent by conformance tests
    /// ([`Attribution::conformance_only`](crate::attribution::Attribution::conformance_only)), per (client, operation), in no
    /// particular order.
    pub fn left_out(&self) -> impl ExactSizeIterator<Item = (&(u32, OpId), &u64)> + '_ {
        self.left_out.iter()
    }

    /// Requests counted: matched plus unmatched.
    pub fn requests(&self) -> u64 {
        self.matched_requests() + self.unmatched_requests()
    }

    /// Requests counted against an operation.
    pub fn matched_requests(&self) -> u64 {
        self.ops.iter().map(Hits::total).sum()
    }

    /// Requests counted that no operation matched.
    pub fn unmatched_requests(&self) -> u64 {
        self.unmatched.values().map(Hits::total).sum()
    }

    /// Lines read over all inputs.
    pub fn lines(&self) -> u64 {
        self.inputs.iter().map(|i| i.lines).sum()
    }

    /// Events read over all stages.
    pub fn events(&self) -> u64 {
        self.events_by_stage.iter().sum()
    }

    /// Requests in flight after the last chunk: seen in the window, no
    /// terminal stage seen.
    pub fn open_requests(&self) -> impl Iterator<Item = u128> + '_ {
        let now = self.events_numbered;
        self.recent
            .iter()
            .filter(move |(_, r)| !r.done() && self.window.holds(now - r.last()))
            .map(|(id, _)| u128::from(id))
    }

    /// Expects `bytes` of input: the first chunk with requests sizes the
    /// memory of recent requests for them ([`Tally::size_for_input`]).
    pub(crate) fn expect_input(&mut self, bytes: u64) {
        self.expected_bytes = Some(bytes);
    }

    /// Makes room in the memory of recent requests for the requests the
    /// expected input holds, at the density of `first`, the first chunk with
    /// requests (as many requests a byte, and as many a window's events),
    /// and a tenth more: records for the requests of the input or of a
    /// window, whichever is fewer, and slots for those of the input or of
    /// two windows (stale slots pile up past the window until a sweep, and
    /// a sweep walks the table). Sized once, not copied through each
    /// doubling: the copies are fresh pages of memory, and page faults are
    /// much of what remembering requests costs. Sized by the first chunk,
    /// not by a fixed size per request: a log of large bodies holds a tenth
    /// of the requests of a Metadata log its size.
    fn size_for_input(&mut self, first: &ChunkTally, bytes: usize) {
        let requests = first.request_ids.len() as u64;
        let Some(total) = self.expected_bytes.filter(|_| requests > 0) else {
            return;
        };
        self.expected_bytes = None;
        let started = std::time::Instant::now();
        let in_input = total.saturating_mul(requests) / (bytes as u64).max(1);
        let in_window = (first.window.0).saturating_mul(requests) / u64::from(first.events).max(1);
        let room =
            |n: u64| usize::try_from(n.saturating_mul(11) / 10 + requests).unwrap_or(usize::MAX);
        self.recent.expect(
            room(in_input.min(in_window.saturating_mul(2))),
            room(in_input.min(in_window)),
        );
        self.absorbing.table_setup += started.elapsed();
    }

    /// Requests remembered: seen in the last [`Window`] events (and perhaps
    /// some before, not yet dropped).
    pub fn remembered_requests(&self) -> usize {
        self.recent.len()
    }

    /// Starts from requests left open by an earlier part of the same log
    /// (`parse --continue-from`), so their later stages are not counted
    /// again: they are remembered as seen just before this part's first
    /// event.
    pub fn seed_open(&mut self, ids: impl IntoIterator<Item = u128>) {
        let last = self.events_numbered;
        let held = ids
            .into_iter()
            .map(|id| (id.into(), Recent::new(last, false)));
        self.recent.remember(held);
    }

    /// Appends a tally of later input (another part, or another run): inputs
    /// are renumbered after this one's. Exact when `later` was parsed with
    /// this tally's open requests as its seed, or when none were open. The
    /// same as `tally += later`.
    pub fn append(&mut self, mut later: Tally) {
        let shift = (self.inputs.len() as u64) << 48;
        self.inputs.append(&mut later.inputs);
        self.blank_lines += later.blank_lines;
        self.malformed_lines += later.malformed_lines;
        for mut m in later.malformed_examples {
            if self.malformed_examples.len() < MALFORMED_EXAMPLES {
                m.input += (shift >> 48) as usize;
                self.malformed_examples.push(m);
            }
        }
        for (total, add) in self.events_by_stage.iter_mut().zip(later.events_by_stage) {
            *total += add;
        }
        for (i, mut hits) in later.ops.into_iter().enumerate() {
            hits.first += shift;
            merge_hits(&mut self.ops[i], &hits);
        }
        for (i, samples) in later.samples.into_iter().enumerate() {
            let kept = &mut self.samples[i];
            for mut s in samples {
                if kept.len() < SAMPLES_PER_OP {
                    s.pos += shift;
                    kept.push(s);
                }
            }
        }
        for (key, mut hits) in later.unmatched {
            hits.first += shift;
            merge_hits(self.unmatched.entry(key).or_default(), &hits);
        }
        let actor_map: Vec<u32> = later
            .actors
            .actors
            .iter()
            .map(|a| self.actors.intern_actor(a))
            .collect();
        for ((actor, op), n) in later.attributed {
            *self
                .attributed
                .entry((actor_map[actor as usize], op))
                .or_default() += n;
        }
        for ((actor, op), n) in later.left_out {
            *self
                .left_out
                .entry((actor_map[actor as usize], op))
                .or_default() += n;
        }
        let shift = self.events_numbered;
        self.recent = RecentRequests::default();
        let held = later
            .recent
            .iter()
            .map(|(id, r)| (id, Recent::new(r.last() + shift, r.done())));
        self.recent.remember(held);
        self.events_numbered += later.events_numbered;
        self.sweep_at = later.sweep_at;
    }

    /// Operations hit, in order of their first counted request.
    pub(crate) fn ops_by_first_hit(&self) -> Vec<OpId> {
        let mut hit: Vec<OpId> = (0..self.ops.len() as u32)
            .map(OpId)
            .filter(|op| self.ops[op.index()].total() > 0)
            .collect();
        hit.sort_by_key(|op| self.ops[op.index()].first);
        hit
    }
}

impl std::ops::AddAssign for Tally {
    /// [`Tally::append`].
    fn add_assign(&mut self, later: Tally) {
        self.append(later);
    }
}

fn merge_hits(into: &mut Hits, add: &Hits) {
    if add.total() == 0 {
        return;
    }
    if into.total() == 0 || add.first < into.first {
        into.first = add.first;
    }
    for (a, b) in into.by_stage.iter_mut().zip(add.by_stage) {
        *a += b;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unmatched_paths_normalise_as_the_plain_rule_does() {
        // Paths of 0-15 segments of mixed lengths (slashes fall at every
        // offset of a 16-byte block), with a leading slash or not, queries
        // and trailing slashes, against the rule as first written.
        let words = [
            "api",
            "apis",
            "v1",
            "g.example.io",
            "namespaces",
            "ns",
            "",
            "x",
            "é",
            "proxy",
            "status",
            "a-segment-longer-than-sixteen-bytes",
            "watch",
        ];
        let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut next = |n: usize| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state % n as u64) as usize
        };
        let (mut fast, mut plain) = (String::new(), String::new());
        for _ in 0..50_000 {
            let mut uri = String::new();
            if next(8) != 0 {
                uri.push('/');
            }
            // Mostly the shapes the rules look at.
            let first = next(4);
            if first < 2 {
                uri.push_str(["api/v1/", "apis/g.example.io/v1/"][first]);
            }
            for k in 0..next(14) {
                if k > 0 {
                    uri.push('/');
                }
                uri.push_str(words[next(words.len())]);
            }
            match next(6) {
                0 => uri.push('/'),
                1 => uri.push_str("?limit=5/x"),
                _ => {}
            }
            keys::normalise_unmatched_into(uri.as_bytes(), &mut fast);
            keys::normalise_unmatched_plain(uri.as_bytes(), &mut plain);
            assert_eq!(fast, plain, "{uri}");
        }
    }

    #[test]
    fn unmatched_paths_normalise_by_resource() {
        let cases = [
            (
                "/apis/stable.example.com/v1/namespaces/d/crontabs/x",
                "/apis/stable.example.com/v1/namespaces/{namespace}/crontabs/{name}",
            ),
            (
                "/apis/stable.example.com/v1/namespaces/d/crontabs?limit=5",
                "/apis/stable.example.com/v1/namespaces/{namespace}/crontabs",
            ),
            (
                "/apis/metrics.k8s.io/v1beta1/nodes/n1",
                "/apis/metrics.k8s.io/v1beta1/nodes/{name}",
            ),
            (
                "/apis/metrics.k8s.io/v1beta1/nodes",
                "/apis/metrics.k8s.io/v1beta1/nodes",
            ),
            (
                "/apis/x.io/v1/namespaces/ns1",
                "/apis/x.io/v1/namespaces/{name}",
            ),
            (
                "/apis/x.io/v1/foos/a/status",
                "/apis/x.io/v1/foos/{name}/status",
            ),
            (
                "/apis/x.io/v1/foos/a/proxy/b/c",
                "/apis/x.io/v1/foos/{name}/proxy/{path}",
            ),
            ("/healthz?verbose", "/healthz"),
            ("/openapi/v2", "/openapi/v2"),
            ("/apis/x.io", "/apis/x.io"),
            ("", ""),
            ("api/v1/pods", "api/v1/pods"),
            (
                "/api/v1/namespaces/a/pods/b/c/d/e/f/g/h/i/j/k/l",
                "/api/v1/namespaces/{namespace}/pods/{name}/c/{path}",
            ),
            (
                "/apis/g/v1/namespaces//x/",
                "/apis/g/v1/namespaces/{namespace}/x",
            ),
            ("/apis/é/v1/x", "/apis/é/v1/x"),
        ];
        for (uri, want) in cases {
            assert_eq!(normalise_unmatched(uri.as_bytes()), want, "{uri}");
        }
    }

    #[test]
    fn uuid_keys_are_exact() {
        assert_eq!(request_key(b"00000000-0000-0000-0000-00000000000a"), 10);
        assert_eq!(
            request_key(b"0123abcd-4567-89ef-ABCD-0123456789ab"),
            0x0123abcd_4567_89ef_abcd_0123456789ab
        );
        assert_eq!(
            keys::uuid_value(b"0123abcd-4567-89ef-ABCD-0123456789ag"),
            None
        );
        assert_eq!(
            keys::uuid_value(b"0123abcd-4567-89ef-ABCD+0123456789ab"),
            None
        );
        assert_ne!(request_key(b"abc"), request_key(b"abd"));
    }

    /// The decoder (and the word-at-a-time one, where SSE2 is used) against
    /// the plain rule, for every byte value at every digit position (and
    /// each separator).
    #[test]
    fn uuid_keys_take_exactly_hex_digits() {
        fn plain(id: &[u8]) -> Option<u128> {
            let dashes = [8, 13, 18, 23];
            if id.len() != 36 || dashes.iter().any(|&i| id[i] != b'-') {
                return None;
            }
            let mut v: u128 = 0;
            for (i, &c) in id.iter().enumerate() {
                if !dashes.contains(&i) {
                    v = (v << 4) | u128::from((c as char).to_digit(16)?);
                }
            }
            Some(v)
        }
        let base = *b"0123abcd-4567-89ef-ABCD-0123456789ab";
        for at in 0..base.len() {
            for byte in 0..=255u8 {
                let mut id = base;
                id[at] = byte;
                let want = plain(&id);
                assert_eq!(keys::uuid_value(&id), want, "{:?}", id[at] as char);
                let swar = keys::uuid_words(&id).and_then(keys::hex32_swar);
                assert_eq!(swar, want, "{:?}", id[at] as char);
            }
        }
    }
}
