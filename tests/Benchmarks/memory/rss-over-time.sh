#!/usr/bin/env bash
# Resident memory of a command over time: runs it, samples VmRSS from /proc/PID/status every second, and
# writes "seconds,kB" lines to OUT.csv. Usage: rss-over-time.sh OUT.csv COMMAND [ARGS...]
set -euo pipefail
out=$1; shift
"$@" > /dev/null 2>&1 &
pid=$!
start=$(date +%s)
echo "seconds,rss_kb" > "$out"
while kill -0 "$pid" 2>/dev/null; do
  rss=$(awk '/^VmRSS:/ {print $2}' "/proc/$pid/status" 2>/dev/null || true)
  [ -n "$rss" ] && echo "$(( $(date +%s) - start )),$rss" >> "$out"
  sleep 1
done
wait "$pid" || true
