import type { Env } from '../env.js';
import { decode, encode, isDict, type BDict } from '../../shared/bencode/index.js';
import { fromHex, toHex } from '../../shared/bytes.js';
import { readInfoDict, type InfoDict } from '../../shared/metainfo/info-dict.js';
import { PieceHasher } from '../../shared/metainfo/build-torrent.js';
import { sha1 } from '../../shared/sha1.js';
import { ProtocolError } from '../../shared/errors.js';
import { CHUNK_SIZE, contentKeys } from './content-keys.js';
import { readFileRange } from '../seed/file-reader.js';
import { registerTorrent } from '../tracker/tracker-service.js';
import { passkeyFor } from '../access/passkeys.js';
import { swarmDirectory } from '../swarm/swarm-directory-do.js';

/** Upload parts are the storage chunks: one put each. */
export const PART_SIZE = CHUNK_SIZE;
/** Largest piece length a publication may use (16 MiB, what creators use for huge files). */
const MAX_PUBLISH_PIECE = 16 * 1024 * 1024;
/** Largest info dictionary accepted (a multi-GiB torrent with small pieces stays far below). */
const MAX_INFO_BYTES = 8 * 1024 * 1024;

/** A publisher's mistake: answered with this status and reason. */
export class PublishError extends Error {
  constructor(
    readonly status: 400 | 404 | 409 | 413 | 422,
    message: string,
  ) {
    super(message);
  }
}

interface PendingFile {
  index: number;
  length: number;
  padding: boolean;
}

/** Upload state of a publication in progress, kept in R2 beside the content. */
interface Pending {
  infoHash: string;
  info: string; // base64 of the info dictionary's bytes
  user: string;
  files: PendingFile[];
}

export interface BeginAnswer {
  infoHash: string;
  published: boolean;
  partSize: number;
  files: { index: number; path: string; length: number; done: boolean }[];
}

/**
 * Starts (or resumes) a publication from an info dictionary the publisher built and hashed.
 * Nothing is served or tracked until `complete` has checked every piece against it.
 */
export async function beginPublish(env: Env, infoBytes: Uint8Array, user: string): Promise<BeginAnswer> {
  if (infoBytes.length > MAX_INFO_BYTES) throw new PublishError(413, `info dictionary larger than ${MAX_INFO_BYTES} bytes`);
  const info = parseInfo(infoBytes);
  if (info.rootHash) throw new PublishError(400, 'BEP 30 Merkle torrents cannot have web seeds; publish with piece hashes');
  // A piece is held whole while it is checked (and by BEP 17 readers): keep it Worker-sized.
  if (info.pieceLength > MAX_PUBLISH_PIECE) throw new PublishError(400, `piece length above ${MAX_PUBLISH_PIECE} bytes`);
  const hex = toHex(await sha1(infoBytes));
  const listing = (done: (i: number) => boolean) =>
    info.files.map((f, index) => ({ index, path: f.path.join('/'), length: f.length, done: f.padding || done(index) }));
  if (await env.CONTENT.head(contentKeys.torrent(hex))) {
    return { infoHash: hex, published: true, partSize: PART_SIZE, files: listing(() => true) };
  }
  let pending = await readPending(env, hex);
  if (!pending) {
    pending = { infoHash: hex, info: toBase64(infoBytes), user, files: info.files.map((f, index) => ({ index, length: f.length, padding: f.padding })) };
    await writePending(env, pending);
  }
  const stored = await storedParts(env, hex);
  const state = pending;
  return { infoHash: hex, published: false, partSize: PART_SIZE, files: listing((i) => fileComplete(state.files[i]!, stored)) };
}

/**
 * Stores part `part` (1-based) of file `index` as its own chunk object: parts may come in any
 * order and again (a retry overwrites), and no file is ever held whole.
 */
export async function uploadPart(env: Env, hex: string, index: number, part: number, body: Uint8Array): Promise<{ done: boolean }> {
  // Published content never changes: no part may be stored again once the torrent is live.
  if (await env.CONTENT.head(contentKeys.torrent(hex))) throw new PublishError(409, 'this torrent is already published; its content cannot change');
  const pending = await readPending(env, hex);
  if (!pending) throw new PublishError(404, 'no publication in progress for this info-hash: begin with POST /api/publish');
  const file = pending.files[index];
  if (!file || file.padding) throw new PublishError(404, `the torrent has no file ${index} to upload`);
  const parts = partsOf(file);
  if (!Number.isInteger(part) || part < 1 || part > parts) throw new PublishError(400, `file ${index} has parts 1 to ${parts}`);
  const expected = part < parts ? PART_SIZE : file.length - (parts - 1) * PART_SIZE;
  if (body.length !== expected) throw new PublishError(400, `part ${part} of file ${index} must be ${expected} bytes, got ${body.length}`);
  await env.CONTENT.put(contentKeys.chunk(hex, index, part - 1), body);
  return { done: fileComplete(file, await storedParts(env, hex, index)) };
}

function partsOf(file: PendingFile): number {
  return Math.max(1, Math.ceil(file.length / PART_SIZE));
}

/** `index/chunk` -> etag of every chunk stored for this torrent (or of one file). */
async function storedParts(env: Env, hex: string, index?: number): Promise<Map<string, string>> {
  const prefix = index === undefined ? `torrents/${hex}/files/` : `torrents/${hex}/files/${index}/`;
  const out = new Map<string, string>();
  let cursor: string | undefined;
  do {
    const page = await env.CONTENT.list({ prefix, ...(cursor ? { cursor } : {}) });
    for (const o of page.objects) out.set(o.key.slice(`torrents/${hex}/files/`.length), o.etag);
    cursor = page.truncated ? page.cursor : undefined;
  } while (cursor);
  return out;
}

function fileComplete(file: PendingFile, stored: Map<string, string>): boolean {
  if (file.padding) return true;
  for (let p = 0; p < partsOf(file); p++) if (!stored.has(`${file.index}/${p}`)) return false;
  return true;
}

/**
 * Checks every piece of what was stored against the info dictionary (the edge never serves bytes
 * that do not match the hashes it advertises), then publishes: the .torrent pointing at this
 * edge, tracker registration. Returns the .torrent. A failed check publishes nothing.
 */
export async function completePublish(env: Env, hex: string, origin: string): Promise<Uint8Array> {
  const published = await env.CONTENT.get(contentKeys.torrent(hex));
  if (published) return new Uint8Array(await published.arrayBuffer());
  const pending = await readPending(env, hex);
  if (!pending) throw new PublishError(404, 'no publication in progress for this info-hash');
  const before = await storedParts(env, hex);
  const missing = pending.files.filter((f) => !fileComplete(f, before)).map((f) => f.index);
  if (missing.length > 0) throw new PublishError(409, `files not uploaded yet: ${missing.slice(0, 20).join(', ')}`);
  const infoBytes = fromBase64(pending.info);
  const info = parseInfo(infoBytes);
  const bad = await firstBadPiece(env, hex, info);
  if (bad !== undefined) {
    throw new PublishError(422, `piece ${bad} does not match its hash: upload the files again (nothing was published)`);
  }
  // A part stored again while we were checking would be unchecked bytes: then nothing goes live.
  const after = await storedParts(env, hex);
  for (const [key, etag] of before) {
    if (after.get(key) !== etag) throw new PublishError(409, 'content changed while it was being checked: complete again');
  }
  const torrent = await torrentFor(env, infoBytes, info, hex, origin, pending.user);
  await registerTorrent(env, fromHex(hex)!, { private: info.private });
  // Listed on the dashboard under its name; a directory hiccup must not fail the publication.
  await swarmDirectory(env)
    .list(hex, { name: info.name })
    .catch((err: unknown) => console.error('swarm directory listing failed', err));
  // Written last: its presence is what makes the content servable.
  await env.CONTENT.put(contentKeys.torrent(hex), torrent);
  await env.CONTENT.delete(contentKeys.pending(hex));
  return torrent;
}

/** Streams the stored files through the piece hasher; the index of the first mismatch, if any. */
async function firstBadPiece(env: Env, hex: string, info: InfoDict): Promise<number | undefined> {
  const hasher = new PieceHasher(info.pieceLength);
  let checked = 0;
  const check = (): number | undefined => {
    const hashes = hasher.drain();
    for (const h of hashes) {
      const expected = info.pieces[checked]!;
      if (h.some((b, i) => b !== expected[i])) return checked;
      checked++;
    }
    return undefined;
  };
  for (const [index, file] of info.files.entries()) {
    if (file.length === 0) continue;
    if (file.padding) {
      // BEP 47: padding is zeros and is never stored.
      for (let left = file.length; left > 0; left -= 65536) await hasher.update(new Uint8Array(Math.min(65536, left)));
    } else {
      const reader = readFileRange(env, hex, index, 0, file.length, file.length, false).getReader();
      try {
        for (let r = await reader.read(); !r.done; r = await reader.read()) await hasher.update(r.value);
      } catch {
        return Math.floor(file.offset / info.pieceLength); // missing or short content
      }
    }
    const bad = check();
    if (bad !== undefined) return bad;
  }
  await hasher.finish();
  return check();
}

/**
 * The .torrent for `user`: a private torrent (BEP 27) announces with that user's passkey, so each
 * member gets their own file around the same info dictionary (same info-hash).
 */
export async function torrentFor(env: Env, infoBytes: Uint8Array, info: InfoDict, hex: string, origin: string, user: string): Promise<Uint8Array> {
  // A private torrent's tracker and seed URLs carry the member's passkey: the edge seeds its
  // bytes to members only, as its tracker lists peers to members only.
  const base = info.private ? `${origin}/p/${await passkeyFor(requireSecret(env.PASSKEY_SECRET), user)}` : origin;
  // BEP 19: a multi-file torrent's url-list is a folder (clients append NAME/PATH); a single
  // file's is the file itself (webtorrent requests a single-file url-list as it is).
  const urlList = info.multiFile ? `${base}/seed/${hex}/` : `${base}/seed/${hex}/${encodeURIComponent(info.name)}`;
  return buildPublishedTorrent(infoBytes, { announce: `${base}/announce`, urlList, httpSeed: `${base}/seed17` });
}

/** The .torrent the edge hands out: our tracker and seeds around the publisher's info bytes. */
function buildPublishedTorrent(infoBytes: Uint8Array, urls: { announce: string; urlList: string; httpSeed: string }): Uint8Array {
  // The info dictionary goes in as received (its hash is the torrent's identity); everything
  // else is encoded around it, keys in order: announce, created by, httpseeds, info, url-list.
  const before = encode({ announce: urls.announce, 'created by': 'edge-swarm', httpseeds: [urls.httpSeed] });
  const after = encode({ 'url-list': [urls.urlList] });
  const out = new Uint8Array(before.length - 1 + 6 + infoBytes.length + after.length - 1);
  out.set(before.subarray(0, before.length - 1), 0); // without its closing 'e'
  let at = before.length - 1;
  out.set(new TextEncoder().encode('4:info'), at);
  at += 6;
  out.set(infoBytes, at);
  at += infoBytes.length;
  out.set(after.subarray(1), at); // without its opening 'd'
  return out;
}

function parseInfo(infoBytes: Uint8Array): InfoDict {
  let value;
  try {
    value = decode(infoBytes, { maxBytes: MAX_INFO_BYTES });
    if (!isDict(value)) throw new PublishError(400, 'info must be a bencoded dictionary');
    return readInfoDict(value as BDict);
  } catch (err) {
    if (err instanceof ProtocolError) throw new PublishError(400, `bad info dictionary: ${err.message}`);
    throw err;
  }
}

async function readPending(env: Env, hex: string): Promise<Pending | undefined> {
  const object = await env.CONTENT.get(contentKeys.pending(hex));
  return object ? ((await object.json()) as Pending) : undefined;
}

async function writePending(env: Env, pending: Pending): Promise<void> {
  await env.CONTENT.put(contentKeys.pending(pending.infoHash), JSON.stringify(pending));
}

function requireSecret(secret: string | undefined): string {
  if (!secret) throw new PublishError(400, 'private torrents need the PASSKEY_SECRET secret on this edge');
  return secret;
}

function toBase64(bytes: Uint8Array): string {
  let text = '';
  for (let i = 0; i < bytes.length; i += 8192) text += String.fromCharCode(...bytes.subarray(i, i + 8192));
  return btoa(text);
}

function fromBase64(text: string): Uint8Array {
  return Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
}
