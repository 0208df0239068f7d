import { type HmacKey, importKey } from '../connection-ids/connection-id.js';
import { base64url, secretsEqual } from './secrets.js';

/** User names that may hold a passkey. */
export const USER_PATTERN = /^[a-z0-9][a-z0-9_-]{0,31}$/;

/**
 * Per-user passkeys for private torrents (BEP 27), derived rather than stored:
 * `USER.MAC` where MAC is 24 base64url chars of HMAC-SHA256(PASSKEY_SECRET, "passkey:" + USER).
 * A tracker can check one with no lookup, so a bad passkey is refused before any swarm is touched.
 */
export async function passkeyFor(secret: string, user: string): Promise<string> {
  const key = await hmacKey(secret);
  const mac = new Uint8Array(await crypto.subtle.sign('HMAC', key, new TextEncoder().encode(`passkey:${user}`)));
  return `${user}.${base64url(mac.subarray(0, 18))}`;
}

/** The HMAC key of a secret, imported once per isolate (every private announce checks a passkey). */
let imported: { secret: string; key: Promise<HmacKey> } | undefined;
function hmacKey(secret: string): Promise<HmacKey> {
  if (imported?.secret !== secret) imported = { secret, key: importKey(new TextEncoder().encode(secret)) };
  return imported.key;
}

/**
 * Who a request's passkey (the `/p/PASSKEY/` of its URL) names: undefined when it came without
 * one, false when the passkey is not one of ours (or private torrents are off: no secret).
 */
export async function passkeyUserOf(secret: string | undefined, passkey: string | undefined): Promise<string | undefined | false> {
  if (passkey === undefined) return undefined;
  if (!secret) return false;
  return (await userOfPasskey(secret, passkey)) ?? false;
}

/** The user a passkey belongs to, or undefined when it is not one of ours. */
export async function userOfPasskey(secret: string, passkey: string): Promise<string | undefined> {
  const dot = passkey.indexOf('.');
  if (dot < 0 || passkey.length > 64) return undefined;
  const user = passkey.slice(0, dot);
  if (!USER_PATTERN.test(user)) return undefined;
  return (await secretsEqual(passkey, await passkeyFor(secret, user))) ? user : undefined;
}
