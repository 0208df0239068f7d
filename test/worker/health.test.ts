import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import { startTestEdge, tempStateDir } from '../helpers/edge.js';

test('the edge answers /health and a JSON 404 on Miniflare', async () => {
  const state = await tempStateDir();
  const edge = await startTestEdge(state.dir);
  try {
    const health = await fetch(new URL('/health', edge.url));
    assert.equal(health.status, 200);
    assert.deepEqual(await health.json(), { status: 'ok' });
    const missing = await fetch(new URL('/no/such/route', edge.url));
    assert.equal(missing.status, 404);
    assert.deepEqual(await missing.json(), { error: 'not found', path: '/no/such/route' });
  } finally {
    await edge.close();
    await state.remove();
  }
});

test('Durable Object and R2 state persist in one folder across a restart', async () => {
  const state = await tempStateDir();
  let edge = await startTestEdge(state.dir);
  try {
    const first = (await (await fetch(new URL('/health/storage', edge.url))).json()) as Record<string, number>;
    assert.equal(first.swarmProbes, 1);
    assert.equal(first.connectionIdProbes, 1);
    assert.equal(first.contentObjects, 0);
    const bucket = await edge.miniflare.getR2Bucket('CONTENT');
    await bucket.put('kept/across/restart', 'bytes that must survive');
    await edge.close();

    edge = await startTestEdge(state.dir);
    const second = (await (await fetch(new URL('/health/storage', edge.url))).json()) as Record<string, number>;
    assert.equal(second.swarmProbes, 2, 'the Swarm object kept its SQLite state');
    assert.equal(second.connectionIdProbes, 2, 'the ConnectionIds object kept its SQLite state');
    assert.equal(second.contentObjects, 1, 'R2 kept the object');
    const object = await (await edge.miniflare.getR2Bucket('CONTENT')).get('kept/across/restart');
    assert.equal(await object?.text(), 'bytes that must survive');
    // Everything lives below the one state folder.
    const kinds = (await readdir(state.dir)).sort();
    assert.ok(kinds.includes('do') && kinds.includes('r2'), `state folder holds ${kinds.join(', ')}`);
  } finally {
    await edge.close();
    await state.remove();
  }
});
