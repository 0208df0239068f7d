import { open } from 'node:fs/promises';
import { request } from 'undici';
import { buildTorrent, choosePieceLength, PieceHasher } from '../../shared/metainfo/build-torrent.js';
import { walkFiles } from '../storage/walk-files.js';

export interface PublishOptions {
  path: string;
  edge: URL;
  token: string;
  private?: boolean;
  pieceLength?: number;
  /**
   * For a folder: which of its files (path components below it) go into the torrent; default
   * all. The torrent keeps the folder's name and its files' sorted order.
   */
  include?: (path: string[]) => boolean;
  /** Called as bytes are hashed and uploaded: (phase, done, total). */
  onProgress?: (phase: 'hashing' | 'uploading' | 'verifying', done: number, total: number) => void;
}

export interface PublishResult {
  infoHash: string;
  torrent: Uint8Array;
  name: string;
  length: number;
}

/** A refusal from the edge, with its reason. */
export class PublishRequestError extends Error {}

/**
 * An answer's text with the publish token cut out: a wrong edge (a proxy, another server) may
 * echo the request's headers in its error page, and the reason is printed and logged. Tokens
 * shorter than 8 characters are left: cutting them would garble ordinary words of the reason
 * (a token "wrong" in "wrong publish token"), and no real token is that short.
 */
export function withoutToken(text: string, token: string): string {
  return token.length >= 8 ? text.split(token).join('<token>') : text;
}

/**
 * Publishes a file or folder on the edge: hashes it here, sends the info dictionary, uploads
 * each file in the parts the edge asks for (reading one part at a time, so any size works),
 * and has the edge check and publish it. Calling it again after a failure resumes: files the
 * edge already holds are skipped.
 */
export async function publishPath(options: PublishOptions): Promise<PublishResult> {
  const walked = await walkFiles(options.path);
  const source = options.include && walked.isDirectory ? { ...walked, files: walked.files.filter((f) => options.include!(f.path)) } : walked;
  if (source.files.length === 0) throw new PublishRequestError(`${options.path} holds none of the files to publish`);
  const total = source.files.reduce((n, f) => n + f.length, 0);
  const pieceLength = options.pieceLength ?? choosePieceLength(total);
  const hasher = new PieceHasher(pieceLength);
  let hashed = 0;
  for (const file of source.files) {
    await forEachChunk(file.absolute, 1 << 20, async (chunk) => {
      await hasher.update(chunk);
      hashed += chunk.length;
      options.onProgress?.('hashing', hashed, total);
    });
  }
  const built = await buildTorrent({
    name: source.name,
    pieceLength,
    pieces: await hasher.finish(),
    ...(source.isDirectory ? { files: source.files.map((f) => ({ path: f.path, length: f.length })) } : { length: total }),
    private: options.private ?? false,
  });
  const infoBytes = built.torrent.infoBytes;
  const api = (path: string) => new URL(`/api/publish${path}`, options.edge);
  const auth = { authorization: `Bearer ${options.token}` };

  const begun = (await call(api(''), { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify({ info: Buffer.from(infoBytes).toString('base64') }) })) as {
    infoHash: string;
    partSize: number;
    files: { index: number; length: number; done: boolean }[];
  };
  if (begun.infoHash !== built.torrent.infoHashHex) throw new PublishRequestError('the edge computed another info-hash');
  let uploaded = begun.files.filter((f) => f.done).reduce((n, f) => n + f.length, 0);
  for (const entry of begun.files) {
    if (entry.done) continue;
    const file = source.files[entry.index]!;
    let part = 0;
    const send = async (chunk: Uint8Array) => {
      part++;
      await call(api(`/${begun.infoHash}/files/${entry.index}?part=${part}`), { method: 'PUT', headers: { ...auth, 'content-type': 'application/octet-stream' }, body: chunk });
      uploaded += chunk.length;
      options.onProgress?.('uploading', uploaded, total);
    };
    if (file.length === 0) await send(new Uint8Array(0));
    else await forEachChunk(file.absolute, begun.partSize, send, true);
  }
  options.onProgress?.('verifying', total, total);
  const torrent = await call(api(`/${begun.infoHash}/complete`), { method: 'POST', headers: auth }, true);
  return { infoHash: begun.infoHash, torrent: torrent as Uint8Array, name: source.name, length: total };
}

async function call(url: URL, init: { method: string; headers: Record<string, string>; body?: string | Uint8Array }, binary = false): Promise<unknown> {
  const response = await request(url, { method: init.method as 'POST', headers: init.headers, ...(init.body !== undefined ? { body: init.body } : {}) });
  const bytes = new Uint8Array(await response.body.arrayBuffer());
  if (response.statusCode !== 200) {
    let reason = Buffer.from(bytes).toString('utf8').slice(0, 300);
    try {
      // Only a string: an `error` that is an object or a number would break withoutToken.
      const said = (JSON.parse(reason) as { error?: unknown }).error;
      if (typeof said === 'string') reason = said;
    } catch {
      // not JSON: the text itself
    }
    const token = init.headers.authorization?.replace(/^Bearer /, '') ?? '';
    throw new PublishRequestError(`the edge answered ${response.statusCode}: ${withoutToken(reason, token)}`);
  }
  return binary ? bytes : JSON.parse(Buffer.from(bytes).toString('utf8'));
}

/** Reads a file in chunks of exactly `size` bytes (the last may be shorter), one at a time. */
async function forEachChunk(path: string, size: number, each: (chunk: Uint8Array) => Promise<void>, exact = false): Promise<void> {
  const handle = await open(path, 'r');
  try {
    const buffer = Buffer.alloc(size);
    for (;;) {
      let filled = 0;
      while (filled < size) {
        const { bytesRead } = await handle.read(buffer, filled, size - filled, null);
        if (bytesRead === 0) break;
        filled += bytesRead;
        if (!exact) break;
      }
      if (filled === 0) return;
      await each(new Uint8Array(buffer.subarray(0, filled)));
      if (filled < size && exact) return;
    }
  } finally {
    await handle.close();
  }
}
