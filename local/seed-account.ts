import {
  AddUserToGroupCommand,
  AttachGroupPolicyCommand,
  AttachUserPolicyCommand,
  CreateGroupCommand,
  CreatePolicyCommand,
  CreateUserCommand,
  type IAMClient,
  PutUserPolicyCommand,
  TagUserCommand,
} from '@aws-sdk/client-iam';
import type { ComplianceType } from '../rule/verdict.js';

/** What the local run expects for one seeded user: the design the demo checks itself against. */
export interface Expected {
  /** The rule's verdict on the seeded account. */
  readonly before: ComplianceType;
  /** What the remediation does: nothing (compliant or exempt), move the policies, or refuse with reasons. */
  readonly remediation: 'none' | 'migrated' | 'refused';
  /** The rule's verdict after the remediation ran. */
  readonly after: ComplianceType;
}

/** One user of the seeded account. */
export interface SeedUser {
  readonly userName: string;
  readonly path?: string;
  /** The case this user shows, as the demo's table explains it. */
  readonly shows: string;
  readonly groups?: readonly string[];
  /** AWS managed policy names (arn:aws:iam::aws:policy/NAME) or customer managed policy names of this seed. */
  readonly managedPolicies?: readonly string[];
  /** Inline policy name to the actions it allows (on every resource). */
  readonly inlinePolicies?: Readonly<Record<string, readonly string[]>>;
  readonly tags?: Readonly<Record<string, string>>;
  readonly expected: Expected;
}

/** An account description: groups with their policies, customer managed policies, and users. */
export interface SeedAccount {
  /** Customer managed policy name to the actions it allows. */
  readonly customerPolicies: Readonly<Record<string, readonly string[]>>;
  /** Group name to the managed policies attached to it. */
  readonly groups: Readonly<Record<string, readonly string[]>>;
  readonly users: readonly SeedUser[];
}

/** The rule parameters the local run deploys the rule with (AWS Config InputParameters: strings). */
export const DEMO_RULE_PARAMETERS = { exemptUserNames: 'breakglass-admin' } as const;

/** AWS managed read-only policies that moto loads: the seed account's over-quota user, the messy accounts' pool. */
export const READ_ONLY = [
  'AmazonS3ReadOnlyAccess',
  'AmazonEC2ReadOnlyAccess',
  'AmazonDynamoDBReadOnlyAccess',
  'AmazonSQSReadOnlyAccess',
  'AmazonSNSReadOnlyAccess',
  'CloudWatchReadOnlyAccess',
  'AWSLambda_ReadOnlyAccess',
  'AmazonRDSReadOnlyAccess',
  'AmazonRoute53ReadOnlyAccess',
  'AmazonVPCReadOnlyAccess',
  'AWSCloudTrail_ReadOnlyAccess',
  'AmazonKinesisReadOnlyAccess',
] as const;

/** Ten groups, the default GroupsPerUserQuota: a user in all of them cannot join one more. */
const PROJECT_GROUPS = Array.from({ length: 9 }, (_, i) => `project-${String(i + 1).padStart(2, '0')}`);

const migrated: Expected = { before: 'NON_COMPLIANT', remediation: 'migrated', after: 'COMPLIANT' };
const compliant: Expected = { before: 'COMPLIANT', remediation: 'none', after: 'COMPLIANT' };

/**
 * A dozen users that show every case the rule and the remediation handle: policies only through groups, a
 * direct managed policy, an inline policy, both, a redundant grant, an exempt break-glass user, two users with
 * the same direct set, more managed policies than one group may hold, a user already at the groups-per-user
 * quota, an Amazon SES SMTP user and a user with no permissions at all. Shared by the local run, the CLI's
 * tests and the benchmarks.
 */
export const DEMO_ACCOUNT: SeedAccount = {
  customerPolicies: {
    'reports-bucket-read': ['s3:GetObject', 's3:ListBucket'],
  },
  groups: {
    developers: ['AmazonEC2ReadOnlyAccess', 'AmazonS3ReadOnlyAccess'],
    ...Object.fromEntries(PROJECT_GROUPS.map((g) => [g, []])),
  },
  users: [
    {
      userName: 'alice',
      shows: 'policies only through a group',
      groups: ['developers'],
      expected: compliant,
    },
    {
      userName: 'bob',
      shows: 'a direct managed policy',
      managedPolicies: ['AmazonDynamoDBReadOnlyAccess'],
      expected: migrated,
    },
    {
      userName: 'carol',
      shows: 'an inline policy',
      inlinePolicies: { 'carol-queue-access': ['sqs:SendMessage', 'sqs:ReceiveMessage'] },
      expected: migrated,
    },
    {
      userName: 'dave',
      shows: 'managed and inline policies',
      managedPolicies: ['reports-bucket-read'],
      inlinePolicies: { 'dave-logs': ['logs:GetLogEvents', 'logs:FilterLogEvents'] },
      expected: migrated,
    },
    {
      userName: 'erin',
      shows: 'a redundant grant (also given by her group)',
      groups: ['developers'],
      managedPolicies: ['AmazonS3ReadOnlyAccess'],
      expected: migrated,
    },
    {
      userName: 'breakglass-admin',
      path: '/break-glass/',
      shows: 'an exempt break-glass user',
      managedPolicies: ['AdministratorAccess'],
      expected: compliant,
    },
    {
      userName: 'frank',
      shows: 'the same direct set as grace',
      managedPolicies: ['AmazonSQSReadOnlyAccess', 'CloudWatchReadOnlyAccess'],
      expected: migrated,
    },
    {
      userName: 'grace',
      shows: 'the same direct set as frank',
      managedPolicies: ['AmazonSQSReadOnlyAccess', 'CloudWatchReadOnlyAccess'],
      expected: migrated,
    },
    {
      userName: 'heidi',
      shows: 'more managed policies than one group may hold',
      managedPolicies: [...READ_ONLY],
      expected: migrated,
    },
    {
      userName: 'ivan',
      shows: 'already at the groups-per-user quota',
      groups: ['developers', ...PROJECT_GROUPS],
      managedPolicies: ['AmazonSNSReadOnlyAccess'],
      expected: { before: 'NON_COMPLIANT', remediation: 'refused', after: 'NON_COMPLIANT' },
    },
    {
      userName: 'ses-smtp-user.20240101-120000',
      shows: 'an Amazon SES SMTP user (exempt by design)',
      inlinePolicies: { AmazonSesSendingAccess: ['ses:SendRawEmail'] },
      expected: compliant,
    },
    { userName: 'judy', shows: 'no permissions at all', tags: { team: 'finance' }, expected: compliant },
  ],
};

/** The seeded users' IDs by name: moto invents them, and Config events and remediation need them. */
export type SeededUserIds = ReadonlyMap<string, string>;

/**
 * Creates the account in IAM (the emulator, normally): customer managed policies, groups with their policies,
 * then users with their groups, policies and tags. Returns the user IDs IAM assigned.
 */
export async function seedAccount(
  iam: IAMClient,
  account: SeedAccount = DEMO_ACCOUNT,
): Promise<SeededUserIds> {
  const accountPolicyArn = new Map<string, string>();
  for (const [name, actions] of Object.entries(account.customerPolicies)) {
    const created = await iam.send(
      new CreatePolicyCommand({ PolicyName: name, PolicyDocument: allowDocument(actions) }),
    );
    const arn = created.Policy?.Arn;
    if (arn === undefined) throw new Error(`CreatePolicy ${name} returned no ARN`);
    accountPolicyArn.set(name, arn);
  }
  const arnOf = (name: string) => accountPolicyArn.get(name) ?? `arn:aws:iam::aws:policy/${name}`;

  for (const [group, policies] of Object.entries(account.groups)) {
    await iam.send(new CreateGroupCommand({ GroupName: group }));
    for (const policy of policies) {
      await iam.send(new AttachGroupPolicyCommand({ GroupName: group, PolicyArn: arnOf(policy) }));
    }
  }

  const ids = new Map<string, string>();
  for (const user of account.users) {
    const created = await iam.send(
      new CreateUserCommand({
        UserName: user.userName,
        ...(user.path !== undefined ? { Path: user.path } : {}),
      }),
    );
    const userId = created.User?.UserId;
    if (userId === undefined) throw new Error(`CreateUser ${user.userName} returned no UserId`);
    ids.set(user.userName, userId);
    for (const group of user.groups ?? []) {
      await iam.send(new AddUserToGroupCommand({ GroupName: group, UserName: user.userName }));
    }
    for (const policy of user.managedPolicies ?? []) {
      await iam.send(new AttachUserPolicyCommand({ UserName: user.userName, PolicyArn: arnOf(policy) }));
    }
    for (const [name, actions] of Object.entries(user.inlinePolicies ?? {})) {
      await iam.send(
        new PutUserPolicyCommand({
          UserName: user.userName,
          PolicyName: name,
          PolicyDocument: allowDocument(actions),
        }),
      );
    }
    const tags = Object.entries(user.tags ?? {});
    if (tags.length > 0) {
      await iam.send(
        new TagUserCommand({ UserName: user.userName, Tags: tags.map(([Key, Value]) => ({ Key, Value })) }),
      );
    }
  }
  return ids;
}

function allowDocument(actions: readonly string[]): string {
  return JSON.stringify({
    Version: '2012-10-17',
    Statement: [{ Effect: 'Allow', Action: [...actions], Resource: '*' }],
  });
}
