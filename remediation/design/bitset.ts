/**
 * Fixed-size bit sets over small integer universes (permission classes, rows), as plain `Uint32Array`s.
 * The role-mining engine compares thousands of candidate roles against every user set; word-wise AND/OR
 * keeps those subset tests a few machine operations each, with no allocation in the hot loops.
 *
 * Every function assumes its arguments were made for the same universe (same length).
 */

export type BitSet = Uint32Array;

/** An empty set able to hold the integers 0..size-1. */
export function emptyBits(size: number): BitSet {
  return new Uint32Array((size + 31) >>> 5);
}

/** The set holding exactly `members` (each in 0..size-1). */
export function bitsOf(size: number, members: Iterable<number>): BitSet {
  const bits = emptyBits(size);
  for (const i of members) addBit(bits, i);
  return bits;
}

export function addBit(bits: BitSet, i: number): void {
  bits[i >>> 5] = (bits[i >>> 5] as number) | (1 << (i & 31));
}

export function hasBit(bits: BitSet, i: number): boolean {
  return (((bits[i >>> 5] ?? 0) >>> (i & 31)) & 1) === 1;
}

/** a ⊆ b. */
export function isSubset(a: BitSet, b: BitSet): boolean {
  for (let i = 0; i < a.length; i++) {
    if (((a[i] as number) & ~(b[i] as number)) !== 0) return false;
  }
  return true;
}

export function intersect(a: BitSet, b: BitSet): BitSet {
  const out = new Uint32Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = (a[i] as number) & (b[i] as number);
  return out;
}

/** target := target ∪ source. */
export function unionInto(target: BitSet, source: BitSet): void {
  for (let i = 0; i < target.length; i++) target[i] = (target[i] as number) | (source[i] as number);
}

export function isEmpty(bits: BitSet): boolean {
  for (let i = 0; i < bits.length; i++) if (bits[i] !== 0) return false;
  return true;
}

export function sameBits(a: BitSet, b: BitSet): boolean {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function popcount32(word: number): number {
  let x = word - ((word >>> 1) & 0x55555555);
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  return (((x + (x >>> 4)) & 0x0f0f0f0f) * 0x01010101) >>> 24;
}

export function countBits(bits: BitSet): number {
  let n = 0;
  for (let i = 0; i < bits.length; i++) n += popcount32(bits[i] as number);
  return n;
}

/** |a ∩ b|, without building the intersection. */
export function countCommon(a: BitSet, b: BitSet): number {
  let n = 0;
  for (let i = 0; i < a.length; i++) n += popcount32((a[i] as number) & (b[i] as number));
  return n;
}

/** out := a ∩ b (out may be a scratch buffer reused across calls); returns whether it is empty. */
export function intersectInto(out: BitSet, a: BitSet, b: BitSet): boolean {
  let any = 0;
  for (let i = 0; i < a.length; i++) {
    const w = (a[i] as number) & (b[i] as number);
    out[i] = w;
    any |= w;
  }
  return any === 0;
}

/** |a \ b|: how much of a that b does not have yet. */
export function countMissing(a: BitSet, b: BitSet): number {
  let n = 0;
  for (let i = 0; i < a.length; i++) n += popcount32((a[i] as number) & ~(b[i] as number));
  return n;
}

/** The members, ascending. */
export function bitIndices(bits: BitSet): number[] {
  const out: number[] = [];
  for (let w = 0; w < bits.length; w++) {
    let word = bits[w] as number;
    while (word !== 0) {
      const low = word & -word;
      out.push((w << 5) + 31 - Math.clz32(low));
      word ^= low;
    }
  }
  return out;
}

/** A string naming the set, for Map keys (equal sets, equal keys). */
export function bitsKey(bits: BitSet): string {
  return Array.from(bits, (w) => w.toString(36)).join('.');
}
