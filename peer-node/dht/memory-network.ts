import type { DhtTransport, Endpoint } from './transport.js';

/**
 * An in-memory datagram network for simulating DHTs larger than one machine's sockets allow
 * (bench/dht-lookup.ts runs 10,000 nodes on it). Datagrams are copied and delivered after
 * `latencyMs` (on the next turn of the event loop when 0); addresses marked dead drop every
 * datagram to or from them without a word, as a crashed host behind a firewall does.
 */
export class MemoryNetwork {
  private readonly endpoints = new Map<string, MemoryTransport>();
  private readonly dead = new Set<string>();
  /** Datagrams the network dropped (to or from a dead or unknown address). */
  dropped = 0;

  /** One-way delay of each datagram; may change while the network runs. */
  constructor(public latencyMs = 0) {}

  transport(): MemoryTransport {
    return new MemoryTransport(this);
  }

  /** From now on the address neither receives nor sends anything. */
  kill(address: Endpoint): void {
    this.dead.add(key(address));
  }

  register(at: Endpoint, transport: MemoryTransport): void {
    if (this.endpoints.has(key(at))) throw new Error(`address in use: ${key(at)}`);
    this.endpoints.set(key(at), transport);
  }

  unregister(at: Endpoint): void {
    this.endpoints.delete(key(at));
  }

  freePort(host: string): number {
    for (let port = 10_000; port < 65_536; port++) if (!this.endpoints.has(`${host}:${port}`)) return port;
    throw new Error(`no free port on ${host}`);
  }

  deliver(bytes: Uint8Array, from: Endpoint, to: Endpoint): void {
    const target = this.endpoints.get(key(to));
    if (!target || this.dead.has(key(from)) || this.dead.has(key(to))) {
      this.dropped++;
      return;
    }
    const copy = Uint8Array.from(bytes);
    const sender = { address: from.address, port: from.port };
    if (this.latencyMs > 0) setTimeout(() => target.receive(copy, sender), this.latencyMs);
    else setImmediate(() => target.receive(copy, sender));
  }
}

function key(e: Endpoint): string {
  return `${e.address}:${e.port}`;
}

export class MemoryTransport implements DhtTransport {
  private at?: Endpoint;
  private handler?: (bytes: Uint8Array, from: Endpoint) => void;

  constructor(private readonly network: MemoryNetwork) {}

  async bind(port: number, host: string): Promise<number> {
    const at = { address: host, port: port || this.network.freePort(host) };
    this.network.register(at, this);
    this.at = at;
    return at.port;
  }

  send(bytes: Uint8Array, to: Endpoint): void {
    if (this.at) this.network.deliver(bytes, this.at, to);
  }

  onMessage(handler: (bytes: Uint8Array, from: Endpoint) => void): void {
    this.handler = handler;
  }

  onError(): void {
    // Nothing fails in memory.
  }

  receive(bytes: Uint8Array, from: Endpoint): void {
    if (this.at) this.handler?.(bytes, from);
  }

  close(): void {
    if (this.at) this.network.unregister(this.at);
    this.at = undefined;
  }
}
