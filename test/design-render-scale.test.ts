import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse as parseHcl } from '@cdktn/hcl2json';
import { describe, expect, it } from 'vitest';
import { generateMessyAccount } from '../bench/messy-account.js';
import { ensurePythonTools } from '../local/python-env.js';
import type { DesignPlan } from '../remediation/design/design-types.js';
import {
  MAX_RESOURCES_PER_STACK,
  renderCloudFormation,
} from '../remediation/design/render-cloudformation.js';
import { renderHtml } from '../remediation/design/render-html.js';
import { renderTerraform } from '../remediation/design/render-terraform.js';
import { teamCoreDesign } from './support/design-from-account.js';

const design = teamCoreDesign(generateMessyAccount({ seed: 7, users: 3000 }));
const members = new Set(design.groups.flatMap((g) => g.members));

describe('the renderers on a design for a generated 3,000-user account', () => {
  it('render in seconds, not minutes (nothing quadratic in users), the same text twice', () => {
    for (const render of [renderHtml, renderTerraform, renderCloudFormation]) {
      const start = performance.now();
      const text = render(design);
      expect(performance.now() - start).toBeLessThan(5000);
      expect(render(design)).toBe(text);
    }
    expect(members.size).toBeGreaterThan(1000);
  });

  it('the Terraform parses, with one membership resource per member', async () => {
    const tf = (await parseHcl('design.tf', renderTerraform(design))) as {
      resource: Record<string, Record<string, unknown>>;
    };
    expect(Object.keys(tf.resource.aws_iam_user_group_membership ?? {})).toHaveLength(members.size);
    expect(Object.keys(tf.resource.aws_iam_group ?? {})).toHaveLength(design.groups.length);
  });

  it('cfn-lint passes the CloudFormation template', () => {
    const dir = mkdtempSync(join(tmpdir(), 'design-scale-'));
    try {
      const file = join(dir, 'design.yaml');
      writeFileSync(file, renderCloudFormation(design));
      const lint = spawnSync(ensurePythonTools().cfnLint, ['--', file], { encoding: 'utf8' });
      expect(lint.stdout + lint.stderr).toBe('');
      expect(lint.status).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a design too large for one stack is refused with the reason, not rendered undeployable', () => {
    const huge: DesignPlan = {
      ...design,
      groups: Array.from({ length: MAX_RESOURCES_PER_STACK }, (_, i) => ({
        name: `g${i}`,
        path: '/policy-migration/',
        status: 'new' as const,
        policies: [],
        members: [`u${i}`],
      })),
    };
    expect(() => renderCloudFormation(huge)).toThrow(/more than the 500 one stack may hold/);
  });
});
