import { concatBytes } from '../shared/bytes.js';

/**
 * A request body read with a byte limit. Content-Length only lets us refuse early: a chunked
 * body has none and a client can lie, so the bytes are counted as they arrive and reading
 * stops at the first one past the limit (the rest is never buffered).
 */
export async function readBoundedBody(request: Request, maxBytes: number): Promise<Uint8Array | 'too-large'> {
  const declared = request.headers.get('content-length');
  if (declared !== null && Number(declared) > maxBytes) return 'too-large';
  if (request.body === null) return new Uint8Array(0);
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      await reader.cancel();
      return 'too-large';
    }
    chunks.push(value);
  }
  return concatBytes(chunks);
}
