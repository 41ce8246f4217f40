#!/usr/bin/env bash
# The README's main job, after the build: detect the machine, measure its roofline, benchmark, summarise, and
# write the HTML report (its path is the last line printed).
# Usage: scripts/main-job.sh path/to/accel
set -euo pipefail
accel=${1:?usage: scripts/main-job.sh path/to/accel}
db="${ACCEL_DB:-${ACCEL_DATA_DIR:-$HOME/.local/share/accel}/results.duckdb}"

"$accel" version
echo
echo "== detect (inventory and measured roofline; cached per machine)"
"$accel" detect --measure
echo
echo "== bench: the default suite (synthetic models have RANDOM WEIGHTS: their speed is real, their text is not)"
"$accel" bench --db "$db"
echo
run=$("$accel" db query --db "$db" --format csv \
  "SELECT id FROM runs WHERE coalesce(json_extract_string(extra, '\$.command_summary'), command) LIKE 'accel bench%'
   ORDER BY started_at DESC LIMIT 1" | tail -n +2)
[ -n "$run" ] || { echo "main-job: no accel bench run found in $db" >&2; exit 1; }
echo "== summary of the latest bench run ($run) in $db"
"$accel" report --db "$db" --run "$run" --format markdown
echo
# The HTML report covers every run in the database; it is one self-contained file (works offline).
out="${ACCEL_REPORT:-$(cd "$(dirname "$accel")" && pwd)/../../accel-report.html}"
echo "== HTML report"
"$accel" report --db "$db" --out "$out"
