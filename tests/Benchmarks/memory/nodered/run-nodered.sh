#!/usr/bin/env bash
# The Node-RED side of docs/memory: Node-RED polling four simulated SDM630 meters over Modbus TCP once a second each
# (two requests per meter, as the agent reads an SDM630), decoding the 15 quantities and publishing one MQTT message
# per meter and cycle to a local mosquitto; samples Node-RED's resident memory every second with rss-over-time.sh.
# Installs node-red@4.1.15 and node-red-contrib-modbus@5.23.3 (the newest release whose modbus-serial comes from the
# npm registry) into SCRATCH on first use. Needs node (20 here) and mosquitto.
# Usage: tests/Benchmarks/memory/nodered/run-nodered.sh OUT.csv [SECONDS] [SCRATCH]   (default 600, /tmp/nodered)
set -euo pipefail
out=$(realpath "$1"); seconds=${2:-600}; scratch=${3:-/tmp/nodered}
here=$(cd "$(dirname "$0")" && pwd)
modbus_port=15020; mqtt_port=18831
mkdir -p "$scratch"
cd "$scratch"
[ -d node_modules/node-red-contrib-modbus ] || npm install --no-audit --no-fund node-red@4.1.15 node-red-contrib-modbus@5.23.3
mkdir -p user
cp "$here/settings.js" user/settings.js
python3 "$here/make-flow.py" user/flows.json "$modbus_port" "$mqtt_port"
mosquitto -p "$mqtt_port" > mosquitto.log 2>&1 & broker=$!
NODE_PATH="$scratch/node_modules" node "$here/sim-meters.js" "$modbus_port" > sim.log 2>&1 & sim=$!
trap 'kill $broker $sim 2>/dev/null || true' EXIT
sleep 1
# settings.js ends Node-RED after SECONDS, so the sampled PID is node itself.
NODE_PATH="$scratch/node_modules" NODE_RED_EXIT_AFTER="$seconds" "$here/../rss-over-time.sh" "$out" \
  node "$scratch/node_modules/node-red/red.js" --userDir "$scratch/user" --settings "$scratch/user/settings.js"
