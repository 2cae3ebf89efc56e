//! The integration tests, one binary (one link, `common` compiled once): a
//! module a concern, each test named `it::<module>::<test>` by `cargo
//! nextest` and `<module>::<test>` by `cargo test --test it`.

mod common;

mod catalogue_cache;
mod diff;
mod explain;
mod faults;
mod fuzz;
#[cfg(all(feature = "remote", feature = "parquet"))]
mod gcs_history;
mod history;
mod merge;
mod outputs;
mod parse;
mod readme;
mod reports;
mod routers;
mod routes;
#[cfg(feature = "serve")]
mod serve;
mod ux;
