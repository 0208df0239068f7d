/**
 * The DHT in use, over UDP and TCP on 127.0.0.1: a seed announces its torrent in the DHT, and a
 * magnet with nothing but the info-hash downloads through the DHT and ut_metadata;
 * `peer-node dht lookup` prints the seed's address.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Client } from '../../peer-node/client.js';
import { DhtNode } from '../../peer-node/dht/dht-node.js';
import { parseMagnet } from '../../shared/metainfo/index.js';
import { makeContent, sameFiles } from '../helpers/content.js';
import { until } from '../helpers/raw-peer.js';
import { PEER_NODE_BIN, runProcess } from '../helpers/local-process.js';

const BIN = PEER_NODE_BIN;

test('a magnet with only the info-hash downloads through the DHT; dht lookup prints the seed', { timeout: 60_000 }, async () => {
  const root = await mkdtemp(path.join(tmpdir(), 'dht-magnet-'));
  const router = new DhtNode({ host: '127.0.0.1', queryTimeoutMs: 1000 });
  const clients: Client[] = [];
  try {
    await router.listen();
    const bootstrap = [{ host: '127.0.0.1', port: router.port }];
    const content = await makeContent(path.join(root, 'seed'), [400_000, 3]);
    const seed = new Client({ port: 0, host: '127.0.0.1', dhtBootstrap: bootstrap });
    clients.push(seed);
    await seed.listen();
    await seed.add(content.built.torrent, { dir: content.dir });
    const hash = content.built.torrent.infoHash;
    // The seed's announce lands at the router (the only other node).
    await until('the seed announced in the DHT', async () => (await router.getPeers(hash)).peers.length > 0 || (await seed.dht!.getPeers(hash)).peers.length > 0);

    // Not spawnSync: the router lives in this process and must keep answering.
    const lookup = spawn(process.execPath, [BIN, 'dht', 'lookup', content.built.torrent.infoHashHex, '--bootstrap', `127.0.0.1:${router.port}`, '--host', '127.0.0.1'], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    lookup.stdout.on('data', (d) => (out += d));
    const [code] = await once(lookup, 'exit');
    assert.equal(code, 0);
    assert.deepEqual(out.trim().split('\n'), [`127.0.0.1:${seed.port}`]);
    // --json: one object for scripts, with what the lookup cost.
    const json = spawn(process.execPath, [BIN, 'dht', 'lookup', content.built.torrent.infoHashHex.toUpperCase(), '--bootstrap', `127.0.0.1:${router.port}`, '--host', '127.0.0.1', '--json'], { stdio: ['ignore', 'pipe', 'inherit'] });
    let jsonOut = '';
    json.stdout.on('data', (d) => (jsonOut += d));
    assert.equal((await once(json, 'exit'))[0], 0);
    const lines = jsonOut.trim().split('\n');
    assert.equal(lines.length, 1, jsonOut);
    const found = JSON.parse(lines[0]!) as { infoHash: string; peers: string[]; queries: number; unanswered: number };
    assert.equal(found.infoHash, content.built.torrent.infoHashHex);
    assert.deepEqual(found.peers, [`127.0.0.1:${seed.port}`]);
    assert.ok(found.queries >= 1 && found.unanswered >= 0 && found.unanswered <= found.queries, lines[0]);

    const leech = new Client({ port: 0, host: '127.0.0.1', dhtBootstrap: bootstrap });
    clients.push(leech);
    await leech.listen();
    const { torrent, peers } = await leech.fetchMetadata(parseMagnet(`magnet:?xt=urn:btih:${content.built.torrent.infoHashHex}`), 30_000);
    const t = await leech.add(torrent, { dir: path.join(root, 'leech') });
    t.addPeers(peers);
    if (!t.complete) await once(t, 'done');
    assert.deepEqual(await sameFiles(content, path.join(root, 'leech')), [true, true]);
  } finally {
    await Promise.all(clients.map((c) => c.close()));
    router.close();
    await rm(root, { recursive: true, force: true });
  }
});

test('peer-node dht runs a standalone node that reports its routing table as it grows', { timeout: 30_000 }, async () => {
  const router = new DhtNode({ host: '127.0.0.1' });
  await router.listen();
  const node = spawn(process.execPath, [BIN, 'dht', '--port', '0', '--host', '127.0.0.1', '--bootstrap', `127.0.0.1:${router.port}`], { stdio: ['ignore', 'pipe', 'pipe'] });
  try {
    let out = '';
    node.stdout.on('data', (d) => (out += d));
    const end = Date.now() + 20_000;
    while (!/routing table: 1 nodes/.test(out) && Date.now() < end) await new Promise((r) => setTimeout(r, 100));
    assert.match(out, /^routing table: 0 nodes in 1 buckets\n/, 'an empty table first');
    assert.match(out, /routing table: 1 nodes in 1 buckets/, 'then the bootstrap node');
    assert.ok(router.table.size >= 1, 'and the router took the new node in after it answered');
  } finally {
    node.kill('SIGINT');
    await once(node, 'exit');
    router.close();
  }
});

test('peer-node seed and download with --bootstrap: a trackerless magnet completes through the DHT alone', { timeout: 90_000 }, async () => {
  const root = await mkdtemp(path.join(tmpdir(), 'dht-cli-'));
  const router = new DhtNode({ host: '127.0.0.1', queryTimeoutMs: 1000 });
  await router.listen();
  const bootstrap = `127.0.0.1:${router.port}`;
  const probe = new DhtNode({ host: '127.0.0.2', queryTimeoutMs: 1000 });
  const content = await makeContent(path.join(root, 'seed'), [300_000, 77_777]);
  const hash = content.built.torrent.infoHash;
  const seeder = spawn(process.execPath, [BIN, 'seed', content.torrentPath, '--dir', content.dir, '--host', '127.0.0.1', '--port', '0', '--bootstrap', bootstrap], { stdio: ['ignore', 'ignore', 'pipe'] });
  seeder.stderr.resume();
  try {
    // A third node asks the router, which holds the announce (the router never asks itself).
    await probe.listen();
    await probe.bootstrap([{ host: '127.0.0.1', port: router.port }]);
    await until('the seed process announced in the DHT', async () => (await probe.getPeers(hash)).peers.length > 0, 30_000);
    const out = path.join(root, 'out');
    const { code, stdout, stderr } = await runProcess(process.execPath, [BIN, 'download', `magnet:?xt=urn:btih:${content.built.torrent.infoHashHex}`, '--out', out, '--host', '127.0.0.1', '--port', '0', '--bootstrap', bootstrap, '--json']);
    assert.equal(code, 0, stderr);
    const summary = JSON.parse(stdout) as { complete: boolean; bytesFromPeers: number };
    assert.equal(summary.complete, true);
    assert.equal(summary.bytesFromPeers, content.built.torrent.info.length, 'every byte from the seed the DHT named');
    assert.deepEqual(await sameFiles(content, out), [true, true]);
  } finally {
    seeder.kill('SIGINT');
    await once(seeder, 'exit');
    probe.close();
    router.close();
    await rm(root, { recursive: true, force: true });
  }
});
