import { mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { ParsedTorrent } from '../../shared/metainfo/torrent-file.js';
import { Client } from '../client.js';
import { StreamServer } from '../stream/stream-server.js';
import { streamLayered } from './stream-layered.js';
import { parsePort, parseRate, UsageError } from './args.js';
import { sourcePolicyOf, STREAM_EDGE_HELP, STREAM_EDGE_OPTIONS } from './edge-flags.js';
import { envHelp, parseCommandLine } from './env-config.js';
import { formatBytes, PLAIN_EVERY_MS, transferLine, transferSummary } from './progress.js';
import { peerClientOptions } from './peer-client.js';
import { loadSource, parseAddressList, parsePeerArg, torrentOf } from './torrent-source.js';

export const STREAM_HELP = `peer-node stream SOURCE [options]

Plays a file of a torrent while it downloads: serves it over HTTP on localhost for a media
player and prints the URL as the first line of output. The pieces ahead of the playback
position come first, in order; the edge (the torrent's web seeds) fills in when the swarm is
too thin or too slow for playback. SOURCE is a .torrent file, an http(s) URL of one, or a magnet.
Runs until Ctrl-C (the download goes on in the background while it plays).

Options:
  --file N             the file to play (index from peer-node info; default the largest)
  --port P             HTTP port of the stream (default any free port)
  --bitrate RATE       bytes a second the media plays at, for piece deadlines (default 256k)
  --out DIR            where the data goes (default a folder under the system's temp folder)
  --peer-port N        TCP port for peers (default any free port)
  --host ADDR          address peers reach us on (default every interface)
  --peer HOST:PORT     also connect to this peer; repeatable
  --no-dht             do not use the DHT
  --no-lsd             do not look for peers on the local network (BEP 14)
  --no-local-tracker   do not look for the network's local tracker (BEP 22)
  --dns-server LIST    DNS servers the local tracker lookup asks, IP or IP:PORT, comma-separated
                       (IPv6 with a port in brackets; default the system's)
  --bootstrap LIST     DHT nodes to start from, HOST:PORT,HOST:PORT
  --no-web-seeds       never fetch from the edge; peers only
${STREAM_EDGE_HELP}
  --upload-limit RATE  cap uploads at RATE bytes a second (suffixes k, M)
  --download-limit RATE  cap downloads at RATE bytes a second
  --quiet              no progress line
  --json               stdout: the URL first (as always), then, when it ends, one JSON
                       summary line instead of the other lines; no progress

Layered assets (PPSP layered streaming; see docs/LAYERED.md):
  --layered            play a layered asset: layer info from the tracker (GET-LAYER), the
                       highest layer set the measured bandwidth sustains, switched with
                       hysteresis and told to peers and tracker (LAYER-CHANGE). The URL is an
                       HLS playlist; stdout has a line per segment played with its layer.
                       Exits once the last segment has played.
  --layer-info SRC     layer info from a file or URL instead of the tracker
  --layer N            play layer N throughout (no adaptation)

Progress goes to stderr: on a terminal one line redrawn in place (done/total, %, rates,
peers, bytes from peers and from the edge, ETA); otherwise a timestamped line every 5 s; then
one summary line when it stops.

${envHelp('stream')}

Examples:
  peer-node stream talk.torrent
  mpv "$(peer-node stream 'magnet:?xt=urn:btih:...' | head -1)"
  peer-node stream --layered talk.torrent --json
  peer-node stream movie.torrent --file 2 --bitrate 1M --port 8000 --quiet`;

/** The options `peer-node stream` accepts. */
export const STREAM_OPTIONS = {
  file: { type: 'string' },
  port: { type: 'string' },
  bitrate: { type: 'string' },
  out: { type: 'string' },
  'peer-port': { type: 'string' },
  host: { type: 'string' },
  peer: { type: 'string', multiple: true },
  'no-dht': { type: 'boolean' },
  'no-lsd': { type: 'boolean' },
  'no-local-tracker': { type: 'boolean' },
  'dns-server': { type: 'string' },
  bootstrap: { type: 'string' },
  'no-web-seeds': { type: 'boolean' },
  ...STREAM_EDGE_OPTIONS,
  'upload-limit': { type: 'string' },
  'download-limit': { type: 'string' },
  quiet: { type: 'boolean' },
  layered: { type: 'boolean' },
  'layer-info': { type: 'string' },
  layer: { type: 'string' },
  json: { type: 'boolean' },
} as const;

export async function streamCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseCommandLine('stream', args, STREAM_OPTIONS);
  if (positionals.length !== 1) throw new UsageError('stream takes exactly one SOURCE');
  const httpPort = parsePort(values.port, '--port', 0);
  const peerPort = parsePort(values['peer-port'], '--peer-port', 0);
  const bitrate = values.bitrate === undefined ? 256 * 1024 : parseRate(values.bitrate, '--bitrate');
  if (values.layer !== undefined && !/^\d{1,2}$/.test(values.layer)) throw new UsageError(`--layer: expected a layer number, got ${JSON.stringify(values.layer)}`);
  const fixedLayer = values.layer === undefined ? undefined : Number(values.layer);
  if (!values.layered && (values['layer-info'] || values.layer !== undefined)) throw new UsageError('--layer-info and --layer go with --layered');
  if (values.layered && (values.bitrate !== undefined || values.file !== undefined)) throw new UsageError('--bitrate and --file do not go with --layered (the layer info says both)');
  let peers;
  let bootstrap;
  try {
    peers = (values.peer ?? []).map(parsePeerArg);
    bootstrap = parseAddressList(values.bootstrap);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  // Checked (rates too) before anything is loaded or started.
  const clientOptions = peerClientOptions(values, peerPort, bootstrap);
  const sourcePolicy = sourcePolicyOf(values);
  const source = await loadSource(positionals[0]!, { dht: !values['no-dht'] });
  const client = new Client(clientOptions);
  let server: StreamServer | undefined;
  try {
    await client.listen();
    const { torrent: metainfo, peers: sourcePeers } = await torrentOf(source, client, (text) => process.stderr.write(`peer-node stream: ${text}\n`));
    if (values.layered) {
      return await streamLayered({
        client,
        metainfo,
        peers: (metainfo.info.private ? [] : sourcePeers).concat(peers),
        httpPort,
        webSeeds: !values['no-web-seeds'],
        sourcePolicy,
        json: values.json === true,
        quiet: values.quiet === true,
        ...(values.out ? { out: values.out } : {}),
        ...(values['layer-info'] ? { layerInfo: values['layer-info'] } : {}),
        ...(fixedLayer !== undefined ? { fixedLayer } : {}),
      });
    }
    const files = metainfo.info.files;
    const fileIndex = values.file === undefined ? largestFile(files) : Number(values.file);
    if (!Number.isInteger(fileIndex) || !files[fileIndex] || files[fileIndex]!.padding) {
      throw new UsageError(`--file: the torrent has files 0-${files.length - 1} (see peer-node info), not ${values.file}`);
    }
    const dir = values.out ?? path.join(tmpdir(), 'peer-node-stream', metainfo.infoHashHex);
    await mkdir(dir, { recursive: true });
    const torrent = await client.add(metainfo, { dir, files: [fileIndex], webSeeds: !values['no-web-seeds'], sourcePolicy });
    torrent.addPeers((metainfo.info.private ? [] : sourcePeers).concat(peers));
    server = new StreamServer(torrent, fileIndex, { port: httpPort, bytesPerSecond: bitrate });
    const url = await server.listen();
    // The URL first, alone on stdout, so that scripts can take it with `head -1`.
    process.stdout.write(`${url}\n`);
    const started = Date.now();
    const line = transferLine(process.stderr, PLAIN_EVERY_MS, !values.quiet && !values.json);
    const say = (text: string) => {
      if (values.json) return;
      line.interrupt();
      process.stderr.write(`${text}\n`);
    };
    say(`peer-node stream: ${server.name} of ${metainfo.info.name}, data in ${dir}; Ctrl-C to stop`);
    const report = () => line.update(torrent.complete ? 'complete' : 'streaming', torrent.statsSnapshot());
    report();
    const ticker = setInterval(report, 1000);
    torrent.on('warning', (text: string) => !values.quiet && say(`warning: ${text}`));
    await new Promise<void>((resolve) => {
      process.once('SIGINT', resolve);
      process.once('SIGTERM', resolve);
    });
    clearInterval(ticker);
    line.done();
    const s = torrent.statsSnapshot();
    const seconds = (Date.now() - started) / 1000;
    if (values.json) process.stdout.write(`${JSON.stringify({ ...s, url, file: fileIndex, served: server.served, seconds })}\n`);
    else say(`${transferSummary('stopped', s, seconds)}; ${formatBytes(server.served)} played out`);
    return 0;
  } finally {
    await server?.close();
    await client.close();
  }
}

function largestFile(files: ParsedTorrent['info']['files']): number {
  let best = 0;
  for (let i = 1; i < files.length; i++) if (!files[i]!.padding && files[i]!.length > files[best]!.length) best = i;
  return best;
}
