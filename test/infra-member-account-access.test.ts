import {
  AttachUserPolicyCommand,
  CreateUserCommand,
  IAMClient,
  PutUserPolicyCommand,
} from '@aws-sdk/client-iam';
import { AssumeRoleCommand } from '@aws-sdk/client-sts';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { type ConfigStandIn, startConfigStandIn } from '../local/config-stand-in.js';
import {
  clientsFor,
  EMULATOR_ACCOUNT_ID,
  EMULATOR_REGION,
  type Emulator,
  startEmulator,
} from '../local/emulator.js';
import {
  AccountAccessError,
  accountAccessFor,
  accountClientsResolver,
  functionLocation,
} from '../rule/aws/account-clients.js';
import { scheduledEvent } from './support/events.js';

const CENTRAL = '111111111111';
const MEMBER = '222222222222';
const FUNCTION_ARN = `arn:aws:lambda:eu-west-1:${CENTRAL}:function:IamUserNoDirectPolicies-Rule`;
const ROLE_NAME = 'IamUserNoDirectPolicies-RuleMember';

describe('which account the rule evaluates with', () => {
  it('an event for the function’s own account uses the function’s own credentials', () => {
    expect(accountAccessFor(CENTRAL, FUNCTION_ARN, ROLE_NAME)).toEqual({ kind: 'own', accountId: CENTRAL });
  });

  it('an event from a member account assumes the member role in that account', () => {
    expect(accountAccessFor(MEMBER, FUNCTION_ARN, ROLE_NAME)).toEqual({
      kind: 'assumeRole',
      accountId: MEMBER,
      roleArn: `arn:aws:iam::${MEMBER}:role/${ROLE_NAME}`,
    });
  });

  it('the member role ARN is in the function’s partition, and a version or alias qualifier is ignored', () => {
    const arn = `arn:aws-cn:lambda:cn-north-1:${CENTRAL}:function:rule:live`;
    expect(functionLocation(arn)).toEqual({ partition: 'aws-cn', accountId: CENTRAL });
    expect(accountAccessFor(MEMBER, arn, ROLE_NAME)).toMatchObject({
      roleArn: `arn:aws-cn:iam::${MEMBER}:role/${ROLE_NAME}`,
    });
  });

  it('a single-account deployment refuses an event for another account and says what to deploy', () => {
    expect(() => accountAccessFor(MEMBER, FUNCTION_ARN, undefined)).toThrow(
      /event is for account 222222222222 but this function runs in 111111111111 and has no member role configured/,
    );
  });

  it('an event account that is not a 12-digit ID is refused', () => {
    expect(() => accountAccessFor('12345', FUNCTION_ARN, ROLE_NAME)).toThrow(AccountAccessError);
  });

  it('a context ARN that is not a Lambda function ARN is refused', () => {
    expect(() => accountAccessFor(MEMBER, `arn:aws:iam::${CENTRAL}:role/x`, ROLE_NAME)).toThrow(
      /is not a Lambda function ARN/,
    );
  });
});

describe('clients per account', () => {
  interface FakeClients {
    readonly roleArn: string | 'own';
  }
  const own: FakeClients = { roleArn: 'own' };
  const resolver = (memberRoleName: string | undefined) =>
    accountClientsResolver<FakeClients>({ own, memberRoleName, createClients: (roleArn) => ({ roleArn }) });

  it('without an invocation context (local runs) the function’s own clients are used', () => {
    expect(resolver(ROLE_NAME)(MEMBER, undefined)).toBe(own);
  });

  it('the function’s own account gets its own clients', () => {
    expect(resolver(ROLE_NAME)(CENTRAL, FUNCTION_ARN)).toBe(own);
  });

  it('a member account gets clients for the member role, kept for later invocations', () => {
    const clientsFor = resolver(ROLE_NAME);
    const first = clientsFor(MEMBER, FUNCTION_ARN);
    expect(first).toEqual({ roleArn: `arn:aws:iam::${MEMBER}:role/${ROLE_NAME}` });
    expect(clientsFor(MEMBER, FUNCTION_ARN)).toBe(first);
    expect(clientsFor('333333333333', FUNCTION_ARN)).not.toBe(first);
  });

  it('a member role name that IAM would not accept is refused when the function starts', () => {
    expect(() => resolver('not a role name')).toThrow(/is not a valid IAM role name/);
  });
});

describe('the handler in an organization, against the emulator', () => {
  // moto keeps one account per AssumeRole target: credentials for a role in 222222222222 see that account.
  const MEMBER_ACCOUNT = '222222222222';
  const RULE_FUNCTION = `arn:aws:lambda:${EMULATOR_REGION}:${EMULATOR_ACCOUNT_ID}:function:IamUserNoDirectPolicies-Rule`;
  let emulator: Emulator;
  let standIn: ConfigStandIn;

  beforeAll(async () => {
    [emulator, standIn] = await Promise.all([startEmulator(), startConfigStandIn()]);
    const central = clientsFor(emulator.endpoint);
    await central.iam.send(new CreateUserCommand({ UserName: 'central-user' }));
    await central.iam.send(
      new AttachUserPolicyCommand({
        UserName: 'central-user',
        PolicyArn: 'arn:aws:iam::aws:policy/ReadOnlyAccess',
      }),
    );
    const assumed = await central.sts.send(
      new AssumeRoleCommand({
        RoleArn: `arn:aws:iam::${MEMBER_ACCOUNT}:role/${ROLE_NAME}`,
        RoleSessionName: 'seed',
      }),
    );
    const member = new IAMClient({
      endpoint: emulator.endpoint,
      region: EMULATOR_REGION,
      credentials: {
        accessKeyId: assumed.Credentials?.AccessKeyId ?? '',
        secretAccessKey: assumed.Credentials?.SecretAccessKey ?? '',
        sessionToken: assumed.Credentials?.SessionToken ?? '',
      },
    });
    await member.send(new CreateUserCommand({ UserName: 'member-user' }));
    const document = JSON.stringify({
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Action: 's3:ListBucket', Resource: '*' }],
    });
    await member.send(
      new PutUserPolicyCommand({
        UserName: 'member-user',
        PolicyName: 'member-inline',
        PolicyDocument: document,
      }),
    );
  });
  afterAll(async () => {
    await Promise.all([emulator?.stop(), standIn?.stop()]);
  });

  async function runHandler(accountId: string, rule: string) {
    for (const [key, value] of Object.entries(emulator.env)) vi.stubEnv(key, value);
    vi.stubEnv('AWS_ENDPOINT_URL_CONFIG_SERVICE', standIn.endpoint);
    vi.stubEnv('MEMBER_ROLE_NAME', ROLE_NAME);
    const write = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    try {
      vi.resetModules();
      const { handler } = await import('../rule/handler.js');
      return await handler(scheduledEvent({}, { accountId, configRuleName: rule, resultToken: rule }), {
        invokedFunctionArn: RULE_FUNCTION,
      });
    } finally {
      write.mockRestore();
      vi.unstubAllEnvs();
    }
  }

  it('an event from a member account is judged with the member role, on that account’s users only', async () => {
    const result = await runHandler(MEMBER_ACCOUNT, 'member-rule');
    expect(result.usersEvaluated).toBe(1);
    expect(result.evaluations).toEqual([
      expect.objectContaining({
        ComplianceType: 'NON_COMPLIANT',
        Annotation: '1 policy attached directly: member-inline (inline). Grant them through groups.',
      }),
    ]);
  });

  it('an event from the function’s own account uses its own credentials', async () => {
    const result = await runHandler(EMULATOR_ACCOUNT_ID, 'central-rule');
    expect(result.usersEvaluated).toBe(1);
    expect(result.evaluations[0]?.Annotation).toContain('ReadOnlyAccess (managed)');
  });
});
