//! Path templates: a spec path (`/api/v1/namespaces/{namespace}/pods`) as
//! segments, and every operation's template in precedence order, the order
//! in which every strategy must answer.
//!
//! Matching rules, shared by every strategy:
//! - a literal segment beats a parameter at the same position, a parameter
//!   beats a trailing catch-all (`{path}`, `{logpath}`);
//! - a parameter matches any non-empty segment, whatever it holds;
//! - a catch-all takes the non-empty rest of the path, slashes included;
//! - one trailing slash on either side is ignored (`/api` ≡ `/api/`).

use crate::spec::{Catalogue, Method, OpId};

/// One segment of a path template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Segment {
    /// A fixed segment, matched byte for byte.
    Literal(Box<[u8]>),
    /// `{name}`, `{namespace}`: one non-empty segment.
    Param,
    /// `{path}` or `{logpath}` at the end: the non-empty rest of the path.
    CatchAll,
}

impl Segment {
    /// Literal < Param < CatchAll: the precedence order of the matching rules.
    fn rank(&self) -> u8 {
        match self {
            Segment::Literal(_) => 0,
            Segment::Param => 1,
            Segment::CatchAll => 2,
        }
    }
}

/// A compiled path template of one operation.
#[derive(Debug, Clone)]
pub struct Route {
    /// The operation's HTTP method.
    pub method: Method,
    /// The template's segments, in order.
    pub segments: Vec<Segment>,
    /// The operation.
    pub op: OpId,
}

impl Route {
    /// Templates of every operation in the catalogue, in precedence order:
    /// compared segment by segment, literal before parameter before catch-all.
    /// The first route of this list that matches a path is the answer.
    pub fn all(catalogue: &Catalogue) -> Vec<Route> {
        let mut routes: Vec<Route> = catalogue
            .operations()
            .map(|(op, operation)| Route {
                method: operation.method,
                segments: parse_template(&operation.template),
                op,
            })
            .collect();
        // Keys computed once a route, not twice a comparison.
        routes.sort_by_cached_key(|r| {
            let ranks: Vec<u8> = r.segments.iter().map(Segment::rank).collect();
            (ranks, r.op)
        });
        routes
    }

    /// Whether this route matches `path` (no query, trailing slash trimmed).
    pub fn matches(&self, method: Method, path: &[u8]) -> bool {
        if method != self.method {
            return false;
        }
        let mut rest = path;
        for segment in &self.segments {
            let Some(after_slash) = rest.strip_prefix(b"/") else {
                return false;
            };
            match segment {
                Segment::CatchAll => return !after_slash.is_empty(),
                _ => {
                    let end = memchr::memchr(b'/', after_slash).unwrap_or(after_slash.len());
                    let (seg, tail) = after_slash.split_at(end);
                    let ok = match segment {
                        Segment::Literal(lit) => **lit == *seg,
                        _ => !seg.is_empty(),
                    };
                    if !ok {
                        return false;
                    }
                    rest = tail;
                }
            }
        }
        rest.is_empty()
    }
}

/// Splits a spec path into segments; a trailing slash is dropped.
pub fn parse_template(template: &str) -> Vec<Segment> {
    let trimmed = template.strip_suffix('/').unwrap_or(template);
    let parts: Vec<&str> = trimmed.split('/').skip(1).collect();
    let last = parts.len().saturating_sub(1);
    parts
        .iter()
        .enumerate()
        .map(|(i, part)| {
            if part.starts_with('{') && part.ends_with('}') {
                if i == last && (*part == "{path}" || *part == "{logpath}") {
                    Segment::CatchAll
                } else {
                    Segment::Param
                }
            } else {
                Segment::Literal(part.as_bytes().into())
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_parse() {
        assert_eq!(
            parse_template("/logs/{logpath}"),
            vec![Segment::Literal(b"logs"[..].into()), Segment::CatchAll]
        );
        assert_eq!(
            parse_template("/api/"),
            vec![Segment::Literal(b"api"[..].into())]
        );
        assert_eq!(
            parse_template("/api/v1/nodes/{name}"),
            vec![
                Segment::Literal(b"api"[..].into()),
                Segment::Literal(b"v1"[..].into()),
                Segment::Literal(b"nodes"[..].into()),
                Segment::Param
            ]
        );
    }
}
