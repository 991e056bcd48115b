#!/usr/bin/env bash
# PostgreSQL export benchmark (issue #3): a pageviews table of ROWS rows over 90 days in a
# private PostgreSQL 15 server, exported three ways with the seed 000 query (joins included):
#   (a) the physical limit: COPY (...) TO STDOUT (FORMAT binary) through psql into /dev/null
#   (b) the two-step pipeline a user would script: psql \copy to CSV, then DuckDB CSV -> Parquet
#       partitioned by date (zstd)
#   (c) pqflow export --from --to over the same days (zstd, one file per day, manifests, fsync)
#   (d) with HISTORICAL=1: pqflow export --historical, the same days one transaction each
# Reported: wall seconds, rows/s, MB/s of binary COPY data, peak RSS. REPEAT runs, median.
#
# Usage: bench/run_pg_bench.sh            (ROWS=1e7 REPEAT=3 by default)
#        ROWS=1e6 REPEAT=1 bench/run_pg_bench.sh   # a quick look
# Must run as root (the server runs as the 'postgres' user) on a quiet machine.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUT="${BENCH_OUT:-$ROOT/bench/out}/pg"
BUILD_DIR="$(realpath -m "${BUILD_DIR:-$ROOT/build}")"  # absolute: the scripts change directory
PQFLOW="${PQFLOW:-$BUILD_DIR/src/cli/pqflow}"
DUCK="${DUCK:-$BUILD_DIR/bench/pqflow-bench-duckdb}"
PGBIN="${PQFLOW_PG_BIN:-/usr/lib/postgresql/15/bin}"
ROWS="$(printf '%.0f' "${ROWS:-1e7}")"
REPEAT="${REPEAT:-3}"
PORT="${PORT:-54329}"

log() { printf '\n== %s\n' "$*" >&2; }
die() { printf 'run_pg_bench: %s\n' "$*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || die "run as root (the server runs as user postgres)"
id postgres >/dev/null 2>&1 || die "no 'postgres' user: install postgresql-15 (scripts/bootstrap.sh)"
[ -x "$PQFLOW" ] && [ -x "$DUCK" ] || die "build first: make (needs $PQFLOW and $DUCK)"

rm -rf "$OUT"
mkdir -p "$OUT/logs"
chown postgres "$OUT"
PGDATA="$OUT/pgdata"
runuser -u postgres -- "$PGBIN/initdb" -D "$PGDATA" -A trust -U postgres -E UTF8 --locale=C >"$OUT/logs/initdb.log"
runuser -u postgres -- "$PGBIN/postgres" -D "$PGDATA" -p "$PORT" -k "$OUT" -c listen_addresses=127.0.0.1 \
  -c fsync=off -c full_page_writes=off -c shared_buffers=1GB -c dynamic_shared_memory_type=mmap >"$OUT/logs/postgres.log" 2>&1 &
PG_PID=$!
stop_server() {
  runuser -u postgres -- "$PGBIN/pg_ctl" -D "$PGDATA" -m fast -w stop >/dev/null 2>&1 || kill -KILL "$PG_PID" 2>/dev/null || true
  wait "$PG_PID" 2>/dev/null || true
}
trap stop_server EXIT
for _ in $(seq 100); do "$PGBIN/pg_isready" -q -h 127.0.0.1 -p "$PORT" -U postgres && break; sleep 0.2; done
export PGHOST=127.0.0.1 PGPORT="$PORT" PGUSER=postgres PGDATABASE=postgres
PSQL=(psql -X -q -v ON_ERROR_STOP=1)

log "loading $ROWS pageviews over 90 days"
"${PSQL[@]}" <<SQL
CREATE TABLE organizations_organization (id serial PRIMARY KEY, slug text NOT NULL);
CREATE TABLE projects_project (id serial PRIMARY KEY, slug text NOT NULL, organization_id int);
CREATE TABLE builds_version (id serial PRIMARY KEY, slug text NOT NULL);
CREATE TABLE analytics_pageview (id bigserial PRIMARY KEY, project_id int NOT NULL, version_id int, path text NOT NULL,
  full_path text NOT NULL, view_count int NOT NULL, date date NOT NULL, status smallint NOT NULL);
INSERT INTO organizations_organization (slug) SELECT 'org-' || i FROM generate_series(1, 50) i;
INSERT INTO projects_project (slug, organization_id)
  SELECT 'project-' || i, CASE WHEN i % 3 = 0 THEN NULL ELSE 1 + i % 50 END FROM generate_series(1, 2000) i;
INSERT INTO builds_version (slug) SELECT CASE WHEN i = 1 THEN 'latest' ELSE 'v' || i END FROM generate_series(1, 20) i;
INSERT INTO analytics_pageview (project_id, version_id, path, full_path, view_count, date, status)
  SELECT (1 + (i * 7919) % 2000)::int, CASE WHEN i % 11 = 0 THEN NULL ELSE (1 + i % 20)::int END, '/en/latest/page-' || (i % 5000) || '.html',
         'https://docs.example.org/en/latest/page-' || (i % 5000) || '.html?utm=' || (i % 97), (1 + i % 13)::int,
         DATE '2025-10-01' + (i % 90)::int, CASE WHEN i % 50 = 0 THEN 404 ELSE 200 END
  FROM generate_series(1::bigint, $ROWS) i;
CREATE INDEX ON analytics_pageview (date);
VACUUM ANALYZE;
SQL

QUERY="SELECT pv.id, pv.project_id, p.slug AS project_slug, pv.version_id, v.slug AS version_slug, pv.path, pv.full_path,
 pv.view_count, pv.date, pv.status FROM analytics_pageview pv JOIN projects_project p ON p.id = pv.project_id
 LEFT JOIN builds_version v ON v.id = pv.version_id WHERE pv.date BETWEEN '2025-10-01' AND '2025-12-29'"
QUERY1="${QUERY//$'\n'/ }"

# The pqflow config: the seed example with this server and a scratch root.
CFG="$OUT/pageviews_pg.toml"
sed -e "s#^root = .*#root = \"$OUT/pqflow-data\"#" -e 's#^compression = .*#compression = "zstd"#' \
  "$ROOT/examples/pageviews_postgres.toml" >"$CFG"

timed() {  # name, command...: appends "name wall_s rss_kib" to results
  local name=$1; shift
  # The previous case's output (1.6 GB of CSV and Parquet for 1e7 rows) would otherwise still
  # be written back while this one runs, and slow whichever case comes next.
  sync
  /usr/bin/time -f '%e %M' -o "$OUT/logs/$name.time" "$@" >"$OUT/logs/$name.out" 2>"$OUT/logs/$name.err" ||
    { cat "$OUT/logs/$name.err" >&2; die "$name failed"; }
  echo "$name $(cat "$OUT/logs/$name.time")" >>"$OUT/results.txt"
}
: >"$OUT/results.txt"
BIN_BYTES=$("${PSQL[@]}" -c "COPY ($QUERY1) TO STDOUT (FORMAT binary)" | wc -c)

for run in $(seq "$REPEAT"); do
  log "run $run/$REPEAT: (a) binary COPY to /dev/null"
  timed copy_binary bash -c "psql -X -c \"COPY ($QUERY1) TO STDOUT (FORMAT binary)\" > /dev/null"
  log "run $run/$REPEAT: (b) psql \\copy to CSV, then DuckDB to Parquet"
  rm -f "$OUT/pv.csv"; rm -rf "$OUT/duck_out"
  timed two_step bash -c "psql -X -c \"\\copy ($QUERY1) TO '$OUT/pv.csv' WITH (FORMAT csv, HEADER)\" &&
    '$DUCK' -q -t $(nproc) -m 2GB \"COPY (SELECT * FROM read_csv('$OUT/pv.csv', header = true)) TO '$OUT/duck_out'
      (FORMAT parquet, COMPRESSION zstd, PARTITION_BY (date))\""
  log "run $run/$REPEAT: (c) pqflow export"
  rm -rf "$OUT/pqflow-data"
  timed pqflow "$PQFLOW" --config "$CFG" export pageviews --from 2025-10-01 --to 2025-12-29 --quiet
  if [ "${HISTORICAL:-0}" = 1 ]; then
    log "run $run/$REPEAT: (d) pqflow export --historical"
    rm -rf "$OUT/pqflow-data"
    timed pqflow_historical "$PQFLOW" --config "$CFG" export pageviews --historical --quiet
  fi
done

{
  echo "rows=$ROWS binary_copy_bytes=$BIN_BYTES repeat=$REPEAT"
  echo "case median_wall_s rows_per_s MB_per_s max_rss_MiB"
  for c in copy_binary two_step pqflow $([ "${HISTORICAL:-0}" = 1 ] && echo pqflow_historical); do
    med=$(awk -v c="$c" '$1 == c { print $2 }' "$OUT/results.txt" | sort -g |
      awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }')
    rss=$(awk -v c="$c" '$1 == c && $3 > r { r = $3 } END { print r }' "$OUT/results.txt")
    awk -v c="$c" -v m="$med" -v r="$rss" -v rows="$ROWS" -v bytes="$BIN_BYTES" \
      'BEGIN { printf "%s %.2f %.0f %.1f %.0f\n", c, m, rows / m, bytes / m / 1e6, r / 1024 }'
  done
} | tee "$OUT/summary.txt"
