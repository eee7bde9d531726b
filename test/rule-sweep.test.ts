import {
  AttachUserPolicyCommand,
  CreateUserCommand,
  DeleteUserCommand,
  DetachUserPolicyCommand,
  GetAccountAuthorizationDetailsCommand,
  IAMClient,
  PutUserPolicyCommand,
  TagUserCommand,
} from '@aws-sdk/client-iam';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { type ConfigStandIn, startConfigStandIn } from '../local/config-stand-in.js';
import { clientsFor, type Emulator, startEmulator } from '../local/emulator.js';
import { EvaluationsRefusedError, putEvaluations } from '../rule/aws/config.js';
import { readAccountUsers } from '../rule/aws/iam.js';
import { toEvaluation } from '../rule/evaluation.js';
import { silentLogger } from '../rule/log.js';
import { deadlineSignal, OutOfTimeError, STOP_BEFORE_TIMEOUT_MS } from '../rule/out-of-time.js';
import { type RuleClients, runConfigRule } from '../rule/run-rule.js';
import { notApplicable } from '../rule/verdict.js';
import { scheduledEvent } from './support/events.js';

let emulator: Emulator;
let standIn: ConfigStandIn;
let clients: RuleClients;
/** IAM calls the rule makes, counted by a middleware on its own client (not by reasoning). */
let iamCalls: string[] = [];

const S3_READ = 'arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess';
const inlineDocument = JSON.stringify({
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Action: 's3:GetObject', Resource: '*' }],
});

beforeAll(async () => {
  [emulator, standIn] = await Promise.all([startEmulator(), startConfigStandIn()]);
  const ruleIam = clientsFor(emulator.endpoint).iam;
  ruleIam.middlewareStack.add(
    (next, context) => async (args) => {
      iamCalls.push(String(context.commandName));
      return next(args);
    },
    { step: 'initialize', name: 'countIamCalls' },
  );
  clients = { iam: ruleIam, config: clientsFor(standIn.endpoint).config };
});
afterAll(async () => {
  await Promise.all([emulator?.stop(), standIn?.stop()]);
});
beforeEach(() => {
  iamCalls = [];
  standIn.resetCalls();
});

const admin = () => clientsFor(emulator.endpoint).iam;
let ruleName = 'sweep-rule';
/** The stand-in keys results by result token, so the token carries the rule's name. */
const sweep = (params: Record<string, string> = {}) =>
  runConfigRule(scheduledEvent(params, { configRuleName: ruleName, resultToken: ruleName }), {
    clientsFor: () => clients,
    log: silentLogger,
  });

async function createUsers(
  prefix: string,
  count: number,
  setup?: (name: string, i: number) => Promise<unknown>,
) {
  const ids: Record<string, string> = {};
  for (let i = 0; i < count; i++) {
    const name = `${prefix}${String(i).padStart(4, '0')}`;
    const created = await admin().send(new CreateUserCommand({ UserName: name }));
    ids[name] = created.User?.UserId ?? '';
    await setup?.(name, i);
  }
  return ids;
}

/** Starts a describe block from an emptied account of `count` users, reported under the rule name `rule`. */
function withFreshAccount(
  rule: string,
  prefix: string,
  count: number,
  setup?: (name: string, i: number) => Promise<unknown>,
) {
  beforeAll(async () => {
    ruleName = rule;
    await emulator.reset();
    await createUsers(prefix, count, setup);
  });
}

describe('the scheduled sweep against the emulated account', () => {
  let ids: Record<string, string>;

  beforeAll(async () => {
    await emulator.reset();
    ids = await createUsers('user', 250, async (name, i) => {
      if (i % 5 === 0)
        await admin().send(new AttachUserPolicyCommand({ UserName: name, PolicyArn: S3_READ }));
      if (i % 7 === 0)
        await admin().send(
          new PutUserPolicyCommand({ UserName: name, PolicyName: 'inline', PolicyDocument: inlineDocument }),
        );
    });
  });

  it('the first sweep judges every user with one IAM read and reports in batches of at most 100', async () => {
    const result = await sweep();
    expect(result.usersEvaluated).toBe(250);
    expect(result.evaluations).toHaveLength(250);
    expect(iamCalls).toEqual(['GetAccountAuthorizationDetailsCommand']);
    expect(standIn.calls.PutEvaluations).toBe(3);
    expect(standIn.calls.GetComplianceDetailsByConfigRule).toBe(1);

    const byId = new Map(standIn.results(ruleName).map((r) => [r.resourceId, r]));
    expect(byId.size).toBe(250);
    const nonCompliant = Object.entries(ids).filter((_, i) => i % 5 === 0 || i % 7 === 0);
    expect(standIn.results(ruleName).filter((r) => r.complianceType === 'NON_COMPLIANT')).toHaveLength(
      nonCompliant.length,
    );
    expect(byId.get(ids.user0000 ?? '')).toMatchObject({
      complianceType: 'NON_COMPLIANT',
      annotation:
        '2 policies attached directly: inline (inline), AmazonS3ReadOnlyAccess (managed). Grant them through groups.',
    });
    expect(byId.get(ids.user0001 ?? '')?.complianceType).toBe('COMPLIANT');
  });

  it('a second sweep of an unchanged account reports nothing (Config charges per recorded evaluation)', async () => {
    const before = standIn.reported.length;
    const result = await sweep();
    expect(result).toMatchObject({ usersEvaluated: 250, unchanged: 250, evaluations: [] });
    // One call with no evaluations answers the result token, so Config shows the sweep as evaluated.
    expect(standIn.calls.PutEvaluations).toBe(1);
    expect(standIn.reported.length).toBe(before);
    expect(standIn.calls.GetComplianceDetailsByConfigRule).toBe(3);
  });

  it('reports only the users whose verdict or annotation changed', async () => {
    await admin().send(new AttachUserPolicyCommand({ UserName: 'user0001', PolicyArn: S3_READ }));
    await admin().send(new DetachUserPolicyCommand({ UserName: 'user0005', PolicyArn: S3_READ }));
    await admin().send(
      new PutUserPolicyCommand({
        UserName: 'user0010',
        PolicyName: 'second',
        PolicyDocument: inlineDocument,
      }),
    );
    const result = await sweep();
    expect(result.evaluations.map((e) => [e.ComplianceResourceId, e.ComplianceType])).toEqual([
      [ids.user0001, 'NON_COMPLIANT'],
      [ids.user0005, 'COMPLIANT'],
      [ids.user0010, 'NON_COMPLIANT'],
    ]);
  });

  it('a deleted user is reported NOT_APPLICABLE once, so it does not linger on dashboards', async () => {
    await admin().send(new DetachUserPolicyCommand({ UserName: 'user0001', PolicyArn: S3_READ }));
    await admin().send(new DeleteUserCommand({ UserName: 'user0001' }));
    const first = await sweep();
    expect(first.evaluations).toEqual([
      expect.objectContaining({ ComplianceResourceId: ids.user0001, ComplianceType: 'NOT_APPLICABLE' }),
    ]);
    expect(first.evaluations[0]?.Annotation).toBe('The IAM user no longer exists.');
    const second = await sweep();
    expect(second.evaluations).toEqual([]);
  });

  it('an exemption is reported as a visible change, stamped with the notification time', async () => {
    await admin().send(
      new TagUserCommand({ UserName: 'user0002', Tags: [{ Key: 'exempt', Value: 'on-call' }] }),
    );
    await admin().send(new AttachUserPolicyCommand({ UserName: 'user0002', PolicyArn: S3_READ }));
    const result = await sweep({ exemptionTagKey: 'exempt' });
    expect(result.evaluations).toEqual([
      expect.objectContaining({
        ComplianceResourceId: ids.user0002,
        ComplianceType: 'COMPLIANT',
        Annotation: 'Exempt by tag exempt: on-call. Direct policies: AmazonS3ReadOnlyAccess (managed)',
        OrderingTimestamp: new Date('2016-07-13T21:50:00.373Z'),
      }),
    ]);
  });
});

describe('PutEvaluations failures', () => {
  withFreshAccount('retry-rule', 'retry', 3);

  it('evaluations Config reports as failed are sent again', async () => {
    const users = await readAccountUsers(clients.iam);
    const victim = users[0]?.userId ?? '';
    standIn.failEvaluationsOf(victim, 1);
    await sweep();
    expect(standIn.calls.PutEvaluations).toBe(2);
    expect(standIn.results(ruleName).map((r) => r.resourceId)).toContain(victim);
  });

  it('evaluations that keep failing make the run fail, naming the resource', async () => {
    await admin().send(new CreateUserCommand({ UserName: 'retry-new' }));
    const users = await readAccountUsers(clients.iam);
    const victim = users.find((u) => u.userName === 'retry-new')?.userId ?? '';
    standIn.failEvaluationsOf(victim, 10);
    await expect(sweep()).rejects.toThrow(
      `AWS Config did not accept the evaluations of 1 resource(s) after 3 attempts (every other evaluation was recorded): ${victim}`,
    );
  });

  it('a user Config refuses forever does not keep the later batches from being recorded', async () => {
    const token = 'starved-rule';
    const at = new Date('2026-01-01T00:00:00Z');
    const evaluations = Array.from({ length: 250 }, (_, i) =>
      toEvaluation(`AIDASTARVED${String(i).padStart(10, '0')}`, notApplicable('bench'), at),
    );
    // The first evaluation is in the first batch of every attempt: before the fix its refusal stopped the rest.
    const victim = evaluations[0]?.ComplianceResourceId ?? '';
    standIn.failEvaluationsOf(victim, Number.POSITIVE_INFINITY);
    const error = await putEvaluations(clients.config, token, evaluations).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(EvaluationsRefusedError);
    expect((error as EvaluationsRefusedError).resourceIds).toEqual([victim]);
    const recorded = new Set(standIn.results(token).map((r) => r.resourceId));
    expect(recorded.has(victim)).toBe(false);
    expect(recorded.size).toBe(249);
    // Three batches once, then only the refused evaluation in two more rounds.
    expect(standIn.calls.PutEvaluations).toBe(5);
  });
});

describe('a lost PutEvaluations answer', () => {
  withFreshAccount('lost-answer-rule', 'lost', 250);

  it('costs one batch recorded twice (at least once, never more), and the next sweep sends nothing again', async () => {
    const before = standIn.reported.length;
    // The second of three batches is recorded and its answer lost: the SDK retries it as a reset connection.
    standIn.loseAnswerOfPutEvaluations(2);
    const result = await sweep();
    expect(result.evaluations).toHaveLength(250);
    expect(standIn.calls.PutEvaluations).toBe(4);
    expect(standIn.reported.length - before).toBe(250 + 100);
    expect(new Set(standIn.results(ruleName).map((r) => r.resourceId)).size).toBe(250);
    expect((await sweep()).evaluations).toEqual([]);
  });
});

describe('a sweep that runs out of time', () => {
  withFreshAccount('deadline-rule', 'late', 250, async (name, i) => {
    if (i % 3 === 0) await admin().send(new AttachUserPolicyCommand({ UserName: name, PolicyArn: S3_READ }));
  });

  /** A Config client whose deadline passes as soon as `batches` PutEvaluations calls have been answered. */
  function configWithDeadlineAfter(batches: number) {
    const controller = new AbortController();
    const config = clientsFor(standIn.endpoint).config;
    let answered = 0;
    config.middlewareStack.add(
      (next, context) => async (args) => {
        const out = await next(args);
        if (context.commandName === 'PutEvaluationsCommand' && ++answered >= batches) controller.abort();
        return out;
      },
      { step: 'initialize', name: 'deadlineAfterBatches' },
    );
    return { config, abortSignal: controller.signal };
  }

  it('stopped while reporting, it says how many were recorded; the next run reports only the rest', async () => {
    const { config, abortSignal } = configWithDeadlineAfter(1);
    const stopped = runConfigRule(scheduledEvent({}, { configRuleName: ruleName, resultToken: ruleName }), {
      clientsFor: () => ({ iam: clients.iam, config }),
      log: silentLogger,
      abortSignal,
    });
    await expect(stopped).rejects.toThrow(OutOfTimeError);
    await expect(stopped).rejects.toThrow(
      "stopped reporting before the function's timeout: 100 of 250 evaluations recorded; the next run reports the other 150",
    );
    expect(standIn.results(ruleName)).toHaveLength(100);

    const next = await sweep();
    expect(next).toMatchObject({ usersEvaluated: 250, unchanged: 100 });
    expect(next.evaluations).toHaveLength(150);
    expect(new Set(standIn.results(ruleName).map((r) => r.resourceId)).size).toBe(250);
    expect((await sweep()).evaluations).toEqual([]);
  });

  it('stopped while reading, it reports nothing and says so', async () => {
    const controller = new AbortController();
    controller.abort();
    standIn.resetCalls();
    const stopped = runConfigRule(scheduledEvent({}, { configRuleName: 'deadline-read', resultToken: 'x' }), {
      clientsFor: () => clients,
      log: silentLogger,
      abortSignal: controller.signal,
    });
    await expect(stopped).rejects.toThrow(
      "stopped reading the account's users before the function's timeout: nothing was reported",
    );
    expect(standIn.calls.PutEvaluations ?? 0).toBe(0);
    expect(standIn.results('x')).toEqual([]);
  });

  it('the deadline is the time Lambda says is left, less a margin to log and return', async () => {
    expect(deadlineSignal(undefined)).toBeUndefined();
    const later = deadlineSignal(STOP_BEFORE_TIMEOUT_MS + 60_000);
    const now = deadlineSignal(STOP_BEFORE_TIMEOUT_MS);
    await new Promise((r) => setTimeout(r, 20));
    expect(now?.aborted).toBe(true);
    expect(later?.aborted).toBe(false);
  });
});

describe('reading the account', () => {
  it('follows GetAccountAuthorizationDetails pages until IsTruncated is false, even short ones', async () => {
    // moto ignores MaxItems and returns one page, so pagination is tested on the client.
    const iam = new IAMClient({ region: 'us-east-1' });
    const iamMock = mockClient(iam);
    const detail = (n: number) => ({
      UserName: `u${n}`,
      UserId: `AIDA${n}`,
      Path: '/',
      GroupList: [],
      AttachedManagedPolicies: [],
      UserPolicyList: [],
    });
    iamMock
      .on(GetAccountAuthorizationDetailsCommand, { Marker: undefined })
      .resolves({ UserDetailList: [detail(1), detail(2)], IsTruncated: true, Marker: 'm1' })
      .on(GetAccountAuthorizationDetailsCommand, { Marker: 'm1' })
      .resolves({ UserDetailList: [], IsTruncated: true, Marker: 'm2' })
      .on(GetAccountAuthorizationDetailsCommand, { Marker: 'm2' })
      .resolves({ UserDetailList: [detail(3)], IsTruncated: false });
    const users = await readAccountUsers(iam);
    expect(users.map((u) => u.userName)).toEqual(['u1', 'u2', 'u3']);
    const inputs = iamMock.commandCalls(GetAccountAuthorizationDetailsCommand).map((c) => c.args[0].input);
    expect(inputs).toEqual([
      { Filter: ['User'], MaxItems: 1000 },
      { Filter: ['User'], MaxItems: 1000, Marker: 'm1' },
      { Filter: ['User'], MaxItems: 1000, Marker: 'm2' },
    ]);
  });

  it('a truncated page without a marker is an error rather than a partial sweep', async () => {
    const iam = new IAMClient({ region: 'us-east-1' });
    mockClient(iam)
      .on(GetAccountAuthorizationDetailsCommand)
      .resolves({ UserDetailList: [], IsTruncated: true });
    await expect(readAccountUsers(iam)).rejects.toThrow('IsTruncated but returned no Marker');
  });
});

describe('the Lambda handler module', () => {
  it('takes its endpoints from the SDK standard environment variables, with none in code', async () => {
    await emulator.reset();
    await createUsers('env', 2, (name) =>
      admin().send(new AttachUserPolicyCommand({ UserName: name, PolicyArn: S3_READ })),
    );
    vi.stubEnv('AWS_ENDPOINT_URL', emulator.endpoint);
    vi.stubEnv('AWS_ENDPOINT_URL_CONFIG_SERVICE', standIn.endpoint);
    vi.stubEnv('AWS_ACCESS_KEY_ID', 'testing');
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'testing');
    vi.stubEnv('AWS_REGION', 'us-east-1');
    const write = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    try {
      vi.resetModules();
      const { handler } = await import('../rule/handler.js');
      const result = await handler(
        scheduledEvent({}, { configRuleName: 'env-rule', resultToken: 'env-rule' }),
      );
      expect(result.evaluations.map((e) => e.ComplianceType)).toEqual(['NON_COMPLIANT', 'NON_COMPLIANT']);
      expect(standIn.results('env-rule')).toHaveLength(2);
      const logged = write.mock.calls.map((c) => JSON.parse(String(c[0])));
      expect(logged.filter((l) => l.event === 'evaluation' && l.compliance === 'NON_COMPLIANT')).toHaveLength(
        2,
      );

      // Invoked with less time left than the margin, it stops at once and logs why.
      write.mockClear();
      await expect(
        handler(scheduledEvent({}, { configRuleName: 'env-late', resultToken: 'env-late' }), {
          getRemainingTimeInMillis: () => STOP_BEFORE_TIMEOUT_MS,
        }),
      ).rejects.toThrow(/^stopped reading the account's users before the function's timeout/);
      const errors = write.mock.calls.map((c) => JSON.parse(String(c[0]))).filter((l) => l.event === 'error');
      expect(errors).toEqual([
        expect.objectContaining({ error: expect.stringMatching(/^OutOfTimeError: stopped reading/) }),
      ]);
      expect(standIn.results('env-late')).toEqual([]);
    } finally {
      write.mockRestore();
      vi.unstubAllEnvs();
    }
  });
});
