/**
 * DHT tokens and stored peers against a fake clock, over the in-memory network (time must move
 * by minutes): a token stays good for one rotation of the secret and no longer, only from the
 * address it was given to, and announced peers expire after 30 minutes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { DhtNode } from '../../peer-node/dht/dht-node.js';
import { MemoryNetwork, type MemoryTransport } from '../../peer-node/dht/memory-network.js';
import { decodeKrpc, encodeKrpc, type KrpcMessage, type KrpcQuery } from '../../shared/dht/krpc.js';

const MINUTE = 60_000;

/** A bare KRPC endpoint on the memory network that sends one query and waits for its reply. */
async function asker(network: MemoryNetwork, address: string): Promise<{ ask(q: KrpcQuery): Promise<KrpcMessage>; transport: MemoryTransport }> {
  const transport = network.transport();
  await transport.bind(6881, address);
  const waiting = new Map<number, (m: KrpcMessage) => void>();
  transport.onMessage((bytes) => {
    const m = decodeKrpc(bytes);
    if (m.type !== 'query') waiting.get(m.t[0]!)?.(m);
  });
  let next = 0;
  return {
    transport,
    ask: (query) =>
      new Promise((resolve) => {
        const t = next++ & 0xff;
        waiting.set(t, resolve);
        transport.send(encodeKrpc({ type: 'query', t: Uint8Array.of(t), query }), { address: '10.0.0.1', port: 6881 });
      }),
  };
}

async function setup() {
  const network = new MemoryNetwork();
  const clock = { at: 1_800_000_000_000 };
  const node = new DhtNode({ host: '10.0.0.1', port: 6881, transport: network.transport(), now: () => clock.at });
  await node.listen();
  return { network, clock, node, a: await asker(network, '10.0.0.2'), b: await asker(network, '10.0.0.3') };
}

const id = new Uint8Array(randomBytes(20));
const infoHash = new Uint8Array(randomBytes(20));

async function tokenFor(who: { ask(q: KrpcQuery): Promise<KrpcMessage> }): Promise<Uint8Array> {
  const m = await who.ask({ method: 'get_peers', id, infoHash });
  assert.equal(m.type, 'response');
  assert.ok(m.type === 'response' && m.body.token);
  return m.body.token;
}

function announce(token: Uint8Array, port = 5000): KrpcQuery {
  return { method: 'announce_peer', id, infoHash, port, impliedPort: false, token };
}

test('a token is good across one rotation of the secret (5 to 10 minutes) and refused with 203 after two (fake clock)', async () => {
  const { clock, node, a } = await setup();
  try {
    const token = await tokenFor(a);
    assert.equal((await a.ask(announce(token))).type, 'response', 'fresh token');
    clock.at += 5 * MINUTE;
    assert.equal((await a.ask(announce(token))).type, 'response', 'after one rotation the previous secret still counts');
    const fresher = await tokenFor(a);
    assert.notDeepEqual(fresher, token, 'the token changes with the secret');
    clock.at += 5 * MINUTE;
    const refused = await a.ask(announce(token));
    assert.ok(refused.type === 'error' && refused.code === 203, 'after two rotations the old token is refused');
    assert.equal((await a.ask(announce(fresher))).type, 'response', 'the token from the previous period is still good');
    clock.at += 60 * MINUTE;
    const stale = await a.ask(announce(fresher));
    assert.ok(stale.type === 'error' && stale.code === 203, 'a long jump of the clock retires both secrets');
  } finally {
    node.close();
  }
});

test('a token is bound to the IP it was given to: another address using it is refused (fake clock)', async () => {
  const { node, a, b } = await setup();
  try {
    const token = await tokenFor(a);
    const stolen = await b.ask(announce(token));
    assert.ok(stolen.type === 'error' && stolen.code === 203 && /token/.test(stolen.message));
    const after = await b.ask({ method: 'get_peers', id, infoHash });
    assert.ok(after.type === 'response' && !after.body.values, 'nothing was stored by the refused announce');
  } finally {
    node.close();
  }
});

test('announced peers are handed out for 30 minutes, then expire (fake clock)', async () => {
  const { clock, node, a, b } = await setup();
  try {
    assert.equal((await a.ask(announce(await tokenFor(a), 7000))).type, 'response');
    const found = await b.ask({ method: 'get_peers', id, infoHash });
    assert.ok(found.type === 'response');
    assert.deepEqual(found.body.values, [{ host: '10.0.0.2', port: 7000 }]);
    clock.at += 29 * MINUTE;
    const still = await b.ask({ method: 'get_peers', id, infoHash });
    assert.ok(still.type === 'response' && still.body.values?.length === 1, 'still there at 29 minutes');
    clock.at += 2 * MINUTE;
    const gone = await b.ask({ method: 'get_peers', id, infoHash });
    assert.ok(gone.type === 'response' && !gone.body.values, 'gone at 31 minutes');
  } finally {
    node.close();
  }
});
