//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::path::PathBuf;

/// The project root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// `../shared/<rel>` beside the repository, when it is there. In CI (CI=true)
/// it always is, so a missing directory fails the test instead of skipping it.
pub fn shared(rel: &str) -> Option<PathBuf> {
    let path = root().join("..").join("shared").join(rel);
    if path.exists() {
        return Some(path);
    }
    if std::env::var_os("CI").is_some() {
        panic!("{} is missing, and CI always has it", path.display());
    }
    eprintln!("skipping: {} not present", path.display());
    None
}

/// The four real Kubernetes specs, as (version, path).
pub fn real_specs() -> Vec<(&'static str, PathBuf)> {
    ["1.33", "1.34", "1.35", "1.36"]
        .into_iter()
        .filter_map(|v| shared(&format!("k8s/swagger-v{v}.json")).map(|p| (v, p)))
        .collect()
}

pub fn testdata(name: &str) -> PathBuf {
    root().join("testdata").join(name)
}
