import {
  GetGroupCommand,
  GetGroupPolicyCommand,
  type IAMClient,
  ListAttachedGroupPoliciesCommand,
  ListAttachedUserPoliciesCommand,
  ListGroupsForUserCommand,
  ListUserPoliciesCommand,
  NoSuchEntityException,
} from '@aws-sdk/client-iam';
import { sameIamName } from '../rule/user.js';
import { type GrantKey, inlineGrantKey, managedGrantKeyResolver } from './grants.js';
import { decodePolicyDocument } from './read-state.js';
import type { AccountState } from './state.js';
import type { MigrationStep } from './steps.js';

/**
 * The read-backs look only at what the run changed or relies on, with per-resource calls, instead of reading
 * the whole account again: the plan already needed one full read, and a second and third (GetAccountAuthorization
 * Details is paged at 1,000 entities and returns every document) would make each migration cost grow with the
 * account. What is read: the user's groups (ListGroupsForUser), the managed policies of each group that gives
 * the user one of its direct grants or that this run attached to (ListAttachedGroupPolicies), the group inline
 * policies the user relies on (GetGroupPolicy), and at the end the user's own policies (ListAttachedUserPolicies,
 * ListUserPolicies).
 */

/** One group the first read-back reads, and why. */
export interface GroupCheck {
  readonly groupName: string;
  /** Read its attached managed policies: the user relies on one of them, or this run attached to it. */
  readonly readAttached: boolean;
  /** Inline policies of the group the user relies on, read one by one. */
  readonly inlinePolicyNames: readonly string[];
  /** For a group this run attached policies to: exactly the ARNs it must carry, so that nothing extra slips in. */
  readonly exactPolicyArns?: readonly string[];
}

/** What the read-backs must find, derived from the plan and the state it was made from. */
export interface ReadBackTargets {
  readonly userName: string;
  /** Groups the user must be in once the grant steps are done: its groups and every group it was added to. */
  readonly groupNames: readonly string[];
  readonly groups: readonly GroupCheck[];
  /** The grants the user has directly: its groups must give every one before anything is removed. */
  readonly directGrants: readonly GrantKey[];
  /** The grant a managed policy ARN stands for, including the policies this run creates. */
  readonly keyOfArn: (policyArn: string) => GrantKey;
}

/**
 * Decides what the read-backs read. Pure. Each direct grant is checked on one group that gives it, preferring
 * the groups the run touches (read anyway); a group the user was already in is read only when one of the
 * user's direct grants is redundant through it.
 */
export function readBackTargets(
  steps: readonly MigrationStep[],
  directGrants: readonly GrantKey[],
  state: AccountState,
): ReadBackTargets {
  const stateKeyOf = managedGrantKeyResolver(state.customerPolicies, state.user.userName);
  const created = new Map<string, GrantKey>();
  for (const step of steps) {
    if (step.action !== 'create-policy') continue;
    const inline = state.user.inlinePolicies.find((p) => p.policyName === step.fromInlinePolicy);
    if (inline !== undefined) created.set(step.policyArn, inlineGrantKey(inline.document));
  }
  const keyOfArn = (arn: string) => created.get(arn) ?? stateKeyOf(arn);

  const attachedNow = (groupName: string) =>
    steps.flatMap((s) =>
      s.action === 'attach-group-policy' && sameIamName(s.groupName, groupName) ? [s.policyArn] : [],
    );
  const added = steps.flatMap((s) => (s.action === 'add-user-to-group' ? [s.groupName] : []));
  const groupNames = [...added];
  for (const name of state.user.groupNames) {
    if (!groupNames.some((g) => sameIamName(g, name))) groupNames.push(name);
  }

  const uncovered = new Set(directGrants);
  const groups: GroupCheck[] = [];
  for (const groupName of groupNames) {
    const known = state.groups.find((g) => sameIamName(g.groupName, groupName));
    const attachedByRun = attachedNow(groupName);
    const managedArns = [...(known?.managedPolicies.map((p) => p.policyArn) ?? []), ...attachedByRun];
    const reliedManaged = managedArns.filter((arn) => uncovered.has(keyOfArn(arn)));
    for (const arn of reliedManaged) uncovered.delete(keyOfArn(arn));
    const reliedInline = (known?.inlinePolicies ?? []).filter((p) =>
      uncovered.has(inlineGrantKey(p.document)),
    );
    for (const p of reliedInline) uncovered.delete(inlineGrantKey(p.document));
    if (reliedManaged.length === 0 && reliedInline.length === 0 && attachedByRun.length === 0) continue;
    groups.push({
      groupName,
      readAttached: reliedManaged.length > 0 || attachedByRun.length > 0,
      inlinePolicyNames: reliedInline.map((p) => p.policyName),
      ...(attachedByRun.length > 0 ? { exactPolicyArns: [...new Set(managedArns)].sort() } : {}),
    });
  }
  return { userName: state.user.userName, groupNames, groups, directGrants, keyOfArn };
}

/**
 * Read-back before anything is removed from the user: it is in every group it should be, and those groups
 * give every one of its direct grants (and the groups this run attached to carry nothing else). Returns the
 * problem, or undefined when all is in place; a group or policy not found yet counts as a problem (IAM is
 * eventually consistent: the caller reads again after a wait), any other error is thrown.
 */
export async function checkGroupsGrantAll(
  iam: IAMClient,
  targets: ReadBackTargets,
): Promise<string | undefined> {
  return notFoundAsProblem(async () => {
    const memberOf = await listGroupsForUser(iam, targets.userName);
    const notIn = targets.groupNames.filter((g) => !memberOf.some((m) => sameIamName(m, g)));
    if (notIn.length > 0) return `the user is not yet in group(s) ${notIn.join(', ')}`;

    const given = new Set<GrantKey>();
    for (const check of targets.groups) {
      if (check.readAttached) {
        const arns = await listAttachedGroupPolicies(iam, check.groupName);
        if (check.exactPolicyArns !== undefined) {
          const extra = arns.filter((a) => !check.exactPolicyArns?.includes(a));
          if (extra.length > 0) {
            return `group ${check.groupName} carries ${extra.join(', ')}, which this run did not attach`;
          }
        }
        for (const arn of arns) given.add(targets.keyOfArn(arn));
      }
      for (const policyName of check.inlinePolicyNames) {
        const answer = await iam.send(
          new GetGroupPolicyCommand({ GroupName: check.groupName, PolicyName: policyName }),
        );
        given.add(inlineGrantKey(decodePolicyDocument(answer.PolicyDocument ?? '')));
      }
    }
    const missing = targets.directGrants.filter((k) => !given.has(k));
    return missing.length === 0
      ? undefined
      : `its groups do not yet give ${missing.length} of its direct grant(s); nothing was removed from the user`;
  });
}

/**
 * Read-back at the end: the user has no direct policy left. Together with the first read-back (its groups give
 * every grant it had directly, the groups this run attached to carry nothing else, and removing user policies
 * changes no group), the user has exactly its previous grants, as long as nobody else changed the groups that
 * existed since the plan read them: this run never writes to those, so it does not read them all again.
 */
export async function checkNoDirectPolicies(iam: IAMClient, userName: string): Promise<string | undefined> {
  return notFoundAsProblem(async () => {
    const attached = await pages(async (Marker) => {
      const a = await iam.send(new ListAttachedUserPoliciesCommand({ UserName: userName, Marker }));
      return { items: (a.AttachedPolicies ?? []).map((p) => p.PolicyArn ?? ''), ...a };
    });
    const inline = await pages(async (Marker) => {
      const a = await iam.send(new ListUserPoliciesCommand({ UserName: userName, Marker }));
      return { items: a.PolicyNames ?? [], ...a };
    });
    const left = attached.length + inline.length;
    return left === 0 ? undefined : `the user still has ${left} direct policy(ies)`;
  });
}

/**
 * The members of a group (user names). The rollback reads it before it strips a group this run created: a
 * concurrent run for another user with the same policy set may have joined it, and relies on it now.
 *
 * @see https://docs.aws.amazon.com/IAM/latest/APIReference/API_GetGroup.html
 */
export async function groupMembers(iam: IAMClient, groupName: string): Promise<string[]> {
  return pages(async (Marker) => {
    const a = await iam.send(new GetGroupCommand({ GroupName: groupName, Marker }));
    return { items: (a.Users ?? []).map((u) => u.UserName ?? ''), ...a };
  });
}

async function listGroupsForUser(iam: IAMClient, userName: string): Promise<string[]> {
  return pages(async (Marker) => {
    const a = await iam.send(new ListGroupsForUserCommand({ UserName: userName, Marker }));
    return { items: (a.Groups ?? []).map((g) => g.GroupName ?? ''), ...a };
  });
}

async function listAttachedGroupPolicies(iam: IAMClient, groupName: string): Promise<string[]> {
  return pages(async (Marker) => {
    const a = await iam.send(new ListAttachedGroupPoliciesCommand({ GroupName: groupName, Marker }));
    return { items: (a.AttachedPolicies ?? []).map((p) => p.PolicyArn ?? ''), ...a };
  });
}

/** Follows Marker while IsTruncated (IAM may return fewer items than asked, with IsTruncated true). */
async function pages<T>(
  fetch: (marker: string | undefined) => Promise<{ items: T[]; IsTruncated?: boolean; Marker?: string }>,
): Promise<T[]> {
  const all: T[] = [];
  let marker: string | undefined;
  do {
    const page = await fetch(marker);
    all.push(...page.items);
    marker = page.IsTruncated ? page.Marker : undefined;
    if (page.IsTruncated && marker === undefined)
      throw new Error('IAM said IsTruncated but returned no Marker');
  } while (marker !== undefined);
  return all;
}

async function notFoundAsProblem(check: () => Promise<string | undefined>): Promise<string | undefined> {
  try {
    return await check();
  } catch (error) {
    if (error instanceof NoSuchEntityException) return `not visible yet: ${error.message}`;
    throw error;
  }
}
