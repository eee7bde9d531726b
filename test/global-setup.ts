import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensurePythonTools } from '../local/python-env.js';

/**
 * Runs once per `vitest run`, before any worker starts: the Python tools are ready before test files start
 * emulators, and every temporary folder of the run (the tests' own, the CDK's `cdk.out*` of apps without an
 * outdir, the children's) is made under one folder that is removed when the run ends, passed or failed.
 */
export default function setup(): () => void {
  ensurePythonTools();
  const runTemp = mkdtempSync(join(tmpdir(), 'iam-user-policies-test-'));
  // Workers and the processes they start inherit it; os.tmpdir() reads it on every call.
  process.env.TMPDIR = runTemp;
  return () => rmSync(runTemp, { recursive: true, force: true });
}
