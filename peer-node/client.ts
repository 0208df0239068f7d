import { EventEmitter } from 'node:events';
import net from 'node:net';
import { toHex } from '../shared/bytes.js';
import type { MagnetLink } from '../shared/metainfo/magnet.js';
import { type ParsedTorrent, torrentFromInfoBytes } from '../shared/metainfo/torrent-file.js';
import { MetadataFetcher } from './engine/metadata-fetcher.js';
import { DhtNode } from './dht/dht-node.js';
import { LocalDiscovery, lsdOptionsFor, type LsdOptions } from './lsd/local-discovery.js';
import { generatePeerId } from '../shared/peer-id.js';
import type { Capabilities } from '../shared/wire/handshake.js';
import { Torrent, type TorrentOptions } from './engine/torrent.js';
import { UdpTrackerClient } from './tracker/udp-tracker-client.js';
import { LocalTrackerDiscovery, type LocalTrackerDiscoveryOptions } from './tracker/local-tracker-discovery.js';
import { PeerConnection } from './wire/peer-connection.js';
import { Agent } from 'undici';
import { RateLimiter } from './engine/rate-limiter.js';

export interface ClientOptions {
  /** TCP port to listen on (0: any free port). Default 6881, the BitTorrent convention. */
  port?: number;
  /** Address to listen on (default every interface). */
  host?: string;
  peerId?: Uint8Array;
  /** Mainline DHT (BEP 5) on the same port number over UDP. Default on. */
  dht?: boolean;
  /** DHT nodes to start from (a node of the swarm, or a well-known router). */
  dhtBootstrap?: { host: string; port: number }[];
  /**
   * BEP 14 local service discovery (multicast on the LAN; never for private torrents). Default:
   * on when listening on every interface, off with a specific `host` (see lsdOptionsFor).
   */
  lsd?: boolean | LsdOptions;
  /**
   * BEP 22 local tracker discovery: the tracker our address's PTR name leads to (by SRV) is
   * announced to besides each public torrent's own. Default on, for public addresses only;
   * `false` turns it off; options set the DNS servers and limits (tracker/local-tracker-discovery.ts).
   */
  localTrackerDiscovery?: boolean | LocalTrackerDiscoveryOptions;
  /** Incoming connections allowed before the handshake names a torrent. */
  maxHalfOpenIncoming?: number;
  /** Upload cap in bytes a second over all torrents and peers (default none). */
  uploadRateLimit?: number;
  /** Download cap in bytes a second over all torrents, peers and web seeds (default none). */
  downloadRateLimit?: number;
}

export const CLIENT_NAME = 'peer-node 0.1';

/**
 * The embeddable BitTorrent client: one listening socket and one peer id shared by every
 * torrent it runs. Incoming connections are routed by the info-hash in their handshake.
 *
 *   const client = new Client({ port: 0 });
 *   await client.listen();
 *   const torrent = await client.add(parsed, { dir: './downloads' });
 *   torrent.on('done', () => console.log('complete'));
 *
 * Events: `torrent` (Torrent added), `warning` (text).
 */
export class Client extends EventEmitter {
  readonly peerId: Uint8Array;
  readonly capabilities: Capabilities;
  readonly torrents = new Map<string, Torrent>();
  private server?: net.Server;
  private readonly udp = new UdpTrackerClient();
  /** BEP 22 local tracker discovery, shared by every torrent; undefined when turned off. */
  readonly localTracker?: LocalTrackerDiscovery;
  /** Our DHT node (BEP 5), once listening, unless switched off. */
  dht?: DhtNode;
  /** Our BEP 14 local service discovery, once listening, when on. */
  lsd?: LocalDiscovery;
  private listenPort = 0;
  private incomingHalfOpen = 0;
  private readonly fetchers = new Set<MetadataFetcher>();
  /** Every accepted socket, so that close() does not wait on a peer that never hangs up. */
  private readonly accepted = new Set<net.Socket>();
  /** Keep-alive HTTP connections for web seeds, a few per server. */
  private readonly http = new Agent({ keepAliveTimeout: 30_000, connections: 8 });
  private readonly uploadLimiter?: RateLimiter;
  private readonly downloadLimiter?: RateLimiter;

  constructor(private readonly options: ClientOptions = {}) {
    super();
    this.peerId = options.peerId ?? generatePeerId();
    // BEP 5: the DHT bit says a node runs here (its port follows in a PORT message).
    this.capabilities = { extensionProtocol: true, fast: true, dht: options.dht !== false };
    if (options.uploadRateLimit !== undefined) this.uploadLimiter = new RateLimiter(options.uploadRateLimit);
    if (options.downloadRateLimit !== undefined) this.downloadLimiter = new RateLimiter(options.downloadRateLimit);
    const discovery = options.localTrackerDiscovery;
    if (discovery !== false && (discovery === undefined || discovery === true || discovery.enabled !== false)) {
      this.localTracker = new LocalTrackerDiscovery(typeof discovery === 'object' ? discovery : {});
      this.localTracker.on('warning', (text: string) => this.emit('warning', text));
    }
  }

  get port(): number {
    return this.listenPort;
  }

  /** Starts listening for peers; resolves with the port. */
  async listen(): Promise<number> {
    if (this.server) return this.listenPort;
    const server = net.createServer((socket) => this.onIncoming(socket));
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.options.port ?? 6881, this.options.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    server.on('error', (err) => this.emit('warning', `listen socket: ${err.message}`));
    this.listenPort = (server.address() as net.AddressInfo).port;
    if (this.options.dht !== false) {
      const dht = new DhtNode({ port: this.listenPort, ...(this.options.host ? { host: this.options.host } : {}) });
      dht.on('warning', (text: string) => this.emit('warning', text));
      await dht.listen();
      this.dht = dht;
      if (this.options.dhtBootstrap?.length) await dht.bootstrap(this.options.dhtBootstrap);
    }
    const lsdOptions = lsdOptionsFor(this.options.host, this.options.lsd);
    if (lsdOptions) {
      const lsd = new LocalDiscovery(
        () => this.listenPort,
        (infoHashHex) => {
          const torrent = this.torrents.get(infoHashHex);
          return torrent && { private: torrent.metainfo.info.private === true, addPeers: (peers) => torrent.addPeers(peers, 'lsd') };
        },
        lsdOptions,
      );
      lsd.on('warning', (text: string) => this.emit('warning', text));
      // A network without multicast (no route, a firewall) leaves the client working without LSD.
      await lsd.start().then(() => (this.lsd = lsd), (err: Error) => this.emit('warning', err.message));
    }
    return this.listenPort;
  }

  /** Adds a torrent, checks what of it is on disk, and starts it. */
  async add(metainfo: ParsedTorrent, options: TorrentOptions): Promise<Torrent> {
    if (this.torrents.has(metainfo.infoHashHex)) throw new Error(`torrent ${metainfo.infoHashHex} is already added`);
    const torrent = new Torrent(
      metainfo,
      {
        connection: { peerId: this.peerId, capabilities: this.capabilities, ...(this.downloadLimiter ? { downloadLimiter: this.downloadLimiter } : {}) },
        port: () => this.listenPort,
        udp: this.udp,
        clientName: CLIENT_NAME,
        ...(this.dht ? { dht: this.dht } : {}),
        ...(this.lsd ? { lsd: this.lsd } : {}),
        http: this.http,
        ...(this.localTracker ? { localTracker: this.localTracker } : {}),
        ...(this.uploadLimiter ? { uploadLimiter: this.uploadLimiter } : {}),
        ...(this.downloadLimiter ? { downloadLimiter: this.downloadLimiter } : {}),
      },
      options,
    );
    this.torrents.set(metainfo.infoHashHex, torrent);
    this.emit('torrent', torrent);
    try {
      await torrent.start();
    } catch (err) {
      // A torrent that cannot start (unreadable folder) must not linger half-registered.
      this.torrents.delete(metainfo.infoHashHex);
      await torrent.stop().catch(() => undefined);
      throw err;
    }
    return torrent;
  }

  /**
   * Gets a magnet's torrent from peers (BEP 9): from the magnet's `x.pe` addresses and the peers
   * its trackers return. The result carries the magnet's trackers (each its own tier) and web
   * seeds; `peers` are the ones that answered, to dial first.
   */
  async fetchMetadata(link: MagnetLink, timeoutMs = 120_000): Promise<{ torrent: ParsedTorrent; peers: { host: string; port: number }[] }> {
    const fetcher = new MetadataFetcher(
      link.infoHash,
      { peerId: this.peerId, capabilities: this.capabilities },
      () => this.listenPort,
      this.udp,
      link.trackers.map((t) => [t]),
      CLIENT_NAME,
      this.dht,
    );
    fetcher.on('warning', (text: string) => this.emit('warning', text));
    this.fetchers.add(fetcher);
    try {
      const { infoBytes, peers } = await fetcher.fetch(link.peers, timeoutMs);
      const torrent = await torrentFromInfoBytes(infoBytes, link.infoHash, { announceList: link.trackers.map((t) => [t]), urlList: link.webSeeds });
      // BEP 27: a private torrent's peers come from its tracker only, not from the magnet.
      return { torrent, peers: torrent.info.private ? [] : [...peers, ...link.peers] };
    } finally {
      this.fetchers.delete(fetcher);
    }
  }

  async remove(infoHashHex: string): Promise<void> {
    const torrent = this.torrents.get(infoHashHex);
    if (!torrent) return;
    this.torrents.delete(infoHashHex);
    await torrent.stop();
  }

  /** Stops every torrent (telling trackers) and the listener. */
  async close(): Promise<void> {
    for (const f of this.fetchers) f.cancel();
    await Promise.all([...this.torrents.keys()].map((h) => this.remove(h)));
    this.udp.close();
    this.dht?.close();
    this.localTracker?.close();
    this.lsd?.close();
    const server = this.server;
    this.server = undefined;
    for (const socket of this.accepted) socket.destroy();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
    await this.http.destroy();
  }

  private onIncoming(socket: net.Socket): void {
    if (this.incomingHalfOpen >= (this.options.maxHalfOpenIncoming ?? 50)) {
      socket.destroy();
      return;
    }
    this.incomingHalfOpen++;
    this.accepted.add(socket);
    socket.once('close', () => this.accepted.delete(socket));
    const connection = PeerConnection.accept(socket, (infoHash) => this.torrents.has(toHex(infoHash)), {
      peerId: this.peerId,
      capabilities: this.capabilities,
      ...(this.downloadLimiter ? { downloadLimiter: this.downloadLimiter } : {}),
    });
    let counted = true;
    const settle = () => {
      if (counted) this.incomingHalfOpen--;
      counted = false;
    };
    connection.once('close', settle);
    connection.once('handshake', () => {
      settle();
      const torrent = this.torrents.get(toHex(connection.remote!.infoHash));
      if (torrent) torrent.attach(connection);
      else connection.close('the torrent was removed');
    });
  }
}
