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
/// four words of eight, each checked and decoded a word at a time (SWAR),
/// with one branch for all four: 91 instructions a line, where the table
/// lookup per digit it replaces took 276, 8.8% of a parse's (callgrind,
/// README "Benchmarks").
pub(super) fn uuid_value(id: &[u8]) -> Option<u128> {
    let id: &[u8; 36] = id.try_into().ok()?;
    if id[8] != b'-' || id[13] != b'-' || id[18] != b'-' || id[23] != b'-' {
        return None;
    }
    let word = |at: usize| u64::from_le_bytes(id[at..at + 8].try_into().unwrap());
    let half = |at: usize| u64::from(u32::from_le_bytes(id[at..at + 4].try_into().unwrap()));
    let words = [
        word(0),
        half(9) | (half(14) << 32),
        half(19) | (half(24) << 32),
        word(28),
    ];
    if words.iter().fold(0, |bad, &w| bad | not_hex(w)) != 0 {
        return None;
    }
    let [a, b, c, d] = words.map(|w| u128::from(hex8(w)));
    Some((a << 96) | (b << 64) | (c << 32) | d)
}

const ONES: u64 = 0x0101_0101_0101_0101;
const HIGH: u64 = ONES * 0x80;

/// Nonzero unless all eight bytes of `w` are ASCII hex digits.
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
    let (path, _) = crate::routes::split_uri(uri);
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
