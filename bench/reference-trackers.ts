/**
 * The reference trackers the tracker benchmarks measure against, each in its own process: the
 * bittorrent-tracker package's server (JS, in memory; test/interop/js-clients must be
 * installed) and opentracker (C, in memory; Debian's package, when installed).
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chmod, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { toHex } from '../shared/bytes.js';
import { benchInfoHash } from './bench-swarm.js';

const ROOT = path.join(import.meta.dirname, '..');

async function waitForLine(child: ChildProcess, text: string): Promise<void> {
  let seen = '';
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => {
      seen += d;
      if (seen.includes(text)) resolve();
    });
    child.once('exit', (code) => reject(new Error(`exited ${code}: ${seen}`)));
  });
}

/** The bittorrent-tracker server on 127.0.0.1, HTTP and UDP; resolves once it listens. */
export async function startBittorrentTracker(httpPort: number, udpPort: number): Promise<ChildProcess> {
  const child = spawn(process.execPath, [path.join(ROOT, 'bench', 'servers', 'bittorrent-tracker-server.js'), String(httpPort), String(udpPort)], { stdio: ['ignore', 'pipe', 'inherit'] });
  await waitForLine(child, 'ready');
  return child;
}

/**
 * opentracker on 127.0.0.1:port (HTTP and UDP) with the benchmark's swarms whitelisted;
 * undefined when it is not installed. `work` must be a folder of ours (the whitelist goes there).
 */
export async function startOpentracker(work: string, swarms: number, port: number): Promise<ChildProcess | undefined> {
  try {
    execFileSync('sh', ['-c', 'command -v opentracker'], { stdio: 'ignore' });
  } catch {
    return undefined;
  }
  const whitelist = path.join(work, 'whitelist');
  await writeFile(whitelist, Array.from({ length: swarms }, (_, i) => toHex(benchInfoHash(i))).join('\n') + '\n', { mode: 0o644 });
  // Run as root, opentracker drops to an unprivileged user, which must be able to read it.
  await chmod(work, 0o755);
  const child = spawn('opentracker', ['-i', '127.0.0.1', '-p', String(port), '-P', String(port), '-w', whitelist], { stdio: ['ignore', 'ignore', 'inherit'] });
  // It loads its whitelist in the background after it starts listening.
  await new Promise((r) => setTimeout(r, 2000));
  return child;
}
