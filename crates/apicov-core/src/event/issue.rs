//! Why a line does not count: [`LineIssue`].

/// Why a line is not a usable event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineIssue {
    /// The bytes are not valid UTF-8 (Go's encoder never writes such bytes).
    InvalidUtf8,
    /// Not a JSON object, or a torn / corrupted one.
    NotJson(&'static str),
    /// A JSON object that lacks `stage`, `verb` or `requestURI`.
    NotAnEvent(&'static str),
}

impl std::fmt::Display for LineIssue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LineIssue::InvalidUtf8 => f.write_str("invalid UTF-8"),
            LineIssue::NotJson(why) => write!(f, "not JSON: {why}"),
            LineIssue::NotAnEvent(why) => write!(f, "not an audit event: {why}"),
        }
    }
}
