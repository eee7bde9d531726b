import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  ConfigServiceClient,
  GetComplianceDetailsByConfigRuleCommand,
  PutEvaluationsCommand,
} from '@aws-sdk/client-config-service';
import { GetAccountAuthorizationDetailsCommand, IAMClient, ListUsersCommand } from '@aws-sdk/client-iam';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { awsClientsFrom } from '../cli/aws-clients.js';
import { scheduledEvent } from './support/events.js';

/**
 * The clients the rule, the remediation and the CLI make for themselves, reached through their entry points
 * (the Lambda handlers and the CLI's client factory), not through the settings object: a client made
 * without the settings is what this catches. Sends are stubbed on the client classes, so no request leaves
 * the process; each stubbed call records the client it was sent on.
 */

/** What every client must carry: adaptive retry with 10 attempts, and timeouts that end a silent request. */
const PROJECT_SETTINGS = {
  retryMode: 'adaptive',
  maxAttempts: 10,
  connectionTimeout: expect.any(Number),
  requestTimeout: expect.any(Number),
  socketTimeout: expect.any(Number),
  throwOnRequestTimeout: true,
};

interface SdkClient {
  readonly config: {
    retryStrategy(): Promise<{ mode?: string }>;
    maxAttempts(): Promise<number>;
    requestHandler: unknown;
  };
}

async function settingsOf(client: SdkClient) {
  const handler = client.config.requestHandler as { configProvider?: Promise<Record<string, unknown>> };
  const http = (await handler.configProvider) ?? {};
  return {
    retryMode: (await client.config.retryStrategy()).mode,
    maxAttempts: await client.config.maxAttempts(),
    connectionTimeout: http.connectionTimeout,
    requestTimeout: http.requestTimeout,
    socketTimeout: http.socketTimeout,
    throwOnRequestTimeout: http.throwOnRequestTimeout,
  };
}

/** The distinct clients the stubbed sends were made on. */
function clientsOf(mock: { calls(): { thisValue: unknown }[] }): SdkClient[] {
  return [...new Set(mock.calls().map((c) => c.thisValue as SdkClient))];
}

afterEach(() => {
  vi.unstubAllEnvs();
  vi.resetModules();
});

describe('every SDK client the project makes carries the project retry and timeouts', () => {
  // Stubbed on the classes for this block only: the next block sends real requests to a local server.
  const classMocks = () => ({ iam: mockClient(IAMClient), config: mockClient(ConfigServiceClient) });
  let mocks: ReturnType<typeof classMocks>;
  beforeAll(() => {
    mocks = classMocks();
  });
  afterEach(() => {
    mocks.iam.reset();
    mocks.config.reset();
  });
  afterAll(() => {
    mocks.iam.restore();
    mocks.config.restore();
  });

  it('the rule: its own clients and a member account clients (IAM and Config)', async () => {
    vi.stubEnv('AWS_REGION', 'us-east-1');
    vi.stubEnv('MEMBER_ROLE_NAME', 'member-role');
    mocks.iam.on(GetAccountAuthorizationDetailsCommand).resolves({ UserDetailList: [], IsTruncated: false });
    mocks.config.on(GetComplianceDetailsByConfigRuleCommand).resolves({ EvaluationResults: [] });
    mocks.config.on(PutEvaluationsCommand).resolves({ FailedEvaluations: [] });
    // Clients are made when the module loads, with MEMBER_ROLE_NAME read then.
    const { handler } = await import('../rule/handler.js');
    // The event is for 123456789012: first as the function's own account, then from another account.
    await handler(scheduledEvent(), {
      invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:rule',
    });
    await handler(scheduledEvent(), {
      invokedFunctionArn: 'arn:aws:lambda:us-east-1:999999999999:function:rule',
    });
    const clients = [...clientsOf(mocks.iam), ...clientsOf(mocks.config)];
    expect(clients).toHaveLength(4);
    for (const client of clients) expect(await settingsOf(client)).toEqual(PROJECT_SETTINGS);
  });

  it('the remediation function', async () => {
    vi.stubEnv('AWS_REGION', 'us-east-1');
    mocks.iam.onAnyCommand().rejects(new Error('stubbed: no IAM here'));
    const { handler } = await import('../remediation/handler.js');
    await handler({ IAMResourceId: 'AIDAJQABLZS4A3QDU576Q', DryRun: 'true' }).catch(() => undefined);
    const clients = clientsOf(mocks.iam);
    expect(clients.length).toBeGreaterThan(0);
    for (const client of clients) expect(await settingsOf(client)).toEqual(PROJECT_SETTINGS);
  });

  it('the CLI (scan, plan, remediate: the client made without a retry override)', async () => {
    const clients = awsClientsFrom({ region: 'us-east-1' });
    try {
      expect(await settingsOf(clients.iam() as unknown as SdkClient)).toEqual(PROJECT_SETTINGS);
    } finally {
      clients.destroy();
    }
  });
});

describe('every SDK client the project makes reports an unreadable answer as one line', () => {
  let server: Server;
  let endpoint: string;
  beforeAll(async () => {
    // Every answer is cut off mid-document: XML for IAM, JSON for Config.
    server = createServer((request, response) => {
      request.resume();
      const json = String(request.headers['content-type']).includes('json');
      response.writeHead(200, { 'content-type': json ? 'application/x-amz-json-1.1' : 'text/xml' });
      response.end(
        json ? '{"EvaluationResults": [{"Eval' : '<ListUsersResponse><ListUsersResult><Users><mem',
      );
    });
    await new Promise<void>((ready) => server.listen(0, '127.0.0.1', ready));
    endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((done) => server.close(done));
  });
  const local = () => {
    vi.stubEnv('AWS_REGION', 'us-east-1');
    vi.stubEnv('AWS_ACCESS_KEY_ID', 'test');
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'test');
    vi.stubEnv('AWS_ENDPOINT_URL', endpoint);
  };
  const failureOf = (run: Promise<unknown>) =>
    run.then(
      () => new Error('no error'),
      (e: unknown) => e as Error,
    );
  const expectOneReadableLine = (error: Error) => {
    expect(error.message).toMatch(/could not be read/);
    expect(error.message).not.toContain('$response');
    expect(error.message).not.toContain('\n');
  };

  it('the rule', async () => {
    local();
    const { handler } = await import('../rule/handler.js');
    expectOneReadableLine(
      await failureOf(
        handler(scheduledEvent(), {
          invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:rule',
        }),
      ),
    );
  });

  it('the remediation function', async () => {
    local();
    const { handler } = await import('../remediation/handler.js');
    expectOneReadableLine(
      await failureOf(handler({ IAMResourceId: 'AIDAJQABLZS4A3QDU576Q', DryRun: 'true' })),
    );
  });

  it('the CLI', async () => {
    const clients = awsClientsFrom({ region: 'us-east-1', endpoint });
    vi.stubEnv('AWS_ACCESS_KEY_ID', 'test');
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'test');
    try {
      expectOneReadableLine(await failureOf(clients.iam().send(new ListUsersCommand({}))));
    } finally {
      clients.destroy();
    }
  });
});
