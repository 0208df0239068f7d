/**
 * Hostile tracker clients (issue 11, point 4): announces with spoofed `ip`, `ipv4` or `ipv6`
 * parameters, of either family, list only the address the request came from (over HTTP, and over
 * BEP 15 through the gateway, the only party trusted to name a sender, and only with its
 * secret); private-torrent announces with
 * stolen or wrong passkeys are refused (HTTP and BEP 41 URL data), and a stolen valid passkey
 * cannot take over its owner's place in the swarm from another address.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { startUdpGateway } from '../../peer-node/gateway/udp-gateway.js';
import { passkeyFor } from '../../worker/access/passkeys.js';
import { decodeAnnounceResponse, decodeUdpResponse, encodeUdpRequest, type UdpRequest } from '../../shared/tracker/index.js';
import { toHex } from '../../shared/bytes.js';
import { TEST_SECRETS, withEdge } from '../helpers/edge.js';
import { TestUdpClient } from '../helpers/udp-client.js';
import { announce, announceRequest, escapeBytes, infoHash, peerId, scrape } from '../helpers/tracker-client.js';

const AUTH = { authorization: `Bearer ${TEST_SECRETS.PUBLISH_TOKEN}`, 'content-type': 'application/json' };

/** A GET from a chosen loopback address (node:http: fetch cannot pick its source address). */
function getFrom(url: URL, localAddress: string): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    http.get(url, { localAddress }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (d: Buffer) => chunks.push(d));
      res.on('end', () => resolve(new Uint8Array(Buffer.concat(chunks))));
    }).on('error', reject);
  });
}

test('spoofed ip, ipv4 and UDP IP fields are ignored: peers are listed at the address their request came from', async () => {
  await withEdge({}, async (edge) => {
    const hash = infoHash(120);
    // BEP 3 `ip` and BEP 7 `ipv4` naming a third party, sent over IPv4: both ignored.
    const spoofed = await announce(edge.url, { hash, peer: 1, extra: '&ip=203.0.113.9&ipv4=198.51.100.7' });
    assert.ok(!('failure' in spoofed));
    assert.equal(spoofed.externalIp, '127.0.0.1');
    const view = await announce(edge.url, { hash, peer: 2, extra: '&compact=0' });
    assert.ok(!('failure' in view));
    assert.deepEqual(view.peers.map((p) => `${p.host}:${p.port}`), ['127.0.0.1:6001'], 'only the address the request came from');

    // BEP 15 through the gateway: the datagram's IP field names a third party; the tracker
    // takes the sender the gateway saw (it alone is believed, with its secret).
    const gateway = await startUdpGateway({ host: '127.0.0.1', port: 0, edge: edge.url, secret: TEST_SECRETS.GATEWAY_SECRET });
    const udp = await TestUdpClient.open(gateway.address);
    try {
      const id = await udp.connect();
      const answer = await udp.send(announceRequest(id, 3, { infoHash: hash, ip: 0xcb007109, port: 7003 }));
      assert.equal(answer?.action, 'announce');
      const after = await announce(edge.url, { hash, peer: 4, extra: '&compact=0' });
      assert.ok(!('failure' in after));
      assert.deepEqual(after.peers.map((p) => `${p.host}:${p.port}`).sort(), ['127.0.0.1:6001', '127.0.0.1:6002', '127.0.0.1:7003']);
    } finally {
      udp.close();
      await gateway.close();
    }
    // Without the gateway's secret nobody may name a sender (the gateway path refuses it).
    const forged = await fetch(new URL('/udp', edge.url), { method: 'POST', headers: { 'x-gateway-client': '203.0.113.9:6881', 'x-gateway-secret': 'guess' }, body: new Uint8Array(16) });
    assert.equal(forged.status, 403);
  });
});

test('cross-family spoofs (ip=2001:db8::9 and ipv6= over IPv4 HTTP, an IPv4 IP field from an IPv6 BEP 15 sender) never appear in any peer list; the sender the gateway names does', async () => {
  await withEdge({}, async (edge) => {
    const hash = infoHash(122);
    const spoofed = new Set(['2001:db8::9', '2001:db8::8', '2001:db8::7', '2001:db8::6', '198.51.100.7', '203.0.113.5']);
    const q = encodeURIComponent;
    // Over IPv4 HTTP, each naming IPv6 third parties (BEP 3 `ip` may be IPv6; BEP 7 `ipv6`).
    for (const [peer, extra] of [
      [1, `&ip=${q('2001:db8::9')}`],
      [2, `&ipv6=${q('[2001:db8::8]:7002')}`],
      [3, `&ipv6=${q('2001:db8::7')}&ipv4=198.51.100.7&ip=${q('[2001:db8::6]:7003')}`],
    ] as const) {
      const r = await announce(edge.url, { hash, peer, extra });
      assert.ok(!('failure' in r), `peer ${peer}: ${'failure' in r ? r.failure : ''}`);
    }
    // Over BEP 15, through the gateway's own path with its secret: IPv6 senders, as a dual-stack
    // gateway names them. The IPv4 field of the datagram names a third party; it is ignored.
    const viaGateway = async (client: string, request: UdpRequest) => {
      const r = await fetch(new URL('/udp', edge.url), { method: 'POST', headers: { 'x-gateway-client': client, 'x-gateway-secret': TEST_SECRETS.GATEWAY_SECRET }, body: encodeUdpRequest(request) });
      assert.equal(r.status, 200);
      return decodeUdpResponse(new Uint8Array(await r.arrayBuffer()), client.startsWith('[') ? 6 : 4);
    };
    const udpPeers: string[][] = [];
    for (const [peer, client] of [[4, '[2001:db8::50]:7004'], [5, '[2001:db8::51]:7005']] as const) {
      const c = await viaGateway(client, { action: 'connect', transactionId: peer });
      assert.equal(c.action, 'connect');
      const a = await viaGateway(client, announceRequest(c.action === 'connect' ? c.connectionId : new Uint8Array(8), peer, { infoHash: hash, ip: 0xcb007105, port: 7000 + peer }));
      assert.equal(a.action, 'announce');
      udpPeers.push(a.action === 'announce' ? a.peers.map((p) => `[${p.host}]:${p.port}`) : []);
    }
    // The second IPv6 sender gets the first at the address the gateway named, and no spoofed one.
    assert.deepEqual(udpPeers, [[], ['[2001:db8::50]:7004']]);

    // Every list an IPv4 client can get: compact (peers and peers6), dictionaries, a plain
    // re-announce (answered from the isolate's view), and PPSP Get-Peer.
    const lists = [
      await announce(edge.url, { hash, peer: 6 }),
      await announce(edge.url, { hash, peer: 7, extra: '&compact=0' }),
      await announce(edge.url, { hash, peer: 6, extra: '&numwant=50' }),
      decodeAnnounceResponse(new Uint8Array(await (await fetch(new URL(`/peers?info_hash=${escapeBytes(hash)}`, edge.url))).arrayBuffer())),
    ];
    for (const [i, list] of lists.entries()) {
      assert.ok(!('failure' in list), `list ${i}`);
      const hosts = list.peers.map((p) => p.host);
      assert.deepEqual(hosts.filter((h) => spoofed.has(h)), [], `list ${i}: no spoofed address`);
      const v4 = list.peers.filter((p) => !p.host.includes(':')).map((p) => `${p.host}:${p.port}`);
      assert.ok(v4.every((e) => e.startsWith('127.0.0.1:')), `list ${i}: IPv4 peers only at the address they came from: ${v4.join(' ')}`);
      assert.ok(['127.0.0.1:6001', '127.0.0.1:6002', '127.0.0.1:6003'].every((e) => v4.includes(e)), `list ${i}: the spoofers are listed at their real address`);
      const v6 = list.peers.filter((p) => p.host.includes(':')).map((p) => `[${p.host}]:${p.port}`).sort();
      assert.deepEqual(v6, ['[2001:db8::50]:7004', '[2001:db8::51]:7005'], `list ${i}: IPv6 peers are only the senders the gateway named`);
    }
  });
});

test('stolen or wrong passkeys: a MAC moved to another user, a key from another edge\'s secret, a changed letter, and the same over BEP 41 are refused; a stolen valid key cannot take its owner\'s place', async () => {
  await withEdge({}, async (edge) => {
    const hash = infoHash(121);
    await fetch(new URL(`/api/torrents/${toHex(hash)}`, edge.url), { method: 'PUT', headers: AUTH, body: JSON.stringify({ private: true }) });
    const alice = ((await (await fetch(new URL('/api/passkeys', edge.url), { method: 'POST', headers: AUTH, body: JSON.stringify({ user: 'alice' }) })).json()) as { passkey: string }).passkey;
    const aliceMac = alice.slice(alice.indexOf('.') + 1);
    const flipped = alice.slice(0, -1) + (alice.endsWith('A') ? 'B' : 'A');
    const wrong = [
      `mallory.${aliceMac}`, // alice's MAC under another name
      await passkeyFor('another-edges-secret', 'alice'), // a well-formed key from another secret
      flipped, // one character changed
      `alice.${aliceMac}.extra`,
      'alice',
    ];
    for (const passkey of wrong) {
      const r = await announce(edge.url, { hash, peer: 1, path: `/p/${encodeURIComponent(passkey)}/announce` });
      assert.ok('failure' in r && /unknown passkey/.test(r.failure), `${passkey}: refused`);
      assert.equal('failure' in r && r.retryIn, 'never');
      const s = await scrape(edge.url, [hash], `/p/${encodeURIComponent(passkey)}/scrape`);
      assert.ok('failure' in s, `${passkey}: no scrape either`);
    }

    // BEP 15: the passkey travels as BEP 41 URL data; a wrong one gets an error packet.
    const gateway = await startUdpGateway({ host: '127.0.0.1', port: 0, edge: edge.url, secret: TEST_SECRETS.GATEWAY_SECRET });
    const udp = await TestUdpClient.open(gateway.address);
    try {
      const id = await udp.connect();
      const refused = await udp.send(announceRequest(id, 5, { infoHash: hash, urlData: `/p/mallory.${aliceMac}/announce` }));
      assert.deepEqual(refused && refused.action === 'error' ? refused.message : refused, 'unknown passkey');
      const accepted = await udp.send(announceRequest(id, 6, { infoHash: hash, urlData: `/p/${alice}/announce` }));
      assert.equal(accepted?.action, 'announce');
    } finally {
      udp.close();
      await gateway.close();
    }

    // Alice announces with her key (BEP 7 `key`). A thief with her passkey and her peer id, from
    // another address and without her key, cannot move her entry to itself.
    const owner = await announce(edge.url, { hash, peer: 7, path: `/p/${alice}/announce`, extra: '&key=a11ce' });
    assert.ok(!('failure' in owner));
    const query = `info_hash=${escapeBytes(hash)}&peer_id=${escapeBytes(peerId(7))}&port=6666&left=100`;
    const hijack = decodeAnnounceResponse(await getFrom(new URL(`/p/${alice}/announce?${query}`, edge.url), '127.0.0.2'));
    assert.ok('failure' in hijack && /peer id is in use/.test(hijack.failure), 'the thief is refused');
    const members = await announce(edge.url, { hash, peer: 8, path: `/p/${alice}/announce`, extra: '&compact=0' });
    assert.ok(!('failure' in members));
    assert.ok(members.peers.some((p) => p.host === '127.0.0.1' && p.port === 6007), 'alice is still listed at her own address');
    assert.ok(!members.peers.some((p) => p.port === 6666), 'the thief\'s address never appears');
    const counts = await scrape(edge.url, [hash], `/p/${alice}/scrape`);
    assert.ok(!('failure' in counts));
    assert.equal(counts.get(toHex(hash))?.incomplete, 3, 'the UDP member, alice and the last asker: no one else joined');
  });
});
