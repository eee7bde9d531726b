import { spawnSync } from 'node:child_process';
import { copyFileSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';
import { BUNDLE_TARGET, MIGRATION_ENTRY, RULE_ENTRY } from '../infra/bundling.js';
import { REPO_ROOT } from './python-env.js';

// `npm run build`: the installable package in dist/. JavaScript with declarations (tsconfig.build.json), the
// runbook's YAML beside its loader, and the two Lambda bundles prebuilt, so that a user's `cdk synth` needs
// neither esbuild nor TypeScript (infra/bundled-function.ts uses them when the sources are absent).
const DIST = join(REPO_ROOT, 'dist');

rmSync(DIST, { recursive: true, force: true });
const tsc = spawnSync(
  process.execPath,
  [join(REPO_ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.build.json'],
  { cwd: REPO_ROOT, stdio: 'inherit' },
);
if (tsc.status !== 0) {
  process.stderr.write('build: tsc failed\n');
  process.exit(1);
}
copyFileSync(
  join(REPO_ROOT, 'remediation', 'migrate-user-policies.automation.yaml'),
  join(DIST, 'remediation', 'migrate-user-policies.automation.yaml'),
);
// dist/ mirrors the repository root: code that reads ../package.json (the CLI's version) finds this one, and
// it keeps the compiled files ES modules.
const { version } = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string };
writeFileSync(join(DIST, 'package.json'), `${JSON.stringify({ type: 'module', version }, null, 2)}\n`);

// The same settings as infra/bundling.ts's BUNDLING, which NodejsFunction applies when synthesizing from sources.
for (const [name, entry] of [
  ['rule', RULE_ENTRY],
  ['migration', MIGRATION_ENTRY],
] as const) {
  await build({
    entryPoints: [entry],
    outfile: join(DIST, 'lambda', name, 'index.mjs'),
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: BUNDLE_TARGET,
    minify: true,
    sourcemap: true,
    sourcesContent: false,
    mainFields: ['module', 'main'],
    logLevel: 'warning',
  });
}
process.stdout.write(`build: ${DIST}\n`);
