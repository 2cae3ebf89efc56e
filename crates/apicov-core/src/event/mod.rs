//! Field extraction: the top-level `stage`, `verb`, `requestURI`, `auditID`
//! and `userAgent` of one audit-event line, without building the event.
//!
//! A hand scanner walks the whole line once: keys in any order, any
//! whitespace, nested objects and arrays skipped (a `requestObject` may hold its
//! own `verb` or `stage`, and re-serialized logs put it before the top-level
//! ones), strings skipped with `memchr2`. It checks the structure as it goes
//! (balanced and matching brackets, closed strings, valid escapes, the JSON
//! number and literal grammar, nothing after the closing brace), so a torn line
//! or a line that is not JSON is reported, not counted. Lines that begin as
//! the apiserver writes them (`"kind":"Event","apiVersion":…,"verb":…` in
//! that order) have their head read by whole-literal comparisons before the
//! general loop takes over. `benches/extract.rs` measures it against
//! serde_json and simd-json.
//!
//! Here: the fields and the extraction entry points; `scanner` holds the
//! general loop's JSON walk, `head` the canonical-head fast path,
//! `json_str` a string value and its escapes, `issue` why a line does not
//! count. The last two import nothing of the others, so no file imports
//! one that imports it back.

mod head;
mod issue;
mod json_str;
mod scanner;

pub use issue::LineIssue;
pub use json_str::{unescape, JsonStr};
use scanner::Scanner;
pub use scanner::{is_json_number, scalar_token, MAX_NESTING};

/// Audit stages, in the order the apiserver logs them for one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Stage {
    /// The request arrived (no response yet).
    RequestReceived = 0,
    /// Response headers sent (long-running requests such as watch).
    ResponseStarted = 1,
    /// The response is complete.
    ResponseComplete = 2,
    /// The apiserver panicked while serving the request.
    Panic = 3,
}

impl Stage {
    /// Every stage, in order.
    pub const ALL: [Stage; 4] = [
        Stage::RequestReceived,
        Stage::ResponseStarted,
        Stage::ResponseComplete,
        Stage::Panic,
    ];

    /// The stage named by `raw` (its JSON string content). A long name is
    /// told by its length and two overlapping 8-byte words, its first and
    /// last eight bytes, which together cover every byte: a match on the
    /// byte strings compiled to a byte-by-byte tree (46 instructions a line,
    /// 1.8% of a Metadata parse's).
    pub fn parse(raw: &[u8]) -> Option<Stage> {
        const fn ends(name: &[u8]) -> (u64, u64) {
            let (mut first, mut last, mut i) = (0u64, 0u64, 0);
            while i < 8 {
                first |= (name[i] as u64) << (8 * i);
                last |= (name[name.len() - 8 + i] as u64) << (8 * i);
                i += 1;
            }
            (first, last)
        }
        const RECEIVED: (u64, u64) = ends(b"RequestReceived");
        const STARTED: (u64, u64) = ends(b"ResponseStarted");
        const COMPLETE: (u64, u64) = ends(b"ResponseComplete");
        let read = |at: usize| u64::from_le_bytes(raw[at..at + 8].try_into().unwrap());
        match raw.len() {
            15 => match (read(0), read(7)) {
                RECEIVED => Some(Stage::RequestReceived),
                STARTED => Some(Stage::ResponseStarted),
                _ => None,
            },
            16 if (read(0), read(8)) == COMPLETE => Some(Stage::ResponseComplete),
            5 if raw == b"Panic" => Some(Stage::Panic),
            _ => None,
        }
    }

    /// The stage's name as logged.
    pub fn as_str(self) -> &'static str {
        match self {
            Stage::RequestReceived => "RequestReceived",
            Stage::ResponseStarted => "ResponseStarted",
            Stage::ResponseComplete => "ResponseComplete",
            Stage::Panic => "Panic",
        }
    }

    /// After a terminal stage the apiserver logs nothing more for the request.
    pub fn is_terminal(self) -> bool {
        matches!(self, Stage::ResponseComplete | Stage::Panic)
    }
}

/// The fields apicov reads from an event line.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Fields<'a> {
    /// `stage`.
    pub stage: Option<JsonStr<'a>>,
    /// `verb`.
    pub verb: Option<JsonStr<'a>>,
    /// `requestURI`.
    pub request_uri: Option<JsonStr<'a>>,
    /// `auditID`.
    pub audit_id: Option<JsonStr<'a>>,
    /// `userAgent`.
    pub user_agent: Option<JsonStr<'a>>,
}

impl Fields<'_> {
    /// Every field the counting needs has been seen (and the user agent,
    /// when requests are attributed to tests).
    fn is_complete(&self, user_agent: bool) -> bool {
        self.stage.is_some()
            && self.verb.is_some()
            && self.request_uri.is_some()
            && self.audit_id.is_some()
            && (!user_agent || self.user_agent.is_some())
    }
}

/// Trims ASCII whitespace at both ends, as Python's `str.strip()` does for
/// the characters a log line can hold (CR included).
pub fn trim_line(line: &[u8]) -> &[u8] {
    line.trim_ascii()
}

/// How much of a line the extractor checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
pub enum Validation {
    /// Check the line up to the last field apicov needs, then only that it
    /// ends with `}`. The apiserver writes `auditID`, `stage`, `requestURI`
    /// and `verb` first, so most of the line (user, objectRef, bodies,
    /// annotations) is not walked: about 7x the per-line throughput of full
    /// (benches/extract.rs). A line torn inside the unread part is still
    /// caught unless the cut falls right after a `}`; a line broken in its
    /// unread part is counted but never becomes a sample.
    #[default]
    Fast,
    /// Check the whole line: UTF-8, brackets, strings, escapes, numbers and
    /// literals; a later duplicate key wins, as in Python's `json.loads`.
    Full,
}

/// Checks a whole line as [`Validation::Full`] does. Fast mode counts lines
/// whose unread rest may be broken; a line becomes a sample (printed whole in
/// audit-operations.json) only if it passes this check, so samples are the
/// same in both modes.
pub fn check_whole(line: &[u8]) -> Result<(), LineIssue> {
    extract_with(line, Validation::Full, false, false).map(|_| ())
}

/// Extracts the top-level fields of one line (already trimmed, non-empty).
/// `user_agent`: the caller needs `userAgent` too (fast mode reads on to it).
pub fn extract(
    line: &[u8],
    validation: Validation,
    user_agent: bool,
) -> Result<Fields<'_>, LineIssue> {
    extract_with(line, validation, user_agent, true)
}

/// [`extract`] with the canonical-head path on or off: both give the same
/// fields on every line (tested); `benches/extract.rs` measures the two.
pub fn extract_with(
    line: &[u8],
    validation: Validation,
    user_agent: bool,
    canonical: bool,
) -> Result<Fields<'_>, LineIssue> {
    let mut scanner = Scanner {
        b: line,
        i: 0,
        high: 0,
    };
    let mut fields = Fields::default();
    // How much of the line was walked (and so gets its UTF-8 checked).
    let mut scanned = line.len();
    scanner.ws();
    if scanner.peek() != Some(b'{') {
        return Err(LineIssue::NotJson("does not start with '{'"));
    }
    scanner.i += 1;
    scanner.ws();
    if scanner.peek() == Some(b'}') {
        scanner.i += 1;
    } else {
        // After the canonical head the scanner stands after a member's value.
        let mut after_value =
            canonical && validation == Validation::Fast && scanner.canonical_head(&mut fields)?;
        loop {
            if !after_value {
                scanner.ws();
                if scanner.peek() != Some(b'"') {
                    return Err(LineIssue::NotJson("expected a key"));
                }
                let key = scanner.string()?;
                scanner.ws();
                if scanner.peek() != Some(b':') {
                    return Err(LineIssue::NotJson("expected ':'"));
                }
                scanner.i += 1;
                scanner.ws();
                let slot = match key.raw {
                    b"stage" => Some(&mut fields.stage),
                    b"verb" => Some(&mut fields.verb),
                    b"requestURI" => Some(&mut fields.request_uri),
                    b"auditID" => Some(&mut fields.audit_id),
                    b"userAgent" => Some(&mut fields.user_agent),
                    _ => None,
                };
                match (slot, scanner.peek()) {
                    // A later duplicate key wins, as in Python's json.loads.
                    (Some(slot), Some(b'"')) => *slot = Some(scanner.string()?),
                    (Some(slot), _) => {
                        *slot = None;
                        scanner.value()?;
                    }
                    (None, _) => scanner.value()?,
                }
            }
            after_value = false;
            scanner.ws();
            match scanner.peek() {
                Some(b',') => scanner.i += 1,
                Some(b'}') => {
                    scanner.i += 1;
                    break;
                }
                None => return Err(LineIssue::NotJson("line ends inside the object")),
                _ => return Err(LineIssue::NotJson("expected ',' or '}'")),
            }
            if validation == Validation::Fast && fields.is_complete(user_agent) {
                if line.last() != Some(&b'}') {
                    return Err(LineIssue::NotJson("line does not end with '}'"));
                }
                scanned = scanner.i;
                scanner.i = line.len();
                break;
            }
        }
    }
    scanner.ws();
    if scanner.i != line.len() {
        return Err(LineIssue::NotJson("data after the closing '}'"));
    }
    if scanner.high != 0 && std::str::from_utf8(&line[..scanned]).is_err() {
        return Err(LineIssue::InvalidUtf8);
    }
    if fields.stage.is_none() {
        return Err(LineIssue::NotAnEvent("no stage"));
    }
    if fields.verb.is_none() {
        return Err(LineIssue::NotAnEvent("no verb"));
    }
    if fields.request_uri.is_none() {
        return Err(LineIssue::NotAnEvent("no requestURI"));
    }
    Ok(fields)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each stage's name, and nothing one byte off it: changed, cut short
    /// or extended, at every position.
    #[test]
    fn stages_parse_from_their_exact_names() {
        for stage in Stage::ALL {
            let name = stage.as_str().as_bytes();
            assert_eq!(Stage::parse(name), Some(stage));
            for at in 0..name.len() {
                for byte in 0..=255u8 {
                    let mut near = name.to_vec();
                    near[at] = byte;
                    let want = Stage::ALL
                        .into_iter()
                        .find(|s| s.as_str().as_bytes() == near);
                    assert_eq!(Stage::parse(&near), want, "{near:?}");
                }
                assert_eq!(Stage::parse(&name[..at]), None);
            }
            assert_eq!(Stage::parse(&[name, b"x"].concat()), None);
        }
        assert_eq!(Stage::parse(b""), None);
        assert_eq!(Stage::parse(b"ResponseCompletes"), None);
    }

    fn get(line: &str) -> Result<(String, String, String), LineIssue> {
        let f = extract(line.as_bytes(), Validation::Full, false)?;
        let s = |v: Option<JsonStr>| String::from_utf8(v.unwrap().decode().into_owned()).unwrap();
        Ok((s(f.stage), s(f.verb), s(f.request_uri)))
    }

    #[test]
    fn any_key_order_and_nested_decoys() {
        let line = r#"{"requestObject":{"verb":"create","stage":"X","requestURI":"/no","a":[1,{"b":null}]},"verb":"get", "stage" : "RequestReceived","requestURI":"/api/v1/pods?a=1\u0026watch=true"}"#;
        assert_eq!(
            get(line).unwrap(),
            (
                "RequestReceived".into(),
                "get".into(),
                "/api/v1/pods?a=1&watch=true".into()
            )
        );
    }

    #[test]
    fn escapes_decode() {
        let s = JsonStr {
            raw: br#"a\"b\\c\/d\n\u00e9\ud83d\ude00\ud800x"#,
            escaped: true,
        };
        assert_eq!(
            String::from_utf8(s.decode().into_owned()).unwrap(),
            "a\"b\\c/d\né😀\u{FFFD}x"
        );
    }

    #[test]
    fn broken_lines_are_reported() {
        let cases: &[(&str, LineIssue)] = &[
            ("not json", LineIssue::NotJson("does not start with '{'")),
            (
                r#"{"verb":"get","stage":"RequestReceived","requestURI":"/api","x":{"a":1"#,
                LineIssue::NotJson("line ends inside a nested value"),
            ),
            (
                r#"{"verb":"get","stage":"RequestReceived","requestURI":"/api"} x"#,
                LineIssue::NotJson("data after the closing '}'"),
            ),
            (
                r#"{"verb":"get","stage":"RequestReceived","requestURI":"/api","x":[1}]}"#,
                LineIssue::NotJson("mismatched brackets"),
            ),
            (
                r#"{"verb":"get","stage":"RequestReceived","requestURI":"/api","x":tru}"#,
                LineIssue::NotJson("invalid value"),
            ),
            (
                r#"{"verb":"get","stage":"RequestReceived","requestURI":"/api","x":01}"#,
                LineIssue::NotJson("invalid value"),
            ),
            (
                r#"{"verb":"get","stage":"RequestReceived","requestURI":"/a\q"}"#,
                LineIssue::NotJson("bad escape"),
            ),
            (
                r#"{"verb":"get","stage":"RequestReceived"}"#,
                LineIssue::NotAnEvent("no requestURI"),
            ),
            (r#"{"kind":"Status"}"#, LineIssue::NotAnEvent("no stage")),
            (
                r#"{"verb":"get","stage":"RequestReceived","requestURI":"/api""#,
                LineIssue::NotJson("line ends inside the object"),
            ),
        ];
        for (line, issue) in cases {
            assert_eq!(
                extract(line.as_bytes(), Validation::Full, false).err(),
                Some(*issue),
                "{line}"
            );
        }
        assert_eq!(
            extract(b"{\"verb\":\"g\xffet\"}", Validation::Full, false).err(),
            Some(LineIssue::InvalidUtf8)
        );
    }

    #[test]
    fn fast_validation_stops_after_the_needed_fields_but_catches_torn_lines() {
        let head =
            r#"{"auditID":"a","stage":"RequestReceived","requestURI":"/api","verb":"get","user":{"#;
        let whole = format!("{head}\"username\":\"x\"}}}}");
        let fast = extract(whole.as_bytes(), Validation::Fast, false).unwrap();
        assert_eq!(
            fast,
            extract(whole.as_bytes(), Validation::Full, false).unwrap()
        );
        let torn = &whole[..whole.len() - 5];
        assert_eq!(
            extract(torn.as_bytes(), Validation::Fast, false).err(),
            Some(LineIssue::NotJson("line does not end with '}'"))
        );
        // A cut right after a nested '}' passes the fast check only.
        let cut = r#"{"auditID":"a","stage":"RequestReceived","requestURI":"/api","verb":"get","user":{"a":1}"#;
        assert!(extract(cut.as_bytes(), Validation::Fast, false).is_ok());
        assert!(extract(cut.as_bytes(), Validation::Full, false).is_err());
    }

    /// The UTF-8 check is skipped when every string walked was ASCII: a
    /// non-ASCII byte anywhere in a string, short or long (past the inline
    /// blocks), near the line's end or not, is still seen.
    #[test]
    fn non_ascii_anywhere_in_a_string_is_checked() {
        let long = "l".repeat(300);
        let line = format!(
            r#"{{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"5b4b3c2a-1d0e-4f9a-8b7c-6d5e4f3a2b1c","stage":"ResponseComplete","requestURI":"/api/v1/pods/{long}","verb":"get","userAgent":"kubectl/v1.34","x":"{long}"}}"#
        );
        let bytes = line.as_bytes();
        let mut in_string = false;
        let mut checked = 0;
        for at in 0..bytes.len() {
            let quote = bytes[at] == b'"';
            if in_string && !quote {
                checked += 1;
                let with = |bytes_at: &[u8]| {
                    let mut changed = bytes[..at].to_vec();
                    changed.extend_from_slice(bytes_at);
                    changed.extend_from_slice(&bytes[at + 1..]);
                    changed
                };
                for (validation, ua) in [
                    (Validation::Full, false),
                    (Validation::Fast, false),
                    (Validation::Fast, true),
                ] {
                    // The same change in ASCII: what the line means then
                    // (a key may no longer be one apicov reads).
                    let ascii = extract(&with(b"x"), validation, ua).map(|_| ());
                    let valid = extract(&with("é".as_bytes()), validation, ua).map(|_| ());
                    assert_eq!(valid, ascii, "{validation:?} ua {ua}: é at {at}");
                    // Fast mode stops after the fields it needs.
                    let stop = if ua { r#","x""# } else { r#","userAgent""# };
                    let walked = validation == Validation::Full || at < line.find(stop).unwrap();
                    let want = match ascii {
                        Err(LineIssue::NotJson(_)) => ascii,
                        _ if walked => Err(LineIssue::InvalidUtf8),
                        _ => ascii,
                    };
                    let invalid = extract(&with(&[0xFF]), validation, ua).map(|_| ());
                    assert_eq!(invalid, want, "{validation:?} ua {ua}: 0xFF at {at}");
                }
            }
            if quote {
                in_string = !in_string;
            }
        }
        assert!(checked > 600, "{checked} string bytes");
    }

    #[test]
    fn numbers_follow_the_grammar() {
        for ok in ["0", "-1", "12.5", "1e5", "1E+5", "-0.0e-1"] {
            assert!(is_json_number(ok.as_bytes()), "{ok}");
        }
        for bad in ["", "-", "01", "1.", ".5", "1e", "+1", "0x1"] {
            assert!(!is_json_number(bad.as_bytes()), "{bad}");
        }
    }
}
