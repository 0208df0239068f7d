import type { PeerAddress } from '../../shared/compact/index.js';
import type { ParsedTorrent } from '../../shared/metainfo/torrent-file.js';
import { Client } from '../client.js';
import type { Torrent } from '../engine/torrent.js';
import { parsePort, UsageError } from './args.js';
import { EDGE_HELP, EDGE_OPTIONS, sourcePolicyOf } from './edge-flags.js';
import { envHelp, parseCommandLine } from './env-config.js';
import { PLAIN_EVERY_MS, transferLine, transferSummary } from './progress.js';
import { peerClientOptions } from './peer-client.js';
import { loadSource, parseAddressList, parsePeerArg, torrentOf } from './torrent-source.js';

const COMMON_OPTIONS = `  --port N             TCP port for peers (default 6881; another free port if that is taken)
  --host ADDR          address to listen on (default every interface)
  --peer HOST:PORT     also connect to this peer; repeatable
  --no-dht             do not use the DHT (trackers and given peers only)
  --no-lsd             do not look for peers on the local network (BEP 14)
  --no-local-tracker   do not look for the network's local tracker (BEP 22)
  --dns-server LIST    DNS servers the local tracker lookup asks, IP or IP:PORT, comma-separated
                       (IPv6 with a port in brackets; default the system's)
  --bootstrap LIST     DHT nodes to start from, HOST:PORT,HOST:PORT
  --no-web-seeds       never fetch from the torrent's web seeds (the edge); peers only
  --web-seed URL       also fetch from this BEP 19 web seed; repeatable
${EDGE_HELP}
  --upload-limit RATE  cap uploads at RATE bytes a second (suffixes k, M: 500k, 2M)
  --download-limit RATE  cap downloads (peers and web seeds) at RATE bytes a second
  --quiet              no progress line (the other lines and the summary stay)`;

const PROGRESS_NOTE = `Progress goes to stderr: on a terminal one line redrawn in place (done/total, %, down and
up rates, peers, bytes from peers and from web seeds, ETA); otherwise a timestamped line every
5 s; then one summary line.`;

export const DOWNLOAD_HELP = `peer-node download SOURCE --out DIR [options]

Downloads a torrent into DIR (DIR/NAME), checking first what DIR already holds, and exits 0 once
every wanted file is complete and verified. SOURCE is a .torrent file, an http(s) URL of one, or
a magnet link (the torrent then comes from peers: x.pe= addresses and tr= trackers, or
from an xs= URL). A missing or unreadable SOURCE, or a server that does not answer: one line
on stderr, exit 1. Ctrl-C stops it with exit 130.

Options:
  --out DIR            where the torrent's NAME goes (required)
  --files LIST         only these files (indexes from peer-node info, e.g. 0,2-4)
  --seed               keep seeding after the download completes, until Ctrl-C
${COMMON_OPTIONS}
  --json               no progress; at the end one JSON object on stdout (infoHash, name,
                       done, wanted, complete, rates, peers, bytesFromPeers,
                       bytesFromWebSeeds, edgePieces, webSeeds, uploaded, seconds, ...)

${PROGRESS_NOTE}

${envHelp('download')}

Examples:
  peer-node download movie.torrent --out ./downloads
  peer-node download http://127.0.0.1:8787/t/HASH.torrent --out . --seed
  peer-node download 'magnet:?xt=urn:btih:HASH&tr=...' --out ./dl --files 0,2 --json
  PEER_NODE_DOWNLOAD_LIMIT=1M peer-node download movie.torrent --out ./dl`;

export const SEED_HELP = `peer-node seed TORRENT --dir DIR [options]

Seeds a torrent whose content is in DIR (DIR/NAME). The content is verified first; missing
pieces are downloaded. Runs until Ctrl-C (exit 0 once complete).

Options:
  --dir DIR            the folder that holds the torrent's NAME (required)
  --super-seed         BEP 16 super-seeding: show each peer one piece at a time (initial seeds)
${COMMON_OPTIONS}
  --json               no progress; when stopped, one JSON object on stdout (as download's)

${PROGRESS_NOTE}

${envHelp('seed')}

Examples:
  peer-node seed movie.torrent --dir ./media --port 6881
  peer-node seed movie.torrent --dir ./media --super-seed --upload-limit 2M
  PEER_NODE_PORT=51413 PEER_NODE_NO_DHT=1 peer-node seed movie.torrent --dir ./media`;

const SHARED_OPTIONS = {
  port: { type: 'string' },
  host: { type: 'string' },
  peer: { type: 'string', multiple: true },
  'no-dht': { type: 'boolean' },
  'no-lsd': { type: 'boolean' },
  'no-local-tracker': { type: 'boolean' },
  'dns-server': { type: 'string' },
  bootstrap: { type: 'string' },
  json: { type: 'boolean' },
  quiet: { type: 'boolean' },
  'no-web-seeds': { type: 'boolean' },
  'web-seed': { type: 'string', multiple: true },
  'upload-limit': { type: 'string' },
  'download-limit': { type: 'string' },
  ...EDGE_OPTIONS,
} as const;

/** The options `peer-node download` accepts. */
export const DOWNLOAD_OPTIONS = { ...SHARED_OPTIONS, out: { type: 'string' }, files: { type: 'string' }, seed: { type: 'boolean' } } as const;

/** The options `peer-node seed` accepts. */
export const SEED_OPTIONS = { ...SHARED_OPTIONS, dir: { type: 'string' }, 'super-seed': { type: 'boolean' } } as const;

export function downloadCommand(args: string[]): Promise<number> {
  return transfer(args, 'download');
}

export function seedCommand(args: string[]): Promise<number> {
  return transfer(args, 'seed');
}

async function transfer(args: string[], mode: 'download' | 'seed'): Promise<number> {
  // Both tables, typed as one: the parser accepts only the mode's own.
  const { values, positionals } = parseCommandLine(mode, args, (mode === 'seed' ? SEED_OPTIONS : DOWNLOAD_OPTIONS) as typeof SHARED_OPTIONS & typeof DOWNLOAD_OPTIONS & typeof SEED_OPTIONS);
  if (positionals.length !== 1) throw new UsageError(`${mode} takes exactly one ${mode === 'seed' ? 'TORRENT' : 'SOURCE'}`);
  const dir = mode === 'seed' ? values.dir : values.out;
  if (!dir) throw new UsageError(mode === 'seed' ? '--dir DIR is required' : '--out DIR is required');
  const port = parsePort(values.port, '--port');
  let peers;
  let files: number[] | undefined;
  let bootstrap: { host: string; port: number }[] = [];
  try {
    peers = (values.peer ?? []).map(parsePeerArg);
    bootstrap = parseAddressList(values.bootstrap);
    files = values.files === undefined ? undefined : parseFileList(values.files);
    for (const url of values['web-seed'] ?? []) if (!/^https?:\/\//.test(url)) throw new RangeError(`--web-seed must be an http(s) URL, got ${url}`);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }

  // Checked (rates too) before anything is loaded or started.
  const clientOptions = peerClientOptions(values, port ?? 6881, bootstrap);
  const sourcePolicy = sourcePolicyOf(values);
  const source = await loadSource(positionals[0]!, { dht: !values['no-dht'] });
  const client = new Client(clientOptions);
  try {
    await client.listen();
  } catch (err) {
    if (port !== undefined || (err as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw err;
    await client.close();
    return transfer([...args, '--port', '0'], mode);
  }
  let metainfo: ParsedTorrent;
  let sourcePeers: PeerAddress[];
  try {
    ({ torrent: metainfo, peers: sourcePeers } = await torrentOf(source, client, (text) => !values.json && process.stderr.write(`peer-node ${mode}: ${text}\n`)));
  } catch (err) {
    await client.close();
    throw err;
  }
  if (files) {
    const bad = files.find((i) => i >= metainfo.info.files.length);
    if (bad !== undefined) {
      await client.close();
      throw new UsageError(`--files: the torrent has ${metainfo.info.files.length} files (0-${metainfo.info.files.length - 1}), not ${bad}`);
    }
  }
  const err = process.stderr;
  const line = transferLine(err, PLAIN_EVERY_MS, !values.json && !values.quiet);
  // Other lines clear the live progress line first (on a terminal), and are off under --json.
  const say = (text: string) => {
    if (values.json) return;
    line.interrupt();
    err.write(`${text}\n`);
  };
  say(`peer-node ${mode}: ${metainfo.info.name} (${metainfo.infoHashHex}), listening on port ${client.port}; checking ${dir}`);

  const seedAfter = mode === 'seed' || values.seed === true;
  let torrent: Torrent | undefined;
  const started = Date.now();
  let finished = false;
  let summarised = false;
  const result = await new Promise<number>((resolve) => {
    let ticker: NodeJS.Timeout | undefined;
    const finish = (code: number) => {
      if (finished) return;
      finished = true;
      clearInterval(ticker);
      process.off('SIGINT', interrupt);
      process.off('SIGTERM', interrupt);
      resolve(code);
    };
    const interrupt = () => finish(seedAfter && torrent?.complete ? 0 : 130);
    process.on('SIGINT', interrupt);
    process.on('SIGTERM', interrupt);
    client
      .add(metainfo, { dir, ...(files ? { files } : {}), ...(values['super-seed'] ? { superSeed: true } : {}), webSeeds: !values['no-web-seeds'], sourcePolicy })
      .then((t) => {
        torrent = t;
        for (const url of values['web-seed'] ?? []) t.addWebSeed(url);
        if (finished) return; // interrupted while checking the files
        const onDisk = t.have.count;
        if (mode === 'seed' && onDisk === 0 && t.geometry.pieceCount > 0) {
          err.write(`peer-node seed: no piece of ${metainfo.info.name} verifies in ${dir}: is DIR the folder that holds ${metainfo.info.name}?\n`);
          summarised = true;
          return finish(1);
        }
        say(`checked ${dir}: ${onDisk} of ${t.geometry.pieceCount} pieces already there`);
        t.on('warning', (text: string) => say(`warning: ${text}`));
        t.on('ban', (id: string, reason: string) => say(`banned ${id}: ${reason}`));
        // BEP 27: a private torrent's peers come from its tracker (and the user), not the magnet.
        t.addPeers((metainfo.info.private ? [] : sourcePeers).concat(peers));
        const report = () => line.update(!t.complete ? 'downloading' : seedAfter ? 'seeding' : 'complete', t.statsSnapshot());
        report();
        ticker = setInterval(report, line.tty ? 500 : 1000);
        const onDone = () => {
          report();
          line.done();
          const s = t.statsSnapshot();
          if (mode === 'download' && s.done > 0) say(transferSummary('complete', s, (Date.now() - started) / 1000));
          if (!seedAfter) {
            summarised = true;
            finish(0);
          } else say(`seeding ${metainfo.info.name}; Ctrl-C to stop`);
        };
        if (t.complete) onDone();
        else t.once('done', onDone);
      })
      .catch((e: Error) => {
        if (finished) return; // stopped while checking: the check's end is no error
        line.interrupt();
        err.write(`peer-node ${mode}: ${e.message}\n`);
        summarised = true;
        finish(1);
      });
  });
  line.done();
  const summary = torrent?.statsSnapshot();
  const seconds = (Date.now() - started) / 1000;
  // Stopped by Ctrl-C (a seed, or a download before its end): what was done, in one line.
  if (!summarised && summary) say(transferSummary('stopped', summary, seconds));
  await client.close();
  if (values.json && summary) {
    console.log(JSON.stringify({ ...summary, seconds }));
  }
  return result;
}

/** "0,2-4" -> [0, 2, 3, 4]. */
export function parseFileList(text: string): number[] {
  const out = new Set<number>();
  for (const part of text.split(',')) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part.trim());
    if (!m) throw new RangeError(`--files ${JSON.stringify(text)}: expected indexes like 0,2-4`);
    const from = Number(m[1]);
    const to = m[2] === undefined ? from : Number(m[2]);
    if (to < from || to - from > 1_000_000) throw new RangeError(`--files: bad range ${part}`);
    for (let i = from; i <= to; i++) out.add(i);
  }
  return [...out].sort((a, b) => a - b);
}
