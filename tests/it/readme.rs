//! The documentation's examples run: every `apicov …` command in a fenced
//! code block of `README.md` or of a page under `docs/` that reads bundled
//! data is executed with the built binary and must exit as the page says.
//!
//! The rule, kept simple so that new sections need no change here:
//! - a command is a line of a fenced block that starts with `apicov `
//!   (lines ending in `\` continue it);
//! - it is run when one of its words is a path under `testdata/` (quoted,
//!   or as `--flag=testdata/…`) and it holds no placeholder (`…`);
//! - it runs under `sh` from a scratch directory holding a link to the
//!   project's `testdata/`, with the built `apicov` first on `PATH`;
//! - it must exit 0, or N when its last line ends with `# exit N`.

use std::path::Path;

use crate::common;

/// Whether a word of `command` (quotes aside, or a `--flag=` value) is a
/// path under the project's `testdata/`.
fn reads_bundled_data(command: &str) -> bool {
    command.split_whitespace().any(|word| {
        let word = word.trim_matches(|c| c == '\'' || c == '"');
        let value = word.split_once('=').map_or(word, |(_, v)| v);
        word.starts_with("testdata/") || value.starts_with("testdata/")
    })
}

/// (command text, expected exit status) of every example to run.
fn examples(readme: &str) -> Vec<(String, i32)> {
    let mut out = Vec::new();
    let mut in_block = false;
    let mut current: Option<String> = None;
    for line in readme.lines() {
        if line.trim_start().starts_with("```") {
            in_block = !in_block;
            current = None;
            continue;
        }
        if !in_block {
            continue;
        }
        let text = match current.take() {
            Some(mut so_far) => {
                so_far.push(' ');
                so_far.push_str(line.trim());
                so_far
            }
            None if line.trim_start().starts_with("apicov ") => line.trim().to_string(),
            None => continue,
        };
        if let Some(open) = text.strip_suffix('\\') {
            current = Some(open.trim_end().to_string());
            continue;
        }
        let (command, status) = match text.rsplit_once("# exit ") {
            Some((command, n)) => (command.trim_end().to_string(), n.trim().parse().unwrap()),
            None => (text, 0),
        };
        if reads_bundled_data(&command) && !command.contains('…') {
            out.push((command, status));
        }
    }
    out
}

#[test]
fn the_rule_picks_commands_and_statuses() {
    let readme = "text apicov parse testdata/x\n```sh\napicov ops --swagger testdata/a.json\n\
                  apicov parse --audit-logs testdata/a.log \\\n  --swagger testdata/s.json   # exit 1\n\
                  apicov diff --pull-audit-endpoints …\napicov ops --swagger spec.json\napicov ops --swagger k/test/conformance/testdata/x\ncargo test\n```\n";
    assert_eq!(
        examples(readme),
        [
            ("apicov ops --swagger testdata/a.json".to_string(), 0),
            (
                "apicov parse --audit-logs testdata/a.log --swagger testdata/s.json".to_string(),
                1
            ),
        ]
    );
}

/// `README.md` and every `docs/*.md`, as (path relative to the project, text).
fn documents() -> Vec<(String, String)> {
    let root = common::root();
    let mut names = vec!["README.md".to_string()];
    let mut pages: Vec<String> = std::fs::read_dir(root.join("docs"))
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".md"))
        .map(|name| format!("docs/{name}"))
        .collect();
    pages.sort();
    names.extend(pages);
    names
        .into_iter()
        .map(|name| {
            let text = std::fs::read_to_string(root.join(&name)).unwrap();
            (name, text)
        })
        .collect()
}

#[test]
fn readme_examples_on_bundled_data_exit_as_documented() {
    let documents = documents();
    let readme = &documents[0].1;
    // The README's tour shows at least these commands on bundled data.
    assert!(examples(readme).len() >= 6, "{:?}", examples(readme));
    let examples: Vec<(String, String, i32)> = documents
        .iter()
        .flat_map(|(name, text)| {
            examples(text)
                .into_iter()
                .map(move |(command, status)| (name.clone(), command, status))
        })
        .collect();
    assert!(
        documents.len() > 1 && examples.iter().any(|(name, ..)| name.starts_with("docs/")),
        "no example found under docs/: {examples:?}"
    );
    let bin = Path::new(env!("CARGO_BIN_EXE_apicov"));
    let path = format!(
        "{}:{}",
        bin.parent().unwrap().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let mut failures = Vec::new();
    for (name, command, expected) in &examples {
        let scratch = tempfile::tempdir().unwrap();
        std::os::unix::fs::symlink(common::testdata(""), scratch.path().join("testdata")).unwrap();
        let out = std::process::Command::new("sh")
            .arg("-c")
            .arg(command)
            .current_dir(scratch.path())
            .env("PATH", &path)
            .env("APICOV_CACHE_DIR", scratch.path().join("cache"))
            .output()
            .unwrap();
        let status = out.status.code().unwrap_or(-1);
        if status != *expected {
            failures.push(format!(
                "{name}: {command}\n  exit {status}, {name} says {expected}\n  stderr: {}",
                String::from_utf8_lossy(&out.stderr)
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
