//! What every output says about how its figures were made.

/// What a reader of any output must know about how its counts were made;
/// every format says so (endpoints header, report JSON, JUnit suite name,
/// console summary, HTML title).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Caveats {
    /// Only requests from conformance tests were counted (`--conformance-only`).
    pub conformance_only: bool,
    /// Results parsed against different specs were combined (`--allow-spec-mix`).
    pub spec_mix: bool,
}

impl Caveats {
    /// One sentence per caveat, for text outputs.
    pub fn lines(&self) -> Vec<&'static str> {
        let mut lines = Vec::new();
        if self.conformance_only {
            lines.push(
                "Conformance tests only (--conformance-only): requests of other clients and tests are not counted",
            );
        }
        if self.spec_mix {
            lines.push(
                "Results parsed against different specs were combined (--allow-spec-mix): operations renamed or removed between them do not compare",
            );
        }
        lines
    }

    /// A short suffix for titles and suite names.
    pub fn title_suffix(&self) -> String {
        let mut parts = Vec::new();
        if self.conformance_only {
            parts.push("conformance tests only");
        }
        if self.spec_mix {
            parts.push("mixed specs");
        }
        if parts.is_empty() {
            String::new()
        } else {
            format!(" ({})", parts.join(", "))
        }
    }
}
