// Four simulated SDM630 meters for the Node-RED side of the memory comparison: one Modbus TCP server on loopback
// (units 1 to 4 answer alike) whose input registers hold slowly changing float32 values. Not measured itself.
// Usage: node sim-meters.js PORT   (run from the folder where modbus-serial is installed)
const ModbusRTU = require('modbus-serial');
const port = Number(process.argv[2] || 15020);
const regs = new Uint16Array(400);
function tick() {
  const b = Buffer.alloc(4);
  for (let i = 0; i < 400; i += 2) {
    b.writeFloatBE(230 + i / 10 + Math.sin(Date.now() / 10000 + i), 0);
    regs[i] = b.readUInt16BE(0);
    regs[i + 1] = b.readUInt16BE(2);
  }
}
tick();
setInterval(tick, 1000);
new ModbusRTU.ServerTCP({ getInputRegister: (addr) => regs[addr % 400], getHoldingRegister: (addr) => regs[addr % 400] },
  { host: '127.0.0.1', port, debug: false });
console.log(`simulated meters on 127.0.0.1:${port}`);
