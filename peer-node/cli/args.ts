import { parseArgs, type ParseArgsConfig } from 'node:util';

/** A mistake in how a command was called: printed as one line with the usage hint, exit 2. */
export class UsageError extends Error {}

/** A port flag's value, 0-65535; `fallback` when the flag is absent. */
export function parsePort(text: string | undefined, flag: string, fallback: number): number;
export function parsePort(text: string | undefined, flag: string): number | undefined;
export function parsePort(text: string | undefined, flag: string, fallback?: number): number | undefined {
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new UsageError(`${flag} must be 0-65535, got ${text}`);
  return n;
}

/** A rate flag's value in bytes a second: "500k" -> 512000, "2M" -> 2097152, "1000" -> 1000. */
export function parseRate(text: string, flag: string): number {
  const m = /^(\d+(?:\.\d+)?)([kKmM]?)$/.exec(text.trim());
  const n = m ? Number(m[1]) * (m[2] === '' ? 1 : /k/i.test(m[2]!) ? 1024 : 1048576) : NaN;
  if (!(n >= 1)) throw new UsageError(`${flag}: expected bytes a second like 500k or 2M, got ${JSON.stringify(text)}`);
  return Math.floor(n);
}

/**
 * A bitrate flag's value in bits a second, with decimal (SI) multipliers as media bitrates are
 * written: "300k" -> 300000, "1.2M" -> 1200000, "64000" -> 64000. (parseRate is bytes, binary.)
 */
export function parseBitrate(text: string, flag: string): number {
  const m = /^(\d+(?:\.\d+)?)([kKM]?)$/.exec(text.trim());
  const n = m ? Number(m[1]) * (m[2] === '' ? 1 : m[2] === 'M' ? 1e6 : 1e3) : NaN;
  if (!(n >= 1)) throw new UsageError(`${flag}: expected bits a second like 300k or 1.2M, got ${JSON.stringify(text)}`);
  return Math.round(n);
}

/** parseArgs with strict checking, turning its errors into UsageError. */
export function parseCommandArgs<T extends NonNullable<ParseArgsConfig['options']>>(args: string[], options: T) {
  try {
    return parseArgs({ args, options, allowPositionals: true, strict: true });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}
