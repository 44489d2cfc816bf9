#!/usr/bin/env bash
# Regenerates docs/memory/demo-4-meters-rss.svg: the resident memory of the AOT agent, sampled every second, while
# `edgemeter demo --meters 4` polls four simulated meters at 1 Hz (plus the demo's DLMS meter), with the broker,
# the development ledger and the page in the same process, and no environment variable.
# Usage (from the repository root, after dotnet publish src/EdgeAgent -p:PublishProfile=linux-x64):
#   flock /tmp/edgemeter-heavy.lock docs/memory/make-plot.sh [SECONDS]   (default 600)
set -euo pipefail
seconds=${1:-600}
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
bin=${EDGEMETER_BIN:-$root/artifacts/publish/linux-x64/edgemeter}
csv="$here/demo-4-meters-rss.csv"
env -u DOTNET_GCgen0size -u DOTNET_gcServer -u DOTNET_GCHeapHardLimit \
  "$root/tests/Benchmarks/memory/rss-over-time.sh" "$csv" \
  "$bin" demo --meters 4 --exit-after "$seconds" --http http://127.0.0.1:0
python3 "$root/tests/Benchmarks/memory/plot-rss.py" "$here/demo-4-meters-rss.svg" "edgemeter demo --meters 4 (no environment)=$csv"
awk -F, 'NR > 1 { n++; if ($1 >= 60) { s += $2; c++; if ($2 > m) m = $2 } } END { printf "samples %d; after the first minute: mean %.1f MB, max %.1f MB\n", n, s / c / 1024, m / 1024 }' "$csv"
