import { decode, encode, isBytes, isDict, isList, type BDict, type BEncodable, type BValue } from '../bencode/index.js';
import { BencodeError, CompactError, KrpcError } from '../errors.js';
import { type CompactNode, decodeCompactNodes, encodeCompactNodes, NODE_ID_LENGTH } from '../compact/compact-nodes.js';
import { decodeCompactPeer, encodeCompactPeer, type PeerAddress } from '../compact/compact-peers.js';

/**
 * BEP 5 KRPC over UDP: one bencoded dictionary per datagram with a transaction id `t`, a type
 * `y` (`q` query, `r` response, `e` error) and the query name `q` with arguments `a`, the
 * response `r`, or the error `e` ([code, message]). Queries are checked strictly (an answer with
 * error 203 names what is wrong, 204 an unknown method); responses are read leniently, since
 * a response is matched to our own query by its transaction id and then only the fields that
 * query needs are read. BEP 33 adds `scrape`/`noseed` to get_peers and the bloom filters
 * `BFsd`/`BFpe` (256 bytes each) to its response.
 */
export const MAX_KRPC_PACKET = 1500 * 2;
export const TOKEN_MAX = 64;
export const BLOOM_BYTES = 256;

export type KrpcQuery =
  | { method: 'ping'; id: Uint8Array }
  | { method: 'find_node'; id: Uint8Array; target: Uint8Array }
  | { method: 'get_peers'; id: Uint8Array; infoHash: Uint8Array; scrape?: boolean; noSeed?: boolean }
  | { method: 'announce_peer'; id: Uint8Array; infoHash: Uint8Array; port: number; impliedPort: boolean; token: Uint8Array; seed?: boolean };

export interface KrpcResponseBody {
  id: Uint8Array;
  nodes?: CompactNode[];
  nodes6?: CompactNode[];
  values?: PeerAddress[];
  token?: Uint8Array;
  /** BEP 33 bloom filters of seeds and of peers. */
  seeds?: Uint8Array;
  peers?: Uint8Array;
}

export type KrpcMessage =
  | { type: 'query'; t: Uint8Array; query: KrpcQuery; v?: Uint8Array }
  | { type: 'response'; t: Uint8Array; body: KrpcResponseBody; v?: Uint8Array }
  | { type: 'error'; t: Uint8Array; code: number; message: string };

export function encodeKrpc(m: KrpcMessage): Uint8Array {
  const base: Record<string, BEncodable | undefined> = { t: m.t };
  if (m.type === 'error') return encode({ ...base, y: 'e', e: [m.code, m.message] });
  if (m.type === 'response') {
    const b = m.body;
    const r: Record<string, BEncodable | undefined> = {
      id: b.id,
      nodes: b.nodes ? encodeCompactNodes(b.nodes, 4) : undefined,
      nodes6: b.nodes6 ? encodeCompactNodes(b.nodes6, 6) : undefined,
      values: b.values ? b.values.map((p) => encodeCompactPeer(p)) : undefined,
      token: b.token,
      BFsd: b.seeds,
      BFpe: b.peers,
    };
    return encode({ ...base, y: 'r', r, v: m.v });
  }
  const q = m.query;
  const a: Record<string, BEncodable | undefined> = { id: q.id };
  if (q.method === 'find_node') a.target = q.target;
  if (q.method === 'get_peers') {
    a.info_hash = q.infoHash;
    if (q.scrape) a.scrape = 1;
    if (q.noSeed) a.noseed = 1;
  }
  if (q.method === 'announce_peer') {
    a.info_hash = q.infoHash;
    a.port = q.port;
    a.implied_port = q.impliedPort ? 1 : 0;
    a.token = q.token;
    if (q.seed) a.seed = 1;
  }
  return encode({ ...base, y: 'q', q: q.method, a, v: m.v });
}

/** Decodes one datagram. Throws KrpcError (with the transaction id when there is one). */
export function decodeKrpc(packet: Uint8Array): KrpcMessage {
  if (packet.length > MAX_KRPC_PACKET) throw new KrpcError('too-long', `KRPC packet of ${packet.length} bytes`);
  let value: BValue;
  try {
    value = decode(packet, { maxDepth: 6, maxValues: 2000, maxBytes: MAX_KRPC_PACKET });
  } catch (err) {
    if (err instanceof BencodeError) throw new KrpcError('bencode', `not bencode: ${err.message}`);
    throw err;
  }
  if (!isDict(value)) throw new KrpcError('not-dict', 'a KRPC message is a dictionary');
  const t = value['t'];
  if (!isBytes(t) || t.length === 0 || t.length > 32) throw new KrpcError('transaction-id', 'missing or bad transaction id "t"');
  const y = bytesText(value['y']);
  const v = isBytes(value['v']) ? value['v'] : undefined;
  const fail = (code: string, message: string, krpc: 203 | 204 = 203) => new KrpcError(code, message, krpc, t);
  if (y === 'e') {
    const e = value['e'];
    if (!isList(e) || typeof e[0] !== 'number') throw fail('bad-error', 'error "e" must be [code, message]');
    return { type: 'error', t, code: e[0], message: bytesText(e[1]) ?? '' };
  }
  if (y === 'r') {
    const r = value['r'];
    if (!isDict(r)) throw fail('bad-response', 'response "r" is not a dictionary');
    return { type: 'response', t, body: readResponse(r, fail), ...(v ? { v } : {}) };
  }
  if (y !== 'q') throw fail('bad-type', 'message type "y" must be q, r or e');
  const method = bytesText(value['q']);
  const a = value['a'];
  if (method === undefined) throw fail('no-method', 'query without method "q"');
  if (!isDict(a)) throw fail('no-arguments', 'query without arguments "a"');
  const id = nodeId(a['id'], 'id', fail);
  let query: KrpcQuery;
  switch (method) {
    case 'ping':
      query = { method, id };
      break;
    case 'find_node':
      query = { method, id, target: nodeId(a['target'], 'target', fail) };
      break;
    case 'get_peers':
      query = { method, id, infoHash: nodeId(a['info_hash'], 'info_hash', fail), ...(a['scrape'] === 1 ? { scrape: true } : {}), ...(a['noseed'] === 1 ? { noSeed: true } : {}) };
      break;
    case 'announce_peer': {
      const port = a['port'];
      const implied = a['implied_port'] === 1;
      if (!implied && (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65535)) throw fail('bad-port', 'announce_peer needs a port 1-65535 (or implied_port)');
      const token = a['token'];
      if (!isBytes(token) || token.length === 0 || token.length > TOKEN_MAX) throw fail('bad-token', 'announce_peer needs a token');
      query = { method, id, infoHash: nodeId(a['info_hash'], 'info_hash', fail), port: typeof port === 'number' ? port : 0, impliedPort: implied, token, ...(a['seed'] === 1 ? { seed: true } : {}) };
      break;
    }
    default:
      throw fail('unknown-method', `unknown method ${JSON.stringify(method.slice(0, 32))}`, 204);
  }
  return { type: 'query', t, query, ...(v ? { v } : {}) };
}

function readResponse(r: BDict, fail: (code: string, message: string) => KrpcError): KrpcResponseBody {
  const body: KrpcResponseBody = { id: nodeId(r['id'], 'id', fail) };
  try {
    if (isBytes(r['nodes'])) body.nodes = decodeCompactNodes(r['nodes'], 4);
    if (isBytes(r['nodes6'])) body.nodes6 = decodeCompactNodes(r['nodes6'], 6);
    const values = r['values'];
    if (isList(values)) body.values = values.filter((p): p is Uint8Array => isBytes(p) && (p.length === 6 || p.length === 18)).map((p) => decodeCompactPeer(p));
  } catch (err) {
    if (err instanceof CompactError) throw fail('bad-compact', err.message);
    throw err;
  }
  if (isBytes(r['token']) && r['token'].length <= TOKEN_MAX) body.token = r['token'];
  if (isBytes(r['BFsd']) && r['BFsd'].length === BLOOM_BYTES) body.seeds = r['BFsd'];
  if (isBytes(r['BFpe']) && r['BFpe'].length === BLOOM_BYTES) body.peers = r['BFpe'];
  return body;
}

function nodeId(v: BValue | undefined, name: string, fail: (code: string, message: string) => KrpcError): Uint8Array {
  if (!isBytes(v) || v.length !== NODE_ID_LENGTH) throw fail('bad-id', `"${name}" must be 20 bytes`);
  return v;
}

function bytesText(v: BValue | undefined): string | undefined {
  return isBytes(v) ? new TextDecoder().decode(v) : undefined;
}
