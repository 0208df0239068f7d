/**
 * Issue 11, load: the local edge under a sustained mix of announces, scrapes and BEP 19 range
 * reads from a second process (bench/mixed-load.ts; bench/edge-soak.ts is the minutes-long
 * version with figures in docs/RELIABILITY.md). Asserted: every request answered and valid
 * (no error status, no `failure reason`, no timeout), every range read byte-exact with the right
 * Content-Range, each swarm's counts exact afterwards (no join or leave lost under load), and
 * the workerd process's memory bounded after the warm-up. No timing assertions: the latencies
 * are printed, never compared.
 *
 * EDGE_LOAD_SECONDS (default 25) sets the length of the load.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { benchInfoHash } from '../../bench/bench-swarm.js';
import { loadTable, memoryGrowth, publishLoadContent, runMixedLoad } from '../../bench/edge-load.js';
import { toHex } from '../../shared/bytes.js';
import { TEST_SECRETS, withEdge } from '../helpers/edge.js';
import { scrape } from '../helpers/tracker-client.js';

const SECONDS = Number(process.env.EDGE_LOAD_SECONDS ?? 25);
const SWARMS = 20;
const PEERS_PER_SWARM = 100;
/**
 * Growth of workerd's RSS from the first third's maximum to the last third's, after a warm-up
 * in which every peer joined and every byte was read once (so swarms and the chunk cache are
 * full). The soak measures well under this (see docs/RELIABILITY.md); the bound is wide so
 * that GC timing on a shared machine cannot fail it, while a leak per request (the load makes
 * tens of thousands) still does.
 */
const RSS_GROWTH_BOUND_MIB = 128;

test(`the edge under ${SECONDS} s of mixed load from another process: every answer valid, range reads byte-exact, swarm counts exact, memory bounded`, { timeout: (SECONDS + 240) * 1000 }, async () => {
  const work = await mkdtemp(path.join(tmpdir(), 'edge-load-'));
  try {
    // Upload limits lifted: a 503 from the throttle is the policy working, not a failure, and
    // this test is about serving.
    await withEdge({ SEED_CLIENT_RATE: String(1e12), SEED_TOTAL_RATE: String(1e12) }, async (edge) => {
      const content = await publishLoadContent(edge, work, TEST_SECRETS.PUBLISH_TOKEN, 12);
      const { result, samples } = await runMixedLoad({
        base: edge.url.origin,
        seconds: SECONDS,
        concurrency: 16,
        swarms: SWARMS,
        peersPerSwarm: PEERS_PER_SWARM,
        timeoutMs: 30_000,
        ...content,
      });
      const window = SECONDS / 3;
      const rss = memoryGrowth(samples, 'workerdRssMiB', window);
      console.log(`${loadTable(result)}\nworkerd RSS max ${rss.first} MiB in the first ${window.toFixed(1)} s, ${rss.last} MiB in the last (${samples.length} samples)`);

      assert.equal(result.warmupErrors, 0, `warm-up errors: ${result.warmupErrorSamples.join('; ')}`);
      for (const [kind, f] of Object.entries(result.kinds)) {
        assert.ok(f.count > 0, `some ${kind} requests were made`);
        assert.equal(f.errors, 0, `${kind} errors: ${f.samples.join('; ')}`);
        assert.equal(f.timeouts, 0, `${kind} requests unanswered after 30 s`);
      }
      assert.ok(result.kinds.range.bytes > 0, 'range reads carried bytes (each compared with the file)');

      // Every join and leave of the load counted: each swarm holds exactly the peers whose last
      // announce was not `stopped`, seeds and leechers apart.
      const hashes = Array.from({ length: SWARMS }, (_, i) => benchInfoHash(i));
      const files = await scrape(edge.url, hashes);
      assert.ok(files instanceof Map, 'the scrape is answered');
      hashes.forEach((h, i) => {
        const got = files.get(toHex(h));
        assert.deepEqual({ complete: got?.complete, incomplete: got?.incomplete }, result.swarmCounts[i], `swarm ${i}`);
      });

      assert.ok(samples.length >= 6, `memory sampled ${samples.length} times`);
      assert.ok(rss.growth < RSS_GROWTH_BOUND_MIB, `workerd RSS grew ${rss.growth} MiB after warm-up (bound ${RSS_GROWTH_BOUND_MIB} MiB): ${samples.map((s) => s.workerdRssMiB).join(' ')}`);
      const health = await fetch(new URL('/health', edge.url));
      assert.equal(health.status, 200, 'the edge still answers afterwards');
    });
  } finally {
    await rm(work, { recursive: true, force: true });
  }
});
