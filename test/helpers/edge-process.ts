/**
 * The test edge in a process of its own, so that a test can read everything the Worker (and
 * workerd, and Miniflare) writes to stdout and stderr. Bindings come as JSON in EDGE_BINDINGS;
 * `EDGE_CORRUPT_TORRENT=<hex>` stores a broken `meta.torrent` under that info-hash (an error path
 * that logs). Prints one line `EDGE_URL <url>`, then runs until its stdin closes.
 */
import { startTestEdge, tempStateDir } from './edge.js';
import { contentKeys } from '../../worker/publish/content-keys.js';

const state = await tempStateDir();
const edge = await startTestEdge(state.dir, JSON.parse(process.env.EDGE_BINDINGS ?? '{}') as Record<string, string>);
const corrupt = process.env.EDGE_CORRUPT_TORRENT;
if (corrupt) await (await edge.miniflare.getR2Bucket('CONTENT')).put(contentKeys.torrent(corrupt), 'd4:infoi1ee');
console.log(`EDGE_URL ${edge.url.href}`);
process.stdin.resume();
process.stdin.on('end', () => {
  void edge
    .close()
    .then(() => state.remove())
    .then(() => process.exit(0));
});
