import { lstat, readdir } from 'node:fs/promises';
import path from 'node:path';

/** A file found on disk for a new torrent. */
export interface SourceFile {
  /** Absolute path on disk. */
  absolute: string;
  /** Path components below the torrent's root (for a single file, just its name). */
  path: string[];
  length: number;
}

/**
 * The files below `root` in the order a torrent lists them: sorted by path, byte-wise, so that
 * the same folder always gives the same info-hash. Symbolic links are not followed (a link
 * could pull in files from outside the folder); hidden files are kept.
 */
export async function walkFiles(root: string): Promise<{ name: string; files: SourceFile[]; isDirectory: boolean }> {
  const absolute = path.resolve(root);
  const info = await lstat(absolute);
  const name = path.basename(absolute);
  if (info.isFile()) return { name, files: [{ absolute, path: [name], length: info.size }], isDirectory: false };
  if (!info.isDirectory()) throw new Error(`${root} is neither a file nor a folder`);
  const files: SourceFile[] = [];
  async function visit(dir: string, prefix: string[]): Promise<void> {
    const entries = await readdir(dir, { withFileTypes: true });
    entries.sort((a, b) => Buffer.compare(Buffer.from(a.name), Buffer.from(b.name)));
    for (const entry of entries) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) await visit(full, [...prefix, entry.name]);
      else if (entry.isFile()) files.push({ absolute: full, path: [...prefix, entry.name], length: (await lstat(full)).size });
    }
  }
  await visit(absolute, []);
  if (files.length === 0) throw new Error(`${root} holds no files`);
  return { name, files, isDirectory: true };
}
