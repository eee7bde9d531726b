import { describe, expect, it } from 'vitest';
import { canonicalDocument } from '../remediation/grants.js';
import {
  inlinePolicyManagedName,
  MIGRATION_GROUP_PATH,
  MIGRATION_POLICY_PATH,
} from '../remediation/naming.js';
import { type MigrationPlan, planMigration } from '../remediation/plan.js';
import type { IamQuotas, MigrationOptions } from '../remediation/state.js';
import type { MigrationStep } from '../remediation/steps.js';
import {
  ACCOUNT,
  awsPolicy,
  effectiveGrants,
  group,
  policyDoc,
  QUOTAS,
  simulate,
  stateFor,
  user,
  type World,
} from './support/remediation-state.js';

const S3 = awsPolicy('AmazonS3ReadOnlyAccess');
const EC2 = awsPolicy('AmazonEC2ReadOnlyAccess');
const ADMIN = awsPolicy('AdministratorAccess');
const SQS_DOC = policyDoc('sqs:*');
const MADE_FROM_SQS = inlinePolicyManagedName(canonicalDocument(SQS_DOC));
const manyPolicies = (n: number) =>
  Array.from({ length: n }, (_, i) => awsPolicy(`Policy${String(i).padStart(2, '0')}`));

interface Case {
  readonly name: string;
  readonly world: World;
  readonly user?: string;
  readonly quotas?: Partial<IamQuotas>;
  readonly options?: MigrationOptions;
  readonly check: (plan: MigrationPlan, world: World) => void;
}

const world = (parts: Partial<World>): World => ({
  users: parts.users ?? [],
  groups: parts.groups ?? [],
  customerPolicies: parts.customerPolicies ?? [],
});

function stepsOf(plan: MigrationPlan): readonly MigrationStep[] {
  if (plan.kind !== 'steps') throw new Error(`expected steps, got ${JSON.stringify(plan)}`);
  return plan.steps;
}
function actions<A extends MigrationStep['action']>(plan: MigrationPlan, action: A) {
  return stepsOf(plan).filter((s): s is Extract<MigrationStep, { action: A }> => s.action === action);
}

/**
 * The rules every plan must keep, checked by applying it to the in-memory account step by step: the user
 * never lacks a grant it had, nobody else's grants change, the user ends with exactly its grants and no
 * direct policy, nothing is attached to a group that existed, and quotas hold.
 */
function expectSafe(plan: MigrationPlan, w: World, userName: string, quotas: IamQuotas): void {
  const steps = stepsOf(plan);
  const migrating = w.users.find((u) => u.userName === userName);
  if (migrating === undefined) throw new Error('no such user');
  const before = effectiveGrants(w);
  const worlds = simulate(w, steps, migrating);
  for (const [i, after] of worlds.entries()) {
    const grants = effectiveGrants(after);
    for (const name of Object.keys(before)) {
      if (name === userName)
        expect(grants[name], `after step ${i}`).toEqual(expect.arrayContaining(before[name] ?? []));
      else expect(grants[name], `${name} after step ${i}`).toEqual(before[name]);
    }
  }
  const final = worlds.at(-1) as World;
  expect(effectiveGrants(final)[userName]).toEqual(before[userName]);
  const finalUser = final.users.find((u) => u.userName === userName);
  expect(finalUser?.managedPolicies).toEqual([]);
  expect(finalUser?.inlinePolicies).toEqual([]);
  expect(finalUser?.groupNames.length).toBeLessThanOrEqual(quotas.groupsPerUser);
  // Policies go only to groups this plan creates, or to an unfinished set group that nobody is in.
  for (const s of steps) {
    if (s.action !== 'attach-group-policy') continue;
    const existing = w.groups.find((g) => g.groupName.toLowerCase() === s.groupName.toLowerCase());
    if (existing !== undefined)
      expect(existing).toMatchObject({ path: MIGRATION_GROUP_PATH, memberNames: [] });
  }
  for (const g of final.groups)
    expect(g.managedPolicies.length).toBeLessThanOrEqual(quotas.attachedPoliciesPerGroup);
  // Order: everything is given through groups and read back before anything is taken from the user.
  const verify = steps.findIndex((s) => s.action === 'verify-groups-grant-all');
  const firstRemoval = steps.findIndex(
    (s) => s.action === 'detach-user-policy' || s.action === 'delete-user-policy',
  );
  const lastGrant = steps.findLastIndex((s) =>
    ['create-policy', 'create-group', 'attach-group-policy', 'add-user-to-group'].includes(s.action),
  );
  expect(verify).toBeGreaterThan(lastGrant);
  expect(firstRemoval === -1 || firstRemoval > verify).toBe(true);
  expect(steps.at(-1)?.action).toBe('verify-grants-unchanged');
}

const cases: Case[] = [
  {
    name: 'a user with only group policies is already compliant',
    world: world({
      users: [user('alice', { groups: ['readers'] })],
      groups: [group('readers', { managed: [S3] })],
    }),
    check: (plan) => expect(plan).toEqual({ kind: 'already-compliant' }),
  },
  {
    name: 'a managed and an inline policy move to one new policy-set group, the inline one as a managed policy',
    world: world({
      users: [user('alice', { managed: [S3], inline: [{ policyName: 'sqs', document: SQS_DOC }] })],
    }),
    check: (plan) => {
      const [create] = actions(plan, 'create-policy');
      expect(create).toMatchObject({ path: MIGRATION_POLICY_PATH, fromInlinePolicy: 'sqs' });
      expect(create).toMatchObject({
        policyArn: expect.stringMatching(`^arn:aws:iam::${ACCOUNT}:policy/policy-migration/inline-`),
      });
      expect(actions(plan, 'create-group')).toEqual([
        {
          action: 'create-group',
          groupName: expect.stringMatching(/^policy-set-[0-9a-f]{24}$/),
          path: MIGRATION_GROUP_PATH,
          kind: 'policy-set',
        },
      ]);
      expect(actions(plan, 'attach-group-policy')).toHaveLength(2);
    },
  },
  {
    name: 'a direct policy a group of the user already gives is only removed',
    world: world({
      users: [user('alice', { managed: [S3], groups: ['readers'] }), user('bob', { groups: ['readers'] })],
      groups: [group('readers', { managed: [S3], members: ['alice', 'bob'] })],
    }),
    check: (plan) => {
      expect(stepsOf(plan).map((s) => s.action)).toEqual([
        'verify-groups-grant-all',
        'detach-user-policy',
        'verify-grants-unchanged',
      ]);
      expect(actions(plan, 'detach-user-policy')[0]).toMatchObject({ policyArn: S3, redundant: true });
    },
  },
  {
    name: 'an inline policy whose document a group of the user already carries inline is only deleted',
    world: world({
      users: [
        user('alice', {
          inline: [{ policyName: 'mine', document: policyDoc('sqs:*', true) }],
          groups: ['q'],
        }),
      ],
      groups: [group('q', { inline: [{ policyName: 'queues', document: SQS_DOC }], members: ['alice'] })],
    }),
    check: (plan) =>
      expect(actions(plan, 'delete-user-policy')[0]).toMatchObject({ policyName: 'mine', redundant: true }),
  },
  {
    name: 'a shared group with more grants is never joined nor changed: the user gets its own set group',
    world: world({
      users: [user('alice', { managed: [S3] }), user('bob', { groups: ['devs'] })],
      groups: [group('devs', { managed: [S3, EC2], members: ['bob'] })],
    }),
    check: (plan) => {
      expect(actions(plan, 'add-user-to-group')).toEqual([
        expect.objectContaining({ groupName: expect.stringMatching(/^policy-set-/), existingGroup: false }),
      ]);
    },
  },
  {
    name: 'a user with the same access as an already migrated user joins that user’s groups, where the greedy cover would choose others',
    world: (() => {
      const SNS = awsPolicy('AmazonSNSReadOnlyAccess');
      const own = (name: string, managed: string[], members: string[]) =>
        group(name, { managed, members, path: MIGRATION_GROUP_PATH });
      return world({
        users: [
          user('alice', { managed: [S3, EC2, SNS] }),
          user('bob', { groups: ['set-s3-ec2', 'set-sns'] }),
          user('carol', { groups: ['aaa-ec2-sns'] }),
          user('dan', { groups: ['set-s3'] }),
        ],
        groups: [
          own('set-s3-ec2', [S3, EC2], ['bob']),
          own('set-sns', [SNS], ['bob']),
          // Made for other sets since bob's run: alone, the greedy cover would take these two instead.
          own('aaa-ec2-sns', [EC2, SNS], ['carol']),
          own('set-s3', [S3], ['dan']),
        ],
      });
    })(),
    check: (plan) => {
      expect(actions(plan, 'add-user-to-group').map((s) => s.groupName)).toEqual(['set-s3-ec2', 'set-sns']);
      expect(actions(plan, 'create-group')).toEqual([]);
    },
  },
  {
    name: 'an existing group outside the dedicated path is never joined unless listed, even when it grants only what the user has',
    world: world({
      users: [user('alice', { managed: [S3, EC2] }), user('bob', { groups: ['project-apollo'] })],
      groups: [group('project-apollo', { managed: [S3], members: ['bob'] })],
    }),
    check: (plan) => {
      expect(actions(plan, 'add-user-to-group').map((s) => s.groupName)).toEqual([
        expect.stringMatching(/^policy-set-/),
      ]);
      expect(actions(plan, 'attach-group-policy').map((s) => s.policyArn)).toEqual([EC2, S3].sort());
    },
  },
  {
    name: 'an existing group listed as joinable that grants only policies the user has is joined (a real role group)',
    world: world({
      users: [user('alice', { managed: [S3, EC2] }), user('bob', { groups: ['s3-readers'] })],
      groups: [group('s3-readers', { managed: [S3], members: ['bob'] })],
    }),
    options: { joinableGroups: ['S3-Readers'] },
    check: (plan) => {
      expect(actions(plan, 'add-user-to-group').map((s) => s.groupName)).toEqual([
        's3-readers',
        expect.stringMatching(/^policy-set-/),
      ]);
      expect(actions(plan, 'attach-group-policy')).toEqual([expect.objectContaining({ policyArn: EC2 })]);
    },
  },
  {
    name: 'a second user with the same set joins the group the first one created, and reuses its inline policy',
    world: (() => {
      const first = world({
        users: [user('alice', { managed: [S3], inline: [{ policyName: 'a', document: SQS_DOC }] })],
      });
      const plan = planMigration(stateFor(first, 'alice'), QUOTAS, {});
      const migrated = simulate(first, stepsOf(plan), first.users[0] as never).at(-1) as World;
      return {
        ...migrated,
        users: [
          ...migrated.users,
          user('bob', { managed: [S3], inline: [{ policyName: 'b', document: policyDoc('sqs:*', true) }] }),
        ],
      };
    })(),
    user: 'bob',
    check: (plan, w) => {
      expect(actions(plan, 'create-group')).toEqual([]);
      expect(actions(plan, 'create-policy')).toEqual([]);
      expect(actions(plan, 'add-user-to-group')).toEqual([
        expect.objectContaining({ groupName: w.groups[0]?.groupName, existingGroup: true }),
      ]);
    },
  },
  {
    name: 'two inline policies with the same document (other layout) become one managed policy',
    world: world({
      users: [
        user('alice', {
          inline: [
            { policyName: 'one', document: SQS_DOC },
            { policyName: 'two', document: policyDoc('sqs:*', true) },
          ],
        }),
      ],
    }),
    check: (plan) => {
      expect(actions(plan, 'create-policy')).toHaveLength(1);
      expect(actions(plan, 'delete-user-policy')).toHaveLength(2);
    },
  },
  {
    name: 'more direct policies than a group may hold are split over several set groups',
    world: world({ users: [user('alice', { managed: manyPolicies(12) })] }),
    check: (plan) => {
      const groups = actions(plan, 'create-group');
      expect(groups).toHaveLength(2);
      const attached = (name: string) =>
        actions(plan, 'attach-group-policy').filter((s) => s.groupName === name);
      expect(groups.map((g) => attached(g.groupName).length).sort()).toEqual([10, 2]);
    },
  },
  {
    name: 'the policies-per-group quota comes from the account summary',
    world: world({ users: [user('alice', { managed: manyPolicies(5) })] }),
    quotas: { attachedPoliciesPerGroup: 2 },
    check: (plan) => expect(actions(plan, 'create-group')).toHaveLength(3),
  },
  {
    name: 'a user already in as many groups as allowed, who needs a new group, is refused',
    world: world({
      users: [user('alice', { managed: [ADMIN], groups: manyPolicies(10).map((_, i) => `g${i}`) })],
      groups: manyPolicies(10).map((_, i) => group(`g${i}`, { members: ['alice'] })),
    }),
    check: (plan) => {
      expect(plan.kind).toBe('refused');
      expect(plan.kind === 'refused' && plan.reasons.join(' ')).toMatch(
        /11 groups.*allows 10 per user \(GroupsPerUserQuota\)/,
      );
    },
  },
  {
    name: 'a user at the group quota whose direct policies are all redundant is migrated',
    world: world({
      users: [user('alice', { managed: [S3], groups: manyPolicies(10).map((_, i) => `g${i}`) })],
      groups: manyPolicies(10).map((_, i) =>
        group(`g${i}`, { members: ['alice'], managed: i === 0 ? [S3] : [] }),
      ),
    }),
    check: (plan) => expect(actions(plan, 'add-user-to-group')).toEqual([]),
  },
  {
    name: 'joining several small existing groups is dropped for set groups when it would break the group quota',
    world: world({
      users: [user('alice', { managed: [S3, EC2], groups: manyPolicies(9).map((_, i) => `g${i}`) })],
      groups: [
        ...manyPolicies(9).map((_, i) => group(`g${i}`, { members: ['alice'] })),
        group('s3', { managed: [S3] }),
        group('ec2', { managed: [EC2] }),
      ],
    }),
    check: (plan) => {
      expect(actions(plan, 'add-user-to-group')).toEqual([
        expect.objectContaining({ groupName: expect.stringMatching(/^policy-set-/) }),
      ]);
    },
  },
  {
    name: 'an operator GroupName that exists and grants exactly what the user has is joined',
    world: world({
      users: [user('alice', { managed: [S3, EC2] }), user('bob', { groups: ['Analysts'] })],
      groups: [group('Analysts', { managed: [S3, EC2], members: ['bob'] })],
    }),
    options: { groupName: 'analysts' },
    check: (plan) =>
      expect(
        stepsOf(plan)
          .filter((s) => s.action !== 'detach-user-policy')
          .map((s) => s.action),
      ).toEqual(['add-user-to-group', 'verify-groups-grant-all', 'verify-grants-unchanged']),
  },
  {
    name: 'an operator GroupName that grants more than the user has is refused, naming what it would add',
    world: world({
      users: [user('alice', { managed: [S3] }), user('bob', { groups: ['admins'] })],
      groups: [group('admins', { managed: [S3, ADMIN], members: ['bob'] })],
    }),
    options: { groupName: 'admins' },
    check: (plan) => {
      expect(plan.kind).toBe('refused');
      expect(plan.kind === 'refused' && plan.reasons[0]).toMatch(
        /group admins grants managed policy AdministratorAccess/,
      );
    },
  },
  {
    name: "an operator GroupName that does not exist is created with the user's set",
    world: world({
      users: [user('alice', { managed: [S3], inline: [{ policyName: 'q', document: SQS_DOC }] })],
    }),
    options: { groupName: 'data-analysts' },
    check: (plan) => {
      expect(actions(plan, 'create-group')).toEqual([
        {
          action: 'create-group',
          groupName: 'data-analysts',
          path: MIGRATION_GROUP_PATH,
          kind: 'operator-group',
        },
      ]);
      expect(actions(plan, 'attach-group-policy').every((s) => s.groupName === 'data-analysts')).toBe(true);
    },
  },
  {
    name: 'a user with no direct policy is put into a new operator GroupName',
    world: world({ users: [user('alice')] }),
    options: { groupName: 'data-analysts' },
    check: (plan) =>
      expect(actions(plan, 'add-user-to-group')).toEqual([
        expect.objectContaining({ groupName: 'data-analysts' }),
      ]),
  },
  {
    name: 'an existing managed policy made from the same document is reused, not created again',
    world: world({
      users: [user('alice', { inline: [{ policyName: 'q', document: policyDoc('sqs:*', true) }] })],
      customerPolicies: [
        {
          policyName: MADE_FROM_SQS,
          policyArn: `arn:aws:iam::${ACCOUNT}:policy/policy-migration/${MADE_FROM_SQS}`,
          path: MIGRATION_POLICY_PATH,
          defaultDocument: SQS_DOC,
        },
      ],
    }),
    check: (plan) => {
      expect(actions(plan, 'create-policy')).toEqual([]);
      expect(actions(plan, 'attach-group-policy')).toEqual([
        expect.objectContaining({
          policyArn: `arn:aws:iam::${ACCOUNT}:policy/policy-migration/${MADE_FROM_SQS}`,
        }),
      ]);
    },
  },
];

describe("planMigration keeps every user's grants", () => {
  it.each(cases)('$name', (c) => {
    const quotas = { ...QUOTAS, ...c.quotas };
    const userName = c.user ?? 'alice';
    const plan = planMigration(stateFor(c.world, userName), quotas, c.options ?? {});
    c.check(plan, c.world);
    if (plan.kind === 'steps') expectSafe(plan, c.world, userName, quotas);
  });
});

describe('a set group an interrupted run left unfinished', () => {
  const alice = user('alice', { managed: [S3, EC2] });
  const setGroup = () => {
    const first = planMigration(stateFor(world({ users: [alice] }), 'alice'), QUOTAS, {});
    return actions(first, 'create-group')[0]?.groupName as string;
  };

  it('is finished with only the missing policies and joined, when nobody is in it', () => {
    const w = world({
      users: [alice],
      groups: [group(setGroup(), { path: MIGRATION_GROUP_PATH, managed: [S3] })],
    });
    const plan = planMigration(stateFor(w, 'alice'), QUOTAS, {});
    expect(actions(plan, 'create-group')).toEqual([]);
    expect(actions(plan, 'attach-group-policy')).toEqual([
      { action: 'attach-group-policy', groupName: setGroup(), policyArn: EC2 },
    ]);
    expect(actions(plan, 'add-user-to-group')).toEqual([
      expect.objectContaining({ groupName: setGroup(), existingGroup: true }),
    ]);
    expectSafe(plan, w, 'alice', QUOTAS);
  });

  it('is finished, not joined as it is, even when another of the user policies makes a smaller set', () => {
    const w = world({
      users: [alice],
      groups: [group(setGroup(), { path: MIGRATION_GROUP_PATH, managed: [EC2] })],
    });
    const plan = planMigration(stateFor(w, 'alice'), QUOTAS, {});
    expect(actions(plan, 'create-group')).toEqual([]);
    expect(actions(plan, 'add-user-to-group').map((s) => s.groupName)).toEqual([setGroup()]);
  });

  it('is never joined nor added to when it is not under the dedicated path: the plan is refused', () => {
    const w = world({
      users: [alice, user('bob', { groups: [setGroup()] })],
      groups: [group(setGroup(), { path: '/', managed: [S3], members: ['bob'] })],
    });
    const plan = planMigration(stateFor(w, 'alice'), QUOTAS, {});
    expect(plan.kind === 'refused' && plan.reasons[0]).toMatch(
      /is not under \/policy-migration\/, so the migration does not own it/,
    );
  });

  it('is not joined even when it grants exactly the set, if it is not under the dedicated path', () => {
    const w = world({
      users: [alice, user('bob', { groups: [setGroup()] })],
      groups: [group(setGroup(), { path: '/', managed: [S3, EC2], members: ['bob'] })],
    });
    const plan = planMigration(stateFor(w, 'alice'), QUOTAS, {});
    expect(plan.kind).toBe('refused');
  });

  it.each([['someone is in it', { members: ['bob'] }]])(
    'is never added to when %s: the user joins it as it stands',
    (_name, parts) => {
      const w = world({
        users: [alice, user('bob', { groups: [setGroup()] })],
        groups: [group(setGroup(), { path: MIGRATION_GROUP_PATH, managed: [S3], ...parts })],
      });
      const plan = planMigration(stateFor(w, 'alice'), QUOTAS, {});
      expect(actions(plan, 'attach-group-policy').map((s) => s.groupName)).not.toContain(setGroup());
      expect(actions(plan, 'add-user-to-group').map((s) => s.groupName)).toContain(setGroup());
      expectSafe(plan, w, 'alice', QUOTAS);
    },
  );

  it.each([
    ['it grants a policy outside its set', { managed: [S3, ADMIN] }],
    ['it carries an inline policy', { inline: [{ policyName: 'x', document: SQS_DOC }] }],
  ])('is refused, not finished, when %s', (_name, parts) => {
    const w = world({
      users: [alice],
      groups: [group(setGroup(), { path: MIGRATION_GROUP_PATH, managed: [S3], ...parts })],
    });
    const plan = planMigration(stateFor(w, 'alice'), QUOTAS, {});
    expect(plan.kind === 'refused' && plan.reasons[0]).toMatch(/exists but does not grant exactly/);
  });
});

describe('planMigration refuses before any change', () => {
  const alice = user('alice', {
    inline: [{ policyName: 'big', document: policyDoc('s3:'.padEnd(300, 'x')) }],
  });

  it('refuses an inline document larger than a managed policy may be (PolicySizeQuota)', () => {
    const plan = planMigration(
      stateFor(world({ users: [alice] }), 'alice'),
      { ...QUOTAS, policySize: 200 },
      {},
    );
    expect(plan).toEqual({
      kind: 'refused',
      reasons: [expect.stringMatching(/inline policy big is \d+ characters.*\(200, PolicySizeQuota\)/)],
    });
  });

  it('refuses when the account has no room for another group (GroupsQuota)', () => {
    const plan = planMigration(stateFor(world({ users: [alice] }), 'alice'), { ...QUOTAS, groups: 300 }, {});
    expect(plan.kind === 'refused' && plan.reasons.join(' ')).toMatch(/300 of 300 groups \(GroupsQuota\)/);
  });

  it('refuses when the account has no room for another managed policy (PoliciesQuota)', () => {
    const plan = planMigration(
      stateFor(world({ users: [alice] }), 'alice'),
      { ...QUOTAS, policies: 1500 },
      {},
    );
    expect(plan.kind === 'refused' && plan.reasons.join(' ')).toMatch(
      /1500 of 1500 customer managed policies/,
    );
  });

  it('creates a GroupName of 128 characters, the most IAM allows, and refuses one of 129', () => {
    const plan = (groupName: string) =>
      planMigration(stateFor(world({ users: [user('alice', { managed: [S3] })] }), 'alice'), QUOTAS, {
        groupName,
      });
    expect(actions(plan('g'.repeat(128)), 'create-group')).toEqual([
      expect.objectContaining({ groupName: 'g'.repeat(128), kind: 'operator-group' }),
    ]);
    expect(plan('g'.repeat(129))).toMatchObject({
      kind: 'refused',
      reasons: [expect.stringMatching(/is not a valid IAM group name \(1-128 characters/)],
    });
  });

  it('refuses a GroupName that is not a valid IAM group name', () => {
    const plan = planMigration(stateFor(world({ users: [alice] }), 'alice'), QUOTAS, {
      groupName: 'no spaces',
    });
    expect(plan.kind === 'refused' && plan.reasons[0]).toMatch(
      /GroupName "no spaces" is not a valid IAM group name/,
    );
  });

  it('refuses when a set group of the expected name exists with other grants', () => {
    const first = planMigration(
      stateFor(world({ users: [user('alice', { managed: [S3] })] }), 'alice'),
      QUOTAS,
      {},
    );
    const name = actions(first, 'create-group')[0]?.groupName as string;
    const tampered = world({
      users: [user('alice', { managed: [S3] })],
      groups: [group(name.toUpperCase(), { path: MIGRATION_GROUP_PATH, managed: [ADMIN] })],
    });
    const plan = planMigration(stateFor(tampered, 'alice'), QUOTAS, {});
    expect(plan.kind === 'refused' && plan.reasons[0]).toMatch(
      /exists but does not grant exactly managed policy AmazonS3ReadOnlyAccess/,
    );
  });

  it('refuses when the managed policy named after an inline document holds another document', () => {
    const first = planMigration(stateFor(world({ users: [alice] }), 'alice'), QUOTAS, {});
    const made = actions(first, 'create-policy')[0];
    if (made?.action !== 'create-policy') throw new Error('expected a create-policy step');
    const tampered = world({
      users: [alice],
      customerPolicies: [{ ...made, defaultDocument: policyDoc('iam:*') }],
    });
    const plan = planMigration(stateFor(tampered, 'alice'), QUOTAS, {});
    expect(plan.kind === 'refused' && plan.reasons[0]).toMatch(
      /exists but its default version is not the document of inline policy big/,
    );
  });
});
