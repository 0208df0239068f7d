/**
 * A set with O(1) add, delete and random access by position, so that a random sample of peers
 * costs O(sample) rather than O(swarm).
 */
export class IndexedSet<T> {
  private readonly items: T[] = [];
  private readonly positions = new Map<T, number>();

  get size(): number {
    return this.items.length;
  }

  has(item: T): boolean {
    return this.positions.has(item);
  }

  add(item: T): void {
    if (this.positions.has(item)) return;
    this.positions.set(item, this.items.length);
    this.items.push(item);
  }

  delete(item: T): void {
    const at = this.positions.get(item);
    if (at === undefined) return;
    const last = this.items.pop()!;
    this.positions.delete(item);
    if (at < this.items.length) {
      this.items[at] = last;
      this.positions.set(last, at);
    }
  }

  at(index: number): T {
    return this.items[index]!;
  }
}

/**
 * Up to `count` distinct items drawn uniformly from the concatenation of `groups`, skipping
 * items for which `skip` is true (the asker itself). Floyd's algorithm over positions.
 */
export function sampleGroups<T>(groups: readonly IndexedSet<T>[], count: number, skip: (item: T) => boolean, random: () => number): T[] {
  const total = groups.reduce((n, g) => n + g.size, 0);
  const itemAt = (position: number): T => {
    for (const group of groups) {
      if (position < group.size) return group.at(position);
      position -= group.size;
    }
    throw new RangeError('position outside the groups');
  };
  const out: T[] = [];
  if (count <= 0 || total === 0) return out;
  // Draw one spare so that skipping the asker still leaves `count` when the swarm allows.
  const want = Math.min(total, count + 1);
  if (want === total) {
    for (let p = 0; p < total; p++) {
      const item = itemAt(p);
      if (!skip(item)) out.push(item);
    }
    shuffle(out, random);
    return out.slice(0, count);
  }
  const chosen = new Set<number>();
  for (let j = total - want; j < total; j++) {
    const t = Math.floor(random() * (j + 1));
    chosen.add(chosen.has(t) ? j : t);
  }
  for (const p of chosen) {
    const item = itemAt(p);
    if (!skip(item) && out.length < count) out.push(item);
  }
  return out;
}

function shuffle<T>(items: T[], random: () => number): void {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [items[i], items[j]] = [items[j]!, items[i]!];
  }
}
