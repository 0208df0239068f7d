import { fromHex } from '../../shared/bytes.js';
import { DhtNode } from '../dht/dht-node.js';
import { parsePort, UsageError } from './args.js';
import { envHelp, parseCommandLine } from './env-config.js';
import { timestamp } from './progress.js';
import { parseAddressList } from './torrent-source.js';

/** The options `peer-node dht` accepts. */
export const DHT_OPTIONS = {
  port: { type: 'string' },
  host: { type: 'string' },
  bootstrap: { type: 'string' },
  state: { type: 'string' },
  json: { type: 'boolean' },
  quiet: { type: 'boolean' },
} as const;

export const DHT_HELP = `peer-node dht [--port N] [--host ADDR] [--bootstrap HOST:PORT,...] [--state FILE]
peer-node dht lookup INFOHASH --bootstrap HOST:PORT,... [--port N] [--host ADDR] [--json]

Runs a standalone Mainline DHT node (BEP 5) that prints its routing-table size on stdout as it
changes, until Ctrl-C; or looks an info-hash up and prints the peers found, one ip:port a
line (exit 0 when it found some, 1 when none).

Options:
  --port N             UDP port (default 6881; lookup: any free port; 0 for any)
  --host ADDR          address to bind (default every interface)
  --bootstrap LIST     nodes to start from, HOST:PORT,HOST:PORT
  --state FILE         keep the node id and routing table here across restarts
  --json               lookup: one JSON object (infoHash, peers, queries, unanswered);
                       the node: one JSON line ({"nodes":N,"buckets":B}) per change
  --quiet              the node: no routing-table lines (only the start and stop lines on
                       stderr)

${envHelp('dht')}

Examples:
  peer-node dht --port 6881 --state ~/.peer-node-dht.json
  peer-node dht lookup 2c7989e2a87716200735685e83106a33be68bed6 --bootstrap 127.0.0.1:6881
  peer-node dht lookup 2c7989e2a87716200735685e83106a33be68bed6 --bootstrap 127.0.0.1:6881 --json`;

export async function dhtCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseCommandLine('dht', args, DHT_OPTIONS);
  const port = parsePort(values.port, '--port', 6881);
  let bootstrap;
  try {
    bootstrap = parseAddressList(values.bootstrap);
  } catch (err) {
    throw new UsageError(`--bootstrap ${(err as Error).message}`);
  }
  const lookup = positionals[0] === 'lookup';
  if (positionals.length > (lookup ? 2 : 0)) throw new UsageError('dht takes no arguments, or: lookup INFOHASH');
  const infoHash = lookup ? fromHex(positionals[1] ?? '') : undefined;
  if (lookup && (!infoHash || infoHash.length !== 20)) throw new UsageError('lookup needs a 40-hex-digit INFOHASH');
  if (lookup && bootstrap.length === 0) throw new UsageError('lookup needs --bootstrap nodes (or PEER_NODE_BOOTSTRAP)');

  const node = new DhtNode({ port: lookup && values.port === undefined ? 0 : port, ...(values.host ? { host: values.host } : {}), ...(values.state ? { stateFile: values.state } : {}) });
  node.on('warning', (text: string) => process.stderr.write(`warning: ${text}\n`));
  const bound = await node.listen();
  try {
    if (lookup) {
      await node.bootstrap(bootstrap);
      const { peers, stats } = await node.getPeers(infoHash!);
      const shown = peers.map((p) => (p.host.includes(':') ? `[${p.host}]:${p.port}` : `${p.host}:${p.port}`));
      if (values.json) console.log(JSON.stringify({ infoHash: positionals[1]!.toLowerCase(), peers: shown, queries: stats.queries, unanswered: stats.unanswered }));
      else for (const p of shown) console.log(p);
      if (peers.length === 0) process.stderr.write(`peer-node dht: no peers found for ${positionals[1]!.toLowerCase()} (${stats.queries} queries, ${stats.unanswered} unanswered): check --bootstrap\n`);
      return peers.length > 0 ? 0 : 1;
    }
    process.stderr.write(`peer-node dht: node ${Buffer.from(node.id).toString('hex')} on UDP port ${bound}; Ctrl-C to stop\n`);
    const started = Date.now();
    let last = -1;
    const report = () => {
      if (node.table.size === last) return;
      last = node.table.size;
      if (values.quiet) return;
      if (values.json) console.log(JSON.stringify({ time: timestamp(), nodes: last, buckets: node.table.bucketCount }));
      else console.log(`routing table: ${last} nodes in ${node.table.bucketCount} buckets`);
    };
    report();
    if (bootstrap.length) void node.bootstrap(bootstrap).then(report);
    const timer = setInterval(report, 1000);
    await new Promise<void>((resolve) => {
      process.once('SIGINT', resolve);
      process.once('SIGTERM', resolve);
    });
    clearInterval(timer);
    await node.saveState();
    process.stderr.write(`peer-node dht: stopped after ${Math.round((Date.now() - started) / 1000)} s with ${node.table.size} nodes in ${node.table.bucketCount} buckets\n`);
    return 0;
  } finally {
    node.close();
  }
}
