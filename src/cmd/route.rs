//! `apicov route VERB URI…`: which operation requests map to, for checking
//! the mapping rules by hand.

use clap::Args;

use crate::cli::SpecArgs;
use crate::error::Result;

#[derive(Debug, Args)]
pub struct RouteArgs {
    #[command(flatten)]
    pub spec: SpecArgs,

    /// Audit verb (get, list, watch, create, update, patch, delete, …).
    pub verb: String,

    /// Request URIs as the audit log records them (query string included).
    #[arg(required = true)]
    pub uris: Vec<String>,
}

pub fn run(args: &RouteArgs) -> Result<i32> {
    let catalogue = super::load_catalogue(&args.spec)?;
    let router = super::build_router(&args.spec, &catalogue)?;
    let mut out = String::new();
    let mut all_matched = true;
    for uri in &args.uris {
        let name = match router.route(args.verb.as_bytes(), uri.as_bytes()) {
            Some(op) => catalogue.get(op).id.as_str(),
            None => {
                all_matched = false;
                "-"
            }
        };
        out.push_str(&format!("{} {uri}\t{name}\n", args.verb));
    }
    crate::report::write_stdout(out.as_bytes())?;
    Ok(if all_matched {
        super::EXIT_OK
    } else {
        super::EXIT_GATE
    })
}
