/** The receive rules of BEP 14 (peer-node/lsd/lsd-inbox.ts), without sockets, on an injected clock. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { PeerAddress } from '../../shared/compact/index.js';
import { encodeBtSearch } from '../../shared/lsd/bt-search.js';
import { LsdInbox, type LsdInboxOptions, type LsdTarget } from '../../peer-node/lsd/lsd-inbox.js';
import { b } from '../helpers/bytes.js';

const PUBLIC = 'aa'.repeat(20);
const PRIVATE = 'bb'.repeat(20);
const UNKNOWN = 'cc'.repeat(20);
const OURS = 'feedfacefeedface';

function setup(options: LsdInboxOptions = {}) {
  const added: Record<string, PeerAddress[]> = { [PUBLIC]: [], [PRIVATE]: [] };
  const targets: Record<string, LsdTarget> = {
    [PUBLIC]: { private: false, addPeers: (p) => added[PUBLIC]!.push(...p) },
    [PRIVATE]: { private: true, addPeers: (p) => added[PRIVATE]!.push(...p) },
  };
  const inbox = new LsdInbox(OURS, (h) => targets[h], options);
  return { inbox, added };
}

const announce = (infoHashes: string[], port = 6881, cookie?: string) =>
  encodeBtSearch({ host: '239.192.152.143:6771', port, infoHashes, ...(cookie ? { cookie } : {}) });
const from = (address = '192.168.1.20', port = 6771) => ({ address, port });

test('a peer is the UDP source address with the Port header, handed to its torrent once', () => {
  const { inbox, added } = setup();
  inbox.receive(announce([PUBLIC], 51413, 'theirs'), from('192.168.1.20', 40000), 0);
  inbox.receive(announce([PUBLIC], 51413, 'theirs'), from('192.168.1.20', 40000), 1000); // again: already handed over
  assert.deepEqual(added[PUBLIC], [{ host: '192.168.1.20', port: 51413 }]);
  assert.equal(inbox.peersFound, 1);
  assert.equal(inbox.pendingPeers, 1);
});

test('our own announce (our cookie) is ignored; an unknown or private torrent gives no peer, each counted', () => {
  const { inbox, added } = setup();
  inbox.receive(announce([PUBLIC], 6881, OURS), from(), 0);
  inbox.receive(announce([PRIVATE, UNKNOWN, PUBLIC]), from(), 0);
  assert.equal(inbox.ignored.own, 1);
  assert.equal(inbox.ignored.private, 1, 'BEP 27: no LSD peers for a private torrent');
  assert.equal(inbox.ignored['unknown-torrent'], 1);
  assert.deepEqual(added[PRIVATE], []);
  assert.deepEqual(added[PUBLIC], [{ host: '192.168.1.20', port: 6881 }]);
});

test('garbage and oversized datagrams are counted, with the decoder\'s reason kept', () => {
  const { inbox } = setup();
  inbox.receive(b('M-SEARCH * HTTP/1.1\r\n\r\n'), from(), 0);
  inbox.receive(new Uint8Array(1401), from(), 0);
  inbox.receive(b(`BT-SEARCH * HTTP/1.1\r\nHost: x\r\nPort: 0\r\nInfohash: ${PUBLIC}\r\n\r\n`), from(), 0);
  assert.equal(inbox.ignored.garbage, 2);
  assert.equal(inbox.ignored['too-large'], 1);
  assert.equal(inbox.lastGarbage, 'lsd.bad-port');
  assert.equal(inbox.received, 3);
});

test('a source sending faster than the bucket allows is rate-limited, and recovers with time', () => {
  const { inbox, added } = setup({ burst: 3, refillMs: 10_000 });
  for (let i = 0; i < 10; i++) inbox.receive(announce([PUBLIC], 7000 + i), from('10.0.0.9', 6771), 0);
  assert.equal(added[PUBLIC]!.length, 3);
  assert.equal(inbox.ignored['rate-limited'], 7);
  inbox.receive(announce([PUBLIC], 8000), from('10.0.0.9', 6771), 10_000);
  assert.equal(added[PUBLIC]!.length, 4, 'one more after one refill period');
  inbox.receive(announce([PUBLIC], 8001), from('10.0.0.10', 6771), 10_000);
  assert.equal(added[PUBLIC]!.length, 5, 'another source has its own bucket');
});

test('the source table is bounded: a newcomer waits until some source is idle', () => {
  const { inbox } = setup({ burst: 1, refillMs: 10_000, maxSources: 2 });
  inbox.receive(announce([UNKNOWN]), from('10.0.0.1'), 0);
  inbox.receive(announce([UNKNOWN]), from('10.0.0.2'), 0);
  inbox.receive(announce([UNKNOWN]), from('10.0.0.3'), 1);
  assert.equal(inbox.ignored['rate-limited'], 1);
  inbox.receive(announce([UNKNOWN]), from('10.0.0.3'), 10_000);
  assert.equal(inbox.ignored['rate-limited'], 1, 'idle sources make room');
});

test('new LSD peers are bounded over all sources: a burst, then one per refill; the pending set never grows past it', () => {
  const { inbox, added } = setup({ maxPendingPeers: 4, newPeerRefillMs: 1000, pendingMs: 300_000 });
  for (let i = 0; i < 20; i++) inbox.receive(announce([PUBLIC], 6881), from(`10.1.0.${i}`), 0);
  assert.equal(added[PUBLIC]!.length, 4);
  assert.equal(inbox.ignored['too-many-peers'], 16);
  for (let i = 20; i < 40; i++) inbox.receive(announce([PUBLIC], 6881), from(`10.1.0.${i}`), 2_500);
  assert.equal(added[PUBLIC]!.length, 6, 'two refills in 2.5 s');
  assert.equal(inbox.pendingPeers, 4, 'the oldest pending peers were forgotten');
  // Once the flood stops, a real neighbour gets through.
  inbox.receive(announce([PUBLIC], 6881), from('10.1.0.99'), 10_000);
  assert.equal(added[PUBLIC]!.at(-1)!.host, '10.1.0.99');
});

test('a pending peer is not handed over again until it expires', () => {
  const { inbox, added } = setup({ pendingMs: 300_000, refillMs: 1 });
  inbox.receive(announce([PUBLIC], 6881), from('10.2.0.1'), 0);
  inbox.receive(announce([PUBLIC], 6881), from('10.2.0.1'), 299_999);
  assert.equal(added[PUBLIC]!.length, 1);
  inbox.receive(announce([PUBLIC], 6881), from('10.2.0.1'), 300_000);
  assert.equal(added[PUBLIC]!.length, 2);
});
