//! What the chunks and the run share: where a line is ([`Position`]), what a
//! request counts against ([`Hits`], an unmatched request's group), the
//! window of the counting rule, how a chunk records what each request
//! counted so that the run can take it back, and the samples. Imported by
//! `chunk_tally`, `recent` and the run's `Tally`, importing none of them.

use indexmap::IndexMap;

use crate::event::Stage;
use crate::spec::OpId;

/// Samples kept per operation (the reference keeps 5).
pub const SAMPLES_PER_OP: usize = 5;
/// The longest line kept as a sample: 16 MiB, past anything an apiserver
/// logs (etcd takes objects of 1.5 MiB, and an event holds a request's and
/// a response's). A longer line counts like any other, but is not kept: a
/// sample is copied and printed, and one 2.28 GB line kept took 8.9 GB.
pub const MAX_SAMPLE_LINE: usize = 16 << 20;
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

/// How far apart, in events, two events with one `auditID` may be and still
/// be taken as one request: the window in which finished requests are
/// remembered. The apiserver's batch backends post batches from concurrent
/// goroutines and retry failed ones with backoff, so a request's stages
/// arrive in any order and some minutes apart; past the window, an event is
/// taken as a new request. A run remembers at most twice this many requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window(pub u64);

impl Window {
    /// 262,144 events: over an hour of a conformance run's traffic, and
    /// about a minute at the webhook backend's top rate (10 batches of 400
    /// events a second).
    pub const DEFAULT: Window = Window(1 << 18);

    /// 2^30 events, the largest window: the run's table of recent requests
    /// names a request's record by 32 bits of its number. Remembering that
    /// many events' requests takes tens of gigabytes. A larger window
    /// remembers requests for this many events.
    pub const MAX: Window = Window(1 << 30);

    /// Whether two events `distance` events apart fall in the window.
    pub fn holds(self, distance: impl Into<u64>) -> bool {
        distance.into() <= self.0
    }
}

impl Default for Window {
    fn default() -> Window {
        Window::DEFAULT
    }
}

/// No sample candidate (the operation's samples were held already).
pub(super) const NO_CANDIDATE: u32 = u32::MAX;
/// No actor (requests are not attributed).
pub(super) const NO_ACTOR: u32 = u32::MAX;

/// What a request's first event in a chunk counted: what the run takes back
/// when it had seen the request in an earlier chunk. Packed (an operation
/// or an unmatched group in one word) to keep the chunk's map small: its
/// pages are fresh memory for every chunk.
#[derive(Debug, Clone, Copy)]
pub(super) struct Counted {
    /// An operation's index, or [`UNMATCHED`] with the chunk's number of an
    /// unmatched group.
    pub(super) target: u32,
    /// Its actor (chunk-local number) or [`NO_ACTOR`].
    pub(super) actor: u32,
    /// Its sample candidate (chunk-local number) or [`NO_CANDIDATE`].
    pub(super) candidate: u32,
    pub(super) stage: Stage,
}

/// The bit of [`Counted::target`] that says it is an unmatched group.
pub(super) const UNMATCHED: u32 = 1 << 31;

impl Counted {
    /// The counts the request was added to.
    pub(super) fn hits<'h>(
        self,
        op_hits: &'h mut [Hits],
        unmatched: &'h mut IndexMap<UnmatchedKey, Hits, ahash::RandomState>,
    ) -> &'h mut Hits {
        if self.target & UNMATCHED != 0 {
            &mut unmatched[(self.target & !UNMATCHED) as usize]
        } else {
            &mut op_hits[self.target as usize]
        }
    }
}

/// A request as one chunk saw it.
#[derive(Debug, Clone, Copy)]
pub(super) struct RequestSeen {
    /// Where its first event is.
    pub(super) pos: Position,
    /// Chunk-local numbers of its first and last events.
    pub(super) first: u32,
    pub(super) last: u32,
    /// What its first event counted.
    pub(super) counted: Counted,
    /// Whether its last event (or one in the window before it) was terminal.
    pub(super) done: bool,
    /// Whether an event of the chunk was further than the window from the
    /// one before: what the run knew of the ID is then past.
    pub(super) renewed: bool,
}

/// A request's key in the maps of requests: the 128-bit key as two words,
/// hashed as one (a UUID's bits are random, and a key that is not a UUID is
/// a hash already). Two words rather than a `u128`, whose 16-byte alignment
/// would pad the maps' entries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct RequestId(pub(super) [u64; 2]);

impl From<u128> for RequestId {
    fn from(key: u128) -> RequestId {
        RequestId([key as u64, (key >> 64) as u64])
    }
}

impl From<RequestId> for u128 {
    fn from(id: RequestId) -> u128 {
        u128::from(id.0[0]) | (u128::from(id.0[1]) << 64)
    }
}

impl std::hash::Hash for RequestId {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        state.write_u64(self.0[0] ^ self.0[1].rotate_left(32));
    }
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

    /// None counted, with no first position yet: a chunk's starting point,
    /// where the first position is the least of those given.
    pub(super) const UNSEEN: Hits = Hits {
        by_stage: [0; 4],
        first: Position::MAX,
    };

    /// One request, at `stage`; at `pos` if it is known to stay counted (a
    /// chunk gives a request that the run may take back its position later).
    pub(super) fn count(&mut self, stage: Stage, pos: Option<Position>) {
        self.by_stage[stage as usize] += 1;
        if let Some(pos) = pos {
            self.first = self.first.min(pos);
        }
    }
}

/// One sample event: its position and the raw line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sample {
    /// Where the event is in the input.
    pub pos: Position,
    /// The event's line as logged, without its newline; empty for a printed
    /// sample of a run whose [`SamplePrinting::keep_lines`] was false.
    pub line: Box<[u8]>,
    /// The line as audit-operations.json prints it, when the tally was given
    /// a [`SamplePrinter`] for its operation and the printer took it.
    pub printed: Option<bytes::Bytes>,
}

/// Prints a sample line as a report will (audit-operations.json), into
/// `out`; returns false, printing nothing, when it declines the line. A
/// printer accepts only lines that pass [`check_whole`](crate::event::check_whole): a tally
/// given one keeps what it prints and skips that check for those lines, so
/// each sample's bytes are walked once, not twice.
pub type SamplePrinter = fn(&[u8], &mut Vec<u8>) -> bool;

/// Samples printed as they are kept: the printer, and the operations whose
/// samples a report shows. The others' are kept unprinted (the report JSON
/// holds them raw): at Metadata level a sixth of the sampled operations are
/// deprecated watches, and the tracking lists leave out more.
#[derive(Debug, Clone)]
pub struct SamplePrinting {
    /// Prints a sample.
    pub print: SamplePrinter,
    /// By operation index: whether its samples are shown.
    pub shown: std::sync::Arc<[bool]>,
    /// Whether a printed sample keeps its raw line too, for an output that
    /// holds raw lines (the report JSON, and so `merge` and
    /// `--continue-from`). Without it a printed sample's `line` is empty:
    /// the copy and its fresh pages were ~3% of a Metadata parse's CPU.
    pub keep_lines: bool,
}

/// Printed samples are copied into slabs of this many bytes, each shared by
/// the samples in it, whose pages are mapped in by one call: a sample a
/// buffer of its own faulted its pages in one by one (the printed samples
/// are most of audit-operations.json, 6 MB for a 200 MB Metadata log).
const SLAB: usize = 256 << 10;

impl SamplePrinting {
    /// Whether `op`'s samples are shown.
    pub fn shows(&self, op: OpId) -> bool {
        self.shown.get(op.index()).copied().unwrap_or(false)
    }

    /// `line`, a sample of `op`, printed: `None` if `op`'s samples are not
    /// shown or the printer declines the line.
    ///
    /// Printed into the thread's scratch buffer, then copied to the end of
    /// the thread's slab (`SLAB` bytes, shared by the samples in it). A
    /// printed body can take 1.1-2.3x its compact line (the indentation of
    /// deep managedFields), so a buffer reserved up front either wastes
    /// memory or grows by doubling.
    pub fn printed(&self, op: OpId, line: &[u8]) -> Option<bytes::Bytes> {
        if !self.shows(op) {
            return None;
        }
        thread_local! {
            static SCRATCH: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
            static SLABS: std::cell::RefCell<bytes::BytesMut> = std::cell::RefCell::new(bytes::BytesMut::new());
        }
        SCRATCH.with_borrow_mut(|scratch| {
            scratch.clear();
            if !(self.print)(line, scratch) {
                return None;
            }
            Some(SLABS.with_borrow_mut(|slab| {
                if slab.capacity() - slab.len() < scratch.len() {
                    *slab = bytes::BytesMut::with_capacity(SLAB.max(scratch.len()));
                    crate::pages::populate(slab.spare_capacity_mut());
                }
                slab.extend_from_slice(scratch);
                slab.split().freeze()
            }))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Prints a line as itself, declining lines that start with `!`.
    fn echo(line: &[u8], out: &mut Vec<u8>) -> bool {
        out.extend_from_slice(line);
        !line.starts_with(b"!")
    }

    /// Printed samples follow one another in the thread's slab; one larger
    /// than a slab, and those after a slab fills, start a new one; every
    /// sample keeps its bytes.
    #[test]
    fn printed_samples_share_slabs() {
        let printing = SamplePrinting {
            print: echo,
            shown: vec![true, false].into(),
            keep_lines: false,
        };
        let line = |n: usize, b: u8| vec![b; n];
        // Run on a thread of its own, so that its slab starts empty.
        std::thread::spawn(move || {
            assert_eq!(printing.printed(OpId(1), b"hidden"), None);
            assert_eq!(printing.printed(OpId(0), b"!declined"), None);
            let a = printing.printed(OpId(0), &line(1000, b'a')).unwrap();
            let b = printing.printed(OpId(0), &line(3000, b'b')).unwrap();
            assert_eq!(b.as_ptr(), a.as_ptr().wrapping_add(1000));
            let big = printing.printed(OpId(0), &line(SLAB + 1, b'c')).unwrap();
            let after = printing.printed(OpId(0), &line(10, b'd')).unwrap();
            assert_ne!(after.as_ptr(), big.as_ptr().wrapping_add(SLAB + 1));
            assert_eq!(&a[..], &line(1000, b'a')[..]);
            assert_eq!(&b[..], &line(3000, b'b')[..]);
            assert_eq!(&big[..], &line(SLAB + 1, b'c')[..]);
            assert_eq!(&after[..], &line(10, b'd')[..]);
            // A slab filled up: the next sample starts another.
            let e = printing.printed(OpId(0), &line(SLAB / 2, b'e')).unwrap();
            assert_eq!(e.as_ptr(), after.as_ptr().wrapping_add(10));
            let f = printing.printed(OpId(0), &line(SLAB / 2, b'f')).unwrap();
            assert_ne!(f.as_ptr(), e.as_ptr().wrapping_add(SLAB / 2));
            assert_eq!(&f[..], &line(SLAB / 2, b'f')[..]);
        })
        .join()
        .unwrap();
    }
}
