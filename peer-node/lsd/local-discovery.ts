import { randomBytes } from 'node:crypto';
import { createSocket, type Socket } from 'node:dgram';
import { EventEmitter } from 'node:events';
import { isIPv4, isIPv6 } from 'node:net';
import { LSD_GROUP_V4, LSD_GROUP_V6, LSD_PORT, lsdHost, packBtSearch } from '../../shared/lsd/bt-search.js';
import { type LsdIgnoreReason, LsdInbox, type LsdInboxOptions, type LsdTarget } from './lsd-inbox.js';

export interface LsdOptions {
  /** UDP port of the groups (default 6771, BEP 14). Tests use another so as not to meet a real LAN. */
  port?: number;
  /** IPv4 group (default 239.192.152.143); false: none. */
  groupV4?: string | false;
  /** IPv6 group (default ff15::efc0:988f); false: none. */
  groupV6?: string | false;
  /**
   * IPv4 address of the interface to join and send on (default the system's choice). `127.0.0.1`
   * works without the loopback device's MULTICAST flag (Linux), so peers on one machine meet.
   */
  interface?: string;
  /** IP_MULTICAST_TTL (default 1: this link only). BEP 14 notes its groups' scope is wider than a LAN; raise it to cross routers. */
  ttl?: number;
  /** BEP 14: each torrent is announced every 5 minutes (default 300 000 ms). */
  announceIntervalMs?: number;
  /** BEP 14: "no more than 1 announce per minute" (default 60 000 ms): one datagram per group per gap. */
  minAnnounceGapMs?: number;
  inbox?: LsdInboxOptions;
}

export interface LsdStats {
  /** Datagrams sent (one per group per announce). */
  sent: number;
  sendErrors: number;
  received: number;
  /** Peers handed to torrents. */
  peersFound: number;
  pendingPeers: number;
  ignored: Record<LsdIgnoreReason, number>;
  lastGarbage?: string;
}

interface Group {
  socket: Socket;
  address: string;
  host: string;
}

/**
 * BEP 14 local service discovery for a client: one UDP socket per group, bound to the group's
 * port with SO_REUSEADDR (every client on the machine shares it) and joined to the group with
 * multicast loopback on, so two clients on one machine hear each other. Torrents `join` (never a
 * private one: the torrent decides, as for the DHT) and are announced every 5 minutes, several
 * in one datagram, no datagram sooner than a minute after the last. What arrives goes through the
 * LsdInbox rules to the torrent `lookup` finds. Events: `warning` (text).
 */
export class LocalDiscovery extends EventEmitter {
  /** BEP 14's cookie: random per client, so that our own announces are recognised. */
  readonly cookie = randomBytes(8).toString('hex');
  private readonly inbox: LsdInbox;
  private readonly groups: Group[] = [];
  /** infohash hex -> when it was last announced (0: never). */
  private readonly joined = new Map<string, number>();
  private lastSend = -Infinity;
  private timer?: NodeJS.Timeout;
  private sent = 0;
  private sendErrors = 0;
  private closed = false;
  private readonly options: Required<Omit<LsdOptions, 'interface' | 'inbox'>> & Pick<LsdOptions, 'interface'>;

  constructor(
    /** Our BitTorrent listen port, for the Port header. */
    private readonly listenPort: () => number,
    lookup: (infoHashHex: string) => LsdTarget | undefined,
    options: LsdOptions = {},
  ) {
    super();
    this.options = { port: LSD_PORT, groupV4: LSD_GROUP_V4, groupV6: LSD_GROUP_V6, ttl: 1, announceIntervalMs: 5 * 60_000, minAnnounceGapMs: 60_000, ...options };
    this.inbox = new LsdInbox(this.cookie, lookup, options.inbox);
  }

  /** Binds and joins each group; a group that fails is a warning. Throws when none works. */
  async start(): Promise<void> {
    const { groupV4, groupV6 } = this.options;
    const errors: string[] = [];
    for (const [type, address] of [['udp4', groupV4], ['udp6', groupV6]] as const) {
      if (address === false) continue;
      try {
        this.groups.push(await this.open(type, address));
      } catch (err) {
        errors.push(`${address}: ${(err as Error).message}`);
      }
    }
    for (const e of errors) this.emit('warning', `local service discovery: ${e}`);
    if (this.groups.length === 0) throw new Error(`local service discovery: no group joined (${errors.join('; ') || 'none configured'})`);
  }

  private async open(type: 'udp4' | 'udp6', address: string): Promise<Group> {
    // SO_REUSEADDR: every client on the machine binds the same port and each gets every datagram.
    const socket = createSocket({ type, reuseAddr: true, ...(type === 'udp6' ? { ipv6Only: true } : {}) });
    try {
      await new Promise<void>((resolve, reject) => {
        socket.once('error', reject);
        socket.bind(this.options.port, type === 'udp4' ? '0.0.0.0' : '::', () => {
          socket.off('error', reject);
          resolve();
        });
      });
      const iface = type === 'udp4' ? this.options.interface : undefined;
      socket.addMembership(address, iface);
      if (iface) socket.setMulticastInterface(iface);
      socket.setMulticastLoopback(true); // other clients on this machine must hear us (we drop our own by cookie)
      socket.setMulticastTTL(this.options.ttl);
    } catch (err) {
      socket.close();
      throw err;
    }
    socket.on('message', (msg, rinfo) => this.inbox.receive(new Uint8Array(msg.buffer, msg.byteOffset, msg.length), rinfo));
    socket.on('error', (err) => this.emit('warning', `local service discovery socket: ${err.message}`));
    return { socket, address, host: lsdHost(address, this.options.port) };
  }

  /** A torrent to announce (the caller keeps private torrents out: BEP 27). */
  join(infoHashHex: string): void {
    if (this.closed || this.joined.has(infoHashHex)) return;
    this.joined.set(infoHashHex, 0);
    // The timer may be set for the others' next round, minutes away: a newcomer is due now.
    clearTimeout(this.timer);
    this.timer = undefined;
    this.schedule();
  }

  leave(infoHashHex: string): void {
    this.joined.delete(infoHashHex);
  }

  stats(): LsdStats {
    const inbox = this.inbox;
    return {
      sent: this.sent,
      sendErrors: this.sendErrors,
      received: inbox.received,
      peersFound: inbox.peersFound,
      pendingPeers: inbox.pendingPeers,
      ignored: { ...inbox.ignored },
      ...(inbox.lastGarbage ? { lastGarbage: inbox.lastGarbage } : {}),
    };
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.timer);
    for (const g of this.groups) g.socket.close();
    this.groups.length = 0;
  }

  /** Sets the timer for the next datagram: when a torrent is due, but not before the gap ends. */
  private schedule(): void {
    if (this.closed || this.timer || this.joined.size === 0) return;
    const { announceIntervalMs, minAnnounceGapMs } = this.options;
    const nextDue = Math.min(...[...this.joined.values()].map((at) => (at === 0 ? 0 : at + announceIntervalMs)));
    // A torrent joining now waits a few ms, so that torrents started together share one datagram.
    const wait = Math.max(nextDue - Date.now(), this.lastSend + minAnnounceGapMs - Date.now(), 10);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.announceDue();
      this.schedule();
    }, wait);
    this.timer.unref();
  }

  /** One datagram per group, carrying the torrents due, the longest-waiting first. */
  private announceDue(): void {
    const now = Date.now();
    const port = this.listenPort();
    const due = [...this.joined].filter(([, at]) => at === 0 || now - at >= this.options.announceIntervalMs).sort((a, b) => a[1] - b[1]).map(([h]) => h);
    if (due.length === 0) return;
    if (this.groups.length === 0 || port <= 0) {
      this.lastSend = now; // nothing to send with yet: try again after a gap, not in a tight loop
      return;
    }
    let taken = due.length;
    for (const g of this.groups) {
      const packed = packBtSearch({ host: g.host, port, cookie: this.cookie }, due);
      taken = Math.min(taken, packed.taken);
      g.socket.send(packed.datagram, this.options.port, g.address, (err) => {
        if (!err) return;
        this.sendErrors++;
        this.emit('warning', `local service discovery: sending to ${g.host}: ${err.message}`);
      });
      this.sent++;
    }
    for (const h of due.slice(0, taken)) this.joined.set(h, now);
    this.lastSend = now;
  }
}

/**
 * The LSD settings for a client listening on `host`, or undefined for none. Default: on when it
 * listens on every interface, off with a specific address (tests on 127.0.0.1, a loopback-only
 * service). BEP 14 has peers dial the announce's source address, which the kernel picks, so a
 * client bound to one address must send from that address's interface: an IPv4 host becomes the
 * interface and only the IPv4 group is used (an IPv6 host: only the IPv6 group).
 */
export function lsdOptionsFor(host: string | undefined, setting: boolean | LsdOptions | undefined): LsdOptions | undefined {
  if (setting === false) return undefined;
  const everyInterface = host === undefined || host === '' || host === '0.0.0.0' || host === '::';
  if (setting === undefined && !everyInterface) return undefined;
  const options = typeof setting === 'object' ? setting : {};
  if (!everyInterface && isIPv4(host!)) return { groupV6: false, interface: host!, ...options };
  if (!everyInterface && isIPv6(host!)) return { groupV4: false, ...options };
  return options;
}
