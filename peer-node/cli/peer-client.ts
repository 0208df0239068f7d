import { isIP } from 'node:net';
import type { ClientOptions } from '../client.js';
import { parseRate, UsageError } from './args.js';

/** The flags download, seed and stream share for the peer they run. */
export interface PeerFlags {
  host?: string | undefined;
  'no-dht'?: boolean | undefined;
  'no-lsd'?: boolean | undefined;
  'no-local-tracker'?: boolean | undefined;
  'dns-server'?: string | undefined;
  'upload-limit'?: string | undefined;
  'download-limit'?: string | undefined;
}

/**
 * `--dns-server` / PEER_NODE_DNS_SERVER: the DNS servers BEP 22 local tracker discovery asks (its
 * PTR, SRV and A/AAAA questions), as node's Resolver takes them: `IP`, `IPv4:PORT` or
 * `[IPv6]:PORT`, comma-separated. Only addresses: a server named by a host name would itself
 * need the DNS. A bad entry is a usage error naming `flag`.
 */
export function parseDnsServers(text: string, flag: string): string[] {
  const servers = text.split(',').map((s) => s.trim());
  for (const server of servers) {
    if (!dnsServerOk(server)) throw new UsageError(`${flag}: ${JSON.stringify(server)}: expected IP, IPv4:PORT or [IPv6]:PORT (comma-separated)`);
  }
  return servers;
}

function dnsServerOk(server: string): boolean {
  const withPort = /^\[([^\]]+)\]:(\d{1,5})$/.exec(server) ?? /^([^:[\]]+):(\d{1,5})$/.exec(server);
  if (!withPort) return isIP(server) !== 0; // a bare IPv4 or IPv6 address: port 53
  const port = Number(withPort[2]);
  return isIP(withPort[1]!) === (server.startsWith('[') ? 6 : 4) && port >= 1 && port <= 65535;
}

/** The Client options those flags say (rates and DNS servers checked here: a bad one is a usage error). */
export function peerClientOptions(flags: PeerFlags, port: number, dhtBootstrap: { host: string; port: number }[]): ClientOptions {
  return {
    ...(flags.host ? { host: flags.host } : {}),
    port,
    dht: !flags['no-dht'],
    ...(flags['no-lsd'] ? { lsd: false } : {}),
    ...(flags['no-local-tracker']
      ? { localTrackerDiscovery: false }
      : flags['dns-server'] !== undefined
        ? { localTrackerDiscovery: { resolver: parseDnsServers(flags['dns-server'], '--dns-server') } }
        : {}),
    dhtBootstrap,
    ...(flags['upload-limit'] !== undefined ? { uploadRateLimit: parseRate(flags['upload-limit'], '--upload-limit') } : {}),
    ...(flags['download-limit'] !== undefined ? { downloadRateLimit: parseRate(flags['download-limit'], '--download-limit') } : {}),
  };
}
