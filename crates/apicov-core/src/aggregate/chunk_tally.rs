//! What one chunk of lines adds up to: the scan loop over a chunk's lines
//! (extract, route, settle each request's state) into a [`ChunkTally`] built
//! on one thread with no shared state, and the operations already sampled in
//! full ([`SampledOps`]), which chunks stop collecting candidates for.

use std::sync::atomic::{AtomicU8, Ordering};

use std::collections::hash_map::Entry;

use ahash::AHashMap;
use indexmap::IndexMap;

use super::counts::*;
use super::keys::request_key;
use super::keys::{lossy, normalise_unmatched_into};
use crate::attribution::Attribution;
use crate::attribution::{self, ActorTable};
use crate::event::Validation;
use crate::event::{self, LineIssue, Stage};
use crate::routing::{PathMatcher, Router};
use crate::spec::OpId;

/// What one chunk of lines adds up to. `line` ranges index the chunk's bytes.
#[derive(Debug)]
pub struct ChunkTally {
    pub(super) base: Position,
    pub(super) lines: u64,
    pub(super) blank_lines: u64,
    pub(super) malformed: u64,
    /// (line index in chunk, issue), the first few.
    pub(super) malformed_examples: Vec<(u64, LineIssue)>,
    pub(super) events_by_stage: [u64; 4],
    pub(super) ops: Vec<Hits>,
    /// Counted lines of operations not yet sampled in full when the chunk
    /// was scanned, in chunk order: (operation, line range). Unchecked: the
    /// run checks them whole (or prints them, see [`SamplePrinter`]) when it
    /// absorbs the chunk, in input order and only until it holds an
    /// operation's samples, so each operation costs about five whole-line
    /// checks per run rather than five per chunk.
    pub(super) candidates: Vec<(OpId, (usize, usize))>,
    /// Candidates printed by the scanning worker (see [`print_candidates`]):
    /// (index in `candidates`, printed line), in order.
    pub(super) printed: Vec<(usize, bytes::Bytes)>,
    /// Lines were checked whole as they were read (`--validate full`); in
    /// fast mode a sample candidate is checked before it is kept.
    pub(super) checked_whole: bool,
    /// Unmatched requests by group, numbered in order of appearance (a
    /// request's [`Counted`] names its group by number).
    pub(super) unmatched: IndexMap<UnmatchedKey, Hits, ahash::RandomState>,
    /// The key of every request seen in the chunk, in the order of its
    /// first event: apart from what is known of it, as the run looks the
    /// keys up on their own.
    pub(super) request_ids: Vec<RequestId>,
    /// At the same index: where the request's events fall and what its
    /// first event counted, which the run takes back if it had seen the
    /// request already.
    pub(super) requests: Vec<RequestSeen>,
    /// Events read so far: the chunk-local number of the next event.
    pub(super) events: u32,
    /// How far apart, in events, two events of one request may be.
    pub(super) window: Window,
    /// Tests and clients seen in the chunk.
    pub(super) actors: ActorTable,
    /// Counted requests per (actor, operation).
    pub(super) attributed: AHashMap<(u32, OpId), u64>,
    /// Requests `--conformance-only` left out, per (client, operation),
    /// counted at their terminal event.
    pub(super) left_out: AHashMap<(u32, OpId), u64>,
}

impl ChunkTally {
    fn new(n_ops: usize, base: Position, checked_whole: bool, window: Window) -> ChunkTally {
        ChunkTally {
            checked_whole,
            base,
            lines: 0,
            blank_lines: 0,
            malformed: 0,
            malformed_examples: Vec::new(),
            events_by_stage: [0; 4],
            ops: vec![Hits::UNSEEN; n_ops],
            candidates: Vec::new(),
            printed: Vec::new(),
            unmatched: IndexMap::default(),
            request_ids: Vec::new(),
            requests: Vec::new(),
            events: 0,
            window,
            actors: ActorTable::default(),
            attributed: AHashMap::new(),
            left_out: AHashMap::new(),
        }
    }

    /// Counts a request against an operation; says what was counted, so that
    /// the run can take it back. `settled`: the request's position, when the
    /// run cannot take the count back.
    fn count(
        &mut self,
        op: OpId,
        stage: Stage,
        settled: Option<Position>,
        range: (usize, usize),
        actor: Option<u32>,
        sampled: &SampledOps,
    ) -> Counted {
        self.ops[op.index()].count(stage, settled);
        if let Some(actor) = actor {
            *self.attributed.entry((actor, op)).or_default() += 1;
        }
        let candidate = if sampled.has(op) || range.1 - range.0 > MAX_SAMPLE_LINE {
            NO_CANDIDATE
        } else {
            self.candidates.push((op, range));
            (self.candidates.len() - 1) as u32
        };
        Counted {
            target: op.0,
            actor: actor.unwrap_or(NO_ACTOR),
            candidate,
            stage,
        }
    }

    /// Counts a request no operation matched. The key is built in `scratch`
    /// and copied only the first time the chunk sees it: building it afresh
    /// (two strings and the split path) was an eighth of the instructions
    /// of a parse where a third of the requests are to custom resources.
    fn count_unmatched(
        &mut self,
        verb: &[u8],
        uri: &[u8],
        stage: Stage,
        settled: Option<Position>,
        scratch: &mut UnmatchedKey,
    ) -> Counted {
        scratch.verb.clear();
        scratch.verb.push_str(&lossy(verb));
        normalise_unmatched_into(uri, &mut scratch.pattern);
        let group = match self.unmatched.get_index_of(scratch) {
            Some(group) => group,
            None => self.unmatched.insert_full(scratch.clone(), Hits::UNSEEN).0,
        };
        self.unmatched[group].count(stage, settled);
        Counted {
            target: UNMATCHED | group as u32,
            actor: NO_ACTOR,
            candidate: NO_CANDIDATE,
            stage,
        }
    }

    fn malformed(&mut self, line_index: u64, issue: LineIssue) {
        self.malformed += 1;
        if self.malformed_examples.len() < MALFORMED_EXAMPLES {
            self.malformed_examples.push((line_index, issue));
        }
    }
}

/// How many samples the run holds of each operation: a chunk scanned after
/// an operation's are all held keeps (and, in fast mode, checks whole) no
/// candidates for it, and prints no more than are missing. Marked by the
/// worker that absorbs chunks while later ones are scanned; a mark read late
/// only costs work, so the result does not depend on timing. Without it,
/// checking candidates whole took a fifth of a fast parse's CPU. With
/// [`SamplePrinting`],
/// the workers also print their chunks' likely samples.
#[derive(Debug, Default)]
pub struct SampledOps {
    held: Vec<AtomicU8>,
    printing: Option<SamplePrinting>,
}

impl SampledOps {
    /// None sampled yet, for `n_ops` operations.
    pub fn new(n_ops: usize) -> SampledOps {
        SampledOps {
            held: (0..n_ops).map(|_| Default::default()).collect(),
            printing: None,
        }
    }

    /// Chunks scanned print their likely samples with `printing`, on the
    /// worker that scans them: the first candidates of each shown operation,
    /// as many as the run misses when the chunk's scan ends.
    pub fn with_printing(mut self, printing: Option<SamplePrinting>) -> SampledOps {
        self.printing = printing;
        self
    }

    /// Samples held of `op`.
    fn held(&self, op: OpId) -> usize {
        self.held
            .get(op.index())
            .map_or(0, |n| usize::from(n.load(Ordering::Relaxed)))
    }

    fn has(&self, op: OpId) -> bool {
        self.held(op) >= SAMPLES_PER_OP
    }

    /// Marks how many samples the run holds of every operation (`samples`:
    /// the run's, by operation).
    pub fn mark(&self, samples: &[Vec<Sample>]) {
        for (held, samples) in self.held.iter().zip(samples) {
            // Stored when it changes: the counts are read by every
            // scanning worker.
            let n = samples.len().min(SAMPLES_PER_OP) as u8;
            if held.load(Ordering::Relaxed) != n {
                held.store(n, Ordering::Relaxed);
            }
        }
    }
}

/// How lines are read and attributed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ScanOptions {
    /// How much of each line is checked.
    pub validation: Validation,
    /// How far apart, in events, a request's events are taken as one request.
    pub window: Window,
    /// Whether and how requests are attributed to tests and clients.
    pub attribution: Attribution,
}

/// Scans one newline-aligned chunk. `base` is the position of its first
/// byte; `sampled`, the operations whose samples the run holds already.
pub fn scan_chunk<M: PathMatcher>(
    bytes: &[u8],
    base: Position,
    router: &Router<M>,
    n_ops: usize,
    options: ScanOptions,
    sampled: &SampledOps,
) -> ChunkTally {
    let want_ua = options.attribution.needs_user_agent();
    let mut tally = ChunkTally::new(
        n_ops,
        base,
        options.validation == Validation::Full,
        options.window,
    );
    // Where each request of the chunk is in its vectors, apart from the
    // tally while lines are counted into it, so that one hash lookup an
    // event finds or places a request. Room for one request per 2.4 KB (a
    // Metadata request's two events take ~2.6 KB): a 4 MiB chunk's map is
    // sized once instead of growing through ten rehashes. Longer lines
    // leave it mostly empty; only its control bytes are touched.
    let expected = bytes.len() / 2400;
    let mut index: AHashMap<RequestId, u32> = AHashMap::with_capacity(expected);
    let mut ids: Vec<RequestId> = Vec::with_capacity(expected);
    let mut requests: Vec<RequestSeen> = Vec::with_capacity(expected);
    let mut uri_scratch = Vec::new();
    let mut unmatched_scratch = UnmatchedKey::default();
    let mut start = 0;
    let mut prefetched = 0;
    while start < bytes.len() {
        let end = memchr::memchr(b'\n', &bytes[start..]).map_or(bytes.len(), |k| start + k);
        prefetched = prefetch_ahead(bytes, prefetched, end);
        let line_index = tally.lines;
        tally.lines += 1;
        let raw = &bytes[start..end];
        let line = event::trim_line(raw);
        let pos = base + start as u64;
        let range = (start, end);
        start = end + 1;
        if line.is_empty() {
            tally.blank_lines += 1;
            continue;
        }
        let fields = match event::extract(line, options.validation, want_ua) {
            Ok(f) => f,
            Err(issue) => {
                tally.malformed(line_index, issue);
                continue;
            }
        };
        let stage_raw = fields.stage.map(|s| s.decode()).unwrap_or_default();
        let Some(stage) = Stage::parse(&stage_raw) else {
            tally.malformed(line_index, LineIssue::NotAnEvent("unknown stage"));
            continue;
        };
        tally.events_by_stage[stage as usize] += 1;
        let event_index = tally.events;
        tally.events += 1;
        let actor = if want_ua {
            let ua = fields.user_agent.map(|u| u.decode());
            let ua = ua.as_deref().map(String::from_utf8_lossy);
            let (is_test, name) = attribution::actor_of(ua.as_deref());
            // Every stage of a request carries the same user agent, so
            // leaving out whole events leaves out whole requests.
            if options.attribution.conformance_only
                && !(is_test && attribution::is_conformance(name))
            {
                // Kept for the near misses of operations no test hit (a
                // terminal event stands for its request).
                if stage.is_terminal() {
                    let verb = fields.verb.map(|v| v.decode()).unwrap_or_default();
                    let uri = fields
                        .request_uri
                        .map(|u| u.decode_into(&mut uri_scratch))
                        .unwrap_or(&[]);
                    if let Some(op) = router.route(&verb, uri) {
                        let actor = tally.actors.intern(is_test, name);
                        *tally.left_out.entry((actor, op)).or_default() += 1;
                    }
                }
                continue;
            }
            options
                .attribution
                .by_test
                .then(|| tally.actors.intern(is_test, name))
        } else {
            None
        };
        let id = fields.audit_id.map(|a| request_key(&a.decode()));

        // Is this the event at which its request counts? A request counts at
        // the first of its events the chunk reads, whatever its stage; its
        // other events in the chunk count nothing (see the module's rule).
        // A request's first event in the chunk is the one the run may take
        // back (it saw the request before the chunk); any other that counts
        // is settled here.
        let mut first_in_chunk = None;
        if let Some(id) = id {
            match index.entry(RequestId::from(id)) {
                Entry::Vacant(new) => first_in_chunk = Some(new),
                Entry::Occupied(at) => {
                    let seen = &mut requests[*at.get() as usize];
                    let recent = options.window.holds(event_index - seen.last);
                    seen.last = event_index;
                    seen.done = stage.is_terminal() || (recent && seen.done);
                    if recent {
                        continue;
                    }
                    seen.renewed = true;
                    // Further from its last event than the window: a new
                    // request (the first count stays the one the run checks).
                }
            }
        }

        let settled = first_in_chunk.is_none().then_some(pos);
        let verb = fields.verb.map(|v| v.decode()).unwrap_or_default();
        let uri = match &fields.request_uri {
            Some(u) => u.decode_into(&mut uri_scratch),
            None => &[],
        };
        let counted = match router.route(&verb, uri) {
            Some(op) => tally.count(op, stage, settled, range, actor, sampled),
            None => tally.count_unmatched(&verb, uri, stage, settled, &mut unmatched_scratch),
        };
        if let Some(new) = first_in_chunk {
            ids.push(*new.key());
            new.insert(requests.len() as u32);
            requests.push(RequestSeen {
                pos,
                first: event_index,
                last: event_index,
                done: stage.is_terminal(),
                renewed: false,
                counted,
            });
        }
    }
    tally.request_ids = ids;
    tally.requests = requests;
    if let Some(printing) = &sampled.printing {
        print_candidates(&mut tally, bytes, printing, sampled);
    }
    tally
}

/// Prints, on the scanning worker, the first candidates of each operation
/// whose samples a report shows, as many as the run misses of its samples
/// (asked again now, after the scan), so that the serial absorb does not
/// print them: printing on the absorbing side made it the slow one. A
/// candidate printed here and not kept (an earlier chunk, scanned at the
/// same time, gave the operation its samples) is work lost; one kept and
/// not printed here is printed when it is kept. Either way the samples are
/// the same.
fn print_candidates(
    tally: &mut ChunkTally,
    bytes: &[u8],
    printing: &SamplePrinting,
    sampled: &SampledOps,
) {
    let mut seen: AHashMap<OpId, usize> = AHashMap::new();
    for (index, &(op, (start, end))) in tally.candidates.iter().enumerate() {
        let n = seen.entry(op).or_insert_with(|| sampled.held(op));
        if *n >= SAMPLES_PER_OP || !printing.shows(op) {
            continue;
        }
        *n += 1;
        if let Some(out) = printing.printed(op, event::trim_line(&bytes[start..end])) {
            tally.printed.push((index, out));
        }
    }
}

/// How far ahead of the scan a chunk's bytes are prefetched: a page. The
/// hardware prefetchers stop at 4 KiB page boundaries, so the newline
/// search took a cache miss at the start of every page (a page ahead saved
/// ~6% of a Metadata parse's CPU; 8 and 16 KiB did worse).
const PREFETCH_DISTANCE: usize = 4096;

/// Prefetches the cache lines of `bytes` from `done` (or `upto`, if later)
/// to `upto + PREFETCH_DISTANCE`, and returns where it stopped.
#[inline(always)]
fn prefetch_ahead(bytes: &[u8], done: usize, upto: usize) -> usize {
    let target = (upto + PREFETCH_DISTANCE).min(bytes.len());
    #[cfg(target_arch = "x86_64")]
    {
        let mut at = done.max(upto);
        while at < target {
            // SAFETY: `at < bytes.len()`, so the address is inside `bytes`;
            // a prefetch reads nothing and never faults.
            unsafe {
                std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(
                    bytes.as_ptr().add(at).cast(),
                )
            };
            at += 64;
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = done;
    target
}
