import { WireError } from '../../shared/errors.js';
import type { TorrentGeometry } from '../../shared/metainfo/geometry.js';
import { BLOCK_LENGTH } from '../../shared/metainfo/geometry.js';
import { decodeExtensionHandshake, encodeExtensionHandshake, type ExtensionHandshake } from '../../shared/wire/extension-handshake.js';
import type { BlockRef, WireMessage } from '../../shared/wire/messages.js';
import type { PeerConnection } from '../wire/peer-connection.js';
import { Bitfield } from './bitfield.js';
import { RateMeter } from './rate-meter.js';

/**
 * What a session needs from its torrent. The session owns one peer's protocol state and the
 * rules of BEP 3, BEP 6 and BEP 10 for it; the torrent owns every decision that involves more
 * than one peer (what to request, whom to unchoke, what a verified piece means).
 */
export interface SessionHost {
  readonly geometry: TorrentGeometry;
  /** Our verified pieces. */
  readonly have: Bitfield;
  /** Whether this peer may fetch piece i from us (we have it, and BEP 16 lets us show it). */
  mayServe(session: PeerSession, index: number): boolean;
  /** BEP 16: we pretend to have nothing and show pieces one by one. */
  readonly superSeeding: boolean;
  peerHas(session: PeerSession, index: number): void;
  peerHasAll(session: PeerSession): void;
  peerBitfield(session: PeerSession): void;
  /** A block we asked for arrived (already matched against our requests). */
  block(session: PeerSession, ref: BlockRef, data: Uint8Array): void;
  /** Requests to this peer ended without data (choke without Fast, reject): ask again elsewhere. */
  released(session: PeerSession, refs: BlockRef[]): void;
  /** The peer may now serve us (unchoke, or a new allowed-fast piece). */
  canRequest(session: PeerSession): void;
  /** The peer queued a request or became interested: the torrent may serve or unchoke it. */
  peerWants(session: PeerSession): void;
  /** The peer lost interest: an upload slot it held may go to another peer. */
  peerLostInterest(session: PeerSession): void;
  extended(session: PeerSession, name: string, payload: Uint8Array): void;
  extensionHandshake(session: PeerSession): void;
  peerDhtPort(session: PeerSession, port: number): void;
}

/** Largest block a peer may request (BEP 3: clients close connections that ask for more). */
export const MAX_REQUEST_LENGTH = BLOCK_LENGTH;
/** Requests a peer may queue with us; we say so in `reqq`. More than twice that is a flood. */
export const MAX_INCOMING_REQUESTS = 500;
/** Unrequested blocks tolerated before a peer is dropped (endgame races cause a few). */
const MAX_UNSOLICITED = 64;
/** Requests we already cancelled are kept this long so that their late piece or reject is accepted. */
const CANCELLED_TTL_MS = 30_000;
/** A piece the peer rejected is not asked of it again for this long. */
const REJECT_REST_MS = 5_000;

export interface OutstandingRequest {
  ref: BlockRef;
  sentAt: number;
}

const key = (index: number, begin: number) => index * 0x10000 + begin / BLOCK_LENGTH;

export class PeerSession {
  // The four BEP 3 flags; both sides start choked and not interested.
  amChoking = true;
  /** When we last unchoked it: the start of its current (or latest) upload turn. */
  unchokedAt?: number;
  amInterested = false;
  peerChoking = true;
  peerInterested = false;

  readonly bits: Bitfield;
  /** The peer announced have-all (counted once as a seed, not per piece). */
  isSeed = false;
  /** Our requests to the peer, by block. */
  readonly outstanding = new Map<number, OutstandingRequest>();
  /**
   * Cancelled requests whose answer (the block, or under Fast a reject) has not come yet, per
   * block: how many, and when the last was cancelled. A block cancelled, asked again and
   * cancelled again is owed two answers; one entry for both took the second answer for the
   * request after them.
   */
  private cancelled = new Map<number, { count: number; at: number }>();
  /** The peer's requests to us, in arrival order. */
  readonly incoming: BlockRef[] = [];
  /** Pieces we may request while choked (BEP 6 allowed fast, from the peer). */
  readonly allowedFromPeer = new Set<number>();
  /** Pieces the peer may request while we choke it (our allowed-fast set for it). */
  allowedForPeer = new Set<number>();
  readonly download = new RateMeter();
  readonly upload = new RateMeter();
  readonly connectedAt = Date.now();
  lastBlockAt?: number;
  /** Set when a request timed out: the pipeline shrinks to one until a block arrives. */
  snubbed = false;
  /** Their BEP 10 handshake, and the ids they want our extension messages under. */
  extensions?: ExtensionHandshake;
  unsolicited = 0;
  /** Failed pieces this peer contributed to (two for a piece it sent alone), for banning. */
  strikes = 0;
  /** Pieces the peer has that we want and lack: we are interested while this is above zero. */
  interesting = 0;
  /** Where the peer accepts connections: the address we dialled, or its IP with BEP 10 `p`. */
  listenAddress?: { host: string; port: number };
  /** BEP 21: the peer wants nothing more (a seed or a partial seed). */
  uploadOnly = false;
  /** LAYER-CHANGE (`pp_layer`): the peer's active layer of a layered asset, once it said. */
  peerLayer?: number;
  /** We dialled it (so it is reachable: BEP 11 flag 0x10). */
  outgoing = false;
  /** An upload loop is running for this peer. */
  serving = false;
  /** The upload loop waits for the socket to drain (one listener, however many requests). */
  awaitingDrain = false;
  private sawFirstMessage = false;
  /** Requests that arrived while the queue was full. */
  private overflow = 0;
  /** Requests refused in a row (choked, or a piece we cannot serve) with none queued since. */
  private refusedInARow = 0;
  /** When the peer last rejected a request for each piece. */
  private readonly rejectedAt = new Map<number, number>();
  /** Our extension names by the id we receive them under. */
  private readonly ourIds: Map<number, string>;

  constructor(
    readonly connection: PeerConnection,
    private readonly host: SessionHost,
    /** Extensions we support: name -> the id we want to receive it under. */
    readonly ourExtensions: ReadonlyMap<string, number>,
  ) {
    this.bits = new Bitfield(host.geometry.pieceCount);
    this.ourIds = new Map([...ourExtensions].map(([name, id]) => [id, name]));
  }

  get id(): string {
    return this.connection.remoteAddress;
  }

  /** Both sides set the Fast extension bit. */
  get fast(): boolean {
    return this.connection.negotiated.fast;
  }

  get extensionProtocol(): boolean {
    return this.connection.negotiated.extensionProtocol;
  }

  send(message: WireMessage): void {
    this.connection.send(message);
  }

  /** Our first messages: what we have (have-all/none under Fast), then the BEP 10 handshake. */
  greet(ourHandshake: ExtensionHandshake | undefined): void {
    const have = this.host.have;
    if (this.host.superSeeding) {
      if (this.fast) this.send({ type: 'haveNone' }); // and then one `have` at a time
    } else if (this.fast && have.complete) this.send({ type: 'haveAll' });
    else if (this.fast && have.count === 0) this.send({ type: 'haveNone' });
    else if (have.count > 0) this.send({ type: 'bitfield', bits: have.bytes.slice() });
    if (ourHandshake && this.extensionProtocol) this.send({ type: 'extended', extendedId: 0, payload: encodeExtensionHandshake(ourHandshake) });
  }

  /** BEP 6: the pieces this peer may request even while we choke it. */
  grantAllowedFast(pieces: number[]): void {
    if (!this.fast) return;
    for (const index of pieces) {
      if (this.allowedForPeer.has(index)) continue;
      this.allowedForPeer.add(index);
      this.send({ type: 'allowedFast', index });
    }
  }

  setInterested(interested: boolean): void {
    if (interested === this.amInterested) return;
    this.amInterested = interested;
    this.send({ type: interested ? 'interested' : 'notInterested' });
  }

  /** Chokes or unchokes the peer; choking drops (or, under Fast, rejects) its queued requests. */
  setChoking(choking: boolean): void {
    if (choking === this.amChoking) return;
    this.amChoking = choking;
    this.send({ type: choking ? 'choke' : 'unchoke' });
    if (!choking) {
      this.unchokedAt = Date.now();
      return;
    }
    // BEP 6: requests for allowed-fast pieces survive a choke; the rest are rejected explicitly.
    const keep = this.incoming.filter((r) => this.fast && this.allowedForPeer.has(r.index));
    if (this.fast) for (const r of this.incoming) if (!this.allowedForPeer.has(r.index)) this.send({ type: 'rejectRequest', index: r.index, begin: r.begin, length: r.length });
    this.incoming.splice(0, this.incoming.length, ...keep);
  }

  /** We may ask for piece `index` now. */
  mayRequest(index: number): boolean {
    if (!(this.isSeed || this.bits.has(index)) || (this.peerChoking && !this.allowedFromPeer.has(index))) return false;
    const rejected = this.rejectedAt.get(index);
    if (rejected === undefined) return true;
    if (Date.now() - rejected < REJECT_REST_MS) return false;
    this.rejectedAt.delete(index);
    return true;
  }

  hasPiece(index: number): boolean {
    return this.isSeed || this.bits.has(index);
  }

  isOutstanding(ref: BlockRef): boolean {
    return this.outstanding.has(key(ref.index, ref.begin));
  }

  request(ref: BlockRef): void {
    this.outstanding.set(key(ref.index, ref.begin), { ref, sentAt: Date.now() });
    this.send({ type: 'request', index: ref.index, begin: ref.begin, length: ref.length });
  }

  /** Withdraws a request (endgame duplicate arrived elsewhere, or it timed out). */
  cancel(ref: BlockRef): void {
    const k = key(ref.index, ref.begin);
    if (!this.outstanding.delete(k)) return;
    this.cancelled.set(k, { count: (this.cancelled.get(k)?.count ?? 0) + 1, at: Date.now() });
    this.send({ type: 'cancel', index: ref.index, begin: ref.begin, length: ref.length });
  }

  /**
   * How many requests to keep in flight: enough to cover about three seconds at the rate this
   * peer delivers, at least a few, never more than the peer says it queues (`reqq`).
   */
  pipelineDepth(): number {
    if (this.snubbed) return 1;
    const byRate = Math.ceil((this.download.rate * 3) / BLOCK_LENGTH);
    const cap = Math.min(this.extensions?.reqq ?? 250, 500);
    return Math.min(cap, Math.max(16, byRate));
  }

  /** Handles one message from the peer; a WireError closes the connection with its reason. */
  handle(m: WireMessage): void {
    const first = !this.sawFirstMessage && m.type !== 'keepAlive' && m.type !== 'extended';
    if (first) this.sawFirstMessage = true;
    switch (m.type) {
      case 'keepAlive':
        return;
      case 'choke':
        return this.onChoke();
      case 'unchoke':
        this.peerChoking = false;
        return this.host.canRequest(this);
      case 'interested':
        this.peerInterested = true;
        return this.host.peerWants(this);
      case 'notInterested':
        this.peerInterested = false;
        return this.host.peerLostInterest(this);
      case 'have':
        this.checkIndex(m.index, 'have');
        if (!this.isSeed && this.bits.set(m.index)) this.host.peerHas(this, m.index);
        return;
      case 'bitfield':
        if (!first) throw new WireError('bitfield.late', 'bitfield sent after other messages');
        this.adoptBitfield(Bitfield.fromWire(m.bits, this.host.geometry.pieceCount));
        return;
      case 'haveAll':
        this.requireFast('have all');
        if (!first) throw new WireError('have-all.late', 'have all sent after other messages');
        this.isSeed = true;
        return this.host.peerHasAll(this);
      case 'haveNone':
        this.requireFast('have none');
        if (!first) throw new WireError('have-none.late', 'have none sent after other messages');
        return;
      case 'request':
        return this.onRequest(m);
      case 'piece':
        return this.receiveBlock(m.index, m.begin, m.block);
      case 'cancel':
        return this.onCancel(m);
      case 'port':
        // BEP 5: the peer's DHT node; meaningful only when both set the DHT bit.
        if (this.connection.negotiated.dht) this.host.peerDhtPort(this, m.port);
        return;
      case 'suggestPiece':
        this.requireFast('suggest piece');
        this.checkIndex(m.index, 'suggest piece');
        return; // advisory; rarest-first already spreads pieces
      case 'rejectRequest':
        return this.onReject(m);
      case 'allowedFast':
        this.requireFast('allowed fast');
        this.checkIndex(m.index, 'allowed fast');
        this.allowedFromPeer.add(m.index);
        if (this.peerChoking && this.hasPiece(m.index)) this.host.canRequest(this);
        return;
      case 'extended':
        return this.onExtended(m.extendedId, m.payload);
      case 'unknown':
        throw new WireError('message.unknown-id', `unknown message id ${m.id}`);
    }
  }

  private adoptBitfield(bits: Bitfield): void {
    if (bits.complete) {
      this.isSeed = true;
      return this.host.peerHasAll(this);
    }
    for (let i = 0; i < bits.length; i++) if (bits.has(i)) this.bits.set(i);
    this.host.peerBitfield(this);
  }

  private onChoke(): void {
    this.peerChoking = true;
    // Without Fast a choke drops every request. With Fast the peer rejects them one by one
    // (BEP 6), and requests for allowed-fast pieces may still be served.
    if (this.fast) return;
    const refs = [...this.outstanding.values()].map((o) => o.ref);
    this.outstanding.clear();
    if (refs.length) this.host.released(this, refs);
  }

  private onRequest(r: BlockRef): void {
    const g = this.host.geometry;
    if (!g.isValidRange(r.index, r.begin, r.length)) {
      throw new WireError('request.range', `request for ${r.length} bytes at ${r.begin} of piece ${r.index} lies outside the piece`);
    }
    if (r.length > MAX_REQUEST_LENGTH) throw new WireError('request.too-long', `request for ${r.length} bytes (limit ${MAX_REQUEST_LENGTH})`);
    const full = this.incoming.length >= MAX_INCOMING_REQUESTS;
    // Past our `reqq` a request is refused; a peer that keeps sending them anyway is flooding.
    if (full && ++this.overflow > MAX_INCOMING_REQUESTS) throw new WireError('request.flood', `${this.overflow} requests beyond the ${MAX_INCOMING_REQUESTS} we queue`);
    const allowedChoked = this.fast && this.allowedForPeer.has(r.index);
    const refuse = !this.host.mayServe(this, r.index) || (this.amChoking && !allowedChoked) || full;
    if (refuse) {
      // An honest peer's pipeline when we choke it is at most our `reqq`; a peer that keeps
      // asking while choked would have us queue a reject per request on a socket it need not read.
      if (!full && ++this.refusedInARow > MAX_INCOMING_REQUESTS) throw new WireError('request.flood', `${this.refusedInARow} refused requests in a row (choked or unservable)`);
      // BEP 6: with Fast every unserved request is answered with a reject; without it, dropped.
      if (this.fast) this.send({ type: 'rejectRequest', index: r.index, begin: r.begin, length: r.length });
      return;
    }
    this.refusedInARow = 0;
    this.incoming.push({ index: r.index, begin: r.begin, length: r.length });
    this.host.peerWants(this);
  }

  private onCancel(r: BlockRef): void {
    const at = this.incoming.findIndex((q) => q.index === r.index && q.begin === r.begin && q.length === r.length);
    if (at < 0) return; // already sent, or never asked: nothing to do
    this.incoming.splice(at, 1);
    // BEP 6: a cancelled request is answered with a reject (or the piece, if already sent).
    if (this.fast) this.send({ type: 'rejectRequest', index: r.index, begin: r.begin, length: r.length });
  }

  /** A block from the peer (`piece`, or BEP 30's `Tr_hashpiece`): only one we asked for counts. */
  receiveBlock(index: number, begin: number, data: Uint8Array): void {
    const k = key(index, begin);
    const request = this.outstanding.get(k);
    if (!request || request.ref.length !== data.length) {
      // A block we cancelled may still arrive; anything else was never asked for.
      if (this.answersCancel(k)) return;
      if (++this.unsolicited > MAX_UNSOLICITED) throw new WireError('piece.unsolicited', `${this.unsolicited} blocks we never requested`);
      return;
    }
    this.outstanding.delete(k);
    this.lastBlockAt = Date.now();
    this.snubbed = false;
    this.download.add(data.length);
    this.host.block(this, request.ref, data);
  }

  /** Whether a block or reject for key k answers a request we cancelled (and counts it answered). */
  private answersCancel(k: number): boolean {
    const c = this.cancelled.get(k);
    if (!c) return false;
    if (--c.count === 0) this.cancelled.delete(k);
    return true;
  }

  private onReject(r: BlockRef): void {
    this.requireFast('reject request');
    const k = key(r.index, r.begin);
    // The answer to our cancel (BEP 6) comes first, even when we have asked for the block again
    // since (streaming preemption re-asks in a new order): TCP keeps the order of the answers.
    if (this.answersCancel(k)) return;
    const request = this.outstanding.get(k);
    if (!request) throw new WireError('reject.unrequested', `reject for a request we never sent (piece ${r.index} at ${r.begin})`);
    this.outstanding.delete(k);
    // A rejected allowed-fast piece is not allowed after all (libtorrent does the same); any
    // rejected piece rests a while, or a peer that rejects everything would get re-asked at once.
    if (this.peerChoking) this.allowedFromPeer.delete(r.index);
    this.rejectedAt.set(r.index, Date.now());
    this.host.released(this, [request.ref]);
  }

  private onExtended(id: number, payload: Uint8Array): void {
    if (!this.extensionProtocol) throw new WireError('extended.not-negotiated', 'extended message without the BEP 10 bit in the handshake');
    if (id === 0) {
      const hs = decodeExtensionHandshake(payload);
      // A later handshake updates the earlier one (BEP 10 allows renegotiation).
      this.extensions = hs;
      return this.host.extensionHandshake(this);
    }
    const name = this.ourIds.get(id);
    if (name === undefined) return; // an extension we did not offer (or switched off): ignored
    this.host.extended(this, name, payload);
  }

  /** Cancels and returns requests past their timeout; forgets old cancellations. */
  expireRequests(now: number, timeoutMs: number): BlockRef[] {
    const expired: BlockRef[] = [];
    for (const o of this.outstanding.values()) {
      // A block is late when neither it nor anything else came from the peer for the timeout.
      if (now - Math.max(o.sentAt, this.lastBlockAt ?? 0) > timeoutMs) expired.push(o.ref);
    }
    for (const ref of expired) this.cancel(ref);
    if (expired.length) this.snubbed = true;
    for (const [k, c] of this.cancelled) if (now - c.at > CANCELLED_TTL_MS) this.cancelled.delete(k);
    return expired;
  }

  private requireFast(what: string): void {
    if (!this.fast) throw new WireError('fast.not-negotiated', `${what} without the Fast extension bit in the handshake`);
  }

  private checkIndex(index: number, what: string): void {
    if (index >= this.host.geometry.pieceCount) throw new WireError('piece.index', `${what} for piece ${index} of ${this.host.geometry.pieceCount}`);
  }
}
