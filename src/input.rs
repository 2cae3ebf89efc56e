//! Inputs: audit-log files (paths or globs, in the order given), `-` for
//! standard input, gzip recognised by its magic bytes whatever the name.
//! Regular files are memory-mapped; gzip and stdin are read as streams.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use crate::error::{Error, Result};

/// One audit log named on the command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InputName {
    File(PathBuf),
    Stdin,
}

impl InputName {
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
        let matches = glob::glob(arg).map_err(|e| Error::Usage(format!("{arg}: bad glob: {e}")))?;
        let mut found: Vec<PathBuf> = Vec::new();
        for entry in matches {
            found.push(entry.map_err(|e| Error::input(e.path(), e.error()))?);
        }
        if found.is_empty() {
            return Err(Error::NoMatch {
                pattern: arg.clone(),
            });
        }
        found.sort();
        names.extend(found.into_iter().map(InputName::File));
    }
    Ok(names)
}

/// How regular files are read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum ReadMode {
    /// Memory-map regular files (falls back to streaming when mapping fails).
    #[default]
    Mmap,
    /// Read every input as a stream.
    Stream,
}

/// An opened input.
pub enum Opened {
    /// The whole file, mapped (or read, for an empty file).
    Mapped(Mapped),
    /// Lines arrive in blocks (stdin, gzip, or `--read-mode stream`).
    Stream(Box<dyn Read + Send>),
}

/// Bytes of a mapped file.
pub enum Mapped {
    Map(memmap2::Mmap),
    Empty,
}

impl Mapped {
    pub fn bytes(&self) -> &[u8] {
        match self {
            Mapped::Map(m) => m,
            Mapped::Empty => &[],
        }
    }
}

/// An input ready to read, with what the progress bar and report need.
pub struct Source {
    pub name: InputName,
    pub opened: Opened,
    pub gzip: bool,
    /// Size on disk, when known (compressed size for gzip).
    pub disk_bytes: Option<u64>,
    /// Bytes of the underlying file read so far (for progress on streams).
    pub consumed: Arc<AtomicU64>,
}

const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// Opens one input. Errors name the file.
pub fn open(name: &InputName, mode: ReadMode) -> Result<Source> {
    let consumed = Arc::new(AtomicU64::new(0));
    match name {
        InputName::Stdin => {
            let mut reader = BufReader::with_capacity(1 << 20, io::stdin());
            let head = reader.fill_buf().map_err(|e| Error::input("<stdin>", e))?;
            let gzip = head.starts_with(&GZIP_MAGIC);
            let counted = Counting {
                inner: reader,
                count: consumed.clone(),
            };
            Ok(Source {
                name: name.clone(),
                opened: Opened::Stream(stream(counted, gzip)),
                gzip,
                disk_bytes: None,
                consumed,
            })
        }
        InputName::File(path) => {
            let err = |e: io::Error| Error::input(path, e);
            let file = File::open(path).map_err(err)?;
            let meta = file.metadata().map_err(err)?;
            if meta.is_dir() {
                return Err(Error::input(path, "is a directory"));
            }
            let mut head = [0u8; 2];
            let head_len = read_head(&file, &mut head).map_err(err)?;
            let gzip = head_len == 2 && head == GZIP_MAGIC;
            let disk_bytes = Some(meta.len());
            let opened = if gzip || mode == ReadMode::Stream || !meta.is_file() {
                let reader = BufReader::with_capacity(1 << 20, file);
                let counted = Counting {
                    inner: reader,
                    count: consumed.clone(),
                };
                Opened::Stream(stream(counted, gzip))
            } else if meta.len() == 0 {
                Opened::Mapped(Mapped::Empty)
            } else {
                // SAFETY: the map is read-only. A file truncated or rewritten
                // while mapped is undefined behaviour (SIGBUS); audit logs are
                // rotated, not rewritten, so apicov maps only whole files it was
                // pointed at, and streams everything else (`--read-mode stream`
                // for logs still being written).
                match unsafe { memmap2::MmapOptions::new().map(&file) } {
                    Ok(map) => {
                        #[cfg(unix)]
                        let _ = map.advise(memmap2::Advice::Sequential);
                        Opened::Mapped(Mapped::Map(map))
                    }
                    Err(_) => {
                        let file = File::open(path).map_err(err)?;
                        let counted = Counting {
                            inner: BufReader::with_capacity(1 << 20, file),
                            count: consumed.clone(),
                        };
                        Opened::Stream(stream(counted, false))
                    }
                }
            };
            Ok(Source {
                name: name.clone(),
                opened,
                gzip,
                disk_bytes,
                consumed,
            })
        }
    }
}

impl Source {
    pub fn path(&self) -> PathBuf {
        self.name.path()
    }
}

fn read_head(file: &File, head: &mut [u8; 2]) -> io::Result<usize> {
    use std::io::{Seek, SeekFrom};
    let mut f = file;
    let mut n = 0;
    while n < head.len() {
        match f.read(&mut head[n..])? {
            0 => break,
            k => n += k,
        }
    }
    f.seek(SeekFrom::Start(0))?;
    Ok(n)
}

fn stream<R: Read + Send + 'static>(reader: R, gzip: bool) -> Box<dyn Read + Send> {
    if gzip {
        // MultiGzDecoder: rotated logs are often concatenated gzip members,
        // and GzDecoder stops after the first.
        Box::new(flate2::read::MultiGzDecoder::new(reader))
    } else {
        Box::new(reader)
    }
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
