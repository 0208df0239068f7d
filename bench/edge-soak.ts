/**
 * Soak of the local edge (issue 11, load): a sustained mix of announces, scrapes and BEP 19 range
 * reads from a second process for SECONDS, every answer checked, the edge side's memory sampled
 * every 2 s. Prints the figures per request kind and a verdict on memory: the growth from the
 * first minute's maximum to the last minute's maximum (after a warm-up in which every peer joined
 * and every byte was read once) against BOUND_MIB of workerd RSS.
 *
 * usage: node --import tsx bench/edge-soak.ts [SECONDS=180] [CONCURRENCY=32]
 *        EDGE_SOAK_MIX=ANNOUNCE,SCRAPE,RANGE shares (default 0.7,0.1,0.2), to find what grows;
 *        SEED_MEMORY_CACHE_BYTES as in wrangler.toml (default 32 MiB, less than the content).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startLocalEdge } from '../scripts/local-edge.js';
import { loadTable, memoryGrowth, publishLoadContent, runMixedLoad } from './edge-load.js';

const SECONDS = Number(process.argv[2] ?? 180);
const CONCURRENCY = Number(process.argv[3] ?? 32);
const SWARMS = 50;
const PEERS_PER_SWARM = 200;
const BIG_MIB = 40; // five 8 MiB chunks: more than the 32 MiB chunk cache, so R2 is read too
const BOUND_MIB = 64;
const [announce = 0.7, scrape = 0.1, range = 0.2] = (process.env.EDGE_SOAK_MIX ?? '').split(',').filter(Boolean).map(Number);

const work = await mkdtemp(path.join(tmpdir(), 'bench-soak-'));
try {
  // Upload limits lifted (as in bench/seed-ranges.ts): this measures serving, not the throttle.
  const edge = await startLocalEdge({
    port: 0,
    persistDir: path.join(work, 'edge'),
    bindings: { PUBLISH_TOKEN: 'bench', SEED_CLIENT_RATE: String(1e12), SEED_TOTAL_RATE: String(1e12), ...(process.env.SEED_MEMORY_CACHE_BYTES ? { SEED_MEMORY_CACHE_BYTES: process.env.SEED_MEMORY_CACHE_BYTES } : {}) },
  });
  try {
    const content = await publishLoadContent(edge, work, 'bench', BIG_MIB);
    const { result, samples } = await runMixedLoad({
      base: edge.url.origin,
      seconds: SECONDS,
      concurrency: CONCURRENCY,
      swarms: SWARMS,
      peersPerSwarm: PEERS_PER_SWARM,
      mix: { announce, scrape, range },
      ...content,
    });
    const window = Math.round(Math.min(60, SECONDS / 3));
    const rss = memoryGrowth(samples, 'workerdRssMiB', window);
    const anon = memoryGrowth(samples, 'workerdAnonMiB', window);
    const file = memoryGrowth(samples, 'workerdFileMiB', window);
    const nodeRss = memoryGrowth(samples, 'nodeRssMiB', window);
    const heap = memoryGrowth(samples, 'nodeHeapMiB', window);
    const total = Object.values(result.kinds).reduce((n, k) => n + k.count, 0);
    const errors = Object.values(result.kinds).reduce((n, k) => n + k.errors + k.timeouts, 0);
    console.log(
      `\nmixed load, ${result.seconds} s after a ${(result.warmupMs / 1000).toFixed(1)} s warm-up (${result.warmupErrors} warm-up errors), ${CONCURRENCY} concurrent keep-alive requests from a second process, ` +
        `${SWARMS * PEERS_PER_SWARM} peers over ${SWARMS} swarms, ${BIG_MIB} MiB + 293 KiB published, mix ${announce}/${scrape}/${range}; ${total} requests, ${Math.round(total / result.seconds)}/s, ${errors} errors or timeouts\n`,
    );
    console.log(loadTable(result));
    for (const k of Object.values(result.kinds)) for (const s of k.samples) console.log(`  error: ${s}`);
    console.log(`\nrequests per 10 s: ${result.perTenSeconds.join(' ')}`);
    console.log(`\nmemory, max of the first ${window} s -> max of the last ${window} s (${samples.length} samples, every 2 s):`);
    console.log(`  workerd RSS ${rss.first} -> ${rss.last} MiB (growth ${rss.growth} MiB, bound ${BOUND_MIB} MiB): ${rss.growth < BOUND_MIB ? 'PASS' : 'FAIL'}`);
    console.log(`  of which anonymous ${anon.first} -> ${anon.last} MiB (growth ${anon.growth}), file-backed and shared ${file.first} -> ${file.last} MiB (growth ${file.growth})`);
    console.log(`  Node (Miniflare host) RSS ${nodeRss.first} -> ${nodeRss.last} MiB (growth ${nodeRss.growth}); heap ${heap.first} -> ${heap.last} MiB (growth ${heap.growth})`);
    // A leak grows with the requests; a working set reaching its size flattens: the least-squares
    // slope of workerd's RSS over the second half of the run tells them apart.
    const half = samples.filter((s) => s.t >= (samples.at(-1)?.t ?? 0) / 2);
    const mt = half.reduce((n, s) => n + s.t, 0) / half.length;
    const mr = half.reduce((n, s) => n + s.workerdRssMiB, 0) / half.length;
    const slope = half.reduce((n, s) => n + (s.t - mt) * (s.workerdRssMiB - mr), 0) / half.reduce((n, s) => n + (s.t - mt) ** 2, 0);
    console.log(`  workerd RSS slope over the second half: ${(slope * 60).toFixed(1)} MiB per minute`);
    const every = Math.max(1, Math.floor(samples.length / 12));
    console.log(`  workerd RSS over time (s: MiB): ${samples.filter((_, i) => i % every === 0 || i === samples.length - 1).map((s) => `${Math.round(s.t)}: ${s.workerdRssMiB}`).join(', ')}`);
    console.log(`  min/max workerd RSS: ${Math.min(...samples.map((s) => s.workerdRssMiB))} / ${Math.max(...samples.map((s) => s.workerdRssMiB))} MiB`);
  } finally {
    await edge.close();
  }
} finally {
  await rm(work, { recursive: true, force: true });
}
process.exit(0);
