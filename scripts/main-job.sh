#!/usr/bin/env bash
# The README's main job, after the build: detect the machine, measure its roofline, benchmark, and summarise.
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
echo "== summary of the latest results in $db"
"$accel" db query --db "$db" --format markdown "
  SELECT r.model_name AS model, r.scenario, r.device, r.n_prompt, r.n_gen, r.n_threads,
         round(r.avg_ts, 2) AS avg_ts, round(r.stddev_ts, 2) AS stddev_ts, round(r.p99_ns / 1e6, 2) AS p99_ms, r.valid
  FROM results r
  WHERE r.run_id = (SELECT id FROM runs WHERE command LIKE 'accel bench%' ORDER BY started_at DESC LIMIT 1)
  ORDER BY r.created_at"
echo
echo "The HTML report (accel report) is not built yet; the results above are in $db."
