import type { UserState } from '../remediation/state.js';

/**
 * Naive group designs to measure the design engine against: what an administrator gets without role
 * mining. Pure functions of the users' direct policies; both are exact (nobody gains a grant) and neither
 * rewrites per-person documents with ${aws:username}, which is part of what the engine should beat.
 */

/** The size of a design, and how much of it IAM's quotas would refuse. */
export interface BaselineCounts {
  /** Groups the design creates. */
  readonly groups: number;
  /** User-to-group memberships it adds. */
  readonly memberships: number;
  /** Policies attached to its groups, counted per group (a policy on two groups counts twice). */
  readonly attachments: number;
  /** Groups that would carry more policies than a group may (AttachedPoliciesPerGroupQuota). */
  readonly groupsOverPolicyQuota: number;
  /** Users who would be in more groups than a user may (GroupsPerUserQuota), counting groups they are in. */
  readonly usersOverGroupQuota: number;
}

/** IAM's defaults; a benchmark against a real account passes GetAccountSummary's values. */
export interface BaselineQuotas {
  readonly attachedPoliciesPerGroup: number;
  readonly groupsPerUser: number;
}
const DEFAULT_QUOTAS: BaselineQuotas = { attachedPoliciesPerGroup: 10, groupsPerUser: 10 };

/** JSON with object keys sorted: two documents that differ only in whitespace or key order are one grant. */
export function canonicalDocument(document: string): string {
  const sort = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(sort);
    if (v !== null && typeof v === 'object') {
      return Object.fromEntries(
        Object.entries(v as Record<string, unknown>)
          .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
          .map(([k, x]) => [k, sort(x)]),
      );
    }
    return v;
  };
  try {
    return JSON.stringify(sort(JSON.parse(document)));
  } catch {
    return document;
  }
}

/**
 * A user's direct grants as stable keys: managed policies by ARN, inline documents by canonical text (the
 * inline policy's name does not change what it grants). Sorted, distinct.
 */
export function directGrants(user: UserState): string[] {
  return [
    ...new Set([
      ...user.managedPolicies.map((p) => `managed:${p.policyArn}`),
      ...user.inlinePolicies.map((p) => `inline:${canonicalDocument(p.document)}`),
    ]),
  ].sort();
}

/** One group of a baseline design: the grants it carries and the users it adds. */
export interface BaselineGroup {
  readonly grants: readonly string[];
  readonly members: readonly string[];
}

/** The counts of a baseline design, given how many groups each of its users was already in. */
function countsOf(
  groups: readonly BaselineGroup[],
  existingGroups: ReadonlyMap<string, number>,
  quotas: BaselineQuotas,
): BaselineCounts {
  const joined = new Map<string, number>();
  for (const g of groups) for (const m of g.members) joined.set(m, (joined.get(m) ?? 0) + 1);
  let usersOverGroupQuota = 0;
  for (const [user, n] of joined)
    if ((existingGroups.get(user) ?? 0) + n > quotas.groupsPerUser) usersOverGroupQuota++;
  return {
    groups: groups.length,
    memberships: [...joined.values()].reduce((a, b) => a + b, 0),
    attachments: groups.reduce((a, g) => a + g.grants.length, 0),
    groupsOverPolicyQuota: groups.filter((g) => g.grants.length > quotas.attachedPoliciesPerGroup).length,
    usersOverGroupQuota,
  };
}

const existingGroupCounts = (users: readonly UserState[]) =>
  new Map(users.map((u) => [u.userName, u.groupNames.length]));

/**
 * "One group per distinct direct set": users with exactly the same direct grants share a group carrying all
 * of them. The remediation's per-user behaviour, deduplicated.
 */
export function oneGroupPerDirectSet(
  users: readonly UserState[],
  quotas: BaselineQuotas = DEFAULT_QUOTAS,
): BaselineCounts {
  return countsOf(oneGroupPerDirectSetGroups(users), existingGroupCounts(users), quotas);
}

/** The groups of oneGroupPerDirectSet, with their members, in first-seen order. */
export function oneGroupPerDirectSetGroups(users: readonly UserState[]): BaselineGroup[] {
  const sets = new Map<string, { grants: string[]; members: string[] }>();
  for (const user of users) {
    const grants = directGrants(user);
    if (grants.length === 0) continue;
    const key = grants.join('\n');
    const group = sets.get(key) ?? { grants, members: [] };
    group.members.push(user.userName);
    sets.set(key, group);
  }
  return [...sets.values()];
}

/**
 * "Team core plus one group per remaining policy": for each team (by the user's `team` tag) a core group
 * with the grants more than half of the team's users with direct grants hold; a user holding the whole core
 * joins it, and every grant not covered that way gets a group of its own (one per distinct grant, shared by
 * all its holders). Users without a team tag get only per-grant groups.
 */
export function teamCorePlusOneGroupPerPolicy(
  users: readonly UserState[],
  teamOf: (userName: string) => string | undefined,
  quotas: BaselineQuotas = DEFAULT_QUOTAS,
): BaselineCounts {
  return countsOf(teamCorePlusOneGroupPerPolicyGroups(users, teamOf), existingGroupCounts(users), quotas);
}

/** The groups of teamCorePlusOneGroupPerPolicy, with their members: team cores first, then single grants. */
export function teamCorePlusOneGroupPerPolicyGroups(
  users: readonly UserState[],
  teamOf: (userName: string) => string | undefined,
): BaselineGroup[] {
  const byTeam = new Map<string, string[][]>();
  const grantsOf = new Map<string, string[]>();
  for (const user of users) {
    const grants = directGrants(user);
    if (grants.length === 0) continue;
    grantsOf.set(user.userName, grants);
    const team = teamOf(user.userName);
    if (team !== undefined) byTeam.set(team, [...(byTeam.get(team) ?? []), grants]);
  }
  const cores = new Map<string, string[]>();
  for (const [team, sets] of byTeam) {
    const counts = new Map<string, number>();
    for (const set of sets) for (const g of set) counts.set(g, (counts.get(g) ?? 0) + 1);
    const core = [...counts].filter(([, c]) => c * 2 > sets.length).map(([g]) => g);
    if (core.length > 0) cores.set(team, core.sort());
  }

  const coreMembers = new Map<string, string[]>();
  const singleMembers = new Map<string, string[]>();
  for (const user of users) {
    const grants = grantsOf.get(user.userName);
    if (grants === undefined) continue;
    const team = teamOf(user.userName);
    const core = (team !== undefined ? cores.get(team) : undefined) ?? [];
    const inCore = team !== undefined && core.length > 0 && core.every((g) => grants.includes(g));
    const rest = inCore ? grants.filter((g) => !core.includes(g)) : grants;
    if (inCore) coreMembers.set(team, [...(coreMembers.get(team) ?? []), user.userName]);
    for (const g of rest) singleMembers.set(g, [...(singleMembers.get(g) ?? []), user.userName]);
  }
  return [
    ...[...coreMembers].map(([team, members]) => ({ grants: cores.get(team) ?? [], members })),
    ...[...singleMembers].map(([grant, members]) => ({ grants: [grant], members })),
  ];
}
