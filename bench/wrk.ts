import { execFileSync } from 'node:child_process';

/** What one wrk run measured. */
export interface WrkResult {
  requestsPerSecond: number;
  p50ms: number;
  p99ms: number;
  /** Error statuses plus requests with no answer within the timeout. Read errors are not counted
   * (opentracker closes every connection after its answer). */
  failures: number;
}

/** Runs `wrk -t2 --latency` (one thread for one connection) with a Lua script and reads its figures. */
export function runWrk(url: string, script: string, seconds: number, connections: number, timeoutSeconds = 2): WrkResult {
  const out = execFileSync('wrk', [`-t${Math.min(2, connections)}`, `-c${connections}`, `-d${seconds}s`, '--latency', '--timeout', `${timeoutSeconds}s`, '-s', script, url], { encoding: 'utf8' });
  const ms = (label: string) => {
    const m = new RegExp(`\\s${label}%\\s+([\\d.]+)(us|ms|s)`).exec(out);
    if (!m) return NaN;
    const v = Number(m[1]);
    return Math.round((m[2] === 'us' ? v / 1000 : m[2] === 's' ? v * 1000 : v) * 100) / 100;
  };
  const non2xx = Number(/Non-2xx or 3xx responses:\s+(\d+)/.exec(out)?.[1] ?? 0);
  const timeouts = Number(/Socket errors: connect \d+, read \d+, write \d+, timeout (\d+)/.exec(out)?.[1] ?? 0);
  return { requestsPerSecond: Math.round(Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1])), p50ms: ms('50'), p99ms: ms('99'), failures: non2xx + timeouts };
}
