/**
 * The covering core of the role-mining engine, on an already reduced instance: every row (a distinct user
 * set that is not the union of smaller ones) must equal the union of the chosen roles that fit it (are
 * subsets of it). Rows and roles are bit sets over permission classes. Pure and deterministic: randomness
 * comes from a seeded generator, and the only clock read is the optional deadline.
 */
import {
  addBit,
  type BitSet,
  bitIndices,
  countBits,
  countCommon,
  countMissing,
  emptyBits,
  hasBit,
  intersectInto,
  isSubset,
  sameBits,
} from './bitset.js';

export interface CoverInstance {
  /** Size of the class universe the bit sets are over. */
  readonly classes: number;
  /** The sets to cover exactly; distinct. */
  readonly rows: readonly BitSet[];
  /** Roles that exist already: free, used wherever they fit. */
  readonly reusable: readonly BitSet[];
  /** Improvement rounds after the greedy cover (the result is exact after any number of them). */
  readonly iterations: number;
  /**
   * Improvement stops once this many (candidate, row) gain evaluations were spent: a deterministic budget,
   * unlike the deadline, so the same input gives the same design on any machine.
   */
  readonly maxWork: number;
  /** performance.now() value after which improvement stops; Infinity for none. */
  readonly deadline: number;
  /** Work (assignment and candidate checks) the branch and bound may spend when the heuristic stops above the lower bound; 0: none. */
  readonly exactWork: number;
  /** Most candidate roles to generate from intersections (beyond it, the rows themselves still suffice). */
  readonly maxCandidates: number;
}

export interface CoverSolution {
  /** The new roles, as class bit sets. */
  readonly roles: readonly BitSet[];
  /** A proven lower bound on the number of new roles any exact cover of the rows needs. */
  readonly lowerBound: number;
  /** How many candidate roles the intersection closure produced. */
  readonly candidates: number;
}

/** A small, fast, seeded generator (mulberry32): the same input always takes the same search path. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Every non-empty intersection of rows. Some optimal cover uses only these: a role R can always be widened
 * to the intersection of all rows that contain it, which still fits every row R fitted and covers more.
 */
export function intersectionClosure(rows: readonly BitSet[], limit: number): BitSet[] {
  // Buckets by a numeric hash, compared word by word, intersections built in one scratch buffer: this is
  // the hottest loop, and most intersections are duplicates.
  const buckets = new Map<number, number[]>();
  const out: BitSet[] = [];
  const add = (bits: BitSet) => {
    const h = hashBits(bits);
    const bucket = buckets.get(h);
    if (bucket === undefined) buckets.set(h, [out.length]);
    else if (bucket.some((i) => sameBits(out[i] as BitSet, bits))) return;
    else bucket.push(out.length);
    out.push(bits.slice());
  };
  for (const row of rows) add(row);
  const scratch = new Uint32Array(rows[0]?.length ?? 0);
  for (let i = 0; i < out.length && out.length < limit; i++) {
    const x = out[i] as BitSet;
    for (const row of rows) {
      if (out.length >= limit) break;
      if (isSubset(x, row)) continue;
      if (!intersectInto(scratch, x, row)) add(scratch);
    }
  }
  return out;
}

function hashBits(bits: BitSet): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < bits.length; i++) h = Math.imul(h ^ (bits[i] as number), 0x01000193);
  return h >>> 0;
}

interface Candidate {
  readonly bits: BitSet;
  readonly members: readonly number[];
  /** Rows it fits. */
  readonly fits: readonly number[];
}

/** Coverage bookkeeping: how many chosen roles give row r class p, and the covered sets. */
class Coverage {
  readonly counts: Int32Array[];
  readonly covered: BitSet[];
  uncoveredRows: number;
  constructor(
    readonly rows: readonly BitSet[],
    classes: number,
  ) {
    this.counts = rows.map(() => new Int32Array(classes));
    this.covered = rows.map(() => emptyBits(classes));
    this.uncoveredRows = rows.length;
  }
  add(c: Candidate): void {
    for (const r of c.fits) {
      const counts = this.counts[r] as Int32Array;
      const covered = this.covered[r] as BitSet;
      const wasDone = sameBits(covered, this.rows[r] as BitSet);
      for (const p of c.members) {
        if (counts[p] === 0) addBit(covered, p);
        counts[p] = (counts[p] as number) + 1;
      }
      if (!wasDone && sameBits(covered, this.rows[r] as BitSet)) this.uncoveredRows--;
    }
  }
  remove(c: Candidate): void {
    for (const r of c.fits) {
      const counts = this.counts[r] as Int32Array;
      const covered = this.covered[r] as BitSet;
      const wasDone = sameBits(covered, this.rows[r] as BitSet);
      for (const p of c.members) {
        counts[p] = (counts[p] as number) - 1;
        if (counts[p] === 0) covered[p >>> 5] = (covered[p >>> 5] as number) & ~(1 << (p & 31));
      }
      if (wasDone && !sameBits(covered, this.rows[r] as BitSet)) this.uncoveredRows++;
    }
  }
  /** Whether removing c leaves every row it fits still exactly covered. */
  redundant(c: Candidate): boolean {
    for (const r of c.fits) {
      const counts = this.counts[r] as Int32Array;
      for (const p of c.members) if ((counts[p] as number) < 2) return false;
    }
    return true;
  }
  gain(c: Candidate): number {
    let g = 0;
    for (const r of c.fits) g += countMissing(c.bits, this.covered[r] as BitSet);
    return g;
  }
}

/**
 * Fewest new roles covering the rows exactly: greedy set cover over (row, class) assignments, then
 * iterated greedy (drop a few roles, re-complete with random tie-breaks, prune redundant roles), keeping
 * the best, then branch and bound if a gap to the lower bound remains. Each stage stops as soon as the
 * size meets the lower bound, or when its budget is spent (the cover is exact after every stage).
 */
export function solveCover(instance: CoverInstance): CoverSolution {
  const { rows, classes } = instance;
  if (rows.length === 0) return { roles: [], lowerBound: 0, candidates: 0 };
  const toCandidate = (bits: BitSet): Candidate => ({
    bits,
    members: bitIndices(bits),
    fits: rows.flatMap((row, r) => (isSubset(bits, row) ? [r] : [])),
  });
  const free = instance.reusable.map(toCandidate).filter((c) => c.fits.length > 0);
  const closure = intersectionClosure(rows, instance.maxCandidates);
  const candidates = closure.map(toCandidate);
  let lowerBound = assignmentLowerBound(rows, classes, free);

  const random = seededRandom(0x1a2b3c4d);
  const build = (chosen: readonly number[]) => {
    const coverage = new Coverage(rows, classes);
    for (const c of free) coverage.add(c);
    for (const i of chosen) coverage.add(candidates[i] as Candidate);
    return coverage;
  };
  // Which candidates fit each row: after a perturbation only the few rows left incomplete need looking at.
  const byRow: number[][] = rows.map(() => []);
  candidates.forEach((c, i) => {
    for (const r of c.fits) (byRow[r] as number[]).push(i);
  });
  const stamp = new Int32Array(candidates.length);
  let round = 0;
  let work = 0;
  const complete = (coverage: Coverage, chosen: number[], noise: number) => {
    while (coverage.uncoveredRows > 0) {
      round++;
      let best = -1;
      let bestScore = 0;
      for (let r = 0; r < rows.length; r++) {
        if (sameBits(coverage.covered[r] as BitSet, rows[r] as BitSet)) continue;
        for (const i of byRow[r] as number[]) {
          if (stamp[i] === round) continue;
          stamp[i] = round;
          work += (candidates[i] as Candidate).fits.length;
          const g = coverage.gain(candidates[i] as Candidate);
          if (g === 0) continue;
          const score = noise > 0 ? g * (1 + noise * random()) : g;
          // Ties go to the lowest index, so the path does not depend on the order rows are visited in.
          if (score > bestScore || (score === bestScore && i < best)) {
            bestScore = score;
            best = i;
          }
        }
      }
      // Unreachable: each row is itself a candidate and fits itself.
      if (best < 0) throw new Error('role cover: a row cannot be covered (engine bug)');
      chosen.push(best);
      coverage.add(candidates[best] as Candidate);
    }
  };
  const prune = (coverage: Coverage, chosen: number[], shuffle: boolean): number[] => {
    // Smallest contributions first: they are the likeliest to be redundant.
    const order = chosen.map((i) => ({
      i,
      key: shuffle ? random() : countBits((candidates[i] as Candidate).bits),
    }));
    order.sort((a, b) => a.key - b.key || a.i - b.i);
    const kept = new Set(chosen);
    for (const { i } of order) {
      const c = candidates[i] as Candidate;
      if (coverage.redundant(c)) {
        coverage.remove(c);
        kept.delete(i);
      }
    }
    return [...kept].sort((a, b) => a - b);
  };

  let current: number[] = [];
  {
    const coverage = build([]);
    lazyGreedy(coverage, candidates, current);
    current = prune(coverage, current, false);
  }
  let best = current;
  // With a clock budget, iterated greedy gets half of what is left and branch and bound the rest.
  const now = performance.now();
  const improveUntil = now + (instance.deadline - now) / 2;
  for (let it = 0; it < instance.iterations && best.length > lowerBound; it++) {
    if (work > instance.maxWork || performance.now() > improveUntil) break;
    const drop = new Set<number>();
    const k = 1 + Math.floor(random() * Math.min(3, current.length));
    while (drop.size < k && drop.size < current.length) {
      drop.add(current[Math.floor(random() * current.length)] as number);
    }
    const trial = current.filter((i) => !drop.has(i));
    const coverage = build(trial);
    complete(coverage, trial, 0.5);
    const pruned = prune(coverage, trial, true);
    if (pruned.length <= current.length) current = pruned;
    if (current.length < best.length) best = current;
  }
  if (best.length > lowerBound && instance.exactWork > 0 && performance.now() <= instance.deadline) {
    const exact = branchAndBound(
      rows,
      candidates,
      byRow,
      assignmentsByDegree(rows, classes, free),
      build,
      best,
      instance.exactWork,
      instance.deadline,
    );
    best = exact.best;
    // A finished search over the whole closure proves the best cover optimal (step 6 of the docs).
    if (exact.complete && closure.length < instance.maxCandidates) lowerBound = best.length;
  }
  return {
    roles: best.map((i) => (candidates[i] as Candidate).bits),
    lowerBound,
    candidates: candidates.length,
  };
}

/**
 * The plain greedy cover (most uncovered assignments first, ties to the lowest index), evaluated lazily: a
 * candidate's gain only shrinks as roles are added, so a recomputed gain still at the top of the heap is the
 * maximum. Same picks as rescanning every candidate each time, far fewer evaluations.
 */
function lazyGreedy(coverage: Coverage, candidates: readonly Candidate[], chosen: number[]): void {
  // Max-heap of [gain, index] by gain desc, index asc.
  const heap: [number, number][] = [];
  const before = (a: [number, number], b: [number, number]) => a[0] > b[0] || (a[0] === b[0] && a[1] < b[1]);
  const push = (item: [number, number]) => {
    heap.push(item);
    let i = heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(heap[i] as [number, number], heap[parent] as [number, number])) break;
      [heap[i], heap[parent]] = [heap[parent] as [number, number], heap[i] as [number, number]];
      i = parent;
    }
  };
  const pop = (): [number, number] => {
    const top = heap[0] as [number, number];
    const last = heap.pop() as [number, number];
    if (heap.length > 0) {
      heap[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < heap.length && before(heap[l] as [number, number], heap[m] as [number, number])) m = l;
        if (r < heap.length && before(heap[r] as [number, number], heap[m] as [number, number])) m = r;
        if (m === i) break;
        [heap[i], heap[m]] = [heap[m] as [number, number], heap[i] as [number, number]];
        i = m;
      }
    }
    return top;
  };
  candidates.forEach((c, i) => {
    const g = coverage.gain(c);
    if (g > 0) push([g, i]);
  });
  while (coverage.uncoveredRows > 0 && heap.length > 0) {
    const [, i] = pop();
    const c = candidates[i] as Candidate;
    const g = coverage.gain(c);
    if (g === 0) continue;
    const next = heap[0];
    if (next !== undefined && before(next, [g, i])) {
      push([g, i]);
      continue;
    }
    chosen.push(i);
    coverage.add(c);
  }
  // Unreachable: each row is itself a candidate and fits itself.
  if (coverage.uncoveredRows > 0) throw new Error('role cover: a row cannot be covered (engine bug)');
}

/**
 * A lower bound from pairwise incompatible assignments: (row r, class p) and (row s, class q) can share a
 * role only if the role holds p and q and fits r and s, i.e. q ∈ r and p ∈ s. Assignments no two of which
 * can share a role need one role each. Assignments a free role already covers are left out. Greedy over
 * a few orders (fewest compatible partners first), keeping the largest set found.
 */
export function assignmentLowerBound(
  rows: readonly BitSet[],
  classes: number,
  free: readonly { readonly bits: BitSet; readonly fits: readonly number[] }[],
): number {
  const elements = assignmentsByDegree(rows, classes, free);
  const random = seededRandom(0x5eed);
  let best = 0;
  for (let pass = 0; pass < 8; pass++) {
    const order =
      pass === 0
        ? elements
        : elements
            .map((e) => ({ e, key: e.degree * (0.5 + random()) }))
            .sort((a, b) => a.key - b.key)
            .map((x) => x.e);
    const chosen: Assignment[] = [];
    for (const e of order) if (incompatibleWithAll(rows, e, chosen)) chosen.push(e);
    best = Math.max(best, chosen.length);
  }
  return best;
}

interface Assignment {
  readonly r: number;
  readonly p: number;
  /** How many assignments could share a role with it: the fewer, the likelier it is to need its own. */
  readonly degree: number;
}

function incompatibleWithAll(rows: readonly BitSet[], e: Assignment, chosen: readonly Assignment[]): boolean {
  const rowE = rows[e.r] as BitSet;
  for (const c of chosen) if (hasBit(rowE, c.p) && hasBit(rows[c.r] as BitSet, e.p)) return false;
  return true;
}

/** Every assignment no free role covers, fewest compatible partners first. */
function assignmentsByDegree(
  rows: readonly BitSet[],
  classes: number,
  free: readonly { readonly bits: BitSet; readonly fits: readonly number[] }[],
): Assignment[] {
  const freeCovered = rows.map(() => emptyBits(classes));
  for (const f of free)
    for (const r of f.fits) for (const p of bitIndices(f.bits)) addBit(freeCovered[r] as BitSet, p);
  const elements: Assignment[] = [];
  // Rows holding each class, and one row's overlaps at a time: memory stays linear in the rows.
  const holders: number[][] = Array.from({ length: classes }, () => []);
  rows.forEach((row, r) => {
    for (const p of bitIndices(row)) (holders[p] as number[]).push(r);
  });
  const overlap = new Int32Array(rows.length);
  rows.forEach((row, r) => {
    for (let s = 0; s < rows.length; s++) overlap[s] = countCommon(row, rows[s] as BitSet);
    for (const p of bitIndices(row)) {
      if (hasBit(freeCovered[r] as BitSet, p)) continue;
      let degree = 0;
      for (const s of holders[p] as number[]) degree += overlap[s] as number;
      elements.push({ r, p, degree });
    }
  });
  return elements.sort((a, b) => a.degree - b.degree || a.r - b.r || a.p - b.p);
}

/**
 * Branch and bound over the reduced instance, to prove the incumbent optimal or beat it. Branches on the
 * uncovered assignment with the fewest usable candidates (some chosen role must cover it); after a
 * candidate's branch is explored it is banned in its siblings (those covers were all seen). Bound: the
 * roles chosen so far plus a greedy set of pairwise incompatible uncovered assignments.
 */
function branchAndBound(
  rows: readonly BitSet[],
  candidates: readonly Candidate[],
  byRow: readonly (readonly number[])[],
  order: readonly Assignment[],
  start: (chosen: readonly number[]) => Coverage,
  incumbent: readonly number[],
  workLimit: number,
  deadline: number,
): { best: number[]; complete: boolean } {
  let best = [...incumbent];
  const coverage = start([]);
  const chosen: number[] = [];
  const banned = new Uint8Array(candidates.length);
  let nodes = 0;
  let work = 0;
  let aborted = false;
  const search = (): void => {
    if (aborted) return;
    if (work > workLimit || ((++nodes & 255) === 0 && performance.now() > deadline)) {
      aborted = true;
      return;
    }
    if (coverage.uncoveredRows === 0) {
      if (chosen.length < best.length) best = [...chosen];
      return;
    }
    const room = best.length - chosen.length; // roles we may still add and improve: < room
    const independent: Assignment[] = [];
    for (const e of order) {
      if (hasBit(coverage.covered[e.r] as BitSet, e.p)) continue;
      work += 1 + independent.length;
      if (incompatibleWithAll(rows, e, independent)) {
        independent.push(e);
        if (independent.length >= room) return;
      }
    }
    // The uncovered assignment with the fewest usable candidates.
    let branch: number[] | undefined;
    for (let r = 0; r < rows.length; r++) {
      const missing = bitIndices(rows[r] as BitSet).filter((p) => !hasBit(coverage.covered[r] as BitSet, p));
      for (const p of missing) {
        work += (byRow[r] as number[]).length;
        const options = (byRow[r] as number[]).filter(
          (i) => banned[i] === 0 && hasBit((candidates[i] as Candidate).bits, p),
        );
        if (branch === undefined || options.length < branch.length) branch = options;
        if (options.length === 0) return;
      }
    }
    if (branch === undefined) return;
    const ranked = branch
      .map((i) => ({ i, gain: coverage.gain(candidates[i] as Candidate) }))
      .sort((a, b) => b.gain - a.gain || a.i - b.i);
    const bannedHere: number[] = [];
    for (const { i } of ranked) {
      const c = candidates[i] as Candidate;
      chosen.push(i);
      coverage.add(c);
      search();
      coverage.remove(c);
      chosen.pop();
      if (aborted) break;
      banned[i] = 1;
      bannedHere.push(i);
    }
    for (const i of bannedHere) banned[i] = 0;
  };
  search();
  return { best, complete: !aborted };
}
