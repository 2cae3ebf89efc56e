//! `audit-operations.json`: `{operationId: [up to 5 sample events]}` for the
//! operations that pass the filters, in order of first hit. Each sample is the
//! parsed event, printed as Python's `json.dump(indent=2, ensure_ascii=False)`
//! prints it, so the file is byte-identical to the reference's.

use std::io;

use rayon::prelude::*;
use serde::Serialize;
use serde_json::ser::{Formatter, PrettyFormatter};
use serde_json::Value;

use crate::aggregate::Tally;
use crate::coverage::Coverage;
use crate::spec::Catalogue;

pub fn render(catalogue: &Catalogue, tally: &Tally, coverage: &Coverage) -> Vec<u8> {
    // Each operation's samples are printed in parallel (a 200 MB run has
    // ~5,000 samples, ~6 MB of JSON), then joined into the document.
    let parts: Vec<Vec<u8>> = coverage
        .kept
        .par_iter()
        .map(|op| {
            let mut part = Vec::new();
            let name = Value::from(catalogue.get(*op).id.as_str());
            part.extend_from_slice(b"  ");
            part.extend_from_slice(&to_python_json(&name));
            let samples = &tally.samples[op.index()];
            if samples.is_empty() {
                part.extend_from_slice(b": []");
                return part;
            }
            part.extend_from_slice(b": [\n");
            for (i, sample) in samples.iter().enumerate() {
                part.extend_from_slice(b"    ");
                print_sample(&sample.line, &mut part);
                part.extend_from_slice(if i + 1 < samples.len() { b",\n" } else { b"\n" });
            }
            part.extend_from_slice(b"  ]");
            part
        })
        .collect();
    if parts.is_empty() {
        return b"{}".to_vec();
    }
    let mut out = b"{\n".to_vec();
    for (i, part) in parts.iter().enumerate() {
        out.extend_from_slice(part);
        out.extend_from_slice(if i + 1 < parts.len() { b",\n" } else { b"\n" });
    }
    out.push(b'}');
    out
}

/// Prints one sample at depth 2 (inside the object and its array), straight
/// from the line's bytes. Lines the transcoder declines (a duplicate key,
/// a surrogate escape, anything it does not take for valid JSON) go the slow
/// way through serde_json. Rendering a 200 MB run's samples: 26 ms with
/// serde_json values, PLACEHOLDER with the transcoder.
fn print_sample(line: &[u8], out: &mut Vec<u8>) {
    let mark = out.len();
    let mut t = Transcoder { b: line, i: 0, out };
    let done = t.value(2).is_some() && {
        t.ws();
        t.i == line.len()
    };
    if !done {
        out.truncate(mark);
        let text = to_python_json(&parse_event(line));
        for (j, l) in text.split(|&b| b == b'\n').enumerate() {
            if j > 0 {
                out.push(b'\n');
                out.extend_from_slice(b"    ");
            }
            out.extend_from_slice(l);
        }
    }
}

/// Re-prints compact JSON as Python's `json.dumps(indent=2,
/// ensure_ascii=False)` would print what `json.loads` made of it. `None`
/// means "not sure": the caller then takes the serde_json path.
struct Transcoder<'a, 'o> {
    b: &'a [u8],
    i: usize,
    out: &'o mut Vec<u8>,
}

impl<'a> Transcoder<'a, '_> {
    fn ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.b.get(self.i) {
            self.i += 1;
        }
    }

    fn newline(&mut self, depth: usize) {
        self.out.push(b'\n');
        self.out.resize(self.out.len() + 2 * depth, b' ');
    }

    fn value(&mut self, depth: usize) -> Option<()> {
        self.ws();
        match *self.b.get(self.i)? {
            b'{' => self.object(depth),
            b'[' => self.array(depth),
            b'"' => {
                let raw = self.string()?;
                self.print_string(raw)
            }
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
        let mut keys: Vec<&'a [u8]> = Vec::new();
        loop {
            self.ws();
            if self.b.get(self.i) != Some(&b'"') {
                return None;
            }
            let key = self.string()?;
            // Python keeps a duplicate key's first place and last value.
            if keys.contains(&key) {
                return None;
            }
            keys.push(key);
            self.newline(depth + 1);
            self.print_string(key)?;
            self.ws();
            if self.b.get(self.i) != Some(&b':') {
                return None;
            }
            self.i += 1;
            self.out.extend_from_slice(b": ");
            self.value(depth + 1)?;
            self.ws();
            match self.b.get(self.i)? {
                b',' => {
                    self.i += 1;
                    self.out.push(b',');
                }
                b'}' => {
                    self.i += 1;
                    self.newline(depth);
                    self.out.push(b'}');
                    return Some(());
                }
                _ => return None,
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
            self.ws();
            match self.b.get(self.i)? {
                b',' => {
                    self.i += 1;
                    self.out.push(b',');
                }
                b']' => {
                    self.i += 1;
                    self.newline(depth);
                    self.out.push(b']');
                    return Some(());
                }
                _ => return None,
            }
        }
    }

    /// At a quote: the raw contents, escapes still in.
    fn string(&mut self) -> Option<&'a [u8]> {
        let start = self.i + 1;
        let mut at = start;
        loop {
            let k = memchr::memchr2(b'"', b'\\', &self.b[at..])?;
            if self.b[at + k] == b'"' {
                self.i = at + k + 1;
                let b: &'a [u8] = self.b;
                return Some(&b[start..at + k]);
            }
            at += k + 2;
            if at > self.b.len() {
                return None;
            }
        }
    }

    fn print_string(&mut self, raw: &[u8]) -> Option<()> {
        self.out.push(b'"');
        if memchr::memchr(b'\\', raw).is_none() {
            // fold, not any: no early exit, so the check vectorises.
            if raw.iter().fold(false, |bad, &c| bad | (c < 0x20)) {
                return None; // raw control characters: not JSON
            }
            self.out.extend_from_slice(raw);
        } else {
            let decoded = decode_checked(raw)?;
            for c in decoded.chars() {
                match c {
                    '"' => self.out.extend_from_slice(b"\\\""),
                    '\\' => self.out.extend_from_slice(b"\\\\"),
                    '\n' => self.out.extend_from_slice(b"\\n"),
                    '\r' => self.out.extend_from_slice(b"\\r"),
                    '\t' => self.out.extend_from_slice(b"\\t"),
                    '\u{8}' => self.out.extend_from_slice(b"\\b"),
                    '\u{c}' => self.out.extend_from_slice(b"\\f"),
                    c if (c as u32) < 0x20 => self
                        .out
                        .extend_from_slice(format!("\\u{:04x}", c as u32).as_bytes()),
                    c => {
                        let mut buf = [0u8; 4];
                        self.out
                            .extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
                    }
                }
            }
        }
        self.out.push(b'"');
        Some(())
    }

    fn scalar(&mut self) -> Option<()> {
        let rest = &self.b[self.i..];
        let len = rest
            .iter()
            .position(|c| matches!(c, b',' | b'}' | b']' | b' ' | b'\t' | b'\n' | b'\r'))
            .unwrap_or(rest.len());
        let token = &rest[..len];
        match token {
            b"true" | b"false" | b"null" => self.out.extend_from_slice(token),
            _ if crate::event::is_json_number(token) => {
                let text = std::str::from_utf8(token).ok()?;
                self.out.extend_from_slice(python_number(text).as_bytes());
            }
            _ => return None,
        }
        self.i += len;
        Some(())
    }
}

/// Decodes a string's escapes; None for anything but plain, valid escapes
/// (a surrogate escape, even a valid pair, is left to serde_json).
fn decode_checked(raw: &[u8]) -> Option<String> {
    let mut out = String::with_capacity(raw.len());
    let text = std::str::from_utf8(raw).ok()?;
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            if (c as u32) < 0x20 {
                return None;
            }
            out.push(c);
            continue;
        }
        let decoded = match chars.next()? {
            '"' => '"',
            '\\' => '\\',
            '/' => '/',
            'b' => '\u{8}',
            'f' => '\u{c}',
            'n' => '\n',
            'r' => '\r',
            't' => '\t',
            'u' => {
                let hex: String = chars.by_ref().take(4).collect();
                if hex.len() != 4 {
                    return None;
                }
                char::from_u32(u32::from_str_radix(&hex, 16).ok()?)?
            }
            _ => return None,
        };
        out.push(decoded);
    }
    Some(out)
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

impl Formatter for PythonFormatter {
    fn write_number_str<W: ?Sized + io::Write>(
        &mut self,
        w: &mut W,
        value: &str,
    ) -> io::Result<()> {
        w.write_all(python_number(value).as_bytes())
    }
    fn begin_array<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.pretty.begin_array(w)
    }
    fn end_array<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.pretty.end_array(w)
    }
    fn begin_array_value<W: ?Sized + io::Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> io::Result<()> {
        self.pretty.begin_array_value(w, first)
    }
    fn end_array_value<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.pretty.end_array_value(w)
    }
    fn begin_object<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.pretty.begin_object(w)
    }
    fn end_object<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.pretty.end_object(w)
    }
    fn begin_object_key<W: ?Sized + io::Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> io::Result<()> {
        self.pretty.begin_object_key(w, first)
    }
    fn begin_object_value<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.pretty.begin_object_value(w)
    }
    fn end_object_value<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.pretty.end_object_value(w)
    }
}

/// A JSON number as Python re-prints it after `json.loads`: integers keep
/// their digits (`-0` becomes `0`); anything with a fraction or exponent is a
/// float printed by `repr` (shortest round-trip digits, exponent form below
/// 1e-4 and from 1e16, `.0` on whole numbers, `Infinity` on overflow).
pub fn python_number(text: &str) -> String {
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
        return format!("{sign}{first}{frac}e{esign}{:02}", exp.abs());
    }
    let n = digits.len() as i32;
    if decpt <= 0 {
        format!("{sign}0.{}{digits}", "0".repeat((-decpt) as usize))
    } else if decpt >= n {
        format!("{sign}{digits}{}.0", "0".repeat((decpt - n) as usize))
    } else {
        let (int, frac) = digits.split_at(decpt as usize);
        format!("{sign}{int}.{frac}")
    }
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

    #[test]
    fn pretty_printing_matches_python() {
        let v: Value =
            serde_json::from_str(r#"{"b":[],"a":{},"c":[1,{"x":"é\u0001\"/"}],"d":null}"#).unwrap();
        let want = "{\n  \"b\": [],\n  \"a\": {},\n  \"c\": [\n    1,\n    {\n      \"x\": \"é\\u0001\\\"/\"\n    }\n  ],\n  \"d\": null\n}";
        assert_eq!(String::from_utf8(to_python_json(&v)).unwrap(), want);
    }
}
