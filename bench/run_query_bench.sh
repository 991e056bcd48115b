#!/usr/bin/env bash
# Query benchmark (issue #5): `pqflow query` / `pqflow report` against bare DuckDB on the same
# Parquet files, on 1e7 generated pageviews over 90 days. See docs/benchmarks.md ("Query: top
# pages and daily totals").
#
#   bench/run_query_bench.sh                    # about 2 minutes on 2 cores (+1.5 to build the data once)
#   RUNS=5 bench/run_query_bench.sh             # a quick look
#
# Every figure is the whole-process wall time of one command (process start, DuckDB start-up,
# the query, the output), median of RUNS runs after WARMUP runs; the cases run round-robin so
# that a drift in the machine's load spreads over all of them. The peer is
# pqflow-bench-duckdb-query (bench/query_duckdb.cc): one in-memory DuckDB, one SQL statement,
# the row count printed. Layouts (all analytics/pageviews/{YYYY}/{MM}/{DD}/pageviews_{date}.parquet):
#   default   `pqflow export pageviews` with the built-in configuration: input order (the
#             generator's: by date, then id; projects interleaved), zstd
#   sorted    the same with sort_by = ["project_slug", "path"] and row_group_size = 16384 (a
#             copy of examples/pqflow.toml): a project's rows of a day lie in one or two row
#             groups, and DuckDB skips the others by their min/max statistics
#   unsorted  the default files rewritten by DuckDB with ORDER BY random(), one file per day
# Cases (the "what" column of the table says which is which):
#   a  pqflow query: top pages of one project over the last 30 days
#   b  pqflow report top-pages, the same question
#   c  peer, plain glob over every file (DuckDB prunes with the files' own statistics only)
#   d  peer, exactly the files pqflow selects (and d2: with pqflow's view options)
#   e  daily totals of all 90 days: pqflow query, pqflow report, peer glob, peer file list
#   f  top pages on the sorted and unsorted layouts: pqflow and peer glob
#   g  top pages with seed 000's per-project copies beside the daily files (`--per-project`):
#      pqflow (which reads the project's copies), and the peer globbing the project's copies
#   x  fixed costs: SELECT 1 through both, `pqflow --version`, a query pruned to no file
#
# Environment (defaults in brackets):
#   RUNS [15]  WARMUP [2]    measured runs per case, and unmeasured ones before them
#   BUILD_DIR [build]        where pqflow and the bench tools are built (built if missing)
#   PQFLOW [BUILD_DIR/src/cli/pqflow]   GEN, PEER: the generator and the DuckDB peer
#   BENCH_OUT [/tmp/pqflow-query-bench]  inputs, the three roots, logs, results (not the repo)
#   CSV                      a generated 1e7-row CSV to reuse; default: bench/out/pv_1e7.csv
#                            when run_export_bench.sh left one with the same generator
#                            arguments, else BENCH_OUT/pv_1e7.csv (generated once)
#   PROJECT                  the project of the top-pages query [the one with most views]
#   DISTURB_FRAC [0.3]       a run during which other processes used more than 30 ms + this
#                            fraction of its wall time in CPU is discarded and run again (up
#                            to 3 x RUNS attempts per case)
#   FORCE_EXPORT [0]         1: rebuild the roots even when their stamps match
#   TRACE [0]                1: also time the phases of (a) and (d) inside the process with
#                            perf uprobes (root and perf needed; probes are removed after):
#                            median of TRACE_RUNS [7] runs, in BENCH_OUT/phases-query.md;
#                            TRACE_PAIR ["pq_top duck_top_files"]: the two cases traced
#                            (e.g. "pq_daily duck_daily_files")
# Output: a markdown table on stdout; BENCH_OUT/results-query.{tsv,md}, every run in
# BENCH_OUT/runs-query.tsv, logs in BENCH_OUT/logs.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUT="${BENCH_OUT:-/tmp/pqflow-query-bench}"
BUILD_DIR="$(realpath -m "${BUILD_DIR:-$ROOT/build}")"  # absolute: the scripts change directory
PQFLOW="${PQFLOW:-$BUILD_DIR/src/cli/pqflow}"
GEN="${GEN:-$BUILD_DIR/bench/pqflow-gen-pageviews}"
PEER="${PEER:-$BUILD_DIR/bench/pqflow-bench-duckdb-query}"
RUNS="${RUNS:-15}"
WARMUP="${WARMUP:-2}"
DISTURB_FRAC="${DISTURB_FRAC:-0.3}"
FORCE_EXPORT="${FORCE_EXPORT:-0}"
ROWS=10000000 DAYS=90 PROJECTS=2000 SEED=20260115  # run_export_bench.sh's 1e7 input

case "${1:-}" in -h|--help) sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed -n 's/^# \{0,1\}//p'; exit 0 ;; esac
die() { printf 'run_query_bench: %s\n' "$*" >&2; exit 1; }
log() { printf '\n== %s\n' "$*" >&2; }
case "$OUT" in "$ROOT"|"$ROOT"/*) die "BENCH_OUT must be outside the repository" ;; esac
case "$OUT" in *\'*) die "BENCH_OUT must not contain a single quote" ;; esac
[ -x /usr/bin/time ] || die "GNU time (/usr/bin/time, Debian package 'time') is required for peak RSS"
mkdir -p "$OUT/logs"
OUT="$(cd "$OUT" && pwd)"

# ---------------------------------------------------------------------------------------------
# Tools, input, layouts

if [ ! -x "$PQFLOW" ] || [ ! -x "$GEN" ] || [ ! -x "$PEER" ]; then
  [ -f "$BUILD_DIR/CMakeCache.txt" ] || cmake -S "$ROOT" -B "$BUILD_DIR" -G Ninja >&2
  cmake --build "$BUILD_DIR" --target pqflow pqflow-gen-pageviews pqflow-bench-duckdb-query >&2
fi
for t in "$PQFLOW" "$GEN" "$PEER"; do [ -x "$t" ] || die "not found: $t"; done

# pqflow always runs with the built-in configuration (no ./pqflow.toml, no environment), from
# $OUT, with --root naming the layout. Every command runs from there.
unset PQFLOW_CONFIG PQFLOW_ROOT
[ -e "$OUT/pqflow.toml" ] && die "$OUT/pqflow.toml would replace the built-in configuration"
cd "$OUT"
pq() { "$PQFLOW" "$@"; }
GEN_ARGS=(--rows "$ROWS" --days "$DAYS" --projects "$PROJECTS" --seed "$SEED" --order date --format csv)
GEN_STAMP="${GEN_ARGS[*]} gen=$(sha256sum "$ROOT/bench/gen_pageviews.cc" | cut -c1-16)"

input_csv() {
  local c
  for c in ${CSV:+"$CSV"} "$ROOT/bench/out/pv_1e7.csv" "$OUT/pv_1e7.csv"; do
    if [ -f "$c" ] && { [ -n "${CSV:-}" ] || [ "$(cat "$c.stamp" 2>/dev/null)" = "$GEN_STAMP" ]; }; then
      echo "$c"; return
    fi
  done
  echo "generating $OUT/pv_1e7.csv" >&2
  "$GEN" "${GEN_ARGS[@]}" -o "$OUT/pv_1e7.csv.tmp" >&2
  mv "$OUT/pv_1e7.csv.tmp" "$OUT/pv_1e7.csv"
  echo "$GEN_STAMP" > "$OUT/pv_1e7.csv.stamp"
  echo "$OUT/pv_1e7.csv"
}

LAYOUT_DIR=analytics/pageviews
layout_files() { find "$1/$LAYOUT_DIR" -path '*/.*' -prune -o -type f -name 'pageviews_*.parquet' -print | sort; }
fresh() { [ "$FORCE_EXPORT" = 0 ] && [ "$(cat "$1/.bench-stamp" 2>/dev/null)" = "$2" ]; }

export_root() {  # export_root ROOT_DIR [CONFIG [EXPORT_ARGS...]]
  local root=$1 config=${2:-} stamp
  shift; [ $# -gt 0 ] && shift
  stamp="$GEN_STAMP config=${config:+$(sha256sum "$config" | cut -c1-16)}${*:+ args=$*}"
  fresh "$root" "$stamp" && return 0
  echo "exporting into $root${config:+ with $config}" >&2
  rm -rf "$root"
  pq ${config:+--config "$config"} --root "$root" export pageviews --input "$CSV_FILE" --overwrite --quiet "$@" \
    > "$OUT/logs/export_$(basename "$root").log"
  echo "$stamp" > "$root/.bench-stamp"
}

sorted_config() {  # examples/pqflow.toml with sort_by and smaller row groups on the pageviews dataset
  local cfg="$OUT/pqflow_sorted.toml"
  awk '{ print } /^\[datasets\.pageviews\]$/ { print "sort_by = [\"project_slug\", \"path\"]"; print "row_group_size = 16384" }' \
    "$ROOT/examples/pqflow.toml" > "$cfg"
  grep -q '^sort_by' "$cfg" || die "no [datasets.pageviews] in examples/pqflow.toml"
  echo "$cfg"
}

shuffle_root() {  # the default root's files, rows in random order, same names and codec
  local from=$1 root=$2 stamp sql="SELECT setseed(0.5)" f rel
  stamp="$(cat "$from/.bench-stamp") shuffled"
  fresh "$root" "$stamp" && return 0
  echo "writing the unsorted copy into $root" >&2
  rm -rf "$root"
  while read -r f; do
    rel=${f#"$from"/}
    mkdir -p "$root/$(dirname "$rel")"
    sql+="; COPY (SELECT * FROM read_parquet('$f') ORDER BY random()) TO '$root/$rel' (FORMAT parquet, COMPRESSION zstd)"
  done < <(layout_files "$from")
  "$PEER" "$sql" > /dev/null
  echo "$stamp" > "$root/.bench-stamp"
}

# ---------------------------------------------------------------------------------------------
# Measurement

machine_busy_s() { awk '/^cpu / { print ($2 + $3 + $4 + $7 + $8 + $9) / 100; exit }' /proc/stat; }
TIMEFORMAT='%3U %3S'

CASE_NAMES=()
CASE_WHAT=()
CASE_ROWS=()
declare -A CASE_CMD CASE_FILES
# add_case NAME EXPECTED_ROWS FILES_READ WHAT -- cmd...  (pqflow's CSV has a header line: rows + 1)
add_case() {
  local name=$1 rows=$2 files=$3 what=$4; shift 5
  CASE_NAMES+=("$name"); CASE_ROWS+=("$rows"); CASE_WHAT+=("$what"); CASE_FILES[$name]=$files
  CASE_CMD[$name]=$(printf '%q ' "$@")
}

# run_once NAME -> sets WALL_MS CPU_MS OTHER_MS, checks the exit status and the row count.
run_once() {
  local name=$1 idx=$2 out="$OUT/logs/$1.out" err="$OUT/logs/$1.err" b0 b1 t0 t1 cpu
  b0=$(machine_busy_s)
  t0=$EPOCHREALTIME
  { time eval "${CASE_CMD[$name]}" > "$out" 2> "$err"; } 2> "$OUT/logs/$name.time" ||
    die "$name failed: $(head -c 400 "$err")"
  t1=$EPOCHREALTIME
  b1=$(machine_busy_s)
  cpu=$(awk '{ printf "%.0f", ($1 + $2) * 1000 }' "$OUT/logs/$name.time")
  WALL_MS=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", (b - a) * 1000 }')
  CPU_MS=$cpu
  OTHER_MS=$(awk -v a="$b0" -v b="$b1" -v c="$cpu" 'BEGIN { o = (b - a) * 1000 - c; printf "%.0f", (o < 0 ? 0 : o) }')
  local got want=${CASE_ROWS[$idx]}
  case "$name" in pq_*) got=$(($(wc -l < "$out") - 1)) ;; *) got=$(cat "$out") ;; esac
  [ "$got" = "$want" ] || die "$name returned $got rows, expected $want (see $out)"
}

median() { sort -g | awk '{a[NR]=$1} END {if (NR==0) print 0; else if (NR%2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}'; }

measure_all() {
  local RUNS_TSV="$OUT/runs-query.tsv" round i name need=1
  : > "$RUNS_TSV"
  declare -gA KEPT DISCARDED
  for name in "${CASE_NAMES[@]}"; do KEPT[$name]=0; DISCARDED[$name]=0; done
  for ((round = 1; need && round <= WARMUP + 3 * RUNS; round++)); do
    need=0
    for i in "${!CASE_NAMES[@]}"; do
      name=${CASE_NAMES[$i]}
      [ "${KEPT[$name]}" -ge "$RUNS" ] && continue
      run_once "$name" "$i"
      if [ "$round" -le "$WARMUP" ]; then continue; fi
      if awk -v o="$OTHER_MS" -v w="$WALL_MS" -v f="$DISTURB_FRAC" 'BEGIN { exit !(o > 30 + f * w) }'; then
        DISCARDED[$name]=$((DISCARDED[$name] + 1))
        printf '%s\t%s\t%s\t%s\tdiscarded\n' "$name" "$WALL_MS" "$CPU_MS" "$OTHER_MS" >> "$RUNS_TSV"
      else
        KEPT[$name]=$((KEPT[$name] + 1))
        printf '%s\t%s\t%s\t%s\tkept\n' "$name" "$WALL_MS" "$CPU_MS" "$OTHER_MS" >> "$RUNS_TSV"
      fi
      if [ "${KEPT[$name]}" -lt "$RUNS" ]; then need=1; fi
    done
    if [ "$round" -le "$WARMUP" ]; then need=1; fi
    printf '  round %d done, load %s\n' "$round" "$(cut -d' ' -f1-3 /proc/loadavg)" >&2
  done
}

stat_of() {  # stat_of NAME FIELD(2 wall, 3 cpu) median|min; all runs if none was kept
  local vals; vals=$(awk -F'\t' -v n="$1" -v f="$2" '$1 == n && $5 == "kept" { print $f }' "$OUT/runs-query.tsv")
  [ -n "$vals" ] || vals=$(awk -F'\t' -v n="$1" -v f="$2" '$1 == n { print $f }' "$OUT/runs-query.tsv")
  if [ "$3" = min ]; then printf '%s\n' "$vals" | sort -g | head -1; else printf '%s\n' "$vals" | median; fi
}

peak_rss_mib() {  # largest peak RSS of 3 runs of a case
  local name=$1 max=0 r i
  for i in 1 2 3; do
    eval "/usr/bin/time -v -o '$OUT/logs/$name.rss' ${CASE_CMD[$name]}" > /dev/null 2>&1
    r=$(awk -F': ' '/Maximum resident set size/ { print $2 }' "$OUT/logs/$name.rss")
    if [ "$r" -gt "$max" ]; then max=$r; fi
  done
  awk -v k="$max" 'BEGIN { printf "%.0f", k / 1024 }'
}

# ---------------------------------------------------------------------------------------------
# Phases (TRACE=1): uprobes on pqflow's steps and on DuckDB's C API, one timeline per run.

PROBES_ADDED=0
remove_probes() { if [ "$PROBES_ADDED" = 1 ]; then perf probe -q -d 'pqtrace:*' 2> /dev/null || true; fi; }
trap remove_probes EXIT

add_probes() {
  local duck; duck=$(ldd "$PEER" | awk '/libduckdb/ { print $3 }')
  remove_probes; PROBES_ADDED=1
  perf probe -q -x "$duck" -a 'pqtrace:dq=duckdb_query q=+0(%si):string' -a 'pqtrace:dq_ret=duckdb_query%return' \
    -a 'pqtrace:open=duckdb_open_ext' -a 'pqtrace:open_ret=duckdb_open_ext%return'
  perf probe -q -x "$PEER" -a 'pqtrace:peer_main=main'
  perf probe -q -x "$PQFLOW" -a 'pqtrace:pq_main=main'
  local fn sym probe
  # name=pattern: the listing is timed on the storage's ListWhere (ListLayoutFiles is inlined).
  for probe in OpenSession=OpenSession CheckReadOnlyQuery=CheckReadOnlyQuery \
               ExtractPartitionPredicates=ExtractPartitionPredicates ListLayoutFiles=LocalStorage9ListWhere; do
    fn=${probe%%=*}
    sym=$(nm "$PQFLOW" | awk -v f="${probe#*=}" '$2 ~ /^[tT]$/ && $3 ~ f && $3 !~ /\.cold$/ && $3 ~ /^_ZN/ && !s { s = $3 } END { print s }')
    [ -n "$sym" ] || die "no symbol ${probe#*=} in $PQFLOW (TRACE needs an unstripped build)"
    perf probe -q -x "$PQFLOW" --no-demangle -a "pqtrace:$fn=$sym" -a "pqtrace:${fn}_ret=$sym%return"
  done
}

# One run under perf -> "phase ms" lines. Phases: start (exec to main), config, duckdb_open,
# lockdown, parse (json_serialize_sql, read-only check, partition predicates), listing (the
# layout's files), partition_table (predicate over one row per file), view (CREATE VIEW binds
# the files), describe, query (the query and its output), exit. Since session 11 pqflow lists
# files on a second thread while DuckDB opens: listing then lies inside duckdb_open, and
# partition_table is not a phase of its own.
trace_phases() {
  perf record -q -o "$OUT/logs/trace.data" -e 'pqtrace:*' -e sched:sched_process_exec -e sched:sched_process_exit \
    -- "$@" > /dev/null 2>&1 || die "traced run failed: $*"
  perf script -i "$OUT/logs/trace.data" -F time,event,trace 2> /dev/null | awk '
    { t = $1 + 0; ev = $2; sub(/:$/, "", ev); sub(/^[a-z_]*:/, "", ev); sub(/__return$/, "", ev); line = $0 }
    ev == "sched_process_exec" && !exec { exec = t }
    (ev == "pq_main" || ev == "peer_main") && !main { main = t }
    ev == "open" && !open0 { open0 = t }
    ev == "open_ret" && !open1 { open1 = t }
    ev == "OpenSession_ret" { sess = t }
    ev == "CheckReadOnlyQuery" && !parse0 { parse0 = t }
    ev == "ExtractPartitionPredicates_ret" { parse1 = t }
    ev == "ListLayoutFiles" && !list0 { list0 = t }
    ev == "ListLayoutFiles_ret" { list1 = t }
    ev == "dq" { last_q = line; q0 = t
                 if (line ~ /CREATE OR REPLACE TEMP VIEW/) view0 = t
                 if (line ~ /q="DESCRIBE /) desc0 = t }
    ev == "dq_ret" { if (q0 == view0) view1 = t; qret = t; qstart = q0 }
    ev == "sched_process_exit" { exit_t = t }
    END {
      ms = 1000
      printf "start %.2f\n", (main - exec) * ms
      printf "config %.2f\n", (open0 - main) * ms
      printf "duckdb_open %.2f\n", (open1 - open0) * ms
      if (sess) {
        printf "lockdown %.2f\n", (sess - open1) * ms
        printf "parse %.2f\n", (parse1 - parse0) * ms
        printf "listing %.2f\n", (list1 - list0) * ms
        printf "partition_table %.2f\n", (view0 - list1) * ms
        printf "view %.2f\n", (view1 - view0) * ms
        printf "describe %.2f\n", (qstart - view1) * ms
      } else {
        printf "set_timezone %.2f\n", (qstart - open1) * ms
      }
      printf "query %.2f\n", (qret - qstart) * ms
      printf "exit %.2f\n", (exit_t - qret) * ms
      printf "total %.2f\n", (exit_t - exec) * ms
    }'
}

trace_case() {  # trace_case NAME -> markdown rows "| phase | median ms |" for the case
  local name=$1 i
  : > "$OUT/logs/phases.$name"
  for ((i = 0; i < ${TRACE_RUNS:-7}; i++)); do
    eval "trace_phases ${CASE_CMD[$name]}" >> "$OUT/logs/phases.$name"
  done
  local phase
  for phase in $(awk '!seen[$1]++ { print $1 }' "$OUT/logs/phases.$name"); do
    printf '%s %.1f\n' "$phase" "$(awk -v p="$phase" '$1 == p { print $2 }' "$OUT/logs/phases.$name" | median)"
  done
}

# ---------------------------------------------------------------------------------------------
# Main

CSV_FILE=$(input_csv)
echo "input: $CSV_FILE; pqflow: $PQFLOW; peer: $PEER; $RUNS runs after $WARMUP warm-ups" >&2
log "layouts"
DEF="$OUT/root-default" SORTED="$OUT/root-sorted" UNSORTED="$OUT/root-unsorted" SPLIT="$OUT/root-split"
export_root "$DEF"
export_root "$SORTED" "$(sorted_config)"
shuffle_root "$DEF" "$UNSORTED"
export_root "$SPLIT" "" --per-project  # seed 000's per-project copies beside the daily files

LAST=$(pq --root "$DEF" query --format csv "SELECT max(date) FROM pageviews" | tail -1)
SINCE=$(date -u -d "$LAST -29 days" +%F)
PROJECT=${PROJECT:-$(pq --root "$DEF" query --format csv \
  "SELECT project_slug FROM pageviews GROUP BY 1 ORDER BY sum(view_count) DESC LIMIT 1" | tail -1)}
echo "top pages of '$PROJECT' from $SINCE to $LAST" >&2

top_sql() {  # top_sql FROM
  echo "SELECT path, sum(view_count) AS views FROM $1 WHERE project_slug = '$PROJECT' AND date BETWEEN DATE '$SINCE' AND DATE '$LAST' GROUP BY path ORDER BY views DESC LIMIT 10"
}
daily_sql() { echo "SELECT date, sum(view_count) AS views FROM $1 GROUP BY date ORDER BY date"; }
glob_of() { echo "read_parquet('$1/$LAYOUT_DIR/*/*/*/*.parquet')"; }
list_of() {  # list_of ROOT SINCE LAST -> a DuckDB list literal of the files of those days
  layout_files "$1" | awk -v s="$2" -v l="$3" '{
      d = $0; sub(/.*pageviews_/, "", d); d = substr(d, 1, 10)
      if (d >= s && d <= l) printf "%s'"'"'%s'"'"'", (n++ ? ", " : ""), $0 }'
}

# pqflow's own choice of files, to check it is the list the peer reads.
EXPLAIN=$(pq --root "$DEF" query --explain "$(top_sql pageviews)" | head -1)
echo "pqflow --explain: $EXPLAIN" >&2
PQ_FILES=$(sed -n 's/^pageviews: \([0-9]*\) of \([0-9]*\) files.*/\1/p' <<< "$EXPLAIN")
ALL_FILES=$(layout_files "$DEF" | wc -l)
LIST30=$(list_of "$DEF" "$SINCE" "$LAST")
LIST_N=$(grep -o "'" <<< "$LIST30" | wc -l); LIST_N=$((LIST_N / 2))
[ "$PQ_FILES" = "$LIST_N" ] || echo "WARNING: pqflow selects $PQ_FILES files, the peer list has $LIST_N" >&2
LIST_ALL=$(list_of "$DEF" 0000-00-00 9999-99-99)
REPORT_ARGS=(--project "$PROJECT" --since "$SINCE" --until "$LAST" --format csv)

add_case pq_top 10 "$PQ_FILES" "a: pqflow query, top pages" -- \
  "$PQFLOW" --root "$DEF" query --format csv "$(top_sql pageviews)"
add_case pq_top_report 10 "$PQ_FILES" "b: pqflow report top-pages" -- \
  "$PQFLOW" --root "$DEF" report top-pages "${REPORT_ARGS[@]}"
add_case duck_top_glob 10 "$ALL_FILES (glob)" "c: DuckDB, plain glob" -- "$PEER" "$(top_sql "$(glob_of "$DEF")")"
add_case duck_top_files 10 "$LIST_N" "d: DuckDB, the files pqflow selects" -- \
  "$PEER" "$(top_sql "read_parquet([$LIST30])")"
add_case duck_top_files_view 10 "$LIST_N" "d2: DuckDB, same files, pqflow's view options" -- \
  "$PEER" "$(top_sql "read_parquet([$LIST30], hive_partitioning = false, union_by_name = true)")"
add_case pq_daily "$DAYS" "$ALL_FILES" "e: pqflow query, daily totals" -- \
  "$PQFLOW" --root "$DEF" query --format csv "$(daily_sql pageviews)"
add_case pq_daily_report "$DAYS" "$ALL_FILES" "e: pqflow report daily-totals" -- \
  "$PQFLOW" --root "$DEF" report daily-totals --format csv
add_case duck_daily_glob "$DAYS" "$ALL_FILES (glob)" "e: DuckDB, plain glob" -- "$PEER" "$(daily_sql "$(glob_of "$DEF")")"
add_case duck_daily_files "$DAYS" "$ALL_FILES" "e: DuckDB, file list" -- \
  "$PEER" "$(daily_sql "read_parquet([$LIST_ALL])")"
add_case pq_top_sorted 10 "$PQ_FILES" "f: pqflow query, sorted layout" -- \
  "$PQFLOW" --root "$SORTED" query --format csv "$(top_sql pageviews)"
add_case duck_top_glob_sorted 10 "$ALL_FILES (glob)" "f: DuckDB glob, sorted layout" -- \
  "$PEER" "$(top_sql "$(glob_of "$SORTED")")"
add_case pq_top_unsorted 10 "$PQ_FILES" "f: pqflow query, unsorted layout" -- \
  "$PQFLOW" --root "$UNSORTED" query --format csv "$(top_sql pageviews)"
add_case duck_top_glob_unsorted 10 "$ALL_FILES (glob)" "f: DuckDB glob, unsorted layout" -- \
  "$PEER" "$(top_sql "$(glob_of "$UNSORTED")")"
add_case pq_top_split 10 "$PQ_FILES" "g: pqflow query, top pages, with the per-project copies" -- \
  "$PQFLOW" --root "$SPLIT" query --format csv "$(top_sql pageviews)"
add_case duck_top_glob_split 10 "$ALL_FILES (glob)" "g: DuckDB glob of the project's copies" -- \
  "$PEER" "$(top_sql "read_parquet('$SPLIT/$LAYOUT_DIR/project/$PROJECT/*/*/*/*.parquet')")"
add_case pq_select1 1 0 "x: pqflow query SELECT 1" -- "$PQFLOW" --root "$DEF" query --format csv "SELECT 1"
add_case duck_select1 1 0 "x: DuckDB SELECT 1" -- "$PEER" "SELECT 1"
add_case pq_version 0 0 "x: pqflow --version (no DuckDB opened)" -- "$PQFLOW" --version
add_case pq_pruned_empty 0 0 "x: pqflow query pruned to no file" -- \
  "$PQFLOW" --root "$DEF" query --format csv "SELECT path FROM pageviews WHERE date = DATE '1999-01-01'"

LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
log "measuring (load average $LOAD_BEFORE)"
measure_all
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)
log "peak RSS (3 runs each, under /usr/bin/time -v)"
RSS_PQ=$(peak_rss_mib pq_top); RSS_DUCK=$(peak_rss_mib duck_top_files); RSS_GLOB=$(peak_rss_mib duck_top_glob)

if [ "${TRACE:-0}" = 1 ]; then
  log "phases (perf uprobes, median of ${TRACE_RUNS:-7} runs)"
  add_probes
  {
    read -r trace_pq trace_peer <<< "${TRACE_PAIR:-pq_top duck_top_files}"
    echo "| phase | $trace_pq ms | $trace_peer ms |"
    echo "|---|---:|---:|"
    trace_case "$trace_pq" > "$OUT/logs/phases.pq.med"
    trace_case "$trace_peer" > "$OUT/logs/phases.duck.med"
    awk 'NR == FNR { d[$1] = $2; next } { printf "| %s | %s | %s |\n", $1, $2, ($1 in d) ? d[$1] : "" }' \
      "$OUT/logs/phases.duck.med" "$OUT/logs/phases.pq.med"
  } | tee "$OUT/phases-query.md"
  remove_probes
fi

# ---------------------------------------------------------------------------------------------
# Report

ms() { stat_of "$1" 2 median; }
ratio() { awk -v a="$(ms "$1")" -v b="$(ms "$2")" 'BEGIN { printf "%.2fx", (b > 0 ? a / b : 0) }'; }
{
  echo "Top pages of '$PROJECT' from $SINCE to $LAST; daily totals of all $DAYS days. $RUNS runs after $WARMUP"
  echo "warm-ups, round-robin; load average $LOAD_BEFORE before, $LOAD_AFTER after. Peak RSS (max of 3 runs):"
  echo "pqflow (a) $RSS_PQ MiB, DuckDB (d) $RSS_DUCK MiB, DuckDB (c) $RSS_GLOB MiB. pqflow --explain: $EXPLAIN"
  echo
  echo "| case | files read | median ms | min ms | CPU ms (median) | runs kept (discarded) |"
  echo "|---|---:|---:|---:|---:|---:|"
  for name in "${CASE_NAMES[@]}"; do
    for i in "${!CASE_NAMES[@]}"; do if [ "${CASE_NAMES[$i]}" = "$name" ]; then what=${CASE_WHAT[$i]}; fi; done
    printf '| %s | %s | %.1f | %.1f | %.0f | %s (%s) |\n' "$what" "${CASE_FILES[$name]}" "$(ms "$name")" \
      "$(stat_of "$name" 2 min)" "$(stat_of "$name" 3 median)" "${KEPT[$name]}" "${DISCARDED[$name]}"
  done
  echo
  echo "| ratio | value |"
  echo "|---|---:|"
  echo "| (a) pqflow query / (d) DuckDB on the same files | $(ratio pq_top duck_top_files) |"
  echo "| (a) pqflow query / (d2) DuckDB, same files and view options | $(ratio pq_top duck_top_files_view) |"
  echo "| (b) pqflow report / (d) DuckDB on the same files | $(ratio pq_top_report duck_top_files) |"
  echo "| (a) pqflow query / (c) DuckDB plain glob | $(ratio pq_top duck_top_glob) |"
  echo "| (e) pqflow daily totals / DuckDB glob | $(ratio pq_daily duck_daily_glob) |"
  echo "| (e) pqflow daily totals / DuckDB file list | $(ratio pq_daily duck_daily_files) |"
  echo "| (f) pqflow sorted / pqflow default layout | $(ratio pq_top_sorted pq_top) |"
  echo "| (f) pqflow unsorted / pqflow default layout | $(ratio pq_top_unsorted pq_top) |"
  echo "| (g) pqflow with the per-project copies / (d) DuckDB on the daily files | $(ratio pq_top_split duck_top_files) |"
  echo "| (g) pqflow with the per-project copies / DuckDB glob of the copies | $(ratio pq_top_split duck_top_glob_split) |"
  echo "| (x) pqflow SELECT 1 / DuckDB SELECT 1 | $(ratio pq_select1 duck_select1) |"
} | tee "$OUT/results-query.md"
for name in "${CASE_NAMES[@]}"; do
  printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$name" "$(ms "$name")" "$(stat_of "$name" 2 min)" "$(stat_of "$name" 3 median)" \
    "${KEPT[$name]}" "${DISCARDED[$name]}"
done > "$OUT/results-query.tsv"
echo "every run: $OUT/runs-query.tsv" >&2
