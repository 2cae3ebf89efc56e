#!/usr/bin/env bash
# Runs apicov's main job (parse) on the bundled test data, offline, into out/,
# then says what each output is and which one to open.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p out
# The console talk (summary, gate lines) goes to a file: with --no-fail the
# gates are a report, not a failure, and the list is long.
echo "building apicov (release, first time takes a few minutes)…" >&2
cargo build --release >&2
apicov=target/release/apicov
echo "running $apicov parse" >&2
"$apicov" parse \
  --audit-logs 'testdata/audit/kind-conformance-*.log' \
  --swagger testdata/swagger-mini.json \
  --ineligible-endpoints testdata/ineligible-mini.yaml \
  --pending-eligible-endpoints testdata/pending-mini.yaml \
  --output out/audit-endpoints.txt \
  --audit-operations-json out/audit-operations.json \
  --report-json out/report.json \
  --junit out/junit.xml \
  --html out/report.html \
  --no-fail 2> out/parse-console.txt
verdict=$(grep '^apicov: gates tripped' out/parse-console.txt || echo 'no gate tripped')
cat <<MSG
$apicov parse read testdata/audit/kind-conformance-*.log (2 rotated logs); outputs in out/:
  out/audit-endpoints.txt    operations hit and their counts (audit_log_parser.py's format)
  out/audit-operations.json  up to 5 sample events per operation
  out/report.json            the full report for programs
  out/junit.xml              one testcase per stable operation, for CI dashboards
  out/parse-console.txt      the console summary and gate lines (${verdict#apicov: })
  out/report.html            the coverage page: open file://$PWD/out/report.html in a browser
MSG
