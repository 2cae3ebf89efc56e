//! Who made a request. e2e.test sets its User-Agent to
//! `<client UA> -- <ginkgo spec text>`, e.g. `e2e.test/v1.34.0 (linux/amd64)
//! kubernetes/a1b2c3d -- [sig-apps] Deployment should run the lifecycle of a
//! Deployment [Conformance]`: such a request belongs to that test. Any other
//! request belongs to its client, named by the User-Agent's product
//! (`kubelet`, `kube-controller-manager`, …).

use ahash::AHashMap;

/// What `--by-test` and `--conformance-only` ask for.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Attribution {
    /// Record which test or client made each counted request.
    pub by_test: bool,
    /// Count only requests made by `[Conformance]` specs.
    pub conformance_only: bool,
}

impl Attribution {
    /// Whether the user agent must be read.
    pub(crate) fn needs_user_agent(&self) -> bool {
        self.by_test || self.conformance_only
    }
}

/// A test or a client.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Actor {
    /// A Ginkgo spec, named from the user agent's ` -- ` suffix.
    Test(String),
    /// Any other client, by user agent product (or user name).
    Client(String),
}

impl Actor {
    /// The test's or client's name.
    pub fn name(&self) -> &str {
        match self {
            Actor::Test(name) | Actor::Client(name) => name,
        }
    }
}

/// Separator e2e.test puts between its client UA and the spec text.
const TEST_SEPARATOR: &str = " -- ";

/// The test or client a user agent names.
pub(crate) fn actor_of(user_agent: Option<&str>) -> (bool, &str) {
    let Some(ua) = user_agent.filter(|ua| !ua.is_empty()) else {
        return (false, "(no user agent)");
    };
    if let Some((_, test)) = ua.split_once(TEST_SEPARATOR) {
        let test = test.trim();
        if !test.is_empty() {
            return (true, test);
        }
    }
    let product = ua.split(['/', ' ']).next().unwrap_or(ua);
    (false, if product.is_empty() { ua } else { product })
}

/// Conformance specs carry `[Conformance]` in their text.
pub fn is_conformance(test: &str) -> bool {
    test.contains("[Conformance]")
}

/// Actors interned to small numbers, per chunk or per run.
#[derive(Debug, Clone, Default)]
pub struct ActorTable {
    tests: AHashMap<Box<str>, u32>,
    clients: AHashMap<Box<str>, u32>,
    /// Every actor, numbered by its index.
    pub actors: Vec<Actor>,
}

impl ActorTable {
    /// The number of a test (`is_test`) or client, allocating only when new.
    pub(crate) fn intern(&mut self, is_test: bool, name: &str) -> u32 {
        let map = if is_test {
            &mut self.tests
        } else {
            &mut self.clients
        };
        if let Some(&i) = map.get(name) {
            return i;
        }
        let i = self.actors.len() as u32;
        map.insert(name.into(), i);
        self.actors.push(if is_test {
            Actor::Test(name.to_string())
        } else {
            Actor::Client(name.to_string())
        });
        i
    }

    /// The number of `actor`, allocating only when new.
    pub fn intern_actor(&mut self, actor: &Actor) -> u32 {
        match actor {
            Actor::Test(name) => self.intern(true, name),
            Actor::Client(name) => self.intern(false, name),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_tests_and_clients() {
        let test = "e2e.test/v1.34.0 (linux/amd64) kubernetes/a1b2c3d -- [sig-apps] Deployment should run the lifecycle of a Deployment [Conformance]";
        assert_eq!(
            actor_of(Some(test)),
            (
                true,
                "[sig-apps] Deployment should run the lifecycle of a Deployment [Conformance]"
            )
        );
        assert!(is_conformance(actor_of(Some(test)).1));
        assert_eq!(
            actor_of(Some("kube-controller-manager/v1.34.0 (linux/amd64) kubernetes/a1b2c3d/system:serviceaccount:kube-system:x")),
            (false, "kube-controller-manager")
        );
        assert_eq!(
            actor_of(Some("e2e.test/v1.34.0 (linux/amd64) kubernetes/a1b2c3d")),
            (false, "e2e.test")
        );
        assert_eq!(actor_of(None), (false, "(no user agent)"));
        assert_eq!(actor_of(Some("curl")), (false, "curl"));
    }
}
