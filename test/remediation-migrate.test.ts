import { GetAccountSummaryCommand, type IAMClient, ListUsersCommand } from '@aws-sdk/client-iam';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { countCalls } from '../bench/call-counter.js';
import { clientsFor, EMULATOR_ACCOUNT_ID, type Emulator, startEmulator } from '../local/emulator.js';
import {
  describeStep,
  MIGRATION_GROUP_PATH,
  MIGRATION_POLICY_PATH,
  type MigrationRequest,
  type MigrationResult,
  migrateUserPolicies,
} from '../remediation/migrate.js';
import { silentLogger } from '../rule/log.js';
import { type FaultProxy, startFaultProxy } from './support/fault-proxy.js';
import {
  effectiveGrants,
  emptyAccount,
  expectNoGapNoSpread,
  expectWithinQuotas,
  type Inventory,
  policyDocument,
  readInventory,
  type Seed,
  seedAccount,
} from './support/remediation-account.js';

const S3 = 'arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess';
const EC2 = 'arn:aws:iam::aws:policy/AmazonEC2ReadOnlyAccess';
const ADMIN = 'arn:aws:iam::aws:policy/AdministratorAccess';
const SQS = policyDocument('sqs:*');

let emulator: Emulator;
let iam: IAMClient;
let proxy: FaultProxy;
let proxied: IAMClient;
let quotas: { perGroup: number; perUser: number };

beforeAll(async () => {
  emulator = await startEmulator();
  iam = clientsFor(emulator.endpoint).iam;
  proxy = await startFaultProxy(emulator.endpoint);
  proxied = clientsFor(proxy.endpoint).iam;
  const summary = (await iam.send(new GetAccountSummaryCommand({}))).SummaryMap ?? {};
  quotas = { perGroup: summary.AttachedPoliciesPerGroupQuota ?? 0, perUser: summary.GroupsPerUserQuota ?? 0 };
});
afterAll(async () => {
  await proxy?.stop();
  await emulator?.stop();
});
beforeEach(async () => {
  await emptyAccount(iam);
  proxy.clear();
});

/**
 * Runs the migration and checks the invariants over the whole account: after every single change the user
 * lacks nothing it had and nobody else's grants moved; at the end everyone has exactly the grants they had,
 * quotas hold, and a run that did not migrate changed nothing at all.
 */
async function migrateChecked(
  request: MigrationRequest,
  userName: string,
  migrating: IAMClient = iam,
): Promise<{ result: MigrationResult; before: Inventory; after: Inventory }> {
  const before = await readInventory(iam);
  const grantsBefore = await effectiveGrants(iam, before);
  const result = await migrateUserPolicies(migrating, request, silentLogger, {
    afterChange: ({ step }) =>
      expectNoGapNoSpread(iam, grantsBefore, userName, `after "${describeStep(step)}"`),
  });
  const after = await readInventory(iam);
  expect(await effectiveGrants(iam, after)).toEqual(grantsBefore);
  expectWithinQuotas(after, quotas);
  if (result.status === 'migrated') {
    expect(after.users[userName]).toMatchObject({ managed: [], inline: {} });
  } else {
    expect(after).toEqual(before);
    expect(result.changes).toEqual([]);
  }
  return { result, before, after };
}

const newGroups = (before: Inventory, after: Inventory) =>
  Object.keys(after.groups).filter((g) => before.groups[g] === undefined);

describe('migrating a user against the emulator', () => {
  it('moves a managed and an inline policy to one policy-set group under the dedicated path', async () => {
    await seedAccount(
      iam,
      { users: { alice: { managed: [S3], inline: { queues: SQS } } } },
      EMULATOR_ACCOUNT_ID,
    );
    const { result, before, after } = await migrateChecked({ userName: 'alice', dryRun: false }, 'alice');
    expect(result.status).toBe('migrated');
    const [made] = newGroups(before, after);
    expect(made).toMatch(/^policy-set-[0-9a-f]{24}$/);
    expect(after.groups[made as string]?.path).toBe(MIGRATION_GROUP_PATH);
    expect(after.users.alice?.groups).toEqual([made]);
  });

  it('finds the user by the user ID AWS Config passes', async () => {
    await seedAccount(
      iam,
      { users: { alice: { managed: [S3] }, bob: { managed: [EC2] } } },
      EMULATOR_ACCOUNT_ID,
    );
    const users = (await iam.send(new ListUsersCommand({}))).Users ?? [];
    const aliceId = users.find((u) => u.UserName === 'alice')?.UserId as string;
    const { result } = await migrateChecked({ userId: aliceId, dryRun: false }, 'alice');
    expect(result).toMatchObject({ status: 'migrated', user: { userName: 'alice', userId: aliceId } });
  });

  it('a shared group with other members is neither joined nor changed when it grants more', async () => {
    await seedAccount(
      iam,
      {
        groups: { devs: { managed: [S3, EC2] } },
        users: { alice: { managed: [S3] }, bob: { groups: ['devs'] } },
      },
      EMULATOR_ACCOUNT_ID,
    );
    const { result, before, after } = await migrateChecked({ userName: 'alice', dryRun: false }, 'alice');
    expect(result.status).toBe('migrated');
    expect(after.groups.devs).toEqual(before.groups.devs);
    expect(after.users.alice?.groups).not.toContain('devs');
  });

  it('a second user with the same policies joins the group the first one created', async () => {
    await seedAccount(
      iam,
      {
        users: {
          alice: { managed: [S3], inline: { a: SQS } },
          bob: { managed: [S3], inline: { b: policyDocument('sqs:*', 2) } },
        },
      },
      EMULATOR_ACCOUNT_ID,
    );
    const first = await migrateChecked({ userName: 'alice', dryRun: false }, 'alice');
    const second = await migrateChecked({ userName: 'bob', dryRun: false }, 'bob');
    expect(newGroups(second.before, second.after)).toEqual([]);
    expect(Object.keys(second.after.policies)).toEqual(Object.keys(first.after.policies));
    expect(second.after.users.bob?.groups).toEqual(first.after.users.alice?.groups);
    expect(second.result.plan).toContainEqual(
      expect.objectContaining({ action: 'add-user-to-group', existingGroup: true }),
    );
  });

  it('a direct policy the user already gets through its group is removed, and no group is made', async () => {
    await seedAccount(
      iam,
      { groups: { readers: { managed: [S3] } }, users: { alice: { managed: [S3], groups: ['readers'] } } },
      EMULATOR_ACCOUNT_ID,
    );
    const { result, before, after } = await migrateChecked({ userName: 'alice', dryRun: false }, 'alice');
    expect(result.changes.map((s) => s.action)).toEqual([
      'verify-groups-grant-all',
      'detach-user-policy',
      'verify-grants-unchanged',
    ]);
    expect(after.groups).toEqual(before.groups);
  });

  it('an inline policy whose document a group of the user carries inline is only deleted, after reading that policy back', async () => {
    await seedAccount(
      iam,
      {
        groups: { queues: { inline: { 'group-sqs': policyDocument('sqs:*', 2) } } },
        users: { alice: { inline: { 'my-sqs': SQS }, groups: ['queues'] } },
      },
      EMULATOR_ACCOUNT_ID,
    );
    const counted = clientsFor(emulator.endpoint).iam;
    const counter = countCalls(counted);
    const { result, before, after } = await migrateChecked(
      { userName: 'alice', dryRun: false },
      'alice',
      counted,
    );
    expect(result.changes.map((s) => s.action)).toEqual([
      'verify-groups-grant-all',
      'delete-user-policy',
      'verify-grants-unchanged',
    ]);
    expect(counter.byCommand.GetGroupPolicy).toBe(1);
    expect(after.groups).toEqual(before.groups);
  });

  it('more direct policies than a group may hold are split over groups within the account quota', async () => {
    const names = Array.from({ length: quotas.perGroup + 2 }, (_, i) => `team-policy-${i}`);
    await seedAccount(
      iam,
      {
        policies: Object.fromEntries(names.map((n, i) => [n, policyDocument(`s3:GetObjectVersion${i}`)])),
        users: { alice: { managed: names } },
      },
      EMULATOR_ACCOUNT_ID,
    );
    const { result, before, after } = await migrateChecked({ userName: 'alice', dryRun: false }, 'alice');
    expect(result.status).toBe('migrated');
    const made = newGroups(before, after);
    expect(made.map((g) => after.groups[g]?.managed.length).sort()).toEqual([2, quotas.perGroup].sort());
  });

  it('a user already in as many groups as allowed, who needs another, is refused and nothing changes', async () => {
    const groups = Array.from({ length: quotas.perUser }, (_, i) => `team-${i}`);
    await seedAccount(
      iam,
      {
        groups: Object.fromEntries(groups.map((g) => [g, {}])),
        users: { alice: { managed: [S3], groups } },
      },
      EMULATOR_ACCOUNT_ID,
    );
    const { result } = await migrateChecked({ userName: 'alice', dryRun: false }, 'alice');
    expect(result.status).toBe('refused');
    expect(result.reasons?.join(' ')).toMatch(/GroupsPerUserQuota/);
  });

  it('joins an operator GroupName that grants exactly what the user has', async () => {
    await seedAccount(
      iam,
      {
        groups: { analysts: { managed: [S3, EC2] } },
        users: { alice: { managed: [S3, EC2] }, bob: { groups: ['analysts'] } },
      },
      EMULATOR_ACCOUNT_ID,
    );
    const { result, before, after } = await migrateChecked(
      { userName: 'alice', groupName: 'analysts', dryRun: false },
      'alice',
    );
    expect(result.status).toBe('migrated');
    expect(after.users.alice?.groups).toEqual(['analysts']);
    expect(after.groups).toEqual(before.groups);
  });

  it('refuses an operator GroupName that grants more than the user has, saying what', async () => {
    await seedAccount(
      iam,
      {
        groups: { admins: { managed: [S3, ADMIN] } },
        users: { alice: { managed: [S3] }, bob: { groups: ['admins'] } },
      },
      EMULATOR_ACCOUNT_ID,
    );
    const { result } = await migrateChecked(
      { userName: 'alice', groupName: 'admins', dryRun: false },
      'alice',
    );
    expect(result.status).toBe('refused');
    expect(result.reasons?.[0]).toMatch(
      /group admins grants managed policy AdministratorAccess, which alice does not have/,
    );
  });

  it("creates an operator GroupName that does not exist, carrying the user's policies", async () => {
    await seedAccount(iam, { users: { alice: { managed: [S3], inline: { q: SQS } } } }, EMULATOR_ACCOUNT_ID);
    const { after } = await migrateChecked(
      { userName: 'alice', groupName: 'data-analysts', dryRun: false },
      'alice',
    );
    expect(after.groups['data-analysts']).toMatchObject({ path: MIGRATION_GROUP_PATH, inline: {} });
    expect(after.groups['data-analysts']?.managed).toHaveLength(2);
    expect(after.users.alice?.groups).toEqual(['data-analysts']);
  });

  it('turns inline policies into one managed policy per distinct document, keeping each document exactly', async () => {
    const spaced = policyDocument('sqs:*', 2);
    const other = policyDocument('sns:Publish');
    await seedAccount(
      iam,
      { users: { alice: { inline: { one: spaced, two: SQS, three: other } } } },
      EMULATOR_ACCOUNT_ID,
    );
    const { before, after } = await migrateChecked({ userName: 'alice', dryRun: false }, 'alice');
    const made = Object.entries(after.policies).filter(([arn]) => before.policies[arn] === undefined);
    expect(made).toHaveLength(2);
    for (const [arn] of made) expect(arn).toContain(`:policy${MIGRATION_POLICY_PATH}inline-`);
    const documents = made.map(([, document]) => document);
    expect(documents).toContain(other);
    // The two inline policies with one document (in two layouts) share a managed policy holding one of them.
    expect([spaced, SQS]).toContain(documents.find((d) => d !== other));
  });

  it('refuses an inline document too large for a managed policy before changing anything', async () => {
    const big = JSON.stringify({
      Version: '2012-10-17',
      Statement: Array.from({ length: 120 }, (_, i) => ({
        Effect: 'Allow',
        Action: `s3:GetObject`,
        Resource: `arn:aws:s3:::bucket-${i}/*`,
      })),
    });
    expect(big.length).toBeGreaterThan(6144);
    await seedAccount(iam, { users: { alice: { managed: [S3], inline: { big } } } }, EMULATOR_ACCOUNT_ID);
    const { result } = await migrateChecked({ userName: 'alice', dryRun: false }, 'alice');
    expect(result.status).toBe('refused');
    expect(result.reasons?.[0]).toMatch(/inline policy big is \d+ characters.*\(6144, PolicySizeQuota\)/);
  });

  it('a set group left half-built by an interrupted run (no rollback) is completed by the next run', async () => {
    await seedAccount(iam, { users: { alice: { managed: [S3, EC2] } } }, EMULATOR_ACCOUNT_ID);
    const dry = await migrateUserPolicies(iam, { userName: 'alice', dryRun: true });
    const groupName = dry.plan.find((s) => s.action === 'create-group')?.groupName as string;
    await seedAccount(
      iam,
      { groups: { [groupName]: { path: MIGRATION_GROUP_PATH, managed: [S3] } } },
      EMULATOR_ACCOUNT_ID,
    );
    const { result, after } = await migrateChecked({ userName: 'alice', dryRun: false }, 'alice');
    expect(result.status).toBe('migrated');
    expect(result.changes).not.toContainEqual(expect.objectContaining({ action: 'create-group' }));
    expect(after.groups[groupName]?.managed).toEqual([EC2, S3].sort());
    expect(after.users.alice?.groups).toEqual([groupName]);
  });

  it('joins an existing group named in GroupName with other letter case, under its real name', async () => {
    await seedAccount(
      iam,
      {
        groups: { Analysts: { managed: [S3] } },
        users: { alice: { managed: [S3] }, bob: { groups: ['Analysts'] } },
      },
      EMULATOR_ACCOUNT_ID,
    );
    const { result, before, after } = await migrateChecked(
      { userName: 'alice', groupName: 'analysts', dryRun: false },
      'alice',
    );
    expect(result.status).toBe('migrated');
    expect(Object.keys(after.groups)).toEqual(Object.keys(before.groups));
    expect(after.users.alice?.groups).toEqual(['Analysts']);
  });

  it('migrates a user whose path is not /', async () => {
    await seedAccount(
      iam,
      { users: { alice: { path: '/engineering/data/', managed: [S3], inline: { q: SQS } } } },
      EMULATOR_ACCOUNT_ID,
    );
    const { result, after } = await migrateChecked({ userName: 'alice', dryRun: false }, 'alice');
    expect(result.status).toBe('migrated');
    expect(after.users.alice?.groups).toHaveLength(1);
  });

  it('a dry run returns the full plan and changes nothing', async () => {
    await seedAccount(iam, { users: { alice: { managed: [S3], inline: { q: SQS } } } }, EMULATOR_ACCOUNT_ID);
    const { result } = await migrateChecked({ userName: 'alice', dryRun: true }, 'alice');
    expect(result.status).toBe('planned');
    expect(result.plan.map((s) => s.action)).toEqual([
      'create-policy',
      'create-group',
      'attach-group-policy',
      'attach-group-policy',
      'add-user-to-group',
      'verify-groups-grant-all',
      'detach-user-policy',
      'delete-user-policy',
      'verify-grants-unchanged',
    ]);
  });

  it('a re-run after success is a no-op', async () => {
    await seedAccount(iam, { users: { alice: { managed: [S3], inline: { q: SQS } } } }, EMULATOR_ACCOUNT_ID);
    await migrateChecked({ userName: 'alice', dryRun: false }, 'alice');
    const { result } = await migrateChecked({ userName: 'alice', dryRun: false }, 'alice');
    expect(result).toMatchObject({ status: 'already-compliant', plan: [], changes: [] });
  });

  it('a user that does not exist is reported as not found, with the reason, and nothing changes', async () => {
    const { result } = await migrateChecked({ userId: 'AIDANOSUCHUSER000001', dryRun: false }, 'nobody');
    expect(result).toMatchObject({
      status: 'user-not-found',
      reasons: [expect.stringMatching(/no IAM user with ID AIDANOSUCHUSER000001/)],
    });
  });

  it('a stale user ID (AIDA-shaped, matching no user) is not found, even when a user bears it as a name', async () => {
    const staleId = 'AIDAJQABLZS4A3QDU576Q';
    await seedAccount(iam, { users: { [staleId]: { managed: [S3] } } }, EMULATOR_ACCOUNT_ID);
    for (const dryRun of [true, false]) {
      const { result } = await migrateChecked({ userId: staleId, dryRun }, staleId);
      expect(result).toMatchObject({ status: 'user-not-found', changes: [] });
    }
  });

  it('an IAMResourceId that cannot be a user ID is tried as the user name', async () => {
    await seedAccount(iam, { users: { alice: { managed: [S3] } } }, EMULATOR_ACCOUNT_ID);
    const { result } = await migrateChecked({ userId: 'alice', dryRun: true }, 'alice');
    expect(result).toMatchObject({ status: 'planned', user: { userName: 'alice' } });
  });

  it.each([
    ['neither userId nor userName', { dryRun: false }, /give exactly one of userId or userName/],
    ['both userId and userName', { userId: 'AIDAX', userName: 'alice', dryRun: false }, /give exactly one/],
    [
      'a user name with a space',
      { userName: 'alice smith', dryRun: false },
      /userName: must be an IAM user name/,
    ],
    [
      'a group name with a slash',
      { userName: 'alice', groupName: 'a/b', dryRun: false },
      /groupName: must be an IAM group name/,
    ],
    ['a missing dryRun', { userName: 'alice' }, /dryRun: must be true or false/],
  ])('rejects %s before any IAM call', async (_name, request, message) => {
    await seedAccount(iam, { users: { alice: { managed: [S3] } } }, EMULATOR_ACCOUNT_ID);
    const before = await readInventory(iam);
    proxy.clear();
    await expect(migrateUserPolicies(proxied, request as MigrationRequest)).rejects.toThrow(message);
    expect(proxy.actions).toEqual([]);
    expect(await readInventory(iam)).toEqual(before);
  });
});

describe('IAM calls per migration', () => {
  /** A user with 10 customer managed and 5 inline policies, as bench/remediation.ts measures. */
  const heavyUser = (prefix: string, groups: string[] = []): Seed => ({
    policies: Object.fromEntries(
      Array.from({ length: 10 }, (_, i) => [`${prefix}-managed-${i}`, policyDocument(`${prefix}${i}:Get*`)]),
    ),
    users: {
      [`${prefix}-user`]: {
        groups,
        managed: Array.from({ length: 10 }, (_, i) => `${prefix}-managed-${i}`),
        inline: Object.fromEntries(
          ['s3:GetObject', 'sqs:SendMessage', 'sns:Publish', 'dynamodb:GetItem', 'kms:Decrypt'].map(
            (a, i) => [`${prefix}-inline-${i}`, policyDocument(a)],
          ),
        ),
      },
    },
  });
  /**
   * Read once to plan, and again under the policy set's lease; then only what the run changed: the user's
   * groups, the new groups, the user's policies. Plus the leases, 3 calls each (created, listed, deleted): the
   * user's, its policy set's, and one for each object other runs may share, the 2 new groups and the 5
   * policies made from inline documents.
   */
  const LEASES = 1 + 1 + 2 + 5;
  const EXPECTED_CALLS = {
    GetAccountAuthorizationDetails: 2,
    GetAccountSummary: 2,
    ListPolicies: LEASES,
    DeletePolicy: LEASES,
    CreatePolicy: 5 + LEASES,
    CreateGroup: 2,
    AttachGroupPolicy: 15,
    AddUserToGroup: 2,
    ListGroupsForUser: 1,
    ListAttachedGroupPolicies: 2,
    DetachUserPolicy: 10,
    DeleteUserPolicy: 5,
    ListAttachedUserPolicies: 1,
    ListUserPolicies: 1,
  };

  async function countedMigration(userName: string): Promise<Record<string, number>> {
    const counted = clientsFor(emulator.endpoint).iam;
    const counter = countCalls(counted);
    const result = await migrateUserPolicies(counted, { userName, dryRun: false });
    expect(result.status).toBe('migrated');
    return { ...counter.byCommand };
  }

  it('a user with 10 managed and 5 inline policies costs 75 IAM calls (27 of them for 9 leases), two of them full account reads', async () => {
    await seedAccount(iam, heavyUser('solo'), EMULATOR_ACCOUNT_ID);
    expect(await countedMigration('solo-user')).toEqual(EXPECTED_CALLS);
  });

  it('the same migration costs the same calls in an account with many other users and groups, whatever groups the user is in', async () => {
    const others = Array.from({ length: 40 }, (_, i) => `other-${i}`);
    await seedAccount(
      iam,
      {
        groups: Object.fromEntries(
          Array.from({ length: 10 }, (_, g) => [`team-${g}`, { managed: [g % 2 ? S3 : EC2] }]),
        ),
        users: Object.fromEntries(others.map((u, i) => [u, { groups: [`team-${i % 10}`], managed: [S3] }])),
      },
      EMULATOR_ACCOUNT_ID,
    );
    await seedAccount(iam, heavyUser('busy', ['team-0', 'team-1']), EMULATOR_ACCOUNT_ID);
    expect(await countedMigration('busy-user')).toEqual(EXPECTED_CALLS);
  });
});
