export * from './compact-peers.js';
export * from './compact-nodes.js';
