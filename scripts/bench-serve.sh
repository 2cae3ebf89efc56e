#!/usr/bin/env bash
# Load run of `apicov serve` with a real HTTP load generator (oha): POSTs of
# apiserver-sized EventList batches (400 generated Metadata-level events) to
# 127.0.0.1 only, for a bounded time. Reports sustained events/s, POST
# latency percentiles and the server's RSS sampled every 5 s.
#
#   scripts/bench-serve.sh                    # 60 s, 8 connections, no spool
#   DURATION=20 CONNECTIONS=4 scripts/bench-serve.sh
#   SPOOL=1 scripts/bench-serve.sh            # also spool (fdatasync per group)
#
# Every POST repeats the same 400 events, so the replay filter is turned off
# (--replay-window 0): each batch is counted in full, as fresh events are.
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=${DURATION:-60}
CONNECTIONS=${CONNECTIONS:-8}
BATCH=${BATCH:-400}
PORT=${PORT:-18653}
SPEC=${SPEC:-../shared/k8s/swagger-v1.34.json}
[ -f "$SPEC" ] || SPEC=testdata/swagger-mini.json
DATA=target/bench-serve
mkdir -p "$DATA"

if ! command -v oha >/dev/null 2>&1; then
  cargo install oha --locked --no-default-features --features rustls
fi
cargo build --release --quiet
APICOV=target/release/apicov

"$APICOV" gen --swagger "$SPEC" -o "$DATA/gen.log" --size 2M --seed 7
{
  printf '{"kind":"EventList","apiVersion":"audit.k8s.io/v1","metadata":{},"items":['
  head -n "$BATCH" "$DATA/gen.log" | paste -sd, -
  printf ']}'
} > "$DATA/batch.json"
printf -- '---\n' > "$DATA/empty.yaml"

spool_flags=()
if [ "${SPOOL:-0}" = 1 ]; then
  rm -rf "$DATA/spool"
  spool_flags=(--spool "$DATA/spool")
fi
"$APICOV" serve --swagger "$SPEC" --listen "127.0.0.1:$PORT" \
  --ineligible-endpoints "$DATA/empty.yaml" --pending-eligible-endpoints "$DATA/empty.yaml" \
  -o "$DATA/endpoints.txt" --audit-operations-json "$DATA/operations.json" \
  --replay-window 0 --no-fail -q "${spool_flags[@]}" 2> "$DATA/serve.err" &
server=$!
trap 'kill "$server" 2>/dev/null || true' EXIT
for _ in $(seq 100); do
  grep -q "serving on" "$DATA/serve.err" 2>/dev/null && break
  sleep 0.1
done

# RSS every 5 s while the load runs.
(
  while kill -0 "$server" 2>/dev/null; do
    awk '/VmRSS/ {print $2}' "/proc/$server/status" 2>/dev/null
    sleep 5
  done
) > "$DATA/rss.txt" &
sampler=$!

oha --no-tui -z "${DURATION}s" -c "$CONNECTIONS" -m POST \
  -H 'Content-Type: application/json' -D "$DATA/batch.json" \
  --output-format json "http://127.0.0.1:$PORT/audit" > "$DATA/oha.json"

kill -TERM "$server"
wait "$server" || true
kill "$sampler" 2>/dev/null || true
trap - EXIT

python3 - "$DATA" "$BATCH" "$DURATION" "$CONNECTIONS" <<'EOF'
import json, sys
data, batch, duration, conns = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
r = json.load(open(f"{data}/oha.json"))
codes = r.get("statusCodeDistribution", {})
ok = codes.get("200", 0)
total = r["summary"]["total"]
rss = [int(x) for x in open(f"{data}/rss.txt").read().split()]
pct = r["latencyPercentiles"]
print(f"apicov serve under oha: {duration} s, {conns} connections, {batch}-event batches")
print(f"  POSTs: {sum(codes.values())} ({codes})")
print(f"  events/s: {ok * batch / total:,.0f}")
print(f"  POST latency ms: p50 {pct['p50']*1e3:.2f}, p99 {pct['p99']*1e3:.2f}, p99.9 {pct['p99.9']*1e3:.2f}")
print(f"  server RSS MiB (every 5 s): {' '.join(f'{k/1024:.0f}' for k in rss)}")
EOF
