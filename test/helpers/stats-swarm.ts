/**
 * A swarm with known figures for the stats and dashboard tests: a torrent published on the edge,
 * peers in every state (seeds, a leecher, a BEP 21 partial seed, a completion), `uploaded` values
 * that rise, reset and stop, and bytes read from the edge seed over BEP 19 and BEP 17.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { publishPath } from '../../peer-node/publish/publish-client.js';
import { fromHex } from '../../shared/bytes.js';
import { TEST_SECRETS } from './edge.js';
import { announce, escapeBytes } from './tracker-client.js';

export const AUTH = { authorization: `Bearer ${TEST_SECRETS.PUBLISH_TOKEN}` };

/** The figures GET /stats must show for the swarm `makeKnownSwarm` made. */
export interface KnownSwarm {
  infoHash: string;
  name: string;
  seeds: number;
  leechers: number;
  downloaders: number;
  completed: number;
  edgeBytes: number;
  peerBytes: number;
}

const FILE_SIZE = 100_000;
const PIECE_LENGTH = 32 * 1024;

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Publishes a file named `name` and drives its swarm. Re-announces of one peer are spaced a
 * little: plain re-announces reach the swarm object in batches, each with the time it was
 * answered, and one answered in the same millisecond as the previous would be taken as stale.
 */
export async function makeKnownSwarm(base: URL, name = 'clip.bin'): Promise<KnownSwarm> {
  const dir = await mkdtemp(path.join(tmpdir(), 'stats-'));
  try {
    const file = path.join(dir, name);
    await writeFile(file, randomBytes(FILE_SIZE));
    const published = await publishPath({ path: file, edge: base, token: TEST_SECRETS.PUBLISH_TOKEN, pieceLength: PIECE_LENGTH });
    const hash = fromHex(published.infoHash)!;
    const step = async (peer: number, left: number, uploaded: number, event?: string) => {
      const r = await announce(base, { hash, peer, left, extra: `&uploaded=${uploaded}&downloaded=0`, ...(event ? { event } : {}) });
      if ('failure' in r) throw new Error(`announce refused: ${String(r.failure)}`);
      await pause(25);
    };
    // Peer 1: a seed from the start (its 1000 is a baseline, not traffic here), then uploads 4000.
    await step(1, 0, 1000, 'started');
    await step(1, 0, 5000);
    // Peer 2: a leecher that uploads 200, restarts its counter (50 is the new baseline), uploads 30.
    await step(2, 100, 0, 'started');
    await step(2, 100, 200);
    await step(2, 100, 50);
    await step(2, 100, 80);
    // Peer 3: a BEP 21 partial seed: in `leechers`, not in `downloaders`.
    await step(3, 100, 0, 'started');
    await step(3, 100, 0, 'paused');
    // Peer 4: completes (one completion), uploading 250 on the way.
    await step(4, 100, 50, 'started');
    await step(4, 0, 300, 'completed');
    // Peer 5: joins, uploads 70, stops (the stop's totals count), and is gone.
    await step(5, 100, 0, 'started');
    await step(5, 100, 70, 'stopped');

    const seedUrl = new URL(`/seed/${published.infoHash}/${encodeURIComponent(name)}`, base);
    const ranged = await fetch(seedUrl, { headers: { range: 'bytes=0-999' } });
    if (ranged.status !== 206) throw new Error(`seed range answered ${ranged.status}`);
    await ranged.arrayBuffer();
    const whole = await fetch(seedUrl);
    await whole.arrayBuffer();
    // HEAD sends no bytes: it does not count.
    await (await fetch(seedUrl, { method: 'HEAD' })).arrayBuffer();
    // BEP 17: two ranges of piece 1.
    const bep17 = await fetch(new URL(`/seed17?info_hash=${escapeBytes(hash)}&piece=1&ranges=0-99,1000-1499`, base));
    if (bep17.status !== 200) throw new Error(`seed17 answered ${bep17.status}`);
    await bep17.arrayBuffer();

    return {
      infoHash: published.infoHash,
      name,
      seeds: 2, // peers 1 and 4
      leechers: 2, // peers 2 and 3
      downloaders: 1, // peer 2
      completed: 1, // peer 4
      edgeBytes: 1000 + FILE_SIZE + 100 + 500,
      peerBytes: 4000 + 200 + 30 + 250 + 70,
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Polls until `check` passes (edge bytes and batched re-announces arrive a moment later). */
export async function eventually<T>(read: () => Promise<T>, check: (value: T) => boolean, timeoutMs = 15_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (check(value) || Date.now() > until) return value;
    await pause(200);
  }
}
