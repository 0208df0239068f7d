import { randomBytes } from 'node:crypto';
import { toHex } from '../../shared/bytes.js';

/**
 * The BEP 5 routing table: 160-bit node ids in k-buckets (k = 8) over ranges of the id space.
 * Only the bucket whose range holds our own id splits when full, so we know many nodes near us
 * and a few far away. Node states, by the BEP's 15-minute rule: good when it answered us within
 * 15 minutes (or answered once and queried us within 15 minutes), bad after failing to answer
 * `badAfter` queries in a row, questionable otherwise. A full bucket takes a newcomer in place of
 * a bad node; otherwise the newcomer waits in the bucket's replacement cache (bounded), and the
 * caller pings the questionable nodes (`questionable`) so that a dead one turns bad and is
 * replaced from the cache. Buckets untouched for 15 minutes want a refresh (`staleBuckets`).
 * One node per address and port: another id from a known endpoint is ignored while the old
 * entry is not bad.
 */
export interface DhtNode {
  id: Uint8Array;
  host: string;
  port: number;
  /** Last answer from it, last query from it (ms). */
  lastResponse?: number;
  lastQuery?: number;
  /** Queries in a row it did not answer. */
  failures: number;
}

export type NodeState = 'good' | 'questionable' | 'bad';

interface Bucket {
  /** Range [min, max) of ids. */
  min: bigint;
  max: bigint;
  nodes: DhtNode[];
  replacements: DhtNode[];
  lastChanged: number;
}

const FIFTEEN_MINUTES = 15 * 60_000;
const SPACE = 1n << 160n;

export function idToBigInt(id: Uint8Array): bigint {
  return BigInt(`0x${toHex(id) || '0'}`);
}

function bigIntToId(n: bigint): Uint8Array {
  const hex = n.toString(16).padStart(40, '0');
  return Uint8Array.from(hex.match(/../g)!.map((h) => parseInt(h, 16)));
}

/** XOR distance, the DHT metric. */
export function distance(a: Uint8Array, b: Uint8Array): bigint {
  return idToBigInt(a) ^ idToBigInt(b);
}

export class RoutingTable {
  private buckets: Bucket[];
  private readonly own: bigint;

  constructor(
    readonly ownId: Uint8Array,
    private readonly k = 8,
    private readonly badAfter = 2,
    private readonly now: () => number = Date.now,
  ) {
    this.own = idToBigInt(ownId);
    this.buckets = [{ min: 0n, max: SPACE, nodes: [], replacements: [], lastChanged: now() }];
  }

  get size(): number {
    return this.buckets.reduce((n, b) => n + b.nodes.length, 0);
  }

  get bucketCount(): number {
    return this.buckets.length;
  }

  state(node: DhtNode, at = this.now()): NodeState {
    if (node.failures >= this.badAfter) return 'bad';
    if (node.lastResponse !== undefined && at - node.lastResponse < FIFTEEN_MINUTES) return 'good';
    if (node.lastResponse !== undefined && node.lastQuery !== undefined && at - node.lastQuery < FIFTEEN_MINUTES) return 'good';
    return 'questionable';
  }

  private bucketFor(id: bigint): Bucket {
    return this.buckets.find((b) => id >= b.min && id < b.max)!;
  }

  find(id: Uint8Array): DhtNode | undefined {
    const n = idToBigInt(id);
    return this.bucketFor(n).nodes.find((x) => idToBigInt(x.id) === n);
  }

  /**
   * Offers a node we heard from (`responded`: it answered us; else it queried us). Returns what
   * became of it.
   */
  add(node: DhtNode, responded: boolean): 'added' | 'updated' | 'replaced' | 'cached' | 'ignored' {
    const n = idToBigInt(node.id);
    if (n === this.own) return 'ignored';
    const at = this.now();
    for (;;) {
      const bucket = this.bucketFor(n);
      const existing = bucket.nodes.find((x) => idToBigInt(x.id) === n);
      if (existing) {
        if (responded) {
          existing.lastResponse = at;
          existing.failures = 0;
        } else existing.lastQuery = at;
        bucket.lastChanged = at;
        return 'updated';
      }
      // One entry per address and port: a node answering under ever new ids from one socket
      // (a Sybil claiming to be close to every target) would otherwise fill the table. A new id
      // at a known endpoint is taken only once the old entry has gone bad (a restarted node).
      const twin = this.atEndpoint(node.host, node.port);
      if (twin) {
        if (this.state(twin.node, at) !== 'bad') return 'ignored';
        twin.bucket.nodes.splice(twin.bucket.nodes.indexOf(twin.node), 1);
        continue;
      }
      const fresh: DhtNode = { id: node.id, host: node.host, port: node.port, failures: 0, ...(responded ? { lastResponse: at } : { lastQuery: at }) };
      if (bucket.nodes.length < this.k) {
        bucket.nodes.push(fresh);
        bucket.lastChanged = at;
        return 'added';
      }
      if (this.own >= bucket.min && this.own < bucket.max && bucket.max - bucket.min > 1n) {
        this.split(bucket);
        continue;
      }
      const bad = bucket.nodes.findIndex((x) => this.state(x, at) === 'bad');
      if (bad >= 0) {
        bucket.nodes[bad] = fresh;
        bucket.lastChanged = at;
        return 'replaced';
      }
      if (!bucket.replacements.some((x) => idToBigInt(x.id) === n)) {
        bucket.replacements.push(fresh);
        if (bucket.replacements.length > this.k) bucket.replacements.shift();
      }
      return 'cached';
    }
  }

  private atEndpoint(host: string, port: number): { bucket: Bucket; node: DhtNode } | undefined {
    for (const bucket of this.buckets) {
      const node = bucket.nodes.find((x) => x.port === port && x.host === host);
      if (node) return { bucket, node };
    }
    return undefined;
  }

  /** A query to the node went unanswered: it may turn bad, and a cached node take its place. */
  failed(id: Uint8Array): void {
    const n = idToBigInt(id);
    const bucket = this.bucketFor(n);
    const i = bucket.nodes.findIndex((x) => idToBigInt(x.id) === n);
    if (i < 0) return;
    const node = bucket.nodes[i]!;
    node.failures++;
    if (this.state(node) === 'bad' && bucket.replacements.length > 0) {
      bucket.nodes[i] = bucket.replacements.pop()!;
      bucket.lastChanged = this.now();
    }
  }

  /** The `count` nodes closest to `target`, good ones first among equals, bad ones never. */
  closest(target: Uint8Array, count = this.k): DhtNode[] {
    const t = idToBigInt(target);
    const at = this.now();
    return this.buckets
      .flatMap((b) => b.nodes)
      .filter((x) => this.state(x, at) !== 'bad')
      .map((x) => ({ x, d: idToBigInt(x.id) ^ t }))
      .sort((a, b) => (a.d < b.d ? -1 : a.d > b.d ? 1 : 0))
      .slice(0, count)
      .map(({ x }) => x);
  }

  /** Nodes to ping: questionable ones in full buckets that have newcomers waiting. */
  questionable(): DhtNode[] {
    const at = this.now();
    return this.buckets.filter((b) => b.replacements.length > 0).flatMap((b) => b.nodes.filter((x) => this.state(x, at) === 'questionable'));
  }

  /** A random id in each bucket untouched for 15 minutes: look those up to refresh it. */
  staleBuckets(): Uint8Array[] {
    const at = this.now();
    return this.buckets.filter((b) => at - b.lastChanged >= FIFTEEN_MINUTES).map((b) => bigIntToId(b.min + (idToBigInt(randomBytes(20)) % (b.max - b.min))));
  }

  private split(bucket: Bucket): void {
    const mid = bucket.min + (bucket.max - bucket.min) / 2n;
    const low: Bucket = { min: bucket.min, max: mid, nodes: [], replacements: [], lastChanged: bucket.lastChanged };
    const high: Bucket = { min: mid, max: bucket.max, nodes: [], replacements: [], lastChanged: bucket.lastChanged };
    for (const x of bucket.nodes) (idToBigInt(x.id) < mid ? low : high).nodes.push(x);
    for (const x of bucket.replacements) (idToBigInt(x.id) < mid ? low : high).replacements.push(x);
    this.buckets.splice(this.buckets.indexOf(bucket), 1, low, high);
  }

  /** For saving to disk: the nodes (not the buckets, which adding them again rebuilds). */
  toJSON(): { id: string; nodes: { id: string; host: string; port: number }[] } {
    return { id: toHex(this.ownId), nodes: this.buckets.flatMap((b) => b.nodes).map((x) => ({ id: toHex(x.id), host: x.host, port: x.port })) };
  }
}
