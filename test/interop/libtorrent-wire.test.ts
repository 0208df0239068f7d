/**
 * Our peer-wire connection against a real libtorrent seed (python3-libtorrent) over TCP on
 * 127.0.0.1: handshake with the Fast and Extension bits, libtorrent's BEP 10 handshake decoded,
 * its have-all (BEP 6) or full bitfield, unchoke after interested, and a requested block whose
 * bytes equal the content.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { buildTorrent, hashPieces } from '../../shared/metainfo/index.js';
import { PeerConnection } from '../../peer-node/wire/peer-connection.js';
import { decodeExtensionHandshake, encodeExtensionHandshake } from '../../shared/wire/extension-handshake.js';
import type { WireMessage } from '../../shared/wire/messages.js';
import { missingTools, SYSTEM_PYTHON } from '../helpers/real-tools.js';

const SEED = path.join(import.meta.dirname, 'tools', 'lt_seed.py');
const skip = missingTools([], true);

test('our wire connection speaks to a libtorrent seed: handshakes, have-all, unchoke, a verified block', { skip, timeout: 60_000 }, async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'lt-wire-'));
  const seedDir = path.join(dir, 'seed');
  await mkdir(seedDir);
  const content = randomBytes(1024 * 1024 + 777);
  await writeFile(path.join(seedDir, 'clip.bin'), content);
  const pieceLength = 64 * 1024;
  const built = await buildTorrent({ name: 'clip.bin', pieceLength, pieces: await hashPieces(content, pieceLength), length: content.length, announce: 'http://127.0.0.1:9/announce' });
  await writeFile(path.join(dir, 'clip.torrent'), built.bytes);
  const lt = spawn(SYSTEM_PYTHON, [SEED, path.join(dir, 'clip.torrent'), seedDir, '50'], { stdio: ['pipe', 'pipe', 'inherit'] });
  try {
    let out = '';
    while (!out.includes('\n')) out += String((await once(lt.stdout, 'data'))[0]);
    const { port, seeding } = JSON.parse(out) as { port: number; seeding: boolean };
    assert.equal(seeding, true);

    const peerId = new TextEncoder().encode('-ES0100-wireinterop1');
    const conn = PeerConnection.connect('127.0.0.1', port, built.torrent.infoHash, { peerId, capabilities: { extensionProtocol: true, fast: true, dht: false } });
    const messages: WireMessage[] = [];
    const waiters: Array<() => void> = [];
    conn.on('message', (m: WireMessage) => {
      messages.push(m);
      for (const w of waiters.splice(0)) w();
    });
    const waitFor = async <T extends WireMessage['type']>(type: T): Promise<Extract<WireMessage, { type: T }>> => {
      for (;;) {
        const hit = messages.find((m) => m.type === type);
        if (hit) return hit as Extract<WireMessage, { type: T }>;
        if (conn.closed) assert.fail(`closed before ${type}: ${conn.closeReason}`);
        await new Promise<void>((resolve) => {
          waiters.push(resolve);
          conn.once('close', () => resolve());
        });
      }
    };
    await once(conn, 'handshake');
    assert.deepEqual(conn.remote!.capabilities.fast, true, 'libtorrent sets the Fast bit');
    assert.deepEqual(conn.remote!.capabilities.extensionProtocol, true, 'libtorrent sets the extension bit');
    conn.send({ type: 'extended', extendedId: 0, payload: encodeExtensionHandshake({ m: new Map([['ut_pex', 1]]), v: 'edge-swarm test', reqq: 64 }) });

    const ext = decodeExtensionHandshake((await waitFor('extended')).payload);
    assert.match(ext.v ?? '', /libtorrent|Deluge|LT/i, `client name: ${ext.v}`);
    assert.ok(ext.m.size > 0, 'libtorrent lists its extensions');
    assert.ok(ext.yourip && ext.yourip.length === 4 && ext.yourip[0] === 127, 'yourip is our loopback address');
    // A seed with the Fast extension on both sides says have-all (BEP 6) instead of a full bitfield.
    const have = messages.find((m) => m.type === 'haveAll' || m.type === 'bitfield') ?? (await Promise.race([waitFor('haveAll'), waitFor('bitfield')]));
    assert.equal(have.type, 'haveAll', 'libtorrent, seeding, says have-all to a Fast peer');

    conn.send({ type: 'interested' });
    await waitFor('unchoke');
    const block = { index: 3, begin: 16384, length: 16384 };
    conn.send({ type: 'request', ...block });
    const piece = await waitFor('piece');
    assert.deepEqual([piece.index, piece.begin], [block.index, block.begin]);
    const offset = block.index * pieceLength + block.begin;
    assert.ok(Buffer.from(piece.block).equals(content.subarray(offset, offset + block.length)), 'the block is the content');
    conn.close('done');
  } finally {
    lt.stdin!.end();
    lt.kill();
    await rm(dir, { recursive: true, force: true });
  }
});
