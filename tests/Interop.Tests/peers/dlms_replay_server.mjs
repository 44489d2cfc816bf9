// A DLMS/COSEM replay server: it answers with the APDUs a Gurux server sent in the recorded sessions
// (tests/Protocols.Tests/Dlms/vectors), chosen by what the request means (APDU kind, class, OBIS, attribute,
// selector and its bounds, authentication, max PDU), not by its bytes. The answers are the recorded bytes, unchanged.
// Framing (TCP wrapper or HDLC, with its own CRC-16/X.25, N(S)/N(R), segmentation and RR) is written here in plain
// JavaScript, independently of the C# code under test.
//
//   node dlms_replay_server.mjs wrapper|hdlc VECTOR_DIR   -> prints "PORT <n>" and serves 127.0.0.1:<n>
import { readFileSync, readdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';

const [mode, vectorDir] = process.argv.slice(2);
if (!['wrapper', 'hdlc'].includes(mode) || !vectorDir) {
  console.error('usage: dlms_replay_server.mjs wrapper|hdlc VECTOR_DIR');
  process.exit(2);
}

const hex = (b) => Buffer.from(b).toString('hex').toUpperCase();

// ---- what a request means ------------------------------------------------------------------------------------
function berLength(buf, pos) {
  const first = buf[pos];
  if (first < 0x80) return [first, pos + 1];
  const n = first & 0x7f;
  let v = 0;
  for (let i = 0; i < n; i++) v = v * 256 + buf[pos + 1 + i];
  return [v, pos + 1 + n];
}

function aarqKey(apdu) {
  // Walk the AARQ fields: mechanism (8B), calling-authentication-value (AC), user-information (BE).
  let [len, pos] = berLength(apdu, 1);
  const end = pos + len;
  let mechanism = 0, secret = '', maxPdu = -1;
  while (pos < end) {
    const tag = apdu[pos];
    const [l, p] = berLength(apdu, pos + 1);
    const body = apdu.subarray(p, p + l);
    if (tag === 0x8b) mechanism = body[body.length - 1];
    if (tag === 0xac) secret = hex(body.subarray(2));
    if (tag === 0xbe) {
      const user = body.subarray(2);
      if (user[0] === 0x01) maxPdu = user.readUInt16BE(user.length - 2);
    }
    pos = p + l;
  }
  // HLS answers depend on our random challenge, so only none and low are served.
  return `AARQ mech=${mechanism} secret=${mechanism === 1 ? secret : ''} maxpdu=${maxPdu}`;
}

function dateTimeText(b) {
  // Year, month, day, hour, minute, second: day of week, hundredths and deviation are how a client spells it.
  return `${b.readUInt16BE(0)}-${b[2]}-${b[3]}T${b[5]}:${b[6]}:${b[7]}`;
}

function selectorText(sel, data) {
  if (sel === 1) {
    // structure{ restricting object, from (octet-string 12), to, selected values }
    const from = data.indexOf(Buffer.from([0x09, 0x0c]), 4);
    const to = data.indexOf(Buffer.from([0x09, 0x0c]), from + 14);
    return `range ${dateTimeText(data.subarray(from + 2, from + 14))}..${dateTimeText(data.subarray(to + 2, to + 14))}`;
  }
  if (sel === 2) return `entry ${data.readUInt32BE(3)}..${data.readUInt32BE(8)}`;
  return `selector ${sel}`;
}

function requestKey(apdu, maxPdu) {
  switch (apdu[0]) {
    case 0x60: return aarqKey(apdu);
    case 0x62: return 'RLRQ';
    case 0xc0: {
      if (apdu[1] === 0x02) return `NEXT ${apdu.readUInt32BE(3)}`;
      if (apdu[1] !== 0x01) return `GET kind ${apdu[1]}`;
      const classId = apdu.readUInt16BE(3);
      const obis = [...apdu.subarray(5, 11)].join('.');
      const attr = apdu[11];
      const access = apdu[12] ? ' ' + selectorText(apdu[13], apdu.subarray(14)) : '';
      return `GET ${classId}/${obis}:${attr}${access} maxpdu=${maxPdu}`;
    }
    default: return `APDU ${hex(apdu.subarray(0, 2))}`;
  }
}

// ---- the recordings: request meaning -> recorded answer APDU(s) ---------------------------------------------
const answers = new Map();   // key -> [answer APDU, ...] (one per block for a block transfer)
for (const file of readdirSync(vectorDir).filter((f) => f.endsWith('.json')).sort()) {
  const v = JSON.parse(readFileSync(join(vectorDir, file), 'utf8'));
  const apdus = [];
  for (const e of v.exchanges) {
    const raw = Buffer.from(e.hex, 'hex');
    let apdu = null;
    if (v.transport === 'wrapper') apdu = raw.subarray(8);
    else if (e.apdu) apdu = Buffer.from(e.apdu, 'hex');
    if (apdu && apdu.length) apdus.push({ fromClient: e.dir === 'client->server', apdu });
  }
  let maxPdu = -1;
  for (let i = 0; i + 1 < apdus.length; i++) {
    if (!apdus[i].fromClient || apdus[i + 1].fromClient) continue;
    const request = apdus[i].apdu;
    if (request[0] === 0x60) maxPdu = aarqKey(request).split('maxpdu=')[1] | 0;
    if (request[0] === 0x60 && aarqKey(request).startsWith('AARQ mech=5')) break;
    if (request[0] === 0xc0 && request[1] === 0x02) continue;   // the blocks are collected with their GET below
    const key = requestKey(request, maxPdu);
    const chain = [apdus[i + 1].apdu];
    for (let j = i + 2; j + 1 < apdus.length && apdus[j].fromClient && apdus[j].apdu[0] === 0xc0 && apdus[j].apdu[1] === 0x02; j += 2) {
      chain.push(apdus[j + 1].apdu);
    }
    if (!answers.has(key)) answers.set(key, chain);
  }
}

// ---- framing ---------------------------------------------------------------------------------------------------
const crcTable = new Uint16Array(256).map((_, i) => {
  let c = i;
  for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x8408 : c >>> 1;
  return c;
});
const crc16 = (buf) => {
  let c = 0xffff;
  for (const b of buf) c = (c >>> 8) ^ crcTable[(c ^ b) & 0xff];
  return ~c & 0xffff;
};

function hdlcFrame(dest, src, control, info, segmented) {
  const headerLen = 2 + dest.length + src.length + 1;
  const length = headerLen + (info.length ? 2 + info.length : 0) + 2;
  const f = Buffer.alloc(length + 2);
  f[0] = 0x7e;
  f.writeUInt16BE(0xa000 | (segmented ? 0x0800 : 0) | length, 1);
  let p = 3;
  for (const b of [...dest, ...src, control]) f[p++] = b;
  if (info.length) {
    f.writeUInt16LE(crc16(f.subarray(1, p)), p); p += 2;
    Buffer.from(info).copy(f, p); p += info.length;
  }
  f.writeUInt16LE(crc16(f.subarray(1, p)), p); p += 2;
  f[p] = 0x7e;
  return f;
}

function parseHdlc(buf) {
  // -> { frame, rest } or null when incomplete; throws on a bad frame.
  const start = buf.indexOf(0x7e);
  if (start < 0) return { frame: null, rest: Buffer.alloc(0) };
  buf = buf.subarray(start);
  if (buf.length >= 2 && buf[1] === 0x7e) return { frame: null, rest: buf.subarray(1), again: true };
  if (buf.length < 3) return { frame: null, rest: buf };
  const format = buf.readUInt16BE(1);
  const length = format & 0x7ff;
  if (buf.length < length + 2) return { frame: null, rest: buf };
  const body = buf.subarray(1, 1 + length);
  if (crc16(body.subarray(0, length - 2)) !== body.readUInt16LE(length - 2)) throw new Error('FCS mismatch');
  let p = 2;
  const dest = [];
  do dest.push(body[p]); while ((body[p++] & 1) === 0);
  const src = [];
  do src.push(body[p]); while ((body[p++] & 1) === 0);
  const control = body[p++];
  let info = Buffer.alloc(0);
  if (length > p + 2) {
    if (crc16(body.subarray(0, p)) !== body.readUInt16LE(p)) throw new Error('HCS mismatch');
    info = body.subarray(p + 2, length - 2);
  }
  return { frame: { dest, src, control, info, segmented: (format & 0x0800) !== 0 }, rest: buf.subarray(length + 2) };
}

// ---- one connection --------------------------------------------------------------------------------------------
function serve(socket) {
  let pending = Buffer.alloc(0);
  let maxPdu = -1;
  let chain = [];          // remaining blocks of a block transfer
  // HDLC state
  let vs = 0, vr = 0, maxInfoTx = 128, inbound = [], outbound = [];

  const answerFor = (apdu) => {
    const key = requestKey(apdu, maxPdu);
    if (apdu[0] === 0x60) maxPdu = key.split('maxpdu=')[1] | 0;
    if (key.startsWith('NEXT ')) {
      const next = chain.shift();
      if (!next) throw new Error(`${key} without a block transfer`);
      return next;
    }
    const recorded = answers.get(key);
    if (!recorded) throw new Error(`no recorded answer for: ${key}`);
    chain = recorded.slice(1);
    return recorded[0];
  };

  const onWrapper = () => {
    while (pending.length >= 8) {
      const len = pending.readUInt16BE(6);
      if (pending.length < 8 + len) return;
      const header = pending.subarray(0, 8);
      const apdu = pending.subarray(8, 8 + len);
      pending = pending.subarray(8 + len);
      const answer = answerFor(apdu);
      const out = Buffer.alloc(8 + answer.length);
      out.writeUInt16BE(1, 0);
      out.writeUInt16BE(header.readUInt16BE(4), 2);
      out.writeUInt16BE(header.readUInt16BE(2), 4);
      out.writeUInt16BE(answer.length, 6);
      answer.copy(out, 8);
      socket.write(out);
    }
  };

  const sendNextSegment = (f) => {
    const info = outbound.shift();
    const control = (vr << 5) | 0x10 | (vs << 1);
    vs = (vs + 1) & 7;
    socket.write(hdlcFrame(f.src, f.dest, control, info, outbound.length > 0));
  };

  const onHdlc = () => {
    for (;;) {
      const parsed = parseHdlc(pending);
      pending = parsed.rest;
      if (parsed.again) continue;
      if (!parsed.frame) return;
      const f = parsed.frame;
      if (f.control === 0x93 || f.control === 0x53) {           // SNRM, DISC: UA with the parameters
        if (f.control === 0x93) {
          vs = 0; vr = 0; inbound = []; outbound = [];
          maxInfoTx = 128;
          let maxInfoRx = 128;
          // The client's receive limit is our transmit limit; a UA states it from our side.
          for (let p = 3; p + 1 < f.info.length; p += 2 + f.info[p + 1]) {
            const value = f.info.subarray(p + 2, p + 2 + f.info[p + 1]).reduce((a, b) => a * 256 + b, 0);
            if (f.info[p] === 0x06) maxInfoTx = value;
            if (f.info[p] === 0x05) maxInfoRx = value;
          }
          socket.lastUa = [0x81, 0x80, 0x12, 0x05, 0x01, maxInfoTx, 0x06, 0x01, maxInfoRx, 0x07, 0x04, 0, 0, 0, 1, 0x08, 0x04, 0, 0, 0, 1];
        }
        socket.write(hdlcFrame(f.src, f.dest, 0x73, socket.lastUa, false));
        continue;
      }
      if ((f.control & 0x0f) === 0x01) {                      // RR: the client wants our next segment
        if (outbound.length) sendNextSegment(f);
        continue;
      }
      if ((f.control & 1) === 0) {                             // I-frame
        if (((f.control >> 1) & 7) !== vr) throw new Error(`N(S) ${(f.control >> 1) & 7}, expected ${vr}`);
        vr = (vr + 1) & 7;
        inbound.push(f.info);
        if (f.segmented) {
          socket.write(hdlcFrame(f.src, f.dest, (vr << 5) | 0x11, [], false));
          continue;
        }
        const whole = Buffer.concat(inbound);
        inbound = [];
        if (whole[0] !== 0xe6 || whole[1] !== 0xe6) throw new Error('I-frame without the LLC E6 E6 00');
        const answer = Buffer.concat([Buffer.from([0xe6, 0xe7, 0x00]), answerFor(whole.subarray(3))]);
        // Like the recorded server: at most max_info - 3 bytes in one I-frame.
        const size = maxInfoTx - 3;
        for (let p = 0; p < answer.length; p += size) outbound.push(answer.subarray(p, p + size));
        sendNextSegment(f);
        continue;
      }
      throw new Error(`unexpected control 0x${f.control.toString(16)}`);
    }
  };

  socket.on('data', (chunk) => {
    pending = Buffer.concat([pending, chunk]);
    try {
      if (mode === 'wrapper') onWrapper(); else onHdlc();
    } catch (e) {
      console.error(`replay: ${e.message}`);
      socket.destroy();
    }
  });
  socket.on('error', () => {});
}

const server = createServer(serve);
server.listen(0, '127.0.0.1', () => {
  console.log(`PORT ${server.address().port} ANSWERS ${answers.size}`);
});
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
