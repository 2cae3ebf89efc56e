//! The extension point: one trait every matching strategy implements.

use crate::spec::{Method, OpId};

/// (method, path) → operation. `path` has no query and no trailing slash.
pub trait PathMatcher: Send + Sync {
    /// The operation of `method` at `path`, if any.
    fn lookup(&self, method: Method, path: &[u8]) -> Option<OpId>;
}
