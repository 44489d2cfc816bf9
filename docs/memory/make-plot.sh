#!/usr/bin/env bash
# Regenerates docs/memory/demo-4-meters-rss.svg: resident memory sampled every second, side by side, of
#  - the AOT agent as a user runs the demo, `edgemeter demo --meters 4`: four simulated meters at 1 Hz (plus the
#    demo's DLMS meter), with the broker, the development ledger and the page in the same process;
#  - the agent in a process of its own, as a gateway runs it (tests/Benchmarks/memory/agent-alone.sh: the same demo
#    with --no-ledger, publishing to mosquitto), and the development ledger in a second process;
#  - Node-RED polling four simulated SDM630s once a second each and publishing the readings over MQTT
#    (tests/Benchmarks/memory/nodered/run-nodered.sh).
# All run at the same time, no environment variable. Memory, not time: no lock needed.
# Usage (from the repository root, after dotnet publish src/EdgeAgent -p:PublishProfile=linux-x64):
#   docs/memory/make-plot.sh [SECONDS]   (default 600)
set -euo pipefail
seconds=${1:-600}
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
bench="$root/tests/Benchmarks/memory"
bin=${EDGEMETER_BIN:-$root/artifacts/publish/linux-x64/edgemeter}
env -u DOTNET_GCgen0size -u DOTNET_gcServer -u DOTNET_GCHeapHardLimit \
  "$bench/rss-over-time.sh" "$here/demo-4-meters-rss.csv" \
  "$bin" demo --meters 4 --exit-after "$seconds" --http http://127.0.0.1:0 &
EDGEMETER_BIN="$bin" "$bench/agent-alone.sh" "$here/agent-4-meters-rss.csv" "$here/ledger-rss.csv" "$seconds" > /dev/null &
"$bench/nodered/run-nodered.sh" "$here/nodered-4-meters-rss.csv" "$seconds" > /dev/null &
wait
"$here/plot.sh"
