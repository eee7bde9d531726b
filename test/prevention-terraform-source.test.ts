import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readIacInputs } from '../cli/iac-inputs.js';
import { checkDocuments, checkDocumentsWithNotes } from '../prevent/check.js';
import type { IacFinding } from '../prevent/judge.js';
import { readTerraformSource } from '../prevent/terraform-source.js';
import { parseRuleParameters } from '../rule/parameters.js';
import { policyNames, user } from './support/findings.js';

const SOURCE = 'test/fixtures/templates/terraform-source';
const PLAN = 'test/fixtures/templates/terraform-source-plan.json';
/** alice is exempt by name: bob, another instance of the same for_each user, must still be reported. */
const PARAMS = parseRuleParameters({ exemptUserNames: 'alice' });

async function check(paths: string[], vars: string[] = ['env=prod'], varFiles: string[] = []) {
  return checkDocumentsWithNotes(await readIacInputs(paths, { vars, varFiles }), PARAMS);
}
const summary = (findings: readonly IacFinding[]) =>
  findings
    .map(
      (f) => `${f.candidate.address} ${f.user.userName} ${f.verdict.compliance} ${policyNames(f).join(', ')}`,
    )
    .sort();

describe('check-template on Terraform source (.tf)', () => {
  it('the source and its plan give the same users with the same policies and verdicts', async () => {
    const [source, plan] = [await check([SOURCE]), await check([PLAN])];
    expect(summary(source.findings)).toEqual([
      'aws_iam_user.auditor[0] team-prod-auditor-0 NON_COMPLIANT audit-read (inline)',
      'aws_iam_user.dev["alice"] alice COMPLIANT ',
      'aws_iam_user.dev["bob"] bob NON_COMPLIANT team-prod-deploy (managed)',
      'module.ci.aws_iam_user.this team-prod-ci NON_COMPLIANT ReadOnlyAccess (managed)',
    ]);
    expect(summary(plan.findings)).toEqual(summary(source.findings));
    expect(source.notes).toEqual([]);
  });

  it('findings point at the .tf file and line that declare the user, in the child module too', async () => {
    const { findings } = await check([SOURCE]);
    expect(user(findings, 'bob').candidate).toMatchObject({ file: `${SOURCE}/main.tf`, line: 27 });
    expect(user(findings, 'team-prod-ci').candidate).toMatchObject({
      file: `${SOURCE}/modules/ci-user/main.tf`,
      line: 9,
    });
    expect(user(findings, 'team-prod-ci').user.path).toBe('/automation/');
    expect(user(findings, 'alice').user.groupNames).toEqual(['developers']);
  });

  it('a variable given in a var file changes count; a variable never given is unknown and said so, and its users still count', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tf-vars-'));
    writeFileSync(join(dir, 'ci.tfvars'), 'auditor_count = 2\ndevelopers = ["bob"]\n');
    const withFile = await check([SOURCE], ['env=prod'], [join(dir, 'ci.tfvars')]);
    expect(withFile.findings.map((f) => f.user.userName).sort()).toEqual([
      'bob',
      'team-prod-auditor-0',
      'team-prod-auditor-1',
      'team-prod-ci',
    ]);
    const noEnv = await check([SOURCE], []);
    const auditor = noEnv.findings.find(
      (f) => f.candidate.address === 'aws_iam_user.auditor[0]',
    ) as IacFinding;
    expect(auditor.verdict.compliance).toBe('NON_COMPLIANT');
    expect(auditor.candidate.notes.join('\n')).toMatch(/var\.env has no default and no value was given/);
    expect(user(noEnv.findings, 'bob').verdict.compliance).toBe('NON_COMPLIANT');
  });

  it('a remote module and a for_each over an unknown value are notes; the unknown attachment still counts', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tf-notes-'));
    mkdirSync(join(dir, 'iac'));
    writeFileSync(
      join(dir, 'iac', 'main.tf'),
      [
        'variable "targets" {',
        '  type = set(string)',
        '}',
        'module "iam" {',
        '  source  = "terraform-aws-modules/iam/aws//modules/iam-user"',
        '  version = "5.39.0"',
        '  name    = "vendor"',
        '}',
        'resource "aws_iam_user_policy_attachment" "extra" {',
        '  for_each   = var.targets',
        '  user       = each.value',
        '  policy_arn = "arn:aws:iam::aws:policy/AdministratorAccess"',
        '}',
      ].join('\n'),
    );
    const { findings, notes } = await check([join(dir, 'iac')], []);
    expect(notes.map((n) => n.note)).toEqual([
      expect.stringMatching(
        /module\.iam \(source "terraform-aws-modules\/iam\/aws\/\/modules\/iam-user"\) is not read/,
      ),
      expect.stringMatching(
        /aws_iam_user_policy_attachment\.extra: for_each is not known \(var\.targets has no default/,
      ),
    ]);
    expect(findings).toHaveLength(1);
    expect(findings[0]?.verdict.compliance).toBe('NON_COMPLIANT');
    expect(policyNames(findings[0] as IacFinding)).toEqual(['AdministratorAccess (managed)']);
  });

  it('a .tf file that is not HCL: an error naming the file, without quoting it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tf-bad-'));
    const file = join(dir, 'broken.tf');
    writeFileSync(file, `resource "aws_iam_user" "x" {\n  name = \n${'#'.repeat(700)}\n`);
    const error = await check([file]).catch((e: Error) => e);
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).toMatch(/broken\.tf: cannot be parsed as Terraform HCL: .*broken\.tf:2/);
    expect((error as Error).message.length).toBeLessThan(400);
  });
});

describe('check-template on a Terraform plan with count and for_each', () => {
  it('an attachment to one for_each instance is credited to that instance, not the first one', async () => {
    const { findings } = await check([PLAN]);
    expect(user(findings, 'alice').verdict.compliance).toBe('COMPLIANT');
    expect(user(findings, 'alice').candidate.attachments).toEqual([]);
    expect(policyNames(user(findings, 'bob'))).toEqual(['team-prod-deploy (managed)']);
  });
});

describe('Terraform source that is costly or odd to evaluate (found by measuring and fuzzing)', () => {
  async function checkSource(text: string) {
    const source = await readTerraformSource('/nowhere', [{ file: 'costly.tf', text }], {}, () => undefined);
    return checkDocuments(
      [
        {
          kind: 'terraform-plan',
          file: 'costly.tf',
          plan: source.plan,
          source: source.info,
          notes: source.notes,
        },
      ],
      PARAMS,
    );
  }
  const withPolicy = (name: string) =>
    `resource "aws_iam_user" "u" {\n  name = ${name}\n}\nresource "aws_iam_user_policy" "p" {\n  user   = aws_iam_user.u.name\n  name   = "p"\n  policy = "{}"\n}\n`;

  it('nested for expressions over a million items stop at the evaluation budget: the name is not known, the policy counts', async () => {
    const [u] = await checkSource(
      `locals {\n  xs = [for a in range(1000) : [for b in range(1000) : "\${a}-\${b}"]]\n}\n${withPolicy('join(",", flatten(local.xs))')}`,
    );
    expect(u?.user.userName).toBe('aws_iam_user.u');
    expect(u?.verdict.compliance).toBe('NON_COMPLIANT');
    expect(u?.candidate.notes.join('\n')).toMatch(/more than 50000 steps/);
  });

  it('an index that is not a key (`"x"[null]`, found by fuzzing) is not known, not a TypeError', async () => {
    const [u] = await checkSource(withPolicy('"x"[null]'));
    expect(u?.user.userName).toBe('aws_iam_user.u');
    expect(u?.verdict.compliance).toBe('NON_COMPLIANT');
    expect(u?.candidate.notes.join('\n')).toMatch(/index that is not a number or a string/);
  });

  it('a text doubled through locals stops at the length limit rather than filling memory', async () => {
    const locals = ['a = "xxxxxxxxxxxxxxxx"'];
    for (const [from, to] of [
      ['a', 'b'],
      ['b', 'c'],
      ['c', 'd'],
      ['d', 'e'],
      ['e', 'f'],
      ['f', 'g'],
    ])
      locals.push(`${to} = "${`\${local.${from}}`.repeat(8)}"`);
    const [u] = await checkSource(`locals {\n  ${locals.join('\n  ')}\n}\n${withPolicy('local.g')}`);
    expect(u?.user.userName).toBe('aws_iam_user.u');
    expect(u?.candidate.notes.join('\n')).toMatch(/longer than 100000 characters/);
  });
});
