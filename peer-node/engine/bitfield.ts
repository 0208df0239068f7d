import { WireError } from '../../shared/errors.js';

/**
 * A set of piece indexes as BEP 3 sends it: the high bit of the first byte is piece 0. The wire
 * form must be exactly ceil(pieces / 8) bytes with the spare bits at the end cleared; anything
 * else is a protocol error (libtorrent and Transmission close such connections too).
 */
export class Bitfield {
  readonly bytes: Uint8Array;
  private setCount = 0;

  constructor(readonly length: number) {
    this.bytes = new Uint8Array(Math.ceil(length / 8));
  }

  static fromWire(bits: Uint8Array, pieceCount: number): Bitfield {
    const field = new Bitfield(pieceCount);
    if (bits.length !== field.bytes.length) {
      throw new WireError('bitfield.length', `bitfield of ${bits.length} bytes for ${pieceCount} pieces (expected ${field.bytes.length})`);
    }
    const spare = field.bytes.length * 8 - pieceCount;
    if (spare > 0 && (bits[bits.length - 1]! & ((1 << spare) - 1)) !== 0) {
      throw new WireError('bitfield.spare-bits', `bitfield sets spare bits past piece ${pieceCount - 1}`);
    }
    field.bytes.set(bits);
    for (const b of bits) field.setCount += popcount(b);
    return field;
  }

  static full(pieceCount: number): Bitfield {
    const field = new Bitfield(pieceCount);
    for (let i = 0; i < pieceCount; i++) field.set(i);
    return field;
  }

  get count(): number {
    return this.setCount;
  }

  get complete(): boolean {
    return this.setCount === this.length;
  }

  has(i: number): boolean {
    return (this.bytes[i >> 3]! & (0x80 >> (i & 7))) !== 0;
  }

  /** Sets bit i; true when it was clear. */
  set(i: number): boolean {
    if (i < 0 || i >= this.length || this.has(i)) return false;
    this.bytes[i >> 3]! |= 0x80 >> (i & 7);
    this.setCount++;
    return true;
  }
}

function popcount(b: number): number {
  let n = 0;
  for (; b; b &= b - 1) n++;
  return n;
}
