//! Every template tried in turn: the floor the other strategies must beat
//! (`--matcher linear`).

use super::matcher::PathMatcher;
use super::template::Route;
use crate::spec::{Method, OpId};

/// Tries every route in precedence order: the floor every automaton must beat.
#[derive(Debug)]
pub struct LinearScan {
    routes: Vec<Route>,
}

impl LinearScan {
    /// A scan over `routes`, in order.
    pub fn new(routes: &[Route]) -> LinearScan {
        LinearScan {
            routes: routes.to_vec(),
        }
    }
}

impl PathMatcher for LinearScan {
    fn lookup(&self, method: Method, path: &[u8]) -> Option<OpId> {
        self.routes
            .iter()
            .find(|route| route.matches(method, path))
            .map(|route| route.op)
    }
}
