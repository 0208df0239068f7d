import { sha1 } from '../sha1.js';

/**
 * BEP 33 DHT scrape bloom filters: 256 bytes (m = 2048 bits), k = 2. An IP (4 or 16 bytes, never
 * a port) sets bits hash[0] | hash[1] << 8 and hash[2] | hash[3] << 8 (mod m) of its SHA-1, bit
 * i being bloom[i / 8] & (1 << i % 8). The number of distinct IPs in a filter, or in the union of
 * several (OR them), is estimated from the zero bits: log(c / m) / (k * log(1 - 1 / m)).
 */
export const BLOOM_BYTES = 256;
const M = BLOOM_BYTES * 8;

export class ScrapeBloom {
  readonly bits: Uint8Array;

  constructor(bits?: Uint8Array) {
    this.bits = bits ? bits.slice(0, BLOOM_BYTES) : new Uint8Array(BLOOM_BYTES);
  }

  async insertIp(ip: Uint8Array): Promise<void> {
    const hash = await sha1(ip);
    for (const index of [(hash[0]! | (hash[1]! << 8)) % M, (hash[2]! | (hash[3]! << 8)) % M]) this.bits[index >> 3]! |= 1 << (index & 7);
  }

  /** ORs another filter in (a union of sets). */
  union(other: ScrapeBloom): void {
    for (let i = 0; i < BLOOM_BYTES; i++) this.bits[i]! |= other.bits[i]!;
  }

  estimate(): number {
    let zeros = 0;
    for (const byte of this.bits) for (let b = 0; b < 8; b++) if ((byte & (1 << b)) === 0) zeros++;
    const c = Math.min(M - 1, zeros);
    return Math.log(c / M) / (2 * Math.log(1 - 1 / M));
  }
}
