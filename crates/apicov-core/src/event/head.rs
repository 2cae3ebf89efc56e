//! The canonical-head fast path: lines that begin as the apiserver writes
//! them (`"kind":"Event","apiVersion":…,"level":…,"auditID":…,"stage":…,
//! "requestURI":…,"verb":…`) have their head read by whole-literal
//! comparisons before the general loop takes over. Both paths give the same
//! fields on every line (tested).

use super::scanner::Scanner;
use super::{Fields, JsonStr, LineIssue};

impl<'a> Scanner<'a> {
    /// The head of an event as the apiserver's encoder writes it (struct
    /// order, no spaces): `"kind":"Event","apiVersion":"audit.k8s.io/v1",
    /// "level":…,"auditID":…,"stage":…,"requestURI":…,"verb":…`. Called
    /// right after the opening brace; reads as many of those members as the
    /// line has in that order, comparing keys as whole literals instead of
    /// scanning and matching each one, and returns whether it read any (the
    /// scanner then stands after a value). Values are read by
    /// [`Scanner::string`] as on the general path; on the first difference it
    /// stops at the last complete member, and the general loop goes on from
    /// there, so the fields are the same either way (tested). Fast mode runs
    /// at 1.7-2.1x the throughput with it (benches/extract.rs; see README).
    pub(super) fn canonical_head(&mut self, fields: &mut Fields<'a>) -> Result<bool, LineIssue> {
        if !self.member(br#""kind":"Event","apiVersion":"audit.k8s.io/v1","level":"#) {
            return Ok(false);
        }
        if self.known(&LEVELS).is_none() {
            self.string()?;
        }
        if !self.member(br#","auditID":"#) {
            return Ok(true);
        }
        fields.audit_id = Some(self.string()?);
        if !self.member(br#","stage":"#) {
            return Ok(true);
        }
        fields.stage = Some(match self.known(&STAGES) {
            Some(value) => value,
            None => self.string()?,
        });
        if !self.member(br#","requestURI":"#) {
            return Ok(true);
        }
        fields.request_uri = Some(self.string()?);
        if !self.member(br#","verb":"#) {
            return Ok(true);
        }
        fields.verb = Some(match self.known(&VERBS) {
            Some(value) => value,
            None => self.string()?,
        });
        Ok(true)
    }

    /// When `key` (a literal up to the colon) and a string's opening quote
    /// follow, steps over the key and returns true. Each key is its own
    /// call with its own length, so the compiler compares it inline in a
    /// few wide loads; a loop over the keys called `memcmp` for each:
    /// 477.9M -> 452.8M instructions for 199 MB (CRD-heavy, one thread),
    /// CPU 46.2 -> 45.1 and 47.1 -> 45.7 ms (Metadata, one thread, both
    /// orders).
    #[inline(always)]
    fn member<const N: usize>(&mut self, key: &[u8; N]) -> bool {
        let found =
            self.b.get(self.i..self.i + N) == Some(key) && self.b.get(self.i + N) == Some(&b'"');
        if found {
            self.i += N;
        }
        found
    }

    /// At an opening quote: when one of `values` (with its closing quote)
    /// follows, steps over it and returns it; a plain ASCII string needs no
    /// walk. The level, the stage and the verb are always one of a few
    /// words: compared as words of the line, the level and the stage skip
    /// two of the five string walks of a canonical head (500.7M -> 491.4M
    /// instructions for 199 MB, CPU 55.6 -> 54.1 ms at two threads and
    /// 53.4 -> 52.2 ms at one), the verb a third (48.2 -> 47.4 ms and
    /// 49.4 -> 48.4 ms).
    #[inline(always)]
    fn known<const N: usize>(&mut self, values: &[&'static [u8]; N]) -> Option<JsonStr<'a>> {
        let rest = &self.b[self.i + 1..];
        let value = values
            .iter()
            .find(|v| rest.get(v.len()) == Some(&b'"') && rest.get(..v.len()) == Some(v))?;
        self.i += value.len() + 2;
        Some(JsonStr {
            raw: &rest[..value.len()],
            escaped: false,
        })
    }
}

/// Audit levels, most common first.
const LEVELS: [&[u8]; 4] = [b"Metadata", b"RequestResponse", b"Request", b"None"];
/// Request verbs, most common first.
const VERBS: [&[u8]; 8] = [
    b"get",
    b"list",
    b"watch",
    b"update",
    b"patch",
    b"create",
    b"delete",
    b"deletecollection",
];
/// Stages, most common first.
const STAGES: [&[u8]; 4] = [
    b"ResponseComplete",
    b"RequestReceived",
    b"ResponseStarted",
    b"Panic",
];
