import type { IAMClient } from '@aws-sdk/client-iam';
import * as z from 'zod';
import { type Logger, silentLogger } from '../rule/log.js';
import { IAM_GROUP_NAME, IAM_USER_NAME } from '../rule/parameters.js';
import { parseOrThrow } from '../rule/schemas/config-rule-event.js';
import { type ExecutionOptions, executePlan } from './execute.js';
import { planMigration } from './plan.js';
import { readLiveState, type UserSelector } from './read-state.js';
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
   */
  readonly status: 'already-compliant' | 'planned' | 'migrated' | 'refused' | 'user-not-found';
  readonly user: { readonly userName: string; readonly userId: string };
  readonly plan: readonly MigrationStep[];
  readonly changes: readonly MigrationStep[];
  readonly reasons?: readonly string[];
}

/**
 * Moves one IAM user's directly attached and inline policies to groups, without changing what the user or
 * anyone else can do (see plan.ts for the rules). Reads live state every time, because Config remediation
 * can fire on users that are already compliant and retries: a re-run after success is a no-op, a re-run
 * after a rolled-back failure plans the same again, and one after a rollback that had to leave changes in
 * place completes the migration from them.
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
  execution: Omit<ExecutionOptions, 'log'> = {},
): Promise<MigrationResult> {
  const valid = parseOrThrow(MigrationRequestSchema, request, 'migration request');
  const selector: UserSelector =
    valid.userId !== undefined ? { userId: valid.userId } : { userName: valid.userName as string };
  const live = await readLiveState(iam, selector);
  if (live === undefined) {
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
  const { state, quotas } = live;
  const user = { userName: state.user.userName, userId: state.user.userId };
  const plan = planMigration(state, quotas, { groupName: valid.groupName });
  log({ event: 'planned', userName: user.userName, outcome: plan.kind, dryRun: valid.dryRun });

  switch (plan.kind) {
    case 'already-compliant':
      return { status: 'already-compliant', user, plan: [], changes: [] };
    case 'refused':
      log({ event: 'refused', userName: user.userName, reasons: plan.reasons });
      return { status: 'refused', user, plan: [], changes: [], reasons: plan.reasons };
    case 'steps': {
      if (valid.dryRun) {
        for (const step of plan.steps) log({ event: 'plan-step', step: describeStep(step) });
        return { status: 'planned', user, plan: plan.steps, changes: [] };
      }
      const changes = await executePlan(iam, plan, state, { ...execution, log });
      return { status: 'migrated', user, plan: plan.steps, changes };
    }
  }
}
