import {
  checkDesignInvariant,
  checkDesignQuotas,
  designAccount,
} from '../remediation/design/account-design.js';
import { defaultQuotasFor } from '../remediation/design/authorization-details-file.js';
import type { DesignPlan } from '../remediation/design/design-types.js';
import { planMigration } from '../remediation/plan.js';
import type { IamQuotas, UserState } from '../remediation/state.js';
import {
  type BaselineGroup,
  oneGroupPerDirectSetGroups,
  teamCorePlusOneGroupPerPolicyGroups,
} from './design-baselines.js';
import { generateMessyAccount, type MessyAccount } from './messy-account.js';
import { simulate, type World } from './migration-simulator.js';

/**
 * The account-wide group design against what an administrator gets without it, on generated messy accounts
 * (bench/messy-account.ts): one group per distinct direct set, a team core plus one group per remaining
 * policy, and the per-user remediation run user after user. Counts are deterministic for a seed (the
 * regression test pins them); only `ms` depends on the machine.
 */

/** The seed of the generated accounts the benchmark and the regression test share. */
export const MESSY_DESIGN_SEED = 7;
/** Account sizes of the benchmark section. */
export const MESSY_DESIGN_SIZES = [300, 3000] as const;
/** Issue 12's target: no user in more groups than this after the migration (IAM's GroupsPerUserQuota). */
export const MAX_GROUPS_PER_USER = 10;

/** What one approach ends with on one account. */
export interface DesignShape {
  readonly approach: string;
  /** Groups the approach creates. */
  readonly groups: number;
  /** Created groups with exactly one member. */
  readonly singleMemberGroups: number;
  /** Memberships it adds. */
  readonly memberships: number;
  /** Users it changes. */
  readonly usersChanged: number;
  /** Groups each changed user is in afterwards (the groups it was in plus those it joins). */
  readonly groupsPerUserMean: number;
  readonly groupsPerUserMax: number;
  /** Users it cannot move within IAM's quotas (the per-user remediation refuses them; the design skips them). */
  readonly usersLeft: number;
  /** Wall time of the whole approach on this account; not for regression tests. */
  readonly ms: number;
}

/** One account size: every approach, and what the design's single-member groups are owed to. */
export interface MessyDesignMeasurement {
  readonly users: number;
  readonly seed: number;
  readonly shapes: readonly DesignShape[];
  /** Users who keep a grant (after ${aws:username} generalisation) no other migrated user keeps. */
  readonly soleHolders: number;
  /** The design's single-member groups that carry such a grant of their member's: unavoidable ones. */
  readonly justifiedSingleMemberGroups: number;
  /** ${aws:username} rewrites the design made (each one policy for many users' inline documents). */
  readonly rewrites: number;
  /** The design's warnings: account quotas (GroupsQuota, PoliciesQuota) it would exceed. */
  readonly warnings: readonly string[];
  /** What checkDesignInvariant and checkDesignQuotas found wrong with the design (must be 0). */
  readonly problems: number;
}

const mean = (xs: readonly number[]) => (xs.length === 0 ? 0 : xs.reduce((a, b) => a + b, 0) / xs.length);
const max = (xs: readonly number[]) => xs.reduce((a, b) => Math.max(a, b), 0);

/** Runs every approach on the account generated for (seed, users). */
export function measureMessyDesign(users: number, seed = MESSY_DESIGN_SEED): MessyDesignMeasurement {
  const account = generateMessyAccount({ seed, users });
  const quotas = defaultQuotasFor(account);

  let start = performance.now();
  // A fixed clock keeps the plan, and so every count, the same on every run.
  const plan = designAccount(account, quotas, {
    quotasSource: 'iam-defaults',
    createdAt: '2026-01-01T00:00:00.000Z',
  });
  const designMs = performance.now() - start;
  const { shape: design, soleHolders, justified } = designShape(account, plan, designMs);

  start = performance.now();
  const perSet = oneGroupPerDirectSetGroups(account.users);
  const perSetShape = baselineShape('one group per distinct direct set', account, perSet, start);

  start = performance.now();
  const tags = new Map(account.users.map((u) => [u.userName, u.tags?.team]));
  const perTeam = teamCorePlusOneGroupPerPolicyGroups(account.users, (name) => tags.get(name));
  const perTeamShape = baselineShape('team core + one group per remaining policy', account, perTeam, start);

  const perUser = [perUserInSequence(account, quotas, 'per-user remediation, user after user')];
  // Past GroupsQuota the per-user runs are refused, so its group count alone flatters it: show also what
  // it would make if the account's group and policy quotas were raised (they are adjustable).
  if ((perUser[0]?.usersLeft ?? 0) > 0) {
    const raised = {
      ...quotas,
      groupsQuota: Number.POSITIVE_INFINITY,
      policiesQuota: Number.POSITIVE_INFINITY,
    };
    perUser.push(perUserInSequence(account, raised, 'per-user remediation, account quotas raised'));
  }
  return {
    users,
    seed,
    rewrites: plan.rewrites.length,
    warnings: plan.warnings ?? [],
    shapes: [design, perSetShape, perTeamShape, ...perUser],
    soleHolders,
    justifiedSingleMemberGroups: justified,
    problems: checkDesignInvariant(account, plan).length + checkDesignQuotas(account, quotas, plan).length,
  };
}

function designShape(account: MessyAccount, plan: DesignPlan, ms: number) {
  const before = new Map(account.users.map((u) => [u.userName, u.groupNames.length]));
  const created = plan.groups.filter((g) => g.status === 'new');
  const after = plan.users.map((u) => (before.get(u.userName) ?? 0) + u.joins.length);
  // Who keeps each grant: the members of every design group that carries it. The design is exact (checked
  // below), so a group's members are exactly the users that keep all of its grants.
  const holders = new Map<string, Set<string>>();
  for (const g of plan.groups) {
    for (const key of g.policies) {
      const set = holders.get(key) ?? new Set<string>();
      for (const m of g.members) set.add(m);
      holders.set(key, set);
    }
  }
  const soleHeld = new Map<string, string>();
  for (const [key, set] of holders) if (set.size === 1) soleHeld.set(key, [...set][0] as string);
  const single = created.filter((g) => g.members.length === 1);
  const justified = single.filter((g) => g.policies.some((k) => soleHeld.get(k) === g.members[0])).length;
  const shape: DesignShape = {
    approach: 'group design (designAccount)',
    groups: created.length,
    singleMemberGroups: single.length,
    memberships: plan.users.reduce((n, u) => n + u.joins.length, 0),
    usersChanged: plan.users.length,
    groupsPerUserMean: mean(after),
    groupsPerUserMax: max(after),
    usersLeft: plan.skipped.filter((s) => s.reason !== 'carries no policy directly').length,
    ms,
  };
  return { shape, soleHolders: new Set(soleHeld.values()).size, justified };
}

function baselineShape(
  approach: string,
  account: MessyAccount,
  groups: readonly BaselineGroup[],
  start: number,
): DesignShape {
  const joined = new Map<string, number>();
  for (const g of groups) for (const m of g.members) joined.set(m, (joined.get(m) ?? 0) + 1);
  const before = new Map(account.users.map((u) => [u.userName, u.groupNames.length]));
  const after = [...joined].map(([user, n]) => (before.get(user) ?? 0) + n);
  return {
    approach,
    groups: groups.length,
    singleMemberGroups: groups.filter((g) => g.members.length === 1).length,
    memberships: [...joined.values()].reduce((a, b) => a + b, 0),
    usersChanged: joined.size,
    groupsPerUserMean: mean(after),
    groupsPerUserMax: max(after),
    // Neither baseline checks a quota: what it would break is in groupsPerUserMax.
    usersLeft: 0,
    ms: performance.now() - start,
  };
}

/**
 * The per-user remediation as Config would run it on every NON_COMPLIANT user, one after another in name
 * order: each run plans (planMigration, with the account's group and policy counts as they are by then) on
 * the account the previous runs left, and its steps are applied in memory.
 */
function perUserInSequence(account: MessyAccount, quotas: IamQuotas, approach: string): DesignShape {
  const start = performance.now();
  const users = new Map(account.users.map((u) => [u.userName, u]));
  // The world the simulator copies holds only the user being migrated: a run reads and changes no other
  // user, and copying 3,000 users per run would make the benchmark measure structuredClone.
  let world: World = {
    users: [],
    groups: structuredClone([...account.groups]),
    customerPolicies: structuredClone([...account.customerPolicies]),
  };
  const direct = (u: UserState) => u.managedPolicies.length + u.inlinePolicies.length > 0;
  const order = account.users
    .filter(direct)
    .map((u) => u.userName)
    .sort();
  let refused = 0;
  const migrated: string[] = [];
  for (const name of order) {
    const user = users.get(name) as UserState;
    const plan = planMigration(
      { user, groups: world.groups, customerPolicies: world.customerPolicies },
      { ...quotas, groups: world.groups.length, policies: world.customerPolicies.length },
      {},
    );
    if (plan.kind === 'refused') refused++;
    if (plan.kind !== 'steps') continue;
    const after = simulate({ ...world, users: [user] }, plan.steps, user).at(-1);
    if (after === undefined) continue;
    world = { ...after, users: [] };
    users.set(name, after.users[0] as UserState);
    migrated.push(name);
  }
  const existing = new Set(account.groups.map((g) => g.groupName));
  const created = world.groups.filter((g) => !existing.has(g.groupName));
  const groupsOf = new Map([...users.values()].map((u) => [u.userName, u.groupNames.length]));
  const before = new Map(account.users.map((u) => [u.userName, u.groupNames.length]));
  const after = migrated.map((n) => groupsOf.get(n) ?? 0);
  return {
    approach,
    groups: created.length,
    singleMemberGroups: created.filter((g) => g.memberNames.length === 1).length,
    memberships: migrated.reduce((n, u) => n + (groupsOf.get(u) ?? 0) - (before.get(u) ?? 0), 0),
    usersChanged: migrated.length,
    groupsPerUserMean: mean(after),
    groupsPerUserMax: max(after),
    usersLeft: refused,
    ms: performance.now() - start,
  };
}
