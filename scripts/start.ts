/**
 * `npm start`: the edge on Miniflare at http://127.0.0.1:8787 (PORT overrides), with all
 * Durable Object and R2 state in ./.edge-state (EDGE_STATE_DIR overrides), reused by the next start.
 */
import { startLocalEdge } from './local-edge.js';
import { loadLocalSecrets } from './local-secrets.js';

const port = Number(process.env.PORT ?? 8787);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error(`PORT must be a port number, got ${JSON.stringify(process.env.PORT)}`);
  process.exit(2);
}
const persistDir = process.env.EDGE_STATE_DIR ?? '.edge-state';

// Importing wrangler (for its config reader) installs a SIGINT handler that exits at once, and
// Miniflare disposes workerd on exit; ours goes first so that the stop is said and clean.
let edge: Awaited<ReturnType<typeof startLocalEdge>> | undefined;
let stopping = false;
function stop(signal: string): void {
  if (stopping) return;
  stopping = true;
  console.log(`\n${signal}: stopping the edge`);
  void edge?.close().then(() => process.exit(0));
}
process.prependListener('SIGINT', () => stop('SIGINT'));
process.prependListener('SIGTERM', () => stop('SIGTERM'));

const secrets = await loadLocalSecrets(persistDir);
edge = await startLocalEdge({ port, persistDir, bindings: { ...secrets } });
console.log(`edge listening on ${edge.url.origin}  (state in ${persistDir})`);
console.log(`  tracker:  ${new URL('/announce', edge.url)}  (UDP: npx peer-node udp-gateway --listen 127.0.0.1:6969 --edge ${edge.url.origin})`);
console.log(`  health:   ${new URL('/health', edge.url)}`);
console.log(`  publish token: ${secrets.PUBLISH_TOKEN}  (from ${persistDir}/secrets.json or PUBLISH_TOKEN)`);

