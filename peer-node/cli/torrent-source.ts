import { readFile, stat } from 'node:fs/promises';
import { request } from 'undici';
import { readBounded } from '../http/read-bounded.js';
import { bytesEqual, toHex } from '../../shared/bytes.js';
import { MetainfoError, ProtocolError } from '../../shared/errors.js';
import { type MagnetLink, MAX_TORRENT_BYTES, parseMagnet, parseTorrent, type ParsedTorrent } from '../../shared/metainfo/index.js';
import type { PeerAddress } from '../../shared/compact/index.js';
import type { Client } from '../client.js';
import { CliError } from './args.js';
import { describeFileError, isNetworkError, networkReason } from './cli-errors.js';

/**
 * A torrent to download and any peers the source itself named (magnet `x.pe`); or a magnet
 * whose torrent must come from peers (BEP 9).
 */
export type LoadedSource = { torrent: ParsedTorrent; peers: PeerAddress[] } | { magnet: MagnetLink; peers: PeerAddress[] };

/**
 * The torrent of a loaded source, fetched from peers first for a bare magnet (BEP 9, through
 * the client), with the peers to dial: those the source named, or those that gave the metadata.
 * `say` announces the fetch, which may take a while.
 */
export async function torrentOf(source: LoadedSource, client: Client, say: (text: string) => void): Promise<{ torrent: ParsedTorrent; peers: PeerAddress[] }> {
  if ('torrent' in source) return source;
  say(`fetching the torrent of ${toHex(source.magnet.infoHash)} from peers (BEP 9)`);
  return client.fetchMetadata(source.magnet);
}

/**
 * Resolves what the user gave `download`: a .torrent path, an http(s) URL of one, or a magnet.
 * A magnet carries no file list: its metadata comes from `xs` (exact source, the URL of the
 * .torrent, which the edge serves at /t/HASH.torrent) and is checked against the
 * magnet's info-hash.
 */
export async function loadSource(source: string, options: { dht?: boolean } = {}): Promise<LoadedSource> {
  if (/^https?:\/\//i.test(source)) return { torrent: await fetchTorrent(source), peers: [] };
  if (source.startsWith('magnet:')) {
    const link = parseMagnet(source);
    const xs = new URL(source.replace(/^magnet:/, 'magnet://x/')).searchParams.getAll('xs').find((u) => /^https?:\/\//i.test(u));
    if (!xs) {
      if (link.trackers.length === 0 && link.peers.length === 0 && !options.dht) {
        throw new MetainfoError('magnet.no-source', `magnet ${toHex(link.infoHash)} names no tracker (tr=), peer (x.pe=) or .torrent URL (xs=), and the DHT is off: nowhere to find the torrent`);
      }
      return { magnet: link, peers: link.peers };
    }
    const torrent = await fetchTorrent(xs);
    if (!bytesEqual(torrent.infoHash, link.infoHash)) {
      throw new MetainfoError('magnet.mismatch', `the torrent at ${xs} has info-hash ${torrent.infoHashHex}, not the magnet's ${toHex(link.infoHash)}`);
    }
    // The magnet's trackers join as a further tier, except for a private torrent (BEP 27:
    // its own trackers only).
    const known = new Set(torrent.announceList.flat());
    const extra = link.trackers.filter((t) => !known.has(t));
    if (extra.length && !torrent.info.private) torrent.announceList = [...torrent.announceList, extra];
    return { torrent, peers: link.peers };
  }
  return { torrent: await readTorrentFile(source), peers: [] };
}

/**
 * A .torrent file from disk, with the CLI's one-line errors: a missing path, a folder, a file
 * far too large to be a torrent (content given by mistake), or bytes that are no torrent.
 */
export async function readTorrentFile(file: string): Promise<ParsedTorrent> {
  let bytes: Uint8Array;
  try {
    const info = await stat(file);
    if (info.isDirectory()) throw new CliError(`${file} is a folder, not a .torrent file (EISDIR): to make a torrent of it, run peer-node create ${file}`);
    const size = info.size;
    if (size > MAX_TORRENT_BYTES) {
      throw new CliError(`${file} is ${size} bytes, too large for a .torrent file (at most ${MAX_TORRENT_BYTES}): to make a torrent of it, run peer-node create ${file}`);
    }
    bytes = new Uint8Array(await readFile(file));
  } catch (err) {
    if (err instanceof CliError) throw err;
    throw new CliError(describeFileError(err, 'torrent file') ?? `cannot read the torrent file ${file}: ${(err as Error).message}`);
  }
  try {
    return await parseTorrent(bytes);
  } catch (err) {
    if (err instanceof ProtocolError) throw new CliError(`${file} is not a valid .torrent file: ${err.message}`);
    throw err;
  }
}

async function fetchTorrent(url: string): Promise<ParsedTorrent> {
  try {
    const response = await request(url, { headersTimeout: 15_000, bodyTimeout: 15_000 });
    if (response.statusCode !== 200) {
      await response.body.dump();
      throw new MetainfoError('http.status', `GET ${url} answered HTTP ${response.statusCode}: check the URL (the edge serves published torrents at /t/INFO-HASH.torrent)`);
    }
    const body = await readBounded(response.body, MAX_TORRENT_BYTES);
    if (!body) throw new MetainfoError('too-large', `${url} is larger than ${MAX_TORRENT_BYTES} bytes`);
    return await parseTorrent(body);
  } catch (err) {
    if (isNetworkError(err)) {
      throw new CliError(`cannot fetch the torrent at ${url} (${networkReason(err)}): check the URL, and that the server is running (the local edge: npm start)`);
    }
    if (err instanceof ProtocolError && !err.code.startsWith('metainfo.http.') && !err.code.startsWith('metainfo.too-large')) {
      throw new CliError(`${url} did not answer a valid .torrent file: ${err.message}`);
    }
    throw err;
  }
}

/** `--bootstrap`-style lists: HOST:PORT,HOST:PORT. */
export function parseAddressList(text: string | undefined): PeerAddress[] {
  return text ? text.split(',').map((b) => parsePeerArg(b.trim())) : [];
}

/** `--peer HOST:PORT` values (IPv6 in brackets). */
export function parsePeerArg(text: string): PeerAddress {
  const m = /^\[([0-9a-fA-F:.]+)\]:(\d+)$/.exec(text) ?? /^([^:[\]]+):(\d+)$/.exec(text);
  const port = m ? Number(m[2]) : NaN;
  if (!m || !(port >= 1 && port <= 65535)) throw new RangeError(`${JSON.stringify(text)}: expected HOST:PORT`);
  return { host: m[1]!, port };
}
