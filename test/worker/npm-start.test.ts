import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';
import { tempStateDir } from '../helpers/edge.js';

const ROOT = path.join(import.meta.dirname, '..', '..');

test('npm start brings up the edge on PORT, answers /health, and stops cleanly on SIGINT', async () => {
  const state = await tempStateDir();
  const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/start.ts'], {
    cwd: ROOT,
    env: { ...process.env, PORT: '0', EDGE_STATE_DIR: state.dir },
    stdio: ['ignore', 'pipe', 'pipe'],
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
    assert.match(output, new RegExp(`state in ${state.dir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
    child.kill('SIGINT');
    const [code] = await once(child, 'exit');
    assert.equal(code, 0);
  } finally {
    child.kill('SIGKILL');
    await state.remove();
  }
});
