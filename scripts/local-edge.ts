/**
 * Runs the edge Worker locally on Miniflare's API (not `wrangler dev`, whose Node proxy costs
 * about 4x in throughput), with bindings derived from wrangler.toml so that file stays the one
 * source of truth. Used by `npm start`, the Worker tests and the benchmarks.
 *
 * The edge is served on a workerd socket bound straight to the Worker: Miniflare's usual entry
 * socket runs every request through its own entry Worker first (dev conveniences: request logs,
 * pretty error pages), which cuts throughput about threefold. The entry socket still exists on a
 * free port for Miniflare's own use. See workerd-client-ip.ts for how the Worker still learns
 * the client's address on the direct socket.
 */
import { build } from 'esbuild';
import { Miniflare } from 'miniflare';
import { unstable_getMiniflareWorkerOptions } from 'wrangler';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { installClientIpForDirectSockets } from './workerd-client-ip.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const WRANGLER_TOML = path.join(ROOT, 'wrangler.toml');

export interface LocalEdgeOptions {
  /** TCP port on 127.0.0.1; 0 picks a free one. */
  port: number;
  /** Folder that holds all Durable Object and R2 state; reused across starts. */
  persistDir: string;
  /** Extra plain-text bindings (secrets such as PUBLISH_TOKEN). */
  bindings?: Record<string, string>;
  host?: string;
}

export interface LocalEdge {
  url: URL;
  miniflare: Miniflare;
  close(): Promise<void>;
}

/**
 * Bundles worker/ into one ES module the way wrangler would, in memory (no shared output file,
 * so parallel test processes cannot trip over each other).
 */
export async function bundleWorker(): Promise<string> {
  const result = await build({
    entryPoints: [path.join(ROOT, 'worker', 'index.ts')],
    bundle: true,
    write: false,
    format: 'esm',
    platform: 'neutral',
    target: 'es2022',
    mainFields: ['module', 'main'],
    conditions: ['workerd', 'worker', 'import'],
    external: ['cloudflare:*'],
    logLevel: 'warning',
  });
  return result.outputFiles[0]!.text;
}

/** Starts the edge on Miniflare; resolves once it accepts requests. */
export async function startLocalEdge(options: LocalEdgeOptions): Promise<LocalEdge> {
  const script = await bundleWorker();
  const { workerOptions } = unstable_getMiniflareWorkerOptions(WRANGLER_TOML);
  installClientIpForDirectSockets();
  const host = options.host ?? '127.0.0.1';
  const miniflare = new Miniflare({
    ...workerOptions,
    name: 'edge-swarm',
    modules: [{ type: 'ESModule', path: path.join(ROOT, 'worker.js'), contents: script }],
    bindings: { ...(workerOptions.bindings as Record<string, unknown>), ...options.bindings },
    unsafeDirectSockets: [{ host, port: options.port }],
    host: '127.0.0.1',
    port: 0,
    logRequests: false,
    defaultPersistRoot: path.resolve(options.persistDir),
  } as ConstructorParameters<typeof Miniflare>[0]);
  await miniflare.ready;
  const url = await miniflare.unsafeGetDirectURL();
  return { url, miniflare, close: () => miniflare.dispose() };
}
