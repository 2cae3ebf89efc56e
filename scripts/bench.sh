#!/usr/bin/env bash
# End-to-end throughput, side by side in one run on a warm page cache:
# apicov parse vs `wc -l` over the same files (the memory floor) vs, when
# REFERENCE_PARSER points at test-infra's audit_log_parser.py, the reference.
#
# The page cache's state is set, not inherited: how a file got into the
# cache decides how it sits there, and that moves both tools' CPU (apicov's
# 80 vs 53 ms for 199 MB: 4 KiB pages written by small appends, or faulted in
# through a plain mapping, against the large folios of readahead). Each shape's files
# are dropped from the cache (posix_fadvise DONTNEED, via dd) and read back
# once with cat before its rows. A "cold" row drops them before every run.
#
# One table: three data shapes that real jobs produce (`apicov gen`), each
# ~2 x SIZE in two rotated files (1x) and eight (4x), each of its own
# requests (a log passed twice would be refused, and a copy's requests
# would count once: one count per auditID):
#   metadata    Metadata level, a conformance run's mix (~1.3 KB lines)
#   bodies      RequestResponse level with realistic bodies (--shape
#               large-bodies: lines with a body 5-50 KB, mean ~11 KB)
#   crd-heavy   Metadata level, a third of requests on custom resources and
#               aggregated APIs (paths in no spec)
# For each: wall and CPU (user+sys) of wc -l and of apicov parse, medians
# of RUNS runs taken in turns (wc, apicov, wc, apicov, ...) after one untimed
# apicov run, their ratios, back to back (1x, 4x) and with a PAUSE before
# each run (1xp: what one CI job's single run meets, where memory freed
# seconds ago may have gone back to a VM's host and comes back page by page),
# and apicov's peak RSS (one extra run). Then peak RSS over one BIG_GB file.
#
#   scripts/bench.sh                      # apicov and wc -l
#   REFERENCE_PARSER=/path/audit_log_parser.py scripts/bench.sh
#   SIZE=20M RUNS=3 BIG_GB=0 SERVE=0 GCS=0 scripts/bench.sh   # a quick look
#   BIG_GB=0 scripts/bench.sh             # skip the peak-RSS run over one 5 GB file
#   BASELINE=/tmp/apicov-parent scripts/bench.sh   # before/after: another build vs this one
set -euo pipefail
cd "$(dirname "$0")/.."
export LC_ALL=C   # $EPOCHREALTIME and printf with a '.' decimal point

SIZE=${SIZE:-95M}          # per rotated file
RUNS=${RUNS:-9}            # median of RUNS runs, commands taking turns
PAUSE=${PAUSE:-3}          # seconds before each run of the "1xp" rows
SPEC=${SPEC:-../shared/k8s/swagger-v1.34.json}
[ -f "$SPEC" ] || SPEC=testdata/swagger-mini.json
DATA=target/bench-data
mkdir -p "$DATA"

cargo build --release --quiet
APICOV=target/release/apicov

declare -A SHAPE_ARGS=(
  [metadata]=""
  [bodies]="--shape large-bodies --level request-response"
  [crd-heavy]="--shape crd-heavy"
)
SHAPES=(metadata bodies crd-heavy)
for shape in "${SHAPES[@]}"; do
  mkdir -p "$DATA/$shape"
  for i in 1 2 3 4 5 6 7 8; do
    f="$DATA/$shape/audit-2026-11-26T0$i-00-00.000.log"
    stamp="$SIZE ${SHAPE_ARGS[$shape]} $(basename "$SPEC")"
    if [ ! -f "$f" ] || [ "$(cat "$f.stamp" 2>/dev/null)" != "$stamp" ]; then
      # shellcheck disable=SC2086 # the shape's arguments are words
      "$APICOV" gen --swagger "$SPEC" -o "$f" --size "$SIZE" --seed "$i" ${SHAPE_ARGS[$shape]}
      echo "$stamp" > "$f.stamp"
    fi
  done
done
FILES=("$DATA"/metadata/audit-2026-11-26T0[12]-*.log)
printf -- '---\n' > "$DATA/empty.yaml"

# One run of a command: prints "wall_s cpu_s". CPU is user+sys of the
# command alone: `times` in the command substitution's subshell reports its
# children, and $EPOCHREALTIME takes the clock without a fork. Outputs are
# removed first: a CI job writes into a fresh artifacts directory, and on
# ext4 replacing an existing file by rename forces the new file's blocks to
# be allocated at once (auto_da_alloc), ~7 ms for audit-operations.json.
run1() {
  local out
  rm -f "$DATA"/out.*
  out=$(
    t0=$EPOCHREALTIME
    "$@" > /dev/null 2>&1 || exit 1
    t1=$EPOCHREALTIME
    echo "$t0 $t1"
    times
  ) || { echo "bench: failed: $*" >&2; exit 1; }
  awk 'function s(t) { split(t, p, "m"); return p[1] * 60 + p[2] }
       NR == 1 { wall = $2 - $1 } NR == 3 { cpu = s($1) + s($2) }
       END { printf "%.4f %.4f\n", wall, cpu }' <<<"$out"
}
median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
# Drops files from the page cache (written back first), without root.
evict() { sync "$@"; for f in "$@"; do dd if="$f" iflag=nocache count=0 status=none; done; }
# The first and third quartiles of the numbers on stdin (nearest rank).
quartiles() { sort -g | awk '{ v[NR] = $1 } END { q = int((NR - 1) / 4 + 0.5); print v[1 + q], v[NR - q] }'; }
# Medians of RUNS runs of two commands (array names) taking turns, so that
# both see the same machine: prints "wall_a cpu_a wall_b cpu_b q1 q3", where
# q1 and q3 are the quartiles of the runs' CPU ratios b/a, each run of b over
# the run of a just before it (how far the machine's noise spreads the CPU
# ratio). Any further arguments are a command run (untimed) before each run,
# e.g. `evict FILES`.
median_pair() {
  local -n _a=$1 _b=$2
  local before=("${@:3}") wa=() ca=() wb=() cb=() w c
  [ ${#before[@]} -gt 0 ] || before=(:)
  for _ in $(seq "$RUNS"); do
    "${before[@]}"; read -r w c <<<"$(run1 "${_a[@]}")"; wa+=("$w"); ca+=("$c")
    "${before[@]}"; read -r w c <<<"$(run1 "${_b[@]}")"; wb+=("$w"); cb+=("$c")
  done
  echo "$(printf '%s\n' "${wa[@]}" | median) $(printf '%s\n' "${ca[@]}" | median)" \
    "$(printf '%s\n' "${wb[@]}" | median) $(printf '%s\n' "${cb[@]}" | median)" \
    "$(paste -d ' ' <(printf '%s\n' "${ca[@]}") <(printf '%s\n' "${cb[@]}") |
      awk '$1 > 0 { print $2 / $1 }' | quartiles)"
}
# peak RSS in MiB of one run
rss() {
  rm -f "$DATA"/out.*
  /usr/bin/time -f '%M' "$@" 2>&1 >/dev/null | tail -1 | awk '{printf "%.0f", $1/1024}'
}

parse_args=(parse --swagger "$SPEC" --ineligible-endpoints "$DATA/empty.yaml"
  --pending-eligible-endpoints "$DATA/empty.yaml" -o "$DATA/out.txt"
  --audit-operations-json "$DATA/out.json" --no-fail --quiet --audit-logs)

# BASELINE=path/to/another/apicov: that build against this one instead,
# parse of each shape at 1x and 4x, in turns, then exit (a before/after
# check of a change: build the parent commit's release binary first).
if [ -n "${BASELINE:-}" ]; then
  echo "$(nproc) cores, warm cache, medians of $RUNS runs taken in turns; CPU = user+sys; spec $(basename "$SPEC")"
  echo "CPU x q1-q3: the quartiles of the runs' own CPU ratios (each run over the baseline's run before it)"
  printf '%-10s %-3s | %9s %9s | %9s %9s | %6s %6s | %11s\n' \
    shape x "base wall" "base CPU" "this wall" "this CPU" "wall x" "CPU x" "CPU x q1-q3"
  for shape in "${SHAPES[@]}"; do
    files=("$DATA/$shape"/audit-*.log)
    evict "${files[@]}"; cat "${files[@]}" > /dev/null
    for x in 1 4; do
      set -- "${files[@]:0:$((2 * x))}"
      base_cmd=("$BASELINE" "${parse_args[@]}" "$@"); this_cmd=("$APICOV" "${parse_args[@]}" "$@")
      run1 "${base_cmd[@]}" > /dev/null; run1 "${this_cmd[@]}" > /dev/null
      read -r bw bc tw tc q1 q3 <<<"$(median_pair base_cmd this_cmd)"
      printf '%-10s %-3s | %9.4f %9.4f | %9.4f %9.4f | %6.3f %6.3f | %5.3f-%5.3f\n' "$shape" "${x}x" \
        "$bw" "$bc" "$tw" "$tc" "$(echo "$tw / $bw" | bc -l)" "$(echo "$tc / $bc" | bc -l)" "$q1" "$q3"
    done
  done
  exit 0
fi

echo "$(nproc) cores, warm cache, medians of $RUNS runs taken in turns; CPU = user+sys; spec $(basename "$SPEC")"
printf '%-10s %-3s %7s | %8s %8s | %8s %8s | %6s %6s | %7s %7s\n' \
  shape x MB "wc wall" "wc CPU" "ap wall" "ap CPU" "wall x" "CPU x" "ap MB/s" "RSS MiB"
# The back-to-back rows of every shape first, then the paused ones: the idle
# seconds of a paused row let freed memory go back to the VM's host, and the
# back-to-back rows measured after it met that memory coming back (bodies at
# 1x after Metadata's 1xp row: 3.88x wc's CPU, 3.12x measured alone).
for xs in "1 4" "1p"; do
for shape in "${SHAPES[@]}"; do
  files=("$DATA/$shape"/audit-*.log)
  bytes=$(cat "${files[@]:0:2}" | wc -c)
  evict "${files[@]}"; cat "${files[@]}" > /dev/null   # a set cache state: read back once
  for x in $xs; do
    set -- "${files[@]:0:$((2 * ${x%p}))}"
    wc_cmd=(wc -l "$@"); ap_cmd=("$APICOV" "${parse_args[@]}" "$@")
    # One untimed run first: the 1x row of the first shapes measured
    # 0.047-0.066 s where the same parse took 0.029-0.031 s later in the
    # same bench (a medians-of-9 row, so a slow period of a second or more
    # after the build and the cache reset, not one outlier).
    run1 "${ap_cmd[@]}" > /dev/null
    if [ "$x" = 1p ]; then
      read -r ww wcpu aw acpu _ <<<"$(median_pair wc_cmd ap_cmd sleep "$PAUSE")"
    else
      read -r ww wcpu aw acpu _ <<<"$(median_pair wc_cmd ap_cmd)"
    fi
    mb=$(echo "$bytes * ${x%p} / 1000000" | bc -l)
    printf '%-10s %-3s %7.0f | %8.3f %8.3f | %8.3f %8.3f | %6.2f %6.2f | %7.0f %7s\n' \
      "$shape" "${x%p}x${x//[0-9]/}" "$mb" "$ww" "$wcpu" "$aw" "$acpu" \
      "$(echo "$aw / $ww" | bc -l)" "$(echo "$acpu / $wcpu" | bc -l)" \
      "$(echo "$mb / $aw" | bc -l)" "$(rss "${ap_cmd[@]}")"
  done
done
done
# Cold: the metadata files read from disk in every run (re-analysing old
# runs). Wall time includes the disk; CPU is what each tool spent on it.
bytes=$(cat "${FILES[@]}" | wc -c)
wc_cmd=(wc -l "${FILES[@]}"); ap_cmd=("$APICOV" "${parse_args[@]}" "${FILES[@]}")
read -r ww wcpu aw acpu _ <<<"$(median_pair wc_cmd ap_cmd evict "${FILES[@]}")"
mb=$(echo "$bytes / 1000000" | bc -l)
printf '%-10s %-3s %7.0f | %8.3f %8.3f | %8.3f %8.3f | %6.2f %6.2f | %7.0f %7s\n' \
  "meta cold" "1x" "$mb" "$ww" "$wcpu" "$aw" "$acpu" \
  "$(echo "$aw / $ww" | bc -l)" "$(echo "$acpu / $wcpu" | bc -l)" "$(echo "$mb / $aw" | bc -l)" -
evict "${FILES[@]}"; cat "${FILES[@]}" > /dev/null

# Peak RSS over one file of BIG_GB GB (the metadata files concatenated until
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
  # A set cache state, as for the shapes: read back by cat, the file sits in
  # large folios, where a touch maps a whole 2 MiB folio (the state that
  # showed chunks cut up front holding 2.5 GiB of the file).
  evict "$big"; cat "$big" > /dev/null
  big_mb=$(( $(stat -c %s "$big") / 1000000 ))
  printf 'peak RSS over one %s MB metadata file: %s MiB\n' "$big_mb" "$(rss "$APICOV" "${parse_args[@]}" "$big")"
fi
ap_1=("$APICOV" "${parse_args[@]}" "${FILES[@]}")
bytes=$(cat "${FILES[@]}" | wc -c)
mb=$(echo "$bytes / 1000000" | bc -l)

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
read -r one one_cpu hist hist_cpu _ <<<"$(median_pair ap_1 hist_4)"
printf 'history over 4 runs (metadata): %.3f s wall, %.3f s CPU = %.2f x / %.2f x one parse (%.3f s, %.3f s CPU)\n' \
  "$hist" "$hist_cpu" "$(echo "$hist / $one" | bc -l)" "$(echo "$hist_cpu / $one_cpu" | bc -l)" "$one" "$one_cpu"

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
  printf 'ratio reference / apicov: %.0fx\n' "$(echo "$ref / $one" | bc -l)"
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
