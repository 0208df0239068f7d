import { parseArgs, type ParseArgsConfig } from 'node:util';

/** A mistake in how a command was called: printed as one line with the usage hint, exit 2. */
export class UsageError extends Error {}

/**
 * A failure while running a command whose message already says what went wrong and what to do
 * (a missing torrent file, an edge that does not answer): printed as one line, exit 1.
 */
export class CliError extends Error {}

/** A port flag's value, 0-65535; `fallback` when the flag is absent. */
export function parsePort(text: string | undefined, flag: string, fallback: number): number;
export function parsePort(text: string | undefined, flag: string): number | undefined;
export function parsePort(text: string | undefined, flag: string, fallback?: number): number | undefined {
  if (text === undefined) return fallback;
  const n = Number(text);
  if (text.trim() === '' || !Number.isInteger(n) || n < 0 || n > 65535) throw new UsageError(`${flag} must be 0-65535, got ${text}`);
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

/** The options table a command's parser accepts (node:util parseArgs' `options`). */
export type OptionTable = NonNullable<ParseArgsConfig['options']>;

/**
 * parseArgs with strict checking, turning its errors into a UsageError that names the option
 * in a short sentence (parseArgs' own messages run to three clauses).
 */
export function parseCommandArgs<T extends OptionTable>(args: string[], options: T) {
  try {
    return parseArgs({ args, options, allowPositionals: true, strict: true });
  } catch (err) {
    throw new UsageError(shortParseError(err as Error & { code?: string }));
  }
}

function shortParseError(err: Error & { code?: string }): string {
  const option = /'(-[^' ]+)/.exec(err.message)?.[1];
  if (option === undefined) return err.message;
  if (err.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') return `unknown option ${option}`;
  if (err.code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') {
    return /argument missing/.test(err.message) ? `${option} needs a value` : `${option} takes no value`;
  }
  return err.message;
}
