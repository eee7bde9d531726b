import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from '../../local/python-env.js';

/** What a person running the command sees. */
export interface CliRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** An empty home directory: no ~/.aws/config or credentials from the machine running the tests leak in. */
const EMPTY_HOME = mkdtempSync(join(tmpdir(), 'cli-home-'));

/**
 * Runs `iam-user-policies` (cli/bin.js, what `npx iam-user-policies` runs) as a child process with a clean
 * environment: only PATH, an empty HOME, no instance metadata lookups, and what the test passes.
 * The SDK's Node 20 notice is not silenced here: the command itself must keep it off stderr.
 */
export function runCli(args: readonly string[], env: Readonly<Record<string, string>> = {}): Promise<CliRun> {
  return new Promise((resolveRun, reject) => {
    const child = spawn(process.execPath, [join(REPO_ROOT, 'cli', 'bin.js'), ...args], {
      cwd: REPO_ROOT,
      env: {
        PATH: process.env.PATH ?? '',
        HOME: EMPTY_HOME,
        AWS_EC2_METADATA_DISABLED: 'true',
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.once('error', reject);
    child.once('close', (code) => resolveRun({ code, stdout, stderr }));
  });
}

/** Environment with the emulator's credentials and Region (the endpoint is passed with --endpoint). */
export const EMULATOR_CLI_ENV = {
  AWS_ACCESS_KEY_ID: 'testing',
  AWS_SECRET_ACCESS_KEY: 'testing',
  AWS_REGION: 'us-east-1',
} as const;
