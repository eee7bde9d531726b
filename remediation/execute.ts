import {
  AddUserToGroupCommand,
  AttachGroupPolicyCommand,
  AttachUserPolicyCommand,
  CreateGroupCommand,
  CreatePolicyCommand,
  DeleteGroupCommand,
  DeletePolicyCommand,
  DeleteUserPolicyCommand,
  DetachGroupPolicyCommand,
  DetachUserPolicyCommand,
  EntityAlreadyExistsException,
  type IAMClient,
  ListEntitiesForPolicyCommand,
  NoSuchEntityException,
  PutUserPolicyCommand,
  RemoveUserFromGroupCommand,
} from '@aws-sdk/client-iam';
import type { Logger } from '../rule/log.js';
import type { GrantKey } from './grants.js';
import { groupLeaseKey, policyLeaseKey } from './lease.js';
import { MIGRATION_GROUP_PATH, MIGRATION_POLICY_PATH } from './naming.js';
import {
  checkGroupsGrantAll,
  checkNoDirectPolicies,
  groupMembers,
  type ReadBackTargets,
  readBackTargets,
} from './read-back.js';
import type { AccountState } from './state.js';
import { describeStep, isMutatingStep, type MigrationStep } from './steps.js';

/** Hooks and timing for the executor; tests use them to check invariants after every change. */
export interface ExecutionOptions {
  readonly log: Logger;
  /** Called after each change made or undone, before the next one. */
  readonly afterChange?: (change: { step: MigrationStep; phase: 'apply' | 'rollback' }) => Promise<void>;
  /** Waits between read-back attempts. Default: a timer. */
  readonly sleep?: (ms: number) => Promise<void>;
  /** Read-back attempts before a verification fails (IAM is eventually consistent). Default 6. */
  readonly readBackAttempts?: number;
  /**
   * Runs a section holding the leases of the given shared objects (see lease.ts and objectLeaseKeys),
   * re-entrantly. Creating, filling and joining groups and policies that other users' runs may use, and
   * tearing them down in a rollback, happen only inside it, so no run sees another's group half-built or
   * strips a group someone is joining. `checkHeld` throws once a lease is too old to rely on.
   */
  readonly exclusive: Exclusive;
}

/** See ExecutionOptions.exclusive. */
export type Exclusive = <T>(
  keys: readonly string[],
  section: (checkHeld: () => void) => Promise<T>,
) => Promise<T>;

/**
 * Another run created or removed a group or policy this plan relied on between the read and the build (its
 * own build or rollback, holding those objects' leases). What this run had built is undone (it was all made under
 * the lease, so nobody else relies on it yet) and nothing else changed: the caller reads again and re-plans,
 * which then uses the other run's group instead of colliding with it.
 */
export class ConcurrentChangeError extends Error {
  override name = 'ConcurrentChangeError';
  constructor(
    readonly step: MigrationStep,
    override readonly cause: unknown,
  ) {
    super(`"${describeStep(step)}" met a change another run made meanwhile: ${errorText(cause)}`);
  }
}

/** What a plan must hold to be executed. */
export interface ExecutablePlan {
  readonly steps: readonly MigrationStep[];
  readonly directGrants: readonly GrantKey[];
}

/**
 * A step failed. Everything this run changed has been undone in reverse order (the user's own policies are
 * restored before it leaves any group), unless `rollbackFailures` lists what could not be undone; then
 * `keptInPlace` also holds what a failed undo relies on, left as it was so that nobody loses a grant.
 */
export class MigrationFailedError extends Error {
  override name = 'MigrationFailedError';
  constructor(
    readonly userName: string,
    readonly failedStep: MigrationStep,
    override readonly cause: unknown,
    /** Changes made and then undone. */
    readonly undone: readonly MigrationStep[],
    /** Changes that could not be undone, each with its error. */
    readonly rollbackFailures: readonly { step: MigrationStep; error: string }[],
    /**
     * Every change still in place: the failed undos, and the changes they rely on (a user policy that could
     * not be restored keeps the user in its new groups; a membership that could not be removed keeps its
     * group whole), and a new group that another user joined meanwhile. The account is then half-migrated,
     * never short of a grant: a re-run completes it.
     */
    readonly keptInPlace: readonly MigrationStep[] = [],
    /** Why changes other than failed undos were kept (a new group with other members now). */
    readonly heldBack: readonly string[] = [],
  ) {
    const outcome =
      keptInPlace.length === 0
        ? `rolled back ${undone.length} change(s); the account is as it was before the run. Fix the cause and run again.`
        : partialRollbackText(rollbackFailures, keptInPlace, heldBack);
    super(
      `migration of ${userName} failed at "${describeStep(failedStep)}": ${errorText(cause)}; ${outcome}`,
    );
  }
}

function partialRollbackText(
  failures: readonly { step: MigrationStep; error: string }[],
  kept: readonly MigrationStep[],
  heldBack: readonly string[],
): string {
  const why = [...failures.map((f) => `could not undo "${describeStep(f.step)}": ${f.error}`), ...heldBack];
  return (
    `rollback left ${kept.length} change(s) in place so that nobody lacks or gains a grant (${why.join('; ')}): ` +
    `${kept.map(describeStep).join('; ')}. Run again to complete the migration, or undo these by hand.`
  );
}

/**
 * Runs planned steps in order, reading back before anything is removed from the user. If a step fails, the
 * changes already made are undone in reverse order, so the user never lacks a grant it had (its policies
 * come back before it leaves the groups) and nothing created by the run remains. Returns the steps done.
 */
export async function executePlan(
  iam: IAMClient,
  plan: ExecutablePlan,
  state: AccountState,
  options: ExecutionOptions,
): Promise<MigrationStep[]> {
  const execution = startExecution(iam, plan, state, options);
  await execution.build();
  return execution.finish();
}

/** A plan's execution in its two phases (see startExecution). */
export interface Execution {
  /** Builds and joins the groups, up to and including the read-back that they grant everything. */
  build(): Promise<void>;
  /** Removes the user's direct policies and reads back the end state; returns every step done. */
  finish(): Promise<MigrationStep[]>;
}

/**
 * executePlan in two phases, for a caller that holds a lease only while the groups are built (the policy set's,
 * see migrate.ts). A failure in either phase rolls back everything done in both.
 */
export function startExecution(
  iam: IAMClient,
  plan: ExecutablePlan,
  state: AccountState,
  options: ExecutionOptions,
): Execution {
  const done: MigrationStep[] = [];
  const targets = readBackTargets(plan.steps, plan.directGrants, state);
  // Everything up to the first read-back builds or joins groups others may use: that part runs holding those
  // objects' leases, and the read-back too, so that the membership is visible before anyone else's rollback
  // decides whether the group is still needed. Removing the user's own policies needs only its own lease.
  const split = plan.steps.findIndex((s) => s.action === 'verify-groups-grant-all') + 1;
  const createdHere = new Set<string>();

  const run = async (step: MigrationStep, checkHeld?: () => void): Promise<void> => {
    const inSharedSection = checkHeld !== undefined;
    try {
      // Inside the try: a lease too old to rely on fails the step, and what was done is rolled back.
      checkHeld?.();
      await apply(iam, step, targets, state, options);
    } catch (error) {
      options.log({
        event: 'step-failed',
        action: step.action,
        step: describeStep(step),
        error: errorText(error),
      });
      const concurrent = inSharedSection && isConcurrentChange(step, error, createdHere);
      const { undone, failures, kept, heldBack } = await rollback(iam, done, state, options);
      if (concurrent && failures.length === 0 && kept.length === 0)
        throw new ConcurrentChangeError(step, error);
      throw new MigrationFailedError(state.user.userName, step, error, undone, failures, kept, heldBack);
    }
    done.push(step);
    if (step.action === 'create-group') createdHere.add(step.groupName.toLowerCase());
    if (step.action === 'create-policy') createdHere.add(step.policyArn);
    options.log({ event: 'step-done', action: step.action, step: describeStep(step) });
    if (isMutatingStep(step)) await options.afterChange?.({ step, phase: 'apply' });
  };

  const build = plan.steps.slice(0, split);
  return {
    build: () =>
      options.exclusive(objectLeaseKeys(build, state), async (checkHeld) => {
        for (const step of build) await run(step, checkHeld);
      }),
    finish: async () => {
      for (const step of plan.steps.slice(split)) await run(step);
      return done;
    },
  };
}

/**
 * The leases a set of steps needs: every group under the migration's path it creates, attaches to or joins,
 * and every migration-made policy it creates or attaches. Those are the objects other users' runs may
 * build, join, reuse or tear down at the same time; groups on other paths and AWS managed policies are
 * never created or torn down by the migration, so joining or attaching them needs no lease. Sorted, so that
 * every run takes its leases in the same order and no two runs wait for each other in a cycle.
 */
export function objectLeaseKeys(steps: readonly MigrationStep[], state: AccountState): string[] {
  const keys = new Set<string>();
  const owned = (groupName: string) => {
    const known = state.groups.find((g) => g.groupName.toLowerCase() === groupName.toLowerCase());
    return known === undefined || known.path === MIGRATION_GROUP_PATH;
  };
  for (const step of steps) {
    if (step.action === 'create-policy') keys.add(policyLeaseKey(step.policyName));
    if (
      step.action === 'create-group' ||
      step.action === 'attach-group-policy' ||
      step.action === 'add-user-to-group'
    ) {
      if (owned(step.groupName)) keys.add(groupLeaseKey(step.groupName));
    }
    if (step.action === 'attach-group-policy' && step.policyArn.includes(`:policy${MIGRATION_POLICY_PATH}`)) {
      keys.add(policyLeaseKey(step.policyArn.slice(step.policyArn.lastIndexOf('/') + 1)));
    }
  }
  return [...keys].sort();
}

/**
 * Whether a failed build step met another run's change rather than a fault: a content-named group or policy
 * that exists now, or a group or policy the plan found that has gone since (another run's rollback).
 */
function isConcurrentChange(step: MigrationStep, error: unknown, createdHere: ReadonlySet<string>): boolean {
  switch (step.action) {
    case 'create-policy':
    case 'create-group':
      return error instanceof EntityAlreadyExistsException;
    case 'attach-group-policy':
      return (
        error instanceof NoSuchEntityException &&
        !(createdHere.has(step.groupName.toLowerCase()) && createdHere.has(step.policyArn))
      );
    case 'add-user-to-group':
      return error instanceof NoSuchEntityException && !createdHere.has(step.groupName.toLowerCase());
    default:
      return false;
  }
}

async function apply(
  iam: IAMClient,
  step: MigrationStep,
  targets: ReadBackTargets,
  state: AccountState,
  options: ExecutionOptions,
): Promise<void> {
  switch (step.action) {
    case 'create-policy': {
      const inline = state.user.inlinePolicies.find((p) => p.policyName === step.fromInlinePolicy);
      if (inline === undefined)
        throw new Error(`inline policy ${step.fromInlinePolicy} is not in the state read`);
      await iam.send(
        new CreatePolicyCommand({
          PolicyName: step.policyName,
          Path: step.path,
          PolicyDocument: inline.document,
          Description:
            'Made by the IAM.2 policy migration from an inline user policy; named after a hash of its document.',
        }),
      );
      return;
    }
    case 'create-group':
      await iam.send(new CreateGroupCommand({ GroupName: step.groupName, Path: step.path }));
      return;
    case 'attach-group-policy':
      await iam.send(new AttachGroupPolicyCommand({ GroupName: step.groupName, PolicyArn: step.policyArn }));
      return;
    case 'add-user-to-group':
      await iam.send(new AddUserToGroupCommand({ GroupName: step.groupName, UserName: step.userName }));
      return;
    case 'detach-user-policy':
      await iam.send(new DetachUserPolicyCommand({ UserName: step.userName, PolicyArn: step.policyArn }));
      return;
    case 'delete-user-policy':
      await iam.send(new DeleteUserPolicyCommand({ UserName: step.userName, PolicyName: step.policyName }));
      return;
    case 'verify-groups-grant-all':
      await readBack(options, () => checkGroupsGrantAll(iam, targets));
      return;
    case 'verify-grants-unchanged':
      await readBack(options, () => checkNoDirectPolicies(iam, step.userName));
      return;
  }
}

/**
 * Undoes `done` in reverse order. After an undo fails it goes on with the rest, except what the change left
 * in place relies on: undoing that would open an access gap (the user leaving its new groups while a policy
 * of its own could not be restored) or leave a group its member relies on half-built.
 *
 * The user's own side (its policies, its memberships) is undone first, needing only the user's lease. The
 * groups and policies this run built are torn down after, holding their leases, where the check "nobody
 * else is in this group, no other group attaches this policy" and the teardown cannot be interleaved with
 * another run joining or reusing them. A group someone else is in by then stays whole; if the leases
 * cannot be had, what this run built stays in place (memberless, it grants nobody anything) and is reported.
 */
async function rollback(
  iam: IAMClient,
  done: readonly MigrationStep[],
  state: AccountState,
  options: ExecutionOptions,
): Promise<{
  undone: MigrationStep[];
  failures: { step: MigrationStep; error: string }[];
  kept: MigrationStep[];
  heldBack: string[];
}> {
  const undone: MigrationStep[] = [];
  const failures: { step: MigrationStep; error: string }[] = [];
  const kept: MigrationStep[] = [];
  const heldBack: string[] = [];
  const built = new Set(
    done.flatMap((s) =>
      s.action === 'attach-group-policy' || s.action === 'create-group' ? [s.groupName.toLowerCase()] : [],
    ),
  );
  const reversed = [...done].reverse().filter(isMutatingStep);
  const isShared = (s: MigrationStep) =>
    s.action === 'create-policy' || s.action === 'create-group' || s.action === 'attach-group-policy';

  const undoOne = async (step: MigrationStep, keepBecause: () => Promise<string | undefined>) => {
    if (kept.some((k) => reliesOn(k, step))) {
      kept.push(step);
      options.log({ event: 'undo-skipped', action: step.action, step: describeStep(step) });
      return;
    }
    try {
      const reason = await keepBecause();
      if (reason !== undefined) {
        if (!heldBack.includes(reason)) heldBack.push(reason);
        kept.push(step);
        options.log({ event: 'undo-skipped', action: step.action, step: describeStep(step) });
        return;
      }
      await undo(iam, step, state);
    } catch (error) {
      failures.push({ step, error: errorText(error) });
      kept.push(step);
      options.log({
        event: 'undo-failed',
        action: step.action,
        step: describeStep(step),
        error: errorText(error),
      });
      return;
    }
    undone.push(step);
    options.log({ event: 'step-undone', action: step.action, step: describeStep(step) });
    // Outside the try: a failing check in a test's hook must not pass for a failed undo.
    await options.afterChange?.({ step, phase: 'rollback' });
  };

  for (const step of reversed.filter((s) => !isShared(s))) await undoOne(step, async () => undefined);

  const shared = reversed.filter(isShared);
  if (shared.length === 0) return { undone, failures, kept, heldBack };
  try {
    await options.exclusive(objectLeaseKeys(shared, state), async () => {
      const othersIn = new Map<string, readonly string[]>();
      for (const step of shared) {
        await undoOne(step, async () => {
          if (step.action === 'create-policy') {
            const users = await policyAttachments(iam, step.policyArn);
            return users > 0 ? `policy ${step.policyArn} is attached elsewhere now` : undefined;
          }
          const key = step.groupName.toLowerCase();
          if (!built.has(key)) return undefined;
          let others = othersIn.get(key);
          if (others === undefined) {
            const members = await groupMembers(iam, step.groupName);
            others = members.filter((m) => m.toLowerCase() !== state.user.userName.toLowerCase());
            othersIn.set(key, others);
          }
          return others.length > 0
            ? `group ${step.groupName} has other members now (${others.join(', ')})`
            : undefined;
        });
      }
    });
  } catch (error) {
    // No lease: leave every built group and policy as it is rather than tear it down unguarded.
    const left = shared.filter((s) => !undone.includes(s) && !kept.includes(s));
    kept.push(...left);
    heldBack.push(`the groups and policies this run built were left in place (${errorText(error)})`);
  }
  return { undone, failures, kept, heldBack };
}

/** How many groups, users and roles a policy is attached to now. */
async function policyAttachments(iam: IAMClient, policyArn: string): Promise<number> {
  let count = 0;
  let marker: string | undefined;
  do {
    const page = await iam.send(new ListEntitiesForPolicyCommand({ PolicyArn: policyArn, Marker: marker }));
    count +=
      (page.PolicyGroups?.length ?? 0) + (page.PolicyUsers?.length ?? 0) + (page.PolicyRoles?.length ?? 0);
    marker = page.IsTruncated ? page.Marker : undefined;
  } while (marker !== undefined);
  return count;
}

/** Whether `kept`, a change left in place, needs the earlier change `earlier` to stay. */
function reliesOn(kept: MigrationStep, earlier: MigrationStep): boolean {
  const sameGroup = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();
  switch (kept.action) {
    case 'detach-user-policy':
    case 'delete-user-policy':
      // The user lacks one of its own policies: only its groups give it now.
      return (
        earlier.action === 'create-policy' ||
        earlier.action === 'create-group' ||
        earlier.action === 'attach-group-policy' ||
        earlier.action === 'add-user-to-group'
      );
    case 'add-user-to-group':
      return (
        (earlier.action === 'create-group' || earlier.action === 'attach-group-policy') &&
        sameGroup(earlier.groupName, kept.groupName)
      );
    case 'attach-group-policy':
      return (
        (earlier.action === 'create-group' && sameGroup(earlier.groupName, kept.groupName)) ||
        (earlier.action === 'create-policy' && earlier.policyArn === kept.policyArn)
      );
    default:
      return false;
  }
}

async function undo(iam: IAMClient, step: MigrationStep, state: AccountState): Promise<void> {
  switch (step.action) {
    case 'create-policy':
      await iam.send(new DeletePolicyCommand({ PolicyArn: step.policyArn }));
      return;
    case 'create-group':
      await iam.send(new DeleteGroupCommand({ GroupName: step.groupName }));
      return;
    case 'attach-group-policy':
      await iam.send(new DetachGroupPolicyCommand({ GroupName: step.groupName, PolicyArn: step.policyArn }));
      return;
    case 'add-user-to-group':
      await iam.send(new RemoveUserFromGroupCommand({ GroupName: step.groupName, UserName: step.userName }));
      return;
    case 'detach-user-policy':
      await iam.send(new AttachUserPolicyCommand({ UserName: step.userName, PolicyArn: step.policyArn }));
      return;
    case 'delete-user-policy': {
      const inline = state.user.inlinePolicies.find((p) => p.policyName === step.policyName);
      if (inline === undefined) throw new Error(`inline policy ${step.policyName} is not in the state read`);
      await iam.send(
        new PutUserPolicyCommand({
          UserName: step.userName,
          PolicyName: step.policyName,
          PolicyDocument: inline.document,
        }),
      );
      return;
    }
    case 'verify-groups-grant-all':
    case 'verify-grants-unchanged':
      return;
  }
}

/**
 * Runs `check` until it finds no problem, waiting longer each time: IAM is eventually consistent, so a change
 * just made may not be visible yet.
 *
 * @see https://docs.aws.amazon.com/IAM/latest/UserGuide/troubleshoot_general.html#troubleshoot_general_eventual-consistency
 */
async function readBack(options: ExecutionOptions, check: () => Promise<string | undefined>): Promise<void> {
  const attempts = options.readBackAttempts ?? 6;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((done) => setTimeout(done, ms)));
  let last = 'not read';
  for (let attempt = 1; attempt <= attempts; attempt++) {
    const found = await check();
    if (found === undefined) return;
    last = found;
    if (attempt < attempts) await sleep(Math.min(500 * 2 ** (attempt - 1), 8000));
  }
  throw new Error(`read-back check failed after ${attempts} attempts: ${last}`);
}

function errorText(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
