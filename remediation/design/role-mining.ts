/**
 * The Basic Role Mining Problem with IAM's quotas (Vaidya, Atluri and Guo, SACMAT 2007): the fewest roles
 * (groups) whose union gives every user exactly its permissions (grants), then the fewest memberships.
 * Pure: plain data in, plain data out, deterministic for a given input.
 *
 * How: reduce (identical users are one row, permissions held by exactly the same users are one class, a
 * user whose set is the union of smaller users' sets adds no requirement), generate candidate roles from
 * the intersection closure of the remaining rows, cover them (greedy, then iterated greedy down to the
 * lower bound when it can), and only then apply IAM's quotas. See docs/group-design-engine.md.
 */

import {
  type BitSet,
  bitIndices,
  bitsKey,
  bitsOf,
  countBits,
  countMissing,
  emptyBits,
  hasBit,
  isSubset,
  sameBits,
  unionInto,
} from './bitset.js';
import { solveCover } from './role-cover.js';

/** One user's exact permission set (duplicates are ignored; order does not matter). */
export interface MiningUser {
  readonly id: string;
  readonly permissions: readonly string[];
}

/** A role that exists already and may be reused as it is (never changed). */
export interface ReusableRole {
  readonly id: string;
  readonly permissions: readonly string[];
}

export interface MiningOptions {
  /** Most permissions one role may carry (IAM: AttachedPoliciesPerGroupQuota). Default: unlimited. */
  readonly maxPermissionsPerRole?: number;
  /** Most roles one user may be in (IAM: GroupsPerUserQuota). Default: unlimited. */
  readonly maxRolesPerUser?: number;
  /** Existing roles that may be reused: a member must hold every permission of the role. */
  readonly reusable?: readonly ReusableRole[];
  /** Stop improving after this many milliseconds (the result is still exact, maybe not minimal). */
  readonly timeBudgetMs?: number;
}

export interface MinedRole {
  /** Sorted, distinct. */
  readonly permissions: readonly string[];
  /** User ids, sorted. */
  readonly members: readonly string[];
  /** Set when this role is a reused existing role. */
  readonly reusedId?: string;
}

export interface MiningResult {
  /** Sorted deterministically (by permissions). */
  readonly roles: readonly MinedRole[];
  /** Users the quotas make impossible to cover exactly, with why; they are in no role. */
  readonly uncovered: readonly { readonly id: string; readonly reason: string }[];
  /** A lower bound on the number of new roles any exact design needs, when the engine proves one. */
  readonly lowerBound?: number;
  /** How far the reductions shrank the instance: for benchmarks and for explaining a slow run. */
  readonly stats?: MiningStats;
}

export interface MiningStats {
  /** Distinct permission sets among covered users. */
  readonly rows: number;
  /** Permission classes: permissions held by exactly the same users (and reusable roles) count once. */
  readonly classes: number;
  /** Rows left once those equal to the union of smaller rows are set aside. */
  readonly basisRows: number;
  /** Candidate roles from the intersection closure of the basis rows. */
  readonly candidates: number;
}

/**
 * Without a time budget, improvement stops after this many rounds or this many (candidate, row) gain
 * evaluations, whichever comes first (or sooner, at the lower bound): about half a second on instances with
 * ten thousand candidates, and the same result on any machine. With `timeBudgetMs`, only the clock limits it.
 */
export const MINING_ITERATIONS = 400;
export const MINING_WORK = 4_000_000;
/** Checks the branch and bound may spend, after the heuristic, to prove its design optimal or beat it. */
export const MINING_EXACT_WORK = 3_000_000;
/** The intersection closure is cut here; past it the rows themselves still make an exact cover. */
export const MAX_CANDIDATE_ROLES = 20_000;

interface NormalUser {
  readonly id: string;
  readonly permissions: readonly string[];
}

const byText = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
const sortedDistinct = (xs: readonly string[]) => [...new Set(xs)].sort(byText);

function compareLists(a: readonly string[], b: readonly string[]): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    const c = byText(a[i] as string, b[i] as string);
    if (c !== 0) return c;
  }
  return a.length - b.length;
}

function checkQuota(name: string, value: number | undefined): number {
  if (value === undefined) return Number.POSITIVE_INFINITY;
  if (!Number.isInteger(value) || value < 1) {
    throw new Error(
      `mineRoles: ${name} must be a whole number of at least 1 (IAM's quota is 10); got ${value}`,
    );
  }
  return value;
}

function normalise(kind: string, list: readonly MiningUser[]): NormalUser[] {
  const seen = new Set<string>();
  const out: NormalUser[] = [];
  for (const u of list) {
    if (typeof u.id !== 'string' || u.id === '')
      throw new Error(`mineRoles: every ${kind} needs a non-empty id`);
    if (seen.has(u.id)) throw new Error(`mineRoles: ${kind} id "${u.id}" appears twice; ids must be unique`);
    seen.add(u.id);
    for (const p of u.permissions) {
      if (typeof p !== 'string' || p === '') {
        throw new Error(`mineRoles: ${kind} "${u.id}" has an empty or non-text permission`);
      }
    }
    out.push({ id: u.id, permissions: sortedDistinct(u.permissions) });
  }
  return out.sort((a, b) => byText(a.id, b.id));
}

/** Splits a sorted permission list into consecutive pieces of at most `size`. */
function chunks(permissions: readonly string[], size: number): string[][] {
  if (permissions.length <= size) return [[...permissions]];
  const out: string[][] = [];
  for (let i = 0; i < permissions.length; i += size) out.push(permissions.slice(i, i + size));
  return out;
}

/**
 * The fewest roles (then memberships) whose unions give every user exactly its permissions: the Basic Role
 * Mining Problem, with IAM's quotas applied afterwards. Reusable roles cost nothing and are used, unchanged,
 * wherever they fit. Users the quotas make impossible are returned in `uncovered` with why.
 *
 * @throws Error on duplicate user or role ids, empty ids or permissions, or quotas that are not whole numbers >= 1.
 */
export function mineRoles(users: readonly MiningUser[], options: MiningOptions = {}): MiningResult {
  const maxPerRole = checkQuota('maxPermissionsPerRole', options.maxPermissionsPerRole);
  const maxPerUser = checkQuota('maxRolesPerUser', options.maxRolesPerUser);
  const budget = options.timeBudgetMs;
  if (budget !== undefined && !(budget >= 0 && Number.isFinite(budget))) {
    throw new Error(`mineRoles: timeBudgetMs must be a finite number of milliseconds >= 0; got ${budget}`);
  }
  const deadline = budget === undefined ? Number.POSITIVE_INFINITY : performance.now() + budget;
  const all = normalise('user', users);
  const reusableIn = normalise('reusable role', options.reusable ?? []);

  // Quotas first: a user needs at least ceil(k / maxPerRole) new roles, so past maxPerUser of them no exact
  // design exists unless existing roles (which may be bigger) carry part of the set.
  const capacity = maxPerRole * maxPerUser;
  const uncovered: { id: string; reason: string }[] = [];
  const covered: NormalUser[] = [];
  for (const u of all) {
    if (u.permissions.length > capacity && ownDesign(u, reusableIn, maxPerRole, maxPerUser) === undefined) {
      uncovered.push({
        id: u.id,
        reason:
          `holds ${u.permissions.length} permissions, but ${maxPerUser} roles of at most ${maxPerRole} ` +
          `permissions each can carry only ${capacity}` +
          (reusableIn.length > 0 ? ', and no mix with the existing roles that fit it does better' : '') +
          ': combine some of its permissions (e.g. into one customer managed policy) or leave the user out',
      });
    } else if (u.permissions.length > 0) {
      covered.push(u);
    }
  }

  // Permission universe and bit sets in permission space.
  const universe = sortedDistinct(covered.flatMap((u) => u.permissions));
  const index = new Map(universe.map((p, i) => [p, i]));
  const permBits = (ps: readonly string[]) =>
    bitsOf(
      universe.length,
      ps.map((p) => index.get(p) as number),
    );
  const userBits = covered.map((u) => permBits(u.permissions));
  // A reusable role holding a permission nobody holds fits nobody; one that fits nobody cannot help.
  const reusable = reusableIn
    .filter((r) => r.permissions.length > 0 && r.permissions.every((p) => index.has(p)))
    .map((r) => ({ ...r, bits: permBits(r.permissions) }))
    .filter((r) => userBits.some((u) => isSubset(r.bits, u)));

  // Rows: identical users are one row.
  const rowByKey = new Map<string, { bits: BitSet; key: string }>();
  for (const bits of userBits) {
    const key = bitsKey(bits);
    if (!rowByKey.has(key)) rowByKey.set(key, { bits, key });
  }
  const rows = [...rowByKey.values()].sort((a, b) => byText(a.key, b.key)).map((r) => r.bits);

  // Classes: permissions held by exactly the same rows (and reusable roles) are interchangeable, so one
  // column stands for them all.
  const signatures = universe.map(() => [] as number[]);
  rows.forEach((row, r) => {
    for (const p of bitIndices(row)) (signatures[p] as number[]).push(r);
  });
  reusable.forEach((role, i) => {
    for (const p of bitIndices(role.bits)) (signatures[p] as number[]).push(-1 - i);
  });
  const classOf = new Int32Array(universe.length);
  const classPerms: number[][] = [];
  const classByKey = new Map<string, number>();
  signatures.forEach((sig, p) => {
    const key = sig.join(',');
    let c = classByKey.get(key);
    if (c === undefined) {
      c = classPerms.length;
      classByKey.set(key, c);
      classPerms.push([]);
    }
    classOf[p] = c;
    (classPerms[c] as number[]).push(p);
  });
  const toClasses = (bits: BitSet) =>
    bitsOf(
      classPerms.length,
      bitIndices(bits).map((p) => classOf[p] as number),
    );
  const classRows = rows.map(toClasses);

  // A row equal to the union of the rows strictly inside it is covered by their roles: it adds nothing.
  // Only a smaller row can be strictly inside another (rows are distinct), which skips most subset tests.
  const sizes = classRows.map(countBits);
  const basis = classRows.filter((row, r) => {
    const union = emptyBits(classPerms.length);
    classRows.forEach((other, s) => {
      if ((sizes[s] as number) < (sizes[r] as number) && isSubset(other, row)) unionInto(union, other);
    });
    return !sameBits(union, row);
  });

  const solution = solveCover({
    classes: classPerms.length,
    rows: basis,
    reusable: reusable.map((r) => toClasses(r.bits)),
    iterations: budget === undefined ? MINING_ITERATIONS : Number.POSITIVE_INFINITY,
    maxWork: budget === undefined ? MINING_WORK : Number.POSITIVE_INFINITY,
    exactWork: budget === undefined ? MINING_EXACT_WORK : Number.POSITIVE_INFINITY,
    deadline,
    maxCandidates: MAX_CANDIDATE_ROLES,
  });

  // Back to permissions; roles too big for the quota are split (each piece fits the same users).
  interface DraftRole {
    readonly permissions: string[];
    readonly bits: BitSet;
    readonly reusedId?: string;
    readonly members: string[];
  }
  const drafts = new Map<string, DraftRole>();
  const addDraft = (permissions: string[], reusedId?: string): DraftRole => {
    const bits = permBits(permissions);
    const key = bitsKey(bits);
    const existing = drafts.get(key);
    if (existing !== undefined) return existing;
    const draft: DraftRole = { permissions, bits, members: [], ...(reusedId ? { reusedId } : {}) };
    drafts.set(key, draft);
    return draft;
  };
  // Reused roles first, so a new role identical to an existing one becomes the existing one.
  for (const r of reusable) addDraft([...r.permissions], r.id);
  for (const role of solution.roles) {
    const permissions = bitIndices(role)
      .flatMap((c) => classPerms[c] as number[])
      .sort((a, b) => a - b)
      .map((p) => universe[p] as string);
    for (const piece of chunks(permissions, maxPerRole)) addDraft(piece);
  }
  const designed = [...drafts.values()];

  // Memberships: per user, the fewest fitting roles whose union is its set.
  covered.forEach((user, u) => {
    const target = userBits[u] as BitSet;
    let picked = fewestCovering(
      target,
      designed.filter((d) => isSubset(d.bits, target)),
    );
    if (picked.length > maxPerUser) {
      // The shared design needs too many roles for this user: give it a design of its own (roles already
      // in the design or existing that fit, new pieces for the rest), which the quota check above proved
      // exists.
      const own = ownDesign(user, [...drafts.values()], maxPerRole, maxPerUser);
      if (own === undefined)
        throw new Error(`mineRoles: no design within quotas for ${user.id} (engine bug)`);
      picked = [...own.picked, ...own.pieces.map((piece) => addDraft(piece))];
    }
    for (const d of picked) d.members.push(user.id);
  });

  const roles: MinedRole[] = [...drafts.values()]
    .filter((d) => d.members.length > 0)
    .map((d) => ({
      permissions: d.permissions,
      members: [...d.members].sort(byText),
      ...(d.reusedId !== undefined ? { reusedId: d.reusedId } : {}),
    }))
    .sort((a, b) => compareLists(a.permissions, b.permissions) || byText(a.reusedId ?? '', b.reusedId ?? ''));
  return {
    roles,
    uncovered,
    lowerBound: solution.lowerBound,
    stats: {
      rows: rows.length,
      classes: classPerms.length,
      basisRows: basis.length,
      candidates: solution.candidates,
    },
  };
}

/** Subsets of existing roles one user's own design may try. */
const OWN_DESIGN_SEARCH_NODES = 5_000;

/**
 * A design for one user alone within the quotas: some roles that exist already and fit it (reusable roles,
 * of any size, or roles the shared design made), the rest in new pieces of at most maxPerRole. Fewest new
 * pieces first, then fewest roles; undefined when none has at most maxPerUser roles.
 */
function ownDesign<T extends { readonly permissions: readonly string[] }>(
  user: NormalUser,
  existing: readonly T[],
  maxPerRole: number,
  maxPerUser: number,
): { picked: T[]; pieces: string[][] } | undefined {
  const set = new Set(user.permissions);
  // Biggest first: they leave the least for new pieces, so good designs come early in the search.
  const fitting = existing
    .filter((r) => r.permissions.length > 0 && r.permissions.every((p) => set.has(p)))
    .map((r, i) => ({ r, i }))
    .sort((a, b) => b.r.permissions.length - a.r.permissions.length || a.i - b.i)
    .map((x) => x.r);
  const cost = (picked: readonly T[]) => {
    const have = new Set(picked.flatMap((r) => r.permissions));
    const rest = user.permissions.filter((p) => !have.has(p));
    const pieces = Math.ceil(rest.length / maxPerRole);
    return { rest, pieces, roles: picked.length + pieces };
  };
  const better = (a: { pieces: number; roles: number }, b: { pieces: number; roles: number }) =>
    a.roles <= maxPerUser &&
    (b.roles > maxPerUser || a.pieces < b.pieces || (a.pieces === b.pieces && a.roles < b.roles));
  let best: T[] = [];
  let bestCost = cost(best);
  let nodes = 0;
  const picked: T[] = [];
  const search = (from: number) => {
    for (let i = from; i < fitting.length && nodes < OWN_DESIGN_SEARCH_NODES; i++) {
      nodes++;
      picked.push(fitting[i] as T);
      const c = cost(picked);
      if (better(c, bestCost)) {
        bestCost = c;
        best = [...picked];
      }
      if (picked.length < maxPerUser && c.pieces > 0) search(i + 1);
      picked.pop();
    }
  };
  if (bestCost.pieces > 0 && maxPerUser > 1) search(0);
  if (bestCost.roles > maxPerUser) return undefined;
  return { picked: best, pieces: bestCost.rest.length > 0 ? chunks(bestCost.rest, maxPerRole) : [] };
}

/** Search nodes one user's membership search may spend before keeping the best found (greedy at worst). */
const MEMBERSHIP_SEARCH_NODES = 20_000;

/**
 * The fewest roles among those that fit a user whose union is its set: greedy first, then an exact search
 * (branch on the first permission still missing: some chosen role must hold it) that only looks for
 * smaller answers, within a node budget.
 */
function fewestCovering<T extends { readonly bits: BitSet }>(target: BitSet, fitting: readonly T[]): T[] {
  const have = emptyBits(target.length * 32);
  const picked: T[] = [];
  while (!sameBits(have, target)) {
    let best: T | undefined;
    let bestGain = 0;
    for (const f of fitting) {
      const gain = countMissing(f.bits, have);
      if (gain > bestGain) {
        bestGain = gain;
        best = f;
      }
    }
    if (best === undefined) throw new Error('mineRoles: a user cannot be covered (engine bug)');
    picked.push(best);
    unionInto(have, best.bits);
  }
  for (let i = picked.length - 1; i >= 0; i--) {
    const others = emptyBits(target.length * 32);
    picked.forEach((p, j) => {
      if (j !== i) unionInto(others, p.bits);
    });
    if (sameBits(others, target)) picked.splice(i, 1);
  }
  let best = picked;
  let nodes = 0;
  const chosen: T[] = [];
  const search = (covered: BitSet) => {
    if (++nodes > MEMBERSHIP_SEARCH_NODES || chosen.length + 1 >= best.length) return;
    const missing = bitIndices(target).find((p) => !hasBit(covered, p)) as number;
    for (const f of fitting) {
      if (!hasBit(f.bits, missing)) continue;
      const next = covered.slice();
      unionInto(next, f.bits);
      chosen.push(f);
      if (sameBits(next, target)) best = [...chosen];
      else search(next);
      chosen.pop();
    }
  };
  if (best.length > 1) search(emptyBits(target.length * 32));
  return best;
}

/**
 * Every way `result` fails to be an exact design for `users`: a covered user whose roles' union differs
 * from its set, a role that is not a subset of a member's set, unknown or repeated members, a user left
 * out without a reason. With `options`, also a new role over maxPermissionsPerRole, a user in more than
 * maxRolesPerUser roles, and a reused role that is unknown or not exactly the existing role. Empty when
 * the design is exact. For tests and for the layers that apply a design.
 */
export function checkExactCover(
  users: readonly MiningUser[],
  result: MiningResult,
  options?: MiningOptions,
): string[] {
  const problems: string[] = [];
  const sets = new Map(users.map((u) => [u.id, new Set(u.permissions)]));
  const uncovered = new Set(result.uncovered.map((u) => u.id));
  const unions = new Map<string, Set<string>>();
  const roleCounts = new Map<string, number>();
  const existing = new Map((options?.reusable ?? []).map((r) => [r.id, sortedDistinct(r.permissions)]));
  result.roles.forEach((role, i) => {
    const name = role.reusedId !== undefined ? `reused role ${role.reusedId}` : `role ${i}`;
    if (role.permissions.length === 0) problems.push(`${name} has no permissions`);
    if (new Set(role.members).size !== role.members.length) problems.push(`${name} lists a member twice`);
    if (options !== undefined && role.reusedId !== undefined) {
      const original = existing.get(role.reusedId);
      if (original === undefined) problems.push(`${name} is not one of the reusable roles`);
      else if (compareLists(original, sortedDistinct(role.permissions)) !== 0) {
        problems.push(`${name} does not have exactly the existing role's permissions`);
      }
    }
    const maxPerRole = options?.maxPermissionsPerRole;
    if (role.reusedId === undefined && maxPerRole !== undefined && role.permissions.length > maxPerRole) {
      problems.push(`${name} has ${role.permissions.length} permissions, over the quota of ${maxPerRole}`);
    }
    for (const m of role.members) {
      roleCounts.set(m, (roleCounts.get(m) ?? 0) + 1);
      const set = sets.get(m);
      if (set === undefined) {
        problems.push(`${name} has member ${m}, who is not a user`);
        continue;
      }
      if (uncovered.has(m)) problems.push(`${name} has member ${m}, who is listed as uncovered`);
      const extra = role.permissions.filter((p) => !set.has(p));
      if (extra.length > 0)
        problems.push(`${name} gives ${m} permissions it does not hold: ${extra.join(', ')}`);
      const union = unions.get(m) ?? new Set<string>();
      for (const p of role.permissions) union.add(p);
      unions.set(m, union);
    }
  });
  for (const u of users) {
    if (uncovered.has(u.id)) continue;
    const union = unions.get(u.id) ?? new Set<string>();
    const missing = [...new Set(u.permissions)].filter((p) => !union.has(p));
    if (missing.length > 0) problems.push(`user ${u.id} lacks ${missing.join(', ')} through its roles`);
    const maxPerUser = options?.maxRolesPerUser;
    const count = roleCounts.get(u.id) ?? 0;
    if (maxPerUser !== undefined && count > maxPerUser) {
      problems.push(`user ${u.id} is in ${count} roles, over the quota of ${maxPerUser}`);
    }
  }
  for (const u of result.uncovered) {
    if (!sets.has(u.id)) problems.push(`uncovered ${u.id} is not a user`);
    if (u.reason.trim() === '') problems.push(`uncovered ${u.id} has no reason`);
  }
  return problems;
}
