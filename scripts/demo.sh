#!/usr/bin/env bash
# Runs apicov's main job (parse) on the bundled test data, offline, into out/.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p out
cargo run --quiet -- parse \
  --audit-logs 'testdata/audit/kind-conformance-*.log' \
  --swagger testdata/swagger-mini.json \
  --ineligible-endpoints testdata/ineligible-mini.yaml \
  --pending-eligible-endpoints testdata/pending-mini.yaml \
  --output out/audit-endpoints.txt \
  --audit-operations-json out/audit-operations.json \
  --report-json out/report.json \
  --no-fail
