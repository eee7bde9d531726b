import { describe, expect, it } from 'vitest';
import {
  checkDesignInvariant,
  checkDesignQuotas,
  designAccount,
  userFingerprint,
} from '../remediation/design/account-design.js';
import type { DesignPlan } from '../remediation/design/design-types.js';
import { USERNAME_VARIABLE } from '../remediation/design/username-variable.js';
import {
  ACCOUNT,
  account,
  appliedSnapshot,
  aws,
  DEFAULT_QUOTAS,
  generatedAccount,
  group,
  homeDocument,
  user,
} from './support/design-accounts.js';

const S3 = aws('AmazonS3ReadOnlyAccess');
const EC2 = aws('AmazonEC2ReadOnlyAccess');
const DDB = aws('AmazonDynamoDBFullAccess');
const SQS = aws('AmazonSQSReadOnlyAccess');

function expectSound(snapshot: Parameters<typeof designAccount>[0], plan: DesignPlan) {
  expect(checkDesignInvariant(snapshot, plan)).toEqual([]);
  expect(checkDesignQuotas(snapshot, DEFAULT_QUOTAS, plan)).toEqual([]);
}

describe('designAccount: small accounts whose best design is plain to see', () => {
  it('users with the same direct policies share one new group; nobody gains or loses', () => {
    const snapshot = account([user('alice', { managed: [S3, EC2] }), user('bob', { managed: [EC2, S3] })]);
    const plan = designAccount(snapshot, DEFAULT_QUOTAS);
    expect(plan.groups).toEqual([
      expect.objectContaining({
        name: 'ec2-read+s3-read',
        path: '/policy-migration/',
        status: 'new',
        policies: [EC2, S3],
        members: ['alice', 'bob'],
      }),
    ]);
    expect(plan.users.map((u) => [u.userName, u.joins, u.detachManaged])).toEqual([
      ['alice', ['ec2-read+s3-read'], [EC2, S3]],
      ['bob', ['ec2-read+s3-read'], [EC2, S3]],
    ]);
    expect(plan.summary).toMatchObject({
      before: { groups: 0, memberships: 0, directPolicies: 4 },
      after: { groups: 1, memberships: 2, directPolicies: 0 },
      newGroups: 1,
    });
    expect(plan.accountId).toBe(ACCOUNT);
    expectSound(snapshot, plan);
  });

  it('a user whose set is the union of two others’ joins both of their groups', () => {
    const snapshot = account([
      user('alice', { managed: [S3, EC2] }),
      user('bob', { managed: [DDB, SQS] }),
      user('carol', { managed: [S3, EC2, DDB, SQS] }),
    ]);
    const plan = designAccount(snapshot, DEFAULT_QUOTAS);
    expect(plan.summary.newGroups).toBe(2);
    expect(plan.users.find((u) => u.userName === 'carol')?.joins).toHaveLength(2);
    expectSound(snapshot, plan);
  });

  it('a direct policy a current group already gives is only removed', () => {
    const snapshot = account(
      [user('alice', { managed: [S3], groups: ['readers'] })],
      [group('readers', [S3])],
    );
    const plan = designAccount(snapshot, DEFAULT_QUOTAS);
    expect(plan.groups).toEqual([]);
    expect(plan.users).toEqual([
      expect.objectContaining({ userName: 'alice', joins: [], detachManaged: [S3], deleteInline: [] }),
    ]);
    expectSound(snapshot, plan);
  });

  it('users with no direct policy and users not selected are untouched', () => {
    const snapshot = account(
      [
        user('alice', { groups: ['readers'] }),
        user('bob', { managed: [S3] }),
        user('carol', { managed: [S3], path: '/ops/' }),
      ],
      [group('readers', [S3])],
    );
    const plan = designAccount(snapshot, DEFAULT_QUOTAS, { pathPrefix: '/ops/' });
    expect(plan.users.map((u) => u.userName)).toEqual(['carol']);
    expect(designAccount(snapshot, DEFAULT_QUOTAS, { users: ['BOB'] }).users.map((u) => u.userName)).toEqual([
      'bob',
    ]);
    expect(designAccount(snapshot, DEFAULT_QUOTAS).users.map((u) => u.userName)).toEqual(['bob', 'carol']);
  });

  it('a user named in options.users that the account does not have is an error', () => {
    expect(() =>
      designAccount(account([user('bob', { managed: [S3] })]), DEFAULT_QUOTAS, { users: ['mallory'] }),
    ).toThrow('no IAM user named mallory in the account');
  });

  it('exempt users are skipped with the exemption named', () => {
    const snapshot = account([
      user('breakglass', { managed: [aws('AdministratorAccess')] }),
      user('bob', { managed: [S3] }),
    ]);
    const plan = designAccount(snapshot, DEFAULT_QUOTAS, {
      exemptUser: (u) => (u.userName === 'breakglass' ? 'user name listed in exemptUserNames' : undefined),
    });
    expect(plan.skipped).toEqual([
      { userName: 'breakglass', reason: 'exempt: user name listed in exemptUserNames' },
    ]);
    expect(plan.users.map((u) => u.userName)).toEqual(['bob']);
    expectSound(snapshot, plan);
  });

  it('an existing group outside /policy-migration/ is reused only when the operator lists it', () => {
    const snapshot = account(
      [user('alice', { managed: [S3] }), user('bob', { managed: [S3] })],
      [group('readers', [S3])],
    );
    const plain = designAccount(snapshot, DEFAULT_QUOTAS);
    expect(plain.groups.map((g) => [g.name, g.status])).toEqual([['s3-read', 'new']]);
    const joined = designAccount(snapshot, DEFAULT_QUOTAS, { joinableGroups: ['readers'] });
    expect(joined.groups.map((g) => [g.name, g.status, g.members])).toEqual([
      ['readers', 'existing', ['alice', 'bob']],
    ]);
    expect(joined.summary.newGroups).toBe(0);
    expectSound(snapshot, joined);
  });

  it('an existing /policy-migration/ group is reused; one granting more than a user keeps is not', () => {
    const snapshot = account(
      [user('alice', { managed: [S3] }), user('bob', { managed: [S3] })],
      [group('s3-set', [S3], '/policy-migration/'), group('wide', [S3, DDB], '/policy-migration/')],
    );
    const plan = designAccount(snapshot, DEFAULT_QUOTAS);
    expect(plan.groups.find((g) => g.name === 's3-set')).toMatchObject({
      status: 'existing',
      members: ['alice', 'bob'],
    });
    expect(plan.groups.find((g) => g.name === 'wide')).toBeUndefined();
    expect(plan.summary.newGroups).toBe(0);
    expectSound(snapshot, plan);
  });

  it('a new group never takes the name of an existing one, in any case', () => {
    const snapshot = account(
      [user('alice', { managed: [S3] }), user('bob', { managed: [S3] })],
      [group('S3-READ', [EC2])],
    );
    const plan = designAccount(snapshot, DEFAULT_QUOTAS);
    expect(plan.groups[0]?.name).toMatch(/^s3-read-[0-9a-f]{6}$/);
    expectSound(snapshot, plan);
  });

  it('home-folder inline policies of several users become one policy written with the username variable', () => {
    const names = ['alice', 'bob', 'carol'];
    const snapshot = account(names.map((n) => user(n, { inline: { [`${n}-home`]: homeDocument(n) } })));
    const plan = designAccount(snapshot, DEFAULT_QUOTAS);
    expect(plan.groups).toHaveLength(1);
    expect(plan.groups[0]).toMatchObject({ name: 'home', members: names });
    const [key] = plan.groups[0]?.policies ?? [];
    const policy = plan.policies[key as string];
    expect(policy).toMatchObject({
      kind: 'new-managed',
      policyArn: expect.stringMatching(/:policy\/policy-migration\/inline-/),
    });
    expect(policy?.kind === 'new-managed' && policy.document).toContain(`home/${USERNAME_VARIABLE}/*`);
    expect(plan.rewrites).toEqual([
      { policy: key, replaces: names.map((n) => ({ userName: n, policyName: `${n}-home` })) },
    ]);
    expect(plan.users.map((u) => u.deleteInline)).toEqual(names.map((n) => [`${n}-home`]));
    expectSound(snapshot, plan);
  });

  it('a team tag all members share names the group', () => {
    const snapshot = account([
      user('alice', { managed: [S3], tags: { team: 'payments' } }),
      user('bob', { managed: [S3], tags: { team: 'payments' } }),
    ]);
    expect(designAccount(snapshot, DEFAULT_QUOTAS).groups[0]?.name).toBe('payments_s3-read');
  });

  it('more policies than a group may hold are split; a user at the groups-per-user quota is skipped', () => {
    const many = Array.from({ length: 12 }, (_, i) => aws(`P${String(i).padStart(2, '0')}`));
    const full = Array.from({ length: 10 }, (_, i) => `g${i}`);
    const snapshot = account(
      [user('alice', { managed: many }), user('ivan', { managed: [S3], groups: full })],
      full.map((g) => group(g, [aws(`G-${g}`)])),
    );
    const plan = designAccount(snapshot, DEFAULT_QUOTAS);
    expect(plan.groups.map((g) => g.policies.length).sort()).toEqual([10, 2]);
    expect(plan.skipped).toEqual([
      { userName: 'ivan', reason: expect.stringContaining('GroupsPerUserQuota') },
    ]);
    expectSound(snapshot, plan);
    const unlimited = designAccount(snapshot, DEFAULT_QUOTAS, { quotas: 'unlimited' });
    expect(unlimited.skipped).toEqual([]);
    expect(checkDesignInvariant(snapshot, unlimited)).toEqual([]);
  });

  it('an inline document larger than a managed policy may hold skips its user', () => {
    const huge = JSON.stringify({
      Version: '2012-10-17',
      Statement: [
        {
          Effect: 'Allow',
          Action: 's3:GetObject',
          Resource: Array.from({ length: 400 }, (_, i) => `arn:aws:s3:::bucket-${i}/*`),
        },
      ],
    });
    const plan = designAccount(account([user('alice', { inline: { big: huge } })]), DEFAULT_QUOTAS);
    expect(plan.skipped).toEqual([{ userName: 'alice', reason: expect.stringContaining('PolicySizeQuota') }]);
    expect(plan.users).toEqual([]);
  });

  it('the fingerprint changes with the user’s direct policies and groups, not with layout', () => {
    const a = user('alice', { managed: [S3], inline: { x: '{"Version":"2012-10-17","Statement":[]}' } });
    const same = user('alice', {
      managed: [S3],
      inline: { x: '{ "Statement": [], "Version": "2012-10-17" }' },
    });
    expect(userFingerprint(same)).toBe(userFingerprint(a));
    expect(userFingerprint(user('alice', { managed: [S3, EC2] }))).not.toBe(userFingerprint(a));
    expect(userFingerprint({ ...a, groupNames: ['g'] })).not.toBe(userFingerprint(a));
  });
});

describe('re-planning', () => {
  const snapshot = generatedAccount(7, 80);
  const plan = designAccount(snapshot, DEFAULT_QUOTAS);

  it('after the plan was applied, there is nothing left to do', () => {
    const after = appliedSnapshot(snapshot, plan);
    expect(checkDesignInvariant(snapshot, plan)).toEqual([]);
    const again = designAccount(after, DEFAULT_QUOTAS);
    expect(again.users.filter((u) => !plan.skipped.some((s) => s.userName === u.userName))).toEqual([]);
    expect(again.summary.newGroups).toBe(0);
  });

  it('after an apply that created the groups and stopped, the re-plan joins those groups', () => {
    const halfway = appliedSnapshot(snapshot, plan, true);
    const again = designAccount(halfway, DEFAULT_QUOTAS);
    expect(checkDesignInvariant(halfway, again)).toEqual([]);
    expect(again.summary.newGroups).toBe(0);
    expect(again.groups.map((g) => g.name).sort()).toEqual(plan.groups.map((g) => g.name).sort());
  });
});

describe('checkDesignInvariant catches a plan that changes what someone can do', () => {
  const snapshot = account([user('alice', { managed: [S3] }), user('bob', { managed: [S3, EC2] })]);
  const plan = designAccount(snapshot, DEFAULT_QUOTAS);

  it('a user who would lose a policy', () => {
    const broken = {
      ...plan,
      users: plan.users.map((u) => (u.userName === 'bob' ? { ...u, joins: [] } : u)),
    };
    expect(checkDesignInvariant(snapshot, broken).join('\n')).toMatch(/bob loses managed policy/);
  });

  it('a user who would gain a policy', () => {
    const broken = {
      ...plan,
      users: plan.users.map((u) => ({ ...u, joins: plan.groups.map((g) => g.name) })),
    };
    expect(checkDesignInvariant(snapshot, broken).join('\n')).toMatch(/alice gains managed policy/);
  });
});

describe('designAccount on generated accounts (seeded)', () => {
  for (const seed of [1, 2, 3]) {
    it(`seed ${seed}: 150 users, nobody gains or loses, quotas kept, deterministic`, () => {
      const snapshot = generatedAccount(seed, 150);
      const exemptUser = (u: { path: string }) =>
        u.path.startsWith('/break-glass/') ? 'path /break-glass/' : undefined;
      const plan = designAccount(snapshot, DEFAULT_QUOTAS, { exemptUser });
      expectSound(snapshot, plan);
      expect(plan.summary.after.directPolicies).toBe(
        snapshot.users
          .filter(
            (u) =>
              plan.skipped.some((s) => s.userName === u.userName) ||
              !plan.users.some((c) => c.userName === u.userName),
          )
          .reduce((n, u) => n + u.managedPolicies.length + u.inlinePolicies.length, 0),
      );
      expect(plan.rewrites.length).toBeGreaterThan(0);
      // Far fewer groups than users: shared job functions become shared groups.
      expect(plan.summary.newGroups).toBeLessThan(plan.users.length / 3);
      const shuffled = {
        ...snapshot,
        users: [...snapshot.users].reverse(),
        groups: [...snapshot.groups].reverse(),
      };
      expect(designAccount(shuffled, DEFAULT_QUOTAS, { exemptUser })).toEqual(plan);
    });
  }
});
