import { EventEmitter } from 'node:events';
import { bytesEqual, toHex } from '../../shared/bytes.js';
import type { PeerAddress } from '../../shared/compact/index.js';
import { ProtocolError, WireError } from '../../shared/errors.js';
import { sha1 } from '../../shared/sha1.js';
import { decodeExtensionHandshake, encodeExtensionHandshake } from '../../shared/wire/extension-handshake.js';
import {
  decodeMetadataMessage,
  encodeMetadataMessage,
  MAX_METADATA_SIZE,
  METADATA_PIECE,
  metadataPieceCount,
} from '../../shared/wire/ut-metadata.js';
import { LOCAL_EXTENSION_IDS } from '../extensions/extension.js';
import type { DhtNode } from '../dht/dht-node.js';
import { Announcer } from '../tracker/announcer.js';
import { TrackerTiers } from '../tracker/tracker-tiers.js';
import type { UdpTrackerClient } from '../tracker/udp-tracker-client.js';
import { type ConnectionOptions, PeerConnection } from '../wire/peer-connection.js';

export interface FetchedMetadata {
  infoBytes: Uint8Array;
  /** Peers that answered: the download dials them first. */
  peers: PeerAddress[];
}

interface Source {
  connection: PeerConnection;
  address: PeerAddress;
  /** The id the peer receives ut_metadata under, and the size it claims. */
  id?: number;
  size?: number;
  /** Piece requested from it and when. */
  asked?: { piece: number; at: number };
  /** When it last rejected a request: it may have the metadata later (it may be fetching too). */
  rejectedAt?: number;
  gave: Set<number>;
}

const REQUEST_TIMEOUT_MS = 10_000;
/** A peer that rejected a metadata request is asked again after this long. */
const REJECT_REST_MS = 10_000;
const MAX_CONNECTIONS = 30;

/**
 * Gets a torrent's info dictionary from peers for a magnet link (BEP 9): peers come from the
 * magnet's trackers (`tr`) and addresses (`x.pe`); each that offers ut_metadata is asked for
 * one 16 KiB piece at a time, pieces spread over peers; the whole is accepted only when its
 * SHA-1 is the info-hash. When it is not, every peer that sent part of it is dropped and the
 * pieces are asked again from others. A peer that claims a size above MAX_METADATA_SIZE is
 * dropped; the size fetched is the one live peers claim most, so one liar cannot shut out the
 * rest. A peer that rejects (it may be fetching too) is asked again after 10 s.
 *
 * Events: `warning` (text).
 */
export class MetadataFetcher extends EventEmitter {
  private readonly sources = new Map<PeerConnection, Source>();
  private readonly known = new Map<string, PeerAddress & { tried: boolean }>();
  private readonly dropped = new Set<string>();
  private size?: number;
  private pieces: (Uint8Array | undefined)[] = [];
  private from: (Source | undefined)[] = [];
  private announcer?: Announcer;
  private timer?: NodeJS.Timeout;
  private settle?: { resolve: (m: FetchedMetadata) => void; reject: (e: Error) => void };
  private done = false;

  constructor(
    readonly infoHash: Uint8Array,
    private readonly connection: ConnectionOptions,
    private readonly port: () => number,
    private readonly udp: UdpTrackerClient,
    private readonly trackers: string[][],
    private readonly clientName: string,
    private readonly dht?: DhtNode,
  ) {
    super();
  }

  /** Resolves with the verified info dictionary; rejects after `timeoutMs` without it. */
  fetch(peers: PeerAddress[], timeoutMs = 120_000): Promise<FetchedMetadata> {
    return new Promise<FetchedMetadata>((resolve, reject) => {
      this.settle = { resolve, reject };
      const deadline = setTimeout(() => this.finish(new Error(`no peer gave the metadata of ${toHex(this.infoHash)} within ${timeoutMs / 1000} s`)), timeoutMs);
      deadline.unref();
      this.addPeers(peers);
      if (this.trackers.length > 0) {
        this.announcer = new Announcer(
          new TrackerTiers(this.trackers, undefined),
          this.udp,
          // The size is unknown: a non-zero `left` keeps trackers from counting us as a seed.
          () => ({ infoHash: this.infoHash, peerId: this.connection.peerId, port: this.port(), uploaded: 0, downloaded: 0, left: 1 }),
          { peers: (found) => this.addPeers(found), warning: (text) => this.emit('warning', text) },
        );
        this.announcer.start();
      }
      // Trackerless magnets find their peers in the DHT (BEP 5).
      if (this.dht) void this.dht.getPeers(this.infoHash).then((r) => this.addPeers(r.peers));
      this.timer = setInterval(() => this.tick(), 1000);
      this.timer.unref();
    });
  }

  addPeers(peers: readonly PeerAddress[]): void {
    for (const p of peers) {
      const id = `${p.host}:${p.port}`;
      if (!this.known.has(id) && this.known.size < 1000) this.known.set(id, { ...p, tried: false });
    }
    this.dialMore();
  }

  private dialMore(): void {
    if (this.done) return;
    for (const peer of this.known.values()) {
      if (this.sources.size >= MAX_CONNECTIONS) return;
      if (peer.tried) continue;
      peer.tried = true;
      this.dial(peer);
    }
  }

  private dial(address: PeerAddress): void {
    const connection = PeerConnection.connect(address.host, address.port, this.infoHash, this.connection);
    const source: Source = { connection, address, gave: new Set() };
    this.sources.set(connection, source);
    connection.on('handshake', () => {
      // Nothing to offer yet: have-none under Fast (a bitfield would be empty), then BEP 10.
      if (connection.negotiated.fast) connection.send({ type: 'haveNone' });
      if (!connection.negotiated.extensionProtocol) return connection.close('the peer does not speak BEP 10, so it cannot send metadata');
      connection.send({
        type: 'extended',
        extendedId: 0,
        payload: encodeExtensionHandshake({ m: new Map([['ut_metadata', LOCAL_EXTENSION_IDS['ut_metadata']!]]), v: this.clientName, p: this.port() }),
      });
    });
    connection.on('message', (m) => {
      try {
        if (m.type !== 'extended') return;
        if (m.extendedId === 0) this.onHandshake(source, m.payload);
        else if (m.extendedId === LOCAL_EXTENSION_IDS['ut_metadata']) this.onMessage(source, m.payload);
      } catch (err) {
        if (err instanceof ProtocolError) connection.close(`protocol error: ${err.message}`);
        else throw err;
      }
    });
    connection.on('close', () => {
      this.sources.delete(connection);
      if (source.asked) source.asked = undefined;
      this.dialMore();
      this.requestMore();
    });
  }

  private onHandshake(source: Source, payload: Uint8Array): void {
    const hs = decodeExtensionHandshake(payload);
    const id = hs.m.get('ut_metadata');
    if (!id) return source.connection.close('the peer does not offer ut_metadata');
    const size = hs.metadataSize;
    source.id = id;
    // No size yet: the peer may be fetching the metadata itself; a later handshake may bring it.
    if (size === undefined || size <= 0) return;
    if (size > MAX_METADATA_SIZE) throw new WireError('ut-metadata.too-large', `metadata of ${size} bytes is over ${MAX_METADATA_SIZE}`);
    source.size = size;
    this.requestMore();
  }

  private onMessage(source: Source, payload: Uint8Array): void {
    const m = decodeMetadataMessage(payload);
    if (m.type === 'request') {
      // We have nothing yet (BEP 9: reject until the whole dictionary is verified).
      if (source.id) source.connection.send({ type: 'extended', extendedId: source.id, payload: encodeMetadataMessage({ type: 'reject', piece: m.piece }) });
      return;
    }
    if (m.type === 'unknown' || !source.asked || source.asked.piece !== m.piece) return;
    source.asked = undefined;
    if (m.type === 'reject') {
      source.rejectedAt = Date.now(); // asked again later; others are asked now
      return this.requestMore();
    }
    if (m.totalSize !== this.size) throw new WireError('ut-metadata.total-size', `total_size ${m.totalSize} differs from ${this.size}`);
    this.pieces[m.piece] = m.data;
    this.from[m.piece] = source;
    source.gave.add(m.piece);
    if (this.pieces.every((p) => p !== undefined)) void this.verify();
    else this.requestMore();
  }

  private async verify(): Promise<void> {
    const size = this.size!;
    const whole = new Uint8Array(size);
    this.pieces.forEach((p, i) => whole.set(p!, i * METADATA_PIECE));
    if (bytesEqual(await sha1(whole), this.infoHash)) {
      const peers = [...this.sources.values()].filter((s) => s.gave.size > 0).map((s) => s.address);
      return this.finish(undefined, { infoBytes: whole, peers });
    }
    // Someone lied: drop every contributor, start over with the others.
    const liars = new Set(this.from.filter((s): s is Source => s !== undefined));
    this.emit('warning', `metadata from ${[...liars].map((s) => `${s.address.host}:${s.address.port}`).join(', ')} does not hash to the info-hash; dropped`);
    for (const s of liars) {
      this.dropped.add(`${s.address.host}:${s.address.port}`);
      s.connection.close('sent metadata that does not match the info-hash');
    }
    this.size = undefined; // the size too may have been the liars'
    this.requestMore();
  }

  /** Gives every idle peer that offers metadata the next piece nobody is fetching. */
  private requestMore(): void {
    if (this.done) return;
    this.chooseSize();
    if (this.size === undefined) return;
    const busy = new Set([...this.sources.values()].filter((s) => s.asked).map((s) => s.asked!.piece));
    const now = Date.now();
    for (const s of this.sources.values()) {
      if (!s.id || s.asked || s.size !== this.size) continue;
      if (s.rejectedAt !== undefined && now - s.rejectedAt < REJECT_REST_MS) continue;
      const piece = this.pieces.findIndex((p, i) => p === undefined && !busy.has(i));
      if (piece < 0) return;
      busy.add(piece);
      s.asked = { piece, at: Date.now() };
      s.connection.send({ type: 'extended', extendedId: s.id, payload: encodeMetadataMessage({ type: 'request', piece }) });
    }
  }

  /**
   * The size to fetch: kept while a live peer claims it, else the one most live peers claim. One
   * peer claiming a wrong size can then no longer shut out all the others.
   */
  private chooseSize(): void {
    const live = [...this.sources.values()].filter((s) => s.size !== undefined && !s.connection.closed);
    if (this.size !== undefined && live.some((s) => s.size === this.size)) return;
    const votes = new Map<number, number>();
    for (const s of live) votes.set(s.size!, (votes.get(s.size!) ?? 0) + 1);
    const best = [...votes].sort((a, b) => b[1] - a[1])[0]?.[0];
    if (best === this.size) return;
    this.size = best;
    this.pieces = best === undefined ? [] : new Array(metadataPieceCount(best)).fill(undefined);
    this.from = new Array(this.pieces.length).fill(undefined);
  }

  private tick(): void {
    this.requestMore(); // peers whose reject has rested are asked again
    const now = Date.now();
    for (const s of this.sources.values()) {
      if (s.asked && now - s.asked.at > REQUEST_TIMEOUT_MS) s.connection.close('no answer to a metadata request');
    }
    // Peers that said nothing useful may be tried again later (they may have got it meanwhile).
    if (this.sources.size === 0) for (const p of this.known.values()) if (!this.dropped.has(`${p.host}:${p.port}`)) p.tried = false;
    this.dialMore();
  }

  private finish(err: Error | undefined, result?: FetchedMetadata): void {
    if (this.done) return;
    this.done = true;
    clearInterval(this.timer);
    void this.announcer?.stop(0, false);
    for (const s of this.sources.values()) s.connection.close('metadata complete');
    if (err) this.settle?.reject(err);
    else this.settle?.resolve(result!);
  }

  /** Gives up (Ctrl-C). */
  cancel(): void {
    this.finish(new Error('cancelled'));
  }
}
