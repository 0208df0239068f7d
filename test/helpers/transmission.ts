/**
 * A real Transmission 3.00 seed on 127.0.0.1 (transmission-daemon, driven over its JSON RPC),
 * for interop tests where our peer dials Transmission: Transmission never dials 127.x peers it
 * hears of, but accepts incoming ones, plaintext included.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Daemon, freePort, pollUntil } from './local-process.js';

export interface TransmissionSeedOptions {
  /** TCP port for incoming peers (default: a free one). */
  peerPort?: number;
  /**
   * MSE policy (default 'preferred'). Both 'preferred' and 'tolerated' accept a plaintext
   * incoming handshake; only 'required' refuses it.
   */
  encryption?: 'tolerated' | 'preferred' | 'required';
  /** How long to wait for the daemon plus the data check (default 30 s). */
  timeoutMs?: number;
}

export interface TransmissionSeed {
  /** Where Transmission listens for peers, on 127.0.0.1. */
  port: number;
  rpcPort: number;
  /** The torrent as Transmission reports it. */
  status(): Promise<TransmissionTorrent>;
  /** Kills the daemon and removes its config dir (not the data). */
  stop(): Promise<void>;
}

/** Fields of torrent-get the helper reads. */
export interface TransmissionTorrent {
  hashString: string;
  name: string;
  /** 0 stopped, 1 check queued, 2 checking, 3 download queued, 4 downloading, 5 seed queued, 6 seeding. */
  status: number;
  percentDone: number;
  leftUntilDone: number;
  recheckProgress: number;
  error: number;
  errorString: string;
  peersConnected: number;
  uploadedEver: number;
}

const FIELDS = ['hashString', 'name', 'status', 'percentDone', 'leftUntilDone', 'recheckProgress', 'error', 'errorString', 'peersConnected', 'uploadedEver'];
const SEEDING = 6;
const ENCRYPTION = { tolerated: 0, preferred: 1, required: 2 } as const;

/**
 * Seeds `torrentPath` from `dataDir` (the directory holding the torrent's file or top folder,
 * as a save path). Resolves once Transmission has checked the data and reports seeding at 100 %;
 * rejects if the data does not check out.
 */
export async function startTransmissionSeed(torrentPath: string, dataDir: string, opts: TransmissionSeedOptions = {}): Promise<TransmissionSeed> {
  const port = opts.peerPort ?? (await freePort());
  const rpcPort = await freePort();
  const timeoutMs = opts.timeoutMs ?? 30_000;
  const configDir = await mkdtemp(path.join(tmpdir(), 'transmission-'));
  const settings = {
    'bind-address-ipv4': '127.0.0.1',
    'bind-address-ipv6': '::1',
    'peer-port': port,
    'peer-port-random-on-start': false,
    'port-forwarding-enabled': false,
    'dht-enabled': false,
    'lpd-enabled': false,
    'pex-enabled': false,
    'utp-enabled': false, // every connection is plain TCP
    encryption: ENCRYPTION[opts.encryption ?? 'preferred'],
    'blocklist-enabled': false,
    'download-dir': dataDir,
    'incomplete-dir-enabled': false,
    'watch-dir-enabled': false,
    // Leave the seed's files exactly as they are.
    preallocation: 0,
    'rename-partial-files': false,
    'trash-original-torrent-files': false,
    // Nothing may stop the seed: no queues, no ratio or idle limit, no speed limit.
    'download-queue-enabled': false,
    'seed-queue-enabled': false,
    'queue-stalled-enabled': false,
    'ratio-limit-enabled': false,
    'idle-seeding-limit-enabled': false,
    'speed-limit-up-enabled': false,
    'alt-speed-enabled': false,
    'start-added-torrents': true,
    'rpc-enabled': true,
    'rpc-bind-address': '127.0.0.1',
    'rpc-port': rpcPort,
    'rpc-authentication-required': false,
    'rpc-whitelist-enabled': false,
    'rpc-host-whitelist-enabled': false,
    'message-level': 2,
  };
  await writeFile(path.join(configDir, 'settings.json'), JSON.stringify(settings, null, 2));
  // -f keeps it in the foreground (our child, so stop() can kill it); it logs to stderr.
  const daemon = new Daemon('transmission-daemon', ['-f', '-g', configDir]);
  const stop = async () => {
    await daemon.stop();
    await rm(configDir, { recursive: true, force: true });
  };

  // Transmission's RPC answers 409 with a session id that every later request must carry.
  const url = `http://127.0.0.1:${rpcPort}/transmission/rpc`;
  let sessionId = '';
  const rpc = async (method: string, args: object): Promise<Record<string, unknown>> => {
    for (let attempt = 0; attempt < 2; attempt++) {
      const res = await fetch(url, { method: 'POST', headers: { 'X-Transmission-Session-Id': sessionId }, body: JSON.stringify({ method, arguments: args }) });
      if (res.status === 409) {
        sessionId = res.headers.get('X-Transmission-Session-Id') ?? '';
        continue;
      }
      const body = (await res.json()) as { result: string; arguments: Record<string, unknown> };
      if (body.result !== 'success') throw new Error(`Transmission ${method}: ${body.result}`);
      return body.arguments;
    }
    throw new Error(`Transmission ${method}: no session id`);
  };

  try {
    const deadline = Date.now() + timeoutMs;
    await pollUntil(() => rpc('session-get', {}).catch(() => undefined), { what: 'Transmission RPC', timeoutMs, daemon });
    const metainfo = (await readFile(torrentPath)).toString('base64');
    const added = await rpc('torrent-add', { metainfo, 'download-dir': dataDir, paused: false });
    const torrent = (added['torrent-added'] ?? added['torrent-duplicate']) as { id: number };
    const status = async () => ((await rpc('torrent-get', { ids: [torrent.id], fields: FIELDS })).torrents as TransmissionTorrent[])[0]!;

    // A new torrent is checked against the data on disk before it starts. Checked and not
    // complete means the data is wrong: it would then start downloading, not seeding.
    let last: TransmissionTorrent | undefined;
    await pollUntil(
      async () => {
        last = await status();
        if (last.error !== 0) throw new Error(`Transmission torrent error ${last.error}: ${last.errorString}`);
        if (last.status === SEEDING && last.leftUntilDone === 0) return last;
        if (last.status === 3 || last.status === 4) throw new Error(`Transmission checked ${dataDir} and found it incomplete: ${JSON.stringify(last)}`);
        return undefined;
      },
      { what: 'Transmission seeding', timeoutMs: Math.max(1000, deadline - Date.now()), daemon, describe: () => JSON.stringify(last) },
    );
    return { port, rpcPort, status, stop };
  } catch (err) {
    const log = daemon.log;
    await stop();
    throw new Error(`${(err as Error).message}\n--- transmission-daemon log ---\n${log}`);
  }
}
