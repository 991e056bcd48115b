#!/usr/bin/env bash
# `make demo`: generate a small, realistic pageview export (3 days, 200 projects), convert it
# into the seed 000 layout with per-project copies, and answer the seed's two questions.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PQFLOW="${PQFLOW:-$ROOT/build/src/cli/pqflow}"
GEN="$(dirname "$(dirname "$(dirname "$PQFLOW")")")/bench/pqflow-gen-pageviews"
DEMO="$ROOT/demo"
mkdir -p "$DEMO/input"
INPUT="$DEMO/input/pageviews.csv"
[ -f "$INPUT" ] || "$GEN" --rows 60000 --days 3 --end-date 2026-01-15 --projects 200 --seed 7 -o "$INPUT"

echo "== pqflow export pageviews  (input: $(du -h "$INPUT" | cut -f1) of CSV, $(($(wc -l < "$INPUT") - 1)) rows)"
set +e
"$PQFLOW" --root "$DEMO/data" export pageviews --input "$INPUT" --split-by project --quiet |
  grep -v '^export:parquet file=analytics/pageviews/project/' 
rc=${PIPESTATUS[0]}
set -e
[ "$rc" -eq 0 ] || { echo "demo: export failed with exit status $rc" >&2; exit "$rc"; }
echo "(per-project copies: $(find "$DEMO/data/analytics/pageviews/project" -name '*.parquet' | wc -l) files under $DEMO/data/analytics/pageviews/project/)"

echo
echo "== top pages of the most viewed project since 2026-01-13"
"$PQFLOW" --root "$DEMO/data" query --format table "
  WITH top AS (SELECT project_slug FROM pageviews GROUP BY 1 ORDER BY sum(view_count) DESC LIMIT 1)
  SELECT project_slug, path, sum(view_count) AS views
  FROM pageviews WHERE project_slug = (SELECT project_slug FROM top) AND date >= DATE '2026-01-13'
  GROUP BY ALL ORDER BY views DESC, path LIMIT 10"

echo
echo "== daily totals"
"$PQFLOW" --root "$DEMO/data" query --format table \
  "SELECT date, count(*) AS rows, sum(view_count) AS views, count(DISTINCT project_slug) AS projects
   FROM pageviews GROUP BY date ORDER BY date"

echo
echo "== integrity"
"$PQFLOW" --root "$DEMO/data" validate pageviews
