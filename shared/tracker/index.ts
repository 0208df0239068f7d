export * from './announce-params.js';
export * from './http-query.js';
export * from './http-response.js';
export * from './udp-packets.js';
export * from './gateway.js';
