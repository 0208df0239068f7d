/** Where a published torrent lives in R2. */
export const contentKeys = {
  /** The published .torrent: its presence means "verified and served". */
  torrent: (hex: string) => `torrents/${hex}/meta.torrent`,
  /** A publication in progress (upload state), removed when it completes. */
  pending: (hex: string) => `torrents/${hex}/pending.json`,
  /** File `index` of the torrent, stored whole. */
  file: (hex: string, index: number) => `torrents/${hex}/files/${index}`,
};
