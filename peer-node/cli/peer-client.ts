import type { ClientOptions } from '../client.js';
import { parseRate } from './args.js';

/** The flags download, seed and stream share for the peer they run. */
export interface PeerFlags {
  host?: string | undefined;
  'no-dht'?: boolean | undefined;
  'no-lsd'?: boolean | undefined;
  'no-local-tracker'?: boolean | undefined;
  'upload-limit'?: string | undefined;
  'download-limit'?: string | undefined;
}

/** The Client options those flags say (rates checked here: a bad one is a usage error). */
export function peerClientOptions(flags: PeerFlags, port: number, dhtBootstrap: { host: string; port: number }[]): ClientOptions {
  return {
    ...(flags.host ? { host: flags.host } : {}),
    port,
    dht: !flags['no-dht'],
    ...(flags['no-lsd'] ? { lsd: false } : {}),
    ...(flags['no-local-tracker'] ? { localTrackerDiscovery: false } : {}),
    dhtBootstrap,
    ...(flags['upload-limit'] !== undefined ? { uploadRateLimit: parseRate(flags['upload-limit'], '--upload-limit') } : {}),
    ...(flags['download-limit'] !== undefined ? { downloadRateLimit: parseRate(flags['download-limit'], '--download-limit') } : {}),
  };
}
