import type { Env } from '../env.js';
import { CHUNK_SIZE, contentKeys } from '../publish/content-keys.js';
import { ChunkCache } from './chunk-cache.js';
import { readStorage } from '../faults.js';

let cache: ChunkCache | undefined;

/** The isolate's hot-chunk cache (SEED_MEMORY_CACHE_BYTES, default 32 MiB; 0 turns it off). */
function chunkCache(env: Env): ChunkCache {
  if (!cache) {
    const budget = Number(env.SEED_MEMORY_CACHE_BYTES ?? 32 * 1024 * 1024);
    cache = new ChunkCache(Number.isFinite(budget) && budget >= 0 ? budget : 32 * 1024 * 1024);
  }
  return cache;
}

/** A stored file's bytes are missing or short: an operator problem, never a client's. */
export class ContentMissingError extends Error {}

/**
 * Bytes [offset, offset + length) of file `index` when they lie inside one storage chunk (every
 * aligned piece-sized range does), as one buffer: a response body the runtime writes out in one
 * go, where a JavaScript stream costs a turn per block (2x at 16 KiB). At most one chunk (8 MiB)
 * is held, as the streaming reader holds too. The slice is a copy on purpose: workerd copies a
 * view's whole underlying buffer, so a subarray of a cached 8 MiB chunk would cost 8 MiB per
 * response (measured: 4 MiB ranges 107/s as views, 380/s as copies). Undefined when the range
 * crosses a chunk boundary (then use readFileRange). Throws ContentMissingError, before any byte
 * is sent, when storage does not hold what the catalog promises, and StorageUnavailableError
 * when the R2 read itself fails (retry soon).
 */
export async function readChunkSlice(
  env: Env,
  hex: string,
  index: number,
  offset: number,
  length: number,
  fileLength: number,
  useCache = true,
): Promise<Uint8Array | undefined> {
  const chunk = Math.floor(offset / CHUNK_SIZE);
  const within = offset - chunk * CHUNK_SIZE;
  if (length <= 0 || within + length > CHUNK_SIZE) return undefined;
  const key = contentKeys.chunk(hex, index, chunk);
  const chunkBytes = Math.min(CHUNK_SIZE, fileLength - chunk * CHUNK_SIZE);
  if (useCache) {
    const memory = chunkCache(env);
    const cached = memory.get(key);
    if (cached) {
      memory.touch(key, chunkBytes); // hits count toward popularity too
      return cached.slice(within, within + length);
    }
    if (memory.touch(key, chunkBytes)) {
      let bytes: Uint8Array | undefined;
      try {
        bytes = await readStorage('R2', async () => {
          const whole = await env.CONTENT.get(key);
          return whole ? new Uint8Array(await whole.arrayBuffer()) : undefined;
        });
      } finally {
        memory.loaded(key);
      }
      if (!bytes || bytes.length !== chunkBytes) throw new ContentMissingError(`chunk ${chunk} of file ${index} is missing or short`);
      memory.put(key, bytes);
      return bytes.slice(within, within + length);
    }
  }
  const bytes = await readStorage('R2', async () => {
    const object = await env.CONTENT.get(key, { range: { offset: within, length } });
    return object ? new Uint8Array(await object.arrayBuffer()) : undefined;
  });
  if (!bytes || bytes.length !== length) throw new ContentMissingError(`chunk ${chunk} of file ${index} is missing or short`);
  return bytes;
}

/**
 * Streams bytes [offset, offset + length) of file `index` of a published torrent from its R2
 * chunks, one chunk's slice per pull (readChunkSlice), never holding more than one. `useCache`
 * false reads around the memory cache (publication checks must not fill it).
 */
export function readFileRange(
  env: Env,
  hex: string,
  index: number,
  offset: number,
  length: number,
  fileLength: number,
  useCache = true,
): ReadableStream<Uint8Array> {
  let at = offset;
  const end = offset + length;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (at >= end) {
        controller.close();
        return;
      }
      const take = Math.min(end - at, CHUNK_SIZE - (at % CHUNK_SIZE));
      try {
        controller.enqueue((await readChunkSlice(env, hex, index, at, take, fileLength, useCache))!);
        at += take;
      } catch (err) {
        controller.error(err);
      }
    },
  });
}
