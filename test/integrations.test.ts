import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { REPO_ROOT } from '../local/python-env.js';
import { runCli } from './support/cli.js';

/**
 * The pre-commit hook and the GitHub Action, run as far as they run here: their files parse, name the command
 * the package installs, and the commands and script they run give the verdicts and exit codes CI acts on.
 */

const work = mkdtempSync(join(tmpdir(), 'integrations-'));
const NON_COMPLIANT = join(REPO_ROOT, 'test', 'fixtures', 'templates', 'hand-written.yaml');
const COMPLIANT = join(work, 'ok.template.yaml');
writeFileSync(
  COMPLIANT,
  [
    'Resources:',
    '  Readers:',
    '    Type: AWS::IAM::Group',
    '    Properties:',
    '      ManagedPolicyArns: [arn:aws:iam::aws:policy/ReadOnlyAccess]',
    '  Alice:',
    '    Type: AWS::IAM::User',
    '    Properties:',
    '      Groups: [!Ref Readers]',
    '',
  ].join('\n'),
);
const packageBins = Object.keys(
  (JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { bin: Record<string, string> }).bin,
);

describe('the pre-commit hook', () => {
  const [hook] = parse(readFileSync(join(REPO_ROOT, '.pre-commit-hooks.yaml'), 'utf8')) as {
    id: string;
    entry: string;
    language: string;
    files: string;
  }[];

  it('runs check-template through the command the package installs, on templates and Terraform source only', () => {
    expect(hook?.id).toBe('iam-user-no-direct-policies');
    expect(hook?.language).toBe('node');
    const [command, ...args] = (hook?.entry ?? '').split(' ');
    expect(packageBins).toContain(command);
    expect(args).toEqual(['check-template']);
    const files = new RegExp(hook?.files ?? '$^');
    for (const path of [
      'infra/app.template.json',
      'stack.template.yml',
      'sam/template.yaml',
      'modules/ci/main.tf',
    ])
      expect(files.test(path), path).toBe(true);
    for (const path of ['package.json', '.github/workflows/ci.yml', 'docs/template.md', 'terraform.tfvars'])
      expect(files.test(path), path).toBe(false);
  });

  it('fails a commit whose template gives a user a policy directly, and passes one that does not', async () => {
    const entryArgs = (hook?.entry ?? '').split(' ').slice(1);
    const bad = await runCli([...entryArgs, NON_COMPLIANT]);
    expect(bad.code, bad.stderr).toBe(1);
    const good = await runCli([...entryArgs, COMPLIANT]);
    expect(good.code, good.stderr).toBe(0);
  });
});

describe('the GitHub Action', () => {
  const action = parse(readFileSync(join(REPO_ROOT, 'action.yml'), 'utf8')) as {
    runs: {
      using: string;
      steps: { id?: string; run?: string; env?: Record<string, string>; uses?: string }[];
    };
  };
  const check = action.runs.steps.find((s) => s.id === 'check');

  it('is a composite action whose check step gets its inputs as environment variables, never spliced into the script', () => {
    expect(action.runs.using).toBe('composite');
    expect(check?.run).toBeDefined();
    expect(check?.run).not.toContain('${{');
    expect(Object.keys(check?.env ?? {}).sort()).toEqual(['ARGS', 'PATHS', 'SARIF_FILE']);
    expect(action.runs.steps.map((s) => s.uses).filter(Boolean)).toEqual([
      'actions/setup-node@v4',
      'github/codeql-action/upload-sarif@v3',
    ]);
  });

  const runCheck = (paths: string, args = '') => {
    const dir = mkdtempSync(join(work, 'run-'));
    const output = join(dir, 'github-output');
    writeFileSync(output, '');
    const ran = spawnSync('bash', ['-e', '-c', check?.run ?? 'false'], {
      cwd: dir,
      env: {
        PATH: process.env.PATH ?? '',
        HOME: dir,
        GITHUB_ACTION_PATH: REPO_ROOT,
        GITHUB_OUTPUT: output,
        PATHS: paths,
        ARGS: args,
        SARIF_FILE: join(dir, 'out.sarif'),
      },
      encoding: 'utf8',
    });
    return { ran, dir, output: readFileSync(output, 'utf8'), sarif: join(dir, 'out.sarif') };
  };

  it('writes SARIF with the finding and reports exit code 1 for a non-compliant template, 0 for a compliant one', () => {
    const bad = runCheck(NON_COMPLIANT, '--exemption-tag-key break-glass');
    expect(bad.ran.status, bad.ran.stderr).toBe(0);
    expect(bad.output).toBe('exit-code=1\n');
    const sarif = JSON.parse(readFileSync(bad.sarif, 'utf8')) as {
      version: string;
      runs: { results: unknown[] }[];
    };
    expect(sarif.version).toBe('2.1.0');
    expect(sarif.runs[0]?.results.length).toBeGreaterThan(0);
    expect(bad.ran.stdout).toContain('NON_COMPLIANT');

    const good = runCheck(COMPLIANT);
    expect(good.output).toBe('exit-code=0\n');
  });

  it('treats a path input as data: a command substitution in it is not run, and the run reports it cannot read it', () => {
    const attack = runCheck(`$(touch ${join(work, 'pwned')})`);
    expect(existsSync(join(work, 'pwned'))).toBe(false);
    expect(attack.output).toBe('exit-code=2\n');
  });
});
