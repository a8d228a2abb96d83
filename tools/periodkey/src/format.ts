import type { Key } from './backend.js';

/**
 * The key for display on one line: control characters as `\xNN` and `\` as `\\` (so `a\nb` shows what is
 * stored); a key that is not valid UTF-8 shows every byte outside printable ASCII as `\xNN`.
 */
export function displayKey(key: Key): string {
  if (typeof key === 'string') return displayText(key);
  let out = '';
  for (const byte of key) {
    if (byte === 0x5c) out += '\\\\';
    else if (byte >= 0x20 && byte < 0x7f) out += String.fromCharCode(byte);
    else out += `\\x${byte.toString(16).padStart(2, '0')}`;
  }
  return out;
}

/** `text` on one line: control characters as `\xNN`, `\` as `\\`. */
export function displayText(text: string): string {
  return text.replace(/[\\\p{Cc}]/gu, (c) =>
    c === '\\' ? '\\\\' : `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`,
  );
}

const COUNT = new Intl.NumberFormat('en-US', { maximumFractionDigits: 6 });

/** `1,234,567`; fractions of a unit to the millionth, as stored: `0.1234`, `2.5`. */
export function formatCount(n: number): string {
  return COUNT.format(n);
}

/** `850 ms`, `12.3 s`, `4m 05s`, `2h 03m`, `3d 04h`. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const s = Math.floor(ms / 1000);
  const pad = (n: number) => String(n).padStart(2, '0');
  if (s < 3600) return `${Math.floor(s / 60)}m ${pad(s % 60)}s`;
  if (s < 86_400) return `${Math.floor(s / 3600)}h ${pad(Math.floor(s / 60) % 60)}m`;
  return `${Math.floor(s / 86_400)}d ${pad(Math.floor(s / 3600) % 24)}h`;
}
