#!/usr/bin/env bash
# The agent in a process of its own, as a gateway runs it: `edgemeter demo --meters 4 --no-ledger` (four simulated
# meters at 1 Hz plus the demo's DLMS meter, store, signing, MQTT uplink, page; no embedded broker, no ledger) publishing
# to a local mosquitto, with the development ledger (`edgemeter ledger`) in a second process. Samples the resident
# memory of both every second into AGENT.csv and LEDGER.csv ("seconds,rss_kb"), no environment variable.
# Usage: agent-alone.sh AGENT.csv LEDGER.csv [SECONDS] (default 600; EDGEMETER_BIN overrides the binary)
set -euo pipefail
agent_csv=$(realpath "$1"); ledger_csv=$(realpath "$2"); seconds=${3:-600}
root=$(cd "$(dirname "$0")/../../.." && pwd)
bin=${EDGEMETER_BIN:-$root/artifacts/publish/linux-x64/edgemeter}
work=$(mktemp -d); port=18832
mosquitto -p "$port" > "$work/mosquitto.log" 2>&1 & broker=$!
sleep 0.5
env -u DOTNET_GCgen0size -u DOTNET_gcServer -u DOTNET_GCHeapHardLimit \
  "$bin" ledger --broker "mqtt://127.0.0.1:$port" --data "$work/ledger" > "$work/ledger.out" 2> "$work/ledger.log" & ledger=$!
trap 'kill $ledger $broker 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do grep -q "ledger address: 0x" "$work/ledger.log" "$work/ledger.out" && break; sleep 0.1; done
address=$(grep -oh "ledger address: 0x[0-9a-fA-F]*" "$work/ledger.log" "$work/ledger.out" | head -1 | awk '{print $3}')
env -u DOTNET_GCgen0size -u DOTNET_gcServer -u DOTNET_GCHeapHardLimit \
  "$bin" demo --meters 4 --no-ledger --ledger-address "$address" --broker "mqtt://127.0.0.1:$port" \
  --http http://127.0.0.1:0 --exit-after "$seconds" > "$work/agent.out" 2> "$work/agent.log" & agent=$!
echo "seconds,rss_kb" > "$agent_csv"; echo "seconds,rss_kb" > "$ledger_csv"
start=$(date +%s)
while kill -0 "$agent" 2>/dev/null; do
  t=$(( $(date +%s) - start ))
  rss=$(awk '/^VmRSS:/ {print $2}' "/proc/$agent/status" 2>/dev/null || true); [ -n "$rss" ] && echo "$t,$rss" >> "$agent_csv"
  rss=$(awk '/^VmRSS:/ {print $2}' "/proc/$ledger/status" 2>/dev/null || true); [ -n "$rss" ] && echo "$t,$rss" >> "$ledger_csv"
  sleep 1
done
wait "$agent" || true
cat "$work/agent.out"
