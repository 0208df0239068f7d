/**
 * `peer-node seed` and `peer-node download` as a user runs them: real processes, the edge
 * tracker on Miniflare, the .torrent given as a path, an http URL and a magnet with `xs`; exit
 * codes, the JSON summary, and one-line errors.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { readFile, mkdtemp, rm } from 'node:fs/promises';
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { makeContent, sameFiles } from '../helpers/content.js';
import { withEdge } from '../helpers/edge.js';
import { freePort, PEER_NODE_BIN, runProcess, sleep } from '../helpers/local-process.js';
import { startWebSeedServer } from '../helpers/web-seed-server.js';

const BIN = PEER_NODE_BIN;
const run = (args: string[], timeoutMs = 60_000) => runProcess(process.execPath, [BIN, ...args], timeoutMs);

test('seed and download through the edge tracker: a path, an http URL, a magnet with xs and a magnet with only a tracker; exit 0 and a JSON summary', { timeout: 120_000 }, () =>
  withEdge({}, async (edge) => {
    const dir = await mkdtemp(path.join(tmpdir(), 'cli-transfer-'));
    const announce = new URL('/announce', edge.url).href;
    const content = await makeContent(path.join(dir, 'seed'), [400_000, 12_345], { announceList: [[announce]] });
    const seeder = spawn(process.execPath, [BIN, 'seed', content.torrentPath, '--dir', content.dir, '--host', '127.0.0.1', '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let seedErr = '';
    seeder.stderr.on('data', (d) => (seedErr += d));
    // A plain HTTP server hands out the .torrent, as a publisher's site would.
    const torrentBytes = await readFile(content.torrentPath);
    const site = http.createServer((req, res) => {
      if (req.url === '/content.torrent') res.end(torrentBytes);
      else res.writeHead(404).end();
    });
    site.listen(0, '127.0.0.1');
    await once(site, 'listening');
    const url = `http://127.0.0.1:${(site.address() as AddressInfo).port}/content.torrent`;
    try {
      while (!/seeding content/.test(seedErr)) await once(seeder.stderr, 'data');
      const hash = content.built.torrent.infoHashHex;
      const sources = [
        content.torrentPath,
        url,
        `magnet:?xt=urn:btih:${hash}&dn=content&xs=${encodeURIComponent(url)}`,
        `magnet:?xt=urn:btih:${hash}&tr=${encodeURIComponent(announce)}`, // the torrent itself from peers (BEP 9)
      ];
      for (const [i, source] of sources.entries()) {
        const out = path.join(dir, `out${i}`);
        const r = await run(['download', source, '--out', out, '--host', '127.0.0.1', '--port', '0', '--json']);
        assert.equal(r.code, 0, `download ${source}: ${r.stderr}`);
        const summary = JSON.parse(r.stdout) as { complete: boolean; bytesFromPeers: number; bytesFromWebSeeds: number; done: number };
        assert.equal(summary.complete, true);
        assert.equal(summary.done, content.built.torrent.info.length);
        assert.equal(summary.bytesFromPeers, content.built.torrent.info.length, 'everything came from the seed, found through the tracker');
        assert.equal(summary.bytesFromWebSeeds, 0);
        assert.deepEqual(await sameFiles(content, out), [true, true]);
      }
      // Without --json: progress and a final line on stderr, nothing on stdout. stderr is a
      // pipe here, so the progress is plain timestamped lines, not a line redrawn in place.
      const plain = await run(['download', content.torrentPath, '--out', path.join(dir, 'out0'), '--host', '127.0.0.1', '--port', '0']);
      assert.equal(plain.code, 0);
      assert.match(plain.stderr, /already there/);
      assert.match(plain.stderr, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ complete +100\.0% .* ETA 0s .* peers \d+/m);
      assert.doesNotMatch(plain.stderr, /\r|\x1b/);
      assert.equal(plain.stdout, '');
      const fresh = await run(['download', content.torrentPath, '--out', path.join(dir, 'fresh'), '--host', '127.0.0.1', '--port', '0', '--quiet']);
      assert.equal(fresh.code, 0, fresh.stderr);
      assert.doesNotMatch(fresh.stderr, /^\d{4}-\d\d-\d\dT/m, '--quiet: no progress lines');
      const size = `${(content.built.torrent.info.length / 1024).toFixed(1)} KiB`;
      assert.ok(fresh.stderr.split('\n').some((l) => new RegExp(`^complete: ${size} of ${size} in \\d+s \\(${size} from peers, 0 B from web seeds, uploaded 0 B\\)$`).test(l)), fresh.stderr);
    } finally {
      seeder.kill('SIGINT');
      await once(seeder, 'exit');
      site.close();
      await rm(dir, { recursive: true, force: true });
    }
  }),
);

test('download and seed mistakes: one line on stderr and a non-zero exit', async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'cli-transfer-bad-'));
  try {
    const content = await makeContent(path.join(dir, 'seed'), [50_000]);
    const cli = (...args: string[]) => spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 30_000 });
    const noOut = cli('download', content.torrentPath);
    assert.equal(noOut.status, 2);
    assert.match(noOut.stderr, /--out DIR is required/);
    const badFiles = cli('download', content.torrentPath, '--out', dir, '--files', '7', '--port', '0');
    assert.equal(badFiles.status, 2);
    assert.match(badFiles.stderr, /--files: the torrent has 1 files/);
    const wrongDir = cli('seed', content.torrentPath, '--dir', path.join(dir, 'empty'), '--port', '0', '--host', '127.0.0.1');
    assert.equal(wrongDir.status, 1);
    assert.match(wrongDir.stderr, /no piece of content verifies/);
    const magnet = cli('download', `magnet:?xt=urn:btih:${content.built.torrent.infoHashHex}`, '--out', dir, '--port', '0', '--no-dht');
    assert.equal(magnet.status, 1);
    assert.match(magnet.stderr, /names no tracker \(tr=\), peer \(x.pe=\) or .torrent URL \(xs=\), and the DHT is off/);
    assert.equal(magnet.stderr.trim().split('\n').length, 1);
    // The edge flags: a bad value names its flag; a threshold over ten minutes is a typo.
    for (const [flag, value, message] of [
      ['--edge-min-rate', 'fast', /--edge-min-rate: expected bytes a second like 500k or 2M, got "fast"/],
      ['--edge-grace', 'soon', /--edge-grace: expected seconds from 0 to 600 like 1.5, got "soon"/],
    ] as const) {
      const bad = cli('download', content.torrentPath, '--out', dir, '--port', '0', flag, value);
      assert.equal(bad.status, 2, `${flag} ${value}`);
      assert.match(bad.stderr, message);
      assert.equal(bad.stderr.trim().split('\n').length, 1);
    }
    const noEdge = cli('download', content.torrentPath, '--out', dir, '--port', '0', '--no-web-seeds', '--edge-min-rate', '1M');
    assert.equal(noEdge.status, 2);
    assert.match(noEdge.stderr, /--edge-min-rate does nothing with --no-web-seeds/);
    const streamMargin = cli('stream', content.torrentPath, '--edge-margin', '1200');
    assert.equal(streamMargin.status, 2);
    assert.match(streamMargin.stderr, /--edge-margin: expected seconds from 0 to 600/);
    const downloadMargin = cli('download', content.torrentPath, '--out', dir, '--edge-margin', '1');
    assert.equal(downloadMargin.status, 2, 'a download has no deadlines');
    assert.match(downloadMargin.stderr, /unknown option --edge-margin/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('--edge-min-rate: with a slow peer that has every piece, the edge tops the download up; without it the rate rule never fires', { timeout: 120_000 }, async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'cli-edge-rate-'));
  const content = await makeContent(path.join(dir, 'seed'), [1_500_000, 12_345]);
  const web = await startWebSeedServer(content.dir);
  const port = await freePort();
  // A peer that has everything but sends 200 KiB/s, as a home uplink shared with others would;
  // enough content that the peer's request pipeline (3 s of its rate) does not cover all of it
  // once the 2 s grace is over (the rate rule takes only pieces no peer has started).
  const seeder = started(['seed', content.torrentPath, '--dir', content.dir, '--host', '127.0.0.1', '--port', String(port), '--no-dht', '--no-lsd', '--no-local-tracker', '--upload-limit', '200k']);
  try {
    while (!/seeding content/.test(seeder.out.stderr)) await Promise.race([once(seeder.child.stderr, 'data'), seeder.exit.then((code) => assert.fail(`seed exited ${code}: ${seeder.out.stderr}`))]);
    const download = async (name: string, ...flags: string[]) => {
      const out = path.join(dir, name);
      const r = await run(['download', content.torrentPath, '--out', out, '--host', '127.0.0.1', '--port', '0', '--no-dht', '--no-lsd', '--no-local-tracker', '--peer', `127.0.0.1:${port}`, '--web-seed', web.url, '--json', ...flags]);
      assert.equal(r.code, 0, `${name}: ${r.stderr}`);
      assert.deepEqual(await sameFiles(content, out), [true, true], name);
      return JSON.parse(r.stdout) as { complete: boolean; bytesFromPeers: number; bytesFromWebSeeds: number; edgePieces: { rate: number } };
    };
    // Counted by reason: a peer slow to connect on a loaded machine may leave a piece or two to
    // the edge as missing after the 2 s grace; only the rate rule is what this test is about.
    const peersOnly = await download('default');
    assert.equal(peersOnly.complete, true);
    assert.equal(peersOnly.edgePieces.rate, 0, 'by default a download has no rate to keep up');
    assert.ok(peersOnly.bytesFromPeers > 1_000_000, `most bytes from the peer (${peersOnly.bytesFromPeers})`);
    const toppedUp = await download('min-rate', '--edge-min-rate', '1M');
    assert.equal(toppedUp.complete, true);
    assert.ok(toppedUp.edgePieces.rate > 0, 'peers deliver under 1 MiB/s: the edge makes up the rest');
    assert.ok(toppedUp.bytesFromWebSeeds > 0);
  } finally {
    seeder.child.kill('SIGINT');
    await seeder.exit;
    await web.close();
    await rm(dir, { recursive: true, force: true });
  }
});

/** A child's stdout and stderr as they come, and its exit. */
function started(args: string[]) {
  const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  const out = { stdout: '', stderr: '' };
  child.stdout.on('data', (d) => (out.stdout += d));
  child.stderr.on('data', (d) => (out.stderr += d));
  const exit = once(child, 'exit').then(([code]) => code as number | null);
  return { child, out, exit };
}

/** Resolves once something accepts TCP connections on 127.0.0.1:port. */
async function accepting(port: number, timeoutMs = 30_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const socket = net.connect(port, '127.0.0.1', () => resolve(true));
      socket.once('error', () => resolve(false));
      setTimeout(() => resolve(false), 1000).unref();
    }).finally(() => undefined);
    if (ok) return;
    if (Date.now() > until) assert.fail(`nothing listens on 127.0.0.1:${port}`);
    await sleep(100);
  }
}

test('--json for seed and stream: stdout is the stream URL, then one JSON object once stopped; a download stopped before its end exits 130 with its JSON', { timeout: 120_000 }, async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'cli-transfer-'));
  const content = await makeContent(path.join(dir, 'seed'), [300_000], { single: true });
  const port = await freePort();
  const common = ['--host', '127.0.0.1', '--no-dht', '--no-lsd', '--no-local-tracker'];
  const seed = started(['seed', content.torrentPath, '--dir', content.dir, '--port', String(port), '--json', ...common]);
  try {
    await accepting(port);
    const stream = started(['stream', content.torrentPath, '--peer', `127.0.0.1:${port}`, '--out', path.join(dir, 'stream'), '--json', ...common]);
    while (!stream.out.stdout.includes('\n')) await once(stream.child.stdout, 'data');
    const url = stream.out.stdout.split('\n')[0]!;
    assert.match(url, /^http:\/\/127\.0\.0\.1:\d+\/content$/);
    const body = Buffer.from(await (await fetch(url)).arrayBuffer());
    assert.ok(body.equals(await readFile(path.join(content.dir, 'content'))), 'the stream serves the file');
    stream.child.kill('SIGINT');
    assert.equal(await stream.exit, 0, stream.out.stderr);
    const [first, second, ...rest] = stream.out.stdout.split('\n').filter(Boolean);
    assert.equal(first, url);
    assert.deepEqual(rest, [], 'nothing after the JSON');
    const streamed = JSON.parse(second!) as { url: string; served: number; complete: boolean; bytesFromPeers: number };
    assert.equal(streamed.url, url);
    assert.equal(streamed.complete, true);
    assert.equal(streamed.bytesFromPeers, 300_000);
    assert.ok(streamed.served >= 300_000, `served ${streamed.served}`);

    // A download with nobody to download from, stopped: exit 130, and its JSON says so.
    const alone = started(['download', content.torrentPath, '--out', path.join(dir, 'alone'), '--port', '0', '--json', ...common]);
    await sleep(1500);
    alone.child.kill('SIGINT');
    assert.equal(await alone.exit, 130);
    const stopped = JSON.parse(alone.out.stdout) as { complete: boolean; done: number };
    assert.deepEqual([stopped.complete, stopped.done], [false, 0]);

    seed.child.kill('SIGINT');
    assert.equal(await seed.exit, 0, seed.out.stderr);
    const seeded = JSON.parse(seed.out.stdout) as { complete: boolean; uploaded: number; infoHash: string };
    assert.equal(seeded.complete, true);
    assert.equal(seeded.infoHash, content.built.torrent.infoHashHex);
    assert.ok(seeded.uploaded >= 300_000, `uploaded ${seeded.uploaded}`);
  } finally {
    if (seed.child.exitCode === null) seed.child.kill('SIGKILL');
    await rm(dir, { recursive: true, force: true });
  }
});
