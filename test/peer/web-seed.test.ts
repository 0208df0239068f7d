/**
 * The web-seed client against the real edge (Miniflare, R2) and against real HTTP servers on
 * 127.0.0.1 that misbehave on purpose: BEP 19 and BEP 17 downloads with no peer at all, a seed
 * sending wrong bytes (dropped, the piece fetched elsewhere), one that hangs (timeout, piece
 * asked again), 404 and 500 (backoff), 503 with a wait (honoured), and redirects (same host
 * followed, another host refused unless allowed).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Client } from '../../peer-node/client.js';
import { publishPath } from '../../peer-node/publish/publish-client.js';
import type { TorrentOptions } from '../../peer-node/engine/torrent.js';
import { parseTorrent } from '../../shared/metainfo/index.js';
import type { ParsedTorrent } from '../../shared/metainfo/torrent-file.js';
import { makeContent, sameFiles, type TestContent } from '../helpers/content.js';
import { TEST_SECRETS, withEdge } from '../helpers/edge.js';
import { type Misbehaviour, type SeenRequest, startWebSeedServer } from '../helpers/web-seed-server.js';
import { PEER_NODE_BIN, runProcess } from '../helpers/local-process.js';

/** Downloads `torrent` with no peers (trackers off) from its web seeds; returns the stats. */
async function downloadFromWebSeeds(torrent: ParsedTorrent, into: string, options: Partial<TorrentOptions> = {}) {
  const client = new Client({ port: 0, host: '127.0.0.1', dht: false });
  try {
    await client.listen();
    const t = await client.add(torrent, { dir: into, trackers: false, sourcePolicy: { graceMs: 0 }, ...options });
    if (!t.complete) await once(t, 'done');
    return t.statsSnapshot();
  } finally {
    await client.close();
  }
}

test('with no peer at all, a viewer gets every byte from the edge: BEP 19 multi-file and single-file, and BEP 17', { timeout: 120_000 }, () =>
  withEdge({}, async (edge) => {
    const root = await mkdtemp(path.join(tmpdir(), 'webseed-edge-'));
    try {
      const edgeUrl = new URL(edge.url);
      for (const [label, single] of [
        ['multi-file', false],
        ['single-file', true],
      ] as const) {
        const content = await makeContent(path.join(root, label), single ? [700_001] : [300_000, 0, 450_123], { single, pieceLength: 65_536 });
        const published = await publishPath({ path: path.join(content.dir, content.name), edge: edgeUrl, token: TEST_SECRETS.PUBLISH_TOKEN });
        const torrent = await parseTorrent(published.torrent);
        assert.equal(torrent.urlList.length, 1);
        const stats = await downloadFromWebSeeds(torrent, path.join(root, `${label}-out`));
        assert.equal(stats.bytesFromWebSeeds, torrent.info.length, `${label}: every byte from the edge`);
        assert.equal(stats.bytesFromPeers, 0);
        assert.ok(stats.edgePieces.unavailable > 0, 'asked because no peer had the pieces');
        assert.ok((await sameFiles(content, path.join(root, `${label}-out`))).every(Boolean), `${label}: files identical`);
        if (single) {
          // The same as a user runs it: `download --json` says where the bytes came from.
          const torrentFile = path.join(root, 'single.torrent');
          await writeFile(torrentFile, published.torrent);
          const { code, stdout } = await runProcess(process.execPath, [PEER_NODE_BIN, 'download', torrentFile, '--out', path.join(root, 'cli-out'), '--json', '--no-dht', '--host', '127.0.0.1', '--port', '0']);
          assert.equal(code, 0);
          const summary = JSON.parse(stdout) as { complete: boolean; bytesFromPeers: number; bytesFromWebSeeds: number; webSeeds: { url: string; bytes: number }[] };
          assert.equal(summary.complete, true);
          assert.equal(summary.bytesFromPeers, 0);
          assert.equal(summary.bytesFromWebSeeds, torrent.info.length, stdout);
          assert.equal(summary.webSeeds.length, 2, 'its url-list and httpseeds entries');
          assert.equal(summary.webSeeds.reduce((n, w) => n + w.bytes, 0), torrent.info.length, 'the bytes by seed add up');
          assert.ok((await sameFiles(content, path.join(root, 'cli-out'))).every(Boolean));
          continue;
        }
        // The same torrent with only its BEP 17 seed.
        const bep17: ParsedTorrent = { ...torrent, urlList: [] };
        assert.equal(bep17.httpSeeds.length, 1);
        const s17 = await downloadFromWebSeeds(bep17, path.join(root, 'bep17-out'));
        assert.equal(s17.bytesFromWebSeeds, torrent.info.length, 'BEP 17: every byte from the edge');
        assert.ok((await sameFiles(content, path.join(root, 'bep17-out'))).every(Boolean));
      }
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  }),
);

/** A content folder and a torrent whose url-list is the given seeds. */
async function contentWithSeeds(root: string, seeds: (content: TestContent) => Promise<string[]>) {
  const content = await makeContent(path.join(root, 'src'), [200_000, 150_000], { pieceLength: 32_768 });
  const urls = await seeds(content);
  return { content, torrent: { ...content.built.torrent, urlList: urls, httpSeeds: [] } as ParsedTorrent };
}

test('a web seed sending wrong bytes is dropped after one bad piece; the pieces come from the honest seed', { timeout: 60_000 }, async () => {
  const root = await mkdtemp(path.join(tmpdir(), 'webseed-bad-'));
  const servers: Awaited<ReturnType<typeof startWebSeedServer>>[] = [];
  try {
    const { content, torrent } = await contentWithSeeds(root, async (c) => {
      servers.push(await startWebSeedServer(c.dir, () => ({ corrupt: true })));
      servers.push(await startWebSeedServer(c.dir));
      return servers.map((s) => s.url);
    });
    const stats = await downloadFromWebSeeds(torrent, path.join(root, 'out'));
    assert.ok((await sameFiles(content, path.join(root, 'out'))).every(Boolean));
    const [liar, honest] = stats.webSeeds;
    assert.match(liar!.dropped ?? '', /failed the hash check/);
    // At most the liar's pieces in flight (4) and the one asked while the first was checked.
    assert.ok(stats.hashFailures >= 1 && stats.hashFailures <= 5, `only pieces already asked of the liar fail (${stats.hashFailures})`);
    const asked = servers[0]!.requests.length;
    assert.ok(asked <= 5, `no request to the liar once dropped (${asked})`);
    assert.equal(honest!.dropped, undefined);
    assert.ok(honest!.bytes >= torrent.info.length - 4 * 32_768);
  } finally {
    for (const s of servers) await s.close();
    await rm(root, { recursive: true, force: true });
  }
});

test('a web seed that hangs is timed out and its pieces asked again; 404 and 500 back off; the download completes', { timeout: 60_000 }, async () => {
  const root = await mkdtemp(path.join(tmpdir(), 'webseed-hang-'));
  const servers: Awaited<ReturnType<typeof startWebSeedServer>>[] = [];
  try {
    const { content, torrent } = await contentWithSeeds(root, async (c) => {
      servers.push(await startWebSeedServer(c.dir, () => ({ hang: true })));
      servers.push(await startWebSeedServer(c.dir, (_r, n) => (n % 2 ? { status: 404 } : { status: 500 })));
      // Honest, but the first three requests fail.
      servers.push(await startWebSeedServer(c.dir, (_r, n) => (n <= 3 ? { status: 500 } : undefined)));
      return servers.map((s) => s.url);
    });
    const stats = await downloadFromWebSeeds(torrent, path.join(root, 'out'), { webSeed: { timeoutMs: 500, backoffMs: 200 } });
    assert.ok((await sameFiles(content, path.join(root, 'out'))).every(Boolean));
    const [hanging, erring, recovering] = stats.webSeeds;
    assert.equal(hanging!.bytes, 0);
    assert.ok(hanging!.failures >= 1 && /timeout|Timeout/.test(hanging!.lastError ?? ''), `the hanging seed timed out: ${hanging!.lastError}`);
    assert.equal(erring!.bytes, 0);
    assert.match(erring!.lastError ?? '', /HTTP (404|500)/);
    assert.equal(recovering!.bytes, torrent.info.length, 'every piece from the seed that recovered');
    // Backoff: the erring seed was not hammered (each failure doubles its wait).
    assert.ok(servers[1]!.requests.length < 12, `erring seed asked ${servers[1]!.requests.length} times`);
  } finally {
    for (const s of servers) await s.close();
    await rm(root, { recursive: true, force: true });
  }
});

test('a 503 with Retry-After is honoured: no request comes back before the wait', { timeout: 60_000 }, async () => {
  const root = await mkdtemp(path.join(tmpdir(), 'webseed-503-'));
  let server: Awaited<ReturnType<typeof startWebSeedServer>> | undefined;
  try {
    const { content, torrent } = await contentWithSeeds(root, async (c) => {
      server = await startWebSeedServer(c.dir, (_r, n) => (n === 1 ? { status: 503, headers: { 'retry-after': '2' }, body: '2' } : undefined));
      return [server.url];
    });
    const stats = await downloadFromWebSeeds(torrent, path.join(root, 'out'), { sourcePolicy: { graceMs: 0, requestsPerSeed: 1 } });
    assert.ok((await sameFiles(content, path.join(root, 'out'))).every(Boolean));
    const [first, second] = server!.requests as [SeenRequest, SeenRequest];
    assert.ok(second.at - first.at >= 1900, `the second request came ${second.at - first.at} ms after the 503 (wait 2 s)`);
    assert.equal(stats.webSeeds[0]!.bytes, torrent.info.length);
  } finally {
    await server?.close();
    await rm(root, { recursive: true, force: true });
  }
});

test('a 503 with no wait given (empty body, no Retry-After) is not retried at once: at least a second passes', { timeout: 60_000 }, async () => {
  const root = await mkdtemp(path.join(tmpdir(), 'webseed-503-empty-'));
  let server: Awaited<ReturnType<typeof startWebSeedServer>> | undefined;
  try {
    const { content, torrent } = await contentWithSeeds(root, async (c) => {
      server = await startWebSeedServer(c.dir, (_r, n) => (n <= 2 ? { status: 503, body: '' } : undefined));
      return [server.url];
    });
    await downloadFromWebSeeds(torrent, path.join(root, 'out'), { sourcePolicy: { graceMs: 0, requestsPerSeed: 1 }, webSeed: { backoffMs: 100 } });
    assert.ok((await sameFiles(content, path.join(root, 'out'))).every(Boolean));
    const [first, second, third] = server!.requests as [SeenRequest, SeenRequest, SeenRequest];
    assert.ok(second.at - first.at >= 900 && third.at - second.at >= 900, `gaps ${second.at - first.at} and ${third.at - second.at} ms`);
  } finally {
    await server?.close();
    await rm(root, { recursive: true, force: true });
  }
});

test('redirects: to the same host followed, to another host refused unless allowed', { timeout: 60_000 }, async () => {
  const root = await mkdtemp(path.join(tmpdir(), 'webseed-redirect-'));
  const servers: Awaited<ReturnType<typeof startWebSeedServer>>[] = [];
  try {
    const content = await makeContent(path.join(root, 'src'), [120_000], { pieceLength: 32_768, single: true });
    // The real bytes live on 127.0.0.2; 127.0.0.1 redirects there (another host).
    const target = await startWebSeedServer(content.dir, () => undefined, '127.0.0.2');
    servers.push(target);
    const away: (r: SeenRequest) => Misbehaviour = (r) => ({ status: 302, headers: { location: new URL(r.path.slice(1), target.url).href } });
    const crossHost = await startWebSeedServer(content.dir, away);
    servers.push(crossHost);
    // And one that redirects to itself under another path (same host).
    const sameHost = await startWebSeedServer(content.dir, (r) => (r.path.startsWith('/moved/') ? undefined : { status: 301, headers: { location: `/moved${r.path}` } }));
    servers.push(sameHost);
    const moved = path.join(content.dir, 'moved');
    await import('node:fs/promises').then((fs) => fs.mkdir(moved)).then(() => import('node:fs/promises')).then((fs) => fs.copyFile(path.join(content.dir, content.name), path.join(moved, content.name)));
    const single = (url: string): ParsedTorrent => ({ ...content.built.torrent, urlList: [url], httpSeeds: [] });

    const followed = await downloadFromWebSeeds(single(sameHost.url), path.join(root, 'same'));
    assert.equal(followed.bytesFromWebSeeds, 120_000, 'same-host redirect followed');
    assert.ok((await sameFiles(content, path.join(root, 'same'))).every(Boolean));

    // Refused: the download cannot finish from that seed; give it a moment and look at why.
    const client = new Client({ port: 0, host: '127.0.0.1', dht: false });
    try {
      await client.listen();
      const t = await client.add(single(crossHost.url), { dir: path.join(root, 'refused'), trackers: false, sourcePolicy: { graceMs: 0 } });
      const [warning] = (await once(t, 'warning')) as [string];
      assert.match(warning, /redirect to another host \(127\.0\.0\.2:\d+\) refused/);
      assert.equal(target.requests.length, 0, 'nothing was fetched from the other host');
      assert.equal(t.statsSnapshot().bytesFromWebSeeds, 0);
    } finally {
      await client.close();
    }

    const allowed = await downloadFromWebSeeds(single(crossHost.url), path.join(root, 'allowed'), { webSeed: { crossHostRedirects: true } });
    assert.equal(allowed.bytesFromWebSeeds, 120_000, 'allowed: followed to the other host');
    assert.ok(target.requests.length > 0);
  } finally {
    for (const s of servers) await s.close();
    await rm(root, { recursive: true, force: true });
  }
});
