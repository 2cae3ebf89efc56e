//! A route-matching strategy of your own, plugged into the same engine.
//!
//! `ByDepth` buckets the spec's path templates by HTTP method and number of
//! segments, so a lookup only tries templates of the path's own depth (plus
//! the few ending in a catch-all `{path}`), in the precedence order of
//! [`Route::all`]. The engine does not care how a [`PathMatcher`] finds the
//! operation: everything else (chunking, extraction, counting, samples) is
//! the built-in pipeline.
//!
//! First [`check_matcher`] proves that `ByDepth` answers as the built-in
//! segment trie on the catalogue's paths; then the example prints
//! `operationId count` for every operation hit, by name, and checks the
//! counts against the trie's:
//!
//! ```text
//! cargo run -p apicov-core --example custom_matcher -- SWAGGER LOG...
//! ```
//!
//! With no arguments it reads the bundled spec and logs in `testdata/`.

use std::collections::HashMap;
use std::path::PathBuf;

use apicov_core::{
    check_matcher, Catalogue, Engine, EngineOptions, InputName, Method, OpId, PathMatcher, Route,
    Router, Segment, Tally, WatchCredit,
};

/// Templates by (method, depth), each bucket in precedence order.
struct ByDepth {
    /// (method, number of segments) → (precedence rank, route).
    fixed: HashMap<(Method, usize), Vec<(usize, Route)>>,
    /// Templates ending in a catch-all, which match any deeper path.
    catch_all: Vec<(usize, Route)>,
}

impl ByDepth {
    fn new(catalogue: &Catalogue) -> ByDepth {
        let mut fixed: HashMap<(Method, usize), Vec<(usize, Route)>> = HashMap::new();
        let mut catch_all = Vec::new();
        for (rank, route) in Route::all(catalogue).into_iter().enumerate() {
            if matches!(route.segments.last(), Some(Segment::CatchAll)) {
                catch_all.push((rank, route));
            } else {
                let key = (route.method, route.segments.len());
                fixed.entry(key).or_default().push((rank, route));
            }
        }
        ByDepth { fixed, catch_all }
    }
}

impl PathMatcher for ByDepth {
    fn lookup(&self, method: Method, path: &[u8]) -> Option<OpId> {
        let depth = path.iter().filter(|&&b| b == b'/').count();
        let first = |routes: &[(usize, Route)]| {
            routes
                .iter()
                .find(|(_, route)| route.matches(method, path))
                .map(|(rank, route)| (*rank, route.op))
        };
        let same_depth = self.fixed.get(&(method, depth)).and_then(|r| first(r));
        // The earlier in precedence order wins, as in every built-in matcher.
        [same_depth, first(&self.catch_all)]
            .into_iter()
            .flatten()
            .min()
            .map(|(_, op)| op)
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../testdata");
    let mut args = std::env::args().skip(1);
    let swagger = args
        .next()
        .map_or_else(|| root.join("swagger-mini.json"), PathBuf::from);
    let mut logs: Vec<PathBuf> = args.map(PathBuf::from).collect();
    if logs.is_empty() {
        let mut bundled: Vec<PathBuf> = std::fs::read_dir(root.join("audit"))?
            .map(|entry| entry.map(|e| e.path()))
            .collect::<Result<_, _>>()?;
        bundled.sort();
        logs = bundled;
    }
    let bytes = std::fs::read(&swagger)?;
    let catalogue = Catalogue::from_json(&bytes, &swagger.display().to_string())?;
    let inputs: Vec<InputName> = logs.into_iter().map(InputName::File).collect();
    let by_depth = ByDepth::new(&catalogue);
    check_matcher(&catalogue, &by_depth)?;
    eprintln!("answers as the built-in segment trie on every probe");
    let custom = Router::with_matcher(&catalogue, by_depth, WatchCredit::Deprecated);
    let engine = Engine::new(custom, EngineOptions::default());
    let (tally, _) = engine.run(engine.open(&inputs)?)?;
    for id in catalogue.sorted_ids() {
        let hits = tally.ops[id.index()].total();
        if hits > 0 {
            println!("{} {hits}", catalogue.get(id).id);
        }
    }

    let trie = Router::new(&catalogue, WatchCredit::Deprecated);
    let engine = Engine::new(trie, EngineOptions::default());
    let (built_in, _) = engine.run(engine.open(&inputs)?)?;
    let unmatched = |t: &Tally| {
        let mut groups: Vec<_> = t.unmatched().collect();
        groups.sort_by(|a, b| a.0.cmp(b.0));
        format!("{groups:?}")
    };
    if built_in.ops != tally.ops || unmatched(&built_in) != unmatched(&tally) {
        return Err("the counts differ from the built-in trie's".into());
    }
    eprintln!("same counts as the built-in segment trie");
    Ok(())
}
