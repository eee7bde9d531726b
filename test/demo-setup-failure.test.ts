import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { freeLoopbackPort } from '../local/emulator.js';
import { REPO_ROOT } from '../local/python-env.js';

const dir = mkdtempSync(join(tmpdir(), 'demo-setup-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Longer than a failed setup takes (a venv is created in a few seconds), far shorter than a hang. */
const EXIT_DEADLINE_MS = 40_000;

/**
 * Runs `npm start` (tsx local/demo.ts) with a Python environment that must be set up from scratch in a fresh
 * folder; resolves to its exit code and output, or to 'still running' if it has not exited by the deadline.
 */
function startDemoFromScratch(env: Record<string, string>) {
  const venv = join(mkdtempSync(join(dir, 'run-')), 'venv');
  const child = spawn(
    process.execPath,
    [join(REPO_ROOT, 'node_modules', 'tsx', 'dist', 'cli.mjs'), 'local/demo.ts'],
    {
      cwd: REPO_ROOT,
      env: { ...process.env, NO_COLOR: '1', IAM_USER_POLICIES_VENV: venv, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const result = new Promise<{ code: number | 'still running'; stdout: string; stderr: string }>((done) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      done({ code: 'still running', stdout, stderr });
    }, EXIT_DEADLINE_MS);
    child.once('close', (code) => {
      clearTimeout(timer);
      done({ code: code ?? -1, stdout, stderr });
    });
  });
  return { venv, result };
}

describe('npm start when the emulator cannot be set up', () => {
  it('a Python without venv (the Debian and Ubuntu default): exits 2 with the error, leaves no half venv', async () => {
    // What python3 -m venv prints on Debian without python3-venv, after creating the folder.
    const python = join(dir, 'python-without-venv');
    writeFileSync(
      python,
      `#!/bin/sh\nmkdir -p "$3/bin"\necho "The virtual environment was not created successfully because ensurepip is not available."\nexit 1\n`,
    );
    chmodSync(python, 0o755);
    const { venv, result } = startDemoFromScratch({ PYTHON: python });
    const run = await result;
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('error: the local run could not complete:');
    expect(run.stderr).toContain('ensurepip is not available');
    expect(run.stderr).toContain('the local emulator needs Python 3 with venv and pip');
    expect(existsSync(venv)).toBe(false);
  });

  it('no reachable package index: exits 2 with pip’s error', async () => {
    // A loopback port nobody listens on: every connection is refused at once.
    const port = await freeLoopbackPort();
    const { result } = startDemoFromScratch({
      PIP_INDEX_URL: `http://127.0.0.1:${port}/simple`,
      PIP_CONFIG_FILE: '/dev/null',
    });
    const run = await result;
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('error: the local run could not complete:');
    expect(run.stderr).toMatch(/pip install .* failed \(exit code 1\)/);
    expect(run.stderr).toMatch(/No matching distribution|Could not find a version/);
  });
});
