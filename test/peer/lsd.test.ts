/**
 * BEP 14 local service discovery between two of our clients on this machine: multicast on the
 * loopback interface (127.0.0.1 as the membership and sending interface; the `lo` device needs
 * no MULTICAST flag for that), on a free port rather than 6771 so a real LAN never hears us.
 * No trackers, no DHT, no web seeds: LSD is the only way the peers can meet.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createSocket, type Socket } from 'node:dgram';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Client } from '../../peer-node/client.js';
import { LocalDiscovery, lsdOptionsFor } from '../../peer-node/lsd/local-discovery.js';
import { type BtSearch, decodeBtSearch, encodeBtSearch, LSD_GROUP_V4 } from '../../shared/lsd/bt-search.js';
import { makeContent, sameFiles } from '../helpers/content.js';
import { b } from '../helpers/bytes.js';
import { until } from '../helpers/raw-peer.js';

/** A UDP port nobody uses now, for this test's LSD group. */
async function freeUdpPort(): Promise<number> {
  const s = createSocket('udp4');
  await new Promise<void>((resolve) => s.bind(0, '127.0.0.1', resolve));
  const { port } = s.address();
  s.close();
  return port;
}

/** A raw sender on the loopback interface, as a hostile or broken LAN neighbour would be. */
async function rawSender(): Promise<Socket> {
  const s = createSocket('udp4');
  await new Promise<void>((resolve) => s.bind(0, '127.0.0.1', resolve));
  s.setMulticastInterface('127.0.0.1');
  return s;
}

function send(s: Socket, bytes: Uint8Array, lsdPort: number): Promise<void> {
  return new Promise((resolve, reject) => s.send(bytes, lsdPort, LSD_GROUP_V4, (err) => (err ? reject(err) : resolve())));
}

async function twoClients(lsdPort: number) {
  const options = { port: 0, host: '127.0.0.1', dht: false, lsd: { port: lsdPort } } as const;
  const seed = new Client(options);
  const leech = new Client(options);
  await seed.listen();
  await leech.listen();
  assert.ok(seed.lsd && leech.lsd, 'both joined the group on 127.0.0.1');
  return { seed, leech };
}

test('BEP 14: two of our peers with no tracker, DHT or web seed find each other on the LAN and trade the torrent byte-identical', { timeout: 60_000 }, async () => {
  const root = await mkdtemp(path.join(tmpdir(), 'lsd-'));
  const { seed, leech } = await twoClients(await freeUdpPort());
  try {
    const content = await makeContent(path.join(root, 'seed'), [400_000, 70_001]);
    assert.equal(content.built.torrent.announce, undefined, 'no tracker');
    const seeding = await seed.add(content.built.torrent, { dir: content.dir, trackers: false, webSeeds: false });
    const t = await leech.add(content.built.torrent, { dir: path.join(root, 'leech'), trackers: false, webSeeds: false });
    if (!t.complete) await once(t, 'done');
    assert.deepEqual(await sameFiles(content, path.join(root, 'leech')), [true, true]);
    const s = seed.lsd!.stats();
    const l = leech.lsd!.stats();
    assert.ok(s.peersFound + l.peersFound >= 1, 'a peer came from LSD');
    assert.ok(s.sent >= 1 && l.sent >= 1, 'each announced');
    assert.ok(s.ignored.own >= 1 && l.ignored.own >= 1, 'each heard its own announce over multicast loopback and dropped it by cookie');
    // The peer that dialled learned the other's address from LSD: its source address and Port header.
    const dialled = seed.lsd!.stats().peersFound > 0 ? seeding.peerSource(`127.0.0.1:${leech.port}`) : t.peerSource(`127.0.0.1:${seed.port}`);
    assert.equal(dialled, 'lsd');
    assert.equal(t.statsSnapshot().bytesFromWebSeeds, 0);
  } finally {
    await leech.close();
    await seed.close();
    await rm(root, { recursive: true, force: true });
  }
});

test('BEP 27: a private torrent is never announced over LSD, and LSD peers for it are refused and counted', { timeout: 30_000 }, async () => {
  const root = await mkdtemp(path.join(tmpdir(), 'lsd-private-'));
  const lsdPort = await freeUdpPort();
  const { seed, leech } = await twoClients(lsdPort);
  const raw = await rawSender();
  try {
    const content = await makeContent(path.join(root, 'seed'), [100_000], { private: true });
    const seeding = await seed.add(content.built.torrent, { dir: content.dir, trackers: false, webSeeds: false });
    const t = await leech.add(content.built.torrent, { dir: path.join(root, 'leech'), trackers: false, webSeeds: false });
    // A neighbour says the seed is in the private swarm: the leech must not take it.
    await send(raw, encodeBtSearch({ host: `${LSD_GROUP_V4}:${lsdPort}`, port: seed.port, infoHashes: [t.infoHashHex] }), lsdPort);
    await until('the leech counted the private announce', () => leech.lsd!.stats().ignored.private >= 1);
    await new Promise((r) => setTimeout(r, 1500)); // time enough for any announce and dial
    assert.equal(seed.lsd!.stats().sent, 0, 'the seed announced nothing');
    assert.equal(leech.lsd!.stats().sent, 0, 'the leech announced nothing');
    assert.equal(t.sessions.size + seeding.sessions.size, 0, 'no connection');
    assert.equal(t.peerSource(`127.0.0.1:${seed.port}`), undefined, 'the address was never even stored');
    assert.equal(leech.lsd!.stats().peersFound, 0);
  } finally {
    raw.close();
    await leech.close();
    await seed.close();
    await rm(root, { recursive: true, force: true });
  }
});

test('LSD garbage and floods: refused with counted reasons, dials bounded, and discovery still works afterwards', { timeout: 60_000 }, async () => {
  const root = await mkdtemp(path.join(tmpdir(), 'lsd-flood-'));
  const lsdPort = await freeUdpPort();
  const { seed, leech } = await twoClients(lsdPort);
  const senders = await Promise.all(Array.from({ length: 20 }, () => rawSender()));
  try {
    const content = await makeContent(path.join(root, 'seed'), [300_000]);
    const hex = content.built.torrent.infoHashHex;
    const host = `${LSD_GROUP_V4}:${lsdPort}`;
    // The seed alone first: it is the target of the flood.
    const seeding = await seed.add(content.built.torrent, { dir: content.dir, trackers: false, webSeeds: false });

    const garbage = [
      b('M-SEARCH * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\nMAN: "ssdp:discover"\r\n\r\n'),
      b(`BT-SEARCH * HTTP/1.1\r\nHost: ${host}\r\nPort: 0\r\nInfohash: ${hex}\r\n\r\n`),
      b(`BT-SEARCH * HTTP/1.1\r\nHost: ${host}\r\nPort: 6881\r\nInfohash: ${hex.slice(2)}\r\n\r\n`),
      b(`BT-SEARCH * HTTP/1.1\r\nHost: ${host}\r\nPort: 6881\r\n`),
      Uint8Array.from({ length: 300 }, (_, i) => (i * 37) & 0xff),
    ];
    for (const g of garbage) await send(senders[0]!, g, lsdPort);
    await send(senders[0]!, new Uint8Array(2000).fill(0x42), lsdPort);
    await until('garbage counted', () => seed.lsd!.stats().ignored.garbage >= garbage.length && seed.lsd!.stats().ignored['too-large'] >= 1);

    // The flood: 20 sources x 40 announces, each naming another port for the seed's torrent,
    // and announces for a torrent nobody has.
    const floodPorts: number[] = [];
    const floodStart = Date.now();
    for (let i = 0; i < 40; i++) {
      await Promise.all(
        senders.map((s, k) => {
          const port = 20_000 + k * 100 + i;
          floodPorts.push(port);
          return send(s, encodeBtSearch({ host, port, infoHashes: [hex, 'ab'.repeat(20)] }), lsdPort);
        }),
      );
    }
    // Loopback drops some of a flood this fast (the socket buffer fills): count what arrived.
    let last = -1;
    await until('the flood has settled', async () => {
      const now = seed.lsd!.stats().received;
      const settled = now === last;
      last = now;
      await new Promise((r) => setTimeout(r, 250));
      return settled;
    });
    const s = seed.lsd!.stats();
    const flood = s.received - s.ignored.garbage - s.ignored['too-large'] - s.ignored.own;
    assert.equal(s.ignored.garbage, garbage.length);
    assert.equal(s.ignored['too-large'], 1);
    assert.ok(flood > 100, `enough of the flood arrived to test the limits (${flood})`);
    // Each announce past its source's bucket names one unknown torrent and one peer for the seed.
    const passed = s.ignored['unknown-torrent'];
    assert.ok(passed <= 20 * 5, `at most 5 announces per source passed (${passed})`);
    assert.equal(s.ignored['rate-limited'], flood - passed, 'the rest were rate-limited');
    assert.equal(s.peersFound + s.ignored['too-many-peers'], passed);
    // Of those, 64 new peers at once, then one a second.
    const allowed = 64 + Math.ceil((Date.now() - floodStart) / 1000);
    assert.ok(s.peersFound <= allowed && s.pendingPeers <= 64, `peers from the flood are bounded (${s.peersFound} of at most ${allowed})`);
    const stored = floodPorts.filter((p) => seeding.peerSource(`127.0.0.1:${p}`) === 'lsd').length;
    assert.equal(stored, s.peersFound, 'only what passed the limits reached the torrent (and so could be dialled)');

    // Still working: once the flood is over (a second refills the shared bucket), the leech
    // arrives, announces, and the seed finds it among the flood's dead addresses and sends it the file.
    await new Promise((r) => setTimeout(r, 1200));
    const t = await leech.add(content.built.torrent, { dir: path.join(root, 'leech'), trackers: false, webSeeds: false });
    if (!t.complete) await once(t, 'done');
    assert.deepEqual(await sameFiles(content, path.join(root, 'leech')), [true]);
  } finally {
    for (const s of senders) s.close();
    await leech.close();
    await seed.close();
    await rm(root, { recursive: true, force: true });
  }
});

test('BEP 14 pacing: torrents joining together share one datagram, no datagram sooner than the gap, each torrent again after the interval', { timeout: 30_000 }, async () => {
  const lsdPort = await freeUdpPort();
  const heard: { at: number; search: BtSearch }[] = [];
  const listener = createSocket({ type: 'udp4', reuseAddr: true });
  await new Promise<void>((resolve) => listener.bind(lsdPort, '0.0.0.0', resolve));
  listener.addMembership(LSD_GROUP_V4, '127.0.0.1');
  listener.on('message', (msg) => heard.push({ at: Date.now(), search: decodeBtSearch(msg) }));
  const gap = 400;
  const interval = 1500;
  const lsd = new LocalDiscovery(() => 6881, () => undefined, { port: lsdPort, interface: '127.0.0.1', groupV6: false, minAnnounceGapMs: gap, announceIntervalMs: interval });
  try {
    await lsd.start();
    const [a, b1, c, d] = ['a1', 'b2', 'c3', 'd4'].map((x) => x.repeat(20));
    lsd.join(a!);
    lsd.join(b1!);
    lsd.join(c!);
    await until('the first announce', () => heard.length >= 1);
    lsd.join(d!);
    await until('the announce of the late torrent', () => heard.length >= 2);
    await until('the re-announce after the interval', () => heard.length >= 3, 5000);
    assert.deepEqual(heard[0]!.search.infoHashes, [a, b1, c], 'one datagram for the torrents that joined together');
    assert.equal(heard[0]!.search.host, `${LSD_GROUP_V4}:${lsdPort}`);
    assert.equal(heard[0]!.search.port, 6881);
    assert.equal(heard[0]!.search.cookie, lsd.cookie);
    assert.deepEqual(heard[1]!.search.infoHashes, [d]);
    assert.ok(heard[1]!.at - heard[0]!.at >= gap - 20, `the late torrent waited for the gap (${heard[1]!.at - heard[0]!.at} ms)`);
    assert.deepEqual(heard[2]!.search.infoHashes, [a, b1, c], 'due again after the interval');
    assert.ok(heard[2]!.at - heard[0]!.at >= interval - 20);
    lsd.leave(a!);
    lsd.leave(b1!);
    lsd.leave(c!);
    lsd.leave(d!);
    const count = heard.length;
    await new Promise((r) => setTimeout(r, gap * 2));
    assert.ok(heard.length <= count + 1, 'nothing is announced for torrents that left');
  } finally {
    lsd.close();
    listener.close();
  }
});

test('LSD is on by default only when listening on every interface; a specific address sends from its own interface', () => {
  assert.deepEqual(lsdOptionsFor(undefined, undefined), {});
  assert.deepEqual(lsdOptionsFor('0.0.0.0', undefined), {});
  assert.equal(lsdOptionsFor('127.0.0.1', undefined), undefined, 'the test suite\'s clients stay off the group');
  assert.equal(lsdOptionsFor(undefined, false), undefined);
  assert.deepEqual(lsdOptionsFor('127.0.0.1', true), { groupV6: false, interface: '127.0.0.1' });
  assert.deepEqual(lsdOptionsFor('127.0.0.1', { port: 1234 }), { groupV6: false, interface: '127.0.0.1', port: 1234 });
  assert.deepEqual(lsdOptionsFor('::1', true), { groupV4: false });
});
