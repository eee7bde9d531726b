import type { IAMClient } from '@aws-sdk/client-iam';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { clientsFor, EMULATOR_ACCOUNT_ID, type Emulator, startEmulator } from '../local/emulator.js';
import { MigrationFailedError } from '../remediation/execute.js';
import { describeStep, migrateUserPolicies } from '../remediation/migrate.js';
import { silentLogger } from '../rule/log.js';
import { type FaultProxy, INJECTED_ERROR_CODE, startFaultProxy } from './support/fault-proxy.js';
import {
  effectiveGrants,
  emptyAccount,
  expectNoGapNoSpread,
  policyDocument,
  readInventory,
  seedAccount,
} from './support/remediation-account.js';

const S3 = 'arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess';
const EC2 = 'arn:aws:iam::aws:policy/AmazonEC2ReadOnlyAccess';

/** alice may join readers: the operator lists it (a group outside /policy-migration/ is joined only then). */
const ALICE = { userName: 'alice', joinableGroups: ['readers'] };

let emulator: Emulator;
let iam: IAMClient;
let proxy: FaultProxy;
let proxied: IAMClient;

beforeAll(async () => {
  emulator = await startEmulator();
  iam = clientsFor(emulator.endpoint).iam;
  proxy = await startFaultProxy(emulator.endpoint);
  proxied = clientsFor(proxy.endpoint).iam;
});
afterAll(async () => {
  await proxy?.stop();
  await emulator?.stop();
});

/**
 * alice has two managed and two inline policies; one of the managed ones (EC2) is all that the existing
 * group "readers" (bob's) grants, so alice joins it; the rest goes to a new policy-set group. The plan uses
 * every mutating action: CreatePolicy x2, CreateGroup x1, AttachGroupPolicy x3, AddUserToGroup x2,
 * DetachUserPolicy x2, DeleteUserPolicy x2.
 */
beforeEach(async () => {
  await emptyAccount(iam);
  await seedAccount(
    iam,
    {
      groups: { readers: { managed: [EC2] } },
      users: {
        alice: {
          managed: [S3, EC2],
          inline: { queues: policyDocument('sqs:*'), topics: policyDocument('sns:Publish') },
        },
        bob: { groups: ['readers'] },
      },
    },
    EMULATOR_ACCOUNT_ID,
  );
  proxy.clear();
});

const MUTATING_FAULTS: [action: string, occurrence: number][] = [
  ['CreatePolicy', 1],
  ['CreatePolicy', 2],
  ['CreateGroup', 1],
  ['AttachGroupPolicy', 1],
  ['AttachGroupPolicy', 3],
  ['AddUserToGroup', 1],
  ['AddUserToGroup', 2],
  ['DetachUserPolicy', 1],
  ['DetachUserPolicy', 2],
  ['DeleteUserPolicy', 1],
  ['DeleteUserPolicy', 2],
  // The read-backs before anything is removed from the user: its groups, then readers' and the new group's
  // policies; and at the end, the user's own policies.
  ['ListGroupsForUser', 1],
  ['ListAttachedGroupPolicies', 1],
  ['ListAttachedGroupPolicies', 2],
  ['ListAttachedUserPolicies', 1],
  ['ListUserPolicies', 1],
];

describe('a failure at any step is rolled back without an access gap', () => {
  it('the plan these faults target uses every mutating action the stated number of times', async () => {
    const { plan } = await migrateUserPolicies(iam, { ...ALICE, dryRun: true });
    const count = (action: string) => plan.filter((s) => s.action === action).length;
    expect([
      count('create-policy'),
      count('create-group'),
      count('attach-group-policy'),
      count('add-user-to-group'),
      count('detach-user-policy'),
      count('delete-user-policy'),
    ]).toEqual([2, 1, 3, 2, 2, 2]);
  });

  it.each(MUTATING_FAULTS)(
    '%s failing (call %i) restores the account exactly; a re-run then succeeds',
    async (action, occurrence) => {
      const before = await readInventory(iam);
      const grantsBefore = await effectiveGrants(iam, before);
      const phases: string[] = [];
      proxy.failOnce(action, occurrence);

      const failure = await migrateUserPolicies(proxied, { ...ALICE, dryRun: false }, silentLogger, {
        sleep: async () => {},
        afterChange: async ({ step, phase }) => {
          phases.push(phase);
          await expectNoGapNoSpread(iam, grantsBefore, 'alice', `after ${phase} of "${describeStep(step)}"`);
        },
      }).catch((error: unknown) => error);

      expect(proxy.failed).toEqual([action]);
      expect(failure).toBeInstanceOf(MigrationFailedError);
      const error = failure as MigrationFailedError;
      expect(error.message).toContain(INJECTED_ERROR_CODE);
      expect(error.message).toMatch(/the account is as it was before the run/);
      expect(error.rollbackFailures).toEqual([]);
      expect(phases.filter((p) => p === 'rollback')).toHaveLength(phases.filter((p) => p === 'apply').length);
      expect(await readInventory(iam)).toEqual(before);

      const retry = await migrateUserPolicies(proxied, { ...ALICE, dryRun: false });
      expect(retry.status).toBe('migrated');
      const after = await readInventory(iam);
      expect(await effectiveGrants(iam, after)).toEqual(grantsBefore);
      expect(after.users.alice).toMatchObject({ managed: [], inline: {} });
      expect(after.users.alice?.groups).toContain('readers');
      expect(after.groups.readers).toEqual(before.groups.readers);
    },
  );

  it("a rollback leaves a new group whole when another user's migration joined it meanwhile", async () => {
    await emptyAccount(iam);
    await seedAccount(
      iam,
      { users: { alice: { managed: [S3, EC2] }, bob: { managed: [S3, EC2] } } },
      EMULATOR_ACCOUNT_ID,
    );
    const grantsBefore = await effectiveGrants(iam);
    proxy.failOnce('DetachUserPolicy', 2);
    let bobs: string | undefined;

    const failure = await migrateUserPolicies(proxied, { userName: 'alice', dryRun: false }, silentLogger, {
      sleep: async () => {},
      afterChange: async ({ step, phase }) => {
        // Once alice's group is built and she is in it (and its lease released), a run for bob, who
        // has the same set, finds the group complete and joins it.
        if (phase === 'apply' && step.action === 'detach-user-policy') {
          bobs = (await migrateUserPolicies(iam, { userName: 'bob', dryRun: false })).status;
        }
      },
    }).catch((e: unknown) => e);

    expect(bobs).toBe('migrated');
    expect(failure).toBeInstanceOf(MigrationFailedError);
    const error = failure as MigrationFailedError;
    expect(error.message).toMatch(/has other members now \(bob\)/);
    expect(error.keptInPlace.map((s) => s.action)).toEqual([
      'attach-group-policy',
      'attach-group-policy',
      'create-group',
    ]);
    const now = await readInventory(iam);
    expect(now.users.bob).toMatchObject({ managed: [], inline: {} });
    expect(now.users.alice).toMatchObject({ managed: [EC2, S3].sort(), groups: [] });
    expect(await effectiveGrants(iam, now)).toEqual(grantsBefore);

    const retry = await migrateUserPolicies(iam, { userName: 'alice', dryRun: false });
    expect(retry.status).toBe('migrated');
    const after = await readInventory(iam);
    expect(after.users.alice?.groups).toEqual(after.users.bob?.groups);
  });

  it('a change IAM does not show yet is read again after a growing wait, and the run succeeds', async () => {
    const waits: number[] = [];
    proxy.failOnce('ListAttachedGroupPolicies', 1, 'NoSuchEntity');
    proxy.failOnce('ListUserPolicies', 1, 'NoSuchEntity');
    proxy.failOnce('ListUserPolicies', 2, 'NoSuchEntity');
    const result = await migrateUserPolicies(proxied, { ...ALICE, dryRun: false }, silentLogger, {
      sleep: async (ms) => {
        waits.push(ms);
      },
    });
    expect(result.status).toBe('migrated');
    expect(proxy.failed).toEqual(['ListAttachedGroupPolicies', 'ListUserPolicies', 'ListUserPolicies']);
    expect(waits).toEqual([500, 500, 1000]);
  });

  it('a change IAM never shows fails the read-back after the set attempts, before anything is removed', async () => {
    const before = await readInventory(iam);
    proxy.failOnce('ListGroupsForUser', 1, 'NoSuchEntity');
    proxy.failOnce('ListGroupsForUser', 2, 'NoSuchEntity');
    const failure = await migrateUserPolicies(proxied, { ...ALICE, dryRun: false }, silentLogger, {
      sleep: async () => {},
      readBackAttempts: 2,
    }).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(MigrationFailedError);
    expect((failure as MigrationFailedError).message).toMatch(
      /verify that alice's groups grant all its direct policies.*read-back check failed after 2 attempts: not visible yet/,
    );
    expect(proxy.actions).not.toContain('DetachUserPolicy');
    expect(await readInventory(iam)).toEqual(before);
  });

  it('a rollback step that fails too is reported with what to undo by hand, and the user keeps its grants', async () => {
    const grantsBefore = await effectiveGrants(iam);
    proxy.failOnce('DetachUserPolicy', 1);
    proxy.failOnce('RemoveUserFromGroup', 1);

    const failure = await migrateUserPolicies(proxied, { ...ALICE, dryRun: false }).catch((e: unknown) => e);

    expect(proxy.failed).toEqual(['DetachUserPolicy', 'RemoveUserFromGroup']);
    expect(failure).toBeInstanceOf(MigrationFailedError);
    const error = failure as MigrationFailedError;
    expect(error.rollbackFailures.map((f) => f.step.action)).toContain('add-user-to-group');
    expect(error.message).toMatch(
      /rollback left \d+ change\(s\) in place so that nobody lacks or gains a grant \(could not undo "add alice to group policy-set-[0-9a-f]+": InjectedFault/,
    );
    const now = await effectiveGrants(iam);
    expect(now.alice).toEqual(expect.arrayContaining(grantsBefore.alice ?? []));
    expect(now.bob).toEqual(grantsBefore.bob);
  });

  it('a user policy that cannot be restored keeps the user in every new group: no access gap at any moment', async () => {
    const grantsBefore = await effectiveGrants(iam);
    // Both managed policies are detached, the first inline deletion fails, and re-attaching fails once.
    proxy.failOnce('DeleteUserPolicy', 1);
    proxy.failOnce('AttachUserPolicy', 1);

    const failure = await migrateUserPolicies(proxied, { ...ALICE, dryRun: false }, silentLogger, {
      sleep: async () => {},
      afterChange: ({ step, phase }) =>
        expectNoGapNoSpread(iam, grantsBefore, 'alice', `after ${phase} of "${describeStep(step)}"`),
    }).catch((e: unknown) => e);

    expect(proxy.failed).toEqual(['DeleteUserPolicy', 'AttachUserPolicy']);
    expect(failure).toBeInstanceOf(MigrationFailedError);
    const error = failure as MigrationFailedError;
    expect(error.rollbackFailures.map((f) => f.step.action)).toEqual(['detach-user-policy']);
    expect(error.keptInPlace.map((s) => s.action)).toContain('add-user-to-group');
    const now = await readInventory(iam);
    expect(now.users.alice?.groups).toHaveLength(2);
    expect((await effectiveGrants(iam, now)).alice).toEqual(expect.arrayContaining(grantsBefore.alice ?? []));
  });

  it.each([
    ['a user policy', 'DeleteUserPolicy', 'AttachUserPolicy'],
    ['a group membership', 'DetachUserPolicy', 'RemoveUserFromGroup'],
    ['a group attachment', 'AddUserToGroup', 'DetachGroupPolicy'],
    ['a new group', 'AddUserToGroup', 'DeleteGroup'],
    ['a new group whose members it could not read', 'DetachUserPolicy', 'GetGroup'],
  ])(
    'after a rollback that could not undo %s, a re-run completes the migration',
    async (_what, failing, undoFailing) => {
      const before = await readInventory(iam);
      const grantsBefore = await effectiveGrants(iam, before);
      proxy.failOnce(failing, failing === 'AddUserToGroup' ? 2 : 1);
      proxy.failOnce(undoFailing, 1);
      const failure = await migrateUserPolicies(proxied, { ...ALICE, dryRun: false }, silentLogger, {
        sleep: async () => {},
      }).catch((e: unknown) => e);
      expect(proxy.failed).toEqual([failing, undoFailing]);
      expect(failure).toBeInstanceOf(MigrationFailedError);
      expect((failure as MigrationFailedError).message).toMatch(/Run again to complete the migration/);

      const retry = await migrateUserPolicies(iam, { ...ALICE, dryRun: false }, silentLogger, {
        afterChange: ({ step }) =>
          expectNoGapNoSpread(iam, grantsBefore, 'alice', `after re-run "${describeStep(step)}"`),
      });
      expect(retry.status).toBe('migrated');
      const after = await readInventory(iam);
      expect(await effectiveGrants(iam, after)).toEqual(grantsBefore);
      expect(after.users.alice).toMatchObject({ managed: [], inline: {} });
      expect(after.groups.readers).toEqual(before.groups.readers);
    },
  );
});
