/**
 * Streaming: when the player arrives (or seeks), requests already queued at a slow peer for less
 * urgent pieces are withdrawn, but the first two (likely on the wire), so the window's first
 * piece goes to the head of that peer's queue, and the queue stays short (about 1 s of the peer's
 * rate, at least 4 blocks). Seen from a scripted raw-socket seed over TCP on
 * 127.0.0.1 that takes requests and never answers (a peer whose link is full).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Client } from '../../peer-node/client.js';
import { encodeHandshake } from '../../shared/wire/handshake.js';
import { encodeMessage, type WireMessage } from '../../shared/wire/messages.js';
import { makeContent } from '../helpers/content.js';
import { onWire, until } from '../helpers/raw-peer.js';

test("a player arriving makes a slow peer's queue yield: requests before the window's first piece cancelled but two, that piece asked next", { timeout: 30_000 }, async () => {
  const root = await mkdtemp(path.join(tmpdir(), 'preempt-'));
  const leech = new Client({ port: 0, host: '127.0.0.1', dht: false });
  try {
    const pieceLength = 16 * 1024; // one block a piece
    const content = await makeContent(path.join(root, 'seed'), [64 * pieceLength], { pieceLength, single: true });
    await leech.listen();
    const t = await leech.add(content.built.torrent, { dir: path.join(root, 'leech'), trackers: false, webSeeds: false });

    const socket = net.connect(leech.port, '127.0.0.1');
    await once(socket, 'connect');
    const sent: WireMessage[] = [];
    onWire(socket, { message: (m) => sent.push(m) });
    // Fast bit: have-all, then unchoke; requests are taken and never answered.
    socket.write(encodeHandshake({ reserved: Uint8Array.from([0, 0, 0, 0, 0, 0, 0, 0x04]), infoHash: content.built.torrent.infoHash, peerId: randomBytes(20) }));
    socket.write(encodeMessage({ type: 'haveAll' }));
    socket.write(encodeMessage({ type: 'unchoke' }));
    const requests = () => sent.filter((m): m is Extract<WireMessage, { type: 'request' }> => m.type === 'request');
    await until('the leech fills its pipeline', () => requests().length >= 16);
    const before = requests().map((r) => r.index);

    // The player starts at a piece not asked for yet: the most urgent, and asked of nobody.
    const start = [...Array(64).keys()].find((i) => i >= 32 && !before.includes(i))!;
    t.setPlayback(start * pieceLength, 10 * 1024);
    await until('the first piece of the window is requested', () => requests().some((r) => r.index === start));
    // Every request queued (for a less urgent piece) is withdrawn but the two oldest.
    const cancelled = sent.filter((m) => m.type === 'cancel').map((m) => (m as { index: number }).index);
    assert.deepEqual(cancelled.sort((a, b) => a - b), before.slice(2).sort((a, b) => a - b));
    const firstCancel = sent.findIndex((m) => m.type === 'cancel');
    const firstNewRequest = sent.findIndex((m, k) => m.type === 'request' && k > firstCancel);
    assert.equal((sent[firstNewRequest] as { index: number }).index, start, "after the cancels, the window's first piece is asked for first");
    // Streaming, a peer is asked for about 1 s of what it sends, at least 4 blocks: this one has
    // sent nothing, so 4 stay asked (a download keeps 16), and a piece that falls due is never
    // queued behind more than that.
    await new Promise((resolve) => setTimeout(resolve, 300));
    const asked = requests().length - sent.filter((m) => m.type === 'cancel').length;
    assert.equal(asked, 4, `requests outstanding at the silent peer: ${asked}`);
    socket.destroy();
  } finally {
    await leech.close();
    await rm(root, { recursive: true, force: true });
  }
});
