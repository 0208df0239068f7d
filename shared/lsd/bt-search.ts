import { LsdError } from '../errors.js';

/**
 * BEP 14 Local Service Discovery: the `BT-SEARCH` announce a client multicasts to say "I am in
 * these swarms, listening on this port". An HTTP-like request in one UDP datagram:
 *
 *   BT-SEARCH * HTTP/1.1\r\n
 *   Host: 239.192.152.143:6771\r\n
 *   Port: 6881\r\n
 *   Infohash: <40 hex>\r\n        (one or more, consecutive)
 *   cookie: <opaque>\r\n          (optional: lets the sender recognise its own announces)
 *   \r\n
 *   \r\n
 *
 * Pure: no sockets, no timers. The node side (peer-node/lsd/) sends and listens.
 */

/** BEP 14 group A, org-local scope. */
export const LSD_GROUP_V4 = '239.192.152.143';
/** BEP 14 group B, site-local scope. */
export const LSD_GROUP_V6 = 'ff15::efc0:988f';
/** BEP 14: both groups use this UDP port. */
export const LSD_PORT = 6771;
/** BEP 14: with several infohashes "the packet length should not exceed 1400 bytes"; a longer datagram is not an announce. */
export const MAX_LSD_DATAGRAM = 1400;
/** Headers after the request line, unknown ones included (BEP 14 says to ignore those, not to take any number). */
export const MAX_LSD_HEADERS = 32;
/** Infohash headers in one announce: what 1400 bytes hold in the BEP's layout (25); more only fit by squeezing out spaces. */
export const MAX_LSD_INFOHASHES = 25;
/** Our cookies are 16 hex characters; other clients' are opaque but short. */
export const MAX_LSD_COOKIE = 64;

const REQUEST_LINE = 'BT-SEARCH * HTTP/1.1';
/** RFC 9110 field-name (token) ":" OWS value OWS. */
const HEADER = /^([!#$%&'*+.^_`|~0-9A-Za-z-]+):[ \t]*(.*?)[ \t]*$/;
/** RFC 2616 14.23 / RFC 2732 Host: a name or IPv4 address, or an IPv6 literal in brackets, then an optional port. */
const HOST = /^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)(?::[0-9]{1,5})?$/;
const PORT = /^[1-9][0-9]{0,4}$/;
const INFOHASH = /^[0-9A-Fa-f]{40}$/;
/** Visible ASCII, inner spaces allowed (outer ones are header whitespace). */
const COOKIE = /^[\x21-\x7e](?:[\x20-\x7e]*[\x21-\x7e])?$/;

/** One announce. `infoHashes` are lowercase hex, each once, in the order sent. */
export interface BtSearch {
  /** The group the announce was sent to, as the Host header says it (`239.192.152.143:6771`). */
  host: string;
  /** The port the sender accepts BitTorrent connections on. */
  port: number;
  infoHashes: string[];
  cookie?: string;
}

/** The Host header for a group: IPv6 literals in brackets (RFC 2732). */
export function lsdHost(group: string, port: number): string {
  return group.includes(':') ? `[${group}]:${port}` : `${group}:${port}`;
}

/**
 * The datagram for `search`, byte for byte as BEP 14 shows it (including its blank line after
 * the header block's end). RangeError for fields we would refuse from others, or a datagram over
 * 1400 bytes: our own announces are held to the rules we check.
 */
export function encodeBtSearch(search: BtSearch): Uint8Array {
  if (!HOST.test(search.host)) throw new RangeError(`not a Host header value: ${JSON.stringify(search.host)}`);
  if (!Number.isSafeInteger(search.port) || search.port < 1 || search.port > 65535) throw new RangeError(`port ${search.port} is not 1-65535`);
  if (search.infoHashes.length === 0 || search.infoHashes.length > MAX_LSD_INFOHASHES) throw new RangeError(`an announce carries 1 to ${MAX_LSD_INFOHASHES} infohashes, not ${search.infoHashes.length}`);
  for (const h of search.infoHashes) if (!INFOHASH.test(h)) throw new RangeError(`not a 40-character hex infohash: ${JSON.stringify(h)}`);
  if (search.cookie !== undefined && !validCookie(search.cookie)) throw new RangeError(`not a cookie: ${JSON.stringify(search.cookie)}`);
  const lines = [REQUEST_LINE, `Host: ${search.host}`, `Port: ${search.port}`, ...search.infoHashes.map((h) => `Infohash: ${h.toLowerCase()}`)];
  if (search.cookie !== undefined) lines.push(`cookie: ${search.cookie}`);
  const text = `${lines.join('\r\n')}\r\n\r\n\r\n`;
  if (text.length > MAX_LSD_DATAGRAM) throw new RangeError(`announce of ${text.length} bytes (at most ${MAX_LSD_DATAGRAM})`);
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) out[i] = text.charCodeAt(i);
  return out;
}

/**
 * As many of `infoHashes` as fit one datagram (1400 bytes, 25 infohashes), from the front:
 * BEP 14 allows several per announce to stay under one announce a minute with many torrents.
 */
export function packBtSearch(base: Omit<BtSearch, 'infoHashes'>, infoHashes: readonly string[]): { datagram: Uint8Array; taken: number } {
  if (infoHashes.length === 0) throw new RangeError('nothing to announce');
  const fixed = encodeBtSearch({ ...base, infoHashes: [infoHashes[0]!] }).length;
  const perHash = 'Infohash: \r\n'.length + 40;
  const taken = Math.min(infoHashes.length, MAX_LSD_INFOHASHES, 1 + Math.floor((MAX_LSD_DATAGRAM - fixed) / perHash));
  return { datagram: encodeBtSearch({ ...base, infoHashes: infoHashes.slice(0, taken) }), taken };
}

/**
 * Reads one datagram. Strict where a mistake could be exploited or hides garbage (size, bytes,
 * request line, CRLF line ends, header syntax, counts, duplicates of Host/Port/cookie, the
 * infohash and port formats), lenient where BEP 14 or HTTP says so: header names in any case,
 * unknown headers ignored, the trailing extra CRLF optional. LsdError with a precise code
 * otherwise.
 */
export function decodeBtSearch(datagram: Uint8Array): BtSearch {
  if (datagram.length > MAX_LSD_DATAGRAM) throw new LsdError('too-large', `datagram of ${datagram.length} bytes (at most ${MAX_LSD_DATAGRAM})`);
  let text = '';
  for (let i = 0; i < datagram.length; i++) {
    const byte = datagram[i]!;
    // HTTP header text is ASCII; CR and LF only as line ends, HTAB as whitespace.
    if ((byte < 0x20 || byte > 0x7e) && byte !== 0x09 && byte !== 0x0d && byte !== 0x0a) throw new LsdError('bad-byte', `byte 0x${byte.toString(16).padStart(2, '0')} at ${i}`);
    text += String.fromCharCode(byte);
  }
  const end = text.indexOf('\r\n\r\n');
  if (end < 0) throw new LsdError('truncated', 'no empty line ends the headers');
  // BEP 14 shows one more CRLF after the empty line; HTTP has none. Both are fine, nothing else.
  const after = text.slice(end + 4);
  if (after !== '' && after !== '\r\n') throw new LsdError('trailing-bytes', `${after.length} bytes after the headers`);
  const lines = text.slice(0, end).split('\r\n');
  if (lines.some((line) => line.includes('\r') || line.includes('\n'))) throw new LsdError('bad-line-end', 'a line ends without CRLF');
  if (lines[0] !== REQUEST_LINE) throw new LsdError('bad-request-line', `request line ${JSON.stringify(lines[0]!.slice(0, 40))}`);
  if (lines.length - 1 > MAX_LSD_HEADERS) throw new LsdError('too-many-headers', `${lines.length - 1} headers (at most ${MAX_LSD_HEADERS})`);

  let host: string | undefined;
  let port: number | undefined;
  let cookie: string | undefined;
  const infoHashes: string[] = [];
  let infoHashRun: 'none' | 'open' | 'closed' = 'none';
  for (let i = 1; i < lines.length; i++) {
    const match = HEADER.exec(lines[i]!);
    if (!match) throw new LsdError('bad-header', `header line ${i} is not NAME: VALUE`);
    const name = match[1]!.toLowerCase();
    const value = match[2]!;
    if (infoHashRun === 'open' && name !== 'infohash') infoHashRun = 'closed';
    switch (name) {
      case 'host':
        if (host !== undefined) throw new LsdError('duplicate-header', 'two Host headers');
        if (!HOST.test(value)) throw new LsdError('bad-host', `Host ${JSON.stringify(value.slice(0, 60))}`);
        host = value;
        break;
      case 'port': {
        if (port !== undefined) throw new LsdError('duplicate-header', 'two Port headers');
        const n = Number(value);
        if (!PORT.test(value) || n > 65535) throw new LsdError('bad-port', `Port ${JSON.stringify(value.slice(0, 20))} is not 1-65535 in base 10`);
        port = n;
        break;
      }
      case 'infohash': {
        // BEP 14: several infohashes come as consecutive headers.
        if (infoHashRun === 'closed') throw new LsdError('infohash-not-consecutive', 'Infohash headers are split by another header');
        infoHashRun = 'open';
        if (!INFOHASH.test(value)) throw new LsdError('bad-infohash', `Infohash ${JSON.stringify(value.slice(0, 60))} is not 40 hex characters`);
        const hex = value.toLowerCase();
        if (!infoHashes.includes(hex)) infoHashes.push(hex);
        if (infoHashes.length > MAX_LSD_INFOHASHES) throw new LsdError('too-many-infohashes', `more than ${MAX_LSD_INFOHASHES} infohashes`);
        break;
      }
      case 'cookie':
        if (cookie !== undefined) throw new LsdError('duplicate-header', 'two cookie headers');
        if (!validCookie(value)) throw new LsdError('bad-cookie', `cookie of ${value.length} characters`);
        cookie = value;
        break;
      default:
      // BEP 14: "any additional headers that [are] not understood by a client should be ignored".
    }
  }
  if (host === undefined) throw new LsdError('missing-host', 'no Host header');
  if (port === undefined) throw new LsdError('missing-port', 'no Port header');
  if (infoHashes.length === 0) throw new LsdError('missing-infohash', 'no Infohash header');
  return { host, port, infoHashes, ...(cookie !== undefined ? { cookie } : {}) };
}

function validCookie(cookie: string): boolean {
  return cookie.length <= MAX_LSD_COOKIE && COOKIE.test(cookie);
}
