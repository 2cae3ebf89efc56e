//! The segment trie, the default strategy.

use super::matcher::PathMatcher;
use super::template::{Route, Segment};
use crate::spec::{Method, OpId};

/// Segment trie: one node per distinct template prefix, literal children in a
/// hash map, at most one parameter and one catch-all child. Lookup walks the
/// path once, backtracking to the parameter child only when the literal branch
/// fails. The default strategy: fastest in `benches/routes.rs`.
#[derive(Debug)]
pub struct SegmentTrie {
    nodes: Vec<TrieNode>,
}

/// The trie's literal children of up to [`SHORT`] bytes (nearly all of a
/// Kubernetes path's), keyed by [`ShortKey`]: the segment's bytes come out
/// of the same 16-byte load that finds its end, and a lookup hashes and
/// compares two words instead of hashing the bytes and calling `memcmp`.
type ShortChildren = std::collections::HashMap<ShortKey, u32, ShortKeyHasher>;

/// Longer literal children (API group names such as
/// `admissionregistration.k8s.io`), hashed with foldhash's fixed-seed hasher
/// (ahash takes its slower fallback where AES is not enabled at build time,
/// as here; the change went in with the string search, README "Speed"). The
/// tables are built once from the spec and only read, so a fixed seed gives a
/// client nothing to aim at.
type LongChildren = std::collections::HashMap<Box<[u8]>, u32, foldhash::fast::FixedState>;

#[derive(Debug, Default)]
struct TrieNode {
    short: ShortChildren,
    long: LongChildren,
    param: Option<u32>,
    catch_all: Option<u32>,
    ops: [Option<OpId>; 7],
}

/// Segments this long or shorter are [`ShortKey`]s.
const SHORT: usize = 16;

/// A segment of at most [`SHORT`] bytes as one value: its bytes, zero
/// padded, and its length (a segment may hold zero bytes itself).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct ShortKey {
    bytes: u128,
    len: u8,
}

impl ShortKey {
    fn of(segment: &[u8]) -> Option<ShortKey> {
        let mut bytes = [0u8; SHORT];
        bytes.get_mut(..segment.len())?.copy_from_slice(segment);
        Some(ShortKey {
            bytes: u128::from_le_bytes(bytes),
            len: segment.len() as u8,
        })
    }
}

impl std::hash::Hash for ShortKey {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        // One word for the hasher below: both halves and the length folded.
        let folded = (self.bytes as u64) ^ ((self.bytes >> 64) as u64).rotate_left(29);
        state.write_u64(folded ^ u64::from(self.len));
    }
}

/// Multiplies the one word [`ShortKey`] writes. Unseeded on purpose: the
/// tables hold the spec's literals, built once; a log's paths only look
/// them up, so they cannot crowd a bucket.
#[derive(Debug, Clone, Copy, Default)]
struct ShortKeyHasher;

impl std::hash::BuildHasher for ShortKeyHasher {
    type Hasher = FoldedWord;
    fn build_hasher(&self) -> FoldedWord {
        FoldedWord(0)
    }
}

/// See [`ShortKeyHasher`].
#[derive(Debug)]
struct FoldedWord(u64);

impl std::hash::Hasher for FoldedWord {
    fn finish(&self) -> u64 {
        // hashbrown takes its control tag from the top bits and the bucket
        // from the low ones: a multiply and a fold spread the word over both.
        let m = u128::from(self.0) * 0x9E37_79B9_7F4A_7C15;
        (m as u64) ^ ((m >> 64) as u64)
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 ^ u64::from(b)).wrapping_mul(0x100_0000_01b3);
        }
    }
    fn write_u64(&mut self, word: u64) {
        self.0 = word;
    }
}

/// The first segment of `after_slash` (a path after one of its slashes):
/// where it ends (the next `/` or the end), and its [`ShortKey`] when it is
/// at most [`SHORT`] bytes. With SSE2 one 16-byte load gives both.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
fn first_segment(after_slash: &[u8]) -> (usize, Option<ShortKey>) {
    use std::arch::x86_64::{
        __m128i, _mm_and_si128, _mm_cmpeq_epi8, _mm_loadu_si128, _mm_movemask_epi8, _mm_set1_epi8,
    };
    /// 16 bytes kept then 16 cleared: loaded at `16 - len`, keeps `len` bytes.
    static KEEP: [u8; 32] = {
        let mut keep = [0u8; 32];
        let mut i = 0;
        while i < 16 {
            keep[i] = 0xff;
            i += 1;
        }
        keep
    };
    let (block, in_path) = match after_slash.first_chunk::<SHORT>() {
        Some(block) => (u128::from_le_bytes(*block), SHORT),
        None => (padded(after_slash), after_slash.len()),
    };
    // SAFETY: SSE2 is part of every x86_64; the unaligned load reads 16 of
    // KEEP's 32 bytes (`16 - len` is at most 16).
    unsafe {
        let v: __m128i = std::mem::transmute(block);
        // Past the path's end counts as a slash.
        let slashes = _mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_set1_epi8(b'/' as i8))) as u32
            | (1u32 << in_path);
        let len = slashes.trailing_zeros() as usize;
        if len < SHORT || (len == SHORT && after_slash.get(SHORT).is_none_or(|&c| c == b'/')) {
            let keep = _mm_loadu_si128(KEEP.as_ptr().add(SHORT - len).cast::<__m128i>());
            let bytes: u128 = std::mem::transmute(_mm_and_si128(v, keep));
            return (
                len,
                Some(ShortKey {
                    bytes,
                    len: len as u8,
                }),
            );
        }
    }
    let end = SHORT
        + after_slash[SHORT..]
            .iter()
            .position(|&c| c == b'/')
            .unwrap_or(after_slash.len() - SHORT);
    (end, None)
}

/// The bytes of `short` (fewer than [`SHORT`]), zero padded, in at most two
/// overlapping loads: the rest of a path is a `memcpy` call of a few bytes
/// otherwise (a fifth of the walk's instructions).
#[cfg(target_arch = "x86_64")]
#[inline(always)]
fn padded(short: &[u8]) -> u128 {
    let len = short.len();
    debug_assert!(len < SHORT);
    // Two loads that cover the bytes between them, the second shifted to
    // where its bytes belong; the bytes both hold are the same, so OR-ing
    // them changes nothing.
    let word = |at: usize, n: usize| -> u128 {
        let mut w = [0u8; 8];
        w[..n].copy_from_slice(&short[at..at + n]);
        u128::from(u64::from_le_bytes(w)) << (8 * at)
    };
    match len {
        8.. => word(0, 8) | word(len - 8, 8),
        4.. => word(0, 4) | word(len - 4, 4),
        1.. => word(0, 1) | word(len / 2, 1) | word(len - 1, 1),
        0 => 0,
    }
}

/// Elsewhere, byte by byte.
#[cfg(not(target_arch = "x86_64"))]
#[inline(always)]
fn first_segment(after_slash: &[u8]) -> (usize, Option<ShortKey>) {
    first_segment_plain(after_slash)
}

/// [`first_segment`]'s rule byte by byte: the code where there is no SSE2,
/// and the tests' oracle where there is.
#[cfg(any(test, not(target_arch = "x86_64")))]
fn first_segment_plain(after_slash: &[u8]) -> (usize, Option<ShortKey>) {
    let end = after_slash
        .iter()
        .position(|&c| c == b'/')
        .unwrap_or(after_slash.len());
    (end, ShortKey::of(&after_slash[..end]))
}

impl SegmentTrie {
    /// A trie over `routes`.
    pub fn new(routes: &[Route]) -> SegmentTrie {
        let mut trie = SegmentTrie {
            nodes: vec![TrieNode::default()],
        };
        for route in routes {
            let mut node = 0usize;
            for segment in &route.segments {
                node = trie.child(node, segment);
            }
            let slot = &mut trie.nodes[node].ops[route.method.index()];
            // Routes come in precedence order: the first one keeps the slot.
            slot.get_or_insert(route.op);
        }
        trie
    }

    fn child(&mut self, node: usize, segment: &Segment) -> usize {
        let next = self.nodes.len() as u32;
        let parent = &mut self.nodes[node];
        let existing = match segment {
            Segment::Literal(lit) => match ShortKey::of(lit) {
                Some(key) => *parent.short.entry(key).or_insert(next),
                // Most literals are there already: look before cloning the key.
                None => match parent.long.get(lit) {
                    Some(&child) => child,
                    None => *parent.long.entry(lit.clone()).or_insert(next),
                },
            },
            Segment::Param => *parent.param.get_or_insert(next),
            Segment::CatchAll => *parent.catch_all.get_or_insert(next),
        };
        if existing == next {
            self.nodes.push(TrieNode::default());
        }
        existing as usize
    }

    fn walk(&self, node: &TrieNode, method: Method, rest: &[u8]) -> Option<OpId> {
        let Some(after_slash) = rest.strip_prefix(b"/") else {
            return if rest.is_empty() {
                node.ops[method.index()]
            } else {
                None
            };
        };
        let (end, key) = first_segment(after_slash);
        let (segment, tail) = after_slash.split_at(end);
        let literal = match key {
            Some(key) => node.short.get(&key),
            None => node.long.get(segment),
        };
        if let Some(&child) = literal {
            if let Some(op) = self.walk(&self.nodes[child as usize], method, tail) {
                return Some(op);
            }
        }
        if !segment.is_empty() {
            if let Some(child) = node.param {
                if let Some(op) = self.walk(&self.nodes[child as usize], method, tail) {
                    return Some(op);
                }
            }
        }
        // The catch-all takes the non-empty rest, which may start with an
        // empty segment (`/logs//a`), as the other strategies have it.
        if let (Some(child), false) = (node.catch_all, after_slash.is_empty()) {
            return self.nodes[child as usize].ops[method.index()];
        }
        None
    }
}

impl PathMatcher for SegmentTrie {
    fn lookup(&self, method: Method, path: &[u8]) -> Option<OpId> {
        if path.is_empty() {
            return None;
        }
        self.walk(&self.nodes[0], method, path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_segment_and_its_key_are_found_as_the_plain_rule_has_them() {
        // Every length of the rest of a path up to 40 bytes, with no slash
        // or one or two at every offset, bytes that differ by position (a
        // load from the wrong place shows) and a high byte.
        let mut cases = 0;
        for len in 0..=40usize {
            let base: Vec<u8> = (0..len)
                .map(|i| b"abcdefghijklmnopqrstuvwxyz0123456789\xc3ABCDEF"[i % 40])
                .collect();
            let mut rests = vec![base.clone()];
            for at in 0..len {
                let mut one = base.clone();
                one[at] = b'/';
                rests.push(one.clone());
                for second in at + 1..len {
                    let mut two = one.clone();
                    two[second] = b'/';
                    rests.push(two);
                }
            }
            for rest in rests {
                let want = first_segment_plain(&rest);
                // The oracle itself: the segment ends at the first slash.
                assert_eq!(want.0, rest.iter().take_while(|&&c| c != b'/').count());
                assert_eq!(
                    first_segment(&rest),
                    want,
                    "{:?}",
                    String::from_utf8_lossy(&rest)
                );
                cases += 1;
            }
        }
        assert_eq!(cases, 11_521);
        // Keys differ where segments do, the length included.
        assert_ne!(ShortKey::of(b"a"), ShortKey::of(b"a\0"));
        assert_eq!(ShortKey::of(&[b'x'; 17]), None);
    }
}
