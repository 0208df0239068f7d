export * from './info-dict.js';
export * from './torrent-file.js';
export * from './build-torrent.js';
export * from './magnet.js';
export * from './geometry.js';
export * from './merkle.js';
export { checkPathComponent } from './path-safety.js';
