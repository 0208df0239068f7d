/** Piece storage on a real filesystem: multi-file writes across boundaries, padding, reads, and resume by verification. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { buildTorrent, hashPieces } from '../../shared/metainfo/index.js';
import { TorrentStorage } from '../../peer-node/storage/torrent-storage.js';

test('pieces written in any order land in the right files; padding is never written; verify finds them after a restart', async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'storage-'));
  try {
    const pieceLength = 16 * 1024;
    const a = randomBytes(40_000);
    const pad = Buffer.alloc(pieceLength * 3 - a.length); // BEP 47: b starts on a piece boundary
    const b = randomBytes(25_000);
    const c = randomBytes(10);
    const whole = Buffer.concat([a, pad, b, c]);
    const built = await buildTorrent({
      name: 'album',
      pieceLength,
      pieces: await hashPieces(whole, pieceLength),
      files: [
        { length: a.length, path: ['a.bin'] },
        { length: pad.length, path: ['.pad', String(pad.length)], padding: true },
        { length: b.length, path: ['sub', 'b.bin'] },
        { length: c.length, path: ['c.txt'] },
      ],
    });
    const info = built.torrent.info;
    const storage = new TorrentStorage(info, dir, 2); // 2 handles: eviction happens
    const order = [...Array(info.pieceCount).keys()].reverse();
    for (const i of order) await storage.writePiece(i, whole.subarray(i * pieceLength, Math.min(whole.length, (i + 1) * pieceLength)));
    assert.deepEqual(await readFile(path.join(dir, 'album', 'a.bin')), a);
    assert.deepEqual(await readFile(path.join(dir, 'album', 'sub', 'b.bin')), b);
    assert.deepEqual(await readFile(path.join(dir, 'album', 'c.txt')), c);
    await assert.rejects(stat(path.join(dir, 'album', '.pad')), /ENOENT/);
    // A block across the padding reads as zeros there.
    const block = await storage.read(2, 0, pieceLength);
    assert.deepEqual(Buffer.from(block!), whole.subarray(2 * pieceLength, 3 * pieceLength));
    await storage.close();

    // Many reads at once through one handle slot: evicted handles close only when unused.
    const narrow = new TorrentStorage(info, dir, 1);
    const reads = await Promise.all([...Array(info.pieceCount).keys()].map((i) => narrow.read(i, 0, narrow.geometry.pieceSize(i))));
    assert.deepEqual(Buffer.concat(reads.map((r) => r!)), whole);
    await narrow.close();

    // A restart: verify from disk. Then damage one byte of b: only its piece is lost.
    const again = new TorrentStorage(info, dir);
    assert.deepEqual(await again.verify(), Array(info.pieceCount).fill(true));
    await again.close();
    const bPath = path.join(dir, 'album', 'sub', 'b.bin');
    const damaged = Buffer.from(b);
    damaged[20_000] = damaged[20_000]! ^ 0xff;
    await writeFile(bPath, damaged);
    const third = new TorrentStorage(info, dir);
    const have = await third.verify();
    const badPiece = Math.floor((a.length + pad.length + 20_000) / pieceLength);
    assert.deepEqual(have, have.map((_, i) => i !== badPiece));
    await third.close();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('an empty folder verifies as nothing, without creating files', async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'storage-'));
  try {
    const content = randomBytes(50_000);
    const built = await buildTorrent({ name: 'one.bin', pieceLength: 16384, pieces: await hashPieces(content, 16384), length: content.length });
    const storage = new TorrentStorage(built.torrent.info, dir);
    assert.deepEqual(await storage.verify(), [false, false, false, false]);
    assert.equal(await storage.read(0, 0, 10), undefined);
    await assert.rejects(stat(path.join(dir, 'one.bin')), /ENOENT/);
    await storage.writePiece(3, content.subarray(3 * 16384));
    assert.deepEqual(await storage.verify(), [false, false, false, true]);
    await storage.close();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
