import { request } from 'undici';
import { CliError } from './args.js';
import { isNetworkError, networkReason } from './cli-errors.js';

/**
 * Fails at once, in one line, when nothing answers at the edge's address: before publish hashes
 * gigabytes, and before udp-gateway relays datagrams into nothing. An answer of any kind (even
 * an error status) means the edge is there; what it says is for the real requests to report.
 */
export async function checkEdgeReachable(edge: URL): Promise<void> {
  try {
    const response = await request(new URL('/health', edge), { headersTimeout: 15_000, bodyTimeout: 15_000 });
    await response.body.dump();
  } catch (err) {
    if (isNetworkError(err)) throw edgeUnreachable(edge, err);
  }
}

/** The one-line error for an edge that does not answer. */
export function edgeUnreachable(edge: URL, err: unknown): CliError {
  return new CliError(`cannot reach the edge at ${edge.href} (${networkReason(err)}): check that the edge is running (npm start) and that --edge or EDGE_URL points at it`);
}
