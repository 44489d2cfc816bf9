#!/usr/bin/env bash
# Regenerates publish-profiles/order/edgemeter.order, the list of functions that the published binary places first.
#
# It publishes the x64 binary, runs the demo under valgrind's callgrind (live meters, and a backlog drain) with the
# binary's symbols, and writes every function the runs executed. Run it after changes that add or rename much of
# what the agent runs; AotSmokeTests.Demo_runs_its_code_from_the_front_of_the_binary fails when the list has gone
# stale. Needs valgrind, binutils and python3 (apt-get install valgrind binutils python3). About 3 minutes.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
work="$(mktemp -d /tmp/edgemeter-order-XXXXXX)"
trap 'rm -rf "$work"' EXIT

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
run live --exit-after 40 & live=$!
run backlog --backlog 3000 --exit-after 40 & backlog=$!
wait $live
wait $backlog

python3 "$here/executed-functions.py" "$work/publish/edgemeter.dbg" "$work/live.callgrind" "$work/backlog.callgrind" \
  >"$here/edgemeter.order"
echo "wrote $here/edgemeter.order ($(wc -l <"$here/edgemeter.order") names)"
