import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigServiceClient } from '@aws-sdk/client-config-service';
import { IAMClient } from '@aws-sdk/client-iam';
import { EMULATOR_CREDENTIALS } from '../local/emulator.js';
import { REPO_ROOT } from '../local/python-env.js';
import { evaluateConfigurationItem } from '../rule/evaluate-item.js';
import { toEvaluation } from '../rule/evaluation.js';
import { silentLogger } from '../rule/log.js';
import { parseRuleParameters } from '../rule/parameters.js';
import { runConfigRule } from '../rule/run-rule.js';
import { ConfigRuleEventSchema, parseOrThrow } from '../rule/schemas/config-rule-event.js';
import { countCalls } from './call-counter.js';

export interface ChangeEventMeasurement {
  readonly events: number;
  /** Per event: zod parse of the event and item, verdict, request building, signing and response parsing. */
  readonly medianMicros: number;
  readonly p99Micros: number;
  readonly maxMicros: number;
  /** Of which the rule's own decision (parse event, parameters and item, verdict, evaluation), no SDK. */
  readonly decisionMedianMicros: number;
  readonly decisionP99Micros: number;
  /** AWS calls per event: the least and most any single event made (both must be 1). */
  readonly minCallsPerEvent: number;
  readonly maxCallsPerEvent: number;
  readonly callsByCommand: Readonly<Record<string, number>>;
  /** Size of the invoking events (bytes of the invokingEvent JSON string). */
  readonly eventBytes: { readonly min: number; readonly median: number; readonly max: number };
}

const BASE_EVENT = JSON.parse(
  readFileSync(join(REPO_ROOT, 'test', 'fixtures', 'config-events', 'create-iam-user.json'), 'utf8'),
) as Record<string, unknown> & { invokingEvent: string };

/** A small deterministic generator (mulberry32), so every run judges the same events. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const POLICY_DOCUMENT = encodeURIComponent(
  JSON.stringify({
    Version: '2012-10-17',
    Statement: [{ Effect: 'Allow', Action: ['s3:GetObject', 's3:ListBucket'], Resource: '*' }],
  }),
);
const AWS_MANAGED = ['AdministratorAccess', 'ReadOnlyAccess', 'AmazonS3FullAccess', 'IAMReadOnlyAccess'];

/**
 * Real-shaped change notifications for IAM users of varied size: 0..20 attached managed policies (AWS and
 * customer managed), 0..10 inline policies with their URL-encoded documents, 0..10 groups, 0..8 tags; one in
 * twenty is a deletion. Built from the real create-iam-user sample event.
 */
export function varyingChangeEvents(count: number, seed = 42): Record<string, unknown>[] {
  const rand = random(seed);
  const upTo = (n: number) => Math.floor(rand() * (n + 1));
  const invoking = JSON.parse(BASE_EVENT.invokingEvent) as { configurationItem: Record<string, unknown> };
  const events: Record<string, unknown>[] = [];
  for (let i = 0; i < count; i++) {
    const userName = `user-${i}`;
    const userId = `AIDA${String(i).padStart(17, '0')}`;
    const deleted = i % 20 === 19;
    const configuration = deleted
      ? null
      : {
          path: i % 3 === 0 ? '/team/' : '/',
          userName,
          userId,
          arn: `arn:aws:iam::123456789123:user/${userName}`,
          createDate: '2023-07-13T13:03:52.000Z',
          userPolicyList: Array.from({ length: upTo(10) }, (_, k) => ({
            policyName: `inline-${k}`,
            policyDocument: POLICY_DOCUMENT,
          })),
          groupList: Array.from({ length: upTo(10) }, (_, k) => `group-${k}`),
          attachedManagedPolicies: Array.from({ length: upTo(20) }, (_, k) =>
            k % 2 === 0
              ? {
                  policyName: AWS_MANAGED[k % AWS_MANAGED.length],
                  policyArn: `arn:aws:iam::aws:policy/${AWS_MANAGED[k % AWS_MANAGED.length]}`,
                }
              : { policyName: `customer-${k}`, policyArn: `arn:aws:iam::123456789123:policy/customer-${k}` },
          ),
          permissionsBoundary: null,
          tags: Array.from({ length: upTo(8) }, (_, k) => ({ key: `tag-${k}`, value: `value-${i}-${k}` })),
        };
    const item = {
      ...invoking.configurationItem,
      configuration,
      configurationItemStatus: deleted ? 'ResourceDeleted' : 'OK',
      resourceId: userId,
      resourceName: userName,
      ARN: `arn:aws:iam::123456789123:user/${userName}`,
    };
    events.push({
      ...BASE_EVENT,
      resultToken: `token-${i}`,
      invokingEvent: JSON.stringify({ ...invoking, configurationItem: item }),
    });
  }
  return events;
}

/**
 * A request handler that answers every request in process, as Config answers a successful PutEvaluations,
 * so that a measurement includes everything the SDK does (serialising, signing, parsing the answer) except
 * the network.
 */
function answeredLocally(body: string) {
  return {
    handle: async () => ({
      response: {
        statusCode: 200,
        reason: 'OK',
        headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-requestid': 'local' },
        // A byte array rather than a stream: a stream's event-loop hops are waiting, not work, and would
        // dominate the tail of a measurement that has no network anyway.
        body: new TextEncoder().encode(body),
      },
    }),
  };
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN;
}

/**
 * Runs the rule's change path (`runConfigRule`, exactly as the handler calls it) for `count` varied events,
 * after `warmUp` unmeasured ones, with PutEvaluations answered in process; times each event and counts the
 * AWS calls each one made.
 */
export async function measureChangeEvents(count = 10_000, warmUp = 1_000): Promise<ChangeEventMeasurement> {
  const common = { region: 'us-east-1', credentials: EMULATOR_CREDENTIALS };
  const config = new ConfigServiceClient({
    ...common,
    requestHandler: answeredLocally('{"FailedEvaluations":[]}'),
  });
  const iam = new IAMClient({ ...common, requestHandler: answeredLocally('') });
  const counter = countCalls(iam, config);
  const deps = { clientsFor: () => ({ iam, config }), log: silentLogger };

  for (const event of varyingChangeEvents(warmUp, 7)) await runConfigRule(event, deps);
  counter.reset();

  const events = varyingChangeEvents(count);
  const micros: number[] = [];
  let minCalls = Number.POSITIVE_INFINITY;
  let maxCalls = 0;
  for (const event of events) {
    const before = counter.total();
    const start = performance.now();
    await runConfigRule(event, deps);
    micros.push((performance.now() - start) * 1000);
    const calls = counter.total() - before;
    minCalls = Math.min(minCalls, calls);
    maxCalls = Math.max(maxCalls, calls);
  }
  micros.sort((a, b) => a - b);
  const decision = decisionMicros(events);
  const sizes = events.map((e) => String(e.invokingEvent).length).sort((a, b) => a - b);
  return {
    events: count,
    medianMicros: percentile(micros, 50),
    p99Micros: percentile(micros, 99),
    maxMicros: micros[micros.length - 1] ?? Number.NaN,
    decisionMedianMicros: percentile(decision, 50),
    decisionP99Micros: percentile(decision, 99),
    minCallsPerEvent: minCalls,
    maxCallsPerEvent: maxCalls,
    callsByCommand: { ...counter.byCommand },
    eventBytes: { min: sizes[0] ?? 0, median: percentile(sizes, 50), max: sizes[sizes.length - 1] ?? 0 },
  };
}

/**
 * Times the decision alone, the same steps runConfigRule takes before it calls the SDK, so the table can show
 * how much of an event's cost is the rule's code and how much the SDK's.
 */
function decisionMicros(events: readonly Record<string, unknown>[]): number[] {
  const micros: number[] = [];
  for (const raw of events) {
    const start = performance.now();
    const event = parseOrThrow(ConfigRuleEventSchema, raw, 'AWS Config rule event');
    const params = parseRuleParameters(event.ruleParameters);
    if (event.invokingEvent.messageType !== 'ConfigurationItemChangeNotification') continue;
    const item = event.invokingEvent.configurationItem;
    const judged = evaluateConfigurationItem(item, event.eventLeftScope, params);
    toEvaluation(judged.resourceId, judged.verdict, new Date(item.configurationItemCaptureTime));
    micros.push((performance.now() - start) * 1000);
  }
  return micros.sort((a, b) => a - b);
}
