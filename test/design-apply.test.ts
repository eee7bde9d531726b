import {
  AttachUserPolicyCommand,
  CreatePolicyCommand,
  CreateUserCommand,
  type IAMClient,
  PutUserPolicyCommand,
} from '@aws-sdk/client-iam';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { countCalls } from '../bench/call-counter.js';
import { generateMessyAccount, loadMessyAccount } from '../bench/messy-account.js';
import { clientsFor, type Emulator, startEmulator } from '../local/emulator.js';
import { designAccount } from '../remediation/design/account-design.js';
import { applyDesign } from '../remediation/design/apply-design.js';
import type { DesignPlan } from '../remediation/design/design-types.js';
import { migrateUserPolicies } from '../remediation/migrate.js';
import { readAccountSnapshot, readIamQuotas } from '../remediation/read-state.js';
import { type FaultProxy, startFaultProxy } from './support/fault-proxy.js';
import {
  effectiveGrants,
  emptyAccount,
  type Inventory,
  readInventory,
} from './support/remediation-account.js';

/** A home-folder document whose only per-user part is the name as a whole ARN path segment. */
const homeDocument = (userName: string) =>
  JSON.stringify({
    Version: '2012-10-17',
    Statement: [
      {
        Effect: 'Allow',
        Action: ['s3:GetObject', 's3:PutObject'],
        Resource: `arn:aws:s3:::home/${userName}/*`,
      },
    ],
  });

/**
 * Applying an account-wide design against the emulator: a generated messy account is planned, applied
 * (dry run first), resumed, disturbed (a user changed after planning, a fault, a per-user remediation running
 * at the same time), and after each the whole account's effective grants are checked unchanged.
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

let plan: DesignPlan;
let before: Inventory;
let grantsBefore: Record<string, string[]>;

beforeEach(async () => {
  await emptyAccount(iam);
  await loadMessyAccount(iam, generateMessyAccount({ seed: 5, users: 16 }), 8);
  const [snapshot, quotas] = await Promise.all([readAccountSnapshot(iam), readIamQuotas(iam)]);
  plan = designAccount(snapshot, quotas, { createdAt: '2026-12-01T00:00:00Z' });
  before = await readInventory(iam);
  grantsBefore = await effectiveGrants(iam, before);
  proxy.clear();
});

async function expectGrantsUnchanged(): Promise<Inventory> {
  const after = await readInventory(iam);
  const grantsAfter = await effectiveGrants(iam, after);
  const changed = Object.keys(grantsBefore).filter(
    (u) => JSON.stringify(grantsBefore[u]) !== JSON.stringify(grantsAfter[u]),
  );
  expect(changed, 'users whose effective grants changed').toEqual([]);
  return after;
}

describe('apply', () => {
  it('a dry run changes nothing and says what it would create and whom it would migrate', async () => {
    const report = await applyDesign(iam, plan, { apply: false });
    expect(report.dryRun).toBe(true);
    expect(report.createdGroups).toHaveLength(plan.groups.filter((g) => g.status === 'new').length);
    expect(report.users.filter((u) => u.status === 'planned')).toHaveLength(plan.users.length);
    expect(await readInventory(iam)).toEqual(before);
  });

  it('applies the design reading the account once, with every grant unchanged; a second run finds it done', async () => {
    const counted = clientsFor(emulator.endpoint).iam;
    const counter = countCalls(counted);
    const report = await applyDesign(counted, plan, { apply: true, concurrency: 6 });
    expect(counter.byCommand.GetAccountAuthorizationDetails).toBe(1);
    expect(report.users.map((u) => u.status)).toEqual(Array(plan.users.length).fill('migrated'));
    const after = await expectGrantsUnchanged();
    for (const u of plan.users)
      expect(after.users[u.userName], u.userName).toMatchObject({ managed: [], inline: {} });
    const designed = plan.groups.filter((g) => g.status === 'new').map((g) => g.name);
    for (const name of designed) expect(after.groups[name]?.path, name).toBe('/policy-migration/');

    const again = await applyDesign(iam, plan, { apply: true });
    expect(again.users.map((u) => u.status)).toEqual(Array(plan.users.length).fill('already-applied'));
    expect(again.createdGroups).toEqual([]);
    expect(await readInventory(iam)).toEqual(after);
  });

  it('skips a user whose policies changed after the plan was made, and migrates the rest', async () => {
    const victim = plan.users[0]?.userName as string;
    const surprise = await iam.send(
      new CreatePolicyCommand({
        PolicyName: 'surprise',
        PolicyDocument: JSON.stringify({
          Version: '2012-10-17',
          Statement: [{ Effect: 'Allow', Action: 'sqs:ListQueues', Resource: '*' }],
        }),
      }),
    );
    await iam.send(new AttachUserPolicyCommand({ UserName: victim, PolicyArn: surprise.Policy?.Arn }));
    grantsBefore = await effectiveGrants(iam);
    const report = await applyDesign(iam, plan, { apply: true });
    const outcome = report.users.find((u) => u.userName === victim);
    expect(outcome).toMatchObject({
      status: 'skipped',
      reason: expect.stringMatching(/changed since the plan/),
    });
    expect(report.users.filter((u) => u.status === 'migrated')).toHaveLength(plan.users.length - 1);
    await expectGrantsUnchanged();
  });

  it('a fault rolls back only the user it hit; a re-run completes the design', async () => {
    proxy.failOnce('DetachUserPolicy', 7);
    const faulty = clientsFor(proxy.endpoint).iam;
    const report = await applyDesign(faulty, plan, {
      apply: true,
      concurrency: 5,
      execution: { sleep: async () => {} },
    });
    const failed = report.users.filter((u) => u.status === 'failed');
    expect(failed).toHaveLength(1);
    expect(failed[0]?.reason).toMatch(/rolled back/);
    await expectGrantsUnchanged();
    const resumed = await applyDesign(iam, plan, { apply: true });
    expect(resumed.users.find((u) => u.userName === failed[0]?.userName)?.status).toBe('migrated');
    expect(resumed.users.filter((u) => u.status === 'already-applied')).toHaveLength(plan.users.length - 1);
    await expectGrantsUnchanged();
  });

  it('per-user remediations running at the same moment as apply neither collide nor change any grant', async () => {
    const some = plan.users.slice(0, 12).map((u) => u.userName);
    const [report, ...singles] = await Promise.all([
      applyDesign(iam, plan, { apply: true, concurrency: 4 }),
      ...some.map((userName) => migrateUserPolicies(iam, { userName, dryRun: false })),
    ]);
    expect(singles.filter((r) => r.status !== 'migrated' && r.status !== 'already-compliant')).toEqual([]);
    // A user the per-user run migrated first is left alone by apply (changed since the plan), never undone.
    // Or the per-user run, finding the design's groups already built, put it exactly where the plan does.
    for (const u of report?.users ?? []) {
      expect(['migrated', 'skipped', 'already-applied'], u.userName).toContain(u.status);
    }
    expect(report?.users.filter((u) => u.status === 'failed')).toEqual([]);
    await expectGrantsUnchanged();
  });

  it('a plan edited to give a group more than its members have is not applied to them', async () => {
    const target = plan.groups.find((g) => g.status === 'new') as DesignPlan['groups'][number];
    const admin = 'arn:aws:iam::aws:policy/AdministratorAccess';
    const tampered = {
      ...plan,
      policies: {
        ...plan.policies,
        [admin]: { kind: 'managed', policyArn: admin, policyName: 'AdministratorAccess' },
      },
      groups: plan.groups.map((g) => (g === target ? { ...g, policies: [...g.policies, admin] } : g)),
    };
    const report = await applyDesign(iam, tampered, { apply: true });
    for (const m of target.members) {
      expect(report.users.find((u) => u.userName === m)?.status, m).toBe('skipped');
    }
    await expectGrantsUnchanged();
  });

  it('refuses a file that is not a plan, a group referring to an undefined policy, or an invalid group name, before any IAM call', async () => {
    const cases: [unknown, RegExp][] = [
      [{ hello: 1 }, /plan file is malformed/],
      [{ ...plan, groups: [{ ...plan.groups[0], policies: ['nope'] }] }, /refers to policy nope/],
      [{ ...plan, groups: [{ ...plan.groups[0], name: 'bad/name' }] }, /must be an IAM group name/],
    ];
    for (const [file, message] of cases) {
      const counted = clientsFor(emulator.endpoint).iam;
      const counter = countCalls(counted);
      await expect(applyDesign(counted, file, { apply: true })).rejects.toThrow(message);
      expect(counter.total()).toBe(0);
    }
  });
});

describe('the Config remediation after a design was applied', () => {
  it('puts a new user whose policies are a union of designed groups into those groups, creating none', async () => {
    await applyDesign(iam, plan, { apply: true });
    const twoGroups = plan.groups
      .filter((g) => g.status === 'new' && g.policies.every((k) => plan.policies[k]?.kind === 'managed'))
      .slice(0, 2);
    expect(twoGroups).toHaveLength(2);
    await iam.send(new CreateUserCommand({ UserName: 'newcomer' }));
    for (const g of twoGroups) {
      for (const k of g.policies)
        await iam.send(
          new AttachUserPolicyCommand({ UserName: 'newcomer', PolicyArn: plan.policies[k]?.policyArn }),
        );
    }
    const result = await migrateUserPolicies(iam, { userName: 'newcomer', dryRun: false });
    expect(result.status).toBe('migrated');
    expect(result.changes.filter((s) => s.action === 'create-group' || s.action === 'create-policy')).toEqual(
      [],
    );
    expect(
      result.changes
        .filter((s) => s.action === 'add-user-to-group')
        .map((s) => (s as { groupName: string }).groupName)
        .sort(),
    ).toEqual(twoGroups.map((g) => g.name).sort());
  });

  it('reuses a design home-folder policy written with the aws:username variable for a new user with its own home document', async () => {
    // Two more users with their own home folders: the design writes their documents as one policy.
    for (const name of ['home-a', 'home-b']) {
      await iam.send(new CreateUserCommand({ UserName: name }));
      await iam.send(
        new PutUserPolicyCommand({ UserName: name, PolicyName: 'home', PolicyDocument: homeDocument(name) }),
      );
    }
    const [snapshot, quotas] = await Promise.all([readAccountSnapshot(iam), readIamQuotas(iam)]);
    plan = designAccount(snapshot, quotas, { createdAt: '2026-12-01T00:00:00Z' });
    await applyDesign(iam, plan, { apply: true });
    const generalised = Object.values(plan.policies).find(
      // biome-ignore lint/suspicious/noTemplateCurlyInString: the IAM policy variable, literally.
      (p) => p.kind === 'new-managed' && p.document.includes('${aws:username}'),
    );
    expect(generalised, 'a policy the design generalised').toBeDefined();
    const group = plan.groups.find((g) =>
      g.policies.includes((generalised as { key: string }).key),
    ) as DesignPlan['groups'][number];
    expect(group, 'the design group that carries it').toBeDefined();
    await iam.send(new CreateUserCommand({ UserName: 'newcomer' }));
    await iam.send(
      new PutUserPolicyCommand({
        UserName: 'newcomer',
        PolicyName: 'home',
        PolicyDocument: homeDocument('newcomer'),
      }),
    );
    for (const k of group.policies) {
      const ref = plan.policies[k];
      if (ref?.kind === 'managed')
        await iam.send(new AttachUserPolicyCommand({ UserName: 'newcomer', PolicyArn: ref.policyArn }));
    }
    const result = await migrateUserPolicies(iam, { userName: 'newcomer', dryRun: false });
    expect(result.status).toBe('migrated');
    expect(result.changes.filter((s) => s.action === 'create-group' || s.action === 'create-policy')).toEqual(
      [],
    );
    expect(
      result.changes
        .filter((s) => s.action === 'add-user-to-group')
        .map((s) => (s as { groupName: string }).groupName),
    ).toContain(group.name);
  });
});
