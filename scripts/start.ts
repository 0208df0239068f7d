/**
 * `npm start`: the edge on Miniflare at http://127.0.0.1:8787 (PORT overrides), with all
 * Durable Object and R2 state in ./.edge-state (EDGE_STATE_DIR overrides), reused by the next
 * start; then the demo (scripts/demo/run-demo.ts): a generated layered asset published on it and
 * a few viewers streaming it, with the dashboard and stream URLs and the offload printed.
 * `npm start -- --edge-only` (or `npm run edge`) runs the edge alone.
 *
 * Settings: PORT, EDGE_STATE_DIR, DEMO_VIEWERS (default 4; 0 = no demo), DEMO_SECONDS (default
 * 60), DEMO_MEDIA (`media` or `synthetic`; default media when ffmpeg is installed).
 */
import { startLocalEdge } from './local-edge.js';
import { loadLocalSecrets } from './local-secrets.js';
import { type Demo, startDemo } from './demo/run-demo.js';

function fail(message: string): never {
  console.error(message);
  process.exit(2);
}

function integerEnv(name: string, fallback: number, min: number, max: number): number {
  const text = process.env[name];
  if (text === undefined || text === '') return fallback;
  const value = Number(text);
  if (!Number.isInteger(value) || value < min || value > max) fail(`${name} must be a whole number from ${min} to ${max}, got ${JSON.stringify(text)}`);
  return value;
}

const port = integerEnv('PORT', 8787, 0, 65535);
const persistDir = process.env.EDGE_STATE_DIR || '.edge-state';
const edgeOnly = process.argv.includes('--edge-only');
const viewers = edgeOnly ? 0 : integerEnv('DEMO_VIEWERS', 4, 0, 16);
const seconds = integerEnv('DEMO_SECONDS', 60, 2, 3600);
const media = process.env.DEMO_MEDIA;
if (media !== undefined && media !== '' && media !== 'media' && media !== 'synthetic') fail(`DEMO_MEDIA must be "media" or "synthetic", got ${JSON.stringify(media)}`);

// Importing wrangler (for its config reader) installs a SIGINT handler that exits at once: ours
// replaces it, so that the viewers and the edge close before the process ends. A second Ctrl-C
// exits at once.
let edge: Awaited<ReturnType<typeof startLocalEdge>> | undefined;
let demo: Demo | undefined;
let stopping = false;
function stop(signal: string): void {
  if (stopping) process.exit(130);
  stopping = true;
  console.log(`\n${signal}: stopping ${demo ? 'the viewers and ' : ''}the edge`);
  void (async () => {
    await demo?.stop().catch((err: Error) => console.error(`demo: ${err.message}`));
    await edge?.close();
    console.log('stopped');
    process.exit(0);
  })();
}
// Wrangler and Miniflare add theirs as they load and start (one re-sends the signal to the
// process once it thinks it is the last listener): after the edge starts, ours are the only ones.
function ownSignals(): void {
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.removeAllListeners(signal);
    process.on(signal, () => stop(signal));
  }
}
ownSignals();

const secrets = await loadLocalSecrets(persistDir);
// With the demo, peers are asked to announce every 30 s (not 15 min), so that the dashboard's
// peer figures move while one watches.
const demoIntervals: Record<string, string> = viewers > 0 ? { ANNOUNCE_INTERVAL: '30', MIN_ANNOUNCE_INTERVAL: '15' } : {};
edge = await startLocalEdge({ port, persistDir, bindings: { ...demoIntervals, ...secrets } });
ownSignals();
console.log(`edge listening on ${edge.url.origin}  (state in ${persistDir})`);
console.log(`  tracker:   ${new URL('/announce', edge.url)}  (UDP: npx peer-node udp-gateway --listen 127.0.0.1:6969 --edge ${edge.url.origin})`);
console.log(`  health:    ${new URL('/health', edge.url)}`);
console.log(`  dashboard: ${new URL('/dashboard', edge.url)}`);
console.log(`  publish token: ${secrets.PUBLISH_TOKEN}  (from ${persistDir}/secrets.json or PUBLISH_TOKEN)`);

if (viewers > 0 && !stopping) {
  try {
    demo = await startDemo({
      edge: edge.url,
      token: secrets.PUBLISH_TOKEN,
      stateDir: persistDir,
      viewers,
      seconds,
      ...(media ? { kind: media as 'media' | 'synthetic' } : {}),
      log: (line) => console.log(line),
    });
    if (stopping) await demo.stop();
  } catch (err) {
    // The edge is still useful without the demo: say why and keep serving.
    console.error(`demo: could not start: ${(err as Error).message}; the edge keeps running (Ctrl-C stops it)`);
  }
}
