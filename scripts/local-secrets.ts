/**
 * Secrets for the local edge: made once, kept in the state folder (`secrets.json`), so that the
 * UDP gateway and the CLI find them with no flags and a restart keeps passkeys and ids valid.
 * PUBLISH_TOKEN / GATEWAY_SECRET / PASSKEY_SECRET in the environment override them.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';

export interface LocalSecrets {
  PUBLISH_TOKEN: string;
  GATEWAY_SECRET: string;
  PASSKEY_SECRET: string;
}

export const SECRETS_FILE = 'secrets.json';

export async function loadLocalSecrets(stateDir: string): Promise<LocalSecrets> {
  const file = path.join(stateDir, SECRETS_FILE);
  let stored: Partial<LocalSecrets> = {};
  try {
    stored = JSON.parse(await readFile(file, 'utf8')) as Partial<LocalSecrets>;
  } catch {
    // first start: made below
  }
  const make = () => randomBytes(24).toString('base64url');
  const secrets: LocalSecrets = {
    PUBLISH_TOKEN: stored.PUBLISH_TOKEN ?? make(),
    GATEWAY_SECRET: stored.GATEWAY_SECRET ?? make(),
    PASSKEY_SECRET: stored.PASSKEY_SECRET ?? make(),
  };
  if (JSON.stringify(secrets) !== JSON.stringify(stored)) {
    await mkdir(stateDir, { recursive: true });
    await writeFile(file, JSON.stringify(secrets, null, 2), { mode: 0o600 });
  }
  for (const name of Object.keys(secrets) as (keyof LocalSecrets)[]) {
    const fromEnv = process.env[name];
    if (fromEnv) secrets[name] = fromEnv;
  }
  return secrets;
}
