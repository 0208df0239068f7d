/** Starts the real edge Worker on Miniflare (real Durable Objects and R2) in a temp state folder. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { type LocalEdge, startLocalEdge } from '../../scripts/local-edge.js';

export async function tempStateDir(): Promise<{ dir: string; remove(): Promise<void> }> {
  const dir = await mkdtemp(path.join(tmpdir(), 'edge-state-'));
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) };
}

export async function startTestEdge(persistDir: string): Promise<LocalEdge> {
  return startLocalEdge({ port: 0, persistDir });
}
