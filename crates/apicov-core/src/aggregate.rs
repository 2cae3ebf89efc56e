//! Aggregation: what one chunk of lines adds up to ([`ChunkTally`], built on
//! one thread with no shared state), and the run's totals ([`Tally`]), which
//! absorbs chunk tallies strictly in input order.
//!
//! Counting rule: each API request counts once. It counts at its
//! `RequestReceived` event when the log has one; otherwise at its first logged
//! stage (`ResponseStarted`, `ResponseComplete` or `Panic`), so logs written
//! under `omitStages: [RequestReceived]` are counted too (the reference counts
//! nothing there). Events of one request share an `auditID`:
//! - a request is *open* after RequestReceived or a non-terminal stage, and
//!   *closed* after ResponseComplete or Panic; a non-RequestReceived event
//!   counts when its request is not open;
//! - inside a chunk every event but a request's first is settled by the
//!   request's state so far; a first event that is not RequestReceived is
//!   *pending*: [`Tally::absorb`] settles it against the requests open when
//!   the chunk starts, then applies the chunk's final states.
//!
//! Memory stays bounded: a chunk tally holds one state and at most one pending
//! entry per request in the chunk, and the run keeps only requests in flight
//! across a chunk boundary (a terminal stage closes them).
//! The result is the same for every chunk size and thread count (tested).

use ahash::{AHashMap, AHashSet};

use crate::attribution::{self, ActorTable, Attribution};
use crate::event::{self, LineIssue, Stage, Validation};
use crate::routes::{PathMatcher, Router};
use crate::spec::OpId;

/// Samples kept per operation (the reference keeps 5).
pub const SAMPLES_PER_OP: usize = 5;
/// Malformed lines reported by position (all are counted).
pub const MALFORMED_EXAMPLES: usize = 5;

/// A line's place in the input: input index in the high 16 bits, byte offset
/// of the line in that input (decompressed for gzip) in the low 48. Orders
/// like the input.
pub type Position = u64;

/// The position of the line at `offset` bytes into input number `input`.
pub fn position(input: usize, offset: u64) -> Position {
    ((input as u64) << 48) | offset
}

/// The input number of a position.
pub fn position_input(pos: Position) -> usize {
    (pos >> 48) as usize
}

/// What a counted request exercised.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Target {
    /// An operation of the catalogue.
    Op(OpId),
    /// No operation: grouped by verb and normalised path pattern.
    Unmatched(UnmatchedKey),
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
/// The group of an unmatched request: its verb and its path with names and namespaces replaced by placeholders.
pub struct UnmatchedKey {
    /// The audit verb (`get`, `list`, …).
    pub verb: String,
    /// The normalised path pattern.
    pub pattern: String,
}

/// A request seen in a chunk whose earlier stages, if any, are in an earlier chunk.
#[derive(Debug, Clone)]
struct Pending {
    id: u128,
    stage: Stage,
    pos: Position,
    line: (usize, usize),
    target: Target,
    /// The test or client (chunk-local number), with `--by-test`.
    actor: Option<u32>,
}

/// Where a request stands after the events seen so far.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RequestState {
    /// Counted (or known to be counted) and not at a terminal stage yet.
    Open,
    /// At a terminal stage: a later event with this ID is a new request.
    Closed,
}

/// A bad line, by position.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Malformed {
    /// Input number (in the order given).
    pub input: usize,
    /// 1-based line number in its input.
    pub line: u64,
    /// What is wrong with the line.
    pub reason: String,
}

/// Per-target counts and first position.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Hits {
    /// Requests counted, by the stage at which each was counted.
    pub by_stage: [u64; 4],
    /// Position of the first counted request.
    pub first: Position,
}

impl Hits {
    /// Requests counted, whatever the stage.
    pub fn total(&self) -> u64 {
        self.by_stage.iter().sum()
    }

    fn add(&mut self, stage: Stage, pos: Position) {
        if self.total() == 0 || pos < self.first {
            self.first = pos;
        }
        self.by_stage[stage as usize] += 1;
    }
}

/// What one chunk of lines adds up to. `line` ranges index the chunk's bytes.
#[derive(Debug)]
pub struct ChunkTally {
    base: Position,
    lines: u64,
    blank_lines: u64,
    malformed: u64,
    /// (line index in chunk, issue), the first few.
    malformed_examples: Vec<(u64, LineIssue)>,
    events_by_stage: [u64; 4],
    ops: Vec<Hits>,
    /// Counted lines of operations not yet sampled in full when the chunk
    /// was scanned, in chunk order: (operation, line range). Unchecked: the
    /// run checks them whole when it absorbs the chunk, in input order and
    /// only until it holds an operation's samples, so each operation costs
    /// about five whole-line checks per run rather than five per chunk.
    candidates: Vec<(OpId, (usize, usize))>,
    /// Lines were checked whole as they were read (`--validate full`); in
    /// fast mode a sample candidate is checked before it is kept.
    checked_whole: bool,
    unmatched: AHashMap<UnmatchedKey, Hits>,
    /// First events of requests not seen earlier in the chunk, in order.
    pending: Vec<Pending>,
    /// Every request seen in the chunk and its state after the chunk.
    states: AHashMap<u128, RequestState>,
    /// Tests and clients seen in the chunk.
    actors: ActorTable,
    /// Counted requests per (actor, operation).
    attributed: AHashMap<(u32, OpId), u64>,
    /// Requests `--conformance-only` left out, per (client, operation),
    /// counted at their terminal event.
    left_out: AHashMap<(u32, OpId), u64>,
}

impl ChunkTally {
    fn new(n_ops: usize, base: Position, checked_whole: bool) -> ChunkTally {
        ChunkTally {
            checked_whole,
            base,
            lines: 0,
            blank_lines: 0,
            malformed: 0,
            malformed_examples: Vec::new(),
            events_by_stage: [0; 4],
            ops: vec![Hits::default(); n_ops],
            candidates: Vec::new(),
            unmatched: AHashMap::new(),
            pending: Vec::new(),
            states: AHashMap::new(),
            actors: ActorTable::default(),
            attributed: AHashMap::new(),
            left_out: AHashMap::new(),
        }
    }

    fn count(
        &mut self,
        target: Target,
        stage: Stage,
        pos: Position,
        range: (usize, usize),
        actor: Option<u32>,
        sampled: &SampledOps,
    ) {
        match target {
            Target::Op(op) => {
                self.ops[op.index()].add(stage, pos);
                if let Some(actor) = actor {
                    *self.attributed.entry((actor, op)).or_default() += 1;
                }
                if !sampled.has(op) {
                    self.candidates.push((op, range));
                }
            }
            Target::Unmatched(key) => self.unmatched.entry(key).or_default().add(stage, pos),
        }
    }

    /// Counts a request no operation matched. The key is built in `scratch`
    /// and copied only the first time the chunk sees it: building it afresh
    /// (two strings and the split path) was 12.5% of the instructions of a
    /// parse where a third of the requests are to custom resources.
    fn count_unmatched(
        &mut self,
        verb: &[u8],
        uri: &[u8],
        stage: Stage,
        pos: Position,
        scratch: &mut UnmatchedKey,
    ) {
        scratch.verb.clear();
        scratch.verb.push_str(&lossy(verb));
        normalise_unmatched_into(uri, &mut scratch.pattern);
        match self.unmatched.get_mut(scratch) {
            Some(hits) => hits.add(stage, pos),
            None => self
                .unmatched
                .entry(scratch.clone())
                .or_default()
                .add(stage, pos),
        }
    }

    fn malformed(&mut self, line_index: u64, issue: LineIssue) {
        self.malformed += 1;
        if self.malformed_examples.len() < MALFORMED_EXAMPLES {
            self.malformed_examples.push((line_index, issue));
        }
    }
}

/// Operations whose samples the run already holds in full: a chunk scanned
/// after that keeps (and, in fast mode, checks whole) no candidates for
/// them. Marked by the side that absorbs chunks while later ones are
/// scanned; a mark read late only costs work, so the result does not depend
/// on timing. Checking sample candidates whole cost ~20% of a fast parse's
/// CPU until the run's first wave stopped it for most operations.
#[derive(Debug, Default)]
pub struct SampledOps(Vec<std::sync::atomic::AtomicBool>);

impl SampledOps {
    /// None sampled yet, for `n_ops` operations.
    pub fn new(n_ops: usize) -> SampledOps {
        SampledOps((0..n_ops).map(|_| Default::default()).collect())
    }

    fn has(&self, op: OpId) -> bool {
        self.0
            .get(op.index())
            .is_some_and(|f| f.load(std::sync::atomic::Ordering::Relaxed))
    }

    /// Marks every operation of which `tally` holds all its samples.
    pub fn mark(&self, tally: &Tally) {
        for (flag, samples) in self.0.iter().zip(&tally.samples) {
            if samples.len() >= SAMPLES_PER_OP {
                flag.store(true, std::sync::atomic::Ordering::Relaxed);
            }
        }
    }
}

/// How lines are read and attributed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ScanOptions {
    /// How much of each line is checked.
    pub validation: Validation,
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
    let mut tally = ChunkTally::new(n_ops, base, options.validation == Validation::Full);
    let mut uri_scratch = Vec::new();
    let mut unmatched_scratch = UnmatchedKey::default();
    let mut start = 0;
    while start < bytes.len() {
        let end = memchr::memchr(b'\n', &bytes[start..]).map_or(bytes.len(), |k| start + k);
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

        // Is this the event at which its request counts? After any event the
        // request's state is known (open, or closed by a terminal stage); only
        // a request's first event in the chunk depends on earlier chunks.
        let pending = match (stage, id) {
            (_, None) => false,
            (Stage::RequestReceived, Some(id)) => {
                tally.states.insert(id, RequestState::Open);
                false
            }
            (_, Some(id)) => {
                let next = if stage.is_terminal() {
                    RequestState::Closed
                } else {
                    RequestState::Open
                };
                match tally.states.insert(id, next) {
                    Some(RequestState::Open) => continue, // counted at an earlier stage
                    Some(RequestState::Closed) => false,  // a new request reusing the ID
                    None => true,
                }
            }
        };

        let verb = fields.verb.map(|v| v.decode()).unwrap_or_default();
        let uri = match &fields.request_uri {
            Some(u) => u.decode_into(&mut uri_scratch),
            None => &[],
        };
        let target = match router.route(&verb, uri) {
            Some(op) => Target::Op(op),
            None if pending => Target::Unmatched(UnmatchedKey {
                verb: String::from_utf8_lossy(&verb).into_owned(),
                pattern: normalise_unmatched(uri),
            }),
            None => {
                tally.count_unmatched(&verb, uri, stage, pos, &mut unmatched_scratch);
                continue;
            }
        };
        match (pending, id) {
            (true, Some(id)) => tally.pending.push(Pending {
                id,
                stage,
                pos,
                line: range,
                target,
                actor,
            }),
            _ => tally.count(target, stage, pos, range, actor, sampled),
        }
    }
    tally
}

/// A request's key: its auditID as a 128-bit number when it is a UUID (it
/// always is in apiserver logs), otherwise a 128-bit FNV-1a hash of it.
pub fn request_key(id: &[u8]) -> u128 {
    if let Some(value) = uuid_value(id) {
        return value;
    }
    let mut hash: u128 = 0x6c62_272e_07bb_0142_62b8_2175_6295_c58d;
    for &b in id {
        hash ^= u128::from(b);
        hash = hash.wrapping_mul(0x0000_0000_0100_0000_0000_0000_0000_013B);
    }
    hash
}

/// Hex digit values; 0xFF for anything else.
static HEX: [u8; 256] = {
    let mut table = [0xFFu8; 256];
    let mut i = 0;
    while i < 10 {
        table[b'0' as usize + i] = i as u8;
        i += 1;
    }
    let mut i = 0;
    while i < 6 {
        table[b'a' as usize + i] = 10 + i as u8;
        table[b'A' as usize + i] = 10 + i as u8;
        i += 1;
    }
    table
};

/// `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx` as a number. A table lookup per
/// digit into two u64 halves: the per-character match with 128-bit shifts it
/// replaces was 18% of a run's profile.
fn uuid_value(id: &[u8]) -> Option<u128> {
    if id.len() != 36 || id[8] != b'-' || id[13] != b'-' || id[18] != b'-' || id[23] != b'-' {
        return None;
    }
    let mut bad = 0u8;
    let mut half = |digits: &[&[u8]]| {
        let mut v: u64 = 0;
        for group in digits {
            for &c in *group {
                let n = HEX[c as usize];
                bad |= n;
                v = (v << 4) | u64::from(n & 0x0F);
            }
        }
        v
    };
    let hi = half(&[&id[0..8], &id[9..13], &id[14..18]]);
    let lo = half(&[&id[19..23], &id[24..36]]);
    (bad & 0xF0 == 0).then_some((u128::from(hi) << 64) | u128::from(lo))
}

/// A path pattern for requests no operation matched: names and namespaces
/// become placeholders so that one resource's traffic forms one group, e.g.
/// `/apis/stable.example.com/v1/namespaces/{namespace}/crontabs/{name}`.
pub fn normalise_unmatched(uri: &[u8]) -> String {
    let mut pattern = String::new();
    normalise_unmatched_into(uri, &mut pattern);
    pattern
}

/// [`normalise_unmatched`] into a reused buffer, without allocating.
fn normalise_unmatched_into(uri: &[u8], out: &mut String) {
    out.clear();
    let (path, _) = crate::routes::split_uri(uri);
    let path = lossy(path);
    // The segments after the first '/' (as `path.split('/').skip(1)`, in a
    // plain byte loop: the str iterator cost ~900 instructions a path): the
    // first KEPT of them, and how many there are. No rule below looks past
    // the ninth, nor tells 12 segments from more.
    const KEPT: usize = 12;
    let mut kept = [""; KEPT];
    let mut count = 0;
    let mut segment_start = None;
    for (at, &byte) in path.as_bytes().iter().enumerate() {
        if byte == b'/' {
            if let Some(from) = segment_start {
                if count < KEPT {
                    kept[count] = &path[from..at];
                }
                count += 1;
            }
            segment_start = Some(at + 1);
        }
    }
    if let Some(from) = segment_start {
        if count < KEPT {
            kept[count] = &path[from..];
        }
        count += 1;
    }
    let segments = &kept[..count.min(KEPT)];
    // Index of the first segment after the group/version prefix.
    let resource_start = match segments {
        ["api", _, ..] => 2,
        ["apis", _, _, ..] => 3,
        _ => {
            out.push_str(&path);
            return;
        }
    };
    let mut push = |segment: &str| {
        out.push('/');
        out.push_str(segment);
    };
    for segment in &segments[..resource_start] {
        push(segment);
    }
    let mut rest = &segments[resource_start..];
    if rest.len() >= 3 && rest[0] == "namespaces" {
        push("namespaces");
        push("{namespace}");
        rest = &rest[2..];
    } else if rest.len() == 2 && rest[0] == "namespaces" {
        push("namespaces");
        push("{name}");
        rest = &[];
    }
    if let Some((resource, tail)) = rest.split_first() {
        push(resource);
        if let Some((_, subresources)) = tail.split_first() {
            push("{name}");
            match subresources {
                [] => {}
                [sub] => push(sub),
                [sub, ..] => {
                    push(sub);
                    push("{path}");
                }
            }
        }
    }
}

/// `String::from_utf8_lossy`, with valid text (all of it in practice) checked
/// by `from_utf8`, which takes a sixth of the instructions.
fn lossy(bytes: &[u8]) -> std::borrow::Cow<'_, str> {
    match std::str::from_utf8(bytes) {
        Ok(text) => std::borrow::Cow::Borrowed(text),
        Err(_) => String::from_utf8_lossy(bytes),
    }
}

/// One sample event: its position and the raw line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sample {
    /// Where the event is in the input.
    pub pos: Position,
    /// The event's line as logged, without its newline.
    pub line: Box<[u8]>,
}

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
    /// Events read, by stage (indexed by [`Stage`] as a number).
    pub events_by_stage: [u64; 4],
    /// Per operation (indexed by [`OpId`]): requests counted and the first position.
    pub ops: Vec<Hits>,
    /// Per operation: up to [`SAMPLES_PER_OP`] sample events, in input order.
    pub samples: Vec<Vec<Sample>>,
    /// Requests no operation matched, grouped by verb and path pattern.
    pub unmatched: AHashMap<UnmatchedKey, Hits>,
    /// Tests and clients (with `--by-test`), numbered in order of appearance.
    pub actors: ActorTable,
    /// Counted requests per (actor, operation), with `--by-test`.
    pub attributed: AHashMap<(u32, OpId), u64>,
    /// Requests left out by `--conformance-only` per (client, operation).
    pub left_out: AHashMap<(u32, OpId), u64>,
    /// Requests opened in an absorbed chunk and not yet at a terminal stage.
    open: AHashSet<u128>,
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
            open: AHashSet::new(),
        }
    }

    /// Adds the next chunk (in input order). `bytes` are the chunk's bytes,
    /// from which sample lines are copied.
    pub fn absorb(&mut self, chunk: ChunkTally, bytes: &[u8]) {
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

        // Settled pending entries join the chunk's own counts and samples.
        let mut op_hits = chunk.ops;
        let mut unmatched = chunk.unmatched;
        // Sample candidates among the pending entries, in chunk order.
        let mut late: Vec<(OpId, (usize, usize))> = Vec::new();
        // A pending event counts unless its request is open when the chunk starts.
        for p in chunk.pending {
            if self.open.contains(&p.id) {
                continue;
            }
            match p.target {
                Target::Op(op) => {
                    op_hits[op.index()].add(p.stage, p.pos);
                    late.push((op, p.line));
                    if let Some(actor) = p.actor {
                        *self
                            .attributed
                            .entry((actor_map[actor as usize], op))
                            .or_default() += 1;
                    }
                }
                Target::Unmatched(key) => unmatched.entry(key).or_default().add(p.stage, p.pos),
            }
        }
        for (id, state) in chunk.states {
            match state {
                RequestState::Open => self.open.insert(id),
                RequestState::Closed => self.open.remove(&id),
            };
        }

        for (i, hits) in op_hits.iter().enumerate() {
            merge_hits(&mut self.ops[i], hits);
        }
        // Samples: the first counted lines of each operation, in input order,
        // that pass the whole-line check (the chunk's own and its settled
        // pending entries, both in chunk order, merged).
        let mut own = chunk.candidates.into_iter().peekable();
        let mut late = late.into_iter().peekable();
        loop {
            let next = match (own.peek(), late.peek()) {
                (Some(a), Some(b)) if b.1 .0 < a.1 .0 => late.next(),
                (Some(_), _) => own.next(),
                (None, _) => late.next(),
            };
            let Some((op, (start, end))) = next else {
                break;
            };
            let kept = &mut self.samples[op.index()];
            if kept.len() >= SAMPLES_PER_OP {
                continue;
            }
            let line = event::trim_line(&bytes[start..end]);
            if chunk.checked_whole || event::check_whole(line).is_ok() {
                kept.push(Sample {
                    pos: chunk.base + start as u64,
                    line: line.into(),
                });
            }
        }
        for (key, hits) in unmatched {
            merge_hits(self.unmatched.entry(key).or_default(), &hits);
        }
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

    /// Requests still open (no terminal stage seen) after the last chunk.
    pub fn open_requests(&self) -> impl Iterator<Item = u128> + '_ {
        self.open.iter().copied()
    }

    /// Starts from requests left open by an earlier part of the same log
    /// (`parse --continue-from`), so their later stages are not counted again.
    pub fn seed_open(&mut self, ids: impl IntoIterator<Item = u128>) {
        self.open.extend(ids);
    }

    /// Appends a tally of later input (another part, or another run): inputs
    /// are renumbered after this one's. Exact when `later` was parsed with
    /// this tally's open requests as its seed, or when none were open.
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
        self.open = later.open;
    }

    /// Operations hit, in order of their first counted request.
    pub fn ops_by_first_hit(&self) -> Vec<OpId> {
        let mut hit: Vec<OpId> = (0..self.ops.len() as u32)
            .map(OpId)
            .filter(|op| self.ops[op.index()].total() > 0)
            .collect();
        hit.sort_by_key(|op| self.ops[op.index()].first);
        hit
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
        assert_eq!(uuid_value(b"0123abcd-4567-89ef-ABCD-0123456789ag"), None);
        assert_eq!(uuid_value(b"0123abcd-4567-89ef-ABCD+0123456789ab"), None);
        assert_ne!(request_key(b"abc"), request_key(b"abd"));
    }
}
