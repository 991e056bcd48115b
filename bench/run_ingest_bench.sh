#!/usr/bin/env bash
# Event-ingest benchmark (issue #4): pqflow-loadgen posts batches of BATCH events over
# CONNECTIONS keep-alive connections for DURATION, first to `pqflow serve` (durable: WAL fsync
# before every 200, rows rotated into Parquet), then to pqflow-bench-noop-server (the same
# HTTP layer answering without doing any work: the ceiling). Reports acknowledged events/s,
# MB/s, p50/p99 latency, the server's peak RSS, and the CPU time per acknowledged event of the
# server and of the load generator (both share the cores). REPEAT runs each, median by events/s.
#
# Usage: bench/run_ingest_bench.sh                  (CONNECTIONS=16 BATCH=1000 DURATION=20s REPEAT=3)
#        DURATION=5s REPEAT=1 bench/run_ingest_bench.sh   # a quick look
# Run on a quiet machine: the load generator shares the cores with the server.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUT="${BENCH_OUT:-$ROOT/bench/out}/ingest"
BUILD_DIR="$(realpath -m "${BUILD_DIR:-$ROOT/build}")"  # absolute: the scripts change directory
PQFLOW="${PQFLOW:-$BUILD_DIR/src/cli/pqflow}"
LOADGEN="$BUILD_DIR/bench/pqflow-loadgen"
NOOP="$BUILD_DIR/bench/pqflow-bench-noop-server"
CONNECTIONS="${CONNECTIONS:-16}"
BATCH="${BATCH:-1000}"
DURATION="${DURATION:-20s}"
REPEAT="${REPEAT:-3}"
WORKSPACES="${WORKSPACES:-20}"

die() { printf 'run_ingest_bench: %s\n' "$*" >&2; exit 1; }
for b in "$PQFLOW" "$LOADGEN" "$NOOP"; do [ -x "$b" ] || die "build first: make (missing $b)"; done

rm -rf "$OUT"
mkdir -p "$OUT"
KEY_OUT="$("$PQFLOW" keys new --name bench --scopes ingest)"
KEY="$(printf '%s\n' "$KEY_OUT" | sed -n 2p)"
cat >"$OUT/pqflow.toml" <<TOML
[storage]
root = "data"
[server]
listen = "127.0.0.1:0"
wal_dir = "wal"
$(printf '%s\n' "$KEY_OUT" | sed -n '/^\[\[server.keys\]\]/,$p')
TOML

wait_listening() {  # log file -> port
  for _ in $(seq 1 300); do
    port="$(sed -n 's/.*listening on http:\/\/[^:]*:\([0-9]*\).*/\1/p' "$1" | head -1)"
    [ -n "$port" ] && { echo "$port"; return 0; }
    sleep 0.1
  done
  die "server did not start: $(cat "$1")"
}

peak_rss_mb() { awk '/VmHWM/ {printf "%.0f", $2/1024}' "/proc/$1/status"; }
# CPU seconds (user + system) the process has used so far, all its threads.
cpu_s() { awk -v hz="$(getconf CLK_TCK)" '{printf "%.2f", ($14 + $15) / hz}' "/proc/$1/stat"; }

run_one() {  # name run -> appends a JSON line to $OUT/results.jsonl
  local name=$1 run=$2 pid port log="$OUT/$1.$2.log"
  if [ "$name" = pqflow ]; then
    rm -rf "$OUT/data" "$OUT/wal"
    (cd "$OUT" && exec "$PQFLOW" serve --config pqflow.toml --quiet) >"$log" 2>&1 &
  else
    "$NOOP" 127.0.0.1:0 >"$log" 2>&1 &
  fi
  pid=$!
  port="$(wait_listening "$log")"
  local cpu0; cpu0="$(cpu_s "$pid")"
  /usr/bin/time -f '%U %S' -o "$OUT/$name.$run.loadgen-cpu" "$LOADGEN" --url "http://127.0.0.1:$port" --key "$KEY" --connections "$CONNECTIONS" --batch "$BATCH" \
    --duration "$DURATION" --workspaces "$WORKSPACES" --client-id "$run" --quiet >"$OUT/$name.$run.json"
  local rss; rss="$(peak_rss_mb "$pid")"
  local cpu; cpu="$(awk -v a="$cpu0" -v b="$(cpu_s "$pid")" 'BEGIN {printf "%.2f", b - a}')"
  local lg_cpu; lg_cpu="$(awk '{printf "%.2f", $1 + $2}' "$OUT/$name.$run.loadgen-cpu")"
  kill -TERM "$pid"
  if [ "$name" = pqflow ]; then
    wait "$pid" || die "pqflow serve exited with an error: $(tail -5 "$log")"
  else
    wait "$pid" || true  # the no-op server simply dies of the signal
  fi
  python3 - "$name" "$rss" "$OUT/$name.$run.json" "$cpu" "$lg_cpu" >>"$OUT/results.jsonl" <<'PY'
import json, sys
name, rss, path, cpu, lg_cpu = sys.argv[1], int(sys.argv[2]), sys.argv[3], float(sys.argv[4]), float(sys.argv[5])
r = json.load(open(path))
acked = max(r["acked_events"], 1)
print(json.dumps({"name": name, "rss_mb": rss, "events_per_s": r["events_per_s"], "mb_per_s": r["mb_per_s"],
                  "p50_ms": r["latency_ms"]["p50"], "p99_ms": r["latency_ms"]["p99"], "acked": r["acked_events"],
                  "server_cpu_us_per_event": round(cpu / acked * 1e6, 3),
                  "loadgen_cpu_us_per_event": round(lg_cpu / acked * 1e6, 3)}))
PY
}

for run in $(seq 1 "$REPEAT"); do
  run_one pqflow "$run"
  run_one noop "$((run + 100))"
done

python3 - "$OUT/results.jsonl" "$CONNECTIONS" "$BATCH" "$DURATION" <<'PY'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
def median(name):
    runs = sorted((r for r in rows if r["name"] == name), key=lambda r: r["events_per_s"])
    return runs[len(runs) // 2]
p, n = median("pqflow"), median("noop")
print(f"ingest: {sys.argv[2]} connections x {sys.argv[3]}-event batches for {sys.argv[4]}, median of runs")
print(f"{'server':<28}{'events/s':>12}{'MB/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'peak RSS MB':>13}"
      f"{'server us/ev':>14}{'loadgen us/ev':>15}")
for label, r in (("pqflow serve (durable)", p), ("no-op HTTP ceiling", n)):
    print(f"{label:<28}{r['events_per_s']:>12,.0f}{r['mb_per_s']:>9.1f}{r['p50_ms']:>9.1f}{r['p99_ms']:>9.1f}{r['rss_mb']:>13}"
          f"{r['server_cpu_us_per_event']:>14.2f}{r['loadgen_cpu_us_per_event']:>15.2f}")
print(f"pqflow / ceiling: {p['events_per_s'] / n['events_per_s']:.2f}x  (target >= 0.5x and >= 200,000 events/s)")
PY
