//! What identifies a request (its auditID as a 128-bit key) and the group
//! of a request no operation matched (its path as a pattern).

/// A request's key: its auditID as a 128-bit number when it is a UUID (it
/// always is in apiserver logs), otherwise a 128-bit FNV-1a hash of it.
pub fn request_key(id: &[u8]) -> u128 {
    if let Some(value) = uuid_value(id) {
        return value;
    }
    let mut hash: u128 = 0x6c62_272e_07bb_0142_62b8_2175_6295_c58d;
    for &b in id {
        hash ^= u128::from(b);
        hash = hash.wrapping_mul(0x0000_0000_0100_0000_0000_0000_0000_013B);
    }
    hash
}

/// `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx` as a number: the 32 digits as
/// four words of eight, checked and decoded together with one branch for
/// all of them (SSE2 on x86_64, a word at a time elsewhere).
pub(super) fn uuid_value(id: &[u8]) -> Option<u128> {
    uuid_words(id).and_then(hex32)
}

/// A UUID's 32 digits as four words of eight (little-endian, so the first
/// digit in a word's lowest byte), when it has the length and the dashes.
pub(super) fn uuid_words(id: &[u8]) -> Option<[u64; 4]> {
    let id: &[u8; 36] = id.try_into().ok()?;
    if id[8] != b'-' || id[13] != b'-' || id[18] != b'-' || id[23] != b'-' {
        return None;
    }
    let word = |at: usize| u64::from_le_bytes(id[at..at + 8].try_into().unwrap());
    let half = |at: usize| u64::from(u32::from_le_bytes(id[at..at + 4].try_into().unwrap()));
    Some([
        word(0),
        half(9) | (half(14) << 32),
        half(19) | (half(24) << 32),
        word(28),
    ])
}

/// 32 hex digits, eight to a word (the first digit in a word's lowest
/// byte), as their value; `None` unless all are hex digits. Two 16-byte
/// vectors: `request_key` takes 104 instructions a line, against 185 with
/// [`hex32_swar`].
#[cfg(target_arch = "x86_64")]
#[inline(always)]
fn hex32(words: [u64; 4]) -> Option<u128> {
    use std::arch::x86_64::*;
    // SAFETY: SSE2 is part of x86_64's baseline; every intrinsic here is
    // SSE2 and touches registers only.
    unsafe {
        let splat = |b: u8| _mm_set1_epi8(b as i8);
        let halves = [
            _mm_set_epi64x(words[1] as i64, words[0] as i64),
            _mm_set_epi64x(words[3] as i64, words[2] as i64),
        ];
        // Signed compares: a byte above 0x7F is negative, so neither range
        // takes it.
        let within = |v: __m128i, lo: u8, hi: u8| {
            _mm_and_si128(
                _mm_cmpgt_epi8(v, splat(lo - 1)),
                _mm_cmpgt_epi8(splat(hi + 1), v),
            )
        };
        let hex = |v: __m128i| {
            let folded = _mm_or_si128(v, splat(0x20)); // 'A'..'F' -> 'a'..'f'
            _mm_or_si128(within(v, b'0', b'9'), within(folded, b'a', b'f'))
        };
        if _mm_movemask_epi8(_mm_and_si128(hex(halves[0]), hex(halves[1]))) != 0xFFFF {
            return None;
        }
        // A digit's value is its low four bits, plus 9 for a letter (bit
        // 6); then each pair of digits (a 16-bit lane, the first digit low)
        // becomes one byte, first digit high, and the 16 bytes in order are
        // the value, most significant first.
        let pair = |v: __m128i| {
            let letter = _mm_and_si128(_mm_srli_epi16(v, 6), splat(1));
            let nine = _mm_or_si128(letter, _mm_slli_epi16(letter, 3));
            let nibbles = _mm_add_epi8(_mm_and_si128(v, splat(0x0F)), nine);
            _mm_or_si128(
                _mm_and_si128(_mm_slli_epi16(nibbles, 4), _mm_set1_epi16(0x00F0)),
                _mm_srli_epi16(nibbles, 8),
            )
        };
        let bytes: [u8; 16] =
            std::mem::transmute(_mm_packus_epi16(pair(halves[0]), pair(halves[1])));
        Some(u128::from_be_bytes(bytes))
    }
}

#[cfg(not(target_arch = "x86_64"))]
#[inline(always)]
fn hex32(words: [u64; 4]) -> Option<u128> {
    hex32_swar(words)
}

/// [`hex32`] a word at a time (SWAR), where there is no SSE2; it replaced
/// a table lookup per digit (276 instructions a line, against 91). Built
/// for tests everywhere, which check it against the plain rule.
#[cfg(any(not(target_arch = "x86_64"), test))]
#[inline(always)]
pub(super) fn hex32_swar(words: [u64; 4]) -> Option<u128> {
    if words.iter().fold(0, |bad, &w| bad | not_hex(w)) != 0 {
        return None;
    }
    let [a, b, c, d] = words.map(|w| u128::from(hex8(w)));
    Some((a << 96) | (b << 64) | (c << 32) | d)
}

#[cfg(any(not(target_arch = "x86_64"), test))]
const ONES: u64 = 0x0101_0101_0101_0101;
#[cfg(any(not(target_arch = "x86_64"), test))]
const HIGH: u64 = ONES * 0x80;

/// Nonzero unless all eight bytes of `w` are ASCII hex digits.
#[cfg(any(not(target_arch = "x86_64"), test))]
#[inline(always)]
fn not_hex(w: u64) -> u64 {
    // Per byte below 0x80 (so no sum carries into the next byte): the high
    // bit of x + (0x80 - lo) says x >= lo, of x + (0x7F - hi) x > hi.
    let x = w & !HIGH;
    let at_least = |x: u64, lo: u8| x + ONES * u64::from(0x80 - lo);
    let above = |x: u64, hi: u8| x + ONES * u64::from(0x7F - hi);
    let digit = at_least(x, b'0') & !above(x, b'9');
    let folded = x | (ONES * 0x20); // 'A'..'F' -> 'a'..'f'
    let letter = at_least(folded, b'a') & !above(folded, b'f');
    (w & HIGH) | (!(digit | letter) & HIGH)
}

/// Eight hex digits (checked by [`not_hex`]), the first in the lowest byte
/// (as read from memory, little-endian), as their value.
#[cfg(any(not(target_arch = "x86_64"), test))]
#[inline(always)]
fn hex8(w: u64) -> u32 {
    // A digit's value is its low four bits, plus 9 for a letter (bit 6).
    let nibbles = (w & (ONES * 0x0F)) + ((w >> 6) & ONES) * 9;
    // Pack: byte 2k = n(2k) << 4 | n(2k+1), then the bytes together, which
    // leaves the value's bytes most significant first.
    let pairs = ((nibbles << 4) | (nibbles >> 8)) & 0x00FF_00FF_00FF_00FF;
    let quads = (pairs | (pairs >> 8)) & 0x0000_FFFF_0000_FFFF;
    ((quads | (quads >> 16)) as u32).swap_bytes()
}

/// A path pattern for requests no operation matched: names and namespaces
/// become placeholders so that one resource's traffic forms one group, e.g.
/// `/apis/stable.example.com/v1/namespaces/{namespace}/crontabs/{name}`.
pub fn normalise_unmatched(uri: &[u8]) -> String {
    let mut pattern = String::new();
    normalise_unmatched_into(uri, &mut pattern);
    pattern
}

/// [`normalise_unmatched`] into a reused buffer, without allocating.
pub(super) fn normalise_unmatched_into(uri: &[u8], out: &mut String) {
    out.clear();
    let (path, _) = crate::routing::split_uri(uri);
    let path = lossy(path);
    // The segments are what follows each slash (as `path.split('/')
    // .skip(1)`); no rule below looks past the ninth, nor tells 12 of them
    // from more, so the first KEPT + 1 slashes are all it needs.
    const KEPT: usize = 12;
    let mut slashes = [0usize; KEPT + 1];
    let found = find_slashes(path.as_bytes(), &mut slashes);
    let count = found.min(KEPT);
    let end = |k: usize| {
        if k + 1 < found {
            slashes[k + 1]
        } else {
            path.len()
        }
    };
    let segment = |k: usize| &path[slashes[k] + 1..end(k)];
    // The group/version prefix, copied as it is, and the index of the first
    // segment after it.
    let resource_start = match (count, (count > 0).then(|| segment(0))) {
        (2.., Some("api")) => 2,
        (3.., Some("apis")) => 3,
        _ => {
            out.push_str(&path);
            return;
        }
    };
    out.push_str(&path[slashes[0]..end(resource_start - 1)]);
    let mut resource = resource_start;
    if count - resource_start >= 2 && segment(resource_start) == "namespaces" {
        if count - resource_start == 2 {
            out.push_str("/namespaces/{name}");
            return;
        }
        out.push_str("/namespaces/{namespace}");
        resource += 2;
    }
    if resource >= count {
        return;
    }
    out.push('/');
    out.push_str(segment(resource));
    if resource + 1 < count {
        out.push_str("/{name}");
    }
    if resource + 2 < count {
        out.push('/');
        out.push_str(segment(resource + 2));
        if resource + 3 < count {
            out.push_str("/{path}");
        }
    }
}

/// Fills `at` with the indices of the first `at.len()` slashes of `path`,
/// in order, and returns how many it found: sixteen bytes at a time with
/// SSE2, each slash found by its bit in the compare mask (with the prefix
/// copied whole, the pattern took ~1,030 instructions a request, ~645 now:
/// callgrind, CRD-heavy).
fn find_slashes(path: &[u8], at: &mut [usize]) -> usize {
    let mut found = 0;
    let mut from = 0;
    #[cfg(target_arch = "x86_64")]
    while from + 16 <= path.len() {
        use std::arch::x86_64::{
            __m128i, _mm_cmpeq_epi8, _mm_loadu_si128, _mm_movemask_epi8, _mm_set1_epi8,
        };
        // SAFETY: SSE2 is always present on x86_64, and the unaligned load
        // reads path[from..from + 16], inside `path` (checked above).
        let mut mask = unsafe {
            let v = _mm_loadu_si128(path.as_ptr().add(from).cast::<__m128i>());
            _mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_set1_epi8(b'/' as i8))) as u32
        };
        while mask != 0 {
            let Some(slot) = at.get_mut(found) else {
                return found;
            };
            *slot = from + mask.trailing_zeros() as usize;
            found += 1;
            mask &= mask - 1;
        }
        from += 16;
    }
    for (i, &byte) in path.iter().enumerate().skip(from) {
        if byte == b'/' {
            let Some(slot) = at.get_mut(found) else {
                return found;
            };
            *slot = i;
            found += 1;
        }
    }
    found
}

/// The rule as first written, segment by segment: the oracle of the tests.
#[cfg(test)]
pub(super) fn normalise_unmatched_plain(uri: &[u8], out: &mut String) {
    out.clear();
    let (path, _) = crate::routing::split_uri(uri);
    let path = lossy(path);
    // The segments after the first '/' (as `path.split('/').skip(1)`, in a
    // plain byte loop: the str iterator cost ~900 instructions a path): the
    // first KEPT of them, and how many there are. No rule below looks past
    // the ninth, nor tells 12 segments from more.
    const KEPT: usize = 12;
    let mut kept = [""; KEPT];
    let mut count = 0;
    let mut segment_start = None;
    for (at, &byte) in path.as_bytes().iter().enumerate() {
        if byte == b'/' {
            if let Some(from) = segment_start {
                if count < KEPT {
                    kept[count] = &path[from..at];
                }
                count += 1;
            }
            segment_start = Some(at + 1);
        }
    }
    if let Some(from) = segment_start {
        if count < KEPT {
            kept[count] = &path[from..];
        }
        count += 1;
    }
    let segments = &kept[..count.min(KEPT)];
    // Index of the first segment after the group/version prefix.
    let resource_start = match segments {
        ["api", _, ..] => 2,
        ["apis", _, _, ..] => 3,
        _ => {
            out.push_str(&path);
            return;
        }
    };
    let mut push = |segment: &str| {
        out.push('/');
        out.push_str(segment);
    };
    for segment in &segments[..resource_start] {
        push(segment);
    }
    let mut rest = &segments[resource_start..];
    if rest.len() >= 3 && rest[0] == "namespaces" {
        push("namespaces");
        push("{namespace}");
        rest = &rest[2..];
    } else if rest.len() == 2 && rest[0] == "namespaces" {
        push("namespaces");
        push("{name}");
        rest = &[];
    }
    if let Some((resource, tail)) = rest.split_first() {
        push(resource);
        if let Some((_, subresources)) = tail.split_first() {
            push("{name}");
            match subresources {
                [] => {}
                [sub] => push(sub),
                [sub, ..] => {
                    push(sub);
                    push("{path}");
                }
            }
        }
    }
}

/// `String::from_utf8_lossy`, with valid text (all of it in practice) checked
/// by `from_utf8`, which takes a sixth of the instructions.
pub(super) fn lossy(bytes: &[u8]) -> std::borrow::Cow<'_, str> {
    match std::str::from_utf8(bytes) {
        Ok(text) => std::borrow::Cow::Borrowed(text),
        Err(_) => String::from_utf8_lossy(bytes),
    }
}
