#!/usr/bin/env bash
# Export benchmark: CSV -> partitioned Parquet, bare DuckDB vs pqflow. See docs/benchmarks.md.
#
#   bench/run_export_bench.sh                 # everything (about 15 minutes on 2 cores)
#   SIZES=1e6 bench/run_export_bench.sh --skip-many --skip-extras   # quick look
#
# Options:  --skip-many     skip (c), the many-partitions case (minutes)
#           --skip-extras   skip the compression-level sweep, the order check, shuffled input
#           --skip-pqflow   do not try the pqflow binary
# Environment (defaults in brackets):
#   SIZES [1e6 1e7]         input sizes (rows) for the per-date cases ("" = none)
#   REPEAT [3]              runs per case; the table shows the median wall time
#   DISTURB_CPU_S [0.5]     a run during which other processes used more than this many CPU
#                           seconds (+5% of the run's wall time) is discarded and repeated, up to
#                           2 x REPEAT attempts in all (it would measure the other processes)
#   THREADS [nproc]         DuckDB threads, for both engines
#   BUILD_DIR [build]       where pqflow and the bench tools are built
#   PQFLOW [BUILD_DIR/src/cli/pqflow]
#   PQ_CONFIG [bench/pageviews_bench.toml]  pqflow's configuration: dataset pageviews_bench (per
#                           date) and, for (c), pageviews_bench_project (per project and date;
#                           derived from pageviews_bench into bench/out/ if the file has none)
#   GEN, DUCK               the tools (default: BUILD_DIR/bench/..., built if missing)
#   BENCH_OUT [bench/out]   inputs, outputs, logs, results (git-ignored)
#   SETTLE_S [370]          seconds to wait after deleting a previous many-partitions output
#   MANY_TIMEOUT [300]      seconds before a many-partitions run is interrupted
#   MANY_RSS_LIMIT [8GiB]   resident memory at which a many-partitions run is stopped
#   MANY_VMEM_LIMIT_KB [50331648 = 48 GiB]  ulimit -v backstop for many-partitions runs. Only a
#                           backstop: DuckDB reserves far more address space than it touches, so
#                           a low value (12 GiB) makes it fail early with "bad allocation".
#
# Every measurement runs under /usr/bin/time -v (wall time, peak RSS). Inputs stay in the page
# cache (warm runs): the numbers are CPU and write cost, not the cost of reading a cold disk.
# Output: a markdown table on stdout, bench/out/results-export.{json,md}, logs in bench/out/logs.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BENCH="$ROOT/bench"
OUT="${BENCH_OUT:-$BENCH/out}"
BUILD_DIR="$(realpath -m "${BUILD_DIR:-$ROOT/build}")"  # absolute: the scripts change directory
PQFLOW="${PQFLOW:-$BUILD_DIR/src/cli/pqflow}"
PQ_CONFIG="${PQ_CONFIG:-$BENCH/pageviews_bench.toml}"
SIZES="${SIZES-1e6 1e7}"
REPEAT="${REPEAT:-3}"
THREADS="${THREADS:-$(nproc)}"
MANY_TIMEOUT="${MANY_TIMEOUT:-300}"
SETTLE_S="${SETTLE_S:-370}"
MANY_RSS_LIMIT="${MANY_RSS_LIMIT:-8GiB}"
MANY_VMEM_LIMIT_KB="${MANY_VMEM_LIMIT_KB:-50331648}"
DISTURB_CPU_S="${DISTURB_CPU_S:-0.5}"
SEED=20260115
DAYS=90
PROJECTS=2000

RUN_MANY=1 RUN_EXTRAS=1 RUN_PQFLOW=1
for arg in "$@"; do
  case "$arg" in
    --skip-many) RUN_MANY=0 ;;
    --skip-extras) RUN_EXTRAS=0 ;;
    --skip-pqflow) RUN_PQFLOW=0 ;;
    -h|--help) sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed -n 's/^# \{0,1\}//p'; exit 0 ;;
    *) echo "run_export_bench: unknown argument $arg" >&2; exit 2 ;;
  esac
done

log() { printf '\n== %s\n' "$*" >&2; }
die() { printf 'run_export_bench: %s\n' "$*" >&2; exit 1; }

[ -x /usr/bin/time ] || die "GNU time (/usr/bin/time, Debian package 'time') is required"
case "$OUT" in *\'*) die "BENCH_OUT must not contain a single quote" ;; esac
mkdir -p "$OUT/logs" "$OUT/duckdb_tmp"
TMPDIR_DUCK="$OUT/duckdb_tmp"
TSV="$OUT/results-export.tsv"
EXTRAS_JSON="$OUT/results-extras.jsonl"
: > "$TSV"
: > "$EXTRAS_JSON"

# ---------------------------------------------------------------------------------------------
# Tools: from the CMake build if there, else built stand-alone into $OUT/bin.

build_tools_standalone() {
  local bin="$OUT/bin" duck_root="${DUCKDB_ROOT:-$ROOT/third_party/duckdb}"
  mkdir -p "$bin"
  local flags=(-std=c++20 -O2 -Wall -Wextra -Wpedantic -Wshadow)
  if [ ! -x "$bin/pqflow-gen-pageviews" ] || [ "$BENCH/gen_pageviews.cc" -nt "$bin/pqflow-gen-pageviews" ]; then
    echo "building pqflow-gen-pageviews stand-alone into $bin" >&2
    "${CXX:-c++}" "${flags[@]}" "$BENCH/gen_pageviews.cc" -lfmt -o "$bin/pqflow-gen-pageviews"
  fi
  if [ ! -x "$bin/pqflow-bench-duckdb" ] || [ "$BENCH/duck_sql.cc" -nt "$bin/pqflow-bench-duckdb" ]; then
    echo "building pqflow-bench-duckdb stand-alone into $bin" >&2
    "${CXX:-c++}" "${flags[@]}" -I"$duck_root/include" "$BENCH/duck_sql.cc" -L"$duck_root/lib" -lduckdb \
      -Wl,-rpath,"$duck_root/lib" -lfmt -pthread -o "$bin/pqflow-bench-duckdb"
  fi
  GEN="${GEN:-$bin/pqflow-gen-pageviews}"
  DUCK="${DUCK:-$bin/pqflow-bench-duckdb}"
}

find_tools() {
  if [ -z "${GEN:-}" ] || [ -z "${DUCK:-}" ]; then
    if [ -f "$BUILD_DIR/CMakeCache.txt" ]; then
      cmake --build "$BUILD_DIR" --target pqflow-gen-pageviews pqflow-bench-duckdb >&2 || true
    fi
    [ -x "$BUILD_DIR/bench/pqflow-gen-pageviews" ] && GEN="${GEN:-$BUILD_DIR/bench/pqflow-gen-pageviews}"
    [ -x "$BUILD_DIR/bench/pqflow-bench-duckdb" ] && DUCK="${DUCK:-$BUILD_DIR/bench/pqflow-bench-duckdb}"
  fi
  if [ -z "${GEN:-}" ] || [ -z "${DUCK:-}" ]; then build_tools_standalone; fi
  [ -x "$GEN" ] || die "generator not found: $GEN"
  [ -x "$DUCK" ] || die "DuckDB runner not found: $DUCK"
}

# ---------------------------------------------------------------------------------------------
# Small helpers

rows_of() { printf '%.0f' "$1"; }          # 1e7 -> 10000000
# Output size = sum of the Parquet files' sizes (pqflow's staging area and manifests excluded;
# du -sb would also count 4 KiB per directory, which matters with 100k partition folders).
parquet_bytes() {
  find "$1" -path '*/.pqflow' -prune -o -type f -name '*.parquet' -printf '%s\n' 2>/dev/null |
    awk '{ s += $1 } END { printf "%.0f\n", s }'
}
files_of() { find "$1" -path '*/.pqflow' -prune -o -type f -name '*.parquet' -print 2>/dev/null | wc -l; }
du_bytes() { du -sb "$1" 2>/dev/null | cut -f1 || echo 0; }
median() { sort -g | awk '{a[NR]=$1} END {if (NR==0) print "0"; else if (NR%2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}'; }

json_str() {
  local s=$1
  s=${s//\\/\\\\}; s=${s//\"/\\\"}; s=${s//$'\n'/\\n}; s=${s//$'\t'/\\t}; s=${s//$'\r'/}
  printf '"%s"' "$s"
}

# Wall seconds and peak RSS (KiB) from a /usr/bin/time -v report.
time_wall() {
  awk -F': ' '/Elapsed \(wall clock\)/ {
      n = split($2, p, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + p[i]; print s }' "$1"
}
time_rss() { awk -F': ' '/Maximum resident set size/ {print $2}' "$1"; }
# Busy CPU seconds of the whole machine so far (all cores; /proc/stat counts in 1/100 s).
machine_busy_s() { awk '/^cpu / { print ($2 + $3 + $4 + $7 + $8 + $9) / 100; exit }' /proc/stat; }
time_cpu() { awk -F': ' '/User time/ {u = $2} /System time/ {s = $2} END {print u + s}' "$1"; }  # user+sys s

# Field of pqflow-bench-duckdb's --json report (numbers and booleans; error as JSON text).
duck_field() { sed -n "s/^  \"$2\": \(.*\),\{0,1\}$/\1/p" "$1" | head -1 | sed 's/,$//'; }
# First error message, unescaped, without DuckDB's "Possible solutions" advice.
duck_error() {
  grep -m1 '"error":' "$1" 2>/dev/null |
    sed 's/^ *"error": "//; s/",\{0,1\}$//; s/\\n\\nPossible solutions.*//; s/\\n/ /g; s/\\"/"/g' || true
}

tree_pids() {  # a process and all its descendants
  local child
  echo "$1"
  # shellcheck disable=SC2013 # the file is one line of pids
  for child in $(cat /proc/"$1"/task/*/children 2>/dev/null); do tree_pids "$child"; done
}

# Sum of VmRSS (KiB) of a process and all its descendants.
tree_rss_kb() {
  local pid=$1 total=0 rss child
  rss=$(awk '/^VmRSS:/ {print $2}' "/proc/$pid/status" 2>/dev/null || true)
  total=$((total + ${rss:-0}))
  # shellcheck disable=SC2013 # the file is one line of pids
  for child in $(cat /proc/"$pid"/task/*/children 2>/dev/null); do
    total=$((total + $(tree_rss_kb "$child")))
  done
  echo "$total"
}

kib_of() {  # "8GiB" -> KiB
  local v=${1%[GgMm]*}
  case "$1" in *[Gg]*) echo $((v * 1024 * 1024)) ;; *[Mm]*) echo $((v * 1024)) ;; *) echo $(($1 / 1024)) ;; esac
}

# run_measured LOG_PREFIX GUARD(0|1) -- cmd...: runs cmd under /usr/bin/time -v; with GUARD=1 also
# under ulimit -v, a timeout and an external RSS watchdog. Sets RC, WALL, RSS_KB, CPU_S, GUARD_NOTE
# and OTHER_CPU_S: CPU seconds the rest of the machine used meanwhile (noise: other processes).
run_measured() {
  local prefix=$1 guard=$2; shift 3
  local timefile="$prefix.time" busy0
  GUARD_NOTE=""
  busy0=$(machine_busy_s)
  if [ "$guard" = 1 ]; then
    local limit_kb; limit_kb=$(kib_of "$MANY_RSS_LIMIT")
    (
      ulimit -v "$MANY_VMEM_LIMIT_KB"
      exec timeout -k 10 $((MANY_TIMEOUT + 20)) /usr/bin/time -v -o "$timefile" "$@"
    ) > "$prefix.out" 2> "$prefix.err" &
    local pid=$! rss peak=0 start; start=$(date +%s.%N)
    while kill -0 "$pid" 2>/dev/null; do
      rss=$(tree_rss_kb "$pid")
      [ "$rss" -gt "$peak" ] && peak=$rss
      # The watchdog sits 1 GiB above the in-process guard so that one normally fires first.
      if [ "$rss" -gt $((limit_kb + 1048576)) ]; then
        GUARD_NOTE="external watchdog killed the run at $((rss / 1024)) MiB RSS"
        # Kill the measured command (below timeout and time) so that time still reports;
        # then whatever is left of the tree.
        local pids; mapfile -t pids < <(tree_pids "$pid")
        kill -KILL "${pids[@]:2}" 2>/dev/null || true
        sleep 1
        kill -0 "$pid" 2>/dev/null && kill -KILL "${pids[@]}" 2>/dev/null
        break
      fi
      sleep 0.5
    done
    RC=0; wait "$pid" || RC=$?
  else
    RC=0; /usr/bin/time -v -o "$timefile" "$@" > "$prefix.out" 2> "$prefix.err" || RC=$?
  fi
  WALL=$(time_wall "$timefile" 2>/dev/null || true); WALL=${WALL:-0}
  RSS_KB=$(time_rss "$timefile" 2>/dev/null || true); RSS_KB=${RSS_KB:-0}
  CPU_S=$(time_cpu "$timefile" 2>/dev/null || true); CPU_S=${CPU_S:-0}
  OTHER_CPU_S=$(awk -v a="$busy0" -v b="$(machine_busy_s)" -v c="$CPU_S" 'BEGIN { o = b - a - c; printf "%.2f", o < 0 ? 0 : o }')
  if [ "$guard" = 1 ] && [ "$RSS_KB" = 0 ]; then  # time itself was killed: use our own numbers
    WALL=$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a }')
    RSS_KB=$peak
  fi
}

# disturbed: true if the last run_measured shared the machine with busy processes.
disturbed() {
  awk -v o="$OTHER_CPU_S" -v w="$WALL" -v t="$DISTURB_CPU_S" 'BEGIN { exit !(o > t + 0.05 * w) }'
}

# record NAME ENGINE ROWS CSV_BYTES RUNS WALL_MEDIAN WALL_MIN QUERY_S OUT_BYTES FILES RSS_KB STATUS NOTE DU_BYTES
#        CPU_S_MEDIAN OTHER_CPU_S_MEDIAN (user + system seconds of the run, and of everything
#        else on the machine meanwhile: more than a few tenths means the wall time is suspect)
record() {
  local rows=$3 csv=$4 wall=$6 out=$9
  local rps=0 ratio
  [ "${12}" = ok ] && rps=$(awk -v r="$rows" -v w="$wall" 'BEGIN { if (w > 0) printf "%.0f", r / w; else print 0 }')
  ratio=$(awk -v o="$out" -v c="$csv" 'BEGIN { if (c > 0) printf "%.4f", o / c; else print 0 }')
  # No field may be empty: read splits on tabs and would merge two of them ("-" = no note).
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' \
    "$1" "$2" "$rows" "$csv" "$5" "$wall" "$7" "$8" "$rps" "$out" "${10}" "$ratio" "${11}" "${12}" "${13:--}" "${14:-0}" "${15:-0}" "${16:-0}" >> "$TSV"
}

# ---------------------------------------------------------------------------------------------
# Inputs (cached; regenerated when the generator's source or arguments change)

GEN_SHA=""
ensure_input() {  # ensure_input FILE ROWS ORDER
  local file=$1 rows=$2 order=$3
  local args=(--rows "$rows" --days "$DAYS" --projects "$PROJECTS" --seed "$SEED" --order "$order" --format csv)
  local stamp="${args[*]} gen=$GEN_SHA"
  if [ -f "$file" ] && [ -f "$file.stamp" ] && [ "$(cat "$file.stamp")" = "$stamp" ]; then return 0; fi
  echo "generating $file ($rows rows, order $order)" >&2
  rm -f "$file" "$file.stamp"
  local timefile; timefile="$OUT/logs/gen_$(basename "$file").time"
  /usr/bin/time -v -o "$timefile" "$GEN" "${args[@]}" -o "$file.tmp"
  mv "$file.tmp" "$file"
  echo "$stamp" > "$file.stamp"
  extra "{\"extra\": \"generator\", \"file\": \"$(basename "$file")\", \"rows\": $rows, \"order\": \"$order\", \"bytes\": $(stat -c %s "$file"), \"seconds\": $(time_wall "$timefile"), \"peak_rss_kib\": $(time_rss "$timefile")}"
}

# ---------------------------------------------------------------------------------------------
# Bare DuckDB

COLUMNS_SQL="{'id': 'BIGINT', 'project_id': 'INTEGER', 'project_slug': 'VARCHAR', 'version_id': 'INTEGER', \
'version_slug': 'VARCHAR', 'path': 'VARCHAR', 'full_path': 'VARCHAR', 'view_count': 'INTEGER', 'date': 'DATE', \
'status': 'SMALLINT'}"
read_csv_sql() { echo "read_csv('$1', header = true, columns = $COLUMNS_SQL)"; }

# duck_case NAME CSV ROWS TARGET COPY_OPTIONS [GUARD [EXTRA DUCK ARGS...]]
duck_case() {
  local name=$1 csv=$2 rows=$3 target=$4 opts=$5 guard=${6:-0}
  shift 5
  if [ $# -gt 0 ]; then shift; fi
  local sql
  sql="COPY (SELECT * FROM $(read_csv_sql "$csv")) TO '$target' ($opts)"
  local runs=$REPEAT; [ "$guard" = 1 ] && runs=1
  local walls=() queries=() cpus=() others=() rss_max=0 status=ok note="" i discarded=0
  local csv_bytes; csv_bytes=$(stat -c %s "$csv")
  echo "$name: $sql" >&2
  for ((i = 1; ${#walls[@]} < runs && i <= 2 * runs; i++)); do
    rm -rf "$target"
    local prefix="$OUT/logs/$name.$i"
    local guard_args=()
    [ "$guard" = 1 ] && guard_args=(--rss-limit "$MANY_RSS_LIMIT" --timeout "$MANY_TIMEOUT")
    run_measured "$prefix" "$guard" -- "$DUCK" --quiet --threads "$THREADS" --set "temp_directory=$TMPDIR_DUCK" \
      "${guard_args[@]}" "$@" --json "$prefix.json" "$sql"
    local q; q=$(duck_field "$prefix.json" total_seconds 2>/dev/null || true)
    if [ "$RC" -eq 0 ] && [ "$guard" = 0 ] && disturbed; then
      discarded=$((discarded + 1))
      echo "  run $i: ${WALL}s, discarded: other processes used ${OTHER_CPU_S} cpu-s meanwhile" >&2
      sleep 5
      continue
    fi
    walls+=("$WALL"); cpus+=("$CPU_S"); others+=("$OTHER_CPU_S"); queries+=("${q:-0}")
    [ "$RSS_KB" -gt "$rss_max" ] && rss_max=$RSS_KB
    if [ "$RC" -ne 0 ]; then
      status=failed
      note=$(duck_error "$prefix.json")
      [ -n "$GUARD_NOTE" ] && note="$GUARD_NOTE${note:+; $note}"
      [ -z "$note" ] && note="exit status $RC (see $prefix.err)"
      echo "  run $i: FAILED after ${WALL}s, peak RSS $((RSS_KB / 1024)) MiB: ${note:0:200}" >&2
      break
    fi
    echo "  run $i: ${WALL}s, query ${q}s, cpu ${CPU_S}s, peak RSS $((RSS_KB / 1024)) MiB, other processes ${OTHER_CPU_S} cpu-s" >&2
  done
  if [ ${#walls[@]} -eq 0 ]; then
    status=disturbed; note="all $discarded runs disturbed by other processes"
    walls=("$WALL"); cpus=("$CPU_S"); others=("$OTHER_CPU_S"); queries=("${q:-0}"); rss_max=$RSS_KB
  elif [ "$discarded" -gt 0 ] && [ "$status" = ok ]; then
    note="$discarded disturbed run(s) discarded"
  fi
  local wall_med wall_min q_med out_bytes files
  wall_med=$(printf '%s\n' "${walls[@]}" | median)
  wall_min=$(printf '%s\n' "${walls[@]}" | sort -g | head -1)
  q_med=$(printf '%s\n' "${queries[@]}" | median)
  out_bytes=$(parquet_bytes "$target"); files=$(files_of "$target")
  record "$name" duckdb "$rows" "$csv_bytes" "${#walls[@]}" "$wall_med" "$wall_min" "$q_med" "$out_bytes" "$files" \
    "$rss_max" "$status" "$note" "$(du_bytes "$target")" "$(printf '%s\n' "${cpus[@]}" | median)" \
    "$(printf '%s\n' "${others[@]}" | median)"
}

# ---------------------------------------------------------------------------------------------
# pqflow (skipped cleanly while the binary is missing or the command fails)

# This machine's ext4 has no journal, and then the kernel skips inodes freed in the last 60 s
# when it allocates new ones, or in the last 360 s when their inode table block is dirty
# (fs/ext4/ialloc.c, recently_deleted: RECENTCY_MIN + RECENTCY_DIRTY), which the new run's own
# allocations make it. Right after deleting 100k+ files, creating files is several times
# slower (a run 70 s after a deletion: 69 s; after 6 minutes: 51 s). Runs that create that
# many files start after the deletions settle.
settle_fs() {
  sync
  log "waiting ${SETTLE_S}s for deleted inodes to settle (see settle_fs)"
  sleep "$SETTLE_S"
}

# The many-partitions dataset: taken from $PQ_CONFIG if it has one, else derived from its
# pageviews_bench dataset (same columns and codec, layout one file per project and date) into a
# copy under $OUT, so the case runs whatever the checked-in configuration holds.
many_config() {
  if grep -q '^\[datasets\.pageviews_bench_project\]' "$PQ_CONFIG"; then echo "$PQ_CONFIG"; return; fi
  local cfg="$OUT/pageviews_bench_many.toml"
  cp "$PQ_CONFIG" "$cfg"
  awk '/^\[\[?datasets\./ { keep = ($0 ~ /^\[\[?datasets\.pageviews_bench[].]/) } keep' "$PQ_CONFIG" |
    sed -e 's/datasets\.pageviews_bench\([].]\)/datasets.pageviews_bench_project\1/' \
        -e 's|^layout = .*|layout = "pageviews_bench_project/{project_slug}/{YYYY-MM-DD}/pageviews.parquet"|' >> "$cfg"
  echo "$cfg"
}

pqflow_case() {  # pqflow_case NAME DATASET CSV ROWS [GUARD [CONFIG]]
  local name=$1 dataset=$2 csv=$3 rows=$4 guard=${5:-0} config=${6:-$PQ_CONFIG}
  local csv_bytes; csv_bytes=$(stat -c %s "$csv")
  if [ "$RUN_PQFLOW" = 0 ]; then
    record "$name" pqflow "$rows" "$csv_bytes" 0 0 0 0 0 0 0 skipped "--skip-pqflow" 0; return 0
  fi
  if [ ! -x "$PQFLOW" ]; then
    echo "$name: skipped: pqflow binary not found at $PQFLOW (set PQFLOW=...)" >&2
    record "$name" pqflow "$rows" "$csv_bytes" 0 0 0 0 0 0 0 skipped "binary not found: $PQFLOW" 0; return 0
  fi
  if ! grep -q "^\[datasets\.$dataset\]" "$config"; then
    echo "$name: skipped: $config has no dataset $dataset" >&2
    record "$name" pqflow "$rows" "$csv_bytes" 0 0 0 0 0 0 0 skipped "no dataset $dataset in $(basename "$config")" 0
    return 0
  fi
  local root="$OUT/pqflow-data" runs=$REPEAT; [ "$guard" = 1 ] && runs=1
  local walls=() cpus=() others=() rss_max=0 status=ok note="" i discarded=0
  echo "$name: $PQFLOW --config $config --root $root export $dataset --input $csv --overwrite --json" >&2
  for ((i = 1; ${#walls[@]} < runs && i <= 2 * runs; i++)); do
    rm -rf "$root"
    local prefix="$OUT/logs/$name.$i"
    run_measured "$prefix" "$guard" -- "$PQFLOW" --config "$config" --root "$root" \
      export "$dataset" --input "$csv" --overwrite --json --threads "$THREADS"
    if [ "$RC" -eq 0 ] && [ "$guard" = 0 ] && disturbed; then
      discarded=$((discarded + 1))
      echo "  run $i: ${WALL}s, discarded: other processes used ${OTHER_CPU_S} cpu-s meanwhile" >&2
      sleep 5
      continue
    fi
    walls+=("$WALL"); cpus+=("$CPU_S"); others+=("$OTHER_CPU_S"); [ "$RSS_KB" -gt "$rss_max" ] && rss_max=$RSS_KB
    if [ "$RC" -ne 0 ]; then
      status=failed
      note=$(grep -m1 -i 'error' "$prefix.err" || tail -n 1 "$prefix.err")
      note="exit status $RC: $note"
      [ -n "$GUARD_NOTE" ] && note="$GUARD_NOTE; $note"
      echo "  run $i: pqflow FAILED (${note:0:200}); not counted as a measurement" >&2
      break
    fi
    echo "  run $i: ${WALL}s, cpu ${CPU_S}s, peak RSS $((RSS_KB / 1024)) MiB, other processes ${OTHER_CPU_S} cpu-s" >&2
  done
  if [ ${#walls[@]} -eq 0 ]; then
    status=disturbed; note="all $discarded runs disturbed by other processes"
    walls=("$WALL"); cpus=("$CPU_S"); others=("$OTHER_CPU_S"); rss_max=$RSS_KB
  elif [ "$discarded" -gt 0 ] && [ "$status" = ok ]; then
    note="$discarded disturbed run(s) discarded"
  fi
  local wall_med wall_min
  wall_med=$(printf '%s\n' "${walls[@]}" | median)
  wall_min=$(printf '%s\n' "${walls[@]}" | sort -g | head -1)
  record "$name" pqflow "$rows" "$csv_bytes" "${#walls[@]}" "$wall_med" "$wall_min" 0 \
    "$(parquet_bytes "$root")" "$(files_of "$root")" "$rss_max" "$status" "$note" "$(du_bytes "$root")" \
    "$(printf '%s\n' "${cpus[@]}" | median)" "$(printf '%s\n' "${others[@]}" | median)"
}

# ---------------------------------------------------------------------------------------------
# Extras: zstd level sweep, does ORDER BY survive PARTITION_BY, shuffled input

extra() { echo "$1" >> "$EXTRAS_JSON"; }

zstd_sweep() {
  local csv=$1 codec level target q bytes
  for target_kind in single partitioned; do
    for codec in "snappy" "zstd 1" "zstd 3" "zstd 9" "zstd 19"; do
      level=${codec#* }; [ "$level" = "$codec" ] && level=""
      local opts="FORMAT parquet, COMPRESSION ${codec%% *}${level:+, COMPRESSION_LEVEL $level}"
      if [ "$target_kind" = single ]; then target="$OUT/x_sweep.parquet"; else
        target="$OUT/x_sweep_dir"; opts="$opts, PARTITION_BY (date)"; fi
      rm -rf "$target"
      if ! "$DUCK" --quiet --threads "$THREADS" --set "temp_directory=$TMPDIR_DUCK" --json "$OUT/logs/sweep.json" \
        "COPY (SELECT * FROM $(read_csv_sql "$csv")) TO '$target' ($opts)" > /dev/null; then
        echo "  sweep $target_kind ${codec}: FAILED, see $OUT/logs/sweep.json" >&2
        continue
      fi
      q=$(duck_field "$OUT/logs/sweep.json" total_seconds); bytes=$(parquet_bytes "$target")
      echo "  sweep $target_kind ${codec}: $bytes bytes, ${q}s" >&2
      extra "{\"extra\": \"compression\", \"layout\": \"$target_kind\", \"codec\": \"${codec%% *}\", \"level\": ${level:-null}, \"rows\": $(rows_of 1e6), \"seconds\": $q, \"bytes\": $bytes}"
      rm -rf "$target"
    done
  done
}

order_check() {  # Does ORDER BY survive PARTITION_BY? Count rows out of order inside each file.
  local csv=$1 target="$OUT/x_order" pio
  for pio in true false; do
    rm -rf "$target"
    "$DUCK" --quiet --threads "$THREADS" --set "preserve_insertion_order=$pio" --set "temp_directory=$TMPDIR_DUCK" \
      --json "$OUT/logs/order_$pio.json" \
      "COPY (SELECT * FROM $(read_csv_sql "$csv") ORDER BY project_slug, id) TO '$target' (FORMAT parquet, COMPRESSION zstd, PARTITION_BY (date))" \
      "WITH t AS (SELECT filename, project_slug, id, lag(project_slug) OVER w AS prev_slug, lag(id) OVER w AS prev_id
         FROM read_parquet('$target/**/*.parquet', filename = true, file_row_number = true)
         WINDOW w AS (PARTITION BY filename ORDER BY file_row_number)),
       bad AS (SELECT filename, project_slug < prev_slug OR (project_slug = prev_slug AND id < prev_id) AS inv FROM t)
       SELECT count(DISTINCT filename) AS files, count(*) FILTER (WHERE inv) AS inversions,
              count(DISTINCT filename) FILTER (WHERE inv) AS files_out_of_order FROM bad" > /dev/null
    local row; row=$(tr -d ' \n' < "$OUT/logs/order_$pio.json" | sed -n 's/.*"rows":\[\["\([0-9]*\)","\([0-9]*\)","\([0-9]*\)"\]\].*/\1 \2 \3/p')
    if [ -z "$row" ]; then echo "  order check failed, see $OUT/logs/order_$pio.json" >&2; continue; fi
    # shellcheck disable=SC2086 # three numbers
    set -- $row
    echo "  ORDER BY project_slug, id + PARTITION_BY (date), preserve_insertion_order=$pio: files=$1 rows out of order=$2 files affected=$3" >&2
    extra "{\"extra\": \"order_by_within_partition_files\", \"preserve_insertion_order\": $pio, \"threads\": $THREADS, \"files\": $1, \"rows_out_of_order\": $2, \"files_out_of_order\": $3}"
  done
  rm -rf "$target"
}

# ---------------------------------------------------------------------------------------------
# Report

print_table() {
  echo "| case | engine | rows | wall s (median of runs) | CPU s (other processes) | rows/s | output bytes | files | output/CSV | peak RSS MiB | status |"
  echo "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|"
  awk -F'\t' '{
      if ($14 == "skipped") { printf "| %s | %s | %s | not yet measured | | | | | | | skipped: %s |\n", $1, $2, $3, $15; next }
      ok = ($14 == "ok")
      note = ok ? "ok" : $14 " after " $6 " s: " substr($15, 1, 110)
      rps = ok ? $9 : "-"
      printf "| %s | %s | %s | %.2f (%s) | %.2f (%.2f) | %s | %s | %s | %.3f | %.0f | %s |\n",
        $1, $2, $3, $6, $5, $17, $18, rps, $10, $11, $12, $13/1024, note
    }' "$TSV"
}

write_json() {
  local json="$OUT/results-export.json" first=1
  {
    echo "{"
    echo "  \"generated_at\": \"$(date -u +%Y-%m-%dT%H:%M:%SZ)\","
    echo "  \"machine\": {\"nproc\": $(nproc), \"mem_total_kib\": $(awk '/MemTotal/ {print $2}' /proc/meminfo),"
    echo "    \"cpu_model\": $(json_str "$(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo)"),"
    echo "    \"kernel\": $(json_str "$(uname -r)"), \"os\": $(json_str "$(sed -n 's/^PRETTY_NAME="\{0,1\}\([^"]*\)"\{0,1\}$/\1/p' /etc/os-release)")},"
    echo "  \"duckdb_version\": $(json_str "$("$DUCK" --quiet --json - "SELECT 1" | sed -n 's/.*"duckdb_version": "\(.*\)",/\1/p')"),"
    echo "  \"loadavg_at_start\": $(json_str "$LOADAVG_AT_START"),"
    echo "  \"settings\": {\"threads\": $THREADS, \"repeat\": $REPEAT, \"seed\": $SEED, \"days\": $DAYS, \"projects\": $PROJECTS,"
    echo "    \"many_timeout_s\": $MANY_TIMEOUT, \"many_rss_limit\": $(json_str "$MANY_RSS_LIMIT"), \"many_vmem_limit_kib\": $MANY_VMEM_LIMIT_KB},"
    echo "  \"cases\": ["
    while IFS=$'\t' read -r name engine rows csv runs wall wmin q rps out files ratio rss status note du cpu other; do
      [ $first = 1 ] || echo ","
      first=0
      [ "$note" = - ] && note=""
      printf '    {"name": "%s", "engine": "%s", "rows": %s, "input_bytes": %s, "runs": %s, "wall_seconds_median": %s, "wall_seconds_min": %s, "cpu_seconds_median": %s, "other_processes_cpu_seconds_median": %s, "duckdb_query_seconds_median": %s, "rows_per_second": %s, "output_bytes": %s, "du_bytes": %s, "output_files": %s, "output_to_input_ratio": %s, "peak_rss_kib": %s, "status": "%s", "note": %s}' \
        "$name" "$engine" "$rows" "$csv" "$runs" "$wall" "$wmin" "$cpu" "$other" "$q" "$rps" "$out" "$du" "$files" "$ratio" "$rss" "$status" "$(json_str "$note")"
    done < "$TSV"
    echo ""
    echo "  ],"
    echo "  \"extras\": ["
    sed '$!s/$/,/; s/^/    /' "$EXTRAS_JSON"
    echo "  ]"
    echo "}"
  } > "$json"
  echo "$json"
}

# ---------------------------------------------------------------------------------------------
# Main

LOADAVG_AT_START=$(cut -d' ' -f1-3 /proc/loadavg)
find_tools
GEN_SHA=$(sha256sum "$BENCH/gen_pageviews.cc" | cut -c1-16)
echo "tools: $GEN, $DUCK; pqflow: $PQFLOW; threads $THREADS, $REPEAT runs per case" >&2

for size in $SIZES; do
  rows=$(rows_of "$size")
  csv="$OUT/pv_$size.csv"
  ensure_input "$csv" "$rows" date
  log "(a) bare DuckDB, $size rows, PARTITION_BY (date)"
  duck_case "duckdb_date_$size" "$csv" "$rows" "$OUT/duck_date_$size" \
    "FORMAT parquet, COMPRESSION zstd, PARTITION_BY (date)"
  duck_case "duckdb_date_keepcols_$size" "$csv" "$rows" "$OUT/duck_date_keep_$size" \
    "FORMAT parquet, COMPRESSION zstd, PARTITION_BY (date), WRITE_PARTITION_COLUMNS true"
  duck_case "duckdb_single_file_$size" "$csv" "$rows" "$OUT/duck_single_$size.parquet" \
    "FORMAT parquet, COMPRESSION zstd"
  log "(b) pqflow, $size rows, one file per date"
  pqflow_case "pqflow_date_$size" pageviews_bench "$csv" "$rows"
  rm -rf "$OUT/duck_date_$size" "$OUT/duck_date_keep_$size" "$OUT/duck_single_$size.parquet" "$OUT/pqflow-data"
done

if [ "$RUN_MANY" = 1 ]; then
  csv="$OUT/pv_1e6.csv"; rows=$(rows_of 1e6)
  ensure_input "$csv" "$rows" date
  log "(c) many partitions: 1e6 rows, PARTITION_BY (project_slug, date); guards: RSS $MANY_RSS_LIMIT, timeout ${MANY_TIMEOUT}s"
  # DuckDB defaults (memory_limit = 80% of RAM). Known to need ~19 GiB: the guard stops it.
  duck_case duckdb_many_defaults "$csv" "$rows" "$OUT/duck_many" \
    "FORMAT parquet, COMPRESSION zstd, PARTITION_BY (project_slug, date)" 1
  duck_case duckdb_many_mem4g "$csv" "$rows" "$OUT/duck_many" \
    "FORMAT parquet, COMPRESSION zstd, PARTITION_BY (project_slug, date)" 1 --memory-limit 4GB
  rm -rf "$OUT/duck_many"
  settle_fs
  duck_case duckdb_many_tuned "$csv" "$rows" "$OUT/duck_many" \
    "FORMAT parquet, COMPRESSION zstd, PARTITION_BY (project_slug, date)" 1 --memory-limit 4GB \
    --set partitioned_write_max_open_files=16 --set partitioned_write_flush_threshold=10000
  rm -rf "$OUT/duck_many" "$OUT/pqflow-data"
  settle_fs
  pqflow_case pqflow_many pageviews_bench_project "$csv" "$rows" 1 "$(many_config)"
  rm -rf "$OUT/pqflow-data"
fi

if [ "$RUN_EXTRAS" = 1 ]; then
  csv="$OUT/pv_1e6.csv"; rows=$(rows_of 1e6)
  ensure_input "$csv" "$rows" date
  log "extras: compression codec and zstd level (1e6 rows, one run each)"
  zstd_sweep "$csv"
  log "extras: does ORDER BY survive PARTITION_BY (date)?"
  order_check "$csv"
  log "extras: shuffled input (dates in random order), PARTITION_BY (date)"
  ensure_input "$OUT/pv_1e6_shuffled.csv" "$rows" shuffled
  duck_case duckdb_date_shuffled_1e6 "$OUT/pv_1e6_shuffled.csv" "$rows" "$OUT/duck_date_shuffled" \
    "FORMAT parquet, COMPRESSION zstd, PARTITION_BY (date)"
  rm -rf "$OUT/duck_date_shuffled"
fi

log "results"
print_table | tee "$OUT/results-export.md"
echo >&2
echo "raw numbers: $(write_json)" >&2
