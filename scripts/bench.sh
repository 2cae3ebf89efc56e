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
#   BIG_GB=0 scripts/bench.sh             # skip the peak-RSS run over one 5 GB file
set -euo pipefail
cd "$(dirname "$0")/.."

SIZE=${SIZE:-95M}          # per rotated file
RUNS=${RUNS:-9}            # best of RUNS, commands taking turns
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

# Wall time of one run in ns. Outputs are removed first: a CI job writes into
# a fresh artifacts directory, and on ext4 replacing an existing file by
# rename forces the new file's blocks to be allocated at once (auto_da_alloc),
# which costs ~7 ms for the 6 MB audit-operations.json.
clock() {
  local t0 t1
  rm -f "$DATA"/out.*
  t0=$(date +%s%N)
  "$@" > /dev/null 2>&1 || { echo "bench: failed: $*" >&2; exit 1; }
  t1=$(date +%s%N)
  echo $((t1 - t0))
}
# Best wall times (s) of RUNS runs of two commands (array names), taking
# turns so that both see the same machine: prints "a b".
best_pair() {
  local -n _a=$1 _b=$2
  local ba=0 bb=0 t
  for _ in $(seq "$RUNS"); do
    t=$(clock "${_a[@]}"); if ((ba == 0 || t < ba)); then ba=$t; fi
    t=$(clock "${_b[@]}"); if ((bb == 0 || t < bb)); then bb=$t; fi
  done
  echo "$(echo "scale=4; $ba / 1000000000" | bc) $(echo "scale=4; $bb / 1000000000" | bc)"
}
# peak RSS in MiB of one run
rss() {
  /usr/bin/time -f '%M' "$@" 2>&1 >/dev/null | tail -1 | awk '{printf "%.0f", $1/1024}'
}

parse_args=(parse --swagger "$SPEC" --ineligible-endpoints "$DATA/empty.yaml"
  --pending-eligible-endpoints "$DATA/empty.yaml" -o "$DATA/out.txt"
  --audit-operations-json "$DATA/out.json" --no-fail --quiet --audit-logs)

wc_1=(wc -l "${FILES[@]}"); ap_1=("$APICOV" "${parse_args[@]}" "${FILES[@]}")
wc_4=(wc -l "${FILES4[@]}"); ap_4=("$APICOV" "${parse_args[@]}" "${FILES4[@]}")
pair=$(best_pair wc_1 ap_1); read -r wc1 ap1 <<<"$pair"
pair=$(best_pair wc_4 ap_4); read -r wc4 ap4 <<<"$pair"
rss1=$(rss "$APICOV" "${parse_args[@]}" "${FILES[@]}")
rss4=$(rss "$APICOV" "${parse_args[@]}" "${FILES4[@]}")
mb=$(echo "$bytes / 1000000" | bc -l)

echo "data: $(printf %.0f "$mb") MB in ${#FILES[@]} files, $(nproc) cores, best of $RUNS, warm cache"
printf '%-34s %10s %10s %12s %10s\n' "command" "1x (s)" "4x (s)" "MB/s (1x)" "RSS MiB"
printf '%-34s %10.3f %10.3f %12.0f %10s\n' "wc -l" "$wc1" "$wc4" "$(echo "$mb / $wc1" | bc -l)" "-"
printf '%-34s %10.3f %10.3f %12.0f %10s\n' "apicov parse" "$ap1" "$ap4" "$(echo "$mb / $ap1" | bc -l)" "$rss1 / $rss4"
printf 'ratio apicov / wc -l: %.2f (1x), %.2f (4x); apicov 4x / 1x: %.2f\n' \
  "$(echo "$ap1 / $wc1" | bc -l)" "$(echo "$ap4 / $wc4" | bc -l)" "$(echo "$ap4 / $ap1" | bc -l)"

# Peak RSS over one file of BIG_GB GB (the rotated files concatenated until
# it is that large): mapped pages are released once scanned, so resident
# memory must not grow with the input.
BIG_GB=${BIG_GB:-5}
if [ "$BIG_GB" != 0 ]; then
  big="$DATA/big-${BIG_GB}G.log"
  if [ ! -f "$big" ]; then
    : > "$big.part"
    while [ "$(stat -c %s "$big.part")" -lt $((BIG_GB * 1000000000)) ]; do
      cat "${FILES[@]}" >> "$big.part"
    done
    mv "$big.part" "$big"
  fi
  big_mb=$(( $(stat -c %s "$big") / 1000000 ))
  rss_big=$(rss "$APICOV" "${parse_args[@]}" "$big")
  printf 'peak RSS (MiB): %s at 1x (%.0f MB), %s at 4x, %s over one %s MB file\n' \
    "$rss1" "$mb" "$rss4" "$rss_big" "$big_mb"
fi

# History: N runs (each the same two rotated files, as a Prow artifact tree)
# against N single parses: the spec and matcher are built once.
RUNS_DIR="$DATA/history"
rm -rf "$RUNS_DIR"
for i in 1 2 3 4; do
  mkdir -p "$RUNS_DIR/17900000000000000$i/artifacts/audit"
  for f in "${FILES[@]}"; do ln -s "$(realpath "$f")" "$RUNS_DIR/17900000000000000$i/artifacts/audit/"; done
done
hist_4=("$APICOV" history "$RUNS_DIR"/* --swagger "$SPEC" --ineligible-endpoints "$DATA/empty.yaml"
  --pending-eligible-endpoints "$DATA/empty.yaml" --quiet)
pair=$(best_pair ap_1 hist_4); read -r one hist <<<"$pair"
printf 'history over 4 runs: %.3f s = %.2f x one parse (%.3f s)\n' "$hist" "$(echo "$hist / $one" | bc -l)" "$one"

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

# The webhook server under load (oha, 127.0.0.1 only, bounded in time):
# SERVE=0 skips it; DURATION, CONNECTIONS, SPOOL pass through.
if [ "${SERVE:-1}" = 1 ]; then
  echo
  bash scripts/bench-serve.sh
fi

# History straight from GCS (an emulator on 127.0.0.1): GCS=0 skips it.
if [ "${GCS:-1}" = 1 ]; then
  echo
  bash scripts/bench-gcs-history.sh
fi
