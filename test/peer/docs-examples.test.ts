/**
 * The examples of docs/PEER-API.md (docs/examples/*.ts) run, and do what the docs say: against
 * the edge on Miniflare and peers on 127.0.0.1, with the bytes compared. One of them also runs
 * as a process, the way the docs tell a reader to run it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { publishAndDownload } from '../../docs/examples/publish-and-download.js';
import { twoPeers } from '../../docs/examples/two-peers.js';
import { streamFile } from '../../docs/examples/stream-file.js';
import { playLayered } from '../../docs/examples/layered-player.js';
import { TEST_SECRETS, withEdge } from '../helpers/edge.js';

const EXAMPLES = path.join(import.meta.dirname, '..', '..', 'docs', 'examples');

/** Quiet the examples' progress lines while a test runs them in-process. */
async function quietly<T>(body: () => Promise<T>): Promise<T> {
  const log = console.log;
  console.log = () => undefined;
  try {
    return await body();
  } finally {
    console.log = log;
  }
}

async function withTempDir<T>(body: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(path.join(tmpdir(), 'docs-examples-'));
  try {
    return await body(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

test('publish-and-download.ts: published on the edge, downloaded from its web seed, bytes equal', { timeout: 120_000 }, () =>
  withEdge({}, (edge) =>
    withTempDir(async (root) => {
      const data = randomBytes(300_001);
      const file = path.join(root, 'talk.bin');
      await writeFile(file, data);
      const result = await quietly(() => publishAndDownload(file, new URL(edge.url), TEST_SECRETS.PUBLISH_TOKEN, path.join(root, 'out'), { host: '127.0.0.1' }));
      assert.match(result.infoHash, /^[0-9a-f]{40}$/);
      assert.deepEqual(await readFile(result.downloaded), data);
      assert.equal(result.stats.complete, true);
      assert.equal(result.stats.bytesFromWebSeeds, data.length, 'no other peer: every byte from the edge');
    }),
  ),
);

test('publish-and-download.ts runs as the docs say: a process with PUBLISH_TOKEN, exit 0', { timeout: 120_000 }, () =>
  withEdge({}, (edge) =>
    withTempDir(async (root) => {
      const file = path.join(root, 'notes.txt');
      await writeFile(file, 'hello from the docs\n'.repeat(1000));
      const child = spawn(process.execPath, ['--import', 'tsx', path.join(EXAMPLES, 'publish-and-download.ts'), file, edge.url.origin], {
        env: { ...process.env, PUBLISH_TOKEN: TEST_SECRETS.PUBLISH_TOKEN },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d) => (stdout += d));
      child.stderr.on('data', (d) => (stderr += d));
      const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
      assert.equal(code, 0, stderr);
      assert.match(stdout, /^published notes\.txt: [0-9a-f]{40}/m);
      const out = /^downloaded to (.+)$/m.exec(stdout)?.[1];
      assert.ok(out, stdout);
      assert.equal(await readFile(out, 'utf8'), 'hello from the docs\n'.repeat(1000));
      await rm(path.dirname(out), { recursive: true, force: true });
    }),
  ),
);

test('two-peers.ts: one peer seeds, the other downloads every byte from it', { timeout: 60_000 }, () =>
  withTempDir(async (root) => {
    const data = randomBytes(200_000);
    const { copy, stats } = await quietly(() => twoPeers(data, root));
    assert.deepEqual(Buffer.from(copy), data);
    assert.equal(stats.bytesFromWebSeeds, 0);
    assert.ok(stats.bytesFromPeers >= data.length);
  }),
);

test('stream-file.ts: a player reads a range while the file downloads, and gets exactly those bytes', { timeout: 60_000 }, () =>
  withTempDir(async (root) => {
    const data = randomBytes(512 * 1024);
    const { url, status, body } = await quietly(() => streamFile(data, root, { start: 300_000, end: 399_999 }));
    assert.match(url, /^http:\/\/127\.0\.0\.1:\d+\/clip\.mp4$/);
    assert.equal(status, 206);
    assert.deepEqual(Buffer.from(body), data.subarray(300_000, 400_000));
  }),
);

test('layered-player.ts: PUT-LAYER, GET-LAYER, and every segment played in order', { timeout: 120_000 }, () =>
  withEdge({}, (edge) =>
    withTempDir(async (root) => {
      const { infoHash, played, segmentCount } = await quietly(() => playLayered(new URL(edge.url), TEST_SECRETS.PUBLISH_TOKEN, root, { host: '127.0.0.1' }));
      assert.equal(segmentCount, 4);
      assert.deepEqual(
        played.map((s) => s.segment),
        [0, 1, 2, 3],
      );
      for (const s of played) assert.ok(s.layer === 0 || s.layer === 1);
      const stored = await fetch(new URL(`/layers/${infoHash}`, edge.url));
      assert.equal(stored.status, 200);
      assert.equal(((await stored.json()) as { layers: unknown[] }).layers.length, 2);
    }),
  ),
);
