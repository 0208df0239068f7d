/**
 * BEP 15 connection ids derived from a secret instead of stored: no write per connect, and
 * nothing to look up per announce. An id is 8 bytes:
 *
 *   bytes 0-1  issue time in 4-second ticks, modulo 2^16 (wraps every ~73 hours)
 *   bytes 2-7  the first 6 bytes of HMAC-SHA256(key, ticks || client IP address)
 *
 * so it is unguessable (48-bit MAC), bound to the client's address, and expires: BEP 15 lets a
 * client use an id for one minute and a tracker accept it for two. The port is left out on
 * purpose: NATs may move a client to another source port between connect and announce, and
 * libtorrent shares one connection-id cache between the sessions of a process.
 */
import { parseIPv4, parseIPv6 } from '../../shared/ip.js';

/** An imported HMAC key (spelled this way so both Node's and Workers' typings accept it). */
export type HmacKey = Awaited<ReturnType<typeof crypto.subtle.importKey>>;

export const TICK_MS = 4_000;
/** Accept an id for at least 120 s after issue (31 ticks: 120 to 124 s). */
export const MAX_AGE_TICKS = 30;

/** The address a datagram came from. */
export interface ClientEndpoint {
  host: string;
  port: number;
}

/** Imports raw key bytes for HMAC-SHA256. */
export function importKey(raw: Uint8Array): Promise<HmacKey> {
  return crypto.subtle.importKey('raw', raw, { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
}

async function mac(key: HmacKey, ticks: number, client: ClientEndpoint): Promise<Uint8Array> {
  const ip = parseIPv4(client.host) ?? parseIPv6(client.host) ?? new TextEncoder().encode(client.host);
  const message = new Uint8Array(2 + ip.length);
  new DataView(message.buffer).setUint16(0, ticks);
  message.set(ip, 2);
  return new Uint8Array(await crypto.subtle.sign('HMAC', key, message)).subarray(0, 6);
}

/** A fresh connection id for `client` at time `now` (ms). */
export async function issueConnectionId(key: HmacKey, client: ClientEndpoint, now: number): Promise<Uint8Array> {
  const ticks = Math.floor(now / TICK_MS) & 0xffff;
  const id = new Uint8Array(8);
  new DataView(id.buffer).setUint16(0, ticks);
  id.set(await mac(key, ticks, client), 2);
  return id;
}

/**
 * True when `id` was issued to `client` under one of `keys` (current and previous, across a
 * rotation) no more than about two minutes before `now`.
 */
export async function checkConnectionId(keys: readonly HmacKey[], id: Uint8Array, client: ClientEndpoint, now: number): Promise<boolean> {
  if (id.length !== 8) return false;
  const ticks = new DataView(id.buffer, id.byteOffset, 8).getUint16(0);
  const age = ((Math.floor(now / TICK_MS) & 0xffff) - ticks + 0x10000) & 0xffff;
  if (age > MAX_AGE_TICKS) return false;
  for (const key of keys) {
    const expected = await mac(key, ticks, client);
    let diff = 0;
    for (let i = 0; i < 6; i++) diff |= expected[i]! ^ id[2 + i]!;
    if (diff === 0) return true;
  }
  return false;
}

/** Which ConnectionIds shard serves a client address (FNV-1a over the host text). */
export function shardFor(host: string, shards: number): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < host.length; i++) {
    h ^= host.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h % shards;
}
