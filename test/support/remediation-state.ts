import { groupGrantKeys, inlineGrantKey, managedGrantKeyResolver } from '../../remediation/grants.js';
import type {
  AccountState,
  CustomerManagedPolicy,
  GroupState,
  IamQuotas,
  InlinePolicy,
  UserState,
} from '../../remediation/state.js';
import type { MigrationStep } from '../../remediation/steps.js';

/** Builders and an in-memory step simulator for planner tests (no AWS, no mocks). */

export const ACCOUNT = '123456789012';
export const awsPolicy = (name: string) => `arn:aws:iam::aws:policy/${name}`;
export const policyDoc = (action: string, spaced = false) =>
  JSON.stringify(
    { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: action, Resource: '*' }] },
    null,
    spaced ? 2 : undefined,
  );

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

/** A whole account for the simulator: every user, so that other users' grants can be compared. */
export interface World {
  readonly users: UserState[];
  readonly groups: GroupState[];
  readonly customerPolicies: CustomerManagedPolicy[];
}

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

/**
 * Applies steps to an in-memory world the way IAM would, failing on what IAM would refuse (a group or
 * policy name that exists, attaching to a missing group), and returns the world after each step.
 */
export function simulate(world: World, steps: readonly MigrationStep[], migrating: UserState): World[] {
  let w: World = structuredClone(world);
  const after: World[] = [];
  const findGroup = (name: string) => {
    const g = w.groups.find((x) => x.groupName.toLowerCase() === name.toLowerCase());
    if (g === undefined) throw new Error(`NoSuchEntity: group ${name}`);
    return g;
  };
  const replaceGroup = (g: GroupState) => {
    w = { ...w, groups: w.groups.map((x) => (x.groupName === g.groupName ? g : x)) };
  };
  const replaceUser = (u: UserState) => {
    w = { ...w, users: w.users.map((x) => (x.userName === u.userName ? u : x)) };
  };
  const findUser = (name: string) => {
    const u = w.users.find((x) => x.userName === name);
    if (u === undefined) throw new Error(`NoSuchEntity: user ${name}`);
    return u;
  };
  for (const step of steps) {
    switch (step.action) {
      case 'create-policy': {
        if (w.customerPolicies.some((p) => p.policyName.toLowerCase() === step.policyName.toLowerCase()))
          throw new Error(`EntityAlreadyExists: policy ${step.policyName}`);
        const inline = migrating.inlinePolicies.find((p) => p.policyName === step.fromInlinePolicy);
        if (inline === undefined) throw new Error(`no inline policy ${step.fromInlinePolicy}`);
        w = {
          ...w,
          customerPolicies: [
            ...w.customerPolicies,
            {
              policyName: step.policyName,
              policyArn: step.policyArn,
              path: step.path,
              defaultDocument: inline.document,
            },
          ],
        };
        break;
      }
      case 'create-group':
        if (w.groups.some((g) => g.groupName.toLowerCase() === step.groupName.toLowerCase()))
          throw new Error(`EntityAlreadyExists: group ${step.groupName}`);
        w = { ...w, groups: [...w.groups, group(step.groupName, { path: step.path })] };
        break;
      case 'attach-group-policy': {
        const g = findGroup(step.groupName);
        const name = step.policyArn.slice(step.policyArn.lastIndexOf('/') + 1);
        replaceGroup({
          ...g,
          managedPolicies: [...g.managedPolicies, { policyArn: step.policyArn, policyName: name }],
        });
        break;
      }
      case 'add-user-to-group': {
        const g = findGroup(step.groupName);
        const u = findUser(step.userName);
        replaceGroup({ ...g, memberNames: [...g.memberNames, u.userName] });
        replaceUser({ ...u, groupNames: [...u.groupNames, g.groupName] });
        break;
      }
      case 'detach-user-policy': {
        const u = findUser(step.userName);
        replaceUser({
          ...u,
          managedPolicies: u.managedPolicies.filter((p) => p.policyArn !== step.policyArn),
        });
        break;
      }
      case 'delete-user-policy': {
        const u = findUser(step.userName);
        replaceUser({
          ...u,
          inlinePolicies: u.inlinePolicies.filter((p) => p.policyName !== step.policyName),
        });
        break;
      }
      case 'verify-groups-grant-all':
      case 'verify-grants-unchanged':
        break;
    }
    after.push(w);
  }
  return after;
}
