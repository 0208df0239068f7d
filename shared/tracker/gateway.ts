/**
 * The contract between `peer-node udp-gateway` and the edge's `POST /udp`: one datagram per
 * request; the source address travels in a header that the edge believes only with the secret.
 */
export const GATEWAY_CLIENT_HEADER = 'x-gateway-client';
export const GATEWAY_SECRET_HEADER = 'x-gateway-secret';
