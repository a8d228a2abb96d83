import type { Key } from './backend.js';

const STAR = 0x2a;
const QUESTION = 0x3f;
const OPEN = 0x5b;
const CLOSE = 0x5d;
const BACKSLASH = 0x5c;
const CARET = 0x5e;
const DASH = 0x2d;

/** A byte as C's signed `char`, which Redis compares in character ranges. */
const signed = (byte: number) => (byte << 24) >> 24;

/**
 * Whether `key` matches the SCAN MATCH glob `pattern`, byte for byte as Redis decides it (a port of
 * `stringmatchlen` in Redis's util.c, quirks included: `[^]` matches any one byte, an unclosed `[` ends the
 * class, ranges compare signed bytes).
 */
export function globMatch(pattern: Key, key: Key): boolean {
  const p = Buffer.from(pattern);
  const s = Buffer.from(key);
  const skipLonger = { value: false };
  return match(p, 0, s, 0, skipLonger);
}

function match(p: Buffer, pi: number, s: Buffer, si: number, skipLonger: { value: boolean }): boolean {
  while (pi < p.length && si < s.length) {
    const c = p[pi] as number;
    if (c === STAR) {
      while (pi + 1 < p.length && p[pi + 1] === STAR) pi++;
      if (pi + 1 === p.length) return true;
      for (; si < s.length; si++) {
        if (match(p, pi + 1, s, si, skipLonger)) return true;
        if (skipLonger.value) return false;
      }
      skipLonger.value = true;
      return false;
    }
    if (c === QUESTION) {
      si++;
    } else if (c === OPEN) {
      pi++;
      const not = p[pi] === CARET;
      if (not) pi++;
      let hit = false;
      for (;;) {
        if (p[pi] === BACKSLASH && p.length - pi >= 2) {
          pi++;
          if (p[pi] === s[si]) hit = true;
        } else if (p[pi] === CLOSE) {
          break;
        } else if (pi >= p.length) {
          pi--;
          break;
        } else if (p.length - pi >= 3 && p[pi + 1] === DASH) {
          let [start, end] = [signed(p[pi] as number), signed(p[pi + 2] as number)];
          if (start > end) [start, end] = [end, start];
          const byte = signed(s[si] as number);
          pi += 2;
          if (byte >= start && byte <= end) hit = true;
        } else if (p[pi] === s[si]) {
          hit = true;
        }
        pi++;
      }
      if (not) hit = !hit;
      if (!hit) return false;
      si++;
    } else {
      if (c === BACKSLASH && p.length - pi >= 2) pi++;
      if (p[pi] !== s[si]) return false;
      si++;
    }
    pi++;
    if (si === s.length) {
      while (p[pi] === STAR) pi++;
      break;
    }
  }
  return pi >= p.length && si === s.length;
}

/**
 * Keys of every shape a pattern could be written against: every single byte, and longer keys of every byte
 * value, glob characters and UTF-8 among them. The empty key is left out: it is allowed but never used, and
 * `?*` should count as matching everything.
 */
const PROBES: readonly Buffer[] = [
  ...Array.from({ length: 256 }, (_, byte) => Buffer.from([byte])),
  ...[2, 3, 5, 8, 13, 64, 300].flatMap((length) =>
    Array.from({ length: 16 }, (_, seed) =>
      Buffer.from(Array.from({ length }, (_, i) => (seed * 97 + i * 31 + length) % 256)),
    ),
  ),
  ...['ratelimit:user:42', 'a*b?c[d]e\\f^g-h', 'ключ 🔑', 'session:{x}', '\u0000end'].map((text) =>
    Buffer.from(text),
  ),
];

/**
 * True when a SCAN MATCH glob could match every key: it matches every probe key (every single byte, and
 * keys of every length and byte). Decided by what the pattern matches, not how it is spelled: `*`, `?*`,
 * `*?*` and `[^]*` match everything; `ratelimit:*`, `\*`, `???` and `[a-z]*` do not.
 */
export function matchesEverything(pattern: string): boolean {
  return PROBES.every((probe) => globMatch(pattern, probe));
}

/** Characters tried where a pattern allows any of several. */
const CANDIDATES = 'x0aZ_-:.!~ ';

/**
 * A key that `pattern` matches, with `filler` for each `*` (so that keys made with different fillers land in
 * different cluster slots); `undefined` when none is found this simple way.
 */
export function exampleKey(pattern: string, filler: string): string | undefined {
  let key = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i] as string;
    if (c === '*') key += filler;
    else if (c === '?') key += 'x';
    else if (c === '\\' && i + 1 < pattern.length) key += pattern[++i];
    else if (c === '[') {
      const close = pattern.indexOf(']', i + 2);
      const end = close === -1 ? pattern.length : close + 1;
      const found = [...CANDIDATES].find((candidate) => globMatch(pattern.slice(i, end), candidate));
      if (found === undefined) return undefined;
      key += found;
      i = end - 1;
    } else key += c;
  }
  return globMatch(pattern, key) ? key : undefined;
}
