/**
 * Magnet downloads (BEP 9) between our peers over TCP on 127.0.0.1: the info dictionary comes
 * from peers in 16 KiB pieces and is checked against the info-hash; found through `x.pe` or
 * through the magnet's tracker (the edge on Miniflare); a peer serving metadata that does not
 * hash to the info-hash is dropped and an honest one supplies it; bad ut_metadata messages
 * close only that connection.
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
import { formatMagnet, parseMagnet } from '../../shared/metainfo/index.js';
import { decodeExtensionHandshake, encodeExtensionHandshake } from '../../shared/wire/extension-handshake.js';
import { encodeHandshake } from '../../shared/wire/handshake.js';
import { encodeMessage } from '../../shared/wire/messages.js';
import { decodeMetadataMessage, encodeMetadataMessage, METADATA_PIECE } from '../../shared/wire/ut-metadata.js';
import { makeContent, sameFiles } from '../helpers/content.js';
import { onWire } from '../helpers/raw-peer.js';
import { withEdge } from '../helpers/edge.js';

/** Many files with long names: an info dictionary of several 16 KiB metadata pieces. */
const SIZES = Array.from({ length: 1000 }, (_, i) => 1000 + i);

async function magnetDownload(magnet: string, dir: string) {
  const client = new Client({ port: 0, host: '127.0.0.1' });
  try {
    await client.listen();
    const { torrent, peers } = await client.fetchMetadata(parseMagnet(magnet), 30_000);
    const t = await client.add(torrent, { dir });
    t.addPeers(peers);
    if (!t.complete) await once(t, 'done');
    return t.statsSnapshot();
  } finally {
    await client.close();
  }
}

test('a magnet with only x.pe downloads from our seed: metadata from the peer, then the files', { timeout: 60_000 }, async () => {
  const root = await mkdtemp(path.join(tmpdir(), 'magnet-'));
  const seed = new Client({ port: 0, host: '127.0.0.1' });
  try {
    const content = await makeContent(path.join(root, 'seed'), SIZES, { pieceLength: 16 * 1024, name: 'a folder with a rather long name for bigger metadata' });
    assert.ok(content.built.torrent.infoBytes.length > 2 * METADATA_PIECE, 'the info dictionary spans several metadata pieces');
    await seed.listen();
    await seed.add(content.built.torrent, { dir: content.dir });
    const magnet = formatMagnet({ infoHash: content.built.torrent.infoHash, trackers: [], webSeeds: [], peers: [{ host: '127.0.0.1', port: seed.port }] });
    const stats = await magnetDownload(magnet, path.join(root, 'leech'));
    assert.equal(stats.complete, true);
    assert.ok((await sameFiles(content, path.join(root, 'leech'))).every(Boolean));
  } finally {
    await seed.close();
    await rm(root, { recursive: true, force: true });
  }
});

test('a magnet with only a tracker finds the seed through the edge and downloads', { timeout: 60_000 }, () =>
  withEdge({}, async (edge) => {
    const root = await mkdtemp(path.join(tmpdir(), 'magnet-tr-'));
    const seed = new Client({ port: 0, host: '127.0.0.1' });
    try {
      const announce = new URL('/announce', edge.url).href;
      const content = await makeContent(path.join(root, 'seed'), [300_000, 5], { announceList: [[announce]] });
      await seed.listen();
      await seed.add(content.built.torrent, { dir: content.dir });
      await new Promise((r) => setTimeout(r, 300)); // the seed's started announce lands first
      const magnet = `magnet:?xt=urn:btih:${content.built.torrent.infoHashHex}&tr=${encodeURIComponent(announce)}`;
      const stats = await magnetDownload(magnet, path.join(root, 'leech'));
      assert.equal(stats.complete, true);
      assert.deepEqual(await sameFiles(content, path.join(root, 'leech')), [true, true]);
    } finally {
      await seed.close();
      await rm(root, { recursive: true, force: true });
    }
  }),
);

/**
 * A peer that offers ut_metadata and answers every request with `serve(piece)`; it sends its
 * handshake and BEP 10 handshake, and nothing else.
 */
async function metadataPeer(infoHash: Uint8Array, size: number, serve: (piece: number) => Uint8Array | 'garbage') {
  const server = net.createServer((socket) => {
    socket.on('error', () => undefined);
    let theirId = 0;
    onWire(socket, {
      handshake() {
        socket.write(encodeHandshake({ reserved: Uint8Array.from([0, 0, 0, 0, 0, 0x10, 0, 0]), infoHash, peerId: randomBytes(20) }));
        socket.write(encodeMessage({ type: 'extended', extendedId: 0, payload: encodeExtensionHandshake({ m: new Map([['ut_metadata', 7]]), metadataSize: size }) }));
      },
      message(m) {
        if (m.type !== 'extended') return;
        if (m.extendedId === 0) theirId = decodeExtensionHandshake(m.payload).m.get('ut_metadata') ?? 0;
        else if (m.extendedId === 7) {
          const request = decodeMetadataMessage(m.payload);
          const answer = serve(request.piece);
          const payload = answer === 'garbage' ? Uint8Array.from([1, 2, 3]) : encodeMetadataMessage({ type: 'data', piece: request.piece, totalSize: size, data: answer });
          socket.write(encodeMessage({ type: 'extended', extendedId: theirId, payload }));
        }
      },
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { port: (server.address() as net.AddressInfo).port, close: () => server.close() };
}

test('metadata that does not hash to the info-hash is refused, its sender dropped, and an honest peer supplies it', { timeout: 60_000 }, async () => {
  const root = await mkdtemp(path.join(tmpdir(), 'magnet-liar-'));
  const seed = new Client({ port: 0, host: '127.0.0.1' });
  const client = new Client({ port: 0, host: '127.0.0.1' });
  try {
    const content = await makeContent(path.join(root, 'seed'), [200_000]);
    const { infoHash, infoBytes } = content.built.torrent;
    const liar = await metadataPeer(infoHash, infoBytes.length, (piece) => randomBytes(Math.min(METADATA_PIECE, infoBytes.length - piece * METADATA_PIECE)));
    const babbler = await metadataPeer(infoHash, infoBytes.length, () => 'garbage');
    await seed.listen();
    await seed.add(content.built.torrent, { dir: content.dir });
    await client.listen();
    const warnings: string[] = [];
    client.on('warning', (w: string) => warnings.push(w));
    // Liars first: their metadata arrives, fails the hash, and they are dropped; then the seed.
    const link = parseMagnet(formatMagnet({ infoHash, trackers: [], webSeeds: [], peers: [{ host: '127.0.0.1', port: liar.port }, { host: '127.0.0.1', port: babbler.port }] }));
    const fetching = client.fetchMetadata({ ...link, peers: [...link.peers] }, 30_000);
    await new Promise((r) => setTimeout(r, 500));
    assert.ok(warnings.some((w) => /does not hash to the info-hash/.test(w)), warnings.join('\n'));
    // The honest seed only now: whatever the fetcher got before came from the liars.
    const fetcherPeers = (client as unknown as { fetchers: Set<{ addPeers(p: unknown[]): void }> }).fetchers;
    for (const f of fetcherPeers) f.addPeers([{ host: '127.0.0.1', port: seed.port }]);
    const { torrent } = await fetching;
    assert.deepEqual(Buffer.from(torrent.infoBytes), Buffer.from(infoBytes));
    liar.close();
    babbler.close();
  } finally {
    await client.close();
    await seed.close();
    await rm(root, { recursive: true, force: true });
  }
});
