import {
  ConfigServiceClient,
  PutEvaluationsCommand,
  type PutEvaluationsCommandInput,
} from '@aws-sdk/client-config-service';
import { GetAccountAuthorizationDetailsCommand, IAMClient } from '@aws-sdk/client-iam';
import { App, Aspects, Stack, Tags } from 'aws-cdk-lib';
import { Annotations, Match } from 'aws-cdk-lib/assertions';
import * as cdkIam from 'aws-cdk-lib/aws-iam';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { scanUsers } from '../cli/scan-report.js';
import { IamUserPolicyGuard } from '../infra/iam-user-policy-guard.js';
import { readAccountUsers } from '../rule/aws/iam.js';
import { silentLogger } from '../rule/log.js';
import { parseRuleParameters } from '../rule/parameters.js';
import { runConfigRule } from '../rule/run-rule.js';
import { changeEvent } from './support/events.js';

const config = new ConfigServiceClient({ region: 'us-east-1' });
const iam = new IAMClient({ region: 'us-east-1' });
const configMock = mockClient(config);
const iamMock = mockClient(iam);
const deps = { clientsFor: () => ({ config, iam }), log: silentLogger };
const S3Attached = {
  PolicyName: 'AmazonS3ReadOnlyAccess',
  PolicyArn: 'arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess',
};
const S3 = {
  policyName: 'AmazonS3ReadOnlyAccess',
  policyArn: 'arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess',
};

beforeEach(() => {
  configMock.reset();
  iamMock.reset();
  configMock.on(PutEvaluationsCommand).resolves({ FailedEvaluations: [] });
});

async function verdictOf(event: unknown) {
  await runConfigRule(event, deps);
  const input = configMock.commandCalls(PutEvaluationsCommand)[0]?.args[0]
    .input as PutEvaluationsCommandInput;
  return input.Evaluations?.[0];
}

describe('tag keys that are also names of Object.prototype', () => {
  const keys = ['constructor', 'toString', '__proto__', 'hasOwnProperty', 'valueOf'];

  it.each(keys)('exemptionTagKey %s passes validation', (key) => {
    expect(parseRuleParameters({ exemptionTagKey: key }).exemptionTagKey).toBe(key);
  });

  it.each(keys)('a user without the %s tag is judged on its policies, not crashed', async (key) => {
    const evaluation = await verdictOf(
      changeEvent(
        { attachedManagedPolicies: [S3] },
        {},
        { ruleParameters: JSON.stringify({ exemptionTagKey: key }) },
      ),
    );
    expect(evaluation?.ComplianceType).toBe('NON_COMPLIANT');
  });

  it.each(keys)('a user carrying the %s tag with a reason is exempt by it', async (key) => {
    const evaluation = await verdictOf(
      changeEvent(
        { attachedManagedPolicies: [S3], tags: [{ key, value: 'break-glass, ticket 42' }] },
        {},
        { ruleParameters: JSON.stringify({ exemptionTagKey: key }) },
      ),
    );
    expect(evaluation).toMatchObject({ ComplianceType: 'COMPLIANT' });
    expect(evaluation?.Annotation).toContain(`Exempt by tag ${key}: break-glass, ticket 42`);
  });

  it('a __proto__ tag does not make another exemption key match', async () => {
    const evaluation = await verdictOf(
      changeEvent(
        { attachedManagedPolicies: [S3], tags: [{ key: '__proto__', value: 'x' }] },
        {},
        { ruleParameters: JSON.stringify({ exemptionTagKey: 'toString' }) },
      ),
    );
    expect(evaluation?.ComplianceType).toBe('NON_COMPLIANT');
  });
});

describe('tolerant where the verdict does not look', () => {
  it('an inline policy whose policyDocument is already an object (older items, RDK examples) is judged', async () => {
    const document = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }] };
    const evaluation = await verdictOf(
      changeEvent({ userPolicyList: [{ policyName: 'everything', policyDocument: document }] }),
    );
    expect(evaluation?.ComplianceType).toBe('NON_COMPLIANT');
    expect(evaluation?.Annotation).toContain('everything (inline)');
  });

  it('an inline policy without a document, and unknown extra fields, are judged', async () => {
    const evaluation = await verdictOf(
      changeEvent(
        { userPolicyList: [{ policyName: 'q', somethingNew: 1 }], futureField: { a: 1 } },
        { relatedEvents: [], relationships: [{ name: 'Is attached to' }], configurationItemVersion: '1.2' },
      ),
    );
    expect(evaluation?.ComplianceType).toBe('NON_COMPLIANT');
  });
});

describe('strict where it looks, saying what was expected', () => {
  it.each([
    ['a user name that is a number', { userName: 42 }, 'userName: expected a string, got a number'],
    ['a user name IAM would refuse', { userName: 'a b' }, 'userName: expected an IAM user name'],
    ['a group list that is a string', { groupList: 'admins' }, 'groupList: expected an array, got a string'],
    [
      'a managed policy ARN that is not one',
      { attachedManagedPolicies: [{ policyName: 'x', policyArn: 'x' }] },
      'attachedManagedPolicies.0.policyArn: expected an IAM managed policy ARN',
    ],
    ['an empty user ID', { userId: '' }, 'userId: expected an IAM user ID'],
  ])('%s: a clear error naming the field, nothing reported', async (_name, configuration, message) => {
    await expect(runConfigRule(changeEvent(configuration), deps)).rejects.toThrow(message);
    expect(configMock.calls()).toHaveLength(0);
  });

  it('an unknown item status names the values expected', async () => {
    await expect(runConfigRule(changeEvent({}, { configurationItemStatus: 'Gone' }), deps)).rejects.toThrow(
      'configurationItemStatus: expected one of "OK", "ResourceDiscovered"',
    );
  });
});

describe('prototype-named tag keys in scan and in the CDK Aspect', () => {
  const keys = ['constructor', 'toString', '__proto__'];

  it.each(keys)('scan with exemptionTagKey %s judges tagged and untagged users', async (key) => {
    iamMock.on(GetAccountAuthorizationDetailsCommand).resolves({
      IsTruncated: false,
      UserDetailList: [
        { UserName: 'plain', UserId: 'AIDAPLAIN00000000001', AttachedManagedPolicies: [S3Attached] },
        {
          UserName: 'tagged',
          UserId: 'AIDATAGGED0000000001',
          AttachedManagedPolicies: [S3Attached],
          Tags: [{ Key: key, Value: 'approved' }],
        },
      ],
    });
    const report = scanUsers(await readAccountUsers(iam), parseRuleParameters({ exemptionTagKey: key }));
    expect(report.users.map((u) => [u.userName, u.compliance])).toEqual([
      ['plain', 'NON_COMPLIANT'],
      ['tagged', 'COMPLIANT'],
    ]);
  });

  it.each(keys)('the Aspect with exemptionTagKey %s reports an untagged user instead of crashing', (key) => {
    const app = new App();
    const stack = new Stack(app, 'Team');
    Aspects.of(app).add(new IamUserPolicyGuard({ ruleParameters: { exemptionTagKey: key } }));
    new cdkIam.User(stack, 'Plain', {
      userName: 'plain',
      managedPolicies: [cdkIam.ManagedPolicy.fromAwsManagedPolicyName('AdministratorAccess')],
    });
    const errors = Annotations.fromStack(stack).findError('*', Match.anyValue());
    expect(errors.map((m) => String(m.entry.data))).toEqual([
      expect.stringContaining('IAM user plain would carry policies directly'),
    ]);
  });

  it.each(['constructor', 'toString'])('the Aspect honours a %s exemption tag', (key) => {
    const app = new App();
    const stack = new Stack(app, 'Team');
    Aspects.of(app).add(new IamUserPolicyGuard({ ruleParameters: { exemptionTagKey: key } }));
    const user = new cdkIam.User(stack, 'Emergency', {
      userName: 'emergency',
      managedPolicies: [cdkIam.ManagedPolicy.fromAwsManagedPolicyName('AdministratorAccess')],
    });
    Tags.of(user).add(key, 'SEC-99 approved');
    expect(Annotations.fromStack(stack).findError('*', Match.anyValue())).toEqual([]);
  });
});
