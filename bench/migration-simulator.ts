import type { CustomerManagedPolicy, GroupState, UserState } from '../remediation/state.js';
import type { MigrationStep } from '../remediation/steps.js';

/**
 * An in-memory IAM account and the per-user remediation's steps applied to it, so that the planner can be
 * run user after user on an evolving account without AWS: the planner tests use it to check each step, the
 * benchmark to count the groups a whole account ends with.
 */

/** A whole account for the simulator: every user, so that other users' grants can be compared. */
export interface World {
  readonly users: UserState[];
  readonly groups: GroupState[];
  readonly customerPolicies: CustomerManagedPolicy[];
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
        w = {
          ...w,
          groups: [
            ...w.groups,
            {
              groupName: step.groupName,
              path: step.path,
              memberNames: [],
              managedPolicies: [],
              inlinePolicies: [],
            },
          ],
        };
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
