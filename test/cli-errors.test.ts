import { CreateAccessKeyCommand, CreateUserCommand, PutUserPolicyCommand } from '@aws-sdk/client-iam';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clientsFor, type Emulator, startEmulator } from '../local/emulator.js';
import { EMULATOR_CLI_ENV, runCli } from './support/cli.js';

/**
 * moto enforces IAM (signatures and identity policies) once INITIAL_NO_AUTH_ACTION_COUNT requests have been
 * served: the first three create an auditor that may only list users, with an access key.
 */
const UNAUTHENTICATED_SETUP_CALLS = 3;

let emulator: Emulator;
let auditorEnv: Record<string, string>;

beforeAll(async () => {
  process.env.INITIAL_NO_AUTH_ACTION_COUNT = String(UNAUTHENTICATED_SETUP_CALLS);
  try {
    emulator = await startEmulator({ loadManagedPolicies: false });
  } finally {
    delete process.env.INITIAL_NO_AUTH_ACTION_COUNT;
  }
  const { iam } = clientsFor(emulator.endpoint);
  await iam.send(new CreateUserCommand({ UserName: 'auditor' }));
  const key = await iam.send(new CreateAccessKeyCommand({ UserName: 'auditor' }));
  await iam.send(
    new PutUserPolicyCommand({
      UserName: 'auditor',
      PolicyName: 'list-users-only',
      PolicyDocument: JSON.stringify({
        Version: '2012-10-17',
        Statement: [{ Effect: 'Allow', Action: 'iam:ListUsers', Resource: '*' }],
      }),
    }),
  );
  auditorEnv = {
    AWS_ACCESS_KEY_ID: key.AccessKey?.AccessKeyId ?? '',
    AWS_SECRET_ACCESS_KEY: key.AccessKey?.SecretAccessKey ?? '',
    AWS_REGION: 'us-east-1',
  };
});
afterAll(async () => {
  await emulator?.stop();
});

/** One line on stderr, nothing on stdout, no stack trace. */
function expectOneLine(run: { stdout: string; stderr: string }, line: string) {
  expect(run.stderr).toBe(`${line}\n`);
  expect(run.stdout).toBe('');
}

describe('iam-user-policies: errors are one line for the person running it, exit code 2', () => {
  it('access denied names the IAM action the credentials lack', async () => {
    const run = await runCli(['--endpoint', emulator.endpoint, 'scan'], auditorEnv);
    expect(run.code).toBe(2);
    expectOneLine(
      run,
      'error: access denied: the credentials in use are not allowed iam:GetAccountAuthorizationDetails; grant it to them and run again',
    );
  });

  it('access denied for remediate names an IAM action the migration’s first read needs', async () => {
    const run = await runCli(['--endpoint', emulator.endpoint, 'remediate', '--user', 'auditor'], auditorEnv);
    expect(run.code).toBe(2);
    // The account details and the quotas are read in parallel: whichever is refused first is named.
    expect(run.stderr).toMatch(
      /^error: access denied: the credentials in use are not allowed iam:(GetAccountAuthorizationDetails|GetAccountSummary); grant it to them and run again\n$/,
    );
    expect(run.stdout).toBe('');
  });

  it('credentials AWS does not know are reported as rejected', async () => {
    const run = await runCli(['--endpoint', emulator.endpoint, 'scan'], {
      ...EMULATOR_CLI_ENV,
      AWS_ACCESS_KEY_ID: 'AKIAIOSFODNN7EXAMPLE',
    });
    expect(run.code).toBe(2);
    expectOneLine(
      run,
      'error: AWS rejected the credentials (InvalidClientTokenId): check the profile or access key in use',
    );
  });

  it('missing credentials say where credentials come from', async () => {
    const run = await runCli(['--endpoint', emulator.endpoint, '--region', 'us-east-1', 'scan']);
    expect(run.code).toBe(2);
    expectOneLine(
      run,
      'error: no AWS credentials found: pass --profile NAME or set AWS_PROFILE (run `aws sso login` first for SSO profiles), or set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY',
    );
  });

  it('a profile that does not exist is named', async () => {
    const run = await runCli([
      '--endpoint',
      emulator.endpoint,
      '--region',
      'us-east-1',
      '--profile',
      'audit',
      'scan',
    ]);
    expect(run.code).toBe(2);
    expectOneLine(
      run,
      'error: unknown AWS profile audit: it is not defined in ~/.aws/config or ~/.aws/credentials',
    );
  });

  it('a missing Region says how to give one', async () => {
    const { AWS_REGION: _, ...withoutRegion } = EMULATOR_CLI_ENV;
    const run = await runCli(['--endpoint', emulator.endpoint, 'scan'], withoutRegion);
    expect(run.code).toBe(2);
    expectOneLine(
      run,
      'error: no AWS Region configured: pass --region (IAM is global: any Region of the partition will do)',
    );
  });

  it('an endpoint that does not answer is reported as unreachable', async () => {
    const run = await runCli(['--endpoint', 'http://127.0.0.1:9', 'scan'], EMULATOR_CLI_ENV);
    expect(run.code).toBe(2);
    expectOneLine(
      run,
      'error: cannot reach the AWS endpoint (ECONNREFUSED): check --endpoint, the network or a proxy',
    );
  });

  it('an --endpoint that is not an http(s) URL is a usage error naming the flag, before any AWS call', async () => {
    const run = await runCli(['--endpoint', '127.0.0.1:4566', 'scan'], EMULATOR_CLI_ENV);
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(
      /^error: option '--endpoint <url>' argument '127\.0\.0\.1:4566' is invalid\. must be an http:\/\/ or https:\/\/ URL, e\.g\. http:\/\/127\.0\.0\.1:5000\n/,
    );
  });

  it('--debug adds the stack trace after the same line', async () => {
    const run = await runCli(['--endpoint', emulator.endpoint, '--debug', 'scan'], auditorEnv);
    expect(run.code).toBe(2);
    const [first, ...rest] = run.stderr.trimEnd().split('\n');
    expect(first).toBe(
      'error: access denied: the credentials in use are not allowed iam:GetAccountAuthorizationDetails; grant it to them and run again',
    );
    expect(rest[0]).toMatch(/^AccessDenied: User: arn:aws:iam::123456789012:user\/auditor is not authorized/);
    expect(rest.some((l) => /^\s+at /.test(l))).toBe(true);
  });

  it('an unknown command is a usage error', async () => {
    const run = await runCli(['scna']);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/^error: unknown command 'scna'/);
  });
});
