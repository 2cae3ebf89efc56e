//! The compiled-catalogue cache: the operation catalogue of a spec, stored in
//! the cache directory (`--cache-dir`, see `source::Fetcher`) under a hash of
//! the spec's bytes, so that a run against a spec seen before skips the JSON
//! parse. The tracking lists are kept the same way (their YAML was a fifth of
//! what was left once the spec was cached).
//!
//! A cache hit takes about a ninth of `Catalogue::from_json`'s time on the
//! 4 MB specs (benches/spec.rs). The catalogue stored is the one
//! [`Catalogue::from_json`] built from the same bytes, so it is the same
//! catalogue (tested for the four real specs), and a spec that fails to parse
//! is never stored: its error is the parse's, every time.
//!
//! An entry is keyed by the document's bytes and by the build that wrote it
//! (the apicov version, this file's layout version and the fingerprint of
//! apicov-core's `spec.rs` or `lists.rs`, whose rules read the document), so editing the document or
//! changing apicov never reads a stale entry. The file carries its own length and checksum: a
//! truncated, corrupt or foreign file is a miss and is rewritten, never an
//! error. Files are written through a temporary file and a rename
//! (`report::write_atomic`); at most [`KEEP`] entries stay, the oldest go.
//!
//! Why a cache and not a faster parse: serde_json merely skipping the whole
//! document, the floor of any parse that still rejects broken JSON, takes
//! about three quarters of the typed parse's time. Only not parsing gets far
//! below that.

use std::fs;
use std::path::{Path, PathBuf};

use twox_hash::XxHash3_128;

use crate::source::{Document, Fetcher};
use apicov_core::error::Result;
use apicov_core::lists::{EndpointList, IgnoredEntry, ListEntry};
use apicov_core::spec::{Catalogue, Method, Operation, OperationKind};

/// The first bytes of every entry.
const MAGIC: &[u8; 8] = b"apicovCC";
/// The entry layout; bump on any change to [`encode`].
const LAYOUT: u32 = 1;
/// Entries kept in the cache directory; writing one more removes the oldest.
pub const KEEP: usize = 32;
/// The subdirectory of the cache directory that holds entries.
const SUBDIR: &str = "catalogues";
/// Header: magic, layout, build, spec length, spec hash, payload length, payload hash.
const HEADER_LEN: usize = 8 + 4 + 8 + 8 + 16 + 8 + 16;

/// The spec's catalogue: from the cache when it holds one for these bytes
/// and this build, else parsed (and stored for next time). Errors are
/// [`Catalogue::from_json`]'s; a cache that cannot be read or written costs
/// only the parse.
///
/// A hit needs only the spec's hash: a large local spec is hashed through a
/// mapping, not read (see [`Document::with_mapped`]). A miss parses the bytes
/// read, which are hashed again, so the entry stored is keyed by the bytes
/// parsed even if the file changed in between.
pub fn load(fetcher: &Fetcher, doc: &Document) -> Result<Catalogue> {
    let dir = fetcher.cache_dir();
    let hit = doc.with_mapped(|spec| lookup(dir, &Key::of(Rules::Spec, spec), decode_catalogue));
    if let Some(Some(catalogue)) = hit {
        return Ok(catalogue);
    }
    load_in(dir, doc.bytes()?, &doc.name)
}

/// [`load`] with an explicit cache directory.
pub fn load_in(cache_dir: &Path, spec: &[u8], source_name: &str) -> Result<Catalogue> {
    cached(
        cache_dir,
        &Key::of(Rules::Spec, spec),
        encode_catalogue,
        decode_catalogue,
        || Catalogue::from_json(spec, source_name),
    )
}

/// A tracking list: from the cache when it holds one for these bytes and
/// this build, else parsed (and stored). Errors are [`EndpointList::parse`]'s.
pub fn load_list(fetcher: &Fetcher, doc: &Document) -> Result<EndpointList> {
    load_list_in(fetcher.cache_dir(), doc)
}

/// [`load_list`] with an explicit cache directory.
pub fn load_list_in(cache_dir: &Path, doc: &Document) -> Result<EndpointList> {
    let bytes = doc.bytes()?;
    cached(
        cache_dir,
        &Key::of(Rules::List, bytes),
        encode_list,
        |r| decode_list(r, &doc.name),
        || EndpointList::parse(bytes, &doc.name),
    )
}

/// The value stored for `key`, or `build`'s (stored for next time).
fn cached<T>(
    cache_dir: &Path,
    key: &Key,
    encode: impl Fn(&T) -> Vec<u8>,
    decode: impl Fn(&mut Reader) -> Option<T>,
    build: impl FnOnce() -> Result<T>,
) -> Result<T> {
    if let Some(value) = lookup(cache_dir, key, decode) {
        return Ok(value);
    }
    let value = build()?;
    store(&entry_path(cache_dir, key), &entry(key, &encode(&value)));
    Ok(value)
}

/// The value stored for `key`, if the cache holds a sound entry for it.
fn lookup<T>(cache_dir: &Path, key: &Key, decode: impl Fn(&mut Reader) -> Option<T>) -> Option<T> {
    let entry = fs::read(entry_path(cache_dir, key)).ok()?;
    decode_entry(&entry, key, decode)
}

/// Where the entry for `spec` lives.
pub fn entry_path_for(cache_dir: &Path, spec: &[u8]) -> PathBuf {
    entry_path(cache_dir, &Key::of(Rules::Spec, spec))
}

/// Where the entry for a tracking list with these bytes lives.
pub fn list_entry_path_for(cache_dir: &Path, list: &[u8]) -> PathBuf {
    entry_path(cache_dir, &Key::of(Rules::List, list))
}

fn entry_path(cache_dir: &Path, key: &Key) -> PathBuf {
    cache_dir
        .join(SUBDIR)
        .join(format!("{:032x}-{}.bin", key.spec_hash, key.spec_len))
}

/// Which rules read a document: the module whose text is part of the key.
#[derive(Clone, Copy)]
enum Rules {
    Spec,
    List,
}

/// What an entry must match to be used.
struct Key {
    /// The build: apicov version, [`LAYOUT`] and the rules' fingerprint.
    build: u64,
    spec_len: u64,
    /// XXH3-128 of the document's bytes, seeded with `build`.
    spec_hash: u128,
}

impl Key {
    fn of(rules: Rules, bytes: &[u8]) -> Key {
        let build = build_fingerprint(rules);
        Key {
            build,
            spec_len: bytes.len() as u64,
            spec_hash: XxHash3_128::oneshot_with_seed(build, bytes),
        }
    }
}

/// The build's fingerprint: two builds with the same one read every document
/// alike. `spec.rs` and `lists.rs` of apicov-core hold the rules, so their
/// text is part of it, through core's `RULES_VERSION` constants (a rule
/// changed between releases invalidates entries without a version bump).
fn build_fingerprint(rules: Rules) -> u64 {
    let rules_version = match rules {
        Rules::Spec => apicov_core::spec::RULES_VERSION,
        Rules::List => apicov_core::lists::RULES_VERSION,
    };
    fingerprint_of(rules_version)
}

/// [`build_fingerprint`] for rules with this `RULES_VERSION`.
fn fingerprint_of(rules_version: u64) -> u64 {
    let mut text = Vec::new();
    text.extend_from_slice(env!("CARGO_PKG_VERSION").as_bytes());
    text.push(0);
    text.extend_from_slice(&LAYOUT.to_le_bytes());
    text.extend_from_slice(&rules_version.to_le_bytes());
    XxHash3_128::oneshot(&text) as u64
}

/// Writes an entry and trims the directory to [`KEEP`] entries. Failures are
/// ignored: a cache that cannot be written costs a parse next time.
fn store(path: &Path, entry: &[u8]) {
    let Some(dir) = path.parent() else {
        return;
    };
    if fs::create_dir_all(dir).is_err() || apicov_report::report::write_atomic(path, entry).is_err()
    {
        return;
    }
    prune(dir, path);
}

/// Removes the oldest entries beyond [`KEEP`] (by modification time), never `keep`.
fn prune(dir: &Path, keep: &Path) {
    let Ok(read) = fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<(std::time::SystemTime, PathBuf)> = read
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "bin") && p != keep)
        .filter_map(|p| Some((fs::metadata(&p).ok()?.modified().ok()?, p)))
        .collect();
    if entries.len() < KEEP {
        return;
    }
    entries.sort();
    for (_, old) in &entries[..=entries.len() - KEEP] {
        let _ = fs::remove_file(old);
    }
}

/// An entry: header, then the payload.
fn entry(key: &Key, payload: &[u8]) -> Vec<u8> {
    let mut entry = Vec::with_capacity(HEADER_LEN + payload.len());
    entry.extend_from_slice(MAGIC);
    entry.extend_from_slice(&LAYOUT.to_le_bytes());
    entry.extend_from_slice(&key.build.to_le_bytes());
    entry.extend_from_slice(&key.spec_len.to_le_bytes());
    entry.extend_from_slice(&key.spec_hash.to_le_bytes());
    entry.extend_from_slice(&(payload.len() as u64).to_le_bytes());
    entry.extend_from_slice(&XxHash3_128::oneshot(payload).to_le_bytes());
    entry.extend_from_slice(payload);
    entry
}

fn encode_catalogue(catalogue: &Catalogue) -> Vec<u8> {
    let mut payload = Vec::with_capacity(catalogue.len() * 128);
    put_opt(&mut payload, catalogue.version());
    payload.extend_from_slice(&(catalogue.len() as u32).to_le_bytes());
    for (_, op) in catalogue.operations() {
        put_str(&mut payload, &op.id);
        put_str(&mut payload, &op.template);
        put_opt(&mut payload, op.group.as_deref());
        put_opt(&mut payload, op.version.as_deref());
        payload.extend_from_slice(&[
            op.method.index() as u8,
            op.kind as u8,
            u8::from(op.deprecated),
            u8::from(op.stable),
            u8::from(op.observable),
        ]);
    }
    payload
}

fn encode_list(list: &EndpointList) -> Vec<u8> {
    let mut payload = Vec::new();
    payload.extend_from_slice(&(list.entries.len() as u32).to_le_bytes());
    for entry in &list.entries {
        put_str(&mut payload, &entry.endpoint);
        put_opt(&mut payload, entry.reason.as_deref());
        put_opt(&mut payload, entry.link.as_deref());
        payload.extend_from_slice(&(entry.line as u64).to_le_bytes());
    }
    payload.extend_from_slice(&(list.ignored.len() as u32).to_le_bytes());
    for ignored in &list.ignored {
        payload.extend_from_slice(&(ignored.line as u64).to_le_bytes());
        put_str(&mut payload, &ignored.why);
    }
    payload
}

fn put_str(out: &mut Vec<u8>, s: &str) {
    out.extend_from_slice(&(s.len() as u32).to_le_bytes());
    out.extend_from_slice(s.as_bytes());
}

fn put_opt(out: &mut Vec<u8>, s: Option<&str>) {
    match s {
        None => out.push(0),
        Some(s) => {
            out.push(1);
            put_str(out, s);
        }
    }
}

/// The value of an entry written for `key`, or None for anything else:
/// another document or build, a truncated or corrupt file.
fn decode_entry<T>(
    entry: &[u8],
    key: &Key,
    decode: impl Fn(&mut Reader) -> Option<T>,
) -> Option<T> {
    let mut r = Reader(entry);
    if r.take(8)? != MAGIC
        || r.u32()? != LAYOUT
        || r.u64()? != key.build
        || r.u64()? != key.spec_len
        || r.u128()? != key.spec_hash
    {
        return None;
    }
    let payload_len = usize::try_from(r.u64()?).ok()?;
    let payload_hash = r.u128()?;
    if r.0.len() != payload_len || XxHash3_128::oneshot(r.0) != payload_hash {
        return None;
    }
    let value = decode(&mut r)?;
    r.0.is_empty().then_some(value)
}

fn decode_catalogue(r: &mut Reader) -> Option<Catalogue> {
    let version = r.opt()?;
    let count = r.u32()? as usize;
    // Bounded by the payload (an operation takes at least 15 bytes), so a
    // corrupt count cannot ask for a huge allocation.
    let mut operations = Vec::with_capacity(count.min(r.0.len() / 15));
    for _ in 0..count {
        let id = r.string()?;
        let template = r.string()?;
        let group = r.opt()?;
        let version = r.opt()?;
        let [method, kind, deprecated, stable, observable] = r.take(5)? else {
            return None;
        };
        operations.push(Operation {
            id,
            method: *Method::ALL.get(usize::from(*method))?,
            template,
            group,
            version,
            kind: *OperationKind::ALL.get(usize::from(*kind))?,
            deprecated: flag(*deprecated)?,
            stable: flag(*stable)?,
            observable: flag(*observable)?,
        });
    }
    if operations.is_empty() {
        return None;
    }
    Catalogue::from_operations(operations, version)
}

fn decode_list(r: &mut Reader, source: &str) -> Option<EndpointList> {
    let count = r.u32()? as usize;
    let mut entries = Vec::with_capacity(count.min(r.0.len() / 14));
    for _ in 0..count {
        entries.push(ListEntry {
            endpoint: r.string()?,
            reason: r.opt()?,
            link: r.opt()?,
            line: usize::try_from(r.u64()?).ok()?,
        });
    }
    let count = r.u32()? as usize;
    let mut ignored = Vec::with_capacity(count.min(r.0.len() / 12));
    for _ in 0..count {
        ignored.push(IgnoredEntry {
            line: usize::try_from(r.u64()?).ok()?,
            why: r.string()?,
        });
    }
    Some(EndpointList::from_parts(
        source.to_string(),
        entries,
        ignored,
    ))
}

fn flag(byte: u8) -> Option<bool> {
    match byte {
        0 => Some(false),
        1 => Some(true),
        _ => None,
    }
}

/// Bounds-checked reads from the front of a byte slice.
struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        if self.0.len() < n {
            return None;
        }
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Some(head)
    }

    fn array<const N: usize>(&mut self) -> Option<[u8; N]> {
        self.take(N)?.try_into().ok()
    }

    fn u32(&mut self) -> Option<u32> {
        self.array().map(u32::from_le_bytes)
    }

    fn u64(&mut self) -> Option<u64> {
        self.array().map(u64::from_le_bytes)
    }

    fn u128(&mut self) -> Option<u128> {
        self.array().map(u128::from_le_bytes)
    }

    fn string(&mut self) -> Option<String> {
        let len = self.u32()? as usize;
        String::from_utf8(self.take(len)?.to_vec()).ok()
    }

    fn opt(&mut self) -> Option<Option<String>> {
        match self.take(1)?[0] {
            0 => Some(None),
            1 => self.string().map(Some),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mini() -> Vec<u8> {
        fs::read(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../testdata/swagger-mini.json"
        ))
        .unwrap()
    }

    fn same(a: &Catalogue, b: &Catalogue) {
        assert_eq!(a.len(), b.len());
        for ((_, x), (_, y)) in a.operations().zip(b.operations()) {
            assert_eq!(x, y);
        }
        assert_eq!(a.version(), b.version());
        assert_eq!(a.digest(), b.digest());
    }

    #[test]
    fn kinds_index_their_table() {
        for (i, kind) in OperationKind::ALL.iter().enumerate() {
            assert_eq!(*kind as usize, i);
        }
        for (i, method) in Method::ALL.iter().enumerate() {
            assert_eq!(method.index(), i);
        }
    }

    #[test]
    fn every_truncation_and_flipped_byte_is_a_miss_or_the_same_catalogue() {
        let spec = mini();
        let parsed = Catalogue::from_json(&spec, "mini").unwrap();
        let key = Key::of(Rules::Spec, &spec);
        let entry = entry(&key, &encode_catalogue(&parsed));
        let decode = |e: &[u8], k: &Key| decode_entry(e, k, decode_catalogue);
        same(&decode(&entry, &key).unwrap(), &parsed);
        for len in 0..entry.len() {
            assert!(decode(&entry[..len], &key).is_none(), "truncated at {len}");
        }
        for i in 0..entry.len() {
            let mut bad = entry.clone();
            bad[i] ^= 0x41;
            assert!(decode(&bad, &key).is_none(), "byte {i} flipped");
        }
        let mut other = Key::of(Rules::Spec, &spec);
        other.build ^= 1;
        assert!(decode(&entry, &other).is_none());
        // The same bytes read as a list are another entry.
        assert_ne!(Key::of(Rules::List, &spec).spec_hash, key.spec_hash);
        assert_ne!(build_fingerprint(Rules::List), key.build);
        // Rules edited in core (another RULES_VERSION) are another build.
        let edited = fingerprint_of(apicov_core::spec::RULES_VERSION ^ 1);
        assert_ne!(edited, key.build);
    }

    /// A large local spec is looked up by the hash of its mapping, never
    /// read (the entry found is used: here one planted for its bytes); once
    /// its bytes change it is read, parsed and stored again.
    #[test]
    fn a_large_spec_is_looked_up_through_its_mapping() {
        // Mappings are read only under the guard `main` installs.
        assert!(apicov_core::mapguard::install());
        let dir = tempfile::tempdir().unwrap();
        let fetcher = Fetcher::new(Some(dir.path().join("cache")), true);
        let mut spec = mini();
        spec.resize(crate::source::MAP_AT_LEAST as usize + 10, b' ');
        let path = dir.path().join("swagger.json");
        fs::write(&path, &spec).unwrap();
        let location = path.to_str().unwrap();
        let parsed = Catalogue::from_json(&spec, "swagger.json").unwrap();

        let doc = fetcher.get(location).unwrap();
        same(&load(&fetcher, &doc).unwrap(), &parsed);
        assert!(doc.was_read(), "a miss reads the spec");

        // Another catalogue planted under the spec's key: a hit returns it.
        let mut value: serde_json::Value = serde_json::from_slice(&mini()).unwrap();
        let paths = value["paths"].as_object_mut().unwrap();
        let first = paths.keys().next().unwrap().clone();
        paths.remove(&first);
        let other = Catalogue::from_json(&serde_json::to_vec(&value).unwrap(), "other").unwrap();
        assert!(other.len() < parsed.len());
        let key = Key::of(Rules::Spec, &spec);
        fs::write(
            entry_path(fetcher.cache_dir(), &key),
            entry(&key, &encode_catalogue(&other)),
        )
        .unwrap();
        let doc = fetcher.get(location).unwrap();
        same(&load(&fetcher, &doc).unwrap(), &other);
        assert!(!doc.was_read(), "a hit hashes the mapping only");

        // One byte changed in place: a miss, parsed from the bytes read.
        let at = spec.len() - 1;
        spec[at] = b'\n';
        fs::write(&path, &spec).unwrap();
        let doc = fetcher.get(location).unwrap();
        same(&load(&fetcher, &doc).unwrap(), &parsed);
        assert!(doc.was_read());
    }

    #[test]
    fn prune_keeps_the_newest() {
        let dir = tempfile::tempdir().unwrap();
        for i in 0..KEEP + 3 {
            let p = dir.path().join(format!("{i:02}.bin"));
            fs::write(&p, b"x").unwrap();
            let t = std::time::SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(i as u64);
            fs::File::options()
                .write(true)
                .open(&p)
                .unwrap()
                .set_modified(t)
                .unwrap();
        }
        fs::write(dir.path().join("other.tmp"), b"x").unwrap();
        prune(dir.path(), &dir.path().join("00.bin"));
        let mut left: Vec<String> = fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        left.sort();
        // The 15 newest others, the one just written, and the foreign file.
        assert_eq!(left.len(), KEEP + 1);
        assert_eq!(left[0], "00.bin");
        assert_eq!(left[1], "04.bin");
        assert!(left.contains(&"other.tmp".to_string()));
    }
}
