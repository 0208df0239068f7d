import type { Dispatcher } from 'undici';

/**
 * An undici response body read whole, or undefined as soon as it passes `max` bytes (the rest
 * is not read and the body is destroyed): a peer, tracker or edge cannot make us buffer more
 * than the caller's bound. The caller says what being too large means.
 */
export async function readBounded(body: Dispatcher.ResponseData['body'], max: number): Promise<Uint8Array | undefined> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of body as AsyncIterable<Uint8Array>) {
    size += chunk.length;
    if (size > max) {
      body.destroy();
      return undefined;
    }
    chunks.push(chunk);
  }
  return new Uint8Array(Buffer.concat(chunks));
}
