import {
  ConfigServiceClient,
  PutEvaluationsCommand,
  type PutEvaluationsCommandInput,
} from '@aws-sdk/client-config-service';
import { IAMClient } from '@aws-sdk/client-iam';
import { mockClient } from 'aws-sdk-client-mock';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { handler as remediationHandler } from '../remediation/handler.js';
import { migrateUserPolicies } from '../remediation/migrate.js';
import { silentLogger } from '../rule/log.js';
import { parseRuleParameters, RuleParameterError } from '../rule/parameters.js';
import { runConfigRule } from '../rule/run-rule.js';
import { InputError } from '../rule/schemas/config-rule-event.js';
import { evaluateUser } from '../rule/verdict.js';
import { fixtureEvent } from './support/events.js';

/**
 * Property-based tests over everything that comes from outside: the rule's event, item and parameters, and
 * the remediation's request. Seeded and bounded, so a failure reproduces and the suite stays a few seconds.
 * Every input must give the correct verdict or a clear error naming the field, and a malformed input must
 * never cause an evaluation or an IAM call.
 */
const FUZZ = { seed: 20_260_114, numRuns: 250 } as const;

type Json = Record<string, unknown>;
const IAM_NAME = /^[\w+=,.@-]{1,64}$/;
const POLICY_ARN = /^arn:aws[a-z-]*:iam::(aws|\d{12}):policy\/.+$/;
const PROTOTYPE_KEYS = ['constructor', 'toString', '__proto__', 'hasOwnProperty', 'valueOf'];
const TAG_KEYS = [...PROTOTYPE_KEYS, 'exempt'];
const STATUSES = [
  'OK',
  'ResourceDiscovered',
  'ResourceNotRecorded',
  'ResourceDeleted',
  'ResourceDeletedNotRecorded',
];

const name = fc.stringMatching(IAM_NAME);
const hostile = fc.oneof(
  fc.anything({ maxDepth: 2 }),
  fc.constantFrom(null, undefined, '', 0, -1, true, [], {}, [{}], '__proto__', 'constructor', 'a b', '/'),
);

const configuration = fc.record({
  userName: name,
  userId: fc.stringMatching(/^AIDA[A-Z0-9]{17}$/),
  arn: fc.constant('arn:aws:iam::123456789123:user/u'),
  path: fc.constantFrom('/', '/team/', '/break-glass/'),
  groupList: fc.array(name, { maxLength: 3 }),
  attachedManagedPolicies: fc.array(
    fc.record({ policyName: name, policyArn: name.map((n) => `arn:aws:iam::aws:policy/${n}`) }),
    { maxLength: 3 },
  ),
  userPolicyList: fc.array(
    fc.record({ policyName: name, policyDocument: fc.oneof(fc.string(), fc.object({ maxDepth: 1 })) }),
    { maxLength: 3 },
  ),
  tags: fc.array(
    fc.record({ key: fc.oneof(fc.constantFrom(...TAG_KEYS), fc.string()), value: fc.string() }),
    {
      maxLength: 3,
    },
  ),
});

/** Fields of the item (and its configuration) a mutation may overwrite; undefined deletes the field. */
const MUTABLE = [
  'resourceType',
  'resourceId',
  'resourceName',
  'configurationItemStatus',
  'configurationItemCaptureTime',
  'configuration',
  'configuration.userName',
  'configuration.userId',
  'configuration.path',
  'configuration.groupList',
  'configuration.attachedManagedPolicies',
  'configuration.userPolicyList',
  'configuration.tags',
  'configuration.somethingNew',
] as const;

const mutations = fc.array(fc.tuple(fc.constantFrom(...MUTABLE), hostile), { maxLength: 2 });

function mutate(item: Json, changes: readonly (readonly [string, unknown])[]): Json {
  const copy = structuredClone(item);
  for (const [path, value] of changes) {
    const [head, tail] = path.split('.') as [string, string | undefined];
    const target = tail === undefined ? copy : copy[head];
    const key = tail ?? head;
    if (typeof target !== 'object' || target === null || Array.isArray(target)) continue;
    if (value === undefined) delete (target as Json)[key];
    else Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
  }
  return copy;
}

const isString = (v: unknown): v is string => typeof v === 'string';
const isList = (v: unknown, each: (e: unknown) => boolean) => Array.isArray(v) && v.every(each);
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * The verdict the documentation promises for an item, worked out independently of the rule's schemas:
 * undefined when the item is malformed (the rule must refuse it).
 */
function expectedCompliance(item: Json, originalTime: unknown, exemptionTagKey: string | undefined) {
  if (!isString(item.resourceType) || item.resourceType === '') return undefined;
  if (!isString(item.resourceId) || item.resourceId === '') return undefined;
  if (!(item.resourceName === undefined || item.resourceName === null || isString(item.resourceName)))
    return undefined;
  if (!STATUSES.includes(item.configurationItemStatus as string)) return undefined;
  if (item.configurationItemCaptureTime !== originalTime) return undefined;
  if (item.resourceType !== 'AWS::IAM::User') return 'NOT_APPLICABLE';
  if (item.configurationItemStatus !== 'OK' && item.configurationItemStatus !== 'ResourceDiscovered')
    return 'NOT_APPLICABLE';
  const c = item.configuration;
  if (!isObject(c)) return undefined;
  const valid =
    isString(c.userName) &&
    IAM_NAME.test(c.userName) &&
    isString(c.userId) &&
    /^\w{1,128}$/.test(c.userId) &&
    (c.path === undefined || (isString(c.path) && c.path.startsWith('/'))) &&
    isList(c.groupList, (g) => isString(g) && g !== '') &&
    isList(
      c.attachedManagedPolicies,
      (p) =>
        isObject(p) &&
        isString(p.policyName) &&
        p.policyName !== '' &&
        isString(p.policyArn) &&
        POLICY_ARN.test(p.policyArn),
    ) &&
    isList(c.userPolicyList, (p) => isObject(p) && isString(p.policyName) && p.policyName !== '') &&
    (c.tags === undefined ||
      c.tags === null ||
      isList(
        c.tags,
        (t) =>
          isObject(t) && isString(t.key) && (t.value === undefined || t.value === null || isString(t.value)),
      ));
  if (!valid) return undefined;
  const tags = (c.tags ?? []) as { key: string; value?: string | null }[];
  const reason =
    exemptionTagKey === undefined ? undefined : tags.findLast((t) => t.key === exemptionTagKey)?.value;
  if ((reason ?? '').trim() !== '') return 'COMPLIANT';
  if ((c.userName as string).startsWith('ses-smtp-user.')) return 'COMPLIANT';
  const direct = (c.attachedManagedPolicies as unknown[]).length + (c.userPolicyList as unknown[]).length;
  return direct > 0 ? 'NON_COMPLIANT' : 'COMPLIANT';
}

describe('fuzzing the rule', () => {
  const base = fixtureEvent('create-iam-user');
  const invoking = JSON.parse(base.invokingEvent as string) as Json & { configurationItem: Json };

  it('a mutated change notification gives the documented verdict, or a clear error and no AWS call', async () => {
    const config = new ConfigServiceClient({ region: 'us-east-1' });
    const iam = new IAMClient({ region: 'us-east-1' });
    const configMock = mockClient(config);
    const iamMock = mockClient(iam);
    const deps = { clientsFor: () => ({ config, iam }), log: silentLogger };
    await fc.assert(
      fc.asyncProperty(
        configuration,
        mutations,
        fc.option(fc.constantFrom(...TAG_KEYS), { nil: undefined }),
        async (conf, changes, exemptionTagKey) => {
          configMock.reset();
          iamMock.reset();
          configMock.on(PutEvaluationsCommand).resolves({ FailedEvaluations: [] });
          const item = mutate({ ...invoking.configurationItem, configuration: conf }, changes);
          const event = {
            ...base,
            invokingEvent: JSON.stringify({ ...invoking, configurationItem: item }),
            ruleParameters: JSON.stringify(exemptionTagKey === undefined ? {} : { exemptionTagKey }),
          };
          // JSON is what Config sends: compare against the item as the rule will see it.
          const sent = JSON.parse(JSON.stringify(item)) as Json;
          const expected = expectedCompliance(
            sent,
            invoking.configurationItem.configurationItemCaptureTime,
            exemptionTagKey,
          );
          const outcome = await runConfigRule(event, deps).then(
            () => undefined,
            (e: unknown) => e,
          );
          if (expected === undefined) {
            expect(outcome).toBeInstanceOf(InputError);
            expect((outcome as Error).message).toMatch(
              /is malformed: ([\w.]+|\(root\)): (expected|unknown|matches|must) /,
            );
            expect(configMock.calls()).toHaveLength(0);
            expect(iamMock.calls()).toHaveLength(0);
            return;
          }
          expect(outcome).toBeUndefined();
          const put = configMock.commandCalls(PutEvaluationsCommand);
          expect(put).toHaveLength(1);
          const evaluations =
            (put[0]?.args[0].input as PutEvaluationsCommandInput | undefined)?.Evaluations ?? [];
          expect(evaluations).toHaveLength(1);
          expect(evaluations[0]).toMatchObject({
            ComplianceType: expected,
            ComplianceResourceId: sent.resourceId,
          });
        },
      ),
      FUZZ,
    );
  });

  it('rule parameters parse or fail with a RuleParameterError that names the parameter', () => {
    const known = [
      'exemptUserNames',
      'exemptPathPrefixes',
      'exemptionTagKey',
      'checkManagedPolicies',
      'checkInlinePolicies',
      'requiredGroupName',
      'exemptSesSmtpUsers',
    ];
    const key = fc.oneof(fc.constantFrom(...known, ...PROTOTYPE_KEYS), fc.string({ maxLength: 12 }));
    const value = fc.oneof(
      fc.string({ maxLength: 20 }),
      fc.constantFrom('true', 'false', '/a/', 'constructor'),
      hostile,
    );
    fc.assert(
      fc.property(fc.dictionary(key, value, { maxKeys: 3 }), (raw) => {
        let error: unknown;
        try {
          parseRuleParameters(raw);
        } catch (e) {
          error = e;
        }
        if (error === undefined) return;
        expect(error).toBeInstanceOf(RuleParameterError);
        const message = (error as Error).message;
        const named =
          Object.keys(raw).some((k) => message.includes(k)) || message.includes('would check nothing');
        expect(named).toBe(true);
      }),
      FUZZ,
    );
  });

  it('any tag record and valid exemptionTagKey: exempt exactly when the user carries that tag with a reason', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.tuple(
            fc.oneof(fc.constantFrom(...TAG_KEYS), fc.string({ maxLength: 8 })),
            fc.string({ maxLength: 8 }),
          ),
          { maxLength: 4 },
        ),
        fc.constantFrom(...TAG_KEYS),
        (pairs, tagKey) => {
          const tags = Object.create(null) as Record<string, string>;
          for (const [k, v] of pairs) tags[k] = v;
          const verdict = evaluateUser(
            {
              userId: 'AIDA1',
              userName: 'u',
              path: '/',
              groupNames: [],
              managedPolicies: [],
              inlinePolicyNames: ['p'],
              tags,
            },
            parseRuleParameters({ exemptionTagKey: tagKey }),
          );
          const reason = pairs.findLast(([k]) => k === tagKey)?.[1].trim() ?? '';
          expect(verdict.compliance).toBe(reason !== '' ? 'COMPLIANT' : 'NON_COMPLIANT');
        },
      ),
      FUZZ,
    );
  });
});

describe('fuzzing the remediation request', () => {
  const FIELDS = {
    IAMResourceId: (v: unknown) => isString(v) && /^[\w+=,.@-]{1,128}$/.test(v),
    GroupName: (v: unknown) => v === undefined || (isString(v) && /^$|^[\w+=,.@-]{1,128}$/.test(v)),
    JoinableGroups: (v: unknown) =>
      v === undefined || (isString(v) && /^$|^[\w+=.@-]{1,128}(,[\w+=.@-]{1,128})*$/.test(v)),
    IncludeExempt: (v: unknown) => v === undefined || typeof v === 'boolean' || v === 'true' || v === 'false',
    DryRun: (v: unknown) => v === undefined || typeof v === 'boolean' || v === 'true' || v === 'false',
  } as const;
  type Field = keyof typeof FIELDS;
  const badField = fc
    .tuple(fc.constantFrom(...(Object.keys(FIELDS) as Field[])), hostile)
    .filter(([field, value]) => !FIELDS[field](value));
  const unknownField = fc
    .tuple(
      fc.oneof(
        fc.constantFrom(...PROTOTYPE_KEYS, 'Dryrun', 'iamResourceId'),
        fc.string({ minLength: 1, maxLength: 10 }),
      ),
      hostile,
    )
    .filter(([field, value]) => !Object.hasOwn(FIELDS, field) && value !== undefined);

  it('a malformed Automation payload is refused naming the field, with no IAM call', async () => {
    const iamMock = mockClient(IAMClient);
    try {
      await fc.assert(
        fc.asyncProperty(fc.oneof(badField, unknownField), async ([field, value]) => {
          iamMock.reset();
          const payload: Json = { IAMResourceId: 'AIDAJQABLZS4A3QDU576Q', DryRun: false };
          Object.defineProperty(payload, field, {
            value,
            enumerable: true,
            writable: true,
            configurable: true,
          });
          if (value === undefined) delete payload[field];
          if (field === 'IAMResourceId' || FIELDS[field as Field] === undefined || value !== undefined) {
            // Unknown keys are quoted as JSON strings, so that control characters cannot break the log line.
            await expect(remediationHandler(payload)).rejects.toThrow(
              Object.hasOwn(FIELDS, field) ? `${field}:` : JSON.stringify(field),
            );
            expect(iamMock.calls()).toHaveLength(0);
          }
        }),
        FUZZ,
      );
    } finally {
      iamMock.restore();
    }
  });

  it('a malformed migration request (CLI and demo entry) is refused naming the field, with no IAM call', async () => {
    const iam = new IAMClient({ region: 'us-east-1' });
    const iamMock = mockClient(iam);
    const groupName = (v: unknown) => isString(v) && /^[\w+=,.@-]{1,128}$/.test(v);
    const REQUEST_FIELDS = {
      // userName is given too: a userId as well is always wrong (exactly one of the two).
      userId: (v: unknown) => v === undefined,
      userName: (v: unknown) => isString(v) && IAM_NAME.test(v),
      groupName: (v: unknown) => v === undefined || (isString(v) && (v.trim() === '' || groupName(v.trim()))),
      joinableGroups: (v: unknown) => v === undefined || isList(v, groupName),
      dryRun: (v: unknown) => typeof v === 'boolean',
      includeExempt: (v: unknown) => v === undefined || typeof v === 'boolean',
    } as const;
    const bad = fc
      .tuple(fc.constantFrom(...(Object.keys(REQUEST_FIELDS) as (keyof typeof REQUEST_FIELDS)[])), hostile)
      .filter(([key, value]) => !REQUEST_FIELDS[key](value));
    await fc.assert(
      fc.asyncProperty(bad, async ([key, value]) => {
        iamMock.reset();
        const request: Json = { userName: 'alice', dryRun: false, [key]: value };
        if (value === undefined) delete request[key];
        const outcome = await migrateUserPolicies(iam, request as never, silentLogger).then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(outcome).toBeInstanceOf(InputError);
        expect((outcome as Error).message).toMatch(key === 'userId' ? /userId/ : key);
        expect(iamMock.calls()).toHaveLength(0);
      }),
      { ...FUZZ, numRuns: 150 },
    );
  });
});
