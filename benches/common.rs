//! Shared bench input: a generated Metadata-level log for the 1.34 spec
//! (or the bundled mini spec on a fresh clone without ../shared).
#![allow(dead_code)] // each bench uses its part

use apicov_core::gen::{generate, GenOptions, Level};
use apicov_core::spec::Catalogue;

pub fn catalogue() -> Catalogue {
    let shared = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../shared/k8s/swagger-v1.34.json"
    );
    let mini = concat!(env!("CARGO_MANIFEST_DIR"), "/testdata/swagger-mini.json");
    let path = if std::path::Path::new(shared).exists() {
        shared
    } else {
        mini
    };
    Catalogue::from_json(&std::fs::read(path).unwrap(), path).unwrap()
}

pub fn log(catalogue: &Catalogue, bytes: u64) -> Vec<u8> {
    log_at(catalogue, bytes, Level::Metadata)
}

pub fn log_at(catalogue: &Catalogue, bytes: u64, level: Level) -> Vec<u8> {
    let mut out = Vec::new();
    generate(catalogue, &GenOptions::new(42, bytes, level), &mut out);
    out
}
