import { spawnSync } from 'node:child_process';
import { pathToFileURL } from 'node:url';

export interface ImportTiming {
  readonly runs: number;
  /** Median wall time of `node --input-type=module -e ""`: starting Node and doing nothing. */
  readonly bareNodeMs: number;
  /** Median wall time of a Node process that imports the bundle (and so creates the rule's clients). */
  readonly importMs: number;
  /** The same, with NODE_OPTIONS=--enable-source-maps as the deployed function sets it. */
  readonly importWithSourceMapsMs: number;
  /** importMs - bareNodeMs: what the bundle adds to a cold start. */
  readonly overBareNodeMs: number;
  readonly overBareNodeWithSourceMapsMs: number;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[mid] ?? Number.NaN)
    : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
}

/** Wall time of one fresh Node process running `code` as an ES module. */
function processMs(code: string, env: NodeJS.ProcessEnv): number {
  const start = performance.now();
  const run = spawnSync(process.execPath, ['--input-type=module', '-e', code], { env, stdio: 'pipe' });
  const ms = performance.now() - start;
  if (run.status !== 0)
    throw new Error(`node exited with ${run.status}: ${run.stderr.toString().slice(0, 2000)}`);
  return ms;
}

/**
 * Times the bundle's import in fresh Node processes against a bare Node start measured the same way (same
 * flags, same environment), `runs` times each, interleaved so that machine noise hits all three alike; reports
 * medians. The environment is a Lambda-like one: a Region and credentials in variables, no endpoints, so no
 * network is touched (creating clients makes no calls).
 *
 * @see https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtime-environment.html
 */
export function timeImport(bundlePath: string, runs = 21): ImportTiming {
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'bench',
    AWS_SECRET_ACCESS_KEY: 'bench',
    // Node 24 on Lambda has no reason to warn; Node 20 here would spend time printing that it is old.
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  };
  const withSourceMaps = { ...env, NODE_OPTIONS: '--enable-source-maps' };
  const load = `await import(${JSON.stringify(pathToFileURL(bundlePath).href)});`;
  const bare: number[] = [];
  const plain: number[] = [];
  const mapped: number[] = [];
  processMs(load, env); // warm the file system cache
  for (let i = 0; i < runs; i++) {
    bare.push(processMs('', env));
    plain.push(processMs(load, env));
    mapped.push(processMs(load, withSourceMaps));
  }
  const bareNodeMs = median(bare);
  const importMs = median(plain);
  const importWithSourceMapsMs = median(mapped);
  return {
    runs,
    bareNodeMs,
    importMs,
    importWithSourceMapsMs,
    overBareNodeMs: importMs - bareNodeMs,
    overBareNodeWithSourceMapsMs: importWithSourceMapsMs - bareNodeMs,
  };
}
