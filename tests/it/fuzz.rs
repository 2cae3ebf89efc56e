//! Random and mutated audit lines through extraction, routing and sample
//! printing (a bounded proptest, so it runs in CI): nothing panics or
//! overflows the stack, fast and full agree on every line fast accepts and
//! a whole-line check passes, and the one-pass sample printer prints what
//! the serde_json printer prints whenever it takes a line.

use crate::common;

use std::sync::OnceLock;

use apicov_core::event::{check_whole, extract, Validation};
use apicov_core::routing::{AnyMatcher, Router, Strategy as Matching, WatchCredit};
use apicov_core::spec::Catalogue;
use apicov_report::report::python_json::{print_sample, print_sample_via_serde};
use proptest::prelude::*;

/// Lines of the bundled fixture: real-shaped events to mutate.
fn seeds() -> &'static [Vec<u8>] {
    static SEEDS: OnceLock<Vec<Vec<u8>>> = OnceLock::new();
    SEEDS.get_or_init(|| {
        let mut lines = Vec::new();
        for name in [
            "audit/kind-conformance-2026-11-26T10-00-00.000.log",
            "audit/kind-conformance-2026-11-26T11-00-00.000.log",
        ] {
            let text = std::fs::read(common::testdata(name)).unwrap();
            lines.extend(
                text.split(|&b| b == b'\n')
                    .filter(|l| !l.is_empty())
                    .map(<[u8]>::to_vec),
            );
        }
        lines
    })
}

fn router() -> &'static Router<AnyMatcher> {
    static ROUTER: OnceLock<Router<AnyMatcher>> = OnceLock::new();
    ROUTER.get_or_init(|| {
        let spec = std::fs::read(common::testdata("swagger-mini.json")).unwrap();
        let catalogue = Catalogue::from_json(&spec, "mini").unwrap();
        Router::with_matcher(
            &catalogue,
            AnyMatcher::build(Matching::Trie, &catalogue).unwrap(),
            WatchCredit::Deprecated,
        )
    })
}

/// One edit of a line.
#[derive(Debug, Clone)]
enum Mutation {
    Flip(usize, u8),
    Insert(usize, Vec<u8>),
    Delete(usize, usize),
    Truncate(usize),
    /// Wraps a value position in `depth` brackets.
    Nest(usize, usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let tokens = prop_oneof![
        Just(b"{".to_vec()),
        Just(b"}".to_vec()),
        Just(b"[".to_vec()),
        Just(b"]".to_vec()),
        Just(b"\"".to_vec()),
        Just(b"\\".to_vec()),
        Just(b"\\u00".to_vec()),
        Just(b"\\ud800".to_vec()),
        Just(b",\"verb\":\"get\"".to_vec()),
        Just(b",\"stage\":\"Panic\"".to_vec()),
        Just(b"\xff\xfe".to_vec()),
        Just(b"\x01".to_vec()),
        Just(b"1e999".to_vec()),
        Just(b"-0.0".to_vec()),
        Just(b"\n".to_vec()),
        prop::collection::vec(any::<u8>(), 1..8),
    ];
    prop_oneof![
        (any::<usize>(), any::<u8>()).prop_map(|(at, b)| Mutation::Flip(at, b)),
        (any::<usize>(), tokens).prop_map(|(at, t)| Mutation::Insert(at, t)),
        (any::<usize>(), 1usize..64).prop_map(|(at, n)| Mutation::Delete(at, n)),
        any::<usize>().prop_map(Mutation::Truncate),
        (
            any::<usize>(),
            prop_oneof![1usize..8, 120usize..135, 2000usize..3000]
        )
            .prop_map(|(at, d)| Mutation::Nest(at, d)),
    ]
}

fn apply(line: &mut Vec<u8>, m: &Mutation) {
    let at = |i: usize, len: usize| if len == 0 { 0 } else { i % (len + 1) };
    match m {
        Mutation::Flip(i, b) if !line.is_empty() => {
            let i = i % line.len();
            line[i] = *b;
        }
        Mutation::Flip(..) => {}
        Mutation::Insert(i, t) => {
            let i = at(*i, line.len());
            line.splice(i..i, t.iter().copied());
        }
        Mutation::Delete(i, n) => {
            let i = at(*i, line.len());
            let end = (i + n).min(line.len());
            line.drain(i..end);
        }
        Mutation::Truncate(i) => {
            let i = at(*i, line.len());
            line.truncate(i);
        }
        Mutation::Nest(i, depth) => {
            // After a `:` the bracket run replaces a value's start.
            let colons: Vec<usize> = line
                .iter()
                .enumerate()
                .filter(|(_, &b)| b == b':')
                .map(|(k, _)| k + 1)
                .collect();
            if let Some(&pos) = colons.get(i % colons.len().max(1)) {
                let nested = [vec![b'['; *depth], vec![b']'; *depth], vec![b',']].concat();
                line.splice(pos..pos, nested);
            }
        }
    }
}

/// Everything a line goes through; panics (the property fails) on any
/// disagreement.
fn check_line(line: &[u8]) {
    let line = apicov_core::event::trim_line(line);
    if line.is_empty() {
        return;
    }
    let fast = extract(line, Validation::Fast, true);
    let full = extract(line, Validation::Full, true);
    let whole = check_whole(line);
    // A key counting reads, repeated after the point where fast mode stops,
    // is read by fast mode as its first value and by full mode (as by
    // Python) as its last: the one documented difference (README, Failure
    // modes), so such lines are left out of the comparison.
    let repeated = ["\"verb\"", "\"stage\"", "\"requestURI\"", "\"auditID\""]
        .iter()
        .any(|key| {
            line.windows(key.len())
                .filter(|w| w == &key.as_bytes())
                .count()
                > 1
        });
    if let (Ok(f), Ok(()), false) = (&fast, &whole, repeated) {
        let g = full
            .as_ref()
            .expect("full refuses a line fast takes and the whole-line check passes");
        assert_eq!(f.stage.map(|s| s.decode()), g.stage.map(|s| s.decode()));
        assert_eq!(f.verb.map(|s| s.decode()), g.verb.map(|s| s.decode()));
        assert_eq!(
            f.request_uri.map(|s| s.decode()),
            g.request_uri.map(|s| s.decode())
        );
        assert_eq!(
            f.audit_id.map(|s| s.decode()),
            g.audit_id.map(|s| s.decode())
        );
    }
    if full.is_ok() {
        assert!(
            whole.is_ok(),
            "full takes a line the whole-line check refuses"
        );
    }
    if let Ok(fields) = fast {
        let verb = fields.verb.map(|v| v.decode()).unwrap_or_default();
        let uri = fields.request_uri.map(|u| u.decode()).unwrap_or_default();
        let _ = router().route(&verb, &uri);
    }
    // Samples are only ever lines that pass the whole-line check.
    if whole.is_ok() {
        let mut fast_print = Vec::new();
        print_sample(line, &mut fast_print);
        if serde_json::from_slice::<serde_json::Value>(line).is_ok() {
            let mut slow_print = Vec::new();
            print_sample_via_serde(line, &mut slow_print);
            assert_eq!(
                String::from_utf8_lossy(&fast_print),
                String::from_utf8_lossy(&slow_print)
            );
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes(line in prop::collection::vec(any::<u8>(), 0..512)) {
        check_line(&line);
    }

    #[test]
    fn mutated_events(
        seed in any::<prop::sample::Index>(),
        edits in prop::collection::vec(mutation(), 1..6),
    ) {
        let mut line = seed.get(seeds()).clone();
        for edit in &edits {
            apply(&mut line, edit);
        }
        check_line(&line);
    }
}

/// Lines just past and at the nesting limit, either side of the fields.
#[test]
fn nesting_limit_edges() {
    let head = r#"{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"a","stage":"ResponseComplete","requestURI":"/api","verb":"get""#;
    for depth in [125, 126, 127, 128, 20_000] {
        let nested = format!("{}{}", "[".repeat(depth), "]".repeat(depth));
        check_line(format!(r#"{head},"x":{nested}}}"#).as_bytes());
        check_line(format!(r#"{{"x":{nested},{}}}"#, &head[1..]).as_bytes());
    }
    // 126 nested + the event's own object: the limit, accepted whole.
    let at_limit = format!(r#"{head},"x":{}{}}}"#, "[".repeat(126), "]".repeat(126));
    assert!(check_whole(at_limit.as_bytes()).is_ok());
    let over = format!(r#"{head},"x":{}{}}}"#, "[".repeat(127), "]".repeat(127));
    assert!(check_whole(over.as_bytes()).is_err());
    assert!(serde_json::from_str::<serde_json::Value>(&at_limit).is_ok());
    assert!(serde_json::from_str::<serde_json::Value>(&over).is_err());
}
