import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, Aspects, Stack } from 'aws-cdk-lib';
import { Annotations, Match } from 'aws-cdk-lib/assertions';
import { CfnUser } from 'aws-cdk-lib/aws-iam';
import { describe, expect, it } from 'vitest';
import { readIacInputs } from '../cli/iac-inputs.js';
import { IamUserPolicyGuard } from '../infra/iam-user-policy-guard.js';
import { checkDocuments, checkTexts } from '../prevent/check.js';
import { evaluateConfigurationItem } from '../rule/evaluate-item.js';
import { parseRuleParameters } from '../rule/parameters.js';
import { ConfigurationItemSchema } from '../rule/schemas/config-rule-event.js';

/**
 * One user, three enforcement points: the Config rule (a change notification built from the real fixture
 * event), check-template (a CloudFormation template) and the CDK Aspect (a CfnUser). They must agree.
 */
interface SharedCase {
  readonly title: string;
  readonly expected: 'COMPLIANT' | 'NON_COMPLIANT';
  readonly userName: string;
  readonly path?: string;
  readonly groups?: readonly string[];
  readonly managedArns?: readonly string[];
  readonly inline?: readonly string[];
  readonly tags?: Readonly<Record<string, string>>;
  readonly parameters?: Readonly<Record<string, string>>;
}

/** A valid document for every inline policy (the verdict reads names only; CDK's validator reads documents). */
const INLINE_DOCUMENT = {
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Action: 's3:GetObject', Resource: '*' }],
};

const CASES: readonly SharedCase[] = [
  { title: 'a user with no policies', expected: 'COMPLIANT', userName: 'alice' },
  {
    title: 'a user with only group memberships',
    expected: 'COMPLIANT',
    userName: 'bob',
    groups: ['developers'],
  },
  {
    title: 'a user with an AWS managed policy',
    expected: 'NON_COMPLIANT',
    userName: 'carol',
    managedArns: ['arn:aws:iam::aws:policy/ReadOnlyAccess'],
  },
  { title: 'a user with an inline policy', expected: 'NON_COMPLIANT', userName: 'dave', inline: ['s3-read'] },
  {
    title: 'a user with privileged, customer managed and inline policies (ranked the same way)',
    expected: 'NON_COMPLIANT',
    userName: 'erin',
    managedArns: [
      'arn:aws:iam::123456789012:policy/teams/deploy-artifacts',
      'arn:aws:iam::aws:policy/AdministratorAccess',
      'arn:aws:iam::aws:policy/job-function/ViewOnlyAccess',
    ],
    inline: ['legacy-admin'],
  },
  {
    title: 'a user exempt by name, matched without regard to case',
    expected: 'COMPLIANT',
    userName: 'BreakGlass',
    managedArns: ['arn:aws:iam::aws:policy/AdministratorAccess'],
    parameters: { exemptUserNames: 'breakglass' },
  },
  {
    title: 'a user exempt by path',
    expected: 'COMPLIANT',
    userName: 'operator',
    path: '/emergency/ops/',
    inline: ['reboot'],
    parameters: { exemptPathPrefixes: '/emergency/' },
  },
  {
    title: 'a user exempt by tag',
    expected: 'COMPLIANT',
    userName: 'frank',
    inline: ['reboot'],
    tags: { 'policy-exception': 'SEC-7 vendor integration' },
    parameters: { exemptionTagKey: 'policy-exception' },
  },
  {
    title: 'a tag with an empty value exempts nothing',
    expected: 'NON_COMPLIANT',
    userName: 'gina',
    inline: ['reboot'],
    tags: { 'policy-exception': '' },
    parameters: { exemptionTagKey: 'policy-exception' },
  },
  {
    title: 'an Amazon SES SMTP user with its sending policy',
    expected: 'COMPLIANT',
    userName: 'ses-smtp-user.20240101-120000',
    inline: ['AmazonSesSendingAccess'],
  },
  {
    title: 'an inline policy when checkInlinePolicies is "false"',
    expected: 'COMPLIANT',
    userName: 'hank',
    inline: ['s3-read'],
    parameters: { checkInlinePolicies: 'false' },
  },
  {
    title: 'a user outside the required group',
    expected: 'NON_COMPLIANT',
    userName: 'ivy',
    groups: ['contractors'],
    parameters: { requiredGroupName: 'all-users' },
  },
  {
    title: 'a user in the required group, named in another case',
    expected: 'COMPLIANT',
    userName: 'jay',
    groups: ['ALL-USERS'],
    parameters: { requiredGroupName: 'all-users' },
  },
];

const fixtureEvent = JSON.parse(readFileSync('test/fixtures/config-events/create-iam-user.json', 'utf8')) as {
  invokingEvent: string;
};
const fixtureItem = (JSON.parse(fixtureEvent.invokingEvent) as { configurationItem: Record<string, unknown> })
  .configurationItem;
const policyName = (arn: string) => arn.slice(arn.lastIndexOf('/') + 1);

/** The Config rule's verdict: the fixture's configuration item, with this user's configuration. */
function viaConfigRule(c: SharedCase) {
  const item = ConfigurationItemSchema.parse({
    ...fixtureItem,
    resourceName: c.userName,
    configuration: {
      ...(fixtureItem.configuration as Record<string, unknown>),
      userName: c.userName,
      path: c.path ?? '/',
      groupList: c.groups ?? [],
      attachedManagedPolicies: (c.managedArns ?? []).map((arn) => ({
        policyName: policyName(arn),
        policyArn: arn,
      })),
      userPolicyList: (c.inline ?? []).map((name) => ({ policyName: name, policyDocument: '%7B%7D' })),
      tags: Object.entries(c.tags ?? {}).map(([key, value]) => ({ key, value })),
    },
  });
  return evaluateConfigurationItem(item, false, parseRuleParameters(c.parameters ?? {})).verdict;
}

/** check-template's verdict: a CloudFormation template with one AWS::IAM::User. */
function viaCheckTemplate(c: SharedCase) {
  const template = {
    Resources: {
      TheUser: {
        Type: 'AWS::IAM::User',
        Properties: {
          UserName: c.userName,
          Path: c.path ?? '/',
          Groups: c.groups ?? [],
          ManagedPolicyArns: c.managedArns ?? [],
          Policies: (c.inline ?? []).map((name) => ({ PolicyName: name, PolicyDocument: INLINE_DOCUMENT })),
          Tags: Object.entries(c.tags ?? {}).map(([Key, Value]) => ({ Key, Value })),
        },
      },
    },
  };
  const findings = checkTexts(
    [{ file: 'shared.json', text: JSON.stringify(template) }],
    parseRuleParameters(c.parameters ?? {}),
  );
  expect(findings).toHaveLength(1);
  return findings[0]?.verdict;
}

/** check-template's answer on Terraform source: the same user written as .tf resources. */
async function viaTerraformSource(c: SharedCase) {
  const dir = mkdtempSync(join(tmpdir(), 'shared-tf-'));
  const tags = Object.entries(c.tags ?? {})
    .map(([k, v]) => `    ${JSON.stringify(k)} = ${JSON.stringify(v)}`)
    .join('\n');
  const blocks = [
    `resource "aws_iam_user" "the_user" {\n  name = ${JSON.stringify(c.userName)}\n  path = ${JSON.stringify(c.path ?? '/')}\n  tags = {\n${tags}\n  }\n}`,
    ...(c.managedArns ?? []).map(
      (arn, i) =>
        `resource "aws_iam_user_policy_attachment" "managed_${i}" {\n  user       = aws_iam_user.the_user.name\n  policy_arn = ${JSON.stringify(arn)}\n}`,
    ),
    ...(c.inline ?? []).map(
      (name, i) =>
        `resource "aws_iam_user_policy" "inline_${i}" {\n  name   = ${JSON.stringify(name)}\n  user   = aws_iam_user.the_user.name\n  policy = jsonencode({ Version = "2012-10-17", Statement = [] })\n}`,
    ),
    ...((c.groups ?? []).length > 0
      ? [
          `resource "aws_iam_user_group_membership" "groups" {\n  user   = aws_iam_user.the_user.name\n  groups = ${JSON.stringify(c.groups)}\n}`,
        ]
      : []),
  ];
  writeFileSync(join(dir, 'main.tf'), `${blocks.join('\n\n')}\n`);
  const findings = checkDocuments(
    await readIacInputs([dir], { vars: [], varFiles: [] }),
    parseRuleParameters(c.parameters ?? {}),
  );
  expect(findings).toHaveLength(1);
  return findings[0]?.verdict;
}

/** The CDK Aspect's answer: the error annotations on a CfnUser. */
function viaAspect(c: SharedCase) {
  const app = new App();
  const stack = new Stack(app, 'Shared');
  new CfnUser(stack, 'TheUser', {
    userName: c.userName,
    path: c.path ?? '/',
    groups: [...(c.groups ?? [])],
    managedPolicyArns: [...(c.managedArns ?? [])],
    policies: (c.inline ?? []).map((name) => ({ policyName: name, policyDocument: INLINE_DOCUMENT })),
    tags: Object.entries(c.tags ?? {}).map(([key, value]) => ({ key, value })),
  });
  Aspects.of(app).add(new IamUserPolicyGuard({ ruleParameters: c.parameters ?? {} }));
  return Annotations.fromStack(stack)
    .findError('*', Match.anyValue())
    .map((m) => String(m.entry.data));
}

describe('the Config rule, check-template (CloudFormation and Terraform source) and the CDK Aspect give the same verdict for the same user', () => {
  it.each(CASES)('$title: $expected everywhere', async (c) => {
    const rule = viaConfigRule(c);
    const template = viaCheckTemplate(c);
    const terraform = await viaTerraformSource(c);
    const aspectErrors = viaAspect(c);

    expect(terraform?.compliance).toBe(c.expected);
    expect(terraform?.annotation).toBe(rule.annotation);
    expect(terraform?.exemption).toEqual(rule.exemption);

    expect(rule.compliance).toBe(c.expected);
    expect(template?.compliance).toBe(c.expected);
    expect(template?.annotation).toBe(rule.annotation);
    expect(template?.exemption).toEqual(rule.exemption);
    if (c.expected === 'NON_COMPLIANT') {
      expect(aspectErrors).toHaveLength(1);
      expect(aspectErrors[0]).toContain(rule.annotation);
    } else {
      expect(aspectErrors).toEqual([]);
    }
  });
});
