// Signs digests with @noble/curves (RFC 6979, low-S) so the tests can compare signatures byte for byte.
// Input on stdin: lines "PRIVATEKEYHEX DIGESTHEX". Output: one line per input, r||s||v hex with v = 27 + recovery.
import { readFileSync } from 'node:fs';
import { secp256k1 } from '@noble/curves/secp256k1';

for (const line of readFileSync(0, 'utf8').split('\n')) {
  if (!line.trim()) continue;
  const [key, digest] = line.trim().split(/\s+/);
  const sig = secp256k1.sign(digest, key, { lowS: true });
  console.log(sig.toCompactHex() + (27 + sig.recovery).toString(16));
}
