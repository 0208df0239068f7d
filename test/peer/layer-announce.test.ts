/**
 * LAYER-CHANGE at the tracker from our announcer, against a scripted HTTP tracker on 127.0.0.1
 * that asks for a 60 s min interval: the first announce carries the layer; changes after it go
 * out before the min interval but at most one announce per 15 s, merged into the latest layer,
 * and a change made while an announce is on its way is not lost.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Client } from '../../peer-node/client.js';
import { encode } from '../../shared/bencode/index.js';
import { makeContent } from '../helpers/content.js';
import { until } from '../helpers/raw-peer.js';

test('layer changes reach the tracker merged, at most one announce per 15 s, none lost', { timeout: 60_000 }, async () => {
  const seen: { layer: string | null; at: number }[] = [];
  const tracker = http.createServer((req, res) => {
    const layer = new URL(req.url ?? '/', 'http://x').searchParams.get('layer');
    seen.push({ layer, at: Date.now() });
    // Slow answers: a change made while an announce is on its way must still go out after it.
    setTimeout(() => res.end(Buffer.from(encode({ interval: 900, 'min interval': 60, peers: new Uint8Array(0) }))), 300);
  });
  tracker.listen(0, '127.0.0.1');
  await once(tracker, 'listening');
  const announce = `http://127.0.0.1:${(tracker.address() as AddressInfo).port}/announce`;
  const root = await mkdtemp(path.join(tmpdir(), 'layer-announce-'));
  const client = new Client({ port: 0, host: '127.0.0.1', dht: false });
  try {
    const content = await makeContent(path.join(root, 'seed'), [100_000], { announceList: [[announce]] });
    await client.listen();
    const t = await client.add(content.built.torrent, { dir: path.join(root, 'leech'), webSeeds: false });
    t.setActiveLayer(1, 4);
    await until('the first announce', () => seen.length >= 1);
    assert.equal(seen[0]!.layer, '1', 'the first announce carries the layer');
    const start = seen[0]!.at;
    // Three changes at once, the first while the first announce is still being answered.
    t.setActiveLayer(2, 4);
    await new Promise((r) => setTimeout(r, 500));
    t.setActiveLayer(0, 4);
    t.setActiveLayer(3, 4);
    await until('the latest layer at the tracker', () => seen.at(-1)?.layer === '3', 30_000);
    const last = seen.at(-1)!;
    assert.ok(last.at - start >= 14_000, `the change went ${last.at - start} ms after the previous announce (at least 15 s apart)`);
    assert.ok(last.at - start < 60_000, 'before the 60 s min interval');
    assert.ok(seen.length <= 3, `announces: ${JSON.stringify(seen.map((s) => s.layer))} (the changes merged)`);
    assert.ok(!seen.some((s) => s.layer === '0'), 'a layer left before it could be announced is never sent');
    await new Promise((r) => setTimeout(r, 1000));
    assert.equal(seen.at(-1)!.layer, '3', 'nothing more once the tracker has the latest');
  } finally {
    await client.close();
    tracker.close();
    await rm(root, { recursive: true, force: true });
  }
});
