#!/usr/bin/env bash
# Draws docs/memory/demo-4-meters-rss.svg from the CSV files beside it and prints each series' mean and maximum
# after the first minute.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
python3 "$root/tests/Benchmarks/memory/plot-rss.py" "$here/demo-4-meters-rss.svg" \
  "edgemeter demo --meters 4 (agent + broker + ledger)=$here/demo-4-meters-rss.csv" \
  "agent alone (demo --no-ledger)=$here/agent-4-meters-rss.csv" \
  "ledger alone (edgemeter ledger)=$here/ledger-rss.csv" \
  "Node-RED, 4 Modbus TCP meters=$here/nodered-4-meters-rss.csv"
for csv in "$here"/*.csv; do
  awk -F, -v name="$(basename "$csv")" 'NR > 1 { n++; if ($1 >= 60) { s += $2; c++; if ($2 > m) m = $2 } } END { printf "%s: samples %d; after the first minute: mean %.1f MB, max %.1f MB\n", name, n, s / c / 1024, m / 1024 }' "$csv"
done
