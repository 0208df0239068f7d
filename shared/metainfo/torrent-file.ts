import { MetainfoError, ProtocolError } from '../errors.js';
import { type BValue, DictReader, decodePrefix, isBytes, isDict, isList } from '../bencode/index.js';
import { fromUtf8, toHex } from '../bytes.js';
import { sha1 } from '../sha1.js';
import { type InfoDict, readInfoDict } from './info-dict.js';

/** Largest .torrent file we parse (a 10 GiB torrent with 16 KiB pieces has ~13 MB of hashes). */
export const MAX_TORRENT_BYTES = 16 * 1024 * 1024;

/** A parsed .torrent file. */
export interface Metainfo {
  info: InfoDict;
  /** The info dictionary exactly as it was in the file; the info-hash is over these bytes. */
  infoBytes: Uint8Array;
  announce?: string;
  /** BEP 12 tiers; when absent in the file, `[[announce]]` if there is an announce. */
  announceList: string[][];
  /** BEP 19 GetRight-style web seeds. */
  urlList: string[];
  /** BEP 17 Hoffman-style HTTP seeds. */
  httpSeeds: string[];
  /** BEP 5 DHT bootstrap nodes for trackerless torrents. */
  nodes: { host: string; port: number }[];
  comment?: string;
  createdBy?: string;
  creationDate?: number;
}

/** A Metainfo with its info-hash. */
export interface ParsedTorrent extends Metainfo {
  infoHash: Uint8Array;
  infoHashHex: string;
}

const fail = (code: string, message: string) => new MetainfoError(code, message);

/** Parses and validates a .torrent file and computes its info-hash (SHA-1 of the raw info bytes). */
export async function parseTorrent(bytes: Uint8Array): Promise<ParsedTorrent> {
  const metainfo = readTorrent(bytes);
  const infoHash = await sha1(metainfo.infoBytes);
  return { ...metainfo, infoHash, infoHashHex: toHex(infoHash) };
}

/**
 * Parses and validates a .torrent file without hashing it. Throws BencodeError for malformed
 * bencode and MetainfoError for a well-formed file that breaks the metainfo rules.
 */
export function readTorrent(bytes: Uint8Array): Metainfo {
  // Lenient key order: real torrents are not all canonical, and the info-hash is taken over
  // the bytes as received, so nothing depends on re-encoding.
  const { value, end, spans } = decodePrefix(bytes, { maxBytes: MAX_TORRENT_BYTES });
  if (end !== bytes.length) throw new MetainfoError('trailing-bytes', `${bytes.length - end} bytes after the torrent dictionary`);
  if (!isDict(value)) throw new MetainfoError('not-a-dict', 'a .torrent file must be a bencoded dictionary');
  const top = new DictReader(value, fail);
  const infoDict = top.get('info');
  const span = spans.get('info');
  if (infoDict === undefined || span === undefined) throw top.missing('info');
  if (!isDict(infoDict)) throw new MetainfoError('bad-field', 'info: expected a dictionary');
  const info = readInfoDict(infoDict);

  const announce = optUrl(top, 'announce');
  const announceList = readAnnounceList(top.get('announce-list'));
  const result: Metainfo = {
    info,
    infoBytes: bytes.slice(span[0], span[1]),
    announceList: announceList.length > 0 ? announceList : announce !== undefined ? [[announce]] : [],
    urlList: readUrlList(top.get('url-list'), 'url-list'),
    httpSeeds: readUrlList(top.get('httpseeds'), 'httpseeds'),
    nodes: readNodes(top.get('nodes')),
  };
  if (announce !== undefined) result.announce = announce;
  const comment = lenientText(top, 'comment');
  if (comment !== undefined) result.comment = comment;
  const createdBy = lenientText(top, 'created by');
  if (createdBy !== undefined) result.createdBy = createdBy;
  const creationDate = top.get('creation date');
  if (typeof creationDate === 'number') result.creationDate = creationDate;
  return result;
}

function optUrl(top: DictReader, key: string): string | undefined {
  const url = top.optText(key);
  return url === undefined || url.length === 0 ? undefined : url;
}

/** Free-text fields are advisory: a broken one is dropped rather than failing the torrent. */
function lenientText(top: DictReader, key: string): string | undefined {
  try {
    return top.optText(key);
  } catch (err) {
    if (err instanceof ProtocolError) return undefined;
    throw err;
  }
}

/** BEP 12: a list of tiers, each a list of tracker URLs; empty tiers are dropped. */
function readAnnounceList(value: BValue | undefined): string[][] {
  if (value === undefined) return [];
  if (!isList(value)) throw new MetainfoError('bad-field', 'announce-list: expected a list of tiers');
  const tiers: string[][] = [];
  value.forEach((tier, i) => {
    // Some creators write a flat list of URLs; each one is then its own tier.
    const entries = isBytes(tier) ? [tier] : tier;
    if (!isList(entries)) throw new MetainfoError('bad-field', `announce-list[${i}]: expected a list of URLs`);
    const urls = entries.map((url, j) => textOf(url, `announce-list[${i}][${j}]`)).filter((u) => u.length > 0);
    if (urls.length > 0) tiers.push(urls);
  });
  return tiers;
}

/** BEP 19 allows `url-list` to be one string or a list; BEP 17 `httpseeds` is a list. */
function readUrlList(value: BValue | undefined, key: string): string[] {
  if (value === undefined) return [];
  if (isBytes(value)) {
    const url = textOf(value, key);
    return url.length > 0 ? [url] : [];
  }
  if (!isList(value)) throw new MetainfoError('bad-field', `${key}: expected a URL or a list of URLs`);
  return value.map((url, i) => textOf(url, `${key}[${i}]`)).filter((u) => u.length > 0);
}

/** BEP 5: `nodes` is a list of [host, port] pairs; unusable entries are skipped (they are hints). */
function readNodes(value: BValue | undefined): { host: string; port: number }[] {
  if (!isList(value)) return [];
  const nodes: { host: string; port: number }[] = [];
  for (const pair of value) {
    if (!isList(pair) || pair.length !== 2 || !isBytes(pair[0])) continue;
    const host = fromUtf8(pair[0]);
    const port = pair[1];
    if (host !== undefined && host.length > 0 && typeof port === 'number' && port >= 1 && port <= 65535) nodes.push({ host, port });
  }
  return nodes;
}

function textOf(value: BValue | undefined, where: string): string {
  const text = isBytes(value) ? fromUtf8(value) : undefined;
  if (text === undefined) throw new MetainfoError('bad-field', `${where}: expected a UTF-8 string`);
  return text;
}

/**
 * A torrent from an info dictionary fetched from peers (BEP 9) plus what the magnet said:
 * checked against the info-hash it must have, then validated like a .torrent's.
 */
export async function torrentFromInfoBytes(
  infoBytes: Uint8Array,
  expectedInfoHash: Uint8Array,
  extras: { announceList?: string[][]; urlList?: string[] } = {},
): Promise<ParsedTorrent> {
  const infoHash = await sha1(infoBytes);
  if (toHex(infoHash) !== toHex(expectedInfoHash)) throw new MetainfoError('info-hash-mismatch', `metadata hashes to ${toHex(infoHash)}, not ${toHex(expectedInfoHash)}`);
  const { value, end } = decodePrefix(infoBytes, { maxBytes: MAX_TORRENT_BYTES });
  if (end !== infoBytes.length || !isDict(value)) throw new MetainfoError('not-a-dict', 'metadata is not one bencoded dictionary');
  const info = readInfoDict(value);
  return {
    info,
    infoBytes,
    announceList: extras.announceList ?? [],
    urlList: extras.urlList ?? [],
    httpSeeds: [],
    nodes: [],
    infoHash,
    infoHashHex: toHex(infoHash),
  };
}
