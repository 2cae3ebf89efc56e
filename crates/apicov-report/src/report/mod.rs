//! Output files and the console summary, one module a format. Files are
//! written through a temporary file and a rename, never half-written.

use std::io::{IoSlice, Write};
use std::path::Path;

use apicov_core::error::{Error, Result};

/// Writes `bytes` to `path` through a temporary file in the same directory and
/// a rename, so a reader never sees a half-written file.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    write_all_atomic(&[(path.to_path_buf(), bytes.to_vec().into())])
}

/// A file's contents as pieces written one after another, so that a report
/// rendered in parallel is not first copied into one buffer (for the 6 MB
/// audit-operations.json of a 200 MB run that copy cost ~5 ms).
#[derive(Debug)]
pub struct Body(Vec<Vec<u8>>);

impl Body {
    /// Writes every piece, in order, with as few system calls as it takes
    /// and at most [`crate::cleanup::WRITE_PIECE`] bytes a call, so that a
    /// signal stops a long write promptly.
    fn write_to(&self, w: &mut impl Write) -> std::io::Result<()> {
        let limit = crate::cleanup::WRITE_PIECE;
        let slices: Vec<&[u8]> = self.0.iter().flat_map(|p| p.chunks(limit)).collect();
        let mut rest = &slices[..];
        while !rest.is_empty() {
            crate::cleanup::stop_if_terminating();
            // A batch: under the usual IOV_MAX of 1024 slices and about
            // `limit` bytes.
            let (mut count, mut bytes) = (0, 0);
            while count < rest.len().min(1024) && (count == 0 || bytes + rest[count].len() <= limit)
            {
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
}

impl From<Vec<u8>> for Body {
    fn from(bytes: Vec<u8>) -> Body {
        Body(vec![bytes])
    }
}

impl From<Vec<Vec<u8>>> for Body {
    fn from(pieces: Vec<Vec<u8>>) -> Body {
        Body(pieces)
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

/// One run's result, as every report renders it: `parse`, `merge`, each run
/// of `history` and `serve`'s live pages build this and pass it, with the
/// run's [`Coverage`](apicov_core::coverage::Coverage), to the renderers.
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
    pub watch_credit: apicov_core::routes::WatchCredit,
    /// Include the per-test / per-client attribution.
    pub by_test: bool,
    /// Digest of the open requests the run was seeded with (`--continue-from`).
    pub seeded_from: Option<&'a str>,
    /// What every output must say about how the figures were made.
    pub caveats: Caveats,
}

/// What a reader of any output must know about how its counts were made;
/// every format says so (endpoints header, report JSON, JUnit suite name,
/// console summary, HTML title).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Caveats {
    /// Only requests from conformance tests were counted (`--conformance-only`).
    pub conformance_only: bool,
    /// Results parsed against different specs were combined (`--allow-spec-mix`).
    pub spec_mix: bool,
}

impl Caveats {
    /// One sentence per caveat, for text outputs.
    pub fn lines(&self) -> Vec<&'static str> {
        let mut lines = Vec::new();
        if self.conformance_only {
            lines.push(
                "Conformance tests only (--conformance-only): requests of other clients and tests are not counted",
            );
        }
        if self.spec_mix {
            lines.push(
                "Results parsed against different specs were combined (--allow-spec-mix): operations renamed or removed between them do not compare",
            );
        }
        lines
    }

    /// A short suffix for titles and suite names.
    pub fn title_suffix(&self) -> String {
        let mut parts = Vec::new();
        if self.conformance_only {
            parts.push("conformance tests only");
        }
        if self.spec_mix {
            parts.push("mixed specs");
        }
        if parts.is_empty() {
            String::new()
        } else {
            format!(" ({})", parts.join(", "))
        }
    }
}

pub mod endpoints;
pub mod html;
pub mod json;
pub mod junit;
pub mod operations;
pub mod summary;

/// Writes several files so that either all of them are replaced or none is:
/// every temporary file (`.apicov-XXXXXX.tmp`, see [`crate::cleanup`]) is
/// written first, then all are renamed.
pub fn write_all_atomic(files: &[(std::path::PathBuf, Body)]) -> Result<()> {
    let mut staged = Vec::with_capacity(files.len());
    for (path, bytes) in files {
        let dir = match path.parent() {
            Some(d) if !d.as_os_str().is_empty() => d,
            _ => Path::new("."),
        };
        let out_err = |source| Error::Output {
            path: path.clone(),
            source,
        };
        if path.is_dir() {
            return Err(out_err(std::io::Error::other("is a directory")));
        }
        let mut tmp = Staged(Some(crate::cleanup::temp_file_in(dir).map_err(out_err)?));
        let file = tmp.0.as_mut().expect("staged until renamed");
        bytes.write_to(file).map_err(out_err)?;
        readable(file).map_err(out_err)?;
        staged.push((path, tmp));
    }
    let mut renaming = crate::cleanup::renaming();
    let mut result = Ok(());
    for (path, mut tmp) in staged {
        let tmp = tmp.0.take().expect("staged until renamed");
        let tmp_path = tmp.path().to_path_buf();
        if result.is_ok() {
            if let Err(e) = tmp.persist(path) {
                result = Err(Error::Output {
                    path: path.clone(),
                    source: e.error,
                });
            }
        }
        renaming.forget(&tmp_path);
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

    #[test]
    fn a_body_is_written_whole_and_in_order() {
        // More pieces than one batch of slices, empty ones among them.
        let pieces: Vec<Vec<u8>> = (0..2500u32)
            .map(|i| i.to_string().repeat((i % 5) as usize).into_bytes())
            .collect();
        let want = pieces.concat();
        let body = Body::from(pieces);
        let mut trickle = Trickle(Vec::new());
        body.write_to(&mut trickle).unwrap();
        assert_eq!(trickle.0, want);
        let mut whole = Vec::new();
        body.write_to(&mut whole).unwrap();
        assert_eq!(whole, want);
    }
}
