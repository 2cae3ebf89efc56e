//! Documents named by a path, a `file://` URL or an `http(s)://` URL: the
//! swagger spec and the two tracking lists.
//!
//! Remote documents are cached on disk, one file per URL, and revalidated with
//! the server (`If-None-Match` / `If-Modified-Since`) on every use. The reference
//! parser instead reuses `kubernetes_swagger_cache.json` from the working
//! directory for an hour whatever URL it came from, which silently mixes specs.
//! With `offline`, only the cache is used.

use std::fs;
use std::path::{Path, PathBuf};

use apicov_core::error::{Error, Result};

/// Upstream documents the reference scripts use when no flag is given.
pub const DEFAULT_SWAGGER_URL: &str =
    "https://raw.githubusercontent.com/kubernetes/kubernetes/refs/heads/master/api/openapi-spec/swagger.json";
/// The ineligible-endpoints list the reference scripts use by default.
pub const DEFAULT_INELIGIBLE_URL: &str = "https://raw.githubusercontent.com/kubernetes/kubernetes/master/test/conformance/testdata/ineligible_endpoints.yaml";
/// The pending-eligible-endpoints list the reference scripts use by default.
pub const DEFAULT_PENDING_URL: &str = "https://raw.githubusercontent.com/kubernetes/kubernetes/refs/heads/master/test/conformance/testdata/pending_eligible_endpoints.yaml";

/// Largest remote document accepted (the 1.36 swagger is 4 MB).
#[cfg(feature = "remote")]
const MAX_DOCUMENT_BYTES: u64 = 256 << 20;

/// How remote documents are fetched and cached.
#[derive(Debug, Clone)]
pub struct Fetcher {
    cache_dir: PathBuf,
    offline: bool,
}

/// A document and the name to use for it in messages.
#[derive(Debug)]
pub struct Document {
    /// The name used for it in messages: its path or URL.
    pub name: String,
    body: Body,
}

/// Where a document's bytes are.
#[derive(Debug)]
enum Body {
    /// Downloaded, or read from the cache directory.
    Bytes(Vec<u8>),
    /// A local file, open (so a missing one is reported with the others),
    /// read on first use: a reader that needs only the document's hash (the
    /// catalogue cache's hit) takes it from a mapping instead, with no copy.
    Local {
        file: fs::File,
        len: u64,
        read: std::cell::OnceCell<Vec<u8>>,
    },
}

/// Local documents this large are hashed through a mapping (the 4 MB spec
/// hashes in about a quarter of the time it takes read into fresh memory);
/// smaller ones are read.
pub(crate) const MAP_AT_LEAST: u64 = 1 << 20;

impl Document {
    /// A document held in memory.
    pub fn from_bytes(name: impl Into<String>, bytes: Vec<u8>) -> Document {
        Document {
            name: name.into(),
            body: Body::Bytes(bytes),
        }
    }

    /// The document's bytes (a local file is read on the first call).
    pub fn bytes(&self) -> Result<&[u8]> {
        match &self.body {
            Body::Bytes(bytes) => Ok(bytes),
            Body::Local { file, len, read } => {
                if let Some(bytes) = read.get() {
                    return Ok(bytes);
                }
                let bytes = read_populated(file, *len).map_err(|e| Error::Source {
                    source_name: self.name.clone(),
                    message: e.to_string(),
                })?;
                Ok(read.get_or_init(|| bytes))
            }
        }
    }

    /// Whether a local file's bytes were read (tests: a hash through a
    /// mapping reads none).
    #[cfg(test)]
    pub(crate) fn was_read(&self) -> bool {
        matches!(&self.body, Body::Local { read, .. } if read.get().is_some())
    }

    /// `f` of the bytes of a large local file not read yet, through a
    /// mapping of it; None for any other document, or when the mapping
    /// fails or the file is truncated while `f` reads it (the pages past
    /// its new end read as zeros, see `mapguard`). A reader that must see
    /// one version of the file throughout (a parse stored under a hash)
    /// uses [`Document::bytes`]: a mapping shows writes made while it is read.
    pub fn with_mapped<T>(&self, f: impl FnOnce(&[u8]) -> T) -> Option<T> {
        let Body::Local { file, len, read } = &self.body else {
            return None;
        };
        if *len < MAP_AT_LEAST || read.get().is_some() {
            return None;
        }
        // SAFETY: the mapping is read-only and read only under a guard that
        // turns a truncation's SIGBUS into zero pages and a flag.
        let map = unsafe { memmap2::Mmap::map(file) }.ok()?;
        let guard = apicov_core::mapguard::Guard::new(&map)?;
        let value = f(&map);
        (!guard.faulted()).then_some(value)
    }
}

impl Fetcher {
    /// `cache_dir` None means `$APICOV_CACHE_DIR`, else `$XDG_CACHE_HOME/apicov`,
    /// else `~/.cache/apicov`.
    pub fn new(cache_dir: Option<PathBuf>, offline: bool) -> Fetcher {
        let cache_dir = cache_dir
            .or_else(|| std::env::var_os("APICOV_CACHE_DIR").map(PathBuf::from))
            .or_else(|| std::env::var_os("XDG_CACHE_HOME").map(|d| PathBuf::from(d).join("apicov")))
            .or_else(|| std::env::var_os("HOME").map(|d| PathBuf::from(d).join(".cache/apicov")))
            .unwrap_or_else(|| std::env::temp_dir().join("apicov-cache"));
        Fetcher { cache_dir, offline }
    }

    /// The cache directory (remote documents; `history` keeps per-run
    /// results below it).
    pub fn cache_dir(&self) -> &std::path::Path {
        &self.cache_dir
    }

    /// Whether remote documents come from the cache only.
    pub fn offline(&self) -> bool {
        self.offline
    }

    /// Reads `location`: a path, `file://…` or `http(s)://…`.
    pub fn get(&self, location: &str) -> Result<Document> {
        if let Some(rest) = location.strip_prefix("file://") {
            return read_local(location, Path::new(rest));
        }
        if location.starts_with("http://") || location.starts_with("https://") {
            return self.get_remote(location);
        }
        read_local(location, Path::new(location))
    }

    fn cache_paths(&self, url: &str) -> (PathBuf, PathBuf) {
        let stem = cache_key(url);
        (
            self.cache_dir.join(format!("{stem}.body")),
            self.cache_dir.join(format!("{stem}.meta")),
        )
    }

    fn get_remote(&self, url: &str) -> Result<Document> {
        let (body_path, meta_path) = self.cache_paths(url);
        let cached = fs::read(&body_path).ok();
        let meta: CacheMeta = fs::read(&meta_path)
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .unwrap_or_default();
        let unreachable = |message: String| Error::Unreachable {
            source_name: url.to_string(),
            message,
        };
        if self.offline {
            return match cached {
                Some(bytes) => Ok(Document::from_bytes(url, bytes)),
                None => Err(unreachable(format!(
                    "--offline and no cached copy in {}",
                    self.cache_dir.display()
                ))),
            };
        }
        self.download(url, cached, &meta, &body_path, &meta_path)
    }

    /// Fetches `url`, revalidating the `cached` copy described by `meta`,
    /// and caches the answer.
    #[cfg(feature = "remote")]
    fn download(
        &self,
        url: &str,
        cached: Option<Vec<u8>>,
        meta: &CacheMeta,
        body_path: &Path,
        meta_path: &Path,
    ) -> Result<Document> {
        let err = |message: String| Error::Source {
            source_name: url.to_string(),
            message,
        };
        let unreachable = |message: String| Error::Unreachable {
            source_name: url.to_string(),
            message,
        };
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(std::time::Duration::from_secs(60)))
            .build()
            .into();
        let mut request = agent.get(url);
        if cached.is_some() {
            if let Some(etag) = &meta.etag {
                request = request.header("If-None-Match", etag);
            }
            if let Some(modified) = &meta.last_modified {
                request = request.header("If-Modified-Since", modified);
            }
        }
        let mut response = match request.call() {
            Ok(r) => r,
            Err(e) => {
                return match cached {
                    Some(bytes) => {
                        eprintln!("apicov: warning: {url}: {e}; using the cached copy");
                        Ok(Document::from_bytes(url, bytes))
                    }
                    None => Err(unreachable(e.to_string())),
                }
            }
        };
        let status = response.status().as_u16();
        if status == 304 {
            if let Some(bytes) = cached {
                return Ok(Document::from_bytes(url, bytes));
            }
        }
        if !(200..300).contains(&status) {
            return Err(err(format!("HTTP status {status}")));
        }
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
        };
        let new_meta = CacheMeta {
            url: url.to_string(),
            etag: header("etag"),
            last_modified: header("last-modified"),
        };
        let bytes = response
            .body_mut()
            .with_config()
            .limit(MAX_DOCUMENT_BYTES)
            .read_to_vec()
            .map_err(|e| err(e.to_string()))?;
        // A cache that cannot be written costs a download next time, nothing more.
        if fs::create_dir_all(&self.cache_dir).is_ok() {
            let _ = apicov_report::report::write_atomic(body_path, &bytes);
            if let Ok(meta_bytes) = serde_json::to_vec(&new_meta) {
                let _ = apicov_report::report::write_atomic(meta_path, &meta_bytes);
            }
        }
        Ok(Document::from_bytes(url, bytes))
    }

    /// Built without the `remote` feature: only the cache can answer.
    #[cfg(not(feature = "remote"))]
    fn download(
        &self,
        url: &str,
        _cached: Option<Vec<u8>>,
        _meta: &CacheMeta,
        _body_path: &Path,
        _meta_path: &Path,
    ) -> Result<Document> {
        Err(Error::Unreachable {
            source_name: url.to_string(),
            message: "this apicov was built without the `remote` feature: download the \
                      document and pass its path"
                .into(),
        })
    }
}

/// A document a command needs: the flag that names it and where it is.
#[derive(Debug, Clone, Copy)]
pub struct Wanted<'a> {
    /// The flag, as messages name it (`--swagger`).
    pub flag: &'static str,
    /// The path or URL given.
    pub location: &'a str,
}

/// Whether `location` is fetched over the network.
pub fn is_remote(location: &str) -> bool {
    ["http://", "https://", "gs://"]
        .iter()
        .any(|scheme| location.starts_with(scheme))
}

/// Fetches every wanted document, in order. Failures do not stop the others:
/// a user without network learns in one run about every input to replace
/// (`failed` holds failures found before, such as baseline discovery).
pub fn fetch_all(
    fetcher: &Fetcher,
    wanted: &[Wanted],
    mut failed: Vec<(&'static str, Error)>,
) -> Result<Vec<Document>> {
    let mut docs = Vec::with_capacity(wanted.len());
    for w in wanted {
        match fetcher.get(w.location) {
            Ok(doc) => docs.push(doc),
            Err(e) => failed.push((w.flag, e)),
        }
    }
    if failed.is_empty() {
        return Ok(docs);
    }
    let remote = failed
        .iter()
        .any(|(_, e)| matches!(e, Error::Unreachable { .. }));
    if failed.len() == 1 && !remote {
        // A missing local file, an HTTP error: its own line says it all.
        return Err(failed.remove(0).1);
    }
    Err(Error::Other(Box::new(Missing {
        inputs: failed,
        cache_dir: fetcher.cache_dir.clone(),
        offline: fetcher.offline,
        remote,
    })))
}

/// Inputs that could not be obtained, each with the flag that replaces it
/// (several lines: one per input, then what to do without network).
#[derive(Debug)]
pub struct Missing {
    /// Each missing input: the flag naming it and why it is missing.
    pub inputs: Vec<(&'static str, Error)>,
    /// Where remote documents are cached.
    pub cache_dir: PathBuf,
    /// `--offline` was given.
    pub offline: bool,
    /// Some missing input is remote.
    pub remote: bool,
}

impl std::error::Error for Missing {}

/// `main` prefixes the first line with `apicov: error: `, so later lines
/// carry their own prefix.
impl std::fmt::Display for Missing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut text = self
            .inputs
            .iter()
            .map(|(flag, err)| format!("{err}; pass a local copy with {flag} FILE"))
            .collect::<Vec<_>>()
            .join("\napicov: error: ");
        if self.remote {
            let cache_dir = self.cache_dir.display();
            let hint = if self.offline {
                format!(
                    "--offline reads only the cache ({cache_dir}); run once without --offline to \
                     fill it, or pass local copies with the flags above"
                )
            } else {
                format!(
                    "without network, pass local copies with the flags above (a kubernetes \
                     checkout has api/openapi-spec/swagger.json and test/conformance/testdata/*.yaml), \
                     or run once with network to fill the cache ({cache_dir}) and then add --offline"
                )
            };
            text.push_str("\napicov: hint: ");
            text.push_str(&hint);
        }
        f.write_str(&text)
    }
}

/// Opens a local document; its bytes are read on first use.
fn read_local(name: &str, path: &Path) -> Result<Document> {
    let opened = fs::File::open(path).and_then(|file| {
        let meta = file.metadata()?;
        if meta.is_dir() {
            return Err(std::io::Error::from(std::io::ErrorKind::IsADirectory));
        }
        Ok((file, meta.len()))
    });
    match opened {
        Ok((file, len)) => Ok(Document {
            name: name.to_string(),
            body: Body::Local {
                file,
                len,
                read: Default::default(),
            },
        }),
        Err(e) => Err(Error::Source {
            source_name: name.to_string(),
            message: e.to_string(),
        }),
    }
}

/// `fs::read`, with the buffer's pages faulted in by one `madvise` first.
/// The heap is in 4 KiB pages (see src/main.rs), and the 4 MB spec read
/// into fresh memory took a page fault a page. `MADV_POPULATE_WRITE` (Linux
/// 5.14) fills them in one call (a fifth fewer page faults in a Metadata
/// parse); where it is missing, the read faults them in.
fn read_populated(mut file: &fs::File, len: u64) -> std::io::Result<Vec<u8>> {
    use std::io::Read;
    let mut bytes = Vec::with_capacity(usize::try_from(len).unwrap_or(0).saturating_add(1));
    apicov_core::pages::populate(bytes.spare_capacity_mut());
    file.read_to_end(&mut bytes)?;
    Ok(bytes)
}

/// Validators kept beside a cached body.
#[derive(Debug, Default, serde::Serialize, serde::Deserialize)]
struct CacheMeta {
    url: String,
    etag: Option<String>,
    last_modified: Option<String>,
}

/// A file name for a URL: readable prefix plus a stable 64-bit FNV-1a hash, so
/// two URLs never share a cache entry.
fn cache_key(url: &str) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for b in url.bytes() {
        hash ^= u64::from(b);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    let tail: String = url
        .rsplit('/')
        .next()
        .unwrap_or("")
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '.' || *c == '-' || *c == '_')
        .take(40)
        .collect();
    format!("{hash:016x}-{tail}")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The pages faulted in ahead change nothing read: every size around a
    /// page boundary reads back byte for byte.
    #[test]
    fn a_populated_read_is_the_file() {
        let dir = tempfile::tempdir().unwrap();
        for size in [0, 1, 4095, 4096, 4097, 8191, 65_537, 1 << 20] {
            let path = dir.path().join(format!("f{size}"));
            let bytes: Vec<u8> = (0..size).map(|i| (i * 7 + size) as u8).collect();
            fs::write(&path, &bytes).unwrap();
            let file = fs::File::open(&path).unwrap();
            assert_eq!(read_populated(&file, size).unwrap(), bytes, "{size} bytes");
        }
    }

    /// A large local document is seen through a mapping until it is read;
    /// one truncated while it is seen there gives no value (and no SIGBUS).
    #[test]
    fn a_mapped_document_gives_its_bytes_or_nothing_when_truncated() {
        // Mappings are read only under the guard `main` installs.
        assert!(apicov_core::mapguard::install());
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("big.json");
        let bytes: Vec<u8> = (0..MAP_AT_LEAST as usize + 4097)
            .map(|i| (i % 251) as u8)
            .collect();
        let sum = |b: &[u8]| b.iter().map(|&x| u64::from(x)).sum::<u64>();
        fs::write(&path, &bytes).unwrap();
        let doc = read_local("big.json", &path).unwrap();
        assert_eq!(doc.with_mapped(sum), Some(sum(&bytes)));
        assert!(!doc.was_read());
        let truncated = doc.with_mapped(|b| {
            fs::File::options()
                .write(true)
                .open(&path)
                .unwrap()
                .set_len(4096)
                .unwrap();
            sum(b)
        });
        assert_eq!(truncated, None);
        // Read now: what the file holds now.
        assert_eq!(doc.bytes().unwrap(), &bytes[..4096]);
        assert!(doc.was_read());
        assert_eq!(doc.with_mapped(sum), None, "read: no mapping");

        let small = dir.path().join("small.json");
        fs::write(&small, &bytes[..1000]).unwrap();
        let doc = read_local("small.json", &small).unwrap();
        assert_eq!(doc.with_mapped(sum), None);
        assert_eq!(doc.bytes().unwrap(), &bytes[..1000]);

        let err = read_local("a-dir", dir.path()).unwrap_err().to_string();
        assert!(err.starts_with("a-dir: "), "{err}");
        assert!(read_local("missing", &dir.path().join("missing")).is_err());
    }

    #[test]
    fn cache_keys_differ_per_url_and_are_stable() {
        let a = cache_key("https://example.com/a/swagger.json");
        let b = cache_key("https://example.com/b/swagger.json");
        assert_ne!(a, b);
        assert!(a.ends_with("-swagger.json"), "{a}");
        assert_eq!(a, cache_key("https://example.com/a/swagger.json"));
    }
}
