import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { UsageError } from './args.js';

/**
 * A secret of the local edge, as `npm start` keeps it in `$EDGE_STATE_DIR/secrets.json`
 * (default ./.edge-state), so that local commands need no flags.
 */
export async function localSecret(name: 'PUBLISH_TOKEN' | 'GATEWAY_SECRET', flag: string): Promise<string> {
  const file = path.join(process.env.EDGE_STATE_DIR ?? '.edge-state', 'secrets.json');
  try {
    const value = (JSON.parse(await readFile(file, 'utf8')) as Record<string, string | undefined>)[name];
    if (value) return value;
  } catch {
    // fall through to the error below
  }
  throw new UsageError(`no ${name.toLowerCase().replace('_', ' ')}: pass ${flag}, set ${name}, or run npm start first so that ${file} exists`);
}
