//! Columnar export of history (`history --parquet DIR`): the per-run table
//! and the per-run operation counts as Parquet, partitioned by run date
//! (`runs/date=YYYY-MM-DD/part-00000.parquet`, Hive style, so DuckDB, Spark,
//! Trino or BigQuery read years of runs as one table), plus the timeline
//! (`operations/part-00000.parquet`).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow_array::builder::{ListBuilder, StringBuilder};
use arrow_array::{
    ArrayRef, BooleanArray, Float64Array, Int64Array, RecordBatch, StringArray, UInt64Array,
};
use arrow_schema::{DataType, Field, Schema};
use parquet::arrow::ArrowWriter;

use crate::history::{OpTimeline, RunRecord};
use apicov_core::error::{Error, Result};
use apicov_core::spec::Catalogue;

/// Partition name for runs without started.json (Hive's convention).
pub const NO_DATE: &str = "__HIVE_DEFAULT_PARTITION__";

fn to_parquet(path: &Path, batch: &RecordBatch) -> Result<Vec<u8>> {
    let err = |e: parquet::errors::ParquetError| Error::Output {
        path: path.to_path_buf(),
        source: std::io::Error::other(e.to_string()),
    };
    let mut bytes = Vec::new();
    let mut writer = ArrowWriter::try_new(&mut bytes, batch.schema(), None).map_err(err)?;
    writer.write(batch).map_err(err)?;
    writer.close().map_err(err)?;
    Ok(bytes)
}

fn batch(fields: Vec<(&str, DataType, bool, ArrayRef)>) -> RecordBatch {
    let schema = Schema::new(
        fields
            .iter()
            .map(|(name, ty, nullable, _)| Field::new(*name, ty.clone(), *nullable))
            .collect::<Vec<_>>(),
    );
    RecordBatch::try_new(Arc::new(schema), fields.into_iter().map(|f| f.3).collect())
        .expect("columns match the schema")
}

/// The files to write under `dir`: (path, bytes).
pub fn files(
    dir: &Path,
    records: &[RunRecord],
    timelines: &BTreeMap<String, OpTimeline>,
    catalogue: &Catalogue,
) -> Result<Vec<(PathBuf, Vec<u8>)>> {
    let mut by_date: BTreeMap<String, Vec<&RunRecord>> = BTreeMap::new();
    for r in records {
        by_date
            .entry(r.date().unwrap_or_else(|| NO_DATE.into()))
            .or_default()
            .push(r);
    }
    let mut out = Vec::new();
    for (date, runs) in &by_date {
        let runs_batch = batch(vec![
            (
                "run",
                DataType::Utf8,
                false,
                Arc::new(StringArray::from_iter_values(
                    runs.iter().map(|r| r.id.as_str()),
                )) as ArrayRef,
            ),
            (
                "started_unix",
                DataType::Int64,
                true,
                Arc::new(Int64Array::from_iter(runs.iter().map(|r| r.started))),
            ),
            (
                "finished",
                DataType::Boolean,
                false,
                Arc::new(BooleanArray::from_iter(
                    runs.iter().map(|r| Some(r.finished)),
                )),
            ),
            (
                "passed",
                DataType::Boolean,
                true,
                Arc::new(BooleanArray::from_iter(runs.iter().map(|r| r.passed))),
            ),
            (
                "requests",
                DataType::UInt64,
                false,
                Arc::new(UInt64Array::from_iter_values(
                    runs.iter().map(|r| r.requests),
                )),
            ),
            (
                "operations_hit",
                DataType::UInt64,
                false,
                Arc::new(UInt64Array::from_iter_values(
                    runs.iter().map(|r| r.operations_hit as u64),
                )),
            ),
            (
                "eligible_hit",
                DataType::UInt64,
                false,
                Arc::new(UInt64Array::from_iter_values(
                    runs.iter().map(|r| r.eligible_hit as u64),
                )),
            ),
            (
                "eligible",
                DataType::UInt64,
                false,
                Arc::new(UInt64Array::from_iter_values(
                    runs.iter().map(|r| r.eligible as u64),
                )),
            ),
            (
                "coverage_percent",
                DataType::Float64,
                false,
                Arc::new(Float64Array::from_iter_values(
                    runs.iter().map(|r| r.coverage_percent()),
                )),
            ),
            (
                "stable_not_found",
                DataType::UInt64,
                false,
                Arc::new(UInt64Array::from_iter_values(
                    runs.iter().map(|r| r.stable_not_found as u64),
                )),
            ),
            (
                "pending_exercised",
                DataType::UInt64,
                false,
                Arc::new(UInt64Array::from_iter_values(
                    runs.iter().map(|r| r.pending_exercised as u64),
                )),
            ),
            (
                "status",
                DataType::Utf8,
                false,
                Arc::new(StringArray::from_iter_values(
                    runs.iter().map(|r| r.status.as_str()),
                )),
            ),
            (
                "problem",
                DataType::Utf8,
                true,
                Arc::new(StringArray::from_iter(
                    runs.iter().map(|r| r.problem.as_deref()),
                )),
            ),
        ]);
        let path = dir
            .join("runs")
            .join(format!("date={date}"))
            .join("part-00000.parquet");
        out.push((path.clone(), to_parquet(&path, &runs_batch)?));

        let rows: Vec<(&str, &str, u64)> = runs
            .iter()
            .flat_map(|r| {
                r.hits
                    .iter()
                    .map(move |(op, n)| (r.id.as_str(), catalogue.get(*op).id.as_str(), *n))
            })
            .collect();
        let hits_batch = batch(vec![
            (
                "run",
                DataType::Utf8,
                false,
                Arc::new(StringArray::from_iter_values(rows.iter().map(|r| r.0))) as ArrayRef,
            ),
            (
                "operation",
                DataType::Utf8,
                false,
                Arc::new(StringArray::from_iter_values(rows.iter().map(|r| r.1))),
            ),
            (
                "requests",
                DataType::UInt64,
                false,
                Arc::new(UInt64Array::from_iter_values(rows.iter().map(|r| r.2))),
            ),
        ]);
        let path = dir
            .join("operation_runs")
            .join(format!("date={date}"))
            .join("part-00000.parquet");
        out.push((path.clone(), to_parquet(&path, &hits_batch)?));
    }

    let list = |runs: fn(&OpTimeline) -> &Vec<String>| {
        let mut b = ListBuilder::new(StringBuilder::new());
        for t in timelines.values() {
            for run in runs(t) {
                b.values().append_value(run);
            }
            b.append(true);
        }
        Arc::new(b.finish()) as ArrayRef
    };
    let list_type = DataType::List(Arc::new(Field::new("item", DataType::Utf8, true)));
    let ops_batch = batch(vec![
        (
            "operation",
            DataType::Utf8,
            false,
            Arc::new(StringArray::from_iter_values(
                timelines.keys().map(String::as_str),
            )) as ArrayRef,
        ),
        (
            "first_run",
            DataType::Utf8,
            false,
            Arc::new(StringArray::from_iter_values(
                timelines.values().map(|t| t.first_run.as_str()),
            )),
        ),
        (
            "last_run",
            DataType::Utf8,
            false,
            Arc::new(StringArray::from_iter_values(
                timelines.values().map(|t| t.last_run.as_str()),
            )),
        ),
        (
            "runs_hit",
            DataType::UInt64,
            false,
            Arc::new(UInt64Array::from_iter_values(
                timelines.values().map(|t| t.runs_hit as u64),
            )),
        ),
        ("appeared", list_type.clone(), false, list(|t| &t.appeared)),
        ("disappeared", list_type, false, list(|t| &t.disappeared)),
    ]);
    let path = dir.join("operations").join("part-00000.parquet");
    out.push((path.clone(), to_parquet(&path, &ops_batch)?));
    Ok(out)
}
