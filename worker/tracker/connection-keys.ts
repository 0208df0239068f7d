import type { Env } from '../env.js';
import { type HmacKey, importKey, shardFor } from '../connection-ids/connection-id.js';

/** Connection-id state is spread over this many ConnectionIds objects by client address. */
export const CONNECTION_ID_SHARDS = 16;

/** Keys fetched from a shard, cached in this isolate until the shard's next rotation. */
const cache = new Map<number, { keys: HmacKey[]; validUntil: number }>();

/** The HMAC keys (current first) for the shard that serves `host`. */
export async function connectionKeys(env: Env, host: string): Promise<HmacKey[]> {
  const shard = shardFor(host, CONNECTION_ID_SHARDS);
  const cached = cache.get(shard);
  const now = Date.now();
  if (cached && cached.validUntil > now) return cached.keys;
  const stub = env.CONNECTION_IDS.get(env.CONNECTION_IDS.idFromName(`shard-${shard}`));
  const { keys, validUntil } = await stub.keys();
  const imported = await Promise.all(keys.map(importKey));
  // Re-ask a little before the rotation and at least once a minute.
  cache.set(shard, { keys: imported, validUntil: Math.min(validUntil - 1000, now + 60_000) });
  return imported;
}
