/**
 * Isolates a finding of bench/edge-soak.ts (docs/RELIABILITY.md): workerd's RSS grows with
 * the number of R2 reads on the local edge. Here a bare Worker (none of ours) on Miniflare
 * answers random ranged reads (1 B - 1 MiB) of one 8 MiB R2 object, 8 at a time, for SECONDS;
 * workerd's RSS is printed every 10 s against the requests made so far.
 *
 * usage: node --import tsx bench/miniflare-r2-memory.ts [SECONDS=90]
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Miniflare } from 'miniflare';
import { Agent, request } from 'undici';
import { workerdPid } from './edge-load.js';

const SECONDS = Number(process.argv[2] ?? 90);
const OBJECT_BYTES = 8 * 1024 * 1024;
const WORKER = `export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    if (url.pathname === '/put') {
      await env.BUCKET.put('object', new Uint8Array(${OBJECT_BYTES}).fill(7));
      return new Response('stored');
    }
    const offset = Number(url.searchParams.get('offset'));
    const length = Number(url.searchParams.get('length'));
    const object = await env.BUCKET.get('object', { range: { offset, length } });
    return new Response(new Uint8Array(await object.arrayBuffer()));
  },
};`;

const work = await mkdtemp(path.join(tmpdir(), 'bench-r2-'));
const miniflare = new Miniflare({ modules: true, script: WORKER, r2Buckets: ['BUCKET'], r2Persist: work, compatibilityDate: '2024-09-01' });
try {
  const url = await miniflare.ready;
  await (await fetch(new URL('/put', url))).text();
  const pid = workerdPid();
  if (pid === undefined) throw new Error('no workerd child process');
  const rssMiB = async () => Math.round(Number(/VmRSS:\s+(\d+)/.exec(await readFile(`/proc/${pid}/status`, 'utf8'))?.[1]) / 1024);
  const agent = new Agent({ connections: 8 });
  let requests = 0;
  const series = [`0: ${await rssMiB()}`];
  const end = Date.now() + SECONDS * 1000;
  const timer = setInterval(() => void rssMiB().then((m) => series.push(`${requests}: ${m}`)), 10_000);
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      while (Date.now() < end) {
        const length = 1 + Math.floor(Math.random() * 1048576);
        const offset = Math.floor(Math.random() * (OBJECT_BYTES - length));
        const res = await request(new URL(`/read?offset=${offset}&length=${length}`, url), { dispatcher: agent });
        if ((await res.body.arrayBuffer()).byteLength !== length) throw new Error('short read');
        requests++;
      }
    }),
  );
  clearInterval(timer);
  console.log(`bare Worker, ranged R2 reads on Miniflare, ${SECONDS} s: requests: workerd RSS MiB -> ${series.join(', ')}, end ${requests}: ${await rssMiB()}`);
  await agent.close();
} finally {
  await miniflare.dispose();
  await rm(work, { recursive: true, force: true });
}
process.exit(0);
