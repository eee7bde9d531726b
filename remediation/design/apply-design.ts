import { hostname } from 'node:os';
import {
  AttachGroupPolicyCommand,
  CreateGroupCommand,
  CreatePolicyCommand,
  GetGroupCommand,
  GetPolicyCommand,
  GetPolicyVersionCommand,
  GetUserPolicyCommand,
  type IAMClient,
  ListAttachedGroupPoliciesCommand,
  ListAttachedUserPoliciesCommand,
  ListGroupPoliciesCommand,
  ListGroupsForUserCommand,
  ListUserPoliciesCommand,
  NoSuchEntityException,
} from '@aws-sdk/client-iam';
import * as z from 'zod';
import { type Logger, silentLogger } from '../../rule/log.js';
import { IAM_GROUP_NAME, IAM_USER_NAME } from '../../rule/parameters.js';
import { parseOrThrow } from '../../rule/schemas/config-rule-event.js';
import { sameIamName } from '../../rule/user.js';
import { type ExecutionOptions, executePlan, MigrationFailedError } from '../execute.js';
import { type GrantKey, groupGrantKeys, inlineGrantKey, managedGrantKeyResolver } from '../grants.js';
import {
  acquireLease,
  describeBusy,
  groupLeaseKey,
  isLeaseBusy,
  type LeaseContext,
  type LeaseSettings,
  OBJECT_LEASE,
  policyLeaseKey,
  USER_LEASE,
  userLeaseKey,
} from '../lease.js';
import { ObjectLeaseBusyError, objectLeases } from '../migrate.js';
import { MIGRATION_GROUP_PATH, MIGRATION_POLICY_PATH } from '../naming.js';
import { canonicalDocument } from '../policy-document.js';
import { decodePolicyDocument, readAccountSnapshot, readIamQuotas } from '../read-state.js';
import type { AccountState, CustomerManagedPolicy, GroupState, UserState } from '../state.js';
import type { MigrationStep } from '../steps.js';
import { userFingerprint } from './account-design.js';

/**
 * Carries out an account-wide design (a plan file from `plan`) with the per-user migration's guarantees:
 * the design's groups and policies are built first, each under its own lease; then each user, under its
 * own lease, joins its groups, is read back, loses its direct policies, and is read back again, rolling
 * back on failure (remediation/execute.ts). The account is read once for the whole run (one paged
 * GetAccountAuthorizationDetails pass), not once per user: per user, only its own policies and groups are
 * read, to check that it is still as the plan found it.
 */

/** The plan file as `apply` trusts it: every name and reference checked, whatever an editor did to it. */
const PlanFileSchema = z.object({
  version: z.literal(1, { error: 'must be 1 (a plan file written by `plan`)' }),
  accountId: z.string().regex(/^\d{12}$/, 'must be a 12-digit AWS account ID'),
  policies: z.record(
    z.string(),
    z.discriminatedUnion('kind', [
      z.object({
        kind: z.literal('managed'),
        policyArn: z.string().startsWith('arn:'),
        policyName: z.string(),
      }),
      z.object({
        kind: z.literal('new-managed'),
        key: z.string(),
        policyName: z.string().regex(/^[\w+=,.@-]{1,128}$/, 'must be an IAM policy name'),
        policyArn: z.string(),
        document: z.string().min(1),
      }),
    ]),
  ),
  groups: z.array(
    z.object({
      name: z
        .string()
        .regex(IAM_GROUP_NAME, 'must be an IAM group name (1-128 characters of letters, digits and +=,.@_-)'),
      path: z.string(),
      status: z.enum(['new', 'existing']),
      policies: z.array(z.string()),
      members: z.array(z.string().regex(IAM_USER_NAME, 'must be IAM user names')),
    }),
  ),
  users: z.array(
    z.object({
      userName: z.string().regex(IAM_USER_NAME, 'must be an IAM user name'),
      detachManaged: z.array(z.string()),
      deleteInline: z.array(z.string()),
      fingerprint: z.string().min(1),
    }),
  ),
});
type PlanFile = z.infer<typeof PlanFileSchema>;

/** What happened to one user. */
export interface ApplyUserOutcome {
  readonly userName: string;
  /**
   * migrated: joined its groups and lost its direct policies, verified. planned: dry run, would be migrated.
   * already-applied: it is as the plan wants it (a resumed run). skipped: changed since the plan, gone, or
   * the plan would change its grants; nothing changed. in-progress: another run holds the user. failed: a
   * step failed and was rolled back (see reason).
   */
  readonly status: 'migrated' | 'planned' | 'already-applied' | 'skipped' | 'in-progress' | 'failed';
  readonly reason?: string;
  readonly changes?: readonly MigrationStep[];
}

/** The run as a whole. */
export interface ApplyReport {
  readonly dryRun: boolean;
  /** Groups and policies created (or, in a dry run, that would be). */
  readonly createdGroups: readonly string[];
  readonly createdPolicies: readonly string[];
  /** Design groups that could not be used, with why; their members are skipped. */
  readonly refusedGroups: readonly { readonly name: string; readonly reason: string }[];
  readonly users: readonly ApplyUserOutcome[];
}

export interface ApplyOptions {
  /** Make the changes; without it nothing changes and the report says what would be done. */
  readonly apply: boolean;
  /** Users migrated at once (IAM's write rate is low; the SDK's adaptive retry paces the rest). Default 4. */
  readonly concurrency?: number;
  readonly log?: Logger;
  /** Called after each user, for progress lines. */
  readonly progress?: (done: number, total: number, outcome: ApplyUserOutcome) => void;
  readonly holder?: string;
  readonly userLease?: LeaseSettings;
  readonly objectLease?: LeaseSettings;
  /** Hooks for tests (as in migrateUserPolicies). */
  readonly execution?: Pick<ExecutionOptions, 'afterChange' | 'sleep' | 'readBackAttempts'>;
}

/**
 * Applies `planFile` (the parsed JSON of a plan file) to the account. Throws InputError before any IAM
 * call when the file is not a valid plan, and an Error when it was made for another account.
 */
export async function applyDesign(
  iam: IAMClient,
  planFile: unknown,
  options: ApplyOptions,
): Promise<ApplyReport> {
  const plan = parseOrThrow(PlanFileSchema, planFile, 'plan file');
  checkReferences(plan);
  const log = options.log ?? silentLogger;
  const [snapshot, quotas] = await Promise.all([readAccountSnapshot(iam), readIamQuotas(iam)]);
  const accountOfArns = snapshot.users[0]?.arn.split(':')[4];
  if (accountOfArns !== undefined && accountOfArns !== plan.accountId) {
    throw new Error(
      `the plan was made for account ${plan.accountId}, but these credentials are for ${accountOfArns}`,
    );
  }

  const context: LeaseContext = {
    holder: options.holder ?? `iam-user-policies apply on host ${hostname()}, pid ${process.pid}`,
    log,
  };
  const exclusive = objectLeases(iam, options.objectLease ?? OBJECT_LEASE, context);

  // Which design groups the users to apply need, and whether each can be used as it stands.
  const usersByName = new Map(snapshot.users.map((u) => [u.userName.toLowerCase(), u]));
  const groupsByName = new Map(snapshot.groups.map((g) => [g.groupName.toLowerCase(), g]));
  const policyArn = (key: string) => plan.policies[key]?.policyArn as string;
  const refusedGroups: { name: string; reason: string }[] = [];
  const createdGroups: string[] = [];
  const createdPolicies: string[] = [];
  const builtPolicies: CustomerManagedPolicy[] = [];
  const builtGroups: GroupState[] = [];

  for (const group of plan.groups) {
    if (group.status !== 'new' || group.members.length === 0) continue;
    if (group.policies.length > quotas.attachedPoliciesPerGroup) {
      refusedGroups.push({
        name: group.name,
        reason: `it carries ${group.policies.length} policies; the account allows ${quotas.attachedPoliciesPerGroup} per group`,
      });
      continue;
    }
    const existing = groupsByName.get(group.name.toLowerCase());
    const problem =
      existing !== undefined ? existingGroupProblem(existing, group.policies.map(policyArn)) : undefined;
    if (problem !== undefined) {
      refusedGroups.push({ name: group.name, reason: problem });
      continue;
    }
    const newPolicies = group.policies.flatMap((k) => {
      const ref = plan.policies[k];
      return ref?.kind === 'new-managed' ? [ref] : [];
    });
    if (!options.apply) {
      if (existing === undefined) createdGroups.push(group.name);
      for (const p of newPolicies) {
        if (
          !snapshot.customerPolicies.some((c) => c.policyArn === p.policyArn) &&
          !createdPolicies.includes(p.policyArn)
        )
          createdPolicies.push(p.policyArn);
      }
    } else {
      try {
        const keys = [groupLeaseKey(group.name), ...newPolicies.map((p) => policyLeaseKey(p.policyName))];
        await exclusive(keys, async () => {
          for (const p of newPolicies) {
            if (await ensurePolicy(iam, p.policyName, p.document, p.policyArn))
              createdPolicies.push(p.policyArn);
          }
          if (await ensureGroup(iam, group.name, group.policies.map(policyArn)))
            createdGroups.push(group.name);
        });
      } catch (error) {
        const reason = error instanceof ObjectLeaseBusyError ? describeBusy(error.busy) : errorText(error);
        log({ event: 'group-refused', group: group.name, reason });
        refusedGroups.push({ name: group.name, reason });
        continue;
      }
    }
    for (const p of newPolicies) {
      if (!builtPolicies.some((b) => b.policyArn === p.policyArn)) {
        builtPolicies.push({
          policyName: p.policyName,
          policyArn: p.policyArn,
          path: MIGRATION_POLICY_PATH,
          defaultDocument: p.document,
        });
      }
    }
    builtGroups.push({
      groupName: existing?.groupName ?? group.name,
      path: MIGRATION_GROUP_PATH,
      memberNames: existing?.memberNames ?? [],
      managedPolicies: group.policies.map((k) => ({
        policyArn: policyArn(k),
        policyName: plan.policies[k]?.policyName ?? k,
      })),
      inlinePolicies: [],
    });
  }
  const groups = [
    ...snapshot.groups.filter((g) => !builtGroups.some((b) => sameIamName(b.groupName, g.groupName))),
    ...builtGroups,
  ];
  const customerPolicies = [
    ...snapshot.customerPolicies.filter((c) => !builtPolicies.some((b) => b.policyArn === c.policyArn)),
    ...builtPolicies,
  ];

  // Then the users, a few at a time.
  const outcomes: ApplyUserOutcome[] = [];
  let next = 0;
  const lane = async () => {
    for (;;) {
      const change = plan.users[next++];
      if (change === undefined) return;
      const outcome = await applyUser(change.userName);
      outcomes.push(outcome);
      options.progress?.(outcomes.length, plan.users.length, outcome);
    }
  };
  const applyUser = async (userName: string): Promise<ApplyUserOutcome> => {
    const change = plan.users.find((u) => u.userName === userName) as PlanFile['users'][number];
    const joins = plan.groups.filter((g) => g.members.some((m) => sameIamName(m, userName)));
    const refused = joins.find((g) => refusedGroups.some((r) => r.name === g.name));
    if (refused !== undefined)
      return { userName, status: 'skipped', reason: `its group ${refused.name} could not be used` };
    const known = usersByName.get(userName.toLowerCase());
    if (known === undefined)
      return { userName, status: 'skipped', reason: 'the user does not exist any more' };
    const prepare = (user: UserState) => userSteps(user, change, joins, groups, customerPolicies);

    if (!options.apply) {
      const ready = prepare(known);
      return 'status' in ready
        ? ready
        : { userName, status: ready.steps.length === 0 ? 'already-applied' : 'planned' };
    }
    const lease = await acquireLease(iam, userLeaseKey(userName), options.userLease ?? USER_LEASE, context);
    if (isLeaseBusy(lease)) return { userName, status: 'in-progress', reason: describeBusy(lease) };
    try {
      const live = await readUserLive(iam, known);
      if (live === undefined)
        return { userName, status: 'skipped', reason: 'the user does not exist any more' };
      const ready = prepare(live);
      if ('status' in ready) return ready;
      if (ready.steps.length === 0) return { userName, status: 'already-applied' };
      const changes = await executePlan(
        iam,
        { steps: ready.steps, directGrants: ready.directGrants },
        ready.state,
        { ...options.execution, log, exclusive },
      );
      return { userName, status: 'migrated', changes };
    } catch (error) {
      if (error instanceof ObjectLeaseBusyError)
        return { userName, status: 'in-progress', reason: describeBusy(error.busy) };
      const reason = error instanceof MigrationFailedError ? error.message : errorText(error);
      log({ event: 'user-failed', userName, reason });
      return { userName, status: 'failed', reason };
    } finally {
      await lease.release();
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, options.concurrency ?? 4) }, lane));
  outcomes.sort((a, b) => (a.userName < b.userName ? -1 : 1));
  return { dryRun: !options.apply, createdGroups, createdPolicies, refusedGroups, users: outcomes };
}

/**
 * The steps for one user, or why it is skipped: already done (no steps), changed since the plan, or a plan
 * (perhaps edited) that would give it a grant it lacks or leave it without one. Pure.
 */
function userSteps(
  user: UserState,
  change: PlanFile['users'][number],
  joins: readonly PlanFile['groups'][number][],
  groups: readonly GroupState[],
  customerPolicies: readonly CustomerManagedPolicy[],
): { steps: MigrationStep[]; directGrants: GrantKey[]; state: AccountState } | ApplyUserOutcome {
  const { userName } = user;
  const toJoin = joins.filter((g) => !user.groupNames.some((n) => sameIamName(n, g.name)));
  const directLeft =
    user.managedPolicies.some((p) => change.detachManaged.includes(p.policyArn)) ||
    user.inlinePolicies.some((p) => change.deleteInline.includes(p.policyName));
  const state: AccountState = { user, groups, customerPolicies };
  if (toJoin.length === 0 && !directLeft) return { steps: [], directGrants: [], state };
  if (userFingerprint(user) !== change.fingerprint) {
    return {
      userName,
      status: 'skipped',
      reason: 'its policies or groups changed since the plan was made; plan again',
    };
  }
  const keyOf = managedGrantKeyResolver(customerPolicies, userName);
  const groupOf = (name: string) => groups.find((g) => sameIamName(g.groupName, name));
  const has = new Set<GrantKey>([
    ...user.managedPolicies.map((p) => keyOf(p.policyArn)),
    ...user.inlinePolicies.map((p) => inlineGrantKey(p.document)),
  ]);
  for (const name of user.groupNames) {
    const g = groupOf(name);
    if (g !== undefined) for (const k of groupGrantKeys(g, keyOf)) has.add(k);
  }
  const after = new Set<GrantKey>();
  for (const name of [...user.groupNames, ...toJoin.map((g) => g.name)]) {
    const g = groupOf(name);
    if (g === undefined) return { userName, status: 'skipped', reason: `group ${name} does not exist` };
    for (const k of groupGrantKeys(g, keyOf)) after.add(k);
  }
  const kept = [
    ...user.managedPolicies
      .filter((p) => !change.detachManaged.includes(p.policyArn))
      .map((p) => keyOf(p.policyArn)),
    ...user.inlinePolicies
      .filter((p) => !change.deleteInline.includes(p.policyName))
      .map((p) => inlineGrantKey(p.document)),
  ];
  for (const k of kept) after.add(k);
  const gained = [...after].filter((k) => !has.has(k));
  const lost = [...has].filter((k) => !after.has(k));
  if (gained.length > 0 || lost.length > 0) {
    return {
      userName,
      status: 'skipped',
      reason: `the plan would ${gained.length > 0 ? `give it ${gained.length} grant(s) it does not have` : `take ${lost.length} grant(s) from it`}; nothing changed. Plan again.`,
    };
  }
  const removed = [
    ...user.managedPolicies
      .filter((p) => change.detachManaged.includes(p.policyArn))
      .map((p) => keyOf(p.policyArn)),
    ...user.inlinePolicies
      .filter((p) => change.deleteInline.includes(p.policyName))
      .map((p) => inlineGrantKey(p.document)),
  ];
  const steps: MigrationStep[] = [
    ...toJoin.map(
      (g): MigrationStep => ({
        action: 'add-user-to-group',
        userName,
        groupName: groupOf(g.name)?.groupName ?? g.name,
        existingGroup: true,
      }),
    ),
    { action: 'verify-groups-grant-all', userName },
    ...user.managedPolicies
      .filter((p) => change.detachManaged.includes(p.policyArn))
      .map(
        (p): MigrationStep => ({
          action: 'detach-user-policy',
          userName,
          policyArn: p.policyArn,
          redundant: false,
        }),
      ),
    ...user.inlinePolicies
      .filter((p) => change.deleteInline.includes(p.policyName))
      .map(
        (p): MigrationStep => ({
          action: 'delete-user-policy',
          userName,
          policyName: p.policyName,
          redundant: false,
        }),
      ),
    { action: 'verify-grants-unchanged', userName },
  ];
  return { steps, directGrants: [...new Set(removed)].sort(), state };
}

/** Every policy a new group refers to exists in the plan, and new policies live where the migration puts them. */
function checkReferences(plan: PlanFile): void {
  const names = new Set<string>();
  for (const g of plan.groups) {
    if (names.has(g.name.toLowerCase()))
      throw new Error(`plan file: group ${g.name} appears twice (names are unique without regard to case)`);
    names.add(g.name.toLowerCase());
    for (const k of g.policies) {
      if (plan.policies[k] === undefined)
        throw new Error(`plan file: group ${g.name} refers to policy ${k}, which the plan does not define`);
    }
  }
  for (const [key, p] of Object.entries(plan.policies)) {
    if (
      p.kind === 'new-managed' &&
      p.policyArn !==
        `arn:${p.policyArn.split(':')[1]}:iam::${plan.accountId}:policy${MIGRATION_POLICY_PATH}${p.policyName}`
    ) {
      throw new Error(
        `plan file: new policy ${key} must be ${MIGRATION_POLICY_PATH}${p.policyName} in account ${plan.accountId}`,
      );
    }
  }
}

/** Why an existing group of a design's name cannot be used as that design group, if it cannot. */
function existingGroupProblem(group: GroupState, arns: readonly string[]): string | undefined {
  if (group.path !== MIGRATION_GROUP_PATH)
    return `a group of that name exists on path ${group.path}, outside ${MIGRATION_GROUP_PATH}`;
  if (group.inlinePolicies.length > 0) return 'the existing group carries inline policies';
  const extra = group.managedPolicies.filter((p) => !arns.includes(p.policyArn));
  if (extra.length > 0)
    return `the existing group carries ${extra.map((p) => p.policyName).join(', ')}, which the design does not give it`;
  const missing = arns.filter((a) => !group.managedPolicies.some((p) => p.policyArn === a));
  if (missing.length > 0 && group.memberNames.length > 0)
    return 'the existing group lacks some of its policies and has members: adding them would widen their access';
  return undefined;
}

/** Creates the policy unless it exists with the same document; true when created. */
async function ensurePolicy(
  iam: IAMClient,
  policyName: string,
  document: string,
  policyArn: string,
): Promise<boolean> {
  try {
    const found = await iam.send(new GetPolicyCommand({ PolicyArn: policyArn }));
    const version = await iam.send(
      new GetPolicyVersionCommand({ PolicyArn: policyArn, VersionId: found.Policy?.DefaultVersionId }),
    );
    if (
      canonicalDocument(decodePolicyDocument(version.PolicyVersion?.Document ?? '')) !==
      canonicalDocument(document)
    ) {
      throw new Error(`managed policy ${policyArn} exists with another document`);
    }
    return false;
  } catch (error) {
    if (!(error instanceof NoSuchEntityException)) throw error;
  }
  await iam.send(
    new CreatePolicyCommand({
      PolicyName: policyName,
      Path: MIGRATION_POLICY_PATH,
      PolicyDocument: document,
      Description: 'Made by the IAM.2 account-wide group design; named after a hash of its document.',
    }),
  );
  return true;
}

/**
 * Creates the group under the migration path with exactly `arns`, or completes a memberless one that holds
 * part of them (a resumed run); true when created. Called holding the group's lease.
 */
async function ensureGroup(iam: IAMClient, groupName: string, arns: readonly string[]): Promise<boolean> {
  let created = false;
  let attached: string[] = [];
  try {
    const found = await iam.send(new GetGroupCommand({ GroupName: groupName }));
    const inline = await iam.send(new ListGroupPoliciesCommand({ GroupName: groupName }));
    attached = (
      (await iam.send(new ListAttachedGroupPoliciesCommand({ GroupName: groupName }))).AttachedPolicies ?? []
    ).map((p) => p.PolicyArn as string);
    const problem = existingGroupProblem(
      {
        groupName,
        path: found.Group?.Path ?? '/',
        memberNames: (found.Users ?? []).map((u) => u.UserName as string),
        managedPolicies: attached.map((a) => ({ policyArn: a, policyName: a.slice(a.lastIndexOf('/') + 1) })),
        inlinePolicies: (inline.PolicyNames ?? []).map((n) => ({ policyName: n, document: '' })),
      },
      arns,
    );
    if (problem !== undefined) throw new Error(`group ${groupName}: ${problem}`);
  } catch (error) {
    if (!(error instanceof NoSuchEntityException)) throw error;
    await iam.send(new CreateGroupCommand({ GroupName: groupName, Path: MIGRATION_GROUP_PATH }));
    created = true;
  }
  for (const arn of arns) {
    if (!attached.includes(arn))
      await iam.send(new AttachGroupPolicyCommand({ GroupName: groupName, PolicyArn: arn }));
  }
  return created;
}

/** The user's own policies and groups, read with per-user calls (never the whole account). */
async function readUserLive(iam: IAMClient, known: UserState): Promise<UserState | undefined> {
  const userName = known.userName;
  try {
    const [attached, inlineNames, groups] = await Promise.all([
      iam.send(new ListAttachedUserPoliciesCommand({ UserName: userName })),
      iam.send(new ListUserPoliciesCommand({ UserName: userName })),
      iam.send(new ListGroupsForUserCommand({ UserName: userName })),
    ]);
    const inlinePolicies = await Promise.all(
      (inlineNames.PolicyNames ?? []).map(async (policyName) => {
        const answer = await iam.send(
          new GetUserPolicyCommand({ UserName: userName, PolicyName: policyName }),
        );
        return { policyName, document: decodePolicyDocument(answer.PolicyDocument ?? '') };
      }),
    );
    if (attached.IsTruncated || inlineNames.IsTruncated || groups.IsTruncated) {
      throw new Error(`${userName} has more policies or groups than one page holds; plan again`);
    }
    return {
      ...known,
      managedPolicies: (attached.AttachedPolicies ?? []).map((p) => ({
        policyArn: p.PolicyArn as string,
        policyName: p.PolicyName as string,
      })),
      inlinePolicies,
      groupNames: (groups.Groups ?? []).map((g) => g.GroupName as string),
    };
  } catch (error) {
    if (error instanceof NoSuchEntityException) return undefined;
    throw error;
  }
}

function errorText(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
