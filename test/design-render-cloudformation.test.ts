import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { ensurePythonTools } from '../local/python-env.js';
import type { DesignPlan } from '../remediation/design/design-types.js';
import { renderCloudFormation } from '../remediation/design/render-cloudformation.js';
import { loadDesignFixture, USERNAME_VARIABLE } from './support/design-fixtures.js';

interface Template {
  AWSTemplateFormatVersion: string;
  Metadata?: {
    ExistingGroups?: {
      ResourcesToImport: {
        ResourceType: string;
        LogicalResourceId: string;
        ResourceIdentifier: { GroupName: string };
      }[];
      ImportResources: Record<string, Resource>;
    };
    DirectPoliciesToRemove?: { Users: { UserName: string }[] };
  };
  Resources: Record<string, Resource>;
}
interface Resource {
  Type: string;
  DeletionPolicy?: string;
  Properties: Record<string, unknown>;
}

const payments = loadDesignFixture('payments');
const text = renderCloudFormation(payments);
const template = parse(text) as Template;
const ofType = (t: Template, type: string) =>
  Object.entries(t.Resources).filter(([, r]) => r.Type === type) as [string, Resource][];

/** Names IAM allows that collide once made alphanumeric, and a user name YAML 1.1 would read as a number. */
const tricky: DesignPlan = {
  ...payments,
  groups: [
    ...payments.groups,
    { name: 'ops.oncall', path: '/policy-migration/', status: 'new', policies: [], members: ['0777'] },
    {
      name: 'ops_oncall',
      path: '/policy-migration/',
      status: 'new',
      policies: [],
      members: ['yes', 'x@corp'],
    },
  ],
};
/** A design that only reuses groups as they are and adds no one: nothing to deploy. */
const reuseOnly: DesignPlan = {
  ...payments,
  policies: Object.fromEntries(Object.entries(payments.policies).filter(([, p]) => p.kind === 'managed')),
  groups: payments.groups.filter((g) => g.status === 'existing'),
  users: [],
  rewrites: [],
};

const dir = mkdtempSync(join(tmpdir(), 'design-cfn-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('renderCloudFormation', () => {
  it('cfn-lint finds nothing in the template, the import template it describes, and the edge cases', () => {
    const existing = template.Metadata?.ExistingGroups;
    // The template an operator deploys for the IMPORT change set: this one plus the groups to adopt.
    const importTemplate = {
      ...template,
      Resources: { ...template.Resources, ...existing?.ImportResources },
    };
    const files = {
      'design.yaml': text,
      'design-import.json': JSON.stringify(importTemplate, null, 2),
      'tricky.yaml': renderCloudFormation(tricky),
      'reuse-only.yaml': renderCloudFormation(reuseOnly),
    };
    for (const [name, body] of Object.entries(files)) writeFileSync(join(dir, name), body);
    const { cfnLint } = ensurePythonTools();
    const lint = spawnSync(cfnLint, ['--', ...Object.keys(files).map((f) => join(dir, f))], {
      encoding: 'utf8',
    });
    expect(lint.stdout + lint.stderr).toBe('');
    expect(lint.status).toBe(0);
  });

  it(`creates each new policy as an AWS::IAM::ManagedPolicy with its document, ${USERNAME_VARIABLE} as IAM reads it`, () => {
    const policies = ofType(template, 'AWS::IAM::ManagedPolicy');
    expect(policies.map(([, r]) => r.Properties.ManagedPolicyName)).toEqual([
      'inline-3f9a1c07',
      'inline-8d20e4b1',
    ]);
    const home = policies[0]?.[1].Properties;
    expect(home?.Path).toBe('/policy-migration/');
    const document = (payments.policies['inline-3f9a1c07'] as { document: string }).document;
    expect(home?.PolicyDocument).toEqual(JSON.parse(document));
    expect(JSON.stringify(home?.PolicyDocument)).toContain(`home/${USERNAME_VARIABLE}/*`);
  });

  it('creates only the new groups, each with its path and its policies (new ones by Ref)', () => {
    const groups = ofType(template, 'AWS::IAM::Group');
    expect(groups.map(([, r]) => r.Properties.GroupName).sort()).toEqual([
      'home-directory-access',
      'payments-developers',
    ]);
    const dev = groups.find(([, r]) => r.Properties.GroupName === 'payments-developers')?.[1].Properties;
    expect(dev?.Path).toBe('/policy-migration/');
    const [queuesId] = ofType(template, 'AWS::IAM::ManagedPolicy').find(
      ([, r]) => r.Properties.ManagedPolicyName === 'inline-8d20e4b1',
    ) ?? [''];
    expect(dev?.ManagedPolicyArns).toEqual(
      expect.arrayContaining([
        'arn:aws:iam::aws:policy/AmazonDynamoDBReadOnlyAccess',
        'arn:aws:iam::111122223333:policy/payments-deploy',
        { Ref: queuesId },
      ]),
    );
    expect(dev?.ManagedPolicyArns).toHaveLength(3);
  });

  it('adds every member to a new group, and to an existing group only the users the design adds', () => {
    const additions = Object.fromEntries(
      ofType(template, 'AWS::IAM::UserToGroupAddition').map(([, r]) => [
        JSON.stringify(r.Properties.GroupName),
        r.Properties.Users,
      ]),
    );
    const devId = ofType(template, 'AWS::IAM::Group').find(
      ([, r]) => r.Properties.GroupName === 'payments-developers',
    )?.[0];
    expect(additions[JSON.stringify({ Ref: devId })]).toEqual([
      'amira.haddad',
      'jonas.weber',
      'li.wei',
      'priya.nair',
    ]);
    expect(additions['"readonly-auditors"']).toEqual(['sofia.rossi']);
    expect(additions['"data+analytics@eu"']).toEqual(['li.wei']);
    expect(Object.keys(additions)).toHaveLength(4);
  });

  it('lists the existing groups for an IMPORT change set, with logical IDs that match the resources to add', () => {
    const existing = template.Metadata?.ExistingGroups;
    expect(existing?.ResourcesToImport.map((r) => r.ResourceIdentifier.GroupName)).toEqual([
      'data+analytics@eu',
      'readonly-auditors',
    ]);
    for (const r of existing?.ResourcesToImport ?? []) {
      expect(r.ResourceType).toBe('AWS::IAM::Group');
      expect(existing?.ImportResources[r.LogicalResourceId]?.DeletionPolicy).toBe('Retain');
      expect(template.Resources[r.LogicalResourceId]).toBeUndefined();
    }
    expect(text).toMatch(/^# 2 existing group\(s\) are used by name, not adopted/m);
    expect(template.Metadata?.DirectPoliciesToRemove?.Users.map((u) => u.UserName)).toContain('mei.tanaka');
  });

  it('logical IDs are alphanumeric, at most 255 characters, distinct where names collide once cleaned', () => {
    const t = parse(renderCloudFormation(tricky)) as Template;
    for (const id of Object.keys(t.Resources)) expect(id).toMatch(/^[A-Za-z0-9]{1,255}$/);
    const names = ofType(t, 'AWS::IAM::Group').map(([, r]) => r.Properties.GroupName);
    expect(names).toEqual(expect.arrayContaining(['ops.oncall', 'ops_oncall']));
    const users = ofType(t, 'AWS::IAM::UserToGroupAddition').flatMap(
      ([, r]) => r.Properties.Users as unknown[],
    );
    // Strings, not a number or a boolean, as CloudFormation's YAML 1.1 reads them.
    expect(users).toEqual(expect.arrayContaining(['0777', 'yes']));
    expect(renderCloudFormation(tricky)).toMatch(/- "0777"/);
  });

  it('the same plan renders to the same text, whatever the order of its groups and policies', () => {
    const reordered = {
      ...payments,
      policies: Object.fromEntries(Object.entries(payments.policies).reverse()),
      groups: [...payments.groups].reverse(),
    };
    expect(renderCloudFormation(reordered)).toBe(text);
  });
});
