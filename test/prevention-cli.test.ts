import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, NestedStack, Stack, Stage } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { runCli } from './support/cli.js';

const YAML_FIXTURE = 'test/fixtures/templates/hand-written.yaml';
const PLAN_FIXTURE = 'test/fixtures/templates/terraform-plan.json';
const checkTemplate = (...args: string[]) => runCli(['check-template', ...args]);

const work = mkdtempSync(join(tmpdir(), 'check-template-'));
const COMPLIANT_TEMPLATE = join(work, 'compliant.json');
writeFileSync(
  COMPLIANT_TEMPLATE,
  JSON.stringify({
    Resources: {
      Devs: { Type: 'AWS::IAM::Group', Properties: { GroupName: 'devs' } },
      Dev: { Type: 'AWS::IAM::User', Properties: { UserName: 'dev', Groups: [{ Ref: 'Devs' }] } },
    },
  }),
);

/**
 * The fields SARIF 2.1.0 requires (sarifLog: version, runs; run: tool; tool: driver; toolComponent: name;
 * result: message; message: text; reportingDescriptor: id; suppression: kind), plus what code scanning needs
 * to place a result: ruleId, a relative artifact URI and a 1-based start line.
 *
 * @see https://docs.oasis-open.org/sarif/sarif/v2.1.0/sarif-v2.1.0.html
 */
const SarifLog = z.object({
  $schema: z.string().url(),
  version: z.literal('2.1.0'),
  runs: z
    .array(
      z.object({
        tool: z.object({
          driver: z.object({
            name: z.string().min(1),
            version: z.string().optional(),
            rules: z.array(
              z.object({ id: z.string().min(1), shortDescription: z.object({ text: z.string() }) }),
            ),
          }),
        }),
        results: z.array(
          z.object({
            ruleId: z.string(),
            ruleIndex: z.number().int().min(0),
            level: z.enum(['none', 'note', 'warning', 'error']),
            message: z.object({ text: z.string().min(1) }),
            locations: z
              .array(
                z.object({
                  physicalLocation: z.object({
                    artifactLocation: z.object({ uri: z.string().regex(/^[^/\\][^\\]*$/) }),
                    region: z.object({ startLine: z.number().int().min(1) }).optional(),
                  }),
                }),
              )
              .min(1),
            suppressions: z
              .array(
                z.object({ kind: z.enum(['inSource', 'external']), justification: z.string().optional() }),
              )
              .optional(),
          }),
        ),
      }),
    )
    .length(1),
});

describe('iam-user-policies check-template', () => {
  it('prints a table with one row per user, notes for unknown values and a summary, and exits 1 on NON_COMPLIANT', async () => {
    const run = await checkTemplate(YAML_FIXTURE);
    expect(run.code).toBe(1);
    const lines = run.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^USER\s+VERDICT\s+WHERE\s+ANNOTATION$/);
    expect(run.stdout).toMatch(
      /deploy-prod\s+NON_COMPLIANT\s+test\/fixtures\/templates\/hand-written\.yaml:31 \(DeployUser\)/,
    );
    expect(run.stdout).toContain('note: ops-robot: user ops-robot is not defined in this file');
    expect(lines.at(-1)).toBe('9 users: 7 NON_COMPLIANT, 2 COMPLIANT (1 exempt)');
    expect(run.stderr).toBe('');
  });

  it('a template with Fn::ForEach, one loop not known before deployment: exit 1 (not 2), a row per copy and the loop named', async () => {
    const run = await checkTemplate('test/fixtures/templates/foreach-users.yaml');
    expect(run.code).toBe(1);
    expect(run.stderr).toBe('');
    expect(run.stdout).toMatch(
      /^search-deployer\s+NON_COMPLIANT\s+\S+foreach-users\.yaml:\d+ \(Deployersearch\)/m,
    );
    expect(run.stdout).toMatch(/note: .*loop Fn::ForEach::EnvironmentOperators is expanded once/);
    // A name only partly known is not flagged as one IAM would refuse.
    expect(run.stdout).toMatch(/^operator-\$\{EnvironmentOperators\.Env\}\s+NON_COMPLIANT/m);
    expect(run.stdout.trimEnd().split('\n').at(-1)).toBe('8 users: 6 NON_COMPLIANT, 2 COMPLIANT');
  });

  it('exits 0 when every user gets its permissions from groups', async () => {
    const run = await checkTemplate(COMPLIANT_TEMPLATE);
    expect(run.code).toBe(0);
    expect(run.stdout.trimEnd().split('\n').at(-1)).toBe('1 user: 0 NON_COMPLIANT, 1 COMPLIANT');
  });

  it('takes the rule parameters as the other commands do: flags, --parameter and --rule-parameters', async () => {
    const flags = await checkTemplate(
      YAML_FIXTURE,
      '--exemption-tag-key',
      'break-glass',
      '--exempt-path-prefixes',
      '/emergency/',
    );
    const pairs = await checkTemplate(
      YAML_FIXTURE,
      '--parameter',
      'exemptionTagKey=break-glass',
      '--parameter',
      'exemptPathPrefixes=/emergency/',
    );
    const json = await checkTemplate(
      YAML_FIXTURE,
      '--rule-parameters',
      JSON.stringify({ exemptionTagKey: 'break-glass', exemptPathPrefixes: '/emergency/' }),
    );
    for (const run of [flags, pairs, json]) {
      expect(run.stdout.trimEnd().split('\n').at(-1)).toBe(
        '9 users: 5 NON_COMPLIANT, 4 COMPLIANT (3 exempt)',
      );
    }
  });

  it('--format json gives each user with file, resource, line, the attaching resources and the notes', async () => {
    const run = await checkTemplate(YAML_FIXTURE, '--format', 'json');
    expect(run.code).toBe(1);
    const report = JSON.parse(run.stdout);
    expect(report.summary).toEqual({ users: 9, NON_COMPLIANT: 7, COMPLIANT: 2, exempt: 1 });
    const reporting = report.findings.find((f: { userName: string }) => f.userName === 'reporting');
    expect(reporting).toMatchObject({
      file: YAML_FIXTURE,
      source: 'cloudformation',
      resource: 'ReportingUser',
      line: 46,
      compliance: 'NON_COMPLIANT',
      exemption: null,
    });
    expect(reporting.directPolicies).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ kind: 'managed', name: 'artifacts-write', from: 'ArtifactsPolicy' }),
        expect.objectContaining({ kind: 'inline', name: 'read-reports', from: 'ReportingUser' }),
      ]),
    );
    expect(run.stderr).toBe('9 users: 7 NON_COMPLIANT, 2 COMPLIANT (1 exempt)\n');
  });

  it('--format sarif is a valid SARIF 2.1.0 log: an error per NON_COMPLIANT user at its line, exemptions as suppressions', async () => {
    const run = await checkTemplate(YAML_FIXTURE, '--format', 'sarif');
    expect(run.code).toBe(1);
    const log = SarifLog.parse(JSON.parse(run.stdout));
    const [sarifRun] = log.runs;
    expect(sarifRun?.tool.driver.rules.map((r) => r.id)).toEqual(['IAM_USER_NO_POLICIES_CHECK']);
    const results = sarifRun?.results ?? [];
    expect(results.every((r) => r.ruleId === 'IAM_USER_NO_POLICIES_CHECK')).toBe(true);
    expect(results.filter((r) => r.suppressions === undefined)).toHaveLength(7);
    const deploy = results.find((r) => r.message.text.startsWith('IAM user deploy-prod:'));
    expect(deploy?.locations[0]?.physicalLocation).toEqual({
      artifactLocation: { uri: YAML_FIXTURE },
      region: { startLine: 31 },
    });
    const suppressed = results.find((r) => r.message.text.startsWith('IAM user legacy-integration:'));
    expect(suppressed?.suppressions).toEqual([
      { kind: 'inSource', justification: expect.stringContaining('suppressed by') },
    ]);
  });

  it('reads a Terraform plan, and several files in one run', async () => {
    const run = await checkTemplate(PLAN_FIXTURE, COMPLIANT_TEMPLATE, '--format', 'json');
    expect(run.code).toBe(1);
    const report = JSON.parse(run.stdout);
    expect(report.summary.users).toBe(7);
    expect(report.findings.find((f: { userName: string }) => f.userName === 'alice')).toMatchObject({
      source: 'terraform',
      resource: 'aws_iam_user.alice',
      line: null,
      compliance: 'NON_COMPLIANT',
    });
  });
});

describe('iam-user-policies check-template on CDK output', () => {
  let cdkOut: string;
  beforeAll(() => {
    cdkOut = join(work, 'cdk.out');
    mkdirSync(cdkOut);
    const app = new App({ outdir: cdkOut });
    const stack = new Stack(app, 'TeamUsers');
    const ci = new iam.User(stack, 'CiUser', { userName: 'ci' });
    ci.addToPolicy(new iam.PolicyStatement({ actions: ['ecr:GetAuthorizationToken'], resources: ['*'] }));
    const readers = new iam.Group(stack, 'Readers', { groupName: 'readers' });
    new iam.User(stack, 'Reader', { userName: 'reader', groups: [readers] });
    // A Stage's stacks go to cdk.out/assembly-Prod/, and a nested stack's template beside its parent's.
    const prod = new Stage(app, 'Prod');
    const payments = new Stack(prod, 'Payments');
    new iam.User(payments, 'Ops', {
      userName: 'prod-ops',
      managedPolicies: [iam.ManagedPolicy.fromAwsManagedPolicyName('AdministratorAccess')],
    });
    const batchUsers = new NestedStack(payments, 'BatchUsers');
    new iam.User(batchUsers, 'Batch', { userName: 'batch' }).addToPolicy(
      new iam.PolicyStatement({ actions: ['sqs:SendMessage'], resources: ['*'] }),
    );
    app.synth();
  });

  it('stacks of a Stage (assembly-*) and nested stacks are read through manifest.json', async () => {
    expect(readdirSync(cdkOut)).toContain('assembly-Prod');
    const run = await checkTemplate(cdkOut, '--format', 'json');
    const report = JSON.parse(run.stdout);
    const byName = (name: string) => report.findings.find((f: { userName: string }) => f.userName === name);
    expect(byName('prod-ops')).toMatchObject({
      compliance: 'NON_COMPLIANT',
      file: expect.stringMatching(/assembly-Prod\/ProdPayments[0-9A-F]*\.template\.json$/),
    });
    expect(byName('batch')).toMatchObject({
      compliance: 'NON_COMPLIANT',
      file: expect.stringMatching(/\.nested\.template\.json$/),
    });
    expect(report.fileNotes).toEqual([]);
  });

  it('a cdk.out directory stands for its *.template.json files; the DefaultPolicy of user.addToPolicy is found', async () => {
    expect(readdirSync(cdkOut)).toContain('TeamUsers.template.json');
    const run = await checkTemplate(cdkOut, '--format', 'json');
    expect(run.code).toBe(1);
    const report = JSON.parse(run.stdout);
    const ci = report.findings.find((f: { userName: string }) => f.userName === 'ci');
    expect(ci).toMatchObject({
      compliance: 'NON_COMPLIANT',
      file: expect.stringMatching(/TeamUsers\.template\.json$/),
    });
    expect(ci.directPolicies[0].from).toMatch(/^CiUserDefaultPolicy/);
    expect(report.findings.find((f: { userName: string }) => f.userName === 'reader').compliance).toBe(
      'COMPLIANT',
    );
  });
});

describe('iam-user-policies check-template on input it cannot read', () => {
  const oneLineError = (run: { code: number | null; stdout: string; stderr: string }) => {
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr.trimEnd().split('\n')).toHaveLength(1);
    return run.stderr.trim();
  };

  it('a missing file: exit 2 and one line naming it', async () => {
    expect(oneLineError(await checkTemplate(join(work, 'nope.yaml')))).toBe(
      `error: cannot read ${join(work, 'nope.yaml')}: no such file or directory`,
    );
  });

  it('a file that is not YAML: exit 2 and the file and line', async () => {
    const broken = join(work, 'broken.yaml');
    writeFileSync(broken, 'Resources:\n  User: [unclosed\n');
    expect(oneLineError(await checkTemplate(broken))).toMatch(
      /^error: .*broken\.yaml: cannot be parsed as JSON or YAML \(line \d+\)/,
    );
  });

  it('a JSON file that is neither a template nor a plan: exit 2', async () => {
    const other = join(work, 'package.json');
    writeFileSync(other, '{"name": "x"}');
    expect(oneLineError(await checkTemplate(other))).toMatch(
      /is not a CloudFormation template \(no Resources section\) or a Terraform plan/,
    );
  });

  it('a directory without templates: exit 2', async () => {
    const empty = join(work, 'empty-dir');
    mkdirSync(empty);
    expect(oneLineError(await checkTemplate(empty))).toMatch(
      /a directory with no manifest\.json \(cdk\.out\), no \.tf files and no \*\.template\.json files; give the template files themselves\. check-template reads CloudFormation templates/,
    );
  });

  it('an invalid rule parameter: exit 2 before any file is read', async () => {
    expect(
      oneLineError(await checkTemplate(join(work, 'nope.yaml'), '--check-inline-policies', 'maybe')),
    ).toMatch(/^error: invalid rule parameters: checkInlinePolicies: must be "true" or "false"/);
  });

  it('no file at all: a usage error, exit 2', async () => {
    const run = await checkTemplate();
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/missing required argument 'files'/);
  });
});

describe('iam-user-policies check-template output that input cannot subvert', () => {
  const crafted = join(work, 'crafted.yaml');
  writeFileSync(
    crafted,
    [
      'AWSTemplateFormatVersion: "2010-09-09"',
      'Resources:',
      '  Painted:',
      '    Type: AWS::IAM::User',
      '    Properties:',
      '      UserName: "\\e[31mroot\\e[0m"',
      '      Policies:',
      '        - PolicyName: "read\\u202Eetirw"',
      '          PolicyDocument: {}',
      '  Injected:',
      '    Type: AWS::IAM::User',
      '    Properties:',
      '      UserName: "::add-mask::x\\n::error file=a::pwned"',
      '      ManagedPolicyArns: [arn:aws:iam::aws:policy/ReadOnlyAccess]',
      '  Unnamed:',
      '    Type: AWS::IAM::User',
      '    Properties:',
      '      UserName: ""',
      '      Policies:',
      '        - PolicyName: p',
      '          PolicyDocument: {}',
      '  Nested:',
      '    Type: AWS::CloudFormation::Stack',
      '    Properties:',
      '      TemplateURL: https://example.com/users.yaml',
    ].join('\n'),
  );
  const linesOf = (text: string) => text.split('\n');

  it('names with escapes, bidi characters and newlines are printed escaped and quoted, and flagged as not IAM names', async () => {
    const run = await checkTemplate(crafted);
    expect(run.code).toBe(1);
    expect(run.stdout).not.toContain('\u001b');
    expect(run.stdout).not.toContain('\u202e');
    expect(linesOf(run.stdout).filter((l) => l.startsWith('::'))).toEqual([]);
    expect(run.stdout).toContain('"\\u{1b}[31mroot\\u{1b}[0m" (not a valid IAM user name)');
    expect(run.stdout).toContain('"::add-mask::x\\n::error file=a::pwned" (not a valid IAM user name)');
    expect(run.stdout).toMatch(/^"" \(not a valid IAM user name\)\s+NON_COMPLIANT/m);
    expect(run.stdout).toContain('read\\u{202e}etirw');
    expect(run.stdout).toMatch(
      /^note: .*crafted\.yaml: Nested is a nested stack \(AWS::CloudFormation::Stack\)/m,
    );
  });

  it('a crafted file name in an error is escaped: one line, no workflow command', async () => {
    const evil = join(work, 'evil\n::error::pwned.yaml');
    writeFileSync(evil, 'just: text\n');
    const run = await checkTemplate(evil);
    expect(run.code).toBe(2);
    expect(linesOf(run.stderr.trimEnd())).toHaveLength(1);
    expect(run.stderr).toContain('evil\\n::error::pwned.yaml: is not a CloudFormation template');
  });

  it('SARIF artifact URIs are percent-encoded', async () => {
    const spaced = join(work, 'team users#1.json');
    writeFileSync(
      spaced,
      JSON.stringify({
        Resources: {
          U: { Type: 'AWS::IAM::User', Properties: { UserName: 'u', Policies: [{ PolicyName: 'p' }] } },
        },
      }),
    );
    const log = JSON.parse((await checkTemplate(spaced, '--format', 'sarif')).stdout);
    expect(log.runs[0].results[0].locations[0].physicalLocation.artifactLocation.uri).toMatch(
      /team%20users%231\.json$/,
    );
  });

  it('output closed early (| true): no stack trace, and the exit code is the verdict', async () => {
    const run = await new Promise<{ code: number | null; stderr: string }>((done) => {
      const child = spawn(process.execPath, ['cli/bin.js', 'check-template', COMPLIANT_TEMPLATE], {
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { PATH: process.env.PATH ?? '', AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
      });
      child.stdout.destroy();
      let stderr = '';
      child.stderr.on('data', (c: Buffer) => {
        stderr += c.toString();
      });
      child.once('close', (code) => done({ code, stderr }));
    });
    expect(run).toEqual({ code: 0, stderr: '' });
  });

  it('a Terraform variables file given as an input says to use --var-file', async () => {
    const vars = join(work, 'prod.tfvars');
    writeFileSync(vars, 'env = "prod"\n');
    const run = await checkTemplate(vars);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/prod\.tfvars: a Terraform variables file: give it with --var-file/);
  });
});
