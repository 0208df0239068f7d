/**
 * DHT lookups at scale (issue 7): networks of our nodes built the way a live network grows (each
 * joins through one well-known node and one it already knows of, then every node refreshes once),
 * one node announces an info-hash, and lookups from random other nodes run get_peers. Measured
 * per lookup: whether it found the announced peer, the hops from the asker's table to the node
 * that handed out the peer, the queries sent by then and in all, and the time to the peer. Then
 * 20% of the nodes die silently (their traffic vanishes, nothing answers) and the lookups run
 * again. The reference is log2(N), the hop count a Kademlia lookup is meant to grow with.
 *
 * Networks: real UDP sockets on distinct 127.x.y.z addresses (each node its own address, as on
 * the internet: per-address rate limits apply as they would), and the in-memory network for
 * sizes one process cannot hold in sockets, with a one-way latency (default 25 ms) during the
 * lookups so that times mean something.
 *
 * usage: node --import tsx bench/dht-lookup.ts [--udp 100,1000] [--memory 100,1000,10000]
 *        [--lookups 40] [--latency 25]
 */
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { DhtNode, type LookupStats } from '../peer-node/dht/dht-node.js';
import { MemoryNetwork } from '../peer-node/dht/memory-network.js';

const { values } = parseArgs({
  options: {
    udp: { type: 'string', default: '100,1000' },
    memory: { type: 'string', default: '100,1000,10000' },
    lookups: { type: 'string', default: '40' },
    latency: { type: 'string', default: '25' },
  },
});
const sizes = (s: string) => s.split(',').filter(Boolean).map(Number);
const LOOKUPS = Number(values.lookups);
const LATENCY = Number(values.latency);
const QUERY_TIMEOUT_MS = 2000;
const PEER_PORT = 7777;

interface Network {
  nodes: DhtNode[];
  hosts: string[];
  kill(i: number): void;
  /** Lookups see this one-way latency from now on (the memory network only). */
  slowDown(): void;
  close(): void;
}

function loopbackHost(i: number): string {
  return `127.${1 + Math.floor(i / 62_500)}.${Math.floor(i / 250) % 250}.${(i % 250) + 1}`;
}

async function udpNetwork(n: number): Promise<Network> {
  const hosts = Array.from({ length: n }, (_, i) => loopbackHost(i));
  const nodes = hosts.map((host) => new DhtNode({ host, queryTimeoutMs: QUERY_TIMEOUT_MS }));
  for (const node of nodes) await node.listen();
  return { nodes, hosts, kill: (i) => nodes[i]!.close(), slowDown: () => {}, close: () => nodes.forEach((x) => x.close()) };
}

async function memoryNetwork(n: number): Promise<Network> {
  const network = new MemoryNetwork();
  const hosts = Array.from({ length: n }, (_, i) => `10.${i >> 16}.${(i >> 8) & 255}.${i & 255}`);
  const nodes = hosts.map((host) => new DhtNode({ host, port: 6881, transport: network.transport(), queryTimeoutMs: QUERY_TIMEOUT_MS }));
  for (const node of nodes) await node.listen();
  return {
    nodes,
    hosts,
    kill: (i) => network.kill({ address: hosts[i]!, port: 6881 }),
    slowDown: () => (network.latencyMs = LATENCY),
    close: () => nodes.forEach((x) => x.close()),
  };
}

/** Joins every node through node 0 and a random earlier node, 50 at a time; then all refresh. */
async function grow(net: Network): Promise<void> {
  const at = (i: number) => ({ host: net.hosts[i]!, port: net.nodes[i]!.port });
  const batch = 50;
  for (let i = 1; i < net.nodes.length; i += batch) {
    await Promise.all(net.nodes.slice(i, i + batch).map((node, j) => node.bootstrap([at(0), at(Math.floor(Math.random() * (i + j)))])));
  }
  for (let i = 0; i < net.nodes.length; i += batch) await Promise.all(net.nodes.slice(i, i + batch).map((node) => node.bootstrap([])));
}

function pickDistinct(count: number, from: number[]): number[] {
  const pool = [...from];
  const out: number[] = [];
  while (out.length < count && pool.length) out.push(pool.splice(Math.floor(Math.random() * pool.length), 1)[0]!);
  return out;
}

interface Row {
  network: string;
  n: number;
  dead: string;
  success: number;
  hops: number[];
  queriesToPeer: number[];
  queries: number[];
  msToPeer: number[];
}

const median = (xs: number[]) => (xs.length ? [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]! : NaN);
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const p95 = (xs: number[]) => (xs.length ? [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * 0.95))]! : NaN);

async function lookups(net: Network, askers: number[], infoHash: Uint8Array, expected: string, label: Omit<Row, 'success' | 'hops' | 'queriesToPeer' | 'queries' | 'msToPeer'>): Promise<Row> {
  const row: Row = { ...label, success: 0, hops: [], queriesToPeer: [], queries: [], msToPeer: [] };
  // Five lookups at a time: a few users at once, not a stampede.
  for (let i = 0; i < askers.length; i += 5) {
    const results = await Promise.all(askers.slice(i, i + 5).map((a) => net.nodes[a]!.getPeers(infoHash)));
    for (const { peers, stats, closest } of results) {
      const found = peers.some((p) => `${p.host}:${p.port}` === expected);
      if (found) row.success++;
      else console.error(`  missed: ${peers.length} other peers, ${stats.queries} queries, ${stats.unanswered} unanswered, ${closest.length} closest answered`);
      record(row, stats, found);
    }
  }
  return row;
}

function record(row: Row, stats: LookupStats, found: boolean): void {
  row.queries.push(stats.queries);
  if (!found || stats.hopsToPeers === undefined) return;
  row.hops.push(stats.hopsToPeers);
  row.queriesToPeer.push(stats.queriesToPeers!);
  row.msToPeer.push(stats.msToPeers!);
}

async function measure(kind: 'udp' | 'memory', n: number): Promise<Row[]> {
  const built = performance.now();
  const net = kind === 'udp' ? await udpNetwork(n) : await memoryNetwork(n);
  try {
    await grow(net);
    const tableSizes = net.nodes.map((x) => x.table.size);
    console.error(`${kind} ${n}: grown in ${((performance.now() - built) / 1000).toFixed(1)} s, table sizes median ${median(tableSizes)} (min ${Math.min(...tableSizes)}, max ${Math.max(...tableSizes)})`);
    net.slowDown();
    const infoHash = new Uint8Array(randomBytes(20));
    const announcer = Math.floor(Math.random() * n);
    await net.nodes[announcer]!.announce(infoHash, PEER_PORT);
    const expected = `${net.hosts[announcer]}:${PEER_PORT}`;
    const everyone = net.nodes.map((_, i) => i).filter((i) => i !== announcer);
    const network = kind === 'udp' ? 'UDP, 127.x.y.z' : `memory, ${LATENCY} ms one way`;
    const alive = await lookups(net, pickDistinct(LOOKUPS, everyone), infoHash, expected, { network, n, dead: '0%' });
    // 20% die silently, wherever they are (the announced peer's storers too); lookups go on
    // from the living.
    const dead = new Set(pickDistinct(Math.round(n * 0.2), everyone));
    for (const i of dead) net.kill(i);
    const survivors = everyone.filter((i) => !dead.has(i));
    const afterDeaths = await lookups(net, pickDistinct(LOOKUPS, survivors), infoHash, expected, { network, n, dead: '20%' });
    return [alive, afterDeaths];
  } finally {
    net.close();
  }
}

const rows: Row[] = [];
for (const n of sizes(values.udp!)) rows.push(...(await measure('udp', n)));
for (const n of sizes(values.memory!)) rows.push(...(await measure('memory', n)));

console.log(`${LOOKUPS} get_peers lookups per line, each from a random node; reference log2(N)`);
console.log('| network | nodes | dead | found the peer | hops to the peer (median / mean / max) | log2(N) | mean hops / log2(N) | queries to the peer (median) | queries per lookup (median) | time to the peer (median / p95) |');
console.log('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
for (const r of rows) {
  const log2 = Math.log2(r.n);
  console.log(
    `| ${r.network} | ${r.n} | ${r.dead} | ${r.success}/${LOOKUPS} (${((100 * r.success) / LOOKUPS).toFixed(0)}%) | ${median(r.hops)} / ${mean(r.hops).toFixed(2)} / ${Math.max(...r.hops)} | ${log2.toFixed(1)} | ${(mean(r.hops) / log2).toFixed(2)} | ${median(r.queriesToPeer)} | ${median(r.queries)} | ${median(r.msToPeer).toFixed(1)} / ${p95(r.msToPeer).toFixed(1)} ms |`,
  );
}
process.exit(0);
