import { InvalidOptionError } from '@periodkey/ratelimit';

/**
 * Which peers may tell the client's address in `X-Forwarded-For`:
 * - a number of proxy hops in front of the service (`1` behind one load balancer): the client is the address
 *   that many entries from the right of the chain `X-Forwarded-For, socket address`;
 * - a list of trusted proxy addresses and CIDR ranges (`['10.0.0.0/8', '::1']`): the client is the
 *   right-most address of that chain that is not in the list.
 *
 * `0` (the default) or `[]` trusts nobody: the socket's peer address is the client, and a client cannot
 * choose its identity by sending `X-Forwarded-For`.
 */
export type TrustProxy = number | readonly string[];

/**
 * The client's address: the socket's `remoteAddress`, or, behind trusted proxies, the address they recorded
 * in `X-Forwarded-For` (see {@link TrustProxy}). `undefined` when `remoteAddress` is.
 * @example clientAddress('10.0.0.2', '203.0.113.9, 10.0.0.1', ['10.0.0.0/8']) // '203.0.113.9'
 */
export function clientAddress(
  remoteAddress: string | undefined,
  forwardedFor: string | undefined,
  trustProxy: TrustProxy = 0,
): string | undefined {
  return pickClient(remoteAddress, forwardedFor, compileTrust(trustProxy));
}

/**
 * The identity of a client address, as keys hold it: `ip:203.0.113.9` for IPv4 (also when written as an
 * IPv4-mapped IPv6 address such as `::ffff:203.0.113.9`), and the /64 network for IPv6,
 * `ip:2001:db8:1:2::/64`, because one subscriber usually holds a whole /64 and could otherwise take a fresh
 * address for every request. Anything that is no IP address is kept as it is, after `ip:`.
 */
export function ipIdentity(address: string): string {
  const parsed = parseAddress(address);
  if (parsed === undefined) return `ip:${address}`;
  if (parsed.length === 4) return `ip:${parsed.join('.')}`;
  const groups = Array.from({ length: 8 }, (_, i) =>
    i < 4 ? (parsed[2 * i] as number) * 256 + (parsed[2 * i + 1] as number) : 0,
  );
  return `ip:${formatIPv6(groups)}/64`;
}

// internal

/** Whether the peer `hop` steps from the service (0: the socket's peer) at `address` is a trusted proxy. */
export type Trust = (address: Uint8Array | undefined, hop: number) => boolean;

/** @throws {InvalidOptionError} for a negative or fractional hop count, or an entry that is no address or CIDR. */
export function compileTrust(trustProxy: TrustProxy): Trust {
  if (typeof trustProxy === 'number') {
    if (!Number.isSafeInteger(trustProxy) || trustProxy < 0) {
      throw new InvalidOptionError(
        `trustProxy must be a whole number of proxy hops (0 for none) or a list of proxy addresses, got ${trustProxy}`,
      );
    }
    return (_, hop) => hop < trustProxy;
  }
  if (!Array.isArray(trustProxy)) {
    throw new InvalidOptionError(
      "trustProxy must be a number of hops or a list such as ['10.0.0.0/8', '::1']",
    );
  }
  const ranges = trustProxy.map(parseRange);
  return (address) => address !== undefined && ranges.some((range) => inRange(address, range));
}

/** The client address of a request: see {@link TrustProxy}. */
export function pickClient(
  remoteAddress: string | undefined,
  forwardedFor: string | undefined,
  trust: Trust,
): string | undefined {
  if (remoteAddress === undefined) return undefined;
  // Nearest hop first: the socket's peer, then X-Forwarded-For from its right end.
  const chain = [remoteAddress];
  if (forwardedFor !== undefined) {
    const entries = forwardedFor.split(',');
    for (let i = entries.length - 1; i >= 0; i--) {
      const entry = stripPort((entries[i] as string).trim());
      if (entry !== '') chain.push(entry);
    }
  }
  let hop = 0;
  while (hop < chain.length - 1 && trust(parseAddress(chain[hop] as string), hop)) hop++;
  return chain[hop];
}

interface Range {
  readonly bytes: Uint8Array;
  readonly bits: number;
}

function parseRange(entry: string): Range {
  const [address = '', bits, extra] = typeof entry === 'string' ? entry.split('/') : [];
  const bytes = parseAddress(address.trim());
  // An IPv4-mapped range (::ffff:10.0.0.0/104) is the IPv4 range of its last 32 bits (10.0.0.0/8).
  const mapped = bytes?.length === 4 && address.includes(':') ? 96 : 0;
  const max = bytes === undefined ? 0 : bytes.length * 8 + mapped;
  const prefix =
    (bits === undefined ? max : /^\d{1,3}$/.test(bits.trim()) ? Number(bits) : Number.NaN) - mapped;
  if (bytes === undefined || extra !== undefined || !(prefix >= 0 && prefix <= max - mapped)) {
    throw new InvalidOptionError(
      `trustProxy entry ${JSON.stringify(entry)} is not an IP address or CIDR range; use e.g. '10.0.0.1', '10.0.0.0/8' or 'fd00::/8'`,
    );
  }
  return { bytes, bits: prefix };
}

function inRange(address: Uint8Array, range: Range): boolean {
  if (address.length !== range.bytes.length) return false;
  const whole = range.bits >> 3;
  for (let i = 0; i < whole; i++) if (address[i] !== range.bytes[i]) return false;
  const rest = range.bits & 7;
  if (rest === 0) return true;
  const mask = (0xff << (8 - rest)) & 0xff;
  return ((address[whole] as number) & mask) === ((range.bytes[whole] as number) & mask);
}

/** `[2001:db8::1]:443` and `203.0.113.9:51234`, as some proxies write them, without the port. */
function stripPort(entry: string): string {
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(entry);
  if (bracketed !== null) return bracketed[1] as string;
  const ipv4 = /^(\d{1,3}(?:\.\d{1,3}){3}):\d+$/.exec(entry);
  return ipv4 === null ? entry : (ipv4[1] as string);
}

/** 4 bytes for IPv4 and IPv4-mapped IPv6, 16 for other IPv6, `undefined` for anything else. */
function parseAddress(text: string): Uint8Array | undefined {
  if (!text.includes(':')) return parseIPv4(text);
  const bytes = parseIPv6(text);
  if (bytes === undefined) return undefined;
  const mapped = bytes.subarray(0, 10).every((b) => b === 0) && bytes[10] === 0xff && bytes[11] === 0xff;
  return mapped ? bytes.slice(12) : bytes;
}

function parseIPv4(text: string): Uint8Array | undefined {
  const parts = text.split('.');
  if (
    parts.length !== 4 ||
    !parts.every((part) => /^(?:0|[1-9]\d{0,2})$/.test(part) && Number(part) <= 255)
  ) {
    return undefined;
  }
  return Uint8Array.from(parts, Number);
}

function parseIPv6(input: string): Uint8Array | undefined {
  const zone = input.indexOf('%'); // fe80::1%eth0
  let text = zone < 0 ? input : input.slice(0, zone);
  let tail: Uint8Array | undefined;
  const lastColon = text.lastIndexOf(':');
  if (text.includes('.', lastColon)) {
    // An embedded IPv4 address (::ffff:192.0.2.1) stands for the last two groups.
    tail = parseIPv4(text.slice(lastColon + 1));
    if (tail === undefined) return undefined;
    text = `${text.slice(0, lastColon + 1)}0:0`;
  }
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const split = (half: string) => (half === '' ? [] : half.split(':'));
  const head = split(halves[0] as string);
  const rest = halves.length === 2 ? split(halves[1] as string) : undefined;
  const count = head.length + (rest?.length ?? 0);
  if (rest === undefined ? count !== 8 : count > 7) return undefined;
  const groups = [...head, ...Array<string>(8 - count).fill('0'), ...(rest ?? [])];
  if (!groups.every((group) => /^[0-9a-fA-F]{1,4}$/.test(group))) return undefined;
  const bytes = new Uint8Array(16);
  groups.forEach((group, i) => {
    const value = Number.parseInt(group, 16);
    bytes[2 * i] = value >> 8;
    bytes[2 * i + 1] = value & 0xff;
  });
  if (tail !== undefined) bytes.set(tail, 12);
  return bytes;
}

/** RFC 5952 text: lower case, no leading zeros, the longest run of two or more zero groups as `::`. */
function formatIPv6(groups: readonly number[]): string {
  let [bestStart, bestLength] = [-1, 1];
  for (let i = 0; i < groups.length; ) {
    let j = i;
    while (j < groups.length && groups[j] === 0) j++;
    if (j - i > bestLength) [bestStart, bestLength] = [i, j - i];
    i = j === i ? i + 1 : j;
  }
  const hex = groups.map((group) => group.toString(16));
  if (bestStart < 0) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLength).join(':')}`;
}
