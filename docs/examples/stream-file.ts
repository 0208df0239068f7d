/**
 * Streaming: play a torrent's file over localhost HTTP while it downloads. The StreamServer
 * sets the torrent's playback position from each request (`torrent.setPlayback`), so the pieces
 * ahead of the player come first (the next 2 s in order, the rest of the window rarest first),
 * with deadlines; a response only ever carries verified bytes.
 *
 *   node --import tsx docs/examples/stream-file.ts
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { Client } from '../../peer-node/client.js';
import { StreamServer } from '../../peer-node/stream/stream-server.js';
import { buildTorrent, hashPieces } from '../../shared/metainfo/index.js';

/** Seeds `data` from one peer and streams it from another; returns what a player read from `range`. */
export async function streamFile(data: Uint8Array, root: string, range: { start: number; end: number }): Promise<{ url: string; status: number; body: Uint8Array }> {
  const pieceLength = 16 * 1024;
  const { torrent } = await buildTorrent({ name: 'clip.mp4', pieceLength, pieces: await hashPieces(data, pieceLength), length: data.length });
  await mkdir(path.join(root, 'seed'), { recursive: true });
  await writeFile(path.join(root, 'seed', 'clip.mp4'), data);

  // The seeder's upload is capped, so the file really arrives while it plays.
  const seeder = new Client({ port: 0, host: '127.0.0.1', dht: false, uploadRateLimit: 256 * 1024 });
  const viewer = new Client({ port: 0, host: '127.0.0.1', dht: false });
  let server: StreamServer | undefined;
  try {
    await seeder.listen();
    await viewer.listen();
    await seeder.add(torrent, { dir: path.join(root, 'seed'), trackers: false });
    const playing = await viewer.add(torrent, { dir: path.join(root, 'viewer'), trackers: false });
    playing.addPeers([{ host: '127.0.0.1', port: seeder.port }]);
    // File 0, playing at 64 KiB/s: deadlines follow that rate from where the player reads.
    server = new StreamServer(playing, 0, { host: '127.0.0.1', port: 0, bytesPerSecond: 64 * 1024 });
    const url = await server.listen();
    console.log(`open ${url} in a media player`);
    const response = await fetch(url, { headers: { range: `bytes=${range.start}-${range.end}` } });
    const body = new Uint8Array(await response.arrayBuffer());
    return { url, status: response.status, body };
  } finally {
    await server?.close();
    await viewer.close();
    await seeder.close();
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const root = await mkdtemp(path.join(tmpdir(), 'example-stream-'));
  const data = new Uint8Array(512 * 1024).map((_, i) => (i * 31) & 0xff);
  const { status, body } = await streamFile(data, root, { start: 300_000, end: 399_999 });
  console.log(`HTTP ${status}: ${body.length} bytes, identical: ${Buffer.compare(body, data.subarray(300_000, 400_000)) === 0}`);
  await rm(root, { recursive: true, force: true });
}
