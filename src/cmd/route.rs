//! `apicov route VERB URI… [VERB URI…]…`: which operation requests map to,
//! for checking the mapping rules by hand.

use clap::Args;

use crate::args::SpecArgs;
use apicov_core::error::{Error, Result};

/// How the positional words are read, shown in `--help`.
const REQUESTS_HELP: &str = "Requests: an audit verb (get, list, watch, create, update, patch, \
    delete, deletecollection, or a lowercase HTTP method for non-resource URLs) followed by \
    one or more request URIs as the audit log records them (starting with `/`, query string \
    included). A verb applies to the URIs after it, up to the next verb: \
    `get /api/v1/pods list /api/v1/nodes /api/v1/pods`.";

#[derive(Debug, Args)]
pub struct RouteArgs {
    #[command(flatten)]
    pub spec: SpecArgs,

    #[arg(required = true, value_name = "VERB URI", help = REQUESTS_HELP)]
    pub requests: Vec<String>,
}

/// The (verb, URI) pairs the words name: a word starting with `/` is a URI
/// for the verb before it; any other word must be an audit verb.
pub fn pairs(words: &[String]) -> Result<Vec<(&str, &str)>> {
    let mut verb: Option<&str> = None;
    let mut pending_verb_used = true;
    let mut out = Vec::new();
    for word in words {
        if word.starts_with('/') {
            let Some(v) = verb else {
                return Err(Error::Usage(format!(
                    "route: {word}: a request URI needs an audit verb before it (e.g. `get {word}`)"
                )));
            };
            out.push((v, word.as_str()));
            pending_verb_used = true;
        } else if apicov_core::routing::verb_info(word.as_bytes()).is_some() {
            if !pending_verb_used {
                return Err(Error::Usage(format!(
                    "route: {}: a verb needs at least one request URI after it",
                    verb.unwrap_or_default()
                )));
            }
            verb = Some(word);
            pending_verb_used = false;
        } else {
            return Err(Error::Usage(format!(
                "route: {word}: neither an audit verb (get, list, watch, create, update, patch, \
                 delete, deletecollection, post, put, head, options) nor a request URI (starts with /)"
            )));
        }
    }
    if !pending_verb_used {
        return Err(Error::Usage(format!(
            "route: {}: a verb needs at least one request URI after it",
            verb.unwrap_or_default()
        )));
    }
    Ok(out)
}

pub fn run(args: &RouteArgs) -> Result<i32> {
    let requests = pairs(&args.requests)?;
    let catalogue = super::load_catalogue(&args.spec)?;
    let router = super::build_router(&args.spec, &catalogue)?;
    let mut out = String::new();
    let mut all_matched = true;
    for (verb, uri) in requests {
        let name = match router.route(verb.as_bytes(), uri.as_bytes()) {
            Some(op) => catalogue.get(op).id.as_str(),
            None => {
                all_matched = false;
                "-"
            }
        };
        out.push_str(&format!("{verb} {uri}\t{name}\n"));
    }
    apicov_report::report::write_stdout(out.as_bytes())?;
    Ok(if all_matched {
        super::EXIT_OK
    } else {
        super::EXIT_GATE
    })
}
