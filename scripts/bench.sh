#!/usr/bin/env bash
# End-to-end throughput, side by side in one run on a warm page cache:
# apicov parse vs `wc -l` over the same files (the memory floor) vs, when
# REFERENCE_PARSER points at test-infra's audit_log_parser.py, the reference.
# Data: ~190 MB of generated Metadata-level logs in two rotated files, then
# the same files passed 4 times (4x the data) to show linear scaling.
#
#   scripts/bench.sh                      # apicov and wc -l
#   REFERENCE_PARSER=/path/audit_log_parser.py scripts/bench.sh
#   SIZE=95M RUNS=5 scripts/bench.sh
set -euo pipefail
cd "$(dirname "$0")/.."

SIZE=${SIZE:-95M}          # per rotated file
RUNS=${RUNS:-5}            # best of RUNS
SPEC=${SPEC:-../shared/k8s/swagger-v1.34.json}
[ -f "$SPEC" ] || SPEC=testdata/swagger-mini.json
DATA=target/bench-data
mkdir -p "$DATA"

cargo build --release --quiet
APICOV=target/release/apicov

for i in 1 2; do
  f="$DATA/audit-2026-11-26T0$i-00-00.000.log"
  if [ ! -f "$f" ] || [ "$(cat "$f.size" 2>/dev/null)" != "$SIZE" ]; then
    "$APICOV" gen --swagger "$SPEC" -o "$f" --size "$SIZE" --seed "$i"
    echo "$SIZE" > "$f.size"
  fi
done
FILES=("$DATA"/audit-*.log)
FILES4=("${FILES[@]}" "${FILES[@]}" "${FILES[@]}" "${FILES[@]}")
printf -- '---\n' > "$DATA/empty.yaml"
bytes=$(cat "${FILES[@]}" | wc -c)
cat "${FILES[@]}" > /dev/null   # warm the page cache

# best wall time in seconds of RUNS runs of a command
best() {
  local best=999999 t0 t1 t
  for _ in $(seq "$RUNS"); do
    t0=$(date +%s.%N); "$@" > /dev/null 2>&1 || true; t1=$(date +%s.%N)
    t=$(echo "$t1 - $t0" | bc -l)
    if (( $(echo "$t < $best" | bc -l) )); then best=$t; fi
  done
  echo "$best"
}
# peak RSS in MiB of one run
rss() {
  /usr/bin/time -f '%M' "$@" 2>&1 >/dev/null | tail -1 | awk '{printf "%.0f", $1/1024}'
}

parse_args=(parse --swagger "$SPEC" --ineligible-endpoints "$DATA/empty.yaml"
  --pending-eligible-endpoints "$DATA/empty.yaml" -o "$DATA/out.txt"
  --audit-operations-json "$DATA/out.json" --no-fail --quiet --audit-logs)

wc1=$(best wc -l "${FILES[@]}")
ap1=$(best "$APICOV" "${parse_args[@]}" "${FILES[@]}")
wc4=$(best wc -l "${FILES4[@]}")
ap4=$(best "$APICOV" "${parse_args[@]}" "${FILES4[@]}")
rss1=$(rss "$APICOV" "${parse_args[@]}" "${FILES[@]}")
rss4=$(rss "$APICOV" "${parse_args[@]}" "${FILES4[@]}")
mb=$(echo "$bytes / 1000000" | bc -l)

echo "data: $(printf %.0f "$mb") MB in ${#FILES[@]} files, $(nproc) cores, best of $RUNS, warm cache"
printf '%-34s %10s %10s %12s %10s\n' "command" "1x (s)" "4x (s)" "MB/s (1x)" "RSS MiB"
printf '%-34s %10.3f %10.3f %12.0f %10s\n' "wc -l" "$wc1" "$wc4" "$(echo "$mb / $wc1" | bc -l)" "-"
printf '%-34s %10.3f %10.3f %12.0f %10s\n' "apicov parse" "$ap1" "$ap4" "$(echo "$mb / $ap1" | bc -l)" "$rss1 / $rss4"
printf 'ratio apicov / wc -l: %.2f (1x), %.2f (4x); apicov 4x / 1x: %.2f\n' \
  "$(echo "$ap1 / $wc1" | bc -l)" "$(echo "$ap4 / $wc4" | bc -l)" "$(echo "$ap4 / $ap1" | bc -l)"

# History: N runs (each the same two rotated files, as a Prow artifact tree)
# against N single parses: the spec and matcher are built once.
RUNS_DIR="$DATA/history"
rm -rf "$RUNS_DIR"
for i in 1 2 3 4; do
  mkdir -p "$RUNS_DIR/17900000000000000$i/artifacts/audit"
  for f in "${FILES[@]}"; do ln -s "$(realpath "$f")" "$RUNS_DIR/17900000000000000$i/artifacts/audit/"; done
done
hist=$(best "$APICOV" history "$RUNS_DIR"/* --swagger "$SPEC" --ineligible-endpoints "$DATA/empty.yaml" \
  --pending-eligible-endpoints "$DATA/empty.yaml" --quiet)
printf 'history over 4 runs: %.3f s = %.2f x one parse (%.3f s)\n' "$hist" "$(echo "$hist / $ap1" | bc -l)" "$ap1"

if [ -n "${REFERENCE_PARSER:-}" ]; then
  work=$(mktemp -d)
  abs=(); for f in "${FILES[@]}"; do abs+=("$(realpath "$f")"); done
  spec=$(realpath "$SPEC"); empty=$(realpath "$DATA/empty.yaml")
  t0=$(date +%s.%N)
  (cd "$work" && python3 "$REFERENCE_PARSER" --audit-logs "${abs[@]}" --swagger-url "file://$spec" \
     --ineligible-endpoints-url "file://$empty" --pending-eligible-endpoints-url "file://$empty" \
     -o ref.txt > /dev/null 2>&1 || true)
  t1=$(date +%s.%N)
  ref=$(echo "$t1 - $t0" | bc -l)
  printf '%-34s %10.3f %10s %12.0f\n' "reference audit_log_parser.py" "$ref" "-" "$(echo "$mb / $ref" | bc -l)"
  printf 'ratio reference / apicov: %.0fx\n' "$(echo "$ref / $ap1" | bc -l)"
  rm -rf "$work"
fi
