//! The general loop's cursor: walks a line's JSON once, checking its
//! structure as it skips (balanced and matching brackets, closed strings,
//! valid escapes, the number and literal grammar, at most [`MAX_NESTING`]
//! levels).

use super::issue::LineIssue;
use super::json_str::JsonStr;

/// The deepest nesting of `{` and `[` a line may have, its own object
/// included: exactly what serde_json (the samples' fallback printer) accepts,
/// so the extractor, the sample printers and a full check agree on one rule.
/// Go's audit events nest about 20 levels; a deeper line is malformed.
pub const MAX_NESTING: u32 = 127;

/// A cursor over one line, walking JSON.
pub(super) struct Scanner<'a> {
    pub(super) b: &'a [u8],
    pub(super) i: usize,
    /// Nonzero once a string walked may hold a byte above 0x7F; zero means
    /// every string walked was ASCII. Outside strings a walked JSON line is
    /// ASCII by its grammar, so zero spares the UTF-8 check of the walked
    /// part (from_utf8 was 6% of a parse's instructions).
    pub(super) high: u64,
}

/// Blocks of 16 bytes searched inline before a long string goes to
/// `memchr2`: audit heads' strings (IDs, stages, verbs, most URIs) end
/// within them.
const INLINE_BLOCKS: usize = 8;

/// The index of the first `"` or `\` at or after `at`, sixteen bytes at a
/// time with SSE2 (part of every x86_64), OR-ing the high bits of the bytes
/// before it into `high`. Past [`INLINE_BLOCKS`] blocks `memchr2` takes
/// over and `high` is set (not known to be ASCII). Against `memchr2` on
/// every string plus a UTF-8 pass over the walked part: an eighth fewer
/// instructions.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
fn quote_or_backslash(b: &[u8], mut at: usize, high: &mut u64) -> Option<usize> {
    use std::arch::x86_64::{
        __m128i, _mm_cmpeq_epi8, _mm_loadu_si128, _mm_movemask_epi8, _mm_or_si128, _mm_set1_epi8,
    };
    let mut blocks = 0;
    while blocks < INLINE_BLOCKS && at + 16 <= b.len() {
        // SAFETY: SSE2 is always present on x86_64, and the unaligned load
        // reads b[at..at + 16], inside `b` (checked above).
        let (found, highs) = unsafe {
            let v = _mm_loadu_si128(b.as_ptr().add(at).cast::<__m128i>());
            let hit = _mm_or_si128(
                _mm_cmpeq_epi8(v, _mm_set1_epi8(b'"' as i8)),
                _mm_cmpeq_epi8(v, _mm_set1_epi8(b'\\' as i8)),
            );
            (_mm_movemask_epi8(hit) as u32, _mm_movemask_epi8(v) as u32)
        };
        if found != 0 {
            let k = found.trailing_zeros();
            *high |= u64::from(highs & ((1u32 << k) - 1));
            return Some(at + k as usize);
        }
        *high |= u64::from(highs);
        at += 16;
        blocks += 1;
    }
    if at + 16 > b.len() {
        // Fewer than 16 bytes left in the line.
        let k = b[at..].iter().position(|&c| c == b'"' || c == b'\\')?;
        *high |= u64::from(!b[at..at + k].is_ascii());
        return Some(at + k);
    }
    *high |= 1;
    memchr::memchr2(b'"', b'\\', &b[at..]).map(|k| at + k)
}

/// Elsewhere `memchr2`, and the walked part gets its UTF-8 checked.
#[cfg(not(target_arch = "x86_64"))]
#[inline(always)]
fn quote_or_backslash(b: &[u8], at: usize, high: &mut u64) -> Option<usize> {
    *high |= 1;
    memchr::memchr2(b'"', b'\\', &b[at..]).map(|k| at + k)
}

impl<'a> Scanner<'a> {
    #[inline]
    pub(super) fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    #[inline]
    pub(super) fn ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.peek() {
            self.i += 1;
        }
    }

    /// At an opening quote: skips the string, returns its contents.
    #[inline(always)]
    pub(super) fn string(&mut self) -> Result<JsonStr<'a>, LineIssue> {
        let start = self.i + 1;
        match self.skip_string() {
            Ok(escaped) => Ok(JsonStr {
                raw: &self.b[start..self.i - 1],
                escaped,
            }),
            Err(why) => Err(LineIssue::NotJson(why)),
        }
    }

    /// [`Scanner::string`]'s walk: returns whether the string held escapes,
    /// and leaves the cursor after its closing quote. Returning a flag
    /// rather than the string keeps the result in a register.
    #[inline]
    fn skip_string(&mut self) -> Result<bool, &'static str> {
        let mut at = self.i + 1;
        let mut escaped = false;
        loop {
            match quote_or_backslash(self.b, at, &mut self.high) {
                Some(end) if self.b[end] == b'"' => {
                    self.i = end + 1;
                    return Ok(escaped);
                }
                Some(k) => {
                    escaped = true;
                    at = k + 1;
                    match self.b.get(at) {
                        Some(b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't') => at += 1,
                        Some(b'u') => {
                            let hex = self.b.get(at + 1..at + 5);
                            if !hex.is_some_and(|h| h.iter().all(u8::is_ascii_hexdigit)) {
                                return Err("bad \\u escape");
                            }
                            at += 5;
                        }
                        Some(_) => return Err("bad escape"),
                        None => return Err("line ends inside a string"),
                    }
                }
                None => return Err("line ends inside a string"),
            }
        }
    }

    /// Skips one value of any type.
    pub(super) fn value(&mut self) -> Result<(), LineIssue> {
        match self.peek() {
            Some(b'"') => self.string().map(|_| ()),
            Some(b'{' | b'[') => self.container(),
            Some(_) => self.scalar(),
            None => Err(LineIssue::NotJson("line ends before a value")),
        }
    }

    /// Skips a number or `true`/`false`/`null`, checking its grammar.
    fn scalar(&mut self) -> Result<(), LineIssue> {
        let token = scalar_token(&self.b[self.i..]);
        let len = token.len();
        let ok = matches!(token, b"true" | b"false" | b"null") || is_json_number(token);
        if !ok {
            return Err(LineIssue::NotJson("invalid value"));
        }
        self.i += len;
        Ok(())
    }

    /// Skips an object or array, tracking bracket types on a bit stack.
    fn container(&mut self) -> Result<(), LineIssue> {
        // Bit d of `stack` is 1 when depth d is an object. Objects alternate
        // key and value, which is checked only structurally: a key is a
        // string, and values are validated by the same scanner.
        let mut stack: u128 = 0;
        let mut depth: u32 = 0;
        let mut expect_key = false;
        loop {
            self.ws();
            let Some(c) = self.peek() else {
                return Err(LineIssue::NotJson("line ends inside a nested value"));
            };
            match c {
                b'{' | b'[' => {
                    // `depth` counts the levels open inside the event's own
                    // object; this bracket opens one more.
                    if depth + 1 >= MAX_NESTING {
                        return Err(LineIssue::NotJson("nested too deeply"));
                    }
                    let is_object = c == b'{';
                    stack = (stack << 1) | u128::from(is_object);
                    depth += 1;
                    self.i += 1;
                    self.ws();
                    let close = if is_object { b'}' } else { b']' };
                    if self.peek() == Some(close) {
                        continue; // the closing bracket is handled below
                    }
                    expect_key = is_object;
                    continue;
                }
                b'}' | b']' => {
                    let is_object = stack & 1 == 1;
                    if (c == b'}') != is_object {
                        return Err(LineIssue::NotJson("mismatched brackets"));
                    }
                    stack >>= 1;
                    depth -= 1;
                    self.i += 1;
                    if depth == 0 {
                        return Ok(());
                    }
                }
                _ => {
                    if expect_key {
                        if c != b'"' {
                            return Err(LineIssue::NotJson("expected a key"));
                        }
                        self.string()?;
                        self.ws();
                        if self.peek() != Some(b':') {
                            return Err(LineIssue::NotJson("expected ':'"));
                        }
                        self.i += 1;
                        self.ws();
                        match self.peek() {
                            Some(b'{' | b'[') => continue,
                            _ => self.value()?,
                        }
                    } else {
                        self.value()?;
                    }
                }
            }
            // After a complete value inside a container: ',' or the close.
            self.ws();
            match self.peek() {
                Some(b',') => {
                    self.i += 1;
                    expect_key = stack & 1 == 1;
                }
                Some(b'}' | b']') => {}
                None => return Err(LineIssue::NotJson("line ends inside a nested value")),
                _ => return Err(LineIssue::NotJson("expected ',' in a nested value")),
            }
        }
    }
}

/// The number or literal at the start of `rest`: up to the first byte that
/// can end a value (`,`, `}`, `]` or whitespace).
pub fn scalar_token(rest: &[u8]) -> &[u8] {
    let len = rest
        .iter()
        .position(|c| matches!(c, b',' | b'}' | b']' | b' ' | b'\t' | b'\n' | b'\r'))
        .unwrap_or(rest.len());
    &rest[..len]
}

/// The JSON number grammar: `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`.
pub fn is_json_number(token: &[u8]) -> bool {
    let mut i = 0;
    let n = token.len();
    if i < n && token[i] == b'-' {
        i += 1;
    }
    let digits = |i: &mut usize| {
        let start = *i;
        while *i < n && token[*i].is_ascii_digit() {
            *i += 1;
        }
        *i - start
    };
    if i < n && token[i] == b'0' {
        i += 1;
    } else if digits(&mut i) == 0 {
        return false;
    }
    if i < n && token[i] == b'.' {
        i += 1;
        if digits(&mut i) == 0 {
            return false;
        }
    }
    if i < n && (token[i] == b'e' || token[i] == b'E') {
        i += 1;
        if i < n && (token[i] == b'+' || token[i] == b'-') {
            i += 1;
        }
        if digits(&mut i) == 0 {
            return false;
        }
    }
    i == n
}
