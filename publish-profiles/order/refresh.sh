#!/usr/bin/env bash
# Regenerates publish-profiles/order/edgemeter.order, the list of functions that the published binary places first.
#
# It publishes the x64 binary, runs it under valgrind's callgrind with its symbols, and writes every function the
# runs executed. Three runs: the demo as a user runs it (agent, broker and ledger in one process), a backlog drain, and
# the agent alone as a gateway runs it (four meters, publishing to mosquitto, the ledger in a process of its own).
# Run it after changes that add or rename much of what the agent runs;
# AotSmokeTests.Demo_runs_its_code_from_the_front_of_the_binary fails when the list has gone stale.
# Needs valgrind, binutils, mosquitto and python3 (apt-get install valgrind binutils mosquitto python3). About 4 minutes.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
work="$(mktemp -d /tmp/edgemeter-order-XXXXXX)"
pids=()
trap 'kill "${pids[@]}" 2>/dev/null || true; rm -rf "$work"' EXIT

dotnet publish "$repo/src/EdgeAgent" -p:PublishProfile=linux-x64 -o "$work/publish" -nologo >"$work/publish.log" \
  || { cat "$work/publish.log"; exit 1; }

# valgrind cannot read the DWARF 5 of edgemeter.dbg; a symbol-table-only copy, linked by a fresh debuglink, names
# every function. Code addresses are those of the published binary.
mkdir -p "$work/bin"
cp "$work/publish/libSystem.IO.Ports.Native.so" "$work/bin/"
objcopy --strip-debug "$work/publish/edgemeter.dbg" "$work/bin/edgemeter.sym"
objcopy --remove-section .gnu_debuglink "$work/publish/edgemeter" "$work/bin/edgemeter.nolink"
(cd "$work/bin" && objcopy --add-gnu-debuglink=edgemeter.sym edgemeter.nolink edgemeter && chmod +x edgemeter)

run() { # name, demo arguments...
  local name=$1; shift
  mkdir -p "$work/$name"
  (cd "$work/$name" && valgrind --tool=callgrind --callgrind-out-file="$work/$name.callgrind" \
     "$work/bin/edgemeter" demo --http http://127.0.0.1:0 "$@" >"$work/$name.log" 2>&1) \
    || { tail -n 20 "$work/$name.log"; exit 1; }
}
# The agent alone needs a broker and a ledger of its own: mosquitto on a free port, the ledger not profiled.
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
mosquitto -p "$port" >"$work/mosquitto.log" 2>&1 & pids+=($!)
"$work/publish/edgemeter" ledger --broker "mqtt://127.0.0.1:$port" --data "$work/ledger" >"$work/ledger.log" 2>&1 & pids+=($!)
for _ in $(seq 1 100); do grep -q "ledger address: 0x" "$work/ledger.log" && break; sleep 0.1; done
address=$(grep -o "ledger address: 0x[0-9a-fA-F]*" "$work/ledger.log" | head -1 | awk '{print $3}')
[ -n "$address" ] || { cat "$work/ledger.log"; exit 1; }

run live --exit-after 40 & live=$!
run backlog --backlog 3000 --exit-after 40 & backlog=$!
run agent --meters 4 --no-ledger --ledger-address "$address" --broker "mqtt://127.0.0.1:$port" --exit-after 60 & agent=$!
wait $live
wait $backlog
wait $agent

python3 "$here/executed-functions.py" "$work/publish/edgemeter.dbg" "$work/live.callgrind" "$work/backlog.callgrind" \
  "$work/agent.callgrind" >"$work/executed.order"
# Names the previous list held that these runs did not execute stay, after the new ones: some paths run only with
# the right timing (a claim that waits for its readings; valgrind slows the agent fiftyfold), and a list that lost
# them sent the demo's test into cold code. ILC ignores names the binary no longer has. To start afresh, empty the
# file first.
touch "$here/edgemeter.order"
awk 'NR == FNR { seen[$0] = 1; print; next } !($0 in seen)' "$work/executed.order" "$here/edgemeter.order" >"$work/merged.order"
mv "$work/merged.order" "$here/edgemeter.order"
echo "wrote $here/edgemeter.order ($(wc -l <"$here/edgemeter.order") names)"
