//! Newline-aligned chunks: of a mapped buffer (ranges), or of a stream
//! (owned blocks, the unfinished last line carried into the next block).

use std::io::{self, Read};

/// Cuts `bytes` into ranges of about `target` bytes, each ending just after
/// a newline (the last one may end without one: a torn last line). The
/// engine makes the same cuts one at a time with [`chunk_end`]; this is all
/// of them at once (tests use it to reproduce the engine's chunks).
#[cfg(test)]
pub fn split(bytes: &[u8], target: usize) -> Vec<std::ops::Range<usize>> {
    let mut ranges = Vec::with_capacity(bytes.len() / target.max(1) + 1);
    let mut start = 0;
    while start < bytes.len() {
        let end = chunk_end(bytes, start, target);
        ranges.push(start..end);
        start = end;
    }
    ranges
}

/// Where the range of [`split`] that begins at `start` ends. The engine
/// cuts a mapping one range at a time, as it goes: cutting it all up front
/// touched a page every `target` bytes of the whole file, and where the
/// page cache holds a file in 2 MiB folios each touch maps a whole folio,
/// which took the peak RSS of a 5.2 GB parse to 2.5 GiB.
pub fn chunk_end(bytes: &[u8], start: usize, target: usize) -> usize {
    let probe = (start + target.max(1)).min(bytes.len());
    if probe >= bytes.len() {
        return bytes.len();
    }
    match memchr::memchr(b'\n', &bytes[probe - 1..]) {
        Some(k) => probe + k,
        None => bytes.len(),
    }
}

/// Reads a stream in blocks of at least `target` bytes that end at a newline.
pub struct BlockReader<R> {
    reader: R,
    target: usize,
    carry: Vec<u8>,
    done: bool,
}

impl<R: Read> BlockReader<R> {
    /// Blocks of about `target` bytes read from `reader`.
    pub fn new(reader: R, target: usize) -> BlockReader<R> {
        BlockReader {
            reader,
            target: target.max(1),
            carry: Vec::new(),
            done: false,
        }
    }

    /// The next block, or None at the end of the stream.
    pub fn next_block(&mut self) -> io::Result<Option<Vec<u8>>> {
        if self.done && self.carry.is_empty() {
            return Ok(None);
        }
        let mut block = std::mem::take(&mut self.carry);
        let mut searched = 0;
        loop {
            if block.len() >= self.target || self.done {
                if let Some(nl) = memchr::memrchr(b'\n', &block[searched..]) {
                    let cut = searched + nl + 1;
                    self.carry = block.split_off(cut);
                    return Ok(Some(block));
                }
                if self.done {
                    return Ok((!block.is_empty()).then_some(block));
                }
                // One line longer than the block: keep reading.
                searched = block.len();
            }
            // Read to the target (or the end) into spare capacity: zeroing
            // `want` bytes before every read, which may return far fewer,
            // was 10% of a history's CPU streaming from GCS.
            let want = self.target.max(64 << 10);
            block.reserve(want);
            let n = (&mut self.reader)
                .take(want as u64)
                .read_to_end(&mut block)?;
            if n < want {
                self.done = true;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_ends_chunks_after_newlines() {
        let text = b"aa\nbbbb\nc\n\ndd";
        for target in 1..text.len() + 2 {
            let ranges = split(text, target);
            let joined: Vec<u8> = ranges
                .iter()
                .flat_map(|r| text[r.clone()].to_vec())
                .collect();
            assert_eq!(joined, text, "target {target}");
            for r in &ranges[..ranges.len() - 1] {
                assert_eq!(text[r.end - 1], b'\n', "target {target}: {ranges:?}");
            }
        }
    }

    #[test]
    fn blocks_end_after_newlines_and_keep_every_byte() {
        let text = b"aa\nbbbbbbbbbbbb\nc\n\ndd".to_vec();
        for target in 1..text.len() + 2 {
            let mut reader = BlockReader::new(&text[..], target);
            let mut joined = Vec::new();
            while let Some(block) = reader.next_block().unwrap() {
                assert!(!block.is_empty());
                if joined.len() + block.len() < text.len() {
                    assert_eq!(*block.last().unwrap(), b'\n');
                }
                joined.extend(block);
            }
            assert_eq!(joined, text, "target {target}");
        }
    }
}
