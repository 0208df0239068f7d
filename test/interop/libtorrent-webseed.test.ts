/**
 * libtorrent downloads a multi-file torrent published through our API from the edge's HTTP seed
 * alone (BEP 19; no tracker, no DHT, no other peer), and the files match byte for byte.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { publishPath } from '../../peer-node/publish/publish-client.js';
import { TEST_SECRETS, withEdge } from '../helpers/edge.js';
import { missingTools, SYSTEM_PYTHON } from '../helpers/real-tools.js';

const run = promisify(execFile);

test('libtorrent downloads a published multi-file torrent from the edge seed alone', { skip: missingTools([], true) }, async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'lt-webseed-'));
  try {
    const root = path.join(dir, 'show');
    await mkdir(path.join(root, 'season 1'), { recursive: true });
    const files: Record<string, Buffer> = {
      'season 1/episode 1.mkv': randomBytes(3 * 1024 * 1024 + 777),
      'season 1/episode 2.mkv': randomBytes(1024 * 1024 + 5),
      'readme.txt': Buffer.from('hello from the edge'),
    };
    for (const [name, bytes] of Object.entries(files)) await writeFile(path.join(root, name), bytes);
    await withEdge({}, async (edge) => {
      const published = await publishPath({ path: root, edge: edge.url, token: TEST_SECRETS.PUBLISH_TOKEN, pieceLength: 65536 });
      const torrentPath = path.join(dir, 'show.torrent');
      await writeFile(torrentPath, published.torrent);
      const save = path.join(dir, 'download');
      await mkdir(save);
      const { stdout } = await run(SYSTEM_PYTHON, [path.join(import.meta.dirname, 'tools', 'lt_webseed.py'), torrentPath, save, '90'], { timeout: 120_000 });
      const result = JSON.parse(stdout) as { finished: boolean; num_peers: number; errors: string[]; total_payload_download: number };
      assert.equal(result.finished, true, stdout);
      assert.ok(result.total_payload_download >= published.length, 'everything came over HTTP from the edge');
      for (const [name, bytes] of Object.entries(files)) {
        assert.deepEqual(await readFile(path.join(save, 'show', name)), bytes, name);
      }
    });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
