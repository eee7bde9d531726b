import { spawnSync } from 'node:child_process';
import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../local/python-env.js';

// The package as a user gets it: `npm run build`, `npm pack`, the tarball installed into a fresh JavaScript CDK
// app outside the repository. The registry is not asked: the tarball is unpacked where npm would put it and its
// declared dependencies are linked from this repository's node_modules (a dependency the package forgot to
// declare is not found, as with npm).
const work = mkdtempSync(join(tmpdir(), 'package-install-'));
const appDir = join(work, 'app');
const elsewhere = join(work, 'elsewhere');
afterAll(() => rmSync(work, { recursive: true, force: true }));

const run = (command: string, args: string[], cwd: string) =>
  spawnSync(command, args, { cwd, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });

const APP = `import { App, Aspects, Stack } from 'aws-cdk-lib';
import { CfnUser } from 'aws-cdk-lib/aws-iam';
import { IamUserNoDirectPolicies, IamUserPolicyGuard } from 'iam-user-no-direct-policies';

const app = new App({ outdir: process.argv[2] });
const stack = new Stack(app, 'Security', { env: { account: '111111111111', region: 'eu-west-1' } });
const deployment = new IamUserNoDirectPolicies(stack, 'IamUserPolicies', {
  ruleParameters: { exemptUserNames: 'breakglass' },
});
new CfnUser(stack, 'Bob', { userName: 'bob', managedPolicyArns: ['arn:aws:iam::aws:policy/ReadOnlyAccess'] });
Aspects.of(app).add(new IamUserPolicyGuard({ ruleParameters: { exemptUserNames: 'breakglass' } }));
const assembly = app.synth();
console.log(JSON.stringify({
  ruleName: stack.resolve(deployment.rule.configRuleName),
  alarms: deployment.alarms.length,
  errors: assembly.getStackByName('Security').messages.filter((m) => m.level === 'error').map((m) => m.entry.data),
}));
`;

let installed: string;
let synth: ReturnType<typeof run>;
let template: { Resources: Record<string, { Type: string; Properties: Record<string, unknown> }> };

beforeAll(() => {
  const build = run(
    process.execPath,
    [join(REPO_ROOT, 'node_modules', 'tsx', 'dist', 'cli.mjs'), 'local/build-package.ts'],
    REPO_ROOT,
  );
  expect(build.status, build.stderr).toBe(0);
  const pack = run('npm', ['pack', '--silent', '--pack-destination', work], REPO_ROOT);
  expect(pack.status, pack.stderr).toBe(0);
  const tarball = join(work, pack.stdout.trim().split('\n').pop() ?? '');

  mkdirSync(join(appDir, 'node_modules', '.bin'), { recursive: true });
  mkdirSync(elsewhere);
  writeFileSync(
    join(appDir, 'package.json'),
    JSON.stringify({ name: 'my-cdk-app', private: true, type: 'module' }),
  );
  writeFileSync(join(appDir, 'app.mjs'), APP);
  expect(run('tar', ['-xzf', tarball, '-C', work], work).status).toBe(0);
  installed = join(appDir, 'node_modules', 'iam-user-no-direct-policies');
  renameSync(join(work, 'package'), installed);
  const manifest = JSON.parse(readFileSync(join(installed, 'package.json'), 'utf8')) as {
    dependencies: Record<string, string>;
    peerDependencies: Record<string, string>;
    bin: Record<string, string>;
  };
  for (const name of [...Object.keys(manifest.dependencies), ...Object.keys(manifest.peerDependencies)]) {
    mkdirSync(join(appDir, 'node_modules', name, '..'), { recursive: true });
    symlinkSync(join(REPO_ROOT, 'node_modules', name), join(appDir, 'node_modules', name));
  }
  for (const [command, file] of Object.entries(manifest.bin)) {
    symlinkSync(join(installed, file), join(appDir, 'node_modules', '.bin', command));
  }

  synth = run(process.execPath, ['app.mjs', join(appDir, 'cdk.out')], appDir);
  template = JSON.parse(readFileSync(join(appDir, 'cdk.out', 'Security.template.json'), 'utf8'));
}, 240_000);

describe('the installed package in a CDK app of its own', () => {
  it('ships JavaScript, declarations and the prebuilt Lambda bundles, no TypeScript sources', () => {
    const files = readdirSync(installed, { recursive: true }).map(String);
    expect(files).toContain(join('dist', 'infra', 'index.js'));
    expect(files).toContain(join('dist', 'infra', 'index.d.ts'));
    expect(files).toContain(join('dist', 'lambda', 'rule', 'index.mjs'));
    expect(files).toContain(join('dist', 'lambda', 'migration', 'index.mjs'));
    expect(files.filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'))).toEqual([]);
  });

  it('the construct synthesizes the rule, its runbook and alarms, from the prebuilt bundles (no esbuild)', () => {
    expect(synth.status, synth.stderr).toBe(0);
    expect(synth.stdout).not.toContain('Bundling asset');
    const result = JSON.parse(synth.stdout.trim().split('\n').pop() ?? '{}');
    expect(result).toMatchObject({ ruleName: 'iam-user-no-direct-policies', alarms: 3 });
    const types = Object.values(template.Resources).map((r) => r.Type);
    expect(types).toContain('AWS::Config::ConfigRule');
    expect(types).toContain('AWS::SSM::Document');
    const functions = Object.values(template.Resources).filter((r) => r.Type === 'AWS::Lambda::Function');
    expect(functions.map((f) => [f.Properties.Handler, f.Properties.Runtime])).toEqual([
      ['index.handler', 'nodejs24.x'],
      ['index.handler', 'nodejs24.x'],
    ]);
  });

  it('the Aspect makes a user with a direct policy a synthesis error, naming the user', () => {
    const result = JSON.parse(synth.stdout.trim().split('\n').pop() ?? '{}') as { errors: string[] };
    expect(result.errors).toEqual([expect.stringMatching(/IAM user bob would carry policies directly/)]);
  });

  it('the installed command checks the synthesized app from another folder, and prints its help', () => {
    const command = join(appDir, 'node_modules', '.bin', 'iam-user-policies');
    const check = run(command, ['check-template', join(appDir, 'cdk.out')], elsewhere);
    expect(check.status, check.stderr).toBe(1);
    expect(check.stdout).toContain('bob');
    const help = run(command, ['--help'], elsewhere);
    expect(help.status).toBe(0);
    expect(help.stdout).toContain('Usage: iam-user-policies');
    expect(help.stderr).toBe('');
  });
});
