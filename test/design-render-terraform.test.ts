import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getReferencesInExpression, parse } from '@cdktn/hcl2json';
import { beforeAll, describe, expect, it } from 'vitest';
import type { DesignPlan } from '../remediation/design/design-types.js';
import { hclString, renderTerraform } from '../remediation/design/render-terraform.js';
import { loadDesignFixture, USERNAME_VARIABLE } from './support/design-fixtures.js';

/** What @cdktn/hcl2json (HashiCorp's HCL parser compiled to WebAssembly) makes of a .tf file. */
interface ParsedTf {
  readonly resource: Record<string, Record<string, Record<string, unknown>[]>>;
  readonly import?: { readonly to: string; readonly id: string }[];
  readonly terraform?: unknown[];
}

const payments = loadDesignFixture('payments');
const text = renderTerraform(payments);
let tf: ParsedTf;

beforeAll(async () => {
  tf = (await parse('design.tf', text)) as ParsedTf;
});

const resources = (type: string) =>
  Object.entries(tf.resource[type] ?? {}).map(([n, [b]]) => [n, b ?? {}] as const);
const attr = (type: string, name: string, key: string) => tf.resource[type]?.[name]?.[0]?.[key];

/** Every reference an HCL expression (as hcl2json writes it: "${...}") makes, as type.name.attribute. */
async function references(expression: unknown): Promise<string[]> {
  if (Array.isArray(expression)) return (await Promise.all(expression.map(references))).flat();
  if (typeof expression !== 'string') return [];
  return (await getReferencesInExpression('design.tf', expression)).map((r) => r.value);
}

describe('renderTerraform, parsed by a real HCL parser', () => {
  it('declares one aws_iam_group per group, one aws_iam_policy per new policy, and an attachment per group policy', () => {
    expect(resources('aws_iam_group').map(([, b]) => b.name)).toEqual(
      expect.arrayContaining(payments.groups.map((g) => g.name)),
    );
    expect(resources('aws_iam_group')).toHaveLength(payments.groups.length);
    expect(resources('aws_iam_policy').map(([, b]) => b.name)).toEqual([
      'inline-3f9a1c07',
      'inline-8d20e4b1',
    ]);
    expect(resources('aws_iam_policy').map(([, b]) => b.path)).toEqual([
      '/policy-migration/',
      '/policy-migration/',
    ]);
    const attachments = payments.groups.reduce((sum, g) => sum + g.policies.length, 0);
    expect(resources('aws_iam_group_policy_attachment')).toHaveLength(attachments);
    expect(attr('aws_iam_group', 'data_analytics_eu_983ed861', 'path')).toBe('/teams/');
  });

  it('every reference names a resource the file declares, and attachments point at the right group and policy', async () => {
    const declared = new Set(
      Object.entries(tf.resource).flatMap(([type, named]) => Object.keys(named).map((n) => `${type}.${n}`)),
    );
    const policyResource = new Map(resources('aws_iam_policy').map(([n, b]) => [b.name, n]));
    const groupResource = new Map(resources('aws_iam_group').map(([n, b]) => [b.name, n]));
    for (const [, b] of resources('aws_iam_group_policy_attachment')) {
      const [groupRef] = await references(b.group);
      expect(groupRef).toMatch(/^aws_iam_group\.[^.]+\.name$/);
      expect(declared).toContain(groupRef?.replace(/\.name$/, ''));
      const group = payments.groups.find(
        (g) => `aws_iam_group.${groupResource.get(g.name)}.name` === groupRef,
      );
      const arns = group?.policies.map((k) => {
        const ref = payments.policies[k];
        return ref?.kind === 'new-managed'
          ? `\${aws_iam_policy.${policyResource.get(ref.policyName)}.arn}`
          : ref?.policyArn;
      });
      expect(arns).toContain(b.policy_arn);
    }
    for (const [, b] of resources('aws_iam_user_group_membership')) {
      for (const ref of await references(b.groups)) expect(declared).toContain(ref.replace(/\.name$/, ''));
    }
  });

  it('one aws_iam_user_group_membership per member, listing exactly the design groups it belongs to', async () => {
    const memberships = resources('aws_iam_user_group_membership');
    const members = [...new Set(payments.groups.flatMap((g) => g.members))].sort();
    expect(memberships.map(([, b]) => b.user)).toEqual(members);
    const groupResource = new Map(resources('aws_iam_group').map(([n, b]) => [n, b.name]));
    const li = memberships.find(([, b]) => b.user === 'li.wei')?.[1];
    const liGroups = (await references(li?.groups)).map((r) => groupResource.get(r.split('.')[1] ?? ''));
    expect(liGroups).toEqual(['data+analytics@eu', 'home-directory-access', 'payments-developers']);
  });

  it('imports the existing groups, their attachments and the memberships users already have, and nothing new', () => {
    const imports = tf.import ?? [];
    const byId = new Map(imports.map((i) => [i.id, i.to]));
    expect(byId.get('readonly-auditors')).toBe(`\${aws_iam_group.readonly-auditors}`);
    expect(byId.get('data+analytics@eu')).toMatch(/^\$\{aws_iam_group\.data_analytics_eu_[0-9a-f]{8}\}$/);
    expect(byId.has('readonly-auditors/arn:aws:iam::aws:policy/ReadOnlyAccess')).toBe(true);
    expect(byId.has('data+analytics@eu/arn:aws:iam::111122223333:policy/teams/ReadOnlyAccess')).toBe(true);
    // mei.tanaka is in both existing groups and joins nothing; li.wei joins data+analytics@eu: nothing to import.
    expect(byId.has('mei.tanaka/data+analytics@eu/readonly-auditors')).toBe(true);
    expect(byId.has('audit.bot/readonly-auditors')).toBe(true);
    expect([...byId.keys()].some((id) => id.startsWith('li.wei'))).toBe(false);
    expect([...byId.keys()].some((id) => id.startsWith('payments-developers'))).toBe(false);
    expect(imports).toHaveLength(2 + 4 + 2);
    const declared = new Set(
      Object.entries(tf.resource).flatMap(([type, named]) =>
        Object.keys(named).map((n) => `\${${type}.${n}}`),
      ),
    );
    for (const i of imports) expect(declared).toContain(i.to);
  });

  it(`writes ${USERNAME_VARIABLE} as $\${aws:username}, so Terraform sends the document unchanged`, () => {
    const code = text
      .split('\n')
      .filter((l) => !l.startsWith('#'))
      .join('\n');
    expect(code).not.toMatch(/(^|[^$])\$\{aws:username\}/);
    const [name] = resources('aws_iam_policy').find(([, b]) => b.name === 'inline-3f9a1c07') ?? [];
    const written = attr('aws_iam_policy', name ?? '', 'policy') as string;
    // hcl2json keeps HCL's escape in its JSON form; Terraform would turn $${ into ${.
    expect(written).toContain(`home/$${USERNAME_VARIABLE}/*`);
    const sent = written.replaceAll('$${', () => '${');
    const document = (payments.policies['inline-3f9a1c07'] as { document: string }).document;
    expect(JSON.parse(sent)).toEqual(JSON.parse(document));
  });

  it('quoted strings escape quotes, backslashes and template sequences', async () => {
    const value = `a "b" \\ ${USERNAME_VARIABLE} %{x}\nend`;
    const parsed = (await parse('s.tf', `x = ${hclString(value)}\n`)) as { x: string };
    expect(parsed.x).toBe(`a "b" \\ $${USERNAME_VARIABLE} %%{x}\nend`);
  });

  it('addresses are valid identifiers, distinct for names IAM allows that collide once cleaned', async () => {
    const plan: DesignPlan = {
      ...payments,
      groups: [
        ...payments.groups,
        { name: 'ops.oncall', path: '/', status: 'new', policies: [], members: ['x@corp'] },
        { name: 'ops_oncall', path: '/', status: 'new', policies: [], members: ['x=corp', '1st'] },
        // Attachment names join group and policy with __: x + y__z and x__y + z must not meet.
        { name: 'x', path: '/', status: 'new', policies: ['y__z'], members: [] },
        { name: 'x__y', path: '/', status: 'new', policies: ['z'], members: [] },
      ],
      policies: {
        ...payments.policies,
        y__z: { kind: 'managed', policyArn: 'arn:aws:iam::111122223333:policy/y__z', policyName: 'y__z' },
        z: { kind: 'managed', policyArn: 'arn:aws:iam::111122223333:policy/z', policyName: 'z' },
      },
    };
    const parsed = (await parse('t.tf', renderTerraform(plan))) as ParsedTf;
    const names = Object.values(parsed.resource).flatMap((named) => Object.keys(named));
    for (const n of names) expect(n).toMatch(/^[A-Za-z_][A-Za-z0-9_-]*$/);
    const groups = parsed.resource.aws_iam_group ?? {};
    expect(Object.keys(groups)).toHaveLength(payments.groups.length + 4);
    const attachments = payments.groups.reduce((sum, g) => sum + g.policies.length, 0) + 2;
    expect(Object.keys(parsed.resource.aws_iam_group_policy_attachment ?? {})).toHaveLength(attachments);
    expect(Object.keys(parsed.resource.aws_iam_user_group_membership ?? {})).toHaveLength(
      new Set([...payments.groups.flatMap((g) => g.members), 'x@corp', 'x=corp', '1st']).size,
    );
  });

  it('the same plan renders to the same text, whatever the order of its policies', () => {
    const reordered = {
      ...payments,
      policies: Object.fromEntries(Object.entries(payments.policies).reverse()),
      groups: [...payments.groups].reverse(),
    };
    expect(renderTerraform(reordered)).toBe(text);
  });

  // Terraform is not in any registry this machine reaches; where the machine has it, `terraform fmt` is a
  // second, stricter parser and also holds the output to Terraform's own formatting.
  const terraform = spawnSync('terraform', ['version'], { encoding: 'utf8' }).status === 0;
  it.runIf(terraform)('terraform fmt accepts the file as it is (where the terraform binary exists)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'design-tf-'));
    try {
      writeFileSync(join(dir, 'design.tf'), text);
      const fmt = spawnSync('terraform', ['fmt', '-check', '-diff', '-no-color', 'design.tf'], {
        cwd: dir,
        encoding: 'utf8',
        env: { ...process.env, CHECKPOINT_DISABLE: '1', TF_CLI_CONFIG_FILE: '/dev/null' },
      });
      expect(`${fmt.stdout}${fmt.stderr}`.replace(/.*CLI configuration[\s\S]*?╵\n?/g, '')).toBe('');
      expect(fmt.status).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
