/**
 * A seeded stand-in for Math.random (mulberry32): tests and benches that draw at random repeat
 * their draws for one seed. Good enough for shuffles and arrival times, not for anything that
 * must be unpredictable.
 */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
