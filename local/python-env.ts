import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root (this file lives in local/). */
export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const VENV = join(REPO_ROOT, '.venv');
const REQUIREMENTS = join(REPO_ROOT, 'local', 'requirements.txt');
const STAMP = join(VENV, '.requirements-sha256');
const LOCK = join(REPO_ROOT, '.venv.lock');

/** Paths of the Python tools the project runs: the moto emulator and cfn-lint. */
export interface PythonTools {
  readonly motoServer: string;
  readonly cfnLint: string;
}

/**
 * Makes sure `.venv/` holds exactly the pinned packages of local/requirements.txt (moto server and cfn-lint),
 * creating or refreshing it when the requirements changed. Needs only `python3` with venv on the PATH.
 * Safe to call from several processes at once: the first one installs, the others wait for it.
 */
export function ensurePythonTools(
  log: (line: string) => void = (l) => process.stderr.write(`${l}\n`),
): PythonTools {
  const tools: PythonTools = {
    motoServer: join(VENV, 'bin', 'moto_server'),
    cfnLint: join(VENV, 'bin', 'cfn-lint'),
  };
  const wanted = createHash('sha256').update(readFileSync(REQUIREMENTS)).digest('hex');
  const ready = () =>
    existsSync(STAMP) && readFileSync(STAMP, 'utf8') === wanted && existsSync(tools.motoServer);
  if (ready()) return tools;

  withLock(() => {
    if (ready()) return;
    log('Setting up the Python environment for the emulator and cfn-lint in .venv/ (first run only)...');
    const python = process.env.PYTHON ?? 'python3';
    if (!existsSync(join(VENV, 'bin', 'python'))) run(python, ['-m', 'venv', VENV]);
    run(join(VENV, 'bin', 'python'), [
      '-m',
      'pip',
      'install',
      '--quiet',
      '--disable-pip-version-check',
      '-r',
      REQUIREMENTS,
    ]);
    writeFileSync(STAMP, wanted);
  });
  return tools;
}

function run(command: string, args: string[]): void {
  // Output is kept back and shown only on failure: pip's notices would bury the tool's own output.
  const result = spawnSync(command, args, {
    stdio: ['ignore', 'pipe', 'pipe'],
    encoding: 'utf8',
    maxBuffer: 64 << 20,
  });
  if (result.error !== undefined || result.status !== 0) {
    const why = result.error?.message ?? `exit code ${result.status}`;
    const output = `${result.stdout ?? ''}${result.stderr ?? ''}`.trim().split('\n').slice(-30).join('\n');
    throw new Error(
      `${command} ${args.join(' ')} failed (${why}); the local emulator needs Python 3 with venv and pip\n${output}`,
    );
  }
}

/** A cross-process lock made of a directory: mkdir is atomic. A lock older than 15 minutes is stale. */
function withLock(fn: () => void): void {
  const deadline = Date.now() + 15 * 60_000;
  for (;;) {
    try {
      mkdirSync(LOCK);
      break;
    } catch {
      if (Date.now() > deadline) {
        rmSync(LOCK, { recursive: true, force: true });
        continue;
      }
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 500);
    }
  }
  try {
    fn();
  } finally {
    rmSync(LOCK, { recursive: true, force: true });
  }
}
