/**
 * Turning errors into the one line the CLI prints: what went wrong, and what to do about it.
 */

/** Error codes of a connection that could not be made or broke (Node's and undici's). */
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'EPIPE',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
]);

/** The errno-style code of an error or of its cause. */
export function errorCode(err: unknown): string | undefined {
  if (!(err instanceof Error)) return undefined;
  const code = (err as NodeJS.ErrnoException).code ?? (err.cause as NodeJS.ErrnoException | undefined)?.code;
  return typeof code === 'string' ? code : undefined;
}

/** True for a connection that could not be made or broke off (not an HTTP answer). */
export function isNetworkError(err: unknown): boolean {
  const code = errorCode(err);
  return code !== undefined && NETWORK_CODES.has(code);
}

/** The short reason of a network error: `connect ECONNREFUSED 127.0.0.1:1`. */
export function networkReason(err: unknown): string {
  const e = err as Error;
  const cause = e.cause as Error | undefined;
  return oneLine(cause?.message && !e.message.includes(cause.message) ? `${e.message}: ${cause.message}` : e.message);
}

/**
 * A file system error (it has a `path`) said plainly with the path; undefined for other errors.
 * `what` names what the path was meant to be ("torrent file", "file or folder").
 */
export function describeFileError(err: unknown, what = 'file or folder'): string | undefined {
  const e = err as NodeJS.ErrnoException;
  if (!(err instanceof Error) || typeof e.path !== 'string' || typeof e.code !== 'string') return undefined;
  switch (e.code) {
    case 'ENOENT':
      return `no such ${what} ${e.path} (ENOENT): check the path`;
    case 'EISDIR':
      return `${e.path} is a folder, not a ${what === 'file or folder' ? 'file' : what} (EISDIR)`;
    case 'ENOTDIR':
      return `${e.path}: a part of the path is a file, not a folder (ENOTDIR)`;
    case 'EACCES':
    case 'EPERM':
      return `permission denied on ${e.path} (${e.code}): check its owner and mode`;
    case 'ENOSPC':
      return `no space left on the device writing ${e.path} (ENOSPC)`;
    case 'EROFS':
      return `${e.path} is on a read-only file system (EROFS)`;
    default:
      return `${oneLine(e.message)}`;
  }
}

/** A message on one line: line breaks (multi-line errors) become spaces. */
export function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, ' ').trim();
}
