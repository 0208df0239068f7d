/**
 * BEP 16 super-seeding over TCP on 127.0.0.1: a newcomer sees an empty bitfield and then one
 * piece at a time, and may fetch only what it was shown; a swarm of our leechers completes from
 * a super-seed while the seed uploads about one copy, against normal seeding in the same run.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Client } from '../../peer-node/client.js';
import type { Torrent } from '../../peer-node/engine/torrent.js';
import { MessageFramer } from '../../shared/wire/framer.js';
import { encodeHandshake, HANDSHAKE_LENGTH } from '../../shared/wire/handshake.js';
import { encodeMessage, type WireMessage } from '../../shared/wire/messages.js';
import { makeContent, sameFiles } from '../helpers/content.js';

test('a super-seed shows a newcomer nothing, then one piece; only that piece is served', { timeout: 30_000 }, async () => {
  const root = await mkdtemp(path.join(tmpdir(), 'superseed-raw-'));
  const seed = new Client({ port: 0, host: '127.0.0.1' });
  try {
    const content = await makeContent(path.join(root, 'seed'), [20 * 16384], { pieceLength: 16384 });
    await seed.listen();
    await seed.add(content.built.torrent, { dir: content.dir, superSeed: true });
    const socket = net.connect(seed.port, '127.0.0.1');
    await once(socket, 'connect');
    const messages: WireMessage[] = [];
    const framer = new MessageFramer();
    let head = Buffer.alloc(0);
    socket.on('data', (d: Buffer) => {
      head = Buffer.concat([head, d]);
      if (head.length < HANDSHAKE_LENGTH) return;
      messages.push(...framer.push(head.subarray(HANDSHAKE_LENGTH)));
      head = head.subarray(0, HANDSHAKE_LENGTH);
    });
    socket.write(encodeHandshake({ reserved: Uint8Array.from([0, 0, 0, 0, 0, 0, 0, 0x04]), infoHash: content.built.torrent.infoHash, peerId: randomBytes(20) }));
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(messages[0]?.type, 'haveNone', 'an empty bitfield first');
    const haves = messages.filter((m) => m.type === 'have') as Extract<WireMessage, { type: 'have' }>[];
    assert.equal(haves.length, 1, 'then exactly one piece');
    assert.ok(!messages.some((m) => m.type === 'allowedFast'), 'no allowed-fast set (it would show pieces)');
    const shown = haves[0]!.index;
    const other = (shown + 1) % 20;
    socket.write(encodeMessage({ type: 'interested' }));
    socket.write(encodeMessage({ type: 'request', index: other, begin: 0, length: 16384 }));
    socket.write(encodeMessage({ type: 'request', index: shown, begin: 0, length: 16384 }));
    await new Promise((r) => setTimeout(r, 300));
    assert.equal((messages.find((m) => m.type === 'rejectRequest') as { index: number } | undefined)?.index, other);
    assert.equal((messages.find((m) => m.type === 'piece') as { index: number } | undefined)?.index, shown);
    socket.destroy();
  } finally {
    await seed.close();
    await rm(root, { recursive: true, force: true });
  }
});

/** Seed uploads until the leechers together hold every piece, and until all are complete. */
async function swarm(root: string, superSeed: boolean, leechers: number) {
  const content = await makeContent(path.join(root, 'seed'), [2 * 1024 * 1024], { pieceLength: 32 * 1024 });
  const total = content.built.torrent.info.length;
  const clients = Array.from({ length: leechers + 1 }, () => new Client({ port: 0, host: '127.0.0.1' }));
  try {
    for (const c of clients) await c.listen();
    const seeding = await clients[0]!.add(content.built.torrent, { dir: content.dir, superSeed });
    const ts: Torrent[] = [];
    for (let i = 1; i <= leechers; i++) ts.push(await clients[i]!.add(content.built.torrent, { dir: path.join(root, `l${i}`) }));
    let atFullCopy: number | undefined;
    const check = () => {
      if (atFullCopy !== undefined) return;
      for (let p = 0; p < content.built.torrent.info.pieceCount; p++) if (!ts.some((t) => t.have.has(p))) return;
      atFullCopy = seeding.statsSnapshot().uploaded;
    };
    for (const t of ts) t.on('piece', check);
    // Everyone knows everyone: the leechers can trade among themselves.
    const addresses = clients.map((c) => ({ host: '127.0.0.1', port: c.port }));
    ts.forEach((t, i) => t.addPeers(addresses.filter((_, j) => j !== i + 1)));
    await Promise.all(ts.map((t) => (t.complete ? undefined : once(t, 'done'))));
    for (let i = 1; i <= leechers; i++) assert.deepEqual(await sameFiles(content, path.join(root, `l${i}`)), [true]);
    return { fullCopy: atFullCopy! / total, all: seeding.statsSnapshot().uploaded / total };
  } finally {
    await Promise.all(clients.map((c) => c.close()));
  }
}

test('four leechers complete from a super-seed, which uploads about one copy until the swarm holds one', { timeout: 120_000 }, async () => {
  const root = await mkdtemp(path.join(tmpdir(), 'superseed-swarm-'));
  try {
    const superSeeded = await swarm(path.join(root, 'super'), true, 4);
    const normal = await swarm(path.join(root, 'normal'), false, 4);
    console.log(`seed upload until the swarm held a full copy: super-seeding ${(superSeeded.fullCopy * 100).toFixed(0)}%, normal ${(normal.fullCopy * 100).toFixed(0)}%; until all complete: ${(superSeeded.all * 100).toFixed(0)}% vs ${(normal.all * 100).toFixed(0)}%`);
    assert.ok(superSeeded.fullCopy < 1.5, `a super-seed sends each piece about once (${superSeeded.fullCopy})`);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});

test('peer-node seed --super-seed serves a download to completion', { timeout: 60_000 }, async () => {
  const { spawn } = await import('node:child_process');
  const BIN = path.join(import.meta.dirname, '..', '..', 'peer-node', 'bin', 'peer-node.js');
  const root = await mkdtemp(path.join(tmpdir(), 'superseed-cli-'));
  const content = await makeContent(path.join(root, 'seed'), [300_000, 7]);
  const seeder = spawn(process.execPath, [BIN, 'seed', content.torrentPath, '--dir', content.dir, '--super-seed', '--host', '127.0.0.1', '--port', '0'], { stdio: ['ignore', 'ignore', 'pipe'] });
  try {
    let err = '';
    while (!/seeding content/.test(err)) err += String((await once(seeder.stderr!, 'data'))[0]);
    const port = Number(/listening on port (\d+)/.exec(err)![1]);
    const leech = spawn(process.execPath, [BIN, 'download', content.torrentPath, '--out', path.join(root, 'out'), '--peer', `127.0.0.1:${port}`, '--host', '127.0.0.1', '--port', '0', '--json'], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    leech.stdout!.on('data', (d) => (out += d));
    const [code] = await once(leech, 'exit');
    assert.equal(code, 0);
    assert.equal((JSON.parse(out) as { complete: boolean }).complete, true);
    assert.deepEqual(await sameFiles(content, path.join(root, 'out')), [true, true]);
  } finally {
    seeder.kill('SIGINT');
    await once(seeder, 'exit');
    await rm(root, { recursive: true, force: true });
  }
});
