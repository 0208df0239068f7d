/** Locating the real third-party tools that interop tests drive (installed by .ci/run). */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';

/** Debian's python3-libtorrent is importable only from the system Python. */
export const SYSTEM_PYTHON = '/usr/bin/python3';

function onPath(tool: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

function hasLibtorrent(): boolean {
  if (!existsSync(SYSTEM_PYTHON)) return false;
  try {
    execFileSync(SYSTEM_PYTHON, ['-c', 'import libtorrent'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/**
 * `false` when every tool is there; otherwise a skip reason. In CI a missing tool is a failure
 * (CI installs them), so a green CI run always means the interop checks ran.
 */
export function missingTools(tools: string[], needLibtorrent: boolean): false | string {
  const missing = tools.filter((t) => !onPath(t));
  if (needLibtorrent && !hasLibtorrent()) missing.push('python3-libtorrent');
  if (missing.length === 0) return false;
  const reason = `missing real tools: ${missing.join(', ')} (apt-get install mktorrent transmission-cli transmission-daemon qbittorrent-nox python3-libtorrent ffmpeg)`;
  if (process.env.CI) throw new Error(`${reason}; CI must install them`);
  return reason;
}
