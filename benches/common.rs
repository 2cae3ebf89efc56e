//! Shared bench input: generated logs for the real specs in ../shared/k8s
//! (or the bundled mini spec on a fresh clone without ../shared).
#![allow(dead_code)] // each bench uses its part

use apicov_core::spec::Catalogue;
use apicov_gen::{generate, GenOptions, Level, Shape};

/// The 1.34 spec (or the mini spec).
pub fn catalogue() -> Catalogue {
    specs()
        .into_iter()
        .find(|(v, _)| v == "1.34" || v == "mini")
        .map(|(_, c)| c)
        .expect("1.34 or the mini spec")
}

/// The real specs 1.33–1.36 as (version, catalogue); the mini spec when
/// ../shared is absent.
pub fn specs() -> Vec<(String, Catalogue)> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/k8s");
    let real: Vec<(String, Catalogue)> = ["1.33", "1.34", "1.35", "1.36"]
        .into_iter()
        .filter_map(|v| {
            let path = format!("{dir}/swagger-v{v}.json");
            let bytes = std::fs::read(&path).ok()?;
            Some((v.to_string(), Catalogue::from_json(&bytes, &path).unwrap()))
        })
        .collect();
    if !real.is_empty() {
        return real;
    }
    eprintln!("{dir} not present: benchmarking the mini spec");
    let mini = concat!(env!("CARGO_MANIFEST_DIR"), "/testdata/swagger-mini.json");
    vec![(
        "mini".into(),
        Catalogue::from_json(&std::fs::read(mini).unwrap(), mini).unwrap(),
    )]
}

/// A generated Metadata-level log of about `bytes` bytes.
pub fn log(catalogue: &Catalogue, bytes: u64) -> Vec<u8> {
    log_at(catalogue, bytes, Level::Metadata)
}

/// A generated log of about `bytes` bytes at `level`.
pub fn log_at(catalogue: &Catalogue, bytes: u64, level: Level) -> Vec<u8> {
    shaped(catalogue, bytes, level, Shape::Default)
}

/// A generated log of about `bytes` bytes at `level`, of `shape`.
pub fn shaped(catalogue: &Catalogue, bytes: u64, level: Level, shape: Shape) -> Vec<u8> {
    let mut out = Vec::new();
    let options = GenOptions {
        shape,
        ..GenOptions::new(42, bytes, level)
    };
    generate(catalogue, &options, &mut out);
    out
}
