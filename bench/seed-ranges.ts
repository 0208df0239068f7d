/**
 * Range-read throughput and latency of the edge's HTTP seed (BEP 19, bytes from R2 on
 * Miniflare) against nginx serving the same file from disk, same machine, same run, same load:
 * wrk with 16 connections asking random aligned ranges of 16 KiB, 256 KiB and 4 MiB.
 *
 * usage: node --import tsx bench/seed-ranges.ts [SECONDS=10] [CONNECTIONS=16]
 * needs: wrk and nginx from Debian.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startLocalEdge } from '../scripts/local-edge.js';
import { publishPath } from '../peer-node/publish/publish-client.js';
import { runWrk } from './wrk.js';

const SECONDS = Number(process.argv[2] ?? 10);
const CONNECTIONS = Number(process.argv[3] ?? 16);
const FILE_BYTES = 64 * 1024 * 1024;
const SIZES = [16 * 1024, 256 * 1024, 4 * 1024 * 1024];
const NGINX_PORT = 18501;
const NODE_PORT = 18502;

interface Row {
  size: number;
  target: string;
  requestsPerSecond: number;
  mibPerSecond: number;
  p50ms: number;
  p99ms: number;
  errors: number;
}

async function wrk(target: string, url: string, size: number, work: string): Promise<Row> {
  const script = path.join(work, `ranges-${size}.lua`);
  const slots = FILE_BYTES / size;
  await writeFile(
    script,
    `math.randomseed(${size})\nrequest = function()\n  local i = math.random(0, ${slots - 1})\n  local from = i * ${size}\n  return wrk.format("GET", nil, { ["Range"] = "bytes=" .. from .. "-" .. (from + ${size - 1}) })\nend\n`,
  );
  const r = runWrk(url, script, SECONDS, CONNECTIONS, 10);
  return { size, target, requestsPerSecond: r.requestsPerSecond, mibPerSecond: Math.round((r.requestsPerSecond * size) / 1048576), p50ms: r.p50ms, p99ms: r.p99ms, errors: r.failures };
}

const work = await mkdtemp(path.join(tmpdir(), 'bench-seed-'));
const rows: Row[] = [];
let nginx: ReturnType<typeof spawn> | undefined;
let node: ReturnType<typeof spawn> | undefined;
try {
  const www = path.join(work, 'www');
  await mkdir(www);
  const file = path.join(www, 'movie.bin');
  await writeFile(file, randomBytes(FILE_BYTES));
  // The edge, with its upload limits lifted: this measures serving, not the throttle.
  const edge = await startLocalEdge({
    port: 0,
    persistDir: path.join(work, 'edge'),
    bindings: { PUBLISH_TOKEN: 'bench', SEED_CLIENT_RATE: String(1e12), SEED_TOTAL_RATE: String(1e12), ...(process.env.SEED_MEMORY_CACHE_BYTES ? { SEED_MEMORY_CACHE_BYTES: process.env.SEED_MEMORY_CACHE_BYTES } : {}) },
  });
  const { infoHash } = await publishPath({ path: file, edge: edge.url, token: 'bench' });
  const edgeUrl = new URL(`/seed/${infoHash}/movie.bin`, edge.url).href;

  const conf = path.join(work, 'nginx.conf');
  await writeFile(
    conf,
    `daemon off;\nmaster_process off;\nworker_processes 1;\nerror_log ${work}/nginx-error.log;\npid ${work}/nginx.pid;\nevents { worker_connections 256; }\nhttp {\n  access_log off;\n  sendfile on;\n  client_body_temp_path ${work};\n  proxy_temp_path ${work};\n  fastcgi_temp_path ${work};\n  uwsgi_temp_path ${work};\n  scgi_temp_path ${work};\n  server { listen 127.0.0.1:${NGINX_PORT}; root ${www}; }\n}\n`,
  );
  nginx = spawn('nginx', ['-c', conf, '-p', work], { stdio: 'inherit' });
  node = spawn(process.execPath, [path.join(import.meta.dirname, 'servers', 'static-server.mjs'), String(NODE_PORT), file], { stdio: ['ignore', 'ignore', 'inherit'] });
  await new Promise((r) => setTimeout(r, 700));
  const nginxUrl = `http://127.0.0.1:${NGINX_PORT}/movie.bin`;
  const nodeUrl = `http://127.0.0.1:${NODE_PORT}/movie.bin`;

  for (const size of SIZES) {
    rows.push(await wrk('edge seed (R2 on Miniflare)', edgeUrl, size, work));
    rows.push(await wrk('nginx 1.22 (disk, sendfile)', nginxUrl, size, work));
    rows.push(await wrk('Node 20 http + fs streams', nodeUrl, size, work));
  }
  await edge.close();
} finally {
  nginx?.kill();
  node?.kill();
  await rm(work, { recursive: true, force: true });
}

console.log(`\nrange reads of a 64 MiB file, ${SECONDS}s per row, ${CONNECTIONS} connections, random aligned ranges\n`);
console.log('| range | target | requests/s | MiB/s | vs nginx | vs Node | p50 ms | p99 ms | errors |');
console.log('|---:|---|---:|---:|---:|---:|---:|---:|---:|');
for (const row of rows) {
  const ref = (name: string) => rows.find((r) => r.size === row.size && r.target.startsWith(name))!.mibPerSecond;
  const vs = (name: string) => `${(row.mibPerSecond / ref(name)).toFixed(2)}x`;
  console.log(`| ${row.size / 1024} KiB | ${row.target} | ${row.requestsPerSecond} | ${row.mibPerSecond} | ${vs('nginx')} | ${vs('Node')} | ${row.p50ms} | ${row.p99ms} | ${row.errors} |`);
}
process.exit(0);
