import type { World } from '../../bench/migration-simulator.js';
import { groupGrantKeys, inlineGrantKey, managedGrantKeyResolver } from '../../remediation/grants.js';
import type {
  AccountState,
  GroupState,
  IamQuotas,
  InlinePolicy,
  UserState,
} from '../../remediation/state.js';

/** Builders and an in-memory step simulator for planner tests (no AWS, no mocks). */

export const ACCOUNT = '123456789012';
export const awsPolicy = (name: string) => `arn:aws:iam::aws:policy/${name}`;
export const policyDoc = (action: string, spaced = false) =>
  JSON.stringify(
    { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: action, Resource: '*' }] },
    null,
    spaced ? 2 : undefined,
  );

/** GetAccountSummary's SummaryMap for an empty account at IAM's default quotas (for mocked IAM clients). */
export const DEFAULT_SUMMARY_MAP = {
  AttachedPoliciesPerGroupQuota: 10,
  GroupsPerUserQuota: 10,
  PolicySizeQuota: 6144,
  GroupsQuota: 300,
  Groups: 0,
  PoliciesQuota: 1500,
  Policies: 0,
};

export const QUOTAS: IamQuotas = {
  attachedPoliciesPerGroup: 10,
  groupsPerUser: 10,
  policySize: 6144,
  groupsQuota: 300,
  groups: 0,
  policiesQuota: 1500,
  policies: 0,
};

export function user(
  userName: string,
  parts: { managed?: string[]; inline?: InlinePolicy[]; groups?: string[] } = {},
): UserState {
  return {
    userName,
    userId: `id-${userName}`,
    arn: `arn:aws:iam::${ACCOUNT}:user/${userName}`,
    path: '/',
    groupNames: parts.groups ?? [],
    managedPolicies: (parts.managed ?? []).map((arn) => ({
      policyArn: arn,
      policyName: arn.slice(arn.lastIndexOf('/') + 1),
    })),
    inlinePolicies: parts.inline ?? [],
    tags: {},
  };
}

export function group(
  groupName: string,
  parts: { managed?: string[]; inline?: InlinePolicy[]; members?: string[]; path?: string } = {},
): GroupState {
  return {
    groupName,
    path: parts.path ?? '/',
    memberNames: parts.members ?? [],
    managedPolicies: (parts.managed ?? []).map((arn) => ({
      policyArn: arn,
      policyName: arn.slice(arn.lastIndexOf('/') + 1),
    })),
    inlinePolicies: parts.inline ?? [],
  };
}

export { simulate, type World } from '../../bench/migration-simulator.js';

/** The planner's view of `world` for one user. */
export function stateFor(world: World, userName: string): AccountState {
  const u = world.users.find((x) => x.userName === userName);
  if (u === undefined) throw new Error(`no user ${userName}`);
  return { user: u, groups: world.groups, customerPolicies: world.customerPolicies };
}

/** Every user's effective grants (direct and through groups), by user name. */
export function effectiveGrants(world: World): Record<string, string[]> {
  const keyOf = managedGrantKeyResolver(world.customerPolicies);
  const out: Record<string, string[]> = {};
  for (const u of world.users) {
    const keys = new Set<string>([
      ...u.managedPolicies.map((p) => keyOf(p.policyArn)),
      ...u.inlinePolicies.map((p) => inlineGrantKey(p.document)),
    ]);
    for (const name of u.groupNames) {
      const g = world.groups.find((x) => x.groupName.toLowerCase() === name.toLowerCase());
      if (g !== undefined) for (const k of groupGrantKeys(g, keyOf)) keys.add(k);
    }
    out[u.userName] = [...keys].sort();
  }
  return out;
}
