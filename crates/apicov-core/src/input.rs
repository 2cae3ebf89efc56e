//! Inputs: audit-log files (paths or globs, in the order given), `-` for
//! standard input, gzip and zstd recognised by their magic bytes whatever the
//! name (read with the default `compression` feature). Regular files are
//! memory-mapped; compressed files, stdin, pipes and FIFOs are read as
//! streams.

use std::fs::File;
use std::io::{self, BufReader, Read};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use crate::error::{Error, Result};

/// One audit log named on the command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InputName {
    /// A file (or FIFO), by path.
    File(PathBuf),
    /// Standard input (`-`).
    Stdin,
}

impl InputName {
    /// The name for messages and reports.
    pub fn display(&self) -> String {
        match self {
            InputName::File(p) => p.display().to_string(),
            InputName::Stdin => "<stdin>".to_string(),
        }
    }

    fn path(&self) -> PathBuf {
        match self {
            InputName::File(p) => p.clone(),
            InputName::Stdin => PathBuf::from("<stdin>"),
        }
    }
}

/// Expands the `--audit-logs` arguments: an existing path is taken as is,
/// anything else with glob characters is expanded (sorted, so rotated
/// `audit-<time>.log` files come before the live `audit.log`), `-` is stdin.
pub fn expand(args: &[String]) -> Result<Vec<InputName>> {
    let mut names = Vec::new();
    for arg in args {
        if arg == "-" {
            names.push(InputName::Stdin);
            continue;
        }
        let path = Path::new(arg);
        if path.exists() || !arg.contains(['*', '?', '[']) {
            names.push(InputName::File(path.to_path_buf()));
            continue;
        }
        let found = glob_paths(arg)?;
        if found.is_empty() {
            return Err(Error::NoMatch {
                pattern: arg.clone(),
            });
        }
        names.extend(found.into_iter().map(InputName::File));
    }
    Ok(names)
}

/// The paths a glob matches, sorted. The `glob` crate skips names that
/// are not UTF-8; when only the last component has wildcards (`runs/*`, the
/// usual case) its directory is listed here and each name matched in its
/// lossy form, so such runs are read, not dropped.
pub fn glob_paths(arg: &str) -> Result<Vec<PathBuf>> {
    let bad = |e: glob::PatternError| Error::Usage(format!("{arg}: bad glob: {e}"));
    let is_glob = |s: &str| s.contains(['*', '?', '['].as_slice());
    let path = Path::new(arg);
    if let (Some(parent), Some(last)) = (path.parent(), path.file_name().and_then(|n| n.to_str())) {
        if !is_glob(&parent.to_string_lossy()) {
            let pattern = glob::Pattern::new(last).map_err(bad)?;
            let listed = if parent.as_os_str().is_empty() {
                Path::new(".")
            } else {
                parent
            };
            let mut found: Vec<PathBuf> = std::fs::read_dir(listed)
                .into_iter()
                .flatten()
                .filter_map(std::result::Result::ok)
                // With `glob::glob`'s default options (a leading dot is
                // matched by `*`, as it was before).
                .filter(|e| pattern.matches(&e.file_name().to_string_lossy()))
                .map(|e| parent.join(e.file_name()))
                .collect();
            found.sort();
            return Ok(found);
        }
    }
    let mut found = Vec::new();
    for entry in glob::glob(arg).map_err(bad)? {
        found.push(entry.map_err(|e| Error::input(e.path(), e.error()))?);
    }
    found.sort();
    Ok(found)
}

/// How regular files are read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
pub enum ReadMode {
    /// Memory-map regular files (falls back to streaming when mapping fails).
    #[default]
    Mmap,
    /// Read every input as a stream.
    Stream,
}

/// An opened input.
pub(crate) enum Opened {
    /// The whole file, mapped (or nothing, for an empty file).
    Mapped(Mapped),
    /// Lines arrive in blocks (stdin, pipes, compressed files, or
    /// [`ReadMode::Stream`]).
    Stream(Box<dyn Read + Send>),
}

/// Bytes of a mapped file, with the file kept open to check afterwards that
/// it was not truncated while it was read.
pub(crate) enum Mapped {
    /// A mapped file, kept open.
    Map {
        /// The mapping.
        map: memmap2::Mmap,
        /// The file, to check its length after the scan.
        file: File,
    },
    /// An empty file (nothing to map).
    Empty,
}

impl Mapped {
    /// The mapped bytes.
    pub fn bytes(&self) -> &[u8] {
        match self {
            Mapped::Map { map, .. } => map,
            Mapped::Empty => &[],
        }
    }

    /// Drops `range` of the mapping from this process's resident memory once
    /// it has been scanned and absorbed: the pages stay in the page cache and
    /// come back on a later touch, but RSS no longer grows with input size.
    pub fn release(&self, range: std::ops::Range<usize>) {
        #[cfg(unix)]
        if let Mapped::Map { map, .. } = self {
            let page = page_size();
            let start = range.start.next_multiple_of(page);
            let end = range.end.min(map.len()) / page * page;
            if end > start {
                // SAFETY: a read-only file mapping: dropped pages are re-read
                // from the file (page cache) when touched again.
                let _ = unsafe {
                    map.unchecked_advise_range(
                        memmap2::UncheckedAdvice::DontNeed,
                        start,
                        end - start,
                    )
                };
            }
        }
        #[cfg(not(unix))]
        let _ = range;
    }

    /// The file's size now: less than the mapping's when the file was
    /// truncated while (or after) it was read.
    pub fn len_now(&self) -> u64 {
        match self {
            Mapped::Map { file, .. } => file.metadata().map_or(0, |m| m.len()),
            Mapped::Empty => 0,
        }
    }
}

#[cfg(unix)]
fn page_size() -> usize {
    // SAFETY: sysconf has no preconditions.
    let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    if page > 0 {
        page as usize
    } else {
        4096
    }
}

/// How an input's bytes are compressed, known by their magic bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Compression {
    #[default]
    /// Plain text.
    None,
    /// gzip (one or more members).
    Gzip,
    /// Zstandard (one or more frames).
    Zstd,
}

impl Compression {
    /// The name used in reports, None for plain text.
    pub fn name(self) -> Option<&'static str> {
        match self {
            Compression::None => None,
            Compression::Gzip => Some("gzip"),
            Compression::Zstd => Some("zstd"),
        }
    }

    /// Reads the magic bytes at the start of `head`. A format apicov cannot
    /// read (or this build, without the `compression` feature) is the error,
    /// by name.
    fn sniff(head: &[u8]) -> std::result::Result<Compression, &'static str> {
        const UNSUPPORTED: [(&[u8], &str); 3] = [
            (&[0xfd, b'7', b'z', b'X', b'Z', 0x00], "xz"),
            (b"BZh", "bzip2"),
            (&[0x04, 0x22, 0x4d, 0x18], "lz4"),
        ];
        if head.starts_with(&[0x1f, 0x8b]) {
            return Compression::Gzip.readable();
        }
        if head.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
            return Compression::Zstd.readable();
        }
        for (magic, name) in UNSUPPORTED {
            if head.starts_with(magic) {
                return Err(name);
            }
        }
        Ok(Compression::None)
    }

    /// Itself, if this build reads it; else its name.
    fn readable(self) -> std::result::Result<Compression, &'static str> {
        if cfg!(feature = "compression") {
            Ok(self)
        } else {
            Err(self.name().unwrap_or_default())
        }
    }
}

/// An input ready to read, with what the progress bar and report need.
pub struct Source {
    /// What the input is called.
    pub name: InputName,
    /// Its bytes, mapped or as a stream.
    pub(crate) opened: Opened,
    /// How its bytes are compressed.
    pub compression: Compression,
    /// Size on disk, when known (compressed size for compressed files).
    pub disk_bytes: Option<u64>,
    /// Bytes of the underlying file read so far (for progress on streams).
    pub(crate) consumed: Arc<AtomicU64>,
}

/// The longest magic number [`Compression::sniff`] reads.
const HEAD_LEN: usize = 6;

/// Opens one input. Errors name the file. Regular files are mapped (in
/// `ReadMode::Mmap`); pipes, FIFOs, devices and process substitutions
/// (`<(zcat x.gz)`), which cannot be mapped or sought, are read as streams.
pub fn open(name: &InputName, mode: ReadMode) -> Result<Source> {
    match name {
        InputName::Stdin => open_stream(name, Box::new(io::stdin()), None),
        InputName::File(path) => {
            let err = |e: io::Error| Error::input(path, e);
            let file = File::open(path).map_err(err)?;
            let meta = file.metadata().map_err(err)?;
            if meta.is_dir() {
                return Err(Error::input(path, "is a directory"));
            }
            if !meta.is_file() || mode == ReadMode::Stream {
                let size = meta.is_file().then_some(meta.len());
                return open_stream(name, Box::new(file), size);
            }
            let mut head = [0u8; HEAD_LEN];
            let head_len = read_head_at(&file, &mut head).map_err(err)?;
            let compression =
                Compression::sniff(&head[..head_len]).map_err(|format| Error::Unreadable {
                    path: path.clone(),
                    format,
                })?;
            if compression != Compression::None {
                return open_stream(name, Box::new(file), Some(meta.len()));
            }
            if meta.len() == 0 {
                return Ok(Source {
                    name: name.clone(),
                    opened: Opened::Mapped(Mapped::Empty),
                    compression,
                    disk_bytes: Some(0),
                    consumed: Arc::default(),
                });
            }
            // SAFETY: the map is read-only. A file truncated while mapped
            // raises SIGBUS on reads past its new end; the pipeline scans a
            // mapping only under a `mapguard::Guard`, which turns that into
            // a "truncated while being read" error for this file.
            match unsafe { memmap2::MmapOptions::new().map(&file) } {
                Ok(map) => {
                    #[cfg(unix)]
                    let _ = map.advise(memmap2::Advice::Sequential);
                    // Pages read from disk through this mapping come in 2 MiB
                    // folios instead of 4 KiB pages (where the kernel and the
                    // file system allow: THP not `never`, large folios): a
                    // cold parse takes half the CPU and wall time, for fewer
                    // page-table entries to set, clear and miss in the TLB.
                    // Pages already cached stay as they are.
                    #[cfg(target_os = "linux")]
                    let _ = map.advise(memmap2::Advice::HugePage);
                    Ok(Source {
                        name: name.clone(),
                        opened: Opened::Mapped(Mapped::Map { map, file }),
                        compression,
                        disk_bytes: Some(meta.len()),
                        consumed: Arc::default(),
                    })
                }
                Err(_) => open_stream(name, Box::new(file), Some(meta.len())),
            }
        }
    }
}

/// Opens a stream: reads its first bytes to recognise the compression
/// without seeking (pipes cannot seek), then puts them back in front.
/// Opens a byte stream that is not a named file (an HTTP response body, a
/// download read as it arrives) as the input `name`: compression is
/// recognised as for files. `disk_bytes` is its size as stored, if known.
pub fn from_reader(
    name: InputName,
    reader: Box<dyn Read + Send>,
    disk_bytes: Option<u64>,
) -> Result<Source> {
    open_stream(&name, reader, disk_bytes)
}

fn open_stream(
    name: &InputName,
    mut reader: Box<dyn Read + Send>,
    disk_bytes: Option<u64>,
) -> Result<Source> {
    let path = name.path();
    let mut head = Vec::with_capacity(HEAD_LEN);
    (&mut reader)
        .take(HEAD_LEN as u64)
        .read_to_end(&mut head)
        .map_err(|e| Error::input(&path, e))?;
    let compression = Compression::sniff(&head).map_err(|format| Error::Unreadable {
        path: path.clone(),
        format,
    })?;
    let consumed = Arc::new(AtomicU64::new(0));
    let counted = Counting {
        inner: BufReader::with_capacity(1 << 20, io::Cursor::new(head).chain(reader)),
        count: consumed.clone(),
    };
    let opened: Box<dyn Read + Send> = match compression {
        // MultiGzDecoder: rotated logs are often concatenated gzip members,
        // and GzDecoder stops after the first.
        #[cfg(feature = "compression")]
        Compression::Gzip => Box::new(flate2::read::MultiGzDecoder::new(counted)),
        // zstd's decoder reads concatenated frames as one stream.
        #[cfg(feature = "compression")]
        Compression::Zstd => {
            Box::new(zstd::stream::read::Decoder::new(counted).map_err(|e| Error::input(&path, e))?)
        }
        // Refused by `sniff` in a build without decompressors.
        #[cfg(not(feature = "compression"))]
        Compression::Gzip | Compression::Zstd => unreachable!("sniffed as unreadable"),
        Compression::None => Box::new(counted),
    };
    Ok(Source {
        name: name.clone(),
        opened: Opened::Stream(opened),
        compression,
        disk_bytes,
        consumed,
    })
}

impl Source {
    /// The input's path (`-` for standard input).
    pub fn path(&self) -> PathBuf {
        self.name.path()
    }
}

/// Reads the first bytes of a regular file without moving its cursor.
fn read_head_at(file: &File, head: &mut [u8; HEAD_LEN]) -> io::Result<usize> {
    #[cfg(unix)]
    use std::os::unix::fs::FileExt;
    let mut n = 0;
    while n < head.len() {
        match file.read_at(&mut head[n..], n as u64) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

/// Counts bytes read from the underlying file, for progress.
struct Counting<R> {
    inner: R,
    count: Arc<AtomicU64>,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// gzip and zstd are read with the `compression` feature and refused
    /// by name without it; the formats apicov never reads, by name.
    #[test]
    fn compressions_are_known_by_their_magic_bytes() {
        let built = |c: Compression| {
            if cfg!(feature = "compression") {
                Ok(c)
            } else {
                Err(c.name().unwrap())
            }
        };
        assert_eq!(
            Compression::sniff(b"\x1f\x8b\x08"),
            built(Compression::Gzip)
        );
        assert_eq!(
            Compression::sniff(b"\x28\xb5\x2f\xfd\x00"),
            built(Compression::Zstd)
        );
        assert_eq!(Compression::sniff(b"BZh91"), Err("bzip2"));
        assert_eq!(Compression::sniff(b"{\"kind\""), Ok(Compression::None));
        assert_eq!(Compression::sniff(b""), Ok(Compression::None));
        let unreadable = |format| Error::Unreadable {
            path: "a.log".into(),
            format,
        };
        assert_eq!(
            unreadable("xz").to_string(),
            "a.log: compressed with xz, which apicov does not read"
        );
        assert_eq!(
            unreadable("gzip").to_string(),
            "a.log: compressed with gzip: this apicov was built without the `compression` feature"
        );
    }
}
