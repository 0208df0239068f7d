/**
 * libtorrent (Debian's python3-libtorrent 2.0) against our tracker on Miniflare: announces over
 * HTTP and over BEP 15 UDP through the gateway, and two libtorrent sessions that can find each
 * other only through our tracker complete a transfer, with the bytes compared.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { buildTorrent, hashPieces } from '../../shared/metainfo/index.js';
import { toHex } from '../../shared/bytes.js';
import { startUdpGateway } from '../../peer-node/gateway/udp-gateway.js';
import { TEST_SECRETS, withEdge } from '../helpers/edge.js';
import { missingTools, SYSTEM_PYTHON } from '../helpers/real-tools.js';
import { scrape } from '../helpers/tracker-client.js';

const run = promisify(execFile);
const SWARM = path.join(import.meta.dirname, 'tools', 'lt_swarm.py');
const skip = missingTools([], true);

interface SwarmResult {
  seeder_is_seed: boolean;
  leecher_finished: boolean;
  peers_seen_by_leecher: number;
  tracker_log: { who: string; event: string; peers?: number; message?: string }[];
}

/** Makes content and a torrent announcing to `announce`, runs the two libtorrent sessions. */
async function transfer(announce: string): Promise<{ result: SwarmResult; infoHash: Uint8Array; same: boolean }> {
  const dir = await mkdtemp(path.join(tmpdir(), 'lt-swarm-'));
  try {
    const content = randomBytes(3 * 1024 * 1024 + 12345);
    const seedDir = path.join(dir, 'seed');
    const leechDir = path.join(dir, 'leech');
    await mkdir(seedDir);
    await mkdir(leechDir);
    await writeFile(path.join(seedDir, 'movie.bin'), content);
    const pieceLength = 256 * 1024;
    const built = await buildTorrent({ name: 'movie.bin', pieceLength, pieces: await hashPieces(content, pieceLength), length: content.length, announce });
    const torrentPath = path.join(dir, 'movie.torrent');
    await writeFile(torrentPath, built.bytes);
    const { stdout } = await run(SYSTEM_PYTHON, [SWARM, torrentPath, seedDir, leechDir, '90'], { timeout: 120_000 });
    const result = JSON.parse(stdout) as SwarmResult;
    const got = await readFile(path.join(leechDir, 'movie.bin')).catch(() => Buffer.alloc(0));
    return { result, infoHash: built.torrent.infoHash, same: got.equals(content) };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function assertTransferred(t: Awaited<ReturnType<typeof transfer>>): void {
  const errors = t.result.tracker_log.filter((e) => e.event === 'error');
  assert.deepEqual(errors, [], 'libtorrent reported no tracker errors');
  assert.equal(t.result.seeder_is_seed, true);
  assert.ok(t.result.tracker_log.some((e) => e.who === 'seeder' && e.event === 'reply'), 'the seeder announced');
  assert.equal(t.result.peers_seen_by_leecher, 1, `the tracker handed the leecher exactly the seeder: ${JSON.stringify(t.result)}`);
  assert.equal(t.result.leecher_finished, true, JSON.stringify(t.result));
  assert.equal(t.same, true, 'the leecher has the same bytes');
}

test('two libtorrent sessions find each other through our HTTP tracker and complete a transfer', { skip }, async () => {
  await withEdge({}, async (edge) => {
    const t = await transfer(new URL('/announce', edge.url).href);
    assertTransferred(t);
    // Both sent event=stopped on removal; the completion was counted once.
    const counts = await scrape(edge.url, [t.infoHash]);
    assert.ok(!('failure' in counts));
    assert.deepEqual(counts.get(toHex(t.infoHash)), { complete: 0, incomplete: 0, downloaded: 1, downloaders: 0 });
  });
});

test('two libtorrent sessions find each other through our UDP tracker (BEP 15 via the gateway)', { skip }, async () => {
  await withEdge({}, async (edge) => {
    const gateway = await startUdpGateway({ host: '127.0.0.1', port: 0, edge: edge.url, secret: TEST_SECRETS.GATEWAY_SECRET });
    try {
      const t = await transfer(`udp://127.0.0.1:${gateway.address.port}/announce`);
      assertTransferred(t);
      assert.ok(gateway.stats.answered >= 4, `connects and announces were answered (${JSON.stringify(gateway.stats)})`);
      assert.equal(gateway.stats.errors, 0);
      const counts = await scrape(edge.url, [t.infoHash]);
      assert.ok(!('failure' in counts));
      assert.equal(counts.get(toHex(t.infoHash))?.downloaded, 1);
    } finally {
      await gateway.close();
    }
  });
});
