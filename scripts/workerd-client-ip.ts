/**
 * Lets Miniflare's direct sockets tell the Worker who is calling.
 *
 * Miniflare serves requests through its own entry Worker, which costs about two thirds of the
 * local edge's HTTP throughput (a second isolate hop per request). Its "direct sockets" skip
 * that hop, but Miniflare configures them with workerd's `cfBlobHeader`, which makes workerd
 * take `request.cf` from a request header instead of filling in `request.cf.clientIp` from the
 * TCP connection; a tracker that cannot see the client's address is useless. So before the
 * config reaches workerd we clear that one field on the direct sockets, and workerd fills in
 * `cf.clientIp` again (worker/client-ip.ts reads it; Cloudflare sets CF-Connecting-IP instead).
 *
 * The config is a Cap'n Proto message. Each direct socket's `http.cfBlobHeader` is a text
 * pointer to the bytes "MF-CF-Blob\0"; clearing that pointer word makes the field absent.
 * Nothing else in the message is touched, and start-up fails loudly if the pattern is not
 * found, so a Miniflare upgrade that changes this cannot silently lose client addresses.
 */
import { Runtime } from 'miniflare';

const HEADER = new TextEncoder().encode('MF-CF-Blob\0');
const WORD = 8;

/** Byte offsets of every segment of a framed Cap'n Proto message. */
function segments(message: Buffer): Array<{ start: number; words: number }> {
  const count = message.readUInt32LE(0) + 1;
  let offset = Math.ceil((4 + 4 * count) / WORD) * WORD;
  const result = [];
  for (let i = 0; i < count; i++) {
    const words = message.readUInt32LE(4 + 4 * i);
    result.push({ start: offset, words });
    offset += words * WORD;
  }
  return result;
}

/**
 * Clears every list pointer that refers to the text "MF-CF-Blob" (a byte list of 11 elements,
 * NUL included) in the same segment. Returns how many were cleared.
 */
export function clearCfBlobHeaders(message: Buffer): number {
  let cleared = 0;
  for (const { start, words } of segments(message)) {
    const end = start + words * WORD;
    const targets = new Set<number>();
    for (let at = message.indexOf(HEADER, start); at >= 0 && at + HEADER.length <= end; at = message.indexOf(HEADER, at + 1)) {
      if ((at - start) % WORD === 0) targets.add((at - start) / WORD);
    }
    if (targets.size === 0) continue;
    for (let w = 0; w < words; w++) {
      const lo = message.readUInt32LE(start + w * WORD);
      const hi = message.readUInt32LE(start + w * WORD + 4);
      if ((lo & 3) !== 1 || hi !== ((HEADER.length << 3) | 2)) continue; // list pointer, byte elements, 11 long
      const target = w + 1 + (lo >> 2); // offset is a signed 30-bit word count from the next word
      if (targets.has(target)) {
        message.fill(0, start + w * WORD, start + (w + 1) * WORD);
        cleared++;
      }
    }
  }
  return cleared;
}

let installed = false;

/** Installs the rewrite into Miniflare's runtime launcher (once per process). */
export function installClientIpForDirectSockets(): void {
  if (installed) return;
  installed = true;
  const original = Runtime.prototype.updateConfig;
  Runtime.prototype.updateConfig = function (this: Runtime, configBuffer: Buffer, ...rest: unknown[]) {
    const copy = Buffer.from(configBuffer);
    if (clearCfBlobHeaders(copy) === 0) {
      throw new Error('workerd-client-ip: no direct socket cfBlobHeader found in the Miniflare config (Miniflare changed?)');
    }
    return (original as (...args: unknown[]) => ReturnType<typeof original>).call(this, copy, ...rest);
  } as typeof original;
}
