import { createHash } from 'node:crypto';
import { sameIamName } from '../../rule/user.js';
import {
  canonicalDocument,
  type GrantKey,
  groupGrantKeys,
  inlineGrantKey,
  managedGrantKeyResolver,
  policySizeForQuota,
} from '../grants.js';
import {
  arnAccount,
  customerPolicyArn,
  inlinePolicyManagedName,
  MIGRATION_GROUP_PATH,
  MIGRATION_POLICY_PATH,
} from '../naming.js';
import type { AccountSnapshot } from '../read-state.js';
import type { GroupState, IamQuotas, UserState } from '../state.js';
import type {
  DesignGroup,
  DesignPlan,
  DesignPolicyRef,
  DesignUserChange,
  UsernameRewrite,
} from './design-types.js';
import { type GroupToName, nameGroups } from './group-names.js';
import { type MiningUser, mineRoles, type ReusableRole } from './role-mining.js';
import { generaliseUsernames, instantiateUsername } from './username-variable.js';

/**
 * The account-wide group design: every selected user's direct policies become memberships of groups
 * shared by the users who hold the same grants, with the fewest groups the role-mining engine finds, and
 * nobody gaining or losing anything. Pure: the snapshot, quotas and options in, a DesignPlan out.
 */

/** What the operator chose. */
export interface DesignOptions {
  /** Only these users (names, compared without case). Default: every user. */
  readonly users?: readonly string[];
  /** Only users whose IAM path starts with this. */
  readonly pathPrefix?: string;
  /** Existing groups outside /policy-migration/ the operator allows users to join (unchanged). */
  readonly joinableGroups?: readonly string[];
  /** The rule's exemptions: a reason when the user is exempt (then it is skipped), else undefined. */
  readonly exemptUser?: (user: UserState) => string | undefined;
  /** 'unlimited' lifts the policies-per-group and groups-per-user quotas (to see the ideal design). */
  readonly quotas?: 'default' | 'unlimited';
  /** The plan's createdAt (ISO 8601); the caller passes the clock so that the design stays pure. */
  readonly createdAt?: string;
  /** Where `quotas` came from, for the plan file: the account's GetAccountSummary, or IAM's defaults. */
  readonly quotasSource?: 'account' | 'iam-defaults';
  /** Time the engine may spend improving (the result is exact either way). */
  readonly timeBudgetMs?: number;
}

/** The grant a user's direct policy is, and what it grants that user. */
interface DirectGrant {
  readonly kind: 'managed' | 'inline';
  /** Policy name (inline) or ARN (managed). */
  readonly ref: string;
  readonly policyName: string;
  readonly key: GrantKey;
  /** The key with ${aws:username} filled in: two grants are the same for a user when these are equal. */
  readonly effective: GrantKey;
  readonly document?: string;
}

interface Candidate {
  readonly user: UserState;
  readonly groups: readonly GroupState[];
  /** What the user must keep, as mining permissions (template keys where generalised). */
  permissions: GrantKey[];
  readonly capacity: number;
}

const compare = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
const sortedUnique = (xs: Iterable<string>) => [...new Set(xs)].sort(compare);

/** The document behind a doc: key (see grants.ts). */
function documentOfKey(key: GrantKey): string | undefined {
  return key.startsWith('doc:') ? key.slice(4) : undefined;
}

/** What a grant gives one user: documents with ${aws:username} filled in; managed ARNs as they are. */
export function effectiveGrant(key: GrantKey, userName: string): GrantKey {
  const document = documentOfKey(key);
  return document === undefined ? key : inlineGrantKey(instantiateUsername(document, userName));
}

/** How a grant is named to people and in logs: never its document. */
export function grantLabel(key: GrantKey): string {
  const document = documentOfKey(key);
  return document === undefined
    ? `managed policy ${key.replace(/^arn:/, '')}`
    : `the document of ${inlinePolicyManagedName(canonicalDocument(document))}`;
}

/**
 * A fingerprint of what the design read about a user: direct policies (inline documents by content) and
 * groups. `apply` recomputes it from live state and skips a user whose fingerprint changed since the plan.
 */
export function userFingerprint(user: UserState): string {
  const state = {
    groups: sortedUnique(user.groupNames.map((g) => g.toLowerCase())),
    managed: sortedUnique(user.managedPolicies.map((p) => p.policyArn)),
    inline: user.inlinePolicies
      .map((p) => [p.policyName, canonicalDocument(p.document)])
      .sort((a, b) => compare(a[0] as string, b[0] as string)),
  };
  return createHash('sha256').update(JSON.stringify(state)).digest('hex').slice(0, 24);
}

function groupIndex(groups: readonly GroupState[]): Map<string, GroupState> {
  return new Map(groups.map((g) => [g.groupName.toLowerCase(), g]));
}

function directGrants(user: UserState, keyOf: (arn: string) => GrantKey): DirectGrant[] {
  return [
    ...user.managedPolicies.map((p): DirectGrant => {
      const key = keyOf(p.policyArn);
      return {
        kind: 'managed',
        ref: p.policyArn,
        policyName: p.policyName,
        key,
        effective: effectiveGrant(key, user.userName),
      };
    }),
    ...user.inlinePolicies.map((p): DirectGrant => {
      const key = inlineGrantKey(p.document);
      return {
        kind: 'inline',
        ref: p.policyName,
        policyName: p.policyName,
        key,
        effective: effectiveGrant(key, user.userName),
        document: p.document,
      };
    }),
  ];
}

/**
 * Designs groups for the selected users of the account (see DesignOptions). The rules it keeps:
 * - a user keeps exactly its grants: direct managed policies (by ARN) and inline documents (by content,
 *   after ${aws:username} generalisation) its current groups do not already give; the rest of its direct
 *   policies are only removed;
 * - the engine gets at most AttachedPoliciesPerGroupQuota policies per group and, per user,
 *   GroupsPerUserQuota minus the groups it is in (both lifted by quotas 'unlimited');
 * - an existing group is joined only when it is under /policy-migration/ or named in joinableGroups, and
 *   only when it grants nothing the user does not keep; existing groups and memberships are never changed;
 * - users with no direct policy, and users not selected, are untouched; exempt users and users no exact
 *   design fits are listed in `skipped` with why.
 *
 * Deterministic: the same snapshot, quotas and options give the same plan.
 *
 * @throws Error when options.users names a user the account does not have.
 */
export function designAccount(
  snapshot: AccountSnapshot,
  quotas: IamQuotas,
  options: DesignOptions = {},
): DesignPlan {
  const unlimited = options.quotas === 'unlimited';
  const perGroup = unlimited ? undefined : quotas.attachedPoliciesPerGroup;
  const perUser = unlimited ? Number.POSITIVE_INFINITY : quotas.groupsPerUser;
  const keyOf = managedGrantKeyResolver(snapshot.customerPolicies);
  const groupsByName = groupIndex(snapshot.groups);
  const users = [...snapshot.users].sort((a, b) => compare(a.userName, b.userName));
  const firstArn = users[0]?.arn;
  const { partition, accountId } =
    firstArn !== undefined ? arnAccount(firstArn) : { partition: 'aws', accountId: '000000000000' };

  const named = options.users !== undefined ? new Set(options.users.map((n) => n.toLowerCase())) : undefined;
  if (named !== undefined) {
    const unknown = [...named].filter((n) => !users.some((u) => u.userName.toLowerCase() === n));
    if (unknown.length > 0) throw new Error(`no IAM user named ${unknown.sort().join(', ')} in the account`);
  }
  const skipped: { userName: string; reason: string }[] = [];
  const candidates: Candidate[] = [];
  const grantsOf = new Map<string, DirectGrant[]>();
  const changedUsers: UserState[] = [];

  // Which policy carries a doc: grant in a new group: an existing /policy-migration/ policy made from the
  // same document, else a new one (undefined when its name is taken by another document).
  const migrationPolicies = new Map(
    snapshot.customerPolicies
      .filter((p) => p.path === MIGRATION_POLICY_PATH)
      .map((p) => [p.policyName.toLowerCase(), p]),
  );
  const migrationByDocument = new Map<string, (typeof snapshot.customerPolicies)[number]>();
  for (const p of [...migrationPolicies.values()].sort((a, b) => compare(a.policyArn, b.policyArn))) {
    const canonical = p.defaultDocument !== undefined ? canonicalDocument(p.defaultDocument) : undefined;
    if (canonical !== undefined && !migrationByDocument.has(canonical)) migrationByDocument.set(canonical, p);
  }
  const carrierProblem = (document: string): string | undefined => {
    const canonical = canonicalDocument(document);
    if (migrationByDocument.has(canonical)) return undefined;
    const existing = migrationPolicies.get(inlinePolicyManagedName(canonical).toLowerCase());
    if (existing !== undefined) {
      return existing.defaultDocument !== undefined &&
        canonicalDocument(existing.defaultDocument) === canonical
        ? undefined
        : `managed policy ${existing.policyArn} exists but is not the document it is named after; it was changed outside the migration`;
    }
    const size = policySizeForQuota(document);
    return size > quotas.policySize
      ? `a document of ${size} characters is more than a managed policy may hold (${quotas.policySize}, PolicySizeQuota); split it`
      : undefined;
  };

  for (const user of users) {
    if (named !== undefined && !named.has(user.userName.toLowerCase())) continue;
    if (options.pathPrefix !== undefined && !user.path.startsWith(options.pathPrefix)) continue;
    const direct = directGrants(user, keyOf);
    if (direct.length === 0) {
      if (named !== undefined)
        skipped.push({ userName: user.userName, reason: 'carries no policy directly' });
      continue;
    }
    const exemption = options.exemptUser?.(user);
    if (exemption !== undefined) {
      skipped.push({ userName: user.userName, reason: `exempt: ${exemption}` });
      continue;
    }
    const groups = user.groupNames
      .map((g) => groupsByName.get(g.toLowerCase()))
      .filter((g): g is GroupState => g !== undefined);
    const viaGroups = new Set(
      groups.flatMap((g) => [...groupGrantKeys(g, keyOf)].map((k) => effectiveGrant(k, user.userName))),
    );
    const kept = new Map<GrantKey, DirectGrant>();
    for (const d of direct)
      if (!viaGroups.has(d.effective) && !kept.has(d.effective)) kept.set(d.effective, d);
    const problems = [...kept.values()]
      .filter((d) => d.kind === 'inline')
      .map((d) => carrierProblem(d.document as string))
      .filter((p): p is string => p !== undefined);
    if (problems.length > 0) {
      skipped.push({ userName: user.userName, reason: sortedUnique(problems).join('; ') });
      continue;
    }
    const capacity = perUser - user.groupNames.length;
    if (kept.size > 0 && capacity < 1) {
      skipped.push({
        userName: user.userName,
        reason: `is in ${user.groupNames.length} groups, the most the account allows (${quotas.groupsPerUser}, GroupsPerUserQuota): it cannot join another`,
      });
      continue;
    }
    grantsOf.set(user.userName, [...kept.values()]);
    candidates.push({ user, groups, permissions: [...kept.values()].map((d) => d.key), capacity });
    changedUsers.push(user);
  }

  // ${aws:username}: documents two or more users share up to their own names become one template.
  const rewrites = generaliseUsernames(
    candidates.flatMap((c) =>
      (grantsOf.get(c.user.userName) ?? [])
        .filter((d) => d.kind === 'inline')
        .map((d) => ({
          userName: c.user.userName,
          policyName: d.policyName,
          document: d.document as string,
        })),
    ),
    { maxPolicySize: quotas.policySize },
  );
  const templateFor = new Map<string, GrantKey>();
  for (const r of rewrites) {
    for (const p of r.replaces) templateFor.set(`${p.userName}\n${p.policyName}`, `doc:${r.canonical}`);
  }
  const templateDocument = new Map(rewrites.map((r) => [`doc:${r.canonical}`, r.document]));
  for (const c of candidates) {
    c.permissions = sortedUnique(
      (grantsOf.get(c.user.userName) ?? []).map((d) =>
        d.kind === 'inline' ? (templateFor.get(`${c.user.userName}\n${d.policyName}`) ?? d.key) : d.key,
      ),
    );
  }

  // Existing groups that may be joined as they are.
  const joinable = new Set((options.joinableGroups ?? []).map((g) => g.toLowerCase()));
  const reusableGroups: ReusableRole[] = snapshot.groups
    .filter((g) => g.path === MIGRATION_GROUP_PATH || joinable.has(g.groupName.toLowerCase()))
    .map((g) => ({ id: `existing:${g.groupName}`, permissions: sortedUnique(groupGrantKeys(g, keyOf)) }))
    .filter((r) => r.permissions.length > 0)
    .sort((a, b) => compare(a.id, b.id));

  const active = candidates.filter((c) => c.permissions.length > 0);
  const assignment = bestAssignment(active, reusableGroups, perGroup, options.timeBudgetMs);
  const { newRoles, existingJoins, lowerBound } = assignment;
  for (const u of assignment.uncovered) {
    skipped.push({ userName: u.id, reason: `no exact design within the quotas: ${u.reason}` });
  }
  const uncovered = new Set(skipped.map((s) => s.userName));

  // Policies the new groups attach.
  const policies: Record<string, DesignPolicyRef> = {};
  const policyKeyOf = new Map<GrantKey, string>();
  const managedNames = new Map<string, string>();
  for (const u of snapshot.users)
    for (const p of u.managedPolicies) managedNames.set(p.policyArn, p.policyName);
  for (const g of snapshot.groups)
    for (const p of g.managedPolicies) managedNames.set(p.policyArn, p.policyName);
  const inlineDocument = new Map<GrantKey, string>();
  for (const [, grants] of [...grantsOf].sort((a, b) => compare(a[0], b[0]))) {
    for (const d of grants)
      if (d.kind === 'inline' && !inlineDocument.has(d.key)) inlineDocument.set(d.key, d.document as string);
  }
  // Which inline user policies each kept grant stands for (template keys where generalised).
  const replacedBy = (key: GrantKey) =>
    candidates
      .flatMap((c) =>
        (grantsOf.get(c.user.userName) ?? [])
          .filter((d) => d.kind === 'inline')
          .filter((d) => (templateFor.get(`${c.user.userName}\n${d.policyName}`) ?? d.key) === key)
          .map((d) => ({ userName: c.user.userName, policyName: d.policyName })),
      )
      .filter((p) => !uncovered.has(p.userName))
      .sort((a, b) => compare(a.userName, b.userName) || compare(a.policyName, b.policyName));
  const refFor = (key: GrantKey): string => {
    const known = policyKeyOf.get(key);
    if (known !== undefined) return known;
    const document = documentOfKey(key);
    let ref: DesignPolicyRef;
    if (document === undefined) {
      const policyArn = key.replace(/^arn:/, '');
      ref = {
        kind: 'managed',
        policyArn,
        policyName: managedNames.get(policyArn) ?? policyArn.slice(policyArn.lastIndexOf('/') + 1),
      };
    } else {
      const policyName = inlinePolicyManagedName(document);
      const existing = migrationByDocument.get(document);
      if (existing !== undefined) {
        ref = { kind: 'managed', policyArn: existing.policyArn, policyName: existing.policyName };
      } else {
        const text = templateDocument.get(key) ?? inlineDocument.get(key) ?? document;
        ref = {
          kind: 'new-managed',
          key: policyName,
          policyName,
          policyArn: customerPolicyArn(partition, accountId, MIGRATION_POLICY_PATH, policyName),
          document: indented(text),
          replaces: replacedBy(key),
        };
      }
    }
    const planKey = ref.kind === 'managed' ? ref.policyArn : ref.key;
    policies[planKey] = ref;
    policyKeyOf.set(key, planKey);
    return planKey;
  };

  // Names: what each new group grants, in words people use (the inline policy names users gave them).
  const sourceNames = new Map<GrantKey, Map<string, number>>();
  for (const c of candidates) {
    for (const d of grantsOf.get(c.user.userName) ?? []) {
      const key =
        d.kind === 'inline' ? (templateFor.get(`${c.user.userName}\n${d.policyName}`) ?? d.key) : d.key;
      const readable = d.kind === 'inline' ? withoutUserName(d.policyName, c.user.userName) : d.policyName;
      const counts = sourceNames.get(key) ?? new Map<string, number>();
      counts.set(readable, (counts.get(readable) ?? 0) + 1);
      sourceNames.set(key, counts);
    }
  }
  const readableName = (key: GrantKey): string => {
    const counts = [...(sourceNames.get(key) ?? new Map<string, number>())];
    counts.sort((a, b) => b[1] - a[1] || compare(a[0], b[0]));
    return counts[0]?.[0] ?? grantLabel(key);
  };
  const tagsOf = new Map(snapshot.users.map((u) => [u.userName, u.tags ?? {}]));
  const sortedRoles = newRoles
    .map((r) => ({ permissions: sortedUnique(r.permissions), members: sortedUnique(r.members) }))
    .filter((r) => r.members.some((m) => !uncovered.has(m)))
    .sort((a, b) => compare(a.permissions.join('\n'), b.permissions.join('\n')));
  const toName: GroupToName[] = sortedRoles.map((r) => ({
    grantKeys: r.permissions,
    policyNames: r.permissions.map(readableName),
    memberTags: r.members.map((m) => tagsOf.get(m) ?? {}),
  }));
  const names = nameGroups(
    toName,
    snapshot.groups.map((g) => g.groupName),
  );

  const groups: DesignGroup[] = [];
  const joinsOf = new Map<string, string[]>();
  const addJoin = (userName: string, groupName: string) =>
    joinsOf.set(userName, [...(joinsOf.get(userName) ?? []), groupName]);
  sortedRoles.forEach((r, i) => {
    const choice = names[i] as { name: string; reason: string };
    for (const m of r.members) addJoin(m, choice.name);
    groups.push({
      name: choice.name,
      path: MIGRATION_GROUP_PATH,
      status: 'new',
      nameReason: choice.reason,
      policies: sortedUnique(r.permissions.map(refFor)),
      members: r.members,
    });
  });
  for (const [name, joiners] of [...existingJoins].sort((a, b) => compare(a[0], b[0]))) {
    const group = groupsByName.get(name.toLowerCase()) as GroupState;
    for (const m of joiners) addJoin(m, group.groupName);
    groups.push({
      name: group.groupName,
      path: group.path,
      status: 'existing',
      nameReason:
        group.path === MIGRATION_GROUP_PATH
          ? 'existing group under /policy-migration/'
          : 'listed in joinable groups',
      policies: sortedUnique(
        group.managedPolicies.map((p) => {
          policies[p.policyArn] ??= { kind: 'managed', policyArn: p.policyArn, policyName: p.policyName };
          return p.policyArn;
        }),
      ),
      members: sortedUnique([...group.memberNames, ...joiners]),
    });
  }
  groups.sort((a, b) => compare(a.name.toLowerCase(), b.name.toLowerCase()));

  const userChanges: DesignUserChange[] = changedUsers
    .filter((u) => !uncovered.has(u.userName))
    .map((u) => ({
      userName: u.userName,
      userId: u.userId,
      joins: sortedUnique(joinsOf.get(u.userName) ?? []),
      detachManaged: sortedUnique(u.managedPolicies.map((p) => p.policyArn)),
      deleteInline: sortedUnique(u.inlinePolicies.map((p) => p.policyName)),
      fingerprint: userFingerprint(u),
    }));

  const usedPolicies = new Set(groups.filter((g) => g.status === 'new').flatMap((g) => g.policies));
  const planRewrites: UsernameRewrite[] = rewrites
    .map((r) => ({
      policy: policyKeyOf.get(`doc:${r.canonical}`) ?? '',
      replaces: r.replaces.filter((p) => !uncovered.has(p.userName)),
    }))
    .filter((r) => r.policy !== '' && usedPolicies.has(r.policy) && r.replaces.length > 0);

  const countDirect = (u: UserState) => u.managedPolicies.length + u.inlinePolicies.length;
  const memberships = snapshot.users.reduce((n, u) => n + u.groupNames.length, 0);
  const directBefore = snapshot.users.reduce((n, u) => n + countDirect(u), 0);
  const removed = userChanges.reduce((n, c) => n + c.detachManaged.length + c.deleteInline.length, 0);
  const added = userChanges.reduce((n, c) => n + c.joins.length, 0);
  const newGroups = groups.filter((g) => g.status === 'new').length;

  const warnings: string[] = [];
  if (quotas.groups + newGroups > quotas.groupsQuota) {
    warnings.push(
      `the design needs ${newGroups} new groups; the account has ${quotas.groups} of ${quotas.groupsQuota} (GroupsQuota)`,
    );
  }
  const newPolicies = Object.values(policies).filter((p) => p.kind === 'new-managed').length;
  if (quotas.policies + newPolicies > quotas.policiesQuota) {
    warnings.push(
      `the design needs ${newPolicies} new customer managed policies; the account has ${quotas.policies} of ${quotas.policiesQuota} (PoliciesQuota)`,
    );
  }

  const sortedPolicies = Object.fromEntries(Object.entries(policies).sort((a, b) => compare(a[0], b[0])));
  return {
    version: 1,
    accountId,
    createdAt: options.createdAt ?? new Date(0).toISOString(),
    policies: sortedPolicies,
    groups,
    users: userChanges,
    rewrites: planRewrites,
    skipped: skipped.sort((a, b) => compare(a.userName, b.userName)),
    summary: {
      before: { groups: snapshot.groups.length, memberships, directPolicies: directBefore },
      after: {
        groups: snapshot.groups.length + newGroups,
        memberships: memberships + added,
        directPolicies: directBefore - removed,
      },
      newGroups,
      ...(lowerBound > 0 ? { lowerBound } : {}),
    },
    quotas: {
      source: unlimited ? 'unlimited' : (options.quotasSource ?? 'account'),
      attachedPoliciesPerGroup: quotas.attachedPoliciesPerGroup,
      groupsPerUser: quotas.groupsPerUser,
      policySize: quotas.policySize,
    },
    ...(warnings.length > 0 ? { warnings } : {}),
  };
}

/** Which groups users join: new groups (permissions, members) and existing groups by name. */
interface Assignment {
  readonly newRoles: { permissions: string[]; members: Set<string> }[];
  readonly existingJoins: Map<string, Set<string>>;
  readonly uncovered: { id: string; reason: string }[];
  lowerBound: number;
}

/**
 * The engine takes one groups-per-user limit, and users differ in how much room they have (the groups they
 * are in already count). Two ways around that, and the better result is kept (fewer new groups, then fewer
 * memberships): mine in rounds from the tightest room up, each round free to reuse the groups made before
 * it; or mine everyone together with the loosest room, then mine again, tightest first, the users it put in
 * more groups than they have room for. Both are exact; which is smaller depends on the account.
 */
function bestAssignment(
  active: readonly Candidate[],
  reusableGroups: readonly ReusableRole[],
  perGroup: number | undefined,
  timeBudgetMs: number | undefined,
): Assignment {
  const run = (strategy: 'rounds' | 'together'): Assignment => {
    const a: Assignment = { newRoles: [], existingJoins: new Map(), uncovered: [], lowerBound: 0 };
    const mine = (round: readonly Candidate[], room: number) => {
      const result = mineRoles(
        round.map((c): MiningUser => ({ id: c.user.userName, permissions: c.permissions })),
        {
          ...(perGroup !== undefined ? { maxPermissionsPerRole: perGroup } : {}),
          ...(Number.isFinite(room) ? { maxRolesPerUser: room } : {}),
          reusable: [
            ...reusableGroups,
            ...a.newRoles.map((r, i) => ({ id: `new:${i}`, permissions: r.permissions })),
          ],
          ...(timeBudgetMs !== undefined ? { timeBudgetMs } : {}),
        },
      );
      a.lowerBound = Math.max(a.lowerBound, result.lowerBound ?? 0);
      return result;
    };
    const record = (result: ReturnType<typeof mineRoles>, leaveOut: ReadonlySet<string>) => {
      for (const role of result.roles) {
        const members = role.members.filter((m) => !leaveOut.has(m));
        if (members.length === 0) continue;
        if (role.reusedId?.startsWith('new:')) {
          const target = a.newRoles[Number(role.reusedId.slice(4))];
          for (const m of members) target?.members.add(m);
        } else if (role.reusedId?.startsWith('existing:')) {
          const name = role.reusedId.slice('existing:'.length);
          const set = a.existingJoins.get(name) ?? new Set<string>();
          for (const m of members) set.add(m);
          a.existingJoins.set(name, set);
        } else {
          a.newRoles.push({ permissions: [...role.permissions], members: new Set(members) });
        }
      }
      a.uncovered.push(...result.uncovered);
    };
    const inRounds = (users: readonly Candidate[]) => {
      for (const room of [...new Set(users.map((c) => c.capacity))].sort((x, y) => x - y)) {
        record(
          mine(
            users.filter((c) => c.capacity === room),
            room,
          ),
          new Set(),
        );
      }
    };
    if (strategy === 'rounds') inRounds(active);
    else {
      const first = mine(active, Math.max(...active.map((c) => c.capacity)));
      const given = new Map<string, number>();
      for (const role of first.roles) for (const m of role.members) given.set(m, (given.get(m) ?? 0) + 1);
      const over = active.filter((c) => (given.get(c.user.userName) ?? 0) > c.capacity);
      record(first, new Set(over.map((c) => c.user.userName)));
      inRounds(over);
      a.lowerBound = first.lowerBound ?? 0;
    }
    return a;
  };
  if (active.length === 0) return { newRoles: [], existingJoins: new Map(), uncovered: [], lowerBound: 0 };
  const rounds = run('rounds');
  // With one room for everyone the two ways are the same.
  if (new Set(active.map((c) => c.capacity)).size === 1) return rounds;
  const together = run('together');
  const cost = (a: Assignment) => [
    a.uncovered.length,
    a.newRoles.filter((r) => r.members.size > 0).length,
    a.newRoles.reduce((n, r) => n + r.members.size, 0) +
      [...a.existingJoins.values()].reduce((n, s) => n + s.size, 0),
  ];
  // Only the single mining of everyone proves a bound for the whole account (a round's bound assumes the
  // groups earlier rounds happened to make); tighter per-user room can only raise the minimum.
  const bound = together.lowerBound;
  const [x, y] = [cost(rounds), cost(together)];
  let pick = rounds;
  for (let i = 0; i < x.length; i++) {
    if ((x[i] as number) !== (y[i] as number)) {
      pick = (x[i] as number) < (y[i] as number) ? rounds : together;
      break;
    }
  }
  return { ...pick, lowerBound: bound };
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** An inline policy name without the user's own name in it: alice-home and bob-home both say "home". */
function withoutUserName(policyName: string, userName: string): string {
  const stripped = policyName
    .replace(new RegExp(`(^|[-_.])${escapeRegExp(userName)}(?=$|[-_.])`, 'gi'), '$1')
    .replace(/[-_.]{2,}/g, '-')
    .replace(/^[-_.]+|[-_.]+$/g, '');
  return stripped !== '' ? stripped : policyName;
}

/** A document indented for people; text that is not JSON (IAM stores none) as it is. */
function indented(text: string): string {
  try {
    return JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    return text;
  }
}

/**
 * Recomputes every user's grants (the whole account, not only the users the plan changes) before and after
 * the plan, and lists each difference: a grant gained or lost, a change naming a user or group that does
 * not exist, a "new" group that exists already. An empty list means nobody gains or loses anything. Grants
 * are compared as the user receives them (${aws:username} filled in). Messages name policies, never their
 * documents.
 */
export function checkDesignInvariant(snapshot: AccountSnapshot, plan: DesignPlan): string[] {
  const problems: string[] = [];
  const keyOf = managedGrantKeyResolver(snapshot.customerPolicies);
  const groupsByName = groupIndex(snapshot.groups);
  const grantsOfGroup = new Map<string, GrantKey[]>();
  for (const g of snapshot.groups)
    grantsOfGroup.set(g.groupName.toLowerCase(), [...groupGrantKeys(g, keyOf)]);
  const keyOfRef = (ref: string): GrantKey | undefined => {
    const p = plan.policies[ref];
    if (p === undefined) return undefined;
    return p.kind === 'managed' ? keyOf(p.policyArn) : inlineGrantKey(p.document);
  };
  for (const g of plan.groups) {
    const existing = groupsByName.get(g.name.toLowerCase());
    if (g.status === 'new') {
      if (existing !== undefined)
        problems.push(`group ${g.name} is new in the plan but exists in the account`);
      const keys: GrantKey[] = [];
      for (const ref of g.policies) {
        const key = keyOfRef(ref);
        if (key === undefined)
          problems.push(`group ${g.name} attaches ${ref}, which the plan does not define`);
        else keys.push(key);
      }
      grantsOfGroup.set(g.name.toLowerCase(), keys);
    } else if (existing === undefined) {
      problems.push(`group ${g.name} is existing in the plan but not in the account`);
    }
  }
  const changeOf = new Map(plan.users.map((c) => [c.userName.toLowerCase(), c]));
  for (const c of plan.users) {
    if (!snapshot.users.some((u) => sameIamName(u.userName, c.userName))) {
      problems.push(`the plan changes user ${c.userName}, who is not in the account`);
    }
  }
  for (const user of snapshot.users) {
    const change = changeOf.get(user.userName.toLowerCase());
    const grantsWith = (
      managed: readonly string[],
      inline: readonly { document: string }[],
      groupNames: readonly string[],
    ): Set<GrantKey> => {
      const keys = [
        ...managed.map(keyOf),
        ...inline.map((p) => inlineGrantKey(p.document)),
        ...groupNames.flatMap((g) => {
          const keys = grantsOfGroup.get(g.toLowerCase());
          if (keys === undefined)
            problems.push(
              `${user.userName} is put in group ${g}, which neither the account nor the plan has`,
            );
          return keys ?? [];
        }),
      ];
      return new Set(keys.map((k) => effectiveGrant(k, user.userName)));
    };
    const before = grantsWith(
      user.managedPolicies.map((p) => p.policyArn),
      user.inlinePolicies,
      user.groupNames,
    );
    if (change === undefined) continue;
    const after = grantsWith(
      user.managedPolicies.map((p) => p.policyArn).filter((a) => !change.detachManaged.includes(a)),
      user.inlinePolicies.filter((p) => !change.deleteInline.includes(p.policyName)),
      [...user.groupNames, ...change.joins.filter((j) => !user.groupNames.some((g) => sameIamName(g, j)))],
    );
    for (const k of after) if (!before.has(k)) problems.push(`${user.userName} gains ${grantLabel(k)}`);
    for (const k of before) if (!after.has(k)) problems.push(`${user.userName} loses ${grantLabel(k)}`);
  }
  // Members of new groups must be exactly the users the plan puts there: anyone else listed would be a
  // membership `apply` might make without the checks above.
  for (const g of plan.groups.filter((x) => x.status === 'new')) {
    for (const m of g.members) {
      if (!changeOf.get(m.toLowerCase())?.joins.some((j) => sameIamName(j, g.name))) {
        problems.push(`group ${g.name} lists member ${m}, whom the plan does not put there`);
      }
    }
  }
  return problems;
}

/**
 * The quotas a plan must respect: policies per new group and groups per user after the plan. Empty when
 * it fits. Separate from the invariant, which is about grants.
 */
export function checkDesignQuotas(snapshot: AccountSnapshot, quotas: IamQuotas, plan: DesignPlan): string[] {
  const problems: string[] = [];
  for (const g of plan.groups) {
    if (g.status === 'new' && g.policies.length > quotas.attachedPoliciesPerGroup) {
      problems.push(
        `group ${g.name} attaches ${g.policies.length} policies (AttachedPoliciesPerGroupQuota ${quotas.attachedPoliciesPerGroup})`,
      );
    }
  }
  for (const c of plan.users) {
    const user = snapshot.users.find((u) => sameIamName(u.userName, c.userName));
    const total = (user?.groupNames.length ?? 0) + c.joins.length;
    if (total > quotas.groupsPerUser) {
      problems.push(`${c.userName} would be in ${total} groups (GroupsPerUserQuota ${quotas.groupsPerUser})`);
    }
  }
  return problems;
}
