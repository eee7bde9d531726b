import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { afterAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { AccountStack } from '../infra/account-stack.js';
import { conformancePackTemplate } from '../infra/conformance-pack.js';
import { readSettings } from '../infra/settings.js';
import { ensurePythonTools } from '../local/python-env.js';

const dir = mkdtempSync(join(tmpdir(), 'conformance-pack-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('conformance packs without double work', () => {
  it('with ruleFromConformancePack the account stack has no rule of its own, but what the pack uses', () => {
    const read = readSettings(
      (key) => ({ ruleFromConformancePack: 'true' })[key],
      ['ruleFromConformancePack'],
    );
    expect(read.ok).toBe(true);
    const app = new App({ outdir: dir, context: { 'aws:cdk:bundling-stacks': [] } });
    const stack = new AccountStack(app, 'Probe', {
      env: { account: '111111111111', region: 'eu-west-1' },
      settings: read.settings,
    });
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::Config::ConfigRule', 0);
    template.resourceCountIs('AWS::Config::RemediationConfiguration', 0);
    template.resourceCountIs('AWS::SSM::Document', 1);
    template.resourceCountIs('AWS::Lambda::Function', 2);
    // Exactly the outputs the pack's parameters take.
    expect(Object.keys(template.toJSON().Outputs).sort()).toEqual([
      'AutomationAssumeRoleArn',
      'RemediationDocumentName',
      'RuleFunctionArn',
    ]);
    expect(stack.deployment.rule).toBeUndefined();
  });

  it('the organization variant takes the organization stack’s function and has no remediation', () => {
    const pack = conformancePackTemplate(undefined, { organization: true }) as {
      Parameters: Record<string, { Description: string }>;
      Resources: Record<string, { Type: string }>;
    };
    expect(Object.values(pack.Resources).map((r) => r.Type)).toEqual(['AWS::Config::ConfigRule']);
    expect(pack.Parameters).not.toHaveProperty('RemediationDocumentName');
    expect(pack.Parameters).not.toHaveProperty('AutomationAssumeRoleArn');
    expect(pack.Parameters.RuleFunctionArn?.Description).toContain('IamUserNoDirectPolicies-Organization');

    const file = join(dir, 'organization-pack.yaml');
    writeFileSync(file, stringify(pack));
    const lint = spawnSync(ensurePythonTools().cfnLint, ['--', file], { encoding: 'utf8' });
    expect(lint.stdout + lint.stderr).toBe('');
  });

  it('npm run conformance-pack refuses an argument it does not know', () => {
    const run = spawnSync('npm', ['run', '--silent', 'conformance-pack', '--', '--org'], {
      encoding: 'utf8',
    });
    expect(run.status).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toContain('conformance-pack: unknown argument --org; the only one is --organization');
  });
});
