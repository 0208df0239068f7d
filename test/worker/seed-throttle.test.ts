/**
 * The edge seed protects itself (BEP 17): 503 with the seconds to wait (body and Retry-After),
 * bans for clients that come back too early, and a policy that defers to a healthy swarm.
 * Requests go through undici (Node's fetch), as a real client's would.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { publishPath } from '../../peer-node/publish/publish-client.js';
import { fromHex, toHex } from '../../shared/bytes.js';
import { TEST_SECRETS, withEdge } from '../helpers/edge.js';
import { announce, scrape } from '../helpers/tracker-client.js';

async function withPublished(vars: Record<string, string>, body: (base: URL, infoHash: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(path.join(tmpdir(), 'throttle-'));
  try {
    const file = path.join(dir, 'clip.bin');
    await writeFile(file, randomBytes(400_000));
    await withEdge(vars, async (edge) => {
      const { infoHash } = await publishPath({ path: file, edge: edge.url, token: TEST_SECRETS.PUBLISH_TOKEN, pieceLength: 16384 });
      await body(edge.url, infoHash);
    });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const range = (base: URL, hash: string, from: number, length: number) =>
  fetch(new URL(`/seed/${hash}/clip.bin`, base), { headers: { range: `bytes=${from}-${from + length - 1}` } });

test('over its per-client rate a client gets 503 with the seconds to wait, and early retries earn a ban', async () => {
  await withPublished({ SEED_CLIENT_RATE: '50000', SEED_BURST_SECONDS: '1', SEED_BAN_STRIKES: '3', SEED_BAN_SECONDS: '120' }, async (base, hash) => {
    assert.equal((await range(base, hash, 0, 40_000)).status, 206);
    const busy = await range(base, hash, 40_000, 40_000);
    assert.equal(busy.status, 503);
    const seconds = Number(await busy.text());
    assert.ok(seconds >= 1 && seconds <= 2, `waits ${seconds} s`);
    assert.equal(busy.headers.get('retry-after'), String(seconds));
    assert.match(busy.headers.get('x-edge-reason') ?? '', /per-client/);
    await new Promise((r) => setTimeout(r, seconds * 1000 + 100));
    // A whole-file GET is served once the bucket is full, and charged in full: 400 kB at
    // 50 kB/s leaves the client about 7 s in debt.
    const whole = await fetch(new URL(`/seed/${hash}/clip.bin`, base));
    assert.equal(whole.status, 200);
    assert.equal((await whole.arrayBuffer()).byteLength, 400_000);
    const owed = await range(base, hash, 0, 10);
    assert.equal(owed.status, 503);
    assert.ok(Number(await owed.text()) >= 6);
    // Coming back before the time given, again and again (a second apart): banned.
    const early: Response[] = [];
    for (let i = 0; i < 3; i++) {
      await new Promise((r) => setTimeout(r, 1050));
      early.push(await range(base, hash, 0, 10));
    }
    assert.deepEqual(early.map((r) => r.status), [503, 503, 503]);
    assert.equal(early[2]!.headers.get('retry-after'), '120');
    assert.match(early[2]!.headers.get('x-edge-reason') ?? '', /banned/);
    // BEP 17 requests share the same budget.
    const bep17 = await fetch(new URL(`/seed17?info_hash=${Array.from(fromHex(hash)!, (b) => `%${b.toString(16).padStart(2, '0')}`).join('')}&piece=0`, base));
    assert.equal(bep17.status, 503);
  });
});

test('with enough P2P seeds the edge sends clients to the swarm; while it serves it counts as a seed', async () => {
  await withPublished({ SEED_REFUSE_AT_SEEDS: '2' }, async (base, hash) => {
    const infoHash = fromHex(hash)!;
    assert.equal((await range(base, hash, 0, 1000)).status, 206);
    // The edge told the swarm it seeds it: one seed in the counts with no P2P seed at all.
    let counts;
    for (let i = 0; i < 40; i++) {
      counts = await scrape(base, [infoHash]);
      assert.ok(!('failure' in counts));
      if (counts.get(toHex(infoHash))?.complete === 1) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.equal(counts && !('failure' in counts) ? counts.get(hash)?.complete : -1, 1);
    await announce(base, { hash: infoHash, peer: 1, left: 0, event: 'started' });
    await announce(base, { hash: infoHash, peer: 2, left: 0, event: 'started' });
    // The swarm's health is cached for up to 10 s per isolate; wait for it to be asked again.
    let status = 206;
    let reason = '';
    for (let i = 0; i < 30 && status !== 503; i++) {
      const r = await range(base, hash, 0, 100);
      status = r.status;
      reason = r.headers.get('x-edge-reason') ?? '';
      await r.arrayBuffer();
      if (status !== 503) await new Promise((res) => setTimeout(res, 500));
    }
    assert.equal(status, 503);
    assert.match(reason, /2 seeds: download from peers/);
  });
});
