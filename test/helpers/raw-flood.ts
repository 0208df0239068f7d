/**
 * Many scripted raw-socket peers at one of our seeds at once (issue 11, load): test/peer/
 * seed-200-connections.test.ts and bench/seed-connections.ts. Three kinds:
 *  - greedy: handshake (BEP 10 bit, no Fast), `interested`, and while unchoked keep `pipeline`
 *    requests for random valid blocks in flight, forever (they never finish, so the seed's
 *    upload is always in demand and the choker decides who gets it);
 *  - idle: handshake, then nothing (not interested);
 *  - silent: connect and never handshake (a half-open connection).
 * Every peer records what happened to it; none of them ever reconnects.
 */
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import { encodeHandshake } from '../../shared/wire/handshake.js';
import { encodeMessage } from '../../shared/wire/messages.js';
import { onWire, reservedBits } from './raw-peer.js';

export type RawKind = 'greedy' | 'idle' | 'silent';

/** What happened to one raw peer. */
export interface RawPeerRecord {
  kind: RawKind;
  connected: boolean;
  /** The seed's handshake arrived. */
  handshaken: boolean;
  closed: boolean;
  /** ms after the flood began; undefined while open. */
  closedAt?: number;
  /** Payload bytes received in piece messages, each checked against `expected` when given. */
  bytes: number;
  badBlocks: number;
  unchokes: number;
  /** ms after the flood began of each unchoke and choke from the seed. */
  unchokedAt: number[];
  chokedAt: number[];
}

export interface RawFloodOptions {
  port: number;
  infoHash: Uint8Array;
  pieceLength: number;
  length: number;
  greedy: number;
  idle: number;
  silent: number;
  /** Requests each greedy peer keeps in flight while unchoked (default 8). */
  pipeline?: number;
  /** The torrent's bytes, to check every block against (optional). */
  expected?: Uint8Array;
}

const BLOCK = 16 * 1024;

/** Opens every connection at once; resolves when all have connected or failed to. */
export async function rawFlood(options: RawFloodOptions): Promise<{ peers: RawPeerRecord[]; startedAt: number; openHandshaken(): number; close(): void }> {
  const startedAt = performance.now();
  const since = () => Math.round(performance.now() - startedAt);
  const sockets: net.Socket[] = [];
  const kinds: RawKind[] = [...Array<RawKind>(options.greedy).fill('greedy'), ...Array<RawKind>(options.idle).fill('idle'), ...Array<RawKind>(options.silent).fill('silent')];
  const pieces = Math.ceil(options.length / options.pieceLength);
  const pipeline = options.pipeline ?? 8;
  const randomBlock = () => {
    const index = Math.floor(Math.random() * pieces);
    const pieceSize = Math.min(options.pieceLength, options.length - index * options.pieceLength);
    const begin = Math.floor(Math.random() * Math.ceil(pieceSize / BLOCK)) * BLOCK;
    return { index, begin, length: Math.min(BLOCK, pieceSize - begin) };
  };
  const peers = kinds.map((kind) => {
    const record: RawPeerRecord = { kind, connected: false, handshaken: false, closed: false, bytes: 0, badBlocks: 0, unchokes: 0, unchokedAt: [], chokedAt: [] };
    const socket = net.connect(options.port, '127.0.0.1');
    sockets.push(socket);
    socket.on('error', () => undefined);
    socket.once('close', () => {
      record.closed = true;
      record.closedAt = since();
    });
    let inFlight = 0;
    let choked = true;
    const fill = () => {
      while (!choked && inFlight < pipeline && !socket.destroyed) {
        socket.write(encodeMessage({ type: 'request', ...randomBlock() }));
        inFlight++;
      }
    };
    onWire(socket, {
      handshake: () => {
        record.handshaken = true;
      },
      message: (m) => {
        if (m.type === 'unchoke') {
          record.unchokes++;
          record.unchokedAt.push(since());
          choked = false;
          fill();
        } else if (m.type === 'choke') {
          record.chokedAt.push(since());
          choked = true;
          inFlight = 0; // without Fast the seed drops what was queued (BEP 3)
        } else if (m.type === 'piece') {
          record.bytes += m.block.length;
          if (options.expected) {
            const at = m.index * options.pieceLength + m.begin;
            if (!Buffer.from(m.block).equals(options.expected.subarray(at, at + m.block.length))) record.badBlocks++;
          }
          inFlight = Math.max(0, inFlight - 1);
          fill();
        }
      },
    });
    socket.once('connect', () => {
      record.connected = true;
      if (kind === 'silent') return;
      socket.write(encodeHandshake({ reserved: reservedBits(), infoHash: options.infoHash, peerId: randomBytes(20) }));
      if (kind === 'greedy') socket.write(encodeMessage({ type: 'interested' }));
    });
    return record;
  });
  await Promise.all(sockets.map((s) => new Promise<void>((resolve) => (s.connecting ? s.once('connect', () => resolve()).once('close', () => resolve()) : resolve()))));
  return {
    peers,
    startedAt,
    openHandshaken: () => peers.filter((p) => p.handshaken && !p.closed).length,
    close: () => {
      for (const s of sockets) s.destroy();
    },
  };
}

/** Fairness figures over the greedy peers the seed kept (handshaken and still open): call before `close`. */
export function serviceSpread(peers: RawPeerRecord[]): { admitted: number; served: number; totalBytes: number; maxShare: number; shares: number[] } {
  const admitted = peers.filter((p) => p.kind === 'greedy' && p.handshaken && !p.closed);
  const totalBytes = admitted.reduce((n, p) => n + p.bytes, 0);
  const shares = admitted.map((p) => (totalBytes ? p.bytes / totalBytes : 0)).sort((a, b) => b - a);
  return { admitted: admitted.length, served: admitted.filter((p) => p.bytes > 0).length, totalBytes, maxShare: shares[0] ?? 0, shares };
}
