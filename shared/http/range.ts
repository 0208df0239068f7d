/**
 * HTTP `Range: bytes=...` for one range (RFC 9110 14.1.2), as web seeds use it (BEP 19). We
 * serve a single range per request: BitTorrent clients ask for one at a time.
 */
export type ByteRange = { start: number; end: number }; // inclusive end, as in Content-Range

export type RangeResult =
  | { kind: 'none' } // no Range header: the whole representation
  | { kind: 'range'; range: ByteRange }
  | { kind: 'unsatisfiable'; reason: string } // 416
  | { kind: 'malformed'; reason: string }; // 400

/** Longest Range header looked at. */
const MAX_RANGE_HEADER = 256;

/** Resolves a Range header against a representation of `size` bytes. */
export function parseRange(header: string | null | undefined, size: number): RangeResult {
  if (header === null || header === undefined) return { kind: 'none' };
  if (header.length > MAX_RANGE_HEADER) return { kind: 'malformed', reason: 'Range header too long' };
  // Range units are case-insensitive (RFC 9110 14.1).
  const m = /^bytes=(\d{0,20})-(\d{0,20})$/i.exec(header.trim());
  if (!m) {
    if (/^bytes=[\d\s,-]+$/i.test(header.trim()) && header.includes(',')) {
      return { kind: 'malformed', reason: 'multiple ranges are not served; ask for one range per request' };
    }
    return { kind: 'malformed', reason: `cannot read Range ${JSON.stringify(header.slice(0, 64))}; expected bytes=START-END` };
  }
  const [, first, last] = m;
  if (first === '' && last === '') return { kind: 'malformed', reason: 'Range bytes=- names no bytes' };
  if (first === '') {
    // Suffix range: the last N bytes.
    const n = Number(last);
    if (n === 0) return { kind: 'unsatisfiable', reason: 'a suffix range of 0 bytes is empty' };
    if (size === 0) return { kind: 'unsatisfiable', reason: 'the file is empty' };
    return { kind: 'range', range: { start: Math.max(0, size - n), end: size - 1 } };
  }
  const start = Number(first);
  const end = last === '' ? size - 1 : Math.min(Number(last), size - 1);
  if (last !== '' && Number(last) < start) return { kind: 'malformed', reason: `Range ends (${last}) before it starts (${start})` };
  if (start >= size) return { kind: 'unsatisfiable', reason: `Range starts at ${start} but the file has ${size} bytes` };
  return { kind: 'range', range: { start, end } };
}
