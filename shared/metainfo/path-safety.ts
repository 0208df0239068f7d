import { MetainfoError } from '../errors.js';

/**
 * Rejects a file path component that could escape the download folder or that no filesystem
 * can hold: empty, `.`, `..`, a separator, a NUL. Torrent names and paths are untrusted input.
 */
export function checkPathComponent(component: string, where: string): void {
  if (component.length === 0) throw new MetainfoError('unsafe-path', `${where}: empty path component`);
  if (component === '.' || component === '..') {
    throw new MetainfoError('unsafe-path', `${where}: path component ${JSON.stringify(component)} is not allowed`);
  }
  if (/[/\\\0]/.test(component)) {
    throw new MetainfoError('unsafe-path', `${where}: path component ${JSON.stringify(component)} holds a separator or NUL`);
  }
  // Filesystems limit a name to 255 bytes (ext4, NTFS in UTF-16 units: bytes is the stricter).
  if (new TextEncoder().encode(component).length > 255) {
    throw new MetainfoError('unsafe-path', `${where}: path component longer than 255 bytes`);
  }
}
