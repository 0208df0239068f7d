/** The webtorrent libraries, installed apart in test/interop/js-clients (see its package.json). */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

export const JS_CLIENTS = path.join(import.meta.dirname, '..', 'interop', 'js-clients');

/** false when installed, else a skip reason (an error in CI, which installs them). */
export function missingJsClients(): false | string {
  if (existsSync(path.join(JS_CLIENTS, 'node_modules', 'bittorrent-tracker'))) return false;
  const reason = 'webtorrent libraries not installed: npm ci --ignore-scripts --prefix test/interop/js-clients';
  if (process.env.CI) throw new Error(`${reason}; CI must install them`);
  return reason;
}

/** Loads a package's ESM entry from the js-clients folder. */
export async function importJsClient<T>(name: string, entry = 'index.js'): Promise<T> {
  return (await import(pathToFileURL(path.join(JS_CLIENTS, 'node_modules', name, entry)).href)) as T;
}
