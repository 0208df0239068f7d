/**
 * The DHT with libtorrent's on 127.0.0.1, both ways: a libtorrent seed announces in the DHT
 * (bootstrapped from our node) and our peer downloads from a magnet holding only the info-hash;
 * our seed announces and a libtorrent leech downloads from the same kind of magnet. Trackers,
 * LSD and PEX are off: the peers come from the DHT alone.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { Client } from '../../peer-node/client.js';
import { DhtNode } from '../../peer-node/dht/dht-node.js';
import { parseMagnet } from '../../shared/metainfo/index.js';
import { makeContent, sameFiles } from '../helpers/content.js';
import { missingTools, SYSTEM_PYTHON } from '../helpers/real-tools.js';

const LT_DHT = path.join(import.meta.dirname, 'tools', 'lt_dht.py');
const skip = missingTools([], true);

test('our peer finds a libtorrent seed in the DHT from an info-hash alone and downloads', { skip, timeout: 120_000 }, async () => {
  const root = await mkdtemp(path.join(tmpdir(), 'lt-dht-seed-'));
  const router = new DhtNode({ host: '127.0.0.1', queryTimeoutMs: 2000 });
  const client = new Client({ port: 0, host: '127.0.0.1' });
  let lt: ReturnType<typeof spawn> | undefined;
  try {
    await router.listen();
    const content = await makeContent(path.join(root, 'seed'), [500_000, 1_000]);
    lt = spawn(SYSTEM_PYTHON, [LT_DHT, 'seed', content.torrentPath, content.dir, `127.0.0.1:${router.port}`, '100'], { stdio: ['pipe', 'pipe', 'inherit'] });
    let line = '';
    while (!line.includes('\n')) line += String((await once(lt.stdout!, 'data'))[0]);
    assert.equal((JSON.parse(line) as { seeding: boolean }).seeding, true);
    await client.listen();
    await client.dht!.bootstrap([{ host: '127.0.0.1', port: router.port }]);
    const hash = content.built.torrent.infoHash;
    // libtorrent announces once its DHT has bootstrapped: look until it shows up.
    const until = Date.now() + 60_000;
    while ((await client.dht!.getPeers(hash)).peers.length === 0) {
      assert.ok(Date.now() < until, 'libtorrent announced in the DHT');
      await new Promise((r) => setTimeout(r, 500));
    }
    const { torrent, peers } = await client.fetchMetadata(parseMagnet(`magnet:?xt=urn:btih:${content.built.torrent.infoHashHex}`), 30_000);
    const t = await client.add(torrent, { dir: path.join(root, 'ours') });
    t.addPeers(peers);
    if (!t.complete) await once(t, 'done');
    assert.deepEqual(await sameFiles(content, path.join(root, 'ours')), [true, true]);
  } finally {
    await client.close();
    lt?.stdin!.end();
    lt?.kill();
    router.close();
    await rm(root, { recursive: true, force: true });
  }
});

test('a libtorrent leech finds our seed in the DHT from an info-hash alone and downloads', { skip, timeout: 120_000 }, async () => {
  const root = await mkdtemp(path.join(tmpdir(), 'lt-dht-leech-'));
  const router = new DhtNode({ host: '127.0.0.1', queryTimeoutMs: 2000 });
  const seed = new Client({ port: 0, host: '127.0.0.1' });
  try {
    await router.listen();
    const bootstrap = `127.0.0.1:${router.port}`;
    const content = await makeContent(path.join(root, 'seed'), [500_000, 1_000]);
    await seed.listen();
    await seed.dht!.bootstrap([{ host: '127.0.0.1', port: router.port }]);
    await seed.add(content.built.torrent, { dir: content.dir }); // announces in the DHT at start
    const magnet = `magnet:?xt=urn:btih:${content.built.torrent.infoHashHex}`;
    const { stdout } = await promisify(execFile)(SYSTEM_PYTHON, [LT_DHT, 'leech', magnet, path.join(root, 'lt'), bootstrap, '90']);
    const result = JSON.parse(stdout) as { complete: boolean };
    assert.equal(result.complete, true, stdout);
    assert.deepEqual(await sameFiles(content, path.join(root, 'lt')), [true, true]);
  } finally {
    await seed.close();
    router.close();
    await rm(root, { recursive: true, force: true });
  }
});
