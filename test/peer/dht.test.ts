/**
 * Our DHT nodes over UDP on 127.0.0.1: bootstrap from one node, an announce by one node found by
 * another's lookup; bad tokens, malformed queries and unknown methods answered with the right
 * KRPC error and the asker's transaction id.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { once } from 'node:events';
import { randomBytes } from 'node:crypto';
import { DhtNode } from '../../peer-node/dht/dht-node.js';
import { MemoryNetwork } from '../../peer-node/dht/memory-network.js';
import { encode } from '../../shared/bencode/index.js';
import { decodeKrpc, encodeKrpc } from '../../shared/dht/krpc.js';

test('nodes bootstrapped from one node find a peer another node announced', { timeout: 30_000 }, async () => {
  const nodes = Array.from({ length: 6 }, () => new DhtNode({ host: '127.0.0.1', queryTimeoutMs: 1000 }));
  try {
    for (const n of nodes) await n.listen();
    const seed = { host: '127.0.0.1', port: nodes[0]!.port };
    for (const n of nodes.slice(1)) await n.bootstrap([seed]);
    assert.ok(nodes[0]!.table.size >= 5, 'the bootstrap node knows everyone who asked it');
    assert.ok(nodes.slice(1).every((n) => n.table.size >= 1));
    const infoHash = new Uint8Array(randomBytes(20));
    const announced = await nodes[2]!.announce(infoHash, 4321);
    assert.ok(announced.closest.some((c) => c.token), 'tokens came back from get_peers');
    const found = await nodes[5]!.getPeers(infoHash);
    assert.deepEqual(found.peers, [{ host: '127.0.0.1', port: 4321 }]);
  } finally {
    for (const n of nodes) n.close();
  }
});

test('bad token, malformed query and unknown method get errors 203, 203 and 204 with the transaction id', { timeout: 10_000 }, async () => {
  const node = new DhtNode({ host: '127.0.0.1' });
  const socket = createSocket('udp4');
  try {
    await node.listen();
    socket.bind(0, '127.0.0.1');
    await once(socket, 'listening');
    const ask = async (packet: Uint8Array) => {
      socket.send(packet, node.port, '127.0.0.1');
      for (;;) {
        const [msg] = await once(socket, 'message');
        const m = decodeKrpc(new Uint8Array(msg as Buffer));
        if (m.type !== 'query') return m; // the node pings a new asker back before trusting it
      }
    };
    const id = new Uint8Array(randomBytes(20));
    const badToken = await ask(encodeKrpc({ type: 'query', t: Uint8Array.of(1, 1), query: { method: 'announce_peer', id, infoHash: id, port: 6881, impliedPort: false, token: Uint8Array.of(1, 2, 3) } }));
    assert.deepEqual(badToken, { type: 'error', t: Uint8Array.of(1, 1), code: 203, message: 'bad token' });
    const malformed = await ask(encode({ t: Uint8Array.of(2, 2), y: 'q', q: 'get_peers', a: { id } }));
    assert.equal(malformed.type === 'error' && malformed.code, 203);
    assert.deepEqual(malformed.t, Uint8Array.of(2, 2));
    const unknown = await ask(encode({ t: Uint8Array.of(3, 3), y: 'q', q: 'vote', a: { id } }));
    assert.equal(unknown.type === 'error' && unknown.code, 204);
    // A good token (from get_peers) is accepted, and the node carries on.
    const gp = await ask(encodeKrpc({ type: 'query', t: Uint8Array.of(4, 4), query: { method: 'get_peers', id, infoHash: id } }));
    assert.ok(gp.type === 'response' && gp.body.token);
    const ok = await ask(encodeKrpc({ type: 'query', t: Uint8Array.of(5, 5), query: { method: 'announce_peer', id, infoHash: id, port: 6881, impliedPort: false, token: (gp as { body: { token: Uint8Array } }).body.token } }));
    assert.equal(ok.type, 'response');
  } finally {
    socket.close();
    node.close();
  }
});

test('a node keeps its id and table in its state file and finds its old peers again after a restart', { timeout: 20_000 }, async () => {
  const { mkdtemp, rm } = await import('node:fs/promises');
  const { tmpdir } = await import('node:os');
  const path = await import('node:path');
  const dir = await mkdtemp(path.join(tmpdir(), 'dht-state-'));
  const stateFile = path.join(dir, 'dht.json');
  const other = new DhtNode({ host: '127.0.0.1' });
  try {
    await other.listen();
    const first = new DhtNode({ host: '127.0.0.1', stateFile });
    await first.listen();
    await first.bootstrap([{ host: '127.0.0.1', port: other.port }]);
    assert.equal(first.table.size, 1);
    await first.saveState();
    first.close();
    const again = new DhtNode({ host: '127.0.0.1', stateFile });
    assert.deepEqual(again.id, first.id, 'the same node id');
    await again.listen();
    const until = Date.now() + 5000;
    while (again.table.size === 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
    assert.equal(again.table.size, 1, 'the saved node answered its ping and is back in the table');
    again.close();
  } finally {
    other.close();
    await rm(dir, { recursive: true, force: true });
  }
});

test('BEP 33 scrape: seeds and peers announced from different addresses are estimated from the bloom filters', { timeout: 20_000 }, async () => {
  // Loopback has many addresses: each announcer gets its own, since the filters count IPs.
  const router = new DhtNode({ host: '127.0.0.1', queryTimeoutMs: 1000 });
  const announcers = ['127.0.0.2', '127.0.0.3', '127.0.0.4'].map((host) => new DhtNode({ host, queryTimeoutMs: 1000 }));
  const asker = new DhtNode({ host: '127.0.0.5', queryTimeoutMs: 1000 });
  try {
    await router.listen();
    const bootstrap = [{ host: '127.0.0.1', port: router.port }];
    const infoHash = new Uint8Array(randomBytes(20));
    for (const [i, n] of announcers.entries()) {
      await n.listen();
      await n.bootstrap(bootstrap);
      await n.announce(infoHash, 6000 + i, i < 2); // two seeds, one downloader
    }
    await asker.listen();
    await asker.bootstrap(bootstrap);
    const counts = await asker.scrape(infoHash);
    assert.deepEqual(counts, { seeds: 2, peers: 1 });
  } finally {
    for (const n of [router, ...announcers, asker]) n.close();
  }
});

test('a flood of queries from one address is cut off while other askers are still answered; askers that never answer stay out of the table', { timeout: 20_000 }, async () => {
  const node = new DhtNode({ host: '127.0.0.1' });
  const flooder = createSocket('udp4');
  const polite = new DhtNode({ host: '127.0.0.2', queryTimeoutMs: 1000 });
  try {
    await node.listen();
    flooder.bind(0, '127.0.0.1');
    await once(flooder, 'listening');
    let answers = 0;
    flooder.on('message', (msg) => {
      if (decodeKrpc(new Uint8Array(msg)).type === 'response') answers++;
    });
    const id = new Uint8Array(randomBytes(20));
    for (let i = 0; i < 500; i++) flooder.send(encodeKrpc({ type: 'query', t: Uint8Array.of(i >> 8, i & 255), query: { method: 'ping', id } }), node.port, '127.0.0.1');
    await new Promise((r) => setTimeout(r, 500));
    // 50 a second get through (the kernel may drop some of the burst before we see it).
    assert.ok(answers <= 60 && node.dropped > 100, `answered ${answers}, dropped ${node.dropped}`);
    assert.equal(node.table.find(id), undefined, 'the flooder never answered our ping: not in the table');
    await polite.listen();
    assert.ok(await polite.query({ host: '127.0.0.1', port: node.port }, { method: 'ping', id: polite.id }), 'another address is still answered');
  } finally {
    flooder.close();
    polite.close();
    node.close();
  }
});

test('a network of 200 of our nodes: a lookup from any node finds the announced peer', { timeout: 60_000 }, async () => {
  // Each node on its own loopback address, as hosts on the internet are (per-address limits apply).
  const hosts = Array.from({ length: 200 }, (_, i) => `127.0.${1 + (i >> 7)}.${(i & 127) + 1}`);
  const nodes = hosts.map((host) => new DhtNode({ host, queryTimeoutMs: 2000 }));
  try {
    for (const n of nodes) await n.listen();
    // Each joins through the first node and a random earlier one, then everyone refreshes once,
    // as nodes of a live network do.
    const address = (i: number) => ({ host: hosts[i]!, port: nodes[i]!.port });
    for (let i = 1; i < nodes.length; i += 20) await Promise.all(nodes.slice(i, i + 20).map((n, j) => n.bootstrap([address(0), address(Math.floor(Math.random() * (i + j)))])));
    for (let i = 0; i < nodes.length; i += 50) await Promise.all(nodes.slice(i, i + 50).map((n) => n.bootstrap([])));
    const infoHash = new Uint8Array(randomBytes(20));
    await nodes[17]!.announce(infoHash, 7777);
    for (const i of [1, 50, 99, 150, 199]) {
      const { peers } = await nodes[i]!.getPeers(infoHash);
      assert.deepEqual(peers, [{ host: hosts[17]!, port: 7777 }], `lookup from node ${i}`);
    }
  } finally {
    for (const n of nodes) n.close();
  }
});

test('with 20% of the nodes silently dead, lookups still find the announced peer (in-memory network, loss controlled)', { timeout: 60_000 }, async () => {
  const network = new MemoryNetwork();
  const hosts = Array.from({ length: 300 }, (_, i) => `10.0.${i >> 8}.${i & 255}`);
  const nodes = hosts.map((host) => new DhtNode({ host, port: 6881, transport: network.transport(), queryTimeoutMs: 1000, slowAfterMs: 300 }));
  try {
    for (const n of nodes) await n.listen();
    const address = (i: number) => ({ host: hosts[i]!, port: 6881 });
    for (let i = 1; i < nodes.length; i += 50) await Promise.all(nodes.slice(i, i + 50).map((n, j) => n.bootstrap([address(0), address(Math.floor(Math.random() * (i + j)))])));
    for (let i = 0; i < nodes.length; i += 50) await Promise.all(nodes.slice(i, i + 50).map((n) => n.bootstrap([])));
    const infoHash = new Uint8Array(randomBytes(20));
    await nodes[5]!.announce(infoHash, 7777);
    // Every fifth node dies, the first node everyone joined through among them.
    for (let i = 0; i < nodes.length; i += 5) network.kill({ address: hosts[i]!, port: 6881 });
    let unanswered = 0;
    for (const i of [1, 42, 99, 151, 203, 298]) {
      const { peers, stats } = await nodes[i]!.getPeers(infoHash);
      assert.deepEqual(peers, [{ host: hosts[5]!, port: 7777 }], `lookup from node ${i}`);
      unanswered += stats.unanswered;
    }
    assert.ok(network.dropped > 0 && unanswered > 0, 'the lookups did meet dead nodes');
  } finally {
    for (const n of nodes) n.close();
  }
});
