// What the core needs from the platform it runs on, through Web APIs and pure-JS hashes only, so that one
// build runs on Node, Bun, Deno, Cloudflare Workers, Vercel Edge and Next.js alike: no Node built-in is
// imported, and `process` is read only where it exists.
import { hmac } from '@noble/hashes/hmac.js';
import { sha1 } from '@noble/hashes/legacy.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex, utf8ToBytes } from '@noble/hashes/utils.js';

/** Environment variables by name. */
export type Env = Readonly<Record<string, string | undefined>>;

interface Host {
  readonly process?: {
    readonly env?: Env;
    emitWarning?(message: string): void;
  };
  readonly navigator?: { readonly userAgent?: string };
  readonly EdgeRuntime?: string;
  readonly WebSocketPair?: unknown;
}

const host = globalThis as Host;

/** The process environment where the runtime has one (Node, Bun, Deno, Next.js); empty on Workers. */
export function processEnv(): Env {
  return host.process?.env ?? {};
}

/** A warning through the process' warning channel where there is one, else the console. */
export function warn(message: string): void {
  if (typeof host.process?.emitWarning === 'function') host.process.emitWarning(message);
  else console.warn(message);
}

/**
 * Lets the process exit while `timer` is pending (Node, Bun and Deno 2 timers have `unref`); the timers of
 * Workers and edge runtimes are numbers, and there is no process to keep alive.
 */
export function unref(timer: ReturnType<typeof setTimeout>): void {
  if (typeof timer === 'object' && typeof timer.unref === 'function') timer.unref();
}

/**
 * Whether a timer belongs to the request that set it, as on Cloudflare Workers and Vercel Edge: one still
 * pending when its request ends never fires. Asked the way each platform documents (its user agent, the
 * `EdgeRuntime` global), and for Workers also by their own `WebSocketPair` global: a Worker whose
 * compatibility date precedes 2022-03-21 (or that sets `no_global_navigator`) has no `navigator`.
 */
export function requestScopedTimers(): boolean {
  return (
    host.navigator?.userAgent === 'Cloudflare-Workers' ||
    typeof host.WebSocketPair === 'function' ||
    typeof host.EdgeRuntime === 'string'
  );
}

/** `bytes` random bytes from the platform's CSPRNG, as hex. */
export function randomHex(bytes: number): string {
  return bytesToHex(crypto.getRandomValues(new Uint8Array(bytes)));
}

/** The byte length of a string in UTF-8, or of bytes. */
export function byteLength(value: string | Uint8Array): number {
  return typeof value === 'string' ? utf8ToBytes(value).length : value.length;
}

/** The hex SHA1 of a string's UTF-8 bytes (a Redis script's EVALSHA name). */
export function sha1Hex(text: string): string {
  return bytesToHex(sha1(utf8ToBytes(text)));
}

/**
 * HMAC-SHA256 under one key, synchronous (Web Crypto's is asynchronous): the key's pads are hashed once,
 * and each call clones that state.
 */
export function hmacSha256(key: string | Uint8Array): (message: string) => Uint8Array {
  const keyed = hmac.create(sha256, typeof key === 'string' ? utf8ToBytes(key) : key);
  return (message) => keyed.clone().update(utf8ToBytes(message)).digest();
}

/** Unpadded base64url, as in RFC 4648 §5. */
export function base64url(bytes: Uint8Array): string {
  let binary = '';
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replaceAll('+', '-').replaceAll('/', '_').replace(/=+$/, '');
}
