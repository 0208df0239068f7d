/**
 * The webtorrent library (which asks web seeds for one range per piece) downloads a published
 * multi-file torrent from the edge's HTTP seed alone (no tracker, DHT, LSD or other peer).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { EventEmitter, once } from 'node:events';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { publishPath } from '../../peer-node/publish/publish-client.js';
import { TEST_SECRETS, withEdge } from '../helpers/edge.js';
import { importJsClient, missingJsClients } from '../helpers/js-clients.js';

interface WebTorrentTorrent extends EventEmitter {
  numPeers: number;
  downloaded: number;
}
interface WebTorrentClient extends EventEmitter {
  add(torrent: Buffer, opts: { path: string; announce?: string[] }): WebTorrentTorrent;
  destroy(cb?: () => void): void;
}
type WebTorrentClass = new (opts: object) => WebTorrentClient;

test('webtorrent downloads a published multi-file torrent from the edge seed alone', { skip: missingJsClients() }, async () => {
  const { default: WebTorrent } = await importJsClient<{ default: WebTorrentClass }>('webtorrent');
  const dir = await mkdtemp(path.join(tmpdir(), 'wt-webseed-'));
  const client = new WebTorrent({ dht: false, lsd: false, tracker: false, utp: false, natUpnp: false, natPmp: false, webSeeds: true });
  try {
    const root = path.join(dir, 'lecture');
    await mkdir(path.join(root, 'slides'), { recursive: true });
    const files: Record<string, Buffer> = {
      'video.webm': randomBytes(2 * 1024 * 1024 + 4321),
      'slides/deck.pdf': randomBytes(300_000),
      'notes.md': Buffer.from('# notes\n'),
    };
    for (const [name, bytes] of Object.entries(files)) await writeFile(path.join(root, name), bytes);
    await withEdge({}, async (edge) => {
      const published = await publishPath({ path: root, edge: edge.url, token: TEST_SECRETS.PUBLISH_TOKEN, pieceLength: 32768 });
      const save = path.join(dir, 'download');
      await mkdir(save);
      const torrent = client.add(Buffer.from(published.torrent), { path: save, announce: [] });
      const failed = once(client, 'error').then(([err]) => Promise.reject(err as Error));
      const warned: string[] = [];
      torrent.on('warning', (err: Error) => warned.push(err.message));
      await Promise.race([once(torrent, 'done'), failed]);
      assert.equal(torrent.numPeers <= 1, true, 'only the web seed (webtorrent counts it as a peer)');
      for (const [name, bytes] of Object.entries(files)) {
        assert.deepEqual(await readFile(path.join(save, 'lecture', name)), bytes, name);
      }
    });
  } finally {
    await new Promise<void>((resolve) => client.destroy(() => resolve()));
    await rm(dir, { recursive: true, force: true });
  }
});
