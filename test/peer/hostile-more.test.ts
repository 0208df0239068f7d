/**
 * More hostile peers (issue 11, point 4), on 127.0.0.1: a freeloader that requests everything
 * and uploads nothing never holds a regular upload slot while peers that give us data want one;
 * request, block and ut_metadata floods meet bounded queues and close that connection alone; DHT nodes that
 * lie about closeness (a Sybil answering under ever new ids, fake nodes at dead addresses) and
 * send bogus tokens neither poison the routing table nor plant peers.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { once } from 'node:events';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Client } from '../../peer-node/client.js';
import type { Choker } from '../../peer-node/engine/choker.js';
import type { PeerSession } from '../../peer-node/engine/peer-session.js';
import type { Torrent } from '../../peer-node/engine/torrent.js';
import { DhtNode } from '../../peer-node/dht/dht-node.js';
import { decodeKrpc, encodeKrpc } from '../../shared/dht/krpc.js';
import { encodeHandshake } from '../../shared/wire/handshake.js';
import { encodeMessage, type WireMessage } from '../../shared/wire/messages.js';
import { makeContent, sameFiles } from '../helpers/content.js';
import { onWire, rawExtensionPeer, reservedBits, until } from '../helpers/raw-peer.js';
import { decodeMetadataMessage, encodeMetadataMessage, metadataPieceCount } from '../../shared/wire/ut-metadata.js';

const BLOCK = 16 * 1024;
const LIAR_HOST = '127.0.0.9';

/** A raw peer that handshakes with our client at `port` and hands back every message. */
async function rawPeer(port: number, infoHash: Uint8Array, onMessage: (m: WireMessage, socket: net.Socket) => void) {
  const socket = net.connect(port, '127.0.0.1');
  socket.on('error', () => undefined);
  const closed = new Promise<void>((resolve) => socket.on('close', () => resolve())); // a reset counts as closed
  await once(socket, 'connect');
  const peerId = randomBytes(20);
  onWire(socket, { message: (m) => onMessage(m, socket) });
  socket.write(encodeHandshake({ reserved: reservedBits({ fast: true }), infoHash, peerId }));
  return { socket, peerId, closed, send: (m: WireMessage) => socket.write(encodeMessage(m)) };
}

function sessionOf(t: Torrent, peerId: Uint8Array): PeerSession | undefined {
  return [...t.sessions.values()].find((s) => s.connection.remote && Buffer.from(s.connection.remote.peerId).equals(peerId));
}

test('a freeloader that requests everything and uploads nothing is never in a regular slot while reciprocating peers want one', { timeout: 120_000 }, async () => {
  const root = await mkdtemp(path.join(tmpdir(), 'freeloader-'));
  // L has the first half and uploads at 60 kB/s; R1-R4 have the second half, upload to L at
  // 20 kB/s each and want L's half: everyone stays interested for the whole test.
  const L = new Client({ port: 0, host: '127.0.0.1', dht: false, uploadRateLimit: 60_000 });
  const reciprocators = [0, 1, 2, 3].map(() => new Client({ port: 0, host: '127.0.0.1', dht: false, uploadRateLimit: 20_000 }));
  let freeloader: Awaited<ReturnType<typeof rawPeer>> | undefined;
  try {
    const pieceLength = 32 * 1024;
    const content = await makeContent(path.join(root, 'seed'), [6 * 1024 * 1024], { pieceLength, single: true, name: 'big.bin' });
    const bytes = content.files[0]!.bytes;
    const half = bytes.length / 2;
    const write = async (dir: string, firstHalf: boolean) => {
      await mkdir(dir, { recursive: true });
      const partial = Buffer.alloc(bytes.length);
      if (firstHalf) bytes.copy(partial, 0, 0, half);
      else bytes.copy(partial, half, half);
      await writeFile(path.join(dir, 'big.bin'), partial);
    };
    await write(path.join(root, 'L'), true);
    await L.listen();
    const t = await L.add(content.built.torrent, { dir: path.join(root, 'L') });
    assert.equal(t.have.count, content.built.torrent.info.pieceCount / 2);
    const rs: Torrent[] = [];
    for (const [i, r] of reciprocators.entries()) {
      await write(path.join(root, `R${i}`), false);
      await r.listen();
      const rt = await r.add(content.built.torrent, { dir: path.join(root, `R${i}`) });
      rt.addPeers([{ host: '127.0.0.1', port: L.port }]);
      rs.push(rt);
    }

    // The freeloader: has nothing, is interested, asks for block after block of L's half.
    let received = 0;
    let next = 0;
    const ask = (socket: net.Socket, n: number) => {
      for (let k = 0; k < n; k++) {
        const block = next++ % ((half / BLOCK) | 0);
        socket.write(encodeMessage({ type: 'request', index: Math.floor((block * BLOCK) / pieceLength), begin: (block * BLOCK) % pieceLength, length: BLOCK }));
      }
    };
    freeloader = await rawPeer(L.port, t.infoHash, (m, socket) => {
      if (m.type === 'unchoke') ask(socket, 20);
      if (m.type === 'piece') {
        received += m.block.length;
        ask(socket, 1);
      }
    });
    freeloader.send({ type: 'haveNone' });
    freeloader.send({ type: 'interested' });
    await until('all five connected to L', () => t.sessions.size === 5 && sessionOf(t, freeloader!.peerId) !== undefined, 30_000);

    // The choker's rounds are every 10 s: let the first one pass, then watch three more.
    await new Promise((r) => setTimeout(r, 11_000));
    const choker = (t as unknown as { choker: Choker }).choker; // private: read, never changed
    const fl = sessionOf(t, freeloader.peerId)!;
    let samples = 0;
    let unchokedSamples = 0;
    const uploadedAtStart = t.statsSnapshot().uploaded;
    const receivedAtStart = received;
    const end = Date.now() + 30_000;
    while (Date.now() < end) {
      const others = [...t.sessions.values()].filter((s) => s !== fl);
      const waitingReciprocator = others.some((s) => s.peerInterested && s.amChoking && s.download.rate > 0);
      if (!fl.amChoking) {
        unchokedSamples++;
        assert.ok(choker.optimisticPeer === fl.id || !waitingReciprocator, 'the freeloader is unchoked only as the optimistic peer, or when no reciprocating peer is waiting');
      }
      samples++;
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.ok(!t.complete && rs.every((r) => !r.complete), 'everyone was still trading: the leecher-side choker was under test');
    const uploaded = t.statsSnapshot().uploaded - uploadedAtStart;
    const freeloaded = received - receivedAtStart;
    assert.ok(uploaded > 0);
    // Four unchoked at a time, the freeloader at most as the optimistic one: at most its share.
    assert.ok(freeloaded <= uploaded * 0.4, `the freeloader got ${freeloaded} of ${uploaded} bytes L uploaded (${unchokedSamples}/${samples} samples unchoked)`);
    assert.equal(fl.connection.closed, false, 'a freeloader is choked, not disconnected');
  } finally {
    freeloader?.socket.destroy();
    await Promise.all(reciprocators.map((c) => c.close()));
    await L.close();
    await rm(root, { recursive: true, force: true });
  }
});

test('request and block floods: queues stay bounded and that connection alone is closed; the seed keeps serving', { timeout: 60_000 }, async () => {
  const root = await mkdtemp(path.join(tmpdir(), 'flood-'));
  const seed = new Client({ port: 0, host: '127.0.0.1', dht: false });
  const leech = new Client({ port: 0, host: '127.0.0.1', dht: false });
  try {
    const content = await makeContent(path.join(root, 'seed'), [2 * 1024 * 1024], { pieceLength: 64 * 1024 });
    const info = content.built.torrent.info;
    await seed.listen();
    const seeding = await seed.add(content.built.torrent, { dir: content.dir });
    const reasons: string[] = [];
    seeding.on('peerClosed', (_id: string, reason: string) => reasons.push(reason));
    let largestQueue = 0;
    seeding.on('peer', (s: PeerSession) => {
      s.connection.on('message', () => (largestQueue = Math.max(largestQueue, s.incoming.length)));
    });

    const blocksPerPiece = info.pieceLength / BLOCK;
    const requests = (n: number) => {
      const out: Uint8Array[] = [];
      for (let i = 0; i < n; i++) {
        const block = i % (info.pieceCount * blocksPerPiece - 1);
        out.push(encodeMessage({ type: 'request', index: Math.floor(block / blocksPerPiece), begin: (block % blocksPerPiece) * BLOCK, length: BLOCK }));
      }
      return Buffer.concat(out);
    };
    const closedWithin = (peer: { closed: Promise<unknown> }, what: string) =>
      Promise.race([peer.closed, new Promise((_, reject) => setTimeout(() => reject(new Error(`${what} was not closed`)), 10_000))]);

    // Requests while choked (never interested, so never unchoked): each would cost a reject on
    // a socket the peer need not read. Past 500 in a row: closed.
    let rejects = 0;
    const chokedFlooder = await rawPeer(seed.port, content.built.torrent.infoHash, (m) => {
      if (m.type === 'rejectRequest') rejects++;
    });
    chokedFlooder.socket.write(requests(1200));
    await closedWithin(chokedFlooder, 'the flooder while choked');
    assert.match(reasons.at(-1) ?? '', /refused requests in a row/);
    assert.ok(rejects <= 501, `at most 500 rejects were sent before it was cut off (${rejects})`);

    // Unchoked, a peer that does not read and keeps asking: 500 requests are queued, the rest
    // rejected, and past 500 extra ones the connection is closed as a flood.
    let unchoked!: () => void;
    const unchoke = new Promise<void>((resolve) => (unchoked = resolve));
    const flooder = await rawPeer(seed.port, content.built.torrent.infoHash, (m) => {
      if (m.type === 'unchoke') unchoked();
    });
    flooder.send({ type: 'interested' });
    await unchoke;
    flooder.socket.pause(); // our socket buffer fills; the request queue must not grow past its bound
    let sent = 0;
    let gone = false;
    void flooder.closed.then(() => (gone = true));
    // Bursts of 500 until it is cut off: once the kernel's buffers are full our upload stalls,
    // the queue fills to 500 and every further request is an extra one.
    for (let i = 0; i < 40 && !gone; i++) {
      flooder.socket.write(requests(500));
      sent += 500;
      await new Promise((r) => setTimeout(r, 100));
    }
    await closedWithin(flooder, `the request flooder (${sent} requests sent)`);
    assert.match(reasons.at(-1) ?? '', /requests beyond the 500 we queue/);
    assert.ok(largestQueue <= 500, `the queue never held more than 500 requests (${largestQueue})`);

    // A peer that sends blocks nobody asked for: more than 64 close it.
    const spammer = await rawPeer(seed.port, content.built.torrent.infoHash, () => undefined);
    const junk: Uint8Array[] = [];
    for (let i = 0; i < 70; i++) junk.push(encodeMessage({ type: 'piece', index: 0, begin: 0, block: new Uint8Array(BLOCK) }));
    spammer.socket.write(Buffer.concat(junk));
    await closedWithin(spammer, 'the block spammer');
    assert.match(reasons.at(-1) ?? '', /blocks we never requested/);

    // The seed carries on for an honest peer.
    await leech.listen();
    const t = await leech.add(content.built.torrent, { dir: path.join(root, 'leech') });
    t.addPeers([{ host: '127.0.0.1', port: seed.port }]);
    if (!t.complete) await once(t, 'done');
    assert.deepEqual(await sameFiles(content, path.join(root, 'leech')), [true]);
  } finally {
    await leech.close();
    await seed.close();
    await rm(root, { recursive: true, force: true });
  }
});

test('a ut_metadata request flood (BEP 9) closes that connection alone, with its reason; other peers still get the info dictionary', { timeout: 60_000 }, async () => {
  const root = await mkdtemp(path.join(tmpdir(), 'metadata-flood-'));
  const seed = new Client({ port: 0, host: '127.0.0.1', dht: false });
  const peers: Awaited<ReturnType<typeof rawExtensionPeer>>[] = [];
  try {
    const content = await makeContent(path.join(root, 'seed'), [300_000, 20_000], { pieceLength: 16 * 1024 });
    const { infoBytes, infoHash } = content.built.torrent;
    const pieces = metadataPieceCount(infoBytes.length);
    await seed.listen();
    const seeding = await seed.add(content.built.torrent, { dir: content.dir });
    const reasons: string[] = [];
    seeding.on('peerClosed', (_id: string, reason: string) => reasons.push(reason));
    const offer = new Map([['ut_metadata', 3]]);
    const join = async () => {
      const p = await rawExtensionPeer(seed.port, infoHash, offer);
      peers.push(p);
      return p;
    };
    /** The info dictionary as one peer receives it, piece by piece (BEP 9 data messages). */
    const fetchInfo = async (p: Awaited<ReturnType<typeof join>>) => {
      const heardBefore = p.heard('ut_metadata').length;
      for (let piece = 0; piece < pieces; piece++) p.send('ut_metadata', encodeMetadataMessage({ type: 'request', piece }));
      await until('the metadata answers', () => p.heard('ut_metadata').length >= heardBefore + pieces);
      const parts = p.heard('ut_metadata').slice(heardBefore).map(decodeMetadataMessage);
      return Buffer.concat(parts.map((m) => (m.type === 'data' ? m.data : new Uint8Array(0))));
    };

    const polite = await join();
    const flooder = await join();
    // Well past the server's allowance (4 x the pieces + 16): requests for real pieces and for
    // pieces past the end (each of those costs a reject), in one burst.
    for (let i = 0; i < 400; i++) flooder.send('ut_metadata', encodeMetadataMessage({ type: 'request', piece: i % 2 === 0 ? 0 : pieces + 5 }));
    await Promise.race([flooder.gone, new Promise((_, reject) => setTimeout(() => reject(new Error('the metadata flooder was not closed')), 10_000))]);
    await until('its close reported', () => reasons.length > 0);
    const floods = reasons.filter((r) => /metadata requests for \d+ pieces/.test(r));
    assert.equal(floods.length, 1, `one close, for the flood: ${reasons.join('; ')}`);
    assert.equal(reasons.length, 1, 'nobody else was closed');
    const answered = flooder.heard('ut_metadata').length;
    assert.ok(answered > 0 && answered <= 4 * pieces + 16, `at most the allowance was answered before the cut (${answered})`);

    // The peer that was there all along, and one that comes later, get the whole dictionary.
    assert.equal(polite.isClosed(), false);
    assert.ok((await fetchInfo(polite)).equals(infoBytes), 'the polite peer got the info dictionary');
    const later = await join();
    assert.ok((await fetchInfo(later)).equals(infoBytes), 'a later peer got it too');
    assert.equal(reasons.length, 1);
  } finally {
    for (const p of peers) p.socket.destroy();
    await seed.close();
    await rm(root, { recursive: true, force: true });
  }
});

test('DHT liars: a Sybil answering under ever new ids and fake close nodes at dead addresses do not poison the routing table; bogus tokens plant no peers', { timeout: 60_000 }, async () => {
  const honest = Array.from({ length: 6 }, () => new DhtNode({ host: '127.0.0.1', queryTimeoutMs: 1000, slowAfterMs: 300 }));
  const victim = new DhtNode({ host: '127.0.0.1', queryTimeoutMs: 1000, slowAfterMs: 300 });
  const liar = createSocket('udp4');
  const dead = createSocket('udp4'); // bound and silent: queries to it vanish, as to a dead node
  try {
    for (const n of honest) await n.listen();
    liar.bind(0, LIAR_HOST); // its own address: tokens are bound to the asker's IP
    dead.bind(0, '127.0.0.1');
    await Promise.all([once(liar, 'listening'), once(dead, 'listening')]);
    const liarPort = liar.address().port;
    const deadPort = dead.address().port;
    let liarAnswers = 0;
    // Ids at distance 1..8 from whatever is looked up: "closer than anyone".
    const closeTo = (target: Uint8Array, k: number) => {
      const id = Uint8Array.from(target);
      id[19] = id[19]! ^ k;
      return id;
    };
    liar.on('message', (msg, from) => {
      let m;
      try {
        m = decodeKrpc(new Uint8Array(msg));
      } catch {
        return;
      }
      if (m.type !== 'query') return;
      const q = m.query;
      const target = q.method === 'find_node' ? q.target : q.method === 'get_peers' ? q.infoHash : q.id;
      liarAnswers++;
      // A new id for every answer, each next to the target; eight "closer" nodes: four more of
      // itself under other ids, four at a dead address.
      const nodes = Array.from({ length: 8 }, (_, k) => ({ id: closeTo(target, k + 2 + (liarAnswers % 50) * 8), host: k < 4 ? LIAR_HOST : '127.0.0.1', port: k < 4 ? liarPort : deadPort }));
      const body = { id: closeTo(target, 1 + (liarAnswers % 50) * 8 + 400), nodes, token: Uint8Array.of(9, 9, 9, 9), values: [] };
      liar.send(encodeKrpc({ type: 'response', t: m.t, body }), from.port, from.address);
    });

    // The honest network, with one announced peer; the victim bootstraps from the liar and one honest node.
    const seedAddress = { host: '127.0.0.1', port: honest[0]!.port };
    for (const n of honest.slice(1)) await n.bootstrap([seedAddress]);
    const infoHash = new Uint8Array(randomBytes(20));
    await honest[3]!.announce(infoHash, 4321);
    await victim.listen();
    await victim.bootstrap([{ host: LIAR_HOST, port: liarPort }, seedAddress]);
    for (let i = 0; i < 3; i++) {
      const { peers } = await victim.getPeers(infoHash);
      assert.deepEqual(peers, [{ host: '127.0.0.1', port: 4321 }], 'the lookup still finds the announced peer');
      await victim.getPeers(new Uint8Array(randomBytes(20)));
    }
    assert.ok(liarAnswers > 3, `the liar was asked (${liarAnswers} answers)`);
    const table = victim.table.toJSON().nodes;
    const fromLiar = table.filter((n) => n.host === LIAR_HOST);
    assert.ok(fromLiar.length <= 1, `at most one table entry for the liar's address, not one per id it claimed (${fromLiar.length})`);
    assert.equal(table.filter((n) => n.host === '127.0.0.1' && n.port === deadPort).length, 0, 'fake nodes that never answered are not in the table');
    const honestPorts = new Set(honest.map((n) => n.port));
    assert.ok(table.filter((n) => n.host === '127.0.0.1' && honestPorts.has(n.port)).length >= 5, 'the honest nodes are still in the table');

    // Bogus tokens: the liar announces a peer to an honest node with a made-up token, and with
    // a real token that was issued to another address. Neither is stored.
    const ask = (query: Parameters<typeof encodeKrpc>[0]) => {
      liar.send(encodeKrpc(query), honest[1]!.port, '127.0.0.1');
    };
    const otherHash = new Uint8Array(randomBytes(20));
    const token = (await honest[2]!.getPeers(otherHash)).closest.find((c) => c.node.port === honest[1]!.port)?.token;
    assert.ok(token, 'honest node 2 holds a token from node 1 (bound to its own address)');
    ask({ type: 'query', t: Uint8Array.of(7, 1), query: { method: 'announce_peer', id: new Uint8Array(randomBytes(20)), infoHash: otherHash, port: 6666, impliedPort: false, token: Uint8Array.of(1, 2, 3, 4) } });
    ask({ type: 'query', t: Uint8Array.of(7, 2), query: { method: 'announce_peer', id: new Uint8Array(randomBytes(20)), infoHash: otherHash, port: 6667, impliedPort: false, token } });
    await new Promise((r) => setTimeout(r, 300));
    const planted = await honest[4]!.getPeers(otherHash);
    assert.deepEqual(planted.peers, [], 'no peer was stored on a bogus or borrowed token');
  } finally {
    liar.close();
    dead.close();
    victim.close();
    for (const n of honest) n.close();
  }
});
