/**
 * BEP 21 partial seeds: a peer that downloaded only some files says `upload_only` in its BEP 10
 * handshake, announces `paused` (the edge's scrape then counts it as incomplete but not a
 * downloader), and it and the seed drop their now useless connection.
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
import type { ScrapeCounts } from '../../shared/tracker/http-response.js';
import { decodeExtensionHandshake, encodeExtensionHandshake } from '../../shared/wire/extension-handshake.js';
import { MessageFramer } from '../../shared/wire/framer.js';
import { encodeHandshake, HANDSHAKE_LENGTH } from '../../shared/wire/handshake.js';
import { encodeMessage, type WireMessage } from '../../shared/wire/messages.js';
import { until } from '../helpers/raw-peer.js';
import { makeContent, sameFiles } from '../helpers/content.js';
import { withEdge } from '../helpers/edge.js';
import { scrape } from '../helpers/tracker-client.js';


test('a partial seed says upload_only, announces paused, and hangs up on the seed', { timeout: 60_000 }, () =>
  withEdge({}, async (edge) => {
    const root = await mkdtemp(path.join(tmpdir(), 'partial-'));
    const seed = new Client({ port: 0, host: '127.0.0.1' });
    const partial = new Client({ port: 0, host: '127.0.0.1' });
    try {
      const announce = new URL('/announce', edge.url).href;
      const content = await makeContent(path.join(root, 'seed'), [300_000, 300_000], { announceList: [[announce]] });
      const counts = async (): Promise<ScrapeCounts> => {
        const r = await scrape(edge.url, [content.built.torrent.infoHash]);
        if ('failure' in r) throw new Error(r.failure);
        return r.get(content.built.torrent.infoHashHex)!;
      };
      await seed.listen();
      await partial.listen();
      const seeding = await seed.add(content.built.torrent, { dir: content.dir });
      await until('the seed announced', async () => (await counts())?.complete === 1);
      const t = await partial.add(content.built.torrent, { dir: path.join(root, 'partial'), files: [1] });
      if (!t.complete) await once(t, 'done');
      assert.deepEqual((await sameFiles(content, path.join(root, 'partial')))[1], true);
      assert.equal(t.uploadOnly, true);
      await until('paused reaches the tracker', async () => {
        const c = await counts();
        return c.incomplete === 1 && c.downloaders === 0;
      });
      await until('seed and partial seed hang up', () => t.sessions.size === 0 && seeding.sessions.size === 0);

      // A newcomer hears upload_only: 1 in the partial seed's extension handshake.
      const socket = net.connect(partial.port, '127.0.0.1');
      socket.on('error', () => undefined);
      await once(socket, 'connect');
      socket.write(encodeHandshake({ reserved: Uint8Array.from([0, 0, 0, 0, 0, 0x10, 0, 0]), infoHash: content.built.torrent.infoHash, peerId: randomBytes(20) }));
      socket.write(encodeMessage({ type: 'extended', extendedId: 0, payload: encodeExtensionHandshake({ m: new Map() }) }));
      const framer = new MessageFramer();
      let head = Buffer.alloc(0);
      const hs = await new Promise<ReturnType<typeof decodeExtensionHandshake>>((resolve) => {
        socket.on('data', (d: Buffer) => {
          head = Buffer.concat([head, d]);
          if (head.length < HANDSHAKE_LENGTH) return;
          for (const m of framer.push(head.subarray(HANDSHAKE_LENGTH)) as WireMessage[]) {
            if (m.type === 'extended' && m.extendedId === 0) resolve(decodeExtensionHandshake(m.payload));
          }
          head = head.subarray(0, HANDSHAKE_LENGTH);
        });
      });
      assert.equal(hs.uploadOnly, true);
      assert.ok(hs.m.has('upload_only'));
      socket.destroy();
    } finally {
      await partial.close();
      await seed.close();
      await rm(root, { recursive: true, force: true });
    }
  }),
);
