import { ProtocolError, TrackerError } from '../errors.js';
import { toBinaryString } from '../bytes.js';
import { escapeBytes, parseRawQuery } from '../tracker/http-query.js';

/**
 * The query of a BEP 17 (Hoffman-style) HTTP seed request, `GET seed17?info_hash=&piece=&ranges=`:
 * `info_hash` the torrent's raw 20 bytes, `piece` a piece index, and optional `ranges=a-b,c-d`,
 * inclusive byte ranges inside that piece (the whole piece without it). Read in two steps, as the
 * seed answers: the query first (400 before any lookup), then the piece and ranges against the
 * torrent's geometry once it is known.
 */

/** Most ranges in one BEP 17 request: a client asks for a piece, or a few holes in one. */
export const MAX_BEP17_RANGES = 64;

/**
 * A BEP 17 request the seed refuses. `status` is its HTTP answer: 400 for a malformed request,
 * 416 for a range outside the piece. The message is what the seed sends back, one line.
 */
export class Bep17Error extends ProtocolError {
  constructor(
    code: string,
    message: string,
    readonly status: 400 | 416,
  ) {
    super(`seed17.${code}`, message);
  }
}

/** The fields of a BEP 17 query, before the torrent is known. */
export interface Bep17Query {
  /** `info_hash`: the raw 20 bytes (percent-escaped on the wire). */
  infoHash: Uint8Array;
  /** `piece` as sent (one char per byte), checked by bep17Ranges. */
  piece: string | undefined;
  /** `ranges` as sent (one char per byte), checked by bep17Ranges. */
  ranges: string | undefined;
}

/** What bep17Ranges needs of a torrent: TorrentGeometry has it. */
export interface PieceSizes {
  readonly pieceCount: number;
  /** Bytes in piece `index` (the last one may be short); called only for an index below pieceCount. */
  pieceSize(index: number): number;
}

/** A BEP 17 request checked against its torrent. */
export interface Bep17Ranges {
  piece: number;
  /** Inclusive [start, end] byte ranges inside the piece, in the order asked; they may overlap. */
  ranges: [start: number, end: number][];
}

/**
 * Reads a BEP 17 query string (what follows `?`). Only the first value of each field counts.
 * @throws Bep17Error (400) for a query that does not split into fields or an info_hash that is
 * not 20 bytes.
 */
export function parseBep17Query(query: string): Bep17Query {
  let fields: Map<string, Uint8Array[]>;
  try {
    fields = parseRawQuery(query);
  } catch (err) {
    if (err instanceof TrackerError) throw new Bep17Error('query', err.message, 400);
    throw err;
  }
  const infoHash = fields.get('info_hash')?.[0];
  if (!infoHash || infoHash.length !== 20) throw new Bep17Error('info-hash', 'info_hash must be 20 bytes', 400);
  const text = (name: string): string | undefined => {
    const value = fields.get(name)?.[0];
    return value === undefined ? undefined : toBinaryString(value);
  };
  return { infoHash, piece: text('piece'), ranges: text('ranges') };
}

/**
 * Checks a query's piece and ranges against the torrent. `piece` is 1 to 10 decimal digits below
 * the piece count; each range is `START-END` (1 to 10 digits each) with START <= END < the
 * piece's size; at most MAX_BEP17_RANGES of them, adding up to no more than the piece (overlaps
 * are served as asked). No `ranges` (or an empty one) is the whole piece.
 * @throws Bep17Error: 400 for a bad piece, a malformed or excess range or too many bytes; 416
 * for a range outside the piece. The first bad range, in order, decides.
 */
export function bep17Ranges(query: Pick<Bep17Query, 'piece' | 'ranges'>, geometry: PieceSizes): Bep17Ranges {
  const { piece: pieceText, ranges: rangesText } = query;
  const piece = Number(pieceText);
  if (pieceText === undefined || !/^\d{1,10}$/.test(pieceText) || piece >= geometry.pieceCount) {
    throw new Bep17Error('piece', `piece must be 0 to ${geometry.pieceCount - 1}`, 400);
  }
  const pieceSize = geometry.pieceSize(piece);
  const ranges: [number, number][] = [];
  // One part past the limit is enough to refuse: a long list is never split whole.
  const parts = rangesText === undefined || rangesText === '' ? [`0-${pieceSize - 1}`] : rangesText.split(',', MAX_BEP17_RANGES + 1);
  for (const part of parts) {
    const m = /^(\d{1,10})-(\d{1,10})$/.exec(part);
    if (!m || ranges.length >= MAX_BEP17_RANGES) {
      throw new Bep17Error('ranges', `ranges must be up to ${MAX_BEP17_RANGES} of START-END inside the piece`, 400);
    }
    const [start, end] = [Number(m[1]), Number(m[2])];
    if (end < start || end >= pieceSize) {
      throw new Bep17Error('range-outside', `range ${part} is outside piece ${piece} (${pieceSize} bytes)`, 416);
    }
    ranges.push([start, end]);
  }
  if (ranges.reduce((n, [a, b]) => n + b - a + 1, 0) > pieceSize) throw new Bep17Error('too-long', `ranges add up to more than piece ${piece}`, 400);
  return { piece, ranges };
}

/**
 * Writes a BEP 17 query, the inverse of parseBep17Query and bep17Ranges: `info_hash` escaped
 * byte by byte, `ranges` left out when undefined (the whole piece).
 */
export function formatBep17Query(request: { infoHash: Uint8Array; piece: number; ranges?: readonly (readonly [number, number])[] }): string {
  const ranges = request.ranges === undefined ? '' : `&ranges=${request.ranges.map(([start, end]) => `${start}-${end}`).join(',')}`;
  return `info_hash=${escapeBytes(request.infoHash)}&piece=${request.piece}${ranges}`;
}
