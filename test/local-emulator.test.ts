import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../local/python-env.js';
import { EMULATOR_CLI_ENV, runCli } from './support/cli.js';

/**
 * `npm run emulator`: the seeded account to try the CLI on. Started as a person would (its own process), used
 * with exactly the commands it prints, and stopped with Ctrl-C (SIGINT), after which nothing answers.
 */
describe('npm run emulator', () => {
  it('prints the endpoint and credentials that the CLI then uses, and stops the emulator on Ctrl-C', async () => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', join(REPO_ROOT, 'local', 'emulator-account.ts')],
      {
        cwd: REPO_ROOT,
        env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '' },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    let stdout = '';
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => {
      stderr += c.toString();
    });
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (c: Buffer) => {
        stdout += c.toString();
        if (stdout.includes('Ctrl-C stops it')) resolve();
      });
      void exited.then((code) => reject(new Error(`exited with ${code} before it was ready: ${stderr}`)));
    });

    const endpoint = /answering at (http:\/\/127\.0\.0\.1:\d+)/.exec(stdout)?.[1] as string;
    expect(endpoint).toBeDefined();
    expect(stdout).toContain(
      'export AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_REGION=us-east-1',
    );
    const printedScan = /npx iam-user-policies (scan .*)/.exec(stdout)?.[1]?.split(' ') as string[];
    const scan = await runCli([...printedScan, '--format', 'json'], EMULATOR_CLI_ENV);
    expect(scan.code, scan.stderr).toBe(1);
    const report = JSON.parse(scan.stdout) as { users: { userName: string; compliance: string }[] };
    expect(report.users).toHaveLength(12);
    expect(report.users.find((u) => u.userName === 'dave')?.compliance).toBe('NON_COMPLIANT');
    expect(report.users.find((u) => u.userName === 'breakglass-admin')?.compliance).toBe('COMPLIANT');

    child.kill('SIGINT');
    expect(await exited).toBe(130);
    await expect(fetch(endpoint)).rejects.toThrow();
  });
});
