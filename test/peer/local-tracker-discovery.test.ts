/**
 * BEP 22 local tracker discovery: the rules (reverse names, the label walk, RFC 2782 order,
 * addresses), the lookups against a small DNS server on 127.0.0.1 (test/helpers/dns-server.ts),
 * and two of our peers whose torrent lists only a tracker that knows neither of them finding each
 * other through the edge, discovered as their local tracker. Then bad DNS input, each case
 * refused or ignored with its reason counted while the peer carries on (a CNAME loop as `loop`),
 * and private torrents, which take no part at all, even when the DNS names their own tracker's
 * host. The local tracker's own `external ip` is never fed back into discovery.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Client, type ClientOptions } from '../../peer-node/client.js';
import { LocalTrackerDiscovery, type DnsLookups, type LocalTrackerDiscoveryOptions } from '../../peer-node/tracker/local-tracker-discovery.js';
import { addressAccepted, isHostName, orderSrv, reverseName, searchDomains } from '../../peer-node/tracker/local-tracker-rules.js';
import { encode } from '../../shared/bencode/index.js';
import { toHex } from '../../shared/bytes.js';
import { makeContent, sameFiles } from '../helpers/content.js';
import { type DnsRecord, DNS_TYPE, encodeResponse, startDnsServer, type TestDnsServer } from '../helpers/dns-server.js';
import { withEdge } from '../helpers/edge.js';
import { until } from '../helpers/raw-peer.js';
import { scrape } from '../helpers/tracker-client.js';

const LOOPBACK = new Uint8Array([127, 0, 0, 1]);
const PTR_127 = '1.0.0.127.in-addr.arpa';
const SRV_LAN = '_bittorrent-tracker._tcp.lan.example';

/** The zone of the happy path: our address's PTR name, SRV one label up, the target's A record. */
function lanZone(trackerPort: number): DnsRecord[] {
  return [
    { type: 'PTR', name: PTR_127, target: 'host.lan.example.' },
    { type: 'SRV', name: SRV_LAN, priority: 0, weight: 0, port: trackerPort, target: 'tracker.lan.example.' },
    { type: 'A', name: 'tracker.lan.example', address: LOOPBACK },
  ];
}

/**
 * A tracker that knows nobody: it answers every announce with no peers and our `external ip`
 * (BEP 24; `externalIp`, default 127.0.0.1), and counts announces by info-hash, and by path and
 * info-hash (`byPath`, keyed `PATH HASH`). `status` other than 200 makes it fail instead.
 */
async function foreignTracker(
  status = 200,
  externalIp = LOOPBACK,
): Promise<{ url: string; port: number; announces: Map<string, number>; byPath: Map<string, number>; close(): Promise<void> }> {
  const announces = new Map<string, number>();
  const byPath = new Map<string, number>();
  const server = http.createServer((req, res) => {
    const raw = /info_hash=([^&]*)/.exec(req.url ?? '')?.[1] ?? '';
    const binary = raw.replace(/%([0-9a-f]{2})/gi, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));
    const hash = toHex(Uint8Array.from(binary, (c) => c.charCodeAt(0)));
    announces.set(hash, (announces.get(hash) ?? 0) + 1);
    const key = `${(req.url ?? '').split('?')[0]} ${hash}`;
    byPath.set(key, (byPath.get(key) ?? 0) + 1);
    res.statusCode = status;
    res.end(Buffer.from(encode({ interval: 1800, peers: new Uint8Array(0), 'external ip': externalIp })));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as { port: number }).port;
  return {
    url: `http://127.0.0.1:${port}/announce`,
    port,
    announces,
    byPath,
    close: () => new Promise((r) => server.close(() => r())),
  };
}

function discoveryOptions(dns: TestDnsServer, extra: LocalTrackerDiscoveryOptions = {}): LocalTrackerDiscoveryOptions {
  // Everything runs on 127.0.0.1, which the default (`public`) would never look up.
  return { resolver: [`127.0.0.1:${dns.port}`], acceptAddress: 'any', timeoutMs: 400, ...extra };
}

function clientOptions(dns: TestDnsServer, extra: LocalTrackerDiscoveryOptions = {}): ClientOptions {
  return { port: 0, host: '127.0.0.1', dht: false, localTrackerDiscovery: discoveryOptions(dns, extra) };
}

/** Runs one lookup of 127.0.0.1 against `dns`; resolves with the discovery once it is done. */
async function lookupOnce(dns: TestDnsServer, extra: LocalTrackerDiscoveryOptions = {}): Promise<LocalTrackerDiscovery> {
  const discovery = new LocalTrackerDiscovery(discoveryOptions(dns, extra));
  const done = once(discovery, 'lookup');
  discovery.want();
  discovery.observe('127.0.0.1', 'tracker');
  await done;
  discovery.close();
  return discovery;
}

// --- the rules ---

test('reverse names: octets under in-addr.arpa, nibbles under ip6.arpa', () => {
  assert.equal(reverseName('69.107.0.14'), '14.0.107.69.in-addr.arpa');
  assert.equal(reverseName('::ffff:69.107.0.14'), '14.0.107.69.in-addr.arpa', 'IPv4-mapped is the IPv4 address');
  assert.equal(reverseName('2001:db8::1'), '1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa');
  assert.equal(reverseName('not an address'), undefined);
});

test('the label walk: whole name first, one label less each time, never a TLD unless a country code', () => {
  // BEP 22's example: three queries remove labels before pacbell.net answers.
  assert.deepEqual(searchDomains('adsl-69-107-0-14.dsl.pltn13.pacbell.net', 10), [
    'adsl-69-107-0-14.dsl.pltn13.pacbell.net',
    'dsl.pltn13.pacbell.net',
    'pltn13.pacbell.net',
    'pacbell.net',
  ]);
  assert.deepEqual(searchDomains('Host.Lan.Example.', 10), ['host.lan.example', 'lan.example'], 'case and the root dot do not matter');
  assert.deepEqual(searchDomains('a.b.co.uk', 10), ['a.b.co.uk', 'b.co.uk', 'co.uk', 'uk'], 'a ccTLD may run caches');
  assert.deepEqual(searchDomains('a.b.c.d.e.f.g.h.example', 3), ['a.b.c.d.e.f.g.h.example', 'b.c.d.e.f.g.h.example', 'c.d.e.f.g.h.example'], 'bounded');
  assert.deepEqual(searchDomains('localhost', 10), []);
});

test('host names: RFC 1123 labels, at least two of them', () => {
  assert.ok(isHostName('tracker.lan.example.'));
  assert.ok(isHostName('xn--bcher-kva.example'));
  for (const bad of ['', '.', 'localhost', 'bad_name.example', '-a.example', 'a-.example', 'a..example', `${'a'.repeat(64)}.example`, 'tr@cker.example', `${'a.'.repeat(127)}ex`]) {
    assert.equal(isHostName(bad), false, bad);
  }
});

test('RFC 2782 order: priority first, then weighted picks with weight 0 last unless drawn', () => {
  const r = (name: string, priority: number, weight: number) => ({ name, priority, weight, port: 1 });
  const records = [r('c', 10, 0), r('a', 5, 0), r('b', 10, 60), r('d', 10, 40)];
  // random 0: the first record whose running sum reaches 0, i.e. a weight-0 record if any.
  assert.deepEqual(orderSrv(records, () => 0).map((x) => x.name), ['a', 'c', 'b', 'd']);
  // random just under 1: the last running sum, 100 of 100 -> d, then b (60 of 60), then c.
  assert.deepEqual(orderSrv(records, () => 0.999).map((x) => x.name), ['a', 'd', 'b', 'c']);
  // 0.5 of 101 -> 50: b's running sum (0 + 60) reaches it first.
  assert.equal(orderSrv(records, () => 0.5)[1]!.name, 'b');
});

test('addresses: public ones by default; `any` also takes private and loopback, never non-unicast', () => {
  for (const ip of ['69.107.0.14', '8.8.8.8', '2a00:1450::1']) assert.ok(addressAccepted(ip, 'public'), ip);
  for (const ip of ['127.0.0.1', '10.1.2.3', '172.16.0.1', '192.168.1.1', '100.64.0.1', '169.254.1.1', '192.0.2.1', '::1', 'fe80::1', 'fd00::1', '2001:db8::1', '::ffff:10.0.0.1', 'nope']) {
    assert.equal(addressAccepted(ip, 'public'), false, ip);
  }
  for (const ip of ['127.0.0.1', '10.1.2.3', 'fd00::1']) assert.ok(addressAccepted(ip, 'any'), ip);
  for (const ip of ['0.0.0.0', '224.0.0.1', '255.255.255.255', '::', 'ff02::1']) assert.equal(addressAccepted(ip, 'any'), false, ip);
});

// --- the address source and the cache (a fake DNS and a fake clock) ---

function fakeDns(ttl = 300): DnsLookups & { asked: string[] } {
  const asked: string[] = [];
  return {
    asked,
    resolvePtr: async (name) => (asked.push(`PTR ${name}`), name.endsWith('in-addr.arpa') ? ['host.lan.example'] : []),
    resolveSrv: async (name) => (asked.push(`SRV ${name}`), name === SRV_LAN ? [{ name: 'tracker.lan.example', port: 6969, priority: 0, weight: 0 }] : []),
    resolve4: async (name) => (asked.push(`A ${name}`), [{ address: '127.0.0.1', ttl }]),
    resolve6: async () => [],
  };
}

test('yourip counts only once distinct peers agree; a tracker is believed at once; loopback needs `any`', async () => {
  const dns = fakeDns();
  const discovery = new LocalTrackerDiscovery({ dns, acceptAddress: 'any' });
  discovery.want();
  discovery.observe(new Uint8Array([69, 107, 0, 14]), 'peer', '1.1.1.1');
  discovery.observe(new Uint8Array([69, 107, 0, 14]), 'peer', '1.1.1.1');
  assert.equal(discovery.snapshot().address, undefined, 'one peer, twice, is one vote');
  const found = once(discovery, 'trackers');
  discovery.observe(new Uint8Array([69, 107, 0, 14]), 'peer', '2.2.2.2');
  assert.equal(discovery.snapshot().address, '69.107.0.14');
  assert.deepEqual((await found)[0], ['http://127.0.0.1:6969/announce']);
  discovery.observe('198.51.100.7', 'tracker');
  assert.equal(discovery.snapshot().address, '198.51.100.7');
  discovery.close();

  const strict = new LocalTrackerDiscovery({ dns: fakeDns() });
  strict.want();
  strict.observe('127.0.0.1', 'tracker');
  strict.observe('127.0.0.1', 'tracker');
  strict.observe(new Uint8Array([1, 2, 3]), 'peer', 'x');
  assert.equal(strict.snapshot().address, undefined);
  assert.equal(strict.snapshot().refused.address, 2, 'each refused address counted once');
  strict.close();
});

test('results are cached per address within a floor and a ceiling; a changed address is looked up again', async () => {
  let now = 1_000_000;
  const dns = fakeDns(5); // an A record TTL of 5 s: the 60 s floor holds
  const discovery = new LocalTrackerDiscovery({ dns, acceptAddress: 'any', now: () => now });
  const lookup = async (ip: string) => {
    const done = once(discovery, 'lookup');
    discovery.observe(ip, 'tracker');
    await done;
  };
  const ptrs = () => dns.asked.filter((q) => q.startsWith('PTR')).length;
  discovery.observe('69.107.0.14', 'tracker');
  await new Promise((r) => setTimeout(r, 20));
  assert.equal(ptrs(), 0, 'no lookup while no torrent wants one');
  const first = once(discovery, 'lookup');
  discovery.want();
  await first;
  assert.equal(ptrs(), 1);
  await lookup('69.107.0.15');
  assert.equal(ptrs(), 2, 'a new address, a new lookup');
  now += 30_000;
  discovery.observe('69.107.0.14', 'tracker'); // back: cached
  await new Promise((r) => setTimeout(r, 20));
  assert.equal(ptrs(), 2);
  assert.deepEqual(discovery.trackers, ['http://127.0.0.1:6969/announce']);
  now += 31_000; // past the floor
  await lookup('69.107.0.15');
  assert.equal(ptrs(), 3, 'expired results are looked up again');
  discovery.close();
});

// --- the whole path, against our DNS server and our edge ---

test('two peers whose torrent lists no useful tracker find each other through the discovered local tracker', { timeout: 90_000 }, () =>
  withEdge({}, async (edge) => {
    const root = await mkdtemp(path.join(tmpdir(), 'bep22-'));
    const foreign = await foreignTracker();
    const dns = await startDnsServer(lanZone(Number(new URL(edge.url).port)));
    const a = new Client(clientOptions(dns));
    const b = new Client(clientOptions(dns));
    try {
      // The torrent's only tracker tells each peer its address and no peers at all.
      const content = await makeContent(path.join(root, 'seed'), [300_000, 200_000], { announceList: [[foreign.url]] });
      await a.listen();
      await b.listen();
      const ta = await a.add(content.built.torrent, { dir: path.join(root, 'seed') });
      const tb = await b.add(content.built.torrent, { dir: path.join(root, 'b') });
      await once(tb, 'done');
      assert.deepEqual(await sameFiles(content, path.join(root, 'b')), [true, true], 'byte-identical');
      const edgeAnnounce = new URL('/announce', edge.url).href;
      for (const [client, torrent] of [[a, ta], [b, tb]] as const) {
        const found = client.localTracker!.snapshot();
        assert.equal(found.address, '127.0.0.1');
        assert.equal(found.name, 'host.lan.example');
        assert.equal(found.srv, SRV_LAN);
        assert.deepEqual(found.trackers, [edgeAnnounce]);
        const stats = torrent.statsSnapshot().localTracker!;
        assert.equal(stats.url, edgeAnnounce);
        assert.ok(stats.announces >= 1);
        assert.deepEqual(stats.refused, { private: 0, duplicate: 0, announceFailed: 0 });
        assert.deepEqual(torrent.trackers, [foreign.url], "the torrent's own trackers are unchanged");
      }
      assert.ok((foreign.announces.get(content.built.torrent.infoHashHex) ?? 0) >= 2, 'the own tracker is announced to as well');
      // Each client asked: the PTR, SRV at host.lan.example (none), SRV at lan.example, A of the target; never the TLD.
      const asked = dns.questions.map((q) => `${q.type} ${q.name}`);
      assert.equal(asked.filter((q) => q === `${DNS_TYPE.PTR} ${PTR_127}`).length, 2);
      assert.ok(asked.includes(`${DNS_TYPE.SRV} _bittorrent-tracker._tcp.host.lan.example`));
      assert.ok(asked.includes(`${DNS_TYPE.A} tracker.lan.example`));
      assert.ok(!asked.some((q) => q.endsWith('_bittorrent-tracker._tcp.example')), 'example is no ccTLD: never asked');
    } finally {
      await b.close();
      await a.close();
      await dns.close();
      await foreign.close();
      await rm(root, { recursive: true, force: true });
    }
  }),
);

test('private torrents: no lookup for them, no announce to the local tracker, each offer counted', { timeout: 90_000 }, () =>
  withEdge({}, async (edge) => {
    const root = await mkdtemp(path.join(tmpdir(), 'bep22-private-'));
    const foreign = await foreignTracker();
    const dns = await startDnsServer(lanZone(Number(new URL(edge.url).port)));
    const client = new Client(clientOptions(dns));
    try {
      const secret = await makeContent(path.join(root, 'private'), [100_000], { name: 'secret', private: true, announceList: [[foreign.url]] });
      const open = await makeContent(path.join(root, 'public'), [100_000], { name: 'open', announceList: [[foreign.url]] });
      await client.listen();
      const tp = await client.add(secret.built.torrent, { dir: path.join(root, 'p') });
      await until('the private torrent announced to its tracker', () => (foreign.announces.get(secret.built.torrent.infoHashHex) ?? 0) >= 1);
      await new Promise((r) => setTimeout(r, 300));
      assert.deepEqual(dns.questions, [], 'a private torrent alone starts no DNS lookup');
      assert.equal(client.localTracker!.snapshot().address, undefined, "its tracker's `external ip` is not used");
      // A public torrent asks for a lookup; the private one is offered the result and refuses it.
      const tq = await client.add(open.built.torrent, { dir: path.join(root, 'q') });
      await until('the public torrent announced to the local tracker', () => (tq.statsSnapshot().localTracker?.announces ?? 0) >= 1);
      const refused = tp.statsSnapshot().localTracker!;
      assert.equal(refused.refused.private, 1);
      assert.equal(refused.announces, 0);
      assert.equal(refused.url, undefined);
      const counts = await scrape(edge.url, [secret.built.torrent.infoHash, open.built.torrent.infoHash]);
      assert.ok(!('failure' in counts));
      const seen = (hex: string) => (counts.get(hex)?.complete ?? 0) + (counts.get(hex)?.incomplete ?? 0);
      assert.equal(seen(secret.built.torrent.infoHashHex), 0, 'the edge never heard of the private torrent');
      assert.equal(seen(open.built.torrent.infoHashHex), 1);
    } finally {
      await client.close();
      await dns.close();
      await foreign.close();
      await rm(root, { recursive: true, force: true });
    }
  }),
);

test("DNS naming a private torrent's own tracker host: the private torrent never announces there without its passkey; a public one on the same client does", { timeout: 60_000 }, async () => {
  const root = await mkdtemp(path.join(tmpdir(), 'bep22-private-host-'));
  // The private torrent's tracker: announces come under a passkey path; the SRV record names its
  // host and port, so discovery makes `/announce` there, the URL without the passkey.
  const own = await foreignTracker();
  const wan = await foreignTracker();
  const dns = await startDnsServer([
    { type: 'PTR', name: PTR_127, target: 'host.lan.example' },
    { type: 'SRV', name: SRV_LAN, priority: 0, weight: 0, port: own.port, target: 'tracker.lan.example' },
    { type: 'A', name: 'tracker.lan.example', address: LOOPBACK },
  ]);
  const client = new Client(clientOptions(dns));
  try {
    const passkeyPath = '/p/alice.key/announce';
    const secret = await makeContent(path.join(root, 'private'), [100_000], { name: 'secret', private: true, announceList: [[`http://127.0.0.1:${own.port}${passkeyPath}`]] });
    const open = await makeContent(path.join(root, 'public'), [100_000], { name: 'open', announceList: [[wan.url]] });
    const privateHex = secret.built.torrent.infoHashHex;
    const publicHex = open.built.torrent.infoHashHex;
    await client.listen();
    const tp = await client.add(secret.built.torrent, { dir: path.join(root, 'p') });
    const tq = await client.add(open.built.torrent, { dir: path.join(root, 'q') });
    await until('the public torrent announced to the discovered tracker', () => (tq.statsSnapshot().localTracker?.announces ?? 0) >= 1);
    assert.deepEqual(client.localTracker!.trackers, [own.url], "discovery found the private tracker's host");
    assert.equal(tq.statsSnapshot().localTracker!.url, own.url);
    assert.ok((own.byPath.get(`/announce ${publicHex}`) ?? 0) >= 1, 'the public torrent announced at the discovered URL');
    await until('the private torrent announced to its own tracker', () => (own.byPath.get(`${passkeyPath} ${privateHex}`) ?? 0) >= 1);
    await new Promise((r) => setTimeout(r, 300));
    const local = tp.statsSnapshot().localTracker!;
    assert.deepEqual(local.refused, { private: 1, duplicate: 0, announceFailed: 0 }, 'offered once, refused as private (not as a duplicate of its own host)');
    assert.equal(local.announces, 0);
    assert.equal(local.url, undefined);
    assert.deepEqual(
      [...own.byPath.keys()].filter((k) => k.endsWith(privateHex)),
      [`${passkeyPath} ${privateHex}`],
      'the private torrent reached that host only under its own passkey URL',
    );
  } finally {
    await client.close();
    await dns.close();
    await wan.close();
    await own.close();
    await rm(root, { recursive: true, force: true });
  }
});

test("the local tracker's own `external ip` is not fed back into discovery (no lookup from it, no loop)", { timeout: 60_000 }, async () => {
  const root = await mkdtemp(path.join(tmpdir(), 'bep22-no-feedback-'));
  const wan = await foreignTracker(); // says 127.0.0.1
  const local = await foreignTracker(200, new Uint8Array([127, 0, 0, 2])); // says 127.0.0.2
  const dns = await startDnsServer([
    { type: 'PTR', name: PTR_127, target: 'host.lan.example' },
    { type: 'SRV', name: SRV_LAN, priority: 0, weight: 0, port: local.port, target: 'tracker.lan.example' },
    { type: 'A', name: 'tracker.lan.example', address: LOOPBACK },
    // Were 127.0.0.2 looked up, it would lead to yet another local tracker.
    { type: 'PTR', name: '2.0.0.127.in-addr.arpa', target: 'host.other.example' },
    { type: 'SRV', name: '_bittorrent-tracker._tcp.other.example', priority: 0, weight: 0, port: wan.port, target: '127.0.0.1' },
  ]);
  const client = new Client(clientOptions(dns));
  try {
    const content = await makeContent(path.join(root, 'seed'), [100_000], { announceList: [[wan.url]] });
    await client.listen();
    const torrent = await client.add(content.built.torrent, { dir: path.join(root, 'x') });
    await until('the local tracker answered', () => (torrent.statsSnapshot().localTracker?.announces ?? 0) >= 1);
    assert.ok((local.announces.get(content.built.torrent.infoHashHex) ?? 0) >= 1, 'it answered with external ip 127.0.0.2');
    await new Promise((r) => setTimeout(r, 500));
    const found = client.localTracker!.snapshot();
    assert.equal(found.address, '127.0.0.1', "the own tracker's view of our address stands");
    assert.equal(found.lookups, 1);
    assert.deepEqual(found.trackers, [local.url]);
    assert.ok(!dns.questions.some((q) => q.name === '2.0.0.127.in-addr.arpa'), '127.0.0.2 was never looked up');
    assert.equal(torrent.statsSnapshot().localTracker!.url, local.url);
  } finally {
    await client.close();
    await dns.close();
    await local.close();
    await wan.close();
    await rm(root, { recursive: true, force: true });
  }
});

test('yourip from a peer feeds discovery (one vote is enough when configured so)', { timeout: 30_000 }, async () => {
  const root = await mkdtemp(path.join(tmpdir(), 'bep22-yourip-'));
  const dns = await startDnsServer([]);
  const a = new Client(clientOptions(dns, { yourIpVotes: 1 }));
  const b = new Client(clientOptions(dns, { yourIpVotes: 1 }));
  try {
    const content = await makeContent(path.join(root, 'seed'), [100_000]); // no trackers at all
    await a.listen();
    await b.listen();
    await a.add(content.built.torrent, { dir: path.join(root, 'a') });
    const tb = await b.add(content.built.torrent, { dir: path.join(root, 'b') });
    const looked = once(b.localTracker!, 'lookup');
    tb.addPeers([{ host: '127.0.0.1', port: a.port }]);
    assert.deepEqual(await looked, ['127.0.0.1', []]);
    assert.equal(b.localTracker!.snapshot().refused.notFound, 1, 'NXDOMAIN for the PTR: nothing found, counted');
    assert.ok(dns.questions.some((q) => q.type === DNS_TYPE.PTR && q.name === PTR_127));
  } finally {
    await b.close();
    await a.close();
    await dns.close();
    await rm(root, { recursive: true, force: true });
  }
});

// --- bad DNS input: refused or ignored, counted, and the peer carries on ---

test('malformed answers: garbage and truncated packets are counted; the next address still works', { timeout: 30_000 }, async () => {
  const dns = await startDnsServer([
    { type: 'PTR', name: '2.0.0.127.in-addr.arpa', target: 'other.lan.example' },
    { type: 'SRV', name: SRV_LAN, priority: 0, weight: 0, port: 6969, target: '127.0.0.1.' },
  ]);
  dns.rawFor(PTR_127, () => new Uint8Array([0xde, 0xad, 0xbe, 0xef, 0, 1]));
  const discovery = new LocalTrackerDiscovery(discoveryOptions(dns));
  discovery.want();
  let done = once(discovery, 'lookup');
  discovery.observe('127.0.0.1', 'tracker');
  assert.deepEqual((await done)[1], []);
  assert.equal(discovery.snapshot().refused.malformed, 1);
  // A truncated SRV answer (the packet cut inside its record) on the next name of the walk.
  dns.rawFor('_bittorrent-tracker._tcp.other.lan.example', (q, _query) => encodeResponse(q, [{ type: 'SRV', name: q.name, priority: 0, weight: 0, port: 1, target: 'x.example' }]).subarray(0, 60));
  done = once(discovery, 'lookup');
  discovery.observe('127.0.0.2', 'tracker');
  // The walk went on past the bad answer to lan.example (an IPv4-literal target is taken as is).
  assert.deepEqual((await done)[1], ['http://127.0.0.1:6969/announce']);
  assert.equal(discovery.snapshot().refused.malformed, 2);
  discovery.close();
  await dns.close();
});

test('an answer with the wrong id is dropped by the resolver: a counted timeout', { timeout: 30_000 }, async () => {
  const dns = await startDnsServer([]);
  dns.rawFor(PTR_127, (q) => encodeResponse({ ...q, id: (q.id + 1) & 0xffff }, [{ type: 'PTR', name: q.name, target: 'host.lan.example' }]));
  const discovery = await lookupOnce(dns, { timeoutMs: 200 });
  assert.equal(discovery.snapshot().refused.timeout, 1);
  assert.deepEqual(discovery.trackers, []);
  await dns.close();
});

test('a truncated answer (TC) with no TCP server behind it is a counted DNS error', { timeout: 30_000 }, async () => {
  const dns = await startDnsServer([]);
  dns.rawFor(PTR_127, (q) => {
    const answer = encodeResponse(q, []);
    answer[2]! |= 0x02; // TC: the resolver retries over TCP, where nothing listens
    return answer;
  });
  const discovery = await lookupOnce(dns);
  assert.equal(discovery.snapshot().refused.dnsError, 1);
  await dns.close();
});

test('bad SRV records: port 0, a target that is no host name, a target pointing back at the SRV name, too many', { timeout: 30_000 }, async () => {
  const srv = (target: string, port: number, priority = 0): DnsRecord => ({ type: 'SRV', name: SRV_LAN, priority, weight: 0, port, target });
  const dns = await startDnsServer([
    { type: 'PTR', name: PTR_127, target: 'host.lan.example' },
    srv('tracker.lan.example', 0),
    srv('bad_name.lan.example', 80),
    srv(SRV_LAN, 81),
    srv('tracker.lan.example', 82, 1),
    srv('tracker.lan.example', 83, 2), // the fifth: past maxSrv = 4
    { type: 'A', name: 'tracker.lan.example', address: LOOPBACK },
  ]);
  const discovery = await lookupOnce(dns);
  const { refused, trackers } = discovery.snapshot();
  assert.equal(refused.badPort, 1);
  assert.equal(refused.badName, 1);
  assert.equal(refused.loop, 1);
  assert.equal(refused.excess, 1);
  assert.deepEqual(trackers, ['http://127.0.0.1:82/announce'], 'the one good record in its place');
  await dns.close();
});

test('loops: a PTR into the reverse tree, a CNAME loop; and `.` says no service', { timeout: 30_000 }, async () => {
  const dns = await startDnsServer([{ type: 'PTR', name: PTR_127, target: '2.0.0.127.in-addr.arpa' }]);
  let discovery = await lookupOnce(dns);
  assert.equal(discovery.snapshot().refused.loop, 1);
  assert.equal(dns.questions.filter((q) => q.type === DNS_TYPE.SRV).length, 0, 'no walk from a reverse name');

  // A CNAME loop at the PTR name: the resolver finds no PTR at the end of it (no data); the
  // chain, followed one CNAME question at a time, comes back to the PTR name: a loop.
  dns.setZone([
    { type: 'CNAME', name: PTR_127, target: 'loop.lan.example' },
    { type: 'CNAME', name: 'loop.lan.example', target: PTR_127 },
  ]);
  let before = dns.questions.length;
  discovery = await lookupOnce(dns);
  assert.deepEqual(discovery.trackers, []);
  assert.equal(discovery.snapshot().refused.loop, 1);
  assert.equal(discovery.snapshot().refused.notFound, 0);
  assert.deepEqual(
    dns.questions.slice(before).map((q) => `${q.type} ${q.name}`),
    [`${DNS_TYPE.PTR} ${PTR_127}`, `${DNS_TYPE.CNAME} ${PTR_127}`, `${DNS_TYPE.CNAME} loop.lan.example`],
    'two CNAME questions to see the chain close, and no walk',
  );

  // A CNAME chain that ends at a name without a PTR is no loop: not found.
  dns.setZone([
    { type: 'CNAME', name: PTR_127, target: 'alias.lan.example' },
    { type: 'A', name: 'alias.lan.example', address: LOOPBACK },
  ]);
  discovery = await lookupOnce(dns);
  assert.equal(discovery.snapshot().refused.loop, 0);
  assert.equal(discovery.snapshot().refused.notFound, 1);

  // RFC 2782: a lone target `.` means the service is not available; the walk stops there.
  dns.setZone([
    { type: 'PTR', name: PTR_127, target: 'a.host.lan.example' },
    { type: 'SRV', name: '_bittorrent-tracker._tcp.host.lan.example', priority: 0, weight: 0, port: 6969, target: '.' },
    { type: 'SRV', name: SRV_LAN, priority: 0, weight: 0, port: 6969, target: '127.0.0.1' },
  ]);
  before = dns.questions.length;
  discovery = await lookupOnce(dns);
  assert.equal(discovery.snapshot().refused.unavailable, 1);
  assert.deepEqual(discovery.trackers, []);
  assert.ok(!dns.questions.slice(before).some((q) => q.name === SRV_LAN), 'not asked past the `.` answer');
  await dns.close();
});

test("a local tracker that fails, or is one of the torrent's own, is counted and the torrent carries on", { timeout: 60_000 }, async () => {
  const root = await mkdtemp(path.join(tmpdir(), 'bep22-fail-'));
  const foreign = await foreignTracker();
  const failing = await foreignTracker(500);
  const failingPort = Number(new URL(failing.url).port);
  const foreignPort = Number(new URL(foreign.url).port);
  const dns = await startDnsServer([
    { type: 'PTR', name: PTR_127, target: 'host.lan.example' },
    // The failing tracker first, then the torrent's own tracker as a second choice.
    { type: 'SRV', name: SRV_LAN, priority: 0, weight: 0, port: failingPort, target: 'tracker.lan.example' },
    { type: 'SRV', name: SRV_LAN, priority: 1, weight: 0, port: foreignPort, target: 'tracker.lan.example' },
    { type: 'A', name: 'tracker.lan.example', address: LOOPBACK },
  ]);
  const client = new Client(clientOptions(dns));
  try {
    const content = await makeContent(path.join(root, 'seed'), [100_000], { announceList: [[foreign.url]] });
    await client.listen();
    const torrent = await client.add(content.built.torrent, { dir: path.join(root, 'x') });
    await until('the failing local tracker was tried', () => (torrent.statsSnapshot().localTracker?.refused.announceFailed ?? 0) >= 1);
    const stats = torrent.statsSnapshot().localTracker!;
    assert.equal(stats.refused.duplicate, 1, 'the own tracker is not announced to twice');
    assert.equal(stats.announces, 0);
    assert.ok((failing.announces.get(content.built.torrent.infoHashHex) ?? 0) >= 1);
    assert.ok((foreign.announces.get(content.built.torrent.infoHashHex) ?? 0) >= 1, 'its own tracker still hears it');
    assert.equal(client.torrents.size, 1);
  } finally {
    await client.close();
    await dns.close();
    await failing.close();
    await foreign.close();
    await rm(root, { recursive: true, force: true });
  }
});
