/**
 * The edge hard-killed mid-swarm (issue 11, point 3): `npm run edge` in a process group of its
 * own (npm, Node, Miniflare's workerd), a published file and a swarm of announcing peers, then
 * SIGKILL to the whole group while new peers are still joining: no shutdown code runs, nothing
 * is flushed on the way out. Started again on the same state folder and port, the edge must
 * serve the published bytes exactly and hold every swarm write it acknowledged: Durable Object
 * storage promises that a write is durable once its request was answered (the output gate), and
 * R2 that an upload is stored once it was answered. Joins, seed state and completions are written
 * at once (worker/swarm/swarm-do.ts); plain re-announces are batched and are not checked here.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { publishPath } from '../../peer-node/publish/publish-client.js';
import { parseTorrent } from '../../shared/metainfo/index.js';
import { decodeAnnounceResponse } from '../../shared/tracker/http-response.js';
import { fromHex, toHex } from '../../shared/bytes.js';
import { TEST_SECRETS, tempStateDir } from '../helpers/edge.js';
import { announce, escapeBytes, peerId, scrape } from '../helpers/tracker-client.js';

const ROOT = path.join(import.meta.dirname, '..', '..');
/** Peers that complete before the kill. */
const SEEDS = 2;

/** A free TCP port on 127.0.0.1 (both runs of the edge use it, as the torrent's URLs name it). */
async function freePort(): Promise<number> {
  const server = net.createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as net.AddressInfo;
  await new Promise((r) => server.close(r));
  return port;
}

interface EdgeRun {
  child: ChildProcessWithoutNullStreams;
  url: URL;
  output(): string;
}

/** `npm run edge` on `stateDir` and `port`, the leader of its own process group; resolves once it listens. */
async function startEdge(stateDir: string, port: number): Promise<EdgeRun> {
  const child = spawn('npm', ['run', 'edge', '--silent'], {
    cwd: ROOT,
    env: { ...process.env, PORT: String(port), EDGE_STATE_DIR: stateDir, ...TEST_SECRETS },
    stdio: 'pipe',
    detached: true,
  });
  let output = '';
  child.stdout.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr.on('data', (c: Buffer) => (output += c.toString()));
  const url = await new Promise<URL>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the edge did not start in 90 s:\n${output}`)), 90_000);
    const check = () => {
      const m = /edge listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(output);
      if (!m) return;
      clearTimeout(timer);
      child.stdout.off('data', check);
      child.off('exit', onExit);
      resolve(new URL(m[1]!));
    };
    const onExit = (code: number | null) => {
      clearTimeout(timer);
      reject(new Error(`the edge exited (${code}) before listening:\n${output}`));
    };
    child.stdout.on('data', check);
    child.once('exit', onExit);
  });
  return { child, url, output: () => output };
}

/** SIGKILL to every process of the run's group; resolves when npm is gone and the port is closed. */
async function hardKill(run: EdgeRun): Promise<void> {
  const exited = run.child.exitCode !== null || run.child.signalCode !== null ? Promise.resolve() : once(run.child, 'exit');
  try {
    process.kill(-run.child.pid!, 'SIGKILL');
  } catch {
    // already gone
  }
  await exited;
  for (let i = 0; i < 100; i++) {
    const open = await fetch(new URL('/health', run.url)).then(() => true, () => false);
    if (!open) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('the edge still answers after SIGKILL of its process group');
}

test('the edge SIGKILLed (whole process group) mid-swarm and restarted on the same state: published bytes exact, every acknowledged join, seed and completion kept', { timeout: 240_000 }, async () => {
  const state = await tempStateDir();
  const root = await mkdtemp(path.join(tmpdir(), 'edge-sigkill-'));
  const port = await freePort();
  let run: EdgeRun | undefined;
  try {
    run = await startEdge(state.dir, port);
    const edge = run.url;

    // Published content: two files, one of them over several R2 parts.
    const folder = path.join(root, 'show');
    const bytes = { big: randomBytes(3_000_000), small: randomBytes(70_001) };
    await mkdir(folder, { recursive: true });
    await writeFile(path.join(folder, 'big.bin'), bytes.big);
    await writeFile(path.join(folder, 'small.bin'), bytes.small);
    const published = await publishPath({ path: folder, edge, token: TEST_SECRETS.PUBLISH_TOKEN, pieceLength: 64 * 1024 });
    const hash = fromHex(published.infoHash)!;

    // The swarm: 30 peers join, 2 of them complete (BEP 3 `completed`, left 0). Two seeds only:
    // from 3 P2P seeds on the edge seed throttles, from 10 it refuses (seed-throttle.ts), and
    // this test reads the published bytes back from it.
    const acknowledged = new Set<string>();
    for (let n = 1; n <= 30; n++) {
      const r = await announce(edge, { hash, peer: n, event: 'started', left: 1000 });
      assert.ok(!('failure' in r), `peer ${n}: ${'failure' in r ? r.failure : ''}`);
      acknowledged.add(toHex(peerId(n)));
    }
    for (let n = 1; n <= SEEDS; n++) {
      const r = await announce(edge, { hash, peer: n, event: 'completed', left: 0 });
      assert.ok(!('failure' in r));
    }

    // Mid-swarm: newcomers keep joining, four at a time, when the kill comes. A join counts as
    // acknowledged once its answer arrived whole; those in flight may land either way.
    let next = 100;
    let killed = false;
    let inFlight = 0;
    let unanswered = 0;
    const joiner = async () => {
      while (!killed && next < 170) {
        const n = next++;
        inFlight++;
        try {
          const r = await announce(edge, { hash, peer: n, event: 'started', left: 1000 });
          if (!('failure' in r)) acknowledged.add(toHex(peerId(n)));
        } catch {
          unanswered++;
        } finally {
          inFlight--;
        }
      }
    };
    const joiners = [joiner(), joiner(), joiner(), joiner()];
    while (acknowledged.size < 30 + 20 && next < 170) await new Promise((r) => setTimeout(r, 5));
    // No new join starts; the ones in flight are cut off by the kill (or answered just before).
    killed = true;
    const inFlightAtKill = inFlight;
    await hardKill(run);
    await Promise.all(joiners);
    const joinedBeforeKill = acknowledged.size - 30;
    assert.ok(joinedBeforeKill >= 20, `newcomers were joining at the kill (${joinedBeforeKill} acknowledged, ${unanswered} cut off)`);
    console.log(`sigkill: ${acknowledged.size} joins acknowledged (${joinedBeforeKill} of them by newcomers), ${inFlightAtKill} in flight at the kill, ${unanswered} cut off`);

    // Restart on the same state folder and port.
    run = await startEdge(state.dir, port);
    assert.equal(run.url.port, String(port));
    const after = run.url;

    // Published content: the .torrent and every byte, whole and ranged, from R2.
    const torrentFile = await fetch(new URL(`/t/${published.infoHash}.torrent`, after));
    assert.equal(torrentFile.status, 200);
    assert.equal((await parseTorrent(new Uint8Array(await torrentFile.arrayBuffer()))).infoHashHex, published.infoHash);
    for (const [name, want] of Object.entries(bytes)) {
      const whole = await fetch(new URL(`/seed/${published.infoHash}/show/${name}.bin`, after));
      assert.equal(whole.status, 200, name);
      assert.ok(Buffer.from(await whole.arrayBuffer()).equals(want), `${name}: byte-exact after the kill`);
    }
    const range = await fetch(new URL(`/seed/${published.infoHash}/show/big.bin`, after), { headers: { range: 'bytes=2097000-2200999' } });
    assert.equal(range.status, 206);
    assert.ok(Buffer.from(await range.arrayBuffer()).equals(bytes.big.subarray(2_097_000, 2_201_000)));

    // The swarm: every acknowledged join is listed (PPSP Get-Peer, BEP 3 dictionaries with ids),
    // the seeds are still seeds, and their completions are counted once.
    const listing = decodeAnnounceResponse(new Uint8Array(await (await fetch(new URL(`/peers?info_hash=${escapeBytes(hash)}&numwant=200&compact=0`, after))).arrayBuffer()));
    assert.ok(!('failure' in listing), 'failure' in listing ? listing.failure : '');
    const listed = new Set(listing.peers.map((p) => toHex(p.peerId!)));
    const lost = [...acknowledged].filter((id) => !listed.has(id));
    assert.deepEqual(lost, [], `acknowledged joins lost in the kill (${lost.length} of ${acknowledged.size})`);
    const sent = new Set([...Array.from({ length: 30 }, (_, i) => i + 1), ...Array.from({ length: next - 100 }, (_, i) => i + 100)].map((n) => toHex(peerId(n))));
    assert.deepEqual([...listed].filter((id) => !sent.has(id)), [], 'no peer from nowhere');
    assert.ok(listed.size <= acknowledged.size + inFlightAtKill, `at most the joins in flight at the kill landed besides the acknowledged ones (${listed.size} listed, ${inFlightAtKill} in flight)`);
    const counts = await scrape(after, [hash]);
    assert.ok(!('failure' in counts));
    const c = counts.get(published.infoHash)!;
    assert.equal(c.downloaded, SEEDS, 'the completions survived, each counted once');
    assert.equal(c.incomplete, listed.size - SEEDS, 'leechers: every listed peer but the seeds');
    const { swarm } = (await (await fetch(new URL(`/stats/${published.infoHash}`, after))).json()) as { swarm: { seeds: number; leechers: number } };
    assert.deepEqual([swarm.seeds, swarm.leechers], [SEEDS, listed.size - SEEDS], '/stats shows the same swarm');

    // The restarted edge carries on: a seed's next announce is a plain re-announce, not a join.
    const again = await announce(after, { hash, peer: 1, left: 0 });
    assert.ok(!('failure' in again));
    const later = await scrape(after, [hash]);
    assert.equal('failure' in later ? later.failure : later.get(published.infoHash)?.downloaded, SEEDS);
  } finally {
    if (run) {
      try {
        process.kill(-run.child.pid!, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    await state.remove();
    await rm(root, { recursive: true, force: true });
  }
});
