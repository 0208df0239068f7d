/** libtorrent (python3-libtorrent under the system Python) as a seed or leech on 127.0.0.1. */
import { execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';
import { promisify } from 'node:util';
import { SYSTEM_PYTHON } from './real-tools.js';

const TOOLS = path.join(import.meta.dirname, '..', 'interop', 'tools');

export interface LtSeed {
  port: number;
  stop(): void;
}

/** libtorrent seeding TORRENT from SEED_DIR (its save path) until `stop` (lt_seed.py). */
export async function startLtSeed(torrentPath: string, seedDir: string, timeoutS = 80): Promise<LtSeed> {
  const child = spawn(SYSTEM_PYTHON, [path.join(TOOLS, 'lt_seed.py'), torrentPath, seedDir, String(timeoutS)], { stdio: ['pipe', 'pipe', 'inherit'] });
  const stop = () => {
    child.stdin!.end();
    child.kill();
  };
  let line = '';
  while (!line.includes('\n')) line += String((await once(child.stdout, 'data'))[0]);
  const { port, seeding } = JSON.parse(line) as { port: number; seeding: boolean };
  if (!seeding) {
    stop();
    throw new Error('libtorrent did not seed');
  }
  return { port, stop };
}

export interface LtLeechResult {
  complete: boolean;
  seconds: number;
  downloaded: number;
}

/**
 * libtorrent downloading TORRENT into SAVE_DIR from the peer it is told to dial (lt_leech.py,
 * plaintext only); the torrent's trackers are used too.
 */
export async function runLtLeech(torrentPath: string, saveDir: string, host: string, port: number, timeoutS = 60): Promise<LtLeechResult> {
  const { stdout } = await promisify(execFile)(SYSTEM_PYTHON, [path.join(TOOLS, 'lt_leech.py'), torrentPath, saveDir, host, String(port), String(timeoutS)]);
  return JSON.parse(stdout) as LtLeechResult;
}
