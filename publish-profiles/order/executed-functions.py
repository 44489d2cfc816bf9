#!/usr/bin/env python3
"""Functions of a Native AOT binary that callgrind profiles saw executing, as every symbol name the binary gives them.

usage: executed-functions.py edgemeter.dbg callgrind.out... > edgemeter.order

Valgrind names some code '???' and picks one of several names at an address (a runtime export's short name such as
InitializeModules, the first alias of a folded body), so each profiled name is looked up in the binary's symbol table
and every name at its address is written. The order is the profiled binary's address order, which keeps callers near
their callees. ILC places the methods it finds in the file first, in this order, and the rest after them.
"""
import re
import subprocess
import sys

if len(sys.argv) < 3:
    sys.exit(__doc__)

address_of = {}
names_at = {}
nm = subprocess.run(['nm', '-n', '--defined-only', sys.argv[1]], capture_output=True, text=True, check=True)
for line in nm.stdout.splitlines():
    parts = line.split()
    if len(parts) == 3 and parts[1] in 'tTwW':
        address = int(parts[0], 16)
        address_of[parts[2]] = address
        names_at.setdefault(address, []).append(parts[2])

# callgrind lines: "fn=(id) name" defines a function, "cfn=(id) name" a callee; a recursion level is "name'2".
function_line = re.compile(r"^c?fn=\(\d+\) (.*?)(?:'\d+)?$")
executed = set()
for profile in sys.argv[2:]:
    with open(profile, encoding='utf-8', errors='replace') as lines:
        for line in lines:
            match = function_line.match(line.rstrip('\n'))
            if match and match.group(1) in address_of:
                executed.add(address_of[match.group(1)])

if not executed:
    sys.exit('no function of the binary in the profiles: were they taken with its symbols (refresh.sh)?')
print(f'{len(executed)} executed functions', file=sys.stderr)
for address in sorted(executed):
    for name in names_at[address]:
        print(name)
