import { hostname } from 'node:os';
import type { IAMClient } from '@aws-sdk/client-iam';
import * as z from 'zod';
import { type Logger, silentLogger } from '../rule/log.js';
import {
  DEFAULT_RULE_PARAMETERS,
  IAM_GROUP_NAME,
  IAM_USER_NAME,
  type RuleParameters,
} from '../rule/parameters.js';
import { parseOrThrow } from '../rule/schemas/config-rule-event.js';
import { describeExemption, type Exemption, findExemption } from '../rule/verdict.js';
import { ConcurrentChangeError, type Exclusive, type ExecutionOptions, startExecution } from './execute.js';
import {
  acquireLease,
  describeBusy,
  isLeaseBusy,
  type Lease,
  type LeaseBusy,
  type LeaseContext,
  type LeaseSettings,
  OBJECT_LEASE,
  policySetLeaseKey,
  SET_LEASE,
  USER_LEASE,
  userLeaseKey,
} from './lease.js';
import { type MigrationPlan, planMigration } from './plan.js';
import { readLiveState, resolveUserName, type UserSelector } from './read-state.js';
import type { AccountState, UserState } from './state.js';
import { describeStep, type MigrationStep } from './steps.js';

export { MigrationFailedError } from './execute.js';
export { MIGRATION_GROUP_PATH, MIGRATION_POLICY_PATH } from './naming.js';
export { MIGRATION_IAM_PERMISSIONS } from './permissions.js';
export { type MigrationPlan, planMigration } from './plan.js';
export type { AccountState, IamQuotas, MigrationOptions } from './state.js';
export { describeStep, type MigrationStep } from './steps.js';

/**
 * A user ID as AWS Config passes it (RESOURCE_ID), in the character set AWS's own runbooks accept; user
 * names use the same characters, so the pattern does not tell them apart.
 */
export const IAM_RESOURCE_ID = /^[\w+=,.@-]{1,128}$/;

/** What to migrate: a user by ID (what Config passes) or by name (what people type), never both. */
export const MigrationRequestSchema = z
  .object({
    userId: z
      .string()
      .regex(IAM_RESOURCE_ID, 'must be an IAM user ID (1-128 characters of letters, digits and +=,.@_-)')
      .optional(),
    userName: z
      .string()
      .regex(IAM_USER_NAME, 'must be an IAM user name (1-64 characters of letters, digits and +=,.@_-)')
      .optional(),
    groupName: z
      .string()
      .optional()
      .transform((s) => (s === undefined || s.trim() === '' ? undefined : s.trim()))
      .pipe(
        z
          .string()
          .regex(
            IAM_GROUP_NAME,
            'must be an IAM group name (1-128 characters of letters, digits and +=,.@_-)',
          )
          .optional(),
      ),
    /** Existing groups outside the migration's path that may be joined (see MigrationOptions). */
    joinableGroups: z
      .array(
        z
          .string()
          .regex(
            IAM_GROUP_NAME,
            'must list IAM group names (1-128 characters of letters, digits and +=,.@_-)',
          ),
      )
      .optional(),
    /** The deployed rule's parameters: a user the rule exempts is refused unless includeExempt. */
    ruleParameters: z.custom<RuleParameters>().optional(),
    includeExempt: z.boolean({ error: 'must be true or false' }).optional(),
    dryRun: z.boolean({ error: 'must be true or false' }),
  })
  .refine((r) => (r.userId === undefined) !== (r.userName === undefined), {
    message: 'give exactly one of userId or userName',
  });
export type MigrationRequest = z.input<typeof MigrationRequestSchema>;

/** The outcome, as the Automation document, the CLI and the demo show it. Plain JSON. */
export interface MigrationResult {
  /**
   * already-compliant: the user has no direct policies (and is in GroupName, if one was given); nothing to do.
   * planned: dry run; `plan` is what a real run would do; nothing changed.
   * migrated: every step ran and was verified; `changes` lists them.
   * refused: nothing changed; `reasons` says why and what to do.
   * user-not-found: no IAM user has that ID or name (deleted since it was evaluated?); nothing changed.
   * in-progress: another run holds this user's migration (or its policy set, or a group or policy it needs) for longer than this run
   *   waits; this run changed nothing, and the other run's work is left alone. `reasons` names the lease.
   */
  readonly status:
    | 'already-compliant'
    | 'planned'
    | 'migrated'
    | 'refused'
    | 'user-not-found'
    | 'in-progress';
  readonly user: { readonly userName: string; readonly userId: string };
  readonly plan: readonly MigrationStep[];
  readonly changes: readonly MigrationStep[];
  readonly reasons?: readonly string[];
}

/** Hooks and settings of a run, beyond the request. */
export interface MigrationRunOptions extends Omit<ExecutionOptions, 'log' | 'exclusive'> {
  /** Who is running, written on the leases for people who find them. Default: host and process ID. */
  readonly holder?: string;
  /** Lease lifetimes and waits (tests shorten them). Defaults: USER_LEASE, SET_LEASE and OBJECT_LEASE. */
  readonly userLease?: LeaseSettings;
  readonly setLease?: LeaseSettings;
  readonly objectLease?: LeaseSettings;
  /** IAM's clock and the backoff jitter, for tests. */
  readonly now?: () => number;
  readonly random?: () => number;
}

/** A read and plan that ends the run (`result`), or a plan with steps to execute. */
type Planned =
  | { readonly result: MigrationResult }
  | {
      readonly user: MigrationResult['user'];
      readonly state: AccountState;
      readonly plan: Extract<MigrationPlan, { kind: 'steps' }>;
    };

/**
 * Re-plans after another run's change met this one's build, at most this many times in all. Each re-plan
 * follows another run finishing an object this plan needed (which the next plan reuses), so they converge;
 * a user with many new policies shared with others may meet several.
 */
const ATTEMPTS = 8;

/**
 * Moves one IAM user's directly attached and inline policies to groups, without changing what the user or
 * anyone else can do (see plan.ts for the rules). Reads live state every time, because Config remediation
 * can fire on users that are already compliant and retries: a re-run after success is a no-op, a re-run
 * after a rolled-back failure plans the same again, and one after a rollback that had to leave changes in
 * place completes the migration from them.
 *
 * Runs overlap safely (see lease.ts): a run holds its user's lease from before it reads the state it plans
 * from until its last read-back, so a second run for the same user waits, then finds nothing to do (or
 * reports in-progress if the first takes longer than the wait); users with the same direct policies plan and
 * build one at a time under their set's lease, so they all end in the same groups; and the steps that build,
 * join or tear down groups and policies shared by users hold those objects' leases, for seconds. A build
 * that meets another run's fresh group or policy undoes its own part and re-plans onto it.
 *
 * The one entry point for the Automation handler, the CLI and the local demo. Invalid requests throw an
 * InputError before any IAM call; a failed step throws MigrationFailedError after rolling back.
 *
 * @see https://docs.aws.amazon.com/securityhub/latest/userguide/iam-controls.html#iam-2
 */
export async function migrateUserPolicies(
  iam: IAMClient,
  request: MigrationRequest,
  log: Logger = silentLogger,
  run: MigrationRunOptions = {},
): Promise<MigrationResult> {
  const valid = parseOrThrow(MigrationRequestSchema, request, 'migration request');
  const selector: UserSelector =
    valid.userId !== undefined ? { userId: valid.userId } : { userName: valid.userName as string };
  const options = { groupName: valid.groupName, joinableGroups: valid.joinableGroups };
  const params = valid.ruleParameters ?? DEFAULT_RULE_PARAMETERS;
  const exemptIn = (state: UserState) => exemptionRefusal(state, params, valid.includeExempt === true);

  if (valid.dryRun) {
    // A dry run changes nothing, so it takes no lease and never waits.
    const live = await readLiveState(iam, selector);
    if (live === undefined) return userNotFound(selector, valid, log);
    const user = { userName: live.state.user.userName, userId: live.state.user.userId };
    const exempt = exemptIn(live.state.user);
    if (exempt !== undefined) return refusedResult(user, [exempt], log);
    const plan = planMigration(live.state, live.quotas, options);
    log({ event: 'planned', userName: user.userName, outcome: plan.kind, dryRun: true });
    if (plan.kind === 'already-compliant')
      return { status: 'already-compliant', user, plan: [], changes: [] };
    if (plan.kind === 'refused') return refusedResult(user, plan.reasons, log);
    for (const step of plan.steps) log({ event: 'plan-step', step: describeStep(step) });
    return { status: 'planned', user, plan: plan.steps, changes: [] };
  }

  // The lease is taken before the state is read, so that what the plan sees is not already stale because
  // another run for this user finished in between. The lease is keyed by name; an ID is resolved first.
  const leaseName = 'userName' in selector ? selector.userName : await resolveUserName(iam, selector.userId);
  if (leaseName === undefined) return userNotFound(selector, valid, log);
  const context: LeaseContext = {
    holder: run.holder ?? `the IAM.2 migration on host ${hostname()}, pid ${process.pid}`,
    log,
    ...(run.now !== undefined ? { now: run.now } : {}),
    ...(run.random !== undefined ? { random: run.random } : {}),
  };
  const userLease = await acquireLease(iam, userLeaseKey(leaseName), run.userLease ?? USER_LEASE, context);
  if (isLeaseBusy(userLease)) {
    return inProgress({ userName: leaseName, userId: valid.userId ?? '' }, userLease, log);
  }
  try {
    const exclusive = objectLeases(iam, run.objectLease ?? OBJECT_LEASE, context);
    const setExclusive = objectLeases(iam, run.setLease ?? SET_LEASE, context);
    const readAndPlan = async (attempt: number): Promise<Planned> => {
      const live = await readLiveState(iam, selector);
      if (live === undefined) return { result: userNotFound(selector, valid, log) };
      const { state, quotas } = live;
      const user = { userName: state.user.userName, userId: state.user.userId };
      const exempt = exemptIn(state.user);
      if (exempt !== undefined) return { result: refusedResult(user, [exempt], log) };
      const plan = planMigration(state, quotas, options);
      log({ event: 'planned', userName: user.userName, outcome: plan.kind, dryRun: false, attempt });
      if (plan.kind === 'already-compliant')
        return { result: { status: 'already-compliant', user, plan: [], changes: [] } };
      if (plan.kind === 'refused') return { result: refusedResult(user, plan.reasons, log) };
      return { user, state, plan };
    };
    for (let attempt = 1; attempt <= ATTEMPTS; attempt++) {
      const first = await readAndPlan(attempt);
      if ('result' in first) return first.result;
      // Users with the same direct policies plan and build one at a time, each from a read taken while
      // holding their set's lease: two that planned at once could otherwise choose different groups for one
      // set, depending on which other groups each happened to see.
      const setKey = policySetLeaseKey(first.plan.directGrants);
      try {
        // The set's lease is held until the groups are built and joined; removing the user's own policies
        // afterwards needs only the user's lease.
        const built = await setExclusive([setKey], async () => {
          const fresh = await readAndPlan(attempt);
          if ('result' in fresh) return fresh;
          // The user's policies changed outside the migration since the first read: plan again.
          if (policySetLeaseKey(fresh.plan.directGrants) !== setKey) return undefined;
          const execution = startExecution(iam, fresh.plan, fresh.state, { ...run, log, exclusive });
          await execution.build();
          return { ...fresh, execution };
        });
        if (built !== undefined && 'result' in built) return built.result;
        if (built !== undefined) {
          const changes = await built.execution.finish();
          return { status: 'migrated', user: built.user, plan: built.plan.steps, changes };
        }
      } catch (error) {
        if (error instanceof ObjectLeaseBusyError) return inProgress(first.user, error.busy, log);
        // Another run's group or policy met this build: its own part is undone; read again and re-plan.
        if (!(error instanceof ConcurrentChangeError) || attempt >= ATTEMPTS) throw error;
        log({ event: 're-plan', userName: first.user.userName, reason: error.message });
      }
    }
    throw new Error(
      `the direct policies of ${leaseName} changed outside the migration during each of ${ATTEMPTS} attempts to plan it; nothing was changed. Run again once they are stable.`,
    );
  } finally {
    await userLease.release();
  }
}

/** An object's lease could not be had in time; the run has changed nothing (or undone what it had). */
export class ObjectLeaseBusyError extends Error {
  override name = 'ObjectLeaseBusyError';
  constructor(readonly busy: LeaseBusy) {
    super(describeBusy(busy));
  }
}

/**
 * ExecutionOptions.exclusive for one run: takes the leases of the objects a section touches, in sorted order
 * and within one wait, and is re-entrant (a rollback that starts inside the build section already holds
 * what it needs). A section that cannot get every lease in time gets none of them.
 */
export function objectLeases(iam: IAMClient, settings: LeaseSettings, context: LeaseContext): Exclusive {
  const held = new Map<string, Lease>();
  const checkHeld = () => {
    for (const lease of held.values()) {
      if (lease.heldForMs() > settings.ttlMs / 2) {
        throw new Error(
          `held the lease ${lease.key} for ${Math.round(lease.heldForMs() / 1000)} s, more than half its ${Math.round(settings.ttlMs / 1000)} s life; stopping before another run may take it over`,
        );
      }
    }
  };
  return async (keys, section) => {
    const missing = [...new Set(keys)].filter((k) => !held.has(k)).sort();
    const taken: Lease[] = [];
    const deadline = Date.now() + settings.waitMs;
    try {
      for (const key of missing) {
        const answer = await acquireLease(
          iam,
          key,
          { ...settings, waitMs: Math.max(0, deadline - Date.now()) },
          context,
        );
        if (isLeaseBusy(answer)) throw new ObjectLeaseBusyError(answer);
        taken.push(answer);
        held.set(key, answer);
      }
      return await section(checkHeld);
    } finally {
      for (const lease of taken.reverse()) {
        held.delete(lease.key);
        await lease.release();
      }
    }
  };
}

/**
 * The rule's own exemption decision (rule/verdict.ts) for a user as the migration reads it: shared by the
 * migration, `plan` and the local run, so that all three exempt exactly whom the rule exempts.
 */
export function exemptionOfUser(user: UserState, params: RuleParameters): Exemption | undefined {
  return findExemption(
    {
      userId: user.userId,
      userName: user.userName,
      path: user.path,
      groupNames: user.groupNames,
      managedPolicies: user.managedPolicies,
      inlinePolicyNames: user.inlinePolicies.map((p) => p.policyName),
      tags: user.tags,
    },
    params,
  );
}

/** Why an exempt user is refused, or undefined when it is not exempt (or the operator forces it). */
function exemptionRefusal(user: UserState, params: RuleParameters, force: boolean): string | undefined {
  if (force) return undefined;
  const exemption = exemptionOfUser(user, params);
  return exemption === undefined
    ? undefined
    : `${user.userName} is exempt from the rule (${describeExemption(exemption)}); its direct policies are a documented exception, so the migration leaves them. Force it with IncludeExempt (runbook) or --include-exempt (CLI) if the exemption no longer applies.`;
}

function refusedResult(
  user: MigrationResult['user'],
  reasons: readonly string[],
  log: Logger,
): MigrationResult {
  log({ event: 'refused', userName: user.userName, reasons });
  return { status: 'refused', user, plan: [], changes: [], reasons };
}

function inProgress(user: MigrationResult['user'], busy: LeaseBusy, log: Logger): MigrationResult {
  log({ event: 'in-progress', userName: user.userName, lease: busy.key, waitedMs: busy.waitedMs });
  return { status: 'in-progress', user, plan: [], changes: [], reasons: [describeBusy(busy)] };
}

function userNotFound(
  selector: UserSelector,
  valid: { userName?: string | undefined; userId?: string | undefined },
  log: Logger,
): MigrationResult {
  const what = 'userId' in selector ? `with ID ${selector.userId}` : `named ${selector.userName}`;
  log({ event: 'user-not-found', ...selector });
  return {
    status: 'user-not-found',
    user: { userName: valid.userName ?? '', userId: valid.userId ?? '' },
    plan: [],
    changes: [],
    reasons: [`there is no IAM user ${what} in this account (deleted since it was evaluated?)`],
  };
}
