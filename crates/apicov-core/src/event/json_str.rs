//! A JSON string as it sits in a line ([`JsonStr`]) and the decoding of its
//! escapes.

use std::borrow::Cow;

/// A JSON string value as it sits in the line, between its quotes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JsonStr<'a> {
    pub(super) raw: &'a [u8],
    pub(super) escaped: bool,
}

impl<'a> JsonStr<'a> {
    /// The string with escapes decoded (Go writes `&` as `\u0026`). Borrows
    /// from the line when there is nothing to decode.
    pub fn decode(&self) -> Cow<'a, [u8]> {
        if !self.escaped {
            return Cow::Borrowed(self.raw);
        }
        let mut out = Vec::with_capacity(self.raw.len());
        decode_escapes(self.raw, &mut out);
        Cow::Owned(out)
    }

    /// Like [`JsonStr::decode`], decoding into a reused buffer: no allocation
    /// per line for the URIs that hold escapes (most list and watch URIs do).
    pub fn decode_into<'b>(&self, scratch: &'b mut Vec<u8>) -> &'b [u8]
    where
        'a: 'b,
    {
        if !self.escaped {
            return self.raw;
        }
        scratch.clear();
        decode_escapes(self.raw, scratch);
        scratch
    }

    /// The string's bytes as they appear in the line (escapes undecoded).
    pub fn raw(&self) -> &'a [u8] {
        self.raw
    }
}

/// The contents of a JSON string (between its quotes, its escapes valid)
/// with the escapes decoded; borrowed when it has none. A lone surrogate
/// becomes U+FFFD.
pub fn unescape(raw: &[u8]) -> Cow<'_, [u8]> {
    JsonStr {
        raw,
        escaped: memchr::memchr(b'\\', raw).is_some(),
    }
    .decode()
}

/// Decodes JSON escapes (already validated by the scanner) into UTF-8. A lone
/// surrogate becomes U+FFFD.
///
/// A third of a conformance run's request URIs hold escapes (Go writes `&`
/// as `\u0026`): plain runs are copied sixteen bytes at a time as they are
/// searched, and an escape of an ASCII character is one byte pushed. The
/// plain rule (a `memchr` and a `memcpy` call per run, every `\u` escape
/// through `char` and `encode_utf8`, 546 instructions a URI) stays as the
/// tests' oracle.
pub(super) fn decode_escapes(raw: &[u8], out: &mut Vec<u8>) {
    // Decoding never lengthens: `\uXXXX` is at most 3 bytes of UTF-8, a
    // surrogate pair's 12 bytes are 4, the others 2 are 1.
    out.reserve(raw.len());
    let mut i = 0;
    loop {
        i = copy_to_backslash(raw, i, out);
        if i >= raw.len() {
            return;
        }
        i += 2;
        let byte = match raw[i - 1] {
            b'b' => 0x08,
            b'f' => 0x0c,
            b'n' => b'\n',
            b'r' => b'\r',
            b't' => b'\t',
            b'u' => {
                i = decode_unicode(raw, i, out);
                continue;
            }
            other => other,
        };
        out.push(byte);
    }
}

/// Decodes the `\u` escape whose four digits start at `at` (and the low
/// half of a surrogate pair after it); returns the index after it.
#[inline(always)]
fn decode_unicode(raw: &[u8], mut at: usize, out: &mut Vec<u8>) -> usize {
    let unit = hex4(&raw[at..at + 4]);
    at += 4;
    if unit < 0x80 {
        out.push(unit as u8);
        return at;
    }
    let ch = if (0xD800..0xDC00).contains(&unit)
        && raw.get(at..at + 2) == Some(b"\\u")
        && raw.len() >= at + 6
    {
        let low = hex4(&raw[at + 2..at + 6]);
        if (0xDC00..0xE000).contains(&low) {
            at += 6;
            char::from_u32(0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00))
        } else {
            None
        }
    } else {
        char::from_u32(unit)
    };
    let mut buf = [0u8; 4];
    out.extend_from_slice(ch.unwrap_or('\u{FFFD}').encode_utf8(&mut buf).as_bytes());
    at
}

/// Copies `raw[at..]` up to its next backslash onto `out`; returns the
/// backslash's index, or `raw.len()`. With SSE2, each 16-byte block is
/// stored whole as it is searched and the length then covers its plain
/// bytes.
#[inline(always)]
fn copy_to_backslash(raw: &[u8], mut at: usize, out: &mut Vec<u8>) -> usize {
    #[cfg(target_arch = "x86_64")]
    while at + 16 <= raw.len() {
        use std::arch::x86_64::{
            __m128i, _mm_cmpeq_epi8, _mm_loadu_si128, _mm_movemask_epi8, _mm_set1_epi8,
            _mm_storeu_si128,
        };
        out.reserve(16);
        // SAFETY: SSE2 is part of every x86_64; the load reads raw[at..at +
        // 16] (checked above) and the store writes 16 bytes of `out`'s spare
        // capacity (reserved above); `set_len` then covers only bytes
        // copied from `raw`.
        let plain = unsafe {
            let v = _mm_loadu_si128(raw.as_ptr().add(at).cast::<__m128i>());
            _mm_storeu_si128(out.as_mut_ptr().add(out.len()).cast::<__m128i>(), v);
            let found = _mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_set1_epi8(b'\\' as i8))) as u32;
            let plain = if found == 0 {
                16
            } else {
                found.trailing_zeros() as usize
            };
            out.set_len(out.len() + plain);
            plain
        };
        at += plain;
        if plain < 16 {
            return at;
        }
    }
    for &c in &raw[at..] {
        if c == b'\\' {
            return at;
        }
        out.push(c);
        at += 1;
    }
    at
}

fn hex4(h: &[u8]) -> u32 {
    h.iter().fold(0, |acc, &d| {
        acc * 16
            + match d {
                b'0'..=b'9' => u32::from(d - b'0'),
                b'a'..=b'f' => u32::from(d - b'a' + 10),
                _ => u32::from(d - b'A' + 10),
            }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The decoder as first written: the oracle for [`decode_escapes`].
    fn decode_escapes_plain(raw: &[u8], out: &mut Vec<u8>) {
        let mut i = 0;
        while i < raw.len() {
            let Some(k) = memchr::memchr(b'\\', &raw[i..]) else {
                out.extend_from_slice(&raw[i..]);
                return;
            };
            out.extend_from_slice(&raw[i..i + k]);
            i += k + 1;
            let c = raw[i];
            i += 1;
            let simple = match c {
                b'b' => Some(0x08),
                b'f' => Some(0x0c),
                b'n' => Some(b'\n'),
                b'r' => Some(b'\r'),
                b't' => Some(b'\t'),
                b'u' => None,
                other => Some(other),
            };
            if let Some(byte) = simple {
                out.push(byte);
                continue;
            }
            let unit = hex4(&raw[i..i + 4]);
            i += 4;
            let ch = if (0xD800..0xDC00).contains(&unit)
                && raw.get(i..i + 2) == Some(b"\\u")
                && raw.len() >= i + 6
            {
                let low = hex4(&raw[i + 2..i + 6]);
                if (0xDC00..0xE000).contains(&low) {
                    i += 6;
                    char::from_u32(0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00))
                } else {
                    None
                }
            } else {
                char::from_u32(unit)
            };
            let mut buf = [0u8; 4];
            out.extend_from_slice(ch.unwrap_or('\u{FFFD}').encode_utf8(&mut buf).as_bytes());
        }
    }

    #[test]
    fn escapes_decode_as_the_plain_rule_has_them() {
        // Every escape the scanner lets through (ASCII, two- and three-byte
        // characters, a surrogate pair, lone surrogates), each at every
        // offset of plain text of every length up to 40, alone and twice.
        let escapes: [&[u8]; 14] = [
            br"\u0026",
            br"\u003c",
            br"\u007f",
            br"\u00e9",
            br"\u20ac",
            br"\uFFFD",
            br"\ud83d\ude00",
            br"\ud83d",
            br"\ude00x",
            br"\n",
            br"\t",
            br"\\",
            br"\/",
            br#"\""#,
        ];
        let text: Vec<u8> = "pods/é-abcdefghijklmnopqrstuvwxyz0123456789"
            .bytes()
            .collect();
        let mut cases = 0;
        let mut out = Vec::new();
        for len in 0..=40 {
            let plain = &text[..len];
            for at in 0..=len {
                for escape in escapes {
                    for twice in [false, true] {
                        let mut raw = plain[..at].to_vec();
                        raw.extend_from_slice(escape);
                        if twice {
                            raw.extend_from_slice(escape);
                        }
                        raw.extend_from_slice(&plain[at..]);
                        let mut want = Vec::new();
                        decode_escapes_plain(&raw, &mut want);
                        out.clear();
                        out.extend_from_slice(b"kept");
                        decode_escapes(&raw, &mut out);
                        assert_eq!(&out[4..], &want[..], "{:?}", String::from_utf8_lossy(&raw));
                        cases += 1;
                    }
                }
            }
        }
        assert_eq!(cases, 24_108);
        out.clear();
        decode_escapes(br"a\u0026b", &mut out);
        assert_eq!(out, b"a&b");
    }
}
