import {
  AddUserToGroupCommand,
  AttachUserPolicyCommand,
  CreateGroupCommand,
  CreatePolicyCommand,
  CreateUserCommand,
  type IAMClient,
  PutUserPolicyCommand,
} from '@aws-sdk/client-iam';
import { EMULATOR_ACCOUNT_ID } from '../local/emulator.js';
import { inPool } from './pool.js';

/** AWS managed policies moto loads (MOTO_IAM_LOAD_MANAGED_POLICIES), attached directly to some users. */
const AWS_MANAGED = [
  'arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess',
  'arn:aws:iam::aws:policy/ReadOnlyAccess',
  'arn:aws:iam::aws:policy/AdministratorAccess',
] as const;
const CUSTOMER_POLICY_NAMES = ['bench-deploy', 'bench-billing', 'bench-support'] as const;
const GROUP_NAMES = ['bench-developers', 'bench-operators', 'bench-auditors'] as const;
const READ_DOCUMENT = JSON.stringify({
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Action: 's3:GetObject', Resource: '*' }],
});

/**
 * What the i-th benchmark user carries. The mix is fixed so every run builds the same account: about a third
 * of users carry a direct policy (managed, inline or both), half are in a group, some have tags and a
 * non-root path, and one in 500 is an Amazon SES SMTP user with its inline sending policy (exempt by default).
 */
export function benchUserShape(i: number) {
  const ses = i % 500 === 499;
  return {
    userName: ses ? `ses-smtp-user.bench-${i}` : `bench-user-${String(i).padStart(5, '0')}`,
    path: i % 4 === 1 ? '/team-a/' : '/',
    awsManaged: i % 5 === 0 ? AWS_MANAGED[i % AWS_MANAGED.length] : undefined,
    customerManaged: i % 11 === 3 ? CUSTOMER_POLICY_NAMES[i % CUSTOMER_POLICY_NAMES.length] : undefined,
    inlinePolicy: ses || i % 7 === 2 ? 'bench-inline' : undefined,
    group: i % 2 === 0 ? GROUP_NAMES[i % GROUP_NAMES.length] : undefined,
    tags: i % 3 === 0 ? [{ Key: 'team', Value: `team-${i % 9}` }] : undefined,
  };
}

/** Creates the customer managed policies and groups the population refers to. Idempotent only on a fresh account. */
export async function seedSharedResources(iam: IAMClient): Promise<void> {
  for (const name of CUSTOMER_POLICY_NAMES) {
    await iam.send(new CreatePolicyCommand({ PolicyName: name, PolicyDocument: READ_DOCUMENT }));
  }
  for (const name of GROUP_NAMES) await iam.send(new CreateGroupCommand({ GroupName: name }));
}

/**
 * Adds users `from`..`to`-1 of the benchmark population to the emulated account, `concurrency` at a time.
 * Returns the user IDs by name. Seeding is setup, not part of any measurement.
 */
export async function seedUsers(
  iam: IAMClient,
  from: number,
  to: number,
  concurrency = 8,
): Promise<Map<string, string>> {
  const ids = new Map<string, string>();
  await inPool(to - from, concurrency, async (k) => {
    const shape = benchUserShape(from + k);
    const UserName = shape.userName;
    const created = await iam.send(
      new CreateUserCommand({ UserName, Path: shape.path, ...(shape.tags ? { Tags: shape.tags } : {}) }),
    );
    ids.set(UserName, created.User?.UserId ?? '');
    if (shape.awsManaged) {
      await iam.send(new AttachUserPolicyCommand({ UserName, PolicyArn: shape.awsManaged }));
    }
    if (shape.customerManaged) {
      const PolicyArn = `arn:aws:iam::${EMULATOR_ACCOUNT_ID}:policy/${shape.customerManaged}`;
      await iam.send(new AttachUserPolicyCommand({ UserName, PolicyArn }));
    }
    if (shape.inlinePolicy) {
      await iam.send(
        new PutUserPolicyCommand({ UserName, PolicyName: shape.inlinePolicy, PolicyDocument: READ_DOCUMENT }),
      );
    }
    if (shape.group) await iam.send(new AddUserToGroupCommand({ UserName, GroupName: shape.group }));
  });
  return ids;
}
