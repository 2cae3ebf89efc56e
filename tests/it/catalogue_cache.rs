//! The compiled-catalogue cache (crates/apicov-fetch/src/catalogue_cache.rs) gives the catalogue
//! the JSON parse gives, for the four real specs and the mini spec: every
//! operation field, the digest, the version and the router's answers. An
//! entry is invalidated by any change to the spec's bytes, survives being
//! truncated or corrupted (rebuilt, no error), and a bad spec gives the
//! parse's error and leaves no entry. The tracking lists, kept the same
//! way, give the entries and ignored items the YAML parse gives.

use crate::common;

use std::os::unix::fs::MetadataExt;
use std::path::Path;

use apicov_core::routing::{Router, WatchCredit};
use apicov_core::spec::Catalogue;
use apicov_fetch::catalogue_cache::{entry_path_for, load_in};

fn specs() -> Vec<(String, Vec<u8>)> {
    let mut specs = vec![(
        "mini".to_string(),
        std::fs::read(common::mini_spec()).unwrap(),
    )];
    for (version, path) in common::real_specs() {
        specs.push((version.to_string(), std::fs::read(path).unwrap()));
    }
    specs
}

/// Requests for every operation: its template filled in, under each verb.
fn requests(catalogue: &Catalogue) -> Vec<(&'static str, String)> {
    let mut out = Vec::new();
    for (_, op) in catalogue.operations() {
        let uri: String = op
            .template
            .split('/')
            .map(|s| match s {
                "{path}" | "{logpath}" => "a/b",
                s if s.starts_with('{') => "x1",
                s => s,
            })
            .collect::<Vec<_>>()
            .join("/");
        for verb in [
            "get", "list", "watch", "create", "update", "patch", "delete",
        ] {
            out.push((verb, uri.clone()));
            out.push((verb, format!("{uri}?watch=true")));
        }
    }
    out.push(("get", "/apis/example.com/v1/widgets".into()));
    out
}

fn assert_same(name: &str, parsed: &Catalogue, cached: &Catalogue) {
    assert_eq!(parsed.len(), cached.len(), "{name}");
    for ((a_id, a), (b_id, b)) in parsed.operations().zip(cached.operations()) {
        assert_eq!(a_id, b_id, "{name}");
        assert_eq!(a, b, "{name}");
        assert_eq!(cached.lookup(&a.id), Some(a_id), "{name}");
    }
    assert_eq!(parsed.version(), cached.version(), "{name}");
    assert_eq!(parsed.digest(), cached.digest(), "{name}");
    assert_eq!(parsed.has_deprecated(), cached.has_deprecated(), "{name}");
    for credit in [WatchCredit::Deprecated, WatchCredit::List] {
        let (r1, r2) = (Router::new(parsed, credit), Router::new(cached, credit));
        for (verb, uri) in requests(parsed) {
            let got = |r: &Router, c: &Catalogue| {
                r.route(verb.as_bytes(), uri.as_bytes())
                    .map(|id| c.get(id).id.clone())
            };
            assert_eq!(got(&r1, parsed), got(&r2, cached), "{name}: {verb} {uri}");
        }
    }
}

fn inode(path: &Path) -> u64 {
    std::fs::metadata(path).unwrap().ino()
}

#[test]
fn cached_catalogue_is_the_parsed_one() {
    let dir = tempfile::tempdir().unwrap();
    for (name, bytes) in specs() {
        let parsed = Catalogue::from_json(&bytes, &name).unwrap();
        let first = load_in(dir.path(), &bytes, &name).unwrap();
        assert_same(&name, &parsed, &first);
        let entry = entry_path_for(dir.path(), &bytes);
        let written = inode(&entry);
        let hit = load_in(dir.path(), &bytes, &name).unwrap();
        // Read back, not rewritten: the same file.
        assert_eq!(inode(&entry), written, "{name}");
        assert_same(&name, &parsed, &hit);
    }
}

#[test]
fn any_change_to_the_spec_is_another_entry() {
    let dir = tempfile::tempdir().unwrap();
    let bytes = std::fs::read(common::mini_spec()).unwrap();
    let before = load_in(dir.path(), &bytes, "mini").unwrap();
    // One description now says "deprecated".
    let text = String::from_utf8(bytes.clone()).unwrap();
    let needle = "\"get the code version\"";
    assert!(text.contains(needle), "mini spec layout changed: {needle}");
    let edited = text.replacen(needle, "\"get the code version (Deprecated)\"", 1);
    let code_version = |c: &Catalogue| c.get(c.lookup("getCodeVersion").unwrap()).deprecated;
    assert!(!code_version(&before));
    let after = load_in(dir.path(), edited.as_bytes(), "mini").unwrap();
    assert!(code_version(&after));
    assert_ne!(before.digest(), after.digest());
    assert_ne!(
        entry_path_for(dir.path(), &bytes),
        entry_path_for(dir.path(), edited.as_bytes())
    );
    // Whitespace alone is another entry too (same catalogue, other bytes).
    let mut spaced = bytes.clone();
    spaced.push(b'\n');
    assert_ne!(
        entry_path_for(dir.path(), &bytes),
        entry_path_for(dir.path(), &spaced)
    );
    assert_same(
        "spaced",
        &before,
        &load_in(dir.path(), &spaced, "m").unwrap(),
    );
}

#[test]
fn truncated_or_corrupt_entries_are_rebuilt() {
    let dir = tempfile::tempdir().unwrap();
    let bytes = std::fs::read(common::mini_spec()).unwrap();
    let parsed = Catalogue::from_json(&bytes, "mini").unwrap();
    load_in(dir.path(), &bytes, "mini").unwrap();
    let entry = entry_path_for(dir.path(), &bytes);
    let good = std::fs::read(&entry).unwrap();
    let damaged: Vec<Vec<u8>> = vec![
        Vec::new(),
        good[..good.len() / 2].to_vec(),
        good[..good.len() - 1].to_vec(),
        {
            let mut b = good.clone();
            let last = b.len() - 3;
            b[last] ^= 1;
            b
        },
        vec![0xff; good.len()],
        b"not a catalogue".to_vec(),
    ];
    for (i, bad) in damaged.iter().enumerate() {
        std::fs::write(&entry, bad).unwrap();
        let loaded = load_in(dir.path(), &bytes, "mini").unwrap();
        assert_same(&format!("damage {i}"), &parsed, &loaded);
        assert_eq!(
            std::fs::read(&entry).unwrap(),
            good,
            "damage {i}: rewritten"
        );
    }
    // A directory where the entry should be: parsed, no error.
    std::fs::remove_file(&entry).unwrap();
    std::fs::create_dir(&entry).unwrap();
    assert_same("dir", &parsed, &load_in(dir.path(), &bytes, "m").unwrap());
    // A cache directory that is a file: parsed, no error.
    let file = dir.path().join("plain-file");
    std::fs::write(&file, b"x").unwrap();
    assert_same("file", &parsed, &load_in(&file, &bytes, "m").unwrap());
}

#[test]
fn bad_specs_give_the_parse_error_and_leave_no_entry() {
    let dir = tempfile::tempdir().unwrap();
    let mini = std::fs::read(common::mini_spec()).unwrap();
    let bad: Vec<&[u8]> = vec![
        b"{not json",
        b"{\"swagger\":\"2.0\"}",
        b"{\"paths\":{}}",
        b"",
        &mini[..mini.len() / 2],
    ];
    for bytes in bad {
        let want = Catalogue::from_json(bytes, "x.json")
            .unwrap_err()
            .to_string();
        for _ in 0..2 {
            let got = load_in(dir.path(), bytes, "x.json")
                .unwrap_err()
                .to_string();
            assert_eq!(got, want);
        }
        assert!(!entry_path_for(dir.path(), bytes).exists());
    }
}

#[test]
fn parse_runs_use_and_keep_the_cache() {
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("cache");
    let mut outputs = Vec::new();
    for run in 0..2 {
        let out = dir.path().join(format!("run{run}"));
        std::fs::create_dir_all(&out).unwrap();
        common::parse_fixture()
            .arg("--cache-dir")
            .arg(&cache)
            .arg("-o")
            .arg(out.join("e.txt"))
            .arg("--audit-operations-json")
            .arg(out.join("o.json"))
            .args(["--no-fail", "-q"])
            .assert()
            .success();
        outputs.push((
            std::fs::read(out.join("e.txt")).unwrap(),
            std::fs::read(out.join("o.json")).unwrap(),
        ));
    }
    assert_eq!(outputs[0], outputs[1]);
    let bytes = std::fs::read(common::mini_spec()).unwrap();
    assert!(entry_path_for(&cache, &bytes).is_file());
    let list = std::fs::read(common::testdata("ineligible-mini.yaml")).unwrap();
    assert!(apicov_fetch::catalogue_cache::list_entry_path_for(&cache, &list).is_file());
}

fn list_docs() -> Vec<apicov_fetch::source::Document> {
    let mut paths = vec![
        common::testdata("ineligible-mini.yaml"),
        common::testdata("pending-mini.yaml"),
    ];
    for name in [
        "ineligible_endpoints.yaml",
        "pending_eligible_endpoints.yaml",
    ] {
        paths.extend(common::shared(&format!("k8s/{name}")));
    }
    let mut docs: Vec<apicov_fetch::source::Document> = paths
        .iter()
        .map(|p| {
            apicov_fetch::source::Document::from_bytes(
                p.display().to_string(),
                std::fs::read(p).unwrap(),
            )
        })
        .collect();
    for (name, text) in [
        ("empty.yaml", "---\n"),
        ("blank.yaml", ""),
        (
            "odd.yaml",
            "- endpoint: a\n  reason: yes\n  link: 3\n- 7\n- endpoint: [x]\n- reason: r\n- a\n- b\n",
        ),
    ] {
        docs.push(apicov_fetch::source::Document::from_bytes(
            name,
            text.as_bytes().to_vec(),
        ));
    }
    docs
}

#[test]
fn cached_lists_are_the_parsed_ones() {
    use apicov_core::lists::EndpointList;
    use apicov_fetch::catalogue_cache::{list_entry_path_for, load_list_in};
    let dir = tempfile::tempdir().unwrap();
    for doc in list_docs() {
        let parsed = EndpointList::parse(doc.bytes().unwrap(), &doc.name).unwrap();
        let first = load_list_in(dir.path(), &doc).unwrap();
        let entry = list_entry_path_for(dir.path(), doc.bytes().unwrap());
        let written = inode(&entry);
        let hit = load_list_in(dir.path(), &doc).unwrap();
        assert_eq!(inode(&entry), written, "{}", doc.name);
        for list in [&first, &hit] {
            assert_eq!(list.source, parsed.source);
            assert_eq!(list.entries, parsed.entries, "{}", doc.name);
            assert_eq!(list.ignored, parsed.ignored, "{}", doc.name);
            assert_eq!(list.len(), parsed.len(), "{}", doc.name);
            assert_eq!(list.ignored_warning(), parsed.ignored_warning());
            for e in &parsed.entries {
                assert!(list.contains(&e.endpoint));
            }
        }
        // A damaged entry is rebuilt.
        std::fs::write(&entry, b"junk").unwrap();
        let rebuilt = load_list_in(dir.path(), &doc).unwrap();
        assert_eq!(rebuilt.entries, parsed.entries, "{}", doc.name);
    }
    // A list that does not parse: the parse's error, no entry.
    let bad = apicov_fetch::source::Document::from_bytes("bad.yaml", b"key: value\n".to_vec());
    let want = EndpointList::parse(bad.bytes().unwrap(), &bad.name)
        .unwrap_err()
        .to_string();
    assert_eq!(
        load_list_in(dir.path(), &bad).unwrap_err().to_string(),
        want
    );
    assert!(!list_entry_path_for(dir.path(), bad.bytes().unwrap()).exists());
}
