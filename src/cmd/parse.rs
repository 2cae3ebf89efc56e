//! `apicov parse` (placeholder replaced in the parse stage).
use clap::Args;
#[derive(Debug, Args)]
pub struct ParseArgs {}
pub fn run(_args: &ParseArgs) -> crate::error::Result<i32> {
    Ok(0)
}
