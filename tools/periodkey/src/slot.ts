import type { Key } from './backend.js';

// Redis Cluster key slots (CRC16/XMODEM of the key or of its hash tag, mod 16384), computed here so that a
// batch of keys from one master can be grouped into one UNLINK per slot without asking the server.

const TABLE = new Uint16Array(256);
for (let byte = 0; byte < 256; byte++) {
  let crc = byte << 8;
  for (let bit = 0; bit < 8; bit++) crc = crc & 0x8000 ? (crc << 1) ^ 0x1021 : crc << 1;
  TABLE[byte] = crc & 0xffff;
}

/** CRC16 of `key[start, end)`: bytes of a Buffer, or code units of an ASCII string (equal to its bytes). */
function crc16(key: Key, start: number, end: number): number {
  let crc = 0;
  for (let i = start; i < end; i++) {
    const byte = typeof key === 'string' ? key.charCodeAt(i) : (key[i] ?? 0);
    crc = ((crc << 8) & 0xffff) ^ (TABLE[((crc >> 8) ^ byte) & 0xff] ?? 0);
  }
  return crc;
}

/** The cluster slot of `key`: only the part between the first `{` and the next `}` counts, if non-empty. */
export function keySlot(key: Key): number {
  const ascii = typeof key !== 'string' || Buffer.byteLength(key) === key.length;
  const bytes = ascii ? key : Buffer.from(key);
  const open = bytes.indexOf('{');
  if (open >= 0) {
    const close = bytes.indexOf('}', open + 1);
    if (close > open + 1) return crc16(bytes, open + 1, close) % 16384;
  }
  return crc16(bytes, 0, bytes.length) % 16384;
}
