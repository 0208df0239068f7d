import type { Env } from './env.js';

/**
 * Test-only fault injection. Nothing here runs in production: the `FAULT_INJECTION` binding is
 * set only by tests (`withEdge({ FAULT_INJECTION: '1' }, ...)`), never in wrangler.toml. With it
 * set, a request carrying `x-fault-inject: r2` and/or `swarm` sees an env whose R2 reads
 * (`CONTENT.get`) or Swarm Durable Object calls throw, as a failing R2 or a reset object would,
 * for that request only: other requests, and the stored state, are untouched.
 */
export const FAULT_HEADER = 'x-fault-inject';

/** Storage that failed for this request (R2 read error, Durable Object exception): retry soon. */
export class StorageUnavailableError extends Error {
  constructor(what: string, cause?: unknown) {
    super(`${what} is unavailable`, cause === undefined ? undefined : { cause });
  }
}

/** Seconds a client is told to wait after a storage failure (Retry-After). */
export const STORAGE_RETRY_SECONDS = 5;

/**
 * Whether an error is a transient storage failure: ours (StorageUnavailableError) or a Durable
 * Object exception that workerd marks `retryable` or `overloaded`.
 */
export function isTransientStorageError(err: unknown): boolean {
  if (err instanceof StorageUnavailableError) return true;
  const flags = err as { retryable?: unknown; overloaded?: unknown } | null;
  return typeof flags === 'object' && flags !== null && (flags.retryable === true || flags.overloaded === true);
}

/** Runs an R2 read, turning whatever it throws into a StorageUnavailableError. */
export async function readStorage<T>(what: string, read: () => Promise<T>): Promise<T> {
  try {
    return await read();
  } catch (err) {
    throw new StorageUnavailableError(what, err);
  }
}

function injected(what: string): Error {
  // The shape of workerd's Durable Object errors: a message and the `retryable` flag.
  return Object.assign(new Error(`fault injected: ${what}`), { retryable: true });
}

/** The env one request sees: unchanged unless faults are enabled and the request asks for one. */
export function envForRequest(env: Env, request: Request): Env {
  if (env.FAULT_INJECTION !== '1') return env;
  const wanted = new Set((request.headers.get(FAULT_HEADER) ?? '').split(',').map((s) => s.trim()));
  if (!wanted.has('r2') && !wanted.has('swarm')) return env;
  const out: Env = { ...env };
  if (wanted.has('r2')) {
    const bucket = env.CONTENT;
    out.CONTENT = new Proxy(bucket, {
      get(target, prop) {
        if (prop === 'get') return () => Promise.reject(injected('R2 get'));
        const value = Reflect.get(target, prop) as unknown;
        return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
      },
    });
  }
  if (wanted.has('swarm')) {
    const namespace = env.SWARM;
    const failingStub = new Proxy({}, {
      get(_target, prop) {
        if (prop === 'then') return undefined; // not a thenable
        return () => Promise.reject(injected(`Swarm Durable Object ${String(prop)}`));
      },
    });
    out.SWARM = new Proxy(namespace, {
      get(target, prop) {
        if (prop === 'get') return () => failingStub;
        const value = Reflect.get(target, prop) as unknown;
        return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
      },
    });
  }
  return out;
}
