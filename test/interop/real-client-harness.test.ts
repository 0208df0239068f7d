/**
 * The real-client helpers work, checked against libtorrent: qBittorrent-nox leeches a multi-file
 * torrent from a libtorrent seed it is pointed at (also when that peer refused its first
 * dials), and a libtorrent leech that speaks plaintext only downloads from a Transmission seed
 * by dialling its port. Each side gets only the one peer (no tracker, DHT, LSD or PeX), so the
 * bytes can have come from nowhere else.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { type AddressInfo, connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { buildTorrent, hashPieces } from '../../shared/metainfo/index.js';
import { sleep } from '../helpers/local-process.js';
import { type QbtInstance, startQbittorrent } from '../helpers/qbittorrent.js';
import { type LtSeed, runLtLeech, startLtSeed } from '../helpers/libtorrent.js';
import { missingTools } from '../helpers/real-tools.js';
import { startTransmissionSeed, type TransmissionSeed } from '../helpers/transmission.js';

/** Uneven file sizes, so pieces straddle file boundaries. */
const FILES: Array<{ path: string[]; length: number }> = [
  { path: ['disc 1', 'track 01.bin'], length: 300_001 },
  { path: ['disc 1', 'notes.txt'], length: 517 },
  { path: ['disc 2', 'track 01.bin'], length: 1_234_567 },
];

interface Album {
  seedDir: string;
  torrentPath: string;
  bytes: Uint8Array;
  infoHash: string;
  contents: Buffer[];
}

/** Random content for FILES under `seedDir/album`, and a trackerless .torrent for it. */
async function makeAlbum(dir: string): Promise<Album> {
  const seedDir = path.join(dir, 'seed');
  const contents = FILES.map((f) => randomBytes(f.length));
  for (const [i, f] of FILES.entries()) {
    await mkdir(path.join(seedDir, 'album', ...f.path.slice(0, -1)), { recursive: true });
    await writeFile(path.join(seedDir, 'album', ...f.path), contents[i]!);
  }
  const pieceLength = 32 * 1024;
  const built = await buildTorrent({ name: 'album', pieceLength, pieces: await hashPieces(Buffer.concat(contents), pieceLength), files: FILES });
  const torrentPath = path.join(dir, 'album.torrent');
  await writeFile(torrentPath, built.bytes);
  return { seedDir, torrentPath, bytes: built.bytes, infoHash: built.torrent.infoHashHex, contents };
}

async function assertSameFiles(saveDir: string, contents: Buffer[]): Promise<void> {
  for (const [i, f] of FILES.entries()) {
    const got = await readFile(path.join(saveDir, 'album', ...f.path));
    assert.ok(got.equals(contents[i]!), `${f.path.join('/')} is byte-identical`);
  }
}

async function startAlbumSeed(album: Album): Promise<LtSeed> {
  return startLtSeed(album.torrentPath, album.seedDir);
}

const qbtSkip = missingTools(['qbittorrent-nox'], true);

test('qBittorrent-nox leeches a multi-file torrent from a libtorrent seed it is given with addPeer', { skip: qbtSkip, timeout: 90_000 }, async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'qbt-harness-'));
  let seed: LtSeed | undefined;
  let qbt: QbtInstance | undefined;
  try {
    const album = await makeAlbum(dir);
    seed = await startAlbumSeed(album);
    qbt = await startQbittorrent();
    const saveDir = path.join(dir, 'qbt');
    const hash = await qbt.addTorrent(album.bytes, saveDir);
    assert.equal(hash, album.infoHash);
    await qbt.addPeer(hash, `127.0.0.1:${seed.port}`);
    const done = await qbt.waitComplete(hash, 60_000);
    assert.equal(done.progress, 1);
    assert.equal(done.size, FILES.reduce((n, f) => n + f.length, 0));
    await assertSameFiles(saveDir, album.contents);
  } finally {
    await qbt?.stop();
    seed?.stop();
    await rm(dir, { recursive: true, force: true });
  }
});

test('qBittorrent waitComplete dials again when the peer refused the first connections', { skip: qbtSkip, timeout: 90_000 }, async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'qbt-redial-'));
  let seed: LtSeed | undefined;
  let qbt: QbtInstance | undefined;
  // A port that drops every connection until `open`, then forwards to the seed: like a peer
  // that is not ready yet when qBittorrent first dials.
  let open = false;
  const gate = createServer((socket) => {
    if (!open || !seed) return socket.destroy();
    const upstream = connect(seed.port, '127.0.0.1');
    socket.pipe(upstream).pipe(socket);
    socket.on('error', () => upstream.destroy());
    upstream.on('error', () => socket.destroy());
  });
  try {
    const album = await makeAlbum(dir);
    seed = await startAlbumSeed(album);
    gate.listen(0, '127.0.0.1');
    await once(gate, 'listening');
    qbt = await startQbittorrent();
    const saveDir = path.join(dir, 'qbt');
    const hash = await qbt.addTorrent(album.bytes, saveDir);
    await qbt.addPeer(hash, `127.0.0.1:${(gate.address() as AddressInfo).port}`);
    await sleep(2000); // qBittorrent's dials (MSE, then plaintext) are refused by now
    open = true;
    const started = Date.now();
    await qbt.waitComplete(hash, 60_000, 3000);
    assert.ok(Date.now() - started < 30_000, 'completed well before libtorrent would retry on its own');
    await assertSameFiles(saveDir, album.contents);
  } finally {
    await qbt?.stop();
    gate.close();
    seed?.stop();
    await rm(dir, { recursive: true, force: true });
  }
});

test('Transmission seeds to a plaintext libtorrent leech that dials its port', { skip: missingTools(['transmission-daemon'], true), timeout: 90_000 }, async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'tr-harness-'));
  let seed: TransmissionSeed | undefined;
  try {
    const album = await makeAlbum(dir);
    seed = await startTransmissionSeed(album.torrentPath, album.seedDir);
    const saveDir = path.join(dir, 'lt');
    const result = await runLtLeech(album.torrentPath, saveDir, '127.0.0.1', seed.port);
    assert.equal(result.complete, true, `libtorrent completed: ${JSON.stringify(result)}`);
    await assertSameFiles(saveDir, album.contents);
    assert.ok((await seed.status()).uploadedEver > 0, 'Transmission reports the upload');
  } finally {
    await seed?.stop();
    await rm(dir, { recursive: true, force: true });
  }
});
