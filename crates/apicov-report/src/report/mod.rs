//! Output files and the console summary, one module a format. Files are
//! written through a temporary file and a rename, never half-written.

use std::borrow::Cow;
use std::io::{IoSlice, Write};
use std::path::{Path, PathBuf};

use apicov_core::coverage::Coverage;
use apicov_core::error::{Error, Result};

/// Writes `bytes` to `path` through a temporary file in the same directory and
/// a rename, so a reader never sees a half-written file.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    write_all_atomic(&[(path.to_path_buf(), bytes.to_vec().into())])
}

/// A file's contents as pieces written one after another, so that a report
/// rendered in parallel is not first copied into one buffer (for the 6 MB
/// audit-operations.json of a 200 MB run that copy cost ~5 ms), or rendered
/// in batches while the batch before is written ([`Body::in_batches`]).
pub struct Body<'a>(Contents<'a>);

enum Contents<'a> {
    /// Rendered already; borrowed pieces are written from where they are
    /// (samples printed as the run kept them, see `operations::render`).
    Pieces(Vec<Cow<'a, [u8]>>),
    Batches {
        /// Items to render, in order.
        count: usize,
        /// Renders items `range` as pieces, on the pool.
        render: Box<RenderFn<'a>>,
        pool: &'a rayon::ThreadPool,
    },
}

/// Renders a range of a document's items as pieces.
type RenderFn<'a> = dyn Fn(std::ops::Range<usize>) -> Vec<Vec<u8>> + Send + Sync + 'a;

/// Batches a document rendered by [`Body::in_batches`] is cut into: the
/// first batch is rendered before anything is written and the last is
/// written after everything is rendered, so neither should be large; each
/// batch also waits for its slowest item. Four saved ~8% of a bodies
/// parse's wall time against writing after rendering, at the same CPU;
/// eight did worse.
const BATCHES: usize = 4;

impl std::fmt::Debug for Body<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.0 {
            Contents::Pieces(pieces) => f.debug_tuple("Body").field(&pieces.len()).finish(),
            Contents::Batches { count, .. } => {
                f.debug_struct("Body").field("count", count).finish()
            }
        }
    }
}

impl<'a> Body<'a> {
    /// A document of `count` items, rendered by `render` (a range of items
    /// as pieces, in order) in batches on `pool` while the main thread
    /// writes the batch before, so that the file's write (a few ms for a
    /// 20 MB audit-operations.json) no longer follows the rendering.
    pub fn in_batches(
        count: usize,
        pool: &'a rayon::ThreadPool,
        render: impl Fn(std::ops::Range<usize>) -> Vec<Vec<u8>> + Send + Sync + 'a,
    ) -> Body<'a> {
        Body(Contents::Batches {
            count,
            render: Box::new(render),
            pool,
        })
    }

    /// Writes every piece, in order (see [`write_pieces`]); a document in
    /// batches is rendered on its pool meanwhile, a batch ahead.
    fn write_to(&self, w: &mut impl Write) -> std::io::Result<()> {
        let (count, render, pool) = match &self.0 {
            Contents::Pieces(pieces) => return write_pieces(pieces, w),
            Contents::Batches {
                count,
                render,
                pool,
            } => (*count, render, *pool),
        };
        let size = count.div_ceil(BATCHES).max(1);
        let mut ranges = (0..count.max(1))
            .step_by(size)
            .map(|start| start..(start + size).min(count));
        let first = ranges.next().unwrap_or(0..0);
        let mut current = pool.install(|| render(first));
        loop {
            let next = ranges.next();
            let mut rendered = None;
            let mut written = Ok(());
            pool.in_place_scope(|scope| {
                if let Some(range) = next {
                    scope.spawn(|_| rendered = Some(render(range)));
                }
                written = write_pieces(&current, w);
            });
            written?;
            match rendered {
                Some(pieces) => current = pieces,
                None => return Ok(()),
            }
        }
    }
}

/// Writes `pieces`, in order, with as few system calls as it takes and at
/// most [`crate::cleanup::WRITE_PIECE`] bytes a call, so that a signal stops
/// a long write promptly.
fn write_pieces(pieces: &[impl AsRef<[u8]>], w: &mut impl Write) -> std::io::Result<()> {
    let limit = crate::cleanup::WRITE_PIECE;
    let slices: Vec<&[u8]> = pieces
        .iter()
        .flat_map(|p| p.as_ref().chunks(limit))
        .collect();
    let mut rest = &slices[..];
    while !rest.is_empty() {
        crate::cleanup::stop_if_terminating();
        // A batch: under the usual IOV_MAX of 1024 slices and about
        // `limit` bytes.
        let (mut count, mut bytes) = (0, 0);
        while count < rest.len().min(1024) && (count == 0 || bytes + rest[count].len() <= limit) {
            bytes += rest[count].len();
            count += 1;
        }
        let mut io: Vec<IoSlice> = rest[..count].iter().map(|p| IoSlice::new(p)).collect();
        let mut batch = &mut io[..];
        while !batch.is_empty() {
            match w.write_vectored(batch) {
                Ok(0) => return Err(std::io::ErrorKind::WriteZero.into()),
                Ok(n) => IoSlice::advance_slices(&mut batch, n),
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        rest = &rest[count..];
    }
    Ok(())
}

/// A fresh file written with the blocks of each write allocated just before
/// it, where that measured faster. ext4 reserves a new file's blocks as its
/// pages are written (delayed allocation: a reservation, buffer heads and an
/// extent-cache entry per 4 KiB page); one `fallocate` for a batch's range
/// first made a 20 MB file's write about a quarter faster. On tmpfs it was
/// slower (pages zeroed, then overwritten), so other file systems are
/// written as they were.
struct Preallocating<W> {
    inner: W,
    /// Bytes written so far, from the start of the (empty) file.
    written: u64,
    /// End of the range allocated so far.
    allocated: u64,
    /// Off where the file system gains nothing or cannot allocate ahead.
    enabled: bool,
}

/// A file that can have a range's blocks allocated ahead of writing it.
trait Allocate {
    /// Allocates `len` bytes at `offset`, extending the file; false if the
    /// file system declined (the write that follows reports any real error,
    /// such as a full disk, itself).
    fn allocate(&mut self, offset: u64, len: u64) -> bool;
}

impl Allocate for &std::fs::File {
    fn allocate(&mut self, offset: u64, len: u64) -> bool {
        #[cfg(target_os = "linux")]
        {
            use std::os::fd::AsRawFd;
            let (Ok(offset), Ok(len)) = (i64::try_from(offset), i64::try_from(len)) else {
                return false;
            };
            // SAFETY: plain system call on an open descriptor.
            unsafe { libc::fallocate(self.as_raw_fd(), 0, offset, len) == 0 }
        }
        #[cfg(not(target_os = "linux"))]
        {
            let _ = (offset, len);
            false
        }
    }
}

impl<'f> Preallocating<&'f std::fs::File> {
    /// `file`, new and empty, preallocated if it is on ext4.
    fn new(file: &'f std::fs::File) -> Self {
        #[cfg(target_os = "linux")]
        let enabled = {
            use std::os::fd::AsRawFd;
            const EXT4_SUPER_MAGIC: libc::c_long = 0xEF53;
            let mut fs = std::mem::MaybeUninit::<libc::statfs>::uninit();
            // SAFETY: fstatfs fills `fs` when it returns 0.
            let known = unsafe { libc::fstatfs(file.as_raw_fd(), fs.as_mut_ptr()) } == 0;
            // SAFETY: initialised by the successful call (checked first).
            known && unsafe { fs.assume_init() }.f_type as libc::c_long == EXT4_SUPER_MAGIC
        };
        #[cfg(not(target_os = "linux"))]
        let enabled = false;
        Preallocating {
            inner: file,
            written: 0,
            allocated: 0,
            enabled,
        }
    }
}

impl<W: Write + Allocate> Write for Preallocating<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.write_vectored(&[IoSlice::new(buf)])
    }

    fn write_vectored(&mut self, bufs: &[IoSlice<'_>]) -> std::io::Result<usize> {
        let end = self.written + bufs.iter().map(|b| b.len() as u64).sum::<u64>();
        if self.enabled && end > self.allocated {
            // Short writes leave part of a range allocated: only what lies
            // beyond it is asked for.
            let from = self.allocated.max(self.written);
            self.enabled = self.inner.allocate(from, end - from);
            self.allocated = end;
        }
        let n = self.inner.write_vectored(bufs)?;
        self.written += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

impl From<Vec<u8>> for Body<'_> {
    fn from(bytes: Vec<u8>) -> Self {
        Body(Contents::Pieces(vec![bytes.into()]))
    }
}

impl From<Vec<Vec<u8>>> for Body<'_> {
    fn from(pieces: Vec<Vec<u8>>) -> Self {
        Body(Contents::Pieces(
            pieces.into_iter().map(Cow::Owned).collect(),
        ))
    }
}

impl<'a> From<Vec<Cow<'a, [u8]>>> for Body<'a> {
    fn from(pieces: Vec<Cow<'a, [u8]>>) -> Self {
        Body(Contents::Pieces(pieces))
    }
}

/// Writes to standard output; a closed pipe (`| head`) is not an error.
pub fn write_stdout(bytes: &[u8]) -> Result<()> {
    let mut out = std::io::stdout().lock();
    match out.write_all(bytes).and_then(|()| out.flush()) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        Err(source) => Err(Error::Output {
            path: "<stdout>".into(),
            source,
        }),
    }
}

/// One output format of a run, as hyperfine's `Exporter`: a format's
/// options are the fields of its value ([`endpoints::EndpointsText`],
/// [`operations::OperationsJson`], [`json::ReportJson`], [`junit::Junit`],
/// [`html::Html`]), and every format renders from the same two inputs into
/// a [`Body`] that [`stage`] writes.
pub trait Render: Sync {
    /// The output for `run`, whose verdicts `coverage` holds.
    fn render<'a>(&'a self, run: &Run<'a>, coverage: &'a Coverage) -> Body<'a>;
}

/// One run's result, as every report renders it: `parse`, `merge`, each run
/// of `history` and `serve`'s live pages build this and pass it, with the
/// run's [`Coverage`], to the renderers.
#[derive(Debug, Clone, Copy)]
pub struct Run<'a> {
    /// The spec's operations.
    pub catalogue: &'a apicov_core::spec::Catalogue,
    /// Where the spec came from (path or URL).
    pub spec_source: &'a str,
    /// What the run counted.
    pub tally: &'a apicov_core::aggregate::Tally,
    /// The run's inputs, in order.
    pub inputs: &'a [apicov_core::pipeline::InputInfo],
    /// The ineligible-endpoints list.
    pub ineligible: &'a apicov_core::lists::EndpointList,
    /// The pending-eligible-endpoints list.
    pub pending: &'a apicov_core::lists::EndpointList,
    /// Which operation a watch credited.
    pub watch_credit: apicov_core::routing::WatchCredit,
    /// Include the per-test / per-client attribution.
    pub by_test: bool,
    /// Digest of the open requests the run was seeded with (`--continue-from`).
    pub seeded_from: Option<&'a str>,
    /// The run's place in a `--continue-from` chain: 0 for a first part (or
    /// a run on its own), the previous part's plus one otherwise.
    pub chain_position: u64,
    /// What every output must say about how the figures were made.
    pub caveats: Caveats,
}

pub use crate::caveats::Caveats;

pub mod endpoints;
pub mod html;
pub mod json;
pub mod junit;
pub mod operations;
pub mod python_json;
pub mod summary;

/// Writes several files so that either all of them are replaced or none is:
/// every temporary file (`.apicov-XXXXXX.tmp`, see [`crate::cleanup`]) is
/// written first, then all are renamed.
pub fn write_all_atomic(files: &[(std::path::PathBuf, Body<'_>)]) -> Result<()> {
    let mut staged = Vec::with_capacity(files.len());
    for (path, body) in files {
        staged.push(stage(path, body)?);
    }
    commit(staged)
}

/// A file written in full under a temporary name in its directory, which
/// [`commit`] renames into place; dropped instead, it is removed. Files
/// staged on different threads are written at the same time (writes to one
/// file take its inode's lock in turn). A target that exists and is not a
/// regular file (device, FIFO, socket, `/dev/stdout`, `/dev/fd/N`) is not
/// replaced: its bytes are kept here and written into it by [`commit`].
pub struct StagedFile<'p> {
    path: &'p Path,
    target: Target,
}

enum Target {
    /// Renamed over `at`: `path` itself, or the file a symlink at `path`
    /// names (so the link is kept).
    Rename { tmp: Staged, at: PathBuf },
    /// Opened and written where it is.
    InPlace(Vec<u8>),
}

/// Where an output goes: `None` when `path` exists and is not a regular
/// file or a directory (written in place), else the path to rename over,
/// with symlinks followed to the file they name (which may not exist yet).
pub fn rename_target(path: &Path) -> Option<PathBuf> {
    // A process's own descriptors (`/dev/stdout`, `>(cmd)` as `/dev/fd/63`)
    // are written through even when they name a regular file: replacing
    // that file would leave the descriptor writing to nothing.
    if ["/dev/stdout", "/dev/stderr", "/dev/fd/", "/proc/"]
        .iter()
        .any(|p| path.starts_with(p) || path.to_string_lossy().starts_with(p))
    {
        return None;
    }
    if let Ok(meta) = std::fs::metadata(path) {
        if !meta.is_file() && !meta.is_dir() {
            return None;
        }
    }
    let mut at = path.to_path_buf();
    // A chain of links, followed by hand so a dangling one still names
    // where its file is to be created; bounded like the kernel's (40).
    for _ in 0..40 {
        match std::fs::read_link(&at) {
            Ok(next) => {
                at = match at.parent() {
                    Some(dir) if next.is_relative() => dir.join(next),
                    _ => next,
                }
            }
            Err(_) => break,
        }
    }
    Some(at)
}

/// Writes `body` to a temporary file beside `path` (the first step of
/// [`write_all_atomic`]), or keeps it for writing in place.
pub fn stage<'p>(path: &'p Path, body: &Body<'_>) -> Result<StagedFile<'p>> {
    let out_err = |source| Error::Output {
        path: path.to_path_buf(),
        source,
    };
    if path.is_dir() {
        return Err(out_err(std::io::Error::other("is a directory")));
    }
    let Some(at) = rename_target(path) else {
        let mut bytes = Vec::new();
        body.write_to(&mut bytes).map_err(out_err)?;
        return Ok(StagedFile {
            path,
            target: Target::InPlace(bytes),
        });
    };
    let dir = match at.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let mut tmp = Staged(Some(crate::cleanup::temp_file_in(&dir).map_err(out_err)?));
    let file = tmp.0.as_mut().expect("staged until renamed");
    body.write_to(&mut Preallocating::new(file.as_file()))
        .map_err(out_err)?;
    readable(file).map_err(out_err)?;
    Ok(StagedFile {
        path,
        target: Target::Rename { tmp, at },
    })
}

/// Renames staged files into place, in order (the second step of
/// [`write_all_atomic`]), and writes those kept for writing in place; after
/// a failure the rest are removed.
pub fn commit(files: Vec<StagedFile<'_>>) -> Result<()> {
    let mut renaming = crate::cleanup::renaming();
    let mut result = Ok(());
    for StagedFile { path, target } in files {
        let out_err = |source| Error::Output {
            path: path.to_path_buf(),
            source,
        };
        match target {
            Target::Rename { mut tmp, at } => {
                let tmp = tmp.0.take().expect("staged until renamed");
                let tmp_path = tmp.path().to_path_buf();
                if result.is_ok() {
                    if let Err(e) = tmp.persist(&at) {
                        result = Err(out_err(e.error));
                    }
                }
                renaming.forget(&tmp_path);
            }
            Target::InPlace(bytes) if result.is_ok() => {
                // No truncation: a FIFO or device has no length, and a
                // `/dev/stdout` redirected to a file is appended to as
                // the shell opened it.
                let written = std::fs::OpenOptions::new()
                    .write(true)
                    .open(path)
                    .and_then(|mut f| f.write_all(&bytes).and_then(|()| f.flush()));
                match written {
                    Ok(()) => {}
                    Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {}
                    Err(e) => result = Err(out_err(e)),
                }
            }
            Target::InPlace(_) => {}
        }
    }
    result
}

/// A temporary output registered with [`crate::cleanup`]; forgotten there
/// when dropped (the file itself is removed by `NamedTempFile`).
struct Staged(Option<tempfile::NamedTempFile>);

impl Drop for Staged {
    fn drop(&mut self) {
        if let Some(tmp) = &self.0 {
            crate::cleanup::forget(tmp.path());
        }
    }
}

/// Temporary files are created 0600; outputs are ordinary files (0644).
fn readable(tmp: &tempfile::NamedTempFile) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        tmp.as_file()
            .set_permissions(std::fs::Permissions::from_mode(0o644))?;
    }
    Ok(())
}

/// Escapes text for XML and HTML, in attributes and content alike; control
/// characters XML 1.0 cannot hold become spaces.
pub fn escape_markup(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c if (c as u32) < 0x20 && !matches!(c, '\t' | '\n' | '\r') => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_body_in_batches_writes_every_item_once_in_order() {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(2)
            .build()
            .unwrap();
        for count in [0, 1, 3, 4, 5, 9, 17, 100] {
            let body = super::Body::in_batches(count, &pool, |range| {
                range.map(|i| format!("{i},").into_bytes()).collect()
            });
            let mut out = Vec::new();
            body.write_to(&mut out).unwrap();
            let want: String = (0..count).map(|i| format!("{i},")).collect();
            assert_eq!(String::from_utf8(out).unwrap(), want, "{count} items");
        }
    }

    use super::*;

    /// Takes at most 7 bytes a call (std's default `write_vectored` passes
    /// on only the first non-empty slice), so every short-write path runs.
    struct Trickle(Vec<u8>);

    impl Write for Trickle {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            let n = buf.len().min(7);
            self.0.extend_from_slice(&buf[..n]);
            Ok(n)
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    /// Records what is allocated; writes at most 7 bytes a call.
    struct Allocations {
        written: Vec<u8>,
        allocated: Vec<(u64, u64)>,
        declines: bool,
    }

    impl Write for Allocations {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            let n = buf.len().min(7);
            self.written.extend_from_slice(&buf[..n]);
            Ok(n)
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl Allocate for Allocations {
        fn allocate(&mut self, offset: u64, len: u64) -> bool {
            self.allocated.push((offset, len));
            !self.declines
        }
    }

    /// `count` pieces, piece `i` its number `i % period` times (so some are
    /// empty), and all of them in one.
    fn numbered_pieces(count: u32, period: u32) -> (Vec<Vec<u8>>, Vec<u8>) {
        let pieces: Vec<Vec<u8>> = (0..count)
            .map(|i| i.to_string().repeat((i % period) as usize).into_bytes())
            .collect();
        let all = pieces.concat();
        (pieces, all)
    }

    fn recording(declines: bool) -> Preallocating<Allocations> {
        Preallocating {
            inner: Allocations {
                written: Vec::new(),
                allocated: Vec::new(),
                declines,
            },
            written: 0,
            allocated: 0,
            enabled: true,
        }
    }

    #[test]
    fn each_byte_is_allocated_once_before_it_is_written() {
        let (pieces, want) = numbered_pieces(3000, 7);
        for declines in [false, true] {
            let mut out = recording(declines);
            Body::from(pieces.clone()).write_to(&mut out).unwrap();
            assert_eq!(out.inner.written, want);
            let allocated = &out.inner.allocated;
            if declines {
                // Asked once, never again.
                assert_eq!(allocated.len(), 1);
                continue;
            }
            // Ranges one after another from 0 to the end, none empty: all
            // of the file and nothing past it, each byte once.
            let mut end = 0;
            for &(offset, len) in allocated {
                assert_eq!(offset, end);
                assert!(len > 0);
                end += len;
            }
            assert_eq!(end, want.len() as u64);
            assert!(allocated.len() > 1, "{} calls", allocated.len());
        }
        // A caller that, after a short write, passes more than was left.
        let mut out = recording(false);
        assert_eq!(out.write_vectored(&[IoSlice::new(&[1; 10])]).unwrap(), 7);
        assert_eq!(out.write_vectored(&[IoSlice::new(&[2; 20])]).unwrap(), 7);
        assert_eq!(out.inner.allocated, [(0, 10), (10, 17)]);
    }

    #[test]
    fn a_staged_file_holds_exactly_its_body() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.json");
        let pieces: Vec<Vec<u8>> = (0..5000u32)
            .map(|i| format!("{i:>w$}", w = 1 + (i % 3000) as usize).into_bytes())
            .collect();
        let want = pieces.concat();
        commit(vec![stage(&path, &Body::from(pieces)).unwrap()]).unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), want);
    }

    #[test]
    fn a_body_is_written_whole_and_in_order() {
        // More pieces than one batch of slices, empty ones among them.
        let (pieces, want) = numbered_pieces(2500, 5);
        let body = Body::from(pieces);
        let mut trickle = Trickle(Vec::new());
        body.write_to(&mut trickle).unwrap();
        assert_eq!(trickle.0, want);
        let mut whole = Vec::new();
        body.write_to(&mut whole).unwrap();
        assert_eq!(whole, want);
    }
}
