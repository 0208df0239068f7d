/**
 * BEP 30 Merkle torrents between our peers over TCP on 127.0.0.1: the torrent carries only the
 * root hash; blocks travel as Tr_hashpiece with the proving hashes on each piece's first block;
 * a downloader that got the proofs passes them on to the next; a peer whose hashes do not lead to
 * the root is disconnected.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Client } from '../../peer-node/client.js';
import { buildTorrent, hashPieces, MerkleTree } from '../../shared/metainfo/index.js';
import { encodeExtensionHandshake } from '../../shared/wire/extension-handshake.js';
import { decodeExtensionHandshake } from '../../shared/wire/extension-handshake.js';
import { encodeHandshake } from '../../shared/wire/handshake.js';
import { encodeMessage } from '../../shared/wire/messages.js';
import { encodeHashPiece } from '../../shared/wire/tr-hashpiece.js';
import { onWire } from '../helpers/raw-peer.js';

const PIECE = 32 * 1024;

async function merkleContent(dir: string) {
  const files = [randomBytes(300_001), randomBytes(123_456)];
  await mkdir(path.join(dir, 'seed', 'album'), { recursive: true });
  await writeFile(path.join(dir, 'seed', 'album', 'a.bin'), files[0]!);
  await writeFile(path.join(dir, 'seed', 'album', 'b.bin'), files[1]!);
  const flat = await hashPieces(Buffer.concat(files), PIECE);
  const leaves = Array.from({ length: flat.length / 20 }, (_, i) => flat.subarray(i * 20, i * 20 + 20));
  const tree = await MerkleTree.fromPieceHashes(leaves);
  const built = await buildTorrent({ name: 'album', pieceLength: PIECE, rootHash: tree.root, files: [{ path: ['a.bin'], length: files[0]!.length }, { path: ['b.bin'], length: files[1]!.length }] });
  assert.equal(built.torrent.info.pieces.length, 0, 'no piece hashes: only the root');
  return { files, torrent: built.torrent, tree };
}

test('a Merkle torrent goes seed -> downloader -> downloader, proofs passed on; every file byte-identical', { timeout: 60_000 }, async () => {
  const root = await mkdtemp(path.join(tmpdir(), 'merkle-'));
  const clients = [0, 1, 2].map(() => new Client({ port: 0, host: '127.0.0.1' }));
  try {
    const { files, torrent } = await merkleContent(root);
    for (const c of clients) await c.listen();
    const seeding = await clients[0]!.add(torrent, { dir: path.join(root, 'seed') });
    assert.equal(seeding.complete, true, 'the seed rebuilt the tree from its data and it ends in the root');
    const first = await clients[1]!.add(torrent, { dir: path.join(root, 'one') });
    first.addPeers([{ host: '127.0.0.1', port: clients[0]!.port }]);
    if (!first.complete) await once(first, 'done');
    // The second downloader may only use the first: every proof it gets, the first passed on.
    await clients[0]!.close();
    const second = await clients[2]!.add(torrent, { dir: path.join(root, 'two') });
    second.addPeers([{ host: '127.0.0.1', port: clients[1]!.port }]);
    if (!second.complete) await once(second, 'done');
    for (const dir of ['one', 'two']) {
      const { readFile } = await import('node:fs/promises');
      assert.ok((await readFile(path.join(root, dir, 'album', 'a.bin'))).equals(files[0]!), dir);
      assert.ok((await readFile(path.join(root, dir, 'album', 'b.bin'))).equals(files[1]!), dir);
    }
    assert.equal(second.statsSnapshot().hashFailures, 0);
  } finally {
    await Promise.all(clients.map((c) => c.close()));
    await rm(root, { recursive: true, force: true });
  }
});

test('a peer whose hash list does not lead to the root is disconnected', { timeout: 30_000 }, async () => {
  const root = await mkdtemp(path.join(tmpdir(), 'merkle-liar-'));
  const client = new Client({ port: 0, host: '127.0.0.1' });
  try {
    const { torrent, tree } = await merkleContent(root);
    // A peer with have-all that answers the first block with a forged proof.
    const server = net.createServer((socket) => {
      socket.on('error', () => undefined);
      let ours = 0;
      onWire(socket, {
        handshake() {
          socket.write(encodeHandshake({ reserved: Uint8Array.from([0, 0, 0, 0, 0, 0x10, 0, 0x04]), infoHash: torrent.infoHash, peerId: randomBytes(20) }));
          socket.write(encodeMessage({ type: 'extended', extendedId: 0, payload: encodeExtensionHandshake({ m: new Map([['Tr_hashpiece', 9]]) }) }));
          socket.write(encodeMessage({ type: 'haveAll' }));
          socket.write(encodeMessage({ type: 'unchoke' }));
        },
        message(m) {
          if (m.type === 'extended' && m.extendedId === 0) ours = decodeExtensionHandshake(m.payload).m.get('Tr_hashpiece') ?? 0;
          if (m.type !== 'request' || m.begin !== 0) return;
          const forged = tree.proof(m.index).map(([node, hash]) => [node, randomBytes(hash.length)] as [number, Uint8Array]);
          const leaf = tree.nodes.length - (tree.nodes.length + 1) / 2 + m.index;
          const hashes: [number, Uint8Array][] = [[leaf, randomBytes(20)], ...forged];
          socket.write(encodeMessage({ type: 'extended', extendedId: ours, payload: encodeHashPiece({ index: m.index, begin: 0, hashes, block: randomBytes(m.length) }) }));
        },
      });
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    await client.listen();
    const t = await client.add(torrent, { dir: path.join(root, 'leech') });
    const closed = once(t, 'peerClosed');
    t.addPeers([{ host: '127.0.0.1', port: (server.address() as net.AddressInfo).port }]);
    const [, reason] = await closed;
    assert.match(reason as string, /do not lead to the root hash/);
    assert.equal(t.have.count, 0);
    server.close();
  } finally {
    await client.close();
    await rm(root, { recursive: true, force: true });
  }
});

test('peer-node create --merkle writes a root-hash torrent, and refuses web seeds with it', async () => {
  const { spawnSync } = await import('node:child_process');
  const { readFile } = await import('node:fs/promises');
  const { parseTorrent } = await import('../../shared/metainfo/index.js');
  const BIN = path.join(import.meta.dirname, '..', '..', 'peer-node', 'bin', 'peer-node.js');
  const root = await mkdtemp(path.join(tmpdir(), 'merkle-cli-'));
  try {
    const data = randomBytes(100_000);
    await writeFile(path.join(root, 'clip.bin'), data);
    const out = path.join(root, 'clip.torrent');
    const ok = spawnSync(process.execPath, [BIN, 'create', path.join(root, 'clip.bin'), '--out', out, '--merkle', '--piece-length', '16384'], { encoding: 'utf8' });
    assert.equal(ok.status, 0, ok.stderr);
    const t = await parseTorrent(new Uint8Array(await readFile(out)));
    const flat = await hashPieces(data, 16384);
    const tree = await MerkleTree.fromPieceHashes(Array.from({ length: flat.length / 20 }, (_, i) => flat.subarray(i * 20, i * 20 + 20)));
    assert.deepEqual(Buffer.from(t.info.rootHash!), Buffer.from(tree.root));
    const bad = spawnSync(process.execPath, [BIN, 'create', path.join(root, 'clip.bin'), '--out', out, '--merkle', '--web-seed', 'http://127.0.0.1:1/'], { encoding: 'utf8' });
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /--merkle torrents cannot have web seeds/);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});
