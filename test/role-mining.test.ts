import { describe, expect, it } from 'vitest';
import { ROLE_MINING_DATASETS, readRoleMiningDataset } from '../bench/role-mining.js';
import { seededRandom } from '../remediation/design/role-cover.js';
import {
  checkExactCover,
  type MiningOptions,
  type MiningResult,
  type MiningUser,
  mineRoles,
} from '../remediation/design/role-mining.js';

/** Users from a compact picture: `u1: a b`, one user a string. */
const usersOf = (...lines: string[]): MiningUser[] =>
  lines.map((line, i) => ({ id: `u${i + 1}`, permissions: line.split(' ').filter((p) => p !== '') }));
const newRoles = (r: MiningResult) => r.roles.filter((role) => role.reusedId === undefined);
const memberships = (r: MiningResult) => r.roles.reduce((n, role) => n + role.members.length, 0);
const rolesOf = (r: MiningResult, id: string) => r.roles.filter((role) => role.members.includes(id));
const perms = (n: number, prefix = 'p') =>
  Array.from({ length: n }, (_, i) => `${prefix}${String(i).padStart(2, '0')}`);

function shuffled<T>(xs: readonly T[], random: () => number): T[] {
  const out = [...xs];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}

/** The true optimum by trying every set of candidate roles (all non-empty subsets), smallest first. */
function bruteForceMinimum(users: readonly MiningUser[]): number {
  const universe = [...new Set(users.flatMap((u) => u.permissions))].sort();
  const masks = users
    .map((u) => u.permissions.reduce((m, p) => m | (1 << universe.indexOf(p)), 0))
    .filter((m) => m !== 0);
  const candidates = Array.from({ length: (1 << universe.length) - 1 }, (_, i) => i + 1).filter((c) =>
    masks.some((m) => (c & m) === c),
  );
  const exact = (chosen: number[]) =>
    masks.every((m) => chosen.reduce((u, c) => ((c & m) === c ? u | c : u), 0) === m);
  const search = (k: number, from: number, chosen: number[]): boolean => {
    if (chosen.length === k) return exact(chosen);
    for (let i = from; i < candidates.length; i++) {
      chosen.push(candidates[i] as number);
      if (search(k, i + 1, chosen)) return true;
      chosen.pop();
    }
    return false;
  };
  for (let k = 0; ; k++) if (search(k, 0, [])) return k;
}

describe('mineRoles on matrices whose optimum you can see', () => {
  const cases: { name: string; users: MiningUser[]; roles: number; memberships?: number }[] = [
    {
      name: 'a user whose set is the union of two others needs no role of its own',
      users: usersOf('a b', 'b c', 'a b c'),
      roles: 2,
      memberships: 4,
    },
    { name: 'one user, one role', users: usersOf('a b c'), roles: 1, memberships: 1 },
    { name: 'identical users share one role', users: usersOf('a b', 'b a', 'a b'), roles: 1, memberships: 3 },
    { name: 'disjoint users need a role each', users: usersOf('a', 'b', 'c'), roles: 3 },
    {
      name: 'three pairwise overlapping pairs need three roles',
      users: usersOf('a b', 'a c', 'b c'),
      roles: 3,
    },
    {
      name: 'a shared core and two private parts: three roles, one membership each',
      users: usersOf('a b x', 'a b y', 'a b'),
      roles: 3,
      memberships: 3,
    },
    { name: 'users with no permissions need no role', users: usersOf('', 'a', ''), roles: 1, memberships: 1 },
    { name: 'no users, no roles', users: [], roles: 0 },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const result = mineRoles(c.users, {});
      expect(checkExactCover(c.users, result)).toEqual([]);
      expect(newRoles(result)).toHaveLength(c.roles);
      if (c.memberships !== undefined) expect(memberships(result)).toBe(c.memberships);
      expect(result.uncovered).toEqual([]);
      expect(result.lowerBound).toBeLessThanOrEqual(c.roles);
    });
  }

  it('returns roles sorted by permissions, with sorted members and permissions', () => {
    const result = mineRoles(usersOf('z y', 'b a', 'y z'), {});
    expect(result.roles).toEqual([
      { permissions: ['a', 'b'], members: ['u2'] },
      { permissions: ['y', 'z'], members: ['u1', 'u3'] },
    ]);
  });

  it('proves the optimum with its lower bound when users cannot share roles', () => {
    expect(mineRoles(usersOf('a b', 'a c', 'b c'), {}).lowerBound).toBe(3);
  });
});

describe('mineRoles with IAM quotas', () => {
  it('a user with 11 permissions and at most 10 per role gets 2 roles', () => {
    const users = [{ id: 'alice', permissions: perms(11) }];
    const result = mineRoles(users, { maxPermissionsPerRole: 10 });
    expect(checkExactCover(users, result)).toEqual([]);
    expect(result.roles).toHaveLength(2);
    for (const role of result.roles) expect(role.permissions.length).toBeLessThanOrEqual(10);
  });

  it('a user needing more roles than maxRolesPerUser allows is uncovered, with a reason naming the numbers', () => {
    const users = [
      { id: 'alice', permissions: perms(21) },
      { id: 'bob', permissions: perms(3) },
    ];
    const result = mineRoles(users, { maxPermissionsPerRole: 10, maxRolesPerUser: 2 });
    expect(result.uncovered).toHaveLength(1);
    expect(result.uncovered[0]?.id).toBe('alice');
    expect(result.uncovered[0]?.reason).toMatch(/21 permissions.*2 roles.*10 permissions.*20/);
    expect(rolesOf(result, 'alice')).toEqual([]);
    expect(checkExactCover(users, result)).toEqual([]);
  });

  it('an existing role bigger than the quota can make a user coverable that new roles alone could not', () => {
    const users = [{ id: 'alice', permissions: perms(25) }];
    const reusable = [{ id: 'Big', permissions: perms(15) }];
    const result = mineRoles(users, { maxPermissionsPerRole: 10, maxRolesPerUser: 2, reusable });
    expect(result.uncovered).toEqual([]);
    expect(checkExactCover(users, result)).toEqual([]);
    expect(rolesOf(result, 'alice').map((r) => r.reusedId ?? r.permissions.length)).toEqual(['Big', 10]);
  });

  it('a user the shared design would put in too many roles gets its own roles instead', () => {
    const users = usersOf('a', 'b', 'c', 'a b c');
    const result = mineRoles(users, { maxRolesPerUser: 2 });
    expect(checkExactCover(users, result)).toEqual([]);
    expect(result.uncovered).toEqual([]);
    for (const u of users) expect(rolesOf(result, u.id).length).toBeLessThanOrEqual(2);
  });

  it('a user over maxRolesPerUser keeps a role the design already has and gets one new piece for the rest', () => {
    const users = usersOf('a', 'b', 'c', 'd', 'a b c d');
    const options = { maxPermissionsPerRole: 3, maxRolesPerUser: 2 };
    const result = mineRoles(users, options);
    expect(checkExactCover(users, result, options)).toEqual([]);
    const mine = rolesOf(result, 'u5');
    expect(mine).toHaveLength(2);
    expect(mine.filter((r) => r.members.length > 1)).toHaveLength(1);
    expect(newRoles(result)).toHaveLength(5);
  });

  it('quotas stay within bounds on the real healthcare dataset', () => {
    const users = readRoleMiningDataset('hc.txt');
    const options = { maxPermissionsPerRole: 10, maxRolesPerUser: 10 };
    const result = mineRoles(users, options);
    expect(checkExactCover(users, result)).toEqual([]);
    for (const role of result.roles) expect(role.permissions.length).toBeLessThanOrEqual(10);
    for (const u of users) {
      if (result.uncovered.some((x) => x.id === u.id)) {
        expect(u.permissions.length).toBeGreaterThan(100);
      } else {
        expect(rolesOf(result, u.id).length).toBeLessThanOrEqual(10);
      }
    }
  });
});

describe('mineRoles with reusable roles', () => {
  it('uses an existing role where it fits, unchanged, and creates only what is missing', () => {
    const users = usersOf('a b c', 'a b', 'c');
    const result = mineRoles(users, { reusable: [{ id: 'Existing', permissions: ['b', 'a'] }] });
    expect(checkExactCover(users, result)).toEqual([]);
    const reused = result.roles.filter((r) => r.reusedId === 'Existing');
    expect(reused).toEqual([{ permissions: ['a', 'b'], members: ['u1', 'u2'], reusedId: 'Existing' }]);
    expect(newRoles(result)).toEqual([{ permissions: ['c'], members: ['u1', 'u3'] }]);
  });

  it('prefers one wider new role to an existing role plus a new one when that saves memberships', () => {
    // Both designs need one new role; {a,b,c} alone gives 2 memberships, Existing + {c} would give 3.
    const users = usersOf('a b c', 'a b');
    const result = mineRoles(users, { reusable: [{ id: 'Existing', permissions: ['a', 'b'] }] });
    expect(newRoles(result)).toEqual([{ permissions: ['a', 'b', 'c'], members: ['u1'] }]);
    expect(memberships(result)).toBe(2);
  });

  it('never uses an existing role on a user who lacks one of its permissions', () => {
    const users = usersOf('a b', 'a');
    const result = mineRoles(users, { reusable: [{ id: 'Wide', permissions: ['a', 'b', 'z'] }] });
    expect(result.roles.some((r) => r.reusedId === 'Wide')).toBe(false);
    expect(checkExactCover(users, result)).toEqual([]);
  });

  it('a new role identical to an existing one is the existing one', () => {
    const users = usersOf('a b', 'a b');
    const result = mineRoles(users, { reusable: [{ id: 'Same', permissions: ['a', 'b'] }] });
    expect(result.roles).toEqual([{ permissions: ['a', 'b'], members: ['u1', 'u2'], reusedId: 'Same' }]);
  });
});

describe('mineRoles with a time budget', () => {
  it('a budget of 0 ms still gives an exact design (the first greedy cover)', () => {
    const users = readRoleMiningDataset('domino.txt');
    const result = mineRoles(users, { timeBudgetMs: 0 });
    expect(checkExactCover(users, result)).toEqual([]);
    expect(newRoles(result).length).toBeLessThanOrEqual(23);
  });
});

describe('mineRoles is deterministic', () => {
  it('gives the same design whatever the order of users and permissions', () => {
    const users = readRoleMiningDataset('domino.txt');
    const reference = mineRoles(users, { maxPermissionsPerRole: 10, maxRolesPerUser: 10 });
    const random = seededRandom(42);
    for (let run = 0; run < 3; run++) {
      const mixed = shuffled(users, random).map((u) => ({
        ...u,
        permissions: shuffled(u.permissions, random),
      }));
      expect(mineRoles(mixed, { maxPermissionsPerRole: 10, maxRolesPerUser: 10 })).toEqual(reference);
    }
  });
});

describe('mineRoles rejects bad input', () => {
  it('duplicate user ids', () => {
    expect(() =>
      mineRoles(
        usersOf('a', 'b').map((u) => ({ ...u, id: 'same' })),
        {},
      ),
    ).toThrow(/user id "same" appears twice/);
  });
  it('duplicate reusable role ids', () => {
    const reusable = [
      { id: 'G', permissions: ['a'] },
      { id: 'G', permissions: ['b'] },
    ];
    expect(() => mineRoles(usersOf('a'), { reusable })).toThrow(/reusable role id "G" appears twice/);
  });
  const badQuotas: [string, MiningOptions][] = [
    ['maxPermissionsPerRole', { maxPermissionsPerRole: 0 }],
    ['maxPermissionsPerRole', { maxPermissionsPerRole: 2.5 }],
    ['maxRolesPerUser', { maxRolesPerUser: -1 }],
    ['maxRolesPerUser', { maxRolesPerUser: Number.NaN }],
  ];
  for (const [field, options] of badQuotas) {
    it(`${field} ${JSON.stringify(Object.values(options)[0])}`, () => {
      expect(() => mineRoles(usersOf('a'), options)).toThrow(new RegExp(`${field} must be a whole number`));
    });
  }
  it('a negative time budget', () => {
    expect(() => mineRoles(usersOf('a'), { timeBudgetMs: -1 })).toThrow(/timeBudgetMs/);
  });
});

describe('checkExactCover', () => {
  it('names a role that gives a member too much and a user left short', () => {
    const users = usersOf('a b', 'a');
    const broken: MiningResult = { roles: [{ permissions: ['a', 'b'], members: ['u2'] }], uncovered: [] };
    const problems = checkExactCover(users, broken);
    expect(problems).toContain('role 0 gives u2 permissions it does not hold: b');
    expect(problems).toContain('user u1 lacks a, b through its roles');
  });

  it('with the options, names quota overruns and a changed existing role', () => {
    const users = usersOf('a b c');
    const broken: MiningResult = {
      roles: [
        { permissions: ['a', 'b', 'c'], members: ['u1'] },
        { permissions: ['a'], members: ['u1'], reusedId: 'G' },
      ],
      uncovered: [],
    };
    const options = {
      maxPermissionsPerRole: 2,
      maxRolesPerUser: 1,
      reusable: [{ id: 'G', permissions: ['a', 'b'] }],
    };
    expect(checkExactCover(users, broken, options)).toEqual([
      'role 0 has 3 permissions, over the quota of 2',
      "reused role G does not have exactly the existing role's permissions",
      'user u1 is in 2 roles, over the quota of 1',
    ]);
  });
});

describe('mineRoles on random matrices (seeded)', () => {
  it('never reports a lower bound above what it found on denser matrices', () => {
    const random = seededRandom(3);
    for (let run = 0; run < 4; run++) {
      const names = perms(10 + run * 2);
      const users = Array.from({ length: 12 + run * 3 }, (_, i) => ({
        id: `u${i}`,
        permissions: names.filter(() => random() < 0.4),
      }));
      const result = mineRoles(users, {});
      expect(checkExactCover(users, result)).toEqual([]);
      expect(result.lowerBound ?? 0).toBeLessThanOrEqual(newRoles(result).length);
    }
  });

  it('is always exact, within the quotas, and never changes an existing role', () => {
    const random = seededRandom(7);
    for (let run = 0; run < 150; run++) {
      const width = 1 + Math.floor(random() * 12);
      const height = 1 + Math.floor(random() * 10);
      const density = 0.2 + random() * 0.6;
      const names = perms(width);
      const users = Array.from({ length: height }, (_, i) => ({
        id: `u${i}`,
        permissions: names.filter(() => random() < density),
      }));
      const quotas =
        run % 3 === 0 ? {} : { maxPermissionsPerRole: 1 + (run % 4), maxRolesPerUser: 1 + (run % 5) };
      const reusable = Array.from({ length: run % 4 }, (_, i) => ({
        id: `existing${i}`,
        permissions: names.filter(() => random() < 0.3),
      }));
      const options: MiningOptions = { ...quotas, reusable };
      const result = mineRoles(users, options);
      expect(checkExactCover(users, result, options), JSON.stringify({ users, options })).toEqual([]);
      for (const role of result.roles) {
        const existing = reusable.find((r) => r.id === role.reusedId);
        if (existing !== undefined)
          expect(role.permissions).toEqual([...new Set(existing.permissions)].sort());
        else expect(role.permissions.length).toBeLessThanOrEqual(options.maxPermissionsPerRole ?? 99);
      }
      for (const u of users)
        expect(rolesOf(result, u.id).length).toBeLessThanOrEqual(options.maxRolesPerUser ?? 99);
    }
  });

  it('finds the brute-force optimum on very small matrices, and proves it with its lower bound', () => {
    const random = seededRandom(11);
    for (let run = 0; run < 120; run++) {
      const names = perms(2 + Math.floor(random() * 3));
      const users = Array.from({ length: 1 + Math.floor(random() * 5) }, (_, i) => ({
        id: `u${i}`,
        permissions: names.filter(() => random() < 0.5),
      }));
      const result = mineRoles(users, {});
      const optimum = bruteForceMinimum(users);
      expect(newRoles(result).length, JSON.stringify(users)).toBe(optimum);
      expect(result.lowerBound, JSON.stringify(users)).toBe(optimum);
    }
  });
});

describe('mineRoles on the HP Labs datasets (quotas lifted)', () => {
  // The counts this engine reaches; each equals the minimum the literature reports (Ene et al. 2008).
  const pinned: Record<string, number> = { hc: 14, domino: 20, emea: 34, fire1: 64, fire2: 10 };
  for (const { dataset, file } of ROLE_MINING_DATASETS) {
    it(`${dataset}: ${pinned[dataset]} roles, exact`, () => {
      const users = readRoleMiningDataset(file);
      const result = mineRoles(users, {});
      expect(checkExactCover(users, result)).toEqual([]);
      expect(newRoles(result)).toHaveLength(pinned[dataset] as number);
      expect(result.lowerBound).toBe(pinned[dataset]);
    });
  }
});
