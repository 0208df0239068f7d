import type { PeerAddress } from '../../shared/compact/index.js';
import type { ParsedTorrent } from '../../shared/metainfo/torrent-file.js';
import { Client } from '../client.js';
import type { Torrent } from '../engine/torrent.js';
import { parseCommandArgs, parsePort, parseRate, UsageError } from './args.js';
import { transferLine } from './progress.js';
import { loadSource, parseAddressList, parsePeerArg, torrentOf } from './torrent-source.js';

const COMMON_OPTIONS = `  --port N             TCP port for peers (default 6881; another free port if that is taken)
  --host ADDR          address to listen on (default every interface)
  --peer HOST:PORT     also connect to this peer; repeatable
  --no-dht             do not use the DHT (trackers and given peers only)
  --bootstrap LIST     DHT nodes to start from, HOST:PORT,HOST:PORT
  --no-web-seeds       never fetch from the torrent's web seeds (the edge); peers only
  --web-seed URL       also fetch from this BEP 19 web seed; repeatable
  --upload-limit RATE  cap uploads at RATE bytes a second (suffixes k, M: 500k, 2M)
  --download-limit RATE  cap downloads (peers and web seeds) at RATE bytes a second
  --json               print one JSON summary at the end instead of progress lines
  --quiet              no progress line`;

export const DOWNLOAD_HELP = `peer-node download SOURCE --out DIR [options]

Downloads a torrent into DIR (DIR/NAME), checking first what DIR already holds, and exits 0 once
every wanted file is complete and verified. SOURCE is a .torrent file, an http(s) URL of one, or
a magnet link (the torrent then comes from peers: x.pe= addresses and tr= trackers, or
from an xs= URL).

Options:
  --out DIR            where the torrent's NAME goes (required)
  --files LIST         only these files (indexes from peer-node info, e.g. 0,2-4)
  --seed               keep seeding after the download completes, until Ctrl-C
${COMMON_OPTIONS}

Examples:
  peer-node download movie.torrent --out ./downloads
  peer-node download http://127.0.0.1:8787/api/torrents/HASH/torrent --out . --seed`;

export const SEED_HELP = `peer-node seed TORRENT --dir DIR [options]

Seeds a torrent whose content is in DIR (DIR/NAME). The content is verified first; missing
pieces are downloaded. Runs until Ctrl-C.

Options:
  --dir DIR            the folder that holds the torrent's NAME (required)
  --super-seed         BEP 16 super-seeding: show each peer one piece at a time (initial seeds)
${COMMON_OPTIONS}

Example:
  peer-node seed movie.torrent --dir ./media --port 6881`;

const OPTIONS = {
  out: { type: 'string' },
  dir: { type: 'string' },
  files: { type: 'string' },
  seed: { type: 'boolean' },
  port: { type: 'string' },
  host: { type: 'string' },
  peer: { type: 'string', multiple: true },
  'no-dht': { type: 'boolean' },
  bootstrap: { type: 'string' },
  json: { type: 'boolean' },
  quiet: { type: 'boolean' },
  'super-seed': { type: 'boolean' },
  'no-web-seeds': { type: 'boolean' },
  'web-seed': { type: 'string', multiple: true },
  'upload-limit': { type: 'string' },
  'download-limit': { type: 'string' },
} as const;


export function downloadCommand(args: string[]): Promise<number> {
  return transfer(args, 'download');
}

export function seedCommand(args: string[]): Promise<number> {
  return transfer(args, 'seed');
}

async function transfer(args: string[], mode: 'download' | 'seed'): Promise<number> {
  const { values, positionals } = parseCommandArgs(args, OPTIONS);
  if (positionals.length !== 1) throw new UsageError(`${mode} takes exactly one ${mode === 'seed' ? 'TORRENT' : 'SOURCE'}`);
  const dir = mode === 'seed' ? values.dir : values.out;
  if (!dir) throw new UsageError(mode === 'seed' ? '--dir DIR is required' : '--out DIR is required');
  const port = parsePort(values.port, '--port');
  const uploadLimit = values['upload-limit'] === undefined ? undefined : parseRate(values['upload-limit'], '--upload-limit');
  const downloadLimit = values['download-limit'] === undefined ? undefined : parseRate(values['download-limit'], '--download-limit');
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

  const source = await loadSource(positionals[0]!, { dht: !values['no-dht'] });
  const client = new Client({
    ...(values.host ? { host: values.host } : {}),
    port: port ?? 6881,
    dht: !values['no-dht'],
    dhtBootstrap: bootstrap,
    ...(uploadLimit !== undefined ? { uploadRateLimit: uploadLimit } : {}),
    ...(downloadLimit !== undefined ? { downloadRateLimit: downloadLimit } : {}),
  });
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
  const say = (text: string) => !values.json && err.write(`${text}\n`);
  say(`peer-node ${mode}: ${metainfo.info.name} (${metainfo.infoHashHex}), listening on port ${client.port}`);

  const seedAfter = mode === 'seed' || values.seed === true;
  let torrent: Torrent | undefined;
  const line = transferLine(err);
  const started = Date.now();
  let finished = false;
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
      .add(metainfo, { dir, ...(files ? { files } : {}), ...(values['super-seed'] ? { superSeed: true } : {}), webSeeds: !values['no-web-seeds'] })
      .then((t) => {
        torrent = t;
        for (const url of values['web-seed'] ?? []) t.addWebSeed(url);
        if (finished) return; // interrupted while checking the files
        const onDisk = t.have.count;
        if (mode === 'seed' && onDisk === 0 && t.geometry.pieceCount > 0) {
          err.write(`peer-node seed: no piece of ${metainfo.info.name} verifies in ${dir}: is DIR the folder that holds ${metainfo.info.name}?\n`);
          return finish(1);
        }
        say(`checked ${dir}: ${onDisk} of ${t.geometry.pieceCount} pieces already there`);
        t.on('warning', (text: string) => say(`warning: ${text}`));
        t.on('ban', (id: string, reason: string) => say(`banned ${id}: ${reason}`));
        // BEP 27: a private torrent's peers come from its tracker (and the user), not the magnet.
        t.addPeers((metainfo.info.private ? [] : sourcePeers).concat(peers));
        const report = () => {
          if (!values.json && !values.quiet) line.update(!t.complete ? 'downloading' : seedAfter ? 'seeding' : 'complete', t.statsSnapshot());
        };
        ticker = setInterval(report, 500);
        const onDone = () => {
          report();
          line.done();
          const s = t.statsSnapshot();
          const seconds = (Date.now() - started) / 1000;
          if (mode === 'download' && s.done > 0) say(`complete: ${s.wanted} bytes in ${seconds.toFixed(1)} s (${(s.bytesFromPeers / 1048576).toFixed(1)} MiB from peers, ${(s.bytesFromWebSeeds / 1048576).toFixed(1)} MiB from web seeds, the edge)`);
          if (!seedAfter) finish(0);
          else say(`seeding ${metainfo.info.name}; Ctrl-C to stop`);
        };
        if (t.complete) onDone();
        else t.once('done', onDone);
      })
      .catch((e: Error) => {
        if (finished) return; // stopped while checking: the check's end is no error
        err.write(`peer-node ${mode}: ${e.message}\n`);
        finish(1);
      });
  });
  const summary = torrent?.statsSnapshot();
  await client.close();
  if (values.json && summary) {
    console.log(JSON.stringify({ ...summary, seconds: (Date.now() - started) / 1000 }));
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
