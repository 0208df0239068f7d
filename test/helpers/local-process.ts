/** Small pieces the process-driving tests share: free ports, one-shot commands, a daemon's lifecycle. */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import path from 'node:path';

/** The `peer-node` CLI, as a user runs it. */
export const PEER_NODE_BIN = path.join(import.meta.dirname, '..', '..', 'peer-node', 'bin', 'peer-node.js');

/**
 * Runs a command to its end (killed after `timeoutMs`) and returns its exit code and output.
 * Asynchronous on purpose: servers living in the test process must keep answering meanwhile.
 */
export async function runProcess(command: string, args: string[], timeoutMs = 60_000): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const [code] = (await once(child, 'exit')) as [number | null];
  clearTimeout(timer);
  return { code, stdout, stderr };
}

/**
 * A TCP port free on 127.0.0.1 right now. The daemons take their ports from config files, not
 * from a listening socket we could hand over, so there is a small window for a clash.
 */
export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  server.close();
  await once(server, 'close');
  if (address === null || typeof address === 'string') throw new Error('no TCP address');
  return address.port;
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** A spawned daemon whose recent output is kept for error messages. */
export class Daemon {
  readonly child: ChildProcess;
  private output = '';
  exited = false;

  constructor(command: string, args: string[]) {
    this.child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const keep = (chunk: Buffer) => {
      this.output = (this.output + chunk.toString()).slice(-4000);
    };
    this.child.stdout!.on('data', keep);
    this.child.stderr!.on('data', keep);
    this.child.on('exit', () => {
      this.exited = true;
    });
  }

  /** The last few KB the daemon printed. */
  get log(): string {
    return this.output;
  }

  /** SIGTERM, then SIGKILL if it has not exited within `graceMs`. */
  async stop(graceMs = 5000): Promise<void> {
    if (this.exited) return;
    const exited = once(this.child, 'exit');
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    await exited;
    clearTimeout(timer);
  }
}

/**
 * Calls `probe` every `intervalMs` until it returns a value other than undefined; rejects after
 * `timeoutMs` with `describe()` (the last known state) in the message, or at once if the daemon
 * died. An error `probe` throws ends the wait (catch in `probe` what is merely transient).
 */
export async function pollUntil<T>(
  probe: () => Promise<T | undefined>,
  opts: { timeoutMs: number; intervalMs?: number; what: string; daemon?: Daemon; describe?: () => string },
): Promise<T> {
  const deadline = Date.now() + opts.timeoutMs;
  for (;;) {
    if (opts.daemon?.exited) throw new Error(`${opts.what}: the process exited\n${opts.daemon.log}`);
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) {
      throw new Error(`${opts.what}: timed out after ${opts.timeoutMs} ms${opts.describe ? `; last state: ${opts.describe()}` : ''}`);
    }
    await sleep(opts.intervalMs ?? 200);
  }
}
