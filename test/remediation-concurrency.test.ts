import { AttachUserPolicyCommand, type IAMClient } from '@aws-sdk/client-iam';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clientsFor, EMULATOR_ACCOUNT_ID, type Emulator, startEmulator } from '../local/emulator.js';
import { acquireLease, isLeaseBusy, policySetLeaseKey, SET_LEASE } from '../remediation/lease.js';
import { migrateUserPolicies } from '../remediation/migrate.js';
import { planMigration } from '../remediation/plan.js';
import { readLiveState } from '../remediation/read-state.js';
import type { AccountState, IamQuotas } from '../remediation/state.js';
import { silentLogger } from '../rule/log.js';
import { parseRuleParameters } from '../rule/parameters.js';
import { EMULATOR_CLI_ENV, runCli } from './support/cli.js';
import { type FaultProxy, startFaultProxy } from './support/fault-proxy.js';
import { messyAccount } from './support/messy-account.js';
import { expectAccountSafe, expectSameSetsShareGroups } from './support/overlap.js';
import {
  effectiveGrants,
  emptyAccount,
  policyDocument,
  readInventory,
  seedAccount,
} from './support/remediation-account.js';

/**
 * Overlapping migrations, as they happen when an operator clicks Remediate while the automatic remediation
 * runs, when two deployments remediate one account, or when the CLI runs beside the Automation: separate
 * processes and concurrent runs in one process, for the same user and for users sharing policy sets, with
 * faults injected. After each, the whole account is checked: every user's effective grants are what they
 * were, exempt users and unrelated groups are untouched, no lease or memberless migration group is left.
 * The rounds of hundreds of runs in separate processes are in remediation-overlap-{a,b}.test.ts.
 */

let emulator: Emulator;
let iam: IAMClient;
let proxy: FaultProxy;

beforeAll(async () => {
  emulator = await startEmulator();
  iam = clientsFor(emulator.endpoint).iam;
  proxy = await startFaultProxy(emulator.endpoint);
});
afterAll(async () => {
  await proxy?.stop();
  await emulator?.stop();
});

const S3 = 'arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess';
const EC2 = 'arn:aws:iam::aws:policy/AmazonEC2ReadOnlyAccess';

describe('two or more runs for the same user at once', () => {
  it('two `remediate --apply` processes: one migrates, the other waits and finds nothing to do; no grant is lost', async () => {
    await emptyAccount(iam);
    await seedAccount(
      iam,
      { users: { alice: { managed: [S3, EC2], inline: { q: policyDocument('sqs:*') } }, bob: {} } },
      EMULATOR_ACCOUNT_ID,
    );
    const before = await readInventory(iam);
    const grantsBefore = await effectiveGrants(iam, before);
    const args = ['remediate', '--user', 'alice', '--apply', '--endpoint', emulator.endpoint];
    const runs = await Promise.all([runCli(args, EMULATOR_CLI_ENV), runCli(args, EMULATOR_CLI_ENV)]);

    expect(runs.map((r) => r.code)).toEqual([0, 0]);
    const said = runs.map((r) => r.stdout.split(' ')[0]).sort();
    expect(said).toEqual(['Migrated', 'Nothing']);
    const after = await expectAccountSafe(iam, before, grantsBefore);
    expect(after.users.alice).toMatchObject({ managed: [], inline: {} });
    expect(after.users.alice?.groups).toHaveLength(1);
  });

  it('four runs in one process for one user: one migrates, three find nothing to do', async () => {
    await emptyAccount(iam);
    await seedAccount(
      iam,
      { users: { carol: { managed: [S3], inline: { q: policyDocument('sns:*') } } } },
      EMULATOR_ACCOUNT_ID,
    );
    const before = await readInventory(iam);
    const grantsBefore = await effectiveGrants(iam, before);
    const results = await Promise.all(
      Array.from({ length: 4 }, () => migrateUserPolicies(iam, { userName: 'carol', dryRun: false })),
    );
    expect(results.map((r) => r.status).sort()).toEqual([
      'already-compliant',
      'already-compliant',
      'already-compliant',
      'migrated',
    ]);
    await expectAccountSafe(iam, before, grantsBefore);
  });

  it('a run that cannot wait long enough reports in-progress, names the other run, and changes nothing', async () => {
    await emptyAccount(iam);
    await seedAccount(iam, { users: { dave: { managed: [S3, EC2] } } }, EMULATOR_ACCOUNT_ID);
    let second: Awaited<ReturnType<typeof migrateUserPolicies>> | undefined;
    const first = await migrateUserPolicies(iam, { userName: 'dave', dryRun: false }, undefined, {
      holder: 'the first run',
      // While the first run holds dave's lease (after its first change), a second run for dave starts.
      afterChange: async ({ step }) => {
        if (step.action !== 'create-group') return;
        second = await migrateUserPolicies(iam, { userName: 'dave', dryRun: false }, undefined, {
          userLease: { ttlMs: 15 * 60_000, waitMs: 200 },
        });
      },
    });
    expect(second?.status).toBe('in-progress');
    expect(second?.changes).toEqual([]);
    expect(second?.reasons?.[0]).toMatch(/holds the lease user-dave by the first run since/);
    expect(first.status).toBe('migrated');
  });
});

describe('users with the same policy set at once', () => {
  it('runs for one set plan one at a time, each from a read taken under the set’s lease: they join what was built while they waited, and end in the same groups', async () => {
    await emptyAccount(iam);
    const shared = { managed: [S3, EC2], inline: { q: policyDocument('sns:Publish') } };
    await seedAccount(
      iam,
      { users: { ann: shared, cat: shared, fay: shared, ben: { managed: [S3, EC2] } } },
      EMULATOR_ACCOUNT_ID,
    );
    const before = await readInventory(iam);
    const grantsBefore = await effectiveGrants(iam, before);
    const live = await readLiveState(iam, { userName: 'ann' });
    const plan = planMigration(live?.state as AccountState, live?.quotas as IamQuotas, {});
    if (plan.kind !== 'steps') throw new Error(`ann should have steps to run, got ${plan.kind}`);
    const setKey = policySetLeaseKey(plan.directGrants);
    const holder = await acquireLease(iam, setKey, SET_LEASE, { holder: 'the test', log: silentLogger });
    if (isLeaseBusy(holder)) throw new Error('the set lease should be free');

    // ann and cat read and plan while the set is held, then wait for it.
    const planned: Promise<void>[] = [];
    const start = (userName: string) => {
      let onPlanned: () => void = () => {};
      planned.push(new Promise<void>((r) => (onPlanned = r)));
      const log = (entry: Record<string, unknown>) => {
        if (entry.event === 'planned') onPlanned();
      };
      return migrateUserPolicies(iam, { userName, dryRun: false }, log);
    };
    const runs = [start('ann'), start('cat')];
    await Promise.all(planned);
    // fay cannot wait as long as the set is held: in-progress, naming the set's lease, nothing changed.
    const fay = await migrateUserPolicies(iam, { userName: 'fay', dryRun: false }, undefined, {
      setLease: { ...SET_LEASE, waitMs: 200 },
    });
    expect(fay.status).toBe('in-progress');
    expect(fay.reasons?.[0]).toContain(`holds the lease ${setKey} by the test`);
    // Meanwhile ben's run (another set) builds a group for part of their set.
    expect((await migrateUserPolicies(iam, { userName: 'ben', dryRun: false })).status).toBe('migrated');
    const bensGroups = (await readInventory(iam)).users.ben?.groups ?? [];
    await holder.release();

    expect((await Promise.all(runs)).map((r) => r.status)).toEqual(['migrated', 'migrated']);
    expect((await migrateUserPolicies(iam, { userName: 'fay', dryRun: false })).status).toBe('migrated');
    const after = await expectAccountSafe(iam, before, grantsBefore);
    expect(after.users.ann?.groups).toEqual(expect.arrayContaining(bensGroups));
    expect(after.users.ann?.groups).toHaveLength(2);
    expect(after.users.cat?.groups).toEqual(after.users.ann?.groups);
    expect(after.users.fay?.groups).toEqual(after.users.ann?.groups);
  });
});

describe('a user whose policies change while its run waits for its set', () => {
  it('plans again for the new set, and migrates every policy the user has by then', async () => {
    await emptyAccount(iam);
    await seedAccount(iam, { users: { gus: { managed: [S3] } } }, EMULATOR_ACCOUNT_ID);
    const live = await readLiveState(iam, { userName: 'gus' });
    const plan = planMigration(live?.state as AccountState, live?.quotas as IamQuotas, {});
    if (plan.kind !== 'steps') throw new Error(`gus should have steps to run, got ${plan.kind}`);
    const holder = await acquireLease(iam, policySetLeaseKey(plan.directGrants), SET_LEASE, {
      holder: 'the test',
      log: silentLogger,
    });
    if (isLeaseBusy(holder)) throw new Error('the set lease should be free');
    let planned: () => void = () => {};
    const hasPlanned = new Promise<void>((r) => (planned = r));
    const attempts: unknown[] = [];
    const run = migrateUserPolicies(iam, { userName: 'gus', dryRun: false }, (entry) => {
      if (entry.event !== 'planned') return;
      attempts.push(entry.attempt);
      planned();
    });
    await hasPlanned;
    // Someone attaches a second policy by hand while the run waits for the set it read first.
    await iam.send(new AttachUserPolicyCommand({ UserName: 'gus', PolicyArn: EC2 }));
    await holder.release();
    const result = await run;
    expect(result.status).toBe('migrated');
    // Read and planned once, again under the old set's lease (which no longer fits), then twice for the new set.
    expect(attempts).toEqual([1, 1, 2, 2]);
    const detached = result.changes.filter((s) => s.action === 'detach-user-policy').map((s) => s.policyArn);
    expect(detached.sort()).toEqual([EC2, S3].sort());
    expect((await readInventory(iam)).users.gus).toMatchObject({ managed: [], inline: {} });
  });
});

describe('a lease held too long', () => {
  it('a run that held a group’s lease past half its life stops and rolls back, before another run may take it over', async () => {
    await emptyAccount(iam);
    await seedAccount(iam, { users: { erin: { managed: [S3, EC2] } } }, EMULATOR_ACCOUNT_ID);
    const before = await readInventory(iam);
    const grantsBefore = await effectiveGrants(iam, before);
    let skew = 0;
    const failure = await migrateUserPolicies(iam, { userName: 'erin', dryRun: false }, undefined, {
      now: () => Date.now() + skew,
      // After the group is created, IAM's clock (as this run sees it) jumps 3 minutes: past half of 5.
      afterChange: async ({ step }) => {
        if (step.action === 'create-group') skew = 3 * 60_000;
      },
    }).catch((e: unknown) => e as Error);
    expect((failure as Error).message).toMatch(/more than half its 300 s life/);
    expect((failure as Error).message).toMatch(/the account is as it was before the run/);
    await expectAccountSafe(iam, before, grantsBefore);
  });
});

describe('many overlapping runs on a messy account', () => {
  it('a wave of 48 concurrent runs through a faulty connection: only the runs hit by a fault fail, each rolled back, and a retry completes', {
    timeout: 600_000,
  }, async () => {
    await emptyAccount(iam);
    const account = messyAccount(48, 3);
    await seedAccount(iam, account.seed, EMULATOR_ACCOUNT_ID);
    const before = await readInventory(iam);
    const grantsBefore = await effectiveGrants(iam, before);
    proxy.clear();
    proxy.failOnce('DetachUserPolicy', 9);
    proxy.failOnce('AddUserToGroup', 5);
    proxy.failOnce('CreateGroup', 3);
    const params = parseRuleParameters(account.ruleParameters);

    const first = await Promise.all(
      account.migratable.map((userName) =>
        migrateUserPolicies(
          clientsFor(proxy.endpoint).iam,
          { userName, dryRun: false, ruleParameters: params },
          undefined,
          {
            sleep: (ms) => new Promise((r) => setTimeout(r, Math.min(ms, 50))),
          },
        ).then(
          (r) => ({ userName, status: r.status }),
          (e: Error) => ({ userName, error: e.name }),
        ),
      ),
    );
    expect(proxy.failed.sort()).toEqual(['AddUserToGroup', 'CreateGroup', 'DetachUserPolicy']);
    const failed = first.filter((o) => 'error' in o);
    expect(failed.map((o) => (o as { error: string }).error)).toEqual(Array(3).fill('MigrationFailedError'));
    expect(first.filter((o) => 'status' in o && o.status === 'migrated')).toHaveLength(
      account.migratable.length - 3,
    );
    await expectAccountSafe(iam, before, grantsBefore, account);

    const retries = await Promise.all(
      failed.map((o) =>
        migrateUserPolicies(iam, { userName: o.userName, dryRun: false, ruleParameters: params }),
      ),
    );
    expect(retries.map((r) => r.status)).toEqual(Array(3).fill('migrated'));
    const after = await expectAccountSafe(iam, before, grantsBefore, account);
    expectSameSetsShareGroups(before, after, account.migratable);
  });
});
