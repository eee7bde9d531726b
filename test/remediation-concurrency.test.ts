import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type IAMClient, ListPoliciesCommand } from '@aws-sdk/client-iam';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clientsFor, EMULATOR_ACCOUNT_ID, type Emulator, startEmulator } from '../local/emulator.js';
import { REPO_ROOT } from '../local/python-env.js';
import { LEASE_PATH } from '../remediation/lease.js';
import { migrateUserPolicies } from '../remediation/migrate.js';
import { MIGRATION_GROUP_PATH } from '../remediation/naming.js';
import { parseRuleParameters } from '../rule/parameters.js';
import { EMULATOR_CLI_ENV, runCli } from './support/cli.js';
import { type FaultProxy, startFaultProxy } from './support/fault-proxy.js';
import { type MessyAccount, messyAccount, seededRandom } from './support/messy-account.js';
import {
  effectiveGrants,
  emptyAccount,
  type Inventory,
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
 */

let emulator: Emulator;
let iam: IAMClient;
let proxy: FaultProxy;
const work = mkdtempSync(join(tmpdir(), 'migration-runs-'));

beforeAll(async () => {
  emulator = await startEmulator();
  iam = clientsFor(emulator.endpoint).iam;
  proxy = await startFaultProxy(emulator.endpoint);
});
afterAll(async () => {
  await proxy?.stop();
  await emulator?.stop();
});

interface RunOutcome {
  readonly userName: string;
  readonly status?: string;
  readonly error?: string;
  readonly name?: string;
}

/** Runs each list of user names in its own process (test/support/migration-worker.ts), all at once. */
async function runInProcesses(
  endpoint: string,
  lists: readonly (readonly string[])[],
  concurrency: number,
  ruleParameters: Readonly<Record<string, string>> = {},
): Promise<RunOutcome[]> {
  const outcomes = await Promise.all(
    lists.map(
      (runs, i) =>
        new Promise<RunOutcome[]>((resolve, reject) => {
          const file = join(work, `job-${Date.now()}-${i}.json`);
          writeFileSync(file, JSON.stringify({ runs, concurrency, ruleParameters }));
          const child = spawn(
            process.execPath,
            ['--import', 'tsx', join(REPO_ROOT, 'test', 'support', 'migration-worker.ts'), endpoint, file],
            {
              cwd: REPO_ROOT,
              env: {
                ...process.env,
                ...EMULATOR_CLI_ENV,
                AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
              },
              stdio: ['ignore', 'pipe', 'pipe'],
            },
          );
          let out = '';
          let err = '';
          child.stdout.on('data', (c: Buffer) => {
            out += c.toString();
          });
          child.stderr.on('data', (c: Buffer) => {
            err += c.toString();
          });
          child.once('error', reject);
          child.once('close', (code) => {
            if (code !== 0) reject(new Error(`worker ${i} exited with ${code}: ${err}`));
            else
              resolve(
                out
                  .trim()
                  .split('\n')
                  .filter(Boolean)
                  .map((l) => JSON.parse(l) as RunOutcome),
              );
          });
        }),
    ),
  );
  return outcomes.flat();
}

/** The account-wide invariant after overlapping runs. */
async function expectAccountSafe(
  before: Inventory,
  grantsBefore: Record<string, string[]>,
  account?: MessyAccount,
): Promise<Inventory> {
  const after = await readInventory(iam);
  const grantsAfter = await effectiveGrants(iam, after);
  const changed = Object.keys(grantsBefore).filter(
    (u) => JSON.stringify(grantsBefore[u]) !== JSON.stringify(grantsAfter[u]),
  );
  expect(changed, 'users whose effective grants changed').toEqual([]);
  for (const name of account?.exempt ?? []) expect(after.users[name], name).toEqual(before.users[name]);
  // Groups outside the migration's path: same policies, and nobody joined them.
  for (const [name, g] of Object.entries(before.groups)) {
    if (g.path === MIGRATION_GROUP_PATH) continue;
    expect(after.groups[name], name).toEqual(g);
    const membersBefore = Object.keys(before.users).filter((u) => before.users[u]?.groups.includes(name));
    const membersAfter = Object.keys(after.users).filter((u) => after.users[u]?.groups.includes(name));
    expect(membersAfter, `members of ${name}`).toEqual(membersBefore);
  }
  // No debris: every migration group has a member, and no lease is left behind.
  for (const [name, g] of Object.entries(after.groups)) {
    if (g.path !== MIGRATION_GROUP_PATH) continue;
    expect(
      Object.values(after.users).some((u) => u.groups.includes(name)),
      `migration group ${name} has a member`,
    ).toBe(true);
  }
  const leases = await iam.send(new ListPoliciesCommand({ Scope: 'Local', PathPrefix: LEASE_PATH }));
  expect(leases.Policies ?? []).toEqual([]);
  return after;
}

/** Users with the same direct set end in the same groups: one set group per distinct set, not per run. */
function expectSameSetsShareGroups(before: Inventory, after: Inventory, users: readonly string[]): void {
  const bySet = new Map<string, Set<string>>();
  for (const u of users) {
    const b = before.users[u];
    if (b === undefined) continue;
    const key = JSON.stringify([b.managed, Object.values(b.inline).sort(), b.groups]);
    const groups = JSON.stringify(after.users[u]?.groups);
    bySet.set(key, (bySet.get(key) ?? new Set()).add(groups));
  }
  for (const [set, groups] of bySet) expect([...groups], `users with set ${set}`).toHaveLength(1);
}

function shuffled<T>(list: readonly T[], seed: number): T[] {
  const random = seededRandom(seed);
  const out = [...list];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}

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
    const after = await expectAccountSafe(before, grantsBefore);
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
    await expectAccountSafe(before, grantsBefore);
  });

  it('a run that cannot wait long enough reports in-progress, names the other run, and changes nothing', async () => {
    await emptyAccount(iam);
    await seedAccount(iam, { users: { dave: { managed: [S3, EC2] } } }, EMULATOR_ACCOUNT_ID);
    const first = migrateUserPolicies(iam, { userName: 'dave', dryRun: false }, undefined, {
      holder: 'the first run',
      // Slow read-backs keep the first run's lease held while the second looks.
      sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
      readBackAttempts: 1,
      afterChange: () => new Promise((r) => setTimeout(r, 150)),
    });
    await new Promise((r) => setTimeout(r, 100));
    const second = await migrateUserPolicies(iam, { userName: 'dave', dryRun: false }, undefined, {
      userLease: { ttlMs: 15 * 60_000, waitMs: 200 },
    });
    expect(second.status).toBe('in-progress');
    expect(second.changes).toEqual([]);
    expect(second.reasons?.[0]).toMatch(/holds the lease user-dave by the first run since/);
    expect((await first).status).toBe('migrated');
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
      // After the group is created, IAM's clock (as this run sees it) jumps 2 minutes: past half of 3.
      afterChange: async ({ step }) => {
        if (step.action === 'create-group') skew = 2 * 60_000;
      },
    }).catch((e: unknown) => e as Error);
    expect((failure as Error).message).toMatch(/more than half its 180 s life/);
    expect((failure as Error).message).toMatch(/the account is as it was before the run/);
    await expectAccountSafe(before, grantsBefore);
  });
});

describe('many overlapping runs on a messy account', () => {
  // Four messy accounts of 65 users (and 2 exempt ones), each user migrated twice at once by runs in
  // different processes: 4 x 134 = 536 overlapping runs, 520 of them for users with policies to move.
  it.each([1, 2, 3, 4])(
    'round %i of 4: 134 runs in 4 processes, 12 at a time each (every user twice, in different processes): no grant lost or gained, no run failed, exempt users refused',
    { timeout: 300_000 },
    async (round) => {
      await emptyAccount(iam);
      const account = messyAccount(65, round * 7);
      await seedAccount(iam, account.seed, EMULATOR_ACCOUNT_ID);
      const before = await readInventory(iam);
      const grantsBefore = await effectiveGrants(iam, before);
      const everyone = [...account.migratable, ...account.exempt];
      const twice = shuffled([...everyone, ...everyone], round);
      const lists = [0, 1, 2, 3].map((p) => twice.filter((_, i) => i % 4 === p));

      const outcomes = await runInProcesses(emulator.endpoint, lists, 12, account.ruleParameters);

      expect(outcomes).toHaveLength(134);
      expect(outcomes.filter((o) => o.error !== undefined)).toEqual([]);
      const byUser = new Map<string, string[]>();
      for (const o of outcomes)
        byUser.set(o.userName, [...(byUser.get(o.userName) ?? []), o.status as string]);
      for (const name of account.migratable) {
        expect(byUser.get(name)?.sort(), name).toEqual(['already-compliant', 'migrated']);
      }
      for (const name of account.exempt) expect(byUser.get(name), name).toEqual(['refused', 'refused']);
      const after = await expectAccountSafe(before, grantsBefore, account);
      for (const name of account.migratable) {
        expect(after.users[name], name).toMatchObject({ managed: [], inline: {} });
      }
      expectSameSetsShareGroups(before, after, account.migratable);
    },
  );

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
    await expectAccountSafe(before, grantsBefore, account);

    const retries = await Promise.all(
      failed.map((o) =>
        migrateUserPolicies(iam, { userName: o.userName, dryRun: false, ruleParameters: params }),
      ),
    );
    expect(retries.map((r) => r.status)).toEqual(Array(3).fill('migrated'));
    const after = await expectAccountSafe(before, grantsBefore, account);
    expectSameSetsShareGroups(before, after, account.migratable);
  });
});
