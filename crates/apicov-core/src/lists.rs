//! The conformance tracking lists: `ineligible_endpoints.yaml` (a list of
//! `{endpoint, reason, link}`) and `pending_eligible_endpoints.yaml` (a list of
//! operationIds; an empty file or a bare `---` is an empty list).

use ahash::AHashSet;
use serde_json::Value;

use crate::error::{Error, Result};

/// A fingerprint of the rules that read a tracking list into an
/// [`EndpointList`]: the text of this file, hashed when core is compiled
/// (as [`spec::RULES_VERSION`](crate::spec::RULES_VERSION) is of `spec.rs`).
pub const RULES_VERSION: u64 = crate::spec::text_fingerprint(include_bytes!("lists.rs"));

/// One entry, with its line in the file for messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListEntry {
    /// The operationId.
    pub endpoint: String,
    /// Why it is listed (`reason:`), when given.
    pub reason: Option<String>,
    /// The issue or PR behind it (`link:`), when given.
    pub link: Option<String>,
    /// 1-based line of the entry in the file.
    pub line: usize,
}

/// An item of a list that names no operation, so it is ignored (as the
/// reference ignores it); `lint-lists` reports each, `parse` warns once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IgnoredEntry {
    /// 1-based line of the item.
    pub line: usize,
    /// Why it names no operation.
    pub why: String,
}

/// A parsed tracking list.
#[derive(Debug, Clone, Default)]
pub struct EndpointList {
    /// The list's path or URL.
    pub source: String,
    /// Entries naming an operation, in file order.
    pub entries: Vec<ListEntry>,
    /// Items ignored because they name no operation.
    pub ignored: Vec<IgnoredEntry>,
    names: AHashSet<String>,
}

impl EndpointList {
    /// Parses a tracking list (`name` is its path or URL, for messages). Both shapes are read: a sequence of `endpoint:` mappings and a sequence of names.
    pub fn parse(bytes: &[u8], name: &str) -> Result<EndpointList> {
        let err = |message: String| Error::List {
            source_name: name.to_string(),
            message,
        };
        let text = std::str::from_utf8(bytes).map_err(|e| err(e.to_string()))?;
        // Items are read as untyped values: serde-saphyr's untagged enums
        // mis-read the second item of a list (seen with 0.0.29).
        let items: Option<Vec<serde_saphyr::Spanned<Value>>> = if is_blank_yaml(text) {
            None
        } else {
            // Strict booleans: `y`, `no`, `on` stay strings (they could be names).
            let options = serde_saphyr::options! { strict_booleans: true };
            serde_saphyr::from_str_with_options(text, options)
                .map_err(|e| err(first_line(&e.to_string())))?
        };
        let mut list = EndpointList {
            source: name.to_string(),
            ..EndpointList::default()
        };
        for item in items.unwrap_or_default() {
            let line = item.referenced.line() as usize;
            // Other shapes are ignored, as the reference ignores them, and
            // remembered for lint-lists and parse's warning.
            let (endpoint, reason, link) = match item.value {
                Value::String(name) => (name, None, None),
                Value::Object(map) => match map.get("endpoint") {
                    Some(Value::String(endpoint)) => (
                        endpoint.clone(),
                        scalar(map.get("reason")),
                        scalar(map.get("link")),
                    ),
                    Some(other) => {
                        list.ignored.push(IgnoredEntry {
                            line,
                            why: format!(
                                "`endpoint` is {}, not an operationId: entry ignored",
                                shape(other)
                            ),
                        });
                        continue;
                    }
                    None => {
                        list.ignored.push(IgnoredEntry {
                            line,
                            why: "entry without `endpoint`: ignored".into(),
                        });
                        continue;
                    }
                },
                other => {
                    list.ignored.push(IgnoredEntry {
                        line,
                        why: format!("item is {}, not an operationId: ignored", shape(&other)),
                    });
                    continue;
                }
            };
            list.names.insert(endpoint.clone());
            list.entries.push(ListEntry {
                endpoint,
                reason,
                link,
                line,
            });
        }
        Ok(list)
    }

    /// A list as [`EndpointList::parse`] made it before (stored by
    /// `catalogue_cache`).
    pub fn from_parts(
        source: String,
        entries: Vec<ListEntry>,
        ignored: Vec<IgnoredEntry>,
    ) -> EndpointList {
        let names = entries.iter().map(|e| e.endpoint.clone()).collect();
        EndpointList {
            source,
            entries,
            ignored,
            names,
        }
    }

    /// A list of `names` (no reasons, links or lines), e.g. as a report JSON
    /// recorded it.
    pub fn from_names(source: String, names: impl IntoIterator<Item = String>) -> EndpointList {
        let mut list = EndpointList {
            source,
            ..EndpointList::default()
        };
        for endpoint in names {
            if list.names.insert(endpoint.clone()) {
                list.entries.push(ListEntry {
                    endpoint,
                    reason: None,
                    link: None,
                    line: 0,
                });
            }
        }
        list
    }

    /// One line for a run that reads the list: how many items were ignored
    /// and where the first is (None when every item names an operation).
    pub fn ignored_warning(&self) -> Option<String> {
        let first = self.ignored.first()?;
        Some(format!(
            "{}:{}: {} item(s) name no operation and are ignored (first: {}); see `apicov lint-lists`",
            self.source,
            first.line,
            self.ignored.len(),
            first.why
        ))
    }

    /// The first entry for `op`.
    pub fn entry(&self, op: &str) -> Option<&ListEntry> {
        self.entries.iter().find(|e| e.endpoint == op)
    }

    /// Whether the list names operation `op`.
    pub fn contains(&self, op: &str) -> bool {
        self.names.contains(op)
    }

    /// Distinct operationIds listed.
    pub fn len(&self) -> usize {
        self.names.len()
    }

    /// Whether the list names no operation.
    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }
}

/// One problem in a tracking list, at a line of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// The list's path or URL.
    pub source: String,
    /// 1-based line.
    pub line: usize,
    /// What is wrong.
    pub message: String,
}

impl std::fmt::Display for Finding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}: {}", self.source, self.line, self.message)
    }
}

/// Checks the two lists as the conformance process needs them: entries that
/// are not operations of the spec (typos, removed APIs), duplicates, an
/// operation in both lists, ineligible entries without reason or link,
/// alpha/beta operations listed, and (given a run's operation counts)
/// pending entries that are exercised.
pub fn lint(
    catalogue: &crate::spec::Catalogue,
    ineligible: &EndpointList,
    pending: &EndpointList,
    exercised: Option<(&str, &std::collections::BTreeMap<String, u64>)>,
) -> Vec<Finding> {
    let mut findings = Vec::new();
    let mut add = |list: &EndpointList, line: usize, message: String| {
        findings.push(Finding {
            source: list.source.clone(),
            line,
            message,
        });
    };
    for (list, is_ineligible) in [(ineligible, true), (pending, false)] {
        for ignored in &list.ignored {
            add(list, ignored.line, ignored.why.clone());
        }
        let mut first_line: ahash::AHashMap<&str, usize> = ahash::AHashMap::new();
        for entry in &list.entries {
            let op = entry.endpoint.as_str();
            if let Some(first) = first_line.get(op) {
                add(
                    list,
                    entry.line,
                    format!("{op}: listed twice (first at line {first})"),
                );
                continue;
            }
            first_line.insert(op, entry.line);
            match catalogue.lookup(op) {
                None => add(
                    list,
                    entry.line,
                    format!("{op}: not an operation of the spec"),
                ),
                Some(id) if !catalogue.get(id).stable => add(
                    list,
                    entry.line,
                    format!("{op}: not a stable operation (alpha/beta operations need no listing)"),
                ),
                Some(_) => {}
            }
            if is_ineligible {
                if entry.reason.as_deref().is_none_or(|r| r.trim().is_empty()) {
                    add(list, entry.line, format!("{op}: no reason"));
                }
                if entry.link.as_deref().is_none_or(|l| l.trim().is_empty()) {
                    add(list, entry.line, format!("{op}: no link"));
                }
            } else {
                if let Some(other) = ineligible.entries.iter().find(|e| e.endpoint == op) {
                    add(
                        list,
                        entry.line,
                        format!("{op}: also in {} (line {})", ineligible.source, other.line),
                    );
                }
                if let Some((run, counts)) = exercised {
                    if let Some(n) = counts.get(op).filter(|n| **n > 0) {
                        add(
                            list,
                            entry.line,
                            format!("{op}: pending, but exercised in {run} ({n} calls): remove it"),
                        );
                    }
                }
            }
        }
    }
    findings
}

/// A scalar as text (YAML may have typed `reason: yes` as a boolean).
fn scalar(value: Option<&Value>) -> Option<String> {
    match value? {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        other => Some(other.to_string()),
    }
}

/// Only comments, blank lines and document markers.
fn is_blank_yaml(text: &str) -> bool {
    text.lines().all(|l| {
        let t = l.trim();
        t.is_empty() || t.starts_with('#') || t == "---" || t == "..."
    })
}

fn first_line(message: &str) -> String {
    message.lines().next().unwrap_or(message).to_string()
}

/// A YAML value's shape, for messages.
fn shape(value: &Value) -> &'static str {
    match value {
        Value::Null => "empty",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "a mapping",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<EndpointList> {
        EndpointList::parse(text.as_bytes(), "list.yaml")
    }

    #[test]
    fn both_shapes_and_empty_files() {
        let l = parse("- endpoint: a\n  reason: r\n  link: https://x\n- endpoint: b\n").unwrap();
        assert_eq!(l.entries.len(), 2);
        assert_eq!(l.entries[1].line, 4);
        assert_eq!(l.entries[0].reason.as_deref(), Some("r"));
        let l = parse("# c\n---\n- x\n- y\n").unwrap();
        assert_eq!(
            l.entries
                .iter()
                .map(|e| e.endpoint.as_str())
                .collect::<Vec<_>>(),
            ["x", "y"]
        );
        assert_eq!(l.entries[0].line, 3);
        assert!(parse("").unwrap().is_empty());
        assert!(parse("---\n").unwrap().is_empty());
    }

    #[test]
    fn malformed_yaml_is_an_error_naming_the_file() {
        let e = parse("- a\n  - : [\n").unwrap_err().to_string();
        assert!(e.starts_with("list.yaml: invalid endpoint list:"), "{e}");
        let e = parse("key: value\n").unwrap_err().to_string();
        assert!(e.starts_with("list.yaml: invalid endpoint list:"), "{e}");
    }
}
