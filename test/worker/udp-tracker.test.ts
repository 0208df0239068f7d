import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startUdpGateway } from '../../peer-node/gateway/udp-gateway.js';
import { encodeUdpRequest, type UdpRequest } from '../../shared/tracker/index.js';
import { TEST_SECRETS, withEdge } from '../helpers/edge.js';
import { TestUdpClient } from '../helpers/udp-client.js';
import { announceRequest, infoHash, peerId, scrape } from '../helpers/tracker-client.js';
import { toHex } from '../../shared/bytes.js';

async function withGateway(body: (edgeUrl: URL, gateway: { host: string; port: number }) => Promise<void>): Promise<void> {
  await withEdge({}, async (edge) => {
    const gateway = await startUdpGateway({ host: '127.0.0.1', port: 0, edge: edge.url, secret: TEST_SECRETS.GATEWAY_SECRET });
    try {
      await body(edge.url, gateway.address);
    } finally {
      await gateway.close();
    }
  });
}

test('BEP 15 over real UDP through the gateway: connect, announce, scrape', async () => {
  await withGateway(async (edgeUrl, gateway) => {
    const a = await TestUdpClient.open(gateway);
    const b = await TestUdpClient.open(gateway);
    try {
      const idA = await a.connect();
      const first = await a.send(announceRequest(idA, 1));
      assert.deepEqual(first, { action: 'announce', transactionId: 1001, interval: 900, leechers: 1, seeders: 0, peers: [] });
      const idB = await b.connect();
      const second = await b.send(announceRequest(idB, 2, { left: 0 }));
      assert.deepEqual(second, { action: 'announce', transactionId: 1002, interval: 900, leechers: 1, seeders: 1, peers: [{ host: '127.0.0.1', port: 7001 }] });
      const scraped = await a.send({ action: 'scrape', connectionId: idA, transactionId: 5, infoHashes: [infoHash(1), infoHash(2)] });
      assert.deepEqual(scraped, { action: 'scrape', transactionId: 5, results: [{ seeders: 1, completed: 0, leechers: 1 }, { seeders: 0, completed: 0, leechers: 0 }] });
      // The same swarm over HTTP: one tracker, two transports.
      const counts = await scrape(edgeUrl, [infoHash(1)]);
      assert.ok(!('failure' in counts));
      assert.equal(counts.get(toHex(infoHash(1)))?.complete, 1);
    } finally {
      a.close();
      b.close();
    }
  });
});

test('unknown, forged or borrowed connection ids get no answer at all', async () => {
  await withGateway(async (_edgeUrl, gateway) => {
    const a = await TestUdpClient.open(gateway);
    const b = await TestUdpClient.open(gateway);
    try {
      assert.equal(await a.send(announceRequest(new Uint8Array(8), 1)), undefined);
      const id = await a.connect();
      const forged = id.slice();
      forged[7]! ^= 0xff;
      assert.equal(await a.send(announceRequest(forged, 1)), undefined);
      assert.equal((await a.send(announceRequest(id, 1)))?.action, 'announce');
      // The same address from another port may use it (NATs move ports)...
      assert.equal((await b.send(announceRequest(id, 2)))?.action, 'announce');
    } finally {
      a.close();
      b.close();
    }
  });
});

test('bad datagrams: error packets where BEP 15 allows one, silence otherwise, and the tracker carries on', async () => {
  await withGateway(async (_edgeUrl, gateway) => {
    const c = await TestUdpClient.open(gateway);
    try {
      assert.equal(await c.sendRaw(new Uint8Array(10), 800), undefined, 'too short: dropped');
      assert.equal(await c.sendRaw(new Uint8Array(4000), 800), undefined, 'oversized: dropped');
      const badMagic = encodeUdpRequest({ action: 'connect', transactionId: 3 });
      badMagic[2] = 0x99;
      assert.equal(await c.sendRaw(badMagic, 800), undefined, 'not BEP 15: dropped');
      // Without a valid connection id even a sendable error gets no answer: a forged source
      // must not turn the tracker into an amplifier.
      const unproven = encodeUdpRequest(announceRequest(new Uint8Array(8), 1));
      unproven[11] = 9;
      assert.equal(await c.sendRaw(unproven, 800), undefined);
      assert.equal(await c.sendRaw(encodeUdpRequest({ action: 'scrape', connectionId: new Uint8Array(8), transactionId: 1, infoHashes: [] }), 800), undefined);
      const id = await c.connect();
      const short = encodeUdpRequest(announceRequest(id, 1)).subarray(0, 60);
      assert.deepEqual(await c.sendBytes(short), { action: 'error', transactionId: 1001, message: 'announce needs 98 bytes, got 60' });
      const wrongAction = encodeUdpRequest(announceRequest(id, 1));
      wrongAction[11] = 7;
      assert.deepEqual(await c.sendBytes(wrongAction), { action: 'error', transactionId: 1001, message: 'unknown action 7' });
      const tooMany = encodeUdpRequest({ action: 'scrape', connectionId: id, transactionId: 9, infoHashes: Array(80).fill(infoHash(1)) });
      assert.equal(tooMany.length > 1500, true);
      assert.deepEqual(await c.sendBytes(tooMany), { action: 'error', transactionId: 9, message: 'at most 74 info-hashes per scrape' });
      assert.equal((await c.send(announceRequest(id, 1)))?.action, 'announce', 'still serving');
    } finally {
      c.close();
    }
  });
});

test('a connection id is useless from another address', async () => {
  await withEdge({}, async (edge) => {
    const post = (client: string, body: Uint8Array) =>
      fetch(new URL('/udp', edge.url), { method: 'POST', headers: { 'x-gateway-client': client, 'x-gateway-secret': TEST_SECRETS.GATEWAY_SECRET }, body });
    const connect = await post('10.1.1.1:5000', encodeUdpRequest({ action: 'connect', transactionId: 1 }));
    const id = new Uint8Array(await connect.arrayBuffer()).slice(8, 16);
    assert.equal((await post('10.1.1.1:5001', encodeUdpRequest(announceRequest(id, 1)))).status, 200);
    assert.equal((await post('10.1.1.2:5000', encodeUdpRequest(announceRequest(id, 2)))).status, 204);
  });
});

test('POST /udp refuses a forged source address without the gateway secret', async () => {
  await withEdge({}, async (edge) => {
    const body = encodeUdpRequest({ action: 'connect', transactionId: 1 });
    const noSecret = await fetch(new URL('/udp', edge.url), { method: 'POST', headers: { 'x-gateway-client': '1.2.3.4:5' }, body });
    assert.equal(noSecret.status, 403);
    const wrong = await fetch(new URL('/udp', edge.url), { method: 'POST', headers: { 'x-gateway-client': '1.2.3.4:5', 'x-gateway-secret': 'guess' }, body });
    assert.equal(wrong.status, 403);
    const badClient = await fetch(new URL('/udp', edge.url), { method: 'POST', headers: { 'x-gateway-client': 'nowhere', 'x-gateway-secret': TEST_SECRETS.GATEWAY_SECRET }, body });
    assert.equal(badClient.status, 400);
    const good = await fetch(new URL('/udp', edge.url), { method: 'POST', headers: { 'x-gateway-client': '[::1]:5', 'x-gateway-secret': TEST_SECRETS.GATEWAY_SECRET }, body });
    assert.equal(good.status, 200);
    assert.equal((await good.arrayBuffer()).byteLength, 16);
  });
});

test('POST /udp/batch: garbage framing is a 400 with the reason; a good batch answers each datagram in order', async () => {
  const { encodeGatewayBatch, decodeGatewayReplies } = await import('../../shared/tracker/gateway.js');
  await withEdge({}, async (edge) => {
    const post = (body: Uint8Array) =>
      fetch(new URL('/udp/batch', edge.url), { method: 'POST', headers: { 'x-gateway-secret': TEST_SECRETS.GATEWAY_SECRET }, body });
    const truncated = await post(Uint8Array.of(20, 1, 2, 3));
    assert.equal(truncated.status, 400);
    assert.match(((await truncated.json()) as { error: string }).error, /truncated/);
    const badSender = await post(encodeGatewayBatch([{ client: 'not-an-address', packet: new Uint8Array(16) }]));
    assert.equal(badSender.status, 400);
    assert.match(((await badSender.json()) as { error: string }).error, /bad sender address/);
    const tooMany = await post(encodeGatewayBatch(Array(257).fill({ client: '10.0.0.1:1', packet: new Uint8Array(16) })));
    assert.equal(tooMany.status, 400);

    const connect = encodeUdpRequest({ action: 'connect', transactionId: 77 });
    const good = await post(
      encodeGatewayBatch([
        { client: '10.0.0.1:1000', packet: connect },
        { client: '10.0.0.2:1000', packet: new Uint8Array(5) },
        { client: '[2001:db8::5]:1000', packet: connect },
      ]),
    );
    assert.equal(good.status, 200);
    const replies = decodeGatewayReplies(new Uint8Array(await good.arrayBuffer()), 3);
    assert.equal(replies[0]?.length, 16);
    assert.equal(replies[1], undefined, 'a runt datagram gets no answer');
    assert.equal(replies[2]?.length, 16);
  });
});

test('IPv6 answers fit one datagram (at most 66 peers), and IPv4-mapped senders count as IPv4', async () => {
  const { encodeGatewayBatch, decodeGatewayReplies } = await import('../../shared/tracker/gateway.js');
  const { decodeUdpResponse } = await import('../../shared/tracker/index.js');
  await withEdge({}, async (edge) => {
    const batch = async (datagrams: { client: string; packet: Uint8Array }[]) => {
      const r = await fetch(new URL('/udp/batch', edge.url), { method: 'POST', headers: { 'x-gateway-secret': TEST_SECRETS.GATEWAY_SECRET }, body: encodeGatewayBatch(datagrams) });
      return decodeGatewayReplies(new Uint8Array(await r.arrayBuffer()), datagrams.length);
    };
    const clients = Array.from({ length: 120 }, (_, i) => `[2001:db8::${(i + 1).toString(16)}]:${7000 + i}`);
    const ids = await batch(clients.map((client) => ({ client, packet: encodeUdpRequest({ action: 'connect', transactionId: 1 }) })));
    await batch(clients.map((client, i) => ({ client, packet: encodeUdpRequest(announceRequest(ids[i]!.slice(8, 16), i + 1, { numWant: 200 })) })));
    const [last] = await batch([{ client: clients[0]!, packet: encodeUdpRequest(announceRequest(ids[0]!.slice(8, 16), 1, { numWant: 200, event: 'none' })) }]);
    assert.ok(last!.length <= 1208, `answer of ${last!.length} bytes`);
    const answer = decodeUdpResponse(last!, 6);
    assert.ok(answer.action === 'announce' && answer.peers.length === 66);

    // A dual-stack gateway reports an IPv4 sender as ::ffff:a.b.c.d: it is an IPv4 client.
    const v4client = '[::ffff:10.1.1.1]:5000';
    const [connect] = await batch([{ client: '10.1.1.2:5000', packet: encodeUdpRequest({ action: 'connect', transactionId: 1 }) }]);
    await batch([{ client: '10.1.1.2:5000', packet: encodeUdpRequest(announceRequest(connect!.slice(8, 16), 200, { infoHash: infoHash(9) })) }]);
    const [mappedConnect] = await batch([{ client: v4client, packet: encodeUdpRequest({ action: 'connect', transactionId: 1 }) }]);
    const [mapped] = await batch([{ client: v4client, packet: encodeUdpRequest(announceRequest(mappedConnect!.slice(8, 16), 201, { infoHash: infoHash(9) })) }]);
    const decoded = decodeUdpResponse(mapped!, 4);
    assert.ok(decoded.action === 'announce');
    assert.deepEqual(decoded.peers, [{ host: '10.1.1.2', port: 7200 }]);
  });
});
