import {
  AttachUserPolicyCommand,
  CreateUserCommand,
  type IAMClient,
  PutUserPolicyCommand,
} from '@aws-sdk/client-iam';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { clientsFor, type Emulator, startEmulator } from '../local/emulator.js';
import { migrateUserPolicies } from '../remediation/migrate.js';

const S3_READ = 'arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess';
const doc = (action: string) =>
  JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: action, Resource: '*' }] });

let emulator: Emulator;
let iam: IAMClient;
beforeAll(async () => {
  emulator = await startEmulator();
  iam = clientsFor(emulator.endpoint).iam;
});
afterAll(async () => emulator?.stop());
beforeEach(async () => emulator.reset());

describe('migrateUserPolicies', () => {
  it('moves a user with a managed and an inline policy into one policy-set group', async () => {
    await iam.send(new CreateUserCommand({ UserName: 'alice' }));
    await iam.send(new AttachUserPolicyCommand({ UserName: 'alice', PolicyArn: S3_READ }));
    await iam.send(
      new PutUserPolicyCommand({ UserName: 'alice', PolicyName: 'sqs', PolicyDocument: doc('sqs:*') }),
    );

    const result = await migrateUserPolicies(iam, { userName: 'alice', dryRun: false });

    expect(result.status).toBe('migrated');
    expect(result.changes.map((s) => s.action)).toContain('add-user-to-group');
    const again = await migrateUserPolicies(iam, { userName: 'alice', dryRun: false });
    expect(again.status).toBe('already-compliant');
  });
});
