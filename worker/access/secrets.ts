/**
 * Constant-time comparison of a secret a client sent with ours. Both texts are hashed first
 * (SHA-256), so the comparison always runs over two 32-byte digests: its time depends neither on
 * where the texts differ nor on their lengths (an early return on a length mismatch, or a loop as
 * long as the longer text, would tell the secret's length). workerd's non-standard
 * `crypto.subtle.timingSafeEqual` compares the digests; where it is missing (Node, in tests) a
 * loop with no early exit does.
 */
export async function secretsEqual(given: string, secret: string): Promise<boolean> {
  const encoder = new TextEncoder();
  const [a, b] = await Promise.all([crypto.subtle.digest('SHA-256', encoder.encode(given)), crypto.subtle.digest('SHA-256', encoder.encode(secret))]);
  const subtle = crypto.subtle as typeof crypto.subtle & { timingSafeEqual?: (a: ArrayBuffer, b: ArrayBuffer) => boolean };
  if (typeof subtle.timingSafeEqual === 'function') return subtle.timingSafeEqual(a, b);
  const x = new Uint8Array(a);
  const y = new Uint8Array(b);
  let diff = 0;
  for (let i = 0; i < x.length; i++) diff |= x[i]! ^ y[i]!;
  return diff === 0;
}

/** URL-safe base64 without padding. */
export function base64url(bytes: Uint8Array): string {
  let text = '';
  for (const b of bytes) text += String.fromCharCode(b);
  return btoa(text).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}
