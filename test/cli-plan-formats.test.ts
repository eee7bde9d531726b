import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse as parseHcl } from '@cdktn/hcl2json';
import { afterAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { ensurePythonTools } from '../local/python-env.js';
import type { DesignPlan } from '../remediation/design/design-types.js';
import { renderCloudFormation } from '../remediation/design/render-cloudformation.js';
import { renderHtml } from '../remediation/design/render-html.js';
import { renderTerraform } from '../remediation/design/render-terraform.js';
import { runCli } from './support/cli.js';

const FIXTURE = join(import.meta.dirname, 'fixtures', 'design', 'authorization-details.json');
const scratch = mkdtempSync(join(tmpdir(), 'cli-plan-formats-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** `plan --input FIXTURE --format <format> --out <file>`: what stdout shows and the plan file it wrote. */
async function planAs(format: string) {
  const out = join(scratch, `${format}-plan.json`);
  const run = await runCli(['plan', '--input', FIXTURE, '--format', format, '--out', out]);
  return { run, plan: JSON.parse(readFileSync(out, 'utf8')) as DesignPlan };
}

describe.concurrent('iam-user-policies plan --format html|terraform|cloudformation', () => {
  it('--format html prints the self-contained page of the plan it writes with --out', async () => {
    const { run, plan } = await planAs('html');
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^<!DOCTYPE html>/);
    // Stdout is exactly the page of the plan file: reviewers see what apply would take.
    expect(run.stdout).toBe(renderHtml(plan));
    for (const g of plan.groups) expect(run.stdout).toContain(g.name);
    expect(run.stdout).not.toContain('<script');
    expect(run.stderr).toContain('8 users changed, 7 new groups');
    expect(run.stderr).toContain('Plan written to');
  });

  it('--format terraform prints HCL a real HCL parser reads, one aws_iam_group per group of the plan', async () => {
    const { run, plan } = await planAs('terraform');
    expect(run.code).toBe(0);
    expect(run.stdout).toBe(renderTerraform(plan));
    const tf = (await parseHcl('design.tf', run.stdout)) as {
      resource: Record<string, Record<string, { name?: string }[]>>;
    };
    const groups = Object.values(tf.resource.aws_iam_group ?? {}).map(([b]) => b?.name);
    expect(groups.sort()).toEqual(plan.groups.map((g) => g.name).sort());
    expect(Object.keys(tf.resource.aws_iam_user_group_membership ?? {})).toHaveLength(
      new Set(plan.groups.flatMap((g) => g.members)).size,
    );
  });

  it('--format cloudformation prints a template cfn-lint accepts, creating every new group', async () => {
    const { run, plan } = await planAs('cloudformation');
    expect(run.code).toBe(0);
    expect(run.stdout).toBe(renderCloudFormation(plan));
    const template = parseYaml(run.stdout) as {
      Resources: Record<string, { Type: string; Properties: { GroupName?: unknown } }>;
    };
    const groups = Object.values(template.Resources)
      .filter((r) => r.Type === 'AWS::IAM::Group')
      .map((r) => r.Properties.GroupName);
    expect(groups.sort()).toEqual(
      plan.groups
        .filter((g) => g.status === 'new')
        .map((g) => g.name)
        .sort(),
    );
    const file = join(scratch, 'plan.yaml');
    writeFileSync(file, run.stdout);
    const lint = spawnSync(ensurePythonTools().cfnLint, ['--', file], { encoding: 'utf8' });
    expect(lint.stdout + lint.stderr).toBe('');
    expect(lint.status).toBe(0);
  });
});
