/** Starts the real edge Worker on Miniflare (real Durable Objects and R2) in a temp state folder. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { type LocalEdge, startLocalEdge } from '../../scripts/local-edge.js';

export async function tempStateDir(): Promise<{ dir: string; remove(): Promise<void> }> {
  const dir = await mkdtemp(path.join(tmpdir(), 'edge-state-'));
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) };
}

/** Secrets the test edges run with. */
export const TEST_SECRETS = {
  PUBLISH_TOKEN: 'test-publish-token',
  GATEWAY_SECRET: 'test-gateway-secret',
  PASSKEY_SECRET: 'test-passkey-secret',
};

export async function startTestEdge(persistDir: string, vars: Record<string, string> = {}): Promise<LocalEdge> {
  return startLocalEdge({ port: 0, persistDir, bindings: { ...TEST_SECRETS, ...vars } });
}

/** An edge in a fresh folder, removed again by `close`. */
export async function withEdge<T>(vars: Record<string, string>, body: (edge: LocalEdge, stateDir: string) => Promise<T>): Promise<T> {
  const state = await tempStateDir();
  const edge = await startTestEdge(state.dir, vars);
  try {
    return await body(edge, state.dir);
  } finally {
    await edge.close();
    await state.remove();
  }
}
