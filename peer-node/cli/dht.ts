import { fromHex } from '../../shared/bytes.js';
import { DhtNode } from '../dht/dht-node.js';
import { parseCommandArgs, parsePort, UsageError } from './args.js';
import { parseAddressList } from './torrent-source.js';

export const DHT_HELP = `peer-node dht [--port N] [--host ADDR] [--bootstrap HOST:PORT,...]
peer-node dht lookup INFOHASH --bootstrap HOST:PORT,... [--port N] [--host ADDR]

Runs a standalone Mainline DHT node (BEP 5) that prints its routing-table size as it changes,
until Ctrl-C; or looks an info-hash up and prints the peers found, one ip:port a line.

Options:
  --port N             UDP port (default 6881; 0 for any)
  --host ADDR          address to bind (default every interface)
  --bootstrap LIST     nodes to start from, HOST:PORT,HOST:PORT
  --state FILE         keep the node id and routing table here across restarts

Examples:
  peer-node dht --port 6881
  peer-node dht lookup 2c7989e2a87716200735685e83106a33be68bed6 --bootstrap 127.0.0.1:6881`;

export async function dhtCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs(args, {
    port: { type: 'string' },
    host: { type: 'string' },
    bootstrap: { type: 'string' },
    state: { type: 'string' },
  });
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
  if (lookup && bootstrap.length === 0) throw new UsageError('lookup needs --bootstrap nodes');

  const node = new DhtNode({ port: lookup && values.port === undefined ? 0 : port, ...(values.host ? { host: values.host } : {}), ...(values.state ? { stateFile: values.state } : {}) });
  node.on('warning', (text: string) => process.stderr.write(`warning: ${text}\n`));
  const bound = await node.listen();
  try {
    if (lookup) {
      await node.bootstrap(bootstrap);
      const { peers } = await node.getPeers(infoHash!);
      for (const p of peers) console.log(p.host.includes(':') ? `[${p.host}]:${p.port}` : `${p.host}:${p.port}`);
      return peers.length > 0 ? 0 : 1;
    }
    process.stderr.write(`peer-node dht: node ${Buffer.from(node.id).toString('hex')} on UDP port ${bound}\n`);
    let last = -1;
    const report = () => {
      if (node.table.size !== last) {
        last = node.table.size;
        console.log(`routing table: ${last} nodes in ${node.table.bucketCount} buckets`);
      }
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
    return 0;
  } finally {
    node.close();
  }
}
