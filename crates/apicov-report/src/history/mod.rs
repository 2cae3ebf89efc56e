//! History: many CI runs at once. A run is a directory laid out like a Prow
//! artifact tree, or a report JSON of a run parsed elsewhere. Each run
//! becomes a [`RunRecord`]; the records give a per-run table and a
//! per-operation timeline.
//!
//! One file a step, each importing only those before it: [`discover`](mod@discover)
//! (finding and selecting runs) → [`record`] (a run's row, the timelines)
//! → [`cache`] (rows and reports kept between histories) and [`render`]
//! (console, CSV, JSON, HTML).

pub mod cache;
pub mod discover;
pub mod record;
pub mod render;

pub use cache::{
    cache_paths, cached_row, record_from_cached_row, record_from_report, run_dir_from_section,
    run_section,
};
pub use discover::{
    discover, is_audit_log_name, run_dir, run_order, RunDir, RunStatus, Selection, Shard,
};
pub use record::{caveats, timelines, OpTimeline, RunRecord};
pub use render::{
    operations_csv, render_html, render_text, report_with_section, runs_csv, to_json,
};
