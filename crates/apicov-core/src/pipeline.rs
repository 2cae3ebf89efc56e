//! The engine: inputs → newline-aligned chunks → parallel scans → tallies
//! absorbed in input order.
//!
//! Chunks are scanned in waves of a few per thread: the wave's chunks run in
//! parallel (rayon), each into its own [`ChunkTally`] (no locks, no shared
//! counters), then the main thread absorbs them in order. Waves bound memory
//! (one wave of stream blocks and pending entries at a time) and make the
//! result independent of thread count and chunk size.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use rayon::prelude::*;

use crate::aggregate::{position, scan_chunk, ChunkTally, SampledOps, ScanOptions, Tally};
use crate::attribution::Attribution;
use crate::chunk::{self, BlockReader};
use crate::error::{Error, Result};
use crate::event::Validation;
use crate::input::{self, Compression, InputName, Opened, ReadMode};
use crate::routes::{PathMatcher, Router};

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
}

/// Where the engine reports how far it has read: a progress bar, a log
/// line, a metric. Called only from the thread that merges, between waves,
/// so an implementation may take a lock without slowing the scan.
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
        }
    }
}

/// 4 MiB: large enough that per-chunk set-up (a counter per operation) is
/// noise, small enough that a 190 MB run has dozens of chunks to balance.
pub const DEFAULT_CHUNK_SIZE: usize = 4 << 20;

/// Scanned pages of a mapped input are released from resident memory once
/// this much is absorbed: one `madvise` a batch rather than one a wave, and
/// none for a file smaller than this (most CI logs), where releasing cost
/// ~10 ms of a 60 ms parse of 199 MB for memory nobody was short of.
pub const RELEASE_BATCH: usize = 64 << 20;

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
pub fn thread_pool(threads: usize) -> Result<rayon::ThreadPool> {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .map_err(|e| Error::Usage(format!("cannot start worker threads: {e}")))
}

/// What every run of the engine shares: the matcher, the catalogue's size,
/// how inputs are read and the worker pool. `history` runs one engine over
/// many runs; the spec and matcher are built once.
pub struct Engine<'e, M: PathMatcher> {
    /// Maps each request to an operation.
    pub router: &'e Router<M>,
    /// Operations in the catalogue the router's ids index.
    pub n_ops: usize,
    /// How inputs are read, split and attributed.
    pub options: &'e EngineOptions,
    /// The workers that scan chunks.
    pub pool: &'e rayon::ThreadPool,
}

impl<'e, M: PathMatcher> Engine<'e, M> {
    /// An engine over a catalogue of `n_ops` operations.
    pub fn new(
        router: &'e Router<M>,
        n_ops: usize,
        options: &'e EngineOptions,
        pool: &'e rayon::ThreadPool,
    ) -> Engine<'e, M> {
        Engine {
            router,
            n_ops,
            options,
            pool,
        }
    }

    /// Reads every input in order and returns the run's tally.
    /// `open_before`: requests left open by an earlier part of the same log
    /// (usually none).
    pub fn run(
        &self,
        names: &[InputName],
        open_before: &[u128],
    ) -> Result<(Tally, Vec<InputInfo>)> {
        check_input_count(names.len())?;
        let mut sources = Vec::with_capacity(names.len());
        for name in names {
            sources.push(input::open(name, self.options.read_mode)?);
        }
        self.run_sources(sources, open_before)
    }

    /// [`Engine::run`] over inputs already opened, in order: files, or
    /// streams that are not files ([`input::from_reader`]).
    pub fn run_sources(
        &self,
        sources: Vec<input::Source>,
        open_before: &[u128],
    ) -> Result<(Tally, Vec<InputInfo>)> {
        let (router, n_ops, options, pool) = (self.router, self.n_ops, self.options, self.pool);
        check_input_count(sources.len())?;
        let wave = pool.current_num_threads() * 4;
        let total: u64 = sources.iter().filter_map(|s| s.disk_bytes).sum();
        let bar: &dyn Progress = options.progress.as_deref().unwrap_or(&Silent);
        let start = bar.start(total);

        let mut tally = Tally::new(n_ops);
        let sampled = SampledOps::new(n_ops);
        tally.seed_open(open_before.iter().copied());
        let mut infos = Vec::with_capacity(sources.len());
        let mut done_before: u64 = 0;
        let count = sources.len();
        for (index, source) in sources.into_iter().enumerate() {
            bar.input(index, count, &source.name.display());
            infos.push(InputInfo {
                name: source.name.display(),
                compression: source.compression,
                disk_bytes: source.disk_bytes,
            });
            let scan_options = ScanOptions {
                validation: options.validation,
                attribution: options.attribution,
            };
            let scan = |bytes: &[u8], offset: u64| -> ChunkTally {
                scan_chunk(
                    bytes,
                    position(index, offset),
                    router,
                    n_ops,
                    scan_options,
                    &sampled,
                )
            };
            // Each wave is scanned while the wave before it is absorbed, so the
            // ordered merge does not leave the workers idle.
            match source.opened {
                Opened::Mapped(mapped) => {
                    let path = source.name.display();
                    let bytes = mapped.bytes();
                    // Truncation while mapped reads as zeros under the guard
                    // (see mapguard), and is reported once the file is done.
                    let guard = crate::mapguard::Guard::new(bytes);
                    if guard.is_none() && !bytes.is_empty() {
                        return Err(Error::input(&path, "too many files mapped at once"));
                    }
                    let ranges = chunk::split(bytes, options.chunk_size);
                    let mut previous: Option<(&[std::ops::Range<usize>], Vec<ChunkTally>)> = None;
                    let mut released = 0;
                    for group in ranges.chunks(wave) {
                        let absorb = previous.take();
                        let absorbed_to = absorb
                            .as_ref()
                            .and_then(|(r, _)| r.last())
                            .map_or(0, |r| r.end);
                        let tally_ref = &mut tally;
                        let (tallies, ()) = pool.install(|| {
                            rayon::join(
                                || {
                                    group
                                        .par_iter()
                                        .map(|r| scan(&bytes[r.clone()], r.start as u64))
                                        .collect()
                                },
                                || {
                                    if let Some((ranges, tallies)) = absorb {
                                        absorb_wave(
                                            tally_ref,
                                            slices(bytes, ranges),
                                            tallies,
                                            &sampled,
                                        );
                                    }
                                },
                            )
                        });
                        // What is scanned and absorbed leaves resident memory,
                        // in batches (see RELEASE_BATCH).
                        if absorbed_to >= released + RELEASE_BATCH {
                            mapped.release(released..absorbed_to);
                            released = absorbed_to;
                        }
                        previous = Some((group, tallies));
                        bar.advance(
                            start + done_before + group.first().map_or(0, |r| r.start as u64),
                        );
                    }
                    if let Some((ranges, tallies)) = previous {
                        absorb_wave(&mut tally, slices(bytes, ranges), tallies, &sampled);
                    }
                    if bytes.is_empty() {
                        tally.absorb(scan(&[], 0), &[]);
                    }
                    let faulted = guard.as_ref().is_some_and(|g| g.faulted());
                    let now = mapped.len_now();
                    if faulted || now < bytes.len() as u64 {
                        return Err(Error::Truncated {
                            path: path.into(),
                            was: bytes.len() as u64,
                            now,
                        });
                    }
                    drop(guard);
                }
                Opened::Stream(reader) => {
                    let path = source.name.display();
                    let mut blocks = BlockReader::new(reader, options.chunk_size);
                    let mut offset: u64 = 0;
                    let mut seen_any = false;
                    let mut previous: Option<(Vec<Block>, Vec<ChunkTally>)> = None;
                    loop {
                        let mut group: Vec<Block> = Vec::with_capacity(wave);
                        while group.len() < wave {
                            match blocks.next_block() {
                                Ok(Some(block)) => {
                                    let len = block.len() as u64;
                                    group.push((offset, block));
                                    offset += len;
                                }
                                Ok(None) => break,
                                Err(e) => {
                                    let what = if let Some(kind) = source.compression.name() {
                                        format!("corrupt or truncated {kind} data: {e}")
                                    } else {
                                        e.to_string()
                                    };
                                    return Err(Error::input(&path, what));
                                }
                            }
                        }
                        if group.is_empty() {
                            break;
                        }
                        seen_any = true;
                        let absorb = previous.take();
                        let tally_ref = &mut tally;
                        let (tallies, ()) = pool.install(|| {
                            rayon::join(
                                || group.par_iter().map(|(off, b)| scan(b, *off)).collect(),
                                || {
                                    if let Some((blocks, tallies)) = absorb {
                                        absorb_wave(
                                            tally_ref,
                                            blocks.iter().map(|(_, b)| &b[..]),
                                            tallies,
                                            &sampled,
                                        );
                                    }
                                },
                            )
                        });
                        previous = Some((group, tallies));
                        bar.advance(start + done_before + source.consumed.load(Ordering::Relaxed));
                    }
                    if let Some((blocks, tallies)) = previous {
                        absorb_wave(
                            &mut tally,
                            blocks.iter().map(|(_, b)| &b[..]),
                            tallies,
                            &sampled,
                        );
                    }
                    if !seen_any {
                        tally.absorb(scan(&[], 0), &[]);
                    }
                }
            }
            done_before += source.disk_bytes.unwrap_or(0);
            bar.advance(start + done_before);
        }
        bar.finish();
        Ok((tally, infos))
    }
}

/// Positions keep the input number in 16 bits (see aggregate::Position).
fn check_input_count(inputs: usize) -> Result<()> {
    if inputs >= 1 << 16 {
        return Err(Error::Usage(format!(
            "{inputs} inputs: at most 65,535 in one run"
        )));
    }
    Ok(())
}

/// A block of a stream: its offset in the (decompressed) stream and bytes.
type Block = (u64, Vec<u8>);

/// The byte slices of `ranges` in `bytes`.
fn slices<'b>(
    bytes: &'b [u8],
    ranges: &'b [std::ops::Range<usize>],
) -> impl Iterator<Item = &'b [u8]> {
    ranges.iter().map(move |r| &bytes[r.clone()])
}

/// Absorbs a scanned wave, chunk by chunk in input order, then marks the
/// operations whose samples are now complete.
fn absorb_wave<'b>(
    tally: &mut Tally,
    chunks: impl Iterator<Item = &'b [u8]>,
    tallies: Vec<ChunkTally>,
    sampled: &SampledOps,
) {
    for (bytes, chunk) in chunks.zip(tallies) {
        tally.absorb(chunk, bytes);
    }
    sampled.mark(tally);
}

/// The engine fed piece by piece, for logs that are not files: a webhook's
/// batches, events built in memory, lines from an iterator. The pieces
/// follow one another as one input; each holds whole lines (a last line
/// without its newline is taken as whole). Single-threaded: [`Engine::run`] is the
/// parallel path for files.
pub struct Feed<'r, M: PathMatcher> {
    router: &'r Router<M>,
    n_ops: usize,
    options: ScanOptions,
    sampled: SampledOps,
    tally: Tally,
    offset: u64,
}

impl<'r, M: PathMatcher> Feed<'r, M> {
    /// A feed counting against `router`, over a catalogue of `n_ops` operations.
    pub fn new(router: &'r Router<M>, n_ops: usize, options: ScanOptions) -> Feed<'r, M> {
        Feed {
            router,
            n_ops,
            options,
            sampled: SampledOps::new(n_ops),
            tally: Tally::new(n_ops),
            offset: 0,
        }
    }

    /// Counts the lines of `piece`.
    pub fn push(&mut self, piece: &[u8]) {
        let chunk = scan_chunk(
            piece,
            position(0, self.offset),
            self.router,
            self.n_ops,
            self.options,
            &self.sampled,
        );
        self.tally.absorb(chunk, piece);
        self.sampled.mark(&self.tally);
        self.offset += piece.len() as u64;
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
