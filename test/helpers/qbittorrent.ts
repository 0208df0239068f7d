/**
 * A real qBittorrent-nox (Debian's 4.5) on 127.0.0.1, driven through its Web API, for interop
 * tests where it leeches from a peer we name: it gets no tracker, DHT, LSD or PeX, so the only
 * peers it ever meets are the ones given to `addPeer`.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseTorrent } from '../../shared/metainfo/index.js';
import { Daemon, freePort, pollUntil } from './local-process.js';

export interface QbtOptions {
  /** BitTorrent listen port (default: a free one). */
  listenPort?: number;
  /** Web API port (default: a free one). */
  webPort?: number;
  /**
   * MSE policy (default 'allow'). With 'allow', qBittorrent's first dial to a peer is encrypted;
   * when that fails (a plaintext-only peer drops it) it dials again in plaintext about 1 s
   * later. 'disable' dials plaintext at once; 'require' never speaks plaintext.
   */
  encryption?: 'allow' | 'require' | 'disable';
  /** How long to wait for the Web API to answer (default 20 s; it usually takes under 1 s). */
  startTimeoutMs?: number;
}

/** The fields of /api/v2/torrents/info the tests look at (it has more). */
export interface QbtTorrentInfo {
  hash: string;
  infohash_v1: string;
  infohash_v2: string;
  name: string;
  /** 0..1 of the wanted bytes, verified. */
  progress: number;
  /** e.g. checkingUP, metaDL, downloading, stalledDL, uploading, stalledUP, error, missingFiles. */
  state: string;
  dlspeed: number;
  upspeed: number;
  downloaded: number;
  size: number;
  amount_left: number;
  /** Connected seeds and leeches. */
  num_seeds: number;
  num_leechs: number;
  save_path: string;
}

export interface QbtInstance {
  readonly listenPort: number;
  readonly webPort: number;
  readonly profileDir: string;
  /** Adds a .torrent, started, saving under `savePath`; resolves with its v1 info-hash (hex) once qBittorrent lists it. */
  addTorrent(torrentBytes: Uint8Array, savePath: string): Promise<string>;
  /** Asks qBittorrent to dial `peer` ('ip:port', IPv6 as '[::1]:port'); remembered so `waitComplete` can dial again. */
  addPeer(infoHashHex: string, peer: string): Promise<void>;
  /** The torrent's status, or undefined when qBittorrent does not have it. */
  info(infoHashHex: string): Promise<QbtTorrentInfo | undefined>;
  /**
   * Resolves when progress is 1 (default timeout 60 s; the rejection carries the last status).
   * When for `redialMs` (default 5 s) no peer is connected and nothing arrives, the torrent is
   * removed (files kept) and added again with the peers given to `addPeer`, which makes
   * qBittorrent dial them at once; re-adding a peer alone would not.
   */
  waitComplete(infoHashHex: string, timeoutMs?: number, redialMs?: number): Promise<QbtTorrentInfo>;
  /** Kills qBittorrent and removes its profile (not the save paths). */
  stop(): Promise<void>;
}

const ENCRYPTION = { allow: 0, require: 1, disable: 2 } as const;

/**
 * The profile's qBittorrent.conf. Key names are those qBittorrent 4.5 itself writes when the
 * same preferences are set through the Web API; `checkPreferences` reads them back, so a key
 * that stops meaning anything fails loudly instead of silently leaving e.g. DHT on.
 */
function config(listenPort: number, webPort: number, encryption: number, savePath: string): string {
  return `[LegalNotice]
Accepted=true

[BitTorrent]
Session\\Port=${listenPort}
Session\\Interface=lo
Session\\InterfaceName=lo
Session\\InterfaceAddress=127.0.0.1
Session\\DHTEnabled=false
Session\\LSDEnabled=false
Session\\PeXEnabled=false
Session\\BTProtocol=TCP
Session\\Encryption=${encryption}
Session\\MultiConnectionsPerIp=true
Session\\QueueingSystemEnabled=false
Session\\IgnoreLimitsOnLAN=true
Session\\DefaultSavePath=${savePath}

[Network]
PortForwardingEnabled=false

[Preferences]
Connection\\ResolvePeerCountries=false
WebUI\\Address=127.0.0.1
WebUI\\Port=${webPort}
WebUI\\LocalHostAuth=false
WebUI\\CSRFProtection=false
WebUI\\HostHeaderValidation=false
WebUI\\UseUPnP=false
`;
}
// Why each matters on loopback:
// - LegalNotice: without it qbittorrent-nox asks on the terminal and waits.
// - Interface=lo / 127.0.0.1: listen and dial only on loopback.
// - BTProtocol=TCP: no uTP, so every connection is a plain TCP peer-wire connection.
// - Encryption: 0 "allow" (MSE first when dialling, plaintext accepted), 1 require, 2 disable.
// - MultiConnectionsPerIp: every peer here is 127.0.0.1; libtorrent otherwise keeps one per IP.
// - QueueingSystemEnabled=false: a queued torrent does not dial anyone.
// - LocalHostAuth=false: requests from 127.0.0.1 need no login (no cookie to carry around); the
//   CSRF and Host-header checks are off too, as nothing but the test talks to this Web API.

export async function startQbittorrent(opts: QbtOptions = {}): Promise<QbtInstance> {
  const listenPort = opts.listenPort ?? (await freePort());
  const webPort = opts.webPort ?? (await freePort());
  const encryption = ENCRYPTION[opts.encryption ?? 'allow'];
  const profileDir = await mkdtemp(path.join(tmpdir(), 'qbt-profile-'));
  const configDir = path.join(profileDir, 'qBittorrent', 'config');
  await mkdir(configDir, { recursive: true });
  await writeFile(path.join(configDir, 'qBittorrent.conf'), config(listenPort, webPort, encryption, path.join(profileDir, 'downloads')));

  const daemon = new Daemon('qbittorrent-nox', [`--profile=${profileDir}`]);
  const base = `http://127.0.0.1:${webPort}/api/v2`;
  const api = async (route: string, init?: RequestInit): Promise<Response> => {
    const res = await fetch(`${base}${route}`, init);
    if (!res.ok) throw new Error(`qBittorrent ${route}: HTTP ${res.status} ${await res.text()}`);
    return res;
  };
  const form = (fields: Record<string, string>) => ({ method: 'POST', body: new URLSearchParams(fields) });

  const stop = async () => {
    await daemon.stop();
    await rm(profileDir, { recursive: true, force: true });
  };
  try {
    await pollUntil(() => api('/app/version').then((r) => r.text(), () => undefined), {
      what: 'qBittorrent Web API',
      timeoutMs: opts.startTimeoutMs ?? 20_000,
      daemon,
    });
    await checkPreferences(api, listenPort, encryption);
  } catch (err) {
    await stop();
    throw err;
  }

  // Lists every torrent and matches either info-hash: for hybrid torrents qBittorrent's `hash`
  // (its torrent id) need not be the v1 hash.
  const info = async (infoHashHex: string): Promise<QbtTorrentInfo | undefined> => {
    const wanted = infoHashHex.toLowerCase();
    const all = (await (await api('/torrents/info')).json()) as QbtTorrentInfo[];
    return all.find((t) => t.hash === wanted || t.infohash_v1 === wanted || t.infohash_v2 === wanted);
  };
  const mustInfo = async (infoHashHex: string): Promise<QbtTorrentInfo> => {
    const t = await info(infoHashHex);
    if (!t) throw new Error(`qBittorrent has no torrent ${infoHashHex}`);
    return t;
  };
  /** What was added, by lower-case v1 info-hash, so that `redial` can add it all again. */
  const added = new Map<string, { bytes: Uint8Array; savePath: string; peers: Set<string> }>();

  const add = async (bytes: Uint8Array, savePath: string): Promise<string> => {
    const { infoHashHex } = await parseTorrent(bytes);
    const body = new FormData();
    body.append('torrents', new Blob([bytes], { type: 'application/x-bittorrent' }), 'added.torrent');
    body.append('savepath', savePath);
    body.append('autoTMM', 'false'); // else the category's path wins over savepath
    body.append('paused', 'false');
    const answer = await (await api('/torrents/add', { method: 'POST', body })).text();
    if (answer.trim() !== 'Ok.') throw new Error(`qBittorrent refused the torrent: ${answer}`);
    // The add is asynchronous: wait until it is listed, so addPeer finds it.
    await pollUntil(() => info(infoHashHex), { what: `qBittorrent listing ${infoHashHex}`, timeoutMs: 10_000, daemon });
    return infoHashHex;
  };
  const sendPeers = async (infoHashHex: string, peers: Iterable<string>) => {
    const t = await mustInfo(infoHashHex);
    await api('/torrents/addPeers', form({ hashes: t.hash, peers: [...peers].join('|') }));
  };
  // Adding a peer qBittorrent already knows does not make it dial again: libtorrent keeps the
  // peer with its failure count and waits out min_reconnect_time (60 s), through pause and
  // resume too. Removing the torrent (keeping its files) and adding it back forgets that.
  const redial = async (infoHashHex: string) => {
    const entry = added.get(infoHashHex.toLowerCase());
    if (!entry || entry.peers.size === 0) return;
    await api('/torrents/delete', form({ hashes: (await mustInfo(infoHashHex)).hash, deleteFiles: 'false' }));
    await pollUntil(async () => ((await info(infoHashHex)) ? undefined : true), { what: `qBittorrent removing ${infoHashHex}`, timeoutMs: 10_000, daemon });
    await add(entry.bytes, entry.savePath);
    await sendPeers(infoHashHex, entry.peers);
  };

  return {
    listenPort,
    webPort,
    profileDir,
    async addTorrent(torrentBytes, savePath) {
      const infoHashHex = await add(torrentBytes, savePath);
      added.set(infoHashHex, { bytes: torrentBytes, savePath, peers: new Set() });
      return infoHashHex;
    },
    async addPeer(infoHashHex, peer) {
      await sendPeers(infoHashHex, [peer]);
      added.get(infoHashHex.toLowerCase())?.peers.add(peer);
    },
    info,
    async waitComplete(infoHashHex, timeoutMs = 60_000, redialMs = 5000) {
      let last: QbtTorrentInfo | undefined;
      let lastActive = Date.now();
      return pollUntil(
        async () => {
          const previous = last;
          last = await mustInfo(infoHashHex);
          if (last.state === 'error' || last.state === 'missingFiles') throw new Error(`qBittorrent torrent ${last.state}: ${JSON.stringify(last)}`);
          if (last.progress === 1 && !last.state.startsWith('checking')) return last;
          const active = last.num_seeds + last.num_leechs > 0 || last.downloaded !== previous?.downloaded || last.state.startsWith('checking');
          if (active) lastActive = Date.now();
          else if (Date.now() - lastActive > redialMs) {
            await redial(infoHashHex);
            lastActive = Date.now();
          }
          return undefined;
        },
        { what: `qBittorrent completing ${infoHashHex}`, timeoutMs, intervalMs: 250, daemon, describe: () => JSON.stringify(last) },
      );
    },
    stop,
  };
}

/** Reads back the settings a loopback test depends on; a mismatch means the conf keys drifted. */
async function checkPreferences(api: (route: string) => Promise<Response>, listenPort: number, encryption: number): Promise<void> {
  const prefs = (await (await api('/app/preferences')).json()) as Record<string, unknown>;
  const expected: Record<string, unknown> = {
    listen_port: listenPort,
    current_network_interface: 'lo',
    current_interface_address: '127.0.0.1',
    dht: false,
    lsd: false,
    pex: false,
    upnp: false,
    bittorrent_protocol: 1,
    encryption,
    enable_multi_connections_from_same_ip: true,
    queueing_enabled: false,
    bypass_local_auth: true,
  };
  const wrong = Object.entries(expected).filter(([key, value]) => prefs[key] !== value);
  if (wrong.length > 0) {
    throw new Error(`qBittorrent ignored profile settings: ${wrong.map(([k, v]) => `${k}=${JSON.stringify(prefs[k])} (want ${JSON.stringify(v)})`).join(', ')}`);
  }
}
