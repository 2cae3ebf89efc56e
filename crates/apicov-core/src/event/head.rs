//! The canonical-head fast path: lines that begin as the apiserver writes
//! them (`"kind":"Event","apiVersion":…,"level":…,"auditID":…,"stage":…,
//! "requestURI":…,"verb":…`) have their head read by whole-literal
//! comparisons before the general loop takes over. Both paths give the same
//! fields on every line (tested).

use super::issue::LineIssue;
use super::json_str::JsonStr;
use super::scanner::Scanner;
use super::Fields;

/// The first of the words (most common first) that stands at the scanner's
/// opening quote, or else the string there, walked as any other; the words
/// are compared as words of the line: the level, the stage and the verb
/// then skip three of the five string walks of a canonical head (~3% of a
/// parse's CPU). One [`Scanner::word`] call a word, each compared inline as
/// [`Scanner::member`] compares keys, rather than a loop calling `memcmp`.
macro_rules! known {
    ($scanner:expr, $($word:literal),+ $(,)?) => {{
        let scanner: &mut Scanner = $scanner;
        let mut found = None;
        $(
            if found.is_none() {
                found = scanner.word($word);
            }
        )+
        match found {
            Some(value) => Ok(value),
            None => scanner.string(),
        }
    }};
}

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
        known!(self, b"Metadata", b"RequestResponse", b"Request", b"None")?;
        if !self.member(br#","auditID":"#) {
            return Ok(true);
        }
        fields.audit_id = Some(self.string()?);
        if !self.member(br#","stage":"#) {
            return Ok(true);
        }
        fields.stage = Some(known!(
            self,
            b"ResponseComplete",
            b"RequestReceived",
            b"ResponseStarted",
            b"Panic",
        )?);
        if !self.member(br#","requestURI":"#) {
            return Ok(true);
        }
        fields.request_uri = Some(self.string()?);
        if !self.member(br#","verb":"#) {
            return Ok(true);
        }
        fields.verb = Some(known!(
            self,
            b"get",
            b"list",
            b"watch",
            b"update",
            b"patch",
            b"create",
            b"delete",
            b"deletecollection",
        )?);
        Ok(true)
    }

    /// When `key` (a literal up to the colon) and a string's opening quote
    /// follow, steps over the key and returns true. Each key is its own
    /// call with its own length, so the compiler compares it inline in a
    /// few wide loads; a loop over the keys calling `memcmp` for each took
    /// 5% more instructions.
    #[inline(always)]
    fn member<const N: usize>(&mut self, key: &[u8; N]) -> bool {
        let found = self
            .b
            .get(self.i..self.i + N)
            .is_some_and(|at| same(at, key))
            && self.b.get(self.i + N) == Some(&b'"');
        if found {
            self.i += N;
        }
        found
    }

    /// At an opening quote: when `word` and its closing quote follow, steps
    /// over them and returns the word; a plain ASCII string needs no walk.
    /// The level, the stage and the verb are always one of a few words (see
    /// [`known!`]).
    #[inline(always)]
    fn word<const N: usize>(&mut self, word: &'static [u8; N]) -> Option<JsonStr<'a>> {
        let at = self.i + 1;
        if self.b.get(at..at + N) != Some(word) || self.b.get(at + N) != Some(&b'"') {
            return None;
        }
        self.i = at + N + 1;
        Some(JsonStr {
            raw: &self.b[at..at + N],
            escaped: false,
        })
    }
}

/// `at == key` (`at` holds `N` bytes), for keys of 16 bytes or more as
/// 16-byte words XOR-ed and OR-ed, the last one overlapping: the slice
/// comparison calls `memcmp` for the head's first member (54 bytes), once a
/// line.
#[inline(always)]
fn same<const N: usize>(at: &[u8], key: &[u8; N]) -> bool {
    if N < 16 || at.len() != N {
        return at == key;
    }
    let word = |b: &[u8], i: usize| u128::from_le_bytes(b[i..i + 16].try_into().expect("16 bytes"));
    let mut diff = word(at, N - 16) ^ word(key, N - 16);
    let mut i = 0;
    while i + 16 < N {
        diff |= word(at, i) ^ word(key, i);
        i += 16;
    }
    diff == 0
}

#[cfg(test)]
mod tests {
    use super::same;

    /// Equal, and unequal at each byte by each bit, for key lengths around
    /// the 16-byte words (the head's first member is 54 bytes).
    fn check<const N: usize>() {
        let key: [u8; N] = std::array::from_fn(|i| b'a' + (i % 26) as u8);
        assert!(same(&key, &key), "{N}");
        assert!(!same(&key[..N - 1], &key), "{N}: shorter");
        for at in 0..N {
            for bit in 0..8 {
                let mut other = key;
                other[at] ^= 1 << bit;
                assert!(!same(&other, &key), "{N}: byte {at} bit {bit}");
            }
        }
    }

    #[test]
    fn a_member_key_is_the_same_only_when_every_byte_is() {
        check::<1>();
        check::<15>();
        check::<16>();
        check::<17>();
        check::<31>();
        check::<32>();
        check::<33>();
        check::<51>();
        check::<54>();
        check::<64>();
    }
}
