//! `examples/custom_matcher.rs` plugs its own `PathMatcher` into the engine:
//! run it (cargo builds examples with the tests) and compare what it prints
//! with the built-in trie's counts, computed here.

use std::path::{Path, PathBuf};
use std::process::Command;

use apicov_core::{Catalogue, Engine, EngineOptions, InputName, Router, WatchCredit};
use apicov_gen::{generate, GenOptions, Level};

fn example() -> PathBuf {
    // target/debug/deps/<this test> → target/debug/examples/custom_matcher
    let exe = std::env::current_exe().unwrap();
    let dir = exe.parent().unwrap().parent().unwrap();
    dir.join("examples")
        .join(format!("custom_matcher{}", std::env::consts::EXE_SUFFIX))
}

/// `operationId count` lines of the trie's counts, by name.
fn trie_counts(swagger: &Path, logs: &[PathBuf]) -> String {
    let catalogue = Catalogue::from_json(&std::fs::read(swagger).unwrap(), "spec").unwrap();
    let router = Router::new(&catalogue, WatchCredit::Deprecated);
    let inputs: Vec<InputName> = logs.iter().cloned().map(InputName::File).collect();
    let options = EngineOptions {
        threads: 1,
        ..EngineOptions::default()
    };
    let engine = Engine::new(router, options);
    let (tally, _) = engine.run(engine.open(&inputs).unwrap()).unwrap();
    let mut out = String::new();
    for id in catalogue.sorted_ids() {
        let hits = tally.ops[id.index()].total();
        if hits > 0 {
            out.push_str(&format!("{} {hits}\n", catalogue.get(id).id));
        }
    }
    out
}

fn run_example(args: &[&Path]) -> String {
    let out = Command::new(example()).args(args).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "answers as the built-in segment trie on every probe\n\
         same counts as the built-in segment trie\n"
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn the_custom_matcher_counts_as_the_trie_on_the_bundled_data() {
    let testdata = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata");
    let swagger = testdata.join("swagger-mini.json");
    let mut logs: Vec<PathBuf> = std::fs::read_dir(testdata.join("audit"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    logs.sort();
    let expected = trie_counts(&swagger, &logs);
    assert_eq!(expected.lines().count(), 31);
    assert_eq!(run_example(&[]), expected);
}

#[test]
fn the_custom_matcher_counts_as_the_trie_on_a_real_spec() {
    let swagger =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/k8s/swagger-v1.36.json");
    if !swagger.exists() {
        eprintln!("skipped: {} is absent", swagger.display());
        return;
    }
    let catalogue = Catalogue::from_json(&std::fs::read(&swagger).unwrap(), "spec").unwrap();
    let mut log = Vec::new();
    let truth = generate(
        &catalogue,
        &GenOptions::new(7, 4 << 20, Level::Metadata),
        &mut log,
    );
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.log");
    std::fs::write(&path, &log).unwrap();
    let expected = trie_counts(&swagger, std::slice::from_ref(&path));
    assert_eq!(expected.lines().count(), truth.operations.len());
    assert_eq!(run_example(&[&swagger, &path]), expected);
}
