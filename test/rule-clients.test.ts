import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { GetComplianceDetailsByConfigRuleCommand } from '@aws-sdk/client-config-service';
import { IAMClient, ListUsersCommand } from '@aws-sdk/client-iam';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  SDK_CLIENT_SETTINGS,
  SDK_MAX_ATTEMPTS,
  sharedCredentials,
  UnreadableAnswerError,
  withReadableErrors,
} from '../rule/aws/client-settings.js';
import { readAccountUsers } from '../rule/aws/iam.js';
import { memberRoleClients, ruleClients } from '../rule/handler.js';

const servers: Server[] = [];
afterEach(async () => {
  vi.unstubAllEnvs();
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    await new Promise((done) => s.close(done));
  }
});

/** A local HTTP server; `answer` decides what each request gets (or nothing at all). */
async function server(answer: (respond: (status: number, body: string) => void) => void) {
  let requests = 0;
  const s = createServer((request, response) => {
    requests++;
    request.resume();
    answer((status, body) => {
      response.writeHead(status, { 'content-type': 'text/xml' });
      response.end(body);
    });
  });
  servers.push(s);
  await new Promise<void>((ready) => s.listen(0, '127.0.0.1', ready));
  return { endpoint: `http://127.0.0.1:${(s.address() as AddressInfo).port}`, requests: () => requests };
}

const local = { region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } };

describe('SDK clients', () => {
  it('the rule clients use adaptive retry with the project attempts', async () => {
    const clients = ruleClients();
    expect(await clients.iam.config.maxAttempts()).toBe(SDK_MAX_ATTEMPTS);
    expect(((await clients.config.config.retryStrategy()) as { mode?: string }).mode).toBe('adaptive');
  });

  it('an answer that never comes times out and is retried, then fails as a TimeoutError', async () => {
    const silent = await server(() => {});
    const iam = new IAMClient({
      ...local,
      ...SDK_CLIENT_SETTINGS,
      endpoint: silent.endpoint,
      maxAttempts: 2,
      // The project's handler settings, with a short request timeout so the test takes a moment.
      requestHandler: { ...SDK_CLIENT_SETTINGS.requestHandler, requestTimeout: 150 },
    });
    await expect(iam.send(new ListUsersCommand({}))).rejects.toMatchObject({ name: 'TimeoutError' });
    expect(silent.requests()).toBe(2);
  });

  it('a truncated answer is one line naming the call and the status, without the body', async () => {
    const truncated = await server((respond) =>
      respond(
        200,
        '<GetAccountAuthorizationDetailsResponse><GetAccountAuthorizationDetailsResult><UserDetai',
      ),
    );
    const iam = withReadableErrors(new IAMClient({ ...local, endpoint: truncated.endpoint, maxAttempts: 1 }));
    const error = await readAccountUsers(iam).then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(error).toBeInstanceOf(UnreadableAnswerError);
    expect(error?.message).toMatch(
      /^IAM GetAccountAuthorizationDetails: the answer \(HTTP 200\) could not be read as IAM's \(a wrong endpoint/,
    );
    expect(error?.message).not.toContain('\n');
    expect(error?.message).not.toContain('$response');
  });
});

describe('member-account credentials', () => {
  it('both clients of a member account share one AssumeRole', async () => {
    const denied = await server((respond) =>
      respond(400, '{"__type":"AccessDeniedException","message":"no"}'),
    );
    let assumed = 0;
    vi.stubEnv('AWS_REGION', 'us-east-1');
    vi.stubEnv('AWS_ENDPOINT_URL', denied.endpoint);
    const clients = memberRoleClients('arn:aws:iam::222222222222:role/member', () => async () => {
      assumed++;
      return { accessKeyId: 'a', secretAccessKey: 'b', expiration: new Date(Date.now() + 3_600_000) };
    });
    for (const c of [clients.iam, clients.config])
      c.config.endpoint = async () => new URL(denied.endpoint) as never;
    await Promise.allSettled([
      clients.config.send(new GetComplianceDetailsByConfigRuleCommand({ ConfigRuleName: 'r' })),
      clients.iam.send(new ListUsersCommand({})),
      clients.iam.send(new ListUsersCommand({})),
    ]);
    expect(denied.requests()).toBeGreaterThanOrEqual(3);
    expect(assumed).toBe(1);
  });

  it('shared credentials are renewed shortly before they expire, and after a failure', async () => {
    let clock = 0;
    let calls = 0;
    let fail = false;
    const provider = sharedCredentials(
      async () => {
        calls++;
        if (fail) throw new Error('sts down');
        return { expiration: new Date(clock + 60 * 60_000) };
      },
      () => clock,
    );
    await Promise.all([provider(), provider()]);
    expect(calls).toBe(1);
    clock = 54 * 60_000;
    await provider();
    expect(calls).toBe(1);
    clock = 56 * 60_000;
    fail = true;
    await expect(provider()).rejects.toThrow('sts down');
    fail = false;
    await provider();
    expect(calls).toBe(3);
  });
});
