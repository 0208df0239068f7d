import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { tempStateDir } from '../helpers/edge.js';

const ROOT = path.join(import.meta.dirname, '..', '..');

test('npm start brings up the edge on PORT with its state in one folder, and Ctrl-C stops it cleanly', { timeout: 60_000 }, async () => {
  const state = await tempStateDir();
  // The README's command itself, in its own process group so that SIGINT reaches it as Ctrl-C would.
  const child = spawn('npm', ['start', '--silent'], {
    cwd: ROOT,
    env: { ...process.env, PORT: '0', EDGE_STATE_DIR: state.dir },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  try {
    let output = '';
    const url = await new Promise<string>((resolve, reject) => {
      child.stdout.on('data', (chunk: Buffer) => {
        output += chunk.toString();
        const match = /edge listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(output);
        if (match) resolve(match[1]!);
      });
      child.once('exit', (code) => reject(new Error(`exited ${code} before listening: ${output}`)));
    });
    const response = await fetch(`${url}/health`);
    assert.equal(response.status, 200);
    assert.equal((await fetch(`${url}/health/storage`)).status, 200);
    // Secrets, Durable Objects and R2 all live below the one state folder.
    const secrets = JSON.parse(await readFile(path.join(state.dir, 'secrets.json'), 'utf8')) as Record<string, string>;
    assert.ok(secrets.PUBLISH_TOKEN && secrets.GATEWAY_SECRET && secrets.PASSKEY_SECRET);
    assert.match(output, new RegExp(`publish token: ${secrets.PUBLISH_TOKEN}`));
    assert.ok((await readdir(state.dir)).includes('do'));
    process.kill(-child.pid!, 'SIGINT');
    const [code, signal] = await once(child, 'exit');
    // npm itself ends by the signal (as it does at a terminal); the edge under it stops cleanly.
    assert.ok(code === 0 || code === 130 || signal === 'SIGINT', `exit ${code} ${signal}`);
    let closed = false;
    for (let i = 0; i < 50 && !closed; i++) {
      closed = await fetch(`${url}/health`).then(() => false, () => true);
      if (!closed) await new Promise((r) => setTimeout(r, 100));
    }
    assert.ok(closed, 'the edge no longer listens');
    // The pipe ends once every process of the group has let go of it.
    if (child.stdout.readable) await once(child.stdout, 'end');
    assert.match(output, /SIGINT: stopping the edge/);
  } finally {
    if (child.exitCode === null) process.kill(-child.pid!, 'SIGKILL');
    await state.remove();
  }
});
