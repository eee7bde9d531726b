import { readFileSync } from 'node:fs';
import {
  ConfigServiceClient,
  PutEvaluationsCommand,
  type PutEvaluationsCommandInput,
} from '@aws-sdk/client-config-service';
import { IAMClient } from '@aws-sdk/client-iam';
import { mockClient } from 'aws-sdk-client-mock';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { stringify as stringifyYaml } from 'yaml';
import { renderFindingsTable } from '../cli/check-template.js';
import { IAM_USER_NO_POLICIES_CHECK } from '../prevent/candidate.js';
import { checkDocuments, checkTexts } from '../prevent/check.js';
import type { IacFinding } from '../prevent/judge.js';
import { readTerraformSource } from '../prevent/terraform-source.js';
import { handler as remediationHandler } from '../remediation/handler.js';
import { migrateUserPolicies } from '../remediation/migrate.js';
import { silentLogger } from '../rule/log.js';
import { DEFAULT_RULE_PARAMETERS, parseRuleParameters, RuleParameterError } from '../rule/parameters.js';
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

/**
 * check-template's input: CloudFormation templates and Terraform plans generated from a small model, judged
 * in-process (`checkTexts`, what the CLI calls after reading the files) against an oracle computed from the
 * model, then the same documents mutated, and text that is no document at all. A malformed input must give
 * an InputError naming the file, never a TypeError from deep inside the adapters.
 */
describe('fuzzing check-template', () => {
  const CHECK_FUZZ = { ...FUZZ, numRuns: 150 } as const;
  const piece = fc.stringMatching(/^[\w+=,.@-]{1,12}$/);
  const userName = fc
    .oneof({ weight: 6, arbitrary: piece }, { weight: 1, arbitrary: piece.map((s) => `ses-smtp-user.${s}`) })
    .filter((n) => !n.toLowerCase().startsWith('ext-'));
  const logicalIds = (count: number) =>
    fc.uniqueArray(
      fc.oneof(
        { weight: 5, arbitrary: fc.stringMatching(/^[A-Z][A-Za-z0-9]{0,7}$/) },
        { weight: 1, arbitrary: fc.constantFrom('constructor', 'toString', 'valueOf', 'hasOwnProperty') },
      ),
      { minLength: count, maxLength: count },
    );
  const GROUPS = ['all-users', 'ALL-USERS', 'devs'];
  const NAME_FORMS = ['literal', 'ref', 'sub', 'subvars', 'join'] as const;
  type NameForm = (typeof NAME_FORMS)[number];
  const tags = fc.array(
    fc.tuple(
      fc.constantFrom(...TAG_KEYS, 'team'),
      fc.oneof(fc.constantFrom('', '  ', 'INC-1 break glass'), fc.string({ maxLength: 8 })),
    ),
    { maxLength: 3 },
  );
  const extraProps = (known: readonly string[]) =>
    fc
      .dictionary(
        fc.oneof(fc.string({ maxLength: 8 }), fc.constantFrom('PermissionsBoundary', 'LoginProfile')),
        fc.jsonValue({ maxDepth: 2 }),
        { maxKeys: 2 },
      )
      .map((d) => Object.fromEntries(Object.entries(d).filter(([k]) => !known.includes(k))));
  const params = fc.record({
    exemptByName: fc.array(fc.boolean(), { maxLength: 4 }),
    exemptPath: fc.boolean(),
    tagKey: fc.option(fc.constantFrom(...TAG_KEYS), { nil: undefined }),
    checkManaged: fc.boolean(),
    checkInline: fc.boolean(),
    required: fc.option(fc.constant('all-users'), { nil: undefined }),
    ses: fc.boolean(),
  });
  type ParamModel = typeof params extends fc.Arbitrary<infer T> ? T : never;

  /** The names exemptUserNames lists (a comma-separated list cannot name a user whose name has a comma). */
  const exemptNamesOf = (p: ParamModel, names: readonly string[]) =>
    names.filter((n, i) => p.exemptByName[i] === true && !n.includes(','));
  function ruleParams(p: ParamModel, names: readonly string[]) {
    const exempt = exemptNamesOf(p, names).map((n) => n.toUpperCase());
    return parseRuleParameters({
      ...(exempt.length > 0 ? { exemptUserNames: exempt.join(',') } : {}),
      ...(p.exemptPath ? { exemptPathPrefixes: '/break-glass/' } : {}),
      ...(p.tagKey !== undefined ? { exemptionTagKey: p.tagKey } : {}),
      checkManagedPolicies: String(p.checkManaged || (!p.checkInline && p.required === undefined)),
      checkInlinePolicies: String(p.checkInline),
      ...(p.required !== undefined ? { requiredGroupName: p.required } : {}),
      exemptSesSmtpUsers: String(p.ses),
    });
  }

  /** What the documentation promises for one user, computed from the model, not from the adapters. */
  interface ModelUser {
    readonly name: string;
    readonly path: string;
    readonly groups: readonly string[];
    readonly tags: readonly (readonly [string, string])[];
    readonly attachments: { kind: 'managed' | 'inline'; name: string; suppressed: boolean }[];
    readonly suppressed: boolean;
  }
  function expectedVerdict(u: ModelUser, p: ParamModel, exemptNames: readonly string[]) {
    const checkManaged = p.checkManaged || (!p.checkInline && p.required === undefined);
    const counted = u.attachments.filter((a) => (a.kind === 'managed' ? checkManaged : p.checkInline));
    const policies = [...new Set(counted.map((a) => `${a.kind}:${a.name.toLowerCase()}`))].sort();
    const reason = p.tagKey === undefined ? '' : (u.tags.findLast(([k]) => k === p.tagKey)?.[1] ?? '');
    const exempt =
      u.suppressed ||
      (counted.length > 0 && counted.every((a) => a.suppressed)) ||
      exemptNames.some((n) => n.toLowerCase() === u.name.toLowerCase()) ||
      (p.exemptPath && u.path.startsWith('/break-glass/')) ||
      reason.trim() !== '' ||
      (p.ses && u.name.startsWith('ses-smtp-user.'));
    const missingGroup =
      p.required !== undefined && !u.groups.some((g) => g.toLowerCase() === p.required?.toLowerCase());
    const compliance = !exempt && (counted.length > 0 || missingGroup) ? 'NON_COMPLIANT' : 'COMPLIANT';
    return { userName: u.name, compliance, policies };
  }
  const verdictOf = (f: IacFinding) => ({
    userName: f.user.userName,
    compliance: f.verdict.compliance,
    policies: [...new Set(f.verdict.directPolicies.map((d) => `${d.kind}:${d.name.toLowerCase()}`))].sort(),
  });

  // ---- CloudFormation ----
  const cfnUser = fc.record({
    name: fc.option(userName, { nil: undefined, freq: 4 }),
    nameForm: fc.constantFrom(...NAME_FORMS),
    cut: fc.nat(),
    path: fc.constantFrom('/', '/team/', '/break-glass/ops/'),
    groups: fc.subarray(GROUPS),
    managed: fc.array(
      fc.oneof(
        fc.record({ kind: fc.constantFrom('aws', 'customer', 'sub'), name: piece }),
        fc.record({ kind: fc.constant('mp' as const), index: fc.nat() }),
      ),
      { maxLength: 2 },
    ),
    inline: fc.array(fc.record({ name: piece, form: fc.constantFrom(...NAME_FORMS) }), { maxLength: 2 }),
    tags,
    suppressed: fc.constantFrom(false, false, false, true),
    condition: fc.boolean(),
    extra: extraProps(['UserName', 'Path', 'Groups', 'ManagedPolicyArns', 'Policies', 'Tags']),
  });
  const target = fc.oneof(
    fc.record({ kind: fc.constantFrom('ref', 'name'), user: fc.nat() }),
    fc.record({ kind: fc.constant('external'), name: fc.constantFrom('ext-alice', 'EXT-ALICE', 'ext-bob') }),
  );
  const cfnPolicy = fc.record({
    kind: fc.constantFrom('inline', 'managed'),
    name: fc.option(piece, { nil: undefined, freq: 4 }),
    users: fc.array(target, { minLength: 1, maxLength: 2 }),
    suppressed: fc.constantFrom(false, false, true),
    extra: extraProps(['PolicyName', 'ManagedPolicyName', 'Users', 'Groups', 'Roles']),
  });
  const other = fc.record({
    type: fc.constantFrom('AWS::S3::Bucket', 'AWS::IAM::Role', 'AWS::SNS::Topic', 'Custom::Thing'),
    props: extraProps([]),
  });
  const cfnModel = fc
    .record({
      users: fc.uniqueArray(cfnUser, {
        minLength: 1,
        maxLength: 3,
        selector: (u) => u.name?.toLowerCase() ?? {},
      }),
      policies: fc.array(cfnPolicy, { maxLength: 3 }),
      others: fc.array(other, { maxLength: 2 }),
      params,
      yaml: fc.boolean(),
    })
    .chain((m) =>
      logicalIds(m.users.length + m.policies.length + m.others.length).map((ids) => ({ ...m, ids })),
    );
  type CfnModel = typeof cfnModel extends fc.Arbitrary<infer T> ? T : never;

  function cfnTemplate(m: CfnModel): Json {
    const parameters: Json = {};
    let next = 0;
    const param = (value: string) => {
      const id = `p${next++}`;
      parameters[id] = { Type: 'String', Default: value };
      return id;
    };
    const nameValue = (name: string, form: NameForm, cut: number): unknown => {
      const k = name.length < 2 ? 0 : 1 + (cut % (name.length - 1));
      const [head, rest] = [name.slice(0, k), name.slice(k)];
      switch (form) {
        case 'literal':
          return name;
        case 'ref':
          return { Ref: param(name) };
        case 'sub':
          return { 'Fn::Sub': `\${${param(head)}}${rest}` };
        case 'subvars':
          return { 'Fn::Sub': [`\${a}${rest}`, { a: head }] };
        case 'join':
          return { 'Fn::Join': ['', [head, { Ref: param(rest) }]] };
      }
    };
    const resources: Json = {};
    const userIds = m.ids.slice(0, m.users.length);
    const policyIds = m.ids.slice(m.users.length, m.users.length + m.policies.length);
    const managedIds = policyIds.filter((_, i) => m.policies[i]?.kind === 'managed');
    const guard = { guard: { SuppressedRules: [IAM_USER_NO_POLICIES_CHECK] } };
    m.users.forEach((u, i) => {
      const arns = u.managed.flatMap((a): unknown[] =>
        a.kind === 'mp'
          ? managedIds.length > 0
            ? [{ Ref: managedIds[a.index % managedIds.length] }]
            : []
          : a.kind === 'aws'
            ? [`arn:aws:iam::aws:policy/${a.name}`]
            : a.kind === 'customer'
              ? [`arn:aws:iam::123456789012:policy/team/${a.name}`]
              : [{ 'Fn::Sub': `arn:\${AWS::Partition}:iam::aws:policy/${a.name}` }],
      );
      resources[userIds[i] as string] = {
        Type: 'AWS::IAM::User',
        ...(u.condition ? { Condition: 'IsProd' } : {}),
        ...(u.suppressed ? { Metadata: guard } : {}),
        Properties: {
          ...u.extra,
          ...(u.name !== undefined ? { UserName: nameValue(u.name, u.nameForm, u.cut) } : {}),
          Path: u.path,
          Groups: u.groups,
          ManagedPolicyArns: arns,
          Policies: u.inline.map((p) => ({
            PolicyName: nameValue(p.name, p.form, u.cut),
            PolicyDocument: { Version: '2012-10-17', Statement: [] },
          })),
          Tags: u.tags.map(([Key, Value]) => ({ Key, Value })),
        },
      };
    });
    m.policies.forEach((p, i) => {
      const users = p.users.map((t) => {
        if (t.kind === 'external') return t.name;
        const index = t.user % m.users.length;
        const u = m.users[index];
        return t.kind === 'name' && u?.name !== undefined ? u.name : { Ref: userIds[index] };
      });
      resources[policyIds[i] as string] = {
        Type: p.kind === 'inline' ? 'AWS::IAM::Policy' : 'AWS::IAM::ManagedPolicy',
        ...(p.suppressed ? { Metadata: guard } : {}),
        Properties: {
          ...p.extra,
          ...(p.name !== undefined
            ? { [p.kind === 'inline' ? 'PolicyName' : 'ManagedPolicyName']: p.name }
            : p.kind === 'inline'
              ? { PolicyName: policyIds[i] }
              : {}),
          PolicyDocument: { Version: '2012-10-17', Statement: [] },
          Users: users,
        },
      };
    });
    m.others.forEach((o, i) => {
      resources[m.ids[m.users.length + m.policies.length + i] as string] = {
        Type: o.type,
        Properties: o.props,
      };
    });
    return {
      AWSTemplateFormatVersion: '2010-09-09',
      Parameters: parameters,
      Conditions: { IsProd: { 'Fn::Equals': ['a', 'a'] } },
      Resources: resources,
    };
  }

  function cfnOracle(m: CfnModel) {
    const userIds = m.ids.slice(0, m.users.length);
    const policyIds = m.ids.slice(m.users.length, m.users.length + m.policies.length);
    const managed = m.policies.flatMap((p, i) =>
      p.kind === 'managed' ? [{ p, id: policyIds[i] as string }] : [],
    );
    const users = new Map<string, ModelUser>();
    m.users.forEach((u, i) => {
      const id = userIds[i] as string;
      users.set(id, {
        name: u.name ?? id,
        path: u.path,
        groups: u.groups,
        tags: u.tags,
        suppressed: u.suppressed,
        attachments: [
          ...u.managed.flatMap((a) => {
            if (a.kind !== 'mp') return [{ kind: 'managed' as const, name: a.name, suppressed: false }];
            const mp = managed[a.index % Math.max(managed.length, 1)];
            return mp === undefined
              ? []
              : [{ kind: 'managed' as const, name: mp.p.name ?? mp.id, suppressed: false }];
          }),
          ...u.inline.map((p) => ({ kind: 'inline' as const, name: p.name, suppressed: false })),
        ],
      });
    });
    m.policies.forEach((p, i) => {
      for (const t of p.users) {
        let key: string;
        if (t.kind === 'external') {
          key = `ext:${t.name.toLowerCase()}`;
          if (!users.has(key))
            users.set(key, {
              name: t.name,
              path: '/',
              groups: [],
              tags: [],
              suppressed: false,
              attachments: [],
            });
        } else key = userIds[t.user % m.users.length] as string;
        users.get(key)?.attachments.push({
          kind: p.kind as 'managed' | 'inline',
          name: p.name ?? (policyIds[i] as string),
          suppressed: p.suppressed,
        });
      }
    });
    const names = m.users.map((u, i) => u.name ?? (userIds[i] as string));
    const exemptNames = exemptNamesOf(m.params, names);
    return new Map([...users].map(([key, u]) => [key, expectedVerdict(u, m.params, exemptNames)]));
  }

  const ODD_STRINGS = [
    '',
    ' ',
    '\u0000',
    '\u001b[31mred',
    'a\nb',
    '\u202eevil',
    '${',
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a CloudFormation Fn::Sub placeholder, literally.
    '${!x}',
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a CloudFormation Fn::Sub placeholder, literally.
    '${AWS::NoValue}',
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a CloudFormation Fn::Sub placeholder, literally.
    '${a.b.c}',
    'Fn::ForEach::X',
    '__proto__',
    'constructor',
    'toString',
    'AWS::NoValue',
    'arn:aws:iam::aws:policy/',
    '::error::x',
  ];
  const INTRINSICS = [
    'Ref',
    'Condition',
    'Fn::GetAtt',
    'Fn::If',
    'Fn::Sub',
    'Fn::Join',
    'Fn::Select',
    'Fn::Split',
    'Fn::FindInMap',
    'Fn::ImportValue',
    'Fn::ForEachItemNotKnown',
    'Fn::Base64',
  ];
  const nested = (depth: number, leaf: unknown, wrap: (inner: unknown) => unknown) => {
    let v = leaf;
    for (let i = 0; i < depth; i++) v = wrap(v);
    return v;
  };
  const malformed: fc.Arbitrary<unknown> = fc.letrec<{ value: unknown }>((tie) => ({
    value: fc.oneof(
      { depthSize: 'small', withCrossShrink: true },
      fc.jsonValue({ maxDepth: 2 }),
      fc.constantFrom(...ODD_STRINGS, null, 0, -1, 1e308, true, [], {}, [null], [{}]),
      fc.string({ unit: 'binary', maxLength: 6 }),
      fc.tuple(fc.constantFrom(...INTRINSICS), tie('value')).map(([fn, arg]) => ({ [fn]: arg })),
      fc.array(tie('value'), { maxLength: 3 }),
      fc
        .tuple(
          fc.constantFrom('__proto__', 'constructor', 'toString', 'valueOf', 'Key', 'Value'),
          tie('value'),
        )
        .map(([k, v]) => Object.defineProperty({}, k, { value: v, enumerable: true })),
      fc
        .tuple(fc.integer({ min: 20, max: 200 }), fc.constantFrom('list', 'if', 'join', 'object'))
        .map(([depth, kind]) =>
          nested(depth, 'x', (inner) =>
            kind === 'list'
              ? [inner]
              : kind === 'if'
                ? { 'Fn::If': ['c', inner, 'x'] }
                : kind === 'join'
                  ? { 'Fn::Join': ['', [inner]] }
                  : { a: inner },
          ),
        ),
    ),
  })).value;

  /** The paths (keys and indexes) into every object and array of a JSON value, for mutations. */
  function allPaths(value: unknown, prefix: readonly (string | number)[] = []): (string | number)[][] {
    if (Array.isArray(value))
      return value.flatMap((v, i) => [[...prefix, i], ...allPaths(v, [...prefix, i])]);
    if (isObject(value))
      return Object.entries(value).flatMap(([k, v]) => [[...prefix, k], ...allPaths(v, [...prefix, k])]);
    return [];
  }
  const edit = fc.record({
    at: fc.nat(),
    how: fc.constantFrom('replace', 'delete', 'add-key'),
    key: fc.constantFrom('__proto__', 'constructor', 'toString', 'Properties', 'Users', 'Type', 'Fn::If'),
    value: malformed,
  });
  /** The document with each edit applied at one of its paths (chosen by index), on a copy. */
  function mutateDocument(
    doc: Json,
    edits: readonly { at: number; how: string; key: string; value: unknown }[],
  ) {
    const copy = structuredClone(doc);
    for (const edit of edits) {
      // A copy of the value: one generated value used twice must not make the document cyclic or read-only.
      const e = { ...edit, value: structuredClone(edit.value) };
      const paths = allPaths(copy);
      const path = paths[e.at % Math.max(paths.length, 1)] ?? [];
      const parent = path.slice(0, -1).reduce<unknown>((v, k) => (v as Json)[k as string], copy);
      const key = path.at(-1);
      if (key === undefined || typeof parent !== 'object' || parent === null) continue;
      const target = (parent as Json)[key as string];
      if (e.how === 'delete') {
        if (Array.isArray(parent)) parent.splice(key as number, 1);
        else delete (parent as Json)[key as string];
      } else if (e.how === 'add-key' && isObject(target)) {
        Object.defineProperty(target, e.key, {
          value: e.value,
          enumerable: true,
          writable: true,
          configurable: true,
        });
      } else {
        Object.defineProperty(parent, key, {
          value: e.value,
          enumerable: true,
          writable: true,
          configurable: true,
        });
      }
    }
    return copy;
  }
  /** A malformed input is an InputError that names the file: not a TypeError from deep inside. */
  function expectFindingsOrInputError(run: () => IacFinding[], file: string) {
    let findings: IacFinding[] | undefined;
    try {
      findings = run();
    } catch (error) {
      expect(error).toBeInstanceOf(InputError);
      expect((error as Error).message).toContain(file);
      return;
    }
    for (const f of findings) {
      expect(['COMPLIANT', 'NON_COMPLIANT']).toContain(f.verdict.compliance);
      expect(typeof f.user.userName).toBe('string');
    }
  }

  it('a generated CloudFormation template gets, for every user, the verdict and policies the model says', () => {
    fc.assert(
      fc.property(cfnModel, (m) => {
        const template = cfnTemplate(m);
        const text = m.yaml ? stringifyYaml(template) : JSON.stringify(template, null, 2);
        const names = m.users.map((u, i) => u.name ?? (m.ids[i] as string));
        const findings = checkTexts([{ file: 'template.json', text }], ruleParams(m.params, names));
        const expected = cfnOracle(m);
        const got = new Map(
          findings.map((f) => [f.candidate.address ?? `ext:${f.user.userName.toLowerCase()}`, verdictOf(f)]),
        );
        expect(got).toEqual(expected);
      }),
      CHECK_FUZZ,
    );
  });

  it('a mutated CloudFormation template gives findings or an InputError naming the file', () => {
    fc.assert(
      fc.property(
        cfnModel,
        fc.array(edit, { minLength: 1, maxLength: 3 }),
        fc.boolean(),
        (m, edits, yaml) => {
          const doc = mutateDocument(cfnTemplate(m), edits);
          const text = yaml ? stringifyYaml(doc, { aliasDuplicateObjects: false }) : JSON.stringify(doc);
          expectFindingsOrInputError(
            () => checkTexts([{ file: 'mutated.json', text }], DEFAULT_RULE_PARAMETERS),
            'mutated.json',
          );
        },
      ),
      CHECK_FUZZ,
    );
  });

  it('a mutated Terraform plan gives findings or an InputError naming the file', () => {
    const plan = JSON.parse(readFileSync('test/fixtures/templates/terraform-plan.json', 'utf8')) as Json;
    fc.assert(
      fc.property(fc.array(edit, { minLength: 1, maxLength: 3 }), (edits) => {
        const text = JSON.stringify(mutateDocument(plan, edits));
        expectFindingsOrInputError(
          () => checkTexts([{ file: 'plan.json', text }], DEFAULT_RULE_PARAMETERS),
          'plan.json',
        );
      }),
      CHECK_FUZZ,
    );
  });

  // ---- Terraform plans ----
  /** Where a user resource and its attachments live: the root, a module, or an instance of a for_each module. */
  const MODULES = ['', 'module.team.', 'module.ci["a"].', 'module.ci["b"].'] as const;
  const tfTarget = fc.oneof(
    {
      weight: 4,
      arbitrary: fc.record({ kind: fc.constant('user' as const), user: fc.nat(), known: fc.boolean() }),
    },
    {
      weight: 1,
      arbitrary: fc.record({
        kind: fc.constant('external' as const),
        name: fc.constantFrom('ext-alice', 'EXT-ALICE', 'ext-bob'),
      }),
    },
  );
  const tfUser = fc.record({
    base: userName,
    module: fc.constantFrom(...MODULES),
    expand: fc.oneof(
      fc.constant({ mode: 'single' as const }),
      fc.record({ mode: fc.constant('count' as const), n: fc.integer({ min: 1, max: 3 }) }),
      fc.record({
        mode: fc.constant('for_each' as const),
        keys: fc.uniqueArray(fc.stringMatching(/^[a-z0-9]{1,4}$/), { minLength: 1, maxLength: 3 }),
      }),
    ),
    nameKnown: fc.constantFrom(true, true, true, false),
    path: fc.constantFrom('/', '/team/', '/break-glass/ops/'),
    tags,
    tagsAll: fc.constantFrom('same', 'defaults', 'unknown'),
    actions: fc.constantFrom(['create'], ['update'], ['no-op'], ['delete', 'create'], ['delete']),
    groups: fc.option(fc.subarray(GROUPS, { minLength: 1 }), { nil: undefined }),
  });
  const tfAttachment = fc.record({
    type: fc.constantFrom(
      'aws_iam_user_policy',
      'aws_iam_user_policy_attachment',
      'aws_iam_policy_attachment',
    ),
    policy: piece,
    /** The ARN of an aws_iam_policy of the plan, known only after apply. */
    viaPolicyResource: fc.boolean(),
    targets: fc.array(tfTarget, { minLength: 1, maxLength: 3 }),
    actions: fc.constantFrom(['create'], ['create'], ['update'], ['no-op'], ['delete']),
  });
  type TfUserModel = typeof tfUser extends fc.Arbitrary<infer T> ? T : never;
  interface TfInstance {
    readonly user: number;
    readonly address: string;
    readonly local: string;
    readonly name: string;
  }
  const tfModel = fc
    .record({
      users: fc.array(tfUser, { minLength: 1, maxLength: 3 }),
      attachments: fc.array(tfAttachment, { maxLength: 4 }),
      params,
    })
    .map((m) => ({ ...m, instances: tfInstances(m.users) }))
    .filter((m) => {
      const names = m.instances.map((i) => i.name.toLowerCase());
      return new Set(names).size === names.length;
    });
  type TfModel = typeof tfModel extends fc.Arbitrary<infer T> ? T : never;

  /** Every instance of every user resource: its full address, the address it is referred to by, and its name. */
  function tfInstances(users: readonly TfUserModel[]): TfInstance[] {
    return users.flatMap((u, i) => {
      const resource = `aws_iam_user.u${i}`;
      const keys =
        u.expand.mode === 'single'
          ? ['']
          : u.expand.mode === 'count'
            ? Array.from({ length: u.expand.n }, (_, k) => `[${k}]`)
            : u.expand.keys.map((k) => `["${k}"]`);
      return keys.map((key, k) => {
        const address = `${u.module}${resource}${key}`;
        return {
          user: i,
          address,
          local: `${resource}${key}`,
          name: u.nameKnown ? (key === '' ? u.base : `${u.base}-${k}`) : address,
        };
      });
    });
  }

  /** `terraform show -json` output for the model: resource_changes, planned_values and the configuration. */
  function tfPlan(m: TfModel): Json {
    const changes: Json[] = [];
    const config = new Map<string, Json[]>();
    const configOf = (module: string) => {
      const key = module.replace(/\[[^\]]*\]/g, '');
      if (!config.has(key)) config.set(key, []);
      return config.get(key) as Json[];
    };
    const change = (
      module: string,
      address: string,
      type: string,
      actions: string[],
      after: Json,
      afterUnknown: Json,
      expressions: Json,
    ) => {
      changes.push({
        address: `${module}${address}`,
        ...(module !== '' ? { module_address: module.slice(0, -1) } : {}),
        mode: 'managed',
        type,
        name: address.split('.')[1]?.replace(/\[.*$/, ''),
        ...(address.includes('[') ? { index: JSON.parse(address.slice(address.indexOf('[') + 1, -1)) } : {}),
        change: { actions, before: null, after, after_unknown: afterUnknown },
      });
      if (!configOf(module).some((c) => c.address === address.replace(/\[.*$/, '')))
        configOf(module).push({ address: address.replace(/\[.*$/, ''), mode: 'managed', type, expressions });
    };
    const refsTo = (local: string) => {
      const whole = local.replace(/\[.*$/, '');
      return [`${local}.name`, ...(local !== whole ? [local] : []), whole];
    };
    for (const inst of m.instances) {
      const u = m.users[inst.user] as TfUserModel;
      const module = u.module;
      const own = Object.fromEntries(u.tags);
      const tagsAll = u.tagsAll === 'defaults' ? { owner: 'platform', ...own } : own;
      change(
        module,
        inst.local,
        'aws_iam_user',
        [...u.actions],
        {
          ...(u.nameKnown ? { name: inst.name } : {}),
          path: u.path,
          tags: u.tags.length > 0 ? own : null,
          ...(u.tagsAll !== 'unknown' ? { tags_all: tagsAll } : {}),
        },
        {
          arn: true,
          id: true,
          unique_id: true,
          ...(u.nameKnown ? {} : { name: true }),
          ...(u.tagsAll === 'unknown' ? { tags_all: true } : {}),
        },
        {},
      );
      // A user being deleted takes its memberships with it.
      if (u.groups !== undefined && u.actions.join() !== 'delete') {
        change(
          module,
          `aws_iam_user_group_membership.g${inst.local.replace(/\W/g, '_')}`,
          'aws_iam_user_group_membership',
          ['create'],
          { groups: u.groups, ...(u.nameKnown ? { user: inst.name } : {}) },
          { id: true, ...(u.nameKnown ? {} : { user: true }) },
          { user: { references: refsTo(inst.local) } },
        );
      }
    }
    m.attachments.forEach((a, i) => {
      // An attachment lives with its first target that is a user of the plan (references are module-relative).
      const firstUser = a.targets.flatMap((t) =>
        t.kind === 'user' ? [m.instances[t.user % m.instances.length]] : [],
      )[0];
      const module = firstUser !== undefined ? (m.users[firstUser.user] as TfUserModel).module : '';
      const targets = a.type === 'aws_iam_policy_attachment' ? a.targets : a.targets.slice(0, 1);
      const entries = targets.map((t) => {
        if (t.kind === 'external') return { value: t.name, unknown: false, refs: [] as string[] };
        const inst = m.instances[t.user % m.instances.length] as (typeof m.instances)[number];
        // The configuration cannot refer to a user being deleted: such a user is named as one from elsewhere.
        if ((m.users[inst.user] as TfUserModel).actions.join() === 'delete')
          return { value: inst.name, unknown: false, refs: [] };
        const sameModule = (m.users[inst.user] as TfUserModel).module === module;
        const known = (t.known || !sameModule) && (m.users[inst.user] as TfUserModel).nameKnown;
        return known
          ? { value: inst.name, unknown: false, refs: sameModule ? refsTo(inst.local) : [] }
          : sameModule
            ? { value: null, unknown: true, refs: refsTo(inst.local) }
            : { value: inst.name, unknown: false, refs: [] };
      });
      const policyName = `pol${i}`;
      let policyArn: Json = { policy_arn: `arn:aws:iam::aws:policy/${a.policy}` };
      let policyUnknown: Json = {};
      let policyRefs: Json = {};
      if (a.type !== 'aws_iam_user_policy' && a.viaPolicyResource) {
        change(
          module,
          `aws_iam_policy.${policyName}`,
          'aws_iam_policy',
          ['create'],
          { name: a.policy, path: '/' },
          { arn: true, id: true },
          {},
        );
        policyArn = {};
        policyUnknown = { policy_arn: true };
        policyRefs = {
          policy_arn: { references: [`aws_iam_policy.${policyName}.arn`, `aws_iam_policy.${policyName}`] },
        };
      }
      const address = `${a.type}.a${i}`;
      if (a.type === 'aws_iam_policy_attachment') {
        const anyUnknown = entries.some((e) => e.unknown);
        change(
          module,
          address,
          a.type,
          [...a.actions],
          { name: `a${i}`, users: entries.map((e) => e.value), ...policyArn },
          { id: true, ...policyUnknown, ...(anyUnknown ? { users: entries.map((e) => e.unknown) } : {}) },
          { users: { references: entries.flatMap((e) => e.refs) }, ...policyRefs },
        );
      } else {
        const e = entries[0] as (typeof entries)[number];
        change(
          module,
          address,
          a.type,
          [...a.actions],
          {
            ...(e.unknown ? {} : { user: e.value }),
            ...(a.type === 'aws_iam_user_policy' ? { name: a.policy, policy: '{}' } : policyArn),
          },
          {
            id: true,
            ...(e.unknown ? { user: true } : {}),
            ...(a.type === 'aws_iam_user_policy' ? {} : policyUnknown),
          },
          { user: { references: e.refs }, ...(a.type === 'aws_iam_user_policy' ? {} : policyRefs) },
        );
      }
    });
    const moduleConfig = (key: string): Json => ({
      resources: config.get(key) ?? [],
      module_calls: Object.fromEntries(
        [...config.keys()]
          .filter((k) => k !== key && k.startsWith(key) && /^module\.[^.]+\.$/.test(k.slice(key.length)))
          .map((k) => [k.slice(key.length).split('.')[1], { source: './x', module: moduleConfig(k) }]),
      ),
    });
    const planned = (prefix: string): Json[] =>
      changes.filter((c) => {
        const a = c.address as string;
        return a.startsWith(prefix) && !/^module\./.test(a.slice(prefix.length));
      });
    return {
      format_version: '1.2',
      terraform_version: '1.9.8',
      planned_values: {
        root_module: {
          resources: planned('').map((c) => ({
            address: c.address,
            type: c.type,
            values: (c.change as Json).after,
          })),
          child_modules: MODULES.slice(1).map((p) => ({
            address: p.slice(0, -1),
            resources: planned(p).map((c) => ({
              address: c.address,
              type: c.type,
              values: (c.change as Json).after,
            })),
          })),
        },
      },
      resource_changes: changes,
      configuration: { root_module: moduleConfig('') },
    };
  }

  /** What the documentation promises for the plan: only created or updated resources count. */
  function tfOracle(m: TfModel) {
    const counts = (actions: readonly string[]) => actions.includes('create') || actions.includes('update');
    const users = new Map<string, ModelUser & { changes: boolean }>();
    for (const inst of m.instances) {
      const u = m.users[inst.user] as TfUserModel;
      if (u.actions.length === 1 && u.actions[0] === 'delete') continue;
      const own = u.tags;
      const tagsAll = u.tagsAll === 'defaults' ? [['owner', 'platform'] as const, ...own] : own; // tags_all known only after apply: the user's own tags are in it
      users.set(inst.address, {
        name: inst.name,
        path: u.path,
        groups: u.groups ?? [],
        tags: tagsAll,
        attachments: [],
        suppressed: false,
        changes: counts(u.actions),
      });
    }
    const external = (key: string, name: string) => {
      if (!users.has(key))
        users.set(key, {
          name,
          path: '/',
          groups: [],
          tags: [],
          attachments: [],
          suppressed: false,
          changes: false,
        });
      return users.get(key) as ModelUser;
    };
    for (const a of m.attachments) {
      if (!counts(a.actions)) continue;
      const targets = a.type === 'aws_iam_policy_attachment' ? a.targets : a.targets.slice(0, 1);
      for (const t of targets) {
        const inst = t.kind === 'user' ? m.instances[t.user % m.instances.length] : undefined;
        const reached = (() => {
          if (t.kind === 'external') return external(`name:${t.name.toLowerCase()}`, t.name);
          const found = users.get((inst as (typeof m.instances)[number]).address);
          if (found !== undefined) return found;
          // A user being deleted is named in the plan as a user from elsewhere (see tfPlan).
          const gone = inst as TfInstance;
          return external(`name:${gone.name.toLowerCase()}`, gone.name);
        })();
        reached.attachments.push({
          kind: a.type === 'aws_iam_user_policy' ? 'inline' : 'managed',
          name: a.policy,
          suppressed: false,
        });
      }
    }
    const exemptNames = exemptNamesOf(
      m.params,
      m.instances.filter((i) => (m.users[i.user] as TfUserModel).nameKnown).map((i) => i.name),
    );
    return new Map(
      [...users]
        .filter(([, u]) => u.changes || u.attachments.length > 0)
        .map(([key, u]) => [key, expectedVerdict(u, m.params, exemptNames)]),
    );
  }
  /** Findings by user; which spelling of a user from elsewhere is shown depends on resource order, so no case. */
  const tfVerdicts = (findings: readonly IacFinding[]) =>
    new Map(
      findings.map((f) => {
        const v = verdictOf(f);
        return [
          tfKey(f),
          f.candidate.address === undefined ? { ...v, userName: v.userName.toLowerCase() } : v,
        ];
      }),
    );
  const tfExpected = (m: TfModel) =>
    new Map(
      [...tfOracle(m)].map(([k, v]) => [
        k,
        k.startsWith('aws_') || k.startsWith('module.') ? v : { ...v, userName: v.userName.toLowerCase() },
      ]),
    );
  const tfKey = (f: IacFinding) =>
    f.candidate.address ??
    (f.user.userName.startsWith('(user of ')
      ? `unknown:${f.user.userName.slice(9, -12)}`
      : `name:${f.user.userName.toLowerCase()}`);

  it('a generated Terraform plan gets, for every user, the verdict and policies the model says', () => {
    fc.assert(
      fc.property(tfModel, (m) => {
        const text = JSON.stringify(tfPlan(m), null, 2);
        const names = m.instances
          .filter((i) => (m.users[i.user] as TfUserModel).nameKnown)
          .map((i) => i.name);
        const findings = checkTexts([{ file: 'plan.json', text }], ruleParams(m.params, names));
        expect(tfVerdicts(findings)).toEqual(tfExpected(m));
      }),
      CHECK_FUZZ,
    );
  });

  // ---- Terraform source (.tf) ----
  /** A plan model as .tf source can write it: root module, everything created, every name known before apply. */
  const tfSourceModel = tfModel
    .map((m) => {
      const users = m.users.map((u) => ({
        ...u,
        module: '' as const,
        actions: ['create'] as const,
        nameKnown: true,
        tagsAll: 'same' as const,
      }));
      const attachments = m.attachments.map((a) => ({
        ...a,
        actions: ['create'] as const,
        targets: a.targets.map((t) => (t.kind === 'user' ? { ...t, known: true } : t)),
      }));
      return { ...m, users, attachments, instances: tfInstances(users) };
    })
    .filter((m) => new Set(m.instances.map((i) => i.name.toLowerCase())).size === m.instances.length)
    .chain((m) =>
      fc
        .array(fc.constantFrom('literal', 'var', 'local'), {
          minLength: m.users.length,
          maxLength: m.users.length,
        })
        .map((forms) => ({ ...m, forms })),
    );
  type TfSourceModel = typeof tfSourceModel extends fc.Arbitrary<infer T> ? T : never;
  /** An HCL quoted string: JSON's escapes that HCL also reads, and template sequences escaped. */
  const hcl = (text: string) =>
    JSON.stringify(text)
      .replace(/\\b/g, '\\u0008')
      .replace(/\\f/g, '\\u000c')
      .replace(/\$\{/g, '$${')
      .replace(/%\{/g, '%%{');
  /** .tf source for the model: names as literals, variable defaults or locals, count and for_each expanded by Terraform. */
  function tfSource(m: TfSourceModel): string {
    const out: string[] = [];
    m.users.forEach((u, i) => {
      const form = m.forms[i] ?? 'literal';
      if (form === 'var')
        out.push(`variable "n${i}" {`, '  type    = string', `  default = ${hcl(u.base)}`, '}');
      if (form === 'local') out.push('locals {', `  n${i} = ${hcl(u.base)}`, '}');
      const base = form === 'var' ? `var.n${i}` : form === 'local' ? `local.n${i}` : undefined;
      const suffix =
        // biome-ignore lint/suspicious/noTemplateCurlyInString: Terraform interpolations, literally.
        u.expand.mode === 'count' ? '-${count.index}' : u.expand.mode === 'for_each' ? '-${each.value}' : '';
      const name =
        suffix === ''
          ? (base ?? hcl(u.base))
          : `"${base !== undefined ? `\${${base}}` : hcl(u.base).slice(1, -1)}${suffix}"`;
      out.push(`resource "aws_iam_user" "u${i}" {`);
      if (u.expand.mode === 'count') out.push(`  count = ${u.expand.n}`);
      if (u.expand.mode === 'for_each')
        out.push(`  for_each = { ${u.expand.keys.map((k, n) => `${hcl(k)} = ${n}`).join(', ')} }`);
      out.push(`  name = ${name}`, `  path = ${hcl(u.path)}`);
      if (u.tags.length > 0)
        out.push(`  tags = { ${u.tags.map(([k, v]) => `${hcl(k)} = ${hcl(v)}`).join(', ')} }`);
      out.push('}');
    });
    const ref = (inst: TfInstance) => `${inst.local}.name`;
    for (const inst of m.instances) {
      const groups = m.users[inst.user]?.groups;
      if (groups === undefined) continue;
      out.push(
        `resource "aws_iam_user_group_membership" "g${inst.local.replace(/\W/g, '_')}" {`,
        `  user   = ${ref(inst)}`,
        `  groups = [${groups.map(hcl).join(', ')}]`,
        '}',
      );
    }
    m.attachments.forEach((a, i) => {
      const targets = (a.type === 'aws_iam_policy_attachment' ? a.targets : a.targets.slice(0, 1)).map((t) =>
        t.kind === 'external' ? hcl(t.name) : ref(m.instances[t.user % m.instances.length] as TfInstance),
      );
      let arn = hcl(`arn:aws:iam::aws:policy/${a.policy}`);
      if (a.type !== 'aws_iam_user_policy' && a.viaPolicyResource) {
        out.push(
          `resource "aws_iam_policy" "pol${i}" {`,
          `  name   = ${hcl(a.policy)}`,
          '  policy = "{}"',
          '}',
        );
        arn = `aws_iam_policy.pol${i}.arn`;
      }
      out.push(`resource "${a.type}" "a${i}" {`);
      if (a.type === 'aws_iam_policy_attachment')
        out.push(`  name       = "a${i}"`, `  users      = [${targets.join(', ')}]`, `  policy_arn = ${arn}`);
      else if (a.type === 'aws_iam_user_policy_attachment')
        out.push(`  user       = ${targets[0]}`, `  policy_arn = ${arn}`);
      else out.push(`  user   = ${targets[0]}`, `  name   = ${hcl(a.policy)}`, '  policy = "{}"');
      out.push('}');
    });
    return `${out.join('\n')}\n`;
  }
  async function checkTf(file: string, text: string, p: ReturnType<typeof ruleParams>) {
    const source = await readTerraformSource('/nowhere', [{ file, text }], {}, () => undefined);
    return checkDocuments(
      [{ kind: 'terraform-plan', file, plan: source.plan, source: source.info, notes: source.notes }],
      p,
    );
  }
  const TF_FUZZ = { ...FUZZ, numRuns: 100 } as const;

  it('generated .tf source gets, for every user, the verdict and policies the model says', async () => {
    await fc.assert(
      fc.asyncProperty(tfSourceModel, async (m) => {
        const findings = await checkTf(
          'main.tf',
          tfSource(m),
          ruleParams(
            m.params,
            m.instances.map((i) => i.name),
          ),
        );
        expect(tfVerdicts(findings)).toEqual(tfExpected(m));
      }),
      TF_FUZZ,
    );
  });

  it('mutated or random HCL gives findings or an InputError naming the file', async () => {
    const token = fc.constantFrom(
      '{',
      '}',
      '[',
      ']',
      '"',
      '$' + '{',
      '%{',
      // biome-ignore lint/suspicious/noTemplateCurlyInString: Terraform interpolations, literally.
      '${aws_iam_user.u0[0].name}',
      'aws_iam_user.u0',
      '[*]',
      ' = ',
      '\n',
      'count = -1\n',
      'for_each = "x"\n',
      'for_each = { for k, v in var.n0 : k => v }\n',
      'count = 1e308\n',
      'user = var.missing\n',
      'name = local.n0\n',
      'locals { n0 = local.n0 }\n',
      'users = [null, 1, {}]\n',
      'tags = null\n',
      'resource "aws_iam_user" "u0" {\n',
      'dynamic "x" {\n',
      'module "m" { source = "./m" }\n',
      'lookup(',
      'upper(',
      '<<EOT\n',
      '\u0000',
      '\u202e',
    );
    // Half the edits go at the start of a line, where a whole attribute or block keeps the file parseable.
    const edit = fc.record({
      at: fc.nat(),
      atLine: fc.boolean(),
      cut: fc.nat({ max: 8 }),
      insert: fc.array(token, { maxLength: 3 }),
    });
    /** HCL expressions the evaluator must survive: functions with odd arguments, splats, for, self references. */
    const FUNCTIONS = [
      'toset',
      'tolist',
      'tomap',
      'tostring',
      'tonumber',
      'length',
      'lower',
      'format',
      'join',
      'split',
      'replace',
      'concat',
      'flatten',
      'distinct',
      'merge',
      'keys',
      'values',
      'lookup',
      'element',
      'contains',
      'coalesce',
      'zipmap',
      'range',
      'jsonencode',
      'try',
      'nosuch',
    ];
    const LEAVES = [
      'null',
      'true',
      '-1',
      '1e308',
      '0.5',
      '""',
      '"%s%d%v%%"',
      '"\\u0000"',
      '"__proto__"',
      '"constructor"',
      '[]',
      '{}',
      'var.n0',
      'var.missing',
      'local.n0',
      'local.zz',
      'aws_iam_user.u0',
      'aws_iam_user.u0[0].name',
      'aws_iam_user.u0["a"].name',
      'aws_iam_user.u0[*].name',
      'aws_iam_user.zz',
      'aws_iam_user.zz.name',
      'each.key',
      'each.value',
      'count.index',
      'path.module',
      'terraform.workspace',
      'data.aws_iam_policy_document.d.json',
      'module.m.out',
      'self.x',
    ];
    const expression: fc.Arbitrary<string> = fc.letrec<{ e: string }>((tie) => ({
      e: fc.oneof(
        { depthSize: 'small' },
        fc.constantFrom(...LEAVES),
        fc
          .tuple(fc.constantFrom(...FUNCTIONS), fc.array(tie('e'), { maxLength: 3 }))
          .map(([f, args]) => `${f}(${args.join(', ')})`),
        fc.tuple(tie('e'), tie('e')).map(([c, v]) => `[for k, v in ${c} : ${v}]`),
        fc.tuple(tie('e'), tie('e'), tie('e')).map(([c, k, v]) => `{ for k, v in ${c} : ${k} => ${v} }`),
        fc.tuple(tie('e'), tie('e'), tie('e')).map(([c, a, b]) => `${c} ? ${a} : ${b}`),
        fc
          .tuple(tie('e'), fc.constantFrom('+', '==', '&&', '%', '/'), tie('e'))
          .map(([a, op, b]) => `(${a} ${op} ${b})`),
        fc.tuple(tie('e'), tie('e')).map(([a, b]) => `${a}[${b}]`),
        fc.array(tie('e'), { maxLength: 3 }).map((items) => `[${items.join(', ')}]`),
        fc.tuple(fc.constantFrom('"a"', '"__proto__"', 'b'), tie('e')).map(([k, v]) => `{ ${k} = ${v} }`),
        tie('e').map((e) => `"x-$${'{'}${e}}"`),
      ),
    })).e;
    /** The generated source with a local, a user and an attachment whose values are random expressions. */
    const evaluated = fc
      .record({
        model: tfSourceModel,
        expand: fc.constantFrom('', 'count', 'for_each'),
        by: expression,
        name: expression,
        tags: expression,
        user: expression,
        arn: expression,
        local: expression,
      })
      .map((r) =>
        [
          tfSource(r.model),
          `locals {\n  zz = ${r.local}\n}`,
          'resource "aws_iam_user" "zz" {',
          ...(r.expand === '' ? [] : [`  ${r.expand} = ${r.by}`]),
          `  name = ${r.name}`,
          `  tags = ${r.tags}`,
          '}',
          'resource "aws_iam_user_policy_attachment" "zz" {',
          `  user       = ${r.user}`,
          `  policy_arn = ${r.arn}`,
          '}',
          '',
        ].join('\n'),
      );
    const text = fc.oneof(
      evaluated,
      fc.tuple(tfSourceModel, fc.array(edit, { minLength: 1, maxLength: 3 })).map(([m, edits]) =>
        edits.reduce((t, e) => {
          const at = e.at % (t.length + 1);
          if (e.atLine) {
            const line = t.lastIndexOf('\n', at) + 1;
            return `${t.slice(0, line)}${e.insert.join('')}${t.slice(line)}`;
          }
          return `${t.slice(0, at)}${e.insert.join('')}${t.slice(at + e.cut)}`;
        }, tfSource(m)),
      ),
      fc.array(fc.oneof(token, fc.string({ maxLength: 4 })), { maxLength: 12 }).map((a) => a.join('')),
    );
    await fc.assert(
      fc.asyncProperty(text, async (t) => {
        let findings: IacFinding[] | undefined;
        try {
          findings = await checkTf('fuzzed.tf', t, DEFAULT_RULE_PARAMETERS);
        } catch (error) {
          expect(error).toBeInstanceOf(InputError);
          expect((error as Error).message).toContain('fuzzed.tf');
          return;
        }
        for (const f of findings) expect(['COMPLIANT', 'NON_COMPLIANT']).toContain(f.verdict.compliance);
      }),
      TF_FUZZ,
    );
  });

  // ---- What check-template prints ----
  /** Text meant to take over a terminal or a CI log: escapes, line breaks, bidi and zero-width characters, workflow commands. */
  const HOSTILE = [
    '\u001b[2J',
    '\u001b]8;;x\u0007',
    '\r',
    '\n',
    '\u0085',
    '\u009b31m',
    '\u2028',
    '\u202e',
    '\u2066',
    '\u200b',
    '\u00ad',
    '\ufeff',
    '\u061c',
    '::error::pwned',
    '::add-mask::x',
    '\t',
    '\u0000',
    '\u007f',
  ];
  const hostileText = fc
    .array(fc.oneof(fc.constantFrom(...HOSTILE), piece), { minLength: 1, maxLength: 4 })
    .map((parts) => parts.join(''));
  // biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is what this is for.
  const CONTROL = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/;
  const FORMAT = /[\u00ad\u061c\u180e\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff]/;
  /** The table as printed without colour: newlines between rows only, and no line a CI runner would obey. */
  function expectPrintable(findings: readonly IacFinding[], file: string) {
    const table = renderFindingsTable(findings, [{ file, note: `${file}\u001b[0m\n::error::note` }], false);
    for (const line of table.split('\n')) {
      expect(line).not.toMatch(CONTROL);
      expect(line).not.toMatch(FORMAT);
      expect(line.trimStart().startsWith('::')).toBe(false);
    }
  }

  it('names, logical IDs, addresses and file names with control, bidi and zero-width characters print as escapes', () => {
    fc.assert(
      fc.property(
        fc.record({
          user: hostileText,
          policy: hostileText,
          id: hostileText,
          tag: hostileText,
          file: hostileText,
          terraform: fc.boolean(),
        }),
        (h) => {
          const text = h.terraform
            ? JSON.stringify({
                format_version: '1.2',
                resource_changes: [
                  {
                    address: `aws_iam_user.${h.id}`,
                    type: 'aws_iam_user',
                    change: { actions: ['create'], after: { name: h.user, tags: { [h.tag]: h.tag } } },
                  },
                  {
                    address: `aws_iam_user_policy.${h.id}`,
                    type: 'aws_iam_user_policy',
                    change: { actions: ['create'], after: { name: h.policy, user: h.user } },
                  },
                  {
                    address: `aws_iam_user_policy.x${h.id}`,
                    type: 'aws_iam_user_policy',
                    change: { actions: ['create'], after: { name: h.policy }, after_unknown: { user: true } },
                  },
                ],
              })
            : JSON.stringify({
                Resources: {
                  [h.id]: {
                    Type: 'AWS::IAM::User',
                    Properties: {
                      UserName: h.user,
                      Policies: [{ PolicyName: h.policy }],
                      ManagedPolicyArns: [{ 'Fn::ImportValue': h.tag }],
                      Tags: [{ Key: h.tag, Value: h.tag }],
                    },
                  },
                  [`${h.id}P`]: {
                    Type: 'AWS::IAM::Policy',
                    Properties: { PolicyName: h.policy, Users: [h.tag] },
                  },
                },
              });
          const findings = checkTexts([{ file: h.file, text }], DEFAULT_RULE_PARAMETERS);
          expect(findings.length).toBeGreaterThan(0);
          expectPrintable(findings, h.file);
        },
      ),
      CHECK_FUZZ,
    );
  });

  it('the table for a mutated CloudFormation template or Terraform plan has no control characters from the input', () => {
    const plan = JSON.parse(readFileSync('test/fixtures/templates/terraform-plan.json', 'utf8')) as Json;
    fc.assert(
      fc.property(
        cfnModel,
        fc.array(edit, { minLength: 1, maxLength: 3 }),
        fc.boolean(),
        (m, edits, terraform) => {
          const text = JSON.stringify(mutateDocument(terraform ? plan : cfnTemplate(m), edits));
          let findings: IacFinding[];
          try {
            findings = checkTexts([{ file: 'mutated.json', text }], DEFAULT_RULE_PARAMETERS);
          } catch (error) {
            expect(error).toBeInstanceOf(InputError);
            return;
          }
          expectPrintable(findings, 'mutated.json');
        },
      ),
      CHECK_FUZZ,
    );
  });

  it('text that is no template (random characters, broken JSON and YAML) gives an InputError naming the file', () => {
    const fragment = fc.constantFrom(
      'Resources:\n',
      '  U:\n    Type: AWS::IAM::User\n',
      '    Properties: !Ref ',
      '{"Resources": {',
      '"format_version": "1.2", "resource_changes": [',
      '&a [*a, ',
      '<<: *b\n',
      '!GetAtt ',
      '- ',
      '"\\u0000"',
      '\u001b[2J',
      '\ufeff',
      ']}',
    );
    const text = fc.oneof(
      fc.string({ unit: 'binary', maxLength: 60 }),
      fc.uint8Array({ maxLength: 60 }).map((b) => Buffer.from(b).toString('latin1')),
      fc.array(fc.oneof(fragment, fc.string({ maxLength: 4 })), { maxLength: 8 }).map((a) => a.join('')),
    );
    fc.assert(
      fc.property(text, (t) => {
        expectFindingsOrInputError(
          () => checkTexts([{ file: 'random.yaml', text: t }], DEFAULT_RULE_PARAMETERS),
          'random.yaml',
        );
      }),
      CHECK_FUZZ,
    );
  });
});
