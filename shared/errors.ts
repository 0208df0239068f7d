/**
 * Every decoder in shared/ throws a subclass of ProtocolError and nothing else for bad input, so
 * that servers can map it to a 4xx / `failure reason` / closed connection in one place.
 */
export class ProtocolError extends Error {
  /** A stable machine-readable reason, e.g. `bencode.leading-zero`. */
  readonly code: string;

  constructor(code: string, message: string) {
    super(message);
    this.name = new.target.name;
    this.code = code;
  }
}

/** Malformed bencode; `offset` is the byte where decoding stopped. */
export class BencodeError extends ProtocolError {
  readonly offset: number;

  constructor(code: string, message: string, offset: number) {
    super(`bencode.${code}`, `${message} at byte ${offset}`);
    this.offset = offset;
  }
}

/** A .torrent / info dictionary that breaks BEP 3 (or BEP 12, 19, 17, 27, 30) rules. */
export class MetainfoError extends ProtocolError {
  constructor(code: string, message: string) {
    super(`metainfo.${code}`, message);
  }
}

/** A magnet URI that breaks BEP 9. */
export class MagnetError extends ProtocolError {
  constructor(code: string, message: string) {
    super(`magnet.${code}`, message);
  }
}

/** Compact peer / node strings whose length or content is wrong (BEP 23, 7, 5). */
export class CompactError extends ProtocolError {
  constructor(code: string, message: string) {
    super(`compact.${code}`, message);
  }
}

/** A piece / block / byte range outside a torrent's geometry. */
export class GeometryError extends ProtocolError {
  constructor(code: string, message: string) {
    super(`geometry.${code}`, message);
  }
}

/** A BEP 30 Merkle tree or proof that does not fit. */
export class MerkleError extends ProtocolError {
  constructor(code: string, message: string) {
    super(`merkle.${code}`, message);
  }
}

/**
 * A tracker request that cannot be served. `retryIn` (BEP 31) is minutes, or 'never' for a
 * permanent refusal; absent for a malformed request the client should simply fix.
 */
export class TrackerError extends ProtocolError {
  readonly retryIn: number | 'never' | undefined;

  constructor(code: string, message: string, retryIn?: number | 'never') {
    super(`tracker.${code}`, message);
    this.retryIn = retryIn;
  }
}

/** A peer-wire handshake or message that breaks BEP 3 (or BEP 6, BEP 10): the connection closes. */
export class WireError extends ProtocolError {
  constructor(code: string, message: string) {
    super(`wire.${code}`, message);
  }
}

/**
 * A KRPC message (BEP 5) that cannot be served. `krpcCode` is the error code to answer with:
 * 203 for a malformed packet or bad arguments, 204 for an unknown method. `transactionId` is set
 * when the packet got far enough to have one, so the sender can be told.
 */
export class KrpcError extends ProtocolError {
  constructor(
    code: string,
    message: string,
    readonly krpcCode: 201 | 202 | 203 | 204 = 203,
    readonly transactionId?: Uint8Array,
  ) {
    super(`krpc.${code}`, message);
  }
}

/** Layer info (PUT-LAYER / GET-LAYER) that is inconsistent or out of bounds. */
export class LayerInfoError extends ProtocolError {
  constructor(code: string, message: string) {
    super(`layers.${code}`, message);
  }
}

/** A BEP 14 local service discovery datagram (BT-SEARCH) that is not one: it is ignored, counted. */
export class LsdError extends ProtocolError {
  constructor(code: string, message: string) {
    super(`lsd.${code}`, message);
  }
}
