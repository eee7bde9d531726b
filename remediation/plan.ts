import { IAM_GROUP_NAME } from '../rule/parameters.js';
import { sameIamName } from '../rule/user.js';
import {
  canonicalDocument,
  type GrantKey,
  groupGrantKeys,
  inlineGrantKey,
  managedGrantKeyResolver,
  policySizeForQuota,
} from './grants.js';
import {
  arnAccount,
  customerPolicyArn,
  inlinePolicyManagedName,
  MIGRATION_GROUP_PATH,
  MIGRATION_POLICY_PATH,
  POLICY_SET_GROUP_PREFIX,
  policySetGroupName,
} from './naming.js';
import type { AccountState, GroupState, IamQuotas, InlinePolicy, MigrationOptions } from './state.js';
import type { MigrationStep } from './steps.js';

/** The planner's decision for one user. */
export type MigrationPlan =
  | { readonly kind: 'already-compliant' }
  | {
      readonly kind: 'steps';
      readonly steps: readonly MigrationStep[];
      /** Every grant the user has before the run (direct and through groups): what it must end with. */
      readonly grantsBefore: readonly GrantKey[];
      /** The grants the user has directly: what its groups must give before anything is removed. */
      readonly directGrants: readonly GrantKey[];
    }
  | { readonly kind: 'refused'; readonly reasons: readonly string[] };

/** A group the plan will create (or finish), and the grants it will carry. */
interface NewGroup {
  readonly groupName: string;
  readonly kind: 'policy-set' | 'operator-group';
  readonly keys: readonly GrantKey[];
  /**
   * Set when the set's group exists already, empty of members and carrying only part of the set: left
   * half-built by an interrupted run or by a rollback that could not finish. Only these keys are attached.
   */
  readonly missing?: readonly GrantKey[];
}

/** Where the user's not-yet-group-granted grants go. */
interface Placement {
  readonly joins: readonly GroupState[];
  readonly newGroups: readonly NewGroup[];
  readonly reasons: readonly string[];
}

/**
 * Decides how to move a user's direct policies to groups without changing what anyone can do. Pure: the
 * live state and quotas in, ordered steps (or a refusal with reasons) out; the executor makes the calls.
 *
 * The rules it keeps:
 * - a direct policy some group of the user already gives is only removed (redundant);
 * - a user whose access equals another user's joins that user's groups when they cover it (same access,
 *   same groups, whatever groups were made for other sets in between);
 * - the user joins an existing group only when everything the group grants is already the user's, so
 *   neither the user nor the group's other members gain anything, and only a group the migration owns (under
 *   MIGRATION_GROUP_PATH), the operator's GroupName, or one of options.joinableGroups; a policy is never added to a group that
 *   exists (other than the groups this plan creates, and an unfinished set group nobody is in);
 * - the rest goes to groups named after their policy set (same set, same group, for every user), at most
 *   AttachedPoliciesPerGroupQuota policies each; inline documents become customer managed policies named
 *   after their content;
 * - the operator's GroupName is joined when it exists and grants nothing extra, refused when it does, and
 *   created with the user's set when it does not exist;
 * - quotas (groups per user, policies per group, policy size, groups and policies per account) are checked
 *   here, so that a user who cannot be migrated is refused before anything changes.
 *
 * @see https://docs.aws.amazon.com/IAM/latest/UserGuide/best-practices.html#use-groups-for-permissions
 * @see https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html
 */
export function planMigration(
  state: AccountState,
  quotas: IamQuotas,
  options: MigrationOptions,
): MigrationPlan {
  const { user } = state;
  const keyOf = managedGrantKeyResolver(state.customerPolicies, state.user.userName);
  const groupByName = (name: string) => state.groups.find((g) => sameIamName(g.groupName, name));
  const labels = new Map<GrantKey, string>();

  const userGroups = user.groupNames.map(groupByName).filter((g): g is GroupState => g !== undefined);
  const viaGroups = new Set<GrantKey>();
  for (const group of userGroups) {
    for (const key of groupGrantKeys(group, keyOf)) viaGroups.add(key);
  }

  const directManaged = user.managedPolicies.map((p) => ({ ...p, key: keyOf(p.policyArn) }));
  const directInline = user.inlinePolicies.map((p) => ({ ...p, key: inlineGrantKey(p.document) }));
  for (const p of directManaged) labels.set(p.key, `managed policy ${p.policyName}`);
  for (const p of directInline) labels.set(p.key, `inline policy ${p.policyName}`);
  for (const g of state.groups) {
    for (const p of g.managedPolicies) {
      const key = keyOf(p.policyArn);
      if (!labels.has(key)) labels.set(key, `managed policy ${p.policyName}`);
    }
    for (const p of g.inlinePolicies) {
      const key = inlineGrantKey(p.document);
      if (!labels.has(key)) labels.set(key, `inline policy ${p.policyName} of group ${g.groupName}`);
    }
  }
  const directKeys = new Set<GrantKey>([...directManaged, ...directInline].map((p) => p.key));
  const label = (key: GrantKey) => labels.get(key) ?? 'a policy';

  const operatorGroupName = options.groupName?.trim() || undefined;
  if (operatorGroupName !== undefined && !IAM_GROUP_NAME.test(operatorGroupName)) {
    return refused([
      `GroupName "${operatorGroupName}" is not a valid IAM group name (1-128 characters of letters, digits and +=,.@_-)`,
    ]);
  }
  const operatorGroup = operatorGroupName !== undefined ? groupByName(operatorGroupName) : undefined;
  const inOperatorGroup =
    operatorGroupName !== undefined && user.groupNames.some((g) => sameIamName(g, operatorGroupName));
  if (directKeys.size === 0 && (operatorGroupName === undefined || inOperatorGroup)) {
    return { kind: 'already-compliant' };
  }

  const remaining = [...directKeys].filter((k) => !viaGroups.has(k)).sort();
  const userHas = new Set([...directKeys, ...viaGroups]);
  const perGroup = quotas.attachedPoliciesPerGroup;

  // The operator's group first: it is what the operator asked for.
  const operatorJoins: GroupState[] = [];
  const operatorNew: NewGroup[] = [];
  const reasons: string[] = [];
  let afterOperator = remaining;
  if (operatorGroupName !== undefined && !inOperatorGroup) {
    if (operatorGroup !== undefined) {
      const extra = [...groupGrantKeys(operatorGroup, keyOf)].filter((k) => !userHas.has(k));
      if (extra.length > 0) {
        reasons.push(
          `group ${operatorGroup.groupName} grants ${extra.map(label).join(', ')}, which ${user.userName} does not have: joining it would widen the user's access. Choose a group whose policies the user already has, or leave GroupName (--group in the CLI) empty.`,
        );
      } else {
        operatorJoins.push(operatorGroup);
        const covered = groupGrantKeys(operatorGroup, keyOf);
        afterOperator = remaining.filter((k) => !covered.has(k));
      }
    } else {
      const keys = remaining.slice(0, perGroup);
      operatorNew.push({ groupName: operatorGroupName, kind: 'operator-group', keys });
      afterOperator = remaining.slice(perGroup);
    }
  }
  if (reasons.length > 0) return refused(reasons);

  const excluded = new Set([...user.groupNames, ...(operatorGroupName ? [operatorGroupName] : [])]);
  // A set group nobody is in may be unfinished (its name says which set it was meant for, but a hash cannot
  // be read back): joining it as it is would leave it misnamed for good; it is found by name instead.
  // Only groups the migration owns (its path) or the operator listed may be joined: an unrelated group
  // whose policies happen to be a subset of the user's would pass on whatever is attached to it later.
  const joinable = options.joinableGroups ?? [];
  const candidates = state.groups.filter(
    (g) =>
      ![...excluded].some((n) => sameIamName(n, g.groupName)) &&
      !isMemberlessSetGroup(g) &&
      (g.path === MIGRATION_GROUP_PATH || joinable.some((n) => sameIamName(n, g.groupName))),
  );
  const peers = peerCovers(state.groups, user.userName, userHas, candidates, keyOf);
  const place = (useExistingGroups: boolean): Placement =>
    placeGrants(
      afterOperator,
      userHas,
      candidates,
      peers,
      useExistingGroups,
      perGroup,
      keyOf,
      groupByName,
      label,
    );
  const groupsNow = user.groupNames.length;
  const count = (p: Placement) =>
    groupsNow + operatorJoins.length + operatorNew.length + p.joins.length + p.newGroups.length;
  let placement = place(true);
  // Joining several small existing groups can need more groups than the set's own groups would.
  if (placement.reasons.length === 0 && count(placement) > quotas.groupsPerUser) placement = place(false);
  if (placement.reasons.length > 0) return refused(placement.reasons);

  const joins = [...operatorJoins, ...placement.joins];
  const newGroups = [...operatorNew, ...placement.newGroups];
  const groupTotal = count(placement);
  if (groupTotal > quotas.groupsPerUser) {
    reasons.push(
      `${user.userName} would need to be in ${groupTotal} groups, but the account allows ${quotas.groupsPerUser} per user (GroupsPerUserQuota); it is in ${groupsNow} now. Merge some of its groups or remove policies it does not need, then run again.`,
    );
  }
  const created = newGroups.filter((g) => g.missing === undefined);
  if (quotas.groups + created.length > quotas.groupsQuota) {
    reasons.push(
      `the account has ${quotas.groups} of ${quotas.groupsQuota} groups (GroupsQuota); this migration needs ${created.length} more.`,
    );
  }

  // Which ARN carries each grant in a new group: the user's own managed policy, or a managed policy made
  // from (or already made from) its inline document.
  const { partition, accountId } = arnAccount(user.arn);
  const arnFor = new Map<GrantKey, string>();
  const createPolicies: MigrationStep[] = [];
  for (const p of directManaged) if (!arnFor.has(p.key)) arnFor.set(p.key, p.policyArn);
  const needed = new Set(newGroups.flatMap((g) => g.missing ?? g.keys));
  for (const p of directInline) {
    if (!needed.has(p.key) || arnFor.has(p.key)) continue;
    const made = managedPolicyForInline(p, state, quotas, partition, accountId);
    if ('reason' in made) reasons.push(made.reason);
    else {
      arnFor.set(p.key, made.policyArn);
      if (made.step !== undefined) createPolicies.push(made.step);
    }
  }
  if (quotas.policies + createPolicies.length > quotas.policiesQuota) {
    reasons.push(
      `the account has ${quotas.policies} of ${quotas.policiesQuota} customer managed policies (PoliciesQuota); this migration needs ${createPolicies.length} more.`,
    );
  }
  if (reasons.length > 0) return refused(reasons);

  const steps: MigrationStep[] = [...createPolicies];
  for (const g of created) {
    steps.push({ action: 'create-group', groupName: g.groupName, path: MIGRATION_GROUP_PATH, kind: g.kind });
  }
  for (const g of newGroups) {
    for (const key of g.missing ?? g.keys) {
      steps.push({
        action: 'attach-group-policy',
        groupName: g.groupName,
        policyArn: arnFor.get(key) as string,
      });
    }
  }
  for (const g of joins) {
    steps.push({
      action: 'add-user-to-group',
      userName: user.userName,
      groupName: g.groupName,
      existingGroup: true,
    });
  }
  for (const g of newGroups) {
    steps.push({
      action: 'add-user-to-group',
      userName: user.userName,
      groupName: g.groupName,
      existingGroup: g.missing !== undefined,
    });
  }
  steps.push({ action: 'verify-groups-grant-all', userName: user.userName });
  // Redundant grants first: the user already had them through a group before this run.
  const removals = [
    ...directManaged.map((p) => ({
      redundant: viaGroups.has(p.key),
      step: { action: 'detach-user-policy', userName: user.userName, policyArn: p.policyArn },
    })),
    ...directInline.map((p) => ({
      redundant: viaGroups.has(p.key),
      step: { action: 'delete-user-policy', userName: user.userName, policyName: p.policyName },
    })),
  ].sort((a, b) => Number(b.redundant) - Number(a.redundant));
  for (const r of removals) steps.push({ ...r.step, redundant: r.redundant } as MigrationStep);
  steps.push({ action: 'verify-grants-unchanged', userName: user.userName });

  return {
    kind: 'steps',
    steps,
    grantsBefore: [...userHas].sort(),
    directGrants: [...directKeys].sort(),
  };
}

/**
 * The joinable groups of each other user whose groups grant exactly what this user has: the placement an
 * earlier migration gave a user with the same access. Joining the same groups keeps "same access, same
 * groups" even when groups made for other sets since then would lead the greedy cover elsewhere.
 */
function peerCovers(
  groups: readonly GroupState[],
  userName: string,
  userHas: ReadonlySet<GrantKey>,
  candidates: readonly GroupState[],
  keyOf: (arn: string) => GrantKey,
): GroupState[][] {
  const groupsOf = new Map<string, GroupState[]>();
  for (const g of groups) {
    for (const m of g.memberNames) {
      if (sameIamName(m, userName)) continue;
      groupsOf.set(m.toLowerCase(), [...(groupsOf.get(m.toLowerCase()) ?? []), g]);
    }
  }
  const keysOf = new Map(groups.map((g) => [g, groupGrantKeys(g, keyOf)]));
  // Many users share one combination of groups: each combination is judged once.
  const covers = new Map<string, GroupState[]>();
  const seen = new Set<string>();
  for (const theirs of groupsOf.values()) {
    const signature = theirs.map((g) => g.groupName).join('\n');
    if (seen.has(signature)) continue;
    seen.add(signature);
    const grants = new Set(theirs.flatMap((g) => [...(keysOf.get(g) ?? [])]));
    if (grants.size !== userHas.size || ![...grants].every((k) => userHas.has(k))) continue;
    covers.set(
      signature,
      theirs.filter((g) => candidates.includes(g)),
    );
  }
  return [...covers.values()];
}

/**
 * Covers `remaining` with existing groups that grant nothing the user lacks: the groups of a user with the same
 * access when they cover it (fewest groups first), otherwise greedily (the group covering most first); then
 * splits what is left into policy-set groups of at most `perGroup` policies.
 */
function placeGrants(
  remaining: readonly GrantKey[],
  userHas: ReadonlySet<GrantKey>,
  candidates: readonly GroupState[],
  peers: readonly (readonly GroupState[])[],
  useExistingGroups: boolean,
  perGroup: number,
  keyOf: (arn: string) => GrantKey,
  groupByName: (name: string) => GroupState | undefined,
  label: (key: GrantKey) => string,
): Placement {
  const left = new Set(remaining);
  const joins: GroupState[] = [];
  const peerCover = useExistingGroups ? bestPeerCover(remaining, peers, keyOf) : undefined;
  if (peerCover !== undefined) return { joins: peerCover, newGroups: [], reasons: [] };
  if (useExistingGroups) {
    const usable = candidates
      .map((g) => ({ group: g, keys: groupGrantKeys(g, keyOf) }))
      .filter(({ keys }) => keys.size > 0 && [...keys].every((k) => userHas.has(k)));
    for (;;) {
      let best: { group: GroupState; keys: Set<GrantKey>; gain: number } | undefined;
      for (const c of usable) {
        const gain = [...c.keys].filter((k) => left.has(k)).length;
        if (gain === 0 || joins.includes(c.group)) continue;
        if (
          best === undefined ||
          gain > best.gain ||
          (gain === best.gain && c.keys.size < best.keys.size) ||
          (gain === best.gain && c.keys.size === best.keys.size && c.group.groupName < best.group.groupName)
        ) {
          best = { ...c, gain };
        }
      }
      if (best === undefined) break;
      joins.push(best.group);
      for (const k of best.keys) left.delete(k);
    }
  }

  const newGroups: NewGroup[] = [];
  const reasons: string[] = [];
  const rest = [...left].sort();
  for (let i = 0; i < rest.length; i += perGroup) {
    const keys = rest.slice(i, i + perGroup);
    const groupName = policySetGroupName(keys);
    const existing = groupByName(groupName);
    if (existing === undefined) {
      newGroups.push({ groupName, kind: 'policy-set', keys });
      continue;
    }
    const has = groupGrantKeys(existing, keyOf);
    if (existing.path !== MIGRATION_GROUP_PATH) {
      reasons.push(
        `group ${existing.path}${existing.groupName} has the name the migration gives the set ${keys.map(label).join(', ')}, but it is not under ${MIGRATION_GROUP_PATH}, so the migration does not own it and will not join it. Rename or delete it, or name it in GroupName (--group in the CLI), then run again.`,
      );
    } else if (has.size === keys.length && keys.every((k) => has.has(k))) {
      joins.push(existing);
    } else if (isUnfinishedSetGroup(existing, has, keys)) {
      newGroups.push({
        groupName: existing.groupName,
        kind: 'policy-set',
        keys,
        missing: keys.filter((k) => !has.has(k)),
      });
    } else {
      reasons.push(
        `group ${existing.path}${existing.groupName} exists but does not grant exactly ${keys.map(label).join(', ')}; it was changed outside the migration or left by a failed run. Inspect it, delete it if it has no purpose, and run again.`,
      );
    }
  }
  return { joins, newGroups, reasons };
}

/** The smallest peer cover of `remaining` in which every group adds something (ties: by group names). */
function bestPeerCover(
  remaining: readonly GrantKey[],
  peers: readonly (readonly GroupState[])[],
  keyOf: (arn: string) => GrantKey,
): GroupState[] | undefined {
  let best: GroupState[] | undefined;
  const names = (c: readonly GroupState[]) => c.map((g) => g.groupName).join('\n');
  for (const peer of peers) {
    const cover = peer.filter((g) => remaining.some((k) => groupGrantKeys(g, keyOf).has(k)));
    const covered = new Set(cover.flatMap((g) => [...groupGrantKeys(g, keyOf)]));
    if (cover.length === 0 || !remaining.every((k) => covered.has(k))) continue;
    cover.sort((a, b) => (a.groupName < b.groupName ? -1 : 1));
    if (
      best === undefined ||
      cover.length < best.length ||
      (cover.length === best.length && names(cover) < names(best))
    )
      best = cover;
  }
  return best;
}

function isMemberlessSetGroup(group: GroupState): boolean {
  return (
    group.path === MIGRATION_GROUP_PATH &&
    group.groupName.toLowerCase().startsWith(POLICY_SET_GROUP_PREFIX) &&
    group.memberNames.length === 0
  );
}

/**
 * A set group an earlier run began and did not finish (a Lambda timeout, or a rollback whose undo failed):
 * under the dedicated path, nobody in it, nothing inline, and only grants of its own set. Finishing it gives
 * nobody anything (it has no members), so a re-run completes the migration instead of refusing.
 */
function isUnfinishedSetGroup(
  group: GroupState,
  has: ReadonlySet<GrantKey>,
  keys: readonly GrantKey[],
): boolean {
  return (
    group.path === MIGRATION_GROUP_PATH &&
    group.memberNames.length === 0 &&
    group.inlinePolicies.length === 0 &&
    [...has].every((k) => keys.includes(k))
  );
}

/** The managed policy that carries an inline document: an existing one made from the same document, or a new one. */
function managedPolicyForInline(
  inline: InlinePolicy,
  state: AccountState,
  quotas: IamQuotas,
  partition: string,
  accountId: string,
): { policyArn: string; step?: MigrationStep } | { reason: string } {
  const canonical = canonicalDocument(inline.document);
  const policyName = inlinePolicyManagedName(canonical);
  const existing = state.customerPolicies.find((p) => sameIamName(p.policyName, policyName));
  if (existing !== undefined) {
    if (
      existing.path === MIGRATION_POLICY_PATH &&
      existing.defaultDocument !== undefined &&
      canonicalDocument(existing.defaultDocument) === canonical
    ) {
      return { policyArn: existing.policyArn };
    }
    return {
      reason: `managed policy ${existing.policyArn} exists but its default version is not the document of inline policy ${inline.policyName}; it was changed outside the migration. Inspect it, then run again.`,
    };
  }
  const size = policySizeForQuota(inline.document);
  if (size > quotas.policySize) {
    return {
      reason: `inline policy ${inline.policyName} is ${size} characters without whitespace, more than a managed policy may hold (${quotas.policySize}, PolicySizeQuota). Split it into smaller policies, then run again.`,
    };
  }
  return {
    policyArn: customerPolicyArn(partition, accountId, MIGRATION_POLICY_PATH, policyName),
    step: {
      action: 'create-policy',
      policyName,
      path: MIGRATION_POLICY_PATH,
      policyArn: customerPolicyArn(partition, accountId, MIGRATION_POLICY_PATH, policyName),
      fromInlinePolicy: inline.policyName,
    },
  };
}

function refused(reasons: readonly string[]): MigrationPlan {
  return { kind: 'refused', reasons };
}
