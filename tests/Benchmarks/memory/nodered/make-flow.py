#!/usr/bin/env python3
"""Writes flows.json for Node-RED: the agent's polling task without signing or storing. Four SDM630 meters on one
Modbus TCP simulator (127.0.0.1:PORT, units 1 to 4), each read once a second as the agent reads an SDM630 (two
requests: input registers 0-75 and 342-343), decoded into 15 float32 quantities, and published as one JSON message
per meter and cycle to an MQTT broker (127.0.0.1:MQTT_PORT). Usage: make-flow.py OUT.json MODBUS_PORT MQTT_PORT"""
import json
import sys

out, modbus_port, mqtt_port = sys.argv[1], sys.argv[2], sys.argv[3]
OFFSETS = [0, 2, 4, 6, 8, 10, 12, 14, 16, 52, 62, 70, 72, 74]  # registers from 0 in the first request; 342 in the second
DECODE = """
const regs = msg.payload;
const key = msg.meter;
const part = context.get(key) || {};
if (msg.block === 'main') part.main = regs; else part.total = regs;
if (!part.main || !part.total) { context.set(key, part); return null; }
const f = (r, i) => { const b = Buffer.alloc(4); b.writeUInt16BE(r[i], 0); b.writeUInt16BE(r[i + 1], 2); return b.readFloatBE(0); };
const values = OFFSETS.map(o => f(part.main, o));
values.push(f(part.total, 0));
context.set(key, {});
return { topic: 'nodered/' + key + '/readings', payload: JSON.stringify({ meter: key, time: Date.now(), values }) };
""".replace("OFFSETS", json.dumps(OFFSETS))

nodes = [{"id": "tab", "type": "tab", "label": "4 meters"},
         {"id": "client", "type": "modbus-client", "name": "simulated SDM630s", "clienttype": "tcp", "bufferCommands": True,
          "stateLogEnabled": False, "queueLogEnabled": False, "failureLogEnabled": False, "tcpHost": "127.0.0.1",
          "tcpPort": modbus_port, "tcpType": "DEFAULT", "serialPort": "/dev/null", "serialType": "RTU-BUFFERD",
          "serialBaudrate": "9600", "serialDatabits": "8", "serialStopbits": "1", "serialParity": "none",
          "serialConnectionDelay": "100", "unit_id": 1, "commandDelay": 1, "clientTimeout": 1000,
          "reconnectOnTimeout": True, "reconnectTimeout": 2000, "parallelUnitIdsAllowed": True},
         {"id": "broker", "type": "mqtt-broker", "name": "loopback", "broker": "127.0.0.1", "port": mqtt_port,
          "clientid": "nodered-meters", "autoConnect": True, "usetls": False, "protocolVersion": "4", "keepalive": "60",
          "cleansession": True},
         {"id": "publish", "type": "mqtt out", "z": "tab", "name": "", "topic": "", "qos": "1", "retain": "false",
          "broker": "broker", "x": 700, "y": 100, "wires": []}]
for m in range(1, 5):
    decode = {"id": f"decode{m}", "type": "function", "z": "tab", "name": f"decode meter {m}", "func": DECODE,
              "outputs": 1, "x": 450, "y": 60 * m, "wires": [["publish"]]}
    nodes.append(decode)
    for block, adr, qty in (("main", 0, 76), ("total", 342, 2)):
        nodes.append({"id": f"read{m}{block}", "type": "modbus-read", "z": "tab", "name": f"meter {m} {block}",
                      "topic": f"meter-{m}", "showStatusActivities": False, "logIOActivities": False,
                      "showErrors": False, "unitid": str(m), "dataType": "InputRegister", "adr": str(adr),
                      "quantity": str(qty), "rate": "1", "rateUnit": "s", "delayOnStart": False,
                      "startDelayTime": "", "server": "client", "useIOFile": False, "ioFile": "",
                      "useIOForPayload": False, "emptyMsgOnFail": False, "x": 150, "y": 60 * m,
                      "wires": [[f"tag{m}{block}"], []]})
        nodes.append({"id": f"tag{m}{block}", "type": "change", "z": "tab", "name": "",
                      "rules": [{"t": "set", "p": "meter", "pt": "msg", "to": f"meter-{m}", "tot": "str"},
                                {"t": "set", "p": "block", "pt": "msg", "to": block, "tot": "str"}],
                      "x": 300, "y": 60 * m, "wires": [[f"decode{m}"]]})
with open(out, "w") as f:
    json.dump(nodes, f, indent=1)
