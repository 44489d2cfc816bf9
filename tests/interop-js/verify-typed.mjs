// Reads an EdgeMeter JSONL export and, for each line, prints what ethers makes of it:
// the EIP-712 digest and the address verifyTypedData recovers. One JSON object per input line.
// Usage: node verify-typed.mjs EXPORT.jsonl
import { readFileSync } from 'node:fs';
import { verifyTypedData, TypedDataEncoder } from 'ethers';

const file = process.argv[2];
if (!file) {
  console.error('usage: node verify-typed.mjs EXPORT.jsonl');
  process.exit(2);
}
for (const line of readFileSync(file, 'utf8').split('\n')) {
  if (!line.trim()) continue;
  const record = JSON.parse(line);
  // eth_signTypedData_v4 JSON carries EIP712Domain in types; ethers derives it from the domain itself.
  const types = { ...record.types };
  delete types.EIP712Domain;
  const recovered = verifyTypedData(record.domain, types, record.message, record.signature);
  const digest = TypedDataEncoder.hash(record.domain, types, record.message);
  console.log(JSON.stringify({ seq: record.message.seq, recovered: recovered.toLowerCase(), digest }));
}
