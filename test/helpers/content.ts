/** Test content on disk and the torrent for it: random bytes in a folder of files, hashed for real. */
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { buildTorrent, hashPieces, type BuiltTorrent, type TorrentSpec } from '../../shared/metainfo/index.js';

export interface TestContent {
  /** The folder that holds NAME (a save path). */
  dir: string;
  name: string;
  files: { path: string[]; bytes: Buffer }[];
  built: BuiltTorrent;
  torrentPath: string;
}

/**
 * Writes `sizes` as files NAME/f0.bin, NAME/sub/f1.bin, ... under `dir` (a single file NAME when
 * one size and `single`), and a torrent for them at dir/../NAME.torrent.
 */
export async function makeContent(
  dir: string,
  sizes: number[],
  options: { name?: string; pieceLength?: number; single?: boolean } & Pick<TorrentSpec, 'announceList' | 'private' | 'urlList'> = {},
): Promise<TestContent> {
  const name = options.name ?? 'content';
  const pieceLength = options.pieceLength ?? 32 * 1024;
  const files = sizes.map((size, i) => ({ path: i % 2 === 1 ? ['sub', `f${i}.bin`] : [`f${i}.bin`], bytes: randomBytes(size) }));
  const single = options.single === true && sizes.length === 1;
  for (const f of files) {
    const file = single ? path.join(dir, name) : path.join(dir, name, ...f.path);
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(file, f.bytes);
  }
  const whole = Buffer.concat(files.map((f) => f.bytes));
  const built = await buildTorrent({
    name,
    pieceLength,
    pieces: await hashPieces(whole, pieceLength),
    ...(single ? { length: whole.length } : { files: files.map((f) => ({ path: f.path, length: f.bytes.length })) }),
    ...(options.announceList ? { announceList: options.announceList } : {}),
    ...(options.urlList ? { urlList: options.urlList } : {}),
    ...(options.private ? { private: true } : {}),
  });
  const torrentPath = path.join(path.dirname(dir), `${path.basename(dir)}-${name}.torrent`);
  await writeFile(torrentPath, built.bytes);
  return { dir, name, files, built, torrentPath };
}

/** Asserts-friendly: which files under `dir` equal the content's (by index). */
export async function sameFiles(content: TestContent, dir: string): Promise<boolean[]> {
  const single = content.built.torrent.info.multiFile === false;
  return Promise.all(
    content.files.map(async (f) => {
      const file = single ? path.join(dir, content.name) : path.join(dir, content.name, ...f.path);
      try {
        return (await readFile(file)).equals(f.bytes);
      } catch {
        return false;
      }
    }),
  );
}
