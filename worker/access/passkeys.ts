import { base64url, secretsEqual } from './secrets.js';

/** User names that may hold a passkey. */
export const USER_PATTERN = /^[a-z0-9][a-z0-9_-]{0,31}$/;

/**
 * Per-user passkeys for private torrents (BEP 27), derived rather than stored:
 * `USER.MAC` where MAC is 24 base64url chars of HMAC-SHA256(PASSKEY_SECRET, "passkey:" + USER).
 * A tracker can check one with no lookup, so a bad passkey is refused before any swarm is touched.
 */
export async function passkeyFor(secret: string, user: string): Promise<string> {
  const key = await crypto.subtle.importKey('raw', new TextEncoder().encode(secret), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
  const mac = new Uint8Array(await crypto.subtle.sign('HMAC', key, new TextEncoder().encode(`passkey:${user}`)));
  return `${user}.${base64url(mac.subarray(0, 18))}`;
}

/** The user a passkey belongs to, or undefined when it is not one of ours. */
export async function userOfPasskey(secret: string, passkey: string): Promise<string | undefined> {
  const dot = passkey.indexOf('.');
  if (dot < 0 || passkey.length > 64) return undefined;
  const user = passkey.slice(0, dot);
  if (!USER_PATTERN.test(user)) return undefined;
  return (await secretsEqual(passkey, await passkeyFor(secret, user))) ? user : undefined;
}
