//! JSON printed as Python prints it: `json.dumps(value, indent=2,
//! ensure_ascii=False)`, numbers as Python's `repr` of the parsed float or
//! int. `audit-operations.json` prints its samples so
//! ([`operations`](super::operations)); a transcoder prints a sample
//! straight from the line's bytes, and serde_json values are the fallback
//! for lines it declines.

use std::borrow::Cow;
use std::io;

use serde::Serialize;
use serde_json::ser::{Formatter, PrettyFormatter};
use serde_json::Value;

/// Prints one sample at depth 2 (inside the object and its array), straight
/// from the line's bytes, as Python's `json.dumps(json.loads(line), indent=2,
/// ensure_ascii=False)` prints it. Lines the transcoder declines (a duplicate
/// key, a surrogate escape, invalid UTF-8, anything it does not take for
/// valid JSON) go the slow way, [`print_sample_via_serde`].
/// `benches/report.rs`: 5.8-5.9x the throughput of going through serde_json
/// values (see README).
pub fn print_sample(line: &[u8], out: &mut Vec<u8>) {
    if !transcode(line, out) {
        print_sample_via_serde(line, out);
    }
}

/// The transcoder's part of [`print_sample`]: prints `line` and returns
/// true, or prints nothing and returns false when it declines the line. It
/// accepts only what [`apicov_core::event::check_whole`] accepts (the same
/// grammar, nesting bound and UTF-8 rule, and no duplicate keys), so it is
/// the run's [`apicov_core::aggregate::SamplePrinter`]: samples are printed
/// as they are kept.
pub fn transcode(line: &[u8], out: &mut Vec<u8>) -> bool {
    let mark = out.len();
    let mut t = Transcoder {
        b: line,
        i: 0,
        out,
        keys: Vec::new(),
        high: 0,
    };
    let done = t.value(SAMPLE_DEPTH).is_some() && {
        t.ws();
        t.i == line.len()
    };
    // Bytes above 0x7F can only stand inside strings (elsewhere the grammar
    // refuses them), where the walk notes them: most lines are ASCII and
    // need no UTF-8 pass of their own.
    let done = done && (t.high == 0 || std::str::from_utf8(line).is_ok());
    if !done {
        out.truncate(mark);
    }
    done
}

/// The reference way to print a sample: parse into a serde_json value (key
/// order kept), print with `PythonFormatter`. Slow, but it takes anything.
pub fn print_sample_via_serde(line: &[u8], out: &mut Vec<u8>) {
    let text = to_python_json(&parse_event(line));
    for (j, l) in text.split(|&b| b == b'\n').enumerate() {
        if j > 0 {
            out.push(b'\n');
            out.extend_from_slice(b"    ");
        }
        out.extend_from_slice(l);
    }
}

/// Byte classes inside a JSON string.
const PLAIN: u8 = 0;
const QUOTE: u8 = 1;
const BACKSLASH: u8 = 2;
const CONTROL: u8 = 3;

static STRING_CLASS: [u8; 256] = {
    let mut table = [PLAIN; 256];
    let mut c = 0;
    while c < 0x20 {
        table[c] = CONTROL;
        c += 1;
    }
    table[b'"' as usize] = QUOTE;
    table[b'\\' as usize] = BACKSLASH;
    table
};

/// Copies the bytes from `i` up to the first that is not [`PLAIN`] (or the
/// end of `b`) to the end of `out` and returns that byte's index; the high
/// bits of the bytes passed over are OR-ed into `high`. Sixteen bytes at a
/// time with SSE2 (part of every x86_64), the first special byte found by
/// its bit in the compare mask (a tenth faster than an eight-byte SWAR
/// loop). Each block is stored as it is loaded and the length then covers
/// the plain bytes only, rather than copying a run with `extend_from_slice`
/// after the search (a `memcpy` call for a few bytes). An escape that Python prints as it is written
/// (`\"`, `\\`, `\b`, `\f`, `\n`, `\r`, `\t`) is copied with the rest
/// and sets `escaped`; the loop stops only at the others, at a quote and at
/// a control character. Stopping at every backslash made an escaped JSON
/// document (kubectl's last-applied-configuration, in bodies) a call per
/// escape.
#[cfg(target_arch = "x86_64")]
#[inline]
fn copy_plain(
    b: &[u8],
    mut i: usize,
    out: &mut Vec<u8>,
    high: &mut u32,
    escaped: &mut bool,
) -> usize {
    use std::arch::x86_64::{
        __m128i, _mm_cmpeq_epi8, _mm_loadu_si128, _mm_max_epu8, _mm_movemask_epi8, _mm_or_si128,
        _mm_set1_epi8, _mm_storeu_si128,
    };
    // Room for every byte left in `b` and a block's width past it, so that
    // no store below leaves the allocation.
    out.reserve(b.len() - i + 16);
    let len = out.len();
    let from = i;
    while i + 16 <= b.len() {
        // SAFETY: SSE2 is always present on x86_64; the load reads
        // b[i..i + 16], inside `b` (checked above); the store writes
        // out[len + (i - from)..][..16], inside the capacity reserved above
        // (i - from + 16 <= b.len() - from + 16).
        let (special, highs) = unsafe {
            let v = _mm_loadu_si128(b.as_ptr().add(i).cast::<__m128i>());
            _mm_storeu_si128(out.as_mut_ptr().add(len + i - from).cast::<__m128i>(), v);
            let quote = _mm_cmpeq_epi8(v, _mm_set1_epi8(b'"' as i8));
            let backslash = _mm_cmpeq_epi8(v, _mm_set1_epi8(b'\\' as i8));
            // Unsigned v <= 0x1F: max(v, 0x1F) is 0x1F.
            let limit = _mm_set1_epi8(0x1F);
            let control = _mm_cmpeq_epi8(_mm_max_epu8(v, limit), limit);
            let special = _mm_or_si128(_mm_or_si128(quote, backslash), control);
            (
                _mm_movemask_epi8(special) as u32,
                _mm_movemask_epi8(v) as u32,
            )
        };
        if special != 0 {
            let k = special.trailing_zeros();
            *high |= highs & ((1 << k) - 1);
            i += k as usize;
            if b[i] == b'\\'
                && matches!(
                    b.get(i + 1),
                    Some(b'"' | b'\\' | b'b' | b'f' | b'n' | b'r' | b't')
                )
            {
                // Printed as written: the next block goes on after it. The
                // escaped byte may lie past this block's store.
                // SAFETY: len + (i + 1 - from) < len + b.len() - from, inside
                // the capacity reserved above.
                unsafe { *out.as_mut_ptr().add(len + i + 1 - from) = b[i + 1] };
                *escaped = true;
                i += 2;
                continue;
            }
            // SAFETY: bytes len..len + (i - from) were written above, from
            // `b`, and lie within the capacity.
            unsafe { out.set_len(len + i - from) };
            return i;
        }
        *high |= highs;
        i += 16;
    }
    // SAFETY: as above: the bytes up to here were written from `b`.
    unsafe { out.set_len(len + i - from) };
    let tail = i;
    while i < b.len() && STRING_CLASS[usize::from(b[i])] == PLAIN {
        *high |= u32::from(b[i] >> 7);
        i += 1;
    }
    out.extend_from_slice(&b[tail..i]);
    i
}

/// Elsewhere the search ([`skip_plain`]), then one copy; every escape
/// stops it.
#[cfg(not(target_arch = "x86_64"))]
#[inline]
fn copy_plain(b: &[u8], i: usize, out: &mut Vec<u8>, high: &mut u32, _: &mut bool) -> usize {
    let end = skip_plain(b, i, high);
    out.extend_from_slice(&b[i..end]);
    end
}

/// The index of the first byte at or after `i` that is not [`PLAIN`], or
/// `b.len()`, eight bytes at a time while none is special (the usual
/// has-zero-byte and has-less-than tricks), then a byte at a time: 1.17x the
/// throughput of a byte loop alone (benches/report.rs, on x86_64).
#[cfg(not(target_arch = "x86_64"))]
#[inline]
fn skip_plain(b: &[u8], mut i: usize, high: &mut u32) -> usize {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    while let Some(word) = b.get(i..i + 8) {
        let x = u64::from_le_bytes(word.try_into().expect("eight bytes"));
        let quote = x ^ (ONES * u64::from(b'"'));
        let backslash = x ^ (ONES * u64::from(b'\\'));
        let special = (quote.wrapping_sub(ONES) & !quote)
            | (backslash.wrapping_sub(ONES) & !backslash)
            | (x.wrapping_sub(ONES * 0x20) & !x);
        if special & HIGH != 0 {
            break;
        }
        *high |= u32::from(x & HIGH != 0);
        i += 8;
    }
    while i < b.len() && STRING_CLASS[usize::from(b[i])] == PLAIN {
        *high |= u32::from(b[i] >> 7);
        i += 1;
    }
    i
}

/// The indentation level of a sample's object in audit-operations.json.
const SAMPLE_DEPTH: usize = 2;

/// A newline and 15 levels of indentation, copied whole by `newline`.
const NEWLINE_INDENT: &[u8; 32] = b"\n                               ";

/// Indentation for `newline`, two spaces a level.
const SPACES: &[u8; 128] = &[b' '; 128];

/// Re-prints compact JSON as Python's `json.dumps(indent=2,
/// ensure_ascii=False)` would print what `json.loads` made of it, in one
/// pass over the bytes (the line's UTF-8 is checked by the caller when a
/// string held a byte above 0x7F, see `high`). `None`
/// means "not sure": the caller then takes the serde_json path.
struct Transcoder<'a, 'o> {
    b: &'a [u8],
    i: usize,
    out: &'o mut Vec<u8>,
    /// Keys of the objects being printed, innermost last, decoded (the
    /// duplicate check: `"a"` and `"\u0061"` are one key).
    keys: Vec<Cow<'a, [u8]>>,
    /// Nonzero once a byte above 0x7F was passed over (in a string).
    high: u32,
}

impl<'a> Transcoder<'a, '_> {
    fn ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.b.get(self.i) {
            self.i += 1;
        }
    }

    /// A newline and the indentation of `depth`. Up to 15 levels (all but
    /// the deepest lines) as one fixed-size copy of [`NEWLINE_INDENT`] that
    /// the length then cuts: a push and a `memcpy` call for a few spaces
    /// took ~50 instructions a line.
    fn newline(&mut self, depth: usize) {
        let n = 1 + 2 * depth;
        if n <= NEWLINE_INDENT.len() {
            self.out.reserve(NEWLINE_INDENT.len());
            let len = self.out.len();
            // SAFETY: the capacity holds NEWLINE_INDENT.len() more bytes
            // (reserved above), all written here; the length then covers
            // the first n of them (n <= NEWLINE_INDENT.len()).
            unsafe {
                std::ptr::copy_nonoverlapping(
                    NEWLINE_INDENT.as_ptr(),
                    self.out.as_mut_ptr().add(len),
                    NEWLINE_INDENT.len(),
                );
                self.out.set_len(len + n);
            }
            return;
        }
        self.out.push(b'\n');
        match SPACES.get(..2 * depth) {
            Some(spaces) => self.out.extend_from_slice(spaces),
            None => self.out.resize(self.out.len() + 2 * depth, b' '),
        }
    }

    /// `depth` is the indentation level: the sample's own object prints at
    /// [`SAMPLE_DEPTH`]. Samples were checked against
    /// [`apicov_core::event::MAX_NESTING`] before they were kept; the bound here
    /// keeps the recursion shallow whatever the caller passes.
    fn value(&mut self, depth: usize) -> Option<()> {
        if depth >= SAMPLE_DEPTH + apicov_core::event::MAX_NESTING as usize {
            return None;
        }
        self.ws();
        match *self.b.get(self.i)? {
            b'{' => self.object(depth),
            b'[' => self.array(depth),
            b'"' => self.string().map(|_| ()),
            _ => self.scalar(),
        }
    }

    fn object(&mut self, depth: usize) -> Option<()> {
        self.i += 1;
        self.ws();
        if self.b.get(self.i) == Some(&b'}') {
            self.i += 1;
            self.out.extend_from_slice(b"{}");
            return Some(());
        }
        self.out.push(b'{');
        let first_key = self.keys.len();
        loop {
            self.ws();
            if self.b.get(self.i) != Some(&b'"') {
                return None;
            }
            self.newline(depth + 1);
            let (key, escaped) = self.string()?;
            // Python keeps a duplicate key's first place and last value:
            // such an object is left to serde_json. Escaped keys are common
            // (managedFields' `k:{\"name\":\"c0\"}`), so they are compared
            // decoded rather than declined: declining them sent every
            // sample carrying managedFields the slow way (a large-body
            // parse's CPU a third lower with this).
            let key = if escaped {
                apicov_core::event::unescape(key)
            } else {
                Cow::Borrowed(key)
            };
            if self.keys[first_key..].contains(&key) {
                return None;
            }
            self.keys.push(key);
            self.ws();
            if self.b.get(self.i) != Some(&b':') {
                return None;
            }
            self.i += 1;
            self.out.extend_from_slice(b": ");
            self.value(depth + 1)?;
            if !self.comma_or_close(b'}', depth)? {
                self.keys.truncate(first_key);
                return Some(());
            }
        }
    }

    fn array(&mut self, depth: usize) -> Option<()> {
        self.i += 1;
        self.ws();
        if self.b.get(self.i) == Some(&b']') {
            self.i += 1;
            self.out.extend_from_slice(b"[]");
            return Some(());
        }
        self.out.push(b'[');
        loop {
            self.newline(depth + 1);
            self.value(depth + 1)?;
            if !self.comma_or_close(b']', depth)? {
                return Some(());
            }
        }
    }

    /// After a member or element: a `,` (true: another follows) or `close`
    /// (false: printed on its own line at `depth`); anything else is not
    /// JSON (None).
    fn comma_or_close(&mut self, close: u8, depth: usize) -> Option<bool> {
        self.ws();
        let c = *self.b.get(self.i)?;
        self.i += 1;
        if c == b',' {
            self.out.push(b',');
            Some(true)
        } else if c == close {
            self.newline(depth);
            self.out.push(close);
            Some(false)
        } else {
            None
        }
    }

    /// At a quote: prints the string as Python does and returns its raw
    /// contents and whether they hold escapes. Python escapes only `"`, `\`
    /// and control characters (`\n`-style where it has one, else `\u00XX`),
    /// so runs without a backslash are copied as they are.
    fn string(&mut self) -> Option<(&'a [u8], bool)> {
        let b: &'a [u8] = self.b;
        let start = self.i + 1;
        let mut i = start;
        let mut escaped = false;
        self.out.push(b'"');
        loop {
            i = copy_plain(b, i, self.out, &mut self.high, &mut escaped);
            match STRING_CLASS[usize::from(*b.get(i)?)] {
                QUOTE => {
                    self.out.push(b'"');
                    self.i = i + 1;
                    return Some((&b[start..i], escaped));
                }
                BACKSLASH => {
                    escaped = true;
                    i = self.escape(i)?;
                }
                _ => return None, // a raw control character: not JSON
            }
        }
    }

    /// Prints the escape at `at` (a backslash) as Python would print the
    /// character it stands for; returns the index after it.
    fn escape(&mut self, at: usize) -> Option<usize> {
        let c = *self.b.get(at + 1)?;
        match c {
            // Python prints these the way Go wrote them.
            b'"' | b'\\' | b'b' | b'f' | b'n' | b'r' | b't' => {
                self.out.extend_from_slice(&[b'\\', c]);
                Some(at + 2)
            }
            b'/' => {
                self.out.push(b'/');
                Some(at + 2)
            }
            b'u' => {
                let hex = std::str::from_utf8(self.b.get(at + 2..at + 6)?).ok()?;
                if !hex.bytes().all(|d| d.is_ascii_hexdigit()) {
                    return None;
                }
                // A surrogate (even a valid pair) is left to serde_json.
                let ch = char::from_u32(u32::from_str_radix(hex, 16).ok()?)?;
                self.print_char(ch);
                Some(at + 6)
            }
            _ => None,
        }
    }

    fn print_char(&mut self, ch: char) {
        match ch {
            '"' => self.out.extend_from_slice(b"\\\""),
            '\\' => self.out.extend_from_slice(b"\\\\"),
            '\n' => self.out.extend_from_slice(b"\\n"),
            '\r' => self.out.extend_from_slice(b"\\r"),
            '\t' => self.out.extend_from_slice(b"\\t"),
            '\u{8}' => self.out.extend_from_slice(b"\\b"),
            '\u{c}' => self.out.extend_from_slice(b"\\f"),
            c if (c as u32) < 0x20 => {
                let hex = b"0123456789abcdef";
                let code = c as usize;
                self.out.extend_from_slice(&[
                    b'\\',
                    b'u',
                    b'0',
                    b'0',
                    hex[code >> 4],
                    hex[code & 15],
                ]);
            }
            c => {
                let mut buf = [0u8; 4];
                self.out
                    .extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
            }
        }
    }

    fn scalar(&mut self) -> Option<()> {
        let token = apicov_core::event::scalar_token(&self.b[self.i..]);
        let len = token.len();
        match token {
            b"true" | b"false" | b"null" => self.out.extend_from_slice(token),
            _ if apicov_core::event::is_json_number(token) => {
                let text = std::str::from_utf8(token).ok()?;
                self.out.extend_from_slice(python_number(text).as_bytes());
            }
            _ => return None,
        }
        self.i += len;
        Some(())
    }
}

/// The event as a JSON value with its key order kept. The extractor accepted
/// the line; serde_json refuses a few things it does not (a lone surrogate
/// escape, a raw control character in a string): then the raw line is kept as
/// a string rather than dropped.
fn parse_event(line: &[u8]) -> Value {
    serde_json::from_slice(line)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(line).into_owned()))
}

/// Serialises like Python's `json.dumps(value, indent=2, ensure_ascii=False)`.
pub fn to_python_json(value: &Value) -> Vec<u8> {
    let mut out = Vec::new();
    let mut ser = serde_json::Serializer::with_formatter(&mut out, PythonFormatter::default());
    value
        .serialize(&mut ser)
        .expect("writing to a Vec cannot fail");
    out
}

/// serde_json's pretty printer with Python's number spelling. Strings already
/// match: both escape only `"`, `\` and control characters, with lowercase hex.
/// Kept apart from the transcoder's own escaping on purpose: the tests hold
/// the transcoder to this independent printer.
struct PythonFormatter {
    pretty: PrettyFormatter<'static>,
}

impl Default for PythonFormatter {
    fn default() -> PythonFormatter {
        PythonFormatter {
            pretty: PrettyFormatter::with_indent(b"  "),
        }
    }
}

/// Formatter methods that only pass on to the pretty printer.
macro_rules! pretty {
    ($($name:ident($($arg:ident: $ty:ty),*);)*) => {
        $(fn $name<W: ?Sized + io::Write>(&mut self, w: &mut W $(, $arg: $ty)*) -> io::Result<()> {
            self.pretty.$name(w $(, $arg)*)
        })*
    };
}

impl Formatter for PythonFormatter {
    fn write_number_str<W: ?Sized + io::Write>(
        &mut self,
        w: &mut W,
        value: &str,
    ) -> io::Result<()> {
        w.write_all(python_number(value).as_bytes())
    }
    pretty! {
        begin_array();
        end_array();
        begin_array_value(first: bool);
        end_array_value();
        begin_object();
        end_object();
        begin_object_key(first: bool);
        begin_object_value();
        end_object_value();
    }
}

/// A JSON number as Python re-prints it after `json.loads`: integers keep
/// their digits (`-0` becomes `0`); anything with a fraction or exponent is a
/// float printed by `repr` (shortest round-trip digits, exponent form below
/// 1e-4 and from 1e16, `.0` on whole numbers, `Infinity` on overflow).
pub fn python_number(text: &str) -> Cow<'_, str> {
    if !text.contains(['.', 'e', 'E']) {
        return if text == "-0" {
            "0".into()
        } else {
            text.into()
        };
    }
    let value: f64 = text.parse().unwrap_or(f64::NAN);
    if value.is_infinite() {
        return if value > 0.0 { "Infinity" } else { "-Infinity" }.into();
    }
    if value.is_nan() {
        return "NaN".into();
    }
    // Rust's `{:e}` gives the shortest round-trip digits, like Python's repr.
    let sci = format!("{value:e}");
    let (mantissa, exp) = sci.split_once('e').expect("{:e} has an exponent");
    let exp: i32 = exp.parse().expect("{:e} exponent is an integer");
    let (sign, mantissa) = match mantissa.strip_prefix('-') {
        Some(m) => ("-", m),
        None => ("", mantissa),
    };
    let digits: String = mantissa.chars().filter(|c| *c != '.').collect();
    let decpt = exp + 1; // value = 0.DIGITS × 10^decpt
    if !(-4 < decpt && decpt <= 16) {
        let (first, rest) = digits.split_at(1);
        let frac = if rest.is_empty() {
            String::new()
        } else {
            format!(".{rest}")
        };
        let esign = if exp < 0 { '-' } else { '+' };
        return format!("{sign}{first}{frac}e{esign}{:02}", exp.abs()).into();
    }
    let n = digits.len() as i32;
    let printed = if decpt <= 0 {
        format!("{sign}0.{}{digits}", "0".repeat((-decpt) as usize))
    } else if decpt >= n {
        format!("{sign}{digits}{}.0", "0".repeat((decpt - n) as usize))
    } else {
        let (int, frac) = digits.split_at(decpt as usize);
        format!("{sign}{int}.{frac}")
    };
    printed.into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_print_as_python_repr() {
        let cases = [
            ("0", "0"),
            ("-0", "0"),
            ("12345678901234567890123", "12345678901234567890123"),
            ("1.0", "1.0"),
            ("1.50", "1.5"),
            ("0.0001", "0.0001"),
            ("0.00001", "1e-05"),
            ("1e5", "100000.0"),
            ("1E+16", "1e+16"),
            ("1e15", "1000000000000000.0"),
            ("123.456e-10", "1.23456e-08"),
            ("-0.0", "-0.0"),
            ("0.1", "0.1"),
            ("1e400", "Infinity"),
            ("2.5e-3", "0.0025"),
            ("1.2345678901234567e20", "1.2345678901234567e+20"),
        ];
        for (input, want) in cases {
            assert_eq!(python_number(input), want, "{input}");
        }
    }

    /// Escaped keys are printed by the transcoder and compared decoded: a
    /// duplicate spelled with an escape still goes to serde_json, which
    /// keeps Python's first place and last value.
    #[test]
    fn escaped_keys_are_compared_decoded() {
        let cases: [(&str, bool); 4] = [
            (
                r#"{"f:metadata":{"k:{\"name\":\"c0\"}":{".":{}},"k:{\"name\":\"c1\"}":{}}}"#,
                true,
            ),
            (r#"{"a":1,"\u0061":2,"b":3}"#, false),
            (r#"{"\u0061":1,"a":2}"#, false),
            (r#"{"a\u0026b":1,"a&c":2,"x":{"a\u0026b":3}}"#, true),
        ];
        for (line, transcoded) in cases {
            assert_prints_as_serde(line, transcoded);
        }
    }

    /// `line` is taken by the transcoder (or left to serde_json) as
    /// `transcoded` says, and prints as serde_json prints it.
    fn assert_prints_as_serde(line: &str, transcoded: bool) {
        let mut fast = Vec::new();
        assert_eq!(transcode(line.as_bytes(), &mut fast), transcoded, "{line}");
        let (mut printed, mut slow) = (Vec::new(), Vec::new());
        print_sample(line.as_bytes(), &mut printed);
        print_sample_via_serde(line.as_bytes(), &mut slow);
        assert_eq!(
            String::from_utf8_lossy(&printed),
            String::from_utf8_lossy(&slow),
            "{line}"
        );
    }

    /// Strings are searched sixteen bytes at a time: each kind of special
    /// byte at every offset of a long string (and of the key after it),
    /// against serde_json, and taken by the transcoder unless it is a raw
    /// control character, which is not JSON.
    #[test]
    fn special_bytes_at_every_offset_print_as_serde_does() {
        let specials: [(&str, bool); 9] = [
            (r#"\""#, true),
            (r"\\", true),
            // Escapes printed as written, one after another, then one that
            // is not (the copy stops there).
            (r#"\"\\\n\t\"\b\f\r"#, true),
            (r"\\\/\u00e9\n", true),
            (r"\u0007", true),
            (r"\u00e9", true),
            ("\u{e9}\u{65e5}", true),
            ("\u{7f}\u{1f}", false),
            ("\t", false),
        ];
        for (special, transcoded) in specials {
            for at in 0..40 {
                let line = format!(
                    r#"{{"value":"{}{special}{}","{}k":"v"}}"#,
                    "x".repeat(at),
                    "y".repeat(40 - at),
                    "z".repeat(at)
                );
                assert_prints_as_serde(&line, transcoded);
            }
        }
    }

    /// Invalid UTF-8 at every offset of a string and of a key: the
    /// transcoder, which checks a line's UTF-8 only when a string held a
    /// byte above 0x7F, declines the line and prints nothing of it.
    #[test]
    fn invalid_utf8_at_every_offset_is_declined() {
        let bad: [&[u8]; 4] = [b"\xff", b"\x80", b"\xe6\x97", b"\xed\xa0\x80"];
        for bytes in bad {
            for at in 0..40 {
                for in_key in [false, true] {
                    let text = [&b"x".repeat(at)[..], bytes, &b"y".repeat(40 - at)].concat();
                    let (value, key) = if in_key {
                        (b"v".to_vec(), text)
                    } else {
                        (text, b"k".to_vec())
                    };
                    let line = [&b"{\"a\":\""[..], &value, b"\",\"", &key, b"\":1}"].concat();
                    let mut out = b"kept".to_vec();
                    assert!(
                        !transcode(&line, &mut out),
                        "{:?}",
                        String::from_utf8_lossy(&line)
                    );
                    assert_eq!(out, b"kept");
                }
            }
        }
    }

    #[test]
    fn pretty_printing_matches_python() {
        let v: Value =
            serde_json::from_str(r#"{"b":[],"a":{},"c":[1,{"x":"é\u0001\"/"}],"d":null}"#).unwrap();
        let want = "{\n  \"b\": [],\n  \"a\": {},\n  \"c\": [\n    1,\n    {\n      \"x\": \"é\\u0001\\\"/\"\n    }\n  ],\n  \"d\": null\n}";
        assert_eq!(String::from_utf8(to_python_json(&v)).unwrap(), want);
    }
}
