import { MetainfoError } from '../errors.js';
import { type BDict, type BList, DictReader, isBytes, isList } from '../bencode/index.js';
import { fromUtf8 } from '../bytes.js';
import { MAX_MERKLE_LEAVES } from './merkle.js';
import { checkPathComponent } from './path-safety.js';

/** SHA-1 digests are 20 bytes (BEP 3 `pieces`, BEP 30 `root hash`). */
export const HASH_LENGTH = 20;
/** Upper bound on `piece length` we accept (libtorrent caps lower; 512 MiB is generous). */
export const MAX_PIECE_LENGTH = 512 * 1024 * 1024;
/** Upper bound on the number of files in one torrent. */
export const MAX_FILES = 1_000_000;

/** One file of a torrent, laid end to end with the others in piece space. */
export interface TorrentFile {
  /** Path below the torrent's name; for a single-file torrent, `[name]`. */
  path: string[];
  length: number;
  /** Offset of the file's first byte in the torrent's concatenated byte space. */
  offset: number;
  /** BEP 47 padding file (attr contains `p`): never written to disk, all zeros. */
  padding: boolean;
}

/** The validated info dictionary. */
export interface InfoDict {
  name: string;
  pieceLength: number;
  /** SHA-1 per piece (BEP 3); empty for a BEP 30 Merkle torrent. */
  pieces: Uint8Array[];
  /** BEP 30 Merkle torrents carry one root hash instead of `pieces`. */
  rootHash?: Uint8Array;
  /** Total bytes over all files. */
  length: number;
  files: TorrentFile[];
  /** True when the info dict has `files` (the name is a directory). */
  multiFile: boolean;
  /** BEP 27: peers only from the torrent's trackers; no DHT, PEX or LSD. */
  private: boolean;
  pieceCount: number;
}

const fail = (code: string, message: string) => new MetainfoError(code, message);

/** Validates an info dictionary (BEP 3, with BEP 27 `private`, BEP 30 `root hash`, BEP 47 padding). */
export function readInfoDict(dict: BDict): InfoDict {
  const info = new DictReader(dict, fail, 'info');
  const name = preferredText(info.optBytes('name.utf-8'), info.bytes('name'), 'info.name');

  const pieceLength = info.int('piece length', 1, MAX_PIECE_LENGTH);

  const single = info.has('length');
  const multi = info.has('files');
  if (single === multi) {
    throw new MetainfoError('bad-layout', 'info must have exactly one of length (single file) or files (multi-file)');
  }

  const files: TorrentFile[] = [];
  let total = 0;
  if (single) {
    total = info.int('length', 0);
    files.push({ path: [name], length: total, offset: 0, padding: false });
  } else {
    const list = info.list('files');
    if (list.length === 0) throw new MetainfoError('bad-layout', 'info.files is empty');
    if (list.length > MAX_FILES) throw new MetainfoError('too-many-files', `more than ${MAX_FILES} files`);
    const seen = new Map<string, 'file' | 'dir'>();
    list.forEach((entry, i) => {
      const where = `info.files[${i}]`;
      if (typeof entry !== 'object' || entry === null || isBytes(entry) || Array.isArray(entry)) {
        throw new MetainfoError('bad-field', `${where}: expected a dictionary`);
      }
      const file = new DictReader(entry, fail, where);
      const length = file.int('length', 0);
      const path = readPath(file, where);
      const attr = file.optBytes('attr');
      const padding = attr !== undefined && attr.includes(0x70); // BEP 47: 'p'
      // Padding files are never written, and libtorrent names equal-sized ones alike
      // (".pad/16284" twice), so only real files must have distinct, non-overlapping paths.
      if (!padding) claimPath(path, seen, where);
      files.push({ path, length, offset: total, padding });
      total += length;
      if (!Number.isSafeInteger(total)) throw new MetainfoError('too-large', 'total length is not a safe integer');
    });
  }

  if (total === 0) throw new MetainfoError('empty', 'the torrent holds no bytes');
  const pieceCount = Math.ceil(total / pieceLength);
  const rootHash = info.optBytes('root hash');
  let pieces: Uint8Array[] = [];
  if (rootHash !== undefined) {
    if (rootHash.length !== HASH_LENGTH) throw new MetainfoError('bad-root-hash', `info.root hash must be ${HASH_LENGTH} bytes`);
    if (info.has('pieces')) throw new MetainfoError('bad-layout', 'info has both pieces and root hash');
    if (pieceCount > MAX_MERKLE_LEAVES) throw new MetainfoError('too-many-pieces', `a Merkle torrent of ${pieceCount} pieces is too large`);
  } else {
    const raw = info.bytes('pieces');
    if (raw.length % HASH_LENGTH !== 0) {
      throw new MetainfoError('bad-pieces', `info.pieces length ${raw.length} is not a multiple of ${HASH_LENGTH}`);
    }
    if (raw.length / HASH_LENGTH !== pieceCount) {
      throw new MetainfoError(
        'bad-pieces',
        `info.pieces holds ${raw.length / HASH_LENGTH} hashes but ${total} bytes in ${pieceLength}-byte pieces need ${pieceCount}`,
      );
    }
    // Views into the one decoded string: no copy per piece.
    pieces = Array.from({ length: pieceCount }, (_, i) => raw.subarray(i * HASH_LENGTH, (i + 1) * HASH_LENGTH));
  }

  const privateFlag = info.get('private');
  return {
    name,
    pieceLength,
    pieces,
    ...(rootHash !== undefined ? { rootHash } : {}),
    length: total,
    files,
    multiFile: multi,
    // BEP 27 says private=1; libtorrent and Transmission treat any non-zero integer as private,
    // and erring towards private is the safe side (no DHT, PEX or LSD leaks).
    private: (typeof privateFlag === 'number' || typeof privateFlag === 'bigint') && privateFlag != 0,
    pieceCount,
  };
}

/**
 * Text of a name or path component. Prefers the `.utf-8` variant some old clients wrote when it
 * is valid and safe; otherwise the plain field, where invalid UTF-8 (old Latin-1 or GBK torrents)
 * becomes `_` per bad sequence, as libtorrent does, rather than failing the torrent.
 */
function preferredText(alt: Uint8Array | undefined, plain: Uint8Array, where: string): string {
  if (alt !== undefined) {
    const text = fromUtf8(alt);
    if (text !== undefined) {
      try {
        checkPathComponent(text, where);
        return text;
      } catch {
        // fall back to the plain field
      }
    }
  }
  const text = lenientUtf8.decode(plain).replace(/\uFFFD+/g, '_');
  checkPathComponent(text, where);
  return text;
}

const lenientUtf8 = new TextDecoder('utf-8', { fatal: false, ignoreBOM: true });

function readPath(file: DictReader, where: string): string[] {
  const plain = componentsOf(file.list('path'), `${where}.path`);
  const altList = file.get('path.utf-8');
  if (isList(altList)) {
    try {
      const alt = componentsOf(altList, `${where}.path.utf-8`);
      if (alt.length === plain.length) return alt.map((c, j) => preferredText(c, plain[j]!, `${where}.path[${j}]`));
    } catch {
      // an unusable path.utf-8 falls back to path
    }
  }
  return plain.map((c, j) => preferredText(undefined, c, `${where}.path[${j}]`));
}

function componentsOf(list: BList, where: string): Uint8Array[] {
  // BEP 3: "a zero length list is an error case".
  if (list.length === 0) throw new MetainfoError('unsafe-path', `${where} is an empty list`);
  return list.map((component, j) => {
    if (!isBytes(component)) throw new MetainfoError('bad-field', `${where}[${j}]: expected a string`);
    return component;
  });
}

/**
 * Records a file path; two files may not share a path, and a path may not be both a file and a
 * folder (`a` and `a/b`), or one of them could not be written.
 */
function claimPath(path: string[], seen: Map<string, 'file' | 'dir'>, where: string): void {
  for (let depth = 1; depth <= path.length; depth++) {
    const key = path.slice(0, depth).join('/');
    const kind = depth === path.length ? 'file' : 'dir';
    const before = seen.get(key);
    if (before === 'file' || (before !== undefined && kind === 'file')) {
      throw new MetainfoError('duplicate-path', `${where}: path ${JSON.stringify(path.join('/'))} collides with another file`);
    }
    seen.set(key, kind);
  }
}
