//! Output files and the console summary, one module a format. Files are
//! written through a temporary file and a rename, never half-written.

use std::io::Write;
use std::path::Path;

use crate::error::{Error, Result};

/// Writes `bytes` to `path` through a temporary file in the same directory and
/// a rename, so a reader never sees a half-written file.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    write_all_atomic(&[(path.to_path_buf(), bytes.to_vec())])
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

pub mod endpoints;
pub mod html;
pub mod json;
pub mod junit;
pub mod operations;
pub mod summary;

/// Writes several files so that either all of them are replaced or none is:
/// every temporary file is written first, then all are renamed.
pub fn write_all_atomic(files: &[(std::path::PathBuf, Vec<u8>)]) -> Result<()> {
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
        let mut tmp = tempfile::NamedTempFile::new_in(dir).map_err(out_err)?;
        tmp.write_all(bytes).map_err(out_err)?;
        readable(&tmp).map_err(out_err)?;
        staged.push((path, tmp));
    }
    for (path, tmp) in staged {
        tmp.persist(path).map_err(|e| Error::Output {
            path: path.clone(),
            source: e.error,
        })?;
    }
    Ok(())
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
