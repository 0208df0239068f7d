import { test } from 'node:test';
import assert from 'node:assert/strict';
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { once } from 'node:events';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { tempStateDir } from '../helpers/edge.js';

const ROOT = path.join(import.meta.dirname, '..', '..');

/** The README's command itself, in its own process group so that SIGINT reaches it as Ctrl-C would. */
function npmStart(stateDir: string, env: Record<string, string>): { child: ChildProcessWithoutNullStreams; output: () => string; waitFor(re: RegExp, ms: number): Promise<RegExpExecArray> } {
  const child = spawn('npm', ['start', '--silent'], {
    cwd: ROOT,
    env: { ...process.env, PORT: '0', EDGE_STATE_DIR: stateDir, ...env },
    stdio: 'pipe',
    detached: true,
  });
  let output = '';
  const waiters = new Set<() => void>();
  child.stdout.on('data', (chunk: Buffer) => {
    output += chunk.toString();
    for (const w of waiters) w();
  });
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  return {
    child,
    output: () => output,
    waitFor: (re, ms) =>
      new Promise((resolve, reject) => {
        const check = () => {
          const m = re.exec(output);
          if (!m) return;
          done();
          resolve(m);
        };
        const timer = setTimeout(() => {
          done();
          reject(new Error(`no ${re} within ${ms} ms; output:\n${output}`));
        }, ms);
        const onExit = (code: number | null) => {
          done();
          reject(new Error(`exited ${code} before ${re}; output:\n${output}`));
        };
        const done = () => {
          clearTimeout(timer);
          waiters.delete(check);
          child.off('exit', onExit);
        };
        waiters.add(check);
        child.once('exit', onExit);
        check();
      }),
  };
}

/** Whatever is left of a run's process group (after a failure). */
function killGroup(child: ChildProcessWithoutNullStreams): void {
  if (child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-child.pid!, 'SIGKILL');
  } catch {
    // already gone
  }
}

/** Ctrl-C: everything it started stops, and the edge no longer listens. */
async function interrupt(run: ReturnType<typeof npmStart>, edge: string): Promise<void> {
  process.kill(-run.child.pid!, 'SIGINT');
  const [code, signal] = await once(run.child, 'exit');
  // npm itself ends by the signal (as it does at a terminal); the edge under it stops cleanly.
  assert.ok(code === 0 || code === 130 || signal === 'SIGINT', `exit ${code} ${signal}`);
  let closed = false;
  for (let i = 0; i < 50 && !closed; i++) {
    closed = await fetch(`${edge}/health`).then(() => false, () => true);
    if (!closed) await new Promise((r) => setTimeout(r, 100));
  }
  assert.ok(closed, 'the edge no longer listens');
  // The pipe ends once every process of the group has let go of it.
  if (run.child.stdout.readable) await once(run.child.stdout, 'end');
  assert.match(run.output(), /SIGINT: stopping/);
  assert.match(run.output(), /^stopped$/m, 'the stop finished before the process ended');
}

test('npm start runs the demo: edge, a published layered asset, viewers streaming it, the offload; Ctrl-C stops it all; a second start reuses the state', { timeout: 180_000 }, async () => {
  const state = await tempStateDir();
  const env = { DEMO_MEDIA: 'synthetic', DEMO_SECONDS: '8', DEMO_VIEWERS: '3' };
  const first = npmStart(state.dir, env);
  try {
    const edge = (await first.waitFor(/edge listening on (http:\/\/127\.0\.0\.1:\d+)/, 60_000))[1]!;
    assert.equal((await fetch(`${edge}/health`)).status, 200);
    assert.equal((await fetch(`${edge}/health/storage`)).status, 200);
    // Secrets, Durable Objects and R2 all live below the one state folder.
    const secrets = JSON.parse(await readFile(path.join(state.dir, 'secrets.json'), 'utf8')) as Record<string, string>;
    assert.ok(secrets.PUBLISH_TOKEN && secrets.GATEWAY_SECRET && secrets.PASSKEY_SECRET);
    assert.match(first.output(), new RegExp(`publish token: ${secrets.PUBLISH_TOKEN}`));
    assert.ok((await readdir(state.dir)).includes('do'));

    const infoHash = (await first.waitFor(/demo: published ([0-9a-f]{40})/, 60_000))[1]!;
    // The published torrent and its layer info are on the edge.
    assert.equal((await fetch(`${edge}/t/${infoHash}.torrent`)).status, 200);
    const info = (await (await fetch(`${edge}/layers/${infoHash}`)).json()) as { segmentCount: number };
    assert.equal(info.segmentCount, 4);
    const dashboard = (await first.waitFor(/dashboard: (http:\S+swarm=[0-9a-f]{40})/, 30_000))[1]!;
    assert.ok(dashboard.startsWith(edge) && dashboard.endsWith(infoHash));
    const stream = (await first.waitFor(/stream: +(http:\/\/127\.0\.0\.1:\d+\/index\.m3u8)/, 30_000))[1]!;
    const done = await first.waitFor(/demo: done: 3 viewers played all 4 segments, (\d+) stalls; ([\d.]+) MiB from peers, ([\d.]+) MiB from the edge: offload (\d+)%/, 90_000);
    // Viewers who joined later took from the earlier ones: the swarm carried some of it.
    assert.ok(Number(done[2]) > 0, `bytes from peers: ${done[0]}`);
    assert.ok(Number(done[3]) > 0, `the edge seeded the first viewer: ${done[0]}`);
    // The dashboard shows the demo's swarm, with the edge's and the peers' bytes.
    assert.equal((await fetch(dashboard)).status, 200);
    const { swarm: stats } = (await (await fetch(`${edge}/stats/${infoHash}`)).json()) as { swarm: { edgeBytes: number; seeds: number; leechers: number } };
    assert.ok(stats.edgeBytes > 0, `the edge seed's bytes are counted: ${JSON.stringify(stats)}`);
    assert.ok(stats.seeds + stats.leechers >= 3, `the viewers are in the swarm: ${JSON.stringify(stats)}`);
    const playlist = await (await fetch(stream)).text();
    assert.match(playlist, /^#EXTM3U/);
    assert.equal(playlist.match(/segments\/\d+\.ts/g)?.length, 4, playlist);
    // The swarm is on the tracker: the viewers still seed after playing.
    const scrape = await fetch(`${edge}/scrape?info_hash=${encodeURIComponent(Buffer.from(infoHash, 'hex').toString('latin1'))}`);
    assert.equal(scrape.status, 200);
    await interrupt(first, edge);

    const second = npmStart(state.dir, env);
    try {
      const edge2 = (await second.waitFor(/edge listening on (http:\/\/127\.0\.0\.1:\d+)/, 60_000))[1]!;
      await second.waitFor(/stream: /, 60_000);
      assert.match(second.output(), /demo: reusing the layered sample asset/);
      assert.match(second.output(), new RegExp(`demo: already on the edge: ${infoHash}`));
      assert.match(second.output(), new RegExp(`publish token: ${secrets.PUBLISH_TOKEN}`));
      await interrupt(second, edge2);
    } finally {
      killGroup(second.child);
    }
  } finally {
    killGroup(first.child);
    await state.remove();
  }
});

test('npm run edge runs the edge alone', { timeout: 60_000 }, async () => {
  const state = await tempStateDir();
  const child = spawn('npm', ['run', 'edge', '--silent'], { cwd: ROOT, env: { ...process.env, PORT: '0', EDGE_STATE_DIR: state.dir }, stdio: 'pipe', detached: true });
  let output = '';
  child.stdout.on('data', (c: Buffer) => (output += c.toString()));
  try {
    const edge = await new Promise<string>((resolve, reject) => {
      child.stdout.on('data', () => {
        const m = /edge listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(output);
        if (m) resolve(m[1]!);
      });
      child.once('exit', (code) => reject(new Error(`exited ${code}: ${output}`)));
    });
    assert.equal((await fetch(`${edge}/health`)).status, 200);
    await new Promise((r) => setTimeout(r, 1500));
    assert.doesNotMatch(output, /demo:/);
    process.kill(-child.pid!, 'SIGINT');
    await once(child, 'exit');
    if (child.stdout.readable) await once(child.stdout, 'end');
    assert.match(output, /^stopped$/m);
  } finally {
    killGroup(child);
    await state.remove();
  }
});
