import { startUdpGateway } from '../gateway/udp-gateway.js';
import { UsageError } from './args.js';
import { envHelp, parseCommandLine } from './env-config.js';
import { checkEdgeReachable } from './edge-reachable.js';
import { localSecret } from './local-secret.js';

/** The options `peer-node udp-gateway` accepts. */
export const UDP_GATEWAY_OPTIONS = {
  listen: { type: 'string' },
  edge: { type: 'string' },
  secret: { type: 'string' },
} as const;

export const UDP_GATEWAY_HELP = `peer-node udp-gateway [--listen HOST:PORT] [--edge URL] [--secret S]

Receives BEP 15 UDP tracker datagrams and relays each to the edge's POST /udp (a Worker cannot
receive UDP). Real clients then use udp://HOST:PORT/announce as their tracker. It starts only
when the edge answers (an edge that does not: one line, exit 1); later outages are reported
once per distinct error while it keeps relaying.

Options:
  --listen HOST:PORT   where to receive datagrams (default 127.0.0.1:6969)
  --edge URL           the edge (default http://127.0.0.1:8787)
  --secret S           the edge's GATEWAY_SECRET; default: $GATEWAY_SECRET, else the local
                       edge's $EDGE_STATE_DIR/secrets.json (./.edge-state), as npm start wrote it

${envHelp('udp-gateway')}

Examples:
  npx peer-node udp-gateway --listen 127.0.0.1:6969 --edge http://127.0.0.1:8787
  EDGE_URL=https://edge.example GATEWAY_SECRET=... npx peer-node udp-gateway --listen 0.0.0.0:6969`;

export async function udpGatewayCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseCommandLine('udp-gateway', args, UDP_GATEWAY_OPTIONS);
  if (positionals.length > 0) throw new UsageError(`unexpected argument ${positionals[0]}`);
  const listen = parseHostPort(values.listen ?? '127.0.0.1:6969');
  let edge: URL;
  try {
    edge = new URL(values.edge ?? 'http://127.0.0.1:8787');
  } catch {
    throw new UsageError(`--edge is not a URL: ${values.edge}`);
  }
  const secret = values.secret ?? (await localSecret('GATEWAY_SECRET', '--secret'));
  // A gateway in front of nothing would answer no client and say so only per datagram.
  await checkEdgeReachable(edge);
  const gateway = await startUdpGateway({ ...listen, edge, secret });
  const shown = gateway.address.host.includes(':') ? `[${gateway.address.host}]` : gateway.address.host;
  console.log(`udp-gateway: udp://${shown}:${gateway.address.port}/announce -> ${edge.origin}/udp/batch`);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await gateway.close();
  const s = gateway.stats;
  console.log(`udp-gateway: stopped after ${s.received} datagrams (${s.answered} answered, ${s.silent} silent, ${s.dropped} dropped, ${s.errors} errors)`);
  return 0;
}

function parseHostPort(text: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]+)):(\d{1,5})$/.exec(text);
  const port = Number(m?.[3]);
  if (!m || port > 65535) throw new UsageError(`--listen must be HOST:PORT, got ${text}`);
  return { host: (m[1] ?? m[2])!, port };
}
