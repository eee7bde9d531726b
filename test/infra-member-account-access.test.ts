import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import {
  AccountAccessError,
  accountAccessFor,
  accountClientsResolver,
  assumedRoleCredentials,
  CREDENTIAL_REFRESH_MARGIN_MS,
  type CredentialsProvider,
  functionLocation,
  MEMBER_ROLE_SESSION_NAME,
} from '../rule/aws/account-clients.js';

const CENTRAL = '111111111111';
const MEMBER = '222222222222';
const FUNCTION_ARN = `arn:aws:lambda:eu-west-1:${CENTRAL}:function:IamUserNoDirectPolicies-Rule`;
const ROLE_NAME = 'IamUserNoDirectPolicies-RuleMember';
const HOUR = 3_600_000;

const sts = mockClient(STSClient);
let clock = Date.parse('2026-03-01T12:00:00Z');
const now = () => clock;

function answerAssumeRole(expiresInMs = HOUR) {
  sts.on(AssumeRoleCommand).callsFake(async () => ({
    Credentials: {
      AccessKeyId: `ASIA${sts.commandCalls(AssumeRoleCommand).length}`,
      SecretAccessKey: 'secret',
      SessionToken: 'token',
      Expiration: new Date(clock + expiresInMs),
    },
  }));
}

beforeEach(() => {
  sts.reset();
  clock = Date.parse('2026-03-01T12:00:00Z');
});

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
    readonly credentials: CredentialsProvider | 'own';
  }
  const own: FakeClients = { credentials: 'own' };
  const resolver = (memberRoleName: string | undefined) =>
    accountClientsResolver<FakeClients>({
      own,
      memberRoleName,
      sts: new STSClient({ region: 'eu-west-1' }),
      createClients: (credentials) => ({ credentials }),
      now,
    });

  it('without an invocation context (local runs) the function’s own clients are used', () => {
    expect(resolver(ROLE_NAME)(MEMBER, undefined)).toBe(own);
  });

  it('the function’s own account gets its own clients and no role is assumed', () => {
    expect(resolver(ROLE_NAME)(CENTRAL, FUNCTION_ARN)).toBe(own);
    expect(sts.commandCalls(AssumeRoleCommand)).toHaveLength(0);
  });

  it('a member account gets clients signed with the member role, kept for later invocations', async () => {
    answerAssumeRole();
    const clientsFor = resolver(ROLE_NAME);
    const first = clientsFor(MEMBER, FUNCTION_ARN);
    expect(first).not.toBe(own);
    expect(clientsFor(MEMBER, FUNCTION_ARN)).toBe(first);
    expect(clientsFor('333333333333', FUNCTION_ARN)).not.toBe(first);
    if (first.credentials === 'own') throw new Error('expected member credentials');
    await first.credentials();
    const call = sts.commandCalls(AssumeRoleCommand)[0]?.args[0].input;
    expect(call).toEqual({
      RoleArn: `arn:aws:iam::${MEMBER}:role/${ROLE_NAME}`,
      RoleSessionName: MEMBER_ROLE_SESSION_NAME,
    });
  });

  it('a member role name that IAM would not accept is refused when the function starts', () => {
    expect(() => resolver('not a role name')).toThrow(/is not a valid IAM role name/);
  });
});

describe('assumed-role credentials', () => {
  const roleArn = `arn:aws:iam::${MEMBER}:role/${ROLE_NAME}`;

  it('are reused while fresh: one AssumeRole call serves many invocations', async () => {
    answerAssumeRole();
    const credentials = assumedRoleCredentials(new STSClient({ region: 'eu-west-1' }), roleArn, now);
    const first = await credentials();
    clock += HOUR - CREDENTIAL_REFRESH_MARGIN_MS - 1000;
    expect(await credentials()).toBe(first);
    expect(sts.commandCalls(AssumeRoleCommand)).toHaveLength(1);
  });

  it('are renewed five minutes before they expire', async () => {
    answerAssumeRole();
    const credentials = assumedRoleCredentials(new STSClient({ region: 'eu-west-1' }), roleArn, now);
    const first = await credentials();
    clock += HOUR - CREDENTIAL_REFRESH_MARGIN_MS + 1000;
    const second = await credentials();
    expect(second.accessKeyId).not.toBe(first.accessKeyId);
    expect(sts.commandCalls(AssumeRoleCommand)).toHaveLength(2);
  });

  it('concurrent invocations share one AssumeRole call', async () => {
    answerAssumeRole();
    const credentials = assumedRoleCredentials(new STSClient({ region: 'eu-west-1' }), roleArn, now);
    const [a, b] = await Promise.all([credentials(), credentials()]);
    expect(a).toBe(b);
    expect(sts.commandCalls(AssumeRoleCommand)).toHaveLength(1);
  });

  it('a refused AssumeRole fails the invocation and is tried again on the next one', async () => {
    sts
      .on(AssumeRoleCommand)
      .rejectsOnce(new Error('AccessDenied: not authorized to perform sts:AssumeRole'));
    const credentials = assumedRoleCredentials(new STSClient({ region: 'eu-west-1' }), roleArn, now);
    await expect(credentials()).rejects.toThrow(/AccessDenied/);
    answerAssumeRole();
    await expect(credentials()).resolves.toMatchObject({ sessionToken: 'token' });
  });

  it('an answer without complete credentials is an error that names the role', async () => {
    sts.on(AssumeRoleCommand).resolves({ Credentials: undefined });
    const credentials = assumedRoleCredentials(new STSClient({ region: 'eu-west-1' }), roleArn, now);
    await expect(credentials()).rejects.toThrow(`AssumeRole of ${roleArn} returned no complete credentials`);
  });
});
