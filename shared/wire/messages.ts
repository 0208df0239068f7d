import { WireError } from '../errors.js';

/**
 * Peer-wire messages after the handshake: `<4-byte big-endian length><1-byte id><payload>`, a
 * zero length being a keep-alive. BEP 3 ids 0-8, BEP 5 port (9), BEP 6 Fast extension 13-17,
 * BEP 10 extended (20). Every payload length is checked exactly: a message of a known id with the
 * wrong length is a protocol error, as libtorrent treats it. Unknown ids are returned as such (a
 * peer may speak an extension we did not negotiate); the connection decides what to do.
 */
export const MESSAGE_ID = {
  choke: 0,
  unchoke: 1,
  interested: 2,
  notInterested: 3,
  have: 4,
  bitfield: 5,
  request: 6,
  piece: 7,
  cancel: 8,
  port: 9,
  suggestPiece: 13,
  haveAll: 14,
  haveNone: 15,
  rejectRequest: 16,
  allowedFast: 17,
  extended: 20,
} as const;

export interface BlockRef {
  index: number;
  begin: number;
  length: number;
}

export type WireMessage =
  | { type: 'keepAlive' }
  | { type: 'choke' }
  | { type: 'unchoke' }
  | { type: 'interested' }
  | { type: 'notInterested' }
  | { type: 'have'; index: number }
  | { type: 'bitfield'; bits: Uint8Array }
  | ({ type: 'request' } & BlockRef)
  | { type: 'piece'; index: number; begin: number; block: Uint8Array }
  | ({ type: 'cancel' } & BlockRef)
  | { type: 'port'; port: number }
  | { type: 'suggestPiece'; index: number }
  | { type: 'haveAll' }
  | { type: 'haveNone' }
  | ({ type: 'rejectRequest' } & BlockRef)
  | { type: 'allowedFast'; index: number }
  | { type: 'extended'; extendedId: number; payload: Uint8Array }
  | { type: 'unknown'; id: number; payload: Uint8Array };

const NO_PAYLOAD: Record<number, WireMessage['type']> = {
  0: 'choke',
  1: 'unchoke',
  2: 'interested',
  3: 'notInterested',
  14: 'haveAll',
  15: 'haveNone',
};

function u32(p: Uint8Array, at: number): number {
  return ((p[at]! << 24) | (p[at + 1]! << 16) | (p[at + 2]! << 8) | p[at + 3]!) >>> 0;
}

function expectLength(name: string, payload: Uint8Array, length: number): void {
  if (payload.length !== length) {
    throw new WireError('message.length', `${name} carries ${payload.length} payload bytes, not ${length}`);
  }
}

/** Decodes one message body (the bytes after the length prefix; empty means keep-alive). */
export function decodeMessage(body: Uint8Array): WireMessage {
  if (body.length === 0) return { type: 'keepAlive' };
  const id = body[0]!;
  const payload = body.subarray(1);
  const simple = NO_PAYLOAD[id];
  if (simple) {
    expectLength(simple, payload, 0);
    return { type: simple } as WireMessage;
  }
  switch (id) {
    case MESSAGE_ID.have:
    case MESSAGE_ID.suggestPiece:
    case MESSAGE_ID.allowedFast: {
      const type = id === MESSAGE_ID.have ? 'have' : id === MESSAGE_ID.suggestPiece ? 'suggestPiece' : 'allowedFast';
      expectLength(type, payload, 4);
      return { type, index: u32(payload, 0) };
    }
    case MESSAGE_ID.bitfield:
      return { type: 'bitfield', bits: payload.slice() };
    case MESSAGE_ID.request:
    case MESSAGE_ID.cancel:
    case MESSAGE_ID.rejectRequest: {
      const type = id === MESSAGE_ID.request ? 'request' : id === MESSAGE_ID.cancel ? 'cancel' : 'rejectRequest';
      expectLength(type, payload, 12);
      return { type, index: u32(payload, 0), begin: u32(payload, 4), length: u32(payload, 8) };
    }
    case MESSAGE_ID.piece:
      if (payload.length < 8) throw new WireError('message.length', `piece carries ${payload.length} payload bytes, fewer than 8`);
      // A view, not a copy: the receiver copies the block into its piece at once, and a 16 KiB
      // copy per block is most of a fast download's garbage.
      return { type: 'piece', index: u32(payload, 0), begin: u32(payload, 4), block: payload.subarray(8) };
    case MESSAGE_ID.port:
      expectLength('port', payload, 2);
      return { type: 'port', port: (payload[0]! << 8) | payload[1]! };
    case MESSAGE_ID.extended:
      if (payload.length < 1) throw new WireError('message.length', 'extended message without its extended id');
      return { type: 'extended', extendedId: payload[0]!, payload: payload.slice(1) };
    default:
      return { type: 'unknown', id, payload: payload.slice() };
  }
}

function frame(id: number, payloadLength: number): { out: Uint8Array; view: DataView } {
  const out = new Uint8Array(5 + payloadLength);
  const view = new DataView(out.buffer);
  view.setUint32(0, 1 + payloadLength);
  out[4] = id;
  return { out, view };
}

/** Encodes one message with its length prefix. */
export function encodeMessage(m: WireMessage): Uint8Array {
  switch (m.type) {
    case 'keepAlive':
      return new Uint8Array(4);
    case 'choke':
    case 'unchoke':
    case 'interested':
    case 'notInterested':
    case 'haveAll':
    case 'haveNone':
      return frame(MESSAGE_ID[m.type], 0).out;
    case 'have':
    case 'suggestPiece':
    case 'allowedFast': {
      const { out, view } = frame(MESSAGE_ID[m.type], 4);
      view.setUint32(5, m.index);
      return out;
    }
    case 'bitfield': {
      const { out } = frame(MESSAGE_ID.bitfield, m.bits.length);
      out.set(m.bits, 5);
      return out;
    }
    case 'request':
    case 'cancel':
    case 'rejectRequest': {
      const { out, view } = frame(MESSAGE_ID[m.type], 12);
      view.setUint32(5, m.index);
      view.setUint32(9, m.begin);
      view.setUint32(13, m.length);
      return out;
    }
    case 'piece': {
      const { out, view } = frame(MESSAGE_ID.piece, 8 + m.block.length);
      view.setUint32(5, m.index);
      view.setUint32(9, m.begin);
      out.set(m.block, 13);
      return out;
    }
    case 'port': {
      const { out, view } = frame(MESSAGE_ID.port, 2);
      view.setUint16(5, m.port);
      return out;
    }
    case 'extended': {
      const { out } = frame(MESSAGE_ID.extended, 1 + m.payload.length);
      out[5] = m.extendedId;
      out.set(m.payload, 6);
      return out;
    }
    case 'unknown': {
      const { out } = frame(m.id, m.payload.length);
      out.set(m.payload, 5);
      return out;
    }
  }
}
