//! The engine: inputs → newline-aligned chunks → parallel scans → tallies
//! absorbed in input order.
//!
//! Each worker of the pool (rayon) takes the next piece of input, scans it
//! into its own `ChunkTally` (no locks, no shared counters) and hands it
//! to the merge, which absorbs pieces strictly in input order on whichever
//! worker delivers the one it waits for. Absorbing in order makes the result
//! independent of thread count, chunk size and timing; admitting only a few
//! pieces per worker ahead of the merge bounds memory (a few stream blocks
//! and chunk tallies at a time). There is no barrier between waves of
//! chunks: a wave would wait for its slowest chunk (a tenth of the wall time
//! at two threads).

use std::collections::BTreeMap;
use std::ops::Range;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, OnceLock, PoisonError};

use crate::aggregate::{
    position, scan_chunk, ChunkTally, SamplePrinting, SampledOps, ScanOptions, Tally, Window,
};
use crate::attribution::Attribution;
use crate::chunk::{self, BlockReader};
use crate::error::{Error, Result};
use crate::event::Validation;
use crate::input::{self, Compression, InputName, Mapped, Opened, ReadMode};
use crate::mapguard;
use crate::routing::{PathMatcher, Router, SegmentTrie};

/// How the engine reads and splits its inputs.
#[derive(Debug, Clone)]
pub struct EngineOptions {
    /// Target chunk size in bytes.
    pub chunk_size: usize,
    /// Mapped or streamed (mapping is faster; streams read FIFOs and stdin).
    pub read_mode: ReadMode,
    /// How much of each line is checked.
    pub validation: Validation,
    /// Whether and how requests are attributed to tests and clients.
    pub attribution: Attribution,
    /// Told how far the run has read (a progress bar, a log line), if set.
    pub progress: Option<Arc<dyn Progress>>,
    /// Prints samples as they are kept, when the run's samples will be
    /// printed (see [`SamplePrinting`]).
    pub sample_printing: Option<SamplePrinting>,
    /// How far apart, in events, a request's events are taken as one request.
    pub window: Window,
    /// Worker threads of [`Engine::run`]; 0: one per core.
    pub threads: usize,
    /// Requests left open by an earlier part of the same log (`parse
    /// --continue-from`): their later events are not counted again.
    pub open_before: Vec<u128>,
}

/// Where the engine reports how far it has read: a progress bar, a log
/// line, a metric. Called by one worker at a time (the one merging), between
/// pieces: an implementation may take a lock, but should be quick, as that
/// worker scans too.
pub trait Progress: Send + Sync {
    /// A run starts over inputs of `total` bytes on disk (compressed size
    /// for compressed inputs). Returns the position to count from: a display
    /// shared by several runs (`history`) is already advanced.
    fn start(&self, total: u64) -> u64;
    /// Input `index` (from 0) of `count`, named `name`, is being read.
    fn input(&self, index: usize, count: usize, name: &str);
    /// `position` bytes are done, counted from what [`Progress::start`] returned.
    fn advance(&self, position: u64);
    /// The run is done.
    fn finish(&self);
}

impl std::fmt::Debug for dyn Progress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("dyn Progress")
    }
}

/// Reports nothing.
struct Silent;

impl Progress for Silent {
    fn start(&self, _total: u64) -> u64 {
        0
    }
    fn input(&self, _index: usize, _count: usize, _name: &str) {}
    fn advance(&self, _position: u64) {}
    fn finish(&self) {}
}

impl Default for EngineOptions {
    fn default() -> EngineOptions {
        EngineOptions {
            chunk_size: DEFAULT_CHUNK_SIZE,
            read_mode: ReadMode::Mmap,
            validation: Validation::Fast,
            attribution: Attribution::default(),
            progress: None,
            sample_printing: None,
            window: Window::DEFAULT,
            threads: 0,
            open_before: Vec::new(),
        }
    }
}

/// 4 MiB: large enough that per-chunk set-up (a counter per operation) is
/// noise, small enough that a 190 MB run has dozens of chunks to balance.
pub const DEFAULT_CHUNK_SIZE: usize = 4 << 20;

/// Scanned pages of a mapped input are released from resident memory once
/// this much is absorbed: one `madvise` a batch rather than one a chunk, and
/// none for a file smaller than this (most CI logs), where releasing cost
/// ~10 ms of a 60 ms parse of 199 MB for memory nobody was short of.
const RELEASE_BATCH: usize = 64 << 20;

/// Per-input facts for the report.
#[derive(Debug, Clone)]
pub struct InputInfo {
    /// The input's name (path, or `-`).
    pub name: String,
    /// How it was compressed.
    pub compression: Compression,
    /// Size on disk, when known.
    pub disk_bytes: Option<u64>,
}

/// The worker pool: `threads` workers, or one per core when 0.
fn thread_pool(threads: usize) -> Result<rayon::ThreadPool> {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .map_err(|e| Error::Usage(format!("cannot start worker threads: {e}")))
}

/// The engine: a router, how inputs are read, and the workers that scan
/// them. [`Engine::run`] reads files and streams in parallel;
/// [`Engine::feed`] counts pieces handed over one at a time. Cloning it (or
/// [`Engine::with_options`]) shares the router and the workers: `history`
/// runs one engine over many runs, its spec and matcher built once.
pub struct Engine<M: PathMatcher = SegmentTrie> {
    router: Arc<Router<M>>,
    /// The router's operation count.
    n_ops: usize,
    options: EngineOptions,
    /// Started by the first run (a feed needs none).
    workers: Arc<OnceLock<rayon::ThreadPool>>,
}

impl<M: PathMatcher> Clone for Engine<M> {
    fn clone(&self) -> Engine<M> {
        Engine {
            router: Arc::clone(&self.router),
            n_ops: self.n_ops,
            options: self.options.clone(),
            workers: Arc::clone(&self.workers),
        }
    }
}

impl<M: PathMatcher> Engine<M> {
    /// An engine matching with `router` over its catalogue, reading as
    /// `options` say.
    pub fn new(router: impl Into<Arc<Router<M>>>, options: EngineOptions) -> Engine<M> {
        let router = router.into();
        Engine {
            n_ops: router.operation_count(),
            router,
            options,
            workers: Arc::default(),
        }
    }

    /// The same router and workers, reading as `options` say (its
    /// `threads` is not looked at once the workers are started).
    pub fn with_options(&self, options: EngineOptions) -> Engine<M> {
        Engine {
            options,
            ..self.clone()
        }
    }

    /// The router requests are matched with.
    pub fn router(&self) -> &Router<M> {
        &self.router
    }

    /// How inputs are read, split and attributed.
    pub fn options(&self) -> &EngineOptions {
        &self.options
    }

    /// Opens `names` in order for [`Engine::run`], as the options' read mode
    /// says. The first input that cannot be opened is the error.
    pub fn open(&self, names: &[InputName]) -> Result<Vec<input::Source>> {
        check_input_count(names.len())?;
        names
            .iter()
            .map(|name| input::open(name, self.options.read_mode))
            .collect()
    }

    /// Reads every input in order (files from [`Engine::open`], or streams
    /// that are not files from [`input::from_reader`]) and returns the run's
    /// tally.
    ///
    /// Every worker runs the same loop: take the next piece of input,
    /// scan it into its own `ChunkTally`, and deliver it to the merge,
    /// which absorbs pieces in input order on whichever worker delivers the
    /// one it waits for. No worker waits for a wave's slowest chunk, and one
    /// input's last pieces are scanned while the next input's first are.
    pub fn run(&self, sources: Vec<input::Source>) -> Result<(Tally, Vec<InputInfo>)> {
        check_input_count(sources.len())?;
        let pool = match self.workers.get() {
            Some(pool) => pool,
            None => {
                let pool = thread_pool(self.options.threads)?;
                self.workers.get_or_init(|| pool)
            }
        };
        let options = &self.options;
        let bar: &dyn Progress = options.progress.as_deref().unwrap_or(&Silent);
        let total: u64 = sources.iter().filter_map(|s| s.disk_bytes).sum();
        let infos: Vec<InputInfo> = sources
            .iter()
            .map(|source| InputInfo {
                name: source.name.display(),
                compression: source.compression,
                disk_bytes: source.disk_bytes,
            })
            .collect();
        // Sized for all the inputs: rotated logs hold requests of their own
        // (the same log twice is refused).
        let tally = self.start_tally(Some(total));

        let workers = pool.current_num_threads();
        let pieces = Mutex::new(Pieces::new(sources, options.chunk_size));
        let progress = Shown {
            bar,
            start: bar.start(total),
            inputs: &infos,
        };
        let merge = Merge::new(tally, workers as u64 * IN_FLIGHT_PER_WORKER, progress);
        let sampled = self.sampled();
        let scan_options = self.scan_options();
        let router = &*self.router;
        pool.scope(|scope| {
            for _ in 0..workers {
                scope.spawn(|_| {
                    while let Some(piece) = merge.admit(&pieces) {
                        let chunk = piece.bytes().map(|bytes| {
                            scan_chunk(
                                bytes,
                                position(piece.input, piece.offset),
                                router,
                                self.n_ops,
                                scan_options,
                                &sampled,
                            )
                        });
                        merge.deliver(piece, chunk, &sampled);
                    }
                });
            }
        });
        let tally = merge.finish()?;
        bar.finish();
        Ok((tally, infos))
    }

    /// A feed counting pieces handed over one at a time, from nothing (but
    /// the options' `open_before`).
    pub fn feed(&self) -> Feed<M> {
        self.feed_from(self.start_tally(None))
    }

    /// A feed that goes on from `tally`, a run of this engine (a server
    /// restarted over its spool): what it counts is added to it.
    pub fn feed_from(&self, tally: Tally) -> Feed<M> {
        let sampled = self.sampled();
        sampled.mark(&tally.samples);
        Feed {
            router: Arc::clone(&self.router),
            n_ops: self.n_ops,
            options: self.scan_options(),
            sampled,
            tally,
            input: 0,
            offset: 0,
        }
    }

    /// An empty tally, sized for `expected` bytes of input when known,
    /// seeded with the options' open requests and sample printing.
    fn start_tally(&self, expected: Option<u64>) -> Tally {
        let mut tally = Tally::new(self.n_ops);
        if let Some(bytes) = expected {
            tally.expect_input(bytes);
        }
        tally.seed_open(self.options.open_before.iter().copied());
        if let Some(printing) = &self.options.sample_printing {
            tally.print_samples_with(printing.clone());
        }
        tally
    }

    fn sampled(&self) -> SampledOps {
        SampledOps::new(self.n_ops).with_printing(self.options.sample_printing.clone())
    }

    fn scan_options(&self) -> ScanOptions {
        ScanOptions {
            validation: self.options.validation,
            attribution: self.options.attribution,
            window: self.options.window,
        }
    }
}

/// Pieces scanned or waiting to be absorbed, per worker: what bounds the
/// run's memory (each holds a chunk's tally, a stream block holds its bytes
/// too). Four keeps every worker busy while the merge waits for a slow piece.
const IN_FLIGHT_PER_WORKER: u64 = 4;

/// Positions keep the input number in 16 bits (see aggregate::Position).
fn check_input_count(inputs: usize) -> Result<()> {
    if inputs >= 1 << 16 {
        return Err(Error::Usage(format!(
            "{inputs} inputs: at most 65,535 in one run"
        )));
    }
    Ok(())
}

/// One unit of work: newline-aligned lines of one input, or the mark that
/// an input is done. Numbered in input order, which is the order the merge
/// absorbs them in.
struct Piece {
    seq: u64,
    input: usize,
    /// Offset of the first byte in the input (decompressed, for streams).
    offset: u64,
    /// How far the input has been read once this piece is absorbed, in the
    /// units of [`Progress`] (bytes on disk).
    read_to: u64,
    kind: PieceKind,
}

enum PieceKind {
    /// `range` of a mapped input.
    Mapped {
        map: Arc<Mapped>,
        range: Range<usize>,
    },
    /// A block read from a stream.
    Block(Vec<u8>),
    /// An input with no bytes, scanned as one empty chunk so it is counted.
    Empty,
    /// Every piece of the input comes before this one.
    End(InputEnd),
}

/// What is checked and let go once an input's pieces are all absorbed.
struct InputEnd {
    path: String,
    disk_bytes: u64,
    /// A mapped input and its SIGBUS guard: truncation while it was read is
    /// reported now, and dropping the last reference unmaps it.
    mapped: Option<(Arc<Mapped>, mapguard::Guard)>,
}

impl Piece {
    /// The lines to scan; None for an input's end.
    fn bytes(&self) -> Option<&[u8]> {
        match &self.kind {
            PieceKind::Mapped { map, range } => Some(&map.bytes()[range.clone()]),
            PieceKind::Block(block) => Some(block),
            PieceKind::Empty => Some(&[]),
            PieceKind::End(_) => None,
        }
    }
}

/// The inputs cut into pieces, in order, one worker at a time: a mapped
/// input into newline-aligned ranges, a stream into blocks read (and
/// decompressed) by the worker that asks for one, while the others scan.
struct Pieces {
    sources: std::iter::Enumerate<std::vec::IntoIter<input::Source>>,
    current: Option<Current>,
    seq: u64,
    chunk_size: usize,
    /// An input failed: nothing more is handed out.
    failed: bool,
}

/// The input being cut.
struct Current {
    input: usize,
    path: String,
    disk_bytes: u64,
    /// A piece was handed out (an input without one gets an empty piece).
    any: bool,
    reading: Reading,
}

enum Reading {
    Mapped {
        map: Arc<Mapped>,
        guard: Option<mapguard::Guard>,
        /// Where the next range begins (see [`chunk::chunk_end`]).
        next: usize,
        chunk_size: usize,
    },
    Stream {
        blocks: BlockReader<Box<dyn std::io::Read + Send>>,
        compression: Compression,
        offset: u64,
        consumed: Arc<AtomicU64>,
    },
}

impl Pieces {
    fn new(sources: Vec<input::Source>, chunk_size: usize) -> Pieces {
        Pieces {
            sources: sources.into_iter().enumerate(),
            current: None,
            seq: 0,
            chunk_size,
            failed: false,
        }
    }

    /// The next piece; None when every input is done. An error carries the
    /// number the failed piece would have had, and ends the handing out.
    fn next(&mut self) -> std::result::Result<Option<Piece>, (u64, Error)> {
        if self.failed {
            return Ok(None);
        }
        match self.cut() {
            Ok(piece) => {
                self.seq += u64::from(piece.is_some());
                Ok(piece)
            }
            Err(e) => {
                self.failed = true;
                Err((self.seq, e))
            }
        }
    }

    /// The next piece, numbered `self.seq`.
    fn cut(&mut self) -> Result<Option<Piece>> {
        let current = match &mut self.current {
            Some(current) => current,
            None => match self.sources.next() {
                Some((input, source)) => {
                    self.current
                        .insert(Current::open(input, source, self.chunk_size)?)
                }
                None => return Ok(None),
            },
        };
        let (seq, input) = (self.seq, current.input);
        let piece = move |offset, read_to, kind| Piece {
            seq,
            input,
            offset,
            read_to,
            kind,
        };
        let next = match &mut current.reading {
            Reading::Mapped {
                map,
                next,
                chunk_size,
                ..
            } => (*next < map.bytes().len()).then(|| {
                let range = *next..chunk::chunk_end(map.bytes(), *next, *chunk_size);
                *next = range.end;
                let (offset, read_to) = (range.start as u64, range.end as u64);
                let map = Arc::clone(map);
                piece(offset, read_to, PieceKind::Mapped { map, range })
            }),
            Reading::Stream {
                blocks,
                compression,
                offset,
                consumed,
            } => match blocks.next_block() {
                Ok(Some(block)) => {
                    let at = *offset;
                    *offset += block.len() as u64;
                    let read_to = consumed.load(Ordering::Relaxed);
                    Some(piece(at, read_to, PieceKind::Block(block)))
                }
                Ok(None) => None,
                Err(e) => {
                    let what = match compression.name() {
                        Some(kind) => format!("corrupt or truncated {kind} data: {e}"),
                        None => e.to_string(),
                    };
                    return Err(Error::input(&current.path, what));
                }
            },
        };
        let first = !std::mem::replace(&mut current.any, true);
        Ok(Some(match next {
            Some(piece) => piece,
            None if first => piece(0, 0, PieceKind::Empty),
            None => {
                let end = self.current.take().expect("an input is being cut").end();
                piece(0, 0, PieceKind::End(end))
            }
        }))
    }
}

impl Current {
    fn open(input: usize, source: input::Source, chunk_size: usize) -> Result<Current> {
        let path = source.name.display();
        let reading = match source.opened {
            Opened::Mapped(mapped) => {
                let bytes = mapped.bytes();
                // Truncation while mapped reads as zeros under the guard
                // (see mapguard, installed by the program), and is reported
                // at the input's end.
                let guard = mapguard::Guard::new(bytes);
                if guard.is_none() && mapguard::installed() && !bytes.is_empty() {
                    return Err(Error::input(&path, "too many files mapped at once"));
                }
                Reading::Mapped {
                    map: Arc::new(mapped),
                    guard,
                    next: 0,
                    chunk_size,
                }
            }
            Opened::Stream(reader) => Reading::Stream {
                blocks: BlockReader::new(reader, chunk_size),
                compression: source.compression,
                offset: 0,
                consumed: source.consumed,
            },
        };
        Ok(Current {
            input,
            path,
            disk_bytes: source.disk_bytes.unwrap_or(0),
            any: false,
            reading,
        })
    }

    fn end(self) -> InputEnd {
        InputEnd {
            path: self.path,
            disk_bytes: self.disk_bytes,
            mapped: match self.reading {
                Reading::Mapped { map, guard, .. } => guard.map(|guard| (map, guard)),
                Reading::Stream { .. } => None,
            },
        }
    }
}

/// Absorbs delivered pieces into the run's tally in input order, and
/// admits new pieces only while few enough are in flight.
struct Merge<'b> {
    state: Mutex<MergeState>,
    /// Wakes workers waiting for room in the window.
    room: Condvar,
    /// Held only by the worker absorbing (`MergeState::absorbing`).
    merged: Mutex<Merged>,
    window: u64,
    progress: Shown<'b>,
}

/// The progress display and what it is told.
struct Shown<'b> {
    bar: &'b dyn Progress,
    /// Where the display counts from (see [`Progress::start`]).
    start: u64,
    /// The inputs, by input number (their names are shown).
    inputs: &'b [InputInfo],
}

impl Shown<'_> {
    /// Tells the display that the current input is read to `read_to`
    /// (bytes on disk), unless it was told just that already.
    fn advance(&self, merged: &mut Merged, read_to: u64) {
        let position = self.start + merged.done_before + read_to;
        let now = merged.input.map(|input| (input, position));
        if now != merged.shown {
            merged.shown = now;
            self.bar.advance(position);
        }
    }
}

struct MergeState {
    /// Pieces admitted (handed out or about to be).
    admitted: u64,
    /// The number of the next piece to absorb.
    next: u64,
    /// Scanned pieces waiting for the ones before them.
    ready: BTreeMap<u64, (Piece, Option<ChunkTally>)>,
    /// A worker is absorbing; a delivery leaves its piece to it.
    absorbing: bool,
    /// The inputs are done, or the run failed: nothing more is admitted.
    closed: bool,
    /// The first failure in input order: (piece number, error).
    error: Option<(u64, Error)>,
}

/// The tally and where absorption stands in the current input.
struct Merged {
    tally: Tally,
    /// Bytes of inputs before the current one (for progress).
    done_before: u64,
    /// The input being absorbed (told to the progress display).
    input: Option<usize>,
    /// The last position told to the progress display, and the input then.
    shown: Option<(usize, u64)>,
    /// The current mapped input is released from memory up to here.
    released: usize,
}

impl<'b> Merge<'b> {
    fn new(tally: Tally, window: u64, progress: Shown<'b>) -> Merge<'b> {
        Merge {
            state: Mutex::new(MergeState {
                admitted: 0,
                next: 0,
                ready: BTreeMap::new(),
                absorbing: false,
                closed: false,
                error: None,
            }),
            room: Condvar::new(),
            merged: Mutex::new(Merged {
                tally,
                done_before: 0,
                input: None,
                shown: None,
                released: 0,
            }),
            window,
            progress,
        }
    }

    fn lock(&self) -> MutexGuard<'_, MergeState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Waits for room in the window, then takes the next piece; None when
    /// the inputs are done or the run failed.
    fn admit(&self, pieces: &Mutex<Pieces>) -> Option<Piece> {
        let mut state = self.lock();
        loop {
            if state.closed {
                return None;
            }
            if state.admitted < state.next + self.window {
                break;
            }
            state = self
                .room
                .wait(state)
                .unwrap_or_else(PoisonError::into_inner);
        }
        state.admitted += 1;
        drop(state);
        let next = pieces.lock().unwrap_or_else(PoisonError::into_inner).next();
        match next {
            Ok(Some(piece)) => Some(piece),
            Ok(None) => {
                self.close(None);
                None
            }
            Err(failure) => {
                self.close(Some(failure));
                None
            }
        }
    }

    /// Nothing more is admitted; `failure` is kept if it is the first in
    /// input order.
    fn close(&self, failure: Option<(u64, Error)>) {
        let mut state = self.lock();
        state.closed = true;
        if let Some((seq, e)) = failure {
            if state.error.as_ref().is_none_or(|(first, _)| seq < *first) {
                state.error = Some((seq, e));
            }
        }
        self.room.notify_all();
    }

    /// Hands over a scanned piece. The worker that delivers the piece the
    /// merge waits for absorbs it, and every piece after it already here.
    fn deliver(&self, piece: Piece, chunk: Option<ChunkTally>, sampled: &SampledOps) {
        let mut state = self.lock();
        state.ready.insert(piece.seq, (piece, chunk));
        if state.absorbing {
            return;
        }
        state.absorbing = true;
        loop {
            let next = state.next;
            let Some((piece, chunk)) = state.ready.remove(&next) else {
                break;
            };
            drop(state);
            let failure = self.absorb(piece, chunk, sampled);
            if let Some(e) = failure {
                self.close(Some((next, e)));
            }
            state = self.lock();
            state.next += 1;
            self.room.notify_all();
        }
        state.absorbing = false;
    }

    /// Absorbs one piece (the next in input order); at an input's end, checks
    /// it for truncation and lets its mapping go.
    fn absorb(
        &self,
        piece: Piece,
        chunk: Option<ChunkTally>,
        sampled: &SampledOps,
    ) -> Option<Error> {
        let mut merged = self.merged.lock().unwrap_or_else(PoisonError::into_inner);
        let merged = &mut *merged;
        if merged.input != Some(piece.input) {
            merged.input = Some(piece.input);
            let Shown { bar, inputs, .. } = &self.progress;
            bar.input(piece.input, inputs.len(), &inputs[piece.input].name);
            self.progress.advance(merged, 0);
        }
        if let Some(chunk) = chunk {
            merged
                .tally
                .absorb(chunk, piece.bytes().unwrap_or_default());
            sampled.mark(&merged.tally.samples);
            // What is scanned and absorbed leaves resident memory, in
            // batches (see RELEASE_BATCH).
            if let PieceKind::Mapped { map, range } = &piece.kind {
                if range.end >= merged.released + RELEASE_BATCH {
                    map.release(merged.released..range.end);
                    merged.released = range.end;
                }
            }
            self.progress.advance(merged, piece.read_to);
            return None;
        }
        let PieceKind::End(end) = piece.kind else {
            return None;
        };
        merged.done_before += end.disk_bytes;
        merged.released = 0;
        self.progress.advance(merged, 0);
        let (map, guard) = end.mapped?;
        let (was, now) = (map.bytes().len() as u64, map.len_now());
        (guard.faulted() || now < was).then(|| Error::Truncated {
            path: end.path.into(),
            was,
            now,
        })
    }

    /// The run's tally, or its first failure in input order.
    fn finish(self) -> Result<Tally> {
        let state = self
            .state
            .into_inner()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some((_, e)) = state.error {
            return Err(e);
        }
        debug_assert!(state.ready.is_empty(), "every delivered piece is absorbed");
        Ok(self
            .merged
            .into_inner()
            .unwrap_or_else(PoisonError::into_inner)
            .tally)
    }
}

/// The engine fed piece by piece, for logs that are not files: a webhook's
/// batches, events built in memory, lines from an iterator. Each piece
/// holds whole lines (a last line without its newline is taken as whole)
/// and has a place in the inputs, `(input, offset)`: [`Feed::push`] puts it
/// right after the one before, [`Feed::push_at`] where it says (a spool's
/// file and offset), so that a run over the same bytes as files counts the
/// same. Single-threaded; made by [`Engine::feed`] or [`Engine::feed_from`].
pub struct Feed<M: PathMatcher = SegmentTrie> {
    router: Arc<Router<M>>,
    n_ops: usize,
    options: ScanOptions,
    sampled: SampledOps,
    tally: Tally,
    /// Where the next [`Feed::push`] goes.
    input: usize,
    offset: u64,
}

impl<M: PathMatcher> Feed<M> {
    /// Counts the lines of `piece`, placed right after the last piece.
    pub fn push(&mut self, piece: &[u8]) {
        self.push_at(self.input, self.offset, piece);
    }

    /// Counts the lines of `piece`, placed at `offset` bytes into input
    /// number `input`. Pieces come in input order.
    pub fn push_at(&mut self, input: usize, offset: u64, piece: &[u8]) {
        let chunk = scan_chunk(
            piece,
            position(input, offset),
            &self.router,
            self.n_ops,
            self.options,
            &self.sampled,
        );
        self.tally.absorb(chunk, piece);
        self.sampled.mark(&self.tally.samples);
        self.input = input;
        self.offset = offset + piece.len() as u64;
    }

    /// What has been counted so far.
    pub fn tally(&self) -> &Tally {
        &self.tally
    }

    /// The run's tally.
    pub fn finish(self) -> Tally {
        self.tally
    }
}
