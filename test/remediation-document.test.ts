import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import {
  AUTOMATION_DOCUMENT_FILE,
  automationDocumentContent,
  FUNCTION_NAME_PLACEHOLDER,
} from '../remediation/automation-document.js';
import { RemediationPayloadSchema } from '../remediation/handler.js';
import { MIGRATION_IAM_PERMISSIONS } from '../remediation/permissions.js';

interface Parameter {
  type: string;
  default?: unknown;
  allowedPattern?: string;
  description?: string;
}
interface Step {
  name: string;
  action: string;
  inputs: Record<string, unknown>;
  nextStep?: string;
  isEnd?: boolean;
}
const doc = automationDocumentContent('iam-policy-migration') as {
  schemaVersion: string;
  assumeRole: string;
  parameters: Record<string, Parameter>;
  mainSteps: Step[];
  outputs: string[];
};
const step = (name: string) => doc.mainSteps.find((s) => s.name === name) as Step;
const pattern = (name: string) => new RegExp(doc.parameters[name]?.allowedPattern as string);

/** Constructs Go's RE2 rejects (look-arounds, back-references, possessive and atomic groups). */
const NOT_IN_GO = /\(\?[=!<>]|\\[1-9]|[*+?}]\+|\\[AZzG]/;

describe('the migration runbook', () => {
  it('is an Automation document (schemaVersion 0.3) that assumes AutomationAssumeRole', () => {
    expect(doc.schemaVersion).toBe('0.3');
    expect(doc.assumeRole).toBe('{{ AutomationAssumeRole }}');
    expect(doc.parameters.AutomationAssumeRole?.type).toBe('String');
  });

  it('invokes the function whose name the CDK app passes, and nothing else', () => {
    const invokes = doc.mainSteps.filter((s) => s.action === 'aws:invokeLambdaFunction');
    expect(invokes.map((s) => s.inputs.FunctionName)).toEqual([
      'iam-policy-migration',
      'iam-policy-migration',
    ]);
    expect(JSON.stringify(doc)).not.toContain(FUNCTION_NAME_PLACEHOLDER);
  });

  it('keeps a CDK token for the function name as it is', () => {
    // biome-ignore lint/suspicious/noTemplateCurlyInString: this is how a CDK token looks as a string.
    const token = '${Token[TOKEN.123]}';
    const withToken = automationDocumentContent(token) as typeof doc;
    expect(withToken.mainSteps[0]?.inputs.FunctionName).toBe(token);
  });

  it('refuses an empty function name', () => {
    expect(() => automationDocumentContent(' ')).toThrow(/function name is empty/);
  });

  it('declares the parameters the issue names, DryRun Boolean defaulting to true', () => {
    expect(Object.keys(doc.parameters).sort()).toEqual(
      [
        'ApprovalNotificationTopicArn',
        'Approvers',
        'AutomationAssumeRole',
        'DryRun',
        'GroupName',
        'IAMResourceId',
        'IncludeExempt',
        'JoinableGroups',
        'RequireApproval',
      ].sort(),
    );
    expect(doc.parameters.DryRun).toMatchObject({ type: 'Boolean', default: true });
    expect(doc.parameters.IncludeExempt).toMatchObject({ type: 'Boolean', default: false });
    expect(doc.parameters.JoinableGroups).toMatchObject({ type: 'String', default: '' });
    expect(doc.parameters.Approvers).toMatchObject({ type: 'StringList', default: [] });
    expect(doc.parameters.GroupName).toMatchObject({ type: 'String', default: '' });
    for (const [name, p] of Object.entries(doc.parameters)) expect(p.description, name).toBeTruthy();
  });

  it('sends the handler exactly the payload fields it accepts', () => {
    const accepted = Object.keys(RemediationPayloadSchema.shape).sort();
    for (const s of doc.mainSteps.filter((x) => x.action === 'aws:invokeLambdaFunction')) {
      expect(Object.keys(s.inputs.InputPayload as object).sort(), s.name).toEqual(accepted);
    }
  });

  it("plans with DryRun true first, and applies with the caller's DryRun last", () => {
    expect(doc.mainSteps[0]?.name).toBe('PlanMigration');
    expect(step('PlanMigration').inputs.InputPayload).toMatchObject({ DryRun: true });
    expect(step('ApplyMigration').inputs.InputPayload).toMatchObject({ DryRun: '{{ DryRun }}' });
    expect(step('ApplyMigration').isEnd).toBe(true);
    expect(doc.outputs).toEqual(['PlanMigration.Plan', 'ApplyMigration.Result']);
  });

  it('waits for approval, showing the plan, only when asked and only before a real run', () => {
    const choices = step('ChooseApproval').inputs.Choices as { NextStep: string; And: unknown[] }[];
    expect(choices.map((c) => c.NextStep)).toEqual(['ApproveWithNotification', 'Approve']);
    for (const c of choices) {
      expect(c.And).toEqual(
        expect.arrayContaining([
          { Variable: '{{ DryRun }}', BooleanEquals: false },
          { Variable: '{{ RequireApproval }}', BooleanEquals: true },
        ]),
      );
    }
    expect(step('ChooseApproval').inputs.Default).toBe('ApplyMigration');
    for (const name of ['Approve', 'ApproveWithNotification']) {
      expect(step(name).action).toBe('aws:approve');
      expect(step(name).inputs.Message).toContain('{{ PlanMigration.Plan }}');
      expect(step(name).inputs.Approvers).toBe('{{ Approvers }}');
      expect(step(name).nextStep).toBe('ApplyMigration');
    }
    expect(step('ApproveWithNotification').inputs.NotificationArn).toBe('{{ ApprovalNotificationTopicArn }}');
  });

  it('names only steps that exist in branches and nextStep', () => {
    const names = new Set(doc.mainSteps.map((s) => s.name));
    const targets = doc.mainSteps.flatMap((s) => [
      ...(s.nextStep ? [s.nextStep] : []),
      ...((s.inputs.Choices as { NextStep: string }[] | undefined) ?? []).map((c) => c.NextStep),
      ...(typeof s.inputs.Default === 'string' ? [s.inputs.Default] : []),
    ]);
    for (const t of targets) expect(names.has(t), t).toBe(true);
  });

  it('uses only patterns that compile and that both Java and Go accept', () => {
    const patterns = Object.entries(doc.parameters).filter(([, p]) => p.allowedPattern !== undefined);
    expect(patterns.map(([n]) => n).sort()).toEqual(
      [
        'ApprovalNotificationTopicArn',
        'AutomationAssumeRole',
        'GroupName',
        'IAMResourceId',
        'JoinableGroups',
      ].sort(),
    );
    for (const [name, p] of patterns) {
      expect(() => new RegExp(p.allowedPattern as string), name).not.toThrow();
      expect(p.allowedPattern, name).not.toMatch(NOT_IN_GO);
    }
  });

  it.each([
    ['IAMResourceId', 'AIDAJQABLZS4A3QDU576Q', true],
    ['IAMResourceId', 'alice.smith@example.com', true],
    ['IAMResourceId', '', false],
    ['IAMResourceId', 'a b', false],
    ['IAMResourceId', 'x'.repeat(129), false],
    ['IAMResourceId', 'AIDA"; rm -rf', false],
    ['GroupName', '', true],
    ['GroupName', 'data-analysts', true],
    ['GroupName', 'Analysts/EU', false],
    ['GroupName', 'g'.repeat(129), false],
    ['JoinableGroups', '', true],
    ['JoinableGroups', 'developers', true],
    ['JoinableGroups', 'developers,data-analysts', true],
    ['JoinableGroups', 'developers,', false],
    ['JoinableGroups', 'developers, analysts', false],
    ['JoinableGroups', 'Analysts/EU', false],
    ['AutomationAssumeRole', '', true],
    ['AutomationAssumeRole', 'arn:aws:iam::123456789012:role/config-remediation/MigrateUserPolicies', true],
    ['AutomationAssumeRole', 'arn:aws-us-gov:iam::123456789012:role/Remediate', true],
    ['AutomationAssumeRole', 'arn:aws:iam::123456789012:user/alice', false],
    ['AutomationAssumeRole', 'arn:aws:iam::12345:role/x', false],
    ['ApprovalNotificationTopicArn', '', true],
    ['ApprovalNotificationTopicArn', 'arn:aws:sns:eu-west-1:123456789012:iam-approvals', true],
    ['ApprovalNotificationTopicArn', 'arn:aws:sqs:eu-west-1:123456789012:q', false],
  ])('%s allows %j: %s', (name, value, allowed) => {
    expect(pattern(name).test(value)).toBe(allowed);
  });

  it('is the YAML file as written, with only the function name replaced', () => {
    const raw = parse(readFileSync(AUTOMATION_DOCUMENT_FILE, 'utf8'));
    expect(automationDocumentContent(FUNCTION_NAME_PLACEHOLDER)).toEqual(raw);
  });

  it('docs/remediation.md lists every IAM action the migration function gets, with its resource, and no other', () => {
    const page = readFileSync(new URL('../docs/remediation.md', import.meta.url), 'utf8');
    const start = page.indexOf('## Least-privilege IAM for the migration function');
    expect(start).toBeGreaterThanOrEqual(0);
    const section = page.slice(start, page.indexOf('\n## ', start + 1));
    for (const p of MIGRATION_IAM_PERMISSIONS) {
      const resource = p.resource.slice(p.resource.lastIndexOf(':') + 1);
      expect(section).toContain(`| \`${p.action}\` | \`${resource}\` |`);
    }
    expect(section.match(/^\| `iam:/gm)).toHaveLength(MIGRATION_IAM_PERMISSIONS.length);
  });
});
