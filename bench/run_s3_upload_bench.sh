#!/usr/bin/env bash
# S3 upload benchmark (issue #6): how fast `pqflow export` puts a ~1 GB Parquet dataset on an
# S3-compatible server, against `aws s3 cp --recursive` of the same files (what a user would
# otherwise script after writing the files locally). See docs/benchmarks.md ("S3 upload").
#
#   bench/run_s3_upload_bench.sh                 # ~14 minutes on 2 cores (+3 minutes for the data once)
#   RUNS=1 bench/run_s3_upload_bench.sh          # a quick look
#   PQ_SWEEP="4:8MB 16:8MB 8:16MB" bench/run_s3_upload_bench.sh   # + pqflow storage settings
#
# Server: s3rver 3.7.1 (third_party/node/node_modules, node.js), started by this script on
# 127.0.0.1 on a free port with a new data directory under BENCH_OUT, one bucket; it is talked
# to directly (no signature-verifying proxy as in the tests; s3rver checks SigV4 signatures of
# its own key S3RVER/S3RVER itself). Only the s3rver process this script started is stopped
# (by its PID), and its data directory removed, when the script exits.
#
# Data: pageviews from pqflow-gen-pageviews (ROWS rows over DAYS days, PROJECTS projects, Zipf
# popularity), exported once with a local root (built-in pageviews layout, one file per day, plus
# the per-project split, `--per-project`; compression CODEC) into BENCH_OUT/ref. With the
# defaults (2.28 GB of CSV): 1.005 GB in 3,060 objects, 1,530 Parquet files from 47 KB to
# 26.5 MB (median 117 KB; the 30 daily files, 12.4-26.5 MB, are multipart uploads of 8 MB parts)
# and 1,530 partition manifests of ~2 KB. Cached: reruns reuse the CSV and the reference export
# while the generator, the configuration and the pqflow binary are unchanged.
#
# Cases, round-robin (the order rotates by one case each round), RUNS rounds, every upload to a
# new prefix (s3://bench/rN-CASE):
#   pq_s3      pqflow export --input CSV --per-project to the S3 root, end to end (DuckDB writes
#              the Parquet files into a local staging directory, then they are uploaded, then
#              the manifests and the run report). --verbose gives the step times; its `publish`
#              step (reading each partition's previous manifest: 404s on a new prefix; SHA-256
#              of the files for the new manifests; uploading the files; uploading the
#              manifests) is "pqflow upload alone"
#   pq_local   the same export to a local root (a new directory): the cost of producing the files;
#              pq_s3 - pq_local is the other estimate of the upload alone
#   aws        aws s3 cp --recursive BENCH_OUT/ref/analytics (the same Parquet files and
#              manifests) with awscli's defaults (max_concurrent_requests 10, 8 MB parts)
#   aws_tuned  the same with max_concurrent_requests = AWS_TUNED (pqflow sends up to 8 files
#              at once, and up to 4 parts of each multipart file: 32 requests)
# Before every run: `sync` (the previous run's uploads reach the disk first). Every run is under
# /usr/bin/time -v (peak RSS, CPU); s3rver's CPU time is read from /proc before and after.
# MB = 10^6 bytes; MB/s = bytes of Parquet files and manifests uploaded / wall seconds.
#
# Environment (defaults in brackets):
#   RUNS [3]                 rounds (the tables show medians)
#   WARMUP [1]               unmeasured uploads of the reference with awscli first: a new
#                            s3rver process is slower at first (without it, on 18e6 rows, the
#                            first pqflow upload of a run took 20.2 s, the next two 14.3 and
#                            12.9 s, with 19.1 s of s3rver CPU against 15.2 and 13.3 s)
#   ROWS [22000000] DAYS [30] PROJECTS [50] SEED [20260115]   the generated input
#   CODEC [uncompressed]     the dataset's compression (uncompressed: 1 GB with the least CPU)
#   AWS_TUNED [32]           max_concurrent_requests of the aws_tuned case
#   PQ_SWEEP [""]            extra pqflow S3 exports, "PARALLEL_UPLOADS:PART_SIZE ..." (e.g.
#                            "16:8MB 8:16MB"), SWEEP_RUNS [1] times each, after the rounds
#   AWS_SWEEP [""]           extra awscli runs, "MAX_CONCURRENT_REQUESTS[:MULTIPART_THRESHOLD] ..."
#                            (e.g. "8 10:32MB"; the threshold is also the part size)
#   BUILD_DIR [build]        where pqflow and pqflow-gen-pageviews are built (not built here)
#   PQFLOW [BUILD_DIR/src/cli/pqflow]  GEN [BUILD_DIR/bench/pqflow-gen-pageviews]
#   AWS [/usr/bin/aws]       awscli (Debian's 2.9.19)
#   NODE [node]  NODE_MODULES [third_party/node/node_modules]   s3rver
#   BENCH_OUT [/tmp/pqflow-s3-bench]   CSV, reference export, s3rver data, logs, results
# Output: a markdown table on stdout and in BENCH_OUT/results-s3.md, every run in
# BENCH_OUT/runs-s3.tsv, logs (stdout, stderr, time -v) in BENCH_OUT/logs.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUT="${BENCH_OUT:-/tmp/pqflow-s3-bench}"
BUILD_DIR="$(realpath -m "${BUILD_DIR:-$ROOT/build}")"  # absolute: the scripts change directory
PQFLOW="${PQFLOW:-$BUILD_DIR/src/cli/pqflow}"
GEN="${GEN:-$BUILD_DIR/bench/pqflow-gen-pageviews}"
AWS="${AWS:-/usr/bin/aws}"
NODE="${NODE:-node}"
NODE_MODULES="${NODE_MODULES:-$ROOT/third_party/node/node_modules}"
RUNS="${RUNS:-3}"
WARMUP="${WARMUP:-1}"
ROWS="${ROWS:-22000000}" DAYS="${DAYS:-30}" PROJECTS="${PROJECTS:-50}" SEED="${SEED:-20260115}"
CODEC="${CODEC:-uncompressed}"
AWS_TUNED="${AWS_TUNED:-32}"
PQ_SWEEP="${PQ_SWEEP:-}"
AWS_SWEEP="${AWS_SWEEP:-}"
SWEEP_RUNS="${SWEEP_RUNS:-1}"
BUCKET=bench

case "${1:-}" in -h|--help) sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed -n 's/^# \{0,1\}//p'; exit 0 ;; esac
die() { printf 'run_s3_upload_bench: %s\n' "$*" >&2; exit 1; }
log() { printf '\n== %s\n' "$*" >&2; }
case "$OUT" in "$ROOT"|"$ROOT"/*) die "BENCH_OUT must be outside the repository" ;; esac
[ -x /usr/bin/time ] || die "GNU time (/usr/bin/time, Debian package 'time') is required"
for t in "$PQFLOW" "$GEN" "$AWS"; do [ -x "$t" ] || die "not found: $t (build pqflow and pqflow-gen-pageviews first)"; done
command -v "$NODE" > /dev/null || die "node not found"
command -v curl > /dev/null || die "curl not found"
S3RVER_JS="$NODE_MODULES/s3rver/bin/s3rver.js"
[ -f "$S3RVER_JS" ] || die "missing $S3RVER_JS: run scripts/bootstrap.sh"
mkdir -p "$OUT/logs"
OUT="$(cd "$OUT" && pwd)"
LOGS="$OUT/logs"
CLK_TCK=$(getconf CLK_TCK)

# Credentials of s3rver's built-in account, for both tools; nothing from ~/.aws.
export AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER AWS_DEFAULT_REGION=us-east-1 AWS_REGION=us-east-1
export AWS_EC2_METADATA_DISABLED=true AWS_SHARED_CREDENTIALS_FILE=/dev/null AWS_PAGER=""
unset AWS_PROFILE AWS_SESSION_TOKEN PQFLOW_CONFIG PQFLOW_ROOT

# ---------------------------------------------------------------------------------------------
# s3rver

S3RVER_PID="" S3DATA=""
stop_s3rver() {
  if [ -n "$S3RVER_PID" ] && kill -0 "$S3RVER_PID" 2> /dev/null; then
    kill -TERM "$S3RVER_PID" 2> /dev/null || true
    for _ in $(seq 50); do kill -0 "$S3RVER_PID" 2> /dev/null || break; sleep 0.1; done
    kill -KILL "$S3RVER_PID" 2> /dev/null || true
    wait "$S3RVER_PID" 2> /dev/null || true
  fi
  S3RVER_PID=""
  if [ -n "$S3DATA" ]; then rm -rf "$S3DATA"; S3DATA=""; fi
}
trap stop_s3rver EXIT
trap 'exit 130' INT TERM

free_port() {
  "$NODE" -e 'const s = require("net").createServer(); s.listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close(); });'
}

start_s3rver() {
  local i
  S3DATA="$OUT/s3rver.$$"  # this run's own data directory (the PID keeps runs apart)
  rm -rf "$S3DATA"; mkdir -p "$S3DATA"
  for _ in 1 2 3; do
    S3PORT=$(free_port)
    # s3rver 3.x encrypts ListObjectsV2 continuation tokens with DES, which OpenSSL 3 only
    # offers through its legacy provider (as in tests/support/s3_server.cc).
    "$NODE" --openssl-legacy-provider "$S3RVER_JS" -d "$S3DATA" -a 127.0.0.1 -p "$S3PORT" --silent \
      --configure-bucket "$BUCKET" > "$LOGS/s3rver.log" 2>&1 &
    S3RVER_PID=$!
    for i in $(seq 100); do
      kill -0 "$S3RVER_PID" 2> /dev/null || break
      if [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$S3PORT/$BUCKET")" = 200 ]; then
        ENDPOINT="http://127.0.0.1:$S3PORT"
        return 0
      fi
      sleep 0.1
    done
    kill -0 "$S3RVER_PID" 2> /dev/null && die "s3rver did not answer: $(tail -5 "$LOGS/s3rver.log")"
    wait "$S3RVER_PID" 2> /dev/null || true  # exited at once: most likely its port was taken
    S3RVER_PID=""
  done
  die "s3rver did not start: $(tail -5 "$LOGS/s3rver.log")"
}

s3rver_cpu_s() { awk -v t="$CLK_TCK" '{ printf "%.2f", ($14 + $15) / t }' "/proc/$S3RVER_PID/stat"; }
machine_busy_s() { awk '/^cpu / { printf "%.2f", ($2 + $3 + $4 + $7 + $8 + $9) / 100; exit }' /proc/stat; }

# prefix_stats PREFIX -> "objects bytes" of the Parquet files and manifests stored under it
# (s3rver's file store keeps every object as KEY._S3rver_object; pqflow's run report is left out).
dir_stats() { find "$1/analytics" -type f -printf '%s\n' | awk '{ n++; b += $1 } END { printf "%d %d\n", n, b }'; }
prefix_stats() {
  find "$S3DATA/$BUCKET/$1" -path "$S3DATA/$BUCKET/$1/.pqflow" -prune -o -type f -name '*._S3rver_object' \
    -printf '%s\n' 2> /dev/null | awk '{ n++; b += $1 } END { printf "%d %d\n", n, b }'
}

# ---------------------------------------------------------------------------------------------
# Input and reference export

cd "$OUT"
GEN_ARGS=(--rows "$ROWS" --days "$DAYS" --projects "$PROJECTS" --seed "$SEED" --order date --format csv)
GEN_STAMP="${GEN_ARGS[*]} gen=$(sha256sum "$GEN" | cut -c1-16)"
CSV_FILE="$OUT/pv_${ROWS}_${DAYS}d_${PROJECTS}p.csv"
if [ "$(cat "$CSV_FILE.stamp" 2> /dev/null)" != "$GEN_STAMP" ] || [ ! -f "$CSV_FILE" ]; then
  log "generating $CSV_FILE"
  "$GEN" "${GEN_ARGS[@]}" -o "$CSV_FILE.tmp" >&2
  mv "$CSV_FILE.tmp" "$CSV_FILE"
  echo "$GEN_STAMP" > "$CSV_FILE.stamp"
fi

# The built-in pageviews dataset (examples/pqflow.toml) with CODEC; [storage] keys for S3.
# The S3 keys are only accepted with an s3:// root: the runs name their prefix with --root.
write_config() {  # write_config FILE local|s3 [PARALLEL_UPLOADS PART_SIZE]
  {
    echo '[storage]'
    if [ "$2" = local ]; then
      echo 'root = "./data"'
    else
      echo "root = \"s3://$BUCKET/unused\""
      echo "endpoint = \"$ENDPOINT\""
      echo 'region = "us-east-1"'
      echo "cache_dir = \"$OUT/cache\""
      if [ -n "${3:-}" ]; then echo "parallel_uploads = $3"; fi
      if [ -n "${4:-}" ]; then echo "part_size = \"$4\""; fi
    fi
    echo
    awk '/^\[datasets\.pageviews\]$/ { on = 1 } on && /^# -+$/ { exit } on { print }' "$ROOT/examples/pqflow.toml" |
      sed "s/^compression = .*/compression = \"$CODEC\"/"
  } > "$1"
  grep -q '^\[datasets\.pageviews\.splits\.project\]' "$1" || die "no pageviews dataset with a project split in examples/pqflow.toml"
}

LOCAL_CONFIG="$OUT/pqflow-local.toml"
write_config "$LOCAL_CONFIG" local
REF="$OUT/ref"
REF_STAMP="$GEN_STAMP codec=$CODEC pqflow=$(sha256sum "$PQFLOW" | cut -c1-16) examples=$(sha256sum "$ROOT/examples/pqflow.toml" | cut -c1-16)"
if [ "$(cat "$REF/.bench-stamp" 2> /dev/null)" != "$REF_STAMP" ]; then
  log "exporting the reference dataset into $REF"
  rm -rf "$REF"
  "$PQFLOW" --config "$LOCAL_CONFIG" --root "$REF" export pageviews --input "$CSV_FILE" --per-project --quiet \
    > "$LOGS/ref_export.out" 2> "$LOGS/ref_export.err" || die "reference export failed: $(tail -5 "$LOGS/ref_export.err")"
  echo "$REF_STAMP" > "$REF/.bench-stamp"
fi
read -r REF_OBJECTS REF_BYTES < <(find "$REF/analytics" -type f -printf '%s\n' | awk '{ n++; b += $1 } END { print n, b }')
REF_PARQUET=$(find "$REF/analytics" -type f -name '*.parquet' | wc -l)
REF_MULTIPART=$(find "$REF/analytics" -type f -name '*.parquet' -size +8388608c | wc -l)
read -r SZ_MIN SZ_MED SZ_MAX < <(find "$REF/analytics" -type f -name '*.parquet' -printf '%s\n' | sort -n |
  awk '{ a[NR] = $1 } END { print a[1], a[int((NR + 1) / 2)], a[NR] }')
echo "reference: $REF_OBJECTS objects ($REF_PARQUET Parquet files, $REF_MULTIPART above 8 MiB; sizes $SZ_MIN / $SZ_MED / $SZ_MAX bytes min / median / max), $REF_BYTES bytes" >&2

# ---------------------------------------------------------------------------------------------
# Measurement

log "starting s3rver"
start_s3rver
echo "s3rver pid $S3RVER_PID at $ENDPOINT, data in $S3DATA" >&2
CONFIG="$OUT/pqflow-s3.toml"
write_config "$CONFIG" s3
AWS_CFG_DEFAULT="$OUT/aws-default.config"
printf '[default]\nregion = us-east-1\n' > "$AWS_CFG_DEFAULT"
aws_config() {  # aws_config MAX_CONCURRENT_REQUESTS [MULTIPART_THRESHOLD] -> file
  local f="$OUT/aws-c$1${2:+-t$2}.config"
  printf '[default]\nregion = us-east-1\ns3 =\n  max_concurrent_requests = %s\n' "$1" > "$f"
  if [ -n "${2:-}" ]; then printf '  multipart_threshold = %s\n  multipart_chunksize = %s\n' "$2" "$2" >> "$f"; fi
  echo "$f"
}

RUNS_TSV="$OUT/runs-s3.tsv"
printf 'case\tround\twall_s\tpublish_s\tuser_s\tsys_s\tpeak_rss_kib\ts3rver_cpu_s\tother_cpu_s\tobjects\tbytes\n' > "$RUNS_TSV"

# run_case NAME ROUND PREFIX|DIR upload|local cmd...
run_case() {
  local name=$1 round=$2 prefix=$3 expect=$4; shift 4
  local base="$LOGS/$name.r$round" t0 t1 c0 c1 b0 b1 wall pub user sys rss s3cpu other objects=0 bytes=0
  sync
  c0=$(s3rver_cpu_s); b0=$(machine_busy_s)
  t0=$EPOCHREALTIME
  /usr/bin/time -v -o "$base.time" "$@" > "$base.out" 2> "$base.err" ||
    die "$name (round $round) failed: $(tail -5 "$base.err")"
  t1=$EPOCHREALTIME
  c1=$(s3rver_cpu_s); b1=$(machine_busy_s)
  wall=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')
  pub=$(awk '$1 == "pqflow:" && $2 == "publish" { print $3 }' "$base.err")
  user=$(awk -F': ' '/User time/ { print $2 }' "$base.time")
  sys=$(awk -F': ' '/System time/ { print $2 }' "$base.time")
  rss=$(awk -F': ' '/Maximum resident set size/ { print $2 }' "$base.time")
  s3cpu=$(awk -v a="$c0" -v b="$c1" 'BEGIN { printf "%.2f", b - a }')
  other=$(awk -v a="$b0" -v b="$b1" -v u="$user" -v s="$sys" -v c="$s3cpu" 'BEGIN { o = b - a - u - s - c; printf "%.2f", (o < 0 ? 0 : o) }')
  if [ "$expect" = upload ]; then
    read -r objects bytes < <(prefix_stats "$prefix")
  else
    read -r objects bytes < <(dir_stats "$prefix")
  fi
  # Same objects as the reference; the bytes vary by ~1-2% between exports (DuckDB's parallel
  # writer does not keep the row order inside a partition, so dictionaries and pages differ).
  [ "$objects" = "$REF_OBJECTS" ] || die "$name (round $round): $objects objects in $prefix, expected $REF_OBJECTS"
  awk -v a="$bytes" -v b="$REF_BYTES" 'BEGIN { exit !(a > 0.95 * b && a < 1.05 * b) }' ||
    die "$name (round $round): $bytes bytes in $prefix, the reference has $REF_BYTES"
  if [ "$name" != "${name#pq}" ]; then
    grep -q "written=$ROWS " "$base.out" || die "$name (round $round): the summary does not say written=$ROWS"
  fi
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$name" "$round" "$wall" "${pub:--}" "$user" "$sys" "$rss" \
    "$s3cpu" "$other" "$objects" "$bytes" >> "$RUNS_TSV"
  printf '  %-16s round %s: %8.2f s%s, s3rver CPU %s s, other CPU %s s\n' "$name" "$round" "$wall" \
    "${pub:+ (publish $pub s)}" "$s3cpu" "$other" >&2
}

pq_s3() {  # pq_s3 NAME ROUND CONFIG
  run_case "$1" "$2" "r$2-$1" upload "$PQFLOW" --config "$3" --root "s3://$BUCKET/r$2-$1" \
    export pageviews --input "$CSV_FILE" --per-project --quiet --verbose
}
pq_local() {
  local dir="$OUT/run-local"
  rm -rf "$dir"
  run_case pq_local "$1" "$dir" local "$PQFLOW" --config "$LOCAL_CONFIG" --root "$dir" \
    export pageviews --input "$CSV_FILE" --per-project --quiet --verbose
}
aws_cp() {  # aws_cp NAME ROUND CONFIG_FILE
  AWS_CONFIG_FILE="$3" run_case "$1" "$2" "r$2-$1" upload "$AWS" --endpoint-url "$ENDPOINT" \
    s3 cp --recursive --only-show-errors "$REF/analytics" "s3://$BUCKET/r$2-$1/analytics"
}

LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
log "measuring, $RUNS rounds (load average $LOAD_BEFORE)"
AWS_CFG_TUNED=$(aws_config "$AWS_TUNED")
for ((i = 1; i <= WARMUP; i++)); do
  AWS_CONFIG_FILE="$AWS_CFG_DEFAULT" "$AWS" --endpoint-url "$ENDPOINT" s3 cp --recursive --only-show-errors \
    "$REF/analytics" "s3://$BUCKET/warmup-$i/analytics" || die "warm-up upload failed"
  echo "  warm-up $i done" >&2
done
one_case() {  # one_case INDEX ROUND
  case $1 in
    0) pq_local "$2" ;;
    1) pq_s3 pq_s3 "$2" "$CONFIG" ;;
    2) aws_cp aws "$2" "$AWS_CFG_DEFAULT" ;;
    3) aws_cp aws_tuned "$2" "$AWS_CFG_TUNED" ;;
  esac
}
for ((round = 1; round <= RUNS; round++)); do
  for ((k = 0; k < 4; k++)); do one_case $(((k + round - 1) % 4)) "$round"; done
done
SWEEP_NAMES=()
for spec in $PQ_SWEEP; do
  pu=${spec%%:*} ps=${spec#*:}
  name="pq_s3_p${pu}_${ps}"
  cfg="$OUT/pqflow-bench-$pu-$ps.toml"
  write_config "$cfg" s3 "$pu" "$ps"
  SWEEP_NAMES+=("$name")
  for ((round = 1; round <= SWEEP_RUNS; round++)); do pq_s3 "$name" "$round" "$cfg"; done
done
for spec in $AWS_SWEEP; do
  c=${spec%%:*} th=""
  if [ "$spec" != "$c" ]; then th=${spec#*:}; fi
  name="aws_c$c${th:+_$th}"
  SWEEP_NAMES+=("$name")
  for ((round = 1; round <= SWEEP_RUNS; round++)); do aws_cp "$name" "$round" "$(aws_config "$c" "$th")"; done
done
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)

# ---------------------------------------------------------------------------------------------
# Report

median() { sort -g | awk '{ a[NR] = $1 } END { if (NR == 0) print 0; else if (NR % 2) print a[(NR + 1) / 2]; else print (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
col() {  # col CASE COLUMN_NAME -> values, one a line
  awk -F'\t' -v n="$1" -v c="$2" 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == c) k = i; next } $1 == n { print $k }' "$RUNS_TSV"
}
med() { col "$1" "$2" | median; }
runs_list() { col "$1" "$2" | awk '{ printf "%s%.2f", (NR > 1 ? ", " : ""), $1 }'; }
max_rss_mib() { col "$1" peak_rss_kib | sort -g | tail -1 | awk '{ printf "%.0f", $1 / 1024 }'; }
cpu_med() { awk -F'\t' -v n="$1" 'NR > 1 && $1 == n { print $5 + $6 }' "$RUNS_TSV" | median; }
mbps() { awk -v b="$1" -v s="$2" 'BEGIN { printf "%.1f", (s > 0 ? b / 1e6 / s : 0) }'; }  # mbps BYTES SECONDS
div() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2fx", (b > 0 ? a / b : 0) }'; }

S_PQ=$(med pq_s3 wall_s) S_LOCAL=$(med pq_local wall_s) S_PUB=$(med pq_s3 publish_s)
S_DIFF=$(awk -v a="$S_PQ" -v b="$S_LOCAL" 'BEGIN { printf "%.3f", a - b }')
B_PQ=$(med pq_s3 bytes)
MB_PUB=$(mbps "$B_PQ" "$S_PUB") MB_DIFF=$(mbps "$B_PQ" "$S_DIFF") MB_PQ=$(mbps "$B_PQ" "$S_PQ")
MB_AWS=$(mbps "$(med aws bytes)" "$(med aws wall_s)") MB_AWST=$(mbps "$(med aws_tuned bytes)" "$(med aws_tuned wall_s)")
row() {  # row LABEL CASE
  local s b; s=$(med "$2" wall_s); b=$(med "$2" bytes)
  printf '| %s | %s | %.0f | %.2f | %s | %s | %.1f | %.1f | %s MiB |\n' "$1" "$REF_OBJECTS" "$b" "$s" "$(runs_list "$2" wall_s)" \
    "$(mbps "$b" "$s")" "$(cpu_med "$2")" "$(med "$2" s3rver_cpu_s)" "$(max_rss_mib "$2")"
}
pub_row() {  # pub_row LABEL CASE: the publish step of a pqflow S3 case
  local s b; s=$(med "$2" publish_s); b=$(med "$2" bytes)
  printf '| %s | %s | %.0f | %.2f | %s | %s | | | |\n' "$1" "$REF_OBJECTS" "$b" "$s" "$(runs_list "$2" publish_s)" "$(mbps "$b" "$s")"
}
{
  echo "Input: $ROWS rows over $DAYS days, $PROJECTS projects (seed $SEED), $(stat -c %s "$CSV_FILE") bytes of CSV; codec $CODEC."
  echo "Uploaded: $REF_OBJECTS objects ($REF_PARQUET Parquet files, $REF_MULTIPART of them above 8 MiB; Parquet sizes $SZ_MIN /"
  echo "$SZ_MED / $SZ_MAX bytes min / median / max; the rest are partition manifests), $REF_BYTES bytes in the reference."
  echo "$RUNS rounds after $WARMUP warm-up upload(s), round-robin (order rotated each round); load average $LOAD_BEFORE before, $LOAD_AFTER after. s3rver 3.7.1 on node $("$NODE" --version), $(nproc) cores."
  echo "Bytes: median of the runs (Parquet files and manifests stored; pqflow's exports differ by ~1% from run to run)."
  echo
  echo "| case | objects | bytes | median s | runs s | MB/s | client CPU s | s3rver CPU s | peak RSS |"
  echo "|---|---:|---:|---:|---|---:|---:|---:|---:|"
  row "(a) pqflow export to S3, end to end" pq_s3
  row "(a0) pqflow export to a local directory (no upload)" pq_local
  pub_row "(b) pqflow upload alone: \`publish\` step of (a)" pq_s3
  printf '| %s | %s | %.0f | %.2f | | %s | | | |\n' "(b2) pqflow upload alone: (a) - (a0)" "$REF_OBJECTS" "$B_PQ" "$S_DIFF" "$MB_DIFF"
  row "(c) aws s3 cp --recursive, defaults (10 requests)" aws
  row "(c2) aws s3 cp --recursive, max_concurrent_requests $AWS_TUNED" aws_tuned
  for name in "${SWEEP_NAMES[@]}"; do
    row "sweep: $name" "$name"
    if [ "$name" != "${name#pq}" ]; then pub_row "sweep: $name, publish step" "$name"; fi
  done
  echo
  echo "| ratio (MB/s, pqflow / awscli; above 1 = pqflow faster) | value |"
  echo "|---|---:|"
  echo "| (b) pqflow publish / (c) awscli defaults | $(div "$MB_PUB" "$MB_AWS") |"
  echo "| (b) pqflow publish / (c2) awscli, $AWS_TUNED requests | $(div "$MB_PUB" "$MB_AWST") |"
  echo "| (b2) pqflow (a) - (a0) / (c) awscli defaults | $(div "$MB_DIFF" "$MB_AWS") |"
  echo "| (b2) pqflow (a) - (a0) / (c2) awscli, $AWS_TUNED requests | $(div "$MB_DIFF" "$MB_AWST") |"
  echo "| (a) whole pqflow export / (c) awscli upload alone | $(div "$MB_PQ" "$MB_AWS") |"
  echo "| peak RSS, (a) pqflow export / (c) awscli (not a throughput) | $(div "$(max_rss_mib pq_s3)" "$(max_rss_mib aws)") |"
} | tee "$OUT/results-s3.md"
echo "every run: $RUNS_TSV; pqflow step times: $LOGS/pq_s3.r*.err" >&2
