import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root (this file lives in local/). */
export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const REQUIREMENTS = join(REPO_ROOT, 'local', 'requirements.txt');

/**
 * Where the Python tools live: `.venv/` in the repository, or IAM_USER_POLICIES_VENV (an absolute path), which
 * lets the tests set one up from scratch (with a Python lacking venv, or no reachable package index).
 */
function venvDirectory(): string {
  return process.env.IAM_USER_POLICIES_VENV || join(REPO_ROOT, '.venv');
}

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
  const venv = venvDirectory();
  const stamp = join(venv, '.requirements-sha256');
  const tools: PythonTools = {
    motoServer: join(venv, 'bin', 'moto_server'),
    cfnLint: join(venv, 'bin', 'cfn-lint'),
  };
  const wanted = createHash('sha256').update(readFileSync(REQUIREMENTS)).digest('hex');
  const ready = () =>
    existsSync(stamp) && readFileSync(stamp, 'utf8') === wanted && existsSync(tools.motoServer);
  if (ready()) return tools;

  withDirectoryLock(`${venv}.lock`, () => {
    if (ready()) return;
    log('Setting up the Python environment for the emulator and cfn-lint in .venv/ (first run only)...');
    const python = process.env.PYTHON ?? 'python3';
    if (!existsSync(join(venv, 'bin', 'python'))) {
      try {
        run(python, ['-m', 'venv', venv]);
      } catch (error) {
        // Debian and Ubuntu create the directory before finding that venv is missing; it would pass for a venv.
        rmSync(venv, { recursive: true, force: true });
        throw error;
      }
    }
    run(join(venv, 'bin', 'python'), [
      '-m',
      'pip',
      'install',
      '--quiet',
      '--disable-pip-version-check',
      // pip retries an unreachable index five times with growing pauses; twice is enough to ride out a blip.
      '--retries',
      '2',
      '-r',
      REQUIREMENTS,
    ]);
    writeFileSync(stamp, wanted);
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

/** How long to wait for another process that is setting up .venv/ (a first install takes about a minute). */
const LOCK_TIMEOUT_MS = 15 * 60_000;

/**
 * Runs `fn` holding a cross-process lock: a directory (mkdir is atomic) with the holder's process ID in it. A
 * lock whose holder no longer runs (a first `npm start` stopped with Ctrl-C mid-install) is taken over at once;
 * one whose holder runs is waited for, up to `timeoutMs`.
 */
export function withDirectoryLock(
  lock: string,
  fn: () => void,
  { timeoutMs = LOCK_TIMEOUT_MS }: { readonly timeoutMs?: number } = {},
): void {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      mkdirSync(lock);
      writeFileSync(join(lock, 'pid'), String(process.pid));
      break;
    } catch (error) {
      if ((error as { code?: unknown }).code !== 'EEXIST') throw error;
    }
    const holder = lockHolder(lock);
    if (holder === 'gone') {
      rmSync(lock, { recursive: true, force: true });
      continue;
    }
    if (Date.now() > deadline) {
      throw new Error(
        `another process (pid ${holder ?? 'unknown'}) is setting up .venv/ and has not finished after ${Math.round(timeoutMs / 1000)} s; if it is no longer running, delete ${lock}`,
      );
    }
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 500);
  }
  try {
    fn();
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

/** The lock holder's process ID while it runs; 'gone' when it has exited; undefined while it is still writing it. */
function lockHolder(lock: string): number | 'gone' | undefined {
  let pid: number;
  try {
    pid = Number(readFileSync(join(lock, 'pid'), 'utf8'));
  } catch {
    // Between another process's mkdir and its writing the pid; or left by a version without pid files.
    const ageMs = existsSync(lock) ? Date.now() - statSync(lock).mtimeMs : 0;
    return ageMs > 60_000 ? 'gone' : undefined;
  }
  if (!Number.isInteger(pid) || pid <= 0) return 'gone';
  try {
    process.kill(pid, 0);
    return pid;
  } catch (error) {
    // EPERM: it runs, as another user.
    return (error as { code?: unknown }).code === 'EPERM' ? pid : 'gone';
  }
}
